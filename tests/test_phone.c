/*
 * Unit tests of phone and email normalization: every written form of a
 * mainland number, country codes, extensions, invalid input, match keys,
 * and properties over a table of inputs (idempotence, valid UTF-8, small
 * buffers).
 */
#include <stdint.h>
#include <string.h>

#include "email.h"
#include "normalize.h"
#include "phone.h"
#include "unit.h"

static struct phone_info info;

static const char *canon(const char *text)
{
    phone_normalize(text, 0, &info);
    return info.canonical;
}

static void test_phone_mobile_forms(void)
{
    CHECK_STR(canon("13812345678"), "+8613812345678");
    CHECK_INT(info.kind, PHONE_CN_MOBILE);
    CHECK_INT(info.country_code, 86);
    CHECK_STR(canon("138 1234 5678"), "+8613812345678");
    CHECK_STR(canon("138-1234-5678"), "+8613812345678");
    CHECK_STR(canon("+86 138 1234 5678"), "+8613812345678");
    CHECK_STR(canon("+86-13812345678"), "+8613812345678");
    CHECK_STR(canon("0086 13812345678"), "+8613812345678");
    CHECK_STR(canon("8613812345678"), "+8613812345678");
    CHECK_STR(canon("(+86)13812345678"), "+8613812345678");
    CHECK_STR(canon("19912345678"), "+8619912345678");
    CHECK_INT(info.kind, PHONE_CN_MOBILE);
}

static void test_phone_full_width(void)
{
    /* "＋８６　１３８１２３４５６７８" */
    CHECK_STR(canon("\xEF\xBC\x8B\xEF\xBC\x98\xEF\xBC\x96\xE3\x80\x80"
                    "\xEF\xBC\x91\xEF\xBC\x93\xEF\xBC\x98\xEF\xBC\x91"
                    "\xEF\xBC\x92\xEF\xBC\x93\xEF\xBC\x94\xEF\xBC\x95"
                    "\xEF\xBC\x96\xEF\xBC\x97\xEF\xBC\x98"),
              "+8613812345678");
    CHECK_INT(info.kind, PHONE_CN_MOBILE);
    /* "（０１０）６５５２１２３４" */
    CHECK_STR(canon("\xEF\xBC\x88\xEF\xBC\x90\xEF\xBC\x91\xEF\xBC\x90"
                    "\xEF\xBC\x89\xEF\xBC\x96\xEF\xBC\x95\xEF\xBC\x95"
                    "\xEF\xBC\x92\xEF\xBC\x91\xEF\xBC\x92\xEF\xBC\x93"
                    "\xEF\xBC\x94"),
              "+861065521234");
}

static void test_phone_landline_beijing(void)
{
    const char *forms[] = {
        "010-65521234",     "010 6552 1234",      "(010) 6552 1234",
        "01065521234",      "1065521234",         "+86 10 6552 1234",
        "0086-10-65521234", "+86 (0)10 65521234", "86 10 65521234",
    };

    for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
        CHECK_STR(canon(forms[i]), "+861065521234");
        CHECK_INT(info.kind, PHONE_CN_LANDLINE);
        CHECK_STR(info.area_code, "10");
        CHECK_STR(info.subscriber, "65521234");
    }
}

static void test_phone_landline_other_areas(void)
{
    CHECK_STR(canon("021-6123 4567"), "+862161234567");
    CHECK_STR(info.area_code, "21");
    CHECK_STR(canon("0755-86001234"), "+8675586001234");
    CHECK_STR(info.area_code, "755");
    CHECK_STR(canon("75586001234"), "+8675586001234");
    CHECK_INT(info.kind, PHONE_CN_LANDLINE);
    CHECK_STR(canon("0571 8765432"), "+865718765432");
    CHECK_STR(info.subscriber, "8765432");
    CHECK_STR(canon("5718765432"), "+865718765432");
}

