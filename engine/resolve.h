/*
 * Who is this customer: scoring a query record against the store.
 *
 * ecif_resolve() normalizes the query, gathers candidate records through the
 * blocking-key index (bounded per key and in total, so one very common key
 * cannot blow up a query), scores each candidate by field agreement, and
 * groups the scores by customer. See engine/MATCHING.md for the keys, levels
 * and weights.
 */
#ifndef ECIF_RESOLVE_H
#define ECIF_RESOLVE_H

#include <stddef.h>
#include <stdint.h>

#include "quality.h"
#include "record.h"
#include "store.h"

typedef enum ecif_verdict {
    ECIF_NO_MATCH = 0,
    ECIF_POSSIBLE_MATCH = 1,
    ECIF_MATCH = 2,
} ecif_verdict_t;

/* The fields compared; each candidate carries one evidence entry per field. */
typedef enum ecif_field {
    ECIF_FIELD_NAME = 0,
    ECIF_FIELD_ID_NUMBER,
    ECIF_FIELD_PHONE,
    ECIF_FIELD_EMAIL,
    ECIF_FIELD_ADDRESS,
    ECIF_FIELD_DOB,
    ECIF_FIELD_GENDER,
    ECIF_FIELD_COUNT
} ecif_field_t;

/* Comparison levels, from strongest agreement to disagreement. */
typedef enum ecif_level {
    ECIF_LEVEL_MISSING = 0, /* either side has no value: weight 0 */
    ECIF_LEVEL_EXACT,
    ECIF_LEVEL_FUZZY,    /* small edit distance or high Jaro-Winkler */
    ECIF_LEVEL_PHONETIC, /* same phonetic code, spelled differently */
    ECIF_LEVEL_ALIAS,    /* a known alias: a nickname of the other name */
    ECIF_LEVEL_PARTIAL,  /* part of the value agrees (a token, a date part) */
    ECIF_LEVEL_MISMATCH,
} ecif_level_t;

typedef struct ecif_evidence {
    ecif_level_t level;
    double weight;
    /* Model's name of the fine level ("homophone_same_family"). It points
     * into the model that scored the pair, or is NULL when not scored. */
    const char *detail;
} ecif_evidence_t;

/* Maximum matched records reported per candidate. */
#define ECIF_MAX_MATCHED 16

/* Maximum candidates one query may request. */
#define ECIF_MAX_CANDIDATES 64

typedef struct ecif_candidate {
    uint32_t customer;
    double score;       /* sum of evidence weights of the best record */
    double probability; /* match probability of score under the model */
    ecif_verdict_t verdict;
    ecif_evidence_t evidence[ECIF_FIELD_COUNT]; /* of the best record */
    uint32_t matched[ECIF_MAX_MATCHED];         /* record ids, best first */
    uint32_t n_matched;
} ecif_candidate_t;

/* Returns "name", "id_number", ... for a field. */
const char *ecif_field_str(ecif_field_t field);

/* Returns "exact", "fuzzy", ... for a level. */
const char *ecif_level_str(ecif_level_t level);

/* Returns "MATCH", "POSSIBLE_MATCH" or "NO_MATCH". */
const char *ecif_verdict_str(ecif_verdict_t verdict);

/*
 * Resolves a query record with the store's model. Writes up to max
 * candidates (max is capped at ECIF_MAX_CANDIDATES) to out, best first,
 * and their number to *count.
 * Candidates whose best score is below the NO_MATCH floor are dropped, so
 * *count may be 0: no match.
 *
 * The query must have passed ecif_record_validate(). Thread-safe: it only
 * reads the store and uses per-call scratch. Returns ECIF_OK or ECIF_ENOMEM.
 */
int ecif_resolve(const ecif_store_t *store, const ecif_record_t *query,
                 ecif_candidate_t *out, size_t max, size_t *count);

/*
 * ecif_resolve() that also sets *quality (when not NULL) to the query's
 * data-quality flags, as ecif_query_quality() returns them, at no extra
 * cost.
 */
int ecif_resolve_with_quality(const ecif_store_t *store,
                              const ecif_record_t *query, ecif_candidate_t *out,
                              size_t max, size_t *count, uint32_t *quality);

/*
 * Returns the data-quality flags of a query record (enum
 * ecif_quality_flag): placeholders dropped, ID checks, and which of its ID,
 * phones and emails are frequent in the store. The query must have passed
 * ecif_record_validate().
 */
uint32_t ecif_query_quality(const ecif_store_t *store,
                            const ecif_record_t *query);

/*
 * Writes to out the ids of the stored records that share a blocking key
 * with the stored record `record` (itself excluded), as import gathers
 * them before scoring: at most max, bounded like a query's candidates.
 * Sets *count. For evaluating blocking (pairs completeness, reduction
 * ratio). Returns ECIF_OK, or ECIF_EINVAL for a record id out of range.
 */
int ecif_record_candidates(const ecif_store_t *store, uint32_t record,
                           uint32_t *out, size_t max, size_t *count);

struct ecif_model;

/*
 * Compares two records directly under model (a store's model, or
 * model_default()). Fills one evidence entry per field and returns the
 * score through *score and the verdict through *verdict. Both records must
 * have passed ecif_record_validate(). It scores a pair as the import does
 * when it groups records into customers, except that no store is involved,
 * so names get no frequency adjustment. The result depends only on the
 * inputs.
 */
void ecif_compare(const struct ecif_model *model, const ecif_record_t *a,
                  const ecif_record_t *b, double *score,
                  ecif_verdict_t *verdict,
                  ecif_evidence_t evidence[ECIF_FIELD_COUNT]);

/*
 * Compares two records as Resolve scores a query a against a stored
 * record b: under the store's model, with a's name adjusted by how many
 * stored records carry it and a's identifiers checked against the
 * store's frequent values. The Explain RPC uses it, so its breakdown is
 * the one Resolve and the import's clustering use.
 */
void ecif_store_compare(const ecif_store_t *store, const ecif_record_t *a,
                        const ecif_record_t *b, double *score,
                        ecif_verdict_t *verdict,
                        ecif_evidence_t evidence[ECIF_FIELD_COUNT]);

#endif
