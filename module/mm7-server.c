/*
 * mm7-server.c - our MM7 endpoint: one gwlib HTTP port per MMSC.
 *
 * Each port has one thread that accepts a request, checks address, Basic
 * auth, method, path and size, parses it, calls the lead's callback (which
 * stores and returns) and answers, then takes the next request.
 *
 * What we answer (23.140 status codes, and INTEGRATION.md's retry rule: an
 * MMSC retries on a non-2xx HTTP status and never retries a non-1xxx MM7
 * status, so an MM7 status goes out with HTTP 200, like Mbuni does):
 *   stored (callback 1 or 0)      HTTP 200, *Rsp with 1000 Success
 *   cannot store (callback -1)    HTTP 503, no SOAP (the MMSC retries)
 *   callback refuses (>= 2000)    HTTP 200, Fault + VASPErrorRsp, its code
 *   DeliverReq, no deliver fn     HTTP 200, Fault 4003 Unsupported operation
 *   other operations (SubmitReq,  HTTP 200, Fault 4003 Unsupported operation
 *     CancelReq, ReadReplyReq...)   (4003 is the 23.140 code for a request
 *                                   type the receiver does not support)
 *   required element missing      HTTP 200, Fault 4004 Validation error
 *   not XML / not SOAP / bad MIME HTTP 400, Fault 2007 Message format
 *                                   corrupt (2xxx: the client's fault)
 * HTTP-level refusals: 403 address, 401 auth (WWW-Authenticate: Basic),
 * 404 path, 405 method, 413 body too large.
 *
 * mmsbox (Mbuni's VAS gateway) is no MM7 client: its DLR is a GET with
 * X-Mbuni-* headers (or our own ?id=... in the dlr-url), its MO a POST to
 * an mms-service post-url.  Both get an empty 200 on success (an
 * mms-service turns a non-empty answer into a reply MM), 503 when the
 * callback cannot store, 400 when the id/sender is missing.
 *
 * gwlib reads the whole request before we see it, so the size cap is
 * checked after the fact; allow-ip bounds who can send large bodies.
 */
#include <ctype.h>
#include <string.h>
#include <time.h>

#include <gmime/gmime.h>

#include "mm7-mime.h"
#include "mm7-server.h"
#include "pm-log.h"

#define SIZE_SLACK (64L * 1024)
#define LOG_MAX 80

typedef struct {
    Mm7Server *srv;
    const PmMmscConf *mmsc;
    long port;
    long thread;
    Octstr *credentials;        /* "user:password", or NULL = no auth */
} Mm7Port;

struct Mm7Server {
    const PmConfig *cfg;
    Mm7ReportFn *report;
    Mm7DeliverFn *deliver;
    void *ctx;
    List *ports;                /* Mm7Port* */
};

/* One request being handled. */
typedef struct {
    Mm7Port *p;
    HTTPClient *client;
    Octstr *ip;
    Octstr *url;
    List *headers;
    Octstr *body;
    List *cgivars;
} Req;

/* ---- answering -------------------------------------------------------- */

static void reply(Req *r, int status, const char *type, Octstr *body)
{
    List *h = http_create_empty_headers();
    Octstr *empty = NULL;

    http_header_add(h, "Content-Type", (char *) type);
    http_header_add(h, "Cache-Control", "no-store");
    if (status == HTTP_UNAUTHORIZED)
        http_header_add(h, "WWW-Authenticate",
                        "Basic realm=\"pushmail-mm7\"");
    if (status == HTTP_BAD_METHOD)
        http_header_add(h, "Allow",
                        octstr_str_compare(r->url, "/mmsbox/dlr") == 0
                        ? "GET, POST" : "POST");
    if (status == HTTP_SERVICE_UNAVAILABLE)
        http_header_add(h, "Retry-After", "60");
    if (body == NULL)
        body = empty = octstr_create("");
    http_send_reply(r->client, status, h, body);
    octstr_destroy(empty);
    http_destroy_headers(h);
}

static void reply_text(Req *r, int status, const char *text)
{
    Octstr *b = octstr_format("%s\n", text);

    reply(r, status, "text/plain; charset=utf-8", b);
    octstr_destroy(b);
}