static void test_phone_service_numbers(void)
{
    CHECK_STR(canon("400-810-8888"), "+864008108888");
    CHECK_INT(info.kind, PHONE_CN_SERVICE);
    CHECK_STR(canon("800 820 8820"), "+868008208820");
    CHECK_INT(info.kind, PHONE_CN_SERVICE);
}

static void test_phone_extensions(void)
{
    CHECK_STR(canon("010-65521234转8001"), "+861065521234");
    CHECK_STR(info.extension, "8001");
    CHECK_STR(canon("010-65521234 ext. 12"), "+861065521234");
    CHECK_STR(info.extension, "12");
    CHECK_STR(canon("010-65521234x12"), "+861065521234");
    CHECK_STR(info.extension, "12");
    CHECK_STR(canon("010-65521234#305"), "+861065521234");
    CHECK_STR(info.extension, "305");
    CHECK_STR(canon("010-65521234分机7"), "+861065521234");
    CHECK_STR(info.extension, "7");
    CHECK_STR(canon("+1 212 555 0100 extension 4"), "+12125550100");
    CHECK_STR(info.extension, "4");
    CHECK_STR(canon("13812345678"), "+8613812345678");
    CHECK_STR(info.extension, "");
}

static void test_phone_other_countries(void)
{
    CHECK_STR(canon("+1 (212) 555-0100"), "+12125550100");
    CHECK_INT(info.kind, PHONE_FOREIGN);
    CHECK_INT(info.country_code, 1);
    CHECK_STR(canon("+44 20 7946 0958"), "+442079460958");
    CHECK_INT(info.country_code, 44);
    CHECK_STR(canon("0044 20 7946 0958"), "+442079460958");
    CHECK_STR(canon("+852 2123 4567"), "+85221234567");
    CHECK_INT(info.country_code, 852);
    CHECK_STR(canon("+7 495 123 45 67"), "+74951234567");
    CHECK_INT(info.country_code, 7);
    CHECK_STR(canon("+886 2 2345 6789"), "+886223456789");
    CHECK_INT(info.country_code, 886);
}

static void test_phone_default_country(void)
{
    phone_normalize("020 7946 0958", 44, &info);
    CHECK_STR(info.canonical, "+442079460958");
    CHECK_INT(info.kind, PHONE_FOREIGN);
    phone_normalize("1 212 555 0100", 1, &info);
    CHECK_STR(info.canonical, "+12125550100");
    phone_normalize("06 1234 5678", 39, &info);
    CHECK_STR(info.canonical, "+390612345678");
    phone_normalize("13812345678", 86, &info);
    CHECK_STR(info.canonical, "+8613812345678");
}

static void test_phone_unknown_stays_national(void)
{
    CHECK_STR(canon("6552 1234"), "65521234");
    CHECK_INT(info.kind, PHONE_UNKNOWN);
    CHECK_INT(info.country_code, 0);
    CHECK_STR(canon("123456789"), "123456789");
    CHECK_INT(info.kind, PHONE_UNKNOWN);
    CHECK_STR(canon("+86 65521234"), "65521234");
    CHECK_INT(info.kind, PHONE_UNKNOWN);
    CHECK_INT(info.country_code, 86);
}

static void test_phone_invalid(void)
{
    CHECK_INT(phone_normalize("1234", 0, &info), 0);
    CHECK_INT(info.kind, PHONE_INVALID);
    CHECK_STR(info.reason, "fewer than 5 digits");
    CHECK_INT(phone_normalize("138abc45678", 0, &info), 0);
    CHECK_STR(info.reason, "contains letters");
    CHECK_INT(phone_normalize("电话13812345678", 0, &info), 0);
    CHECK(info.reason != NULL);
    CHECK_INT(phone_normalize("", 0, &info), 0);
    CHECK_INT(phone_normalize(NULL, 0, &info), 0);
    CHECK_INT(phone_normalize("1234567890123456", 0, &info), 0);
    CHECK_STR(info.reason, "more than 15 digits");
    CHECK_INT(phone_normalize("+0 123456789", 0, &info), 0);
    CHECK_STR(info.reason, "invalid country code");
    CHECK_INT(phone_normalize("010-65521234 ext 123456789", 0, &info), 0);
    CHECK_STR(info.reason, "extension longer than 8 digits");
    CHECK_INT(phone_normalize("#12 13812345678", 0, &info), 0);
    CHECK_INT(phone_normalize("138\xFF"
                              "12345678",
                              0, &info),
              0);
    CHECK_STR(info.reason, "invalid UTF-8");
    CHECK_INT(phone_normalize("13812345678+1", 0, &info), 0);
}

