/*
 * test-store.c - unit tests for the store (store*.c) on SQLite3 and, when
 * PM_TEST_MYSQL="host:port:user:pass:db" is set, on MySQL/MariaDB too:
 * every exported function, hostile values (quotes, binary bytes, control
 * characters), duplicate mails, concurrent store_mail_add() and notice
 * rate limits from two threads, schema version refusal.
 *
 * A private MariaDB: tests/unit/mariadb-test.sh start DIR prints the
 * PM_TEST_MYSQL value; tests/unit/mariadb-test.sh stop DIR ends it.
 * The MySQL variant drops and recreates the pm_* tables of that database.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "gwlib/gwlib.h"
#include "gwlib/dbpool.h"
#include "store.h"
#include "store-mms.h"
#include "pm-secret.h"
#include "test-common.h"

#define THREAD_ADDS 60

static char dir[] = "/tmp/pm-test-store-XXXXXX";
static Octstr *key_file;
static char label[64];

/* ------------------------------------------------------------------ */

/* Run raw SQL on a pool of its own (test setup only). */
static int raw_exec(const PmDbConf *db, const char *sql)
{
    DBConf *conf = gw_malloc(sizeof(*conf));
    DBPool *pool;
    DBPoolConn *c;
    Octstr *q = octstr_create(sql);
    int r = -1;

    if (db->type == PM_DB_MYSQL) {
        conf->mysql = gw_malloc(sizeof(MySQLConf));
        conf->mysql->host = octstr_duplicate(db->host);
        conf->mysql->port = db->port;
        conf->mysql->username = octstr_duplicate(db->username);
        conf->mysql->password = octstr_duplicate(db->password);
        conf->mysql->database = octstr_duplicate(db->database);
        pool = dbpool_create(DBPOOL_MYSQL, conf, 1);
    } else {
        conf->sqlite3 = gw_malloc(sizeof(SQLite3Conf));
        conf->sqlite3->file = octstr_duplicate(db->file);
        conf->sqlite3->lock_timeout = 5000;
        pool = dbpool_create(DBPOOL_SQLITE3, conf, 1);
    }
    c = dbpool_conn_consume(pool);
    if (c != NULL) {
        r = dbpool_conn_update(c, q, NULL);
        dbpool_conn_produce(c);
    }
    dbpool_destroy(pool);
    octstr_destroy(q);
    return r;
}

static void drop_tables(const PmDbConf *db)
{
    const char *t[] = { "pm_schema", "pm_meta", "pm_binding", "pm_watch",
                        "pm_mail", "pm_page", "pm_mt", "pm_mo",
                        "pm_notice", "pm_mms", "pm_token", "pm_outmail" };
    size_t i;

    for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        Octstr *q = octstr_format("DROP TABLE IF EXISTS %s", t[i]);
        raw_exec(db, octstr_get_cstr(q));
        octstr_destroy(q);
    }
}

static void begin(const char *name)
{
    static char buf[128];

    snprintf(buf, sizeof(buf), "%s: %s", label, name);
    test_begin(buf);
}

static StoreBinding *binding(const char *msisdn, const char *url)
{
    StoreBinding *b = gw_malloc(sizeof(*b));

    memset(b, 0, sizeof(*b));
    b->msisdn = octstr_create(msisdn);
    b->mailbox_url = octstr_create(url);
    b->prompt_mode = octstr_create("sms");
    b->deliver_mode = octstr_create("sms");
    return b;
}

static StoreMail mail_uid(long uidvalidity, long uid)
{
    StoreMail m;

    memset(&m, 0, sizeof(m));
    m.uidvalidity = uidvalidity;
    m.uid = uid;
    m.date = 1700000000;
    m.size = 1234;
    return m;
}

/* 1 if mail n of msisdn exists. */
static int store_mail_get_n(Store *s, const Octstr *msisdn, long n)
{
    StoreMail *m = store_mail_get(s, msisdn, n);
    int r = m != NULL;

    store_mail_destroy(m);
    return r;
}

/* ------------------------------------------------------------------ */

