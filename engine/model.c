/*
 * The matching model: the built-in model, the text format (parse and
 * write) and the derived weights. engine/MODEL.md describes the format,
 * the levels and the formula that turns a weight into a probability.
 *
 * The list of levels and their order belong to the scorer
 * (match_levels), not to the file. level_specs below states them once,
 * and a model file must list the same levels in the same order.
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "status.h"

/* One level as the scorer defines it, with its built-in weight. */
struct level_spec {
    const char *name;
    ecif_level_t coarse;
    bool fixed;
    double weight;
};

/* Levels of each field after "missing", in match_levels() order. The
 * weights are the hand-set weights of engine/MATCHING.md. */
static const struct level_spec name_specs[] = {
    {"exact", ECIF_LEVEL_EXACT, false, 7.5},
    {"homophone_same_family", ECIF_LEVEL_PHONETIC, false, 6.0},
    {"homophone_other_family", ECIF_LEVEL_PHONETIC, false, 2.0},
    {"fuzzy_pinyin", ECIF_LEVEL_PHONETIC, false, 4.0},
    {"pinyin_key", ECIF_LEVEL_PHONETIC, false, 7.0},
    {"cross_script_mismatch", ECIF_LEVEL_MISMATCH, false, -1.0},
    {"given_differs", ECIF_LEVEL_PARTIAL, false, -3.5},
    {"latin_fuzzy", ECIF_LEVEL_FUZZY, false, 6.5},
    {"latin_alias", ECIF_LEVEL_ALIAS, false, 6.5},
    {"latin_phonetic", ECIF_LEVEL_PHONETIC, false, 6.0},
    {"latin_initial", ECIF_LEVEL_PARTIAL, false, 4.8},
    {"latin_swapped", ECIF_LEVEL_EXACT, false, 6.5},
    {"latin_one_part", ECIF_LEVEL_PARTIAL, false, 4.0},
    {"latin_one_part_mismatch", ECIF_LEVEL_MISMATCH, false, -3.0},
    {"family_differs", ECIF_LEVEL_PARTIAL, false, 0.5},
    {"mismatch", ECIF_LEVEL_MISMATCH, false, -5.5},
    {"suffix_conflict", ECIF_LEVEL_MISMATCH, true, -40.0},
};

static const struct level_spec id_specs[] = {
    {"exact_valid_resident", ECIF_LEVEL_EXACT, false, 12.0},
    {"exact", ECIF_LEVEL_EXACT, false, 10.0},
    {"exact_suspect", ECIF_LEVEL_EXACT, false, 2.0},
    {"one_edit", ECIF_LEVEL_FUZZY, false, 4.0},
    {"mismatch", ECIF_LEVEL_MISMATCH, false, -6.0},
    {"mismatch_suspect", ECIF_LEVEL_MISMATCH, false, -1.0},
    {"conflict", ECIF_LEVEL_MISMATCH, true, -40.0},
};

static const struct level_spec phone_specs[] = {
    {"exact", ECIF_LEVEL_EXACT, false, 6.0},
    {"last_8_digits", ECIF_LEVEL_PARTIAL, false, 2.0},
    {"mismatch", ECIF_LEVEL_MISMATCH, false, -1.0},
};

static const struct level_spec email_specs[] = {
    {"exact", ECIF_LEVEL_EXACT, false, 6.0},
    {"same_local_part", ECIF_LEVEL_PARTIAL, false, 1.0},
    {"mismatch", ECIF_LEVEL_MISMATCH, false, -0.5},
};

static const struct level_spec address_specs[] = {
    {"exact", ECIF_LEVEL_EXACT, false, 3.0},
    {"fuzzy", ECIF_LEVEL_FUZZY, false, 2.0},
    {"partial", ECIF_LEVEL_PARTIAL, false, 0.5},
    {"mismatch", ECIF_LEVEL_MISMATCH, false, -1.5},
};

