/*
 * test-convert-mms.c - unit tests for convert-image.c and
 * convert-mms.c: mails built here (images made with libvips) are
 * converted, and the MM is parsed back with GMime and checked against
 * the contract: SMIL root and references, Content-IDs, Content-Location,
 * no quoted-printable, UTF-8 text, size limits, scaled images, listed
 * attachments, dropped images, hostile input; then the mails in
 * tests/data/mms ($srcdir/tests/data/mms, or found from __FILE__), and
 * a few conversions in parallel threads.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gmime/gmime.h>
#include <vips/vips.h>

#include "gwlib/gwlib.h"
#include "convert-image.h"
#include "convert-mms.h"
#include "convert-text.h"
#include "test-common.h"

/* --- images made with libvips --------------------------------------- */

/* Blocky noise (kind 0: compresses badly) or a smooth gradient (kind 1) in
 * sRGB, optionally with an alpha band; saved as "jpeg" or "png". */
static Octstr *make_image(int w, int h, int kind, int alpha,
                          const char *fmt)
{
    VipsImage *base = vips_image_new(), **t;
    void *buf = NULL;
    size_t len = 0;
    Octstr *out = NULL;
    int rc;

    t = (VipsImage **) vips_object_local_array(VIPS_OBJECT(base), 8);
    if (kind == 0)      /* 8x8 blocks: survives scaling down */
        rc = vips_gaussnoise(&t[1], (w + 7) / 8, (h + 7) / 8, "mean", 128.0,
                             "sigma", 60.0, NULL)
             || vips_zoom(t[1], &t[7], 8, 8, NULL)
             || vips_crop(t[7], &t[0], 0, 0, w, h, NULL);
    else
        rc = vips_xyz(&t[0], w, h, NULL)
             || vips_extract_band(t[0], &t[1], 0, NULL)
             || vips_linear1(t[1], &t[0], 255.0 / w, 0.0, NULL);
    rc = rc || vips_cast_uchar(t[0], &t[2], NULL)
         || vips_bandjoin_const1(t[2], &t[3], 90.0, NULL)
         || vips_bandjoin_const1(t[3], &t[4], 200.0, NULL);
    if (!rc && alpha)
        rc = vips_bandjoin_const1(t[4], &t[5], 0.0, NULL);  /* clear */
    else if (!rc)
        rc = vips_copy(t[4], &t[5], NULL);
    if (!rc)
        rc = vips_copy(t[5], &t[6], "interpretation",
                       VIPS_INTERPRETATION_sRGB, NULL);
    if (!rc && strcmp(fmt, "png") == 0)
        rc = vips_pngsave_buffer(t[6], &buf, &len, "compression", 1, NULL);
    else if (!rc)
        rc = vips_jpegsave_buffer(t[6], &buf, &len, "Q", 90, NULL);
    if (!rc)
        out = octstr_create_from_data(buf, len);
    g_free(buf);
    g_object_unref(base);
    return out;
}

/* A JPEG w x h (as stored) with an EXIF orientation tag. */
static Octstr *make_oriented_jpeg(int w, int h, int orientation)
{
    VipsImage *img = NULL, *cp = NULL;
    void *buf = NULL;
    size_t len = 0;
    Octstr *out = NULL;

    if (vips_black(&img, w, h, "bands", 3, NULL) == 0
        && vips_copy(img, &cp, "interpretation", VIPS_INTERPRETATION_sRGB,
                     NULL) == 0) {
        vips_image_set_int(cp, VIPS_META_ORIENTATION, orientation);
        if (vips_jpegsave_buffer(cp, &buf, &len, NULL) == 0)
            out = octstr_create_from_data(buf, len);
    }
    g_free(buf);
    if (cp != NULL)
        g_object_unref(cp);
    if (img != NULL)
        g_object_unref(img);
    return out;
}

/* A minimal GIF 1x1 (a spacer). */
static Octstr *spacer_gif(void)
{
    static const unsigned char gif[] = {
        'G', 'I', 'F', '8', '9', 'a', 1, 0, 1, 0, 0x80, 0, 0,
        0, 0, 0, 0xff, 0xff, 0xff, 0x21, 0xf9, 4, 1, 0, 0, 0, 0,
        0x2c, 0, 0, 0, 0, 1, 0, 1, 0, 0, 2, 2, 0x44, 1, 0, 0x3b
    };
    return octstr_create_from_data((const char *) gif, sizeof(gif));
}

static unsigned long crc32_of(const unsigned char *p, long n)
{
    unsigned long c = 0xffffffffUL;
    long i;
    int k;

    for (i = 0; i < n; i++) {
        c ^= p[i];
        for (k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xedb88320UL & (0UL - (c & 1)));
    }
    return c ^ 0xffffffffUL;
}

static void put32(unsigned char *p, unsigned long v)
{
    p[0] = v >> 24; p[1] = v >> 16; p[2] = v >> 8; p[3] = v;
}

/* A PNG whose header claims w x h (with a valid CRC) and a tiny IDAT:
 * a decompression bomb by its header. */
