/*
 * Unit tests of survivorship: each rule of the cascade (verified resident
 * ID, source trust, most recent record, most common value, first record), the
 * union of multi-valued fields with its sources and cap, phones and emails
 * merged across written forms, the resident-ID check and the trust-order
 * parser. Every store is built from records through the builder and opened from
 * a snapshot in the test's scratch directory.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "builder.h"
#include "cn_id.h"
#include "status.h"
#include "store.h"
#include "survivorship.h"
#include "unit.h"

static char scratch[512];

static void scratch_init(void)
{
    const char *base = getenv("ECIF_TEST_TMPDIR");
    char cmd[600];

    snprintf(scratch, sizeof(scratch), "%s/test_survivorship.d",
             base != NULL ? base : "/tmp");
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", scratch);
    if (system(cmd) != 0 || mkdir(scratch, 0755) != 0) {
        perror(scratch);
        exit(1);
    }
}

/* A valid 18-character resident ID of a person born on 1990-03-07. */
static char valid_id[CN_ID_SIZE];

static void valid_id_init(void)
{
    memcpy(valid_id, "11010119900307123", 17);
    valid_id[17] = cn_id_check_char(valid_id);
    valid_id[18] = '\0';
}

/* Builds a store of records and opens it; NULL after printing why. */
static ecif_store_t *build_store(const char *name, const ecif_record_t *recs,
                                 size_t count)
{
    ecif_builder_options_t opts;
    ecif_builder_t *b = NULL;
    ecif_store_t *store = NULL;
    char path[700];
    char err[512];

    ecif_builder_options_default(&opts);
    if (ecif_builder_create(&opts, &b, err, sizeof(err)) != ECIF_OK) {
        fprintf(stderr, "builder: %s\n", err);
        return NULL;
    }
    for (size_t i = 0; i < count; i++) {
        if (ecif_builder_add_record(b, &recs[i], err, sizeof(err)) != ECIF_OK) {
            fprintf(stderr, "%s: record %zu: %s\n", name, i, err);
            ecif_builder_destroy(b);
            return NULL;
        }
    }
    snprintf(path, sizeof(path), "%s/%s.snap", scratch, name);
    if (ecif_builder_write(b, path, NULL, err, sizeof(err)) != ECIF_OK ||
        ecif_store_open(path, &store, err, sizeof(err)) != ECIF_OK) {
        fprintf(stderr, "%s: %s\n", name, err);
        store = NULL;
    }
    ecif_builder_destroy(b);
    return store;
}

/* Returns the customer of the first record; checks all share it. */
static uint32_t single_customer(const ecif_store_t *store,
                                const ecif_record_t *recs, size_t count)
{
    uint32_t first = UINT32_MAX;
    for (size_t i = 0; i < count; i++) {
        uint32_t record;
        CHECK_INT(ecif_store_find_record(store, recs[i].source_system,
                                         recs[i].source_id, &record),
                  ECIF_OK);
        uint32_t customer = ecif_store_record_customer(store, record);
        if (i == 0)
            first = customer;
        CHECK_INT(customer, first);
    }
    return first;
}

/* Returns "system/id" of a record, in one of four rotating buffers. */
static const char *source_of(const ecif_store_t *store, uint32_t record)
{
    static char bufs[4][128];
    static int next;
    char *buf = bufs[next++ % 4];
    ecif_record_t rec;
    ecif_store_get_record(store, record, &rec);
    snprintf(buf, sizeof(bufs[0]), "%s/%s", rec.source_system, rec.source_id);
    return buf;
}

static ecif_record_t person(const char *system, const char *id,
                            const char *name)
{
    ecif_record_t r = {0};
    r.source_system = system;
    r.source_id = id;
    r.name = name;
    r.phones[0] = "+86 139 7531 8642";
    r.n_phones = 1;
    r.emails[0] = "li.wei@example.com";
    r.n_emails = 1;
    r.dob = "1990-03-07";
    return r;
}

