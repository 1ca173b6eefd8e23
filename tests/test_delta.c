/*
 * Unit tests of the delta of added records. They cover lookups by source
 * key and blocking key, posting chains newest first, and frequent keys of
 * the loaded store left out. They also cover the tables growing over many
 * adds, the customer overlay, and a store view that serves added records
 * through the same accessors and Resolve as loaded ones.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "builder.h"
#include "delta.h"
#include "resolve.h"
#include "status.h"
#include "unit.h"

static ecif_store_t *base;

/* Three records share a phone, more than the frequent-value limit. */
static const char *const shared_phone = "13900001111";

static void store_init(void)
{
    const char *tmp = getenv("ECIF_TEST_TMPDIR");
    char path[600], err[512], id[16], name[32];
    ecif_builder_options_t opts;
    ecif_builder_t *b;

    snprintf(path, sizeof(path), "%s/test_delta.snap",
             tmp != NULL ? tmp : "/tmp");
    ecif_builder_options_default(&opts);
    opts.frequent_value_limit = 2;
    if (ecif_builder_create(&opts, &b, err, sizeof(err)) != ECIF_OK)
        exit(1);
    for (int i = 0; i < 3; i++) {
        snprintf(id, sizeof(id), "%d", i);
        snprintf(name, sizeof(name), "Person %c", 'A' + i);
        ecif_record_t r = {.source_system = "CORE",
                           .source_id = id,
                           .name = name,
                           .phones = {shared_phone},
                           .n_phones = 1};
        if (ecif_builder_add_record(b, &r, err, sizeof(err)) != ECIF_OK)
            exit(1);
    }
    if (ecif_builder_write(b, path, NULL, err, sizeof(err)) != ECIF_OK ||
        ecif_store_open(path, &base, err, sizeof(err)) != ECIF_OK) {
        fprintf(stderr, "building the test store: %s\n", err);
        exit(1);
    }
    ecif_builder_destroy(b);
    unlink(path);
}

/* Creates and appends a record; returns its record id. */
static uint32_t add(struct store_delta *d, const ecif_record_t *rec,
                    const ecif_account_t *accounts, uint32_t n)
{
    struct delta_record *r = delta_record_create(base, rec, accounts, n);
    CHECK(r != NULL);
    CHECK_INT(delta_reserve(d, r->key_count, 1), ECIF_OK);
    return delta_append(d, r);
}

static bool has_key(const struct delta_record *r, uint64_t key)
{
    for (uint32_t k = 0; k < r->key_count; k++) {
        if (r->keys[k] == key)
            return true;
    }
    return false;
}

/* Returns the blocking key of a record that has only this phone. */
static uint64_t phone_key(const char *phone)
{
    ecif_record_t r = {.phones = {phone}, .n_phones = 1};
    struct delta_record *d = delta_record_create(base, &r, NULL, 0);
    uint64_t key = 0;

    /* A phone that the loaded store marks frequent gets no key, so 0. */
    CHECK(d != NULL);
    if (d != NULL && d->key_count > 0)
        key = d->keys[0];
    delta_record_free(d);
    return key;
}

static void test_delta_finds_records_by_source_key(void)
{
    struct store_delta *d = delta_create(base->record_count);
    char id[16];

    for (int i = 0; i < 2000; i++) {
        snprintf(id, sizeof(id), "A-%d", i);
        ecif_record_t r = {
            .source_system = "LOANS", .source_id = id, .name = "Wang Fang"};
        CHECK_INT(add(d, &r, NULL, 0), base->record_count + (uint32_t)i);
    }
    CHECK_INT(d->count, 2000);
    for (int i = 0; i < 2000; i += 7) {
        snprintf(id, sizeof(id), "A-%d", i);
        CHECK_INT(delta_find_source(d, "LOANS", id),
                  base->record_count + (uint32_t)i);
    }
    CHECK_INT(delta_find_source(d, "LOANS", "A-2000"), DELTA_NONE);
    CHECK_INT(delta_find_source(d, "CORE", "A-1"), DELTA_NONE);
    const struct delta_record *r =
        delta_record_at(d, base->record_count + 1234);
    CHECK_STR(r->strings + r->entry.source_id, "A-1234");
    delta_destroy(d);
}

