/*
 * push-core.c - new-mail events become prompts; keeps the watcher in step
 * with the bindings; owns the MO workers.
 *
 * Prompt rule: the first new mail of a binding is prompted at once and
 * opens a coalesce window (coalesce-window seconds).  Mails arriving
 * inside the window stay PENDING in the store; when the window closes a
 * single pending mail gets its own prompt, several get one summary
 * ("4 more mails, latest from Bob - reply LIST"), and a new window opens.
 * Pending mails survive a restart and are flushed right after it.
 *
 * A mail event is stored (store_mail_add dedupes on UIDVALIDITY+UID or
 * UIDL) before anything is sent, and the prompt MT is queued in the same
 * transaction that marks its mails prompted: no lost and no duplicate
 * prompts across restarts.  A mail the store refuses is kept and tried
 * again every PUSH_RETRY_SECS.
 *
 * Exports: see push-core.h; push_send_text(), push_count() for push-mo.c.
 * Limits: the per-number hourly SMS budget (sms-budget); prompts are one
 * segment.  Finished SMS records are purged after 7 days, answered MOs
 * after 2.
 * Logs: info per prompt and per new mail, error for refused logins and
 * store failures, debug under "box.core".
 */
#include <string.h>
#include <time.h>

#include <openssl/sha.h>

#include "push-core-private.h"
#include "convert-text.h"
#include "push-prompt.h"
#include "sms-text.h"
#include "mailurl.h"
#include "pm-secret.h"
#include "pm-log.h"
#include "store-token.h"
#include "wap-si.h"
#include "webview.h"

#define PUSH_MT_KEEP (7 * 86400L)   /* finished SMS records kept */
#define PUSH_MO_KEEP (2 * 86400L)   /* answered MO ids kept */
#define PUSH_RETRY_SECS 5           /* mail events the store refused */

typedef struct {
    long window_end;            /* prompts wait until this time */
} PushBurst;

static void push_burst_destroy(void *burst)
{
    gw_free(burst);
}

/* Set by push_send_text() when an answer could not be stored; an MO
 * worker clears it before a command and looks after (thread-local: the
 * answer paths are many and return nothing). */
__thread int push_send_failed;

void push_count(PushCore *c, long *field, long delta)
{
    mutex_lock(c->lock);
    *field += delta;
    mutex_unlock(c->lock);
}

/* Queue one MT (msgdata `data`, `udh` may be NULL) within the hourly
 * budget, first tried `hold` seconds from now; *id_r (if not NULL) gets
 * its id when queued.  Returns as push_send_text(). */
static int push_queue_mt(PushCore *c, const Octstr *msisdn,
                         const Octstr *data, const Octstr *udh, int coding,
                         int kind, long mark_from, long mark_to, long hold,
                         Octstr **id_r)
{
    StoreMt mt;
    long now = time(NULL), sent;
    int r;

    sent = store_mt_count_since(c->store, msisdn, now - 3600);
    if (sent < 0) {
        push_send_failed = 1;
        return -1;
    }
    if (sent >= c->cfg->sms_budget) {
        warning(0, "SMS budget of %ld per hour used up for %s; "
                "message dropped", c->cfg->sms_budget,
                octstr_get_cstr(msisdn));
        return 1;
    }
    memset(&mt, 0, sizeof(mt));
    mt.id = store_new_id();
    mt.msisdn = (Octstr *) msisdn;
    mt.sender = c->cfg->global_sender;
    mt.text = (Octstr *) data;
    mt.udh = (Octstr *) udh;
    mt.coding = coding;
    mt.kind = kind;
    mt.created = now;
    mt.next_try = now + hold;
    mt.state = STORE_MT_QUEUED;
    r = store_mt_add(c->store, &mt, mark_from > 0 ? msisdn : NULL,
                     mark_from, mark_to);
    if (r == 0)
        debug("box.core", 0, "MT %s queued for %s", octstr_get_cstr(mt.id),
              octstr_get_cstr(msisdn));
    if (r == 0 && id_r != NULL)
        *id_r = octstr_duplicate(mt.id);
    octstr_destroy(mt.id);
    if (r < 0) {
        push_send_failed = 1;
        return -1;
    }
    bb_link_kick(c->link);
    return 0;
}

