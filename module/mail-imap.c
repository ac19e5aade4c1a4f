/*
 * mail-imap.c - one IMAP watching session (for mail-watch.c's loop).
 *
 * Exports (via mail-watch-private.h): mail_imap_start(), _input(),
 *   _tls_done(), _timeout(), _free().
 *
 * Flow: greeting -> [CAPABILITY] -> [STARTTLS, CAPABILITY] -> LOGIN or
 * AUTHENTICATE PLAIN -> [CAPABILITY] -> EXAMINE folder -> sync -> IDLE
 * (refreshed every idle_refresh s, left with DONE on EXISTS, the UID
 * FETCH pipelined right behind DONE) or, without IDLE, UNSELECT/CLOSE
 * and STATUS (UIDNEXT UIDVALIDITY) every poll_interval s, EXAMINE + sync
 * when it moved.
 * sync: UIDVALIDITY unknown or changed -> BASELINE (UIDNEXT-1), no NEW;
 *   else UID FETCH last+1:* (UID RFC822.SIZE BODY.PEEK[HEADER.FIELDS
 *   (FROM SUBJECT DATE)]) -> one NEW per UID > last, in UID order.
 * Commands follow isync: objects with tag, text parts (a part after each
 * "+" for synchronizing literals and SASL), a completion callback, in a
 * pending and an in-flight queue; one "may I send" predicate enforces the
 * pipeline depth, barriers (STARTTLS, LOGIN, IDLE until DONE is sent)
 * and continuations.
 * Any untagged response is accepted at any time.
 * Memory: an idling session keeps its state, the IDLE command (its text
 * is freed once sent) and the capabilities as bits; the parser and the
 * capability text are dropped until the server speaks again.
 * Limits: see mail-watch-private.h.  Logs: debug under "box.mail.imap";
 * LOGIN and AUTHENTICATE are logged as "<redacted>".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "imap-parser.h"
#include "mail-watch-private.h"

#define DBG "box.mail.imap"

typedef int imap_done_fn(MailBox *b, ImapResponse *r);

/* The capabilities the session acts on (bits of ImapSession.caps) */
enum imap_cap {
    CAP_IDLE, CAP_UNSELECT, CAP_LITERALPLUS, CAP_STARTTLS, CAP_AUTH_PLAIN,
    CAP_LOGINDISABLED, CAP_SASL_IR, CAP_COUNT
};

static const char *const cap_names[CAP_COUNT] = {
    "IDLE", "UNSELECT", "LITERAL+", "STARTTLS", "AUTH=PLAIN",
    "LOGINDISABLED", "SASL-IR"
};

typedef struct ImapCmd ImapCmd;
struct ImapCmd {
    ImapCmd *next;      /* in its queue */
    long tag;           /* sent as "W<tag>" */
    Octstr *text;       /* first part, ends in CRLF; NULL once sent */
    List *more;         /* Octstr *: parts sent after each "+", or NULL */
    const char *name;   /* command name for logs and errors */
    int sensitive;      /* wipe, log only the name */
    int barrier;        /* must be alone in flight */
    int idle;
    imap_done_fn *done;
};

/* A FIFO of commands linked through ImapCmd.next.  Not a gwlist: each
 * of those costs two mutexes and a condition variable, and a watcher
 * holds two queues per mailbox for hours. */
typedef struct {
    ImapCmd *head, *tail;
    long len;
} CmdQueue;

enum imap_phase { IP_GREETING, IP_BUSY, IP_POLL_WAIT };

typedef struct {
    ImapParser *parser;
    CmdQueue pending, inflight;
    ImapCmd *cont_wait;         /* in flight, waits for "+" */
    long tag_no;
    enum imap_phase phase;
    int caps_known;
    unsigned int caps;          /* 1 << enum imap_cap, from the last list */
    imap_done_fn *caps_next;    /* what to do after CAPABILITY */
    int idling, done_sent, need_sync, selected;
    long long idle_since, poll_at;
    long exists;
    long ex_uidvalidity, ex_uidnext;
    long st_uidvalidity, st_uidnext;
    List *fetched;              /* MailEvent * of the running FETCH */
    int max_mode;               /* running UID FETCH * (UID) */
    long max_uid;
} ImapSession;

static void wipe(Octstr *s)
{
    if (s != NULL && octstr_len(s) > 0)
        OPENSSL_cleanse(octstr_get_cstr(s), octstr_len(s));
}

static void cmd_destroy(void *p)
{
    ImapCmd *c = p;
    Octstr *part;

    if (c == NULL)
        return;
    if (c->sensitive) {
        wipe(c->text);
        while (c->more != NULL &&
               (part = gwlist_extract_first(c->more)) != NULL) {
            wipe(part);
            octstr_destroy(part);
        }
    }
    octstr_destroy(c->text);
    if (c->more != NULL)
        gwlist_destroy(c->more, octstr_destroy_item);
    gw_free(c);
}

