/*
 * Training the matching model from the records of a store, with no
 * labels. u comes from random record pairs. m comes from one expectation
 * maximization (EM) run per training rule, and each run estimates the
 * fields its rule does not group by. The prior comes from the matches the
 * rules find, or from EM over the blocked pairs when no rule was kept.
 * engine/TRAINING.md describes the method and its assumptions.
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
 * vectors with their counts. The table owns its memory, and
 * train_patterns_fini() frees it.
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
 *
 * skip leaves a field out of the E step: its levels add nothing to the
 * odds of a pair and its m is not estimated. A training rule that groups
 * records by a field makes every pair agree on it, so that agreement
 * carries no evidence of which of its pairs match. train_mask_build() clears
 * it.
 */
typedef struct train_mask {
    bool estimate[ECIF_FIELD_COUNT][MODEL_MAX_LEVELS];
    bool skip[ECIF_FIELD_COUNT];
} train_mask_t;

/*
 * Fills mask from the model's levels and the two samples (either may be
 * NULL). Returns ECIF_OK, or ECIF_EINVAL when a vector contains a level index
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
    /* Expected matches whose field is not missing, per field, from the
     * last E step. */
    double field_matches[ECIF_FIELD_COUNT];
} train_em_result_t;

/* Called after every EM iteration, when not NULL. */
typedef void train_em_progress_fn(void *arg, uint32_t iteration, double change,
                                  double prior);

/*
 * Runs EM over the blocked pairs: u held fixed, m of the estimated levels
 * and the share of matches among the pairs re-estimated until no value
 * moves by more than the tolerance or max_iterations is reached.
 * model->fields give the starting m and the fixed u. A fixed level enters
 * the E step with its weight as log2 likelihood ratio, and the fields of
 * mask->skip do not enter it. prior (in (0, 1)) is the starting share of
 * matches among the blocked pairs.
 *
 * On ECIF_OK, model contains the m of the estimated levels and *result the
 * result. The weights are not derived (see model_derive). Returns
 * ECIF_EINVAL when the pairs are empty or the prior is outside (0, 1).
 */
int train_em(ecif_model_t *model, double prior, const train_patterns_t *blocked,
             const train_mask_t *mask, const train_em_options_t *opts,
             train_em_progress_fn *progress, void *progress_arg,
             train_em_result_t *result, char *err, size_t errlen);

/* Called while pairs are gathered or compared: stage "random",
 * "blocking" (records), "blocked", "grouping" (rule keys) or "rule". */
typedef void train_progress_fn(void *arg, const char *stage, uint64_t done,
                               uint64_t total);

/* Maximum number of training rules. */
#define TRAIN_MAX_RULES 8

/*
 * A training rule: the pairs of records that agree exactly on every field
 * of the rule, a bit (1u << ecif_field_t) each. Only ECIF_FIELD_NAME (the
 * normalized name) and ECIF_FIELD_DOB can group records.
 */
typedef struct train_rule {
    uint32_t fields;
} train_rule_t;

#define TRAIN_RULE_FIELDS ((1u << ECIF_FIELD_NAME) | (1u << ECIF_FIELD_DOB))

/*
 * Parses a rule: field names joined by '+' ("dob", "name+dob"). Returns
 * ECIF_OK or ECIF_EINVAL naming the text in err.
 */
int train_rule_parse(const char *text, train_rule_t *rule, char *err,
                     size_t errlen);

/* Writes a rule as train_rule_parse reads it. Returns buf. */
const char *train_rule_str(train_rule_t rule, char *buf, size_t len);

/*
 * Sets the hard_conflict_weight rule and the weight of every fixed level
 * of model to weight.
 */
void train_set_conflict_weight(ecif_model_t *model, double weight);

/*
 * Returns the weight a hard conflict needs in model, so that a conflict
 * stays below POSSIBLE_MATCH and the clustering threshold. That is the base
 * weight when it outweighs the max agreement of the other fields (the
 * check of model_derive), else the first multiple of 10 below the base
 * weight that does. The model's weight thresholds must be derived. Returns
 * the base weight when the model has no fixed level.
 */
double train_conflict_weight(const ecif_model_t *model);

/* Default clustering threshold of a trained model. With calibrated
 * probabilities, joining a pair when a match is more likely than not
 * makes the fewest expected errors if a false join and a missed join
 * cost the same (engine/TRAINING.md). */
#define TRAIN_CLUSTER_PROBABILITY 0.5

