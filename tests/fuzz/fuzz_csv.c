/*
 * Fuzz target for tools/csv.h. The first byte picks the delimiter, the
 * rest is the file, read from memory through fmemopen(). Every row and
 * every error carries a line number of at least 1 that never goes back.
 * Fields are valid UTF-8 and agree in count. The reader ends within a
 * number of calls bounded by the input size.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "fuzz_common.h"
#include "status.h"

static const char delimiters[] = {',', '\t', ';', '|'};

/* Returns the N of a message that starts with "line N", or 0. */
static unsigned long long message_line(const char *err)
{
    unsigned long long line = 0;

    if (sscanf(err, "line %llu", &line) != 1)
        return 0;
    return line;
}

static void read_all(FILE *fp, char delimiter, size_t size)
{
    csv_reader_t *reader = NULL;
    csv_row_t row;
    char err[256];
    uint64_t last_line = 0;
    size_t n_fields = 0;
    size_t calls = 0;
    int rc;

    FUZZ_CHECK(csv_reader_create(fp, delimiter, &reader) == ECIF_OK);
    for (;;) {
        /* Each row or rejected row consumes at least one byte. */
        FUZZ_CHECK(++calls <= size + 2);
        err[0] = '\0';
        rc = csv_reader_next(reader, &row, err, sizeof(err));
        if (rc == 0)
            break;
        if (rc == 1) {
            FUZZ_CHECK(row.line >= 1 && row.line >= last_line);
            FUZZ_CHECK(row.n_fields >= 1 && row.n_fields <= CSV_MAX_FIELDS);
            FUZZ_CHECK(n_fields == 0 || row.n_fields == n_fields);
            n_fields = row.n_fields;
            last_line = row.line;
            for (size_t i = 0; i < row.n_fields; i++)
                FUZZ_CHECK(fuzz_utf8(row.fields[i]));
            continue;
        }
        FUZZ_CHECK(rc == ECIF_EINVAL || rc == ECIF_ELIMIT || rc == ECIF_EIO);
        FUZZ_CHECK(memchr(err, '\0', sizeof(err)) != NULL);
        FUZZ_CHECK(message_line(err) >= 1);
        FUZZ_CHECK(message_line(err) >= last_line);
        last_line = message_line(err);
        if (rc != ECIF_EINVAL)
            break;
    }
    csv_reader_destroy(reader);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *copy;
    FILE *fp;

    if (size < 2)
        return 0;
    /* fmemopen() reads from a private copy of exactly the input bytes. */
    copy = malloc(size - 1);
    if (copy == NULL)
        abort();
    memcpy(copy, data + 1, size - 1);
    fp = fmemopen(copy, size - 1, "r");
    FUZZ_CHECK(fp != NULL);
    read_all(fp, delimiters[data[0] % sizeof(delimiters)], size - 1);
    fclose(fp);
    free(copy);
    return 0;
}