static Octstr *bomb_png(unsigned long w, unsigned long h)
{
    unsigned char b[8 + 25 + 12 + 12];
    long n = 0;

    memcpy(b, "\x89PNG\r\n\x1a\n", 8);
    n = 8;
    put32(b + n, 13);
    memcpy(b + n + 4, "IHDR", 4);
    put32(b + n + 8, w);
    put32(b + n + 12, h);
    b[n + 16] = 8; b[n + 17] = 2; b[n + 18] = 0; b[n + 19] = 0;
    b[n + 20] = 0;
    put32(b + n + 21, crc32_of(b + n + 4, 17));
    n += 25;
    put32(b + n, 0);
    memcpy(b + n + 4, "IDAT", 4);
    put32(b + n + 8, crc32_of(b + n + 4, 4));
    n += 12;
    put32(b + n, 0);
    memcpy(b + n + 4, "IEND", 4);
    put32(b + n + 8, crc32_of(b + n + 4, 4));
    n += 12;
    return octstr_create_from_data((const char *) b, n);
}

/* --- mails ------------------------------------------------------------ */

#define BND "=-test-boundary-42"

static Octstr *mail_start(const char *subject)
{
    return octstr_format("From: =?utf-8?q?J=C3=BCrgen_M=C3=BCller?= "
                         "<jm@example.org>\r\n"
                         "To: bob@example.com\r\n"
                         "Subject: %s\r\n"
                         "Date: Fri, 27 Nov 2026 14:02:00 +0100\r\n"
                         "Message-ID: <m1@example.org>\r\n"
                         "MIME-Version: 1.0\r\n"
                         "Content-Type: multipart/mixed; boundary=\""
                         BND "\"\r\n\r\n", subject);
}

static void mail_text(Octstr *m, const char *type, const char *text)
{
    octstr_format_append(m, "--" BND "\r\nContent-Type: %s; "
                         "charset=utf-8\r\nContent-Transfer-Encoding: "
                         "8bit\r\n\r\n%s\r\n", type, text);
}

static void mail_file(Octstr *m, const char *type, const char *name,
                      const Octstr *data, const char *disp)
{
    Octstr *b64 = octstr_duplicate(data);

    octstr_binary_to_base64(b64);
    octstr_format_append(m, "--" BND "\r\nContent-Type: %s; name=\"%s\""
                         "\r\nContent-Disposition: %s; filename=\"%s\""
                         "\r\nContent-Transfer-Encoding: base64\r\n\r\n%S"
                         "\r\n", type, name, disp, name, b64);
    octstr_destroy(b64);
}

static void mail_end(Octstr *m)
{
    octstr_append_cstr(m, "--" BND "--\r\n");
}

/* --- checking an MM ------------------------------------------------- */

typedef struct {
    int ok;                 /* structure checks passed */
    Octstr *text;           /* every text part, decoded, joined */
    long images, max_w, max_h, texts;
    List *image_bytes;      /* Octstr* decoded images */
} Parsed;

static void parsed_free(Parsed *p)
{
    octstr_destroy(p->text);
    gwlist_destroy(p->image_bytes, octstr_destroy_item);
}

static Octstr *part_data(GMimePart *part)
{
    GMimeStream *mem = g_mime_stream_mem_new();
    GByteArray *ba;
    Octstr *o;

    g_mime_data_wrapper_write_to_stream(g_mime_part_get_content(part), mem);
    ba = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
    o = octstr_create_from_data((const char *) ba->data, ba->len);
    g_object_unref(mem);
    return o;
}

/* 1 when no string in ids is a prefix of another (or equal). */
static int prefix_free(List *ids)
{
    long i, j;
    Octstr *a, *b;

    for (i = 0; i < gwlist_len(ids); i++)
        for (j = 0; j < gwlist_len(ids); j++) {
            a = gwlist_get(ids, i);
            b = gwlist_get(ids, j);
            if (i != j && octstr_len(a) <= octstr_len(b)
                && octstr_ncompare(a, b, octstr_len(a)) == 0)
                return 0;
        }
    return 1;
}

static long count_of(const Octstr *s, const char *what)
{
    long n = 0, at = 0;

    while ((at = octstr_search(s, octstr_imm(what), at)) >= 0) {
        n++;
        at++;
    }
    return n;
}

/* Check every par: at most one img and one text. */
static int pars_ok(const Octstr *smil)
{
    long at = 0, end;
    Octstr *par;
    int ok = 1;

    while ((at = octstr_search(smil, octstr_imm("<par"), at)) >= 0) {
        end = octstr_search(smil, octstr_imm("</par>"), at);
        if (end < 0)
            return 0;
        par = octstr_copy(smil, at, end - at);
        if (count_of(par, "<img") > 1 || count_of(par, "<text") > 1)
            ok = 0;
        octstr_destroy(par);
        at = end;
    }
    return ok;
}

static void dump(const ConvertMms *mm)
{
    FILE *f;

    if (getenv("TEST_MMS_DUMP") == NULL)
        return;
    f = fopen(getenv("TEST_MMS_DUMP"), "a");
    if (f == NULL)
        return;
    fprintf(f, "Content-Type: %s\r\n\r\n", octstr_get_cstr(mm->content_type));
    fwrite(octstr_get_cstr(mm->body), 1, octstr_len(mm->body), f);
    fclose(f);
}

