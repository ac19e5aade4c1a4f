/*
 * test-store-outmail.c - unit tests for the outbound mail queue
 * (store-outmail.c) on SQLite3 and, when PM_TEST_MYSQL="host:port:user:
 * pass:db" is set, on MySQL/MariaDB too: add and dedupe on ref (also
 * from two threads at once), binary-safe messages, due order and times,
 * state changes, reply drafts completed, requeue after a crash, budget
 * counts, purge, hostile values, batch rollback.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "gwlib/gwlib.h"
#include "store.h"
#include "store-outmail.h"
#include "test-common.h"

static char dir[] = "/tmp/pm-test-outmail-XXXXXX";
static Octstr *key_file;
static char label[64];

static void begin(const char *name)
{
    static char buf[128];

    snprintf(buf, sizeof(buf), "%s: %s", label, name);
    test_begin(buf);
}

static void bind_number(Store *s, const char *msisdn)
{
    StoreBinding b;

    memset(&b, 0, sizeof(b));
    b.msisdn = octstr_create(msisdn);
    b.mailbox_url = octstr_create("imap://ann@mail.example.com");
    b.prompt_mode = octstr_create("sms");
    b.deliver_mode = octstr_create("sms");
    test_assert(store_binding_put(s, &b, NULL) == 0);
    octstr_destroy(b.msisdn);
    octstr_destroy(b.mailbox_url);
    octstr_destroy(b.prompt_mode);
    octstr_destroy(b.deliver_mode);
}

/* A mail row (fields owned by the caller: free with outmail_free). */
static StoreOutmail *outmail(const char *msisdn, const char *ref,
                             const char *rcpts)
{
    StoreOutmail *m = gw_malloc(sizeof(*m));

    memset(m, 0, sizeof(*m));
    m->id = store_new_id();
    m->msisdn = octstr_create(msisdn);
    m->origin = STORE_OUTMAIL_SMS_SEND;
    m->ref = ref ? octstr_create(ref) : NULL;
    m->rcpts = octstr_create(rcpts);
    m->message = octstr_create("From: a@x.org\r\nTo: b@y.org\r\n\r\nhi\r\n");
    m->summary = octstr_create(rcpts);
    m->copy_state = STORE_COPY_PENDING;
    return m;
}

static long due_count(Store *s, long now)
{
    List *l = store_outmail_due(s, now, 100);
    long n = l ? gwlist_len(l) : -1;

    gwlist_destroy(l, store_outmail_destroy_item);
    return n;
}

typedef struct {
    Store *s;
    int added;
} Racer;

static void race_add(void *arg)
{
    Racer *r = arg;
    StoreOutmail *m = outmail("+15550000003", "mm7:race:1", "r@x.org");

    r->added = store_outmail_add(r->s, m);
    store_outmail_destroy(m);
}

