/*
 * Pairwise scoring in two steps. match_levels() compares each field and
 * returns its comparison level, an index into the model's levels of that
 * field. match_score() adds the levels' weights and applies the rules that
 * reach across fields. engine/MODEL.md lists the levels and the rules, and
 * engine/MATCHING.md the comparisons behind them.
 *
 * The rules, all model values:
 * - Agreement on a frequent ID, phone or email weighs
 *   frequent_agreement_weight.
 * - When family names agree but given names clearly differ, shared phones,
 *   emails and addresses identify a household, not a person, and each
 *   adds at most household_contact_weight.
 * - An agreeing name is adjusted by how many records carry it.
 * Hard conflicts (different generational suffixes, two different valid
 * resident IDs) are fixed levels.
 */
#include <stdio.h>
#include <string.h>

#include "cn_id.h"
#include "compare.h"
#include "date_compare.h"
#include "latin_name.h"
#include "junk.h"
#include "match.h"

static bool present(const char *s)
{
    return s != NULL && s[0] != '\0';
}

static double level_weight(const ecif_model_t *model, ecif_field_t field,
                           uint8_t level)
{
    return model->fields[field].levels[level].weight;
}

/* Comparison of two Latin name tokens, strongest level first. */
static ecif_level_t compare_token(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);

    if (strcmp(a, b) == 0)
        return ECIF_LEVEL_EXACT;
    if (la >= 4 && lb >= 4 && ecif_edit_distance(a, b, 1) <= 1)
        return ECIF_LEVEL_FUZZY;
    if (ecif_jaro_winkler_reaches(a, b, 0.9))
        return ECIF_LEVEL_FUZZY;
    if (latin_nickname_match(a, b))
        return ECIF_LEVEL_ALIAS;
    if (la > 1 && lb > 1 && latin_metaphone_match(a, b))
        return ECIF_LEVEL_PHONETIC;
    if ((la == 1 || lb == 1) && a[0] == b[0])
        return ECIF_LEVEL_PARTIAL; /* an initial */
    return ECIF_LEVEL_MISMATCH;
}

/* Folds part levels into one: all equal → that level, a mix of agreement
 * and mismatch → partial, otherwise the weakest agreement. */
static ecif_level_t combine_levels(ecif_level_t x, ecif_level_t y)
{
    if (x == ECIF_LEVEL_MISSING)
        return y;
    if (y == ECIF_LEVEL_MISSING)
        return x;
    if ((x == ECIF_LEVEL_MISMATCH) != (y == ECIF_LEVEL_MISMATCH))
        return ECIF_LEVEL_PARTIAL;
    return x > y ? x : y;
}

static ecif_level_t compare_part(const char *a, const char *b)
{
    if (!present(a) || !present(b))
        return ECIF_LEVEL_MISSING;
    return compare_token(a, b);
}

static bool agrees(ecif_level_t part)
{
    return part != ECIF_LEVEL_MISSING && part != ECIF_LEVEL_MISMATCH;
}

/* Returns the name level of a family and a given part level. Two agreeing
 * parts take the level of the weaker one. */
static uint8_t latin_level(ecif_level_t family, ecif_level_t given)
{
    if (family == ECIF_LEVEL_MISSING && given == ECIF_LEVEL_MISSING)
        return MODEL_NAME_MISSING;
    if (agrees(family) && given == ECIF_LEVEL_MISMATCH)
        return MODEL_NAME_GIVEN_DIFFERS;
    if (family == ECIF_LEVEL_MISSING || given == ECIF_LEVEL_MISSING) {
        ecif_level_t part = family == ECIF_LEVEL_MISSING ? given : family;
        return agrees(part) ? MODEL_NAME_LATIN_ONE_PART
                            : MODEL_NAME_LATIN_ONE_PART_MISMATCH;
    }
    if (family == ECIF_LEVEL_MISMATCH)
        return agrees(given) ? MODEL_NAME_FAMILY_DIFFERS : MODEL_NAME_MISMATCH;
    switch (family > given ? family : given) {
    case ECIF_LEVEL_EXACT:
        return MODEL_NAME_EXACT;
    case ECIF_LEVEL_FUZZY:
        return MODEL_NAME_LATIN_FUZZY;
    case ECIF_LEVEL_PHONETIC:
        return MODEL_NAME_LATIN_PHONETIC;
    case ECIF_LEVEL_ALIAS:
        return MODEL_NAME_LATIN_ALIAS;
    default:
        return MODEL_NAME_LATIN_INITIAL;
    }
}

