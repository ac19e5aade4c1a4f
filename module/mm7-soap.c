/*
 * mm7-soap.c - MM7 SOAP envelopes: read the MMSC's, write ours.
 *
 * Reading goes through mm7-xml (strict parse, then Mbuni repair; no
 * DOCTYPE, no entities); elements are looked up by local name anywhere
 * below the operation, so neither element order nor namespace prefixes
 * matter.
 *
 * Writing: libxml2 builds the tree and escapes every value; values that
 * are not valid UTF-8 or contain control characters are refused (the
 * Subject is cleaned and cut instead).
 */
#include <ctype.h>
#include <string.h>

#include <gmime/gmime.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlstring.h>

#include "mm7-mime.h"
#include "mm7-soap.h"
#include "convert-text.h"
#include "mm7-xml.h"

#define SOAP_ENV "http://schemas.xmlsoap.org/soap/envelope/"
#define ID_MAX 255

/* ---- the plain structs ------------------------------------------------ */

Mm7Deliver *mm7_deliver_create(void)
{
    Mm7Deliver *d = gw_malloc(sizeof(*d));

    memset(d, 0, sizeof(*d));
    d->recipients = gwlist_create();
    return d;
}

void mm7_deliver_destroy(Mm7Deliver *d)
{
    if (d == NULL)
        return;
    octstr_destroy(d->mmsc_id);
    octstr_destroy(d->transaction_id);
    octstr_destroy(d->message_id);
    octstr_destroy(d->sender);
    gwlist_destroy(d->recipients, octstr_destroy_item);
    octstr_destroy(d->subject);
    octstr_destroy(d->linked_id);
    octstr_destroy(d->content_type);
    octstr_destroy(d->content);
    gw_free(d);
}

Mm7Report *mm7_report_create(void)
{
    Mm7Report *r = gw_malloc(sizeof(*r));

    memset(r, 0, sizeof(*r));
    return r;
}

void mm7_report_destroy(Mm7Report *r)
{
    if (r == NULL)
        return;
    octstr_destroy(r->mmsc_id);
    octstr_destroy(r->message_id);
    octstr_destroy(r->recipient);
    octstr_destroy(r->status);
    octstr_destroy(r->status_text);
    gw_free(r);
}

void mm7_soap_init(void)
{
    xmlInitParser();
    g_mime_init();
}

void mm7_soap_deinit(void)
{
    g_mime_shutdown();
}

/* ---- status codes ----------------------------------------------------- */

static const struct {
    long code;
    const char *text;
} status_texts[] = {
    { 1000, "Success" }, { 1100, "Partial success" },
    { 2000, "Client error" }, { 2001, "Operation restricted" },
    { 2002, "Address Error" }, { 2003, "Address Not Found" },
    { 2004, "Multimedia content refused" },
    { 2005, "Message ID Not found" }, { 2006, "LinkedID not found" },
    { 2007, "Message format corrupt" },
    { 3000, "Server Error" }, { 3001, "Not Possible" },
    { 3002, "Message rejected" },
    { 3003, "Multiple addresses not supported" },
    { 4000, "General service error" }, { 4001, "Improper identification" },
    { 4002, "Unsupported version" }, { 4003, "Unsupported operation" },
    { 4004, "Validation error" }, { 4005, "Service error" },
    { 4006, "Service unavailable" }, { 4007, "Service denied" },
};

const char *mm7_status_text(long code)
{
    size_t i;

    for (i = 0; i < sizeof(status_texts) / sizeof(status_texts[0]); i++)
        if (status_texts[i].code == code)
            return status_texts[i].text;
    switch (code / 1000) {
    case 1: return "Success";
    case 2: return "Client error";
    case 3: return "Server Error";
    case 4: return "General service error";
    default: return "Unknown status";
    }
}

int mm7_status_class(long code)
{
    switch (code / 1000) {
    case 1: return MM7_CLASS_OK;
    case 3:
    case 4: return MM7_CLASS_RETRY;
    default: return MM7_CLASS_PERMANENT;
    }
}

