/*
 * push-send.h - phones send mail: SMS SEND/REPLY and MMS (MM7 DeliverReq
 * or mmsbox MO) become mail from the bound mailbox, queued durably and
 * submitted over SMTP by a thread of their own.
 *
 * Exports: PushSend, PushSendSmsFn, PushSendStats, push_send_create(),
 * push_send_sms_cmd(), push_send_mms(), push_send_mms_from(),
 * push_send_kick(), push_send_stats(), push_send_stop(),
 * push_send_destroy().
 *
 * Who may send: a bound number that is not paused (STOP), whose binding
 * has an SMTP URL and a mail address, within send-budget mails per hour.
 * From is the binding's address; SMTP login is the SMTP URL's user, else
 * the mailbox URL's user, with the binding's secret.
 *
 * The queue (store-outmail.h) keeps every mail until the SMTP server
 * takes it or refuses it: temporary failures (4xx, no connection,
 * timeouts) are retried with jittered exponential backoff (15 s doubling
 * to 30 min) until send-retry-time after queueing, then given up with an
 * SMS; a permanent refusal (5xx) fails the mail at once with one SMS
 * naming the server's reason.  A sent mail gets the "Sent to ..." SMS
 * (send-confirm) and, with save-sent and an IMAP mailbox, a copy
 * APPENDed to sent-folder (retried like sending, never resent).  A REPLY
 * is queued as a draft and completed by the thread: it fetches the
 * original mail for its Reply-To/From and threading headers.
 *
 * Restarts: a mail is marked SENDING before each submission and SENT
 * (or QUEUED again) after it; push_send_stop() lets a submission in
 * progress finish, so an orderly restart sends nothing twice.  Only a
 * crash during a submission leaves a SENDING row, which is sent again
 * at the next start with the same Message-ID.
 *
 * Logs: info per queued and per sent/failed mail (number, queue id,
 * recipient count; never addresses' passwords or content), warning for
 * refused requests, error for store failures.
 * Threads: the create/stop/destroy calls from the main thread; the
 * others from any thread.
 */
#ifndef PUSH_SEND_H
#define PUSH_SEND_H

#include "gwlib/gwlib.h"
#include "pm-cfg.h"
#include "store.h"
#include "push-cmd.h"
#include "mm7-soap.h"

typedef struct PushSend PushSend;

/* Queue `text` (UTF-8, one or two segments) as an SMS to msisdn: 0
 * queued, 1 over the SMS budget (dropped), -1 store error.  Called from
 * the sending thread and from the callers of push_send_sms_cmd() and
 * push_send_mms(), never with a PushSend lock held.  push_core_notify()
 * fits. */
typedef int PushSendSmsFn(void *ctx, const Octstr *msisdn,
                          const Octstr *text);

typedef struct {
    long queued;        /* mails queued (SMS and MMS) */
    long refused;       /* requests answered with an error, no mail */
    long sent;          /* mails the SMTP server took */
    long failed;        /* refused by the server or given up */
    long retries;       /* temporary failures */
    long copies;        /* Sent copies made */
} PushSendStats;

/*
 * Start the sending thread.  `cfg` and `store` must outlive it; `sms`
 * and `sms_ctx` are called for confirmations and failures.  Mails left
 * SENDING by a crash are queued again first.  Returns NULL when the
 * thread cannot start.  Main thread.
 */
PushSend *push_send_create(const PmConfig *cfg, Store *store,
                           PushSendSmsFn *sms, void *sms_ctx);

/*
 * SEND or REPLY from bound number b (cmd->type PUSH_CMD_SEND or
 * PUSH_CMD_REPLY; anything else is an error answer).  Only store work,
 * no network: safe inside a store batch.  Returns 0 with *answer_r NULL
 * when the mail was queued (the confirmation comes later), or 0 with
 * *answer_r a new Octstr to send now (bad address, over the budget, no
 * SMTP URL, no such mail n, empty text, paused); -1 when the store
 * failed (the MO stays pending and is answered again).
 */
int push_send_sms_cmd(PushSend *ps, const StoreBinding *b,
                      const PushCmd *cmd, Octstr **answer_r);

/*
 * An MM from bound number b (NULL: refused) to mail: recipients that
 * are mail addresses get it; an MM only to short codes takes its
 * recipient from the subject or, failing that, from the first text line
 * ("bob@example.com ...", "SEND a@x,b@y ...", "REPLY 3 ...").  The same
 * DeliverReq again (same MMSC and MessageID/TransactionID) is queued
 * once.  Returns as Mm7DeliverFn: 1 queued (MM7 1000); -1 store error
 * (HTTP 503: the MMSC retries); 2001 not allowed (unbound, paused, no
 * SMTP URL, over budget); 2002 no usable recipient; 2007 the MM cannot
 * be read.  Refusals of a bound number also get an SMS saying why.
 * Any thread (the MM7 endpoint's).
 */
int push_send_mms(PushSend *ps, const StoreBinding *b, const Mm7Deliver *d);

/*
 * The whole Mm7DeliverFn: normalises d->sender (country-code,
 * national-prefix), looks up its binding and calls push_send_mms();
 * an unknown or unbound sender is refused with 2001 and no SMS.
 * `ctx` is the PushSend.  Returns as push_send_mms().
 */
int push_send_mms_from(const Mm7Deliver *d, void *ctx);

/* Wake the sending thread (e.g. after a batch that queued mail has
 * committed).  Any thread. */
void push_send_kick(PushSend *ps);

/* Copy the counters.  Any thread. */
void push_send_stats(PushSend *ps, PushSendStats *s_r);

/* Stop the thread after the mail in hand; idempotent.  Main thread. */
void push_send_stop(PushSend *ps);

/* Stop (if not yet) and free; sets *ps = NULL.  NULL is fine. */
void push_send_destroy(PushSend **ps);

#endif
