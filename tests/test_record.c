/*
 * Unit tests of record and account validation (every message names the
 * field and quotes the value), of fixed-point amounts (parsing,
 * rejection, formatting and overflow-checked addition) and of update times.
 */
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "normalize.h"
#include "record.h"
#include "status.h"
#include "unit.h"

/* A valid stored record; tests change one field at a time. */
static ecif_record_t sample_record(void)
{
    ecif_record_t rec;

    memset(&rec, 0, sizeof(rec));
    rec.source_system = "core";
    rec.source_id = "c-1";
    rec.given_name = "Wei";
    rec.family_name = "Zhang";
    rec.id_number = "110105194912310021";
    rec.phones[0] = "+86 138 0013 8000";
    rec.n_phones = 1;
    rec.emails[0] = "wei.zhang@example.com";
    rec.n_emails = 1;
    rec.dob = "1949-12-31";
    rec.gender = "M";
    return rec;
}

static ecif_account_t sample_account(void)
{
    ecif_account_t acct;

    memset(&acct, 0, sizeof(acct));
    acct.account_id = "A-1";
    acct.product = "loan";
    acct.currency = "CNY";
    acct.branch = "BJ01";
    return acct;
}

/* Validates rec as a stored record; the message lands in err. */
static int validate(const ecif_record_t *rec, char *err, size_t errlen)
{
    err[0] = '\0';
    return ecif_record_validate(rec, true, err, errlen);
}

static bool contains(const char *haystack, const char *needle)
{
    bool found = strstr(haystack, needle) != NULL;
    if (!found)
        fprintf(stderr, "message \"%s\" lacks \"%s\"\n", haystack, needle);
    return found;
}

static void test_record_valid_sample(void)
{
    ecif_record_t rec = sample_record();
    char err[256];

    CHECK_INT(validate(&rec, err, sizeof(err)), ECIF_OK);
}

static void test_record_bad_dob_message(void)
{
    ecif_record_t rec = sample_record();
    char err[256];

    rec.dob = "31st of June";
    CHECK_INT(validate(&rec, err, sizeof(err)), ECIF_EINVAL);
    CHECK(contains(err, "dob"));
    CHECK(contains(err, "'31st of June'"));
}

static void test_record_calendar_invalid_dob_accepted(void)
{
    ecif_record_t rec = sample_record();
    char err[256];

    rec.dob = "1990-02-30";
    CHECK_INT(validate(&rec, err, sizeof(err)), ECIF_OK);
}

static void test_record_bad_gender_message(void)
{
    ecif_record_t rec = sample_record();
    char err[256];

    rec.gender = "robot";
    CHECK_INT(validate(&rec, err, sizeof(err)), ECIF_EINVAL);
    CHECK(contains(err, "gender"));
    CHECK(contains(err, "'robot'"));
}

static void test_record_bad_phone_message(void)
{
    ecif_record_t rec = sample_record();
    char err[256];

    rec.phones[1] = "12-34";
    rec.n_phones = 2;
    CHECK_INT(validate(&rec, err, sizeof(err)), ECIF_EINVAL);
    CHECK(contains(err, "phone"));
    CHECK(contains(err, "'12-34'"));
    CHECK(contains(err, "fewer than 5 digits"));
}

/* Validation accepts exactly the phones and emails matching can compare.
 * Otherwise a phone with enough digits but letters in it, or an email
 * without a dotted domain, would be stored and never matched. */
static void test_record_rejects_unmatchable_contacts(void)
{
    ecif_record_t rec = sample_record();
    char err[256];

    rec.phones[0] = "138 0013 8000 home";
    CHECK_INT(validate(&rec, err, sizeof(err)), ECIF_EINVAL);
    CHECK(contains(err, "'138 0013 8000 home'"));
    CHECK(contains(err, "contains letters"));
    rec = sample_record();
    rec.emails[0] = "wei@localhost";
    CHECK_INT(validate(&rec, err, sizeof(err)), ECIF_EINVAL);
    CHECK(contains(err, "'wei@localhost'"));
    CHECK(contains(err, "dot in the domain"));
    rec = sample_record();
    rec.phones[0] = "010-6552-9988 转 123";
    rec.emails[0] = "Wei.Zhang+bank@Example.COM";
    CHECK_INT(validate(&rec, err, sizeof(err)), ECIF_OK);
}