static void test_delta_posting_chain_is_newest_first(void)
{
    struct store_delta *d = delta_create(base->record_count);
    ecif_record_t a = {.source_system = "W",
                       .source_id = "1",
                       .name = "Chen Jie",
                       .emails = {"cj@mail.cn"},
                       .n_emails = 1};
    ecif_record_t b = {.source_system = "W",
                       .source_id = "2",
                       .name = "Anna Berg",
                       .emails = {"cj@mail.cn"},
                       .n_emails = 1};
    ecif_record_t c = {.source_system = "W",
                       .source_id = "3",
                       .name = "Omar Haddad",
                       .emails = {"oh@mail.cn"},
                       .n_emails = 1};
    uint32_t ia = add(d, &a, NULL, 0), ib = add(d, &b, NULL, 0);
    add(d, &c, NULL, 0);

    /* The email key is the one key a and b share. */
    const struct delta_record *ra = delta_record_at(d, ia);
    const struct delta_record *rb = delta_record_at(d, ib);
    uint64_t shared = 0;
    int n_shared = 0;
    for (uint32_t k = 0; k < ra->key_count; k++) {
        if (has_key(rb, ra->keys[k])) {
            shared = ra->keys[k];
            n_shared++;
        }
    }
    CHECK_INT(n_shared, 1);
    uint32_t p = delta_key_first(d, shared);
    CHECK(p != DELTA_NONE);
    CHECK_INT(d->base_records + d->postings[p].record, ib);
    p = d->postings[p].next;
    CHECK(p != DELTA_NONE);
    CHECK_INT(d->base_records + d->postings[p].record, ia);
    CHECK_INT(d->postings[p].next, DELTA_NONE);
    CHECK_INT(delta_key_first(d, shared ^ 1), DELTA_NONE);
    delta_destroy(d);
}

static void test_delta_leaves_out_frequent_keys(void)
{
    ecif_record_t common = {.source_system = "W",
                            .source_id = "1",
                            .name = "Liu Yang",
                            .phones = {shared_phone},
                            .n_phones = 1};
    ecif_record_t rare = {.source_system = "W",
                          .source_id = "2",
                          .name = "Liu Yang",
                          .phones = {"13955556666"},
                          .n_phones = 1};
    struct delta_record *rc = delta_record_create(base, &common, NULL, 0);
    struct delta_record *rr = delta_record_create(base, &rare, NULL, 0);

    CHECK(rc != NULL);
    CHECK(rr != NULL);
    if (rc == NULL || rr == NULL) {
        delta_record_free(rc);
        delta_record_free(rr);
        return;
    }
    CHECK(has_key(rr, phone_key("13955556666")));
    CHECK(phone_key(shared_phone) == 0);
    /* The frequent phone is the only difference, so rc has one key fewer. */
    CHECK_INT(rc->key_count + 1, rr->key_count);
    delta_record_free(rc);
    delta_record_free(rr);
}

