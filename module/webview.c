/*
 * webview.c - the web view listener: tokens to mails, mails to pages.
 *
 * Exports: webview_start(), webview_stop(), webview_href() (see
 * webview.h).
 *
 * The accepting thread only checks the client address and the form of
 * the path, then queues the request; workers look the token up, fetch
 * the mail (mail_fetch_message(), like GET does) and render it with
 * webview-page.c.  A queue longer than WEBVIEW_QUEUE_MAX is answered 503
 * at once.  Fetched mails are cached (WEBVIEW_CACHE_ENTRIES mails,
 * WEBVIEW_CACHE_BYTES bytes, WEBVIEW_CACHE_SECS seconds), keyed by
 * number and mail, never by token.
 *
 * A token that is unknown, expired, revoked, or whose binding is paused
 * or gone, and every path we do not serve, get byte for byte the same
 * 404, so a guesser learns nothing.
 *
 * Limits: pages ?p=1..9999, pictures 1..WEBVIEW_IMAGES_MAX.
 * Logs: see webview.h; never the path (it holds the token).
 */
#include <string.h>
#include <time.h>

#include "mail-fetch.h"
#include "mailurl.h"
#include "pm-log.h"
#include "pm-secret.h"
#include "store-token.h"
#include "webview-page.h"
#include "webview.h"

#define WEBVIEW_QUEUE_MAX 64
#define WEBVIEW_CACHE_ENTRIES 8
#define WEBVIEW_CACHE_BYTES (24L * 1024 * 1024)
#define WEBVIEW_CACHE_SECS 300
#define WEBVIEW_PURGE_SECS 3600

enum { REQ_PAGE, REQ_IMAGE };

typedef struct {
    HTTPClient *client;
    int kind;               /* REQ_* */
    Octstr *token;
    long arg;               /* page or picture number */
} WebReq;

typedef struct {
    Octstr *key;            /* "msisdn n" */
    Octstr *raw;
    int cut_short;
    long fetched;
} WebCached;

struct WebView {
    const PmConfig *cfg;
    Store *store;
    long port;
    long accept_thread;
    long workers[WEBVIEW_WORKERS];
    List *queue;            /* WebReq* */
    volatile int stopping;
    Mutex *lock;            /* guards cache, cache_bytes, next_purge */
    List *cache;            /* WebCached*, oldest first */
    long cache_bytes;
    long next_purge;
};

/* --- responses --------------------------------------------------------- */

static void reply(HTTPClient *client, int status, const char *type,
                  Octstr *body)
{
    List *h = http_create_empty_headers();

    http_header_add(h, "Content-Type", (char *) type);
    http_header_add(h, "Cache-Control", "no-store, no-cache, private, "
                    "max-age=0");
    http_header_add(h, "Pragma", "no-cache");
    http_header_add(h, "Expires", "Thu, 01 Jan 1970 00:00:00 GMT");
    http_header_add(h, "Referrer-Policy", "no-referrer");
    http_header_add(h, "X-Content-Type-Options", "nosniff");
    http_header_add(h, "X-Robots-Tag", "noindex, nofollow");
    http_header_add(h, "Content-Security-Policy", "default-src 'none'; "
                    "img-src 'self'; style-src 'unsafe-inline'; "
                    "base-uri 'none'; form-action 'none'; "
                    "frame-ancestors 'none'");
    http_send_reply(client, status, h, body);
    http_destroy_headers(h);
}

/* The one answer for everything we do not serve. */
static void reply_404(HTTPClient *client)
{
    Octstr *body = octstr_create("Not found\n");

    reply(client, HTTP_NOT_FOUND, "text/plain; charset=us-ascii", body);
    octstr_destroy(body);
}

static void reply_page(HTTPClient *client, int status, Octstr *html)
{
    reply(client, status, "application/xhtml+xml; charset=utf-8", html);
}

static void reply_notice(HTTPClient *client, int status, const char *title,
                         const char *text)
{
    Octstr *html = webview_page_notice(title, text);

    reply_page(client, status, html);
    octstr_destroy(html);
}

/* --- requests ---------------------------------------------------------- */

static void req_destroy(WebReq *r)
{
    if (r == NULL)
        return;
    octstr_destroy(r->token);
    gw_free(r);
}

/* A new WebReq for a path we serve (and ?p=), or NULL. */
static WebReq *req_parse(const Octstr *url, List *cgivars)
{
    WebReq *r;
    Octstr *token = NULL;
    long arg = 0;
    int kind;

    kind = webview_path_parse(url, http_cgi_variable(cgivars, "p"), &token,
                              &arg);
    if (kind == WEBVIEW_PATH_NONE)
        return NULL;
    r = gw_malloc(sizeof(*r));
    r->client = NULL;
    r->kind = kind == WEBVIEW_PATH_IMAGE ? REQ_IMAGE : REQ_PAGE;
    r->token = token;
    r->arg = arg;
    return r;
}

