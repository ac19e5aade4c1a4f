/*
 * bearerbox-link.h - pushmailbox's connection to Kannel's bearerbox.
 *
 * Exports: BbLink, bb_link_create(), bb_link_kick(), bb_link_state(),
 * bb_link_counters(), bb_link_destroy().
 *
 * One thread owns the connection to bearerbox's smsbox-port.  It
 * identifies as `smsbox-id` (admin cmd_identify), sends heartbeats, takes
 * due MTs from the store's outbound queue, sends them with `dlr_url` set
 * to the queue id, and marks them by bearerbox's acks.  MOs go to the
 * caller's handler; DLRs are stored; both are acked to bearerbox only
 * after they are durably stored.  What arrives in one go is stored in
 * one store batch (group commit): one disk sync for a burst, not one
 * each.  An MT that bearerbox defers 10 times is marked failed.  When
 * bearerbox goes away the thread reconnects with jittered backoff and
 * re-sends every MT that was not acked (at-least-once towards
 * bearerbox).
 *
 * Logs: info on connect/disconnect, warning on odd messages, error on
 * store failures; debug under "box.link".
 */
#ifndef BEARERBOX_LINK_H
#define BEARERBOX_LINK_H

#include "gwlib/gwlib.h"
#include "gw/msg.h"
#include "store.h"

typedef struct BbLink BbLink;

/*
 * Called in the link thread for each MO.  `msg` is borrowed.  Return 0
 * once the MO is durably stored (the link then acks it), -1 when it could
 * not be (the link drops the connection so that bearerbox re-queues it).
 */
typedef int BbLinkMoHandler(Msg *msg, void *ctx);

/*
 * Called in the link thread after each group of messages read in one go
 * (MOs, DLRs, acks) was stored in one store batch: committed = 1 when it
 * was (the MOs will be acked), 0 when it rolled back (they will not be,
 * and bearerbox will send them again).  MO handlers must not act on an
 * MO before this says it is committed.
 */
typedef void BbLinkBatchDone(int committed, void *ctx);

typedef struct {
    Octstr *host;
    long port;
    int ssl;
    Octstr *smsbox_id;
    long dlr_mask;
} BbLinkConf;

typedef struct {
    long mo;            /* MOs received and stored */
    long dlr;           /* DLRs received */
    long mt_sent;       /* MTs written to bearerbox */
    long mt_acked;      /* ... and accepted by it */
    long mt_failed;     /* ... refused for good */
    long in_flight;     /* written, not yet acked */
    long connects;
} BbLinkCounters;

/*
 * Start the link thread.  The conf is copied; `store` and `ctx` must
 * outlive the link.  batch_done may be NULL.  Returns NULL if the thread
 * cannot start.
 */
BbLink *bb_link_create(const BbLinkConf *conf, Store *store,
                       BbLinkMoHandler *mo_handler,
                       BbLinkBatchDone *batch_done, void *ctx);

/* Tell the link that new MTs are queued.  Any thread. */
void bb_link_kick(BbLink *link);

/* "connected", "connecting" or "down".  Any thread; static string. */
const char *bb_link_state(BbLink *link);

/* Copy the counters.  Any thread. */
void bb_link_counters(BbLink *link, BbLinkCounters *c_r);

/* Stop the thread and close the connection; sets *link to NULL. */
void bb_link_destroy(BbLink **link);

#endif
