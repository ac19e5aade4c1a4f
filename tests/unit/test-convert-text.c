/*
 * test-convert-text.c - unit tests for convert-text and convert-html:
 * each mail in tests/data/mail gives the expected fields and body,
 * malformed MIME gives a clean result or an error, a 5 MB mail parses,
 * mutated mails never crash (run under valgrind).
 *
 * The mail folder is $srcdir/tests/data/mail (automake exports srcdir)
 * or found next to this source file.
 */
#include <stdlib.h>
#include <unistd.h>

#include "gwlib/gwlib.h"
#include "convert-text.h"
#include "sms-text.h"
#include "test-common.h"

static Octstr *mail_dir;

static void find_mail_dir(void)
{
    const char *sd = getenv("srcdir");
    Octstr *f;
    long p;

    if (sd != NULL) {
        mail_dir = octstr_format("%s/tests/data/mail", sd);
        f = octstr_format("%S/alternative.eml", mail_dir);
        if (access(octstr_get_cstr(f), R_OK) == 0) {
            octstr_destroy(f);
            return;
        }
        octstr_destroy(f);
        octstr_destroy(mail_dir);
    }
    /* __FILE__ is ".../tests/unit/test-convert-text.c" */
    mail_dir = octstr_create(__FILE__);
    p = octstr_search(mail_dir, octstr_imm("unit/test-convert-text.c"), 0);
    if (p >= 0)
        octstr_truncate(mail_dir, p);
    else
        octstr_truncate(mail_dir, 0);
    octstr_append_cstr(mail_dir, "data/mail");
}

static Octstr *read_mail(const char *name)
{
    Octstr *path = octstr_format("%S/%s", mail_dir, name);
    Octstr *raw = octstr_read_file(octstr_get_cstr(path));

    if (raw == NULL)
        fprintf(stderr, "cannot read %s\n", octstr_get_cstr(path));
    octstr_destroy(path);
    return raw;
}

static int is_utf8(const Octstr *os)
{
    Octstr *c;
    int r;

    if (os == NULL)
        return 1;
    c = sms_text_sanitize(os);
    r = octstr_compare(c, os) == 0;
    octstr_destroy(c);
    return r;
}

static int all_utf8(const ConvertMail *m)
{
    long i;

    if (!is_utf8(m->from) || !is_utf8(m->from_addr) || !is_utf8(m->to)
        || !is_utf8(m->reply_to) || !is_utf8(m->subject)
        || !is_utf8(m->date) || !is_utf8(m->message_id)
        || !is_utf8(m->references) || !is_utf8(m->body))
        return 0;
    for (i = 0; i < gwlist_len(m->attachments); i++)
        if (!is_utf8(gwlist_get(m->attachments, i)))
            return 0;
    return m->from != NULL && m->subject != NULL && m->body != NULL
           && m->attachments != NULL;
}

static int has(const Octstr *os, const char *s)
{
    return os != NULL && octstr_search(os, octstr_imm(s), 0) >= 0;
}

static const char *str(const Octstr *os)
{
    return os ? octstr_get_cstr(os) : NULL;
}

static ConvertMail *parse_file(const char *name, int trim)
{
    Octstr *raw = read_mail(name), *err = NULL;
    ConvertMail *m;

    if (raw == NULL)
        return NULL;
    m = convert_mail_parse(raw, trim, &err);
    if (m == NULL)
        fprintf(stderr, "%s: %s\n", name, err ? str(err) : "?");
    octstr_destroy(err);
    octstr_destroy(raw);
    return m;
}

static void test_alternative(void)
{
    ConvertMail *m;

    test_begin("multipart/alternative, QP, Q subject");
    m = parse_file("alternative.eml", 0);
    test_assert(m != NULL);
    if (m != NULL) {
        test_assert(all_utf8(m));
        test_assert_str(str(m->from), "Ann L\xc3\xa9" "e");
        test_assert_str(str(m->from_addr), "ann@x.org");
        test_assert_str(str(m->reply_to), "ann.private@x.org");
        test_assert(has(m->to, "bob@y.org") && has(m->to, "carol@z.org"));
        test_assert_str(str(m->subject), "Lunch tomorrow? \xe2\x98\x95");
        test_assert_str(str(m->date), "27 Nov 14:02");
        test_assert(m->date_t == 1701090153L);
        test_assert_str(str(m->message_id), "lunch.1234@x.org");
        test_assert(has(m->references, "<a1@x.org>")
                    && has(m->references, "<a2@x.org>"));
        test_assert(has(m->body, "Lunch tomorrow at 12? The caf\xc3\xa9"));
        test_assert(has(m->body, "\xe2\x80\x93 my treat."));
        test_assert(!has(m->body, "HTML VERSION"));
        test_assert(gwlist_len(m->attachments) == 0);
    }
    convert_mail_destroy(m);
    test_end();
}

