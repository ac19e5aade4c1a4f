/*
 * push-mo.c - MO commands from phones: store first, then answer.
 *
 * push_core_mo() runs in the bearerbox link thread: it converts the MO
 * text to UTF-8, stores the MO (deduped on Kannel's message id, so a
 * re-delivery after a lost ack is not answered twice) and hands it to the
 * worker that owns the sender's number.  The worker parses the command,
 * acts, queues the answer and marks the MO done.  An MO that was stored
 * but not done when pushmailbox stopped is answered at the next start.
 *
 * `n` in GET/REPLY is always looked up in the sender's own binding.
 * Numbers without a binding get at most one "not subscribed" reply per
 * not-subscribed-interval: the service must not become an SMS amplifier.
 *
 * Exports: push_core_mo(), push_core_mo_batch_done() (push-core.h);
 * push_mo_thread(), push_mo_dispatch() (push-core-private.h).
 * Limits: senders of 1-64 [+0-9A-Za-z] (others are acked and dropped),
 * MO text cut to PUSH_MO_TEXT_MAX bytes, PUSH_MO_GROUP MOs per batch.
 * Logs: info per command (its type and number, never the text), warning
 * for dropped or unusable MOs, error when an answer cannot be stored.
 */
#include <string.h>
#include <time.h>

#include "gw/sms.h"
#include "push-core-private.h"
#include "store-token.h"
#include "push-cmd.h"
#include "push-prompt.h"
#include "convert-text.h"
#include "sms-text.h"
#include "mailurl.h"
#include "mail-fetch.h"
#include "msisdn.h"
#include "pm-secret.h"
#include "pm-log.h"
#include "convert-mms.h"
#include "store-mms.h"
#include "mms-client.h"
#include "push-send.h"

#define PUSH_MORE_HINT " [MORE]"
#define PUSH_REASON_MAX 60
#define PUSH_MO_GROUP 32          /* MOs answered in one store batch */
#define PUSH_PEER_MAX 64          /* numbers the store takes */
#define PUSH_MO_TEXT_MAX 16000    /* MO text bytes kept (= PUSH_CMD_MAX_LEN) */

static void push_reply(PushCore *c, const Octstr *msisdn, const char *fmt,
                       ...)
{
    Octstr *text;
    va_list ap;

    va_start(ap, fmt);
    text = octstr_format_valist(fmt, ap);
    va_end(ap);
    push_send_text(c, msisdn, text, c->cfg->page_segments, 1, 0, 0);
    octstr_destroy(text);
}

/* A peer's error text, made short and printable for an SMS. */
static Octstr *push_short_reason(const Octstr *err)
{
    return pm_log_safe(err ? err : octstr_imm("unknown error"),
                       PUSH_REASON_MAX);
}

/*
 * Fetch mail `m` of binding `b` (raw octets, at most max-mail-size).
 * Returns 0 (*raw_r set, *cut_r 1 when the mail was cut short), or -1
 * with *why_r set to a phone-readable reason.
 */
static int push_mail_fetch(PushCore *c, const StoreBinding *b,
                           const StoreMail *m, Octstr **raw_r, int *cut_r,
                           Octstr **why_r)
{
    Octstr *secret, *err = NULL;
    MailUrl *url;
    int r;

    *raw_r = NULL;
    *cut_r = 0;
    url = mailurl_parse(b->mailbox_url, &err);
    secret = store_binding_secret(c->store, b->msisdn);
    if (url == NULL || secret == NULL) {
        *why_r = octstr_create("your mailbox settings are unusable");
        octstr_destroy(err);
        mailurl_destroy(url);
        pm_secret_wipe(secret);
        return -1;
    }
    r = mail_fetch_message(url, secret, c->cfg->ca_file,
                           c->cfg->connect_timeout, m->uidvalidity, m->uid,
                           m->uidl, c->cfg->max_mail_size, raw_r, &err);
    mailurl_destroy(url);
    pm_secret_wipe(secret);
    if (r == -2) {
        *why_r = octstr_format("mail %ld is no longer in your mailbox",
                               m->n);
        octstr_destroy(err);
        return -1;
    }
    if (r < 0) {
        *why_r = push_short_reason(err);
        warning(0, "GET %ld for %s: fetch failed: %s", m->n,
                octstr_get_cstr(b->msisdn), octstr_get_cstr(*why_r));
        octstr_destroy(err);
        return -1;
    }
    octstr_destroy(err);
    *cut_r = r == 1;
    return 0;
}

