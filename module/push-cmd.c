/*
 * push-cmd.c - parse keyword SMS from phones (MO) into commands.
 *
 * Exports: push_cmd_parse, push_cmd_destroy, push_cmd_type_name.
 *
 * Decisions (see push-cmd.h for the grammar):
 * - The keyword is the run of ASCII letters at the start, compared
 *   case-insensitively.  A letter or a non-ASCII byte right after it
 *   means it is not a keyword ("GETTING", "Stopp" -> UNKNOWN).
 * - GET and REPLY accept the number glued on ("get3", "REPLY3 hi"):
 *   phones' predictive text often eats the space.
 * - LIST, MORE, STOP, START and HELP ignore whatever follows them
 *   ("stop please", "HELP?"): STOP in particular must be honoured in any
 *   form.
 * - GET takes at most one number; "GET" alone means the latest (n = 0).
 * - SEND addresses are ASCII, one '@', split at commas; whitespace
 *   around commas is dropped ("a@x.org, b@y.org" -> "a@x.org,b@y.org").
 *   At most PUSH_CMD_MAX_RCPT addresses.
 * - Invalid UTF-8, NUL or other control characters (TAB, CR, LF apart)
 *   in the part that GET/REPLY/SEND use -> BAD.
 *
 * Limits: PUSH_CMD_MAX_LEN bytes of input.  Parsing is a single bounded
 * pass; no recursion.  No logging (the caller logs the type name).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "push-cmd.h"

#define PUSH_CMD_MAX_RCPT 10
#define PUSH_CMD_MAX_ADDR 254

static const struct {
    const char *word;
    enum push_cmd_type type;
} keywords[] = {
    { "GET", PUSH_CMD_GET }, { "LIST", PUSH_CMD_LIST },
    { "MORE", PUSH_CMD_MORE }, { "STOP", PUSH_CMD_STOP },
    { "START", PUSH_CMD_START }, { "HELP", PUSH_CMD_HELP },
    { "REPLY", PUSH_CMD_REPLY }, { "SEND", PUSH_CMD_SEND }
};

/* Byte cursor over the input. */
typedef struct {
    const unsigned char *s;
    long len;
    long pos;
} Cursor;