static void q_append(CmdQueue *q, ImapCmd *c)
{
    c->next = NULL;
    if (q->tail != NULL)
        q->tail->next = c;
    else
        q->head = c;
    q->tail = c;
    q->len++;
}

/* Unlink `c' from `q'; `prev' is the command before it, or NULL. */
static void q_unlink(CmdQueue *q, ImapCmd *prev, ImapCmd *c)
{
    if (prev != NULL)
        prev->next = c->next;
    else
        q->head = c->next;
    if (q->tail == c)
        q->tail = prev;
    c->next = NULL;
    q->len--;
}

static void q_clear(CmdQueue *q)
{
    ImapCmd *c;

    while ((c = q->head) != NULL) {
        q->head = c->next;
        cmd_destroy(c);
    }
    q->tail = NULL;
    q->len = 0;
}

static ImapCmd *cmd_new(ImapSession *s, const char *name, imap_done_fn *done)
{
    ImapCmd *c = gw_malloc(sizeof(*c));

    memset(c, 0, sizeof(*c));
    c->tag = ++s->tag_no;
    c->text = octstr_format("W%ld ", c->tag);
    c->name = name;
    c->done = done;
    return c;
}

static int has_cap(MailBox *b, enum imap_cap cap)
{
    ImapSession *s = b->session;

    return (s->caps >> cap) & 1;
}

/* Take the capabilities from `args' (from index `from' on): their text
 * goes to b->caps for the next state event, the ones we act on to bits. */
static void set_caps(MailBox *b, List *args, long from)
{
    ImapSession *s = b->session;
    Octstr *caps = octstr_create("");
    Octstr *str;
    long i;
    int k;

    s->caps = 0;
    for (i = from; i < gwlist_len(args); i++) {
        str = imap_arg_string(gwlist_get(args, i));
        if (str == NULL || octstr_len(caps) + octstr_len(str) > 4096)
            continue;
        if (octstr_len(caps) > 0)
            octstr_append_char(caps, ' ');
        octstr_append(caps, str);
        for (k = 0; k < CAP_COUNT; k++)
            if (octstr_str_case_compare(str, cap_names[k]) == 0)
                s->caps |= 1u << k;
    }
    /* without the 1 KB of slack that appending leaves in an Octstr */
    octstr_destroy(b->caps);
    b->caps = octstr_duplicate(caps);
    octstr_destroy(caps);
    s->caps_known = 1;
}

/* Report "idle" or "polling".  The state event carries b->caps to the
 * store; from then on the session needs only its bits, so the text is
 * dropped (later events carry none, and the store keeps what it has). */
static void report_waiting(MailBox *b, const char *state)
{
    mail_box_set_state(b, state, NULL);
    octstr_destroy(b->caps);
    b->caps = NULL;
}

/* --- sending ------------------------------------------------------- */

static int may_send(ImapSession *s, ImapCmd *c)
{
    ImapCmd *first = s->inflight.head;

    if (s->cont_wait != NULL)
        return 0;
    if (s->inflight.len >= MAIL_PIPELINE)
        return 0;
    if (first != NULL && c->barrier)
        return 0;
    /* an IDLE stops being a barrier once DONE is sent (see sync_now) */
    if (first != NULL && first->barrier && !(first->idle && s->done_sent))
        return 0;
    return 1;
}

static void pump(MailBox *b)
{
    ImapSession *s = b->session;
    ImapCmd *c;
    Octstr *what;

    while ((c = s->pending.head) != NULL && may_send(s, c)) {
        q_unlink(&s->pending, NULL, c);
        what = c->sensitive ? octstr_format("W%ld %s <redacted>", c->tag,
                                            c->name) : NULL;
        mail_box_send(b, c->text, what ? octstr_get_cstr(what) : NULL);
        octstr_destroy(what);
        /* queued for the socket: the text (1 KB of Octstr growth) is not
         * needed any more, and an IDLE stays in flight for minutes */
        if (c->sensitive)
            wipe(c->text);
        octstr_destroy(c->text);
        c->text = NULL;
        if (gwlist_len(c->more) > 0)
            s->cont_wait = c;
        q_append(&s->inflight, c);
    }
}

static void send_cmd(MailBox *b, ImapCmd *c)
{
    ImapSession *s = b->session;

    q_append(&s->pending, c);
    pump(b);
}

/* Append a part to send after the next "+" (takes `part'). */
static void add_part(ImapCmd *c, Octstr *part)
{
    if (c->more == NULL)
        c->more = gwlist_create();
    gwlist_append(c->more, part);
}

/* Append `str' as an astring: quoted, or a literal ({n+} with LITERAL+,
 * else a synchronizing literal that starts a new part). */
