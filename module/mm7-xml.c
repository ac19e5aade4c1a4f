/*
 * mm7-xml.c - read the XML of an MM7 peer: strictly, then repaired.
 *
 * The XML is refused outright if it has a DOCTYPE or ENTITY declaration;
 * it is parsed without entity substitution, DTD loading or network
 * (XML_PARSE_NONET), and refused beyond MM7_SOAP_DEPTH.  When the strict
 * parse fails we repair once, the way Mbuni's output needs it: the text
 * of leaf elements that carry free text (Subject, StatusText, ...) is
 * escaped up to its closing tag, any '&' that does not start one of the
 * five predefined or a numeric reference becomes "&amp;", and a '<' that
 * cannot start markup becomes "&lt;".  Then we parse strictly again.
 */
#include <ctype.h>
#include <string.h>

#include "mm7-soap.h"
#include "mm7-xml.h"

#define REPAIR_WINDOW (2L * MM7_VALUE_MAX)

static void silent(void *ctx, const char *msg, ...)
{
    (void) ctx;
    (void) msg;
}

static void silent_structured(void *ctx, xmlErrorPtr e)
{
    (void) ctx;
    (void) e;
}

void mm7_xml_quiet(Mm7XmlQuiet *saved_r)
{
    saved_r->generic = xmlGenericError;
    saved_r->generic_ctx = xmlGenericErrorContext;
    saved_r->structured = xmlStructuredError;
    saved_r->structured_ctx = xmlStructuredErrorContext;
    xmlSetGenericErrorFunc(NULL, silent);
    xmlSetStructuredErrorFunc(NULL, silent_structured);
}

void mm7_xml_unquiet(const Mm7XmlQuiet *saved)
{
    xmlGenericError = saved->generic;
    xmlGenericErrorContext = saved->generic_ctx;
    xmlStructuredError = saved->structured;
    xmlStructuredErrorContext = saved->structured_ctx;
}

/* Leaf elements whose text Mbuni sends without escaping. */
static const char *const free_text[] = {
    "Subject", "StatusText", "Details", "faultstring", "RFC2822Address",
    "Number", "ShortCode", "MessageID", "LinkedID", "TransactionID",
    "MMStatus", "VASPID", "VASID", "ServiceCode", "MMSRelayServerID",
    NULL
};

static int is_free_text(const Octstr *qname)
{
    long colon = octstr_search_char(qname, ':', 0);
    long off = colon < 0 ? 0 : colon + 1;
    int i;

    for (i = 0; free_text[i] != NULL; i++) {
        long n = strlen(free_text[i]);

        if (octstr_len(qname) - off == n
            && memcmp(octstr_get_cstr(qname) + off, free_text[i], n) == 0)
            return 1;
    }
    return 0;
}

/* Does s[pos] ('&') start a reference XML knows without a DTD? */
static int valid_ref(const Octstr *s, long pos)
{
    static const char *const named[] = { "amp;", "lt;", "gt;", "quot;",
                                         "apos;", NULL };
    long n = octstr_len(s), i = pos + 1;
    int j, c, hex, digits = 0;

    for (j = 0; named[j] != NULL; j++)
        if (i + (long) strlen(named[j]) <= n
            && memcmp(octstr_get_cstr(s) + i, named[j],
                      strlen(named[j])) == 0)
            return 1;
    if (octstr_get_char(s, i) != '#')
        return 0;
    i++;
    hex = octstr_get_char(s, i) == 'x';
    if (hex)
        i++;
    for (; i < n && digits <= 8; i++, digits++) {
        c = octstr_get_char(s, i);
        if (c == ';')
            return digits > 0;
        if (!(hex ? isxdigit(c) : isdigit(c)))
            return 0;
    }
    return 0;
}

/* Escape s[from, to) into out: bad '&', every '<' and '>'. */
static void escape_range(Octstr *out, const Octstr *s, long from, long to)
{
    long i;
    int c;

    for (i = from; i < to; i++) {
        c = octstr_get_char(s, i);
        if (c == '&' && !valid_ref(s, i))
            octstr_append_cstr(out, "&amp;");
        else if (c == '<')
            octstr_append_cstr(out, "&lt;");
        else if (c == '>')
            octstr_append_cstr(out, "&gt;");
        else
            octstr_append_char(out, c);
    }
}

/* End of a tag that starts at pos ('<'): index after '>', quotes
 * honoured; -1 if unterminated. */
