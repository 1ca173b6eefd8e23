/*
 * Jaro-Winkler and bounded optimal-string-alignment distance over code
 * points. Both decode into fixed arrays on the stack: no allocation.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "compare.h"
#include "normalize.h"

static size_t decode(const char *s, uint32_t *out)
{
    const char *end = s + strlen(s);
    size_t n = 0;

    while (s < end && n < COMPARE_MAX_CHARS)
        out[n++] = ecif_utf8_next(&s, end);
    return n;
}

/*
 * Jaro-Winkler of decoded code points. A length bound comes first: with
 * m matches at most the shorter length, Jaro is at most
 * (1 + shorter/longer + 1) / 3, and the prefix bonus adds at most
 * 0.4 × (1 − Jaro).
 */
static double jaro_winkler_points(const uint32_t *x, size_t nx,
                                  const uint32_t *y, size_t ny,
                                  double threshold);

bool ecif_jaro_winkler_reaches(const char *a, const char *b, double threshold)
{
    uint32_t x[COMPARE_MAX_CHARS], y[COMPARE_MAX_CHARS];
    size_t nx = decode(a, x);
    size_t ny = decode(b, y);

    return jaro_winkler_points(x, nx, y, ny, threshold) >= threshold;
}

double ecif_jaro_winkler(const char *a, const char *b)
{
    uint32_t x[COMPARE_MAX_CHARS], y[COMPARE_MAX_CHARS];
    size_t nx = decode(a, x);
    size_t ny = decode(b, y);

    return jaro_winkler_points(x, nx, y, ny, 0.0);
}

/* Returns the similarity, or a value below threshold as soon as the
 * length bound shows it cannot reach it. */
static double jaro_winkler_points(const uint32_t *x, size_t nx,
                                  const uint32_t *y, size_t ny,
                                  double threshold)
{
    bool x_hit[COMPARE_MAX_CHARS] = {false};
    bool y_hit[COMPARE_MAX_CHARS] = {false};
    size_t window, matches = 0, transpositions = 0;

    if (nx == 0 || ny == 0)
        return nx == ny ? 1.0 : 0.0;
    if (threshold > 0.0) {
        double shorter = (double)(nx < ny ? nx : ny);
        double longer = (double)(nx < ny ? ny : nx);
        double jaro_max = (2.0 + shorter / longer) / 3.0;
        if (jaro_max + 0.4 * (1.0 - jaro_max) < threshold)
            return 0.0;
    }
    window = (nx > ny ? nx : ny) / 2;
    window = window > 0 ? window - 1 : 0;

    for (size_t i = 0; i < nx; i++) {
        size_t lo = i > window ? i - window : 0;
        size_t hi = i + window + 1 < ny ? i + window + 1 : ny;
        for (size_t j = lo; j < hi; j++) {
            if (!y_hit[j] && x[i] == y[j]) {
                x_hit[i] = y_hit[j] = true;
                matches++;
                break;
            }
        }
    }
    if (matches == 0)
        return 0.0;

    size_t k = 0;
    for (size_t i = 0; i < nx; i++) {
        if (!x_hit[i])
            continue;
        while (!y_hit[k])
            k++;
        if (x[i] != y[k])
            transpositions++;
        k++;
    }

    double m = (double)matches;
    double jaro = (m / nx + m / ny + (m - transpositions / 2.0) / m) / 3.0;
    size_t prefix = 0;
    while (prefix < 4 && prefix < nx && prefix < ny && x[prefix] == y[prefix])
        prefix++;
    return jaro + prefix * 0.1 * (1.0 - jaro);
}

int ecif_edit_distance(const char *a, const char *b, int max)
{
    uint32_t x[COMPARE_MAX_CHARS], y[COMPARE_MAX_CHARS];
    int rows[3][COMPARE_MAX_CHARS + 1];
    size_t nx = decode(a, x);
    size_t ny = decode(b, y);
    int *prev2 = rows[0], *prev = rows[1], *cur = rows[2];

    if ((nx > ny ? nx - ny : ny - nx) > (size_t)max)
        return max + 1;
    for (size_t j = 0; j <= ny; j++)
        prev[j] = (int)j;
    for (size_t i = 1; i <= nx; i++) {
        int row_min;
        cur[0] = (int)i;
        row_min = cur[0];
        for (size_t j = 1; j <= ny; j++) {
            int cost = x[i - 1] == y[j - 1] ? 0 : 1;
            int best = prev[j] + 1;
            if (cur[j - 1] + 1 < best)
                best = cur[j - 1] + 1;
            if (prev[j - 1] + cost < best)
                best = prev[j - 1] + cost;
            if (i > 1 && j > 1 && x[i - 1] == y[j - 2] &&
                x[i - 2] == y[j - 1] && prev2[j - 2] + 1 < best)
                best = prev2[j - 2] + 1;
            cur[j] = best;
            if (best < row_min)
                row_min = best;
        }
        if (row_min > max)
            return max + 1;
        int *t = prev2;
        prev2 = prev;
        prev = cur;
        cur = t;
    }
    return prev[ny] > max ? max + 1 : prev[ny];
}