static void add_astring(MailBox *b, ImapCmd *c, const Octstr *str)
{
    Octstr *part = gwlist_len(c->more) ?
                   gwlist_get(c->more, gwlist_len(c->more) - 1) : c->text;

    if (imap_quotable(str)) {
        imap_append_quoted(part, str);
        return;
    }
    if (has_cap(b, CAP_LITERALPLUS)) {
        octstr_format_append(part, "{%ld+}\r\n", octstr_len(str));
        octstr_append(part, str);
        return;
    }
    octstr_format_append(part, "{%ld}\r\n", octstr_len(str));
    add_part(c, octstr_duplicate(str));
}

static void add_text(ImapCmd *c, const char *text)
{
    Octstr *part = gwlist_len(c->more) ?
                   gwlist_get(c->more, gwlist_len(c->more) - 1) : c->text;

    octstr_append_cstr(part, text);
}

/* --- the session steps ------------------------------------------------ */

static int after_greeting(MailBox *b, ImapResponse *r);
static int do_login(MailBox *b, ImapResponse *r);
static int start_examine(MailBox *b, ImapResponse *r);
static int after_sync(MailBox *b);
static int start_fetch(MailBox *b);
static int start_idle(MailBox *b);

static Octstr *resp_text(ImapResponse *r)
{
    return mail_printable(r->text, 200);
}

/* Fail because the tagged reply `r' to command `what' was not OK. */
static int fail_reply(MailBox *b, ImapResponse *r, const char *what)
{
    Octstr *t = resp_text(r);

    mail_box_fail(b, 0, "%s failed: %s", what, octstr_get_cstr(t));
    octstr_destroy(t);
    return -1;
}

static int caps_done(MailBox *b, ImapResponse *r)
{
    ImapSession *s = b->session;

    if (imap_response_status(r) != IMAP_STATUS_OK)
        return fail_reply(b, r, "CAPABILITY");
    s->caps_known = 1;      /* even if the server sent none */
    return s->caps_next(b, r);
}

static int send_capability(MailBox *b, imap_done_fn *next)
{
    ImapSession *s = b->session;
    ImapCmd *c = cmd_new(s, "CAPABILITY", caps_done);

    s->caps_next = next;
    add_text(c, "CAPABILITY\r\n");
    send_cmd(b, c);
    return 0;
}

static int starttls_done(MailBox *b, ImapResponse *r)
{
    ImapSession *s = b->session;

    if (imap_response_status(r) != IMAP_STATUS_OK)
        return fail_reply(b, r, "STARTTLS");
    s->caps_known = 0;
    s->caps = 0;
    octstr_destroy(b->caps);
    b->caps = NULL;
    return mail_box_start_tls(b);
}

static int after_greeting(MailBox *b, ImapResponse *r)
{
    ImapSession *s = b->session;
    ImapCmd *c;

    if (!s->caps_known)
        return send_capability(b, after_greeting);
    if (b->url->tls == MAILURL_TLS_STARTTLS && !mail_stream_is_tls(b->st)) {
        if (!has_cap(b, CAP_STARTTLS))
            return mail_box_fail(b, 0, "server %S does not offer STARTTLS, "
                                 "which the mailbox URL requires",
                                 b->url->host);
        c = cmd_new(s, "STARTTLS", starttls_done);
        c->barrier = 1;
        add_text(c, "STARTTLS\r\n");
        send_cmd(b, c);
        return 0;
    }
    return do_login(b, r);
}

static int login_done(MailBox *b, ImapResponse *r)
{
    ImapSession *s = b->session;
    ImapStatus st = imap_response_status(r);
    Octstr *t;
    int temp;

    if (st == IMAP_STATUS_OK) {
        debug(DBG, 0, "account <%s>: logged in", octstr_get_cstr(b->key));
        if (r->code != NULL &&
            octstr_str_case_compare(r->code, "CAPABILITY") == 0) {
            set_caps(b, r->code_args, 0);
            return start_examine(b, r);
        }
        s->caps_known = 0;
        return send_capability(b, start_examine);
    }
    t = resp_text(r);
    temp = st == IMAP_STATUS_BAD ||
           (r->code != NULL &&
            (octstr_str_case_compare(r->code, "UNAVAILABLE") == 0 ||
             octstr_str_case_compare(r->code, "SERVERBUG") == 0 ||
             octstr_str_case_compare(r->code, "LIMIT") == 0 ||
             octstr_str_case_compare(r->code, "INUSE") == 0));
    mail_box_fail(b, !temp, "login as \"%S\" on %S %s: %s",
                  b->url->user, b->url->host,
                  temp ? "failed" : "refused", octstr_get_cstr(t));
    octstr_destroy(t);
    return -1;
}

