/*
 * Blocking keys of records that lack a name part or an identifier
 * (engine/MATCHING.md). Such a record has a family name without a given
 * name, or the reverse, or neither an ID number nor a phone. It is posted
 * under each name token with its birth year and with its month and day.
 * Every Latin record looks those keys up. A full record with a phone is
 * not posted under them, so two such records never meet through them.
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

static const ecif_record_t full = {
    .source_system = "core",
    .source_id = "full",
    .given_name = "Harriet",
    .family_name = "Quennell",
    .dob = "1971-06-24",
    .phones = {"+44 1233 612345"},
    .n_phones = 1,
    .addresses = {"14 Mill Lane, Ashford"},
    .n_addresses = 1,
};

/* No given name, another birth year, the same address. */
static const ecif_record_t family_at_address = {
    .source_system = "cards",
    .source_id = "family-at-address",
    .family_name = "Quennell",
    .dob = "1981-02-11",
    .addresses = {"14 Mill Lane, Ashford"},
    .n_addresses = 1,
};

/* No family name, the same birth year with another month and day, no
 * address. */
static const ecif_record_t given_in_year = {
    .source_system = "loans",
    .source_id = "given-in-year",
    .given_name = "Harriet",
    .dob = "1971-11-03",
};

/* No given name, another year and another address: no key is shared. */
static const ecif_record_t family_elsewhere = {
    .source_system = "cards",
    .source_id = "family-elsewhere",
    .family_name = "Quennell",
    .dob = "1990-03-15",
    .addresses = {"2 Harbour Road, Whitby"},
    .n_addresses = 1,
};

/* No given name, and only the birth year in common with
 * family_elsewhere. */
static const ecif_record_t family_elsewhere_year = {
    .source_system = "loans",
    .source_id = "family-elsewhere-year",
    .family_name = "Quennell",
    .dob = "1990-08-01",
};

/* A full record sharing the family name, the birth year and the address
 * with full, but not the given name, the date or the phone. */
static const ecif_record_t full_relative = {
    .source_system = "core",
    .source_id = "full-relative",
    .given_name = "Tobias",
    .family_name = "Quennell",
    .dob = "1971-09-30",
    .phones = {"+44 1233 698765"},
    .n_phones = 1,
    .addresses = {"14 Mill Lane, Ashford"},
    .n_addresses = 1,
};

/* Two records of one person without an ID number or phone: a typo in the
 * family name that changes its phonetic code, and the day of birth
 * changed. */
static const ecif_record_t no_id_typo = {
    .source_system = "branch",
    .source_id = "no-id-typo",
    .given_name = "Heinz",
    .family_name = "Fischfer",
    .dob = "1980-04-29",
};

static const ecif_record_t no_id = {
    .source_system = "core",
    .source_id = "no-id",
    .given_name = "Heinz",
    .family_name = "Fischer",
    .dob = "1980-04-26",
};

/* The same with the year of birth changed instead. */
static const ecif_record_t no_id_year = {
    .source_system = "branch",
    .source_id = "no-id-year",
    .given_name = "Birgit",
    .family_name = "Bquer",
    .dob = "1967-04-12",
};

static const ecif_record_t no_id_year_typo = {
    .source_system = "core",
    .source_id = "no-id-year-typo",
    .given_name = "Birgit",
    .family_name = "Bauer",
    .dob = "1964-04-12",
};

/* The pair of no_id and no_id_typo, each with a phone of its own. */
static const ecif_record_t phone_typo = {
    .source_system = "branch",
    .source_id = "phone-typo",
    .given_name = "Heinz",
    .family_name = "Fischfer",
    .dob = "1980-04-29",
    .phones = {"+49 30 1234567"},
    .n_phones = 1,
};

static const ecif_record_t phone = {
    .source_system = "core",
    .source_id = "phone",
    .given_name = "Heinz",
    .family_name = "Fischer",
    .dob = "1980-04-26",
    .phones = {"+49 40 7654321"},
    .n_phones = 1,
};

