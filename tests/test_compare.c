/*
 * Unit tests of the string comparators: Jaro-Winkler known values and
 * properties (symmetry, bounds, identity), and the bounded
 * optimal-string-alignment distance.
 */
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "compare.h"
#include "unit.h"

static bool approx_equal(double a, double b)
{
    return fabs(a - b) < 0.0005;
}

/* Strings for the property checks, Latin and Chinese, short and long. */
static const char *const words[] = {
    "",
    "a",
    "ab",
    "ba",
    "martha",
    "marhta",
    "dixon",
    "dicksonx",
    "jones",
    "johnson",
    "abcvwxyz",
    "cabvwxyz",
    "aaaaab",
    "baaaaa",
    "\xE5\xBC\xA0\xE4\xBC\x9F",             /* 张伟 */
    "\xE5\xBC\xA0\xE4\xBC\x9F\xE4\xBC\x9F", /* 张伟伟 */
    "\xE7\x8E\x8B\xE4\xBC\x9F",             /* 王伟 */
    "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnop"
    "qrstuvwxyz",
};

#define N_WORDS (sizeof(words) / sizeof(words[0]))

static void test_jaro_winkler_known_values(void)
{
    CHECK(approx_equal(ecif_jaro_winkler("MARTHA", "MARHTA"), 0.961));
    CHECK(approx_equal(ecif_jaro_winkler("DIXON", "DICKSONX"), 0.813));
    CHECK(approx_equal(ecif_jaro_winkler("DWAYNE", "DUANE"), 0.840));
}

static void test_jaro_winkler_identical_is_one(void)
{
    for (size_t i = 0; i < N_WORDS; i++)
        CHECK(ecif_jaro_winkler(words[i], words[i]) == 1.0);
}

static void test_jaro_winkler_no_common_is_zero(void)
{
    CHECK(ecif_jaro_winkler("abc", "xyz") == 0.0);
    CHECK(ecif_jaro_winkler("abc", "") == 0.0);
    CHECK(ecif_jaro_winkler("", "abc") == 0.0);
}

static void test_jaro_winkler_symmetric(void)
{
    for (size_t i = 0; i < N_WORDS; i++) {
        for (size_t j = 0; j < N_WORDS; j++) {
            double ab = ecif_jaro_winkler(words[i], words[j]);
            double ba = ecif_jaro_winkler(words[j], words[i]);
            if (ab != ba)
                fprintf(stderr, "asymmetric for words %zu and %zu\n", i, j);
            CHECK(ab == ba);
        }
    }
}

static void test_jaro_winkler_bounds(void)
{
    for (size_t i = 0; i < N_WORDS; i++) {
        for (size_t j = 0; j < N_WORDS; j++) {
            double s = ecif_jaro_winkler(words[i], words[j]);
            CHECK(s >= 0.0);
            CHECK(s <= 1.0);
        }
    }
}

static void test_jaro_winkler_prefix_ranks_higher(void)
{
    /* Same letters moved: a shared prefix earns the Winkler boost. */
    CHECK(ecif_jaro_winkler("abcdxy", "abcdyx") >
          ecif_jaro_winkler("xyabcd", "yxabcd"));
}

static void test_jaro_winkler_cjk_per_character(void)
{
    /* 张伟 / 张伟伟: 2 of 3 characters agree with the same prefix. */
    double s = ecif_jaro_winkler("\xE5\xBC\xA0\xE4\xBC\x9F",
                                 "\xE5\xBC\xA0\xE4\xBC\x9F\xE4\xBC\x9F");
    CHECK(approx_equal(s, 0.911));
}

static void test_edit_distance_basic(void)
{
    CHECK_INT(ecif_edit_distance("", "", 5), 0);
    CHECK_INT(ecif_edit_distance("abc", "abc", 5), 0);
    CHECK_INT(ecif_edit_distance("", "abc", 5), 3);
    CHECK_INT(ecif_edit_distance("kitten", "sitting", 5), 3);
    CHECK_INT(ecif_edit_distance("smith", "smyth", 5), 1);
    CHECK_INT(ecif_edit_distance("smith", "smit", 5), 1);
}

static void test_edit_distance_transposition_is_one(void)
{
    CHECK_INT(ecif_edit_distance("ab", "ba", 5), 1);
    CHECK_INT(ecif_edit_distance("martha", "marhta", 5), 1);
    CHECK_INT(ecif_edit_distance("110105194912310021", "110105194921310021", 5),
              1);
}

