/*
 * convert-clean.c - text clean-up for convert-text: charsets to UTF-8
 * (iconv through GMime), RFC 2047 encoded-words, whitespace tidying,
 * format=flowed, and trimming of quotes and signatures.
 *
 * Exports: convert_to_utf8, convert_text_tidy, convert_header_decode
 *          (convert-text.h); convert_clean_line, convert_unflow,
 *          convert_trim_quotes, convert_rfc2047 (convert-private.h).
 *
 * Limits: every function is one bounded pass over its input (header
 * charset names up to 60 bytes).  Bytes that do not convert become
 * U+FFFD; output is always valid UTF-8.
 *
 * Logs nothing.  No state: thread-safe after convert_init().
 */
#include <ctype.h>
#include <errno.h>
#include <iconv.h>
#include <string.h>
#include <strings.h>

#include <gmime/gmime.h>

#include "convert-text.h"
#include "convert-private.h"
#include "sms-text.h"

/* --- text helpers ------------------------------------------------- */

/* One line from UTF-8 (NULL ok): invalid bytes -> U+FFFD, controls ->
 * space, whitespace collapsed, trimmed, at most max_units UTF-16
 * units (cut with "...").  New Octstr. */
Octstr *convert_clean_line(const char *s, long max_units)
{
    Octstr *raw = octstr_create(s ? s : ""), *line, *cut;

    line = sms_text_one_line(raw);
    octstr_destroy(raw);
    cut = sms_text_cut(line, max_units, 0);
    octstr_destroy(line);
    return cut;
}

static void append_replacement(Octstr *os)
{
    octstr_append_cstr(os, "\xef\xbf\xbd");
}

static int looks_utf8(const char *data, size_t len)
{
    Octstr *in = octstr_create_from_data(data, len);
    Octstr *san = sms_text_sanitize(in);
    int r = octstr_compare(in, san) == 0;

    octstr_destroy(in);
    octstr_destroy(san);
    return r;
}

static Octstr *iconv_all(iconv_t cd, const char *data, size_t len)
{
    Octstr *out = octstr_create("");
    char buf[4096], *inp = (char *) data, *outp;
    size_t inleft = len, outleft, r;

    while (inleft > 0) {
        outp = buf;
        outleft = sizeof(buf);
        r = iconv(cd, &inp, &inleft, &outp, &outleft);
        octstr_append_data(out, buf, outp - buf);
        if (r != (size_t) -1)
            continue;
        if (errno == E2BIG && outp != buf)
            continue;
        if (errno == EILSEQ || errno == EINVAL) {
            append_replacement(out);
            inp++;
            inleft--;
            continue;
        }
        append_replacement(out);        /* anything else: give up */
        break;
    }
    outp = buf;
    outleft = sizeof(buf);
    if (iconv(cd, NULL, NULL, &outp, &outleft) != (size_t) -1)
        octstr_append_data(out, buf, outp - buf);
    return out;
}

/*
 * Bytes in `charset` (NULL: unknown) to UTF-8.  Unknown or absent
 * charsets: UTF-8 when the bytes are valid UTF-8, else windows-1252.
 * Bytes that do not convert become U+FFFD.  New Octstr.
 */
Octstr *convert_to_utf8(const char *data, long len, const char *charset)
{
    iconv_t cd = (iconv_t) -1;
    Octstr *out, *san;

    if (data == NULL || len <= 0)
        return octstr_create("");
    if (charset != NULL && *charset != '\0'
        && strcasecmp(charset, "us-ascii") != 0
        && strcasecmp(charset, "utf-8") != 0
        && strcasecmp(charset, "utf8") != 0)
        cd = g_mime_iconv_open("UTF-8", charset);
    if (cd == (iconv_t) -1) {
        if ((charset != NULL && strncasecmp(charset, "utf", 3) == 0)
            || looks_utf8(data, len)) {
            out = octstr_create_from_data(data, len);
            san = sms_text_sanitize(out);
            octstr_destroy(out);
            return san;
        }
        cd = g_mime_iconv_open("UTF-8", "windows-1252");
        if (cd == (iconv_t) -1) {
            out = octstr_create_from_data(data, len);
            san = sms_text_sanitize(out);
            octstr_destroy(out);
            return san;
        }
    }
    out = iconv_all(cd, data, len);
    g_mime_iconv_close(cd);
    san = sms_text_sanitize(out);
    octstr_destroy(out);
    return san;
}