/*
 * Returns the level of two Latin names that both split into given and
 * family, compared in place and swapped. Parts that are both exact only
 * when swapped get latin_swapped if that weighs more than the comparison
 * in place. Other swapped readings take their own level if it weighs more.
 */
static uint8_t split_name_level(const ecif_model_t *model,
                                const match_view_t *a, const match_view_t *b)
{
    uint8_t straight = latin_level(compare_part(a->family, b->family),
                                   compare_part(a->given, b->given));
    uint8_t swapped = latin_level(compare_part(a->family, b->given),
                                  compare_part(a->given, b->family));
    double w_straight = level_weight(model, ECIF_FIELD_NAME, straight);

    if (swapped == MODEL_NAME_EXACT)
        swapped = MODEL_NAME_LATIN_SWAPPED;
    return level_weight(model, ECIF_FIELD_NAME, swapped) > w_straight
               ? swapped
               : straight;
}

/*
 * Latin names as unordered token lists: each token of the shorter list
 * takes its best unused partner in the other. The best-agreeing token
 * pair counts as the family name and the others as given names.
 */
static uint8_t token_name_level(const char *a, const char *b)
{
    char ta[MATCH_MAX_TOKENS][ECIF_NORM_MAX];
    char tb[MATCH_MAX_TOKENS][ECIF_NORM_MAX];
    size_t na = match_split_tokens(a, ta, MATCH_MAX_TOKENS);
    size_t nb = match_split_tokens(b, tb, MATCH_MAX_TOKENS);
    bool used[MATCH_MAX_TOKENS] = {false};
    ecif_level_t levels[MATCH_MAX_TOKENS];
    ecif_level_t given = ECIF_LEVEL_MISSING;

    if (na == 0 || nb == 0)
        return MODEL_NAME_MISSING;
    if (na > nb)
        return token_name_level(b, a);
    for (size_t i = 0; i < na; i++) {
        ecif_level_t best = ECIF_LEVEL_MISMATCH;
        size_t best_j = nb;
        for (size_t j = 0; j < nb; j++) {
            if (used[j])
                continue;
            ecif_level_t level = compare_token(ta[i], tb[j]);
            if (level < best) {
                best = level;
                best_j = j;
            }
        }
        if (best_j < nb)
            used[best_j] = true;
        levels[i] = best;
    }
    /* The strongest agreement plays the family name, the rest given. */
    size_t family_at = 0;
    for (size_t i = 1; i < na; i++) {
        if (levels[i] < levels[family_at])
            family_at = i;
    }
    for (size_t i = 0; i < na; i++) {
        if (i != family_at)
            given = combine_levels(given, levels[i]);
    }
    if (na == 1)
        given = ECIF_LEVEL_MISSING;
    if (nb > na && !used[0] && na >= 2) {
        /* The longer name's first token, its given name in written order,
         * found no partner: José García López is not María José García
         * López. A dropped middle or second family name is fine. */
        given = ECIF_LEVEL_MISMATCH;
    }
    return latin_level(levels[family_at], given);
}

