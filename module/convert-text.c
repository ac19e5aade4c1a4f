/*
 * convert-text.c - mail (RFC 5322 + MIME) to readable UTF-8 text with
 * GMime 3: headers decoded, the best text body picked and cleaned,
 * attachments listed.
 *
 * Exports: convert_init, convert_deinit, convert_mail_parse,
 *          convert_mail_destroy, convert_sender_name.  Text clean-up
 *          (charsets, RFC 2047, tidy, trimming) is in convert-clean.c,
 *          HTML in convert-html.c.
 *
 * Body choice: in multipart/alternative text/plain wins unless it is
 * empty, then text/html (converted by convert-html.c), then the last
 * other part; multipart/related and multipart/signed show their first
 * part only; other multiparts show every inline text part in order; a
 * multipart whose boundary never appears shows its raw text.
 * Everything else (and text with "attachment" disposition) is listed
 * as an attachment; signatures (pgp/pkcs7) are skipped.
 *
 * Limits (convert-text.h): mail size CONVERT_MAX_MAIL; MIME depth
 * CONVERT_MAX_DEPTH and CONVERT_MAX_PARTS parts in our walk; before
 * GMime parses, a mail naming "multipart/" or "message/" more than
 * CONVERT_MAX_PARTS times anywhere is refused, which bounds GMime's own
 * recursion.  Body CONVERT_MAX_BODY bytes ("[truncated]" after),
 * CONVERT_MAX_ATTACH attachment lines ("and N more" after).
 *
 * Logs: debug under "convert.text" when a limit is hit (never mail
 * text).  GMime objects are created and released inside each call;
 * parser options are per call, so calls are thread-safe after
 * convert_init().
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include <gmime/gmime.h>
#include <libxml/parser.h>

#include "convert-text.h"
#include "convert-private.h"
#include "sms-text.h"

#define PLAIN_MAX_RAW   (4 * CONVERT_MAX_BODY)  /* text bytes converted */
#define NAME_MAX_UNITS  60

static const char *month_names[12] = {
    "Jan", "Feb", "Mar", "Apr", "May", "Jun",
    "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"
};

static const char *fallback_charsets[] = { "UTF-8", "windows-1252", NULL };

void convert_init(void)
{
    g_mime_init();
    xmlInitParser();
}

void convert_deinit(void)
{
    /* libxml2 is shared with other modules (MM7): not cleaned here */
    g_mime_shutdown();
}

static GMimeParserOptions *options_new(void)
{
    GMimeParserOptions *o = g_mime_parser_options_new();

    g_mime_parser_options_set_rfc2047_compliance_mode(o,
        GMIME_RFC_COMPLIANCE_LOOSE);
    g_mime_parser_options_set_address_compliance_mode(o,
        GMIME_RFC_COMPLIANCE_LOOSE);
    g_mime_parser_options_set_parameter_compliance_mode(o,
        GMIME_RFC_COMPLIANCE_LOOSE);
    g_mime_parser_options_set_fallback_charsets(o, fallback_charsets);
    return o;
}

/* Parse an address header value (raw) into a list (caller unrefs), or
 * NULL. */
static InternetAddressList *parse_addresses(GMimeParserOptions *o,
                                            const char *raw)
{
    Octstr *merged;
    InternetAddressList *l;

    if (raw == NULL || *raw == '\0')
        return NULL;
    merged = convert_rfc2047(raw, 1);
    l = internet_address_list_parse(o, octstr_get_cstr(merged));
    octstr_destroy(merged);
    return l;
}

/* The raw value of the first header `name`, or NULL. */
static const char *raw_header(GMimeObject *obj, const char *name)
{
    GMimeHeader *h;

    h = g_mime_header_list_get_header(g_mime_object_get_header_list(obj),
                                      name);
    return h ? g_mime_header_get_raw_value(h) : NULL;
}

/* First mailbox in a list (looking into groups), or NULL. */
static InternetAddress *first_mailbox(InternetAddressList *l)
{
    InternetAddress *ia;
    InternetAddressList *m;
    int i, j, n;

    if (l == NULL)
        return NULL;
    n = internet_address_list_length(l);
    for (i = 0; i < n; i++) {
        ia = internet_address_list_get_address(l, i);
        if (INTERNET_ADDRESS_IS_MAILBOX(ia))
            return ia;
        if (INTERNET_ADDRESS_IS_GROUP(ia)) {
            m = internet_address_group_get_members(
                    INTERNET_ADDRESS_GROUP(ia));
            for (j = 0; m && j < internet_address_list_length(m); j++) {
                InternetAddress *x = internet_address_list_get_address(m, j);
                if (INTERNET_ADDRESS_IS_MAILBOX(x))
                    return x;
            }
        }
    }
    return NULL;
}

