/*
 * Unit tests of date comparison levels: one case per level, the order in
 * which levels win, invalid calendar dates, and symmetry over a table.
 */
#include <stdbool.h>
#include <stdint.h>

#include "date_compare.h"
#include "normalize.h"
#include "status.h"
#include "unit.h"

static enum date_compare_level level(uint32_t a, uint32_t b)
{
    return date_compare_level(a, true, b, true);
}

static void test_date_exact(void)
{
    CHECK_INT(level(19850413, 19850413), DATE_EXACT);
}

static void test_date_day_month_swapped(void)
{
    CHECK_INT(level(19850413, 19851304), DATE_DAY_MONTH_SWAPPED);
    CHECK_INT(level(19850305, 19850503), DATE_DAY_MONTH_SWAPPED);
    /* Another year is not a transposition. */
    CHECK(level(19850305, 19860503) != DATE_DAY_MONTH_SWAPPED);
}

static void test_date_one_digit(void)
{
    CHECK_INT(level(19850413, 19850418), DATE_ONE_DIGIT);
    CHECK_INT(level(19850413, 19950413), DATE_ONE_DIGIT);
    CHECK_INT(level(19850413, 19580413), DATE_ONE_DIGIT); /* 85 and 58 */
    CHECK_INT(level(19850413, 19850431), DATE_ONE_DIGIT); /* 13 and 31 */
    /* Two digits apart, not adjacent: no. */
    CHECK(level(19850413, 19850314) != DATE_ONE_DIGIT);
    CHECK(level(19850413, 19870415) != DATE_ONE_DIGIT);
}

static void test_date_year_off_by_one(void)
{
    CHECK_INT(level(19890612, 19900612), DATE_YEAR_OFF_BY_ONE);
    CHECK_INT(level(20000101, 19991231) == DATE_YEAR_OFF_BY_ONE, 0);
}

static void test_date_same_year_month(void)
{
    CHECK_INT(level(19850413, 19850427), DATE_SAME_YEAR_MONTH);
}

static void test_date_year_only(void)
{
    CHECK_INT(level(19850413, 19851127), DATE_YEAR_ONLY);
}

static void test_date_mismatch(void)
{
    CHECK_INT(level(19850413, 19621127), DATE_MISMATCH);
    CHECK_INT(level(19850413, 19870612), DATE_MISMATCH);
}

static void test_date_missing(void)
{
    CHECK_INT(level(0, 19850413), DATE_MISSING);
    CHECK_INT(level(19850413, 0), DATE_MISSING);
    CHECK_INT(level(0, 0), DATE_MISSING);
    CHECK_INT(level(100000000, 19850413), DATE_MISSING);
}

static void test_date_invalid_compares_by_digits(void)
{
    uint32_t a, b;
    bool a_valid, b_valid;

    CHECK_INT(ecif_norm_date("1985-13-04", &a, &a_valid), ECIF_OK);
    CHECK_INT(ecif_norm_date("1985-04-13", &b, &b_valid), ECIF_OK);
    CHECK(!a_valid);
    CHECK(b_valid);
    CHECK_INT(date_compare_level(a, a_valid, b, b_valid),
              DATE_DAY_MONTH_SWAPPED);
    CHECK_INT(date_compare_level(19850230, false, 19850230, false), DATE_EXACT);
    CHECK_INT(date_compare_level(19850231, false, 19850230, true),
              DATE_ONE_DIGIT);
}

static void test_date_levels_symmetric(void)
{
    static const uint32_t dates[] = {
        19850413, 19851304, 19850418, 19580413, 19860413, 19850427,
        19851127, 19621127, 20000101, 19991231, 0,        19850314,
    };
    size_t n = sizeof(dates) / sizeof(dates[0]);

    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++)
            CHECK_INT(level(dates[i], dates[j]), level(dates[j], dates[i]));
}

static void test_date_level_names(void)
{
    CHECK_STR(date_compare_level_str(DATE_EXACT), "exact");
    CHECK_STR(date_compare_level_str(DATE_DAY_MONTH_SWAPPED),
              "day_month_swapped");
    CHECK_STR(date_compare_level_str(DATE_MISSING), "missing");
    CHECK_STR(date_compare_level_str((enum date_compare_level)42), "invalid");
}

int main(void)
{
    RUN(test_date_exact);
    RUN(test_date_day_month_swapped);
    RUN(test_date_one_digit);
    RUN(test_date_year_off_by_one);
    RUN(test_date_same_year_month);
    RUN(test_date_year_only);
    RUN(test_date_mismatch);
    RUN(test_date_missing);
    RUN(test_date_invalid_compares_by_digits);
    RUN(test_date_levels_symmetric);
    RUN(test_date_level_names);
    return unit_report();
}
