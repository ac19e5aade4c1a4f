/*
 * mail-pop3.c - one POP3 poll session (for mail-watch.c's loop).
 *
 * Exports (via mail-watch-private.h): mail_pop3_start(), _input(),
 *   _tls_done(), _timeout(), _free().
 *
 * Every poll_interval the loop connects and this file runs:
 *   greeting -> [STLS] -> USER -> PASS -> UIDL -> (no baseline yet:
 *   BASELINE with every UIDL) or (new UIDLs: LIST, then TOP n 0 for each
 *   new one -> NEW with its headers and size) -> QUIT.
 * The known set becomes the current UIDL listing, so deleted mail drops
 * out.  One command at a time (POP3 has no tags).
 * Limits: line 64 KB, UIDL/LIST listing 16 MB, TOP 256 KB.
 * Logs: debug under "box.mail.pop3"; USER and PASS are redacted.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "mail-watch-private.h"

#define DBG "box.mail.pop3"

enum pop3_step {
    P_GREETING, P_STLS, P_USER, P_PASS, P_UIDL, P_LIST, P_TOP, P_QUIT
};

typedef struct {
    long num;
    Octstr *uidl;
    long size;
} Pop3Msg;

typedef struct {
    enum pop3_step step;
    Octstr *in;             /* bytes not yet split into lines */
    int multi;              /* inside a multi-line reply */
    Octstr *body;           /* multi-line data, unstuffed, CRLF lines */
    long body_max;
    List *msgs;             /* Pop3Msg * from UIDL */
    List *todo;             /* Pop3Msg * (not owned) still to TOP */
    Pop3Msg *cur;           /* being fetched with TOP */
} Pop3Session;

static const char *step_name[] = {
    "greeting", "STLS", "USER", "PASS", "UIDL", "LIST", "TOP", "QUIT"
};

static void msg_destroy(void *p)
{
    Pop3Msg *m = p;

    octstr_destroy(m->uidl);
    gw_free(m);
}

static void send_line(MailBox *b, enum pop3_step step, Octstr *line,
                      const char *redacted)
{
    Pop3Session *s = b->session;

    s->step = step;
    s->multi = 0;
    octstr_append_cstr(line, "\r\n");
    mail_box_send(b, line, redacted);
    OPENSSL_cleanse(octstr_get_cstr(line), octstr_len(line));
    octstr_destroy(line);
    b->deadline_ms = mail_clock_ms() + (mail_box_timeout(b) +
                     (step == P_PASS ? MAIL_AUTH_DELAY : 0)) * 1000L;
}

static void start_multi(Pop3Session *s, long max)
{
    s->multi = 1;
    octstr_destroy(s->body);
    s->body = octstr_create("");
    s->body_max = max;
}

static int send_quit(MailBox *b)
{
    send_line(b, P_QUIT, octstr_create("QUIT"), NULL);
    return 0;
}

static int is_temp_error(const Octstr *line)
{
    return octstr_case_search(line, octstr_imm("[IN-USE]"), 0) >= 0 ||
           octstr_case_search(line, octstr_imm("[SYS/TEMP]"), 0) >= 0;
}

static int send_user(MailBox *b)
{
    Octstr *l;

    if (octstr_search_char(b->url->user, '\r', 0) >= 0 ||
        octstr_search_char(b->url->user, '\n', 0) >= 0 ||
        octstr_search_char(b->secret, '\r', 0) >= 0 ||
        octstr_search_char(b->secret, '\n', 0) >= 0)
        return mail_box_fail(b, 1, "user name or password holds a line "
                             "break, which POP3 cannot send");
    l = octstr_format("USER %S", b->url->user);
    send_line(b, P_USER, l, "USER <redacted>");
    return 0;
}

static int next_top(MailBox *b)
{
    Pop3Session *s = b->session;

    s->cur = gwlist_extract_first(s->todo);
    if (s->cur == NULL)
        return send_quit(b);
    send_line(b, P_TOP, octstr_format("TOP %ld 0", s->cur->num), NULL);
    return 0;
}

/* Replace the known set by the current listing. */
static void remember_all(MailBox *b)
{
    Pop3Session *s = b->session;
    List *all = gwlist_create();
    Pop3Msg *m;
    long i;

    for (i = 0; i < gwlist_len(s->msgs); i++) {
        m = gwlist_get(s->msgs, i);
        gwlist_append(all, m->uidl);
    }
    mail_uidls_destroy(b->uidls);
    b->uidls = mail_uidls_from_list(all);
    gwlist_destroy(all, NULL);
}

