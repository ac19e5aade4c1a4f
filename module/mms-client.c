/*
 * mms-client.c - the thread that submits queued MMs to their MMSC.
 *
 * Exports: see mms-client.h.
 *
 * A round: take up to MMS_GROUP due MMs, mark them SUBMITTING in one
 * store batch, send them with libcurl's multi interface (each request
 * starts at its MMSC's next throughput slot; several are in flight at
 * once), then record every answer in one store batch and tell the phones
 * whose MM failed for good.  A crash between the two batches leaves rows
 * SUBMITTING; they are queued again at the next start (at least once).
 *
 * Limits: MMS_GROUP MMs per round, at most max-connections connections
 * to one MMSC (kept alive), answers read up to MMS_ANSWER_MAX
 * bytes, backoff from the MMSC's retry-interval, doubling, to
 * MMS_BACKOFF_MAX seconds.
 * Logs: see mms-client.h.
 */
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include <curl/curl.h>

#include "mms-client.h"
#include "mm7-soap.h"
#include "mm7-mime.h"
#include "store-mms.h"
#include "pm-log.h"

#define MMS_GROUP 128               /* MMs per round */
#define MMS_ANSWER_MAX (256L * 1024)
#define MMS_BACKOFF_MAX 3600        /* longest wait between attempts, s */
#define MMS_HOLD_MIN 1              /* 409/503: the MMSC rests, seconds */
#define MMS_HOLD_MAX 60
#define MMS_IDLE_SLEEP 5.0          /* nothing due: look again after */
#define MMS_KEEP (7 * 86400L)       /* finished MM records kept */
#define MMS_REASON_MAX 80

/* What we know about one MMSC between rounds. */
typedef struct {
    const PmMmscConf *conf;
    double next_slot;           /* throughput: next request not before */
    long hold_until;            /* 409/503: no request before */
    long hold;                  /* current hold length, seconds */
    long in_flight;             /* requests running (max-connections) */
} MmscState;

/* One request of a round. */
typedef struct {
    StoreMms *mm;
    MmscState *mmsc;
    CURL *easy;
    struct curl_slist *headers;
    Octstr *request;            /* POST body */
    Octstr *url;
    Octstr *answer;
    Octstr *answer_type;        /* Content-Type of the answer */
    int started, done, held;
    CURLcode result;
    long http;
    /* the outcome, decided once (mms_decide), then stored */
    int out_state;
    long out_next, out_code;
    Octstr *out_text, *out_msgid;
    int tell;                   /* failed for good: tell the phone */
} MmsReq;

struct MmsClient {
    const PmConfig *cfg;
    Store *store;
    MmsNotifyFn *notify;
    void *ctx;
    long thread;
    volatile int stopping;
    MmscState *mmscs;
    long n_mmscs;
    CURLM *multi;
    long last_purge;
    int stuck;                  /* an outcome could not be stored */
    Mutex *lock;                /* guards counters */
    MmsClientCounters counters;
};

static double mms_now(void)
{
    struct timeval tv;

    gettimeofday(&tv, NULL);
    return tv.tv_sec + tv.tv_usec / 1e6;
}

static void mms_count(MmsClient *c, long *field)
{
    mutex_lock(c->lock);
    (*field)++;
    mutex_unlock(c->lock);
}

static MmscState *mms_state(MmsClient *c, const Octstr *id)
{
    long i;

    for (i = 0; i < c->n_mmscs; i++)
        if (octstr_compare(c->mmscs[i].conf->id, id) == 0)
            return &c->mmscs[i];
    return NULL;
}

/* --- building requests ----------------------------------------------- */

static size_t mms_write_cb(char *p, size_t size, size_t n, void *arg)
{
    MmsReq *r = arg;
    size_t len = size * n;

    if (octstr_len(r->answer) + (long) len > MMS_ANSWER_MAX)
        return 0;               /* a hostile peer: the request fails */
    octstr_append_data(r->answer, p, len);
    return len;
}