static int do_login(MailBox *b, ImapResponse *r)
{
    ImapSession *s = b->session;
    const Octstr *user = b->url->user, *pass = b->secret;
    int plain = has_cap(b, CAP_AUTH_PLAIN);
    int disabled = has_cap(b, CAP_LOGINDISABLED);
    Octstr *sasl;
    ImapCmd *c;

    if (plain && (disabled || !imap_quotable(user) ||
                  !imap_quotable(pass))) {
        c = cmd_new(s, "AUTHENTICATE", login_done);
        c->sensitive = 1;
        c->barrier = 1;
        sasl = octstr_create("");
        octstr_append_char(sasl, 0);
        octstr_append(sasl, user);
        octstr_append_char(sasl, 0);
        octstr_append(sasl, pass);
        octstr_binary_to_base64(sasl);
        octstr_strip_crlfs(sasl);
        octstr_strip_blanks(sasl);
        {   /* base64 may be wrapped: join the lines */
            Octstr *one = octstr_create("");
            long i;
            for (i = 0; i < octstr_len(sasl); i++)
                if (octstr_get_char(sasl, i) != '\r' &&
                    octstr_get_char(sasl, i) != '\n')
                    octstr_append_char(one, octstr_get_char(sasl, i));
            wipe(sasl);
            octstr_destroy(sasl);
            sasl = one;
        }
        if (has_cap(b, CAP_SASL_IR)) {
            octstr_format_append(c->text, "AUTHENTICATE PLAIN %S\r\n", sasl);
        } else {
            add_text(c, "AUTHENTICATE PLAIN\r\n");
            octstr_append_cstr(sasl, "\r\n");
            add_part(c, octstr_duplicate(sasl));
        }
        wipe(sasl);
        octstr_destroy(sasl);
        send_cmd(b, c);
        return 0;
    }
    if (disabled)
        return mail_box_fail(b, 0, "server %S refuses LOGIN "
                             "(LOGINDISABLED) and offers no AUTH=PLAIN",
                             b->url->host);
    c = cmd_new(s, "LOGIN", login_done);
    c->sensitive = 1;
    c->barrier = 1;
    add_text(c, "LOGIN ");
    add_astring(b, c, user);
    add_text(c, " ");
    add_astring(b, c, pass);
    add_text(c, "\r\n");
    send_cmd(b, c);
    return 0;
}

static void emit_baseline(MailBox *b, long uidvalidity, long uid)
{
    MailEvent *e = mail_event_new(b, MAIL_EV_BASELINE);

    debug(DBG, 0, "account <%s>: baseline UIDVALIDITY %ld UID %ld",
          octstr_get_cstr(b->key), uidvalidity, uid);
    e->uidvalidity = uidvalidity;
    e->uid = uid;
    b->uidvalidity = uidvalidity;
    b->last_uid = uid;
    mail_box_emit(b, e);
}

static int max_done(MailBox *b, ImapResponse *r)
{
    ImapSession *s = b->session;

    s->max_mode = 0;
    if (imap_response_status(r) != IMAP_STATUS_OK)
        return fail_reply(b, r, "UID FETCH");
    emit_baseline(b, s->ex_uidvalidity, s->max_uid);
    return after_sync(b);
}

static int after_examine(MailBox *b)
{
    ImapSession *s = b->session;
    ImapCmd *c;

    if (s->ex_uidvalidity <= 0)
        return mail_box_fail(b, 0, "server sent no UIDVALIDITY for "
                             "folder \"%S\"", b->url->folder);
    if (b->uidvalidity != s->ex_uidvalidity) {
        if (s->ex_uidnext > 0 || s->exists == 0) {
            emit_baseline(b, s->ex_uidvalidity,
                          s->ex_uidnext > 0 ? s->ex_uidnext - 1 : 0);
            return after_sync(b);
        }
        s->max_mode = 1;
        s->max_uid = 0;
        c = cmd_new(s, "UID FETCH", max_done);
        add_text(c, "UID FETCH * (UID)\r\n");
        send_cmd(b, c);
        return 0;
    }
    if (s->ex_uidnext <= 0 || s->ex_uidnext - 1 > b->last_uid ||
        s->need_sync)
        return start_fetch(b);
    return after_sync(b);
}

static int examine_done(MailBox *b, ImapResponse *r)
{
    ImapSession *s = b->session;
    Octstr *t;

    if (imap_response_status(r) != IMAP_STATUS_OK) {
        t = resp_text(r);
        mail_box_fail(b, 0, "cannot EXAMINE folder \"%S\": %s",
                      b->url->folder, octstr_get_cstr(t));
        octstr_destroy(t);
        return -1;
    }
    s->selected = 1;
    return after_examine(b);
}

static int start_examine(MailBox *b, ImapResponse *r)
{
    ImapSession *s = b->session;
    ImapCmd *c = cmd_new(s, "EXAMINE", examine_done);

    s->phase = IP_BUSY;
    s->ex_uidvalidity = s->ex_uidnext = 0;
    s->exists = -1;
    s->need_sync = 0;
    add_text(c, "EXAMINE ");
    add_astring(b, c, b->url->folder);
    add_text(c, "\r\n");
    send_cmd(b, c);
    return 0;
}

