/*
 * push-send.c - phones send mail: SMS SEND/REPLY and MMs become queued
 * mails; the life cycle of the sending thread (push-send-queue.c).
 *
 * Exports: see push-send.h; push_send_count() (push-send-private.h).
 *
 * Intake (any thread) does only store work: check the sender (bound,
 * not paused, SMTP set up, within the hourly budget), find the
 * recipients (an MM's mail addresses, else a command in its subject or
 * first text line), build the mail (a REPLY as a draft, see
 * convert-mo.h) and queue it in pm_outmail, deduped on the MM's ids.
 *
 * Limits: an MM's first text line is read as a command only up to
 * SEND_LINE_MAX bytes; one refusal SMS per number per
 * SEND_NOTICE_INTERVAL for MMs.
 * Logs: info per queued mail and per refused SMS command, warning for
 * refused MMs.  Never content or passwords.
 */
#include <string.h>
#include <time.h>

#include <openssl/sha.h>

#include "push-send-private.h"
#include "store-outmail.h"
#include "convert-mo.h"
#include "mailurl.h"
#include "msisdn.h"

#define SEND_LINE_MAX 1000
#define SEND_NOTICE_INTERVAL 600

/* 23.140 status codes of our refusals (mm7-soap.h names the others) */
#define MM7_OPERATION_RESTRICTED 2001
#define MM7_CONTENT_REFUSED 2004

void push_send_count(PushSend *ps, long *field)
{
    mutex_lock(ps->lock);
    (*field)++;
    mutex_unlock(ps->lock);
}

/* Queue an SMS to msisdn.  0 queued (or dropped over the SMS budget),
 * -1 store error. */
static int tell(PushSend *ps, const Octstr *msisdn, const char *fmt, ...)
{
    Octstr *text;
    va_list ap;
    int r;

    va_start(ap, fmt);
    text = octstr_format_valist(fmt, ap);
    va_end(ap);
    r = ps->sms(ps->sms_ctx, msisdn, text);
    octstr_destroy(text);
    return r < 0 ? -1 : 0;
}

static Octstr *join(List *l, const char *sep)
{
    Octstr *out = octstr_create("");
    long i;

    for (i = 0; l != NULL && i < gwlist_len(l); i++) {
        if (i > 0)
            octstr_append_cstr(out, sep);
        octstr_append(out, gwlist_get(l, i));
    }
    return out;
}

static int has_text(const Octstr *t)
{
    long i;

    for (i = 0; t != NULL && i < octstr_len(t); i++)
        if (!strchr(" \t\r\n", octstr_get_char(t, i)))
            return 1;
    return 0;
}

/* --- intake --------------------------------------------------------- */

/* NULL when b may send now, else a new phone-readable reason; *err_r
 * set to 1 on a store error. */
static Octstr *may_send(PushSend *ps, const StoreBinding *b, int *err_r)
{
    long n;

    *err_r = 0;
    if (b->paused)
        return octstr_create("Your number is paused (STOP): reply START, "
                             "then send again.");
    if (b->smtp_url == NULL || octstr_len(b->smtp_url) == 0 ||
        b->address == NULL || octstr_len(b->address) == 0)
        return octstr_create("Sending mail is not set up for your "
                             "number.");
    n = store_outmail_count_since(ps->store, b->msisdn, time(NULL) - 3600);
    if (n < 0) {
        *err_r = 1;
        return NULL;
    }
    if (n >= ps->cfg->send_budget)
        return octstr_format("You have sent %ld mails in the last hour, "
                             "the most allowed. Please try later.", n);
    return NULL;
}

static int copy_wanted(PushSend *ps, const StoreBinding *b)
{
    MailUrl *u;
    int imap;

    if (!ps->cfg->save_sent)
        return 0;
    u = mailurl_parse(b->mailbox_url, NULL);
    imap = u != NULL && u->proto == MAILURL_IMAP;
    mailurl_destroy(u);
    return imap;
}