static void test_html_only(void)
{
    ConvertMail *m;

    test_begin("HTML only, ISO-8859-1, base64");
    m = parse_file("html-only.eml", 0);
    test_assert(m != NULL);
    if (m != NULL) {
        test_assert(all_utf8(m));
        test_assert_str(str(m->from), "Shop News");
        test_assert_str(str(m->subject), "Angebote f\xc3\xbcr Sie");
        test_assert(has(m->body, "Newsletter f\xc3\xbcr Sie\n\n"));
        test_assert(has(m->body,
                        "Caf\xc3\xa9 & cr\xc3\xa8me \xe2\x82\xac" "5 <b> "
                        "\xc3\xa9t\xc3\xa9"));
        test_assert(has(m->body, "- First item\n- Second bold item"));
        test_assert(has(m->body, "our shop (https://example.com/shop)"));
        test_assert(!has(m->body, "https://example.com/ ("));
        test_assert(!has(m->body, "(mailto:"));
        test_assert(has(m->body, "Line two\nLine three"));
        test_assert(has(m->body, "Cell A Cell B"));
        test_assert(has(m->body, "> Quoted para"));
        test_assert(has(m->body, "[Logo]"));
        test_assert(!has(m->body, "PREHEADER"));
        test_assert(!has(m->body, "alert"));
        test_assert(!has(m->body, "color"));
    }
    convert_mail_destroy(m);
    test_end();
}

static void test_charsets(void)
{
    ConvertMail *m;

    test_begin("ISO-8859-1 8bit body, raw 8-bit subject");
    m = parse_file("latin1.eml", 0);
    test_assert(m != NULL);
    if (m != NULL) {
        test_assert(all_utf8(m));
        test_assert_str(str(m->from), "J\xc3\xbcrgen M\xc3\xbcller");
        test_assert_str(str(m->subject), "Gr\xc3\xbc\xc3\x9f" "e");
        test_assert_str(str(m->body), "Gr\xc3\xbc\xc3\x9f" "e aus "
                        "K\xc3\xb6ln!\nDas Wetter ist sch\xc3\xb6n.");
    }
    convert_mail_destroy(m);
    test_end();

    test_begin("KOI8-R");
    m = parse_file("koi8r.eml", 0);
    test_assert(m != NULL);
    if (m != NULL) {
        test_assert(all_utf8(m));
        test_assert_str(str(m->from), "\xd0\x98\xd0\xb2\xd0\xb0\xd0\xbd");
        test_assert_str(str(m->subject), "\xd0\x92\xd1\x81\xd1\x82\xd1\x80"
                        "\xd0\xb5\xd1\x87\xd0\xb0");
        test_assert(has(m->body, "\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5"
                        "\xd1\x82, \xd0\xbc\xd0\xb8\xd1\x80!"));
    }
    convert_mail_destroy(m);
    test_end();

    test_begin("Shift_JIS body, ISO-2022-JP headers");
    m = parse_file("sjis.eml", 0);
    test_assert(m != NULL);
    if (m != NULL) {
        test_assert(all_utf8(m));
        test_assert_str(str(m->from), "\xe7\x94\xb0\xe4\xb8\xad");
        test_assert_str(str(m->subject), "\xe4\xbc\x9a\xe8\xad\xb0\xe3\x81"
                        "\xae\xe4\xbb\xb6");
        test_assert(has(m->body, "\xe3\x81\x93\xe3\x82\x93\xe3\x81\xab\xe3"
                        "\x81\xa1\xe3\x81\xaf"));
        test_assert(has(m->body, "\n\xe4\xbc\x9a\xe8\xad\xb0"));
    }
    convert_mail_destroy(m);
    test_end();

    test_begin("split encoded-words, folded subject");
    m = parse_file("split-words.eml", 0);
    test_assert(m != NULL);
    if (m != NULL) {
        test_assert(all_utf8(m));
        test_assert_str(str(m->from), "Zo\xc3\xab Smith");
        test_assert_str(str(m->subject), "Caf\xc3\xa9 \xc3\xbc" "ber "
                        "\xe2\x82\xac" "100 and more text \xc3\xa9t\xc3\xa9");
        test_assert(m->message_id == NULL);    /* spaces: refused */
        test_assert_str(str(m->body), "Body.");
    }
    convert_mail_destroy(m);
    test_end();
}

