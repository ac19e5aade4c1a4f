/*
 * push-prompt.h - the texts sent to phones: new-mail prompts, summary,
 * LIST lines, the GET text and help.
 *
 * Exports: push_prompt_new_mail, push_prompt_summary,
 *          push_prompt_list_line, push_prompt_mail_text,
 *          push_prompt_help, push_prompt_unknown.
 *
 * All results are new UTF-8 Octstr (caller destroys), never NULL.
 * Unless noted, a result fits ONE SMS segment in the coding that
 * sms_text_is_gsm() picks for it (160 GSM septets or 70 UTF-16 units).
 * Sender/subject input is treated as hostile: control characters and
 * newlines become spaces, invalid UTF-8 becomes U+FFFD.
 * Thread-safe; no logging.
 */
#ifndef PUSH_PROMPT_H
#define PUSH_PROMPT_H

#include "gwlib/gwlib.h"
#include "convert-text.h"

#define PUSH_PROMPT_LIST_SUBJECT 40   /* LIST line subject cap, chars */

/* "Mail 3 from Ann Lee: Lunch tomorrow? - reply GET 3".  "(no subject)"
 * when empty; when too long the subject is shortened first (ending
 * "..."), then the sender; " - reply GET 3" is never cut.  sender NULL
 * or empty -> "unknown". One segment. */
Octstr *push_prompt_new_mail(long n, const Octstr *sender,
                             const Octstr *subject);

/* "4 more mails, latest from Bob - reply LIST" ("1 more mail, ...");
 * sender shortened to fit.  One segment. */
Octstr *push_prompt_summary(long count, const Octstr *latest_sender);

/* "3 Ann Lee: Lunch tomorrow?" with the subject cut to about
 * PUSH_PROMPT_LIST_SUBJECT characters (ending "...").  Not itself one
 * segment: the caller joins lines with "\n" and pages them. */
Octstr *push_prompt_list_line(long n, const Octstr *sender,
                              const Octstr *subject);

/* The text GET pages (any length; page it with sms_text_pages):
 * "Mail 3 from Ann Lee <ann@x.org>\nSubj: Lunch\nDate: 27 Nov 14:02\n\n
 *  <body>\n[Attachments: a.pdf (application/pdf, 12 KB)]"
 * The "<addr>" is left out when it equals the name or is unknown; the
 * Date line when m->date is NULL; the attachment line when there are
 * none.  m is not modified or kept. */
Octstr *push_prompt_mail_text(long n, const ConvertMail *m);

/* "Commands: GET n, LIST, MORE, STOP, START, HELP" (one segment). */
Octstr *push_prompt_help(void);

/* Reply to unknown text: short help with REPLY/SEND syntax, one
 * segment. */
Octstr *push_prompt_unknown(void);

#endif
