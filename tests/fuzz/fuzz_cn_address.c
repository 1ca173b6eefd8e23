/*
 * Fuzz target for engine/cn_address.h and engine/latin_address.h: the
 * parsed divisions, numbers and detail of a Chinese address, the bigram
 * signature of its detail, and the canonical tokens of the folded text.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cn_address.h"
#include "fuzz_common.h"
#include "latin_address.h"
#include "status.h"

#define QGRAM_MAX 64

/* A division's code is 0 exactly when its name is "". */
static void check_division(uint32_t code, const char *name, uint32_t limit)
{
    FUZZ_CHECK(name != NULL);
    FUZZ_CHECK((code == 0) == (name[0] == '\0'));
    FUZZ_CHECK(code < limit);
    FUZZ_CHECK(fuzz_utf8(name));
}

static void check_qgrams(const char *detail)
{
    uint64_t all[QGRAM_MAX];
    uint64_t some[QGRAM_MAX];
    size_t n = cn_address_qgrams(detail, all, QGRAM_MAX);

    FUZZ_CHECK(n <= QGRAM_MAX);
    for (size_t i = 1; i < n; i++)
        FUZZ_CHECK(all[i - 1] < all[i]);
    if (detail[0] != '\0')
        FUZZ_CHECK(n > 0);

    /* A smaller max keeps the smallest hashes: a prefix of the larger. */
    for (size_t max = 0; max < 6; max++) {
        size_t k = cn_address_qgrams(detail, some, max);

        FUZZ_CHECK(k <= max && k <= n);
        FUZZ_CHECK(memcmp(some, all, k * sizeof(uint64_t)) == 0);
    }
}

static void check_cn(const char *in)
{
    struct cn_address a;
    int rc = cn_address_parse(in, &a);

    FUZZ_CHECK(rc == ECIF_OK || rc == ECIF_EINVAL);
    FUZZ_CHECK((rc == ECIF_OK) == fuzz_utf8(in));
    if (rc != ECIF_OK)
        return;
    check_division(a.province_code, a.province, 100);
    check_division(a.city_code, a.city, 10000);
    check_division(a.district_code, a.district, 1000000);
    check_division(a.town_code, a.town, 1000000000);
    FUZZ_CHECK(memchr(a.detail, '\0', sizeof(a.detail)) != NULL);
    FUZZ_CHECK(fuzz_utf8(a.detail));
    FUZZ_CHECK(strchr(a.detail, ' ') == NULL);
    for (const char *p = a.detail; *p != '\0'; p++)
        FUZZ_CHECK(!(*p >= 'A' && *p <= 'Z'));
    check_qgrams(a.detail);
}

/* Counts the words of a single-spaced list. */
static size_t count_tokens(const char *text)
{
    size_t n = text[0] != '\0';

    for (const char *p = text; *p != '\0'; p++)
        n += *p == ' ';
    return n;
}

static void check_latin(const char *in)
{
    char folded[ECIF_NORM_MAX];
    char full[ECIF_NORM_MAX];
    size_t n_full;
    size_t ntokens;

    fuzz_run_writer(ecif_norm_text, in, folded);
    n_full = latin_address_tokens(folded, full, sizeof(full), &ntokens);
    fuzz_check_out(full, sizeof(full), n_full, true);
    FUZZ_CHECK(ntokens == count_tokens(full));
    FUZZ_CHECK(full[0] != ' ' && (n_full == 0 || full[n_full - 1] != ' '));
    FUZZ_CHECK(strstr(full, "  ") == NULL);

    /* Tokens are never cut: a short buffer holds whole leading tokens. */
    for (size_t i = 0; i < FUZZ_N_OUT_SIZES; i++) {
        size_t outlen = fuzz_out_sizes[i];
        char *out = malloc(outlen);
        size_t n;

        if (out == NULL)
            abort();
        n = latin_address_tokens(folded, out, outlen, NULL);
        fuzz_check_out(out, outlen, n, true);
        FUZZ_CHECK(n <= n_full && memcmp(out, full, n) == 0);
        FUZZ_CHECK(n == 0 || full[n] == '\0' || full[n] == ' ');
        free(out);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *in = fuzz_cstring(data, size);

    check_cn(in);
    check_latin(in);
    free(in);
    return 0;
}
