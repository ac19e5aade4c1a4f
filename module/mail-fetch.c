/*
 * mail-fetch.c - short blocking mail transfers: login check, fetch one mail.
 *
 * Each call builds its own connection from mail-tls.h's nonblocking
 * stream and waits with poll(2) against one deadline per network step.
 * IMAP replies go through imap-parser; POP3 replies are read as lines.
 * See mail-fetch.h for the contract.
 * Logs: debug under "box.mail.fetch"; LOGIN, AUTHENTICATE, USER and PASS
 * are redacted.
 */
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "imap-parser.h"
#include "mail-fetch.h"
#include "mail-tls.h"

#define DBG "box.mail.fetch"
/* servers delay failed logins (Dovecot up to 15 s): allow for it */
#define AUTH_DELAY_MS 20000

typedef struct {
    const MailUrl *url;
    const Octstr *secret;
    const Octstr *ca_file;
    long timeout_ms;
    MailTls *tls;
    MailStream *st;
    ImapParser *parser;     /* IMAP */
    Octstr *in;             /* unparsed input */
    Octstr *err;            /* the first error */
    int gone;               /* the message does not exist (-2) */
    long tag_no;
    Octstr *caps;
    /* EXAMINE / FETCH results */
    long uidvalidity;
    long want_uid;
    long got_size;
    Octstr *body;
} Fetch;

static void wipe(Octstr *s)
{
    if (s != NULL && octstr_len(s) > 0)
        OPENSSL_cleanse(octstr_get_cstr(s), octstr_len(s));
}

static int set_err(Fetch *f, Octstr *msg)
{
    if (f->err == NULL)
        f->err = msg;
    else
        octstr_destroy(msg);
    return -1;
}

/* Wait until the stream is ready for its events or the step times out. */
static int wait_io(Fetch *f, int events, const char *what)
{
    struct pollfd pfd;
    long long deadline = mail_clock_ms() + f->timeout_ms, now;
    int ret;

    for (;;) {
        now = mail_clock_ms();
        if (now >= deadline)
            return set_err(f, octstr_format("%s %S timed out after %ld s",
                           what, f->url->host, f->timeout_ms / 1000));
        pfd.fd = mail_stream_fd(f->st);
        pfd.events = events;
        pfd.revents = 0;
        ret = poll(&pfd, 1, (int) (deadline - now));
        if (ret > 0)
            return 0;
        if (ret < 0 && errno != EINTR)
            return set_err(f, octstr_format("poll failed: %s",
                                            strerror(errno)));
    }
}

static int do_connect(Fetch *f)
{
    struct addrinfo hints, *res = NULL, *ai;
    char port[16];
    Octstr *err = NULL;
    int fd, ret;

    memset(&hints, 0, sizeof(hints));
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV | AI_ADDRCONFIG;
    snprintf(port, sizeof(port), "%ld", f->url->port);
    ret = getaddrinfo(octstr_get_cstr(f->url->host), port, &hints, &res);
    if (ret != 0)
        return set_err(f, octstr_format("cannot resolve %S: %s",
                                        f->url->host, gai_strerror(ret)));
    for (ai = res; ai != NULL; ai = ai->ai_next) {
        octstr_destroy(err);
        err = NULL;
        fd = mail_sock_connect(ai->ai_addr, ai->ai_addrlen, &err);
        if (fd < 0)
            continue;
        f->st = mail_stream_create(fd);
        if (wait_io(f, POLLOUT, "connecting to") < 0) {
            freeaddrinfo(res);
            return -1;
        }
        if (mail_sock_connect_done(fd, &err) == 0)
            break;
        mail_stream_destroy(f->st);
        f->st = NULL;
    }
    freeaddrinfo(res);
    if (f->st == NULL)
        return set_err(f, octstr_format("cannot connect to %S port %ld: %S",
                       f->url->host, f->url->port,
                       err ? err : octstr_imm("no address")));
    octstr_destroy(err);
    return 0;
}

