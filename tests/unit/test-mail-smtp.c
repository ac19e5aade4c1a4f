/*
 * test-mail-smtp.c - unit tests for mail-smtp.c against a scripted
 * SMTP server on loopback (a thread of this program): a mail submitted
 * with its recipients and dot-stuffing, and the classification of every
 * outcome: 5xx on RCPT (permanent, the server's words as the reason),
 * 4xx on MAIL (temporary), a refused login (permanent, the password
 * never in the reason), no server (temporary), no STARTTLS offered
 * where it is required (permanent); SMTP URL checks.  The IMAP APPEND
 * and TLS paths run against Dovecot and Postfix in
 * tests/integration/test_send.py.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <curl/curl.h>

#include "gwlib/gwlib.h"
#include "mail-smtp.h"
#include "test-common.h"

#define OS(s) octstr_imm(s)

typedef struct {
    int listen_fd;
    int port;
    int auth;                   /* offer AUTH PLAIN */
    int mute;                   /* accept, then say nothing */
    const char *auth_reply;
    const char *mail_reply;
    const char *rcpt_reply;
    const char *data_reply;
    Octstr *seen;               /* every byte the client sent */
    Octstr *data;               /* the DATA payload */
} Fake;

static void say(int fd, const char *s)
{
    ssize_t n = write(fd, s, strlen(s));
    (void) n;
}

/* One line from fd into line (without CRLF); 0 ok, -1 closed. */
static int read_line(int fd, Octstr *line, Octstr *seen)
{
    char c;

    octstr_truncate(line, 0);
    for (;;) {
        if (read(fd, &c, 1) != 1)
            return -1;
        octstr_append_char(seen, c);
        if (c == '\n')
            break;
        if (c != '\r')
            octstr_append_char(line, c);
    }
    return 0;
}

static void fake_session(void *arg)
{
    Fake *f = arg;
    Octstr *line = octstr_create("");
    int fd = accept(f->listen_fd, NULL, NULL);

    if (fd < 0) {
        octstr_destroy(line);
        return;
    }
    if (f->mute) {
        while (read_line(fd, line, f->seen) == 0)
            ;
        close(fd);
        octstr_destroy(line);
        return;
    }
    say(fd, "220 fake.test ESMTP\r\n");
    while (read_line(fd, line, f->seen) == 0) {
        const char *l = octstr_get_cstr(line);

        if (strncasecmp(l, "EHLO", 4) == 0) {
            say(fd, f->auth ? "250-fake.test\r\n250-AUTH PLAIN\r\n"
                              "250 8BITMIME\r\n"
                            : "250-fake.test\r\n250 8BITMIME\r\n");
        } else if (strncasecmp(l, "AUTH", 4) == 0) {
            if (octstr_len(line) <= 10) {       /* no initial response */
                say(fd, "334 \r\n");
                if (read_line(fd, line, f->seen) < 0)
                    break;
            }
            say(fd, f->auth_reply);
        } else if (strncasecmp(l, "MAIL", 4) == 0) {
            say(fd, f->mail_reply);
        } else if (strncasecmp(l, "RCPT", 4) == 0) {
            say(fd, f->rcpt_reply);
        } else if (strncasecmp(l, "DATA", 4) == 0) {
            say(fd, "354 go ahead\r\n");
            while (read_line(fd, line, f->seen) == 0 &&
                   octstr_str_compare(line, ".") != 0) {
                octstr_append(f->data, line);
                octstr_append_cstr(f->data, "\r\n");
            }
            say(fd, f->data_reply);
        } else if (strncasecmp(l, "QUIT", 4) == 0) {
            say(fd, "221 bye\r\n");
            break;
        } else if (strncasecmp(l, "RSET", 4) == 0) {
            say(fd, "250 ok\r\n");
        } else {
            say(fd, "502 5.5.2 what?\r\n");
        }
    }
    close(fd);
    octstr_destroy(line);
}

