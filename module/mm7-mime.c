/*
 * mm7-mime.c - split and join the multipart HTTP bodies of MM7.
 *
 * The splitter finds "--boundary" only at the start of a line and needs
 * the closing "--boundary--": a body cut short is refused, so a truncated
 * MM is never taken for a whole one.  Header lines are unfolded, only the
 * few headers we need are kept, each value cut at MM7_MIME_MAX_VALUE.
 */
#include <ctype.h>
#include <string.h>

#include "mm7-mime.h"

struct Mm7Mime {
    List *parts;            /* Mm7MimePart* */
    Octstr *start;          /* start parameter without <>, or NULL */
};

static void part_destroy(void *p)
{
    Mm7MimePart *part = p;

    if (part == NULL)
        return;
    octstr_destroy(part->content_type);
    octstr_destroy(part->content_id);
    octstr_destroy(part->location);
    octstr_destroy(part->disposition);
    octstr_destroy(part->body);
    gw_free(part);
}

void mm7_mime_destroy(Mm7Mime *m)
{
    if (m == NULL)
        return;
    gwlist_destroy(m->parts, part_destroy);
    octstr_destroy(m->start);
    gw_free(m);
}

long mm7_mime_count(const Mm7Mime *m)
{
    return m == NULL ? 0 : gwlist_len(m->parts);
}

const Mm7MimePart *mm7_mime_get(const Mm7Mime *m, long i)
{
    if (m == NULL || i < 0 || i >= gwlist_len(m->parts))
        return NULL;
    return gwlist_get(m->parts, i);
}

/* ---- header values ---------------------------------------------------- */

Octstr *mm7_mime_type(const Octstr *value)
{
    Octstr *t;
    long semi;

    if (value == NULL)
        return octstr_create("");
    semi = octstr_search_char(value, ';', 0);
    t = octstr_copy(value, 0, semi < 0 ? octstr_len(value) : semi);
    octstr_strip_blanks(t);
    octstr_convert_range(t, 0, octstr_len(t), tolower);
    return t;
}

/* Skip blanks from pos; returns the new position. */
static long skip_blanks(const Octstr *s, long pos)
{
    while (pos < octstr_len(s) && isspace(octstr_get_char(s, pos)))
        pos++;
    return pos;
}

/*
 * Read a parameter value at pos (quoted string with \-escapes, or a token
 * up to ';'); *end_r gets the position after it.  New Octstr.
 */
static Octstr *param_value(const Octstr *s, long pos, long *end_r)
{
    Octstr *v = octstr_create("");
    long n = octstr_len(s);
    int c;

    if (pos < n && octstr_get_char(s, pos) == '"') {
        for (pos++; pos < n; pos++) {
            c = octstr_get_char(s, pos);
            if (c == '"') {
                pos++;
                break;
            }
            if (c == '\\' && pos + 1 < n)
                c = octstr_get_char(s, ++pos);
            octstr_append_char(v, c);
        }
    } else {
        while (pos < n && (c = octstr_get_char(s, pos)) != ';') {
            octstr_append_char(v, c);
            pos++;
        }
        octstr_strip_blanks(v);
    }
    *end_r = pos;
    return v;
}

Octstr *mm7_mime_param(const Octstr *value, const char *name)
{
    long pos, n, eq, end;
    Octstr *key, *v, *want;
    int c;

    if (value == NULL)
        return NULL;
    n = octstr_len(value);
    want = octstr_create(name);
    pos = octstr_search_char(value, ';', 0);
    while (pos >= 0 && pos < n) {
        pos = skip_blanks(value, pos + 1);      /* past ';' */
        for (eq = pos; eq < n; eq++) {
            c = octstr_get_char(value, eq);
            if (c == '=' || c == ';')
                break;
        }
        if (eq >= n)
            break;
        if (octstr_get_char(value, eq) == ';') {
            pos = eq;                           /* a bare word: skip */
            continue;
        }
        key = octstr_copy(value, pos, eq - pos);
        octstr_strip_blanks(key);
        v = param_value(value, skip_blanks(value, eq + 1), &end);
        if (octstr_case_compare(key, want) == 0) {
            octstr_destroy(key);
            octstr_destroy(want);
            return v;
        }
        octstr_destroy(key);
        octstr_destroy(v);
        pos = octstr_search_char(value, ';', end);
    }
    octstr_destroy(want);
    return NULL;
}

/* Content-ID / start value: strip blanks and one pair of <>. */
static Octstr *bare_id(const Octstr *v)
{
    Octstr *id = octstr_duplicate(v);
    long n;

    octstr_strip_blanks(id);
    n = octstr_len(id);
    if (n >= 2 && octstr_get_char(id, 0) == '<'
        && octstr_get_char(id, n - 1) == '>') {
        octstr_delete(id, n - 1, 1);
        octstr_delete(id, 0, 1);
        octstr_strip_blanks(id);
    }
    return id;
}

