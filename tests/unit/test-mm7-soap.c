/*
 * test-mm7-soap.c - unit tests for mm7-soap and mm7-mime.
 *
 * Every example message in tests/data/mm7 (copies of the reference MM7
 * messages plus Mbuni-style and hostile variants) is parsed; the SubmitReq
 * builder's output is read back with libxml2; mm7_response() answers are
 * parsed back with mm7_parse_response().  The data folder is
 * $srcdir/tests/data/mm7 (automake exports srcdir) or found from __FILE__.
 */
#include <time.h>
#include <unistd.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>

#include "gwlib/gwlib.h"
#include "mm7-mime.h"
#include "mm7-soap.h"
#include "test-common.h"

static Octstr *data_dir;

static void find_data_dir(void)
{
    const char *sd = getenv("srcdir");
    Octstr *f;
    long p;

    if (sd != NULL) {
        data_dir = octstr_format("%s/tests/data/mm7", sd);
        f = octstr_format("%S/02-SubmitRsp.http", data_dir);
        if (access(octstr_get_cstr(f), R_OK) == 0) {
            octstr_destroy(f);
            return;
        }
        octstr_destroy(f);
        octstr_destroy(data_dir);
    }
    data_dir = octstr_create(__FILE__);
    p = octstr_search(data_dir, octstr_imm("unit/test-mm7-soap.c"), 0);
    octstr_truncate(data_dir, p >= 0 ? p : 0);
    octstr_append_cstr(data_dir, "data/mm7");
}

/* A whole HTTP message from a file: status (0 for a request), the
 * Content-Type value and the body.  0 ok, -1 unreadable. */
static int load_http(const char *name, long *status_r, Octstr **ct_r,
                     Octstr **body_r)
{
    Octstr *path = octstr_format("%S/%s", data_dir, name);
    Octstr *raw = octstr_read_file(octstr_get_cstr(path));
    Octstr *line;
    long pos = 0, eol;

    octstr_destroy(path);
    *status_r = 0;
    *ct_r = NULL;
    *body_r = NULL;
    if (raw == NULL)
        return -1;
    for (;;) {
        eol = octstr_search_char(raw, '\n', pos);
        if (eol < 0)
            break;
        line = octstr_copy(raw, pos, eol - pos);
        octstr_strip_crlfs(line);
        if (pos == 0 && octstr_str_ncompare(line, "HTTP/", 5) == 0)
            *status_r = strtol(octstr_get_cstr(line) + 9, NULL, 10);
        pos = eol + 1;
        if (octstr_len(line) == 0) {
            octstr_destroy(line);
            break;
        }
        if (octstr_case_search(line, octstr_imm("Content-Type:"), 0) == 0) {
            *ct_r = octstr_copy(line, 13, octstr_len(line));
            octstr_strip_blanks(*ct_r);
        }
        octstr_destroy(line);
    }
    *body_r = octstr_copy(raw, pos, octstr_len(raw));
    octstr_destroy(raw);
    return 0;
}

static int ostr_is(const Octstr *s, const char *want)
{
    if (s == NULL || octstr_str_compare(s, want) != 0) {
        fprintf(stderr, "  got \"%s\", want \"%s\"\n",
                s ? octstr_get_cstr(s) : "(null)", want);
        return 0;
    }
    return 1;
}

/* ---- responses -------------------------------------------------------- */

