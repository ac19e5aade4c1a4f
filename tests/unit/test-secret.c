/*
 * test-secret.c - unit tests for pm-secret.c: round trip, fresh nonces,
 * tamper detection, wrong key, key file size/type/mode refusals.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gwlib/gwlib.h"
#include "pm-secret.h"
#include "test-common.h"

static char dir[] = "/tmp/pm-test-secret-XXXXXX";

/* Write `len` bytes of `fill` to dir/name with `mode`; the path. */
static Octstr *write_key(const char *name, long len, int fill, int mode)
{
    Octstr *path = octstr_format("%s/%s", dir, name);
    unsigned char buf[128];
    int fd;

    memset(buf, fill, sizeof(buf));
    unlink(octstr_get_cstr(path));
    fd = open(octstr_get_cstr(path), O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd < 0 || write(fd, buf, len) != len)
        fprintf(stderr, "cannot write %s\n", octstr_get_cstr(path));
    if (fd >= 0)
        close(fd);
    chmod(octstr_get_cstr(path), mode);
    return path;
}

static int load_fails(Octstr *path, const char *needle)
{
    Octstr *err = NULL;
    PmSecretKey *k = pm_secret_key_load(path, &err);
    int ok = k == NULL && err != NULL &&
             octstr_search(err, path, 0) >= 0 &&
             octstr_search(err, octstr_imm(needle), 0) >= 0;

    if (!ok)
        fprintf(stderr, "  %s: %s\n", octstr_get_cstr(path),
                err ? octstr_get_cstr(err) : "(loaded)");
    pm_secret_key_destroy(k);
    octstr_destroy(err);
    return ok;
}

int main(void)
{
    PmSecretKey *k, *k2;
    Octstr *p1, *p2, *plain, *s1, *s2, *o, *err = NULL, *t, *path;
    long i;
    int c;

    gwlib_init();
    if (mkdtemp(dir) == NULL) {
        perror("mkdtemp");
        return 1;
    }

    p1 = write_key("k1", 32, 0x11, 0600);
    p2 = write_key("k2", 32, 0x22, 0400);
    k = pm_secret_key_load(p1, &err);
    k2 = pm_secret_key_load(p2, NULL);

    test_begin("key load");
    test_assert(k != NULL && err == NULL && k2 != NULL);
    test_end();

    test_begin("round trip");
    plain = octstr_create_from_data("p\0ss'word\"; --\xff", 15);
    s1 = pm_secret_encrypt(k, plain);
    s2 = pm_secret_encrypt(k, plain);
    test_assert(s1 != NULL && s2 != NULL);
    test_assert(octstr_ncompare(s1, octstr_imm("v1:"), 3) == 0);
    test_assert(octstr_compare(s1, s2) != 0);          /* fresh nonce */
    test_assert(octstr_search(s1, octstr_imm("ss'word"), 0) < 0);
    for (i = 0; i < octstr_len(s1); i++) {
        c = octstr_get_char(s1, i);
        test_assert(c > 0x20 && c < 0x7f);
    }
    o = pm_secret_decrypt(k, s1, &err);
    test_assert(o != NULL && err == NULL && octstr_compare(o, plain) == 0);
    pm_secret_wipe(o);
    o = pm_secret_decrypt(k, s2, NULL);
    test_assert(o != NULL && octstr_compare(o, plain) == 0);
    pm_secret_wipe(o);
    t = octstr_create("");
    o = pm_secret_encrypt(k, t);
    octstr_destroy(t);
    t = pm_secret_decrypt(k, o, NULL);
    test_assert(t != NULL && octstr_len(t) == 0);
    pm_secret_wipe(t);
    octstr_destroy(o);
    test_end();

    test_begin("tamper detection");
    for (i = 3; i < octstr_len(s1); i += 7) {
        t = octstr_duplicate(s1);
        c = octstr_get_char(t, i);
        octstr_set_char(t, i, c == 'A' ? 'B' : 'A');
        o = pm_secret_decrypt(k, t, &err);
        test_assert(o == NULL && err != NULL);
        octstr_destroy(err);
        err = NULL;
        octstr_destroy(o);
        octstr_destroy(t);
    }
    t = octstr_duplicate(s1);
    octstr_set_char(t, 1, '2');                        /* "v2:" */
    test_assert(pm_secret_decrypt(k, t, NULL) == NULL);
    octstr_destroy(t);
    t = octstr_copy(s1, 0, octstr_len(s1) - 4);        /* truncated */
    test_assert(pm_secret_decrypt(k, t, NULL) == NULL);
    octstr_destroy(t);
    t = octstr_create("v1:AAAA");
    test_assert(pm_secret_decrypt(k, t, NULL) == NULL);
    octstr_destroy(t);
    t = octstr_create("v1:!!!!");
    test_assert(pm_secret_decrypt(k, t, NULL) == NULL);
    octstr_destroy(t);
    t = octstr_create("");
    test_assert(pm_secret_decrypt(k, t, NULL) == NULL);
    octstr_destroy(t);
    test_assert(pm_secret_decrypt(k, NULL, NULL) == NULL);
    test_end();

    test_begin("wrong key");
    o = pm_secret_decrypt(k2, s1, &err);
    test_assert(o == NULL && err != NULL &&
                octstr_search(err, octstr_imm("key"), 0) >= 0);
    octstr_destroy(err);
    err = NULL;
    test_end();

    test_begin("key file refusals");
    path = write_key("short", 31, 1, 0600);
    test_assert(load_fails(path, "exactly 32"));
    octstr_destroy(path);
    path = write_key("long", 33, 1, 0600);
    test_assert(load_fails(path, "exactly 32"));
    octstr_destroy(path);
    path = write_key("grp", 32, 1, 0640);
    test_assert(load_fails(path, "group or others"));
    octstr_destroy(path);
    path = write_key("oth", 32, 1, 0602);
    test_assert(load_fails(path, "group or others"));
    octstr_destroy(path);
    path = octstr_format("%s", dir);
    test_assert(load_fails(path, "regular file"));
    octstr_destroy(path);
    path = octstr_format("%s/missing", dir);
    test_assert(load_fails(path, "cannot open"));
    octstr_destroy(path);
    test_assert(pm_secret_key_load(NULL, NULL) == NULL);
    test_end();

    pm_secret_key_destroy(k);
    pm_secret_key_destroy(k2);
    pm_secret_key_destroy(NULL);
    pm_secret_wipe(NULL);
    octstr_destroy(plain);
    octstr_destroy(s1);
    octstr_destroy(s2);
    path = octstr_format("rm -rf '%s'", dir);
    if (system(octstr_get_cstr(path)) != 0)
        fprintf(stderr, "cannot remove %s\n", dir);
    octstr_destroy(path);
    octstr_destroy(p1);
    octstr_destroy(p2);
    gwlib_shutdown();
    return test_exit();
}
