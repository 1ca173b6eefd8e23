/*
 * Unit tests of query resolution against a built store: finding a person
 * by each kind of evidence, keeping strangers out, verdicts, evidence
 * levels and weights, the candidate limit, and the bound on a very common
 * key.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "builder.h"
#include "match.h"
#include "resolve.h"
#include "status.h"
#include "store.h"
#include "unit.h"

/* Records sharing the common phone, and Chen namesakes sharing a dob. */
#define N_COMMON 1000
#define N_CHEN   10

#define COMMON_PHONE "13012345678"

static ecif_store_t *store;

static const ecif_record_t zhang = {
    .source_system = "core",
    .source_id = "c-1",
    .given_name = "Wei",
    .family_name = "Zhang",
    .id_number = "110105198001020017",
    .phones = {"13975318642"},
    .n_phones = 1,
    .emails = {"wei.zhang@example.com"},
    .n_emails = 1,
    .addresses = {"1 Chaoyang Road Beijing 100020"},
    .n_addresses = 1,
    .dob = "1980-01-02",
    .gender = "M",
};

static const ecif_record_t smith = {
    .source_system = "core",
    .source_id = "c-2",
    .given_name = "Mary",
    .family_name = "Smith",
    .id_number = "G12345678",
    .phones = {"13911112222"},
    .n_phones = 1,
    .emails = {"mary.smith@example.org"},
    .n_emails = 1,
    .dob = "1975-07-08",
    .gender = "F",
};

static const ecif_record_t li = {
    .source_system = "cards",
    .source_id = "k-3",
    .name = "\xE6\x9D\x8E\xE5\xA8\x9C", /* 李娜 */
    .phones = {"13722223333"},
    .n_phones = 1,
    .dob = "1982-02-28",
};

/* The one record among the common-phone records that queries look for. */
static const ecif_record_t target = {
    .source_system = "bulk",
    .source_id = "target",
    .given_name = "Ingrid",
    .family_name = "Halvorsen",
    .id_number = "T99887766",
    .phones = {COMMON_PHONE},
    .n_phones = 1,
    .dob = "1966-06-16",
};

static const char *const syllables[] = {
    "ka", "lo", "mi", "ne", "tu", "ra", "so", "vi", "da", "fe",
    "gu", "ho", "ji", "ba", "ze", "pi", "qu", "wy", "xa", "ce",
};

static void add_or_die(ecif_builder_t *b, const ecif_record_t *rec)
{
    char err[256];

    if (ecif_builder_add_record(b, rec, err, sizeof(err)) != ECIF_OK) {
        fprintf(stderr, "record '%s': %s\n", rec->source_id, err);
        exit(1);
    }
}

/* Adds N_COMMON records with distinct names, IDs and dobs that all share
 * COMMON_PHONE. */
static void add_common_phone_records(ecif_builder_t *b)
{
    static char text[N_COMMON][5][32];

    for (int i = 0; i < N_COMMON; i++) {
        ecif_record_t rec;
        memset(&rec, 0, sizeof(rec));
        snprintf(text[i][0], 32, "bulk-%d", i);
        snprintf(text[i][1], 32, "%s%s", syllables[i % 20],
                 syllables[(i / 20) % 20]);
        snprintf(text[i][2], 32, "%s%s%s", syllables[(i / 7) % 20],
                 syllables[(i / 3) % 20], syllables[i % 13]);
        snprintf(text[i][3], 32, "B%08d", 10000000 + i * 13);
        snprintf(text[i][4], 32, "19%02d-%02d-%02d", 20 + i % 70, 1 + i % 12,
                 1 + i % 28);
        rec.source_system = "bulk";
        rec.source_id = text[i][0];
        rec.given_name = text[i][1];
        rec.family_name = text[i][2];
        rec.id_number = text[i][3];
        rec.dob = text[i][4];
        rec.phones[0] = COMMON_PHONE;
        rec.n_phones = 1;
        add_or_die(b, &rec);
    }
}

static void add_chen_records(ecif_builder_t *b)
{
    static const char *const given[N_CHEN] = {
        "Jun", "Hua", "Ming", "Lan", "Tao", "Yan", "Bo", "Xin", "Qiang", "Ling",
    };
    static char ids[N_CHEN][2][32];

    for (int i = 0; i < N_CHEN; i++) {
        ecif_record_t rec;
        memset(&rec, 0, sizeof(rec));
        snprintf(ids[i][0], 32, "chen-%d", i);
        snprintf(ids[i][1], 32, "C7700%04d", i * 37);
        rec.source_system = "core";
        rec.source_id = ids[i][0];
        rec.given_name = given[i];
        rec.family_name = "Chen";
        rec.id_number = ids[i][1];
        rec.dob = "1990-10-10";
        add_or_die(b, &rec);
    }
}

