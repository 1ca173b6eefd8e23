/*
 * Matching internals shared by import clustering and query resolution:
 * normalized views of records, blocking keys, and pairwise scoring.
 * The keys, levels and weights are described in engine/MATCHING.md.
 *
 * Private to the engine.
 */
#ifndef ECIF_MATCH_H
#define ECIF_MATCH_H

#include <stdbool.h>
#include <stdint.h>

#include "layout.h"
#include "model.h"
#include "normalize.h"
#include "quality.h"
#include "record.h"
#include "resolve.h"

/* Score below which a candidate is not reported at all. The verdict
 * thresholds are in the model. */
#define CANDIDATE_FLOOR 0.0

/* Minimum weight by which the best of two MATCHes must exceed the other
 * for a record to belong with it rather than be ambiguous between them.
 * A margin of 5 is a likelihood ratio of 2^5 = 32. Queries and
 * clustering both use it. */
#define MATCH_AMBIGUITY_MARGIN 5.0

/* Candidate records scored per query at most. */
#define MAX_QUERY_CANDIDATES 256

/* Blocking keys generated per record at most. */
#define MAX_RECORD_KEYS 64

/* Generational suffixes, as stored (rec_entry.suffix). */
enum name_suffix {
    SUFFIX_NONE = 0,
    SUFFIX_JR,
    SUFFIX_SR,
    SUFFIX_II,
    SUFFIX_III,
    SUFFIX_IV,
    SUFFIX_V,
};

/* Normalized values of one record; all strings are NUL-terminated. */
typedef struct match_view {
    const char *name; /* folded tokens, family first when split */
    const char *given;
    const char *family;
    const char *han;            /* Simplified Han name without noise, or "" */
    const char *name_key;       /* order-free pinyin key, or "" */
    const char *name_key_fuzzy; /* the same with confusable sounds merged */
    uint8_t suffix;             /* enum name_suffix */
    /* The name fields as the record gave them (may be NULL), for the digits
     * that folding drops (match_name_digits_differ). */
    const char *raw_name;
    const char *raw_given;
    const char *raw_family;
    uint8_t id_kind;        /* id_doc_type_t of the ID number */
    bool id_valid_resident; /* a resident ID with a valid check char */
    const char *id;         /* per-kind canonical ID number */
    const char *phones[ECIF_MAX_VALUES]; /* "+8613800138000" and the like */
    uint32_t n_phones;
    const char *emails[ECIF_MAX_VALUES];
    uint32_t n_emails;
    const char *addresses[ECIF_MAX_VALUES]; /* canonical address tokens */
    uint32_t n_addresses;
    uint32_t dob; /* YYYYMMDD digits; 0 when missing */
    bool dob_valid;
    char gender;         /* 'M', 'F' or 0 */
    uint32_t quality;    /* enum quality_flag bits */
    uint32_t frequent;   /* FREQUENT_* bits, set by match_mark_frequent */
    uint32_t name_count; /* records with this name; 0 when not looked up */
} match_view_t;

/* Bits of match_view_t.frequent: values on too many records to count as
 * evidence of identity. */
#define FREQUENT_ID       0x1u
#define FREQUENT_PHONE(i) (0x2u << (i))                     /* i < 8 */
#define FREQUENT_EMAIL(i) (0x2u << (ECIF_MAX_VALUES + (i))) /* i < 8 */

/* Storage for the normalized strings of one view. */
typedef struct match_buffer {
    char name[2 * ECIF_NORM_MAX];
    char given[ECIF_NORM_MAX];
    char family[ECIF_NORM_MAX];
    char han[ECIF_NORM_MAX];
    char name_key[ECIF_NORM_MAX];
    char name_key_fuzzy[ECIF_NORM_MAX];
    char id[ECIF_NORM_MAX];
    char phones[ECIF_MAX_VALUES][64];
    char emails[ECIF_MAX_VALUES][ECIF_NORM_MAX];
    char addresses[ECIF_MAX_VALUES][ECIF_NORM_MAX];
} match_buffer_t;

/*
 * Normalizes a validated record into view, with strings in buf. Values that
 * normalize to nothing, and placeholders, are left out; the quality flags
 * record what was dropped or suspect. kept_phones, kept_emails and
 * kept_addresses (may be NULL) receive the indexes into rec's lists of the
 * values kept, so callers can store the raw values beside them.
 */
void match_normalize(const ecif_record_t *rec, match_buffer_t *buf,
                     match_view_t *view, uint8_t *kept_phones,
                     uint8_t *kept_emails, uint8_t *kept_addresses);

/* Name tokens compared per name at most. */
#define MATCH_MAX_TOKENS 8

/* Splits a normalized string at spaces into at most max tokens in buf;
 * returns their number. */
size_t match_split_tokens(const char *text, char buf[][ECIF_NORM_MAX],
                          size_t max);

/* Fills view from the normalized values stored for a record. */
void match_view_stored(const struct ecif_store *s, uint32_t record,
                       match_view_t *view);