/* An ID we pass on (MessageID, LinkedID): printable ASCII, no blanks. */
static int id_ok(const Octstr *s)
{
    long i;
    int c;

    if (s == NULL || octstr_len(s) == 0 || octstr_len(s) > ID_MAX)
        return 0;
    for (i = 0; i < octstr_len(s); i++) {
        c = octstr_get_char(s, i);
        if (c <= 0x20 || c >= 0x7f)
            return 0;
    }
    return 1;
}

/* Keep s if it is a good ID, else free it; returns s or NULL. */
static Octstr *id_or_null(Octstr *s)
{
    if (id_ok(s))
        return s;
    octstr_destroy(s);
    return NULL;
}

/* ---- addresses -------------------------------------------------------- */

enum { ADDR_NONE, ADDR_NUMBER, ADDR_EMAIL, ADDR_SHORT, ADDR_TEXT };

/*
 * Normalise a peer's address: "+4670.../TYPE=PLMN" -> "+4670...",
 * "Bob <bob@x>" -> "bob@x", "mailto:"/"tel:" dropped.  Takes a; returns
 * it or NULL when nothing sane (1..256 printable ASCII, no blanks) is
 * left.
 */
static Octstr *addr_norm(Octstr *a)
{
    long p, q;

    if (a == NULL)
        return NULL;
    octstr_strip_blanks(a);
    p = octstr_search_char(a, '<', 0);
    q = octstr_search_char(a, '>', p < 0 ? 0 : p);
    if (p >= 0 && q > p) {
        Octstr *in = octstr_copy(a, p + 1, q - p - 1);

        octstr_destroy(a);
        a = in;
        octstr_strip_blanks(a);
    }
    p = octstr_case_search(a, octstr_imm("/TYPE="), 0);
    if (p >= 0)
        octstr_truncate(a, p);
    if (octstr_case_search(a, octstr_imm("mailto:"), 0) == 0)
        octstr_delete(a, 0, 7);
    else if (octstr_case_search(a, octstr_imm("tel:"), 0) == 0)
        octstr_delete(a, 0, 4);
    octstr_strip_blanks(a);
    if (octstr_len(a) > 256 || !id_ok(a)) {
        octstr_destroy(a);
        return NULL;
    }
    return a;
}

static int addr_kind(const xmlNode *n)
{
    if (mm7_xml_is(n, "Number"))
        return ADDR_NUMBER;
    if (mm7_xml_is(n, "RFC2822Address"))
        return ADDR_EMAIL;
    if (mm7_xml_is(n, "ShortCode"))
        return ADDR_SHORT;
    return ADDR_NONE;
}

/* The first address in a Sender/Recipient/To element (its child Number,
 * RFC2822Address or ShortCode, else its own text); *kind_r says which. */
static Octstr *addr_of(xmlNode *container, int *kind_r)
{
    xmlNode *c;
    Octstr *a;
    int k;

    *kind_r = ADDR_NONE;
    if (container == NULL)
        return NULL;
    for (c = container->children; c != NULL; c = c->next) {
        if ((k = addr_kind(c)) != ADDR_NONE
            && (a = addr_norm(mm7_xml_text(c))) != NULL) {
            *kind_r = k;
            return a;
        }
    }
    if (mm7_xml_first_child(container) != NULL)
        return NULL;
    if ((a = addr_norm(mm7_xml_text(container))) != NULL)
        *kind_r = ADDR_TEXT;
    return a;
}

