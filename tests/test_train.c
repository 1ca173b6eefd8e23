/*
 * Tests of model training (engine/train.c). The first tests use
 * synthetic level vectors: the generator, the pattern table, u with
 * add-one smoothing, one EM iteration computed by hand, and EM recovering
 * known m, u and prior from pairs drawn from them. Others cover the
 * training rules and the automatic conflict weight. The last tests train
 * on small built stores, one of them full of namesakes.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "builder.h"
#include "status.h"
#include "train.h"
#include "unit.h"

#define CHECK_NEAR(actual, expected, tolerance)                                \
    do {                                                                       \
        double unit_a_ = (actual);                                             \
        double unit_e_ = (expected);                                           \
        if (!(fabs(unit_a_ - unit_e_) <= (tolerance))) {                       \
            fprintf(stderr, "%s:%d: %s is %.17g, expected %.17g\n", __FILE__,  \
                    __LINE__, #actual, unit_a_, unit_e_);                      \
            unit_failed_checks++;                                              \
        }                                                                      \
    } while (0)

/* A model whose fields have only the level "missing". */
static void empty_model(ecif_model_t *model)
{
    memset(model, 0, sizeof(*model));
    model->prior = 0.01;
    model->match_probability = 0.9;
    model->possible_probability = 0.5;
    for (int f = 0; f < ECIF_FIELD_COUNT; f++) {
        model->fields[f].n_levels = 1;
        strcpy(model->fields[f].levels[0].name, "missing");
    }
}

/* Appends a level with its m and u to a field of the model. */
static void add_level(ecif_model_t *model, int field, double m, double u)
{
    model_field_t *f = &model->fields[field];
    model_level_t *level = &f->levels[f->n_levels++];

    snprintf(level->name, sizeof(level->name), "level%u", f->n_levels - 1);
    level->coarse = ECIF_LEVEL_EXACT;
    level->m = m;
    level->u = u;
    level->weight = log2(m / u);
}

static void add_pattern(train_patterns_t *p, uint8_t l0, uint8_t l1,
                        uint64_t count)
{
    uint8_t levels[ECIF_FIELD_COUNT] = {l0, l1};
    CHECK_INT(train_patterns_add(p, levels, count), ECIF_OK);
}

static void test_rng_same_seed_same_sequence(void)
{
    train_rng_t a, b, c;

    train_rng_seed(&a, 7);
    train_rng_seed(&b, 7);
    train_rng_seed(&c, 8);
    int differs = 0;
    for (int i = 0; i < 100; i++) {
        uint64_t x = train_rng_next(&a);
        CHECK(x == train_rng_next(&b));
        differs += x != train_rng_next(&c);
    }
    CHECK(differs > 90);
}

static void test_rng_below_uniform(void)
{
    train_rng_t rng;
    uint64_t counts[10] = {0};

    train_rng_seed(&rng, 1);
    for (int i = 0; i < 100000; i++) {
        uint64_t x = train_rng_below(&rng, 10);
        CHECK(x < 10);
        if (x < 10)
            counts[x]++;
    }
    /* 10,000 are expected per value with a standard deviation of 95, so
     * the bounds are about 5 standard deviations wide. */
    for (int v = 0; v < 10; v++) {
        CHECK(counts[v] > 9500);
        CHECK(counts[v] < 10500);
    }
    CHECK_INT(train_rng_below(&rng, 1), 0);
}

static void test_patterns_merge_equal_vectors(void)
{
    train_patterns_t p;

    train_patterns_init(&p);
    add_pattern(&p, 1, 2, 3);
    add_pattern(&p, 1, 2, 4);
    add_pattern(&p, 2, 1, 1);
    CHECK_INT(p.distinct, 2);
    CHECK_INT(p.pairs, 8);

    /* Past the first table size: every count survives the growth. */
    for (int i = 0; i < 16; i++) {
        for (int j = 0; j < 16; j++)
            add_pattern(&p, (uint8_t)i, (uint8_t)j, 1);
    }
    CHECK_INT(p.distinct, 256);
    CHECK_INT(p.pairs, 8 + 256);
    uint64_t at_1_2 = 0;
    for (size_t i = 0; i < p.capacity; i++) {
        if (p.slots[i].count != 0 && p.slots[i].levels[0] == 1 &&
            p.slots[i].levels[1] == 2)
            at_1_2 = p.slots[i].count;
    }
    CHECK_INT(at_1_2, 8);
    train_patterns_fini(&p);
}

static void test_mask_rejects_unknown_level(void)
{
    ecif_model_t model;
    train_patterns_t p;
    train_mask_t mask;
    char err[128] = "";

    empty_model(&model);
    add_level(&model, 0, 0.9, 0.1);
    train_patterns_init(&p);
    add_pattern(&p, 2, 0, 1);
    CHECK_INT(train_mask_build(&model, &p, NULL, &mask, err, sizeof(err)),
              ECIF_EINVAL);
    CHECK(strstr(err, "name") != NULL);
    CHECK(strstr(err, "level index 2") != NULL);
    train_patterns_fini(&p);
}

/*
 * Field 0: levels 1, 2, 3. Random pairs reach 1 (3 pairs) and 2 (1 pair),
 * six are missing, and a blocked pair reaches 3. With one pseudo-pair a
 * level, u = 4/7, 2/7, 1/7.
 *
 * Field 1: levels 1, 2 and 3 (weight -1), which no pair reaches. Level
 * 3 gets one pseudo-pair of the 4 pairs and 3 trainable levels, u = 1/7,
 * and keeps its weight, m = 1/14. Levels 1 and 2 share the other 6/7.
 * Counts 1 and 3: u = 6/7 * 2/6 and 6/7 * 4/6.
 *
 * Field 2: no pair reaches any level, so m and u stay as they were.
 */
