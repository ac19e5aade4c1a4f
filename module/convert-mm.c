/*
 * convert-mm.c - take an MM (MMS content from a phone) apart for mail:
 * its text parts as one UTF-8 text, its media as attachments (GMime 3).
 *
 * Exports: convert_mm_parse(), convert_mm_destroy() (see convert-mo.h).
 *
 * A bounded walk over GMime's tree: depth CONVERT_MO_MAX_DEPTH and
 * CONVERT_MO_MAX_PARTS parts; before GMime parses, an MM naming
 * "multipart/" more than CONVERT_MO_MAX_PARTS times is refused, which
 * bounds GMime's own recursion.  SMIL is dropped; multipart/alternative
 * shows its text/plain part; text that an MMSC left quoted-printable
 * without saying so is decoded (see qp_undo).
 *
 * Limits: see convert-mo.h.  Logs: nothing.  Threads: thread-safe after
 * convert_init() (GMime objects are per call).
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include <gmime/gmime.h>

#include "convert-mo.h"
#include "convert-text.h"

#define NAME_MAX_BYTES 100

static void set_err(Octstr **err_r, Octstr *why)
{
    if (err_r != NULL)
        *err_r = why;
    else
        octstr_destroy(why);
}

typedef struct {
    ConvertMm *m;
    long parts;
} MmWalk;

static int is_type(GMimeObject *obj, const char *type, const char *sub)
{
    return g_mime_content_type_is_type(g_mime_object_get_content_type(obj),
                                       type, sub);
}

/* The decoded content of a part (transfer encoding undone). */
static Octstr *part_data(GMimePart *part)
{
    GMimeDataWrapper *dw = g_mime_part_get_content(part);
    GMimeStream *mem;
    GByteArray *ba;
    Octstr *d;

    if (dw == NULL)
        return octstr_create("");
    mem = g_mime_stream_mem_new();
    g_mime_data_wrapper_write_to_stream(dw, mem);
    ba = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
    d = octstr_create_from_data((const char *) ba->data, ba->len);
    g_object_unref(mem);
    return d;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/*
 * Text an MMSC copied quoted-printable but without its transfer
 * encoding: decoded when every '=' starts a valid escape or a soft line
 * break and at least one escape gives a byte >= 0x80 (or a soft break
 * exists); else NULL (the text is taken as it is).
 */
static Octstr *qp_undo(const Octstr *t)
{
    Octstr *out = octstr_create("");
    long i, j, len = octstr_len(t);
    int high = 0, soft = 0;

    for (i = 0; i < len; i++) {
        int c = octstr_get_char(t, i);

        if (c != '=') {
            octstr_append_char(out, c);
            continue;
        }
        if (i + 2 < len && hexval(octstr_get_char(t, i + 1)) >= 0 &&
            hexval(octstr_get_char(t, i + 2)) >= 0) {
            int b = hexval(octstr_get_char(t, i + 1)) * 16 +
                    hexval(octstr_get_char(t, i + 2));
            high |= b >= 0x80;
            octstr_append_char(out, b);
            i += 2;
            continue;
        }
        /* soft line break: '=' [spaces] CRLF|LF */
        for (j = i + 1; j < len && (octstr_get_char(t, j) == ' ' ||
                                    octstr_get_char(t, j) == '\t'); j++)
            ;
        if (j < len && octstr_get_char(t, j) == '\r')
            j++;
        if (j < len && octstr_get_char(t, j) == '\n') {
            soft = 1;
            i = j;
            continue;
        }
        if (j >= len) {
            soft = 1;          /* a soft break at the very end */
            break;
        }
        octstr_destroy(out);
        return NULL;
    }
    if (!high && !soft) {
        octstr_destroy(out);
        return NULL;
    }
    return out;
}

/* Charsets named by number (WSP MIBenum) in some MMS gateways. */
static const char *charset_name(const char *cs)
{
    static const struct { const char *mib, *name; } mibs[] = {
        { "3", "US-ASCII" }, { "4", "ISO-8859-1" }, { "106", "UTF-8" },
        { "1000", "UCS-2" }, { "1015", "UTF-16" }, { "2026", "Big5" },
        { "17", "Shift_JIS" }, { "2252", "windows-1252" }
    };
    size_t i;

    if (cs == NULL)
        return NULL;
    for (i = 0; i < sizeof(mibs) / sizeof(mibs[0]); i++)
        if (strcmp(cs, mibs[i].mib) == 0)
            return mibs[i].name;
    return cs;
}

static void text_append(ConvertMm *m, Octstr *t)
{
    Octstr *tidy = convert_text_tidy(t);

    if (octstr_len(tidy) > 0) {
        if (octstr_len(m->text) > 0)
            octstr_append_cstr(m->text, "\n\n");
        octstr_append(m->text, tidy);
        convert_cut_utf8(m->text, CONVERT_MAX_BODY);
    }
    octstr_destroy(tidy);
}

static void mm_text(ConvertMm *m, GMimePart *part, int html)
{
    GMimeObject *obj = GMIME_OBJECT(part);
    GMimeContentEncoding enc = g_mime_part_get_content_encoding(part);
    Octstr *raw = part_data(part), *qp = NULL, *text, *h;
    const char *cs = charset_name(
        g_mime_object_get_content_type_parameter(obj, "charset"));

    if (enc == GMIME_CONTENT_ENCODING_DEFAULT ||
        enc == GMIME_CONTENT_ENCODING_7BIT ||
        enc == GMIME_CONTENT_ENCODING_8BIT)
        qp = qp_undo(raw);
    if (qp != NULL) {
        octstr_destroy(raw);
        raw = qp;
    }
    text = convert_to_utf8(octstr_get_cstr(raw), octstr_len(raw), cs);
    octstr_destroy(raw);
    if (html) {
        h = convert_html_to_text(text);
        octstr_destroy(text);
        text = h;
    }
    text_append(m, text);
    octstr_destroy(text);
}

static const char *type_ext(const char *mime)
{
    static const struct { const char *type, *ext; } exts[] = {
        { "image/jpeg", "jpg" }, { "image/jpg", "jpg" },
        { "image/gif", "gif" }, { "image/png", "png" },
        { "image/bmp", "bmp" }, { "image/vnd.wap.wbmp", "wbmp" },
        { "image/webp", "webp" }, { "audio/amr", "amr" },
        { "audio/mpeg", "mp3" }, { "audio/mp4", "m4a" },
        { "audio/midi", "mid" }, { "audio/wav", "wav" },
        { "video/3gpp", "3gp" }, { "video/mp4", "mp4" },
        { "text/x-vcard", "vcf" }, { "text/vcard", "vcf" },
        { "text/x-vcalendar", "vcs" }, { "text/calendar", "ics" },
        { "message/rfc822", "eml" }
    };
    size_t i;

    for (i = 0; i < sizeof(exts) / sizeof(exts[0]); i++)
        if (strcmp(mime, exts[i].type) == 0)
            return exts[i].ext;
    return "bin";
}

/* A safe file name from a header value: decoded, last path component,
 * no control characters or leading dots, at most NAME_MAX_BYTES. */
static Octstr *clean_name(const char *v)
{
    Octstr *raw, *n;
    long i, cut;

    if (v == NULL)
        return NULL;
    raw = octstr_create(v);
    n = convert_header_decode(raw);
    octstr_destroy(raw);
    octstr_strip_blanks(n);
    if (octstr_len(n) > 0 && octstr_get_char(n, 0) == '<' &&
        octstr_get_char(n, octstr_len(n) - 1) == '>') {
        octstr_delete(n, octstr_len(n) - 1, 1);
        octstr_delete(n, 0, 1);
    }
    cut = -1;
    for (i = 0; i < octstr_len(n); i++) {
        int c = octstr_get_char(n, i);
        if (c == '/' || c == '\\' || c == ':')
            cut = i;
        else if (c < 0x20 || c == 0x7f || c == '"')
            octstr_set_char(n, i, '_');
    }
    if (cut >= 0)
        octstr_delete(n, 0, cut + 1);
    while (octstr_len(n) > 0 && (octstr_get_char(n, 0) == '.' ||
                                 octstr_get_char(n, 0) == ' '))
        octstr_delete(n, 0, 1);
    convert_cut_utf8(n, NAME_MAX_BYTES);
    octstr_strip_blanks(n);
    if (octstr_len(n) == 0) {
        octstr_destroy(n);
        return NULL;
    }
    return n;
}

static Octstr *part_name(GMimeObject *obj, const char *mime, long index)
{
    Octstr *n = NULL;

    if (GMIME_IS_PART(obj))
        n = clean_name(g_mime_part_get_filename(GMIME_PART(obj)));
    if (n == NULL)
        n = clean_name(g_mime_object_get_header(obj, "Content-Location"));
    if (n == NULL)
        n = clean_name(g_mime_object_get_header(obj, "Content-ID"));
    if (n == NULL)
        return octstr_format("part%ld.%s", index, type_ext(mime));
    if (octstr_search_char(n, '.', 0) < 0 &&
        strcmp(type_ext(mime), "bin") != 0)
        octstr_format_append(n, ".%s", type_ext(mime));
    return n;
}

/* Lower-case type/subtype of obj, application/octet-stream if odd. */
static Octstr *mime_type(GMimeObject *obj)
{
    char *mt = g_mime_content_type_get_mime_type(
                   g_mime_object_get_content_type(obj));
    Octstr *t = octstr_create(mt ? mt : "");
    long i, slash = -1;

    g_free(mt);
    octstr_convert_range(t, 0, octstr_len(t), tolower);
    for (i = 0; i < octstr_len(t); i++) {
        int c = octstr_get_char(t, i);
        if (c == '/' && slash < 0)
            slash = i;
        else if (!(isalnum(c) || strchr("!#$&^_.+-", c) != NULL))
            break;
    }
    if (i < octstr_len(t) || slash <= 0 || slash == octstr_len(t) - 1 ||
        octstr_len(t) > 100) {
        octstr_destroy(t);
        t = octstr_create("application/octet-stream");
    }
    return t;
}

static void mm_attach(MmWalk *w, GMimeObject *obj, Octstr *data)
{
    ConvertMoPart *p = gw_malloc(sizeof(*p));

    p->type = mime_type(obj);
    p->name = part_name(obj, octstr_get_cstr(p->type),
                        gwlist_len(w->m->parts) + 1);
    p->data = data;
    gwlist_append(w->m->parts, p);
}

static void mm_walk(MmWalk *w, GMimeObject *obj, int depth);

static void mm_multipart(MmWalk *w, GMimeMultipart *mp, int depth)
{
    GMimeObject *c, *pick = NULL;
    int i, n = g_mime_multipart_get_count(mp);

    if (n == 0) {
        w->m->dropped++;        /* no boundary found: nothing usable */
        return;
    }
    if (is_type(GMIME_OBJECT(mp), "multipart", "alternative")) {
        for (i = 0; i < n && pick == NULL; i++) {
            c = g_mime_multipart_get_part(mp, i);
            if (is_type(c, "text", "plain"))
                pick = c;
        }
        w->m->dropped += n - 1;
        mm_walk(w, pick ? pick : g_mime_multipart_get_part(mp, 0),
                depth + 1);
        return;
    }
    for (i = 0; i < n; i++)
        mm_walk(w, g_mime_multipart_get_part(mp, i), depth + 1);
}

static void mm_walk(MmWalk *w, GMimeObject *obj, int depth)
{
    GMimeStream *mem;
    GByteArray *ba;

    if (obj == NULL)
        return;
    if (depth > CONVERT_MO_MAX_DEPTH || ++w->parts > CONVERT_MO_MAX_PARTS) {
        w->m->dropped++;
        return;
    }
    if (GMIME_IS_MULTIPART(obj)) {
        mm_multipart(w, GMIME_MULTIPART(obj), depth);
    } else if (GMIME_IS_MESSAGE_PART(obj)) {
        GMimeMessage *inner = g_mime_message_part_get_message(
                                  GMIME_MESSAGE_PART(obj));
        if (inner == NULL) {
            w->m->dropped++;
            return;
        }
        mem = g_mime_stream_mem_new();
        g_mime_object_write_to_stream(GMIME_OBJECT(inner), NULL, mem);
        ba = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
        mm_attach(w, obj, octstr_create_from_data((const char *) ba->data,
                                                  ba->len));
        g_object_unref(mem);
    } else if (GMIME_IS_PART(obj)) {
        if (is_type(obj, "application", "smil"))
            w->m->dropped++;
        else if (is_type(obj, "text", "plain"))
            mm_text(w->m, GMIME_PART(obj), 0);
        else if (is_type(obj, "text", "html"))
            mm_text(w->m, GMIME_PART(obj), 1);
        else
            mm_attach(w, obj, part_data(GMIME_PART(obj)));
    } else {
        w->m->dropped++;
    }
}

static long multipart_words(const Octstr *s)
{
    const char *p = octstr_get_cstr(s);
    long i, n = 0, len = octstr_len(s);

    for (i = 0; i + 10 <= len; i++)
        if ((p[i] | 0x20) == 'm' && strncasecmp(p + i, "multipart/", 10) == 0)
            n++;
    return n;
}

ConvertMm *convert_mm_parse(const Octstr *content_type, const Octstr *body,
                            Octstr **err_r)
{
    GMimeParserOptions *o;
    GMimeStream *stream;
    GMimeParser *parser;
    GMimeObject *top;
    Octstr *entity, *ct;
    ConvertMm *m;
    MmWalk w;
    long i;

    if (err_r != NULL)
        *err_r = NULL;
    if (body != NULL && octstr_len(body) > CONVERT_MO_MAX_MM) {
        set_err(err_r, octstr_create("the message is too large"));
        return NULL;
    }
    ct = octstr_create(content_type != NULL && octstr_len(content_type) > 0
                       ? octstr_get_cstr(content_type)
                       : "text/plain; charset=utf-8");
    for (i = 0; i < octstr_len(ct); i++)
        if (octstr_get_char(ct, i) == '\r' || octstr_get_char(ct, i) == '\n')
            octstr_set_char(ct, i, ' ');
    if (multipart_words(ct) + (body ? multipart_words(body) : 0) >
        CONVERT_MO_MAX_PARTS) {
        octstr_destroy(ct);
        set_err(err_r, octstr_create("the message has too many parts"));
        return NULL;
    }
    entity = octstr_format("Content-Type: %S\r\n\r\n", ct);
    octstr_destroy(ct);
    if (body != NULL)
        octstr_append(entity, body);

    o = g_mime_parser_options_new();
    g_mime_parser_options_set_rfc2047_compliance_mode(o,
        GMIME_RFC_COMPLIANCE_LOOSE);
    g_mime_parser_options_set_parameter_compliance_mode(o,
        GMIME_RFC_COMPLIANCE_LOOSE);
    stream = g_mime_stream_mem_new_with_buffer(octstr_get_cstr(entity),
                                               octstr_len(entity));
    parser = g_mime_parser_new_with_stream(stream);
    g_object_unref(stream);
    top = g_mime_parser_construct_part(parser, o);
    g_object_unref(parser);
    octstr_destroy(entity);
    if (top == NULL) {
        g_mime_parser_options_free(o);
        set_err(err_r, octstr_create("the message is not MIME"));
        return NULL;
    }
    m = gw_malloc(sizeof(*m));
    m->text = octstr_create("");
    m->parts = gwlist_create();
    m->dropped = 0;
    w.m = m;
    w.parts = 0;
    mm_walk(&w, top, 0);
    g_object_unref(top);
    g_mime_parser_options_free(o);
    return m;
}

static void part_destroy(void *p)
{
    ConvertMoPart *x = p;

    if (x == NULL)
        return;
    octstr_destroy(x->name);
    octstr_destroy(x->type);
    octstr_destroy(x->data);
    gw_free(x);
}

void convert_mm_destroy(ConvertMm *m)
{
    if (m == NULL)
        return;
    octstr_destroy(m->text);
    gwlist_destroy(m->parts, part_destroy);
    gw_free(m);
}
