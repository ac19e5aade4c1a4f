/*
 * test-webview-page.c - unit tests for webview-page.c: the page is
 * well-formed XHTML-MP (parsed back with libxml2, elements checked
 * against the XHTML-MP 1.2 set), shows sender, subject, date and body,
 * escapes hostile text, pages a long body without losing or repeating
 * words, lists attachments, links pictures that webview_page_image()
 * then serves scaled; bad page numbers and unreadable mails; the request
 * path parser against a table of good and hostile paths.
 */
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <vips/vips.h>

#include "gwlib/gwlib.h"
#include "convert-image.h"
#include "convert-text.h"
#include "webview-page.h"
#include "test-common.h"

/* Elements XHTML-MP 1.2 has (those a page could plausibly use). */
static const char *const mp_elements[] = {
    "html", "head", "title", "meta", "style", "link", "body", "h1", "h2",
    "h3", "p", "br", "hr", "a", "img", "ul", "ol", "li", "em", "strong",
    "div", "span", "pre", "small", "b", "i", "table", "tr", "td", NULL
};

/* An sRGB gradient of w x h, as PNG bytes. */
static Octstr *make_png(int w, int h)
{
    VipsImage *base = vips_image_new(), **t;
    void *buf = NULL;
    size_t len = 0;
    Octstr *out = NULL;

    t = (VipsImage **) vips_object_local_array(VIPS_OBJECT(base), 4);
    if (vips_xyz(&t[0], w, h, NULL) == 0 &&
        vips_cast_uchar(t[0], &t[1], NULL) == 0 &&
        vips_bandjoin_const1(t[1], &t[2], 128.0, NULL) == 0 &&
        vips_copy(t[2], &t[3], "interpretation", VIPS_INTERPRETATION_sRGB,
                  NULL) == 0 &&
        vips_pngsave_buffer(t[3], &buf, &len, NULL) == 0)
        out = octstr_create_from_data(buf, len);
    g_free(buf);
    g_object_unref(base);
    return out;
}

static int element_ok(const xmlChar *name)
{
    int i;

    for (i = 0; mp_elements[i] != NULL; i++)
        if (strcmp((const char *) name, mp_elements[i]) == 0)
            return 1;
    return 0;
}

/* 1 if every element below n is an XHTML-MP one with no script-ish
 * attributes (on*), and no element is <script>. */
static int tree_ok(xmlNode *n)
{
    xmlAttr *a;

    for (; n != NULL; n = n->next) {
        if (n->type != XML_ELEMENT_NODE)
            continue;
        if (!element_ok(n->name)) {
            fprintf(stderr, "  element <%s> is not XHTML-MP\n", n->name);
            return 0;
        }
        for (a = n->properties; a != NULL; a = a->next)
            if (strncmp((const char *) a->name, "on", 2) == 0)
                return 0;
        if (!tree_ok(n->children))
            return 0;
    }
    return 1;
}

/* Parse the page strictly (no network, no entities beyond XML's own,
 * no DTD loading); 1 if well-formed XHTML-MP with the right DOCTYPE and
 * namespace. */
static int page_ok(const Octstr *html)
{
    xmlDoc *doc;
    xmlNode *root;
    xmlDtd *dtd;
    int ok;

    doc = xmlReadMemory(octstr_get_cstr(html), octstr_len(html), "page",
                        NULL, XML_PARSE_NONET | XML_PARSE_NOERROR |
                        XML_PARSE_NOWARNING);
    if (doc == NULL)
        return 0;
    root = xmlDocGetRootElement(doc);
    dtd = xmlGetIntSubset(doc);
    ok = root != NULL && strcmp((const char *) root->name, "html") == 0 &&
         root->ns != NULL && strcmp((const char *) root->ns->href,
                                    "http://www.w3.org/1999/xhtml") == 0 &&
         dtd != NULL && dtd->ExternalID != NULL &&
         strcmp((const char *) dtd->ExternalID,
                "-//WAPFORUM//DTD XHTML Mobile 1.2//EN") == 0 &&
         tree_ok(root);
    xmlFreeDoc(doc);
    return ok;
}

/* The text of the page (all text nodes joined), for content checks. */
static void text_of(xmlNode *n, Octstr *out)
{
    for (; n != NULL; n = n->next) {
        if (n->type == XML_TEXT_NODE && n->content != NULL)
            octstr_append_cstr(out, (const char *) n->content);
        if (n->type == XML_ELEMENT_NODE &&
            strcmp((const char *) n->name, "style") != 0)
            text_of(n->children, out);
    }
}