static void test_u_add_one_smoothing(void)
{
    ecif_model_t model;
    train_patterns_t random, blocked;
    train_mask_t mask;

    empty_model(&model);
    for (int l = 0; l < 3; l++)
        add_level(&model, 0, 0.3, 0.3);
    add_level(&model, 1, 0.5, 0.4);
    add_level(&model, 1, 0.4, 0.4);
    add_level(&model, 1, 0.1, 0.2);
    add_level(&model, 2, 0.9, 0.05);
    add_level(&model, 2, 0.1, 0.95);
    train_patterns_init(&random);
    train_patterns_init(&blocked);
    add_pattern(&random, 1, 1, 1);
    add_pattern(&random, 1, 2, 2);
    add_pattern(&random, 2, 2, 1);
    add_pattern(&random, 0, 0, 6);
    add_pattern(&blocked, 3, 0, 1);

    CHECK_INT(train_mask_build(&model, &random, &blocked, &mask, NULL, 0),
              ECIF_OK);
    CHECK(!mask.estimate[0][0]);
    CHECK(mask.estimate[0][3]);
    CHECK(!mask.estimate[1][3]);
    train_estimate_u(&model, &random, &mask);
    CHECK_NEAR(model.fields[0].levels[1].u, 4.0 / 7.0, 1e-15);
    CHECK_NEAR(model.fields[0].levels[2].u, 2.0 / 7.0, 1e-15);
    CHECK_NEAR(model.fields[0].levels[3].u, 1.0 / 7.0, 1e-15);
    CHECK_NEAR(model.fields[1].levels[1].u, 2.0 / 7.0, 1e-15);
    CHECK_NEAR(model.fields[1].levels[2].u, 4.0 / 7.0, 1e-15);
    CHECK_NEAR(model.fields[1].levels[3].u, 1.0 / 7.0, 1e-15);
    CHECK_NEAR(model.fields[1].levels[3].m, 1.0 / 14.0, 1e-15);
    CHECK_NEAR(model.fields[2].levels[1].u, 0.05, 0.0);
    CHECK_NEAR(model.fields[2].levels[2].m, 0.1, 0.0);
    CHECK_NEAR(model.fields[0].levels[1].m, 0.3, 0.0);
    train_patterns_fini(&random);
    train_patterns_fini(&blocked);
}

/*
 * One field, levels agree (m 0.8, u 0.1) and disagree (m 0.2, u 0.9),
 * prior 0.5. Pairs: 30 agree, 70 disagree, 20 missing.
 *
 * E step, match probability of a pair:
 *   agree    0.5 * 0.8 / (0.5 * 0.8 + 0.5 * 0.1) = 8/9
 *   disagree 0.5 * 0.2 / (0.5 * 0.2 + 0.5 * 0.9) = 2/11
 *   missing  the prior, 1/2
 * Expected matches: 30 * 8/9 + 70 * 2/11 + 20 * 1/2
 *   = 80/3 + 140/11 + 10 = 1630/33.
 * M step: prior = (1630/33) / 120 = 163/396.
 *   m(agree)    = (80/3 + 1) / (80/3 + 140/11 + 2) = 913/1366
 *   m(disagree) = (140/11 + 1) / (80/3 + 140/11 + 2) = 453/1366
 */
static void test_em_one_iteration_by_hand(void)
{
    ecif_model_t model;
    train_patterns_t blocked;
    train_mask_t mask;
    train_em_result_t result;
    train_em_options_t opts = {.max_iterations = 1, .tolerance = 1e-6};

    empty_model(&model);
    add_level(&model, 0, 0.8, 0.1);
    add_level(&model, 0, 0.2, 0.9);
    train_patterns_init(&blocked);
    add_pattern(&blocked, 1, 0, 30);
    add_pattern(&blocked, 2, 0, 70);
    add_pattern(&blocked, 0, 0, 20);

    CHECK_INT(train_mask_build(&model, NULL, &blocked, &mask, NULL, 0),
              ECIF_OK);
    CHECK_INT(train_em(&model, 0.5, &blocked, &mask, &opts, NULL, NULL, &result,
                       NULL, 0),
              ECIF_OK);
    CHECK_INT(result.iterations, 1);
    CHECK(!result.converged);
    CHECK_NEAR(result.expected_matches, 1630.0 / 33.0, 1e-12);
    CHECK_NEAR(result.prior, 163.0 / 396.0, 1e-15);
    CHECK_NEAR(model.fields[0].levels[1].m, 913.0 / 1366.0, 1e-15);
    CHECK_NEAR(model.fields[0].levels[2].m, 453.0 / 1366.0, 1e-15);
    CHECK_NEAR(model.fields[0].levels[1].u, 0.1, 0.0);
    CHECK_NEAR(result.change, 0.8 - 913.0 / 1366.0, 1e-15);
    train_patterns_fini(&blocked);
}

/*
 * A fixed level (weight -40) enters the E step as a likelihood ratio of
 * 2^-40 and keeps its m of 0.05, so the estimated levels share 0.95.
 * Pairs: 10 agree (match probability 8/9 as above), 10 at the fixed
 * level. m(agree) = 0.95 * (80/9 + 1) / (80/9 + 2) = 0.95 * 89/98.
 */