int push_send_text(PushCore *c, const Octstr *msisdn, const Octstr *text,
                   long segments, int kind, long mark_from, long mark_to)
{
    Octstr *fit, *data;
    int gsm, coding, r;

    fit = sms_text_fit(text, segments, &gsm);
    data = sms_text_msgdata(fit, gsm, &coding);
    r = push_queue_mt(c, msisdn, data, NULL, coding, kind, mark_from,
                      mark_to, 0, NULL);
    octstr_destroy(fit);
    octstr_destroy(data);
    return r;
}

/* --- WAP push prompts -------------------------------------------------- */

/*
 * The prompt `text` as a WAP push SI (8-bit SMS, port UDH) whose link
 * opens mail link_n in the web view (a new token, view-lifetime long).
 * With wap-push-via = ppg the MT is held for WAP_PPG_HOLD seconds while
 * the PPG client pushes it (wap-ppg.h), and goes through bearerbox if
 * the PPG does not take it.  Returns as push_send_text(); a token or SI
 * that cannot be made falls back to the text prompt.
 */
static int push_send_si(PushCore *c, const Octstr *msisdn,
                        const Octstr *text, long link_n, long mark_from,
                        long mark_to)
{
    Octstr *token, *href, *si_id, *udh = NULL, *body = NULL, *id = NULL;
    Octstr *doc;
    long now = time(NULL);
    int r;

    token = store_token_new(c->store, msisdn, link_n,
                            c->cfg->view_lifetime);
    if (token == NULL) {
        push_send_failed = 1;
        return -1;
    }
    href = webview_href(c->cfg, token);
    octstr_destroy(token);
    si_id = store_new_id();
    if (href == NULL || wap_si_sms(href, si_id, now, text, &udh,
                                   &body) < 0) {
        warning(0, "WAP push prompt for %s could not be built (is "
                "public-url a plain http(s) URL?); text prompt sent",
                octstr_get_cstr(msisdn));
        r = push_send_text(c, msisdn, text, 1, 0, mark_from, mark_to);
    } else if (c->ppg != NULL) {
        r = push_queue_mt(c, msisdn, body, udh, 1, 0, mark_from, mark_to,
                          WAP_PPG_HOLD, &id);
        doc = wap_si_document(href, si_id, now, text);
        if (r == 0 && wap_ppg_submit(c->ppg, id, msisdn, doc) < 0)
            warning(0, "PPG client busy: the WAP push for %s goes "
                    "through bearerbox in %d s", octstr_get_cstr(msisdn),
                    WAP_PPG_HOLD);
        octstr_destroy(doc);
        octstr_destroy(id);
    } else {
        r = push_queue_mt(c, msisdn, body, udh, 1, 0, mark_from, mark_to,
                          0, NULL);
    }
    octstr_destroy(href);
    octstr_destroy(si_id);
    octstr_destroy(udh);
    octstr_destroy(body);
    return r;
}

/* Queue a prompt for binding b: a WAP push SI linking to mail link_n
 * when the binding asks for one and the web view is on, else `text` as
 * one SMS.  Returns as push_send_text(). */
static int push_prompt_send(PushCore *c, const StoreBinding *b,
                            const Octstr *text, long link_n,
                            long mark_from, long mark_to)
{
    if (b->prompt_mode != NULL &&
        octstr_str_compare(b->prompt_mode, "wap-push") == 0) {
        if (c->cfg->http_port > 0)
            return push_send_si(c, b->msisdn, text, link_n, mark_from,
                                mark_to);
        if (store_notice_allow(c->store, b->msisdn, "wap-push-off", 86400,
                               time(NULL)) == 1)
            warning(0, "%s asks for WAP push prompts but http-port is "
                    "not set: text prompts sent instead",
                    octstr_get_cstr(b->msisdn));
    }
    return push_send_text(c, b->msisdn, text, 1, 0, mark_from, mark_to);
}

/* --- prompts ----------------------------------------------------------- */

static void push_prompt_one(PushCore *c, const StoreBinding *b,
                            const StoreMail *m)
{
    const Octstr *msisdn = b->msisdn;
    Octstr *text = push_prompt_new_mail(m->n, m->sender, m->subject);
    int r = push_prompt_send(c, b, text, m->n, m->n, m->n);

    if (r == 0) {
        info(0, "prompt for mail %ld queued to %s", m->n,
             octstr_get_cstr(msisdn));
        push_count(c, &c->stats.prompts, 1);
    } else if (r == 1) {
        store_mail_set_prompt_state(c->store, msisdn, m->n, m->n,
                                    STORE_PROMPT_SKIPPED);
    }
    octstr_destroy(text);
}