static void test_verified_id_beats_trusted_source(void)
{
    ecif_record_t recs[2] = {
        person("core", "1", "Li Wai"),
        person("card", "1", "Li Wei"),
    };
    recs[1].id_type = "RESIDENT_ID";
    recs[1].id_number = valid_id;
    ecif_store_t *store = build_store("verified", recs, 2);
    CHECK(store != NULL);
    if (store == NULL)
        return;
    uint32_t customer = single_customer(store, recs, 2);

    const char *trusted[] = {"core", "card"};
    ecif_golden_options_t opts = {trusted, 2};
    ecif_golden_record_t g;
    CHECK_INT(ecif_golden_build(store, customer, &opts, &g), ECIF_OK);
    CHECK_STR(g.fields[ECIF_GOLDEN_NAME].value, "Li Wei");
    CHECK_STR(source_of(store, g.fields[ECIF_GOLDEN_NAME].record), "card/1");
    CHECK_STR(ecif_golden_rule_str(g.fields[ECIF_GOLDEN_NAME].rule),
              "verified_id");
    /* The ID has one holder, so no rule was needed. */
    CHECK_STR(g.fields[ECIF_GOLDEN_ID_NUMBER].value, valid_id);
    CHECK_STR(g.fields[ECIF_GOLDEN_ID_TYPE].value, "RESIDENT_ID");
    CHECK_INT(g.fields[ECIF_GOLDEN_ID_NUMBER].rule, ECIF_GOLDEN_RULE_UNANIMOUS);
    ecif_store_close(store);
}

static void test_unverified_id_leaves_trust_order(void)
{
    /* The ID's birth date disagrees with the record's dob. */
    ecif_record_t recs[2] = {
        person("core", "1", "Li Wai"),
        person("card", "1", "Li Wei"),
    };
    recs[1].id_type = "RESIDENT_ID";
    recs[1].id_number = valid_id;
    recs[1].dob = "1990-03-08";
    ecif_store_t *store = build_store("unverified", recs, 2);
    CHECK(store != NULL);
    if (store == NULL)
        return;
    uint32_t customer = single_customer(store, recs, 2);

    const char *trusted[] = {"core"};
    ecif_golden_options_t opts = {trusted, 1};
    ecif_golden_record_t g;
    CHECK_INT(ecif_golden_build(store, customer, &opts, &g), ECIF_OK);
    CHECK_STR(g.fields[ECIF_GOLDEN_NAME].value, "Li Wai");
    CHECK_STR(source_of(store, g.fields[ECIF_GOLDEN_NAME].record), "core/1");
    CHECK_INT(g.fields[ECIF_GOLDEN_NAME].rule, ECIF_GOLDEN_RULE_SOURCE_TRUST);
    ecif_store_close(store);
}

/* Three records: one "Zhang Min" in core, "Zhang Ming" in card and web. */
static ecif_store_t *zhang_store(const char *name, ecif_record_t recs[3])
{
    recs[0] = person("core", "2", "Zhang Min");
    recs[1] = person("card", "2", "Zhang Ming");
    recs[2] = person("web", "2", "Zhang Ming");
    recs[0].gender = "F";
    recs[2].gender = "M";
    return build_store(name, recs, 3);
}

static void test_dob_spellings_are_one_value(void)
{
    ecif_record_t recs[3];
    recs[0] = person("core", "7", "Wu Lan");
    recs[1] = person("card", "7", "Wu Lan");
    recs[2] = person("web", "7", "Wu Lan");
    recs[0].dob = "19601231";
    recs[1].dob = "31/12/1960";
    recs[2].dob = "1960-12-31";
    ecif_store_t *store = build_store("dob_forms", recs, 3);
    CHECK(store != NULL);
    if (store == NULL)
        return;
    uint32_t customer = single_customer(store, recs, 3);

    ecif_golden_record_t g;
    CHECK_INT(ecif_golden_build(store, customer, NULL, &g), ECIF_OK);
    CHECK_STR(g.fields[ECIF_GOLDEN_DOB].value, "1960-12-31");
    CHECK_INT(g.fields[ECIF_GOLDEN_DOB].rule, ECIF_GOLDEN_RULE_UNANIMOUS);
    ecif_store_close(store);
}