static void test_responses(void)
{
    Octstr *ct, *body;
    Mm7Result r;
    long st;

    test_begin("SubmitRsp REL-6");
    test_assert(load_http("02-SubmitRsp.http", &st, &ct, &body) == 0);
    test_assert(mm7_parse_response(body, ct, st, &r) == 0);
    test_assert(r.status_code == 1000 && r.fault == 0);
    test_assert(ostr_is(r.message_id, "041502073667"));
    test_assert(ostr_is(r.transaction_id, "pm-0001"));
    test_assert(ostr_is(r.op, "SubmitRsp"));
    test_assert(ostr_is(r.status_text, "Success"));
    test_assert(mm7_status_class(r.status_code) == MM7_CLASS_OK);
    mm7_result_clear(&r);
    test_assert(r.status_text == NULL && r.status_code == -1);
    octstr_destroy(ct);
    octstr_destroy(body);
    test_end();

    test_begin("SubmitRsp REL-5, odd order, no declaration");
    test_assert(load_http("02b-SubmitRsp-rel5.http", &st, &ct, &body) == 0);
    test_assert(mm7_parse_response(body, ct, st, &r) == 0);
    test_assert(r.status_code == 1000);
    test_assert(ostr_is(r.message_id, "mmsc-5-0001"));
    test_assert(ostr_is(r.transaction_id, "pm-0010"));
    mm7_result_clear(&r);
    octstr_destroy(ct);
    octstr_destroy(body);
    test_end();

    test_begin("RSErrorRsp in a Fault on HTTP 500");
    test_assert(load_http("07-RSErrorRsp.http", &st, &ct, &body) == 0);
    test_assert(st == 500);
    test_assert(mm7_parse_response(body, ct, st, &r) == 0);
    test_assert(r.status_code == 2002 && r.fault == 1);
    test_assert(ostr_is(r.op, "RSErrorRsp"));
    test_assert(ostr_is(r.status_text, "Address Error"));
    test_assert(ostr_is(r.details,
                        "Recipient +256771234567 not provisioned"));
    test_assert(r.message_id == NULL);
    test_assert(mm7_status_class(r.status_code) == MM7_CLASS_PERMANENT);
    mm7_result_clear(&r);
    octstr_destroy(ct);
    octstr_destroy(body);
    test_end();

    test_begin("VASPErrorRsp in a Fault");
    test_assert(load_http("08-VASPErrorRsp.http", &st, &ct, &body) == 0);
    test_assert(mm7_parse_response(body, ct, st, &r) == 0);
    test_assert(r.status_code == 4004 && r.fault == 1);
    test_assert(ostr_is(r.op, "VASPErrorRsp"));
    test_assert(ostr_is(r.transaction_id, "mmsc-mo-0001"));
    test_assert(mm7_status_class(r.status_code) == MM7_CLASS_RETRY);
    mm7_result_clear(&r);
    octstr_destroy(ct);
    octstr_destroy(body);
    test_end();

    test_begin("Mbuni fault on HTTP 200, unescaped StatusText");
    test_assert(load_http("07b-RSErrorRsp-http200.http", &st, &ct,
                          &body) == 0);
    test_assert(st == 200);
    test_assert(mm7_parse_response(body, ct, st, &r) == 0);
    test_assert(r.status_code == 4006 && r.fault == 1);
    test_assert(ostr_is(r.status_text, "Service unavailable & busy"));
    test_assert(ostr_is(r.transaction_id, "pm-0009"));
    mm7_result_clear(&r);
    octstr_destroy(ct);
    octstr_destroy(body);
    test_end();

    test_begin("bare Fault without StatusCode");
    test_assert(load_http("07c-Fault-bare.http", &st, &ct, &body) == 0);
    test_assert(mm7_parse_response(body, ct, st, &r) == -1);
    test_assert(r.status_code == -1 && r.fault == 1);
    test_assert(ostr_is(r.status_text, "Authentication failed"));
    mm7_result_clear(&r);
    octstr_destroy(ct);
    octstr_destroy(body);
    test_end();

    test_begin("not MM7: HTML error page, empty body, bad StatusCode");
    body = octstr_create("<html><body>502 Bad Gateway</body></html>");
    test_assert(mm7_parse_response(body, NULL, 502, &r) == -1);
    test_assert(r.status_text != NULL
                && octstr_search(r.status_text, octstr_imm("502"), 0) >= 0);
    mm7_result_clear(&r);
    octstr_destroy(body);
    body = octstr_create("");
    test_assert(mm7_parse_response(body, octstr_imm("text/xml"), 200,
                                   &r) == -1);
    mm7_result_clear(&r);
    octstr_destroy(body);
    body = octstr_create("<e:Envelope xmlns:e='x'><e:Body><SubmitRsp>"
                         "<Status><StatusCode>10x0</StatusCode></Status>"
                         "</SubmitRsp></e:Body></e:Envelope>");
    test_assert(mm7_parse_response(body, NULL, 200, &r) == -1);
    test_assert(r.status_code == -1);
    mm7_result_clear(&r);
    octstr_destroy(body);
    test_end();

    test_begin("SubmitRsp inside multipart/related");
    test_assert(load_http("02-SubmitRsp.http", &st, &ct, &body) == 0);
    {
        Octstr *ctype = NULL;
        Octstr *mp = mm7_mime_join(body, octstr_imm("text/plain"),
                                   octstr_imm("x"), octstr_imm("x@y"),
                                   &ctype);

        test_assert(mp != NULL);
        test_assert(mm7_parse_response(mp, ctype, 200, &r) == 0);
        test_assert(r.status_code == 1000);
        test_assert(ostr_is(r.message_id, "041502073667"));
        mm7_result_clear(&r);
        octstr_destroy(mp);
        octstr_destroy(ctype);
    }
    octstr_destroy(ct);
    octstr_destroy(body);
    test_end();

    test_begin("status classes and texts");
    test_assert(mm7_status_class(1000) == MM7_CLASS_OK);
    test_assert(mm7_status_class(1100) == MM7_CLASS_OK);
    test_assert(mm7_status_class(2007) == MM7_CLASS_PERMANENT);
    test_assert(mm7_status_class(2999) == MM7_CLASS_PERMANENT);
    test_assert(mm7_status_class(3001) == MM7_CLASS_RETRY);
    test_assert(mm7_status_class(4006) == MM7_CLASS_RETRY);
    test_assert(mm7_status_class(4550) == MM7_CLASS_RETRY);
    test_assert(mm7_status_class(999) == MM7_CLASS_PERMANENT);
    test_assert(mm7_status_class(5000) == MM7_CLASS_PERMANENT);
    test_assert(mm7_status_class(-1) == MM7_CLASS_PERMANENT);
    test_assert_str(mm7_status_text(4003), "Unsupported operation");
    test_assert_str(mm7_status_text(2007), "Message format corrupt");
    test_assert_str(mm7_status_text(2550), "Client error");
    test_end();
}

/* ---- requests --------------------------------------------------------- */

static void test_reports(void)
{
    Octstr *ct, *body;
    Mm7Request q;
    long st;

    test_begin("DeliveryReportReq REL-6");
    test_assert(load_http("05-DeliveryReportReq.http", &st, &ct,
                          &body) == 0);
    test_assert(mm7_parse_request(body, ct, &q) == 0);
    test_assert(q.type == MM7_REQ_DELIVERY_REPORT && q.report != NULL);
    test_assert(q.deliver == NULL);
    test_assert(ostr_is(q.op, "DeliveryReportReq"));
    test_assert(ostr_is(q.transaction_id, "mmsc-dlr-0001"));
    test_assert(ostr_is(q.xmlns, MM7_XMLNS_REL6));
    test_assert(ostr_is(q.version, "6.8.0"));
    if (q.report != NULL) {
        test_assert(ostr_is(q.report->message_id, "041502073667"));
        test_assert(ostr_is(q.report->recipient, "+256771234567"));
        test_assert(ostr_is(q.report->status, "Retrieved"));
        test_assert(ostr_is(q.report->status_text,
                            "Message retrieved by recipient"));
        test_assert(q.report->date == 1715681762L);
    }
    mm7_request_clear(&q);
    test_assert(q.report == NULL && q.op == NULL);
    octstr_destroy(ct);
    octstr_destroy(body);
    test_end();

    test_begin("DeliveryReportReq Mbuni: REL-5, any order, swapped, &");
    test_assert(load_http("05b-DeliveryReportReq-mbuni.http", &st, &ct,
                          &body) == 0);
    test_assert(mm7_parse_request(body, ct, &q) == 0);
    test_assert(q.type == MM7_REQ_DELIVERY_REPORT && q.report != NULL);
    test_assert(ostr_is(q.transaction_id, "mbuni-77"));
    test_assert(ostr_is(q.xmlns, MM7_XMLNS_REL5));
    test_assert(ostr_is(q.version, "5.3.0"));
    if (q.report != NULL) {
        test_assert(ostr_is(q.report->message_id, "mbuni-msg-0042@mmsc"));
        test_assert(ostr_is(q.report->recipient, "+256771234567"));
        test_assert(ostr_is(q.report->status, "Retrieved"));
        test_assert(ostr_is(q.report->status_text, "Retrieved & read <ok>"));
        test_assert(q.report->date == 1715681762L);     /* +02:00 */
    }
    mm7_request_clear(&q);
    octstr_destroy(ct);
    octstr_destroy(body);
    test_end();

    test_begin("DeliveryReportReq missing fields");
    body = octstr_create(
        "<env:Envelope xmlns:env='http://schemas.xmlsoap.org/soap/"
        "envelope/'><env:Header><TransactionID>t-9</TransactionID>"
        "</env:Header><env:Body><DeliveryReportReq xmlns='urn:x'>"
        "<MMStatus>Expired</MMStatus></DeliveryReportReq></env:Body>"
        "</env:Envelope>");
    test_assert(mm7_parse_request(body, octstr_imm("text/xml"), &q) == -1);
    test_assert(q.error_code == MM7_VALIDATION_ERROR);
    test_assert(ostr_is(q.transaction_id, "t-9"));
    test_assert(ostr_is(q.xmlns, "urn:x"));
    mm7_request_clear(&q);
    octstr_destroy(body);
    body = octstr_create(
        "<e:Envelope xmlns:e='urn:e'><e:Body><DeliveryReportReq>"
        "<MessageID>m 1</MessageID><MMStatus>Expired</MMStatus>"
        "</DeliveryReportReq></e:Body></e:Envelope>");
    test_assert(mm7_parse_request(body, NULL, &q) == -1);
    test_assert(q.error_code == MM7_VALIDATION_ERROR);  /* blank in id */
    mm7_request_clear(&q);
    octstr_destroy(body);
    body = octstr_create(
        "<e:Envelope xmlns:e='urn:e'><e:Body><DeliveryReportReq>"
        "<MessageID>m1</MessageID></DeliveryReportReq></e:Body>"
        "</e:Envelope>");
    test_assert(mm7_parse_request(body, NULL, &q) == -1);
    test_assert(q.error_code == MM7_VALIDATION_ERROR);  /* no MMStatus */
    mm7_request_clear(&q);
    octstr_destroy(body);
    body = octstr_create(
        "<e:Envelope xmlns:e='urn:e'><e:Body><DeliveryReportReq>"
        "<MMStatus>Expired</MMStatus><MessageID>m1</MessageID>"
        "<Date>yesterday</Date></DeliveryReportReq></e:Body>"
        "</e:Envelope>");
    test_assert(mm7_parse_request(body, NULL, &q) == 0);
    test_assert(q.report != NULL && q.report->date == 0);
    test_assert(q.report != NULL && q.report->recipient == NULL);
    test_assert(q.transaction_id == NULL && q.xmlns == NULL);
    mm7_request_clear(&q);
    octstr_destroy(body);
    test_end();
}