static void reply_mm7(Req *r, int status, const Mm7Request *q, long code,
                      const char *text)
{
    Octstr *b = mm7_response(q, code, text);

    reply(r, status, "text/xml; charset=\"utf-8\"", b);
    octstr_destroy(b);
}

/* ---- checks ----------------------------------------------------------- */

/* Kannel's is_allowed_ip() lets everybody in when the deny list is
 * empty; ours: must match allow-ip and must not match deny-ip. */
static int ip_ok(const PmMmscConf *m, Octstr *ip)
{
    if (ip == NULL || m->allow_ip == NULL || octstr_len(m->allow_ip) == 0
        || !is_allowed_ip(m->allow_ip, ip, ip))
        return 0;
    if (m->deny_ip != NULL && octstr_len(m->deny_ip) > 0
        && !is_allowed_ip(NULL, m->deny_ip, ip))
        return 0;
    return 1;
}

/* Constant time in the length of the longer string. */
static int same_secret(const Octstr *a, const Octstr *b)
{
    long la = octstr_len(a), lb = octstr_len(b), n = la > lb ? la : lb, i;
    const unsigned char *pa = (const unsigned char *) octstr_get_cstr(a);
    const unsigned char *pb = (const unsigned char *) octstr_get_cstr(b);
    unsigned diff = la != lb;

    for (i = 0; i < n; i++)
        diff |= (unsigned) (i < la ? pa[i] : 0) ^ (i < lb ? pb[i] : 0);
    return diff == 0;
}

/* Authorization: Basic base64(user:password) matches, or no auth set. */
static int auth_ok(Mm7Port *p, List *headers)
{
    Octstr *h, *cred;
    int ok;

    if (p->credentials == NULL)
        return 1;
    h = http_header_value(headers, octstr_imm("Authorization"));
    if (h == NULL)
        return 0;
    octstr_strip_blanks(h);
    if (octstr_len(h) > 1024
        || octstr_case_search(h, octstr_imm("Basic "), 0) != 0) {
        octstr_destroy(h);
        return 0;
    }
    cred = octstr_copy(h, 6, octstr_len(h));
    octstr_destroy(h);
    octstr_strip_blanks(cred);
    octstr_base64_to_binary(cred);
    ok = same_secret(cred, p->credentials);
    octstr_destroy(cred);
    return ok;
}

static int is_soap_path(const Octstr *url)
{
    return octstr_str_compare(url, "/") == 0
           || octstr_str_compare(url, "/mm7") == 0
           || octstr_str_ncompare(url, "/mm7/", 5) == 0;
}

/* ---- small helpers ---------------------------------------------------- */

/* An id from a header or query: printable ASCII, no blanks, <= 255. */
static Octstr *id_or_null(Octstr *s)
{
    long i;
    int c;

    if (s == NULL)
        return NULL;
    octstr_strip_blanks(s);
    if (octstr_len(s) == 0 || octstr_len(s) > 255)
        goto bad;
    for (i = 0; i < octstr_len(s); i++) {
        c = octstr_get_char(s, i);
        if (c <= 0x20 || c >= 0x7f)
            goto bad;
    }
    return s;
bad:
    octstr_destroy(s);
    return NULL;
}

/* "+4670.../TYPE=PLMN", "Bob <bob@x>" -> "+4670...", "bob@x"; takes a. */
static Octstr *addr_norm(Octstr *a)
{
    long p, q;

    if (a == NULL)
        return NULL;
    p = octstr_search_char(a, '<', 0);
    q = octstr_search_char(a, '>', p < 0 ? 0 : p);
    if (p >= 0 && q > p) {
        Octstr *in = octstr_copy(a, p + 1, q - p - 1);

        octstr_destroy(a);
        a = in;
    }
    p = octstr_case_search(a, octstr_imm("/TYPE="), 0);
    if (p >= 0)
        octstr_truncate(a, p);
    return id_or_null(a);
}

static Octstr *header(Req *r, const char *name)
{
    return http_header_value(r->headers, octstr_imm(name));
}

static Octstr *cgi(Req *r, const char *name)
{
    Octstr *v = http_cgi_variable(r->cgivars, (char *) name);

    return v == NULL ? NULL : octstr_duplicate(v);
}

