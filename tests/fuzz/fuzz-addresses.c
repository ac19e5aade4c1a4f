/*
 * fuzz-addresses.c - fuzz target for the operator-input parsers:
 * mailurl_parse() (mailbox URLs), mailurl_check_smtp() and
 * msisdn_normalise() (phone numbers).
 *
 * libFuzzer: clang -fsanitize=fuzzer,address -DPM_LIBFUZZER ...; with
 * gcc, tests/fuzz/fuzz-main.c feeds files to LLVMFuzzerTestOneInput.
 * Aborts when a result breaks its contract: an accepted URL formats to a
 * URL that parses again to the same fields and never carries a password;
 * an accepted number is "+" and 8 to 15 digits; a refusal has a reason.
 */
#include <stdint.h>
#include <stdlib.h>

#include "gwlib/gwlib.h"
#include "mailurl.h"
#include "msisdn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok)
{
    if (!ok)
        abort();
}

static void fuzz_url(Octstr *in)
{
    Octstr *err = NULL, *canon, *err2 = NULL;
    MailUrl *u, *again;

    u = mailurl_parse(in, &err);
    check((u == NULL) == (err != NULL));
    if (u != NULL) {
        check(u->host != NULL && octstr_len(u->host) > 0);
        check(u->port >= 1 && u->port <= 65535);
        canon = mailurl_format(u);
        again = mailurl_parse(canon, &err2);
        check(again != NULL);
        check(octstr_compare(again->user, u->user) == 0);
        check(octstr_compare(again->host, u->host) == 0);
        check(again->port == u->port && again->tls == u->tls);
        check(again->proto == u->proto);
        mailurl_destroy(again);
        octstr_destroy(canon);
        mailurl_destroy(u);
    }
    octstr_destroy(err);
    octstr_destroy(err2);
    err = NULL;
    if (mailurl_check_smtp(in, &err) < 0)
        check(err != NULL);
    octstr_destroy(err);
}

static void fuzz_msisdn(Octstr *in)
{
    Octstr *err = NULL, *m;
    long i;

    m = msisdn_normalise(in, octstr_imm("46"), octstr_imm("0"), &err);
    check((m == NULL) == (err != NULL));
    if (m != NULL) {
        check(octstr_len(m) >= 9 && octstr_len(m) <= 16);
        check(octstr_get_char(m, 0) == '+');
        for (i = 1; i < octstr_len(m); i++)
            check(gw_isdigit(octstr_get_char(m, i)));
        check(msisdn_is_normal(m));
    }
    octstr_destroy(m);
    octstr_destroy(err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int initialised;     /* fuzz driver only: single-threaded */
    Octstr *in;

    if (!initialised) {
        gwlib_init();
        log_set_output_level(GW_PANIC);
        initialised = 1;
    }
    in = octstr_create_from_data((const char *) data, (long) size);
    fuzz_url(in);
    fuzz_msisdn(in);
    octstr_destroy(in);
    return 0;
}
