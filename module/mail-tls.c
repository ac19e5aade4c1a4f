/*
 * mail-tls.c - TCP and TLS byte streams for the mail clients.
 *
 * One SSL_CTX per MailTls (see mail-tls.h); sessions are nonblocking and
 * remember what OpenSSL wants (read or write) so the owner can poll.
 * The output queue is a plain buffer wiped with OPENSSL_cleanse as it
 * drains, so a LOGIN line does not linger in freed memory.
 * Logs nothing.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "mail-tls.h"

struct MailTls {
    SSL_CTX *ctx;
};

enum tls_want { WANT_NONE, WANT_READ, WANT_WRITE };

struct MailStream {
    int fd;
    SSL *ssl;
    int handshaking;
    enum tls_want hs_want;      /* handshake waits for this */
    enum tls_want rd_want;      /* SSL_read waits for this (if not read) */
    enum tls_want wr_want;      /* SSL_write waits for this */
    char *out;                  /* queued output */
    long out_len, out_cap;
};

long long mail_clock_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static Octstr *ssl_error_text(const char *what)
{
    char buf[256];
    unsigned long e = ERR_get_error();

    if (e == 0)
        return octstr_format("%s failed", what);
    ERR_error_string_n(e, buf, sizeof(buf));
    ERR_clear_error();
    return octstr_format("%s failed: %s", what, buf);
}