/* Flush the pending mails of one binding.  Returns 1 if anything was
 * pending (the window goes on), 0 if not. */
static int push_flush_one(PushCore *c, const Octstr *msisdn)
{
    List *pending = store_mail_pending(c->store, msisdn);
    StoreBinding *b;
    StoreMail *first, *last;
    long count;
    int r;

    if (pending == NULL)
        return 1;               /* store trouble: try again later */
    count = gwlist_len(pending);
    if (count == 0) {
        gwlist_destroy(pending, NULL);
        return 0;
    }
    first = gwlist_get(pending, 0);
    last = gwlist_get(pending, count - 1);
    b = store_binding_get(c->store, msisdn);
    if (b == NULL || b->paused) {
        store_mail_set_prompt_state(c->store, msisdn, first->n, last->n,
                                    STORE_PROMPT_SKIPPED);
    } else if (count == 1) {
        push_prompt_one(c, b, first);
    } else {
        Octstr *text = push_prompt_summary(count, last->sender);

        /* a WAP push summary links to the latest mail */
        r = push_prompt_send(c, b, text, last->n, first->n, last->n);
        if (r == 0) {
            info(0, "summary prompt for %ld mails queued to %s", count,
                 octstr_get_cstr(msisdn));
            push_count(c, &c->stats.summaries, 1);
        } else if (r == 1) {
            store_mail_set_prompt_state(c->store, msisdn, first->n,
                                        last->n, STORE_PROMPT_SKIPPED);
        }
        octstr_destroy(text);
    }
    store_binding_destroy(b);
    gwlist_destroy(pending, store_mail_destroy_item);
    return 1;
}

static void push_flush_bursts(PushCore *c, long now)
{
    List *keys = dict_keys(c->bursts);
    Octstr *msisdn;

    while ((msisdn = gwlist_extract_first(keys)) != NULL) {
        PushBurst *burst = dict_get(c->bursts, msisdn);

        if (burst != NULL && now >= burst->window_end) {
            if (push_flush_one(c, msisdn))
                burst->window_end = now + c->cfg->coalesce_window;
            else
                gw_free(dict_remove(c->bursts, msisdn));
        }
        octstr_destroy(msisdn);
    }
    gwlist_destroy(keys, NULL);
}

static void push_new_mail(PushCore *c, const Octstr *msisdn, StoreMail *m)
{
    PushBurst *burst = dict_get(c->bursts, (Octstr *) msisdn);
    StoreBinding *b;
    long now = time(NULL);

    if (burst != NULL && now < burst->window_end)
        return;                 /* stays pending until the window closes */
    b = store_binding_get(c->store, msisdn);
    if (b == NULL)
        return;
    if (b->paused) {
        store_mail_set_prompt_state(c->store, msisdn, m->n, m->n,
                                    STORE_PROMPT_SKIPPED);
        store_binding_destroy(b);
        return;
    }
    push_prompt_one(c, b, m);
    store_binding_destroy(b);
    /* even with no window: the flush then retries a prompt that could not
     * be stored, and forgets the entry once nothing is pending */
    if (burst == NULL) {
        burst = gw_malloc(sizeof(*burst));
        dict_put(c->bursts, (Octstr *) msisdn, burst);
    }
    burst->window_end = now + c->cfg->coalesce_window;
}

/* --- mail events ------------------------------------------------------- */

/* 0, or -1 when the mail could not be stored (the event is kept and
 * tried again: the watcher has already moved past it). */
static int push_event_new(PushCore *c, MailEvent *ev)
{
    StoreMail m;
    int r;

    memset(&m, 0, sizeof(m));
    m.uidvalidity = ev->uidvalidity;
    m.uid = ev->uid;
    m.uidl = ev->uidl;
    m.sender = convert_sender_name(ev->from);
    m.subject = ev->subject ? convert_header_decode(ev->subject)
                            : octstr_create("");
    m.date = ev->date ? date_parse_http(ev->date) : 0;
    if (m.date < 0)
        m.date = 0;
    m.size = ev->size;
    r = store_mail_add(c->store, ev->key, &m);
    if (r == 1) {
        info(0, "new mail %ld (uid %ld) for %s", m.n, m.uid,
             octstr_get_cstr(ev->key));
        push_new_mail(c, ev->key, &m);
    } else if (r == 0) {
        debug("box.core", 0, "mail uid %ld for %s already known as %ld",
              m.uid, octstr_get_cstr(ev->key), m.n);
    }
    octstr_destroy(m.sender);
    octstr_destroy(m.subject);
    return r < 0 ? -1 : 0;
}

