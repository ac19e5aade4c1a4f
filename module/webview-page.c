/*
 * webview-page.c - a mail as XHTML Mobile Profile pages, its pictures
 * as phone-sized JPEGs.
 *
 * Exports: webview_page_render(), webview_page_image(),
 * webview_page_notice(), webview_path_parse() (see webview-page.h).
 *
 * Text comes from convert_mail_parse() (headers decoded, best body
 * picked, HTML turned into text, attachments listed); the pictures are
 * found by a walk of our own over the MIME tree (GMime, here only) and
 * scaled by convert-image.c, the code that also scales MMS pictures.
 * A picture is any image/... part that convert_image_probe() accepts;
 * the page and the image URL number them the same way.
 *
 * The page is well-formed XML using only the five XML entities, served
 * as application/xhtml+xml; it needs no scripts and loads nothing from
 * elsewhere.
 *
 * Limits: see webview-page.h; the MIME walk stops at CONVERT_MAX_DEPTH,
 * CONVERT_MAX_PARTS parts and WEBVIEW_IMAGES_MAX pictures, and skips
 * parts larger than CONVERT_IMAGE_MAX_INPUT once decoded.
 * Logs: nothing.
 */
#include <string.h>
#include <strings.h>

#include <gmime/gmime.h>

#include "convert-image.h"
#include "convert-text.h"
#include "convert-private.h"
#include "webview-page.h"

#define PAGE_BYTES_MIN 200
#define NAME_MAX_BYTES 80
#define IMG_QUALITY 75

typedef struct {
    Octstr *name;           /* UTF-8, for the page */
    Octstr *data;           /* decoded bytes */
    long w, h;              /* size before scaling */
} PageImage;

static void page_image_destroy(void *p)
{
    PageImage *im = p;

    octstr_destroy(im->name);
    octstr_destroy(im->data);
    gw_free(im);
}

/* --- escaping ---------------------------------------------------------- */

/* Append s (UTF-8) escaped for XML text and attribute values; C0
 * controls become spaces (newlines too unless keep_nl), DEL and the
 * non-characters U+FFFE/U+FFFF are dropped. */
static void esc_append(Octstr *out, const Octstr *s, int keep_nl)
{
    long i, len = s ? octstr_len(s) : 0;
    const unsigned char *p = s ? (const unsigned char *)
                                 octstr_get_cstr(s) : NULL;

    for (i = 0; i < len; i++) {
        unsigned char c = p[i];

        if (c == '&')
            octstr_append_cstr(out, "&amp;");
        else if (c == '<')
            octstr_append_cstr(out, "&lt;");
        else if (c == '>')
            octstr_append_cstr(out, "&gt;");
        else if (c == '"')
            octstr_append_cstr(out, "&quot;");
        else if (c == '\n' && keep_nl)
            octstr_append_char(out, '\n');
        else if (c < 0x20)
            octstr_append_char(out, ' ');
        else if (c == 0x7f)
            continue;
        else if (c == 0xEF && i + 2 < len && p[i + 1] == 0xBF &&
                 (p[i + 2] == 0xBE || p[i + 2] == 0xBF))
            i += 2;
        else
            octstr_append_char(out, c);
    }
}

static void esc_cstr(Octstr *out, const char *s)
{
    Octstr *o = octstr_create(s);

    esc_append(out, o, 0);
    octstr_destroy(o);
}

/* --- the document frame ------------------------------------------------ */