static Octstr *mailbox_addr(InternetAddress *ia)
{
    Octstr *a;

    if (ia == NULL)
        return NULL;
    a = convert_clean_line(internet_address_mailbox_get_addr(
                       INTERNET_ADDRESS_MAILBOX(ia)), 254);
    if (octstr_len(a) == 0 || octstr_search_char(a, ' ', 0) >= 0) {
        octstr_destroy(a);
        return NULL;
    }
    return a;
}

/* Display name (quotes stripped) or address or "unknown". */
static Octstr *mailbox_display(InternetAddress *ia)
{
    Octstr *name, *addr;
    long l;

    if (ia == NULL)
        return octstr_create("unknown");
    name = convert_clean_line(internet_address_get_name(ia), 200);
    l = octstr_len(name);
    while (l >= 2 && (octstr_get_char(name, 0) == '"'
                      || octstr_get_char(name, 0) == '\'')
           && octstr_get_char(name, l - 1) == octstr_get_char(name, 0)) {
        octstr_delete(name, l - 1, 1);
        octstr_delete(name, 0, 1);
        octstr_strip_blanks(name);
        l = octstr_len(name);
    }
    if (l > 0)
        return name;
    octstr_destroy(name);
    addr = mailbox_addr(ia);
    return addr ? addr : octstr_create("unknown");
}

Octstr *convert_sender_name(const Octstr *raw_from)
{
    GMimeParserOptions *o;
    InternetAddressList *l;
    Octstr *out;

    if (raw_from == NULL || octstr_len(raw_from) == 0)
        return octstr_create("unknown");
    o = options_new();
    l = parse_addresses(o, octstr_get_cstr(raw_from));
    out = mailbox_display(first_mailbox(l));
    if (l != NULL)
        g_object_unref(l);
    g_mime_parser_options_free(o);
    return out;
}

