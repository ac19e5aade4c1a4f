/*
 * imap-parser.c - resumable, bounded parser for IMAP server responses.
 *
 * A byte-driven state machine (see imap-parser.h for the grammar and the
 * contract).  Literal data is copied in blocks; everything else is looked
 * at one byte at a time, so a response split anywhere parses the same.
 * Limits are checked before appending, with overflow-free comparisons.
 * Logs nothing.
 */
#include <limits.h>
#include <string.h>
#include <strings.h>

#include "imap-parser.h"

enum pstate {
    PS_TAG,         /* reading the tag up to SP */
    PS_TOKEN,       /* between arguments */
    PS_ATOM,        /* inside an atom (maybe inside [...]) */
    PS_QUOTED,      /* inside "..." */
    PS_QUOTED_ESC,  /* after a backslash inside "..." */
    PS_LITSIZE,     /* after "{": digits */
    PS_LITPLUS,     /* after "{n+": expect "}" */
    PS_LITCLOSE,    /* after "}": expect CR or LF */
    PS_LITLF,       /* after "}" CR: expect LF */
    PS_LITDATA,     /* literal octets */
    PS_TEXT_START,  /* after a status word: spaces, then "[" or text */
    PS_TEXT_AFTER_CODE, /* after the "]" of a response code */
    PS_TEXT,        /* human readable text up to EOL */
    PS_EOL_LF,      /* saw CR, expect LF */
    PS_FAILED       /* error: refuse input until reset */
};

struct ImapParser {
    /* set at creation */
    ImapParserLimits lim;
    List **lists;           /* lists[0..depth]: where arguments go */
    /* cleared by imap_parser_reset() */
    enum pstate state;
    ImapResponse *resp;
    int depth;              /* open "(" lists */
    int in_code;            /* inside "[" ... "]" of a status response */
    int code_first;         /* next code token is the code atom */
    int bracket;            /* "[" depth inside the current atom */
    int first_arg_done;     /* the first argument was completed */
    Octstr *tok;            /* atom / quoted / literal being read */
    long lit_size;          /* announced literal size */
    long lit_left;          /* literal octets still to read */
    int lit_digits;
    long line_len;          /* bytes on this line, literal data excluded */
    long resp_len;          /* bytes in this response */
    long nargs;             /* arguments in this response */
    const char *error;
};

static void parser_clear(ImapParser *p)
{
    imap_response_destroy(p->resp);
    p->resp = NULL;
    octstr_destroy(p->tok);
    p->tok = NULL;
    p->state = PS_TAG;
    p->depth = 0;
    p->in_code = 0;
    p->code_first = 0;
    p->bracket = 0;
    p->first_arg_done = 0;
    p->lit_size = p->lit_left = 0;
    p->lit_digits = 0;
    p->line_len = 0;
    p->resp_len = 0;
    p->nargs = 0;
    p->error = NULL;
}

ImapParser *imap_parser_create(const ImapParserLimits *lim)
{
    ImapParser *p = gw_malloc(sizeof(*p));

    memset(p, 0, sizeof(*p));
    p->lim = *lim;
    if (p->lim.max_line <= 0)
        p->lim.max_line = 8192;
    if (p->lim.max_literal < 0)
        p->lim.max_literal = 0;
    if (p->lim.max_depth < 1)
        p->lim.max_depth = 1;
    if (p->lim.max_args <= 0)
        p->lim.max_args = 1000;
    if (p->lim.max_response <= 0)
        p->lim.max_response = p->lim.max_line;
    p->lists = gw_malloc(sizeof(List *) * (p->lim.max_depth + 1));
    memset(p->lists, 0, sizeof(List *) * (p->lim.max_depth + 1));
    parser_clear(p);
    return p;
}

void imap_parser_destroy(ImapParser *p)
{
    if (p == NULL)
        return;
    parser_clear(p);
    gw_free(p->lists);
    gw_free(p);
}

void imap_parser_reset(ImapParser *p)
{
    parser_clear(p);
}

const char *imap_parser_error(const ImapParser *p)
{
    return p->state == PS_FAILED ? p->error : NULL;
}