static int do_tls(Fetch *f)
{
    Octstr *err = NULL;
    int ret;

    if (f->tls == NULL) {
        f->tls = mail_tls_create(f->ca_file, &err);
        if (f->tls == NULL)
            return set_err(f, err);
    }
    if (mail_stream_start_tls(f->st, f->tls, f->url->host, &err) < 0)
        return set_err(f, err);
    while ((ret = mail_stream_handshake(f->st, &err)) == 1) {
        if (wait_io(f, mail_stream_events(f->st), "TLS handshake with") < 0)
            return -1;
    }
    if (ret < 0)
        return set_err(f, err);
    return 0;
}

static int send_data(Fetch *f, const Octstr *data, const char *logas)
{
    Octstr *err = NULL, *p;
    int ret;

    if (logas != NULL) {
        debug(DBG, 0, "C: %s", logas);
    } else {
        p = octstr_duplicate(data);
        octstr_strip_crlfs(p);
        debug(DBG, 0, "C: %s", octstr_get_cstr(p));
        octstr_destroy(p);
    }
    mail_stream_write_str(f->st, data);
    while ((ret = mail_stream_flush(f->st, &err)) == 1) {
        if (wait_io(f, mail_stream_events(f->st), "writing to") < 0)
            return -1;
    }
    return ret < 0 ? set_err(f, err) : 0;
}

/* Read more bytes into f->in (waits). */
static int read_more(Fetch *f)
{
    char buf[16384];
    Octstr *err = NULL;
    long n;

    for (;;) {
        n = mail_stream_read(f->st, buf, sizeof(buf), &err);
        if (n > 0) {
            octstr_append_data(f->in, buf, n);
            return 0;
        }
        if (n < 0)
            return set_err(f, octstr_format("reading from %S: %S",
                                            f->url->host, err));
        if (wait_io(f, mail_stream_events(f->st), "reading from") < 0)
            return -1;
    }
}

static Fetch *fetch_new(const MailUrl *url, const Octstr *secret,
                        const Octstr *ca_file, long timeout, long max_lit)
{
    Fetch *f = gw_malloc(sizeof(*f));
    ImapParserLimits lim;

    memset(f, 0, sizeof(*f));
    f->url = url;
    f->secret = secret;
    f->ca_file = ca_file;
    f->timeout_ms = (timeout > 0 ? timeout : 30) * 1000L;
    f->in = octstr_create("");
    lim.max_line = 64 * 1024;
    lim.max_literal = max_lit;
    lim.max_depth = 16;
    lim.max_args = 10000;
    lim.max_response = max_lit + 128 * 1024;
    f->parser = imap_parser_create(&lim);
    return f;
}

static void fetch_free(Fetch *f)
{
    mail_stream_destroy(f->st);
    mail_tls_destroy(f->tls);
    imap_parser_destroy(f->parser);
    octstr_destroy(f->in);
    octstr_destroy(f->err);
    octstr_destroy(f->caps);
    octstr_destroy(f->body);
    gw_free(f);
}

static Octstr *printable(const Octstr *s)
{
    Octstr *o = octstr_create("");
    long i;
    int c;

    for (i = 0; i < octstr_len(s) && i < 200; i++) {
        c = octstr_get_char(s, i);
        octstr_append_char(o, (c >= 0x20 && c < 0x7f) ? c : '?');
    }
    return o;
}

/* --- IMAP ------------------------------------------------------------- */

static int has_cap(Fetch *f, const char *cap)
{
    Octstr *all, *w;
    int found;

    if (f->caps == NULL)
        return 0;
    all = octstr_format(" %S ", f->caps);
    w = octstr_format(" %s ", cap);
    found = octstr_case_search(all, w, 0) >= 0;
    octstr_destroy(all);
    octstr_destroy(w);
    return found;
}

static void take_caps(Fetch *f, List *args, long from)
{
    long i;
    Octstr *s;

    octstr_destroy(f->caps);
    f->caps = octstr_create("");
    for (i = from; i < gwlist_len(args); i++) {
        s = imap_arg_string(gwlist_get(args, i));
        if (s != NULL && octstr_len(f->caps) < 4096) {
            octstr_append_char(f->caps, ' ');
            octstr_append(f->caps, s);
        }
    }
}

