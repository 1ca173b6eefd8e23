/*
 * Training the matching model: level vectors counted from random record
 * pairs, from the pairs of each training rule and from the blocked
 * pairs. u comes from the random ones and m from one EM run per rule.
 * The prior comes from the rules' expected matches, or from EM over the
 * blocked pairs when no rule is kept (engine/TRAINING.md).
 *
 * Pairs are reduced to level vectors at once, and EM runs over the
 * distinct vectors with their counts. A store of millions of pairs has a
 * few thousand distinct vectors, so an iteration costs microseconds.
 */
#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "match.h"
#include "status.h"
#include "train.h"

/* Pairs compared between two progress calls. */
#define TRAIN_PROGRESS_EVERY 65536

/* Bounds of the EM prior. At 0 or 1 one class would vanish, and EM could
 * not leave that state. */
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
    /* Values below 2^64 mod bound would make the low results likelier, so
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
 * depend on the table's layout. The caller frees the array. Returns NULL
 * when out of memory.
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
 * Returns the probability, by m or by u, that the levels not estimated
 * leave to the estimated ones. Fixed levels count as not estimated, and
 * "missing" is left out. The result is at least 1e-6, so the estimates
 * stay positive.
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
 * pseudo-pair as u, and keeps its base weight through m. The data carries
 * no evidence on such a level, and keeping base m and u would hand it a
 * share of the probability that the data gives to the levels it saw. m
 * stays at most 1 / (2 trainable levels), so the kept levels leave at
 * least half to the others, and u moves down with it to keep the weight.
 * A field that no pair reached at all keeps its base values.
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

/* Natural log of each level's likelihood ratio m / u, 0 when unusable or
 * when the mask skips the field. */