/* Queue a built mail.  1 queued, 0 already queued (same ref), -1 error. */
static int enqueue(PushSend *ps, const StoreBinding *b, int origin,
                   const Octstr *ref, List *rcpts, const Octstr *message,
                   const Octstr *summary)
{
    StoreOutmail m;
    int r;

    memset(&m, 0, sizeof(m));
    m.id = store_new_id();
    m.msisdn = b->msisdn;
    m.origin = origin;
    m.ref = (Octstr *) ref;
    m.rcpts = join(rcpts, ",");
    m.message = (Octstr *) message;
    m.summary = (Octstr *) summary;
    m.copy_state = copy_wanted(ps, b) ? STORE_COPY_PENDING : STORE_COPY_NONE;
    r = store_outmail_add(ps->store, &m);
    if (r == 1) {
        info(0, "mail %s from %s queued (%s, %ld recipients, %ld bytes)",
             octstr_get_cstr(m.id), octstr_get_cstr(b->msisdn),
             origin == STORE_OUTMAIL_MMS ? "MMS" :
             origin == STORE_OUTMAIL_SMS_REPLY ? "SMS REPLY" : "SMS SEND",
             rcpts ? gwlist_len(rcpts) : 0, octstr_len(message));
        push_send_count(ps, &ps->stats.queued);
        push_send_kick(ps);
    } else if (r == 0) {
        info(0, "MMS from %s (%s) was queued before; not again",
             octstr_get_cstr(b->msisdn), octstr_get_cstr(ref));
    }
    octstr_destroy(m.id);
    octstr_destroy(m.rcpts);
    return r;
}

/*
 * The mail for one request: a new mail to rcpts or a reply draft for
 * mail reply_n (rcpts NULL).  Returns 1 queued/0 duplicate/-1 store
 * error, or 2 with *why_r set when it cannot be made.
 */
static int make_and_queue(PushSend *ps, const StoreBinding *b, int origin,
                          const Octstr *ref, List *rcpts, long reply_n,
                          const Octstr *subject, const Octstr *text,
                          const List *parts, Octstr **why_r)
{
    ConvertMoHead h;
    StoreMail *sm = NULL;
    Octstr *msg, *summary, *subj = NULL, *err = NULL;
    int r;

    memset(&h, 0, sizeof(h));
    h.from = b->address;
    if (reply_n > 0) {
        sm = store_mail_get(ps->store, b->msisdn, reply_n);
        if (sm == NULL) {
            *why_r = octstr_format("There is no mail %ld. Reply LIST for "
                                   "your latest mails.", reply_n);
            return 2;
        }
        subj = octstr_format("Re: %S", sm->subject ? sm->subject
                                                   : octstr_imm(""));
        h.draft_n = reply_n;
        summary = octstr_format("the sender of mail %ld", reply_n);
        store_mail_destroy(sm);
    } else {
        h.to = rcpts;
        subj = has_text(subject) ? octstr_duplicate(subject)
               : convert_mo_subject(text, ps->cfg->subject_words);
        summary = join(rcpts, ", ");
    }
    h.subject = subj;
    msg = convert_mo_build(&h, text, parts, NULL, &err);
    octstr_destroy(subj);
    if (msg == NULL) {
        *why_r = octstr_format("Mail not sent: %S.", err);
        octstr_destroy(err);
        octstr_destroy(summary);
        return 2;
    }
    if (octstr_len(msg) > STORE_OUTMAIL_MAX) {
        *why_r = octstr_create("Mail not sent: it is too large.");
        octstr_destroy(msg);
        octstr_destroy(summary);
        return 2;
    }
    r = enqueue(ps, b, origin, ref, rcpts, msg, summary);
    octstr_destroy(msg);
    octstr_destroy(summary);
    return r;
}

int push_send_sms_cmd(PushSend *ps, const StoreBinding *b,
                      const PushCmd *cmd, Octstr **answer_r)
{
    List *rcpts = NULL;
    Octstr *why = NULL, *err = NULL;
    int serr, r;

    *answer_r = NULL;
    if (ps == NULL || b == NULL || cmd == NULL ||
        (cmd->type != PUSH_CMD_SEND && cmd->type != PUSH_CMD_REPLY)) {
        *answer_r = octstr_create("Sending mail is not available.");
        return 0;
    }
    why = may_send(ps, b, &serr);
    if (serr)
        return -1;
    if (why == NULL && !has_text(cmd->text))
        why = cmd->type == PUSH_CMD_SEND
              ? octstr_create("Nothing to send: write SEND, the address, "
                              "then your text.")
              : octstr_format("Nothing to send: write REPLY %ld, then your "
                              "text.", cmd->n);
    if (why == NULL && cmd->type == PUSH_CMD_SEND) {
        rcpts = convert_mo_addresses(cmd->address, &err);
        if (rcpts == NULL) {
            why = octstr_format("Mail not sent: %S", err);
            octstr_destroy(err);
        }
    }
    if (why != NULL) {
        info(0, "%s from %s refused: %s", push_cmd_type_name(cmd->type),
             octstr_get_cstr(b->msisdn), octstr_get_cstr(why));
        push_send_count(ps, &ps->stats.refused);
        *answer_r = why;
        return 0;
    }
    r = make_and_queue(ps, b, cmd->type == PUSH_CMD_SEND
                       ? STORE_OUTMAIL_SMS_SEND : STORE_OUTMAIL_SMS_REPLY,
                       NULL, rcpts, cmd->type == PUSH_CMD_REPLY ? cmd->n : 0,
                       NULL, cmd->text, NULL, &why);
    gwlist_destroy(rcpts, octstr_destroy_item);
    if (r == 2) {
        push_send_count(ps, &ps->stats.refused);
        *answer_r = why;
        return 0;
    }
    return r < 0 ? -1 : 0;
}