/* Both names in Han characters. */
static uint8_t han_name_level(const match_view_t *a, const match_view_t *b)
{
    bool same_family = present(a->family) && strcmp(a->family, b->family) == 0;
    bool same_key =
        present(a->name_key) && strcmp(a->name_key, b->name_key) == 0;
    bool same_fuzzy = present(a->name_key_fuzzy) &&
                      strcmp(a->name_key_fuzzy, b->name_key_fuzzy) == 0;

    if (strcmp(a->han, b->han) == 0)
        return MODEL_NAME_EXACT;
    if (same_key) {
        /* A given-name character typed by its sound is almost exact. A
         * homophone surname (萧 and 肖, 张 and 章) is usually another
         * family. */
        return same_family ? MODEL_NAME_HOMOPHONE_SAME_FAMILY
                           : MODEL_NAME_HOMOPHONE_OTHER_FAMILY;
    }
    if (same_fuzzy)
        return MODEL_NAME_FUZZY_PINYIN;
    if (same_family && present(a->given) && present(b->given))
        return MODEL_NAME_GIVEN_DIFFERS; /* 林子涵 and 林子轩 */
    return MODEL_NAME_MISMATCH;
}

static uint8_t name_level(const ecif_model_t *model, const match_view_t *a,
                          const match_view_t *b)
{
    bool a_han = present(a->han), b_han = present(b->han);

    if (!present(a->name) || !present(b->name))
        return MODEL_NAME_MISSING;
    if (a->suffix != SUFFIX_NONE && b->suffix != SUFFIX_NONE &&
        a->suffix != b->suffix)
        return MODEL_NAME_SUFFIX_CONFLICT; /* John Smith Jr, John Smith Sr */
    if (a_han && b_han)
        return han_name_level(a, b);

    bool same_key =
        present(a->name_key) && strcmp(a->name_key, b->name_key) == 0;
    bool same_fuzzy = present(a->name_key_fuzzy) &&
                      strcmp(a->name_key_fuzzy, b->name_key_fuzzy) == 0;
    if (a_han || b_han) {
        /* A name that differs across scripts is often an adopted name,
         * not another person. */
        if (same_key)
            return MODEL_NAME_PINYIN_KEY;
        if (same_fuzzy)
            return MODEL_NAME_FUZZY_PINYIN;
        return MODEL_NAME_CROSS_SCRIPT_MISMATCH;
    }

    bool a_split = present(a->given) || present(a->family);
    bool b_split = present(b->given) || present(b->family);
    uint8_t level = a_split && b_split ? split_name_level(model, a, b)
                                       : token_name_level(a->name, b->name);
    /* Folding drops digits, so "Person Number0" and "Person Number19"
     * fold alike. Two names with different digits agree only fuzzily. A
     * digit in one name only is often a misread letter (J0hn). */
    if ((level == MODEL_NAME_EXACT || level == MODEL_NAME_LATIN_SWAPPED) &&
        match_name_digits_differ(a, b))
        level = MODEL_NAME_LATIN_FUZZY;
    if (same_key &&
        model->fields[ECIF_FIELD_NAME].levels[level].coarse !=
            ECIF_LEVEL_EXACT &&
        level_weight(model, ECIF_FIELD_NAME, level) <
            level_weight(model, ECIF_FIELD_NAME, MODEL_NAME_PINYIN_KEY)) {
        /* Romanized Chinese names with the same syllables in another order
         * or spacing ("ZHANGWEI", "Wei Zhang"). */
        level = MODEL_NAME_PINYIN_KEY;
    }
    return level;
}

/* An ID whose birth date contradicts the record's own is a copy of
 * someone else's or a truncated one: it proves little either way. */
static bool id_suspect(const match_view_t *v)
{
    return (v->quality & ECIF_QUALITY_ID_DOB_MISMATCH) != 0;
}

static uint8_t id_level(const match_view_t *a, const match_view_t *b)
{
    bool suspect = id_suspect(a) || id_suspect(b);

    if (!present(a->id) || !present(b->id))
        return MODEL_ID_MISSING;
    if (strcmp(a->id, b->id) == 0) {
        return suspect                ? MODEL_ID_EXACT_SUSPECT
               : a->id_valid_resident ? MODEL_ID_EXACT_VALID_RESIDENT
                                      : MODEL_ID_EXACT;
    }
    if (suspect)
        return MODEL_ID_MISMATCH_SUSPECT;
    /* The check character (ISO 7064 MOD 11-2) catches every single-digit
     * error and adjacent swap, so two valid resident IDs that differ are
     * taken as two people. */
    if (a->id_valid_resident && b->id_valid_resident)
        return MODEL_ID_CONFLICT;
    if (strlen(a->id) >= 6 && ecif_edit_distance(a->id, b->id, 1) <= 1)
        return MODEL_ID_ONE_EDIT;
    return MODEL_ID_MISMATCH;
}