/* ---- transfer decodings ----------------------------------------------- */

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* RFC 2045 quoted-printable; bad escapes are kept as they are. */
static Octstr *qp_decode(const Octstr *in)
{
    Octstr *out = octstr_create("");
    long i, n = octstr_len(in);
    int c, h, l;

    for (i = 0; i < n; i++) {
        c = octstr_get_char(in, i);
        if (c != '=') {
            octstr_append_char(out, c);
            continue;
        }
        if (i + 1 < n && octstr_get_char(in, i + 1) == '\n') {
            i += 1;                             /* soft break, LF */
        } else if (i + 2 < n && octstr_get_char(in, i + 1) == '\r'
                   && octstr_get_char(in, i + 2) == '\n') {
            i += 2;                             /* soft break, CRLF */
        } else if (i + 2 < n
                   && (h = hexval(octstr_get_char(in, i + 1))) >= 0
                   && (l = hexval(octstr_get_char(in, i + 2))) >= 0) {
            octstr_append_char(out, h * 16 + l);
            i += 2;
        } else {
            octstr_append_char(out, c);
        }
    }
    return out;
}

/* ---- splitting -------------------------------------------------------- */

/* Keep a header of interest; value cut at MM7_MIME_MAX_VALUE. */
static void part_header(Mm7MimePart *p, Octstr *name, Octstr *value,
                        Octstr **cte)
{
    Octstr **slot = NULL;

    if (octstr_len(value) > MM7_MIME_MAX_VALUE)
        octstr_truncate(value, MM7_MIME_MAX_VALUE);
    octstr_strip_blanks(value);
    if (octstr_case_compare(name, octstr_imm("Content-Type")) == 0)
        slot = &p->content_type;
    else if (octstr_case_compare(name, octstr_imm("Content-ID")) == 0) {
        Octstr *id = bare_id(value);

        octstr_destroy(value);
        value = id;
        slot = &p->content_id;
    } else if (octstr_case_compare(name,
                                   octstr_imm("Content-Location")) == 0)
        slot = &p->location;
    else if (octstr_case_compare(name,
                                 octstr_imm("Content-Disposition")) == 0)
        slot = &p->disposition;
    else if (octstr_case_compare(name,
                  octstr_imm("Content-Transfer-Encoding")) == 0)
        slot = cte;
    if (slot == NULL || *slot != NULL) {        /* first one wins */
        octstr_destroy(value);
        return;
    }
    *slot = value;
}

/*
 * Parse one part: raw = header + empty line + body (or only a body if it
 * starts with an empty line).  NULL with *err_r on a header too long.
 */
static Mm7MimePart *part_parse(const Octstr *raw, const char **err_r)
{
    Mm7MimePart *p = gw_malloc(sizeof(*p));
    Octstr *cte = NULL, *name = NULL, *value = NULL, *line;
    long pos = 0, eol, n = octstr_len(raw), colon;
    int c;

    memset(p, 0, sizeof(*p));
    for (;;) {
        if (pos >= n)
            break;
        if (pos > MM7_MIME_MAX_HEADER) {
            *err_r = "part header too long";
            goto fail;
        }
        eol = octstr_search_char(raw, '\n', pos);
        if (eol < 0)
            eol = n;
        line = octstr_copy(raw, pos, eol - pos);
        if (octstr_len(line) > 0
            && octstr_get_char(line, octstr_len(line) - 1) == '\r')
            octstr_delete(line, octstr_len(line) - 1, 1);
        pos = eol + 1;
        if (octstr_len(line) == 0) {            /* end of the header */
            octstr_destroy(line);
            break;
        }
        c = octstr_get_char(line, 0);
        if ((c == ' ' || c == '\t') && value != NULL) {
            if (octstr_len(value) <= MM7_MIME_MAX_VALUE)
                octstr_append(value, line);     /* folded line */
            octstr_destroy(line);
            continue;
        }
        if (name != NULL)
            part_header(p, name, value, &cte);
        octstr_destroy(name);
        name = value = NULL;
        colon = octstr_search_char(line, ':', 0);
        if (colon > 0) {
            name = octstr_copy(line, 0, colon);
            octstr_strip_blanks(name);
            value = octstr_copy(line, colon + 1, octstr_len(line));
        }
        octstr_destroy(line);
    }
    if (name != NULL)
        part_header(p, name, value, &cte);
    octstr_destroy(name);
    p->body = octstr_copy(raw, pos > n ? n : pos, n);
    if (cte != NULL) {
        if (octstr_case_compare(cte, octstr_imm("base64")) == 0) {
            octstr_base64_to_binary(p->body);
        } else if (octstr_case_compare(cte,
                        octstr_imm("quoted-printable")) == 0) {
            Octstr *d = qp_decode(p->body);

            octstr_destroy(p->body);
            p->body = d;
        }
        octstr_destroy(cte);
    }
    return p;

fail:
    octstr_destroy(name);
    octstr_destroy(value);
    octstr_destroy(cte);
    part_destroy(p);
    return NULL;
}

