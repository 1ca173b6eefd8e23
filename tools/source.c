/*
 * Source files as rows of records or accounts.
 *
 * Both formats are reduced to one shape: a fixed list of column names and
 * one value per column for each row. For CSV the columns come from the
 * header line or the mapping's @header. For JSONL they are the columns
 * the mapping reads, and each object's keys are matched to them. The
 * mapping is bound once to that list, then every row is evaluated field by
 * field into one row buffer, which the returned strings point into.
 */
#include "source.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "jsonl.h"
#include "status.h"

/* Maximum distinct unknown JSONL keys reported in warnings. */
#define SOURCE_MAX_WARNED_KEYS 64

struct source {
    char *path;
    FILE *fp;
    mapping_kind_t kind;
    source_options_t opts;
    mapping_t *own_mapping; /* the canonical mapping when none was given */
    const mapping_t *mapping;
    mapping_binding_t *binding;
    csv_reader_t *csv;
    jsonl_reader_t *jsonl;

    char **columns;
    size_t n_columns;
    const char **values;

    char *buf; /* evaluated fields of the current row */
    size_t len;
    size_t cap;
    size_t field_at[MAPPING_FIELD_COUNT];

    char *warned[SOURCE_MAX_WARNED_KEYS];
    size_t n_warned;
};

const char *source_path(const source_t *source)
{
    return source->path;
}

const char *source_column_name(const source_t *source, mapping_field_t field)
{
    return mapping_binding_source(source->binding, field);
}

static bool has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s);
    size_t m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static void source_warn(source_t *s, const char *message)
{
    if (s->opts.warn != NULL)
        s->opts.warn(s->opts.warn_arg, s->path, message);
}

static int set_columns(source_t *s, const char *const *names, size_t n)
{
    s->columns = calloc(n + 1, sizeof(*s->columns));
    s->values = calloc(n + 1, sizeof(*s->values));
    if (s->columns == NULL || s->values == NULL)
        return ECIF_ENOMEM;
    s->n_columns = n;
    for (size_t i = 0; i < n; i++) {
        s->columns[i] = strdup(names[i]);
        if (s->columns[i] == NULL)
            return ECIF_ENOMEM;
    }
    return ECIF_OK;
}

/* Takes the columns from the header line or the mapping's @header. */
static int open_csv(source_t *s, char *err, size_t errlen)
{
    char delimiter = s->opts.delimiter;
    size_t n_header = 0;
    const char *const *header = mapping_header(s->mapping, &n_header);
    csv_row_t row;

    if (delimiter == '\0')
        delimiter = mapping_delimiter(s->mapping);
    if (delimiter == '\0')
        delimiter = ',';
    if (csv_reader_create(s->fp, delimiter, &s->csv) != ECIF_OK)
        return ECIF_ENOMEM;
    if (header != NULL) {
        csv_reader_expect_fields(s->csv, n_header);
        return set_columns(s, header, n_header);
    }

    char what[256];
    int rc = csv_reader_next(s->csv, &row, what, sizeof(what));
    if (rc == 0)
        return ecif_fail(ECIF_EINVAL, err, errlen,
                         "%s: empty file, expected a header line", s->path);
    if (rc < 0)
        return ecif_fail(rc, err, errlen, "%s: header: %s", s->path, what);
    for (size_t i = 0; i < row.n_fields; i++) {
        for (size_t j = 0; j < i; j++) {
            if (strcmp(row.fields[i], row.fields[j]) == 0)
                return ecif_fail(ECIF_EINVAL, err, errlen,
                                 "%s: header: duplicate column '%s' "
                                 "(columns %zu and %zu); rename one",
                                 s->path, row.fields[i], j + 1, i + 1);
        }
    }
    return set_columns(s, (const char *const *)row.fields, row.n_fields);
}

