/*
 * The callers ecifd serves and what each may call: the access file of
 * `ecifd --access` (rpc/ACCESS.md). A caller is a principal with a set of
 * scopes and the SHA-256 digest of its bearer token.
 */
#ifndef ECIF_RPC_ACCESS_H
#define ECIF_RPC_ACCESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sha256.h"

/* Scopes, one bit each. A method needs at most one of them. */
enum {
    ECIF_SCOPE_RESOLVE = 1u << 0,  /* Resolve */
    ECIF_SCOPE_READ = 1u << 1,     /* GetCustomer, Explain, GetHistory */
    ECIF_SCOPE_EXPOSURE = 1u << 2, /* GetExposure */
    ECIF_SCOPE_CORRECT = 1u << 3,  /* Merge, Split, NotSameCustomer */
    ECIF_SCOPE_ADD = 1u << 4,      /* AddRecord */
};

/* Maximum length of a principal name in bytes. */
#define ECIF_PRINCIPAL_MAX 64

typedef struct ecif_principal {
    char name[ECIF_PRINCIPAL_MAX + 1];
    uint32_t scopes;
    uint8_t digest[ECIF_SHA256_BYTES]; /* SHA-256 of the token */
} ecif_principal_t;

typedef struct ecif_access ecif_access_t;

/*
 * Reads the access file at path. Rejects a file that group or others may
 * write, because a user who can write it can grant any scope.
 * Returns ECIF_OK, ECIF_EIO (the file cannot be read), ECIF_EINVAL (a line
 * does not parse: the message names the line, the field and the value,
 * never a digest) or ECIF_ENOMEM.
 */
int ecif_access_load(const char *path, ecif_access_t **out, char *err,
                     size_t errlen);

/* Frees the access list. Accepts NULL. */
void ecif_access_free(ecif_access_t *access);

/* Returns the number of principals. */
size_t ecif_access_count(const ecif_access_t *access);

/*
 * Returns the principal whose digest is the SHA-256 of the len bytes of
 * token, or NULL. Every digest is compared in full, so the time does not
 * depend on where a wrong token's digest differs.
 */
const ecif_principal_t *ecif_access_find(const ecif_access_t *access,
                                         const char *token, size_t len);

/* Returns whether name is a valid principal: 1 to ECIF_PRINCIPAL_MAX
 * characters from A-Z a-z 0-9 . _ - */
bool ecif_principal_valid(const char *name);

/* Returns the name of one scope bit ("resolve"), or "?" for another
 * value. */
const char *ecif_scope_str(uint32_t scope);

/*
 * Parses a comma-separated scope list ("resolve,read") into *scopes.
 * Returns ECIF_OK or ECIF_EINVAL with the unknown or repeated scope in
 * err.
 */
int ecif_scope_parse(const char *list, uint32_t *scopes, char *err,
                     size_t errlen);

/* Writes "sha256:" and the 64 hex digits of the digest of token to out,
 * which must have room for 72 bytes. */
void ecif_token_digest_str(const char *token, size_t len, char out[72]);

#endif