/* --- MMS ------------------------------------------------------------ */

/* The dedupe key of a DeliverReq: MMSC id and the MM's id. */
static Octstr *mms_ref(const Mm7Deliver *d)
{
    const Octstr *id = d->message_id ? d->message_id
                       : d->linked_id ? d->linked_id : d->transaction_id;
    unsigned char md[SHA256_DIGEST_LENGTH];
    Octstr *ref, *h;
    long i;
    int ok;

    if (id == NULL || octstr_len(id) == 0)
        return octstr_create("");
    ref = octstr_format("mm7:%S:%S", d->mmsc_id ? d->mmsc_id
                                                : octstr_imm("-"), id);
    ok = octstr_len(ref) <= STORE_OUTMAIL_REF_MAX;
    for (i = 0; ok && i < octstr_len(ref); i++)
        ok = octstr_get_char(ref, i) > 0x20 && octstr_get_char(ref, i) < 0x7f;
    if (ok)
        return ref;
    SHA256((const unsigned char *) octstr_get_cstr(ref),
           (size_t) octstr_len(ref), md);
    h = octstr_create_from_data((const char *) md, sizeof(md));
    octstr_binary_to_hex(h, 0);
    octstr_insert(h, octstr_imm("mm7h:"), 0);
    octstr_destroy(ref);
    return h;
}

/*
 * A SEND or REPLY command in `t` (a subject or a first text line):
 * "SEND a@x,b@y text", "REPLY 3 text" or "a@x text".  Returns a new
 * PushCmd of type SEND, REPLY, or BAD (a SEND/REPLY with bad arguments,
 * error set), or NULL when `t` is no such command.
 */
static PushCmd *mms_cmd(const Octstr *t)
{
    Octstr *line, *first;
    PushCmd *c;
    long sp;
    int ours;

    if (t == NULL || octstr_len(t) == 0 || octstr_len(t) > SEND_LINE_MAX)
        return NULL;
    line = octstr_duplicate(t);
    octstr_strip_blanks(line);
    sp = 0;
    while (sp < octstr_len(line) && octstr_get_char(line, sp) != ' ' &&
           octstr_get_char(line, sp) != '\t')
        sp++;
    first = octstr_copy(line, 0, sp);
    if (octstr_search_char(first, '@', 0) > 0)
        octstr_insert(line, octstr_imm("SEND "), 0);
    ours = octstr_case_search(line, octstr_imm("send"), 0) == 0 ||
           octstr_case_search(line, octstr_imm("reply"), 0) == 0;
    octstr_destroy(first);
    c = push_cmd_parse(line);
    octstr_destroy(line);
    if (c->type == PUSH_CMD_SEND || c->type == PUSH_CMD_REPLY ||
        (ours && c->type == PUSH_CMD_BAD && c->error != NULL))
        return c;
    push_cmd_destroy(c);
    return NULL;
}

static int same_cmd(const PushCmd *a, const PushCmd *b)
{
    if (a == NULL || b == NULL || a->type != b->type)
        return 0;
    if (a->type == PUSH_CMD_REPLY)
        return a->n == b->n;
    return a->type == PUSH_CMD_SEND && a->address != NULL &&
           b->address != NULL &&
           octstr_case_compare(a->address, b->address) == 0;
}

