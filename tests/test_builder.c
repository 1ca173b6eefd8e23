/*
 * Unit tests of the builder: option and input checks, duplicate keys,
 * orphan accounts, clustering of records into customers, exposure totals,
 * and customer numbers that do not depend on insertion order.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "builder.h"
#include "status.h"
#include "store.h"
#include "unit.h"

static char scratch[512];

/* Creates an empty scratch directory for this program's files. */
static void scratch_init(void)
{
    const char *base = getenv("ECIF_TEST_TMPDIR");
    char cmd[600];

    snprintf(scratch, sizeof(scratch), "%s/test_builder.d",
             base != NULL ? base : "/tmp");
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", scratch);
    if (system(cmd) != 0 || mkdir(scratch, 0755) != 0) {
        perror(scratch);
        exit(1);
    }
}

static const char *scratch_path(const char *name)
{
    static char paths[4][600];
    static int next;
    char *p = paths[next++ % 4];
    snprintf(p, sizeof(paths[0]), "%s/%s", scratch, name);
    return p;
}

static bool contains(const char *haystack, const char *needle)
{
    bool found = strstr(haystack, needle) != NULL;
    if (!found)
        fprintf(stderr, "message \"%s\" lacks \"%s\"\n", haystack, needle);
    return found;
}

static ecif_builder_t *new_builder(void)
{
    ecif_builder_options_t opts;
    ecif_builder_t *b = NULL;
    char err[256];

    ecif_builder_options_default(&opts);
    if (ecif_builder_create(&opts, &b, err, sizeof(err)) != ECIF_OK) {
        fprintf(stderr, "builder: %s\n", err);
        exit(1);
    }
    return b;
}

/* Writes b to name in the scratch directory and opens the result. */
static ecif_store_t *write_and_open(ecif_builder_t *b, const char *name)
{
    const char *path = scratch_path(name);
    ecif_store_t *store = NULL;
    char err[512];

    if (ecif_builder_write(b, path, NULL, err, sizeof(err)) != ECIF_OK ||
        ecif_store_open(path, &store, err, sizeof(err)) != ECIF_OK) {
        fprintf(stderr, "%s: %s\n", name, err);
        return NULL;
    }
    return store;
}

static uint32_t customer_of(const ecif_store_t *store, const char *system,
                            const char *id)
{
    uint32_t record;

    if (ecif_store_find_record(store, system, id, &record) != ECIF_OK) {
        fprintf(stderr, "record '%s' '%s' not found\n", system, id);
        return UINT32_MAX;
    }
    return ecif_store_record_customer(store, record);
}

static void test_builder_rejects_bad_shard_counts(void)
{
    static const uint32_t bad[] = {0, 3, 6, 12, 4097, 8192, UINT32_MAX};
    static const uint32_t good[] = {1, 2, 16, 4096};
    ecif_builder_options_t opts;

    ecif_builder_options_default(&opts);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ecif_builder_t *b = (ecif_builder_t *)1;
        char err[256] = "";
        char count[16];
        opts.shard_count = bad[i];
        CHECK_INT(ecif_builder_create(&opts, &b, err, sizeof(err)),
                  ECIF_EINVAL);
        CHECK(b == NULL);
        snprintf(count, sizeof(count), "%u", bad[i]);
        CHECK(contains(err, count));
    }
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        ecif_builder_t *b = NULL;
        char err[256];
        opts.shard_count = good[i];
        CHECK_INT(ecif_builder_create(&opts, &b, err, sizeof(err)), ECIF_OK);
        CHECK(b != NULL);
        ecif_builder_destroy(b);
    }
}

static void test_builder_rejects_invalid_record(void)
{
    ecif_builder_t *b = new_builder();
    ecif_record_t rec = {.source_system = "core",
                         .source_id = "c-1",
                         .name = "Wei Zhang",
                         .dob = "not a date"};
    char err[256];

    CHECK_INT(ecif_builder_add_record(b, &rec, err, sizeof(err)), ECIF_EINVAL);
    CHECK(contains(err, "dob"));
    rec.dob = NULL;
    rec.source_id = NULL;
    CHECK_INT(ecif_builder_add_record(b, &rec, err, sizeof(err)), ECIF_EINVAL);
    CHECK(contains(err, "source_id"));
    ecif_builder_destroy(b);
}

