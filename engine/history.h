/*
 * The audit history of customers: what happened to a customer number
 * after import.
 *
 * The corrections state keeps one event per journal entry it applied,
 * replayed at start or new. An event stores the entry's kind, sequence,
 * time, actor, reason, the customer numbers it touched and record counts.
 * It never stores the records, so its memory is bounded by the journal.
 * Numbers retired at import come from the snapshot's history and carry
 * no time. ecif_history_collect() puts both together for one customer.
 *
 * The log is written by the one writer of the corrections state and read
 * by calls that hold a view. ecif_history_reserve() and
 * ecif_history_commit() run under the state's lock for writing, so a
 * reader never sees the array move or an event half written.
 */
#ifndef ECIF_HISTORY_H
#define ECIF_HISTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "journal.h"
#include "store.h"

typedef enum ecif_history_kind {
    /* A number retired into the customer by a merge at import. */
    ECIF_HISTORY_IMPORT_MERGE = 0,
    ECIF_HISTORY_MERGE = ECIF_CORRECTION_MERGE,
    ECIF_HISTORY_SPLIT = ECIF_CORRECTION_SPLIT,
    ECIF_HISTORY_NOT_SAME = ECIF_CORRECTION_NOT_SAME,
    ECIF_HISTORY_ADD = ECIF_JOURNAL_ADD,
} ecif_history_kind_t;

/*
 * One event. Customer numbers are stored as their digits, resolved as the
 * entry's numbers led at the time:
 *   import merge  customer is the survivor at import, other the retired one.
 *   merge         customer is the survivor, other the retired number.
 *   split         customer is the one split from, other the new customer.
 *   not-same      customer is customer_a, other is customer_b.
 *   add           customer is the one joined or created, other is 0.
 */
typedef struct ecif_history_event {
    ecif_history_kind_t kind;
    uint64_t sequence; /* journal sequence, 0 for an import merge */
    int64_t time_us;   /* UTC microseconds since the epoch, 0 if unknown */
    const char *actor; /* "" when none was recorded */
    const char *reason;
    uint64_t customer;
    uint64_t other;
    uint32_t customer_records; /* records of customer afterwards */
    uint32_t other_records;    /* records of other afterwards */
    uint32_t moved_records;    /* records that changed customer */
    bool joined;               /* an add joined an existing customer */
} ecif_history_event_t;

/* The events of the journal entries applied, in sequence order. The
 * strings of each event are owned by the log. */
typedef struct ecif_history {
    ecif_history_event_t *events;
    size_t count;
    size_t cap;
} ecif_history_t;

void ecif_history_init(ecif_history_t *h);
void ecif_history_fini(ecif_history_t *h);

/*
 * Makes room for one more event, so that ecif_history_commit() cannot
 * fail. The caller excludes readers. Returns ECIF_OK or ECIF_ENOMEM.
 */
int ecif_history_reserve(ecif_history_t *h);

/*
 * Copies actor and reason (NULL as "") into new strings for ev->actor and
 * ev->reason, before the entry is journaled. Returns ECIF_OK or
 * ECIF_ENOMEM. An event that is not committed is given back with
 * ecif_history_discard().
 */
int ecif_history_prepare(ecif_history_event_t *ev, const char *actor,
                         const char *reason);
void ecif_history_discard(ecif_history_event_t *ev);

/*
 * Appends ev, whose strings the log takes over, after a reserve. The
 * caller excludes readers.
 */
void ecif_history_commit(ecif_history_t *h, const ecif_history_event_t *ev);

/*
 * Lists the events of customer (an id in view), oldest first. The numbers
 * retired into it at import (base is the store loaded from the snapshot)
 * come first. Every logged event whose customer or other is the
 * customer's number, or a number retired into it, follows. log may be
 * NULL when there is no corrections state. On ECIF_OK, *out is a new
 * array of *count events that the caller frees. Their strings belong to
 * log and stay valid while the caller holds view. Returns ECIF_OK or
 * ECIF_ENOMEM.
 */
int ecif_history_collect(const ecif_history_t *log, const ecif_store_t *base,
                         const ecif_store_t *view, uint32_t customer,
                         ecif_history_event_t **out, size_t *count);

#endif
