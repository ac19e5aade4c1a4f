/*
 * fuzz-imap-parser.c - fuzz target for the resumable IMAP parser.
 *
 * Feeds the input twice with small limits: whole, and in chunks whose
 * sizes come from the input itself, and checks that both runs agree on
 * the number of responses and on error versus success.
 */
#include <stdint.h>
#include <stdlib.h>

#include "gwlib/gwlib.h"
#include "imap-parser.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

static long run(const uint8_t *d, size_t n, int chunked, int *err_r)
{
    ImapParserLimits lim = { 512, 2048, 6, 64, 8192 };
    ImapParser *p = imap_parser_create(&lim);
    ImapResponse *r;
    size_t pos = 0, len, used;
    long count = 0;
    int ret;

    *err_r = 0;
    while (pos < n) {
        len = chunked ? (size_t) (d[pos] % 13) + 1 : n - pos;
        if (len > n - pos)
            len = n - pos;
        while (len > 0) {
            ret = imap_parser_feed(p, (const char *) d + pos, len, &used, &r);
            pos += used;
            len -= used;
            if (ret == IMAP_PARSE_ERROR) {
                if (imap_parser_error(p) == NULL)
                    abort();
                *err_r = 1;
                imap_parser_destroy(p);
                return count;
            }
            if (ret == IMAP_PARSE_DONE) {
                (void) imap_response_status(r);
                imap_response_destroy(r);
                count++;
            }
        }
    }
    imap_parser_destroy(p);
    return count;
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
    static int inited;
    int e1, e2;
    long c1, c2;

    if (!inited) {
        gwlib_init();
        log_set_output_level(GW_PANIC);
        inited = 1;
    }
    c1 = run(d, n, 0, &e1);
    c2 = run(d, n, 1, &e2);
    if (c1 != c2 || e1 != e2)
        abort();
    return 0;
}