static void test_bindings(Store *s)
{
    StoreBinding *b, *g;
    Octstr *m1 = octstr_imm("+46701234567"), *m2 = octstr_imm("+4612345678");
    Octstr *sec, *got, *evil;
    List *l;
    long gen0, gen;

    begin("binding put/get with hostile values");
    gen0 = store_bindings_generation(s);
    test_assert(gen0 >= 0);
    b = binding("+46701234567", "imap://ann%40example.com@mail.example.com");
    b->address = octstr_create("o'neil\"; DROP TABLE pm_binding; --@x.org");
    b->smtp_url = octstr_create("smtp://mail.example.com:587");
    b->prompt_mode = (octstr_destroy(b->prompt_mode),
                      octstr_create("wap-push"));
    sec = octstr_create_from_data("pa'ss\0wo\"rd\xff;--", 15);
    test_assert(store_binding_put(s, b, sec) == 0);
    g = store_binding_get(s, m1);
    test_assert(g != NULL);
    if (g != NULL) {
        test_assert(octstr_compare(g->address, b->address) == 0);
        test_assert(octstr_compare(g->mailbox_url, b->mailbox_url) == 0);
        test_assert(octstr_compare(g->smtp_url, b->smtp_url) == 0);
        test_assert_str(octstr_get_cstr(g->prompt_mode), "wap-push");
        test_assert_str(octstr_get_cstr(g->deliver_mode), "sms");
        test_assert(g->paused == 0);
        test_assert(g->created > 0 && g->updated >= g->created);
    }
    store_binding_destroy(g);
    got = store_binding_secret(s, m1);
    test_assert(got != NULL && octstr_compare(got, sec) == 0);
    pm_secret_wipe(got);
    gen = store_bindings_generation(s);
    test_assert(gen == gen0 + 1);
    test_assert(store_binding_count(s) == 1);
    test_end();

    begin("binding list, count, unknown numbers");
    g = binding("+4612345678", "pop3://bob@pop.example.net?tls=none");
    test_assert(store_binding_put(s, g, NULL) == 0);
    l = store_binding_list(s);
    test_assert(l != NULL && gwlist_len(l) == 2);
    if (l != NULL && gwlist_len(l) == 2) {
        StoreBinding *x = gwlist_get(l, 0), *y = gwlist_get(l, 1);
        test_assert_str(octstr_get_cstr(x->msisdn), "+4612345678");
        test_assert_str(octstr_get_cstr(y->msisdn), "+46701234567");
        test_assert(x->address == NULL && x->smtp_url == NULL);
    }
    gwlist_destroy(l, store_binding_destroy_item);
    test_assert(store_binding_secret(s, m2) == NULL);     /* none stored */
    test_assert(store_binding_count(s) == 2);
    test_assert(store_binding_get(s, octstr_imm("+4699999999")) == NULL);
    evil = octstr_create("+46' OR '1'='1");
    test_assert(store_binding_get(s, evil) == NULL);
    test_assert(store_binding_delete(s, evil) == -1);
    octstr_destroy(evil);
    test_assert(store_binding_put(s, NULL, NULL) == -1);
    store_binding_destroy(g);
    test_end();

    begin("binding set_paused / set_modes / set_mail");
    gen = store_bindings_generation(s);
    test_assert(store_binding_set_paused(s, m1, 1) == 1);
    test_assert(store_binding_set_paused(s, m1, 1) == 1);   /* no change */
    g = store_binding_get(s, m1);
    test_assert(g != NULL && g->paused == 1);
    store_binding_destroy(g);
    test_assert(store_binding_set_paused(s, m1, 0) == 1);
    test_assert(store_binding_set_paused(s, octstr_imm("+4699999999"),
                                         1) == 0);
    test_assert(store_binding_set_modes(s, m1, NULL, "mms") == 1);
    test_assert(store_binding_set_modes(s, m1, "sms", NULL) == 1);
    test_assert(store_binding_set_modes(s, m1, "fax", NULL) == -1);
    test_assert(store_binding_set_modes(s, m1, NULL, "mms'") == -1);
    test_assert(store_binding_set_mail(s, m1, octstr_imm(""),
                                       octstr_imm("ann@example.com")) == 1);
    g = store_binding_get(s, m1);
    test_assert(g != NULL);
    if (g != NULL) {
        test_assert_str(octstr_get_cstr(g->prompt_mode), "sms");
        test_assert_str(octstr_get_cstr(g->deliver_mode), "mms");
        test_assert(g->smtp_url == NULL);
        test_assert_str(octstr_get_cstr(g->address), "ann@example.com");
    }
    store_binding_destroy(g);
    test_assert(store_bindings_generation(s) == gen + 6);
    test_end();

    begin("binding put replace keeps or resets mailbox state");
    test_assert(store_watch_set_baseline(s, m1, 77, 10, NULL) == 0);
    {
        StoreMail m = mail_uid(77, 11);
        StoreWatch w;

        test_assert(store_mail_add(s, m1, &m) == 1 && m.n == 1);
        /* same URL, new secret: state kept */
        b->paused = 1;
        octstr_destroy(sec);
        sec = octstr_create("new secret");
        test_assert(store_binding_put(s, b, sec) == 0);
        test_assert(store_watch_get(s, m1, &w) == 0 && w.uidvalidity == 77 &&
                    w.last_uid == 11);
        store_watch_clear(&w);
        test_assert(store_mail_get_n(s, m1, 1));
        got = store_binding_secret(s, m1);
        test_assert(got != NULL &&
                    octstr_str_compare(got, "new secret") == 0);
        pm_secret_wipe(got);
        /* NULL secret keeps the stored one */
        test_assert(store_binding_put(s, b, NULL) == 0);
        got = store_binding_secret(s, m1);
        test_assert(got != NULL &&
                    octstr_str_compare(got, "new secret") == 0);
        pm_secret_wipe(got);
        /* a different mailbox: watch, index and paging reset */
        test_assert(store_page_set(s, m1, 1, 2) == 0);
        octstr_destroy(b->mailbox_url);
        b->mailbox_url = octstr_create("imaps://ann@other.example.com");
        test_assert(store_binding_put(s, b, NULL) == 0);
        test_assert(store_watch_get(s, m1, &w) == 0 && w.uidvalidity == 0 &&
                    w.last_uid == 0 && w.uidls == NULL);
        store_watch_clear(&w);
        test_assert(!store_mail_get_n(s, m1, 1));
        test_assert(store_page_get(s, m1, NULL, NULL) == 1);
        /* numbers are never reused: the next mail gets n = 2 */
        m = mail_uid(5, 1);
        test_assert(store_mail_add(s, m1, &m) == 1 && m.n == 2);
        g = store_binding_get(s, m1);
        test_assert(g != NULL && g->paused == 1);
        store_binding_destroy(g);
    }
    test_end();

    store_binding_destroy(b);
    octstr_destroy(sec);
}

/* ------------------------------------------------------------------ */

