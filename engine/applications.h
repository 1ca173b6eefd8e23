/*
 * Duplicate applications (engine/APPLICATIONS.md): the ID numbers and
 * phones of a customer that many records updated in a recent window
 * share.
 */
#ifndef ECIF_APPLICATIONS_H
#define ECIF_APPLICATIONS_H

#include <stddef.h>
#include <stdint.h>

#include "resolve.h"
#include "store.h"

/* Other customers a signal names at most. */
#define ECIF_SIGNAL_CUSTOMERS 16
/* Signals one customer gets at most. */
#define ECIF_SIGNALS_MAX 16

typedef struct ecif_application_rule {
    int64_t now;        /* the call's time, Unix seconds */
    int64_t window_s;   /* records updated at or after now - window_s count */
    uint32_t threshold; /* records needed for a signal, at least 2 */
} ecif_application_rule_t;

typedef struct ecif_application_signal {
    ecif_field_t field; /* ECIF_FIELD_ID_NUMBER or ECIF_FIELD_PHONE */
    char hint[24];      /* the value's last four characters, the rest '*' */
    uint32_t records;   /* records carrying the value in the window */
    uint32_t customers; /* distinct customers among them */
    /* Numbers of the other customers among them, at most
     * ECIF_SIGNAL_CUSTOMERS. */
    char others[ECIF_SIGNAL_CUSTOMERS][ECIF_CUSTOMER_NUMBER_LEN + 1];
    uint32_t n_others;
    int64_t first; /* earliest updated_at of the records counted */
    int64_t last;  /* latest updated_at of the records counted */
} ecif_application_signal_t;

/*
 * Fills out[0..*count) with the signals of customer in store (a view
 * that may hold added records), at most max, ID numbers first. A
 * customer without signals gets *count 0. Returns ECIF_OK or ECIF_ENOMEM.
 */
int ecif_application_signals(const ecif_store_t *store, uint32_t customer,
                             const ecif_application_rule_t *rule,
                             ecif_application_signal_t *out, size_t max,
                             size_t *count);

#endif
