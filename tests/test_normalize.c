/*
 * Unit tests of normalization: text folding, ID numbers, dates, gender and
 * phonetic codes, plus properties checked over a table of mixed inputs
 * (idempotence, valid UTF-8 output, bounded output).
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "normalize.h"
#include "status.h"
#include "unit.h"

typedef size_t (*norm_fn)(const char *, char *, size_t);

static const char *text(const char *in)
{
    static char out[ECIF_NORM_MAX];
    ecif_norm_text(in, out, sizeof(out));
    return out;
}

static const char *name(const char *in)
{
    static char out[ECIF_NORM_MAX];
    ecif_norm_name(in, out, sizeof(out));
    return out;
}

static const char *id_number(const char *in)
{
    static char out[ECIF_NORM_MAX];
    ecif_norm_id(in, out, sizeof(out));
    return out;
}

static const char *phonetic(const char *in)
{
    static char out[ECIF_NORM_MAX];
    ecif_phonetic(in, out, sizeof(out));
    return out;
}

static void test_text_full_width_to_ascii(void)
{
    CHECK_STR(text("\xEF\xBC\xAA\xEF\xBC\xAF\xEF\xBC\xB3\xEF\xBC\xA5"),
              "jose"); /* ＪＯＳＥ */
    CHECK_STR(text("\xEF\xBC\x91\xEF\xBC\x93\xEF\xBC\x98"), "138"); /* １３８ */
    CHECK_STR(text("\xEF\xBD\x81\xEF\xBD\x82"), "ab");              /* ａｂ */
}

static void test_text_ideographic_space(void)
{
    CHECK_STR(text("\xE5\xBC\xA0\xE3\x80\x80\xE4\xBC\x9F"),
              "\xE5\xBC\xA0 \xE4\xBC\x9F"); /* 张　伟 */
    CHECK_STR(text("\xE3\x80\x80"
                   "ann\xE3\x80\x80"),
              "ann");
}

static void test_text_latin1_accents(void)
{
    CHECK_STR(text("Jos\xC3\xA9"), "jose"); /* José */
    CHECK_STR(text("M\xC3\xBC"
                   "ller"),
              "muller"); /* Müller */
    CHECK_STR(text("\xC3\x87"
                   "a\xC3\xA7"
                   "a"),
              "caca"); /* Çaça */
    CHECK_STR(text("\xC3\x91"
                   "u\xC3\xB1"
                   "ez"),
              "nunez"); /* Ñuñez */
    CHECK_STR(text("\xC3\x8A"
                   "tre"),
              "etre"); /* Être */
}

static void test_text_punctuation_collapse(void)
{
    CHECK_STR(text("  O'Brien,  --  Mary!! "), "o brien mary");
    CHECK_STR(text("a.b...c"), "a b c");
    CHECK_STR(text("\xE5\xBC\xA0\xC2\xB7\xE4\xBC\x9F"),
              "\xE5\xBC\xA0 \xE4\xBC\x9F"); /* 张·伟 */
    CHECK_STR(text("\xE5\xBC\xA0\xE3\x80\x81\xE4\xBC\x9F"),
              "\xE5\xBC\xA0 \xE4\xBC\x9F"); /* 张、伟 */
    CHECK_STR(text("!!!"), "");
    CHECK_INT(ecif_norm_text("", (char[8]){0}, 8), 0);
}

static void test_text_cjk_kept(void)
{
    CHECK_STR(text("\xE5\xBC\xA0\xE4\xBC\x9F"), "\xE5\xBC\xA0\xE4\xBC\x9F");
    CHECK_STR(text("\xE5\x8C\x97\xE4\xBA\xAC\xE5\xB8\x82 12\xE5\x8F\xB7"),
              "\xE5\x8C\x97\xE4\xBA\xAC\xE5\xB8\x82 12\xE5\x8F\xB7");
}

static void test_name_drops_digits(void)
{
    CHECK_STR(name("Mary 2nd Smith"), "mary nd smith");
    CHECK_STR(name("J0hn"), "j hn");
    CHECK_STR(name("???"), "");
}

static void test_id_upper_case_and_dashes(void)
{
    CHECK_STR(id_number("11010519491231002x"), "11010519491231002X");
    CHECK_STR(id_number("110-105-1949 1231.002X"), "11010519491231002X");
    CHECK_STR(id_number("e1234567"), "E1234567");
}

static void test_id_full_width(void)
{
    /* Ｅ１２３－４ */
    CHECK_STR(id_number("\xEF\xBC\xA5\xEF\xBC\x91\xEF\xBC\x92\xEF\xBC\x93"
                        "\xEF\xBC\x8D\xEF\xBC\x94"),
              "E1234");
    CHECK_STR(id_number("\xEF\xBD\x98\xEF\xBC\x99"), "X9"); /* ｘ９ */
}

