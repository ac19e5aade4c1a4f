/*
 * wap-si.h - WAP push Service Indication (SI) prompts: the SI document,
 * its WBXML form (Kannel's si_compile()) and the connectionless WSP
 * push that carries it in an 8-bit SMS.
 *
 * Exports: wap_si_document(), wap_si_sms(), wap_si_created().
 *
 * The SMS: UDH 06 05 04 0B 84 23 F0 (16-bit application port
 * addressing, destination 2948 = WAP push, source 9200) and a body
 * that is a WSP Push PDU (WAP-230 8.2.4.1): TID, PDU type 0x06,
 * headers length, Content-Type application/vnd.wap.sic with charset
 * utf-8 (no X-Wap-Application-Id: its absence means wml.ua, the
 * browser), then the WBXML SI.  Send it with coding 1 (8-bit);
 * bearerbox concatenates long ones (the port UDH goes into every part).
 *
 * Limits: href WAP_SI_HREF_MAX bytes of printable ASCII starting with
 * http:// or https://; si-id WAP_SI_ID_MAX printable ASCII bytes; text
 * WAP_SI_TEXT_MAX bytes (cut at a UTF-8 boundary).  Control characters
 * in the text become spaces; invalid UTF-8 is refused.
 *
 * Threads: any (si_compile uses libxml2, which convert_init() or
 * xmlInitParser() must have initialised).
 * Logs: nothing of its own; Kannel's si_compile() logs an error() when
 * the document does not parse (it cannot, for the documents built here).
 */
#ifndef WAP_SI_H
#define WAP_SI_H

#include "gwlib/gwlib.h"

#define WAP_SI_HREF_MAX 1024
#define WAP_SI_ID_MAX 128
#define WAP_SI_TEXT_MAX 640

/* "2024-05-01T12:00:00Z" for unix time t (UTC).  New Octstr. */
Octstr *wap_si_created(long t);

/*
 * The SI document (UTF-8 XML) with one <indication> carrying href,
 * si-id, created (unix time, UTC) and action="signal-medium", whose
 * content is `text`.  Values are XML-escaped.  Returns a new Octstr, or
 * NULL when an argument breaks the limits above.  Nothing is kept.
 */
Octstr *wap_si_document(const Octstr *href, const Octstr *si_id,
                        long created, const Octstr *text);

/*
 * The SI as an SMS: *udh_r = the WDP port UDH, *body_r = the WSP push
 * PDU with the compiled SI (both new, binary, caller destroys).
 * Returns 0, or -1 (nothing set) when an argument breaks the limits or
 * the compiler fails.
 */
int wap_si_sms(const Octstr *href, const Octstr *si_id, long created,
               const Octstr *text, Octstr **udh_r, Octstr **body_r);

#endif
