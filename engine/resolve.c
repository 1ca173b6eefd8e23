/*
 * Query resolution: normalize the query, gather candidate records through
 * the blocking keys, score each, keep the best record per customer, and
 * rank customers by that score. Everything lives on the caller's stack:
 * no allocation, no locks.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "match.h"
#include "resolve.h"
#include "status.h"

const char *ecif_field_str(ecif_field_t field)
{
    static const char *const names[ECIF_FIELD_COUNT] = {
        "name", "id_number", "phone", "email", "address", "dob", "gender",
    };
    return (unsigned)field < ECIF_FIELD_COUNT ? names[field] : "unknown";
}

const char *ecif_level_str(ecif_level_t level)
{
    switch (level) {
    case ECIF_LEVEL_MISSING:
        return "missing";
    case ECIF_LEVEL_EXACT:
        return "exact";
    case ECIF_LEVEL_FUZZY:
        return "fuzzy";
    case ECIF_LEVEL_PHONETIC:
        return "phonetic";
    case ECIF_LEVEL_ALIAS:
        return "alias";
    case ECIF_LEVEL_PARTIAL:
        return "partial";
    case ECIF_LEVEL_MISMATCH:
        return "mismatch";
    }
    return "unknown";
}

const char *ecif_verdict_str(ecif_verdict_t verdict)
{
    switch (verdict) {
    case ECIF_MATCH:
        return "MATCH";
    case ECIF_POSSIBLE_MATCH:
        return "POSSIBLE_MATCH";
    case ECIF_NO_MATCH:
        return "NO_MATCH";
    }
    return "UNKNOWN";
}

typedef struct scored {
    uint32_t record;
    uint32_t customer;
    double score;
} scored_t;

/* Groups by customer, best score first within a customer, record id last
 * so that the order is total and results are reproducible. */
static int compare_by_customer(const void *pa, const void *pb)
{
    const scored_t *a = pa, *b = pb;

    if (a->customer != b->customer)
        return a->customer < b->customer ? -1 : 1;
    if (a->score != b->score)
        return a->score > b->score ? -1 : 1;
    return a->record < b->record ? -1 : (a->record > b->record);
}

static int compare_candidates(const void *pa, const void *pb)
{
    const ecif_candidate_t *a = pa, *b = pb;

    if (a->score != b->score)
        return a->score > b->score ? -1 : 1;
    return a->customer < b->customer ? -1 : (a->customer > b->customer);
}

/* Returns the quality flags of a normalized query with its frequent
 * values marked. */
static uint32_t view_quality(const match_view_t *view)
{
    uint32_t flags = view->quality;

    if (view->frequent & FREQUENT_ID)
        flags |= ECIF_QUALITY_ID_FREQUENT;
    for (uint32_t i = 0; i < view->n_phones; i++) {
        if (view->frequent & FREQUENT_PHONE(i))
            flags |= ECIF_QUALITY_PHONE_FREQUENT;
    }
    for (uint32_t i = 0; i < view->n_emails; i++) {
        if (view->frequent & FREQUENT_EMAIL(i))
            flags |= ECIF_QUALITY_EMAIL_FREQUENT;
    }
    return flags;
}

/* Weight above the model's MATCH weight at which an identifier match
 * settles a query (20 with the built-in model), so that only agreement on
 * an ID, phone or email together with name or date of birth reaches it.
 * It is relative because a trained model's weights have another scale. */
#define STRONG_MATCH_MARGIN 7.0

/*
 * Scores the candidates from index first on. Returns the best score, or
 * -INFINITY when there are none.
 */
static double score_candidates(const ecif_store_t *store,
                               const match_view_t *qv,
                               const match_candidates_t *cand, uint32_t first,
                               scored_t *scored)
{
    ecif_evidence_t evidence[ECIF_FIELD_COUNT];
    double best = -INFINITY;

    for (uint32_t i = first; i < cand->count; i++) {
        match_view_t rv;
        match_view_stored(store, cand->ids[i], &rv);
        scored[i].record = cand->ids[i];
        scored[i].customer = ecif_store_record_customer(store, cand->ids[i]);
        scored[i].score = match_score(store->model, qv, &rv, evidence);
        if (scored[i].score > best)
            best = scored[i].score;
    }
    return best;
}

/*
 * Downgrades every MATCH within MATCH_AMBIGUITY_MARGIN of the best to
 * POSSIBLE_MATCH, so a person reviews them. A query that matches two
 * customers the index keeps apart, neither clearly better, cannot be
 * attached to one of them. Examples are a father and a son at one address
 * and phone, or a customer split in two. found is sorted best first.
 * Returns true when it downgraded.
 */
static bool downgrade_ambiguous(ecif_candidate_t *found, size_t n)
{
    if (n < 2 || found[0].verdict != ECIF_MATCH ||
        found[1].verdict != ECIF_MATCH ||
        found[0].score - found[1].score >= MATCH_AMBIGUITY_MARGIN)
        return false;
    for (size_t i = 0; i < n && found[i].verdict == ECIF_MATCH &&
                       found[0].score - found[i].score < MATCH_AMBIGUITY_MARGIN;
         i++)
        found[i].verdict = ECIF_POSSIBLE_MATCH;
    return true;
}

int ecif_resolve(const ecif_store_t *store, const ecif_record_t *query,
                 ecif_candidate_t *out, size_t max, size_t *count)
{
    return ecif_resolve_with_quality(store, query, out, max, count, NULL);
}

