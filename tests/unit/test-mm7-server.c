/*
 * test-mm7-server.c - the MM7 endpoint over real HTTP on loopback.
 *
 * Starts mm7-server on a free 127.0.0.1 port with fake callbacks that
 * record what they got, and talks to it with libcurl: auth (401), address
 * (403 via deny-ip), method/path/size (405/404/413), SOAP reports and
 * MOs (1000, 503, refusals, 2007 (HTTP 200) on garbage, 4003 without a deliver
 * handler), mmsbox DLR GETs and MO POSTs.  The example messages come from
 * $srcdir/tests/data/mm7 (or are found from __FILE__).
 */
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <curl/curl.h>

#include "gwlib/gwlib.h"
#include "mm7-server.h"
#include "mm7-soap.h"
#include "test-common.h"

static Octstr *data_dir;

/* What the fake callbacks saw, and what they answer. */
typedef struct {
    int rc;                     /* returned by both callbacks */
    int reports, delivers;
    Octstr *mmsc_id, *message_id, *recipient, *status, *sender;
    Octstr *subject, *content_type, *content, *transaction_id;
    List *recipients;
    long date;
} Fake;

static Fake fake;

static void fake_reset(int rc)
{
    octstr_destroy(fake.mmsc_id);
    octstr_destroy(fake.message_id);
    octstr_destroy(fake.recipient);
    octstr_destroy(fake.status);
    octstr_destroy(fake.sender);
    octstr_destroy(fake.subject);
    octstr_destroy(fake.content_type);
    octstr_destroy(fake.content);
    octstr_destroy(fake.transaction_id);
    gwlist_destroy(fake.recipients, octstr_destroy_item);
    memset(&fake, 0, sizeof(fake));
    fake.rc = rc;
}

static Octstr *dup_or_null(const Octstr *s)
{
    return s == NULL ? NULL : octstr_duplicate(s);
}

static int fake_report(const Mm7Report *r, void *ctx)
{
    Fake *f = ctx;

    fake_reset(f->rc);
    f->reports = 1;
    f->mmsc_id = dup_or_null(r->mmsc_id);
    f->message_id = dup_or_null(r->message_id);
    f->recipient = dup_or_null(r->recipient);
    f->status = dup_or_null(r->status);
    f->date = r->date;
    return f->rc;
}

static int fake_deliver(const Mm7Deliver *d, void *ctx)
{
    Fake *f = ctx;
    long i;

    fake_reset(f->rc);
    f->delivers = 1;
    f->mmsc_id = dup_or_null(d->mmsc_id);
    f->message_id = dup_or_null(d->message_id);
    f->sender = dup_or_null(d->sender);
    f->subject = dup_or_null(d->subject);
    f->content_type = dup_or_null(d->content_type);
    f->content = dup_or_null(d->content);
    f->transaction_id = dup_or_null(d->transaction_id);
    f->recipients = gwlist_create();
    for (i = 0; i < gwlist_len(d->recipients); i++)
        gwlist_append(f->recipients,
                      octstr_duplicate(gwlist_get(d->recipients, i)));
    return f->rc;
}

static void find_data_dir(void)
{
    const char *sd = getenv("srcdir");
    long p;

    if (sd != NULL) {
        data_dir = octstr_format("%s/tests/data/mm7", sd);
        return;
    }
    data_dir = octstr_create(__FILE__);
    p = octstr_search(data_dir, octstr_imm("unit/test-mm7-server.c"), 0);
    octstr_truncate(data_dir, p >= 0 ? p : 0);
    octstr_append_cstr(data_dir, "data/mm7");
}

/* Content-Type value and body of an example HTTP message. */
static void load_http(const char *name, Octstr **ct_r, Octstr **body_r)
{
    Octstr *path = octstr_format("%S/%s", data_dir, name);
    Octstr *raw = octstr_read_file(octstr_get_cstr(path));
    long hdr_end, p, e;

    octstr_destroy(path);
    *ct_r = NULL;
    *body_r = NULL;
    if (raw == NULL)
        return;
    hdr_end = octstr_search(raw, octstr_imm("\r\n\r\n"), 0);
    p = octstr_case_search(raw, octstr_imm("\nContent-Type:"), 0);
    if (p >= 0 && p < hdr_end) {
        e = octstr_search(raw, octstr_imm("\r\n"), p + 1);
        *ct_r = octstr_copy(raw, p + 14, e - p - 14);
        octstr_strip_blanks(*ct_r);
    }
    *body_r = octstr_copy(raw, hdr_end + 4, octstr_len(raw));
    octstr_destroy(raw);
}

