/*
 * The access file: parsing, token lookup and scope names. The format and
 * the reasons behind it are in rpc/ACCESS.md.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "access.h"
#include "status.h"

/* Maximum length of a line of the access file, newline included. */
#define ACCESS_LINE_MAX 1024

struct ecif_access {
    ecif_principal_t *principals;
    size_t count;
    size_t cap;
};

static const struct {
    const char *name;
    uint32_t bit;
} scope_names[] = {
    {"resolve", ECIF_SCOPE_RESOLVE},   {"read", ECIF_SCOPE_READ},
    {"exposure", ECIF_SCOPE_EXPOSURE}, {"correct", ECIF_SCOPE_CORRECT},
    {"add", ECIF_SCOPE_ADD},
};

#define SCOPE_COUNT (sizeof(scope_names) / sizeof(scope_names[0]))

const char *ecif_scope_str(uint32_t scope)
{
    for (size_t i = 0; i < SCOPE_COUNT; i++) {
        if (scope_names[i].bit == scope)
            return scope_names[i].name;
    }
    return "?";
}

int ecif_scope_parse(const char *list, uint32_t *scopes, char *err,
                     size_t errlen)
{
    *scopes = 0;
    const char *p = list;
    for (;;) {
        size_t len = strcspn(p, ",");
        uint32_t bit = 0;
        for (size_t i = 0; i < SCOPE_COUNT; i++) {
            if (strlen(scope_names[i].name) == len &&
                memcmp(scope_names[i].name, p, len) == 0)
                bit = scope_names[i].bit;
        }
        if (bit == 0)
            return ecif_fail(ECIF_EINVAL, err, errlen,
                             "unknown scope '%.*s' (expected resolve, read, "
                             "exposure, correct or add)",
                             (int)(len > 64 ? 64 : len), p);
        if (*scopes & bit)
            return ecif_fail(ECIF_EINVAL, err, errlen,
                             "scope '%s' is listed twice", ecif_scope_str(bit));
        *scopes |= bit;
        if (p[len] == '\0')
            return ECIF_OK;
        p += len + 1;
    }
}

static const char hex_digits[] = "0123456789abcdef";

void ecif_token_digest_str(const char *token, size_t len, char out[72])
{
    uint8_t digest[ECIF_SHA256_BYTES];

    ecif_sha256(token, len, digest);
    memcpy(out, "sha256:", 7);
    for (int i = 0; i < ECIF_SHA256_BYTES; i++) {
        out[7 + 2 * i] = hex_digits[digest[i] >> 4];
        out[8 + 2 * i] = hex_digits[digest[i] & 0xf];
    }
    out[71] = '\0';
}

/* Parses "sha256:" and 64 lower-case hex digits into digest. */
static bool parse_digest(const char *text, uint8_t digest[ECIF_SHA256_BYTES])
{
    if (strncmp(text, "sha256:", 7) != 0 || strlen(text) != 7 + 64)
        return false;
    for (int i = 0; i < 64; i++) {
        const char *at = strchr(hex_digits, text[7 + i]);
        if (text[7 + i] == '\0' || at == NULL)
            return false;
        uint8_t nibble = (uint8_t)(at - hex_digits);
        if (i % 2 == 0)
            digest[i / 2] = (uint8_t)(nibble << 4);
        else
            digest[i / 2] |= nibble;
    }
    return true;
}

bool ecif_principal_valid(const char *name)
{
    size_t len = strlen(name);
    if (len == 0 || len > ECIF_PRINCIPAL_MAX)
        return false;
    /* "-" stands for no principal in the audit log. */
    if (strchr(".-_", name[0]) != NULL)
        return false;
    return strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                        "0123456789._-") == len;
}

/* Splits line into at most max whitespace-separated fields in place.
 * Returns the number of fields, or max + 1 when there are more. */