int imap_parser_busy(const ImapParser *p)
{
    return p->resp != NULL || p->state == PS_FAILED;
}

static void arg_destroy(void *v)
{
    ImapArg *a = v;

    if (a == NULL)
        return;
    octstr_destroy(a->str);
    if (a->list != NULL)
        gwlist_destroy(a->list, arg_destroy);
    gw_free(a);
}

void imap_response_destroy(ImapResponse *r)
{
    if (r == NULL)
        return;
    octstr_destroy(r->tag);
    gwlist_destroy(r->args, arg_destroy);
    octstr_destroy(r->code);
    gwlist_destroy(r->code_args, arg_destroy);
    octstr_destroy(r->text);
    gw_free(r);
}

static int fail(ImapParser *p, const char *msg)
{
    p->state = PS_FAILED;
    p->error = msg;
    return IMAP_PARSE_ERROR;
}

/* Append a finished argument to the current list.  Takes `str'. */
static int add_arg(ImapParser *p, ImapArgType type, Octstr *str)
{
    ImapArg *a;

    if (p->nargs >= p->lim.max_args) {
        octstr_destroy(str);
        return fail(p, "too many arguments in response");
    }
    p->nargs++;
    if (p->in_code && p->code_first && p->depth == 0) {
        p->code_first = 0;
        if (type == IMAP_ARG_ATOM) {
            p->resp->code = str;
            return 0;
        }
    }
    a = gw_malloc(sizeof(*a));
    a->type = type;
    a->str = str;
    a->list = NULL;
    if (type == IMAP_ARG_ATOM && octstr_str_case_compare(str, "NIL") == 0) {
        octstr_destroy(a->str);
        a->str = NULL;
        a->type = IMAP_ARG_NIL;
    }
    gwlist_append(p->lists[p->depth], a);
    return 0;
}

static int is_status_word(const Octstr *s)
{
    return octstr_str_case_compare(s, "OK") == 0 ||
           octstr_str_case_compare(s, "NO") == 0 ||
           octstr_str_case_compare(s, "BAD") == 0 ||
           octstr_str_case_compare(s, "BYE") == 0 ||
           octstr_str_case_compare(s, "PREAUTH") == 0;
}

/* An argument at depth 0 outside a response code was completed: after
 * the first one decide whether the rest of the line is status text. */
static void after_top_arg(ImapParser *p, int was_atom)
{
    ImapArg *a;

    if (p->depth != 0 || p->in_code || p->first_arg_done)
        return;
    p->first_arg_done = 1;
    a = imap_arg_nth(p->resp->args, 0);
    if (was_atom && a != NULL && a->type == IMAP_ARG_ATOM &&
        is_status_word(a->str))
        p->state = PS_TEXT_START;
}

static int finish_atom(ImapParser *p)
{
    Octstr *s = p->tok;

    p->tok = NULL;
    p->state = PS_TOKEN;
    if (add_arg(p, IMAP_ARG_ATOM, s) < 0)
        return -1;
    after_top_arg(p, 1);
    return 0;
}

static int finish_string(ImapParser *p, ImapArgType type)
{
    Octstr *s = p->tok;

    p->tok = NULL;
    p->state = PS_TOKEN;
    if (add_arg(p, type, s) < 0)
        return -1;
    after_top_arg(p, 0);
    return 0;
}

static void new_response(ImapParser *p)
{
    ImapResponse *r = gw_malloc(sizeof(*r));

    r->kind = IMAP_RESP_UNTAGGED;
    r->tag = NULL;
    r->args = gwlist_create();
    r->code = NULL;
    r->code_args = gwlist_create();
    r->text = octstr_create("");
    p->resp = r;
    p->lists[0] = r->args;
    p->tok = octstr_create("");
}

/* End of line outside literal data: the response is complete. */
static int end_of_line(ImapParser *p)
{
    if (p->depth != 0)
        return fail(p, "unbalanced '(' in response");
    if (p->in_code)
        return fail(p, "unterminated response code");
    p->state = PS_TAG;
    return IMAP_PARSE_DONE;
}

static int is_ctl(unsigned char c)
{
    return c < 0x20 || c == 0x7f;
}

