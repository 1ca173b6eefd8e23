/*
 * Date comparison by digits. Both dates are written as eight decimal
 * digits, and each level is a test on those digits or on the year, month
 * and day they spell.
 */
#include "date_compare.h"

static void to_digits(uint32_t ymd, char d[8])
{
    for (int i = 7; i >= 0; i--) {
        d[i] = (char)(ymd % 10);
        ymd /= 10;
    }
}

/* True when the digit strings differ in one place, or by one exchange of
 * two neighbouring digits (1985 and 1958 differ that way). */
static bool one_digit_apart(const char a[8], const char b[8])
{
    int first = -1;
    int count = 0;

    for (int i = 0; i < 8; i++) {
        if (a[i] != b[i]) {
            if (first < 0)
                first = i;
            count++;
        }
    }
    if (count == 1)
        return true;
    return count == 2 && first < 7 && a[first] == b[first + 1] &&
           a[first + 1] == b[first];
}

enum date_compare_level date_compare_level(uint32_t a_yyyymmdd, bool a_valid,
                                           uint32_t b_yyyymmdd, bool b_valid)
{
    char a[8], b[8];

    if (a_yyyymmdd == 0 || b_yyyymmdd == 0 || a_yyyymmdd > 99991231 ||
        b_yyyymmdd > 99991231)
        return DATE_MISSING;
    if (a_yyyymmdd == b_yyyymmdd)
        return DATE_EXACT;

    uint32_t ay = a_yyyymmdd / 10000, by = b_yyyymmdd / 10000;
    uint32_t am = a_yyyymmdd / 100 % 100, bm = b_yyyymmdd / 100 % 100;
    uint32_t ad = a_yyyymmdd % 100, bd = b_yyyymmdd % 100;

    if (ay == by && am == bd && ad == bm)
        return DATE_DAY_MONTH_SWAPPED;
    to_digits(a_yyyymmdd, a);
    to_digits(b_yyyymmdd, b);
    if (one_digit_apart(a, b))
        return DATE_ONE_DIGIT;
    if (am == bm && ad == bd && (ay + 1 == by || by + 1 == ay))
        return DATE_YEAR_OFF_BY_ONE;
    if (ay == by && am == bm)
        return DATE_SAME_YEAR_MONTH;
    if (ay == by)
        return DATE_YEAR_ONLY;
    return DATE_MISMATCH;
}

const char *date_compare_level_str(enum date_compare_level level)
{
    static const char *const names[DATE_COMPARE_LEVELS] = {
        "exact",           "day_month_swapped", "one_digit", "year_off_by_one",
        "same_year_month", "year_only",         "mismatch",  "missing",
    };

    if ((unsigned)level >= DATE_COMPARE_LEVELS)
        return "invalid";
    return names[level];
}