/*
 * Fetch mail `m` of binding `b` and make the text GET pages.  Returns the
 * text, or NULL with *why_r set to a phone-readable reason.
 */
static Octstr *push_mail_text(PushCore *c, const StoreBinding *b,
                              const StoreMail *m, Octstr **why_r)
{
    Octstr *raw, *err = NULL, *text;
    ConvertMail *cm;
    int cut;

    if (push_mail_fetch(c, b, m, &raw, &cut, why_r) < 0)
        return NULL;
    cm = convert_mail_parse(raw, c->cfg->trim_quotes, &err);
    octstr_destroy(raw);
    if (cm == NULL) {
        Octstr *safe = push_short_reason(err);

        warning(0, "GET %ld for %s: mail cannot be read: %s", m->n,
                octstr_get_cstr(b->msisdn), octstr_get_cstr(safe));
        octstr_destroy(safe);
        *why_r = octstr_create("the mail cannot be read");
        octstr_destroy(err);
        return NULL;
    }
    octstr_destroy(err);
    text = push_prompt_mail_text(m->n, cm);
    if (cut)
        octstr_append_cstr(text, "\n[mail too large, cut short]");
    convert_mail_destroy(cm);
    return text;
}

/*
 * GET n for a binding that takes mail as MMS: fetch, convert to an MM
 * within the MMSC's limits and queue it for the MMS client.  Returns 0
 * when the MM is queued or the phone was told why not; -1 when the
 * binding's MMSC is unknown (the caller sends text instead).
 */
static int push_mo_get_mms(PushCore *c, const StoreBinding *b,
                           const StoreMail *m)
{
    const PmMmscConf *mmsc = pm_cfg_mmsc_for(c->cfg, b->msisdn);
    ConvertMmsOpts opts;
    ConvertMms *mm;
    StoreMms q;
    Octstr *raw, *why = NULL, *err = NULL;
    int cut, r;

    if (mmsc == NULL || c->mms == NULL)
        return -1;
    if (push_mail_fetch(c, b, m, &raw, &cut, &why) < 0) {
        push_reply(c, b->msisdn, "Sorry, mail %ld could not be fetched: "
                   "%S.", m->n, why);
        octstr_destroy(why);
        return 0;
    }
    memset(&opts, 0, sizeof(opts));
    opts.max_size = mmsc->max_message_size;
    opts.max_width = mmsc->max_width;
    opts.max_height = mmsc->max_height;
    opts.trim_quotes = c->cfg->trim_quotes;
    mm = convert_mms_build(raw, m->n, &opts, &err);
    octstr_destroy(raw);
    if (mm == NULL) {
        Octstr *safe = push_short_reason(err);

        warning(0, "GET %ld for %s: no MMS made: %s", m->n,
                octstr_get_cstr(b->msisdn), octstr_get_cstr(safe));
        push_reply(c, b->msisdn, "Sorry, mail %ld could not be made into "
                   "an MMS: %S.", m->n, safe);
        octstr_destroy(safe);
        octstr_destroy(err);
        return 0;
    }
    octstr_destroy(err);
    memset(&q, 0, sizeof(q));
    q.id = store_new_id();
    q.msisdn = b->msisdn;
    q.n = m->n;
    q.mmsc = mmsc->id;
    q.content_type = mm->content_type;
    q.body = mm->body;
    q.subject = mm->subject;
    r = store_mms_add(c->store, &q);
    if (r < 0) {
        push_send_failed = 1;       /* the MO stays pending */
    } else {
        info(0, "GET %ld for %s: MM %s queued for MMSC %s (%ld bytes, "
             "%ld images, %ld dropped)%s", m->n, octstr_get_cstr(b->msisdn),
             octstr_get_cstr(q.id), octstr_get_cstr(mmsc->id),
             octstr_len(mm->body), mm->images, mm->images_dropped,
             cut ? ", mail cut short" : "");
        mms_client_kick(c->mms);
    }
    octstr_destroy(q.id);
    convert_mms_destroy(mm);
    return 0;
}

