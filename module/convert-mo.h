/*
 * convert-mo.h - what phones send (SMS text, an MM) to RFC 5322 mail.
 *
 * Exports: convert_mo_addresses(), convert_mo_address_ok(),
 *   convert_mo_subject(), ConvertMoHead, convert_mo_build(),
 *   convert_mo_draft_n(), convert_mo_reply_complete() (convert-mo.c);
 *   ConvertMm, ConvertMoPart, convert_mm_parse(), convert_mm_destroy()
 *   (convert-mm.c).
 *
 * Mails are built with GMime: CRLF line ends; From, To, Subject (RFC
 * 2047 when not ASCII), Date, Message-ID (<random@sender's domain>),
 * MIME-Version; the text as one text/plain; charset=utf-8 part (7bit
 * when it can be, else quoted-printable or base64); each attachment a
 * base64 part with its type and file name.  A reply whose original is
 * not fetched yet is a "draft": the same mail without To and threading
 * headers and with the private header X-Pushmail-Reply: n, completed
 * later by convert_mo_reply_complete().
 *
 * MM conversion (convert_mm_parse): any MIME structure (multipart/
 * related, mixed, alternative, nested; a single part), parts in base64,
 * quoted-printable, 7bit/8bit/binary.  Text parts (text/plain; text/html
 * made readable) become one UTF-8 text; images, audio, video and other
 * parts become attachments named by filename, name, Content-Location or
 * Content-ID (angle brackets or not) in that order; SMIL is dropped.  A
 * text part without a transfer encoding whose whole content is valid
 * quoted-printable with at least one escape that decodes to UTF-8 (as
 * MMSCs that copy QP text undecoded send it) is decoded.
 *
 * Limits: CONVERT_MO_MAX_RCPTS addresses of CONVERT_MO_ADDR_MAX bytes;
 * MMs of CONVERT_MO_MAX_MM bytes, CONVERT_MO_MAX_PARTS parts, MIME
 * depth CONVERT_MO_MAX_DEPTH; text CONVERT_MAX_BODY bytes; subjects
 * made by convert_mo_subject() CONVERT_MO_SUBJECT_MAX bytes, subjects
 * given to convert_mo_build() 1000 bytes; attachment names 100 bytes.
 * Logs: nothing (errors are returned as short phone-readable text).
 * Threads: every function is thread-safe after convert_init().  GMime
 * objects never leave this module.
 */
#ifndef CONVERT_MO_H
#define CONVERT_MO_H

#include "gwlib/gwlib.h"

#define CONVERT_MO_MAX_RCPTS 10
#define CONVERT_MO_ADDR_MAX 254
#define CONVERT_MO_MAX_MM (4L * 1024 * 1024)
#define CONVERT_MO_MAX_PARTS 100
#define CONVERT_MO_MAX_DEPTH 10
#define CONVERT_MO_SUBJECT_MAX 200

/*
 * Split a comma-separated address list ("a@x.org, b@y.org"; spaces and
 * empty items around commas ignored) and check each address (see
 * convert_mo_address_ok).  Returns a new List of new Octstr* (caller
 * destroys both), duplicates dropped, or NULL with *err_r (if not NULL)
 * a new phone-readable sentence naming the bad address.
 */
List *convert_mo_addresses(const Octstr *list, Octstr **err_r);

/* 1 if `a` is a plain addr-spec we submit: local@domain, ASCII, no
 * spaces, quotes, brackets, commas or control characters, a domain of
 * dot-separated labels [A-Za-z0-9-] with at least one dot (or an
 * address literal is refused), local part <= 64 bytes, whole <= 254. */
int convert_mo_address_ok(const Octstr *a);

/*
 * A subject from the first `words` words of UTF-8 `text` (whitespace and
 * line breaks between words become one space), "..." appended when more
 * text follows; at most CONVERT_MO_SUBJECT_MAX bytes (cut at a character
 * boundary).  "" for empty text.  Returns a new Octstr.
 */
Octstr *convert_mo_subject(const Octstr *text, long words);

/* An attachment. */
typedef struct {
    Octstr *name;       /* file name, UTF-8, never NULL */
    Octstr *type;       /* "image/jpeg", lower case, never NULL */
    Octstr *data;       /* decoded bytes, never NULL */
} ConvertMoPart;

/* An MM taken apart. */
typedef struct {
    Octstr *text;       /* the text parts, UTF-8, joined with a blank
                           line; "" when none; never NULL */
    List *parts;        /* ConvertMoPart*, in MM order; never NULL */
    long dropped;       /* SMIL and parts over the limits */
} ConvertMm;

/*
 * Parse an MM: `content_type` is its Content-Type value (NULL: text/plain
 * in UTF-8), `body` what follows its header (NULL or "" = empty MM).
 * Returns a new ConvertMm (caller frees with convert_mm_destroy), or
 * NULL with *err_r (if not NULL) a new short reason: too large, too many
 * parts, not MIME.
 */
ConvertMm *convert_mm_parse(const Octstr *content_type, const Octstr *body,
                            Octstr **err_r);
void convert_mm_destroy(ConvertMm *m);   /* NULL is fine */

/* What convert_mo_build() puts in the header.  Nothing is kept. */
typedef struct {
    const Octstr *from;         /* bare address, required */
    const List *to;             /* Octstr* bare addresses; NULL or empty
                                   only for a draft */
    const Octstr *subject;      /* UTF-8, NULL = "" */
    const Octstr *in_reply_to;  /* Message-ID without <>, or NULL */
    const Octstr *references;   /* References value, or NULL */
    long date;                  /* Unix time; 0 = now */
    long draft_n;               /* > 0: a reply draft for mail n */
} ConvertMoHead;

/*
 * Build the mail: `text` (UTF-8, NULL = "") as its text part, `parts`
 * (ConvertMoPart*, may be NULL or empty) as attachments (multipart/
 * mixed when there are any).  Returns a new Octstr with CRLF line ends,
 * and *message_id_r (if not NULL) a new Octstr of the Message-ID
 * without <>; NULL with *err_r (if not NULL) set when the head is
 * unusable (bad From or To).
 */
Octstr *convert_mo_build(const ConvertMoHead *h, const Octstr *text,
                         const List *parts, Octstr **message_id_r,
                         Octstr **err_r);

/* The mail number of a reply draft (its X-Pushmail-Reply header), or 0
 * when `message` is not a draft. */
long convert_mo_draft_n(const Octstr *message);

/*
 * Complete a reply draft from the original mail (raw RFC 5322): To =
 * the original's Reply-To, else its From; Subject "Re: " + the
 * original's subject (unless it starts with "Re:" already);
 * In-Reply-To = its Message-ID; References = its References (the last
 * 20 ids) + its Message-ID; the draft header removed.  Returns the new
 * mail (CRLF) and *to_r a new Octstr with the recipient; NULL with
 * *err_r a new phone-readable reason (the original has no usable
 * address, the draft is not one).
 */
Octstr *convert_mo_reply_complete(const Octstr *draft,
                                  const Octstr *original, Octstr **to_r,
                                  Octstr **err_r);

#endif