static void test_em_fixed_level_counts_as_conflict(void)
{
    ecif_model_t model;
    train_patterns_t random, blocked;
    train_mask_t mask;
    train_em_result_t result;
    train_em_options_t opts = {.max_iterations = 1, .tolerance = 1e-6};

    empty_model(&model);
    add_level(&model, 0, 0.8, 0.1);
    add_level(&model, 0, 0.15, 0.8);
    add_level(&model, 0, 0.05, 0.1);
    model.fields[0].levels[3].fixed = true;
    model.fields[0].levels[3].weight = -40.0;
    train_patterns_init(&random);
    train_patterns_init(&blocked);
    add_pattern(&random, 2, 0, 1); /* so that disagree is estimated */
    add_pattern(&blocked, 1, 0, 10);
    add_pattern(&blocked, 3, 0, 10);

    CHECK_INT(train_mask_build(&model, &random, &blocked, &mask, NULL, 0),
              ECIF_OK);
    CHECK(!mask.estimate[0][3]);
    CHECK_INT(train_em(&model, 0.5, &blocked, &mask, &opts, NULL, NULL, &result,
                       NULL, 0),
              ECIF_OK);
    double conflict = 10.0 / (1.0 + pow(2.0, 40.0));
    CHECK_NEAR(result.prior, (80.0 / 9.0 + conflict) / 20.0, 1e-15);
    CHECK_NEAR(model.fields[0].levels[3].m, 0.05, 0.0);
    CHECK_NEAR(model.fields[0].levels[1].m, 0.95 * 89.0 / 98.0, 1e-9);
    CHECK_NEAR(model.fields[0].levels[2].m, 0.95 * 9.0 / 98.0, 1e-9);
    train_patterns_fini(&random);
    train_patterns_fini(&blocked);
}

static void test_em_rejects_bad_input(void)
{
    ecif_model_t model;
    train_patterns_t blocked;
    train_mask_t mask;
    train_em_result_t result;
    train_em_options_t opts = {.max_iterations = 10, .tolerance = 1e-6};
    char err[128] = "";

    empty_model(&model);
    add_level(&model, 0, 0.8, 0.1);
    train_patterns_init(&blocked);
    memset(&mask, 0, sizeof(mask));
    CHECK_INT(train_em(&model, 0.5, &blocked, &mask, &opts, NULL, NULL, &result,
                       err, sizeof(err)),
              ECIF_EINVAL);
    CHECK(strstr(err, "no blocked pairs") != NULL);
    add_pattern(&blocked, 1, 0, 1);
    CHECK_INT(train_em(&model, 1.0, &blocked, &mask, &opts, NULL, NULL, &result,
                       err, sizeof(err)),
              ECIF_EINVAL);
    CHECK(strstr(err, "prior 1") != NULL);
    train_patterns_fini(&blocked);
}

/* Synthetic truth: four fields, prior 0.2 among the blocked pairs. */
#define SYN_FIELDS 4
static const uint32_t syn_levels[SYN_FIELDS] = {3, 3, 2, 2};
static const double syn_m[SYN_FIELDS][3] = {
    {0.75, 0.20, 0.05}, {0.85, 0.10, 0.05}, {0.60, 0.40}, {0.95, 0.05}};
static const double syn_u[SYN_FIELDS][3] = {
    {0.01, 0.04, 0.95}, {0.005, 0.02, 0.975}, {0.02, 0.98}, {0.5, 0.5}};
static const double syn_missing[SYN_FIELDS] = {0.1, 0.05, 0.5, 0.0};
#define SYN_PRIOR 0.2

static double uniform(train_rng_t *rng)
{
    return (double)(train_rng_next(rng) >> 11) * 0x1.0p-53;
}

/* Draws the level of field f: 0 for missing, else 1 + an index of p. */
static uint8_t draw_level(train_rng_t *rng, int f, const double *p)
{
    if (uniform(rng) < syn_missing[f])
        return 0;
    double x = uniform(rng), sum = 0.0;
    for (uint32_t l = 0; l + 1 < syn_levels[f]; l++) {
        sum += p[l];
        if (x < sum)
            return (uint8_t)(l + 1);
    }
    return (uint8_t)syn_levels[f];
}

static void draw_pairs(train_rng_t *rng, uint64_t n, double prior,
                       train_patterns_t *out)
{
    for (uint64_t i = 0; i < n; i++) {
        bool match = uniform(rng) < prior;
        uint8_t levels[ECIF_FIELD_COUNT] = {0};
        for (int f = 0; f < SYN_FIELDS; f++)
            levels[f] = draw_level(rng, f, match ? syn_m[f] : syn_u[f]);
        CHECK_INT(train_patterns_add(out, levels, 1), ECIF_OK);
    }
}

/* A model of the synthetic fields with every m and u at a flat start. */
static void synthetic_model(ecif_model_t *model)
{
    empty_model(model);
    for (int f = 0; f < SYN_FIELDS; f++) {
        for (uint32_t l = 0; l < syn_levels[f]; l++) {
            /* Agreement likelier among matches, to name the classes. */
            double m = l == 0 ? 0.6 : 0.4 / (syn_levels[f] - 1);
            add_level(model, f, m, 1.0 / syn_levels[f]);
        }
    }
}