MailTls *mail_tls_create(const Octstr *ca_file, Octstr **err_r)
{
    MailTls *t;
    SSL_CTX *ctx;
    int ok;

    ERR_clear_error();
    ctx = SSL_CTX_new(TLS_client_method());
    if (ctx == NULL) {
        *err_r = ssl_error_text("creating the TLS context");
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS |
                     SSL_MODE_ENABLE_PARTIAL_WRITE |
                     SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    if (ca_file != NULL && octstr_len(ca_file) > 0)
        ok = SSL_CTX_load_verify_locations(ctx,
                 octstr_get_cstr(ca_file), NULL);
    else
        ok = SSL_CTX_set_default_verify_paths(ctx);
    if (!ok) {
        if (ca_file != NULL && octstr_len(ca_file) > 0) {
            Octstr *e = ssl_error_text("loading the CA file");
            *err_r = octstr_format("%S (\"%S\")", e, ca_file);
            octstr_destroy(e);
        } else {
            *err_r = ssl_error_text("loading the system CA store");
        }
        SSL_CTX_free(ctx);
        return NULL;
    }
    t = gw_malloc(sizeof(*t));
    t->ctx = ctx;
    return t;
}

void mail_tls_destroy(MailTls *t)
{
    if (t == NULL)
        return;
    SSL_CTX_free(t->ctx);
    gw_free(t);
}

int mail_sock_connect(const struct sockaddr *sa, socklen_t len,
                      Octstr **err_r)
{
    int fd, on = 1, idle = 120, intvl = 30, cnt = 4;

    fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
                0);
    if (fd < 0) {
        *err_r = octstr_format("socket() failed: %s", strerror(errno));
        return -1;
    }
    setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on));
    setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
    setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));
    setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
    if (connect(fd, sa, len) < 0 && errno != EINPROGRESS) {
        *err_r = octstr_format("connect failed: %s", strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

int mail_sock_connect_done(int fd, Octstr **err_r)
{
    int err = 0;
    socklen_t len = sizeof(err);

    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
        err = errno;
    if (err != 0) {
        *err_r = octstr_format("connect failed: %s", strerror(err));
        return -1;
    }
    return 0;
}

MailStream *mail_stream_create(int fd)
{
    MailStream *s = gw_malloc(sizeof(*s));

    memset(s, 0, sizeof(*s));
    s->fd = fd;
    return s;
}

void mail_stream_destroy(MailStream *s)
{
    if (s == NULL)
        return;
    if (s->ssl != NULL)
        SSL_free(s->ssl);
    if (s->fd >= 0)
        close(s->fd);
    if (s->out != NULL) {
        OPENSSL_cleanse(s->out, s->out_cap);
        gw_free(s->out);
    }
    gw_free(s);
}

int mail_stream_fd(const MailStream *s)
{
    return s->fd;
}

int mail_stream_is_tls(const MailStream *s)
{
    return s->ssl != NULL;
}

static int is_ip_literal(const char *host)
{
    unsigned char buf[sizeof(struct in6_addr)];

    return inet_pton(AF_INET, host, buf) == 1 ||
           inet_pton(AF_INET6, host, buf) == 1;
}

int mail_stream_start_tls(MailStream *s, MailTls *t, const Octstr *host,
                          Octstr **err_r)
{
    X509_VERIFY_PARAM *param;
    const char *h = octstr_get_cstr(host);
    int ok;

    ERR_clear_error();
    s->ssl = SSL_new(t->ctx);
    if (s->ssl == NULL) {
        *err_r = ssl_error_text("creating a TLS session");
        return -1;
    }
    param = SSL_get0_param(s->ssl);
    X509_VERIFY_PARAM_set_hostflags(param,
                                    X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    if (is_ip_literal(h)) {
        ok = X509_VERIFY_PARAM_set1_ip_asc(param, h);
    } else {
        ok = X509_VERIFY_PARAM_set1_host(param, h, 0) &&
             SSL_set_tlsext_host_name(s->ssl, h);
    }
    if (!ok || !SSL_set_fd(s->ssl, s->fd)) {
        *err_r = ssl_error_text("setting up the TLS session");
        SSL_free(s->ssl);
        s->ssl = NULL;
        return -1;
    }
    SSL_set_connect_state(s->ssl);
    s->handshaking = 1;
    s->hs_want = WANT_WRITE;
    return 0;
}

int mail_stream_handshake(MailStream *s, Octstr **err_r)
{
    int ret, e;
    long vr;

    if (!s->handshaking)
        return 0;
    ERR_clear_error();
    ret = SSL_do_handshake(s->ssl);
    if (ret == 1) {
        s->handshaking = 0;
        s->hs_want = WANT_NONE;
        return 0;
    }
    e = SSL_get_error(s->ssl, ret);
    if (e == SSL_ERROR_WANT_READ) {
        s->hs_want = WANT_READ;
        return 1;
    }
    if (e == SSL_ERROR_WANT_WRITE) {
        s->hs_want = WANT_WRITE;
        return 1;
    }
    vr = SSL_get_verify_result(s->ssl);
    if (vr != X509_V_OK)
        *err_r = octstr_format("TLS certificate verification failed: %s",
                               X509_verify_cert_error_string(vr));
    else if (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0)
        *err_r = octstr_format("TLS handshake failed: %s",
                               ret == 0 ? "connection closed by server"
                                        : strerror(errno));
    else
        *err_r = ssl_error_text("TLS handshake");
    return -1;
}

long mail_stream_read(MailStream *s, char *buf, long size, Octstr **err_r)
{
    long n;
    int e;

    if (s->ssl == NULL) {
        n = read(s->fd, buf, size);
        if (n > 0)
            return n;
        if (n == 0) {
            *err_r = octstr_create("connection closed by server");
            return -1;
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
            return 0;
        *err_r = octstr_format("read failed: %s", strerror(errno));
        return -1;
    }
    if (s->handshaking)
        return 0;
    ERR_clear_error();
    n = SSL_read(s->ssl, buf, size);
    if (n > 0) {
        s->rd_want = WANT_NONE;
        return n;
    }
    e = SSL_get_error(s->ssl, n);
    if (e == SSL_ERROR_WANT_READ) {
        s->rd_want = WANT_NONE;
        return 0;
    }
    if (e == SSL_ERROR_WANT_WRITE) {
        s->rd_want = WANT_WRITE;
        return 0;
    }
    if (e == SSL_ERROR_ZERO_RETURN ||
        (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0 && n == 0))
        *err_r = octstr_create("connection closed by server");
    else if (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0)
        *err_r = octstr_format("TLS read failed: %s", strerror(errno));
    else
        *err_r = ssl_error_text("TLS read");
    return -1;
}

void mail_stream_write(MailStream *s, const char *data, long len)
{
    long cap;
    char *p;

    if (len <= 0)
        return;
    if (s->out_len + len > s->out_cap) {
        cap = s->out_cap ? s->out_cap : 256;
        while (cap < s->out_len + len)
            cap *= 2;
        p = gw_malloc(cap);
        if (s->out_len > 0)
            memcpy(p, s->out, s->out_len);
        if (s->out != NULL) {
            OPENSSL_cleanse(s->out, s->out_cap);
            gw_free(s->out);
        }
        s->out = p;
        s->out_cap = cap;
    }
    memcpy(s->out + s->out_len, data, len);
    s->out_len += len;
}

void mail_stream_write_str(MailStream *s, const Octstr *data)
{
    mail_stream_write(s, octstr_get_cstr(data), octstr_len(data));
}

long mail_stream_queued(const MailStream *s)
{
    return s->out_len;
}

/* Drop the first n queued bytes and wipe what they leave behind. */
static void consume_out(MailStream *s, long n)
{
    memmove(s->out, s->out + n, s->out_len - n);
    OPENSSL_cleanse(s->out + s->out_len - n, n);
    s->out_len -= n;
    if (s->out_len == 0) {
        /* idle sessions write a few bytes every few minutes: do not keep
         * a buffer per connection for that (everything in it was wiped) */
        gw_free(s->out);
        s->out = NULL;
        s->out_cap = 0;
    }
}

int mail_stream_flush(MailStream *s, Octstr **err_r)
{
    long n;
    int e;

    while (s->out_len > 0) {
        if (s->ssl == NULL) {
            n = send(s->fd, s->out, s->out_len, MSG_NOSIGNAL);
            if (n < 0) {
                if (errno == EAGAIN || errno == EWOULDBLOCK ||
                    errno == EINTR)
                    return 1;
                *err_r = octstr_format("write failed: %s",
                                       strerror(errno));
                return -1;
            }
        } else {
            if (s->handshaking)
                return 1;
            ERR_clear_error();
            n = SSL_write(s->ssl, s->out, s->out_len);
            if (n <= 0) {
                e = SSL_get_error(s->ssl, n);
                if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ) {
                    s->wr_want = e == SSL_ERROR_WANT_READ ? WANT_READ
                                                          : WANT_WRITE;
                    return 1;
                }
                if (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0)
                    *err_r = octstr_format("TLS write failed: %s",
                                 errno ? strerror(errno) : "closed");
                else
                    *err_r = ssl_error_text("TLS write");
                return -1;
            }
            s->wr_want = WANT_NONE;
        }
        consume_out(s, n);
    }
    return 0;
}

int mail_stream_events(const MailStream *s)
{
    int ev = POLLIN;

    if (s->ssl != NULL && s->handshaking)
        return s->hs_want == WANT_WRITE ? POLLOUT : POLLIN;
    if (s->rd_want == WANT_WRITE)
        ev |= POLLOUT;
    if (s->out_len > 0 && s->wr_want != WANT_READ)
        ev |= POLLOUT;
    return ev;
}