static int is_ws(int c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int is_alpha(int c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static int is_digit(int c)
{
    return c >= '0' && c <= '9';
}

static void skip_ws(Cursor *c)
{
    while (c->pos < c->len && is_ws(c->s[c->pos]))
        c->pos++;
}

/* 1 if s[from..len) is valid UTF-8 without controls but TAB/CR/LF. */
static int text_ok(const unsigned char *s, long from, long len)
{
    long i = from;
    int need, k;
    unsigned long cp, min;

    while (i < len) {
        unsigned char b = s[i];
        if (b < 0x80) {
            if ((b < 0x20 && !is_ws(b)) || b == 0x7F)
                return 0;
            i++;
            continue;
        }
        if (b >= 0xC2 && b <= 0xDF) {
            need = 1; cp = b & 0x1F; min = 0x80;
        } else if (b >= 0xE0 && b <= 0xEF) {
            need = 2; cp = b & 0x0F; min = 0x800;
        } else if (b >= 0xF0 && b <= 0xF4) {
            need = 3; cp = b & 0x07; min = 0x10000;
        } else {
            return 0;
        }
        if (need > len - i - 1)
            return 0;
        for (k = 1; k <= need; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return 0;
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return 0;
        if (cp >= 0x80 && cp <= 0x9F)       /* C1 controls */
            return 0;
        i += 1 + need;
    }
    return 1;
}

static PushCmd *cmd_new(enum push_cmd_type type)
{
    PushCmd *c = gw_malloc(sizeof(*c));

    c->type = type;
    c->n = 0;
    c->address = NULL;
    c->text = NULL;
    c->error = NULL;
    return c;
}

static PushCmd *cmd_bad(PushCmd *c, const char *why)
{
    c->type = PUSH_CMD_BAD;
    c->n = 0;
    octstr_destroy(c->address);
    c->address = NULL;
    octstr_destroy(c->text);
    c->text = NULL;
    octstr_destroy(c->error);
    c->error = octstr_create(why);
    return c;
}

/*
 * Read a mail number token at the cursor (digits up to whitespace or
 * end).  Returns 1..PUSH_CMD_MAX_N, 0 when there is no number, -1 when
 * the token is not a number, -2 when out of range.
 */
static long read_number(Cursor *c)
{
    long start = c->pos, end, n;
    char buf[24], *ep;

    end = start;
    while (end < c->len && !is_ws(c->s[end]))
        end++;
    if (end == start)
        return 0;
    c->pos = end;
    if (c->s[start] == '-' || c->s[start] == '+')
        return -2;
    for (n = start; n < end; n++)
        if (!is_digit(c->s[n]))
            return -1;
    while (start < end - 1 && c->s[start] == '0')   /* leading zeros */
        start++;
    if (end - start >= (long) sizeof(buf))
        return -2;
    memcpy(buf, c->s + start, end - start);
    buf[end - start] = '\0';
    errno = 0;
    n = strtol(buf, &ep, 10);
    if (errno == ERANGE || *ep != '\0' || n < 1 || n > PUSH_CMD_MAX_N)
        return -2;
    return n;
}

static PushCmd *parse_get(PushCmd *c, Cursor *cur)
{
    long n;

    skip_ws(cur);
    if (cur->pos == cur->len)
        return c;               /* GET alone: latest */
    n = read_number(cur);
    if (n == -2)
        return cmd_bad(c, "No such mail number. Send LIST to see them");
    if (n < 0)
        return cmd_bad(c, "GET needs a mail number, e.g. GET 3");
    skip_ws(cur);
    if (cur->pos != cur->len)
        return cmd_bad(c, "GET takes one mail number, e.g. GET 3");
    c->n = n;
    return c;
}

static Octstr *rest_text(Cursor *cur)
{
    skip_ws(cur);
    return octstr_create_from_data((const char *) cur->s + cur->pos,
                                   cur->len - cur->pos);
}

static PushCmd *parse_reply(PushCmd *c, Cursor *cur)
{
    long n;

    skip_ws(cur);
    n = read_number(cur);
    if (n == -2)
        return cmd_bad(c, "No such mail number. Send LIST to see them");
    if (n <= 0)
        return cmd_bad(c, "REPLY needs a mail number and text, "
                       "e.g. REPLY 3 See you");
    c->n = n;
    c->text = rest_text(cur);
    return c;
}

/* 1 if s[from..to) looks like one mail address. */
static int address_ok(const unsigned char *s, long from, long to)
{
    long i, at = -1;

    if (to - from < 3 || to - from > PUSH_CMD_MAX_ADDR)
        return 0;
    for (i = from; i < to; i++) {
        unsigned char b = s[i];
        if (b <= 0x20 || b >= 0x7F || strchr("<>()[]\\;:\",", b) != NULL)
            return 0;
        if (b == '@') {
            if (at >= 0)
                return 0;
            at = i;
        }
    }
    return at > from && at < to - 1 && s[to - 1] != '.'
           && s[at + 1] != '.';
}

static PushCmd *parse_send(PushCmd *c, Cursor *cur)
{
    Octstr *addrs;
    long start, count = 0;

    skip_ws(cur);
    if (cur->pos == cur->len || cur->s[cur->pos] == ',')
        return cmd_bad(c, "SEND needs an address and text, "
                       "e.g. SEND bob@x.com Hi");
    addrs = octstr_create("");
    for (;;) {
        start = cur->pos;
        while (cur->pos < cur->len && !is_ws(cur->s[cur->pos])
               && cur->s[cur->pos] != ',')
            cur->pos++;
        if (!address_ok(cur->s, start, cur->pos)) {
            octstr_destroy(addrs);
            return cmd_bad(c, "SEND: bad address, e.g. SEND bob@x.com Hi");
        }
        if (++count > PUSH_CMD_MAX_RCPT) {
            octstr_destroy(addrs);
            return cmd_bad(c, "SEND: at most 10 addresses");
        }
        if (count > 1)
            octstr_append_char(addrs, ',');
        octstr_append_data(addrs, (const char *) cur->s + start,
                           cur->pos - start);
        /* a comma, with optional whitespace around it, continues */
        skip_ws(cur);
        if (cur->pos < cur->len && cur->s[cur->pos] == ',') {
            cur->pos++;
            skip_ws(cur);
            continue;
        }
        break;
    }
    c->address = addrs;
    c->text = rest_text(cur);
    return c;
}

PushCmd *push_cmd_parse(const Octstr *sms_text)
{
    Cursor cur;
    long len, kw_end, i;
    enum push_cmd_type type = PUSH_CMD_UNKNOWN;
    PushCmd *c;

    if (sms_text == NULL)
        return cmd_new(PUSH_CMD_UNKNOWN);
    len = octstr_len(sms_text);
    if (len > PUSH_CMD_MAX_LEN)
        return cmd_bad(cmd_new(PUSH_CMD_BAD), "Message too long");
    cur.s = (const unsigned char *) octstr_get_cstr(sms_text);
    cur.len = len;
    cur.pos = 0;
    while (cur.len > 0 && is_ws(cur.s[cur.len - 1]))
        cur.len--;
    skip_ws(&cur);

    kw_end = cur.pos;
    while (kw_end < cur.len && is_alpha(cur.s[kw_end]))
        kw_end++;
    if (kw_end < cur.len && (is_alpha(cur.s[kw_end])
                             || cur.s[kw_end] >= 0x80))
        return cmd_new(PUSH_CMD_UNKNOWN);
    for (i = 0; i < (long) (sizeof(keywords) / sizeof(keywords[0])); i++) {
        long kl = strlen(keywords[i].word);
        if (kw_end - cur.pos == kl
            && strncasecmp((const char *) cur.s + cur.pos,
                           keywords[i].word, kl) == 0) {
            type = keywords[i].type;
            break;
        }
    }
    c = cmd_new(type);
    if (type == PUSH_CMD_UNKNOWN)
        return c;
    cur.pos = kw_end;
    switch (type) {
    case PUSH_CMD_GET:
    case PUSH_CMD_REPLY:
    case PUSH_CMD_SEND:
        if (!text_ok(cur.s, cur.pos, cur.len))
            return cmd_bad(c, "Message has unreadable characters");
        break;
    default:
        return c;       /* no-argument keyword: the rest is ignored */
    }
    /* anything glued to GET/REPLY must be the number */
    if (cur.pos < cur.len && !is_ws(cur.s[cur.pos])
        && !(type != PUSH_CMD_SEND && is_digit(cur.s[cur.pos])))
        return type == PUSH_CMD_GET
               ? cmd_bad(c, "GET needs a mail number, e.g. GET 3")
               : type == PUSH_CMD_REPLY
               ? cmd_bad(c, "REPLY needs a mail number and text, "
                         "e.g. REPLY 3 See you")
               : cmd_bad(c, "SEND needs an address and text, "
                         "e.g. SEND bob@x.com Hi");
    if (type == PUSH_CMD_GET)
        return parse_get(c, &cur);
    if (type == PUSH_CMD_REPLY)
        return parse_reply(c, &cur);
    return parse_send(c, &cur);
}

void push_cmd_destroy(PushCmd *c)
{
    if (c == NULL)
        return;
    octstr_destroy(c->address);
    octstr_destroy(c->text);
    octstr_destroy(c->error);
    gw_free(c);
}

const char *push_cmd_type_name(enum push_cmd_type t)
{
    switch (t) {
    case PUSH_CMD_GET: return "GET";
    case PUSH_CMD_LIST: return "LIST";
    case PUSH_CMD_MORE: return "MORE";
    case PUSH_CMD_STOP: return "STOP";
    case PUSH_CMD_START: return "START";
    case PUSH_CMD_HELP: return "HELP";
    case PUSH_CMD_REPLY: return "REPLY";
    case PUSH_CMD_SEND: return "SEND";
    case PUSH_CMD_UNKNOWN: return "UNKNOWN";
    case PUSH_CMD_BAD: return "BAD";
    }
    return "UNKNOWN";
}