static void test_em_recovers_known_parameters(void)
{
    ecif_model_t model;
    train_patterns_t random, blocked;
    train_mask_t mask;
    train_em_result_t result;
    train_em_options_t opts = {.max_iterations = 500, .tolerance = 1e-9};
    train_rng_t rng;

    train_rng_seed(&rng, 2024);
    train_patterns_init(&random);
    train_patterns_init(&blocked);
    draw_pairs(&rng, 1000000, 0.0, &random);
    draw_pairs(&rng, 200000, SYN_PRIOR, &blocked);
    synthetic_model(&model);

    CHECK_INT(train_mask_build(&model, &random, &blocked, &mask, NULL, 0),
              ECIF_OK);
    train_estimate_u(&model, &random, &mask);
    CHECK_INT(train_em(&model, 0.05, &blocked, &mask, &opts, NULL, NULL,
                       &result, NULL, 0),
              ECIF_OK);
    CHECK(result.converged);
    CHECK_NEAR(result.prior, SYN_PRIOR, 0.005);
    for (int f = 0; f < SYN_FIELDS; f++) {
        for (uint32_t l = 0; l < syn_levels[f]; l++) {
            const model_level_t *level = &model.fields[f].levels[l + 1];
            CHECK_NEAR(level->u, syn_u[f][l], 0.002);
            CHECK_NEAR(level->m, syn_m[f][l], 0.01);
        }
    }
    train_patterns_fini(&random);
    train_patterns_fini(&blocked);
}

/* The same pairs added in another order give bit-identical estimates. */
static void test_em_independent_of_insertion_order(void)
{
    ecif_model_t first, second;
    train_patterns_t forward, backward;
    train_mask_t mask;
    train_em_result_t r1, r2;
    train_em_options_t opts = {.max_iterations = 50, .tolerance = 1e-12};

    synthetic_model(&first);
    second = first;
    train_patterns_init(&forward);
    train_patterns_init(&backward);
    for (int i = 0; i < 300; i++) {
        uint8_t a = (uint8_t)(i % 4), b = (uint8_t)(i / 4 % 4);
        add_pattern(&forward, a, b, 1 + (uint64_t)i % 7);
    }
    for (int i = 299; i >= 0; i--) {
        uint8_t a = (uint8_t)(i % 4), b = (uint8_t)(i / 4 % 4);
        add_pattern(&backward, a, b, 1 + (uint64_t)i % 7);
    }
    CHECK_INT(train_mask_build(&first, NULL, &forward, &mask, NULL, 0),
              ECIF_OK);
    CHECK_INT(
        train_em(&first, 0.3, &forward, &mask, &opts, NULL, NULL, &r1, NULL, 0),
        ECIF_OK);
    CHECK_INT(train_em(&second, 0.3, &backward, &mask, &opts, NULL, NULL, &r2,
                       NULL, 0),
              ECIF_OK);
    for (int f = 0; f < SYN_FIELDS; f++) {
        for (uint32_t l = 1; l < first.fields[f].n_levels; l++)
            CHECK(memcmp(&first.fields[f].levels[l].m,
                         &second.fields[f].levels[l].m, sizeof(double)) == 0);
    }
    CHECK(memcmp(&r1.prior, &r2.prior, sizeof(double)) == 0);
    train_patterns_fini(&forward);
    train_patterns_fini(&backward);
}

/* People in the test store, each with two records. */
#define STORE_PEOPLE 150

static const char *const syllables[] = {
    "ka", "lo", "mi", "ne", "tu", "ra", "so", "vi", "da", "fe",
    "gu", "ho", "ji", "ba", "ze", "pi", "qu", "wy", "xa", "ce",
};

/*
 * Builds a store of STORE_PEOPLE people with two records each: the second
 * has a mistyped given name for every third person and no phone for every
 * other one. Returns NULL when the build fails.
 */
static ecif_store_t *build_store(void)
{
    static char text[STORE_PEOPLE][2][5][32];
    const char *dir = getenv("ECIF_TEST_TMPDIR");
    char path[600], err[512];
    ecif_builder_options_t opts;
    ecif_builder_t *b;
    ecif_store_t *store = NULL;

    snprintf(path, sizeof(path), "%s/test_train.snap",
             dir != NULL ? dir : "/tmp");
    ecif_builder_options_default(&opts);
    if (ecif_builder_create(&opts, &b, err, sizeof(err)) != ECIF_OK)
        return NULL;
    for (int i = 0; i < STORE_PEOPLE; i++) {
        for (int copy = 0; copy < 2; copy++) {
            char(*t)[32] = text[i][copy];
            ecif_record_t rec = {0};
            snprintf(t[0], 32, "p%d-%d", i, copy);
            snprintf(t[1], 32, "%s%s%s", syllables[i % 20],
                     syllables[(i / 20) % 20],
                     copy == 1 && i % 3 == 0 ? "x" : "");
            snprintf(t[2], 32, "%s%s%s", syllables[(i / 7) % 20],
                     syllables[(i / 3) % 20], syllables[i % 13]);
            snprintf(t[3], 32, "19%02d-%02d-%02d", 20 + i % 70, 1 + i % 12,
                     1 + i % 28);
            snprintf(t[4], 32, "0412%06d", 100000 + i * 7);
            rec.source_system = "test";
            rec.source_id = t[0];
            rec.given_name = t[1];
            rec.family_name = t[2];
            rec.dob = t[3];
            if (copy == 0 || i % 2 == 0) {
                rec.phones[0] = t[4];
                rec.n_phones = 1;
            }
            if (ecif_builder_add_record(b, &rec, err, sizeof(err)) != ECIF_OK)
                fprintf(stderr, "record %s: %s\n", t[0], err);
        }
    }
    if (ecif_builder_write(b, path, NULL, err, sizeof(err)) != ECIF_OK ||
        ecif_store_open(path, &store, err, sizeof(err)) != ECIF_OK)
        fprintf(stderr, "building the test store: %s\n", err);
    ecif_builder_destroy(b);
    unlink(path);
    return store;
}

static ecif_store_t *test_store;