/* Append `line` (data, len) to out, then a newline. */
static void put_line(Octstr *out, const char *p, long len)
{
    octstr_append_data(out, p, len);
    octstr_append_char(out, '\n');
}

Octstr *convert_text_tidy(const Octstr *text)
{
    Octstr *san = sms_text_sanitize(text), *out = octstr_create("");
    Octstr *line = octstr_create("");
    long i, len = octstr_len(san), blank = 0;
    int c, c1, c2, space = 0;

    for (i = 0; i <= len; i++) {
        c = i < len ? octstr_get_char(san, i) : '\n';
        c1 = i + 1 < len ? octstr_get_char(san, i + 1) : -1;
        c2 = i + 2 < len ? octstr_get_char(san, i + 2) : -1;
        if (c == '\r') {
            if (c1 == '\n')
                continue;
            c = '\n';
        }
        if (c == 0xE2 && c1 == 0x80 && (c2 == 0xA8 || c2 == 0xA9)) {
            i += 2;                     /* U+2028, U+2029 */
            c = '\n';
        }
        if (c == '\n') {
            if (octstr_len(line) == 0) {
                blank++;
            } else {
                if (octstr_len(out) > 0)
                    octstr_append_cstr(out, blank > 0 ? "\n\n" : "\n");
                octstr_append(out, line);
                blank = 0;
            }
            octstr_truncate(line, 0);
            space = 0;
            continue;
        }
        if (c == 0xC2 && c1 == 0xA0) {
            i++;
            c = ' ';
        } else if (c == 0xC2 && ((c1 >= 0x80 && c1 <= 0x9F)
                                 || c1 == 0xAD)) {
            i++;                        /* C1 control, soft hyphen */
            continue;
        } else if (c == 0xE2 && c1 == 0x80
                   && (c2 == 0x8B || c2 == 0x8C || c2 == 0x8E
                       || c2 == 0x8F)) {
            i += 2;                     /* zero width, LRM, RLM */
            continue;
        } else if (c == 0xEF && c1 == 0xBB && c2 == 0xBF) {
            i += 2;                     /* BOM */
            continue;
        } else if (c == '\t' || c == 0x0B || c == 0x0C) {
            c = ' ';
        } else if (c < 0x20 || c == 0x7F) {
            continue;
        }
        if (c == ' ') {
            space = 1;
            continue;
        }
        if (space && octstr_len(line) > 0)
            octstr_append_char(line, ' ');
        space = 0;
        octstr_append_char(line, c);
    }
    octstr_destroy(line);
    octstr_destroy(san);
    return out;
}

/* format=flowed (RFC 3676): join soft-broken lines. */
Octstr *convert_unflow(const Octstr *text, int delsp)
{
    Octstr *out = octstr_create("");
    const char *s = octstr_get_cstr(text), *nl;
    long len = octstr_len(text), pos = 0, l;

    while (pos < len) {
        nl = memchr(s + pos, '\n', len - pos);
        l = nl ? nl - (s + pos) : len - pos;
        if (l > 0 && s[pos + l - 1] == '\r')
            l--;
        if (l > 0 && s[pos] == ' ') {   /* space-stuffed */
            pos++;
            l--;
        }
        if (l > 0 && s[pos + l - 1] == ' ' && s[pos] != '>'
            && !(l == 3 && memcmp(s + pos, "-- ", 3) == 0))
            octstr_append_data(out, s + pos, delsp ? l - 1 : l);
        else
            put_line(out, s + pos, l);
        pos += (nl ? nl - (s + pos) + 1 : len - pos);
    }
    return out;
}

/* --- quote and signature trimming --------------------------------- */

static int line_ends_ci(const char *p, long len, const char *suffix)
{
    long n = strlen(suffix);

    while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\r'))
        len--;
    return len >= n && strncasecmp(p + len - n, suffix, n) == 0;
}