static void test_builder_duplicate_source_key(void)
{
    ecif_builder_t *b = new_builder();
    ecif_record_t first = {.source_system = "core",
                           .source_id = "c-1",
                           .name = "Wei Zhang",
                           .dob = "1980-01-02"};
    ecif_record_t second = {.source_system = "core",
                            .source_id = "c-1",
                            .name = "Mary Smith",
                            .dob = "1970-05-06"};
    ecif_record_t other_system = second;
    char err[256];

    other_system.source_system = "cards";
    CHECK_INT(ecif_builder_add_record(b, &first, err, sizeof(err)), ECIF_OK);
    CHECK_INT(ecif_builder_add_record(b, &second, err, sizeof(err)),
              ECIF_EEXIST);
    CHECK(contains(err, "'c-1'"));
    CHECK(contains(err, "'core'"));
    CHECK_INT(ecif_builder_add_record(b, &other_system, err, sizeof(err)),
              ECIF_OK);

    ecif_store_t *store = write_and_open(b, "duplicate.snap");
    ecif_builder_destroy(b);
    CHECK(store != NULL);
    if (store == NULL)
        return;
    ecif_store_info_t info;
    uint32_t record;
    ecif_record_t kept;
    ecif_store_get_info(store, &info);
    CHECK_INT(info.record_count, 2);
    CHECK_INT(ecif_store_find_record(store, "core", "c-1", &record), ECIF_OK);
    ecif_store_get_record(store, record, &kept);
    CHECK_STR(kept.name, "Wei Zhang");
    CHECK_STR(kept.dob, "1980-01-02");
    ecif_store_close(store);
}

static void test_builder_duplicate_account_id(void)
{
    ecif_builder_t *b = new_builder();
    ecif_account_t acct = {"A-1", "loan", "CNY", NULL, 100, 50};
    char err[256];

    CHECK_INT(
        ecif_builder_add_account(b, "core", "c-1", &acct, err, sizeof(err)),
        ECIF_OK);
    /* Same id in the same source system, even for another record. */
    CHECK_INT(
        ecif_builder_add_account(b, "core", "c-2", &acct, err, sizeof(err)),
        ECIF_EEXIST);
    CHECK(contains(err, "'A-1'"));
    CHECK(contains(err, "'core'"));
    CHECK_INT(
        ecif_builder_add_account(b, "cards", "c-1", &acct, err, sizeof(err)),
        ECIF_OK);
    ecif_builder_destroy(b);
}

static void test_builder_rejects_invalid_account(void)
{
    ecif_builder_t *b = new_builder();
    ecif_account_t acct = {"A-1", "loan", "cny", NULL, 100, 50};
    char err[256];

    CHECK_INT(
        ecif_builder_add_account(b, "core", "c-1", &acct, err, sizeof(err)),
        ECIF_EINVAL);
    CHECK(contains(err, "currency"));
    acct.currency = "CNY";
    CHECK_INT(ecif_builder_add_account(b, "", "c-1", &acct, err, sizeof(err)),
              ECIF_EINVAL);
    CHECK(contains(err, "source_system"));
    CHECK_INT(
        ecif_builder_add_account(b, "core", NULL, &acct, err, sizeof(err)),
        ECIF_EINVAL);
    CHECK(contains(err, "source_id"));
    ecif_builder_destroy(b);
}

