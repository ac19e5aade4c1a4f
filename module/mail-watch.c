/*
 * mail-watch.c - the mailbox watcher's event loop: entries, connections,
 * timers, backoff, events and status.
 *
 * One gwlib thread runs poll(2) over every connection (gwthread_poll, so
 * gwthread_wakeup() interrupts it when another thread adds or removes an
 * entry or shuts the watcher down).  Each MailBox walks through
 * WAIT -> RESOLVING (getaddrinfo_a) -> CONNECTING -> TLS -> SESSION; the
 * protocol sessions live in mail-imap.c and mail-pop3.c.  Every phase has
 * a deadline, so a dead or slow server only ever costs its own entry.
 * Failures close the connection and retry with jittered exponential
 * backoff (1 s .. 5 min); refused logins retry every ~15 min and emit
 * MAIL_EV_AUTH_FAILED once per failing streak.
 * pushmailbox's main() lowers glibc's mmap threshold so that OpenSSL's
 * read buffers do not fragment the heap (see PM_MMAP_THRESHOLD there).
 * Logs: info on start/stop and on recovery, error once when an entry
 * starts failing, debug under "box.mail.watch" for everything else.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/crypto.h>

#include "mail-watch-private.h"

#define DBG "box.mail.watch"

enum op_type { OP_ADD, OP_REMOVE };

typedef struct {
    enum op_type type;
    Octstr *key;
    MailBox *box;       /* OP_ADD */
} WatchOp;

/* --- small helpers ---------------------------------------------------- */

static void wipe_octstr(Octstr *s)
{
    if (s != NULL && octstr_len(s) > 0)
        OPENSSL_cleanse(octstr_get_cstr(s), octstr_len(s));
}

/* Sessions opened at once (connect to first sync), so that thousands of
 * mailboxes ramp up instead of storming their servers. */
#define MAIL_MAX_OPENING 64

static long jitter(MailWatch *w, long secs)
{
    /* between 50% and 100% of secs, in ms */
    long ms = secs * 1000;

    return ms / 2 + (long) (rand_r(&w->seed) % (ms / 2 + 1));
}

Octstr *mail_printable(const Octstr *s, long max)
{
    Octstr *out;
    long i;
    int c;

    if (s == NULL)
        return octstr_create("");
    out = octstr_create("");
    for (i = 0; i < octstr_len(s) && i < max; i++) {
        c = octstr_get_char(s, i);
        octstr_append_char(out, (c >= 0x20 && c < 0x7f) ? c : '?');
    }
    if (octstr_len(s) > max)
        octstr_append_cstr(out, "...");
    return out;
}

Octstr *mail_header_value(const Octstr *hdrs, const char *name)
{
    long pos = 0, len = octstr_len(hdrs), eol, nlen = strlen(name);
    Octstr *val = NULL, *line;
    int c;

    while (pos < len) {
        eol = octstr_search_char(hdrs, '\n', pos);
        if (eol < 0)
            eol = len;
        line = octstr_copy(hdrs, pos, eol - pos);
        pos = eol + 1;
        octstr_strip_crlfs(line);
        if (octstr_len(line) == 0) {
            octstr_destroy(line);
            break;              /* end of the header block */
        }
        c = octstr_get_char(line, 0);
        if (val != NULL && (c == ' ' || c == '\t')) {
            if (octstr_len(val) + octstr_len(line) <= 4096)
                octstr_append(val, line);
        } else if (val != NULL) {
            octstr_destroy(line);
            break;
        } else if (octstr_len(line) > nlen &&
                   octstr_get_char(line, nlen) == ':' &&
                   strncasecmp(octstr_get_cstr(line), name, nlen) == 0) {
            val = octstr_copy(line, nlen + 1, 4096);
        }
        octstr_destroy(line);
    }
    if (val != NULL)
        octstr_strip_blanks(val);
    return val;
}

/* --- UIDL sets ------------------------------------------------------- */

UidlSet *mail_uidls_create(void)
{
    UidlSet *u = gw_malloc(sizeof(*u));

    u->v = NULL;
    u->n = u->cap = 0;
    return u;
}

