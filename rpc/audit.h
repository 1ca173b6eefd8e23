/*
 * The audit log of ecifd --audit-log: one line per CustomerIndex call with
 * the principal, the method, the status, the server time and the customer
 * numbers involved, never a record value (rpc/ACCESS.md).
 */
#ifndef ECIF_RPC_AUDIT_H
#define ECIF_RPC_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct ecif_audit ecif_audit_t;

/*
 * Opens path for appending, creating it with mode 0600. Returns ECIF_OK or
 * ECIF_EIO with the reason in err.
 */
int ecif_audit_open(const char *path, ecif_audit_t **out, char *err,
                    size_t errlen);

/*
 * Opens the file at the same path again, for a log rotator that moved it
 * away. The old file stays in use when the new one cannot be opened.
 * Returns ECIF_OK or ECIF_EIO with the reason in err. Thread-safe with
 * ecif_audit_write.
 */
int ecif_audit_reopen(ecif_audit_t *audit, char *err, size_t errlen);

/*
 * Appends one line with one write(2): the UTC time, principal (NULL is
 * written "-"), method, status name, server time in microseconds and
 * customers, a comma-separated list ("" for none). Thread-safe. Returns
 * ECIF_OK or ECIF_EIO; failed writes are also counted.
 */
int ecif_audit_write(ecif_audit_t *audit, const char *principal,
                     const char *method, const char *status, uint64_t micros,
                     const char *customers);

/*
 * Writes one line counting the calls without a valid token whose lines
 * were left out (at most 20 such lines are written a second), when there
 * were any. ecif_audit_write calls it before the next such line, ecifd
 * once a minute, and ecif_audit_close at the end. Returns ECIF_OK or
 * ECIF_EIO.
 */
int ecif_audit_report_suppressed(ecif_audit_t *audit);

/* Returns whether the open file is private to its owner: neither group
 * nor others may read or write it. */
bool ecif_audit_private(const ecif_audit_t *audit);

/* Returns the number of lines that could not be written, and sets it back
 * to 0. */
uint64_t ecif_audit_take_failures(ecif_audit_t *audit);

/* Closes the file and frees the log. Accepts NULL. */
void ecif_audit_close(ecif_audit_t *audit);

#endif