/* Returns the last n characters of s, or s when shorter. */
static const char *tail(const char *s, size_t n)
{
    size_t len = strlen(s);
    return len > n ? s + len - n : s;
}

/*
 * Finds the first pair of equal values, in x's order then y's, and stores
 * their indexes. Returns false when no value agrees.
 */
static bool find_equal(const char *const *x, uint32_t nx, const char *const *y,
                       uint32_t ny, uint32_t *xi, uint32_t *yi)
{
    for (uint32_t i = 0; i < nx; i++) {
        for (uint32_t j = 0; j < ny; j++) {
            if (strcmp(x[i], y[j]) == 0) {
                *xi = i;
                *yi = j;
                return true;
            }
        }
    }
    return false;
}

static uint8_t phone_level(const match_view_t *a, const match_view_t *b)
{
    uint32_t i, j;

    if (a->n_phones == 0 || b->n_phones == 0)
        return MODEL_PHONE_MISSING;
    if (find_equal(a->phones, a->n_phones, b->phones, b->n_phones, &i, &j))
        return MODEL_PHONE_EXACT;
    for (i = 0; i < a->n_phones; i++) {
        for (j = 0; j < b->n_phones; j++) {
            /* The area code differs. */
            if (strlen(a->phones[i]) >= 8 && strlen(b->phones[j]) >= 8 &&
                strcmp(tail(a->phones[i], 8), tail(b->phones[j], 8)) == 0)
                return MODEL_PHONE_LAST_8_DIGITS;
        }
    }
    return MODEL_PHONE_MISMATCH;
}

static uint8_t email_level(const match_view_t *a, const match_view_t *b)
{
    uint32_t i, j;

    if (a->n_emails == 0 || b->n_emails == 0)
        return MODEL_EMAIL_MISSING;
    if (find_equal(a->emails, a->n_emails, b->emails, b->n_emails, &i, &j))
        return MODEL_EMAIL_EXACT;
    for (i = 0; i < a->n_emails; i++) {
        for (j = 0; j < b->n_emails; j++) {
            const char *x = a->emails[i], *y = b->emails[j];
            size_t lx = strcspn(x, "@"), ly = strcspn(y, "@");
            if (lx == ly && strncmp(x, y, lx) == 0)
                return MODEL_EMAIL_SAME_LOCAL_PART;
        }
    }
    return MODEL_EMAIL_MISMATCH;
}

/* Collects the tokens of every address of a view. */
static size_t address_tokens(const match_view_t *v, char buf[][ECIF_NORM_MAX],
                             size_t max)
{
    size_t n = 0;

    for (uint32_t i = 0; i < v->n_addresses && n < max; i++)
        n += match_split_tokens(v->addresses[i], buf + n, max - n);
    return n;
}

#define MAX_ADDRESS_TOKENS 16