/* Peer text for a log line. */
static Octstr *safe(const Octstr *s)
{
    return s == NULL ? octstr_create("-") : pm_log_safe(s, LOG_MAX);
}

/* mmsbox's DLR type -> the 23.140 MMStatus name; others kept (cleaned). */
static Octstr *dlr_status(Octstr *type)
{
    static const char *const names[] = {
        "Retrieved", "Expired", "Rejected", "Deferred", "Unrecognised",
        "Indeterminate", "Forwarded", "Unreachable",
        "DeliveryConditionNotMet", NULL
    };
    int i;

    type = id_or_null(type);
    if (type == NULL)
        return NULL;
    for (i = 0; names[i] != NULL; i++) {
        if (octstr_case_compare(type, octstr_imm(names[i])) == 0) {
            octstr_destroy(type);
            return octstr_create(names[i]);
        }
    }
    if (octstr_case_compare(type, octstr_imm("delivered")) == 0) {
        octstr_destroy(type);
        return octstr_create("Retrieved");
    }
    if (octstr_case_compare(type, octstr_imm("unrecognized")) == 0) {
        octstr_destroy(type);
        return octstr_create("Unrecognised");
    }
    if (octstr_len(type) > 40)
        octstr_truncate(type, 40);
    return type;
}

/* Unix seconds, an HTTP date, or 0. */
static long parse_when(Octstr *s)
{
    long v = 0;

    if (s == NULL)
        return 0;
    octstr_strip_blanks(s);
    if (octstr_len(s) > 0 && octstr_len(s) < 12
        && octstr_parse_long(&v, s, 0, 10) == octstr_len(s) && v > 0)
        return v;
    v = date_parse_http(s);
    return v > 0 ? v : 0;
}

/* The callback's answer as a log word. */
static const char *rc_word(int rc)
{
    return rc == 1 ? "stored" : rc == 0 ? "unknown" : rc == -1
           ? "deferred (503)" : "refused";
}

/* ---- POST / : MM7 SOAP ------------------------------------------------ */

static void handle_soap(Req *r)
{
    Mm7Server *s = r->p->srv;
    Octstr *ct = header(r, "Content-Type"), *tid, *id, *op;
    Mm7Request q;
    int rc;

    if (mm7_parse_request(r->body, ct, &q) < 0) {
        tid = safe(q.transaction_id);
        warning(0, "MM7 request from %s (mmsc %s) refused: %ld %s "
                "(TransactionID %s)", octstr_get_cstr(r->ip),
                octstr_get_cstr(r->p->mmsc->id), q.error_code,
                q.error_text, octstr_get_cstr(tid));
        octstr_destroy(tid);
        /* HTTP 200 with the fault: a non-2xx answer makes an MMSC send
         * the same request again, and a corrupt one stays corrupt; the
         * MM7 status (2007, 4004) is final for it */
        reply_mm7(r, HTTP_OK, &q, q.error_code, q.error_text);
        goto out;
    }
    op = safe(q.op);
    tid = safe(q.transaction_id);
    if (q.type == MM7_REQ_UNSUPPORTED
        || (q.type == MM7_REQ_DELIVER && s->deliver == NULL)) {
        warning(0, "MM7 %s from %s (mmsc %s, TransactionID %s): "
                "unsupported, answered 4003", octstr_get_cstr(op),
                octstr_get_cstr(r->ip), octstr_get_cstr(r->p->mmsc->id),
                octstr_get_cstr(tid));
        reply_mm7(r, HTTP_OK, &q, MM7_UNSUPPORTED_OPERATION, NULL);
        octstr_destroy(op);
        octstr_destroy(tid);
        goto out;
    }
    if (q.type == MM7_REQ_DELIVERY_REPORT) {
        q.report->mmsc_id = octstr_duplicate(r->p->mmsc->id);
        rc = s->report(q.report, s->ctx);
        id = safe(q.report->message_id);
    } else {
        q.deliver->mmsc_id = octstr_duplicate(r->p->mmsc->id);
        rc = s->deliver(q.deliver, s->ctx);
        id = safe(q.transaction_id);
    }
    info(0, "MM7 %s (mmsc %s, id %s): %s", octstr_get_cstr(op),
         octstr_get_cstr(r->p->mmsc->id), octstr_get_cstr(id),
         rc_word(rc));
    if (rc == 1 || rc == 0)
        reply_mm7(r, HTTP_OK, &q, MM7_SUCCESS, NULL);
    else if (rc >= 2000 && rc <= 9999)
        reply_mm7(r, HTTP_OK, &q, rc, NULL);
    else
        reply_text(r, HTTP_SERVICE_UNAVAILABLE, "Try again later.");
    octstr_destroy(id);
    octstr_destroy(op);
    octstr_destroy(tid);
out:
    mm7_request_clear(&q);
    octstr_destroy(ct);
}