static Octstr *page_start(const Octstr *title)
{
    Octstr *h = octstr_create(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<!DOCTYPE html PUBLIC \"-//WAPFORUM//DTD XHTML Mobile 1.2//EN\" "
        "\"http://www.openmobilealliance.org/tech/DTD/"
        "xhtml-mobile12.dtd\">\n"
        "<html xmlns=\"http://www.w3.org/1999/xhtml\">\n<head>\n"
        "<meta http-equiv=\"Content-Type\" content=\"application/xhtml+xml;"
        " charset=UTF-8\"/>\n"
        "<meta name=\"viewport\" content=\"width=device-width, "
        "initial-scale=1\"/>\n"
        "<meta name=\"robots\" content=\"noindex, nofollow\"/>\n<title>");

    esc_append(h, title, 0);
    octstr_append_cstr(h, "</title>\n<style type=\"text/css\">\n"
        "body{font-family:sans-serif;margin:6px;max-width:40em;"
        "word-wrap:break-word}\n"
        "h1{font-size:1.2em;margin:0 0 4px 0}\n"
        "h2{font-size:1em;margin:10px 0 4px 0}\n"
        ".meta{color:#444;font-size:0.9em;margin:0 0 6px 0}\n"
        ".nav{background:#eee;padding:4px}\n"
        ".reply{border-top:1px solid #ccc;padding-top:6px;"
        "font-size:0.9em}\n"
        "img{max-width:100%;height:auto}\n"
        "</style>\n</head>\n<body>\n");
    return h;
}

static void page_end(Octstr *h)
{
    octstr_append_cstr(h, "</body>\n</html>\n");
}

Octstr *webview_page_notice(const char *title, const char *text)
{
    Octstr *t = octstr_create(title), *h = page_start(t);

    octstr_append_cstr(h, "<h1>");
    esc_append(h, t, 0);
    octstr_append_cstr(h, "</h1>\n<p>");
    esc_cstr(h, text);
    octstr_append_cstr(h, "</p>\n");
    page_end(h);
    octstr_destroy(t);
    return h;
}

/* --- body pages -------------------------------------------------------- */

/* Last position in [from, to) just after `pat`, or -1. */
static long last_after(const Octstr *s, long from, long to, const char *pat)
{
    long plen = strlen(pat), i;
    const char *p = octstr_get_cstr(s);

    for (i = to - plen; i >= from; i--)
        if (memcmp(p + i, pat, plen) == 0)
            return i + plen;
    return -1;
}

/* The body cut into pages of at most `size` bytes: at a blank line,
 * else a line end, else a space in the second half of the page, else
 * at a UTF-8 character boundary.  A List of Octstr, never empty. */
static List *body_pages(const Octstr *body, long size)
{
    List *pages = gwlist_create();
    long start = 0, len = octstr_len(body), end, cut;

    while (len - start > size) {
        end = start + size;
        while (end > start && (octstr_get_char(body, end) & 0xC0) == 0x80)
            end--;
        cut = last_after(body, start + size / 2, end, "\n\n");
        if (cut < 0)
            cut = last_after(body, start + size / 2, end, "\n");
        if (cut < 0)
            cut = last_after(body, start + size / 2, end, " ");
        if (cut < 0)
            cut = end > start ? end : start + size;
        gwlist_append(pages, octstr_copy(body, start, cut - start));
        start = cut;
    }
    if (start < len || gwlist_len(pages) == 0)
        gwlist_append(pages, octstr_copy(body, start, len - start));
    return pages;
}

/* Paragraphs (blank-line separated) as <p>, line ends as <br/>. */
static void body_html(Octstr *h, const Octstr *text)
{
    Octstr *esc = octstr_create("");
    List *paras;
    long i, j;

    esc_append(esc, text, 1);
    paras = octstr_split(esc, octstr_imm("\n\n"));
    for (i = 0; i < gwlist_len(paras); i++) {
        Octstr *p = gwlist_get(paras, i);
        List *lines;

        octstr_strip_crlfs(p);
        octstr_strip_blanks(p);
        if (octstr_len(p) == 0)
            continue;
        lines = octstr_split(p, octstr_imm("\n"));
        octstr_append_cstr(h, "<p>");
        for (j = 0; j < gwlist_len(lines); j++) {
            if (j > 0)
                octstr_append_cstr(h, "<br/>\n");
            octstr_append(h, gwlist_get(lines, j));
        }
        octstr_append_cstr(h, "</p>\n");
        gwlist_destroy(lines, octstr_destroy_item);
    }
    gwlist_destroy(paras, octstr_destroy_item);
    octstr_destroy(esc);
}