static int is_attribution(const char *p, long len)
{
    return line_ends_ci(p, len, "wrote:") || line_ends_ci(p, len, "writes:")
           || line_ends_ci(p, len, "schrieb:")
           || line_ends_ci(p, len, "crit :")
           || line_ends_ci(p, len, "crit:")
           || line_ends_ci(p, len, "escribi\xc3\xb3:")
           || line_ends_ci(p, len, "skrev:");
}

static int starts_attribution(const char *p, long len)
{
    return (len > 3 && (strncasecmp(p, "On ", 3) == 0
                        || strncasecmp(p, "Am ", 3) == 0
                        || strncasecmp(p, "Le ", 3) == 0
                        || strncasecmp(p, "El ", 3) == 0));
}

static int is_blank(const char *p, long len)
{
    long i;

    for (i = 0; i < len; i++)
        if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r')
            return 0;
    return 1;
}

static int is_quoted(const char *p, long len)
{
    long i = 0;

    while (i < len && (p[i] == ' ' || p[i] == '\t'))
        i++;
    return i < len && p[i] == '>';
}

/* "-----Original Message-----", "----- Original Message -----" */
static int is_original_message(const char *p, long len)
{
    const char *w = "original message";
    long i, n = strlen(w);

    if (len < 5 || strncmp(p, "-----", 5) != 0)
        return 0;
    for (i = 5; i + n <= len; i++)
        if (strncasecmp(p + i, w, n) == 0)
            return 1;
    return 0;
}

/* Outlook's separator: a line of at least 20 underscores. */
static int is_underscores(const char *p, long len)
{
    long i;

    while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\r'))
        len--;
    if (len < 20)
        return 0;
    for (i = 0; i < len; i++)
        if (p[i] != '_')
            return 0;
    return 1;
}

/* Lines as (start, length) pairs into a string. */
typedef struct {
    long *start;
    long *len;
    long n;
} Lines;

static void lines_split(Lines *ls, const char *s, long len)
{
    long pos = 0, cap = 1;
    const char *nl;
    long i;

    for (i = 0; i < len; i++)
        if (s[i] == '\n')
            cap++;
    ls->start = gw_malloc(cap * sizeof(long));
    ls->len = gw_malloc(cap * sizeof(long));
    ls->n = 0;
    while (pos <= len && ls->n < cap) {
        nl = pos < len ? memchr(s + pos, '\n', len - pos) : NULL;
        ls->start[ls->n] = pos;
        ls->len[ls->n] = nl ? nl - (s + pos) : len - pos;
        ls->n++;
        if (nl == NULL)
            break;
        pos = nl - s + 1;
    }
}

static void lines_free(Lines *ls)
{
    gw_free(ls->start);
    gw_free(ls->len);
}

/*
 * Drop ">" quoted lines with the attribution line ("On ... wrote:",
 * possibly wrapped over two lines) before each block, everything from
 * a signature separator ("-- ", or "--" with at most 10 lines after),
 * and everything from an Outlook "-----Original Message-----" line.
 * If nothing would be left, the text is kept as it is.  New Octstr.
 */