/* Send page `page` (1-based) of mail n; n 0 = the latest mail. */
static void push_mo_get(PushCore *c, const StoreBinding *b, long n,
                        long page)
{
    const Octstr *msisdn = b->msisdn;
    StoreMail *m;
    Octstr *text, *why = NULL;
    List *pages;
    int gsm;

    if (n == 0) {
        List *latest = store_mail_latest(c->store, msisdn, 1);

        if (latest != NULL && gwlist_len(latest) > 0)
            n = ((StoreMail *) gwlist_get(latest, 0))->n;
        gwlist_destroy(latest, store_mail_destroy_item);
        if (n == 0) {
            push_reply(c, msisdn, "No mail yet.");
            return;
        }
    }
    m = store_mail_get(c->store, msisdn, n);
    if (m == NULL) {
        push_reply(c, msisdn, "There is no mail %ld. Reply LIST for your "
                   "latest mails.", n);
        return;
    }
    if (page == 1 && octstr_str_compare(b->deliver_mode, "mms") == 0) {
        if (push_mo_get_mms(c, b, m) == 0) {
            store_mail_destroy(m);
            return;
        }
        warning(0, "GET %ld for %s: no MMSC serves this number; sending "
                "text", n, octstr_get_cstr(msisdn));
    }
    text = push_mail_text(c, b, m, &why);
    store_mail_destroy(m);
    if (text == NULL) {
        push_reply(c, msisdn, "Sorry, mail %ld could not be fetched: %S.",
                   n, why);
        octstr_destroy(why);
        return;
    }
    pages = sms_text_pages(text, c->cfg->page_segments, PUSH_MORE_HINT,
                           &gsm);
    octstr_destroy(text);
    if (page > gwlist_len(pages)) {
        push_reply(c, msisdn, "That was all of mail %ld.", n);
        store_page_set(c->store, msisdn, n, 0);
    } else {
        push_send_text(c, msisdn, gwlist_get(pages, page - 1),
                       c->cfg->page_segments, 1, 0, 0);
        store_page_set(c->store, msisdn, n,
                       page < gwlist_len(pages) ? page + 1 : 0);
    }
    gwlist_destroy(pages, octstr_destroy_item);
}

static void push_mo_more(PushCore *c, const StoreBinding *b)
{
    long n, page;

    if (store_page_get(c->store, b->msisdn, &n, &page) != 0 || page <= 0) {
        push_reply(c, b->msisdn, "Nothing more to send. Reply LIST for "
                   "your latest mails.");
        return;
    }
    push_mo_get(c, b, n, page);
}

static void push_mo_list(PushCore *c, const StoreBinding *b)
{
    List *latest = store_mail_latest(c->store, b->msisdn,
                                     c->cfg->list_count);
    Octstr *text;
    long i;

    if (latest == NULL)
        return;
    if (gwlist_len(latest) == 0) {
        push_reply(c, b->msisdn, "No mail yet.");
        gwlist_destroy(latest, NULL);
        return;
    }
    text = octstr_create("");
    for (i = 0; i < gwlist_len(latest); i++) {
        StoreMail *m = gwlist_get(latest, i);
        Octstr *line = push_prompt_list_line(m->n, m->sender, m->subject);

        if (i > 0)
            octstr_append_char(text, '\n');
        octstr_append(text, line);
        octstr_destroy(line);
    }
    push_send_text(c, b->msisdn, text, c->cfg->page_segments, 1, 0, 0);
    octstr_destroy(text);
    gwlist_destroy(latest, store_mail_destroy_item);
}

