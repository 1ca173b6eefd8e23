/*
 * Building a store: import records and accounts, resolve the records into
 * customers, and write the snapshot.
 *
 * A builder owns copies of everything added to it. ecif_builder_write()
 * normalizes every record, builds the sharded blocking-key index, clusters
 * the records into customers, sums exposure per customer, and writes the
 * snapshot atomically (temporary file, fsync, rename, fsync of the
 * directory). A builder is used by one thread, but ecif_builder_write()
 * may start more threads for its own work.
 */
#ifndef ECIF_BUILDER_H
#define ECIF_BUILDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "record.h"

typedef struct ecif_builder ecif_builder_t;

typedef struct ecif_builder_options {
    /* Shards of the key index: a power of two from 1 to 4096. */
    uint32_t shard_count;
    /*
     * A blocking-key value (an ID number, a phone, an email, a name with a
     * birth date ...) shared by more records than this is frequent: it is
     * no blocking key, and agreeing on it weighs little, because a value
     * on that many records is a placeholder or a household value, not an
     * identifier. From 2 to 65536.
     */
    uint32_t frequent_value_limit;
    /*
     * Called with progress during ecif_builder_write (stage name, done,
     * total), at most a few times a second. May be NULL.
     */
    void (*progress)(void *arg, const char *stage, uint64_t done,
                     uint64_t total);
    void *progress_arg;
    /*
     * Called for each bridge: a pair of records that scored MATCH but
     * whose customers were not joined, because that would put two
     * records that conflict (two valid resident IDs, two generational
     * suffixes) into one customer. Receives progress_arg. May be NULL.
     */
    void (*bridge)(void *arg, const char *source_system_a,
                   const char *source_id_a, const char *source_system_b,
                   const char *source_id_b);
    /*
     * The snapshot this one replaces, or NULL. With it, a customer keeps
     * the number its records had there: when records of several earlier
     * customers are joined, the oldest (lowest) number survives and the
     * others are retired and redirect to it; new customers get numbers
     * never issued before. The builder only reads it, during
     * ecif_builder_write().
     */
    const struct ecif_store *previous;
    /*
     * Number of threads that score the record pairs while clustering,
     * from 0 to 256. 0 starts one per online CPU, at most 256. The
     * snapshot is the same for every thread count.
     */
    uint32_t thread_count;
    /*
     * The matching model to cluster with and to store in the snapshot, or
     * NULL for model_default(). The builder only reads it, and it must
     * live until ecif_builder_destroy().
     */
    const struct ecif_model *model;
} ecif_builder_options_t;

/* Fills *opts with the defaults: 16 shards, frequent values above 256
 * records, no progress callback, one thread per online CPU, the built-in
 * model. */
void ecif_builder_options_default(ecif_builder_options_t *opts);

/*
 * Creates a builder. Returns ECIF_OK, ECIF_EINVAL (shard count not a power
 * of two in range; message in err) or ECIF_ENOMEM.
 */
int ecif_builder_create(const ecif_builder_options_t *opts,
                        ecif_builder_t **out, char *err, size_t errlen);

void ecif_builder_destroy(ecif_builder_t *builder);

/*
 * Adds a record. Validates it (see ecif_record_validate, with the source
 * required). Returns ECIF_OK, ECIF_EINVAL, ECIF_EEXIST (the same
 * source_system and source_id were added before) or ECIF_ENOMEM, with a
 * message in err. A failed call adds nothing.
 */
int ecif_builder_add_record(ecif_builder_t *builder, const ecif_record_t *rec,
                            char *err, size_t errlen);

/*
 * Adds a record that a journal entry holds, validated with
 * ecif_record_validate_journaled, so that an entry accepted by an older
 * build or under another clock still folds into the snapshot.
 */
int ecif_builder_add_journaled_record(ecif_builder_t *builder,
                                      const ecif_record_t *rec, char *err,
                                      size_t errlen);

/* Returns true when a record with this source key was added. */
bool ecif_builder_has_record(const ecif_builder_t *builder,
                             const char *source_system, const char *source_id);

/*
 * Adds an account to the record (source_system, source_id). The record may
 * be added before or after its accounts; ecif_builder_write fails with
 * ECIF_ENOTFOUND when an account's record never arrives. Returns ECIF_OK,
 * ECIF_EINVAL, ECIF_EEXIST (same account_id in the same source system) or
 * ECIF_ENOMEM.
 */
int ecif_builder_add_account(ecif_builder_t *builder, const char *source_system,
                             const char *source_id, const ecif_account_t *acct,
                             char *err, size_t errlen);

typedef struct ecif_build_stats {
    uint32_t record_count;
    uint32_t customer_count;
    uint32_t account_count;
    uint64_t key_count;
    uint64_t frequent_key_count; /* values over frequent_value_limit */
    uint64_t bridge_count;       /* MATCH pairs not joined, see bridge */
    uint64_t distant_count;      /* pairs not joined, see MATCHING.md */
    uint32_t kept_numbers;       /* customers that kept a previous number */
    uint32_t retired_numbers;    /* previous numbers retired by merges */
    uint64_t snapshot_bytes;
} ecif_build_stats_t;

/*
 * Resolves, indexes and writes the snapshot to path. stats may be NULL.
 * Returns ECIF_OK, ECIF_ENOTFOUND (an orphan account), ECIF_EIO (errno text
 * in err; no file is left at path unless one was there before, and then it
 * is unchanged) or ECIF_ENOMEM.
 */
int ecif_builder_write(ecif_builder_t *builder, const char *path,
                       ecif_build_stats_t *stats, char *err, size_t errlen);

#endif