static long fake_start(Fake *f)
{
    struct sockaddr_in a;
    socklen_t len = sizeof(a);
    int one = 1;

    f->listen_fd = socket(AF_INET, SOCK_STREAM, 0);
    setsockopt(f->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(f->listen_fd, (struct sockaddr *) &a, sizeof(a)) != 0 ||
        listen(f->listen_fd, 1) != 0 ||
        getsockname(f->listen_fd, (struct sockaddr *) &a, &len) != 0)
        return -1;
    f->port = ntohs(a.sin_port);
    f->seen = octstr_create("");
    f->data = octstr_create("");
    return gwthread_create(fake_session, f);
}

/* A loopback port nothing listens on (bound, then closed). */
static int closed_port(void)
{
    struct sockaddr_in a;
    socklen_t len = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM, 0), port = 1;

    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *) &a, sizeof(a)) == 0 &&
        getsockname(fd, (struct sockaddr *) &a, &len) == 0)
        port = ntohs(a.sin_port);
    close(fd);
    return port;
}

static void fake_end(Fake *f, long th)
{
    gwthread_join(th);
    close(f->listen_fd);
    octstr_destroy(f->seen);
    octstr_destroy(f->data);
}

static void fake_init(Fake *f)
{
    memset(f, 0, sizeof(*f));
    f->auth_reply = "235 2.7.0 ok\r\n";
    f->mail_reply = "250 2.1.0 ok\r\n";
    f->rcpt_reply = "250 2.1.5 ok\r\n";
    f->data_reply = "250 2.0.0 queued as X1\r\n";
}

/* Submit one test mail to the fake; returns the result. */
static int submit(Fake *f, const char *url_fmt, const Octstr *user,
                  const Octstr *secret, Octstr **why_r)
{
    MailSmtpServer srv;
    List *rcpts = gwlist_create();
    Octstr *url = octstr_format(url_fmt, f->port);
    int r;

    gwlist_append(rcpts, octstr_create("bob@example.org"));
    gwlist_append(rcpts, octstr_create("carl@example.net"));
    memset(&srv, 0, sizeof(srv));
    srv.url = url;
    srv.user = user;
    srv.secret = secret;
    srv.timeout = 5;
    r = mail_smtp_send(&srv, OS("ann@example.com"), rcpts,
                       OS("Subject: hi\r\n\r\nline one\r\n.\r\n"
                          ".dotted\r\nend\r\n"), why_r);
    gwlist_destroy(rcpts, octstr_destroy_item);
    octstr_destroy(url);
    return r;
}

static void test_sent(void)
{
    Fake f;
    long th;
    Octstr *why = NULL;
    int r;

    test_begin("smtp: a mail is submitted, dot-stuffed, to every rcpt");
    fake_init(&f);
    th = fake_start(&f);
    test_assert(th >= 0);
    r = submit(&f, "smtp://127.0.0.1:%d?tls=none", NULL, NULL, &why);
    fake_end(&f, th);
    test_assert(r == MAIL_SMTP_SENT && why == NULL);
    test_end();

    test_begin("smtp: envelope and data as sent");
    fake_init(&f);
    th = fake_start(&f);
    r = submit(&f, "smtp://127.0.0.1:%d/?tls=none", NULL, NULL, &why);
    test_assert(r == MAIL_SMTP_SENT);
    test_assert(octstr_search(f.seen, OS("MAIL FROM:<ann@example.com>"),
                              0) >= 0);
    test_assert(octstr_search(f.seen, OS("RCPT TO:<bob@example.org>"),
                              0) >= 0);
    test_assert(octstr_search(f.seen, OS("RCPT TO:<carl@example.net>"),
                              0) >= 0);
    test_assert(octstr_search(f.seen, OS("\r\n..\r\n..dotted\r\n"),
                              0) >= 0);
    test_assert(octstr_search(f.seen, OS("AUTH"), 0) < 0);
    fake_end(&f, th);
    test_end();
}

