/*
 * convert-private.h - internals shared by convert-text.c and
 * convert-clean.c.  Not for other modules.
 *
 * All functions return a new Octstr (never NULL), take UTF-8 or raw
 * header text that they do not keep, log nothing and are thread-safe.
 */
#ifndef CONVERT_PRIVATE_H
#define CONVERT_PRIVATE_H

#include "gwlib/gwlib.h"

#define CONVERT_HEADER_MAX 4000     /* decoded header text, UTF-16 units */

/* One line from UTF-8 (NULL ok): invalid bytes -> U+FFFD, controls and
 * NBSP -> space, whitespace collapsed, trimmed, at most max_units
 * UTF-16 units (cut with "..."). */
Octstr *convert_clean_line(const char *s, long max_units);

/* Join the soft line breaks of format=flowed text (RFC 3676); delsp
 * removes the space before each soft break. */
Octstr *convert_unflow(const Octstr *text, int delsp);

/* Drop ">" quoted blocks with their "On ... wrote:" line, a signature
 * after "-- " and an Outlook "Original Message" tail; if nothing would
 * be left, a copy of the text. */
Octstr *convert_trim_quotes(const Octstr *text);

/* RFC 2047: merge = 0 decodes to UTF-8; merge = 1 returns the raw value
 * with adjacent same-charset encoded-words joined into one B word (for
 * GMime's address parser). */
Octstr *convert_rfc2047(const char *raw, int merge);

#endif
