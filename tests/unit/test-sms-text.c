/*
 * test-sms-text.c - unit tests for sms-text: GSM detection, units,
 * capacity, fit/truncate boundaries, paging and msgdata.
 */
#include "gwlib/gwlib.h"
#include "sms-text.h"
#include "test-common.h"

static Octstr *repeat(const char *s, long n)
{
    Octstr *os = octstr_create("");
    long i;

    for (i = 0; i < n; i++)
        octstr_append_cstr(os, s);
    return os;
}

static int ends_with(const Octstr *os, const char *s)
{
    long n = strlen(s);

    return octstr_len(os) >= n
           && memcmp(octstr_get_cstr(os) + octstr_len(os) - n, s, n) == 0;
}

/* 1 if os is valid UTF-8 without U+FFFD introduced by a bad cut */
static int valid_utf8(const Octstr *os)
{
    Octstr *c = sms_text_sanitize(os);
    int r = octstr_compare(c, os) == 0;

    octstr_destroy(c);
    return r;
}

static void test_is_gsm(void)
{
    static const struct {
        const char *s;
        int gsm;
    } tab[] = {
        { "", 1 },
        { "Hello, world! 123 @$_", 1 },
        { "\xc3\xa9\xc3\xbc\xc3\x84\xc3\xb1\xc2\xa3", 1 },  /* éüÄñ£ */
        { "\xe2\x82\xac", 1 },          /* € extension */
        { "^{}\\[~]|", 1 },             /* extension */
        { "\xce\x94\xce\xa9", 1 },      /* ΔΩ */
        { "\xc3\x87", 1 },              /* Ç */
        { "\xc3\xa7", 0 },              /* ç */
        { "\xc3\xa1", 0 },              /* á */
        { "\xc5\x91", 0 },              /* ő */
        { "`", 0 },
        { "a\tb", 0 },
        { "line\nnext\r", 1 },
        { "\xf0\x9f\x98\x80", 0 },      /* emoji */
        { "\xe6\x97\xa5\xe6\x9c\xac", 0 },  /* CJK */
        { "\xff", 0 },                  /* invalid -> U+FFFD */
        { "\xc0\xaf", 0 },              /* overlong */
    };
    size_t i;

    test_begin("is_gsm table");
    for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
        Octstr *os = octstr_create(tab[i].s);
        if (sms_text_is_gsm(os) != tab[i].gsm)
            fprintf(stderr, "  case %lu\n", (unsigned long) i);
        test_assert(sms_text_is_gsm(os) == tab[i].gsm);
        octstr_destroy(os);
    }
    test_assert(sms_text_is_gsm(NULL) == 1);
    test_end();
}

static void test_units(void)
{
    Octstr *os;

    test_begin("units");
    os = octstr_create("ab\xe2\x82\xac{");       /* a b € { */
    test_assert(sms_text_units(os, 1) == 6);
    test_assert(sms_text_units(os, 0) == 4);
    octstr_destroy(os);
    os = octstr_create("a\xf0\x9f\x98\x80" "b");  /* a 😀 b */
    test_assert(sms_text_units(os, 0) == 4);
    octstr_destroy(os);
    os = octstr_create("\xc3\xa9");
    test_assert(sms_text_units(os, 1) == 1);
    test_assert(sms_text_units(os, 0) == 1);
    octstr_destroy(os);
    test_assert(sms_text_units(NULL, 1) == 0);
    test_assert(sms_text_capacity(1, 1) == 160);
    test_assert(sms_text_capacity(1, 0) == 70);
    test_assert(sms_text_capacity(2, 1) == 306);
    test_assert(sms_text_capacity(3, 0) == 201);
    test_assert(sms_text_capacity(0, 1) == 160);
    test_assert(sms_text_capacity(-5, 0) == 70);
    test_end();
}