static void imap_untagged(Fetch *f, ImapResponse *r)
{
    ImapArg *a0 = imap_arg_nth(r->args, 0), *a1 = imap_arg_nth(r->args, 1);
    ImapArg *l, *body;
    long uid;

    if (r->code != NULL) {
        if (octstr_str_case_compare(r->code, "CAPABILITY") == 0)
            take_caps(f, r->code_args, 0);
        else if (octstr_str_case_compare(r->code, "UIDVALIDITY") == 0)
            f->uidvalidity = imap_arg_number(imap_arg_nth(r->code_args, 0));
    }
    if (imap_arg_atom_is(a0, "CAPABILITY"))
        take_caps(f, r->args, 1);
    if (imap_arg_number(a0) >= 0 && imap_arg_atom_is(a1, "FETCH")) {
        l = imap_arg_nth(r->args, 2);
        if (l == NULL || l->type != IMAP_ARG_LIST)
            return;
        uid = imap_arg_number(imap_arg_find_value(l->list, "UID"));
        body = imap_arg_find_value(l->list, "BODY[");
        if (uid != f->want_uid || f->want_uid <= 0)
            return;
        f->got_size = imap_arg_number(imap_arg_find_value(l->list,
                                                          "RFC822.SIZE"));
        if (body != NULL && imap_arg_string(body) != NULL &&
            f->body == NULL)
            f->body = octstr_duplicate(imap_arg_string(body));
    }
}

/* Read responses until one is complete; returns it or NULL on error. */
static ImapResponse *imap_next(Fetch *f)
{
    ImapResponse *r;
    size_t used;
    int ret;

    for (;;) {
        if (octstr_len(f->in) > 0) {
            ret = imap_parser_feed(f->parser, octstr_get_cstr(f->in),
                                   octstr_len(f->in), &used, &r);
            octstr_delete(f->in, 0, used);
            if (ret == IMAP_PARSE_ERROR) {
                set_err(f, octstr_format("bad response from %S: %s",
                        f->url->host, imap_parser_error(f->parser)));
                return NULL;
            }
            if (ret == IMAP_PARSE_DONE)
                return r;
        }
        if (read_more(f) < 0)
            return NULL;
    }
}

/* Send a command made of `parts' (each after a "+" but the first; the
 * first lacks the tag) and wait for its tagged reply.  Returns the
 * tagged response (caller frees) or NULL. */
static ImapResponse *imap_cmd(Fetch *f, List *parts, const char *logas)
{
    Octstr *tag = octstr_format("F%ld", ++f->tag_no);
    Octstr *line = octstr_format("%S %S", tag, gwlist_get(parts, 0));
    Octstr *redact = logas ? octstr_format("%S %s", tag, logas) : NULL;
    ImapResponse *r;
    long next = 1;
    int ret;

    ret = send_data(f, line, redact ? octstr_get_cstr(redact) : NULL);
    wipe(line);
    octstr_destroy(line);
    octstr_destroy(redact);
    if (ret < 0) {
        octstr_destroy(tag);
        return NULL;
    }
    while ((r = imap_next(f)) != NULL) {
        if (r->kind == IMAP_RESP_TAGGED &&
            octstr_compare(r->tag, tag) == 0)
            break;
        if (r->kind == IMAP_RESP_CONTINUATION) {
            if (next >= gwlist_len(parts)) {
                imap_response_destroy(r);
                set_err(f, octstr_format("unexpected continuation from %S",
                                         f->url->host));
                r = NULL;
                break;
            }
            if (send_data(f, gwlist_get(parts, next++),
                          logas ? "<redacted>" : NULL) < 0) {
                imap_response_destroy(r);
                r = NULL;
                break;
            }
        } else if (r->kind == IMAP_RESP_UNTAGGED) {
            if (imap_response_status(r) == IMAP_STATUS_BYE) {
                Octstr *t = printable(r->text);
                set_err(f, octstr_format("server %S closed the session: %S",
                                         f->url->host, t));
                octstr_destroy(t);
                imap_response_destroy(r);
                r = NULL;
                break;
            }
            imap_untagged(f, r);
        }
        imap_response_destroy(r);
    }
    octstr_destroy(tag);
    return r;
}

static ImapResponse *imap_simple(Fetch *f, const char *text)
{
    List *parts = gwlist_create();
    ImapResponse *r;

    gwlist_append(parts, octstr_create(text));
    r = imap_cmd(f, parts, NULL);
    gwlist_destroy(parts, octstr_destroy_item);
    return r;
}

