/*
 * Tests of resident ID parsing and identity document normalization. Every
 * ID number is synthetic: built from 17 chosen digits, with the check
 * character computed here by a second, independent MOD 11-2 routine.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cn_id.h"
#include "normalize.h"
#include "status.h"
#include "unit.h"

/*
 * ISO 7064 MOD 11-2 written from its definition: fold the digits with
 * p = (p + digit) * 2 mod 11, then the check value is (12 - p) mod 11,
 * with 10 written as X.
 */
static char reference_check(const char *first17)
{
    int p = 0;

    for (int i = 0; i < 17; i++)
        p = (p + (first17[i] - '0')) * 2 % 11;
    int check = (12 - p) % 11;
    return check == 10 ? 'X' : (char)('0' + check);
}

/* Builds an 18-character ID with a correct check character. */
static void make_id(const char *first17, char out[CN_ID_SIZE])
{
    memcpy(out, first17, 17);
    out[17] = reference_check(first17);
    out[18] = '\0';
}

static void check_char_matches_reference(void)
{
    /* A linear congruential walk over many 17-digit strings. */
    unsigned long long state = 12345;
    char digits[18];
    int seen_x = 0;

    for (int round = 0; round < 2000; round++) {
        for (int i = 0; i < 17; i++) {
            state = state * 6364136223846793005ULL + 1442695040888963407ULL;
            digits[i] = (char)('0' + (state >> 33) % 10);
        }
        digits[17] = '\0';
        char expected = reference_check(digits);
        CHECK_INT(cn_id_check_char(digits), expected);
        if (expected == 'X')
            seen_x++;
    }
    CHECK(seen_x > 0);
}

static void check_char_rejects_non_digits(void)
{
    CHECK_INT(cn_id_check_char("11010119900307A12"), 0);
    CHECK_INT(cn_id_check_char("1101011990"), 0);
    CHECK_INT(cn_id_check_char(NULL), 0);
}

static void valid18_accepts_x_check(void)
{
    char id[CN_ID_SIZE];
    char first17[18];
    int found = 0;

    /* Find a sequence code whose check character is X. */
    for (int seq = 0; seq < 1000 && !found; seq++) {
        snprintf(first17, sizeof(first17), "11010519491231%03d", seq);
        if (reference_check(first17) == 'X')
            found = 1;
    }
    CHECK(found);
    make_id(first17, id);
    CHECK_INT(id[17], 'X');
    CHECK(cn_id_valid18(id));

    id[17] = 'x'; /* normalized input is upper case */
    CHECK(!cn_id_valid18(id));
    id[17] = '0';
    CHECK(!cn_id_valid18(id));
}

static void valid18_rejects_wrong_length(void)
{
    char id[CN_ID_SIZE];

    make_id("44030419850615201", id);
    CHECK(cn_id_valid18(id));
    id[17] = '\0';
    CHECK(!cn_id_valid18(id));
    CHECK(!cn_id_valid18(""));
    CHECK(!cn_id_valid18(NULL));
}

static void upgrade15_round_trip(void)
{
    char id15[16] = "440304850615201";
    char out[CN_ID_SIZE];
    char expected[CN_ID_SIZE];

    CHECK_INT(cn_id_upgrade15(id15, out), ECIF_OK);
    make_id("44030419850615201", expected);
    CHECK_STR(out, expected);
    CHECK(cn_id_valid18(out));

    /* Dropping the century and the check character gives id15 back. */
    char back[16];
    memcpy(back, out, 6);
    memcpy(back + 6, out + 8, 9);
    back[15] = '\0';
    CHECK_STR(back, id15);
}

static void upgrade15_rejects_bad_input(void)
{
    char out[CN_ID_SIZE];

    CHECK_INT(cn_id_upgrade15("44030485061520", out), ECIF_EINVAL);
    CHECK_STR(out, "");
    CHECK_INT(cn_id_upgrade15("44030485061520X", out), ECIF_EINVAL);
    CHECK_INT(cn_id_upgrade15("4403048506152011", out), ECIF_EINVAL);
}

