/*
 * fuzz-convert-mo.c - fuzz target for convert-mo.c: the first line of
 * the input is an MM's Content-Type, the rest its body.  The MM is taken
 * apart, built into a mail, the mail read back, made a reply draft and
 * completed with the input as the "original"; the first line also goes
 * through the address list and subject helpers.
 *
 * libFuzzer: clang -fsanitize=fuzzer,address -DPM_LIBFUZZER ...; with
 * gcc, tests/fuzz/fuzz-main.c feeds files to LLVMFuzzerTestOneInput.
 * Aborts when an output breaks the contract (NULL fields, invalid UTF-8
 * text, LF without CR in a built mail, a bad address accepted).
 */
#include <stdint.h>
#include <stdlib.h>

#include "gwlib/gwlib.h"
#include "convert-mo.h"
#include "convert-text.h"
#include "sms-text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok)
{
    if (!ok)
        abort();
}

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

static int crlf_only(const Octstr *raw)
{
    long i;

    for (i = 0; i < octstr_len(raw); i++)
        if (octstr_get_char(raw, i) == '\n' &&
            (i == 0 || octstr_get_char(raw, i - 1) != '\r'))
            return 0;
    return 1;
}

static void mail_round(const ConvertMm *mm, const Octstr *raw)
{
    ConvertMoHead h;
    List *to = gwlist_create();
    Octstr *mail, *draft, *done, *rcpt = NULL, *err = NULL, *subject;
    ConvertMail *cm;

    gwlist_append(to, octstr_create("bob@example.com"));
    memset(&h, 0, sizeof(h));
    h.from = octstr_imm("ann@example.org");
    h.to = to;
    subject = convert_mo_subject(mm->text, 6);
    check(utf8_ok(subject) && octstr_len(subject) <= CONVERT_MO_SUBJECT_MAX);
    h.subject = subject;
    mail = convert_mo_build(&h, mm->text, mm->parts, NULL, &err);
    check(mail != NULL && err == NULL && crlf_only(mail));
    cm = convert_mail_parse(mail, 0, NULL);
    check(cm != NULL && cm->from_addr != NULL);
    convert_mail_destroy(cm);
    octstr_destroy(mail);

    h.to = NULL;
    h.draft_n = 7;
    draft = convert_mo_build(&h, mm->text, mm->parts, NULL, &err);
    check(draft != NULL && convert_mo_draft_n(draft) == 7);
    done = convert_mo_reply_complete(draft, raw, &rcpt, &err);
    check((done == NULL) == (err != NULL));
    if (done != NULL) {
        check(rcpt != NULL && convert_mo_address_ok(rcpt));
        check(crlf_only(done) && convert_mo_draft_n(done) == 0);
    }
    octstr_destroy(done);
    octstr_destroy(rcpt);
    octstr_destroy(err);
    octstr_destroy(draft);
    octstr_destroy(subject);
    gwlist_destroy(to, octstr_destroy_item);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int initialised;     /* fuzz driver only: single-threaded */
    Octstr *raw, *ct, *body, *err = NULL, *s;
    ConvertMm *mm;
    List *l;
    long nl, i;

    if (!initialised) {
        gwlib_init();
        log_set_output_level(GW_PANIC);
        convert_init();
        initialised = 1;
    }
    raw = octstr_create_from_data((const char *) data, (long) size);
    nl = octstr_search_char(raw, '\n', 0);
    ct = octstr_copy(raw, 0, nl < 0 ? octstr_len(raw) : nl);
    body = nl < 0 ? octstr_create("") : octstr_copy(raw, nl + 1, size);

    mm = convert_mm_parse(ct, body, &err);
    check((mm == NULL) == (err != NULL));
    if (mm != NULL) {
        check(mm->text != NULL && mm->parts != NULL && utf8_ok(mm->text));
        for (i = 0; i < gwlist_len(mm->parts); i++) {
            ConvertMoPart *p = gwlist_get(mm->parts, i);
            check(p->name != NULL && p->type != NULL && p->data != NULL);
            check(octstr_len(p->name) > 0 && utf8_ok(p->name));
        }
        mail_round(mm, raw);
    }
    convert_mm_destroy(mm);
    octstr_destroy(err);
    err = NULL;

    l = convert_mo_addresses(ct, &err);
    check((l == NULL) == (err != NULL));
    for (i = 0; l != NULL && i < gwlist_len(l); i++)
        check(convert_mo_address_ok(gwlist_get(l, i)));
    gwlist_destroy(l, octstr_destroy_item);
    octstr_destroy(err);
    s = convert_mo_subject(ct, (long) (size % 8));
    check(utf8_ok(s));
    octstr_destroy(s);

    octstr_destroy(ct);
    octstr_destroy(body);
    octstr_destroy(raw);
    return 0;
}
