/*
 * Blocking on the local part of an email (engine/MATCHING.md): two
 * records whose emails differ only in the domain gather each other even
 * when no name, date or other value would, and a local part shorter than
 * four characters gathers nothing. Only records without an ID number or
 * phone are posted under it, while every record looks it up.
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

/* The dates and domains of these two differ, and the second has no
 * family name, so the local part is the only value they share. */
static const ecif_record_t first_domain = {
    .source_system = "core",
    .source_id = "first-domain",
    .given_name = "Frederick",
    .family_name = "Jones",
    .dob = "2016-04-16",
    .emails = {"frederick.jones62@anderson.biz"},
    .n_emails = 1,
};

static const ecif_record_t mistyped_domain = {
    .source_system = "cards",
    .source_id = "mistyped-domain",
    .given_name = "Fredrick",
    .dob = "2015-05-19",
    .emails = {"frederick.jones62@andersen.biz"},
    .n_emails = 1,
};

/* Two unrelated records whose three-character local parts agree. The
 * second shares the domain of first_domain. */
static const ecif_record_t short_local = {
    .source_system = "core",
    .source_id = "short-local",
    .given_name = "Imogen",
    .family_name = "Hughes",
    .dob = "2013-08-21",
    .emails = {"i.h@harris-murray.org"},
    .n_emails = 1,
};

static const ecif_record_t short_local_other = {
    .source_system = "loans",
    .source_id = "short-local-other",
    .given_name = "Isaac",
    .family_name = "Hart",
    .dob = "1979-02-03",
    .emails = {"i.h@anderson.biz"},
    .n_emails = 1,
};

/* Two records with phones whose local parts agree: neither is posted
 * under the local part, so they do not gather each other by it. */
static const ecif_record_t phoned = {
    .source_system = "core",
    .source_id = "phoned",
    .given_name = "Margaret",
    .family_name = "Hill",
    .dob = "1981-01-09",
    .phones = {"+86 139 1111 2222"},
    .n_phones = 1,
    .emails = {"quiet.river77@example.com"},
    .n_emails = 1,
};

static const ecif_record_t phoned_other = {
    .source_system = "loans",
    .source_id = "phoned-other",
    .given_name = "Ostap",
    .family_name = "Bender",
    .dob = "1960-06-30",
    .phones = {"+86 139 3333 4444"},
    .n_phones = 1,
    .emails = {"quiet.river77@example.org"},
    .n_emails = 1,
};

/* A record with a phone still looks the local part up, and so finds a
 * record without an identifier that is posted under it. */
static const ecif_record_t phoned_lookup = {
    .source_system = "cards",
    .source_id = "phoned-lookup",
    .given_name = "Zed",
    .family_name = "Quill",
    .dob = "1990-10-10",
    .phones = {"+86 139 5555 6666"},
    .n_phones = 1,
    .emails = {"frederick.jones62@other.net"},
    .n_emails = 1,
};

/* Builds the store of the records above. */
static void store_init(void)
{
    static const ecif_record_t *const records[] = {
        &first_domain, &mistyped_domain, &short_local,  &short_local_other,
        &phoned,       &phoned_other,    &phoned_lookup};

    store = gather_store("test_email_keys.snap", records,
                         sizeof(records) / sizeof(records[0]), NULL);
}

static bool gathers(const ecif_record_t *a, const ecif_record_t *b)
{
    return gather_finds(store, a, b);
}

static void test_local_part_survives_domain(void)
{
    CHECK(gathers(&first_domain, &mistyped_domain));
    CHECK(gathers(&mistyped_domain, &first_domain));
}

static void test_short_local_part_not_keyed(void)
{
    CHECK(!gathers(&short_local, &short_local_other));
    CHECK(!gathers(&short_local_other, &short_local));
}

/* Different local parts at one domain share no key. */
static void test_domain_alone_not_keyed(void)
{
    CHECK(!gathers(&first_domain, &short_local_other));
    CHECK(!gathers(&short_local_other, &first_domain));
}

static void test_identified_records_not_posted(void)
{
    CHECK(!gathers(&phoned, &phoned_other));
    CHECK(!gathers(&phoned_other, &phoned));
}

static void test_identified_record_looks_up(void)
{
    CHECK(gathers(&phoned_lookup, &first_domain));
    CHECK(!gathers(&first_domain, &phoned_lookup));
}

int main(void)
{
    store_init();
    RUN(test_local_part_survives_domain);
    RUN(test_short_local_part_not_keyed);
    RUN(test_domain_alone_not_keyed);
    RUN(test_identified_records_not_posted);
    RUN(test_identified_record_looks_up);
    ecif_store_close(store);
    return unit_report();
}
