/*
 * String similarity measures used by the comparison levels. All work on
 * code points of UTF-8 input, so one Chinese character counts as one edit.
 * Inputs longer than COMPARE_MAX_CHARS code points are compared on their
 * first COMPARE_MAX_CHARS.
 */
#ifndef ECIF_COMPARE_H
#define ECIF_COMPARE_H

#include <stdbool.h>
#include <stddef.h>

#define COMPARE_MAX_CHARS 64

/* Returns the Jaro-Winkler similarity in [0, 1] (prefix scale 0.1). */
double ecif_jaro_winkler(const char *a, const char *b);

/*
 * Returns true when the Jaro-Winkler similarity of a and b is at least
 * threshold. Rejects pairs whose lengths alone rule it out before the
 * quadratic matching step, which most unrelated tokens are.
 */
bool ecif_jaro_winkler_reaches(const char *a, const char *b, double threshold);

/*
 * Returns the Damerau-Levenshtein distance (optimal string alignment: an
 * adjacent transposition costs 1), or max + 1 once it exceeds max.
 */
int ecif_edit_distance(const char *a, const char *b, int max);

#endif