/* The first line of text and the rest. */
static void split_first_line(const Octstr *text, Octstr **line_r,
                             Octstr **rest_r)
{
    long nl = octstr_search_char(text, '\n', 0);

    if (nl < 0) {
        *line_r = octstr_duplicate(text);
        *rest_r = octstr_create("");
    } else {
        *line_r = octstr_copy(text, 0, nl);
        *rest_r = octstr_copy(text, nl + 1, octstr_len(text));
    }
}

/* Text with the first line replaced by `head` (dropped when empty). */
static Octstr *with_first_line(const Octstr *head, const Octstr *rest)
{
    Octstr *t = octstr_duplicate(head ? head : octstr_imm(""));

    octstr_strip_blanks(t);
    if (octstr_len(t) > 0 && octstr_len(rest) > 0)
        octstr_append_char(t, '\n');
    octstr_append(t, rest);
    return t;
}

/* Refuse an MM of bound number b: SMS (at most one per
 * SEND_NOTICE_INTERVAL) and the MM7 code. */
static int mms_refuse(PushSend *ps, const StoreBinding *b, int code,
                      Octstr *why)
{
    warning(0, "MMS from %s refused (MM7 %d): %s",
            octstr_get_cstr(b->msisdn), code, octstr_get_cstr(why));
    push_send_count(ps, &ps->stats.refused);
    if (store_notice_allow(ps->store, b->msisdn, "mms-refused",
                           SEND_NOTICE_INTERVAL, time(NULL)) == 1)
        tell(ps, b->msisdn, "Your MMS was not sent as mail: %S", why);
    octstr_destroy(why);
    return code;
}

int push_send_mms(PushSend *ps, const StoreBinding *b, const Mm7Deliver *d)
{
    ConvertMm *mm;
    PushCmd *cmd = NULL, *lcmd = NULL, *use = NULL;
    List *emails = NULL, *rcpts = NULL;
    Octstr *why = NULL, *err = NULL, *ref, *line, *rest, *text = NULL;
    const Octstr *subject = NULL;
    long i, reply_n = 0;
    int serr, r;

    if (ps == NULL || b == NULL || d == NULL)
        return MM7_OPERATION_RESTRICTED;
    why = may_send(ps, b, &serr);
    if (serr)
        return -1;
    if (why != NULL)
        return mms_refuse(ps, b, MM7_OPERATION_RESTRICTED, why);
    mm = convert_mm_parse(d->content_type, d->content, &err);
    if (mm == NULL) {
        why = octstr_format("it cannot be read (%S).", err);
        octstr_destroy(err);
        return mms_refuse(ps, b, MM7_FORMAT_CORRUPT, why);
    }

    /* recipients: mail addresses among the MM's, else a command */
    emails = gwlist_create();
    for (i = 0; d->recipients != NULL && i < gwlist_len(d->recipients); i++)
        if (octstr_search_char(gwlist_get(d->recipients, i), '@', 0) >= 0)
            gwlist_append(emails, gwlist_get(d->recipients, i));
    split_first_line(mm->text, &line, &rest);
    if (gwlist_len(emails) > 0) {
        Octstr *all = join(emails, ",");
        rcpts = convert_mo_addresses(all, &err);
        octstr_destroy(all);
        subject = d->subject;
        text = octstr_duplicate(mm->text);
        if (rcpts == NULL) {
            why = err;
            err = NULL;
        }
    } else {
        /* a command in the subject, else in the first text line; the
         * first line repeating the subject's command is dropped */
        cmd = mms_cmd(d->subject);
        lcmd = mms_cmd(line);
        if (cmd != NULL && cmd->type != PUSH_CMD_BAD) {
            text = same_cmd(cmd, lcmd) ? with_first_line(lcmd->text, rest)
                                       : octstr_duplicate(mm->text);
            subject = cmd->text;
            use = cmd;
        } else if (lcmd != NULL && lcmd->type != PUSH_CMD_BAD) {
            text = with_first_line(lcmd->text, rest);
            subject = d->subject;
            use = lcmd;
        } else if (cmd != NULL || lcmd != NULL) {
            why = octstr_duplicate(cmd != NULL ? cmd->error : lcmd->error);
        } else {
            why = octstr_create("no mail address. Put one in the subject "
                                "or the first line, or REPLY and the mail "
                                "number.");
        }
        if (use != NULL && use->type == PUSH_CMD_REPLY) {
            reply_n = use->n;
        } else if (use != NULL) {
            rcpts = convert_mo_addresses(use->address, &err);
            if (rcpts == NULL) {
                why = err;
                err = NULL;
            }
        }
    }
    octstr_destroy(err);

    r = MM7_ADDRESS_ERROR;
    if (why == NULL) {
        ref = mms_ref(d);
        r = make_and_queue(ps, b, STORE_OUTMAIL_MMS, ref, rcpts, reply_n,
                           subject, text, mm->parts, &why);
        octstr_destroy(ref);
        if (r == 2)
            r = reply_n > 0 ? MM7_ADDRESS_ERROR : MM7_CONTENT_REFUSED;
        else if (r >= 0)
            r = 1;
    }
    if (why != NULL)
        r = mms_refuse(ps, b, r, why);
    push_cmd_destroy(cmd);
    push_cmd_destroy(lcmd);
    gwlist_destroy(emails, NULL);
    gwlist_destroy(rcpts, octstr_destroy_item);
    octstr_destroy(line);
    octstr_destroy(rest);
    octstr_destroy(text);
    convert_mm_destroy(mm);
    return r;
}

