/*
 * mailurl.c - parse and format mailbox URLs, check SMTP URLs.
 *
 * Exports: mailurl_parse(), mailurl_format(), mailurl_destroy(),
 * mailurl_check_smtp() (see mailurl.h for the syntax).
 *
 * The URL is hostile input from an operator's command line: every part is
 * checked against an allowed character set and a length before it is
 * decoded, and decoded values are checked again for control characters.
 *
 * Limits: URL 1024 bytes, user 256, host 253, folder 200 (decoded).
 * Logs: nothing; errors come back as one sentence that quotes at most 64
 * bytes of the URL with non-printable bytes replaced by '?'.
 */
#include <ctype.h>
#include <string.h>

#include "mailurl.h"

#define URL_MAX 1024
#define USER_MAX 256
#define HOST_MAX 253
#define FOLDER_MAX 200
#define QUOTE_MAX 64

/* The authority part of a URL, shared by mail and SMTP URLs. */
typedef struct {
    Octstr *user;       /* decoded, NULL when absent */
    Octstr *host;       /* lower case, IPv6 without brackets */
    long port;          /* 0 when absent */
    int ipv6;
} Authority;

static void set_err(Octstr **err_r, Octstr *msg)
{
    if (err_r != NULL)
        *err_r = msg;
    else
        octstr_destroy(msg);
}

