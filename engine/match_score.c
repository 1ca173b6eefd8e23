/*
 * Pairwise scoring: each field is compared at one level and adds that
 * level's weight; the score is their sum (engine/MATCHING.md has the
 * tables and the reasons behind them).
 *
 * Three rules reach across fields:
 * - a hard conflict (different generational suffixes, two different valid
 *   resident IDs) weighs HARD_CONFLICT_WEIGHT, more than every agreement
 *   together, so the pair can never reach POSSIBLE_MATCH;
 * - agreement on a frequent ID, phone or email weighs little;
 * - when family names agree but given names clearly differ, shared phones,
 *   emails and addresses identify a household, not a person, and each
 *   adds at most HOUSEHOLD_CONTACT_WEIGHT.
 */
#include <stdio.h>
#include <string.h>

#include "cn_id.h"
#include "compare.h"
#include "date_compare.h"
#include "latin_name.h"
#include "match.h"

#define HARD_CONFLICT_WEIGHT      -40.0
#define FREQUENT_AGREEMENT_WEIGHT 0.5
#define HOUSEHOLD_CONTACT_WEIGHT  1.0

/* Agreement on a resident ID whose check character verifies: a mistyped
 * ID almost never passes the check, so this is near proof. */
#define VALID_RESIDENT_ID_WEIGHT 12.0

/* Weights of a Chinese name written in two scripts: the pinyin keys agree
 * exactly, or after merging confusable sounds. A name that differs across
 * scripts is often an adopted name, not another person, so it costs
 * little. */
#define CROSS_SCRIPT_KEY_WEIGHT      7.0
#define CROSS_SCRIPT_FUZZY_WEIGHT    4.0
#define CROSS_SCRIPT_MISMATCH_WEIGHT -1.0

/* Given names that differ outright, when family names agree. */
#define GIVEN_DIFFERS_WEIGHT -7.5

static bool present(const char *s)
{
    return s != NULL && s[0] != '\0';
}

/* Weights of a name part by level: family name, given name. */
static const double family_weight[] = {
    [ECIF_LEVEL_MISSING] = 0.0,   [ECIF_LEVEL_EXACT] = 4.0,
    [ECIF_LEVEL_FUZZY] = 3.0,     [ECIF_LEVEL_PHONETIC] = 2.5,
    [ECIF_LEVEL_ALIAS] = 2.0,     [ECIF_LEVEL_PARTIAL] = 1.0,
    [ECIF_LEVEL_MISMATCH] = -3.0,
};
static const double given_weight[] = {
    [ECIF_LEVEL_MISSING] = 0.0,   [ECIF_LEVEL_EXACT] = 3.5,
    [ECIF_LEVEL_FUZZY] = 2.5,     [ECIF_LEVEL_PHONETIC] = 2.0,
    [ECIF_LEVEL_ALIAS] = 2.5,     [ECIF_LEVEL_PARTIAL] = 0.8,
    [ECIF_LEVEL_MISMATCH] = -2.5,
};

/* The result of the name comparison, with the signal the other fields
 * need. */
struct name_result {
    ecif_evidence_t evidence;
    bool given_differs; /* family agrees, given names differ outright */
};

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

/* Folds part levels into one name level: all equal → that level, a mix of
 * agreement and mismatch → partial, otherwise the weakest agreement. */
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

/* Scores a family and a given level pair, with the household signal. */
static struct name_result score_parts(ecif_level_t fam, ecif_level_t giv,
                                      double extra)
{
    struct name_result r = {{combine_levels(fam, giv), extra}, false};

    r.evidence.weight += family_weight[fam];
    if (fam != ECIF_LEVEL_MISMATCH && fam != ECIF_LEVEL_MISSING &&
        giv == ECIF_LEVEL_MISMATCH) {
        r.evidence.weight += GIVEN_DIFFERS_WEIGHT;
        r.given_differs = true;
    } else {
        r.evidence.weight += given_weight[giv];
    }
    return r;
}

