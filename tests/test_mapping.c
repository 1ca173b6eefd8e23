/*
 * Unit tests of column mappings: parsing, binding to a file's columns and
 * evaluating fields over one row.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mapping.h"
#include "status.h"
#include "unit.h"

static const char *const febrl_columns[] = {
    "rec_id",    "given_name",    "surname",    "street_number",
    "address_1", "address_2",     "suburb",     "postcode",
    "state",     "date_of_birth", "soc_sec_id",
};
#define FEBRL_COLUMNS (sizeof(febrl_columns) / sizeof(febrl_columns[0]))

/* Evaluation output of one field, reset for every call. */
static char *eval_buf;
static size_t eval_len;
static size_t eval_cap;

static const char *eval(const mapping_binding_t *binding, mapping_field_t field,
                        const char *const *values)
{
    eval_len = 0;
    if (mapping_eval(binding, field, values, &eval_buf, &eval_len, &eval_cap) !=
        ECIF_OK)
        return NULL;
    return eval_buf;
}

static mapping_t *parse(const char *const *lines, size_t n, char *err,
                        size_t errlen, int *rc)
{
    mapping_t *mapping;

    if (mapping_create(&mapping) != ECIF_OK)
        exit(1);
    *rc = ECIF_OK;
    for (size_t i = 0; i < n && *rc == ECIF_OK; i++)
        *rc = mapping_add_line(mapping, "test.map", (unsigned)(i + 1), lines[i],
                               err, errlen);
    return mapping;
}

static void test_constants_and_columns(void)
{
    static const char *const lines[] = {
        "# Febrl layout",
        "source_system = \"febrl\"",
        "source_id = rec_id   # the record id",
        "family_name = surname",
        "id_type = \"SSN\"",
        "id_number = soc_sec_id",
        "dob = date_of_birth",
    };
    const char *row[FEBRL_COLUMNS] = {
        "rec-1-org", "elie", "smith", "6",        "tullaroop street", "",
        "st james",  "4011", "wa",    "19081209", "6988048",
    };
    char err[256] = "";
    int rc;
    mapping_t *mapping = parse(lines, 7, err, sizeof(err), &rc);
    CHECK_INT(rc, ECIF_OK);

    mapping_binding_t *binding = NULL;
    rc = mapping_bind(mapping, MAPPING_RECORDS, febrl_columns, FEBRL_COLUMNS,
                      &binding, err, sizeof(err));
    CHECK_INT(rc, ECIF_OK);
    if (binding == NULL) {
        fprintf(stderr, "bind: %s\n", err);
        mapping_destroy(mapping);
        return;
    }
    CHECK_STR(eval(binding, MAPPING_SOURCE_SYSTEM, row), "febrl");
    CHECK_STR(eval(binding, MAPPING_SOURCE_ID, row), "rec-1-org");
    CHECK_STR(eval(binding, MAPPING_FAMILY_NAME, row), "smith");
    CHECK_STR(eval(binding, MAPPING_GIVEN_NAME, row), "elie");
    CHECK_STR(eval(binding, MAPPING_ID_TYPE, row), "SSN");
    CHECK_STR(eval(binding, MAPPING_DOB, row), "19081209");
    CHECK_STR(eval(binding, MAPPING_PHONE, row), "");
    CHECK(!mapping_binding_has(binding, MAPPING_PHONE));
    CHECK(mapping_binding_has(binding, MAPPING_GIVEN_NAME));
    CHECK_STR(mapping_binding_source(binding, MAPPING_DOB), "date_of_birth");
    CHECK_STR(mapping_binding_source(binding, MAPPING_GIVEN_NAME),
              "given_name");

    char unused[256];
    CHECK_INT(mapping_binding_unused(binding, unused, sizeof(unused)), 6);
    CHECK_STR(unused, "'street_number', 'address_1', 'address_2', "
                      "'suburb', 'postcode', 'state'");
    mapping_binding_destroy(binding);
    mapping_destroy(mapping);
}

static void test_join_skips_empty_parts(void)
{
    static const char *const lines[] = {
        "source_system = \"febrl\"",
        "source_id = rec_id",
        "address = street_number + address_1 + address_2 + suburb + "
        "postcode + state",
        "name = given_name + \"\" + surname",
    };
    const char *row[FEBRL_COLUMNS] = {
        "rec-1-org", "",     "smith", "6",        "tullaroop street", "",
        "st james",  "4011", "wa",    "19081209", "6988048",
    };
    char err[256] = "";
    int rc;
    mapping_t *mapping = parse(lines, 4, err, sizeof(err), &rc);
    CHECK_INT(rc, ECIF_OK);
    mapping_binding_t *binding = NULL;
    rc = mapping_bind(mapping, MAPPING_RECORDS, febrl_columns, FEBRL_COLUMNS,
                      &binding, err, sizeof(err));
    CHECK_INT(rc, ECIF_OK);
    if (binding != NULL) {
        CHECK_STR(eval(binding, MAPPING_ADDRESS, row),
                  "6 tullaroop street st james 4011 wa");
        CHECK_STR(eval(binding, MAPPING_NAME, row), "smith");
        CHECK_STR(mapping_binding_source(binding, MAPPING_ADDRESS),
                  "street_number + address_1 + address_2 + suburb + "
                  "postcode + state");
    }
    mapping_binding_destroy(binding);
    mapping_destroy(mapping);
}

