/*
 * msisdn.c - normalise phone numbers (MSISDNs) to E.164 "+<digits>".
 *
 * Exports: msisdn_normalise(), msisdn_is_normal() (see msisdn.h).
 *
 * Limits: 64 bytes of input; 8..15 digits in the result; the country code
 * 1..3 digits, the national prefix 1..4 digits.
 * Logs: nothing.  Error texts quote at most 32 bytes of the input, with
 * non-printable bytes replaced by '?'.
 */
#include <ctype.h>

#include "msisdn.h"

#define MSISDN_MAX_INPUT 64
#define MSISDN_MIN_DIGITS 8
#define MSISDN_MAX_DIGITS 15
#define MSISDN_QUOTE_MAX 32

/* A printable, truncated copy of `in` for error messages. */
static Octstr *quote_input(const Octstr *in)
{
    Octstr *q = octstr_create("");
    long i, len = octstr_len(in);

    for (i = 0; i < len && i < MSISDN_QUOTE_MAX; i++) {
        int c = octstr_get_char(in, i);
        octstr_append_char(q, (c >= 0x20 && c < 0x7f) ? c : '?');
    }
    if (len > MSISDN_QUOTE_MAX)
        octstr_append_cstr(q, "...");
    return q;
}

static void set_err(Octstr **err_r, const Octstr *in, const char *fmt,
                    const char *extra)
{
    Octstr *q;

    if (err_r == NULL)
        return;
    q = in != NULL ? quote_input(in) : octstr_create("");
    *err_r = octstr_format(fmt, octstr_get_cstr(q), extra ? extra : "");
    octstr_destroy(q);
}

static int all_digits(const Octstr *s, long from)
{
    long i;

    for (i = from; i < octstr_len(s); i++)
        if (!isdigit(octstr_get_char(s, i)))
            return 0;
    return 1;
}

/* 1 if `p` is NULL/empty or `min`..`max` digits; 0 otherwise. */
static int digits_ok(const Octstr *p, long min, long max)
{
    return p == NULL || (octstr_len(p) >= min && octstr_len(p) <= max &&
                         all_digits(p, 0));
}

int msisdn_is_normal(const Octstr *s)
{
    long len;

    if (s == NULL)
        return 0;
    len = octstr_len(s);
    return len >= 1 + MSISDN_MIN_DIGITS && len <= 1 + MSISDN_MAX_DIGITS &&
           octstr_get_char(s, 0) == '+' && octstr_get_char(s, 1) != '0' &&
           all_digits(s, 1);
}

Octstr *msisdn_normalise(const Octstr *in, const Octstr *country_code,
                         const Octstr *national_prefix, Octstr **err_r)
{
    Octstr *s, *res = NULL;
    long i, len, ndig;
    int plus = 0;

    if (err_r != NULL)
        *err_r = NULL;
    if (in == NULL || octstr_len(in) == 0) {
        set_err(err_r, NULL, "the phone number is empty%s%s", NULL);
        return NULL;
    }
    if (octstr_len(in) > MSISDN_MAX_INPUT) {
        set_err(err_r, in, "phone number \"%s\" is too long%s", NULL);
        return NULL;
    }
    if (!digits_ok(country_code, 1, 3)) {
        set_err(err_r, NULL, "country-code must be 1 to 3 digits%s%s",
                NULL);
        return NULL;
    }
    if (!digits_ok(national_prefix, 1, 4)) {
        set_err(err_r, NULL, "national-prefix must be 1 to 4 digits%s%s",
                NULL);
        return NULL;
    }

    /* Drop separators; accept one '+' before the first digit. */
    s = octstr_create("");
    len = octstr_len(in);
    for (i = 0; i < len; i++) {
        int c = octstr_get_char(in, i);
        char bad[2];

        if (c == ' ' || c == '-' || c == '.' || c == '(' || c == ')')
            continue;
        if (c == '+' && octstr_len(s) == 0 && !plus) {
            plus = 1;
            continue;
        }
        if (isdigit(c)) {
            octstr_append_char(s, c);
            continue;
        }
        bad[0] = (c >= 0x20 && c < 0x7f) ? c : '?';
        bad[1] = '\0';
        set_err(err_r, in, "phone number \"%s\" contains \"%s\"; use "
                "digits, one leading +, spaces, dashes, dots or "
                "parentheses", bad);
        octstr_destroy(s);
        return NULL;
    }

    if (plus) {
        res = octstr_duplicate(s);
    } else if (octstr_len(s) > 2 && octstr_get_char(s, 0) == '0' &&
               octstr_get_char(s, 1) == '0') {
        res = octstr_copy(s, 2, octstr_len(s) - 2);
    } else if (national_prefix != NULL && octstr_len(national_prefix) > 0 &&
               octstr_len(s) > octstr_len(national_prefix) &&
               octstr_ncompare(s, national_prefix,
                               octstr_len(national_prefix)) == 0) {
        if (country_code == NULL || octstr_len(country_code) == 0) {
            set_err(err_r, in, "phone number \"%s\" is in national form; "
                    "write it as +<country code><number>, or set "
                    "country-code in group pushmail%s", NULL);
            octstr_destroy(s);
            return NULL;
        }
        res = octstr_duplicate(country_code);
        octstr_append_data(res, octstr_get_cstr(s) +
                           octstr_len(national_prefix),
                           octstr_len(s) - octstr_len(national_prefix));
    } else {
        res = octstr_duplicate(s);
    }
    octstr_destroy(s);

    ndig = octstr_len(res);
    if (ndig < MSISDN_MIN_DIGITS || ndig > MSISDN_MAX_DIGITS) {
        Octstr *n = octstr_format("%ld", ndig);
        set_err(err_r, in, "phone number \"%s\" has %s digits with the "
                "country code; an international number has 8 to 15",
                octstr_get_cstr(n));
        octstr_destroy(n);
        octstr_destroy(res);
        return NULL;
    }
    if (octstr_get_char(res, 0) == '0') {
        set_err(err_r, in, "phone number \"%s\" does not start with a "
                "country code (country codes never start with 0)%s", NULL);
        octstr_destroy(res);
        return NULL;
    }
    octstr_insert_char(res, 0, '+');
    return res;
}
