/*
 * The in-memory layout of a store, which is also the snapshot layout.
 *
 * Every table is a flat array of fixed-size entries that refer to each other
 * by index and to strings by byte offset into one string pool, never by
 * pointer. A snapshot is these arrays written one after another (see
 * docs/snapshot-format.md), so loading is reading the file into one buffer
 * and pointing struct ecif_store at the sections: no parsing, no
 * re-normalization, no index rebuild. Changing any struct here changes the
 * format and requires a new ECIF_SNAPSHOT_VERSION.
 *
 * Private to the engine.
 */
#ifndef ECIF_LAYOUT_H
#define ECIF_LAYOUT_H

#include <stdbool.h>
#include <stdint.h>

#include "record.h"
#include "store.h"

#define ECIF_SNAPSHOT_MAGIC   "ECIFSNAP"
#define ECIF_SNAPSHOT_VERSION 9

/* Sections of a snapshot, in file order. */
enum snap_section_id {
    SECTION_STRINGS = 1,   /* char[]: NUL-terminated strings; offset 0 = "" */
    SECTION_RECORDS = 2,   /* struct rec_entry[record_count] */
    SECTION_VALUES = 3,    /* uint32_t[]: string offsets of list values */
    SECTION_ACCOUNTS = 4,  /* struct acct_entry[account_count] */
    SECTION_CUSTOMERS = 5, /* struct cust_entry[customer_count], by number */
    SECTION_MEMBERS = 6,   /* uint32_t[record_count]: record ids by customer */
    SECTION_EXPOSURE = 7,  /* struct exposure_entry[] */
    SECTION_SOURCES = 8,   /* uint32_t[record_count]: ids by source key */
    SECTION_SHARDS = 9,    /* struct shard_entry[shard_count] */
    SECTION_SLOTS = 10,    /* struct slot_entry[]: key hash tables */
    SECTION_POSTINGS = 11, /* uint32_t[]: record ids per key */
    SECTION_NAMES = 12,    /* struct name_count[]: repeated names, by hash */
    SECTION_HISTORY = 13,  /* struct number_redirect[]: by retired number */
    SECTION_MODEL = 14,    /* char[]: the matching model as text */
    SECTION_CORRECTIONS = 15, /* struct correction_link[]: sorted by records */
    SECTION_UPDATED = 16, /* uint32_t[record_count] update times, or empty */
    SECTION_ORIGINS = 17, /* uint32_t[history_count]: see history_origins */
    SECTION_COUNT = 17
};

struct snap_header {
    char magic[8];
    uint32_t version;
    uint32_t section_count;
    uint64_t file_bytes;
    uint32_t shard_count;
    uint32_t record_count;
    uint32_t customer_count;
    uint32_t account_count;
    uint32_t exposure_count;
    uint32_t header_crc; /* CRC-32C of header and section table, this = 0 */
    uint64_t key_count;
    uint64_t next_customer_number; /* the next number never issued */
};

struct snap_section {
    uint32_t id;
    uint32_t crc; /* CRC-32C of the section bytes */
    uint64_t offset;
    uint64_t bytes;
};

/* Record flags. */
#define REC_DOB_VALID         0x01 /* dob_ymd is a real calendar date */
#define REC_ID_VALID_RESIDENT 0x02 /* a resident ID with a valid check char */

/*
 * A record. Raw values are kept as imported (for GetCustomer); normalized
 * values are what keys and comparisons use. List values live in VALUES at
 * values_first: raw phones, raw emails, raw addresses, then the normalized
 * phones, emails and addresses, in that order.
 */
struct rec_entry {
    uint32_t source_system;
    uint32_t source_id;
    uint32_t name;
    uint32_t given_name;
    uint32_t family_name;
    uint32_t id_type;
    uint32_t id_number;
    uint32_t dob;
    uint32_t gender;
    uint32_t norm_name; /* folded full name: family then given when split */
    uint32_t norm_given;
    uint32_t norm_family;
    uint32_t norm_han;       /* Simplified Han name, or "" */
    uint32_t name_key;       /* order-free pinyin key, or "" */
    uint32_t name_key_fuzzy; /* the same with confusable sounds merged */
    uint32_t norm_id;        /* per-kind canonical ID number */
    uint32_t dob_ymd;        /* YYYYMMDD, 0 when missing */
    uint32_t values_first;
    uint32_t customer;
    uint32_t accounts_first;
    uint32_t account_count;
    uint32_t quality; /* enum ecif_quality_flag bits (quality.h) */
    uint8_t n_phones;
    uint8_t n_emails;
    uint8_t n_addresses;
    uint8_t gender_code; /* 'M', 'F' or 0 */
    uint8_t flags;       /* REC_* bits */
    uint8_t id_kind;     /* id_doc_type_t */
    uint8_t suffix;      /* enum name_suffix (match.h) */
    uint8_t pad;
};