static void store_init(void)
{
    const char *base = getenv("ECIF_TEST_TMPDIR");
    char path[600];
    ecif_builder_options_t opts;
    ecif_builder_t *b;
    char err[512];

    snprintf(path, sizeof(path), "%s/test_resolve.snap",
             base != NULL ? base : "/tmp");
    ecif_builder_options_default(&opts);
    if (ecif_builder_create(&opts, &b, err, sizeof(err)) != ECIF_OK)
        exit(1);
    add_or_die(b, &zhang);
    add_or_die(b, &smith);
    add_or_die(b, &li);
    add_or_die(b, &target);
    add_chen_records(b);
    add_common_phone_records(b);
    if (ecif_builder_write(b, path, NULL, err, sizeof(err)) != ECIF_OK ||
        ecif_store_open(path, &store, err, sizeof(err)) != ECIF_OK) {
        fprintf(stderr, "building the test store: %s\n", err);
        exit(1);
    }
    ecif_builder_destroy(b);
    unlink(path);
}

static uint32_t customer_of(const ecif_record_t *rec)
{
    uint32_t record;

    if (ecif_store_find_record(store, rec->source_system, rec->source_id,
                               &record) != ECIF_OK)
        return UINT32_MAX;
    return ecif_store_record_customer(store, record);
}

/* Resolves query with room for max candidates and returns the count. */
static size_t resolve(const ecif_record_t *query, ecif_candidate_t *out,
                      size_t max)
{
    char err[256];
    size_t count = 0;

    if (ecif_record_validate(query, false, err, sizeof(err)) != ECIF_OK) {
        fprintf(stderr, "invalid query: %s\n", err);
        CHECK(false);
        return 0;
    }
    CHECK_INT(ecif_resolve(store, query, out, max, &count), ECIF_OK);
    return count;
}

/* Checks that the best candidate of query is the customer of want. */
static void check_top(const ecif_record_t *query, const ecif_record_t *want)
{
    ecif_candidate_t out[ECIF_MAX_CANDIDATES];
    size_t n = resolve(query, out, ECIF_MAX_CANDIDATES);

    CHECK(n >= 1);
    if (n >= 1)
        CHECK_INT(out[0].customer, customer_of(want));
}

static void test_resolve_by_id_number(void)
{
    ecif_record_t q = {.id_number = "110105-19800102-0017"};
    check_top(&q, &zhang);
    ecif_record_t q2 = {.id_number = "g12345678"};
    check_top(&q2, &smith);
}

static void test_resolve_by_phone(void)
{
    ecif_record_t q = {.phones = {"+86 139-7531-8642"}, .n_phones = 1};
    check_top(&q, &zhang);
    ecif_record_t q2 = {.phones = {"137 2222 3333"}, .n_phones = 1};
    check_top(&q2, &li);
}

static void test_resolve_by_email(void)
{
    ecif_record_t q = {.emails = {" Mary.Smith@Example.ORG"}, .n_emails = 1};
    check_top(&q, &smith);
}

static void test_resolve_by_name_and_dob_with_typo(void)
{
    ecif_record_t q = {
        .given_name = "Wei", .family_name = "Zhnag", .dob = "02/01/1980"};
    ecif_candidate_t out[8];
    size_t n = resolve(&q, out, 8);

    CHECK(n >= 1);
    if (n == 0)
        return;
    CHECK_INT(out[0].customer, customer_of(&zhang));
    CHECK(out[0].verdict != ECIF_NO_MATCH);
    CHECK_INT(out[0].evidence[ECIF_FIELD_NAME].level, ECIF_LEVEL_FUZZY);
    CHECK_INT(out[0].evidence[ECIF_FIELD_DOB].level, ECIF_LEVEL_EXACT);

    ecif_record_t full = {.name = "Mary Smyth", .dob = "1975-07-08"};
    check_top(&full, &smith);
}

static void test_resolve_swapped_given_and_family(void)
{
    ecif_record_t q = {
        .given_name = "Zhang", .family_name = "Wei", .dob = "1980-01-02"};
    ecif_candidate_t out[8];
    size_t n = resolve(&q, out, 8);

    CHECK(n >= 1);
    if (n == 0)
        return;
    CHECK_INT(out[0].customer, customer_of(&zhang));
    CHECK(out[0].verdict != ECIF_NO_MATCH);
    CHECK_INT(out[0].evidence[ECIF_FIELD_NAME].level, ECIF_LEVEL_EXACT);
}