/* Both Latin names split into given and family: in place and swapped. */
static struct name_result score_split_names(const match_view_t *a,
                                            const match_view_t *b)
{
    ecif_level_t fam = compare_part(a->family, b->family);
    ecif_level_t giv = compare_part(a->given, b->given);
    struct name_result straight = score_parts(fam, giv, 0.0);
    struct name_result swapped =
        score_parts(compare_part(a->family, b->given),
                    compare_part(a->given, b->family), -1.0);

    return swapped.evidence.weight > straight.evidence.weight ? swapped
                                                              : straight;
}

/*
 * Latin names as unordered token lists: each token of the shorter list
 * takes its best unused partner in the other. The best-agreeing token
 * pair counts as the family name and the others as given names.
 */
static struct name_result score_token_names(const char *a, const char *b)
{
    char ta[MATCH_MAX_TOKENS][ECIF_NORM_MAX];
    char tb[MATCH_MAX_TOKENS][ECIF_NORM_MAX];
    size_t na = match_split_tokens(a, ta, MATCH_MAX_TOKENS);
    size_t nb = match_split_tokens(b, tb, MATCH_MAX_TOKENS);
    bool used[MATCH_MAX_TOKENS] = {false};
    ecif_level_t best_family = ECIF_LEVEL_MISSING;
    ecif_level_t given = ECIF_LEVEL_MISSING;
    struct name_result r = {{ECIF_LEVEL_MISSING, 0.0}, false};

    if (na == 0 || nb == 0)
        return r;
    if (na > nb)
        return score_token_names(b, a);
    ecif_level_t levels[MATCH_MAX_TOKENS];
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
    best_family = levels[family_at];
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
    return score_parts(best_family, given, 0.0);
}

/* Both names in Han characters. */
static struct name_result score_han_names(const match_view_t *a,
                                          const match_view_t *b)
{
    struct name_result r = {{ECIF_LEVEL_MISMATCH, 0.0}, false};
    bool same_family = present(a->family) && strcmp(a->family, b->family) == 0;
    bool same_key =
        present(a->name_key) && strcmp(a->name_key, b->name_key) == 0;
    bool same_fuzzy = present(a->name_key_fuzzy) &&
                      strcmp(a->name_key_fuzzy, b->name_key_fuzzy) == 0;

    if (strcmp(a->han, b->han) == 0) {
        r.evidence.level = ECIF_LEVEL_EXACT;
        r.evidence.weight =
            family_weight[ECIF_LEVEL_EXACT] + given_weight[ECIF_LEVEL_EXACT];
    } else if (same_key) {
        /* Homophones: a given-name character typed by its sound weighs
         * almost as much as exact. A homophone surname (萧 and 肖, 张 and
         * 章) is usually another family, so it weighs much less. */
        r.evidence.level = ECIF_LEVEL_PHONETIC;
        r.evidence.weight = same_family ? 6.0 : 2.0;
    } else if (same_fuzzy) {
        r.evidence.level = ECIF_LEVEL_PHONETIC;
        r.evidence.weight = 4.0;
    } else if (same_family && present(a->given) && present(b->given)) {
        /* 林子涵 and 林子轩: one character apart is another person. */
        r.evidence.level = ECIF_LEVEL_PARTIAL;
        r.evidence.weight =
            family_weight[ECIF_LEVEL_EXACT] + GIVEN_DIFFERS_WEIGHT;
        r.given_differs = true;
    } else {
        r.evidence.weight = family_weight[ECIF_LEVEL_MISMATCH] +
                            given_weight[ECIF_LEVEL_MISMATCH];
    }
    return r;
}

/*
 * Term-frequency adjustment of an agreeing name, from the number of
 * records that carry it (the query side's count; 0 when unknown, as in
 * ecif_compare). Agreeing on a name few records carry is stronger
 * evidence than agreeing on 张伟 or John Smith. The bands are hand-set;
 * they assume the store contains one customer's records a few times
 * over.
 */