static void test_refusals(void)
{
    Fake f;
    long th;
    Octstr *why = NULL;
    int r;

    test_begin("smtp: 5xx on RCPT is permanent, with the server's words");
    fake_init(&f);
    f.rcpt_reply = "550 5.1.1 <bob@example.org>: Recipient address "
                   "rejected\r\n";
    th = fake_start(&f);
    r = submit(&f, "smtp://127.0.0.1:%d?tls=none", NULL, NULL, &why);
    fake_end(&f, th);
    test_assert(r == MAIL_SMTP_PERM);
    test_assert(why != NULL && octstr_str_compare(why, "550 5.1.1 <bob@"
                "example.org>: Recipient address rejected") == 0);
    octstr_destroy(why);
    why = NULL;
    test_end();

    test_begin("smtp: 4xx on MAIL is temporary");
    fake_init(&f);
    f.mail_reply = "451 4.3.0 try again later\r\n";
    th = fake_start(&f);
    r = submit(&f, "smtp://127.0.0.1:%d?tls=none", NULL, NULL, &why);
    fake_end(&f, th);
    test_assert(r == MAIL_SMTP_TEMP);
    test_assert(why != NULL &&
                octstr_search(why, OS("451 4.3.0 try again"), 0) == 0);
    octstr_destroy(why);
    why = NULL;
    test_end();

    test_begin("smtp: a refused login is permanent; no password in it");
    fake_init(&f);
    f.auth = 1;
    f.auth_reply = "535 5.7.8 Error: authentication failed\r\n";
    th = fake_start(&f);
    r = submit(&f, "smtp://127.0.0.1:%d?tls=none", OS("ann@example.com"),
               OS("Sup3rSecret"), &why);
    test_assert(octstr_search(f.seen, OS("AUTH PLAIN"), 0) >= 0);
    fake_end(&f, th);
    test_assert(r == MAIL_SMTP_PERM);
    test_assert(why != NULL && octstr_search(why, OS("535"), 0) == 0);
    test_assert(why != NULL &&
                octstr_search(why, OS("Sup3rSecret"), 0) < 0);
    octstr_destroy(why);
    why = NULL;
    test_end();

    test_begin("smtp: the URL's user logs in; the given one otherwise");
    fake_init(&f);
    f.auth = 1;
    th = fake_start(&f);
    r = submit(&f, "smtp://login%%40example.com@127.0.0.1:%d?tls=none",
               OS("other@example.com"), OS("pw"), &why);
    test_assert(r == MAIL_SMTP_SENT);
    /* AUTH PLAIN base64("\0login@example.com\0pw") */
    test_assert(octstr_search(f.seen, OS("AGxvZ2luQGV4YW1wbGUuY29tAHB3"),
                              0) >= 0);
    fake_end(&f, th);
    test_end();

    test_begin("smtp: STARTTLS required but not offered is permanent");
    fake_init(&f);
    th = fake_start(&f);
    r = submit(&f, "smtp://127.0.0.1:%d", NULL, NULL, &why);
    fake_end(&f, th);
    test_assert(r == MAIL_SMTP_PERM);
    test_assert(why != NULL && octstr_search(why, OS("STARTTLS"), 0) >= 0);
    octstr_destroy(why);
    why = NULL;
    test_end();

    test_begin("smtp: no server is temporary");
    fake_init(&f);
    f.port = closed_port();
    r = submit(&f, "smtp://127.0.0.1:%d?tls=none", NULL, NULL, &why);
    test_assert(r == MAIL_SMTP_TEMP);
    test_assert(why != NULL && octstr_len(why) > 0);
    octstr_destroy(why);
    why = NULL;
    test_end();
}

static volatile int cancel_flag;

static void cancel_later(void *arg)
{
    gwthread_sleep(0.5);
    cancel_flag = 1;
}