static void parse_derives_fields(void)
{
    char id[CN_ID_SIZE];
    cn_id_info_t info;

    /* 110105 is Chaoyang district of Beijing in every revision. */
    make_id("11010519880229124", id);
    CHECK_INT(cn_id_parse(id, &info), ECIF_OK);
    CHECK_STR(info.id18, id);
    CHECK_INT(info.dob, 19880229);
    CHECK_INT(info.sex, 'F');
    CHECK_INT(info.region, 110105);
    CHECK_STR(info.region_name, "朝阳区");
    CHECK(info.check_valid);
    CHECK(info.date_valid);
    CHECK(info.region_known);
    CHECK_INT(info.flags, 0);

    make_id("11010519880229133", id);
    CHECK_INT(cn_id_parse(id, &info), ECIF_OK);
    CHECK_INT(info.sex, 'M');
}

static void parse_upgrades_15_digits(void)
{
    cn_id_info_t info;
    char expected[CN_ID_SIZE];

    CHECK_INT(cn_id_parse("110105880229123", &info), ECIF_OK);
    make_id("11010519880229123", expected);
    CHECK_STR(info.id18, expected);
    CHECK_INT(info.dob, 19880229);
    CHECK_INT(info.sex, 'M'); /* 15th digit 3 is odd */
    CHECK(info.check_valid);
    CHECK_INT(info.flags, CN_ID_UPGRADED);
}

static void parse_flags_bad_check(void)
{
    char id[CN_ID_SIZE];
    cn_id_info_t info;

    make_id("11010519900307123", id);
    id[17] = id[17] == '0' ? '1' : '0';
    CHECK_INT(cn_id_parse(id, &info), ECIF_OK);
    CHECK(!info.check_valid);
    CHECK_INT(info.flags, CN_ID_BAD_CHECK);
    CHECK_STR(info.id18, id); /* kept as given, not corrected */
    CHECK_INT(info.dob, 19900307);
}

static void parse_flags_impossible_date(void)
{
    static const char *const first17s[] = {
        "11010519890229123", /* 1989 is not a leap year */
        "11010519901301123", /* month 13 */
        "11010519900431123", /* April has 30 days */
        "11010519900100123", /* day 0 */
        "11010517990101123", /* before 1800 */
    };
    char id[CN_ID_SIZE];
    cn_id_info_t info;

    for (size_t i = 0; i < sizeof(first17s) / sizeof(first17s[0]); i++) {
        make_id(first17s[i], id);
        CHECK_INT(cn_id_parse(id, &info), ECIF_OK);
        CHECK(!info.date_valid);
        CHECK_INT(info.flags, CN_ID_BAD_DATE);
    }
    make_id("11010520000229123", id); /* 2000 is a leap year */
    CHECK_INT(cn_id_parse(id, &info), ECIF_OK);
    CHECK(info.date_valid);
}

static void parse_flags_unknown_region(void)
{
    char id[CN_ID_SIZE];
    cn_id_info_t info;

    /* No province has code 99 or 00. */
    make_id("99010519900307123", id);
    CHECK_INT(cn_id_parse(id, &info), ECIF_OK);
    CHECK(!info.region_known);
    CHECK(info.region_name == NULL);
    CHECK_INT(info.flags, CN_ID_UNKNOWN_REGION);

    make_id("00000019900307123", id);
    CHECK_INT(cn_id_parse(id, &info), ECIF_OK);
    CHECK_INT(info.flags & CN_ID_UNKNOWN_REGION, CN_ID_UNKNOWN_REGION);
}

static void parse_accepts_historical_region(void)
{
    char id[CN_ID_SIZE];
    cn_id_info_t info;

    /* 110103 (Chongwen district) was merged into Dongcheng in 2010. */
    make_id("11010319700101001", id);
    CHECK_INT(cn_id_parse(id, &info), ECIF_OK);
    CHECK(info.region_known);
    CHECK(info.check_valid);
    CHECK_STR(info.region_name, "崇文区");
    CHECK_INT(info.flags, CN_ID_RETIRED_REGION);

    const cn_region_t *region = cn_region_find(110103);
    CHECK(region != NULL);
    if (region != NULL) {
        CHECK_INT(region->first_revision / 100, 1980);
        CHECK_INT(region->last_revision / 100, 2009);
        CHECK_INT(region->current, 0);
    }
}