/* Builds the store of the records above. */
static void store_init(void)
{
    static const ecif_record_t *const records[] = {&full,
                                                   &family_at_address,
                                                   &given_in_year,
                                                   &family_elsewhere,
                                                   &family_elsewhere_year,
                                                   &full_relative,
                                                   &no_id_typo,
                                                   &no_id,
                                                   &no_id_year,
                                                   &no_id_year_typo,
                                                   &phone_typo,
                                                   &phone};

    store = gather_store("test_partial_name_keys.snap", records,
                         sizeof(records) / sizeof(records[0]), NULL);
}

static bool gathers(const ecif_record_t *a, const ecif_record_t *b)
{
    return gather_finds(store, a, b);
}

/* A shared address would gather a household, so it is not keyed. */
static void test_partial_not_keyed_by_address(void)
{
    CHECK(!gathers(&full, &family_at_address));
    CHECK(!gathers(&family_at_address, &full));
}

static void test_full_finds_partial_by_year(void)
{
    CHECK(gathers(&full, &given_in_year));
}

static void test_partial_key_needs_year(void)
{
    CHECK(!gathers(&full, &family_elsewhere));
    CHECK(!gathers(&family_elsewhere, &full));
}

/* full_relative shares a token, the birth year and the address with full,
 * but full records are not posted under the keys of partial records. */
static void test_full_records_not_posted(void)
{
    CHECK(!gathers(&full, &full_relative));
    CHECK(!gathers(&full_relative, &full));
}

/* Two partial records that share a token and a year meet. Records of
 * one token also share the key of all their phonetic codes. */
static void test_partial_finds_partial(void)
{
    CHECK(gathers(&family_elsewhere, &family_elsewhere_year));
    CHECK(gathers(&family_elsewhere_year, &family_elsewhere));
    CHECK(!gathers(&family_at_address, &given_in_year));
    CHECK(!gathers(&full, &family_elsewhere_year));
}

/* Without an identifier, the token that stayed and the year, or the
 * month and day, that stayed bring the two records together. */
static void test_no_identifier_finds_typo(void)
{
    CHECK(gathers(&no_id, &no_id_typo));
    CHECK(gathers(&no_id_typo, &no_id));
    CHECK(gathers(&no_id_year, &no_id_year_typo));
    CHECK(gathers(&no_id_year_typo, &no_id_year));
}

/* Records with a phone are not posted under those keys: they are found
 * by the phone. A record without one still finds them. */
static void test_phone_records_not_posted(void)
{
    CHECK(!gathers(&phone, &phone_typo));
    CHECK(!gathers(&phone_typo, &phone));
    CHECK(gathers(&phone, &no_id_typo));
    CHECK(!gathers(&no_id_typo, &phone));
}

/* A query with the full name lists the customer of a partial record. */
static void test_resolve_full_query_finds_partial(void)
{
    ecif_record_t query = {.given_name = "Harriet",
                           .family_name = "Quennell",
                           .dob = "1971-06-24",
                           .addresses = {"14 Mill Lane, Ashford"},
                           .n_addresses = 1};
    ecif_candidate_t found[ECIF_MAX_CANDIDATES];
    size_t count = 0;
    uint32_t partial =
        ecif_store_record_customer(store, gather_record(store, &given_in_year));
    bool listed = false;

    CHECK_INT(ecif_resolve(store, &query, found, ECIF_MAX_CANDIDATES, &count),
              ECIF_OK);
    for (size_t i = 0; i < count; i++)
        listed = listed || found[i].customer == partial;
    CHECK(listed);
}

int main(void)
{
    store_init();
    RUN(test_partial_not_keyed_by_address);
    RUN(test_full_finds_partial_by_year);
    RUN(test_partial_key_needs_year);
    RUN(test_full_records_not_posted);
    RUN(test_partial_finds_partial);
    RUN(test_no_identifier_finds_typo);
    RUN(test_phone_records_not_posted);
    RUN(test_resolve_full_query_finds_partial);
    ecif_store_close(store);
    return unit_report();
}
