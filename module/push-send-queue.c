/*
 * push-send-queue.c - the sending thread: takes due mails from the queue
 * (pm_outmail) oldest first, completes reply drafts, submits over SMTP,
 * makes the Sent copies, and tells the phone how it went.
 *
 * Exports: push_send_thread() (push-send-private.h).
 *
 * Per mail: a reply draft is completed first (the original is fetched
 * for its Reply-To/From and threading headers; a fetch that fails for
 * now is retried like a submission).  The row is marked SENDING before
 * the submission, then SENT (in one store batch with the confirmation
 * SMS), QUEUED with a later next_try, or FAILED (in one batch with the
 * failure SMS).  A Sent copy is APPENDed once the SMTP server took the
 * mail, and retried on its own until send-retry-time.
 *
 * Limits: SEND_DUE_MAX rows per pass, a pass every SEND_POLL_SECS when
 * idle (or at once when kicked); backoff SEND_BACKOFF_MIN doubling to
 * SEND_BACKOFF_MAX seconds, +-25% jitter; finished rows purged after
 * SEND_KEEP; reasons in SMS cut to SEND_REASON_MAX bytes; originals
 * fetched up to SEND_ORIGINAL_MAX bytes (the header is what counts).
 * Logs: info per sent mail, temporary failure and Sent copy; warning
 * per failed mail or copy; error when a state cannot be stored.  Never
 * content or passwords.
 */
#include <string.h>
#include <time.h>

#include "push-send-private.h"
#include "store-outmail.h"
#include "convert-mo.h"
#include "mail-smtp.h"
#include "mail-fetch.h"
#include "mailurl.h"
#include "pm-secret.h"

#define SEND_POLL_SECS 2
#define SEND_DUE_MAX 16
#define SEND_BACKOFF_MIN 15
#define SEND_BACKOFF_MAX 1800
#define SEND_KEEP (7 * 86400L)
#define SEND_PURGE_EVERY 3600
#define SEND_REASON_MAX 100
#define SEND_ORIGINAL_MAX (256L * 1024)

/* A peer's reason, short and printable ASCII, for an SMS. */
static Octstr *short_reason(const Octstr *why)
{
    Octstr *r = octstr_create("");
    long i;

    for (i = 0; why != NULL && i < octstr_len(why); i++) {
        int c = octstr_get_char(why, i);
        octstr_append_char(r, c >= 0x20 && c < 0x7f ? c : '?');
    }
    if (octstr_len(r) > SEND_REASON_MAX) {
        octstr_truncate(r, SEND_REASON_MAX - 3);
        octstr_append_cstr(r, "...");
    }
    if (octstr_len(r) == 0)
        octstr_append_cstr(r, "unknown error");
    return r;
}

static long backoff(long attempts)
{
    long s = SEND_BACKOFF_MIN, j;

    while (attempts-- > 1 && s < SEND_BACKOFF_MAX)
        s *= 2;
    if (s > SEND_BACKOFF_MAX)
        s = SEND_BACKOFF_MAX;
    j = s / 4;
    return s - j + (long) (gw_rand() % (2 * j + 1));
}

/* Record a final state and tell the phone in one store batch (neither
 * without the other); outside a batch when one cannot be opened. */
static void finish(PushSend *ps, StoreOutmail *m, int state, int copy,
                   const Octstr *last_error, const Octstr *sms)
{
    int batch = store_batch_begin(ps->store) == 0, ok;

    ok = store_outmail_set_state(ps->store, m->id, state, copy, m->attempts,
                                 time(NULL), last_error) == 1;
    if (ok && sms != NULL && ps->sms(ps->sms_ctx, m->msisdn, sms) < 0)
        ok = 0;
    if (batch && store_batch_end(ps->store, ok) < 0 && ok) {
        /* the batch failed: the state first, the SMS best effort */
        ok = store_outmail_set_state(ps->store, m->id, state, copy,
                                     m->attempts, time(NULL),
                                     last_error) == 1;
        if (ok && sms != NULL)
            ps->sms(ps->sms_ctx, m->msisdn, sms);
    }
    if (!ok)
        error(0, "mail %s from %s: its new state could not be stored",
              octstr_get_cstr(m->id), octstr_get_cstr(m->msisdn));
    m->state = state;
    m->copy_state = copy;
}

static void fail(PushSend *ps, StoreOutmail *m, const Octstr *why,
                 int tell_phone)
{
    Octstr *r = short_reason(why), *sms = NULL;

    warning(0, "mail %s from %s not sent: %s", octstr_get_cstr(m->id),
            octstr_get_cstr(m->msisdn), octstr_get_cstr(r));
    if (tell_phone)
        sms = octstr_format("Mail to %S not sent: %S", m->summary, r);
    finish(ps, m, STORE_OUTMAIL_FAILED, STORE_COPY_NONE, r, sms);
    push_send_count(ps, &ps->stats.failed);
    octstr_destroy(sms);
    octstr_destroy(r);
}

