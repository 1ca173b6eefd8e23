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

double ecif_jaro_winkler(const char *a, const char *b)
{
    uint32_t x[COMPARE_MAX_CHARS], y[COMPARE_MAX_CHARS];
    bool x_hit[COMPARE_MAX_CHARS] = {false};
    bool y_hit[COMPARE_MAX_CHARS] = {false};
    size_t nx = decode(a, x);
    size_t ny = decode(b, y);
    size_t window, matches = 0, transpositions = 0;

    if (nx == 0 || ny == 0)
        return nx == ny ? 1.0 : 0.0;
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
