/*
 * Data-quality flags of a record's values. Import stores them per record;
 * a query's flags also say which of its values are frequent in the index.
 * A value flagged *_PLACEHOLDER was dropped: it neither blocks nor scores.
 */
#ifndef ECIF_QUALITY_H
#define ECIF_QUALITY_H

#include <stdint.h>

enum ecif_quality_flag {
    ECIF_QUALITY_NAME_NOISE = 1u << 0,       /* digits, letters, '?' in Han */
    ECIF_QUALITY_NAME_TRADITIONAL = 1u << 1, /* Traditional folded */
    ECIF_QUALITY_NAME_PLACEHOLDER = 1u << 2, /* 不详, test, unknown, ... */
    ECIF_QUALITY_ID_BAD_CHECK = 1u << 3,     /* resident ID check character */
    ECIF_QUALITY_ID_BAD_DATE = 1u << 4,      /* resident ID birth date */
    ECIF_QUALITY_ID_UNKNOWN_REGION = 1u << 5, /* in no GB/T 2260 list */
    ECIF_QUALITY_ID_UPGRADED = 1u << 6,       /* 15-digit ID upgraded */
    ECIF_QUALITY_ID_DOB_MISMATCH = 1u << 7,   /* the ID's birth date != dob */
    ECIF_QUALITY_ID_GENDER_MISMATCH = 1u << 8, /* the ID's sex != gender */
    ECIF_QUALITY_ID_PLACEHOLDER = 1u << 9,
    ECIF_QUALITY_PHONE_PLACEHOLDER = 1u << 10,
    ECIF_QUALITY_EMAIL_PLACEHOLDER = 1u << 11,
    ECIF_QUALITY_ADDRESS_PLACEHOLDER = 1u << 12,
    ECIF_QUALITY_DOB_INVALID = 1u << 13,     /* no such calendar date */
    ECIF_QUALITY_DOB_PLACEHOLDER = 1u << 14, /* 1900-01-01 and the like */
    ECIF_QUALITY_ID_FREQUENT = 1u << 15,     /* on too many records */
    ECIF_QUALITY_PHONE_FREQUENT = 1u << 16,
    ECIF_QUALITY_EMAIL_FREQUENT = 1u << 17,
    /* Flag of a query's result, not of a value. The query matches two
     * customers that the index keeps apart, and neither clearly better. */
    ECIF_QUALITY_AMBIGUOUS_MATCH = 1u << 18,
};

#define ECIF_QUALITY_FLAG_COUNT 19

/* Returns the name of one flag bit ("phone_placeholder"), or "unknown". */
const char *ecif_quality_str(uint32_t flag);

#endif