static void test_complete_name_beats_part(void)
{
    ecif_record_t recs[2];
    recs[0] = person("dup", "9", NULL);
    recs[1] = person("org", "9", NULL);
    recs[0].family_name = "graue";
    recs[1].given_name = "william";
    recs[1].family_name = "graue";
    recs[0].id_number = "E12345678";
    recs[1].id_type = "PASSPORT";
    recs[1].id_number = "E12345678";
    ecif_store_t *store = build_store("complete", recs, 2);
    CHECK(store != NULL);
    if (store == NULL)
        return;
    uint32_t customer = single_customer(store, recs, 2);

    ecif_golden_record_t g;
    CHECK_INT(ecif_golden_build(store, customer, NULL, &g), ECIF_OK);
    CHECK_STR(g.fields[ECIF_GOLDEN_GIVEN_NAME].value, "william");
    CHECK_STR(g.fields[ECIF_GOLDEN_FAMILY_NAME].value, "graue");
    CHECK_INT(g.fields[ECIF_GOLDEN_FAMILY_NAME].rule,
              ECIF_GOLDEN_RULE_MOST_COMPLETE);
    CHECK_STR(ecif_golden_rule_str(ECIF_GOLDEN_RULE_MOST_COMPLETE),
              "most_complete");
    /* Both numbers agree; the source is the record that also has the
     * type, so the type is not lost. */
    CHECK_INT(g.fields[ECIF_GOLDEN_ID_NUMBER].rule, ECIF_GOLDEN_RULE_UNANIMOUS);
    CHECK_STR(g.fields[ECIF_GOLDEN_ID_TYPE].value, "PASSPORT");
    CHECK_STR(source_of(store, g.fields[ECIF_GOLDEN_ID_NUMBER].record),
              "org/9");
    ecif_store_close(store);
}

static void test_more_name_words_win(void)
{
    ecif_record_t recs[2];
    recs[0] = person("a", "3", "Okonkwo");
    recs[1] = person("b", "3", "Adaeze Okonkwo");
    ecif_store_t *store = build_store("words", recs, 2);
    CHECK(store != NULL);
    if (store == NULL)
        return;
    uint32_t customer = single_customer(store, recs, 2);

    ecif_golden_record_t g;
    CHECK_INT(ecif_golden_build(store, customer, NULL, &g), ECIF_OK);
    CHECK_STR(g.fields[ECIF_GOLDEN_NAME].value, "Adaeze Okonkwo");
    CHECK_INT(g.fields[ECIF_GOLDEN_NAME].rule, ECIF_GOLDEN_RULE_MOST_COMPLETE);
    ecif_store_close(store);
}

static void test_trust_order_beats_most_common(void)
{
    ecif_record_t recs[3];
    ecif_store_t *store = zhang_store("trust", recs);
    CHECK(store != NULL);
    if (store == NULL)
        return;
    uint32_t customer = single_customer(store, recs, 3);

    const char *trusted[] = {"core", "card"};
    ecif_golden_options_t opts = {trusted, 2};
    ecif_golden_record_t g;
    CHECK_INT(ecif_golden_build(store, customer, &opts, &g), ECIF_OK);
    CHECK_STR(g.fields[ECIF_GOLDEN_NAME].value, "Zhang Min");
    CHECK_INT(g.fields[ECIF_GOLDEN_NAME].rule, ECIF_GOLDEN_RULE_SOURCE_TRUST);

    /* The order matters: card first picks card's value. */
    const char *reversed[] = {"card", "core"};
    opts.trusted_sources = reversed;
    CHECK_INT(ecif_golden_build(store, customer, &opts, &g), ECIF_OK);
    CHECK_STR(g.fields[ECIF_GOLDEN_NAME].value, "Zhang Ming");
    CHECK_STR(source_of(store, g.fields[ECIF_GOLDEN_NAME].record), "card/2");
    CHECK_INT(g.fields[ECIF_GOLDEN_NAME].rule, ECIF_GOLDEN_RULE_SOURCE_TRUST);
    ecif_store_close(store);
}