static void test_watch_and_mail(Store *s)
{
    Octstr *m1 = octstr_imm("+46701234567"), *m2 = octstr_imm("+4612345678");
    StoreWatch w;
    StoreMail m, *g;
    List *l;
    Octstr *caps, *err;

    begin("watch state");
    test_assert(store_watch_get(s, octstr_imm("+4699999999"), &w) == 0 &&
                w.uidvalidity == 0 && w.uidls == NULL && w.state == NULL);
    test_assert(store_watch_set_baseline(s, m2, 0, 0,
                                         octstr_imm("a1\nb'2")) == 0);
    caps = octstr_create("IMAP4rev1 IDLE \"x'\"");
    err = octstr_create("login failed: \x01\x02 bad'\"");
    test_assert(store_watch_set_status(s, m2, "auth-failed", err,
                                       caps) == 0);
    test_assert(store_watch_set_status(s, m2, NULL, NULL, NULL) == 0);
    test_assert(store_watch_get(s, m2, &w) == 0);
    test_assert(w.uidls != NULL &&
                octstr_str_compare(w.uidls, "a1\nb'2") == 0);
    test_assert(w.caps != NULL && octstr_compare(w.caps, caps) == 0);
    test_assert(w.state != NULL &&
                octstr_str_compare(w.state, "auth-failed") == 0);
    test_assert(w.last_error != NULL &&
                octstr_str_compare(w.last_error,
                                   "login failed:    bad'\"") == 0);
    store_watch_clear(&w);
    test_assert(store_watch_set_status(s, m2, "idle", NULL, NULL) == 0);
    test_assert(store_watch_get(s, m2, &w) == 0 &&
                octstr_str_compare(w.state, "idle") == 0 &&
                w.caps != NULL);
    store_watch_clear(&w);
    octstr_destroy(caps);
    octstr_destroy(err);
    test_end();

    begin("mail add: IMAP dedupe and last_uid");
    test_assert(store_watch_set_baseline(s, m1, 5, 1, NULL) == 0);
    m = mail_uid(5, 20);
    m.sender = octstr_create("\"O'Brien, Ann\" <ann@x.org>");
    m.subject = octstr_create_from_data("Lunch\r\n'; --\0x \xc3\xa5", 17);
    test_assert(store_mail_add(s, m1, &m) == 1 && m.n == 3);
    m.n = 0;
    test_assert(store_mail_add(s, m1, &m) == 0 && m.n == 3);
    octstr_destroy(m.sender);
    octstr_destroy(m.subject);
    m = mail_uid(5, 19);
    test_assert(store_mail_add(s, m1, &m) == 1 && m.n == 4);
    m = mail_uid(6, 20);                      /* new UIDVALIDITY */
    test_assert(store_mail_add(s, m1, &m) == 1 && m.n == 5);
    test_assert(store_watch_get(s, m1, &w) == 0 && w.last_uid == 20);
    store_watch_clear(&w);
    g = store_mail_get(s, m1, 3);
    test_assert(g != NULL);
    if (g != NULL) {
        test_assert(g->uidvalidity == 5 && g->uid == 20 && g->uidl == NULL);
        test_assert_str(octstr_get_cstr(g->sender),
                        "\"O'Brien, Ann\" <ann@x.org>");
        test_assert(octstr_len(g->subject) == 17 &&
                    memcmp(octstr_get_cstr(g->subject),
                           "Lunch  '; -- x \xc3\xa5", 17) == 0);
        test_assert(g->date == 1700000000 && g->size == 1234);
        test_assert(g->prompt_state == STORE_PROMPT_PENDING);
    }
    store_mail_destroy(g);
    test_assert(store_mail_get(s, m1, 99) == NULL);
    test_assert(store_mail_get(s, m2, 3) == NULL);   /* scoped per binding */
    m = mail_uid(5, 0);                       /* neither uid nor uidl */
    test_assert(store_mail_add(s, m1, &m) == -1);
    m = mail_uid(5, 30);
    test_assert(store_mail_add(s, octstr_imm("+4699999999"), &m) == -1);
    test_end();

    begin("mail add: POP3 UIDLs");
    m = mail_uid(0, 0);
    m.uidl = octstr_create("UID'\"1");
    test_assert(store_mail_add(s, m2, &m) == 1 && m.n == 1);
    test_assert(store_mail_add(s, m2, &m) == 0 && m.n == 1);
    octstr_destroy(m.uidl);
    m.uidl = octstr_create("uid'\"1");        /* UIDLs are case-sensitive */
    test_assert(store_mail_add(s, m2, &m) == 1 && m.n == 2);
    octstr_destroy(m.uidl);
    m.uidl = octstr_create("a1");             /* already in the baseline */
    test_assert(store_mail_add(s, m2, &m) == 1 && m.n == 3);
    octstr_destroy(m.uidl);
    m.uidl = octstr_create("bad uidl");
    test_assert(store_mail_add(s, m2, &m) == -1);
    octstr_destroy(m.uidl);
    test_assert(store_watch_get(s, m2, &w) == 0 && w.uidls != NULL &&
                octstr_str_compare(w.uidls,
                                   "a1\nb'2\nUID'\"1\nuid'\"1") == 0);
    store_watch_clear(&w);
    g = store_mail_get(s, m2, 1);
    test_assert(g != NULL && g->uid == 0 && g->uidl != NULL &&
                octstr_str_compare(g->uidl, "UID'\"1") == 0);
    store_mail_destroy(g);
    test_end();

    begin("mail latest, pending, prompt state");
    l = store_mail_latest(s, m1, 2);
    test_assert(l != NULL && gwlist_len(l) == 2);
    if (l != NULL && gwlist_len(l) == 2)
        test_assert(((StoreMail *) gwlist_get(l, 0))->n == 5 &&
                    ((StoreMail *) gwlist_get(l, 1))->n == 4);
    gwlist_destroy(l, store_mail_destroy_item);
    l = store_mail_latest(s, m1, 0);
    test_assert(l != NULL && gwlist_len(l) == 0);
    gwlist_destroy(l, NULL);
    l = store_mail_pending(s, m1);
    test_assert(l != NULL && gwlist_len(l) == 4);
    if (l != NULL && gwlist_len(l) == 4)
        test_assert(((StoreMail *) gwlist_get(l, 0))->n == 2 &&
                    ((StoreMail *) gwlist_get(l, 3))->n == 5);
    gwlist_destroy(l, store_mail_destroy_item);
    l = store_mail_pending_msisdns(s);
    test_assert(l != NULL && gwlist_len(l) == 2);
    if (l != NULL && gwlist_len(l) == 2)
        test_assert(octstr_compare(gwlist_get(l, 0), m2) == 0 &&
                    octstr_compare(gwlist_get(l, 1), m1) == 0);
    gwlist_destroy(l, octstr_destroy_item);
    test_assert(store_mail_set_prompt_state(s, m1, 2, 3,
                                            STORE_PROMPT_SKIPPED) == 2);
    test_assert(store_mail_set_prompt_state(s, m1, 2, 4,
                                            STORE_PROMPT_SENT) == 1);
    test_assert(store_mail_set_prompt_state(s, m1, 1, 9,
                                            STORE_PROMPT_PENDING) == 0);
    test_assert(store_mail_set_prompt_state(s, m1, 1, 9, 7) == -1);
    g = store_mail_get(s, m1, 2);
    test_assert(g != NULL && g->prompt_state == STORE_PROMPT_SKIPPED);
    store_mail_destroy(g);
    g = store_mail_get(s, m1, 4);
    test_assert(g != NULL && g->prompt_state == STORE_PROMPT_SENT);
    store_mail_destroy(g);
    test_assert(store_mail_set_prompt_state(s, m2, 1, 3,
                                            STORE_PROMPT_SENT) == 3);
    l = store_mail_pending_msisdns(s);
    test_assert(l != NULL && gwlist_len(l) == 1);
    gwlist_destroy(l, octstr_destroy_item);
    test_end();

    begin("paging");
    test_assert(store_page_get(s, m1, NULL, NULL) == 1);
    test_assert(store_page_set(s, m1, 4, 2) == 0);
    test_assert(store_page_set(s, m1, 4, 2) == 0);
    {
        long n = 0, p = 0;
        test_assert(store_page_get(s, m1, &n, &p) == 0 && n == 4 && p == 2);
        test_assert(store_page_set(s, m1, 5, 3) == 0);
        test_assert(store_page_get(s, m1, &n, &p) == 0 && n == 5 && p == 3);
    }
    test_assert(store_page_set(s, octstr_imm("+4699999999"), 1, 1) == 0);
    test_assert(store_page_get(s, octstr_imm("+4699999999"), NULL,
                               NULL) == 1);
    test_end();
}