static void test_fit(void)
{
    Octstr *in, *out;
    int gsm;

    test_begin("fit gsm 160/161");
    in = repeat("a", 160);
    out = sms_text_fit(in, 1, &gsm);
    test_assert(gsm == 1);
    test_assert(octstr_compare(in, out) == 0);
    octstr_destroy(out);
    octstr_append_char(in, 'b');
    out = sms_text_fit(in, 1, &gsm);
    test_assert(octstr_len(out) == 160);
    test_assert(ends_with(out, "aaa..."));
    octstr_destroy(out);
    octstr_destroy(in);
    test_end();

    test_begin("fit ucs2 70/71");
    in = repeat("\xc3\xa7", 70);
    out = sms_text_fit(in, 1, &gsm);
    test_assert(gsm == 0);
    test_assert(octstr_compare(in, out) == 0);
    octstr_destroy(out);
    octstr_append_cstr(in, "x");
    out = sms_text_fit(in, 1, &gsm);
    test_assert(gsm == 0);
    test_assert(sms_text_units(out, 0) == 70);
    test_assert(ends_with(out, "\xc3\xa7..."));
    test_assert(valid_utf8(out));
    octstr_destroy(out);
    octstr_destroy(in);
    test_end();

    test_begin("fit multi-segment 153/67");
    in = repeat("a", 306);
    out = sms_text_fit(in, 2, &gsm);
    test_assert(octstr_compare(in, out) == 0);
    octstr_destroy(out);
    octstr_append_char(in, 'a');
    out = sms_text_fit(in, 2, &gsm);
    test_assert(octstr_len(out) == 306 && ends_with(out, "..."));
    octstr_destroy(out);
    octstr_destroy(in);
    in = repeat("\xd0\x96", 135);       /* Ж x 135 > 134 */
    out = sms_text_fit(in, 2, &gsm);
    test_assert(gsm == 0 && sms_text_units(out, 0) == 134);
    octstr_destroy(out);
    octstr_destroy(in);
    test_end();

    test_begin("fit escape pair at cut");
    /* 156 'a' then '{' (2 septets) at septets 157-158: must not split */
    in = repeat("a", 156);
    octstr_append_cstr(in, "{{{{");
    out = sms_text_fit(in, 1, &gsm);
    test_assert(gsm == 1);
    test_assert(sms_text_units(out, 1) <= 160);
    test_assert(sms_text_units(out, 1) == 159);   /* 156 + "..." */
    octstr_destroy(out);
    octstr_destroy(in);
    in = repeat("a", 155);      /* 155 + '{'(2) = 157 + ... = 160 */
    octstr_append_cstr(in, "{{{{");
    out = sms_text_fit(in, 1, &gsm);
    test_assert(sms_text_units(out, 1) == 160);
    test_assert(ends_with(out, "{..."));
    octstr_destroy(out);
    octstr_destroy(in);
    test_end();

    test_begin("fit emoji surrogate at cut");
    in = repeat("x", 66);       /* 66 + emoji(2) > 67 */
    octstr_append_cstr(in, "\xf0\x9f\x98\x80\xf0\x9f\x98\x80");
    octstr_append_cstr(in, "\xf0\x9f\x98\x80");
    out = sms_text_fit(in, 1, &gsm);
    test_assert(gsm == 0);
    test_assert(sms_text_units(out, 0) == 69);
    test_assert(valid_utf8(out));
    test_assert(ends_with(out, "x..."));
    octstr_destroy(out);
    octstr_destroy(in);
    in = repeat("x", 65);       /* 65 + emoji(2) = 67 + 3 = 70 */
    octstr_append_cstr(in, "\xf0\x9f\x98\x80\xf0\x9f\x98\x80");
    octstr_append_cstr(in, "\xf0\x9f\x98\x80");
    out = sms_text_fit(in, 1, &gsm);
    test_assert(sms_text_units(out, 0) == 70);
    test_assert(ends_with(out, "\x80..."));
    test_assert(valid_utf8(out));
    octstr_destroy(out);
    octstr_destroy(in);
    test_end();

    test_begin("fit decides by whole input");
    /* GSM start, one non-GSM char at the end that is cut away */
    in = repeat("a", 200);
    octstr_append_cstr(in, "\xc3\xa7");
    out = sms_text_fit(in, 1, &gsm);
    test_assert(gsm == 0);
    test_assert(octstr_len(out) == 70);
    octstr_destroy(out);
    octstr_destroy(in);
    in = octstr_create("ok\xff");
    out = sms_text_fit(in, 1, &gsm);
    test_assert(gsm == 0);
    test_assert_str(octstr_get_cstr(out), "ok\xef\xbf\xbd");
    octstr_destroy(out);
    octstr_destroy(in);
    test_end();
}

