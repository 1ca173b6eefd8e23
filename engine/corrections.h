/*
 * Manual corrections over a loaded store: merge two customers, split
 * records out into a new customer, mark two customers as not the same.
 *
 * The loaded store stays read-only. Each correction builds a new store
 * view (copy-on-write of the customer tables: customers, members,
 * exposure, history, links and a record-to-customer map) that shares the
 * records, strings and key index with the loaded store, and publishes it
 * under a mutex. Readers take a counted reference to the current view
 * with ecif_corrections_acquire() and see one whole view for the length
 * of a call, never a correction half applied. engine/CORRECTIONS.md has
 * the design, the journal layout and how import honours corrections.
 *
 * Corrections are serialized by the same mutex; with a journal attached,
 * each one is appended and fsynced before it is published.
 */
#ifndef ECIF_CORRECTIONS_H
#define ECIF_CORRECTIONS_H

#include <stddef.h>
#include <stdint.h>

#include "journal.h"
#include "store.h"

typedef struct ecif_corrections ecif_corrections_t;

/*
 * Most cannot-link pairs one correction may add: a not-same of customers
 * with a and b records adds a * b pairs.
 */
#define ECIF_CORRECTION_MAX_PAIRS 65536

/* What a correction changed. */
typedef struct ecif_correction_result {
    uint64_t sequence; /* of the journal entry, 0 without a journal */
    /* merge: the surviving customer; split: the customer split from;
     * not-same: customer_a. */
    char customer[ECIF_CUSTOMER_NUMBER_LEN + 1];
    /* merge: the retired number; split: the new customer; not-same:
     * customer_b. */
    char other[ECIF_CUSTOMER_NUMBER_LEN + 1];
    uint32_t customer_records; /* records of customer afterwards */
    uint32_t other_records;    /* records of other afterwards (0: merged) */
    uint32_t moved_records;    /* records that changed customer */
    uint32_t links_added;      /* constraints the correction added */
} ecif_correction_result_t;

/*
 * Creates the corrections state over base, which must outlive it. The
 * first view is base itself, with the links base carries. Returns ECIF_OK
 * or ECIF_ENOMEM.
 */
int ecif_corrections_create(const ecif_store_t *base, ecif_corrections_t **out,
                            char *err, size_t errlen);

/*
 * Frees the state and the current view. Every acquired view must have
 * been released. Closes an attached journal. Accepts NULL.
 */
void ecif_corrections_destroy(ecif_corrections_t *c);

/*
 * Applies every entry of journal in order, as they were applied when they
 * were written, without writing them again. Sets *applied to the number
 * of entries. Returns ECIF_OK, or the status of the first entry or read
 * that failed, with err naming its sequence number or byte offset; a
 * journal entry that no longer applies means the journal does not belong
 * to this snapshot.
 */
int ecif_corrections_replay(ecif_corrections_t *c, ecif_journal_t *journal,
                            uint64_t *applied, uint64_t *torn_bytes, char *err,
                            size_t errlen);

/*
 * Attaches a journal, read to its end, that every later correction is
 * appended to before it is published. Takes ownership of journal.
 */
void ecif_corrections_attach_journal(ecif_corrections_t *c,
                                     ecif_journal_t *journal);

/*
 * Applies one correction. Customers may be given by retired numbers,
 * which lead to the customer that now holds them. entry->reason is kept
 * in the journal only. Returns ECIF_OK with *result filled, or:
 *   ECIF_EINVAL     a malformed number or key, a split of no records, of
 *                   a record named twice, or of every record;
 *   ECIF_ENOTFOUND  an unknown customer or record;
 *   ECIF_ECONFLICT  both numbers lead to one customer, a merge of
 *                   customers marked not the same, or a split record that
 *                   belongs to another customer;
 *   ECIF_ELIMIT     more than ECIF_CORRECTION_MAX_PAIRS new pairs;
 *   ECIF_EIO        the journal append failed; nothing changed;
 *   ECIF_ENOMEM.
 * err names the request field (customer_a, customer_b, customer_number,
 * records[i]) and the value. A failed call changes nothing.
 */
int ecif_corrections_apply(ecif_corrections_t *c,
                           const ecif_journal_entry_t *entry,
                           ecif_correction_result_t *result, char *err,
                           size_t errlen);

/*
 * Returns the current view with a reference that the caller gives back
 * with ecif_corrections_release(). The view stays valid and unchanged
 * until then, whatever corrections follow.
 */
const ecif_store_t *ecif_corrections_acquire(ecif_corrections_t *c);

void ecif_corrections_release(ecif_corrections_t *c, const ecif_store_t *view);

#endif