/* A printable, truncated copy of `s` for error messages. */
static Octstr *quote(const Octstr *s)
{
    Octstr *q = octstr_create("");
    long i;

    for (i = 0; i < octstr_len(s) && i < QUOTE_MAX; i++) {
        int c = octstr_get_char(s, i);
        octstr_append_char(q, (c > 0x20 && c < 0x7f) ? c : '?');
    }
    if (octstr_len(s) > QUOTE_MAX)
        octstr_append_cstr(q, "...");
    return q;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/*
 * Percent-decode s[from, to).  Returns a new Octstr, or NULL for a bad
 * escape or a decoded control character.
 */
static Octstr *pct_decode(const Octstr *s, long from, long to)
{
    Octstr *out = octstr_create("");
    long i;

    for (i = from; i < to; i++) {
        int c = octstr_get_char(s, i);

        if (c == '%') {
            int hi, lo;

            if (i + 2 >= to) {
                octstr_destroy(out);
                return NULL;
            }
            hi = hexval(octstr_get_char(s, i + 1));
            lo = hexval(octstr_get_char(s, i + 2));
            if (hi < 0 || lo < 0) {
                octstr_destroy(out);
                return NULL;
            }
            c = hi * 16 + lo;
            i += 2;
        }
        if (c < 0x20 || c == 0x7f) {
            octstr_destroy(out);
            return NULL;
        }
        octstr_append_char(out, c);
    }
    return out;
}

/* Percent-encode everything but unreserved characters and `keep`. */
static void pct_encode(Octstr *out, const Octstr *s, const char *keep)
{
    long i;

    for (i = 0; i < octstr_len(s); i++) {
        int c = octstr_get_char(s, i);

        if (isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' ||
            (c != '\0' && strchr(keep, c) != NULL))
            octstr_append_char(out, c);
        else
            octstr_format_append(out, "%%%02X", c);
    }
}

static int host_ok(const Octstr *h)
{
    long i, len = octstr_len(h);
    int prev = '.';

    if (len == 0 || len > HOST_MAX)
        return 0;
    for (i = 0; i < len; i++) {
        int c = octstr_get_char(h, i);

        if (c == '.') {
            if (prev == '.' || prev == '-')
                return 0;
        } else if (c == '-') {
            if (prev == '.')
                return 0;
        } else if (!isalnum(c)) {
            return 0;
        }
        prev = c;
    }
    return prev != '-' && prev != '.';
}

static int ipv6_ok(const Octstr *h)
{
    long i, len = octstr_len(h);

    if (len < 2 || len > 45 || octstr_search_char(h, ':', 0) < 0)
        return 0;
    for (i = 0; i < len; i++) {
        int c = octstr_get_char(h, i);
        if (!isxdigit(c) && c != ':' && c != '.')
            return 0;
    }
    return 1;
}

static void authority_clear(Authority *a)
{
    octstr_destroy(a->user);
    octstr_destroy(a->host);
    memset(a, 0, sizeof(*a));
}

/*
 * Parse url[from, to) as [USER@]HOST[:PORT].  USER is split off at the
 * last '@'.  Returns 0, or -1 with *err_r set.
 */
static int parse_authority(const Octstr *url, long from, long to,
                           int need_user, Authority *a, Octstr **err_r)
{
    long at = -1, i, hs, he;
    const char *why = NULL;

    memset(a, 0, sizeof(*a));
    for (i = from; i < to; i++)
        if (octstr_get_char(url, i) == '@')
            at = i;

    if (at >= 0) {
        if (at == from) {
            why = "has an empty user name before '@'";
            goto bad;
        }
        for (i = from; i < at; i++) {
            if (octstr_get_char(url, i) == ':') {
                set_err(err_r, octstr_create(
                    "the URL contains a password (user:password@); "
                    "remove it: the password is read from standard "
                    "input and stored encrypted"));
                return -1;
            }
        }
        a->user = pct_decode(url, from, at);
        if (a->user == NULL) {
            why = "has a bad %-escape or a control character in the "
                  "user name";
            goto bad;
        }
        if (octstr_len(a->user) > USER_MAX) {
            why = "has a user name longer than 256 bytes";
            goto bad;
        }
        hs = at + 1;
    } else {
        if (need_user) {
            why = "has no user name; write SCHEME://USER@HOST";
            goto bad;
        }
        hs = from;
    }

    if (hs < to && octstr_get_char(url, hs) == '[') {
        he = octstr_search_char(url, ']', hs);
        if (he < 0 || he >= to) {
            why = "has an IPv6 address without the closing ']'";
            goto bad;
        }
        a->host = octstr_copy(url, hs + 1, he - hs - 1);
        a->ipv6 = 1;
        if (!ipv6_ok(a->host)) {
            why = "has a bad IPv6 address";
            goto bad;
        }
        he++;
        if (he < to && octstr_get_char(url, he) != ':') {
            why = "has text after the IPv6 address";
            goto bad;
        }
    } else {
        he = octstr_search_char(url, ':', hs);
        if (he < 0 || he > to)
            he = to;
        a->host = octstr_copy(url, hs, he - hs);
        if (octstr_len(a->host) == 0) {
            why = "has no host name";
            goto bad;
        }
        if (!host_ok(a->host)) {
            why = "has a bad host name (letters, digits, dots and "
                  "dashes only)";
            goto bad;
        }
    }
    octstr_convert_range(a->host, 0, octstr_len(a->host), tolower);

    if (he < to) {
        long port = 0;

        /* url[he] is ':' */
        if (he + 1 >= to || to - he - 1 > 5) {
            why = "has a bad port (1 to 65535)";
            goto bad;
        }
        for (i = he + 1; i < to; i++) {
            int c = octstr_get_char(url, i);
            if (!isdigit(c)) {
                why = "has a bad port (1 to 65535)";
                goto bad;
            }
            port = port * 10 + (c - '0');
        }
        if (port < 1 || port > 65535) {
            why = "has a bad port (1 to 65535)";
            goto bad;
        }
        a->port = port;
    }
    return 0;

bad:
    {
        Octstr *q = quote(url);
        set_err(err_r, octstr_format("the URL \"%s\" %s",
                                     octstr_get_cstr(q), why));
        octstr_destroy(q);
    }
    authority_clear(a);
    return -1;
}

/*
 * Common checks: length, character set, "SCHEME://".  Returns the index
 * after "://", or -1 with *err_r set; *scheme_r gets the lower-case
 * scheme.
 */
static long split_scheme(const Octstr *url, Octstr **scheme_r,
                         Octstr **err_r)
{
    long i, len, sep;
    Octstr *q;

    *scheme_r = NULL;
    if (url == NULL || octstr_len(url) == 0) {
        set_err(err_r, octstr_create("the URL is empty"));
        return -1;
    }
    len = octstr_len(url);
    if (len > URL_MAX) {
        set_err(err_r, octstr_format("the URL is %ld bytes long; at most "
                                     "%d are allowed", len, URL_MAX));
        return -1;
    }
    for (i = 0; i < len; i++) {
        int c = octstr_get_char(url, i);
        if (c <= 0x20 || c >= 0x7f) {
            q = quote(url);
            set_err(err_r, octstr_format("the URL \"%s\" contains a space, "
                    "control or non-ASCII byte at position %ld; "
                    "percent-encode it", octstr_get_cstr(q), i + 1));
            octstr_destroy(q);
            return -1;
        }
    }
    sep = octstr_search(url, octstr_imm("://"), 0);
    if (sep <= 0) {
        q = quote(url);
        set_err(err_r, octstr_format("the URL \"%s\" does not start with "
                                     "SCHEME://", octstr_get_cstr(q)));
        octstr_destroy(q);
        return -1;
    }
    *scheme_r = octstr_copy(url, 0, sep);
    octstr_convert_range(*scheme_r, 0, sep, tolower);
    return sep + 3;
}

/* Parse "?tls=starttls|none" at url[from..]. */
static int parse_query(const Octstr *url, long from, MailUrl *u,
                       Octstr **err_r)
{
    Octstr *q;

    if (from >= octstr_len(url))
        return 0;
    q = octstr_copy(url, from, octstr_len(url) - from);
    if (u->tls != MAILURL_TLS_IMPLICIT &&
        octstr_str_case_compare(q, "?tls=starttls") == 0) {
        u->tls = MAILURL_TLS_STARTTLS;
    } else if (u->tls != MAILURL_TLS_IMPLICIT &&
               octstr_str_case_compare(q, "?tls=none") == 0) {
        u->tls = MAILURL_TLS_NONE;
    } else {
        Octstr *qq = quote(q);
        set_err(err_r, octstr_format("the URL parameter \"%s\" is not "
                "understood; imap:// and pop3:// take ?tls=starttls "
                "(the default) or ?tls=none, imaps:// and pop3s:// take "
                "none", octstr_get_cstr(qq)));
        octstr_destroy(qq);
        octstr_destroy(q);
        return -1;
    }
    octstr_destroy(q);
    return 0;
}

MailUrl *mailurl_parse(const Octstr *url, Octstr **err_r)
{
    MailUrl *u;
    Octstr *scheme;
    Authority a;
    long start, end, len, qpos;

    if (err_r != NULL)
        *err_r = NULL;
    start = split_scheme(url, &scheme, err_r);
    if (start < 0)
        return NULL;

    u = gw_malloc(sizeof(*u));
    memset(u, 0, sizeof(*u));
    if (octstr_str_compare(scheme, "imap") == 0) {
        u->proto = MAILURL_IMAP;
        u->tls = MAILURL_TLS_STARTTLS;
        u->port = 143;
    } else if (octstr_str_compare(scheme, "imaps") == 0) {
        u->proto = MAILURL_IMAP;
        u->tls = MAILURL_TLS_IMPLICIT;
        u->port = 993;
    } else if (octstr_str_compare(scheme, "pop3") == 0) {
        u->proto = MAILURL_POP3;
        u->tls = MAILURL_TLS_STARTTLS;
        u->port = 110;
    } else if (octstr_str_compare(scheme, "pop3s") == 0) {
        u->proto = MAILURL_POP3;
        u->tls = MAILURL_TLS_IMPLICIT;
        u->port = 995;
    } else {
        Octstr *q = quote(scheme);
        set_err(err_r, octstr_format("the URL scheme \"%s\" is not "
                "supported; use imap, imaps, pop3 or pop3s",
                octstr_get_cstr(q)));
        octstr_destroy(q);
        octstr_destroy(scheme);
        mailurl_destroy(u);
        return NULL;
    }
    octstr_destroy(scheme);

    len = octstr_len(url);
    if (octstr_search_char(url, '#', start) >= 0) {
        set_err(err_r, octstr_create("the URL contains a '#' fragment; "
                                     "percent-encode '#' as %23"));
        goto fail;
    }
    qpos = octstr_search_char(url, '?', start);
    if (qpos < 0)
        qpos = len;
    end = octstr_search_char(url, '/', start);
    if (end < 0 || end > qpos)
        end = qpos;

    if (parse_authority(url, start, end, 1, &a, err_r) < 0)
        goto fail;
    u->user = a.user;
    u->host = a.host;
    if (a.port > 0)
        u->port = a.port;

    if (u->proto == MAILURL_IMAP) {
        if (end < qpos)
            u->folder = pct_decode(url, end + 1, qpos);
        else
            u->folder = octstr_create("");
        if (u->folder == NULL) {
            set_err(err_r, octstr_create("the URL has a bad %-escape or a "
                                         "control character in the folder"));
            goto fail;
        }
        if (octstr_len(u->folder) > FOLDER_MAX) {
            set_err(err_r, octstr_format("the folder name is longer than "
                                         "%d bytes", FOLDER_MAX));
            goto fail;
        }
        if (octstr_len(u->folder) == 0 ||
            octstr_str_case_compare(u->folder, "inbox") == 0) {
            octstr_destroy(u->folder);
            u->folder = octstr_create("INBOX");
        }
    } else if (end < qpos && qpos - end > 1) {
        set_err(err_r, octstr_create("a POP3 URL has no folder; remove "
                                     "the path after the host"));
        goto fail;
    }

    if (parse_query(url, qpos, u, err_r) < 0)
        goto fail;
    return u;

fail:
    mailurl_destroy(u);
    return NULL;
}

Octstr *mailurl_format(const MailUrl *u)
{
    Octstr *out;
    long defport;

    if (u == NULL)
        return NULL;
    if (u->proto == MAILURL_IMAP) {
        out = octstr_create(u->tls == MAILURL_TLS_IMPLICIT ? "imaps://"
                                                           : "imap://");
        defport = u->tls == MAILURL_TLS_IMPLICIT ? 993 : 143;
    } else {
        out = octstr_create(u->tls == MAILURL_TLS_IMPLICIT ? "pop3s://"
                                                           : "pop3://");
        defport = u->tls == MAILURL_TLS_IMPLICIT ? 995 : 110;
    }
    if (u->user != NULL) {
        pct_encode(out, u->user, "+");
        octstr_append_char(out, '@');
    }
    if (u->host != NULL && octstr_search_char(u->host, ':', 0) >= 0)
        octstr_format_append(out, "[%S]", u->host);
    else if (u->host != NULL)
        octstr_append(out, u->host);
    if (u->port != defport)
        octstr_format_append(out, ":%ld", u->port);
    if (u->proto == MAILURL_IMAP && u->folder != NULL &&
        octstr_str_compare(u->folder, "INBOX") != 0) {
        octstr_append_char(out, '/');
        pct_encode(out, u->folder, "/+");
    }
    if (u->tls == MAILURL_TLS_NONE)
        octstr_append_cstr(out, "?tls=none");
    return out;
}

void mailurl_destroy(MailUrl *u)
{
    if (u == NULL)
        return;
    octstr_destroy(u->user);
    octstr_destroy(u->host);
    octstr_destroy(u->folder);
    gw_free(u);
}

int mailurl_check_smtp(const Octstr *url, Octstr **err_r)
{
    Octstr *scheme;
    Authority a;
    long start, end, len, qpos;

    if (err_r != NULL)
        *err_r = NULL;
    start = split_scheme(url, &scheme, err_r);
    if (start < 0)
        return -1;
    if (octstr_str_compare(scheme, "smtp") != 0 &&
        octstr_str_compare(scheme, "smtps") != 0) {
        Octstr *q = quote(scheme);
        set_err(err_r, octstr_format("the SMTP URL scheme \"%s\" is not "
                "supported; use smtp or smtps", octstr_get_cstr(q)));
        octstr_destroy(q);
        octstr_destroy(scheme);
        return -1;
    }
    octstr_destroy(scheme);

    len = octstr_len(url);
    /* smtp:// may end in the mailbox URLs' ?tls=starttls (the default)
     * or ?tls=none (plaintext, for test servers) */
    qpos = octstr_search_char(url, '?', start);
    if (qpos >= 0 && octstr_case_search(url, octstr_imm("smtp:"), 0) == 0) {
        Octstr *param = octstr_copy(url, qpos, len - qpos);

        if (octstr_str_case_compare(param, "?tls=none") == 0 ||
            octstr_str_case_compare(param, "?tls=starttls") == 0)
            len = qpos;
        octstr_destroy(param);
    }
    end = octstr_search_char(url, '/', start);
    if (end < 0 || end > len)
        end = len;
    if ((qpos >= 0 && qpos < len) ||
        octstr_search_char(url, '#', start) >= 0 ||
        (end < len && end != len - 1)) {
        set_err(err_r, octstr_create("an SMTP URL is smtp://[USER@]HOST"
                                     "[:PORT] or smtps://...; remove the "
                                     "path or parameters"));
        return -1;
    }
    if (parse_authority(url, start, end, 0, &a, err_r) < 0)
        return -1;
    authority_clear(&a);
    return 0;
}
