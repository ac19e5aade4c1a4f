/*
 * test-imap-parser.c - table-driven tests of the resumable IMAP parser.
 *
 * Every case is fed whole and then one byte at a time; both must give the
 * same canonical dump (or the same error).  Hostile cases cover limits,
 * CR without LF, deep nesting and garbage.
 */
#include <ctype.h>

#include "gwlib/gwlib.h"
#include "imap-parser.h"
#include "test-common.h"

static void dump_list(Octstr *out, List *l);

static void dump_arg(Octstr *out, const ImapArg *a)
{
    long i;
    int c;

    switch (a->type) {
    case IMAP_ARG_ATOM:
        octstr_append(out, a->str);
        break;
    case IMAP_ARG_NIL:
        octstr_append_cstr(out, "NIL");
        break;
    case IMAP_ARG_LIST:
        octstr_append_char(out, '(');
        dump_list(out, a->list);
        octstr_append_char(out, ')');
        break;
    case IMAP_ARG_STRING:
    case IMAP_ARG_LITERAL:
        if (a->type == IMAP_ARG_LITERAL)
            octstr_format_append(out, "{%ld}", octstr_len(a->str));
        octstr_append_char(out, '"');
        for (i = 0; i < octstr_len(a->str); i++) {
            c = octstr_get_char(a->str, i);
            if (isprint(c) && c != '\\')
                octstr_append_char(out, c);
            else
                octstr_format_append(out, "\\x%02x", c);
        }
        octstr_append_char(out, '"');
        break;
    }
}

static void dump_list(Octstr *out, List *l)
{
    long i;

    for (i = 0; i < gwlist_len(l); i++) {
        if (i > 0)
            octstr_append_char(out, ' ');
        dump_arg(out, gwlist_get(l, i));
    }
}

static void dump_resp(Octstr *out, const ImapResponse *r)
{
    if (octstr_len(out) > 0)
        octstr_append_char(out, '|');
    if (r->kind == IMAP_RESP_CONTINUATION)
        octstr_append_cstr(out, "+");
    else if (r->kind == IMAP_RESP_UNTAGGED)
        octstr_append_cstr(out, "*");
    else
        octstr_append(out, r->tag);
    octstr_append_char(out, ' ');
    dump_list(out, r->args);
    if (r->code != NULL) {
        octstr_append_cstr(out, " [");
        octstr_append(out, r->code);
        if (gwlist_len(r->code_args) > 0)
            octstr_append_char(out, ' ');
        dump_list(out, r->code_args);
        octstr_append_char(out, ']');
    }
    if (imap_response_status(r) != IMAP_STATUS_NONE ||
        r->kind == IMAP_RESP_CONTINUATION) {
        octstr_append_cstr(out, " text=");
        octstr_append(out, r->text);
    }
}

/* Feed `in' in chunks of `step' bytes (0 = whole); return the dump of all
 * responses, or "ERROR: msg", or "INCOMPLETE" plus the dump. */
static Octstr *run(ImapParser *p, const char *in, size_t len, size_t step)
{
    Octstr *out = octstr_create("");
    size_t pos = 0, chunk, used, off;
    ImapResponse *r;
    int ret = IMAP_PARSE_NEED_MORE;

    imap_parser_reset(p);
    while (pos < len) {
        chunk = (step == 0 || len - pos < step) ? len - pos : step;
        off = 0;
        while (off < chunk) {
            ret = imap_parser_feed(p, in + pos + off, chunk - off, &used, &r);
            off += used;
            if (ret == IMAP_PARSE_ERROR) {
                octstr_destroy(out);
                return octstr_format("ERROR: %s", imap_parser_error(p));
            }
            if (ret == IMAP_PARSE_DONE) {
                dump_resp(out, r);
                imap_response_destroy(r);
            }
        }
        pos += chunk;
    }
    if (ret != IMAP_PARSE_DONE)
        octstr_insert_data(out, 0, "INCOMPLETE:", 11);
    return out;
}

struct pcase {
    const char *name;
    const char *in;
    size_t len;         /* 0 = strlen(in) */
    const char *want;
};

#define BIG_DIGITS "99999999999999999999999999"

