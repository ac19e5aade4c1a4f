/*
 * mail-fetch.h - short blocking mail transfers: login check, fetch one mail.
 *
 * Exports: mail_fetch_login_check(), mail_fetch_message().
 *
 * Each call opens its own connection (IMAP or POP3, plain, STARTTLS/STLS
 * or implicit TLS as the URL says), does its job and closes it again.
 * Nothing is shared between calls except mail-tls's SSL_CTX, so any
 * thread may call these at the same time (worker threads, the admin CLI).
 * Every read and write is bounded by `timeout' seconds; replies are read
 * through imap-parser with fixed limits (lines 64 KB, literals
 * max_size + 64 KB).
 *
 * Secrets are never logged nor copied into error texts; LOGIN, PASS and
 * AUTHENTICATE lines are redacted even at debug level.
 * Logs: debug under "box.mail.fetch", nothing above debug (callers log).
 */
#ifndef MAIL_FETCH_H
#define MAIL_FETCH_H

#include "gwlib/gwlib.h"
#include "mailurl.h"

/*
 * Connect to the mailbox `url' and log in with `secret' (a password).
 * ca_file: PEM file of trusted CAs, or NULL for the system store.
 * timeout: seconds per network step (connect, each reply); <= 0 means 30.
 * Returns 0 when the login succeeded, -1 otherwise with *err_r (if err_r
 * is not NULL) set to a new Octstr holding one clear sentence, owned by
 * the caller.  Nothing of `url' or `secret' is kept.  Any thread.
 */
int mail_fetch_login_check(const MailUrl *url, const Octstr *secret,
                           const Octstr *ca_file, long timeout,
                           Octstr **err_r);

/*
 * Fetch one whole message (raw RFC 5322 octets, not decoded).
 *   IMAP: EXAMINE url->folder (never SELECT), check that UIDVALIDITY equals
 *         `uidvalidity', UID FETCH `uid' BODY.PEEK[]<0.max_size> (never
 *         sets \Seen), LOGOUT.  `uidl' is ignored.
 *   POP3: UIDL to find the message numbered by `uidl', RETR, QUIT.
 *         `uidvalidity' and `uid' are ignored.
 * max_size: the largest number of octets to return (> 0).
 * Returns:
 *    0  *raw_r = the whole message (new Octstr, caller owns);
 *    1  the message is larger than max_size: *raw_r = its first max_size
 *       octets (caller owns);
 *   -2  the message is gone (expunged, UIDVALIDITY changed, UIDL unknown);
 *       *err_r set as below, *raw_r NULL;
 *   -1  any other error; *err_r = a new Octstr with a clear sentence (never
 *       the secret), *raw_r NULL.
 * err_r may be NULL.  Any thread.
 */
int mail_fetch_message(const MailUrl *url, const Octstr *secret,
                       const Octstr *ca_file, long timeout,
                       long uidvalidity, long uid, const Octstr *uidl,
                       long max_size, Octstr **raw_r, Octstr **err_r);

#endif
