/*
 * The audit history of customers. Events are kept in one array in
 * sequence order, and a query scans it once against the sorted numbers of
 * the customer. A steward's corrections arrive at human rates, so we
 * estimate that a scan per query costs less than an index per number.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "history.h"
#include "layout.h"
#include "status.h"

void ecif_history_init(ecif_history_t *h)
{
    memset(h, 0, sizeof(*h));
}

void ecif_history_fini(ecif_history_t *h)
{
    for (size_t i = 0; i < h->count; i++)
        ecif_history_discard(&h->events[i]);
    free(h->events);
    memset(h, 0, sizeof(*h));
}

int ecif_history_reserve(ecif_history_t *h)
{
    if (h->count < h->cap)
        return ECIF_OK;
    size_t cap = h->cap > 0 ? 2 * h->cap : 16;
    ecif_history_event_t *events = realloc(h->events, cap * sizeof(*events));
    if (events == NULL)
        return ECIF_ENOMEM;
    h->events = events;
    h->cap = cap;
    return ECIF_OK;
}

int ecif_history_prepare(ecif_history_event_t *ev, const char *actor,
                         const char *reason)
{
    ev->actor = strdup(actor != NULL ? actor : "");
    ev->reason = strdup(reason != NULL ? reason : "");
    if (ev->actor == NULL || ev->reason == NULL) {
        ecif_history_discard(ev);
        return ECIF_ENOMEM;
    }
    return ECIF_OK;
}

void ecif_history_discard(ecif_history_event_t *ev)
{
    free((char *)ev->actor);
    free((char *)ev->reason);
    ev->actor = NULL;
    ev->reason = NULL;
}

void ecif_history_commit(ecif_history_t *h, const ecif_history_event_t *ev)
{
    assert(h->count < h->cap);
    h->events[h->count++] = *ev;
}

static int compare_u64(const void *pa, const void *pb)
{
    uint64_t a = *(const uint64_t *)pa, b = *(const uint64_t *)pb;
    return a < b ? -1 : (a > b);
}

static bool has_number(const uint64_t *numbers, size_t n, uint64_t number)
{
    return number != 0 &&
           bsearch(&number, numbers, n, sizeof(*numbers), compare_u64) != NULL;
}

/*
 * Writes to *numbers (a new array, sorted) the customer's own number and
 * the numbers retired into it, and to *retired the retired ones as text.
 */
static int customer_numbers(const ecif_store_t *view, uint32_t customer,
                            uint64_t **numbers, size_t *n,
                            char (**retired)[ECIF_CUSTOMER_NUMBER_LEN + 1],
                            size_t *retired_count)
{
    size_t total = ecif_store_customer_history(view, customer, NULL, 0);

    *retired = calloc(total + 1, sizeof(**retired));
    *numbers = calloc(total + 1, sizeof(**numbers));
    if (*retired == NULL || *numbers == NULL) {
        free(*retired);
        free(*numbers);
        return ECIF_ENOMEM;
    }
    *retired_count =
        ecif_store_customer_history(view, customer, *retired, total);
    *n = 0;
    for (size_t i = 0; i < *retired_count; i++) {
        if (store_parse_customer_number((*retired)[i], &(*numbers)[*n]))
            (*n)++;
    }
    if (store_parse_customer_number(ecif_store_customer_number(view, customer),
                                    &(*numbers)[*n]))
        (*n)++;
    qsort(*numbers, *n, sizeof(**numbers), compare_u64);
    return ECIF_OK;
}

int ecif_history_collect(const ecif_history_t *log, const ecif_store_t *base,
                         const ecif_store_t *view, uint32_t customer,
                         ecif_history_event_t **out, size_t *count)
{
    char(*retired)[ECIF_CUSTOMER_NUMBER_LEN + 1] = NULL;
    uint64_t *numbers = NULL;
    size_t n = 0, retired_count = 0;
    size_t logged = log != NULL ? log->count : 0;

    *out = NULL;
    *count = 0;
    if (customer_numbers(view, customer, &numbers, &n, &retired,
                         &retired_count) != ECIF_OK)
        return ECIF_ENOMEM;
    ecif_history_event_t *events =
        calloc(retired_count + logged + 1, sizeof(*events));
    if (events == NULL) {
        free(retired);
        free(numbers);
        return ECIF_ENOMEM;
    }

    /* A number that the snapshot redirects was retired at import. The
     * others were retired by merges in the journal. */
    size_t k = 0;
    for (size_t i = 0; i < retired_count; i++) {
        char survivor[ECIF_CUSTOMER_NUMBER_LEN + 1];
        ecif_history_event_t *ev = &events[k];
        if (ecif_store_find_redirect(base, retired[i], survivor) != ECIF_OK ||
            !store_parse_customer_number(survivor, &ev->customer) ||
            !store_parse_customer_number(retired[i], &ev->other))
            continue;
        ev->kind = ECIF_HISTORY_IMPORT_MERGE;
        ev->actor = "";
        ev->reason = "";
        k++;
    }
    for (size_t i = 0; i < logged; i++) {
        const ecif_history_event_t *ev = &log->events[i];
        if (has_number(numbers, n, ev->customer) ||
            has_number(numbers, n, ev->other))
            events[k++] = *ev;
    }
    free(retired);
    free(numbers);
    *out = events;
    *count = k;
    return ECIF_OK;
}