/* Every address in To/Cc/Bcc of a Recipients element. */
static void recipients_of(xmlNode *rs, List *out)
{
    xmlNode *t, *c;
    Octstr *a;
    int k;

    for (t = rs == NULL ? NULL : rs->children; t != NULL; t = t->next) {
        if (!mm7_xml_is(t, "To") && !mm7_xml_is(t, "Cc")
            && !mm7_xml_is(t, "Bcc"))
            continue;
        if (mm7_xml_first_child(t) == NULL) {            /* bare text */
            if ((a = addr_of(t, &k)) != NULL
                && gwlist_len(out) < MM7_MAX_RECIPIENTS)
                gwlist_append(out, a);
            else
                octstr_destroy(a);
            continue;
        }
        for (c = t->children; c != NULL; c = c->next) {
            if (addr_kind(c) == ADDR_NONE)
                continue;
            a = addr_norm(mm7_xml_text(c));
            if (a != NULL && gwlist_len(out) < MM7_MAX_RECIPIENTS)
                gwlist_append(out, a);
            else
                octstr_destroy(a);
        }
    }
}

/* ---- small value parsers ---------------------------------------------- */

/* "2024-05-14T10:16:02Z", optional fraction and zone; 0 if bad. */
static long iso_time(const Octstr *s)
{
    struct universaltime ut;
    int y, mo, d, h, mi, se, zh = 0, zm = 0, n = 0, sign = 0;
    const char *p;
    long t;

    if (s == NULL)
        return 0;
    p = octstr_get_cstr(s);
    if (sscanf(p, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &se,
               &n) != 6 || n == 0)
        return 0;
    p += n;
    if (*p == '.' || *p == ',')
        for (p++; isdigit((unsigned char) *p); p++)
            ;
    if (*p == '+' || *p == '-') {
        sign = *p == '+' ? 1 : -1;
        if (sscanf(p + 1, "%2d:%2d", &zh, &zm) != 2
            && sscanf(p + 1, "%2d%2d", &zh, &zm) != 2)
            return 0;
    }
    if (y < 1970 || y > 9999 || mo < 1 || mo > 12 || d < 1 || d > 31
        || h < 0 || h > 23 || mi < 0 || mi > 59 || se < 0 || se > 60
        || zh < 0 || zh > 23 || zm < 0 || zm > 59)
        return 0;
    ut.year = y;
    ut.month = mo - 1;
    ut.day = d;
    ut.hour = h;
    ut.minute = mi;
    ut.second = se;
    t = date_convert_universal(&ut);
    return t - sign * (zh * 3600L + zm * 60L);
}

/* A StatusCode: 1..5 digits; -1 if not. */
static long status_code(const Octstr *s)
{
    long i, v = 0;
    int c;

    if (s == NULL || octstr_len(s) == 0 || octstr_len(s) > 5)
        return -1;
    for (i = 0; i < octstr_len(s); i++) {
        c = octstr_get_char(s, i);
        if (!isdigit(c))
            return -1;
        v = v * 10 + (c - '0');
    }
    return v;
}

Octstr *mm7_subject_decode(Octstr *s)
{
    Octstr *r;

    if (s == NULL)
        return NULL;
    r = convert_header_decode(s);
    octstr_destroy(s);
    return r;
}

/* ---- the SOAP part of a (possibly multipart) body ---------------------- */

/*
 * The SOAP XML of body: the start part of a multipart body (*mime_r and
 * *soap_r set, both owned by *mime_r) or the body itself.  Returns the
 * parsed document or NULL with *err_r.
 */
static xmlDoc *soap_doc(const Octstr *body, const Octstr *content_type,
                        Mm7Mime **mime_r, const Mm7MimePart **soap_r,
                        const char **err_r)
{
    Octstr *type = mm7_mime_type(content_type), *charset;
    const Octstr *xml = body, *ct = content_type;
    xmlDoc *doc;

    *mime_r = NULL;
    *soap_r = NULL;
    if (octstr_str_ncompare(type, "multipart/", 10) == 0) {
        *mime_r = mm7_mime_split(body, content_type, err_r);
        if (*mime_r == NULL) {
            octstr_destroy(type);
            return NULL;
        }
        *soap_r = mm7_mime_start(*mime_r);
        xml = (*soap_r)->body;
        ct = (*soap_r)->content_type;
    }
    octstr_destroy(type);
    charset = mm7_mime_param(ct, "charset");
    doc = mm7_xml_read(xml, charset, err_r);
    octstr_destroy(charset);
    if (doc == NULL) {
        mm7_mime_destroy(*mime_r);
        *mime_r = NULL;
        *soap_r = NULL;
    }
    return doc;
}

