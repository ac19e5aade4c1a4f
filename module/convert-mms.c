/*
 * convert-mms.c - a mail as a multimedia message (MM): SMIL, UTF-8
 * text slides and image slides in a multipart/related, fitted to the
 * MMSC's size and image limits.
 *
 * Exports: convert_mms_build, convert_mms_destroy (convert-mms.h).
 *
 * How: convert_mail_parse (convert-text.c) gives the header lines, the
 * readable body and the attachment lines; a second GMime parse of the
 * same mail finds the image parts (anywhere but inside attached
 * messages), which convert-image.c probes, scales and re-encodes.
 * Image lines are taken out of the attachment list: each image is
 * either sent, or named in the last text slide as dropped or not sent.
 * Fitting: first the text alone, with every image named as dropped,
 * is cut until it fits (body first, then the notes, then the header);
 * so the loop below always ends with an MM that fits.  Then the images
 * go down a ladder of JPEG qualities and scales, and after the last
 * rung the largest image is dropped until the MM fits.  Each attempt
 * serialises the MM with GMime and measures the real byte count.  (If
 * images fail to decode late, their longer "not sent" notes may need
 * one more text cut: convert_mms_build checks the final size again.)
 *
 * Limits: convert-mms.h and convert-text.h; CID numbers have 3 digits,
 * and MAX_SLIDES keeps the part count below 1000.
 *
 * Logs: debug under "convert.mms": sizes, counts, quality reached.
 * Never mail content or names.
 *
 * Threads: every GMime and libvips object is local to one call.
 */
#include <string.h>
#include <strings.h>

#include <gmime/gmime.h>

#include "convert-mms.h"
#include "convert-image.h"
#include "convert-text.h"
#include "convert-private.h"

#define MAX_SLIDES      300     /* text and image slides (parts < 1000) */
#define HEADER_MAX      800     /* bytes of slide 1 */
#define SHOWN_NAME_MAX  60      /* bytes of a shown file name */
#define LOC_MAX         40      /* bytes of a Content-Location */
#define TINY_SIDE       48      /* both sides below: icon, spacer */
#define THIN_SIDE       8       /* either side below: rule, pixel */
#define TEXT_ATTEMPTS   12
#define TRUNC_MARK      "\n[truncated]"

enum { IMG_SEND, IMG_DROPPED, IMG_FAILED, IMG_TINY };

/* JPEG quality first, then size (of the image already fitted to the
 * box); rung 0 keeps small clean JPEG/GIF/PNG as they are */
static const struct { int quality; double scale; } ladder[] = {
    { 80, 1.0 }, { 65, 1.0 }, { 50, 1.0 }, { 35, 1.0 }, { 25, 1.0 },
    { 25, 0.75 }, { 25, 0.5 }, { 25, 0.35 }
};
#define LADDER_LEN ((long) (sizeof(ladder) / sizeof(ladder[0])))

typedef struct {
    Octstr *name;       /* shown name (UTF-8) or NULL when unnamed */
    Octstr *loc;        /* Content-Location, ASCII, unique */
    Octstr *data;       /* original bytes, while still needed */
    const char *type;   /* sniffed MIME type of data */
    int keep_ok;        /* data may be sent as it is */
    ConvertImage *ci;   /* decoded, scaled to the box; loaded lazily */
    Octstr *out;        /* bytes sent now (may be data) */
    const char *out_type;
    int state;
    const char *why;    /* IMG_FAILED: static reason */
} Img;

typedef struct {
    const ConvertMmsOpts *o;
    long n;
    long max_w, max_h;
    ConvertMail *cm;
    Octstr *header;     /* slide 1 */
    Octstr *body;       /* body text, cut to fit */
    Octstr *listed;     /* "Attachments not sent" lines, or "" */
    long listed_count;
    Octstr *notes_cut;  /* notes after a cut, or NULL while whole */
    List *imgs;         /* Img*, mail order */
    long images_over;   /* image parts beyond CONVERT_MMS_MAX_IMAGES */
    long image_bytes;   /* image input read so far */
    long parts_seen;
    Octstr *boundary;
    long parts;         /* of the last serialisation */
} Build;

/* --- small text helpers -------------------------------------------- */

