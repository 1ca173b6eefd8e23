/*
 * The JSON Lines reader: a recursive-descent parser for the flat subset of
 * JSON (RFC 8259) that source files use. Each line is read whole, and the
 * decoded keys and values are appended to one row buffer. Members refer to
 * them by offset until the line is done, because the buffer may move
 * while it grows.
 */
#include "jsonl.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "normalize.h"
#include "status.h"

struct jsonl_reader {
    FILE *fp;
    uint64_t line;
    char *text; /* the current line */
    size_t text_cap;
    char *out; /* decoded keys and values */
    size_t out_len;
    size_t out_cap;
    size_t key_at[JSONL_MAX_MEMBERS];
    size_t value_at[JSONL_MAX_MEMBERS]; /* SIZE_MAX for null */
    jsonl_member_t members[JSONL_MAX_MEMBERS];
    size_t n_members;
};

typedef struct jsonl_parser {
    jsonl_reader_t *r;
    const char *start;
    const char *p;
    const char *key; /* key of the member being parsed, for messages */
    char *err;
    size_t errlen;
} jsonl_parser_t;

int jsonl_reader_create(FILE *fp, jsonl_reader_t **out)
{
    jsonl_reader_t *r = calloc(1, sizeof(*r));
    if (r == NULL)
        return ECIF_ENOMEM;
    /* The output buffer exists from the start: the parser offsets into it
     * even before the first byte, and NULL + 0 is undefined. */
    r->out_cap = 1024;
    r->out = malloc(r->out_cap);
    if (r->out == NULL) {
        free(r);
        return ECIF_ENOMEM;
    }
    r->fp = fp;
    *out = r;
    return ECIF_OK;
}

void jsonl_reader_destroy(jsonl_reader_t *reader)
{
    if (reader == NULL)
        return;
    free(reader->text);
    free(reader->out);
    free(reader);
}

