/*
 * convert-text.h - mail (RFC 5322 + MIME) to readable UTF-8 text.
 *
 * Exports: convert_init, convert_deinit, convert_mail_parse,
 *          convert_mail_destroy, convert_sender_name (convert-text.c);
 *          convert_header_decode, convert_text_tidy, convert_to_utf8,
 *          convert_cut_utf8
 *          (convert-clean.c); convert_html_to_text (convert-html.c).
 *
 * Limits: raw mail up to CONVERT_MAX_MAIL bytes, MIME depth
 * CONVERT_MAX_DEPTH, CONVERT_MAX_PARTS parts, body text capped at
 * CONVERT_MAX_BODY bytes, CONVERT_MAX_ATTACH attachment lines.
 * Every charset is decoded to UTF-8; bytes that do not decode are
 * replaced by U+FFFD, never passed through.
 *
 * Logs: debug under "convert.text" when a mail hits a MIME or body
 * limit; nothing else.  Never logs mail content.
 *
 * GMime objects never leave this module.
 */
#ifndef CONVERT_TEXT_H
#define CONVERT_TEXT_H

#include "gwlib/gwlib.h"

#define CONVERT_MAX_MAIL   (32L * 1024 * 1024)
#define CONVERT_MAX_DEPTH  20
#define CONVERT_MAX_PARTS  500
#define CONVERT_MAX_BODY   (256L * 1024)
#define CONVERT_MAX_ATTACH 50
#define CONVERT_MAX_MSGID  250

/*
 * Initialise GMime (g_mime_init) once.  Call from the main thread at
 * start-up, before any other thread calls convert_*.  convert_deinit
 * undoes it at shut-down, after every user has stopped.
 */
void convert_init(void);
void convert_deinit(void);

typedef struct {
    Octstr *from;       /* decoded display name, or address when no name,
                           UTF-8; never NULL ("unknown") */
    Octstr *from_addr;  /* bare address or NULL */
    Octstr *reply_to;   /* bare address or NULL */
    Octstr *to;         /* decoded, may be NULL */
    Octstr *subject;    /* decoded UTF-8, "" when none; never NULL */
    Octstr *date;       /* short readable form "27 Nov 14:02" (the
                           sender's local time), may be NULL */
    long date_t;        /* unix time, 0 unknown */
    Octstr *message_id; /* without <>, validated charset+length, or NULL */
    Octstr *references; /* raw (unfolded), may be NULL */
    Octstr *body;       /* readable UTF-8 text, never NULL (may be "") */
    List *attachments;  /* Octstr* "name (type, 12 KB)"; never NULL */
} ConvertMail;

/*
 * Parse a raw mail.  `raw` is not modified and not kept.  With
 * trim_quotes, drop ">"-quoted blocks (and an "On ... wrote:" line
 * before them) and a signature after a "-- " line.
 * Returns a new ConvertMail (caller destroys with convert_mail_destroy)
 * or NULL; on NULL, *err_r (if err_r is not NULL) gets a new Octstr with
 * a short reason that the caller destroys.  Thread-safe after
 * convert_init().  Hostile input gives a result or an error, no crash.
 */
ConvertMail *convert_mail_parse(const Octstr *raw, int trim_quotes,
                                Octstr **err_r);
void convert_mail_destroy(ConvertMail *m);   /* NULL is fine */

/*
 * Decode an RFC 2047 header value to UTF-8: unfold, decode encoded
 * words (B and Q, split words), unknown 8-bit bytes taken as
 * Latin-1 when not UTF-8, control characters removed, whitespace
 * collapsed.  Returns a new Octstr (never NULL; "" for NULL input).
 */
Octstr *convert_header_decode(const Octstr *raw);

/*
 * The display name of a From header value, decoded, or the bare
 * address when there is no name; "unknown" when empty or unparseable.
 * Returns a new Octstr, never NULL.
 */
Octstr *convert_sender_name(const Octstr *raw_from);

/*
 * Normalise text for SMS: invalid UTF-8 -> U+FFFD, CRLF/CR -> LF, tabs
 * -> space, other controls, zero-width characters, soft hyphens and
 * BOMs dropped, NBSP -> space, space runs collapsed, lines trimmed, at
 * most one blank line in a row, no blank lines at either end.
 * Returns a new Octstr, never NULL.  Thread-safe.
 */
Octstr *convert_text_tidy(const Octstr *text);

/* Cut UTF-8 text `s` in place to at most `max` bytes (max < 0: 0), never
 * inside a character. */
void convert_cut_utf8(Octstr *s, long max);

/*
 * `len` bytes in MIME charset `charset` (NULL or unknown: UTF-8 when
 * the bytes are valid UTF-8, else windows-1252) to UTF-8; bytes that
 * do not convert become U+FFFD.  Returns a new Octstr, never NULL.
 * Thread-safe after convert_init().
 */
Octstr *convert_to_utf8(const char *data, long len, const char *charset);

/*
 * HTML (UTF-8; a meta charset is ignored) to readable UTF-8 text:
 * block elements -> newlines, <br>, list items "- ", links
 * "text (url)" when they differ, entities decoded, script/style/head
 * dropped, whitespace normalised.  Returns a new Octstr, never NULL.
 * Thread-safe (libxml2 is initialised by convert_init).
 */
Octstr *convert_html_to_text(const Octstr *html);

#endif