static const char *key_of(const char *text)
{
    static char key[PHONE_E164_MAX];
    phone_normalize(text, 0, &info);
    phone_match_key(&info, key, sizeof(key));
    return key;
}

static void test_phone_match_key(void)
{
    CHECK_STR(key_of("010-65521234"), "65521234");
    CHECK_STR(key_of("6552 1234"), "65521234");
    CHECK_STR(key_of("0571 8765432"), "8765432");
    CHECK_STR(key_of("123456789"), "23456789");
    CHECK_STR(key_of("13812345678"), "+8613812345678");
    CHECK_STR(key_of("+44 20 7946 0958"), "+442079460958");
    CHECK_STR(key_of("12"), "");

    char small[4];
    phone_normalize("010-65521234", 0, &info);
    CHECK_INT(phone_match_key(&info, small, sizeof(small)), 0);
    CHECK_STR(small, "");
    CHECK_INT(phone_match_key(&info, small, 0), 0);
}

static void test_phone_kind_names(void)
{
    CHECK_STR(phone_kind_str(PHONE_CN_MOBILE), "cn_mobile");
    CHECK_STR(phone_kind_str(PHONE_CN_LANDLINE), "cn_landline");
    CHECK_STR(phone_kind_str(PHONE_FOREIGN), "foreign");
    CHECK_STR(phone_kind_str((enum phone_kind)99), "invalid");
}

static const char *const phone_inputs[] = {
    "13812345678",      "+86 138 1234 5678", "010-65521234转8001",
    "(010) 6552 1234",  "0755-86001234",     "65521234",
    "+44 20 7946 0958", "400-810-8888",      "+86 65521234",
    "123456789",        "1065521234",        "＋８６１３８１２３４５６７８",
};

static void test_phone_normalize_twice_same(void)
{
    for (size_t i = 0; i < sizeof(phone_inputs) / sizeof(phone_inputs[0]);
         i++) {
        struct phone_info once, twice;
        size_t n = phone_normalize(phone_inputs[i], 0, &once);
        CHECK(n > 0);
        CHECK_INT(strlen(once.canonical), n);
        CHECK(ecif_utf8_valid(once.canonical, n));
        phone_normalize(once.canonical, 0, &twice);
        CHECK_STR(twice.canonical, once.canonical);
        CHECK_INT(twice.kind, once.kind);
    }
}

static const char *email(const char *text)
{
    static char out[ECIF_NORM_MAX];
    email_normalize(text, out, sizeof(out));
    return out;
}

static const char *email_key(const char *text)
{
    static char out[ECIF_NORM_MAX];
    email_match_key(text, out, sizeof(out));
    return out;
}

static void test_email_normalize_forms(void)
{
    CHECK_STR(email("  John.Smith@Example.COM "), "john.smith@example.com");
    CHECK_STR(email("a.b+news@mail.co.uk"), "a.b+news@mail.co.uk");
    /* "ＴＥＳＴ＠ＱＱ．ＣＯＭ" */
    CHECK_STR(email("\xEF\xBC\xB4\xEF\xBC\xA5\xEF\xBC\xB3\xEF\xBC\xB4"
                    "\xEF\xBC\xA0\xEF\xBC\xB1\xEF\xBC\xB1\xEF\xBC\x8E"
                    "\xEF\xBC\xA3\xEF\xBC\xAF\xEF\xBC\xAD"),
              "test@qq.com");
    CHECK_STR(email("张三@例子.中国"), "张三@例子.中国");
}

