/*
 * Grouping records into customers at import: a record that matches two
 * customers who conflict must not chain them together, the grouping
 * must not depend on the order in which records arrive, and pairs join
 * at the model's clustering threshold, not at MATCH, and one pair does
 * not chain two people who score far apart on average.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "builder.h"
#include "gather.h"
#include "match.h"
#include "model.h"
#include "status.h"
#include "store.h"
#include "unit.h"

/* A father and son who share a home phone and address, and a record that
 * names neither suffix nor birth date, so it matches both. */
static const ecif_record_t family[] = {
    {.source_system = "core_banking",
     .source_id = "CB-1",
     .name = "Daniel R. Whitaker Sr.",
     .phones = {"+1-503-555-0142"},
     .n_phones = 1,
     .addresses = {"1420 NE Alder St, Portland, OR 97232"},
     .n_addresses = 1,
     .dob = "1958-11-02",
     .gender = "M"},
    {.source_system = "credit_card",
     .source_id = "CC-2",
     .name = "Daniel Whitaker Jr",
     .phones = {"+1-503-555-0142"},
     .n_phones = 1,
     .addresses = {"1420 NE Alder St, Portland, OR 97232"},
     .n_addresses = 1,
     .dob = "1986-05-19",
     .gender = "M"},
    {.source_system = "wealth",
     .source_id = "WM-3",
     .name = "Daniel Whitaker",
     .phones = {"+1-503-555-0142"},
     .n_phones = 1,
     .addresses = {"1420 NE Alder St, Portland, OR 97232"},
     .n_addresses = 1,
     .gender = "M"},
    /* Two records of one unrelated person. */
    {.source_system = "core_banking",
     .source_id = "CB-4",
     .name = "Anna Berg",
     .emails = {"anna.berg@mail.se"},
     .n_emails = 1,
     .dob = "1977-03-14"},
    {.source_system = "mobile",
     .source_id = "M-5",
     .name = "Anna Berg",
     .emails = {"anna.berg@mail.se"},
     .n_emails = 1,
     .dob = "1977-03-14"},
};

#define N_FAMILY (sizeof(family) / sizeof(family[0]))

static int bridges_seen;

static void count_bridge(void *arg, const char *sa, const char *ia,
                         const char *sb, const char *ib)
{
    (void)arg;
    (void)sa;
    (void)ia;
    (void)sb;
    (void)ib;
    bridges_seen++;
}

/* Builds a store from records[order[0..n)]. */
static ecif_store_t *build_list(const ecif_record_t *records, size_t n,
                                const size_t *order, ecif_build_stats_t *stats)
{
    const char *dir = getenv("ECIF_TEST_TMPDIR");
    char path[512], err[256];
    ecif_builder_options_t opts;
    ecif_builder_t *b;
    ecif_store_t *store = NULL;

    snprintf(path, sizeof(path), "%s/cluster.snap", dir ? dir : "/tmp");
    ecif_builder_options_default(&opts);
    opts.bridge = count_bridge;
    CHECK_INT(ecif_builder_create(&opts, &b, err, sizeof(err)), ECIF_OK);
    for (size_t i = 0; i < n; i++)
        CHECK_INT(
            ecif_builder_add_record(b, &records[order[i]], err, sizeof(err)),
            ECIF_OK);
    CHECK_INT(ecif_builder_write(b, path, stats, err, sizeof(err)), ECIF_OK);
    ecif_builder_destroy(b);
    CHECK_INT(ecif_store_open(path, &store, err, sizeof(err)), ECIF_OK);
    return store;
}

/* Builds a store from the family records in the given order. */
static ecif_store_t *build(const size_t *order, ecif_build_stats_t *stats)
{
    return build_list(family, N_FAMILY, order, stats);
}

static const char *customer_of(const ecif_store_t *s, size_t i)
{
    uint32_t record;
    if (ecif_store_find_record(s, family[i].source_system, family[i].source_id,
                               &record) != ECIF_OK)
        return "";
    return ecif_store_customer_number(s, ecif_store_record_customer(s, record));
}