static const struct pcase cases[] = {
    { "tagged OK", "A1 OK LOGIN completed\r\n", 0,
      "A1 OK text=LOGIN completed" },
    { "tagged NO with code", "A2 NO [AUTHENTICATIONFAILED] Auth failed\r\n",
      0, "A2 NO [AUTHENTICATIONFAILED] text=Auth failed" },
    { "tagged BAD", "a3 bad Error in IMAP command\r\n", 0,
      "a3 bad text=Error in IMAP command" },
    { "status without text", "A4 OK\r\n", 0, "A4 OK text=" },
    { "greeting with capability code",
      "* OK [CAPABILITY IMAP4rev1 SASL-IR IDLE LITERAL+ AUTH=PLAIN] "
      "Dovecot ready.\r\n", 0,
      "* OK [CAPABILITY IMAP4rev1 SASL-IR IDLE LITERAL+ AUTH=PLAIN] "
      "text=Dovecot ready." },
    { "uidvalidity", "* OK [UIDVALIDITY 3857529045] UIDs valid\r\n", 0,
      "* OK [UIDVALIDITY 3857529045] text=UIDs valid" },
    { "permanentflags",
      "* OK [PERMANENTFLAGS (\\Deleted \\Seen \\*)] Limited\r\n", 0,
      "* OK [PERMANENTFLAGS (\\Deleted \\Seen \\*)] text=Limited" },
    { "code only", "A5 OK [READ-ONLY]\r\n", 0, "A5 OK [READ-ONLY] text=" },
    { "text with odd chars", "* OK he said \"(hi [x\r\n", 0,
      "* OK text=he said \"(hi [x" },
    { "exists expunge", "* 23 EXISTS\r\n* 3 EXPUNGE\r\n* 1 RECENT\r\n", 0,
      "* 23 EXISTS|* 3 EXPUNGE|* 1 RECENT" },
    { "flags", "* FLAGS (\\Answered \\Flagged $Forwarded)\r\n", 0,
      "* FLAGS (\\Answered \\Flagged $Forwarded)" },
    { "capability", "* CAPABILITY IMAP4rev1 IDLE\r\n", 0,
      "* CAPABILITY IMAP4rev1 IDLE" },
    { "fetch flags", "* 12 FETCH (FLAGS (\\Seen) UID 4827313)\r\n", 0,
      "* 12 FETCH (FLAGS (\\Seen) UID 4827313)" },
    { "fetch header literal",
      "* 2 FETCH (UID 7 RFC822.SIZE 512 "
      "BODY[HEADER.FIELDS (FROM SUBJECT DATE)] {26}\r\n"
      "From: a@b\r\nSubject: hi\r\n\r\n)\r\n", 0,
      "* 2 FETCH (UID 7 RFC822.SIZE 512 "
      "BODY[HEADER.FIELDS (FROM SUBJECT DATE)] {26}\"From: a@b\\x0d\\x0a"
      "Subject: hi\\x0d\\x0a\\x0d\\x0a\")" },
    { "literal with NUL", "* 1 FETCH (BODY[] {5}\r\na\0b\r\n)\r\n", 31,
      "* 1 FETCH (BODY[] {5}\"a\\x00b\\x0d\\x0a\")" },
    { "literal plus", "* 1 FETCH (BODY[]<0> {3+}\r\nabc)\r\n", 0,
      "* 1 FETCH (BODY[]<0> {3}\"abc\")" },
    { "empty literal", "* 1 FETCH (BODY[] {0}\r\n)\r\n", 0,
      "* 1 FETCH (BODY[] {0}\"\")" },
    { "envelope nested", "* 1 FETCH (ENVELOPE (\"Mon, 1 Jan 2024\" "
      "\"a \\\"q\\\" \\\\ b\" ((\"Ann\" NIL \"ann\" \"x.org\")) NIL))\r\n",
      0, "* 1 FETCH (ENVELOPE (\"Mon, 1 Jan 2024\" \"a \"q\" \\x5c b\" "
      "((\"Ann\" NIL \"ann\" \"x.org\")) NIL))" },
    { "status response", "* STATUS \"INBOX\" (UIDNEXT 44 UIDVALIDITY 1)\r\n",
      0, "* STATUS \"INBOX\" (UIDNEXT 44 UIDVALIDITY 1)" },
    { "list", "* LIST (\\HasNoChildren) \".\" {5}\r\nIN BX\r\n", 0,
      "* LIST (\\HasNoChildren) \".\" {5}\"IN BX\"" },
    { "continuation", "+ idling\r\n", 0, "+  text=idling" },
    { "bare continuation", "+\r\n", 0, "+  text=" },
    { "sasl continuation", "+ \r\n", 0, "+  text=" },
    { "bye", "* BYE Server shutting down\r\n", 0,
      "* BYE text=Server shutting down" },
    { "bare LF", "* 4 EXISTS\n", 0, "* 4 EXISTS" },
    { "search", "* SEARCH 2 84 882\r\n", 0, "* SEARCH 2 84 882" },
    { "ok still here", "* OK Still here\r\n", 0, "* OK text=Still here" },
    { "untagged without data", "* \r\n", 0, "* " },
    { "unknown untagged kept", "* XSTATE 1 [a b] \"x\"\r\n", 0,
      "* XSTATE 1 [a b] \"x\"" },
    { "preauth", "* PREAUTH [CAPABILITY IMAP4rev1] hi\r\n", 0,
      "* PREAUTH [CAPABILITY IMAP4rev1] text=hi" },
    { "code with quoted string", "A9 NO [BADCHARSET (\"UTF-8\")] no\r\n",
      0, "A9 NO [BADCHARSET (\"UTF-8\")] text=no" },
    { "several responses", "* 1 EXISTS\r\n+ go\r\nA1 OK done\r\n", 0,
      "* 1 EXISTS|+  text=go|A1 OK text=done" },
    { "incomplete", "* 1 FETCH (UID 3", 0, "INCOMPLETE:" },
    { "incomplete literal", "* 1 FETCH (BODY[] {10}\r\nabc", 0,
      "INCOMPLETE:" },
    /* hostile */
    { "CR without LF", "* 1 EXISTS\rX\n", 0, "ERROR: CR without LF" },
    { "huge literal", "* 1 FETCH (BODY[] {" BIG_DIGITS "}\r\n", 0,
      "ERROR: literal too large" },
    { "literal over cap", "* 1 FETCH (BODY[] {4097}\r\n", 0,
      "ERROR: literal too large" },
    { "deep nesting", "* X ((((((((((x))))))))))\r\n", 0,
      "ERROR: lists nested too deeply" },
    { "unbalanced open", "* X (a (b)\r\n", 0,
      "ERROR: unbalanced '(' in response" },
    { "unbalanced close", "* X a)\r\n", 0,
      "ERROR: unexpected ')' in response" },
    { "NUL in atom", "* X a\0b\r\n", 9, "ERROR: invalid character in atom" },
    { "NUL in text", "* OK a\0b\r\n", 10, "ERROR: NUL in response text" },
    { "empty line", "\r\n", 0, "ERROR: empty line" },
    { "no data", "A1\r\n", 0, "ERROR: response without data" },
    { "leading space", " OK\r\n", 0, "ERROR: response without tag" },
    { "unterminated quote", "* X \"abc\r\n", 0,
      "ERROR: unterminated quoted string" },
    { "bad literal", "* X {12a}\r\n", 0, "ERROR: invalid literal size" },
    { "empty literal size", "* X {}\r\n", 0, "ERROR: invalid literal size" },
    { "literal junk after", "* X {3} \r\nabc\r\n", 0,
      "ERROR: literal size not followed by end of line" },
    { "unterminated code", "* OK [ALERT\r\n", 0,
      "ERROR: unterminated response code" },
    { "garbage binary", "\x01\x02\x03\r\n", 0,
      "ERROR: invalid character in tag" },
    { "unterminated bracket", "* 1 FETCH (BODY[HEADER\r\n", 0,
      "ERROR: unterminated '[' in atom" },
};