/* The Date of a minimal DeliveryReportReq, as parsed. */
static long report_date(const char *date)
{
    Octstr *b = octstr_format(
        "<e:Envelope xmlns:e='urn:e'><e:Body><DeliveryReportReq>"
        "<MMStatus>Expired</MMStatus><MessageID>m1</MessageID>"
        "<Date>%s</Date></DeliveryReportReq></e:Body></e:Envelope>", date);
    Mm7Request q;
    long t = -1;

    if (mm7_parse_request(b, NULL, &q) == 0 && q.report != NULL)
        t = q.report->date;
    mm7_request_clear(&q);
    octstr_destroy(b);
    return t;
}

static void test_dates(void)
{
    test_begin("report dates: ISO 8601 forms, bad ones give 0");
    test_assert(report_date("2024-05-14T10:16:02Z") == 1715681762L);
    test_assert(report_date("2024-05-14T10:16:02.250Z") == 1715681762L);
    test_assert(report_date("2024-05-14T10:16:02") == 1715681762L);
    test_assert(report_date("2024-05-14T08:46:02-01:30") == 1715681762L);
    test_assert(report_date("2024-05-14T11:46:02+0130") == 1715681762L);
    test_assert(report_date("2024-05-14T-1:16:02Z") == 0);
    test_assert(report_date("2024-13-14T10:16:02Z") == 0);
    test_assert(report_date("2024-05-14 10:16:02") == 0);
    test_assert(report_date("1969-12-31T23:59:59Z") == 0);
    test_assert(report_date("2024-05-14T10:16:02+xx") == 0);
    test_end();
}

