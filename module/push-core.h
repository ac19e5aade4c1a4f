/*
 * push-core.h - the mail push core: new-mail events become prompts, MO
 * commands become actions.
 *
 * Exports: PushCore, push_core_create(), push_core_set_link(),
 * push_core_set_mms(), push_core_set_send(), push_core_notify(),
 * push_core_mo(), push_core_mo_batch_done(), push_core_stats(),
 * push_core_watch_status(), push_core_destroy().
 *
 * Threads: one "events" thread consumes the mail watcher's events, keeps
 * the watcher in step with the bindings in the store (checked every
 * reload-interval seconds) and sends prompts, coalescing bursts; a few MO
 * workers run the phone's commands, each MSISDN always on the same worker
 * so that its commands are answered in order.  Every outbound SMS is put
 * into the store's queue; the bearerbox link sends it.
 *
 * Logs: info per prompt and per command, warning for refused input,
 * error for store failures; debug under "box.core".
 */
#ifndef PUSH_CORE_H
#define PUSH_CORE_H

#include "gwlib/gwlib.h"
#include "gw/msg.h"
#include "pm-cfg.h"
#include "store.h"
#include "bearerbox-link.h"

typedef struct PushCore PushCore;

typedef struct {
    long prompts;           /* single-mail prompts queued */
    long summaries;         /* burst summary prompts queued */
    long commands;          /* MO commands answered */
    long unsubscribed;      /* MOs from numbers without a binding */
    long notices;           /* auth-failure and other notices */
    long mo_pending;        /* MOs stored, not yet answered */
    long events;            /* mail events handled */
} PushCoreStats;

/*
 * Create the core and start its threads and the mail watcher.  `cfg` and
 * `store` must outlive the core.  Returns NULL if a thread cannot start.
 * Main thread only.
 */
PushCore *push_core_create(const PmConfig *cfg, Store *store);

/* Give the core the link it kicks when it queues an MT.  Call once,
 * before MOs flow. */
void push_core_set_link(PushCore *core, BbLink *link);

/* Give the core the MMS client that GET uses for bindings whose
 * delivery mode is mms, and the mail sender that REPLY/SEND use.  Call
 * once each, before MOs flow (either may stay unset). */
struct MmsClient;
struct PushSend;
void push_core_set_mms(PushCore *core, struct MmsClient *mms);
void push_core_set_send(PushCore *core, struct PushSend *send);

/* Queue a notice SMS (one or two segments, within the number's hourly
 * budget) and send it soon: 0 queued, 1 over budget, -1 store error.
 * `core` is a PushCore*; for callbacks of the MMS client and the mail
 * sender.  Any thread. */
int push_core_notify(void *core, const Octstr *msisdn, const Octstr *text);

/* BbLinkMoHandler: store the MO (0) or fail (-1); `msg` is borrowed.
 * Called from the link thread. */
int push_core_mo(Msg *msg, void *core);

/* BbLinkBatchDone: MOs stored by push_core_mo() are answered only once
 * their batch is committed; dropped (bearerbox re-sends) otherwise.  Link
 * thread only. */
void push_core_mo_batch_done(int committed, void *core);

/* Copy the counters; any thread. */
void push_core_stats(PushCore *core, PushCoreStats *s_r);

/* The watcher's per-mailbox status (List of MailWatchStatus*, destroy
 * items with mail_watch_status_destroy_item); any thread. */
List *push_core_watch_status(PushCore *core);

/* Stop the threads and the watcher (joined); work that was stored but
 * not done is picked up at the next start.  The link may still call
 * push_core_mo() afterwards: those MOs are stored and answered at the
 * next start.  Main thread; idempotent. */
void push_core_stop(PushCore *core);

/* Stop (if not yet) and free; sets *core to NULL.  Call after the link
 * that calls into the core is destroyed. */
void push_core_destroy(PushCore **core);

#endif
