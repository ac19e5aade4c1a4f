/*
 * pushmailbox.c - the pushmail box: main(), signals, start and stop.
 *
 *   pushmailbox [-v LEVEL] [-F LOGFILE] [-d PLACES] [-D PLACES] ...
 *               pushmail.conf
 *
 * Takes Kannel's usual box options (get_and_set_debugs).  Starts, in
 * order: the store, the push core (with the mail watcher), the bearerbox
 * link, the admin listener; stops them in reverse.  SIGTERM and SIGINT
 * stop it (whatever was stored but not done is picked up at the next
 * start); SIGHUP reopens the log files.
 *
 * Exit status: 0 after a clean stop, 1 when start-up fails, 2 for a bad
 * command line or configuration.
 */
#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "gw/shared.h"
#include "pm-cfg.h"
#include "store.h"
#include "push-core.h"
#include "bearerbox-link.h"
#include "admin-http.h"
#include "convert-text.h"
#include "convert-image.h"
#include "mm7-soap.h"
#include "mm7-server.h"
#include "mms-client.h"
#include "store-mms.h"
#include "webview.h"
#include "push-send.h"

/* What the MM7 endpoint's callbacks need. */
typedef struct {
    Store *store;
    PushSend *send;
} PmMm7Ctx;

/*
 * glibc's mmap threshold, for the whole process.  OpenSSL allocates a
 * ~17 KB record buffer for a TLS read and frees it once drained
 * (SSL_MODE_RELEASE_BUFFERS keeps idle sessions small).  Taken from the
 * heap, those buffers leave holes that the small long-lived objects of
 * other sessions then split: with 1000 IMAPS mailboxes the heap held
 * ~9 KB of such holes per mailbox, a third of an idle session's RSS.
 * Served by mmap, a freed buffer goes straight back to the kernel.
 * Nothing here allocates blocks of 16 KB or more often enough for the
 * extra mmap/munmap to matter (by default the threshold adapts upwards
 * to 32 MB, which is what lets the buffers land in the heap).
 */
#define PM_MMAP_THRESHOLD (16 * 1024)
#define PM_TICK 0.25

static volatile sig_atomic_t pm_stop_requested;
static volatile sig_atomic_t pm_reopen_requested;

static void pm_request_stop(void)
{
    pm_stop_requested = 1;
    gwthread_wakeup(MAIN_THREAD_ID);
}

/* Only sets a flag: gwthread_wakeup() takes a mutex, which a signal
 * handler must not.  main() looks at the flags every PM_TICK seconds. */
static void pm_signal(int sig)
{
    if (sig == SIGHUP)
        pm_reopen_requested = 1;
    else
        pm_stop_requested = 1;
}

static void pm_signals(void)
{
    struct sigaction act;

    memset(&act, 0, sizeof(act));
    act.sa_handler = pm_signal;
    sigemptyset(&act.sa_mask);
    sigaction(SIGTERM, &act, NULL);
    sigaction(SIGINT, &act, NULL);
    sigaction(SIGHUP, &act, NULL);
    act.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &act, NULL);
}

/* MM7 DeliveryReportReq or mmsbox DLR: stored before it is answered. */
static int pm_mm7_report(const Mm7Report *r, void *ctx)
{
    Store *store = ((PmMm7Ctx *) ctx)->store;
    int found;

    found = store_mms_report(store, r->mmsc_id, r->message_id, r->status,
                             r->date > 0 ? r->date : (long) time(NULL));
    if (found < 0)
        return -1;              /* HTTP 503: the MMSC sends it again */
    if (found == 0 && store_mms_count(store, STORE_MMS_SUBMITTING) != 0) {
        /* its SubmitRsp may not be stored yet: have it sent again */
        info(0, "delivery report from MMSC %s for MessageID %s, not known "
             "yet: asked to send it again",
             octstr_get_cstr(r->mmsc_id),
             r->message_id ? octstr_get_cstr(r->message_id) : "(none)");
        return -1;
    }
    if (found == 0)
        warning(0, "delivery report from MMSC %s for unknown MessageID %s",
                octstr_get_cstr(r->mmsc_id),
                r->message_id ? octstr_get_cstr(r->message_id) : "(none)");
    else
        info(0, "delivery report from MMSC %s: MessageID %s %s",
             octstr_get_cstr(r->mmsc_id), octstr_get_cstr(r->message_id),
             octstr_get_cstr(r->status));
    return found;
}

/* MM7 DeliverReq or mmsbox MO: a phone sends mail. */
static int pm_mm7_deliver(const Mm7Deliver *d, void *ctx)
{
    return push_send_mms_from(d, ((PmMm7Ctx *) ctx)->send);
}

/* Did the command line set the console's log level (-v)? */
static int pm_verbosity_given(int argc, char **argv)
{
    int i;

    for (i = 1; i < argc; i++)
        if (strncmp(argv[i], "-v", 2) == 0
            || strcmp(argv[i], "--verbosity") == 0)
            return 1;
    return 0;
}

static void pm_usage(void)
{
    fprintf(stderr, "usage: pushmailbox [-v LEVEL] [-F LOGFILE] "
            "[-d PLACES] pushmail.conf\n");
}

