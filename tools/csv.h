/*
 * A streaming CSV reader (RFC 4180) for source files of any size.
 *
 * Fields may be quoted with '"', a doubled quote inside a quoted field is
 * one quote, and quoted fields may hold the delimiter and newlines. Rows
 * end with LF, CRLF or a lone CR, and the last row may lack a line end.
 * A UTF-8 byte order mark at the start of the file is skipped. Spaces and
 * tabs around unquoted fields are trimmed (tabs only when the delimiter is
 * not a tab), so "a, b" reads as "a" and "b". Blank lines are skipped.
 *
 * Every row must have as many fields as the first row, and every field
 * must be valid UTF-8. A malformed row is read to its end and reported
 * with its line and character position (counted from 1), so the next
 * call continues with the following row.
 *
 * The reader owns the row it returns; the fields stay valid until the next
 * call to csv_reader_next() or csv_reader_destroy().
 */
#ifndef ECIF_TOOLS_CSV_H
#define ECIF_TOOLS_CSV_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Maximum bytes of one row; a longer row ends the reading. */
#define CSV_MAX_ROW_BYTES (1u << 20)

/* Maximum fields of one row. */
#define CSV_MAX_FIELDS 1024

typedef struct csv_reader csv_reader_t;

typedef struct csv_row {
    uint64_t line;       /* line of the row's first character, from 1 */
    size_t n_fields;     /* number of fields */
    char *const *fields; /* NUL-terminated field values */
} csv_row_t;

/*
 * Creates a reader over fp, which stays owned by the caller and must stay
 * open until the reader is destroyed. Returns ECIF_OK or ECIF_ENOMEM.
 */
int csv_reader_create(FILE *fp, char delimiter, csv_reader_t **out);

void csv_reader_destroy(csv_reader_t *reader);

/*
 * Reads the next row into *row. Returns 1 when a row was read and 0 at the
 * end of the input. ECIF_EINVAL rejects this row only (an unterminated
 * quote, a wrong field count, invalid UTF-8, text after a closing quote);
 * the next call continues after it. ECIF_ELIMIT (a row longer than
 * CSV_MAX_ROW_BYTES or with more than CSV_MAX_FIELDS fields) and ECIF_EIO
 * end the reading. On failure err names the line and character position.
 */
int csv_reader_next(csv_reader_t *reader, csv_row_t *row, char *err,
                    size_t errlen);

/*
 * Sets the field count every following row must have; 0 (the default)
 * takes the count of the first row read.
 */
void csv_reader_expect_fields(csv_reader_t *reader, size_t n_fields);

#endif