static void parse_rejects_other_shapes(void)
{
    static const char *const inputs[] = {
        "",
        "1101051990030712",    /* 16 digits */
        "1101051990030712345", /* 19 digits */
        "11010519900307123A",  /* check character A */
        "1101051990030X1234",  /* X inside */
        "11010588022912X",     /* 15 characters with X */
        "11010519900307123x",  /* lower case: not normalized */
    };
    cn_id_info_t info;

    for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
        CHECK_INT(cn_id_parse(inputs[i], &info), ECIF_EINVAL);
        CHECK_STR(info.id18, "");
        CHECK_INT(info.flags, 0);
    }
    CHECK_INT(cn_id_parse(NULL, &info), ECIF_EINVAL);
}

static void cross_check_flags_mismatches(void)
{
    char id[CN_ID_SIZE];
    cn_id_info_t info;

    make_id("11010519880229124", id);
    CHECK_INT(cn_id_parse(id, &info), ECIF_OK);
    CHECK_INT(cn_id_cross_check(&info, 19880229, 'F'), 0);
    CHECK_INT(cn_id_cross_check(&info, 19880228, 'F'), CN_ID_DOB_MISMATCH);
    CHECK_INT(cn_id_cross_check(&info, 19880229, 'M'), CN_ID_GENDER_MISMATCH);
    CHECK_INT(cn_id_cross_check(&info, 19820229, 'M'),
              CN_ID_DOB_MISMATCH | CN_ID_GENDER_MISMATCH);
    /* Unknown values never mismatch. */
    CHECK_INT(cn_id_cross_check(&info, 0, 0), 0);

    /* An ID whose own date is impossible gives no dob mismatch. */
    make_id("11010519890229124", id);
    CHECK_INT(cn_id_parse(id, &info), ECIF_OK);
    CHECK_INT(cn_id_cross_check(&info, 19890301, 'F'), 0);
}

static void flag_str_names_flags(void)
{
    char buf[128];

    CHECK_INT(cn_id_flag_str(0, buf, sizeof(buf)), 0);
    CHECK_STR(buf, "");
    cn_id_flag_str(CN_ID_BAD_CHECK | CN_ID_UNKNOWN_REGION, buf, sizeof(buf));
    CHECK_STR(buf, "BAD_CHECK|UNKNOWN_REGION");
    cn_id_flag_str(CN_ID_GENDER_MISMATCH, buf, sizeof(buf));
    CHECK_STR(buf, "GENDER_MISMATCH");

    /* Names that do not fit whole are left out. */
    char small[12];
    size_t n = cn_id_flag_str(CN_ID_BAD_CHECK | CN_ID_UNKNOWN_REGION, small,
                              sizeof(small));
    CHECK_STR(small, "BAD_CHECK");
    CHECK_INT(n, 9);
    CHECK_INT(cn_id_flag_str(CN_ID_BAD_CHECK, buf, 0), 0);
}

static void region_lookup_by_text(void)
{
    const char *name = "unset";

    CHECK_INT(cn_region_lookup("110000", &name), ECIF_OK);
    CHECK_STR(name, "北京市");
    CHECK_INT(cn_region_lookup("990000", &name), ECIF_ENOTFOUND);
    CHECK(name == NULL);
    CHECK_INT(cn_region_lookup("11000", &name), ECIF_EINVAL);
    CHECK_INT(cn_region_lookup("11000A", &name), ECIF_EINVAL);
}

static void region_table_sorted(void)
{
    CHECK(cn_region_count > 3000);
    for (size_t i = 1; i < cn_region_count; i++) {
        if (cn_region_table[i - 1].code >= cn_region_table[i].code) {
            CHECK(cn_region_table[i - 1].code < cn_region_table[i].code);
            break;
        }
    }
    for (size_t i = 0; i < cn_region_count; i++) {
        const cn_region_t *r = &cn_region_table[i];
        if (r->first_revision > r->last_revision ||
            !ecif_utf8_valid(r->name, strlen(r->name))) {
            CHECK(r->first_revision <= r->last_revision);
            CHECK(ecif_utf8_valid(r->name, strlen(r->name)));
            break;
        }
    }
}