static void level_log_ratios(const ecif_model_t *model,
                             const train_mask_t *mask,
                             double ratio[ECIF_FIELD_COUNT][MODEL_MAX_LEVELS])
{
    for (int f = 0; f < ECIF_FIELD_COUNT; f++) {
        const model_field_t *field = &model->fields[f];
        for (uint32_t l = 0; l < MODEL_MAX_LEVELS; l++) {
            const model_level_t *level = &field->levels[l];
            ratio[f][l] = 0.0;
            if (l == 0 || l >= field->n_levels || mask->skip[f])
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
                      double *change, train_em_result_t *result)
{
    double ratio[ECIF_FIELD_COUNT][MODEL_MAX_LEVELS];
    double sums[ECIF_FIELD_COUNT][MODEL_MAX_LEVELS] = {{0}};
    double prior_logit = log(prior / (1.0 - prior));
    double matches = 0.0, pairs = 0.0;

    level_log_ratios(model, mask, ratio);
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

        result->field_matches[f] = 0.0;
        for (uint32_t l = 1; l < field->n_levels; l++)
            result->field_matches[f] += sums[f][l];
        if (mask->skip[f])
            continue;
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
    result->expected_matches = matches;
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
                        &result->change, result);
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
    opts->rules[0].fields = 1u << ECIF_FIELD_DOB;
    opts->rules[1].fields = 1u << ECIF_FIELD_NAME;
    opts->rules[2].fields = (1u << ECIF_FIELD_NAME) | (1u << ECIF_FIELD_DOB);
    opts->n_rules = 3;
    opts->auto_conflict_weight = true;
    opts->cluster_probability = TRAIN_CLUSTER_PROBABILITY;
    opts->em.max_iterations = 100;
    opts->em.tolerance = 1e-6;
}

int train_rule_parse(const char *text, train_rule_t *rule, char *err,
                     size_t errlen)
{
    const char *p = text;

    rule->fields = 0;
    while (*p != '\0') {
        size_t len = strcspn(p, "+");
        uint32_t bit = 0;
        for (int f = 0; f < ECIF_FIELD_COUNT; f++) {
            const char *name = ecif_field_str((ecif_field_t)f);
            if (strlen(name) == len && strncmp(p, name, len) == 0)
                bit = 1u << f;
        }
        if ((bit & TRAIN_RULE_FIELDS) == 0 || (rule->fields & bit) != 0)
            return ecif_fail(ECIF_EINVAL, err, errlen,
                             "training rule '%s': expected fields name and "
                             "dob joined by '+', each once",
                             text);
        rule->fields |= bit;
        p += len;
        if (*p == '+' && *++p == '\0')
            return ecif_fail(ECIF_EINVAL, err, errlen,
                             "training rule '%s' ends in '+'", text);
    }
    if (rule->fields == 0)
        return ecif_fail(ECIF_EINVAL, err, errlen, "training rule is empty");
    return ECIF_OK;
}

const char *train_rule_str(train_rule_t rule, char *buf, size_t len)
{
    size_t used = 0;

    if (len > 0)
        buf[0] = '\0';
    for (int f = 0; f < ECIF_FIELD_COUNT && used < len; f++) {
        if ((rule.fields & (1u << f)) == 0)
            continue;
        int n = snprintf(buf + used, len - used, "%s%s", used > 0 ? "+" : "",
                         ecif_field_str((ecif_field_t)f));
        if (n < 0)
            break;
        used += (size_t)n;
    }
    return buf;
}

void train_set_conflict_weight(ecif_model_t *model, double weight)
{
    model->hard_conflict_weight = weight;
    for (int f = 0; f < ECIF_FIELD_COUNT; f++) {
        model_field_t *field = &model->fields[f];
        for (uint32_t l = 1; l < field->n_levels; l++) {
            if (field->levels[l].fixed)
                field->levels[l].weight = weight;
        }
    }
}

/* The largest weight a field adds, 0 when none is positive. */
static double max_agreement(const model_field_t *field)
{
    double best = 0.0;

    for (uint32_t l = 1; l < field->n_levels; l++) {
        if (!field->levels[l].fixed && field->levels[l].weight > best)
            best = field->levels[l].weight;
    }
    return best;
}

double train_conflict_weight(const ecif_model_t *model)
{
    double total = MODEL_NAME_FREQUENCY_MAX, others = -INFINITY;

    for (int f = 0; f < ECIF_FIELD_COUNT; f++)
        total += max_agreement(&model->fields[f]);
    for (int f = 0; f < ECIF_FIELD_COUNT; f++) {
        const model_field_t *field = &model->fields[f];
        for (uint32_t l = 1; l < field->n_levels; l++) {
            double rest = total - max_agreement(field);
            if (field->levels[l].fixed && rest > others)
                others = rest;
        }
    }

    /* A conflict must keep the best pair below POSSIBLE_MATCH and the
     * clustering threshold: weight + others < the lower of the two. */
    double limit = model_lowest_threshold(model) - others;
    if (others == -INFINITY || model->hard_conflict_weight < limit)
        return model->hard_conflict_weight;
    double weight = 10.0 * floor(limit / 10.0);
    if (weight >= limit)
        weight -= 10.0;
    return weight;
}

static void report_progress(const train_options_t *opts, const char *stage,
                            uint64_t done, uint64_t total)
{
    if (opts->progress != NULL &&
        (done % TRAIN_PROGRESS_EVERY == 0 || done == total))
        opts->progress(opts->progress_arg, stage, done, total);
}

static uint64_t fnv_bytes(uint64_t h, const void *data, size_t len)
{
    const unsigned char *p = data;

    for (size_t i = 0; i < len; i++)
        h = (h ^ p[i]) * 0x100000001b3ULL;
    return h;
}

/* Share of matches that a rule's EM run starts from. A rule's groups
 * contain more pairs of different customers than of one, and the start
 * only has to name the classes the right way round. */
#define TRAIN_RULE_START_PRIOR 0.1

/* Max expected matching pairs per record in a rule's run. Past it, the
 * run is taken to have split on something other than the same person and
 * is dropped. An estimate: Splink's historical people sample data, the
 * worst data set tried, has up to 6. */
#define TRAIN_RULE_MAX_MATCHES 10.0

/* Random pairs a rule must gather to measure the u of its fields. */
#define TRAIN_RULE_MIN_RANDOM 1000

/* Max name tokens that a record is keyed by. */
#define RULE_NAME_KEYS 4

/* Max keys of a record under a rule: name tokens times the three pairs
 * of date parts. */
#define RULE_KEYS (RULE_NAME_KEYS * 3)

/* Appends the tokens of text as key hashes, up to RULE_NAME_KEYS. */
static size_t name_token_keys(const char *text, uint64_t *keys, size_t n)
{
    while (text != NULL && *text != '\0' && n < RULE_NAME_KEYS) {
        size_t len = strcspn(text, " ");
        if (len > 0)
            keys[n++] = fnv_bytes(0xcbf29ce484222325ULL, text, len);
        text += len;
        text += strspn(text, " ");
    }
    return n;
}

/*
 * Writes the partial values a record is grouped by under one field of a
 * rule and returns their number. For the name they are the tokens of the
 * family and given names (of the whole name when neither is split out).
 * For the dob they are the three pairs of year, month and day. A pair
 * with one slip in the field still meets, so the rule's matches are not
 * only those without errors there.
 */
static size_t field_keys(const match_view_t *v, int field, uint64_t *keys)
{
    size_t n = 0;

    if (field == ECIF_FIELD_NAME) {
        n = name_token_keys(v->family, keys, n);
        n = name_token_keys(v->given, keys, n);
        if (n == 0)
            n = name_token_keys(v->name, keys, n);
        return n;
    }
    assert(field == ECIF_FIELD_DOB);
    if (v->dob == 0)
        return 0;
    uint32_t year = v->dob / 10000, month = v->dob / 100 % 100;
    uint32_t day = v->dob % 100;
    uint32_t parts[3][3] = {{0, year, month}, {1, month, day}, {2, year, day}};
    for (int i = 0; i < 3; i++)
        keys[n++] =
            fnv_bytes(0x84222325cbf29ce4ULL, parts[i], sizeof(parts[i]));
    return n;
}

/*
 * Writes the keys of a record's view under rule, one for every
 * combination of the partial values of its fields, and returns their
 * number: 0 when the record lacks one of the fields. Two values that
 * hash alike fall into one group, which with 64-bit hashes adds a
 * handful of unrelated pairs at most.
 */
static size_t rule_keys(const match_view_t *v, train_rule_t rule,
                        uint64_t keys[RULE_KEYS])
{
    size_t n = 1;

    keys[0] = 0x9e3779b97f4a7c15ULL;
    for (int f = 0; f < ECIF_FIELD_COUNT; f++) {
        uint64_t part[RULE_KEYS], combined[RULE_KEYS];
        size_t k, m = 0;

        if ((rule.fields & (1u << f)) == 0)
            continue;
        k = field_keys(v, f, part);
        for (size_t i = 0; i < n; i++) {
            for (size_t j = 0; j < k && m < RULE_KEYS; j++) {
                uint64_t h = keys[i] ^ (part[j] + (uint64_t)f);
                combined[m++] = splitmix64(&h);
            }
        }
        memcpy(keys, combined, m * sizeof(*keys));
        n = m;
    }

    /* A repeated token gives a key twice, so keep each key once. */
    size_t unique = 0;
    for (size_t i = 0; i < n; i++) {
        size_t j = 0;
        while (j < unique && keys[j] != keys[i])
            j++;
        if (j == unique)
            keys[unique++] = keys[i];
    }
    return unique;
}

/* Whether two views share a key under rule. */
static bool rule_gathers(const match_view_t *a, const match_view_t *b,
                         train_rule_t rule)
{
    uint64_t ka[RULE_KEYS], kb[RULE_KEYS];
    size_t na = rule_keys(a, rule, ka), nb = rule_keys(b, rule, kb);

    for (size_t i = 0; i < na; i++) {
        for (size_t j = 0; j < nb; j++) {
            if (ka[i] == kb[j])
                return true;
        }
    }
    return false;
}

/*
 * Compares records a and b and counts their level vector into out, and
 * into rule_random[r] for every rule r that would gather the pair
 * (rule_random may be NULL).
 */
static int count_pair(const ecif_store_t *store, const ecif_model_t *model,
                      const train_options_t *opts, uint32_t a, uint32_t b,
                      train_patterns_t *out, train_patterns_t *rule_random)
{
    match_view_t va, vb;
    uint8_t levels[ECIF_FIELD_COUNT];
    int rc;

    /* As at import: the first record is the query side and carries the
     * frequency marks. */
    match_view_stored(store, a, &va);
    match_mark_frequent(store, &va);
    match_view_stored(store, b, &vb);
    match_levels(model, &va, &vb, levels);
    rc = train_patterns_add(out, levels, 1);
    for (size_t r = 0; rule_random != NULL && r < opts->n_rules; r++) {
        if (rc == ECIF_OK && rule_gathers(&va, &vb, opts->rules[r]))
            rc = train_patterns_add(&rule_random[r], levels, 1);
    }
    return rc;
}

/*
 * Compares random pairs of distinct records, or every pair when there are
 * no more than wanted.
 */
static int sample_random(const ecif_store_t *store, const ecif_model_t *model,
                         const train_options_t *opts, train_rng_t *rng,
                         train_patterns_t *out, train_patterns_t *rule_random,
                         uint64_t *compared)
{
    uint32_t n = store->record_count;
    uint64_t all = (uint64_t)n * (n - 1) / 2;
    uint64_t total = all <= opts->random_pairs ? all : opts->random_pairs;
    uint64_t done = 0;
    int rc = ECIF_OK;

    if (all <= opts->random_pairs) {
        for (uint32_t a = 0; a < n && rc == ECIF_OK; a++) {
            for (uint32_t b = a + 1; b < n && rc == ECIF_OK; b++) {
                rc = count_pair(store, model, opts, a, b, out, rule_random);
                report_progress(opts, "random", ++done, total);
            }
        }
    } else {
        while (done < total && rc == ECIF_OK) {
            uint32_t a = (uint32_t)train_rng_below(rng, n);
            uint32_t b = (uint32_t)train_rng_below(rng, n - 1);
            if (b >= a)
                b++;
            rc = count_pair(store, model, opts, a, b, out, rule_random);
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
        rc = count_pair(store, model, opts, a, b, out, NULL);
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

/* A record and the hash of its value under a training rule. */
typedef struct rule_entry {
    uint64_t key;
    uint32_t record;
} rule_entry_t;

static int compare_entries(const void *x, const void *y)
{
    const rule_entry_t *a = x, *b = y;

    if (a->key != b->key)
        return a->key < b->key ? -1 : 1;
    return (a->record > b->record) - (a->record < b->record);
}

/*
 * Returns the smallest key that views a and b share under rule, or 0
 * with *found false when they share none.
 */
static uint64_t first_shared_key(const match_view_t *a, const match_view_t *b,
                                 train_rule_t rule, bool *found)
{
    uint64_t ka[RULE_KEYS], kb[RULE_KEYS], first = 0;
    size_t na = rule_keys(a, rule, ka), nb = rule_keys(b, rule, kb);

    *found = false;
    for (size_t i = 0; i < na; i++) {
        for (size_t j = 0; j < nb; j++) {
            if (ka[i] == kb[j] && (!*found || ka[i] < first)) {
                first = ka[i];
                *found = true;
            }
        }
    }
    return first;
}

/* The number of pairs skipped before the next one kept, when each is
 * kept with probability keep: geometric, so that a group costs the pairs
 * it keeps, not the pairs it has. */
static uint64_t pairs_to_skip(train_rng_t *rng, double keep)
{
    if (keep >= 1.0)
        return 0;
    /* Uniform in (0, 1]. */
    double x = (double)((train_rng_next(rng) >> 11) + 1) * 0x1.0p-53;
    double skip = floor(log(x) / log1p(-keep));
    return skip < 1e18 ? (uint64_t)skip : UINT64_MAX / 2;
}

/* The k-th pair (i < j) of a group, counting row by row of j. */
static void pair_at(uint64_t k, uint64_t *i, uint64_t *j)
{
    uint64_t row = (uint64_t)((1.0 + sqrt(1.0 + 8.0 * (double)k)) / 2.0);

    /* Correct the rounding of the square root. */
    while (row * (row - 1) / 2 > k)
        row--;
    while ((row + 1) * row / 2 <= k)
        row++;
    *j = row;
    *i = k - row * (row - 1) / 2;
}

/*
 * Lists the pairs of one group (records sharing key), each kept with
 * probability keep. A pair whose records share several keys is listed
 * by the group of the smallest one only, so every pair the rule gathers
 * has the same chance whatever its number of shared keys.
 */
static int list_group(const ecif_store_t *store, train_rule_t rule,
                      train_rng_t *rng, const rule_entry_t *group, size_t n,
                      double keep, pair_list_t *list)
{
    uint64_t pairs = (uint64_t)n * (n - 1) / 2;
    int rc = ECIF_OK;

    for (uint64_t k = pairs_to_skip(rng, keep); k < pairs && rc == ECIF_OK;
         k += 1 + pairs_to_skip(rng, keep)) {
        uint64_t i, j;
        match_view_t va, vb;
        bool found;

        pair_at(k, &i, &j);
        uint64_t a = group[i].record, b = group[j].record;
        match_view_stored(store, (uint32_t)a, &va);
        match_view_stored(store, (uint32_t)b, &vb);
        if (first_shared_key(&va, &vb, rule, &found) != group[0].key)
            continue;
        rc = pair_list_push(list, a < b ? a << 32 | b : b << 32 | a);
    }
    return rc;
}

/* Returns the end of the group that starts at start. */
static size_t group_end(const rule_entry_t *entries, size_t count, size_t start)
{
    size_t end = start + 1;

    while (end < count && entries[end].key == entries[start].key)
        end++;
    return end;
}

/*
 * Lists the pairs of records that share a key under rule. Beyond
 * max_pairs each is kept with probability max_pairs / (pairs of all
 * groups). The list is then a uniform sample of the rule's pairs, like
 * the random pairs that measure the rule's u. *total receives the pairs
 * of all groups, a pair counted once per key its records share.
 *
 * NOTE: the key list takes 16 bytes a key, up to 12 keys a record, so a
 * store of tens of millions of records needs gigabytes here.
 */
static int list_rule(const ecif_store_t *store, const train_options_t *opts,
                     train_rng_t *rng, train_rule_t rule, pair_list_t *list,
                     uint64_t *total, double *keep_out)
{
    uint32_t n = store->record_count;
    rule_entry_t *entries = NULL;
    size_t count = 0, capacity = 0;
    int rc = ECIF_OK;

    for (uint32_t r = 0; r < n; r++) {
        uint64_t keys[RULE_KEYS];
        match_view_t v;
        match_view_stored(store, r, &v);
        size_t k = rule_keys(&v, rule, keys);
        if (count + k > capacity) {
            size_t grown = capacity == 0 ? 4096 : 2 * capacity;
            rule_entry_t *p = realloc(entries, grown * sizeof(*entries));
            if (p == NULL) {
                free(entries);
                return ECIF_ENOMEM;
            }
            entries = p;
            capacity = grown;
        }
        for (size_t i = 0; i < k; i++)
            entries[count++] = (rule_entry_t){keys[i], r};
    }
    qsort(entries, count, sizeof(*entries), compare_entries);

    *total = 0;
    for (size_t start = 0, end; start < count; start = end) {
        end = group_end(entries, count, start);
        *total += (uint64_t)(end - start) * (end - start - 1) / 2;
    }
    double keep = *total <= opts->max_pairs
                      ? 1.0
                      : (double)opts->max_pairs / (double)*total;
    *keep_out = keep;
    for (size_t start = 0, end; start < count && rc == ECIF_OK; start = end) {
        end = group_end(entries, count, start);
        rc = list_group(store, rule, rng, entries + start, end - start, keep,
                        list);
        report_progress(opts, "grouping", end, count);
    }
    free(entries);
    return rc;
}

/*
 * Counts the level vectors of the pairs of rule into out: all of them,
 * or a seeded sample of about max_pairs.
 */
static int sample_rule(const ecif_store_t *store, const ecif_model_t *model,
                       const train_options_t *opts, train_rng_t *rng,
                       train_rule_t rule, train_patterns_t *out,
                       train_rule_report_t *rr)
{
    pair_list_t list = {0};
    int rc = list_rule(store, opts, rng, rule, &list, &rr->pairs, &rr->sampled);

    rr->em_pairs = list.count;
    for (size_t i = 0; i < list.count && rc == ECIF_OK; i++) {
        uint32_t a = (uint32_t)(list.items[i] >> 32);
        uint32_t b = (uint32_t)list.items[i];
        rc = count_pair(store, model, opts, a, b, out, NULL);
        report_progress(opts, "rule", i + 1, list.count);
    }
    free(list.items);
    return rc;
}

/*
 * Sets the u that the E step of a rule's run uses for the rule's own
 * fields: their shares among the random pairs the rule gathers. Inside a
 * rule's groups, records of different customers agree on the rule's
 * fields far more often than random pairs do. With u measured there,
 * those fields still tell matches apart. With fewer than
 * TRAIN_RULE_MIN_RANDOM such pairs, the rule's fields leave the E step.
 *
 * Other fields keep u from all random pairs. Measured among the rule's
 * random pairs, their rare agreement levels would count the few true
 * matches there as often as the non-matches.
 */
static void condition_u(ecif_model_t *model, train_mask_t *mask,
                        train_rule_t rule, const train_patterns_t *rule_random,
                        train_rule_report_t *rr)
{
    ecif_model_t conditional = *model;
    bool enough = rule_random->pairs >= TRAIN_RULE_MIN_RANDOM;

    if (enough)
        train_estimate_u(&conditional, rule_random, mask);
    for (int f = 0; f < ECIF_FIELD_COUNT; f++) {
        if ((rule.fields & (1u << f)) == 0)
            continue;
        if (!enough) {
            mask->skip[f] = true;
            memset(mask->estimate[f], 0, sizeof(mask->estimate[f]));
            continue;
        }
        rr->conditioned |= 1u << f;
        for (uint32_t l = 1; l < model->fields[f].n_levels; l++) {
            if (mask->estimate[f][l])
                model->fields[f].levels[l].u =
                    conditional.fields[f].levels[l].u;
        }
    }
}

/*
 * Runs EM over the pairs of one rule, from start (u estimated, base m).
 * Adds the m of every field outside the rule that its matches reached to
 * msum, weighted by the expected matches whose field is not missing, and
 * that weight to wsum. The m of the rule's own fields describe only the
 * matches that the rule gathers, so they are dropped.
 */
static int run_rule(const ecif_store_t *store, const ecif_model_t *start,
                    const train_options_t *opts, train_rng_t *rng,
                    const train_mask_t *mask, train_rule_t rule,
                    const train_patterns_t *rule_random,
                    double msum[ECIF_FIELD_COUNT][MODEL_MAX_LEVELS],
                    double wsum[ECIF_FIELD_COUNT], train_rule_report_t *rr,
                    char *err, size_t errlen)
{
    train_patterns_t pairs;
    train_mask_t rule_mask = *mask;
    ecif_model_t model = *start;
    int rc;

    rr->rule = rule;
    rr->random_pairs = rule_random->pairs;
    train_patterns_init(&pairs);
    rc = sample_rule(store, start, opts, rng, rule, &pairs, rr);
    if (rc != ECIF_OK || pairs.pairs == 0) {
        train_patterns_fini(&pairs);
        return rc;
    }
    rr->patterns = pairs.distinct;
    condition_u(&model, &rule_mask, rule, rule_random, rr);
    rc = train_em(&model, TRAIN_RULE_START_PRIOR, &pairs, &rule_mask, &opts->em,
                  opts->em_progress, opts->progress_arg, &rr->em, err, errlen);
    train_patterns_fini(&pairs);
    if (rc != ECIF_OK)
        return rc;

    rr->implied_prior =
        rr->em.expected_matches / rr->sampled /
        ((double)store->record_count * (store->record_count - 1) / 2.0);

    /* More matching pairs than TRAIN_RULE_MAX_MATCHES a record: the
     * classes split on something other than the same person. */
    if (rr->em.expected_matches >
        TRAIN_RULE_MAX_MATCHES * (double)store->record_count) {
        rr->rejected = true;
        return ECIF_OK;
    }
    for (int f = 0; f < ECIF_FIELD_COUNT; f++) {
        double w = rr->em.field_matches[f];
        bool any = false;
        for (uint32_t l = 1; l < model.fields[f].n_levels; l++)
            any = any || rule_mask.estimate[f][l];
        if (!any || (rule.fields & (1u << f)) != 0 || !(w > 0.0))
            continue;
        rr->estimated |= 1u << f;
        wsum[f] += w;
        for (uint32_t l = 1; l < model.fields[f].n_levels; l++)
            msum[f][l] += w * model.fields[f].levels[l].m;
    }
    return ECIF_OK;
}

/*
 * Sets the m of every field that a rule estimated to the weighted mean of
 * the rules' estimates, and fixes it for the EM over the blocked pairs.
 */
static void
apply_rule_estimates(ecif_model_t *model, train_mask_t *mask,
                     const double msum[ECIF_FIELD_COUNT][MODEL_MAX_LEVELS],
                     const double wsum[ECIF_FIELD_COUNT],
                     train_report_t *report)
{
    for (int f = 0; f < ECIF_FIELD_COUNT; f++) {
        if (!(wsum[f] > 0.0))
            continue;
        model_field_t *field = &model->fields[f];
        for (uint32_t l = 1; l < field->n_levels; l++) {
            if (mask->estimate[f][l])
                field->levels[l].m = msum[f][l] / wsum[f];
            mask->estimate[f][l] = false;
        }
        report->rule_fields |= 1u << f;
    }
}

/* Returns whether a rule counts: not rejected, with an estimated field
 * and an implied prior in (0, 1). */
static bool rule_kept(const train_rule_report_t *rr)
{
    return !rr->rejected && rr->estimated != 0 && rr->implied_prior > 0.0 &&
           rr->implied_prior < 1.0;
}

/*
 * Sets report->capture_prior to the largest Lincoln-Petersen estimate of
 * the prior. Rules a and b over disjoint fields gather a match
 * independently when its fields are independent, as the model assumes,
 * and the rule on both their fields gathers the matches both gather. So
 * the matches number p_a * p_b / p_ab of all pairs (engine/TRAINING.md).
 */
static void estimate_capture_prior(train_report_t *report)
{
    report->capture_prior = 0.0;
    for (int k = 0; k < 3; k++)
        report->capture_rules[k] = -1;
    for (size_t a = 0; a < report->n_rules; a++) {
        for (size_t b = a + 1; b < report->n_rules; b++) {
            const train_rule_report_t *ra = &report->rules[a];
            const train_rule_report_t *rb = &report->rules[b];
            if (!rule_kept(ra) || !rule_kept(rb) ||
                (ra->rule.fields & rb->rule.fields) != 0)
                continue;
            for (size_t j = 0; j < report->n_rules; j++) {
                const train_rule_report_t *rj = &report->rules[j];
                if (!rule_kept(rj) ||
                    rj->rule.fields != (ra->rule.fields | rb->rule.fields))
                    continue;
                double estimate =
                    ra->implied_prior * rb->implied_prior / rj->implied_prior;
                if (estimate < 1.0 && estimate > report->capture_prior) {
                    report->capture_prior = estimate;
                    report->capture_rules[0] = (int)a;
                    report->capture_rules[1] = (int)b;
                    report->capture_rules[2] = (int)j;
                }
            }
        }
    }
}

/*
 * Returns the prior the model takes and sets report->prior_rule. The
 * blocked pairs count namesakes as matches, so their prior is too high
 * where blocking groups by name. A rule's implied prior counts only the
 * matches its groups gather, so each undercounts by the matches its rule
 * misses, and the largest is the nearest unless the capture-recapture
 * estimate is larger. A rejected rule's run did not find people, so it
 * is left out.
 */
static double choose_prior(train_report_t *report)
{
    double prior = 0.0;

    report->prior_rule = -1;
    report->prior_from_capture = false;
    for (size_t i = 0; i < report->n_rules; i++) {
        const train_rule_report_t *rr = &report->rules[i];
        if (!rule_kept(rr))
            continue;
        if (rr->implied_prior > prior) {
            prior = rr->implied_prior;
            report->prior_rule = (int)i;
        }
    }
    estimate_capture_prior(report);
    if (report->prior_rule < 0)
        return report->blocked_prior;
    if (report->capture_prior > prior) {
        report->prior_from_capture = true;
        return report->capture_prior;
    }
    return prior;
}

/* Derives the weights, lowering the conflict weight first when allowed
 * and the trained agreements need it. */
static int derive(ecif_model_t *model, const train_options_t *opts,
                  train_report_t *report, char *err, size_t errlen)
{
    int rc = model_derive(model, err, errlen);

    if (opts->auto_conflict_weight) {
        /* model_derive sets the weights and thresholds before it checks
         * the conflicts, so they are there to measure. */
        double weight = train_conflict_weight(model);
        if (weight != model->hard_conflict_weight) {
            train_set_conflict_weight(model, weight);
            report->conflict_weight_set = true;
            rc = model_derive(model, err, errlen);
        }
    }
    report->hard_conflict_weight = model->hard_conflict_weight;
    return rc;
}

static int estimate(const ecif_store_t *store, const ecif_model_t *base,
                    const train_options_t *opts, train_rng_t *rng,
                    const train_patterns_t *random,
                    const train_patterns_t *rule_random,
                    const train_patterns_t *blocked, ecif_model_t *out,
                    train_report_t *report, char *err, size_t errlen)
{
    train_mask_t mask;
    ecif_model_t trained = *base;
    double msum[ECIF_FIELD_COUNT][MODEL_MAX_LEVELS] = {{0}};
    double wsum[ECIF_FIELD_COUNT] = {0};
    int rc = train_mask_build(base, random, blocked, &mask, err, errlen);

    if (rc != ECIF_OK)
        return rc;
    train_estimate_u(&trained, random, &mask);
    for (size_t i = 0; i < opts->n_rules && rc == ECIF_OK; i++) {
        rc = run_rule(store, &trained, opts, rng, &mask, opts->rules[i],
                      &rule_random[i], msum, wsum, &report->rules[i], err,
                      errlen);
        report->n_rules = i + 1;
    }
    if (rc == ECIF_ENOMEM)
        return ecif_fail(rc, err, errlen, "out of memory grouping records");
    if (rc != ECIF_OK)
        return rc;
    apply_rule_estimates(&trained, &mask, msum, wsum, report);

    rc = train_em(&trained, starting_prior(base, report), blocked, &mask,
                  &opts->em, opts->em_progress, opts->progress_arg, &report->em,
                  err, errlen);
    if (rc != ECIF_OK)
        return rc;

    /* EM's prior is a share of blocked pairs, but the model's is a share
     * of all pairs (engine/TRAINING.md explains why). */
    report->blocked_prior = report->em.prior * (double)report->blocked_pairs /
                            (double)report->all_pairs;
    trained.prior = choose_prior(report);
    trained.cluster_probability = opts->cluster_probability;
    rc = derive(&trained, opts, report, err, errlen);
    if (rc == ECIF_OK)
        *out = trained;
    return rc;
}

int train_model(const ecif_store_t *store, const ecif_model_t *base,
                const train_options_t *opts, ecif_model_t *out,
                train_report_t *report, char *err, size_t errlen)
{
    train_patterns_t random, blocked, rule_random[TRAIN_MAX_RULES];
    train_rng_t rng;
    int rc;

    memset(report, 0, sizeof(*report));
    report->records = store->record_count;
    if (store->record_count < 2)
        return ecif_fail(ECIF_EINVAL, err, errlen,
                         "training needs at least 2 records; the store "
                         "has %u",
                         store->record_count);
    assert(opts->n_rules <= TRAIN_MAX_RULES);
    report->all_pairs =
        (uint64_t)store->record_count * (store->record_count - 1) / 2;

    train_rng_seed(&rng, opts->seed);
    train_patterns_init(&random);
    train_patterns_init(&blocked);
    for (size_t r = 0; r < TRAIN_MAX_RULES; r++)
        train_patterns_init(&rule_random[r]);
    rc = sample_random(store, base, opts, &rng, &random, rule_random,
                       &report->random_pairs);
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
        rc = estimate(store, base, opts, &rng, &random, rule_random, &blocked,
                      out, report, err, errlen);
    }
    train_patterns_fini(&random);
    train_patterns_fini(&blocked);
    for (size_t r = 0; r < TRAIN_MAX_RULES; r++)
        train_patterns_fini(&rule_random[r]);
    return rc;
}
