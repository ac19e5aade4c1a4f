/*
 * mail-watch.h - watch many mailboxes from one event-loop thread.
 *
 * Exports: MailWatch (opaque), MailEvent, MailWatchConf, MailWatchStatus,
 *   mail_watch_create(), mail_watch_add(), mail_watch_remove(),
 *   mail_watch_status(), mail_watch_status_destroy_item(),
 *   mail_watch_destroy(), mail_event_destroy().
 *
 * One thread owns every mailbox connection (nonblocking sockets, poll(2),
 * a wakeup pipe for add/remove/shutdown); no thread per mailbox.
 * IMAP: CAPABILITY, LOGIN or AUTHENTICATE PLAIN, EXAMINE (never SELECT),
 *   then IDLE (re-issued every idle_refresh s) or, without IDLE, STATUS
 *   (UIDNEXT UIDVALIDITY) every poll_interval s.  New mail is fetched with
 *   BODY.PEEK[HEADER.FIELDS ...], so watching never changes the mailbox.
 * POP3: every poll_interval s connect, USER/PASS, UIDL, TOP n 0, QUIT.
 * TLS: implicit or STARTTLS/STLS as the URL says, SNI, certificate and
 *   host name verification (mail-tls.h).
 * Failures reconnect with jittered exponential backoff (1 s .. 5 min);
 *   authentication failures emit one MAIL_EV_AUTH_FAILED per failing
 *   streak and retry every 15 min.
 * Limits: response line 64 KB, literal 1 MB, list depth 16, 4 commands in
 *   flight per connection, every state has a timeout.
 * Secrets: held in memory only, wiped when the entry is removed.
 * Logs: info for connection state changes, warning for server oddities,
 *   debug under "box.mail.imap" / "box.mail.pop3" (LOGIN, PASS and
 *   AUTHENTICATE redacted).
 */
#ifndef MAIL_WATCH_H
#define MAIL_WATCH_H

#include "gwlib/gwlib.h"
#include "mailurl.h"

typedef struct MailWatch MailWatch;

enum mail_event_type {
    MAIL_EV_BASELINE,    /* first sync or UIDVALIDITY changed: set marks */
    MAIL_EV_NEW,         /* one new mail */
    MAIL_EV_STATE,       /* the connection state changed */
    MAIL_EV_AUTH_FAILED  /* login refused; once per failing streak */
};

typedef struct {
    enum mail_event_type type;
    Octstr *key;        /* the binding key given to mail_watch_add */
    long uidvalidity;   /* BASELINE, NEW (IMAP); 0 for POP3 */
    long uid;           /* NEW: the mail's UID; BASELINE: UIDNEXT-1 */
    Octstr *uidl;       /* POP3 NEW: its UIDL; POP3 BASELINE: all current
                         * UIDLs joined by LF (may be empty); else NULL */
    Octstr *from, *subject, *date; /* NEW: raw (undecoded, unfolded)
                         * header values, NULL when absent */
    long size;          /* NEW: octets; -1 if unknown */
    Octstr *state;      /* STATE: "connecting", "idle", "polling",
                         * "failing" */
    Octstr *error;      /* STATE failing / AUTH_FAILED: clear text, no
                         * secrets; else NULL */
    Octstr *caps;       /* STATE: server capabilities, may be NULL */
} MailEvent;

/* Free an event taken from the events list and all its fields.  NULL ok. */
void mail_event_destroy(MailEvent *e);

typedef struct {
    const Octstr *ca_file;  /* PEM CA file; NULL = system store */
    long poll_interval;     /* s between STATUS / POP3 polls; <= 0: 300 */
    long idle_refresh;      /* s between IDLE re-issues; <= 0: 600 */
    long connect_timeout;   /* s for connect+TLS+login steps; <= 0: 30 */
} MailWatchConf;

/*
 * Start the watcher and its loop thread.  `conf' is copied.  Events
 * (MailEvent *, ownership passes to the consumer, who frees them with
 * mail_event_destroy) are appended to `events'; the watcher registers as
 * a producer of `events' and removes itself in mail_watch_destroy.
 * Returns NULL if the thread or pipe could not be created.  Any thread.
 */
MailWatch *mail_watch_create(const MailWatchConf *conf, List *events);

/*
 * Watch the mailbox `url' for binding `key' (an MSISDN).  Copies every
 * argument; replaces an entry with the same key (closing its connection).
 * uidvalidity/last_uid: IMAP marks from the store; uidvalidity 0 = no
 * baseline yet (a BASELINE event follows the first sync).
 * uidls: POP3 UIDLs already known, LF-joined; NULL = no baseline yet.
 * Thread-safe; returns at once (the loop thread does the work).
 */
void mail_watch_add(MailWatch *w, const Octstr *key, const MailUrl *url,
                    const Octstr *secret, long uidvalidity, long last_uid,
                    const Octstr *uidls);

/* Stop watching `key' (no-op if unknown); its secret is wiped.
 * Thread-safe; returns at once. */
void mail_watch_remove(MailWatch *w, const Octstr *key);

typedef struct {
    Octstr *key;
    Octstr *state;      /* as MailEvent.state */
    Octstr *error;      /* last error or NULL */
    long since;         /* time(NULL) when this state began */
} MailWatchStatus;

/* Snapshot of every entry: a new List of new MailWatchStatus, all owned by
 * the caller (gwlist_destroy(l, mail_watch_status_destroy_item)).
 * Thread-safe. */
List *mail_watch_status(MailWatch *w);
void mail_watch_status_destroy_item(void *s);

/* Stop the loop, join its thread (within ~1 s), close every connection,
 * wipe every secret, remove the producer from the events list, free all;
 * sets *w = NULL.  Events already queued stay in the list.  NULL ok.
 * Must not be called from the loop thread. */
void mail_watch_destroy(MailWatch **w);

#endif
