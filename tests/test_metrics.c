/*
 * Tests of the accuracy metrics (bench/metrics.c) on examples counted by
 * hand, edge cases, and the symmetry between precision and recall.
 */
#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "metrics.h"
#include "status.h"
#include "unit.h"

#define CHECK_NEAR(actual, expected)                                           \
    do {                                                                       \
        double unit_a_ = (actual);                                             \
        double unit_e_ = (expected);                                           \
        if (!(fabs(unit_a_ - unit_e_) <= 1e-12)) {                             \
            fprintf(stderr, "%s:%d: %s is %.17g, expected %.17g\n", __FILE__,  \
                    __LINE__, #actual, unit_a_, unit_e_);                      \
            unit_failed_checks++;                                              \
        }                                                                      \
    } while (0)

/*
 * Seven records in three true entities, A = {0, 1, 2}, B = {3, 4} and
 * C = {5, 6}. The predicted clustering splits record 2 off A and wrongly
 * merges B and C: {0, 1}, {2}, {3, 4, 5, 6}. The labels are sparse on
 * purpose, and one is near UINT32_MAX.
 *
 * True pairs: A 3 + B 1 + C 1 = 5.
 * Predicted pairs: {0,1} 1 + {2} 0 + {3,4,5,6} 6 = 7.
 * True positives, the pairs inside each (true, predicted) cell:
 *   {0,1} 1, {2} 0, {3,4} 1, {5,6} 1 = 3. So FP = 7 - 3 = 4, FN = 5 - 3 = 2.
 * Precision 3/7, recall 3/5, F1 = 2 (9/35) / (36/35) = 1/2.
 *
 * B-cubed per record (cell size / predicted size, cell size / true size):
 *   r0, r1: cell {0,1}: P = 2/2 = 1, R = 2/3
 *   r2:     cell {2}:   P = 1/1 = 1, R = 1/3
 *   r3, r4: cell {3,4}: P = 2/4,     R = 2/2 = 1
 *   r5, r6: cell {5,6}: P = 2/4,     R = 2/2 = 1
 * Precision (1 + 1 + 1 + 4 * 1/2) / 7 = 5/7.
 * Recall (2/3 + 2/3 + 1/3 + 4) / 7 = (17/3) / 7 = 17/21.
 * F1 = 2 (5/7)(17/21) / (5/7 + 17/21) = (170/147) / (32/21) = 85/112.
 */
static const uint32_t example_truth[7] = {10, 10, 10, 20, 20, 30, 30};
static const uint32_t example_predicted[7] = {
    7, 7, 900, 4000000000, 4000000000, 4000000000, 4000000000};

static void test_pairs_hand_example(void)
{
    metrics_pairs_t pairs;
    CHECK_INT(metrics_count_pairs(example_truth, example_predicted, 7, &pairs),
              ECIF_OK);
    CHECK_INT(pairs.true_pairs, 5);
    CHECK_INT(pairs.predicted_pairs, 7);
    CHECK_INT(pairs.true_positives, 3);

    metrics_prf_t prf;
    metrics_prf_from_counts(pairs.true_positives, pairs.predicted_pairs,
                            pairs.true_pairs, &prf);
    CHECK_NEAR(prf.precision, 3.0 / 7.0);
    CHECK_NEAR(prf.recall, 3.0 / 5.0);
    CHECK_NEAR(prf.f1, 0.5);
}

static void test_bcubed_hand_example(void)
{
    metrics_prf_t b3;
    CHECK_INT(metrics_bcubed(example_truth, example_predicted, 7, &b3),
              ECIF_OK);
    CHECK_NEAR(b3.precision, 5.0 / 7.0);
    CHECK_NEAR(b3.recall, 17.0 / 21.0);
    CHECK_NEAR(b3.f1, 85.0 / 112.0);
}

/*
 * Every record alone: no predicted pair, so precision is 1 by definition
 * and recall 0. B-cubed precision is 1 for each record; recall is 1/3 for
 * the three records of A, 1/2 for the four of B and C: (1 + 2) / 7 = 3/7,
 * and F1 = 2 (3/7) / (10/7) = 3/5.
 */
static void test_all_singletons(void)
{
    const uint32_t predicted[7] = {0, 1, 2, 3, 4, 5, 6};
    metrics_pairs_t pairs;
    CHECK_INT(metrics_count_pairs(example_truth, predicted, 7, &pairs),
              ECIF_OK);
    CHECK_INT(pairs.true_pairs, 5);
    CHECK_INT(pairs.predicted_pairs, 0);
    CHECK_INT(pairs.true_positives, 0);

    metrics_prf_t prf;
    metrics_prf_from_counts(0, 0, 5, &prf);
    CHECK_NEAR(prf.precision, 1.0);
    CHECK_NEAR(prf.recall, 0.0);
    CHECK_NEAR(prf.f1, 0.0);

    metrics_prf_t b3;
    CHECK_INT(metrics_bcubed(example_truth, predicted, 7, &b3), ECIF_OK);
    CHECK_NEAR(b3.precision, 1.0);
    CHECK_NEAR(b3.recall, 3.0 / 7.0);
    CHECK_NEAR(b3.f1, 0.6);
}

/*
 * All records in one cluster: 21 predicted pairs, all 5 true pairs found.
 * Precision 5/21, recall 1, F1 = (10/21) / (26/21) = 5/13. B-cubed
 * precision is |T(i)| / 7 per record: (3*3 + 2*2 + 2*2) / 49 = 17/49,
 * recall 1, F1 = (34/49) / (66/49) = 17/33.
 */
static void test_one_big_cluster(void)
{
    const uint32_t predicted[7] = {5, 5, 5, 5, 5, 5, 5};
    metrics_pairs_t pairs;
    CHECK_INT(metrics_count_pairs(example_truth, predicted, 7, &pairs),
              ECIF_OK);
    CHECK_INT(pairs.true_pairs, 5);
    CHECK_INT(pairs.predicted_pairs, 21);
    CHECK_INT(pairs.true_positives, 5);

    metrics_prf_t prf;
    metrics_prf_from_counts(5, 21, 5, &prf);
    CHECK_NEAR(prf.precision, 5.0 / 21.0);
    CHECK_NEAR(prf.recall, 1.0);
    CHECK_NEAR(prf.f1, 5.0 / 13.0);

    metrics_prf_t b3;
    CHECK_INT(metrics_bcubed(example_truth, predicted, 7, &b3), ECIF_OK);
    CHECK_NEAR(b3.precision, 17.0 / 49.0);
    CHECK_NEAR(b3.recall, 1.0);
    CHECK_NEAR(b3.f1, 17.0 / 33.0);
}

/* No records: no pairs, and every ratio takes its value for 0 / 0. */
static void test_empty_input(void)
{
    metrics_pairs_t pairs = {1, 1, 1};
    CHECK_INT(metrics_count_pairs(NULL, NULL, 0, &pairs), ECIF_OK);
    CHECK_INT(pairs.true_pairs, 0);
    CHECK_INT(pairs.predicted_pairs, 0);
    CHECK_INT(pairs.true_positives, 0);

    metrics_prf_t prf;
    metrics_prf_from_counts(0, 0, 0, &prf);
    CHECK_NEAR(prf.precision, 1.0);
    CHECK_NEAR(prf.recall, 1.0);
    CHECK_NEAR(prf.f1, 1.0);

    metrics_prf_t b3;
    CHECK_INT(metrics_bcubed(NULL, NULL, 0, &b3), ECIF_OK);
    CHECK_NEAR(b3.precision, 1.0);
    CHECK_NEAR(b3.recall, 1.0);
    CHECK_NEAR(b3.f1, 1.0);
}

/* Swapping truth and prediction swaps precision and recall. */
static void test_swap_symmetry(void)
{
    metrics_pairs_t ab, ba;
    CHECK_INT(metrics_count_pairs(example_truth, example_predicted, 7, &ab),
              ECIF_OK);
    CHECK_INT(metrics_count_pairs(example_predicted, example_truth, 7, &ba),
              ECIF_OK);
    CHECK_INT(ab.true_pairs, ba.predicted_pairs);
    CHECK_INT(ab.predicted_pairs, ba.true_pairs);
    CHECK_INT(ab.true_positives, ba.true_positives);

    metrics_prf_t b3_ab, b3_ba;
    CHECK_INT(metrics_bcubed(example_truth, example_predicted, 7, &b3_ab),
              ECIF_OK);
    CHECK_INT(metrics_bcubed(example_predicted, example_truth, 7, &b3_ba),
              ECIF_OK);
    CHECK_NEAR(b3_ab.precision, b3_ba.recall);
    CHECK_NEAR(b3_ab.recall, b3_ba.precision);
    CHECK_NEAR(b3_ab.f1, b3_ba.f1);
}

/* The clustering equal to the truth scores 1 everywhere. */
static void test_perfect_clustering(void)
{
    metrics_pairs_t pairs;
    CHECK_INT(metrics_count_pairs(example_truth, example_truth, 7, &pairs),
              ECIF_OK);
    CHECK_INT(pairs.true_positives, 5);
    CHECK_INT(pairs.predicted_pairs, 5);

    metrics_prf_t b3;
    CHECK_INT(metrics_bcubed(example_truth, example_truth, 7, &b3), ECIF_OK);
    CHECK_NEAR(b3.precision, 1.0);
    CHECK_NEAR(b3.recall, 1.0);
    CHECK_NEAR(b3.f1, 1.0);
}

/*
 * Five records {0..4}, entities {0,1,2} and {3,4}: 3 + 1 = 4 true pairs
 * out of 10. Blocking gives the candidate pairs (0,1), (3,4) and (1,3):
 * 3 pairs, 2 of them true. Pairs completeness 2/4, reduction ratio
 * 1 - 3/10 = 0.7.
 */
static void test_blocking_hand_example(void)
{
    metrics_blocking_t b;
    metrics_blocking_from_counts(4, 2, 3, 5, &b);
    CHECK_NEAR(b.pairs_completeness, 0.5);
    CHECK_NEAR(b.reduction_ratio, 0.7);

    /* Every pair a candidate: all true pairs kept, nothing saved. */
    metrics_blocking_from_counts(4, 4, 10, 5, &b);
    CHECK_NEAR(b.pairs_completeness, 1.0);
    CHECK_NEAR(b.reduction_ratio, 0.0);
}

static void test_blocking_degenerate(void)
{
    metrics_blocking_t b;
    metrics_blocking_from_counts(0, 0, 0, 1, &b);
    CHECK_NEAR(b.pairs_completeness, 1.0);
    CHECK_NEAR(b.reduction_ratio, 0.0);
    CHECK_INT(metrics_pair_count(0), 0);
    CHECK_INT(metrics_pair_count(1), 0);
    CHECK_INT(metrics_pair_count(50578), 1279041753ull);
}

/*
 * k = 3. Present queries at ranks 1, 2, none and 3: hit@1 1/4, hit@3 3/4,
 * MRR (1 + 1/2 + 0 + 1/3) / 4 = 11/24. Absent queries that got no match,
 * match, no match: correct no-match rate 2/3.
 */
static void test_ranking_hand_example(void)
{
    metrics_ranking_t acc;
    metrics_ranking_init(&acc, 3);
    metrics_ranking_add_present(&acc, 1);
    metrics_ranking_add_present(&acc, 2);
    metrics_ranking_add_present(&acc, 0);
    metrics_ranking_add_present(&acc, 3);
    metrics_ranking_add_absent(&acc, true);
    metrics_ranking_add_absent(&acc, false);
    metrics_ranking_add_absent(&acc, true);
    CHECK_INT(acc.present, 4);
    CHECK_INT(acc.hit_at_1, 1);
    CHECK_INT(acc.hit_at_k, 3);
    CHECK_INT(acc.absent, 3);
    CHECK_INT(acc.correct_no_match, 2);

    metrics_ranking_rates_t rates;
    metrics_ranking_rates(&acc, &rates);
    CHECK_NEAR(rates.hit_at_1, 0.25);
    CHECK_NEAR(rates.hit_at_k, 0.75);
    CHECK_NEAR(rates.mrr, 11.0 / 24.0);
    CHECK_NEAR(rates.correct_no_match, 2.0 / 3.0);
}

/* A rank past k counts toward MRR but not toward hit@k. */
static void test_ranking_past_cutoff(void)
{
    metrics_ranking_t acc;
    metrics_ranking_init(&acc, 1);
    metrics_ranking_add_present(&acc, 4);
    CHECK_INT(acc.hit_at_1, 0);
    CHECK_INT(acc.hit_at_k, 0);
    CHECK_NEAR(acc.reciprocal_rank, 0.25);
}

static void test_ranking_empty(void)
{
    metrics_ranking_t acc;
    metrics_ranking_init(&acc, 5);
    metrics_ranking_rates_t rates;
    metrics_ranking_rates(&acc, &rates);
    CHECK_NEAR(rates.hit_at_1, 0.0);
    CHECK_NEAR(rates.hit_at_k, 0.0);
    CHECK_NEAR(rates.mrr, 0.0);
    CHECK_NEAR(rates.correct_no_match, 0.0);
}

/*
 * Eight predictions counted by hand (p, outcome), by bin:
 *   [0, 0.1):        (0, no), (0.05, yes)    sum 0.05, 1 true, gap 0.95
 *   [0.1, 0.2):      (0.1, no), (0.15, yes)  sum 0.25, 1 true, gap 0.75
 *   [0.9, 0.99):     (0.95, yes), (0.95, no) sum 1.9,  1 true, gap 0.9
 *   [0.999, 0.9999): (0.999, yes)            sum 0.999, 1 true, gap 0.001
 *   [0.9999, 1]:     (1, yes)                sum 1,    1 true, gap 0
 * where a gap is |sum of p - true matches| = count * |mean p - share|.
 * Mean predicted 4.199 / 8, observed 5 / 8, ECE 2.601 / 8.
 * Squared errors: 0, 0.9025, 0.01, 0.7225, 0.0025, 0.9025, 0.000001, 0,
 * so Brier = 2.540001 / 8.
 */
static void test_calibration_hand_example(void)
{
    static const struct {
        double p;
        bool is_match;
    } preds[] = {
        {0.0, false}, {0.05, true},  {0.1, false},  {0.15, true},
        {0.95, true}, {0.95, false}, {0.999, true}, {1.0, true},
    };
    metrics_calibration_t acc;
    metrics_calibration_init(&acc);
    for (size_t i = 0; i < sizeof(preds) / sizeof(preds[0]); i++)
        CHECK_INT(metrics_calibration_add(&acc, preds[i].p, preds[i].is_match),
                  ECIF_OK);

    CHECK_INT(acc.count, 8);
    CHECK_INT(acc.positives, 5);
    CHECK_INT(acc.bins[0].count, 2);
    CHECK_INT(acc.bins[0].positives, 1);
    CHECK_NEAR(acc.bins[0].predicted_sum, 0.05);
    CHECK_INT(acc.bins[1].count, 2);
    CHECK_INT(acc.bins[1].positives, 1);
    CHECK_NEAR(acc.bins[1].predicted_sum, 0.25);
    CHECK_INT(acc.bins[9].count, 2);
    CHECK_INT(acc.bins[9].positives, 1);
    CHECK_NEAR(acc.bins[9].predicted_sum, 1.9);
    CHECK_INT(acc.bins[10].count, 0);
    CHECK_INT(acc.bins[11].count, 1);
    CHECK_INT(acc.bins[12].count, 1);
    CHECK_INT(acc.bins[12].positives, 1);
    for (int i = 2; i <= 8; i++)
        CHECK_INT(acc.bins[i].count, 0);

    metrics_calibration_scores_t s;
    metrics_calibration_scores(&acc, &s);
    CHECK_NEAR(s.mean_predicted, 4.199 / 8);
    CHECK_NEAR(s.observed, 5.0 / 8);
    CHECK_NEAR(s.brier, 2.540001 / 8);
    CHECK_NEAR(s.ece, 2.601 / 8);
}

/* A bin contains [lower, upper), and 1 is in the last bin. */
static void test_calibration_bin_edges(void)
{
    CHECK_INT(metrics_calibration_bin(0.0), 0);
    CHECK_INT(metrics_calibration_bin(0.0999), 0);
    CHECK_INT(metrics_calibration_bin(0.1), 1);
    CHECK_INT(metrics_calibration_bin(0.5), 5);
    CHECK_INT(metrics_calibration_bin(0.8999), 8);
    CHECK_INT(metrics_calibration_bin(0.9), 9);
    CHECK_INT(metrics_calibration_bin(0.985), 9);
    CHECK_INT(metrics_calibration_bin(0.99), 10);
    CHECK_INT(metrics_calibration_bin(0.999), 11);
    CHECK_INT(metrics_calibration_bin(0.9999), 12);
    CHECK_INT(metrics_calibration_bin(1.0), 12);

    metrics_calibration_t acc;
    metrics_calibration_init(&acc);
    CHECK_NEAR(acc.bins[0].lower, 0.0);
    CHECK_NEAR(acc.bins[9].lower, 0.9);
    CHECK_NEAR(acc.bins[9].upper, 0.99);
    CHECK_NEAR(acc.bins[12].upper, 1.0);
    for (int i = 1; i < METRICS_CALIBRATION_BINS; i++)
        CHECK_NEAR(acc.bins[i].lower, acc.bins[i - 1].upper);
}

static void test_calibration_rejects_invalid(void)
{
    CHECK_INT(metrics_calibration_bin(-0.01), -1);
    CHECK_INT(metrics_calibration_bin(1.0000001), -1);
    CHECK_INT(metrics_calibration_bin(NAN), -1);

    metrics_calibration_t acc;
    metrics_calibration_init(&acc);
    CHECK_INT(metrics_calibration_add(&acc, NAN, true), ECIF_EINVAL);
    CHECK_INT(metrics_calibration_add(&acc, 1.5, false), ECIF_EINVAL);
    CHECK_INT(acc.count, 0);
    CHECK_INT(acc.positives, 0);
    CHECK_NEAR(acc.squared_error_sum, 0.0);
}

/*
 * Ten predictions of 0.3 with three true matches are calibrated (ECE 0)
 * but not sharp: Brier = (3 * 0.7^2 + 7 * 0.3^2) / 10 = 0.21.
 */
static void test_calibration_calibrated_not_sharp(void)
{
    metrics_calibration_t acc;
    metrics_calibration_init(&acc);
    for (int i = 0; i < 10; i++)
        CHECK_INT(metrics_calibration_add(&acc, 0.3, i < 3), ECIF_OK);
    metrics_calibration_scores_t s;
    metrics_calibration_scores(&acc, &s);
    CHECK_NEAR(s.ece, 0.0);
    CHECK_NEAR(s.brier, 0.21);
    CHECK_NEAR(s.mean_predicted, 0.3);
    CHECK_NEAR(s.observed, 0.3);
}

/* Confident and wrong in every case: both scores reach their maximum. */
static void test_calibration_confident_wrong(void)
{
    metrics_calibration_t acc;
    metrics_calibration_init(&acc);
    CHECK_INT(metrics_calibration_add(&acc, 1.0, false), ECIF_OK);
    CHECK_INT(metrics_calibration_add(&acc, 0.0, true), ECIF_OK);
    metrics_calibration_scores_t s;
    metrics_calibration_scores(&acc, &s);
    CHECK_NEAR(s.ece, 1.0);
    CHECK_NEAR(s.brier, 1.0);
}

static void test_calibration_empty(void)
{
    metrics_calibration_t acc;
    metrics_calibration_init(&acc);
    metrics_calibration_scores_t s;
    metrics_calibration_scores(&acc, &s);
    CHECK_NEAR(s.mean_predicted, 0.0);
    CHECK_NEAR(s.observed, 0.0);
    CHECK_NEAR(s.brier, 0.0);
    CHECK_NEAR(s.ece, 0.0);
}

int main(void)
{
    RUN(test_pairs_hand_example);
    RUN(test_bcubed_hand_example);
    RUN(test_all_singletons);
    RUN(test_one_big_cluster);
    RUN(test_empty_input);
    RUN(test_swap_symmetry);
    RUN(test_perfect_clustering);
    RUN(test_blocking_hand_example);
    RUN(test_blocking_degenerate);
    RUN(test_ranking_hand_example);
    RUN(test_ranking_past_cutoff);
    RUN(test_ranking_empty);
    RUN(test_calibration_hand_example);
    RUN(test_calibration_bin_edges);
    RUN(test_calibration_rejects_invalid);
    RUN(test_calibration_calibrated_not_sharp);
    RUN(test_calibration_confident_wrong);
    RUN(test_calibration_empty);
    return unit_report();
}
