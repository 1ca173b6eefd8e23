/*
 * Hashing: 64-bit hashes for blocking keys and string interning, and
 * CRC-32C for snapshot section checksums.
 */
#ifndef ECIF_HASH_H
#define ECIF_HASH_H

#include <stddef.h>
#include <stdint.h>

/*
 * Returns a 64-bit hash of len bytes, never 0 (0 marks an empty slot in the
 * key index). The value is part of the snapshot format: changing the
 * function requires a new format version.
 */
uint64_t ecif_hash64(const void *data, size_t len, uint64_t seed);

/*
 * Extends a CRC-32C (Castagnoli) over len bytes. Start with crc = 0. Uses
 * the SSE4.2 instruction when the CPU has it.
 */
uint32_t ecif_crc32c(uint32_t crc, const void *data, size_t len);

#endif