static void test_queue(Store *s)
{
    StoreOutmail *a, *b, *g;
    List *l;
    Octstr *bin, *lerr;
    long now = time(NULL);
    char *big;
    Racer r1, r2;
    long t1, t2;

    bind_number(s, "+15550000001");
    bind_number(s, "+15550000002");
    bind_number(s, "+15550000003");

    begin("add, get, binary-safe message, fields kept");
    a = outmail("+15550000001", NULL, "bob@example.com,carl@example.org");
    bin = octstr_create_from_data("Subject: x\r\n\r\n\0\xff'\";--\r\n", 21);
    octstr_destroy(a->message);
    a->message = bin;
    a->origin = STORE_OUTMAIL_MMS;
    test_assert(store_outmail_add(s, a) == 1);
    g = store_outmail_get(s, a->id);
    test_assert(g != NULL);
    if (g != NULL) {
        test_assert(octstr_compare(g->message, bin) == 0);
        test_assert(octstr_compare(g->rcpts, a->rcpts) == 0);
        test_assert(octstr_compare(g->summary, a->summary) == 0);
        test_assert(octstr_compare(g->msisdn, a->msisdn) == 0);
        test_assert(g->origin == STORE_OUTMAIL_MMS);
        test_assert(g->state == STORE_OUTMAIL_QUEUED);
        test_assert(g->copy_state == STORE_COPY_PENDING);
        test_assert(g->attempts == 0 && g->created >= now &&
                    g->next_try == g->created);
        test_assert(octstr_len(g->ref) == 0 && g->last_error == NULL);
    }
    store_outmail_destroy(g);
    test_assert(store_outmail_get(s, octstr_imm("nosuchid")) == NULL);
    test_end();

    begin("dedupe on ref; empty refs never dedupe");
    b = outmail("+15550000001", "mm7:mmsc1:msg-0001", "bob@example.com");
    test_assert(store_outmail_add(s, b) == 1);
    octstr_destroy(b->id);
    b->id = store_new_id();
    test_assert(store_outmail_add(s, b) == 0);       /* a retried DeliverReq */
    test_assert(store_outmail_get(s, b->id) == NULL);
    store_outmail_destroy(b);
    b = outmail("+15550000001", NULL, "bob@example.com");
    test_assert(store_outmail_add(s, b) == 1);
    octstr_destroy(b->id);
    b->id = store_new_id();
    test_assert(store_outmail_add(s, b) == 1);
    store_outmail_destroy(b);
    test_assert(store_outmail_count_since(s, octstr_imm("+15550000001"),
                                          now - 10) == 4);
    test_assert(store_outmail_count_since(s, octstr_imm("+15550000001"),
                                          now + 100) == 0);
    test_assert(store_outmail_count_since(s, octstr_imm("+15550000002"),
                                          0) == 0);
    test_end();

    begin("refused: unbound number, bad id, ref, recipients, size");
    b = outmail("+15559999999", NULL, "bob@example.com");
    test_assert(store_outmail_add(s, b) == -1);
    octstr_destroy(b->msisdn);
    b->msisdn = octstr_create("+1555' OR 1=1 --");
    test_assert(store_outmail_add(s, b) == -1);
    octstr_destroy(b->msisdn);
    b->msisdn = octstr_create("+15550000002");
    octstr_destroy(b->ref);
    b->ref = octstr_create("has space");
    test_assert(store_outmail_add(s, b) == -1);
    octstr_destroy(b->ref);
    b->ref = NULL;
    octstr_destroy(b->rcpts);
    b->rcpts = octstr_create("a@x.org, b@y.org");
    test_assert(store_outmail_add(s, b) == -1);
    octstr_destroy(b->rcpts);
    b->rcpts = octstr_create("a@x.org");
    octstr_destroy(b->id);
    b->id = octstr_create("not-an-id");
    test_assert(store_outmail_add(s, b) == -1);
    octstr_destroy(b->id);
    b->id = store_new_id();
    octstr_destroy(b->message);
    big = gw_malloc(STORE_OUTMAIL_MAX + 1);
    memset(big, 'a', STORE_OUTMAIL_MAX + 1);
    b->message = octstr_create_from_data(big, STORE_OUTMAIL_MAX + 1);
    gw_free(big);
    test_assert(store_outmail_add(s, b) == -1);
    test_assert(store_outmail_count_since(s, octstr_imm("+15550000002"),
                                          0) == 0);
    store_outmail_destroy(b);
    test_end();

    begin("due: order, next_try, states, Sent copy pending");
    l = store_outmail_due(s, now + 5, 100);
    test_assert(l != NULL && gwlist_len(l) == 4);
    if (l != NULL && gwlist_len(l) == 4) {
        g = gwlist_get(l, 0);
        test_assert(octstr_compare(g->id, a->id) == 0);
    }
    gwlist_destroy(l, store_outmail_destroy_item);
    l = store_outmail_due(s, now + 5, 2);
    test_assert(l != NULL && gwlist_len(l) == 2);
    gwlist_destroy(l, store_outmail_destroy_item);
    /* a temporary failure: later */
    lerr = octstr_create("451 4.3.0 try\x01 later");
    test_assert(store_outmail_set_state(s, a->id, STORE_OUTMAIL_QUEUED,
                                        STORE_COPY_PENDING, 1, now + 600,
                                        lerr) == 1);
    octstr_destroy(lerr);
    test_assert(due_count(s, now + 5) == 3);
    test_assert(due_count(s, now + 600) == 4);
    g = store_outmail_get(s, a->id);
    test_assert(g != NULL && g->attempts == 1 && g->next_try == now + 600);
    test_assert(g != NULL && g->last_error != NULL &&
                octstr_str_compare(g->last_error,
                                   "451 4.3.0 try  later") == 0);
    store_outmail_destroy(g);
    /* sending: not due; requeued after a crash */
    test_assert(store_outmail_set_state(s, a->id, STORE_OUTMAIL_SENDING,
                                        STORE_COPY_PENDING, 2, now,
                                        NULL) == 1);
    test_assert(due_count(s, now + 600) == 3);
    test_assert(store_outmail_count(s, STORE_OUTMAIL_SENDING) == 1);
    test_assert(store_outmail_requeue(s) == 1);
    test_assert(store_outmail_count(s, STORE_OUTMAIL_SENDING) == 0);
    test_assert(due_count(s, now + 600) == 4);
    /* sent with the copy still to make: due for the copy */
    test_assert(store_outmail_set_state(s, a->id, STORE_OUTMAIL_SENT,
                                        STORE_COPY_PENDING, 2, now,
                                        NULL) == 1);
    test_assert(due_count(s, now + 600) == 4);
    test_assert(store_outmail_set_state(s, a->id, STORE_OUTMAIL_SENT,
                                        STORE_COPY_DONE, 2, now,
                                        NULL) == 1);
    test_assert(due_count(s, now + 600) == 3);
    test_assert(store_outmail_count(s, STORE_OUTMAIL_SENT) == 1);
    test_assert(store_outmail_set_state(s, a->id, 7, 0, 0, 0, NULL) == -1);
    test_assert(store_outmail_set_state(s, octstr_imm("nosuch"),
                                        STORE_OUTMAIL_SENT, 0, 0, 0,
                                        NULL) == 0);
    test_assert(store_outmail_set_state(s, octstr_imm(
                "0123456789abcdef0123456789abcdef"), STORE_OUTMAIL_SENT, 0,
                0, 0, NULL) == 0);
    test_end();

    begin("a reply draft completed");
    b = outmail("+15550000002", NULL, "");
    b->origin = STORE_OUTMAIL_SMS_REPLY;
    test_assert(store_outmail_add(s, b) == 1);
    test_assert(store_outmail_set_message(s, b->id,
                octstr_imm("ann@example.com"), octstr_imm("To: ann@example."
                "com\r\n\r\nok\r\n"), octstr_imm("ann@example.com")) == 1);
    g = store_outmail_get(s, b->id);
    test_assert(g != NULL && octstr_str_compare(g->rcpts,
                                                "ann@example.com") == 0);
    test_assert(g != NULL && octstr_search(g->message,
                octstr_imm("\r\n\r\nok\r\n"), 0) > 0);
    test_assert(g != NULL && g->origin == STORE_OUTMAIL_SMS_REPLY);
    store_outmail_destroy(g);
    test_assert(store_outmail_set_message(s, b->id, octstr_imm("a b"),
                                          octstr_imm("x"), NULL) == -1);
    test_end();

    begin("batch rollback leaves nothing");
    test_assert(store_batch_begin(s) == 0);
    octstr_destroy(b->id);
    b->id = store_new_id();
    test_assert(store_outmail_add(s, b) == 1);
    test_assert(store_batch_end(s, 0) == -1);
    test_assert(store_outmail_get(s, b->id) == NULL);
    store_outmail_destroy(b);
    test_end();

    begin("two threads add one ref: one wins");
    r1.s = r2.s = s;
    r1.added = r2.added = -5;
    t1 = gwthread_create(race_add, &r1);
    t2 = gwthread_create(race_add, &r2);
    gwthread_join(t1);
    gwthread_join(t2);
    test_assert(r1.added + r2.added == 1 && r1.added >= 0 && r2.added >= 0);
    test_assert(store_outmail_count_since(s, octstr_imm("+15550000003"),
                                          0) == 1);
    test_end();

    begin("purge: finished rows only");
    test_assert(store_outmail_set_state(s, a->id, STORE_OUTMAIL_SENT,
                                        STORE_COPY_DONE, 1, now, NULL) == 1);
    test_assert(store_outmail_purge(s, now + 3600) == 1);
    test_assert(store_outmail_get(s, a->id) == NULL);
    test_assert(due_count(s, now + 600) == 5);
    test_assert(store_outmail_purge(s, now - 3600) == 0);
    test_end();
    store_outmail_destroy(a);
}

