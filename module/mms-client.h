/*
 * mms-client.h - submits queued MMs to their MMSC: MM7 SubmitReq (we are
 * the VASP) or Mbuni mmsbox's sendmms, from the store's MM queue.
 *
 * Exports: MmsClient, MmsClientCounters, mms_client_create(),
 * mms_client_kick(), mms_client_counters(), mms_client_destroy().
 *
 * One thread takes due MMs (store-mms.h) in small groups, marks them
 * SUBMITTING, sends them (libcurl, several requests in flight per MMSC,
 * HTTP Basic auth) and records each answer in one store batch:
 *   1xxx            accepted: the MMSC's MessageID is stored;
 *   2xxx            permanent: FAILED, the phone is told once by SMS;
 *   3xxx, 4xxx, other HTTP errors, timeouts: retried with exponential
 *                   backoff and jitter until retry-max-time, then FAILED
 *                   and the phone is told;
 *   HTTP 409, 503   also slow that MMSC down (its next requests wait).
 * max-throughput (MMs per second per MMSC) is never exceeded.
 *
 * Logs: info per MM accepted or failed (id, number, status), warning
 * per retry; never content or credentials; debug under "box.mms".
 */
#ifndef MMS_CLIENT_H
#define MMS_CLIENT_H

#include "gwlib/gwlib.h"
#include "pm-cfg.h"
#include "store.h"

typedef struct MmsClient MmsClient;

/* Queue an SMS to the phone (a permanent failure); 0 queued. */
typedef int MmsNotifyFn(void *ctx, const Octstr *msisdn, const Octstr *text);

typedef struct {
    long submitted;     /* requests sent */
    long accepted;      /* 1xxx */
    long failed;        /* given up */
    long retried;       /* temporary failures */
    long throttled;     /* 409 / 503 */
} MmsClientCounters;

/* Start the thread.  cfg, store and ctx outlive the client.  Call after
 * curl_global_init().  NULL if the thread cannot start. */
MmsClient *mms_client_create(const PmConfig *cfg, Store *store,
                             MmsNotifyFn *notify, void *ctx);

/* New MMs are queued.  Any thread. */
void mms_client_kick(MmsClient *c);

void mms_client_counters(MmsClient *c, MmsClientCounters *r);

/* Stop the thread (an MM being sent is finished or left SUBMITTING, to
 * be sent again at the next start) and free; sets *c to NULL. */
void mms_client_destroy(MmsClient **c);

#endif