static void test_builder_orphan_account(void)
{
    ecif_builder_t *b = new_builder();
    ecif_record_t rec = {.source_system = "core",
                         .source_id = "c-1",
                         .name = "Wei Zhang",
                         .dob = "1980-01-02"};
    ecif_account_t owned = {"A-1", "loan", "CNY", NULL, 100, 50};
    ecif_account_t orphan = {"A-2", "loan", "CNY", NULL, 100, 50};
    const char *path = scratch_path("orphan.snap");
    struct stat st;
    char err[256];

    CHECK_INT(ecif_builder_add_record(b, &rec, err, sizeof(err)), ECIF_OK);
    CHECK_INT(
        ecif_builder_add_account(b, "core", "c-1", &owned, err, sizeof(err)),
        ECIF_OK);
    CHECK_INT(
        ecif_builder_add_account(b, "core", "c-9", &orphan, err, sizeof(err)),
        ECIF_OK);
    CHECK_INT(ecif_builder_write(b, path, NULL, err, sizeof(err)),
              ECIF_ENOTFOUND);
    CHECK(contains(err, "'A-2'"));
    CHECK(contains(err, "'c-9'"));
    CHECK(contains(err, "'core'"));
    CHECK(stat(path, &st) != 0);
    ecif_builder_destroy(b);
}

/* 1,000 accounts at the largest accepted balance exceed what an int64
 * total holds, so the write fails naming the customer, product and
 * currency, and leaves no file. */
static void test_builder_exposure_total_overflow(void)
{
    ecif_builder_t *b = new_builder();
    ecif_record_t rec = {.source_system = "core",
                         .source_id = "c-1",
                         .name = "Wei Zhang",
                         .dob = "1980-01-02"};
    const char *path = scratch_path("overflow.snap");
    struct stat st;
    char err[256], id[16];

    CHECK_INT(ecif_builder_add_record(b, &rec, err, sizeof(err)), ECIF_OK);
    for (int i = 0; i < 1000; i++) {
        ecif_account_t acct = {id, "loan", "CNY", NULL, 0, ECIF_AMOUNT_MAX};
        snprintf(id, sizeof(id), "L-%d", i);
        CHECK_INT(
            ecif_builder_add_account(b, "core", "c-1", &acct, err, sizeof(err)),
            ECIF_OK);
    }
    CHECK_INT(ecif_builder_write(b, path, NULL, err, sizeof(err)), ECIF_ELIMIT);
    CHECK(contains(err, "customer C000000000001"));
    CHECK(contains(err, "loan"));
    CHECK(contains(err, "CNY"));
    CHECK(stat(path, &st) != 0);
    ecif_builder_destroy(b);
}

static void test_builder_accounts_before_record(void)
{
    ecif_builder_t *b = new_builder();
    ecif_record_t rec = {.source_system = "core",
                         .source_id = "c-1",
                         .name = "Wei Zhang",
                         .dob = "1980-01-02"};
    ecif_account_t acct = {"A-1", "loan", "CNY", NULL, 100, 50};
    char err[256];

    CHECK_INT(
        ecif_builder_add_account(b, "core", "c-1", &acct, err, sizeof(err)),
        ECIF_OK);
    CHECK_INT(ecif_builder_add_record(b, &rec, err, sizeof(err)), ECIF_OK);
    ecif_store_t *store = write_and_open(b, "early-account.snap");
    ecif_builder_destroy(b);
    CHECK(store != NULL);
    if (store == NULL)
        return;
    uint32_t record;
    CHECK_INT(ecif_store_find_record(store, "core", "c-1", &record), ECIF_OK);
    CHECK_INT(ecif_store_record_account_count(store, record), 1);
    ecif_store_close(store);
}