Octstr *convert_trim_quotes(const Octstr *text)
{
    const char *s = octstr_get_cstr(text);
    Lines ls;
    char *keep;
    long i, j, end, kept = 0;
    Octstr *out;

    lines_split(&ls, s, octstr_len(text));
    keep = gw_malloc(ls.n + 1);
    end = ls.n;
    for (i = 0; i < ls.n; i++) {
        const char *p = s + ls.start[i];
        long l = ls.len[i];
        while (l > 0 && p[l - 1] == '\r')
            l--;
        keep[i] = 1;
        if ((l == 3 && memcmp(p, "-- ", 3) == 0)
            || (l == 2 && memcmp(p, "--", 2) == 0 && ls.n - i <= 11)
            || is_original_message(p, l)
            || (is_underscores(p, l) && i + 1 < ls.n
                && ls.len[i + 1] >= 5
                && strncasecmp(s + ls.start[i + 1], "From:", 5) == 0)) {
            end = i;
            break;
        }
        if (!is_quoted(p, l))
            continue;
        keep[i] = 0;
        if (i > 0 && is_quoted(s + ls.start[i - 1], ls.len[i - 1]))
            continue;
        /* first line of a quoted block: find its attribution */
        for (j = i - 1; j >= 0 && is_blank(s + ls.start[j], ls.len[j]); j--)
            ;
        if (j >= 0 && is_attribution(s + ls.start[j], ls.len[j])) {
            keep[j] = 0;
            if (!starts_attribution(s + ls.start[j], ls.len[j]) && j > 0
                && starts_attribution(s + ls.start[j - 1], ls.len[j - 1]))
                keep[j - 1] = 0;
        }
    }
    out = octstr_create("");
    for (i = 0; i < end; i++) {
        if (!keep[i])
            continue;
        put_line(out, s + ls.start[i], ls.len[i]);
        if (!is_blank(s + ls.start[i], ls.len[i]))
            kept++;
    }
    gw_free(keep);
    lines_free(&ls);
    if (kept == 0) {
        octstr_destroy(out);
        return octstr_duplicate(text);
    }
    return out;
}

/* --- RFC 2047 ------------------------------------------------------
 *
 * GMime 3.2 mis-decodes a multibyte character split over two padded B
 * encoded-words, so adjacent encoded-words with the same charset are
 * joined here first: their bytes are concatenated, then either
 * converted to UTF-8 (unstructured headers) or re-encoded as one B word
 * for GMime's address parser.  Single bounded pass.
 */