static int open_jsonl(source_t *s)
{
    const char *names[MAPPING_FIELD_COUNT * 4];
    size_t n = mapping_columns(s->mapping, s->kind, names,
                               sizeof(names) / sizeof(names[0]));

    if (n > sizeof(names) / sizeof(names[0]))
        n = sizeof(names) / sizeof(names[0]);
    if (jsonl_reader_create(s->fp, &s->jsonl) != ECIF_OK)
        return ECIF_ENOMEM;
    return set_columns(s, names, n);
}

static int source_bind(source_t *s, char *err, size_t errlen)
{
    char what[512];
    int rc = mapping_bind(s->mapping, s->kind, (const char *const *)s->columns,
                          s->n_columns, &s->binding, what, sizeof(what));
    if (rc != ECIF_OK)
        return ecif_fail(rc, err, errlen, "%s: %s", s->path, what);
    if (s->csv == NULL)
        return ECIF_OK;

    char unused[400];
    size_t count = mapping_binding_unused(s->binding, unused, sizeof(unused));
    if (count > 0) {
        char message[480];
        snprintf(message, sizeof(message), "ignoring %zu unknown column%s: %s",
                 count, count == 1 ? "" : "s", unused);
        source_warn(s, message);
    }
    return ECIF_OK;
}

int source_open(const char *path, mapping_kind_t kind,
                const source_options_t *opts, source_t **out, char *err,
                size_t errlen)
{
    source_t *s = calloc(1, sizeof(*s));
    int rc = ECIF_ENOMEM;

    if (s == NULL)
        return ECIF_ENOMEM;
    s->kind = kind;
    s->opts = *opts;
    s->path = strdup(path);
    if (s->path == NULL)
        goto fail;
    s->mapping = opts->mapping;
    if (s->mapping == NULL) {
        if (mapping_create(&s->own_mapping) != ECIF_OK)
            goto fail;
        s->mapping = s->own_mapping;
    }
    s->fp = fopen(path, "r");
    if (s->fp == NULL) {
        rc = ecif_fail(ECIF_EIO, err, errlen, "%s: cannot open: %s", path,
                       strerror(errno));
        goto fail;
    }

    source_format_t format = opts->format;
    if (format == SOURCE_FORMAT_AUTO)
        format = has_suffix(path, ".jsonl") || has_suffix(path, ".ndjson")
                     ? SOURCE_FORMAT_JSONL
                     : SOURCE_FORMAT_CSV;
    s->opts.format = format;
    rc = format == SOURCE_FORMAT_JSONL ? open_jsonl(s)
                                       : open_csv(s, err, errlen);
    if (rc == ECIF_OK)
        rc = source_bind(s, err, errlen);
    if (rc != ECIF_OK)
        goto fail;
    *out = s;
    return ECIF_OK;

fail:
    if (rc == ECIF_ENOMEM)
        ecif_fail(rc, err, errlen, "%s: out of memory", path);
    source_close(s);
    return rc;
}

void source_close(source_t *source)
{
    if (source == NULL)
        return;
    csv_reader_destroy(source->csv);
    jsonl_reader_destroy(source->jsonl);
    if (source->fp != NULL)
        fclose(source->fp);
    mapping_binding_destroy(source->binding);
    mapping_destroy(source->own_mapping);
    for (size_t i = 0; i < source->n_columns; i++)
        free(source->columns[i]);
    free(source->columns);
    free(source->values);
    for (size_t i = 0; i < source->n_warned; i++)
        free(source->warned[i]);
    free(source->buf);
    free(source->path);
    free(source);
}

/*
 * Drops the "line N, " prefix of a reader message when N is the row's
 * line, because the caller prints the line itself.
 */
static int reader_error(int rc, const char *what, uint64_t line, char *err,
                        size_t errlen)
{
    char prefix[40];
    int n = snprintf(prefix, sizeof(prefix), "line %llu, ",
                     (unsigned long long)line);

    if (strncmp(what, prefix, (size_t)n) == 0)
        what += n;
    return ecif_fail(rc, err, errlen, "%s", what);
}

