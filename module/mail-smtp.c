/*
 * mail-smtp.c - SMTP submission and IMAP APPEND of one mail with libcurl.
 *
 * Exports: mail_smtp_url_ok(), mail_smtp_send(), mail_smtp_append()
 * (see mail-smtp.h).
 *
 * libcurl does the protocol work (EHLO, STARTTLS, AUTH, MAIL/RCPT/DATA
 * with dot-stuffing; LOGIN/AUTHENTICATE, APPEND, CREATE).  It reports
 * only a code and the last reply number, so a debug callback keeps the
 * server's reply lines (CURLINFO_HEADER_IN only: our own lines, which
 * carry the credentials, are never looked at) to give the phone the
 * server's own words.
 *
 * Limits: reasons cut to REASON_MAX printable ASCII bytes; transfers
 * abort when no byte moved for `timeout` seconds, and after
 * TOTAL_MAX seconds in any case.
 * Logs: debug under "box.mail.smtp" (host, result, reason); never
 * credentials or content.  Threads: any; one CURL handle per call.
 */
#define _GNU_SOURCE     /* memmem */
#include <ctype.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <curl/curl.h>

#include "mail-smtp.h"

#define REASON_MAX 160
#define TOTAL_MAX 600L
#define LINE_MAX_KEPT 400

typedef struct {
    int implicit;           /* smtps:// */
    int plain;              /* ?tls=none */
    Octstr *user;           /* percent-decoded, or NULL */
    Octstr *host;
    long port;
} SmtpUrl;

/* What we keep of the server's side of the dialogue. */
typedef struct {
    int imap;               /* which lines count as refusals */
    Octstr *refusal;        /* the last refusal line, or NULL */
    int trycreate;          /* an IMAP [TRYCREATE] was seen */
} Dialog;

typedef struct {
    const char *data;
    size_t left;
} Upload;

/* Progress callback: give up when told to, but only before any of the
 * mail went out (once it has, the answer decides whether it was sent). */
static int on_progress(void *ctx, curl_off_t dltotal, curl_off_t dlnow,
                       curl_off_t ultotal, curl_off_t ulnow)
{
    const volatile int *cancel = ctx;

    return cancel != NULL && *cancel && ulnow == 0;
}

static void smtp_url_clear(SmtpUrl *u)
{
    octstr_destroy(u->user);
    octstr_destroy(u->host);
    memset(u, 0, sizeof(*u));
}

static Octstr *pct_decode(const Octstr *s)
{
    Octstr *out = octstr_create("");
    long i;

    for (i = 0; i < octstr_len(s); i++) {
        int c = octstr_get_char(s, i);

        if (c == '%' && i + 2 < octstr_len(s) &&
            isxdigit(octstr_get_char(s, i + 1)) &&
            isxdigit(octstr_get_char(s, i + 2))) {
            char hex[3] = { (char) octstr_get_char(s, i + 1),
                            (char) octstr_get_char(s, i + 2), 0 };
            c = (int) strtol(hex, NULL, 16);
            i += 2;
        }
        octstr_append_char(out, c);
    }
    return out;
}