/* Parses text as a date into *ymd and *valid and returns the status. */
static int date(const char *in, uint32_t *ymd, bool *valid)
{
    *ymd = 0;
    *valid = false;
    return ecif_norm_date(in, ymd, valid);
}

static void test_date_every_layout(void)
{
    static const char *const layouts[] = {
        "19900315",
        "1990-03-15",
        "1990/03/15",
        "1990.03.15",
        "15/03/1990",
        "15-03-1990",
        "15.03.1990",
        " 1990-03-15 ",
        "1990\xE5\xB9\xB4"
        "3\xE6\x9C\x88"
        "15\xE6\x97\xA5", /* 年 月 日 */
        "1990\xE5\xB9\xB4"
        "03\xE6\x9C\x88"
        "15\xE6\x97\xA5",
        "1990-3-15",
    };
    for (size_t i = 0; i < sizeof(layouts) / sizeof(layouts[0]); i++) {
        uint32_t ymd;
        bool valid;
        int rc = date(layouts[i], &ymd, &valid);
        if (rc != ECIF_OK || ymd != 19900315 || !valid)
            fprintf(stderr, "date layout '%s' not parsed\n", layouts[i]);
        CHECK_INT(rc, ECIF_OK);
        CHECK_INT(ymd, 19900315);
        CHECK(valid);
    }
}

static void test_date_calendar_invalid_kept(void)
{
    uint32_t ymd;
    bool valid;

    CHECK_INT(date("1990-02-30", &ymd, &valid), ECIF_OK);
    CHECK_INT(ymd, 19900230);
    CHECK(!valid);
    CHECK_INT(date("19901301", &ymd, &valid), ECIF_OK);
    CHECK_INT(ymd, 19901301);
    CHECK(!valid);
    CHECK_INT(date("1990-01-00", &ymd, &valid), ECIF_OK);
    CHECK(!valid);
    CHECK_INT(date("1900-02-29", &ymd, &valid), ECIF_OK);
    CHECK(!valid); /* 1900 is no leap year */
    CHECK_INT(date("2000-02-29", &ymd, &valid), ECIF_OK);
    CHECK(valid);
    CHECK_INT(date("1991-02-29", &ymd, &valid), ECIF_OK);
    CHECK(!valid);
}

static void test_date_non_dates_rejected(void)
{
    static const char *const bad[] = {
        "",
        "   ",
        "yesterday",
        "1990",
        "1990-03",
        "1990-03-15-1",
        "1990-03/15",
        "15/03/90",
        "199-03-15",
        "1990315",
        "199003150",
        "1990 03 15",
        "0099-03-15",
        "abcd-ef-gh",
        "1990-03-15x",
        "1990\xE5\xB9\xB4",
        "2024-01-1500",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        uint32_t ymd;
        bool valid;
        int rc = date(bad[i], &ymd, &valid);
        if (rc != ECIF_EINVAL)
            fprintf(stderr, "non-date '%s' accepted as %u\n", bad[i],
                    (unsigned)ymd);
        CHECK_INT(rc, ECIF_EINVAL);
    }
    CHECK_INT(ecif_norm_date(NULL, &(uint32_t){0}, &(bool){false}),
              ECIF_EINVAL);
}

static void test_gender_values(void)
{
    CHECK_INT(ecif_norm_gender("M"), 'M');
    CHECK_INT(ecif_norm_gender("m"), 'M');
    CHECK_INT(ecif_norm_gender("Male"), 'M');
    CHECK_INT(ecif_norm_gender("\xE7\x94\xB7"), 'M'); /* 男 */
    CHECK_INT(ecif_norm_gender("\xEF\xBC\xAD"), 'M'); /* Ｍ */
    CHECK_INT(ecif_norm_gender("F"), 'F');
    CHECK_INT(ecif_norm_gender("FEMALE"), 'F');
    CHECK_INT(ecif_norm_gender("\xE5\xA5\xB3"), 'F'); /* 女 */
    CHECK_INT(ecif_norm_gender("x"), 0);
    CHECK_INT(ecif_norm_gender("unknown"), 0);
    CHECK_INT(ecif_norm_gender(""), 0);
    CHECK_INT(ecif_norm_gender(NULL), 0);
}

static void test_phonetic_similar_names_equal(void)
{
    CHECK_STR(phonetic("robert"), "R163");
    CHECK_STR(phonetic("rupert"), "R163");
    CHECK_STR(phonetic("ashcraft"), phonetic("ashcroft"));
    CHECK_STR(phonetic("smith"), phonetic("smyth"));
}