/* Warns once about each JSONL key that no field reads. */
static void warn_unknown_key(source_t *s, const char *key, uint64_t line)
{
    for (size_t i = 0; i < s->n_warned; i++) {
        if (strcmp(s->warned[i], key) == 0)
            return;
    }
    if (s->n_warned == SOURCE_MAX_WARNED_KEYS)
        return;
    s->warned[s->n_warned] = strdup(key);
    if (s->warned[s->n_warned] == NULL)
        return;
    s->n_warned++;

    char message[160];
    snprintf(message, sizeof(message),
             "line %llu: ignoring unknown key "
             "'%.64s'",
             (unsigned long long)line, key);
    source_warn(s, message);
}

/* Reads the next row's raw values into s->values. */
static int read_values(source_t *s, source_row_t *row, char *err, size_t errlen)
{
    char what[512];
    int rc;

    if (s->csv != NULL) {
        csv_row_t csv_row = {0};
        rc = csv_reader_next(s->csv, &csv_row, what, sizeof(what));
        row->line = csv_row.line;
        if (rc < 0)
            return reader_error(rc, what, row->line, err, errlen);
        if (rc == 1) {
            for (size_t i = 0; i < s->n_columns; i++)
                s->values[i] = csv_row.fields[i];
        }
        return rc;
    }

    jsonl_row_t jsonl_row = {0};
    rc = jsonl_reader_next(s->jsonl, &jsonl_row, what, sizeof(what));
    row->line = jsonl_row.line;
    if (rc < 0)
        return reader_error(rc, what, row->line, err, errlen);
    if (rc == 1) {
        memset(s->values, 0, s->n_columns * sizeof(*s->values));
        for (size_t m = 0; m < jsonl_row.n_members; m++) {
            const jsonl_member_t *member = &jsonl_row.members[m];
            size_t i = 0;
            while (i < s->n_columns && strcmp(s->columns[i], member->key))
                i++;
            if (i < s->n_columns)
                s->values[i] = member->value;
            else
                warn_unknown_key(s, member->key, row->line);
        }
    }
    return rc;
}

/* Returns the evaluated text of field in the row buffer. */
static char *field_text(source_t *s, mapping_field_t field)
{
    return s->buf + s->field_at[field];
}

/*
 * Splits a cell of several values at '|' in place into values (room for
 * ECIF_MAX_VALUES), skipping blank parts. Returns ECIF_EINVAL when there
 * are more values than that.
 */
static int split_values(source_t *s, mapping_field_t field, const char **values,
                        uint32_t *count, char *err, size_t errlen)
{
    char *p = field_text(s, field);

    *count = 0;
    while (*p != '\0') {
        char *end = strchr(p, '|');
        char *next = end != NULL ? end + 1 : p + strlen(p);
        if (end != NULL)
            *end = '\0';
        while (*p == ' ' || *p == '\t')
            p++;
        size_t len = strlen(p);
        while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
            p[--len] = '\0';
        if (len > 0) {
            if (*count == ECIF_MAX_VALUES)
                return ecif_fail(ECIF_EINVAL, err, errlen,
                                 "column '%s': more than %d values",
                                 source_column_name(s, field), ECIF_MAX_VALUES);
            values[(*count)++] = p;
        }
        p = next;
    }
    return ECIF_OK;
}

static const char *text_or_null(source_t *s, mapping_field_t field)
{
    char *text = field_text(s, field);
    return text[0] != '\0' ? text : NULL;
}