/* ---- GET /mmsbox/dlr -------------------------------------------------- */

static void handle_dlr(Req *r)
{
    Mm7Server *s = r->p->srv;
    Mm7Report *rep = mm7_report_create();
    Octstr *v, *id;
    int rc;

    rep->mmsc_id = octstr_duplicate(r->p->mmsc->id);
    /* Which MM: our own ?id= in the dlr-url first; then mmsbox's
     * X-Mbuni-TransactionID (the id its "Accepted:" gave us); the
     * X-Mbuni-Message-ID is the MMSC's, which we never saw, so last */
    rep->message_id = id_or_null(cgi(r, "id"));
    if (rep->message_id == NULL)
        rep->message_id = id_or_null(header(r, "X-Mbuni-TransactionID"));
    if (rep->message_id == NULL)
        rep->message_id = id_or_null(header(r, "X-Mbuni-Message-ID"));
    v = header(r, "X-Mbuni-MM-Status");
    if (v == NULL)
        v = header(r, "X-Mbuni-DLR-Type");
    if (v == NULL)
        v = cgi(r, "status");
    if (v == NULL)
        v = cgi(r, "type");
    rep->status = dlr_status(v);
    v = header(r, "X-Mbuni-To");
    rep->recipient = addr_norm(v != NULL ? v : cgi(r, "to"));
    v = header(r, "X-Mbuni-Timestamp");
    rep->date = parse_when(v);
    octstr_destroy(v);
    if (rep->date == 0)
        rep->date = time(NULL);
    if (rep->message_id == NULL || rep->status == NULL) {
        warning(0, "mmsbox DLR from %s (mmsc %s) without message id or "
                "type: refused", octstr_get_cstr(r->ip),
                octstr_get_cstr(r->p->mmsc->id));
        reply_text(r, HTTP_BAD_REQUEST, "Missing message id or DLR type.");
        mm7_report_destroy(rep);
        return;
    }
    rc = s->report(rep, s->ctx);
    id = safe(rep->message_id);
    info(0, "mmsbox DLR %s (mmsc %s, id %s): %s",
         octstr_get_cstr(rep->status), octstr_get_cstr(r->p->mmsc->id),
         octstr_get_cstr(id), rc_word(rc));
    octstr_destroy(id);
    if (rc == -1 || (rc > 1 && rc < 2000) || rc < -1)
        reply_text(r, HTTP_SERVICE_UNAVAILABLE, "Try again later.");
    else
        reply(r, HTTP_OK, "text/plain", NULL);
    mm7_report_destroy(rep);
}

/* ---- POST /mmsbox/mo -------------------------------------------------- */

/* A form field's name from Content-Disposition, lower case, or NULL. */
static Octstr *form_name(const Mm7MimePart *p)
{
    Octstr *n = mm7_mime_param(p->disposition, "name");

    if (n != NULL)
        octstr_convert_range(n, 0, octstr_len(n), tolower);
    return n;
}

static int is_mm_type(const Octstr *ct)
{
    Octstr *t = mm7_mime_type(ct);
    int r = octstr_str_ncompare(t, "multipart/", 10) == 0
            || octstr_str_compare(t, "application/vnd.wap.mms-message") == 0;

    octstr_destroy(t);
    return r;
}

/*
 * The MM of a multipart/form-data post: a part that is itself an MM
 * (multipart/...), else a multipart/mixed built from the file parts (the
 * ones with a Content-Type or a filename).  Plain fields named from, to,
 * subject, message-id fill what the X-Mbuni-* headers left empty.
 */