/* Remove `drop` bytes (at least) from the end and mark the cut. */
static void cut_marked(Octstr *t, long drop)
{
    long keep = octstr_len(t) - drop - (long) strlen(TRUNC_MARK);

    if (octstr_len(t) == 0)
        return;
    if (keep <= 0) {
        octstr_delete(t, 0, octstr_len(t));
        return;
    }
    convert_cut_utf8(t, keep);
    octstr_append_cstr(t, TRUNC_MARK);
}

/* Last position of c in t, or -1 (also for an empty t, where gwlib's
 * octstr_rsearch_char would panic on the start position). */
static long last_char(const Octstr *t, int c)
{
    if (octstr_len(t) == 0)
        return -1;
    return octstr_rsearch_char(t, c, octstr_len(t) - 1);
}

/* 1 when a line is too long for 8bit (RFC 5322: 998 octets). */
static int has_long_line(const Octstr *t)
{
    long i, run = 0;

    for (i = 0; i < octstr_len(t); i++) {
        if (octstr_get_char(t, i) == '\n')
            run = 0;
        else if (++run > 990)
            return 1;
    }
    return 0;
}

/* A file name made safe for Content-Location: [A-Za-z0-9._-], no
 * leading dot, at most LOC_MAX bytes, extension `ext` (with dot). */
static Octstr *safe_loc(const Octstr *name, const char *fallback,
                        const char *ext)
{
    Octstr *s = octstr_create("");
    long i, dot;
    int c;

    for (i = 0; name != NULL && i < octstr_len(name); i++) {
        c = octstr_get_char(name, i);
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
            || (c >= '0' && c <= '9') || c == '-' || c == '_'
            || (c == '.' && octstr_len(s) > 0))
            octstr_append_char(s, c);
        else if (c < 0x80 || (c & 0xC0) == 0xC0)
            octstr_append_char(s, '_');
    }
    dot = last_char(s, '.');
    if (dot >= 0)
        octstr_delete(s, dot, octstr_len(s) - dot);
    while (octstr_len(s) > 0 && octstr_get_char(s, 0) == '_')
        octstr_delete(s, 0, 1);
    if (octstr_len(s) == 0)
        octstr_append_cstr(s, fallback);
    convert_cut_utf8(s, LOC_MAX - (long) strlen(ext));
    octstr_append_cstr(s, ext);
    return s;
}

static const char *type_ext(const char *type)
{
    if (strcmp(type, "image/gif") == 0)
        return ".gif";
    if (strcmp(type, "image/png") == 0)
        return ".png";
    return ".jpg";
}

/* --- images -------------------------------------------------------- */

static void img_destroy(void *p)
{
    Img *im = p;

    if (im == NULL)
        return;
    if (im->out != im->data)
        octstr_destroy(im->out);
    octstr_destroy(im->data);
    octstr_destroy(im->name);
    octstr_destroy(im->loc);
    convert_image_destroy(im->ci);
    gw_free(im);
}

/* The decoded bytes of a part, or NULL (with *why_r) when too large. */
static Octstr *part_bytes(Build *b, GMimePart *part, const char **why_r)
{
    GMimeDataWrapper *dw = g_mime_part_get_content(part);
    GMimeStream *mem;
    GByteArray *ba;
    gint64 enc;
    Octstr *data;
    long room = CONVERT_MMS_MAX_IMAGE_BYTES - b->image_bytes;

    *why_r = "image too large";
    if (dw == NULL || g_mime_data_wrapper_get_stream(dw) == NULL) {
        *why_r = "empty image";
        return NULL;
    }
    /* encoded length first: base64 is 4/3 of the data, plus lines */
    enc = g_mime_stream_length(g_mime_data_wrapper_get_stream(dw));
    if (enc < 0 || enc / 2 > CONVERT_IMAGE_MAX_INPUT || enc / 2 > room)
        return NULL;
    mem = g_mime_stream_mem_new();
    g_mime_data_wrapper_write_to_stream(dw, mem);
    ba = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
    if ((long) ba->len > CONVERT_IMAGE_MAX_INPUT || (long) ba->len > room) {
        g_object_unref(mem);
        return NULL;
    }
    data = octstr_create_from_data((const char *) ba->data, ba->len);
    g_object_unref(mem);
    b->image_bytes += octstr_len(data);
    return data;
}

