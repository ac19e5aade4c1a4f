/*
 * test-wap-ppg.c - unit tests for wap-ppg.c: the PAP multipart body,
 * reading PAP answers (good, refusing, hostile), and the client thread
 * against a fake PPG (gwlib's HTTP server in this process) with a real
 * SQLite store: accepted pushes mark the MT accepted, refused and
 * unanswered ones release it to bearerbox at once; the request carries
 * Basic auth and the X-Kannel headers that route delivery reports.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <libxml/parser.h>

#include "gwlib/gwlib.h"
#include "store.h"
#include "wap-ppg.h"
#include "test-common.h"

static char dir[] = "/tmp/pm-test-ppg-XXXXXX";

/* --- a fake PPG ------------------------------------------------------- */

typedef struct {
    long port;
    long thread;
    Octstr *answer;         /* body to send; NULL = close without reply */
    int status;
    Octstr *got_body;       /* last request */
    List *got_headers;
    Mutex *lock;
} FakePpg;

static void fake_thread(void *arg)
{
    FakePpg *f = arg;
    HTTPClient *c;
    Octstr *ip, *url, *body;
    List *headers, *cgivars, *h;

    while ((c = http_accept_request(f->port, &ip, &url, &headers, &body,
                                    &cgivars)) != NULL) {
        mutex_lock(f->lock);
        octstr_destroy(f->got_body);
        http_destroy_headers(f->got_headers);
        f->got_body = body;
        f->got_headers = headers;
        if (f->answer == NULL) {
            http_close_client(c);
        } else {
            h = http_create_empty_headers();
            http_header_add(h, "Content-Type", "application/xml");
            http_send_reply(c, f->status, h, f->answer);
            http_destroy_headers(h);
        }
        mutex_unlock(f->lock);
        octstr_destroy(ip);
        octstr_destroy(url);
        http_destroy_cgiargs(cgivars);
    }
}

static const char *accepted =
    "<?xml version=\"1.0\"?>\n"
    "<!DOCTYPE pap PUBLIC \"-//WAPFORUM//DTD PAP 2.0//EN\" "
    "\"http://www.wapforum.org/DTD/pap_2.0.dtd\">\n"
    "<pap><push-response push-id=\"x@pushmail\" sender-address=\"ppg\" "
    "sender-name=\"Kannel\" reply-time=\"2024-01-01T00:00:00Z\">"
    "<response-result code=\"1001\" desc=\"The request has been accepted "
    "for processing\"></response-result></push-response></pap>\n";

/* --- PAP ---------------------------------------------------------------- */

static void test_pap(void)
{
    Octstr *b, *xml, *desc = NULL;
    xmlDoc *doc;
    long code = 0, start, end;

    test_begin("pap: multipart with the control entity and the SI");
    b = wap_ppg_pap(octstr_imm("0123abcd"), octstr_imm("+15550001"),
                    octstr_imm("BND"), octstr_imm("<?xml version=\"1.0\"?>"
                                                  "<si>x</si>"));
    test_assert(octstr_search(b, octstr_imm("--BND\r\nContent-Type: "
                              "application/xml\r\n\r\n"), 0) == 0);
    test_assert(octstr_search(b, octstr_imm("\r\n--BND\r\nContent-Type: "
                              "text/vnd.wap.si"), 0) > 0);
    test_assert(octstr_search(b, octstr_imm("<si>x</si>\r\n--BND--\r\n"), 0)
                > 0);
    start = octstr_search(b, octstr_imm("<?xml"), 0);
    end = octstr_search(b, octstr_imm("--BND"), 5);
    xml = octstr_copy(b, start, end - start);
    doc = xmlReadMemory(octstr_get_cstr(xml), octstr_len(xml), "pap", NULL,
                        XML_PARSE_NONET | XML_PARSE_NOERROR |
                        XML_PARSE_NOWARNING);
    test_assert(doc != NULL);
    xmlFreeDoc(doc);
    test_assert(octstr_search(xml, octstr_imm("push-id=\"0123abcd@"
                              "pushmail\""), 0) > 0);
    test_assert(octstr_search(xml, octstr_imm("address-value=\"WAPPUSH="
                              "+15550001/TYPE=PLMN@ppg\""), 0) > 0);
    test_assert(octstr_search(xml, octstr_imm("bearer=\"SMS\""), 0) > 0);
    octstr_destroy(xml);
    octstr_destroy(b);
    test_end();

    test_begin("pap: answers are read by local name");
    test_assert(wap_ppg_result(octstr_imm(accepted), &code, &desc) == 0);
    test_assert(code == 1001 && desc != NULL &&
                octstr_search(desc, octstr_imm("accepted"), 0) > 0);
    octstr_destroy(desc);
    test_assert(wap_ppg_result(octstr_imm(
        "<p:pap xmlns:p=\"urn:x\"><p:push-response><p:response-result "
        "code=\"2002\" desc=\"Address&#10;error\"/></p:push-response>"
        "</p:pap>"), &code, &desc) == 0);
    test_assert(code == 2002 && desc != NULL &&
                octstr_str_compare(desc, "Address?error") == 0);
    octstr_destroy(desc);
    test_assert(wap_ppg_result(octstr_imm(
        "<pap><badmessage-response code=\"2000\" desc=\"Bad request\"/>"
        "</pap>"), &code, &desc) == 0 && code == 2000);
    octstr_destroy(desc);
    test_end();

    test_begin("pap: hostile or empty answers are no answer");
    code = 0;
    test_assert(wap_ppg_result(octstr_imm(""), &code, &desc) == -1);
    test_assert(wap_ppg_result(octstr_imm("<pap>"), &code, &desc) == -1);
    test_assert(wap_ppg_result(octstr_imm("<pap><response-result "
                               "code=\"1001x\"/></pap>"), &code, &desc)
                == -1);
    test_assert(wap_ppg_result(octstr_imm("<pap><response-result "
                               "code=\"99\"/></pap>"), &code, &desc) == -1);
    test_assert(wap_ppg_result(octstr_imm("<pap><response-result/></pap>"),
                               &code, &desc) == -1);
    /* an external entity is neither fetched nor expanded */
    test_assert(wap_ppg_result(octstr_imm(
        "<?xml version=\"1.0\"?><!DOCTYPE pap [<!ENTITY e SYSTEM "
        "\"file:///etc/passwd\">]><pap><response-result code=\"&e;\"/>"
        "</pap>"), &code, &desc) == -1);
    test_assert(code == 0 && desc == NULL);
    {
        Octstr *big = octstr_create("<pap>");

        while (octstr_len(big) < 70 * 1024)
            octstr_append_cstr(big, "<x/>");
        octstr_append_cstr(big, "<response-result code=\"1001\"/></pap>");
        test_assert(wap_ppg_result(big, &code, &desc) == -1);
        octstr_destroy(big);
    }
    test_end();
}

