/*
 * admin-http.h - pushmailbox's admin HTTP listener (/status, /shutdown).
 *
 * Exports: AdminHttp, admin_http_start(), admin_http_stop().
 *
 * Listens on admin-port, bound to admin-interface (127.0.0.1 by default);
 * only addresses in admin-allow-ip (and not in admin-deny-ip) are served.
 * Every request needs ?password=admin-password.
 *
 *   /status, /status.txt   plain text
 *   /status.xml            XML
 *   /shutdown              asks pushmailbox to stop (like SIGTERM)
 *
 * Logs: info on start; warning for refused clients (address only).
 */
#ifndef ADMIN_HTTP_H
#define ADMIN_HTTP_H

#include "pm-cfg.h"
#include "store.h"
#include "bearerbox-link.h"
#include "push-core.h"

typedef struct AdminHttp AdminHttp;

/* Called (from the admin thread) when /shutdown is requested. */
typedef void AdminShutdownFn(void);

/*
 * Open the port and start the thread.  Everything passed must outlive the
 * listener.  NULL if the port cannot be opened.  Main thread only.
 */
AdminHttp *admin_http_start(const PmConfig *cfg, Store *store,
                            BbLink *link, PushCore *core,
                            AdminShutdownFn *shutdown);

/* Close the port, join the thread, set *a to NULL. */
void admin_http_stop(AdminHttp **a);

#endif