static Octstr *image_name(GMimePart *part)
{
    Octstr *raw, *name;
    const char *fn = g_mime_part_get_filename(part);
    long slash;

    if (fn == NULL || *fn == '\0')
        return NULL;
    raw = octstr_create(fn);
    name = convert_header_decode(raw);
    octstr_destroy(raw);
    slash = last_char(name, '/');
    if (slash < 0)
        slash = last_char(name, '\\');
    if (slash >= 0)
        octstr_delete(name, 0, slash + 1);
    convert_cut_utf8(name, SHOWN_NAME_MAX);
    if (octstr_len(name) == 0) {
        octstr_destroy(name);
        return NULL;
    }
    return name;
}

static void add_image(Build *b, GMimePart *part)
{
    Img *im;
    long w, h;

    if (gwlist_len(b->imgs) >= CONVERT_MMS_MAX_IMAGES) {
        b->images_over++;
        return;
    }
    im = gw_malloc(sizeof(*im));
    memset(im, 0, sizeof(*im));
    im->name = image_name(part);
    im->state = IMG_FAILED;
    gwlist_append(b->imgs, im);
    im->data = part_bytes(b, part, &im->why);
    if (im->data == NULL)
        return;
    if (convert_image_probe(im->data, &im->type, &w, &h, &im->why) != 0)
        return;
    if (w < THIN_SIDE || h < THIN_SIDE
        || (w < TINY_SIDE && h < TINY_SIDE)) {
        im->state = IMG_TINY;   /* icons, rules, tracking pixels: silent */
        return;
    }
    im->state = IMG_SEND;
    /* sent as it is only when it decodes cleanly: never pass damaged
     * bytes on to a phone's decoder */
    im->keep_ok = w <= b->max_w && h <= b->max_h
                  && (strcmp(im->type, "image/jpeg") == 0
                      || strcmp(im->type, "image/gif") == 0
                      || strcmp(im->type, "image/png") == 0)
                  && convert_image_verify(im->data) == 0;
}

static void find_images(Build *b, GMimeObject *obj, int depth)
{
    GMimeMultipart *mp;
    int i, n;

    if (obj == NULL || depth > CONVERT_MAX_DEPTH
        || ++b->parts_seen > CONVERT_MAX_PARTS)
        return;
    if (GMIME_IS_MULTIPART(obj)) {
        mp = GMIME_MULTIPART(obj);
        n = g_mime_multipart_get_count(mp);
        for (i = 0; i < n; i++)
            find_images(b, g_mime_multipart_get_part(mp, i), depth + 1);
    } else if (GMIME_IS_PART(obj)
               && g_mime_content_type_is_type(
                      g_mime_object_get_content_type(obj), "image", "*")) {
        add_image(b, GMIME_PART(obj));
    }
    /* message/rfc822 and others: listed by convert-text, not opened */
}

/* Give the image its bytes for ladder rung `r`: the original when it
 * may be kept and is not larger, else a JPEG.  0 ok, -1 failed. */
static int img_encode(Build *b, Img *im, long r)
{
    Octstr *jpeg = NULL, *err = NULL;

    if (r == 0 && im->keep_ok) {
        im->out = im->data;
        im->out_type = im->type;
        return 0;
    }
    if (im->ci == NULL) {
        im->ci = convert_image_load(im->data, b->max_w, b->max_h, &err);
        if (im->ci == NULL) {
            octstr_destroy(err);
            im->why = "damaged or unsupported image";
            return -1;
        }
        if (!im->keep_ok) {
            octstr_destroy(im->data);   /* not needed any more */
            im->data = NULL;
        }
    }
    if (convert_image_encode(im->ci, ladder[r].scale, ladder[r].quality,
                             &jpeg, NULL, NULL, &err) != 0) {
        octstr_destroy(err);
        im->why = "cannot encode image";
        return -1;
    }
    if (im->out != im->data)
        octstr_destroy(im->out);
    if (im->keep_ok && octstr_len(im->data) <= octstr_len(jpeg)) {
        octstr_destroy(jpeg);
        im->out = im->data;
        im->out_type = im->type;
    } else {
        im->out = jpeg;
        im->out_type = "image/jpeg";
    }
    return 0;
}

static void img_fail(Img *im)
{
    if (im->out != im->data)
        octstr_destroy(im->out);
    im->out = NULL;
    im->state = IMG_FAILED;
    convert_image_destroy(im->ci);
    im->ci = NULL;
}