static xmlNode *soap_op(xmlDoc *doc)
{
    xmlNode *root = xmlDocGetRootElement(doc);

    if (!mm7_xml_is(root, "Envelope"))
        return NULL;
    return mm7_xml_first_child(mm7_xml_find(root, "Body"));
}

/* ---- responses to our requests ---------------------------------------- */

void mm7_result_clear(Mm7Result *r)
{
    if (r == NULL)
        return;
    octstr_destroy(r->status_text);
    octstr_destroy(r->details);
    octstr_destroy(r->message_id);
    octstr_destroy(r->transaction_id);
    octstr_destroy(r->op);
    memset(r, 0, sizeof(*r));
    r->status_code = -1;
}

int mm7_parse_response(const Octstr *body, const Octstr *content_type,
                       long http_status, Mm7Result *r)
{
    const Mm7MimePart *soap;
    const char *err = NULL;
    Mm7Mime *mime;
    xmlDoc *doc;
    xmlNode *op, *scope, *inner;
    Octstr *s;

    memset(r, 0, sizeof(*r));
    r->status_code = -1;
    doc = soap_doc(body, content_type, &mime, &soap, &err);
    mm7_mime_destroy(mime);
    if (doc == NULL) {
        r->status_text = octstr_format("HTTP %ld, %s", http_status, err);
        return -1;
    }
    op = soap_op(doc);
    if (op == NULL) {
        r->status_text = octstr_format("HTTP %ld, not a SOAP envelope",
                                       http_status);
        xmlFreeDoc(doc);
        return -1;
    }
    r->transaction_id = mm7_xml_find_text(xmlDocGetRootElement(doc),
                                  "TransactionID");
    scope = op;
    if (mm7_xml_is(op, "Fault")) {
        r->fault = 1;
        inner = mm7_xml_first_child(mm7_xml_find(op, "detail"));
        if (inner == NULL)
            inner = mm7_xml_first_child(mm7_xml_find(op, "Detail"));
        if (inner != NULL)
            scope = inner;
    }
    r->op = octstr_create(mm7_xml_local_name(scope));
    s = mm7_xml_find_text(scope, "StatusCode");
    r->status_code = status_code(s);
    octstr_destroy(s);
    r->status_text = mm7_xml_find_text(scope, "StatusText");
    if (r->status_text == NULL && r->fault)
        r->status_text = mm7_xml_find_text(op, "faultstring");
    r->details = mm7_xml_find_text(scope, "Details");
    r->message_id = id_or_null(mm7_xml_find_text(scope, "MessageID"));
    xmlFreeDoc(doc);
    if (r->status_code < 0) {
        if (r->status_text == NULL)
            r->status_text = octstr_format("HTTP %ld, %s without StatusCode",
                                           http_status,
                                           r->fault ? "SOAP Fault"
                                                    : "answer");
        return -1;
    }
    return 0;
}

/* ---- requests from the MMSC ------------------------------------------- */

void mm7_request_clear(Mm7Request *q)
{
    if (q == NULL)
        return;
    octstr_destroy(q->op);
    octstr_destroy(q->transaction_id);
    octstr_destroy(q->xmlns);
    octstr_destroy(q->version);
    mm7_report_destroy(q->report);
    mm7_deliver_destroy(q->deliver);
    memset(q, 0, sizeof(*q));
    q->error_text = "";
}

static int req_fail(Mm7Request *q, long code, const char *text)
{
    q->error_code = code;
    q->error_text = text;
    return -1;
}

