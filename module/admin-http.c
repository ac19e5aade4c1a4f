/*
 * admin-http.c - /status (text, XML) and /shutdown on the admin port.
 *
 * One thread accepts requests from gwlib's HTTP server.  Requests from
 * addresses outside admin-allow-ip are closed without a reply; a wrong
 * or missing password gets 403.  The status page never shows secrets or
 * mail contents: states, counts and the last error of each failing
 * mailbox.
 */
#include <string.h>
#include <time.h>

#include "admin-http.h"
#include "store-mms.h"
#include "store-outmail.h"
#include "mail-watch.h"
#include "pm-log.h"

struct AdminHttp {
    const PmConfig *cfg;
    Store *store;
    BbLink *link;
    PushCore *core;
    AdminShutdownFn *shutdown;
    long port;
    long thread;
    time_t started;
};

typedef struct {
    long idle, polling, connecting, failing, other;
} AdminStates;

static void admin_count_states(List *st, AdminStates *n)
{
    long i;

    memset(n, 0, sizeof(*n));
    for (i = 0; st != NULL && i < gwlist_len(st); i++) {
        MailWatchStatus *s = gwlist_get(st, i);

        if (octstr_str_compare(s->state, "idle") == 0)
            n->idle++;
        else if (octstr_str_compare(s->state, "polling") == 0)
            n->polling++;
        else if (octstr_str_compare(s->state, "connecting") == 0)
            n->connecting++;
        else if (octstr_str_compare(s->state, "failing") == 0)
            n->failing++;
        else
            n->other++;
    }
}

/* Peer error text is not ours: keep it printable and short. */
static Octstr *admin_printable(const Octstr *s, int xml)
{
    Octstr *r = pm_log_safe(s, 200);

    if (xml)
        octstr_convert_to_html_entities(r);
    return r;
}