static void parse_mm(const ConvertMms *mm, Parsed *p)
{
    Octstr *whole, *smil = NULL, *src, *d;
    GMimeStream *st;
    GMimeParser *parser;
    GMimeObject *top, *part;
    GMimeMultipart *mp;
    List *ids = gwlist_create(), *srcs = gwlist_create();
    const char *start, *cte_s, *id;
    long i, at, end;
    int n, ok = 1;

    dump(mm);
    memset(p, 0, sizeof(*p));
    p->text = octstr_create("");
    p->image_bytes = gwlist_create();
    whole = octstr_format("Content-Type: %S\r\n\r\n%S", mm->content_type,
                          mm->body);
    st = g_mime_stream_mem_new_with_buffer(octstr_get_cstr(whole),
                                           octstr_len(whole));
    parser = g_mime_parser_new_with_stream(st);
    top = g_mime_parser_construct_part(parser, NULL);
    g_object_unref(parser);
    g_object_unref(st);
    octstr_destroy(whole);
    if (top == NULL || !GMIME_IS_MULTIPART(top)
        || !g_mime_content_type_is_type(g_mime_object_get_content_type(top),
                                        "multipart", "related")) {
        fprintf(stderr, "MM is not multipart/related\n");
        if (top)
            g_object_unref(top);
        gwlist_destroy(ids, NULL);
        gwlist_destroy(srcs, NULL);
        return;
    }
    mp = GMIME_MULTIPART(top);
    n = g_mime_multipart_get_count(mp);
    ok &= n >= 2 && n == mm->parts;
    ok &= strcmp(g_mime_object_get_content_type_parameter(top, "type")
                 ?: "", "application/smil") == 0;
    start = g_mime_object_get_content_type_parameter(top, "start");
    for (i = 0; i < n; i++) {
        part = g_mime_multipart_get_part(mp, i);
        ok &= GMIME_IS_PART(part);
        if (!GMIME_IS_PART(part))
            continue;
        id = g_mime_object_get_content_id(part);
        ok &= id != NULL && *id != '\0';
        gwlist_append(ids, octstr_create(id ? id : ""));
        ok &= g_mime_part_get_content_location(GMIME_PART(part)) != NULL;
        cte_s = g_mime_object_get_header(part, "Content-Transfer-Encoding");
        ok &= cte_s != NULL && (strcasecmp(cte_s, "8bit") == 0
                                || strcasecmp(cte_s, "base64") == 0);
        d = part_data(GMIME_PART(part));
        if (i == 0) {
            /* the SMIL is first and is the start part */
            ok &= g_mime_content_type_is_type(
                      g_mime_object_get_content_type(part),
                      "application", "smil");
            ok &= start != NULL && id != NULL && strlen(start) > 2
                  && strncmp(start + 1, id, strlen(id)) == 0;
            smil = d;
            continue;
        }
        if (g_mime_content_type_is_type(g_mime_object_get_content_type(part),
                                        "text", "plain")) {
            ok &= strcasecmp(g_mime_object_get_content_type_parameter(part,
                             "charset") ?: "", "utf-8") == 0;
            octstr_append(p->text, d);
            octstr_append_char(p->text, '\n');
            p->texts++;
            octstr_destroy(d);
        } else if (g_mime_content_type_is_type(
                       g_mime_object_get_content_type(part), "image", "*")) {
            long w = 0, h = 0;
            ok &= convert_image_probe(d, NULL, &w, &h, NULL) == 0;
            if (w > p->max_w)
                p->max_w = w;
            if (h > p->max_h)
                p->max_h = h;
            p->images++;
            gwlist_append(p->image_bytes, d);
        } else {
            ok = 0;
            octstr_destroy(d);
        }
    }
    /* the SMIL: one root-layout, both regions, every src a part */
    ok &= smil != NULL;
    if (smil != NULL) {
        ok &= count_of(smil, "<root-layout") == 1;
        ok &= count_of(smil, "region id=\"Image\"") == 1;
        ok &= count_of(smil, "region id=\"Text\"") == 1;
        ok &= pars_ok(smil);
        at = 0;
        while ((at = octstr_search(smil, octstr_imm("src=\"cid:"), at))
               >= 0) {
            end = octstr_search_char(smil, '"', at + 9);
            src = octstr_copy(smil, at + 9, end - at - 9);
            gwlist_append(srcs, src);
            at = end;
        }
        ok &= gwlist_len(srcs) == n - 1;
        for (i = 0; i < gwlist_len(srcs); i++) {
            long j, found = 0;
            for (j = 1; j < gwlist_len(ids); j++)
                found += octstr_compare(gwlist_get(srcs, i),
                                        gwlist_get(ids, j)) == 0;
            ok &= found == 1;
        }
        octstr_destroy(smil);
    }
    ok &= prefix_free(ids);
    ok &= octstr_search(mm->body, octstr_imm("quoted-printable"), 0) < 0;
    ok &= mm->images == p->images;
    p->ok = ok;
    gwlist_destroy(ids, octstr_destroy_item);
    gwlist_destroy(srcs, octstr_destroy_item);
    g_object_unref(top);
}

static int has(const Octstr *s, const char *what)
{
    return octstr_search(s, octstr_imm(what), 0) >= 0;
}

static ConvertMmsOpts opts(long size)
{
    ConvertMmsOpts o;

    o.max_size = size;
    o.max_width = 640;
    o.max_height = 480;
    o.trim_quotes = 0;
    return o;
}

/* --- convert-image --------------------------------------------------- */