struct acct_entry {
    uint32_t account_id;
    uint32_t product;
    uint32_t currency;
    uint32_t branch;
    int64_t credit_limit;
    int64_t balance;
};

struct cust_entry {
    char number[16]; /* "C" + 12 digits, NUL-padded */
    uint32_t members_first;
    uint32_t member_count;
    uint32_t exposure_first;
    uint32_t exposure_count;
};

struct exposure_entry {
    uint32_t product;
    uint32_t currency;
    uint32_t account_count;
    uint32_t pad;
    int64_t credit_limit;
    int64_t balance;
};

/* One shard: an open-addressing table of capacity slots, linear probing
 * from slot_home(). */
struct shard_entry {
    uint64_t slots_first;
    uint32_t capacity;
    uint32_t used;
};

/* postings_first of a key whose value is on too many records to block on;
 * its postings_count is 0. */
#define SLOT_FREQUENT UINT32_MAX

/*
 * A blocking key, identified by its tag (key_tag()); tag 0 marks an empty
 * slot. A key on one record keeps that record id in postings_first itself
 * (postings_count 1), so the most common case needs no postings entry.
 */
struct slot_entry {
    uint32_t key_tag;
    uint32_t postings_first;
    uint32_t postings_count;
};

/*
 * A store: pointers into one snapshot buffer (or into the builder's arrays
 * while it clusters). Read-only after construction.
 */
struct ecif_store {
    void *buffer; /* file image mapped by the loader (munmap), or NULL when
                   * the arrays are borrowed from a builder */
    uint64_t buffer_bytes;
    uint32_t loaded_with_io_uring;
    uint32_t mapped; /* 1 when buffer maps the file (ECIF_LOAD_MAP) */
    uint32_t pinned; /* 1 when mlock holds a mapped buffer in memory */
    uint32_t shard_count;
    uint32_t shard_shift; /* 64 - log2(shard_count); 64 for one shard */
    uint32_t record_count;
    uint32_t customer_count;
    uint32_t account_count;
    uint32_t exposure_count;
    uint64_t key_count;
    uint64_t strings_bytes;
    uint64_t values_count;
    uint64_t slots_count;
    uint64_t postings_count;
    const char *strings;
    const struct rec_entry *records;
    /* Each record's updated_at, or NULL when no record has one. */
    const uint32_t *updated;
    const uint32_t *values;
    const struct acct_entry *accounts;
    const struct cust_entry *customers;
    const uint32_t *members;
    const struct exposure_entry *exposure;
    const uint32_t *sources;
    const struct shard_entry *shards;
    const struct slot_entry *slots;
    const uint32_t *postings;
    const struct name_count *names;
    uint64_t names_count;
    const struct number_redirect *history;
    uint64_t history_count;
    /*
     * For each history entry, a record that carried the retired number
     * when it was retired, or ECIF_NO_ORIGIN when none is known. NULL when
     * none is known for any. A Split that moves that record out of the
     * survivor points the number at the new customer (CORRECTIONS.md).
     */
    const uint32_t *history_origins;
    uint64_t next_customer_number;
    /* Matching model, never NULL in a built or loaded store, and its text
     * as the MODEL section stores it. A loaded store owns both, and
     * ecif_store_close() frees model_owned. */
    const struct ecif_model *model;
    struct ecif_model *model_owned;
    const char *model_text;
    uint64_t model_text_bytes;
    /* Manual-correction constraints, sorted by (record_a, record_b). */
    const struct correction_link *links;
    uint64_t links_count;
    /*
     * Customer of each record when corrections moved records since the
     * snapshot was written, or NULL when rec_entry.customer is current.
     */
    const uint32_t *record_customers;
    /*
     * Records added while serving, and the customers they changed, or
     * NULL. Record ids from record_count on are the delta's. Customer ids
     * from customer_count on are customers that added records created
     * (delta.h).
     */
    const struct store_delta *delta;
};

_Static_assert(sizeof(struct snap_header) == 64, "header is 64 bytes");
_Static_assert(sizeof(struct snap_section) == 24, "table entry is 24 bytes");
_Static_assert(sizeof(struct rec_entry) == 96, "rec_entry is 96 bytes");
_Static_assert(sizeof(struct acct_entry) == 32, "acct_entry is 32 bytes");
_Static_assert(sizeof(struct cust_entry) == 32, "cust_entry is 32 bytes");
_Static_assert(sizeof(struct exposure_entry) == 32, "exposure is 32 bytes");
_Static_assert(sizeof(struct slot_entry) == 12, "slot_entry is 12 bytes");