/* --- the mail cache ---------------------------------------------------- */

static void cached_destroy(void *p)
{
    WebCached *c = p;

    octstr_destroy(c->key);
    octstr_destroy(c->raw);
    gw_free(c);
}

/* A copy of the cached mail for key, or NULL. */
static Octstr *cache_get(WebView *w, const Octstr *key, int *cut_short_r)
{
    Octstr *raw = NULL;
    long i, now = time(NULL);

    mutex_lock(w->lock);
    for (i = 0; i < gwlist_len(w->cache); i++) {
        WebCached *c = gwlist_get(w->cache, i);

        if (octstr_compare(c->key, key) == 0 &&
            now - c->fetched < WEBVIEW_CACHE_SECS && now >= c->fetched) {
            raw = octstr_duplicate(c->raw);
            *cut_short_r = c->cut_short;
            break;
        }
    }
    mutex_unlock(w->lock);
    return raw;
}

static void cache_put(WebView *w, const Octstr *key, const Octstr *raw,
                      int cut_short)
{
    WebCached *c, *old;
    long i;

    if (octstr_len(raw) > WEBVIEW_CACHE_BYTES / 2)
        return;
    c = gw_malloc(sizeof(*c));
    c->key = octstr_duplicate(key);
    c->raw = octstr_duplicate(raw);
    c->cut_short = cut_short;
    c->fetched = time(NULL);
    mutex_lock(w->lock);
    for (i = 0; i < gwlist_len(w->cache); i++) {
        old = gwlist_get(w->cache, i);
        if (octstr_compare(old->key, key) == 0) {
            gwlist_delete(w->cache, i, 1);
            w->cache_bytes -= octstr_len(old->raw);
            cached_destroy(old);
            break;
        }
    }
    gwlist_append(w->cache, c);
    w->cache_bytes += octstr_len(raw);
    while (gwlist_len(w->cache) > WEBVIEW_CACHE_ENTRIES ||
           w->cache_bytes > WEBVIEW_CACHE_BYTES) {
        old = gwlist_extract_first(w->cache);
        w->cache_bytes -= octstr_len(old->raw);
        cached_destroy(old);
    }
    mutex_unlock(w->lock);
}

/* --- serving ----------------------------------------------------------- */

/* Fetch mail m of binding b (or take it from the cache).  0 ok
 * (*raw_r new), -2 gone from the mailbox, -1 failed (logged). */
static int fetch_mail(WebView *w, const StoreBinding *b, const StoreMail *m,
                      Octstr **raw_r, int *cut_short_r)
{
    Octstr *key = octstr_format("%S %ld", b->msisdn, m->n);
    Octstr *secret, *err = NULL, *raw = NULL, *safe;
    MailUrl *url;
    int r;

    *cut_short_r = 0;
    *raw_r = cache_get(w, key, cut_short_r);
    if (*raw_r != NULL) {
        octstr_destroy(key);
        return 0;
    }
    url = mailurl_parse(b->mailbox_url, &err);
    secret = store_binding_secret(w->store, b->msisdn);
    if (url == NULL || secret == NULL) {
        warning(0, "web view: mail %ld of %s: mailbox settings unusable",
                m->n, octstr_get_cstr(b->msisdn));
        octstr_destroy(err);
        mailurl_destroy(url);
        pm_secret_wipe(secret);
        octstr_destroy(key);
        return -1;
    }
    r = mail_fetch_message(url, secret, w->cfg->ca_file,
                           w->cfg->connect_timeout, m->uidvalidity, m->uid,
                           m->uidl, w->cfg->max_mail_size, &raw, &err);
    mailurl_destroy(url);
    pm_secret_wipe(secret);
    if (r < 0) {
        safe = pm_log_safe(err ? err : octstr_imm("no reason given"), 200);
        if (r == -2)
            info(0, "web view: mail %ld of %s is no longer in the mailbox",
                 m->n, octstr_get_cstr(b->msisdn));
        else
            warning(0, "web view: mail %ld of %s could not be fetched: %s",
                    m->n, octstr_get_cstr(b->msisdn),
                    octstr_get_cstr(safe));
        octstr_destroy(safe);
        octstr_destroy(err);
        octstr_destroy(key);
        return r == -2 ? -2 : -1;
    }
    octstr_destroy(err);
    *cut_short_r = r == 1;
    cache_put(w, key, raw, *cut_short_r);
    octstr_destroy(key);
    *raw_r = raw;
    return 0;
}

