/*
 * The matching model: Fellegi-Sunter comparison levels per field with
 * their m and u probabilities, the rules that reach across fields, the
 * prior, the verdict thresholds and the clustering threshold.
 * engine/MODEL.md documents the file format and how the weights turn
 * into a match probability.
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

/* Max comparison levels per field, "missing" included. The name field
 * uses 18 (enum model_name_level). */
#define MODEL_MAX_LEVELS 24

/* Max size in bytes of a model file that model_load reads. */
#define MODEL_TEXT_MAX (1 << 20)

/* Max name-frequency adjustment the scorer adds to a name weight
 * (engine/MATCHING.md). model_derive counts it when it checks that a hard
 * conflict outweighs every agreement. */
#define MODEL_NAME_FREQUENCY_MAX 2.0

/* Max length of a level name, NUL included. */
#define MODEL_NAME_MAX 40

/*
 * Level indexes into model_field_t.levels, as match_levels() returns them.
 * The order is the order of the level lines in a model file.
 */
enum model_name_level {
    MODEL_NAME_MISSING = 0,
    MODEL_NAME_EXACT,
    MODEL_NAME_HOMOPHONE_SAME_FAMILY,
    MODEL_NAME_HOMOPHONE_OTHER_FAMILY,
    MODEL_NAME_FUZZY_PINYIN,
    MODEL_NAME_PINYIN_KEY,
    MODEL_NAME_CROSS_SCRIPT_MISMATCH,
    MODEL_NAME_GIVEN_DIFFERS,
    MODEL_NAME_LATIN_FUZZY,
    MODEL_NAME_LATIN_ALIAS,
    MODEL_NAME_LATIN_PHONETIC,
    MODEL_NAME_LATIN_INITIAL,
    MODEL_NAME_LATIN_SWAPPED,
    MODEL_NAME_LATIN_ONE_PART,
    MODEL_NAME_LATIN_ONE_PART_MISMATCH,
    MODEL_NAME_FAMILY_DIFFERS,
    MODEL_NAME_MISMATCH,
    MODEL_NAME_SUFFIX_CONFLICT,
    MODEL_NAME_LEVELS
};

enum model_id_level {
    MODEL_ID_MISSING = 0,
    MODEL_ID_EXACT_VALID_RESIDENT,
    MODEL_ID_EXACT,
    MODEL_ID_EXACT_SUSPECT,
    MODEL_ID_ONE_EDIT,
    MODEL_ID_MISMATCH,
    MODEL_ID_MISMATCH_SUSPECT,
    MODEL_ID_CONFLICT,
    MODEL_ID_LEVELS
};

enum model_phone_level {
    MODEL_PHONE_MISSING = 0,
    MODEL_PHONE_EXACT,
    MODEL_PHONE_LAST_8_DIGITS,
    MODEL_PHONE_MISMATCH,
    MODEL_PHONE_LEVELS
};

enum model_email_level {
    MODEL_EMAIL_MISSING = 0,
    MODEL_EMAIL_EXACT,
    MODEL_EMAIL_SAME_LOCAL_PART,
    MODEL_EMAIL_MISMATCH,
    MODEL_EMAIL_LEVELS
};

enum model_address_level {
    MODEL_ADDRESS_MISSING = 0,
    MODEL_ADDRESS_EXACT,
    MODEL_ADDRESS_FUZZY,
    MODEL_ADDRESS_PARTIAL,
    MODEL_ADDRESS_MISMATCH,
    MODEL_ADDRESS_LEVELS
};

enum model_dob_level {
    MODEL_DOB_MISSING = 0,
    MODEL_DOB_EXACT,
    MODEL_DOB_ONE_DIGIT,
    MODEL_DOB_DAY_MONTH_SWAPPED,
    MODEL_DOB_YEAR_OFF_BY_ONE,
    MODEL_DOB_TWO_PARTS,
    MODEL_DOB_SAME_YEAR,
    MODEL_DOB_MISMATCH,
    MODEL_DOB_IMPOSSIBLE_GAP,
    MODEL_DOB_LEVELS
};

enum model_gender_level {
    MODEL_GENDER_MISSING = 0,
    MODEL_GENDER_EXACT,
    MODEL_GENDER_MISMATCH,
    MODEL_GENDER_LEVELS
};

/* Two valid dates of birth further apart than this (in YYYYMMDD units,
 * so 15 years) that no typing slip explains compare at the level
 * impossible_gap. */
#define MODEL_DOB_GAP_YYYYMMDD 150000u

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
    /* Probability that two records drawn at random are the same
     * customer. It turns a total weight into a match probability. It is
     * not the share among candidate pairs, because sharing a blocking key
     * is agreement on a field, which the level weights count already. */
    double prior;
    /* Verdict thresholds as match probabilities, possible < match. */
    double match_probability;
    double possible_probability;
    /* Clustering threshold as a match probability, at most
     * match_probability: the builder joins the pairs at or above it into
     * one customer. Verdicts do not use it. */
    double cluster_probability;
    /* The same thresholds as total weights, derived from the above. */
    double match_weight;
    double possible_weight;
    double cluster_weight;
    /* Cross-field rules (engine/MODEL.md). */
    double hard_conflict_weight;      /* field weight at or below: conflict */
    double frequent_agreement_weight; /* a value on too many records */
    double household_contact_weight;  /* cap when given names differ */
    model_field_t fields[ECIF_FIELD_COUNT];
} ecif_model_t;

/* The built-in model, used when no model file is given. */
const ecif_model_t *model_default(void);

/*
 * Parses model text (the file format of engine/MODEL.md) into *out and
 * derives the weights and weight thresholds. The text must name every
 * level the scorer uses for every field, in the scorer's order. Without
 * a cluster_probability key, it equals match_probability. On error
 * returns ECIF_EINVAL and writes a message naming the line, the key and
 * the value to err.
 */
int model_parse(const char *text, size_t len, ecif_model_t *out, char *err,
                size_t errlen);

/*
 * Reads and parses a model file. Returns the codes of model_parse,
 * ECIF_EINVAL for a file longer than MODEL_TEXT_MAX bytes, ECIF_EIO when
 * the file cannot be read, or ECIF_ENOMEM.
 */
int model_load(const char *path, ecif_model_t *out, char *err, size_t errlen);

/*
 * Writes the model as text that model_parse reads back to the same
 * values (probabilities with 17 significant digits). Returns ECIF_OK or
 * ECIF_EIO.
 */
int model_write(const ecif_model_t *model, FILE *out);

/*
 * Recomputes every derived value (level weights, weight thresholds) after
 * m, u, prior or the probability thresholds changed. Returns ECIF_EINVAL
 * when a probability is outside (0, 1), the thresholds are out of order
 * (possible below match, cluster not above match) or a hard conflict
 * does not outweigh every agreement, with the reason in err.
 */
int model_derive(ecif_model_t *model, char *err, size_t errlen);

/* Returns the match probability of a total weight under the model's
 * prior: 1 / (1 + 2^-(weight + log2(prior / (1 - prior)))). */
double model_probability(const ecif_model_t *model, double weight);

/* Returns the lower of possible_weight and cluster_weight, which a pair
 * with a hard conflict must stay below. */
double model_lowest_threshold(const ecif_model_t *model);

/* Returns the verdict of a total weight. */
ecif_verdict_t model_verdict(const ecif_model_t *model, double weight);

#endif
