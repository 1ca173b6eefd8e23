/*
 * Normalized views, blocking keys and field-agreement scoring. The weights
 * are hand-set log-likelihood-style values: agreement on a field adds what
 * it is worth as evidence, disagreement subtracts, a missing value is 0.
 */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compare.h"
#include "hash.h"
#include "match.h"
#include "status.h"

#define MAX_TOKENS 8

/* Weight of agreeing on a frequent ID, phone or email: a household or
 * placeholder value says little about who the person is. */
#define FREQUENT_AGREEMENT_WEIGHT 0.5

static bool present(const char *s)
{
    return s != NULL && s[0] != '\0';
}

void match_normalize(const ecif_record_t *rec, match_buffer_t *buf,
                     match_view_t *view)
{
    memset(view, 0, sizeof(*view));
    ecif_norm_name(rec->given_name, buf->given, sizeof(buf->given));
    ecif_norm_name(rec->family_name, buf->family, sizeof(buf->family));
    if (buf->given[0] != '\0' || buf->family[0] != '\0') {
        snprintf(buf->name, sizeof(buf->name), "%s%s%s", buf->family,
                 buf->family[0] != '\0' && buf->given[0] != '\0' ? " " : "",
                 buf->given);
    } else {
        ecif_norm_name(rec->name, buf->name, sizeof(buf->name));
    }
    view->name = buf->name;
    view->given = buf->given;
    view->family = buf->family;

    ecif_norm_id(rec->id_number, buf->id, sizeof(buf->id));
    view->id = buf->id;

    for (uint32_t i = 0; i < rec->n_phones && i < ECIF_MAX_VALUES; i++) {
        char *out = buf->phones[view->n_phones];
        if (ecif_norm_phone(rec->phones[i], out, sizeof(buf->phones[0])) > 0)
            view->phones[view->n_phones++] = out;
    }
    for (uint32_t i = 0; i < rec->n_emails && i < ECIF_MAX_VALUES; i++) {
        char *out = buf->emails[view->n_emails];
        if (ecif_norm_email(rec->emails[i], out, sizeof(buf->emails[0])) > 0)
            view->emails[view->n_emails++] = out;
    }
    for (uint32_t i = 0; i < rec->n_addresses && i < ECIF_MAX_VALUES; i++) {
        char *out = buf->addresses[view->n_addresses];
        if (ecif_norm_text(rec->addresses[i], out, sizeof(buf->addresses[0])) >
            0)
            view->addresses[view->n_addresses++] = out;
    }
    if (present(rec->dob)) {
        uint32_t ymd;
        bool valid;
        if (ecif_norm_date(rec->dob, &ymd, &valid) == ECIF_OK) {
            view->dob = ymd;
            view->dob_valid = valid;
        }
    }
    view->gender = ecif_norm_gender(rec->gender);
}

void match_view_stored(const struct ecif_store *s, uint32_t record,
                       match_view_t *view)
{
    const struct rec_entry *r = &s->records[record];
    const uint32_t *v = s->values + r->values_first + r->n_phones +
                        r->n_emails + r->n_addresses;

    view->name = store_str(s, r->norm_name);
    view->given = store_str(s, r->norm_given);
    view->family = store_str(s, r->norm_family);
    view->id = store_str(s, r->norm_id);
    view->n_phones = r->n_phones;
    for (uint32_t i = 0; i < r->n_phones; i++)
        view->phones[i] = store_str(s, *v++);
    view->n_emails = r->n_emails;
    for (uint32_t i = 0; i < r->n_emails; i++)
        view->emails[i] = store_str(s, *v++);
    view->n_addresses = r->n_addresses;
    for (uint32_t i = 0; i < r->n_addresses; i++)
        view->addresses[i] = store_str(s, *v++);
    view->dob = r->dob_ymd;
    view->dob_valid = (r->flags & REC_DOB_VALID) != 0;
    view->gender = (char)r->gender_code;
    /* Agreement is checked on the query side, which match_mark_frequent
     * sets: an equal value has the same frequency on both sides. */
    view->frequent = 0;
}