static int loc_taken(const Build *b, long upto, const Octstr *loc)
{
    Img *other;
    long j;

    if (octstr_str_case_compare(loc, "mail.smil") == 0)
        return 1;
    for (j = 0; j < upto; j++) {
        other = gwlist_get(b->imgs, j);
        if (other->loc != NULL && octstr_case_compare(other->loc, loc) == 0)
            return 1;
    }
    return 0;
}

/* Content-Locations: from the names, unique within the MM ("2-x.jpg"
 * for a second "x.jpg"; at most i tries for image i). */
static void name_images(Build *b)
{
    Img *im;
    Octstr *base, *loc;
    long i, k;

    for (i = 0; i < gwlist_len(b->imgs); i++) {
        im = gwlist_get(b->imgs, i);
        octstr_destroy(im->loc);
        im->loc = NULL;
        if (im->state != IMG_SEND)
            continue;
        base = safe_loc(im->name, "image", type_ext(im->out_type));
        loc = octstr_duplicate(base);
        for (k = 2; loc_taken(b, i, loc); k++) {
            octstr_destroy(loc);
            loc = octstr_format("%ld-%S", k, base);
        }
        octstr_destroy(base);
        im->loc = loc;
    }
}

/* --- text ---------------------------------------------------------- */

static Octstr *header_text(const Build *b)
{
    const ConvertMail *m = b->cm;
    Octstr *t, *s;

    t = octstr_format("Mail %ld from %S", b->n, m->from);
    if (m->from_addr != NULL
        && octstr_case_compare(m->from_addr, m->from) != 0)
        octstr_format_append(t, " <%S>", m->from_addr);
    s = octstr_duplicate(m->subject);
    convert_cut_utf8(s, HEADER_MAX / 2);
    octstr_format_append(t, "\nSubject: %S",
                         octstr_len(s) > 0 ? s : octstr_imm("(no subject)"));
    if (m->date != NULL && octstr_len(m->date) > 0)
        octstr_format_append(t, "\nDate: %S", m->date);
    octstr_destroy(s);
    convert_cut_utf8(t, HEADER_MAX);
    return t;
}

/* The attachment lines of convert-text, without the images (ours). */
static void list_attachments(Build *b)
{
    Octstr *line;
    long i, open, comma;

    b->listed = octstr_create("");
    for (i = 0; i < gwlist_len(b->cm->attachments); i++) {
        line = gwlist_get(b->cm->attachments, i);
        /* "name (type, size)": the type follows the last " (" */
        open = -1;
        while ((comma = octstr_search(line, octstr_imm(" ("), open + 1)) >= 0)
            open = comma;
        if (open >= 0 && octstr_len(line) > open + 8
            && strncasecmp(octstr_get_cstr(line) + open + 2, "image/", 6)
               == 0)
            continue;
        if (octstr_ncompare(line, octstr_imm("and "), 4) == 0
            && octstr_get_char(line, octstr_len(line) - 1) != ')') {
            /* convert-text's "and N more": images may be among them */
            if (b->listed_count > 0)
                octstr_format_append(b->listed, "\n- %S", line);
            continue;
        }
        octstr_format_append(b->listed, "%s- %S",
                             octstr_len(b->listed) ? "\n" : "", line);
        b->listed_count++;
    }
}

/* The last slide: attachments not sent, images dropped or not sent. */
static Octstr *notes_text(const Build *b)
{
    Octstr *t = octstr_create("");
    Img *im;
    long i;

    if (b->notes_cut != NULL)
        return octstr_duplicate(b->notes_cut);
    if (octstr_len(b->listed) > 0)
        octstr_format_append(t, "Attachments not sent:\n%S", b->listed);
    for (i = 0; i < gwlist_len(b->imgs); i++) {
        im = gwlist_get(b->imgs, i);
        if (im->state == IMG_DROPPED)
            octstr_format_append(t, "%s[image dropped: %S, too large]",
                                 octstr_len(t) ? "\n" : "",
                                 im->name ? im->name
                                          : octstr_imm("unnamed"));
        else if (im->state == IMG_FAILED)
            octstr_format_append(t, "%s[image not sent: %S, %s]",
                                 octstr_len(t) ? "\n" : "",
                                 im->name ? im->name
                                          : octstr_imm("unnamed"),
                                 im->why ? im->why : "unusable");
    }
    if (b->images_over > 0)
        octstr_format_append(t, "%s[%ld more images not sent]",
                             octstr_len(t) ? "\n" : "", b->images_over);
    return t;
}