static Octstr *admin_status(AdminHttp *a, int xml)
{
    BbLinkCounters lc;
    PushCoreStats ps;
    AdminStates n;
    List *st = push_core_watch_status(a->core);
    long up = time(NULL) - a->started, i;
    long bindings = store_binding_count(a->store);
    long queued = store_mt_count(a->store, STORE_MT_QUEUED);
    long sent = store_mt_count(a->store, STORE_MT_SENT);
    long mms[4], mail[4];
    Octstr *out;

    for (i = 0; i < 4; i++) {
        mms[i] = store_mms_count(a->store, (int) i);
        mail[i] = store_outmail_count(a->store, (int) i);
    }
    bb_link_counters(a->link, &lc);
    push_core_stats(a->core, &ps);
    admin_count_states(st, &n);
    if (!xml) {
        out = octstr_format(
            "pushmail %s (Kannel %s), uptime %ldd %ldh %ldm %lds\n"
            "bearerbox: %s (%S:%ld as '%S'), %ld connects\n"
            "bindings: %ld\n"
            "mailboxes: %ld idle, %ld polling, %ld connecting, "
            "%ld failing\n",
            PM_VERSION, VERSION, up / 86400, up / 3600 % 24, up / 60 % 60,
            up % 60, bb_link_state(a->link), a->cfg->bearerbox_host,
            a->cfg->bearerbox_port, a->cfg->smsbox_id, lc.connects,
            bindings, n.idle, n.polling, n.connecting, n.failing);
        for (i = 0; st != NULL && i < gwlist_len(st); i++) {
            MailWatchStatus *s = gwlist_get(st, i);
            Octstr *e;

            if (octstr_str_compare(s->state, "failing") != 0)
                continue;
            e = admin_printable(s->error, 0);
            octstr_format_append(out, "  %S failing since %ld s: %S\n",
                                 s->key, (long) time(NULL) - s->since, e);
            octstr_destroy(e);
        }
        octstr_format_append(out,
            "queues: %ld MT queued, %ld MT in flight, %ld MO pending\n"
            "counters: %ld prompts, %ld summaries, %ld commands, "
            "%ld not subscribed, %ld notices, %ld MO, %ld DLR, "
            "%ld MT sent, %ld MT accepted, %ld MT failed\n",
            queued, sent, ps.mo_pending, ps.prompts, ps.summaries,
            ps.commands, ps.unsubscribed, ps.notices, lc.mo, lc.dlr,
            lc.mt_sent, lc.mt_acked, lc.mt_failed);
        octstr_format_append(out,
            "MMS (kept 7 days): %ld queued, %ld being submitted, "
            "%ld accepted, %ld failed\n"
            "mail from phones: %ld queued, %ld sending, %ld sent, "
            "%ld failed\n",
            mms[STORE_MMS_QUEUED], mms[STORE_MMS_SUBMITTING],
            mms[STORE_MMS_ACCEPTED], mms[STORE_MMS_FAILED],
            mail[STORE_OUTMAIL_QUEUED], mail[STORE_OUTMAIL_SENDING],
            mail[STORE_OUTMAIL_SENT], mail[STORE_OUTMAIL_FAILED]);
    } else {
        out = octstr_format(
            "<?xml version=\"1.0\"?>\n<pushmail>\n"
            "  <version>%s</version><uptime>%ld</uptime>\n"
            "  <bearerbox><state>%s</state><connects>%ld</connects>"
            "</bearerbox>\n"
            "  <bindings>%ld</bindings>\n"
            "  <mailboxes idle=\"%ld\" polling=\"%ld\" connecting=\"%ld\" "
            "failing=\"%ld\">\n",
            PM_VERSION, up, bb_link_state(a->link), lc.connects, bindings,
            n.idle, n.polling, n.connecting, n.failing);
        for (i = 0; st != NULL && i < gwlist_len(st); i++) {
            MailWatchStatus *s = gwlist_get(st, i);
            Octstr *e = admin_printable(s->error, 1);
            Octstr *k = admin_printable(s->key, 1);

            octstr_format_append(out, "    <mailbox msisdn=\"%S\" "
                                 "state=\"%S\" since=\"%ld\">%S</mailbox>\n",
                                 k, s->state, s->since, e);
            octstr_destroy(e);
            octstr_destroy(k);
        }
        octstr_format_append(out,
            "  </mailboxes>\n"
            "  <queues><mt-queued>%ld</mt-queued><mt-in-flight>%ld"
            "</mt-in-flight><mo-pending>%ld</mo-pending></queues>\n"
            "  <counters><prompts>%ld</prompts><summaries>%ld</summaries>"
            "<commands>%ld</commands><not-subscribed>%ld</not-subscribed>"
            "<notices>%ld</notices><mo>%ld</mo><dlr>%ld</dlr>"
            "<mt-sent>%ld</mt-sent><mt-accepted>%ld</mt-accepted>"
            "<mt-failed>%ld</mt-failed></counters>\n",
            queued, sent, ps.mo_pending, ps.prompts, ps.summaries,
            ps.commands, ps.unsubscribed, ps.notices, lc.mo, lc.dlr,
            lc.mt_sent, lc.mt_acked, lc.mt_failed);
        octstr_format_append(out,
            "  <mms queued=\"%ld\" submitting=\"%ld\" accepted=\"%ld\" "
            "failed=\"%ld\"/>\n"
            "  <mail queued=\"%ld\" sending=\"%ld\" sent=\"%ld\" "
            "failed=\"%ld\"/>\n</pushmail>\n",
            mms[STORE_MMS_QUEUED], mms[STORE_MMS_SUBMITTING],
            mms[STORE_MMS_ACCEPTED], mms[STORE_MMS_FAILED],
            mail[STORE_OUTMAIL_QUEUED], mail[STORE_OUTMAIL_SENDING],
            mail[STORE_OUTMAIL_SENT], mail[STORE_OUTMAIL_FAILED]);
    }
    gwlist_destroy(st, mail_watch_status_destroy_item);
    return out;
}

static void admin_reply(HTTPClient *client, int status, const char *type,
                        Octstr *body)
{
    List *h = http_create_empty_headers();

    http_header_add(h, "Content-Type", (char *) type);
    http_header_add(h, "Cache-Control", "no-store");
    http_send_reply(client, status, h, body);
    http_destroy_headers(h);
}