static void test_email_invalid(void)
{
    CHECK_STR(email("no-at-sign.com"), "");
    CHECK_STR(email("a@b@c.com"), "");
    CHECK_STR(email("@example.com"), "");
    CHECK_STR(email("user@localhost"), "");
    CHECK_STR(email("user@.com"), "");
    CHECK_STR(email("user@example."), "");
    CHECK_STR(email("us er@example.com"), "");
    CHECK_STR(email("user..x@example.com"), "");
    CHECK_STR(email(".user@example.com"), "");
    CHECK_STR(email("user.@example.com"), "");
    CHECK_STR(email("bad\xC3@example.com"), "");
    CHECK_INT(email_normalize(NULL, NULL, 0), 0);
}

static void test_email_match_key_rules(void)
{
    CHECK_STR(email_key("John.Smith+bank@Gmail.com"), "johnsmith@gmail.com");
    CHECK_STR(email_key("j.o.h.n@googlemail.com"), "john@gmail.com");
    CHECK_STR(email_key("john.smith+bank@example.com"),
              "john.smith@example.com");
    CHECK_STR(email_key("+tag@example.com"), "");
    CHECK_STR(email_key("invalid"), "");
}

static void test_email_small_buffers(void)
{
    char out[8];
    memset(out, 'z', sizeof(out));
    CHECK_INT(email_normalize("abcdef@example.com", out, sizeof(out)), 0);
    CHECK_STR(out, "");
    CHECK_INT(email_normalize("a@b.cn", out, sizeof(out)), 6);
    CHECK_STR(out, "a@b.cn");
    CHECK_INT(email_normalize("a@b.cn", out, 6), 0);
    CHECK_INT(email_match_key("abc@gmail.com", out, sizeof(out)), 0);
    CHECK_STR(out, "");
    CHECK_INT(email_match_key("a@b.cn", out, 7), 6);
    CHECK_STR(out, "a@b.cn");
}

static void test_email_normalize_twice_same(void)
{
    const char *inputs[] = {
        " Mary@Example.com",
        "X.Y+z@GMAIL.COM",
        "ＴＥＳＴ＠ＱＱ．ＣＯＭ",
        "张三@例子.中国",
    };

    for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
        char once[ECIF_NORM_MAX], twice[ECIF_NORM_MAX];
        char key1[ECIF_NORM_MAX], key2[ECIF_NORM_MAX];
        size_t n = email_normalize(inputs[i], once, sizeof(once));
        CHECK(n > 0);
        CHECK(ecif_utf8_valid(once, n));
        email_normalize(once, twice, sizeof(twice));
        CHECK_STR(twice, once);
        email_match_key(inputs[i], key1, sizeof(key1));
        email_match_key(key1, key2, sizeof(key2));
        CHECK_STR(key2, key1);
    }
}

int main(void)
{
    RUN(test_phone_mobile_forms);
    RUN(test_phone_full_width);
    RUN(test_phone_landline_beijing);
    RUN(test_phone_landline_other_areas);
    RUN(test_phone_service_numbers);
    RUN(test_phone_extensions);
    RUN(test_phone_other_countries);
    RUN(test_phone_default_country);
    RUN(test_phone_unknown_stays_national);
    RUN(test_phone_invalid);
    RUN(test_phone_match_key);
    RUN(test_phone_kind_names);
    RUN(test_phone_normalize_twice_same);
    RUN(test_email_normalize_forms);
    RUN(test_email_invalid);
    RUN(test_email_match_key_rules);
    RUN(test_email_small_buffers);
    RUN(test_email_normalize_twice_same);
    return unit_report();
}