static long tag_end(const Octstr *s, long pos)
{
    long n = octstr_len(s);
    int c, quote = 0;

    for (pos++; pos < n; pos++) {
        c = octstr_get_char(s, pos);
        if (quote) {
            if (c == quote)
                quote = 0;
        } else if (c == '"' || c == '\'') {
            quote = c;
        } else if (c == '>') {
            return pos + 1;
        }
    }
    return -1;
}

/* Does s have the literal lit at pos? */
static int at(const Octstr *s, long pos, const char *lit)
{
    long l = strlen(lit);

    return pos + l <= octstr_len(s)
           && memcmp(octstr_get_cstr(s) + pos, lit, l) == 0;
}

/* Append s[from, to) to out. */
static void append_range(Octstr *out, const Octstr *s, long from, long to)
{
    octstr_append_data(out, octstr_get_cstr(s) + from, to - from);
}

/* Copy verbatim from pos up to and including `until`; returns the index
 * after it, or n (everything copied). */
static long copy_until(Octstr *out, const Octstr *s, long pos,
                       const char *until)
{
    long e = octstr_search(s, octstr_imm(until), pos);
    long stop = e < 0 ? octstr_len(s) : e + (long) strlen(until);

    append_range(out, s, pos, stop);
    return stop;
}

/*
 * The closing tag "</qname>" (blanks allowed before '>') in s[from,
 * from + REPAIR_WINDOW): its start or -1.  The window keeps the repair
 * linear on hostile input full of unclosed tags.
 */
static long find_close(const Octstr *s, long from, const Octstr *qname)
{
    const char *base = octstr_get_cstr(s), *hit;
    long n = octstr_len(s), end = from + REPAIR_WINDOW, q;
    long ql = octstr_len(qname);

    if (end > n)
        end = n;
    while (from < end) {
        hit = memchr(base + from, '<', end - from);
        if (hit == NULL)
            return -1;
        from = hit - base;
        if (from + 2 + ql <= n && base[from + 1] == '/'
            && memcmp(base + from + 2, octstr_get_cstr(qname), ql) == 0) {
            for (q = from + 2 + ql; q < n && isspace((unsigned char) base[q]);
                 q++)
                ;
            if (q < n && base[q] == '>')
                return from;
        }
        from++;
    }
    return -1;
}

static int name_start(int c)
{
    return isalpha(c) || c == '_' || c == ':' || c >= 0x80;
}

/* The repair pass described at the top of the file.  New Octstr. */
static Octstr *xml_repair(const Octstr *s)
{
    Octstr *out = octstr_create(""), *qname;
    long i = 0, n = octstr_len(s), e, q, c2, ce;
    int c, nc;

    while (i < n) {
        c = octstr_get_char(s, i);
        if (c == '&') {
            if (valid_ref(s, i))
                octstr_append_char(out, c);
            else
                octstr_append_cstr(out, "&amp;");
            i++;
            continue;
        }
        if (c != '<') {
            octstr_append_char(out, c);
            i++;
            continue;
        }
        nc = octstr_get_char(s, i + 1);
        if (nc == '!') {
            if (at(s, i, "<!--"))
                i = copy_until(out, s, i, "-->");
            else if (at(s, i, "<![CDATA["))
                i = copy_until(out, s, i, "]]>");
            else
                i = copy_until(out, s, i, ">");
            continue;
        }
        if (nc == '?') {
            i = copy_until(out, s, i, "?>");
            continue;
        }
        if (nc != '/' && !name_start(nc)) {
            octstr_append_cstr(out, "&lt;");
            i++;
            continue;
        }
        e = tag_end(s, i);
        if (e < 0) {                    /* unterminated: give up here */
            append_range(out, s, i, n);
            break;
        }
        append_range(out, s, i, e);
        if (nc == '/' || octstr_get_char(s, e - 2) == '/') {
            i = e;
            continue;
        }
        for (q = i + 1; q < e - 1; q++) {
            c2 = octstr_get_char(s, q);
            if (isspace(c2) || c2 == '/' || c2 == '>')
                break;
        }
        qname = octstr_copy(s, i + 1, q - i - 1);
        i = e;
        if (is_free_text(qname)
            && (ce = find_close(s, i, qname)) >= 0) {
            escape_range(out, s, i, ce);
            i = ce;                     /* the close tag is copied next */
        }
        octstr_destroy(qname);
    }
    return out;
}

const char *mm7_xml_local_name(const xmlNode *n)
{
    const char *s = (const char *) n->name, *c;

    if (s == NULL)
        return "";
    c = strrchr(s, ':');        /* an undeclared prefix stays in name */
    return c != NULL ? c + 1 : s;
}

int mm7_xml_is(const xmlNode *n, const char *local)
{
    return n != NULL && n->type == XML_ELEMENT_NODE
           && strcmp(mm7_xml_local_name(n), local) == 0;
}

