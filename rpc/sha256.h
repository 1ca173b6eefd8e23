/*
 * SHA-256 (FIPS 180-4), for the token digests of the access file. Tokens
 * are short, so the whole input is passed at once.
 */
#ifndef ECIF_RPC_SHA256_H
#define ECIF_RPC_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define ECIF_SHA256_BYTES 32

/* Writes the SHA-256 digest of len bytes at data to out. */
void ecif_sha256(const void *data, size_t len, uint8_t out[ECIF_SHA256_BYTES]);

#endif