/* Split at most CONVERT_MMS_SLIDE_TEXT bytes off the front of text at
 * a paragraph, line or word break when there is one in the second
 * half; returns the chunk (new), deletes it from text. */
static Octstr *next_chunk(Octstr *text)
{
    const char *s = octstr_get_cstr(text);
    long max = CONVERT_MMS_SLIDE_TEXT, cut = -1, i;
    Octstr *chunk;

    if (octstr_len(text) <= max) {
        chunk = octstr_duplicate(text);
        octstr_delete(text, 0, octstr_len(text));
        return chunk;
    }
    for (i = max; i > max / 2 && cut < 0; i--)
        if (s[i] == '\n' && s[i - 1] == '\n')
            cut = i;
    for (i = max; i > max / 2 && cut < 0; i--)
        if (s[i] == '\n')
            cut = i;
    for (i = max; i > max / 2 && cut < 0; i--)
        if (s[i] == ' ')
            cut = i;
    if (cut < 0) {
        cut = max;
        while (cut > 0 && (s[cut] & 0xC0) == 0x80)
            cut--;
    }
    chunk = octstr_copy(text, 0, cut);
    while (cut < octstr_len(text) && (s[cut] == '\n' || s[cut] == ' '))
        cut++;
    octstr_delete(text, 0, cut);
    octstr_strip_blanks(chunk);
    return chunk;
}

/* --- serialisation ------------------------------------------------- */

typedef struct {
    GMimeMultipart *mp;
    Octstr *smil;
    long next;          /* next part number */
    long n;
    long slides;
} Mm;

static Octstr *cid(long part, long n)
{
    return octstr_format("p%03ld.n%ld@pushmail", part, n);
}

/* Fill part p (taking it over) and put it at index `at` (-1: last). */
static void add_part(Mm *mm, GMimePart *p, const Octstr *data,
                     int encoding, const Octstr *loc, int at)
{
    GMimeStream *s;
    GMimeDataWrapper *dw;
    Octstr *id = cid(mm->next, mm->n);

    s = g_mime_stream_mem_new_with_buffer(octstr_get_cstr(data),
                                          octstr_len(data));
    dw = g_mime_data_wrapper_new_with_stream(s,
                                             GMIME_CONTENT_ENCODING_DEFAULT);
    g_mime_part_set_content(p, dw);
    g_object_unref(dw);
    g_object_unref(s);
    g_mime_part_set_content_encoding(p, encoding);
    g_mime_object_set_content_id(GMIME_OBJECT(p), octstr_get_cstr(id));
    g_mime_part_set_content_location(p, octstr_get_cstr(loc));
    if (at < 0)
        g_mime_multipart_add(mm->mp, GMIME_OBJECT(p));
    else
        g_mime_multipart_insert(mm->mp, at, GMIME_OBJECT(p));
    g_object_unref(p);
    octstr_destroy(id);
    mm->next++;
}

/* A text part; returns its part number. */
static long add_text(Mm *mm, const Octstr *text)
{
    GMimePart *p = g_mime_part_new_with_type("text", "plain");
    Octstr *loc = octstr_format("text%03ld.txt", mm->next);
    long num = mm->next;

    g_mime_object_set_content_type_parameter(GMIME_OBJECT(p), "charset",
                                             "utf-8");
    add_part(mm, p, text, has_long_line(text) ? GMIME_CONTENT_ENCODING_BASE64
                                              : GMIME_CONTENT_ENCODING_8BIT,
             loc, -1);
    octstr_destroy(loc);
    return num;
}

static void slide(Mm *mm, long img, long text, long text_len)
{
    long dur = text_len * 60;

    if (dur < 5000)
        dur = 5000;
    if (dur > 60000)
        dur = 60000;
    octstr_format_append(mm->smil, "<par dur=\"%ldms\">\n", dur);
    if (img >= 0)
        octstr_format_append(mm->smil, "<img src=\"cid:p%03ld.n%ld@pushmail"
                             "\" region=\"Image\"/>\n", img, mm->n);
    if (text >= 0)
        octstr_format_append(mm->smil, "<text src=\"cid:p%03ld.n%ld@pushmail"
                             "\" region=\"Text\"/>\n", text, mm->n);
    octstr_append_cstr(mm->smil, "</par>\n");
    mm->slides++;
}

