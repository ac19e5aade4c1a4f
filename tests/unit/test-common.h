/*
 * test-common.h - a tiny Dovecot-style unit test harness.
 *
 *   test_begin("name"); test_assert(expr); ... test_end();
 *   return test_exit();
 *
 * Each failed assertion prints file, line and expression.  test_exit()
 * prints "N passed, N failed" (counted per test_begin/test_end block) and
 * returns the process exit status (0 only if nothing failed).  A program
 * that ran no test block fails.  Single-threaded use only.
 */
#ifndef TEST_COMMON_H
#define TEST_COMMON_H

#include <stdio.h>
#include <string.h>

static const char *test_name_cur;
static int test_cur_failed;
static int test_blocks_passed, test_blocks_failed;

#define test_begin(name) \
    do { test_name_cur = (name); test_cur_failed = 0; } while (0)

#define test_assert(expr) \
    do { \
        if (!(expr)) { \
            test_cur_failed++; \
            fprintf(stderr, "%s:%d: %s: assertion failed: %s\n", \
                    __FILE__, __LINE__, test_name_cur, #expr); \
        } \
    } while (0)

/* Compare two C strings; prints both on mismatch. NULL never matches. */
#define test_assert_str(got, want) \
    do { \
        const char *g_ = (got), *w_ = (want); \
        if (g_ == NULL || w_ == NULL || strcmp(g_, w_) != 0) { \
            test_cur_failed++; \
            fprintf(stderr, "%s:%d: %s: got \"%s\", want \"%s\"\n", \
                    __FILE__, __LINE__, test_name_cur, \
                    g_ ? g_ : "(null)", w_ ? w_ : "(null)"); \
        } \
    } while (0)

#define test_end() \
    do { \
        if (test_cur_failed == 0) { \
            test_blocks_passed++; \
            printf("ok - %s\n", test_name_cur); \
        } else { \
            test_blocks_failed++; \
            printf("FAIL - %s (%d assertions)\n", test_name_cur, \
                   test_cur_failed); \
        } \
        fflush(stdout); \
    } while (0)

static inline int test_exit(void)
{
    printf("%d passed, %d failed\n", test_blocks_passed, test_blocks_failed);
    if (test_blocks_passed + test_blocks_failed == 0)
        return 1;
    return test_blocks_failed == 0 ? 0 : 1;
}

#endif