static void test_cases(void)
{
    ImapParserLimits lim = { 200, 4096, 8, 100, 16384 };
    ImapParser *p = imap_parser_create(&lim);
    size_t i, len;
    Octstr *whole, *bytewise, *chunk7;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        test_begin(cases[i].name);
        len = cases[i].len ? cases[i].len : strlen(cases[i].in);
        whole = run(p, cases[i].in, len, 0);
        bytewise = run(p, cases[i].in, len, 1);
        chunk7 = run(p, cases[i].in, len, 7);
        if (strncmp(cases[i].want, "INCOMPLETE:", 11) == 0)
            test_assert(octstr_str_ncompare(whole, "INCOMPLETE:", 11) == 0);
        else
            test_assert_str(octstr_get_cstr(whole), cases[i].want);
        test_assert_str(octstr_get_cstr(bytewise), octstr_get_cstr(whole));
        test_assert_str(octstr_get_cstr(chunk7), octstr_get_cstr(whole));
        octstr_destroy(whole);
        octstr_destroy(bytewise);
        octstr_destroy(chunk7);
        test_end();
    }
    imap_parser_destroy(p);
}

static void test_limits(void)
{
    ImapParserLimits lim = { 64, 100, 4, 10, 300 };
    ImapParser *p = imap_parser_create(&lim);
    Octstr *in, *out;
    long i;

    test_begin("over-long line");
    in = octstr_create("* OK ");
    for (i = 0; i < 100; i++)
        octstr_append_char(in, 'x');
    octstr_append_cstr(in, "\r\n");
    out = run(p, octstr_get_cstr(in), octstr_len(in), 1);
    test_assert_str(octstr_get_cstr(out), "ERROR: response line too long");
    octstr_destroy(out);
    octstr_destroy(in);
    test_end();

    test_begin("line exactly at limit");
    in = octstr_create("* OK ");
    while (octstr_len(in) < 62)
        octstr_append_char(in, 'x');
    octstr_append_cstr(in, "\r\n");
    out = run(p, octstr_get_cstr(in), octstr_len(in), 0);
    test_assert(octstr_str_ncompare(out, "* OK text=xx", 12) == 0);
    octstr_destroy(out);
    octstr_destroy(in);
    test_end();

    test_begin("literals reset the line length");
    in = octstr_create("* 1 FETCH (A {50}\r\n");
    for (i = 0; i < 50; i++)
        octstr_append_char(in, 'y');
    octstr_append_cstr(in, " B {50}\r\n");
    for (i = 0; i < 50; i++)
        octstr_append_char(in, 'z');
    octstr_append_cstr(in, ")\r\n");
    out = run(p, octstr_get_cstr(in), octstr_len(in), 3);
    test_assert(octstr_str_ncompare(out, "* 1 FETCH (A {50}", 17) == 0);
    octstr_destroy(out);
    octstr_destroy(in);
    test_end();

    test_begin("total response cap");
    in = octstr_create("");
    octstr_append_cstr(in, "* 1 FETCH (A {100}\r\n");
    for (i = 0; i < 100; i++)
        octstr_append_char(in, 'y');
    for (i = 0; i < 3; i++) {
        long j;
        octstr_append_cstr(in, " B {100}\r\n");
        for (j = 0; j < 100; j++)
            octstr_append_char(in, 'z');
    }
    octstr_append_cstr(in, ")\r\n");
    out = run(p, octstr_get_cstr(in), octstr_len(in), 0);
    test_assert_str(octstr_get_cstr(out), "ERROR: response too large");
    octstr_destroy(out);
    octstr_destroy(in);
    test_end();

    test_begin("too many arguments");
    out = run(p, "* X a b c d e f g h i j k l\r\n", 29, 1);
    test_assert_str(octstr_get_cstr(out),
                    "ERROR: too many arguments in response");
    octstr_destroy(out);
    test_end();

    test_begin("error is sticky until reset");
    {
        size_t used;
        ImapResponse *r;
        test_assert(imap_parser_feed(p, "\r\n", 2, &used, &r) ==
                    IMAP_PARSE_ERROR);
        test_assert(imap_parser_feed(p, "* OK\r\n", 6, &used, &r) ==
                    IMAP_PARSE_ERROR);
        test_assert(used == 0 && r == NULL);
        imap_parser_reset(p);
        test_assert(imap_parser_feed(p, "* OK\r\n", 6, &used, &r) ==
                    IMAP_PARSE_DONE);
        test_assert(used == 6 && r != NULL);
        imap_response_destroy(r);
    }
    test_end();
    imap_parser_destroy(p);
}