static void test_builder_joins_one_person_two_systems(void)
{
    ecif_builder_t *b = new_builder();
    ecif_record_t core = {.source_system = "core",
                          .source_id = "c-1",
                          .given_name = "Wei",
                          .family_name = "Zhang",
                          .id_number = "110105198001020017",
                          .dob = "1980-01-02"};
    ecif_record_t cards = {.source_system = "cards",
                           .source_id = "k-9",
                           .given_name = "Wie",
                           .family_name = "Zhang",
                           .id_number = "110105-19800102-0017",
                           .dob = "02/01/1980"};
    char err[256];

    CHECK_INT(ecif_builder_add_record(b, &core, err, sizeof(err)), ECIF_OK);
    CHECK_INT(ecif_builder_add_record(b, &cards, err, sizeof(err)), ECIF_OK);
    ecif_store_t *store = write_and_open(b, "one-person.snap");
    ecif_builder_destroy(b);
    CHECK(store != NULL);
    if (store == NULL)
        return;
    ecif_store_info_t info;
    ecif_store_get_info(store, &info);
    CHECK_INT(info.customer_count, 1);
    CHECK_INT(customer_of(store, "core", "c-1"),
              customer_of(store, "cards", "k-9"));
    uint32_t count = 0;
    ecif_store_customer_records(store, 0, &count);
    CHECK_INT(count, 2);
    CHECK_STR(ecif_store_customer_number(store, 0), "C000000000001");
    ecif_store_close(store);
}

static void test_builder_keeps_different_people_apart(void)
{
    ecif_builder_t *b = new_builder();
    /* Namesakes born the same day, with different ID numbers. */
    ecif_record_t a = {.source_system = "core",
                       .source_id = "c-1",
                       .given_name = "Wei",
                       .family_name = "Zhang",
                       .id_number = "110105198001020017",
                       .dob = "1980-01-02"};
    ecif_record_t namesake = {.source_system = "cards",
                              .source_id = "k-1",
                              .given_name = "Wei",
                              .family_name = "Zhang",
                              .id_number = "320102198001020035",
                              .dob = "1980-01-02"};
    ecif_record_t stranger = {.source_system = "core",
                              .source_id = "c-2",
                              .given_name = "Mary",
                              .family_name = "Smith",
                              .phones = {"13900139000"},
                              .n_phones = 1,
                              .dob = "1975-07-08"};
    char err[256];

    CHECK_INT(ecif_builder_add_record(b, &a, err, sizeof(err)), ECIF_OK);
    CHECK_INT(ecif_builder_add_record(b, &namesake, err, sizeof(err)), ECIF_OK);
    CHECK_INT(ecif_builder_add_record(b, &stranger, err, sizeof(err)), ECIF_OK);
    ecif_store_t *store = write_and_open(b, "apart.snap");
    ecif_builder_destroy(b);
    CHECK(store != NULL);
    if (store == NULL)
        return;
    ecif_store_info_t info;
    ecif_store_get_info(store, &info);
    CHECK_INT(info.customer_count, 3);
    CHECK(customer_of(store, "core", "c-1") !=
          customer_of(store, "cards", "k-1"));
    CHECK(customer_of(store, "core", "c-1") !=
          customer_of(store, "core", "c-2"));
    ecif_store_close(store);
}

/* Accounts of the exposure test: two records of one person, one other. */
static const struct {
    const char *system;
    const char *id;
    ecif_account_t account;
} exposure_accounts[] = {
    {"core", "c-1", {"L-1", "loan", "CNY", NULL, 10000000, 2500000}},
    {"core", "c-1", {"L-2", "loan", "CNY", NULL, 5000000, 1234567}},
    {"cards", "k-1", {"K-1", "credit_card", "CNY", NULL, 2000000, -15000}},
    {"cards", "k-1", {"K-2", "credit_card", "USD", NULL, 300000, 99}},
    {"cards", "k-1", {"L-3", "loan", "CNY", NULL, 1, 1}},
    {"core", "c-1", {"D-1", "deposit", "CNY", NULL, 0, 88880000}},
    {"core", "c-2", {"L-9", "loan", "CNY", NULL, 7000000, 7000000}},
};

#define N_EXPOSURE_ACCOUNTS                                                    \
    (sizeof(exposure_accounts) / sizeof(exposure_accounts[0]))

