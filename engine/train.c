/*
 * Training the matching model: level vectors counted from random and
 * blocked record pairs, u from the random ones, m and the prior by EM
 * over the blocked ones (engine/TRAINING.md).
 *
 * Pairs are reduced to level vectors at once, and EM runs over the
 * distinct vectors with their counts. A store of millions of pairs has a
 * few thousand distinct vectors, so an iteration costs microseconds.
 */
#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "match.h"
#include "status.h"
#include "train.h"

/* Pairs compared between two progress calls. */
#define TRAIN_PROGRESS_EVERY 65536

/* The EM prior is kept inside these bounds: at 0 or 1 one class would
 * vanish and EM could not leave that state. */
#define TRAIN_PRIOR_MIN 1e-9
#define TRAIN_PRIOR_MAX (1.0 - 1e-9)

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void train_rng_seed(train_rng_t *rng, uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        rng->state[i] = splitmix64(&seed);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

uint64_t train_rng_next(train_rng_t *rng)
{
    uint64_t *s = rng->state;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;

    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

uint64_t train_rng_below(train_rng_t *rng, uint64_t bound)
{
    assert(bound > 0);
    /* Values below 2^64 mod bound would make the low results likelier:
     * draw again when one comes. */
    uint64_t threshold = (0 - bound) % bound;
    for (;;) {
        uint64_t x = train_rng_next(rng);
        if (x >= threshold)
            return x % bound;
    }
}

void train_patterns_init(train_patterns_t *patterns)
{
    memset(patterns, 0, sizeof(*patterns));
}

void train_patterns_fini(train_patterns_t *patterns)
{
    free(patterns->slots);
    train_patterns_init(patterns);
}

static uint64_t pack_levels(const uint8_t levels[ECIF_FIELD_COUNT])
{
    uint64_t key = 0;

    _Static_assert(ECIF_FIELD_COUNT <= 8, "a level vector fits 64 bits");
    for (int f = 0; f < ECIF_FIELD_COUNT; f++)
        key |= (uint64_t)levels[f] << (8 * f);
    return key;
}

static size_t slot_of(uint64_t key, size_t capacity)
{
    uint64_t h = key;
    return (size_t)(splitmix64(&h) & (capacity - 1));
}

/* Places a pattern in a table with a free slot for it. */
static train_pattern_t *find_slot(train_pattern_t *slots, size_t capacity,
                                  const uint8_t levels[ECIF_FIELD_COUNT])
{
    size_t i = slot_of(pack_levels(levels), capacity);

    while (slots[i].count != 0 &&
           memcmp(slots[i].levels, levels, ECIF_FIELD_COUNT) != 0)
        i = (i + 1) & (capacity - 1);
    return &slots[i];
}

static int grow(train_patterns_t *p)
{
    size_t capacity = p->capacity == 0 ? 256 : p->capacity * 2;
    train_pattern_t *slots = calloc(capacity, sizeof(*slots));

    if (slots == NULL)
        return ECIF_ENOMEM;
    for (size_t i = 0; i < p->capacity; i++) {
        if (p->slots[i].count != 0)
            *find_slot(slots, capacity, p->slots[i].levels) = p->slots[i];
    }
    free(p->slots);
    p->slots = slots;
    p->capacity = capacity;
    return ECIF_OK;
}

int train_patterns_add(train_patterns_t *patterns,
                       const uint8_t levels[ECIF_FIELD_COUNT], uint64_t count)
{
    if (count == 0)
        return ECIF_OK;
    /* Keep the table at most half full. */
    if (2 * (patterns->distinct + 1) > patterns->capacity) {
        int rc = grow(patterns);
        if (rc != ECIF_OK)
            return rc;
    }

    train_pattern_t *slot =
        find_slot(patterns->slots, patterns->capacity, levels);
    if (slot->count == 0) {
        memcpy(slot->levels, levels, ECIF_FIELD_COUNT);
        patterns->distinct++;
    }
    slot->count += count;
    patterns->pairs += count;
    return ECIF_OK;
}

static int compare_patterns(const void *x, const void *y)
{
    const train_pattern_t *a = x, *b = y;
    return memcmp(a->levels, b->levels, ECIF_FIELD_COUNT);
}

/*
 * Returns the distinct patterns in level order, so sums over them do not
 * depend on the table's layout; the caller frees the array. NULL when
 * out of memory.
 */
static train_pattern_t *sorted_patterns(const train_patterns_t *p)
{
    train_pattern_t *out = malloc((p->distinct + 1) * sizeof(*out));
    size_t n = 0;

    if (out == NULL)
        return NULL;
    for (size_t i = 0; i < p->capacity; i++) {
        if (p->slots[i].count != 0)
            out[n++] = p->slots[i];
    }
    assert(n == p->distinct);
    qsort(out, n, sizeof(*out), compare_patterns);
    return out;
}

static int mark_reached(const ecif_model_t *model, const train_patterns_t *p,
                        train_mask_t *mask, char *err, size_t errlen)
{
    if (p == NULL)
        return ECIF_OK;
    for (size_t i = 0; i < p->capacity; i++) {
        const train_pattern_t *pat = &p->slots[i];
        if (pat->count == 0)
            continue;
        for (int f = 0; f < ECIF_FIELD_COUNT; f++) {
            uint8_t l = pat->levels[f];
            if (l >= model->fields[f].n_levels)
                return ecif_fail(ECIF_EINVAL, err, errlen,
                                 "field %s: level index %u out of range "
                                 "(the model has %u levels)",
                                 ecif_field_str(f), l,
                                 model->fields[f].n_levels);
            mask->estimate[f][l] = true;
        }
    }
    return ECIF_OK;
}

int train_mask_build(const ecif_model_t *model, const train_patterns_t *random,
                     const train_patterns_t *blocked, train_mask_t *mask,
                     char *err, size_t errlen)
{
    int rc;

    memset(mask, 0, sizeof(*mask));
    rc = mark_reached(model, random, mask, err, errlen);
    if (rc == ECIF_OK)
        rc = mark_reached(model, blocked, mask, err, errlen);
    if (rc != ECIF_OK)
        return rc;
    for (int f = 0; f < ECIF_FIELD_COUNT; f++) {
        mask->estimate[f][0] = false; /* missing */
        for (uint32_t l = 1; l < model->fields[f].n_levels; l++) {
            if (model->fields[f].levels[l].fixed)
                mask->estimate[f][l] = false;
        }
    }
    return ECIF_OK;
}

/*
 * Returns the probability that the levels not estimated (fixed levels
 * have none, "missing" is outside) leave to the estimated ones, by m or
 * by u. Never below a small floor, so the estimates stay positive.
 */
static double estimated_share(const model_field_t *field, const bool *est,
                              bool of_m)
{
    double kept = 0.0;

    for (uint32_t l = 1; l < field->n_levels; l++) {
        if (!est[l])
            kept += of_m ? field->levels[l].m : field->levels[l].u;
    }
    return kept < 1.0 - 1e-6 ? 1.0 - kept : 1e-6;
}

/*
 * Turns per-level sums into probabilities of the estimated levels of one
 * field: (sum + 1) / (total + estimated levels), times share.
 */
static void smoothed_shares(const model_field_t *field, const bool *est,
                            const double *sums, double share, double *out)
{
    double total = 0.0;
    uint32_t k = 0;

    for (uint32_t l = 1; l < field->n_levels; l++) {
        if (est[l]) {
            total += sums[l];
            k++;
        }
    }
    for (uint32_t l = 1; l < field->n_levels; l++) {
        if (est[l])
            out[l] = share * (sums[l] + 1.0) / (total + (double)k);
    }
}

/*
 * Gives a trainable level that no pair reached the probability of one
 * pseudo-pair as u, and keeps its base weight through m. The data says
 * nothing about such a level; keeping base m and u would hand it a share
 * of the probability that the data gives to the levels it saw. m stays at
 * most 1 / (2 trainable levels), so the kept levels leave at least half
 * to the others, and u moves down with it to keep the weight. A field
 * that no pair reached at all keeps its base values.
 */
static void keep_unreached(model_field_t *field, const bool *est,
                           double reached_pairs)
{
    uint32_t trainable = 0, estimated = 0;

    for (uint32_t l = 1; l < field->n_levels; l++) {
        trainable += !field->levels[l].fixed;
        estimated += est[l];
    }
    if (estimated == 0)
        return;

    double max_m = 0.5 / (double)trainable;
    for (uint32_t l = 1; l < field->n_levels; l++) {
        model_level_t *level = &field->levels[l];
        if (est[l] || level->fixed)
            continue;
        level->u = 1.0 / (reached_pairs + (double)trainable);
        level->m = level->u * exp2(level->weight);
        if (level->m > max_m) {
            level->m = max_m;
            level->u = max_m * exp2(-level->weight);
        }
    }
}

void train_estimate_u(ecif_model_t *model, const train_patterns_t *random,
                      const train_mask_t *mask)
{
    for (int f = 0; f < ECIF_FIELD_COUNT; f++) {
        model_field_t *field = &model->fields[f];
        double sums[MODEL_MAX_LEVELS] = {0};
        double u[MODEL_MAX_LEVELS];
        double reached = 0.0;

        for (size_t i = 0; i < random->capacity; i++) {
            const train_pattern_t *p = &random->slots[i];
            if (p->count != 0)
                sums[p->levels[f]] += (double)p->count;
        }
        for (uint32_t l = 1; l < field->n_levels; l++) {
            if (mask->estimate[f][l])
                reached += sums[l];
        }
        keep_unreached(field, mask->estimate[f], reached);

        double share = estimated_share(field, mask->estimate[f], false);
        smoothed_shares(field, mask->estimate[f], sums, share, u);
        for (uint32_t l = 1; l < field->n_levels; l++) {
            if (mask->estimate[f][l])
                field->levels[l].u = u[l];
        }
    }
}

/* Natural log of each level's likelihood ratio m / u, 0 when unusable. */
static void level_log_ratios(const ecif_model_t *model,
                             double ratio[ECIF_FIELD_COUNT][MODEL_MAX_LEVELS])
{
    for (int f = 0; f < ECIF_FIELD_COUNT; f++) {
        const model_field_t *field = &model->fields[f];
        for (uint32_t l = 0; l < MODEL_MAX_LEVELS; l++) {
            const model_level_t *level = &field->levels[l];
            ratio[f][l] = 0.0;
            if (l == 0 || l >= field->n_levels)
                continue;
            if (level->fixed)
                ratio[f][l] = level->weight * M_LN2;
            else if (level->m > 0.0 && level->u > 0.0)
                ratio[f][l] = log(level->m / level->u);
        }
    }
}

/*
 * One EM iteration over the sorted patterns. Reads m and prior, writes
 * the new m into model, returns the new prior and the largest move.
 */
static double em_step(ecif_model_t *model, const train_mask_t *mask,
                      const train_pattern_t *patterns, size_t n, double prior,
                      double *change, double *expected)
{
    double ratio[ECIF_FIELD_COUNT][MODEL_MAX_LEVELS];
    double sums[ECIF_FIELD_COUNT][MODEL_MAX_LEVELS] = {{0}};
    double prior_logit = log(prior / (1.0 - prior));
    double matches = 0.0, pairs = 0.0;

    level_log_ratios(model, ratio);
    for (size_t i = 0; i < n; i++) {
        const train_pattern_t *p = &patterns[i];
        double logit = prior_logit;
        for (int f = 0; f < ECIF_FIELD_COUNT; f++)
            logit += ratio[f][p->levels[f]];

        /* The E step: expected matches among the pairs of this vector. */
        double w = (double)p->count / (1.0 + exp(-logit));
        matches += w;
        pairs += (double)p->count;
        for (int f = 0; f < ECIF_FIELD_COUNT; f++)
            sums[f][p->levels[f]] += w;
    }

    /* The M step. */
    double next_prior = matches / pairs;
    if (next_prior < TRAIN_PRIOR_MIN)
        next_prior = TRAIN_PRIOR_MIN;
    if (next_prior > TRAIN_PRIOR_MAX)
        next_prior = TRAIN_PRIOR_MAX;
    *change = fabs(next_prior - prior);
    for (int f = 0; f < ECIF_FIELD_COUNT; f++) {
        model_field_t *field = &model->fields[f];
        double m[MODEL_MAX_LEVELS];
        double share = estimated_share(field, mask->estimate[f], true);

        smoothed_shares(field, mask->estimate[f], sums[f], share, m);
        for (uint32_t l = 1; l < field->n_levels; l++) {
            if (!mask->estimate[f][l])
                continue;
            double move = fabs(m[l] - field->levels[l].m);
            if (move > *change)
                *change = move;
            field->levels[l].m = m[l];
        }
    }
    *expected = matches;
    return next_prior;
}

int train_em(ecif_model_t *model, double prior, const train_patterns_t *blocked,
             const train_mask_t *mask, const train_em_options_t *opts,
             train_em_progress_fn *progress, void *progress_arg,
             train_em_result_t *result, char *err, size_t errlen)
{
    if (blocked->pairs == 0)
        return ecif_fail(ECIF_EINVAL, err, errlen,
                         "no blocked pairs to estimate m from");
    if (!(prior > 0.0 && prior < 1.0))
        return ecif_fail(ECIF_EINVAL, err, errlen,
                         "starting prior %g is outside (0, 1)", prior);
    assert(opts->max_iterations >= 1);

    train_pattern_t *patterns = sorted_patterns(blocked);
    if (patterns == NULL)
        return ecif_fail(ECIF_ENOMEM, err, errlen,
                         "out of memory sorting %zu level vectors",
                         blocked->distinct);

    memset(result, 0, sizeof(*result));
    while (result->iterations < opts->max_iterations) {
        prior = em_step(model, mask, patterns, blocked->distinct, prior,
                        &result->change, &result->expected_matches);
        result->iterations++;
        if (progress != NULL)
            progress(progress_arg, result->iterations, result->change, prior);
        if (result->change < opts->tolerance) {
            result->converged = true;
            break;
        }
    }
    result->prior = prior;
    free(patterns);
    return ECIF_OK;
}

void train_options_default(train_options_t *opts)
{
    memset(opts, 0, sizeof(*opts));
    opts->random_pairs = 1000000;
    opts->max_pairs = 5000000;
    opts->em.max_iterations = 100;
    opts->em.tolerance = 1e-6;
}

static void report_progress(const train_options_t *opts, const char *stage,
                            uint64_t done, uint64_t total)
{
    if (opts->progress != NULL &&
        (done % TRAIN_PROGRESS_EVERY == 0 || done == total))
        opts->progress(opts->progress_arg, stage, done, total);
}

/* Compares records a and b and counts their level vector. */
static int count_pair(const ecif_store_t *store, const ecif_model_t *model,
                      uint32_t a, uint32_t b, train_patterns_t *out)
{
    match_view_t va, vb;
    uint8_t levels[ECIF_FIELD_COUNT];

    /* As at import: the first record is the query side and carries the
     * frequency marks. */
    match_view_stored(store, a, &va);
    match_mark_frequent(store, &va);
    match_view_stored(store, b, &vb);
    match_levels(model, &va, &vb, levels);
    return train_patterns_add(out, levels, 1);
}

/*
 * Compares random pairs of distinct records, or every pair when there are
 * no more than wanted.
 */
static int sample_random(const ecif_store_t *store, const ecif_model_t *model,
                         const train_options_t *opts, train_rng_t *rng,
                         train_patterns_t *out, uint64_t *compared)
{
    uint32_t n = store->record_count;
    uint64_t all = (uint64_t)n * (n - 1) / 2;
    uint64_t total = all <= opts->random_pairs ? all : opts->random_pairs;
    uint64_t done = 0;
    int rc = ECIF_OK;

    if (all <= opts->random_pairs) {
        for (uint32_t a = 0; a < n && rc == ECIF_OK; a++) {
            for (uint32_t b = a + 1; b < n && rc == ECIF_OK; b++) {
                rc = count_pair(store, model, a, b, out);
                report_progress(opts, "random", ++done, total);
            }
        }
    } else {
        while (done < total && rc == ECIF_OK) {
            uint32_t a = (uint32_t)train_rng_below(rng, n);
            uint32_t b = (uint32_t)train_rng_below(rng, n - 1);
            if (b >= a)
                b++;
            rc = count_pair(store, model, a, b, out);
            report_progress(opts, "random", ++done, total);
        }
    }
    *compared = done;
    return rc;
}

static int compare_u64(const void *x, const void *y)
{
    uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
    return (a > b) - (a < b);
}

typedef struct pair_list {
    uint64_t *items; /* lower id << 32 | higher id */
    size_t count;
    size_t capacity;
} pair_list_t;

static int pair_list_push(pair_list_t *list, uint64_t pair)
{
    if (list->count == list->capacity) {
        size_t capacity = list->capacity == 0 ? 4096 : list->capacity * 2;
        uint64_t *items = realloc(list->items, capacity * sizeof(*items));
        if (items == NULL)
            return ECIF_ENOMEM;
        list->items = items;
        list->capacity = capacity;
    }
    list->items[list->count++] = pair;
    return ECIF_OK;
}

/*
 * Lists the distinct pairs that share a blocking key, sorted. Gathering
 * is not symmetric (a record's candidate list is bounded), so a pair
 * counts when either side gathers the other.
 *
 * NOTE: the list takes 8 bytes a candidate before duplicates go, so a
 * store of tens of millions of records needs gigabytes here; --max-pairs
 * does not bound it.
 */
static int list_blocked(const ecif_store_t *store, const train_options_t *opts,
                        pair_list_t *list)
{
    uint32_t n = store->record_count;
    uint32_t candidates[MAX_QUERY_CANDIDATES];

    for (uint32_t r = 0; r < n; r++) {
        size_t count = 0;
        int rc = ecif_record_candidates(store, r, candidates,
                                        MAX_QUERY_CANDIDATES, &count);
        assert(rc == ECIF_OK);
        for (size_t i = 0; i < count; i++) {
            uint32_t c = candidates[i];
            uint64_t lo = r < c ? r : c, hi = r < c ? c : r;
            rc = pair_list_push(list, lo << 32 | hi);
            if (rc != ECIF_OK)
                return rc;
        }
        report_progress(opts, "blocking", (uint64_t)r + 1, n);
    }
    if (list->count == 0)
        return ECIF_OK;
    qsort(list->items, list->count, sizeof(uint64_t), compare_u64);

    size_t kept = 1;
    for (size_t i = 1; i < list->count; i++) {
        if (list->items[i] != list->items[kept - 1])
            list->items[kept++] = list->items[i];
    }
    list->count = kept;
    return ECIF_OK;
}

/* Keeps a uniform random subset of max pairs, in sorted order. */
static void subsample(pair_list_t *list, uint64_t max, train_rng_t *rng)
{
    if (list->count <= max)
        return;
    /* A partial Fisher-Yates shuffle: the first max slots end up as a
     * uniform sample without repeats. */
    for (size_t i = 0; i < max; i++) {
        size_t j = i + (size_t)train_rng_below(rng, list->count - i);
        uint64_t t = list->items[i];
        list->items[i] = list->items[j];
        list->items[j] = t;
    }
    list->count = (size_t)max;
    qsort(list->items, list->count, sizeof(uint64_t), compare_u64);
}

static int sample_blocked(const ecif_store_t *store, const ecif_model_t *model,
                          const train_options_t *opts, train_rng_t *rng,
                          train_patterns_t *out, train_report_t *report)
{
    pair_list_t list = {0};
    int rc = list_blocked(store, opts, &list);

    if (rc != ECIF_OK) {
        free(list.items);
        return rc;
    }
    report->blocked_pairs = list.count;
    subsample(&list, opts->max_pairs, rng);
    report->em_pairs = list.count;
    for (size_t i = 0; i < list.count && rc == ECIF_OK; i++) {
        uint32_t a = (uint32_t)(list.items[i] >> 32);
        uint32_t b = (uint32_t)list.items[i];
        rc = count_pair(store, model, a, b, out);
        report_progress(opts, "blocked", i + 1, list.count);
    }
    free(list.items);
    return rc;
}

/* The base prior among all pairs, as a starting share of blocked pairs. */
static double starting_prior(const ecif_model_t *base,
                             const train_report_t *report)
{
    double p =
        base->prior * (double)report->all_pairs / (double)report->blocked_pairs;

    if (!(p >= 1e-4))
        p = 1e-4;
    if (p > 0.5)
        p = 0.5;
    return p;
}

static int estimate(const ecif_model_t *base, const train_options_t *opts,
                    const train_patterns_t *random,
                    const train_patterns_t *blocked, ecif_model_t *out,
                    train_report_t *report, char *err, size_t errlen)
{
    train_mask_t mask;
    ecif_model_t trained = *base;
    int rc = train_mask_build(base, random, blocked, &mask, err, errlen);

    if (rc != ECIF_OK)
        return rc;
    train_estimate_u(&trained, random, &mask);
    rc = train_em(&trained, starting_prior(base, report), blocked, &mask,
                  &opts->em, opts->em_progress, opts->progress_arg, &report->em,
                  err, errlen);
    if (rc != ECIF_OK)
        return rc;

    /* EM's prior is a share of blocked pairs; the model's is a share of
     * all pairs (engine/TRAINING.md says why). */
    trained.prior = report->em.prior * (double)report->blocked_pairs /
                    (double)report->all_pairs;
    rc = model_derive(&trained, err, errlen);
    if (rc == ECIF_OK)
        *out = trained;
    return rc;
}

int train_model(const ecif_store_t *store, const ecif_model_t *base,
                const train_options_t *opts, ecif_model_t *out,
                train_report_t *report, char *err, size_t errlen)
{
    train_patterns_t random, blocked;
    train_rng_t rng;
    int rc;

    memset(report, 0, sizeof(*report));
    report->records = store->record_count;
    if (store->record_count < 2)
        return ecif_fail(ECIF_EINVAL, err, errlen,
                         "training needs at least 2 records; the store "
                         "has %u",
                         store->record_count);
    report->all_pairs =
        (uint64_t)store->record_count * (store->record_count - 1) / 2;

    train_rng_seed(&rng, opts->seed);
    train_patterns_init(&random);
    train_patterns_init(&blocked);
    rc = sample_random(store, base, opts, &rng, &random, &report->random_pairs);
    if (rc == ECIF_OK)
        rc = sample_blocked(store, base, opts, &rng, &blocked, report);
    if (rc == ECIF_ENOMEM) {
        ecif_fail(rc, err, errlen, "out of memory comparing record pairs");
    } else if (rc == ECIF_OK && report->blocked_pairs == 0) {
        rc = ecif_fail(ECIF_EINVAL, err, errlen,
                       "no two records share a blocking key; nothing to "
                       "estimate m from");
    } else if (rc == ECIF_OK) {
        report->random_patterns = random.distinct;
        report->blocked_patterns = blocked.distinct;
        rc = estimate(base, opts, &random, &blocked, out, report, err, errlen);
    }
    train_patterns_fini(&random);
    train_patterns_fini(&blocked);
    return rc;
}