/* ------------------------------------------------------------------ */

typedef struct {
    Store *s;
    long base;          /* first uid */
    long n[THREAD_ADDS];
    int r[THREAD_ADDS];
    int notice;
} Worker;

static void add_worker(void *arg)
{
    Worker *w = arg;
    long i;

    for (i = 0; i < THREAD_ADDS; i++) {
        /* uids overlap between the two workers on purpose */
        StoreMail m = mail_uid(900, w->base + i);
        w->r[i] = store_mail_add(w->s, octstr_imm("+4612345678"), &m);
        w->n[i] = m.n;
    }
}

static void notice_worker(void *arg)
{
    Worker *w = arg;

    w->notice = store_notice_allow(w->s, octstr_imm("+4711111111"), "race",
                                   3600, 1000);
}

static int cmp_long(const void *a, const void *b)
{
    long x = *(const long *) a, y = *(const long *) b;
    return x < y ? -1 : x > y;
}

static void test_threads(Store *s)
{
    Worker a, b;
    long all[2 * THREAD_ADDS], added = 0, i, j, first;
    List *l;
    long t1, t2;

    begin("concurrent mail_add never shares an n");
    memset(&a, 0, sizeof(a));
    memset(&b, 0, sizeof(b));
    a.s = b.s = s;
    a.base = 1000;
    b.base = 1000 + THREAD_ADDS / 2;
    l = store_mail_latest(s, octstr_imm("+4612345678"), 1);
    first = l != NULL && gwlist_len(l) == 1 ?
            ((StoreMail *) gwlist_get(l, 0))->n + 1 : -1;
    gwlist_destroy(l, store_mail_destroy_item);
    t1 = gwthread_create(add_worker, &a);
    t2 = gwthread_create(add_worker, &b);
    gwthread_join(t1);
    gwthread_join(t2);
    for (i = 0; i < THREAD_ADDS; i++) {
        test_assert(a.r[i] >= 0 && b.r[i] >= 0);
        if (a.r[i] == 1)
            all[added++] = a.n[i];
        if (b.r[i] == 1)
            all[added++] = b.n[i];
    }
    /* distinct uids: 1.5 * THREAD_ADDS, numbered first .. consecutively */
    test_assert(added == THREAD_ADDS + THREAD_ADDS / 2);
    qsort(all, added, sizeof(long), cmp_long);
    for (i = 0; i < added; i++)
        test_assert(all[i] == first + i);
    /* the overlapping uids got the same n in both workers */
    for (i = THREAD_ADDS / 2; i < THREAD_ADDS; i++) {
        j = i - THREAD_ADDS / 2;
        test_assert(a.n[i] == b.n[j] && a.n[i] > 0);
    }
    test_end();

    begin("concurrent notice_allow: exactly one wins");
    a.notice = b.notice = -2;
    t1 = gwthread_create(notice_worker, &a);
    t2 = gwthread_create(notice_worker, &b);
    gwthread_join(t1);
    gwthread_join(t2);
    test_assert(a.notice + b.notice == 1 && a.notice >= 0 && b.notice >= 0);
    test_end();
}

/* ------------------------------------------------------------------ */

