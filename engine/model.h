/*
 * The matching model: Fellegi-Sunter comparison levels per field with
 * their m and u probabilities, the rules that reach across fields, the
 * prior and the verdict thresholds. engine/MODEL.md documents the file
 * format and how the weights turn into a match probability.
 *
 * A level's weight is log2(m / u): how much more often two records of the
 * same customer compare at that level (m) than two records of different
 * customers (u). A missing value is neutral: every field has a level
 * "missing" of weight 0. Some levels carry a fixed weight instead of m and
 * u (a hard conflict); training leaves those alone.
 *
 * A model is plain data, read-only once built: every thread may score with
 * it at once.
 */
#ifndef ECIF_MODEL_H
#define ECIF_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "resolve.h"

/* Version of the model file format this code reads and writes. */
#define MODEL_FORMAT_VERSION 1

/* Comparison levels per field at most, "missing" included. */
#define MODEL_MAX_LEVELS 16

/* Longest level name, NUL included. */
#define MODEL_NAME_MAX 40

typedef struct model_level {
    char name[MODEL_NAME_MAX]; /* "exact", "homophone_same_family", ... */
    ecif_level_t coarse;       /* the level reported in evidence */
    bool fixed;                /* weight is set, not derived from m and u */
    double m;                  /* P(level | same customer) */
    double u;                  /* P(level | different customers) */
    double weight;             /* log2(m / u), or the fixed weight */
} model_level_t;

typedef struct model_field {
    uint32_t n_levels;
    model_level_t levels[MODEL_MAX_LEVELS]; /* level 0 is "missing" */
} model_field_t;

typedef struct ecif_model {
    char label[64]; /* free text: "default", "trained, seed 7" */
    /* Probability that two records drawn at random are the same customer;
     * turns a total weight into a match probability. */
    double prior;
    /* Verdict thresholds as match probabilities, possible < match. */
    double match_probability;
    double possible_probability;
    /* The same thresholds as total weights, derived from the above. */
    double match_weight;
    double possible_weight;
    /* Cross-field rules (engine/MODEL.md). */
    double hard_conflict_weight;     /* different valid IDs, suffixes */
    double frequent_agreement_weight; /* a value on too many records */
    double household_contact_weight; /* cap when given names differ */
    model_field_t fields[ECIF_FIELD_COUNT];
} ecif_model_t;

/* The built-in model, used when no model file is given. */
const ecif_model_t *model_default(void);

/*
 * Parses model text (the file format of engine/MODEL.md) into *out and
 * derives the weights and weight thresholds. The text must name every
 * level the scorer uses for every field, in the scorer's order. On error
 * returns ECIF_EINVAL and writes a message naming the line, the key and
 * the value to err.
 */
int model_parse(const char *text, size_t len, ecif_model_t *out, char *err,
                size_t errlen);

/* Reads and parses a model file; errors as model_parse, plus ECIF_EIO. */
int model_load(const char *path, ecif_model_t *out, char *err,
               size_t errlen);

/*
 * Writes the model as text that model_parse reads back to the same
 * values (probabilities with 17 significant digits). Returns ECIF_OK or
 * ECIF_EIO.
 */
int model_write(const ecif_model_t *model, FILE *out);

/*
 * Recomputes every derived value (level weights, weight thresholds) after
 * m, u, prior or the probability thresholds changed. Returns ECIF_EINVAL
 * when a probability is outside (0, 1) or the thresholds are out of
 * order, with the reason in err.
 */
int model_derive(ecif_model_t *model, char *err, size_t errlen);

/* Returns the match probability of a total weight under the model's
 * prior: 1 / (1 + 2^-(weight + log2(prior / (1 - prior)))). */
double model_probability(const ecif_model_t *model, double weight);

/* Returns the verdict of a total weight. */
ecif_verdict_t model_verdict(const ecif_model_t *model, double weight);

#endif