static int split_fields(char *line, char **fields, int max)
{
    int n = 0;
    char *save = NULL;
    for (char *tok = strtok_r(line, " \t\r\n", &save); tok != NULL;
         tok = strtok_r(NULL, " \t\r\n", &save)) {
        if (n == max)
            return max + 1;
        fields[n++] = tok;
    }
    return n;
}

/* Parses one line that is neither blank nor a comment into *p. */
static int parse_line(char *line, const char *path, unsigned lineno,
                      ecif_principal_t *p, char *err, size_t errlen)
{
    char *fields[3];
    int n = split_fields(line, fields, 3);
    if (n != 3)
        return ecif_fail(ECIF_EINVAL, err, errlen,
                         "access file '%s' line %u: expected 3 fields "
                         "(principal, scopes, token digest), found %s",
                         path, lineno,
                         n > 3    ? "more"
                         : n == 2 ? "2"
                                  : "1");
    /* Values are not quoted: a token or digest pasted into the wrong
     * column would otherwise reach the log. */
    if (!ecif_principal_valid(fields[0]))
        return ecif_fail(ECIF_EINVAL, err, errlen,
                         "access file '%s' line %u: principal: not 1 to %d "
                         "characters of A-Z a-z 0-9 . _ - starting with a "
                         "letter or digit",
                         path, lineno, ECIF_PRINCIPAL_MAX);
    snprintf(p->name, sizeof(p->name), "%s", fields[0]);

    char why[160];
    if (ecif_scope_parse(fields[1], &p->scopes, why, sizeof(why)) != ECIF_OK)
        return ecif_fail(ECIF_EINVAL, err, errlen,
                         "access file '%s' line %u: scopes of '%s': not a "
                         "comma-separated list of resolve, read, exposure, "
                         "correct and add, each at most once",
                         path, lineno, p->name);
    if (!parse_digest(fields[2], p->digest))
        return ecif_fail(ECIF_EINVAL, err, errlen,
                         "access file '%s' line %u: token digest of '%s' is "
                         "invalid: expected sha256: and 64 lower-case hex "
                         "digits (ecifctl token prints one)",
                         path, lineno, p->name);
    return ECIF_OK;
}

/* Appends p after checking that its name and digest are new. */
static int add_principal(ecif_access_t *a, const ecif_principal_t *p,
                         const char *path, unsigned lineno, char *err,
                         size_t errlen)
{
    for (size_t i = 0; i < a->count; i++) {
        if (strcmp(a->principals[i].name, p->name) == 0)
            return ecif_fail(ECIF_EINVAL, err, errlen,
                             "access file '%s' line %u: principal '%s' is "
                             "listed twice",
                             path, lineno, p->name);
        if (memcmp(a->principals[i].digest, p->digest, ECIF_SHA256_BYTES) == 0)
            return ecif_fail(ECIF_EINVAL, err, errlen,
                             "access file '%s' line %u: principals '%s' and "
                             "'%s' have one token digest; give each its own "
                             "token",
                             path, lineno, a->principals[i].name, p->name);
    }
    if (a->count == a->cap) {
        size_t cap = a->cap ? 2 * a->cap : 8;
        ecif_principal_t *grown = realloc(a->principals, cap * sizeof(*grown));
        if (grown == NULL)
            return ecif_fail(ECIF_ENOMEM, err, errlen,
                             "out of memory reading the access file");
        a->principals = grown;
        a->cap = cap;
    }
    a->principals[a->count++] = *p;
    return ECIF_OK;
}

/*
 * Parses one line of got bytes. A NUL byte would hide the rest of the line
 * from ecifd but not from an editor or grep, so it is rejected, as is a
 * line longer than ACCESS_LINE_MAX.
 */
