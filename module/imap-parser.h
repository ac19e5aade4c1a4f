/*
 * imap-parser.h - resumable, bounded parser for IMAP server responses.
 *
 * Exports: ImapParser (opaque), ImapParserLimits, ImapResponse, ImapArg,
 *   imap_parser_create(), imap_parser_destroy(), imap_parser_reset(),
 *   imap_parser_feed(), imap_parser_error(), imap_parser_busy(),
 *   imap_response_destroy(),
 *   imap_response_status(), imap_arg_*() helpers, imap_quotable(),
 *   imap_append_quoted().
 *
 * The parser never reads a socket: the caller feeds it bytes as they
 * arrive (one at a time is fine) and it returns NEED_MORE, DONE (one whole
 * response) or ERROR.  All resume state lives in the parser.
 *
 * Grammar handled (RFC 3501 section 7 and 9, leniently):
 *   response    = tag SP rest CRLF   (tag "*" untagged, "+" continuation)
 *   rest        = status-word SP ["[" code *(SP arg) "]" SP] text
 *               | arg *(SP arg)
 *   status-word = OK / NO / BAD / BYE / PREAUTH (first argument only)
 *   arg         = atom | NIL | quoted | literal {n} or {n+} | "(" args ")"
 *   An atom may hold bracketed parts with spaces and parens inside, as
 *   in BODY[HEADER.FIELDS (FROM SUBJECT)]<0>.  A bare LF ends a line too;
 *   a CR not followed by LF is an error.
 * Limits (constructor): line length (literal data excluded), literal size,
 *   list depth, arguments per response, total response size.  Sizes are
 *   checked before anything is allocated for them.
 * Errors are fixed English sentences; after an error the parser refuses
 *   more input until imap_parser_reset() (the stream cannot be resynced,
 *   so callers should drop the connection).
 * Logs: nothing.  Thread safety: one parser per thread at a time.
 */
#ifndef IMAP_PARSER_H
#define IMAP_PARSER_H

#include <stddef.h>
#include "gwlib/gwlib.h"

typedef struct ImapParser ImapParser;

typedef struct {
    long max_line;      /* bytes per line, literal data excluded (> 0) */
    long max_literal;   /* bytes per literal (>= 0) */
    int max_depth;      /* nesting of "(" lists (>= 1) */
    long max_args;      /* arguments per response, all levels (> 0) */
    long max_response;  /* bytes per response incl. literals (> 0) */
} ImapParserLimits;

enum imap_parse_result {
    IMAP_PARSE_ERROR = -1,
    IMAP_PARSE_NEED_MORE = 0,
    IMAP_PARSE_DONE = 1
};

typedef enum {
    IMAP_ARG_ATOM,      /* str: the atom as received (case kept) */
    IMAP_ARG_STRING,    /* str: quoted string, unescaped */
    IMAP_ARG_LITERAL,   /* str: literal octets (binary safe) */
    IMAP_ARG_NIL,       /* NIL, str NULL */
    IMAP_ARG_LIST       /* list: List of ImapArg * */
} ImapArgType;

typedef struct {
    ImapArgType type;
    Octstr *str;
    List *list;
} ImapArg;

typedef enum {
    IMAP_RESP_UNTAGGED,     /* "* ..." */
    IMAP_RESP_TAGGED,       /* "A1 ..." */
    IMAP_RESP_CONTINUATION  /* "+ ..." */
} ImapRespKind;

typedef enum {
    IMAP_STATUS_NONE, IMAP_STATUS_OK, IMAP_STATUS_NO, IMAP_STATUS_BAD,
    IMAP_STATUS_BYE, IMAP_STATUS_PREAUTH
} ImapStatus;

typedef struct {
    ImapRespKind kind;
    Octstr *tag;        /* TAGGED: the tag; else NULL */
    List *args;         /* ImapArg *; for a status response only the
                         * status word; for a continuation empty */
    Octstr *code;       /* status responses: the atom after "[", or NULL */
    List *code_args;    /* ImapArg * after the code atom (never NULL) */
    Octstr *text;       /* status response / continuation: the human
                         * readable rest of the line (never NULL) */
} ImapResponse;

/* Create a parser; `lim' is copied.  Returns a new parser. */
ImapParser *imap_parser_create(const ImapParserLimits *lim);

/* Free the parser and any half-parsed response.  NULL ok. */
void imap_parser_destroy(ImapParser *p);

/* Forget any half-parsed response and the error state. */
void imap_parser_reset(ImapParser *p);

/*
 * Feed `len' bytes.  *used_r = how many were consumed (always set).
 * Returns IMAP_PARSE_NEED_MORE (all consumed, no response complete yet),
 * IMAP_PARSE_DONE (*resp_r = a new response owned by the caller, free it
 * with imap_response_destroy; the bytes after *used_r are not consumed:
 * feed them again), or IMAP_PARSE_ERROR (see imap_parser_error()).
 */
int imap_parser_feed(ImapParser *p, const char *data, size_t len,
                     size_t *used_r, ImapResponse **resp_r);

/* The fixed error message after IMAP_PARSE_ERROR, else NULL.  Static. */
const char *imap_parser_error(const ImapParser *p);

/* 1 if the parser holds part of a response or has failed; 0 if it
 * stands between two responses, where destroying it and feeding the
 * next bytes to a new parser (same limits) loses nothing. */
int imap_parser_busy(const ImapParser *p);

/* Free a response and all its arguments.  NULL ok. */
void imap_response_destroy(ImapResponse *r);

/* The status word of a response (OK, NO, ...), or IMAP_STATUS_NONE. */
ImapStatus imap_response_status(const ImapResponse *r);

/* Argument helpers; all accept NULL and out-of-range indexes. */
ImapArg *imap_arg_nth(List *args, long i);
/* 1 if a is an atom equal to `word' ignoring case, else 0. */
int imap_arg_atom_is(const ImapArg *a, const char *word);
/* The octets of an atom, quoted string or literal (not owned), or NULL. */
Octstr *imap_arg_string(const ImapArg *a);
/* Parse an atom as a decimal number 0 .. LONG_MAX; -1 if it is not one. */
long imap_arg_number(const ImapArg *a);
/* In a list of name/value pairs such as FETCH data, the value after the
 * first atom whose name starts with `prefix' (ignoring case), or NULL. */
ImapArg *imap_arg_find_value(List *list, const char *prefix);

/*
 * Command side: 1 if `s' can be sent as a quoted string (7-bit, no NUL,
 * CR or LF, at most 1024 bytes), else 0 (send a literal instead).
 */
int imap_quotable(const Octstr *s);
/* Append `s' to `out' as a quoted string, escaping '\' and '"'. */
void imap_append_quoted(Octstr *out, const Octstr *s);

#endif
