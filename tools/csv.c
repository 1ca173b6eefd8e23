/*
 * The CSV reader: a byte-at-a-time state machine over a 64 KiB input
 * buffer. Field bytes are appended to one growing row buffer, each field
 * ended by a NUL, so a row costs no allocation once the buffers have grown
 * to the largest row. UTF-8 is checked on the same pass, and the first
 * error of a row is kept while the row is read to its end, which keeps the
 * reader in step with the rows after a malformed one.
 */
#include "csv.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "status.h"

#define CSV_INPUT_BYTES (64u * 1024u)

enum csv_state {
    CSV_FIELD_START, /* before the first character of a field */
    CSV_UNQUOTED,    /* inside an unquoted field */
    CSV_QUOTED,      /* inside a quoted field */
    CSV_QUOTE_SEEN,  /* a quote inside a quoted field: end or doubled */
    CSV_AFTER_QUOTE, /* after the closing quote, before the delimiter */
};

struct csv_reader {
    FILE *fp;
    char delimiter;
    unsigned char input[CSV_INPUT_BYTES];
    size_t input_pos;
    size_t input_len;
    bool eof;
    bool read_error;
    int read_errno;
    bool at_start; /* nothing read yet: a byte order mark may follow */

    /* Position of the next byte; col counts characters from 1. */
    uint64_t line;
    uint64_t col;
    bool after_cr; /* an LF right after a CR ends no extra line */

    char *row; /* field bytes, each field ended by NUL */
    size_t row_len;
    size_t row_cap;
    size_t *starts; /* offset in row of each field */
    char **fields;  /* pointers handed out in csv_row_t */
    size_t n_fields;
    size_t fields_cap;
    size_t field_end; /* row_len after the last non-blank byte */
    size_t expected;  /* fields per row; 0 until known */

    /* UTF-8 check: continuation bytes still due and the range of the next */
    unsigned utf8_need;
    unsigned char utf8_lo;
    unsigned char utf8_hi;

    /* The first error of the current row. */
    bool row_failed;
    int row_status;
    char row_err[256];
};

int csv_reader_create(FILE *fp, char delimiter, csv_reader_t **out)
{
    csv_reader_t *r = calloc(1, sizeof(*r));
    if (r == NULL)
        return ECIF_ENOMEM;
    r->fp = fp;
    r->delimiter = delimiter;
    r->at_start = true;
    r->line = 1;
    r->col = 1;
    *out = r;
    return ECIF_OK;
}

void csv_reader_destroy(csv_reader_t *reader)
{
    if (reader == NULL)
        return;
    free(reader->row);
    free(reader->starts);
    free(reader->fields);
    free(reader);
}

void csv_reader_expect_fields(csv_reader_t *reader, size_t n_fields)
{
    reader->expected = n_fields;
}

/* Returns the next input byte, -1 at the end of the input or on error. */
static int csv_getc(csv_reader_t *r)
{
    if (r->input_pos == r->input_len) {
        if (r->eof)
            return -1;
        r->input_len = fread(r->input, 1, sizeof(r->input), r->fp);
        r->input_pos = 0;
        if (r->input_len < sizeof(r->input)) {
            r->eof = true;
            if (ferror(r->fp)) {
                r->read_error = true;
                r->read_errno = errno;
            }
        }
        if (r->input_len == 0)
            return -1;
    }
    return r->input[r->input_pos++];
}

static int csv_peekc(csv_reader_t *r)
{
    int c = csv_getc(r);
    if (c >= 0)
        r->input_pos--;
    return c;
}

/* Keeps the first error of the row; later ones add nothing. */
static void csv_row_error(csv_reader_t *r, int status, uint64_t line,
                          uint64_t col, const char *what)
{
    if (r->row_failed)
        return;
    r->row_failed = true;
    r->row_status = status;
    snprintf(r->row_err, sizeof(r->row_err), "line %llu, character %llu: %s",
             (unsigned long long)line, (unsigned long long)col, what);
}

static bool csv_push_byte(csv_reader_t *r, char c)
{
    if (r->row_len + 1 >= r->row_cap) {
        if (r->row_cap >= CSV_MAX_ROW_BYTES)
            return false;
        size_t cap = r->row_cap ? r->row_cap * 2 : 256;
        char *row = realloc(r->row, cap);
        if (row == NULL)
            return false;
        r->row = row;
        r->row_cap = cap;
    }
    r->row[r->row_len++] = c;
    return true;
}

