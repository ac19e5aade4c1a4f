/*
 * fuzz-convert-mms.c - fuzz target for convert_mms_build (whole mails
 * through convert-text, GMime and libvips to an MM) and, on the same
 * bytes, convert_image_fit (the input taken as an image file).
 *
 * libFuzzer: clang -fsanitize=fuzzer,address -DPM_LIBFUZZER ...; with
 * gcc, tests/fuzz/fuzz-main.c feeds files to LLVMFuzzerTestOneInput.
 * Aborts when an output breaks the contract: result and error both or
 * neither set, an MM over the size limit, a content type without the
 * SMIL start, a body that does not start with its boundary or does
 * not parse back into m->parts parts (each 8bit or base64, with a
 * Content-ID and a Content-Location), an image over the box.
 */
#include <stdint.h>
#include <stdlib.h>

#include <gmime/gmime.h>

#include "gwlib/gwlib.h"
#include "convert-image.h"
#include "convert-mms.h"
#include "convert-text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok)
{
    if (!ok)
        abort();
}

/* Parse the MM back: multipart/related with m->parts parts, each
 * 8bit or base64, each with a Content-ID and a Content-Location. */
static void check_parts(const ConvertMms *m)
{
    Octstr *whole = octstr_format("Content-Type: %S\r\n\r\n%S",
                                  m->content_type, m->body);
    GMimeStream *st;
    GMimeParser *parser;
    GMimeObject *top, *part;
    GMimeContentEncoding enc;
    int i, n;

    st = g_mime_stream_mem_new_with_buffer(octstr_get_cstr(whole),
                                           octstr_len(whole));
    parser = g_mime_parser_new_with_stream(st);
    top = g_mime_parser_construct_part(parser, NULL);
    g_object_unref(parser);
    g_object_unref(st);
    octstr_destroy(whole);
    check(top != NULL && GMIME_IS_MULTIPART(top));
    n = g_mime_multipart_get_count(GMIME_MULTIPART(top));
    check(n == m->parts);
    for (i = 0; i < n; i++) {
        part = g_mime_multipart_get_part(GMIME_MULTIPART(top), i);
        check(GMIME_IS_PART(part));
        enc = g_mime_part_get_content_encoding(GMIME_PART(part));
        check(enc == GMIME_CONTENT_ENCODING_8BIT
              || enc == GMIME_CONTENT_ENCODING_BASE64);
        check(g_mime_object_get_content_id(part) != NULL);
        check(g_mime_part_get_content_location(GMIME_PART(part)) != NULL);
    }
    g_object_unref(top);
}

static void one_mms(const Octstr *raw, long max_size, int trim)
{
    ConvertMmsOpts o;
    ConvertMms *m;
    Octstr *err = NULL, *delim;
    long b;

    o.max_size = max_size;
    o.max_width = 160;
    o.max_height = 120;
    o.trim_quotes = trim;
    m = convert_mms_build(raw, 7, &o, &err);
    check((m == NULL) == (err != NULL));
    if (m != NULL) {
        check(octstr_len(m->body) <= max_size);
        check(m->subject != NULL && m->parts >= 2);
        check(octstr_search(m->content_type,
                            octstr_imm("start=\"<p000.n7@pushmail>\""), 0)
              > 0);
        b = octstr_search(m->content_type, octstr_imm("boundary=\""), 0);
        check(b > 0);
        delim = octstr_copy(m->content_type, b + 10,
                            octstr_len(m->content_type) - b - 11);
        octstr_insert(delim, octstr_imm("--"), 0);
        check(octstr_search(m->body, delim, 0) == 0);
        octstr_destroy(delim);
        check_parts(m);
    }
    convert_mms_destroy(m);
    octstr_destroy(err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int initialised;     /* fuzz driver only: single-threaded */
    Octstr *raw, *out = NULL, *err = NULL;
    long w = 0, h = 0;

    if (!initialised) {
        /* valgrind cannot follow liborc's generated code and reports
         * false errors in libjpeg-turbo's SIMD code: plain C paths */
        setenv("VIPS_NOVECTOR", "1", 0);
        setenv("JSIMD_FORCENONE", "1", 0);
        gwlib_init();
        log_set_output_level(GW_PANIC);
        convert_init();
        convert_image_init();
        initialised = 1;
    }
    raw = octstr_create_from_data((const char *) data, (long) size);
    one_mms(raw, 300 * 1024, size % 2);
    one_mms(raw, 3000, 0);
    if (convert_image_fit(raw, 160, 120, 50, &out, &w, &h, &err) == 0) {
        check(out != NULL && err == NULL && w >= 1 && h >= 1 && w <= 160
              && h <= 120);
    } else {
        check(out == NULL && err != NULL);
    }
    octstr_destroy(out);
    octstr_destroy(err);
    octstr_destroy(raw);
    return 0;
}
