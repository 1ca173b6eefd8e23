/*
 * Junk values: placeholders that carry no identity (13800138000,
 * test@test.com, 不详, 1900-01-01) and values shared by too many records
 * to be evidence. Blocking and scoring skip a value with a junk flag.
 *
 * junk_check is a pure function over a fixed dictionary and digit
 * patterns. The counter finds frequent values at import; it allocates a
 * bounded table and is not thread-safe. Rules are in CONTACTS.md.
 */
#ifndef ECIF_JUNK_H
#define ECIF_JUNK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum junk_field {
    JUNK_FIELD_PHONE = 0,
    JUNK_FIELD_EMAIL,
    JUNK_FIELD_ID_NUMBER,
    JUNK_FIELD_DATE,
    JUNK_FIELD_NAME,
    JUNK_FIELD_ADDRESS,
    JUNK_FIELD_COUNT,
};

enum junk_flag {
    JUNK_PLACEHOLDER = 1u << 0, /* listed in the dictionary of the field */
    JUNK_REPEATED = 1u << 1,    /* one character repeated */
    JUNK_SEQUENCE = 1u << 2,    /* digits ascending or descending by one */
    JUNK_SUSPECT = 1u << 3,     /* often a default, but also a real value */
    JUNK_FREQUENT = 1u << 4,    /* set by callers from junk_counter */
};

/* Flags that mean a value must not be used as evidence. */
#define JUNK_DISCARD (JUNK_PLACEHOLDER | JUNK_REPEATED | JUNK_SEQUENCE)

/*
 * Returns the junk flags of a normalized value of a field (0 for a value
 * that looks real): a phone as digits or "+86…", an email from
 * email_normalize, an ID number from ecif_norm_id, a date as YYYYMMDD or
 * YYYY-MM-DD, a name or address as folded text. NULL and "" give 0.
 */
uint32_t junk_check(enum junk_field field, const char *value);

/* Returns the static name of one flag ("placeholder"), "unknown" if not
 * exactly one known flag. */
const char *junk_flag_str(uint32_t flag);

/* Returns the static name of a field ("phone"). */
const char *junk_field_str(enum junk_field field);

typedef struct junk_counter junk_counter_t;

/* Values the default counter tracks exactly before it starts evicting. */
#define JUNK_COUNTER_DEFAULT_SLOTS (1u << 24)

/*
 * Creates a counter that calls a value frequent when more than limit
 * distinct records carry it (1 <= limit <= 65534). Uses a table of
 * JUNK_COUNTER_DEFAULT_SLOTS slots of 8 bytes at most (128 MiB), grown on
 * demand. Returns NULL for an invalid limit or when allocation fails.
 */
junk_counter_t *junk_counter_create(uint32_t limit);

/* Same, with a table of at most max_slots slots (a power of two >= 64). */
junk_counter_t *junk_counter_create_capped(uint32_t limit, uint32_t max_slots);

void junk_counter_destroy(junk_counter_t *counter);

/*
 * Counts that the record record_id carries value_hash (ecif_hash64 of the
 * normalized value) in field. A value added again by the record that added
 * it last counts once, so a record must add all its values before the next
 * record starts. A record that comes back after others counts again.
 * Returns ECIF_OK, ECIF_EINVAL for an invalid field, or ECIF_ENOMEM when
 * growing the table failed (the count is then lost, and the counter stays
 * usable).
 */
int junk_counter_add(junk_counter_t *counter, enum junk_field field,
                     uint64_t value_hash, uint64_t record_id);

/* Returns true when more than limit distinct records carry the value. */
bool junk_counter_is_frequent(const junk_counter_t *counter,
                              enum junk_field field, uint64_t value_hash);

/* Returns the count of distinct records seen with the value (capped at
 * 65535), 0 for a value never added or evicted. */
uint32_t junk_counter_count(const junk_counter_t *counter,
                            enum junk_field field, uint64_t value_hash);

/* Returns the number of evictions of once-seen values so far. */
uint32_t junk_counter_evictions(const junk_counter_t *counter);

#endif
