/*
 * fuzz-push-cmd.c - fuzz target for push_cmd_parse.
 *
 * libFuzzer: clang -fsanitize=fuzzer,address -DPM_LIBFUZZER ...; with
 * gcc, tests/fuzz/fuzz-main.c feeds files to LLVMFuzzerTestOneInput.
 * Aborts when a result breaks the contract in push-cmd.h.
 */
#include <stdint.h>
#include <stdlib.h>

#include "gwlib/gwlib.h"
#include "push-cmd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok)
{
    if (!ok)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int initialised;     /* fuzz driver only: single-threaded */
    Octstr *in;
    PushCmd *c;

    if (!initialised) {
        gwlib_init();
        log_set_output_level(GW_PANIC);
        initialised = 1;
    }
    in = octstr_create_from_data((const char *) data, (long) size);
    c = push_cmd_parse(in);
    check(c != NULL);
    check((c->type == PUSH_CMD_BAD) == (c->error != NULL));
    switch (c->type) {
    case PUSH_CMD_GET:
        check(c->n >= 0 && c->n <= PUSH_CMD_MAX_N);
        check(c->address == NULL && c->text == NULL);
        break;
    case PUSH_CMD_REPLY:
        check(c->n >= 1 && c->n <= PUSH_CMD_MAX_N && c->text != NULL);
        break;
    case PUSH_CMD_SEND:
        check(c->address != NULL && octstr_len(c->address) > 0
              && c->text != NULL);
        break;
    case PUSH_CMD_BAD:
        check(octstr_len(c->error) > 0 && octstr_len(c->error) <= 70);
        break;
    default:
        check(c->address == NULL && c->text == NULL);
        break;
    }
    check(size <= PUSH_CMD_MAX_LEN || c->type == PUSH_CMD_BAD);
    push_cmd_destroy(c);
    octstr_destroy(in);
    return 0;
}