static long free_port(void)
{
    struct sockaddr_in a;
    socklen_t len = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    long port;

    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || bind(fd, (struct sockaddr *) &a, sizeof(a)) < 0
        || getsockname(fd, (struct sockaddr *) &a, &len) < 0)
        port = -1;
    else
        port = ntohs(a.sin_port);
    if (fd >= 0)
        close(fd);
    return port;
}

/* ---- the HTTP client -------------------------------------------------- */

static size_t collect(char *p, size_t size, size_t n, void *arg)
{
    octstr_append_data(arg, p, size * n);
    return size * n;
}

typedef struct {
    long status;
    Octstr *body;
    Octstr *headers;
} Resp;

static long port;

/*
 * method "GET"/"POST"/"HEAD"; ct NULL = none; userpwd NULL = no auth;
 * extra: NULL-terminated header lines.
 */
static void call(const char *method, const char *path, const char *ct,
                 const Octstr *body, const char *userpwd,
                 const char *const *extra, Resp *r)
{
    CURL *c = curl_easy_init();
    struct curl_slist *h = NULL;
    Octstr *url = octstr_format("http://127.0.0.1:%ld%s", port, path);
    Octstr *cth = NULL;

    r->status = 0;
    r->body = octstr_create("");
    r->headers = octstr_create("");
    curl_easy_setopt(c, CURLOPT_URL, octstr_get_cstr(url));
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, r->body);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, r->headers);
    h = curl_slist_append(h, "Expect:");
    /* gwlib panics ("Race condition in client_destroy") when a port is
     * closed while the peer closes a kept-alive connection: let the
     * server close each connection after its reply instead */
    h = curl_slist_append(h, "Connection: close");
    if (ct != NULL) {
        cth = octstr_format("Content-Type: %s", ct);
        h = curl_slist_append(h, octstr_get_cstr(cth));
    }
    for (; extra != NULL && *extra != NULL; extra++)
        h = curl_slist_append(h, *extra);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    if (userpwd != NULL) {
        curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long) CURLAUTH_BASIC);
        curl_easy_setopt(c, CURLOPT_USERPWD, userpwd);
    }
    if (strcmp(method, "POST") == 0) {
        curl_easy_setopt(c, CURLOPT_POST, 1L);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS,
                         body ? octstr_get_cstr(body) : "");
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE,
                         body ? octstr_len(body) : 0L);
    } else if (strcmp(method, "HEAD") == 0) {
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    }
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    octstr_destroy(url);
    octstr_destroy(cth);
}

/* Stop the server once gwlib has dropped the last connection. */
static void stop(Mm7Server **s)
{
    gwthread_sleep(0.1);
    mm7_server_stop(s);
}

static void resp_free(Resp *r)
{
    octstr_destroy(r->body);
    octstr_destroy(r->headers);
}