/* REPLY/SEND: the mail is queued (the phone hears when it is sent) or
 * the phone is told now why not. */
static void push_mo_send(PushCore *c, const StoreBinding *b,
                         const PushCmd *cmd)
{
    Octstr *answer = NULL;

    if (c->send == NULL) {
        push_reply(c, b->msisdn, "Sending mail by SMS is not available "
                   "on this service.");
        return;
    }
    if (push_send_sms_cmd(c->send, b, cmd, &answer) < 0) {
        push_send_failed = 1;           /* the MO stays pending */
        return;
    }
    if (answer != NULL)
        push_reply(c, b->msisdn, "%S", answer);
    octstr_destroy(answer);
}

static void push_mo_unbound(PushCore *c, const Octstr *msisdn)
{
    push_count(c, &c->stats.unsubscribed, 1);
    if (store_notice_allow(c->store, msisdn, "unsubscribed",
                           c->cfg->not_subscribed_interval,
                           time(NULL)) != 1) {
        info(0, "MO from %s: not subscribed (already told)",
             octstr_get_cstr(msisdn));
        return;
    }
    info(0, "MO from %s: not subscribed", octstr_get_cstr(msisdn));
    push_reply(c, msisdn, "This number is not subscribed to mail alerts.");
}

static void push_mo_handle(PushCore *c, const StoreMo *mo)
{
    Octstr *msisdn, *err = NULL, *text;
    StoreBinding *b;
    PushCmd *cmd;

    msisdn = msisdn_normalise(mo->msisdn, c->cfg->country_code,
                              c->cfg->national_prefix, &err);
    if (msisdn == NULL) {
        warning(0, "MO %s: sender is not a usable number: %s",
                octstr_get_cstr(mo->id), octstr_get_cstr(err));
        octstr_destroy(err);
        return;
    }
    b = store_binding_get(c->store, msisdn);
    if (b == NULL) {
        push_mo_unbound(c, msisdn);
        octstr_destroy(msisdn);
        return;
    }
    cmd = push_cmd_parse(mo->text);
    info(0, "MO from %s: %s %ld", octstr_get_cstr(msisdn),
         push_cmd_type_name(cmd->type), cmd->n);
    push_count(c, &c->stats.commands, 1);
    switch (cmd->type) {
    case PUSH_CMD_GET:
        push_mo_get(c, b, cmd->n, 1);
        break;
    case PUSH_CMD_MORE:
        push_mo_more(c, b);
        break;
    case PUSH_CMD_LIST:
        push_mo_list(c, b);
        break;
    case PUSH_CMD_STOP:
        store_binding_set_paused(c->store, msisdn, 1);
        /* the web view links sent so far stop working (issue 5) */
        store_token_revoke(c->store, msisdn);
        push_reply(c, msisdn, "Mail alerts are off. Reply START to turn "
                   "them on again.");
        break;
    case PUSH_CMD_START:
        store_binding_set_paused(c->store, msisdn, 0);
        push_reply(c, msisdn, "Mail alerts are on. Reply HELP for the "
                   "commands.");
        break;
    case PUSH_CMD_HELP:
        text = push_prompt_help();
        push_send_text(c, msisdn, text, 1, 1, 0, 0);
        octstr_destroy(text);
        break;
    case PUSH_CMD_REPLY:
    case PUSH_CMD_SEND:
        push_mo_send(c, b, cmd);
        break;
    case PUSH_CMD_BAD:
        push_reply(c, msisdn, "%S", cmd->error);
        break;
    case PUSH_CMD_UNKNOWN:
    default:
        text = push_prompt_unknown();
        push_send_text(c, msisdn, text, 1, 1, 0, 0);
        octstr_destroy(text);
        break;
    }
    push_cmd_destroy(cmd);
    store_binding_destroy(b);
    octstr_destroy(msisdn);
}