static uint8_t address_level(const match_view_t *a, const match_view_t *b)
{
    char ta[MAX_ADDRESS_TOKENS][ECIF_NORM_MAX];
    char tb[MAX_ADDRESS_TOKENS][ECIF_NORM_MAX];
    size_t na = address_tokens(a, ta, MAX_ADDRESS_TOKENS);
    size_t nb = address_tokens(b, tb, MAX_ADDRESS_TOKENS);
    bool used[MAX_ADDRESS_TOKENS] = {false};
    double agree = 0.0;
    bool all_exact = na == nb;

    if (na == 0 || nb == 0)
        return MODEL_ADDRESS_MISSING;
    for (size_t i = 0; i < na; i++) {
        double best = 0.0;
        size_t best_j = nb;
        for (size_t j = 0; j < nb; j++) {
            if (used[j])
                continue;
            if (strcmp(ta[i], tb[j]) == 0) {
                best = 1.0;
                best_j = j;
                break;
            }
            if (best < 0.8 && strlen(ta[i]) >= 4 &&
                ecif_jaro_winkler_reaches(ta[i], tb[j], 0.9)) {
                best = 0.8;
                best_j = j;
            }
        }
        if (best_j < nb)
            used[best_j] = true;
        if (best < 1.0)
            all_exact = false;
        agree += best;
    }

    double similarity = 2.0 * agree / (double)(na + nb);
    if (all_exact)
        return MODEL_ADDRESS_EXACT;
    if (similarity >= 0.7)
        return MODEL_ADDRESS_FUZZY;
    if (similarity >= 0.4)
        return MODEL_ADDRESS_PARTIAL;
    return MODEL_ADDRESS_MISMATCH;
}

/* True when both dates are valid and further apart than
 * MODEL_DOB_GAP_YYYYMMDD. */
static bool dob_gap_impossible(const match_view_t *a, const match_view_t *b)
{
    uint32_t hi = a->dob > b->dob ? a->dob : b->dob;
    uint32_t lo = a->dob > b->dob ? b->dob : a->dob;

    return a->dob_valid && b->dob_valid && hi - lo > MODEL_DOB_GAP_YYYYMMDD;
}

/*
 * True when two of year, month and day agree and the third differs,
 * because one part of the date was entered wrongly or replaced, a common
 * error. Same month and day with another year counts even when the years
 * are far apart, except January 1: systems fill it in when only the year
 * is known, so two such dates share no evidence beyond the default.
 */
static bool dob_two_parts(const match_view_t *a, const match_view_t *b)
{
    uint32_t ya = a->dob / 10000, yb = b->dob / 10000;
    uint32_t ma = a->dob / 100 % 100, mb = b->dob / 100 % 100;
    uint32_t da = a->dob % 100, db = b->dob % 100;

    if (ya != yb && ma == 1 && mb == 1 && da == 1 && db == 1)
        return false;
    return (ya == yb) + (ma == mb) + (da == db) == 2;
}

static uint8_t dob_level(const match_view_t *a, const match_view_t *b)
{
    switch (date_compare_level(a->dob, a->dob_valid, b->dob, b->dob_valid)) {
    case DATE_MISSING:
        break;
    case DATE_EXACT:
        return MODEL_DOB_EXACT;
    case DATE_ONE_DIGIT: /* one digit mistyped or two swapped */
        return MODEL_DOB_ONE_DIGIT;
    case DATE_DAY_MONTH_SWAPPED:
        return MODEL_DOB_DAY_MONTH_SWAPPED;
    case DATE_YEAR_OFF_BY_ONE:
        return MODEL_DOB_YEAR_OFF_BY_ONE;
    case DATE_SAME_YEAR_MONTH:
        return MODEL_DOB_TWO_PARTS;
    case DATE_YEAR_ONLY:
        return dob_two_parts(a, b) ? MODEL_DOB_TWO_PARTS : MODEL_DOB_SAME_YEAR;
    case DATE_MISMATCH:
        if (dob_two_parts(a, b))
            return MODEL_DOB_TWO_PARTS;
        return dob_gap_impossible(a, b) ? MODEL_DOB_IMPOSSIBLE_GAP
                                        : MODEL_DOB_MISMATCH;
    }
    return MODEL_DOB_MISSING;
}

/* True when ymd (YYYYMMDD) is a date systems fill in by default. */
static bool default_date(uint32_t ymd)
{
    char text[16];
    snprintf(text, sizeof(text), "%08u", (unsigned)ymd);
    return (junk_check(JUNK_FIELD_DATE, text) & JUNK_SUSPECT) != 0;
}

