/*
 * wap-ppg.h - WAP push prompts through Kannel's PPG (wapbox `group =
 * ppg`) instead of bearerbox: PAP 2.0 push submissions over HTTP.
 *
 * Exports: WapPpg, wap_ppg_create(), wap_ppg_submit(), wap_ppg_destroy(),
 * wap_ppg_pap(), wap_ppg_result(), WAP_PPG_HOLD.
 *
 * The prompt is first stored as an ordinary MT (the SI over SMS, see
 * wap-si.h) whose next try lies WAP_PPG_HOLD seconds ahead, then handed
 * here.  One thread POSTs each push to ppg-url (HTTP Basic auth with
 * ppg-username/ppg-password) as multipart/related: the PAP control
 * entity (push-id = the MT id, address WAPPUSH=<msisdn>/TYPE=PLMN,
 * bearer SMS, unconfirmed) and the SI document (text/vnd.wap.si).
 * Headers X-Kannel-Smsbox-Id (our smsbox-id), X-Kannel-DLR-Url (the MT
 * id) and X-Kannel-DLR-Mask (dlr-mask) route the PPG's delivery reports
 * to our box, where they update the MT like any other.
 *   PAP code 1xxx: the MT is marked accepted (bearerbox never sends it).
 *   anything else, or no answer: the MT is released at once and goes
 *   out through bearerbox as an SI over SMS.
 * A push lost in a crash is released by its hold: never lost, at worst
 * sent twice.
 *
 * Limits: WAP_PPG_QUEUE_MAX pushes waiting; 10 s to connect, 30 s per
 * request (below WAP_PPG_HOLD); answers over 64 KB are refused; answers
 * are parsed with libxml2 without network, DTD or entities.
 * Logs: info per accepted push (number, PAP code), warning when the PPG
 * refuses or cannot be reached (PAP code and description, cut and made
 * printable); never the password or the link.
 * Threads: create/destroy from the main thread; submit from any thread.
 */
#ifndef WAP_PPG_H
#define WAP_PPG_H

#include "pm-cfg.h"
#include "store.h"

#define WAP_PPG_HOLD 120            /* s an MT waits for the PPG */
#define WAP_PPG_QUEUE_MAX 1000

typedef struct WapPpg WapPpg;

/*
 * Start the PPG client thread.  cfg (ppg_url set) and store must
 * outlive it.  NULL when ppg-url is not set or the thread cannot
 * start (logged).  Main thread.
 */
WapPpg *wap_ppg_create(const PmConfig *cfg, Store *store);

/*
 * Queue the push of `si_doc` (an SI document, wap_si_document()) to
 * msisdn for the stored MT `mt_id`.  Copies everything.  0 queued, -1
 * not (queue full or stopping: the MT's hold releases it later).
 */
int wap_ppg_submit(WapPpg *p, const Octstr *mt_id, const Octstr *msisdn,
                   const Octstr *si_doc);

/* Stop the thread (waiting pushes are left to their holds), free *p and
 * set it to NULL.  NULL is fine.  Main thread. */
void wap_ppg_destroy(WapPpg **p);

/*
 * The PAP multipart body for one push (exported for tests): `boundary`
 * without the leading dashes.  New Octstr.
 */
Octstr *wap_ppg_pap(const Octstr *push_id, const Octstr *msisdn,
                    const Octstr *boundary, const Octstr *si_doc);

/*
 * Read a PAP push-response (or badmessage-response): 0 with *code_r
 * and *desc_r (new, may be NULL) set; -1 when it is not one.  Parses
 * by local name, any namespace; no network, DTD or entities.
 */
int wap_ppg_result(const Octstr *xml, long *code_r, Octstr **desc_r);

#endif