static void test_record_bad_email_message(void)
{
    ecif_record_t rec = sample_record();
    char err[256];

    rec.emails[0] = "wei.example.com";
    CHECK_INT(validate(&rec, err, sizeof(err)), ECIF_EINVAL);
    CHECK(contains(err, "email"));
    CHECK(contains(err, "'wei.example.com'"));
    rec.emails[0] = "a@b@c";
    CHECK_INT(validate(&rec, err, sizeof(err)), ECIF_EINVAL);
    CHECK(contains(err, "'a@b@c'"));
}

static void test_record_bad_id_number_message(void)
{
    ecif_record_t rec = sample_record();
    char err[256];

    rec.id_number = "--- ---";
    CHECK_INT(validate(&rec, err, sizeof(err)), ECIF_EINVAL);
    CHECK(contains(err, "id_number"));
    CHECK(contains(err, "'--- ---'"));
}

static void test_record_too_long_message(void)
{
    ecif_record_t rec = sample_record();
    char value[ECIF_MAX_FIELD_BYTES + 2];
    char err[512];

    memset(value, 'x', sizeof(value) - 1);
    value[sizeof(value) - 1] = '\0';
    rec.family_name = value;
    CHECK_INT(validate(&rec, err, sizeof(err)), ECIF_EINVAL);
    CHECK(contains(err, "family_name"));
    CHECK(contains(err, "513 bytes"));
    CHECK(contains(err, "'xxxxxxxx"));
    CHECK(strlen(err) < 200); /* the quote is cut, not the whole value */

    memset(value, 'x', ECIF_MAX_FIELD_BYTES);
    value[ECIF_MAX_FIELD_BYTES] = '\0';
    CHECK_INT(validate(&rec, err, sizeof(err)), ECIF_OK);
}

static void test_record_invalid_utf8_message(void)
{
    ecif_record_t rec = sample_record();
    char err[256];

    rec.given_name = "We\xFFi";
    CHECK_INT(validate(&rec, err, sizeof(err)), ECIF_EINVAL);
    CHECK(contains(err, "given_name"));
    CHECK(contains(err, "UTF-8"));
    CHECK(contains(err, "'We"));
    /* The message itself must stay valid UTF-8. */
    CHECK(ecif_utf8_valid(err, strlen(err)));

    rec = sample_record();
    rec.addresses[0] = "Beijing \xE5\xBC";
    rec.n_addresses = 1;
    CHECK_INT(validate(&rec, err, sizeof(err)), ECIF_EINVAL);
    CHECK(contains(err, "address"));
    CHECK(ecif_utf8_valid(err, strlen(err)));
}

static void test_record_long_quote_cut_on_character(void)
{
    ecif_record_t rec = sample_record();
    char value[200] = "";
    char err[512];

    /* 60 Chinese characters (180 bytes) that are not a date. */
    for (int i = 0; i < 60; i++)
        strcat(value, "\xE5\xBC\xA0");
    rec.dob = value;
    CHECK_INT(validate(&rec, err, sizeof(err)), ECIF_EINVAL);
    CHECK(contains(err, "dob"));
    CHECK(contains(err, "..."));
    CHECK(ecif_utf8_valid(err, strlen(err)));
}