static void test_bridge_keeps_father_and_son_apart(void)
{
    const size_t order[N_FAMILY] = {0, 1, 2, 3, 4};
    ecif_build_stats_t stats;
    ecif_store_t *s;

    bridges_seen = 0;
    s = build(order, &stats);
    if (s == NULL)
        return;
    CHECK(strcmp(customer_of(s, 0), customer_of(s, 1)) != 0);
    /* The bridge matches both about equally, so it joins neither, and
     * both of its pairs are reported. */
    CHECK(strcmp(customer_of(s, 2), customer_of(s, 0)) != 0);
    CHECK(strcmp(customer_of(s, 2), customer_of(s, 1)) != 0);
    CHECK_INT(stats.bridge_count, 2);
    CHECK_INT(bridges_seen, 2);
    CHECK_STR(customer_of(s, 3), customer_of(s, 4));
    CHECK_INT(stats.customer_count, 4);
    ecif_store_close(s);
}

/* A father and a son of one name, without suffixes, at one phone and
 * address, and a record there without a birth date. */
static const ecif_record_t household[] = {
    {.source_system = "core_banking",
     .source_id = "H-1",
     .name = "赵国强",
     .phones = {"13811229999"},
     .n_phones = 1,
     .addresses = {"北京市朝阳区建国路99号3单元502室"},
     .n_addresses = 1,
     .dob = "1958-03-04",
     .gender = "M"},
    {.source_system = "loans",
     .source_id = "H-2",
     .name = "赵国强",
     .phones = {"13811229999"},
     .n_phones = 1,
     .addresses = {"北京市朝阳区建国路99号3单元502室"},
     .n_addresses = 1,
     .dob = "1986-11-20",
     .gender = "M"},
    {.source_system = "wealth",
     .source_id = "H-3",
     .name = "赵国强",
     .phones = {"13811229999"},
     .n_phones = 1,
     .addresses = {"北京市朝阳区建国路99号3单元502室"},
     .gender = "M"},
};

static void test_generations_at_one_household_stay_apart(void)
{
    const size_t order[] = {0, 1, 2};
    ecif_build_stats_t stats;
    uint32_t father, son, other;

    bridges_seen = 0;
    ecif_store_t *s = build_list(household, 3, order, &stats);
    if (s == NULL)
        return;
    CHECK_INT(ecif_store_find_record(s, "core_banking", "H-1", &father),
              ECIF_OK);
    CHECK_INT(ecif_store_find_record(s, "loans", "H-2", &son), ECIF_OK);
    CHECK_INT(ecif_store_find_record(s, "wealth", "H-3", &other), ECIF_OK);
    CHECK(ecif_store_record_customer(s, father) !=
          ecif_store_record_customer(s, son));
    /* The record without a date matches both equally: it joins neither. */
    CHECK(ecif_store_record_customer(s, other) !=
          ecif_store_record_customer(s, father));
    CHECK(ecif_store_record_customer(s, other) !=
          ecif_store_record_customer(s, son));
    CHECK_INT(stats.customer_count, 3);
    CHECK_INT(stats.bridge_count, 2);
    ecif_store_close(s);
}

#define PHONE_AT_HOME "+86 139 1234 5678"
#define HOME          "88 Jianguo Road, Chaoyang, Beijing"

/*
 * A father and a son with one month and day, 1962 and 1992, each with
 * two identical records. The years are one digit apart, a common typo,
 * so the pair still scores MATCH; import must not join them, and each
 * record that matches both sides equally is left apart for review.
 */
static const ecif_record_t doubled[] = {
    {.source_system = "loans",
     .source_id = "D1",
     .name = "Peter Young",
     .phones = {PHONE_AT_HOME},
     .n_phones = 1,
     .addresses = {HOME},
     .n_addresses = 1,
     .dob = "1962-05-10"},
    {.source_system = "savings",
     .source_id = "D1b",
     .name = "Peter Young",
     .phones = {PHONE_AT_HOME},
     .n_phones = 1,
     .addresses = {HOME},
     .n_addresses = 1,
     .dob = "1962-05-10"},
    {.source_system = "loans",
     .source_id = "D2",
     .name = "Peter Young",
     .phones = {PHONE_AT_HOME},
     .n_phones = 1,
     .addresses = {HOME},
     .n_addresses = 1,
     .dob = "1992-05-10"},
    {.source_system = "savings",
     .source_id = "D2b",
     .name = "Peter Young",
     .phones = {PHONE_AT_HOME},
     .n_phones = 1,
     .addresses = {HOME},
     .n_addresses = 1,
     .dob = "1992-05-10"},
};

