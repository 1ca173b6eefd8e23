/*
 * Comparison levels of two dates of birth, from an exact match down to a
 * mismatch, for the match weight of the date field. Dates are integers
 * YYYY*10000 + MM*100 + DD as ecif_norm_date returns them. The levels are
 * described in CONTACTS.md.
 */
#ifndef ECIF_DATE_COMPARE_H
#define ECIF_DATE_COMPARE_H

#include <stdbool.h>
#include <stdint.h>

/* Levels in decreasing order of agreement; the first that applies wins. */
enum date_compare_level {
    DATE_EXACT = 0,         /* all eight digits equal */
    DATE_DAY_MONTH_SWAPPED, /* same year, day and month exchanged */
    DATE_ONE_DIGIT,         /* one digit differs, or two adjacent swapped */
    DATE_YEAR_OFF_BY_ONE,   /* same month and day, years one apart */
    DATE_SAME_YEAR_MONTH,   /* same year and month, other day */
    DATE_YEAR_ONLY,         /* same year, other month */
    DATE_MISMATCH,          /* none of the above */
    DATE_MISSING,           /* either date is 0 (absent) */
};

#define DATE_COMPARE_LEVELS 8

/*
 * Compares two dates. a_valid and b_valid are the calendar_valid flags of
 * ecif_norm_date. They do not change the level: a date that does not exist
 * still compares by its digits, so 1985-13-04 meets 1985-04-13 as
 * DATE_DAY_MONTH_SWAPPED. A value above 99991231 counts as missing.
 */
enum date_compare_level date_compare_level(uint32_t a_yyyymmdd, bool a_valid,
                                           uint32_t b_yyyymmdd, bool b_valid);

/* Returns a static name of a level ("day_month_swapped"). */
const char *date_compare_level_str(enum date_compare_level level);

#endif
