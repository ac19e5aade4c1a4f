/*
 * push-core-private.h - what push-core.c (events, prompts) and push-mo.c
 * (MO commands) share.  Not for other modules.
 */
#ifndef PUSH_CORE_PRIVATE_H
#define PUSH_CORE_PRIVATE_H

#include "push-core.h"
#include "mail-watch.h"
#include "wap-ppg.h"

#define PUSH_MO_WORKERS 4

/* One MO worker: its queue of StoreMo* and its thread. */
typedef struct {
    PushCore *core;
    List *queue;
    long thread;
} PushWorker;

struct PushCore {
    const PmConfig *cfg;
    Store *store;
    BbLink *link;
    WapPpg *ppg;                /* wap-push-via = ppg, else NULL */
    MailWatch *watch;
    volatile int stopping;
    int stopped;                /* push_core_stop() ran */

    List *events;               /* MailEvent*, from the watcher */
    List *retry;                /* MailEvent* the store refused; events
                                 * thread only */
    long events_thread;
    Dict *bursts;               /* msisdn -> PushBurst*; events thread */
    Dict *watched;              /* msisdn -> Octstr stamp; events thread */
    long generation;            /* last store_bindings_generation() */

    PushWorker workers[PUSH_MO_WORKERS];
    List *mo_deferred;          /* StoreMo*, stored in the link's open
                                 * batch; link thread only */

    struct MmsClient *mms;      /* GET as MMS; NULL: no MMSC */
    struct PushSend *send;      /* REPLY/SEND; NULL: not available */

    Mutex *lock;                /* guards stats */
    PushCoreStats stats;
};

/* Queue `text` (UTF-8) to `msisdn` as one MT of at most `segments`
 * segments (truncated to fit); when mark_from > 0 the mails
 * mark_from..mark_to are marked prompted in the same transaction.
 * Honours the per-number hourly budget.  0 queued, 1 over budget,
 * -1 store error.  Any thread. */
int push_send_text(PushCore *c, const Octstr *msisdn, const Octstr *text,
                   long segments, int kind, long mark_from, long mark_to);

void push_count(PushCore *c, long *field, long delta);

/* 1 after push_send_text() failed in this thread (see push-core.c). */
extern __thread int push_send_failed;

/* push-mo.c */
void push_mo_thread(void *arg);
void push_mo_dispatch(PushCore *c, StoreMo *mo);

#endif