/* --- the client thread -------------------------------------------------- */

static Octstr *add_mt(Store *s, const char *msisdn, long hold)
{
    StoreMt mt;
    Octstr *id = store_new_id();

    memset(&mt, 0, sizeof(mt));
    mt.id = id;
    mt.msisdn = octstr_create(msisdn);
    mt.sender = octstr_create("1234");
    mt.text = octstr_create("\x01\x06\x04\x03\xae\x81\xea");
    mt.udh = octstr_create("\x06\x05\x04\x0b\x84\x23\xf0");
    mt.coding = 1;
    mt.next_try = time(NULL) + hold;
    test_assert(store_mt_add(s, &mt, NULL, 0, 0) == 0);
    octstr_destroy(mt.msisdn);
    octstr_destroy(mt.sender);
    octstr_destroy(mt.text);
    octstr_destroy(mt.udh);
    return id;
}

/* Wait until MT id leaves QUEUED-with-hold: its state, or -1. */
static int wait_state(Store *s, const Octstr *id, long *next_try_r)
{
    int i, st = -1;

    for (i = 0; i < 200; i++) {
        StoreMt *mt = store_mt_get(s, id);

        if (mt != NULL && (mt->state != STORE_MT_QUEUED ||
                           mt->next_try <= time(NULL) + 5)) {
            st = mt->state;
            *next_try_r = mt->next_try;
            store_mt_destroy(mt);
            return st;
        }
        store_mt_destroy(mt);
        gwthread_sleep(0.05);
    }
    return st;
}