static Octstr *valid_message_id(const char *id)
{
    const char *ok = ".-_@+=$%!#&*?^{}|~";
    size_t i, n;

    if (id == NULL)
        return NULL;
    n = strlen(id);
    if (n == 0 || n > CONVERT_MAX_MSGID)
        return NULL;
    for (i = 0; i < n; i++) {
        unsigned char c = id[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9') || strchr(ok, c) != NULL))
            return NULL;
    }
    return octstr_create(id);
}

static Octstr *short_date(GDateTime *dt)
{
    int mon;

    if (dt == NULL)
        return NULL;
    mon = g_date_time_get_month(dt);
    if (mon < 1 || mon > 12)
        return NULL;
    return octstr_format("%d %s %02d:%02d", g_date_time_get_day_of_month(dt),
                         month_names[mon - 1], g_date_time_get_hour(dt),
                         g_date_time_get_minute(dt));
}

/* --- MIME walk ---------------------------------------------------- */

typedef struct {
    Octstr *body;
    List *attachments;
    long parts;
    long unlisted;
    int limited;
} Walk;

static void walk(Walk *w, GMimeObject *obj, int depth);

static void body_append(Walk *w, Octstr *text)
{
    if (octstr_len(w->body) >= CONVERT_MAX_BODY) {
        w->limited = 1;
        return;
    }
    if (octstr_len(w->body) > 0 && octstr_len(text) > 0)
        octstr_append_cstr(w->body, "\n\n");
    octstr_append(w->body, text);
}

static Octstr *size_text(long bytes)
{
    if (bytes < 1024)
        return octstr_format("%ld bytes", bytes);
    if (bytes < 1024L * 1024)
        return octstr_format("%ld KB", (bytes + 512) / 1024);
    return octstr_format("%ld.%ld MB", bytes / (1024L * 1024),
                         (bytes % (1024L * 1024)) * 10 / (1024L * 1024));
}

static long object_size(GMimeObject *obj)
{
    GMimeStream *ns = g_mime_stream_null_new();
    GMimeDataWrapper *dw;
    long n;

    if (GMIME_IS_PART(obj)) {
        dw = g_mime_part_get_content(GMIME_PART(obj));
        if (dw != NULL)
            g_mime_data_wrapper_write_to_stream(dw, ns);
    } else {
        g_mime_object_write_to_stream(obj, NULL, ns);
    }
    n = (long) GMIME_STREAM_NULL(ns)->written;
    g_object_unref(ns);
    return n;
}

static void add_attachment(Walk *w, GMimeObject *obj, const char *name)
{
    Octstr *n, *type, *size;
    char *mt, *base;

    if (gwlist_len(w->attachments) >= CONVERT_MAX_ATTACH) {
        w->unlisted++;
        return;
    }
    n = convert_clean_line(name, 1000);
    /* show the last path component only */
    base = strrchr(octstr_get_cstr(n), '/');
    if (base == NULL)
        base = strrchr(octstr_get_cstr(n), '\\');
    if (base != NULL && base[1] != '\0') {
        Octstr *b = octstr_create(base + 1);
        octstr_destroy(n);
        n = b;
    }
    if (octstr_len(n) == 0)
        octstr_append_cstr(n, "unnamed");
    if (octstr_len(n) > 0) {
        Octstr *c = sms_text_cut(n, NAME_MAX_UNITS, 0);
        octstr_destroy(n);
        n = c;
    }
    mt = g_mime_content_type_get_mime_type(
             g_mime_object_get_content_type(obj));
    type = convert_clean_line(mt, NAME_MAX_UNITS);
    g_free(mt);
    octstr_convert_range(type, 0, octstr_len(type), tolower);
    size = size_text(object_size(obj));
    gwlist_append(w->attachments,
                  octstr_format("%S (%S, %S)", n, type, size));
    octstr_destroy(n);
    octstr_destroy(type);
    octstr_destroy(size);
}

/* The decoded text of a text/plain or text/html part, as UTF-8. */
static Octstr *part_text(GMimePart *part, int html)
{
    GMimeObject *obj = GMIME_OBJECT(part);
    GMimeDataWrapper *dw = g_mime_part_get_content(part);
    GMimeStream *mem;
    GByteArray *ba;
    Octstr *text, *tmp;
    const char *fmt, *delsp;
    long len;

    if (dw == NULL)
        return octstr_create("");
    mem = g_mime_stream_mem_new();
    g_mime_data_wrapper_write_to_stream(dw, mem);
    ba = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
    len = ba->len;
    if (!html && len > PLAIN_MAX_RAW)
        len = PLAIN_MAX_RAW;
    text = convert_to_utf8((const char *) ba->data, len,
                           g_mime_object_get_content_type_parameter(obj,
                               "charset"));
    g_object_unref(mem);
    if (html) {
        tmp = convert_html_to_text(text);
        octstr_destroy(text);
        return tmp;
    }
    fmt = g_mime_object_get_content_type_parameter(obj, "format");
    if (fmt != NULL && strcasecmp(fmt, "flowed") == 0) {
        delsp = g_mime_object_get_content_type_parameter(obj, "delsp");
        tmp = convert_unflow(text, delsp != NULL
                                   && strcasecmp(delsp, "yes") == 0);
        octstr_destroy(text);
        text = tmp;
    }
    return text;
}

static int is_type(GMimeObject *obj, const char *type, const char *sub)
{
    return g_mime_content_type_is_type(g_mime_object_get_content_type(obj),
                                       type, sub);
}

/* 1 if the text has a non-blank character. */
static int has_text(const Octstr *t)
{
    long i;

    for (i = 0; i < octstr_len(t); i++)
        if (!strchr(" \t\r\n", octstr_get_char(t, i)))
            return 1;
    return 0;
}

static void walk_alternative(Walk *w, GMimeMultipart *mp, int depth)
{
    GMimeObject *plain = NULL, *html = NULL, *other = NULL, *c;
    Octstr *t;
    int i, n = g_mime_multipart_get_count(mp);

    for (i = 0; i < n; i++) {
        c = g_mime_multipart_get_part(mp, i);
        if (GMIME_IS_PART(c) && is_type(c, "text", "plain") && !plain)
            plain = c;
        else if (GMIME_IS_PART(c) && is_type(c, "text", "html") && !html)
            html = c;
        else
            other = c;
    }
    if (plain != NULL) {
        w->parts++;
        t = part_text(GMIME_PART(plain), 0);
        if (has_text(t) || (html == NULL && other == NULL)) {
            body_append(w, t);
            octstr_destroy(t);
            return;
        }
        octstr_destroy(t);
    }
    if (html != NULL)
        walk(w, html, depth + 1);
    else if (other != NULL)
        walk(w, other, depth + 1);
}

static void walk_multipart(Walk *w, GMimeMultipart *mp, int depth)
{
    GMimeObject *obj = GMIME_OBJECT(mp);
    Octstr *t;
    int i, n = g_mime_multipart_get_count(mp);

    if (n == 0) {
        /* no usable boundary: GMime keeps the whole text as prologue */
        const char *pro = g_mime_multipart_get_prologue(mp);
        if (pro != NULL) {
            t = convert_to_utf8(pro, strlen(pro), NULL);
            body_append(w, t);
            octstr_destroy(t);
        }
    } else if (is_type(obj, "multipart", "alternative")) {
        walk_alternative(w, mp, depth);
    } else if (is_type(obj, "multipart", "encrypted")) {
        t = octstr_create("[encrypted message]");
        body_append(w, t);
        octstr_destroy(t);
    } else if (is_type(obj, "multipart", "related")
               || is_type(obj, "multipart", "signed")) {
        if (n > 0)
            walk(w, g_mime_multipart_get_part(mp, 0), depth + 1);
    } else {
        for (i = 0; i < n && !w->limited; i++)
            walk(w, g_mime_multipart_get_part(mp, i), depth + 1);
    }
}

static void walk(Walk *w, GMimeObject *obj, int depth)
{
    GMimeMessage *inner;
    Octstr *t;

    if (obj == NULL)
        return;
    if (depth > CONVERT_MAX_DEPTH || ++w->parts > CONVERT_MAX_PARTS) {
        w->limited = 1;
        return;
    }
    if (GMIME_IS_MULTIPART(obj)) {
        walk_multipart(w, GMIME_MULTIPART(obj), depth);
    } else if (GMIME_IS_MESSAGE_PART(obj)) {
        inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(obj));
        add_attachment(w, obj, inner ? g_mime_message_get_subject(inner)
                                     : NULL);
    } else if (GMIME_IS_PART(obj)) {
        int plain = is_type(obj, "text", "plain");
        int html = is_type(obj, "text", "html");
        if ((plain || html) && !g_mime_part_is_attachment(GMIME_PART(obj))) {
            t = part_text(GMIME_PART(obj), html);
            body_append(w, t);
            octstr_destroy(t);
        } else if (!is_type(obj, "application", "pgp-signature")
                   && !is_type(obj, "application", "pkcs7-signature")
                   && !is_type(obj, "application", "x-pkcs7-signature")) {
            add_attachment(w, obj,
                           g_mime_part_get_filename(GMIME_PART(obj)));
        }
    } else {
        add_attachment(w, obj, NULL);   /* message/partial and others */
    }
}