static void push_event_auth(PushCore *c, MailEvent *ev)
{
    StoreBinding *b;
    Octstr *text, *safe;

    safe = pm_log_safe(ev->error ? ev->error
                                 : octstr_imm("no reason given"), 300);
    error(0, "mailbox of %s refused our login: %s",
          octstr_get_cstr(ev->key), octstr_get_cstr(safe));
    octstr_destroy(safe);
    store_watch_set_status(c->store, ev->key, "failing", ev->error, NULL);
    if (store_notice_allow(c->store, ev->key, "auth",
                           c->cfg->auth_notice_interval, time(NULL)) != 1)
        return;
    b = store_binding_get(c->store, ev->key);
    text = octstr_format("Mail alerts: your mailbox %S refused our login. "
                         "Please update your mail password with us.",
                         b && b->address ? b->address :
                         octstr_imm("account"));
    if (push_send_text(c, ev->key, text, 1, 2, 0, 0) == 0)
        push_count(c, &c->stats.notices, 1);
    octstr_destroy(text);
    store_binding_destroy(b);
}

/* Handle one event; takes it (kept for a retry when a new mail could not
 * be stored). */
static void push_event(PushCore *c, MailEvent *ev)
{
    push_count(c, &c->stats.events, 1);
    if (dict_get(c->watched, ev->key) == NULL) {
        mail_event_destroy(ev);
        return;                 /* unbound while the event was queued */
    }
    switch (ev->type) {
    case MAIL_EV_BASELINE:
        info(0, "mailbox of %s: baseline uidvalidity %ld, last uid %ld",
             octstr_get_cstr(ev->key), ev->uidvalidity, ev->uid);
        store_watch_set_baseline(c->store, ev->key, ev->uidvalidity,
                                 ev->uid, ev->uidl);
        break;
    case MAIL_EV_NEW:
        if (push_event_new(c, ev) < 0) {
            warning(0, "new mail for %s kept for another try",
                    octstr_get_cstr(ev->key));
            gwlist_append(c->retry, ev);
            return;
        }
        break;
    case MAIL_EV_STATE:
        store_watch_set_status(c->store, ev->key,
                               ev->state ? octstr_get_cstr(ev->state) : "",
                               ev->error, ev->caps);
        break;
    case MAIL_EV_AUTH_FAILED:
        push_event_auth(c, ev);
        break;
    }
    mail_event_destroy(ev);
}

/* --- bindings -> watcher ----------------------------------------------- */

/* What makes a watcher entry stale: the URL or the secret changed. */
static Octstr *push_stamp(const StoreBinding *b, const Octstr *secret)
{
    unsigned char md[SHA256_DIGEST_LENGTH];
    Octstr *stamp, *hex;

    SHA256((const unsigned char *) octstr_get_cstr(secret),
           octstr_len(secret), md);
    hex = octstr_create_from_data((char *) md, sizeof(md));
    octstr_binary_to_hex(hex, 0);
    octstr_insert(hex, b->mailbox_url, 0);
    /* kept per mailbox: an exact-size copy, not gwlib's grown buffer */
    stamp = octstr_duplicate(hex);
    octstr_destroy(hex);
    return stamp;
}

static void push_watch_binding(PushCore *c, const StoreBinding *b)
{
    Octstr *secret, *stamp, *err = NULL;
    Octstr *old;
    MailUrl *url;
    StoreWatch w;

    secret = store_binding_secret(c->store, b->msisdn);
    if (secret == NULL)
        return;
    stamp = push_stamp(b, secret);
    old = dict_get(c->watched, b->msisdn);
    if (old != NULL && octstr_compare(old, stamp) == 0) {
        octstr_destroy(stamp);
        pm_secret_wipe(secret);
        return;
    }
    url = mailurl_parse(b->mailbox_url, &err);
    if (url == NULL || store_watch_get(c->store, b->msisdn, &w) < 0) {
        error(0, "binding of %s: mailbox URL unusable: %s",
              octstr_get_cstr(b->msisdn),
              err ? octstr_get_cstr(err) : "store error");
        octstr_destroy(err);
        octstr_destroy(stamp);
        pm_secret_wipe(secret);
        mailurl_destroy(url);
        return;
    }
    info(0, "watching %s for %s", octstr_get_cstr(b->mailbox_url),
         octstr_get_cstr(b->msisdn));
    dict_put(c->watched, b->msisdn, stamp);
    mail_watch_add(c->watch, b->msisdn, url, secret, w.uidvalidity,
                   w.last_uid, w.uidls);
    store_watch_clear(&w);
    mailurl_destroy(url);
    pm_secret_wipe(secret);
}