static void test_record_no_matchable_field(void)
{
    ecif_record_t rec;
    char err[256];

    memset(&rec, 0, sizeof(rec));
    rec.source_system = "core";
    rec.source_id = "c-1";
    rec.gender = "F";
    rec.addresses[0] = "1 Main Street";
    rec.n_addresses = 1;
    CHECK_INT(validate(&rec, err, sizeof(err)), ECIF_EINVAL);
    CHECK(contains(err, "record"));
    CHECK(contains(err, "name"));
    rec.phones[0] = "";
    rec.n_phones = 1;
    CHECK_INT(validate(&rec, err, sizeof(err)), ECIF_EINVAL);
    rec.dob = "2001-01-01";
    CHECK_INT(validate(&rec, err, sizeof(err)), ECIF_OK);
}

static void test_record_too_many_values(void)
{
    ecif_record_t rec = sample_record();
    char err[256];

    rec.n_emails = ECIF_MAX_VALUES + 1;
    CHECK_INT(validate(&rec, err, sizeof(err)), ECIF_EINVAL);
    CHECK(contains(err, "email"));
    CHECK(contains(err, "9 values"));
    rec = sample_record();
    for (int i = 0; i < ECIF_MAX_VALUES; i++)
        rec.phones[i] = "13800138000";
    rec.n_phones = ECIF_MAX_VALUES;
    CHECK_INT(validate(&rec, err, sizeof(err)), ECIF_OK);
}

static void test_record_source_only_when_required(void)
{
    ecif_record_t rec = sample_record();
    char err[256];

    rec.source_system = NULL;
    CHECK_INT(ecif_record_validate(&rec, true, err, sizeof(err)), ECIF_EINVAL);
    CHECK(contains(err, "source_system"));
    CHECK_INT(ecif_record_validate(&rec, false, err, sizeof(err)), ECIF_OK);
    rec = sample_record();
    rec.source_id = "";
    CHECK_INT(ecif_record_validate(&rec, true, err, sizeof(err)), ECIF_EINVAL);
    CHECK(contains(err, "source_id"));
    CHECK_INT(ecif_record_validate(&rec, false, err, sizeof(err)), ECIF_OK);
}

static void test_record_source_key_form(void)
{
    ecif_record_t rec = sample_record();
    char err[256];

    rec.source_id = "C-1 ";
    CHECK_INT(ecif_record_validate(&rec, true, err, sizeof(err)), ECIF_EINVAL);
    CHECK(contains(err, "source_id: space at the start or end of 'C-1 '"));
    rec.source_id = "\tC-1";
    CHECK_INT(ecif_record_validate(&rec, true, err, sizeof(err)), ECIF_EINVAL);
    CHECK(contains(err, "source_id"));
    rec.source_id = "C-1\xc2\xa0"; /* U+00A0, no-break space */
    CHECK_INT(ecif_record_validate(&rec, true, err, sizeof(err)), ECIF_EINVAL);
    CHECK(contains(err, "source_id: space at the start or end"));
    rec.source_id = "\xe3\x80\x80"
                    "C-1"; /* U+3000, ideographic space */
    CHECK_INT(ecif_record_validate(&rec, true, err, sizeof(err)), ECIF_EINVAL);
    CHECK(contains(err, "source_id: space at the start or end"));
    rec.source_id = "C\x01-1";
    CHECK_INT(ecif_record_validate(&rec, true, err, sizeof(err)), ECIF_EINVAL);
    CHECK(contains(err, "source_id: control character U+0001"));
    rec.source_id = "\xe5\xbc\xa0 \xe4\xbc\x9f"; /* inner space, Han */
    CHECK_INT(ecif_record_validate(&rec, true, err, sizeof(err)), ECIF_OK);
    rec = sample_record();
    rec.source_system = "S/T";
    CHECK_INT(ecif_record_validate(&rec, true, err, sizeof(err)), ECIF_EINVAL);
    CHECK(contains(err, "source_system: '/' in 'S/T'"));
    /* An id may contain '/' and inner spaces. */
    rec = sample_record();
    rec.source_id = "T/X 10";
    CHECK_INT(ecif_record_validate(&rec, true, err, sizeof(err)), ECIF_OK);
    /* Without a required key the key is not checked. */
    rec.source_system = " S";
    CHECK_INT(ecif_record_validate(&rec, false, err, sizeof(err)), ECIF_OK);
}

