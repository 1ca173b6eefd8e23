/*
 * Survivorship: the golden record of a customer, built from its member
 * records by fixed rules, each value carrying the record it came from and
 * the rule that chose it. The rules are described in
 * engine/SURVIVORSHIP.md.
 *
 * ecif_golden_build() reads the store through its public API only and
 * keeps no state. Every string in a golden record points into the store
 * and stays valid until the store is closed; the struct itself is the
 * caller's.
 */
#ifndef ECIF_SURVIVORSHIP_H
#define ECIF_SURVIVORSHIP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "record.h"
#include "store.h"

/* Member records listed per multi-valued value at most. */
#define ECIF_GOLDEN_MAX_SOURCES 8

/* Source systems a trust order may list at most. */
#define ECIF_GOLDEN_MAX_TRUSTED 32

/* The rule that chose a value. */
typedef enum ecif_golden_rule {
    ECIF_GOLDEN_RULE_NONE = 0,      /* no member record has a value */
    ECIF_GOLDEN_RULE_UNANIMOUS,     /* every member with a value agrees */
    ECIF_GOLDEN_RULE_VERIFIED_ID,   /* name of a record whose ID verifies */
    ECIF_GOLDEN_RULE_SOURCE_TRUST,  /* from the most trusted source system */
    ECIF_GOLDEN_RULE_MOST_RECENT,   /* from the record updated last */
    ECIF_GOLDEN_RULE_MOST_COMMON,   /* the value most members hold */
    ECIF_GOLDEN_RULE_MOST_COMPLETE, /* fills the most fields of its group */
    ECIF_GOLDEN_RULE_FIRST,         /* a tie: the first record in store order */
    ECIF_GOLDEN_RULE_UNION,         /* one of the distinct values of a list */
} ecif_golden_rule_t;

/* The single-valued fields of a golden record. */
typedef enum ecif_golden_field {
    ECIF_GOLDEN_NAME = 0,
    ECIF_GOLDEN_GIVEN_NAME,
    ECIF_GOLDEN_FAMILY_NAME,
    ECIF_GOLDEN_ID_TYPE,
    ECIF_GOLDEN_ID_NUMBER,
    ECIF_GOLDEN_DOB,
    ECIF_GOLDEN_GENDER,
    ECIF_GOLDEN_FIELD_COUNT
} ecif_golden_field_t;

/* The multi-valued fields of a golden record. */
typedef enum ecif_golden_list {
    ECIF_GOLDEN_PHONES = 0,
    ECIF_GOLDEN_EMAILS,
    ECIF_GOLDEN_ADDRESSES,
    ECIF_GOLDEN_LIST_COUNT
} ecif_golden_list_t;

/* A chosen single value: "" with rule NONE when no member has one. */
typedef struct ecif_golden_value {
    const char *value;
    uint32_t record; /* the member record it was taken from */
    ecif_golden_rule_t rule;
} ecif_golden_value_t;

/* One distinct value of a multi-valued field and the members holding it. */
typedef struct ecif_golden_item {
    const char *value;
    uint32_t records[ECIF_GOLDEN_MAX_SOURCES]; /* most trusted first */
    uint32_t n_records;                        /* listed in records */
    uint32_t source_count;                     /* all members holding it */
} ecif_golden_item_t;

typedef struct ecif_golden_items {
    ecif_golden_item_t items[ECIF_MAX_VALUES];
    uint32_t count;
    uint32_t distinct_count; /* before the cap of ECIF_MAX_VALUES */
} ecif_golden_items_t;

typedef struct ecif_golden_record {
    uint32_t customer;
    uint32_t member_count;
    ecif_golden_value_t fields[ECIF_GOLDEN_FIELD_COUNT];
    ecif_golden_items_t lists[ECIF_GOLDEN_LIST_COUNT];
} ecif_golden_record_t;

/*
 * The caller's trust order: source_system names, most trusted first,
 * compared byte for byte. Sources not listed are trusted least, all alike.
 * The strings are borrowed for the duration of each call.
 */
typedef struct ecif_golden_options {
    const char *const *trusted_sources;
    size_t n_trusted_sources; /* at most ECIF_GOLDEN_MAX_TRUSTED */
} ecif_golden_options_t;

/*
 * Builds the golden record of a customer into *out. opts may be NULL (no
 * trust order). Returns ECIF_OK, ECIF_ENOTFOUND for a customer id out of
 * range, ECIF_EINVAL for a trust order longer than
 * ECIF_GOLDEN_MAX_TRUSTED, or ECIF_ENOMEM (scratch grows with the member
 * count). On failure *out is zeroed.
 */
int ecif_golden_build(const ecif_store_t *store, uint32_t customer,
                      const ecif_golden_options_t *opts,
                      ecif_golden_record_t *out);

/*
 * Splits a comma-separated trust order ("core_banking,loan") in place:
 * commas in text become NULs and names receives up to max pointers into
 * text. Empty names are rejected. Returns ECIF_OK with *count set, or
 * ECIF_EINVAL with a message in err naming the problem.
 */
int ecif_golden_parse_trust(char *text, const char **names, size_t max,
                            size_t *count, char *err, size_t errlen);

/* Returns "name", "given_name", ... as the proto names the field. */
const char *ecif_golden_field_str(ecif_golden_field_t field);

/* Returns "phones", "emails" or "addresses". */
const char *ecif_golden_list_str(ecif_golden_list_t list);

/* Returns "verified_id", "source_trust", ... for a rule. */
const char *ecif_golden_rule_str(ecif_golden_rule_t rule);

/*
 * Returns true when the record's resident ID verifies: 18 characters with
 * a valid check character (a number upgraded from 15 digits has none, so
 * it does not verify), a birth date that exists, and a record dob equal to
 * that birth date. A record without a dob does not verify.
 */
bool ecif_golden_id_verified(const ecif_record_t *rec);

#endif
