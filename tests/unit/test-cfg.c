/*
 * test-cfg.c - pm-cfg: defaults, ranges, required variables, the
 * connection group lookup and error texts naming file, group, variable.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <fcntl.h>

#include "gwlib/gwlib.h"
#include "pm-cfg.h"
#include "pm-secret.h"
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

#define PM_GROUP(extra) \
    BASE "group = pushmail\nsmsbox-id = pm\nglobal-sender = 1\n" \
    "db-id = pmdb\nsecret-key-file = /tmp/k\n" extra "\n\n"
#define MMSC(extra) \
    "group = pushmail-mmsc\nid = m1\nmmsc-url = http://127.0.0.1:9/mm7\n" \
    "sender-address = 5555\n" extra "\n\n"

static void test_mmsc_groups(void)
{
    Octstr *err = NULL, *id;
    PmConfig *c;
    const PmMmscConf *m;

    test_begin("pushmail-mmsc groups: defaults, content class, lookup");
    c = load(PM_GROUP("") MMSC("allowed-prefix = +4670;+4673\n"
                               "content-class = image-basic")
             "group = pushmail-mmsc\nid = box\ntype = mmsbox\n"
             "mmsc-url = https://mmsbox.example/sendmms\n"
             "incoming-port = 14001\nincoming-username = u\n"
             "incoming-password = p\nmax-message-size = 102400\n", &err);
    test_assert(c != NULL);
    if (c == NULL)
        fprintf(stderr, "  error was: %s\n", octstr_get_cstr(err));
    if (c != NULL) {
        test_assert(gwlist_len(c->mmscs) == 2);
        m = pm_cfg_mmsc_for(c, octstr_imm("+46701234567"));
        test_assert(m != NULL && octstr_str_compare(m->id, "m1") == 0);
        test_assert(m != NULL && m->max_message_size == 30 * 1024 &&
                    m->max_width == 160 && m->max_height == 120);
        test_assert(m != NULL &&
                    octstr_str_compare(m->mm7_version, "5.3.0") == 0 &&
                    m->max_connections == 32 && m->retry_interval == 30);
        /* not m1's prefix: the next group (no prefix list) serves it */
        m = pm_cfg_mmsc_for(c, octstr_imm("+15550001"));
        test_assert(m != NULL && octstr_str_compare(m->id, "box") == 0 &&
                    m->max_message_size == 102400);
        id = octstr_create("box");
        test_assert(pm_cfg_mmsc_by_id(c, id) == m);
        octstr_destroy(id);
        test_assert(pm_cfg_mmsc_by_id(c, octstr_imm("zz")) == NULL);
    }
    pm_cfg_destroy(c);
    octstr_destroy(err);
    test_end();

    expect_error("mmsc: bad type", PM_GROUP("") MMSC("type = smtp"),
                 "type", "smtp");
    expect_error("mmsc: missing url",
                 PM_GROUP("") "group = pushmail-mmsc\nid = m1\n"
                 "sender-address = 5555\n", "mmsc-url", NULL);
    expect_error("mmsc: mm7 without sender-address",
                 PM_GROUP("") "group = pushmail-mmsc\nid = m1\n"
                 "mmsc-url = http://x/\n", "sender-address", "reports");
    expect_error("mmsc: incoming port without credentials",
                 PM_GROUP("") MMSC("incoming-port = 14002"),
                 "incoming-username", NULL);
    expect_error("mmsc: two groups, one id",
                 PM_GROUP("") MMSC("") MMSC(""), "id", "two groups");
    expect_error("mmsc: bad prefix list",
                 PM_GROUP("") MMSC("allowed-prefix = 4670;abc"),
                 "allowed-prefix", NULL);
    expect_error("mmsc: incoming port equal to admin-port",
                 PM_GROUP("admin-port = 14003\nadmin-password = a")
                 MMSC("incoming-port = 14003\nincoming-username = u\n"
                      "incoming-password = p"), "incoming-port", NULL);
    expect_error("mmsc: size above the store's limit",
                 PM_GROUP("") MMSC("max-message-size = 9000000"),
                 "max-message-size", NULL);
    expect_error("mmsc: unknown variable", PM_GROUP("") MMSC("colour = red"),
                 "pushmail.conf", NULL);
    test_begin("a value with the word include is refused, not echoed");
    {
        Octstr *err = NULL;
        PmConfig *c = load(PM_GROUP("") MMSC("password = pw-include-me"),
                           &err);

        test_assert(c == NULL && err_has(err, "'password'") &&
                    err_has(err, "include directive"));
        test_assert(err != NULL && !err_has(err, "pw-include-me"));
        pm_cfg_destroy(c);
        octstr_destroy(err);
    }
    test_end();
    expect_error("mmsc: sender-address with a blank",
                 PM_GROUP("") "group = pushmail-mmsc\nid = m1\n"
                 "mmsc-url = http://x/\nsender-address = 55 55\n",
                 "sender-address", NULL);
}

