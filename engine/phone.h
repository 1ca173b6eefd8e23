/*
 * Phone numbers: parsing into an E.164-like canonical form with the kind of
 * number (mainland mobile, mainland landline, service number, other
 * country), the extension split off, and a key for partial agreement.
 *
 * Pure functions: nothing is allocated, every output is a NUL-terminated
 * field of the caller's struct phone_info. The rules and their limits are
 * described in CONTACTS.md beside this file.
 */
#ifndef ECIF_PHONE_H
#define ECIF_PHONE_H

#include <stddef.h>
#include <stdint.h>

/* Calling code of mainland China. */
#define PHONE_CC_CHINA 86

/* Buffer sizes: "+" and at most 15 digits (E.164), an extension of at
 * most 8 digits. */
#define PHONE_E164_MAX      17
#define PHONE_EXTENSION_MAX 9

enum phone_kind {
    PHONE_INVALID = 0,
    PHONE_UNKNOWN,     /* no country given and no valid mainland form */
    PHONE_CN_MOBILE,   /* 1[3-9] and 9 more digits */
    PHONE_CN_LANDLINE, /* area code and a 7 or 8 digit subscriber number */
    PHONE_CN_SERVICE,  /* 400 and 800 numbers, 10 digits */
    PHONE_FOREIGN,     /* an explicit country code other than 86 */
};

struct phone_info {
    enum phone_kind kind;
    uint16_t country_code; /* 0 when unknown */
    /* "+8613812345678"; national digits only when the kind is UNKNOWN */
    char canonical[PHONE_E164_MAX];
    char area_code[5];  /* mainland landlines: "10", "755"; else "" */
    char subscriber[9]; /* mainland landlines: 7 or 8 digits; else "" */
    char extension[PHONE_EXTENSION_MAX];
    const char *reason; /* static text when the number is invalid */
};

/*
 * Parses text into *out. default_country is the calling code assumed for a
 * number written without one (0: none, so only the mainland forms are
 * recognized). Full-width digits and signs are folded; spaces, '-', '.',
 * '/' and parentheses are separators; 转, ext, x and # start an extension.
 *
 * Returns the length of out->canonical, or 0 when the number is invalid
 * (letters, too few or too many digits, an overlong extension), with
 * out->kind PHONE_INVALID and out->reason set.
 */
size_t phone_normalize(const char *text, uint16_t default_country,
                       struct phone_info *out);

/*
 * Writes the key used for partial agreement: the subscriber number (the
 * last 7 or 8 digits, area code dropped) of a landline, the last 8 digits of
 * an UNKNOWN number, and the canonical form of the other kinds, so that
 * "010 6552 1234" and "65521234" share a key. Returns its length, 0 for an
 * invalid number or a buffer that is too small.
 */
size_t phone_match_key(const struct phone_info *info, char *out, size_t outlen);

/* Returns a static name of a kind ("cn_mobile"). */
const char *phone_kind_str(enum phone_kind kind);

#endif