/*
 * Find the next delimiter line at or after pos: "--boundary" at the start
 * of a line, followed by "--" (close, *close_r = 1) or by blanks and a
 * line end.  Returns its start, *after_r = first byte of the next part
 * (after the line end), or -1.
 */
static long find_delim(const Octstr *body, const Octstr *delim, long pos,
                       long *after_r, int *close_r)
{
    long n = octstr_len(body), dl = octstr_len(delim), p, q;
    int c;

    while ((p = octstr_search(body, delim, pos)) >= 0) {
        pos = p + 1;
        if (p > 0 && octstr_get_char(body, p - 1) != '\n')
            continue;
        q = p + dl;
        if (q + 1 < n && octstr_get_char(body, q) == '-'
            && octstr_get_char(body, q + 1) == '-') {
            *close_r = 1;
            *after_r = n;
            return p;
        }
        while (q < n && ((c = octstr_get_char(body, q)) == ' '
                         || c == '\t' || c == '\r'))
            q++;
        if (q < n && octstr_get_char(body, q) != '\n')
            continue;                           /* a longer boundary */
        *close_r = 0;
        *after_r = q < n ? q + 1 : n;
        return p;
    }
    return -1;
}

Mm7Mime *mm7_mime_split(const Octstr *body, const Octstr *content_type,
                        const char **err_r)
{
    Octstr *type = mm7_mime_type(content_type), *boundary, *delim, *raw;
    Octstr *start;
    Mm7Mime *m;
    Mm7MimePart *part;
    long p, next, after, end;
    int close = 0;

    if (octstr_str_ncompare(type, "multipart/", 10) != 0) {
        octstr_destroy(type);
        *err_r = "not multipart";
        return NULL;
    }
    octstr_destroy(type);
    boundary = mm7_mime_param(content_type, "boundary");
    if (boundary == NULL || octstr_len(boundary) == 0
        || octstr_len(boundary) > 200) {
        octstr_destroy(boundary);
        *err_r = "no usable boundary parameter";
        return NULL;
    }
    delim = octstr_format("--%S", boundary);
    octstr_destroy(boundary);
    m = gw_malloc(sizeof(*m));
    m->parts = gwlist_create();
    start = mm7_mime_param(content_type, "start");
    m->start = start == NULL ? NULL : bare_id(start);
    octstr_destroy(start);

    p = find_delim(body, delim, 0, &after, &close);
    if (p < 0 || close) {
        *err_r = "no body part";
        goto fail;
    }
    for (;;) {
        next = find_delim(body, delim, after, &end, &close);
        if (next < 0) {
            *err_r = "no closing boundary";
            goto fail;
        }
        if (gwlist_len(m->parts) >= MM7_MIME_MAX_PARTS) {
            *err_r = "too many parts";
            goto fail;
        }
        /* the line end before the delimiter belongs to the delimiter */
        p = next;
        if (p > after && octstr_get_char(body, p - 1) == '\n')
            p--;
        if (p > after && octstr_get_char(body, p - 1) == '\r')
            p--;
        raw = octstr_copy(body, after, p - after);
        part = part_parse(raw, err_r);
        octstr_destroy(raw);
        if (part == NULL)
            goto fail;
        gwlist_append(m->parts, part);
        if (close)
            break;
        after = end;
    }
    octstr_destroy(delim);
    return m;

fail:
    octstr_destroy(delim);
    mm7_mime_destroy(m);
    return NULL;
}

static int is_soap_type(const Octstr *ct)
{
    Octstr *t = mm7_mime_type(ct);
    int r = octstr_str_compare(t, "text/xml") == 0
            || octstr_str_compare(t, "application/soap+xml") == 0
            || octstr_str_compare(t, "application/xml") == 0;

    octstr_destroy(t);
    return r;
}

const Mm7MimePart *mm7_mime_start(const Mm7Mime *m)
{
    Mm7MimePart *p;
    long i;

    if (m == NULL || gwlist_len(m->parts) == 0)
        return NULL;
    if (m->start != NULL && octstr_len(m->start) > 0) {
        for (i = 0; i < gwlist_len(m->parts); i++) {
            p = gwlist_get(m->parts, i);
            if (p->content_id != NULL
                && octstr_compare(p->content_id, m->start) == 0)
                return p;
        }
    }
    for (i = 0; i < gwlist_len(m->parts); i++) {
        p = gwlist_get(m->parts, i);
        if (is_soap_type(p->content_type))
            return p;
    }
    return gwlist_get(m->parts, 0);
}