static void test_builder_exposure_totals(void)
{
    ecif_builder_t *b = new_builder();
    ecif_record_t records[] = {
        {.source_system = "core",
         .source_id = "c-1",
         .given_name = "Wei",
         .family_name = "Zhang",
         .id_number = "110105198001020017",
         .dob = "1980-01-02"},
        {.source_system = "cards",
         .source_id = "k-1",
         .name = "Zhang Wei",
         .id_number = "110105198001020017",
         .dob = "19800102"},
        {.source_system = "core",
         .source_id = "c-2",
         .given_name = "Mary",
         .family_name = "Smith",
         .id_number = "G12345678",
         .dob = "1975-07-08"},
    };
    char err[256];

    for (size_t i = 0; i < 3; i++)
        CHECK_INT(ecif_builder_add_record(b, &records[i], err, sizeof(err)),
                  ECIF_OK);
    for (size_t i = 0; i < N_EXPOSURE_ACCOUNTS; i++)
        CHECK_INT(ecif_builder_add_account(
                      b, exposure_accounts[i].system, exposure_accounts[i].id,
                      &exposure_accounts[i].account, err, sizeof(err)),
                  ECIF_OK);
    ecif_store_t *store = write_and_open(b, "exposure.snap");
    ecif_builder_destroy(b);
    CHECK(store != NULL);
    if (store == NULL)
        return;

    ecif_store_info_t info;
    ecif_store_get_info(store, &info);
    CHECK_INT(info.customer_count, 2);
    for (uint32_t c = 0; c < info.customer_count; c++) {
        uint32_t n = ecif_store_customer_exposure_count(store, c);
        ecif_exposure_total_t totals[16];
        CHECK(n <= 16);
        for (uint32_t t = 0; t < n && t < 16; t++)
            ecif_store_get_exposure(store, c, t, &totals[t]);
        uint32_t accounts_seen = 0;
        for (uint32_t t = 0; t < n; t++) {
            int64_t limit = 0, balance = 0;
            uint32_t count = 0;
            /* The hand sum over the input accounts of this customer. */
            for (size_t i = 0; i < N_EXPOSURE_ACCOUNTS; i++) {
                const ecif_account_t *a = &exposure_accounts[i].account;
                if (customer_of(store, exposure_accounts[i].system,
                                exposure_accounts[i].id) != c ||
                    strcmp(a->product, totals[t].product) != 0 ||
                    strcmp(a->currency, totals[t].currency) != 0)
                    continue;
                limit += a->credit_limit;
                balance += a->balance;
                count++;
            }
            CHECK(totals[t].credit_limit == limit);
            CHECK(totals[t].balance == balance);
            CHECK_INT(totals[t].account_count, count);
            CHECK(count > 0);
            accounts_seen += totals[t].account_count;
            if (t > 0) {
                int order = strcmp(totals[t - 1].product, totals[t].product);
                if (order == 0)
                    order = strcmp(totals[t - 1].currency, totals[t].currency);
                CHECK(order < 0);
            }
        }
        /* Every account of the customer is in exactly one total. */
        uint32_t expected_accounts = 0;
        for (size_t i = 0; i < N_EXPOSURE_ACCOUNTS; i++)
            expected_accounts += customer_of(store, exposure_accounts[i].system,
                                             exposure_accounts[i].id) == c;
        CHECK_INT(accounts_seen, expected_accounts);
    }
    uint32_t zhang = customer_of(store, "core", "c-1");
    uint32_t n = ecif_store_customer_exposure_count(store, zhang);
    CHECK_INT(n, 4); /* credit_card CNY, credit_card USD, deposit, loan */
    ecif_store_close(store);
}

/* People of the ordering test; each gives one to three records. */
#define N_PEOPLE 24

static const char *const family_names[] = {"Zhang",  "Wang",  "Li",    "Chen",
                                           "Garcia", "Smith", "Novak", "Okafor",
                                           "Tanaka", "Dubois"};
static const char *const given_names[] = {"Wei", "Mary", "Jun", "Ana", "Tom"};

typedef struct person_records {
    ecif_record_t records[3];
    size_t count;
} person_records_t;

/* Fills the records of one person from 1 to 3 sources, with typos and
 * reformatted values, joined by ID number or by phone, name and dob. */