static void form_mm(Mm7Deliver *d, const Mm7Mime *m)
{
    const Mm7MimePart *p;
    Octstr *name, *fn, *mixed = NULL, *boundary = NULL;
    Octstr **slot;
    long i;

    for (i = 0; i < mm7_mime_count(m); i++) {
        p = mm7_mime_get(m, i);
        if (d->content == NULL && is_mm_type(p->content_type)) {
            d->content_type = octstr_duplicate(p->content_type);
            d->content = octstr_duplicate(p->body);
        }
    }
    for (i = 0; i < mm7_mime_count(m); i++) {
        p = mm7_mime_get(m, i);
        fn = mm7_mime_param(p->disposition, "filename");
        if (p->content_type == NULL && fn == NULL) {
            name = form_name(p);
            slot = NULL;
            if (name == NULL)
                slot = NULL;
            else if (octstr_str_compare(name, "from") == 0)
                slot = &d->sender;
            else if (octstr_str_compare(name, "subject") == 0)
                slot = &d->subject;
            else if (octstr_str_compare(name, "message-id") == 0
                     || octstr_str_compare(name, "messageid") == 0)
                slot = &d->message_id;
            else if (octstr_str_compare(name, "to") == 0
                     && gwlist_len(d->recipients) == 0)
                gwlist_append(d->recipients,
                              octstr_duplicate(p->body));
            if (slot != NULL && *slot == NULL)
                *slot = octstr_duplicate(p->body);
            octstr_destroy(name);
            continue;
        }
        if (d->content != NULL || is_mm_type(p->content_type)) {
            octstr_destroy(fn);
            continue;
        }
        if (mixed == NULL) {
            boundary = octstr_format("pm-mo-%08x%08x", (unsigned) gw_rand(),
                                     (unsigned) gw_rand());
            mixed = octstr_create("");
        }
        octstr_format_append(mixed, "--%S\r\nContent-Type: %S\r\n", boundary,
                             p->content_type != NULL ? p->content_type
                             : octstr_imm("application/octet-stream"));
        if (p->content_id != NULL)
            octstr_format_append(mixed, "Content-ID: <%S>\r\n",
                                 p->content_id);
        if (fn != NULL && octstr_search_char(fn, '"', 0) < 0
            && octstr_search_char(fn, '\r', 0) < 0
            && octstr_search_char(fn, '\n', 0) < 0)
            octstr_format_append(mixed, "Content-Location: %S\r\n", fn);
        octstr_append_cstr(mixed, "Content-Transfer-Encoding: binary\r\n"
                           "\r\n");
        octstr_append(mixed, p->body);
        octstr_append_cstr(mixed, "\r\n");
        octstr_destroy(fn);
    }
    if (mixed != NULL && d->content == NULL) {
        octstr_format_append(mixed, "--%S--\r\n", boundary);
        d->content_type = octstr_format("multipart/mixed; boundary=\"%S\"",
                                        boundary);
        d->content = mixed;
        mixed = NULL;
    }
    octstr_destroy(mixed);
    octstr_destroy(boundary);
}

