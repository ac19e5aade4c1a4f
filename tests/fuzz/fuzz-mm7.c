/*
 * fuzz-mm7.c - fuzz target for mm7_parse_request, mm7_parse_response and
 * the multipart splitter.
 *
 * The first input byte picks the Content-Type the bytes are parsed under
 * (text/xml, one of the boundaries of tests/data/mm7, or none); the rest
 * is the body.  Aborts when a result breaks the contract in mm7-soap.h.
 * libFuzzer: clang -fsanitize=fuzzer,address -DPM_LIBFUZZER ...; with gcc,
 * tests/fuzz/fuzz-main.c feeds files to LLVMFuzzerTestOneInput.  Seeds:
 * tests/data/mm7/fuzz/ (the example messages, body only, type byte first).
 */
#include <stdint.h>
#include <stdlib.h>

#include "gwlib/gwlib.h"
#include "mm7-mime.h"
#include "mm7-soap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok)
{
    if (!ok)
        abort();
}

static const char *const types[] = {
    "text/xml",
    "multipart/related; boundary=\"mm7-outer-9b3c55\"; type=\"text/xml\"",
    "multipart/related; boundary=outer; start=\"<soap-mo>\"",
    "multipart/related; boundary=b2",
    "multipart/form-data; boundary=b",
    "multipart/related; boundary=\"mmsc-mo-outer-4410\"; type=\"text/xml\"",
    NULL,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int initialised;     /* fuzz driver only: single-threaded */
    Octstr *body, *ct, *x;
    Mm7Request q;
    Mm7Result r;
    Mm7Mime *m;
    const char *err = NULL;
    int rc, t;
    long i;

    if (!initialised) {
        gwlib_init();
        log_set_output_level(GW_PANIC);
        mm7_soap_init();
        initialised = 1;
    }
    if (size < 1)
        return 0;
    t = data[0] % (sizeof(types) / sizeof(types[0]));
    ct = types[t] == NULL ? NULL : octstr_create(types[t]);
    body = octstr_create_from_data((const char *) data + 1, (long) size - 1);

    rc = mm7_parse_request(body, ct, &q);
    check(rc == 0 || rc == -1);
    if (rc == -1) {
        check(q.error_code == MM7_FORMAT_CORRUPT
              || q.error_code == MM7_VALIDATION_ERROR);
        check(q.error_text != NULL && q.error_text[0] != '\0');
    } else {
        check((q.type == MM7_REQ_DELIVERY_REPORT) == (q.report != NULL));
        check(q.op != NULL);
        if (q.report != NULL)
            check(q.report->message_id != NULL && q.report->status != NULL);
        if (q.deliver != NULL) {
            check(q.deliver->sender != NULL);
            check(gwlist_len(q.deliver->recipients) <= MM7_MAX_RECIPIENTS);
            check((q.deliver->content == NULL)
                  == (q.deliver->content_type == NULL));
        }
    }
    /* every answer we could give must be well-formed MM7 */
    x = mm7_response(&q, rc == 0 ? MM7_SUCCESS : q.error_code, NULL);
    check(mm7_parse_response(x, NULL, 200, &r) == 0);
    check(r.status_code >= 1000);
    mm7_result_clear(&r);
    octstr_destroy(x);
    mm7_request_clear(&q);

    rc = mm7_parse_response(body, ct, 200, &r);
    check((rc == 0) == (r.status_code >= 0));
    check(r.status_code <= 99999);
    check(rc == 0 || r.status_text != NULL);
    mm7_result_clear(&r);

    m = mm7_mime_split(body, ct, &err);
    check((m != NULL) || err != NULL);
    if (m != NULL) {
        check(mm7_mime_count(m) >= 1
              && mm7_mime_count(m) <= MM7_MIME_MAX_PARTS);
        check(mm7_mime_start(m) != NULL);
        for (i = 0; i < mm7_mime_count(m); i++)
            check(mm7_mime_get(m, i)->body != NULL);
        mm7_mime_destroy(m);
    }
    octstr_destroy(body);
    octstr_destroy(ct);
    return 0;
}