/* --- the mail ----------------------------------------------------- */

/* Occurrences of "multipart/" or "message/" (any case): bounds the
 * nesting GMime will build. */
static long nesting_words(const Octstr *raw)
{
    const char *s = octstr_get_cstr(raw);
    long i, n = 0, len = octstr_len(raw);

    for (i = 0; i + 8 <= len; i++) {
        if ((s[i] | 0x20) != 'm')
            continue;
        if ((i + 10 <= len && strncasecmp(s + i, "multipart/", 10) == 0)
            || strncasecmp(s + i, "message/", 8) == 0)
            n++;
    }
    return n;
}

GMimeMessage *convert_mime_message(const Octstr *raw, GMimeParserOptions *o,
                                   const char **why_r)
{
    GMimeParserOptions *own = NULL;
    GMimeStream *stream;
    GMimeParser *parser;
    GMimeMessage *msg;
    const char *why = NULL;

    if (raw == NULL || octstr_len(raw) == 0)
        why = "empty mail";
    else if (octstr_len(raw) > CONVERT_MAX_MAIL)
        why = "mail too large";
    else if (nesting_words(raw) > CONVERT_MAX_PARTS)
        why = "too many MIME parts";
    if (why != NULL) {
        if (why_r != NULL)
            *why_r = why;
        return NULL;
    }
    if (o == NULL)
        o = own = options_new();
    stream = g_mime_stream_mem_new_with_buffer(octstr_get_cstr(raw),
                                               octstr_len(raw));
    parser = g_mime_parser_new_with_stream(stream);
    g_object_unref(stream);
    msg = g_mime_parser_construct_message(parser, o);
    g_object_unref(parser);
    if (own != NULL)
        g_mime_parser_options_free(own);
    if (msg == NULL && why_r != NULL)
        *why_r = "not a mail message";
    return msg;
}

static void set_error(Octstr **err_r, const char *why)
{
    if (err_r != NULL)
        *err_r = octstr_create(why);
}

