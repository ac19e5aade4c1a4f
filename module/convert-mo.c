/*
 * convert-mo.c - SMS text and MMs from phones to RFC 5322 mail (GMime 3).
 *
 * Exports: convert_mo_addresses(), convert_mo_address_ok(),
 * convert_mo_subject(), convert_mo_build(), convert_mo_draft_n(),
 * convert_mo_reply_complete() (see convert-mo.h); MMs are taken apart
 * in convert-mm.c.
 *
 * Addresses and subjects are checked and made here; mails are written
 * by GMime with CRLF line ends; reply drafts are completed by editing
 * the draft's header with GMime.
 *
 * Limits: see convert-mo.h.  Logs: nothing.  Threads: thread-safe
 * after convert_init() (GMime objects are per call).
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <gmime/gmime.h>

#include "convert-mo.h"
#include "convert-text.h"

#define DRAFT_HEADER "X-Pushmail-Reply"
#define REFS_KEEP 20
#define MSGID_MAX 250
#define SUBJECT_HEADER_MAX 1000     /* bytes of a given subject kept */

static void set_err(Octstr **err_r, Octstr *why)
{
    if (err_r != NULL)
        *err_r = why;
    else
        octstr_destroy(why);
}

/* Up to 40 printable ASCII bytes of `s` for a phone message. */
static Octstr *quote_for_phone(const Octstr *s)
{
    Octstr *q = octstr_create("");
    long i;

    for (i = 0; i < octstr_len(s) && i < 40; i++) {
        int c = octstr_get_char(s, i);
        octstr_append_char(q, c >= 0x20 && c < 0x7f ? c : '?');
    }
    if (octstr_len(s) > 40)
        octstr_append_cstr(q, "...");
    return q;
}

/* --- addresses ------------------------------------------------------ */

static int domain_ok(const Octstr *a, long from)
{
    long i, label = 0, labels = 1, len = octstr_len(a);
    int prev = '.';

    if (from >= len)
        return 0;
    for (i = from; i < len; i++) {
        int c = octstr_get_char(a, i);

        if (c == '.') {
            if (prev == '.' || prev == '-')
                return 0;
            labels++;
            label = 0;
        } else if (isalnum(c) || c == '-') {
            if (c == '-' && prev == '.')
                return 0;
            if (++label > 63)
                return 0;
        } else {
            return 0;
        }
        prev = c;
    }
    return prev != '.' && prev != '-' && labels >= 2;
}

int convert_mo_address_ok(const Octstr *a)
{
    long at, i, len;
    int prev = '.';

    if (a == NULL)
        return 0;
    len = octstr_len(a);
    if (len < 3 || len > CONVERT_MO_ADDR_MAX)
        return 0;
    at = octstr_rsearch_char(a, '@', len - 1);
    if (at <= 0 || at > 64)
        return 0;
    for (i = 0; i < at; i++) {
        int c = octstr_get_char(a, i);

        if (c <= 0x20 || c >= 0x7f || strchr("\"(),:;<>@[\\]", c) != NULL)
            return 0;
        if (c == '.' && prev == '.')
            return 0;
        prev = c;
    }
    if (prev == '.')
        return 0;
    return domain_ok(a, at + 1);
}