/*
 * Returns the first slot to probe for a key in a table of capacity slots:
 * the low 32 bits of the hash scaled to the capacity (multiply and shift,
 * so any capacity works). The shard comes from the top bits.
 */
static inline uint32_t slot_home(uint64_t hash, uint32_t capacity)
{
    return (uint32_t)(((hash & 0xffffffffu) * (uint64_t)capacity) >> 32);
}

/*
 * Returns the 32-bit tag that identifies a key within its shard: bits 32
 * to 63 of the hash, which the slot position (the low 32 bits) does not
 * use, so two keys of one shard that probe the same slots share a tag
 * with a chance of about 2^-20 at 4096 shards. A false match only adds a
 * candidate, which scoring then judges on its own values. Never 0.
 */
static inline uint32_t key_tag(uint64_t hash)
{
    uint32_t tag = (uint32_t)(hash >> 32);
    return tag != 0 ? tag : 1;
}

/*
 * How many records carry one name (the Han name, or the sorted folded
 * tokens of a Latin one), for the term-frequency adjustment. Only names
 * on two or more records are listed; a name absent from the table is on
 * one record.
 */
struct name_count {
    uint64_t name_hash;
    uint32_t count;
    uint32_t pad;
};

_Static_assert(sizeof(struct name_count) == 16, "name_count is 16 bytes");

/*
 * A customer number retired by a merge, and the number of the customer it
 * now belongs to. Chains are resolved at import: survivor is always a
 * customer of the snapshot.
 */
/* A history entry whose retired number has no known record. */
#define ECIF_NO_ORIGIN UINT32_MAX

struct number_redirect {
    uint64_t retired;
    uint64_t survivor;
};

_Static_assert(sizeof(struct number_redirect) == 16, "redirect is 16 bytes");

/*
 * A constraint between two records set by a manual correction: they must
 * be in one customer (a merge, or the records a split moved together), or
 * must never be (a split, a not-same). The customers of the store that
 * contains a link satisfy it, so the set never contradicts itself.
 */
enum correction_link_kind {
    LINK_MUST = 1,
    LINK_CANNOT = 2,
};

struct correction_link {
    uint32_t record_a; /* record_a < record_b */
    uint32_t record_b;
    uint32_t kind; /* enum correction_link_kind */
    uint32_t pad;
};

_Static_assert(sizeof(struct correction_link) == 16, "link is 16 bytes");

/*
 * Returns the entry of a record at or above record_count, which the
 * delta contains, with its string pool and list values.
 */
const struct rec_entry *store_delta_entry(const struct ecif_store *s,
                                          uint32_t record, const char **pool,
                                          const uint32_t **values);

/*
 * Returns a record's entry, sets *pool to the pool its string offsets
 * point into and *values to its first list value. Loaded records take
 * the inline path, and only added records pay a function call.
 */
static inline const struct rec_entry *store_record(const struct ecif_store *s,
                                                   uint32_t record,
                                                   const char **pool,
                                                   const uint32_t **values)
{
    if (record < s->record_count) {
        const struct rec_entry *r = &s->records[record];
        *pool = s->strings;
        *values = s->values + r->values_first;
        return r;
    }
    return store_delta_entry(s, record, pool, values);
}

/* Returns the string at a pool offset. */
static inline const char *store_str(const struct ecif_store *s, uint32_t off)
{
    return s->strings + off;
}

/*
 * Looks up a key hash. Returns the postings (record ids) and sets *count, or
 * returns NULL with *count 0 when the key is absent.
 */
const uint32_t *store_lookup_key(const struct ecif_store *s, uint64_t hash,
                                 uint32_t *count);

/* Parses a customer number, "C" and 12 digits, into *value. Returns false
 * for anything else. */
bool store_parse_customer_number(const char *text, uint64_t *value);

/* Returns how many records carry the name with this hash (at least 1). */
uint32_t store_name_count(const struct ecif_store *s, uint64_t name_hash);

/* Returns true when a key is in the index as a frequent value. */
bool store_key_frequent(const struct ecif_store *s, uint64_t hash);

/*
 * Checks the cross-references of a store: every string offset inside the
 * pool and terminated, every index in range. Returns ECIF_OK or
 * ECIF_ECORRUPT with the failing table in err.
 */
int store_check(const struct ecif_store *s, char *err, size_t errlen);

#endif