/* Check that `r' is a tagged OK; otherwise set an error naming `what'. */
static int imap_ok(Fetch *f, ImapResponse *r, const char *what)
{
    Octstr *t;

    if (r == NULL)
        return -1;
    if (imap_response_status(r) == IMAP_STATUS_OK) {
        imap_response_destroy(r);
        return 0;
    }
    t = printable(r->text);
    set_err(f, octstr_format("%s failed on %S: %S", what, f->url->host, t));
    octstr_destroy(t);
    imap_response_destroy(r);
    return -1;
}

static void add_astring(Fetch *f, List *parts, const Octstr *s)
{
    Octstr *last = gwlist_get(parts, gwlist_len(parts) - 1);

    if (imap_quotable(s)) {
        imap_append_quoted(last, s);
    } else if (has_cap(f, "LITERAL+")) {
        octstr_format_append(last, "{%ld+}\r\n", octstr_len(s));
        octstr_append(last, s);
    } else {
        octstr_format_append(last, "{%ld}\r\n", octstr_len(s));
        gwlist_append(parts, octstr_duplicate(s));
    }
}

static void parts_destroy(List *parts)
{
    Octstr *p;

    while ((p = gwlist_extract_first(parts)) != NULL) {
        wipe(p);
        octstr_destroy(p);
    }
    gwlist_destroy(parts, NULL);
}

static int imap_login(Fetch *f)
{
    ImapResponse *r;
    List *parts;
    Octstr *sasl, *t;
    ImapStatus st;

    r = imap_next(f);
    if (r == NULL)
        return -1;
    if (imap_response_status(r) != IMAP_STATUS_OK) {
        t = printable(r->text);
        set_err(f, octstr_format("server %S refused the connection: %S",
                                 f->url->host, t));
        octstr_destroy(t);
        imap_response_destroy(r);
        return -1;
    }
    imap_untagged(f, r);
    imap_response_destroy(r);
    if (f->caps == NULL && imap_ok(f, imap_simple(f, "CAPABILITY\r\n"),
                                   "CAPABILITY") < 0)
        return -1;
    if (f->url->tls == MAILURL_TLS_STARTTLS) {
        if (!has_cap(f, "STARTTLS"))
            return set_err(f, octstr_format("server %S does not offer "
                           "STARTTLS, which the mailbox URL requires",
                           f->url->host));
        if (imap_ok(f, imap_simple(f, "STARTTLS\r\n"), "STARTTLS") < 0)
            return -1;
        if (octstr_len(f->in) > 0)
            return set_err(f, octstr_format("server %S sent data after "
                           "accepting STARTTLS", f->url->host));
        imap_parser_reset(f->parser);
        if (do_tls(f) < 0)
            return -1;
        octstr_destroy(f->caps);
        f->caps = NULL;
        if (imap_ok(f, imap_simple(f, "CAPABILITY\r\n"), "CAPABILITY") < 0)
            return -1;
    }
    parts = gwlist_create();
    if (has_cap(f, "AUTH=PLAIN") &&
        (has_cap(f, "LOGINDISABLED") || !imap_quotable(f->url->user) ||
         !imap_quotable(f->secret))) {
        sasl = octstr_create("");
        octstr_append_char(sasl, 0);
        octstr_append(sasl, f->url->user);
        octstr_append_char(sasl, 0);
        octstr_append(sasl, f->secret);
        octstr_binary_to_base64(sasl);
        octstr_strip_blanks(sasl);
        while (octstr_search_char(sasl, '\n', 0) >= 0 ||
               octstr_search_char(sasl, '\r', 0) >= 0) {
            long i = octstr_search_char(sasl, '\n', 0);
            if (i < 0)
                i = octstr_search_char(sasl, '\r', 0);
            octstr_delete(sasl, i, 1);
        }
        if (has_cap(f, "SASL-IR")) {
            gwlist_append(parts, octstr_format("AUTHENTICATE PLAIN %S\r\n",
                                               sasl));
        } else {
            gwlist_append(parts, octstr_create("AUTHENTICATE PLAIN\r\n"));
            gwlist_append(parts, octstr_format("%S\r\n", sasl));
        }
        wipe(sasl);
        octstr_destroy(sasl);
        f->timeout_ms += AUTH_DELAY_MS;
        r = imap_cmd(f, parts, "AUTHENTICATE PLAIN <redacted>");
        f->timeout_ms -= AUTH_DELAY_MS;
    } else if (has_cap(f, "LOGINDISABLED")) {
        parts_destroy(parts);
        return set_err(f, octstr_format("server %S refuses LOGIN "
                       "(LOGINDISABLED) and offers no AUTH=PLAIN",
                       f->url->host));
    } else {
        gwlist_append(parts, octstr_create("LOGIN "));
        add_astring(f, parts, f->url->user);
        octstr_append_char(gwlist_get(parts, gwlist_len(parts) - 1), ' ');
        add_astring(f, parts, f->secret);
        octstr_append_cstr(gwlist_get(parts, gwlist_len(parts) - 1),
                           "\r\n");
        f->timeout_ms += AUTH_DELAY_MS;
        r = imap_cmd(f, parts, "LOGIN <redacted>");
        f->timeout_ms -= AUTH_DELAY_MS;
    }
    parts_destroy(parts);
    if (r == NULL)
        return -1;
    st = imap_response_status(r);
    if (st != IMAP_STATUS_OK) {
        t = printable(r->text);
        set_err(f, octstr_format("login as \"%S\" on %S refused: %S",
                                 f->url->user, f->url->host, t));
        octstr_destroy(t);
        imap_response_destroy(r);
        return -1;
    }
    imap_response_destroy(r);
    return 0;
}

