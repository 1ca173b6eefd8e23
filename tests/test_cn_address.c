/*
 * Unit tests of Chinese address parsing (divisions with and without
 * suffixes, municipalities, autonomous regions, towns, numbers), bigram
 * signatures, Latin address tokens, and properties over a table of inputs
 * (valid UTF-8, bounded output, idempotent tokens and details).
 */
#include <stdint.h>
#include <string.h>

#include "cn_address.h"
#include "latin_address.h"
#include "normalize.h"
#include "status.h"
#include "unit.h"

static struct cn_address a;

static void parse(const char *text)
{
    CHECK_INT(cn_address_parse(text, &a), ECIF_OK);
}

static void test_cn_full_address(void)
{
    parse("北京市朝阳区建国路88号SOHO现代城5号楼1单元502室");
    CHECK_INT(a.province_code, 11);
    CHECK_STR(a.province, "北京市");
    CHECK_INT(a.city_code, 1101);
    CHECK_STR(a.city, "北京市");
    CHECK_INT(a.district_code, 110105);
    CHECK_STR(a.district, "朝阳区");
    CHECK_INT(a.house_number, 88);
    CHECK_INT(a.building, 5);
    CHECK_INT(a.unit, 1);
    CHECK_INT(a.room, 502);
    CHECK_STR(a.detail, "建国路soho现代城");
}

static void test_cn_suffixes_restored(void)
{
    parse("北京朝阳建国路88号");
    CHECK_STR(a.province, "北京市");
    CHECK_STR(a.district, "朝阳区");
    CHECK_STR(a.detail, "建国路");
    parse("广东深圳南山区科技南路18号");
    CHECK_STR(a.province, "广东省");
    CHECK_STR(a.city, "深圳市");
    CHECK_INT(a.district_code, 440305);
    CHECK_INT(a.house_number, 18);
}

static void test_cn_autonomous_regions(void)
{
    parse("内蒙古呼和浩特新城区");
    CHECK_STR(a.province, "内蒙古自治区");
    CHECK_STR(a.city, "呼和浩特市");
    CHECK_STR(a.district, "新城区");
    parse("新疆维吾尔自治区乌鲁木齐市天山区");
    CHECK_INT(a.province_code, 65);
    CHECK_STR(a.district, "天山区");
    parse("广西南宁青秀区");
    CHECK_STR(a.province, "广西壮族自治区");
    parse("湖北恩施利川市");
    CHECK_STR(a.city, "恩施土家族苗族自治州");
    CHECK_STR(a.district, "利川市");
}

static void test_cn_missing_levels(void)
{
    parse("深圳市南山区科技园");
    CHECK_STR(a.province, "广东省");
    CHECK_STR(a.city, "深圳市");
    CHECK_STR(a.district, "南山区");
    parse("海淀区中关村大街1号");
    CHECK_STR(a.province, "北京市");
    CHECK_INT(a.district_code, 110108);
    parse("河南省济源市");
    CHECK_INT(a.city_code, 0);
    CHECK_STR(a.city, "");
    CHECK_STR(a.district, "济源市");
}

static void test_cn_short_name_before_road(void)
{
    parse("北京朝阳路5号");
    CHECK_STR(a.province, "北京市");
    CHECK_INT(a.district_code, 0);
    CHECK_STR(a.district, "");
    CHECK_STR(a.detail, "朝阳路");
}

static void test_cn_towns(void)
{
    parse("上海市浦东新区张江镇");
    CHECK_STR(a.district, "浦东新区");
    CHECK_INT(a.town_code, 310115125);
    CHECK_STR(a.town, "张江镇");
    parse("广东省深圳市南山区粤海街道科技园");
    CHECK_STR(a.town, "粤海街道");
    CHECK_STR(a.detail, "科技园");
}

static void test_cn_numbers(void)
{
    parse("浙江省杭州市西湖区文三路 三单元 1幢");
    CHECK_INT(a.unit, 3);
    CHECK_INT(a.building, 1);
    CHECK_STR(a.detail, "文三路");
    parse("杭州市西湖区文三路12-3-502");
    CHECK_INT(a.building, 12);
    CHECK_INT(a.unit, 3);
    CHECK_INT(a.room, 502);
    parse("某小区18栋二十三层2301户");
    CHECK_INT(a.building, 18);
    CHECK_INT(a.floor, 23);
    CHECK_INT(a.room, 2301);
    parse("幸福里5号院3号楼");
    CHECK_INT(a.house_number, 5);
    CHECK_INT(a.building, 3);
    /* A second house number stays in the detail. */
    parse("建国路88号99号");
    CHECK_INT(a.house_number, 88);
    CHECK_STR(a.detail, "建国路99号");
    /* Digits without a unit word stay whole. */
    parse("长江1203");
    CHECK_STR(a.detail, "长江1203");
}

static void test_cn_full_width_and_spaces(void)
{
    parse("北京市　朝阳区，建国路８８号");
    CHECK_STR(a.district, "朝阳区");
    CHECK_INT(a.house_number, 88);
    CHECK_STR(a.detail, "建国路");
}

static void test_cn_unknown_text(void)
{
    parse("我家楼下");
    CHECK_INT(a.province_code, 0);
    CHECK_STR(a.province, "");
    CHECK_STR(a.detail, "我家楼下");
    parse("");
    CHECK_STR(a.detail, "");
    CHECK_INT(cn_address_parse(NULL, &a), ECIF_EINVAL);
    CHECK_INT(cn_address_parse("北京\xFF", &a), ECIF_EINVAL);
    CHECK_STR(a.province, "");
}

