/*
 * Unit tests of junk detection: the placeholder dictionary and digit
 * patterns of each field, real values left alone, flag names, and the
 * frequency counter (limit, record de-duplication, fields kept apart,
 * eviction under a small cap).
 */
#include <stdint.h>
#include <string.h>

#include "hash.h"
#include "junk.h"
#include "status.h"
#include "unit.h"

static void test_junk_phones(void)
{
    CHECK(junk_check(JUNK_FIELD_PHONE, "13800138000") & JUNK_PLACEHOLDER);
    CHECK(junk_check(JUNK_FIELD_PHONE, "+8613800138000") & JUNK_PLACEHOLDER);
    CHECK(junk_check(JUNK_FIELD_PHONE, "00000000000") & JUNK_REPEATED);
    CHECK(junk_check(JUNK_FIELD_PHONE, "11111111111") & JUNK_REPEATED);
    CHECK(junk_check(JUNK_FIELD_PHONE, "88888888") & JUNK_REPEATED);
    CHECK(junk_check(JUNK_FIELD_PHONE, "13900000000") & JUNK_REPEATED);
    CHECK(junk_check(JUNK_FIELD_PHONE, "12345678901") & JUNK_SEQUENCE);
    CHECK(junk_check(JUNK_FIELD_PHONE, "1234567") & JUNK_SEQUENCE);
    CHECK(junk_check(JUNK_FIELD_PHONE, "987654321") & JUNK_SEQUENCE);
    CHECK_INT(junk_check(JUNK_FIELD_PHONE, "+8613812345678"), 0);
    CHECK_INT(junk_check(JUNK_FIELD_PHONE, "65521234"), 0);
}

static void test_junk_emails(void)
{
    CHECK(junk_check(JUNK_FIELD_EMAIL, "123@abc.com") & JUNK_PLACEHOLDER);
    CHECK(junk_check(JUNK_FIELD_EMAIL, "test@test.com") & JUNK_PLACEHOLDER);
    CHECK(junk_check(JUNK_FIELD_EMAIL, "a@a.com") & JUNK_PLACEHOLDER);
    CHECK(junk_check(JUNK_FIELD_EMAIL, "noemail@bank.cn") & JUNK_PLACEHOLDER);
    CHECK(junk_check(JUNK_FIELD_EMAIL, "none@163.com") & JUNK_PLACEHOLDER);
    CHECK(junk_check(JUNK_FIELD_EMAIL, "no-email@163.com") & JUNK_PLACEHOLDER);
    CHECK(junk_check(JUNK_FIELD_EMAIL, "xxx@xxx.com") & JUNK_PLACEHOLDER);
    CHECK(junk_check(JUNK_FIELD_EMAIL, "xxx@xxx.com") & JUNK_REPEATED);
    CHECK(junk_check(JUNK_FIELD_EMAIL, "1234@qq.com") & JUNK_PLACEHOLDER);
    CHECK(junk_check(JUNK_FIELD_EMAIL, "123456@qq.com") & JUNK_SEQUENCE);
    CHECK_INT(junk_check(JUNK_FIELD_EMAIL, "jo@example.org"), JUNK_SUSPECT);
    CHECK(junk_check(JUNK_FIELD_EMAIL, "12345@qq.com") & JUNK_SEQUENCE);
    CHECK_INT(junk_check(JUNK_FIELD_EMAIL, "10001@qq.com"), 0);
    CHECK_INT(junk_check(JUNK_FIELD_EMAIL, "76354912@qq.com"), 0);
    CHECK_INT(junk_check(JUNK_FIELD_EMAIL, "li.wei@163.com"), 0);
}

static void test_junk_id_numbers(void)
{
    CHECK(junk_check(JUNK_FIELD_ID_NUMBER, "000000000000000000") &
          JUNK_REPEATED);
    CHECK(junk_check(JUNK_FIELD_ID_NUMBER, "111111111111111111") &
          JUNK_REPEATED);
    CHECK(junk_check(JUNK_FIELD_ID_NUMBER, "123456789012345678") &
          JUNK_PLACEHOLDER);
    CHECK(junk_check(JUNK_FIELD_ID_NUMBER, "123456789012345678") &
          JUNK_SEQUENCE);
    CHECK(junk_check(JUNK_FIELD_ID_NUMBER, "12345678901234567X") &
          JUNK_PLACEHOLDER);
    CHECK_INT(junk_check(JUNK_FIELD_ID_NUMBER, "11010519491231002X"), 0);
    CHECK_INT(junk_check(JUNK_FIELD_ID_NUMBER, "E12345678"), 0);
}

