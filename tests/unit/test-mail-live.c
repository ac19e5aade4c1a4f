/*
 * test-mail-live.c - mail-watch and mail-fetch against a real Dovecot.
 *
 * Run by tests/unit/mail-live-test.py, which starts two private Dovecots
 * (A with IDLE, B without) and passes their ports and users in the
 * environment.  Without PM_LIVE_A_IMAP the program exits 77 (skipped).
 * It asks the driver for deliveries and restarts with "CTL ..." lines on
 * stdout and reads one reply line from stdin.
 *
 * Environment: PM_LIVE_A_IMAP, PM_LIVE_A_IMAPS, PM_LIVE_A_POP3S,
 *   PM_LIVE_B_IMAP, PM_LIVE_CA, PM_LIVE_PASS (password of every user).
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gwlib/gwlib.h"
#include "mail-fetch.h"
#include "mail-watch.h"
#include "mailurl.h"
#include "test-common.h"

static List *events;
static Octstr *pass, *ca;

static const char *env(const char *name)
{
    const char *v = getenv(name);

    return v != NULL && *v ? v : NULL;
}

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Ask the driver; returns its reply line (caller frees). */
static Octstr *ctl(const char *fmt, ...)
{
    va_list ap;
    char buf[1024];

    va_start(ap, fmt);
    printf("CTL ");
    vprintf(fmt, ap);
    printf("\n");
    fflush(stdout);
    va_end(ap);
    if (fgets(buf, sizeof(buf), stdin) == NULL)
        return octstr_create("EOF");
    buf[strcspn(buf, "\n")] = 0;
    return octstr_create(buf);
}

static void deliver(const char *inst, const char *user, const char *subj)
{
    octstr_destroy(ctl("deliver %s %s %s", inst, user, subj));
}

static MailUrl *url(const char *fmt, const char *port_env, const char *user)
{
    Octstr *u = octstr_format(fmt, user, env(port_env)), *err = NULL;
    MailUrl *m = mailurl_parse(u, &err);

    if (m == NULL)
        fprintf(stderr, "bad url %s: %s\n", octstr_get_cstr(u),
                octstr_get_cstr(err));
    octstr_destroy(u);
    octstr_destroy(err);
    return m;
}

static const char *evname(enum mail_event_type t)
{
    return t == MAIL_EV_BASELINE ? "BASELINE" : t == MAIL_EV_NEW ? "NEW"
         : t == MAIL_EV_STATE ? "STATE" : "AUTH_FAILED";
}

static void print_event(MailEvent *e)
{
    printf("  event %-11s %s uv=%ld uid=%ld size=%ld%s%s%s%s%s%s%s%s\n",
           evname(e->type), octstr_get_cstr(e->key), e->uidvalidity, e->uid,
           e->size, e->state ? " state=" : "",
           e->state ? octstr_get_cstr(e->state) : "",
           e->subject ? " subject=" : "",
           e->subject ? octstr_get_cstr(e->subject) : "",
           e->uidl ? " uidl=" : "",
           e->uidl ? octstr_get_cstr(e->uidl) : "",
           e->error ? " error=" : "",
           e->error ? octstr_get_cstr(e->error) : "");
    fflush(stdout);
}

/* Wait up to `secs' for an event of `type' for `key' (and, for STATE, the
 * state `state'); other events are printed and dropped. */
static MailEvent *wait_event(enum mail_event_type type, const char *key,
                             const char *state, double secs)
{
    double until = now_s() + secs;
    MailEvent *e;

    while (now_s() < until) {
        e = gwlist_extract_first(events);
        if (e == NULL) {
            gwthread_sleep(0.01);
            continue;
        }
        print_event(e);
        if (e->type == type && octstr_str_compare(e->key, key) == 0 &&
            (state == NULL || (e->state != NULL &&
             octstr_str_compare(e->state, state) == 0)))
            return e;
        mail_event_destroy(e);
    }
    return NULL;
}