static void test_generation_pairs_never_join(void)
{
    const size_t order[] = {0, 1, 2, 3};
    ecif_build_stats_t stats;
    uint32_t r[4];

    ecif_store_t *s = build_list(doubled, 4, order, &stats);
    if (s == NULL)
        return;
    for (size_t i = 0; i < 4; i++)
        CHECK_INT(ecif_store_find_record(s, doubled[i].source_system,
                                         doubled[i].source_id, &r[i]),
                  ECIF_OK);
    for (size_t f = 0; f < 2; f++) {
        for (size_t c = 2; c < 4; c++)
            CHECK(ecif_store_record_customer(s, r[f]) !=
                  ecif_store_record_customer(s, r[c]));
    }
    CHECK(stats.bridge_count > 0);
    ecif_store_close(s);
}

static void test_grouping_ignores_input_order(void)
{
    static const size_t orders[][N_FAMILY] = {
        {0, 1, 2, 3, 4}, {4, 3, 2, 1, 0}, {2, 0, 4, 1, 3},
        {1, 2, 0, 4, 3}, {3, 2, 1, 0, 4},
    };
    char first[N_FAMILY][16];

    for (size_t o = 0; o < sizeof(orders) / sizeof(orders[0]); o++) {
        ecif_build_stats_t stats;
        ecif_store_t *s = build(orders[o], &stats);
        if (s == NULL)
            return;
        for (size_t i = 0; i < N_FAMILY; i++) {
            if (o == 0)
                snprintf(first[i], sizeof(first[i]), "%s", customer_of(s, i));
            else
                CHECK_STR(customer_of(s, i), first[i]);
        }
        ecif_store_close(s);
    }
}

/* One person: the same name, a one-digit slip in the birth date. */
static const ecif_record_t slipped[] = {
    {.source_system = "core_banking",
     .source_id = "CB-10",
     .name = "Marisol Quintero",
     .dob = "1980-04-12",
     .gender = "F"},
    {.source_system = "mobile",
     .source_id = "M-11",
     .name = "Marisol Quintero",
     .dob = "1980-04-13",
     .gender = "F"},
};

/* Builds the two slipped records with model and returns how many
 * customers they make, or 0 when the build fails. */
static uint64_t slipped_customers(const ecif_model_t *model)
{
    const char *dir = getenv("ECIF_TEST_TMPDIR");
    char path[512], err[256];
    ecif_builder_options_t opts;
    ecif_builder_t *b;
    ecif_build_stats_t stats = {0};

    snprintf(path, sizeof(path), "%s/cluster-threshold.snap",
             dir ? dir : "/tmp");
    ecif_builder_options_default(&opts);
    opts.model = model;
    CHECK_INT(ecif_builder_create(&opts, &b, err, sizeof(err)), ECIF_OK);
    for (size_t i = 0; i < 2; i++)
        CHECK_INT(ecif_builder_add_record(b, &slipped[i], err, sizeof(err)),
                  ECIF_OK);
    int rc = ecif_builder_write(b, path, &stats, err, sizeof(err));
    CHECK_INT(rc, ECIF_OK);
    ecif_builder_destroy(b);
    unlink(path);
    return rc == ECIF_OK ? stats.customer_count : 0;
}

/*
 * The pair scores between POSSIBLE_MATCH and MATCH under the built-in
 * model. The built-in model clusters at MATCH and keeps the records
 * apart. The same model with a trained model's clustering probability of
 * 0.5 joins them, and its verdict on the pair stays below MATCH.
 */
static void test_pair_joins_at_cluster_weight(void)
{
    const ecif_model_t *builtin = model_default();
    ecif_model_t trained = *builtin;
    ecif_evidence_t evidence[ECIF_FIELD_COUNT];
    ecif_verdict_t verdict;
    char err[256] = "";
    double score;

    trained.cluster_probability = 0.5;
    CHECK_INT(model_derive(&trained, err, sizeof(err)), ECIF_OK);
    CHECK(trained.cluster_weight < trained.possible_weight);

    /* The builder adds the name-frequency adjustment, which is positive
     * for a name on two records and at most MODEL_NAME_FREQUENCY_MAX.
     * ecif_compare leaves it out. */
    ecif_compare(builtin, &slipped[0], &slipped[1], &score, &verdict, evidence);
    CHECK(score >= trained.cluster_weight);
    CHECK(score + MODEL_NAME_FREQUENCY_MAX < builtin->match_weight);
    CHECK_INT(verdict, ECIF_POSSIBLE_MATCH);
    CHECK(builtin->cluster_weight == builtin->match_weight);

    CHECK_INT(slipped_customers(builtin), 2);
    CHECK_INT(slipped_customers(&trained), 1);
    ecif_compare(&trained, &slipped[0], &slipped[1], &score, &verdict,
                 evidence);
    CHECK_INT(verdict, ECIF_POSSIBLE_MATCH);
}

