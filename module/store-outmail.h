/*
 * store-outmail.h - the persistent queue of mail that phones send
 * (SMS SEND/REPLY, MMS): table pm_outmail.
 *
 * Exports: StoreOutmail, STORE_OUTMAIL_* (state, origin),
 * STORE_COPY_* (Sent copy state), store_outmail_add(),
 * store_outmail_due(), store_outmail_get(), store_outmail_set_state(),
 * store_outmail_set_message(), store_outmail_requeue(),
 * store_outmail_count_since(), store_outmail_count(),
 * store_outmail_purge(), store_outmail_destroy(),
 * store_outmail_destroy_item().
 *
 * A row is one mail ready to submit (message = RFC 5322 octets with
 * CRLF line ends, rcpts = the envelope recipients) or a reply draft that
 * the sending thread completes first (rcpts "" and a private header in
 * the message, see convert-mo.h).  `ref` makes a retried MM7 DeliverReq
 * land only once: store_outmail_add() refuses a second row with the
 * same non-empty ref.
 *
 * Limits: message STORE_OUTMAIL_MAX bytes (stored hex in a {BIG}
 * column); rcpts STORE_OUTMAIL_RCPTS_MAX bytes; ref 255 printable bytes;
 * summary and last_error are cut (UTF-8 safe) to 1000 bytes;
 * store_outmail_due() returns at most 1000 rows per call.
 * Threads: any (see store.h).  Logs: error() for every failed operation;
 * never message content or addresses.
 */
#ifndef STORE_OUTMAIL_H
#define STORE_OUTMAIL_H

#include "store.h"

#define STORE_OUTMAIL_MAX (6L * 1024 * 1024)
#define STORE_OUTMAIL_RCPTS_MAX 4000
#define STORE_OUTMAIL_REF_MAX 255

enum {
    STORE_OUTMAIL_QUEUED = 0,   /* waiting for next_try */
    STORE_OUTMAIL_SENDING = 1,  /* handed to SMTP (back to QUEUED after a
                                 * crash: see store_outmail_requeue) */
    STORE_OUTMAIL_SENT = 2,     /* the SMTP server took it */
    STORE_OUTMAIL_FAILED = 3    /* refused or given up; phone told */
};

enum {
    STORE_COPY_NONE = 0,        /* no Sent copy wanted */
    STORE_COPY_PENDING = 1,     /* to APPEND once sent */
    STORE_COPY_DONE = 2,
    STORE_COPY_FAILED = 3
};

enum {
    STORE_OUTMAIL_SMS_SEND = 0,
    STORE_OUTMAIL_SMS_REPLY = 1,
    STORE_OUTMAIL_MMS = 2
};

typedef struct {
    Octstr *id;          /* [0-9a-f]{32}, from store_new_id() */
    Octstr *msisdn;      /* the bound number that sends ("+<digits>") */
    int origin;          /* STORE_OUTMAIL_SMS_SEND, _SMS_REPLY, _MMS */
    Octstr *ref;         /* dedupe key, NULL/"" = none */
    Octstr *rcpts;       /* envelope recipients, comma-separated; "" for
                            a reply draft */
    Octstr *message;     /* RFC 5322 octets */
    Octstr *summary;     /* UTF-8 for the phone: "bob@example.com" */
    long created;
    long attempts;       /* SMTP attempts so far */
    long next_try;
    int state;           /* STORE_OUTMAIL_* */
    int copy_state;      /* STORE_COPY_* */
    Octstr *last_error;  /* printable, or NULL */
} StoreOutmail;

/*
 * Queue m: state QUEUED, attempts 0, created = next_try = now (or
 * m->created / m->next_try when later than 0), copy_state as given.  In
 * one transaction that locks m->msisdn's binding row: a row with the
 * same non-empty ref already there makes this a duplicate.
 * Returns 1 added, 0 duplicate ref (nothing added), -1 error (also for
 * an unbound msisdn or a field over its limit).  m is not kept.
 */
int store_outmail_add(Store *s, const StoreOutmail *m);

/* List of StoreOutmail*, oldest first: QUEUED rows with next_try <= now,
 * and SENT rows whose Sent copy is PENDING with next_try <= now.  NULL
 * on error. */
List *store_outmail_due(Store *s, long now, long max);

/* The row with this id, or NULL (none, or error: logged). */
StoreOutmail *store_outmail_get(Store *s, const Octstr *id);

/*
 * Set state, copy_state, attempts, next_try and last_error (NULL
 * clears it) of row `id`.  1 found, 0 unknown id, -1 error.
 */
int store_outmail_set_state(Store *s, const Octstr *id, int state,
                            int copy_state, long attempts, long next_try,
                            const Octstr *last_error);

/* Replace rcpts, message and summary (a completed reply draft).
 * 1 found, 0 unknown id, -1 error. */
int store_outmail_set_message(Store *s, const Octstr *id,
                              const Octstr *rcpts, const Octstr *message,
                              const Octstr *summary);

/* SENDING -> QUEUED (start-up: a crash interrupted a submission).
 * Rows changed, or -1. */
long store_outmail_requeue(Store *s);

/* Rows queued for msisdn at or after `since`, whatever became of them
 * (the sending budget); -1 on error. */
long store_outmail_count_since(Store *s, const Octstr *msisdn, long since);

/* Rows in `state`, -1 on error. */
long store_outmail_count(Store *s, int state);

/* Delete finished rows (SENT with no copy pending, FAILED) created
 * before `before`; their refs stop deduping then.  Count or -1. */
long store_outmail_purge(Store *s, long before);

void store_outmail_destroy(StoreOutmail *m);    /* NULL is fine */
void store_outmail_destroy_item(void *m);

#endif