static void serve_mail(WebView *w, WebReq *q, const StoreBinding *b,
                       const StoreMail *m)
{
    WebPageOpts o;
    Octstr *raw = NULL, *out = NULL, *base;
    int cut_short, r;

    r = fetch_mail(w, b, m, &raw, &cut_short);
    if (r == -2) {
        reply_notice(q->client, HTTP_NOT_FOUND, "Mail gone",
                     "This mail is no longer in your mailbox.");
        return;
    }
    if (r < 0) {
        reply_notice(q->client, HTTP_SERVICE_UNAVAILABLE, "Try again later",
                     "Your mailbox could not be reached just now. "
                     "Please try again in a few minutes.");
        return;
    }
    if (q->kind == REQ_IMAGE) {
        if (webview_page_image(raw, q->arg, WEBVIEW_IMG_W, WEBVIEW_IMG_H,
                               &out) == 0) {
            reply(q->client, HTTP_OK, "image/jpeg", out);
            info(0, "web view: picture %ld of mail %ld of %s shown", q->arg,
                 m->n, octstr_get_cstr(b->msisdn));
        } else {
            reply_404(q->client);
        }
        octstr_destroy(out);
        octstr_destroy(raw);
        return;
    }
    memset(&o, 0, sizeof(o));
    o.n = m->n;
    o.page = q->arg;
    o.trim_quotes = w->cfg->trim_quotes;
    o.cut_short = cut_short;
    base = octstr_format("%S/img/", q->token);
    o.img_base = base;
    o.reply_to = w->cfg->global_sender;
    r = webview_page_render(raw, &o, &out);
    if (r == 0) {
        reply_page(q->client, HTTP_OK, out);
        info(0, "web view: mail %ld (page %ld) of %s shown", m->n, q->arg,
             octstr_get_cstr(b->msisdn));
    } else if (r == 1) {
        reply_404(q->client);
    } else {
        Octstr *t = octstr_format("This mail cannot be shown here. Send "
                                  "GET %ld by SMS to have it as text.",
                                  m->n);

        reply_notice(q->client, HTTP_OK, "Mail cannot be shown",
                     octstr_get_cstr(t));
        octstr_destroy(t);
    }
    octstr_destroy(base);
    octstr_destroy(out);
    octstr_destroy(raw);
}

static void serve(WebView *w, WebReq *q)
{
    Octstr *msisdn = NULL;
    StoreBinding *b = NULL;
    StoreMail *m = NULL;
    long n = 0;
    int r;

    r = store_token_lookup(w->store, q->token, time(NULL), &msisdn, &n);
    if (r < 0) {
        reply_notice(q->client, HTTP_SERVICE_UNAVAILABLE, "Try again later",
                     "The service is busy. Please try again later.");
        return;
    }
    if (r == 1)
        b = store_binding_get(w->store, msisdn);
    if (b != NULL && !b->paused)
        m = store_mail_get(w->store, msisdn, n);
    if (m == NULL) {
        debug("box.webview", 0, "web view: not found (no such token, "
              "binding or mail)");
        reply_404(q->client);
    } else {
        serve_mail(w, q, b, m);
    }
    store_mail_destroy(m);
    store_binding_destroy(b);
    octstr_destroy(msisdn);
}

static void purge_tokens(WebView *w)
{
    long now = time(NULL), purged;
    int due;

    mutex_lock(w->lock);
    due = now >= w->next_purge;
    if (due)
        w->next_purge = now + WEBVIEW_PURGE_SECS;
    mutex_unlock(w->lock);
    if (!due)
        return;
    purged = store_token_purge(w->store, now);
    if (purged > 0)
        info(0, "web view: forgot %ld expired view links", purged);
}

static void worker_thread(void *arg)
{
    WebView *w = arg;
    WebReq *q;

    for (;;) {
        q = gwlist_timed_consume(w->queue, 60);
        if (q == NULL) {
            if (gwlist_producer_count(w->queue) == 0)
                break;
            purge_tokens(w);
            continue;
        }
        if (w->stopping)
            reply_notice(q->client, HTTP_SERVICE_UNAVAILABLE,
                         "Try again later", "The service is restarting.");
        else
            serve(w, q);
        req_destroy(q);
        purge_tokens(w);
    }
}

/* Kannel's is_allowed_ip() lets everybody in when the deny list is
 * empty; here the address must be in http-allow-ip and not in
 * http-deny-ip (as for the admin port). */
static int ip_ok(const PmConfig *cfg, Octstr *ip)
{
    if (ip == NULL || cfg->http_allow_ip == NULL
        || !is_allowed_ip(cfg->http_allow_ip, ip, ip))
        return 0;
    if (cfg->http_deny_ip != NULL && octstr_len(cfg->http_deny_ip) > 0
        && !is_allowed_ip(NULL, cfg->http_deny_ip, ip))
        return 0;
    return 1;
}

