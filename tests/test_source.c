/*
 * Unit tests of the JSONL reader and of source files read through a
 * mapping into records and accounts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonl.h"
#include "source.h"
#include "status.h"
#include "unit.h"

typedef struct jsonl_fixture {
    FILE *fp;
    jsonl_reader_t *reader;
    jsonl_row_t row;
    char err[256];
} jsonl_fixture_t;

static void jsonl_open(jsonl_fixture_t *f, const char *text)
{
    memset(f, 0, sizeof(*f));
    f->fp = fmemopen((void *)text, strlen(text), "r");
    if (f->fp == NULL || jsonl_reader_create(f->fp, &f->reader) != ECIF_OK)
        exit(1);
}

static int jsonl_next(jsonl_fixture_t *f)
{
    f->err[0] = '\0';
    return jsonl_reader_next(f->reader, &f->row, f->err, sizeof(f->err));
}

static void jsonl_close(jsonl_fixture_t *f)
{
    jsonl_reader_destroy(f->reader);
    fclose(f->fp);
}

/* Returns the value of key in the current row, "(null)" for null. */
static const char *member(const jsonl_fixture_t *f, const char *key)
{
    for (size_t i = 0; i < f->row.n_members; i++) {
        if (strcmp(f->row.members[i].key, key) == 0)
            return f->row.members[i].value ? f->row.members[i].value : "(null)";
    }
    return NULL;
}

static void test_jsonl_values(void)
{
    static const char text[] =
        "\xEF\xBB\xBF{\"source_id\": \"1\", \"balance\": -12.50, "
        "\"email\": null}\r\n"
        "\n"
        "{\"phone\": [\"138 0000 0000\", null, 5551234], \"name\": \"\"}\n";
    jsonl_fixture_t f;
    jsonl_open(&f, text);
    CHECK_INT(jsonl_next(&f), 1);
    CHECK_INT(f.row.line, 1);
    CHECK_INT(f.row.n_members, 3);
    CHECK_STR(member(&f, "source_id"), "1");
    CHECK_STR(member(&f, "balance"), "-12.50");
    CHECK_STR(member(&f, "email"), "(null)");
    CHECK_INT(jsonl_next(&f), 1);
    CHECK_INT(f.row.line, 3);
    CHECK_STR(member(&f, "phone"), "138 0000 0000|5551234");
    CHECK_STR(member(&f, "name"), "");
    CHECK_INT(jsonl_next(&f), 0);
    jsonl_close(&f);
}

static void test_jsonl_escapes(void)
{
    /* \u5F20 is 张; \uD83D\uDE00 is U+1F600 as a surrogate pair. */
    static const char text[] =
        "{\"name\": \"a\\\"b\\\\c\\/d\\n\\t\\u5F20\\uD83D\\uDE00\"}\n"
        "{\"name\": \"\xE7\x8E\x8B\xE4\xBA\x94\"}\n";
    jsonl_fixture_t f;
    jsonl_open(&f, text);
    CHECK_INT(jsonl_next(&f), 1);
    CHECK_STR(member(&f, "name"), "a\"b\\c/d\n\t\xE5\xBC\xA0\xF0\x9F\x98\x80");
    CHECK_INT(jsonl_next(&f), 1);
    CHECK_STR(member(&f, "name"), "\xE7\x8E\x8B\xE4\xBA\x94");
    jsonl_close(&f);
}