static int imap_session(Fetch *f)
{
    if (do_connect(f) < 0)
        return -1;
    if (f->url->tls == MAILURL_TLS_IMPLICIT && do_tls(f) < 0)
        return -1;
    return imap_login(f);
}

static void imap_logout(Fetch *f)
{
    ImapResponse *r;
    long saved = f->timeout_ms;

    f->timeout_ms = 2000;   /* best effort */
    octstr_destroy(f->err);
    f->err = NULL;
    r = imap_simple(f, "LOGOUT\r\n");
    imap_response_destroy(r);
    f->timeout_ms = saved;
}

static int imap_fetch(Fetch *f, long uidvalidity, long uid, long max_size,
                      Octstr **raw_r)
{
    List *parts;
    ImapResponse *r;
    Octstr *cmd;
    Octstr *folder = f->url->folder ? f->url->folder : octstr_imm("INBOX");

    if (imap_session(f) < 0)
        return -1;
    parts = gwlist_create();
    gwlist_append(parts, octstr_create("EXAMINE "));
    add_astring(f, parts, folder);
    octstr_append_cstr(gwlist_get(parts, gwlist_len(parts) - 1), "\r\n");
    r = imap_cmd(f, parts, NULL);
    parts_destroy(parts);
    if (imap_ok(f, r, "EXAMINE") < 0)
        return -1;
    if (f->uidvalidity != uidvalidity) {
        f->gone = 1;
        imap_logout(f);
        return set_err(f, octstr_format("folder \"%S\" changed its "
                       "UIDVALIDITY (%ld, expected %ld): the message is "
                       "gone", folder, f->uidvalidity, uidvalidity));
    }
    f->want_uid = uid;
    f->got_size = -1;
    cmd = octstr_format("UID FETCH %ld (UID RFC822.SIZE BODY.PEEK[]<0.%ld>)"
                        "\r\n", uid, max_size);
    r = imap_simple(f, octstr_get_cstr(cmd));
    octstr_destroy(cmd);
    if (imap_ok(f, r, "UID FETCH") < 0)
        return -1;
    if (f->body == NULL) {
        f->gone = 1;
        imap_logout(f);
        return set_err(f, octstr_format("no message with UID %ld in folder "
                       "\"%S\": it is gone", uid, folder));
    }
    *raw_r = f->body;
    f->body = NULL;
    imap_logout(f);
    if (f->got_size > max_size || octstr_len(*raw_r) > max_size) {
        if (octstr_len(*raw_r) > max_size)
            octstr_truncate(*raw_r, max_size);
        return 1;
    }
    return 0;
}

/* --- POP3 ------------------------------------------------------------- */

