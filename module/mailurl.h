/*
 * mailurl.h - parse and format mailbox URLs (imap, imaps, pop3, pop3s)
 * and check SMTP submission URLs (smtp, smtps).
 *
 * Exports: MailUrl, mailurl_parse(), mailurl_format(), mailurl_destroy(),
 * mailurl_check_smtp().
 *
 * Syntax: SCHEME://USER@HOST[:PORT][/FOLDER][?tls=starttls|none]
 *   USER may be percent-encoded ("ann%40example.com") or hold a raw '@'
 *   (the split is at the last '@' before the host).  HOST is a name, an
 *   IPv4 address or an IPv6 address in brackets.  FOLDER (IMAP only) is
 *   percent-decoded, default "INBOX".  imap:// and pop3:// default to
 *   STARTTLS/STLS required; "?tls=none" means plaintext (test servers);
 *   imaps:// and pop3s:// are implicit TLS and take no tls parameter.
 *   A password in the URL ("user:pass@") is refused: passwords are read
 *   from standard input by pushmail-admin.
 *
 * Limits: URL <= 1024 bytes, user <= 256, host <= 253, folder <= 200
 * bytes with no control characters, port 1..65535.
 * Logs: nothing; errors come back as one clear sentence.
 */
#ifndef MAILURL_H
#define MAILURL_H

#include "gwlib/gwlib.h"

typedef enum { MAILURL_IMAP, MAILURL_POP3 } MailUrlProto;
typedef enum {
    MAILURL_TLS_NONE, MAILURL_TLS_STARTTLS, MAILURL_TLS_IMPLICIT
} MailUrlTls;

typedef struct {
    MailUrlProto proto;
    MailUrlTls tls;
    Octstr *user;     /* percent-decoded login name, e.g. ann@example.com */
    Octstr *host;     /* name, IPv4, or IPv6 without brackets */
    long port;        /* default 143 imap/imap+starttls, 993 imaps,
                         110 pop3, 995 pop3s */
    Octstr *folder;   /* IMAP folder, percent-decoded, default "INBOX";
                         NULL for POP3 */
} MailUrl;

/*
 * Parse `url`.  Returns a new MailUrl owned by the caller (free with
 * mailurl_destroy()), or NULL with *err_r (if not NULL) set to a new
 * Octstr owned by the caller.  Thread-safe.
 */
MailUrl *mailurl_parse(const Octstr *url, Octstr **err_r);

/*
 * The canonical URL of `u`: lower-case scheme and host, user and folder
 * percent-encoded, port only when not the default, "?tls=none" only for
 * plaintext, folder omitted when "INBOX".  Never holds a password.
 * Returns a new Octstr owned by the caller.  Thread-safe.
 */
Octstr *mailurl_format(const MailUrl *u);

/* Free `u` and its fields; NULL is fine. */
void mailurl_destroy(MailUrl *u);

/*
 * Check an SMTP submission URL: smtp://[USER@]HOST[:PORT] or smtps://...
 * (same host, port and user rules; no password, no path other than "/").
 * Returns 0 if good, -1 with *err_r (if not NULL) set to a new Octstr
 * owned by the caller.  Thread-safe.
 */
int mailurl_check_smtp(const Octstr *url, Octstr **err_r);

#endif