static void test_image(void)
{
    Octstr *in, *out = NULL, *err = NULL;
    const char *type;
    long w = 0, h = 0, w2 = 0, h2 = 0;
    VipsImage *img;

    test_begin("image fit: scale down a large JPEG, baseline");
    in = make_image(2000, 1500, 1, 0, "jpeg");
    test_assert(in != NULL);
    test_assert(convert_image_probe(in, &type, &w, &h, NULL) == 0);
    test_assert(w == 2000 && h == 1500 && strcmp(type, "image/jpeg") == 0);
    test_assert(convert_image_fit(in, 640, 480, 80, &out, &w, &h, &err)
                == 0);
    /* shrink-on-load may leave it up to 25% under the box */
    test_assert(err == NULL && w <= 640 && h <= 480 && w >= 480
                && w * 3 == h * 4);
    test_assert(convert_image_probe(out, &type, &w2, &h2, NULL) == 0
                && w2 == w && h2 == h && strcmp(type, "image/jpeg") == 0);
    /* baseline SOF0, no progressive SOF2 */
    test_assert(octstr_search(out, octstr_imm("\xff\xc0"), 0) > 0);
    test_assert(octstr_search(out, octstr_imm("\xff\xc2"), 0) < 0);
    octstr_destroy(out);
    octstr_destroy(in);
    test_end();

    test_begin("image fit: never enlarge, keep aspect (portrait)");
    in = make_image(100, 50, 1, 0, "png");
    test_assert(convert_image_fit(in, 640, 480, 80, &out, &w, &h, NULL)
                == 0 && w == 100 && h == 50);
    octstr_destroy(out);
    octstr_destroy(in);
    in = make_image(1000, 2000, 1, 0, "jpeg");
    test_assert(convert_image_fit(in, 640, 480, 50, &out, &w, &h, NULL)
                == 0 && w == 240 && h == 480);
    octstr_destroy(out);
    octstr_destroy(in);
    in = make_image(1500, 2000, 0, 0, "png");
    test_assert(convert_image_fit(in, 640, 480, 50, &out, &w, &h, NULL)
                == 0 && w == 360 && h == 480);
    octstr_destroy(out);
    octstr_destroy(in);
    test_end();

    test_begin("image fit: EXIF orientation applied");
    in = make_oriented_jpeg(800, 400, 6);   /* 90 degrees clockwise */
    test_assert(in != NULL && convert_image_probe(in, NULL, &w, &h, NULL) == 0
                && w == 800 && h == 400);
    test_assert(convert_image_fit(in, 640, 480, 80, &out, &w, &h, NULL)
                == 0 && h <= 480 && h >= 360 && h == 2 * w);
    octstr_destroy(out);
    octstr_destroy(in);
    test_end();

    test_begin("image fit: transparent PNG flattened onto white");
    in = make_image(800, 600, 1, 1, "png");
    test_assert(convert_image_fit(in, 640, 480, 90, &out, &w, &h, NULL)
                == 0 && w == 640 && h == 480);
    img = out ? vips_image_new_from_buffer(octstr_get_cstr(out),
                                           octstr_len(out), "", NULL)
              : NULL;
    test_assert(img != NULL && vips_image_get_bands(img) == 3);
    if (img != NULL) {
        double *v = NULL;
        int nv = 0;
        test_assert(vips_getpoint(img, &v, &nv, 10, 10, NULL) == 0
                    && nv == 3 && v[0] > 245 && v[1] > 245 && v[2] > 245);
        g_free(v);
        g_object_unref(img);
    }
    octstr_destroy(out);
    octstr_destroy(in);
    test_end();

    test_begin("image fit: refuse non-images, damaged and bombs");
    in = octstr_create("%PDF-1.4 not an image at all");
    test_assert(convert_image_fit(in, 640, 480, 80, &out, &w, &h, &err)
                == -1 && out == NULL && err != NULL);
    octstr_destroy(err);
    err = NULL;
    octstr_destroy(in);
    in = octstr_create("<svg xmlns=\"http://www.w3.org/2000/svg\"/>");
    test_assert(convert_image_fit(in, 640, 480, 80, &out, &w, &h, &err)
                == -1 && err != NULL);
    octstr_destroy(err);
    err = NULL;
    octstr_destroy(in);
    in = bomb_png(60000, 60000);
    test_assert(convert_image_probe(in, NULL, NULL, NULL, NULL) == -1);
    test_assert(convert_image_fit(in, 640, 480, 80, &out, &w, &h, &err)
                == -1 && err != NULL
                && has(err, "too large"));
    octstr_destroy(err);
    err = NULL;
    octstr_destroy(in);
    in = bomb_png(10000, 6000);     /* 60 MP, sides within limits */
    test_assert(convert_image_fit(in, 640, 480, 80, &out, &w, &h, &err)
                == -1 && err != NULL && has(err, "too large"));
    octstr_destroy(err);
    err = NULL;
    octstr_destroy(in);
    in = make_image(300, 200, 1, 0, "jpeg");
    octstr_truncate(in, 40);        /* header only, then nothing */
    test_assert(convert_image_fit(in, 640, 480, 80, &out, &w, &h, &err)
                == -1 && err != NULL);
    octstr_destroy(err);
    octstr_destroy(in);
    test_end();
}

/* --- convert-mms ----------------------------------------------------- */