static void test_delta_store_view_serves_added_records(void)
{
    struct store_delta *d = delta_create(base->record_count);
    ecif_store_t view = *base;
    ecif_account_t accounts[3] = {
        {"L-1", "loan", "CNY", "BJ", 5000 * ECIF_AMOUNT_SCALE,
         1200 * ECIF_AMOUNT_SCALE},
        {"C-1", "credit_card", "CNY", "", 100 * ECIF_AMOUNT_SCALE,
         25 * ECIF_AMOUNT_SCALE},
        {"L-2", "loan", "CNY", "SH", 1000 * ECIF_AMOUNT_SCALE,
         800 * ECIF_AMOUNT_SCALE},
    };
    ecif_record_t rec = {.source_system = "LOANS",
                         .source_id = "APP-1",
                         .name = "Zhou Xun",
                         .id_type = "PASSPORT",
                         .id_number = "G1234567",
                         .dob = "1974-10-18",
                         .phones = {"+86 139 2222 3333", "n/a"},
                         .n_phones = 2};

    view.buffer = NULL;
    view.delta = d;
    d->overlay.view_customers = base->customer_count;
    struct delta_record *r = delta_record_create(base, &rec, accounts, 3);
    CHECK(r != NULL);
    uint32_t id = base->record_count;
    struct delta_customer *c = NULL;
    CHECK_INT(delta_customer_create(&view, base->customer_count,
                                    "C000000000099", &id, 1, r, &c),
              ECIF_OK);
    CHECK(c != NULL);
    CHECK_INT(delta_reserve(d, r->key_count, 1), ECIF_OK);
    r->customer = c->customer;
    CHECK_INT(delta_append(d, r), id);
    delta_overlay_put(d, c);

    ecif_record_t got;
    ecif_store_get_record(&view, id, &got);
    CHECK_STR(got.name, "Zhou Xun");
    CHECK_STR(got.id_number, "G1234567");
    CHECK_INT(got.n_phones, 1); /* the placeholder was dropped */
    uint32_t found = 0;
    CHECK_INT(ecif_store_find_record(&view, "LOANS", "APP-1", &found), ECIF_OK);
    CHECK_INT(found, id);
    CHECK_INT(ecif_store_find_record(base, "LOANS", "APP-1", &found),
              ECIF_ENOTFOUND);
    CHECK_INT(ecif_store_record_account_count(&view, id), 3);
    ecif_account_t acct;
    ecif_store_get_account(&view, id, 2, &acct);
    CHECK_STR(acct.account_id, "L-2");
    CHECK_STR(acct.branch, "SH");

    uint32_t customer = 0, count = 0;
    CHECK_INT(ecif_store_find_customer(&view, "C000000000099", &customer),
              ECIF_OK);
    CHECK_INT(customer, base->customer_count);
    CHECK_INT(ecif_store_record_customer(&view, id), customer);
    CHECK_STR(ecif_store_customer_number(&view, customer), "C000000000099");
    const uint32_t *members =
        ecif_store_customer_records(&view, customer, &count);
    CHECK_INT(count, 1);
    CHECK_INT(members[0], id);
    /* Totals per product and currency, in (product, currency) order. */
    CHECK_INT(ecif_store_customer_exposure_count(&view, customer), 2);
    ecif_exposure_total_t t;
    ecif_store_get_exposure(&view, customer, 0, &t);
    CHECK_STR(t.product, "credit_card");
    CHECK_INT(t.account_count, 1);
    ecif_store_get_exposure(&view, customer, 1, &t);
    CHECK_STR(t.product, "loan");
    CHECK_INT(t.account_count, 2);
    CHECK_INT(t.balance, 2000 * ECIF_AMOUNT_SCALE);
    CHECK_INT(t.credit_limit, 6000 * ECIF_AMOUNT_SCALE);

    /* Resolve finds the added record through the delta's keys. */
    ecif_record_t query = {
        .id_number = "G1234567", .name = "Zhou Xun", .dob = "1974-10-18"};
    ecif_candidate_t cands[4];
    size_t n = 0;
    CHECK_INT(ecif_resolve(&view, &query, cands, 4, &n), ECIF_OK);
    CHECK(n >= 1);
    if (n >= 1) {
        CHECK_INT(cands[0].customer, customer);
        CHECK_INT(cands[0].verdict, ECIF_MATCH);
        CHECK_INT(cands[0].matched[0], id);
    }
    CHECK_INT(ecif_resolve(base, &query, cands, 4, &n), ECIF_OK);
    CHECK_INT(n, 0);

    ecif_store_info_t info;
    ecif_store_get_info(&view, &info);
    CHECK_INT(info.record_count, base->record_count + 1);
    CHECK_INT(info.customer_count, base->customer_count + 1);
    delta_destroy(d);
}