static void test_jsonl_errors(void)
{
    static const struct {
        const char *line;
        const char *message;
    } cases[] = {
        {"[1]", "line 1, character 1: expected '{' (one JSON object per line)"},
        {"{\"a\": tru}", "line 1, key 'a': booleans are not supported (use "
                         "a string)"},
        {"{\"a\": {\"b\": 1}}", "line 1, key 'a': nested objects are not "
                                "supported"},
        {"{\"a\": \"x\\q\"}", "line 1, key 'a': invalid escape '\\q' in a "
                              "string"},
        {"{\"a\": \"\\uD800x\"}", "line 1, key 'a': invalid \\u escape: high "
                                  "surrogate \\uD800 without a low "
                                  "surrogate"},
        {"{\"a\": \"\\uDC00\"}", "line 1, key 'a': invalid \\u escape: "
                                 "unpaired low surrogate \\uDC00"},
        {"{\"a\": \"\\u12G4\"}", "line 1, key 'a': invalid \\u escape "
                                 "(expected 4 hex digits)"},
        {"{\"a\": \"open}", "line 1, key 'a': unterminated string"},
        {"{\"a\": 01}", "line 1, character 8: expected ',' or '}' after a "
                        "value"},
        {"{\"a\": 1.}", "line 1, key 'a': invalid number: no digits after "
                        "'.'"},
        {"{\"a\": 1, \"a\": 2}", "line 1, key 'a': duplicate key"},
        {"{\"a\": [\"x|y\"]}", "line 1, key 'a': array element contains "
                               "'|', the separator of several values"},
        {"{\"a\": [[1]]}", "line 1, key 'a': array elements must be strings "
                           "or numbers"},
        {"{\"a\": \"\xC3\x28\"}", "line 1, key 'a': invalid UTF-8 in a "
                                  "string"},
        {"{\"a\": 1} x", "line 1, character 10: text after the end of the "
                         "object"},
        {"{a: 1}", "line 1, character 2: expected a quoted key"},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        jsonl_fixture_t f;
        jsonl_open(&f, cases[i].line);
        CHECK_INT(jsonl_next(&f), ECIF_EINVAL);
        CHECK_STR(f.err, cases[i].message);
        CHECK_INT(jsonl_next(&f), 0);
        jsonl_close(&f);
    }
}

static void test_jsonl_error_then_next_line(void)
{
    static const char text[] = "{\"a\": 1}\n{\"a\": }\n{\"a\": 3}\n";
    jsonl_fixture_t f;
    jsonl_open(&f, text);
    CHECK_INT(jsonl_next(&f), 1);
    CHECK_INT(jsonl_next(&f), ECIF_EINVAL);
    CHECK_INT(f.row.line, 2);
    CHECK_INT(jsonl_next(&f), 1);
    CHECK_STR(member(&f, "a"), "3");
    CHECK_INT(f.row.line, 3);
    jsonl_close(&f);
}

/* ---- Sources ---------------------------------------------------------- */

static char warnings[1024];

static void collect_warning(void *arg, const char *path, const char *message)
{
    size_t len = strlen(warnings);
    snprintf(warnings + len, sizeof(warnings) - len, "%s;", message);
}

/* Writes text to a file in the test directory and returns its path. */
static const char *write_file(const char *name, const char *text)
{
    static char path[512];
    const char *dir = getenv("ECIF_TEST_TMPDIR");

    snprintf(path, sizeof(path), "%s/%s", dir ? dir : "/tmp", name);
    FILE *fp = fopen(path, "w");
    if (fp == NULL || fputs(text, fp) < 0 || fclose(fp) != 0) {
        perror(path);
        exit(1);
    }
    return path;
}

static void test_source_canonical_csv(void)
{
    const char *path = write_file(
        "source_canonical.csv",
        "source_system,source_id,name,given_name,family_name,id_type,"
        "id_number,phone,email,address,dob,gender,note\r\n"
        "crm,1,\xE5\xBC\xA0\xE4\xB8\x89,,,RESIDENT_ID,110101199003074514,"
        "13800000000 | 010-12345678,,\"1 Road, Beijing\",1990-03-07,M,x\r\n"
        "crm,2,Li,,,,,1|2|3|4|5|6|7|8|9,,,,,y\r\n");
    source_options_t opts = {.warn = collect_warning};
    source_t *source = NULL;
    source_row_t row;
    char err[256] = "";

    warnings[0] = '\0';
    CHECK_INT(
        source_open(path, MAPPING_RECORDS, &opts, &source, err, sizeof(err)),
        ECIF_OK);
    if (source == NULL) {
        fprintf(stderr, "open: %s\n", err);
        return;
    }
    CHECK_STR(warnings, "ignoring 1 unknown column: 'note';");
    CHECK_INT(source_next(source, &row, err, sizeof(err)), 1);
    CHECK_INT(row.line, 2);
    CHECK_STR(row.record.source_system, "crm");
    CHECK_STR(row.record.name, "\xE5\xBC\xA0\xE4\xB8\x89");
    CHECK(row.record.given_name == NULL);
    CHECK_INT(row.record.n_phones, 2);
    CHECK_STR(row.record.phones[0], "13800000000");
    CHECK_STR(row.record.phones[1], "010-12345678");
    CHECK_INT(row.record.n_emails, 0);
    CHECK_INT(row.record.n_addresses, 1);
    CHECK_STR(row.record.addresses[0], "1 Road, Beijing");
    CHECK_STR(row.record.gender, "M");
    CHECK_INT(row.n_columns, 13);
    CHECK_STR(row.values[12], "x");

    CHECK_INT(source_next(source, &row, err, sizeof(err)), ECIF_EINVAL);
    CHECK_STR(err, "column 'phone': more than 8 values");
    CHECK_INT(row.line, 3);
    CHECK_INT(source_next(source, &row, err, sizeof(err)), 0);
    source_close(source);
}