static void doc_type_spellings(void)
{
    static const struct {
        const char *spelling;
        id_doc_type_t type;
    } cases[] = {
        {"身份证", ID_DOC_RESIDENT_ID},
        {"居民身份证", ID_DOC_RESIDENT_ID},
        {"ID_CARD", ID_DOC_RESIDENT_ID},
        {"id-card", ID_DOC_RESIDENT_ID},
        {"01", ID_DOC_RESIDENT_ID},
        {"０１", ID_DOC_RESIDENT_ID}, /* full-width digits */
        {"RESIDENT_ID", ID_DOC_RESIDENT_ID},
        {"Passport", ID_DOC_PASSPORT},
        {"护照", ID_DOC_PASSPORT},
        {"港澳居民来往内地通行证", ID_DOC_HK_MACAU_PERMIT},
        {"回乡证", ID_DOC_HK_MACAU_PERMIT},
        {"HK_MACAU_PERMIT", ID_DOC_HK_MACAU_PERMIT},
        {"台湾居民来往大陆通行证", ID_DOC_TAIWAN_PERMIT},
        {"台胞证", ID_DOC_TAIWAN_PERMIT},
        {"TAIWAN_PERMIT", ID_DOC_TAIWAN_PERMIT},
        {"外国人永久居留身份证", ID_DOC_FOREIGN_PERMANENT},
        {"FOREIGN_PERMANENT", ID_DOC_FOREIGN_PERMANENT},
        {"驾驶证", ID_DOC_OTHER},
        {"02", ID_DOC_OTHER},
        {"", ID_DOC_OTHER},
        {"OTHER", ID_DOC_OTHER},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        id_doc_type_t type = id_doc_type_parse(cases[i].spelling);
        if (type != cases[i].type)
            fprintf(stderr, "type spelling case %zu failed\n", i);
        CHECK_INT(type, cases[i].type);
    }
    CHECK_INT(id_doc_type_parse(NULL), ID_DOC_OTHER);
    CHECK_STR(id_doc_type_name(ID_DOC_TAIWAN_PERMIT), "TAIWAN_PERMIT");
    CHECK_STR(id_doc_type_name((id_doc_type_t)99), "OTHER");
}

static void doc_numbers_normalized(void)
{
    static const struct {
        const char *type;
        const char *number;
        const char *expected;
        bool well_formed;
    } cases[] = {
        {"身份证", "110105880229123", NULL, true},
        {"ID_CARD", "1101-0519", "11010519", false},
        {"护照", "e 1234 5678", "E12345678", true},
        {"passport", "E1", "E1", false},
        {"回乡证", "h1234-5678", "H12345678", true},
        {"回乡证", "H1234567801", "H1234567801", true},
        {"回乡证", "C12345678", "C12345678", false},
        {"台胞证", "１２３４５６７８", "12345678", true},
        {"台胞证", "1234567", "1234567", false},
        {"外国人永久居留身份证", "usa-123456789012", "USA123456789012", true},
        {"外国人永久居留身份证", "12345678901", "12345678901", false},
        {"unknown", "a.b-c", "ABC", true},
    };
    char expected_id[CN_ID_SIZE];
    char out[ECIF_NORM_MAX];
    id_doc_type_t type;
    bool well_formed;

    make_id("11010519880229123", expected_id);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *expected = cases[i].expected;
        if (expected == NULL)
            expected = expected_id;
        size_t n = id_doc_normalize(cases[i].type, cases[i].number, &type,
                                    &well_formed, out, sizeof(out));
        if (strcmp(out, expected) != 0 || well_formed != cases[i].well_formed)
            fprintf(stderr, "number case %zu failed\n", i);
        CHECK_STR(out, expected);
        CHECK_INT(n, strlen(expected));
        CHECK_INT(well_formed, cases[i].well_formed);
    }

    /* Separators and a lower-case x check character. */
    char spaced[32], x_id[CN_ID_SIZE], first17[18];
    for (int seq = 0; seq < 1000; seq++) {
        snprintf(first17, sizeof(first17), "44030419850615%03d", seq);
        if (reference_check(first17) == 'X')
            break;
    }
    make_id(first17, x_id);
    CHECK_INT(x_id[17], 'X');
    snprintf(spaced, sizeof(spaced), "%.6s %.8s-%.3sx", x_id, x_id + 6,
             x_id + 14);
    id_doc_normalize("身份证", spaced, &type, &well_formed, out, sizeof(out));
    CHECK_STR(out, x_id);
    CHECK(well_formed);

    /* The new foreign permanent card reuses the resident ID layout. */
    make_id("93310619880229123", expected_id);
    id_doc_normalize("外国人永久居留身份证", expected_id, &type, &well_formed,
                     out, sizeof(out));
    CHECK(well_formed);

    CHECK_INT(
        id_doc_normalize("护照", "--", &type, &well_formed, out, sizeof(out)),
        0);
    CHECK_STR(out, "");
    CHECK(!well_formed);
    CHECK_INT(
        id_doc_normalize("护照", NULL, &type, &well_formed, out, sizeof(out)),
        0);
}