/* Read one line (CRLF or LF stripped) into *line_r. */
static int pop3_line(Fetch *f, Octstr **line_r)
{
    long eol;

    while ((eol = octstr_search_char(f->in, '\n', 0)) < 0) {
        if (octstr_len(f->in) > 64 * 1024)
            return set_err(f, octstr_format("POP3 server %S sent an "
                           "over-long line", f->url->host));
        if (read_more(f) < 0)
            return -1;
    }
    *line_r = octstr_copy(f->in, 0, eol);
    octstr_delete(f->in, 0, eol + 1);
    if (octstr_get_char(*line_r, octstr_len(*line_r) - 1) == '\r')
        octstr_delete(*line_r, octstr_len(*line_r) - 1, 1);
    return 0;
}

/* Send `cmd' (NULL: just read the greeting) and read the status line.
 * Returns 0 on +OK, -1 with f->err on -ERR or failure (*status_r gets
 * the line if not NULL). */
static int pop3_cmd(Fetch *f, Octstr *cmd, const char *logas,
                    const char *what, Octstr **status_r)
{
    Octstr *line = NULL, *t;
    int ret = 0;

    if (cmd != NULL) {
        octstr_append_cstr(cmd, "\r\n");
        ret = send_data(f, cmd, logas);
        wipe(cmd);
        octstr_destroy(cmd);
        if (ret < 0)
            return -1;
    }
    if (pop3_line(f, &line) < 0)
        return -1;
    t = printable(line);
    debug(DBG, 0, "S: %s", octstr_get_cstr(t));
    octstr_destroy(t);
    if (octstr_str_ncompare(line, "+OK", 3) != 0) {
        t = printable(line);
        set_err(f, octstr_format("%s failed on %S: %S", what,
                                 f->url->host, t));
        octstr_destroy(t);
        ret = -1;
    }
    if (status_r != NULL)
        *status_r = line;
    else
        octstr_destroy(line);
    return ret;
}

/* Read a multi-line body (unstuffed, CRLF lines).  Stops storing after
 * `max' bytes and returns 1 then (the rest is not read); else 0. */
static int pop3_multi(Fetch *f, long max, Octstr **body_r)
{
    Octstr *body = octstr_create(""), *line;

    for (;;) {
        if (pop3_line(f, &line) < 0) {
            octstr_destroy(body);
            return -1;
        }
        if (octstr_str_compare(line, ".") == 0) {
            octstr_destroy(line);
            *body_r = body;
            return 0;
        }
        if (octstr_get_char(line, 0) == '.')
            octstr_delete(line, 0, 1);
        octstr_append(body, line);
        octstr_append_cstr(body, "\r\n");
        octstr_destroy(line);
        if (octstr_len(body) > max) {
            octstr_truncate(body, max);
            *body_r = body;
            return 1;
        }
    }
}

static int pop3_session(Fetch *f)
{
    Octstr *line = NULL;
    int ret;

    if (do_connect(f) < 0)
        return -1;
    if (f->url->tls == MAILURL_TLS_IMPLICIT && do_tls(f) < 0)
        return -1;
    if (pop3_cmd(f, NULL, NULL, "greeting", NULL) < 0)
        return -1;
    if (f->url->tls == MAILURL_TLS_STARTTLS) {
        if (pop3_cmd(f, octstr_create("STLS"), NULL, "STLS", NULL) < 0)
            return -1;
        if (octstr_len(f->in) > 0)
            return set_err(f, octstr_format("server %S sent data after "
                           "accepting STLS", f->url->host));
        if (do_tls(f) < 0)
            return -1;
    }
    if (octstr_search_char(f->url->user, '\n', 0) >= 0 ||
        octstr_search_char(f->url->user, '\r', 0) >= 0 ||
        octstr_search_char(f->secret, '\n', 0) >= 0 ||
        octstr_search_char(f->secret, '\r', 0) >= 0)
        return set_err(f, octstr_create("user name or password holds a "
                       "line break, which POP3 cannot send"));
    ret = pop3_cmd(f, octstr_format("USER %S", f->url->user),
                   "USER <redacted>", "USER", &line);
    if (ret == 0) {
        octstr_destroy(line);
        line = NULL;
        f->timeout_ms += AUTH_DELAY_MS;
        ret = pop3_cmd(f, octstr_format("PASS %S", f->secret),
                       "PASS <redacted>", "PASS", &line);
        f->timeout_ms -= AUTH_DELAY_MS;
    }
    if (ret < 0 && line != NULL) {
        Octstr *t = printable(line);
        octstr_destroy(f->err);
        f->err = octstr_format("login as \"%S\" on %S refused: %S",
                               f->url->user, f->url->host, t);
        octstr_destroy(t);
    }
    octstr_destroy(line);
    return ret;
}

