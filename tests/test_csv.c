/*
 * Unit tests of the CSV reader: quoting, line ends, the byte order mark,
 * trimmed separators, and the line and column of every kind of error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "status.h"
#include "unit.h"

/* A reader over an in-memory copy of text (len bytes, may hold NULs). */
typedef struct csv_fixture {
    FILE *fp;
    csv_reader_t *reader;
    csv_row_t row;
    char err[256];
} csv_fixture_t;

static void fixture_open(csv_fixture_t *f, const char *text, size_t len,
                         char delimiter)
{
    memset(f, 0, sizeof(*f));
    f->fp = fmemopen((void *)text, len, "r");
    if (f->fp == NULL) {
        perror("fmemopen");
        exit(1);
    }
    if (csv_reader_create(f->fp, delimiter, &f->reader) != ECIF_OK)
        exit(1);
}

static int fixture_next(csv_fixture_t *f)
{
    f->err[0] = '\0';
    return csv_reader_next(f->reader, &f->row, f->err, sizeof(f->err));
}

static void fixture_close(csv_fixture_t *f)
{
    csv_reader_destroy(f->reader);
    fclose(f->fp);
}

static void test_plain_rows(void)
{
    static const char text[] = "a,b,c\n1,2,3\n";
    csv_fixture_t f;
    fixture_open(&f, text, strlen(text), ',');
    CHECK_INT(fixture_next(&f), 1);
    CHECK_INT(f.row.n_fields, 3);
    CHECK_STR(f.row.fields[0], "a");
    CHECK_STR(f.row.fields[2], "c");
    CHECK_INT(f.row.line, 1);
    CHECK_INT(fixture_next(&f), 1);
    CHECK_STR(f.row.fields[1], "2");
    CHECK_INT(f.row.line, 2);
    CHECK_INT(fixture_next(&f), 0);
    CHECK_INT(fixture_next(&f), 0);
    fixture_close(&f);
}

static void test_quoted_fields(void)
{
    static const char text[] = "id,note\n"
                               "1,\"a, b\"\n"
                               "2,\"say \"\"hi\"\"\"\n"
                               "3,\"two\nlines\"\n"
                               "4,\"\"\n"
                               "5,x\n";
    csv_fixture_t f;
    fixture_open(&f, text, strlen(text), ',');
    CHECK_INT(fixture_next(&f), 1);
    CHECK_INT(fixture_next(&f), 1);
    CHECK_STR(f.row.fields[1], "a, b");
    CHECK_INT(fixture_next(&f), 1);
    CHECK_STR(f.row.fields[1], "say \"hi\"");
    CHECK_INT(fixture_next(&f), 1);
    CHECK_STR(f.row.fields[1], "two\nlines");
    CHECK_INT(f.row.line, 4);
    CHECK_INT(fixture_next(&f), 1);
    CHECK_STR(f.row.fields[1], "");
    CHECK_INT(fixture_next(&f), 1);
    CHECK_STR(f.row.fields[0], "5");
    CHECK_INT(f.row.line, 7); /* the quoted newline counts as a line */
    CHECK_INT(fixture_next(&f), 0);
    fixture_close(&f);
}

static void test_crlf_without_final_newline(void)
{
    static const char text[] = "a,b\r\n1,2\r\n3,4";
    csv_fixture_t f;
    fixture_open(&f, text, strlen(text), ',');
    CHECK_INT(fixture_next(&f), 1);
    CHECK_STR(f.row.fields[1], "b");
    CHECK_INT(fixture_next(&f), 1);
    CHECK_STR(f.row.fields[1], "2");
    CHECK_INT(f.row.line, 2);
    CHECK_INT(fixture_next(&f), 1);
    CHECK_STR(f.row.fields[0], "3");
    CHECK_STR(f.row.fields[1], "4");
    CHECK_INT(f.row.line, 3);
    CHECK_INT(fixture_next(&f), 0);
    fixture_close(&f);
}

static void test_quoted_crlf_kept(void)
{
    static const char text[] = "a,b\r\n\"x\r\ny\",2\r\n";
    csv_fixture_t f;
    fixture_open(&f, text, strlen(text), ',');
    CHECK_INT(fixture_next(&f), 1);
    CHECK_INT(fixture_next(&f), 1);
    CHECK_STR(f.row.fields[0], "x\r\ny");
    CHECK_INT(fixture_next(&f), 0);
    fixture_close(&f);
}