/* Splits a normalized string at spaces into tokens stored in buf. */
static size_t split_tokens(const char *text, char buf[][ECIF_NORM_MAX],
                           size_t max)
{
    size_t n = 0;
    const char *p = text;

    while (*p != '\0' && n < max) {
        const char *end = strchr(p, ' ');
        size_t len = end != NULL ? (size_t)(end - p) : strlen(p);
        if (len > 0) {
            if (len >= ECIF_NORM_MAX)
                len = ECIF_NORM_MAX - 1;
            memcpy(buf[n], p, len);
            buf[n][len] = '\0';
            n++;
        }
        if (end == NULL)
            break;
        p = end + 1;
    }
    return n;
}

/* Returns the hash of a key made of a type letter and parts joined by '|'. */
static uint64_t key_hash(char type, const char *a, const char *b)
{
    char key[2 * ECIF_NORM_MAX + 4];
    int len = snprintf(key, sizeof(key), "%c%s|%s", type, a, b ? b : "");

    if (len < 0)
        len = 0;
    if ((size_t)len >= sizeof(key))
        len = (int)sizeof(key) - 1;
    return ecif_hash64(key, (size_t)len, 0);
}

/* Appends a key unless it is already in hashes or hashes is full. */
static void add_key(uint64_t *hashes, size_t *n, size_t max, char type,
                    const char *a, const char *b)
{
    uint64_t h;

    if (*n >= max)
        return;
    h = key_hash(type, a, b);
    for (size_t i = 0; i < *n; i++) {
        if (hashes[i] == h)
            return;
    }
    hashes[(*n)++] = h;
}

static int compare_chars(const void *a, const void *b)
{
    return *(const char *)a - *(const char *)b;
}

/* Copies the first chars code points of token into out. */
static void utf8_prefix(const char *token, size_t chars, char *out,
                        size_t outlen)
{
    const char *p = token;
    const char *end = token + strlen(token);
    size_t len;

    for (size_t i = 0; i < chars && p < end; i++)
        ecif_utf8_next(&p, end);
    len = (size_t)(p - token);
    if (len >= outlen)
        len = outlen - 1;
    memcpy(out, token, len);
    out[len] = '\0';
}

#define MAX_POSTCODES 2

/* Collects up to MAX_POSTCODES address tokens of 4 to 6 digits. */
static size_t find_postcodes(const match_view_t *v, char out[MAX_POSTCODES][8])
{
    size_t n = 0;

    for (uint32_t a = 0; a < v->n_addresses; a++) {
        const char *p = v->addresses[a];
        while (*p != '\0' && n < MAX_POSTCODES) {
            size_t len = strcspn(p, " ");
            if (len >= 4 && len <= 6 && strspn(p, "0123456789") == len) {
                memcpy(out[n], p, len);
                out[n][len] = '\0';
                n++;
            }
            p += len;
            while (*p == ' ')
                p++;
        }
    }
    return n;
}

static int compare_strings(const void *a, const void *b)
{
    return strcmp((const char *)a, (const char *)b);
}