static void handle_mo(Req *r)
{
    Mm7Server *s = r->p->srv;
    Mm7Deliver *d = mm7_deliver_create();
    Octstr *ct = header(r, "Content-Type"), *type = mm7_mime_type(ct);
    Octstr *to, *a, *id;
    List *tos;
    Mm7Mime *m;
    const char *err = NULL;
    long i;
    int rc;

    d->mmsc_id = octstr_duplicate(r->p->mmsc->id);
    d->sender = header(r, "X-Mbuni-From");
    d->subject = header(r, "X-Mbuni-Subject");
    d->message_id = header(r, "X-Mbuni-Message-ID");
    if ((to = header(r, "X-Mbuni-To")) != NULL) {
        tos = octstr_split(to, octstr_imm(","));
        while ((a = gwlist_extract_first(tos)) != NULL)
            if (gwlist_len(d->recipients) < MM7_MAX_RECIPIENTS
                && (a = addr_norm(a)) != NULL)
                gwlist_append(d->recipients, a);
            else
                octstr_destroy(a);
        gwlist_destroy(tos, NULL);
        octstr_destroy(to);
    }
    if (octstr_str_compare(type, "multipart/form-data") == 0) {
        m = mm7_mime_split(r->body, ct, &err);
        if (m == NULL) {
            warning(0, "mmsbox MO from %s (mmsc %s): bad form data (%s)",
                    octstr_get_cstr(r->ip), octstr_get_cstr(d->mmsc_id),
                    err);
            reply_text(r, HTTP_BAD_REQUEST, "Malformed form data.");
            goto out;
        }
        form_mm(d, m);
        mm7_mime_destroy(m);
    } else if (octstr_len(r->body) > 0) {
        d->content_type = ct != NULL ? octstr_duplicate(ct)
                                     : octstr_create("text/plain");
        d->content = octstr_duplicate(r->body);
    }
    d->sender = addr_norm(d->sender);
    d->message_id = id_or_null(d->message_id);
    d->subject = mm7_subject_decode(d->subject);
    for (i = 0; i < gwlist_len(d->recipients); i++) {
        a = addr_norm(gwlist_get(d->recipients, i));
        gwlist_delete(d->recipients, i, 1);
        if (a != NULL)
            gwlist_insert(d->recipients, i, a);
        else
            i--;
    }
    if (d->sender == NULL) {
        warning(0, "mmsbox MO from %s (mmsc %s) without sender: refused",
                octstr_get_cstr(r->ip), octstr_get_cstr(d->mmsc_id));
        reply_text(r, HTTP_BAD_REQUEST, "Missing X-Mbuni-From.");
        goto out;
    }
    if (s->deliver == NULL) {
        warning(0, "mmsbox MO (mmsc %s): no deliver handler, refused",
                octstr_get_cstr(d->mmsc_id));
        reply_text(r, HTTP_NOT_IMPLEMENTED, "MO MMs are not handled.");
        goto out;
    }
    rc = s->deliver(d, s->ctx);
    id = safe(d->message_id);
    info(0, "mmsbox MO (mmsc %s, id %s): %s", octstr_get_cstr(d->mmsc_id),
         octstr_get_cstr(id), rc_word(rc));
    octstr_destroy(id);
    if (rc == -1 || (rc > 1 && rc < 2000) || rc < -1)
        reply_text(r, HTTP_SERVICE_UNAVAILABLE, "Try again later.");
    else
        reply(r, HTTP_OK, "text/plain", NULL);     /* empty: no reply MM */
out:
    octstr_destroy(ct);
    octstr_destroy(type);
    mm7_deliver_destroy(d);
}

/* ---- the accept thread ------------------------------------------------ */

static void handle(Req *r)
{
    const PmMmscConf *m = r->p->mmsc;
    int method = http_method(r->client);
    long max = m->max_message_size * 2 + SIZE_SLACK;

    if (!ip_ok(m, r->ip)) {
        warning(0, "MM7 request from %s refused (allow-ip/deny-ip of mmsc "
                "%s)", octstr_get_cstr(r->ip), octstr_get_cstr(m->id));
        reply_text(r, HTTP_FORBIDDEN, "Forbidden.");
        return;
    }
    if (!auth_ok(r->p, r->headers)) {
        warning(0, "MM7 request from %s refused: missing or wrong "
                "credentials (mmsc %s)", octstr_get_cstr(r->ip),
                octstr_get_cstr(m->id));
        reply_text(r, HTTP_UNAUTHORIZED, "Authentication required.");
        return;
    }
    if (octstr_len(r->body) > max) {
        warning(0, "MM7 request from %s refused: %ld bytes, limit %ld "
                "(mmsc %s)", octstr_get_cstr(r->ip), octstr_len(r->body),
                max, octstr_get_cstr(m->id));
        reply_text(r, HTTP_REQUEST_ENTITY_TOO_LARGE, "Too large.");
        return;
    }
    if (octstr_str_compare(r->url, "/mmsbox/dlr") == 0) {
        if (method == HTTP_METHOD_GET || method == HTTP_METHOD_POST)
            handle_dlr(r);
        else
            reply_text(r, HTTP_BAD_METHOD, "Use GET.");
    } else if (octstr_str_compare(r->url, "/mmsbox/mo") == 0) {
        if (method == HTTP_METHOD_POST)
            handle_mo(r);
        else
            reply_text(r, HTTP_BAD_METHOD, "Use POST.");
    } else if (is_soap_path(r->url)) {
        if (method == HTTP_METHOD_POST)
            handle_soap(r);
        else
            reply_text(r, HTTP_BAD_METHOD, "Use POST.");
    } else {
        reply_text(r, HTTP_NOT_FOUND, "Not found.");
    }
}