static int parse_report(Mm7Request *q, xmlNode *op)
{
    Mm7Report *r = mm7_report_create();
    Octstr *rec, *snd, *date;
    int krec, ksnd;

    q->report = r;
    q->type = MM7_REQ_DELIVERY_REPORT;
    r->message_id = id_or_null(mm7_xml_find_text(op, "MessageID"));
    if (r->message_id == NULL)
        return req_fail(q, MM7_VALIDATION_ERROR,
                        "MessageID missing or invalid");
    r->status = mm7_xml_find_text(op, "MMStatus");
    if (r->status == NULL || !id_ok(r->status))
        return req_fail(q, MM7_VALIDATION_ERROR,
                        "MMStatus missing or invalid");
    r->status_text = mm7_xml_find_text(op, "StatusText");
    rec = addr_of(mm7_xml_find(op, "Recipient"), &krec);
    snd = addr_of(mm7_xml_find(op, "Sender"), &ksnd);
    /* Mbuni swaps them: the handset is the one that is not a short code */
    if ((rec == NULL || krec == ADDR_SHORT) && snd != NULL
        && ksnd != ADDR_SHORT) {
        r->recipient = snd;
        octstr_destroy(rec);
    } else {
        r->recipient = rec;
        octstr_destroy(snd);
    }
    date = mm7_xml_find_text(op, "Date");
    if (date == NULL)
        date = mm7_xml_find_text(op, "TimeStamp");
    r->date = iso_time(date);
    octstr_destroy(date);
    return 0;
}

static int parse_deliver(Mm7Request *q, xmlNode *op, const Mm7Mime *mime,
                         const Mm7MimePart *soap)
{
    Mm7Deliver *d = mm7_deliver_create();
    const Mm7MimePart *mm = NULL;
    xmlNode *content;
    xmlChar *href = NULL;
    Octstr *h;
    int kind;

    q->deliver = d;
    q->type = MM7_REQ_DELIVER;
    if (q->transaction_id != NULL)
        d->transaction_id = octstr_duplicate(q->transaction_id);
    d->sender = addr_of(mm7_xml_find(op, "Sender"), &kind);
    if (d->sender == NULL)
        return req_fail(q, MM7_VALIDATION_ERROR, "Sender missing or invalid");
    recipients_of(mm7_xml_find(op, "Recipients"), d->recipients);
    d->subject = mm7_subject_decode(mm7_xml_find_text(op, "Subject"));
    d->linked_id = id_or_null(mm7_xml_find_text(op, "LinkedID"));
    d->message_id = id_or_null(mm7_xml_find_text(op, "MessageID"));
    content = mm7_xml_find(op, "Content");
    if (content != NULL)
        href = xmlGetProp(content, (const xmlChar *) "href");
    if (href != NULL) {
        h = octstr_create((const char *) href);
        xmlFree(href);
        mm = mm7_mime_by_cid(mime, h, soap);
        octstr_destroy(h);
    }
    if (mm == NULL && mm7_mime_count(mime) == 2)       /* SOAP + MM */
        mm = mm7_mime_get(mime, mm7_mime_get(mime, 0) == soap ? 1 : 0);
    if (mm == NULL && content != NULL)
        return req_fail(q, MM7_VALIDATION_ERROR,
                        "the Content part is missing");
    if (mm != NULL) {
        d->content_type = mm->content_type != NULL
                          ? octstr_duplicate(mm->content_type)
                          : octstr_create("text/plain");
        d->content = octstr_duplicate(mm->body);
    }
    return 0;
}