size_t match_keys(const match_view_t *v, uint64_t *hashes, size_t max)
{
    char tokens[MAX_TOKENS][ECIF_NORM_MAX];
    char codes[MAX_TOKENS][ECIF_NORM_MAX];
    char dob[16] = "";
    size_t n = 0;
    size_t ntok;

    if (strlen(v->id) >= 4)
        add_key(hashes, &n, max, 'I', v->id, NULL);
    if (strlen(v->id) >= 6) {
        /* The characters of the ID in sorted order: survives a
         * transposition of two digits, the most common keying error. */
        char sorted[ECIF_NORM_MAX];
        snprintf(sorted, sizeof(sorted), "%s", v->id);
        qsort(sorted, strlen(sorted), 1, compare_chars);
        add_key(hashes, &n, max, 'S', sorted, NULL);
    }
    for (uint32_t i = 0; i < v->n_phones; i++)
        add_key(hashes, &n, max, 'P', v->phones[i], NULL);
    for (uint32_t i = 0; i < v->n_emails; i++)
        add_key(hashes, &n, max, 'E', v->emails[i], NULL);

    if (v->dob != 0)
        snprintf(dob, sizeof(dob), "%08u", (unsigned)v->dob);
    ntok = split_tokens(v->name, tokens, MAX_TOKENS);
    for (size_t i = 0; i < ntok; i++)
        ecif_phonetic(tokens[i], codes[i], sizeof(codes[i]));

    /* Each name token with the date of birth: survives a typo or a swap in
     * the other tokens. */
    if (dob[0] != '\0') {
        for (size_t i = 0; i < ntok; i++)
            add_key(hashes, &n, max, 'T', codes[i], dob);
    }

    /* The first three characters of each name token with the date of
     * birth: survives a typo past the start that changes the phonetic
     * code. */
    if (dob[0] != '\0') {
        for (size_t i = 0; i < ntok; i++) {
            char prefix[16];
            utf8_prefix(tokens[i], 3, prefix, sizeof(prefix));
            add_key(hashes, &n, max, 'Q', prefix, dob);
        }
    }

    /* Each name token with each postal code (a number of 4 to 6 digits)
     * found in the addresses: for records without a date of birth. */
    char postcodes[MAX_POSTCODES][8];
    size_t npost = find_postcodes(v, postcodes);
    for (size_t i = 0; i < ntok; i++) {
        for (size_t k = 0; k < npost; k++)
            add_key(hashes, &n, max, 'Z', codes[i], postcodes[k]);
    }

    /* All phonetic codes in sorted order: survives swapped name order and
     * a missing date of birth. */
    if (ntok >= 1) {
        char joined[ECIF_NORM_MAX * 2] = "";
        qsort(codes, ntok, sizeof(codes[0]), compare_strings);
        for (size_t i = 0; i < ntok; i++) {
            if (i > 0)
                strncat(joined, " ", sizeof(joined) - strlen(joined) - 1);
            strncat(joined, codes[i], sizeof(joined) - strlen(joined) - 1);
        }
        add_key(hashes, &n, max, 'N', joined, NULL);
    }
    return n;
}

/* Comparison of two name tokens, strongest level first. */
static ecif_level_t compare_token(const char *a, const char *b)
{
    char ca[16], cb[16];
    size_t la = strlen(a), lb = strlen(b);

    if (strcmp(a, b) == 0)
        return ECIF_LEVEL_EXACT;
    if (la >= 4 && lb >= 4 && ecif_edit_distance(a, b, 1) <= 1)
        return ECIF_LEVEL_FUZZY;
    if (ecif_jaro_winkler(a, b) >= 0.9)
        return ECIF_LEVEL_FUZZY;
    ecif_phonetic(a, ca, sizeof(ca));
    ecif_phonetic(b, cb, sizeof(cb));
    if (ca[0] != '\0' && strcmp(ca, cb) == 0)
        return ECIF_LEVEL_PHONETIC;
    /* A name in a script without spaces (Chinese) is one token; one
     * character in a name of two or more differing is partial. */
    if ((unsigned char)a[0] >= 0x80 && ecif_edit_distance(a, b, 1) <= 1)
        return ECIF_LEVEL_PARTIAL;
    if ((la == 1 || lb == 1) && a[0] == b[0])
        return ECIF_LEVEL_PARTIAL; /* an initial */
    return ECIF_LEVEL_MISMATCH;
}

/* Weights of a name part by level: family name, given name. */
static const double family_weight[] = {
    [ECIF_LEVEL_MISSING] = 0.0, [ECIF_LEVEL_EXACT] = 4.0,
    [ECIF_LEVEL_FUZZY] = 3.0,   [ECIF_LEVEL_PHONETIC] = 2.5,
    [ECIF_LEVEL_PARTIAL] = 1.0, [ECIF_LEVEL_MISMATCH] = -3.0,
};
static const double given_weight[] = {
    [ECIF_LEVEL_MISSING] = 0.0, [ECIF_LEVEL_EXACT] = 3.5,
    [ECIF_LEVEL_FUZZY] = 2.5,   [ECIF_LEVEL_PHONETIC] = 2.0,
    [ECIF_LEVEL_PARTIAL] = 0.8, [ECIF_LEVEL_MISMATCH] = -2.5,
};

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