/* A journaled record skips the checks that an entry accepted earlier may
 * fail now, and keeps every other one. */
static void test_record_journaled_checks(void)
{
    ecif_record_t rec = sample_record();
    char err[256];

    rec.source_id = "C-1 ";
    rec.updated_at = (int64_t)time(NULL) + 3 * 86400;
    CHECK_INT(ecif_record_validate(&rec, true, err, sizeof(err)), ECIF_EINVAL);
    CHECK_INT(ecif_record_validate_journaled(&rec, err, sizeof(err)), ECIF_OK);
    rec.updated_at = -1;
    CHECK_INT(ecif_record_validate_journaled(&rec, err, sizeof(err)),
              ECIF_EINVAL);
    CHECK(contains(err, "updated_at"));
    rec = sample_record();
    rec.source_id = "";
    CHECK_INT(ecif_record_validate_journaled(&rec, err, sizeof(err)),
              ECIF_EINVAL);
    CHECK(contains(err, "source_id: missing value"));
    rec = sample_record();
    rec.dob = "June 1992";
    CHECK_INT(ecif_record_validate_journaled(&rec, err, sizeof(err)),
              ECIF_EINVAL);
    CHECK(contains(err, "dob"));
}

static void test_record_no_message_buffer(void)
{
    ecif_record_t rec = sample_record();

    rec.gender = "?";
    CHECK_INT(ecif_record_validate(&rec, true, NULL, 0), ECIF_EINVAL);
}

static void test_account_valid_and_missing_fields(void)
{
    ecif_account_t acct = sample_account();
    char err[256];

    CHECK_INT(ecif_account_validate(&acct, err, sizeof(err)), ECIF_OK);
    acct.branch = NULL;
    CHECK_INT(ecif_account_validate(&acct, err, sizeof(err)), ECIF_OK);

    acct = sample_account();
    acct.account_id = "";
    CHECK_INT(ecif_account_validate(&acct, err, sizeof(err)), ECIF_EINVAL);
    CHECK(contains(err, "account_id"));
    acct = sample_account();
    acct.product = NULL;
    CHECK_INT(ecif_account_validate(&acct, err, sizeof(err)), ECIF_EINVAL);
    CHECK(contains(err, "product"));
    acct = sample_account();
    acct.currency = NULL;
    CHECK_INT(ecif_account_validate(&acct, err, sizeof(err)), ECIF_EINVAL);
    CHECK(contains(err, "currency"));
}

static void test_account_bad_currency_message(void)
{
    static const char *const bad[] = {"cny", "CN", "CNYY", "C1Y",
                                      "\xE5\x85\x83" /* 元 */};
    ecif_account_t acct = sample_account();
    char err[256];

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char quoted[32];
        acct.currency = bad[i];
        CHECK_INT(ecif_account_validate(&acct, err, sizeof(err)), ECIF_EINVAL);
        CHECK(contains(err, "currency"));
        snprintf(quoted, sizeof(quoted), "'%s'", bad[i]);
        CHECK(contains(err, quoted));
    }
}

static void test_account_id_form(void)
{
    static const struct {
        const char *id;
        const char *message; /* NULL when the id passes */
    } cases[] = {
        {"L-500", NULL},
        {NULL, NULL},
        {"", NULL},
        {" L-500", "space at the start or end of ' L-500'"},
        {"L-500\xE3\x80\x80", "space at the start or end"}, /* U+3000 */
        {"L-\x01"
         "500",
         "control character U+0001 in 'L-?500'"},
        {"L-\t500", "control character U+0009 in 'L-?500'"},
        {"L-\n500", "control character U+000A"},
        {"L-\xC2\xA0" /* no-break space */ "500", "space character U+00A0"},
        {"L 500", NULL},
    };
    char err[256];

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        err[0] = '\0';
        int rc = ecif_account_id_check(cases[i].id, err, sizeof(err));
        CHECK_INT(rc, cases[i].message == NULL ? ECIF_OK : ECIF_EINVAL);
        if (cases[i].message != NULL) {
            CHECK(contains(err, "account_id"));
            CHECK(contains(err, cases[i].message));
        }
    }
}