static void test_delta_overlay_replaces_and_resets(void)
{
    struct store_delta *d = delta_create(base->record_count);
    ecif_store_t view = *base;
    uint32_t members[2] = {0, 1};

    view.buffer = NULL;
    view.delta = d;
    d->overlay.view_customers = base->customer_count;
    CHECK_INT(delta_reserve(d, 0, 2), ECIF_OK);
    struct delta_customer *one = NULL, *two = NULL;
    CHECK_INT(delta_customer_create(&view, 0, "C000000000001", members, 1, NULL,
                                    &one),
              ECIF_OK);
    CHECK_INT(delta_customer_create(&view, 0, "C000000000001", members, 2, NULL,
                                    &two),
              ECIF_OK);
    if (one == NULL || two == NULL) {
        delta_customer_free(one);
        delta_customer_free(two);
        delta_destroy(d);
        return;
    }
    delta_overlay_put(d, one);
    delta_overlay_put(d, two);
    CHECK_INT(d->overlay.count, 1);
    CHECK_INT(d->overlay.new_customers, 0);
    uint32_t count = 0;
    ecif_store_customer_records(&view, 0, &count);
    CHECK_INT(count, 2);

    struct delta_overlay next;
    CHECK_INT(delta_overlay_init(&next, NULL, 0, base->customer_count),
              ECIF_OK);
    delta_overlay_swap(d, &next);
    CHECK_INT(d->overlay.count, 0);
    CHECK(delta_overlay_find(d, 0) == NULL);
    ecif_store_customer_records(&view, 0, &count);
    CHECK_INT(count, base->customers[0].member_count);
    delta_destroy(d);
}

/* An exposure total past the int64 range is ECIF_ELIMIT, not a wrong sum. */
static void test_delta_overlay_rejects_overflow(void)
{
    static ecif_account_t accounts[DELTA_MAX_ACCOUNTS];
    static char ids[DELTA_MAX_ACCOUNTS][16];
    struct store_delta *d = delta_create(base->record_count);
    ecif_store_t view = *base;
    uint32_t members[4];

    view.buffer = NULL;
    view.delta = d;
    d->overlay.view_customers = base->customer_count;
    for (uint32_t a = 0; a < DELTA_MAX_ACCOUNTS; a++) {
        snprintf(ids[a], sizeof(ids[a]), "L-%u", a);
        accounts[a] =
            (ecif_account_t){ids[a], "loan", "CNY", "", ECIF_AMOUNT_MAX, 0};
    }
    /* 4 * 256 accounts at ECIF_AMOUNT_MAX sum past INT64_MAX. */
    for (uint32_t i = 0; i < 4; i++) {
        char id[16];
        snprintf(id, sizeof(id), "big-%u", i);
        ecif_record_t rec = {
            .source_system = "W", .source_id = id, .name = "Qian Wei"};
        members[i] = add(d, &rec, accounts, DELTA_MAX_ACCOUNTS);
    }

    struct delta_customer *c = NULL;
    CHECK_INT(
        delta_customer_create(&view, 0, "C000000000001", members, 4, NULL, &c),
        ECIF_ELIMIT);
    CHECK(c == NULL);
    delta_customer_free(c);

    /* Three of them still fit: 768 accounts sum below INT64_MAX. */
    CHECK_INT(
        delta_customer_create(&view, 0, "C000000000001", members, 3, NULL, &c),
        ECIF_OK);
    CHECK(c != NULL);
    if (c != NULL) {
        CHECK_INT(c->exposure_count, 1);
        CHECK(c->exposure[0].credit_limit == 768 * ECIF_AMOUNT_MAX);
    }
    delta_customer_free(c);
    delta_destroy(d);
}

int main(void)
{
    store_init();
    RUN(test_delta_finds_records_by_source_key);
    RUN(test_delta_posting_chain_is_newest_first);
    RUN(test_delta_leaves_out_frequent_keys);
    RUN(test_delta_store_view_serves_added_records);
    RUN(test_delta_overlay_replaces_and_resets);
    RUN(test_delta_overlay_rejects_overflow);
    ecif_store_close(base);
    return unit_report();
}
