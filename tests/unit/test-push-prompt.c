/*
 * test-push-prompt.c - unit tests for push-prompt: exact texts, and
 * every one-segment text fits one segment in the coding
 * sms_text_is_gsm() picks, for long ASCII and long non-GSM input.
 */
#include "gwlib/gwlib.h"
#include "push-prompt.h"
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

static int fits_one(const Octstr *text)
{
    int gsm = sms_text_is_gsm(text);

    return sms_text_units(text, gsm) <= sms_text_capacity(1, gsm);
}

static int ends_with(const Octstr *os, const char *s)
{
    long n = strlen(s);

    return octstr_len(os) >= n
           && memcmp(octstr_get_cstr(os) + octstr_len(os) - n, s, n) == 0;
}

static int has(const Octstr *os, const char *s)
{
    return octstr_search(os, octstr_imm(s), 0) >= 0;
}

static void test_new_mail_exact(void)
{
    Octstr *p;

    test_begin("new mail: exact texts");
    p = push_prompt_new_mail(3, octstr_imm("Ann Lee"),
                             octstr_imm("Lunch tomorrow?"));
    test_assert_str(octstr_get_cstr(p),
                    "Mail 3 from Ann Lee: Lunch tomorrow? - reply GET 3");
    octstr_destroy(p);
    p = push_prompt_new_mail(12, octstr_imm("Bob"), octstr_imm(""));
    test_assert_str(octstr_get_cstr(p),
                    "Mail 12 from Bob: (no subject) - reply GET 12");
    octstr_destroy(p);
    p = push_prompt_new_mail(1, NULL, NULL);
    test_assert_str(octstr_get_cstr(p),
                    "Mail 1 from unknown: (no subject) - reply GET 1");
    octstr_destroy(p);
    p = push_prompt_new_mail(7, octstr_imm(" Eve\r\n\tX "),
                             octstr_imm("a\nb\x01" "c"));
    test_assert_str(octstr_get_cstr(p),
                    "Mail 7 from Eve X: a b c - reply GET 7");
    octstr_destroy(p);
    test_end();
}

static void check_prompt(long n, Octstr *sender, Octstr *subject,
                         int want_gsm)
{
    Octstr *p = push_prompt_new_mail(n, sender, subject);
    Octstr *tail = octstr_format(" - reply GET %ld", n);
    Octstr *head = octstr_format("Mail %ld from ", n);
    int gsm = sms_text_is_gsm(p);

    test_assert(fits_one(p));
    test_assert(gsm == want_gsm);
    test_assert(ends_with(p, octstr_get_cstr(tail)));
    test_assert(octstr_search(p, head, 0) == 0);
    /* a cut text is used fully: within 3 units of the segment */
    test_assert(sms_text_units(p, gsm) >= sms_text_capacity(1, gsm) - 3);
    octstr_destroy(p);
    octstr_destroy(tail);
    octstr_destroy(head);
}

static void test_new_mail_long(void)
{
    Octstr *s, *j, *p;

    test_begin("new mail: long ASCII subject cut first");
    s = repeat("word ", 60);
    check_prompt(3, octstr_imm("Ann Lee"), s, 1);
    p = push_prompt_new_mail(3, octstr_imm("Ann Lee"), s);
    test_assert(has(p, "from Ann Lee: word"));
    test_assert(has(p, "... - reply GET 3"));
    octstr_destroy(p);
    octstr_destroy(s);
    test_end();

    test_begin("new mail: long sender and subject");
    s = repeat("x", 300);
    check_prompt(999999999, s, s, 1);
    p = push_prompt_new_mail(999999999, s, s);
    /* both cut, each ends in "..." */
    test_assert(has(p, "...: xxx"));
    octstr_destroy(p);
    check_prompt(42, s, octstr_imm("Hi"), 1);
    p = push_prompt_new_mail(42, s, octstr_imm("Hi"));
    test_assert(has(p, "...: Hi - reply GET 42"));
    octstr_destroy(p);
    octstr_destroy(s);
    test_end();

    test_begin("new mail: non-GSM sender and subject (UCS-2)");
    s = repeat("\xe6\x97\xa5", 100);             /* CJK */
    j = repeat("\xf0\x9f\x98\x80", 50);          /* emoji */
    check_prompt(5, s, j, 0);
    check_prompt(5, octstr_imm("Ann"), j, 0);
    check_prompt(5, s, octstr_imm("Hi"), 0);
    p = push_prompt_new_mail(5, octstr_imm("Fran\xc3\xa7oise"),
                             octstr_imm("Caf\xc3\xa9"));
    test_assert(sms_text_is_gsm(p) == 0);        /* c-cedilla */
    test_assert(fits_one(p));
    octstr_destroy(p);
    octstr_destroy(s);
    octstr_destroy(j);
    test_end();

    test_begin("new mail: escape chars at the limit");
    s = repeat("{}", 100);
    check_prompt(8, octstr_imm("Ann"), s, 1);
    octstr_destroy(s);
    s = repeat("\xe2\x82\xac", 200);             /* euro, GSM ext */
    check_prompt(8, s, s, 1);
    octstr_destroy(s);
    s = octstr_create("bad \xff\xfe utf8");
    p = push_prompt_new_mail(1, s, s);
    test_assert(fits_one(p));
    test_assert(has(p, "\xef\xbf\xbd"));
    octstr_destroy(p);
    octstr_destroy(s);
    test_end();
}