static void test_attachments(void)
{
    ConvertMail *m;

    test_begin("attachments");
    m = parse_file("attachments.eml", 0);
    test_assert(m != NULL);
    if (m != NULL) {
        test_assert(all_utf8(m));
        test_assert_str(str(m->body), "See the files.");
        test_assert(gwlist_len(m->attachments) == 5);
        if (gwlist_len(m->attachments) == 5) {
            test_assert_str(str(gwlist_get(m->attachments, 0)),
                            "report.pdf (application/pdf, 12 KB)");
            test_assert_str(str(gwlist_get(m->attachments, 1)),
                            "Gr\xc3\xbc\xc3\x9f" "e.jpg (image/jpeg, "
                            "512 bytes)");
            test_assert(has(gwlist_get(m->attachments, 2),
                            "notes.txt (text/plain,"));
            test_assert(has(gwlist_get(m->attachments, 3),
                            "Forwarded thing (message/rfc822,"));
            test_assert(has(gwlist_get(m->attachments, 4),
                            "unnamed (application/octet-stream, "));
        }
        test_assert(!has(m->body, "NOT IN BODY"));
    }
    convert_mail_destroy(m);

    m = parse_file("sample-mixed.eml", 0);
    test_assert(m != NULL);
    if (m != NULL) {
        test_assert_str(str(m->subject), "Q2 figures \xe2\x80\x93 Gr\xc3\xbc"
                        "\xc3\x9f" "e");
        test_assert(has(m->body, "the Q2 numbers look good"));
        test_assert(gwlist_len(m->attachments) == 2);
        test_assert(has(gwlist_get(m->attachments, 1),
                        "q2.pdf (application/pdf,"));
    }
    convert_mail_destroy(m);
    test_end();
}

static void test_trim(void)
{
    ConvertMail *m;

    test_begin("quotes and signature: kept without trim");
    m = parse_file("crlf-quoted.eml", 0);
    test_assert(m != NULL);
    if (m != NULL) {
        test_assert(has(m->body, "> Hi Bob"));
        test_assert(has(m->body, "Bob Builder"));
        test_assert(!has(m->body, "\r"));
        test_assert_str(str(m->references), "<lunch.1234@x.org>");
    }
    convert_mail_destroy(m);
    test_end();

    test_begin("quotes and signature: trimmed");
    m = parse_file("crlf-quoted.eml", 1);
    test_assert(m != NULL);
    if (m != NULL)
        test_assert_str(str(m->body),
                        "Sure, see you at noon.\n\nAlso bring the book.");
    convert_mail_destroy(m);
    test_end();

    test_begin("format=flowed");
    m = parse_file("flowed.eml", 0);
    test_assert(m != NULL);
    if (m != NULL)
        test_assert_str(str(m->body), "This is a long line that was soft "
                        "broken by the mailer and should be joined.\n"
                        "From the stuffed line.\nHard break above.");
    convert_mail_destroy(m);
    test_end();
}