/* Depth of the element tree, stopping early past `limit`. */
static int too_deep(const xmlNode *n, int depth, int limit)
{
    for (; n != NULL; n = n->next) {
        if (n->type != XML_ELEMENT_NODE)
            continue;
        if (depth > limit || too_deep(n->children, depth + 1, limit))
            return 1;
    }
    return 0;
}

/*
 * Parse the SOAP XML: refuse declarations, strict parse, repair, strict
 * parse again.  charset (may be NULL) from the HTTP Content-Type.
 */
xmlDoc *mm7_xml_read(const Octstr *xml, const Octstr *charset,
                        const char **err_r)
{
    const int opts = XML_PARSE_NONET | XML_PARSE_NOERROR
                     | XML_PARSE_NOWARNING;
    const char *enc = NULL;
    Mm7XmlQuiet q;
    xmlDoc *doc;
    Octstr *fixed;

    if (xml == NULL || octstr_len(xml) == 0) {
        *err_r = "empty SOAP body";
        return NULL;
    }
    if (octstr_len(xml) > MM7_SOAP_MAX) {
        *err_r = "SOAP part too large";
        return NULL;
    }
    if (octstr_case_search(xml, octstr_imm("<!DOCTYPE"), 0) >= 0
        || octstr_case_search(xml, octstr_imm("<!ENTITY"), 0) >= 0) {
        *err_r = "DOCTYPE or ENTITY declaration refused";
        return NULL;
    }
    if (charset != NULL && octstr_len(charset) > 0
        && octstr_len(charset) < 40
        && xmlParseCharEncoding(octstr_get_cstr(charset))
           > XML_CHAR_ENCODING_NONE)
        enc = octstr_get_cstr(charset);
    mm7_xml_quiet(&q);
    doc = xmlReadMemory(octstr_get_cstr(xml), octstr_len(xml), NULL, enc,
                        opts);
    if (doc == NULL) {
        fixed = xml_repair(xml);
        if (octstr_len(fixed) <= 2 * MM7_SOAP_MAX)
            doc = xmlReadMemory(octstr_get_cstr(fixed), octstr_len(fixed),
                                NULL, enc, opts);
        octstr_destroy(fixed);
    }
    mm7_xml_unquiet(&q);
    if (doc == NULL) {
        *err_r = "malformed XML";
        return NULL;
    }
    if (doc->intSubset != NULL || doc->extSubset != NULL
        || xmlDocGetRootElement(doc) == NULL) {
        xmlFreeDoc(doc);
        *err_r = "DOCTYPE refused";
        return NULL;
    }
    if (too_deep(xmlDocGetRootElement(doc), 1, MM7_SOAP_DEPTH)) {
        xmlFreeDoc(doc);
        *err_r = "XML nested too deep";
        return NULL;
    }
    return doc;
}

/* First element named `local` below n (depth first), or NULL. */
xmlNode *mm7_xml_find(xmlNode *n, const char *local)
{
    xmlNode *c, *r;

    if (n == NULL)
        return NULL;
    for (c = n->children; c != NULL; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        if (mm7_xml_is(c, local))
            return c;
        if ((r = mm7_xml_find(c, local)) != NULL)
            return r;
    }
    return NULL;
}

xmlNode *mm7_xml_first_child(xmlNode *n)
{
    xmlNode *c;

    for (c = n == NULL ? NULL : n->children; c != NULL; c = c->next)
        if (c->type == XML_ELEMENT_NODE)
            return c;
    return NULL;
}

/* Cut s to at most max bytes without splitting a UTF-8 sequence. */
static void utf8_cut(Octstr *s, long max)
{
    long n = octstr_len(s);

    if (n <= max)
        return;
    n = max;
    while (n > 0 && (octstr_get_char(s, n) & 0xC0) == 0x80)
        n--;
    octstr_truncate(s, n);
}

/* Text content of n, blanks stripped, capped; NULL if empty. */
Octstr *mm7_xml_text(xmlNode *n)
{
    xmlChar *t;
    Octstr *s;

    if (n == NULL || (t = xmlNodeGetContent(n)) == NULL)
        return NULL;
    s = octstr_create((const char *) t);
    xmlFree(t);
    utf8_cut(s, MM7_VALUE_MAX);
    octstr_strip_blanks(s);
    if (octstr_len(s) == 0) {
        octstr_destroy(s);
        return NULL;
    }
    return s;
}

Octstr *mm7_xml_find_text(xmlNode *scope, const char *local)
{
    return mm7_xml_text(mm7_xml_find(scope, local));
}