static int cmp_uid(const void *a, const void *b)
{
    const MailEvent *x = *(MailEvent * const *) a;
    const MailEvent *y = *(MailEvent * const *) b;

    return x->uid < y->uid ? -1 : x->uid > y->uid;
}

static int fetch_done(MailBox *b, ImapResponse *r)
{
    ImapSession *s = b->session;
    MailEvent *e, **v;
    List *l = s->fetched;
    long i, n;

    s->fetched = NULL;
    if (imap_response_status(r) != IMAP_STATUS_OK) {
        gwlist_destroy(l, (void (*)(void *)) mail_event_destroy);
        return fail_reply(b, r, "UID FETCH");
    }
    /* sort by UID ourselves: gwlist_sort's comparator contract is vague */
    n = gwlist_len(l);
    v = gw_malloc(sizeof(*v) * (n + 1));
    for (i = 0; i < n; i++)
        v[i] = gwlist_get(l, i);
    gwlist_destroy(l, NULL);
    qsort(v, n, sizeof(*v), cmp_uid);
    for (i = 0; i < n; i++) {
        e = v[i];
        if (e->uid <= b->last_uid) {
            mail_event_destroy(e);
            continue;
        }
        b->last_uid = e->uid;
        debug(DBG, 0, "account <%s>: new mail UID %ld",
              octstr_get_cstr(b->key), e->uid);
        mail_box_emit(b, e);
    }
    gw_free(v);
    return after_sync(b);
}

static int start_fetch(MailBox *b)
{
    ImapSession *s = b->session;
    ImapCmd *c = cmd_new(s, "UID FETCH", fetch_done);

    s->need_sync = 0;
    s->fetched = gwlist_create();
    octstr_format_append(c->text, "UID FETCH %ld:* (UID RFC822.SIZE "
                         "BODY.PEEK[HEADER.FIELDS (FROM SUBJECT DATE)])\r\n",
                         b->last_uid + 1);
    send_cmd(b, c);
    return 0;
}

static void enter_poll_wait(MailBox *b)
{
    ImapSession *s = b->session;

    s->phase = IP_POLL_WAIT;
    s->poll_at = mail_clock_ms() + b->w->conf.poll_interval * 1000L;
    report_waiting(b, "polling");
}

static int deselect_done(MailBox *b, ImapResponse *r)
{
    ImapSession *s = b->session;

    if (imap_response_status(r) != IMAP_STATUS_OK)
        return fail_reply(b, r, "UNSELECT/CLOSE");
    s->selected = 0;
    enter_poll_wait(b);
    return 0;
}

static int after_sync(MailBox *b)
{
    ImapSession *s = b->session;
    ImapCmd *c;

    if (s->need_sync)
        return start_fetch(b);
    if (has_cap(b, CAP_IDLE))
        return start_idle(b);
    /* polling: leave the mailbox (CLOSE never expunges after EXAMINE) */
    if (has_cap(b, CAP_UNSELECT)) {
        c = cmd_new(s, "UNSELECT", deselect_done);
        add_text(c, "UNSELECT\r\n");
    } else {
        c = cmd_new(s, "CLOSE", deselect_done);
        add_text(c, "CLOSE\r\n");
    }
    send_cmd(b, c);
    return 0;
}

static int idle_done(MailBox *b, ImapResponse *r)
{
    ImapSession *s = b->session;
    ImapCmd *c;

    s->idling = 0;
    s->done_sent = 0;
    if (imap_response_status(r) != IMAP_STATUS_OK)
        return fail_reply(b, r, "IDLE");
    if (s->fetched != NULL)
        return 0;       /* sync_now() sent the UID FETCH after DONE */
    for (c = s->pending.head; c != NULL; c = c->next)
        if (c->idle)
            return 0;   /* a server answered out of order: one IDLE */
    if (s->need_sync)
        return start_fetch(b);
    return start_idle(b);
}

static int start_idle(MailBox *b)
{
    ImapSession *s = b->session;
    ImapCmd *c = cmd_new(s, "IDLE", idle_done);

    c->barrier = 1;
    c->idle = 1;
    s->idling = 0;
    s->done_sent = 0;
    add_text(c, "IDLE\r\n");
    send_cmd(b, c);
    return 0;
}

static void leave_idle(MailBox *b)
{
    ImapSession *s = b->session;
    Octstr *done;

    if (!s->idling || s->done_sent)
        return;
    done = octstr_create("DONE\r\n");
    mail_box_send(b, done, NULL);
    octstr_destroy(done);
    s->done_sent = 1;
}

