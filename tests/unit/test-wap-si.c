/*
 * test-wap-si.c - unit tests for wap-si.c: the port UDH, the WSP push
 * header (cross-checked with Kannel's own WSP header decoder from
 * libwap), the WBXML SI (decoded by a small WBXML reader here, written
 * from WAP-192 and WAP-167 9.3), escaping, UTF-8, limits.
 */
#include <stdlib.h>

#include "gwlib/gwlib.h"
#include "wap/wsp_headers.h"
#include "wap/wsp_strings.h"
#include "wap-si.h"
#include "test-common.h"

/* What the reader found in one SI. */
typedef struct {
    Octstr *href, *si_id, *created, *text;
    int action;             /* attribute token 5..9, 0 none */
    int public_id, charset, version;
} SiSeen;

static void seen_clear(SiSeen *s)
{
    octstr_destroy(s->href);
    octstr_destroy(s->si_id);
    octstr_destroy(s->created);
    octstr_destroy(s->text);
    memset(s, 0, sizeof(*s));
}

/* mb_u_int32 at *pos; -1 on overrun. */
static long read_mb(const Octstr *w, long *pos)
{
    long v = 0;
    int c, n = 0;

    do {
        if (*pos >= octstr_len(w) || ++n > 5)
            return -1;
        c = octstr_get_char(w, (*pos)++);
        v = (v << 7) | (c & 0x7F);
    } while (c & 0x80);
    return v;
}

/* STR_I at *pos (after the token): append to out. */
static int read_stri(const Octstr *w, long *pos, Octstr *out)
{
    long end = octstr_search_char(w, 0, *pos);

    if (end < 0)
        return -1;
    octstr_append_data(out, octstr_get_cstr(w) + *pos, end - *pos);
    *pos = end + 1;
    return 0;
}

/* The SI reader: 0 ok, -1 malformed.  Tolerates nothing unknown. */
static int si_read(const Octstr *w, SiSeen *s)
{
    static const char *const url_start[] = {
        "", "http://", "http://www.", "https://", "https://www."
    };
    static const char *const url_part[] = {
        ".com/", ".edu/", ".net/", ".org/"
    };
    long pos = 0, len = octstr_len(w);
    Octstr **attr = NULL;
    int c, depth = 0, in_attrs = 0;

    memset(s, 0, sizeof(*s));
    if (len < 4)
        return -1;
    s->version = octstr_get_char(w, pos++);
    s->public_id = (int) read_mb(w, &pos);
    s->charset = (int) read_mb(w, &pos);
    if (read_mb(w, &pos) != 0)      /* no string table expected */
        return -1;
    while (pos < len) {
        c = octstr_get_char(w, pos++);
        if (in_attrs) {
            if (c == 0x01) {                    /* END of attributes */
                in_attrs = 0;
                attr = NULL;
            } else if (c == 0x03) {
                if (attr == NULL || read_stri(w, &pos, *attr) < 0)
                    return -1;
            } else if (c == 0xC3) {             /* OPAQUE (dates) */
                long n = read_mb(w, &pos), i;

                if (attr == NULL || n < 0 || pos + n > len)
                    return -1;
                for (i = 0; i < n; i++)
                    octstr_format_append(*attr, "%02x",
                                         octstr_get_char(w, pos + i));
                pos += n;
            } else if (c >= 0x85 && c <= 0x88) {
                if (attr == NULL)
                    return -1;
                octstr_append_cstr(*attr, url_part[c - 0x85]);
            } else if (c >= 0x05 && c <= 0x09) {
                s->action = c;
                attr = NULL;
            } else if (c == 0x0A) {
                s->created = octstr_create("");
                attr = &s->created;
            } else if (c >= 0x0B && c <= 0x0F) {
                s->href = octstr_create(url_start[c - 0x0B]);
                attr = &s->href;
            } else if (c == 0x11) {
                s->si_id = octstr_create("");
                attr = &s->si_id;
            } else {
                return -1;
            }
            continue;
        }
        if (c == 0x01) {
            if (--depth < 0)
                return -1;
        } else if (c == 0x03) {
            if (s->text == NULL)
                s->text = octstr_create("");
            if (read_stri(w, &pos, s->text) < 0)
                return -1;
        } else if ((c & 0x3F) == 0x05 || (c & 0x3F) == 0x06) {
            if (c & 0x40)
                depth++;
            in_attrs = (c & 0x80) != 0;
        } else {
            return -1;
        }
    }
    return depth == 0 && !in_attrs ? 0 : -1;
}

static Octstr *hex(const char *h)
{
    Octstr *o = octstr_create(h);

    octstr_hex_to_binary(o);
    return o;
}

