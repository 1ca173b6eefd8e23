/*
 * The corrections journal: an append-only file of the manual corrections
 * (merge, split, not-same) made on top of one snapshot.
 *
 * The file starts with a 32-byte header that names the snapshot it belongs
 * to (that snapshot's header checksum and size), so a journal is never
 * replayed over another snapshot. Entries follow one after another. Each
 * is framed by its body length and the CRC-32C of the body, and carries a
 * sequence number one higher than the entry before it. The layout is in
 * engine/CORRECTIONS.md.
 *
 * Entries name customers by number and records by source key, never by
 * in-memory id, so they stay meaningful after a re-import. A journal is
 * used by one thread at a time, so the caller serializes appends.
 *
 * One process at a time writes a journal. An open for appending holds an
 * exclusive flock(2) on the file until the close, and a tool that moves
 * or removes a journal takes the same lock with ecif_journal_lock first.
 * Read-only opens take no lock. The lock is advisory: it stops the
 * programs of this project, not other writers.
 */
#ifndef ECIF_JOURNAL_H
#define ECIF_JOURNAL_H

#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>

#include "store.h"

#define ECIF_JOURNAL_MAGIC "ECIFJRNL"
/* Version 2 added the add-record entry and the audit fields (time and
 * actor) of every entry, and version 3 an added record's update time.
 * Older files are still read, and the first append to one rewrites its
 * header to the current version. */
#define ECIF_JOURNAL_VERSION 3
/* Bytes of the file header. */
#define ECIF_JOURNAL_HEADER_BYTES 32
/* Bytes that frame each entry: body length and body CRC-32C. */
#define ECIF_JOURNAL_FRAME_BYTES 8
/* Maximum body size in bytes, large enough for a split of
 * ECIF_JOURNAL_MAX_KEYS keys. */
#define ECIF_JOURNAL_MAX_BODY (1u << 20)
/* Maximum number of source keys one split may name. */
#define ECIF_JOURNAL_MAX_KEYS 1024
/* Maximum length in bytes of a correction's reason. */
#define ECIF_JOURNAL_MAX_REASON 256
/* Maximum number of accounts of one added record. */
#define ECIF_JOURNAL_MAX_ACCOUNTS 256
/* Maximum length in bytes of an entry's actor. */
#define ECIF_JOURNAL_MAX_ACTOR 128

typedef enum ecif_correction_kind {
    ECIF_CORRECTION_MERGE = 1,
    ECIF_CORRECTION_SPLIT = 2,
    ECIF_CORRECTION_NOT_SAME = 3,
    /* Not a correction: a record added while serving, with its accounts
     * (engine/LIVE_ADDS.md). */
    ECIF_JOURNAL_ADD = 4,
} ecif_correction_kind_t;

typedef struct ecif_source_key {
    const char *source_system;
    const char *source_id;
} ecif_source_key_t;

/*
 * One entry: a correction or an add. customer_b is 0 for a split. Only a
 * split sets keys and key_count, and only an add sets record and accounts.
 * An add has no customers and no reason.
 *
 * time_us and actor are the audit fields. An append stamps time_us and
 * writes actor (NULL or empty for none). An entry read from a version 1
 * file, or written without them, has time_us 0 and actor "". In an entry
 * read from a file, the strings point into storage that the journal owns
 * until the next read or close.
 */
typedef struct ecif_journal_entry {
    uint64_t sequence;
    ecif_correction_kind_t kind;
    uint64_t customer_a; /* the digits of the customer number */
    uint64_t customer_b;
    const char *reason;
    const ecif_source_key_t *keys;
    uint32_t key_count;
    /* An add only: the record, with its source key, and its accounts. */
    const ecif_record_t *record;
    const ecif_account_t *accounts;
    uint32_t account_count;
    /* Wall-clock time of the append, UTC microseconds since the epoch. */
    int64_t time_us;
    const char *actor; /* requester, at most ECIF_JOURNAL_MAX_ACTOR bytes */
    /* A Merge only: merge although the customers are marked not the
     * same; the steward's newer decision replaces the older. */
    bool override_not_same;
} ecif_journal_entry_t;

typedef struct ecif_journal ecif_journal_t;

/* Which snapshot a journal belongs to. */
typedef struct ecif_journal_identity {
    uint32_t snapshot_crc;   /* header_crc of the snapshot */
    uint64_t snapshot_bytes; /* file size of the snapshot */
} ecif_journal_identity_t;