static void test_queues(Store *s)
{
    StoreMt mt, *g;
    StoreMo mo;
    List *l;
    Octstr *id1, *id2, *text, *udh, *bad;
    Octstr *m1 = octstr_imm("+46701234567");
    long now = (long) time(NULL);
    StoreMail ml;
    int i;

    begin("store_new_id");
    id1 = store_new_id();
    id2 = store_new_id();
    test_assert(octstr_len(id1) == 32 && octstr_compare(id1, id2) != 0);
    for (i = 0; i < 32; i++)
        test_assert(strchr("0123456789abcdef",
                           octstr_get_char(id1, i)) != NULL);
    test_end();

    begin("mt add with prompt marking, binary text");
    ml = mail_uid(6, 21);
    test_assert(store_mail_add(s, m1, &ml) == 1);
    memset(&mt, 0, sizeof(mt));
    mt.id = id1;
    mt.msisdn = m1;
    mt.sender = octstr_imm("1234'5");
    text = octstr_create_from_data("\0H\0i\0'\"\xff\xfe\n", 11);
    udh = octstr_create_from_data("\x06\x05\x04\x0b\x84\x23\xf0", 7);
    mt.text = text;
    mt.udh = udh;
    mt.coding = 2;
    mt.kind = 0;
    mt.state = STORE_MT_FAILED;              /* ignored: always QUEUED */
    test_assert(store_mt_add(s, &mt, m1, ml.n, ml.n) == 0);
    {
        StoreMail *gm = store_mail_get(s, m1, ml.n);
        test_assert(gm != NULL && gm->prompt_state == STORE_PROMPT_SENT);
        store_mail_destroy(gm);
    }
    test_assert(store_mt_add(s, &mt, NULL, 0, 0) == -1);     /* same id */
    mt.id = id2;
    mt.text = octstr_imm("plain reply");
    mt.udh = NULL;
    mt.coding = 0;
    mt.kind = 1;
    mt.sender = NULL;
    test_assert(store_mt_add(s, &mt, NULL, 0, 0) == 0);
    bad = octstr_create("0123456789abcdef0123456789ABCDEF");
    mt.id = bad;
    test_assert(store_mt_add(s, &mt, NULL, 0, 0) == -1);
    octstr_destroy(bad);
    g = store_mt_get(s, id1);
    test_assert(g != NULL);
    if (g != NULL) {
        test_assert(octstr_compare(g->text, text) == 0);
        test_assert(octstr_compare(g->udh, udh) == 0);
        test_assert_str(octstr_get_cstr(g->sender), "1234'5");
        test_assert(g->coding == 2 && g->kind == 0 && g->attempts == 0);
        test_assert(g->state == STORE_MT_QUEUED && g->dlr_status == 0);
        test_assert(g->created >= now && g->next_try >= now);
    }
    store_mt_destroy(g);
    g = store_mt_get(s, id2);
    test_assert(g != NULL && g->udh == NULL && g->sender == NULL &&
                octstr_str_compare(g->text, "plain reply") == 0);
    store_mt_destroy(g);
    test_end();

    begin("mt due, state, requeue, dlr, counts");
    l = store_mt_due(s, now + 10, 10);
    test_assert(l != NULL && gwlist_len(l) == 2);
    if (l != NULL && gwlist_len(l) == 2)
        test_assert(octstr_compare(((StoreMt *) gwlist_get(l, 0))->id,
                                   id1) == 0);
    gwlist_destroy(l, store_mt_destroy_item);
    l = store_mt_due(s, now - 10, 10);
    test_assert(l != NULL && gwlist_len(l) == 0);
    gwlist_destroy(l, store_mt_destroy_item);
    l = store_mt_due(s, now + 10, 1);
    test_assert(l != NULL && gwlist_len(l) == 1);
    gwlist_destroy(l, store_mt_destroy_item);
    test_assert(store_mt_count(s, STORE_MT_QUEUED) == 2);
    test_assert(store_mt_set_state(s, id1, STORE_MT_SENT, now) == 1);
    test_assert(store_mt_set_state(s, id2, STORE_MT_SENT, now) == 1);
    test_assert(store_mt_set_state(s, id2, STORE_MT_ACCEPTED, now) == 1);
    test_assert(store_mt_set_state(s, id2, STORE_MT_ACCEPTED, now) == 1);
    test_assert(store_mt_set_state(s, octstr_imm("nope"), 1, now) == 0);
    test_assert(store_mt_set_state(s, id2, 9, now) == -1);
    test_assert(store_mt_count(s, STORE_MT_SENT) == 1);
    test_assert(store_mt_count(s, STORE_MT_ACCEPTED) == 1);
    test_assert(store_mt_requeue_sent(s) == 1);
    test_assert(store_mt_requeue_sent(s) == 0);
    test_assert(store_mt_set_state(s, id1, STORE_MT_SENT, now) == 1);
    g = store_mt_get(s, id1);
    test_assert(g != NULL && g->attempts == 2 && g->state == STORE_MT_SENT);
    store_mt_destroy(g);
    test_assert(store_mt_set_state(s, id1, STORE_MT_QUEUED, now + 60) == 1);
    l = store_mt_due(s, now + 10, 10);
    test_assert(l != NULL && gwlist_len(l) == 0);
    gwlist_destroy(l, store_mt_destroy_item);
    test_assert(store_mt_dlr(s, id2, 8, now) == 1);
    test_assert(store_mt_dlr(s, id2, 1, now + 1) == 1);
    test_assert(store_mt_dlr(s, id2, 1, now + 1) == 1);      /* repeated */
    test_assert(store_mt_dlr(s, octstr_imm("0123456789abcdef0123456789"
                                           "abcdef"), 1, now) == 0);
    g = store_mt_get(s, id2);
    test_assert(g != NULL && g->dlr_status == 1 && g->dlr_time == now + 1);
    store_mt_destroy(g);
    test_assert(store_mt_count_since(s, m1, now - 5) == 2);
    test_assert(store_mt_count_since(s, m1, now + 3600) == 0);
    test_assert(store_mt_count_since(s, octstr_imm("+1"), 0) == 0);
    test_assert(store_mt_purge(s, now - 3600) == 0);
    test_assert(store_mt_purge(s, now + 3600) == 1);         /* id2 */
    test_assert(store_mt_get(s, id2) == NULL);
    test_end();

    begin("mo queue");
    memset(&mo, 0, sizeof(mo));
    mo.id = octstr_imm("a1b2-'\"x");
    mo.msisdn = m1;
    mo.receiver = octstr_imm("12345");
    mo.text = octstr_create_from_data("GET 3\0\xff'", 8);
    mo.received = 100;
    test_assert(store_mo_add(s, &mo) == 1);
    test_assert(store_mo_add(s, &mo) == 0);
    octstr_destroy(mo.text);
    mo.id = octstr_imm("second");
    mo.text = NULL;
    mo.received = 0;
    test_assert(store_mo_add(s, &mo) == 1);
    mo.id = octstr_imm("has space");
    test_assert(store_mo_add(s, &mo) == -1);
    l = store_mo_pending(s, 10);
    test_assert(l != NULL && gwlist_len(l) == 2);
    if (l != NULL && gwlist_len(l) == 2) {
        StoreMo *x = gwlist_get(l, 0), *y = gwlist_get(l, 1);
        test_assert_str(octstr_get_cstr(x->id), "a1b2-'\"x");
        test_assert(octstr_len(x->text) == 8 &&
                    memcmp(octstr_get_cstr(x->text), "GET 3\0\xff'", 8) == 0);
        test_assert(x->received == 100);
        test_assert_str(octstr_get_cstr(x->receiver), "12345");
        test_assert(octstr_len(y->text) == 0 && y->received >= now);
    }
    gwlist_destroy(l, store_mo_destroy_item);
    test_assert(store_mo_done(s, octstr_imm("a1b2-'\"x")) == 1);
    test_assert(store_mo_done(s, octstr_imm("a1b2-'\"x")) == 0);
    l = store_mo_pending(s, 10);
    test_assert(l != NULL && gwlist_len(l) == 1);
    gwlist_destroy(l, store_mo_destroy_item);
    test_assert(store_mo_done(s, octstr_imm("second")) == 1);
    test_end();

    begin("notice rate limit");
    test_assert(store_notice_allow(s, m1, "not-subscribed", 86400,
                                   1000) == 1);
    test_assert(store_notice_allow(s, m1, "not-subscribed", 86400,
                                   2000) == 0);
    test_assert(store_notice_allow(s, m1, "auth", 86400, 2000) == 1);
    test_assert(store_notice_allow(s, octstr_imm("+4612345678"),
                                   "not-subscribed", 86400, 2000) == 1);
    test_assert(store_notice_allow(s, m1, "not-subscribed", 86400,
                                   1000 + 86400) == 1);
    test_assert(store_notice_allow(s, m1, "not-subscribed", 86400,
                                   1000 + 86401) == 0);
    test_assert(store_notice_allow(s, m1, "not-subscribed", 0,
                                   1000 + 86400) == 1);
    test_assert(store_notice_allow(s, m1, "x'; --", 10, 5) == 1);
    test_assert(store_notice_allow(s, m1, "", 10, 5) == -1);
    test_end();

    octstr_destroy(id1);
    octstr_destroy(id2);
    octstr_destroy(text);
    octstr_destroy(udh);
}