/*
 * New mail was announced (need_sync): leave IDLE and send the UID FETCH
 * right behind DONE instead of waiting a round trip for IDLE's tagged OK.
 * RFC 2177 forbids commands only while the server waits for DONE; after
 * it the FETCH is an ordinary pipelined command, and it depends on
 * nothing IDLE's completion could change (UIDs, not sequence numbers).
 * may_send() lets it past the IDLE barrier once DONE is out; idle_done()
 * then leaves the rest to fetch_done().
 */
static void sync_now(MailBox *b)
{
    ImapSession *s = b->session;

    leave_idle(b);
    if (s->idling && s->done_sent && s->need_sync && s->fetched == NULL &&
        !s->max_mode)
        start_fetch(b);
}

static int status_done(MailBox *b, ImapResponse *r)
{
    ImapSession *s = b->session;

    if (imap_response_status(r) != IMAP_STATUS_OK)
        return fail_reply(b, r, "STATUS");
    if (s->st_uidvalidity != b->uidvalidity ||
        s->st_uidnext <= 0 || s->st_uidnext - 1 > b->last_uid)
        return start_examine(b, r);
    enter_poll_wait(b);
    return 0;
}

static int start_status(MailBox *b)
{
    ImapSession *s = b->session;
    ImapCmd *c = cmd_new(s, "STATUS", status_done);

    s->phase = IP_BUSY;
    s->st_uidvalidity = s->st_uidnext = 0;
    add_text(c, "STATUS ");
    add_astring(b, c, b->url->folder);
    add_text(c, " (UIDNEXT UIDVALIDITY)\r\n");
    send_cmd(b, c);
    return 0;
}

/* --- responses ------------------------------------------------------- */

static void untagged_fetch(MailBox *b, ImapResponse *r)
{
    ImapSession *s = b->session;
    ImapArg *list = imap_arg_nth(r->args, 2);
    Octstr *hdr;
    long uid;
    MailEvent *e;

    if (list == NULL || list->type != IMAP_ARG_LIST)
        return;
    uid = imap_arg_number(imap_arg_find_value(list->list, "UID"));
    if (uid <= 0)
        return;
    if (s->max_mode) {
        if (uid > s->max_uid)
            s->max_uid = uid;
        return;
    }
    hdr = imap_arg_string(imap_arg_find_value(list->list, "BODY["));
    if (s->fetched == NULL || uid <= b->last_uid || hdr == NULL)
        return;
    e = mail_event_new(b, MAIL_EV_NEW);
    e->uidvalidity = b->uidvalidity;
    e->uid = uid;
    e->size = imap_arg_number(imap_arg_find_value(list->list,
                                                  "RFC822.SIZE"));
    e->from = mail_header_value(hdr, "From");
    e->subject = mail_header_value(hdr, "Subject");
    e->date = mail_header_value(hdr, "Date");
    gwlist_append(s->fetched, e);
}

static void untagged_status(MailBox *b, ImapResponse *r)
{
    ImapSession *s = b->session;
    ImapArg *list = imap_arg_nth(r->args, 2);

    if (list == NULL || list->type != IMAP_ARG_LIST)
        return;
    s->st_uidnext = imap_arg_number(imap_arg_find_value(list->list,
                                                        "UIDNEXT"));
    s->st_uidvalidity = imap_arg_number(imap_arg_find_value(list->list,
                                                       "UIDVALIDITY"));
}

static void resp_code(MailBox *b, ImapResponse *r)
{
    ImapSession *s = b->session;

    if (r->code == NULL)
        return;
    if (octstr_str_case_compare(r->code, "CAPABILITY") == 0)
        set_caps(b, r->code_args, 0);
    else if (octstr_str_case_compare(r->code, "UIDVALIDITY") == 0)
        s->ex_uidvalidity = imap_arg_number(imap_arg_nth(r->code_args, 0));
    else if (octstr_str_case_compare(r->code, "UIDNEXT") == 0)
        s->ex_uidnext = imap_arg_number(imap_arg_nth(r->code_args, 0));
}

static int greeting(MailBox *b, ImapResponse *r)
{
    ImapSession *s = b->session;
    ImapStatus st = imap_response_status(r);
    Octstr *t;

    if (r->kind != IMAP_RESP_UNTAGGED ||
        (st != IMAP_STATUS_OK && st != IMAP_STATUS_PREAUTH)) {
        t = resp_text(r);
        mail_box_fail(b, 0, "server %S refused the connection: %s",
                      b->url->host, octstr_get_cstr(t));
        octstr_destroy(t);
        return -1;
    }
    s->phase = IP_BUSY;
    if (st == IMAP_STATUS_PREAUTH) {
        if (b->url->tls == MAILURL_TLS_STARTTLS &&
            !mail_stream_is_tls(b->st))
            return mail_box_fail(b, 0, "server %S sent PREAUTH, so "
                                 "STARTTLS is impossible", b->url->host);
        if (!s->caps_known)
            return send_capability(b, start_examine);
        return start_examine(b, r);
    }
    return after_greeting(b, r);
}