static void test_resolve_stranger_no_match(void)
{
    ecif_record_t q = {.given_name = "Olga",
                       .family_name = "Petrova",
                       .id_number = "P55554444",
                       .phones = {"15055556666"},
                       .n_phones = 1,
                       .emails = {"olga@example.ru"},
                       .n_emails = 1,
                       .dob = "1991-09-09"};
    ecif_candidate_t out[ECIF_MAX_CANDIDATES];
    size_t n = resolve(&q, out, ECIF_MAX_CANDIDATES);

    for (size_t i = 0; i < n; i++)
        CHECK(out[i].verdict != ECIF_MATCH);

    /* A namesake of a stored person with another ID and birth date. */
    ecif_record_t namesake = {.given_name = "Wei",
                              .family_name = "Zhang",
                              .id_number = "320102199912120011",
                              .dob = "1999-12-12"};
    n = resolve(&namesake, out, ECIF_MAX_CANDIDATES);
    for (size_t i = 0; i < n; i++)
        CHECK(out[i].verdict != ECIF_MATCH);
}

static void test_resolve_verdict_thresholds(void)
{
    const ecif_model_t *m = model_default();
    CHECK_INT(match_verdict(m, m->match_weight), ECIF_MATCH);
    CHECK_INT(match_verdict(m, m->match_weight - 0.001), ECIF_POSSIBLE_MATCH);
    CHECK_INT(match_verdict(m, m->possible_weight), ECIF_POSSIBLE_MATCH);
    CHECK_INT(match_verdict(m, m->possible_weight - 0.001), ECIF_NO_MATCH);
    CHECK(m->possible_weight < m->match_weight);

    /* Strong, medium and weak evidence for the same person. */
    ecif_record_t strong = {.id_number = "110105198001020017",
                            .given_name = "Wei",
                            .family_name = "Zhang",
                            .dob = "1980-01-02"};
    ecif_record_t medium = {.id_number = "110105198001020017"};
    ecif_record_t weak = {.emails = {"wei.zhang@example.com"}, .n_emails = 1};
    const ecif_record_t *queries[] = {&strong, &medium, &weak};
    const ecif_verdict_t expected[] = {ECIF_MATCH, ECIF_POSSIBLE_MATCH,
                                       ECIF_NO_MATCH};
    for (size_t i = 0; i < 3; i++) {
        ecif_candidate_t out[4];
        size_t n = resolve(queries[i], out, 4);
        CHECK(n >= 1);
        if (n == 0)
            continue;
        CHECK_INT(out[0].customer, customer_of(&zhang));
        CHECK_INT(out[0].verdict, expected[i]);
        CHECK_INT(out[0].verdict, match_verdict(model_default(), out[0].score));
    }
}

/* Compares query with zhang and checks the level of every field. */
static void check_levels(const ecif_record_t *query,
                         const ecif_level_t want[ECIF_FIELD_COUNT])
{
    ecif_evidence_t ev[ECIF_FIELD_COUNT];
    double score = 0.0, sum = 0.0;
    ecif_verdict_t verdict;

    ecif_compare(model_default(), query, &zhang, &score, &verdict, ev);
    for (int f = 0; f < ECIF_FIELD_COUNT; f++) {
        if (ev[f].level != want[f])
            fprintf(stderr, "field %s is %s, expected %s\n",
                    ecif_field_str((ecif_field_t)f),
                    ecif_level_str(ev[f].level), ecif_level_str(want[f]));
        CHECK_INT(ev[f].level, want[f]);
        sum += ev[f].weight;
    }
    CHECK(fabs(sum - score) < 1e-9);
    CHECK_INT(verdict, match_verdict(model_default(), score));
}

static void test_evidence_levels_exact(void)
{
    const ecif_level_t want[ECIF_FIELD_COUNT] = {
        ECIF_LEVEL_EXACT, ECIF_LEVEL_EXACT, ECIF_LEVEL_EXACT, ECIF_LEVEL_EXACT,
        ECIF_LEVEL_EXACT, ECIF_LEVEL_EXACT, ECIF_LEVEL_EXACT,
    };
    check_levels(&zhang, want);
}

