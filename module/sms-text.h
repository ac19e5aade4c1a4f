/*
 * sms-text.h - SMS text coding: GSM 03.38 7-bit versus UCS-2, length
 * in units, truncation and paging for Kannel MT messages.
 *
 * Exports: sms_text_is_gsm, sms_text_units, sms_text_capacity,
 *          sms_text_fit, sms_text_pages, sms_text_msgdata,
 *          sms_text_cut, sms_text_sanitize.
 *
 * All input is UTF-8 Octstr.  Invalid UTF-8 bytes are treated as U+FFFD
 * (which is not GSM, so it forces UCS-2); output never contains them.
 * Limits: segments are clamped to 1..SMS_TEXT_MAX_SEGMENTS; pages to
 * SMS_TEXT_MAX_PAGES.  Pure functions, thread-safe, no logging.
 */
#ifndef SMS_TEXT_H
#define SMS_TEXT_H

#include "gwlib/gwlib.h"

#define SMS_TEXT_MAX_SEGMENTS 255
#define SMS_TEXT_MAX_PAGES    1000

/* 1 if every character is in the GSM 7-bit default alphabet or its
 * extension table (empty and NULL text: 1). */
int sms_text_is_gsm(const Octstr *utf8);

/* Length in septets (extension chars count 2) when gsm, else UTF-16
 * code units (characters outside the BMP count 2).  With gsm set for a
 * non-GSM text, non-GSM characters count as 1 ("?"). */
long sms_text_units(const Octstr *utf8, int gsm);

/* Units that fit: 160/70 for 1 segment; 153/67 per segment when
 * concatenated (segments > 1).  segments < 1 counts as 1. */
long sms_text_capacity(long segments, int gsm);

/*
 * Truncate (never split) to fit `segments` segments, ending in "..."
 * when cut.  Never cuts inside a UTF-8 sequence, a surrogate pair or an
 * escape pair.  The coding is decided by the WHOLE input; *gsm_r (if not
 * NULL) gets it.  Invalid UTF-8 is replaced by U+FFFD.  Returns a new
 * Octstr (UTF-8), never NULL.
 */
Octstr *sms_text_fit(const Octstr *utf8, long segments, int *gsm_r);

/*
 * Split into pages that each fit `segments` concatenated segments,
 * breaking at whitespace where possible (else at a character boundary).
 * Every page but the last ends with more_hint (may be NULL or ""),
 * counted in the fit.  Whitespace at a break is dropped.  One coding
 * for all pages (decided by the whole input and the hint), in *gsm_r.
 * At most SMS_TEXT_MAX_PAGES pages; the last page then ends in "...".
 * Returns a new List of new Octstr (caller destroys with
 * gwlist_destroy(l, octstr_destroy_item)), with at least one page ("" for
 * empty input).
 */
List *sms_text_pages(const Octstr *utf8, long segments,
                     const char *more_hint, int *gsm_r);

/*
 * Kannel Msg msgdata for the text: gsm -> UTF-8 bytes, *coding_r = 0
 * (DC_7BIT; bearerbox converts to GSM with its charset); else UTF-16BE,
 * *coding_r = 2 (DC_UCS2).  Invalid UTF-8 becomes U+FFFD.  Returns a
 * new Octstr, never NULL.
 */
Octstr *sms_text_msgdata(const Octstr *utf8, int gsm, int *coding_r);

/* Truncate to at most max_units units in the given coding (see
 * sms_text_units), ending in "..." when cut (trailing whitespace before
 * the dots dropped); below 4 units no dots are added.  Cuts only between
 * characters.  New Octstr, never NULL. */
Octstr *sms_text_cut(const Octstr *utf8, long max_units, int gsm);

/* A copy with invalid UTF-8 replaced by U+FFFD.  New Octstr. */
Octstr *sms_text_sanitize(const Octstr *utf8);

/* One line for a phone: invalid UTF-8 -> U+FFFD, C0/C1 controls, DEL and
 * no-break spaces -> space, whitespace runs collapsed, trimmed.  NULL is
 * taken as "".  New Octstr. */
Octstr *sms_text_one_line(const Octstr *utf8);

#endif