/* GET and MORE fetch mail over the network: never inside a batch, which
 * holds the store's write lock. */
static int push_mo_is_slow(const StoreMo *mo)
{
    PushCmd *cmd = push_cmd_parse(mo->text);
    int slow = cmd->type == PUSH_CMD_GET || cmd->type == PUSH_CMD_MORE;

    push_cmd_destroy(cmd);
    return slow;
}

/* Answer one MO and mark it done; 0, or -1 when the answer could not be
 * stored (the MO stays pending and is answered after a restart). */
static int push_mo_answer(PushCore *c, const StoreMo *mo)
{
    push_send_failed = 0;
    push_mo_handle(c, mo);
    if (push_send_failed) {
        error(0, "MO %s: the answer could not be stored; the MO stays "
              "pending", octstr_get_cstr(mo->id));
        return -1;
    }
    if (store_mo_done(c->store, mo->id) < 0) {
        error(0, "MO %s answered but not marked done; it may be "
              "answered again after a restart", octstr_get_cstr(mo->id));
        return -1;
    }
    return 0;
}

/*
 * Answer a group of MOs taken from the queue in one go.  Quick commands
 * are answered in one store batch (one disk sync for the group: the
 * answer MT and the MO's "done" mark commit together); GET and MORE are
 * answered on their own.  If a batch fails, its MOs are answered again
 * one by one (the batch left nothing behind).
 */
/* Commit the open batch of quick answers, if any; a batch that rolls
 * back is answered again one by one (it left nothing behind). */
static void push_mo_batch_close(PushCore *c, List *in_batch, int failed)
{
    StoreMo *mo;

    if (gwlist_len(in_batch) == 0)
        return;
    if (store_batch_end(c->store, !failed) < 0) {
        warning(0, "a batch of %ld MO answers was rolled back; answering "
                "them one by one", gwlist_len(in_batch));
        while ((mo = gwlist_extract_first(in_batch)) != NULL)
            push_mo_answer(c, mo);
    }
    gwlist_delete(in_batch, 0, gwlist_len(in_batch));
    bb_link_kick(c->link);      /* the answers are visible now */
    push_send_kick(c->send);    /* and the mails they queued */
}

static void push_mo_group(PushCore *c, List *group)
{
    List *in_batch = gwlist_create();
    StoreMo *mo;
    long i;
    int failed = 0;

    for (i = 0; i < gwlist_len(group); i++) {
        mo = gwlist_get(group, i);
        if (push_mo_is_slow(mo)) {
            push_mo_batch_close(c, in_batch, failed);
            failed = 0;
            push_mo_answer(c, mo);
            continue;
        }
        if (gwlist_len(in_batch) == 0 && store_batch_begin(c->store) < 0) {
            push_mo_answer(c, mo);
            continue;
        }
        gwlist_append(in_batch, mo);
        failed |= push_mo_answer(c, mo) < 0;
    }
    push_mo_batch_close(c, in_batch, failed);
    gwlist_destroy(in_batch, NULL);
}

void push_mo_thread(void *arg)
{
    PushWorker *w = arg;
    List *group;
    StoreMo *mo;

    while (!w->core->stopping
           && (mo = gwlist_consume(w->queue)) != NULL) {
        group = gwlist_create();
        gwlist_append(group, mo);
        while (gwlist_len(group) < PUSH_MO_GROUP
               && (mo = gwlist_extract_first(w->queue)) != NULL)
            gwlist_append(group, mo);
        push_mo_group(w->core, group);
        gwlist_destroy(group, store_mo_destroy_item);
    }
}

void push_core_set_mms(PushCore *c, struct MmsClient *mms)
{
    c->mms = mms;
}

void push_core_set_send(PushCore *c, struct PushSend *send)
{
    c->send = send;
}

int push_core_notify(void *core, const Octstr *msisdn, const Octstr *text)
{
    PushCore *c = core;
    int r = push_send_text(c, msisdn, text, 2, 2, 0, 0);

    if (r == 0)
        bb_link_kick(c->link);
    return r;
}