List *convert_mo_addresses(const Octstr *list, Octstr **err_r)
{
    List *items, *out;
    Octstr *a, *q;
    long i, j;

    if (err_r != NULL)
        *err_r = NULL;
    if (list == NULL) {
        set_err(err_r, octstr_create("No address given."));
        return NULL;
    }
    items = octstr_split(list, octstr_imm(","));
    out = gwlist_create();
    for (i = 0; i < gwlist_len(items); i++) {
        a = gwlist_get(items, i);
        octstr_strip_blanks(a);
        octstr_strip_crlfs(a);
        if (octstr_len(a) == 0)
            continue;
        if (!convert_mo_address_ok(a)) {
            q = quote_for_phone(a);
            set_err(err_r, octstr_format("\"%S\" is not a mail address "
                                         "like name@example.com.", q));
            octstr_destroy(q);
            goto fail;
        }
        for (j = 0; j < gwlist_len(out); j++)
            if (octstr_case_compare(gwlist_get(out, j), a) == 0)
                break;
        if (j < gwlist_len(out))
            continue;
        if (gwlist_len(out) >= CONVERT_MO_MAX_RCPTS) {
            set_err(err_r, octstr_format("At most %d addresses, please.",
                                         CONVERT_MO_MAX_RCPTS));
            goto fail;
        }
        gwlist_append(out, octstr_duplicate(a));
    }
    gwlist_destroy(items, octstr_destroy_item);
    if (gwlist_len(out) == 0) {
        gwlist_destroy(out, NULL);
        set_err(err_r, octstr_create("No address given."));
        return NULL;
    }
    return out;
fail:
    gwlist_destroy(items, octstr_destroy_item);
    gwlist_destroy(out, octstr_destroy_item);
    return NULL;
}

/* --- subject -------------------------------------------------------- */

Octstr *convert_mo_subject(const Octstr *text, long words)
{
    Octstr *tidy, *out = octstr_create("");
    long i = 0, len, n = 0, start;
    int more = 0;

    if (text == NULL || words <= 0)
        return out;
    tidy = convert_text_tidy(text);
    len = octstr_len(tidy);
    while (i < len) {
        while (i < len && isspace(octstr_get_char(tidy, i)))
            i++;
        if (i >= len)
            break;
        if (n == words) {
            more = 1;
            break;
        }
        start = i;
        while (i < len && !isspace(octstr_get_char(tidy, i)))
            i++;
        if (n > 0)
            octstr_append_char(out, ' ');
        octstr_append_data(out, octstr_get_cstr(tidy) + start, i - start);
        n++;
    }
    octstr_destroy(tidy);
    if (octstr_len(out) > CONVERT_MO_SUBJECT_MAX - 3) {
        convert_cut_utf8(out, CONVERT_MO_SUBJECT_MAX - 3);
        more = 1;
    }
    if (more)
        octstr_append_cstr(out, "...");
    return out;
}

/* --- building mail -------------------------------------------------- */

static GMimeStream *stream_of(const Octstr *data)
{
    return g_mime_stream_mem_new_with_buffer(
        data ? octstr_get_cstr(data) : "", data ? octstr_len(data) : 0);
}

static GMimeObject *text_part(const Octstr *text)
{
    GMimePart *p = g_mime_part_new_with_type("text", "plain");
    Octstr *t = convert_text_tidy(text ? text : octstr_imm(""));
    GMimeStream *s;
    GMimeDataWrapper *dw;

    octstr_append_char(t, '\n');
    g_mime_object_set_content_type_parameter(GMIME_OBJECT(p), "charset",
                                             "utf-8");
    s = stream_of(t);
    dw = g_mime_data_wrapper_new_with_stream(s,
                                             GMIME_CONTENT_ENCODING_DEFAULT);
    g_mime_part_set_content(p, dw);
    g_object_unref(dw);
    g_object_unref(s);
    octstr_destroy(t);
    g_mime_object_encode(GMIME_OBJECT(p), GMIME_ENCODING_CONSTRAINT_7BIT);
    return GMIME_OBJECT(p);
}

