/*
 * test-cfg.c - pm-cfg: defaults, ranges, required variables, the
 * connection group lookup and error texts naming file, group, variable.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "gwlib/gwlib.h"
#include "pm-cfg.h"
#include "test-common.h"

static char dir[] = "/tmp/pm-test-cfg-XXXXXX";

static Octstr *write_conf(const char *name, const char *text)
{
    Octstr *path = octstr_format("%s/%s", dir, name);
    FILE *f = fopen(octstr_get_cstr(path), "w");

    fputs(text, f);
    fclose(f);
    return path;
}

#define BASE \
    "group = core\nadmin-port = 13000\nsmsbox-port = 13001\n" \
    "admin-password = x\n\n" \
    "group = sqlite3-connection\nid = pmdb\ndatabase = /tmp/pm.db\n\n"

static PmConfig *load(const char *text, Octstr **err_r)
{
    Octstr *path = write_conf("pushmail.conf", text);
    PmConfig *c = pm_cfg_load(path, err_r);

    octstr_destroy(path);
    return c;
}

static int err_has(Octstr *err, const char *want)
{
    return err != NULL && octstr_search(err, octstr_imm(want), 0) >= 0;
}

static void test_defaults(void)
{
    Octstr *err = NULL;
    PmConfig *c;

    test_begin("minimal config and defaults");
    c = load(BASE "group = pushmail\nsmsbox-id = pm\nglobal-sender = 1234\n"
             "db-id = pmdb\nsecret-key-file = /tmp/k\n", &err);
    test_assert(c != NULL);
    if (c == NULL)
        fprintf(stderr, "  error was: %s\n", octstr_get_cstr(err));
    if (c != NULL) {
        test_assert_str(octstr_get_cstr(c->smsbox_id), "pm");
        test_assert(c->bearerbox_port == 13001);
        test_assert_str(octstr_get_cstr(c->bearerbox_host), "127.0.0.1");
        test_assert(c->db.type == PM_DB_SQLITE3);
        test_assert_str(octstr_get_cstr(c->db.file), "/tmp/pm.db");
        test_assert(c->poll_interval == 60);
        test_assert(c->page_segments == 3);
        test_assert(c->coalesce_window == 5);
        test_assert(c->trim_quotes == 1);
        test_assert(c->admin_port == 0);
        test_assert_str(octstr_get_cstr(c->admin_allow_ip), "127.0.0.1;::1");
    }
    pm_cfg_destroy(c);
    octstr_destroy(err);
    test_end();
}

static void test_values(void)
{
    Octstr *err = NULL;
    PmConfig *c;

    test_begin("explicit values, mysql connection");
    c = load("group = mysql-connection\nid = my\nhost = 127.0.0.1\n"
             "port = 3307\nusername = pm\npassword = pw\ndatabase = pm\n\n"
             "group = pushmail\nsmsbox-id = pm\nglobal-sender = 1234\n"
             "bearerbox-port = 14001\ndb-type = mysql\ndb-id = my\n"
             "secret-key-file = /tmp/k\npoll-interval = 30\n"
             "trim-quotes = no\nadmin-port = 14002\n"
             "admin-password = secret\ncountry-code = 46\n", &err);
    test_assert(c != NULL);
    if (c != NULL) {
        test_assert(c->bearerbox_port == 14001);
        test_assert(c->db.type == PM_DB_MYSQL);
        test_assert(c->db.port == 3307);
        test_assert_str(octstr_get_cstr(c->db.username), "pm");
        test_assert(c->poll_interval == 30);
        test_assert(c->trim_quotes == 0);
        test_assert(c->admin_port == 14002);
        test_assert_str(octstr_get_cstr(c->country_code), "46");
    }
    pm_cfg_destroy(c);
    octstr_destroy(err);
    test_end();
}

static void expect_error(const char *name, const char *text,
                         const char *w1, const char *w2)
{
    Octstr *err = NULL;
    PmConfig *c;

    test_begin(name);
    c = load(text, &err);
    test_assert(c == NULL);
    test_assert(err_has(err, "pushmail.conf"));
    test_assert(err_has(err, w1));
    if (w2 != NULL)
        test_assert(err_has(err, w2));
    if (err != NULL && !err_has(err, w1))
        fprintf(stderr, "  error was: %s\n", octstr_get_cstr(err));
    pm_cfg_destroy(c);
    octstr_destroy(err);
    test_end();
}

static void test_errors(void)
{
    expect_error("missing smsbox-id",
                 BASE "group = pushmail\nglobal-sender = 1\ndb-id = pmdb\n"
                 "secret-key-file = /tmp/k\n", "smsbox-id", "missing");
    expect_error("missing global-sender",
                 BASE "group = pushmail\nsmsbox-id = pm\ndb-id = pmdb\n"
                 "secret-key-file = /tmp/k\n", "global-sender", NULL);
    expect_error("poll-interval not a number",
                 BASE "group = pushmail\nsmsbox-id = pm\nglobal-sender = 1\n"
                 "db-id = pmdb\nsecret-key-file = /tmp/k\n"
                 "poll-interval = soon\n", "poll-interval", "soon");
    expect_error("page-segments out of range",
                 BASE "group = pushmail\nsmsbox-id = pm\nglobal-sender = 1\n"
                 "db-id = pmdb\nsecret-key-file = /tmp/k\n"
                 "page-segments = 99\n", "page-segments", "1 to 10");
    expect_error("db-id names no group",
                 BASE "group = pushmail\nsmsbox-id = pm\nglobal-sender = 1\n"
                 "db-id = nope\nsecret-key-file = /tmp/k\n", "db-id", "nope");
    expect_error("bad db-type",
                 BASE "group = pushmail\nsmsbox-id = pm\nglobal-sender = 1\n"
                 "db-type = oracle\ndb-id = pmdb\nsecret-key-file = /tmp/k\n",
                 "db-type", "oracle");
    expect_error("admin-port without password",
                 BASE "group = pushmail\nsmsbox-id = pm\nglobal-sender = 1\n"
                 "db-id = pmdb\nsecret-key-file = /tmp/k\n"
                 "admin-port = 14000\n", "admin-password", NULL);
    expect_error("no bearerbox port anywhere",
                 "group = sqlite3-connection\nid = pmdb\ndatabase = /x\n\n"
                 "group = pushmail\nsmsbox-id = pm\nglobal-sender = 1\n"
                 "db-id = pmdb\nsecret-key-file = /tmp/k\n",
                 "bearerbox-port", NULL);
    expect_error("bad boolean",
                 BASE "group = pushmail\nsmsbox-id = pm\nglobal-sender = 1\n"
                 "db-id = pmdb\nsecret-key-file = /tmp/k\n"
                 "trim-quotes = maybe\n", "trim-quotes", "maybe");
    expect_error("no pushmail group", BASE, "group = pushmail", NULL);
    expect_error("global-sender too long",
                 BASE "group = pushmail\nsmsbox-id = pm\n"
                 "global-sender = 123456789012345678901\ndb-id = pmdb\n"
                 "secret-key-file = /tmp/k\n", "global-sender", "20");
    expect_error("lock-timeout out of range",
                 "group = core\nsmsbox-port = 13001\n\n"
                 "group = smsbox\nbearerbox-host = 127.0.0.1\n\n"
                 "group = sqlite3-connection\nid = pmdb\ndatabase = /x\n"
                 "lock-timeout = 0\n\n"
                 "group = pushmail\nsmsbox-id = pm\nglobal-sender = 1\n"
                 "db-id = pmdb\nsecret-key-file = /tmp/k\n",
                 "lock-timeout", "1 to 600");
}

static void test_unknown_variable(void)
{
    Octstr *err = NULL;
    PmConfig *c;

    test_begin("unknown variable in group pushmail is refused");
    c = load(BASE "group = pushmail\nsmsbox-id = pm\nglobal-sender = 1\n"
             "db-id = pmdb\nsecret-key-file = /tmp/k\nno-such-thing = 1\n",
             &err);
    test_assert(c == NULL);
    test_assert(err_has(err, "pushmail.conf"));
    pm_cfg_destroy(c);
    octstr_destroy(err);
    test_end();
}

static void test_missing_file(void)
{
    Octstr *err = NULL, *path = octstr_format("%s/nope.conf", dir);
    PmConfig *c;

    test_begin("missing file is an error, not a panic");
    c = pm_cfg_load(path, &err);
    test_assert(c == NULL);
    test_assert(err_has(err, "nope.conf"));
    test_assert(err_has(err, "cannot be read"));
    octstr_destroy(err);
    octstr_destroy(path);
    test_end();
}

int main(void)
{
    Octstr *cmd;
    int r;

    gwlib_init();
    log_set_output_level(GW_PANIC);
    if (mkdtemp(dir) == NULL)
        return 1;
    test_defaults();
    test_values();
    test_errors();
    test_unknown_variable();
    test_missing_file();
    cmd = octstr_format("rm -rf '%s'", dir);
    if (system(octstr_get_cstr(cmd)) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    octstr_destroy(cmd);
    r = test_exit();
    gwlib_shutdown();
    return r;
}
