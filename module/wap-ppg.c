/*
 * wap-ppg.c - PAP push submissions to Kannel's PPG, one client thread.
 *
 * Exports: wap_ppg_create(), wap_ppg_submit(), wap_ppg_destroy(),
 * wap_ppg_pap(), wap_ppg_result() (see wap-ppg.h).
 *
 * PAP 2.0 (WAP-247): the request is multipart/related with
 * type="application/xml": the <pap><push-message> control entity first,
 * the content second.  The PPG answers with a <push-response> whose
 * <response-result code=...> is 1000-1999 when it took the push
 * (Kannel: 1001, accepted for processing).  X-Kannel-* headers are
 * Kannel PPG extensions: sender (X-Kannel-From), delivery report URL,
 * mask and the box that gets the reports.
 *
 * The thread has its own CURL handle (no signals, timeouts, answer cap);
 * a request in flight is abandoned when the client stops (its MT is
 * released by its hold).
 * Limits and logs: see wap-ppg.h.
 */
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include "pm-log.h"
#include "wap-ppg.h"

#define PPG_ANSWER_MAX (64L * 1024)
#define PPG_CONNECT_TIMEOUT 10L
#define PPG_TIMEOUT 30L

typedef struct {
    long queued;            /* when the MT was held for us */
    Octstr *id;             /* MT id: push-id and dlr-url */
    Octstr *msisdn;
    Octstr *si;             /* SI document */
} PpgJob;

struct WapPpg {
    const PmConfig *cfg;
    Store *store;
    List *jobs;             /* PpgJob* */
    long thread;
    volatile int stopping;  /* abort a request in flight */
};

static void job_destroy(void *p)
{
    PpgJob *j = p;

    octstr_destroy(j->id);
    octstr_destroy(j->msisdn);
    octstr_destroy(j->si);
    gw_free(j);
}

/* --- PAP ---------------------------------------------------------------- */

Octstr *wap_ppg_pap(const Octstr *push_id, const Octstr *msisdn,
                    const Octstr *boundary, const Octstr *si_doc)
{
    Octstr *id = octstr_duplicate(push_id), *to = octstr_duplicate(msisdn);
    Octstr *body;

    /* our ids and numbers are [0-9a-f]/[+0-9]; escape anyway */
    octstr_convert_to_html_entities(id);
    octstr_convert_to_html_entities(to);
    body = octstr_format(
        "--%S\r\n"
        "Content-Type: application/xml\r\n\r\n"
        "<?xml version=\"1.0\"?>\r\n"
        "<!DOCTYPE pap PUBLIC \"-//WAPFORUM//DTD PAP 2.0//EN\" "
        "\"http://www.wapforum.org/DTD/pap_2.0.dtd\">\r\n"
        "<pap>\r\n"
        "<push-message push-id=\"%S@pushmail\" "
        "progress-notes-requested=\"false\">\r\n"
        "<address address-value=\"WAPPUSH=%S/TYPE=PLMN@ppg\"/>\r\n"
        "<quality-of-service priority=\"medium\" "
        "delivery-method=\"unconfirmed\" network-required=\"true\" "
        "network=\"GSM\" bearer-required=\"true\" bearer=\"SMS\"/>\r\n"
        "</push-message>\r\n"
        "</pap>\r\n"
        "--%S\r\n"
        "Content-Type: text/vnd.wap.si; charset=utf-8\r\n\r\n"
        "%S\r\n"
        "--%S--\r\n", boundary, id, to, boundary, si_doc, boundary);
    octstr_destroy(id);
    octstr_destroy(to);
    return body;
}

static xmlNode *find_local(xmlNode *n, const char *name)
{
    xmlNode *found;

    for (; n != NULL; n = n->next) {
        if (n->type != XML_ELEMENT_NODE)
            continue;
        if (strcmp((const char *) n->name, name) == 0)
            return n;
        if ((found = find_local(n->children, name)) != NULL)
            return found;
    }
    return NULL;
}