/* Two people of one name born eight years apart, three records of one
 * and two of the other, and a record without a birth date that shares
 * the first one's email and the second one's phone. */
static const ecif_record_t namesakes[] = {
    {.source_system = "core_banking",
     .source_id = "CB-20",
     .name = "Oliver Roberts",
     .emails = {"oliver.r@smith.info"},
     .n_emails = 1,
     .addresses = {"12 Mill Lane, Bolton BL1 4AB"},
     .n_addresses = 1,
     .dob = "1984-07-14"},
    {.source_system = "mobile",
     .source_id = "M-21",
     .name = "Oliver Roberts",
     .emails = {"oliver.r@smith.info"},
     .n_emails = 1,
     .dob = "1984-07-14"},
    {.source_system = "wealth",
     .source_id = "WM-22",
     .name = "Oliver Roberts",
     .emails = {"oliver.r@smith.info"},
     .n_emails = 1,
     .dob = "1984-07-14"},
    {.source_system = "core_banking",
     .source_id = "CB-23",
     .name = "Oliver Roberts",
     .phones = {"+44 20 7946 0018"},
     .n_phones = 1,
     .addresses = {"4 Park Road, Leeds LS6 2AA"},
     .n_addresses = 1,
     .dob = "1992-03-13"},
    {.source_system = "mobile",
     .source_id = "M-24",
     .name = "Oliver Roberts",
     .phones = {"+44 20 7946 0018"},
     .n_phones = 1,
     .dob = "1992-03-13"},
    {.source_system = "credit_card",
     .source_id = "CC-25",
     .name = "Oliver Roberts",
     .emails = {"oliver.r@smith.info"},
     .n_emails = 1,
     .phones = {"+44 20 7946 0018"},
     .n_phones = 1},
};

#define N_NAMESAKES (sizeof(namesakes) / sizeof(namesakes[0]))

/* Builds the namesakes, in reverse order when reverse is set, and writes
 * each record's customer id to out. */
static bool build_namesakes(bool reverse, uint32_t out[N_NAMESAKES],
                            ecif_build_stats_t *stats)
{
    const char *dir = getenv("ECIF_TEST_TMPDIR");
    char path[512], err[256];
    ecif_builder_options_t opts;
    ecif_builder_t *b;
    ecif_store_t *s = NULL;

    snprintf(path, sizeof(path), "%s/cluster-namesakes.snap",
             dir ? dir : "/tmp");
    ecif_builder_options_default(&opts);
    CHECK_INT(ecif_builder_create(&opts, &b, err, sizeof(err)), ECIF_OK);
    for (size_t i = 0; i < N_NAMESAKES; i++) {
        size_t k = reverse ? N_NAMESAKES - 1 - i : i;
        CHECK_INT(ecif_builder_add_record(b, &namesakes[k], err, sizeof(err)),
                  ECIF_OK);
    }
    CHECK_INT(ecif_builder_write(b, path, stats, err, sizeof(err)), ECIF_OK);
    ecif_builder_destroy(b);
    if (ecif_store_open(path, &s, err, sizeof(err)) != ECIF_OK) {
        CHECK(false);
        return false;
    }
    for (size_t i = 0; i < N_NAMESAKES; i++) {
        uint32_t record = 0;
        CHECK_INT(ecif_store_find_record(s, namesakes[i].source_system,
                                         namesakes[i].source_id, &record),
                  ECIF_OK);
        out[i] = ecif_store_record_customer(s, record);
    }
    ecif_store_close(s);
    unlink(path);
    return true;
}

/*
 * The record without a birth date scores at the clustering weight with
 * both people, and the two people's records score far below it with each
 * other. It joins one of them through its best pair, but it does not
 * chain the two into one customer.
 */
static void test_one_pair_does_not_chain_namesakes(void)
{
    const ecif_model_t *model = model_default();
    ecif_evidence_t evidence[ECIF_FIELD_COUNT];
    ecif_verdict_t verdict;
    ecif_build_stats_t stats = {0};
    uint32_t customer[N_NAMESAKES];
    double score;

    ecif_compare(model, &namesakes[5], &namesakes[0], &score, &verdict,
                 evidence);
    CHECK(score >= model->cluster_weight);
    ecif_compare(model, &namesakes[5], &namesakes[3], &score, &verdict,
                 evidence);
    CHECK(score >= model->cluster_weight);
    ecif_compare(model, &namesakes[0], &namesakes[3], &score, &verdict,
                 evidence);
    CHECK(score < model->cluster_weight - MATCH_AMBIGUITY_MARGIN);

    if (!build_namesakes(false, customer, &stats))
        return;
    CHECK_INT(customer[1], customer[0]);
    CHECK_INT(customer[2], customer[0]);
    CHECK_INT(customer[4], customer[3]);
    CHECK(customer[0] != customer[3]);
    CHECK(customer[5] == customer[0] || customer[5] == customer[3]);
    CHECK_INT(stats.customer_count, 2);
    /* Its pairs with both records of the other person are refused. */
    CHECK_INT(stats.distant_count, 2);
    CHECK_INT(stats.bridge_count, 0);
}