static double name_frequency_weight(uint32_t count)
{
    if (count == 0)
        return 0.0;
    if (count <= 2)
        return 2.0;
    if (count <= 10)
        return 1.0;
    if (count <= 100)
        return 0.0;
    if (count <= 1000)
        return -2.0;
    return -4.0;
}

static struct name_result score_name_levels(const match_view_t *a,
                                            const match_view_t *b);

static struct name_result score_name(const match_view_t *a,
                                     const match_view_t *b)
{
    struct name_result r = score_name_levels(a, b);
    ecif_level_t level = r.evidence.level;

    if ((level == ECIF_LEVEL_EXACT || level == ECIF_LEVEL_PHONETIC) &&
        r.evidence.weight > 0)
        r.evidence.weight += name_frequency_weight(a->name_count);
    return r;
}

static struct name_result score_name_levels(const match_view_t *a,
                                            const match_view_t *b)
{
    struct name_result r = {{ECIF_LEVEL_MISSING, 0.0}, false};
    bool a_han = present(a->han), b_han = present(b->han);

    if (!present(a->name) || !present(b->name))
        return r;
    if (a->suffix != SUFFIX_NONE && b->suffix != SUFFIX_NONE &&
        a->suffix != b->suffix) {
        /* John Smith Jr is not John Smith Sr. */
        r.evidence.level = ECIF_LEVEL_MISMATCH;
        r.evidence.weight = HARD_CONFLICT_WEIGHT;
        return r;
    }
    if (a_han && b_han)
        return score_han_names(a, b);

    bool same_key =
        present(a->name_key) && strcmp(a->name_key, b->name_key) == 0;
    bool same_fuzzy = present(a->name_key_fuzzy) &&
                      strcmp(a->name_key_fuzzy, b->name_key_fuzzy) == 0;
    if (a_han || b_han) {
        r.evidence.level =
            same_key || same_fuzzy ? ECIF_LEVEL_PHONETIC : ECIF_LEVEL_MISMATCH;
        r.evidence.weight = same_key     ? CROSS_SCRIPT_KEY_WEIGHT
                            : same_fuzzy ? CROSS_SCRIPT_FUZZY_WEIGHT
                                         : CROSS_SCRIPT_MISMATCH_WEIGHT;
        return r;
    }

    bool a_split = present(a->given) || present(a->family);
    bool b_split = present(b->given) || present(b->family);
    r = a_split && b_split ? score_split_names(a, b)
                           : score_token_names(a->name, b->name);
    if (same_key && r.evidence.weight < CROSS_SCRIPT_KEY_WEIGHT &&
        r.evidence.level != ECIF_LEVEL_EXACT) {
        /* Romanized Chinese names with the same syllables in another order
         * or spacing ("ZHANGWEI", "Wei Zhang"). */
        r.evidence.level = ECIF_LEVEL_PHONETIC;
        r.evidence.weight = CROSS_SCRIPT_KEY_WEIGHT;
        r.given_differs = false;
    }
    return r;
}

/* An ID whose birth date contradicts the record's own is a copy of
 * someone else's or a truncated one: it proves little either way. */
static bool id_suspect(const match_view_t *v)
{
    return (v->quality & ECIF_QUALITY_ID_DOB_MISMATCH) != 0;
}

static ecif_evidence_t score_id(const match_view_t *a, const match_view_t *b)
{
    ecif_evidence_t ev = {ECIF_LEVEL_MISSING, 0.0};
    bool suspect = id_suspect(a) || id_suspect(b);

    if (!present(a->id) || !present(b->id))
        return ev;
    if (strcmp(a->id, b->id) == 0) {
        ev.level = ECIF_LEVEL_EXACT;
        ev.weight = (a->frequent | b->frequent) & FREQUENT_ID
                        ? FREQUENT_AGREEMENT_WEIGHT
                    : suspect              ? 2.0
                    : a->id_valid_resident ? VALID_RESIDENT_ID_WEIGHT
                                           : 10.0;
    } else if (suspect) {
        ev.level = ECIF_LEVEL_MISMATCH;
        ev.weight = -1.0;
    } else if (a->id_valid_resident && b->id_valid_resident) {
        /* Two valid resident IDs: the check character catches every
         * single-digit error and adjacent swap, so these are two people. */
        ev.level = ECIF_LEVEL_MISMATCH;
        ev.weight = HARD_CONFLICT_WEIGHT;
    } else if (strlen(a->id) >= 6 && ecif_edit_distance(a->id, b->id, 1) <= 1) {
        ev.level = ECIF_LEVEL_FUZZY;
        ev.weight = 4.0;
    } else {
        ev.level = ECIF_LEVEL_MISMATCH;
        ev.weight = -6.0;
    }
    return ev;
}