static const struct level_spec dob_specs[] = {
    {"exact", ECIF_LEVEL_EXACT, false, 6.5},
    {"one_digit", ECIF_LEVEL_FUZZY, false, 2.5},
    {"day_month_swapped", ECIF_LEVEL_PARTIAL, false, 2.0},
    {"year_off_by_one", ECIF_LEVEL_PARTIAL, false, 0.5},
    {"two_parts", ECIF_LEVEL_PARTIAL, false, -2.5},
    {"same_year", ECIF_LEVEL_MISMATCH, false, -2.5},
    {"mismatch", ECIF_LEVEL_MISMATCH, false, -4.0},
    {"impossible_gap", ECIF_LEVEL_MISMATCH, false, -4.0},
};

static const struct level_spec gender_specs[] = {
    {"exact", ECIF_LEVEL_EXACT, false, 0.5},
    {"mismatch", ECIF_LEVEL_MISMATCH, false, -2.0},
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const struct field_spec {
    const struct level_spec *levels;
    uint32_t count; /* without "missing" */
} field_specs[ECIF_FIELD_COUNT] = {
    [ECIF_FIELD_NAME] = {name_specs, COUNT(name_specs)},
    [ECIF_FIELD_ID_NUMBER] = {id_specs, COUNT(id_specs)},
    [ECIF_FIELD_PHONE] = {phone_specs, COUNT(phone_specs)},
    [ECIF_FIELD_EMAIL] = {email_specs, COUNT(email_specs)},
    [ECIF_FIELD_ADDRESS] = {address_specs, COUNT(address_specs)},
    [ECIF_FIELD_DOB] = {dob_specs, COUNT(dob_specs)},
    [ECIF_FIELD_GENDER] = {gender_specs, COUNT(gender_specs)},
};

_Static_assert(COUNT(name_specs) + 1 == MODEL_NAME_LEVELS, "name levels");
_Static_assert(COUNT(id_specs) + 1 == MODEL_ID_LEVELS, "id levels");
_Static_assert(COUNT(phone_specs) + 1 == MODEL_PHONE_LEVELS, "phone levels");
_Static_assert(COUNT(email_specs) + 1 == MODEL_EMAIL_LEVELS, "email levels");
_Static_assert(COUNT(address_specs) + 1 == MODEL_ADDRESS_LEVELS,
               "address levels");
_Static_assert(COUNT(dob_specs) + 1 == MODEL_DOB_LEVELS, "dob levels");
_Static_assert(COUNT(gender_specs) + 1 == MODEL_GENDER_LEVELS, "gender levels");
_Static_assert(MODEL_NAME_LEVELS <= MODEL_MAX_LEVELS, "name fits");

/* The built-in prior over all record pairs. It is hand-set, not estimated,
 * and keeps the built-in thresholds at weights 13 and 7 (engine/MODEL.md). */
#define DEFAULT_PRIOR           (1.0 / 128.0)
#define DEFAULT_MATCH_WEIGHT    13.0
#define DEFAULT_POSSIBLE_WEIGHT 7.0

/* Rounds a derived weight to 9 decimal places, so that round-number
 * weights survive the trip through probabilities exactly. */
static double round_weight(double w)
{
    return round(w * 1e9) / 1e9;
}

static double log2_odds(double p)
{
    return log2(p / (1.0 - p));
}

static bool is_probability(double p)
{
    return p > 0.0 && p < 1.0;
}

double model_probability(const ecif_model_t *model, double weight)
{
    return 1.0 / (1.0 + exp2(-(weight + log2_odds(model->prior))));
}

double model_lowest_threshold(const ecif_model_t *model)
{
    return model->cluster_weight < model->possible_weight
               ? model->cluster_weight
               : model->possible_weight;
}

ecif_verdict_t model_verdict(const ecif_model_t *model, double weight)
{
    if (weight >= model->match_weight)
        return ECIF_MATCH;
    if (weight >= model->possible_weight)
        return ECIF_POSSIBLE_MATCH;
    return ECIF_NO_MATCH;
}

/* Returns the max weight a field can add, or 0 when none is positive. */
static double max_agreement(const model_field_t *field)
{
    double best = 0.0;

    for (uint32_t l = 0; l < field->n_levels; l++) {
        if (field->levels[l].weight > best)
            best = field->levels[l].weight;
    }
    return best;
}

/*
 * Checks that a hard conflict in any field outweighs the max agreement
 * of all other fields together, the name-frequency bonus
 * included, so that a conflicting pair stays below POSSIBLE_MATCH and
 * below the clustering threshold.
 */
static int check_conflicts(const ecif_model_t *model, char *err, size_t errlen)
{
    double total = MODEL_NAME_FREQUENCY_MAX;
    double limit = model_lowest_threshold(model);

    for (int f = 0; f < ECIF_FIELD_COUNT; f++)
        total += max_agreement(&model->fields[f]);
    for (int f = 0; f < ECIF_FIELD_COUNT; f++) {
        const model_field_t *field = &model->fields[f];
        double others = total - max_agreement(field);
        for (uint32_t l = 0; l < field->n_levels; l++) {
            const model_level_t *level = &field->levels[l];
            if (!level->fixed || l == 0)
                continue;
            if (level->weight > model->hard_conflict_weight)
                return ecif_fail(ECIF_EINVAL, err, errlen,
                                 "fixed level %s.%s: weight %g is above "
                                 "hard_conflict_weight %g",
                                 ecif_field_str((ecif_field_t)f), level->name,
                                 level->weight, model->hard_conflict_weight);
            if (level->weight + others >= limit)
                return ecif_fail(ECIF_EINVAL, err, errlen,
                                 "fixed level %s.%s: weight %g does not "
                                 "outweigh the other fields' agreement %g",
                                 ecif_field_str((ecif_field_t)f), level->name,
                                 level->weight, others);
        }
    }
    return ECIF_OK;
}

int model_derive(ecif_model_t *model, char *err, size_t errlen)
{
    if (!is_probability(model->prior))
        return ecif_fail(ECIF_EINVAL, err, errlen, "prior %g is outside (0, 1)",
                         model->prior);
    if (!is_probability(model->match_probability) ||
        !is_probability(model->possible_probability))
        return ecif_fail(ECIF_EINVAL, err, errlen,
                         "match_probability %g or possible_probability %g "
                         "is outside (0, 1)",
                         model->match_probability, model->possible_probability);
    if (model->possible_probability >= model->match_probability)
        return ecif_fail(ECIF_EINVAL, err, errlen,
                         "possible_probability %g is not below "
                         "match_probability %g",
                         model->possible_probability, model->match_probability);
    if (!is_probability(model->cluster_probability))
        return ecif_fail(ECIF_EINVAL, err, errlen,
                         "cluster_probability %g is outside (0, 1)",
                         model->cluster_probability);
    if (model->cluster_probability > model->match_probability)
        return ecif_fail(ECIF_EINVAL, err, errlen,
                         "cluster_probability %g is above "
                         "match_probability %g",
                         model->cluster_probability, model->match_probability);

    for (int f = 0; f < ECIF_FIELD_COUNT; f++) {
        model_field_t *field = &model->fields[f];
        for (uint32_t l = 1; l < field->n_levels; l++) {
            model_level_t *level = &field->levels[l];
            if (level->fixed)
                continue;
            if (!is_probability(level->m) || !is_probability(level->u))
                return ecif_fail(ECIF_EINVAL, err, errlen,
                                 "level %s.%s: m %g or u %g is outside "
                                 "(0, 1)",
                                 ecif_field_str((ecif_field_t)f), level->name,
                                 level->m, level->u);
            level->weight = round_weight(log2(level->m / level->u));
        }
    }

    double prior_odds = log2_odds(model->prior);
    model->match_weight =
        round_weight(log2_odds(model->match_probability) - prior_odds);
    model->possible_weight =
        round_weight(log2_odds(model->possible_probability) - prior_odds);
    model->cluster_weight =
        round_weight(log2_odds(model->cluster_probability) - prior_odds);
    return check_conflicts(model, err, errlen);
}

/* Sets the levels of every field from level_specs, with m and u chosen so
 * that they reproduce the built-in weights (engine/MODEL.md). */
static void set_default_levels(ecif_model_t *model)
{
    for (int f = 0; f < ECIF_FIELD_COUNT; f++) {
        const struct field_spec *spec = &field_specs[f];
        model_field_t *field = &model->fields[f];
        double share = 1.0 / spec->count;

        field->n_levels = spec->count + 1;
        snprintf(field->levels[0].name, MODEL_NAME_MAX, "missing");
        field->levels[0].coarse = ECIF_LEVEL_MISSING;
        field->levels[0].fixed = true;
        for (uint32_t l = 0; l < spec->count; l++) {
            const struct level_spec *ls = &spec->levels[l];
            model_level_t *level = &field->levels[l + 1];
            snprintf(level->name, MODEL_NAME_MAX, "%s", ls->name);
            level->coarse = ls->coarse;
            level->fixed = ls->fixed;
            level->weight = ls->weight;
            if (ls->fixed)
                continue;
            if (ls->weight >= 0.0) {
                level->m = share;
                level->u = share * exp2(-ls->weight);
            } else {
                level->u = share;
                level->m = share * exp2(ls->weight);
            }
        }
    }
}

static ecif_model_t default_model;
static pthread_once_t default_once = PTHREAD_ONCE_INIT;

static void build_default(void)
{
    ecif_model_t *m = &default_model;
    int rc;

    memset(m, 0, sizeof(*m));
    snprintf(m->label, sizeof(m->label), "default");
    m->prior = DEFAULT_PRIOR;
    m->match_weight = DEFAULT_MATCH_WEIGHT;
    m->possible_weight = DEFAULT_POSSIBLE_WEIGHT;
    m->match_probability = model_probability(m, DEFAULT_MATCH_WEIGHT);
    m->possible_probability = model_probability(m, DEFAULT_POSSIBLE_WEIGHT);
    /* Its probabilities are not calibrated, so it clusters at MATCH. */
    m->cluster_probability = m->match_probability;
    m->hard_conflict_weight = -40.0;
    m->frequent_agreement_weight = 0.5;
    m->household_contact_weight = 1.0;
    set_default_levels(m);
    rc = model_derive(m, NULL, 0);
    if (rc != ECIF_OK)
        abort(); /* the built-in tables contradict themselves */
}

const ecif_model_t *model_default(void)
{
    pthread_once(&default_once, build_default);
    return &default_model;
}

/* Keys other than "level", each allowed once and required, except
 * cluster_probability, which defaults to match_probability. */
enum model_key {
    KEY_FORMAT,
    KEY_LABEL,
    KEY_PRIOR,
    KEY_MATCH_PROBABILITY,
    KEY_POSSIBLE_PROBABILITY,
    KEY_CLUSTER_PROBABILITY,
    KEY_HARD_CONFLICT_WEIGHT,
    KEY_FREQUENT_AGREEMENT_WEIGHT,
    KEY_HOUSEHOLD_CONTACT_WEIGHT,
    KEY_COUNT
};

static const char *const key_names[KEY_COUNT] = {
    "format",
    "label",
    "prior",
    "match_probability",
    "possible_probability",
    "cluster_probability",
    "hard_conflict_weight",
    "frequent_agreement_weight",
    "household_contact_weight",
};

/* State of one model_parse() call. */
struct parser {
    ecif_model_t *model;
    unsigned line;
    bool seen[KEY_COUNT];
    char *err;
    size_t errlen;
};

static int parse_fail(struct parser *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Writes "line N: " and the message to the parser's err. */
static int parse_fail(struct parser *p, const char *fmt, ...)
{
    char detail[256];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(detail, sizeof(detail), fmt, ap);
    va_end(ap);
    return ecif_fail(ECIF_EINVAL, p->err, p->errlen, "model line %u: %s",
                     p->line, detail);
}

/* Parses a whole token as a finite double. */
static bool parse_double(const char *text, double *out)
{
    char *end;

    errno = 0;
    *out = strtod(text, &end);
    return end != text && *end == '\0' && errno == 0 && isfinite(*out);
}

/* Splits a line at blanks into at most max tokens. Returns the number of
 * tokens in the line, which may exceed max. */
static size_t split_line(char *line, char **tokens, size_t max)
{
    size_t n = 0;
    char *save = NULL;

    for (char *t = strtok_r(line, " \t\r", &save); t != NULL;
         t = strtok_r(NULL, " \t\r", &save)) {
        if (n < max)
            tokens[n] = t;
        n++;
    }
    return n;
}

static int parse_coarse(struct parser *p, const char *text, ecif_level_t *out)
{
    for (int l = ECIF_LEVEL_EXACT; l <= ECIF_LEVEL_MISMATCH; l++) {
        if (strcmp(text, ecif_level_str((ecif_level_t)l)) == 0) {
            *out = (ecif_level_t)l;
            return ECIF_OK;
        }
    }
    return parse_fail(p,
                      "level: coarse level '%s' is not one of exact, "
                      "fuzzy, phonetic, alias, partial, mismatch",
                      text);
}

static int parse_probability(struct parser *p, const char *key,
                             const char *text, double *out)
{
    if (!parse_double(text, out) || !is_probability(*out))
        return parse_fail(p, "%s: '%s' is not a probability in (0, 1)", key,
                          text);
    return ECIF_OK;
}

/* Parses "level FIELD NAME COARSE m M u U" or "... weight W". */
static int parse_level(struct parser *p, char **tok, size_t n)
{
    int f;

    if (n != 6 && n != 8)
        return parse_fail(p,
                          "level: expected 'level FIELD NAME COARSE m M "
                          "u U' or '... weight W', found %zu words",
                          n);
    for (f = 0; f < ECIF_FIELD_COUNT; f++) {
        if (strcmp(tok[1], ecif_field_str((ecif_field_t)f)) == 0)
            break;
    }
    if (f == ECIF_FIELD_COUNT)
        return parse_fail(p, "level: unknown field '%s'", tok[1]);

    const struct field_spec *spec = &field_specs[f];
    model_field_t *field = &p->model->fields[f];
    if (field->n_levels > spec->count)
        return parse_fail(p, "level %s: '%s' is one level too many", tok[1],
                          tok[2]);
    const struct level_spec *ls = &spec->levels[field->n_levels - 1];
    if (strcmp(tok[2], ls->name) != 0)
        return parse_fail(p,
                          "level %s: found '%s' where the scorer's next "
                          "level is '%s'",
                          tok[1], tok[2], ls->name);

    model_level_t *level = &field->levels[field->n_levels];
    snprintf(level->name, MODEL_NAME_MAX, "%s", ls->name);
    if (parse_coarse(p, tok[3], &level->coarse) != ECIF_OK)
        return ECIF_EINVAL;
    level->fixed = ls->fixed;
    if (ls->fixed) {
        if (n != 6 || strcmp(tok[4], "weight") != 0)
            return parse_fail(p,
                              "level %s.%s: a fixed level takes 'weight "
                              "W', found '%s'",
                              tok[1], tok[2], tok[4]);
        if (!parse_double(tok[5], &level->weight))
            return parse_fail(p, "level %s.%s: weight '%s' is not a number",
                              tok[1], tok[2], tok[5]);
    } else {
        if (n != 8 || strcmp(tok[4], "m") != 0 || strcmp(tok[6], "u") != 0)
            return parse_fail(p,
                              "level %s.%s: a trained level takes 'm M u "
                              "U', found '%s'",
                              tok[1], tok[2], tok[4]);
        if (parse_probability(p, "m", tok[5], &level->m) != ECIF_OK ||
            parse_probability(p, "u", tok[7], &level->u) != ECIF_OK)
            return ECIF_EINVAL;
    }
    field->n_levels++;
    return ECIF_OK;
}

static int parse_key(struct parser *p, int key, char **tok, size_t n,
                     const char *rest)
{
    ecif_model_t *m = p->model;
    double value;

    if (p->seen[key])
        return parse_fail(p, "%s: given twice, now as '%s'", key_names[key],
                          n > 1 ? tok[1] : "");
    p->seen[key] = true;
    if (key == KEY_LABEL) {
        if (strlen(rest) >= sizeof(m->label))
            return parse_fail(p, "label: '%.40s...' is longer than %zu bytes",
                              rest, sizeof(m->label) - 1);
        snprintf(m->label, sizeof(m->label), "%s", rest);
        return ECIF_OK;
    }
    if (n != 2)
        return parse_fail(p, "%s: expected one value, found %zu",
                          key_names[key], n - 1);
    if (key == KEY_FORMAT) {
        if (strcmp(tok[1], "1") != 0)
            return parse_fail(p,
                              "format: version '%s' is not supported; "
                              "this build reads %d",
                              tok[1], MODEL_FORMAT_VERSION);
        return ECIF_OK;
    }
    if (key == KEY_PRIOR)
        return parse_probability(p, "prior", tok[1], &m->prior);
    if (key == KEY_MATCH_PROBABILITY)
        return parse_probability(p, "match_probability", tok[1],
                                 &m->match_probability);
    if (key == KEY_POSSIBLE_PROBABILITY)
        return parse_probability(p, "possible_probability", tok[1],
                                 &m->possible_probability);
    if (key == KEY_CLUSTER_PROBABILITY)
        return parse_probability(p, "cluster_probability", tok[1],
                                 &m->cluster_probability);
    if (!parse_double(tok[1], &value))
        return parse_fail(p, "%s: '%s' is not a number", key_names[key],
                          tok[1]);
    if (key == KEY_HARD_CONFLICT_WEIGHT)
        m->hard_conflict_weight = value;
    else if (key == KEY_FREQUENT_AGREEMENT_WEIGHT)
        m->frequent_agreement_weight = value;
    else
        m->household_contact_weight = value;
    return ECIF_OK;
}

/* Parses one line, without its newline, in place. */
static int parse_line(struct parser *p, char *line)
{
    char *hash = strchr(line, '#');
    char *tok[9];
    size_t n;

    if (hash != NULL)
        *hash = '\0';
    while (*line == ' ' || *line == '\t')
        line++;
    /* The label is the rest of the line, blanks inside kept. */
    const char *rest = line + strcspn(line, " \t");
    rest += strspn(rest, " \t");
    char label[sizeof(p->model->label) + 64];
    snprintf(label, sizeof(label), "%s", rest);
    for (size_t len = strlen(label);
         len > 0 && strchr(" \t\r", label[len - 1]) != NULL; len--)
        label[len - 1] = '\0';

    n = split_line(line, tok, 9);
    if (n == 0)
        return ECIF_OK;
    if (!p->seen[KEY_FORMAT] && strcmp(tok[0], "format") != 0)
        return parse_fail(p, "%s: the first item must be 'format %d'", tok[0],
                          MODEL_FORMAT_VERSION);
    if (strcmp(tok[0], "level") == 0)
        return parse_level(p, tok, n);
    for (int k = 0; k < KEY_COUNT; k++) {
        if (strcmp(tok[0], key_names[k]) == 0)
            return parse_key(p, k, tok, n > 9 ? 9 : n, label);
    }
    return parse_fail(p, "unknown key '%s'", tok[0]);
}

/* Checks that every key and every level was given. */
static int check_complete(struct parser *p)
{
    if (!p->seen[KEY_CLUSTER_PROBABILITY])
        p->model->cluster_probability = p->model->match_probability;
    for (int k = 0; k < KEY_COUNT; k++) {
        if (!p->seen[k] && k != KEY_CLUSTER_PROBABILITY)
            return parse_fail(p, "end of text: key '%s' is missing",
                              key_names[k]);
    }
    for (int f = 0; f < ECIF_FIELD_COUNT; f++) {
        const model_field_t *field = &p->model->fields[f];
        const struct field_spec *spec = &field_specs[f];
        if (field->n_levels <= spec->count)
            return parse_fail(p, "end of text: level %s.%s is missing",
                              ecif_field_str((ecif_field_t)f),
                              spec->levels[field->n_levels - 1].name);
    }
    return ECIF_OK;
}

int model_parse(const char *text, size_t len, ecif_model_t *out, char *err,
                size_t errlen)
{
    ecif_model_t model;
    struct parser p = {.model = &model, .err = err, .errlen = errlen};
    char line[1024];
    size_t at = 0;
    int rc;

    memset(&model, 0, sizeof(model));
    for (int f = 0; f < ECIF_FIELD_COUNT; f++) {
        model.fields[f].n_levels = 1;
        snprintf(model.fields[f].levels[0].name, MODEL_NAME_MAX, "missing");
        model.fields[f].levels[0].coarse = ECIF_LEVEL_MISSING;
        model.fields[f].levels[0].fixed = true;
    }
    while (at < len) {
        const char *nl = memchr(text + at, '\n', len - at);
        size_t end = nl != NULL ? (size_t)(nl - text) : len;
        p.line++;
        if (end - at >= sizeof(line))
            return parse_fail(&p, "line is longer than %zu bytes",
                              sizeof(line) - 1);
        if (memchr(text + at, '\0', end - at) != NULL)
            return parse_fail(&p, "line contains a NUL byte");
        memcpy(line, text + at, end - at);
        line[end - at] = '\0';
        if ((rc = parse_line(&p, line)) != ECIF_OK)
            return rc;
        at = end + 1;
    }
    if ((rc = check_complete(&p)) != ECIF_OK)
        return rc;

    char detail[256];
    if (model_derive(&model, detail, sizeof(detail)) != ECIF_OK)
        return ecif_fail(ECIF_EINVAL, err, errlen, "model: %s", detail);
    *out = model;
    return ECIF_OK;
}

int model_load(const char *path, ecif_model_t *out, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    char *text = NULL;
    size_t len = 0, cap = 0;
    int rc;

    if (f == NULL)
        return ecif_fail(ECIF_EIO, err, errlen, "cannot open model '%s': %s",
                         path, strerror(errno));
    for (;;) {
        if (len == cap && len <= MODEL_TEXT_MAX) {
            char *grown = realloc(text, cap + 4096);
            if (grown == NULL) {
                free(text);
                fclose(f);
                return ecif_fail(ECIF_ENOMEM, err, errlen,
                                 "reading model '%s' failed: out of memory",
                                 path);
            }
            text = grown;
            cap += 4096;
        }
        size_t n = fread(text + len, 1, cap - len, f);
        len += n;
        if (n == 0)
            break;
    }

    /* The buffer grows one block past MODEL_TEXT_MAX, so a longer file
     * ends the loop with len above the limit. */
    if (len > MODEL_TEXT_MAX) {
        rc = ecif_fail(ECIF_EINVAL, err, errlen,
                       "model '%s' is longer than %d bytes", path,
                       MODEL_TEXT_MAX);
    } else if (ferror(f)) {
        rc =
            ecif_fail(ECIF_EIO, err, errlen, "reading model '%s' failed", path);
    } else {
        char detail[320];
        rc = model_parse(text, len, out, detail, sizeof(detail));
        if (rc != ECIF_OK)
            ecif_fail(rc, err, errlen, "%s: %s", path, detail);
    }
    free(text);
    fclose(f);
    return rc;
}

int model_write(const ecif_model_t *model, FILE *out)
{
    fprintf(out, "# ECIF matching model; engine/MODEL.md describes it.\n");
    fprintf(out, "format %d\n", MODEL_FORMAT_VERSION);
    fprintf(out, "label %s\n", model->label);
    fprintf(out, "prior %.17g\n", model->prior);
    fprintf(out, "match_probability %.17g\n", model->match_probability);
    fprintf(out, "possible_probability %.17g\n", model->possible_probability);
    /* Left out at its default, so a model that clusters at MATCH (the
     * built-in one) writes the same text as before the key existed. */
    if (model->cluster_probability != model->match_probability)
        fprintf(out, "cluster_probability %.17g\n", model->cluster_probability);
    fprintf(out, "hard_conflict_weight %.17g\n", model->hard_conflict_weight);
    fprintf(out, "frequent_agreement_weight %.17g\n",
            model->frequent_agreement_weight);
    fprintf(out, "household_contact_weight %.17g\n",
            model->household_contact_weight);
    for (int f = 0; f < ECIF_FIELD_COUNT; f++) {
        const model_field_t *field = &model->fields[f];
        for (uint32_t l = 1; l < field->n_levels; l++) {
            const model_level_t *level = &field->levels[l];
            fprintf(out, "level %s %s %s", ecif_field_str((ecif_field_t)f),
                    level->name, ecif_level_str(level->coarse));
            if (level->fixed)
                fprintf(out, " weight %.17g\n", level->weight);
            else
                fprintf(out, " m %.17g u %.17g\n", level->m, level->u);
        }
    }
    return fflush(out) == 0 && !ferror(out) ? ECIF_OK : ECIF_EIO;
}