static int untagged(MailBox *b, ImapResponse *r)
{
    ImapSession *s = b->session;
    ImapStatus st = imap_response_status(r);
    ImapArg *a1 = imap_arg_nth(r->args, 1);
    long n = imap_arg_number(imap_arg_nth(r->args, 0));
    Octstr *t;

    resp_code(b, r);
    if (s->phase == IP_GREETING)
        return greeting(b, r);
    if (st == IMAP_STATUS_BYE) {
        t = resp_text(r);
        mail_box_fail(b, 0, "server %S closed the session: %s",
                      b->url->host, octstr_get_cstr(t));
        octstr_destroy(t);
        return -1;
    }
    if (st != IMAP_STATUS_NONE)
        return 0;
    if (imap_arg_atom_is(imap_arg_nth(r->args, 0), "CAPABILITY")) {
        set_caps(b, r->args, 1);
    } else if (imap_arg_atom_is(imap_arg_nth(r->args, 0), "STATUS")) {
        untagged_status(b, r);
    } else if (n >= 0 && imap_arg_atom_is(a1, "EXISTS")) {
        if (s->selected && s->exists >= 0 && n > s->exists) {
            s->need_sync = 1;
            sync_now(b);
        }
        s->exists = n;
    } else if (n >= 0 && imap_arg_atom_is(a1, "EXPUNGE")) {
        if (s->exists > 0)
            s->exists--;
    } else if (n >= 0 && imap_arg_atom_is(a1, "FETCH")) {
        untagged_fetch(b, r);
    }
    return 0;
}

static int continuation(MailBox *b)
{
    ImapSession *s = b->session;
    ImapCmd *c = s->cont_wait, *first;
    Octstr *part;

    if (c != NULL) {
        part = gwlist_extract_first(c->more);
        mail_box_send(b, part, c->sensitive ? "<redacted>" : NULL);
        if (c->sensitive)
            wipe(part);
        octstr_destroy(part);
        if (gwlist_len(c->more) == 0)
            s->cont_wait = NULL;
        pump(b);
        return 0;
    }
    first = s->inflight.head;
    if (first != NULL && first->idle && !s->idling) {
        s->idling = 1;
        s->idle_since = mail_clock_ms();
        report_waiting(b, "idle");
        if (s->need_sync)
            sync_now(b);
        return 0;
    }
    return mail_box_fail(b, 0, "server %S sent an unexpected "
                         "continuation", b->url->host);
}

static int tagged(MailBox *b, ImapResponse *r)
{
    ImapSession *s = b->session;
    ImapCmd *c, *prev = NULL;
    char tag[32];
    int ret;

    for (c = s->inflight.head; c != NULL; prev = c, c = c->next) {
        snprintf(tag, sizeof(tag), "W%ld", c->tag);
        if (octstr_str_compare(r->tag, tag) == 0)
            break;
    }
    if (c == NULL)
        return mail_box_fail(b, 0, "server %S answered an unknown command",
                             b->url->host);
    q_unlink(&s->inflight, prev, c);
    if (s->cont_wait == c)
        s->cont_wait = NULL;
    resp_code(b, r);
    ret = c->done(b, r);
    cmd_destroy(c);
    return ret;
}

static void log_resp(MailBox *b, ImapResponse *r)
{
    Octstr *o, *p;
    long i;

    o = octstr_create(r->kind == IMAP_RESP_TAGGED ? octstr_get_cstr(r->tag)
                      : r->kind == IMAP_RESP_UNTAGGED ? "*" : "+");
    for (i = 0; i < gwlist_len(r->args) && i < 3; i++) {
        ImapArg *a = gwlist_get(r->args, i);
        octstr_append_cstr(o, " ");
        if (a->type == IMAP_ARG_ATOM)
            octstr_append(o, a->str);
        else
            octstr_append_cstr(o, a->type == IMAP_ARG_LIST ? "(...)"
                                                           : "<string>");
    }
    if (r->code != NULL)
        octstr_format_append(o, " [%S]", r->code);
    if (octstr_len(r->text) > 0)
        octstr_format_append(o, " %S", r->text);
    p = mail_printable(o, 200);
    debug(DBG, 0, "account <%s>: S: %s", octstr_get_cstr(b->key),
          octstr_get_cstr(p));
    octstr_destroy(p);
    octstr_destroy(o);
}