static bool csv_begin_field(csv_reader_t *r)
{
    if (r->n_fields == r->fields_cap) {
        if (r->fields_cap >= CSV_MAX_FIELDS)
            return false;
        size_t cap = r->fields_cap ? r->fields_cap * 2 : 16;
        size_t *starts = realloc(r->starts, cap * sizeof(*starts));
        if (starts == NULL)
            return false;
        r->starts = starts;
        char **fields = realloc(r->fields, cap * sizeof(*fields));
        if (fields == NULL)
            return false;
        r->fields = fields;
        r->fields_cap = cap;
    }
    r->starts[r->n_fields++] = r->row_len;
    r->field_end = r->row_len;
    return true;
}

/* Ends the current field, dropping trailing blanks of unquoted text. */
static bool csv_end_field(csv_reader_t *r)
{
    r->row_len = r->field_end;
    return csv_push_byte(r, '\0');
}

/*
 * Feeds one byte to the UTF-8 check. Sets a row error at the current
 * position for a byte that cannot appear there.
 */
static void csv_check_utf8(csv_reader_t *r, unsigned char b)
{
    if (r->utf8_need > 0) {
        if (b >= r->utf8_lo && b <= r->utf8_hi) {
            r->utf8_need--;
            r->utf8_lo = 0x80;
            r->utf8_hi = 0xBF;
            return;
        }
        csv_row_error(r, ECIF_EINVAL, r->line, r->col,
                      "invalid UTF-8: a multi-byte character is cut short");
        r->utf8_need = 0;
    }
    if (b == 0)
        csv_row_error(r, ECIF_EINVAL, r->line, r->col, "NUL byte in a field");
    if (b < 0x80)
        return;
    r->utf8_lo = 0x80;
    r->utf8_hi = 0xBF;
    if (b >= 0xC2 && b <= 0xDF) {
        r->utf8_need = 1;
    } else if (b >= 0xE0 && b <= 0xEF) {
        r->utf8_need = 2;
        if (b == 0xE0)
            r->utf8_lo = 0xA0; /* overlong forms */
        if (b == 0xED)
            r->utf8_hi = 0x9F; /* UTF-16 surrogates */
    } else if (b >= 0xF0 && b <= 0xF4) {
        r->utf8_need = 3;
        if (b == 0xF0)
            r->utf8_lo = 0x90;
        if (b == 0xF4)
            r->utf8_hi = 0x8F; /* above U+10FFFF */
    } else {
        char what[64];
        snprintf(what, sizeof(what), "invalid UTF-8 byte 0x%02X", b);
        csv_row_error(r, ECIF_EINVAL, r->line, r->col, what);
    }
}

/* Advances the position past byte b, which was just read. */
static void csv_advance(csv_reader_t *r, int b)
{
    if (b == '\n' && r->after_cr) {
        r->after_cr = false;
        return;
    }
    r->after_cr = b == '\r';
    if (b == '\n' || b == '\r') {
        r->line++;
        r->col = 1;
    } else if ((b & 0xC0) != 0x80) {
        r->col++;
    }
}

static void csv_skip_bom(csv_reader_t *r)
{
    r->at_start = false;
    if (csv_peekc(r) != 0xEF)
        return;
    /* The first buffer contains the whole mark unless the file is shorter. */
    if (r->input_len - r->input_pos >= 3 &&
        r->input[r->input_pos + 1] == 0xBB &&
        r->input[r->input_pos + 2] == 0xBF)
        r->input_pos += 3;
}

static bool csv_is_blank(const csv_reader_t *r, int c)
{
    return (c == ' ' || c == '\t') && c != r->delimiter;
}

static void csv_reset_row(csv_reader_t *r)
{
    r->row_len = 0;
    r->n_fields = 0;
    r->row_failed = false;
    r->utf8_need = 0;
}

/* Checks the field count of a complete row against the expected count. */
static void csv_check_count(csv_reader_t *r, uint64_t line, uint64_t col)
{
    if (r->expected == 0)
        r->expected = r->n_fields;
    if (r->n_fields == r->expected)
        return;
    char what[96];
    snprintf(what, sizeof(what), "%zu fields, expected %zu", r->n_fields,
             r->expected);
    csv_row_error(r, ECIF_EINVAL, line, col, what);
}

static int csv_finish_row(csv_reader_t *r, csv_row_t *row, uint64_t row_line,
                          char *err, size_t errlen)
{
    for (size_t i = 0; i < r->n_fields; i++)
        r->fields[i] = r->row + r->starts[i];
    row->line = row_line;
    row->n_fields = r->n_fields;
    row->fields = r->fields;
    if (r->row_failed)
        return ecif_fail(r->row_status, err, errlen, "%s", r->row_err);
    return 1;
}