/*
 * Computes the blocking keys a record is posted under, strongest first,
 * without duplicates. Returns how many were written to hashes (at most
 * max), and sets *n_identifier_keys (when not NULL) to how many of the
 * first ones are exact identifier keys: ID number, phones, emails. The
 * ID's sorted characters, a fuzzy key, come right after them.
 */
size_t match_keys(const match_view_t *view, uint64_t *hashes, size_t max,
                  size_t *n_identifier_keys);

/*
 * Computes the keys a view looks up when it gathers candidates, in
 * gathering order: the keys of match_keys(), and for a full Latin name
 * also the keys that only a record lacking a name part is posted under
 * (engine/MATCHING.md). The first group is the exact identifier keys.
 * The second pairs a fuzzy value with a second one: the ID's sorted
 * characters, or a name with the date of birth, a postal code or a birth
 * year. The email local parts and the date of birth with the start of
 * each address close that group. The keys of the name alone come last.
 * Sets *n_qualified_keys (when not NULL) to the count of the first two
 * groups.
 */
size_t match_keys_ordered(const match_view_t *view, uint64_t *hashes,
                          size_t max, size_t *n_identifier_keys,
                          size_t *n_qualified_keys);

/*
 * Compares record b with query a field by field and writes each field's
 * comparison level, an index into model->fields[f].levels (the enum
 * model_*_level of model.h). Levels carry no rule: no frequent-value
 * weight, household cap or name frequency. The model is read only to
 * choose between two readings of a Latin name by their weights.
 */
void match_levels(const ecif_model_t *model, const match_view_t *a,
                  const match_view_t *b, uint8_t levels[ECIF_FIELD_COUNT]);

/*
 * Scores record b against query a under model: the weights of
 * match_levels() with the cross-field rules applied (engine/MODEL.md).
 * Fills one evidence entry per field, whose detail points into model, and
 * returns the sum of their weights.
 */
double match_score(const ecif_model_t *model, const match_view_t *a,
                   const match_view_t *b,
                   ecif_evidence_t evidence[ECIF_FIELD_COUNT]);

/*
 * Returns whether both views' raw names contain digits and the digits
 * differ. Folding drops digits, so "Person Number0" and "Person Number19"
 * fold alike, and only this tells them apart.
 */
bool match_name_digits_differ(const match_view_t *a, const match_view_t *b);

/*
 * Returns whether two records are two generations of one name at one
 * household: valid dates of birth more than 15 years apart (neither a
 * default such as 1970-01-01), a shared phone or address, no ID number
 * they agree on, and the same folded name.
 * Import refuses to join such records, and an add does not join a
 * customer that contains one (MATCHING.md, "Clustering at import").
 */
bool match_generations_apart(const ecif_model_t *model, const match_view_t *a,
                             const match_view_t *b);

/*
 * Returns whether two records can never be one customer: two valid
 * resident IDs that differ, two generational suffixes that differ, or
 * match_generations_apart.
 */
bool match_records_conflict(const ecif_model_t *model, const match_view_t *a,
                            const match_view_t *b);

/*
 * Returns the hash that identifies a view's name for term frequencies:
 * the Han name, or the sorted folded tokens of a Latin name. 0 when the
 * view has no name.
 */
uint64_t match_name_hash(const match_view_t *view);

/*
 * Sets view->frequent from the store's frequent keys (the ID number,
 * phones and emails whose value is on more records than the builder's
 * frequent_value_limit) and view->name_count from its name table.
 */
void match_mark_frequent(const struct ecif_store *s, match_view_t *view);

/* Returns the verdict for a score under model. */
ecif_verdict_t match_verdict(const ecif_model_t *model, double score);

/* Per-call scratch for candidate gathering; lives on the caller's stack. */
typedef struct match_candidates {
    uint32_t ids[MAX_QUERY_CANDIDATES];
    uint32_t count;
    uint32_t table[MAX_QUERY_CANDIDATES * 4]; /* open addressing, id + 1 */
} match_candidates_t;

/*
 * Collects the records sharing a blocking key with view, at most
 * MAX_QUERY_CANDIDATES, strongest keys first.
 */
void match_gather(const struct ecif_store *s, const match_view_t *view,
                  match_candidates_t *out);

/* Empties a candidate set. */
void match_candidates_reset(match_candidates_t *out);

/*
 * Calls visit(arg, record) for every record posted under the exact key
 * of one identifier, added records first, then loaded ones, without a
 * cap: type 'I' for a canonical ID number (view->id), 'P' for a phone
 * (view->phones[i]). Postings are found by hash, so visit compares the
 * values. Returns false, calling visit for none, when the store keeps
 * the key as frequent and posts no record under it.
 */
bool match_each_value_record(const struct ecif_store *s, char type,
                             const char *value,
                             void (*visit)(void *arg, uint32_t record),
                             void *arg);

/*
 * Adds to out the records of keys[first] up to keys[end - 1]. Resolution
 * computes the keys once and gathers in two steps: the identifier keys
 * first, then the name and date keys only when no identifier match is
 * already strong.
 */
void match_gather_range(const struct ecif_store *s, const uint64_t *keys,
                        size_t first, size_t end, match_candidates_t *out);

#endif