static size_t mms_header_cb(char *p, size_t size, size_t n, void *arg)
{
    MmsReq *r = arg;
    size_t len = size * n;

    if (len > 13 && strncasecmp(p, "Content-Type:", 13) == 0
        && len < 1024) {
        octstr_destroy(r->answer_type);
        r->answer_type = octstr_create_from_data(p + 13, len - 13);
        octstr_strip_blanks(r->answer_type);
        octstr_strip_crlfs(r->answer_type);
    }
    return len;
}

/* The SubmitReq for r->mm: multipart/related, SOAP first, then the MM. */
static int mms_build_mm7(MmsReq *r, Octstr **why_r)
{
    const PmMmscConf *m = r->mmsc->conf;
    Mm7SubmitParams p;
    Octstr *soap, *cid, *ctype = NULL, *h;

    cid = octstr_format("mm.%S@pushmail", r->mm->id);
    memset(&p, 0, sizeof(p));
    p.xmlns = m->mm7_xmlns;
    p.version = m->mm7_version;
    p.transaction_id = r->mm->id;
    p.vasp_id = m->vasp_id;
    p.vas_id = m->vas_id;
    p.sender_address = m->sender_address;
    p.recipient = r->mm->msisdn;
    p.service_code = m->service_code;
    p.subject = r->mm->subject;
    p.content_id = cid;
    p.delivery_report = 1;
    soap = mm7_submit_req(&p);
    if (soap == NULL) {
        *why_r = octstr_create("the SubmitReq cannot be built");
        octstr_destroy(cid);
        return -1;
    }
    r->request = mm7_mime_join(soap, r->mm->content_type, r->mm->body, cid,
                               &ctype);
    octstr_destroy(soap);
    octstr_destroy(cid);
    if (r->request == NULL) {
        *why_r = octstr_create("the MM's content type is unusable");
        return -1;
    }
    h = octstr_format("Content-Type: %S", ctype);
    r->headers = curl_slist_append(r->headers, octstr_get_cstr(h));
    r->headers = curl_slist_append(r->headers, "SOAPAction: \"\"");
    octstr_destroy(h);
    octstr_destroy(ctype);
    r->url = octstr_duplicate(m->mmsc_url);
    return 0;
}

/* Append name=url-encoded(value) to a query string. */
static void mms_param(Octstr *q, const char *name, const Octstr *value)
{
    Octstr *v;

    if (value == NULL)
        return;
    v = octstr_duplicate(value);
    octstr_url_encode(v);
    octstr_format_append(q, "%s%s=%S", octstr_len(q) ? "&" : "", name, v);
    octstr_destroy(v);
}

/* mmsbox sendmms: the ready MM POSTed, the rest in the query. */
static int mms_build_mmsbox(MmsReq *r, Octstr **why_r)
{
    const PmMmscConf *m = r->mmsc->conf;
    Octstr *q = octstr_create(""), *dlr, *h;

    if (octstr_search_char(r->mm->content_type, '\r', 0) >= 0
        || octstr_search_char(r->mm->content_type, '\n', 0) >= 0) {
        *why_r = octstr_create("the MM's content type is unusable");
        octstr_destroy(q);
        return -1;
    }
    if (m->dlr_url != NULL)
        dlr = octstr_format("%S%sid=%S", m->dlr_url,
                            octstr_search_char(m->dlr_url, '?', 0) >= 0 ?
                            "&" : "?", r->mm->id);
    else
        dlr = octstr_format("http://%S:%ld/mmsbox/dlr?id=%S",
                            m->incoming_interface, m->incoming_port,
                            r->mm->id);
    mms_param(q, "username", m->username);
    mms_param(q, "password", m->password);
    mms_param(q, "to", r->mm->msisdn);
    mms_param(q, "from", m->sender_address);
    mms_param(q, "subject", r->mm->subject);
    mms_param(q, "dlr-url", dlr);
    octstr_destroy(dlr);
    r->url = octstr_format("%S%s%S", m->mmsc_url,
                           octstr_search_char(m->mmsc_url, '?', 0) >= 0 ?
                           "&" : "?", q);
    octstr_destroy(q);
    r->request = octstr_duplicate(r->mm->body);
    h = octstr_format("Content-Type: %S", r->mm->content_type);
    r->headers = curl_slist_append(r->headers, octstr_get_cstr(h));
    octstr_destroy(h);
    return 0;
}

