/*
 * store.h - the terminal binding subsystem: MSISDN <-> mailbox bindings,
 * per-mailbox watch state, the per-phone message index, paging, the MT
 * and MO queues and notice rate limits, on Kannel's dbpool.
 *
 * Exports: Store, StoreBinding, StoreWatch, StoreMail, StoreMt, StoreMo
 * and the store_*() functions below.
 *
 * Backends: sqlite3-connection (embedded default) and mysql-connection
 * (MariaDB/MySQL), with the same behaviour.  SQL uses '?' binds only.
 * The schema is created or migrated forward by store_open().
 *
 * Threads: every function may be called from any thread at the same time
 * (each call takes its own pooled connection).  A Store must not be
 * closed while other threads still use it.
 *
 * Ownership: structs returned by store_*_get/list/latest/pending/due are
 * new and owned by the caller (free with the matching *_destroy);
 * arguments are never kept (values are copied into the database).
 *
 * Errors: functions return -1 (or NULL) on database errors after logging
 * one error() that names the operation; secrets are never logged.
 * Hostile rows (wrong types, bad numbers) are treated as errors.
 */
#ifndef STORE_H
#define STORE_H

#include "gwlib/gwlib.h"
#include "pm-cfg.h"

typedef struct Store Store;

typedef struct {
    Octstr *msisdn;         /* "+<digits>" */
    Octstr *mailbox_url;    /* canonical, no password */
    Octstr *address;        /* subscriber mail address, may be NULL */
    Octstr *smtp_url;       /* may be NULL */
    Octstr *prompt_mode;    /* "sms" | "wap-push" */
    Octstr *deliver_mode;   /* "sms" | "mms" */
    int paused;
    long created;           /* unix time, set by the store */
    long updated;           /* unix time, set by the store */
} StoreBinding;

typedef struct {
    long uidvalidity;       /* 0 = no baseline yet */
    long last_uid;
    Octstr *uidls;          /* POP3 known UIDLs, LF-joined, may be NULL */
    Octstr *caps;           /* may be NULL */
    Octstr *state;          /* may be NULL */
    Octstr *last_error;     /* may be NULL */
} StoreWatch;

enum {
    STORE_PROMPT_PENDING = 0,
    STORE_PROMPT_SENT = 1,
    STORE_PROMPT_SKIPPED = 2
};

typedef struct {
    long n;                 /* per-binding number, 1, 2, 3 ... */
    long uidvalidity;
    long uid;               /* 0 for POP3 */
    Octstr *uidl;           /* POP3 UIDL or NULL */
    Octstr *sender;         /* decoded UTF-8, may be NULL */
    Octstr *subject;        /* decoded UTF-8, may be NULL */
    long date;
    long size;
    int prompt_state;       /* STORE_PROMPT_* */
} StoreMail;

enum {
    STORE_MT_QUEUED = 0,
    STORE_MT_SENT = 1,
    STORE_MT_ACCEPTED = 2,
    STORE_MT_FAILED = 3
};

typedef struct {
    Octstr *id;       /* token [0-9a-f]{32}, from store_new_id(); also
                         the dlr-url */
    Octstr *msisdn;
    Octstr *sender;
    Octstr *text;     /* msgdata bytes (binary-safe): UTF-8 for coding 0,
                         UTF-16BE for coding 2 */
    Octstr *udh;      /* binary, may be NULL */
    int coding;       /* 0 7-bit, 1 8-bit, 2 UCS-2 */
    int kind;         /* 0 prompt, 1 reply, 2 notice */
    long created;
    long attempts;
    long next_try;
    int state;        /* STORE_MT_* */
    int dlr_status;   /* last DLR type (1,2,4,8,16), 0 none */
    long dlr_time;
} StoreMt;

typedef struct {
    Octstr *id;
    Octstr *msisdn;
    Octstr *receiver;
    Octstr *text;           /* binary-safe */
    long received;
} StoreMo;

/* --- group commit ------------------------------------------------------ */

/*
 * Open a batch: until store_batch_end(), every store call made BY THIS
 * THREAD runs in one transaction on one connection (one disk sync for
 * the lot).  A failing call inside makes the whole batch roll back.
 * Keep batches short: on SQLite the batch holds the write lock.
 * 0 ok, -1 error (or a batch is already open in this thread).
 */
