/*
 * Frequent values: a phone on more records than the builder's
 * frequent_value_limit is no blocking key and weighs little as evidence.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "builder.h"
#include "resolve.h"
#include "status.h"
#include "store.h"
#include "unit.h"

#define SHARED_PHONE "13975318642"
#define PEOPLE       40

static ecif_store_t *store;
static ecif_build_stats_t stats;

static void person(int i, char *id, char *name, char *source_id,
                   ecif_record_t *r)
{
    static const char *const given[] = {"alice", "bruno", "chen",  "dmitri",
                                        "elena", "farid", "greta", "hiro"};
    static const char *const family[] = {"adams", "baker", "carter", "dalton",
                                         "evans"};

    sprintf(id, "ID%08d", 1000 + i * 7919);
    sprintf(name, "%s %s", given[i % 8], family[i / 8 % 5]);
    sprintf(source_id, "R%d", i);
    memset(r, 0, sizeof(*r));
    r->source_system = "CRM";
    r->source_id = source_id;
    r->name = name;
    r->id_number = id;
    r->phones[0] = SHARED_PHONE;
    r->n_phones = 1;
    r->dob = i % 2 ? "1980-01-02" : "1991-07-30";
}

static void build_store(void)
{
    const char *dir = getenv("ECIF_TEST_TMPDIR");
    char path[512], err[256];
    ecif_builder_options_t opts;
    ecif_builder_t *b;

    snprintf(path, sizeof(path), "%s/frequent.snap", dir ? dir : "/tmp");
    ecif_builder_options_default(&opts);
    opts.frequent_value_limit = 10;
    CHECK_INT(ecif_builder_create(&opts, &b, err, sizeof(err)), ECIF_OK);
    for (int i = 0; i < PEOPLE; i++) {
        char id[32], name[64], source_id[16];
        ecif_record_t r;
        person(i, id, name, source_id, &r);
        CHECK_INT(ecif_builder_add_record(b, &r, err, sizeof(err)), ECIF_OK);
    }
    CHECK_INT(ecif_builder_write(b, path, &stats, err, sizeof(err)), ECIF_OK);
    ecif_builder_destroy(b);
    CHECK_INT(ecif_store_open(path, &store, err, sizeof(err)), ECIF_OK);
}

static void test_shared_phone_counted_frequent(void)
{
    CHECK(stats.frequent_key_count >= 1);
}

static void test_shared_phone_is_no_blocking_key(void)
{
    ecif_record_t q;
    ecif_candidate_t c[8];
    size_t n = 99;

    memset(&q, 0, sizeof(q));
    q.phones[0] = SHARED_PHONE;
    q.n_phones = 1;
    CHECK_INT(ecif_resolve(store, &q, c, 8, &n), ECIF_OK);
    CHECK_INT(n, 0);
}

static void test_shared_phone_weighs_little(void)
{
    char id[32], name[64], source_id[16];
    ecif_record_t q;
    ecif_candidate_t c[8];
    size_t n = 0;

    person(3, id, name, source_id, &q);
    q.source_system = NULL;
    q.source_id = NULL;
    CHECK_INT(ecif_resolve(store, &q, c, 8, &n), ECIF_OK);
    CHECK(n >= 1);
    if (n == 0)
        return;
    CHECK_INT(c[0].evidence[ECIF_FIELD_PHONE].level, ECIF_LEVEL_EXACT);
    CHECK(c[0].evidence[ECIF_FIELD_PHONE].weight < 1.0);
    CHECK(c[0].evidence[ECIF_FIELD_ID_NUMBER].weight > 5.0);
}

static void test_limit_out_of_range_rejected(void)
{
    ecif_builder_options_t opts;
    ecif_builder_t *b = NULL;
    char err[256] = "";

    ecif_builder_options_default(&opts);
    opts.frequent_value_limit = 1;
    CHECK_INT(ecif_builder_create(&opts, &b, err, sizeof(err)), ECIF_EINVAL);
    CHECK(b == NULL);
    CHECK(strstr(err, "frequent value limit 1") != NULL);
}

int main(void)
{
    build_store();
    if (store == NULL)
        return unit_report();
    RUN(test_shared_phone_counted_frequent);
    RUN(test_shared_phone_is_no_blocking_key);
    RUN(test_shared_phone_weighs_little);
    RUN(test_limit_out_of_range_rejected);
    ecif_store_close(store);
    return unit_report();
}