static void accept_thread(void *arg)
{
    WebView *w = arg;
    HTTPClient *client;
    Octstr *ip, *url, *body;
    List *headers, *cgivars;
    WebReq *q;

    while ((client = http_accept_request(w->port, &ip, &url, &headers,
                                         &body, &cgivars)) != NULL) {
        q = NULL;
        if (!ip_ok(w->cfg, ip)) {
            warning(0, "web view request from %s refused (http-allow-ip)",
                    octstr_get_cstr(ip));
            http_close_client(client);
        } else if (body != NULL ||
                   (q = req_parse(url, cgivars)) == NULL) {
            debug("box.webview", 0, "web view: not found (path)");
            reply_404(client);
        } else if (gwlist_len(w->queue) >= WEBVIEW_QUEUE_MAX) {
            warning(0, "web view: %d requests waiting; request from %s "
                    "refused", WEBVIEW_QUEUE_MAX, octstr_get_cstr(ip));
            reply_notice(client, HTTP_SERVICE_UNAVAILABLE, "Busy",
                         "Too many requests. Please try again later.");
            req_destroy(q);
        } else {
            q->client = client;
            gwlist_produce(w->queue, q);
        }
        octstr_destroy(ip);
        octstr_destroy(url);
        octstr_destroy(body);
        http_destroy_headers(headers);
        http_destroy_cgiargs(cgivars);
    }
    gwlist_remove_producer(w->queue);
}

/* --- lifecycle --------------------------------------------------------- */

Octstr *webview_href(const PmConfig *cfg, const Octstr *token)
{
    Octstr *href;

    if (cfg->http_port <= 0 || token == NULL)
        return NULL;
    if (cfg->public_url != NULL && octstr_len(cfg->public_url) > 0)
        href = octstr_duplicate(cfg->public_url);
    else
        href = octstr_format("http://%S:%ld", cfg->http_interface,
                             cfg->http_port);
    while (octstr_len(href) > 0 &&
           octstr_get_char(href, octstr_len(href) - 1) == '/')
        octstr_delete(href, octstr_len(href) - 1, 1);
    octstr_format_append(href, "/m/%S", token);
    return href;
}

WebView *webview_start(const PmConfig *cfg, Store *store)
{
    WebView *w;
    int i;

    if (cfg->http_port <= 0)
        return NULL;
    if (http_open_port_if(cfg->http_port, 0, cfg->http_interface) < 0) {
        error(0, "cannot open the web view port %s:%ld",
              octstr_get_cstr(cfg->http_interface), cfg->http_port);
        return NULL;
    }
    w = gw_malloc(sizeof(*w));
    memset(w, 0, sizeof(*w));
    w->cfg = cfg;
    w->store = store;
    w->port = cfg->http_port;
    w->lock = mutex_create();
    w->cache = gwlist_create();
    w->queue = gwlist_create();
    w->next_purge = 0;
    w->accept_thread = -1;
    for (i = 0; i < WEBVIEW_WORKERS; i++)
        w->workers[i] = -1;
    gwlist_add_producer(w->queue);
    for (i = 0; i < WEBVIEW_WORKERS; i++)
        w->workers[i] = gwthread_create(worker_thread, w);
    w->accept_thread = gwthread_create(accept_thread, w);
    if (w->accept_thread < 0) {
        gwlist_remove_producer(w->queue);
        webview_stop(&w);
        return NULL;
    }
    info(0, "web view HTTP on %s:%ld, links to %s/m/...",
         octstr_get_cstr(cfg->http_interface), cfg->http_port,
         cfg->public_url && octstr_len(cfg->public_url) > 0 ?
         octstr_get_cstr(cfg->public_url) : "(http-interface:http-port)");
    return w;
}

void webview_stop(WebView **wp)
{
    WebView *w = *wp;
    int i;

    if (w == NULL)
        return;
    *wp = NULL;
    w->stopping = 1;
    http_close_port(w->port);
    if (w->accept_thread >= 0)
        gwthread_join(w->accept_thread);
    for (i = 0; i < WEBVIEW_WORKERS; i++) {
        if (w->workers[i] >= 0) {
            gwthread_wakeup(w->workers[i]);
            gwthread_join(w->workers[i]);
        }
    }
    gw_assert(gwlist_len(w->queue) == 0);
    gwlist_destroy(w->queue, NULL);
    gwlist_destroy(w->cache, cached_destroy);
    mutex_destroy(w->lock);
    gw_free(w);
}
