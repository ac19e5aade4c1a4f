/*
 * fuzz-convert-text.c - fuzz target for convert_mail_parse and the
 * helpers it uses (header decoding, sender names, HTML to text), plus
 * paging the result with sms-text as push-core does.
 *
 * libFuzzer: clang -fsanitize=fuzzer,address -DPM_LIBFUZZER ...; with
 * gcc, tests/fuzz/fuzz-main.c feeds files to LLVMFuzzerTestOneInput.
 * Aborts when an output breaks the contract (NULL fields, invalid
 * UTF-8, a page over capacity).
 */
#include <stdint.h>
#include <stdlib.h>

#include "gwlib/gwlib.h"
#include "convert-text.h"
#include "sms-text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int utf8_ok(const Octstr *os)
{
    Octstr *c;
    int r;

    if (os == NULL)
        return 1;
    c = sms_text_sanitize(os);
    r = octstr_compare(c, os) == 0;
    octstr_destroy(c);
    return r;
}

static void check(int ok)
{
    if (!ok)
        abort();
}

static void check_pages(const Octstr *text)
{
    List *pages;
    int gsm;
    long i;

    pages = sms_text_pages(text, 1, " [MORE]", &gsm);
    check(gwlist_len(pages) >= 1);
    for (i = 0; i < gwlist_len(pages); i++) {
        Octstr *p = gwlist_get(pages, i);
        check(sms_text_units(p, gsm) <= sms_text_capacity(1, gsm));
        check(utf8_ok(p));
    }
    gwlist_destroy(pages, octstr_destroy_item);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int initialised;     /* fuzz driver only: single-threaded */
    Octstr *raw, *err = NULL, *t, *line;
    ConvertMail *m;
    long nl;

    if (!initialised) {
        gwlib_init();
        log_set_output_level(GW_PANIC);
        convert_init();
        initialised = 1;
    }
    raw = octstr_create_from_data((const char *) data, (long) size);

    m = convert_mail_parse(raw, size % 2, &err);
    check((m == NULL) == (err != NULL));
    if (m != NULL) {
        check(m->from != NULL && m->subject != NULL && m->body != NULL
              && m->attachments != NULL);
        check(utf8_ok(m->from) && utf8_ok(m->from_addr)
              && utf8_ok(m->reply_to) && utf8_ok(m->to)
              && utf8_ok(m->subject) && utf8_ok(m->date)
              && utf8_ok(m->message_id) && utf8_ok(m->references)
              && utf8_ok(m->body));
        check(octstr_len(m->body) <= CONVERT_MAX_BODY + 32);
        check_pages(m->body);
        t = sms_text_fit(m->subject, 1, NULL);
        check(utf8_ok(t));
        octstr_destroy(t);
    }
    convert_mail_destroy(m);
    octstr_destroy(err);

    /* the helpers on the first line and on the whole input */
    nl = octstr_search_char(raw, '\n', 0);
    line = octstr_copy(raw, 0, nl < 0 ? octstr_len(raw) : nl);
    t = convert_header_decode(line);
    check(utf8_ok(t));
    octstr_destroy(t);
    t = convert_sender_name(line);
    check(utf8_ok(t) && octstr_len(t) > 0);
    octstr_destroy(t);
    octstr_destroy(line);
    if (size < 256 * 1024) {
        t = convert_html_to_text(raw);
        check(utf8_ok(t));
        octstr_destroy(t);
    }
    octstr_destroy(raw);
    return 0;
}
