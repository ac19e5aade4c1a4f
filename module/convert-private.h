/*
 * convert-private.h - internals shared by the mail converters
 * (convert-text.c, convert-clean.c, convert-mms.c) and the web view's
 * page builder (webview-page.c), which also walks a mail's parts.  Not
 * for other modules.
 *
 * Unless noted, functions return a new Octstr (never NULL), take UTF-8
 * or raw header text that they do not keep, log nothing and are
 * thread-safe.
 */
#ifndef CONVERT_PRIVATE_H
#define CONVERT_PRIVATE_H

#include <gmime/gmime.h>

#include "gwlib/gwlib.h"

/*
 * The one guarded GMime parse of a raw mail: refuses an empty mail, one
 * over CONVERT_MAX_MAIL bytes, or one naming more than CONVERT_MAX_PARTS
 * multipart/message types (a bound on the tree GMime builds), then
 * parses with loose RFC compliance.  `o`: parser options to use (NULL:
 * the loose defaults).  Returns a new message (g_object_unref it), or
 * NULL with *why_r (if not NULL) set to a static reason.
 */
GMimeMessage *convert_mime_message(const Octstr *raw, GMimeParserOptions *o,
                                   const char **why_r);

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