static void text_slide(Mm *mm, const Octstr *text)
{
    if (octstr_len(text) == 0 || mm->slides >= MAX_SLIDES)
        return;
    slide(mm, -1, add_text(mm, text), octstr_len(text));
}

static void image_slide(Mm *mm, Img *im)
{
    GMimePart *p;
    char type[16];
    long img;

    if (mm->slides >= MAX_SLIDES)
        return;
    /* "image/jpeg" -> "jpeg" */
    strncpy(type, im->out_type + 6, sizeof(type) - 1);
    type[sizeof(type) - 1] = '\0';
    p = g_mime_part_new_with_type("image", type);
    g_mime_object_set_content_type_parameter(GMIME_OBJECT(p), "name",
                                             octstr_get_cstr(im->loc));
    img = mm->next;
    add_part(mm, p, im->out, GMIME_CONTENT_ENCODING_BASE64, im->loc, -1);
    slide(mm, img, im->name ? add_text(mm, im->name) : -1, 0);
}

/* The SMIL part goes first: built last, inserted at index 0.  Parts
 * are numbered from 1, the SMIL is 0, so mm->next is the part count. */
static void add_smil(Mm *mm, const Build *b)
{
    GMimePart *p = g_mime_part_new_with_type("application", "smil");
    Octstr *s, *loc = octstr_create("mail.smil");
    long text_h = b->max_h / 4, save = mm->next;

    s = octstr_format("<smil>\n<head>\n<layout>\n"
                      "<root-layout width=\"%ld\" height=\"%ld\"/>\n"
                      "<region id=\"Image\" top=\"0\" left=\"0\" "
                      "width=\"%ld\" height=\"%ld\" fit=\"meet\"/>\n"
                      "<region id=\"Text\" top=\"%ld\" left=\"0\" "
                      "width=\"%ld\" height=\"%ld\" fit=\"scroll\"/>\n"
                      "</layout>\n</head>\n<body>\n%S</body>\n</smil>\n",
                      b->max_w, b->max_h, b->max_w, b->max_h - text_h,
                      b->max_h - text_h, b->max_w, text_h, mm->smil);
    g_mime_object_set_content_type_parameter(GMIME_OBJECT(p), "charset",
                                             "utf-8");
    mm->next = 0;       /* the SMIL is part 0 */
    add_part(mm, p, s, GMIME_CONTENT_ENCODING_8BIT, loc, 0);
    mm->next = save;
    octstr_destroy(s);
    octstr_destroy(loc);
}

/* Serialise the MM as planned now; with_images = 0 sends none (and
 * counts them dropped in the notes).  Returns the body bytes (new). */
static Octstr *serialise(Build *b, int with_images)
{
    GMimeFormatOptions *fo;
    GMimeStream *mem;
    GByteArray *ba;
    Octstr *rest, *chunk, *notes, *out;
    Mm mm;
    Img *im;
    long i;
    int *saved = NULL;

    mm.mp = g_mime_multipart_new_with_subtype("related");
    g_mime_multipart_set_boundary(mm.mp, octstr_get_cstr(b->boundary));
    mm.smil = octstr_create("");
    mm.next = 1;
    mm.n = b->n;
    mm.slides = 0;

    text_slide(&mm, b->header);
    rest = octstr_duplicate(b->body);
    while (octstr_len(rest) > 0) {
        chunk = next_chunk(rest);
        text_slide(&mm, chunk);
        octstr_destroy(chunk);
    }
    octstr_destroy(rest);
    if (!with_images) {
        saved = gw_malloc(sizeof(int) * (gwlist_len(b->imgs) + 1));
        for (i = 0; i < gwlist_len(b->imgs); i++) {
            im = gwlist_get(b->imgs, i);
            saved[i] = im->state;
            if (im->state == IMG_SEND)
                im->state = IMG_DROPPED;
        }
    }
    name_images(b);
    for (i = 0; i < gwlist_len(b->imgs); i++) {
        im = gwlist_get(b->imgs, i);
        if (im->state == IMG_SEND)
            image_slide(&mm, im);
    }
    notes = notes_text(b);
    text_slide(&mm, notes);
    octstr_destroy(notes);
    if (saved != NULL) {
        for (i = 0; i < gwlist_len(b->imgs); i++)
            ((Img *) gwlist_get(b->imgs, i))->state = saved[i];
        gw_free(saved);
    }
    add_smil(&mm, b);
    b->parts = mm.next;

    fo = g_mime_format_options_new();
    g_mime_format_options_set_newline_format(fo, GMIME_NEWLINE_FORMAT_DOS);
    mem = g_mime_stream_mem_new();
    g_mime_object_write_content_to_stream(GMIME_OBJECT(mm.mp), fo, mem);
    ba = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
    out = octstr_create_from_data((const char *) ba->data, ba->len);
    g_object_unref(mem);
    g_mime_format_options_free(fo);
    g_object_unref(mm.mp);
    octstr_destroy(mm.smil);
    return out;
}