static Octstr *page_text(const Octstr *html)
{
    xmlDoc *doc = xmlReadMemory(octstr_get_cstr(html), octstr_len(html),
                                "page", NULL, XML_PARSE_NONET |
                                XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    Octstr *t = octstr_create("");

    if (doc != NULL) {
        text_of(xmlDocGetRootElement(doc), t);
        xmlFreeDoc(doc);
    }
    return t;
}

static int has(const Octstr *s, const char *needle)
{
    return s != NULL && octstr_search(s, octstr_imm(needle), 0) >= 0;
}

static void opts_init(WebPageOpts *o, long n, long page)
{
    memset(o, 0, sizeof(*o));
    o->n = n;
    o->page = page;
    o->trim_quotes = 1;
}

static void test_simple(void)
{
    WebPageOpts o;
    Octstr *raw, *html = NULL, *t;
    int r;

    test_begin("page: sender, subject, date, body, reply hint");
    raw = octstr_create(
        "From: Ann Lee <ann@example.org>\r\n"
        "To: bob@example.org\r\n"
        "Subject: Lunch tomorrow?\r\n"
        "Date: Mon, 27 Nov 2023 14:02:00 +0100\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\n"
        "Shall we meet at noon by the fountain?\r\n\r\n"
        "Second paragraph,\r\nwith a line break. Gr\xC3\xBC\xC3\x9F" "e\r\n");
    opts_init(&o, 3, 1);
    o.reply_to = octstr_imm("1234");
    r = webview_page_render(raw, &o, &html);
    test_assert(r == 0 && html != NULL);
    test_assert(html && page_ok(html));
    t = html ? page_text(html) : octstr_create("");
    test_assert(has(t, "Lunch tomorrow?"));
    test_assert(has(t, "Ann Lee <ann@example.org>"));
    test_assert(has(t, "Date: 27 Nov 14:02"));
    test_assert(has(t, "Shall we meet at noon by the fountain?"));
    test_assert(has(t, "Second paragraph,\nwith a line break. "
                    "Gr\xC3\xBC\xC3\x9F" "e"));
    test_assert(has(html, "Second paragraph,<br/>"));
    test_assert(has(t, "REPLY 3 followed by your text to 1234"));
    test_assert(has(html, "<title>Lunch tomorrow?</title>"));
    test_assert(!has(t, "Page 1 of"));      /* one page: no navigation */
    test_assert(!has(html, "<img"));
    octstr_destroy(t);
    octstr_destroy(html);
    test_end();

    test_begin("page: page 2 of a one-page mail does not exist");
    opts_init(&o, 3, 2);
    html = NULL;
    test_assert(webview_page_render(raw, &o, &html) == 1 && html == NULL);
    opts_init(&o, 3, 0);
    test_assert(webview_page_render(raw, &o, &html) == 1 && html == NULL);
    opts_init(&o, 3, -5);
    test_assert(webview_page_render(raw, &o, &html) == 1 && html == NULL);
    octstr_destroy(raw);
    test_end();

    test_begin("page: an unreadable mail is an error");
    opts_init(&o, 1, 1);
    test_assert(webview_page_render(octstr_imm(""), &o, &html) == -1);
    test_assert(webview_page_image(octstr_imm(""), 1, 100, 100, &html)
                == -1);
    test_end();
}

static void test_hostile(void)
{
    WebPageOpts o;
    Octstr *raw, *html = NULL, *t;

    test_begin("page: hostile headers and body are escaped");
    raw = octstr_create(
        "From: \"<script>alert(1)</script>\" <x@y.z>\r\n"
        "Subject: =?utf-8?q?a_&_b_<i>_\"q\"_=01=02?=\r\n"
        "Content-Type: text/html; charset=utf-8\r\n\r\n"
        "<html><body><p>Hi <b>there</b> &amp; &lt;tag&gt;</p>"
        "<script>document.write('x')</script>"
        "<p onclick=\"evil()\">bad \x01\x02 \xEF\xBF\xBF ctl</p>"
        "<img src=\"http://tracker.example/pixel.gif\"/>"
        "</body></html>\r\n");
    opts_init(&o, 7, 1);
    o.reply_to = octstr_imm("+1 \"555\" <0>");
    test_assert(webview_page_render(raw, &o, &html) == 0);
    test_assert(html && page_ok(html));
    test_assert(!has(html, "<script"));
    test_assert(!has(html, "tracker.example/pixel") ||
                !has(html, "<img"));
    test_assert(!has(html, "onclick"));
    t = html ? page_text(html) : octstr_create("");
    test_assert(has(t, "<script>alert(1)</script>"));  /* as text */
    test_assert(has(t, "a & b <i> \"q\""));
    test_assert(has(t, "Hi there & <tag>"));
    test_assert(has(t, "to +1 \"555\" <0>"));
    octstr_destroy(t);
    octstr_destroy(html);
    octstr_destroy(raw);
    test_end();

    test_begin("page: broken bytes and a missing subject");
    raw = octstr_create("From: \xFF\xFE <a@b>\r\nSubject:\r\n\r\n"
                        "body \xC3 \xFF end\r\n");
    opts_init(&o, 2, 1);
    html = NULL;
    test_assert(webview_page_render(raw, &o, &html) == 0);
    test_assert(html && page_ok(html));
    test_assert(has(html, "(no subject)"));
    test_assert(has(html, "end"));
    octstr_destroy(html);
    octstr_destroy(raw);
    test_end();

    test_begin("notice: well-formed and escaped");
    html = webview_page_notice("Gone & <away>", "Mail 3 is \"gone\".");
    test_assert(page_ok(html));
    t = page_text(html);
    test_assert(has(t, "Gone & <away>") && has(t, "Mail 3 is \"gone\"."));
    octstr_destroy(t);
    octstr_destroy(html);
    test_end();
}

static void test_paging(void)
{
    WebPageOpts o;
    Octstr *raw, *html, *all, *t, *want;
    long page, i, pos;
    int r;

    test_begin("paging: every word once, in order, pages linked");
    raw = octstr_create("From: a@b.c\r\nSubject: Long read\r\n\r\n");
    for (i = 0; i < 600; i++)
        octstr_format_append(raw, "w%03ld%s", i, i % 13 == 12 ? "\r\n" :
                             i % 50 == 49 ? "\r\n\r\n" : " ");
    all = octstr_create("");
    for (page = 1; page < 50; page++) {
        opts_init(&o, 4, page);
        o.page_bytes = 600;
        html = NULL;
        r = webview_page_render(raw, &o, &html);
        if (r == 1)
            break;
        test_assert(r == 0 && page_ok(html));
        t = page_text(html);
        test_assert(page == 1 || has(html, "Previous</a>"));
        if (page == 1)
            test_assert(has(html, "<a href=\"?p=2\">Next page</a>"));
        octstr_append(all, t);
        octstr_append_char(all, ' ');
        octstr_destroy(t);
        octstr_destroy(html);
    }
    test_assert(page > 5 && page < 20);
    /* the last page has no "Next", the one before links to it */
    pos = 0;
    for (i = 0; i < 600; i++) {
        long at;

        want = octstr_format("w%03ld", i);
        at = octstr_search(all, want, pos);
        test_assert(at >= pos);
        if (at >= 0) {
            pos = at + 4;
            test_assert(octstr_search(all, want, pos) < 0);  /* once */
        }
        octstr_destroy(want);
    }
    octstr_destroy(all);
    octstr_destroy(raw);
    test_end();

    test_begin("paging: a long word and multi-byte text cut cleanly");
    raw = octstr_create("From: a@b.c\r\nSubject: x\r\nContent-Type: "
                        "text/plain; charset=utf-8\r\n\r\n");
    for (i = 0; i < 900; i++)
        octstr_append_cstr(raw, "\xE2\x82\xAC");
    octstr_append_cstr(raw, "\r\n");
    for (page = 1; page < 40; page++) {
        opts_init(&o, 1, page);
        o.page_bytes = 250;
        html = NULL;
        r = webview_page_render(raw, &o, &html);
        if (r == 1)
            break;
        test_assert(r == 0 && page_ok(html));
        octstr_destroy(html);
    }
    test_assert(page >= 11);
    octstr_destroy(raw);
    test_end();
}

static void test_pictures(void)
{
    WebPageOpts o;
    Octstr *png = make_png(800, 600), *small = make_png(40, 30);
    Octstr *raw, *html = NULL, *jpeg = NULL, *b64, *b64s;
    long w = 0, h = 0;

    test_begin("pictures: listed with scaled size, served as JPEG");
    test_assert(png != NULL && small != NULL);
    b64 = octstr_duplicate(png);
    octstr_binary_to_base64(b64);
    b64s = octstr_duplicate(small);
    octstr_binary_to_base64(b64s);
    raw = octstr_format(
        "From: Cam <cam@example.org>\r\nSubject: Holiday photos\r\n"
        "MIME-Version: 1.0\r\n"
        "Content-Type: multipart/mixed; boundary=\"XX\"\r\n\r\n"
        "--XX\r\nContent-Type: text/plain\r\n\r\nSee the beach.\r\n"
        "--XX\r\nContent-Type: image/png\r\n"
        "Content-Disposition: attachment; filename=\"beach.png\"\r\n"
        "Content-Transfer-Encoding: base64\r\n\r\n%S\r\n"
        "--XX\r\nContent-Type: application/pdf\r\n"
        "Content-Disposition: attachment; filename=\"plan.pdf\"\r\n\r\n"
        "%%PDF-1.4 not really\r\n"
        "--XX\r\nContent-Type: image/png; name=\"icon.png\"\r\n"
        "Content-Transfer-Encoding: base64\r\n\r\n%S\r\n"
        "--XX\r\nContent-Type: image/svg+xml\r\n"
        "Content-Disposition: attachment; filename=\"v.svg\"\r\n\r\n"
        "<svg xmlns=\"http://www.w3.org/2000/svg\"/>\r\n"
        "--XX--\r\n", b64, b64s);
    opts_init(&o, 5, 1);
    o.img_base = octstr_imm("TOKEN/img/");
    test_assert(webview_page_render(raw, &o, &html) == 0);
    test_assert(html && page_ok(html));
    test_assert(has(html, "<img src=\"TOKEN/img/1\" width=\"320\" "
                    "height=\"240\" alt=\"beach.png\"/>"));
    test_assert(has(html, "<img src=\"TOKEN/img/2\" width=\"40\" "
                    "height=\"30\" alt=\"icon.png\"/>"));
    test_assert(!has(html, "TOKEN/img/3"));     /* the SVG is no picture */
    test_assert(has(html, "plan.pdf"));
    test_assert(has(html, "See the beach."));
    octstr_destroy(html);

    test_assert(webview_page_image(raw, 1, 320, 480, &jpeg) == 0);
    test_assert(jpeg != NULL && octstr_len(jpeg) > 100 &&
                octstr_get_char(jpeg, 0) == 0xFF &&
                octstr_get_char(jpeg, 1) == 0xD8);
    test_assert(jpeg != NULL && convert_image_probe(jpeg, NULL, &w, &h, NULL)
                == 0 && w == 320 && h == 240);
    octstr_destroy(jpeg);
    jpeg = NULL;
    test_assert(webview_page_image(raw, 2, 320, 480, &jpeg) == 0);
    test_assert(jpeg != NULL && convert_image_probe(jpeg, NULL, &w, &h, NULL)
                == 0 && w == 40 && h == 30);
    octstr_destroy(jpeg);
    jpeg = NULL;
    test_assert(webview_page_image(raw, 3, 320, 480, &jpeg) == -1);
    test_assert(webview_page_image(raw, 0, 320, 480, &jpeg) == -1);
    test_assert(webview_page_image(raw, -1, 320, 480, &jpeg) == -1);
    test_assert(jpeg == NULL);

    /* without img_base the page shows no pictures */
    opts_init(&o, 5, 1);
    html = NULL;
    test_assert(webview_page_render(raw, &o, &html) == 0);
    test_assert(html && !has(html, "<img"));
    octstr_destroy(html);
    octstr_destroy(raw);
    octstr_destroy(b64);
    octstr_destroy(b64s);
    octstr_destroy(png);
    octstr_destroy(small);
    test_end();
}

static void test_paths(void)
{
    static const struct {
        const char *path, *p;
        int kind;
        const char *token;
        long arg;
    } t[] = {
        { "/m/AbC-_09", NULL, WEBVIEW_PATH_PAGE, "AbC-_09", 1 },
        { "/m/AbC", "2", WEBVIEW_PATH_PAGE, "AbC", 2 },
        { "/m/AbC", "9999", WEBVIEW_PATH_PAGE, "AbC", 9999 },
        { "/m/AbC/img/1", NULL, WEBVIEW_PATH_IMAGE, "AbC", 1 },
        { "/m/AbC/img/20", "7", WEBVIEW_PATH_IMAGE, "AbC", 20 },
        { "/m/AbC", "0", WEBVIEW_PATH_NONE, NULL, 0 },
        { "/m/AbC", "02", WEBVIEW_PATH_NONE, NULL, 0 },
        { "/m/AbC", "10000", WEBVIEW_PATH_NONE, NULL, 0 },
        { "/m/AbC", "-1", WEBVIEW_PATH_NONE, NULL, 0 },
        { "/m/AbC", "", WEBVIEW_PATH_NONE, NULL, 0 },
        { "/m/AbC", "1x", WEBVIEW_PATH_NONE, NULL, 0 },
        { "/m/AbC/img/21", NULL, WEBVIEW_PATH_NONE, NULL, 0 },
        { "/m/AbC/img/0", NULL, WEBVIEW_PATH_NONE, NULL, 0 },
        { "/m/AbC/img/", NULL, WEBVIEW_PATH_NONE, NULL, 0 },
        { "/m/AbC/img", NULL, WEBVIEW_PATH_NONE, NULL, 0 },
        { "/m/AbC/im", NULL, WEBVIEW_PATH_NONE, NULL, 0 },
        { "/m/AbC/img/1/", NULL, WEBVIEW_PATH_NONE, NULL, 0 },
        { "/m/AbC/", NULL, WEBVIEW_PATH_NONE, NULL, 0 },
        { "/m/AbC/other", NULL, WEBVIEW_PATH_NONE, NULL, 0 },
        { "/m/Ab%43", NULL, WEBVIEW_PATH_NONE, NULL, 0 },
        { "/m/Ab.C", NULL, WEBVIEW_PATH_NONE, NULL, 0 },
        { "/m/", NULL, WEBVIEW_PATH_NONE, NULL, 0 },
        { "/m", NULL, WEBVIEW_PATH_NONE, NULL, 0 },
        { "/", NULL, WEBVIEW_PATH_NONE, NULL, 0 },
        { "", NULL, WEBVIEW_PATH_NONE, NULL, 0 },
        { "/M/AbC", NULL, WEBVIEW_PATH_NONE, NULL, 0 },
        { "//m/AbC", NULL, WEBVIEW_PATH_NONE, NULL, 0 },
        { "/x/m/AbC", NULL, WEBVIEW_PATH_NONE, NULL, 0 },
        { "m/AbC", NULL, WEBVIEW_PATH_NONE, NULL, 0 },
    };
    Octstr *path, *p, *token;
    long arg, i;
    int kind;

    test_begin("paths: served paths parse, everything else is refused");
    for (i = 0; i < (long) (sizeof(t) / sizeof(t[0])); i++) {
        path = octstr_create(t[i].path);
        p = t[i].p ? octstr_create(t[i].p) : NULL;
        token = NULL;
        arg = -7;
        kind = webview_path_parse(path, p, &token, &arg);
        if (kind != t[i].kind)
            fprintf(stderr, "  path %s ?p=%s: kind %d\n", t[i].path,
                    t[i].p ? t[i].p : "-", kind);
        test_assert(kind == t[i].kind);
        if (t[i].kind == WEBVIEW_PATH_NONE) {
            test_assert(token == NULL && arg == -7);
        } else {
            test_assert(token != NULL &&
                        octstr_str_compare(token, t[i].token) == 0);
            test_assert(arg == t[i].arg);
        }
        octstr_destroy(token);
        octstr_destroy(path);
        octstr_destroy(p);
    }
    /* length limit, and a NUL byte in the path */
    path = octstr_create("/m/");
    for (i = 0; i < WEBVIEW_TOKEN_MAX; i++)
        octstr_append_char(path, 'a');
    token = NULL;
    test_assert(webview_path_parse(path, NULL, &token, &arg) ==
                WEBVIEW_PATH_PAGE);
    octstr_destroy(token);
    token = NULL;
    octstr_append_char(path, 'a');
    test_assert(webview_path_parse(path, NULL, &token, &arg) ==
                WEBVIEW_PATH_NONE && token == NULL);
    octstr_destroy(path);
    path = octstr_create_from_data("/m/AbC\0/img/1", 13);
    test_assert(webview_path_parse(path, NULL, &token, &arg) ==
                WEBVIEW_PATH_NONE);
    test_assert(webview_path_parse(NULL, NULL, &token, &arg) ==
                WEBVIEW_PATH_NONE && token == NULL);
    octstr_destroy(path);
    test_end();
}

int main(void)
{
    gwlib_init();
    log_set_output_level(GW_WARNING);
    convert_init();
    convert_image_init();
    test_simple();
    test_hostile();
    test_paging();
    test_pictures();
    test_paths();
    convert_image_deinit();
    convert_deinit();
    gwlib_shutdown();
    return test_exit();
}
