/*
 * Training the matching model from the records of a store, with no
 * labels: u from random record pairs, m and the prior by expectation
 * maximization (EM) over the blocked pairs. engine/TRAINING.md describes
 * the method and its assumptions.
 *
 * The counting and EM functions take level vectors, not records, so a
 * test can drive them with synthetic data. train_model() runs the whole
 * estimation on a store.
 */
#ifndef ECIF_TRAIN_H
#define ECIF_TRAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model.h"
#include "resolve.h"
#include "store.h"

/* Seeded pseudo-random generator: xoshiro256** seeded with splitmix64. */
typedef struct train_rng {
    uint64_t state[4];
} train_rng_t;

/* Seeds the generator; the same seed gives the same sequence. */
void train_rng_seed(train_rng_t *rng, uint64_t seed);

/* Returns the next 64 random bits. */
uint64_t train_rng_next(train_rng_t *rng);

/* Returns a uniform integer in [0, bound), without modulo bias. bound > 0. */
uint64_t train_rng_below(train_rng_t *rng, uint64_t bound);

/* A level vector and the number of pairs that compared at it. */
typedef struct train_pattern {
    uint8_t levels[ECIF_FIELD_COUNT];
    uint64_t count;
} train_pattern_t;

/*
 * A multiset of level vectors: an open-addressing table of distinct
 * vectors with their counts. Owns its memory; train_patterns_fini() frees
 * it.
 */
typedef struct train_patterns {
    train_pattern_t *slots;
    size_t capacity; /* a power of two, or 0 before the first add */
    size_t distinct;
    uint64_t pairs; /* sum of the counts */
} train_patterns_t;

void train_patterns_init(train_patterns_t *patterns);
void train_patterns_fini(train_patterns_t *patterns);

/* Adds count pairs at a level vector. Returns ECIF_OK or ECIF_ENOMEM. */
int train_patterns_add(train_patterns_t *patterns,
                       const uint8_t levels[ECIF_FIELD_COUNT], uint64_t count);

/*
 * Which levels training estimates: true for a level that is not "missing",
 * not fixed, and was reached by a pair of the random or the blocked
 * sample. Every other level keeps the base model's m and u.
 */
typedef struct train_mask {
    bool estimate[ECIF_FIELD_COUNT][MODEL_MAX_LEVELS];
} train_mask_t;

/*
 * Fills mask from the model's levels and the two samples (either may be
 * NULL). Returns ECIF_OK, or ECIF_EINVAL when a vector holds a level index
 * the model does not have, naming the field and the index in err.
 */
int train_mask_build(const ecif_model_t *model, const train_patterns_t *random,
                     const train_patterns_t *blocked, train_mask_t *mask,
                     char *err, size_t errlen);

/*
 * Sets the u of every estimated level of model from the random pairs:
 * (pairs at the level + 1) / (pairs whose field is at an estimated level +
 * estimated levels), scaled to the probability the kept levels leave.
 * Changes nothing else.
 */
void train_estimate_u(ecif_model_t *model, const train_patterns_t *random,
                      const train_mask_t *mask);

typedef struct train_em_options {
    uint32_t max_iterations; /* at least 1 */
    double tolerance;        /* stop when no value moves by more */
} train_em_options_t;

typedef struct train_em_result {
    uint32_t iterations;
    bool converged;
    double change;           /* largest move of the last iteration */
    double prior;            /* share of matches among the pairs */
    double expected_matches; /* sum of the match probabilities */
} train_em_result_t;

/* Called after every EM iteration, when not NULL. */
typedef void train_em_progress_fn(void *arg, uint32_t iteration, double change,
                                  double prior);

/*
 * Runs EM over the blocked pairs: u held fixed, m of the estimated levels
 * and the share of matches among the pairs re-estimated until no value
 * moves by more than the tolerance or max_iterations is reached.
 * model->fields give the starting m and the fixed u; a fixed level enters
 * the E step with its weight as log2 likelihood ratio. prior (in (0, 1))
 * is the starting share of matches among the blocked pairs.
 *
 * On ECIF_OK the m of the estimated levels is in model and the result in
 * *result; the weights are not derived (model_derive). The pairs must not
 * be empty: returns ECIF_EINVAL then, or for a prior outside (0, 1).
 */
int train_em(ecif_model_t *model, double prior, const train_patterns_t *blocked,
             const train_mask_t *mask, const train_em_options_t *opts,
             train_em_progress_fn *progress, void *progress_arg,
             train_em_result_t *result, char *err, size_t errlen);

/* Called while pairs are compared: stage "random" or "blocked". */
typedef void train_progress_fn(void *arg, const char *stage, uint64_t done,
                               uint64_t total);

typedef struct train_options {
    uint64_t seed;
    uint64_t random_pairs; /* random pairs compared for u, at least 1 */
    uint64_t max_pairs;    /* blocked pairs given to EM at most, >= 1 */
    train_em_options_t em;
    train_progress_fn *progress;       /* may be NULL */
    train_em_progress_fn *em_progress; /* may be NULL */
    void *progress_arg;
} train_options_t;

/* Fills *opts with the defaults: seed 0, 1,000,000 random pairs,
 * 5,000,000 blocked pairs, 100 iterations, tolerance 1e-6. */
void train_options_default(train_options_t *opts);

typedef struct train_report {
    uint64_t records;
    uint64_t all_pairs;       /* n(n - 1) / 2 */
    uint64_t random_pairs;    /* random pairs compared */
    uint64_t blocked_pairs;   /* distinct blocked pairs */
    uint64_t em_pairs;        /* blocked pairs given to EM */
    uint64_t random_patterns; /* distinct level vectors */
    uint64_t blocked_patterns;
    train_em_result_t em; /* em.prior is among blocked pairs */
} train_report_t;

/*
 * Estimates a model from the records of store, starting from base, into
 * *out: u from random pairs, m and the prior by EM over the blocked
 * pairs, the prior converted to a share of all pairs. The label,
 * thresholds, rules and unestimated levels are base's; the weights are
 * derived. Deterministic for a given store, base and options.
 *
 * Returns ECIF_OK; ECIF_EINVAL when the store has fewer than two records
 * or no blocked pair, or when the estimates fail model_derive; or
 * ECIF_ENOMEM. err says what failed.
 */
int train_model(const ecif_store_t *store, const ecif_model_t *base,
                const train_options_t *opts, ecif_model_t *out,
                train_report_t *report, char *err, size_t errlen);

#endif