static void test_client(void)
{
    PmConfig cfg;
    PmDbConf db;
    FakePpg f;
    Store *s;
    WapPpg *p;
    Octstr *key, *err = NULL, *id, *v;
    unsigned char k[32];
    long next = 0;
    int fd;

    test_begin("client: accepted, refused, unreachable");
    memset(k, 0x33, sizeof(k));
    key = octstr_format("%s/key", dir);
    fd = open(octstr_get_cstr(key), O_WRONLY | O_CREAT | O_EXCL, 0600);
    test_assert(fd >= 0 && write(fd, k, sizeof(k)) == sizeof(k));
    close(fd);
    memset(&db, 0, sizeof(db));
    db.type = PM_DB_SQLITE3;
    db.file = octstr_format("%s/store.db", dir);
    db.lock_timeout = 10;
    db.max_connections = 2;
    s = store_open(&db, key, &err);
    test_assert(s != NULL);
    if (s == NULL) {
        octstr_destroy(err);
        octstr_destroy(key);
        octstr_destroy(db.file);
        test_end();
        return;
    }

    memset(&f, 0, sizeof(f));
    f.lock = mutex_create();
    for (f.port = 0; f.port == 0;) {
        long port = 20000 + gw_rand() % 20000;

        if (http_open_port_if(port, 0, octstr_imm("127.0.0.1")) == 0)
            f.port = port;
    }
    f.answer = octstr_create(accepted);
    f.status = HTTP_ACCEPTED;
    f.thread = gwthread_create(fake_thread, &f);

    memset(&cfg, 0, sizeof(cfg));
    cfg.ppg_url = octstr_format("http://127.0.0.1:%ld/wappush", f.port);
    cfg.ppg_username = octstr_create("pm");
    cfg.ppg_password = octstr_create("pw secret");
    cfg.smsbox_id = octstr_create("pushmail");
    cfg.global_sender = octstr_create("1234");
    cfg.dlr_mask = 19;
    p = wap_ppg_create(&cfg, s);
    test_assert(p != NULL);

    id = add_mt(s, "+15550001", WAP_PPG_HOLD);
    test_assert(wap_ppg_submit(p, id, octstr_imm("+15550001"),
                               octstr_imm("<si/>")) == 0);
    test_assert(wait_state(s, id, &next) == STORE_MT_ACCEPTED);
    mutex_lock(f.lock);
    test_assert(f.got_body != NULL && octstr_search(f.got_body,
                octstr_imm("WAPPUSH=+15550001/TYPE=PLMN"), 0) > 0);
    v = http_header_value(f.got_headers, octstr_imm("X-Kannel-DLR-Url"));
    test_assert(v != NULL && octstr_compare(v, id) == 0);
    octstr_destroy(v);
    v = http_header_value(f.got_headers, octstr_imm("X-Kannel-DLR-Mask"));
    test_assert(v != NULL && octstr_str_compare(v, "19") == 0);
    octstr_destroy(v);
    v = http_header_value(f.got_headers, octstr_imm("X-Kannel-Smsbox-Id"));
    test_assert(v != NULL && octstr_str_compare(v, "pushmail") == 0);
    octstr_destroy(v);
    v = http_header_value(f.got_headers, octstr_imm("Authorization"));
    /* base64("pm:pw secret") */
    test_assert(v != NULL && octstr_str_compare(v,
                "Basic cG06cHcgc2VjcmV0") == 0);
    octstr_destroy(v);
    v = http_header_value(f.got_headers, octstr_imm("Content-Type"));
    test_assert(v != NULL && octstr_search(v, octstr_imm(
                "multipart/related"), 0) == 0 && octstr_search(v,
                octstr_imm("type=\"application/xml\""), 0) > 0);
    octstr_destroy(v);
    octstr_destroy(f.answer);
    f.answer = octstr_create("<pap><push-response><response-result "
                             "code=\"2002\" desc=\"Address error\"/>"
                             "</push-response></pap>");
    f.status = HTTP_BAD_REQUEST;
    mutex_unlock(f.lock);
    octstr_destroy(id);

    id = add_mt(s, "+15550002", WAP_PPG_HOLD);
    test_assert(wap_ppg_submit(p, id, octstr_imm("+15550002"),
                               octstr_imm("<si/>")) == 0);
    test_assert(wait_state(s, id, &next) == STORE_MT_QUEUED &&
                next <= time(NULL));
    octstr_destroy(id);

    mutex_lock(f.lock);
    octstr_destroy(f.answer);
    f.answer = NULL;                /* hang up without an answer */
    mutex_unlock(f.lock);
    id = add_mt(s, "+15550003", WAP_PPG_HOLD);
    test_assert(wap_ppg_submit(p, id, octstr_imm("+15550003"),
                               octstr_imm("<si/>")) == 0);
    test_assert(wait_state(s, id, &next) == STORE_MT_QUEUED &&
                next <= time(NULL));
    octstr_destroy(id);

    /* nobody listens: refused connection */
    http_close_port(f.port);
    gwthread_join(f.thread);
    id = add_mt(s, "+15550004", WAP_PPG_HOLD);
    test_assert(wap_ppg_submit(p, id, octstr_imm("+15550004"),
                               octstr_imm("<si/>")) == 0);
    test_assert(wait_state(s, id, &next) == STORE_MT_QUEUED &&
                next <= time(NULL));
    octstr_destroy(id);
    wap_ppg_destroy(&p);
    test_assert(p == NULL);
    test_assert(wap_ppg_submit(NULL, octstr_imm("x"), octstr_imm("+1"),
                               octstr_imm("<si/>")) == -1);

    octstr_destroy(f.got_body);
    http_destroy_headers(f.got_headers);
    mutex_destroy(f.lock);
    octstr_destroy(cfg.ppg_url);
    octstr_destroy(cfg.ppg_username);
    octstr_destroy(cfg.ppg_password);
    octstr_destroy(cfg.smsbox_id);
    octstr_destroy(cfg.global_sender);
    store_close(&s);
    octstr_destroy(db.file);
    octstr_destroy(key);
    test_end();

    test_begin("client: no ppg-url, no client");
    memset(&cfg, 0, sizeof(cfg));
    test_assert(wap_ppg_create(&cfg, NULL) == NULL);
    test_end();
}

int main(void)
{
    Octstr *cmd;

    gwlib_init();
    log_set_output_level(getenv("PM_TEST_DEBUG") ? GW_DEBUG : GW_PANIC);
    curl_global_init(CURL_GLOBAL_ALL);
    xmlInitParser();
    if (mkdtemp(dir) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    test_pap();
    test_client();
    cmd = octstr_format("rm -rf '%s'", dir);
    if (system(octstr_get_cstr(cmd)) != 0)
        fprintf(stderr, "cannot remove %s\n", dir);
    octstr_destroy(cmd);
    curl_global_cleanup();
    gwlib_shutdown();
    return test_exit();
}