static void test_web(void)
{
    Octstr *err = NULL;
    PmConfig *c;

    test_begin("web view: public-url default and trailing slash");
    c = load(PM_GROUP("http-port = 14010"), &err);
    test_assert(c != NULL && c->public_url != NULL &&
                octstr_str_compare(c->public_url,
                                   "http://127.0.0.1:14010") == 0);
    pm_cfg_destroy(c);
    c = load(PM_GROUP("http-port = 14010\n"
                      "public-url = https://m.example.net/pm/"), &err);
    test_assert(c != NULL && octstr_str_compare(c->public_url,
                "https://m.example.net/pm") == 0);
    test_assert(c != NULL && c->view_lifetime == 604800 &&
                c->send_budget == 20 && c->save_sent == 1 &&
                octstr_str_compare(c->sent_folder, "Sent") == 0);
    pm_cfg_destroy(c);
    octstr_destroy(err);
    test_end();
    expect_error("web: http-port equal to admin-port",
                 PM_GROUP("admin-port = 14011\nadmin-password = a\n"
                          "http-port = 14011"), "http-port", NULL);
    expect_error("web: ppg without url", PM_GROUP("wap-push-via = ppg"),
                 "ppg-url", NULL);
    expect_error("web: bad wap-push-via", PM_GROUP("wap-push-via = mms"),
                 "wap-push-via", "mms");
    expect_error("web: public-url not http",
                 PM_GROUP("public-url = ftp://x/"), "public-url", NULL);
}

static void test_sealed(void)
{
    Octstr *err = NULL, *key_file, *plain, *sealed, *text;
    PmSecretKey *key;
    PmConfig *c;
    unsigned char raw[32];
    int fd, i;

    test_begin("sealed passwords open with the key, and only with it");
    key_file = octstr_format("%s/seal.key", dir);
    for (i = 0; i < 32; i++)
        raw[i] = (unsigned char) (i * 7 + 3);
    fd = open(octstr_get_cstr(key_file), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    test_assert(fd >= 0 && write(fd, raw, 32) == 32);
    close(fd);
    key = pm_secret_key_load(key_file, &err);
    test_assert(key != NULL);
    plain = octstr_create("mm7 p\xc3\xa4ss");
    sealed = key ? pm_secret_encrypt(key, plain) : NULL;
    text = octstr_format(BASE "group = pushmail\nsmsbox-id = pm\n"
                         "global-sender = 1\ndb-id = pmdb\n"
                         "secret-key-file = %S\nadmin-port = 14020\n"
                         "admin-password = enc:%S\n\n"
                         MMSC("password = enc:%S"), key_file, sealed,
                         sealed);
    c = load(octstr_get_cstr(text), &err);
    test_assert(c != NULL);
    if (c != NULL) {
        const PmMmscConf *m = gwlist_get(c->mmscs, 0);

        test_assert(octstr_compare(c->admin_password, plain) == 0);
        test_assert(octstr_compare(m->password, plain) == 0);
    }
    pm_cfg_destroy(c);
    octstr_destroy(text);
    /* a damaged value: refused, and the error does not echo it */
    octstr_set_char(sealed, 10, octstr_get_char(sealed, 10) == 'A' ?
                    'B' : 'A');
    text = octstr_format(BASE "group = pushmail\nsmsbox-id = pm\n"
                         "global-sender = 1\ndb-id = pmdb\n"
                         "secret-key-file = %S\n\n"
                         MMSC("password = enc:%S"), key_file, sealed);
    c = load(octstr_get_cstr(text), &err);
    test_assert(c == NULL && err_has(err, "password") &&
                err_has(err, "does not open"));
    test_assert(err != NULL && octstr_search(err, sealed, 0) < 0);
    pm_cfg_destroy(c);
    octstr_destroy(text);
    octstr_destroy(err);
    octstr_destroy(sealed);
    octstr_destroy(plain);
    pm_secret_key_destroy(key);
    octstr_destroy(key_file);
    test_end();
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
    test_mmsc_groups();
    test_web();
    test_sealed();
    test_missing_file();
    cmd = octstr_format("rm -rf '%s'", dir);
    if (system(octstr_get_cstr(cmd)) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    octstr_destroy(cmd);
    r = test_exit();
    gwlib_shutdown();
    return r;
}