/* --- fitting ------------------------------------------------------- */

static long mm_size(Build *b, int with_images)
{
    Octstr *mm = serialise(b, with_images);
    long len = octstr_len(mm);

    octstr_destroy(mm);
    return len;
}

/* Cut the text until the MM without images fits; 0 ok, -1 cannot.
 * The body shrinks in proportion first (slide overhead and base64 grow
 * with it), then by the bytes still over; then the notes, the header. */
static int fit_text(Build *b)
{
    Octstr *saved;
    long size, base, over, keep, i;

    size = mm_size(b, 0);
    if (size <= b->o->max_size)
        return 0;
    saved = b->body;
    b->body = octstr_create("");
    base = mm_size(b, 0);
    octstr_destroy(b->body);
    b->body = saved;
    if (base < b->o->max_size && size > base) {
        keep = (long) ((double) octstr_len(b->body)
                       * (b->o->max_size - base) / (size - base) * 0.97);
        cut_marked(b->body, octstr_len(b->body) - keep);
    } else {
        octstr_delete(b->body, 0, octstr_len(b->body));
    }
    for (i = 0; i < TEXT_ATTEMPTS; i++) {
        over = mm_size(b, 0) - b->o->max_size;
        if (over <= 0)
            return 0;
        over += 64;
        if (octstr_len(b->body) > 0) {
            cut_marked(b->body, over);
        } else {
            if (b->notes_cut == NULL)
                b->notes_cut = notes_text(b);
            if (octstr_len(b->notes_cut) > 0)
                cut_marked(b->notes_cut, over);
            else
                cut_marked(b->header, over);
        }
    }
    return -1;
}

static long sending(const Build *b)
{
    long i, k = 0;

    for (i = 0; i < gwlist_len(b->imgs); i++)
        if (((Img *) gwlist_get(b->imgs, i))->state == IMG_SEND)
            k++;
    return k;
}

/* Encode every image still sent at rung r (failures are noted). */
static void encode_all(Build *b, long r)
{
    Img *im;
    long i;

    for (i = 0; i < gwlist_len(b->imgs); i++) {
        im = gwlist_get(b->imgs, i);
        if (im->state == IMG_SEND && img_encode(b, im, r) != 0)
            img_fail(im);
    }
}

static void drop_largest(Build *b)
{
    Img *im, *big = NULL;
    long i;

    for (i = 0; i < gwlist_len(b->imgs); i++) {
        im = gwlist_get(b->imgs, i);
        if (im->state == IMG_SEND
            && (big == NULL || octstr_len(im->out) > octstr_len(big->out)))
            big = im;
    }
    if (big == NULL)
        return;
    big->state = IMG_DROPPED;
    if (big->out != big->data)
        octstr_destroy(big->out);
    big->out = NULL;
    convert_image_destroy(big->ci);
    big->ci = NULL;
}

/* The MM that fits, with as many images as the ladder allows. */
static Octstr *fit_images(Build *b, long *rung_r)
{
    Octstr *mm;
    long r = 0;

    encode_all(b, 0);
    for (;;) {
        mm = serialise(b, 1);
        if (octstr_len(mm) <= b->o->max_size || sending(b) == 0)
            break;
        octstr_destroy(mm);
        if (r + 1 < LADDER_LEN)
            encode_all(b, ++r);
        else
            drop_largest(b);
    }
    *rung_r = r;
    return mm;
}

/* --- the build ----------------------------------------------------- */

static void build_free(Build *b)
{
    convert_mail_destroy(b->cm);
    octstr_destroy(b->header);
    octstr_destroy(b->body);
    octstr_destroy(b->listed);
    octstr_destroy(b->notes_cut);
    octstr_destroy(b->boundary);
    gwlist_destroy(b->imgs, img_destroy);
}