/* Check each page fits, all but the last end with hint, and the pages
 * rejoin to the input modulo whitespace. */
static int check_pages(const Octstr *in, List *pages, long segs,
                       const char *hint, int gsm)
{
    Octstr *a = octstr_create(""), *b = octstr_duplicate(in);
    long i, n = gwlist_len(pages), cap = sms_text_capacity(segs, gsm);
    int ok = 1;

    for (i = 0; i < n; i++) {
        Octstr *p = octstr_duplicate(gwlist_get(pages, i));
        if (sms_text_units(p, gsm) > cap)
            ok = 0;
        if (!valid_utf8(p))
            ok = 0;
        if (i < n - 1) {
            if (!ends_with(p, hint))
                ok = 0;
            else
                octstr_truncate(p, octstr_len(p) - strlen(hint));
        }
        octstr_append(a, p);
        octstr_destroy(p);
    }
    /* drop whitespace from both sides to compare */
    octstr_delete_matching(a, octstr_imm(" "));
    octstr_delete_matching(a, octstr_imm("\n"));
    octstr_delete_matching(b, octstr_imm(" "));
    octstr_delete_matching(b, octstr_imm("\n"));
    if (octstr_compare(a, b) != 0)
        ok = 0;
    octstr_destroy(a);
    octstr_destroy(b);
    return ok;
}