void push_mo_dispatch(PushCore *c, StoreMo *mo)
{
    unsigned long h = 0;
    long i;

    for (i = 0; i < octstr_len(mo->msisdn); i++)
        h = h * 31 + (unsigned char) octstr_get_char(mo->msisdn, i);
    gwlist_produce(c->workers[h % PUSH_MO_WORKERS].queue, mo);
}

/* The MO's text as UTF-8, whatever coding bearerbox used. */
static Octstr *push_mo_text(const Msg *msg)
{
    Octstr *t = octstr_duplicate(msg->sms.msgdata);

    if (t == NULL)
        return octstr_create("");
    if (msg->sms.coding == DC_UCS2) {
        if (charset_convert(t, "UTF-16BE", "UTF-8") < 0) {
            octstr_destroy(t);
            return octstr_create("");
        }
    } else if (msg->sms.coding == DC_8BIT) {
        octstr_destroy(t);
        return octstr_create("");  /* binary MO: not a command */
    } else if (msg->sms.charset != NULL && octstr_len(msg->sms.charset) > 0
               && octstr_case_compare(msg->sms.charset,
                                      octstr_imm("UTF-8")) != 0) {
        if (charset_convert(t, octstr_get_cstr(msg->sms.charset),
                            "UTF-8") < 0) {
            octstr_destroy(t);
            return octstr_create("");
        }
    }
    return t;
}

/* A sender we can store and answer: 1..64 of [+0-9A-Za-z]. */
static int push_mo_sender_ok(const Octstr *s)
{
    long i;

    if (s == NULL || octstr_len(s) == 0 || octstr_len(s) > PUSH_PEER_MAX)
        return 0;
    for (i = 0; i < octstr_len(s); i++) {
        int ch = octstr_get_char(s, i);

        if (!(ch == '+' || (ch >= '0' && ch <= '9')
              || (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z')))
            return 0;
    }
    return 1;
}

int push_core_mo(Msg *msg, void *ctx)
{
    PushCore *c = ctx;
    char buf[UUID_STR_LEN + 1];
    StoreMo mo, *copy;
    Octstr *receiver;
    int r;

    /* Input the store cannot take is not a store failure: acked and
     * dropped (-1 would make bearerbox send it again and again). */
    if (!push_mo_sender_ok(msg->sms.sender)) {
        warning(0, "MO with an unusable sender number dropped");
        return 0;
    }
    uuid_unparse(msg->sms.id, buf);
    memset(&mo, 0, sizeof(mo));
    mo.id = octstr_create(buf);
    mo.msisdn = msg->sms.sender;
    receiver = msg->sms.receiver ? octstr_copy(msg->sms.receiver, 0,
                                               PUSH_PEER_MAX)
                                 : octstr_create("");
    mo.receiver = receiver;
    mo.text = push_mo_text(msg);
    convert_cut_utf8(mo.text, PUSH_MO_TEXT_MAX);
    mo.received = time(NULL);
    r = store_mo_add(c->store, &mo);
    if (r == 1) {
        copy = gw_malloc(sizeof(*copy));
        copy->id = mo.id;
        copy->msisdn = octstr_duplicate(mo.msisdn);
        copy->receiver = receiver;
        copy->text = mo.text;
        copy->received = mo.received;
        gwlist_append(c->mo_deferred, copy);   /* until the batch commits */
        return 0;
    }
    if (r == 0)
        debug("box.core", 0, "MO %s seen before; not answered twice", buf);
    octstr_destroy(mo.id);
    octstr_destroy(mo.text);
    octstr_destroy(receiver);
    return r < 0 ? -1 : 0;
}

void push_core_mo_batch_done(int committed, void *ctx)
{
    PushCore *c = ctx;
    StoreMo *mo;

    while ((mo = gwlist_extract_first(c->mo_deferred)) != NULL) {
        if (committed)
            push_mo_dispatch(c, mo);
        else
            store_mo_destroy(mo);
    }
}