static int parse_text_line(char *line, size_t got, const char *path,
                           unsigned lineno, ecif_access_t *a, char *err,
                           size_t errlen)
{
    if (got > ACCESS_LINE_MAX)
        return ecif_fail(ECIF_EINVAL, err, errlen,
                         "access file '%s' line %u: longer than %d bytes", path,
                         lineno, ACCESS_LINE_MAX - 1);
    if (strlen(line) != got)
        return ecif_fail(ECIF_EINVAL, err, errlen,
                         "access file '%s' line %u: contains a NUL byte", path,
                         lineno);
    char *hash = strchr(line, '#');
    if (hash != NULL)
        *hash = '\0';
    if (line[strspn(line, " \t\r\n")] == '\0')
        return ECIF_OK;
    ecif_principal_t p;
    memset(&p, 0, sizeof(p));
    int rc = parse_line(line, path, lineno, &p, err, errlen);
    if (rc == ECIF_OK)
        rc = add_principal(a, &p, path, lineno, err, errlen);
    return rc;
}

/* Reads every line of f into a. */
static int parse_file(FILE *f, const char *path, ecif_access_t *a, char *err,
                      size_t errlen)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t got;
    unsigned lineno = 0;
    int rc = ECIF_OK;

    while (rc == ECIF_OK && (got = getline(&line, &cap, f)) >= 0) {
        lineno++;
        rc = parse_text_line(line, (size_t)got, path, lineno, a, err, errlen);
    }
    free(line);
    if (rc != ECIF_OK)
        return rc;
    if (ferror(f))
        return ecif_fail(ECIF_EIO, err, errlen,
                         "reading the access file '%s' failed: %s", path,
                         strerror(errno));
    return ECIF_OK;
}

int ecif_access_load(const char *path, ecif_access_t **out, char *err,
                     size_t errlen)
{
    *out = NULL;
    /* O_NONBLOCK: opening a FIFO must not wait for a writer. */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return ecif_fail(ECIF_EIO, err, errlen,
                         "opening the access file '%s' failed: %s", path,
                         strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return ecif_fail(ECIF_EINVAL, err, errlen,
                         "access file '%s' is not a regular file", path);
    }
    if (st.st_uid != geteuid() && st.st_uid != 0) {
        close(fd);
        return ecif_fail(ECIF_EINVAL, err, errlen,
                         "access file '%s' belongs to user %u, neither "
                         "ecifd's user nor root, who could grant any scope",
                         path, (unsigned)st.st_uid);
    }
    FILE *f = fdopen(fd, "r");
    if (f == NULL) {
        close(fd);
        return ecif_fail(ECIF_ENOMEM, err, errlen,
                         "out of memory reading the access file");
    }
    if (st.st_mode & (S_IWGRP | S_IWOTH)) {
        fclose(f);
        return ecif_fail(ECIF_EINVAL, err, errlen,
                         "access file '%s' may be written by group or "
                         "others (mode %03o), who could grant themselves any "
                         "scope; run chmod go-w on it",
                         path, (unsigned)(st.st_mode & 0777));
    }

    ecif_access_t *a = calloc(1, sizeof(*a));
    if (a == NULL) {
        fclose(f);
        return ecif_fail(ECIF_ENOMEM, err, errlen,
                         "out of memory reading the access file");
    }
    int rc = parse_file(f, path, a, err, errlen);
    fclose(f);
    if (rc != ECIF_OK) {
        ecif_access_free(a);
        return rc;
    }
    *out = a;
    return ECIF_OK;
}

void ecif_access_free(ecif_access_t *access)
{
    if (access == NULL)
        return;
    free(access->principals);
    free(access);
}

size_t ecif_access_count(const ecif_access_t *access)
{
    return access->count;
}

const ecif_principal_t *ecif_access_find(const ecif_access_t *access,
                                         const char *token, size_t len)
{
    uint8_t digest[ECIF_SHA256_BYTES];
    const ecif_principal_t *found = NULL;

    ecif_sha256(token, len, digest);
    for (size_t i = 0; i < access->count; i++) {
        uint8_t diff = 0;
        for (int b = 0; b < ECIF_SHA256_BYTES; b++)
            diff |= (uint8_t)(access->principals[i].digest[b] ^ digest[b]);
        if (diff == 0)
            found = &access->principals[i];
    }
    return found;
}
