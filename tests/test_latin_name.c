/*
 * Tests of the Latin-script name aids: Double Metaphone codes of known
 * names, the nickname table, generational suffixes and surname keys.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "latin_name.h"
#include "normalize.h"
#include "unit.h"

/* Checks both codes of one name against the published algorithm's. */
static void check_codes(const char *name, const char *primary,
                        const char *alternate)
{
    char p[LATIN_METAPHONE_SIZE], a[LATIN_METAPHONE_SIZE];

    size_t n = latin_double_metaphone(name, p, a);
    if (strcmp(p, primary) != 0 || strcmp(a, alternate) != 0)
        fprintf(stderr, "codes of %s: %s %s\n", name, p, a);
    CHECK_STR(p, primary);
    CHECK_STR(a, alternate);
    CHECK_INT(n, strlen(primary));
}

static void metaphone_known_codes(void)
{
    check_codes("smith", "SM0", "XMT");
    check_codes("schmidt", "XMT", "SMT");
    check_codes("catherine", "K0RN", "KTRN");
    check_codes("kathryn", "K0RN", "KTRN");
    check_codes("thomas", "TMS", "TMS");
    check_codes("michael", "MKL", "MXL");
    check_codes("xavier", "SF", "SFR");
    check_codes("jose", "HS", "HS");
    check_codes("gallegos", "KLKS", "KKS");
    check_codes("cabrillo", "KPRL", "KPR");
    check_codes("wasserman", "ASRM", "FSRM");
    check_codes("czerny", "SRN", "XRN");
    check_codes("filipowicz", "FLPT", "FLPF");
    check_codes("tagliaro", "TKLR", "TLR");
    check_codes("rogier", "RJ", "RJR");
    check_codes("breaux", "PR", "PR");
    check_codes("laugh", "LF", "LF");
    check_codes("edge", "AJ", "AJ");
    check_codes("edgar", "ATKR", "ATKR");
    check_codes("caesar", "SSR", "SSR");
    check_codes("chorus", "KRS", "KRS");
    check_codes("schermerhorn", "XRMR", "SKRM");
    check_codes("sugar", "XKR", "SKR");
    check_codes("dumb", "TM", "TM");
    check_codes("zhao", "J", "J");
}

static void metaphone_matches_variants(void)
{
    static const char *const pairs[][2] = {
        {"smith", "schmidt"},    {"catherine", "kathryn"},
        {"philips", "phillips"}, {"jon", "john"},
        {"knight", "night"},     {"schneider", "snider"},
        {"stephen", "steven"},   {"geoffrey", "jeffrey"},
        {"carl", "karl"},        {"thomas", "tomas"},
    };

    for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
        bool match = latin_metaphone_match(pairs[i][0], pairs[i][1]);
        if (!match)
            fprintf(stderr, "%s and %s do not match\n", pairs[i][0],
                    pairs[i][1]);
        CHECK(match);
        CHECK(latin_metaphone_match(pairs[i][1], pairs[i][0]));
    }
}

static void metaphone_separates_names(void)
{
    CHECK(!latin_metaphone_match("smith", "jones"));
    CHECK(!latin_metaphone_match("john", "mary"));
    CHECK(!latin_metaphone_match("wang", "zhang"));
    /* The published rules code the p of "mps", so these differ. */
    check_codes("thompson", "TMPS", "TMPS");
    check_codes("tomson", "TMSN", "TMSN");
    CHECK(!latin_metaphone_match("thompson", "tomson"));
}