/* Split a checked SMTP URL.  0, or -1 with *err_r set. */
static int smtp_url_split(const Octstr *url, SmtpUrl *u, Octstr **err_r)
{
    Octstr *base, *auth, *hostport;
    long q, start, end, at, colon;

    memset(u, 0, sizeof(*u));
    if (url == NULL) {
        if (err_r != NULL)
            *err_r = octstr_create("no SMTP URL is set");
        return -1;
    }
    q = octstr_search_char(url, '?', 0);
    base = octstr_copy(url, 0, q < 0 ? octstr_len(url) : q);
    if (q >= 0) {
        Octstr *param = octstr_copy(url, q, octstr_len(url) - q);
        int implicit = octstr_case_search(base, octstr_imm("smtps:"), 0)
                       == 0;

        if (!implicit &&
            octstr_str_case_compare(param, "?tls=none") == 0) {
            u->plain = 1;
        } else if (implicit ||
                   octstr_str_case_compare(param, "?tls=starttls") != 0) {
            if (err_r != NULL)
                *err_r = octstr_create("an SMTP URL takes only "
                                       "?tls=starttls (the default) or "
                                       "?tls=none, and smtps:// none");
            octstr_destroy(param);
            octstr_destroy(base);
            return -1;
        }
        octstr_destroy(param);
    }
    if (mailurl_check_smtp(base, err_r) < 0) {
        octstr_destroy(base);
        return -1;
    }
    u->implicit = octstr_case_search(base, octstr_imm("smtps:"), 0) == 0;
    start = octstr_search(base, octstr_imm("://"), 0) + 3;
    end = octstr_search_char(base, '/', start);
    if (end < 0)
        end = octstr_len(base);
    auth = octstr_copy(base, start, end - start);
    octstr_destroy(base);
    at = octstr_rsearch_char(auth, '@', octstr_len(auth) - 1);
    if (at > 0) {
        Octstr *raw = octstr_copy(auth, 0, at);
        u->user = pct_decode(raw);
        octstr_destroy(raw);
    }
    hostport = octstr_copy(auth, at + 1, octstr_len(auth));
    octstr_destroy(auth);
    u->port = u->implicit ? 465 : 587;
    if (octstr_get_char(hostport, 0) == '[') {
        long close = octstr_search_char(hostport, ']', 0);
        u->host = octstr_copy(hostport, 1, close - 1);
        colon = octstr_search_char(hostport, ':', close);
    } else {
        colon = octstr_search_char(hostport, ':', 0);
        u->host = octstr_copy(hostport, 0, colon < 0 ? octstr_len(hostport)
                                                     : colon);
    }
    if (colon >= 0) {
        Octstr *p = octstr_copy(hostport, colon + 1, octstr_len(hostport));
        if (octstr_parse_long(&u->port, p, 0, 10) < 0)
            u->port = 0;
        octstr_destroy(p);
    }
    octstr_destroy(hostport);
    if (u->port <= 0 || u->port > 65535 || octstr_len(u->host) == 0) {
        if (err_r != NULL)
            *err_r = octstr_create("the SMTP URL has a bad host or port");
        smtp_url_clear(u);
        return -1;
    }
    return 0;
}

int mail_smtp_url_ok(const Octstr *url, Octstr **err_r)
{
    SmtpUrl u;

    if (err_r != NULL)
        *err_r = NULL;
    if (smtp_url_split(url, &u, err_r) < 0)
        return 0;
    smtp_url_clear(&u);
    return 1;
}

/* Printable ASCII, at most REASON_MAX bytes, trimmed. */
static Octstr *printable(const char *s, size_t n)
{
    Octstr *out = octstr_create("");
    size_t i;

    for (i = 0; i < n && octstr_len(out) < REASON_MAX; i++) {
        unsigned char c = (unsigned char) s[i];
        if (c == '\r' || c == '\n')
            break;
        octstr_append_char(out, c >= 0x20 && c < 0x7f ? c : '?');
    }
    octstr_strip_blanks(out);
    return out;
}

/* A server line that refuses: SMTP "4xx"/"5xx"; IMAP "tag NO"/"BAD". */
static int is_refusal(const char *l, size_t n, int imap)
{
    const char *sp;

    if (!imap)
        return n >= 3 && (l[0] == '4' || l[0] == '5') &&
               isdigit((unsigned char) l[1]) &&
               isdigit((unsigned char) l[2]);
    if (n < 4 || l[0] == '*' || l[0] == '+')
        return 0;
    sp = memchr(l, ' ', n);
    if (sp == NULL || (size_t) (sp - l) + 4 > n)
        return 0;
    return strncasecmp(sp + 1, "NO ", 3) == 0 ||
           strncasecmp(sp + 1, "BAD ", 4) == 0;
}

static int on_debug(CURL *h, curl_infotype type, char *data, size_t size,
                    void *ctx)
{
    Dialog *d = ctx;
    size_t i = 0, n;
    char *nl;

    if (type != CURLINFO_HEADER_IN)
        return 0;       /* never our own lines: they carry the login */
    while (i < size) {
        nl = memchr(data + i, '\n', size - i);
        n = nl ? (size_t) (nl - (data + i)) : size - i;
        if (n > LINE_MAX_KEPT)
            n = LINE_MAX_KEPT;
        if (is_refusal(data + i, n, d->imap)) {
            octstr_destroy(d->refusal);
            d->refusal = printable(data + i, n);
            if (d->imap && memmem(data + i, n, "[TRYCREATE]", 11) != NULL)
                d->trycreate = 1;
        }
        if (nl == NULL)
            break;
        i = (size_t) (nl - data) + 1;
    }
    return 0;
}

