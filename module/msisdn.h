/*
 * msisdn.h - normalise phone numbers (MSISDNs) to E.164 "+<digits>".
 *
 * Exports: msisdn_normalise().
 *
 * Accepted input (spaces, dashes, dots and parentheses are ignored):
 *   "+46701234567"   international with '+'
 *   "0046701234567"  international with the "00" international prefix
 *   "0701234567"     national: starts with national_prefix; needs
 *                    country_code ("46" gives "+46701234567")
 *   "46701234567"    other bare digits: taken as international without '+'
 * The result has 8..15 digits after the '+'.
 *
 * Note on precedence: "00" is tried before the national prefix, so with a
 * national prefix of "0" the input "00..." is always international.
 *
 * Limits: input longer than 64 bytes is refused.
 * Logs: nothing; errors come back as text quoting at most 32 bytes of the
 * input with non-printable bytes replaced by '?'.
 */
#ifndef MSISDN_H
#define MSISDN_H

#include "gwlib/gwlib.h"

/*
 * Normalise `in`.  country_code is digits without '+' ("46") or NULL;
 * national_prefix is digits ("0") or NULL (then no national form).
 * Returns a new Octstr "+<digits>" owned by the caller, or NULL with
 * *err_r (if err_r is not NULL) set to a new Octstr with a one-sentence
 * message, owned by the caller.  Thread-safe; does not keep any argument.
 */
Octstr *msisdn_normalise(const Octstr *in, const Octstr *country_code,
                         const Octstr *national_prefix, Octstr **err_r);

/*
 * 1 if `s` is already in normal form ("+" and 8..15 digits), else 0.
 * Thread-safe.
 */
int msisdn_is_normal(const Octstr *s);

#endif
