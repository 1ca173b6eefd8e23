/*
 * Chinese name-variant pairs from the public cn-name-match-pairs dataset
 * ($ECIF_DATA_DIR/cn-name-match-pairs/name_match_{1,2}.csv): row i of one
 * file and row i of the other name the same person. A pair whose names
 * differ only by noise, width or script must get the same exact or fuzzy
 * key. Pairs that no normalization can reach (another given name, a
 * title, a nickname) are counted and a few are printed. Without
 * ECIF_DATA_DIR the test prints a message and passes.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cn_name.h"
#include "csv.h"
#include "normalize.h"
#include "status.h"
#include "unit.h"

#define MAX_PAIRS 1000

/* Aliases printed as examples of pairs no normalization reaches. */
#define ALIASES_SHOWN 5

typedef struct pair_counts {
    int pairs;
    int identical;       /* byte-identical names */
    int noise_or_script; /* same Simplified form after folding and noise */
    int agreed;          /* of those, pairs whose keys agree */
    int homophones;      /* other pairs whose keys still agree */
    int aliases;         /* pairs no key brings together */
} pair_counts_t;

/* Reads the first column (the name) of every data row of a CSV file. */
static int read_names(const char *path, char **names, int max)
{
    FILE *fp = fopen(path, "rb");
    csv_reader_t *reader = NULL;
    csv_row_t row;
    char err[256];
    int n = 0, rc;

    if (fp == NULL) {
        fprintf(stderr, "cannot open %s\n", path);
        return -1;
    }
    if (csv_reader_create(fp, ',', &reader) != ECIF_OK) {
        fclose(fp);
        return -1;
    }
    while ((rc = csv_reader_next(reader, &row, err, sizeof(err))) != 0) {
        if (rc < 0) {
            fprintf(stderr, "%s: %s\n", path, err);
            n = -1;
            break;
        }
        if (row.line == 1 || n == max)
            continue; /* the header */
        names[n++] = strdup(row.fields[0]);
    }
    csv_reader_destroy(reader);
    fclose(fp);
    return n;
}

/*
 * Writes the form a name has once width, case and punctuation are folded
 * (ecif_norm_name), Latin letters and spaces are stripped, and the rest is
 * mapped to Simplified. Two names with the same form differ only by noise,
 * width or script.
 */
static void plain_form(const char *name, char *out, size_t outlen)
{
    char folded[ECIF_NORM_MAX], stripped[ECIF_NORM_MAX];
    size_t n = 0;

    ecif_norm_name(name, folded, sizeof(folded));
    for (const char *p = folded; *p != '\0'; p++) {
        if ((*p >= 'a' && *p <= 'z') || *p == ' ')
            continue;
        stripped[n++] = *p;
    }
    stripped[n] = '\0';
    cn_to_simplified(stripped, out, outlen);
}

static bool keys_agree(const char *a, const char *b)
{
    char ka[CN_NAME_MAX], kb[CN_NAME_MAX];

    if (cn_name_key(a, ka, sizeof(ka)) > 0 &&
        cn_name_key(b, kb, sizeof(kb)) > 0 && strcmp(ka, kb) == 0)
        return true;
    return cn_name_key_fuzzy(a, ka, sizeof(ka)) > 0 &&
           cn_name_key_fuzzy(b, kb, sizeof(kb)) > 0 && strcmp(ka, kb) == 0;
}

static void check_pair(const char *a, const char *b, int row,
                       pair_counts_t *counts)
{
    char form_a[CN_NAME_MAX], form_b[CN_NAME_MAX];
    bool agree = keys_agree(a, b);

    counts->pairs++;
    if (strcmp(a, b) == 0) {
        counts->identical++;
        CHECK(agree || cn_name_key(a, form_a, sizeof(form_a)) == 0);
        return;
    }
    plain_form(a, form_a, sizeof(form_a));
    plain_form(b, form_b, sizeof(form_b));
    if (form_a[0] != '\0' && strcmp(form_a, form_b) == 0) {
        counts->noise_or_script++;
        if (agree)
            counts->agreed++;
        else
            fprintf(stderr,
                    "row %d: %s and %s differ only by noise, "
                    "width or script but their keys differ\n",
                    row, a, b);
        CHECK(agree);
        return;
    }
    if (agree) {
        counts->homophones++;
        return;
    }
    if (counts->aliases < ALIASES_SHOWN)
        printf("  alias, row %d: %s / %s\n", row, a, b);
    counts->aliases++;
}

static void test_name_pairs_agree(void)
{
    const char *dir = getenv("ECIF_DATA_DIR");
    char path[4096];
    char *left[MAX_PAIRS], *right[MAX_PAIRS];
    pair_counts_t counts = {0};
    int n_left, n_right;

    if (dir == NULL || dir[0] == '\0') {
        printf("ECIF_DATA_DIR is not set: skipping the name-pair data\n");
        return;
    }
    snprintf(path, sizeof(path), "%s/cn-name-match-pairs/name_match_1.csv",
             dir);
    n_left = read_names(path, left, MAX_PAIRS);
    snprintf(path, sizeof(path), "%s/cn-name-match-pairs/name_match_2.csv",
             dir);
    n_right = read_names(path, right, MAX_PAIRS);
    CHECK(n_left > 0);
    CHECK_INT(n_right, n_left);

    for (int i = 0; i < n_left && i < n_right; i++)
        check_pair(left[i], right[i], i + 1, &counts);
    printf("name pairs: %d, identical: %d, noise/width/script only: %d "
           "(keys agree: %d), homophones: %d, aliases no normalization "
           "reaches: %d\n",
           counts.pairs, counts.identical, counts.noise_or_script,
           counts.agreed, counts.homophones, counts.aliases);
    /* The dataset has about ten noisy pairs; finding none means a broken
     * classification, not a clean dataset. */
    CHECK(counts.noise_or_script >= 8);
    CHECK_INT(counts.agreed, counts.noise_or_script);

    for (int i = 0; i < n_left; i++)
        free(left[i]);
    for (int i = 0; i < n_right; i++)
        free(right[i]);
}

int main(void)
{
    RUN(test_name_pairs_agree);
    return unit_report();
}
