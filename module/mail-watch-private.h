/*
 * mail-watch-private.h - internals shared by mail-watch.c (event loop,
 * connections, events), mail-imap.c (IMAP session) and mail-pop3.c
 * (POP3 poll session).
 *
 * Exports (to those three files only): MailWatch, MailBox, the session
 * entry points mail_imap_*() / mail_pop3_*(), and the helpers that sessions
 * use to talk to the loop: mail_box_send(), mail_box_emit(),
 * mail_box_set_state(), mail_box_start_tls(), mail_box_fail(),
 * mail_event_new(), mail_header_value(), mail_printable(), and the
 * UidlSet functions mail_uidls_*().
 *
 * Threading: everything here runs on the loop thread, except the fields
 * marked "under lock" which the admin status page reads.
 */
#ifndef MAIL_WATCH_PRIVATE_H
#define MAIL_WATCH_PRIVATE_H

#include <netdb.h>

#include "mail-watch.h"
#include "mail-tls.h"

/* Fixed limits (see mail-watch.h) */
#define MAIL_MAX_LINE (64 * 1024)
#define MAIL_MAX_LITERAL (1024 * 1024)
#define MAIL_MAX_DEPTH 16
#define MAIL_PIPELINE 4
#define MAIL_READ_WATCHDOG 300      /* s without data while idling */
#define MAIL_AUTH_RETRY 900         /* s between retries after auth fail */
#define MAIL_AUTH_DELAY 20          /* s extra for login replies: servers
                                     * delay failures (Dovecot up to 15) */
#define MAIL_BACKOFF_MAX 300        /* s */
#define MAIL_POP3_MAX_MULTI (16 * 1024 * 1024)  /* UIDL listing */
#define MAIL_POP3_MAX_TOP (256 * 1024)           /* one TOP n 0 */

struct MailWatch {
    MailWatchConf conf;         /* ca_file points to ca_copy */
    Octstr *ca_copy;
    List *events;
    MailTls *tls;               /* NULL if the CA store failed to load */
    Octstr *tls_error;
    Mutex *lock;
    List *ops;                  /* under lock: pending add/remove */
    List *boxes;                /* MailBox *; changed under lock */
    List *dead_gai;             /* struct gaicb * still resolving */
    volatile int quit;
    long thread;
    unsigned int seed;
};

typedef enum {
    BOX_WAIT,       /* not connected; connect at next_try_ms */
    BOX_RESOLVING,  /* getaddrinfo_a running */
    BOX_CONNECTING, /* nonblocking connect */
    BOX_TLS,        /* TLS handshake (implicit or STARTTLS) */
    BOX_SESSION     /* protocol session runs */
} BoxPhase;

/* A set of POP3 UIDLs: a sorted array of exact-size copies, searched by
 * bisection.  (A gwlib Dict costs a List, with two mutexes and a
 * condition variable, per used bucket: ~150 KB for 500 UIDLs.) */
typedef struct {
    Octstr **v;
    long n, cap;
} UidlSet;

typedef struct MailBox MailBox;
struct MailBox {
    MailWatch *w;
    Octstr *key;
    MailUrl *url;
    Octstr *secret;             /* wiped on destroy */
    long uidvalidity, last_uid; /* IMAP marks, in memory */
    UidlSet *uidls;             /* POP3 UIDLs known; NULL = no baseline */

    BoxPhase phase;
    long long next_try_ms;      /* BOX_WAIT */
    long long deadline_ms;      /* other phases; 0 = none */
    struct gaicb *gai;
    struct addrinfo *ai_list, *ai_cur;
    MailStream *st;
    int starttls;               /* the running handshake is a STARTTLS */
    long backoff;               /* s; 0 after a success */
    int auth_streak;            /* AUTH_FAILED already emitted */
    long long last_rx_ms;

    Octstr *state;              /* under lock */
    Octstr *error;              /* under lock */
    long since;                 /* under lock */
    Octstr *caps;               /* last capabilities seen, or NULL */

    void *session;              /* ImapSession / Pop3Session */
    Octstr *fail_msg;           /* set by mail_box_fail() */
    int fail_auth;
};

/* Session entry points.  All return 0 to go on, -1 after mail_box_fail()
 * was called (the loop then closes the connection), and the POP3 ones 1
 * when the poll session ended normally. */
int mail_imap_start(MailBox *b);
int mail_imap_input(MailBox *b, const char *data, long len);
int mail_imap_tls_done(MailBox *b);
int mail_imap_timeout(MailBox *b);
void mail_imap_free(MailBox *b);

int mail_pop3_start(MailBox *b);
int mail_pop3_input(MailBox *b, const char *data, long len);
int mail_pop3_tls_done(MailBox *b);
int mail_pop3_timeout(MailBox *b);
void mail_pop3_free(MailBox *b);

/* Queue bytes for the server.  `what' is logged at debug level instead of
 * the data when not NULL (use it for LOGIN, PASS and AUTHENTICATE). */
void mail_box_send(MailBox *b, const Octstr *data, const char *what);
/* Hand a new event to the consumer (takes ownership). */
void mail_box_emit(MailBox *b, MailEvent *e);
/* A new event of `type' for this box with key filled in. */
MailEvent *mail_event_new(MailBox *b, enum mail_event_type type);
/* Change the reported state; emits MAIL_EV_STATE when it changes.
 * "idle" and "polling" also reset the backoff and the auth streak. */
void mail_box_set_state(MailBox *b, const char *state, const Octstr *error);
/* Switch the connection to TLS (after STARTTLS/STLS was accepted); the
 * session's tls_done entry is called when the handshake is done.
 * Returns 0 or -1 after mail_box_fail(). */
int mail_box_start_tls(MailBox *b);
/* Record a failure (fmt as octstr_format, %S for Octstr; the text must
 * hold no secrets); auth != 0 for refused credentials.  Always returns
 * -1 so sessions can `return mail_box_fail(...)'. */
int mail_box_fail(MailBox *b, int auth, const char *fmt, ...);
/* Seconds for one protocol step (connect_timeout). */
long mail_box_timeout(const MailBox *b);

/* The raw, unfolded value of header `name' in `hdrs' (RFC 5322 header
 * block), at most 4096 bytes, or NULL.  New Octstr, caller owns. */
Octstr *mail_header_value(const Octstr *hdrs, const char *name);
/* An empty UIDL set (new, caller owns; free with mail_uidls_destroy). */
UidlSet *mail_uidls_create(void);
void mail_uidls_destroy(UidlSet *u);        /* NULL ok */
/* 1 if `uidl' is in the set, else 0. */
int mail_uidls_has(const UidlSet *u, const Octstr *uidl);
/* Add a copy of `uidl' (no-op if present).  O(n): for single UIDLs. */
void mail_uidls_add(UidlSet *u, const Octstr *uidl);
/* A set of copies of the Octstr items of `l' (duplicates dropped),
 * O(n log n).  `l' is not changed. */
UidlSet *mail_uidls_from_list(List *l);

/* A copy of `s' cut to `max' bytes with non-printable bytes replaced by
 * '?', safe for logs and error texts.  New Octstr, caller owns. */
Octstr *mail_printable(const Octstr *s, long max);

#endif