static void test_evidence_levels_fuzzy_and_partial(void)
{
    ecif_record_t q = {
        .given_name = "Wei",
        .family_name = "Zhnag",            /* name: fuzzy */
        .id_number = "110105198001020018", /* see the ID level below */
        .phones = {"13075318642"},         /* same last 8: partial */
        .n_phones = 1,
        .emails = {"wei.zhang@example.net"}, /* same local part: partial */
        .n_emails = 1,
        .addresses = {"1 Chaoyang Road Beijing"}, /* most tokens: fuzzy */
        .n_addresses = 1,
        .dob = "1980-02-01", /* day and month swapped: partial */
        .gender = "M",
    };
    const ecif_level_t want[ECIF_FIELD_COUNT] = {
        [ECIF_FIELD_NAME] = ECIF_LEVEL_FUZZY,
        /* One digit off would be fuzzy, but this resident ID's birth date
         * (1980-01-02) contradicts the query's own dob, so the ID is
         * suspect and its disagreement is a weak mismatch. */
        [ECIF_FIELD_ID_NUMBER] = ECIF_LEVEL_MISMATCH,
        [ECIF_FIELD_PHONE] = ECIF_LEVEL_PARTIAL,
        [ECIF_FIELD_EMAIL] = ECIF_LEVEL_PARTIAL,
        [ECIF_FIELD_ADDRESS] = ECIF_LEVEL_FUZZY,
        [ECIF_FIELD_DOB] = ECIF_LEVEL_PARTIAL,
        [ECIF_FIELD_GENDER] = ECIF_LEVEL_EXACT,
    };
    check_levels(&q, want);
}

static void test_evidence_levels_phonetic(void)
{
    /* Wie is too short for the one-edit rule but sounds like Wei. */
    ecif_record_t q = {.given_name = "Wie", .family_name = "Zhang"};
    const ecif_level_t want[ECIF_FIELD_COUNT] = {
        [ECIF_FIELD_NAME] = ECIF_LEVEL_PHONETIC,
    };
    check_levels(&q, want);
}

static void test_evidence_levels_mismatch_and_missing(void)
{
    ecif_record_t mismatch = {
        .given_name = "Mary",
        .family_name = "Smith",
        .id_number = "G12345678",
        .phones = {"15055556666"},
        .n_phones = 1,
        .emails = {"mary@example.org"},
        .n_emails = 1,
        .addresses = {"77 Harbour Street Sydney 2000"},
        .n_addresses = 1,
        .dob = "1955-09-30",
        .gender = "F",
    };
    const ecif_level_t mismatches[ECIF_FIELD_COUNT] = {
        ECIF_LEVEL_MISMATCH, ECIF_LEVEL_MISMATCH, ECIF_LEVEL_MISMATCH,
        ECIF_LEVEL_MISMATCH, ECIF_LEVEL_MISMATCH, ECIF_LEVEL_MISMATCH,
        ECIF_LEVEL_MISMATCH,
    };
    check_levels(&mismatch, mismatches);

    /* Only the family name agrees: the name is partial. */
    ecif_record_t sparse = {.given_name = "Mary", .family_name = "Zhang"};
    const ecif_level_t missing[ECIF_FIELD_COUNT] = {
        [ECIF_FIELD_NAME] = ECIF_LEVEL_PARTIAL,
        [ECIF_FIELD_ID_NUMBER] = ECIF_LEVEL_MISSING,
        [ECIF_FIELD_PHONE] = ECIF_LEVEL_MISSING,
        [ECIF_FIELD_EMAIL] = ECIF_LEVEL_MISSING,
        [ECIF_FIELD_ADDRESS] = ECIF_LEVEL_MISSING,
        [ECIF_FIELD_DOB] = ECIF_LEVEL_MISSING,
        [ECIF_FIELD_GENDER] = ECIF_LEVEL_MISSING,
    };
    check_levels(&sparse, missing);

    ecif_evidence_t ev[ECIF_FIELD_COUNT];
    double score;
    ecif_verdict_t verdict;
    ecif_compare(model_default(), &sparse, &zhang, &score, &verdict, ev);
    for (int f = ECIF_FIELD_ID_NUMBER; f < ECIF_FIELD_COUNT; f++)
        CHECK(ev[f].weight == 0.0);
}