/* True when two views share a normalized phone or address. */
static bool share_contact(const match_view_t *a, const match_view_t *b)
{
    for (uint32_t i = 0; i < a->n_phones; i++) {
        for (uint32_t j = 0; j < b->n_phones; j++) {
            if (a->phones[i][0] != '\0' &&
                strcmp(a->phones[i], b->phones[j]) == 0)
                return true;
        }
    }
    for (uint32_t i = 0; i < a->n_addresses; i++) {
        for (uint32_t j = 0; j < b->n_addresses; j++) {
            if (a->addresses[i][0] != '\0' &&
                strcmp(a->addresses[i], b->addresses[j]) == 0)
                return true;
        }
    }
    return false;
}

bool match_generations_apart(const ecif_model_t *model, const match_view_t *a,
                             const match_view_t *b)
{
    if (!dob_gap_impossible(a, b) || default_date(a->dob) ||
        default_date(b->dob) ||
        (a->id[0] != '\0' && strcmp(a->id, b->id) == 0) || !share_contact(a, b))
        return false;
    /* The same folded name only: a name in another script, in another
     * order or misspelled is more often one person with a mistyped date
     * (geco 15000 lost 0.27 of pairwise F1 when any agreeing name
     * counted). */
    (void)model;
    return a->name[0] != '\0' && strcmp(a->name, b->name) == 0;
}

bool match_records_conflict(const ecif_model_t *model, const match_view_t *a,
                            const match_view_t *b)
{
    if (a->id_valid_resident && b->id_valid_resident &&
        strcmp(a->id, b->id) != 0)
        return true;
    if (a->suffix != SUFFIX_NONE && b->suffix != SUFFIX_NONE &&
        a->suffix != b->suffix)
        return true;
    return match_generations_apart(model, a, b);
}

static uint8_t gender_level(const match_view_t *a, const match_view_t *b)
{
    if (a->gender == 0 || b->gender == 0)
        return MODEL_GENDER_MISSING;
    return a->gender == b->gender ? MODEL_GENDER_EXACT : MODEL_GENDER_MISMATCH;
}

/* True when dates a generation apart sit at one phone or address. */
static bool household_generations(const match_view_t *a, const match_view_t *b,
                                  const uint8_t levels[ECIF_FIELD_COUNT])
{
    return dob_gap_impossible(a, b) &&
           (levels[ECIF_FIELD_PHONE] == MODEL_PHONE_EXACT ||
            levels[ECIF_FIELD_ADDRESS] == MODEL_ADDRESS_EXACT);
}

void match_levels(const ecif_model_t *model, const match_view_t *a,
                  const match_view_t *b, uint8_t levels[ECIF_FIELD_COUNT])
{
    levels[ECIF_FIELD_NAME] = name_level(model, a, b);
    levels[ECIF_FIELD_ID_NUMBER] = id_level(a, b);
    levels[ECIF_FIELD_PHONE] = phone_level(a, b);
    levels[ECIF_FIELD_EMAIL] = email_level(a, b);
    levels[ECIF_FIELD_ADDRESS] = address_level(a, b);
    levels[ECIF_FIELD_DOB] = dob_level(a, b);
    levels[ECIF_FIELD_GENDER] = gender_level(a, b);
    /*
     * Month and day agreeing with a year a generation away is no retyped
     * year at one phone or address: it is a parent and a child born on
     * the same day of the year, or both given a default day.
     */
    if (levels[ECIF_FIELD_DOB] == MODEL_DOB_TWO_PARTS &&
        household_generations(a, b, levels))
        levels[ECIF_FIELD_DOB] = MODEL_DOB_IMPOSSIBLE_GAP;
}

/*
 * Returns the term-frequency adjustment of an agreeing name from count,
 * the number of records on the query side that carry it (0 when unknown,
 * as in ecif_compare). Agreeing on a name few records carry is stronger
 * evidence than agreeing on 张伟 or John Smith. The bands are hand-set
 * and assume the store contains one customer's records a few times over.
 * The largest band is MODEL_NAME_FREQUENCY_MAX.
 */