int mm7_parse_request(const Octstr *body, const Octstr *content_type,
                      Mm7Request *q)
{
    const Mm7MimePart *soap;
    const char *err = NULL;
    Mm7Mime *mime;
    xmlDoc *doc;
    xmlNode *op;
    int ret = 0;

    memset(q, 0, sizeof(*q));
    q->error_text = "";
    q->type = MM7_REQ_UNSUPPORTED;
    doc = soap_doc(body, content_type, &mime, &soap, &err);
    if (doc == NULL)
        return req_fail(q, MM7_FORMAT_CORRUPT, err);
    op = soap_op(doc);
    q->transaction_id = mm7_xml_find_text(xmlDocGetRootElement(doc),
                                  "TransactionID");
    if (op == NULL) {
        ret = req_fail(q, MM7_FORMAT_CORRUPT, "not a SOAP envelope");
        goto out;
    }
    q->op = octstr_create(mm7_xml_local_name(op));
    if (op->ns != NULL && op->ns->href != NULL)
        q->xmlns = octstr_create((const char *) op->ns->href);
    q->version = mm7_xml_find_text(op, "MM7Version");
    if (mm7_xml_is(op, "DeliveryReportReq"))
        ret = parse_report(q, op);
    else if (mm7_xml_is(op, "DeliverReq"))
        ret = parse_deliver(q, op, mime, soap);
out:
    xmlFreeDoc(doc);
    mm7_mime_destroy(mime);
    return ret;
}

/* ---- writing ---------------------------------------------------------- */

/* Valid UTF-8 without NUL or control characters other than TAB/LF/CR. */
static int xml_safe(const Octstr *s)
{
    long i;
    int c;

    if (s == NULL)
        return 0;
    for (i = 0; i < octstr_len(s); i++) {
        c = octstr_get_char(s, i);
        if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f)
            return 0;
    }
    return xmlCheckUTF8((const xmlChar *) octstr_get_cstr(s)) != 0;
}

/* A new envelope; returns the Body element, *doc_r the document. */
static xmlNode *env_new(xmlDoc **doc_r, xmlNs **env_r, const char *xmlns,
                        const Octstr *tid)
{
    xmlDoc *doc = xmlNewDoc((const xmlChar *) "1.0");
    xmlNode *env, *hdr, *t, *body;
    xmlNs *ns, *mm7;

    env = xmlNewNode(NULL, (const xmlChar *) "Envelope");
    ns = xmlNewNs(env, (const xmlChar *) SOAP_ENV, (const xmlChar *) "env");
    xmlSetNs(env, ns);
    xmlDocSetRootElement(doc, env);
    if (tid != NULL && xml_safe(tid)) {
        hdr = xmlNewChild(env, ns, (const xmlChar *) "Header", NULL);
        t = xmlNewTextChild(hdr, NULL, (const xmlChar *) "TransactionID",
                            (const xmlChar *) octstr_get_cstr(tid));
        mm7 = xmlNewNs(t, (const xmlChar *) xmlns, (const xmlChar *) "mm7");
        xmlSetNs(t, mm7);
        xmlNewNsProp(t, ns, (const xmlChar *) "mustUnderstand",
                     (const xmlChar *) "1");
    }
    body = xmlNewChild(env, ns, (const xmlChar *) "Body", NULL);
    *doc_r = doc;
    *env_r = ns;
    return body;
}

/* An operation element in the default namespace xmlns. */
static xmlNode *op_new(xmlNode *parent, const char *name, const char *xmlns)
{
    xmlNode *op = xmlNewChild(parent, NULL, (const xmlChar *) name, NULL);
    xmlNs *ns = xmlNewNs(op, (const xmlChar *) xmlns, NULL);

    xmlSetNs(op, ns);
    return op;
}

static xmlNode *add(xmlNode *parent, const char *name, const char *value)
{
    return xmlNewTextChild(parent, parent->ns, (const xmlChar *) name,
                           (const xmlChar *) value);
}

static Octstr *doc_out(xmlDoc *doc)
{
    xmlChar *buf = NULL;
    int len = 0;
    Octstr *s;
    Mm7XmlQuiet q;

    mm7_xml_quiet(&q);
    xmlDocDumpFormatMemoryEnc(doc, &buf, &len, "UTF-8", 1);
    mm7_xml_unquiet(&q);
    s = buf == NULL || len <= 0 ? NULL
        : octstr_create_from_data((const char *) buf, len);
    xmlFree(buf);
    xmlFreeDoc(doc);
    return s;
}

/* Clean copy of a subject: bad bytes -> '?', controls -> ' ', at most
 * MM7_SUBJECT_MAX characters. */
