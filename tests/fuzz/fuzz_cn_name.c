/*
 * Fuzz target for engine/cn_name.h. Besides the output contract, it checks
 * what the header promises: a result is whole or empty at every buffer
 * size (never cut short), the pinyin writers produce lower-case syllables
 * separated by single spaces, the order-free keys are sorted, and the
 * split of a name concatenates back to the cleaned name.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cn_name.h"
#include "fuzz_common.h"

/*
 * Runs fn at every buffer size: each result must be empty or equal to the
 * result at CN_NAME_MAX. Writes that result into full and returns its
 * length.
 */
static size_t run_whole(fuzz_writer_fn fn, const char *in, char *full)
{
    size_t r = fn(in, full, CN_NAME_MAX);

    fuzz_check_out(full, CN_NAME_MAX, r, true);
    for (size_t i = 0; i < FUZZ_N_OUT_SIZES; i++) {
        size_t outlen = fuzz_out_sizes[i];
        char *out = malloc(outlen);
        size_t n;

        if (out == NULL)
            abort();
        n = fn(in, out, outlen);
        fuzz_check_out(out, outlen, n, true);
        FUZZ_CHECK(n == 0 || (n == r && memcmp(out, full, n) == 0));
        free(out);
    }
    return r;
}

/* Returns true when the words of text are in ascending strcmp order. */
static bool words_sorted(const char *text)
{
    const char *prev = NULL;
    size_t prev_len = 0;
    const char *p = text;

    while (*p != '\0') {
        size_t len = strcspn(p, " ");

        if (prev != NULL) {
            size_t common = len < prev_len ? len : prev_len;
            int c = memcmp(prev, p, common);

            if (c > 0 || (c == 0 && prev_len > len))
                return false;
        }
        prev = p;
        prev_len = len;
        p += len;
        if (*p == ' ')
            p++;
    }
    return true;
}

static void check_pinyin(const char *in)
{
    char pinyin[CN_NAME_MAX];
    char key[CN_NAME_MAX];
    char fuzzy[CN_NAME_MAX];
    char merged[CN_NAME_MAX];
    char latin[CN_NAME_MAX];

    run_whole(cn_name_pinyin, in, pinyin);
    FUZZ_CHECK(fuzz_is_word_list(pinyin));

    run_whole(cn_name_key, in, key);
    FUZZ_CHECK(fuzz_is_word_list(key));
    FUZZ_CHECK(words_sorted(key));

    run_whole(cn_name_key_fuzzy, in, fuzzy);
    FUZZ_CHECK(fuzz_is_word_list(fuzzy));
    FUZZ_CHECK(words_sorted(fuzzy));

    /* The fuzzy key merges the syllables of the key. */
    if (key[0] != '\0')
        FUZZ_CHECK(cn_pinyin_fuzzy(key, merged, sizeof(merged)) > 0);

    run_whole(cn_pinyin_fuzzy, in, merged);
    FUZZ_CHECK(fuzz_is_word_list(merged));
    if (merged[0] != '\0')
        FUZZ_CHECK(strspn(in, "abcdefghijklmnopqrstuvwxyz ") == strlen(in));

    run_whole(cn_latin_name_pinyin, in, latin);
    FUZZ_CHECK(fuzz_is_word_list(latin));
    FUZZ_CHECK(words_sorted(latin));
}

/* cn_name_clean_keys and cn_key_fuzzy write the same results as the
 * functions they replace. */
static void check_clean_keys(const char *in, const char *clean)
{
    cn_name_keys_t keys;
    char family[CN_NAME_MAX];
    char given[CN_NAME_MAX];
    char key[CN_NAME_MAX];
    char fuzzy[CN_NAME_MAX];
    char from_key[CN_NAME_MAX];

    if (cn_name_key(in, key, sizeof(key)) > 0) {
        cn_name_key_fuzzy(in, fuzzy, sizeof(fuzzy));
        cn_key_fuzzy(key, from_key, sizeof(from_key));
        FUZZ_CHECK(strcmp(fuzzy, from_key) == 0);
    }
    if (clean[0] == '\0')
        return;
    cn_name_split(clean, family, sizeof(family), given, sizeof(given));
    cn_name_key(clean, key, sizeof(key));
    cn_name_key_fuzzy(clean, fuzzy, sizeof(fuzzy));
    cn_name_clean_keys(clean, &keys);
    FUZZ_CHECK(strcmp(keys.family, family) == 0);
    FUZZ_CHECK(strcmp(keys.given, given) == 0);
    FUZZ_CHECK(strcmp(keys.key, key) == 0);
    FUZZ_CHECK(strcmp(keys.key_fuzzy, fuzzy) == 0);
}

/* The split's parts concatenate to the cleaned name. */
static void check_split(const char *in, const char *clean)
{
    char family[CN_NAME_MAX];
    char given[CN_NAME_MAX];
    char joined[2 * CN_NAME_MAX];
    size_t n;

    for (size_t i = 0; i < FUZZ_N_OUT_SIZES; i++) {
        size_t len = fuzz_out_sizes[i];
        char *f = malloc(len);
        char *g = malloc(len);

        if (f == NULL || g == NULL)
            abort();
        n = cn_name_split(in, f, len, g, len);
        FUZZ_CHECK(n < len);
        if (n > 0) {
            FUZZ_CHECK(strlen(f) == n);
            FUZZ_CHECK(memchr(g, '\0', len) != NULL);
        }
        free(f);
        free(g);
    }

    n = cn_name_split(in, family, sizeof(family), given, sizeof(given));
    if (n == 0)
        return;
    FUZZ_CHECK(strlen(family) == n);
    FUZZ_CHECK(fuzz_utf8(family) && fuzz_utf8(given));
    snprintf(joined, sizeof(joined), "%s%s", family, given);
    FUZZ_CHECK(strcmp(joined, clean) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *in = fuzz_cstring(data, size);
    char simplified[ECIF_NORM_MAX];
    char clean[CN_NAME_MAX];
    cn_name_flags_t flags = 0;
    size_t n;
    bool han = cn_is_han_name(in);

    if (han)
        FUZZ_CHECK(fuzz_utf8(in));
    run_whole(cn_to_simplified, in, simplified);

    for (size_t i = 0; i < FUZZ_N_OUT_SIZES; i++) {
        size_t outlen = fuzz_out_sizes[i];
        char *out = malloc(outlen);

        if (out == NULL)
            abort();
        n = cn_name_clean(in, out, outlen, NULL);
        fuzz_check_out(out, outlen, n, true);
        free(out);
    }
    n = cn_name_clean(in, clean, sizeof(clean), &flags);
    fuzz_check_out(clean, sizeof(clean), n, true);
    FUZZ_CHECK((flags & ~(unsigned)(CN_NAME_HAN | CN_NAME_NOISE |
                                    CN_NAME_TRADITIONAL)) == 0);
    if (!han)
        FUZZ_CHECK(n == 0);
    if (n > 0)
        FUZZ_CHECK(strchr(clean, ' ') == NULL);

    check_split(in, clean);
    check_clean_keys(in, clean);
    check_pinyin(in);
    free(in);
    return 0;
}
