/*
 * A streaming reader of JSON Lines: one flat JSON object per line.
 *
 * Member values may be strings, numbers (kept as their literal text, for
 * amounts), null, or arrays of strings and numbers. An array reads as one
 * value with its elements separated by '|', the separator of several
 * values in a CSV cell, so an element that contains '|' is rejected.
 * Booleans, nested objects and nested arrays are rejected. String escapes
 * are decoded, including \uXXXX surrogate pairs, and strings must be
 * valid UTF-8. Blank lines are skipped, a UTF-8 byte order mark at the
 * start and a CR before each LF are accepted.
 *
 * The reader owns the row it returns; it stays valid until the next call
 * to jsonl_reader_next() or jsonl_reader_destroy().
 */
#ifndef ECIF_TOOLS_JSONL_H
#define ECIF_TOOLS_JSONL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Maximum bytes of one line; a longer line ends the reading. */
#define JSONL_MAX_LINE_BYTES (1u << 20)

/* Maximum members of one object. */
#define JSONL_MAX_MEMBERS 256

typedef struct jsonl_member {
    const char *key;
    const char *value; /* NULL for null */
} jsonl_member_t;

typedef struct jsonl_row {
    uint64_t line; /* from 1 */
    size_t n_members;
    const jsonl_member_t *members;
} jsonl_row_t;

typedef struct jsonl_reader jsonl_reader_t;

/*
 * Creates a reader over fp, which stays owned by the caller and must stay
 * open until the reader is destroyed. Returns ECIF_OK or ECIF_ENOMEM.
 */
int jsonl_reader_create(FILE *fp, jsonl_reader_t **out);

void jsonl_reader_destroy(jsonl_reader_t *reader);

/*
 * Reads the next object into *row. Returns 1 when a row was read and 0 at
 * the end of the input. ECIF_EINVAL rejects this line only, with "line N,
 * key 'K': ..." (or "line N, character C: ..." outside a member) in err; the
 * next call reads the next line. ECIF_ELIMIT (a line longer than
 * JSONL_MAX_LINE_BYTES) and ECIF_EIO end the reading.
 */
int jsonl_reader_next(jsonl_reader_t *reader, jsonl_row_t *row, char *err,
                      size_t errlen);

#endif