static void test_account_invalid_utf8(void)
{
    ecif_account_t acct = sample_account();
    char err[256];

    acct.branch = "BJ\xC3";
    CHECK_INT(ecif_account_validate(&acct, err, sizeof(err)), ECIF_EINVAL);
    CHECK(contains(err, "branch"));
}

/* Parses text, returning the amount or INT64_MIN + 1 on failure. */
static int64_t parse(const char *text)
{
    int64_t value = 0;
    if (ecif_amount_parse(text, &value) != ECIF_OK)
        return INT64_MIN + 1;
    return value;
}

static void test_amount_parse_accepted(void)
{
    CHECK_INT(parse("1,234.50"), 12345000);
    CHECK_INT(parse("-0.5"), -5000);
    CHECK_INT(parse("12"), 120000);
    CHECK_INT(parse(".5"), 5000); /* a leading point is accepted */
    CHECK_INT(parse("5."), 50000);
    CHECK_INT(parse("+7.25"), 72500);
    CHECK_INT(parse(" 1234 "), 12340000);
    CHECK_INT(parse("0.0001"), 1);
    CHECK_INT(parse("1,234,567.8901"), 12345678901LL);
    CHECK_INT(parse("-0"), 0);
}

static void test_amount_parse_rejected(void)
{
    static const char *const bad[] = {
        "",        " ",         "-",
        ".",       "1.2.3",     "1..2",
        "1.23456", "12,34",     "1234,567",
        ",123",    "1,234,",    "1,23,456",
        "1,2345",  "abc",       "12abc",
        "1 234",   "--1",       "1e5",
        "0x10",    "1,234.5,6", "99999999999999999999",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int64_t value = 12345;
        int rc = ecif_amount_parse(bad[i], &value);
        if (rc != ECIF_EINVAL)
            fprintf(stderr, "amount '%s' accepted\n", bad[i]);
        CHECK_INT(rc, ECIF_EINVAL);
    }
    CHECK_INT(ecif_amount_parse(NULL, &(int64_t){0}), ECIF_EINVAL);
}

static void test_amount_parse_range_limits(void)
{
    int64_t value = 0;

    CHECK_INT(ecif_amount_parse("922337203685477.5807", &value), ECIF_OK);
    CHECK(value == INT64_MAX);
    CHECK_INT(ecif_amount_parse("-922337203685477.5808", &value), ECIF_OK);
    CHECK(value == INT64_MIN);
    CHECK_INT(ecif_amount_parse("922337203685477.5808", &value), ECIF_EINVAL);
    CHECK_INT(ecif_amount_parse("-922337203685477.5809", &value), ECIF_EINVAL);
    CHECK_INT(ecif_amount_parse("922337203685478", &value), ECIF_EINVAL);
}

static void test_amount_format_places(void)
{
    char buf[ECIF_AMOUNT_STR_MAX];

    CHECK_STR(ecif_amount_format(12345000, buf), "1234.50");
    CHECK_STR(ecif_amount_format(125, buf), "0.0125");
    CHECK_STR(ecif_amount_format(0, buf), "0.00");
    CHECK_STR(ecif_amount_format(-5000, buf), "-0.50");
    CHECK_STR(ecif_amount_format(-1, buf), "-0.0001");
    CHECK_STR(ecif_amount_format(10, buf), "0.001");
    CHECK_STR(ecif_amount_format(INT64_MAX, buf), "922337203685477.5807");
    CHECK_STR(ecif_amount_format(INT64_MIN, buf), "-922337203685477.5808");
}

