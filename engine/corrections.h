/*
 * Manual corrections over a loaded store (merge two customers, split
 * records out into a new customer, mark two customers as not the same)
 * and records added one at a time while serving.
 *
 * The loaded store stays read-only. Each correction builds a new store
 * view (copy-on-write of the customer tables: customers, members,
 * exposure, history, links and a record-to-customer map) that shares the
 * records, strings and key index with the loaded store. An add changes
 * only a delta of added records that every view shares (engine/delta.h).
 * Readers hold the current view with ecif_corrections_acquire(), under a
 * reader-writer lock, and see one whole state for the length of a call,
 * never a correction or an add half applied. engine/CORRECTIONS.md and
 * engine/LIVE_ADDS.md have the design and the journal layout.
 *
 * Writers are serialized. With a journal attached, each entry is appended
 * and fsynced before it is published.
 */
#ifndef ECIF_CORRECTIONS_H
#define ECIF_CORRECTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "history.h"
#include "journal.h"
#include "resolve.h"
#include "store.h"

typedef struct ecif_corrections ecif_corrections_t;

/*
 * Maximum number of cannot-link pairs one correction may add. A not-same
 * of customers with a and b records adds a * b pairs.
 */
#define ECIF_CORRECTION_MAX_PAIRS 65536

/* Changes a correction made. */
typedef struct ecif_correction_result {
    uint64_t sequence; /* of the journal entry, 0 without a journal */
    /* The surviving customer of a merge, the customer split from, or
     * customer_a of a not-same. */
    char customer[ECIF_CUSTOMER_NUMBER_LEN + 1];
    /* The retired number of a merge, the new customer of a split, or
     * customer_b of a not-same. */
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
 * that failed, with err naming its sequence number or byte offset. A
 * journal entry that no longer applies means that the journal does not
 * belong to this snapshot.
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
 * which lead to the customer that now contains them. entry->reason and
 * entry->actor are kept in the journal and the history only. Returns
 * ECIF_OK with *result filled, or:
 *   ECIF_EINVAL     a malformed number or key, or a split of no records,
 *                   of a record named twice or of every record.
 *   ECIF_ENOTFOUND  an unknown customer or record.
 *   ECIF_ECONFLICT  both numbers lead to one customer, a merge of
 *                   customers marked not the same, or a split record that
 *                   belongs to another customer.
 *   ECIF_ELIMIT     more than ECIF_CORRECTION_MAX_PAIRS new pairs, or an
 *                   exposure total of the merged customer overflows.
 *   ECIF_EIO        the journal append failed, and nothing changed.
 *   ECIF_ENOMEM.
 * err names the request field (customer_a, customer_b, customer_number,
 * records[i]) and the value. A failed call changes nothing.
 */
int ecif_corrections_apply(ecif_corrections_t *c,
                           const ecif_journal_entry_t *entry,
                           ecif_correction_result_t *result, char *err,
                           size_t errlen);

/* Maximum number of candidates an add reports. */
#define ECIF_ADD_CANDIDATES 4

/* Outcome of an add. */
typedef struct ecif_add_result {
    uint64_t sequence; /* of the journal entry, 0 without a journal */
    /* The customer the record joined or that was created for it. */
    char customer[ECIF_CUSTOMER_NUMBER_LEN + 1];
    bool joined;    /* joined an existing customer */
    bool ambiguous; /* several MATCHes within the margin */
    /* The best customer was a MATCH, but one of its records can never be
     * this person (match_records_conflict), so a new customer was made. */
    bool conflict;
    uint32_t customer_records; /* records of customer afterwards */
    /* Resolve's candidates for the record before it was added, best
     * first. When joined, candidates[0] is the customer joined. Their
     * customer ids are stale after the call, so use the numbers. */
    size_t candidate_count;
    ecif_candidate_t candidates[ECIF_ADD_CANDIDATES];
    char candidate_numbers[ECIF_ADD_CANDIDATES][ECIF_CUSTOMER_NUMBER_LEN + 1];
    /* Source keys of each candidate's matched records. The strings
     * point into the state and are valid until the next write. */
    ecif_source_key_t matched[ECIF_ADD_CANDIDATES][ECIF_MAX_MATCHED];
} ecif_add_result_t;

/*
 * Adds a record and its accounts to the running state. The record is
 * resolved against the current view as ecif_resolve() does it. It joins
 * the best customer when that one is a MATCH and contains no record that
 * conflicts with it (two valid resident IDs, two suffixes, or two
 * generations at one household, as import refuses), and an ambiguous
 * MATCH has already been downgraded to POSSIBLE_MATCH. Otherwise it becomes a
 * new customer with a number never issued before. It never merges customers.
 * With a journal attached, the entry is appended and fsynced before the
 * add is published, and actor (NULL or empty for none) is journaled with
 * it. Returns ECIF_OK with *result filled, or:
 *   ECIF_EINVAL  the record or an account fails validation (err names
 *                the field and the value), too many accounts, or an
 *                account id twice.
 *   ECIF_EEXIST  a record with this source key is stored or was added.
 *   ECIF_ELIMIT  the record ids or the delta tables are used up, or an
 *                exposure total of the joined customer overflows.
 *   ECIF_EIO     the journal append failed.
 *   ECIF_ENOMEM.
 * A failed call changes nothing. Must not be called by a thread that
 * holds a view from ecif_corrections_acquire().
 */
int ecif_corrections_add(ecif_corrections_t *c, const ecif_record_t *rec,
                         const ecif_account_t *accounts, uint32_t account_count,
                         const char *actor, ecif_add_result_t *result,
                         char *err, size_t errlen);

/* Returns the number of records added since the snapshot was loaded. */
uint32_t ecif_corrections_added_count(ecif_corrections_t *c);

/*
 * Returns the current view, holding the state's lock for reading until
 * the caller gives it back with ecif_corrections_release(). The view
 * stays valid and unchanged until then: a correction or an add waits for
 * it. A thread holding a view must neither acquire another nor apply a
 * correction or an add.
 */
const ecif_store_t *ecif_corrections_acquire(ecif_corrections_t *c);

void ecif_corrections_release(ecif_corrections_t *c, const ecif_store_t *view);

/*
 * Returns the history of the entries applied, replayed or new, for
 * ecif_history_collect(). Read it only while holding a view, because a
 * writer appends to it only under the write lock, which a view blocks.
 */
const ecif_history_t *ecif_corrections_history(const ecif_corrections_t *c);

#endif