static int uidl_done(MailBox *b)
{
    Pop3Session *s = b->session;
    List *lines = octstr_split(s->body, octstr_imm("\r\n"));
    Octstr *line, *joined;
    List *w;
    Pop3Msg *m;
    MailEvent *e;
    long i;

    s->msgs = gwlist_create();
    while ((line = gwlist_extract_first(lines)) != NULL) {
        w = octstr_split_words(line);
        if (gwlist_len(w) >= 2) {
            m = gw_malloc(sizeof(*m));
            m->num = strtol(octstr_get_cstr(gwlist_get(w, 0)), NULL, 10);
            m->uidl = octstr_duplicate(gwlist_get(w, 1));
            m->size = -1;
            if (m->num > 0 && octstr_len(m->uidl) <= 70)
                gwlist_append(s->msgs, m);
            else
                msg_destroy(m);
        }
        gwlist_destroy(w, octstr_destroy_item);
        octstr_destroy(line);
    }
    gwlist_destroy(lines, NULL);
    mail_box_set_state(b, "polling", NULL);
    if (b->uidls == NULL) {
        joined = octstr_create("");
        for (i = 0; i < gwlist_len(s->msgs); i++) {
            m = gwlist_get(s->msgs, i);
            if (i > 0)
                octstr_append_char(joined, '\n');
            octstr_append(joined, m->uidl);
        }
        e = mail_event_new(b, MAIL_EV_BASELINE);
        e->uidl = joined;
        mail_box_emit(b, e);
        debug(DBG, 0, "account <%s>: baseline of %ld UIDLs",
              octstr_get_cstr(b->key), gwlist_len(s->msgs));
        remember_all(b);
        return send_quit(b);
    }
    s->todo = gwlist_create();
    for (i = 0; i < gwlist_len(s->msgs); i++) {
        m = gwlist_get(s->msgs, i);
        if (!mail_uidls_has(b->uidls, m->uidl))
            gwlist_append(s->todo, m);
    }
    if (gwlist_len(s->todo) == 0) {
        remember_all(b);
        return send_quit(b);
    }
    send_line(b, P_LIST, octstr_create("LIST"), NULL);
    return 0;
}

static int list_done(MailBox *b)
{
    Pop3Session *s = b->session;
    List *lines = octstr_split(s->body, octstr_imm("\r\n"));
    Octstr *line;
    List *w;
    Pop3Msg *m;
    long i, num;

    while ((line = gwlist_extract_first(lines)) != NULL) {
        w = octstr_split_words(line);
        if (gwlist_len(w) >= 2) {
            num = strtol(octstr_get_cstr(gwlist_get(w, 0)), NULL, 10);
            for (i = 0; i < gwlist_len(s->todo); i++) {
                m = gwlist_get(s->todo, i);
                if (m->num == num)
                    m->size = strtol(octstr_get_cstr(gwlist_get(w, 1)),
                                     NULL, 10);
            }
        }
        gwlist_destroy(w, octstr_destroy_item);
        octstr_destroy(line);
    }
    gwlist_destroy(lines, NULL);
    return next_top(b);
}

static int top_done(MailBox *b, int ok)
{
    Pop3Session *s = b->session;
    MailEvent *e;

    if (ok) {
        e = mail_event_new(b, MAIL_EV_NEW);
        e->uidl = octstr_duplicate(s->cur->uidl);
        e->size = s->cur->size;
        e->from = mail_header_value(s->body, "From");
        e->subject = mail_header_value(s->body, "Subject");
        e->date = mail_header_value(s->body, "Date");
        debug(DBG, 0, "account <%s>: new mail UIDL %s",
              octstr_get_cstr(b->key), octstr_get_cstr(s->cur->uidl));
        mail_box_emit(b, e);
        mail_uidls_add(b->uidls, s->cur->uidl);
    }
    s->cur = NULL;
    if (gwlist_len(s->todo) == 0)
        remember_all(b);
    return next_top(b);
}