/* Handle one byte outside literal data.  Returns 0 to continue, DONE when
 * a response ended with this byte, or ERROR. */
static int step(ImapParser *p, unsigned char c)
{
    ImapArg *a;

again:
    switch (p->state) {
    case PS_TAG:
        if (c == ' ') {
            if (octstr_len(p->tok) == 0)
                return fail(p, "response without tag");
            p->resp->tag = p->tok;
            p->tok = NULL;
            if (octstr_str_compare(p->resp->tag, "*") == 0) {
                octstr_destroy(p->resp->tag);
                p->resp->tag = NULL;
                p->state = PS_TOKEN;
            } else if (octstr_str_compare(p->resp->tag, "+") == 0) {
                octstr_destroy(p->resp->tag);
                p->resp->tag = NULL;
                p->resp->kind = IMAP_RESP_CONTINUATION;
                p->state = PS_TEXT;
            } else {
                p->resp->kind = IMAP_RESP_TAGGED;
                p->state = PS_TOKEN;
            }
            return 0;
        }
        if (c == '\r' || c == '\n') {
            if (octstr_str_compare(p->tok, "+") != 0)
                return fail(p, octstr_len(p->tok) == 0 ?
                            "empty line" : "response without data");
            octstr_destroy(p->tok);
            p->tok = NULL;
            p->resp->kind = IMAP_RESP_CONTINUATION;
            p->state = PS_TEXT;
            goto again;
        }
        if (is_ctl(c) || c == '(' || c == ')' || c == '{' || c == '"')
            return fail(p, "invalid character in tag");
        octstr_append_char(p->tok, c);
        return 0;

    case PS_TOKEN:
        if (c == ' ')
            return 0;
        if (c == '\r') {
            p->state = PS_EOL_LF;
            return 0;
        }
        if (c == '\n')
            return end_of_line(p);
        if (c == '(') {
            if (p->depth >= p->lim.max_depth)
                return fail(p, "lists nested too deeply");
            if (p->nargs >= p->lim.max_args)
                return fail(p, "too many arguments in response");
            p->nargs++;
            if (p->in_code && p->depth == 0)
                p->code_first = 0;
            a = gw_malloc(sizeof(*a));
            a->type = IMAP_ARG_LIST;
            a->str = NULL;
            a->list = gwlist_create();
            gwlist_append(p->lists[p->depth], a);
            p->depth++;
            p->lists[p->depth] = a->list;
            return 0;
        }
        if (c == ')') {
            if (p->depth == 0)
                return fail(p, "unexpected ')' in response");
            p->depth--;
            after_top_arg(p, 0);
            return 0;
        }
        if (c == '"') {
            p->tok = octstr_create("");
            p->state = PS_QUOTED;
            return 0;
        }
        if (c == '{') {
            p->lit_size = 0;
            p->lit_digits = 0;
            p->state = PS_LITSIZE;
            return 0;
        }
        if (c == ']' && p->in_code && p->depth == 0) {
            p->in_code = 0;
            p->state = PS_TEXT_AFTER_CODE;
            return 0;
        }
        if (is_ctl(c))
            return fail(p, "invalid character in response");
        p->tok = octstr_create("");
        p->bracket = 0;
        p->state = PS_ATOM;
        goto again;

    case PS_ATOM:
        if (is_ctl(c) && c != '\r' && c != '\n')
            return fail(p, "invalid character in atom");
        if (p->bracket > 0) {
            if (c == '\r' || c == '\n')
                return fail(p, "unterminated '[' in atom");
            if (c == '[')
                p->bracket++;
            else if (c == ']')
                p->bracket--;
            octstr_append_char(p->tok, c);
            return 0;
        }
        if (c == ' ' || c == '(' || c == ')' || c == '\r' || c == '\n' ||
            (c == ']' && p->in_code && p->depth == 0)) {
            if (finish_atom(p) < 0)
                return IMAP_PARSE_ERROR;
            goto again;
        }
        if (c == '[')
            p->bracket++;
        octstr_append_char(p->tok, c);
        return 0;

    case PS_QUOTED:
        if (c == '"')
            return finish_string(p, IMAP_ARG_STRING) < 0 ?
                   IMAP_PARSE_ERROR : 0;
        if (c == '\\') {
            p->state = PS_QUOTED_ESC;
            return 0;
        }
        if (c == '\r' || c == '\n')
            return fail(p, "unterminated quoted string");
        if (c == 0)
            return fail(p, "NUL in quoted string");
        octstr_append_char(p->tok, c);
        return 0;

    case PS_QUOTED_ESC:
        if (c == '\r' || c == '\n' || c == 0)
            return fail(p, "unterminated quoted string");
        octstr_append_char(p->tok, c);
        p->state = PS_QUOTED;
        return 0;

    case PS_LITSIZE:
        if (c >= '0' && c <= '9') {
            if (p->lit_size > (p->lim.max_literal - (c - '0')) / 10)
                return fail(p, "literal too large");
            p->lit_size = p->lit_size * 10 + (c - '0');
            p->lit_digits++;
            return 0;
        }
        if (p->lit_digits == 0)
            return fail(p, "invalid literal size");
        if (c == '+') {
            p->state = PS_LITPLUS;
            return 0;
        }
        if (c == '}') {
            p->state = PS_LITCLOSE;
            return 0;
        }
        return fail(p, "invalid literal size");

    case PS_LITPLUS:
        if (c != '}')
            return fail(p, "invalid literal size");
        p->state = PS_LITCLOSE;
        return 0;

    case PS_LITCLOSE:
        if (c == '\r') {
            p->state = PS_LITLF;
            return 0;
        }
        if (c != '\n')
            return fail(p, "literal size not followed by end of line");
        /* fall through */
    case PS_LITLF:
        if (c != '\n')
            return fail(p, "CR without LF");
        if (p->lit_size > p->lim.max_response - p->resp_len)
            return fail(p, "response too large");
        p->tok = octstr_create("");
        p->lit_left = p->lit_size;
        p->line_len = 0;
        if (p->lit_left == 0)
            return finish_string(p, IMAP_ARG_LITERAL) < 0 ?
                   IMAP_PARSE_ERROR : 0;
        p->state = PS_LITDATA;
        return 0;

    case PS_TEXT_START:
        if (c == ' ')
            return 0;
        if (c == '[') {
            p->in_code = 1;
            p->code_first = 1;
            p->lists[0] = p->resp->code_args;
            p->state = PS_TOKEN;
            return 0;
        }
        p->state = PS_TEXT;
        goto again;

    case PS_TEXT_AFTER_CODE:
        p->lists[0] = p->resp->args;
        if (c == ' ')
            return 0;
        p->state = PS_TEXT;
        goto again;

    case PS_TEXT:
        if (c == '\r') {
            p->state = PS_EOL_LF;
            return 0;
        }
        if (c == '\n')
            return end_of_line(p);
        if (c == 0)
            return fail(p, "NUL in response text");
        octstr_append_char(p->resp->text, c);
        return 0;

    case PS_EOL_LF:
        if (c != '\n')
            return fail(p, "CR without LF");
        return end_of_line(p);

    case PS_LITDATA:
    case PS_FAILED:
        break;
    }
    return fail(p, "internal parser error");
}

