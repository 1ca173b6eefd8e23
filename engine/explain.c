/*
 * The summary sentence and the hard-conflict test of the Explain RPC.
 */
#include "explain.h"

#include <math.h>
#include <stdio.h>

bool ecif_explain_has_conflict(const ecif_evidence_t evidence[ECIF_FIELD_COUNT])
{
    for (int f = 0; f < ECIF_FIELD_COUNT; f++) {
        if (evidence[f].weight <= ECIF_EXPLAIN_CONFLICT_WEIGHT)
            return true;
    }
    return false;
}

/* Writes fields of one sign, largest absolute weight first; ties keep the
 * field order. Returns the count written. */
static int append_fields(const ecif_evidence_t evidence[ECIF_FIELD_COUNT],
                         bool positive, char *out, size_t outlen, size_t *len)
{
    bool used[ECIF_FIELD_COUNT] = {false};
    int written = 0;
    for (;;) {
        int best = -1;
        for (int f = 0; f < ECIF_FIELD_COUNT; f++) {
            double w = evidence[f].weight;
            if (used[f] || w == 0.0 || (w > 0.0) != positive)
                continue;
            if (best < 0 || fabs(w) > fabs(evidence[best].weight))
                best = f;
        }
        if (best < 0)
            return written;
        used[best] = true;

        size_t room = *len < outlen ? outlen - *len : 0;
        int n = snprintf(
            out + *len, room, "%s%s %s (%+.1f)", written > 0 ? ", " : "",
            ecif_field_str((ecif_field_t)best),
            ecif_level_str(evidence[best].level), evidence[best].weight);
        if (n > 0)
            *len += (size_t)n;
        written++;
    }
}

static int count_negative(const ecif_evidence_t evidence[ECIF_FIELD_COUNT])
{
    int n = 0;
    for (int f = 0; f < ECIF_FIELD_COUNT; f++)
        n += evidence[f].weight < 0.0;
    return n;
}

size_t ecif_explain_summary(ecif_verdict_t verdict,
                            const ecif_evidence_t evidence[ECIF_FIELD_COUNT],
                            char *out, size_t outlen)
{
    if (outlen == 0)
        return 0;
    size_t len = 0;
    int n = snprintf(out, outlen, "%s: ", ecif_verdict_str(verdict));
    if (n > 0)
        len = (size_t)n;

    int positive = append_fields(evidence, true, out, outlen, &len);
    if (positive > 0 && count_negative(evidence) > 0) {
        size_t room = len < outlen ? outlen - len : 0;
        n = snprintf(out + len, room, "; ");
        if (n > 0)
            len += (size_t)n;
    }
    int negative = append_fields(evidence, false, out, outlen, &len);
    if (positive == 0 && negative == 0) {
        size_t room = len < outlen ? outlen - len : 0;
        n = snprintf(out + len, room, "no field has a value on both sides");
        if (n > 0)
            len += (size_t)n;
    }

    if (len >= outlen)
        len = outlen - 1;
    out[len] = '\0';
    return len;
}
