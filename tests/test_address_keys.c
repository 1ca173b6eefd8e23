/*
 * Blocking on the date of birth with the first three characters of an
 * address (engine/MATCHING.md): a record whose every name token changed
 * still meets the others of its person when the birth date and the start
 * of the address agree, and a relative at the same address with another
 * birth date does not.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "builder.h"
#include "resolve.h"
#include "status.h"
#include "store.h"
#include "unit.h"

static ecif_store_t *store;

static const ecif_record_t first = {
    .source_system = "core",
    .source_id = "first",
    .given_name = "Isabella",
    .family_name = "Spencer",
    .dob = "1983-08-29",
    .addresses = {"London"},
    .n_addresses = 1,
};

/* Both name tokens changed at their first letter, so no name key is
 * shared, and the city lost a letter past its third. */
static const ecif_record_t name_typos = {
    .source_system = "cards",
    .source_id = "name-typos",
    .given_name = "Asabella",
    .family_name = "Pspencer",
    .dob = "1983-08-29",
    .addresses = {"Londn"},
    .n_addresses = 1,
};

/* Another person at the same address, born on another day. */
static const ecif_record_t relative = {
    .source_system = "loans",
    .source_id = "relative",
    .given_name = "Tobias",
    .family_name = "Quennell",
    .dob = "1985-02-11",
    .addresses = {"London"},
    .n_addresses = 1,
};

/* Builds the store; exits on failure, because no test can run without
 * it. */
static void store_init(void)
{
    const ecif_record_t *records[] = {&first, &name_typos, &relative};
    const char *base = getenv("ECIF_TEST_TMPDIR");
    ecif_builder_options_t opts;
    ecif_builder_t *b;
    char path[600], err[512];

    snprintf(path, sizeof(path), "%s/test_address_keys.snap",
             base != NULL ? base : "/tmp");
    ecif_builder_options_default(&opts);
    if (ecif_builder_create(&opts, &b, err, sizeof(err)) != ECIF_OK)
        exit(1);
    for (size_t i = 0; i < sizeof(records) / sizeof(records[0]); i++) {
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
}

static uint32_t record_of(const ecif_record_t *rec)
{
    uint32_t record = UINT32_MAX;

    CHECK_INT(ecif_store_find_record(store, rec->source_system, rec->source_id,
                                     &record),
              ECIF_OK);
    return record;
}

/* Returns whether gathering for record a returns record b. */
static bool gathers(const ecif_record_t *a, const ecif_record_t *b)
{
    uint32_t found[64];
    size_t count = 0;
    uint32_t target = record_of(b);

    CHECK_INT(ecif_record_candidates(store, record_of(a), found, 64, &count),
              ECIF_OK);
    for (size_t i = 0; i < count; i++) {
        if (found[i] == target)
            return true;
    }
    return false;
}

static void test_dob_and_address_start_gather(void)
{
    CHECK(gathers(&first, &name_typos));
    CHECK(gathers(&name_typos, &first));
}

static void test_address_alone_not_keyed(void)
{
    CHECK(!gathers(&first, &relative));
    CHECK(!gathers(&relative, &first));
}

int main(void)
{
    store_init();
    RUN(test_dob_and_address_start_gather);
    RUN(test_address_alone_not_keyed);
    ecif_store_close(store);
    return unit_report();
}