static void test_model_from_store(void)
{
    const ecif_model_t *base = model_default();
    ecif_model_t trained;
    train_options_t opts;
    train_report_t report;
    char err[256] = "";

    CHECK(test_store != NULL);
    if (test_store == NULL)
        return;
    train_options_default(&opts);
    opts.seed = 3;
    CHECK_INT(train_model(test_store, base, &opts, &trained, &report, err,
                          sizeof(err)),
              ECIF_OK);
    CHECK_STR(err, "");
    CHECK_INT(report.records, 2 * STORE_PEOPLE);
    CHECK_INT(report.all_pairs, STORE_PEOPLE * (2 * STORE_PEOPLE - 1));
    /* Fewer pairs than --random-pairs: every pair is compared once. */
    CHECK_INT(report.random_pairs, report.all_pairs);
    CHECK(report.blocked_pairs >= STORE_PEOPLE);
    CHECK_INT(report.em_pairs, report.blocked_pairs);
    CHECK(report.em.converged);
    CHECK_NEAR(report.blocked_prior,
               report.em.prior * (double)report.blocked_pairs /
                   (double)report.all_pairs,
               1e-18);
    /* The prior is the largest implied prior of the kept rules, or the
     * capture-recapture estimate when that is larger. */
    CHECK(report.prior_rule >= 0);
    if (report.prior_rule >= 0) {
        double largest = report.rules[report.prior_rule].implied_prior;
        CHECK(trained.prior ==
              (report.prior_from_capture ? report.capture_prior : largest));
        CHECK(trained.prior >= largest);
        CHECK(trained.prior >= report.capture_prior);
        for (size_t r = 0; r < report.n_rules; r++) {
            if (!report.rules[r].rejected)
                CHECK(report.rules[r].implied_prior <= trained.prior);
        }
    }
    /* Clustering at 0.5 unless the options set another value. */
    CHECK(trained.cluster_probability == TRAIN_CLUSTER_PROBABILITY);
    CHECK(TRAIN_CLUSTER_PROBABILITY == 0.5);
    CHECK(trained.cluster_weight < trained.match_weight);
    CHECK_NEAR(model_probability(&trained, trained.cluster_weight), 0.5, 1e-8);

    /* Agreement on a name and a dob raises the weight, and disagreement
     * lowers it. */
    const model_field_t *name = &trained.fields[ECIF_FIELD_NAME];
    const model_field_t *dob = &trained.fields[ECIF_FIELD_DOB];
    CHECK(name->levels[MODEL_NAME_EXACT].weight > 5.0);
    CHECK(name->levels[MODEL_NAME_MISMATCH].weight < 0.0);
    CHECK(dob->levels[MODEL_DOB_EXACT].weight > 5.0);
    CHECK(dob->levels[MODEL_DOB_MISMATCH].weight < 0.0);

    /* Fixed levels and the rules stay as the base model has them. */
    CHECK(name->levels[MODEL_NAME_SUFFIX_CONFLICT].fixed);
    CHECK_NEAR(
        name->levels[MODEL_NAME_SUFFIX_CONFLICT].weight,
        base->fields[ECIF_FIELD_NAME].levels[MODEL_NAME_SUFFIX_CONFLICT].weight,
        0.0);
    CHECK_NEAR(trained.hard_conflict_weight, base->hard_conflict_weight, 0.0);
    CHECK_NEAR(trained.match_probability, base->match_probability, 0.0);
}

/* The same seed gives the same model, and another seed samples other
 * random pairs. */
static void test_model_deterministic_per_seed(void)
{
    ecif_model_t first, second, other;
    train_options_t opts;
    train_report_t report;

    if (test_store == NULL)
        return;
    train_options_default(&opts);
    opts.random_pairs = 5000;
    opts.seed = 11;
    CHECK_INT(train_model(test_store, model_default(), &opts, &first, &report,
                          NULL, 0),
              ECIF_OK);
    CHECK_INT(report.random_pairs, 5000);
    CHECK_INT(train_model(test_store, model_default(), &opts, &second, &report,
                          NULL, 0),
              ECIF_OK);
    opts.seed = 12;
    CHECK_INT(train_model(test_store, model_default(), &opts, &other, &report,
                          NULL, 0),
              ECIF_OK);

    int same = 0, differ = 0;
    for (int f = 0; f < ECIF_FIELD_COUNT; f++) {
        for (uint32_t l = 1; l < first.fields[f].n_levels; l++) {
            const model_level_t *a = &first.fields[f].levels[l];
            const model_level_t *b = &second.fields[f].levels[l];
            const model_level_t *c = &other.fields[f].levels[l];
            same += memcmp(&a->u, &b->u, sizeof(double)) == 0 &&
                    memcmp(&a->m, &b->m, sizeof(double)) == 0;
            differ += a->u != c->u;
            CHECK(memcmp(&a->u, &b->u, sizeof(double)) == 0);
            CHECK(memcmp(&a->m, &b->m, sizeof(double)) == 0);
        }
    }
    CHECK(same > 0);
    CHECK(differ > 0);
    CHECK(memcmp(&first.prior, &second.prior, sizeof(double)) == 0);
}

