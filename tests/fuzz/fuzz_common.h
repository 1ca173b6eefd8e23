/*
 * Helpers shared by the libFuzzer targets: a NUL-terminated copy of the
 * input, splitting it into lines, and checks of the output contract that
 * every normalizer shares. A violated contract calls abort(), so libFuzzer
 * stores the input that caused it.
 */
#ifndef ECIF_FUZZ_COMMON_H
#define ECIF_FUZZ_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "normalize.h"

/* Output buffer sizes every writer is called with, tiny ones included. */
static const size_t fuzz_out_sizes[] = {1, 2, 3, 4, 7, 16, 64, ECIF_NORM_MAX};
#define FUZZ_N_OUT_SIZES (sizeof(fuzz_out_sizes) / sizeof(fuzz_out_sizes[0]))

/* Maximum lines fuzz_split_lines() returns. */
#define FUZZ_MAX_LINES 32

/* Prints what failed and aborts, so libFuzzer keeps the input. */
#define FUZZ_CHECK(cond)                                                       \
    do {                                                                       \
        if (!(cond)) {                                                         \
            fprintf(stderr, "%s:%d: contract violated: %s\n", __FILE__,        \
                    __LINE__, #cond);                                          \
            abort();                                                           \
        }                                                                      \
    } while (0)

/* Returns a malloc'd NUL-terminated copy of data; the caller frees it. */
static inline char *fuzz_cstring(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);

    if (s == NULL)
        abort();
    memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

/*
 * Splits text in place at '\n' into at most max lines; the last line keeps
 * the rest of the text. Returns the number of lines (at least 1).
 */
static inline size_t fuzz_split_lines(char *text, char **lines, size_t max)
{
    size_t n = 0;

    lines[n++] = text;
    for (char *p = text; *p != '\0' && n < max; p++) {
        if (*p == '\n') {
            *p = '\0';
            lines[n++] = p + 1;
        }
    }
    return n;
}

/* Returns true when the NUL-terminated text is valid UTF-8. */
static inline bool fuzz_utf8(const char *text)
{
    return ecif_utf8_valid(text, strlen(text));
}

/*
 * Checks a writer's result r in a buffer of outlen bytes: NUL-terminated
 * at r, r < outlen, no longer than a normalized value, and valid UTF-8
 * when the input was. Record validation rejects invalid UTF-8 before any
 * normalizer runs, so only some writers promise to reject it themselves.
 */
static inline void fuzz_check_out(const char *out, size_t outlen, size_t r,
                                  bool utf8_in)
{
    FUZZ_CHECK(outlen > 0);
    FUZZ_CHECK(r < outlen);
    FUZZ_CHECK(r < ECIF_NORM_MAX);
    FUZZ_CHECK(memchr(out, '\0', outlen) == out + r);
    if (utf8_in)
        FUZZ_CHECK(ecif_utf8_valid(out, r));
}

/* Signature of the writers that share the normalize.h contract. */
typedef size_t (*fuzz_writer_fn)(const char *in, char *out, size_t outlen);

/*
 * Calls fn with every buffer size in fuzz_out_sizes, each buffer allocated
 * to its exact size so AddressSanitizer sees a write past it, and checks
 * the shared contract. Copies the result at the largest size into full
 * (ECIF_NORM_MAX bytes) and returns its length.
 */
static inline size_t fuzz_run_writer(fuzz_writer_fn fn, const char *in,
                                     char *full)
{
    size_t r = 0;
    bool utf8_in = fuzz_utf8(in);

    for (size_t i = 0; i < FUZZ_N_OUT_SIZES; i++) {
        size_t outlen = fuzz_out_sizes[i];
        char *out = malloc(outlen);

        if (out == NULL)
            abort();
        memset(out, 'Z', outlen);
        r = fn(in, out, outlen);
        fuzz_check_out(out, outlen, r, utf8_in);
        memcpy(full, out, r + 1);
        free(out);
    }
    return r;
}

/* Returns true when text is lower-case words separated by single spaces. */
static inline bool fuzz_is_word_list(const char *text)
{
    bool space_ok = false;

    for (const char *p = text; *p != '\0'; p++) {
        if (*p == ' ') {
            if (!space_ok || p[1] == '\0')
                return false;
            space_ok = false;
        } else if (*p >= 'a' && *p <= 'z') {
            space_ok = true;
        } else {
            return false;
        }
    }
    return true;
}

#endif
