/*
 * fuzz-webview-path.c - fuzz target for webview_path_parse (the web
 * view's request paths, hostile input from phones).
 *
 * Input: the path, optionally followed by a NUL byte and the ?p= value.
 * libFuzzer: clang -fsanitize=fuzzer,address -DPM_LIBFUZZER ...; with
 * gcc, tests/fuzz/fuzz-main.c feeds files to LLVMFuzzerTestOneInput.
 * Aborts when a result breaks the contract in webview-page.h.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gwlib/gwlib.h"
#include "webview-page.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok)
{
    if (!ok)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int initialised;     /* fuzz driver only: single-threaded */
    const uint8_t *nul = memchr(data, 0, size);
    Octstr *path, *page = NULL, *token = NULL;
    long arg = -1, i;
    int kind;

    if (!initialised) {
        gwlib_init();
        log_set_output_level(GW_PANIC);
        initialised = 1;
    }
    path = octstr_create_from_data((const char *) data,
                                   nul ? (long) (nul - data) : (long) size);
    if (nul != NULL)
        page = octstr_create_from_data((const char *) nul + 1,
                                       (long) (size - (nul - data) - 1));
    kind = webview_path_parse(path, page, &token, &arg);
    if (kind == WEBVIEW_PATH_NONE) {
        check(token == NULL && arg == -1);
    } else {
        check(kind == WEBVIEW_PATH_PAGE || kind == WEBVIEW_PATH_IMAGE);
        check(token != NULL && octstr_len(token) >= 1 &&
              octstr_len(token) <= WEBVIEW_TOKEN_MAX);
        for (i = 0; i < octstr_len(token); i++)
            check(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                         "abcdefghijklmnopqrstuvwxyz0123456789-_",
                         octstr_get_char(token, i)) != NULL &&
                  octstr_get_char(token, i) != 0);
        check(octstr_search(path, token, 0) == 3);
        if (kind == WEBVIEW_PATH_PAGE)
            check(arg >= 1 && arg <= WEBVIEW_PAGE_MAX);
        else
            check(arg >= 1 && arg <= WEBVIEW_IMAGES_MAX);
    }
    octstr_destroy(token);
    octstr_destroy(path);
    octstr_destroy(page);
    return 0;
}