static void make_person(int p, char text[][64], person_records_t *out)
{
    const char *family = family_names[p % 10];
    const char *given = given_names[p / 10 + (p % 3)];
    ecif_record_t *r = out->records;

    snprintf(text[0], 64, "3201021970%02d%02d%04d", 1 + p % 12, 1 + p % 28,
             1000 + p * 7);
    snprintf(text[1], 64, "1970-%02d-%02d", 1 + p % 12, 1 + p % 28);
    snprintf(text[2], 64, "1390000%04d", 100 + p);
    snprintf(text[3], 64, "p%d", p);
    snprintf(text[4], 64, "%s %s", family, given);
    snprintf(text[5], 64, "%02d/%02d/1970", 1 + p % 28, 1 + p % 12);
    snprintf(text[6], 64, "%sx", given); /* a typo */
    snprintf(text[7], 64, "+86 139 0000 %04d", 100 + p);

    memset(out, 0, sizeof(*out));
    r[0].source_system = "core";
    r[0].source_id = text[3];
    r[0].given_name = given;
    r[0].family_name = family;
    r[0].id_number = text[0];
    r[0].dob = text[1];
    r[0].phones[0] = text[2];
    r[0].n_phones = 1;
    out->count = 1;
    if (p % 3 != 2) {
        r[1].source_system = "cards";
        r[1].source_id = text[3];
        r[1].name = text[4];
        r[1].id_number = text[0];
        r[1].dob = text[5];
        out->count = 2;
    }
    if (p % 2 == 0) {
        r[out->count].source_system = "loans";
        r[out->count].source_id = text[3];
        r[out->count].given_name = text[6];
        r[out->count].family_name = family;
        r[out->count].phones[0] = text[7];
        r[out->count].n_phones = 1;
        r[out->count].dob = text[1];
        out->count++;
    }
}

typedef struct record_ref {
    const ecif_record_t *rec;
} record_ref_t;

/* Builds the given records in the given order and opens the store. */
static ecif_store_t *build_in_order(record_ref_t *refs, size_t n,
                                    const char *name)
{
    ecif_builder_t *b = new_builder();
    char err[256];

    for (size_t i = 0; i < n; i++) {
        if (ecif_builder_add_record(b, refs[i].rec, err, sizeof(err)) !=
            ECIF_OK) {
            fprintf(stderr, "record %zu: %s\n", i, err);
            CHECK(false);
        }
    }
    ecif_store_t *store = write_and_open(b, name);
    ecif_builder_destroy(b);
    return store;
}

/* Formats a customer's members as "system/id,system/id,..." in order. */
static void members_text(const ecif_store_t *store, uint32_t customer,
                         char *out, size_t outlen)
{
    uint32_t n = 0;
    const uint32_t *ids = ecif_store_customer_records(store, customer, &n);
    size_t len = 0;

    out[0] = '\0';
    for (uint32_t i = 0; i < n && len < outlen; i++) {
        ecif_record_t rec;
        ecif_store_get_record(store, ids[i], &rec);
        len += (size_t)snprintf(out + len, outlen - len, "%s/%s,",
                                rec.source_system, rec.source_id);
    }
}