int csv_reader_next(csv_reader_t *r, csv_row_t *row, char *err, size_t errlen)
{
    enum csv_state state = CSV_FIELD_START;
    uint64_t row_line = r->line;
    uint64_t quote_line = 0;
    uint64_t quote_col = 0;
    uint64_t extra_line = 0; /* where the first field past the count began */
    uint64_t extra_col = 0;
    bool blank = true; /* only blanks seen so far in this row */

    if (r->at_start)
        csv_skip_bom(r);
    csv_reset_row(r);
    if (!csv_begin_field(r))
        return ecif_fail(ECIF_ENOMEM, err, errlen, "out of memory");

    for (;;) {
        int c = csv_getc(r);
        if (c < 0)
            break;
        uint64_t line = r->line;
        uint64_t col = r->col;
        csv_check_utf8(r, (unsigned char)c);
        csv_advance(r, c);

        bool line_end = c == '\n' || c == '\r';

        switch (state) {
        case CSV_FIELD_START:
            if (csv_is_blank(r, c))
                continue;
            if (c == '"') {
                state = CSV_QUOTED;
                quote_line = line;
                quote_col = col;
                blank = false;
                continue;
            }
            state = CSV_UNQUOTED;
            /* fall through */
        case CSV_UNQUOTED:
            break;
        case CSV_QUOTED:
            if (c == '"') {
                state = CSV_QUOTE_SEEN;
                continue;
            }
            if (!csv_push_byte(r, (char)c))
                goto too_long;
            r->field_end = r->row_len;
            continue;
        case CSV_QUOTE_SEEN:
            if (c == '"') {
                state = CSV_QUOTED;
                if (!csv_push_byte(r, '"'))
                    goto too_long;
                r->field_end = r->row_len;
                continue;
            }
            state = CSV_AFTER_QUOTE;
            /* fall through */
        case CSV_AFTER_QUOTE:
            if (csv_is_blank(r, c))
                continue;
            if (c != r->delimiter && !line_end) {
                csv_row_error(r, ECIF_EINVAL, line, col,
                              "text after the closing quote of a field");
                continue;
            }
            break;
        }

        /* Unquoted text, a delimiter or a line end. */
        if (c == r->delimiter) {
            if (!csv_end_field(r))
                goto too_long;
            if (r->expected != 0 && r->n_fields == r->expected &&
                extra_line == 0) {
                extra_line = r->line;
                extra_col = r->col;
            }
            if (!csv_begin_field(r))
                goto too_many;
            state = CSV_FIELD_START;
            blank = false;
            continue;
        }
        if (line_end) {
            if (blank && r->row_len == 0 && r->n_fields == 1) {
                /* A blank line, or the LF of a CRLF: read on. */
                row_line = r->line;
                r->row_failed = false;
                state = CSV_FIELD_START;
                continue;
            }
            if (!csv_end_field(r))
                goto too_long;
            if (extra_line != 0)
                csv_check_count(r, extra_line, extra_col);
            else
                csv_check_count(r, line, col);
            return csv_finish_row(r, row, row_line, err, errlen);
        }
        blank = false;
        if (!csv_push_byte(r, (char)c))
            goto too_long;
        if (!csv_is_blank(r, c))
            r->field_end = r->row_len;
    }

    if (r->read_error)
        return ecif_fail(ECIF_EIO, err, errlen, "line %llu: read failed: %s",
                         (unsigned long long)r->line, strerror(r->read_errno));
    if (blank && r->row_len == 0 && r->n_fields == 1)
        return 0;
    if (state == CSV_QUOTED) {
        csv_row_error(r, ECIF_EINVAL, quote_line, quote_col,
                      "unterminated quote: the file ends inside the field");
    }
    if (r->utf8_need > 0)
        csv_row_error(r, ECIF_EINVAL, r->line, r->col,
                      "invalid UTF-8: a multi-byte character is cut short");
    if (!csv_end_field(r))
        goto too_long;
    if (extra_line != 0)
        csv_check_count(r, extra_line, extra_col);
    else
        csv_check_count(r, r->line, r->col);
    return csv_finish_row(r, row, row_line, err, errlen);

too_long:
    return ecif_fail(ECIF_ELIMIT, err, errlen,
                     "line %llu: row longer than %u bytes",
                     (unsigned long long)row_line, CSV_MAX_ROW_BYTES);
too_many:
    return ecif_fail(ECIF_ELIMIT, err, errlen,
                     "line %llu: more than %u fields in a row",
                     (unsigned long long)row_line, CSV_MAX_FIELDS);
}