static int pm_write_pid(const Octstr *path)
{
    FILE *f = fopen(octstr_get_cstr(path), "w");

    if (f == NULL) {
        error(errno, "cannot write the pid file '%s'",
              octstr_get_cstr(path));
        return -1;
    }
    fprintf(f, "%ld\n", (long) getpid());
    fclose(f);
    return 0;
}

int main(int argc, char **argv)
{
    PmConfig *cfg;
    Store *store = NULL;
    PushCore *core = NULL;
    BbLink *link = NULL;
    AdminHttp *admin = NULL;
    WebView *web = NULL;
    MmsClient *mms = NULL;
    PushSend *send = NULL;
    PmMm7Ctx mm7ctx;
    Mm7Server *mm7 = NULL;
    BbLinkConf lc;
    Octstr *err = NULL, *file;
    int cf_index, status = 1;

    mallopt(M_MMAP_THRESHOLD, PM_MMAP_THRESHOLD);
    gwlib_init();
    cf_index = get_and_set_debugs(argc, argv, NULL);
    if (argv[cf_index] == NULL || argv[cf_index + 1] != NULL) {
        pm_usage();
        gwlib_shutdown();
        return 2;
    }
    file = octstr_create(argv[cf_index]);
    cfg = pm_cfg_load(file, &err);
    octstr_destroy(file);
    if (cfg == NULL) {
        error(0, "%s", octstr_get_cstr(err));
        octstr_destroy(err);
        gwlib_shutdown();
        return 2;
    }
    /* The console follows log-level unless -v said otherwise (Kannel's
     * default, debug, would cost every message several console lines). */
    if (!pm_verbosity_given(argc, argv))
        log_set_output_level(cfg->log_level);
    if (cfg->log_file != NULL)
        log_open(octstr_get_cstr(cfg->log_file), cfg->log_level,
                 GW_NON_EXCL);
    info(0, "pushmailbox %s starting (Kannel %s)", PM_VERSION, VERSION);
    if (cfg->pid_file != NULL && pm_write_pid(cfg->pid_file) < 0)
        goto out;
    pm_signals();
    curl_global_init(CURL_GLOBAL_ALL);
    convert_init();
    convert_image_init();
    mm7_soap_init();

    store = store_open(&cfg->db, cfg->secret_key_file, &err);
    if (store == NULL) {
        error(0, "cannot open the store: %s",
              err ? octstr_get_cstr(err) : "unknown error");
        octstr_destroy(err);
        goto out;
    }
    core = push_core_create(cfg, store);
    if (core == NULL) {
        error(0, "cannot start the push core");
        goto out;
    }
    send = push_send_create(cfg, store, push_core_notify, core);
    if (send == NULL)
        goto out;
    push_core_set_send(core, send);
    lc.host = cfg->bearerbox_host;
    lc.port = cfg->bearerbox_port;
    lc.ssl = cfg->bearerbox_ssl;
    lc.smsbox_id = cfg->smsbox_id;
    lc.dlr_mask = cfg->dlr_mask;
    link = bb_link_create(&lc, store, push_core_mo, push_core_mo_batch_done,
                          core);
    if (link == NULL)
        goto out;
    push_core_set_link(core, link);
    if (gwlist_len(cfg->mmscs) > 0) {
        mms = mms_client_create(cfg, store, push_core_notify, core);
        if (mms == NULL) {
            error(0, "cannot start the MMS client");
            goto out;
        }
        push_core_set_mms(core, mms);
        mm7ctx.store = store;
        mm7ctx.send = send;
        mm7 = mm7_server_start(cfg, pm_mm7_report, pm_mm7_deliver,
                               &mm7ctx);
        if (mm7 == NULL)
            goto out;
    }
    if (cfg->http_port > 0) {
        web = webview_start(cfg, store);
        if (web == NULL)
            goto out;
    }
    if (cfg->admin_port > 0) {
        admin = admin_http_start(cfg, store, link, core, pm_request_stop);
        if (admin == NULL)
            goto out;
    }
    if (cfg->http_port > 0 && octstr_search(cfg->public_url,
            octstr_imm("://127."), 0) >= 0)
        warning(0, "public-url is %s: WAP push links will point at this "
                "host's loopback address, which phones cannot reach; set "
                "public-url to the address of your reverse proxy",
                octstr_get_cstr(cfg->public_url));
    info(0, "pushmailbox running");
    while (!pm_stop_requested) {
        if (pm_reopen_requested) {
            pm_reopen_requested = 0;
            log_reopen();
            info(0, "log files reopened");
        }
        gwthread_sleep(PM_TICK);
    }
    info(0, "pushmailbox stopping");
    program_status = shutting_down;
    status = 0;

out:
    /* reverse order: the core's threads kick the link, the link calls
     * into the core; stop the core's threads, then the link, then free */
    mm7_server_stop(&mm7);
    admin_http_stop(&admin);
    webview_stop(&web);
    push_core_stop(core);
    push_send_destroy(&send);
    mms_client_destroy(&mms);
    bb_link_destroy(&link);
    push_core_destroy(&core);
    store_close(&store);
    convert_image_deinit();
    convert_deinit();
    curl_global_cleanup();
    if (cfg->pid_file != NULL)
        unlink(octstr_get_cstr(cfg->pid_file));
    info(0, "pushmailbox stopped");
    pm_cfg_destroy(cfg);
    gwlib_shutdown();
    return status;
}