static Octstr *new_boundary(void)
{
    GMimeMultipart *mp = g_mime_multipart_new();
    Octstr *s;
    const char *r;

    g_mime_multipart_set_boundary(mp, NULL);    /* random */
    s = octstr_create("pm-");
    /* letters and digits only: some MMSC parsers are strict */
    for (r = g_mime_multipart_get_boundary(mp); *r != '\0'; r++)
        if ((*r >= 'a' && *r <= 'z') || (*r >= 'A' && *r <= 'Z')
            || (*r >= '0' && *r <= '9'))
            octstr_append_char(s, *r);
    g_object_unref(mp);
    return s;
}

/* Parse the mail with GMime and collect its images. */
static int collect_images(Build *b, const Octstr *raw)
{
    GMimeMessage *msg = convert_mime_message(raw, NULL, NULL);

    if (msg == NULL)
        return -1;
    find_images(b, g_mime_message_get_mime_part(msg), 0);
    g_object_unref(msg);
    return 0;
}

static long clamp(long v, long lo, long hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

static long count_state(const Build *b, int state)
{
    long i, k = 0;

    for (i = 0; i < gwlist_len(b->imgs); i++)
        if (((Img *) gwlist_get(b->imgs, i))->state == state)
            k++;
    return k;
}

ConvertMms *convert_mms_build(const Octstr *raw_mail, long n,
                              const ConvertMmsOpts *o, Octstr **err_r)
{
    Build b;
    ConvertMms *m = NULL;
    Octstr *body;
    long rung;

    if (err_r != NULL)
        *err_r = NULL;
    if (o == NULL || o->max_size < CONVERT_MMS_MIN_SIZE) {
        if (err_r != NULL)
            *err_r = octstr_create("MMS size limit too small");
        return NULL;
    }
    memset(&b, 0, sizeof(b));
    b.o = o;
    b.n = n;
    b.max_w = clamp(o->max_width, 16, CONVERT_IMAGE_MAX_BOX);
    b.max_h = clamp(o->max_height, 16, CONVERT_IMAGE_MAX_BOX);
    b.cm = convert_mail_parse(raw_mail, o->trim_quotes, err_r);
    if (b.cm == NULL)
        return NULL;
    b.imgs = gwlist_create();
    b.header = header_text(&b);
    b.body = octstr_duplicate(b.cm->body);
    b.boundary = new_boundary();
    list_attachments(&b);
    if (collect_images(&b, raw_mail) != 0 || fit_text(&b) != 0) {
        if (err_r != NULL)
            *err_r = octstr_create("cannot fit the mail into an MMS");
        build_free(&b);
        return NULL;
    }
    body = fit_images(&b, &rung);
    if (octstr_len(body) > o->max_size) {
        /* every image failed or was dropped, and the reasons named
         * are longer than the "dropped" fit_text planned for */
        octstr_destroy(body);
        body = fit_text(&b) == 0 ? serialise(&b, 0) : NULL;
    }
    if (body == NULL) {
        if (err_r != NULL)
            *err_r = octstr_create("cannot fit the mail into an MMS");
        build_free(&b);
        return NULL;
    }

    m = gw_malloc(sizeof(*m));
    m->content_type = octstr_format("multipart/related; "
                                    "type=\"application/smil\"; "
                                    "start=\"<p000.n%ld@pushmail>\"; "
                                    "boundary=\"%S\"", n, b.boundary);
    m->body = body;
    m->subject = octstr_duplicate(b.cm->subject);
    m->parts = b.parts;
    m->images = count_state(&b, IMG_SEND);
    m->images_dropped = count_state(&b, IMG_DROPPED)
                        + count_state(&b, IMG_FAILED) + b.images_over;
    m->attachments_listed = b.listed_count;
    debug("convert.mms", 0, "mail %ld: MM %ld bytes (limit %ld), %ld "
          "parts, %ld images (quality %d, scale %.2f), %ld not sent, "
          "%ld attachments listed", n, octstr_len(body), o->max_size,
          m->parts, m->images, ladder[rung].quality, ladder[rung].scale,
          m->images_dropped, m->attachments_listed);
    build_free(&b);
    return m;
}

void convert_mms_destroy(ConvertMms *m)
{
    if (m == NULL)
        return;
    octstr_destroy(m->content_type);
    octstr_destroy(m->body);
    octstr_destroy(m->subject);
    gw_free(m);
}
