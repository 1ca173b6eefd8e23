/*
 * Accuracy metrics from labels and counts; see metrics.h.
 *
 * Both pair counting and B-cubed work on the contingency table of (true
 * label, predicted label). Packing the two labels of each record into one
 * 64-bit key and sorting the keys puts the records of one cell next to
 * each other, and the cells of one row next to each other, so one pass
 * over the sorted keys reads cell sizes and row sizes together. Sorting
 * once by (truth, predicted) and once by (predicted, truth) gives the
 * rows of both clusterings.
 */
#include "metrics.h"

#include <math.h>
#include <stdlib.h>

#include "status.h"

uint64_t metrics_pair_count(uint64_t n)
{
    return n < 2 ? 0 : n * (n - 1) / 2;
}

static int compare_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a;
    uint64_t y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Returns n keys (major << 32 | minor), sorted, malloc'd; NULL on ENOMEM. */
static uint64_t *sorted_keys(const uint32_t *major, const uint32_t *minor,
                             size_t n)
{
    uint64_t *keys = malloc((n > 0 ? n : 1) * sizeof(*keys));
    if (keys == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++)
        keys[i] = (uint64_t)major[i] << 32 | minor[i];
    qsort(keys, n, sizeof(*keys), compare_u64);
    return keys;
}

/* Length of the run of keys equal to keys[start] under mask. */
static size_t run_length(const uint64_t *keys, size_t n, size_t start,
                         uint64_t mask)
{
    size_t end = start + 1;
    while (end < n && (keys[end] & mask) == (keys[start] & mask))
        end++;
    return end - start;
}

#define MAJOR_MASK 0xffffffff00000000ull
#define CELL_MASK  0xffffffffffffffffull

/*
 * Walks keys sorted by (major, minor). Adds to *row_pairs the pairs inside
 * each major label and to *cell_pairs the pairs inside each cell, and to
 * *cell_share the sum over cells of size^2 / row size, which is the sum
 * over records of |cell| / |row|.
 */
static void walk_rows(const uint64_t *keys, size_t n, uint64_t *row_pairs,
                      uint64_t *cell_pairs, double *cell_share)
{
    size_t i = 0;
    while (i < n) {
        size_t row = run_length(keys, n, i, MAJOR_MASK);
        *row_pairs += metrics_pair_count(row);

        size_t end = i + row;
        while (i < end) {
            size_t cell = run_length(keys, n, i, CELL_MASK);
            *cell_pairs += metrics_pair_count(cell);
            *cell_share += (double)cell * (double)cell / (double)row;
            i += cell;
        }
    }
}

typedef struct contingency {
    uint64_t true_pairs;
    uint64_t predicted_pairs;
    uint64_t true_positives;
    double precision_sum; /* sum over records of |cell| / |predicted| */
    double recall_sum;    /* sum over records of |cell| / |true| */
} contingency_t;

static int contingency_walk(const uint32_t *truth, const uint32_t *predicted,
                            size_t n, contingency_t *out)
{
    uint64_t *by_truth = sorted_keys(truth, predicted, n);
    uint64_t *by_predicted = sorted_keys(predicted, truth, n);
    if (by_truth == NULL || by_predicted == NULL) {
        free(by_truth);
        free(by_predicted);
        return ECIF_ENOMEM;
    }

    contingency_t c = {0};
    uint64_t tp_again = 0;
    walk_rows(by_truth, n, &c.true_pairs, &c.true_positives, &c.recall_sum);
    walk_rows(by_predicted, n, &c.predicted_pairs, &tp_again, &c.precision_sum);
    /* The cells are the same in both orders. */
    (void)tp_again;

    free(by_truth);
    free(by_predicted);
    *out = c;
    return ECIF_OK;
}

int metrics_count_pairs(const uint32_t *truth, const uint32_t *predicted,
                        size_t n, metrics_pairs_t *out)
{
    contingency_t c;
    int rc = contingency_walk(truth, predicted, n, &c);
    if (rc != ECIF_OK)
        return rc;
    out->true_pairs = c.true_pairs;
    out->predicted_pairs = c.predicted_pairs;
    out->true_positives = c.true_positives;
    return ECIF_OK;
}

/* Returns num / den, or empty when den is 0. */
static double ratio(double num, double den, double empty)
{
    return den > 0 ? num / den : empty;
}

static double harmonic_mean(double p, double r)
{
    return p + r > 0 ? 2 * p * r / (p + r) : 0;
}

void metrics_prf_from_counts(uint64_t tp, uint64_t predicted, uint64_t actual,
                             metrics_prf_t *out)
{
    out->precision = ratio((double)tp, (double)predicted, 1);
    out->recall = ratio((double)tp, (double)actual, 1);
    out->f1 = harmonic_mean(out->precision, out->recall);
}