int wap_ppg_result(const Octstr *xml, long *code_r, Octstr **desc_r)
{
    xmlDoc *doc;
    xmlNode *n;
    xmlChar *code, *desc;
    Octstr *c;
    long v;
    int r = -1;

    *desc_r = NULL;
    if (xml == NULL || octstr_len(xml) == 0 ||
        octstr_len(xml) > PPG_ANSWER_MAX)
        return -1;
    doc = xmlReadMemory(octstr_get_cstr(xml), octstr_len(xml), "pap",
                        NULL, XML_PARSE_NONET | XML_PARSE_NOERROR |
                        XML_PARSE_NOWARNING);
    if (doc == NULL)
        return -1;
    n = find_local(xmlDocGetRootElement(doc), "response-result");
    if (n == NULL)                  /* badmessage-response has it here */
        n = find_local(xmlDocGetRootElement(doc), "badmessage-response");
    code = n ? xmlGetProp(n, (const xmlChar *) "code") : NULL;
    if (code != NULL) {
        c = octstr_create((const char *) code);
        if (octstr_parse_long(&v, c, 0, 10) == octstr_len(c) &&
            v >= 1000 && v <= 9999) {
            *code_r = v;
            desc = xmlGetProp(n, (const xmlChar *) "desc");
            if (desc != NULL) {
                Octstr *d = octstr_create((const char *) desc);

                *desc_r = pm_log_safe(d, 200);
                octstr_destroy(d);
                xmlFree(desc);
            }
            r = 0;
        }
        octstr_destroy(c);
        xmlFree(code);
    }
    xmlFreeDoc(doc);
    return r;
}

/* --- HTTP --------------------------------------------------------------- */

static size_t ppg_write(char *data, size_t size, size_t n, void *arg)
{
    Octstr *answer = arg;

    if (n != 0 && size > (size_t) PPG_ANSWER_MAX / n)
        return 0;
    if ((long) (size * n) > PPG_ANSWER_MAX - octstr_len(answer))
        return 0;                   /* curl fails the transfer */
    octstr_append_data(answer, data, (long) (size * n));
    return size * n;
}

/* Ends a transfer in flight when wap_ppg_destroy() runs. */
static int ppg_progress(void *arg, curl_off_t dt, curl_off_t dn,
                        curl_off_t ut, curl_off_t un)
{
    WapPpg *p = arg;

    return p->stopping ? 1 : 0;
}

static struct curl_slist *add_header(struct curl_slist *l, Octstr *h)
{
    struct curl_slist *n = curl_slist_append(l, octstr_get_cstr(h));

    octstr_destroy(h);
    return n != NULL ? n : l;
}

/*
 * POST one push.  Returns the PAP code (>= 1000), or -1 when no PAP
 * answer came; *why_r = a new short reason (never NULL).
 */
static long ppg_post(WapPpg *p, CURL *h, const PpgJob *j, Octstr **why_r)
{
    const PmConfig *cfg = p->cfg;
    struct curl_slist *hdrs = NULL;
    Octstr *boundary, *body, *answer = octstr_create(""), *desc = NULL;
    long status = 0, code = -1;
    CURLcode rc;

    boundary = octstr_format("pushmail-%S", j->id);
    body = wap_ppg_pap(j->id, j->msisdn, boundary, j->si);
    hdrs = add_header(hdrs, octstr_format("Content-Type: multipart/related; "
                      "boundary=%S; type=\"application/xml\"", boundary));
    hdrs = add_header(hdrs, octstr_format("X-Kannel-Smsbox-Id: %S",
                                          cfg->smsbox_id));
    hdrs = add_header(hdrs, octstr_format("X-Kannel-DLR-Url: %S", j->id));
    hdrs = add_header(hdrs, octstr_format("X-Kannel-DLR-Mask: %ld",
                                          cfg->dlr_mask & 31));
    if (cfg->global_sender != NULL)
        hdrs = add_header(hdrs, octstr_format("X-Kannel-From: %S",
                                              cfg->global_sender));
    hdrs = curl_slist_append(hdrs, "Expect:");

    curl_easy_reset(h);
    curl_easy_setopt(h, CURLOPT_URL, octstr_get_cstr(cfg->ppg_url));
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, PPG_CONNECT_TIMEOUT);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, PPG_TIMEOUT);
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, octstr_get_cstr(body));
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long) octstr_len(body));
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, ppg_write);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, answer);
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, ppg_progress);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, p);
    if (cfg->ca_file != NULL)
        curl_easy_setopt(h, CURLOPT_CAINFO, octstr_get_cstr(cfg->ca_file));
    if (cfg->ppg_username != NULL) {
        curl_easy_setopt(h, CURLOPT_HTTPAUTH, (long) CURLAUTH_BASIC);
        curl_easy_setopt(h, CURLOPT_USERNAME,
                         octstr_get_cstr(cfg->ppg_username));
        curl_easy_setopt(h, CURLOPT_PASSWORD, cfg->ppg_password ?
                         octstr_get_cstr(cfg->ppg_password) : "");
    }
    rc = curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    if (rc != CURLE_OK) {
        *why_r = octstr_format("%s", curl_easy_strerror(rc));
    } else if (wap_ppg_result(answer, &code, &desc) < 0) {
        *why_r = octstr_format("HTTP %ld without a PAP answer", status);
        code = -1;
    } else {
        *why_r = octstr_format("PAP code %ld (%s), HTTP %ld", code,
                               desc ? octstr_get_cstr(desc) : "", status);
    }
    /* libcurl keeps the password in the handle until the next reset */
    curl_easy_reset(h);
    curl_slist_free_all(hdrs);
    octstr_destroy(desc);
    octstr_destroy(answer);
    octstr_destroy(body);
    octstr_destroy(boundary);
    return code;
}

