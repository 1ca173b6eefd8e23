/*
 * Column mappings: a small parser for `field = expr` lines and an
 * evaluator over the bound column indexes of one row.
 *
 * An expression is a list of terms joined by one space. A term is a
 * column, a constant, or a function (date, join) over columns and
 * constants. Binding resolves every column name to an index once per
 * file, in the order the evaluator walks the terms, so evaluating a row
 * does no lookups and no allocation beyond the output buffer.
 */
#include "mapping.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "status.h"

/* Maximum bytes of one mapping line. */
#define MAPPING_MAX_LINE 4096

/* Maximum arguments of a function term. */
#define MAPPING_MAX_ARGS 16

enum term_kind {
    TERM_COLUMN,
    TERM_CONSTANT,
    TERM_DATE, /* date(Y, M, D) */
    TERM_JOIN, /* join("SEP", ...): text is the separator */
};

typedef struct mapping_term {
    enum term_kind kind;
    char *text; /* column name, constant or separator */
    struct mapping_term *args;
    size_t n_args;
} mapping_term_t;

typedef struct mapping_expr {
    mapping_term_t *terms;
    size_t n_terms;
    char *text;       /* the expression as written */
    char *origin;     /* "FILE:LINE" of the line that set it */
    size_t n_columns; /* column references, arguments included */
} mapping_expr_t;

struct mapping {
    mapping_expr_t *exprs[MAPPING_FIELD_COUNT];
    char **header;
    size_t n_header;
    char delimiter;
    char **nulls;
    size_t n_nulls;
};

struct mapping_binding {
    const mapping_t *mapping;
    mapping_kind_t kind;
    char **columns;
    size_t n_columns;
    bool *used;
    /* Column index per column reference of each field's expression. */
    int *indexes[MAPPING_FIELD_COUNT];
    /* Column of the field's own name when it has no expression, or -1. */
    int identity[MAPPING_FIELD_COUNT];
};

static const char *const mapping_field_names[MAPPING_FIELD_COUNT] = {
    "source_system", "source_id", "name",       "given_name", "family_name",
    "id_type",       "id_number", "phone",      "email",      "address",
    "dob",           "gender",    "updated_at", "account_id", "product",
    "credit_limit",  "balance",   "currency",   "branch",
};

const char *mapping_field_name(mapping_field_t field)
{
    return mapping_field_names[field];
}

int mapping_field_lookup(const char *name)
{
    for (int i = 0; i < MAPPING_FIELD_COUNT; i++) {
        if (strcmp(name, mapping_field_names[i]) == 0)
            return i;
    }
    return -1;
}

bool mapping_field_in_kind(mapping_field_t field, mapping_kind_t kind)
{
    if (field == MAPPING_SOURCE_SYSTEM || field == MAPPING_SOURCE_ID)
        return true;
    if (kind == MAPPING_RECORDS)
        return field <= MAPPING_UPDATED_AT;
    return field >= MAPPING_ACCOUNT_ID;
}

int mapping_create(mapping_t **out)
{
    *out = calloc(1, sizeof(**out));
    return *out == NULL ? ECIF_ENOMEM : ECIF_OK;
}

static void term_fini(mapping_term_t *term)
{
    for (size_t i = 0; i < term->n_args; i++)
        term_fini(&term->args[i]);
    free(term->args);
    free(term->text);
}

static void expr_destroy(mapping_expr_t *expr)
{
    if (expr == NULL)
        return;
    for (size_t i = 0; i < expr->n_terms; i++)
        term_fini(&expr->terms[i]);
    free(expr->terms);
    free(expr->text);
    free(expr->origin);
    free(expr);
}

static void strings_free(char **list, size_t count)
{
    for (size_t i = 0; i < count; i++)
        free(list[i]);
    free(list);
}

void mapping_destroy(mapping_t *mapping)
{
    if (mapping == NULL)
        return;
    for (int i = 0; i < MAPPING_FIELD_COUNT; i++)
        expr_destroy(mapping->exprs[i]);
    strings_free(mapping->header, mapping->n_header);
    strings_free(mapping->nulls, mapping->n_nulls);
    free(mapping);
}

/* ---- Parsing ---------------------------------------------------------- */

enum token_kind {
    TOKEN_END,
    TOKEN_NAME,     /* a bare column or function name */
    TOKEN_QUOTED,   /* "constant" */
    TOKEN_BACKTICK, /* `column name` */
    TOKEN_PLUS,
    TOKEN_OPEN,
    TOKEN_CLOSE,
    TOKEN_COMMA,
    TOKEN_EQUALS,
};