/* Returns the last n characters of s, or s when shorter. */
static const char *tail(const char *s, size_t n)
{
    size_t len = strlen(s);
    return len > n ? s + len - n : s;
}

static ecif_evidence_t score_phone(const match_view_t *a, const match_view_t *b)
{
    ecif_evidence_t ev = {ECIF_LEVEL_MISSING, 0.0};

    if (a->n_phones == 0 || b->n_phones == 0)
        return ev;
    ev.level = ECIF_LEVEL_MISMATCH;
    ev.weight = -1.0;
    for (uint32_t i = 0; i < a->n_phones; i++) {
        for (uint32_t j = 0; j < b->n_phones; j++) {
            if (strcmp(a->phones[i], b->phones[j]) == 0) {
                bool frequent = (a->frequent & FREQUENT_PHONE(i)) ||
                                (b->frequent & FREQUENT_PHONE(j));
                ev.level = ECIF_LEVEL_EXACT;
                ev.weight = frequent ? FREQUENT_AGREEMENT_WEIGHT : 6.0;
                return ev;
            }
            if (strlen(a->phones[i]) >= 8 && strlen(b->phones[j]) >= 8 &&
                strcmp(tail(a->phones[i], 8), tail(b->phones[j], 8)) == 0) {
                ev.level = ECIF_LEVEL_PARTIAL; /* area code differs */
                ev.weight = 2.0;
            }
        }
    }
    return ev;
}