/* The WSP part of a push body: checks and returns the data offset. */
static long check_wsp(const Octstr *body, List **headers_r)
{
    long hl;
    Octstr *h;

    if (octstr_len(body) < 4 || octstr_get_char(body, 1) != 0x06)
        return -1;
    hl = octstr_get_char(body, 2);  /* short: one uintvar byte */
    if (hl & 0x80 || 3 + hl > octstr_len(body))
        return -1;
    h = octstr_copy(body, 3, hl);
    *headers_r = wsp_headers_unpack(h, 1);
    octstr_destroy(h);
    return 3 + hl;
}

static void test_document(void)
{
    Octstr *d;

    test_begin("document: escaped values, fixed action, UTC date");
    d = wap_si_document(octstr_imm("http://x.org/m/a?b=1&c=2"),
                        octstr_imm("id\"1"), 1714564800L,
                        octstr_imm("Mail 1 from <Ann> & \"Bob\": hi"));
    test_assert(d != NULL);
    if (d != NULL) {
        test_assert(octstr_search(d, octstr_imm("href=\"http://x.org/m/a?"
                                  "b=1&amp;c=2\""), 0) > 0);
        test_assert(octstr_search(d, octstr_imm("si-id=\"id&quot;1\""),
                                  0) > 0);
        test_assert(octstr_search(d, octstr_imm("created=\"2024-05-01T"
                                  "12:00:00Z\""), 0) > 0);
        test_assert(octstr_search(d, octstr_imm("action=\"signal-medium\""),
                                  0) > 0);
        test_assert(octstr_search(d, octstr_imm(">Mail 1 from &lt;Ann&gt; "
                                  "&amp; &quot;Bob&quot;: hi<"), 0) > 0);
        test_assert(octstr_search(d, octstr_imm("-//WAPFORUM//DTD SI 1.0"
                                  "//EN"), 0) > 0);
    }
    octstr_destroy(d);
    test_end();

    test_begin("document: refuses bad href, si-id, text");
    test_assert(wap_si_document(octstr_imm("ftp://x/"), octstr_imm("a"), 0,
                                octstr_imm("t")) == NULL);
    test_assert(wap_si_document(octstr_imm("http://x/ y"), octstr_imm("a"),
                                0, octstr_imm("t")) == NULL);
    test_assert(wap_si_document(octstr_imm("http://x/"), octstr_imm(""), 0,
                                octstr_imm("t")) == NULL);
    test_assert(wap_si_document(octstr_imm("http://x/"), octstr_imm("a b"),
                                0, octstr_imm("t")) == NULL);
    test_assert(wap_si_document(octstr_imm("http://x/"), octstr_imm("a"),
                                0, octstr_imm("bad \xC0\x80 utf8")) == NULL);
    test_assert(wap_si_document(octstr_imm("http://x/"), octstr_imm("a"),
                                0, octstr_imm("surrogate \xED\xA0\x80"))
                == NULL);
    test_assert(wap_si_document(octstr_imm("http://x/"), octstr_imm("a"),
                                0, NULL) == NULL);
    {
        Octstr *big = octstr_create("http://x/");

        while (octstr_len(big) <= WAP_SI_HREF_MAX)
            octstr_append_char(big, 'a');
        test_assert(wap_si_document(big, octstr_imm("a"), 0,
                                    octstr_imm("t")) == NULL);
        octstr_destroy(big);
    }
    test_end();

    test_begin("document: control characters become spaces");
    d = wap_si_document(octstr_imm("https://x/"), octstr_imm("a"), 0,
                        octstr_imm("a\nb\tc\x01" "d"));
    test_assert(d != NULL &&
                octstr_search(d, octstr_imm(">a b c d<"), 0) > 0);
    octstr_destroy(d);
    test_end();
}

