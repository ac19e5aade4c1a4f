/*
 * mm7-server.h - our MM7 endpoint: DeliveryReportReq / DeliverReq from
 * an MMSC, DLR GETs and MO POSTs from Mbuni's mmsbox.
 *
 * Exports: Mm7Server, mm7_server_start(), mm7_server_stop().
 *
 * One gwlib HTTP port per PmMmscConf with incoming_port != 0, bound to
 * incoming_interface, one accept thread each.  Every request must come
 * from an address in allow_ip and not in deny_ip (else 403), and carry
 * HTTP Basic auth matching incoming_username/incoming_password when a
 * username is configured (else 401).
 *
 *   POST /, POST /mm7...   MM7 SOAP (text/xml or multipart/related)
 *   GET  /mmsbox/dlr       mmsbox delivery report (X-Mbuni-* headers, or
 *                          query ?id=...&status=... from our dlr-url)
 *   POST /mmsbox/mo        mmsbox mms-service post-url (the MM as
 *                          multipart/form-data part or as the raw body)
 *
 * Limits: request body <= max_message_size * 2 + 64 KB (413 otherwise).
 * Logs: info per handled request (operation, MMSC id, ids only); warning
 *   for refused ones (address, reason).  Never logs passwords,
 *   Authorization headers or message contents.
 * Threads: start/stop from the main thread, after mm7_soap_init(); the
 *   callbacks run in the accept thread of the port (one request at a
 *   time per port).
 */
#ifndef MM7_SERVER_H
#define MM7_SERVER_H

#include "pm-cfg.h"
#include "mm7-soap.h"

typedef struct Mm7Server Mm7Server;

/*
 * Open a port for every cfg->mmscs entry with incoming_port != 0 and
 * start their threads.  report must not be NULL; deliver may be NULL
 * (DeliverReq is then refused with MM7 4003 "Unsupported operation").
 * cfg and ctx must outlive the server.  Returns NULL (after closing what
 * it opened) when a port cannot be opened or two MMSCs share one; an empty
 * server when no MMSC has an incoming port.  The ports must not be used by
 * any other gwlib listener of the process (admin-port, http-port): gwlib
 * keeps one entry per port number and a second open breaks the first.
 * Main thread only.
 */
Mm7Server *mm7_server_start(const PmConfig *cfg, Mm7ReportFn *report,
                            Mm7DeliverFn *deliver, void *ctx);

/* Close the ports, join the threads, free, set *s = NULL.  NULL is ok. */
void mm7_server_stop(Mm7Server **s);

#endif
