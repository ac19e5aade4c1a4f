/*
 * sms-text.c - SMS text coding: GSM 03.38 7-bit versus UCS-2, length
 * in units, truncation and paging for Kannel MT messages.
 *
 * Exports: see sms-text.h.
 *
 * Text is decoded from UTF-8 into an array of code points (invalid
 * bytes become U+FFFD), measured per code point and cut only between
 * code points, so a cut can never fall inside a UTF-8 sequence, a
 * UTF-16 surrogate pair or a GSM escape pair.
 *
 * Limits: segments clamped to 1..SMS_TEXT_MAX_SEGMENTS, at most
 * SMS_TEXT_MAX_PAGES pages.  No logging.  No state: thread-safe.
 */
#include <string.h>

#include "sms-text.h"

#define REPLACEMENT 0xFFFD
#define ELLIPSIS "..."
#define ELLIPSIS_UNITS 3

/* GSM 03.38 default alphabet, by septet value, as Unicode.  0x1B (the
 * escape to the extension table) is not a character: -1. */
static const long gsm_default[128] = {
    0x40, 0xA3, 0x24, 0xA5, 0xE8, 0xE9, 0xF9, 0xEC,
    0xF2, 0xC7, 0x0A, 0xD8, 0xF8, 0x0D, 0xC5, 0xE5,
    0x394, 0x5F, 0x3A6, 0x393, 0x39B, 0x3A9, 0x3A0, 0x3A8,
    0x3A3, 0x398, 0x39E, -1, 0xC6, 0xE6, 0xDF, 0xC9,
    0x20, 0x21, 0x22, 0x23, 0xA4, 0x25, 0x26, 0x27,
    0x28, 0x29, 0x2A, 0x2B, 0x2C, 0x2D, 0x2E, 0x2F,
    0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37,
    0x38, 0x39, 0x3A, 0x3B, 0x3C, 0x3D, 0x3E, 0x3F,
    0xA1, 0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x47,
    0x48, 0x49, 0x4A, 0x4B, 0x4C, 0x4D, 0x4E, 0x4F,
    0x50, 0x51, 0x52, 0x53, 0x54, 0x55, 0x56, 0x57,
    0x58, 0x59, 0x5A, 0xC4, 0xD6, 0xD1, 0xDC, 0xA7,
    0xBF, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67,
    0x68, 0x69, 0x6A, 0x6B, 0x6C, 0x6D, 0x6E, 0x6F,
    0x70, 0x71, 0x72, 0x73, 0x74, 0x75, 0x76, 0x77,
    0x78, 0x79, 0x7A, 0xE4, 0xF6, 0xF1, 0xFC, 0xE0
};

/* GSM 03.38 extension table characters (sent as ESC + septet). */
static const long gsm_extension[] = {
    0x0C, 0x5E, 0x7B, 0x7D, 0x5C, 0x5B, 0x7E, 0x5D, 0x7C, 0x20AC
};

/* Septets for one code point: 1 default, 2 extension, 0 not GSM. */
static int gsm_septets(long cp)
{
    size_t i;

    if (cp < 0x80) {
        /* printable ASCII except '`' is GSM; [\]^{|}~ are escaped */
        if (cp == '\n' || cp == '\r')
            return 1;
        if (cp == 0x0C)
            return 2;
        if (cp < 0x20 || cp == 0x7F || cp == '`')
            return 0;
        return strchr("[\\]^{|}~", (int) cp) != NULL ? 2 : 1;
    }
    for (i = 0; i < sizeof(gsm_default) / sizeof(gsm_default[0]); i++)
        if (gsm_default[i] == cp)
            return 1;
    for (i = 0; i < sizeof(gsm_extension) / sizeof(gsm_extension[0]); i++)
        if (gsm_extension[i] == cp)
            return 2;
    return 0;
}

/* Units for one code point in the given coding. */
static long cp_units(long cp, int gsm)
{
    int s;

    if (!gsm)
        return cp >= 0x10000 ? 2 : 1;
    s = gsm_septets(cp);
    return s == 0 ? 1 : s;
}