/* ------------------------------------------------------------------ */

static void test_delete(Store *s)
{
    Octstr *m1 = octstr_imm("+46701234567");
    StoreWatch w;
    long gen = store_bindings_generation(s);

    begin("binding delete removes watch, index and paging");
    test_assert(store_binding_delete(s, m1) == 1);
    test_assert(store_binding_delete(s, m1) == 0);
    test_assert(store_binding_get(s, m1) == NULL);
    test_assert(store_binding_secret(s, m1) == NULL);
    test_assert(store_watch_get(s, m1, &w) == 0 && w.uidvalidity == 0 &&
                w.state == NULL);
    test_assert(store_mail_get(s, m1, 3) == NULL);
    test_assert(store_page_get(s, m1, NULL, NULL) == 1);
    test_assert(store_bindings_generation(s) == gen + 1);
    test_assert(store_binding_count(s) == 1);
    test_end();
}

static StoreMms *mms_find(List *l, const Octstr *id)
{
    long i;

    for (i = 0; l != NULL && i < gwlist_len(l); i++) {
        StoreMms *m = gwlist_get(l, i);

        if (octstr_compare(m->id, id) == 0)
            return m;
    }
    return NULL;
}

static void test_mms(Store *s)
{
    Octstr *m1 = octstr_imm("+46709990001");
    Octstr *id1 = store_new_id(), *id2 = store_new_id();
    Octstr *body = octstr_create_from_data("MM\0with NUL\r\n\xff", 14);
    StoreMms q, *got;
    List *due;
    long now = time(NULL);

    begin("mms: add, due with the body (binary-safe), get without");
    memset(&q, 0, sizeof(q));
    q.id = id1;
    q.msisdn = m1;
    q.n = 3;
    q.mmsc = octstr_imm("mmsc1");
    q.content_type = octstr_imm("multipart/related; type=\"application/"
                                "smil\"; boundary=\"b\"");
    q.body = body;
    q.subject = octstr_imm("Gr\xc3\xbc\xc3\x9f & <x>");
    test_assert(store_mms_add(s, &q) == 0);
    q.id = id2;
    q.n = 4;
    q.subject = octstr_imm("");         /* empty values bind too */
    test_assert(store_mms_add(s, &q) == 0);
    q.subject = octstr_imm("Gr\xc3\xbc\xc3\x9f & <x>");
    due = store_mms_due(s, now + 1, 10);
    got = mms_find(due, id1);
    test_assert(due != NULL && gwlist_len(due) >= 2 && got != NULL);
    test_assert(got != NULL && octstr_compare(got->body, body) == 0 &&
                got->n == 3 && got->state == STORE_MMS_QUEUED &&
                octstr_compare(got->subject, q.subject) == 0 &&
                octstr_compare(got->content_type, q.content_type) == 0);
    gwlist_destroy(due, store_mms_destroy_item);
    got = store_mms_get(s, id1);
    test_assert(got != NULL && octstr_len(got->body) == 0 &&
                octstr_str_compare(got->mmsc, "mmsc1") == 0);
    store_mms_destroy(got);
    test_end();

    begin("mms: submitting counts attempts; requeue; accepted drops body");
    test_assert(store_mms_set_state(s, id1, STORE_MMS_SUBMITTING, 0, 0,
                                    NULL, NULL) == 1);
    due = store_mms_due(s, now + 1, 10);
    test_assert(due != NULL && mms_find(due, id1) == NULL &&
                mms_find(due, id2) != NULL);
    gwlist_destroy(due, store_mms_destroy_item);
    test_assert(store_mms_requeue(s) == 1);
    test_assert(store_mms_set_state(s, id1, STORE_MMS_SUBMITTING, 0, 0,
                                    NULL, NULL) == 1);
    test_assert(store_mms_set_state(s, id1, STORE_MMS_ACCEPTED, 0, 1000,
                                    octstr_imm("Success"),
                                    octstr_imm("msg-77")) == 1);
    got = store_mms_get(s, id1);
    test_assert(got != NULL && got->attempts == 2 &&
                got->state == STORE_MMS_ACCEPTED &&
                got->status_code == 1000 &&
                octstr_str_compare(got->message_id, "msg-77") == 0 &&
                octstr_str_compare(got->status_text, "Success") == 0);
    store_mms_destroy(got);
    test_assert(store_mms_set_state(s, octstr_imm("nope"),
                                    STORE_MMS_FAILED, 0, 0, NULL,
                                    NULL) == 0);
    test_end();

    begin("mms: reports by MessageID or by our id; unknown ones");
    test_assert(store_mms_report(s, octstr_imm("mmsc1"), octstr_imm("msg-77"),
                                 octstr_imm("Retrieved"), now) == 1);
    got = store_mms_get(s, id1);
    test_assert(got != NULL &&
                octstr_str_compare(got->report, "Retrieved") == 0 &&
                got->report_time == now);
    store_mms_destroy(got);
    test_assert(store_mms_report(s, octstr_imm("mmsc1"), id2, octstr_imm("Expired"), now) == 1);
    test_assert(store_mms_report(s, octstr_imm("mmsc1"), octstr_imm("msg-none"),
                                 octstr_imm("Retrieved"), now) == 0);
    test_assert(store_mms_report(s, octstr_imm("mmsc1"), octstr_imm(""),
                                 octstr_imm("Retrieved"), now) == 0);
    test_assert(store_mms_count(s, STORE_MMS_ACCEPTED) == 1);
    test_end();

    begin("mms: latest, purge of finished rows, bad input refused");
    due = store_mms_latest(s, m1, 10);
    test_assert(due != NULL && gwlist_len(due) == 2);
    gwlist_destroy(due, store_mms_destroy_item);
    test_assert(store_mms_purge(s, now + 10) == 1);
    test_assert(store_mms_get(s, id1) == NULL);
    got = store_mms_get(s, id2);       /* still queued: kept */
    test_assert(got != NULL && got->state == STORE_MMS_QUEUED);
    store_mms_destroy(got);
    q.id = octstr_imm("not-hex");
    test_assert(store_mms_add(s, &q) == -1);
    q.id = id1;
    q.msisdn = octstr_imm("12ab");
    test_assert(store_mms_add(s, &q) == -1);
    test_end();

    octstr_destroy(id1);
    octstr_destroy(id2);
    octstr_destroy(body);
}