static size_t on_read(char *buf, size_t size, size_t nitems, void *ctx)
{
    Upload *u = ctx;
    size_t n = size * nitems;

    if (n > u->left)
        n = u->left;
    memcpy(buf, u->data, n);
    u->data += n;
    u->left -= n;
    return n;
}

/* Options every transfer shares. */
static void common_opts(CURL *h, Dialog *d, const Octstr *ca_file,
                        long timeout, const volatile int *cancel,
                        char *errbuf)
{
    if (cancel != NULL) {
        curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
        curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
        curl_easy_setopt(h, CURLOPT_XFERINFODATA, (void *) cancel);
    }
    if (timeout <= 0)
        timeout = 30;
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, timeout);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, timeout);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, TOTAL_MAX);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(h, CURLOPT_VERBOSE, 1L);
    curl_easy_setopt(h, CURLOPT_DEBUGFUNCTION, on_debug);
    curl_easy_setopt(h, CURLOPT_DEBUGDATA, d);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
    if (ca_file != NULL && octstr_len(ca_file) > 0)
        curl_easy_setopt(h, CURLOPT_CAINFO, octstr_get_cstr(ca_file));
}

/* Permanent or temporary, and why, from a failed transfer. */
static int classify(CURLcode rc, long reply, Dialog *d, const char *errbuf,
                    const char *what, Octstr **reason_r)
{
    int kind;
    Octstr *why;

    if (rc == CURLE_ABORTED_BY_CALLBACK) {
        if (reason_r != NULL)
            *reason_r = octstr_create("stopped");
        return MAIL_SMTP_TEMP;
    }
    switch (rc) {
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_USE_SSL_FAILED:
    case CURLE_LOGIN_DENIED:
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
        kind = MAIL_SMTP_PERM;
        break;
    default:
        kind = MAIL_SMTP_TEMP;
        break;
    }
    if (reply >= 500 && reply <= 599)
        kind = MAIL_SMTP_PERM;
    else if (reply >= 400 && reply <= 499)
        kind = MAIL_SMTP_TEMP;
    if (d->imap && d->refusal != NULL && rc != CURLE_OK)
        kind = MAIL_SMTP_PERM;      /* a tagged NO/BAD */
    if (d->refusal != NULL) {
        why = octstr_duplicate(d->refusal);
    } else {
        const char *e = errbuf[0] ? errbuf : curl_easy_strerror(rc);
        why = printable(e, strlen(e));
        if (rc == CURLE_USE_SSL_FAILED)
            octstr_append_cstr(why, " (no STARTTLS)");
        octstr_insert(why, octstr_imm(": "), 0);
        octstr_insert(why, octstr_imm(what), 0);
    }
    if (octstr_len(why) > REASON_MAX)
        octstr_truncate(why, REASON_MAX);
    if (reason_r != NULL)
        *reason_r = why;
    else
        octstr_destroy(why);
    return kind;
}

/* The EHLO name: our host name when it looks qualified. */
static Octstr *ehlo_name(void)
{
    char buf[256];
    long i;
    Octstr *n;

    if (gethostname(buf, sizeof(buf) - 1) != 0)
        return octstr_create("localhost");
    buf[sizeof(buf) - 1] = '\0';
    n = octstr_create(buf);
    for (i = 0; i < octstr_len(n); i++) {
        int c = octstr_get_char(n, i);
        if (!(isalnum(c) || c == '-' || c == '.')) {
            octstr_destroy(n);
            return octstr_create("localhost");
        }
    }
    if (octstr_search_char(n, '.', 0) < 0) {
        octstr_destroy(n);
        return octstr_create("localhost");
    }
    return n;
}

static Octstr *host_in_url(const Octstr *host)
{
    return octstr_search_char(host, ':', 0) >= 0
           ? octstr_format("[%S]", host) : octstr_duplicate(host);
}