static Octstr *subject_clean(const Octstr *in)
{
    Octstr *s = octstr_create("");
    long i = 0, n = octstr_len(in), chars = 0, len, k;
    int c, need;

    while (i < n && chars < MM7_SUBJECT_MAX) {
        c = octstr_get_char(in, i);
        need = c < 0x80 ? 0 : (c & 0xE0) == 0xC0 ? 1
               : (c & 0xF0) == 0xE0 ? 2 : (c & 0xF8) == 0xF0 ? 3 : -1;
        for (k = 1; need > 0 && k <= need; k++)
            if (i + k >= n || (octstr_get_char(in, i + k) & 0xC0) != 0x80)
                need = -1;
        if (need < 0 || (need == 1 && c < 0xC2)) {
            octstr_append_char(s, '?');
            i++;
        } else if (c < 0x20 || c == 0x7f) {
            octstr_append_char(s, ' ');
            i++;
        } else {
            len = need + 1;
            octstr_append_data(s, octstr_get_cstr(in) + i, len);
            i += len;
        }
        chars++;
    }
    if (!xml_safe(s)) {     /* overlongs/surrogates: give up on 8-bit */
        for (i = 0; i < octstr_len(s); i++)
            if (octstr_get_char(s, i) >= 0x80)
                octstr_set_char(s, i, '?');
    }
    return s;
}

/* "+4670..." or "4670...": an E.164-ish number. */
static int is_number(const Octstr *a, int allow_plus)
{
    long i = 0, n = octstr_len(a);

    if (allow_plus && n > 0 && octstr_get_char(a, 0) == '+')
        i = 1;
    if (n - i < 1 || n - i > 20)
        return 0;
    for (; i < n; i++)
        if (!isdigit(octstr_get_char(a, i)))
            return 0;
    return 1;
}

/* Address element for a; short = digits without '+' mean ShortCode. */
static int add_address(xmlNode *parent, const Octstr *a, int shortcode)
{
    const char *name;

    if (a == NULL || !xml_safe(a) || octstr_len(a) > 256)
        return -1;
    if (octstr_search_char(a, '@', 0) > 0 && id_ok(a))
        name = "RFC2822Address";
    else if (shortcode && is_number(a, 0))
        name = "ShortCode";
    else if (is_number(a, 1))
        name = "Number";
    else
        return -1;
    add(parent, name, octstr_get_cstr(a));
    return 0;
}

static int opt_ok(const Octstr *s)
{
    return s == NULL || (xml_safe(s) && octstr_len(s) <= MM7_VALUE_MAX);
}

Octstr *mm7_submit_req(const Mm7SubmitParams *p)
{
    const char *xmlns = p->xmlns != NULL ? octstr_get_cstr(p->xmlns)
                                         : MM7_XMLNS_REL5;
    const char *version = p->version != NULL ? octstr_get_cstr(p->version)
                                             : MM7_VERSION_REL5;
    xmlDoc *doc;
    xmlNs *env;
    xmlNode *body, *op, *n, *t;
    Octstr *subj, *href;

    if (!id_ok(p->transaction_id) || p->recipient == NULL
        || !id_ok(p->content_id) || !opt_ok(p->xmlns)
        || !opt_ok(p->version) || !opt_ok(p->vasp_id) || !opt_ok(p->vas_id)
        || !opt_ok(p->service_code) || !opt_ok(p->sender_address))
        return NULL;
    body = env_new(&doc, &env, xmlns, p->transaction_id);
    op = op_new(body, "SubmitReq", xmlns);
    add(op, "MM7Version", version);
    if (p->vasp_id != NULL || p->vas_id != NULL
        || p->sender_address != NULL) {
        n = add(op, "SenderIdentification", NULL);
        if (p->vasp_id != NULL)
            add(n, "VASPID", octstr_get_cstr(p->vasp_id));
        if (p->vas_id != NULL)
            add(n, "VASID", octstr_get_cstr(p->vas_id));
        if (p->sender_address != NULL) {
            t = add(n, "SenderAddress", NULL);
            if (add_address(t, p->sender_address, 1) < 0)
                goto fail;
        }
    }
    n = add(op, "Recipients", NULL);
    t = add(n, "To", NULL);
    if (add_address(t, p->recipient, 0) < 0)
        goto fail;
    if (p->service_code != NULL)
        add(op, "ServiceCode", octstr_get_cstr(p->service_code));
    add(op, "DeliveryReport", p->delivery_report ? "true" : "false");
    if (p->subject != NULL && octstr_len(p->subject) > 0) {
        subj = subject_clean(p->subject);
        add(op, "Subject", octstr_get_cstr(subj));
        octstr_destroy(subj);
    }
    n = add(op, "Content", NULL);
    href = octstr_format("cid:%S", p->content_id);
    xmlNewProp(n, (const xmlChar *) "href",
               (const xmlChar *) octstr_get_cstr(href));
    xmlNewProp(n, (const xmlChar *) "allowAdaptations",
               (const xmlChar *) "true");
    octstr_destroy(href);
    return doc_out(doc);

fail:
    xmlFreeDoc(doc);
    return NULL;
}