/*
 * Decode the UTF-8 sequence at s[*pos] (len bytes in all) and advance
 * *pos.  Overlong forms, surrogates, values above U+10FFFF and
 * truncated sequences give U+FFFD and advance one byte.
 */
static long utf8_next(const unsigned char *s, long len, long *pos)
{
    long i = *pos, cp, min;
    int need, k;
    unsigned char c = s[i];

    if (c < 0x80) {
        *pos = i + 1;
        return c;
    }
    if (c >= 0xC2 && c <= 0xDF) {
        need = 1; cp = c & 0x1F; min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
        need = 2; cp = c & 0x0F; min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 3; cp = c & 0x07; min = 0x10000;
    } else {
        *pos = i + 1;
        return REPLACEMENT;
    }
    if (need > len - i - 1) {
        *pos = i + 1;
        return REPLACEMENT;
    }
    for (k = 1; k <= need; k++) {
        if ((s[i + k] & 0xC0) != 0x80) {
            *pos = i + 1;
            return REPLACEMENT;
        }
        cp = (cp << 6) | (s[i + k] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
        *pos = i + 1;
        return REPLACEMENT;
    }
    *pos = i + 1 + need;
    return cp;
}

static void utf8_append(Octstr *os, long cp)
{
    if (cp < 0x80) {
        octstr_append_char(os, (int) cp);
    } else if (cp < 0x800) {
        octstr_append_char(os, 0xC0 | (int) (cp >> 6));
        octstr_append_char(os, 0x80 | (int) (cp & 0x3F));
    } else if (cp < 0x10000) {
        octstr_append_char(os, 0xE0 | (int) (cp >> 12));
        octstr_append_char(os, 0x80 | (int) ((cp >> 6) & 0x3F));
        octstr_append_char(os, 0x80 | (int) (cp & 0x3F));
    } else {
        octstr_append_char(os, 0xF0 | (int) (cp >> 18));
        octstr_append_char(os, 0x80 | (int) ((cp >> 12) & 0x3F));
        octstr_append_char(os, 0x80 | (int) ((cp >> 6) & 0x3F));
        octstr_append_char(os, 0x80 | (int) (cp & 0x3F));
    }
}

/* A decoded text: code points, count. */
typedef struct {
    long *cp;
    long n;
} CpText;

static void cptext_decode(CpText *t, const Octstr *utf8)
{
    const unsigned char *s;
    long len, pos = 0;

    t->n = 0;
    len = utf8 ? octstr_len(utf8) : 0;
    /* at most one code point per byte; +1 keeps gw_malloc(0) away */
    t->cp = gw_malloc((len + 1) * sizeof(long));
    if (len == 0)
        return;
    s = (const unsigned char *) octstr_get_cstr(utf8);
    while (pos < len)
        t->cp[t->n++] = utf8_next(s, len, &pos);
}

static void cptext_free(CpText *t)
{
    gw_free(t->cp);
    t->cp = NULL;
    t->n = 0;
}

static Octstr *cptext_encode(const CpText *t, long from, long to)
{
    Octstr *os = octstr_create("");
    long i;

    for (i = from; i < to; i++)
        utf8_append(os, t->cp[i]);
    return os;
}

static int cptext_is_gsm(const CpText *t)
{
    long i;

    for (i = 0; i < t->n; i++)
        if (gsm_septets(t->cp[i]) == 0)
            return 0;
    return 1;
}

static long cptext_units(const CpText *t, long from, long to, int gsm)
{
    long i, u = 0;

    for (i = from; i < to; i++)
        u += cp_units(t->cp[i], gsm);
    return u;
}

/* Largest end index e >= from with units(from, e) <= max. */
static long cptext_prefix(const CpText *t, long from, long max, int gsm)
{
    long i = from, u = 0, c;

    while (i < t->n) {
        c = cp_units(t->cp[i], gsm);
        if (u + c > max)
            break;
        u += c;
        i++;
    }
    return i;
}

static int is_space(long cp)
{
    return cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r'
           || cp == 0x0B || cp == 0x0C || cp == 0xA0;
}

int sms_text_is_gsm(const Octstr *utf8)
{
    CpText t;
    int r;

    cptext_decode(&t, utf8);
    r = cptext_is_gsm(&t);
    cptext_free(&t);
    return r;
}

long sms_text_units(const Octstr *utf8, int gsm)
{
    CpText t;
    long u;

    cptext_decode(&t, utf8);
    u = cptext_units(&t, 0, t.n, gsm);
    cptext_free(&t);
    return u;
}

long sms_text_capacity(long segments, int gsm)
{
    if (segments < 1)
        segments = 1;
    if (segments > SMS_TEXT_MAX_SEGMENTS)
        segments = SMS_TEXT_MAX_SEGMENTS;
    if (segments == 1)
        return gsm ? 160 : 70;
    return segments * (gsm ? 153 : 67);
}

/* Text from..to truncated to max units with "..." (trailing spaces
 * before the dots dropped). */
static Octstr *cut_with_ellipsis(const CpText *t, long from, long max,
                                 int gsm)
{
    long end;
    Octstr *os;

    end = cptext_prefix(t, from, max - ELLIPSIS_UNITS, gsm);
    while (end > from && is_space(t->cp[end - 1]))
        end--;
    os = cptext_encode(t, from, end);
    octstr_append_cstr(os, ELLIPSIS);
    return os;
}

Octstr *sms_text_fit(const Octstr *utf8, long segments, int *gsm_r)
{
    CpText t;
    int gsm;
    long cap;
    Octstr *os;

    cptext_decode(&t, utf8);
    gsm = cptext_is_gsm(&t);
    cap = sms_text_capacity(segments, gsm);
    if (cptext_units(&t, 0, t.n, gsm) <= cap)
        os = cptext_encode(&t, 0, t.n);
    else
        os = cut_with_ellipsis(&t, 0, cap, gsm);
    cptext_free(&t);
    if (gsm_r != NULL)
        *gsm_r = gsm;
    return os;
}

/*
 * Where to end a page that starts at `from` and may hold `room` units:
 * after the last whitespace in the part that fits, if that keeps at
 * least half the page; else at the last code point that fits (at least
 * one, so paging always advances).
 */
static long page_break(const CpText *t, long from, long room, int gsm)
{
    long end, i, u;

    end = cptext_prefix(t, from, room, gsm);
    if (end == from)
        return from + 1;
    if (end >= t->n || is_space(t->cp[end]))
        return end;
    u = cptext_units(t, from, end, gsm);
    for (i = end; i > from; i--) {
        u -= cp_units(t->cp[i - 1], gsm);   /* now units(from, i - 1) */
        if (u < room / 2)
            break;
        if (is_space(t->cp[i - 1]))
            return i - 1;
    }
    return end;
}

List *sms_text_pages(const Octstr *utf8, long segments,
                     const char *more_hint, int *gsm_r)
{
    CpText t, h;
    Octstr *hint, *page;
    List *pages = gwlist_create();
    long cap, hunits, from, last, end, pe, rest;
    int gsm;

    cptext_decode(&t, utf8);
    hint = octstr_create(more_hint ? more_hint : "");
    cptext_decode(&h, hint);
    gsm = cptext_is_gsm(&t) && cptext_is_gsm(&h);
    cap = sms_text_capacity(segments, gsm);
    hunits = cptext_units(&h, 0, h.n, gsm);
    if (hunits > cap / 2) {
        /* a hint that eats half the page is dropped */
        octstr_truncate(hint, 0);
        hunits = 0;
    }

    /* trim the whole input, so every later page has text */
    from = 0;
    last = t.n;
    while (from < last && is_space(t.cp[from]))
        from++;
    while (last > from && is_space(t.cp[last - 1]))
        last--;
    t.n = last;
    rest = cptext_units(&t, from, t.n, gsm);

    for (;;) {
        if (rest <= cap) {
            gwlist_append(pages, cptext_encode(&t, from, t.n));
            break;
        }
        if (gwlist_len(pages) == SMS_TEXT_MAX_PAGES - 1) {
            gwlist_append(pages, cut_with_ellipsis(&t, from, cap, gsm));
            break;
        }
        end = page_break(&t, from, cap - hunits, gsm);
        pe = end;
        while (pe > from && is_space(t.cp[pe - 1]))
            pe--;
        page = cptext_encode(&t, from, pe);
        octstr_append(page, hint);
        gwlist_append(pages, page);
        while (end < t.n && is_space(t.cp[end]))
            end++;
        rest -= cptext_units(&t, from, end, gsm);
        from = end;
    }
    cptext_free(&t);
    cptext_free(&h);
    octstr_destroy(hint);
    if (gsm_r != NULL)
        *gsm_r = gsm;
    return pages;
}

Octstr *sms_text_msgdata(const Octstr *utf8, int gsm, int *coding_r)
{
    CpText t;
    Octstr *os;
    long i, cp, hi, lo;

    cptext_decode(&t, utf8);
    if (gsm) {
        os = cptext_encode(&t, 0, t.n);
        if (coding_r != NULL)
            *coding_r = 0;
    } else {
        os = octstr_create("");
        for (i = 0; i < t.n; i++) {
            cp = t.cp[i];
            if (cp >= 0x10000) {
                hi = 0xD800 + ((cp - 0x10000) >> 10);
                lo = 0xDC00 + ((cp - 0x10000) & 0x3FF);
                octstr_append_char(os, (int) (hi >> 8));
                octstr_append_char(os, (int) (hi & 0xFF));
                octstr_append_char(os, (int) (lo >> 8));
                octstr_append_char(os, (int) (lo & 0xFF));
            } else {
                octstr_append_char(os, (int) (cp >> 8));
                octstr_append_char(os, (int) (cp & 0xFF));
            }
        }
        if (coding_r != NULL)
            *coding_r = 2;
    }
    cptext_free(&t);
    return os;
}

Octstr *sms_text_cut(const Octstr *utf8, long max_units, int gsm)
{
    CpText t;
    Octstr *os;

    cptext_decode(&t, utf8);
    if (max_units < 0)
        max_units = 0;
    if (cptext_units(&t, 0, t.n, gsm) <= max_units)
        os = cptext_encode(&t, 0, t.n);
    else if (max_units <= ELLIPSIS_UNITS)
        os = cptext_encode(&t, 0, cptext_prefix(&t, 0, max_units, gsm));
    else
        os = cut_with_ellipsis(&t, 0, max_units, gsm);
    cptext_free(&t);
    return os;
}

Octstr *sms_text_sanitize(const Octstr *utf8)
{
    CpText t;
    Octstr *os;

    cptext_decode(&t, utf8);
    os = cptext_encode(&t, 0, t.n);
    cptext_free(&t);
    return os;
}

Octstr *sms_text_one_line(const Octstr *utf8)
{
    Octstr *san = sms_text_sanitize(utf8), *out = octstr_create("");
    long i, len = octstr_len(san);
    int c, next, space = 0;

    for (i = 0; i < len; i++) {
        c = octstr_get_char(san, i);
        next = i + 1 < len ? octstr_get_char(san, i + 1) : -1;
        if (c == 0xC2 && (next == 0xA0 || (next >= 0x80 && next <= 0x9F))) {
            i++;                    /* no-break space or C1 control */
            c = ' ';
        } else if (c < 0x20 || c == 0x7F) {
            c = ' ';
        }
        if (c == ' ') {
            space = 1;
            continue;
        }
        if (space && octstr_len(out) > 0)
            octstr_append_char(out, ' ');
        space = 0;
        octstr_append_char(out, c);
    }
    octstr_destroy(san);
    return out;
}