static void test_sms(void)
{
    Octstr *udh = NULL, *body = NULL, *w, *want_udh, *href;
    List *headers = NULL;
    SiSeen s;
    long off;
    int r;

    test_begin("sms: port UDH, WSP push header, WBXML SI");
    href = octstr_create("http://pm.example.com/m/AbCdEfGhIjKlMnOpQrStUvWx"
                         "yz012345");
    r = wap_si_sms(href, octstr_imm("5f2b0c@pushmail"), 1714564800L,
                   octstr_imm("Mail 3 from Ann Lee: Lunch & more - "
                              "reply GET 3"), &udh, &body);
    test_assert(r == 0);
    want_udh = hex("0605040b8423f0");
    test_assert(udh != NULL && octstr_compare(udh, want_udh) == 0);
    octstr_destroy(want_udh);
    off = body ? check_wsp(body, &headers) : -1;
    test_assert(off > 0);
    if (off > 0) {
        Octstr *ct = http_header_value(headers,
                                       octstr_imm("Content-Type"));

        test_assert(ct != NULL && octstr_search(ct, octstr_imm(
                    "application/vnd.wap.sic"), 0) == 0);
        test_assert(ct != NULL && octstr_case_search(ct, octstr_imm(
                    "charset=utf-8"), 0) > 0);
        test_assert(gwlist_len(headers) == 1);
        octstr_destroy(ct);
        /* exact bytes: the content type in general form, nothing else
         * (no application id: wml.ua is the default) */
        test_assert(octstr_get_char(body, 2) == 4);
        w = octstr_copy(body, 3, 4);
        want_udh = hex("03ae81ea");
        test_assert(octstr_compare(w, want_udh) == 0);
        octstr_destroy(want_udh);
        octstr_destroy(w);

        w = octstr_copy(body, off, octstr_len(body) - off);
        test_assert(si_read(w, &s) == 0);
        test_assert(s.version == 0x02 && s.public_id == 0x05 &&
                    s.charset == 106);
        test_assert(s.href && octstr_compare(s.href, href) == 0);
        test_assert(s.si_id && octstr_str_compare(s.si_id,
                    "5f2b0c@pushmail") == 0);
        test_assert(s.created && octstr_str_compare(s.created,
                    "2024050112") == 0);
        test_assert(s.action == 0x07);        /* signal-medium */
        test_assert(s.text && octstr_str_compare(s.text,
                    "Mail 3 from Ann Lee: Lunch & more - reply GET 3") == 0);
        seen_clear(&s);
        octstr_destroy(w);
    }
    http_destroy_headers(headers);
    headers = NULL;
    octstr_destroy(udh);
    octstr_destroy(body);
    test_end();

    test_begin("sms: UTF-8 text and an https href survive compilation");
    udh = body = NULL;
    r = wap_si_sms(octstr_imm("https://mail.example.net/pm/m/tok"),
                   octstr_imm("x1"), 1700000000L,
                   octstr_imm("Mail 4 from J\xC3\xBCrgen: 5 \xE2\x82\xAC "
                              "<ok>"), &udh, &body);
    test_assert(r == 0);
    off = body ? check_wsp(body, &headers) : -1;
    test_assert(off > 0);
    if (off > 0) {
        w = octstr_copy(body, off, octstr_len(body) - off);
        test_assert(si_read(w, &s) == 0);
        test_assert(s.href && octstr_str_compare(s.href,
                    "https://mail.example.net/pm/m/tok") == 0);
        test_assert(s.text && octstr_str_compare(s.text,
                    "Mail 4 from J\xC3\xBCrgen: 5 \xE2\x82\xAC <ok>") == 0);
        test_assert(s.created && octstr_str_compare(s.created,
                    "20231114221320") == 0);
        seen_clear(&s);
        octstr_destroy(w);
    }
    http_destroy_headers(headers);
    headers = NULL;
    octstr_destroy(udh);
    octstr_destroy(body);
    test_end();

    test_begin("sms: a long text is cut, not refused; errors set nothing");
    {
        Octstr *t = octstr_create("");

        while (octstr_len(t) < 3 * WAP_SI_TEXT_MAX)
            octstr_append_cstr(t, "\xC3\xA4");
        udh = body = NULL;
        r = wap_si_sms(octstr_imm("http://x/"), octstr_imm("a"), 0, t,
                       &udh, &body);
        test_assert(r == 0 && body != NULL);
        test_assert(body != NULL &&
                    octstr_len(body) < WAP_SI_TEXT_MAX + 100);
        octstr_destroy(udh);
        octstr_destroy(body);
        octstr_destroy(t);
        udh = body = NULL;
        r = wap_si_sms(octstr_imm("gopher://x/"), octstr_imm("a"), 0,
                       octstr_imm("t"), &udh, &body);
        test_assert(r == -1 && udh == NULL && body == NULL);
    }
    octstr_destroy(href);
    test_end();

    test_begin("created: UTC formatting");
    w = wap_si_created(0);
    test_assert_str(octstr_get_cstr(w), "1970-01-01T00:00:00Z");
    octstr_destroy(w);
    w = wap_si_created(1714564800L + 3661);
    test_assert_str(octstr_get_cstr(w), "2024-05-01T13:01:01Z");
    octstr_destroy(w);
    test_end();
}

int main(void)
{
    gwlib_init();
    log_set_output_level(GW_WARNING);
    wsp_strings_init();
    test_document();
    test_sms();
    wsp_strings_shutdown();
    gwlib_shutdown();
    return test_exit();
}