static void test_phonetic_different_names_differ(void)
{
    char a[16], b[16];
    ecif_phonetic("robert", a, sizeof(a));
    ecif_phonetic("lopez", b, sizeof(b));
    CHECK(strcmp(a, b) != 0);
    ecif_phonetic("wang", a, sizeof(a));
    ecif_phonetic("zhang", b, sizeof(b));
    CHECK(strcmp(a, b) != 0);
}

static void test_phonetic_other_scripts(void)
{
    char out[8];
    CHECK_STR(phonetic("\xE5\xBC\xA0\xE4\xBC\x9F"), "\xE5\xBC\xA0\xE4\xBC\x9F");
    /* 张伟伟 is 9 bytes: a code cut to fit must end on a character. */
    ecif_phonetic("\xE5\xBC\xA0\xE4\xBC\x9F\xE4\xBC\x9F", out, sizeof(out));
    CHECK(ecif_utf8_valid(out, strlen(out)));
    CHECK_STR(out, "\xE5\xBC\xA0\xE4\xBC\x9F");
}

static void test_utf8_valid_rejects_ill_formed(void)
{
    CHECK(ecif_utf8_valid("abc", 3));
    CHECK(ecif_utf8_valid("\xE5\xBC\xA0", 3));
    CHECK(!ecif_utf8_valid("\xE5\xBC", 2));
    CHECK(!ecif_utf8_valid("\xC0\xAF", 2));         /* overlong '/' */
    CHECK(!ecif_utf8_valid("\xED\xA0\x80", 3));     /* surrogate */
    CHECK(!ecif_utf8_valid("\xF4\x90\x80\x80", 4)); /* above U+10FFFF */
    CHECK(!ecif_utf8_valid("a\0b", 3));
}

static void test_utf8_next_ill_formed_is_replacement(void)
{
    static const char *const ill[] = {
        "\xED\xA0\x80",     /* surrogate */
        "\xE0\x80\xAF",     /* overlong '/' */
        "\xF0\x80\x80\x80", /* overlong NUL */
        "\xF4\x90\x80\x80", /* above U+10FFFF */
        "\x80",             /* lone continuation byte */
    };
    for (size_t i = 0; i < sizeof(ill) / sizeof(ill[0]); i++) {
        const char *p = ill[i];
        uint32_t cp = ecif_utf8_next(&p, ill[i] + strlen(ill[i]));
        CHECK_INT(cp, 0xFFFD);
        CHECK(p == ill[i] + 1);
    }
}

/* Inputs for the property checks: plain, folded, CJK, ill-formed, long. */
static const char *const mixed_inputs[] = {
    "",
    "Wei Zhang",
    "  ZHANG   wei  ",
    "\xEF\xBC\xAA\xEF\xBC\xAF\xEF\xBC\xB3\xEF\xBC\xA5 Mar\xC3\xAD"
    "a",
    "\xE5\xBC\xA0\xE3\x80\x80\xE4\xBC\x9F",
    "\xE5\x8C\x97\xE4\xBA\xAC\xE5\xB8\x82\xE6\x9C\x9D\xE9\x98\xB3\xE5\x8C\xBA"
    " 100020",
    "+86 138-0013-8000",
    "0086 \xEF\xBC\x91\xEF\xBC\x93\xEF\xBC\x98 0013 8000",
    "Wei.Zhang@Example.com",
    "\xE5\xBC\xA0@\xE4\xBE\x8B\xE5\xAD\x90.\xE4\xB8\xAD\xE5\x9B\xBD",
    "110105-19491231-002x",
    "O'Brien-Smith, Jr.",
    "\xC3\x80\xC3\x89\xC3\x8E\xC3\x95\xC3\x9C\xC3\x9F\xC3\xBF",
    "bad \xFF\xFE bytes",
    "cut \xE5\xBC",
    "surrogate \xED\xA0\x80 here",
    "overlong \xC0\xAF \xE0\x80\xAF",
    "beyond \xF4\x90\x80\x80 range",
    "\xF0\x9F\x98\x80 emoji \xF0\x9F\x98\x80",
    "a\xCC\x81"
    "combining",
    "\xE2\x80\x94\xE2\x80\x9Cquoted\xE2\x80\x9D\xE2\x80\x94",
    "x@y",
    "12345",
    "ext x 12345678",
};

static const struct {
    const char *label;
    norm_fn fn;
} norm_functions[] = {
    {"text", ecif_norm_text},
    {"name", ecif_norm_name},
    {"id", ecif_norm_id},
};