/* Count events of `type' for `key' during `secs'. */
static int count_events(enum mail_event_type type, const char *key,
                        double secs)
{
    double until = now_s() + secs;
    MailEvent *e;
    int n = 0;

    while (now_s() < until) {
        e = gwlist_extract_first(events);
        if (e == NULL) {
            gwthread_sleep(0.01);
            continue;
        }
        print_event(e);
        if (e->type == type && octstr_str_compare(e->key, key) == 0)
            n++;
        mail_event_destroy(e);
    }
    return n;
}

static void test_imap_idle(MailWatch *w, long *uv_r, long *uid_r)
{
    MailUrl *u = url("imap://%s@127.0.0.1:%s/INBOX?tls=none",
                     "PM_LIVE_A_IMAP", "ann");
    MailEvent *e;
    double t0;

    test_begin("imap idle: baseline on first sync");
    deliver("A", "ann", "old mail before watching");
    mail_watch_add(w, octstr_imm("ann"), u, pass, 0, 0, NULL);
    e = wait_event(MAIL_EV_BASELINE, "ann", NULL, 10);
    test_assert(e != NULL);
    if (e != NULL) {
        test_assert(e->uidvalidity > 0 && e->uid >= 1);
        *uv_r = e->uidvalidity;
        *uid_r = e->uid;
    }
    mail_event_destroy(e);
    e = wait_event(MAIL_EV_STATE, "ann", "idle", 10);
    test_assert(e != NULL);
    test_assert(e != NULL && e->caps != NULL &&
                octstr_search(e->caps, octstr_imm("IDLE"), 0) >= 0);
    mail_event_destroy(e);
    test_end();

    test_begin("imap idle: NEW within ~1 s of delivery");
    t0 = now_s();
    deliver("A", "ann", "Lunch tomorrow?");
    e = wait_event(MAIL_EV_NEW, "ann", NULL, 5);
    test_assert(e != NULL);
    if (e != NULL) {
        printf("  latency %.2f s\n", now_s() - t0);
        test_assert(now_s() - t0 < 2.0);
        test_assert(e->uidvalidity == *uv_r && e->uid == *uid_r + 1);
        test_assert_str(e->subject ? octstr_get_cstr(e->subject) : NULL,
                        "Lunch tomorrow?");
        test_assert(e->from != NULL &&
                    octstr_search(e->from, octstr_imm("ann.lee@example.org"),
                                  0) >= 0);
        test_assert(e->date != NULL && e->size > 100);
        *uid_r = e->uid;
    }
    mail_event_destroy(e);
    test_end();

    test_begin("imap idle: a burst gives one NEW per mail, in order");
    deliver("A", "ann", "burst 1");
    deliver("A", "ann", "burst 2");
    deliver("A", "ann", "burst 3");
    {
        int i;
        for (i = 1; i <= 3; i++) {
            e = wait_event(MAIL_EV_NEW, "ann", NULL, 5);
            test_assert(e != NULL && e->uid == *uid_r + 1);
            if (e != NULL)
                *uid_r = e->uid;
            mail_event_destroy(e);
        }
    }
    test_end();
    mailurl_destroy(u);
}