/* A status line (+OK / -ERR) for the current step. */
static int status_line(MailBox *b, Octstr *line)
{
    Pop3Session *s = b->session;
    int ok = octstr_str_ncompare(line, "+OK", 3) == 0;
    Octstr *t;

    if (!ok && octstr_str_ncompare(line, "-ERR", 4) != 0) {
        t = mail_printable(line, 100);
        mail_box_fail(b, 0, "bad reply from POP3 server %S: %s",
                      b->url->host, octstr_get_cstr(t));
        octstr_destroy(t);
        return -1;
    }
    if (!ok && s->step == P_TOP)
        return top_done(b, 0);
    if (!ok) {
        t = mail_printable(line, 200);
        if (s->step == P_USER || s->step == P_PASS)
            mail_box_fail(b, !is_temp_error(line), "login as \"%S\" on %S "
                          "refused: %s", b->url->user, b->url->host,
                          octstr_get_cstr(t));
        else
            mail_box_fail(b, 0, "POP3 %s failed on %S: %s",
                          step_name[s->step], b->url->host,
                          octstr_get_cstr(t));
        octstr_destroy(t);
        return -1;
    }
    switch (s->step) {
    case P_GREETING:
        if (b->url->tls == MAILURL_TLS_STARTTLS &&
            !mail_stream_is_tls(b->st)) {
            send_line(b, P_STLS, octstr_create("STLS"), NULL);
            return 0;
        }
        return send_user(b);
    case P_STLS:
        return mail_box_start_tls(b);
    case P_USER:
        send_line(b, P_PASS, octstr_format("PASS %S", b->secret),
                  "PASS <redacted>");
        return 0;
    case P_PASS:
        debug(DBG, 0, "account <%s>: logged in", octstr_get_cstr(b->key));
        send_line(b, P_UIDL, octstr_create("UIDL"), NULL);
        return 0;
    case P_UIDL:
        start_multi(s, MAIL_POP3_MAX_MULTI);
        return 0;
    case P_LIST:
        start_multi(s, MAIL_POP3_MAX_MULTI);
        return 0;
    case P_TOP:
        start_multi(s, MAIL_POP3_MAX_TOP);
        return 0;
    case P_QUIT:
        return 1;
    }
    return 0;
}

static int multi_line(MailBox *b, Octstr *line)
{
    Pop3Session *s = b->session;

    if (octstr_str_compare(line, ".") == 0) {
        s->multi = 0;
        if (s->step == P_UIDL)
            return uidl_done(b);
        if (s->step == P_LIST)
            return list_done(b);
        return top_done(b, 1);
    }
    if (octstr_get_char(line, 0) == '.')
        octstr_delete(line, 0, 1);
    if (octstr_len(s->body) + octstr_len(line) + 2 > s->body_max)
        return mail_box_fail(b, 0, "POP3 %s reply from %S is too large",
                             step_name[s->step], b->url->host);
    octstr_append(s->body, line);
    octstr_append_cstr(s->body, "\r\n");
    return 0;
}

int mail_pop3_start(MailBox *b)
{
    Pop3Session *s = gw_malloc(sizeof(*s));

    memset(s, 0, sizeof(*s));
    s->in = octstr_create("");
    s->step = P_GREETING;
    b->session = s;
    b->deadline_ms = mail_clock_ms() + mail_box_timeout(b) * 1000L;
    return 0;
}

int mail_pop3_tls_done(MailBox *b)
{
    Pop3Session *s = b->session;

    octstr_truncate(s->in, 0);
    return send_user(b);
}

int mail_pop3_input(MailBox *b, const char *data, long len)
{
    Pop3Session *s = b->session;
    Octstr *line, *p;
    long eol;
    int ret;

    octstr_append_data(s->in, data, len);
    while ((eol = octstr_search_char(s->in, '\n', 0)) >= 0) {
        if (eol > MAIL_MAX_LINE)
            break;
        line = octstr_copy(s->in, 0, eol);
        octstr_delete(s->in, 0, eol + 1);
        if (octstr_get_char(line, octstr_len(line) - 1) == '\r')
            octstr_delete(line, octstr_len(line) - 1, 1);
        if (!s->multi) {
            p = mail_printable(line, 200);
            debug(DBG, 0, "account <%s>: S: %s", octstr_get_cstr(b->key),
                  octstr_get_cstr(p));
            octstr_destroy(p);
        }
        ret = s->multi ? multi_line(b, line) : status_line(b, line);
        octstr_destroy(line);
        if (ret != 0)
            return ret;
        if (b->phase == BOX_TLS) {
            if (octstr_len(s->in) > 0)
                return mail_box_fail(b, 0, "server %S sent data after "
                                     "accepting STLS", b->url->host);
            return 0;
        }
        b->deadline_ms = mail_clock_ms() + mail_box_timeout(b) * 1000L;
    }
    if (octstr_len(s->in) > MAIL_MAX_LINE)
        return mail_box_fail(b, 0, "POP3 server %S sent a line longer "
                             "than %d bytes", b->url->host, MAIL_MAX_LINE);
    return 0;
}

int mail_pop3_timeout(MailBox *b)
{
    Pop3Session *s = b->session;

    return mail_box_fail(b, 0, "POP3 server %S did not answer %s within "
                         "%ld s", b->url->host, step_name[s->step],
                         mail_box_timeout(b));
}

void mail_pop3_free(MailBox *b)
{
    Pop3Session *s = b->session;

    if (s == NULL)
        return;
    octstr_destroy(s->in);
    octstr_destroy(s->body);
    gwlist_destroy(s->todo, NULL);
    if (s->msgs != NULL)
        gwlist_destroy(s->msgs, msg_destroy);
    gw_free(s);
    b->session = NULL;
}