/* Normalizing the output again, under its canonical type name, is a no-op. */
static void doc_normalize_idempotent(void)
{
    static const char *const types[] = {
        "身份证", "护照", "回乡证", "台胞证", "外国人永久居留身份证", "x"};
    static const char *const numbers[] = {
        "110105880229123",
        "11010519880229123X",
        " e-12 34 ",
        "ｈ１２３４５６７８",
        "中文 12",
        "a\xC3\xA9z",
        "",
    };
    char once[ECIF_NORM_MAX], twice[ECIF_NORM_MAX];
    id_doc_type_t type, type2;
    bool wf, wf2;

    for (size_t t = 0; t < sizeof(types) / sizeof(types[0]); t++) {
        for (size_t i = 0; i < sizeof(numbers) / sizeof(numbers[0]); i++) {
            size_t n = id_doc_normalize(types[t], numbers[i], &type, &wf, once,
                                        sizeof(once));
            CHECK(ecif_utf8_valid(once, n));
            size_t n2 = id_doc_normalize(id_doc_type_name(type), once, &type2,
                                         &wf2, twice, sizeof(twice));
            CHECK_INT(type2, type);
            CHECK_STR(twice, once);
            CHECK_INT(n2, n);
            CHECK_INT(wf2, wf);
        }
    }
}

/* Every output length up to the full size: no byte past outlen changes. */
static void doc_normalize_tiny_buffers(void)
{
    char buf[40];
    id_doc_type_t type;
    bool wf;

    for (size_t outlen = 0; outlen < 24; outlen++) {
        memset(buf, '#', sizeof(buf));
        size_t n = id_doc_normalize("身份证", "110105880229123", &type, &wf,
                                    buf, outlen);
        for (size_t i = outlen; i < sizeof(buf); i++)
            CHECK_INT(buf[i], '#');
        if (outlen > 0) {
            CHECK_INT(strlen(buf), n);
            CHECK(n < outlen);
        }
        CHECK_INT(n, outlen > 18 ? 18 : 0);

        memset(buf, '#', sizeof(buf));
        n = cn_id_flag_str(0x7f, buf, outlen);
        for (size_t i = outlen; i < sizeof(buf); i++)
            CHECK_INT(buf[i], '#');
        if (outlen > 0)
            CHECK(n < outlen);
    }
}

int main(void)
{
    RUN(check_char_matches_reference);
    RUN(check_char_rejects_non_digits);
    RUN(valid18_accepts_x_check);
    RUN(valid18_rejects_wrong_length);
    RUN(upgrade15_round_trip);
    RUN(upgrade15_rejects_bad_input);
    RUN(parse_derives_fields);
    RUN(parse_upgrades_15_digits);
    RUN(parse_flags_bad_check);
    RUN(parse_flags_impossible_date);
    RUN(parse_flags_unknown_region);
    RUN(parse_accepts_historical_region);
    RUN(parse_rejects_other_shapes);
    RUN(cross_check_flags_mismatches);
    RUN(flag_str_names_flags);
    RUN(region_lookup_by_text);
    RUN(region_table_sorted);
    RUN(doc_type_spellings);
    RUN(doc_numbers_normalized);
    RUN(doc_normalize_idempotent);
    RUN(doc_normalize_tiny_buffers);
    return unit_report();
}