static void test_delivers(void)
{
    Octstr *ct, *body;
    Mm7Request q;
    long st;

    test_begin("DeliverReq REL-6 with a SMIL MM");
    test_assert(load_http("03-DeliverReq.http", &st, &ct, &body) == 0);
    test_assert(mm7_parse_request(body, ct, &q) == 0);
    test_assert(q.type == MM7_REQ_DELIVER && q.deliver != NULL);
    if (q.deliver != NULL) {
        Mm7Deliver *d = q.deliver;

        test_assert(ostr_is(d->transaction_id, "mmsc-mo-0001"));
        test_assert(ostr_is(d->sender, "+256771234567"));
        test_assert(gwlist_len(d->recipients) == 1);
        test_assert(ostr_is(gwlist_get(d->recipients, 0), "5555"));
        test_assert(ostr_is(d->subject, "REPLY 3 Re: Q2 figures"));
        test_assert(ostr_is(d->linked_id, "mmsc-mo-0001@mmsc.test"));
        test_assert(d->message_id == NULL);
        test_assert(d->content_type != NULL && octstr_search(
            d->content_type, octstr_imm("boundary=\"mms-parts-7d1f2a\""),
            0) > 0);
        test_assert(d->content != NULL
                    && octstr_search(d->content,
                                     octstr_imm("Thanks Alice"), 0) > 0);
        /* the MM ends with its own close delimiter, not the outer CRLF */
        test_assert(d->content != NULL && octstr_len(d->content) > 22
                    && octstr_search(d->content,
                                     octstr_imm("--mms-parts-7d1f2a--"), 0)
                       == octstr_len(d->content) - 22);
        test_assert(d->content != NULL && octstr_search(
            d->content, octstr_imm("mmsc-mo-outer"), 0) < 0);
    }
    mm7_request_clear(&q);
    octstr_destroy(ct);
    octstr_destroy(body);
    test_end();

    test_begin("DeliverReq Mbuni: unescaped subject, cid prefix, LF");
    test_assert(load_http("03b-DeliverReq-mbuni.http", &st, &ct,
                          &body) == 0);
    test_assert(mm7_parse_request(body, ct, &q) == 0);
    test_assert(q.type == MM7_REQ_DELIVER && q.deliver != NULL);
    if (q.deliver != NULL) {
        Mm7Deliver *d = q.deliver;

        test_assert(ostr_is(d->subject, "Tom & Jerry <3 you"));
        test_assert(ostr_is(d->sender, "bob@example.com"));
        test_assert(gwlist_len(d->recipients) == 3);
        if (gwlist_len(d->recipients) == 3) {
            test_assert(ostr_is(gwlist_get(d->recipients, 0), "5555"));
            test_assert(ostr_is(gwlist_get(d->recipients, 1),
                                "mail@pushmail.test"));
            test_assert(ostr_is(gwlist_get(d->recipients, 2),
                                "+46701234567"));
        }
        test_assert(ostr_is(d->linked_id, "link-9"));
        test_assert(ostr_is(d->content_type, "text/plain; charset=utf-8"));
        test_assert(ostr_is(d->content, "Hello from the phone\n"));
    }
    test_assert(ostr_is(q.xmlns, MM7_XMLNS_REL5));
    mm7_request_clear(&q);
    octstr_destroy(ct);
    octstr_destroy(body);
    test_end();

    test_begin("DeliverReq: base64 MM, %-encoded href, RFC 2047 subject");
    test_assert(load_http("03c-DeliverReq-base64.http", &st, &ct,
                          &body) == 0);
    test_assert(mm7_parse_request(body, ct, &q) == 0);
    if (q.deliver != NULL) {
        Mm7Deliver *d = q.deliver;

        test_assert(ostr_is(d->subject, "Gr\xc3\xbc\xc3\x9f" "e aus K"
                            "\xc3\xb6ln"));
        test_assert(ostr_is(d->content, "Gr\xc3\xbc\xc3\x9f" "e\r\n"));
        test_assert(ostr_is(d->content_type,
                            "text/plain; charset=utf-8"));  /* unfolded */
    } else {
        test_assert(q.deliver != NULL);
    }
    mm7_request_clear(&q);
    octstr_destroy(ct);
    octstr_destroy(body);
    test_end();

    test_begin("DeliverReq: missing Sender, missing Content part");
    body = octstr_create(
        "<e:Envelope xmlns:e='urn:e'><e:Header><TransactionID>t1"
        "</TransactionID></e:Header><e:Body><DeliverReq><Recipients><To>"
        "<ShortCode>5555</ShortCode></To></Recipients></DeliverReq>"
        "</e:Body></e:Envelope>");
    test_assert(mm7_parse_request(body, NULL, &q) == -1);
    test_assert(q.error_code == MM7_VALIDATION_ERROR);
    mm7_request_clear(&q);
    octstr_destroy(body);
    body = octstr_create(
        "<e:Envelope xmlns:e='urn:e'><e:Body><DeliverReq><Sender><Number>"
        "+1</Number></Sender><Content href='cid:nothere'/></DeliverReq>"
        "</e:Body></e:Envelope>");
    test_assert(mm7_parse_request(body, NULL, &q) == -1);
    test_assert(q.error_code == MM7_VALIDATION_ERROR);
    mm7_request_clear(&q);
    octstr_destroy(body);
    /* no Content at all is fine: an MM with only a subject */
    body = octstr_create(
        "<e:Envelope xmlns:e='urn:e'><e:Body><DeliverReq><Sender><Number>"
        "+1</Number></Sender><Subject>hi</Subject></DeliverReq>"
        "</e:Body></e:Envelope>");
    test_assert(mm7_parse_request(body, NULL, &q) == 0);
    test_assert(q.deliver != NULL && q.deliver->content == NULL
                && gwlist_len(q.deliver->recipients) == 0);
    mm7_request_clear(&q);
    octstr_destroy(body);
    test_end();

    test_begin("SubmitReq examples: parsed as unsupported requests");
    {
        static const char *const subs[] = {
            "01-SubmitReq.http", "01b-SubmitReq-rel5.http",
            "01c-SubmitReq-noauth.http", "01d-SubmitReq-loopback.http",
            "01e-SubmitReq-to-6666.http", "01f-SubmitReq-qp.http",
            "01g-SubmitReq-utf8-subject.http",
            "01h-SubmitReq-rfc2047-subject.http", NULL
        };
        int i;

        for (i = 0; subs[i] != NULL; i++) {
            test_assert(load_http(subs[i], &st, &ct, &body) == 0);
            test_assert(mm7_parse_request(body, ct, &q) == 0);
            test_assert(q.type == MM7_REQ_UNSUPPORTED);
            test_assert(ostr_is(q.op, "SubmitReq"));
            test_assert(q.transaction_id != NULL
                        && octstr_str_ncompare(q.transaction_id, "pm-000",
                                               6) == 0);
            mm7_request_clear(&q);
            octstr_destroy(ct);
            octstr_destroy(body);
        }
    }
    test_end();

    test_begin("Rsp examples: our peers' answers to us parse as well");
    {
        static const char *const rsps[] = { "04-DeliverRsp.http",
                                            "06-DeliveryReportRsp.http",
                                            NULL };
        Mm7Result r;
        int i;

        for (i = 0; rsps[i] != NULL; i++) {
            test_assert(load_http(rsps[i], &st, &ct, &body) == 0);
            test_assert(mm7_parse_response(body, ct, st, &r) == 0);
            test_assert(r.status_code == 1000 && !r.fault);
            mm7_result_clear(&r);
            octstr_destroy(ct);
            octstr_destroy(body);
        }
    }
    test_end();
}

/* ---- hostile input ---------------------------------------------------- */