static StoreMo *batch_mo(const char *id)
{
    static StoreMo mo;

    mo.id = octstr_imm(id);
    mo.msisdn = octstr_imm("+4670555000");
    mo.receiver = octstr_imm("1234");
    mo.text = octstr_imm("LIST");
    mo.received = 1700000000;
    return &mo;
}

static long pending_with_prefix(Store *s, const char *prefix)
{
    List *l = store_mo_pending(s, 1000);
    long i, n = 0;

    for (i = 0; l != NULL && i < gwlist_len(l); i++) {
        StoreMo *mo = gwlist_get(l, i);

        if (octstr_search(mo->id, octstr_imm(prefix), 0) == 0)
            n++;
    }
    gwlist_destroy(l, store_mo_destroy_item);
    return n;
}

static void test_batch(Store *s)
{
    begin("batch: several writes commit together");
    test_assert(store_batch_begin(s) == 0);
    test_assert(store_batch_begin(s) == -1);     /* no nesting */
    test_assert(store_mo_add(s, batch_mo("batch-a1")) == 1);
    test_assert(store_mo_add(s, batch_mo("batch-a2")) == 1);
    test_assert(store_mo_add(s, batch_mo("batch-a3")) == 1);
    test_assert(store_batch_end(s, 1) == 0);
    test_assert(pending_with_prefix(s, "batch-a") == 3);
    test_end();

    begin("batch: rollback keeps none of it");
    test_assert(store_batch_begin(s) == 0);
    test_assert(store_mo_add(s, batch_mo("batch-b1")) == 1);
    test_assert(store_mo_add(s, batch_mo("batch-b2")) == 1);
    test_assert(store_batch_end(s, 0) == -1);
    test_assert(pending_with_prefix(s, "batch-b") == 0);
    test_assert(store_batch_end(s, 1) == -1);    /* none open */
    test_end();

    begin("batch: a failing transaction inside rolls the batch back");
    test_assert(store_batch_begin(s) == 0);
    test_assert(store_mo_add(s, batch_mo("batch-c1")) == 1);
    /* mail add for an unbound number fails inside its transaction */
    {
        StoreMail m = mail_uid(7, 7);

        test_assert(store_mail_add(s, octstr_imm("+4699999990"), &m) < 0);
    }
    test_assert(store_batch_end(s, 1) == -1);
    test_assert(pending_with_prefix(s, "batch-c") == 0);
    test_end();

    begin("batch: an update inside commits with it");
    test_assert(store_batch_begin(s) == 0);
    test_assert(store_mo_done(s, octstr_imm("batch-a1")) == 1);
    test_assert(store_batch_end(s, 1) == 0);
    test_assert(pending_with_prefix(s, "batch-a") == 2);
    test_end();

    begin("answered MOs keep their id until purged");
    test_assert(store_mo_done(s, octstr_imm("batch-a1")) == 0);
    test_assert(store_mo_add(s, batch_mo("batch-a1")) == 0);  /* re-sent */
    test_assert(pending_with_prefix(s, "batch-a") == 2);
    test_assert(store_mo_purge(s, 1600000000) >= 0);   /* a1 too recent */
    test_assert(store_mo_add(s, batch_mo("batch-a1")) == 0);
    test_assert(store_mo_purge(s, 1800000000) >= 1);
    test_assert(store_mo_add(s, batch_mo("batch-a1")) == 1);
    test_assert(pending_with_prefix(s, "batch-a") == 3);
    test_end();
}