/* A temporary failure: later, or given up after send-retry-time. */
static void later(PushSend *ps, StoreOutmail *m, const Octstr *why)
{
    long now = time(NULL), next = now + backoff(m->attempts);
    Octstr *r = short_reason(why), *w;

    if (ps->stopping) {
        /* not a failure: stopped mid-way, try first thing next time */
        store_outmail_set_state(ps->store, m->id, m->state, m->copy_state,
                                m->attempts > 0 ? m->attempts - 1 : 0, now,
                                m->last_error);
        octstr_destroy(r);
        return;
    }
    push_send_count(ps, &ps->stats.retries);
    if (next >= m->created + ps->cfg->send_retry_time) {
        long age = now - m->created;

        w = age < 7200 ? octstr_format("the mail server did not take it "
                                       "within %ld minutes (%S)",
                                       (age + 59) / 60, r)
                       : octstr_format("the mail server did not take it "
                                       "within %ld hours (%S)",
                                       (age + 1800) / 3600, r);
        fail(ps, m, w, 1);
        octstr_destroy(w);
        octstr_destroy(r);
        return;
    }
    info(0, "mail %s from %s: temporary failure (%s); next try in %ld s",
         octstr_get_cstr(m->id), octstr_get_cstr(m->msisdn),
         octstr_get_cstr(r), next - now);
    if (store_outmail_set_state(ps->store, m->id, m->state, m->copy_state,
                                m->attempts, next, r) != 1)
        error(0, "mail %s: its retry time could not be stored",
              octstr_get_cstr(m->id));
    octstr_destroy(r);
}

/* APPEND the Sent copy of a sent mail. */
static void copy_sent(PushSend *ps, StoreOutmail *m, const StoreBinding *b,
                      const Octstr *secret)
{
    MailUrl *url = mailurl_parse(b->mailbox_url, NULL);
    Octstr *why = NULL, *r;
    long now = time(NULL), next;
    int k;

    k = url == NULL || secret == NULL ? MAIL_SMTP_PERM
        : mail_smtp_append(url, secret, ps->cfg->sent_folder, m->message,
                           ps->cfg->ca_file, ps->cfg->connect_timeout,
                           &ps->stopping, &why);
    mailurl_destroy(url);
    m->attempts++;
    next = now + backoff(m->attempts);
    r = short_reason(why);
    if (k == MAIL_SMTP_SENT) {
        info(0, "mail %s from %s: copy saved in %s", octstr_get_cstr(m->id),
             octstr_get_cstr(m->msisdn),
             octstr_get_cstr(ps->cfg->sent_folder));
        push_send_count(ps, &ps->stats.copies);
        store_outmail_set_state(ps->store, m->id, STORE_OUTMAIL_SENT,
                                STORE_COPY_DONE, m->attempts, now, NULL);
    } else if (k == MAIL_SMTP_TEMP && ps->stopping) {
        store_outmail_set_state(ps->store, m->id, STORE_OUTMAIL_SENT,
                                STORE_COPY_PENDING, m->attempts, now, r);
    } else if (k == MAIL_SMTP_TEMP &&
               next < m->created + ps->cfg->send_retry_time) {
        info(0, "mail %s from %s: Sent copy failed for now (%s)",
             octstr_get_cstr(m->id), octstr_get_cstr(m->msisdn),
             octstr_get_cstr(r));
        store_outmail_set_state(ps->store, m->id, STORE_OUTMAIL_SENT,
                                STORE_COPY_PENDING, m->attempts, next, r);
    } else {
        warning(0, "mail %s from %s: no copy in the Sent folder: %s",
                octstr_get_cstr(m->id), octstr_get_cstr(m->msisdn),
                octstr_get_cstr(r));
        store_outmail_set_state(ps->store, m->id, STORE_OUTMAIL_SENT,
                                STORE_COPY_FAILED, m->attempts, now, r);
    }
    octstr_destroy(r);
    octstr_destroy(why);
}

/*
 * Complete a reply draft: fetch the original and set To and the
 * threading headers.  0 done (m updated), 1 not now (handled: failed
 * or later).
 */
static int complete_reply(PushSend *ps, StoreOutmail *m,
                          const StoreBinding *b, const Octstr *secret)
{
    long n = convert_mo_draft_n(m->message);
    StoreMail *sm = store_mail_get(ps->store, m->msisdn, n);
    MailUrl *url = mailurl_parse(b->mailbox_url, NULL);
    Octstr *raw = NULL, *err = NULL, *done = NULL, *to = NULL;
    int r;

    if (sm == NULL || url == NULL || secret == NULL) {
        err = sm == NULL ? octstr_format("mail %ld is not in your list any "
                                         "more", n)
                         : octstr_create("your mailbox settings are "
                                         "unusable");
        fail(ps, m, err, 1);
        goto out;
    }
    r = mail_fetch_message(url, secret, ps->cfg->ca_file,
                           ps->cfg->connect_timeout, sm->uidvalidity,
                           sm->uid, sm->uidl, SEND_ORIGINAL_MAX, &raw,
                           &err);
    if (r == -2) {
        octstr_destroy(err);
        err = octstr_format("mail %ld is no longer in your mailbox", n);
        fail(ps, m, err, 1);
        goto out;
    }
    if (r < 0) {
        m->attempts++;
        later(ps, m, err);
        goto out;
    }
    octstr_destroy(err);
    err = NULL;
    done = convert_mo_reply_complete(m->message, raw, &to, &err);
    if (done == NULL) {
        fail(ps, m, err, 1);
        goto out;
    }
    if (store_outmail_set_message(ps->store, m->id, to, done, to) != 1) {
        error(0, "mail %s: the completed reply could not be stored",
              octstr_get_cstr(m->id));
        goto out;               /* tried again at the next pass */
    }
    octstr_destroy(m->message);
    octstr_destroy(m->rcpts);
    octstr_destroy(m->summary);
    m->message = done;
    m->rcpts = octstr_duplicate(to);
    m->summary = to;
    done = to = NULL;
    store_mail_destroy(sm);
    mailurl_destroy(url);
    octstr_destroy(raw);
    return 0;
out:
    store_mail_destroy(sm);
    mailurl_destroy(url);
    octstr_destroy(raw);
    octstr_destroy(err);
    octstr_destroy(done);
    octstr_destroy(to);
    return 1;
}