int metrics_bcubed(const uint32_t *truth, const uint32_t *predicted, size_t n,
                   metrics_prf_t *out)
{
    contingency_t c;
    int rc = contingency_walk(truth, predicted, n, &c);
    if (rc != ECIF_OK)
        return rc;
    out->precision = ratio(c.precision_sum, (double)n, 1);
    out->recall = ratio(c.recall_sum, (double)n, 1);
    out->f1 = harmonic_mean(out->precision, out->recall);
    return ECIF_OK;
}

void metrics_blocking_from_counts(uint64_t true_pairs,
                                  uint64_t true_candidate_pairs,
                                  uint64_t candidate_pairs, uint64_t records,
                                  metrics_blocking_t *out)
{
    uint64_t all = metrics_pair_count(records);
    out->pairs_completeness =
        ratio((double)true_candidate_pairs, (double)true_pairs, 1);
    out->reduction_ratio =
        all > 0 ? 1.0 - (double)candidate_pairs / (double)all : 0;
}

void metrics_ranking_init(metrics_ranking_t *acc, uint32_t k)
{
    *acc = (metrics_ranking_t){.k = k};
}

void metrics_ranking_add_present(metrics_ranking_t *acc, size_t rank)
{
    acc->present++;
    if (rank == 0)
        return;
    if (rank == 1)
        acc->hit_at_1++;
    if (rank <= acc->k)
        acc->hit_at_k++;
    acc->reciprocal_rank += 1.0 / (double)rank;
}

void metrics_ranking_add_absent(metrics_ranking_t *acc, bool no_match)
{
    acc->absent++;
    if (no_match)
        acc->correct_no_match++;
}

void metrics_ranking_rates(const metrics_ranking_t *acc,
                           metrics_ranking_rates_t *out)
{
    double present = (double)acc->present;
    out->hit_at_1 = ratio((double)acc->hit_at_1, present, 0);
    out->hit_at_k = ratio((double)acc->hit_at_k, present, 0);
    out->mrr = ratio(acc->reciprocal_rank, present, 0);
    out->correct_no_match =
        ratio((double)acc->correct_no_match, (double)acc->absent, 0);
}

/* Lower bounds of the calibration bins after the first, which starts at 0. */
static const double calibration_edges[METRICS_CALIBRATION_BINS - 1] = {
    0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.99, 0.999, 0.9999,
};

void metrics_calibration_init(metrics_calibration_t *acc)
{
    *acc = (metrics_calibration_t){0};
    for (int i = 0; i < METRICS_CALIBRATION_BINS; i++) {
        acc->bins[i].lower = i == 0 ? 0.0 : calibration_edges[i - 1];
        acc->bins[i].upper =
            i == METRICS_CALIBRATION_BINS - 1 ? 1.0 : calibration_edges[i];
    }
}

int metrics_calibration_bin(double p)
{
    /* Written as a negation so that NaN is rejected too. */
    if (!(p >= 0.0 && p <= 1.0))
        return -1;
    int bin = 0;
    while (bin < METRICS_CALIBRATION_BINS - 1 && p >= calibration_edges[bin])
        bin++;
    return bin;
}

int metrics_calibration_add(metrics_calibration_t *acc, double p, bool is_match)
{
    int bin = metrics_calibration_bin(p);
    if (bin < 0)
        return ECIF_EINVAL;
    double outcome = is_match ? 1.0 : 0.0;
    metrics_calibration_bin_t *b = &acc->bins[bin];
    b->count++;
    b->positives += is_match;
    b->predicted_sum += p;
    acc->count++;
    acc->positives += is_match;
    acc->predicted_sum += p;
    acc->squared_error_sum += (p - outcome) * (p - outcome);
    return ECIF_OK;
}

void metrics_calibration_scores(const metrics_calibration_t *acc,
                                metrics_calibration_scores_t *out)
{
    double n = (double)acc->count;
    out->mean_predicted = ratio(acc->predicted_sum, n, 0);
    out->observed = ratio((double)acc->positives, n, 0);
    out->brier = ratio(acc->squared_error_sum, n, 0);

    double gap_sum = 0;
    for (int i = 0; i < METRICS_CALIBRATION_BINS; i++) {
        const metrics_calibration_bin_t *b = &acc->bins[i];
        /* Equals count * |mean predicted - observed|, without the division. */
        gap_sum += fabs(b->predicted_sum - (double)b->positives);
    }
    out->ece = ratio(gap_sum, n, 0);
}
