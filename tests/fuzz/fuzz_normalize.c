/*
 * Fuzz target for engine/normalize.h and engine/date_compare.h: every
 * writer at several buffer sizes, idempotence of the field normalizers,
 * the UTF-8 decoder, date parsing and date comparison levels.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "date_compare.h"
#include "fuzz_common.h"
#include "normalize.h"
#include "record.h"
#include "status.h"

static const fuzz_writer_fn writers[] = {
    ecif_norm_text,
    ecif_norm_name,
    ecif_norm_id,
};

/* Decodes the whole input: progress on every step, no overrun. */
static void check_decoder(const char *s, size_t len)
{
    const char *p = s;
    const char *end = s + len;
    bool valid = ecif_utf8_valid(s, len);

    while (p < end) {
        const char *before = p;
        uint32_t cp = ecif_utf8_next(&p, end);

        FUZZ_CHECK(p > before && p <= end);
        FUZZ_CHECK(cp <= 0x10FFFF);
        if (valid)
            FUZZ_CHECK(cp != 0 && (cp < 0xD800 || cp > 0xDFFF));
    }
}

/* Normalizing the output again must give the same output. */
static void check_writer(fuzz_writer_fn fn, const char *in)
{
    char once[ECIF_NORM_MAX];
    char twice[ECIF_NORM_MAX];
    size_t n1 = fuzz_run_writer(fn, in, once);
    size_t n2 = fuzz_run_writer(fn, once, twice);

    if (n1 == 0)
        return;
    FUZZ_CHECK(n2 == n1);
    FUZZ_CHECK(memcmp(once, twice, n1 + 1) == 0);
}

/* The fast folding path must write what utf8proc writes, at every size. */
static void check_fold_paths(const char *in)
{
    char fast[ECIF_NORM_MAX];
    char slow[ECIF_NORM_MAX];

    for (int is_name = 0; is_name < 2; is_name++) {
        for (size_t i = 0; i < FUZZ_N_OUT_SIZES; i++) {
            size_t outlen = fuzz_out_sizes[i];
            size_t n_fast = is_name ? ecif_norm_name(in, fast, outlen)
                                    : ecif_norm_text(in, fast, outlen);
            size_t n_slow =
                ecif_norm_fold_utf8proc(in, slow, outlen, is_name != 0);

            FUZZ_CHECK(n_fast == n_slow);
            FUZZ_CHECK(memcmp(fast, slow, n_fast + 1) == 0);
        }
    }
}

static void check_phonetic(const char *in)
{
    char name[ECIF_NORM_MAX];
    char code[ECIF_NORM_MAX];

    fuzz_run_writer(ecif_norm_name, in, name);
    for (char *tok = strtok(name, " "); tok != NULL; tok = strtok(NULL, " "))
        fuzz_run_writer(ecif_phonetic, tok, code);
}

static uint32_t check_date(const char *in, bool *valid)
{
    uint32_t ymd = 0xFFFFFFFFu;
    int rc;

    *valid = true;
    rc = ecif_norm_date(in, &ymd, valid);
    FUZZ_CHECK(rc == ECIF_OK || rc == ECIF_EINVAL);
    if (rc != ECIF_OK)
        return 0;
    /* A date that does not exist still parses, so only 8 digits hold. */
    FUZZ_CHECK(ymd <= 99999999u);
    if (*valid) {
        uint32_t month = ymd / 100 % 100;
        uint32_t day = ymd % 100;

        FUZZ_CHECK(month >= 1 && month <= 12);
        FUZZ_CHECK(day >= 1 && day <= 31);
    }
    return ymd;
}

/* Levels are in range, symmetric, exact for equal dates, and missing for
 * 0 or a value above 99991231. */
static void check_date_compare(uint32_t a, bool av, uint32_t b, bool bv)
{
    enum date_compare_level ab = date_compare_level(a, av, b, bv);
    enum date_compare_level ba = date_compare_level(b, bv, a, av);

    FUZZ_CHECK((int)ab >= 0 && ab < DATE_COMPARE_LEVELS);
    FUZZ_CHECK(ab == ba);
    FUZZ_CHECK(date_compare_level_str(ab) != NULL);
    if (a == 0 || b == 0 || a > 99991231u || b > 99991231u)
        FUZZ_CHECK(ab == DATE_MISSING);
    else if (a == b)
        FUZZ_CHECK(ab == DATE_EXACT);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *in = fuzz_cstring(data, size);
    char *lines[2];
    size_t n_lines;
    uint32_t a, b;
    bool av, bv;
    char g;

    check_decoder(in, size);
    for (size_t i = 0; i < sizeof(writers) / sizeof(writers[0]); i++)
        check_writer(writers[i], in);
    check_fold_paths(in);
    /* NOTE: folding reads only the first ECIF_MAX_FIELD_BYTES bytes, the
     * most record validation lets through, so longer input is not checked
     * whole. The cut may also split a character. */
    if (strlen(in) <= ECIF_MAX_FIELD_BYTES && !fuzz_utf8(in)) {
        char text[ECIF_NORM_MAX];

        FUZZ_CHECK(ecif_norm_text(in, text, sizeof(text)) == 0);
    }
    check_phonetic(in);
    g = ecif_norm_gender(in);
    FUZZ_CHECK(g == 'M' || g == 'F' || g == 0);

    /* Two dates, one per line, for the comparison levels. */
    n_lines = fuzz_split_lines(in, lines, 2);
    a = check_date(lines[0], &av);
    b = n_lines > 1 ? check_date(lines[1], &bv) : a;
    if (n_lines == 1)
        bv = av;
    check_date_compare(a, av, b, bv);
    check_date_compare(a, av, 0, false);

    free(in);
    return 0;
}