static void test_hostile(void)
{
    static const char *const decl[] = { "09-billion-laughs.http",
                                        "09b-xxe.http",
                                        "09d-param-entity.http", NULL };
    Octstr *ct, *body, *s;
    Mm7Request q;
    Mm7Result r;
    long st, i, n;
    time_t t0;
    int k, ok;

    test_begin("DOCTYPE / ENTITY refused without expansion");
    for (k = 0; decl[k] != NULL; k++) {
        t0 = time(NULL);
        test_assert(load_http(decl[k], &st, &ct, &body) == 0);
        test_assert(mm7_parse_request(body, ct, &q) == -1);
        test_assert(q.error_code == MM7_FORMAT_CORRUPT);
        test_assert(q.report == NULL);
        mm7_request_clear(&q);
        test_assert(mm7_parse_response(body, ct, 200, &r) == -1);
        mm7_result_clear(&r);
        /* also hidden after a comment, and with a lower-case keyword */
        s = octstr_duplicate(body);
        octstr_insert(s, octstr_imm("<!-- x -->"), 0);
        test_assert(mm7_parse_request(s, ct, &q) == -1);
        mm7_request_clear(&q);
        octstr_destroy(s);
        test_assert(time(NULL) - t0 < 3);
        octstr_destroy(ct);
        octstr_destroy(body);
    }
    body = octstr_create("<!doctype x><x/>");
    test_assert(mm7_parse_request(body, NULL, &q) == -1);
    mm7_request_clear(&q);
    octstr_destroy(body);
    test_end();

    test_begin("entity reference without DTD stays literal text");
    test_assert(load_http("09c-undefined-entity.http", &st, &ct,
                          &body) == 0);
    test_assert(mm7_parse_request(body, ct, &q) == 0);
    test_assert(q.report != NULL
                && ostr_is(q.report->status_text, "&xxe; root:x:0"));
    mm7_request_clear(&q);
    octstr_destroy(ct);
    octstr_destroy(body);
    test_end();

    test_begin("every truncation of a report and a DeliverReq is safe");
    test_assert(load_http("05-DeliveryReportReq.http", &st, &ct,
                          &body) == 0);
    n = octstr_len(body);
    ok = 1;
    for (i = 0; i < n - 20; i++) {
        s = octstr_copy(body, 0, i);
        if (mm7_parse_request(s, ct, &q) != -1
            || q.error_code != MM7_FORMAT_CORRUPT)
            ok = 0;
        mm7_request_clear(&q);
        octstr_destroy(s);
    }
    test_assert(ok);
    octstr_destroy(ct);
    octstr_destroy(body);
    test_assert(load_http("03-DeliverReq.http", &st, &ct, &body) == 0);
    n = octstr_len(body);
    ok = 1;
    for (i = 0; i < n - 30; i += 7) {   /* a cut MM is refused too */
        s = octstr_copy(body, 0, i);
        if (mm7_parse_request(s, ct, &q) != -1)
            ok = 0;
        mm7_request_clear(&q);
        octstr_destroy(s);
    }
    test_assert(ok);
    octstr_destroy(ct);
    octstr_destroy(body);
    test_end();

    test_begin("deep nesting, huge body, garbage");
    s = octstr_create("<e:Envelope xmlns:e='urn:e'><e:Body>");
    for (i = 0; i < 40; i++)
        octstr_append_cstr(s, "<a>");
    for (i = 0; i < 40; i++)
        octstr_append_cstr(s, "</a>");
    octstr_append_cstr(s, "</e:Body></e:Envelope>");
    test_assert(mm7_parse_request(s, NULL, &q) == -1);
    test_assert(q.error_code == MM7_FORMAT_CORRUPT);
    test_assert_str(q.error_text, "XML nested too deep");
    mm7_request_clear(&q);
    octstr_destroy(s);
    s = octstr_create("<e:Envelope xmlns:e='urn:e'><e:Body><DeliverReq>"
                      "<Subject>");
    while (octstr_len(s) <= MM7_SOAP_MAX)
        octstr_append_cstr(s, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
    octstr_append_cstr(s, "</Subject></DeliverReq></e:Body></e:Envelope>");
    test_assert(mm7_parse_request(s, NULL, &q) == -1);
    test_assert_str(q.error_text, "SOAP part too large");
    mm7_request_clear(&q);
    octstr_destroy(s);
    s = octstr_create("\x00\xff<<<&&&]]>");
    test_assert(mm7_parse_request(s, NULL, &q) == -1);
    mm7_request_clear(&q);
    test_assert(mm7_parse_request(s, octstr_imm("multipart/related"),
                                  &q) == -1);
    mm7_request_clear(&q);
    octstr_destroy(s);
    /* many unclosed free-text tags: the repair stays linear */
    t0 = time(NULL);
    s = octstr_create("<e:Envelope><e:Body><DeliverReq>");
    while (octstr_len(s) < MM7_SOAP_MAX - 100)
        octstr_append_cstr(s, "<Subject>&<!x ");
    test_assert(mm7_parse_request(s, NULL, &q) == -1);
    mm7_request_clear(&q);
    octstr_destroy(s);
    test_assert(time(NULL) - t0 < 5);
    test_end();

    test_begin("a value is capped at MM7_VALUE_MAX on a UTF-8 boundary");
    s = octstr_create("<e:Envelope xmlns:e='urn:e'><e:Body><DeliverReq>"
                      "<Sender><Number>+1</Number></Sender><Subject>a");
    for (i = 0; i < MM7_VALUE_MAX; i++)
        octstr_append_cstr(s, "\xc3\xa9");
    octstr_append_cstr(s, "</Subject></DeliverReq></e:Body></e:Envelope>");
    test_assert(mm7_parse_request(s, NULL, &q) == 0);
    test_assert(q.deliver != NULL && q.deliver->subject != NULL
                && octstr_len(q.deliver->subject) == MM7_VALUE_MAX - 1);
    mm7_request_clear(&q);
    octstr_destroy(s);
    test_end();
}

/* ---- building --------------------------------------------------------- */

/* XPath over our output with prefixes e (SOAP) and m (given xmlns). */
static Octstr *xp(xmlDoc *doc, const char *xmlns, const char *expr)
{
    xmlXPathContext *ctx = xmlXPathNewContext(doc);
    xmlXPathObject *o;
    xmlChar *v;
    Octstr *r = NULL;

    xmlXPathRegisterNs(ctx, (const xmlChar *) "e", (const xmlChar *)
                       "http://schemas.xmlsoap.org/soap/envelope/");
    xmlXPathRegisterNs(ctx, (const xmlChar *) "m", (const xmlChar *) xmlns);
    o = xmlXPathEvalExpression((const xmlChar *) expr, ctx);
    if (o != NULL && o->type == XPATH_STRING && o->stringval != NULL
        && o->stringval[0] != '\0') {
        r = octstr_create((const char *) o->stringval);
    } else if (o != NULL && o->type == XPATH_NODESET
               && o->nodesetval != NULL && o->nodesetval->nodeNr > 0) {
        v = xmlNodeGetContent(o->nodesetval->nodeTab[0]);
        r = octstr_create((const char *) v);
        xmlFree(v);
    }
    xmlXPathFreeObject(o);
    xmlXPathFreeContext(ctx);
    return r;
}

static int xp_is(xmlDoc *doc, const char *xmlns, const char *expr,
                 const char *want)
{
    Octstr *v = xp(doc, xmlns, expr);
    int ok = ostr_is(v, want);

    if (!ok)
        fprintf(stderr, "  for %s\n", expr);
    octstr_destroy(v);
    return ok;
}

static void test_submit(void)
{
    Mm7SubmitParams p;
    Octstr *x, *s;
    xmlDoc *doc;
    long i;

    test_begin("SubmitReq REL-6: structure and escaping");
    memset(&p, 0, sizeof(p));
    p.xmlns = octstr_imm(MM7_XMLNS_REL6);
    p.version = octstr_imm(MM7_VERSION_REL6);
    p.transaction_id = octstr_imm("pm-0042");
    p.vasp_id = octstr_imm("pushmail");
    p.vas_id = octstr_imm("pushmail-svc");
    p.sender_address = octstr_imm("5555");
    p.recipient = octstr_imm("+256771234567");
    p.service_code = octstr_imm("PUSH&MAIL");
    p.subject = octstr_imm("Q2 <figures> & \"plan\"");
    p.content_id = octstr_imm("mm-42@pushmail.local");
    p.delivery_report = 1;
    x = mm7_submit_req(&p);
    test_assert(x != NULL);
    doc = x == NULL ? NULL
          : xmlReadMemory(octstr_get_cstr(x), octstr_len(x), NULL, NULL,
                          XML_PARSE_NONET);
    test_assert(doc != NULL);
    if (doc != NULL) {
        const char *ns = MM7_XMLNS_REL6;

        test_assert(xp_is(doc, ns, "/e:Envelope/e:Header/m:TransactionID",
                          "pm-0042"));
        test_assert(xp_is(doc, ns, "/e:Envelope/e:Header/m:TransactionID"
                          "/@e:mustUnderstand", "1"));
        test_assert(xp_is(doc, ns, "//e:Body/m:SubmitReq/m:MM7Version",
                          "6.8.0"));
        test_assert(xp_is(doc, ns, "//m:SubmitReq/m:SenderIdentification/"
                          "m:VASPID", "pushmail"));
        test_assert(xp_is(doc, ns, "//m:SenderIdentification/m:VASID",
                          "pushmail-svc"));
        test_assert(xp_is(doc, ns, "//m:SenderIdentification/"
                          "m:SenderAddress/m:ShortCode", "5555"));
        test_assert(xp_is(doc, ns, "//m:SubmitReq/m:Recipients/m:To/"
                          "m:Number", "+256771234567"));
        test_assert(xp_is(doc, ns, "//m:SubmitReq/m:ServiceCode",
                          "PUSH&MAIL"));
        test_assert(xp_is(doc, ns, "//m:SubmitReq/m:DeliveryReport",
                          "true"));
        test_assert(xp_is(doc, ns, "//m:SubmitReq/m:Subject",
                          "Q2 <figures> & \"plan\""));
        test_assert(xp_is(doc, ns, "//m:SubmitReq/m:Content/@href",
                          "cid:mm-42@pushmail.local"));
        test_assert(xp_is(doc, ns, "//m:SubmitReq/m:Content/"
                          "@allowAdaptations", "true"));
        /* schema order: Content is the last element */
        test_assert(xp_is(doc, ns, "name(//m:SubmitReq/*[last()])",
                          "Content"));
        test_assert(xp_is(doc, ns, "name(//m:SubmitReq/*[1])",
                          "MM7Version"));
        xmlFreeDoc(doc);
    }
    test_assert(x != NULL && octstr_search(x, octstr_imm("&amp;"), 0) > 0);
    test_assert(x != NULL && octstr_search(x, octstr_imm("&lt;"), 0) > 0);
    octstr_destroy(x);
    test_end();

    test_begin("SubmitReq REL-5 defaults, e-mail and Number addresses");
    memset(&p, 0, sizeof(p));
    p.transaction_id = octstr_imm("t5");
    p.sender_address = octstr_imm("+46700000000");
    p.recipient = octstr_imm("bob@example.com");
    p.content_id = octstr_imm("c1");
    x = mm7_submit_req(&p);
    doc = x == NULL ? NULL
          : xmlReadMemory(octstr_get_cstr(x), octstr_len(x), NULL, NULL,
                          XML_PARSE_NONET);
    test_assert(doc != NULL);
    if (doc != NULL) {
        const char *ns = MM7_XMLNS_REL5;

        test_assert(xp_is(doc, ns, "//m:SubmitReq/m:MM7Version", "5.3.0"));
        test_assert(xp_is(doc, ns, "//m:SenderAddress/m:Number",
                          "+46700000000"));
        test_assert(xp_is(doc, ns, "//m:To/m:RFC2822Address",
                          "bob@example.com"));
        test_assert(xp_is(doc, ns, "//m:DeliveryReport", "false"));
        test_assert(xp(doc, ns, "//m:Subject") == NULL);
        test_assert(xp(doc, ns, "//m:VASPID") == NULL);
        xmlFreeDoc(doc);
    }
    octstr_destroy(x);
    test_end();

    test_begin("SubmitReq subject cut at 60 characters, cleaned");
    memset(&p, 0, sizeof(p));
    p.transaction_id = octstr_imm("t6");
    p.recipient = octstr_imm("256771234567");
    p.content_id = octstr_imm("c1");
    s = octstr_create("\x01");
    octstr_append_cstr(s, "\xff");              /* invalid byte */
    for (i = 0; i < 70; i++)
        octstr_append_cstr(s, "\xc3\xa9");
    p.subject = s;
    x = mm7_submit_req(&p);
    doc = x == NULL ? NULL
          : xmlReadMemory(octstr_get_cstr(x), octstr_len(x), NULL, NULL,
                          XML_PARSE_NONET);
    test_assert(doc != NULL);
    if (doc != NULL) {
        Octstr *v = xp(doc, MM7_XMLNS_REL5, "//m:Subject");

        test_assert(v != NULL && octstr_len(v) == 2 + 58 * 2);
        test_assert(v != NULL && octstr_get_char(v, 0) == ' '
                    && octstr_get_char(v, 1) == '?');
        octstr_destroy(v);
        test_assert(xp_is(doc, MM7_XMLNS_REL5, "//m:To/m:Number",
                          "256771234567"));
        xmlFreeDoc(doc);
    }
    octstr_destroy(x);
    octstr_destroy(s);
    test_end();

    test_begin("SubmitReq refuses bad input");
    memset(&p, 0, sizeof(p));
    p.transaction_id = octstr_imm("t7");
    p.content_id = octstr_imm("c1");
    test_assert(mm7_submit_req(&p) == NULL);            /* no recipient */
    p.recipient = octstr_imm("+46 70");
    test_assert(mm7_submit_req(&p) == NULL);
    p.recipient = octstr_imm("+4670");
    p.vasp_id = octstr_imm("a\x02" "b");
    test_assert(mm7_submit_req(&p) == NULL);
    p.vasp_id = NULL;
    p.transaction_id = octstr_imm("t 7");
    test_assert(mm7_submit_req(&p) == NULL);
    p.transaction_id = octstr_imm("t7");
    p.content_id = NULL;
    test_assert(mm7_submit_req(&p) == NULL);
    p.content_id = octstr_imm("c1");
    p.sender_address = octstr_imm("not an address");
    test_assert(mm7_submit_req(&p) == NULL);
    p.sender_address = NULL;
    x = mm7_submit_req(&p);
    test_assert(x != NULL);
    octstr_destroy(x);
    test_end();
}

static void test_answers(void)
{
    Octstr *ct, *body, *x;
    Mm7Request q;
    Mm7Result r;
    long st;

    test_begin("DeliveryReportRsp 1000 echoes id, namespace, version");
    test_assert(load_http("05-DeliveryReportReq.http", &st, &ct,
                          &body) == 0);
    test_assert(mm7_parse_request(body, ct, &q) == 0);
    x = mm7_response(&q, MM7_SUCCESS, NULL);
    test_assert(mm7_parse_response(x, octstr_imm("text/xml"), 200, &r)
                == 0);
    test_assert(r.status_code == 1000 && !r.fault);
    test_assert(ostr_is(r.op, "DeliveryReportRsp"));
    test_assert(ostr_is(r.transaction_id, "mmsc-dlr-0001"));
    test_assert(ostr_is(r.status_text, "Success"));
    test_assert(octstr_search(x, octstr_imm("xmlns=\"" MM7_XMLNS_REL6
                                            "\""), 0) > 0);
    test_assert(octstr_search(x, octstr_imm("<MM7Version>6.8.0<"), 0) > 0);
    test_assert(octstr_search(x, octstr_imm("mustUnderstand=\"1\""), 0)
                > 0);
    mm7_result_clear(&r);
    octstr_destroy(x);
    /* a refusal by the callback */
    x = mm7_response(&q, MM7_MESSAGE_ID_NOT_FOUND, NULL);
    test_assert(mm7_parse_response(x, NULL, 200, &r) == 0);
    test_assert(r.status_code == 2005 && r.fault);
    test_assert(ostr_is(r.op, "VASPErrorRsp"));
    test_assert(ostr_is(r.transaction_id, "mmsc-dlr-0001"));
    test_assert(octstr_search(x, octstr_imm(">env:Client<"), 0) > 0);
    mm7_result_clear(&r);
    octstr_destroy(x);
    mm7_request_clear(&q);
    octstr_destroy(ct);
    octstr_destroy(body);
    test_end();

    test_begin("DeliverRsp and the Unsupported operation fault");
    test_assert(load_http("03b-DeliverReq-mbuni.http", &st, &ct,
                          &body) == 0);
    test_assert(mm7_parse_request(body, ct, &q) == 0);
    x = mm7_response(&q, MM7_SUCCESS, NULL);
    test_assert(mm7_parse_response(x, NULL, 200, &r) == 0);
    test_assert(ostr_is(r.op, "DeliverRsp") && r.status_code == 1000);
    test_assert(ostr_is(r.transaction_id, "mbuni-mo-9"));
    test_assert(octstr_search(x, octstr_imm(MM7_XMLNS_REL5), 0) > 0);
    test_assert(octstr_search(x, octstr_imm(">5.3.0<"), 0) > 0);
    mm7_result_clear(&r);
    octstr_destroy(x);
    x = mm7_response(&q, MM7_UNSUPPORTED_OPERATION, NULL);
    test_assert(mm7_parse_response(x, NULL, 500, &r) == 0);
    test_assert(r.status_code == 4003 && r.fault);
    test_assert(ostr_is(r.status_text, "Unsupported operation"));
    test_assert(octstr_search(x, octstr_imm(">env:Server<"), 0) > 0);
    mm7_result_clear(&r);
    octstr_destroy(x);
    mm7_request_clear(&q);
    octstr_destroy(ct);
    octstr_destroy(body);
    test_end();

    test_begin("answers to garbage and to unknown operations");
    x = mm7_response(NULL, MM7_FORMAT_CORRUPT, "bad & <worse>");
    test_assert(mm7_parse_response(x, NULL, 400, &r) == 0);
    test_assert(r.status_code == 2007 && r.transaction_id == NULL);
    test_assert(ostr_is(r.status_text, "bad & <worse>"));
    test_assert(octstr_search(x, octstr_imm(MM7_XMLNS_REL5), 0) > 0);
    mm7_result_clear(&r);
    octstr_destroy(x);
    test_assert(load_http("01-SubmitReq.http", &st, &ct, &body) == 0);
    test_assert(mm7_parse_request(body, ct, &q) == 0);
    x = mm7_response(&q, MM7_SUCCESS, NULL);    /* cannot say 1000 */
    test_assert(mm7_parse_response(x, NULL, 200, &r) == 0);
    test_assert(r.status_code == 4003 && r.fault);
    test_assert(ostr_is(r.transaction_id, "pm-0001"));
    mm7_result_clear(&r);
    octstr_destroy(x);
    mm7_request_clear(&q);
    octstr_destroy(ct);
    octstr_destroy(body);
    test_end();
}

/* ---- mime ------------------------------------------------------------- */

static void test_mime(void)
{
    Octstr *ct, *body, *v, *mm, *soap;
    const Mm7MimePart *p, *start;
    const char *err = NULL;
    Mm7Mime *m;
    long st, i;

    test_begin("Content-Type parameters");
    ct = octstr_create("multipart/related; TYPE=\"text/xml\"; "
                       "start=\"<a;b>\";boundary=x\\y ;q=\"a\\\"b\"");
    v = mm7_mime_param(ct, "type");
    test_assert(ostr_is(v, "text/xml"));
    octstr_destroy(v);
    v = mm7_mime_param(ct, "start");
    test_assert(ostr_is(v, "<a;b>"));
    octstr_destroy(v);
    v = mm7_mime_param(ct, "boundary");
    test_assert(ostr_is(v, "x\\y"));
    octstr_destroy(v);
    v = mm7_mime_param(ct, "q");
    test_assert(ostr_is(v, "a\"b"));
    octstr_destroy(v);
    octstr_destroy(ct);
    test_assert(mm7_mime_param(octstr_imm("a/b; xboundary=1"), "boundary")
                == NULL);
    test_assert(mm7_mime_param(octstr_imm("a/b; boundary"), "boundary")
                == NULL);
    test_assert(mm7_mime_param(NULL, "boundary") == NULL);
    v = mm7_mime_type(octstr_imm(" Multipart/Related ; x=y"));
    test_assert(ostr_is(v, "multipart/related"));
    octstr_destroy(v);
    test_end();

    test_begin("split a SubmitReq: start part and the MM by cid");
    test_assert(load_http("01-SubmitReq.http", &st, &ct, &body) == 0);
    m = mm7_mime_split(body, ct, &err);
    test_assert(m != NULL && mm7_mime_count(m) == 2);
    start = mm7_mime_start(m);
    test_assert(start != NULL && ostr_is(start->content_id,
                                         "soap-start@pushmail"));
    test_assert(start != NULL && octstr_search(start->body,
                octstr_imm("<env:Envelope"), 0) > 0);
    p = mm7_mime_by_cid(m, octstr_imm("cid:mms-content-pm-0001@pushmail"
                                      ".local"), start);
    test_assert(p != NULL && p == mm7_mime_get(m, 1));
    p = mm7_mime_by_cid(m, octstr_imm("<mms-content-pm-0001@pushmail"
                                      ".local>"), start);
    test_assert(p != NULL && p == mm7_mime_get(m, 1));
    p = mm7_mime_by_cid(m, octstr_imm("cid:MMS-CONTENT-pm-0001@pushmail"
                                      ".local"), start);
    test_assert(p == mm7_mime_get(m, 1));
    p = mm7_mime_by_cid(m, octstr_imm("cid:mms-content-pm-0001"), start);
    test_assert(p == mm7_mime_get(m, 1));               /* prefix */
    p = mm7_mime_by_cid(m, octstr_imm("cid:soap-start@pushmail"), start);
    test_assert(p == NULL);                             /* skipped */
    p = mm7_mime_by_cid(m, octstr_imm("cid:nothing"), NULL);
    test_assert(p == NULL);
    mm7_mime_destroy(m);
    octstr_destroy(ct);
    octstr_destroy(body);
    test_end();

    test_begin("split refuses bad multipart");
    body = octstr_create("--b\r\nContent-Type: text/xml\r\n\r\n<x/>\r\n");
    test_assert(mm7_mime_split(body, octstr_imm("multipart/related; "
                                                "boundary=b"), &err)
                == NULL);
    test_assert_str(err, "no closing boundary");
    test_assert(mm7_mime_split(body, octstr_imm("multipart/related"), &err)
                == NULL);
    test_assert_str(err, "no usable boundary parameter");
    test_assert(mm7_mime_split(body, octstr_imm("text/xml"), &err)
                == NULL);
    test_assert(mm7_mime_split(body, NULL, &err) == NULL);
    octstr_destroy(body);
    body = octstr_create("");
    for (i = 0; i <= MM7_MIME_MAX_PARTS; i++)
        octstr_append_cstr(body, "--b\r\n\r\nx\r\n");
    octstr_append_cstr(body, "--b--\r\n");
    test_assert(mm7_mime_split(body, octstr_imm("multipart/mixed; "
                                                "boundary=b"), &err)
                == NULL);
    test_assert_str(err, "too many parts");
    octstr_destroy(body);
    body = octstr_create("--b\r\nX-Long: ");
    for (i = 0; i < MM7_MIME_MAX_HEADER; i++)
        octstr_append_cstr(body, "h\r\n ");
    octstr_append_cstr(body, "\r\n\r\nx\r\n--b--\r\n");
    test_assert(mm7_mime_split(body, octstr_imm("multipart/mixed; "
                                                "boundary=b"), &err)
                == NULL);
    test_assert_str(err, "part header too long");
    octstr_destroy(body);
    test_end();

    test_begin("split: boundary only at line start, longer boundary, qp");
    body = octstr_create("preamble --b not here\r\n"
                         "--bb\r\nnot a delimiter either\r\n"
                         "--b  \r\nContent-Type: text/plain\r\n"
                         "Content-Transfer-Encoding: Quoted-Printable\r\n"
                         "Content-ID: x@y\r\n\r\n"
                         "a=3Db=\r\nc --b\r\n--b--");
    m = mm7_mime_split(body, octstr_imm("multipart/mixed; boundary=\"b\""),
                       &err);
    test_assert(m != NULL && mm7_mime_count(m) == 1);
    p = mm7_mime_get(m, 0);
    test_assert(p != NULL && ostr_is(p->body, "a=bc --b"));
    test_assert(p != NULL && ostr_is(p->content_id, "x@y"));
    test_assert(mm7_mime_get(m, 1) == NULL && mm7_mime_get(m, -1) == NULL);
    mm7_mime_destroy(m);
    octstr_destroy(body);
    test_end();

    test_begin("join and split back, boundary not in the content");
    soap = octstr_create("<x>mm7-</x>");
    mm = octstr_create("--mm7-\r\n--mm7-00000000\r\nbinary\0data\r\n");
    octstr_append_data(mm, "\0\1\2", 3);
    ct = NULL;
    body = mm7_mime_join(soap, octstr_imm("multipart/related; type="
                                          "\"application/smil\""), mm,
                         octstr_imm("mm-1@pm"), &ct);
    test_assert(body != NULL && ct != NULL);
    m = body == NULL ? NULL : mm7_mime_split(body, ct, &err);
    test_assert(m != NULL && mm7_mime_count(m) == 2);
    start = mm7_mime_start(m);
    test_assert(start == mm7_mime_get(m, 0));
    test_assert(start != NULL && octstr_compare(start->body, soap) == 0);
    test_assert(start != NULL && ostr_is(start->content_type,
                                         "text/xml; charset=\"utf-8\""));
    p = mm7_mime_by_cid(m, octstr_imm("cid:mm-1@pm"), start);
    test_assert(p != NULL && octstr_compare(p->body, mm) == 0);
    test_assert(p != NULL && ostr_is(p->content_type, "multipart/related; "
                                     "type=\"application/smil\""));
    v = mm7_mime_param(ct, "type");
    test_assert(ostr_is(v, "text/xml"));
    octstr_destroy(v);
    mm7_mime_destroy(m);
    octstr_destroy(body);
    octstr_destroy(ct);
    ct = NULL;
    test_assert(mm7_mime_join(soap, octstr_imm("text/plain\r\nX: y"), mm,
                              octstr_imm("c"), &ct) == NULL);
    test_assert(mm7_mime_join(soap, octstr_imm("text/plain"), mm,
                              octstr_imm("c>"), &ct) == NULL);
    test_assert(ct == NULL);
    octstr_destroy(soap);
    octstr_destroy(mm);
    test_end();

    test_begin("join: a real SubmitReq parses back as SubmitReq");
    {
        Mm7SubmitParams sp;
        Mm7Request q;

        memset(&sp, 0, sizeof(sp));
        sp.transaction_id = octstr_imm("pm-7");
        sp.recipient = octstr_imm("+46701234567");
        sp.content_id = octstr_imm("mm-7@pm");
        soap = mm7_submit_req(&sp);
        mm = octstr_create("--x\r\nContent-Type: text/plain\r\n\r\nhi\r\n"
                           "--x--\r\n");
        body = mm7_mime_join(soap, octstr_imm("multipart/mixed; "
                                              "boundary=x"), mm,
                             sp.content_id, &ct);
        test_assert(mm7_parse_request(body, ct, &q) == 0);
        test_assert(ostr_is(q.op, "SubmitReq"));
        test_assert(ostr_is(q.transaction_id, "pm-7"));
        mm7_request_clear(&q);
        octstr_destroy(ct);
        octstr_destroy(body);
        octstr_destroy(mm);
        octstr_destroy(soap);
    }
    test_end();
}

int main(void)
{
    int ret;

    gwlib_init();
    log_set_output_level(GW_WARNING);
    mm7_soap_init();
    find_data_dir();
    test_mime();
    test_responses();
    test_reports();
    test_dates();
    test_delivers();
    test_hostile();
    test_submit();
    test_answers();
    octstr_destroy(data_dir);
    ret = test_exit();
    mm7_soap_deinit();
    xmlCleanupParser();
    gwlib_shutdown();
    return ret;
}
