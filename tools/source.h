/*
 * Source files as rows of records or accounts: the reader that ecifctl
 * import and the benchmark tools share.
 *
 * A source opens one CSV or JSONL file and binds a column mapping to its
 * columns: the header line, the mapping's @header, or the keys of JSONL
 * objects. It returns rows as ecif_record_t, or as ecif_account_t with
 * the source key of the record that owns the account. A cell may hold
 * several phones, emails or addresses separated by '|'; more than
 * ECIF_MAX_VALUES of them reject the row. Amounts are parsed with
 * ecif_amount_parse().
 *
 * Every string of a row, and the raw column values, stay valid until the
 * next call to source_next() or source_close().
 */
#ifndef ECIF_TOOLS_SOURCE_H
#define ECIF_TOOLS_SOURCE_H

#include <stddef.h>
#include <stdint.h>

#include "mapping.h"
#include "record.h"

typedef enum source_format {
    SOURCE_FORMAT_AUTO, /* by file name: .jsonl/.ndjson is JSONL, else CSV */
    SOURCE_FORMAT_CSV,
    SOURCE_FORMAT_JSONL,
} source_format_t;

typedef struct source_options {
    source_format_t format;
    /* CSV delimiter; '\0' takes the mapping's @delimiter, else ','. */
    char delimiter;
    /* Mapping of the columns; NULL reads the canonical layout. */
    const mapping_t *mapping;
    /* Called once per file with a warning, such as unused columns. */
    void (*warn)(void *arg, const char *path, const char *message);
    void *warn_arg;
} source_options_t;

typedef struct source source_t;

typedef struct source_row {
    uint64_t line;             /* line of the row in the file, from 1 */
    ecif_record_t record;      /* rows of MAPPING_RECORDS sources */
    ecif_account_t account;    /* rows of MAPPING_ACCOUNTS sources */
    const char *source_system; /* owner of the account */
    const char *source_id;
    /* Raw column values of the row, NULL for a missing JSONL key. */
    size_t n_columns;
    const char *const *columns;
    const char *const *values;
} source_row_t;

/*
 * Opens path as a file of kind. Returns ECIF_OK, ECIF_EIO (cannot open or
 * read the header), ECIF_EINVAL (a malformed header, an unknown mapped
 * column, a missing required column) or ECIF_ENOMEM, with the path in err.
 */
int source_open(const char *path, mapping_kind_t kind,
                const source_options_t *opts, source_t **out, char *err,
                size_t errlen);

void source_close(source_t *source);

/*
 * Reads the next row. Returns 1 when a row was read and 0 at the end of
 * the file. ECIF_EINVAL rejects this row only; err then has the form
 * "column 'C': ..." or names a line and column, row->line is set, and the
 * next call reads the next row. ECIF_ELIMIT, ECIF_EIO and ECIF_ENOMEM end
 * the reading.
 */
int source_next(source_t *source, source_row_t *row, char *err, size_t errlen);

/*
 * Names the source of field in messages: the column the mapping reads it
 * from, or the mapping expression. Valid until source_close().
 */
const char *source_column_name(const source_t *source, mapping_field_t field);

/* Returns the file's path as given to source_open(). */
const char *source_path(const source_t *source);

#endif
