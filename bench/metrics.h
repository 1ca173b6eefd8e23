/*
 * Accuracy metrics of entity resolution: pairwise precision and recall,
 * B-cubed, blocking quality and ranking, computed from labels and counts.
 *
 * The module does no I/O. A clustering is an array of labels, one per
 * record: records with equal labels are in the same cluster. Labels are
 * any uint32_t values; they need not be dense. Pairs are counted from the
 * contingency table of (true label, predicted label), so a clustering of
 * n records costs O(n log n) time and O(n) memory, never n^2.
 *
 * A ratio whose denominator is 0 takes a fixed value, chosen so that the
 * figure states what was observed: no predicted pair means no wrong pair
 * (precision 1), no true pair means no missed pair (recall 1). Each
 * function names its value for that case. bench/EVALUATION.md describes
 * every metric and how it is computed.
 */
#ifndef ECIF_BENCH_METRICS_H
#define ECIF_BENCH_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Pair counts of a clustering against the truth. */
typedef struct metrics_pairs {
    uint64_t true_pairs;      /* pairs with the same true label */
    uint64_t predicted_pairs; /* pairs with the same predicted label */
    uint64_t true_positives;  /* pairs with both labels the same */
} metrics_pairs_t;

/* Precision, recall and their harmonic mean, each in [0, 1]. */
typedef struct metrics_prf {
    double precision;
    double recall;
    double f1;
} metrics_prf_t;

typedef struct metrics_blocking {
    /* Share of true pairs that are candidate pairs; 1 without true pairs. */
    double pairs_completeness;
    /* 1 - candidate pairs / all pairs; 0 with fewer than two records. */
    double reduction_ratio;
} metrics_blocking_t;

/*
 * Counts of a ranked retrieval run. A query whose true record is in the
 * index is present; its rank is the 1-based position of the first
 * candidate that contains a true record, or 0 when none does. A query
 * whose true record is not in the index is absent.
 */
typedef struct metrics_ranking {
    uint32_t k;                /* cut-off of hit@k */
    uint64_t present;          /* present queries */
    uint64_t hit_at_1;         /* present queries with rank 1 */
    uint64_t hit_at_k;         /* present queries with rank 1..k */
    double reciprocal_rank;    /* sum of 1/rank over present queries */
    uint64_t absent;           /* absent queries */
    uint64_t correct_no_match; /* absent queries answered with no match */
} metrics_ranking_t;

typedef struct metrics_ranking_rates {
    double hit_at_1;         /* hit_at_1 / present; 0 without present */
    double hit_at_k;         /* hit_at_k / present; 0 without present */
    double mrr;              /* reciprocal_rank / present; 0 likewise */
    double correct_no_match; /* correct_no_match / absent; 0 without absent */
} metrics_ranking_rates_t;

/* Returns n(n-1)/2, the number of unordered pairs of n items. */
uint64_t metrics_pair_count(uint64_t n);

/*
 * Counts the true, predicted and true positive pairs of n records with
 * true labels truth[i] and predicted labels predicted[i]. Allocates 16n
 * bytes of scratch. Returns ECIF_OK or ECIF_ENOMEM (out untouched).
 */
int metrics_count_pairs(const uint32_t *truth, const uint32_t *predicted,
                        size_t n, metrics_pairs_t *out);

/*
 * Computes precision = tp / predicted (1 when predicted is 0), recall =
 * tp / actual (1 when actual is 0) and F1 = 2PR / (P + R) (0 when P + R
 * is 0). Requires tp <= predicted and tp <= actual.
 */
void metrics_prf_from_counts(uint64_t tp, uint64_t predicted, uint64_t actual,
                             metrics_prf_t *out);

/*
 * Computes B-cubed precision and recall: the means over the n records of
 * |C(i) & T(i)| / |C(i)| and |C(i) & T(i)| / |T(i)|, where C(i) is the
 * predicted cluster and T(i) the true entity of record i, and F1 from the
 * two means. With n = 0 all three are 1. Allocates 16n bytes of scratch.
 * Returns ECIF_OK or ECIF_ENOMEM (out untouched).
 */
int metrics_bcubed(const uint32_t *truth, const uint32_t *predicted, size_t n,
                   metrics_prf_t *out);

/*
 * Computes pairs completeness (true_candidate_pairs / true_pairs) and
 * reduction ratio (1 - candidate_pairs / pairs of `records`) of a
 * blocking that produced candidate_pairs distinct pairs, of which
 * true_candidate_pairs are true pairs.
 */
void metrics_blocking_from_counts(uint64_t true_pairs,
                                  uint64_t true_candidate_pairs,
                                  uint64_t candidate_pairs, uint64_t records,
                                  metrics_blocking_t *out);

/* Sets *acc to zero counts with cut-off k (k >= 1). */
void metrics_ranking_init(metrics_ranking_t *acc, uint32_t k);

/* Adds a present query whose true record came at rank (0: not returned). */
void metrics_ranking_add_present(metrics_ranking_t *acc, size_t rank);

/*
 * Adds an absent query; no_match says the answer claimed no match (no
 * candidate, or a best verdict of NO_MATCH), which is the right answer.
 */
void metrics_ranking_add_absent(metrics_ranking_t *acc, bool no_match);

void metrics_ranking_rates(const metrics_ranking_t *acc,
                           metrics_ranking_rates_t *out);

/*
 * Calibration bins of predicted match probabilities: ten bins of width
 * 0.1, except that [0.9, 1] is split at 0.99, 0.999 and 0.9999. Each
 * step of that split multiplies the odds by about 10 (about 3.3 in log2
 * weight). Most true pairs land above 0.9, and the split keeps pairs just
 * over the default MATCH threshold (about 0.985) apart from pairs far above
 * it. Bin i is [lower, upper), and the last bin also contains 1.
 */
#define METRICS_CALIBRATION_BINS 13

typedef struct metrics_calibration_bin {
    double lower;
    double upper;
    uint64_t count;       /* predictions in the bin */
    uint64_t positives;   /* of those, true matches */
    double predicted_sum; /* sum of their predicted probabilities */
} metrics_calibration_bin_t;

/* Counts of predictions against outcomes, binned and in total. */
typedef struct metrics_calibration {
    metrics_calibration_bin_t bins[METRICS_CALIBRATION_BINS];
    uint64_t count;
    uint64_t positives;
    double predicted_sum;
    double squared_error_sum; /* sum of (predicted - outcome)^2 */
} metrics_calibration_t;

/* Calibration scores derived from a metrics_calibration_t. */
typedef struct metrics_calibration_scores {
    double mean_predicted; /* predicted_sum / count; 0 without predictions */
    double observed;       /* positives / count; 0 without predictions */
    double brier;          /* squared_error_sum / count; 0 if count is 0 */
    /* Expected calibration error: the count-weighted mean over bins of
     * |mean predicted - observed share|. 0 without predictions. */
    double ece;
} metrics_calibration_scores_t;

/* Sets *acc to zero counts and the bin bounds above. */
void metrics_calibration_init(metrics_calibration_t *acc);

/*
 * Returns the index of the bin that contains probability p, for p in
 * [0, 1], or -1 for a p outside [0, 1] or NaN.
 */
int metrics_calibration_bin(double p);

/*
 * Adds a prediction p for a pair or query whose outcome is is_match.
 * Returns ECIF_OK, or ECIF_EINVAL without changing *acc for a p outside
 * [0, 1] or NaN.
 */
int metrics_calibration_add(metrics_calibration_t *acc, double p,
                            bool is_match);

void metrics_calibration_scores(const metrics_calibration_t *acc,
                                metrics_calibration_scores_t *out);

#endif