int mail_smtp_send(const MailSmtpServer *srv, const Octstr *from,
                   const List *rcpts, const Octstr *message,
                   Octstr **reason_r)
{
    char errbuf[CURL_ERROR_SIZE];
    struct curl_slist *to = NULL;
    Dialog d;
    Upload up;
    SmtpUrl u;
    CURL *h;
    CURLcode rc;
    Octstr *url, *ehlo, *host, *tmp, *err = NULL;
    const Octstr *user;
    long reply = 0, i;
    int kind;

    if (reason_r != NULL)
        *reason_r = NULL;
    if (srv == NULL || from == NULL || rcpts == NULL || message == NULL ||
        gwlist_len((List *) rcpts) == 0) {
        if (reason_r != NULL)
            *reason_r = octstr_create("nothing to send");
        return MAIL_SMTP_PERM;
    }
    if (smtp_url_split(srv->url, &u, &err) < 0) {
        if (reason_r != NULL)
            *reason_r = err;
        else
            octstr_destroy(err);
        return MAIL_SMTP_PERM;
    }
    h = curl_easy_init();
    if (h == NULL) {
        smtp_url_clear(&u);
        if (reason_r != NULL)
            *reason_r = octstr_create("cannot start an SMTP transfer");
        return MAIL_SMTP_TEMP;
    }
    memset(&d, 0, sizeof(d));
    errbuf[0] = '\0';
    ehlo = ehlo_name();
    host = host_in_url(u.host);
    url = octstr_format("%s://%S:%ld/%S", u.implicit ? "smtps" : "smtp",
                        host, u.port, ehlo);
    common_opts(h, &d, srv->ca_file, srv->timeout, srv->cancel, errbuf);
    curl_easy_setopt(h, CURLOPT_URL, octstr_get_cstr(url));
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    if (!u.implicit)
        curl_easy_setopt(h, CURLOPT_USE_SSL, u.plain ? (long) CURLUSESSL_NONE
                                                     : (long) CURLUSESSL_ALL);
    user = u.user != NULL ? u.user : srv->user;
    if (user != NULL && octstr_len(user) > 0 && srv->secret != NULL) {
        curl_easy_setopt(h, CURLOPT_USERNAME, octstr_get_cstr(user));
        curl_easy_setopt(h, CURLOPT_PASSWORD, octstr_get_cstr(srv->secret));
    }
    tmp = octstr_format("<%S>", from);
    curl_easy_setopt(h, CURLOPT_MAIL_FROM, octstr_get_cstr(tmp));
    octstr_destroy(tmp);
    for (i = 0; i < gwlist_len((List *) rcpts); i++) {
        tmp = octstr_format("<%S>", gwlist_get((List *) rcpts, i));
        to = curl_slist_append(to, octstr_get_cstr(tmp));
        octstr_destroy(tmp);
    }
    curl_easy_setopt(h, CURLOPT_MAIL_RCPT, to);
    up.data = octstr_get_cstr(message);
    up.left = (size_t) octstr_len(message);
    curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
    curl_easy_setopt(h, CURLOPT_READDATA, &up);
    curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE,
                     (curl_off_t) octstr_len(message));

    rc = curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &reply);
    if (rc == CURLE_OK) {
        kind = MAIL_SMTP_SENT;
        debug("box.mail.smtp", 0, "SMTP %s:%ld: sent (%ld recipients)",
              octstr_get_cstr(u.host), u.port,
              gwlist_len((List *) rcpts));
    } else {
        kind = classify(rc, reply, &d, errbuf, "SMTP", reason_r);
        debug("box.mail.smtp", 0, "SMTP %s:%ld: %s (curl %d, reply %ld)",
              octstr_get_cstr(u.host), u.port,
              kind == MAIL_SMTP_PERM ? "refused" : "failed", (int) rc,
              reply);
    }
    curl_slist_free_all(to);
    curl_easy_cleanup(h);
    octstr_destroy(d.refusal);
    octstr_destroy(url);
    octstr_destroy(ehlo);
    octstr_destroy(host);
    smtp_url_clear(&u);
    return kind;
}

/* --- IMAP APPEND ------------------------------------------------------ */

/* Folder names we put into an IMAP URL and a CREATE command. */
static int folder_ok(const Octstr *f)
{
    long i;

    if (f == NULL || octstr_len(f) == 0 || octstr_len(f) > 200)
        return 0;
    for (i = 0; i < octstr_len(f); i++) {
        int c = octstr_get_char(f, i);
        if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '%' ||
            c == '*')
            return 0;
    }
    return 1;
}

static Octstr *imap_base(const MailUrl *m)
{
    Octstr *host = host_in_url(m->host), *u;

    u = octstr_format("%s://%S:%ld/", m->tls == MAILURL_TLS_IMPLICIT
                      ? "imaps" : "imap", host, m->port);
    octstr_destroy(host);
    return u;
}