int ecif_resolve_with_quality(const ecif_store_t *store,
                              const ecif_record_t *query, ecif_candidate_t *out,
                              size_t max, size_t *count, uint32_t *quality)
{
    match_buffer_t buf;
    match_view_t qv;
    match_candidates_t cand;
    scored_t scored[MAX_QUERY_CANDIDATES];
    ecif_candidate_t found[MAX_QUERY_CANDIDATES];
    size_t nfound = 0;

    *count = 0;
    if (max > ECIF_MAX_CANDIDATES)
        max = ECIF_MAX_CANDIDATES;
    match_normalize(query, &buf, &qv, NULL, NULL, NULL);
    match_mark_frequent(store, &qv);
    if (quality != NULL)
        *quality = view_quality(&qv);
    /* Exact identifiers first. A record they find that scores
     * STRONG_MATCH_MARGIN above MATCH settles the query, because the fuzzy
     * keys (the ID's sorted digits, name and date) would only add weaker
     * candidates. The keys of the name alone come last, and only while no
     * record matches yet, because a common name can share them with
     * hundreds of records. */
    uint64_t keys[MAX_RECORD_KEYS];
    size_t n_identifiers = 0, n_qualified = 0;
    size_t nkeys = match_keys_ordered(&qv, keys, MAX_RECORD_KEYS,
                                      &n_identifiers, &n_qualified);
    match_candidates_reset(&cand);
    match_gather_range(store, keys, 0, n_identifiers, &cand);
    double best = score_candidates(store, &qv, &cand, 0, scored);
    if (best < store->model->match_weight + STRONG_MATCH_MARGIN) {
        uint32_t scored_count = cand.count;
        match_gather_range(store, keys, n_identifiers, n_qualified, &cand);
        double next = score_candidates(store, &qv, &cand, scored_count, scored);
        best = next > best ? next : best;
    }
    if (best < store->model->match_weight) {
        uint32_t scored_count = cand.count;
        match_gather_range(store, keys, n_qualified, nkeys, &cand);
        score_candidates(store, &qv, &cand, scored_count, scored);
    }
    qsort(scored, cand.count, sizeof(scored[0]), compare_by_customer);

    for (uint32_t i = 0; i < cand.count;) {
        uint32_t j = i;
        ecif_candidate_t *c = &found[nfound];

        if (scored[i].score < CANDIDATE_FLOOR) {
            while (j < cand.count && scored[j].customer == scored[i].customer)
                j++;
            i = j;
            continue;
        }
        memset(c, 0, sizeof(*c));
        c->customer = scored[i].customer;
        c->score = scored[i].score;
        c->probability = model_probability(store->model, c->score);
        c->verdict = match_verdict(store->model, c->score);
        for (; j < cand.count && scored[j].customer == c->customer; j++) {
            if (c->n_matched < ECIF_MAX_MATCHED &&
                (j == i ||
                 match_verdict(store->model, scored[j].score) != ECIF_NO_MATCH))
                c->matched[c->n_matched++] = scored[j].record;
        }
        /* Recompute the evidence of the best record only. */
        match_view_t rv;
        match_view_stored(store, scored[i].record, &rv);
        match_score(store->model, &qv, &rv, c->evidence);
        nfound++;
        i = j;
    }
    qsort(found, nfound, sizeof(found[0]), compare_candidates);
    if (downgrade_ambiguous(found, nfound) && quality != NULL)
        *quality |= ECIF_QUALITY_AMBIGUOUS_MATCH;
    *count = nfound < max ? nfound : max;
    if (*count > 0)
        memcpy(out, found, *count * sizeof(found[0]));
    return ECIF_OK;
}

/* Scores a against b under model. With store (not NULL), a is the query:
 * its name frequency and frequent values come from the store. */
static void compare_records(const ecif_model_t *model,
                            const ecif_store_t *store, const ecif_record_t *a,
                            const ecif_record_t *b, double *score,
                            ecif_verdict_t *verdict,
                            ecif_evidence_t evidence[ECIF_FIELD_COUNT])
{
    match_buffer_t buf_a, buf_b;
    match_view_t va, vb;

    match_normalize(a, &buf_a, &va, NULL, NULL, NULL);
    if (store != NULL)
        match_mark_frequent(store, &va);
    match_normalize(b, &buf_b, &vb, NULL, NULL, NULL);
    *score = match_score(model, &va, &vb, evidence);
    *verdict = match_verdict(model, *score);
}

void ecif_compare(const ecif_model_t *model, const ecif_record_t *a,
                  const ecif_record_t *b, double *score,
                  ecif_verdict_t *verdict,
                  ecif_evidence_t evidence[ECIF_FIELD_COUNT])
{
    compare_records(model, NULL, a, b, score, verdict, evidence);
}

void ecif_store_compare(const ecif_store_t *store, const ecif_record_t *a,
                        const ecif_record_t *b, double *score,
                        ecif_verdict_t *verdict,
                        ecif_evidence_t evidence[ECIF_FIELD_COUNT])
{
    compare_records(store->model, store, a, b, score, verdict, evidence);
}

int ecif_record_candidates(const ecif_store_t *store, uint32_t record,
                           uint32_t *out, size_t max, size_t *count)
{
    match_candidates_t cand;
    match_view_t view;
    size_t n = 0;

    *count = 0;
    if (record >= store->record_count)
        return ECIF_EINVAL;
    match_view_stored(store, record, &view);
    match_gather(store, &view, &cand);
    for (uint32_t i = 0; i < cand.count && n < max; i++) {
        if (cand.ids[i] != record)
            out[n++] = cand.ids[i];
    }
    *count = n;
    return ECIF_OK;
}

uint32_t ecif_query_quality(const ecif_store_t *store,
                            const ecif_record_t *query)
{
    match_buffer_t buf;
    match_view_t view;

    match_normalize(query, &buf, &view, NULL, NULL, NULL);
    match_mark_frequent(store, &view);
    return view_quality(&view);
}
