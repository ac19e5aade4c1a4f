/*
 * pm-log.h - peer text made safe for a log line or a status page.
 *
 * Exports: pm_log_safe().
 *
 * Text that comes from peers (mail servers, bearerbox, phones) is cut to
 * a maximum and every byte below 0x20 or equal to 0x7F is replaced by
 * '?', so that a hostile peer cannot forge log lines or break a page
 * (Postfix's printable()).  Logs nothing.
 */
#ifndef PM_LOG_H
#define PM_LOG_H

#include "gwlib/gwlib.h"

/* A new Octstr: at most `max` bytes of `s` (NULL -> ""), control bytes
 * replaced by '?'.  A UTF-8 sequence cut at the end is dropped.  Any
 * thread. */
Octstr *pm_log_safe(const Octstr *s, long max);

#endif