static void test_text_mail(void)
{
    Octstr *raw, *err = NULL;
    ConvertMms *mm;
    ConvertMmsOpts o = opts(300 * 1024);
    Parsed p;

    test_begin("mms: UTF-8 text mail, header slide, no QP");
    raw = mail_start("=?utf-8?b?R3LDvMOfZSDigqw=?=");
    mail_text(raw, "text/plain", "Hallo Bob,\r\n\r\nviele Gr\xc3\xbc\xc3\x9f"
              "e \xe2\x82\xac 100.\r\n");
    mail_end(raw);
    mm = convert_mms_build(raw, 3, &o, &err);
    test_assert(mm != NULL && err == NULL);
    if (mm != NULL) {
        parse_mm(mm, &p);
        test_assert(p.ok);
        test_assert(octstr_len(mm->body) <= o.max_size);
        test_assert_str(octstr_get_cstr(mm->subject),
                        "Gr\xc3\xbc\xc3\x9f" "e \xe2\x82\xac");
        test_assert(has(p.text, "Mail 3 from J\xc3\xbcrgen M\xc3\xbcller"));
        test_assert(has(p.text, "<jm@example.org>"));
        test_assert(has(p.text, "Subject: Gr\xc3\xbc\xc3\x9f" "e "
                        "\xe2\x82\xac"));
        test_assert(has(p.text, "Date: 27 Nov 14:02"));
        test_assert(has(p.text, "viele Gr\xc3\xbc\xc3\x9f" "e \xe2\x82\xac"));
        test_assert(p.images == 0 && mm->images == 0);
        test_assert(has(mm->content_type, "multipart/related; "
                        "type=\"application/smil\"; start=\"<p000.n3@"));
        test_assert(has(mm->body, "Content-Transfer-Encoding: 8bit"));
        test_assert(has(mm->body, "Content-Location: "));
        parsed_free(&p);
    }
    convert_mms_destroy(mm);
    octstr_destroy(raw);
    test_end();

    test_begin("mms: HTML-only mail becomes readable text");
    raw = mail_start("html");
    mail_text(raw, "text/html", "<html><head><style>p{color:red}</style>"
              "</head><body><p>First &amp; <b>bold</b></p><ul><li>one</li>"
              "<li>two</li></ul></body></html>");
    mail_end(raw);
    mm = convert_mms_build(raw, 4, &o, NULL);
    test_assert(mm != NULL);
    if (mm != NULL) {
        parse_mm(mm, &p);
        test_assert(p.ok);
        test_assert(has(p.text, "First & bold"));
        test_assert(has(p.text, "- one"));
        test_assert(!has(p.text, "<p>") && !has(p.text, "color:red"));
        parsed_free(&p);
    }
    convert_mms_destroy(mm);
    octstr_destroy(raw);
    test_end();

    test_begin("mms: long text split into slides; long lines base64");
    {
        Octstr *body = octstr_create(""), *line = octstr_create("");
        long i;
        for (i = 0; i < 1500; i++)
            octstr_append_cstr(line, "\xc3\xa4 ");     /* 4.5 KB line */
        for (i = 0; i < 400; i++)
            octstr_format_append(body, "Line %ld of a long mail, "
                                 "Gr\xc3\xbc\xc3\x9f" "e.\r\n", i);
        octstr_append(body, line);
        raw = mail_start("long");
        mail_text(raw, "text/plain", octstr_get_cstr(body));
        mail_end(raw);
        mm = convert_mms_build(raw, 5, &o, NULL);
        test_assert(mm != NULL);
        if (mm != NULL) {
            parse_mm(mm, &p);
            test_assert(p.ok);
            test_assert(p.texts >= 1 + 16000 / CONVERT_MMS_SLIDE_TEXT);
            test_assert(has(p.text, "Line 0 of") && has(p.text, "Line 399"));
            test_assert(has(mm->body, "Content-Transfer-Encoding: base64"));
            parsed_free(&p);
        }
        convert_mms_destroy(mm);
        octstr_destroy(raw);
        /* the same at 30 KB: cut, marked, still fits */
        raw = mail_start("long");
        for (i = 0; i < 3; i++) {
            Octstr *copy = octstr_duplicate(body);
            octstr_append(body, copy);
            octstr_destroy(copy);
        }
        mail_text(raw, "text/plain", octstr_get_cstr(body));
        mail_end(raw);
        o = opts(30 * 1024);
        mm = convert_mms_build(raw, 5, &o, NULL);
        test_assert(mm != NULL && octstr_len(mm->body) <= 30 * 1024);
        if (mm != NULL) {
            parse_mm(mm, &p);
            test_assert(p.ok && has(p.text, "[truncated]"));
            test_assert(has(p.text, "Subject: long"));
            parsed_free(&p);
        }
        convert_mms_destroy(mm);
        octstr_destroy(raw);
        octstr_destroy(body);
        octstr_destroy(line);
    }
    test_end();
}

/* A mail with a text, two 2000x1500 noise photos, a PDF, a spacer. */
static Octstr *photo_mail(int kind)
{
    Octstr *raw = mail_start("Photos"), *img, *pdf;

    mail_text(raw, "text/plain", "See the photos. Gr\xc3\xbc\xc3\x9f" "e");
    img = make_image(2000, 1500, kind, 0, "jpeg");
    mail_file(raw, "image/jpeg", "beach.jpg", img, "attachment");
    octstr_destroy(img);
    img = make_image(1500, 2000, kind, 0, "png");
    mail_file(raw, "image/png", "tower.png", img, "inline");
    octstr_destroy(img);
    img = spacer_gif();
    mail_file(raw, "image/gif", "spacer.gif", img, "inline");
    octstr_destroy(img);
    pdf = octstr_create("%PDF-1.4\n% a small test document\n%%EOF\n");
    mail_file(raw, "application/pdf", "report.pdf", pdf, "attachment");
    octstr_destroy(pdf);
    mail_end(raw);
    return raw;
}