static GMimeObject *attachment_part(const ConvertMoPart *x)
{
    Octstr *type = x->type ? x->type : octstr_imm("application/"
                                                  "octet-stream");
    long slash = octstr_search_char(type, '/', 0);
    Octstr *maj, *sub;
    GMimePart *p;
    GMimeStream *s;
    GMimeDataWrapper *dw;

    if (slash <= 0) {
        maj = octstr_create("application");
        sub = octstr_create("octet-stream");
    } else {
        maj = octstr_copy(type, 0, slash);
        sub = octstr_copy(type, slash + 1, octstr_len(type));
    }
    p = g_mime_part_new_with_type(octstr_get_cstr(maj),
                                  octstr_get_cstr(sub));
    octstr_destroy(maj);
    octstr_destroy(sub);
    s = stream_of(x->data);
    dw = g_mime_data_wrapper_new_with_stream(s,
                                             GMIME_CONTENT_ENCODING_DEFAULT);
    g_mime_part_set_content(p, dw);
    g_object_unref(dw);
    g_object_unref(s);
    if (x->name != NULL && octstr_len(x->name) > 0)
        g_mime_part_set_filename(p, octstr_get_cstr(x->name));
    g_mime_part_set_content_encoding(p, GMIME_CONTENT_ENCODING_BASE64);
    return GMIME_OBJECT(p);
}

/* The message as CRLF octets. */
static Octstr *message_bytes(GMimeMessage *msg)
{
    GMimeFormatOptions *fo = g_mime_format_options_new();
    GMimeStream *mem = g_mime_stream_mem_new();
    GByteArray *ba;
    Octstr *out;

    g_mime_format_options_set_newline_format(fo, GMIME_NEWLINE_FORMAT_DOS);
    g_mime_object_write_to_stream(GMIME_OBJECT(msg), fo, mem);
    ba = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
    out = octstr_create_from_data((const char *) ba->data, ba->len);
    g_object_unref(mem);
    g_mime_format_options_free(fo);
    return out;
}

static int msgid_ok(const Octstr *id)
{
    long i;

    if (id == NULL || octstr_len(id) == 0 || octstr_len(id) > MSGID_MAX)
        return 0;
    for (i = 0; i < octstr_len(id); i++) {
        int c = octstr_get_char(id, i);
        if (c <= 0x20 || c >= 0x7f || c == '<' || c == '>')
            return 0;
    }
    return 1;
}