static void test_pages(void)
{
    Octstr *in;
    List *pages;
    int gsm;
    long i;

    test_begin("pages short");
    in = octstr_create("  hello  ");
    pages = sms_text_pages(in, 1, " [MORE]", &gsm);
    test_assert(gwlist_len(pages) == 1);
    test_assert_str(octstr_get_cstr(gwlist_get(pages, 0)), "hello");
    gwlist_destroy(pages, octstr_destroy_item);
    octstr_destroy(in);
    pages = sms_text_pages(NULL, 1, NULL, &gsm);
    test_assert(gwlist_len(pages) == 1);
    test_assert(octstr_len(gwlist_get(pages, 0)) == 0);
    gwlist_destroy(pages, octstr_destroy_item);
    test_end();

    test_begin("pages words gsm");
    in = repeat("word{s} are here ", 100);
    pages = sms_text_pages(in, 1, " [MORE]", &gsm);
    test_assert(gsm == 1);
    test_assert(gwlist_len(pages) > 10);
    test_assert(check_pages(in, pages, 1, " [MORE]", gsm));
    /* breaks at whitespace: a page (before its hint) ends a word */
    test_assert(ends_with(gwlist_get(pages, 0), "here [MORE]")
                || ends_with(gwlist_get(pages, 0), "are [MORE]")
                || ends_with(gwlist_get(pages, 0), "word{s} [MORE]"));
    gwlist_destroy(pages, octstr_destroy_item);
    pages = sms_text_pages(in, 3, " [MORE]", &gsm);
    test_assert(check_pages(in, pages, 3, " [MORE]", gsm));
    gwlist_destroy(pages, octstr_destroy_item);
    octstr_destroy(in);
    test_end();

    test_begin("pages ucs2 no spaces, emoji");
    in = repeat("\xe6\x97\xa5\xf0\x9f\x98\x80", 300);
    pages = sms_text_pages(in, 2, " [MORE]", &gsm);
    test_assert(gsm == 0);
    test_assert(check_pages(in, pages, 2, " [MORE]", gsm));
    gwlist_destroy(pages, octstr_destroy_item);
    octstr_destroy(in);
    test_end();

    test_begin("pages coding from hint");
    in = repeat("abc ", 100);
    pages = sms_text_pages(in, 1, " [MEHR \xc3\xa7]", &gsm);
    test_assert(gsm == 0);
    test_assert(check_pages(in, pages, 1, " [MEHR \xc3\xa7]", gsm));
    gwlist_destroy(pages, octstr_destroy_item);
    octstr_destroy(in);
    test_end();

    test_begin("pages trailing whitespace, exact fits");
    in = repeat("a", 160);
    octstr_append_cstr(in, "        \n\n   ");
    pages = sms_text_pages(in, 1, " [MORE]", &gsm);
    test_assert(gwlist_len(pages) == 1);
    gwlist_destroy(pages, octstr_destroy_item);
    octstr_destroy(in);
    in = repeat("a", 161);
    pages = sms_text_pages(in, 1, " [MORE]", &gsm);
    test_assert(gwlist_len(pages) == 2);
    /* '[' and ']' are escaped: the hint is 9 septets */
    test_assert(sms_text_units(gwlist_get(pages, 0), 1) == 160);
    test_assert(octstr_len(gwlist_get(pages, 0)) == 151 + 7);
    test_assert(check_pages(in, pages, 1, " [MORE]", gsm));
    gwlist_destroy(pages, octstr_destroy_item);
    octstr_destroy(in);
    test_end();

    test_begin("pages random words");
    for (i = 0; i < 50; i++) {
        Octstr *w = octstr_create("");
        long k, len = gw_rand() % 3000;
        static const char *bits[] = { "a", " ", "\n", "{", "\xc3\xa9",
            "\xc3\xa7", "\xf0\x9f\x98\x80", "xyzzy ", "  " };
        int ascii = i % 2;
        for (k = 0; k < len; k++)
            octstr_append_cstr(w, bits[gw_rand() % (ascii ? 6 : 9)]);
        pages = sms_text_pages(w, 1 + i % 4, " [MORE]", &gsm);
        test_assert(check_pages(w, pages, 1 + i % 4, " [MORE]", gsm));
        gwlist_destroy(pages, octstr_destroy_item);
        octstr_destroy(w);
    }
    test_end();

    test_begin("pages cap");
    in = repeat("a ", 200000);
    pages = sms_text_pages(in, 1, " [MORE]", &gsm);
    test_assert(gwlist_len(pages) == SMS_TEXT_MAX_PAGES);
    test_assert(ends_with(gwlist_get(pages, SMS_TEXT_MAX_PAGES - 1),
                          "..."));
    gwlist_destroy(pages, octstr_destroy_item);
    octstr_destroy(in);
    test_end();
}

static void test_msgdata(void)
{
    Octstr *in, *out;
    int coding;

    test_begin("msgdata");
    in = octstr_create("A\xc3\xa9\xe2\x82\xac");        /* A é € */
    out = sms_text_msgdata(in, 1, &coding);
    test_assert(coding == 0);
    test_assert(octstr_compare(in, out) == 0);
    octstr_destroy(out);
    out = sms_text_msgdata(in, 0, &coding);
    test_assert(coding == 2);
    test_assert(octstr_len(out) == 6);
    test_assert(memcmp(octstr_get_cstr(out),
                       "\x00\x41\x00\xe9\x20\xac", 6) == 0);
    octstr_destroy(out);
    octstr_destroy(in);
    in = octstr_create("\xf0\x9f\x98\x80\xff");
    out = sms_text_msgdata(in, 0, &coding);
    test_assert(octstr_len(out) == 6);
    test_assert(memcmp(octstr_get_cstr(out),
                       "\xd8\x3d\xde\x00\xff\xfd", 6) == 0);
    octstr_destroy(out);
    octstr_destroy(in);
    test_end();
}

int main(void)
{
    int r;

    gwlib_init();
    log_set_output_level(GW_WARNING);
    test_is_gsm();
    test_units();
    test_fit();
    test_pages();
    test_msgdata();
    r = test_exit();
    gwlib_shutdown();
    return r;
}