/* --- pictures ---------------------------------------------------------- */

typedef struct {
    List *images;
    long parts;
} ImgWalk;

static void img_part(ImgWalk *w, GMimePart *part)
{
    GMimeDataWrapper *dw = g_mime_part_get_content(part);
    GMimeStream *mem;
    GByteArray *ba;
    PageImage *im;
    const char *fname;
    long k = gwlist_len(w->images) + 1;

    if (dw == NULL)
        return;
    mem = g_mime_stream_mem_new();
    g_mime_data_wrapper_write_to_stream(dw, mem);
    ba = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
    if (ba == NULL || ba->len == 0 ||
        (long) ba->len > CONVERT_IMAGE_MAX_INPUT) {
        g_object_unref(mem);
        return;
    }
    im = gw_malloc(sizeof(*im));
    im->data = octstr_create_from_data((char *) ba->data, ba->len);
    g_object_unref(mem);
    if (convert_image_probe(im->data, NULL, &im->w, &im->h, NULL) < 0) {
        octstr_destroy(im->data);
        gw_free(im);
        return;
    }
    fname = g_mime_part_get_filename(part);
    if (fname != NULL && *fname != '\0') {
        long len = strlen(fname);

        im->name = convert_to_utf8(fname, len > NAME_MAX_BYTES ?
                                   NAME_MAX_BYTES : len, NULL);
    } else {
        im->name = octstr_format("Picture %ld", k);
    }
    gwlist_append(w->images, im);
}

static void img_walk(ImgWalk *w, GMimeObject *obj, int depth)
{
    GMimeContentType *ct;
    int i, n;

    if (obj == NULL || depth > CONVERT_MAX_DEPTH ||
        ++w->parts > CONVERT_MAX_PARTS ||
        gwlist_len(w->images) >= WEBVIEW_IMAGES_MAX)
        return;
    if (GMIME_IS_MULTIPART(obj)) {
        n = g_mime_multipart_get_count(GMIME_MULTIPART(obj));
        for (i = 0; i < n; i++)
            img_walk(w, g_mime_multipart_get_part(GMIME_MULTIPART(obj), i),
                     depth + 1);
    } else if (GMIME_IS_MESSAGE_PART(obj)) {
        GMimeMessage *m = g_mime_message_part_get_message(
                              GMIME_MESSAGE_PART(obj));

        if (m != NULL)
            img_walk(w, g_mime_message_get_mime_part(m), depth + 1);
    } else if (GMIME_IS_PART(obj)) {
        ct = g_mime_object_get_content_type(obj);
        if (ct != NULL && g_mime_content_type_is_type(ct, "image", "*"))
            img_part(w, GMIME_PART(obj));
    }
}

/* The pictures of a raw mail: a List of PageImage (maybe empty). */
static List *mail_images(const Octstr *raw)
{
    GMimeMessage *msg = convert_mime_message(raw, NULL, NULL);
    ImgWalk w;

    w.images = gwlist_create();
    w.parts = 0;
    if (msg != NULL) {
        img_walk(&w, g_mime_message_get_mime_part(msg), 0);
        g_object_unref(msg);
    }
    return w.images;
}

static long clamp_box(long v, long def)
{
    if (v <= 0)
        v = def;
    if (v < 16)
        v = 16;
    if (v > CONVERT_IMAGE_MAX_BOX)
        v = CONVERT_IMAGE_MAX_BOX;
    return v;
}

/* Size of a w x h picture fitted into bw x bh, never enlarged. */
static void fit(long w, long h, long bw, long bh, long *w_r, long *h_r)
{
    if (w <= bw && h <= bh) {
        *w_r = w;
        *h_r = h;
    } else if (w * bh > h * bw) {         /* width limits */
        *w_r = bw;
        *h_r = (h * bw + w / 2) / w;
    } else {
        *h_r = bh;
        *w_r = (w * bh + h / 2) / h;
    }
    if (*w_r < 1)
        *w_r = 1;
    if (*h_r < 1)
        *h_r = 1;
}

