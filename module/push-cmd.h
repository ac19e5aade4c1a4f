/*
 * push-cmd.h - parse keyword SMS from phones (MO) into commands.
 *
 * Exports: push_cmd_parse, push_cmd_destroy, push_cmd_type_name.
 *
 * Grammar (keywords case-insensitive; spaces, tabs, CR and LF between
 * words; leading and trailing whitespace ignored):
 *   GET [n]   GETn also accepted ("get3"); no n = latest (n = 0)
 *   LIST | MORE | STOP | START | HELP   (anything after the keyword is
 *             ignored: "stop please", "HELP?")
 *   REPLY n [text]          REPLYn text also accepted
 *   SEND addr[,addr...] [text]   (up to 10 ASCII addresses; whitespace
 *             around commas dropped: "a@x.org, b@y.org" ->
 *             "a@x.org,b@y.org")
 * The keyword is the leading run of ASCII letters; a letter or non-ASCII
 * byte after it makes the text UNKNOWN ("GETTING").  n is decimal
 * 1..PUSH_CMD_MAX_N (leading zeros allowed).  Anything else is UNKNOWN
 * (not a keyword; error NULL) or BAD (keyword with bad arguments;
 * `error` says why, phone-readable, under 70 chars).
 * Limits: input over PUSH_CMD_MAX_LEN bytes -> BAD "Message too long";
 * invalid UTF-8 or control characters other than TAB/CR/LF after
 * GET/REPLY/SEND -> BAD.  Thread-safe; no logging.
 */
#ifndef PUSH_CMD_H
#define PUSH_CMD_H

#include "gwlib/gwlib.h"

#define PUSH_CMD_MAX_LEN 16000
#define PUSH_CMD_MAX_N   999999999L

enum push_cmd_type {
    PUSH_CMD_GET, PUSH_CMD_LIST, PUSH_CMD_MORE, PUSH_CMD_STOP,
    PUSH_CMD_START, PUSH_CMD_HELP, PUSH_CMD_REPLY, PUSH_CMD_SEND,
    PUSH_CMD_UNKNOWN, PUSH_CMD_BAD
};

typedef struct {
    enum push_cmd_type type;
    long n;           /* GET/REPLY; 0 = GET without number (= latest) */
    Octstr *address;  /* SEND: comma-separated list as given, trimmed;
                         else NULL */
    Octstr *text;     /* REPLY/SEND body, may be ""; else NULL */
    Octstr *error;    /* BAD: short phone-readable reason; else NULL */
} PushCmd;

/* Parse an MO text (UTF-8; NULL counts as empty -> UNKNOWN).  Returns a
 * new PushCmd, never NULL; caller destroys it. */
PushCmd *push_cmd_parse(const Octstr *sms_text);
void push_cmd_destroy(PushCmd *c);   /* NULL is fine */

/* "GET", "LIST", ... "UNKNOWN", "BAD": static string for logs. */
const char *push_cmd_type_name(enum push_cmd_type t);

#endif