static void test_helpers(void)
{
    ImapParserLimits lim = { 1000, 1000, 8, 100, 10000 };
    ImapParser *p = imap_parser_create(&lim);
    const char *in = "* 3 FETCH (UID 9 RFC822.SIZE 77 "
                     "BODY[HEADER.FIELDS (FROM)] {4}\r\nabcd)\r\n";
    size_t used;
    ImapResponse *r;
    ImapArg *a;
    Octstr *q;

    test_begin("helpers");
    test_assert(imap_parser_feed(p, in, strlen(in), &used, &r) ==
                IMAP_PARSE_DONE);
    test_assert(used == strlen(in));
    test_assert(imap_response_status(r) == IMAP_STATUS_NONE);
    test_assert(imap_arg_number(imap_arg_nth(r->args, 0)) == 3);
    test_assert(imap_arg_atom_is(imap_arg_nth(r->args, 1), "fetch"));
    a = imap_arg_nth(r->args, 2);
    test_assert(a != NULL && a->type == IMAP_ARG_LIST);
    test_assert(imap_arg_number(imap_arg_find_value(a->list, "UID")) == 9);
    test_assert(imap_arg_number(imap_arg_find_value(a->list,
                                "RFC822.SIZE")) == 77);
    test_assert_str(octstr_get_cstr(imap_arg_string(
        imap_arg_find_value(a->list, "BODY["))), "abcd");
    test_assert(imap_arg_find_value(a->list, "FLAGS") == NULL);
    test_assert(imap_arg_nth(r->args, 5) == NULL);
    imap_response_destroy(r);

    q = octstr_create("");
    imap_append_quoted(q, octstr_imm("a\"b\\c"));
    test_assert_str(octstr_get_cstr(q), "\"a\\\"b\\\\c\"");
    octstr_destroy(q);
    test_assert(imap_quotable(octstr_imm("p@ss w\"rd")));
    test_assert(!imap_quotable(octstr_imm("line\r\nbreak")));
    test_assert(!imap_quotable(octstr_imm("caf\xc3\xa9")));
    test_end();
    imap_parser_destroy(p);
}