static void test_images(void)
{
    static const long limits[] = { 300 * 1024, 100 * 1024, 30 * 1024 };
    Octstr *raw, *err = NULL, *small;
    ConvertMms *mm;
    ConvertMmsOpts o;
    Parsed p;
    long i;

    raw = photo_mail(0);
    for (i = 0; i < 3; i++) {
        test_begin(i == 0 ? "mms: photos at 300 KB" : i == 1
                   ? "mms: photos at 100 KB" : "mms: photos at 30 KB");
        o = opts(limits[i]);
        mm = convert_mms_build(raw, 12, &o, &err);
        test_assert(mm != NULL && err == NULL);
        if (mm == NULL)
            continue;
        parse_mm(mm, &p);
        test_assert(p.ok);
        test_assert(octstr_len(mm->body) <= limits[i]);
        test_assert(p.max_w <= 640 && p.max_h <= 480);
        test_assert(mm->attachments_listed == 1);
        test_assert(has(p.text, "report.pdf (application/pdf"));
        test_assert(!has(mm->body, "Content-Type: application/pdf"));
        test_assert(!has(mm->body, "spacer"));      /* tiny: not shown */
        test_assert(!has(p.text, "spacer"));
        test_assert(mm->images + mm->images_dropped == 2);
        if (i == 0)
            test_assert(mm->images == 2 && p.max_w >= 480
                        && p.max_h >= 480);
        if (mm->images_dropped > 0)
            test_assert(has(p.text, "[image dropped: beach.jpg, too "
                            "large]") || has(p.text, "[image dropped: "
                            "tower.png, too large]"));
        if (mm->images > 0)
            test_assert(has(p.text, "beach.jpg") && has(p.text,
                                                         "tower.png"));
        parsed_free(&p);
        convert_mms_destroy(mm);
        test_end();
    }
    octstr_destroy(raw);

    test_begin("mms: tight limit drops images and names them");
    raw = photo_mail(0);
    o = opts(4 * 1024);
    mm = convert_mms_build(raw, 13, &o, NULL);
    test_assert(mm != NULL);
    if (mm != NULL) {
        parse_mm(mm, &p);
        test_assert(p.ok && octstr_len(mm->body) <= 4 * 1024);
        test_assert(mm->images_dropped >= 1);
        test_assert(has(p.text, "[image dropped: "));
        parsed_free(&p);
    }
    convert_mms_destroy(mm);
    octstr_destroy(raw);
    test_end();

    test_begin("mms: unnamed images get a Content-Location, no caption");
    raw = mail_start("unnamed");
    small = make_image(200, 100, 1, 0, "jpeg");
    {
        Octstr *b64 = octstr_duplicate(small);
        octstr_binary_to_base64(b64);
        octstr_format_append(raw, "--" BND "\r\nContent-Type: image/jpeg\r\n"
                             "Content-Transfer-Encoding: base64\r\n\r\n%S"
                             "\r\n--" BND "\r\nContent-Type: image/jpeg; "
                             "name=\"\xc3\xa9t\xc3\xa9.JPG\"\r\n"
                             "Content-Transfer-Encoding: base64\r\n\r\n%S"
                             "\r\n", b64, b64);
        octstr_destroy(b64);
    }
    mail_end(raw);
    o = opts(300 * 1024);
    mm = convert_mms_build(raw, 15, &o, NULL);
    test_assert(mm != NULL);
    if (mm != NULL) {
        parse_mm(mm, &p);
        test_assert(p.ok && p.images == 2);
        test_assert(has(mm->body, "Content-Location: image.jpg\r\n"));
        test_assert(has(mm->body, "Content-Location: t_.jpg\r\n"));
        test_assert(has(p.text, "\xc3\xa9t\xc3\xa9.JPG"));
        test_assert(p.texts == 2);      /* header and one caption */
        parsed_free(&p);
    }
    convert_mms_destroy(mm);
    octstr_destroy(raw);
    octstr_destroy(small);
    test_end();

    test_begin("mms: small image inside the box sent as it is");
    raw = mail_start("small");
    mail_text(raw, "text/plain", "logo");
    small = make_image(120, 90, 1, 0, "png");
    mail_file(raw, "image/png", "logo.png", small, "inline");
    mail_end(raw);
    o = opts(300 * 1024);
    mm = convert_mms_build(raw, 14, &o, NULL);
    test_assert(mm != NULL);
    if (mm != NULL) {
        parse_mm(mm, &p);
        test_assert(p.ok && p.images == 1);
        test_assert(gwlist_len(p.image_bytes) == 1
                    && octstr_compare(gwlist_get(p.image_bytes, 0),
                                      small) == 0);
        test_assert(has(mm->body, "Content-Type: image/png"));
        test_assert(has(mm->body, "Content-Location: logo.png"));
        parsed_free(&p);
    }
    convert_mms_destroy(mm);
    octstr_destroy(raw);
    octstr_destroy(small);
    test_end();
}