/* Mark every due row FAILED (clean-up of a reused database). */
static long fail_all(Store *s)
{
    List *l = store_outmail_due(s, time(NULL) + 86400 * 30, 1000);
    StoreOutmail *m;
    long n = 0;

    while (l != NULL && (m = gwlist_extract_first(l)) != NULL) {
        store_outmail_set_state(s, m->id, STORE_OUTMAIL_FAILED,
                                STORE_COPY_NONE, 0, 0, NULL);
        store_outmail_destroy(m);
        n++;
    }
    gwlist_destroy(l, NULL);
    return n;
}

static void run_suite(PmDbConf *db, const char *name)
{
    Store *s;
    Octstr *err = NULL;

    snprintf(label, sizeof(label), "%s", name);
    begin("open");
    s = store_open(db, key_file, &err);
    test_assert(s != NULL);
    if (err != NULL)
        fprintf(stderr, "  %s\n", octstr_get_cstr(err));
    octstr_destroy(err);
    test_end();
    if (s == NULL)
        return;
    if (db->type == PM_DB_MYSQL) {
        /* start from an empty queue (the database may be reused) */
        store_outmail_requeue(s);
        while (fail_all(s) > 0)
            ;
        store_outmail_purge(s, time(NULL) + 86400);
    }
    test_queue(s);
    store_close(&s);
}

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
    Octstr *cmd;
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
    octstr_destroy(db.file);

    memset(&db, 0, sizeof(db));
    r = mysql_conf(&db);
    if (r > 0) {
        run_suite(&db, "mysql");
        octstr_destroy(db.host);
        octstr_destroy(db.username);
        octstr_destroy(db.password);
        octstr_destroy(db.database);
    } else if (r == 0) {
        printf("SKIP - mysql: not run (set PM_TEST_MYSQL)\n");
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