static void test_model_rejects_single_record(void)
{
    ecif_model_t trained;
    train_options_t opts;
    train_report_t report;
    char err[256] = "";
    ecif_store_t *store = NULL;
    const char *dir = getenv("ECIF_TEST_TMPDIR");
    char path[600];
    ecif_builder_options_t bopts;
    ecif_builder_t *b;
    ecif_record_t rec = {.source_system = "test",
                         .source_id = "only",
                         .name = "Ada Lovelace",
                         .dob = "1815-12-10"};

    snprintf(path, sizeof(path), "%s/test_train_one.snap",
             dir != NULL ? dir : "/tmp");
    ecif_builder_options_default(&bopts);
    CHECK_INT(ecif_builder_create(&bopts, &b, err, sizeof(err)), ECIF_OK);
    CHECK_INT(ecif_builder_add_record(b, &rec, err, sizeof(err)), ECIF_OK);
    CHECK_INT(ecif_builder_write(b, path, NULL, err, sizeof(err)), ECIF_OK);
    CHECK_INT(ecif_store_open(path, &store, err, sizeof(err)), ECIF_OK);
    ecif_builder_destroy(b);
    unlink(path);
    if (store == NULL)
        return;
    train_options_default(&opts);
    CHECK_INT(train_model(store, model_default(), &opts, &trained, &report, err,
                          sizeof(err)),
              ECIF_EINVAL);
    CHECK(strstr(err, "the store has 1") != NULL);
    ecif_store_close(store);
}

static void test_rule_parse(void)
{
    train_rule_t rule;
    char err[256], buf[64];

    CHECK_INT(train_rule_parse("dob", &rule, err, sizeof(err)), ECIF_OK);
    CHECK_INT(rule.fields, 1u << ECIF_FIELD_DOB);
    CHECK_INT(train_rule_parse("dob+name", &rule, err, sizeof(err)), ECIF_OK);
    CHECK_INT(rule.fields, (1u << ECIF_FIELD_DOB) | (1u << ECIF_FIELD_NAME));
    CHECK_STR(train_rule_str(rule, buf, sizeof(buf)), "name+dob");

    const char *bad[] = {"", "nme", "name+", "name+name", "phone", "+dob"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = '\0';
        CHECK_INT(train_rule_parse(bad[i], &rule, err, sizeof(err)),
                  ECIF_EINVAL);
        CHECK(err[0] != '\0');
    }
}

/*
 * The conflict weight train_conflict_weight() picks is a multiple of 10
 * at or below the base one, makes the model valid, and is the largest
 * such: 10 more fails model_derive.
 */
static void check_conflict_weight(ecif_model_t *model, double base)
{
    char err[256];
    ecif_model_t probe;

    train_set_conflict_weight(model, base);
    model_derive(model, err, sizeof(err)); /* sets the weights */
    double w = train_conflict_weight(model);

    CHECK(w <= base);
    CHECK_NEAR(fmod(w, 10.0), 0.0, 0.0);
    probe = *model;
    train_set_conflict_weight(&probe, w);
    CHECK_INT(model_derive(&probe, err, sizeof(err)), ECIF_OK);
    if (w < base) {
        probe = *model;
        train_set_conflict_weight(&probe, w + 10.0);
        CHECK_INT(model_derive(&probe, err, sizeof(err)), ECIF_EINVAL);
        CHECK(strstr(err, "does not outweigh") != NULL);
    }
}

static void test_conflict_weight_smallest_round(void)
{
    ecif_model_t model = *model_default();

    /* The built-in model needs no change. */
    check_conflict_weight(&model, -40.0);
    CHECK_NEAR(train_conflict_weight(&model), -40.0, 0.0);

    /* Agreements of 20 and 25 more bits need a stronger conflict. */
    model.fields[ECIF_FIELD_NAME].levels[MODEL_NAME_EXACT].u = 1e-9;
    check_conflict_weight(&model, -40.0);
    CHECK(train_conflict_weight(&model) < -40.0);
    model.fields[ECIF_FIELD_DOB].levels[MODEL_DOB_EXACT].u = 1e-9;
    check_conflict_weight(&model, -40.0);
    check_conflict_weight(&model, -45.0);
    CHECK(train_conflict_weight(&model) <= -60.0);
}

/*
 * A store of people with two records each, named from a small pool so
 * that each full name belongs to about ten people, so the blocking keys
 * gather mostly namesakes. A third of the second records has a typo in
 * the given name, a third a day one digit off, and the rest are exact.
 */
#define NAMESAKE_PEOPLE 300

static ecif_store_t *build_namesake_store(void)
{
    static const char *const family[] = {"becker", "fischer", "hoffmann",
                                         "koenig", "lehmann", "schulz"};
    static const char *const given[] = {"anna", "bernd", "claudia", "dieter",
                                        "erika"};
    static char text[NAMESAKE_PEOPLE][2][3][32];
    const char *dir = getenv("ECIF_TEST_TMPDIR");
    char path[600], err[512];
    ecif_builder_options_t opts;
    ecif_builder_t *b;
    ecif_store_t *store = NULL;
    train_rng_t rng;

    snprintf(path, sizeof(path), "%s/test_train_namesakes.snap",
             dir != NULL ? dir : "/tmp");
    ecif_builder_options_default(&opts);
    if (ecif_builder_create(&opts, &b, err, sizeof(err)) != ECIF_OK)
        return NULL;
    train_rng_seed(&rng, 99);
    for (int i = 0; i < NAMESAKE_PEOPLE; i++) {
        int f = (int)train_rng_below(&rng, 6),
            g = (int)train_rng_below(&rng, 5);
        int year = 1950 + (int)train_rng_below(&rng, 20);
        int month = 1 + (int)train_rng_below(&rng, 12);
        int day = 1 + (int)train_rng_below(&rng, 28);
        for (int copy = 0; copy < 2; copy++) {
            char(*t)[32] = text[i][copy];
            ecif_record_t rec = {0};
            bool typo = copy == 1 && i % 3 == 0;
            bool slip = copy == 1 && i % 3 == 1;
            int d = day;

            /* Change the last digit of the day by one. */
            if (slip)
                d = day % 10 == 9 ? day - 1 : day + 1;

            snprintf(t[0], 32, "n%d-%d", i, copy);
            snprintf(t[1], 32, "%s%s", given[g], typo ? "x" : "");
            snprintf(t[2], 32, "%d-%02d-%02d", year, month, d);
            rec.source_system = "test";
            rec.source_id = t[0];
            rec.given_name = t[1];
            rec.family_name = family[f];
            rec.dob = t[2];
            if (ecif_builder_add_record(b, &rec, err, sizeof(err)) != ECIF_OK)
                fprintf(stderr, "record %s: %s\n", t[0], err);
        }
    }
    if (ecif_builder_write(b, path, NULL, err, sizeof(err)) != ECIF_OK ||
        ecif_store_open(path, &store, err, sizeof(err)) != ECIF_OK)
        fprintf(stderr, "building the namesake store: %s\n", err);
    ecif_builder_destroy(b);
    unlink(path);
    return store;
}