static void port_thread(void *arg)
{
    Mm7Port *p = arg;
    Req r;

    memset(&r, 0, sizeof(r));
    r.p = p;
    while ((r.client = http_accept_request(p->port, &r.ip, &r.url,
                                           &r.headers, &r.body,
                                           &r.cgivars)) != NULL) {
        handle(&r);
        octstr_destroy(r.ip);
        octstr_destroy(r.url);
        octstr_destroy(r.body);
        http_destroy_headers(r.headers);
        http_destroy_cgiargs(r.cgivars);
    }
}

/* ---- start / stop ----------------------------------------------------- */

static void port_destroy(Mm7Port *p)
{
    if (p == NULL)
        return;
    octstr_destroy(p->credentials);
    gw_free(p);
}

void mm7_server_stop(Mm7Server **sp)
{
    Mm7Server *s = *sp;
    Mm7Port *p;

    if (s == NULL)
        return;
    *sp = NULL;
    while ((p = gwlist_extract_first(s->ports)) != NULL) {
        http_close_port(p->port);
        if (p->thread >= 0)
            gwthread_join(p->thread);
        port_destroy(p);
    }
    gwlist_destroy(s->ports, NULL);
    gw_free(s);
}

Mm7Server *mm7_server_start(const PmConfig *cfg, Mm7ReportFn *report,
                            Mm7DeliverFn *deliver, void *ctx)
{
    Mm7Server *s = gw_malloc(sizeof(*s));
    const PmMmscConf *m;
    Mm7Port *p;
    long i, j;

    /* gwlib keeps one entry per port number: opening a port twice breaks
     * the first listener, so refuse a shared port before opening any */
    for (i = 0; cfg->mmscs != NULL && i < gwlist_len(cfg->mmscs); i++) {
        m = gwlist_get(cfg->mmscs, i);
        for (j = 0; m->incoming_port != 0 && j < i; j++) {
            const PmMmscConf *o = gwlist_get(cfg->mmscs, j);

            if (o->incoming_port == m->incoming_port) {
                error(0, "MM7 endpoints of mmsc %s and %s: both on port %ld",
                      octstr_get_cstr(o->id), octstr_get_cstr(m->id),
                      m->incoming_port);
                gw_free(s);
                return NULL;
            }
        }
    }
    s->cfg = cfg;
    s->report = report;
    s->deliver = deliver;
    s->ctx = ctx;
    s->ports = gwlist_create();
    for (i = 0; cfg->mmscs != NULL && i < gwlist_len(cfg->mmscs); i++) {
        m = gwlist_get(cfg->mmscs, i);
        if (m->incoming_port == 0)
            continue;
        if (http_open_port_if(m->incoming_port, 0,
                              m->incoming_interface) < 0) {
            error(0, "MM7 endpoint of mmsc %s: cannot open %s:%ld",
                  octstr_get_cstr(m->id),
                  octstr_get_cstr(m->incoming_interface), m->incoming_port);
            mm7_server_stop(&s);
            return NULL;
        }
        p = gw_malloc(sizeof(*p));
        memset(p, 0, sizeof(*p));
        p->srv = s;
        p->mmsc = m;
        p->port = m->incoming_port;
        if (m->incoming_username != NULL)
            p->credentials = octstr_format("%S:%S", m->incoming_username,
                                           m->incoming_password != NULL
                                           ? m->incoming_password
                                           : octstr_imm(""));
        else
            warning(0, "MM7 endpoint of mmsc %s has no incoming-username: "
                    "only allow-ip protects it", octstr_get_cstr(m->id));
        p->thread = gwthread_create(port_thread, p);
        gwlist_append(s->ports, p);
        if (p->thread < 0) {
            error(0, "MM7 endpoint of mmsc %s: cannot start its thread",
                  octstr_get_cstr(m->id));
            mm7_server_stop(&s);
            return NULL;
        }
        info(0, "MM7 endpoint of mmsc %s on %s:%ld", octstr_get_cstr(m->id),
             octstr_get_cstr(m->incoming_interface), m->incoming_port);
    }
    return s;
}
