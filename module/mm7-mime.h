/*
 * mm7-mime.h - the multipart bodies of MM7 over HTTP: split one that came
 * in (multipart/related, multipart/form-data), join SOAP + MM to send.
 *
 * Exports: Mm7Mime, Mm7MimePart, mm7_mime_split(), mm7_mime_count(),
 *   mm7_mime_get(), mm7_mime_start(), mm7_mime_by_cid(),
 *   mm7_mime_destroy(), mm7_mime_join(), mm7_mime_type(),
 *   mm7_mime_param().
 *
 * Only the top level is split: a part that is itself multipart (the MM)
 * is handed on as its Content-Type value and its bytes.  The HTTP layer
 * gives us the complete body, so the splitter works on a whole buffer
 * (there is nothing to resume).
 *
 * Limits: MM7_MIME_MAX_PARTS parts, MM7_MIME_MAX_HEADER bytes of header
 *   per part, header values cut at MM7_MIME_MAX_VALUE bytes.
 * Logs: nothing; errors come back as a fixed text.
 * Threads: reentrant.
 */
#ifndef MM7_MIME_H
#define MM7_MIME_H

#include "gwlib/gwlib.h"

#define MM7_MIME_MAX_PARTS 64
#define MM7_MIME_MAX_HEADER 8192
#define MM7_MIME_MAX_VALUE 1024

typedef struct Mm7Mime Mm7Mime;

typedef struct {
    Octstr *content_type;   /* Content-Type value, or NULL */
    Octstr *content_id;     /* Content-ID without <> and blanks, or NULL */
    Octstr *location;       /* Content-Location, or NULL */
    Octstr *disposition;    /* Content-Disposition value, or NULL */
    Octstr *body;           /* the bytes, base64/quoted-printable decoded */
} Mm7MimePart;

/*
 * Split body, whose Content-Type value is content_type (multipart/ with a
 * boundary parameter).  Returns a new Mm7Mime (at least one part), or
 * NULL with *err_r set to a fixed text (not multipart, no boundary, no
 * part, no closing delimiter, too many parts, header too long).
 */
Mm7Mime *mm7_mime_split(const Octstr *body, const Octstr *content_type,
                        const char **err_r);
void mm7_mime_destroy(Mm7Mime *m);

long mm7_mime_count(const Mm7Mime *m);
/* Part i (0-based) or NULL; owned by m. */
const Mm7MimePart *mm7_mime_get(const Mm7Mime *m, long i);

/* The root part: the one named by the start parameter, else the first
 * text/xml (or application/soap+xml) part, else the first.  Owned by m. */
const Mm7MimePart *mm7_mime_start(const Mm7Mime *m);

/*
 * The part a "cid:..." reference names (href with or without "cid:", %XX
 * decoded; Content-IDs compared with or without <>): exact match, then
 * case-insensitive, then by prefix as Mbuni matches, then by
 * Content-Location.  `skip` (may be NULL) is never returned.  NULL if
 * nothing matches.  Owned by m.
 */
const Mm7MimePart *mm7_mime_by_cid(const Mm7Mime *m, const Octstr *href,
                                   const Mm7MimePart *skip);

/*
 * Build a multipart/related body: the SOAP part (text/xml, UTF-8) first
 * and the start part, then the MM as one part with Content-Type mm_type
 * and Content-ID <mm_cid> (mm_body is what follows the MM's own header).
 * Returns the new body and sets *content_type_r to the new Content-Type
 * value for the HTTP request; the boundary never occurs in either part.
 * All inputs are copied; returns NULL (nothing set) if mm_type contains
 * CR/LF or mm_cid is not 1..255 printable ASCII without blanks, <, >, ".
 */
Octstr *mm7_mime_join(const Octstr *soap, const Octstr *mm_type,
                      const Octstr *mm_body, const Octstr *mm_cid,
                      Octstr **content_type_r);

/* "type/subtype" of a Content-Type value, lower case, new Octstr ("" if
 * value is NULL). */
Octstr *mm7_mime_type(const Octstr *value);

/* Parameter `name` (case-insensitive) of a header value, unquoted, new
 * Octstr; NULL if absent. */
Octstr *mm7_mime_param(const Octstr *value, const char *name);

#endif
