/*
 * A minimal unit-test harness. Each test file defines test functions,
 * lists them in main() with RUN(), and returns unit_report(). A failed
 * CHECK prints the file, line and expression and marks the current test
 * failed; the test goes on so one run shows every broken check.
 */
#ifndef ECIF_TESTS_UNIT_H
#define ECIF_TESTS_UNIT_H

#include <stdio.h>
#include <string.h>

static int unit_failed_checks;
static int unit_passed_tests;
static int unit_failed_tests;

#define CHECK(expr)                                                        \
    do {                                                                   \
        if (!(expr)) {                                                     \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__,         \
                    __LINE__, #expr);                                      \
            unit_failed_checks++;                                          \
        }                                                                  \
    } while (0)

#define CHECK_STR(actual, expected)                                        \
    do {                                                                   \
        const char *unit_a_ = (actual);                                    \
        const char *unit_e_ = (expected);                                  \
        if (unit_a_ == NULL || strcmp(unit_a_, unit_e_) != 0) {            \
            fprintf(stderr, "%s:%d: %s is \"%s\", expected \"%s\"\n",      \
                    __FILE__, __LINE__, #actual,                           \
                    unit_a_ ? unit_a_ : "(null)", unit_e_);                \
            unit_failed_checks++;                                          \
        }                                                                  \
    } while (0)

#define CHECK_INT(actual, expected)                                        \
    do {                                                                   \
        long long unit_a_ = (long long)(actual);                           \
        long long unit_e_ = (long long)(expected);                         \
        if (unit_a_ != unit_e_) {                                          \
            fprintf(stderr, "%s:%d: %s is %lld, expected %lld\n",          \
                    __FILE__, __LINE__, #actual, unit_a_, unit_e_);        \
            unit_failed_checks++;                                          \
        }                                                                  \
    } while (0)

#define RUN(test)                                                          \
    do {                                                                   \
        int unit_before_ = unit_failed_checks;                             \
        test();                                                            \
        if (unit_failed_checks == unit_before_) {                          \
            unit_passed_tests++;                                           \
        } else {                                                           \
            fprintf(stderr, "FAIL %s\n", #test);                           \
            unit_failed_tests++;                                           \
        }                                                                  \
    } while (0)

/* Prints the closing line and returns the process exit code. */
static inline int unit_report(void)
{
    printf("%d passed, %d failed\n", unit_passed_tests, unit_failed_tests);
    return unit_failed_tests == 0 ? 0 : 1;
}

#endif