static int pop3_fetch(Fetch *f, const Octstr *uidl, long max_size,
                      Octstr **raw_r)
{
    Octstr *body = NULL, *line;
    List *lines, *w;
    long num = -1;
    int ret;

    if (pop3_session(f) < 0)
        return -1;
    if (pop3_cmd(f, octstr_create("UIDL"), NULL, "UIDL", NULL) < 0 ||
        pop3_multi(f, 16 * 1024 * 1024, &body) != 0)
        return -1;
    lines = octstr_split(body, octstr_imm("\r\n"));
    octstr_destroy(body);
    while ((line = gwlist_extract_first(lines)) != NULL) {
        w = octstr_split_words(line);
        if (gwlist_len(w) >= 2 && num < 0 &&
            octstr_compare(gwlist_get(w, 1), uidl) == 0)
            num = strtol(octstr_get_cstr(gwlist_get(w, 0)), NULL, 10);
        gwlist_destroy(w, octstr_destroy_item);
        octstr_destroy(line);
    }
    gwlist_destroy(lines, NULL);
    if (num <= 0) {
        f->gone = 1;
        pop3_cmd(f, octstr_create("QUIT"), NULL, "QUIT", NULL);
        return set_err(f, octstr_format("no message with UIDL \"%S\" on "
                                        "%S: it is gone", uidl,
                                        f->url->host));
    }
    if (pop3_cmd(f, octstr_format("RETR %ld", num), NULL, "RETR",
                 NULL) < 0)
        return -1;
    ret = pop3_multi(f, max_size, raw_r);
    if (ret == 0)
        pop3_cmd(f, octstr_create("QUIT"), NULL, "QUIT", NULL);
    /* ret 1: stop reading; closing without QUIT deletes nothing */
    return ret;
}

/* --- public ------------------------------------------------------------ */

static int finish(Fetch *f, int ret, Octstr **err_r)
{
    if (ret < 0 && err_r != NULL) {
        *err_r = f->err ? f->err : octstr_create("mail transfer failed");
        f->err = NULL;
    }
    if (ret < 0 && f->gone)
        ret = -2;
    fetch_free(f);
    return ret;
}

int mail_fetch_login_check(const MailUrl *url, const Octstr *secret,
                           const Octstr *ca_file, long timeout,
                           Octstr **err_r)
{
    Fetch *f = fetch_new(url, secret, ca_file, timeout, 64 * 1024);
    int ret;

    if (err_r != NULL)
        *err_r = NULL;
    if (url->proto == MAILURL_IMAP) {
        ret = imap_session(f);
        if (ret == 0)
            imap_logout(f);
    } else {
        ret = pop3_session(f);
        if (ret == 0)
            pop3_cmd(f, octstr_create("QUIT"), NULL, "QUIT", NULL);
    }
    if (ret == 0) {
        octstr_destroy(f->err);
        f->err = NULL;
    }
    return finish(f, ret, err_r);
}

int mail_fetch_message(const MailUrl *url, const Octstr *secret,
                       const Octstr *ca_file, long timeout,
                       long uidvalidity, long uid, const Octstr *uidl,
                       long max_size, Octstr **raw_r, Octstr **err_r)
{
    Fetch *f;
    int ret;

    *raw_r = NULL;
    if (err_r != NULL)
        *err_r = NULL;
    if (max_size <= 0)
        max_size = 1;
    f = fetch_new(url, secret, ca_file, timeout, max_size + 1024);
    if (url->proto == MAILURL_IMAP)
        ret = imap_fetch(f, uidvalidity, uid, max_size, raw_r);
    else if (uidl == NULL)
        ret = set_err(f, octstr_create("no UIDL given for a POP3 fetch"));
    else
        ret = pop3_fetch(f, uidl, max_size, raw_r);
    if (ret < 0) {
        octstr_destroy(*raw_r);
        *raw_r = NULL;
    }
    return finish(f, ret, err_r);
}