static void test_junk_dates(void)
{
    CHECK_INT(junk_check(JUNK_FIELD_DATE, "1900-01-01"), JUNK_PLACEHOLDER);
    CHECK_INT(junk_check(JUNK_FIELD_DATE, "18991231"), JUNK_PLACEHOLDER);
    CHECK_INT(junk_check(JUNK_FIELD_DATE, "9999-12-31"), JUNK_PLACEHOLDER);
    CHECK_INT(junk_check(JUNK_FIELD_DATE, "1970-01-01"), JUNK_SUSPECT);
    CHECK_INT(junk_check(JUNK_FIELD_DATE, "2000-01-01"), JUNK_SUSPECT);
    CHECK_INT(junk_check(JUNK_FIELD_DATE, "1985-04-13"), 0);
    CHECK_INT(junk_check(JUNK_FIELD_DATE, "1985"), 0);
}

static void test_junk_names(void)
{
    const char *junk[] = {"不详", "未知", "无",  "测试", "test", "Unknown",
                          "n/a",  "n a",  "xxx", "某某", "先生", "女士"};

    for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++)
        CHECK(junk_check(JUNK_FIELD_NAME, junk[i]) & JUNK_PLACEHOLDER);
    CHECK(junk_check(JUNK_FIELD_NAME, "aaaa") & JUNK_REPEATED);
    CHECK(junk_check(JUNK_FIELD_NAME, "??") & JUNK_PLACEHOLDER);
    CHECK_INT(junk_check(JUNK_FIELD_NAME, "王先生"), 0);
    CHECK_INT(junk_check(JUNK_FIELD_NAME, "张伟"), 0);
    CHECK_INT(junk_check(JUNK_FIELD_NAME, "john smith"), 0);
    CHECK_INT(junk_check(JUNK_FIELD_NAME, NULL), 0);
    CHECK_INT(junk_check(JUNK_FIELD_NAME, ""), 0);
}

static void test_junk_addresses(void)
{
    const char *junk[] = {"我家楼下",      "不详", "无",
                          "未知",          "同上", "same as above",
                          "Same-As-Above", "N/A",  "暂无"};

    for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++)
        CHECK(junk_check(JUNK_FIELD_ADDRESS, junk[i]) & JUNK_PLACEHOLDER);
    CHECK_INT(junk_check(JUNK_FIELD_ADDRESS, "北京市朝阳区建国路88号"), 0);
    CHECK_INT(junk_check(JUNK_FIELD_ADDRESS, "12 main st"), 0);
}

static void test_junk_flag_names(void)
{
    CHECK_STR(junk_flag_str(JUNK_PLACEHOLDER), "placeholder");
    CHECK_STR(junk_flag_str(JUNK_REPEATED), "repeated");
    CHECK_STR(junk_flag_str(JUNK_SEQUENCE), "sequence");
    CHECK_STR(junk_flag_str(JUNK_SUSPECT), "suspect");
    CHECK_STR(junk_flag_str(JUNK_FREQUENT), "frequent");
    CHECK_STR(junk_flag_str(JUNK_PLACEHOLDER | JUNK_REPEATED), "unknown");
    CHECK_STR(junk_field_str(JUNK_FIELD_ADDRESS), "address");
    CHECK_STR(junk_field_str(JUNK_FIELD_COUNT), "unknown");
}

static uint64_t hash_of(const char *s)
{
    return ecif_hash64(s, strlen(s), 0);
}

static void test_counter_limit(void)
{
    junk_counter_t *c = junk_counter_create(3);
    uint64_t shared = hash_of("+8613800138000");
    uint64_t own = hash_of("+8613812345678");

    CHECK(c != NULL);
    for (uint64_t record = 1; record <= 3; record++)
        CHECK_INT(junk_counter_add(c, JUNK_FIELD_PHONE, shared, record),
                  ECIF_OK);
    CHECK_INT(junk_counter_count(c, JUNK_FIELD_PHONE, shared), 3);
    CHECK(!junk_counter_is_frequent(c, JUNK_FIELD_PHONE, shared));
    CHECK_INT(junk_counter_add(c, JUNK_FIELD_PHONE, shared, 4), ECIF_OK);
    CHECK(junk_counter_is_frequent(c, JUNK_FIELD_PHONE, shared));
    CHECK_INT(junk_counter_add(c, JUNK_FIELD_PHONE, own, 5), ECIF_OK);
    CHECK(!junk_counter_is_frequent(c, JUNK_FIELD_PHONE, own));
    CHECK_INT(junk_counter_count(c, JUNK_FIELD_PHONE, hash_of("other")), 0);
    junk_counter_destroy(c);
}