static void test_imaps_catchup(MailWatch *w, long uv, long uid)
{
    MailUrl *u = url("imaps://%s@127.0.0.1:%s/INBOX", "PM_LIVE_A_IMAPS",
                     "ann");
    MailUrl *st = url("imap://%s@localhost:%s/INBOX", "PM_LIVE_A_IMAP",
                      "ann");
    MailEvent *e;

    test_begin("imaps: known marks, catch up on mail since last_uid");
    /* we claim to have seen only up to uid-2: two NEW, no BASELINE */
    mail_watch_add(w, octstr_imm("ann-tls"), u, pass, uv, uid - 2, NULL);
    e = wait_event(MAIL_EV_NEW, "ann-tls", NULL, 10);
    test_assert(e != NULL && e->uid == uid - 1);
    mail_event_destroy(e);
    e = wait_event(MAIL_EV_NEW, "ann-tls", NULL, 5);
    test_assert(e != NULL && e->uid == uid);
    mail_event_destroy(e);
    e = wait_event(MAIL_EV_STATE, "ann-tls", "idle", 5);
    test_assert(e != NULL);
    mail_event_destroy(e);
    test_end();

    test_begin("imap STARTTLS to localhost (SNI, DNS SAN)");
    mail_watch_add(w, octstr_imm("ann-starttls"), st, pass, uv, uid, NULL);
    e = wait_event(MAIL_EV_STATE, "ann-starttls", "idle", 10);
    test_assert(e != NULL);
    mail_event_destroy(e);
    test_end();

    test_begin("imaps: UIDVALIDITY changed -> BASELINE, no NEW");
    mail_watch_add(w, octstr_imm("ann-tls"), u, pass, uv + 1, 0, NULL);
    e = wait_event(MAIL_EV_BASELINE, "ann-tls", NULL, 10);
    test_assert(e != NULL && e->uidvalidity == uv && e->uid == uid);
    mail_event_destroy(e);
    test_assert(count_events(MAIL_EV_NEW, "ann-tls", 1.0) == 0);
    test_end();
    mail_watch_remove(w, octstr_imm("ann-tls"));
    mail_watch_remove(w, octstr_imm("ann-starttls"));
    mailurl_destroy(u);
    mailurl_destroy(st);
}

static void test_bad_cert(MailWatch *w)
{
    const char *name = env("PM_LIVE_OTHER_NAME");
    Octstr *s, *err = NULL, *other_ca;
    MailUrl *u;
    MailEvent *e;

    test_begin("imaps: host name not in the certificate is refused");
    if (name == NULL) {
        printf("  (no other name for 127.0.0.1: part skipped)\n");
    } else {
        s = octstr_format("imaps://ann@%s:%s/", name,
                          env("PM_LIVE_A_IMAPS"));
        u = mailurl_parse(s, NULL);
        test_assert(u != NULL);
        if (u != NULL) {
            mail_watch_add(w, octstr_imm("badcert"), u, pass, 0, 0, NULL);
            e = wait_event(MAIL_EV_STATE, "badcert", "failing", 10);
            test_assert(e != NULL && e->error != NULL &&
                        octstr_search(e->error, octstr_imm("certificate"),
                                      0) >= 0);
            mail_event_destroy(e);
            mail_watch_remove(w, octstr_imm("badcert"));
        }
        mailurl_destroy(u);
        octstr_destroy(s);
    }
    test_end();

    test_begin("imaps: certificate from an unknown CA is refused");
    u = url("imaps://%s@127.0.0.1:%s/", "PM_LIVE_A_IMAPS", "ann");
    other_ca = octstr_create(env("PM_LIVE_OTHER_CA"));
    test_assert(mail_fetch_login_check(u, pass, other_ca, 10, &err) == -1);
    test_assert(err != NULL &&
                octstr_search(err, octstr_imm("certificate"), 0) >= 0);
    if (err)
        printf("  error: %s\n", octstr_get_cstr(err));
    octstr_destroy(err);
    octstr_destroy(other_ca);
    mailurl_destroy(u);
    test_end();
}

static void test_polling(MailWatch *w)
{
    MailUrl *u = url("imap://%s@127.0.0.1:%s/INBOX?tls=none",
                     "PM_LIVE_B_IMAP", "dan");
    MailEvent *e;
    double t0;

    test_begin("imap without IDLE: STATUS polling");
    deliver("B", "dan", "dan old");
    mail_watch_add(w, octstr_imm("dan"), u, pass, 0, 0, NULL);
    e = wait_event(MAIL_EV_BASELINE, "dan", NULL, 10);
    test_assert(e != NULL && e->uid == 1);
    mail_event_destroy(e);
    e = wait_event(MAIL_EV_STATE, "dan", "polling", 10);
    test_assert(e != NULL && e->caps != NULL &&
                octstr_search(e->caps, octstr_imm(" IDLE"), 0) < 0);
    mail_event_destroy(e);
    t0 = now_s();
    deliver("B", "dan", "polled mail");
    e = wait_event(MAIL_EV_NEW, "dan", NULL, 8);
    test_assert(e != NULL && e->uid == 2 && e->subject != NULL &&
                octstr_str_compare(e->subject, "polled mail") == 0);
    if (e != NULL)
        printf("  latency %.2f s (poll interval 2 s)\n", now_s() - t0);
    mail_event_destroy(e);
    test_end();
    mail_watch_remove(w, octstr_imm("dan"));
    mailurl_destroy(u);
}