static void pictures_html(Octstr *h, const Octstr *raw,
                          const WebPageOpts *o)
{
    List *images = mail_images(raw);
    long i, w, hh;

    if (gwlist_len(images) > 0) {
        octstr_append_cstr(h, "<h2>Pictures</h2>\n");
        for (i = 0; i < gwlist_len(images); i++) {
            PageImage *im = gwlist_get(images, i);

            fit(im->w, im->h, clamp_box(o->img_w, WEBVIEW_IMG_W),
                clamp_box(o->img_h, WEBVIEW_IMG_H), &w, &hh);
            octstr_append_cstr(h, "<p><img src=\"");
            esc_append(h, o->img_base, 0);
            octstr_format_append(h, "%ld\" width=\"%ld\" height=\"%ld\" "
                                 "alt=\"", i + 1, w, hh);
            esc_append(h, im->name, 0);
            octstr_append_cstr(h, "\"/><br/>");
            esc_append(h, im->name, 0);
            octstr_append_cstr(h, "</p>\n");
        }
    }
    gwlist_destroy(images, page_image_destroy);
}

int webview_page_image(const Octstr *raw, long k, long max_w, long max_h,
                       Octstr **jpeg_r)
{
    List *images = mail_images(raw);
    PageImage *im;
    Octstr *out = NULL;
    int r = -1;

    if (k >= 1 && k <= gwlist_len(images)) {
        im = gwlist_get(images, k - 1);
        if (convert_image_fit(im->data, clamp_box(max_w, WEBVIEW_IMG_W),
                              clamp_box(max_h, WEBVIEW_IMG_H), IMG_QUALITY,
                              &out, NULL, NULL, NULL) == 0) {
            *jpeg_r = out;
            r = 0;
        }
    }
    gwlist_destroy(images, page_image_destroy);
    return r;
}

/* --- the page ---------------------------------------------------------- */

static void nav_html(Octstr *h, long page, long count)
{
    octstr_format_append(h, "<p class=\"nav\">Page %ld of %ld", page,
                         count);
    if (page > 1)
        octstr_format_append(h, " | <a href=\"?p=%ld\">Previous</a>",
                             page - 1);
    if (page < count)
        octstr_format_append(h, " | <a href=\"?p=%ld\">Next page</a>",
                             page + 1);
    octstr_append_cstr(h, "</p>\n");
}

static void head_html(Octstr *h, const ConvertMail *cm, long n)
{
    octstr_append_cstr(h, "<h1>");
    if (octstr_len(cm->subject) > 0)
        esc_append(h, cm->subject, 0);
    else
        octstr_append_cstr(h, "(no subject)");
    octstr_append_cstr(h, "</h1>\n<p class=\"meta\">From: ");
    esc_append(h, cm->from, 0);
    if (cm->from_addr != NULL &&
        octstr_compare(cm->from_addr, cm->from) != 0) {
        octstr_append_cstr(h, " &lt;");
        esc_append(h, cm->from_addr, 0);
        octstr_append_cstr(h, "&gt;");
    }
    if (cm->date != NULL) {
        octstr_append_cstr(h, "<br/>\nDate: ");
        esc_append(h, cm->date, 0);
    }
    octstr_format_append(h, "<br/>\nMail %ld</p>\n", n);
}

static void tail_html(Octstr *h, const Octstr *raw, const ConvertMail *cm,
                      const WebPageOpts *o)
{
    long i;

    if (o->cut_short)
        octstr_append_cstr(h, "<p><em>This mail is too large: only its "
                           "beginning is shown.</em></p>\n");
    if (o->img_base != NULL)
        pictures_html(h, raw, o);
    if (gwlist_len(cm->attachments) > 0) {
        octstr_append_cstr(h, "<h2>Attachments</h2>\n<ul>\n");
        for (i = 0; i < gwlist_len(cm->attachments); i++) {
            octstr_append_cstr(h, "<li>");
            esc_append(h, gwlist_get(cm->attachments, i), 0);
            octstr_append_cstr(h, "</li>\n");
        }
        octstr_append_cstr(h, "</ul>\n");
    }
}