int imap_parser_feed(ImapParser *p, const char *data, size_t len,
                     size_t *used_r, ImapResponse **resp_r)
{
    size_t i = 0, n;
    int ret;

    *used_r = 0;
    *resp_r = NULL;
    if (p->state == PS_FAILED)
        return IMAP_PARSE_ERROR;
    while (i < len) {
        if (p->resp == NULL)
            new_response(p);
        if (p->state == PS_LITDATA) {
            n = len - i;
            if (n > (size_t) p->lit_left)
                n = p->lit_left;
            octstr_append_data(p->tok, data + i, n);
            p->lit_left -= n;
            p->resp_len += n;
            i += n;
            if (p->lit_left == 0 &&
                finish_string(p, IMAP_ARG_LITERAL) < 0) {
                *used_r = i;
                return IMAP_PARSE_ERROR;
            }
            continue;
        }
        if (p->line_len >= p->lim.max_line) {
            *used_r = i;
            return fail(p, "response line too long");
        }
        if (p->resp_len >= p->lim.max_response) {
            *used_r = i;
            return fail(p, "response too large");
        }
        p->line_len++;
        p->resp_len++;
        ret = step(p, (unsigned char) data[i++]);
        if (ret == IMAP_PARSE_ERROR) {
            *used_r = i;
            return ret;
        }
        if (ret == IMAP_PARSE_DONE) {
            *used_r = i;
            *resp_r = p->resp;
            p->resp = NULL;
            parser_clear(p);
            return IMAP_PARSE_DONE;
        }
    }
    *used_r = i;
    return IMAP_PARSE_NEED_MORE;
}