/* "cid:abc%40x" -> "abc@x"; the <> some peers add stripped too. */
static Octstr *href_to_cid(const Octstr *href)
{
    Octstr *id = octstr_duplicate(href), *b;

    octstr_strip_blanks(id);
    if (octstr_case_search(id, octstr_imm("cid:"), 0) == 0)
        octstr_delete(id, 0, 4);
    if (octstr_search_char(id, '%', 0) >= 0) {
        b = octstr_duplicate(id);
        if (octstr_url_decode(b) == 0) {
            octstr_destroy(id);
            id = b;
        } else {
            octstr_destroy(b);
        }
    }
    b = bare_id(id);
    octstr_destroy(id);
    return b;
}

/* pass 0 exact, 1 case-insensitive, 2 prefix either way, 3 location */
static int cid_matches(const Mm7MimePart *p, const Octstr *id, int pass)
{
    const Octstr *c = pass == 3 ? p->location : p->content_id;
    long cl, il = octstr_len(id);

    if (c == NULL || octstr_len(c) == 0 || il == 0)
        return 0;
    cl = octstr_len(c);
    switch (pass) {
    case 0:
        return octstr_compare(c, id) == 0;
    case 1:
        return octstr_case_compare(c, id) == 0;
    case 2:
        return octstr_ncompare(c, id, cl < il ? cl : il) == 0;
    default:
        return octstr_compare(c, id) == 0;
    }
}

const Mm7MimePart *mm7_mime_by_cid(const Mm7Mime *m, const Octstr *href,
                                   const Mm7MimePart *skip)
{
    Octstr *id;
    Mm7MimePart *p;
    long i;
    int pass;

    if (m == NULL || href == NULL)
        return NULL;
    id = href_to_cid(href);
    for (pass = 0; pass < 4; pass++) {
        for (i = 0; i < gwlist_len(m->parts); i++) {
            p = gwlist_get(m->parts, i);
            if (p != skip && cid_matches(p, id, pass)) {
                octstr_destroy(id);
                return p;
            }
        }
    }
    octstr_destroy(id);
    return NULL;
}

/* ---- joining ---------------------------------------------------------- */

/* A header value we may copy: no line ends (header injection). */
static int header_safe(const Octstr *s)
{
    return s != NULL && octstr_search_char(s, '\r', 0) < 0
           && octstr_search_char(s, '\n', 0) < 0;
}

/* A Content-ID without <>: printable ASCII, no blanks, '<', '>', '"'. */
static int cid_safe(const Octstr *s)
{
    long i;
    int c;

    if (s == NULL || octstr_len(s) == 0 || octstr_len(s) > 255)
        return 0;
    for (i = 0; i < octstr_len(s); i++) {
        c = octstr_get_char(s, i);
        if (c <= 0x20 || c >= 0x7f || c == '<' || c == '>' || c == '"')
            return 0;
    }
    return 1;
}

Octstr *mm7_mime_join(const Octstr *soap, const Octstr *mm_type,
                      const Octstr *mm_body, const Octstr *mm_cid,
                      Octstr **content_type_r)
{
    Octstr *boundary = NULL, *soap_cid, *body;
    int tries;

    if (!header_safe(mm_type) || !cid_safe(mm_cid) || soap == NULL
        || mm_body == NULL)
        return NULL;
    /* A random boundary that occurs in neither part; a collision is
     * astronomically rare, but checking is cheap and makes it certain. */
    for (tries = 0; ; tries++) {
        boundary = octstr_format("mm7-%08x%08x-%d", (unsigned) gw_rand(),
                                 (unsigned) gw_rand(), tries);
        if (octstr_search(soap, boundary, 0) < 0
            && octstr_search(mm_body, boundary, 0) < 0)
            break;
        octstr_destroy(boundary);
    }
    soap_cid = octstr_format("soap-%08x@pushmail", (unsigned) gw_rand());
    if (octstr_compare(soap_cid, mm_cid) == 0)
        octstr_append_cstr(soap_cid, "-0");
    body = octstr_format("--%S\r\n"
                         "Content-Type: text/xml; charset=\"utf-8\"\r\n"
                         "Content-ID: <%S>\r\n\r\n", boundary, soap_cid);
    octstr_append(body, soap);
    octstr_format_append(body, "\r\n--%S\r\nContent-Type: %S\r\n"
                         "Content-ID: <%S>\r\n\r\n", boundary, mm_type,
                         mm_cid);
    octstr_append(body, mm_body);
    octstr_format_append(body, "\r\n--%S--\r\n", boundary);
    *content_type_r = octstr_format("multipart/related; boundary=\"%S\"; "
                                    "type=\"text/xml\"; start=\"<%S>\"",
                                    boundary, soap_cid);
    octstr_destroy(boundary);
    octstr_destroy(soap_cid);
    return body;
}