static void test_functions_and_nulls(void)
{
    static const char *const lines[] = {
        "@null = NA, \"N/A\"",
        "source_system = \"rl\"",
        "source_id = join(\"-\", `rec id`, \"x\")",
        "dob = date(by, bm, bd)",
        "given_name = fname_c1 + fname_c2",
    };
    static const char *const columns[] = {
        "rec id", "by", "bm", "bd", "fname_c1", "fname_c2",
    };
    const char *row[] = {"7", "1949", "7", "2", "CARSTEN", "NA"};
    const char *bad_date[] = {"8", "1949", "July", "2", "N/A", "LUTZ"};
    const char *no_date[] = {"9", "1949", "NA", "2", "", ""};
    char err[256] = "";
    int rc;
    mapping_t *mapping = parse(lines, 5, err, sizeof(err), &rc);
    CHECK_INT(rc, ECIF_OK);
    mapping_binding_t *binding = NULL;
    rc = mapping_bind(mapping, MAPPING_RECORDS, columns, 6, &binding, err,
                      sizeof(err));
    CHECK_INT(rc, ECIF_OK);
    if (binding != NULL) {
        CHECK_STR(eval(binding, MAPPING_SOURCE_ID, row), "7-x");
        CHECK_STR(eval(binding, MAPPING_DOB, row), "1949-07-02");
        CHECK_STR(eval(binding, MAPPING_GIVEN_NAME, row), "CARSTEN");
        CHECK_STR(eval(binding, MAPPING_DOB, bad_date), "1949-July-2");
        CHECK_STR(eval(binding, MAPPING_GIVEN_NAME, bad_date), "LUTZ");
        CHECK_STR(eval(binding, MAPPING_DOB, no_date), "");
        CHECK_STR(mapping_binding_source(binding, MAPPING_DOB),
                  "date(by, bm, bd)");
    }
    mapping_binding_destroy(binding);
    mapping_destroy(mapping);
}

static void test_settings(void)
{
    static const char *const lines[] = {
        "@header = relation, entity_id, surname",
        "@delimiter = tab",
    };
    char err[256] = "";
    int rc;
    size_t count = 0;
    mapping_t *mapping = parse(lines, 2, err, sizeof(err), &rc);
    CHECK_INT(rc, ECIF_OK);
    const char *const *header = mapping_header(mapping, &count);
    CHECK_INT(count, 3);
    if (count == 3)
        CHECK_STR(header[2], "surname");
    CHECK_INT(mapping_delimiter(mapping), '\t');
    CHECK_INT(mapping_add_line(mapping, "m", 3, "@delimiter = \";\"", err,
                               sizeof(err)),
              ECIF_OK);
    CHECK_INT(mapping_delimiter(mapping), ';');
    mapping_destroy(mapping);
}

static void test_unknown_column_error(void)
{
    static const char *const lines[] = {
        "source_system = \"febrl\"",
        "",
        "source_id = rec_id",
        "address = street_number + street_name",
    };
    char err[256] = "";
    int rc;
    mapping_t *mapping = parse(lines, 4, err, sizeof(err), &rc);
    CHECK_INT(rc, ECIF_OK);
    mapping_binding_t *binding = NULL;
    rc = mapping_bind(mapping, MAPPING_RECORDS, febrl_columns, FEBRL_COLUMNS,
                      &binding, err, sizeof(err));
    CHECK_INT(rc, ECIF_EINVAL);
    CHECK(binding == NULL);
    CHECK_STR(err, "test.map:4: unknown column 'street_name' (the file has "
                   "no column of that name)");
    mapping_destroy(mapping);
}

static void test_missing_required_column(void)
{
    static const char *const columns[] = {"source_system", "name"};
    mapping_t *mapping;
    mapping_binding_t *binding = NULL;
    char err[256] = "";

    CHECK_INT(mapping_create(&mapping), ECIF_OK);
    CHECK_INT(mapping_bind(mapping, MAPPING_RECORDS, columns, 2, &binding, err,
                           sizeof(err)),
              ECIF_EINVAL);
    CHECK_STR(err, "missing required column 'source_id'");
    mapping_destroy(mapping);
}