static void test_hostile(void)
{
    Octstr *raw, *err = NULL, *img;
    ConvertMms *mm;
    ConvertMmsOpts o = opts(100 * 1024);
    Parsed p;
    long i;

    test_begin("mms: bomb and broken images named, not sent");
    raw = mail_start("bombs");
    mail_text(raw, "text/plain", "hi");
    img = bomb_png(60000, 60000);
    mail_file(raw, "image/png", "bomb.png", img, "attachment");
    octstr_destroy(img);
    img = octstr_create("not really a jpeg");
    mail_file(raw, "image/jpeg", "fake.jpg", img, "attachment");
    octstr_destroy(img);
    mail_end(raw);
    mm = convert_mms_build(raw, 20, &o, &err);
    test_assert(mm != NULL);
    if (mm != NULL) {
        parse_mm(mm, &p);
        test_assert(p.ok && p.images == 0 && mm->images_dropped == 2);
        test_assert(has(p.text, "[image not sent: bomb.png"));
        test_assert(has(p.text, "[image not sent: fake.jpg"));
        parsed_free(&p);
    }
    convert_mms_destroy(mm);
    octstr_destroy(raw);
    test_end();

    test_begin("mms: many images and parts are bounded");
    raw = mail_start("many");
    img = make_image(64, 48, 1, 0, "jpeg");
    for (i = 0; i < 480; i++)
        mail_file(raw, "image/jpeg", "i.jpg", img, "inline");
    octstr_destroy(img);
    mail_end(raw);
    mm = convert_mms_build(raw, 21, &o, &err);
    test_assert(mm != NULL || err != NULL);
    if (mm != NULL) {
        parse_mm(mm, &p);
        test_assert(p.ok && p.images <= CONVERT_MMS_MAX_IMAGES);
        test_assert(has(p.text, "more images not sent"));
        /* twenty "i.jpg": each Content-Location unique */
        test_assert(has(mm->body, "Content-Location: i.jpg\r\n"));
        test_assert(has(mm->body, "Content-Location: 2-i.jpg\r\n"));
        test_assert(has(mm->body, "Content-Location: 20-i.jpg\r\n"));
        test_assert(octstr_len(mm->body) <= o.max_size);
        parsed_free(&p);
    }
    convert_mms_destroy(mm);
    octstr_destroy(err);
    err = NULL;
    octstr_destroy(raw);
    test_end();

    test_begin("mms: malformed input gives a result or an error");
    {
        static const char *bad[] = {
            "",
            "garbage without headers",
            "Subject: x\r\nContent-Type: multipart/mixed; boundary=\"b\""
            "\r\n\r\n--b\r\nContent-Type: image/jpeg\r\nContent-Transfer-"
            "Encoding: base64\r\n\r\n!!!!\r\n",
            "Subject: x\r\nContent-Type: multipart/related\r\n\r\nno parts",
            "Subject: x\r\nContent-Type: image/png\r\nContent-Transfer-"
            "Encoding: base64\r\n\r\niVBORw0KGgo=\r\n",
        };
        for (i = 0; i < (long) (sizeof(bad) / sizeof(bad[0])); i++) {
            raw = octstr_create(bad[i]);
            mm = convert_mms_build(raw, 22, &o, &err);
            test_assert((mm != NULL) != (err != NULL));
            if (mm != NULL) {
                parse_mm(mm, &p);
                test_assert(p.ok);
                parsed_free(&p);
            }
            convert_mms_destroy(mm);
            octstr_destroy(err);
            err = NULL;
            octstr_destroy(raw);
        }
    }
    o = opts(100);
    raw = mail_start("x");
    mail_end(raw);
    test_assert(convert_mms_build(raw, 1, &o, &err) == NULL && err != NULL);
    octstr_destroy(err);
    octstr_destroy(raw);
    test_end();
}

/* --- the mails in tests/data/mms ------------------------------------ */

static Octstr *data_dir;

static void find_data_dir(void)
{
    const char *sd = getenv("srcdir");
    Octstr *f;
    long p;

    if (sd != NULL) {
        data_dir = octstr_format("%s/tests/data/mms", sd);
        f = octstr_format("%S/html-related.eml", data_dir);
        if (access(octstr_get_cstr(f), R_OK) == 0) {
            octstr_destroy(f);
            return;
        }
        octstr_destroy(f);
        octstr_destroy(data_dir);
    }
    data_dir = octstr_create(__FILE__);
    p = octstr_search(data_dir, octstr_imm("unit/test-convert-mms.c"), 0);
    octstr_truncate(data_dir, p >= 0 ? p : 0);
    octstr_append_cstr(data_dir, "data/mms");
}

static Octstr *read_data(const char *name)
{
    Octstr *path = octstr_format("%S/%s", data_dir, name);
    Octstr *raw = octstr_read_file(octstr_get_cstr(path));

    if (raw == NULL)
        fprintf(stderr, "cannot read %s\n", octstr_get_cstr(path));
    octstr_destroy(path);
    return raw;
}

/* Convert a data file; NULL (and a failed assertion) when impossible. */
static ConvertMms *convert_file(const char *name, long size, Parsed *p)
{
    Octstr *raw = read_data(name), *err = NULL;
    ConvertMmsOpts o = opts(size);
    ConvertMms *mm = NULL;

    test_assert(raw != NULL);
    if (raw != NULL)
        mm = convert_mms_build(raw, 9, &o, &err);
    test_assert(mm != NULL && err == NULL);
    octstr_destroy(err);
    octstr_destroy(raw);
    if (mm != NULL) {
        parse_mm(mm, p);
        test_assert(p->ok);
        test_assert(octstr_len(mm->body) <= size);
        test_assert(p->max_w <= 640 && p->max_h <= 480);
    }
    return mm;
}