static void metaphone_edge_inputs(void)
{
    char p[LATIN_METAPHONE_SIZE], a[LATIN_METAPHONE_SIZE];

    CHECK_INT(latin_double_metaphone("", p, a), 0);
    CHECK_STR(p, "");
    CHECK_STR(a, "");
    CHECK_INT(latin_double_metaphone(NULL, p, a), 0);
    CHECK_INT(latin_double_metaphone("王", p, a), 0);
    CHECK(!latin_metaphone_match("王", "王"));

    /* Every code stays within four characters, whatever the input. */
    static const char *const inputs[] = {
        "a",
        "x",
        "wh",
        "gh",
        "cc",
        "schwarzkopfenbergerstrasse",
        "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz",
        "ççç",
        "jjjjjjjj",
        "mb",
        "sci",
        "tch",
    };
    for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
        size_t n = latin_double_metaphone(inputs[i], p, a);
        CHECK(n <= LATIN_METAPHONE_MAX);
        CHECK(strlen(p) == n);
        CHECK(strlen(a) <= LATIN_METAPHONE_MAX);
    }
}

/* Every 1..3 letter string: codes are bounded and made of code letters. */
static void metaphone_exhaustive_short(void)
{
    char word[4], p[LATIN_METAPHONE_SIZE], a[LATIN_METAPHONE_SIZE];
    int bad = 0;

    for (int len = 1; len <= 3; len++) {
        int total = 1;
        for (int i = 0; i < len; i++)
            total *= 26;
        for (int k = 0; k < total; k++) {
            int v = k;
            for (int i = 0; i < len; i++) {
                word[i] = (char)('a' + v % 26);
                v /= 26;
            }
            word[len] = '\0';
            latin_double_metaphone(word, p, a);
            if (strspn(p, "AFHJKLMNPRSTX0") != strlen(p) ||
                strspn(a, "AFHJKLMNPRSTX0") != strlen(a))
                bad++;
        }
    }
    CHECK_INT(bad, 0);
}

static bool has_canonical(const char *name, const char *canonical)
{
    char out[LATIN_NICKNAME_MAX][LATIN_CANONICAL_SIZE];
    size_t n = latin_nickname_canonical(name, out);

    for (size_t i = 0; i < n; i++) {
        if (strcmp(out[i], canonical) == 0)
            return true;
    }
    return false;
}

static void nickname_maps_diminutives(void)
{
    static const char *const cases[][2] = {
        {"bob", "robert"},      {"rob", "robert"},
        {"bobby", "robert"},    {"robbie", "robert"},
        {"bill", "william"},    {"will", "william"},
        {"billy", "william"},   {"liz", "elizabeth"},
        {"beth", "elizabeth"},  {"betty", "elizabeth"},
        {"eliza", "elizabeth"}, {"peggy", "margaret"},
        {"maggie", "margaret"}, {"dick", "richard"},
        {"rick", "richard"},    {"jim", "james"},
        {"jimmy", "james"},     {"chris", "christopher"},
        {"chris", "christine"}, {"kate", "catherine"},
        {"kate", "katherine"},  {"nancy", "anne"},
        {"ted", "edward"},      {"ted", "theodore"},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        bool found = has_canonical(cases[i][0], cases[i][1]);
        if (!found)
            fprintf(stderr, "%s lacks %s\n", cases[i][0], cases[i][1]);
        CHECK(found);
    }
}

static void nickname_canonical_names(void)
{
    char out[LATIN_NICKNAME_MAX][LATIN_CANONICAL_SIZE];

    CHECK_INT(latin_nickname_canonical("robert", out), 1);
    CHECK_STR(out[0], "robert");
    /* nancy is a diminutive and a name of its own */
    CHECK(has_canonical("nancy", "nancy"));
    CHECK(has_canonical("nancy", "anne"));
    CHECK_INT(latin_nickname_canonical("chris", out), 4);
    CHECK_INT(latin_nickname_canonical("zebulon", out), 0);
    CHECK_STR(out[0], "");
    CHECK_INT(latin_nickname_canonical("", out), 0);
    CHECK_INT(latin_nickname_canonical(NULL, out), 0);
}

