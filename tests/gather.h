/*
 * Helpers of the blocking and resolution tests: a store built from a few
 * records, and whether gathering for one record returns another.
 */
#ifndef ECIF_TESTS_GATHER_H
#define ECIF_TESTS_GATHER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "builder.h"
#include "model.h"
#include "resolve.h"
#include "status.h"
#include "store.h"
#include "unit.h"

/* Builds and opens a store of the records, clustered with model (NULL:
 * the built-in one) and written as name in the test folder. Exits on
 * failure, because no test can run without it. */
static inline ecif_store_t *gather_store(const char *name,
                                         const ecif_record_t *const *records,
                                         size_t count,
                                         const ecif_model_t *model)
{
    const char *base = getenv("ECIF_TEST_TMPDIR");
    ecif_builder_options_t opts;
    ecif_builder_t *b;
    ecif_store_t *store = NULL;
    char path[600], err[512];

    snprintf(path, sizeof(path), "%s/%s", base != NULL ? base : "/tmp", name);
    ecif_builder_options_default(&opts);
    opts.model = model;
    if (ecif_builder_create(&opts, &b, err, sizeof(err)) != ECIF_OK)
        exit(1);
    for (size_t i = 0; i < count; i++) {
        if (ecif_builder_add_record(b, records[i], err, sizeof(err)) !=
            ECIF_OK) {
            fprintf(stderr, "adding record '%s' failed: %s\n",
                    records[i]->source_id, err);
            exit(1);
        }
    }
    if (ecif_builder_write(b, path, NULL, err, sizeof(err)) != ECIF_OK ||
        ecif_store_open(path, &store, err, sizeof(err)) != ECIF_OK) {
        fprintf(stderr, "building the test store failed: %s\n", err);
        exit(1);
    }
    ecif_builder_destroy(b);
    unlink(path);
    return store;
}

/* Returns the record id of rec's source key in store. */
static inline uint32_t gather_record(const ecif_store_t *store,
                                     const ecif_record_t *rec)
{
    uint32_t record = UINT32_MAX;

    CHECK_INT(ecif_store_find_record(store, rec->source_system, rec->source_id,
                                     &record),
              ECIF_OK);
    return record;
}

/* Returns whether gathering for record a returns record b. */
static inline bool gather_finds(const ecif_store_t *store,
                                const ecif_record_t *a, const ecif_record_t *b)
{
    uint32_t found[64];
    size_t count = 0;
    uint32_t target = gather_record(store, b);

    CHECK_INT(ecif_record_candidates(store, gather_record(store, a), found, 64,
                                     &count),
              ECIF_OK);
    for (size_t i = 0; i < count; i++) {
        if (found[i] == target)
            return true;
    }
    return false;
}

#endif
