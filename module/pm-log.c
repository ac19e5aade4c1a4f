/*
 * pm-log.c - peer text made safe for a log line or a status page.
 */
#include "pm-log.h"

Octstr *pm_log_safe(const Octstr *s, long max)
{
    Octstr *r;
    long i, n;

    if (s == NULL)
        return octstr_create("");
    r = octstr_copy(s, 0, max);
    n = octstr_len(r);
    if (octstr_len(s) > max) {
        /* do not end inside a UTF-8 sequence */
        while (n > 0 && (octstr_get_char(r, n - 1) & 0xC0) == 0x80)
            n--;
        if (n > 0 && (octstr_get_char(r, n - 1) & 0xC0) == 0xC0)
            n--;
        octstr_truncate(r, n);
    }
    for (i = 0; i < n; i++) {
        int ch = octstr_get_char(r, i);

        if (ch < 0x20 || ch == 0x7F)
            octstr_set_char(r, i, '?');
    }
    return r;
}
