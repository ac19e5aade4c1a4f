/*
 * webview.h - pushmailbox's web view listener: the pages WAP push
 * prompts link to (one mail, one binding, one unguessable token).
 *
 * Exports: WebView, webview_start(), webview_stop(), webview_href().
 *
 * Listens on http-port (group pushmail), bound to http-interface; it
 * may face phones, usually behind a reverse proxy that adds TLS and
 * maps public-url to it (public-url's path prefix is the proxy's
 * business: requests here always start with "/m/").  Only addresses in
 * http-allow-ip and not in http-deny-ip are served; others are closed
 * without a reply.
 *
 *   GET /m/TOKEN          the mail's page (?p=N for page N)
 *   GET /m/TOKEN/img/K    picture K of the mail, scaled, image/jpeg
 *
 * Everything else, and an unknown, expired, revoked or malformed token,
 * gets the same plain 404.  Every response carries Cache-Control:
 * no-store, no-referrer and a content security policy that allows no
 * scripts.  The mail is fetched from the mailbox on demand (bounded by
 * max-mail-size; a few recent mails are kept in memory for minutes so
 * that paging and pictures do not fetch again).  Expired tokens are
 * purged from the store every hour.
 *
 * Logs: info per page or picture served (mail number and MSISDN);
 * warning when a mail cannot be fetched; debug under "box.webview".
 * Never a token, a request path or mail text.
 * Threads: one accepting thread and WEBVIEW_WORKERS workers.
 */
#ifndef WEBVIEW_H
#define WEBVIEW_H

#include "pm-cfg.h"
#include "store.h"

#define WEBVIEW_WORKERS 4

typedef struct WebView WebView;

/*
 * Open http-port and start the threads.  cfg and store must outlive the
 * listener.  Returns NULL when http-port is 0 (nothing to do; check
 * cfg->http_port first) or when the port cannot be opened (logged as an
 * error).  Main thread only; needs convert_init() and
 * convert_image_init() done.
 */
WebView *webview_start(const PmConfig *cfg, Store *store);

/* Close the port, finish or refuse queued requests, join the threads,
 * free *w and set it to NULL.  NULL is fine.  Main thread only. */
void webview_stop(WebView **w);

/*
 * The link for `token`: public-url (or http://http-interface:http-port
 * when public-url is not set) + "/m/" + token.  NULL when http-port is
 * 0.  New Octstr.  Any thread.
 */
Octstr *webview_href(const PmConfig *cfg, const Octstr *token);

#endif