static void test_malformed(void)
{
    ConvertMail *m;
    Octstr *raw, *err;
    long i;

    test_begin("malformed MIME");
    m = parse_file("malformed-mime.eml", 0);
    test_assert(m != NULL);
    if (m != NULL) {
        test_assert(all_utf8(m));
        test_assert_str(str(m->from), "unknown");
        test_assert(m->from_addr == NULL);
        test_assert(m->message_id == NULL);
        test_assert(m->date == NULL && m->date_t == 0);
        test_assert(has(m->body, "Invalid utf8 \xef\xbf\xbd"));
        test_assert(has(m->body, "unclosed tags"));
    }
    convert_mail_destroy(m);
    m = parse_file("no-boundary.eml", 0);
    test_assert(m != NULL);
    if (m != NULL)
        test_assert(has(m->body, "text in a multipart without boundary"));
    convert_mail_destroy(m);
    test_end();

    test_begin("errors");
    err = NULL;
    test_assert(convert_mail_parse(NULL, 0, &err) == NULL);
    test_assert(err != NULL && octstr_len(err) > 0);
    octstr_destroy(err);
    err = NULL;
    raw = octstr_create("");
    test_assert(convert_mail_parse(raw, 0, &err) == NULL);
    test_assert(err != NULL);
    octstr_destroy(err);
    octstr_destroy(raw);
    test_assert(convert_mail_parse(NULL, 0, NULL) == NULL);
    test_end();

    test_begin("junk input never crashes");
    for (i = 0; i < 6; i++) {
        static const char *junk[] = {
            "hello world", "\n\n\n", "Subject: only\n",
            ":\n:\n\n", "From: \xff\xfe\n\n\x00\x01",
            "Content-Type: multipart/mixed; boundary=\"\"\n\n--\n--\n"
        };
        err = NULL;
        raw = octstr_create(junk[i]);
        m = convert_mail_parse(raw, i % 2, &err);
        test_assert((m == NULL) == (err != NULL));
        if (m != NULL)
            test_assert(all_utf8(m));
        convert_mail_destroy(m);
        octstr_destroy(err);
        octstr_destroy(raw);
    }
    test_end();
}

/* Nest `depth` multiparts around a text part. */
static Octstr *nested_mail(long depth)
{
    Octstr *raw = octstr_create("From: a@b.c\nSubject: deep\n");
    long i;

    for (i = 0; i < depth; i++)
        octstr_format_append(raw, "Content-Type: multipart/mixed; "
                             "boundary=\"b%ld\"\n\n--b%ld\n", i, i);
    octstr_append_cstr(raw, "Content-Type: text/plain\n\ndeep text\n");
    for (i = depth - 1; i >= 0; i--)
        octstr_format_append(raw, "--b%ld--\n", i);
    return raw;
}

static void test_limits(void)
{
    ConvertMail *m;
    Octstr *raw, *err = NULL;
    long i;

    test_begin("MIME depth");
    raw = nested_mail(10);
    m = convert_mail_parse(raw, 0, &err);
    test_assert(m != NULL && has(m->body, "deep text"));
    convert_mail_destroy(m);
    octstr_destroy(raw);
    raw = nested_mail(CONVERT_MAX_DEPTH + 5);
    m = convert_mail_parse(raw, 0, &err);
    test_assert(m != NULL && !has(m->body, "deep text"));
    convert_mail_destroy(m);
    octstr_destroy(raw);
    raw = nested_mail(5000);
    m = convert_mail_parse(raw, 0, &err);
    test_assert(m == NULL && err != NULL);
    octstr_destroy(err);
    octstr_destroy(raw);
    test_end();

    test_begin("many parts");
    raw = octstr_create("From: a@b.c\nContent-Type: multipart/mixed; "
                        "boundary=\"P\"\n\n");
    for (i = 0; i < 2000; i++)
        octstr_format_append(raw, "--P\nContent-Type: image/png; "
                             "name=\"%ld.png\"\n\nx\n", i);
    octstr_append_cstr(raw, "--P--\n");
    err = NULL;
    m = convert_mail_parse(raw, 0, &err);
    test_assert(m != NULL);
    if (m != NULL) {
        test_assert(gwlist_len(m->attachments) == CONVERT_MAX_ATTACH + 1);
        test_assert(has(gwlist_get(m->attachments, CONVERT_MAX_ATTACH),
                        "more"));
    }
    convert_mail_destroy(m);
    octstr_destroy(err);
    octstr_destroy(raw);
    test_end();

    test_begin("5 MB mail");
    raw = octstr_create("From: Big <big@x.org>\nSubject: big\n"
                        "Content-Type: multipart/mixed; boundary=\"B\"\n\n"
                        "--B\nContent-Type: text/plain; charset=utf-8\n"
                        "Content-Transfer-Encoding: quoted-printable\n\n");
    while (octstr_len(raw) < 3L * 1024 * 1024)
        octstr_append_cstr(raw, "Gr=C3=BC=C3=9Fe, this is a long line of "
                           "text in a very big mail body.\n");
    octstr_append_cstr(raw, "--B\nContent-Type: application/zip; "
                       "name=\"big.zip\"\n"
                       "Content-Transfer-Encoding: base64\n\n");
    while (octstr_len(raw) < 5L * 1024 * 1024)
        octstr_append_cstr(raw, "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNk"
                           "ZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAxMjM0NTY3\n");
    octstr_append_cstr(raw, "--B--\n");
    err = NULL;
    m = convert_mail_parse(raw, 1, &err);
    test_assert(m != NULL);
    if (m != NULL) {
        test_assert(all_utf8(m));
        test_assert(octstr_len(m->body) <= CONVERT_MAX_BODY + 20);
        test_assert(has(m->body, "[truncated]"));
        test_assert(gwlist_len(m->attachments) == 1);
        test_assert(has(gwlist_get(m->attachments, 0),
                        "big.zip (application/zip, 1."));
    }
    convert_mail_destroy(m);
    octstr_destroy(err);
    octstr_destroy(raw);
    test_end();
}