static void test_most_common_without_trust(void)
{
    ecif_record_t recs[3];
    ecif_store_t *store = zhang_store("common", recs);
    CHECK(store != NULL);
    if (store == NULL)
        return;
    uint32_t customer = single_customer(store, recs, 3);

    ecif_golden_record_t g;
    CHECK_INT(ecif_golden_build(store, customer, NULL, &g), ECIF_OK);
    CHECK_STR(g.fields[ECIF_GOLDEN_NAME].value, "Zhang Ming");
    CHECK_INT(g.fields[ECIF_GOLDEN_NAME].rule, ECIF_GOLDEN_RULE_MOST_COMMON);
    /* card/2 precedes web/2 in store order. */
    CHECK_STR(source_of(store, g.fields[ECIF_GOLDEN_NAME].record), "card/2");

    /* A trust order naming no member's source changes nothing. */
    const char *trusted[] = {"branch"};
    ecif_golden_options_t opts = {trusted, 1};
    CHECK_INT(ecif_golden_build(store, customer, &opts, &g), ECIF_OK);
    CHECK_STR(g.fields[ECIF_GOLDEN_NAME].value, "Zhang Ming");
    CHECK_INT(g.fields[ECIF_GOLDEN_NAME].rule, ECIF_GOLDEN_RULE_MOST_COMMON);
    ecif_store_close(store);
}

/* The most recent record's name beats the most common one, and trust
 * beats recency. A record without an update time counts as oldest. */
static void test_most_recent_after_trust(void)
{
    ecif_record_t recs[3];
    recs[0] = person("core", "5", "Zhang Min");
    recs[1] = person("card", "5", "Zhang Ming");
    recs[2] = person("web", "5", "Zhang Ming");
    recs[0].updated_at = 1709281815; /* 2024-03-01 */
    recs[1].updated_at = 1577836800; /* 2020-01-01 */
    recs[0].gender = "F";
    recs[2].gender = "M";
    ecif_store_t *store = build_store("recent", recs, 3);
    CHECK(store != NULL);
    if (store == NULL)
        return;
    uint32_t customer = single_customer(store, recs, 3);

    ecif_golden_record_t g;
    CHECK_INT(ecif_golden_build(store, customer, NULL, &g), ECIF_OK);
    CHECK_STR(g.fields[ECIF_GOLDEN_NAME].value, "Zhang Min");
    CHECK_INT(g.fields[ECIF_GOLDEN_NAME].rule, ECIF_GOLDEN_RULE_MOST_RECENT);
    CHECK_STR(source_of(store, g.fields[ECIF_GOLDEN_NAME].record), "core/5");
    /* web/5 has no time, so core/5's gender is the most recent. */
    CHECK_STR(g.fields[ECIF_GOLDEN_GENDER].value, "F");
    CHECK_INT(g.fields[ECIF_GOLDEN_GENDER].rule, ECIF_GOLDEN_RULE_MOST_RECENT);
    /* The dob is unanimous; its source is the most recent record. */
    CHECK_INT(g.fields[ECIF_GOLDEN_DOB].rule, ECIF_GOLDEN_RULE_UNANIMOUS);
    CHECK_STR(source_of(store, g.fields[ECIF_GOLDEN_DOB].record), "core/5");
    CHECK_STR(ecif_golden_rule_str(ECIF_GOLDEN_RULE_MOST_RECENT),
              "most_recent");

    const char *trusted[] = {"card"};
    ecif_golden_options_t opts = {trusted, 1};
    CHECK_INT(ecif_golden_build(store, customer, &opts, &g), ECIF_OK);
    CHECK_STR(g.fields[ECIF_GOLDEN_NAME].value, "Zhang Ming");
    CHECK_INT(g.fields[ECIF_GOLDEN_NAME].rule, ECIF_GOLDEN_RULE_SOURCE_TRUST);
    ecif_store_close(store);
}