typedef struct train_options {
    uint64_t seed;
    uint64_t random_pairs; /* random pairs compared for u, at least 1 */
    uint64_t max_pairs;    /* max pairs given to each EM run, at least 1 */
    train_rule_t rules[TRAIN_MAX_RULES];
    size_t n_rules; /* 0: every m from the blocked pairs, in one run */
    /* Set the hard conflict weight with train_conflict_weight() when the
     * trained agreements outweigh the base one. */
    bool auto_conflict_weight;
    /* Clustering threshold of the trained model, in (0, 1) and at most
     * the base model's match_probability. */
    double cluster_probability;
    train_em_options_t em;
    train_progress_fn *progress;       /* may be NULL */
    train_em_progress_fn *em_progress; /* may be NULL */
    void *progress_arg;
} train_options_t;

/* Fills *opts with the defaults: seed 0, 1,000,000 random pairs,
 * 5,000,000 pairs per EM run, the rules dob, name and name+dob, the
 * conflict weight set when needed, clustering at probability
 * TRAIN_CLUSTER_PROBABILITY, 100 iterations, tolerance 1e-6. */
void train_options_default(train_options_t *opts);

/* What one training rule gathered and estimated. */
typedef struct train_rule_report {
    train_rule_t rule;
    uint64_t random_pairs; /* random pairs it would gather */
    uint64_t pairs;        /* pairs in its groups, once per shared key */
    uint64_t em_pairs;     /* pairs given to EM */
    double sampled; /* probability that each of its pairs is given to EM */
    /* Its expected matches scaled to all its pairs, over all pairs: the
     * prior, if the rule gathers every match. The largest of the kept
     * rules' is the model's prior. */
    double implied_prior;
    uint64_t patterns;  /* distinct level vectors */
    uint32_t estimated; /* fields whose m it contributed to, a bit each */
    /* Fields whose u its E step took from the random pairs it gathers. */
    uint32_t conditioned;
    /* Its run found more matches than the records can have, and its
     * estimates were dropped. */
    bool rejected;
    train_em_result_t em;
} train_rule_report_t;

typedef struct train_report {
    uint64_t records;
    uint64_t all_pairs;       /* n(n - 1) / 2 */
    uint64_t random_pairs;    /* random pairs compared */
    uint64_t blocked_pairs;   /* distinct blocked pairs */
    uint64_t em_pairs;        /* blocked pairs given to EM */
    uint64_t random_patterns; /* distinct level vectors */
    uint64_t blocked_patterns;
    /* The last EM run, over the blocked pairs: it estimates the prior
     * and the m of the fields no rule estimated. em.prior is among
     * blocked pairs. */
    train_em_result_t em;
    /* em.prior converted to a share of all pairs: the model's prior
     * when no rule was kept. */
    double blocked_prior;
    /* Index into rules of the kept rule with the largest implied prior,
     * or -1 when no rule was kept and the model took blocked_prior. */
    int prior_rule;
    /* The largest capture-recapture estimate of the prior: the implied
     * priors of two kept rules over disjoint fields, multiplied, over
     * that of the kept rule on both their fields. 0 when no three rules
     * fit. capture_rules contains the indexes of the two rules and of the
     * joint rule, or -1. */
    double capture_prior;
    int capture_rules[3];
    /* The model took capture_prior, which exceeds every implied prior. */
    bool prior_from_capture;
    train_rule_report_t rules[TRAIN_MAX_RULES];
    size_t n_rules;
    uint32_t rule_fields;     /* fields whose m came from the rules */
    bool conflict_weight_set; /* train_conflict_weight() changed it */
    double hard_conflict_weight;
} train_report_t;

/*
 * Estimates a model from the records of store, starting from base, into
 * *out. u comes from random pairs. The m of each field is the mean of the
 * EM runs of the training rules that do not group by it, weighted by each
 * run's expected matches. A field that no rule estimates gets its m from
 * EM over the blocked pairs. The prior is the largest implied prior of
 * the rules whose estimates were kept, or the capture-recapture estimate
 * from two kept rules and their joint rule when it is larger, or that
 * last EM's when no rule was kept.
 * The clustering threshold is opts->cluster_probability. The label,
 * verdict thresholds, cross-field rules and unestimated levels are
 * base's, and so is the conflict weight unless auto_conflict_weight
 * changes it. The weights are derived.
 * Deterministic for a given store, base and options.
 *
 * Returns ECIF_OK, or ECIF_EINVAL when the store has fewer than two
 * records or no blocked pair or the estimates fail model_derive, or
 * ECIF_ENOMEM. err describes the failure.
 */
int train_model(const ecif_store_t *store, const ecif_model_t *base,
                const train_options_t *opts, ecif_model_t *out,
                train_report_t *report, char *err, size_t errlen);

#endif
