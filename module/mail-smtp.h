/*
 * mail-smtp.h - submit one mail over SMTP and APPEND a copy to an IMAP
 * folder, with libcurl.
 *
 * Exports: MailSmtpServer, MAIL_SMTP_SENT/_TEMP/_PERM,
 * mail_smtp_send(), mail_smtp_append(), mail_smtp_url_ok().
 *
 * SMTP URLs: smtp://[USER@]HOST[:PORT] (port 587 by default; STARTTLS
 * required) or smtps://[USER@]HOST[:PORT] (implicit TLS, port 465); a
 * trailing "?tls=none" on smtp:// submits in plaintext (test servers,
 * like the mailbox URLs' parameter), "?tls=starttls" is the default.
 * USER may be percent-encoded or hold a raw '@' (split at the last '@').
 * Certificates are checked against ca_file (NULL: the system store),
 * host names included.
 *
 * Results are classified for the sending queue: 0 sent; 1 temporary
 * (an SMTP 4xx, no connection, a timeout, a dropped connection: retry
 * later); 2 permanent (an SMTP 5xx such as a refused recipient or login,
 * a certificate that is not trusted, a server without STARTTLS).
 * *reason_r then holds a short printable reason: the server's reply
 * line ("550 5.1.1 <x@y>: Recipient address rejected") or what failed;
 * it never holds the password (our side of the dialogue is never
 * kept).
 *
 * Limits: reasons <= 160 bytes; each network step times out after
 * `timeout` seconds (connect, and no progress for that long).
 * Logs: debug under "box.mail.smtp" (host, result; never credentials
 * or content).
 * Threads: any thread; each call has its own CURL handle (the program
 * calls curl_global_init() once at start-up).
 */
#ifndef MAIL_SMTP_H
#define MAIL_SMTP_H

#include "gwlib/gwlib.h"
#include "mailurl.h"

enum { MAIL_SMTP_SENT = 0, MAIL_SMTP_TEMP = 1, MAIL_SMTP_PERM = 2 };

typedef struct {
    const Octstr *url;      /* smtp://... or smtps://... (see above) */
    const Octstr *user;     /* login when the URL names none (the
                               URL's user wins); if neither, no AUTH */
    const Octstr *secret;   /* password; NULL = no AUTH */
    const Octstr *ca_file;  /* PEM CA file, NULL = system store */
    long timeout;           /* seconds per step; <= 0 means 30 */
    const volatile int *cancel; /* when it becomes non-zero before the
                               mail's data is on its way, the call gives
                               up (MAIL_SMTP_TEMP, "stopped"); NULL =
                               never */
} MailSmtpServer;

/*
 * 1 if `url` is an SMTP URL this module takes; else 0 with *err_r (if
 * not NULL) a new Octstr with one clear sentence.  Thread-safe.
 */
int mail_smtp_url_ok(const Octstr *url, Octstr **err_r);

/*
 * Submit `message` (RFC 5322 octets with CRLF line ends; dot-stuffing
 * is done here) with MAIL FROM:<from> and one RCPT TO per item of
 * `rcpts` (Octstr* bare addresses; every one must be accepted, else the
 * mail is not sent).  Returns MAIL_SMTP_SENT, _TEMP or _PERM; for the
 * last two *reason_r (if not NULL) is a new Octstr owned by the caller.
 * Nothing is kept.
 */
int mail_smtp_send(const MailSmtpServer *srv, const Octstr *from,
                   const List *rcpts, const Octstr *message,
                   Octstr **reason_r);

/*
 * APPEND `message` with the \Seen flag to `folder` (printable ASCII;
 * created when the server answers [TRYCREATE]) of the IMAP mailbox
 * `mailbox` (its host, port, TLS mode and user), logging in with
 * `secret`; `cancel` as in MailSmtpServer.  Same return convention as
 * mail_smtp_send(); a POP3 mailbox or an unusable folder name is
 * MAIL_SMTP_PERM.
 */
int mail_smtp_append(const MailUrl *mailbox, const Octstr *secret,
                     const Octstr *folder, const Octstr *message,
                     const Octstr *ca_file, long timeout,
                     const volatile int *cancel, Octstr **reason_r);

#endif