static void test_tie_takes_first_record(void)
{
    /* Gender: F in core/2, M in web/2, missing in card/2. */
    ecif_record_t recs[3];
    ecif_store_t *store = zhang_store("tie", recs);
    CHECK(store != NULL);
    if (store == NULL)
        return;
    uint32_t customer = single_customer(store, recs, 3);

    ecif_golden_record_t g;
    CHECK_INT(ecif_golden_build(store, customer, NULL, &g), ECIF_OK);
    CHECK_STR(g.fields[ECIF_GOLDEN_GENDER].value, "F");
    CHECK_STR(source_of(store, g.fields[ECIF_GOLDEN_GENDER].record), "core/2");
    CHECK_INT(g.fields[ECIF_GOLDEN_GENDER].rule, ECIF_GOLDEN_RULE_FIRST);

    /* Trust breaks the tie the other way. */
    const char *trusted[] = {"web"};
    ecif_golden_options_t opts = {trusted, 1};
    CHECK_INT(ecif_golden_build(store, customer, &opts, &g), ECIF_OK);
    CHECK_STR(g.fields[ECIF_GOLDEN_GENDER].value, "M");
    CHECK_INT(g.fields[ECIF_GOLDEN_GENDER].rule, ECIF_GOLDEN_RULE_SOURCE_TRUST);
    ecif_store_close(store);
}

static void test_unanimous_and_missing_fields(void)
{
    ecif_record_t recs[3];
    ecif_store_t *store = zhang_store("unanimous", recs);
    CHECK(store != NULL);
    if (store == NULL)
        return;
    uint32_t customer = single_customer(store, recs, 3);

    const char *trusted[] = {"web"};
    ecif_golden_options_t opts = {trusted, 1};
    ecif_golden_record_t g;
    CHECK_INT(ecif_golden_build(store, customer, &opts, &g), ECIF_OK);
    CHECK_INT(g.member_count, 3);
    CHECK_STR(g.fields[ECIF_GOLDEN_DOB].value, "1990-03-07");
    CHECK_INT(g.fields[ECIF_GOLDEN_DOB].rule, ECIF_GOLDEN_RULE_UNANIMOUS);
    /* Among agreeing records the most trusted is the source. */
    CHECK_STR(source_of(store, g.fields[ECIF_GOLDEN_DOB].record), "web/2");
    CHECK_STR(g.fields[ECIF_GOLDEN_ID_NUMBER].value, "");
    CHECK_INT(g.fields[ECIF_GOLDEN_ID_NUMBER].rule, ECIF_GOLDEN_RULE_NONE);
    CHECK_STR(g.fields[ECIF_GOLDEN_GIVEN_NAME].value, "");
    ecif_store_close(store);
}

