/*
 * Unit tests of hashing: CRC-32C against its published check value and a
 * bitwise reference at every length and alignment and over long buffers,
 * and the stability and the non-zero contract of the 64-bit key hash.
 */
#include <stdint.h>
#include <string.h>

#include "hash.h"
#include "unit.h"

/* CRC-32C one bit at a time (reflected polynomial 0x82F63B78). */
static uint32_t reference_crc32c(uint32_t crc, const void *data, size_t len)
{
    const unsigned char *p = data;

    crc = ~crc;
    for (size_t i = 0; i < len; i++) {
        crc ^= p[i];
        for (int k = 0; k < 8; k++)
            crc = (crc & 1) ? (crc >> 1) ^ 0x82F63B78U : crc >> 1;
    }
    return ~crc;
}

static void test_crc32c_check_value(void)
{
    CHECK_INT(ecif_crc32c(0, "123456789", 9), 0xE3069283U);
    CHECK_INT(ecif_crc32c(0, "", 0), 0);
}

/*
 * NOTE: ecif_crc32c picks its path from the CPU, so on a machine with
 * SSE4.2 this checks the hardware path and the table path runs only on
 * machines without it.
 */
static void test_crc32c_matches_bitwise_reference(void)
{
    unsigned char buf[300];

    for (size_t i = 0; i < sizeof(buf); i++)
        buf[i] = (unsigned char)(i * 131 + 7);
    /* Every start offset 0..7 and lengths across the 8-byte word steps. */
    for (size_t start = 0; start < 8; start++) {
        for (size_t len = 0; len + start <= 280; len++) {
            uint32_t got = ecif_crc32c(0, buf + start, len);
            uint32_t want = reference_crc32c(0, buf + start, len);
            if (got != want)
                fprintf(stderr, "start %zu length %zu: %08x, expected %08x\n",
                        start, len, got, want);
            CHECK(got == want);
        }
    }
}

static void test_crc32c_chained_equals_whole(void)
{
    static const char text[] = "The quick brown fox jumps over the lazy dog";
    size_t len = strlen(text);
    uint32_t whole = ecif_crc32c(0, text, len);

    CHECK_INT(whole, reference_crc32c(0, text, len));
    for (size_t cut = 0; cut <= len; cut++) {
        uint32_t part = ecif_crc32c(0, text, cut);
        CHECK_INT(ecif_crc32c(part, text + cut, len - cut), whole);
    }
}

/*
 * Buffers of three 8 KiB lanes and more take the interleaved hardware
 * loop, whose lanes a shift table joins. Lengths just under, at and over
 * multiples of the 24 KiB round, at odd offsets and with a nonzero
 * starting CRC, must all agree with the bitwise reference.
 */
static void test_crc32c_long_buffers(void)
{
    enum { ROUND = 3 * 8192, MAX = 3 * ROUND + 64 };
    static unsigned char buf[MAX];
    static const size_t lengths[] = {
        ROUND - 1, ROUND,          ROUND + 1,     ROUND + 7,
        2 * ROUND, 2 * ROUND + 13, 3 * ROUND + 9, 3 * ROUND + 40,
    };
    uint32_t x = 12345;

    for (size_t i = 0; i < sizeof(buf); i++) {
        x = x * 1103515245u + 12345u;
        buf[i] = (unsigned char)(x >> 16);
    }
    for (size_t k = 0; k < sizeof(lengths) / sizeof(lengths[0]); k++) {
        for (size_t start = 0; start < 3; start++) {
            size_t len = lengths[k];
            CHECK_INT(ecif_crc32c(0, buf + start, len),
                      reference_crc32c(0, buf + start, len));
            CHECK_INT(ecif_crc32c(0xDEADBEEFU, buf + start, len),
                      reference_crc32c(0xDEADBEEFU, buf + start, len));
        }
    }
    /* A flipped bit in the second and third lanes must change the CRC. */
    uint32_t clean = ecif_crc32c(0, buf, ROUND);
    buf[8192 + 100] ^= 0x10;
    CHECK(ecif_crc32c(0, buf, ROUND) != clean);
    buf[8192 + 100] ^= 0x10;
    buf[2 * 8192 + 5] ^= 0x01;
    CHECK(ecif_crc32c(0, buf, ROUND) != clean);
    buf[2 * 8192 + 5] ^= 0x01;
    CHECK_INT(ecif_crc32c(0, buf, ROUND), clean);
}

static void test_crc32c_detects_one_bit(void)
{
    unsigned char buf[64] = {0};
    uint32_t clean = ecif_crc32c(0, buf, sizeof(buf));

    for (size_t bit = 0; bit < sizeof(buf) * 8; bit++) {
        buf[bit / 8] ^= (unsigned char)(1u << (bit % 8));
        CHECK(ecif_crc32c(0, buf, sizeof(buf)) != clean);
        buf[bit / 8] ^= (unsigned char)(1u << (bit % 8));
    }
}

static void test_hash64_stable(void)
{
    /* The hash is part of the snapshot format: these values must not
     * change without a new format version. They were computed with an
     * independent FNV-1a plus 64-bit finalizer implementation. */
    CHECK(ecif_hash64("P13800138000", 12, 0) == 0xfdd2dafdc4a9803fULL);
    CHECK(ecif_hash64("", 0, 0) == 0xefd01f60ba992926ULL);
    CHECK(ecif_hash64("abc", 3, 42) == ecif_hash64("abc", 3, 42));
}

static void test_hash64_seed_and_input_matter(void)
{
    CHECK(ecif_hash64("abc", 3, 0) != ecif_hash64("abc", 3, 1));
    CHECK(ecif_hash64("abc", 3, 0) != ecif_hash64("abd", 3, 0));
    CHECK(ecif_hash64("abc", 3, 0) != ecif_hash64("abc", 2, 0));
}

static void test_hash64_never_zero(void)
{
    unsigned char buf[8];

    for (uint32_t i = 0; i < 200000; i++) {
        memcpy(buf, &i, sizeof(i));
        CHECK(ecif_hash64(buf, sizeof(i), i % 7) != 0);
    }
    CHECK(ecif_hash64(NULL, 0, 0) != 0);
}

static void test_hash64_high_bits_spread(void)
{
    /* The top 4 bits pick one of 16 shards: consecutive keys should land
     * in every shard. */
    unsigned counts[16] = {0};
    char key[16];

    for (int i = 0; i < 1600; i++) {
        int len = snprintf(key, sizeof(key), "P%d", 13800000 + i);
        counts[ecif_hash64(key, (size_t)len, 0) >> 60]++;
    }
    for (int s = 0; s < 16; s++)
        CHECK(counts[s] > 50);
}

int main(void)
{
    RUN(test_crc32c_check_value);
    RUN(test_crc32c_matches_bitwise_reference);
    RUN(test_crc32c_chained_equals_whole);
    RUN(test_crc32c_detects_one_bit);
    RUN(test_crc32c_long_buffers);
    RUN(test_hash64_stable);
    RUN(test_hash64_seed_and_input_matter);
    RUN(test_hash64_never_zero);
    RUN(test_hash64_high_bits_spread);
    return unit_report();
}