/* The record without a birth date joins the same person whichever order
 * the records arrive in. */
static void test_namesakes_ignore_input_order(void)
{
    ecif_build_stats_t stats = {0};
    uint32_t forward[N_NAMESAKES], reverse[N_NAMESAKES];

    if (!build_namesakes(false, forward, &stats) ||
        !build_namesakes(true, reverse, &stats))
        return;
    CHECK_INT(forward[5] == forward[0], reverse[5] == reverse[0]);
    CHECK_INT(forward[5] == forward[3], reverse[5] == reverse[3]);
    CHECK_INT(stats.customer_count, 2);
}

/* Returns the fine name level of two records under the built-in model. */
static const char *name_detail(const ecif_record_t *a, const ecif_record_t *b)
{
    ecif_evidence_t ev[ECIF_FIELD_COUNT];
    ecif_verdict_t verdict;
    double score;

    ecif_compare(model_default(), a, b, &score, &verdict, ev);
    return ev[ECIF_FIELD_NAME].detail != NULL ? ev[ECIF_FIELD_NAME].detail : "";
}

/* Folding drops digits. Two names whose digits differ agree only
 * fuzzily, while equal digits, or digits in one name only (a misread
 * letter), leave an exact agreement. */
static void test_name_digits_level(void)
{
    ecif_record_t zero = {.name = "Person Number0", .dob = "1990-01-01"};
    ecif_record_t nineteen = {.name = "Person Number19", .dob = "1990-01-01"};
    ecif_record_t wide = {.name = "Person Number\xEF\xBC\x90",
                          .dob = "1990-01-01"}; /* full-width zero */
    ecif_record_t smith2 = {.given_name = "Ann", .family_name = "Smith2"};
    ecif_record_t smith = {.given_name = "Ann", .family_name = "Smith"};

    CHECK_STR(name_detail(&zero, &nineteen), "latin_fuzzy");
    CHECK_STR(name_detail(&zero, &zero), "exact");
    CHECK_STR(name_detail(&zero, &wide), "exact");
    CHECK_STR(name_detail(&smith2, &smith), "exact");
}

/* Twenty test rows with one date of birth, one name apart from its
 * number and a phone each are twenty customers. */
static void test_numbered_names_stay_apart(void)
{
    enum { ROWS = 20 };
    ecif_record_t rows[ROWS];
    const ecif_record_t *ptrs[ROWS];
    char ids[ROWS][16], names[ROWS][32], phones[ROWS][16];
    ecif_store_info_t info;

    for (int i = 0; i < ROWS; i++) {
        snprintf(ids[i], sizeof(ids[i]), "T-%d", i);
        snprintf(names[i], sizeof(names[i]), "Person Number%d", i);
        snprintf(phones[i], sizeof(phones[i]), "139%08d", 10000000 + i);
        rows[i] = (ecif_record_t){.source_system = "test",
                                  .source_id = ids[i],
                                  .name = names[i],
                                  .dob = "1990-01-01",
                                  .phones = {phones[i]},
                                  .n_phones = 1};
        ptrs[i] = &rows[i];
    }
    ecif_store_t *store =
        gather_store("test_cluster_numbered.snap", ptrs, ROWS, NULL);
    ecif_store_get_info(store, &info);
    CHECK_INT(info.customer_count, ROWS);
    ecif_store_close(store);
}

int main(void)
{
    RUN(test_bridge_keeps_father_and_son_apart);
    RUN(test_generations_at_one_household_stay_apart);
    RUN(test_generation_pairs_never_join);
    RUN(test_grouping_ignores_input_order);
    RUN(test_pair_joins_at_cluster_weight);
    RUN(test_one_pair_does_not_chain_namesakes);
    RUN(test_namesakes_ignore_input_order);
    RUN(test_name_digits_level);
    RUN(test_numbered_names_stay_apart);
    return unit_report();
}