int push_send_mms_from(const Mm7Deliver *d, void *ctx)
{
    PushSend *ps = ctx;
    StoreBinding *b;
    Octstr *msisdn, *err = NULL;
    int r;

    if (ps == NULL || d == NULL || d->sender == NULL ||
        octstr_search_char(d->sender, '@', 0) >= 0) {
        warning(0, "MMS from a sender that is not a phone number refused");
        if (ps != NULL)
            push_send_count(ps, &ps->stats.refused);
        return MM7_OPERATION_RESTRICTED;
    }
    msisdn = msisdn_normalise(d->sender, ps->cfg->country_code,
                              ps->cfg->national_prefix, &err);
    if (msisdn == NULL) {
        warning(0, "MMS refused: sender: %s", octstr_get_cstr(err));
        octstr_destroy(err);
        push_send_count(ps, &ps->stats.refused);
        return MM7_OPERATION_RESTRICTED;
    }
    b = store_binding_get(ps->store, msisdn);
    if (b == NULL) {
        if (store_binding_count(ps->store) < 0) {
            octstr_destroy(msisdn);
            return -1;          /* the store, not the sender: retry */
        }
        info(0, "MMS from %s: not subscribed; refused",
             octstr_get_cstr(msisdn));
        push_send_count(ps, &ps->stats.refused);
        octstr_destroy(msisdn);
        return MM7_OPERATION_RESTRICTED;
    }
    r = push_send_mms(ps, b, d);
    store_binding_destroy(b);
    octstr_destroy(msisdn);
    return r;
}

/* --- life cycle ----------------------------------------------------- */

PushSend *push_send_create(const PmConfig *cfg, Store *store,
                           PushSendSmsFn *sms, void *sms_ctx)
{
    PushSend *ps;
    long n;

    if (cfg == NULL || store == NULL || sms == NULL)
        return NULL;
    ps = gw_malloc(sizeof(*ps));
    memset(ps, 0, sizeof(*ps));
    ps->cfg = cfg;
    ps->store = store;
    ps->sms = sms;
    ps->sms_ctx = sms_ctx;
    ps->lock = mutex_create();
    n = store_outmail_requeue(store);
    if (n > 0)
        warning(0, "%ld mails were being submitted when pushmailbox "
                "stopped; they are sent again", n);
    ps->thread = gwthread_create(push_send_thread, ps);
    if (ps->thread < 0) {
        error(0, "cannot start the mail sending thread");
        mutex_destroy(ps->lock);
        gw_free(ps);
        return NULL;
    }
    return ps;
}

void push_send_kick(PushSend *ps)
{
    if (ps != NULL && ps->thread >= 0)
        gwthread_wakeup(ps->thread);
}

void push_send_stats(PushSend *ps, PushSendStats *s_r)
{
    if (ps == NULL) {
        memset(s_r, 0, sizeof(*s_r));
        return;
    }
    mutex_lock(ps->lock);
    *s_r = ps->stats;
    mutex_unlock(ps->lock);
}

void push_send_stop(PushSend *ps)
{
    if (ps == NULL || ps->thread < 0)
        return;
    ps->stopping = 1;
    gwthread_wakeup(ps->thread);
    gwthread_join(ps->thread);
    ps->thread = -1;
}

void push_send_destroy(PushSend **ps)
{
    if (ps == NULL || *ps == NULL)
        return;
    push_send_stop(*ps);
    mutex_destroy((*ps)->lock);
    gw_free(*ps);
    *ps = NULL;
}