/* One IMAP transfer: APPEND (message != NULL) or CREATE. */
static int imap_run(const MailUrl *m, const Octstr *secret,
                    const Octstr *folder, const Octstr *message,
                    const Octstr *ca_file, long timeout,
                    const volatile int *cancel, Dialog *d,
                    Octstr **reason_r)
{
    char errbuf[CURL_ERROR_SIZE];
    Upload up;
    CURL *h;
    CURLcode rc;
    Octstr *url, *cmd = NULL;
    int kind;
    long i;

    h = curl_easy_init();
    if (h == NULL) {
        if (reason_r != NULL)
            *reason_r = octstr_create("cannot start an IMAP transfer");
        return MAIL_SMTP_TEMP;
    }
    errbuf[0] = '\0';
    octstr_destroy(d->refusal);
    d->refusal = NULL;
    d->trycreate = 0;
    url = imap_base(m);
    common_opts(h, d, ca_file, timeout, cancel, errbuf);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "imap,imaps");
    if (m->tls != MAILURL_TLS_IMPLICIT)
        curl_easy_setopt(h, CURLOPT_USE_SSL, m->tls == MAILURL_TLS_NONE
                         ? (long) CURLUSESSL_NONE : (long) CURLUSESSL_ALL);
    curl_easy_setopt(h, CURLOPT_USERNAME, octstr_get_cstr(m->user));
    curl_easy_setopt(h, CURLOPT_PASSWORD, octstr_get_cstr(secret));
    if (message != NULL) {
        /* the folder goes into the URL path, percent-encoded */
        for (i = 0; i < octstr_len(folder); i++) {
            int c = octstr_get_char(folder, i);
            if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '/')
                octstr_append_char(url, c);
            else
                octstr_format_append(url, "%%%02X", c);
        }
        up.data = octstr_get_cstr(message);
        up.left = (size_t) octstr_len(message);
        curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
        curl_easy_setopt(h, CURLOPT_READDATA, &up);
        curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE,
                         (curl_off_t) octstr_len(message));
    } else {
        cmd = octstr_format("CREATE \"%S\"", folder);
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, octstr_get_cstr(cmd));
    }
    curl_easy_setopt(h, CURLOPT_URL, octstr_get_cstr(url));
    rc = curl_easy_perform(h);
    kind = rc == CURLE_OK ? MAIL_SMTP_SENT
                          : classify(rc, 0, d, errbuf, "IMAP", reason_r);
    curl_easy_cleanup(h);
    octstr_destroy(url);
    octstr_destroy(cmd);
    return kind;
}

int mail_smtp_append(const MailUrl *mailbox, const Octstr *secret,
                     const Octstr *folder, const Octstr *message,
                     const Octstr *ca_file, long timeout,
                     const volatile int *cancel, Octstr **reason_r)
{
    Dialog d;
    Octstr *why = NULL;
    int kind;

    if (reason_r != NULL)
        *reason_r = NULL;
    if (mailbox == NULL || mailbox->proto != MAILURL_IMAP ||
        secret == NULL || message == NULL || !folder_ok(folder)) {
        if (reason_r != NULL)
            *reason_r = octstr_create(mailbox != NULL &&
                                      mailbox->proto != MAILURL_IMAP
                                      ? "a POP3 mailbox has no Sent folder"
                                      : "no usable Sent folder name");
        return MAIL_SMTP_PERM;
    }
    memset(&d, 0, sizeof(d));
    d.imap = 1;
    kind = imap_run(mailbox, secret, folder, message, ca_file, timeout,
                    cancel, &d, &why);
    if (kind == MAIL_SMTP_PERM && d.trycreate) {
        octstr_destroy(why);
        why = NULL;
        debug("box.mail.smtp", 0, "IMAP %s: creating folder %s",
              octstr_get_cstr(mailbox->host), octstr_get_cstr(folder));
        kind = imap_run(mailbox, secret, folder, NULL, ca_file, timeout,
                        cancel, &d, &why);
        if (kind == MAIL_SMTP_SENT)
            kind = imap_run(mailbox, secret, folder, message, ca_file,
                            timeout, cancel, &d, &why);
    }
    debug("box.mail.smtp", 0, "IMAP %s: APPEND to %s: %s",
          octstr_get_cstr(mailbox->host), octstr_get_cstr(folder),
          kind == MAIL_SMTP_SENT ? "done" : octstr_get_cstr(why));
    octstr_destroy(d.refusal);
    if (reason_r != NULL)
        *reason_r = why;
    else
        octstr_destroy(why);
    return kind;
}
