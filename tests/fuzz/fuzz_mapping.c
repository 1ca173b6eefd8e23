/*
 * Fuzz target for tools/mapping.h. Each input line is added as a mapping
 * line; a rejected line must be reported as "fuzz:LINE: ...". The mapping
 * is then bound to a file with every canonical column (or its @header
 * columns) and evaluated over a row whose values are the input lines, for
 * both kinds.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "mapping.h"
#include "status.h"

/* Columns a bound test file has at most. */
#define MAX_COLUMNS 64

static void add_lines(mapping_t *m, char **lines, size_t n)
{
    char err[256];
    char prefix[32];

    for (size_t i = 0; i < n; i++) {
        int rc;

        err[0] = '\0';
        rc = mapping_add_line(m, "fuzz", (unsigned)(i + 1), lines[i], err,
                              sizeof(err));
        FUZZ_CHECK(rc == ECIF_OK || rc == ECIF_EINVAL);
        if (rc == ECIF_OK)
            continue;
        snprintf(prefix, sizeof(prefix), "fuzz:%zu:", i + 1);
        FUZZ_CHECK(memchr(err, '\0', sizeof(err)) != NULL);
        FUZZ_CHECK(strncmp(err, prefix, strlen(prefix)) == 0);
    }
}

/* Lists the file's columns: the @header, else every canonical name. */
static size_t file_columns(const mapping_t *m, const char **columns)
{
    size_t count = 0;
    const char *const *header = mapping_header(m, &count);

    if (header != NULL) {
        if (count > MAX_COLUMNS)
            count = MAX_COLUMNS;
        for (size_t i = 0; i < count; i++) {
            FUZZ_CHECK(header[i] != NULL);
            columns[i] = header[i];
        }
        return count;
    }
    for (int f = 0; f < MAPPING_FIELD_COUNT; f++)
        columns[f] = mapping_field_name(f);
    return MAPPING_FIELD_COUNT;
}

static void eval_fields(const mapping_binding_t *b, mapping_kind_t kind,
                        const char *const *values)
{
    char *buf = NULL;
    size_t len = 0;
    size_t cap = 0;

    for (int f = 0; f < MAPPING_FIELD_COUNT; f++) {
        size_t before = len;

        FUZZ_CHECK(mapping_binding_source(b, f) != NULL);
        if (!mapping_field_in_kind(f, kind))
            continue;
        FUZZ_CHECK(mapping_eval(b, f, values, &buf, &len, &cap) == ECIF_OK);
        FUZZ_CHECK(len > before && len <= cap);
        FUZZ_CHECK(buf[len - 1] == '\0');
        FUZZ_CHECK(strlen(buf + before) == len - before - 1);
    }
    free(buf);
}

static void bind_kind(const mapping_t *m, mapping_kind_t kind,
                      const char *const *columns, size_t n_columns,
                      const char *const *values)
{
    mapping_binding_t *b = NULL;
    char err[256];
    char unused[64];
    int rc;

    err[0] = '\0';
    rc = mapping_bind(m, kind, columns, n_columns, &b, err, sizeof(err));
    FUZZ_CHECK(rc == ECIF_OK || rc == ECIF_EINVAL);
    if (rc != ECIF_OK) {
        FUZZ_CHECK(b == NULL || rc == ECIF_OK);
        FUZZ_CHECK(err[0] != '\0');
        return;
    }
    mapping_binding_unused(b, unused, sizeof(unused));
    FUZZ_CHECK(memchr(unused, '\0', sizeof(unused)) != NULL);
    eval_fields(b, kind, values);
    mapping_binding_destroy(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *in = fuzz_cstring(data, size);
    char *lines[FUZZ_MAX_LINES];
    size_t n = fuzz_split_lines(in, lines, FUZZ_MAX_LINES);
    const char *columns[MAX_COLUMNS];
    const char *values[MAX_COLUMNS];
    const char *names[MAX_COLUMNS];
    mapping_t *m = NULL;
    size_t n_columns;

    FUZZ_CHECK(mapping_create(&m) == ECIF_OK);
    add_lines(m, lines, n);
    mapping_delimiter(m);
    size_t n_names = mapping_columns(m, MAPPING_RECORDS, names, MAX_COLUMNS);
    for (size_t i = 0; i < n_names && i < MAX_COLUMNS; i++)
        FUZZ_CHECK(names[i] != NULL);

    n_columns = file_columns(m, columns);
    for (size_t i = 0; i < n_columns; i++)
        values[i] = i % 3 == 2 ? NULL : lines[i % n];
    bind_kind(m, MAPPING_RECORDS, columns, n_columns, values);
    bind_kind(m, MAPPING_ACCOUNTS, columns, n_columns, values);

    mapping_destroy(m);
    free(in);
    return 0;
}