static void test_source_reader_error_line(void)
{
    const char *path =
        write_file("source_short.csv", "source_system,source_id,name\n"
                                       "crm,1,A\n"
                                       "crm,2\n"
                                       "crm,3,C\n");
    source_options_t opts = {0};
    source_t *source = NULL;
    source_row_t row;
    char err[256] = "";

    CHECK_INT(
        source_open(path, MAPPING_RECORDS, &opts, &source, err, sizeof(err)),
        ECIF_OK);
    if (source == NULL)
        return;
    CHECK_INT(source_next(source, &row, err, sizeof(err)), 1);
    CHECK_INT(source_next(source, &row, err, sizeof(err)), ECIF_EINVAL);
    CHECK_STR(err, "character 6: 2 fields, expected 3");
    CHECK_INT(row.line, 3);
    CHECK_INT(source_next(source, &row, err, sizeof(err)), 1);
    CHECK_STR(row.record.source_id, "3");
    source_close(source);
}

static void test_source_missing_column(void)
{
    const char *path =
        write_file("source_missing.csv", "source_system,name\ncrm,A\n");
    source_options_t opts = {0};
    source_t *source = NULL;
    char err[512] = "";
    char want[600];

    CHECK_INT(
        source_open(path, MAPPING_RECORDS, &opts, &source, err, sizeof(err)),
        ECIF_EINVAL);
    CHECK(source == NULL);
    snprintf(want, sizeof(want), "%s: missing required column 'source_id'",
             path);
    CHECK_STR(err, want);
}

static void test_source_mapped_jsonl(void)
{
    const char *path = write_file(
        "source_mapped.jsonl",
        "{\"id\": \"7\", \"first\": \"Ann\", \"last\": \"Lee\", "
        "\"mails\": [\"a@x.org\", \"b@x.org\"], \"extra\": 1}\n"
        "{\"id\": \"8\", \"first\": null, \"last\": \"Wu\", \"extra\": 2}\n"
        "{\"id\": \"9\", \"first\": true}\n");
    mapping_t *mapping;
    source_t *source = NULL;
    source_row_t row;
    char err[256] = "";

    CHECK_INT(mapping_create(&mapping), ECIF_OK);
    CHECK_INT(mapping_add_line(mapping, "m", 1, "source_system = \"web\"", err,
                               sizeof(err)),
              ECIF_OK);
    CHECK_INT(
        mapping_add_line(mapping, "m", 2, "source_id = id", err, sizeof(err)),
        ECIF_OK);
    CHECK_INT(mapping_add_line(mapping, "m", 3, "name = first + last", err,
                               sizeof(err)),
              ECIF_OK);
    CHECK_INT(
        mapping_add_line(mapping, "m", 4, "email = mails", err, sizeof(err)),
        ECIF_OK);
    source_options_t opts = {.mapping = mapping, .warn = collect_warning};
    warnings[0] = '\0';
    CHECK_INT(
        source_open(path, MAPPING_RECORDS, &opts, &source, err, sizeof(err)),
        ECIF_OK);
    if (source == NULL) {
        mapping_destroy(mapping);
        return;
    }
    CHECK_INT(source_next(source, &row, err, sizeof(err)), 1);
    CHECK_STR(row.record.source_system, "web");
    CHECK_STR(row.record.name, "Ann Lee");
    CHECK_INT(row.record.n_emails, 2);
    CHECK_STR(row.record.emails[1], "b@x.org");
    CHECK_STR(source_column_name(source, MAPPING_NAME), "first + last");
    CHECK_STR(source_column_name(source, MAPPING_EMAIL), "mails");
    CHECK_INT(source_next(source, &row, err, sizeof(err)), 1);
    CHECK_STR(row.record.name, "Wu");
    CHECK_INT(row.record.n_emails, 0);
    CHECK_STR(warnings, "line 1: ignoring unknown key 'extra';");
    CHECK_INT(source_next(source, &row, err, sizeof(err)), ECIF_EINVAL);
    CHECK_STR(err, "key 'first': booleans are not supported (use a string)");
    CHECK_INT(row.line, 3);
    CHECK_INT(source_next(source, &row, err, sizeof(err)), 0);
    source_close(source);
    mapping_destroy(mapping);
}