static void test_bom_skipped(void)
{
    static const char text[] = "\xEF\xBB\xBFname,id\n\xE5\xBC\xA0\xE4\xB8"
                               "\x89,7\n";
    csv_fixture_t f;
    fixture_open(&f, text, strlen(text), ',');
    CHECK_INT(fixture_next(&f), 1);
    CHECK_STR(f.row.fields[0], "name");
    CHECK_INT(fixture_next(&f), 1);
    CHECK_STR(f.row.fields[0], "\xE5\xBC\xA0\xE4\xB8\x89");
    fixture_close(&f);
}

static void test_comma_space_separators(void)
{
    static const char text[] = "rec_id, given_name, surname\n"
                               "rec-1-org,   elie , \"smith\" \n"
                               "rec-2-org, , lee\n";
    csv_fixture_t f;
    fixture_open(&f, text, strlen(text), ',');
    CHECK_INT(fixture_next(&f), 1);
    CHECK_STR(f.row.fields[1], "given_name");
    CHECK_INT(fixture_next(&f), 1);
    CHECK_STR(f.row.fields[1], "elie");
    CHECK_STR(f.row.fields[2], "smith");
    CHECK_INT(fixture_next(&f), 1);
    CHECK_STR(f.row.fields[1], "");
    CHECK_STR(f.row.fields[2], "lee");
    fixture_close(&f);
}

static void test_tab_delimiter(void)
{
    static const char text[] = "A\tID1  \t SMITH \t\t4848 \n";
    csv_fixture_t f;
    fixture_open(&f, text, strlen(text), '\t');
    CHECK_INT(fixture_next(&f), 1);
    CHECK_INT(f.row.n_fields, 5);
    CHECK_STR(f.row.fields[1], "ID1");
    CHECK_STR(f.row.fields[2], "SMITH");
    CHECK_STR(f.row.fields[3], "");
    CHECK_STR(f.row.fields[4], "4848");
    fixture_close(&f);
}

static void test_blank_lines_skipped(void)
{
    static const char text[] = "a,b\n\n1,2\n   \n3,4\n\n";
    csv_fixture_t f;
    fixture_open(&f, text, strlen(text), ',');
    CHECK_INT(fixture_next(&f), 1);
    CHECK_INT(fixture_next(&f), 1);
    CHECK_STR(f.row.fields[0], "1");
    CHECK_INT(f.row.line, 3);
    CHECK_INT(fixture_next(&f), 1);
    CHECK_STR(f.row.fields[0], "3");
    CHECK_INT(f.row.line, 5);
    CHECK_INT(fixture_next(&f), 0);
    fixture_close(&f);
}

static void test_too_few_fields(void)
{
    static const char text[] = "a,b,c\n1,2\n4,5,6\n";
    csv_fixture_t f;
    fixture_open(&f, text, strlen(text), ',');
    CHECK_INT(fixture_next(&f), 1);
    CHECK_INT(fixture_next(&f), ECIF_EINVAL);
    CHECK_STR(f.err, "line 2, character 4: 2 fields, expected 3");
    CHECK_INT(f.row.line, 2);
    CHECK_INT(fixture_next(&f), 1);
    CHECK_STR(f.row.fields[2], "6");
    CHECK_INT(f.row.line, 3);
    fixture_close(&f);
}

static void test_too_many_fields(void)
{
    static const char text[] = "a,b\n1,2,3,4\n5,6\n";
    csv_fixture_t f;
    fixture_open(&f, text, strlen(text), ',');
    CHECK_INT(fixture_next(&f), 1);
    CHECK_INT(fixture_next(&f), ECIF_EINVAL);
    /* Column 5 is where the first field past the second begins. */
    CHECK_STR(f.err, "line 2, character 5: 4 fields, expected 2");
    CHECK_INT(fixture_next(&f), 1);
    CHECK_STR(f.row.fields[0], "5");
    fixture_close(&f);
}

static void test_expected_count_set(void)
{
    static const char text[] = "1,2\n";
    csv_fixture_t f;
    fixture_open(&f, text, strlen(text), ',');
    csv_reader_expect_fields(f.reader, 3);
    CHECK_INT(fixture_next(&f), ECIF_EINVAL);
    CHECK_STR(f.err, "line 1, character 4: 2 fields, expected 3");
    fixture_close(&f);
}

