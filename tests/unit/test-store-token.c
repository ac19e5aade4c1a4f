/*
 * test-store-token.c - unit tests for store-token.c on SQLite (and on
 * MySQL/MariaDB when PM_TEST_MYSQL="host:port:user:pass:db" is set, as
 * in test-store.c): token form and randomness, lookup, expiry, revoke,
 * purge, unbind and mailbox change, forged and malformed tokens, that
 * only the hash is stored, an unknown binding.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "gwlib/gwlib.h"
#include "gwlib/dbpool.h"
#include "store.h"
#include "store-token.h"
#include "test-common.h"

static char dir[] = "/tmp/pm-test-token-XXXXXX";
static Octstr *key_file;

/* Rows of raw SQL on a pool of its own (test inspection only);
 * first column of every row joined with "\n". */
static Octstr *raw_select(const PmDbConf *db, const char *sql)
{
    DBConf *conf = gw_malloc(sizeof(*conf));
    DBPool *pool;
    DBPoolConn *c;
    List *rows = NULL;
    Octstr *q = octstr_create(sql), *out = octstr_create("");
    long i;

    memset(conf, 0, sizeof(*conf));
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
    if (c != NULL && dbpool_conn_select(c, q, NULL, &rows) == 0) {
        for (i = 0; rows != NULL && i < gwlist_len(rows); i++) {
            List *row = gwlist_get(rows, i);

            if (i > 0)
                octstr_append_char(out, '\n');
            octstr_append(out, gwlist_get(row, 0));
        }
    }
    while (rows != NULL && gwlist_len(rows) > 0) {
        List *row = gwlist_extract_first(rows);

        gwlist_destroy(row, octstr_destroy_item);
    }
    gwlist_destroy(rows, NULL);
    if (c != NULL)
        dbpool_conn_produce(c);
    dbpool_destroy(pool);
    octstr_destroy(q);
    return out;
}

static void bind_to(Store *s, const char *msisdn, const char *url)
{
    StoreBinding b;

    memset(&b, 0, sizeof(b));
    b.msisdn = octstr_create(msisdn);
    b.mailbox_url = octstr_create(url);
    b.prompt_mode = octstr_create("wap-push");
    b.deliver_mode = octstr_create("sms");
    test_assert(store_binding_put(s, &b, octstr_imm("pw")) == 0);
    octstr_destroy(b.msisdn);
    octstr_destroy(b.mailbox_url);
    octstr_destroy(b.prompt_mode);
    octstr_destroy(b.deliver_mode);
}

/* lookup at `now`: returns the result, checks msisdn/n when valid */
static int look(Store *s, const Octstr *t, long now, const char *want_m,
                long want_n)
{
    Octstr *m = NULL;
    long n = -1;
    int r = store_token_lookup(s, t, now, &m, &n);

    if (r == 1) {
        test_assert(m != NULL && octstr_str_compare(m, want_m) == 0);
        test_assert(n == want_n);
    } else {
        test_assert(m == NULL && n == -1);
    }
    octstr_destroy(m);
    return r;
}