Octstr *mm7_response(const Mm7Request *q, long code, const char *text)
{
    const Octstr *tid = q != NULL ? q->transaction_id : NULL;
    const char *xmlns = MM7_XMLNS_REL5, *version = MM7_VERSION_REL5;
    const char *name = NULL;
    xmlDoc *doc;
    xmlNs *env;
    xmlNode *body, *op, *f, *st;
    Octstr *c, *out;

    if (q != NULL && q->xmlns != NULL && id_ok(q->xmlns))
        xmlns = octstr_get_cstr(q->xmlns);
    if (q != NULL && q->version != NULL && id_ok(q->version)
        && octstr_len(q->version) < 20)
        version = octstr_get_cstr(q->version);
    if (q != NULL && q->type == MM7_REQ_DELIVERY_REPORT)
        name = "DeliveryReportRsp";
    else if (q != NULL && q->type == MM7_REQ_DELIVER)
        name = "DeliverRsp";
    if (name == NULL && code < 2000)
        code = MM7_UNSUPPORTED_OPERATION;
    if (text != NULL) {
        Octstr *t = octstr_create(text);

        if (!xml_safe(t))
            text = NULL;
        octstr_destroy(t);
    }
    if (text == NULL)
        text = mm7_status_text(code);
    c = octstr_format("%ld", code);
    body = env_new(&doc, &env, xmlns, tid);
    if (code < 2000) {
        op = op_new(body, name, xmlns);
    } else {
        f = xmlNewChild(body, env, (const xmlChar *) "Fault", NULL);
        /* SOAP 1.1 fault children are unqualified */
        xmlNewTextChild(f, NULL, (const xmlChar *) "faultcode",
                        (const xmlChar *) (code / 1000 == 2 ? "env:Client"
                                                            : "env:Server"));
        xmlNewTextChild(f, NULL, (const xmlChar *) "faultstring",
                        (const xmlChar *) text);
        f = xmlNewChild(f, NULL, (const xmlChar *) "detail", NULL);
        op = op_new(f, "VASPErrorRsp", xmlns);
    }
    add(op, "MM7Version", version);
    st = add(op, "Status", NULL);
    add(st, "StatusCode", octstr_get_cstr(c));
    add(st, "StatusText", text);
    octstr_destroy(c);
    if ((out = doc_out(doc)) == NULL)   /* cannot happen: values checked */
        out = octstr_format("<?xml version=\"1.0\"?>\n<env:Envelope "
                            "xmlns:env=\"%s\"><env:Body><env:Fault>"
                            "<faultcode>env:Server</faultcode><faultstring>"
                            "Server Error</faultstring></env:Fault></env:Body>"
                            "</env:Envelope>\n", SOAP_ENV);
    return out;
}