static int jsonl_fail(jsonl_parser_t *ps, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int jsonl_fail(jsonl_parser_t *ps, const char *fmt, ...)
{
    char what[256];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    if (ps->key != NULL)
        return ecif_fail(ECIF_EINVAL, ps->err, ps->errlen,
                         "line %llu, key '%.64s': %s",
                         (unsigned long long)ps->r->line, ps->key, what);
    return ecif_fail(
        ECIF_EINVAL, ps->err, ps->errlen, "line %llu, character %zu: %s",
        (unsigned long long)ps->r->line, (size_t)(ps->p - ps->start) + 1, what);
}

static int out_push(jsonl_reader_t *r, const char *bytes, size_t n)
{
    if (r->out_len + n > r->out_cap) {
        size_t cap = r->out_cap ? r->out_cap : 1024;
        while (cap < r->out_len + n)
            cap *= 2;
        char *grown = realloc(r->out, cap);
        if (grown == NULL)
            return ECIF_ENOMEM;
        r->out = grown;
        r->out_cap = cap;
    }
    memcpy(r->out + r->out_len, bytes, n);
    r->out_len += n;
    return ECIF_OK;
}

static void skip_space(jsonl_parser_t *ps)
{
    while (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\r' || *ps->p == '\n')
        ps->p++;
}

static int hex4(const char *p, unsigned *out)
{
    unsigned v = 0;

    for (int i = 0; i < 4; i++) {
        char c = p[i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (unsigned)(c - 'A' + 10);
        else
            return ECIF_EINVAL;
    }
    *out = v;
    return ECIF_OK;
}

static int push_utf8(jsonl_reader_t *r, unsigned cp)
{
    char b[4];
    size_t n;

    if (cp < 0x80) {
        b[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        b[0] = (char)(0xC0 | (cp >> 6));
        b[1] = (char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        b[0] = (char)(0xE0 | (cp >> 12));
        b[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        b[2] = (char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        b[0] = (char)(0xF0 | (cp >> 18));
        b[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        b[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        b[3] = (char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    return out_push(r, b, n);
}

/* Decodes \uXXXX (and the low half of a surrogate pair) after the 'u'. */
static int parse_unicode(jsonl_parser_t *ps)
{
    unsigned cp;
    unsigned low;

    if (hex4(ps->p, &cp) != ECIF_OK)
        return jsonl_fail(ps, "invalid \\u escape (expected 4 hex digits)");
    ps->p += 4;
    if (cp >= 0xDC00 && cp <= 0xDFFF)
        return jsonl_fail(ps,
                          "invalid \\u escape: unpaired low surrogate "
                          "\\u%04X",
                          cp);
    if (cp >= 0xD800 && cp <= 0xDBFF) {
        if (ps->p[0] != '\\' || ps->p[1] != 'u' ||
            hex4(ps->p + 2, &low) != ECIF_OK || low < 0xDC00 || low > 0xDFFF)
            return jsonl_fail(ps,
                              "invalid \\u escape: high surrogate "
                              "\\u%04X without a low surrogate",
                              cp);
        ps->p += 6;
        cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
    }
    if (cp == 0)
        return jsonl_fail(ps, "invalid \\u0000: NUL in a string");
    return push_utf8(ps->r, cp);
}

static int parse_escape(jsonl_parser_t *ps)
{
    static const char from[] = "\"\\/bfnrt";
    static const char to[] = "\"\\/\b\f\n\r\t";
    char c = *ps->p++;

    if (c == 'u')
        return parse_unicode(ps);
    const char *at = c != '\0' ? strchr(from, c) : NULL;
    if (at == NULL)
        return jsonl_fail(ps, "invalid escape '\\%c' in a string", c);
    return out_push(ps->r, &to[at - from], 1);
}

/*
 * Parses a string at the opening quote and appends its decoded bytes
 * (without a NUL) to the row buffer.
 */
static int parse_string_bytes(jsonl_parser_t *ps)
{
    size_t start = ps->r->out_len;
    int rc = ECIF_OK;

    ps->p++;
    while (rc == ECIF_OK) {
        const char *run = ps->p;
        while (*ps->p != '"' && *ps->p != '\\' && *ps->p != '\0' &&
               (unsigned char)*ps->p >= 0x20)
            ps->p++;
        rc = out_push(ps->r, run, (size_t)(ps->p - run));
        if (rc != ECIF_OK)
            return rc;
        if (*ps->p == '"')
            break;
        if (*ps->p == '\0')
            return jsonl_fail(ps, "unterminated string");
        if (*ps->p != '\\')
            return jsonl_fail(ps,
                              "control character 0x%02X in a string "
                              "(escape it)",
                              (unsigned char)*ps->p);
        ps->p++;
        rc = parse_escape(ps);
    }
    ps->p++;
    if (!ecif_utf8_valid(ps->r->out + start, ps->r->out_len - start))
        return jsonl_fail(ps, "invalid UTF-8 in a string");
    return rc;
}

/* Appends a number's literal text after checking its JSON syntax. */
static int parse_number(jsonl_parser_t *ps)
{
    const char *s = ps->p;

    if (*ps->p == '-')
        ps->p++;
    if (*ps->p == '0') {
        ps->p++;
    } else if (*ps->p >= '1' && *ps->p <= '9') {
        while (*ps->p >= '0' && *ps->p <= '9')
            ps->p++;
    } else {
        return jsonl_fail(ps, "invalid number");
    }
    if (*ps->p == '.') {
        ps->p++;
        if (*ps->p < '0' || *ps->p > '9')
            return jsonl_fail(ps, "invalid number: no digits after '.'");
        while (*ps->p >= '0' && *ps->p <= '9')
            ps->p++;
    }
    if (*ps->p == 'e' || *ps->p == 'E') {
        ps->p++;
        if (*ps->p == '+' || *ps->p == '-')
            ps->p++;
        if (*ps->p < '0' || *ps->p > '9')
            return jsonl_fail(ps, "invalid number: no exponent digits");
        while (*ps->p >= '0' && *ps->p <= '9')
            ps->p++;
    }
    return out_push(ps->r, s, (size_t)(ps->p - s));
}

/* Parses one array element (a string or a number), no NUL appended. */
static int parse_element(jsonl_parser_t *ps)
{
    if (*ps->p == '"') {
        size_t start = ps->r->out_len;
        int rc = parse_string_bytes(ps);
        if (rc == ECIF_OK &&
            memchr(ps->r->out + start, '|', ps->r->out_len - start) != NULL)
            return jsonl_fail(ps, "array element contains '|', the "
                                  "separator of several values");
        return rc;
    }
    if (*ps->p == '-' || (*ps->p >= '0' && *ps->p <= '9'))
        return parse_number(ps);
    return jsonl_fail(ps, "array elements must be strings or numbers");
}

/* Parses an array into one '|'-separated value; null elements are skipped. */
static int parse_array(jsonl_parser_t *ps)
{
    bool first = true;

    ps->p++;
    skip_space(ps);
    if (*ps->p == ']') {
        ps->p++;
        return ECIF_OK;
    }
    for (;;) {
        skip_space(ps);
        if (strncmp(ps->p, "null", 4) == 0) {
            ps->p += 4;
        } else {
            int rc = first ? ECIF_OK : out_push(ps->r, "|", 1);
            if (rc == ECIF_OK)
                rc = parse_element(ps);
            if (rc != ECIF_OK)
                return rc;
            first = false;
        }
        skip_space(ps);
        if (*ps->p == ']') {
            ps->p++;
            return ECIF_OK;
        }
        if (*ps->p != ',')
            return jsonl_fail(ps, "expected ',' or ']' in an array");
        ps->p++;
    }
}

/* Parses a member value; *is_null is set for null. */
static int parse_value(jsonl_parser_t *ps, bool *is_null)
{
    *is_null = false;
    switch (*ps->p) {
    case '"':
        return parse_string_bytes(ps);
    case '[':
        return parse_array(ps);
    case '{':
        return jsonl_fail(ps, "nested objects are not supported");
    case 't':
    case 'f':
        return jsonl_fail(ps, "booleans are not supported (use a string)");
    case 'n':
        if (strncmp(ps->p, "null", 4) != 0)
            break;
        ps->p += 4;
        *is_null = true;
        return ECIF_OK;
    default:
        if (*ps->p == '-' || (*ps->p >= '0' && *ps->p <= '9'))
            return parse_number(ps);
        break;
    }
    return jsonl_fail(ps, "invalid value (expected a string, number, array "
                          "or null)");
}

static int check_duplicate(jsonl_parser_t *ps, size_t key_at)
{
    jsonl_reader_t *r = ps->r;

    for (size_t i = 0; i < r->n_members; i++) {
        if (strcmp(r->out + r->key_at[i], r->out + key_at) == 0)
            return jsonl_fail(ps, "duplicate key");
    }
    return ECIF_OK;
}

static int parse_member(jsonl_parser_t *ps)
{
    jsonl_reader_t *r = ps->r;
    size_t key_at = r->out_len;
    bool is_null;

    if (*ps->p != '"')
        return jsonl_fail(ps, "expected a quoted key");
    if (r->n_members == JSONL_MAX_MEMBERS)
        return jsonl_fail(ps, "more than %d keys in one object",
                          JSONL_MAX_MEMBERS);
    int rc = parse_string_bytes(ps);
    if (rc == ECIF_OK)
        rc = out_push(r, "", 1);
    if (rc != ECIF_OK)
        return rc;
    /* Messages name the key from here on. */
    char key[72];
    snprintf(key, sizeof(key), "%s", r->out + key_at);
    ps->key = key;
    rc = check_duplicate(ps, key_at);
    if (rc != ECIF_OK)
        return rc;
    skip_space(ps);
    if (*ps->p != ':')
        return jsonl_fail(ps, "expected ':' after the key");
    ps->p++;
    skip_space(ps);

    size_t value_at = r->out_len;
    rc = parse_value(ps, &is_null);
    if (rc == ECIF_OK && !is_null)
        rc = out_push(r, "", 1);
    ps->key = NULL;
    if (rc != ECIF_OK)
        return rc;
    r->key_at[r->n_members] = key_at;
    r->value_at[r->n_members] = is_null ? SIZE_MAX : value_at;
    r->n_members++;
    return ECIF_OK;
}

static int parse_object(jsonl_parser_t *ps)
{
    skip_space(ps);
    if (*ps->p != '{')
        return jsonl_fail(ps, "expected '{' (one JSON object per line)");
    ps->p++;
    skip_space(ps);
    if (*ps->p == '}') {
        ps->p++;
    } else {
        for (;;) {
            skip_space(ps);
            int rc = parse_member(ps);
            if (rc != ECIF_OK)
                return rc;
            skip_space(ps);
            if (*ps->p == '}') {
                ps->p++;
                break;
            }
            if (*ps->p != ',')
                return jsonl_fail(ps, "expected ',' or '}' after a value");
            ps->p++;
        }
    }
    skip_space(ps);
    if (*ps->p != '\0')
        return jsonl_fail(ps, "text after the end of the object");
    return ECIF_OK;
}

/* Reads the next non-blank line into r->text. Returns 1, 0 or an error. */
static int read_line(jsonl_reader_t *r, char *err, size_t errlen)
{
    for (;;) {
        errno = 0;
        ssize_t n = getline(&r->text, &r->text_cap, r->fp);
        if (n < 0) {
            if (ferror(r->fp))
                return ecif_fail(
                    ECIF_EIO, err, errlen, "line %llu: read failed: %s",
                    (unsigned long long)r->line + 1, strerror(errno));
            return 0;
        }
        r->line++;
        if ((size_t)n > JSONL_MAX_LINE_BYTES)
            return ecif_fail(ECIF_ELIMIT, err, errlen,
                             "line %llu: longer than %u bytes",
                             (unsigned long long)r->line, JSONL_MAX_LINE_BYTES);
        if (strlen(r->text) != (size_t)n)
            return ecif_fail(ECIF_EINVAL, err, errlen,
                             "line %llu: NUL byte in the line",
                             (unsigned long long)r->line);
        char *p = r->text;
        if (r->line == 1 && strncmp(p, "\xEF\xBB\xBF", 3) == 0)
            memmove(p, p + 3, strlen(p + 3) + 1);
        p += strspn(p, " \t\r\n");
        if (*p != '\0')
            return 1;
    }
}

int jsonl_reader_next(jsonl_reader_t *r, jsonl_row_t *row, char *err,
                      size_t errlen)
{
    int rc = read_line(r, err, errlen);
    if (rc <= 0)
        return rc;

    jsonl_parser_t ps = {
        .r = r, .start = r->text, .p = r->text, .err = err, .errlen = errlen};
    r->out_len = 0;
    r->n_members = 0;
    row->line = r->line;
    row->n_members = 0;
    row->members = r->members;
    rc = parse_object(&ps);
    if (rc != ECIF_OK)
        return rc;
    for (size_t i = 0; i < r->n_members; i++) {
        r->members[i].key = r->out + r->key_at[i];
        r->members[i].value =
            r->value_at[i] == SIZE_MAX ? NULL : r->out + r->value_at[i];
    }
    row->n_members = r->n_members;
    return 1;
}