void mail_uidls_destroy(UidlSet *u)
{
    long i;

    if (u == NULL)
        return;
    for (i = 0; i < u->n; i++)
        octstr_destroy(u->v[i]);
    gw_free(u->v);
    gw_free(u);
}

/* Index of `uidl' in u->v, or -(insertion point) - 1. */
static long uidls_find(const UidlSet *u, const Octstr *uidl)
{
    long lo = 0, hi = u->n - 1, mid;
    int c;

    while (lo <= hi) {
        mid = lo + (hi - lo) / 2;
        c = octstr_compare(u->v[mid], uidl);
        if (c == 0)
            return mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return -lo - 1;
}

int mail_uidls_has(const UidlSet *u, const Octstr *uidl)
{
    return uidls_find(u, uidl) >= 0;
}

void mail_uidls_add(UidlSet *u, const Octstr *uidl)
{
    long at = uidls_find(u, uidl);

    if (at >= 0)
        return;
    at = -at - 1;
    if (u->n == u->cap) {
        u->cap = u->cap ? u->cap + u->cap / 2 + 1 : 8;
        u->v = gw_realloc(u->v, sizeof(*u->v) * u->cap);
    }
    memmove(u->v + at + 1, u->v + at, sizeof(*u->v) * (u->n - at));
    u->v[at] = octstr_duplicate(uidl);
    u->n++;
}

static int cmp_octstr_p(const void *a, const void *b)
{
    return octstr_compare(*(Octstr * const *) a, *(Octstr * const *) b);
}

UidlSet *mail_uidls_from_list(List *l)
{
    UidlSet *u = mail_uidls_create();
    long i, n = gwlist_len(l), k;

    if (n == 0)
        return u;
    u->v = gw_malloc(sizeof(*u->v) * n);
    u->cap = n;
    for (i = 0; i < n; i++)
        u->v[i] = octstr_duplicate(gwlist_get(l, i));
    qsort(u->v, n, sizeof(*u->v), cmp_octstr_p);
    for (i = k = 0; i < n; i++) {
        if (k > 0 && octstr_compare(u->v[k - 1], u->v[i]) == 0)
            octstr_destroy(u->v[i]);
        else
            u->v[k++] = u->v[i];
    }
    u->n = k;
    return u;
}

long mail_box_timeout(const MailBox *b)
{
    return b->w->conf.connect_timeout;
}

/* --- events and state ------------------------------------------------- */

MailEvent *mail_event_new(MailBox *b, enum mail_event_type type)
{
    MailEvent *e = gw_malloc(sizeof(*e));

    memset(e, 0, sizeof(*e));
    e->type = type;
    e->key = octstr_duplicate(b->key);
    e->size = -1;
    return e;
}

void mail_event_destroy(MailEvent *e)
{
    if (e == NULL)
        return;
    octstr_destroy(e->key);
    octstr_destroy(e->uidl);
    octstr_destroy(e->from);
    octstr_destroy(e->subject);
    octstr_destroy(e->date);
    octstr_destroy(e->state);
    octstr_destroy(e->error);
    octstr_destroy(e->caps);
    gw_free(e);
}

void mail_box_emit(MailBox *b, MailEvent *e)
{
    gwlist_produce(b->w->events, e);
}

void mail_box_set_state(MailBox *b, const char *state, const Octstr *error)
{
    MailEvent *e;
    int changed;

    if (strcmp(state, "idle") == 0 || strcmp(state, "polling") == 0) {
        if (b->backoff > 0 || b->auth_streak)
            info(0, "mail watch: account <%s> is back: %s",
                 octstr_get_cstr(b->key), state);
        b->backoff = 0;
        b->auth_streak = 0;
    }
    mutex_lock(b->w->lock);
    changed = b->state == NULL ||
              octstr_str_compare(b->state, state) != 0;
    if (changed) {
        octstr_destroy(b->state);
        b->state = octstr_create(state);
        b->since = time(NULL);
    }
    octstr_destroy(b->error);
    b->error = error ? octstr_duplicate(error) : NULL;
    mutex_unlock(b->w->lock);
    if (!changed)
        return;
    debug(DBG, 0, "account <%s>: state %s", octstr_get_cstr(b->key), state);
    e = mail_event_new(b, MAIL_EV_STATE);
    e->state = octstr_create(state);
    e->error = error ? octstr_duplicate(error) : NULL;
    e->caps = b->caps ? octstr_duplicate(b->caps) : NULL;
    mail_box_emit(b, e);
}

int mail_box_fail(MailBox *b, int auth, const char *fmt, ...)
{
    va_list ap;

    if (b->fail_msg != NULL)
        return -1;              /* keep the first cause */
    va_start(ap, fmt);
    b->fail_msg = octstr_format_valist(fmt, ap);
    va_end(ap);
    b->fail_auth = auth;
    return -1;
}

void mail_box_send(MailBox *b, const Octstr *data, const char *what)
{
    Octstr *p, *q;

    if (b->st == NULL)
        return;
    if (what != NULL) {
        debug(DBG, 0, "account <%s>: C: %s", octstr_get_cstr(b->key), what);
    } else {
        p = octstr_duplicate(data);
        octstr_strip_crlfs(p);
        q = mail_printable(p, 200);
        debug(DBG, 0, "account <%s>: C: %s", octstr_get_cstr(b->key),
              octstr_get_cstr(q));
        octstr_destroy(q);
        octstr_destroy(p);
    }
    mail_stream_write_str(b->st, data);
}

/* --- connection lifecycle -------------------------------------------- */

static void gai_release(MailWatch *w, MailBox *b)
{
    if (b->gai == NULL)
        return;
    if (gai_error(b->gai) == EAI_INPROGRESS &&
        gai_cancel(b->gai) != EAI_CANCELED) {
        gwlist_append(w->dead_gai, b->gai);     /* freed when done */
    } else {
        if (b->gai->ar_result != NULL)
            freeaddrinfo(b->gai->ar_result);
        gw_free((char *) b->gai->ar_name);
        gw_free((char *) b->gai->ar_service);
        gw_free((void *) b->gai->ar_request);
        gw_free(b->gai);
    }
    b->gai = NULL;
}

static void reap_dead_gai(MailWatch *w, int wait_ms)
{
    long i;
    struct gaicb *g;
    long long until = mail_clock_ms() + wait_ms;

    do {
        for (i = gwlist_len(w->dead_gai) - 1; i >= 0; i--) {
            g = gwlist_get(w->dead_gai, i);
            if (gai_error(g) == EAI_INPROGRESS)
                continue;
            gwlist_delete(w->dead_gai, i, 1);
            if (g->ar_result != NULL)
                freeaddrinfo(g->ar_result);
            gw_free((char *) g->ar_name);
            gw_free((char *) g->ar_service);
            gw_free((void *) g->ar_request);
            gw_free(g);
        }
        if (gwlist_len(w->dead_gai) == 0 || mail_clock_ms() >= until)
            break;
        gwthread_sleep(0.02);
    } while (1);
}

static void box_close(MailBox *b)
{
    if (b->session != NULL) {
        if (b->url->proto == MAILURL_IMAP)
            mail_imap_free(b);
        else
            mail_pop3_free(b);
        b->session = NULL;
    }
    mail_stream_destroy(b->st);
    b->st = NULL;
    gai_release(b->w, b);
    if (b->ai_list != NULL)
        freeaddrinfo(b->ai_list);
    b->ai_list = b->ai_cur = NULL;
    b->deadline_ms = 0;
    b->starttls = 0;
}

static void box_destroy(MailBox *b)
{
    if (b == NULL)
        return;
    box_close(b);
    octstr_destroy(b->key);
    mailurl_destroy(b->url);
    wipe_octstr(b->secret);
    octstr_destroy(b->secret);
    mail_uidls_destroy(b->uidls);
    octstr_destroy(b->state);
    octstr_destroy(b->error);
    octstr_destroy(b->caps);
    octstr_destroy(b->fail_msg);
    gw_free(b);
}

/* The session failed (b->fail_msg set) or a connect step failed: close
 * and schedule the next attempt. */
static void box_failed(MailBox *b)
{
    MailWatch *w = b->w;
    MailEvent *e;
    long long now = mail_clock_ms();
    Octstr *msg = b->fail_msg ? b->fail_msg : octstr_create("failed");
    int first;

    b->fail_msg = NULL;
    box_close(b);
    b->phase = BOX_WAIT;
    mutex_lock(w->lock);
    first = b->state == NULL ||
            octstr_str_compare(b->state, "failing") != 0;
    mutex_unlock(w->lock);
    if (b->fail_auth) {
        b->next_try_ms = now + jitter(w, MAIL_AUTH_RETRY * 2) / 2 +
                         MAIL_AUTH_RETRY * 500L;
        if (!b->auth_streak) {
            b->auth_streak = 1;
            error(0, "mail watch: account <%s>: %s",
                  octstr_get_cstr(b->key), octstr_get_cstr(msg));
            e = mail_event_new(b, MAIL_EV_AUTH_FAILED);
            e->error = octstr_duplicate(msg);
            mail_box_emit(b, e);
        }
    } else {
        b->backoff = b->backoff ? b->backoff * 2 : 1;
        if (b->backoff > MAIL_BACKOFF_MAX)
            b->backoff = MAIL_BACKOFF_MAX;
        b->next_try_ms = now + jitter(w, b->backoff);
        if (first)
            error(0, "mail watch: account <%s>: %s",
                  octstr_get_cstr(b->key), octstr_get_cstr(msg));
    }
    debug(DBG, 0, "account <%s>: %s; retry in %lld ms",
          octstr_get_cstr(b->key), octstr_get_cstr(msg),
          b->next_try_ms - now);
    b->fail_auth = 0;
    mail_box_set_state(b, "failing", msg);
    octstr_destroy(msg);
}

static int session_call_start(MailBox *b)
{
    b->phase = BOX_SESSION;
    b->last_rx_ms = mail_clock_ms();
    return b->url->proto == MAILURL_IMAP ? mail_imap_start(b)
                                         : mail_pop3_start(b);
}

static int session_call_tls_done(MailBox *b)
{
    b->phase = BOX_SESSION;
    return b->url->proto == MAILURL_IMAP ? mail_imap_tls_done(b)
                                         : mail_pop3_tls_done(b);
}

/* After a session entry returned: -1 failure, 1 POP3 poll done. */
static void session_result(MailBox *b, int ret)
{
    if (ret < 0) {
        box_failed(b);
    } else if (ret > 0) {
        box_close(b);
        b->phase = BOX_WAIT;
        b->next_try_ms = mail_clock_ms() + b->w->conf.poll_interval * 1000L;
    }
}

int mail_box_start_tls(MailBox *b)
{
    Octstr *err = NULL;
    int ret;

    if (b->w->tls == NULL)
        return mail_box_fail(b, 0, "%S", b->w->tls_error);
    if (mail_stream_start_tls(b->st, b->w->tls, b->url->host, &err) < 0) {
        mail_box_fail(b, 0, "%S", err);
        octstr_destroy(err);
        return -1;
    }
    b->starttls = b->phase == BOX_SESSION;
    b->phase = BOX_TLS;
    b->deadline_ms = mail_clock_ms() + mail_box_timeout(b) * 1000L;
    ret = mail_stream_handshake(b->st, &err);
    if (ret < 0) {
        mail_box_fail(b, 0, "%S", err);
        octstr_destroy(err);
        return -1;
    }
    return 0;
}

static void try_connect(MailBox *b)
{
    Octstr *err = NULL;
    int fd;

    while (b->ai_cur != NULL) {
        fd = mail_sock_connect(b->ai_cur->ai_addr, b->ai_cur->ai_addrlen,
                               &err);
        if (fd >= 0) {
            b->st = mail_stream_create(fd);
            b->phase = BOX_CONNECTING;
            b->deadline_ms = mail_clock_ms() +
                             mail_box_timeout(b) * 1000L;
            octstr_destroy(err);
            return;
        }
        b->ai_cur = b->ai_cur->ai_next;
    }
    mail_box_fail(b, 0, "cannot connect to %S port %ld: %S",
                  b->url->host, b->url->port,
                  err ? err : octstr_imm("no address"));
    octstr_destroy(err);
    box_failed(b);
}

static void connected(MailBox *b)
{
    Octstr *err = NULL;
    int ret;

    if (mail_sock_connect_done(mail_stream_fd(b->st), &err) < 0) {
        mail_stream_destroy(b->st);
        b->st = NULL;
        debug(DBG, 0, "account <%s>: %s", octstr_get_cstr(b->key),
              octstr_get_cstr(err));
        b->ai_cur = b->ai_cur->ai_next;
        if (b->ai_cur == NULL) {
            mail_box_fail(b, 0, "cannot connect to %S port %ld: %S",
                          b->url->host, b->url->port, err);
            octstr_destroy(err);
            box_failed(b);
            return;
        }
        octstr_destroy(err);
        try_connect(b);
        return;
    }
    freeaddrinfo(b->ai_list);
    b->ai_list = b->ai_cur = NULL;
    if (b->url->tls == MAILURL_TLS_IMPLICIT) {
        if (mail_box_start_tls(b) < 0)
            box_failed(b);
        return;
    }
    ret = session_call_start(b);
    session_result(b, ret);
}

static void start_resolve(MailBox *b)
{
    struct addrinfo hints, *res = NULL, *req;
    char port[16];
    int ret;

    memset(&hints, 0, sizeof(hints));
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
    snprintf(port, sizeof(port), "%ld", b->url->port);
    /* IP literals need no resolver */
    if (getaddrinfo(octstr_get_cstr(b->url->host), port, &hints, &res)
        == 0) {
        b->ai_list = b->ai_cur = res;
        try_connect(b);
        return;
    }
    b->gai = gw_malloc(sizeof(*b->gai));
    memset(b->gai, 0, sizeof(*b->gai));
    req = gw_malloc(sizeof(*req));
    memset(req, 0, sizeof(*req));
    req->ai_socktype = SOCK_STREAM;
    req->ai_flags = AI_ADDRCONFIG | AI_NUMERICSERV;
    b->gai->ar_name = gw_strdup(octstr_get_cstr(b->url->host));
    b->gai->ar_service = gw_strdup(port);
    b->gai->ar_request = req;
    ret = getaddrinfo_a(GAI_NOWAIT, &b->gai, 1, NULL);
    if (ret != 0) {
        mail_box_fail(b, 0, "cannot resolve %S: %s", b->url->host,
                      gai_strerror(ret));
        box_failed(b);
        return;
    }
    b->phase = BOX_RESOLVING;
    b->deadline_ms = mail_clock_ms() + mail_box_timeout(b) * 1000L;
}

static void check_resolve(MailBox *b)
{
    int ret = gai_error(b->gai);

    if (ret == EAI_INPROGRESS)
        return;
    if (ret != 0) {
        mail_box_fail(b, 0, "cannot resolve %S: %s", b->url->host,
                      gai_strerror(ret));
        box_failed(b);
        return;
    }
    b->ai_list = b->ai_cur = b->gai->ar_result;
    b->gai->ar_result = NULL;
    gai_release(b->w, b);
    try_connect(b);
}

/* The current phase's deadline passed. */
static void box_timeout(MailBox *b)
{
    int ret;

    switch (b->phase) {
    case BOX_RESOLVING:
        mail_box_fail(b, 0, "resolving %S timed out", b->url->host);
        box_failed(b);
        break;
    case BOX_CONNECTING:
        mail_box_fail(b, 0, "connecting to %S port %ld timed out",
                      b->url->host, b->url->port);
        box_failed(b);
        break;
    case BOX_TLS:
        mail_box_fail(b, 0, "TLS handshake with %S timed out",
                      b->url->host);
        box_failed(b);
        break;
    case BOX_SESSION:
        b->deadline_ms = 0;
        ret = b->url->proto == MAILURL_IMAP ? mail_imap_timeout(b)
                                            : mail_pop3_timeout(b);
        session_result(b, ret);
        break;
    case BOX_WAIT:
        break;
    }
}

static int flush_out(MailBox *b)
{
    Octstr *err = NULL;

    if (b->st == NULL || mail_stream_flush(b->st, &err) >= 0)
        return 0;
    mail_box_fail(b, 0, "%S", err);
    octstr_destroy(err);
    box_failed(b);
    return -1;
}

static void box_io(MailBox *b, int revents)
{
    char buf[16384];
    Octstr *err = NULL;
    long n, total = 0;
    int ret;

    if (b->phase == BOX_CONNECTING) {
        connected(b);
        if (b->phase == BOX_SESSION)
            flush_out(b);
        return;
    }
    if (b->phase == BOX_TLS) {
        ret = mail_stream_handshake(b->st, &err);
        if (ret < 0) {
            mail_box_fail(b, 0, "%S", err);
            octstr_destroy(err);
            box_failed(b);
            return;
        }
        if (ret > 0)
            return;
        debug(DBG, 0, "account <%s>: TLS established",
              octstr_get_cstr(b->key));
        ret = b->starttls ? session_call_tls_done(b)
                          : session_call_start(b);
        b->starttls = 0;
        session_result(b, ret);
        if (b->phase == BOX_SESSION)
            flush_out(b);
        return;
    }
    if (b->phase != BOX_SESSION)
        return;
    if ((revents & POLLOUT) && flush_out(b) < 0)
        return;
    /* read what is there, but at most 256 KB per turn (fairness) */
    while (b->phase == BOX_SESSION && total < 256 * 1024) {
        n = mail_stream_read(b->st, buf, sizeof(buf), &err);
        if (n == 0)
            break;
        if (n < 0) {
            mail_box_fail(b, 0, "%S", err);
            octstr_destroy(err);
            box_failed(b);
            return;
        }
        total += n;
        b->last_rx_ms = mail_clock_ms();
        ret = b->url->proto == MAILURL_IMAP ? mail_imap_input(b, buf, n)
                                            : mail_pop3_input(b, buf, n);
        session_result(b, ret);
        if (ret != 0)
            return;
    }
    if (b->phase == BOX_SESSION)
        flush_out(b);
}

/* --- the loop --------------------------------------------------------- */

static MailBox *find_box(MailWatch *w, const Octstr *key, long *idx_r)
{
    long i;
    MailBox *b;

    for (i = 0; i < gwlist_len(w->boxes); i++) {
        b = gwlist_get(w->boxes, i);
        if (octstr_compare(b->key, key) == 0) {
            *idx_r = i;
            return b;
        }
    }
    return NULL;
}

static void run_ops(MailWatch *w)
{
    WatchOp *op;
    MailBox *old;
    long idx;

    mutex_lock(w->lock);
    while ((op = gwlist_extract_first(w->ops)) != NULL) {
        old = find_box(w, op->key, &idx);
        if (old != NULL)
            gwlist_delete(w->boxes, idx, 1);
        if (op->type == OP_ADD)
            gwlist_append(w->boxes, op->box);
        mutex_unlock(w->lock);
        if (old != NULL) {
            debug(DBG, 0, "account <%s>: removed", octstr_get_cstr(old->key));
            box_destroy(old);
        }
        if (op->type == OP_ADD) {
            debug(DBG, 0, "account <%s>: added",
                  octstr_get_cstr(op->box->key));
            mail_box_set_state(op->box, "connecting", NULL);
        }
        octstr_destroy(op->key);
        gw_free(op);
        mutex_lock(w->lock);
    }
    mutex_unlock(w->lock);
}

/*
 * Is the session of `b` still being opened (resolve, connect, TLS, login,
 * first sync)?  A restart with thousands of bindings must not hit the
 * mail servers with thousands of logins at once: see MAIL_MAX_OPENING.
 */
static int box_opening(const MailBox *b)
{
    switch (b->phase) {
    case BOX_RESOLVING:
    case BOX_CONNECTING:
    case BOX_TLS:
        return 1;
    case BOX_SESSION:
        return b->state == NULL
               || (octstr_str_compare(b->state, "idle") != 0
                   && octstr_str_compare(b->state, "polling") != 0);
    default:
        return 0;
    }
}

static void loop_thread(void *arg)
{
    MailWatch *w = arg;
    struct pollfd *fds = NULL;
    MailBox **fbox = NULL, *b;
    long nalloc = 0, nfds, i, n;
    long long now, next;
    int resolving;
    long opening;

    info(0, "mail watch: event loop started");
    while (!w->quit) {
        run_ops(w);
        n = gwlist_len(w->boxes);
        if (n > nalloc) {
            nalloc = n * 2;
            fds = gw_realloc(fds, sizeof(*fds) * nalloc);
            fbox = gw_realloc(fbox, sizeof(*fbox) * nalloc);
        }
        /* timers; at most MAIL_MAX_OPENING sessions being opened */
        now = mail_clock_ms();
        opening = 0;
        for (i = 0; i < n; i++)
            opening += box_opening(gwlist_get(w->boxes, i));
        for (i = 0; i < n; i++) {
            b = gwlist_get(w->boxes, i);
            if (b->phase == BOX_WAIT && now >= b->next_try_ms
                && opening < MAIL_MAX_OPENING) {
                start_resolve(b);
                opening++;
            }
            else if (b->phase == BOX_RESOLVING)
                check_resolve(b);
            if (b->phase != BOX_WAIT && b->deadline_ms > 0 &&
                now >= b->deadline_ms)
                box_timeout(b);
        }
        if (gwlist_len(w->dead_gai) > 0)
            reap_dead_gai(w, 0);
        /* poll set and the next timer */
        next = now + 1000;
        resolving = 0;
        nfds = 0;
        for (i = 0; i < n; i++) {
            b = gwlist_get(w->boxes, i);
            if (b->phase == BOX_WAIT) {
                /* a due box held back by the cap waits for another to
                 * finish opening (which wakes the loop), not for a timer */
                if (b->next_try_ms < next
                    && !(b->next_try_ms <= now
                         && opening >= MAIL_MAX_OPENING))
                    next = b->next_try_ms;
                continue;
            }
            if (b->deadline_ms > 0 && b->deadline_ms < next)
                next = b->deadline_ms;
            if (b->phase == BOX_RESOLVING) {
                resolving = 1;
                continue;
            }
            fds[nfds].fd = mail_stream_fd(b->st);
            fds[nfds].events = b->phase == BOX_CONNECTING ? POLLOUT
                               : mail_stream_events(b->st);
            fds[nfds].revents = 0;
            fbox[nfds++] = b;
        }
        if (resolving && next > now + 50)
            next = now + 50;
        if (next < now)
            next = now;
        if (w->quit)
            break;
        if (gwthread_poll(fds, nfds, (next - now) / 1000.0) < 0 &&
            errno != EINTR)
            warning(errno, "mail watch: poll failed");
        for (i = 0; i < nfds; i++) {
            if (fds[i].revents != 0)
                box_io(fbox[i], fds[i].revents);
        }
    }
    gw_free(fds);
    gw_free(fbox);
    info(0, "mail watch: event loop stopped");
}

/* --- public API ------------------------------------------------------- */

MailWatch *mail_watch_create(const MailWatchConf *conf, List *events)
{
    MailWatch *w = gw_malloc(sizeof(*w));
    Octstr *err = NULL;

    memset(w, 0, sizeof(*w));
    w->conf = *conf;
    w->ca_copy = conf->ca_file ? octstr_duplicate(conf->ca_file) : NULL;
    w->conf.ca_file = w->ca_copy;
    if (w->conf.poll_interval <= 0)
        w->conf.poll_interval = 300;
    if (w->conf.idle_refresh <= 0)
        w->conf.idle_refresh = 600;
    if (w->conf.connect_timeout <= 0)
        w->conf.connect_timeout = 30;
    w->events = events;
    w->tls = mail_tls_create(w->ca_copy, &err);
    if (w->tls == NULL) {
        /* plaintext test servers still work; TLS entries fail clearly */
        error(0, "mail watch: %s", octstr_get_cstr(err));
        w->tls_error = err;
    }
    w->lock = mutex_create();
    w->ops = gwlist_create();
    w->boxes = gwlist_create();
    w->dead_gai = gwlist_create();
    w->seed = (unsigned int) time(NULL) ^ (unsigned int) (long) w;
    gwlist_add_producer(events);
    w->thread = gwthread_create(loop_thread, w);
    if (w->thread == -1) {
        error(0, "mail watch: cannot start the event loop thread");
        gwlist_remove_producer(events);
        mail_tls_destroy(w->tls);
        octstr_destroy(w->tls_error);
        mutex_destroy(w->lock);
        gwlist_destroy(w->ops, NULL);
        gwlist_destroy(w->boxes, NULL);
        gwlist_destroy(w->dead_gai, NULL);
        octstr_destroy(w->ca_copy);
        gw_free(w);
        return NULL;
    }
    return w;
}

static void queue_op(MailWatch *w, WatchOp *op)
{
    mutex_lock(w->lock);
    gwlist_append(w->ops, op);
    mutex_unlock(w->lock);
    gwthread_wakeup(w->thread);
}

void mail_watch_add(MailWatch *w, const Octstr *key, const MailUrl *url,
                    const Octstr *secret, long uidvalidity, long last_uid,
                    const Octstr *uidls)
{
    MailBox *b = gw_malloc(sizeof(*b));
    WatchOp *op = gw_malloc(sizeof(*op));
    List *lines, *keep;
    Octstr *u;

    memset(b, 0, sizeof(*b));
    b->w = w;
    b->key = octstr_duplicate(key);
    b->url = gw_malloc(sizeof(*b->url));
    b->url->proto = url->proto;
    b->url->tls = url->tls;
    b->url->user = octstr_duplicate(url->user);
    b->url->host = octstr_duplicate(url->host);
    b->url->port = url->port;
    b->url->folder = url->folder ? octstr_duplicate(url->folder)
                                 : octstr_create("INBOX");
    b->secret = secret ? octstr_duplicate(secret) : octstr_create("");
    b->uidvalidity = uidvalidity;
    b->last_uid = last_uid;
    if (uidls != NULL) {
        lines = octstr_split(uidls, octstr_imm("\n"));
        keep = gwlist_create();
        while ((u = gwlist_extract_first(lines)) != NULL) {
            octstr_strip_blanks(u);
            if (octstr_len(u) > 0)
                gwlist_append(keep, u);
            else
                octstr_destroy(u);
        }
        b->uidls = mail_uidls_from_list(keep);
        gwlist_destroy(keep, octstr_destroy_item);
        gwlist_destroy(lines, NULL);
    }
    b->phase = BOX_WAIT;
    b->next_try_ms = 0;
    b->since = time(NULL);
    op->type = OP_ADD;
    op->key = octstr_duplicate(key);
    op->box = b;
    queue_op(w, op);
}

void mail_watch_remove(MailWatch *w, const Octstr *key)
{
    WatchOp *op = gw_malloc(sizeof(*op));

    op->type = OP_REMOVE;
    op->key = octstr_duplicate(key);
    op->box = NULL;
    queue_op(w, op);
}

List *mail_watch_status(MailWatch *w)
{
    List *out = gwlist_create();
    MailWatchStatus *s;
    MailBox *b;
    long i;

    mutex_lock(w->lock);
    for (i = 0; i < gwlist_len(w->boxes); i++) {
        b = gwlist_get(w->boxes, i);
        s = gw_malloc(sizeof(*s));
        s->key = octstr_duplicate(b->key);
        s->state = b->state ? octstr_duplicate(b->state)
                            : octstr_create("connecting");
        s->error = b->error ? octstr_duplicate(b->error) : NULL;
        s->since = b->since;
        gwlist_append(out, s);
    }
    mutex_unlock(w->lock);
    return out;
}

void mail_watch_status_destroy_item(void *p)
{
    MailWatchStatus *s = p;

    if (s == NULL)
        return;
    octstr_destroy(s->key);
    octstr_destroy(s->state);
    octstr_destroy(s->error);
    gw_free(s);
}

void mail_watch_destroy(MailWatch **wp)
{
    MailWatch *w;
    WatchOp *op;
    MailBox *b;

    if (wp == NULL || *wp == NULL)
        return;
    w = *wp;
    *wp = NULL;
    w->quit = 1;
    gwthread_wakeup(w->thread);
    gwthread_join(w->thread);
    while ((op = gwlist_extract_first(w->ops)) != NULL) {
        box_destroy(op->box);
        octstr_destroy(op->key);
        gw_free(op);
    }
    while ((b = gwlist_extract_first(w->boxes)) != NULL)
        box_destroy(b);
    reap_dead_gai(w, 1000);
    gwlist_destroy(w->ops, NULL);
    gwlist_destroy(w->boxes, NULL);
    gwlist_destroy(w->dead_gai, NULL);  /* leaks only a stuck lookup */
    gwlist_remove_producer(w->events);
    mail_tls_destroy(w->tls);
    octstr_destroy(w->tls_error);
    octstr_destroy(w->ca_copy);
    mutex_destroy(w->lock);
    gw_free(w);
}