static ecif_evidence_t score_email(const match_view_t *a, const match_view_t *b)
{
    ecif_evidence_t ev = {ECIF_LEVEL_MISSING, 0.0};

    if (a->n_emails == 0 || b->n_emails == 0)
        return ev;
    ev.level = ECIF_LEVEL_MISMATCH;
    ev.weight = -0.5;
    for (uint32_t i = 0; i < a->n_emails; i++) {
        for (uint32_t j = 0; j < b->n_emails; j++) {
            const char *x = a->emails[i], *y = b->emails[j];
            if (strcmp(x, y) == 0) {
                bool frequent = (a->frequent & FREQUENT_EMAIL(i)) ||
                                (b->frequent & FREQUENT_EMAIL(j));
                ev.level = ECIF_LEVEL_EXACT;
                ev.weight = frequent ? FREQUENT_AGREEMENT_WEIGHT : 6.0;
                return ev;
            }
            size_t lx = strcspn(x, "@"), ly = strcspn(y, "@");
            if (lx == ly && strncmp(x, y, lx) == 0) {
                ev.level = ECIF_LEVEL_PARTIAL;
                ev.weight = 1.0;
            }
        }
    }
    return ev;
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

static ecif_evidence_t score_address(const match_view_t *a,
                                     const match_view_t *b)
{
    char ta[MAX_ADDRESS_TOKENS][ECIF_NORM_MAX];
    char tb[MAX_ADDRESS_TOKENS][ECIF_NORM_MAX];
    size_t na = address_tokens(a, ta, MAX_ADDRESS_TOKENS);
    size_t nb = address_tokens(b, tb, MAX_ADDRESS_TOKENS);
    bool used[MAX_ADDRESS_TOKENS] = {false};
    ecif_evidence_t ev = {ECIF_LEVEL_MISSING, 0.0};
    double agree = 0.0;
    bool all_exact = na == nb;

    if (na == 0 || nb == 0)
        return ev;
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
    if (all_exact) {
        ev.level = ECIF_LEVEL_EXACT;
        ev.weight = 3.0;
    } else if (similarity >= 0.7) {
        ev.level = ECIF_LEVEL_FUZZY;
        ev.weight = 2.0;
    } else if (similarity >= 0.4) {
        ev.level = ECIF_LEVEL_PARTIAL;
        ev.weight = 0.5;
    } else {
        ev.level = ECIF_LEVEL_MISMATCH;
        ev.weight = -1.5;
    }
    return ev;
}

static ecif_evidence_t score_dob(const match_view_t *a, const match_view_t *b)
{
    ecif_evidence_t ev = {ECIF_LEVEL_MISSING, 0.0};

    switch (date_compare_level(a->dob, a->dob_valid, b->dob, b->dob_valid)) {
    case DATE_MISSING:
        break;
    case DATE_EXACT:
        ev.level = ECIF_LEVEL_EXACT;
        ev.weight = 6.5;
        break;
    case DATE_ONE_DIGIT:
        ev.level = ECIF_LEVEL_FUZZY; /* one digit mistyped or two swapped */
        ev.weight = 2.5;
        break;
    case DATE_DAY_MONTH_SWAPPED:
        ev.level = ECIF_LEVEL_PARTIAL;
        ev.weight = 2.0;
        break;
    case DATE_YEAR_OFF_BY_ONE:
        ev.level = ECIF_LEVEL_PARTIAL;
        ev.weight = 0.5;
        break;
    case DATE_SAME_YEAR_MONTH:
    case DATE_YEAR_ONLY:
        ev.level = ECIF_LEVEL_MISMATCH;
        ev.weight = -2.5;
        break;
    case DATE_MISMATCH:
        ev.level = ECIF_LEVEL_MISMATCH;
        ev.weight = -4.0;
        break;
    }
    return ev;
}

static ecif_evidence_t score_gender(const match_view_t *a,
                                    const match_view_t *b)
{
    ecif_evidence_t ev = {ECIF_LEVEL_MISSING, 0.0};

    if (a->gender == 0 || b->gender == 0)
        return ev;
    if (a->gender == b->gender) {
        ev.level = ECIF_LEVEL_EXACT;
        ev.weight = 0.5;
    } else {
        ev.level = ECIF_LEVEL_MISMATCH;
        ev.weight = -2.0;
    }
    return ev;
}

/* Caps the agreement of a contact field shared by a household. */
static void cap_household(ecif_evidence_t *ev)
{
    if (ev->weight > HOUSEHOLD_CONTACT_WEIGHT)
        ev->weight = HOUSEHOLD_CONTACT_WEIGHT;
}

double match_score(const match_view_t *a, const match_view_t *b,
                   ecif_evidence_t evidence[ECIF_FIELD_COUNT])
{
    struct name_result name = score_name(a, b);
    double total = 0.0;

    evidence[ECIF_FIELD_NAME] = name.evidence;
    evidence[ECIF_FIELD_ID_NUMBER] = score_id(a, b);
    evidence[ECIF_FIELD_PHONE] = score_phone(a, b);
    evidence[ECIF_FIELD_EMAIL] = score_email(a, b);
    evidence[ECIF_FIELD_ADDRESS] = score_address(a, b);
    evidence[ECIF_FIELD_DOB] = score_dob(a, b);
    evidence[ECIF_FIELD_GENDER] = score_gender(a, b);
    if (name.given_differs) {
        cap_household(&evidence[ECIF_FIELD_PHONE]);
        cap_household(&evidence[ECIF_FIELD_EMAIL]);
        cap_household(&evidence[ECIF_FIELD_ADDRESS]);
    }
    for (int f = 0; f < ECIF_FIELD_COUNT; f++)
        total += evidence[f].weight;
    return total;
}

ecif_verdict_t match_verdict(double score)
{
    if (score >= MATCH_THRESHOLD)
        return ECIF_MATCH;
    if (score >= POSSIBLE_THRESHOLD)
        return ECIF_POSSIBLE_MATCH;
    return ECIF_NO_MATCH;
}