/* Both names split into given and family: compare in place and swapped. */
static ecif_evidence_t score_split_names(const match_view_t *a,
                                         const match_view_t *b)
{
    ecif_level_t fam = compare_part(a->family, b->family);
    ecif_level_t giv = compare_part(a->given, b->given);
    double straight = family_weight[fam] + given_weight[giv];
    ecif_level_t sfam = compare_part(a->family, b->given);
    ecif_level_t sgiv = compare_part(a->given, b->family);
    double swapped = family_weight[sfam] + given_weight[sgiv] - 1.0;
    ecif_evidence_t ev;

    if (swapped > straight) {
        ev.level = combine_levels(sfam, sgiv);
        ev.weight = swapped;
    } else {
        ev.level = combine_levels(fam, giv);
        ev.weight = straight;
    }
    return ev;
}

/* Names as unordered token lists: each token of the shorter list takes its
 * best unused partner in the other. */
static ecif_evidence_t score_token_names(const char *a, const char *b)
{
    char ta[MAX_TOKENS][ECIF_NORM_MAX], tb[MAX_TOKENS][ECIF_NORM_MAX];
    size_t na = split_tokens(a, ta, MAX_TOKENS);
    size_t nb = split_tokens(b, tb, MAX_TOKENS);
    bool used[MAX_TOKENS] = {false};
    ecif_evidence_t ev = {ECIF_LEVEL_MISSING, 0.0};

    if (na == 0 || nb == 0)
        return ev;
    if (na > nb) {
        return score_token_names(b, a);
    }
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
        /* The first token pair is weighted as the family name. */
        ev.weight += i == 0 ? family_weight[best] : given_weight[best];
        ev.level = combine_levels(ev.level, best);
    }
    if (na == 1 && nb == 1 && (unsigned char)ta[0][0] >= 0x80) {
        /* A whole Chinese name in one token carries both parts. */
        ev.weight += ev.level == ECIF_LEVEL_EXACT      ? given_weight[1]
                     : ev.level == ECIF_LEVEL_MISMATCH ? given_weight[5]
                                                       : 0.0;
    }
    return ev;
}

static ecif_evidence_t score_name(const match_view_t *a, const match_view_t *b)
{
    bool a_split = present(a->given) || present(a->family);
    bool b_split = present(b->given) || present(b->family);

    if (a_split && b_split)
        return score_split_names(a, b);
    return score_token_names(a->name, b->name);
}

