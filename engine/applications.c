/*
 * Duplicate applications: for each ID number and phone of a customer,
 * the records of any customer that carry it and were updated within the
 * window (engine/APPLICATIONS.md).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "applications.h"
#include "layout.h"
#include "match.h"
#include "quality.h"
#include "status.h"

/* One identifier value of the customer, to look up once. */
struct value {
    char type; /* 'I' or 'P', as match_gather_value takes it */
    char text[64];
};

/* Writes the last four characters of text, the rest as '*', into hint. */
static void mask(const char *text, char *hint, size_t len)
{
    size_t n = strlen(text);
    size_t shown = n < 4 ? n : 4;
    size_t stars = n - shown;

    if (stars + shown + 1 > len)
        stars = len - shown - 1;
    memset(hint, '*', stars);
    memcpy(hint + stars, text + n - shown, shown);
    hint[stars + shown] = '\0';
}

/* Adds v to values unless it is there or values is full. */
static void add_value(struct value *values, size_t *n, size_t max, char type,
                      const char *text)
{
    for (size_t i = 0; i < *n; i++) {
        if (values[i].type == type && strcmp(values[i].text, text) == 0)
            return;
    }
    if (*n >= max || strlen(text) >= sizeof(values[0].text))
        return;
    values[*n].type = type;
    strcpy(values[*n].text, text);
    (*n)++;
}

/* True when record r of s carries value v. */
static bool record_carries(const ecif_store_t *s, uint32_t r,
                           const struct value *v)
{
    match_view_t view;
    match_view_stored(s, r, &view);
    if (v->type == 'I')
        return strcmp(view.id, v->text) == 0;
    for (uint32_t i = 0; i < view.n_phones; i++) {
        if (strcmp(view.phones[i], v->text) == 0)
            return true;
    }
    return false;
}

/* Fills *sig from the records of candidates that carry v in the window.
 * Returns whether they reach the threshold. */
static bool count_value(const ecif_store_t *s, uint32_t customer,
                        const struct value *v, const match_candidates_t *cand,
                        const ecif_application_rule_t *rule,
                        ecif_application_signal_t *sig)
{
    uint32_t seen[MAX_QUERY_CANDIDATES];
    uint32_t n_seen = 0;

    memset(sig, 0, sizeof(*sig));
    for (uint32_t i = 0; i < cand->count; i++) {
        uint32_t r = cand->ids[i];
        ecif_record_t rec;
        ecif_store_get_record(s, r, &rec);
        if (rec.updated_at == 0 || rec.updated_at < rule->now - rule->window_s)
            continue;
        if (!record_carries(s, r, v))
            continue;
        if (sig->records == 0 || rec.updated_at < sig->first)
            sig->first = rec.updated_at;
        if (rec.updated_at > sig->last)
            sig->last = rec.updated_at;
        sig->records++;
        uint32_t c = ecif_store_record_customer(s, r);
        bool known = false;
        for (uint32_t k = 0; k < n_seen && !known; k++)
            known = seen[k] == c;
        if (known)
            continue;
        seen[n_seen++] = c;
        if (c != customer && sig->n_others < ECIF_SIGNAL_CUSTOMERS)
            snprintf(sig->others[sig->n_others++], sizeof(sig->others[0]), "%s",
                     ecif_store_customer_number(s, c));
    }
    sig->customers = n_seen;
    sig->field = v->type == 'I' ? ECIF_FIELD_ID_NUMBER : ECIF_FIELD_PHONE;
    mask(v->text, sig->hint, sizeof(sig->hint));
    return sig->records >= rule->threshold;
}

int ecif_application_signals(const ecif_store_t *store, uint32_t customer,
                             const ecif_application_rule_t *rule,
                             ecif_application_signal_t *out, size_t max,
                             size_t *count)
{
    enum { VALUES_MAX = 64 };
    struct value values[VALUES_MAX];
    size_t n_values = 0;
    uint32_t n_records = 0;
    const uint32_t *records =
        ecif_store_customer_records(store, customer, &n_records);

    *count = 0;
    /* ID numbers first, so that they lead the signals. */
    for (int pass = 0; pass < 2; pass++) {
        for (uint32_t i = 0; i < n_records; i++) {
            uint32_t quality = ecif_store_record_quality(store, records[i]);
            match_view_t view;
            match_view_stored(store, records[i], &view);
            if (pass == 0 && strlen(view.id) >= 4 &&
                (quality & ECIF_QUALITY_ID_PLACEHOLDER) == 0)
                add_value(values, &n_values, VALUES_MAX, 'I', view.id);
            if (pass == 1 && (quality & ECIF_QUALITY_PHONE_PLACEHOLDER) == 0) {
                for (uint32_t p = 0; p < view.n_phones; p++)
                    add_value(values, &n_values, VALUES_MAX, 'P',
                              view.phones[p]);
            }
        }
    }

    match_candidates_t *cand = malloc(sizeof(*cand));
    if (cand == NULL)
        return ECIF_ENOMEM;
    for (size_t i = 0; i < n_values && *count < max; i++) {
        if (!match_gather_value(store, values[i].type, values[i].text, cand))
            continue;
        if (count_value(store, customer, &values[i], cand, rule, &out[*count]))
            (*count)++;
    }
    free(cand);
    return ECIF_OK;
}
