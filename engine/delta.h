/*
 * The delta: records added to a running server one at a time, held beside
 * the loaded store until the next re-import folds them into a snapshot.
 *
 * An added record gets the record id base_records + i, where i is its
 * place in the delta, so every store accessor can tell a delta record by
 * its id alone. Each added record owns one allocation: its entry (string
 * offsets into its own small pool, as a snapshot entry points into the
 * snapshot's pool), its list values and its accounts. The delta indexes
 * them by source key and by blocking key in small hash tables that grow
 * with the adds, never with the loaded store.
 *
 * The delta also contains the customer overlay of the current view. For a
 * customer that gained added records, the overlay contains its full member
 * list and its exposure totals. For a customer an add created, it also
 * contains the customer number.
 * Customers created by adds get the ids after the view's customers, in
 * the order of their numbers.
 *
 * Private to the engine. The delta is not synchronized, because the
 * corrections state changes it only while it holds its reader-writer lock
 * for writing, and readers hold that lock for reading (engine/LIVE_ADDS.md).
 */
#ifndef ECIF_DELTA_H
#define ECIF_DELTA_H

#include <stdbool.h>
#include <stdint.h>

#include "layout.h"
#include "match.h"

/* Marks the end of a posting chain and an absent entry. */
#define DELTA_NONE UINT32_MAX

/* Maximum number of accounts of one added record. */
#define DELTA_MAX_ACCOUNTS 256

/* An added record and the storage it owns. */
struct delta_record {
    struct rec_entry entry; /* offsets into strings; values_first and
                             * accounts_first are 0 */
    const char *strings;    /* offset 0 is "" */
    const uint32_t *values;
    const struct acct_entry *accounts;
    uint32_t customer; /* customer id in the current view */
    uint32_t updated;  /* updated_at of the record, 0 when unknown */
    uint64_t number;   /* customer number, read by the writer only */
    uint64_t keys[MAX_RECORD_KEYS]; /* blocking keys it is indexed by */
    uint32_t key_count;
};

/* A customer of the current view whose members or totals the delta
 * changed, or a customer an add created. */
struct delta_customer {
    uint32_t customer;
    char number[16];
    uint32_t *members; /* NULL to use the view's member list */
    uint32_t member_count;
    ecif_exposure_total_t *exposure;
    uint32_t exposure_count;
};

/* A hash table from a 64-bit key to a 32-bit value, linear probing. */
struct delta_map {
    uint64_t *keys;
    uint32_t *values; /* DELTA_NONE in an empty slot */
    uint32_t cap;     /* a power of two, or 0 */
    uint32_t used;
};

/* One record of a blocking key's posting chain, newest first. */
struct delta_posting {
    uint32_t record; /* delta index */
    uint32_t next;   /* posting index, or DELTA_NONE */
};

/* The customers of one view that the delta changed or created. */
struct delta_overlay {
    struct delta_customer **entries;
    uint32_t count;
    uint32_t cap;
    struct delta_map index;  /* customer id + 1 -> entry */
    uint32_t view_customers; /* customer_count of the view */
    uint32_t new_customers;  /* entries of customers an add created */
};

struct store_delta {
    uint32_t base_records; /* record ids below this are the loaded store's */
    struct delta_record **records;
    uint32_t count;
    uint32_t cap;
    uint32_t account_count;   /* of all added records */
    struct delta_map sources; /* source key hash -> delta index */
    struct delta_map keys;    /* blocking key hash -> first posting */
    struct delta_posting *postings;
    uint32_t postings_count;
    uint32_t postings_cap;
    struct delta_overlay overlay; /* of the current view */
};

/* Creates an empty delta for a store of base_records records. */
struct store_delta *delta_create(uint32_t base_records);

/* Frees the delta, its records and its overlay. Accepts NULL. */
void delta_destroy(struct store_delta *d);

/*
 * Builds an added record from a validated record and validated accounts.
 * It is normalized as the builder normalizes, and gets its blocking keys
 * except those that base marks frequent. Returns NULL when out of memory.
 */
struct delta_record *delta_record_create(const struct ecif_store *base,
                                         const ecif_record_t *rec,
                                         const ecif_account_t *accounts,
                                         uint32_t account_count);

void delta_record_free(struct delta_record *r);

/*
 * Makes room for one more record with key_count keys and overlay_extra
 * more overlay entries, so that delta_append cannot fail. Returns ECIF_OK,
 * ECIF_ELIMIT when an array would reach UINT32_MAX entries, or
 * ECIF_ENOMEM.
 */
int delta_reserve(struct store_delta *d, uint32_t key_count,
                  uint32_t overlay_extra);

/*
 * Appends a record (ownership passes to the delta) and indexes its
 * source key and blocking keys. Needs a delta_reserve() for it. Returns
 * its record id.
 */
uint32_t delta_append(struct store_delta *d, struct delta_record *r);

/* Returns the delta record of a record id at or above base_records. */
static inline const struct delta_record *
delta_record_at(const struct store_delta *d, uint32_t record)
{
    return d->records[record - d->base_records];
}

/* Returns the record id of a source key, or DELTA_NONE. */
uint32_t delta_find_source(const struct store_delta *d,
                           const char *source_system, const char *source_id);

/* Returns the first posting of a blocking key, or DELTA_NONE. */
uint32_t delta_key_first(const struct store_delta *d, uint64_t hash);

/* Returns the overlay entry of a customer id, or NULL. */
const struct delta_customer *delta_overlay_find(const struct store_delta *d,
                                                uint32_t customer);

/*
 * Builds an overlay entry for customer with members (copied) and the
 * exposure totals summed over their accounts in s, and stores it in *out.
 * pending, when not NULL, is a record about to be appended to the delta
 * of s, and members may name it by the id it will get. Returns ECIF_OK,
 * ECIF_ELIMIT when an exposure total overflows int64, or ECIF_ENOMEM.
 */
int delta_customer_create(const struct ecif_store *s, uint32_t customer,
                          const char *number, const uint32_t *members,
                          uint32_t member_count,
                          const struct delta_record *pending,
                          struct delta_customer **out);

void delta_customer_free(struct delta_customer *c);

/*
 * Puts an overlay entry in place of the customer's entry and frees the
 * one it replaces. A new customer's entry goes last. Needs a
 * delta_reserve() with overlay_extra for an entry that replaces none.
 */
void delta_overlay_put(struct store_delta *d, struct delta_customer *c);

/*
 * Fills *o with entries for a view of view_customers customers. Takes
 * ownership of entries, also on failure. Returns ECIF_OK or ECIF_ENOMEM.
 */
int delta_overlay_init(struct delta_overlay *o, struct delta_customer **entries,
                       uint32_t count, uint32_t view_customers);

/* Frees the entries of an overlay and empties it. */
void delta_overlay_fini(struct delta_overlay *o);

/* Makes o the delta's overlay (taking its contents) and frees the one it
 * replaces. Cannot fail. */
void delta_overlay_swap(struct store_delta *d, struct delta_overlay *o);

/* Orders two record ids of s by (source_system, source_id). */
int delta_compare_source(const struct ecif_store *s, uint32_t a, uint32_t b);

#endif