static void test_pop3(MailWatch *w, Octstr **uidl_r)
{
    MailUrl *u = url("pop3s://%s@127.0.0.1:%s/", "PM_LIVE_A_POP3S", "bob");
    MailEvent *e;
    Octstr *known;

    test_begin("pop3s: BASELINE with all UIDLs, then NEW");
    deliver("A", "bob", "bob one");
    deliver("A", "bob", "bob two");
    mail_watch_add(w, octstr_imm("bob"), u, pass, 0, 0, NULL);
    e = wait_event(MAIL_EV_BASELINE, "bob", NULL, 10);
    test_assert(e != NULL && e->uidl != NULL &&
                octstr_search_char(e->uidl, '\n', 0) > 0);
    known = e ? octstr_duplicate(e->uidl) : octstr_create("");
    mail_event_destroy(e);
    deliver("A", "bob", "bob three");
    e = wait_event(MAIL_EV_NEW, "bob", NULL, 8);
    test_assert(e != NULL && e->uidl != NULL && e->subject != NULL &&
                octstr_str_compare(e->subject, "bob three") == 0 &&
                e->size > 100);
    test_assert(e != NULL && e->uidl != NULL &&
                octstr_search(known, e->uidl, 0) < 0);
    *uidl_r = e && e->uidl ? octstr_duplicate(e->uidl) : NULL;
    mail_event_destroy(e);
    test_end();

    test_begin("pop3s: known UIDLs given, no repeats");
    mail_watch_remove(w, octstr_imm("bob"));
    octstr_append_char(known, '\n');
    if (*uidl_r)
        octstr_append(known, *uidl_r);
    mail_watch_add(w, octstr_imm("bob"), u, pass, 0, 0, known);
    test_assert(count_events(MAIL_EV_NEW, "bob", 3.0) == 0);
    test_end();
    mail_watch_remove(w, octstr_imm("bob"));
    octstr_destroy(known);
    mailurl_destroy(u);
}