/* Fills *id with the identity of a store loaded from a snapshot file. */
void ecif_journal_identity_of(const ecif_store_t *store,
                              ecif_journal_identity_t *id);

/*
 * Opens the journal at path for reading and appending, creating it with
 * a header for id when it does not exist. An existing journal must carry
 * the same identity. Call ecif_journal_next until it returns 0 before
 * appending, because reading finds the end of the last whole entry.
 *
 * The journal holds the writer lock until ecif_journal_close. Returns
 * ECIF_OK, ECIF_EBUSY (another open file holds the lock, such as an ecifd
 * serving the journal), ECIF_EIO (errno text in err), ECIF_ECORRUPT (bad
 * header, or a journal of another snapshot) or ECIF_ENOMEM.
 */
int ecif_journal_open(const char *path, const ecif_journal_identity_t *id,
                      ecif_journal_t **out, char *err, size_t errlen);

/*
 * Opens the journal at path read-only, accepting any identity (which is
 * written to *id). Appending to it fails. Returns as ecif_journal_open,
 * and ECIF_ENOTFOUND when the file does not exist.
 */
int ecif_journal_open_read(const char *path, ecif_journal_identity_t *id,
                           ecif_journal_t **out, char *err, size_t errlen);

/* Closes the journal, releasing its lock. Accepts NULL. */
void ecif_journal_close(ecif_journal_t *journal);

/*
 * Writes the path of the journal that belongs to the snapshot at
 * snapshot_path: the snapshot's file with symbolic links resolved, plus
 * ".journal", so that every name of one snapshot leads to one journal and
 * one lock. A snapshot that does not exist yet is resolved through its
 * folder. Returns ECIF_OK, or ECIF_ELIMIT when the path does not fit.
 */
int ecif_journal_path_for(const char *snapshot_path, char *out, size_t outlen);

typedef struct ecif_journal_lock ecif_journal_lock_t;

/*
 * Takes the writer lock of the journal at path without opening it for
 * appending, for a caller that reads, moves or removes the file and must
 * not race a writer. The lock stays with the file when it is renamed and
 * is held until ecif_journal_unlock. Returns ECIF_OK, ECIF_EBUSY (another
 * open file holds the lock, possibly one of this process), ECIF_ENOTFOUND
 * (no file at path) or ECIF_EIO. On a read-only file system, where no
 * process can append, it succeeds without a lock.
 */
int ecif_journal_lock(const char *path, ecif_journal_lock_t **out, char *err,
                      size_t errlen);

/* Releases a lock of ecif_journal_lock. Accepts NULL. */
void ecif_journal_unlock(ecif_journal_lock_t *lock);

/*
 * Reads the next entry into *entry. Returns 1 with an entry, 0 at the end
 * of the journal, or ECIF_ECORRUPT. The journal is corrupt when an entry
 * fails its checksum, its sequence or its layout and whole entries follow
 * it, or when its length is above ECIF_JOURNAL_MAX_BODY. Then err names
 * the byte offset and the file is not changed.
 *
 * A torn last entry, as a crash in the middle of an append leaves it, ends
 * the journal. An append-mode journal truncates it away and sets
 * *torn_bytes to the bytes removed (torn_bytes may be NULL). A damaged
 * entry counts as torn only when no whole entry with a later sequence can
 * be found in the bytes after it.
 */
int ecif_journal_next(ecif_journal_t *journal, ecif_journal_entry_t *entry,
                      uint64_t *torn_bytes, char *err, size_t errlen);

/*
 * Appends an entry with the next sequence number and the current time
 * (written back to entry->sequence and entry->time_us) and flushes the
 * file with fdatasync before it returns. Returns ECIF_OK, ECIF_EINVAL (too many
 * keys, or a reason, actor or key too long, and err names which), or ECIF_EIO.
 * A failed append leaves the file as it was, truncating any partly written
 * bytes.
 */
int ecif_journal_append(ecif_journal_t *journal, ecif_journal_entry_t *entry,
                        char *err, size_t errlen);

/* Returns the sequence number of the last entry read or appended. */
uint64_t ecif_journal_last_sequence(const ecif_journal_t *journal);

/*
 * Encodes an entry body into buf (capacity cap) and returns its length, or
 * 0 when it does not fit or breaks a limit. The audit fields are written
 * only when time_us is above 0. Without them, the body is laid out as
 * version 1 wrote it. Exposed for tests of the framing.
 */
size_t ecif_journal_encode(const ecif_journal_entry_t *entry, uint8_t *buf,
                           size_t cap);

#endif