static int fill_record(source_t *s, ecif_record_t *rec, char *err,
                       size_t errlen)
{
    memset(rec, 0, sizeof(*rec));
    rec->source_system = text_or_null(s, MAPPING_SOURCE_SYSTEM);
    rec->source_id = text_or_null(s, MAPPING_SOURCE_ID);
    rec->name = text_or_null(s, MAPPING_NAME);
    rec->given_name = text_or_null(s, MAPPING_GIVEN_NAME);
    rec->family_name = text_or_null(s, MAPPING_FAMILY_NAME);
    rec->id_type = text_or_null(s, MAPPING_ID_TYPE);
    rec->id_number = text_or_null(s, MAPPING_ID_NUMBER);
    rec->dob = text_or_null(s, MAPPING_DOB);
    rec->gender = text_or_null(s, MAPPING_GENDER);

    int rc = ECIF_OK;
    const char *updated = text_or_null(s, MAPPING_UPDATED_AT);
    char detail[256];
    if (updated != NULL &&
        ecif_updated_at_parse(updated, &rec->updated_at, detail,
                              sizeof(detail)) != ECIF_OK) {
        /* The parser names the field; the message names the column. */
        const char *text = strchr(detail, ' ');
        rc = ecif_fail(ECIF_EINVAL, err, errlen, "column '%s': %s",
                       source_column_name(s, MAPPING_UPDATED_AT),
                       text != NULL ? text + 1 : detail);
    }
    if (rc == ECIF_OK)
        rc = split_values(s, MAPPING_PHONE, rec->phones, &rec->n_phones, err,
                          errlen);
    if (rc == ECIF_OK)
        rc = split_values(s, MAPPING_EMAIL, rec->emails, &rec->n_emails, err,
                          errlen);
    if (rc == ECIF_OK)
        rc = split_values(s, MAPPING_ADDRESS, rec->addresses, &rec->n_addresses,
                          err, errlen);
    return rc;
}

/* Parses an amount column; an empty cell is zero. */
static int parse_amount(source_t *s, mapping_field_t field, int64_t *out,
                        char *err, size_t errlen)
{
    const char *text = field_text(s, field);

    *out = 0;
    if (text[0] == '\0')
        return ECIF_OK;
    if (ecif_amount_parse(text, out) != ECIF_OK)
        return ecif_fail(ECIF_EINVAL, err, errlen,
                         "column '%s': invalid amount '%.40s' (expected a "
                         "decimal such as 1234.50, with at most 4 places "
                         "and below 1e12)",
                         source_column_name(s, field), text);
    return ECIF_OK;
}

static int fill_account(source_t *s, source_row_t *row, char *err,
                        size_t errlen)
{
    ecif_account_t *acct = &row->account;

    memset(acct, 0, sizeof(*acct));
    row->source_system = text_or_null(s, MAPPING_SOURCE_SYSTEM);
    row->source_id = text_or_null(s, MAPPING_SOURCE_ID);
    acct->account_id = text_or_null(s, MAPPING_ACCOUNT_ID);
    acct->product = text_or_null(s, MAPPING_PRODUCT);
    acct->currency = text_or_null(s, MAPPING_CURRENCY);
    acct->branch = text_or_null(s, MAPPING_BRANCH);
    int rc =
        parse_amount(s, MAPPING_CREDIT_LIMIT, &acct->credit_limit, err, errlen);
    if (rc == ECIF_OK)
        rc = parse_amount(s, MAPPING_BALANCE, &acct->balance, err, errlen);
    return rc;
}

int source_next(source_t *s, source_row_t *row, char *err, size_t errlen)
{
    memset(row, 0, sizeof(*row));
    int rc = read_values(s, row, err, errlen);
    if (rc <= 0)
        return rc;
    row->n_columns = s->n_columns;
    row->columns = (const char *const *)s->columns;
    row->values = s->values;

    s->len = 0;
    for (int f = 0; f < MAPPING_FIELD_COUNT; f++) {
        if (!mapping_field_in_kind((mapping_field_t)f, s->kind))
            continue;
        s->field_at[f] = s->len;
        rc = mapping_eval(s->binding, (mapping_field_t)f, s->values, &s->buf,
                          &s->len, &s->cap);
        if (rc != ECIF_OK)
            return ecif_fail(rc, err, errlen, "out of memory");
    }

    if (s->kind == MAPPING_RECORDS) {
        rc = fill_record(s, &row->record, err, errlen);
        row->source_system = row->record.source_system;
        row->source_id = row->record.source_id;
    } else {
        rc = fill_account(s, row, err, errlen);
    }
    return rc == ECIF_OK ? 1 : rc;
}
