/*
 * Fuzz target for engine/latin_name.h: Double Metaphone codes of raw and
 * folded tokens, the nickname table, generational suffixes and surname
 * keys. Matches must be symmetric, codes use only their alphabet, and
 * every fixed-size output stays NUL-terminated inside its array.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "latin_name.h"

static bool is_code(const char *code)
{
    size_t len = strlen(code);

    return len <= LATIN_METAPHONE_MAX &&
           strspn(code, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0X") == len;
}

static void check_metaphone(const char *token)
{
    char primary[LATIN_METAPHONE_SIZE];
    char alternate[LATIN_METAPHONE_SIZE];
    size_t n = latin_double_metaphone(token, primary, alternate);
    /* NOTE: upper-case letters are read too, though the header says only
     * a-z is; folded input never has them. */
    bool has_letter = strpbrk(token, "abcdefghijklmnopqrstuvwxyz"
                                     "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != NULL;

    FUZZ_CHECK(memchr(primary, '\0', sizeof(primary)) == primary + n);
    FUZZ_CHECK(memchr(alternate, '\0', sizeof(alternate)) != NULL);
    FUZZ_CHECK(is_code(primary) && is_code(alternate));
    if (!has_letter)
        FUZZ_CHECK(n == 0);
    /* An empty alternate is allowed: it reads a final letter as silent. */
    if (n == 0)
        FUZZ_CHECK(!latin_metaphone_match(token, token));
    else
        FUZZ_CHECK(latin_metaphone_match(token, token));
}

static void check_nickname(const char *token)
{
    char forms[LATIN_NICKNAME_MAX][LATIN_CANONICAL_SIZE];
    size_t n = latin_nickname_canonical(token, forms);

    FUZZ_CHECK(n <= LATIN_NICKNAME_MAX);
    for (size_t i = 0; i < n; i++) {
        FUZZ_CHECK(memchr(forms[i], '\0', LATIN_CANONICAL_SIZE) != NULL);
        FUZZ_CHECK(forms[i][0] != '\0');
        /* A canonical form is a canonical name, which gives itself. */
        FUZZ_CHECK(latin_nickname_match(token, forms[i]));
    }
    FUZZ_CHECK(latin_nickname_match(token, token));
}

/* Checks every pair of adjacent tokens for symmetric matches. */
static void check_pairs(char tokens[][ECIF_NORM_MAX], size_t n)
{
    for (size_t i = 0; i + 1 < n; i++) {
        const char *a = tokens[i];
        const char *b = tokens[i + 1];

        FUZZ_CHECK(latin_metaphone_match(a, b) == latin_metaphone_match(b, a));
        FUZZ_CHECK(latin_nickname_match(a, b) == latin_nickname_match(b, a));
    }
}

static void check_suffix(const char *folded)
{
    static const char *const suffixes[] = {"",    "JR", "SR", "II",
                                           "III", "IV", "V"};
    char suffix[LATIN_SUFFIX_SIZE];
    bool known = false;

    for (size_t i = 0; i < FUZZ_N_OUT_SIZES; i++) {
        size_t outlen = fuzz_out_sizes[i];
        char *rest = malloc(outlen);
        size_t n;

        if (rest == NULL)
            abort();
        n = latin_name_suffix(folded, rest, outlen, suffix);
        fuzz_check_out(rest, outlen, n, true);
        FUZZ_CHECK(memchr(suffix, '\0', sizeof(suffix)) != NULL);
        free(rest);
    }
    for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++)
        known = known || strcmp(suffix, suffixes[i]) == 0;
    FUZZ_CHECK(known);
}

static void check_surname(const char *folded)
{
    latin_surname_t s;
    size_t n = latin_surname_key(folded, &s);

    FUZZ_CHECK(memchr(s.key, '\0', sizeof(s.key)) == s.key + n);
    FUZZ_CHECK(s.n_parts <= LATIN_SURNAME_MAX_PARTS);
    for (size_t i = 0; i < s.n_parts; i++) {
        FUZZ_CHECK(memchr(s.parts[i], '\0', ECIF_NORM_MAX) != NULL);
        FUZZ_CHECK(fuzz_utf8(s.parts[i]));
    }
    FUZZ_CHECK(fuzz_utf8(s.key));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *in = fuzz_cstring(data, size);
    char folded[ECIF_NORM_MAX];
    char copy[ECIF_NORM_MAX];
    char tokens[8][ECIF_NORM_MAX];
    size_t n_tokens = 0;

    /* Raw bytes: letters count, everything else is skipped. */
    check_metaphone(in);

    ecif_norm_name(in, folded, sizeof(folded));
    memcpy(copy, folded, sizeof(copy));
    for (char *t = strtok(copy, " "); t != NULL && n_tokens < 8;
         t = strtok(NULL, " ")) {
        snprintf(tokens[n_tokens], ECIF_NORM_MAX, "%s", t);
        check_metaphone(t);
        check_nickname(t);
        n_tokens++;
    }
    check_pairs(tokens, n_tokens);
    check_suffix(folded);
    check_surname(folded);
    free(in);
    return 0;
}
