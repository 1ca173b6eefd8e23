/*
 * Chinese addresses: the administrative divisions at the start of an
 * address (province, prefecture city, county-level district, town or
 * street), the building, unit and room numbers, and character bigram
 * signatures of what remains. Latin-script addresses are tokenized by
 * latin_address.h instead.
 *
 * Pure functions: nothing is allocated. Division names point into the
 * static tables of division_data.h. Rules and limits are in CONTACTS.md.
 */
#ifndef ECIF_CN_ADDRESS_H
#define ECIF_CN_ADDRESS_H

#include <stddef.h>
#include <stdint.h>

#include "normalize.h"

struct cn_address {
    /* Division codes (2, 4, 6 and 9 digits), 0 when not found. */
    uint32_t province_code;
    uint32_t city_code;
    uint32_t district_code;
    uint32_t town_code;
    /* Canonical full names, "" when not found; static storage. For the
     * municipalities the city is the province (北京市). */
    const char *province;
    const char *city;
    const char *district;
    const char *town;
    /* Numbers written with 号, 号楼/栋/幢/座, 单元, 层/楼, 室/户; 0 when
     * absent. */
    uint32_t house_number;
    uint32_t building;
    uint32_t unit;
    uint32_t floor;
    uint32_t room;
    /* The rest: folded, without spaces, punctuation or the parts above. */
    char detail[ECIF_NORM_MAX];
};

/*
 * Parses text into *out. Full-width forms are folded, ASCII letters
 * lower-cased, and spaces and punctuation dropped before matching.
 * Returns ECIF_OK, or ECIF_EINVAL for NULL or invalid UTF-8 (out is then
 * empty). An address with no known division is still parsed: its codes
 * are 0 and all its text is in detail.
 */
int cn_address_parse(const char *text, struct cn_address *out);

/*
 * Computes the signature of a detail string: the ecif_hash64 of every pair
 * of adjacent characters (of the single character when there is only one),
 * sorted ascending without duplicates. When there are more than max, the max
 * smallest are kept, which is a consistent sample: two details that share
 * bigrams keep the shared ones they both rank low. Returns the count.
 */
size_t cn_address_qgrams(const char *detail, uint64_t *hashes, size_t max);

#endif