static int is_lws(int c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/*
 * If s (len bytes) starts with an encoded-word "=?cs?E?text?=", set the
 * charset length (after "=?"), the encoding ('B'/'Q') and the text
 * offset and length; return the word's length, else 0.
 */
static long encoded_word(const unsigned char *s, long len, long *cs_len,
                         int *enc, long *txt_off, long *txt_len)
{
    long i, q1;

    if (len < 8 || s[0] != '=' || s[1] != '?')
        return 0;
    for (i = 2; i < len && s[i] != '?'; i++)
        if (s[i] <= ' ' || s[i] >= 0x7F || i > 60)
            return 0;
    q1 = i;
    if (q1 == 2 || q1 + 3 >= len || s[q1 + 2] != '?')
        return 0;
    *enc = toupper(s[q1 + 1]);
    if (*enc != 'B' && *enc != 'Q')
        return 0;
    for (i = q1 + 3; i + 1 < len; i++) {
        if (s[i] == '?' && s[i + 1] == '=')
            break;
        if (s[i] <= ' ' || s[i] >= 0x7F)
            return 0;
    }
    if (i + 1 >= len)
        return 0;
    *cs_len = q1 - 2;
    *txt_off = q1 + 3;
    *txt_len = i - (q1 + 3);
    return i + 2;
}

static int hex_val(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = toupper(c);
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static int b64_val(int c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

static void word_bytes(Octstr *bytes, const unsigned char *t, long n,
                       int enc)
{
    long i;

    if (enc == 'B') {
        /* lenient and silent: skip non-alphabet bytes, stop at '=' */
        unsigned long acc = 0;
        int bits = 0, v;
        for (i = 0; i < n && t[i] != '='; i++) {
            v = b64_val(t[i]);
            if (v < 0)
                continue;
            acc = (acc << 6) | v;
            bits += 6;
            if (bits >= 8) {
                bits -= 8;
                octstr_append_char(bytes, (int) ((acc >> bits) & 0xFF));
            }
        }
        return;
    }
    for (i = 0; i < n; i++) {
        if (t[i] == '_')
            octstr_append_char(bytes, ' ');
        else if (t[i] == '=' && i + 2 < n && hex_val(t[i + 1]) >= 0
                 && hex_val(t[i + 2]) >= 0) {
            octstr_append_char(bytes, hex_val(t[i + 1]) * 16
                                      + hex_val(t[i + 2]));
            i += 2;
        } else {
            octstr_append_char(bytes, t[i]);
        }
    }
}

/* Emit the pending word (charset cs, bytes) to out. */
static void word_flush(Octstr *out, Octstr *cs, Octstr *bytes, int merge)
{
    Octstr *t;

    if (merge) {
        t = octstr_duplicate(bytes);
        octstr_binary_to_base64(t);
        octstr_delete_matching(t, octstr_imm("\r"));
        octstr_delete_matching(t, octstr_imm("\n"));
        octstr_format_append(out, "=?%S?B?%S?=", cs, t);
    } else {
        t = convert_to_utf8(octstr_get_cstr(bytes), octstr_len(bytes),
                            octstr_get_cstr(cs));
        octstr_append(out, t);
    }
    octstr_destroy(t);
}

static void plain_flush(Octstr *out, Octstr *plain, int merge)
{
    Octstr *t;

    if (octstr_len(plain) == 0)
        return;
    if (merge) {
        octstr_append(out, plain);
    } else {
        t = convert_to_utf8(octstr_get_cstr(plain), octstr_len(plain),
                            NULL);
        octstr_append(out, t);
        octstr_destroy(t);
    }
    octstr_truncate(plain, 0);
}

/*
 * merge = 0: decode to UTF-8 (8-bit text outside words: UTF-8 if valid,
 * else windows-1252).  merge = 1: the raw value with adjacent same-
 * charset words joined into one B word.  New Octstr.
 */
Octstr *convert_rfc2047(const char *raw, int merge)
{
    const unsigned char *s = (const unsigned char *) (raw ? raw : "");
    long len = strlen((const char *) s), pos = 0, ws = 0;
    long wl, csl, toff, tlen, star;
    int enc;
    Octstr *out = octstr_create(""), *plain = octstr_create("");
    Octstr *cs = NULL, *bytes = octstr_create(""), *wcs;

    while (pos < len) {
        wl = encoded_word(s + pos, len - pos, &csl, &enc, &toff, &tlen);
        if (wl > 0) {
            wcs = octstr_create_from_data((const char *) s + pos + 2, csl);
            star = octstr_search_char(wcs, '*', 0);
            if (star >= 0)
                octstr_truncate(wcs, star);
            if (cs != NULL && octstr_case_compare(cs, wcs) != 0) {
                word_flush(out, cs, bytes, merge);
                if (merge)
                    octstr_append_data(out, (const char *) s + ws,
                                       pos - ws);
                octstr_destroy(cs);
                cs = NULL;
            }
            if (cs == NULL) {
                plain_flush(out, plain, merge);
                cs = wcs;
                octstr_truncate(bytes, 0);
            } else {
                octstr_destroy(wcs);
            }
            word_bytes(bytes, s + pos + toff, tlen, enc);
            pos += wl;
            ws = pos;
            continue;
        }
        if (cs != NULL && is_lws(s[pos])) {
            pos++;
            continue;
        }
        if (cs != NULL) {
            word_flush(out, cs, bytes, merge);
            octstr_destroy(cs);
            cs = NULL;
            octstr_append_data(plain, (const char *) s + ws, pos - ws);
        }
        octstr_append_char(plain, s[pos]);
        pos++;
    }
    if (cs != NULL) {
        word_flush(out, cs, bytes, merge);
        octstr_destroy(cs);
    }
    plain_flush(out, plain, merge);
    octstr_destroy(plain);
    octstr_destroy(bytes);
    return out;
}


Octstr *convert_header_decode(const Octstr *raw)
{
    Octstr *dec, *out;

    if (raw == NULL || octstr_len(raw) == 0)
        return octstr_create("");
    dec = convert_rfc2047(octstr_get_cstr(raw), 0);
    out = convert_clean_line(octstr_get_cstr(dec), CONVERT_HEADER_MAX);
    octstr_destroy(dec);
    return out;
}

void convert_cut_utf8(Octstr *s, long max)
{
    if (max < 0)
        max = 0;
    if (octstr_len(s) <= max)
        return;
    while (max > 0 && (octstr_get_char(s, max) & 0xC0) == 0x80)
        max--;
    octstr_truncate(s, max);
}