static void push_reload(PushCore *c)
{
    long gen = store_bindings_generation(c->store);
    List *bindings, *keys;
    Dict *seen;
    StoreBinding *b;
    Octstr *key;

    if (gen < 0 || gen == c->generation)
        return;
    bindings = store_binding_list(c->store);
    if (bindings == NULL)
        return;
    c->generation = gen;
    seen = dict_create(gwlist_len(bindings) * 2 + 16, NULL);
    while ((b = gwlist_extract_first(bindings)) != NULL) {
        dict_put(seen, b->msisdn, c);
        push_watch_binding(c, b);
        store_binding_destroy(b);
    }
    gwlist_destroy(bindings, NULL);
    keys = dict_keys(c->watched);
    while ((key = gwlist_extract_first(keys)) != NULL) {
        if (dict_get(seen, key) == NULL) {
            info(0, "no longer watching the mailbox of %s",
                 octstr_get_cstr(key));
            mail_watch_remove(c->watch, key);
            octstr_destroy(dict_remove(c->watched, key));
            gw_free(dict_remove(c->bursts, key));
        }
        octstr_destroy(key);
    }
    gwlist_destroy(keys, NULL);
    dict_destroy(seen);
}

/* After a restart: mails stored but never prompted are flushed now. */
static void push_recover_pending(PushCore *c)
{
    List *msisdns = store_mail_pending_msisdns(c->store);
    Octstr *m;

    while (msisdns != NULL && (m = gwlist_extract_first(msisdns)) != NULL) {
        PushBurst *burst = gw_malloc(sizeof(*burst));

        burst->window_end = 0;
        gw_free(dict_remove(c->bursts, m));
        dict_put(c->bursts, m, burst);
        octstr_destroy(m);
    }
    gwlist_destroy(msisdns, NULL);
}

/* Old records: answered MOs (kept to recognise re-sent copies) and SMS
 * that reached their end (kept for `show` and their DLRs). */
static void push_purge(PushCore *c, long now)
{
    long mt = store_mt_purge(c->store, now - PUSH_MT_KEEP);
    long mo = store_mo_purge(c->store, now - PUSH_MO_KEEP);

    if (mt > 0 || mo > 0)
        info(0, "store: forgot %ld old SMS records and %ld answered MOs",
             mt > 0 ? mt : 0, mo > 0 ? mo : 0);
}

static void push_events_thread(void *arg)
{
    PushCore *c = arg;
    long next_reload = 0, next_purge = 0, next_retry = 0, now;
    MailEvent *ev;

    push_recover_pending(c);
    while (!c->stopping) {
        now = time(NULL);
        if (now >= next_purge) {
            push_purge(c, now);
            next_purge = now + 3600;
        }
        if (now >= next_reload) {
            push_reload(c);
            next_reload = now + c->cfg->reload_interval;
        }
        push_flush_bursts(c, now);
        if (gwlist_len(c->retry) > 0 && now >= next_retry) {
            List *again = c->retry;

            c->retry = gwlist_create();
            while ((ev = gwlist_extract_first(again)) != NULL)
                push_event(c, ev);
            gwlist_destroy(again, NULL);
            next_retry = now + PUSH_RETRY_SECS;
        }
        ev = gwlist_timed_consume(c->events, 1);
        if (ev != NULL) {
            push_event(c, ev);
        } else if (gwlist_producer_count(c->events) == 0) {
            gwthread_sleep(1.0);
        }
    }
}

/* --- lifecycle --------------------------------------------------------- */

static void push_dispatch_pending_mo(PushCore *c)
{
    List *pending = store_mo_pending(c->store, 100000);
    StoreMo *mo;

    if (pending == NULL)
        return;
    if (gwlist_len(pending) > 0)
        info(0, "%ld MOs from before the restart will be answered now",
             gwlist_len(pending));
    while ((mo = gwlist_extract_first(pending)) != NULL)
        push_mo_dispatch(c, mo);
    gwlist_destroy(pending, NULL);
}