static void test_fetch(long uv, long uid, const Octstr *uidl)
{
    MailUrl *u = url("imap://%s@localhost:%s/INBOX", "PM_LIVE_A_IMAP", "ann");
    MailUrl *p = url("pop3s://%s@127.0.0.1:%s/", "PM_LIVE_A_POP3S", "bob");
    Octstr *raw = NULL, *err = NULL, *flags;
    int ret;

    test_begin("fetch: IMAP whole message, \\Seen not set");
    ret = mail_fetch_message(u, pass, ca, 10, uv, uid, NULL, 1000000,
                             &raw, &err);
    test_assert(ret == 0);
    test_assert(raw != NULL &&
                octstr_search(raw, octstr_imm("Subject: burst 3"), 0) >= 0 &&
                octstr_search(raw, octstr_imm("Shall we meet"), 0) >= 0);
    if (err)
        printf("  error: %s\n", octstr_get_cstr(err));
    octstr_destroy(raw);
    octstr_destroy(err);
    raw = err = NULL;
    flags = ctl("flags A ann %ld", uid);
    printf("  flags of UID %ld: %s\n", uid, octstr_get_cstr(flags));
    test_assert(octstr_search(flags, octstr_imm("OK"), 0) == 0);
    test_assert(octstr_search(flags, octstr_imm("\\Seen"), 0) < 0);
    octstr_destroy(flags);
    test_end();

    test_begin("fetch: IMAP truncated at max_size");
    ret = mail_fetch_message(u, pass, ca, 10, uv, uid, NULL, 50, &raw, &err);
    test_assert(ret == 1 && raw != NULL && octstr_len(raw) == 50);
    octstr_destroy(raw);
    octstr_destroy(err);
    raw = err = NULL;
    test_end();

    test_begin("fetch: IMAP gone (unknown UID, changed UIDVALIDITY)");
    ret = mail_fetch_message(u, pass, ca, 10, uv, uid + 1000, NULL, 1000,
                             &raw, &err);
    test_assert(ret == -2 && raw == NULL && err != NULL);
    octstr_destroy(err);
    err = NULL;
    ret = mail_fetch_message(u, pass, ca, 10, uv + 1, uid, NULL, 1000,
                             &raw, &err);
    test_assert(ret == -2 && raw == NULL && err != NULL);
    octstr_destroy(err);
    err = NULL;
    test_end();

    test_begin("fetch: POP3 by UIDL, and gone");
    if (uidl != NULL) {
        ret = mail_fetch_message(p, pass, ca, 10, 0, 0, uidl, 1000000,
                                 &raw, &err);
        test_assert(ret == 0 && raw != NULL &&
                    octstr_search(raw, octstr_imm("Subject: bob three"), 0)
                    >= 0);
        octstr_destroy(raw);
        octstr_destroy(err);
        raw = err = NULL;
    }
    ret = mail_fetch_message(p, pass, ca, 10, 0, 0, octstr_imm("nosuch"),
                             1000, &raw, &err);
    test_assert(ret == -2 && err != NULL);
    octstr_destroy(err);
    err = NULL;
    test_end();

    test_begin("login check: good and bad password");
    test_assert(mail_fetch_login_check(u, pass, ca, 10, &err) == 0);
    test_assert(err == NULL);
    test_assert(mail_fetch_login_check(p, pass, ca, 10, &err) == 0);
    test_assert(mail_fetch_login_check(u, octstr_imm("WrongPw1"), ca, 10,
                                       &err) == -1);
    test_assert(err != NULL &&
                octstr_search(err, octstr_imm("WrongPw1"), 0) < 0);
    if (err)
        printf("  error: %s\n", octstr_get_cstr(err));
    octstr_destroy(err);
    err = NULL;
    test_assert(mail_fetch_login_check(p, octstr_imm("WrongPw1"), ca, 10,
                                       &err) == -1);
    if (err)
        printf("  error: %s\n", octstr_get_cstr(err));
    octstr_destroy(err);
    test_end();
    mailurl_destroy(u);
    mailurl_destroy(p);
}

static void test_auth_failed(MailWatch *w)
{
    MailUrl *u = url("imap://%s@127.0.0.1:%s/INBOX?tls=none",
                     "PM_LIVE_A_IMAP", "carl");
    MailEvent *e;

    test_begin("wrong password: AUTH_FAILED once, no tight loop");
    mail_watch_add(w, octstr_imm("carl"), u, octstr_imm("WrongPw1"), 0, 0,
                   NULL);
    e = wait_event(MAIL_EV_AUTH_FAILED, "carl", NULL, 40);
    test_assert(e != NULL && e->error != NULL &&
                octstr_search(e->error, octstr_imm("WrongPw1"), 0) < 0);
    mail_event_destroy(e);
    test_assert(count_events(MAIL_EV_AUTH_FAILED, "carl", 4.0) == 0);
    {
        List *st = mail_watch_status(w);
        long i;
        int seen = 0;
        for (i = 0; i < gwlist_len(st); i++) {
            MailWatchStatus *s = gwlist_get(st, i);
            if (octstr_str_compare(s->key, "carl") == 0) {
                seen = 1;
                test_assert(octstr_str_compare(s->state, "failing") == 0);
                test_assert(s->error != NULL);
            }
        }
        test_assert(seen);
        gwlist_destroy(st, mail_watch_status_destroy_item);
    }
    test_end();
    mail_watch_remove(w, octstr_imm("carl"));
    mailurl_destroy(u);
}

