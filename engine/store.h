/*
 * The customer store: an immutable, loaded index of records, accounts,
 * customers and blocking keys.
 *
 * A store is opened from a snapshot (see docs/snapshot-format.md) and is
 * read-only afterwards, so any number of threads may query it at once
 * without locks. Every pointer a store call returns points into the store
 * and stays valid until ecif_store_close().
 *
 * Records, customers and accounts are addressed by dense uint32_t ids:
 * records 0..record_count-1, customers 0..customer_count-1. Customer ids are
 * internal; clients see the stable customer number ("C" and 12 digits).
 */
#ifndef ECIF_STORE_H
#define ECIF_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "record.h"

typedef struct ecif_store ecif_store_t;

/* Length of a customer number without its NUL: "C" and 12 digits. */
#define ECIF_CUSTOMER_NUMBER_LEN 13

/* Per (product, currency) sums over all accounts of one customer. */
typedef struct ecif_exposure_total {
    const char *product;
    const char *currency;
    int64_t credit_limit; /* in 1/ECIF_AMOUNT_SCALE units */
    int64_t balance;      /* in 1/ECIF_AMOUNT_SCALE units */
    uint32_t account_count;
} ecif_exposure_total_t;

typedef struct ecif_store_info {
    uint32_t format_version;
    uint32_t shard_count;
    uint32_t record_count;
    uint32_t customer_count;
    uint32_t account_count;
    uint64_t key_count;
    uint64_t snapshot_bytes;
    uint32_t loaded_with_io_uring; /* 0 when the pread fallback was used */
    uint32_t mapped;               /* 1 when loaded with ECIF_LOAD_MAP */
    uint32_t pinned; /* 1 when a mapped snapshot is locked in memory */
} ecif_store_info_t;

/* How ecif_store_open_mode brings a snapshot into memory
 * (docs/snapshot-format.md, "Copy and map"). */
typedef enum ecif_load_mode {
    ECIF_LOAD_COPY = 0, /* io_uring reads into memory of the process */
    ECIF_LOAD_MAP,      /* the file's page-cache pages, mapped read-only */
} ecif_load_mode_t;

/*
 * Loads the snapshot at path with io_uring, checks its version, section
 * checksums and internal bounds, and returns the store in *out. Where the
 * kernel refuses io_uring (disabled by sysctl or a seccomp policy), it
 * reads with pread instead and reports that in ecif_store_info_t.
 *
 * Returns ECIF_OK, ECIF_EIO (open or read failed; errno text in err),
 * ECIF_EVERSION, ECIF_ECORRUPT (truncated, checksum or bounds failure) or
 * ECIF_ENOMEM. On failure *out is NULL and err says what failed on which
 * section.
 */
int ecif_store_open(const char *path, ecif_store_t **out, char *err,
                    size_t errlen);

/*
 * Loads the snapshot at path like ecif_store_open, by copying it
 * (ECIF_LOAD_COPY, what ecif_store_open does) or by mapping it
 * (ECIF_LOAD_MAP). Both run every check before returning. Map mode also
 * returns ECIF_EINVAL for a file that group or others may write, because
 * their writes would reach the served pages.
 */
int ecif_store_open_mode(const char *path, ecif_load_mode_t mode,
                         ecif_store_t **out, char *err, size_t errlen);

/* Frees the store. Accepts NULL. */
void ecif_store_close(ecif_store_t *store);

void ecif_store_get_info(const ecif_store_t *store, ecif_store_info_t *info);

struct ecif_model;

/* Returns the matching model the snapshot was built and is queried with.
 * The model lives as long as the store. */
const struct ecif_model *ecif_store_model(const ecif_store_t *store);

/*
 * Finds a customer by number. Returns ECIF_OK with *customer set, or
 * ECIF_ENOTFOUND (also for a malformed number).
 */
int ecif_store_find_customer(const ecif_store_t *store, const char *number,
                             uint32_t *customer);

/*
 * Finds a record by its source key. Returns ECIF_OK or ECIF_ENOTFOUND.
 */
int ecif_store_find_record(const ecif_store_t *store, const char *source_system,
                           const char *source_id, uint32_t *record);

/*
 * Looks a retired customer number up: when a merge retired it, writes the
 * number of the customer it now belongs to into survivor (at least
 * ECIF_CUSTOMER_NUMBER_LEN + 1 bytes) and returns ECIF_OK; otherwise
 * returns ECIF_ENOTFOUND.
 */
int ecif_store_find_redirect(const ecif_store_t *store, const char *number,
                             char *survivor);

/*
 * Writes to numbers (each ECIF_CUSTOMER_NUMBER_LEN + 1 bytes) up to max of
 * the retired numbers that now redirect to a customer, lowest first, and
 * returns how many there are in all.
 */
size_t
ecif_store_customer_history(const ecif_store_t *store, uint32_t customer,
                            char (*numbers)[ECIF_CUSTOMER_NUMBER_LEN + 1],
                            size_t max);

/* Returns the customer number of a customer id (NUL-terminated). */
const char *ecif_store_customer_number(const ecif_store_t *store,
                                       uint32_t customer);

/* Returns the customer id that owns a record. */
uint32_t ecif_store_record_customer(const ecif_store_t *store, uint32_t record);

/*
 * Returns the record ids of a customer in (source_system, source_id) order,
 * and their count in *count.
 */
const uint32_t *ecif_store_customer_records(const ecif_store_t *store,
                                            uint32_t customer, uint32_t *count);

/* Fills *out with the stored values of a record, as they were imported. */
void ecif_store_get_record(const ecif_store_t *store, uint32_t record,
                           ecif_record_t *out);

/* Returns the data-quality flags of a record (enum ecif_quality_flag). */
uint32_t ecif_store_record_quality(const ecif_store_t *store, uint32_t record);

/* Returns the number of accounts of a record. */
uint32_t ecif_store_record_account_count(const ecif_store_t *store,
                                         uint32_t record);

/* Fills *out with the index-th account of a record. */
void ecif_store_get_account(const ecif_store_t *store, uint32_t record,
                            uint32_t index, ecif_account_t *out);

/*
 * Returns the number of exposure totals of a customer: one per (product,
 * currency). The totals are computed at import and stored; summing them
 * again over ecif_store_get_account gives the same figures.
 */
uint32_t ecif_store_customer_exposure_count(const ecif_store_t *store,
                                            uint32_t customer);

/* Fills *out with the index-th exposure total of a customer, in (product,
 * currency) order; its strings point into the store. */
void ecif_store_get_exposure(const ecif_store_t *store, uint32_t customer,
                             uint32_t index, ecif_exposure_total_t *out);

#endif
