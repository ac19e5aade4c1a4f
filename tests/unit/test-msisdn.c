/*
 * test-msisdn.c - unit tests for msisdn.c: accepted forms, national
 * numbers with and without a country code, hostile input.
 */
#include "gwlib/gwlib.h"
#include "msisdn.h"
#include "test-common.h"

/* Normalise `in`; compare with `want` (NULL = must fail with a message). */
static int check(const char *in, const char *cc, const char *np,
                 const char *want)
{
    Octstr *o = octstr_create(in), *err = NULL, *res;
    Octstr *c = cc ? octstr_create(cc) : NULL;
    Octstr *n = np ? octstr_create(np) : NULL;
    int ok;

    res = msisdn_normalise(o, c, n, &err);
    if (want == NULL)
        ok = res == NULL && err != NULL && octstr_len(err) > 0;
    else
        ok = res != NULL && err == NULL &&
             octstr_str_compare(res, want) == 0;
    if (!ok)
        fprintf(stderr, "  in \"%s\": got %s, err %s\n", in,
                res ? octstr_get_cstr(res) : "(null)",
                err ? octstr_get_cstr(err) : "(null)");
    octstr_destroy(o);
    octstr_destroy(c);
    octstr_destroy(n);
    octstr_destroy(res);
    octstr_destroy(err);
    return ok;
}

int main(void)
{
    Octstr *err = NULL, *res, *in;
    long i;

    gwlib_init();

    test_begin("international forms");
    test_assert(check("+46701234567", NULL, "0", "+46701234567"));
    test_assert(check("0046701234567", NULL, "0", "+46701234567"));
    test_assert(check("0046701234567", "46", "0", "+46701234567"));
    test_assert(check("46701234567", NULL, "0", "+46701234567"));
    test_assert(check("+46 (70) 123-45.67", NULL, NULL, "+46701234567"));
    test_assert(check(" +1 415 555 0100 ", NULL, NULL, "+14155550100"));
    test_assert(check("+12345678", NULL, NULL, "+12345678"));
    test_assert(check("+123456789012345", NULL, NULL, "+123456789012345"));
    test_end();

    test_begin("national forms");
    test_assert(check("0701234567", "46", "0", "+46701234567"));
    test_assert(check("070-123 45 67", "46", "0", "+46701234567"));
    test_assert(check("0701234567", NULL, "0", NULL));
    test_assert(check("8 912 345 6789", "7", "8", "+79123456789"));
    test_end();

    test_begin("rejections");
    test_assert(check("", "46", "0", NULL));
    test_assert(check("+1234567", NULL, NULL, NULL));          /* 7 */
    test_assert(check("+1234567890123456", NULL, NULL, NULL)); /* 16 */
    test_assert(check("+0701234567", NULL, NULL, NULL));
    test_assert(check("++46701234567", NULL, NULL, NULL));
    test_assert(check("4670+1234567", NULL, NULL, NULL));
    test_assert(check("46701234567x", NULL, NULL, NULL));
    test_assert(check("4670'; DROP TABLE x; --", NULL, NULL, NULL));
    test_assert(check("+4670\t1234567", NULL, NULL, NULL));
    test_assert(check("00", NULL, NULL, NULL));
    test_assert(check("0", "46", "0", NULL));
    /* only separators: empty after cleaning (found by fuzz-addresses) */
    test_assert(check(".", "46", "0", NULL));
    test_assert(check(" - ()", "46", "0", NULL));
    test_assert(check("+", "46", "0", NULL));
    test_assert(check("+46701234567", "4a", "0", NULL));
    test_assert(check("+46701234567", "46", "0x", NULL));
    test_end();

    test_begin("error text is bounded and printable");
    in = octstr_create("");
    for (i = 0; i < 40; i++)
        octstr_append_char(in, i % 2 ? 'A' : '\x01');
    res = msisdn_normalise(in, NULL, NULL, &err);
    test_assert(res == NULL && err != NULL);
    if (err != NULL) {
        for (i = 0; i < octstr_len(err); i++)
            test_assert(octstr_get_char(err, i) >= 0x20 &&
                        octstr_get_char(err, i) < 0x7f);
        test_assert(octstr_search(err, octstr_imm("..."), 0) > 0);
        test_assert(octstr_len(err) < 200);
    }
    octstr_destroy(err);
    err = NULL;
    octstr_destroy(in);
    in = octstr_create("0701234567");
    res = msisdn_normalise(in, NULL, octstr_imm("0"), &err);
    test_assert(res == NULL && err != NULL &&
                octstr_search(err, octstr_imm("country-code"), 0) >= 0);
    octstr_destroy(err);
    octstr_destroy(in);
    in = octstr_create("");
    for (i = 0; i < 100; i++)
        octstr_append_char(in, '1');
    test_assert(msisdn_normalise(in, NULL, NULL, NULL) == NULL);
    octstr_destroy(in);
    test_end();

    test_begin("msisdn_is_normal");
    test_assert(msisdn_is_normal(octstr_imm("+46701234567")));
    test_assert(!msisdn_is_normal(octstr_imm("46701234567")));
    test_assert(!msisdn_is_normal(octstr_imm("+4670123456x")));
    test_assert(!msisdn_is_normal(octstr_imm("+0701234567")));
    test_assert(!msisdn_is_normal(NULL));
    test_end();

    gwlib_shutdown();
    return test_exit();
}