static void fill_headers(ConvertMail *m, GMimeMessage *msg,
                         GMimeParserOptions *o)
{
    GMimeObject *obj = GMIME_OBJECT(msg);
    InternetAddressList *l, *l2 = NULL;
    InternetAddress *ia;
    GDateTime *dt;
    Octstr *raw;
    const char *refs;
    char *to;

    l = parse_addresses(o, raw_header(obj, "From"));
    ia = first_mailbox(l);
    if (ia == NULL) {
        l2 = parse_addresses(o, raw_header(obj, "Sender"));
        ia = first_mailbox(l2);
    }
    m->from = mailbox_display(ia);
    m->from_addr = mailbox_addr(ia);
    if (l != NULL)
        g_object_unref(l);
    if (l2 != NULL)
        g_object_unref(l2);

    l = parse_addresses(o, raw_header(obj, "Reply-To"));
    m->reply_to = mailbox_addr(first_mailbox(l));
    if (l != NULL)
        g_object_unref(l);

    l = parse_addresses(o, raw_header(obj, "To"));
    if (l != NULL && internet_address_list_length(l) > 0) {
        to = internet_address_list_to_string(l, NULL, FALSE);
        m->to = convert_clean_line(to, CONVERT_HEADER_MAX);
        g_free(to);
    }
    if (l != NULL)
        g_object_unref(l);

    raw = octstr_create(raw_header(obj, "Subject") ? raw_header(obj,
                        "Subject") : "");
    m->subject = convert_header_decode(raw);
    octstr_destroy(raw);

    dt = g_mime_message_get_date(msg);
    if (dt != NULL) {
        m->date = short_date(dt);
        m->date_t = (long) g_date_time_to_unix(dt);
    }
    m->message_id = valid_message_id(g_mime_message_get_message_id(msg));
    refs = raw_header(obj, "References");
    if (refs != NULL && *refs != '\0')
        m->references = convert_clean_line(refs, CONVERT_HEADER_MAX);
}

static ConvertMail *mail_new(void)
{
    ConvertMail *m = gw_malloc(sizeof(*m));

    memset(m, 0, sizeof(*m));
    m->attachments = gwlist_create();
    return m;
}

ConvertMail *convert_mail_parse(const Octstr *raw, int trim_quotes_flag,
                                Octstr **err_r)
{
    GMimeParserOptions *o;
    GMimeMessage *msg;
    ConvertMail *m;
    const char *why = NULL;
    Walk w;
    Octstr *t;

    if (err_r != NULL)
        *err_r = NULL;
    o = options_new();
    msg = convert_mime_message(raw, o, &why);
    if (msg == NULL) {
        g_mime_parser_options_free(o);
        set_error(err_r, why);
        return NULL;
    }
    if (g_mime_header_list_get_count(
            g_mime_object_get_header_list(GMIME_OBJECT(msg))) == 0) {
        g_object_unref(msg);
        g_mime_parser_options_free(o);
        set_error(err_r, "no mail headers found");
        return NULL;
    }

    m = mail_new();
    fill_headers(m, msg, o);
    w.body = octstr_create("");
    w.attachments = m->attachments;
    w.parts = 0;
    w.unlisted = 0;
    w.limited = 0;
    walk(&w, g_mime_message_get_mime_part(msg), 0);
    if (w.limited)
        debug("convert.text", 0, "mail hit a MIME/body limit "
              "(%ld parts seen)", w.parts);
    if (w.unlisted > 0)
        gwlist_append(m->attachments,
                      octstr_format("and %ld more", w.unlisted));
    if (trim_quotes_flag) {
        t = convert_trim_quotes(w.body);
        octstr_destroy(w.body);
        w.body = t;
    }
    m->body = convert_text_tidy(w.body);
    octstr_destroy(w.body);
    if (octstr_len(m->body) > CONVERT_MAX_BODY) {
        long cut = CONVERT_MAX_BODY;
        /* back up to the start of a UTF-8 sequence */
        while (cut > 0 && (octstr_get_char(m->body, cut) & 0xC0) == 0x80)
            cut--;
        octstr_delete(m->body, cut, octstr_len(m->body) - cut);
        octstr_append_cstr(m->body, "\n[truncated]");
    }
    g_object_unref(msg);
    g_mime_parser_options_free(o);
    return m;
}

void convert_mail_destroy(ConvertMail *m)
{
    if (m == NULL)
        return;
    octstr_destroy(m->from);
    octstr_destroy(m->from_addr);
    octstr_destroy(m->reply_to);
    octstr_destroy(m->to);
    octstr_destroy(m->subject);
    octstr_destroy(m->date);
    octstr_destroy(m->message_id);
    octstr_destroy(m->references);
    octstr_destroy(m->body);
    gwlist_destroy(m->attachments, octstr_destroy_item);
    gw_free(m);
}