static int has(const Octstr *s, const char *needle)
{
    return s != NULL && octstr_search(s, octstr_imm(needle), 0) >= 0;
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

#define AUTH "mmsc:s3cr&t:x"

/* ---- tests ------------------------------------------------------------ */

static void test_refusals(void)
{
    Octstr *ct, *body, *big;
    Resp r;

    load_http("05-DeliveryReportReq.http", &ct, &body);
    test_begin("401 without and with wrong credentials");
    fake_reset(1);
    call("POST", "/mm7", octstr_get_cstr(ct), body, NULL, NULL, &r);
    test_assert(r.status == 401);
    test_assert(has(r.headers, "WWW-Authenticate: Basic"));
    resp_free(&r);
    call("POST", "/mm7", octstr_get_cstr(ct), body, "mmsc:s3cr&t", NULL,
         &r);
    test_assert(r.status == 401);
    resp_free(&r);
    call("POST", "/mm7", octstr_get_cstr(ct), body, "mmsc:s3cr&t:xx",
         NULL, &r);
    test_assert(r.status == 401);
    resp_free(&r);
    call("POST", "/mm7", octstr_get_cstr(ct), body, NULL,
         (const char *const[]) { "Authorization: Bearer abc", NULL }, &r);
    test_assert(r.status == 401);
    resp_free(&r);
    test_assert(fake.reports == 0);
    test_end();

    test_begin("404 path, 405 method, 413 size");
    call("POST", "/other", octstr_get_cstr(ct), body, AUTH, NULL, &r);
    test_assert(r.status == 404);
    resp_free(&r);
    call("GET", "/mm7", NULL, NULL, AUTH, NULL, &r);
    test_assert(r.status == 405 && has(r.headers, "Allow: POST"));
    resp_free(&r);
    call("GET", "/mmsbox/mo", NULL, NULL, AUTH, NULL, &r);
    test_assert(r.status == 405);
    resp_free(&r);
    call("HEAD", "/mmsbox/dlr", NULL, NULL, AUTH, NULL, &r);
    test_assert(r.status == 405);
    resp_free(&r);
    big = octstr_create("");
    while (octstr_len(big) <= 10240 * 2 + 64 * 1024)
        octstr_append_cstr(big, "<x>0123456789012345678901234567890</x>");
    call("POST", "/mm7", "text/xml", big, AUTH, NULL, &r);
    test_assert(r.status == 413);
    resp_free(&r);
    octstr_destroy(big);
    test_assert(fake.reports == 0);
    test_end();
    octstr_destroy(ct);
    octstr_destroy(body);
}

static void test_soap(int have_deliver)
{
    Octstr *ct, *body;
    Mm7Result res;
    Resp r;

    load_http("05-DeliveryReportReq.http", &ct, &body);
    test_begin("DeliveryReportReq: 1000 when stored");
    fake_reset(1);
    call("POST", "/mm7/dlr", octstr_get_cstr(ct), body, AUTH, NULL, &r);
    test_assert(r.status == 200);
    test_assert(has(r.headers, "Content-Type: text/xml"));
    test_assert(mm7_parse_response(r.body, NULL, r.status, &res) == 0);
    test_assert(res.status_code == 1000 && !res.fault);
    test_assert(ostr_is(res.op, "DeliveryReportRsp"));
    test_assert(ostr_is(res.transaction_id, "mmsc-dlr-0001"));
    mm7_result_clear(&res);
    resp_free(&r);
    test_assert(fake.reports == 1);
    test_assert(ostr_is(fake.mmsc_id, "t1"));
    test_assert(ostr_is(fake.message_id, "041502073667"));
    test_assert(ostr_is(fake.recipient, "+256771234567"));
    test_assert(ostr_is(fake.status, "Retrieved"));
    test_assert(fake.date == 1715681762L);
    fake_reset(0);          /* unknown MessageID: still 1000 */
    call("POST", "/", octstr_get_cstr(ct), body, AUTH, NULL, &r);
    test_assert(r.status == 200 && has(r.body, ">1000<"));
    resp_free(&r);
    test_end();

    test_begin("DeliveryReportReq: 503 when the store is down");
    fake_reset(-1);
    call("POST", "/mm7", octstr_get_cstr(ct), body, AUTH, NULL, &r);
    test_assert(r.status == 503 && fake.reports == 1);
    test_assert(!has(r.body, "1000"));
    resp_free(&r);
    test_end();

    test_begin("DeliveryReportReq: refusal code from the callback");
    fake_reset(MM7_MESSAGE_ID_NOT_FOUND);
    call("POST", "/mm7", octstr_get_cstr(ct), body, AUTH, NULL, &r);
    test_assert(r.status == 200);
    test_assert(mm7_parse_response(r.body, NULL, r.status, &res) == 0);
    test_assert(res.status_code == 2005 && res.fault);
    mm7_result_clear(&res);
    resp_free(&r);
    test_end();
    octstr_destroy(ct);
    octstr_destroy(body);

    test_begin("garbage: 200 with fault 2007, missing field: 4004");
    fake_reset(1);
    body = octstr_create("<not xml");
    call("POST", "/mm7", "text/xml", body, AUTH, NULL, &r);
    test_assert(r.status == 200);
    test_assert(mm7_parse_response(r.body, NULL, r.status, &res) == 0);
    test_assert(res.status_code == 2007 && res.fault);
    mm7_result_clear(&res);
    resp_free(&r);
    octstr_destroy(body);
    body = octstr_create("<e:Envelope xmlns:e='urn:e'><e:Header>"
                         "<TransactionID>t-4</TransactionID></e:Header>"
                         "<e:Body><DeliveryReportReq><MMStatus>x</MMStatus>"
                         "</DeliveryReportReq></e:Body></e:Envelope>");
    call("POST", "/mm7", "text/xml", body, AUTH, NULL, &r);
    test_assert(r.status == 200);
    test_assert(mm7_parse_response(r.body, NULL, r.status, &res) == 0);
    test_assert(res.status_code == 4004);
    test_assert(ostr_is(res.transaction_id, "t-4"));
    mm7_result_clear(&res);
    resp_free(&r);
    octstr_destroy(body);
    test_assert(fake.reports == 0);
    test_end();

    test_begin("SubmitReq to us: 4003");
    load_http("01-SubmitReq.http", &ct, &body);
    call("POST", "/mm7", octstr_get_cstr(ct), body, AUTH, NULL, &r);
    test_assert(r.status == 200);
    test_assert(mm7_parse_response(r.body, NULL, r.status, &res) == 0);
    test_assert(res.status_code == 4003 && res.fault);
    test_assert(ostr_is(res.transaction_id, "pm-0001"));
    mm7_result_clear(&res);
    resp_free(&r);
    octstr_destroy(ct);
    octstr_destroy(body);
    test_end();

    load_http("03-DeliverReq.http", &ct, &body);
    if (!have_deliver) {
        test_begin("DeliverReq without a deliver handler: 4003");
        fake_reset(1);
        call("POST", "/mm7", octstr_get_cstr(ct), body, AUTH, NULL, &r);
        test_assert(r.status == 200);
        test_assert(mm7_parse_response(r.body, NULL, r.status, &res) == 0);
        test_assert(res.status_code == 4003 && res.fault);
        test_assert(ostr_is(res.transaction_id, "mmsc-mo-0001"));
        test_assert(fake.delivers == 0);
        mm7_result_clear(&res);
        resp_free(&r);
        test_end();
    } else {
        test_begin("DeliverReq: DeliverRsp 1000, the MM handed over");
        fake_reset(1);
        call("POST", "/mm7", octstr_get_cstr(ct), body, AUTH, NULL, &r);
        test_assert(r.status == 200);
        test_assert(mm7_parse_response(r.body, NULL, r.status, &res) == 0);
        test_assert(res.status_code == 1000);
        test_assert(ostr_is(res.op, "DeliverRsp"));
        mm7_result_clear(&res);
        resp_free(&r);
        test_assert(fake.delivers == 1);
        test_assert(ostr_is(fake.sender, "+256771234567"));
        test_assert(ostr_is(fake.transaction_id, "mmsc-mo-0001"));
        test_assert(ostr_is(fake.mmsc_id, "t1"));
        test_assert(fake.recipients != NULL
                    && gwlist_len(fake.recipients) == 1);
        test_assert(has(fake.content, "Thanks Alice"));
        test_assert(has(fake.content_type, "application/smil"));
        fake_reset(-1);
        call("POST", "/mm7", octstr_get_cstr(ct), body, AUTH, NULL, &r);
        test_assert(r.status == 503);
        resp_free(&r);
        test_end();
    }
    octstr_destroy(ct);
    octstr_destroy(body);
}

static void test_mmsbox(void)
{
    Octstr *body;
    Resp r;

    test_begin("mmsbox DLR with X-Mbuni headers");
    fake_reset(1);
    call("GET", "/mmsbox/dlr", NULL, NULL, AUTH, (const char *const[]) {
             "X-Mbuni-Message-ID: mbx-77", "X-Mbuni-DLR-Type: expired",
             "X-Mbuni-To: +46701234567/TYPE=PLMN",
             "X-Mbuni-From: 2020", "X-Mbuni-Timestamp: 1715681762",
             NULL }, &r);
    test_assert(r.status == 200 && octstr_len(r.body) == 0);
    resp_free(&r);
    test_assert(fake.reports == 1);
    test_assert(ostr_is(fake.message_id, "mbx-77"));
    test_assert(ostr_is(fake.status, "Expired"));
    test_assert(ostr_is(fake.recipient, "+46701234567"));
    test_assert(fake.date == 1715681762L);
    test_end();

    test_begin("mmsbox DLR with our id in the query");
    fake_reset(1);
    call("GET", "/mmsbox/dlr?id=our-42&status=delivered", NULL, NULL,
         AUTH, NULL, &r);
    test_assert(r.status == 200);
    resp_free(&r);
    test_assert(ostr_is(fake.message_id, "our-42"));
    test_assert(ostr_is(fake.status, "Retrieved"));
    test_assert(fake.date > 0);
    fake_reset(-1);
    call("GET", "/mmsbox/dlr?id=our-42&status=rejected", NULL, NULL,
         AUTH, NULL, &r);
    test_assert(r.status == 503);
    test_assert(ostr_is(fake.status, "Rejected"));
    resp_free(&r);
    fake_reset(1);
    call("GET", "/mmsbox/dlr?status=rejected", NULL, NULL, AUTH, NULL, &r);
    test_assert(r.status == 400 && fake.reports == 0);
    resp_free(&r);
    call("GET", "/mmsbox/dlr?id=a%20b&status=rejected", NULL, NULL, AUTH,
         NULL, &r);
    test_assert(r.status == 400 && fake.reports == 0);
    resp_free(&r);
    test_end();

    test_begin("mmsbox MO: raw MM with X-Mbuni headers");
    fake_reset(1);
    body = octstr_create("--p\r\nContent-Type: text/plain\r\n\r\nhello\r\n"
                         "--p--\r\n");
    call("POST", "/mmsbox/mo", "multipart/related; boundary=p", body, AUTH,
         (const char *const[]) { "X-Mbuni-From: +256771234567/TYPE=PLMN",
             "X-Mbuni-To: 2020, Mail <mail@push.test>",
             "X-Mbuni-Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?=",
             "X-Mbuni-Message-ID: mo-1", NULL }, &r);
    test_assert(r.status == 200 && octstr_len(r.body) == 0);
    resp_free(&r);
    test_assert(fake.delivers == 1);
    test_assert(ostr_is(fake.sender, "+256771234567"));
    test_assert(fake.recipients != NULL
                && gwlist_len(fake.recipients) == 2);
    if (fake.recipients != NULL && gwlist_len(fake.recipients) == 2) {
        test_assert(ostr_is(gwlist_get(fake.recipients, 0), "2020"));
        test_assert(ostr_is(gwlist_get(fake.recipients, 1),
                            "mail@push.test"));
    }
    test_assert(ostr_is(fake.subject, "Gr\xc3\xbc\xc3\x9f" "e"));
    test_assert(ostr_is(fake.message_id, "mo-1"));
    test_assert(ostr_is(fake.content_type, "multipart/related; boundary=p"));
    test_assert(octstr_compare(fake.content, body) == 0);
    octstr_destroy(body);
    test_end();

    test_begin("mmsbox MO: multipart/form-data");
    fake_reset(1);
    body = octstr_create(
        "--b\r\nContent-Disposition: form-data; name=\"from\"\r\n\r\n"
        "+256771234567\r\n"
        "--b\r\nContent-Disposition: form-data; name=\"subject\"\r\n\r\n"
        "Hi & bye\r\n"
        "--b\r\nContent-Disposition: form-data; name=\"text\"; "
        "filename=\"t1.txt\"\r\nContent-Type: text/plain; charset=utf-8\r\n"
        "\r\nthe text\r\n"
        "--b\r\nContent-Disposition: form-data; name=\"image\"; "
        "filename=\"i.jpg\"\r\nContent-Type: image/jpeg\r\n\r\nJPEGDATA\r\n"
        "--b--\r\n");
    call("POST", "/mmsbox/mo", "multipart/form-data; boundary=b", body,
         AUTH, NULL, &r);
    test_assert(r.status == 200);
    resp_free(&r);
    test_assert(fake.delivers == 1);
    test_assert(ostr_is(fake.sender, "+256771234567"));
    test_assert(ostr_is(fake.subject, "Hi & bye"));
    test_assert(has(fake.content_type, "multipart/mixed; boundary="));
    test_assert(has(fake.content, "Content-Type: image/jpeg\r\n"));
    test_assert(has(fake.content, "Content-Location: i.jpg\r\n"));
    test_assert(has(fake.content, "\r\n\r\nthe text\r\n"));
    test_assert(has(fake.content, "\r\n\r\nJPEGDATA\r\n"));
    test_assert(!has(fake.content, "+256771234567"));
    octstr_destroy(body);
    /* no sender anywhere */
    fake_reset(1);
    body = octstr_create("raw");
    call("POST", "/mmsbox/mo", "text/plain", body, AUTH, NULL, &r);
    test_assert(r.status == 400 && fake.delivers == 0);
    resp_free(&r);
    octstr_destroy(body);
    test_end();
}

static void test_denied(void)
{
    Resp r;

    test_begin("403 from an address in deny-ip");
    fake_reset(1);
    call("GET", "/mmsbox/dlr?id=x&status=expired", NULL, NULL, AUTH, NULL,
         &r);
    test_assert(r.status == 403 && fake.reports == 0);
    resp_free(&r);
    test_end();
}

int main(void)
{
    PmConfig cfg;
    PmMmscConf m;
    Mm7Server *s;
    int ret;

    gwlib_init();
    log_set_output_level(GW_WARNING);
    mm7_soap_init();
    curl_global_init(CURL_GLOBAL_DEFAULT);
    find_data_dir();

    memset(&cfg, 0, sizeof(cfg));
    memset(&m, 0, sizeof(m));
    cfg.mmscs = gwlist_create();
    gwlist_append(cfg.mmscs, &m);
    m.id = octstr_create("t1");
    m.incoming_interface = octstr_create("127.0.0.1");
    m.incoming_username = octstr_create("mmsc");
    m.incoming_password = octstr_create("s3cr&t:x");
    m.allow_ip = octstr_create("127.0.0.1");
    m.max_message_size = 10240;

    /* 1: no deliver handler */
    m.incoming_port = port = free_port();
    s = mm7_server_start(&cfg, fake_report, NULL, &fake);
    test_begin("server starts");
    test_assert(s != NULL && port > 0);
    test_end();
    test_refusals();
    test_soap(0);
    stop(&s);
    test_assert(s == NULL);

    /* 2: with a deliver handler, on a new port */
    m.incoming_port = port = free_port();
    s = mm7_server_start(&cfg, fake_report, fake_deliver, &fake);
    test_soap(1);
    test_mmsbox();
    stop(&s);

    /* 3: our own address denied */
    m.deny_ip = octstr_create("127.0.0.*");
    m.incoming_port = port = free_port();
    s = mm7_server_start(&cfg, fake_report, fake_deliver, &fake);
    test_denied();
    stop(&s);

    test_begin("two MMSCs on one port: refused before opening anything");
    {
        PmMmscConf m2 = m;

        m2.id = octstr_imm("t2");
        gwlist_append(cfg.mmscs, &m2);
        s = mm7_server_start(&cfg, fake_report, NULL, &fake);
        test_assert(s == NULL);
        gwlist_delete(cfg.mmscs, 1, 1);
        m.incoming_port = port = free_port();
        s = mm7_server_start(&cfg, fake_report, NULL, &fake);
        test_assert(s != NULL);
    }
    test_end();
    test_denied();              /* the port works after the refusal */
    stop(&s);

    test_begin("no incoming port: an empty server");
    m.incoming_port = 0;
    s = mm7_server_start(&cfg, fake_report, NULL, &fake);
    test_assert(s != NULL);
    stop(&s);
    test_assert(s == NULL);
    test_end();

    fake_reset(0);
    gwlist_destroy(cfg.mmscs, NULL);
    octstr_destroy(m.id);
    octstr_destroy(m.incoming_interface);
    octstr_destroy(m.incoming_username);
    octstr_destroy(m.incoming_password);
    octstr_destroy(m.allow_ip);
    octstr_destroy(m.deny_ip);
    octstr_destroy(data_dir);
    curl_global_cleanup();
    ret = test_exit();
    mm7_soap_deinit();
    gwlib_shutdown();
    return ret;
}