static void nickname_match_pairs(void)
{
    CHECK(latin_nickname_match("bob", "robert"));
    CHECK(latin_nickname_match("robert", "bobby"));
    CHECK(latin_nickname_match("bill", "will"));
    CHECK(latin_nickname_match("liz", "betty"));
    CHECK(latin_nickname_match("chris", "christine"));
    CHECK(latin_nickname_match("zebulon", "zebulon"));
    CHECK(!latin_nickname_match("bob", "william"));
    CHECK(!latin_nickname_match("christopher", "christine"));
    CHECK(!latin_nickname_match("zebulon", "zeb"));
    CHECK(!latin_nickname_match("", ""));
}

/* Names from the start, middle and end of the table. */
static void nickname_every_entry_found(void)
{
    static const char *const names[] = {"abby", "al",     "izzy", "jack",
                                        "zack", "xander", "meg",  "ollie"};

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        char out[LATIN_NICKNAME_MAX][LATIN_CANONICAL_SIZE];
        CHECK(latin_nickname_canonical(names[i], out) > 0);
    }
}

static void check_suffix(const char *name, const char *rest, const char *suffix)
{
    char r[ECIF_NORM_MAX], s[LATIN_SUFFIX_SIZE];

    size_t n = latin_name_suffix(name, r, sizeof(r), s);
    CHECK_STR(r, rest);
    CHECK_STR(s, suffix);
    CHECK_INT(n, strlen(rest));
}

static void suffix_split_off(void)
{
    check_suffix("john smith jr", "john smith", "JR");
    check_suffix("john smith junior", "john smith", "JR");
    check_suffix("john smith sr", "john smith", "SR");
    check_suffix("john smith senior", "john smith", "SR");
    check_suffix("henry ford ii", "henry ford", "II");
    check_suffix("henry ford iii", "henry ford", "III");
    check_suffix("henry ford iv", "henry ford", "IV");
    check_suffix("henry ford v", "henry ford", "V");
}

static void suffix_left_alone(void)
{
    check_suffix("john smith", "john smith", "");
    check_suffix("jr", "jr", "");             /* nothing before it */
    check_suffix("john v", "john v", "");     /* likely an initial */
    check_suffix("jr smith", "jr smith", ""); /* not the last token */
    check_suffix("john smithjr", "john smithjr", "");
    check_suffix("", "", "");
}

static void suffix_tells_apart(void)
{
    char r1[64], r2[64], s1[LATIN_SUFFIX_SIZE], s2[LATIN_SUFFIX_SIZE];

    latin_name_suffix("john smith jr", r1, sizeof(r1), s1);
    latin_name_suffix("john smith sr", r2, sizeof(r2), s2);
    CHECK_STR(r1, r2);
    CHECK(strcmp(s1, s2) != 0);
}

static void suffix_tiny_buffers(void)
{
    char buf[32], s[LATIN_SUFFIX_SIZE];

    for (size_t outlen = 0; outlen < 16; outlen++) {
        memset(buf, '#', sizeof(buf));
        size_t n = latin_name_suffix("john smith jr", buf, outlen, s);
        for (size_t i = outlen; i < sizeof(buf); i++)
            CHECK_INT(buf[i], '#');
        CHECK_INT(n, outlen > 10 ? 10 : 0);
        if (outlen > 0)
            CHECK_INT(strlen(buf), n);
        if (n == 0)
            CHECK_STR(s, "");
    }
}

static void check_surname(const char *family, const char *key,
                          const char *const *parts, size_t n_parts)
{
    latin_surname_t out;

    size_t n = latin_surname_key(family, &out);
    if (strcmp(out.key, key) != 0)
        fprintf(stderr, "key of %s: %s\n", family, out.key);
    CHECK_STR(out.key, key);
    CHECK_INT(n, strlen(key));
    CHECK_INT(out.n_parts, n_parts);
    for (size_t i = 0; i < n_parts && i < out.n_parts; i++)
        CHECK_STR(out.parts[i], parts[i]);
}

