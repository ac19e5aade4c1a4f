/*
 * test-pm-log.c - pm_log_safe(): cut, control bytes replaced, UTF-8 kept
 * whole.
 */
#include "gwlib/gwlib.h"
#include "pm-log.h"
#include "test-common.h"

static int safe_is(const char *in, long inlen, long max, const char *want)
{
    Octstr *i = octstr_create_from_data(in, inlen);
    Octstr *r = pm_log_safe(i, max);
    int ok = octstr_str_compare(r, want) == 0;

    if (!ok)
        fprintf(stderr, "  got \"%s\"\n", octstr_get_cstr(r));
    octstr_destroy(i);
    octstr_destroy(r);
    return ok;
}

int main(void)
{
    Octstr *r;
    int st;

    gwlib_init();
    test_begin("plain text passes");
    test_assert(safe_is("NO [AUTHENTICATIONFAILED] nope", 30, 100,
                        "NO [AUTHENTICATIONFAILED] nope"));
    test_end();

    test_begin("control bytes become '?', a forged log line cannot start");
    test_assert(safe_is("bad\r\n2026-01-01 INFO: forged\x7f", 29, 100,
                        "bad??2026-01-01 INFO: forged?"));
    test_assert(safe_is("a\0b", 3, 100, "a?b"));
    test_end();

    test_begin("cut to max, never inside a UTF-8 sequence");
    test_assert(safe_is("abcdef", 6, 3, "abc"));
    test_assert(safe_is("ab\xc3\xa9", 4, 3, "ab"));          /* é */
    test_assert(safe_is("a\xe2\x82\xac", 4, 3, "a"));        /* € */
    test_assert(safe_is("\xe2\x82\xac", 3, 3, "\xe2\x82\xac"));
    test_end();

    test_begin("NULL gives an empty string");
    r = pm_log_safe(NULL, 10);
    test_assert(r != NULL && octstr_len(r) == 0);
    octstr_destroy(r);
    test_end();

    st = test_exit();
    gwlib_shutdown();
    return st;
}
