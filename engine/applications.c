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
    size_t visible = n < 4 ? n : 4;
    size_t stars = n - visible;

    if (stars + visible + 1 > len)
        stars = len - visible - 1;
    memset(hint, '*', stars);
    memcpy(hint + stars, text + n - visible, visible);
    hint[stars + visible] = '\0';
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

/* The records of one value counted so far, for visit_record. */
struct tally {
    const ecif_store_t *store;
    const struct value *value;
    const ecif_application_rule_t *rule;
    ecif_application_signal_t *sig;
    uint32_t *customers; /* the customer of each record counted */
    size_t cap;
    bool failed; /* out of memory */
};

/* Counts record if it carries the value and was updated in the window. */
static void visit_record(void *arg, uint32_t record)
{
    struct tally *t = arg;
    ecif_application_signal_t *sig = t->sig;
    ecif_record_t rec;

    ecif_store_get_record(t->store, record, &rec);
    if (rec.updated_at == 0 ||
        rec.updated_at < t->rule->now - t->rule->window_s ||
        !record_carries(t->store, record, t->value))
        return;
    if (sig->records == t->cap) {
        size_t cap = t->cap * 2 + 64;
        uint32_t *grown = realloc(t->customers, cap * sizeof(*grown));
        if (grown == NULL) {
            t->failed = true;
            return;
        }
        t->customers = grown;
        t->cap = cap;
    }
    t->customers[sig->records++] = ecif_store_record_customer(t->store, record);
    if (sig->records == 1 || rec.updated_at < sig->first)
        sig->first = rec.updated_at;
    if (rec.updated_at > sig->last)
        sig->last = rec.updated_at;
}

static int compare_u32(const void *pa, const void *pb)
{
    uint32_t a = *(const uint32_t *)pa, b = *(const uint32_t *)pb;
    return a < b ? -1 : a > b;
}

/*
 * Fills *sig with the records of every customer that carry v and were
 * updated in the window. Sets *reached to whether they reach the
 * threshold. Returns ECIF_OK or ECIF_ENOMEM.
 */
static int count_value(const ecif_store_t *s, uint32_t customer,
                       const struct value *v,
                       const ecif_application_rule_t *rule,
                       ecif_application_signal_t *sig, bool *reached)
{
    struct tally t = {.store = s, .value = v, .rule = rule, .sig = sig};

    memset(sig, 0, sizeof(*sig));
    *reached = false;
    if (!match_each_value_record(s, v->type, v->text, visit_record, &t))
        return ECIF_OK;
    if (t.failed) {
        free(t.customers);
        return ECIF_ENOMEM;
    }
    /* Distinct customers; the others named in customer id order. */
    if (sig->records > 1)
        qsort(t.customers, sig->records, sizeof(*t.customers), compare_u32);
    for (uint32_t i = 0; i < sig->records; i++) {
        uint32_t c = t.customers[i];
        if (i > 0 && c == t.customers[i - 1])
            continue;
        sig->customers++;
        if (c != customer && sig->n_others < ECIF_SIGNAL_CUSTOMERS)
            snprintf(sig->others[sig->n_others++], sizeof(sig->others[0]), "%s",
                     ecif_store_customer_number(s, c));
    }
    free(t.customers);
    sig->field = v->type == 'I' ? ECIF_FIELD_ID_NUMBER : ECIF_FIELD_PHONE;
    mask(v->text, sig->hint, sizeof(sig->hint));
    *reached = sig->records >= rule->threshold;
    return ECIF_OK;
}

int ecif_application_signals(const ecif_store_t *store, uint32_t customer,
                             const ecif_application_rule_t *rule,
                             ecif_application_signal_t *out, size_t max,
                             size_t *count)
{
    enum { VALUES_MAX = 64 };
    struct value values[2 * VALUES_MAX]; /* ID numbers, then phones */
    struct value phones[VALUES_MAX];
    size_t n_values = 0, n_phones = 0;
    uint32_t n_records = 0;
    const uint32_t *records =
        ecif_store_customer_records(store, customer, &n_records);

    *count = 0;
    for (uint32_t i = 0; i < n_records; i++) {
        uint32_t quality = ecif_store_record_quality(store, records[i]);
        match_view_t view;
        match_view_stored(store, records[i], &view);
        if (strlen(view.id) >= 4 &&
            (quality & ECIF_QUALITY_ID_PLACEHOLDER) == 0)
            add_value(values, &n_values, VALUES_MAX, 'I', view.id);
        if ((quality & ECIF_QUALITY_PHONE_PLACEHOLDER) != 0)
            continue;
        for (uint32_t p = 0; p < view.n_phones; p++)
            add_value(phones, &n_phones, VALUES_MAX, 'P', view.phones[p]);
    }
    /* ID numbers lead the signals. */
    memcpy(values + n_values, phones, n_phones * sizeof(phones[0]));
    n_values += n_phones;

    for (size_t i = 0; i < n_values && *count < max; i++) {
        bool reached;
        int rc = count_value(store, customer, &values[i], rule, &out[*count],
                             &reached);
        if (rc != ECIF_OK)
            return rc;
        if (reached)
            (*count)++;
    }
    return ECIF_OK;
}