static void test_counter_same_record_once(void)
{
    junk_counter_t *c = junk_counter_create(1);
    uint64_t h = hash_of("+8613800138000");

    CHECK_INT(junk_counter_add(c, JUNK_FIELD_PHONE, h, 42), ECIF_OK);
    CHECK_INT(junk_counter_add(c, JUNK_FIELD_PHONE, h, 42), ECIF_OK);
    CHECK_INT(junk_counter_count(c, JUNK_FIELD_PHONE, h), 1);
    CHECK(!junk_counter_is_frequent(c, JUNK_FIELD_PHONE, h));
    junk_counter_destroy(c);
}

static void test_counter_fields_apart(void)
{
    junk_counter_t *c = junk_counter_create(1);
    uint64_t h = hash_of("unknown");

    junk_counter_add(c, JUNK_FIELD_NAME, h, 1);
    junk_counter_add(c, JUNK_FIELD_NAME, h, 2);
    junk_counter_add(c, JUNK_FIELD_ADDRESS, h, 3);
    CHECK(junk_counter_is_frequent(c, JUNK_FIELD_NAME, h));
    CHECK(!junk_counter_is_frequent(c, JUNK_FIELD_ADDRESS, h));
    CHECK_INT(junk_counter_add(c, JUNK_FIELD_COUNT, h, 4), ECIF_EINVAL);
    junk_counter_destroy(c);
}

static void test_counter_invalid_arguments(void)
{
    CHECK(junk_counter_create(0) == NULL);
    CHECK(junk_counter_create(65535) == NULL);
    CHECK(junk_counter_create_capped(5, 100) == NULL);
    CHECK(junk_counter_create_capped(5, 32) == NULL);
    junk_counter_destroy(NULL);
}

/* A small table fills with once-seen values; the shared one survives. */
static void test_counter_eviction_keeps_frequent(void)
{
    junk_counter_t *c = junk_counter_create_capped(10, 256);
    uint64_t shared = hash_of("13800138000");
    uint64_t record = 1;

    CHECK(c != NULL);
    for (int i = 0; i < 5000; i++) {
        char value[32];
        snprintf(value, sizeof(value), "1391234%04d", i);
        CHECK_INT(junk_counter_add(c, JUNK_FIELD_PHONE, hash_of(value), record),
                  ECIF_OK);
        if (i % 100 == 0)
            junk_counter_add(c, JUNK_FIELD_PHONE, shared, record);
        record++;
    }
    CHECK(junk_counter_evictions(c) > 0);
    CHECK_INT(junk_counter_count(c, JUNK_FIELD_PHONE, shared), 50);
    CHECK(junk_counter_is_frequent(c, JUNK_FIELD_PHONE, shared));
    CHECK(
        !junk_counter_is_frequent(c, JUNK_FIELD_PHONE, hash_of("13912344999")));
    junk_counter_destroy(c);
}

/* Counts stay exact while the table grows without eviction. */
static void test_counter_exact_while_growing(void)
{
    junk_counter_t *c = junk_counter_create(2);
    uint32_t wrong = 0;

    for (uint64_t v = 0; v < 20000; v++)
        for (uint64_t r = 0; r < (v % 4); r++)
            junk_counter_add(c, JUNK_FIELD_EMAIL, v * 7919 + 1, v * 4 + r + 1);
    for (uint64_t v = 0; v < 20000; v++) {
        bool expected = (v % 4) > 2;
        if (junk_counter_is_frequent(c, JUNK_FIELD_EMAIL, v * 7919 + 1) !=
            expected)
            wrong++;
    }
    CHECK_INT(junk_counter_evictions(c), 0);
    /* An 8-bit record tag may merge two records in about 1 of 256 pairs. */
    CHECK(wrong < 200);
    junk_counter_destroy(c);
}

int main(void)
{
    RUN(test_junk_phones);
    RUN(test_junk_emails);
    RUN(test_junk_id_numbers);
    RUN(test_junk_dates);
    RUN(test_junk_names);
    RUN(test_junk_addresses);
    RUN(test_junk_flag_names);
    RUN(test_counter_limit);
    RUN(test_counter_same_record_once);
    RUN(test_counter_fields_apart);
    RUN(test_counter_invalid_arguments);
    RUN(test_counter_eviction_keeps_frequent);
    RUN(test_counter_exact_while_growing);
    return unit_report();
}