static int mms_req_prepare(MmsClient *c, MmsReq *r, Octstr **why_r)
{
    const PmMmscConf *m = r->mmsc->conf;
    int mm7 = octstr_str_compare(m->type, "mm7") == 0;

    if ((mm7 ? mms_build_mm7(r, why_r) : mms_build_mmsbox(r, why_r)) < 0)
        return -1;
    r->headers = curl_slist_append(r->headers, "Expect:");
    r->answer = octstr_create("");
    r->easy = curl_easy_init();
    if (r->easy == NULL) {
        *why_r = octstr_create("out of memory");
        return -1;
    }
    curl_easy_setopt(r->easy, CURLOPT_URL, octstr_get_cstr(r->url));
    curl_easy_setopt(r->easy, CURLOPT_POST, 1L);
    curl_easy_setopt(r->easy, CURLOPT_POSTFIELDS,
                     octstr_get_cstr(r->request));
    curl_easy_setopt(r->easy, CURLOPT_POSTFIELDSIZE_LARGE,
                     (curl_off_t) octstr_len(r->request));
    curl_easy_setopt(r->easy, CURLOPT_HTTPHEADER, r->headers);
    curl_easy_setopt(r->easy, CURLOPT_WRITEFUNCTION, mms_write_cb);
    curl_easy_setopt(r->easy, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(r->easy, CURLOPT_HEADERFUNCTION, mms_header_cb);
    curl_easy_setopt(r->easy, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(r->easy, CURLOPT_TIMEOUT, m->timeout);
    curl_easy_setopt(r->easy, CURLOPT_CONNECTTIMEOUT, m->timeout);
    curl_easy_setopt(r->easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(r->easy, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(r->easy, CURLOPT_USERAGENT, "pushmail/" PM_VERSION);
    curl_easy_setopt(r->easy, CURLOPT_PRIVATE, r);
    if (c->cfg->ca_file != NULL)
        curl_easy_setopt(r->easy, CURLOPT_CAINFO,
                         octstr_get_cstr(c->cfg->ca_file));
    if (mm7 && m->username != NULL) {
        curl_easy_setopt(r->easy, CURLOPT_HTTPAUTH, (long) CURLAUTH_BASIC);
        curl_easy_setopt(r->easy, CURLOPT_USERNAME,
                         octstr_get_cstr(m->username));
        curl_easy_setopt(r->easy, CURLOPT_PASSWORD,
                         m->password ? octstr_get_cstr(m->password) : "");
    }
    return 0;
}

static void mms_req_destroy(MmsClient *c, MmsReq *r)
{
    if (r->easy != NULL) {
        if (r->started && !r->done)
            curl_multi_remove_handle(c->multi, r->easy);
        curl_easy_cleanup(r->easy);
    }
    curl_slist_free_all(r->headers);
    /* the request holds the MMSC password (mmsbox query): wipe it */
    if (r->url != NULL)
        memset(octstr_get_cstr(r->url), 0, octstr_len(r->url));
    octstr_destroy(r->url);
    octstr_destroy(r->request);
    octstr_destroy(r->answer);
    octstr_destroy(r->answer_type);
    octstr_destroy(r->out_text);
    octstr_destroy(r->out_msgid);
    store_mms_destroy(r->mm);
    gw_free(r);
}

/* --- running a round ------------------------------------------------- */

/* Backoff before attempt `attempts` + 1, with +-20% jitter. */
static long mms_backoff(const PmMmscConf *m, long attempts)
{
    long b = m->retry_interval;

    while (attempts-- > 1 && b < MMS_BACKOFF_MAX)
        b *= 2;
    if (b > MMS_BACKOFF_MAX)
        b = MMS_BACKOFF_MAX;
    return b * 8 / 10 + gw_rand() % (b * 4 / 10 + 1);
}

static void mms_hold(MmscState *st, long now)
{
    st->hold = st->hold ? st->hold * 2 : MMS_HOLD_MIN;
    if (st->hold > MMS_HOLD_MAX)
        st->hold = MMS_HOLD_MAX;
    st->hold_until = now + st->hold;
}

enum { MMS_OK, MMS_RETRY, MMS_FAIL };

/*
 * Classify one finished request.  Sets *code_r (MM7 status or HTTP
 * status), *text_r (new, printable) and *msgid_r (new, on MMS_OK).
 */
static int mms_outcome(MmsClient *c, MmsReq *r, long *code_r,
                       Octstr **text_r, Octstr **msgid_r)
{
    int mm7 = octstr_str_compare(r->mmsc->conf->type, "mm7") == 0;
    long now = time(NULL);
    Mm7Result res;

    *msgid_r = NULL;
    *code_r = r->http;
    if (r->held) {
        *code_r = 0;
        *text_r = octstr_create(c->stopping ? "not sent: stopping" :
                                "not sent: the MMSC asked us to slow down");
        return MMS_RETRY;
    }
    if (r->result != CURLE_OK) {
        *text_r = octstr_create(curl_easy_strerror(r->result));
        return MMS_RETRY;
    }
    if (r->http == 409 || r->http == 503) {
        mms_hold(r->mmsc, now);
        mms_count(c, &c->counters.throttled);
        *text_r = octstr_format("HTTP %ld: the MMSC asks us to slow down",
                                r->http);
        return MMS_RETRY;
    }
    if (!mm7) {
        /* mmsbox sendmms answers HTTP 200 "Accepted: <id>" on success,
         * and HTTP 200 with a reason ("Missing recipient!") or 4xx when
         * it refuses the request: both are final */
        Octstr *body = octstr_duplicate(r->answer);

        octstr_strip_blanks(body);
        if (r->http >= 200 && r->http < 300
            && octstr_case_search(body, octstr_imm("Accepted:"), 0) == 0) {
            Octstr *id = octstr_copy(body, 9, octstr_len(body));
            long eol = octstr_search_char(id, '\n', 0);

            if (eol >= 0)
                octstr_truncate(id, eol);
            octstr_strip_blanks(id);
            octstr_destroy(body);
            if (octstr_len(id) == 0 || octstr_len(id) > 255) {
                octstr_destroy(id);
                *text_r = octstr_create("mmsbox accepted without an id");
                return MMS_RETRY;
            }
            *msgid_r = id;
            *text_r = octstr_create("Accepted");
            return MMS_OK;
        }
        if (octstr_len(body) == 0)
            *text_r = octstr_format("HTTP %ld", r->http);
        else
            *text_r = pm_log_safe(body, MMS_REASON_MAX);
        octstr_destroy(body);
        if (r->http >= 200 && r->http < 300)
            return MMS_FAIL;
        return r->http >= 400 && r->http < 500 && r->http != 401
               && r->http != 403 && r->http != 404 && r->http != 408
               ? MMS_FAIL : MMS_RETRY;
    }
    if (mm7_parse_response(r->answer, r->answer_type, r->http, &res) < 0) {
        Octstr *why = res.status_text ? res.status_text :
                      octstr_imm("no MM7 answer");

        *text_r = octstr_format("HTTP %ld: ", r->http);
        why = pm_log_safe(why, MMS_REASON_MAX);
        octstr_append(*text_r, why);
        octstr_destroy(why);
        mm7_result_clear(&res);
        /* 400, 413, 415: our request itself is refused */
        return r->http == 400 || r->http == 413 || r->http == 415 ?
               MMS_FAIL : MMS_RETRY;
    }
    *code_r = res.status_code;
    *text_r = pm_log_safe(res.status_text ? res.status_text :
                          octstr_imm(mm7_status_text(res.status_code)),
                          MMS_REASON_MAX);
    switch (mm7_status_class(res.status_code)) {
    case MM7_CLASS_OK:
        if (res.message_id == NULL || octstr_len(res.message_id) == 0
            || octstr_len(res.message_id) > 255) {
            /* the MMSC has it: sending again would duplicate the MMS;
             * its delivery report cannot be matched, though */
            warning(0, "MM %s: MMSC %s accepted it without a usable "
                    "MessageID; its delivery report will not be matched",
                    octstr_get_cstr(r->mm->id),
                    octstr_get_cstr(r->mmsc->conf->id));
            *msgid_r = octstr_create("");
        } else {
            *msgid_r = octstr_duplicate(res.message_id);
        }
        mm7_result_clear(&res);
        return MMS_OK;
    case MM7_CLASS_RETRY:
        mm7_result_clear(&res);
        return MMS_RETRY;
    default:
        mm7_result_clear(&res);
        return MMS_FAIL;
    }
}

static void mms_tell_phone(MmsClient *c, const StoreMms *mm,
                           const Octstr *why)
{
    Octstr *text = octstr_format("Sorry, mail %ld could not be sent as "
                                 "MMS: %S.", mm->n, why);

    if (c->notify(c->ctx, mm->msisdn, text) < 0)
        error(0, "MM %s: the failure SMS to %s could not be queued",
              octstr_get_cstr(mm->id), octstr_get_cstr(mm->msisdn));
    octstr_destroy(text);
}

/* Decide what a finished request means (once: holds, counters, logs). */
static void mms_decide(MmsClient *c, MmsReq *r)
{
    long now = time(NULL);
    int out;

    out = mms_outcome(c, r, &r->out_code, &r->out_text, &r->out_msgid);
    if (out == MMS_OK) {
        r->mmsc->hold = 0;
        r->out_state = STORE_MMS_ACCEPTED;
        mms_count(c, &c->counters.accepted);
        info(0, "MM %s for %s accepted by MMSC %s: MessageID %s",
             octstr_get_cstr(r->mm->id), octstr_get_cstr(r->mm->msisdn),
             octstr_get_cstr(r->mmsc->conf->id),
             octstr_get_cstr(r->out_msgid));
    } else if (out == MMS_RETRY
               && now - r->mm->created < r->mmsc->conf->retry_max_time) {
        r->out_state = STORE_MMS_QUEUED;
        r->out_next = now + mms_backoff(r->mmsc->conf, r->mm->attempts + 1);
        if (r->mmsc->hold_until > r->out_next)
            r->out_next = r->mmsc->hold_until;
        mms_count(c, &c->counters.retried);
        warning(0, "MM %s for %s: MMSC %s: %ld %s; retry in %ld s",
                octstr_get_cstr(r->mm->id), octstr_get_cstr(r->mm->msisdn),
                octstr_get_cstr(r->mmsc->conf->id), r->out_code,
                octstr_get_cstr(r->out_text), r->out_next - now);
    } else {
        r->out_state = STORE_MMS_FAILED;
        r->tell = 1;
        mms_count(c, &c->counters.failed);
        warning(0, "MM %s for %s failed at MMSC %s: %ld %s%s",
                octstr_get_cstr(r->mm->id), octstr_get_cstr(r->mm->msisdn),
                octstr_get_cstr(r->mmsc->conf->id), r->out_code,
                octstr_get_cstr(r->out_text), out == MMS_RETRY ?
                " (retry-max-time reached)" : "");
    }
}

static int mms_write(MmsClient *c, MmsReq *r)
{
    return store_mms_set_state(c->store, r->mm->id, r->out_state,
                               r->out_next, r->out_code, r->out_text,
                               r->out_msgid) < 0 ? -1 : 0;
}

/*
 * Store the outcomes of requests that just finished (one store batch),
 * as soon as they finish: a delivery report may follow its SubmitRsp
 * within milliseconds and must find the MessageID.  If the batch fails,
 * each outcome is stored on its own; what still cannot be stored stays
 * SUBMITTING and is queued again before the next round.  A phone is told
 * of a failure only once that failure is stored.
 */
static void mms_record(MmsClient *c, List *finished)
{
    long i;
    int ok = 1, batch = store_batch_begin(c->store) == 0;

    for (i = 0; i < gwlist_len(finished); i++)
        if (mms_write(c, gwlist_get(finished, i)) < 0)
            ok = 0;
    if (!batch || store_batch_end(c->store, ok) < 0) {
        warning(0, "storing the outcome of %ld MMs together failed; "
                "storing them one by one", gwlist_len(finished));
        for (i = 0; i < gwlist_len(finished); i++) {
            MmsReq *r = gwlist_get(finished, i);

            if (mms_write(c, r) < 0) {
                error(0, "MM %s: its outcome cannot be stored; it will be "
                      "sent again", octstr_get_cstr(r->mm->id));
                r->tell = 0;
                c->stuck = 1;
            }
        }
    }
    for (i = 0; i < gwlist_len(finished); i++) {
        MmsReq *r = gwlist_get(finished, i);

        if (r->tell)
            mms_tell_phone(c, r->mm, r->out_text);
    }
}

/*
 * Start due requests (within each MMSC's max-connections and throughput
 * slots), drive the transfers, and store each outcome as soon as it is
 * known.  Requests not started when a 409/503 comes in, or when the
 * client stops, are put back unsent.
 */
static void mms_perform(MmsClient *c, List *reqs)
{
    List *finished = gwlist_create();
    long i, left = gwlist_len(reqs);
    int running = 0;
    CURLMsg *msg;
    int queued;

    while (left > 0) {
        double now = mms_now(), wait = 0.2;

        for (i = 0; i < gwlist_len(reqs); i++) {
            MmsReq *r = gwlist_get(reqs, i);
            MmscState *st = r->mmsc;

            if (r->started)
                continue;
            if (st->hold_until > (long) now || c->stopping) {
                r->started = r->done = r->held = 1;
                gwlist_append(finished, r);
                left--;
                continue;
            }
            if (st->in_flight >= st->conf->max_connections)
                continue;           /* one ends first (curl_multi_poll) */
            if (st->next_slot > now) {
                if (st->next_slot - now < wait)
                    wait = st->next_slot - now;
                continue;
            }
            /* max-throughput: requests start at least 1/rate apart, and
             * an idle MMSC earns no credit for a burst later */
            st->next_slot = now + (st->conf->max_throughput > 0 ?
                                   1.0 / st->conf->max_throughput : 0);
            r->started = 1;
            st->in_flight++;
            curl_multi_add_handle(c->multi, r->easy);
        }
        curl_multi_perform(c->multi, &running);
        while ((msg = curl_multi_info_read(c->multi, &queued)) != NULL) {
            MmsReq *r = NULL;

            if (msg->msg != CURLMSG_DONE)
                continue;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE,
                              (char **) &r);
            r->result = msg->data.result;
            curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &r->http);
            curl_multi_remove_handle(c->multi, r->easy);
            r->done = 1;
            r->mmsc->in_flight--;
            gwlist_append(finished, r);
            left--;
        }
        if (gwlist_len(finished) > 0) {
            for (i = 0; i < gwlist_len(finished); i++)
                mms_decide(c, gwlist_get(finished, i));
            mms_record(c, finished);
            gwlist_delete(finished, 0, gwlist_len(finished));
            continue;               /* holds may have changed */
        }
        if (left > 0)
            curl_multi_poll(c->multi, NULL, 0,
                            (int) (wait * 1000) + 1, NULL);
    }
    gwlist_destroy(finished, NULL);
}

/* One round; returns the number of MMs sent (0: nothing was due). */
static long mms_round(MmsClient *c)
{
    List *due, *reqs;
    StoreMms *mm;
    MmsReq *r;
    long now = time(NULL), i, n;
    int ok = 1;

    if (c->stuck && store_mms_requeue(c->store) >= 0)
        c->stuck = 0;           /* nothing is in flight between rounds */
    due = store_mms_due(c->store, now, MMS_GROUP);
    if (due == NULL || gwlist_len(due) == 0) {
        gwlist_destroy(due, store_mms_destroy_item);
        return 0;
    }
    reqs = gwlist_create();
    if (store_batch_begin(c->store) < 0) {
        gwlist_destroy(due, store_mms_destroy_item);
        gwlist_destroy(reqs, NULL);
        return -1;
    }
    while ((mm = gwlist_extract_first(due)) != NULL) {
        MmscState *st = mms_state(c, mm->mmsc);
        Octstr *why = NULL;

        if (st == NULL) {
            why = octstr_create("the MMS service is not configured");
            ok &= store_mms_set_state(c->store, mm->id, STORE_MMS_FAILED, 0,
                                      0, why, NULL) >= 0;
            error(0, "MM %s: no pushmail-mmsc group has id %s",
                  octstr_get_cstr(mm->id), octstr_get_cstr(mm->mmsc));
            octstr_destroy(why);
            store_mms_destroy(mm);
            continue;
        }
        if (st->hold_until > now) {
            ok &= store_mms_set_state(c->store, mm->id, STORE_MMS_QUEUED,
                                      st->hold_until, mm->status_code,
                                      NULL, NULL) >= 0;
            store_mms_destroy(mm);
            continue;
        }
        r = gw_malloc(sizeof(*r));
        memset(r, 0, sizeof(*r));
        r->mm = mm;
        r->mmsc = st;
        if (mms_req_prepare(c, r, &why) < 0) {
            ok &= store_mms_set_state(c->store, mm->id, STORE_MMS_FAILED, 0,
                                      0, why, NULL) >= 0;
            error(0, "MM %s: %s", octstr_get_cstr(mm->id),
                  octstr_get_cstr(why));
            octstr_destroy(why);
            mms_req_destroy(c, r);
            continue;
        }
        ok &= store_mms_set_state(c->store, mm->id, STORE_MMS_SUBMITTING,
                                  0, mm->status_code, NULL, NULL) >= 0;
        gwlist_append(reqs, r);
    }
    gwlist_destroy(due, NULL);
    if (store_batch_end(c->store, ok) < 0) {
        for (i = 0; i < gwlist_len(reqs); i++)
            mms_req_destroy(c, gwlist_get(reqs, i));
        gwlist_destroy(reqs, NULL);
        return -1;
    }
    for (i = 0; i < gwlist_len(reqs); i++)
        mms_count(c, &c->counters.submitted);
    mms_perform(c, reqs);
    n = gwlist_len(reqs);
    while ((r = gwlist_extract_first(reqs)) != NULL)
        mms_req_destroy(c, r);
    gwlist_destroy(reqs, NULL);
    return n;
}

static void mms_thread(void *arg)
{
    MmsClient *c = arg;
    long r;

    r = store_mms_requeue(c->store);
    if (r > 0)
        info(0, "%ld MMs were being submitted at the last stop; sending "
             "them again", r);
    while (!c->stopping) {
        long now = time(NULL);

        if (now - c->last_purge >= 3600) {
            store_mms_purge(c->store, now - MMS_KEEP);
            c->last_purge = now;
        }
        r = mms_round(c);
        if (r < 0)
            gwthread_sleep(1.0);
        else if (r == 0)
            gwthread_sleep(MMS_IDLE_SLEEP);
    }
}

MmsClient *mms_client_create(const PmConfig *cfg, Store *store,
                             MmsNotifyFn *notify, void *ctx)
{
    MmsClient *c = gw_malloc(sizeof(*c));
    long i;

    memset(c, 0, sizeof(*c));
    c->cfg = cfg;
    c->store = store;
    c->notify = notify;
    c->ctx = ctx;
    c->lock = mutex_create();
    c->n_mmscs = gwlist_len(cfg->mmscs);
    c->mmscs = gw_malloc(sizeof(MmscState) * (c->n_mmscs + 1));
    memset(c->mmscs, 0, sizeof(MmscState) * (c->n_mmscs + 1));
    for (i = 0; i < c->n_mmscs; i++)
        c->mmscs[i].conf = gwlist_get(cfg->mmscs, i);
    c->multi = curl_multi_init();
    c->last_purge = 0;
    c->thread = c->multi ? gwthread_create(mms_thread, c) : -1;
    if (c->thread < 0) {
        if (c->multi)
            curl_multi_cleanup(c->multi);
        mutex_destroy(c->lock);
        gw_free(c->mmscs);
        gw_free(c);
        return NULL;
    }
    return c;
}

void mms_client_kick(MmsClient *c)
{
    if (c != NULL)
        gwthread_wakeup(c->thread);
}

void mms_client_counters(MmsClient *c, MmsClientCounters *r)
{
    mutex_lock(c->lock);
    *r = c->counters;
    mutex_unlock(c->lock);
}

void mms_client_destroy(MmsClient **cp)
{
    MmsClient *c = cp ? *cp : NULL;

    if (c == NULL)
        return;
    c->stopping = 1;
    gwthread_wakeup(c->thread);
    curl_multi_wakeup(c->multi);
    gwthread_join(c->thread);
    curl_multi_cleanup(c->multi);
    mutex_destroy(c->lock);
    gw_free(c->mmscs);
    gw_free(c);
    *cp = NULL;
}