Octstr *convert_mo_build(const ConvertMoHead *h, const Octstr *text,
                         const List *parts, Octstr **message_id_r,
                         Octstr **err_r)
{
    GMimeMessage *msg;
    GMimeMultipart *mp;
    GDateTime *dt;
    Octstr *out, *domain, *v;
    char *id;
    long i, nparts = parts ? gwlist_len((List *) parts) : 0;
    long nto = h && h->to ? gwlist_len((List *) h->to) : 0;

    if (err_r != NULL)
        *err_r = NULL;
    if (message_id_r != NULL)
        *message_id_r = NULL;
    if (h == NULL || !convert_mo_address_ok(h->from)) {
        set_err(err_r, octstr_create("the sender address is not usable"));
        return NULL;
    }
    if (nto == 0 && h->draft_n <= 0) {
        set_err(err_r, octstr_create("no recipient"));
        return NULL;
    }
    for (i = 0; i < nto; i++)
        if (!convert_mo_address_ok(gwlist_get((List *) h->to, i))) {
            set_err(err_r, octstr_create("a recipient address is not "
                                         "usable"));
            return NULL;
        }

    msg = g_mime_message_new(TRUE);
    g_mime_message_add_mailbox(msg, GMIME_ADDRESS_TYPE_FROM, NULL,
                               octstr_get_cstr(h->from));
    for (i = 0; i < nto; i++)
        g_mime_message_add_mailbox(msg, GMIME_ADDRESS_TYPE_TO, NULL,
                                   octstr_get_cstr(gwlist_get((List *) h->to,
                                                              i)));
    v = octstr_duplicate(h->subject ? h->subject : octstr_imm(""));
    convert_cut_utf8(v, SUBJECT_HEADER_MAX);
    for (i = 0; i < octstr_len(v); i++)
        if (octstr_get_char(v, i) < 0x20)
            octstr_set_char(v, i, ' ');
    g_mime_message_set_subject(msg, octstr_get_cstr(v), "utf-8");
    octstr_destroy(v);
    dt = g_date_time_new_from_unix_local(h->date > 0 ? h->date
                                                     : (long) time(NULL));
    g_mime_message_set_date(msg, dt);
    g_date_time_unref(dt);
    domain = octstr_copy(h->from, octstr_rsearch_char(h->from, '@',
                         octstr_len(h->from) - 1) + 1, octstr_len(h->from));
    id = g_mime_utils_generate_message_id(octstr_get_cstr(domain));
    octstr_destroy(domain);
    g_mime_message_set_message_id(msg, id);
    if (message_id_r != NULL)
        *message_id_r = octstr_create(id);
    g_free(id);
    if (msgid_ok(h->in_reply_to)) {
        v = octstr_format("<%S>", h->in_reply_to);
        g_mime_object_set_header(GMIME_OBJECT(msg), "In-Reply-To",
                                 octstr_get_cstr(v), NULL);
        octstr_destroy(v);
    }
    if (h->references != NULL && octstr_len(h->references) > 0)
        g_mime_object_set_header(GMIME_OBJECT(msg), "References",
                                 octstr_get_cstr(h->references), NULL);
    if (h->draft_n > 0) {
        v = octstr_format("%ld", h->draft_n);
        g_mime_object_set_header(GMIME_OBJECT(msg), DRAFT_HEADER,
                                 octstr_get_cstr(v), NULL);
        octstr_destroy(v);
    }
    g_mime_object_set_header(GMIME_OBJECT(msg), "X-Mailer", "pushmail",
                             NULL);

    if (nparts == 0) {
        GMimeObject *t = text_part(text);
        g_mime_message_set_mime_part(msg, t);
        g_object_unref(t);
    } else {
        mp = g_mime_multipart_new_with_subtype("mixed");
        if (text != NULL && octstr_len(text) > 0) {
            GMimeObject *t = text_part(text);
            g_mime_multipart_add(mp, t);
            g_object_unref(t);
        }
        for (i = 0; i < nparts; i++) {
            GMimeObject *a = attachment_part(gwlist_get((List *) parts, i));
            g_mime_multipart_add(mp, a);
            g_object_unref(a);
        }
        g_mime_message_set_mime_part(msg, GMIME_OBJECT(mp));
        g_object_unref(mp);
    }
    out = message_bytes(msg);
    g_object_unref(msg);
    return out;
}

/* --- reply drafts ---------------------------------------------------- */

long convert_mo_draft_n(const Octstr *message)
{
    long i = 0, len, eol, n;
    const char *p;
    size_t hl = strlen(DRAFT_HEADER);

    if (message == NULL)
        return 0;
    p = octstr_get_cstr(message);
    len = octstr_len(message);
    while (i < len) {
        eol = octstr_search_char(message, '\n', i);
        if (eol < 0)
            eol = len;
        if (eol == i || (eol == i + 1 && p[i] == '\r'))
            return 0;           /* end of the header */
        if ((size_t) (eol - i) > hl + 1 &&
            strncasecmp(p + i, DRAFT_HEADER ":", hl + 1) == 0) {
            Octstr *v = octstr_copy(message, i + hl + 1, eol - i - hl - 1);

            octstr_strip_blanks(v);
            octstr_strip_crlfs(v);
            if (octstr_parse_long(&n, v, 0, 10) != octstr_len(v) || n <= 0)
                n = 0;
            octstr_destroy(v);
            return n;
        }
        i = eol + 1;
    }
    return 0;
}

/* References for a reply: the original's ids (the last REFS_KEEP - 1)
 * and its Message-ID, "<a> <b>"; NULL when there are none. */