static void test_source_accounts(void)
{
    const char *path = write_file(
        "source_accounts.csv",
        "source_system,source_id,account_id,product,credit_limit,balance,"
        "currency,branch\n"
        "crm,1,A1,loan,\"1,000,000.50\",-12.5,CNY,BJ01\n"
        "crm,1,A2,deposit,,abc,CNY,BJ01\n");
    source_options_t opts = {0};
    source_t *source = NULL;
    source_row_t row;
    char err[256] = "";

    CHECK_INT(
        source_open(path, MAPPING_ACCOUNTS, &opts, &source, err, sizeof(err)),
        ECIF_OK);
    if (source == NULL)
        return;
    CHECK_INT(source_next(source, &row, err, sizeof(err)), 1);
    CHECK_STR(row.source_system, "crm");
    CHECK_STR(row.source_id, "1");
    CHECK_STR(row.account.account_id, "A1");
    CHECK_INT(row.account.credit_limit, 10000005000LL);
    CHECK_INT(row.account.balance, -125000);
    CHECK_STR(row.account.currency, "CNY");
    CHECK_INT(source_next(source, &row, err, sizeof(err)), ECIF_EINVAL);
    CHECK_STR(err, "column 'balance': invalid amount 'abc' (expected a "
                   "decimal such as 1234.50, with at most 4 places and "
                   "below 1e12)");
    source_close(source);
}

static void test_source_headerless_tsv(void)
{
    const char *path =
        write_file("source_census.tsv", "A\tID1  \tANDERSON \t JOHN \n"
                                        "B\tID2\tLEE\tNA\n");
    mapping_t *mapping;
    source_t *source = NULL;
    source_row_t row;
    char err[256] = "";
    static const char *const lines[] = {
        "@header = relation, entity_id, surname, given_name",
        "@delimiter = tab",
        "@null = NA",
        "source_system = \"census\"",
        "source_id = join(\"-\", relation, entity_id)",
        "family_name = surname",
    };

    CHECK_INT(mapping_create(&mapping), ECIF_OK);
    for (unsigned i = 0; i < 6; i++)
        CHECK_INT(
            mapping_add_line(mapping, "m", i + 1, lines[i], err, sizeof(err)),
            ECIF_OK);
    source_options_t opts = {.mapping = mapping};
    CHECK_INT(
        source_open(path, MAPPING_RECORDS, &opts, &source, err, sizeof(err)),
        ECIF_OK);
    if (source != NULL) {
        CHECK_INT(source_next(source, &row, err, sizeof(err)), 1);
        CHECK_INT(row.line, 1);
        CHECK_STR(row.record.source_id, "A-ID1");
        CHECK_STR(row.record.family_name, "ANDERSON");
        CHECK_STR(row.record.given_name, "JOHN");
        CHECK_INT(source_next(source, &row, err, sizeof(err)), 1);
        CHECK(row.record.given_name == NULL);
        source_close(source);
    }
    mapping_destroy(mapping);
}

int main(void)
{
    RUN(test_jsonl_values);
    RUN(test_jsonl_escapes);
    RUN(test_jsonl_errors);
    RUN(test_jsonl_error_then_next_line);
    RUN(test_source_canonical_csv);
    RUN(test_source_reader_error_line);
    RUN(test_source_missing_column);
    RUN(test_source_mapped_jsonl);
    RUN(test_source_accounts);
    RUN(test_source_headerless_tsv);
    return unit_report();
}