ImapStatus imap_response_status(const ImapResponse *r)
{
    ImapArg *a;

    if (r == NULL || r->kind == IMAP_RESP_CONTINUATION)
        return IMAP_STATUS_NONE;
    if (gwlist_len(r->args) != 1)
        return IMAP_STATUS_NONE;
    a = gwlist_get(r->args, 0);
    if (a->type != IMAP_ARG_ATOM)
        return IMAP_STATUS_NONE;
    if (octstr_str_case_compare(a->str, "OK") == 0)
        return IMAP_STATUS_OK;
    if (octstr_str_case_compare(a->str, "NO") == 0)
        return IMAP_STATUS_NO;
    if (octstr_str_case_compare(a->str, "BAD") == 0)
        return IMAP_STATUS_BAD;
    if (octstr_str_case_compare(a->str, "BYE") == 0)
        return IMAP_STATUS_BYE;
    if (octstr_str_case_compare(a->str, "PREAUTH") == 0)
        return IMAP_STATUS_PREAUTH;
    return IMAP_STATUS_NONE;
}

ImapArg *imap_arg_nth(List *args, long i)
{
    if (args == NULL || i < 0 || i >= gwlist_len(args))
        return NULL;
    return gwlist_get(args, i);
}

int imap_arg_atom_is(const ImapArg *a, const char *word)
{
    return a != NULL && a->type == IMAP_ARG_ATOM &&
           octstr_str_case_compare(a->str, word) == 0;
}

Octstr *imap_arg_string(const ImapArg *a)
{
    if (a == NULL || a->type == IMAP_ARG_NIL || a->type == IMAP_ARG_LIST)
        return NULL;
    return a->str;
}

long imap_arg_number(const ImapArg *a)
{
    long i, n = 0, len;
    int d;

    if (a == NULL || a->type != IMAP_ARG_ATOM)
        return -1;
    len = octstr_len(a->str);
    if (len == 0 || len > 19)
        return -1;
    for (i = 0; i < len; i++) {
        d = octstr_get_char(a->str, i);
        if (d < '0' || d > '9')
            return -1;
        if (n > (LONG_MAX - (d - '0')) / 10)
            return -1;
        n = n * 10 + (d - '0');
    }
    return n;
}

ImapArg *imap_arg_find_value(List *list, const char *prefix)
{
    long i;
    ImapArg *a;
    size_t plen = strlen(prefix);

    if (list == NULL)
        return NULL;
    for (i = 0; i + 1 < gwlist_len(list); i += 2) {
        a = gwlist_get(list, i);
        if (a->type == IMAP_ARG_ATOM &&
            octstr_len(a->str) >= (long) plen &&
            strncasecmp(octstr_get_cstr(a->str), prefix, plen) == 0)
            return gwlist_get(list, i + 1);
    }
    return NULL;
}

int imap_quotable(const Octstr *s)
{
    long i, len = octstr_len(s);
    int c;

    if (len > 1024)
        return 0;
    for (i = 0; i < len; i++) {
        c = octstr_get_char(s, i);
        if (c == 0 || c == '\r' || c == '\n' || c >= 0x80)
            return 0;
    }
    return 1;
}

void imap_append_quoted(Octstr *out, const Octstr *s)
{
    long i, len = octstr_len(s);
    int c;

    octstr_append_char(out, '"');
    for (i = 0; i < len; i++) {
        c = octstr_get_char(s, i);
        if (c == '\\' || c == '"')
            octstr_append_char(out, '\\');
        octstr_append_char(out, c);
    }
    octstr_append_char(out, '"');
}