static void test_files(void)
{
    ConvertMms *mm;
    Parsed p;

    test_begin("data: HTML with inline logo, photo and PDF");
    mm = convert_file("html-related.eml", 300 * 1024, &p);
    if (mm != NULL) {
        test_assert_str(octstr_get_cstr(mm->subject),
                        "Gr\xc3\xbc\xc3\x9f" "e \xe2\x82\xac photos");
        test_assert(has(p.text, "Hallo Bob, Gr\xc3\xbc\xc3\x9f" "e "
                        "\xe2\x82\xac"));
        test_assert(mm->images == 2 && p.images == 2);
        /* both are inside the box and clean: sent as they are */
        test_assert(has(mm->body, "Content-Type: image/png"));
        test_assert(has(mm->body, "Content-Location: logo.png"));
        test_assert(has(mm->body, "Content-Location: beach.jpg"));
        test_assert(mm->attachments_listed == 1
                    && has(p.text, "- report.pdf (application/pdf, "));
        test_assert(!has(mm->body, "Content-Type: application/pdf"));
        parsed_free(&p);
    }
    convert_mms_destroy(mm);
    test_end();

    test_begin("data: HTML-only newsletter");
    mm = convert_file("html-only.eml", 30 * 1024, &p);
    if (mm != NULL) {
        test_assert(has(p.text, "News") && has(p.text, "Gr\xc3\xbc\xc3\x9f"
                                                "e & more"));
        test_assert(!has(p.text, "<h1>") && !has(p.text, "<li>")
                    && !has(p.text, "color:red"));
        test_assert(mm->images == 0 && mm->images_dropped == 0);
        parsed_free(&p);
    }
    convert_mms_destroy(mm);
    test_end();

    test_begin("data: GIF kept, WebP converted, spacer ignored");
    mm = convert_file("gif-webp.eml", 300 * 1024, &p);
    if (mm != NULL) {
        test_assert(mm->images == 2 && mm->images_dropped == 0);
        test_assert(has(mm->body, "Content-Type: image/gif"));
        test_assert(has(mm->body, "Content-Location: wide.jpg"));
        test_assert(!has(mm->body, "spacer") && !has(p.text, "spacer"));
        parsed_free(&p);
    }
    convert_mms_destroy(mm);
    test_end();

    test_begin("data: bombs, fakes, SVG named; a cut JPEG re-encoded");
    mm = convert_file("bad-images.eml", 100 * 1024, &p);
    if (mm != NULL) {
        test_assert(has(p.text, "[image not sent: bomb.png, image "
                        "dimensions too large]"));
        test_assert(has(p.text, "[image not sent: bomb2.png, image "
                        "dimensions too large]"));
        test_assert(has(p.text, "[image not sent: fake.jpg, not a "
                        "supported image format]"));
        test_assert(has(p.text, "[image not sent: x.svg, not a "
                        "supported image format]"));
        test_assert(!has(mm->body, "<svg"));
        /* the truncated JPEG is never passed on as it is */
        test_assert(mm->images == 1 && has(mm->body, "Content-Location: "
                                           "cut.jpg"));
        test_assert(gwlist_len(p.image_bytes) == 1
                    && convert_image_verify(gwlist_get(p.image_bytes, 0))
                       == 0);
        test_assert(mm->images_dropped == 4);
        parsed_free(&p);
    }
    convert_mms_destroy(mm);
    test_end();

    test_begin("data: 300 attachments listed up to the limit");
    mm = convert_file("many-parts.eml", 30 * 1024, &p);
    if (mm != NULL) {
        test_assert(mm->attachments_listed == CONVERT_MAX_ATTACH);
        test_assert(has(p.text, "- n0.txt (text/plain, "));
        test_assert(has(p.text, "- and 250 more"));
        parsed_free(&p);
    }
    convert_mms_destroy(mm);
    test_end();

    test_begin("data: 1 MB mail with two photos at 300 and 100 KB");
    mm = convert_file("photos-1mb.eml", 300 * 1024, &p);
    if (mm != NULL) {
        test_assert(mm->images == 2 && p.max_w >= 480);
        parsed_free(&p);
    }
    convert_mms_destroy(mm);
    mm = convert_file("photos-1mb.eml", 100 * 1024, &p);
    if (mm != NULL) {
        test_assert(mm->images == 2);
        parsed_free(&p);
    }
    convert_mms_destroy(mm);
    test_end();
}

/* --- threads ---------------------------------------------------------- */

typedef struct {
    Octstr *raw;
    long ok;
} ThreadJob;

static void thread_run(void *arg)
{
    ThreadJob *j = arg;
    ConvertMmsOpts o = opts(100 * 1024);
    ConvertMms *mm;
    long i;

    for (i = 0; i < 3; i++) {
        mm = convert_mms_build(j->raw, i, &o, NULL);
        if (mm != NULL && mm->images == 2 && octstr_len(mm->body)
                                             <= o.max_size)
            j->ok++;
        convert_mms_destroy(mm);
    }
}

static void test_threads(void)
{
    ThreadJob jobs[3];
    long ids[3], i;
    Octstr *raw = read_data("html-related.eml");

    test_begin("threads: parallel conversions");
    test_assert(raw != NULL);
    for (i = 0; i < 3 && raw != NULL; i++) {
        jobs[i].raw = raw;
        jobs[i].ok = 0;
        ids[i] = gwthread_create(thread_run, &jobs[i]);
        test_assert(ids[i] >= 0);
    }
    for (i = 0; i < 3 && raw != NULL; i++) {
        gwthread_join(ids[i]);
        test_assert(jobs[i].ok == 3);
    }
    octstr_destroy(raw);
    test_end();
}

int main(void)
{
    /* tests/run uses valgrind, which cannot follow liborc's generated
     * code (libvips then uses its plain C paths) and reports false
     * "uninitialised" errors in libjpeg-turbo's SIMD code */
    setenv("VIPS_NOVECTOR", "1", 0);
    setenv("JSIMD_FORCENONE", "1", 0);
    gwlib_init();
    log_set_output_level(getenv("TEST_DEBUG") ? GW_DEBUG : GW_WARNING);
    convert_init();
    convert_image_init();
    test_image();
    test_text_mail();
    test_images();
    test_hostile();
    find_data_dir();
    test_files();
    test_threads();
    octstr_destroy(data_dir);
    convert_image_deinit();
    convert_deinit();
    gwlib_shutdown();
    return test_exit();
}