static void test_mutations(void)
{
    static const char *files[] = {
        "alternative.eml", "html-only.eml", "attachments.eml",
        "sjis.eml", "malformed-mime.eml", "split-words.eml"
    };
    Octstr *raw, *mut, *err;
    ConvertMail *m;
    size_t f;
    long i, k;

    test_begin("mutated mails");
    for (f = 0; f < sizeof(files) / sizeof(files[0]); f++) {
        raw = read_mail(files[f]);
        test_assert(raw != NULL);
        for (i = 0; raw != NULL && i < 40; i++) {
            mut = octstr_duplicate(raw);
            for (k = 0; k < 1 + i % 8; k++) {
                long pos = gw_rand() % octstr_len(mut);
                if (k % 3 == 2)
                    octstr_delete(mut, pos, gw_rand() % 40);
                else
                    octstr_set_char(mut, pos, gw_rand() & 0xFF);
                if (octstr_len(mut) == 0)
                    break;
            }
            err = NULL;
            m = convert_mail_parse(mut, i % 2, &err);
            test_assert((m == NULL) == (err != NULL));
            if (m != NULL)
                test_assert(all_utf8(m));
            convert_mail_destroy(m);
            octstr_destroy(err);
            octstr_destroy(mut);
        }
        octstr_destroy(raw);
    }
    test_end();
}

