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

#include "gather.h"
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

/* Builds the store of the records above. */
static void store_init(void)
{
    static const ecif_record_t *const records[] = {&first, &name_typos,
                                                   &relative};

    store = gather_store("test_address_keys.snap", records,
                         sizeof(records) / sizeof(records[0]), NULL);
}

static bool gathers(const ecif_record_t *a, const ecif_record_t *b)
{
    return gather_finds(store, a, b);
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