static double name_frequency_weight(uint32_t count)
{
    if (count == 0)
        return 0.0;
    if (count <= 2)
        return MODEL_NAME_FREQUENCY_MAX;
    if (count <= 10)
        return 1.0;
    if (count <= 100)
        return 0.0;
    if (count <= 1000)
        return -2.0;
    return -4.0;
}

/* True when the agreeing ID, phone or email of an exact level is on too
 * many records to identify anyone. */
static bool agreement_frequent(ecif_field_t field, const match_view_t *a,
                               const match_view_t *b)
{
    uint32_t i, j;

    switch (field) {
    case ECIF_FIELD_ID_NUMBER:
        return ((a->frequent | b->frequent) & FREQUENT_ID) != 0;
    case ECIF_FIELD_PHONE:
        return find_equal(a->phones, a->n_phones, b->phones, b->n_phones, &i,
                          &j) &&
               ((a->frequent & FREQUENT_PHONE(i)) ||
                (b->frequent & FREQUENT_PHONE(j)));
    case ECIF_FIELD_EMAIL:
        return find_equal(a->emails, a->n_emails, b->emails, b->n_emails, &i,
                          &j) &&
               ((a->frequent & FREQUENT_EMAIL(i)) ||
                (b->frequent & FREQUENT_EMAIL(j)));
    default:
        return false;
    }
}

/* True when level is one at which an identifier field's value agrees
 * exactly. */
static bool identifier_agrees(ecif_field_t field, uint8_t level)
{
    if (field == ECIF_FIELD_ID_NUMBER)
        return level == MODEL_ID_EXACT_VALID_RESIDENT ||
               level == MODEL_ID_EXACT || level == MODEL_ID_EXACT_SUSPECT;
    if (field == ECIF_FIELD_PHONE)
        return level == MODEL_PHONE_EXACT;
    if (field == ECIF_FIELD_EMAIL)
        return level == MODEL_EMAIL_EXACT;
    return false;
}

/* Caps the agreement of a contact field shared by a household. */
static void cap_household(const ecif_model_t *model, ecif_evidence_t *ev)
{
    if (ev->weight > model->household_contact_weight)
        ev->weight = model->household_contact_weight;
}

double match_score(const ecif_model_t *model, const match_view_t *a,
                   const match_view_t *b,
                   ecif_evidence_t evidence[ECIF_FIELD_COUNT])
{
    uint8_t levels[ECIF_FIELD_COUNT];
    double total = 0.0;

    match_levels(model, a, b, levels);
    for (int f = 0; f < ECIF_FIELD_COUNT; f++) {
        const model_level_t *level = &model->fields[f].levels[levels[f]];
        evidence[f].level = level->coarse;
        evidence[f].weight = level->weight;
        evidence[f].detail = level->name;
        if (identifier_agrees((ecif_field_t)f, levels[f]) &&
            agreement_frequent((ecif_field_t)f, a, b))
            evidence[f].weight = model->frequent_agreement_weight;
    }

    ecif_evidence_t *name = &evidence[ECIF_FIELD_NAME];
    if ((name->level == ECIF_LEVEL_EXACT ||
         name->level == ECIF_LEVEL_PHONETIC) &&
        name->weight > 0)
        name->weight += name_frequency_weight(a->name_count);
    /*
     * A given name that differs (a spouse, a sibling) or dates of birth a
     * generation apart (a parent and a child of one name) at one phone or
     * address point to a household, not to one person.
     */
    if (levels[ECIF_FIELD_NAME] == MODEL_NAME_GIVEN_DIFFERS ||
        levels[ECIF_FIELD_DOB] == MODEL_DOB_IMPOSSIBLE_GAP) {
        cap_household(model, &evidence[ECIF_FIELD_PHONE]);
        cap_household(model, &evidence[ECIF_FIELD_EMAIL]);
        cap_household(model, &evidence[ECIF_FIELD_ADDRESS]);
    }
    for (int f = 0; f < ECIF_FIELD_COUNT; f++)
        total += evidence[f].weight;
    return total;
}

ecif_verdict_t match_verdict(const ecif_model_t *model, double score)
{
    return model_verdict(model, score);
}