static void test_builder_order_independent(void)
{
    static person_records_t people[N_PEOPLE];
    static char text[N_PEOPLE][8][64];
    record_ref_t refs[N_PEOPLE * 3];
    size_t n = 0;

    for (int p = 0; p < N_PEOPLE; p++) {
        make_person(p, text[p], &people[p]);
        for (size_t i = 0; i < people[p].count; i++)
            refs[n++].rec = &people[p].records[i];
    }
    CHECK(n >= 50);

    ecif_store_t *reference = build_in_order(refs, n, "order-0.snap");
    CHECK(reference != NULL);
    if (reference == NULL)
        return;
    ecif_store_info_t info;
    ecif_store_get_info(reference, &info);
    CHECK_INT(info.record_count, n);
    CHECK_INT(info.customer_count, N_PEOPLE);

    srand(12345);
    for (int round = 1; round <= 3; round++) {
        char name[32];
        for (size_t i = n - 1; i > 0; i--) {
            size_t j = (size_t)rand() % (i + 1);
            record_ref_t t = refs[i];
            refs[i] = refs[j];
            refs[j] = t;
        }
        snprintf(name, sizeof(name), "order-%d.snap", round);
        ecif_store_t *shuffled = build_in_order(refs, n, name);
        CHECK(shuffled != NULL);
        if (shuffled == NULL)
            continue;
        ecif_store_info_t other;
        ecif_store_get_info(shuffled, &other);
        CHECK_INT(other.customer_count, info.customer_count);
        for (uint32_t c = 0; c < info.customer_count; c++) {
            const char *number = ecif_store_customer_number(reference, c);
            uint32_t same = UINT32_MAX;
            char want[1024], got[1024];
            CHECK_INT(ecif_store_find_customer(shuffled, number, &same),
                      ECIF_OK);
            if (same == UINT32_MAX)
                continue;
            members_text(reference, c, want, sizeof(want));
            members_text(shuffled, same, got, sizeof(got));
            CHECK_STR(got, want);
        }
        ecif_store_close(shuffled);
    }
    ecif_store_close(reference);
}

static char *read_whole(const char *path, size_t *size)
{
    FILE *fp = fopen(path, "rb");
    char *data = NULL;
    long len;

    *size = 0;
    if (fp == NULL)
        return NULL;
    if (fseek(fp, 0, SEEK_END) == 0 && (len = ftell(fp)) >= 0) {
        rewind(fp);
        data = malloc((size_t)len + 1);
        if (data != NULL && fread(data, 1, (size_t)len, fp) == (size_t)len)
            *size = (size_t)len;
    }
    fclose(fp);
    return data;
}

static void test_builder_write_twice_identical(void)
{
    ecif_builder_t *b = new_builder();
    ecif_record_t rec = {.source_system = "core",
                         .source_id = "c-1",
                         .name = "Wei Zhang",
                         .phones = {"13975318642"},
                         .n_phones = 1,
                         .dob = "1980-01-02"};
    ecif_account_t acct = {"A-1", "loan", "CNY", NULL, 100, 50};
    const char *first = scratch_path("twice-1.snap");
    const char *second = scratch_path("twice-2.snap");
    size_t first_size, second_size;
    char err[256];

    CHECK_INT(ecif_builder_add_record(b, &rec, err, sizeof(err)), ECIF_OK);
    CHECK_INT(
        ecif_builder_add_account(b, "core", "c-1", &acct, err, sizeof(err)),
        ECIF_OK);
    CHECK_INT(ecif_builder_write(b, first, NULL, err, sizeof(err)), ECIF_OK);
    CHECK_INT(ecif_builder_write(b, second, NULL, err, sizeof(err)), ECIF_OK);
    ecif_builder_destroy(b);

    char *a = read_whole(first, &first_size);
    char *c = read_whole(second, &second_size);
    CHECK(a != NULL);
    CHECK(c != NULL);
    CHECK_INT(second_size, first_size);
    if (a != NULL && c != NULL && first_size == second_size)
        CHECK(memcmp(a, c, first_size) == 0);
    free(a);
    free(c);
}

int main(void)
{
    scratch_init();
    RUN(test_builder_rejects_bad_shard_counts);
    RUN(test_builder_rejects_invalid_record);
    RUN(test_builder_duplicate_source_key);
    RUN(test_builder_duplicate_account_id);
    RUN(test_builder_rejects_invalid_account);
    RUN(test_builder_orphan_account);
    RUN(test_builder_accounts_before_record);
    RUN(test_builder_joins_one_person_two_systems);
    RUN(test_builder_keeps_different_people_apart);
    RUN(test_builder_exposure_totals);
    RUN(test_builder_order_independent);
    RUN(test_builder_write_twice_identical);
    RUN(test_builder_exposure_total_overflow);
    return unit_report();
}
