/*
 * Column mappings: how the columns of a source file make up the fields of
 * a record or an account.
 *
 * A mapping is a list of lines `field = expr`. An expression is a column
 * name, a `backquoted column` (for names with spaces or empty names), a
 * "quoted constant", date(Y, M, D) (zero-padded YYYY-MM-DD from three
 * columns) or join("SEP", a, b, ...) (the non-empty parts joined by SEP);
 * several of them joined with `+` are joined by one space, empty parts
 * skipped. `#` starts a comment outside quotes. Three settings describe
 * the file itself:
 *
 *   @header = a, b, c     the file has no header line; these are its columns
 *   @delimiter = tab      the field delimiter: tab, comma, or one character
 *   @null = NA, "N/A"     values that mean missing
 *
 * A field without a line reads the column of its own name when the file
 * has one, so a mapping lists only the fields that differ from the
 * canonical layout. A mapping is bound to a file's columns before use.
 * The binding resolves column names to indexes once and reports an unknown
 * column with the mapping file and line.
 */
#ifndef ECIF_TOOLS_MAPPING_H
#define ECIF_TOOLS_MAPPING_H

#include <stdbool.h>
#include <stddef.h>

/* Fields of the canonical record and account layouts, in header order. */
typedef enum mapping_field {
    MAPPING_SOURCE_SYSTEM,
    MAPPING_SOURCE_ID,
    MAPPING_NAME,
    MAPPING_GIVEN_NAME,
    MAPPING_FAMILY_NAME,
    MAPPING_ID_TYPE,
    MAPPING_ID_NUMBER,
    MAPPING_PHONE,
    MAPPING_EMAIL,
    MAPPING_ADDRESS,
    MAPPING_DOB,
    MAPPING_GENDER,
    MAPPING_UPDATED_AT,
    MAPPING_ACCOUNT_ID,
    MAPPING_PRODUCT,
    MAPPING_CREDIT_LIMIT,
    MAPPING_BALANCE,
    MAPPING_CURRENCY,
    MAPPING_BRANCH,
    MAPPING_FIELD_COUNT
} mapping_field_t;

/* Which layout a file has: the fields a binding evaluates. */
typedef enum mapping_kind {
    MAPPING_RECORDS,
    MAPPING_ACCOUNTS,
} mapping_kind_t;

typedef struct mapping mapping_t;
typedef struct mapping_binding mapping_binding_t;

/* Returns the canonical column name of a field ("family_name"). */
const char *mapping_field_name(mapping_field_t field);

/* Returns the field called name, or -1 when there is none. */
int mapping_field_lookup(const char *name);

/* Returns whether field is one of the fields of kind. */
bool mapping_field_in_kind(mapping_field_t field, mapping_kind_t kind);

/* Creates an empty mapping: every field reads its canonical column. */
int mapping_create(mapping_t **out);

void mapping_destroy(mapping_t *mapping);

/*
 * Adds the lines of the mapping file at path. A field set again replaces
 * its earlier expression. Returns ECIF_OK, ECIF_EIO or ECIF_EINVAL with
 * "PATH:LINE: ..." in err.
 */
int mapping_load_file(mapping_t *mapping, const char *path, char *err,
                      size_t errlen);

/*
 * Adds one line `field = expr` (or a setting). origin names where the text
 * came from in messages, such as a file name or "--map". Returns ECIF_OK
 * or ECIF_EINVAL with "ORIGIN:LINE: ..." in err.
 */
int mapping_add_line(mapping_t *mapping, const char *origin, unsigned line,
                     const char *text, char *err, size_t errlen);

/* Returns the @header columns (NULL when unset) and their count. */
const char *const *mapping_header(const mapping_t *mapping, size_t *count);

/* Returns the @delimiter setting, or '\0' when unset. */
char mapping_delimiter(const mapping_t *mapping);

/*
 * Stores in names (room for max) the distinct columns that the fields of
 * kind read: a column of each field's canonical name when the field has
 * no expression, else the columns of its expression. Returns the count,
 * which may exceed max. The names stay owned by the mapping.
 */
size_t mapping_columns(const mapping_t *mapping, mapping_kind_t kind,
                       const char **names, size_t max);

/*
 * Binds the fields of kind to a file's columns. A field expression that
 * names a column the file lacks is an error naming the mapping line, and
 * so is a missing source_system or source_id. Returns ECIF_OK, ECIF_EINVAL
 * or ECIF_ENOMEM. The binding refers to mapping, which must outlive it.
 */
int mapping_bind(const mapping_t *mapping, mapping_kind_t kind,
                 const char *const *columns, size_t n_columns,
                 mapping_binding_t **out, char *err, size_t errlen);

void mapping_binding_destroy(mapping_binding_t *binding);

/*
 * Lists the columns that no bound field reads, separated by ", ", into
 * buf. Returns the number of such columns.
 */
size_t mapping_binding_unused(const mapping_binding_t *binding, char *buf,
                              size_t buflen);

/*
 * Describes the source of field for messages: the column name when the
 * field reads one column, else the expression text. Returns the canonical
 * field name for an unbound field.
 */
const char *mapping_binding_source(const mapping_binding_t *binding,
                                   mapping_field_t field);

/*
 * Returns whether the field has a source in this binding: an expression
 * or a column of its canonical name.
 */
bool mapping_binding_has(const mapping_binding_t *binding,
                         mapping_field_t field);

/*
 * Evaluates field over one row (values[i] is column i, NULL or "" when
 * missing) and appends the result and a NUL to the growable buffer
 * *buf (*len bytes used of *cap). Returns ECIF_OK or ECIF_ENOMEM.
 */
int mapping_eval(const mapping_binding_t *binding, mapping_field_t field,
                 const char *const *values, char **buf, size_t *len,
                 size_t *cap);

#endif
