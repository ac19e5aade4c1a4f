/*
 * fuzz-main.c - run a fuzz target over files when libFuzzer is absent.
 *
 * Usage: fuzz-TARGET FILE...  Feeds each file to LLVMFuzzerTestOneInput()
 * and prints one line per file.  Built with clang -fsanitize=fuzzer and
 * -DPM_LIBFUZZER, this file compiles to nothing and libFuzzer's main
 * is used instead.
 */
#ifndef PM_LIBFUZZER

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

int main(int argc, char **argv)
{
    int i, failed = 0;
    FILE *f;
    uint8_t *buf;
    long size;

    if (argc < 2) {
        fprintf(stderr, "usage: %s FILE...\n", argv[0]);
        return 2;
    }
    for (i = 1; i < argc; i++) {
        f = fopen(argv[i], "rb");
        if (f == NULL || fseek(f, 0, SEEK_END) != 0 ||
            (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
            perror(argv[i]);
            if (f != NULL)
                fclose(f);
            failed = 1;
            continue;
        }
        buf = malloc(size > 0 ? size : 1);
        if (buf == NULL || fread(buf, 1, size, f) != (size_t) size) {
            perror(argv[i]);
            failed = 1;
        } else {
            LLVMFuzzerTestOneInput(buf, size);
            printf("%s: %ld bytes ok\n", argv[i], size);
        }
        free(buf);
        fclose(f);
    }
    return failed;
}

#endif