static void test_helpers(void)
{
    Octstr *in, *out;
    static const struct {
        const char *in, *want;
    } hdr[] = {
        { "=?UTF-8?B?SGVsbG8gV29ybGQ=?=", "Hello World" },
        { "=?utf-8?q?a_b?= =?utf-8?q?c?=", "a bc" },
        { "plain  text\r\n\tfolded", "plain text folded" },
        { "=?iso-8859-1?q?caf=E9?= ok", "caf\xc3\xa9 ok" },
        { "ctrl\x01\x7f" "chars", "ctrl chars" },
        { "raw \xe9t\xe9", "raw \xc3\xa9t\xc3\xa9" },
        { "=?UTF-8?B?4oI=?=", "\xef\xbf\xbd\xef\xbf\xbd" },
        { "=?bogus?Q?x?=", "x" },
        { "", "" },
    };
    static const struct {
        const char *in, *want;
    } snd[] = {
        { "\"Ann Lee\" <ann@x.org>", "Ann Lee" },
        { "ann@x.org", "ann@x.org" },
        { "<ann@x.org>", "ann@x.org" },
        { "=?UTF-8?Q?Zo=C3=AB?= <z@x.org>", "Zo\xc3\xab" },
        { "'Bob' <b@x.org>", "Bob" },
        { "Team: a@x.org, b@x.org;", "a@x.org" },
        { "", "unknown" },
        { "<>", "unknown" },
    };
    static const struct {
        const char *in, *want;
    } html[] = {
        { "<p>a</p><p>b</p>", "a\n\nb" },
        { "x<br>y<br><br>z", "x\ny\n\nz" },
        { "<ul><li>one<li>two</ul>", "- one\n- two" },
        { "<a href=\"http://a.b/c\">link</a>", "link (http://a.b/c)" },
        { "<a href=\"http://a.b/\">a.b</a>", "a.b" },
        { "<a href=\"javascript:x()\">j</a>", "j" },
        { "&lt;&amp;&gt;&nbsp;&quot;", "<&> \"" },
        { "<script>x</script><style>y</style>ok", "ok" },
        { "<pre>a\n  b</pre>", "a\nb" },
        { "<p>   lots   of\n\n space  </p>", "lots of space" },
        { "<div hidden>no</div>yes", "yes" },
        { "", "" },
    };
    size_t i;

    test_begin("convert_header_decode");
    for (i = 0; i < sizeof(hdr) / sizeof(hdr[0]); i++) {
        in = octstr_create(hdr[i].in);
        out = convert_header_decode(in);
        test_assert_str(octstr_get_cstr(out), hdr[i].want);
        octstr_destroy(out);
        octstr_destroy(in);
    }
    out = convert_header_decode(NULL);
    test_assert_str(octstr_get_cstr(out), "");
    octstr_destroy(out);
    test_end();

    test_begin("convert_sender_name");
    for (i = 0; i < sizeof(snd) / sizeof(snd[0]); i++) {
        in = octstr_create(snd[i].in);
        out = convert_sender_name(in);
        test_assert_str(octstr_get_cstr(out), snd[i].want);
        octstr_destroy(out);
        octstr_destroy(in);
    }
    out = convert_sender_name(NULL);
    test_assert_str(octstr_get_cstr(out), "unknown");
    octstr_destroy(out);
    test_end();

    test_begin("convert_html_to_text");
    for (i = 0; i < sizeof(html) / sizeof(html[0]); i++) {
        in = octstr_create(html[i].in);
        out = convert_html_to_text(in);
        test_assert_str(octstr_get_cstr(out), html[i].want);
        octstr_destroy(out);
        octstr_destroy(in);
    }
    in = octstr_create("<<<>>><</a href=\"\"></html><html>&#xffffff;");
    out = convert_html_to_text(in);
    test_assert(is_utf8(out));
    octstr_destroy(out);
    octstr_destroy(in);
    /* deep nesting: no recursion in our walk */
    in = octstr_create("");
    for (i = 0; i < 20000; i++)
        octstr_append_cstr(in, "<div><b>");
    octstr_append_cstr(in, "deep");
    out = convert_html_to_text(in);
    test_assert(is_utf8(out));
    octstr_destroy(out);
    octstr_destroy(in);
    test_end();

    test_begin("convert_text_tidy and convert_to_utf8");
    in = octstr_create("  a \t b  \r\n\r\n\r\n\r\nc\xc2\xa0" "d\xe2\x80\x8b"
                       "e\xc2\xad" "f\x01\n\n");
    out = convert_text_tidy(in);
    test_assert_str(octstr_get_cstr(out), "a b\n\nc def");
    octstr_destroy(out);
    octstr_destroy(in);
    out = convert_to_utf8("\xe9t\xe9", 3, "ISO-8859-1");
    test_assert_str(octstr_get_cstr(out), "\xc3\xa9t\xc3\xa9");
    octstr_destroy(out);
    out = convert_to_utf8("\xe9t\xe9", 3, "no-such-charset");
    test_assert_str(octstr_get_cstr(out), "\xc3\xa9t\xc3\xa9");
    octstr_destroy(out);
    out = convert_to_utf8("ok\xff", 3, "UTF-8");
    test_assert_str(octstr_get_cstr(out), "ok\xef\xbf\xbd");
    octstr_destroy(out);
    out = convert_to_utf8("\x82\xa0\xff", 3, "Shift_JIS");
    test_assert(is_utf8(out) && has(out, "\xe3\x81\x82"));
    octstr_destroy(out);
    test_end();
}

int main(void)
{
    int r;

    gwlib_init();
    log_set_output_level(GW_WARNING);
    convert_init();
    find_mail_dir();
    test_alternative();
    test_html_only();
    test_charsets();
    test_attachments();
    test_trim();
    test_malformed();
    test_limits();
    test_mutations();
    test_helpers();
    octstr_destroy(mail_dir);
    r = test_exit();
    convert_deinit();
    gwlib_shutdown();
    return r;
}