static void admin_handle(AdminHttp *a, HTTPClient *client, Octstr *url,
                         List *cgivars)
{
    Octstr *pw = http_cgi_variable(cgivars, "password");
    Octstr *body;

    if (pw == NULL || octstr_compare(pw, a->cfg->admin_password) != 0) {
        body = octstr_create("Denied: wrong or missing password.\n");
        admin_reply(client, HTTP_FORBIDDEN, "text/plain", body);
    } else if (octstr_str_compare(url, "/status") == 0
               || octstr_str_compare(url, "/status.txt") == 0
               || octstr_str_compare(url, "/") == 0) {
        body = admin_status(a, 0);
        admin_reply(client, HTTP_OK, "text/plain; charset=utf-8", body);
    } else if (octstr_str_compare(url, "/status.xml") == 0) {
        body = admin_status(a, 1);
        admin_reply(client, HTTP_OK, "text/xml; charset=utf-8", body);
    } else if (octstr_str_compare(url, "/shutdown") == 0) {
        body = octstr_create("Shutting down.\n");
        admin_reply(client, HTTP_OK, "text/plain", body);
        info(0, "shutdown requested on the admin port");
        a->shutdown();
    } else {
        body = octstr_create("Unknown command. Try /status, /status.xml "
                             "or /shutdown.\n");
        admin_reply(client, HTTP_NOT_FOUND, "text/plain", body);
    }
    octstr_destroy(body);
}

/*
 * Kannel's is_allowed_ip() lets everybody in when the deny list is empty.
 * Ours: the address must match admin-allow-ip and must not match
 * admin-deny-ip.  is_allowed_ip(allow, ip, ip) is "ip is in allow".
 */
static int admin_ip_ok(const PmConfig *cfg, Octstr *ip)
{
    if (ip == NULL || cfg->admin_allow_ip == NULL
        || !is_allowed_ip(cfg->admin_allow_ip, ip, ip))
        return 0;
    if (cfg->admin_deny_ip != NULL && octstr_len(cfg->admin_deny_ip) > 0
        && !is_allowed_ip(NULL, cfg->admin_deny_ip, ip))
        return 0;
    return 1;
}

static void admin_thread(void *arg)
{
    AdminHttp *a = arg;
    HTTPClient *client;
    Octstr *ip, *url, *body;
    List *headers, *cgivars;

    while ((client = http_accept_request(a->port, &ip, &url, &headers,
                                         &body, &cgivars)) != NULL) {
        if (!admin_ip_ok(a->cfg, ip)) {
            warning(0, "admin request from %s refused (admin-allow-ip)",
                    octstr_get_cstr(ip));
            http_close_client(client);
        } else {
            admin_handle(a, client, url, cgivars);
        }
        octstr_destroy(ip);
        octstr_destroy(url);
        octstr_destroy(body);
        http_destroy_headers(headers);
        http_destroy_cgiargs(cgivars);
    }
}

AdminHttp *admin_http_start(const PmConfig *cfg, Store *store,
                            BbLink *link, PushCore *core,
                            AdminShutdownFn *shutdown)
{
    AdminHttp *a;

    if (http_open_port_if(cfg->admin_port, 0, cfg->admin_interface) < 0) {
        error(0, "cannot open the admin port %s:%ld",
              octstr_get_cstr(cfg->admin_interface), cfg->admin_port);
        return NULL;
    }
    a = gw_malloc(sizeof(*a));
    memset(a, 0, sizeof(*a));
    a->cfg = cfg;
    a->store = store;
    a->link = link;
    a->core = core;
    a->shutdown = shutdown;
    a->port = cfg->admin_port;
    a->started = time(NULL);
    a->thread = gwthread_create(admin_thread, a);
    if (a->thread < 0) {
        http_close_port(a->port);
        gw_free(a);
        return NULL;
    }
    info(0, "admin HTTP on %s:%ld", octstr_get_cstr(cfg->admin_interface),
         cfg->admin_port);
    return a;
}

void admin_http_stop(AdminHttp **ap)
{
    AdminHttp *a = *ap;

    if (a == NULL)
        return;
    *ap = NULL;
    http_close_port(a->port);
    gwthread_join(a->thread);
    gw_free(a);
}