static void test_resolve_weights_sum_to_score(void)
{
    static const ecif_record_t queries[] = {
        {.given_name = "Wie", .family_name = "Zhang", .dob = "1980-01-02"},
        {.family_name = "Chen", .dob = "1990-10-10"},
        {.name = "\xE6\x9D\x8E\xE5\xA8\x9C", .dob = "1982-02-28"},
        {.id_number = "T99887766", .phones = {COMMON_PHONE}, .n_phones = 1},
    };
    for (size_t q = 0; q < sizeof(queries) / sizeof(queries[0]); q++) {
        ecif_candidate_t out[ECIF_MAX_CANDIDATES];
        size_t n = resolve(&queries[q], out, ECIF_MAX_CANDIDATES);
        CHECK(n >= 1);
        for (size_t i = 0; i < n; i++) {
            double sum = 0.0;
            for (int f = 0; f < ECIF_FIELD_COUNT; f++)
                sum += out[i].evidence[f].weight;
            CHECK(fabs(sum - out[i].score) < 1e-9);
            CHECK_INT(out[i].verdict,
                      match_verdict(model_default(), out[i].score));
            CHECK(out[i].n_matched >= 1);
            CHECK(out[i].n_matched <= ECIF_MAX_MATCHED);
            if (i > 0)
                CHECK(out[i - 1].score >= out[i].score);
        }
    }
}

static void test_resolve_max_candidates(void)
{
    ecif_record_t q = {.family_name = "Chen", .dob = "1990-10-10"};
    ecif_candidate_t out[ECIF_MAX_CANDIDATES + 1];

    CHECK_INT(resolve(&q, out, 3), 3);
    CHECK_INT(resolve(&q, out, 1), 1);
    CHECK_INT(resolve(&q, out, 0), 0);
    /* Every namesake is a candidate when there is room; a request above
     * ECIF_MAX_CANDIDATES is capped. */
    size_t all = resolve(&q, out, ECIF_MAX_CANDIDATES);
    CHECK_INT(all, N_CHEN);
    memset(&out[ECIF_MAX_CANDIDATES], 0xAB, sizeof(out[0]));
    CHECK(resolve(&q, out, 100000) <= ECIF_MAX_CANDIDATES);
    unsigned char *guard = (unsigned char *)&out[ECIF_MAX_CANDIDATES];
    CHECK(guard[0] == 0xAB);
}

static void test_resolve_common_key_bounded(void)
{
    ecif_record_t q = {
        .id_number = "T99887766", .phones = {COMMON_PHONE}, .n_phones = 1};
    ecif_candidate_t out[ECIF_MAX_CANDIDATES];
    size_t n = resolve(&q, out, ECIF_MAX_CANDIDATES);

    CHECK(n >= 1);
    CHECK(n <= ECIF_MAX_CANDIDATES);
    if (n >= 1) {
        CHECK_INT(out[0].customer, customer_of(&target));
        CHECK_INT(out[0].evidence[ECIF_FIELD_ID_NUMBER].level,
                  ECIF_LEVEL_EXACT);
    }

    /* The records gathered for scoring stay within the bound. */
    match_buffer_t buf;
    match_view_t view;
    static match_candidates_t cand;
    match_normalize(&q, &buf, &view, NULL, NULL, NULL);
    match_gather(store, &view, &cand);
    CHECK(cand.count <= MAX_QUERY_CANDIDATES);

    ecif_record_t phone_only = {.phones = {COMMON_PHONE}, .n_phones = 1};
    match_normalize(&phone_only, &buf, &view, NULL, NULL, NULL);
    match_gather(store, &view, &cand);
    CHECK(cand.count <= MAX_QUERY_CANDIDATES);
    n = resolve(&phone_only, out, ECIF_MAX_CANDIDATES);
    CHECK(n <= ECIF_MAX_CANDIDATES);
}

static void test_common_phone_records_stay_apart(void)
{
    ecif_store_info_t info;

    ecif_store_get_info(store, &info);
    /* No two stored records belong to one person, so none is joined. */
    CHECK_INT(info.record_count, 4 + N_CHEN + N_COMMON);
    CHECK_INT(info.customer_count, info.record_count);
}

int main(void)
{
    store_init();
    RUN(test_resolve_by_id_number);
    RUN(test_resolve_by_phone);
    RUN(test_resolve_by_email);
    RUN(test_resolve_by_name_and_dob_with_typo);
    RUN(test_resolve_swapped_given_and_family);
    RUN(test_resolve_stranger_no_match);
    RUN(test_resolve_verdict_thresholds);
    RUN(test_evidence_levels_exact);
    RUN(test_evidence_levels_fuzzy_and_partial);
    RUN(test_evidence_levels_phonetic);
    RUN(test_evidence_levels_mismatch_and_missing);
    RUN(test_resolve_weights_sum_to_score);
    RUN(test_resolve_max_candidates);
    RUN(test_resolve_common_key_bounded);
    RUN(test_common_phone_records_stay_apart);
    ecif_store_close(store);
    return unit_report();
}
