/*
 * Fuzz target for tools/jsonl.h, reading the input from memory through
 * fmemopen(). Every row and every error carries a line number of at
 * least 1 that only grows. Keys and string values are valid UTF-8. The
 * reader ends within a number of calls bounded by the input size.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "jsonl.h"
#include "status.h"

static unsigned long long message_line(const char *err)
{
    unsigned long long line = 0;

    if (sscanf(err, "line %llu", &line) != 1)
        return 0;
    return line;
}

static void check_row(const jsonl_row_t *row)
{
    FUZZ_CHECK(row->n_members <= JSONL_MAX_MEMBERS);
    for (size_t i = 0; i < row->n_members; i++) {
        const jsonl_member_t *m = &row->members[i];

        FUZZ_CHECK(m->key != NULL && fuzz_utf8(m->key));
        if (m->value != NULL)
            FUZZ_CHECK(fuzz_utf8(m->value));
    }
}

static void read_all(FILE *fp, size_t size)
{
    jsonl_reader_t *reader = NULL;
    jsonl_row_t row;
    char err[256];
    uint64_t last_line = 0;
    size_t calls = 0;
    int rc;

    FUZZ_CHECK(jsonl_reader_create(fp, &reader) == ECIF_OK);
    for (;;) {
        /* Each line read or rejected consumes at least one byte. */
        FUZZ_CHECK(++calls <= size + 2);
        err[0] = '\0';
        rc = jsonl_reader_next(reader, &row, err, sizeof(err));
        if (rc == 0)
            break;
        if (rc == 1) {
            FUZZ_CHECK(row.line >= 1 && row.line > last_line);
            last_line = row.line;
            check_row(&row);
            continue;
        }
        FUZZ_CHECK(rc == ECIF_EINVAL || rc == ECIF_ELIMIT || rc == ECIF_EIO);
        FUZZ_CHECK(memchr(err, '\0', sizeof(err)) != NULL);
        FUZZ_CHECK(message_line(err) >= 1);
        FUZZ_CHECK(message_line(err) > last_line);
        last_line = message_line(err);
        if (rc != ECIF_EINVAL)
            break;
    }
    jsonl_reader_destroy(reader);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *copy;
    FILE *fp;

    if (size == 0)
        return 0;
    copy = malloc(size);
    if (copy == NULL)
        abort();
    memcpy(copy, data, size);
    fp = fmemopen(copy, size, "r");
    FUZZ_CHECK(fp != NULL);
    read_all(fp, size);
    fclose(fp);
    free(copy);
    return 0;
}