typedef struct parser {
    const char *p;
    const char *where; /* "ORIGIN:LINE" for messages */
    char *err;
    size_t errlen;
    enum token_kind kind;
    char text[MAPPING_MAX_LINE];
} parser_t;

static int parser_fail(parser_t *ps, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int parser_fail(parser_t *ps, const char *fmt, ...)
{
    char what[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    return ecif_fail(ECIF_EINVAL, ps->err, ps->errlen, "%s: %s", ps->where,
                     what);
}

static bool is_name_char(char c)
{
    return c != '\0' && !isspace((unsigned char)c) &&
           strchr("+(),`\"#=", c) == NULL;
}

/* Reads a quoted token ending at close; \" and \\ escape in constants. */
static int parser_quoted(parser_t *ps, char close)
{
    size_t n = 0;

    ps->p++;
    while (*ps->p != close) {
        if (*ps->p == '\0')
            return parser_fail(ps, "missing closing %c", close);
        if (close == '"' && *ps->p == '\\' &&
            (ps->p[1] == '"' || ps->p[1] == '\\'))
            ps->p++;
        ps->text[n++] = *ps->p++;
    }
    ps->p++;
    ps->text[n] = '\0';
    return ECIF_OK;
}

/* Reads the next token into ps->kind and ps->text. */
static int parser_next(parser_t *ps)
{
    static const char singles[] = "+(),=";
    static const enum token_kind single_kinds[] = {
        TOKEN_PLUS, TOKEN_OPEN, TOKEN_CLOSE, TOKEN_COMMA, TOKEN_EQUALS,
    };

    while (isspace((unsigned char)*ps->p))
        ps->p++;
    ps->text[0] = '\0';
    if (*ps->p == '\0' || *ps->p == '#') {
        ps->kind = TOKEN_END;
        return ECIF_OK;
    }
    const char *single = strchr(singles, *ps->p);
    if (single != NULL) {
        ps->kind = single_kinds[single - singles];
        ps->text[0] = *ps->p++;
        ps->text[1] = '\0';
        return ECIF_OK;
    }
    if (*ps->p == '"') {
        ps->kind = TOKEN_QUOTED;
        return parser_quoted(ps, '"');
    }
    if (*ps->p == '`') {
        ps->kind = TOKEN_BACKTICK;
        return parser_quoted(ps, '`');
    }
    size_t n = 0;
    while (is_name_char(*ps->p))
        ps->text[n++] = *ps->p++;
    ps->text[n] = '\0';
    ps->kind = TOKEN_NAME;
    return ECIF_OK;
}

static int term_set(mapping_term_t *term, enum term_kind kind, const char *text)
{
    term->kind = kind;
    term->text = strdup(text);
    return term->text == NULL ? ECIF_ENOMEM : ECIF_OK;
}

/* Parses the arguments of a function after its '('. */
static int parse_args(parser_t *ps, mapping_term_t *term)
{
    term->args = calloc(MAPPING_MAX_ARGS, sizeof(*term->args));
    if (term->args == NULL)
        return ECIF_ENOMEM;
    for (;;) {
        int rc = parser_next(ps);
        if (rc != ECIF_OK)
            return rc;
        if (ps->kind == TOKEN_CLOSE && term->n_args == 0)
            break;
        if (term->n_args == MAPPING_MAX_ARGS)
            return parser_fail(ps, "%s() takes at most %d arguments",
                               term->kind == TERM_DATE ? "date" : "join",
                               MAPPING_MAX_ARGS);
        mapping_term_t *arg = &term->args[term->n_args];
        if (ps->kind == TOKEN_QUOTED)
            rc = term_set(arg, TERM_CONSTANT, ps->text);
        else if (ps->kind == TOKEN_NAME || ps->kind == TOKEN_BACKTICK)
            rc = term_set(arg, TERM_COLUMN, ps->text);
        else
            return parser_fail(ps,
                               "expected a column or a constant, "
                               "found '%s'",
                               ps->text);
        if (rc != ECIF_OK)
            return rc;
        term->n_args++;
        rc = parser_next(ps);
        if (rc != ECIF_OK)
            return rc;
        if (ps->kind == TOKEN_CLOSE)
            break;
        if (ps->kind != TOKEN_COMMA)
            return parser_fail(ps, "expected ',' or ')' in the arguments");
    }
    return ECIF_OK;
}

/* Checks the arguments of a function term and moves join's separator. */
static int check_function(parser_t *ps, mapping_term_t *term)
{
    if (term->kind == TERM_DATE) {
        if (term->n_args != 3)
            return parser_fail(ps,
                               "date() takes 3 arguments (year, month, "
                               "day), found %zu",
                               term->n_args);
        return ECIF_OK;
    }
    if (term->n_args < 2 || term->args[0].kind != TERM_CONSTANT)
        return parser_fail(ps, "join() takes a quoted separator and at "
                               "least one column");
    term->text = term->args[0].text;
    memmove(&term->args[0], &term->args[1],
            (term->n_args - 1) * sizeof(*term->args));
    term->n_args--;
    return ECIF_OK;
}

/* Parses one term at the current token. */
static int parse_term(parser_t *ps, mapping_term_t *term)
{
    if (ps->kind == TOKEN_QUOTED)
        return term_set(term, TERM_CONSTANT, ps->text);
    if (ps->kind == TOKEN_BACKTICK)
        return term_set(term, TERM_COLUMN, ps->text);
    if (ps->kind != TOKEN_NAME)
        return parser_fail(ps,
                           "expected a column, a \"constant\" or a "
                           "function, found '%s'",
                           ps->kind == TOKEN_END ? "end of line" : ps->text);

    /* A name followed by '(' is a function call. */
    const char *after = ps->p;
    while (isspace((unsigned char)*after))
        after++;
    if (*after != '(')
        return term_set(term, TERM_COLUMN, ps->text);
    if (strcmp(ps->text, "date") == 0)
        term->kind = TERM_DATE;
    else if (strcmp(ps->text, "join") == 0)
        term->kind = TERM_JOIN;
    else
        return parser_fail(ps,
                           "unknown function '%s' (expected date or "
                           "join)",
                           ps->text);
    ps->p = after + 1;
    int rc = parse_args(ps, term);
    if (rc != ECIF_OK)
        return rc;
    return check_function(ps, term);
}

static size_t count_columns(const mapping_term_t *terms, size_t n)
{
    size_t count = 0;

    for (size_t i = 0; i < n; i++) {
        if (terms[i].kind == TERM_COLUMN)
            count++;
        count += count_columns(terms[i].args, terms[i].n_args);
    }
    return count;
}

/* Parses `term + term ...` up to the end of the line. */
static int parse_expr(parser_t *ps, mapping_expr_t *expr)
{
    size_t cap = 0;

    for (;;) {
        int rc = parser_next(ps);
        if (rc != ECIF_OK)
            return rc;
        if (expr->n_terms == cap) {
            cap = cap ? cap * 2 : 4;
            mapping_term_t *terms = realloc(expr->terms, cap * sizeof(*terms));
            if (terms == NULL)
                return ECIF_ENOMEM;
            expr->terms = terms;
        }
        mapping_term_t *term = &expr->terms[expr->n_terms];
        memset(term, 0, sizeof(*term));
        expr->n_terms++;
        rc = parse_term(ps, term);
        if (rc != ECIF_OK)
            return rc;
        rc = parser_next(ps);
        if (rc != ECIF_OK)
            return rc;
        if (ps->kind == TOKEN_END)
            break;
        if (ps->kind != TOKEN_PLUS)
            return parser_fail(ps,
                               "expected '+' or the end of the line, "
                               "found '%s'",
                               ps->text);
    }
    expr->n_columns = count_columns(expr->terms, expr->n_terms);
    return ECIF_OK;
}

/* Parses a comma-separated list of names or constants into *list. */
static int parse_list(parser_t *ps, char ***list, size_t *count)
{
    strings_free(*list, *count);
    *list = NULL;
    *count = 0;
    for (;;) {
        int rc = parser_next(ps);
        if (rc != ECIF_OK)
            return rc;
        if (ps->kind != TOKEN_NAME && ps->kind != TOKEN_QUOTED &&
            ps->kind != TOKEN_BACKTICK)
            return parser_fail(ps,
                               "expected a name or a \"value\" in the "
                               "list, found '%s'",
                               ps->text);
        char **grown = realloc(*list, (*count + 1) * sizeof(*grown));
        if (grown == NULL)
            return ECIF_ENOMEM;
        *list = grown;
        grown[*count] = strdup(ps->text);
        if (grown[*count] == NULL)
            return ECIF_ENOMEM;
        (*count)++;
        rc = parser_next(ps);
        if (rc != ECIF_OK)
            return rc;
        if (ps->kind == TOKEN_END)
            return ECIF_OK;
        if (ps->kind != TOKEN_COMMA)
            return parser_fail(ps, "expected ',' between list items");
    }
}

static int parse_delimiter(parser_t *ps, mapping_t *mapping)
{
    int rc = parser_next(ps);
    if (rc != ECIF_OK)
        return rc;
    const char *value = ps->text;
    if (ps->kind == TOKEN_NAME && strcmp(value, "tab") == 0)
        mapping->delimiter = '\t';
    else if (ps->kind == TOKEN_NAME && strcmp(value, "comma") == 0)
        mapping->delimiter = ',';
    else if (ps->kind == TOKEN_QUOTED && strlen(value) == 1 && value[0] != '"')
        mapping->delimiter = value[0];
    else if (ps->kind == TOKEN_NAME && strlen(value) == 1)
        mapping->delimiter = value[0];
    else
        return parser_fail(ps,
                           "invalid delimiter '%s' (expected tab, "
                           "comma or one character)",
                           value);
    rc = parser_next(ps);
    if (rc == ECIF_OK && ps->kind != TOKEN_END)
        return parser_fail(ps, "unexpected '%s' after the delimiter", ps->text);
    return rc;
}

/* Parses `@setting = value` after the '@'. */
static int parse_setting(parser_t *ps, mapping_t *mapping)
{
    char name[64];
    int rc = parser_next(ps);

    if (rc != ECIF_OK)
        return rc;
    snprintf(name, sizeof(name), "%.63s", ps->text);
    rc = parser_next(ps);
    if (rc != ECIF_OK)
        return rc;
    if (ps->kind != TOKEN_EQUALS)
        return parser_fail(ps, "expected '=' after @%s", name);
    if (strcmp(name, "header") == 0)
        return parse_list(ps, &mapping->header, &mapping->n_header);
    if (strcmp(name, "null") == 0)
        return parse_list(ps, &mapping->nulls, &mapping->n_nulls);
    if (strcmp(name, "delimiter") == 0)
        return parse_delimiter(ps, mapping);
    return parser_fail(ps,
                       "unknown setting '@%s' (expected @header, "
                       "@delimiter or @null)",
                       name);
}

/* Parses `field = expr` and stores it, replacing an earlier one. */
static int parse_field(parser_t *ps, mapping_t *mapping)
{
    int rc = parser_next(ps);
    if (rc != ECIF_OK)
        return rc;
    int field = mapping_field_lookup(ps->text);
    if (ps->kind != TOKEN_NAME || field < 0)
        return parser_fail(ps,
                           "unknown field '%s' (expected a canonical "
                           "column such as source_id or family_name)",
                           ps->text);
    rc = parser_next(ps);
    if (rc != ECIF_OK)
        return rc;
    if (ps->kind != TOKEN_EQUALS)
        return parser_fail(ps, "expected '=' after the field name");

    const char *text = ps->p;
    while (isspace((unsigned char)*text))
        text++;
    mapping_expr_t *expr = calloc(1, sizeof(*expr));
    if (expr == NULL)
        return ECIF_ENOMEM;
    rc = parse_expr(ps, expr);
    if (rc == ECIF_OK) {
        size_t len = (size_t)(ps->p - text);
        while (len > 0 && isspace((unsigned char)text[len - 1]))
            len--;
        expr->text = strndup(text, len);
        expr->origin = strdup(ps->where);
        if (expr->text == NULL || expr->origin == NULL)
            rc = ECIF_ENOMEM;
    }
    if (rc != ECIF_OK) {
        expr_destroy(expr);
        return rc;
    }
    expr_destroy(mapping->exprs[field]);
    mapping->exprs[field] = expr;
    return ECIF_OK;
}

/* Drops a '#' comment that is outside quotes and backquotes. */
static void strip_comment(char *text)
{
    char quote = 0;

    for (char *p = text; *p != '\0'; p++) {
        if (quote != 0) {
            if (*p == '\\' && quote == '"' && p[1] != '\0')
                p++;
            else if (*p == quote)
                quote = 0;
        } else if (*p == '"' || *p == '`') {
            quote = *p;
        } else if (*p == '#') {
            *p = '\0';
            return;
        }
    }
}

int mapping_add_line(mapping_t *mapping, const char *origin, unsigned line,
                     const char *text, char *err, size_t errlen)
{
    char where[512];
    char buf[MAPPING_MAX_LINE];
    parser_t ps = {.err = err, .errlen = errlen, .where = where};

    if (line > 0)
        snprintf(where, sizeof(where), "%s:%u", origin, line);
    else
        snprintf(where, sizeof(where), "%s", origin);
    if (strlen(text) >= sizeof(buf))
        return parser_fail(&ps, "line longer than %d bytes",
                           MAPPING_MAX_LINE - 1);
    strcpy(buf, text);
    strip_comment(buf);
    ps.p = buf;
    while (isspace((unsigned char)*ps.p))
        ps.p++;
    if (*ps.p == '\0')
        return ECIF_OK;
    if (*ps.p == '@') {
        ps.p++;
        return parse_setting(&ps, mapping);
    }
    return parse_field(&ps, mapping);
}

int mapping_load_file(mapping_t *mapping, const char *path, char *err,
                      size_t errlen)
{
    FILE *fp = fopen(path, "r");
    char *line = NULL;
    size_t cap = 0;
    unsigned number = 0;
    int rc = ECIF_OK;

    if (fp == NULL)
        return ecif_fail(ECIF_EIO, err, errlen, "%s: cannot open: %s", path,
                         strerror(errno));
    while (rc == ECIF_OK && getline(&line, &cap, fp) >= 0) {
        number++;
        line[strcspn(line, "\r\n")] = '\0';
        rc = mapping_add_line(mapping, path, number, line, err, errlen);
    }
    if (rc == ECIF_OK && ferror(fp))
        rc = ecif_fail(ECIF_EIO, err, errlen, "%s: read failed: %s", path,
                       strerror(errno));
    free(line);
    fclose(fp);
    return rc;
}

const char *const *mapping_header(const mapping_t *mapping, size_t *count)
{
    *count = mapping->n_header;
    return (const char *const *)mapping->header;
}

char mapping_delimiter(const mapping_t *mapping)
{
    return mapping->delimiter;
}

static bool mapping_is_null(const mapping_t *mapping, const char *value)
{
    for (size_t i = 0; i < mapping->n_nulls; i++) {
        if (strcmp(value, mapping->nulls[i]) == 0)
            return true;
    }
    return false;
}

static size_t add_name(const char **names, size_t count, size_t max,
                       const char *name)
{
    for (size_t i = 0; i < count && i < max; i++) {
        if (strcmp(names[i], name) == 0)
            return count;
    }
    if (count < max)
        names[count] = name;
    return count + 1;
}

static size_t add_term_names(const mapping_term_t *terms, size_t n,
                             const char **names, size_t count, size_t max)
{
    for (size_t i = 0; i < n; i++) {
        if (terms[i].kind == TERM_COLUMN)
            count = add_name(names, count, max, terms[i].text);
        count =
            add_term_names(terms[i].args, terms[i].n_args, names, count, max);
    }
    return count;
}

size_t mapping_columns(const mapping_t *mapping, mapping_kind_t kind,
                       const char **names, size_t max)
{
    size_t count = 0;

    for (int f = 0; f < MAPPING_FIELD_COUNT; f++) {
        const mapping_expr_t *expr = mapping->exprs[f];
        if (!mapping_field_in_kind((mapping_field_t)f, kind))
            continue;
        if (expr == NULL)
            count = add_name(names, count, max, mapping_field_names[f]);
        else
            count =
                add_term_names(expr->terms, expr->n_terms, names, count, max);
    }
    return count;
}

/* ---- Binding ---------------------------------------------------------- */

static int find_column(const mapping_binding_t *b, const char *name)
{
    for (size_t i = 0; i < b->n_columns; i++) {
        if (strcmp(b->columns[i], name) == 0)
            return (int)i;
    }
    return -1;
}

/* Resolves the column references of terms into *out, in walk order. */
static int bind_terms(mapping_binding_t *b, const mapping_expr_t *expr,
                      const mapping_term_t *terms, size_t n, int **out,
                      char *err, size_t errlen)
{
    for (size_t i = 0; i < n; i++) {
        const mapping_term_t *term = &terms[i];
        if (term->kind == TERM_COLUMN) {
            int index = find_column(b, term->text);
            if (index < 0)
                return ecif_fail(ECIF_EINVAL, err, errlen,
                                 "%s: unknown column '%s' (the file has "
                                 "no column of that name)",
                                 expr->origin, term->text);
            b->used[index] = true;
            *(*out)++ = index;
        }
        int rc =
            bind_terms(b, expr, term->args, term->n_args, out, err, errlen);
        if (rc != ECIF_OK)
            return rc;
    }
    return ECIF_OK;
}

static int bind_field(mapping_binding_t *b, mapping_field_t field, char *err,
                      size_t errlen)
{
    const mapping_expr_t *expr = b->mapping->exprs[field];

    b->identity[field] = -1;
    if (expr == NULL) {
        b->identity[field] = find_column(b, mapping_field_names[field]);
        if (b->identity[field] >= 0)
            b->used[b->identity[field]] = true;
        else if (field == MAPPING_SOURCE_SYSTEM || field == MAPPING_SOURCE_ID ||
                 (b->kind == MAPPING_ACCOUNTS && field == MAPPING_ACCOUNT_ID))
            return ecif_fail(ECIF_EINVAL, err, errlen,
                             "missing required column '%s'",
                             mapping_field_names[field]);
        return ECIF_OK;
    }
    b->indexes[field] = calloc(expr->n_columns + 1, sizeof(int));
    if (b->indexes[field] == NULL)
        return ECIF_ENOMEM;
    int *next = b->indexes[field];
    return bind_terms(b, expr, expr->terms, expr->n_terms, &next, err, errlen);
}

int mapping_bind(const mapping_t *mapping, mapping_kind_t kind,
                 const char *const *columns, size_t n_columns,
                 mapping_binding_t **out, char *err, size_t errlen)
{
    mapping_binding_t *b = calloc(1, sizeof(*b));
    int rc = ECIF_ENOMEM;

    if (b == NULL)
        return ECIF_ENOMEM;
    b->mapping = mapping;
    b->kind = kind;
    b->n_columns = n_columns;
    b->columns = calloc(n_columns + 1, sizeof(*b->columns));
    b->used = calloc(n_columns + 1, sizeof(*b->used));
    if (b->columns == NULL || b->used == NULL)
        goto fail;
    for (size_t i = 0; i < n_columns; i++) {
        b->columns[i] = strdup(columns[i]);
        if (b->columns[i] == NULL)
            goto fail;
    }
    for (int f = 0; f < MAPPING_FIELD_COUNT; f++) {
        b->identity[f] = -1;
        if (!mapping_field_in_kind((mapping_field_t)f, kind))
            continue;
        rc = bind_field(b, (mapping_field_t)f, err, errlen);
        if (rc != ECIF_OK)
            goto fail;
    }
    *out = b;
    return ECIF_OK;

fail:
    mapping_binding_destroy(b);
    return rc;
}

void mapping_binding_destroy(mapping_binding_t *binding)
{
    if (binding == NULL)
        return;
    for (int f = 0; f < MAPPING_FIELD_COUNT; f++)
        free(binding->indexes[f]);
    strings_free(binding->columns, binding->n_columns);
    free(binding->used);
    free(binding);
}

size_t mapping_binding_unused(const mapping_binding_t *binding, char *buf,
                              size_t buflen)
{
    size_t count = 0;
    size_t len = 0;

    if (buflen > 0)
        buf[0] = '\0';
    for (size_t i = 0; i < binding->n_columns; i++) {
        if (binding->used[i])
            continue;
        if (len < buflen)
            len += (size_t)snprintf(buf + len, buflen - len, "%s'%s'",
                                    count > 0 ? ", " : "", binding->columns[i]);
        count++;
    }
    return count;
}

const char *mapping_binding_source(const mapping_binding_t *binding,
                                   mapping_field_t field)
{
    const mapping_expr_t *expr = binding->mapping->exprs[field];

    if (expr == NULL)
        return mapping_field_names[field];
    if (expr->n_terms == 1 && expr->terms[0].kind == TERM_COLUMN)
        return expr->terms[0].text;
    return expr->text;
}

bool mapping_binding_has(const mapping_binding_t *binding,
                         mapping_field_t field)
{
    return binding->mapping->exprs[field] != NULL ||
           binding->identity[field] >= 0;
}

/* ---- Evaluation ------------------------------------------------------- */

typedef struct output {
    char **buf;
    size_t *len;
    size_t *cap;
} output_t;

static int output_append(output_t *out, const char *text, size_t n)
{
    if (*out->len + n + 1 > *out->cap) {
        size_t cap = *out->cap ? *out->cap : 256;
        while (cap < *out->len + n + 1)
            cap *= 2;
        char *grown = realloc(*out->buf, cap);
        if (grown == NULL)
            return ECIF_ENOMEM;
        *out->buf = grown;
        *out->cap = cap;
    }
    memcpy(*out->buf + *out->len, text, n);
    *out->len += n;
    return ECIF_OK;
}

static const char *column_value(const mapping_binding_t *b,
                                const char *const *values, int index)
{
    const char *value = values[index];

    if (value == NULL || mapping_is_null(b->mapping, value))
        return "";
    return value;
}

static bool all_digits(const char *s)
{
    if (*s == '\0')
        return false;
    for (; *s != '\0'; s++) {
        if (!isdigit((unsigned char)*s))
            return false;
    }
    return true;
}

/*
 * Writes date(Y, M, D): zero-padded when all three parts are numbers,
 * nothing when one is missing, and the parts joined by '-' otherwise so
 * that validation reports the value as found.
 */
static int eval_date(const char *parts[3], output_t *out)
{
    char text[64];

    if (parts[0][0] == '\0' || parts[1][0] == '\0' || parts[2][0] == '\0')
        return ECIF_OK;
    if (all_digits(parts[0]) && all_digits(parts[1]) && all_digits(parts[2]) &&
        strlen(parts[0]) <= 4 && strlen(parts[1]) <= 2 && strlen(parts[2]) <= 2)
        snprintf(text, sizeof(text), "%04d-%02d-%02d", atoi(parts[0]),
                 atoi(parts[1]), atoi(parts[2]));
    else
        snprintf(text, sizeof(text), "%.20s-%.20s-%.20s", parts[0], parts[1],
                 parts[2]);
    return output_append(out, text, strlen(text));
}

static const char *arg_value(const mapping_binding_t *b,
                             const mapping_term_t *arg,
                             const char *const *values, const int **index)
{
    if (arg->kind == TERM_CONSTANT)
        return arg->text;
    return column_value(b, values, *(*index)++);
}

static int eval_term(const mapping_binding_t *b, const mapping_term_t *term,
                     const char *const *values, const int **index,
                     output_t *out)
{
    const char *parts[3];
    bool wrote = false;
    int rc = ECIF_OK;

    switch (term->kind) {
    case TERM_CONSTANT:
        return output_append(out, term->text, strlen(term->text));
    case TERM_COLUMN: {
        const char *value = column_value(b, values, *(*index)++);
        return output_append(out, value, strlen(value));
    }
    case TERM_DATE:
        for (int i = 0; i < 3; i++)
            parts[i] = arg_value(b, &term->args[i], values, index);
        return eval_date(parts, out);
    case TERM_JOIN:
        for (size_t i = 0; i < term->n_args && rc == ECIF_OK; i++) {
            const char *value = arg_value(b, &term->args[i], values, index);
            if (value[0] == '\0')
                continue;
            if (wrote)
                rc = output_append(out, term->text, strlen(term->text));
            if (rc == ECIF_OK)
                rc = output_append(out, value, strlen(value));
            wrote = true;
        }
        return rc;
    }
    return ECIF_EINVAL;
}

int mapping_eval(const mapping_binding_t *binding, mapping_field_t field,
                 const char *const *values, char **buf, size_t *len,
                 size_t *cap)
{
    const mapping_expr_t *expr = binding->mapping->exprs[field];
    output_t out = {buf, len, cap};
    int rc = ECIF_OK;

    if (expr == NULL) {
        const char *value = "";
        if (binding->identity[field] >= 0)
            value = column_value(binding, values, binding->identity[field]);
        rc = output_append(&out, value, strlen(value));
        return rc == ECIF_OK ? output_append(&out, "", 1) : rc;
    }

    const int *index = binding->indexes[field];
    bool wrote = false;
    for (size_t i = 0; i < expr->n_terms && rc == ECIF_OK; i++) {
        size_t mark = *len;
        if (wrote)
            rc = output_append(&out, " ", 1);
        size_t start = *len;
        if (rc == ECIF_OK)
            rc = eval_term(binding, &expr->terms[i], values, &index, &out);
        if (*len == start)
            *len = mark; /* an empty part adds no space */
        else
            wrote = true;
    }
    return rc == ECIF_OK ? output_append(&out, "", 1) : rc;
}