static void test_summary(void)
{
    Octstr *p, *s;

    test_begin("summary");
    p = push_prompt_summary(4, octstr_imm("Bob"));
    test_assert_str(octstr_get_cstr(p),
                    "4 more mails, latest from Bob - reply LIST");
    octstr_destroy(p);
    p = push_prompt_summary(1, octstr_imm("Bob"));
    test_assert_str(octstr_get_cstr(p),
                    "1 more mail, latest from Bob - reply LIST");
    octstr_destroy(p);
    s = repeat("\xd0\x96", 200);
    p = push_prompt_summary(123, s);
    test_assert(fits_one(p) && ends_with(p, "... - reply LIST"));
    test_assert(sms_text_is_gsm(p) == 0);
    octstr_destroy(p);
    octstr_destroy(s);
    s = repeat("a", 500);
    p = push_prompt_summary(2, s);
    test_assert(fits_one(p) && sms_text_units(p, 1) == 160);
    octstr_destroy(p);
    octstr_destroy(s);
    test_end();
}

static void test_list_line(void)
{
    Octstr *p, *s;

    test_begin("list line");
    p = push_prompt_list_line(3, octstr_imm("Ann Lee"),
                              octstr_imm("Lunch tomorrow?"));
    test_assert_str(octstr_get_cstr(p), "3 Ann Lee: Lunch tomorrow?");
    octstr_destroy(p);
    s = repeat("abcd ", 30);
    p = push_prompt_list_line(9, octstr_imm("X"), s);
    test_assert(sms_text_units(p, 0) <= 5 + PUSH_PROMPT_LIST_SUBJECT);
    test_assert(ends_with(p, "..."));
    octstr_destroy(p);
    p = push_prompt_list_line(9, s, NULL);
    test_assert(has(p, "...: (no subject)"));
    octstr_destroy(p);
    octstr_destroy(s);
    test_end();
}

static void test_mail_text(void)
{
    ConvertMail m;
    Octstr *p;

    test_begin("mail text");
    memset(&m, 0, sizeof(m));
    m.from = octstr_create("Ann Lee");
    m.from_addr = octstr_create("ann@x.org");
    m.subject = octstr_create("Lunch");
    m.date = octstr_create("27 Nov 14:02");
    m.body = octstr_create("See you at 12.");
    m.attachments = gwlist_create();
    gwlist_append(m.attachments,
                  octstr_create("a.pdf (application/pdf, 12 KB)"));
    p = push_prompt_mail_text(3, &m);
    test_assert_str(octstr_get_cstr(p),
                    "Mail 3 from Ann Lee <ann@x.org>\nSubj: Lunch\n"
                    "Date: 27 Nov 14:02\n\nSee you at 12.\n"
                    "[Attachments: a.pdf (application/pdf, 12 KB)]");
    octstr_destroy(p);
    gwlist_append(m.attachments, octstr_create("b.jpg (image/jpeg, 1 KB)"));
    octstr_destroy(m.date);
    m.date = NULL;
    octstr_destroy(m.from);
    m.from = octstr_create("ann@x.org");
    octstr_destroy(m.subject);
    m.subject = octstr_create("");
    p = push_prompt_mail_text(4, &m);
    test_assert_str(octstr_get_cstr(p),
                    "Mail 4 from ann@x.org\nSubj: (no subject)\n\n"
                    "See you at 12.\n[Attachments: a.pdf (application/pdf,"
                    " 12 KB), b.jpg (image/jpeg, 1 KB)]");
    octstr_destroy(p);
    octstr_destroy(m.from);
    octstr_destroy(m.from_addr);
    octstr_destroy(m.subject);
    octstr_destroy(m.body);
    gwlist_destroy(m.attachments, octstr_destroy_item);
    p = push_prompt_mail_text(5, NULL);
    test_assert(has(p, "Mail 5 from unknown"));
    octstr_destroy(p);
    test_end();
}

static void test_help(void)
{
    Octstr *p;

    test_begin("help and unknown");
    p = push_prompt_help();
    test_assert_str(octstr_get_cstr(p),
                    "Commands: GET n, LIST, MORE, STOP, START, HELP");
    test_assert(fits_one(p) && sms_text_is_gsm(p));
    octstr_destroy(p);
    p = push_prompt_unknown();
    test_assert(fits_one(p) && sms_text_is_gsm(p));
    test_assert(has(p, "REPLY") && has(p, "SEND"));
    octstr_destroy(p);
    test_end();
}

int main(void)
{
    int r;

    gwlib_init();
    log_set_output_level(GW_WARNING);
    test_new_mail_exact();
    test_new_mail_long();
    test_summary();
    test_list_line();
    test_mail_text();
    test_help();
    r = test_exit();
    gwlib_shutdown();
    return r;
}