static void test_amount_format_round_trip(void)
{
    static const int64_t amounts[] = {
        0,
        1,
        -1,
        99,
        100,
        12345000,
        -12345000,
        5000,
        -5000,
        123456789012345LL,
        INT64_MAX,
        INT64_MIN,
        INT64_MAX - 1,
        INT64_MIN + 1,
    };
    for (size_t i = 0; i < sizeof(amounts) / sizeof(amounts[0]); i++) {
        char buf[ECIF_AMOUNT_STR_MAX];
        int64_t back = 0;
        int rc = ecif_amount_parse(ecif_amount_format(amounts[i], buf), &back);
        if (rc != ECIF_OK || back != amounts[i])
            fprintf(stderr, "round trip of '%s' failed\n", buf);
        CHECK_INT(rc, ECIF_OK);
        CHECK(back == amounts[i]);
    }
}

static void test_amount_add_overflow(void)
{
    int64_t a = INT64_MAX - 5;

    CHECK_INT(ecif_amount_add(&a, 5), ECIF_OK);
    CHECK(a == INT64_MAX);
    CHECK_INT(ecif_amount_add(&a, 1), ECIF_ELIMIT);
    CHECK(a == INT64_MAX); /* unchanged on failure */
    a = INT64_MIN;
    CHECK_INT(ecif_amount_add(&a, -1), ECIF_ELIMIT);
    CHECK(a == INT64_MIN);
    a = 100;
    CHECK_INT(ecif_amount_add(&a, -250), ECIF_OK);
    CHECK_INT(a, -150);
}

static void test_updated_at_parse_accepted(void)
{
    static const struct {
        const char *text;
        int64_t want;
    } cases[] = {
        {"2024-03-01", 1709251200},
        {" 2024-03-01 ", 1709251200},
        {"2024-03-01T08:30", 1709281800},
        {"2024-03-01T08:30:15Z", 1709281815},
        {"2024-03-01 08:30:15", 1709281815},
        {"2024-03-01T08:30:15.123456Z", 1709281815},
        {"2024-03-01T16:30:15+08:00", 1709281815},
        {"2024-03-01T16:30:15+0800", 1709281815},
        {"2024-03-01T16:30:15+08", 1709281815},
        {"2024-03-01T03:30:15-05:00", 1709281815},
        {"2000-02-29", 951782400},
        {"1970-01-01T00:00:01Z", 1},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int64_t got = -1;
        char err[256] = "";
        CHECK_INT(ecif_updated_at_parse(cases[i].text, &got, err, sizeof(err)),
                  ECIF_OK);
        if (got != cases[i].want)
            fprintf(stderr, "'%s': %lld, expected %lld (%s)\n", cases[i].text,
                    (long long)got, (long long)cases[i].want, err);
        CHECK(got == cases[i].want);
    }
}

static void test_updated_at_parse_rejected(void)
{
    static const char *const bad[] = {
        "",
        "yesterday",
        "2024-13-01",
        "2023-02-29",
        "2024-04-31",
        "2024-3-1",
        "20240301",
        "2024-03-01T24:00",
        "2024-03-01T08:60",
        "2024-03-01T08:30:61",
        "2024-03-01T08:30Zx",
        "2024-03-01T08:30+15",
        "2024-03-01T",
        "2024-03-01T08:30:15.",
        "1970-01-01",
        "1969-12-31T23:59:59Z",
    };

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int64_t got = 0;
        char err[256] = "";
        CHECK_INT(ecif_updated_at_parse(bad[i], &got, err, sizeof(err)),
                  ECIF_EINVAL);
        CHECK(strncmp(err, "updated_at: ", 12) == 0);
        CHECK(strstr(err, bad[i]) != NULL);
    }
}