int webview_page_render(const Octstr *raw, const WebPageOpts *o,
                        Octstr **html_r)
{
    ConvertMail *cm;
    List *pages;
    Octstr *h, *title;
    long size = o->page_bytes > 0 ? o->page_bytes : WEBVIEW_PAGE_BYTES;
    long count;

    if (size < PAGE_BYTES_MIN)
        size = PAGE_BYTES_MIN;
    cm = convert_mail_parse(raw, o->trim_quotes, NULL);
    if (cm == NULL)
        return -1;
    pages = body_pages(cm->body, size);
    count = gwlist_len(pages);
    if (o->page < 1 || o->page > count) {
        gwlist_destroy(pages, octstr_destroy_item);
        convert_mail_destroy(cm);
        return 1;
    }
    title = octstr_len(cm->subject) > 0 ? octstr_duplicate(cm->subject)
                                        : octstr_create("(no subject)");
    h = page_start(title);
    octstr_destroy(title);
    head_html(h, cm, o->n);
    if (count > 1 && o->page > 1)
        nav_html(h, o->page, count);
    body_html(h, gwlist_get(pages, o->page - 1));
    if (count > 1)
        nav_html(h, o->page, count);
    if (o->page == count)
        tail_html(h, raw, cm, o);
    octstr_format_append(h, "<p class=\"reply\">To answer, send an SMS "
                         "<strong>REPLY %ld</strong> followed by your "
                         "text", o->n);
    if (o->reply_to != NULL && octstr_len(o->reply_to) > 0) {
        octstr_append_cstr(h, " to ");
        esc_append(h, o->reply_to, 0);
    }
    octstr_format_append(h, ". <strong>GET %ld</strong> sends this mail "
                         "as SMS.</p>\n", o->n);
    page_end(h);
    gwlist_destroy(pages, octstr_destroy_item);
    convert_mail_destroy(cm);
    *html_r = h;
    return 0;
}

/* --- request paths ----------------------------------------------------- */

/* Decimal 1..max without sign or leading zero, else -1. */
static long small_number(const Octstr *s, long max)
{
    long i, v = 0;

    if (s == NULL || octstr_len(s) < 1 || octstr_len(s) > 4 ||
        octstr_get_char(s, 0) == '0')
        return -1;
    for (i = 0; i < octstr_len(s); i++) {
        int c = octstr_get_char(s, i);

        if (c < '0' || c > '9')
            return -1;
        v = v * 10 + (c - '0');
    }
    return v <= max ? v : -1;
}

static int token_char(int c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
           (c >= '0' && c <= '9') || c == '-' || c == '_';
}

int webview_path_parse(const Octstr *path, const Octstr *page,
                       Octstr **token_r, long *arg_r)
{
    long len = path ? octstr_len(path) : 0, end, arg;
    int kind = WEBVIEW_PATH_PAGE;
    Octstr *num;

    if (len < 4 || memcmp(octstr_get_cstr(path), "/m/", 3) != 0)
        return WEBVIEW_PATH_NONE;
    for (end = 3; end < len && token_char(octstr_get_char(path, end));
         end++)
        ;
    if (end == 3 || end - 3 > WEBVIEW_TOKEN_MAX)
        return WEBVIEW_PATH_NONE;
    if (end == len) {
        arg = page != NULL ? small_number(page, WEBVIEW_PAGE_MAX) : 1;
    } else if (len - end > 5 &&
               memcmp(octstr_get_cstr(path) + end, "/img/", 5) == 0) {
        num = octstr_copy(path, end + 5, len - end - 5);
        arg = small_number(num, WEBVIEW_IMAGES_MAX);
        octstr_destroy(num);
        kind = WEBVIEW_PATH_IMAGE;
    } else {
        return WEBVIEW_PATH_NONE;
    }
    if (arg < 0)
        return WEBVIEW_PATH_NONE;
    *token_r = octstr_copy(path, 3, end - 3);
    *arg_r = arg;
    return kind;
}