static void test_cn_qgrams(void)
{
    uint64_t h1[16], h2[16], h3[4];
    size_t n1 = cn_address_qgrams("建国路现代城", h1, 16);
    size_t n2 = cn_address_qgrams("建国路现代城", h2, 16);

    CHECK_INT(n1, 5);
    CHECK_INT(n2, n1);
    CHECK(memcmp(h1, h2, n1 * sizeof(h1[0])) == 0);
    for (size_t i = 1; i < n1; i++)
        CHECK(h1[i - 1] < h1[i]);
    CHECK_INT(cn_address_qgrams("城", h3, 4), 1);
    CHECK_INT(cn_address_qgrams("", h3, 4), 0);
    CHECK_INT(cn_address_qgrams("aaaa", h3, 4), 1);
    /* Capped at max, keeping the smallest hashes. */
    CHECK_INT(cn_address_qgrams("建国路现代城", h3, 2), 2);
    CHECK(h3[0] == h1[0]);
    CHECK(h3[1] == h1[1]);
    /* Related details share bigrams. */
    size_t n3 = cn_address_qgrams("建国路现代城小区", h2, 16);
    size_t shared = 0;
    for (size_t i = 0; i < n1; i++)
        for (size_t j = 0; j < n3; j++)
            shared += h1[i] == h2[j];
    CHECK_INT(shared, 5);
}

static const char *latin(const char *text, size_t *ntokens)
{
    static char folded[ECIF_NORM_MAX];
    static char out[ECIF_NORM_MAX];

    ecif_norm_text(text, folded, sizeof(folded));
    latin_address_tokens(folded, out, sizeof(out), ntokens);
    return out;
}

static void test_latin_abbreviations(void)
{
    size_t n = 0;

    CHECK_STR(latin("12 Main Street, Apartment 4", &n), "12 main st apt 4");
    CHECK_INT(n, 5);
    CHECK_STR(latin("12 main st. apt 4", NULL), "12 main st apt 4");
    CHECK_STR(latin("5 Saint James Road", NULL), "5 st james rd");
    CHECK_STR(latin("5 St. James Rd", NULL), "5 st james rd");
    CHECK_STR(latin("Flat 3, 10 Park Avenue", NULL), "apt 3 10 park ave");
    CHECK_STR(latin("No. 7 North Lane", NULL), "7 n ln");
    CHECK_STR(latin("Number 7 Court", NULL), "7 ct");
    CHECK_STR(latin("Unit 2 Suite 100", NULL), "unit 2 ste 100");
    CHECK_STR(latin("no way", NULL), "no way");
}

static void test_latin_small_buffers(void)
{
    char out[8];
    size_t n = 9;

    CHECK_INT(latin_address_tokens("12 main street", out, sizeof(out), &n), 7);
    CHECK_STR(out, "12 main");
    CHECK_INT(n, 2);
    CHECK_INT(latin_address_tokens("12 main street", out, 2, &n), 0);
    CHECK_STR(out, "");
    CHECK_INT(latin_address_tokens("abc", out, 0, NULL), 0);
    CHECK_INT(latin_address_tokens(NULL, out, sizeof(out), &n), 0);
    CHECK_INT(n, 0);
}

static const char *const address_inputs[] = {
    "北京市朝阳区建国路88号SOHO现代城5号楼1单元502室",
    "广东深圳南山区粤海街道科技园12-3-502",
    "内蒙古呼和浩特新城区",
    "我家楼下",
    "北京市　朝阳区，建国路８８号",
    "12 Main Street, Apartment 4",
    "某小区18栋二十三层2301户",
};

static void test_address_properties(void)
{
    for (size_t i = 0; i < sizeof(address_inputs) / sizeof(address_inputs[0]);
         i++) {
        struct cn_address once, twice;
        char folded[ECIF_NORM_MAX], t1[ECIF_NORM_MAX], t2[ECIF_NORM_MAX];

        CHECK_INT(cn_address_parse(address_inputs[i], &once), ECIF_OK);
        CHECK(ecif_utf8_valid(once.detail, strlen(once.detail)));
        CHECK(strlen(once.detail) < sizeof(once.detail));
        /* The detail has no divisions or numbered parts left in it. */
        CHECK_INT(cn_address_parse(once.detail, &twice), ECIF_OK);
        CHECK_STR(twice.detail, once.detail);

        ecif_norm_text(address_inputs[i], folded, sizeof(folded));
        latin_address_tokens(folded, t1, sizeof(t1), NULL);
        latin_address_tokens(t1, t2, sizeof(t2), NULL);
        CHECK_STR(t2, t1);
        CHECK(ecif_utf8_valid(t1, strlen(t1)));
    }
}

/* A long address cuts on a code point boundary inside the detail. */
static void test_cn_long_detail(void)
{
    char text[600];
    size_t n = 0;

    while (n + 3 < sizeof(text)) {
        memcpy(text + n, "路", 3);
        n += 3;
    }
    text[n] = '\0';
    parse(text);
    CHECK(strlen(a.detail) < sizeof(a.detail));
    CHECK_INT(strlen(a.detail) % 3, 0);
    CHECK(ecif_utf8_valid(a.detail, strlen(a.detail)));
}

int main(void)
{
    RUN(test_cn_full_address);
    RUN(test_cn_suffixes_restored);
    RUN(test_cn_autonomous_regions);
    RUN(test_cn_missing_levels);
    RUN(test_cn_short_name_before_road);
    RUN(test_cn_towns);
    RUN(test_cn_numbers);
    RUN(test_cn_full_width_and_spaces);
    RUN(test_cn_unknown_text);
    RUN(test_cn_qgrams);
    RUN(test_latin_abbreviations);
    RUN(test_latin_small_buffers);
    RUN(test_address_properties);
    RUN(test_cn_long_detail);
    return unit_report();
}