static void test_restart(MailWatch *w, long *uid)
{
    MailEvent *e;
    Octstr *r;

    test_begin("server killed and restarted: reconnect, then NEW");
    r = ctl("stop A");
    octstr_destroy(r);
    e = wait_event(MAIL_EV_STATE, "ann", "failing", 10);
    test_assert(e != NULL);
    mail_event_destroy(e);
    gwthread_sleep(2);
    r = ctl("start A");
    octstr_destroy(r);
    e = wait_event(MAIL_EV_STATE, "ann", "idle", 20);
    test_assert(e != NULL);
    mail_event_destroy(e);
    deliver("A", "ann", "after restart");
    e = wait_event(MAIL_EV_NEW, "ann", NULL, 5);
    test_assert(e != NULL && e->uid == *uid + 1 && e->subject != NULL &&
                octstr_str_compare(e->subject, "after restart") == 0);
    mail_event_destroy(e);
    test_end();
}

static void test_8bit_and_refresh(const MailWatchConf *base)
{
    MailWatchConf conf = *base;
    MailWatch *w;
    MailUrl *u = url("imap://%s@127.0.0.1:%s/INBOX?tls=none",
                     "PM_LIVE_A_IMAP", "eve");
    MailUrl *p = url("pop3s://%s@127.0.0.1:%s/", "PM_LIVE_A_POP3S", "eve");
    Octstr *pass2 = octstr_create(env("PM_LIVE_PASS2")), *err = NULL;
    MailEvent *e;

    test_begin("8-bit password (AUTHENTICATE PLAIN), IDLE refresh");
    conf.idle_refresh = 1;
    w = mail_watch_create(&conf, events);
    mail_watch_add(w, octstr_imm("eve"), u, pass2, 0, 0, NULL);
    e = wait_event(MAIL_EV_BASELINE, "eve", NULL, 10);
    test_assert(e != NULL && e->uid == 0);
    mail_event_destroy(e);
    /* several IDLE refreshes happen meanwhile; no state change */
    test_assert(count_events(MAIL_EV_STATE, "eve", 3.5) == 1);
    deliver("A", "eve", "after refreshes");
    e = wait_event(MAIL_EV_NEW, "eve", NULL, 5);
    test_assert(e != NULL && e->uid == 1);
    mail_event_destroy(e);
    test_assert(mail_fetch_login_check(p, pass2, ca, 10, &err) == 0);
    if (err)
        printf("  error: %s\n", octstr_get_cstr(err));
    octstr_destroy(err);
    mail_watch_destroy(&w);
    test_end();
    octstr_destroy(pass2);
    mailurl_destroy(u);
    mailurl_destroy(p);
}

int main(void)
{
    MailWatchConf conf;
    MailWatch *w;
    long uv = 0, uid = 0;
    Octstr *uidl = NULL;
    MailEvent *e;
    double t0;
    int ret;

    if (env("PM_LIVE_A_IMAP") == NULL) {
        printf("skipped: run through tests/unit/mail-live-test.py\n");
        return 77;
    }
    gwlib_init();
    log_set_output_level(getenv("PM_LIVE_DEBUG") ? GW_DEBUG : GW_WARNING);
    pass = octstr_create(env("PM_LIVE_PASS"));
    ca = octstr_create(env("PM_LIVE_CA"));
    events = gwlist_create();
    conf.ca_file = ca;
    conf.poll_interval = 2;
    conf.idle_refresh = 600;
    conf.connect_timeout = 10;
    w = mail_watch_create(&conf, events);

    test_imap_idle(w, &uv, &uid);
    test_imaps_catchup(w, uv, uid);
    test_bad_cert(w);
    test_polling(w);
    test_pop3(w, &uidl);
    test_fetch(uv, uid, uidl);
    test_auth_failed(w);
    test_restart(w, &uid);
    test_8bit_and_refresh(&conf);

    test_begin("destroy joins within ~1 s");
    t0 = now_s();
    mail_watch_destroy(&w);
    printf("  destroy took %.3f s\n", now_s() - t0);
    test_assert(w == NULL && now_s() - t0 < 1.5);
    test_end();

    while ((e = gwlist_extract_first(events)) != NULL)
        mail_event_destroy(e);
    gwlist_destroy(events, NULL);
    octstr_destroy(uidl);
    octstr_destroy(pass);
    octstr_destroy(ca);
    ret = test_exit();
    gwlib_shutdown();
    return ret;
}