int store_batch_begin(Store *s);

/*
 * Commit (ok != 0) or roll back the batch.  0 committed; -1 rolled back
 * (asked for, or something inside failed, or the commit failed).
 */
int store_batch_end(Store *s, int ok);

/* --- lifecycle --------------------------------------------------------- */

/*
 * Open the pool described by `db` (copied), load the secret key from
 * `key_file`, create or migrate the schema.  Returns a new Store, or NULL
 * with *err_r (if not NULL) set to a new Octstr owned by the caller.
 * Call once at startup, after gwlib_init().
 */
Store *store_open(const PmDbConf *db, const Octstr *key_file,
                  Octstr **err_r);

/* Close the pool, wipe the key, free *s and set *s = NULL.  NULL ok. */
void store_close(Store **s);

/* A new random token of 32 lower-case hex digits, owned by the caller. */
Octstr *store_new_id(void);

/* --- bindings ---------------------------------------------------------- */

/*
 * Insert or replace the binding for b->msisdn; `secret` is encrypted
 * before it is stored (NULL keeps the stored secret when replacing, and
 * stores none when inserting).  Replacing with a different mailbox_url
 * resets the watch state, message index and paging.  0 ok, -1 error.
 */
int store_binding_put(Store *s, const StoreBinding *b,
                      const Octstr *secret);

/* 1 deleted, 0 unknown, -1 error; removes watch state, index, paging. */
int store_binding_delete(Store *s, const Octstr *msisdn);

/* NULL if none (or on error, logged). */
StoreBinding *store_binding_get(Store *s, const Octstr *msisdn);

/* List of StoreBinding*, ordered by msisdn; NULL on error. */
List *store_binding_list(Store *s);

/* Decrypted secret; caller pm_secret_wipe()s it.  NULL if none/error. */
Octstr *store_binding_secret(Store *s, const Octstr *msisdn);

/* 1 changed, 0 unknown msisdn, -1 error. */
int store_binding_set_paused(Store *s, const Octstr *msisdn, int paused);

/* NULL = unchanged.  1 changed, 0 unknown msisdn, -1 error. */
int store_binding_set_modes(Store *s, const Octstr *msisdn,
                            const char *prompt_mode,
                            const char *deliver_mode);

/*
 * Set smtp_url and/or address (NULL = unchanged; an empty Octstr clears
 * the field).  1 changed, 0 unknown msisdn, -1 error.
 */
int store_binding_set_mail(Store *s, const Octstr *msisdn,
                           const Octstr *smtp_url, const Octstr *address);

/* Bumped by every put/delete/set_*; -1 on error. */
long store_bindings_generation(Store *s);

/* Number of bindings, -1 on error. */
long store_binding_count(Store *s);

void store_binding_destroy(StoreBinding *b);
void store_binding_destroy_item(void *b);

/* --- watch state ------------------------------------------------------- */

/* 0 ok (*w_r zeroed when none), -1 error.  Free with store_watch_clear. */
int store_watch_get(Store *s, const Octstr *msisdn, StoreWatch *w_r);

/* Free the fields of *w and zero it. */
void store_watch_clear(StoreWatch *w);

/* Set the baseline; uidls may be NULL.  0 ok, -1 error. */
int store_watch_set_baseline(Store *s, const Octstr *msisdn,
                             long uidvalidity, long last_uid,
                             const Octstr *uidls);

/* Set status fields; NULL = unchanged.  0 ok, -1 error. */
int store_watch_set_status(Store *s, const Octstr *msisdn,
                           const char *state, const Octstr *last_error,
                           const Octstr *caps);

/* --- message index ----------------------------------------------------- */

/*
 * In one transaction: dedupe on (binding, uidvalidity, uid) when uid > 0,
 * else on (binding, uidl); assign the next n (1, 2, 3 ... per binding,
 * never reused); advance last_uid to max(last_uid, uid) or append the
 * uidl to uidls.  Returns 1 added (m->n set), 0 already known (m->n set
 * to the existing n), -1 error (also for an unknown msisdn).
 */
int store_mail_add(Store *s, const Octstr *msisdn, StoreMail *m);

/* NULL if none. */
StoreMail *store_mail_get(Store *s, const Octstr *msisdn, long n);