/* m of the dob levels that rule a pair out: mismatch, impossible gap. */
static double dob_disagreement_m(const ecif_model_t *model)
{
    const model_field_t *dob = &model->fields[ECIF_FIELD_DOB];
    return dob->levels[MODEL_DOB_MISMATCH].m +
           dob->levels[MODEL_DOB_IMPOSSIBLE_GAP].m;
}

/*
 * On the namesake store, EM over the blocked pairs explains the
 * namesakes as matches, so m of a dob mismatch comes out large. With the
 * training rules, the dob levels are estimated from pairs grouped by
 * name parts, with the name still in the E step. The name levels are
 * estimated from pairs grouped by dob. Every duplicate has an exact or a
 * one-digit dob (two thirds an exact one) and an exact or fuzzy name.
 */
static void test_rules_recover_m_among_namesakes(void)
{
    ecif_store_t *store = build_namesake_store();
    ecif_model_t single, ruled;
    train_options_t opts;
    train_report_t report;
    char err[256] = "";

    CHECK(store != NULL);
    if (store == NULL)
        return;
    train_options_default(&opts);
    opts.seed = 5;
    opts.n_rules = 0;
    CHECK_INT(train_model(store, model_default(), &opts, &single, &report, err,
                          sizeof(err)),
              ECIF_OK);
    /* Namesakes outnumber the duplicates among the blocked pairs. */
    CHECK(report.blocked_pairs > 3 * NAMESAKE_PEOPLE);
    CHECK(report.em.prior > 0.5);
    CHECK(dob_disagreement_m(&single) > 0.3);
    /* Without rules the prior comes from the blocked pairs. */
    CHECK_INT(report.prior_rule, -1);
    CHECK(single.prior == report.blocked_prior);
    double blocked_prior = report.blocked_prior;

    train_options_default(&opts);
    opts.seed = 5;
    CHECK_INT(train_model(store, model_default(), &opts, &ruled, &report, err,
                          sizeof(err)),
              ECIF_OK);
    CHECK_STR(err, "");
    CHECK_INT(report.n_rules, 3);
    CHECK(report.rule_fields & (1u << ECIF_FIELD_NAME));
    CHECK(report.rule_fields & (1u << ECIF_FIELD_DOB));
    CHECK(report.rules[0].random_pairs >= 1000); /* dob: u conditioned */
    CHECK(dob_disagreement_m(&ruled) < 0.2);

    /* Both rules gather every duplicate pair, so the prior they imply is
     * the share of duplicate pairs among all pairs. */
    double share = NAMESAKE_PEOPLE / (double)report.all_pairs;
    for (size_t r = 0; r < 2; r++) {
        CHECK(!report.rules[r].rejected);
        CHECK_NEAR(report.rules[r].implied_prior, share, 0.2 * share);
    }
    /* The model takes the rules' prior, not the blocked pairs', which
     * counts the namesakes as matches. */
    CHECK(report.prior_rule >= 0);
    CHECK_NEAR(ruled.prior, share, 0.2 * share);
    CHECK(ruled.prior < 0.5 * blocked_prior);

    /* An explicit clustering threshold is kept as given. */
    opts.cluster_probability = 0.9;
    ecif_model_t strict;
    CHECK_INT(train_model(store, model_default(), &opts, &strict, &report, err,
                          sizeof(err)),
              ECIF_OK);
    CHECK(strict.cluster_probability == 0.9);
    CHECK(strict.cluster_weight > ruled.cluster_weight);
    CHECK(strict.prior == ruled.prior);

    const model_field_t *dob = &ruled.fields[ECIF_FIELD_DOB];
    const model_field_t *name = &ruled.fields[ECIF_FIELD_NAME];
    CHECK_NEAR(dob->levels[MODEL_DOB_EXACT].m, 2.0 / 3.0, 0.15);
    CHECK_NEAR(dob->levels[MODEL_DOB_ONE_DIGIT].m, 1.0 / 3.0, 0.15);
    CHECK(name->levels[MODEL_NAME_EXACT].m +
              name->levels[MODEL_NAME_LATIN_FUZZY].m >
          0.8);
    CHECK(dob->levels[MODEL_DOB_MISMATCH].weight < -3.0);
    CHECK(dob->levels[MODEL_DOB_MISMATCH].weight <
          single.fields[ECIF_FIELD_DOB].levels[MODEL_DOB_MISMATCH].weight);
    ecif_store_close(store);
}