static void run_suite(PmDbConf *db, const char *label)
{
    Store *s;
    Octstr *err = NULL, *t1, *t2, *t3, *t4, *forged, *dump;
    long now = time(NULL), i;
    char name[128];

    snprintf(name, sizeof(name), "%s: tokens have the promised form", label);
    test_begin(name);
    s = store_open(db, key_file, &err);
    test_assert(s != NULL);
    if (s == NULL) {
        fprintf(stderr, "%s\n", err ? octstr_get_cstr(err) : "?");
        octstr_destroy(err);
        test_end();
        return;
    }
    store_binding_delete(s, octstr_imm("+15550001"));
    store_binding_delete(s, octstr_imm("+15550002"));
    bind_to(s, "+15550001", "imap://a@h/INBOX");
    bind_to(s, "+15550002", "imap://b@h/INBOX");
    t1 = store_token_new(s, octstr_imm("+15550001"), 3, 3600);
    t2 = store_token_new(s, octstr_imm("+15550001"), 4, 3600);
    t3 = store_token_new(s, octstr_imm("+15550002"), 1, 60);
    test_assert(t1 && t2 && t3);
    test_assert(store_token_valid_form(t1) && store_token_valid_form(t2));
    test_assert(octstr_len(t1) == STORE_TOKEN_LEN);
    test_assert(STORE_TOKEN_BYTES * 8 >= 128);
    test_assert(octstr_compare(t1, t2) != 0 && octstr_compare(t2, t3) != 0);
    test_end();

    snprintf(name, sizeof(name), "%s: only the SHA-256 is stored", label);
    test_begin(name);
    dump = raw_select(db, "SELECT hash FROM pm_token");
    test_assert(octstr_search(dump, t1, 0) < 0);
    test_assert(octstr_len(dump) == 3 * 64 + 2);
    octstr_destroy(dump);
    test_end();

    snprintf(name, sizeof(name), "%s: lookup, expiry, forged tokens", label);
    test_begin(name);
    test_assert(look(s, t1, now, "+15550001", 3) == 1);
    test_assert(look(s, t2, now, "+15550001", 4) == 1);
    test_assert(look(s, t3, now, "+15550002", 1) == 1);
    test_assert(look(s, t3, now + 61, NULL, 0) == 0);     /* expired */
    test_assert(look(s, t1, now + 3601, NULL, 0) == 0);
    forged = octstr_duplicate(t1);
    octstr_set_char(forged, 5, octstr_get_char(t1, 5) == 'A' ? 'B' : 'A');
    test_assert(look(s, forged, now, NULL, 0) == 0);
    octstr_destroy(forged);
    forged = octstr_copy(t1, 0, STORE_TOKEN_LEN - 1);    /* too short */
    test_assert(look(s, forged, now, NULL, 0) == 0);
    octstr_append_cstr(forged, "'");                      /* bad char */
    test_assert(look(s, forged, now, NULL, 0) == 0);
    octstr_destroy(forged);
    test_assert(look(s, NULL, now, NULL, 0) == 0);
    test_assert(look(s, octstr_imm("' OR 1=1 --xxxxxxxxxxxxxxxxxxxxxx"),
                     now, NULL, 0) == 0);
    test_end();

    snprintf(name, sizeof(name), "%s: no token for unknown or bad input",
             label);
    test_begin(name);
    test_assert(store_token_new(s, octstr_imm("+15559999"), 1, 60) == NULL);
    test_assert(store_token_new(s, octstr_imm("+15550001"), 0, 60) == NULL);
    test_assert(store_token_new(s, octstr_imm("+15550001"), 1, 0) == NULL);
    test_assert(store_token_new(s, octstr_imm("15550001"), 1, 60) == NULL);
    t4 = store_token_new(s, octstr_imm("+15550001"), 5, 1L << 40);
    test_assert(t4 != NULL && look(s, t4, now + 86400L * 365 * 5,
                                   "+15550001", 5) == 1);
    test_end();

    snprintf(name, sizeof(name), "%s: revoke, purge, unbind, new mailbox",
             label);
    test_begin(name);
    test_assert(store_token_revoke(s, octstr_imm("+15550001")) == 3);
    test_assert(look(s, t1, now, NULL, 0) == 0);
    test_assert(look(s, t2, now, NULL, 0) == 0);
    test_assert(look(s, t3, now, "+15550002", 1) == 1);
    test_assert(store_token_revoke(s, octstr_imm("+15550001")) == 0);
    test_assert(store_token_purge(s, now + 30) == 0);
    test_assert(store_token_purge(s, now + 120) == 1);
    test_assert(look(s, t3, now, NULL, 0) == 0);
    octstr_destroy(t1);
    octstr_destroy(t2);
    octstr_destroy(t3);
    octstr_destroy(t4);
    t1 = store_token_new(s, octstr_imm("+15550002"), 2, 600);
    test_assert(look(s, t1, now, "+15550002", 2) == 1);
    test_assert(store_binding_delete(s, octstr_imm("+15550002")) == 1);
    test_assert(look(s, t1, now, NULL, 0) == 0);
    octstr_destroy(t1);
    t1 = store_token_new(s, octstr_imm("+15550001"), 2, 600);
    test_assert(look(s, t1, now, "+15550001", 2) == 1);
    bind_to(s, "+15550001", "imap://other@h/INBOX");     /* new mailbox */
    test_assert(look(s, t1, now, NULL, 0) == 0);
    octstr_destroy(t1);
    for (i = 0; i < 50; i++) {
        t1 = store_token_new(s, octstr_imm("+15550001"), i + 1, 600);
        test_assert(t1 != NULL && look(s, t1, now, "+15550001", i + 1));
        octstr_destroy(t1);
    }
    test_assert(store_token_revoke(s, octstr_imm("+15550001")) == 50);
    store_binding_delete(s, octstr_imm("+15550001"));
    test_end();
    store_close(&s);
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
    log_set_output_level(GW_PANIC);
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
        printf("SKIP - mysql: not run (set PM_TEST_MYSQL=host:port:user:"
               "pass:db)\n");
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