static void test_updated_at_format_round_trip(void)
{
    static const int64_t times[] = {1, 951782400, 1709281815, 4102444799,
                                    ECIF_UPDATED_AT_MAX};
    char text[ECIF_UPDATED_AT_STR_MAX];

    CHECK_STR(ecif_updated_at_format(0, text), "");
    CHECK_STR(ecif_updated_at_format(1709281815, text), "2024-03-01T08:30:15Z");
    CHECK_STR(ecif_updated_at_format(ECIF_UPDATED_AT_MAX, text),
              "2106-02-07T06:28:15Z");
    for (size_t i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
        int64_t back = 0;
        ecif_updated_at_format(times[i], text);
        CHECK_INT(ecif_updated_at_parse(text, &back, NULL, 0), ECIF_OK);
        CHECK(back == times[i]);
    }
}

static void test_record_updated_at_range(void)
{
    ecif_record_t rec = sample_record();
    char err[256];

    rec.updated_at = 1709281815;
    CHECK_INT(ecif_record_validate(&rec, true, err, sizeof(err)), ECIF_OK);
    rec.updated_at = (int64_t)time(NULL) + 2 * ECIF_UPDATED_AT_SKEW;
    CHECK_INT(ecif_record_validate(&rec, true, err, sizeof(err)), ECIF_EINVAL);
    CHECK(strncmp(err, "updated_at: '", 13) == 0);
    CHECK(strstr(err, "in the future") != NULL);
    rec.updated_at = -5;
    CHECK_INT(ecif_record_validate(&rec, true, err, sizeof(err)), ECIF_EINVAL);
    CHECK(strstr(err, "updated_at: ") == err);
}

/* Products group without regard to ASCII case, and only ASCII case. */
static void test_product_cmp(void)
{
    CHECK(ecif_product_cmp("Loan", "loan") == 0);
    CHECK(ecif_product_cmp("LOAN", "loan") == 0);
    CHECK(ecif_product_cmp("credit_card", "Credit_Card") == 0);
    CHECK(ecif_product_cmp("loan", "loans") < 0);
    CHECK(ecif_product_cmp("deposit", "Loan") < 0);
    CHECK(ecif_product_cmp("Loan", "deposit") > 0);
    CHECK(ecif_product_cmp("贷款", "贷款") == 0);
    CHECK(ecif_product_cmp("Ä", "ä") != 0); /* not ASCII: kept apart */
    CHECK(ecif_product_cmp("ＬＯＡＮ", "loan") == 0); /* full-width */
    CHECK(ecif_product_cmp("ｃｒｅｄｉｔ＿ｃａｒｄ", "Credit_Card") == 0);
    CHECK(ecif_product_cmp("ＬＯＡＮ", "loans") < 0);
    CHECK(ecif_product_cmp("\xEF\xBC", "loan") != 0); /* cut short */
}

int main(void)
{
    RUN(test_record_valid_sample);
    RUN(test_record_bad_dob_message);
    RUN(test_record_calendar_invalid_dob_accepted);
    RUN(test_record_bad_gender_message);
    RUN(test_record_bad_phone_message);
    RUN(test_record_bad_email_message);
    RUN(test_record_rejects_unmatchable_contacts);
    RUN(test_record_bad_id_number_message);
    RUN(test_record_too_long_message);
    RUN(test_record_invalid_utf8_message);
    RUN(test_record_long_quote_cut_on_character);
    RUN(test_record_no_matchable_field);
    RUN(test_record_too_many_values);
    RUN(test_record_source_only_when_required);
    RUN(test_record_source_key_form);
    RUN(test_record_journaled_checks);
    RUN(test_record_no_message_buffer);
    RUN(test_account_valid_and_missing_fields);
    RUN(test_account_bad_currency_message);
    RUN(test_account_id_form);
    RUN(test_account_invalid_utf8);
    RUN(test_amount_parse_accepted);
    RUN(test_amount_parse_rejected);
    RUN(test_amount_parse_range_limits);
    RUN(test_amount_format_places);
    RUN(test_amount_format_round_trip);
    RUN(test_amount_add_overflow);
    RUN(test_updated_at_parse_accepted);
    RUN(test_updated_at_parse_rejected);
    RUN(test_updated_at_format_round_trip);
    RUN(test_record_updated_at_range);
    RUN(test_product_cmp);
    return unit_report();
}
