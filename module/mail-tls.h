/*
 * mail-tls.h - the byte stream under IMAP and POP3: TCP, optional TLS.
 *
 * Exports: MailTls (one shared SSL_CTX), MailStream (one connection),
 *   mail_tls_create(), mail_tls_destroy(), mail_sock_connect(),
 *   mail_sock_connect_done(), mail_stream_*(), mail_clock_ms().
 *
 * MailTls wraps one SSL_CTX (TLS 1.2 or later, SSL_MODE_RELEASE_BUFFERS,
 * peer verification against a CA file or the system store) shared by all
 * connections of its owner.  Each TLS session sends SNI (for host names)
 * and checks the certificate's host name, or IP address for IP literals.
 * MailStream is nonblocking: reads and writes never wait; the owner polls
 * mail_stream_fd() for mail_stream_events().  Written data is queued in a
 * buffer that is wiped as it drains (it may hold a password).
 * Limits: none here (callers bound what they read).
 * Logs: nothing; errors come back as sentences for the caller to log.
 * Threads: a MailTls may be used by many threads at once; a MailStream by
 * one thread at a time.
 */
#ifndef MAIL_TLS_H
#define MAIL_TLS_H

#include <sys/socket.h>
#include "gwlib/gwlib.h"

typedef struct MailTls MailTls;
typedef struct MailStream MailStream;

/* Milliseconds of a monotonic clock. */
long long mail_clock_ms(void);

/* Create the shared TLS context.  ca_file: PEM CAs, NULL = system store.
 * Returns NULL with *err_r (new Octstr, caller owns) on failure. */
MailTls *mail_tls_create(const Octstr *ca_file, Octstr **err_r);
void mail_tls_destroy(MailTls *t);

/* Start a nonblocking TCP connect (TCP keepalive on, close-on-exec).
 * Returns the socket (connect maybe in progress: wait for POLLOUT, then
 * call mail_sock_connect_done) or -1 with *err_r. */
int mail_sock_connect(const struct sockaddr *sa, socklen_t len,
                      Octstr **err_r);
/* 0 if the connect on `fd' succeeded, -1 with *err_r otherwise. */
int mail_sock_connect_done(int fd, Octstr **err_r);

/* Wrap a connected socket; takes ownership of fd. */
MailStream *mail_stream_create(int fd);
/* Close the socket, free the TLS session, wipe buffers.  NULL ok. */
void mail_stream_destroy(MailStream *s);
int mail_stream_fd(const MailStream *s);
int mail_stream_is_tls(const MailStream *s);

/* Begin a client TLS handshake towards `host' (name or IP literal).
 * Returns 0, or -1 with *err_r.  Then call mail_stream_handshake() until
 * it returns 0. */
int mail_stream_start_tls(MailStream *s, MailTls *t, const Octstr *host,
                          Octstr **err_r);
/* 0 handshake done and verified; 1 in progress (poll and call again);
 * -1 failed with *err_r (certificate problems are named). */
int mail_stream_handshake(MailStream *s, Octstr **err_r);

/* Read what is available, up to `size' bytes.  Returns > 0 bytes read,
 * 0 nothing available now, -1 closed or failed with *err_r. */
long mail_stream_read(MailStream *s, char *buf, long size, Octstr **err_r);
/* Queue bytes for sending (copied). */
void mail_stream_write(MailStream *s, const char *data, long len);
void mail_stream_write_str(MailStream *s, const Octstr *data);
/* Send queued bytes: 0 all sent, 1 some remain (poll), -1 with *err_r. */
int mail_stream_flush(MailStream *s, Octstr **err_r);
/* Bytes still queued. */
long mail_stream_queued(const MailStream *s);
/* The poll(2) events this stream waits for now (POLLIN and/or POLLOUT). */
int mail_stream_events(const MailStream *s);

#endif
