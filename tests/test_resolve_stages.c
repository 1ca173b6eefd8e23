/*
 * The order in which resolution gathers candidates: the keys of a name
 * alone (without a date of birth or postal code) are gathered only while
 * no candidate matches, because a common name can share them with
 * hundreds of records. When nothing matches, they must still find the records.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gather.h"
#include "model.h"
#include "resolve.h"
#include "status.h"
#include "store.h"
#include "unit.h"

static ecif_store_t *store;

/* Three customers of one name: two with different birth dates, and one
 * without a date, reachable only through the keys of the name alone. */
static const ecif_record_t dated = {
    .source_system = "core",
    .source_id = "dated",
    .given_name = "Margaret",
    .family_name = "Ellison",
    .dob = "1971-04-09",
    .gender = "F",
};

static const ecif_record_t other_date = {
    .source_system = "core",
    .source_id = "other-date",
    .given_name = "Margaret",
    .family_name = "Ellison",
    .dob = "1985-01-23",
    .gender = "F",
};

static const ecif_record_t undated = {
    .source_system = "cards",
    .source_id = "undated",
    .given_name = "Margaret",
    .family_name = "Ellison",
    .emails = {"m.ellison@example.org"},
    .n_emails = 1,
    .gender = "F",
};

/* Builds a store of records scored with model (NULL: the built-in one). */
static ecif_store_t *build_store(const ecif_record_t *const *records, size_t n,
                                 const ecif_model_t *model)
{
    return gather_store("test_resolve_stages.snap", records, n, model);
}

static void store_init(void)
{
    const ecif_record_t *records[] = {&dated, &other_date, &undated};

    store = build_store(records, sizeof(records) / sizeof(records[0]), NULL);
}

static uint32_t customer_of(const ecif_record_t *rec)
{
    uint32_t record;

    if (ecif_store_find_record(store, rec->source_system, rec->source_id,
                               &record) != ECIF_OK)
        return UINT32_MAX;
    return ecif_store_record_customer(store, record);
}

/* Returns the rank of rec's customer among the candidates, or -1. */
static int rank_of(const ecif_candidate_t *found, size_t count,
                   const ecif_record_t *rec)
{
    for (size_t i = 0; i < count; i++) {
        if (found[i].customer == customer_of(rec))
            return (int)i;
    }
    return -1;
}

static void test_three_customers_apart(void)
{
    CHECK(customer_of(&dated) != customer_of(&other_date));
    CHECK(customer_of(&dated) != customer_of(&undated));
    CHECK(customer_of(&other_date) != customer_of(&undated));
}

/* The name with the birth date matches, so the undated customer, which
 * only the name alone leads to, is not gathered. */
static void test_match_skips_name_only_keys(void)
{
    ecif_record_t query = {.given_name = "Margaret",
                           .family_name = "Ellison",
                           .dob = "1971-04-09"};
    ecif_candidate_t found[ECIF_MAX_CANDIDATES];
    size_t count = 0;

    CHECK_INT(ecif_resolve(store, &query, found, ECIF_MAX_CANDIDATES, &count),
              ECIF_OK);
    CHECK(count >= 1);
    CHECK_INT(rank_of(found, count, &dated), 0);
    CHECK_INT(found[0].verdict, ECIF_MATCH);
    CHECK_INT(rank_of(found, count, &undated), -1);
}

/* No record has this birth date, so the keys of the name alone are
 * gathered and find every customer of that name. */
static void test_no_match_gathers_name_only_keys(void)
{
    ecif_record_t query = {.given_name = "Margaret",
                           .family_name = "Ellison",
                           .dob = "1990-12-12"};
    ecif_candidate_t found[ECIF_MAX_CANDIDATES];
    size_t count = 0;

    CHECK_INT(ecif_resolve(store, &query, found, ECIF_MAX_CANDIDATES, &count),
              ECIF_OK);
    CHECK(rank_of(found, count, &undated) >= 0);
    CHECK(rank_of(found, count, &dated) >= 0);
    CHECK(rank_of(found, count, &other_date) >= 0);
}

/* A record with the query's email and phone but no birth date, and
 * another customer of the same name and birth date that only the keys of
 * name and date lead to. */
static const ecif_record_t contacts = {
    .source_system = "crm",
    .source_id = "contacts",
    .given_name = "Harriet",
    .family_name = "Quill",
    .phones = {"13800001111"},
    .n_phones = 1,
    .emails = {"h.quill@example.org"},
    .n_emails = 1,
};

static const ecif_record_t named = {
    .source_system = "core",
    .source_id = "named",
    .given_name = "Harriet",
    .family_name = "Quill",
    .dob = "1966-08-30",
};

/* Builds a store of contacts and named scored with model. */
static ecif_store_t *settle_store(const ecif_model_t *model)
{
    const ecif_record_t *records[] = {&contacts, &named};

    return build_store(records, 2, model);
}

/* Returns true when the customer of named is among the candidates. */
static bool named_found(ecif_store_t *s)
{
    ecif_record_t query = contacts;
    ecif_candidate_t found[ECIF_MAX_CANDIDATES];
    size_t count = 0;
    uint32_t record;

    query.dob = "1966-08-30";
    if (ecif_resolve(s, &query, found, ECIF_MAX_CANDIDATES, &count) !=
            ECIF_OK ||
        ecif_store_find_record(s, "core", "named", &record) != ECIF_OK)
        return false;
    for (size_t i = 0; i < count; i++) {
        if (found[i].customer == ecif_store_record_customer(s, record))
            return true;
    }
    return false;
}

/* An identifier match settles a query only 7 above the model's MATCH
 * weight. With the built-in model (MATCH 13) the contacts record settles
 * it, and with a model whose MATCH is above 20 it no longer does. */
static void test_settle_follows_model(void)
{
    ecif_model_t strict = *model_default();
    char err[256];
    ecif_store_t *s;

    s = settle_store(model_default());
    CHECK(!named_found(s));
    ecif_store_close(s);

    strict.match_probability = 0.9999;
    strict.cluster_probability = 0.9999;
    CHECK_INT(model_derive(&strict, err, sizeof(err)), ECIF_OK);
    CHECK(strict.match_weight > 20.0);
    s = settle_store(&strict);
    CHECK(named_found(s));
    ecif_store_close(s);
}

int main(void)
{
    store_init();
    RUN(test_three_customers_apart);
    RUN(test_match_skips_name_only_keys);
    RUN(test_no_match_gathers_name_only_keys);
    RUN(test_settle_follows_model);
    ecif_store_close(store);
    return unit_report();
}