/* imap_parser_busy(): only between two responses may a caller drop the
 * parser and go on with a new one. */
static void test_busy(void)
{
    ImapParserLimits lim = { 1000, 1000, 8, 100, 10000 };
    ImapParser *p = imap_parser_create(&lim);
    const char *in = "* OK Still here\r\n* 4 EXISTS\r\n";
    size_t used;
    ImapResponse *r;

    test_begin("busy only inside a response");
    test_assert(!imap_parser_busy(p));
    test_assert(imap_parser_feed(p, in, 5, &used, &r) ==
                IMAP_PARSE_NEED_MORE);
    test_assert(imap_parser_busy(p));
    test_assert(imap_parser_feed(p, in + 5, strlen(in) - 5, &used, &r) ==
                IMAP_PARSE_DONE);
    imap_response_destroy(r);
    /* the next response is not started until its bytes are fed */
    test_assert(!imap_parser_busy(p));
    imap_parser_destroy(p);
    p = imap_parser_create(&lim);
    test_assert(imap_parser_feed(p, in + 17, strlen(in) - 17, &used, &r) ==
                IMAP_PARSE_DONE);
    test_assert(imap_arg_number(imap_arg_nth(r->args, 0)) == 4);
    imap_response_destroy(r);
    test_assert(!imap_parser_busy(p));
    test_assert(imap_parser_feed(p, "\r\n", 2, &used, &r) ==
                IMAP_PARSE_ERROR);
    test_assert(imap_parser_busy(p));
    test_end();
    imap_parser_destroy(p);
}

int main(void)
{
    int ret;

    gwlib_init();
    log_set_output_level(GW_WARNING);
    test_cases();
    test_limits();
    test_helpers();
    test_busy();
    ret = test_exit();
    gwlib_shutdown();
    return ret;
}