static void surname_drops_particles(void)
{
    check_surname("van der berg", "berg", (const char *[]){"berg"}, 1);
    check_surname("de la cruz", "cruz", (const char *[]){"cruz"}, 1);
    check_surname("von neumann", "neumann", (const char *[]){"neumann"}, 1);
    check_surname("d angelo", "angelo", (const char *[]){"angelo"}, 1);
    check_surname("al rashid", "rashid", (const char *[]){"rashid"}, 1);
    check_surname("bin abdullah", "abdullah", (const char *[]){"abdullah"}, 1);
    /* all particles: nothing is dropped */
    check_surname("le", "le", (const char *[]){"le"}, 1);
    check_surname("nguyen le", "nguyen le", (const char *[]){"nguyen", "le"},
                  2);
}

static void surname_splits_compounds(void)
{
    check_surname("garcia lopez", "garcia lopez",
                  (const char *[]){"garcia", "lopez"}, 2);
    check_surname("garcia y lopez", "garcia lopez",
                  (const char *[]){"garcia", "lopez"}, 2);
    check_surname("smith", "smith", (const char *[]){"smith"}, 1);
    check_surname("a b c d e", "a b c d e",
                  (const char *[]){"a", "b", "c", "d"}, 4);
}

static void surname_joins_prefixes(void)
{
    check_surname("mcdonald", "macdonald", (const char *[]){"macdonald"}, 1);
    check_surname("mc donald", "macdonald", (const char *[]){"macdonald"}, 1);
    check_surname("mac donald", "macdonald", (const char *[]){"macdonald"}, 1);
    check_surname("o brien", "obrien", (const char *[]){"obrien"}, 1);
    check_surname("st john", "saintjohn", (const char *[]){"saintjohn"}, 1);
    check_surname("saint john", "saintjohn", (const char *[]){"saintjohn"}, 1);
    check_surname("mack", "mack", (const char *[]){"mack"}, 1);
    check_surname("van 王", "王", (const char *[]){"王"}, 1);
}

static void surname_empty_and_long(void)
{
    latin_surname_t out;
    char longname[600];

    CHECK_INT(latin_surname_key("", &out), 0);
    CHECK_INT(out.n_parts, 0);
    CHECK_INT(latin_surname_key(NULL, &out), 0);

    /* Tokens that do not fit the key are left out whole. */
    size_t n = 0;
    while (n + 11 < sizeof(longname)) {
        memcpy(longname + n, "abcdefghi ", 10);
        n += 10;
    }
    longname[n] = '\0';
    size_t len = latin_surname_key(longname, &out);
    CHECK(len < ECIF_NORM_MAX);
    CHECK_INT(len % 10, 9);
    CHECK_INT(out.n_parts, LATIN_SURNAME_MAX_PARTS);
}

/* The key of a key is the key itself, unless a join made a new prefix. */
static void surname_key_idempotent(void)
{
    static const char *const names[] = {
        "van der berg", "garcia y lopez", "mcdonald", "o brien",   "le",
        "de la cruz",   "nguyen le",      "smith",    "al rashid", "van 王 李",
    };
    latin_surname_t once, twice;

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        latin_surname_key(names[i], &once);
        latin_surname_key(once.key, &twice);
        CHECK_STR(twice.key, once.key);
        CHECK(ecif_utf8_valid(once.key, strlen(once.key)));
    }
}

int main(void)
{
    RUN(metaphone_known_codes);
    RUN(metaphone_matches_variants);
    RUN(metaphone_separates_names);
    RUN(metaphone_edge_inputs);
    RUN(metaphone_exhaustive_short);
    RUN(nickname_maps_diminutives);
    RUN(nickname_canonical_names);
    RUN(nickname_match_pairs);
    RUN(nickname_every_entry_found);
    RUN(suffix_split_off);
    RUN(suffix_left_alone);
    RUN(suffix_tells_apart);
    RUN(suffix_tiny_buffers);
    RUN(surname_drops_particles);
    RUN(surname_splits_compounds);
    RUN(surname_joins_prefixes);
    RUN(surname_empty_and_long);
    RUN(surname_key_idempotent);
    return unit_report();
}
