/*
 * Latin address tokens. Every spelling in the table maps to one canonical
 * abbreviation, so ambiguous abbreviations stay consistent: "st" is both
 * street and saint, "dr" both drive and doctor, and each side of a
 * comparison gets the same token for either.
 */
#include <stdbool.h>
#include <string.h>

#include "latin_address.h"

static const struct {
    const char *word;
    const char *canonical;
} latin_words[] = {
    {"street", "st"},      {"str", "st"},          {"saint", "st"},
    {"road", "rd"},        {"avenue", "ave"},      {"av", "ave"},
    {"boulevard", "blvd"}, {"drive", "dr"},        {"lane", "ln"},
    {"court", "ct"},       {"place", "pl"},        {"square", "sq"},
    {"terrace", "ter"},    {"crescent", "cres"},   {"highway", "hwy"},
    {"parkway", "pkwy"},   {"apartment", "apt"},   {"flat", "apt"},
    {"suite", "ste"},      {"floor", "fl"},        {"building", "bldg"},
    {"bld", "bldg"},       {"room", "rm"},         {"north", "n"},
    {"south", "s"},        {"east", "e"},          {"west", "w"},
    {"mount", "mt"},       {"fort", "ft"},         {"post", "po"},
    {"box", "box"},        {"department", "dept"},
};

/* Spellings of "number" that are dropped before a numeric token. */
static bool is_number_word(const char *t, size_t n)
{
    return (n == 2 && (memcmp(t, "no", 2) == 0 || memcmp(t, "nr", 2) == 0)) ||
           (n == 3 && memcmp(t, "num", 3) == 0) ||
           (n == 6 && memcmp(t, "number", 6) == 0);
}

static const char *canonical_word(const char *t, size_t n)
{
    for (size_t i = 0; i < sizeof(latin_words) / sizeof(latin_words[0]); i++) {
        if (strlen(latin_words[i].word) == n &&
            memcmp(latin_words[i].word, t, n) == 0)
            return latin_words[i].canonical;
    }
    return NULL;
}

size_t latin_address_tokens(const char *folded, char *out, size_t outlen,
                            size_t *ntokens)
{
    size_t n = 0, count = 0;

    if (ntokens != NULL)
        *ntokens = 0;
    if (outlen == 0)
        return 0;
    out[0] = '\0';
    if (folded == NULL)
        return 0;

    const char *p = folded;
    while (*p != '\0') {
        while (*p == ' ')
            p++;
        const char *t = p;
        while (*p != '\0' && *p != ' ')
            p++;
        size_t tlen = (size_t)(p - t);
        if (tlen == 0)
            break;

        const char *next = p;
        while (*next == ' ')
            next++;
        if (is_number_word(t, tlen) && *next >= '0' && *next <= '9')
            continue;
        const char *canonical = canonical_word(t, tlen);
        if (canonical != NULL) {
            t = canonical;
            tlen = strlen(canonical);
        }
        if (n + (n > 0) + tlen + 1 > outlen)
            break;
        if (n > 0)
            out[n++] = ' ';
        memcpy(out + n, t, tlen);
        n += tlen;
        count++;
    }
    out[n] = '\0';
    if (ntokens != NULL)
        *ntokens = count;
    return n;
}