#define N_INPUTS    (sizeof(mixed_inputs) / sizeof(mixed_inputs[0]))
#define N_FUNCTIONS (sizeof(norm_functions) / sizeof(norm_functions[0]))

/* A long input: repeated mixed text, well past ECIF_NORM_MAX bytes. */
static const char *long_input(void)
{
    static char buf[2048];
    if (buf[0] == '\0') {
        size_t n = 0;
        while (n + 40 < sizeof(buf)) {
            n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s",
                                  "Ab\xE5\xBC\xA0 9@x.c \xC3\xA9-");
        }
    }
    return buf;
}

static void test_property_idempotent(void)
{
    for (size_t f = 0; f < N_FUNCTIONS; f++) {
        for (size_t i = 0; i <= N_INPUTS; i++) {
            const char *in = i < N_INPUTS ? mixed_inputs[i] : long_input();
            char once[ECIF_NORM_MAX], twice[ECIF_NORM_MAX];
            norm_functions[f].fn(in, once, sizeof(once));
            norm_functions[f].fn(once, twice, sizeof(twice));
            if (strcmp(once, twice) != 0)
                fprintf(stderr, "%s not idempotent on input %zu\n",
                        norm_functions[f].label, i);
            CHECK_STR(twice, once);
        }
    }
}

static void test_property_output_valid_utf8(void)
{
    for (size_t f = 0; f < N_FUNCTIONS; f++) {
        for (size_t i = 0; i <= N_INPUTS; i++) {
            const char *in = i < N_INPUTS ? mixed_inputs[i] : long_input();
            char out[ECIF_NORM_MAX];
            size_t n = norm_functions[f].fn(in, out, sizeof(out));
            bool ok = ecif_utf8_valid(out, n) && strlen(out) == n;
            if (!ok)
                fprintf(stderr, "%s gives invalid UTF-8 for input %zu\n",
                        norm_functions[f].label, i);
            CHECK(ok);
        }
    }
}

static void test_property_output_fits_buffer(void)
{
    static const size_t sizes[] = {1, 2, 3, 4, 5, 6, 8, 13, 64};
    for (size_t f = 0; f < N_FUNCTIONS; f++) {
        for (size_t i = 0; i <= N_INPUTS; i++) {
            const char *in = i < N_INPUTS ? mixed_inputs[i] : long_input();
            for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
                char out[80];
                size_t outlen = sizes[s];
                memset(out, '#', sizeof(out));
                size_t n = norm_functions[f].fn(in, out, outlen);
                bool ok = n < outlen && out[n] == '\0' && strlen(out) == n &&
                          out[outlen] == '#' && ecif_utf8_valid(out, n);
                if (!ok)
                    fprintf(stderr, "%s input %zu buffer %zu: bad output\n",
                            norm_functions[f].label, i, outlen);
                CHECK(ok);
            }
        }
    }
}

static void test_property_output_below_norm_max(void)
{
    for (size_t f = 0; f < N_FUNCTIONS; f++) {
        char out[4096];
        size_t n = norm_functions[f].fn(long_input(), out, sizeof(out));
        if (n > ECIF_NORM_MAX - 1)
            fprintf(stderr, "%s wrote %zu bytes\n", norm_functions[f].label, n);
        CHECK(n <= ECIF_NORM_MAX - 1);
        CHECK(ecif_utf8_valid(out, n));
    }
}

static void test_zero_length_buffer_untouched(void)
{
    for (size_t f = 0; f < N_FUNCTIONS; f++) {
        char out[2] = {'#', '#'};
        CHECK_INT(norm_functions[f].fn("Wei@x.com 12345", out, 0), 0);
        CHECK(out[0] == '#');
    }
}

int main(void)
{
    RUN(test_text_full_width_to_ascii);
    RUN(test_text_ideographic_space);
    RUN(test_text_latin1_accents);
    RUN(test_text_punctuation_collapse);
    RUN(test_text_cjk_kept);
    RUN(test_name_drops_digits);
    RUN(test_id_upper_case_and_dashes);
    RUN(test_id_full_width);
    RUN(test_date_every_layout);
    RUN(test_date_calendar_invalid_kept);
    RUN(test_date_non_dates_rejected);
    RUN(test_gender_values);
    RUN(test_phonetic_similar_names_equal);
    RUN(test_phonetic_different_names_differ);
    RUN(test_phonetic_other_scripts);
    RUN(test_utf8_valid_rejects_ill_formed);
    RUN(test_utf8_next_ill_formed_is_replacement);
    RUN(test_property_idempotent);
    RUN(test_property_output_valid_utf8);
    RUN(test_property_output_fits_buffer);
    RUN(test_property_output_below_norm_max);
    RUN(test_zero_length_buffer_untouched);
    return unit_report();
}