static void ppg_thread(void *arg)
{
    WapPpg *p = arg;
    CURL *h = curl_easy_init();
    PpgJob *j;
    Octstr *why;
    long code;

    while ((j = gwlist_consume(p->jobs)) != NULL) {
        if (p->stopping) {          /* left to its hold */
            job_destroy(j);
            continue;
        }
        /* a push that could not finish within the MT's hold is left to
         * bearerbox: both sending it would give the phone two */
        if (time(NULL) - j->queued > WAP_PPG_HOLD - PPG_TIMEOUT
                                     - PPG_CONNECT_TIMEOUT - 10) {
            warning(0, "WAP push for %s waited too long for the PPG; it "
                    "goes through bearerbox", octstr_get_cstr(j->msisdn));
            store_mt_set_state_if(p->store, j->id, STORE_MT_QUEUED,
                                  STORE_MT_QUEUED, (long) time(NULL));
            job_destroy(j);
            continue;
        }
        why = NULL;
        code = h != NULL ? ppg_post(p, h, j, &why)
                         : (why = octstr_create("no CURL handle"), -1);
        if (code >= 1000 && code <= 1999) {
            info(0, "WAP push for %s accepted by the PPG (%s)",
                 octstr_get_cstr(j->msisdn), octstr_get_cstr(why));
            if (store_mt_set_state_if(p->store, j->id, STORE_MT_QUEUED,
                                      STORE_MT_ACCEPTED, 0) == 0)
                warning(0, "WAP push for %s: bearerbox had taken it already",
                        octstr_get_cstr(j->msisdn));
        } else if (!p->stopping) {
            warning(0, "PPG refused or missed the WAP push for %s (%s); "
                    "it goes through bearerbox instead",
                    octstr_get_cstr(j->msisdn), octstr_get_cstr(why));
            /* release the hold, unless the link has moved it on */
            store_mt_set_state_if(p->store, j->id, STORE_MT_QUEUED,
                                  STORE_MT_QUEUED, (long) time(NULL));
        }
        octstr_destroy(why);
        job_destroy(j);
    }
    if (h != NULL)
        curl_easy_cleanup(h);
}

/* --- lifecycle ---------------------------------------------------------- */

WapPpg *wap_ppg_create(const PmConfig *cfg, Store *store)
{
    WapPpg *p;

    if (cfg->ppg_url == NULL || octstr_len(cfg->ppg_url) == 0) {
        error(0, "wap-push-via = ppg needs ppg-url");
        return NULL;
    }
    p = gw_malloc(sizeof(*p));
    p->cfg = cfg;
    p->store = store;
    p->jobs = gwlist_create();
    p->stopping = 0;
    gwlist_add_producer(p->jobs);
    p->thread = gwthread_create(ppg_thread, p);
    if (p->thread < 0) {
        error(0, "cannot start the PPG client thread");
        gwlist_remove_producer(p->jobs);
        gwlist_destroy(p->jobs, NULL);
        gw_free(p);
        return NULL;
    }
    info(0, "WAP push prompts go through the PPG at %s",
         octstr_get_cstr(cfg->ppg_url));
    return p;
}

int wap_ppg_submit(WapPpg *p, const Octstr *mt_id, const Octstr *msisdn,
                   const Octstr *si_doc)
{
    PpgJob *j;

    if (p == NULL || gwlist_producer_count(p->jobs) == 0 ||
        gwlist_len(p->jobs) >= WAP_PPG_QUEUE_MAX)
        return -1;
    j = gw_malloc(sizeof(*j));
    j->queued = time(NULL);
    j->id = octstr_duplicate(mt_id);
    j->msisdn = octstr_duplicate(msisdn);
    j->si = octstr_duplicate(si_doc);
    gwlist_produce(p->jobs, j);
    return 0;
}

void wap_ppg_destroy(WapPpg **pp)
{
    WapPpg *p = *pp;
    PpgJob *j;

    if (p == NULL)
        return;
    *pp = NULL;
    p->stopping = 1;
    /* pushes not yet sent stay held in the store and go out through
     * bearerbox when their hold ends */
    while ((j = gwlist_extract_first(p->jobs)) != NULL)
        job_destroy(j);
    gwlist_remove_producer(p->jobs);
    gwthread_join(p->thread);
    gwlist_destroy(p->jobs, job_destroy);
    gw_free(p);
}
