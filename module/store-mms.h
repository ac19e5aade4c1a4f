/*
 * store-mms.h - the persistent queue of MMs on their way to an MMSC
 * (GET n as MMS) and their delivery reports.
 *
 * Exports: StoreMms, STORE_MMS_*, store_mms_*().
 *
 * An MM is queued (already converted, ready to send) in the same breath
 * as the phone's GET is answered; the MMS client takes due rows, marks
 * them SUBMITTING before the HTTP request and ACCEPTED (with the MMSC's
 * MessageID), QUEUED again (with a later next_try) or FAILED by the
 * answer.  A row left SUBMITTING by a crash is queued again at start-up:
 * towards the MMSC delivery is at least once, like towards bearerbox.
 * Delivery reports find their MM by the MMSC's MessageID (or our id,
 * which the mmsbox dlr-url carries).
 *
 * Limits: ids [0-9a-f]{32}; MM bodies up to STORE_MMS_BODY_MAX bytes;
 * MessageIDs 255 bytes; report status 32 bytes, status text 1000
 * (longer text is cut, control bytes become spaces).
 * Threads and errors: as store.h.
 */
#ifndef STORE_MMS_H
#define STORE_MMS_H

#include "store.h"

#define STORE_MMS_BODY_MAX (6L * 1024 * 1024)

enum {
    STORE_MMS_QUEUED = 0,
    STORE_MMS_SUBMITTING = 1,
    STORE_MMS_ACCEPTED = 2,
    STORE_MMS_FAILED = 3
};

typedef struct {
    Octstr *id;             /* [0-9a-f]{32}: TransactionID, dlr token */
    Octstr *msisdn;
    long n;                 /* the mail's number in the phone's index */
    Octstr *mmsc;           /* pushmail-mmsc id */
    Octstr *content_type;   /* the MM's Content-Type value */
    Octstr *body;           /* the MM; "" once accepted or failed */
    Octstr *subject;        /* UTF-8, may be "" */
    long created;
    long attempts;
    long next_try;
    int state;              /* STORE_MMS_* */
    Octstr *message_id;     /* the MMSC's, "" until accepted */
    long status_code;       /* last MM7 status (or HTTP status), 0 none */
    Octstr *status_text;    /* may be "" */
    Octstr *report;         /* last delivery report ("Retrieved", ...) */
    long report_time;
} StoreMms;

/* Queue `m` (id, msisdn, n, mmsc, content_type, body, subject; the rest
 * is set by the store: QUEUED, created = next_try = now).  0, -1. */
int store_mms_add(Store *s, const StoreMms *m);

/* QUEUED rows with next_try <= now, oldest first, with their bodies;
 * at most `max`.  NULL on error. */
List *store_mms_due(Store *s, long now, long max);

/* SUBMITTING -> QUEUED (start-up); count or -1. */
long store_mms_requeue(Store *s);

/*
 * Record an attempt's outcome.  state SUBMITTING counts an attempt;
 * ACCEPTED and FAILED drop the body.  message_id and status_text NULL =
 * unchanged.  1 changed, 0 unknown id, -1 error.
 */
int store_mms_set_state(Store *s, const Octstr *id, int state,
                        long next_try, long status_code,
                        const Octstr *status_text,
                        const Octstr *message_id);

/*
 * A delivery report from MMSC `mmsc`: set report/report_time of its MM
 * whose MessageID (or our id, which mmsbox dlr-urls carry) is
 * `message_id`.  1 found, 0 unknown, -1 error.
 */
int store_mms_report(Store *s, const Octstr *mmsc,
                     const Octstr *message_id, const Octstr *status,
                     long when);

/* NULL if none (or on error, logged).  Without the body. */
StoreMms *store_mms_get(Store *s, const Octstr *id);

/* The newest `count` MMs to msisdn, newest first, without bodies. */
List *store_mms_latest(Store *s, const Octstr *msisdn, long count);

/* Rows in `state`, -1 on error. */
long store_mms_count(Store *s, int state);

/* Delete ACCEPTED and FAILED rows created before `before`; count, -1. */
long store_mms_purge(Store *s, long before);

void store_mms_destroy(StoreMms *m);
void store_mms_destroy_item(void *m);

#endif