static void test_edit_distance_max_cut_off(void)
{
    CHECK_INT(ecif_edit_distance("kitten", "sitting", 2), 3);
    CHECK_INT(ecif_edit_distance("kitten", "sitting", 3), 3);
    CHECK_INT(ecif_edit_distance("abcdef", "ghijkl", 1), 2);
    CHECK_INT(ecif_edit_distance("a", "abcdefgh", 2), 3);
    CHECK_INT(ecif_edit_distance("abc", "abd", 0), 1);
    CHECK_INT(ecif_edit_distance("abc", "abc", 0), 0);
}

static void test_edit_distance_cjk_per_character(void)
{
    /* 张伟 / 张伟伟 and 张伟 / 王伟: one character each, not three bytes. */
    CHECK_INT(ecif_edit_distance("\xE5\xBC\xA0\xE4\xBC\x9F",
                                 "\xE5\xBC\xA0\xE4\xBC\x9F\xE4\xBC\x9F", 5),
              1);
    CHECK_INT(ecif_edit_distance("\xE5\xBC\xA0\xE4\xBC\x9F",
                                 "\xE7\x8E\x8B\xE4\xBC\x9F", 5),
              1);
    CHECK_INT(ecif_edit_distance("\xE5\xBC\xA0\xE4\xBC\x9F",
                                 "\xE4\xBC\x9F\xE5\xBC\xA0", 5),
              1);
}

static void test_edit_distance_symmetric(void)
{
    for (size_t i = 0; i < N_WORDS; i++) {
        for (size_t j = 0; j < N_WORDS; j++) {
            int ab = ecif_edit_distance(words[i], words[j], 100);
            int ba = ecif_edit_distance(words[j], words[i], 100);
            CHECK_INT(ab, ba);
        }
    }
}

/* Full-matrix optimal string alignment over bytes of ASCII strings. */
static int reference_distance(const char *a, const char *b)
{
    size_t na = strlen(a), nb = strlen(b);
    int d[16][16];

    for (size_t i = 0; i <= na; i++)
        d[i][0] = (int)i;
    for (size_t j = 0; j <= nb; j++)
        d[0][j] = (int)j;
    for (size_t i = 1; i <= na; i++) {
        for (size_t j = 1; j <= nb; j++) {
            int cost = a[i - 1] == b[j - 1] ? 0 : 1;
            int best = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < best)
                best = d[i][j - 1] + 1;
            if (d[i - 1][j - 1] + cost < best)
                best = d[i - 1][j - 1] + cost;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
                a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < best)
                best = d[i - 2][j - 2] + 1;
            d[i][j] = best;
        }
    }
    return d[na][nb];
}

static void test_edit_distance_matches_full_matrix(void)
{
    srand(7);
    for (int round = 0; round < 2000; round++) {
        char a[12], b[12];
        size_t na = (size_t)(rand() % 10), nb = (size_t)(rand() % 10);
        for (size_t i = 0; i < na; i++)
            a[i] = (char)('a' + rand() % 3);
        for (size_t i = 0; i < nb; i++)
            b[i] = (char)('a' + rand() % 3);
        a[na] = '\0';
        b[nb] = '\0';
        int expected = reference_distance(a, b);
        int max = rand() % 6;
        int got = ecif_edit_distance(a, b, max);
        int want = expected > max ? max + 1 : expected;
        if (got != want)
            fprintf(stderr, "'%s' / '%s' max %d: %d, expected %d\n", a, b, max,
                    got, want);
        CHECK_INT(got, want);
    }
}

int main(void)
{
    RUN(test_jaro_winkler_known_values);
    RUN(test_jaro_winkler_identical_is_one);
    RUN(test_jaro_winkler_no_common_is_zero);
    RUN(test_jaro_winkler_symmetric);
    RUN(test_jaro_winkler_bounds);
    RUN(test_jaro_winkler_prefix_ranks_higher);
    RUN(test_jaro_winkler_cjk_per_character);
    RUN(test_edit_distance_basic);
    RUN(test_edit_distance_transposition_is_one);
    RUN(test_edit_distance_max_cut_off);
    RUN(test_edit_distance_cjk_per_character);
    RUN(test_edit_distance_symmetric);
    RUN(test_edit_distance_matches_full_matrix);
    return unit_report();
}