static Octstr *reply_references(const Octstr *refs, const Octstr *id)
{
    List *ids = gwlist_create();
    Octstr *out, *one;
    long i = 0, open, close;

    while (refs != NULL &&
           (open = octstr_search_char(refs, '<', i)) >= 0) {
        close = octstr_search_char(refs, '>', open);
        if (close < 0)
            break;
        one = octstr_copy(refs, open + 1, close - open - 1);
        if (msgid_ok(one))
            gwlist_append(ids, one);
        else
            octstr_destroy(one);
        i = close + 1;
    }
    if (msgid_ok(id))
        gwlist_append(ids, octstr_duplicate(id));
    while (gwlist_len(ids) > REFS_KEEP)
        octstr_destroy(gwlist_extract_first(ids));
    if (gwlist_len(ids) == 0) {
        gwlist_destroy(ids, NULL);
        return NULL;
    }
    out = octstr_create("");
    for (i = 0; i < gwlist_len(ids); i++)
        octstr_format_append(out, "%s<%S>", i ? " " : "",
                             gwlist_get(ids, i));
    gwlist_destroy(ids, octstr_destroy_item);
    return out;
}

Octstr *convert_mo_reply_complete(const Octstr *draft,
                                  const Octstr *original, Octstr **to_r,
                                  Octstr **err_r)
{
    ConvertMail *orig;
    GMimeParserOptions *o;
    GMimeStream *stream;
    GMimeParser *parser;
    GMimeMessage *msg;
    Octstr *to, *subject, *refs, *out, *e = NULL;
    long n = convert_mo_draft_n(draft);

    if (err_r != NULL)
        *err_r = NULL;
    *to_r = NULL;
    if (n <= 0) {
        set_err(err_r, octstr_create("not a reply draft"));
        return NULL;
    }
    orig = convert_mail_parse(original, 0, &e);
    octstr_destroy(e);
    if (orig == NULL) {
        set_err(err_r, octstr_format("mail %ld cannot be read", n));
        return NULL;
    }
    to = orig->reply_to != NULL && convert_mo_address_ok(orig->reply_to)
         ? orig->reply_to : orig->from_addr;
    if (!convert_mo_address_ok(to)) {
        convert_mail_destroy(orig);
        set_err(err_r, octstr_format("mail %ld has no address to reply "
                                     "to", n));
        return NULL;
    }
    if (octstr_len(orig->subject) >= 3 &&
        strncasecmp(octstr_get_cstr(orig->subject), "re:", 3) == 0)
        subject = octstr_duplicate(orig->subject);
    else
        subject = octstr_format("Re: %S", orig->subject);
    convert_cut_utf8(subject, CONVERT_MO_SUBJECT_MAX);
    refs = reply_references(orig->references, orig->message_id);

    stream = g_mime_stream_mem_new_with_buffer(octstr_get_cstr(draft),
                                               octstr_len(draft));
    parser = g_mime_parser_new_with_stream(stream);
    g_object_unref(stream);
    o = g_mime_parser_options_new();
    msg = g_mime_parser_construct_message(parser, o);
    g_object_unref(parser);
    g_mime_parser_options_free(o);
    if (msg == NULL) {
        convert_mail_destroy(orig);
        octstr_destroy(subject);
        octstr_destroy(refs);
        set_err(err_r, octstr_create("not a reply draft"));
        return NULL;
    }
    g_mime_object_remove_header(GMIME_OBJECT(msg), DRAFT_HEADER);
    g_mime_message_add_mailbox(msg, GMIME_ADDRESS_TYPE_TO, NULL,
                               octstr_get_cstr(to));
    g_mime_message_set_subject(msg, octstr_get_cstr(subject), "utf-8");
    if (msgid_ok(orig->message_id)) {
        Octstr *v = octstr_format("<%S>", orig->message_id);
        g_mime_object_set_header(GMIME_OBJECT(msg), "In-Reply-To",
                                 octstr_get_cstr(v), NULL);
        octstr_destroy(v);
    }
    if (refs != NULL)
        g_mime_object_set_header(GMIME_OBJECT(msg), "References",
                                 octstr_get_cstr(refs), NULL);
    out = message_bytes(msg);
    g_object_unref(msg);
    *to_r = octstr_duplicate(to);
    convert_mail_destroy(orig);
    octstr_destroy(subject);
    octstr_destroy(refs);
    return out;
}