/*
 * A store of people with two records each, sharing a phone and an email.
 * The second record has a new name (no token in common) for every other
 * person, and a new dob (year, month and day all changed) for every
 * other pair of people, independently. So the dob rule and the name rule
 * each gather half of the duplicate pairs, and name+dob a quarter.
 */
#define CHANGED_PEOPLE 400

static ecif_store_t *build_changed_store(void)
{
    static char text[CHANGED_PEOPLE][2][6][40];
    const char *dir = getenv("ECIF_TEST_TMPDIR");
    char path[600], err[512];
    ecif_builder_options_t opts;
    ecif_builder_t *b;
    ecif_store_t *store = NULL;

    snprintf(path, sizeof(path), "%s/test_train_changed.snap",
             dir != NULL ? dir : "/tmp");
    ecif_builder_options_default(&opts);
    if (ecif_builder_create(&opts, &b, err, sizeof(err)) != ECIF_OK)
        return NULL;
    for (int i = 0; i < CHANGED_PEOPLE; i++) {
        int year = 1930 + i % 70, month = 1 + i % 12, day = 1 + (i / 12) % 28;
        for (int copy = 0; copy < 2; copy++) {
            char(*t)[40] = text[i][copy];
            ecif_record_t rec = {0};
            bool new_name = copy == 1 && i % 2 == 1;
            bool new_dob = copy == 1 && (i / 2) % 2 == 1;

            snprintf(t[0], 40, "c%d-%d", i, copy);
            if (new_name) {
                snprintf(t[1], 40, "%s%sy", syllables[(i * 7 + 3) % 20],
                         syllables[(i / 20 + 5) % 20]);
                snprintf(t[2], 40, "%s%sw", syllables[(i * 3 + 1) % 20],
                         syllables[(i / 5) % 20]);
            } else {
                snprintf(t[1], 40, "%s%s", syllables[i % 20],
                         syllables[(i / 20) % 20]);
                snprintf(t[2], 40, "%s%s%s", syllables[(i / 7) % 20],
                         syllables[(i / 3) % 20], syllables[i % 13]);
            }
            if (new_dob)
                snprintf(t[3], 40, "%d-%02d-%02d", year + 7, month % 12 + 1,
                         day % 28 + 1);
            else
                snprintf(t[3], 40, "%d-%02d-%02d", year, month, day);
            snprintf(t[4], 40, "0413%06d", 200000 + i * 11);
            snprintf(t[5], 40, "person%d@example.com", i);
            rec.source_system = "test";
            rec.source_id = t[0];
            rec.given_name = t[1];
            rec.family_name = t[2];
            rec.dob = t[3];
            rec.phones[0] = t[4];
            rec.n_phones = 1;
            rec.emails[0] = t[5];
            rec.n_emails = 1;
            if (ecif_builder_add_record(b, &rec, err, sizeof(err)) != ECIF_OK)
                fprintf(stderr, "record %s: %s\n", t[0], err);
        }
    }
    if (ecif_builder_write(b, path, NULL, err, sizeof(err)) != ECIF_OK ||
        ecif_store_open(path, &store, err, sizeof(err)) != ECIF_OK)
        fprintf(stderr, "building the changed-fields store: %s\n", err);
    ecif_builder_destroy(b);
    unlink(path);
    return store;
}

/*
 * Where each rule misses half of the matches, independently of the
 * other, the largest rule's prior is half the share of duplicate pairs.
 * Capture-recapture over dob, name and name+dob recovers the share.
 */
static void test_capture_prior_counts_missed_matches(void)
{
    ecif_store_t *store = build_changed_store();
    ecif_model_t trained;
    train_options_t opts;
    train_report_t report;
    char err[256] = "";

    CHECK(store != NULL);
    if (store == NULL)
        return;
    train_options_default(&opts);
    opts.seed = 7;
    CHECK_INT(train_model(store, model_default(), &opts, &trained, &report, err,
                          sizeof(err)),
              ECIF_OK);
    CHECK_STR(err, "");
    CHECK_INT(report.n_rules, 3);

    double share = CHANGED_PEOPLE / (double)report.all_pairs;
    CHECK(report.prior_rule >= 0);
    if (report.prior_rule >= 0)
        CHECK(report.rules[report.prior_rule].implied_prior < 0.75 * share);
    CHECK(report.prior_from_capture);
    CHECK_INT(report.capture_rules[0], 0); /* dob */
    CHECK_INT(report.capture_rules[1], 1); /* name */
    CHECK_INT(report.capture_rules[2], 2); /* name+dob */
    CHECK(trained.prior == report.capture_prior);
    CHECK_NEAR(trained.prior, share, 0.25 * share);
    ecif_store_close(store);
}

int main(void)
{
    RUN(test_rng_same_seed_same_sequence);
    RUN(test_rng_below_uniform);
    RUN(test_patterns_merge_equal_vectors);
    RUN(test_mask_rejects_unknown_level);
    RUN(test_u_add_one_smoothing);
    RUN(test_em_one_iteration_by_hand);
    RUN(test_em_fixed_level_counts_as_conflict);
    RUN(test_em_rejects_bad_input);
    RUN(test_em_recovers_known_parameters);
    RUN(test_em_independent_of_insertion_order);
    RUN(test_rule_parse);
    RUN(test_conflict_weight_smallest_round);

    test_store = build_store();
    RUN(test_model_from_store);
    RUN(test_model_deterministic_per_seed);
    RUN(test_model_rejects_single_record);
    RUN(test_rules_recover_m_among_namesakes);
    RUN(test_capture_prior_counts_missed_matches);
    ecif_store_close(test_store);
    return unit_report();
}