static void update_deadline(MailBox *b)
{
    ImapSession *s = b->session;
    long long now = mail_clock_ms(), a, w;
    ImapCmd *c;

    if (s->phase == IP_GREETING)
        return;
    if (s->idling && !s->done_sent) {
        a = s->idle_since + b->w->conf.idle_refresh * 1000L;
        w = b->last_rx_ms + MAIL_READ_WATCHDOG * 1000L;
        b->deadline_ms = a < w ? a : w;
    } else if (s->inflight.len > 0 || s->pending.len > 0) {
        c = s->inflight.head;
        b->deadline_ms = now + (mail_box_timeout(b) +
                                (c != NULL && c->sensitive ?
                                 MAIL_AUTH_DELAY : 0)) * 1000L;
    } else if (s->phase == IP_POLL_WAIT) {
        b->deadline_ms = s->poll_at;
    }
}

/* --- entry points ---------------------------------------------------- */

static ImapParser *parser_new(void)
{
    ImapParserLimits lim;

    lim.max_line = MAIL_MAX_LINE;
    lim.max_literal = MAIL_MAX_LITERAL;
    lim.max_depth = MAIL_MAX_DEPTH;
    lim.max_args = 10000;
    lim.max_response = 2 * MAIL_MAX_LITERAL;
    return imap_parser_create(&lim);
}

int mail_imap_start(MailBox *b)
{
    ImapSession *s = gw_malloc(sizeof(*s));

    memset(s, 0, sizeof(*s));
    s->parser = parser_new();
    s->phase = IP_GREETING;
    s->exists = -1;
    b->session = s;
    octstr_destroy(b->caps);
    b->caps = NULL;
    b->deadline_ms = mail_clock_ms() + mail_box_timeout(b) * 1000L;
    return 0;
}

int mail_imap_tls_done(MailBox *b)
{
    ImapSession *s = b->session;

    if (s->parser != NULL)
        imap_parser_reset(s->parser);
    send_capability(b, after_greeting);
    update_deadline(b);
    return 0;
}

int mail_imap_input(MailBox *b, const char *data, long len)
{
    ImapSession *s = b->session;
    ImapResponse *r;
    size_t used;
    int ret;

    if (s->parser == NULL)
        s->parser = parser_new();
    while (len > 0) {
        ret = imap_parser_feed(s->parser, data, len, &used, &r);
        data += used;
        len -= used;
        if (ret == IMAP_PARSE_ERROR)
            return mail_box_fail(b, 0, "bad response from server %S: %s",
                                 b->url->host, imap_parser_error(s->parser));
        if (ret == IMAP_PARSE_NEED_MORE)
            break;
        log_resp(b, r);
        if (r->kind == IMAP_RESP_TAGGED)
            ret = tagged(b, r);
        else if (r->kind == IMAP_RESP_CONTINUATION)
            ret = continuation(b);
        else
            ret = untagged(b, r);
        imap_response_destroy(r);
        if (ret < 0)
            return -1;
        if (b->phase == BOX_TLS) {
            if (len > 0)
                return mail_box_fail(b, 0, "server %S sent data after "
                                     "accepting STARTTLS", b->url->host);
            return 0;
        }
    }
    pump(b);
    update_deadline(b);
    /* an idling session hears from the server every few minutes: do
     * not keep a parser per mailbox for that */
    if (s->idling && !s->done_sent && !imap_parser_busy(s->parser)) {
        imap_parser_destroy(s->parser);
        s->parser = NULL;
    }
    return 0;
}

int mail_imap_timeout(MailBox *b)
{
    ImapSession *s = b->session;
    long long now = mail_clock_ms();
    ImapCmd *c;

    if (s->phase == IP_GREETING)
        return mail_box_fail(b, 0, "no greeting from server %S within "
                             "%ld s", b->url->host, mail_box_timeout(b));
    if (s->idling && !s->done_sent) {
        if (now >= b->last_rx_ms + MAIL_READ_WATCHDOG * 1000L)
            return mail_box_fail(b, 0, "no data from server %S for %d s "
                                 "while idling", b->url->host,
                                 MAIL_READ_WATCHDOG);
        debug(DBG, 0, "account <%s>: refreshing IDLE",
              octstr_get_cstr(b->key));
        leave_idle(b);
        update_deadline(b);
        return 0;
    }
    c = s->inflight.head;
    if (c != NULL)
        return mail_box_fail(b, 0, "server %S did not answer %s within "
                             "%ld s", b->url->host, c->name,
                             mail_box_timeout(b) +
                             (c->sensitive ? MAIL_AUTH_DELAY : 0));
    if (s->phase == IP_POLL_WAIT) {
        start_status(b);
        update_deadline(b);
        return 0;
    }
    return mail_box_fail(b, 0, "IMAP session with %S stalled",
                         b->url->host);
}

void mail_imap_free(MailBox *b)
{
    ImapSession *s = b->session;

    if (s == NULL)
        return;
    imap_parser_destroy(s->parser);
    q_clear(&s->pending);
    q_clear(&s->inflight);
    if (s->fetched != NULL)
        gwlist_destroy(s->fetched, (void (*)(void *)) mail_event_destroy);
    gw_free(s);
    b->session = NULL;
}
