/*
 * FNV-1a over the bytes, followed by a 64-bit avalanche finalizer so that
 * both the high bits (which pick a shard) and the low bits (which pick a
 * slot) are well mixed. CRC-32C in hardware where available.
 */
#include <nmmintrin.h>
#include <string.h>

#include "hash.h"

uint64_t ecif_hash64(const void *data, size_t len, uint64_t seed)
{
    const unsigned char *p = data;
    uint64_t h = 0xcbf29ce484222325ULL ^ seed;

    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h != 0 ? h : 1;
}

static uint32_t crc_table[256];

static void crc_table_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? (c >> 1) ^ 0x82F63B78U : c >> 1;
        crc_table[i] = c;
    }
}

static uint32_t crc32c_soft(uint32_t crc, const unsigned char *p, size_t len)
{
    static int ready;

    if (!__atomic_load_n(&ready, __ATOMIC_ACQUIRE)) {
        crc_table_init(); /* idempotent, so a race only repeats work */
        __atomic_store_n(&ready, 1, __ATOMIC_RELEASE);
    }
    for (size_t i = 0; i < len; i++)
        crc = crc_table[(crc ^ p[i]) & 0xFF] ^ (crc >> 8);
    return crc;
}

__attribute__((target("sse4.2"))) static uint32_t
crc32c_hw(uint32_t crc, const unsigned char *p, size_t len)
{
    uint64_t c = crc;

    while (len >= 8) {
        uint64_t word;
        memcpy(&word, p, 8);
        c = _mm_crc32_u64(c, word);
        p += 8;
        len -= 8;
    }
    crc = (uint32_t)c;
    while (len > 0) {
        crc = _mm_crc32_u8(crc, *p++);
        len--;
    }
    return crc;
}

uint32_t ecif_crc32c(uint32_t crc, const void *data, size_t len)
{
    crc = ~crc;
    if (__builtin_cpu_supports("sse4.2"))
        crc = crc32c_hw(crc, data, len);
    else
        crc = crc32c_soft(crc, data, len);
    return ~crc;
}