static void test_lists_are_union_with_sources(void)
{
    static const char *const phones[3][4] = {
        {"+86 139 7531 8642", "+86 10 6552 0001", "+86 10 6552 0002",
         "+86 10 6552 0003"},
        {"+86 139 7531 8642", "+86 10 6552 0011", "+86 10 6552 0012",
         "+86 10 6552 0013"},
        {"+86 139 7531 8642", "+86 10 6552 0021", "+86 10 6552 0022",
         "+86 10 6552 0023"},
    };
    ecif_record_t recs[3] = {
        person("core", "3", "Wang Fang"),
        person("card", "3", "Wang Fang"),
        person("web", "3", "Wang Fang"),
    };
    for (int r = 0; r < 3; r++) {
        for (int k = 0; k < 4; k++)
            recs[r].phones[k] = phones[r][k];
        recs[r].n_phones = 4;
    }
    recs[2].emails[1] = "fang@example.org";
    recs[2].n_emails = 2;
    ecif_store_t *store = build_store("lists", recs, 3);
    CHECK(store != NULL);
    if (store == NULL)
        return;
    uint32_t customer = single_customer(store, recs, 3);

    const char *trusted[] = {"web"};
    ecif_golden_options_t opts = {trusted, 1};
    ecif_golden_record_t g;
    CHECK_INT(ecif_golden_build(store, customer, &opts, &g), ECIF_OK);

    const ecif_golden_items_t *p = &g.lists[ECIF_GOLDEN_PHONES];
    CHECK_INT(p->distinct_count, 10);
    CHECK_INT(p->count, ECIF_MAX_VALUES);
    /* web's values lead: the shared phone (three sources), then its own. */
    CHECK_STR(p->items[0].value, "+86 139 7531 8642");
    CHECK_INT(p->items[0].source_count, 3);
    CHECK_INT(p->items[0].n_records, 3);
    CHECK_STR(source_of(store, p->items[0].records[0]), "web/3");
    CHECK_STR(source_of(store, p->items[0].records[1]), "card/3");
    CHECK_STR(source_of(store, p->items[0].records[2]), "core/3");
    CHECK_STR(p->items[1].value, "+86 10 6552 0021");
    CHECK_INT(p->items[1].source_count, 1);
    CHECK_STR(source_of(store, p->items[1].records[0]), "web/3");
    /* Then the untrusted values in store order: card/3 before core/3. */
    CHECK_STR(p->items[4].value, "+86 10 6552 0011");
    CHECK_STR(p->items[7].value, "+86 10 6552 0001");

    const ecif_golden_items_t *e = &g.lists[ECIF_GOLDEN_EMAILS];
    CHECK_INT(e->count, 2);
    CHECK_STR(e->items[0].value, "li.wei@example.com");
    CHECK_INT(e->items[0].source_count, 3);
    CHECK_STR(e->items[1].value, "fang@example.org");
    CHECK_INT(g.lists[ECIF_GOLDEN_ADDRESSES].count, 0);
    ecif_store_close(store);
}

static void test_lists_merge_written_forms(void)
{
    ecif_record_t recs[3] = {
        person("core", "4", "Zhou Min"),
        person("card", "4", "Zhou Min"),
        person("web", "4", "Zhou Min"),
    };
    recs[0].phones[0] = "13975318642";
    recs[1].phones[0] = "+86 139-7531-8642";
    recs[1].phones[1] = "010 6552 1234 转 12";
    recs[1].n_phones = 2;
    recs[2].phones[0] = "(+86) 13975318642";
    recs[2].phones[1] = "+86 10 6552 1234";
    recs[2].n_phones = 2;
    recs[0].emails[0] = "Zhou.Min@Example.COM";
    recs[1].emails[0] = "zhou.min@example.com";
    recs[2].emails[0] = "zhou.min+bank@example.com";
    recs[2].addresses[0] = "1 Chang'an Ave";
    recs[2].n_addresses = 1;
    recs[1].addresses[0] = "1 CHANG'AN AVE";
    recs[1].n_addresses = 1;
    ecif_store_t *store = build_store("forms", recs, 3);
    CHECK(store != NULL);
    if (store == NULL)
        return;
    uint32_t customer = single_customer(store, recs, 3);

    const char *trusted[] = {"card"};
    ecif_golden_options_t opts = {trusted, 1};
    ecif_golden_record_t g;
    CHECK_INT(ecif_golden_build(store, customer, &opts, &g), ECIF_OK);

    /* Three forms of one mobile are one value, shown as the trusted
     * source wrote it. A landline with an extension stays apart from the
     * same landline without one. */
    const ecif_golden_items_t *p = &g.lists[ECIF_GOLDEN_PHONES];
    CHECK_INT(p->distinct_count, 3);
    CHECK_STR(p->items[0].value, "+86 139-7531-8642");
    CHECK_INT(p->items[0].source_count, 3);
    CHECK_STR(p->items[1].value, "010 6552 1234 转 12");
    CHECK_INT(p->items[1].source_count, 1);
    CHECK_STR(p->items[2].value, "+86 10 6552 1234");

    /* Case folds, and a +tag stays a separate address. */
    const ecif_golden_items_t *e = &g.lists[ECIF_GOLDEN_EMAILS];
    CHECK_INT(e->distinct_count, 2);
    CHECK_STR(e->items[0].value, "zhou.min@example.com");
    CHECK_INT(e->items[0].source_count, 2);
    CHECK_STR(e->items[1].value, "zhou.min+bank@example.com");

    /* Addresses are still compared as written. */
    CHECK_INT(g.lists[ECIF_GOLDEN_ADDRESSES].distinct_count, 2);
    ecif_store_close(store);
}