static void test_flags_override_file(void)
{
    static const char *const columns[] = {"source_system", "source_id",
                                          "surname", "family_name"};
    const char *row[] = {"crm", "1", "LEE", "WANG"};
    mapping_t *mapping;
    mapping_binding_t *binding = NULL;
    char err[256] = "";

    CHECK_INT(mapping_create(&mapping), ECIF_OK);
    CHECK_INT(mapping_add_line(mapping, "f.map", 1, "family_name = surname",
                               err, sizeof(err)),
              ECIF_OK);
    CHECK_INT(mapping_add_line(mapping, "--map", 0, "family_name=family_name",
                               err, sizeof(err)),
              ECIF_OK);
    CHECK_INT(mapping_bind(mapping, MAPPING_RECORDS, columns, 4, &binding, err,
                           sizeof(err)),
              ECIF_OK);
    if (binding != NULL)
        CHECK_STR(eval(binding, MAPPING_FAMILY_NAME, row), "WANG");
    mapping_binding_destroy(binding);
    mapping_destroy(mapping);
}

static void test_syntax_errors(void)
{
    static const struct {
        const char *line;
        const char *message;
    } cases[] = {
        {"surname = x", "t.map:5: unknown field 'surname' (expected a "
                        "canonical column such as source_id or "
                        "family_name)"},
        {"name x", "t.map:5: expected '=' after the field name"},
        {"name = ", "t.map:5: expected a column, a \"constant\" or a "
                    "function, found 'end of line'"},
        {"name = a b", "t.map:5: expected '+' or the end of the line, "
                       "found 'b'"},
        {"name = \"open", "t.map:5: missing closing \""},
        {"dob = date(y, m)", "t.map:5: date() takes 3 arguments (year, "
                             "month, day), found 2"},
        {"name = upper(a)", "t.map:5: unknown function 'upper' (expected "
                            "date or join)"},
        {"name = join(a, b)", "t.map:5: join() takes a quoted separator "
                              "and at least one column"},
        {"@quote = x", "t.map:5: unknown setting '@quote' (expected "
                       "@header, @delimiter or @null)"},
        {"@delimiter = ab", "t.map:5: invalid delimiter 'ab' (expected "
                            "tab, comma or one character)"},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        mapping_t *mapping;
        char err[256] = "";
        CHECK_INT(mapping_create(&mapping), ECIF_OK);
        CHECK_INT(mapping_add_line(mapping, "t.map", 5, cases[i].line, err,
                                   sizeof(err)),
                  ECIF_EINVAL);
        CHECK_STR(err, cases[i].message);
        mapping_destroy(mapping);
    }
}

static void test_hash_inside_constant(void)
{
    static const char *const columns[] = {"source_system", "source_id"};
    const char *row[] = {"crm", "1"};
    mapping_t *mapping;
    mapping_binding_t *binding = NULL;
    char err[256] = "";

    CHECK_INT(mapping_create(&mapping), ECIF_OK);
    CHECK_INT(mapping_add_line(mapping, "m", 1,
                               "id_type = \"NO. #1 \\\"A\\\"\" # comment", err,
                               sizeof(err)),
              ECIF_OK);
    CHECK_INT(mapping_bind(mapping, MAPPING_RECORDS, columns, 2, &binding, err,
                           sizeof(err)),
              ECIF_OK);
    if (binding != NULL)
        CHECK_STR(eval(binding, MAPPING_ID_TYPE, row), "NO. #1 \"A\"");
    mapping_binding_destroy(binding);
    mapping_destroy(mapping);
}

static void test_load_file(void)
{
    const char *dir = getenv("ECIF_TEST_TMPDIR");
    char path[512];
    char err[512] = "";
    mapping_t *mapping;

    snprintf(path, sizeof(path), "%s/test_mapping.map", dir ? dir : "/tmp");
    FILE *fp = fopen(path, "w");
    CHECK(fp != NULL);
    if (fp == NULL)
        return;
    fputs("# comment\r\nsource_id = id\r\nname = = x\r\n", fp);
    fclose(fp);
    CHECK_INT(mapping_create(&mapping), ECIF_OK);
    CHECK_INT(mapping_load_file(mapping, path, err, sizeof(err)), ECIF_EINVAL);
    char want[600];
    snprintf(want, sizeof(want),
             "%s:3: expected a column, a \"constant\" or a function, "
             "found '='",
             path);
    CHECK_STR(err, want);
    mapping_destroy(mapping);
    remove(path);

    CHECK_INT(mapping_create(&mapping), ECIF_OK);
    CHECK_INT(mapping_load_file(mapping, path, err, sizeof(err)), ECIF_EIO);
    mapping_destroy(mapping);
}

int main(void)
{
    RUN(test_constants_and_columns);
    RUN(test_join_skips_empty_parts);
    RUN(test_functions_and_nulls);
    RUN(test_settings);
    RUN(test_unknown_column_error);
    RUN(test_missing_required_column);
    RUN(test_flags_override_file);
    RUN(test_syntax_errors);
    RUN(test_hash_inside_constant);
    RUN(test_load_file);
    free(eval_buf);
    return unit_report();
}