static ecif_evidence_t score_id(const match_view_t *a, const match_view_t *b)
{
    ecif_evidence_t ev = {ECIF_LEVEL_MISSING, 0.0};

    if (!present(a->id) || !present(b->id))
        return ev;
    if (strcmp(a->id, b->id) == 0) {
        ev.level = ECIF_LEVEL_EXACT;
        ev.weight = (a->frequent | b->frequent) & FREQUENT_ID
                        ? FREQUENT_AGREEMENT_WEIGHT
                        : 10.0;
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
            if (strlen(a->phones[i]) >= 7 && strlen(b->phones[j]) >= 7 &&
                strcmp(tail(a->phones[i], 7), tail(b->phones[j], 7)) == 0) {
                ev.level = ECIF_LEVEL_PARTIAL;
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
        n += split_tokens(v->addresses[i], buf + n, max - n);
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
                ecif_jaro_winkler(ta[i], tb[j]) >= 0.9) {
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
    char x[16], y[16];

    if (a->dob == 0 || b->dob == 0)
        return ev;
    if (a->dob == b->dob) {
        ev.level = ECIF_LEVEL_EXACT;
        ev.weight = 5.0;
        return ev;
    }
    snprintf(x, sizeof(x), "%08u", (unsigned)a->dob);
    snprintf(y, sizeof(y), "%08u", (unsigned)b->dob);
    uint32_t ya = a->dob / 10000, ma = a->dob / 100 % 100, da = a->dob % 100;
    uint32_t yb = b->dob / 10000, mb = b->dob / 100 % 100, db = b->dob % 100;
    if (ya == yb && ma == db && da == mb) {
        ev.level = ECIF_LEVEL_PARTIAL; /* day and month transposed */
        ev.weight = 2.0;
    } else if (ecif_edit_distance(x, y, 1) <= 1) {
        ev.level = ECIF_LEVEL_FUZZY; /* one digit typed wrong or swapped */
        ev.weight = 2.5;
    } else {
        ev.level = ECIF_LEVEL_MISMATCH;
        ev.weight = -4.0;
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

double match_score(const match_view_t *a, const match_view_t *b,
                   ecif_evidence_t evidence[ECIF_FIELD_COUNT])
{
    double total = 0.0;

    evidence[ECIF_FIELD_NAME] = score_name(a, b);
    evidence[ECIF_FIELD_ID_NUMBER] = score_id(a, b);
    evidence[ECIF_FIELD_PHONE] = score_phone(a, b);
    evidence[ECIF_FIELD_EMAIL] = score_email(a, b);
    evidence[ECIF_FIELD_ADDRESS] = score_address(a, b);
    evidence[ECIF_FIELD_DOB] = score_dob(a, b);
    evidence[ECIF_FIELD_GENDER] = score_gender(a, b);
    for (int f = 0; f < ECIF_FIELD_COUNT; f++)
        total += evidence[f].weight;
    return total;
}

void match_mark_frequent(const struct ecif_store *s, match_view_t *v)
{
    v->frequent = 0;
    if (strlen(v->id) >= 4 && store_key_frequent(s, key_hash('I', v->id, NULL)))
        v->frequent |= FREQUENT_ID;
    for (uint32_t i = 0; i < v->n_phones; i++) {
        if (store_key_frequent(s, key_hash('P', v->phones[i], NULL)))
            v->frequent |= FREQUENT_PHONE(i);
    }
    for (uint32_t i = 0; i < v->n_emails; i++) {
        if (store_key_frequent(s, key_hash('E', v->emails[i], NULL)))
            v->frequent |= FREQUENT_EMAIL(i);
    }
}

ecif_verdict_t match_verdict(double score)
{
    if (score >= MATCH_THRESHOLD)
        return ECIF_MATCH;
    if (score >= POSSIBLE_THRESHOLD)
        return ECIF_POSSIBLE_MATCH;
    return ECIF_NO_MATCH;
}

/* Adds a record id to the candidate set unless present or full. */
static void add_candidate(match_candidates_t *c, uint32_t id)
{
    const uint32_t mask = MAX_QUERY_CANDIDATES * 4 - 1;
    uint32_t slot = (id * 2654435761U) & mask;

    while (c->table[slot] != 0) {
        if (c->table[slot] == id + 1)
            return;
        slot = (slot + 1) & mask;
    }
    if (c->count >= MAX_QUERY_CANDIDATES)
        return;
    c->table[slot] = id + 1;
    c->ids[c->count++] = id;
}

void match_gather(const struct ecif_store *s, const match_view_t *view,
                  match_candidates_t *out)
{
    uint64_t keys[MAX_RECORD_KEYS];
    size_t nkeys = match_keys(view, keys, MAX_RECORD_KEYS);

    out->count = 0;
    memset(out->table, 0, sizeof(out->table));
    for (size_t k = 0; k < nkeys && out->count < MAX_QUERY_CANDIDATES; k++) {
        uint32_t count;
        const uint32_t *ids = store_lookup_key(s, keys[k], &count);
        for (uint32_t i = 0; i < count; i++)
            add_candidate(out, ids[i]);
    }
}