static void run_suite(PmDbConf *db, const char *name)
{
    Store *s;
    Octstr *err = NULL;

    snprintf(label, sizeof(label), "%s", name);
    drop_tables(db);

    begin("open creates the schema; reopen is a no-op");
    s = store_open(db, key_file, &err);
    test_assert(s != NULL && err == NULL);
    if (err != NULL)
        fprintf(stderr, "  %s\n", octstr_get_cstr(err));
    octstr_destroy(err);
    err = NULL;
    store_close(&s);
    test_assert(s == NULL);
    s = store_open(db, key_file, &err);
    test_assert(s != NULL && err == NULL);
    test_end();
    if (s == NULL)
        return;

    test_bindings(s);
    test_watch_and_mail(s);
    test_threads(s);
    test_queues(s);
    test_mms(s);
    test_batch(s);
    test_delete(s);
    store_close(&s);
    store_close(&s);

    begin("open refuses a newer schema and a bad key file");
    raw_exec(db, "UPDATE pm_schema SET version = 99");
    s = store_open(db, key_file, &err);
    test_assert(s == NULL && err != NULL &&
                octstr_search(err, octstr_imm("newer"), 0) >= 0);
    octstr_destroy(err);
    err = NULL;
    raw_exec(db, "UPDATE pm_schema SET version = 1");
    s = store_open(db, octstr_imm("/nonexistent/pm.key"), &err);
    test_assert(s == NULL && err != NULL);
    octstr_destroy(err);
    err = NULL;
    test_end();
}

/* PM_TEST_MYSQL = host:port:user:pass:db */
static int mysql_conf(PmDbConf *db)
{
    const char *env = getenv("PM_TEST_MYSQL");
    List *parts;
    long port;

    if (env == NULL || *env == '\0')
        return 0;
    parts = octstr_split(octstr_imm(env), octstr_imm(":"));
    if (gwlist_len(parts) != 5 ||
        octstr_parse_long(&port, gwlist_get(parts, 1), 0, 10) < 0) {
        fprintf(stderr, "PM_TEST_MYSQL must be host:port:user:pass:db\n");
        gwlist_destroy(parts, octstr_destroy_item);
        return -1;
    }
    db->type = PM_DB_MYSQL;
    db->host = gwlist_extract_first(parts);
    octstr_destroy(gwlist_extract_first(parts));
    db->port = port;
    db->username = gwlist_extract_first(parts);
    db->password = gwlist_extract_first(parts);
    db->database = gwlist_extract_first(parts);
    db->max_connections = 4;
    gwlist_destroy(parts, octstr_destroy_item);
    return 1;
}

int main(void)
{
    PmDbConf db;
    Store *s;
    Octstr *cmd, *err = NULL;
    unsigned char key[32];
    int fd, r;

    gwlib_init();
    log_set_output_level(GW_WARNING);
    if (mkdtemp(dir) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    key_file = octstr_format("%s/secret.key", dir);
    memset(key, 0x5a, sizeof(key));
    fd = open(octstr_get_cstr(key_file), O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd < 0 || write(fd, key, sizeof(key)) != sizeof(key)) {
        perror("key file");
        return 1;
    }
    close(fd);

    memset(&db, 0, sizeof(db));
    db.type = PM_DB_SQLITE3;
    db.file = octstr_format("%s/store.db", dir);
    db.lock_timeout = 10;
    db.max_connections = 4;
    run_suite(&db, "sqlite3");

    test_begin("sqlite3: open fails cleanly on a bad path");
    octstr_destroy(db.file);
    db.file = octstr_format("%s/no/such/dir/store.db", dir);
    s = store_open(&db, key_file, &err);
    test_assert(s == NULL && err != NULL);
    octstr_destroy(err);
    octstr_destroy(db.file);
    test_end();

    memset(&db, 0, sizeof(db));
    r = mysql_conf(&db);
    if (r > 0) {
        run_suite(&db, "mysql");
        octstr_destroy(db.host);
        octstr_destroy(db.username);
        octstr_destroy(db.password);
        octstr_destroy(db.database);
    } else if (r == 0) {
        printf("SKIP - mysql: not run (set PM_TEST_MYSQL=host:port:user:"
               "pass:db; see tests/unit/mariadb-test.sh)\n");
    } else {
        test_begin("mysql: PM_TEST_MYSQL is malformed");
        test_assert(0);
        test_end();
    }

    cmd = octstr_format("rm -rf '%s'", dir);
    if (system(octstr_get_cstr(cmd)) != 0)
        fprintf(stderr, "cannot remove %s\n", dir);
    octstr_destroy(cmd);
    octstr_destroy(key_file);
    gwlib_shutdown();
    return test_exit();
}