static void test_cancel(void)
{
    Fake f;
    MailSmtpServer srv;
    List *rcpts = gwlist_create();
    Octstr *url, *why = NULL;
    long th, tc;
    time_t t0;
    int r;

    test_begin("smtp: a stop gives up a silent server at once");
    fake_init(&f);
    f.mute = 1;
    th = fake_start(&f);
    url = octstr_format("smtp://127.0.0.1:%d?tls=none", f.port);
    gwlist_append(rcpts, octstr_create("bob@example.org"));
    memset(&srv, 0, sizeof(srv));
    srv.url = url;
    srv.timeout = 20;
    srv.cancel = &cancel_flag;
    cancel_flag = 0;
    tc = gwthread_create(cancel_later, NULL);
    t0 = time(NULL);
    r = mail_smtp_send(&srv, OS("a@b.org"), rcpts, OS("x\r\n"), &why);
    test_assert(r == MAIL_SMTP_TEMP && time(NULL) - t0 < 5);
    test_assert(why != NULL && octstr_str_compare(why, "stopped") == 0);
    gwthread_join(tc);
    fake_end(&f, th);
    octstr_destroy(why);
    octstr_destroy(url);
    gwlist_destroy(rcpts, octstr_destroy_item);
    test_end();
}

static void test_urls(void)
{
    Octstr *err = NULL;

    test_begin("smtp URLs");
    test_assert(mail_smtp_url_ok(OS("smtp://mail.example.com"), NULL));
    test_assert(mail_smtp_url_ok(OS("smtps://ann@example.com@mail.example"
                                    ".com:465/"), NULL));
    test_assert(mail_smtp_url_ok(OS("smtp://[::1]:2525?tls=none"), NULL));
    test_assert(mail_smtp_url_ok(OS("smtp://h.example?tls=starttls"),
                                 NULL));
    test_assert(!mail_smtp_url_ok(OS("smtps://h.example?tls=none"), &err));
    test_assert(err != NULL);
    octstr_destroy(err);
    test_assert(!mail_smtp_url_ok(OS("smtp://u:pw@h.example"), &err));
    octstr_destroy(err);
    test_assert(!mail_smtp_url_ok(OS("imap://h.example"), &err));
    octstr_destroy(err);
    test_assert(!mail_smtp_url_ok(OS("smtp://h.example/path"), &err));
    octstr_destroy(err);
    test_assert(!mail_smtp_url_ok(NULL, &err));
    octstr_destroy(err);
    test_end();

    test_begin("smtp: bad input is refused without a connection");
    {
        MailSmtpServer srv;
        List *none = gwlist_create();
        Octstr *why = NULL;

        memset(&srv, 0, sizeof(srv));
        srv.url = OS("smtp://127.0.0.1:1?tls=none");
        test_assert(mail_smtp_send(&srv, OS("a@b.org"), none, OS("x"),
                                   &why) == MAIL_SMTP_PERM);
        octstr_destroy(why);
        srv.url = OS("ftp://x");
        gwlist_append(none, octstr_create("c@d.org"));
        test_assert(mail_smtp_send(&srv, OS("a@b.org"), none, OS("x"),
                                   &why) == MAIL_SMTP_PERM);
        octstr_destroy(why);
        gwlist_destroy(none, octstr_destroy_item);
        test_assert(mail_smtp_append(NULL, OS("pw"), OS("Sent"), OS("x"),
                                     NULL, 5, NULL, &why) == MAIL_SMTP_PERM);
        octstr_destroy(why);
    }
    test_end();
}

int main(void)
{
    gwlib_init();
    log_set_output_level(GW_WARNING);
    curl_global_init(CURL_GLOBAL_ALL);
    test_sent();
    test_refusals();
    test_cancel();
    test_urls();
    curl_global_cleanup();
    gwlib_shutdown();
    return test_exit();
}