PushCore *push_core_create(const PmConfig *cfg, Store *store)
{
    PushCore *c = gw_malloc(sizeof(*c));
    MailWatchConf wc;
    int i;

    memset(c, 0, sizeof(*c));
    c->cfg = cfg;
    c->store = store;
    c->lock = mutex_create();
    c->generation = -1;
    c->events = gwlist_create();
    c->mo_deferred = gwlist_create();
    c->retry = gwlist_create();
    c->bursts = dict_create(256, push_burst_destroy);
    c->watched = dict_create(256, octstr_destroy_item);
    c->events_thread = -1;
    for (i = 0; i < PUSH_MO_WORKERS; i++)
        c->workers[i].thread = -1;
    if (cfg->http_port > 0 && cfg->wap_push_via != NULL &&
        octstr_str_compare(cfg->wap_push_via, "ppg") == 0) {
        c->ppg = wap_ppg_create(cfg, store);
        if (c->ppg == NULL) {
            push_core_destroy(&c);
            return NULL;
        }
    }

    wc.ca_file = cfg->ca_file;
    wc.poll_interval = cfg->poll_interval;
    wc.idle_refresh = cfg->idle_refresh;
    wc.connect_timeout = cfg->connect_timeout;
    c->watch = mail_watch_create(&wc, c->events);
    if (c->watch == NULL) {
        push_core_destroy(&c);
        return NULL;
    }
    for (i = 0; i < PUSH_MO_WORKERS; i++) {
        c->workers[i].core = c;
        c->workers[i].queue = gwlist_create();
        gwlist_add_producer(c->workers[i].queue);
        c->workers[i].thread = gwthread_create(push_mo_thread,
                                               &c->workers[i]);
        if (c->workers[i].thread < 0) {
            push_core_destroy(&c);
            return NULL;
        }
    }
    push_dispatch_pending_mo(c);
    c->events_thread = gwthread_create(push_events_thread, c);
    if (c->events_thread < 0) {
        push_core_destroy(&c);
        return NULL;
    }
    return c;
}

void push_core_set_link(PushCore *c, BbLink *link)
{
    c->link = link;
}

void push_core_stats(PushCore *c, PushCoreStats *s_r)
{
    long i, pending = 0;

    for (i = 0; i < PUSH_MO_WORKERS; i++)
        if (c->workers[i].queue != NULL)
            pending += gwlist_len(c->workers[i].queue);
    mutex_lock(c->lock);
    *s_r = c->stats;
    mutex_unlock(c->lock);
    s_r->mo_pending = pending;
}

List *push_core_watch_status(PushCore *c)
{
    return mail_watch_status(c->watch);
}

void push_core_stop(PushCore *c)
{
    int i;

    if (c == NULL || c->stopped)
        return;
    c->stopped = 1;
    c->stopping = 1;
    /* the events thread uses the watcher: join it first */
    if (c->events_thread >= 0) {
        gwthread_wakeup(c->events_thread);
        gwthread_join(c->events_thread);
    }
    mail_watch_destroy(&c->watch);
    wap_ppg_destroy(&c->ppg);       /* its only user was the events thread */
    for (i = 0; i < PUSH_MO_WORKERS; i++) {
        if (c->workers[i].queue == NULL)
            continue;
        gwlist_remove_producer(c->workers[i].queue);
        if (c->workers[i].thread >= 0)
            gwthread_join(c->workers[i].thread);
    }
}

void push_core_destroy(PushCore **cp)
{
    PushCore *c = *cp;
    int i;

    if (c == NULL)
        return;
    *cp = NULL;
    push_core_stop(c);
    for (i = 0; i < PUSH_MO_WORKERS; i++)
        gwlist_destroy(c->workers[i].queue, store_mo_destroy_item);
    gwlist_destroy(c->events, (gwlist_item_destructor_t *)
                   mail_event_destroy);
    gwlist_destroy(c->mo_deferred, store_mo_destroy_item);
    gwlist_destroy(c->retry, (gwlist_item_destructor_t *)
                   mail_event_destroy);
    dict_destroy(c->bursts);
    dict_destroy(c->watched);
    mutex_destroy(c->lock);
    gw_free(c);
}
