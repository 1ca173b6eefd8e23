/*
 * Explaining a comparison: the hard-conflict test and the one-sentence
 * summary of a pair's evidence, as the Explain RPC reports them.
 *
 * Pure functions over ecif_compare()'s output; no store is involved.
 */
#ifndef ECIF_EXPLAIN_H
#define ECIF_EXPLAIN_H

#include <stdbool.h>
#include <stddef.h>

#include "resolve.h"

/*
 * Records per side that one explanation compares at most, so a request
 * costs at most 64 x 64 comparisons.
 */
#define ECIF_EXPLAIN_MAX_RECORDS 64

/*
 * A field weight at or below this is a hard conflict: it outweighs every
 * agreement together, so the pair cannot reach POSSIBLE_MATCH.
 */
#define ECIF_EXPLAIN_CONFLICT_WEIGHT (-20.0)

/* Bytes that hold any summary with its NUL. */
#define ECIF_EXPLAIN_SUMMARY_MAX 512

/* Returns true when some field of the evidence is a hard conflict. */
bool ecif_explain_has_conflict(
    const ecif_evidence_t evidence[ECIF_FIELD_COUNT]);

/*
 * Writes the summary of a comparison into out: the verdict, then the
 * fields that added weight, then after "; " those that subtracted, each
 * list by absolute weight, largest first ("MATCH: id_number exact (+12.0),
 * phone exact (+6.0); dob mismatch (-4.0)"). Fields of weight 0 are left
 * out. Returns the output length; out is cut, never overrun.
 */
size_t ecif_explain_summary(ecif_verdict_t verdict,
                            const ecif_evidence_t evidence[ECIF_FIELD_COUNT],
                            char *out, size_t outlen);

#endif