static void test_unterminated_quote(void)
{
    static const char text[] = "a,b\n1,2\n3,\"open\n4,5\n";
    csv_fixture_t f;
    fixture_open(&f, text, strlen(text), ',');
    CHECK_INT(fixture_next(&f), 1);
    CHECK_INT(fixture_next(&f), 1);
    CHECK_INT(fixture_next(&f), ECIF_EINVAL);
    CHECK_STR(f.err, "line 3, character 3: unterminated quote: the file ends "
                     "inside the field");
    CHECK_INT(fixture_next(&f), 0);
    fixture_close(&f);
}

static void test_text_after_quote(void)
{
    static const char text[] = "a,b\n\"x\"y,2\n3,4\n";
    csv_fixture_t f;
    fixture_open(&f, text, strlen(text), ',');
    CHECK_INT(fixture_next(&f), 1);
    CHECK_INT(fixture_next(&f), ECIF_EINVAL);
    CHECK_STR(f.err, "line 2, character 4: text after the closing quote of a "
                     "field");
    CHECK_INT(fixture_next(&f), 1);
    CHECK_STR(f.row.fields[0], "3");
    fixture_close(&f);
}

static void test_invalid_utf8(void)
{
    /* 0xFF never appears in UTF-8; "\xC3(" cuts a two-byte character. */
    static const char text[] = "a,b\n\xE5\xBC\xA0,x\xFF\n\xC3(,1\n"
                               "\xED\xA0\x80,2\nok,3\n";
    csv_fixture_t f;
    fixture_open(&f, text, strlen(text), ',');
    CHECK_INT(fixture_next(&f), 1);
    CHECK_INT(fixture_next(&f), ECIF_EINVAL);
    CHECK_STR(f.err, "line 2, character 4: invalid UTF-8 byte 0xFF");
    CHECK_INT(fixture_next(&f), ECIF_EINVAL);
    CHECK_STR(f.err, "line 3, character 2: invalid UTF-8: a multi-byte "
                     "character is cut short");
    CHECK_INT(fixture_next(&f), ECIF_EINVAL); /* an encoded surrogate */
    CHECK_INT(f.row.line, 4);
    CHECK_INT(fixture_next(&f), 1);
    CHECK_STR(f.row.fields[0], "ok");
    fixture_close(&f);
}

static void test_row_spans_buffers(void)
{
    /* Rows cross the 64 KiB input buffer many times. */
    size_t rows = 20000;
    size_t cap = rows * 32 + 16;
    char *text = malloc(cap);
    size_t len = (size_t)snprintf(text, cap, "id,value\n");
    for (size_t i = 0; i < rows; i++)
        len += (size_t)snprintf(text + len, cap - len, "%zu,\"v %zu\"\r\n", i,
                                i * 7);
    csv_fixture_t f;
    fixture_open(&f, text, len, ',');
    CHECK_INT(fixture_next(&f), 1);
    size_t seen = 0;
    int rc;
    while ((rc = fixture_next(&f)) == 1) {
        char want[32];
        snprintf(want, sizeof(want), "v %zu", seen * 7);
        if (strcmp(f.row.fields[1], want) != 0 || f.row.line != seen + 2) {
            CHECK_STR(f.row.fields[1], want);
            CHECK_INT(f.row.line, seen + 2);
            break;
        }
        seen++;
    }
    CHECK_INT(rc, 0);
    CHECK_INT(seen, rows);
    fixture_close(&f);
    free(text);
}

static void test_embedded_nul(void)
{
    static const char text[] = "a,b\n1,x\0y\n2,3\n";
    csv_fixture_t f;
    fixture_open(&f, text, sizeof(text) - 1, ',');
    CHECK_INT(fixture_next(&f), 1);
    CHECK_INT(fixture_next(&f), ECIF_EINVAL);
    CHECK_STR(f.err, "line 2, character 4: NUL byte in a field");
    CHECK_INT(fixture_next(&f), 1);
    CHECK_STR(f.row.fields[0], "2");
    CHECK_INT(fixture_next(&f), 0);
    fixture_close(&f);
}

int main(void)
{
    RUN(test_plain_rows);
    RUN(test_quoted_fields);
    RUN(test_crlf_without_final_newline);
    RUN(test_quoted_crlf_kept);
    RUN(test_bom_skipped);
    RUN(test_comma_space_separators);
    RUN(test_tab_delimiter);
    RUN(test_blank_lines_skipped);
    RUN(test_too_few_fields);
    RUN(test_too_many_fields);
    RUN(test_expected_count_set);
    RUN(test_unterminated_quote);
    RUN(test_text_after_quote);
    RUN(test_invalid_utf8);
    RUN(test_row_spans_buffers);
    RUN(test_embedded_nul);
    return unit_report();
}