static void test_id_verification(void)
{
    ecif_record_t r = {0};
    r.id_type = "RESIDENT_ID";
    r.id_number = valid_id;
    r.dob = "1990-03-07";
    CHECK(ecif_golden_id_verified(&r));

    r.dob = "07/03/1990";
    CHECK(ecif_golden_id_verified(&r));

    r.id_type = NULL; /* resident-ID shape without a type */
    CHECK(ecif_golden_id_verified(&r));

    r.id_type = "PASSPORT";
    CHECK(!ecif_golden_id_verified(&r));

    r.id_type = "RESIDENT_ID";
    r.dob = NULL;
    CHECK(!ecif_golden_id_verified(&r));

    r.dob = "1990-03-08";
    CHECK(!ecif_golden_id_verified(&r));

    char bad[CN_ID_SIZE];
    memcpy(bad, valid_id, sizeof(bad));
    bad[17] = bad[17] == '0' ? '1' : '0';
    r.id_number = bad;
    r.dob = "1990-03-07";
    CHECK(!ecif_golden_id_verified(&r));

    /* A 15-digit number has no check character to verify. */
    r.id_number = "110101900307123";
    r.dob = "1990-03-07";
    CHECK(!ecif_golden_id_verified(&r));
}

static void test_trust_order_parsing(void)
{
    const char *names[4];
    size_t count = 0;
    char err[128];

    char ok[] = "core_banking,loan,card";
    CHECK_INT(ecif_golden_parse_trust(ok, names, 4, &count, err, sizeof(err)),
              ECIF_OK);
    CHECK_INT(count, 3);
    CHECK_STR(names[0], "core_banking");
    CHECK_STR(names[2], "card");

    char empty[] = "core,,loan";
    CHECK_INT(
        ecif_golden_parse_trust(empty, names, 4, &count, err, sizeof(err)),
        ECIF_EINVAL);
    CHECK(strstr(err, "empty") != NULL);

    char many[] = "a,b,c,d,e";
    CHECK_INT(ecif_golden_parse_trust(many, names, 4, &count, err, sizeof(err)),
              ECIF_EINVAL);
    CHECK(strstr(err, "maximum 4") != NULL);
}

static void test_unknown_customer_rejected(void)
{
    ecif_record_t recs[1] = {person("core", "9", "Chen Jie")};
    ecif_store_t *store = build_store("unknown", recs, 1);
    CHECK(store != NULL);
    if (store == NULL)
        return;
    ecif_golden_record_t g;
    CHECK_INT(ecif_golden_build(store, 1, NULL, &g), ECIF_ENOTFOUND);
    CHECK_INT(g.member_count, 0);
    ecif_store_close(store);
}

int main(void)
{
    scratch_init();
    valid_id_init();
    RUN(test_verified_id_beats_trusted_source);
    RUN(test_unverified_id_leaves_trust_order);
    RUN(test_trust_order_beats_most_common);
    RUN(test_dob_spellings_are_one_value);
    RUN(test_complete_name_beats_part);
    RUN(test_more_name_words_win);
    RUN(test_most_common_without_trust);
    RUN(test_most_recent_after_trust);
    RUN(test_tie_takes_first_record);
    RUN(test_unanimous_and_missing_fields);
    RUN(test_lists_are_union_with_sources);
    RUN(test_lists_merge_written_forms);
    RUN(test_id_verification);
    RUN(test_trust_order_parsing);
    RUN(test_unknown_customer_rejected);
    return unit_report();
}