/* Submit m over b's SMTP server. */
static void submit(PushSend *ps, StoreOutmail *m, const StoreBinding *b,
                   const Octstr *secret)
{
    MailSmtpServer srv;
    MailUrl *mbox;
    List *rcpts;
    Octstr *why = NULL, *sms = NULL;
    int k;

    if (b->smtp_url == NULL || octstr_len(b->smtp_url) == 0 ||
        b->address == NULL || octstr_len(b->address) == 0) {
        why = octstr_create("sending mail is not set up for your number");
        fail(ps, m, why, 1);
        octstr_destroy(why);
        return;
    }
    m->attempts++;
    if (store_outmail_set_state(ps->store, m->id, STORE_OUTMAIL_SENDING,
                                m->copy_state, m->attempts, m->next_try,
                                m->last_error) != 1)
        return;                 /* the store is unwell: next pass */
    m->state = STORE_OUTMAIL_SENDING;
    mbox = mailurl_parse(b->mailbox_url, NULL);
    memset(&srv, 0, sizeof(srv));
    srv.url = b->smtp_url;
    srv.user = mbox != NULL ? mbox->user : NULL;
    srv.secret = secret;
    srv.ca_file = ps->cfg->ca_file;
    srv.timeout = ps->cfg->connect_timeout;
    srv.cancel = &ps->stopping;
    rcpts = octstr_split(m->rcpts, octstr_imm(","));
    k = mail_smtp_send(&srv, b->address, rcpts, m->message, &why);
    gwlist_destroy(rcpts, octstr_destroy_item);
    mailurl_destroy(mbox);
    if (k == MAIL_SMTP_SENT) {
        info(0, "mail %s from %s sent (attempt %ld)", octstr_get_cstr(m->id),
             octstr_get_cstr(m->msisdn), m->attempts);
        if (ps->cfg->send_confirm)
            sms = octstr_format("Sent to %S.", m->summary);
        finish(ps, m, STORE_OUTMAIL_SENT, m->copy_state, NULL, sms);
        push_send_count(ps, &ps->stats.sent);
        octstr_destroy(sms);
        if (m->copy_state == STORE_COPY_PENDING && !ps->stopping)
            copy_sent(ps, m, b, secret);
    } else if (k == MAIL_SMTP_TEMP) {
        m->state = STORE_OUTMAIL_QUEUED;
        later(ps, m, why);
    } else {
        fail(ps, m, why, 1);
    }
    octstr_destroy(why);
}

static void send_one(PushSend *ps, StoreOutmail *m)
{
    StoreBinding *b = store_binding_get(ps->store, m->msisdn);
    Octstr *secret;

    if (b == NULL) {
        if (store_binding_count(ps->store) >= 0)
            fail(ps, m, octstr_imm("the number is no longer bound"), 0);
        return;
    }
    secret = store_binding_secret(ps->store, m->msisdn);
    if (m->state == STORE_OUTMAIL_SENT)
        copy_sent(ps, m, b, secret);
    else if (convert_mo_draft_n(m->message) == 0 ||
             complete_reply(ps, m, b, secret) == 0)
        submit(ps, m, b, secret);
    pm_secret_wipe(secret);
    store_binding_destroy(b);
}

void push_send_thread(void *arg)
{
    PushSend *ps = arg;
    StoreOutmail *m;
    List *due;
    long now, last_purge = 0, handled;

    while (!ps->stopping) {
        now = time(NULL);
        if (now - last_purge >= SEND_PURGE_EVERY) {
            store_outmail_purge(ps->store, now - SEND_KEEP);
            last_purge = now;
        }
        due = store_outmail_due(ps->store, now, SEND_DUE_MAX);
        handled = 0;
        while (due != NULL && !ps->stopping &&
               (m = gwlist_extract_first(due)) != NULL) {
            send_one(ps, m);
            store_outmail_destroy(m);
            handled++;
        }
        gwlist_destroy(due, store_outmail_destroy_item);
        if (handled == 0 && !ps->stopping)
            gwthread_sleep(SEND_POLL_SECS);
    }
}