/* List of StoreMail*, newest (highest n) first; NULL on error. */
List *store_mail_latest(Store *s, const Octstr *msisdn, long count);

/* List of StoreMail* with prompt_state PENDING, oldest first. */
List *store_mail_pending(Store *s, const Octstr *msisdn);

/* List of Octstr* msisdns having pending mails (startup recovery). */
List *store_mail_pending_msisdns(Store *s);

/* Only rows still PENDING change.  Returns rows changed or -1. */
int store_mail_set_prompt_state(Store *s, const Octstr *msisdn,
                                long n_from, long n_to, int state);

void store_mail_destroy(StoreMail *m);
void store_mail_destroy_item(void *m);

/* --- paging (MORE) ----------------------------------------------------- */

/* 0 ok, -1 error. */
int store_page_set(Store *s, const Octstr *msisdn, long n, long next_page);

/* 0 ok, 1 none, -1 error. */
int store_page_get(Store *s, const Octstr *msisdn, long *n_r,
                   long *next_page_r);

/* --- MT queue ---------------------------------------------------------- */

/*
 * One transaction: insert mt as QUEUED (created = next_try = now,
 * attempts 0; mt->state etc. are ignored) and, if mark_msisdn is not
 * NULL, set prompt_state SENT for its mails mark_from..mark_to that are
 * still PENDING.  0 ok, -1 error (then nothing changed).
 */
int store_mt_add(Store *s, const StoreMt *mt, const Octstr *mark_msisdn,
                 long mark_from, long mark_to);

/* List of StoreMt*, QUEUED with next_try <= now, oldest first. */
List *store_mt_due(Store *s, long now, long max);

/* SENT -> QUEUED (after a restart or lost link); count or -1. */
int store_mt_requeue_sent(Store *s);

/* ->SENT increments attempts.  1 changed, 0 unknown id, -1 error. */
int store_mt_set_state(Store *s, const Octstr *id, int state,
                       long next_try);

/* As store_mt_set_state, only while the MT is in state `expect` (a
 * side path, e.g. the PPG, must not undo what the link did).  1 changed,
 * 0 unknown id or not in `expect`, -1 error. */
int store_mt_set_state_if(Store *s, const Octstr *id, int expect, int state,
                          long next_try);

/* 1 found, 0 unknown id, -1 error. */
int store_mt_dlr(Store *s, const Octstr *id, int dlr_type, long when);

/* NULL if none. */
StoreMt *store_mt_get(Store *s, const Octstr *id);

/* The newest `count` MTs to msisdn, newest first; NULL on error. */
List *store_mt_latest(Store *s, const Octstr *msisdn, long count);

/* Count of MTs in `state`, -1 on error. */
long store_mt_count(Store *s, int state);

/* MTs created for msisdn at or after `since` (budget), -1 on error. */
long store_mt_count_since(Store *s, const Octstr *msisdn, long since);

/* Delete ACCEPTED and FAILED MTs created before `before`; count or -1. */
long store_mt_purge(Store *s, long before);

/* Forget answered MOs received before `before` (their ids guard against
 * answering a re-sent copy twice until then).  Rows deleted, or -1. */
long store_mo_purge(Store *s, long before);

void store_mt_destroy(StoreMt *mt);
void store_mt_destroy_item(void *mt);

/* --- MO queue ---------------------------------------------------------- */

/* 1 added, 0 duplicate id, -1 error.  received 0 = now. */
int store_mo_add(Store *s, const StoreMo *mo);

/* List of StoreMo* not yet done, oldest first. */
List *store_mo_pending(Store *s, long max);

/* 1 removed, 0 unknown id, -1 error. */
int store_mo_done(Store *s, const Octstr *id);

void store_mo_destroy(StoreMo *mo);
void store_mo_destroy_item(void *mo);

/* --- rate limits ------------------------------------------------------- */

/*
 * 1 allowed and recorded, 0 too soon (last allowed notice of `kind` for
 * msisdn less than `interval` seconds before `now`), -1 error.  Atomic:
 * of concurrent callers for the same (msisdn, kind), one wins.
 * msisdn need not be bound.
 */
int store_notice_allow(Store *s, const Octstr *msisdn, const char *kind,
                       long interval, long now);

#endif
