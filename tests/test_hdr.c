/*
 * Unit tests of the latency histogram in bench/hdr.c: percentiles against
 * the exact order statistics of the recorded values, exact min and max,
 * merging, and the clamping of values outside 1 µs to 60 s.
 */
#include <stdint.h>
#include <stdlib.h>

#include "../bench/hdr.h"
#include "unit.h"

/* The error bound the histogram promises for a percentile. */
#define MAX_RELATIVE_ERROR 0.01

static int compare_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a;
    uint64_t y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* The value of rank ceil(p/100 * n) among sorted values, as hdr defines. */
static uint64_t exact_percentile(const uint64_t *sorted, size_t n, double p)
{
    double exact_rank = p / 100.0 * (double)n;
    size_t rank = (size_t)exact_rank;
    if ((double)rank < exact_rank)
        rank++;
    if (rank == 0)
        rank = 1;
    return sorted[rank - 1];
}

static int within_error(uint64_t got, uint64_t expected)
{
    double diff = (double)got - (double)expected;
    if (diff < 0)
        diff = -diff;
    return diff <= MAX_RELATIVE_ERROR * (double)expected;
}

/* A reproducible generator, so a failure can be rerun. */
static uint64_t next_random(uint64_t *state)
{
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    return *state;
}

static void check_percentiles(const hdr_histogram_t *h, uint64_t *values,
                              size_t n)
{
    static const double percentiles[] = {1,  10, 25,   50,    75,    90,
                                         95, 99, 99.9, 99.99, 99.999};
    qsort(values, n, sizeof(*values), compare_u64);
    for (size_t i = 0; i < sizeof(percentiles) / sizeof(*percentiles); i++) {
        uint64_t expected = exact_percentile(values, n, percentiles[i]);
        uint64_t got = hdr_value_at_percentile(h, percentiles[i]);
        if (!within_error(got, expected))
            fprintf(stderr, "p%g: got %llu ns, expected %llu ns\n",
                    percentiles[i], (unsigned long long)got,
                    (unsigned long long)expected);
        CHECK(within_error(got, expected));
    }
}

static void test_uniform_values_percentiles(void)
{
    hdr_histogram_t h;
    hdr_init(&h);
    enum { N = 100000 };
    static uint64_t values[N];
    for (size_t i = 0; i < N; i++) {
        values[i] = (i + 1) * 1000; /* 1 µs to 100 ms */
        hdr_record(&h, values[i]);
    }
    CHECK_INT(h.total, N);
    CHECK_INT(h.min, 1000);
    CHECK_INT(h.max, 100000000);
    check_percentiles(&h, values, N);
}

static void test_log_spread_values_percentiles(void)
{
    hdr_histogram_t h;
    hdr_init(&h);
    enum { N = 200000 };
    static uint64_t values[N];
    uint64_t state = 88172645463325252ull;
    uint64_t min = UINT64_MAX;
    uint64_t max = 0;
    for (size_t i = 0; i < N; i++) {
        /* Mantissa 1000..2023 times 2^0..2^25: 1 µs up to about 68 s. */
        uint64_t r = next_random(&state);
        uint64_t v = (1000 + r % 1024) << ((r >> 20) % 26);
        if (v > HDR_HIGHEST_NS)
            v = HDR_HIGHEST_NS;
        values[i] = v;
        min = v < min ? v : min;
        max = v > max ? v : max;
        hdr_record(&h, v);
    }
    CHECK_INT(h.min, min);
    CHECK_INT(h.max, max);
    CHECK_INT(hdr_value_at_percentile(&h, 0), min);
    CHECK_INT(hdr_value_at_percentile(&h, 100), max);
    check_percentiles(&h, values, N);
}

static void test_min_max_exact(void)
{
    hdr_histogram_t h;
    hdr_init(&h);
    hdr_record(&h, 123457);
    hdr_record(&h, 9876543211);
    hdr_record(&h, 5555555);
    CHECK_INT(h.min, 123457);
    CHECK_INT(h.max, 9876543211);
    CHECK_INT(hdr_value_at_percentile(&h, 100), 9876543211);
    CHECK_INT(hdr_value_at_percentile(&h, 0), 123457);
    /* The midpoint of a counter is clamped to the recorded extremes. */
    CHECK(hdr_value_at_percentile(&h, 99.9) <= h.max);
    CHECK(hdr_value_at_percentile(&h, 1) >= h.min);
}

static void test_single_value_every_percentile(void)
{
    hdr_histogram_t h;
    hdr_init(&h);
    hdr_record(&h, 777777);
    CHECK_INT(hdr_value_at_percentile(&h, 50), 777777);
    CHECK_INT(hdr_value_at_percentile(&h, 99.9), 777777);
}

static void test_empty_histogram_reports_zero(void)
{
    hdr_histogram_t h;
    hdr_init(&h);
    CHECK_INT(h.total, 0);
    CHECK_INT(hdr_value_at_percentile(&h, 50), 0);
    CHECK(hdr_mean(&h) == 0.0);
}

static void test_counter_bounds(void)
{
    /* Every counter starts where the previous one ends, and is narrow. */
    for (uint32_t i = 1; i < HDR_COUNTERS; i++) {
        uint64_t lowest = hdr_counter_lowest(i);
        CHECK_INT(lowest, hdr_counter_lowest(i - 1) + hdr_counter_width(i - 1));
        CHECK_INT(hdr_counter_index(lowest), i);
        CHECK_INT(hdr_counter_index(lowest + hdr_counter_width(i) - 1), i);
        CHECK((double)hdr_counter_width(i) <=
              MAX_RELATIVE_ERROR * (double)lowest + 1.0);
    }
    uint32_t last = HDR_COUNTERS - 1;
    CHECK(hdr_counter_lowest(last) + hdr_counter_width(last) > HDR_HIGHEST_NS);
}

static void test_merge_two_histograms(void)
{
    hdr_histogram_t a;
    hdr_histogram_t b;
    hdr_histogram_t both;
    hdr_init(&a);
    hdr_init(&b);
    hdr_init(&both);
    enum { N = 50000 };
    static uint64_t values[2 * N];
    uint64_t state = 0x9e3779b97f4a7c15ull;
    for (size_t i = 0; i < 2 * N; i++) {
        uint64_t v = 2000 + next_random(&state) % 50000000;
        values[i] = v;
        hdr_record(i < N ? &a : &b, v);
        hdr_record(&both, v);
    }
    /* b gets the extremes so that merging must take them from src. */
    hdr_record(&b, 1500);
    hdr_record(&b, 59000000000ull);
    hdr_record(&both, 1500);
    hdr_record(&both, 59000000000ull);

    hdr_merge(&a, &b);
    CHECK_INT(a.total, 2 * N + 2);
    CHECK_INT(a.min, 1500);
    CHECK_INT(a.max, 59000000000ull);
    CHECK(memcmp(a.counts, both.counts, sizeof(a.counts)) == 0);
    CHECK(a.sum == both.sum);
    for (double p = 1; p < 100; p += 7.5)
        CHECK_INT(hdr_value_at_percentile(&a, p),
                  hdr_value_at_percentile(&both, p));

    uint64_t all[2 * N + 2];
    memcpy(all, values, sizeof(values));
    all[2 * N] = 1500;
    all[2 * N + 1] = 59000000000ull;
    check_percentiles(&a, all, 2 * N + 2);
}

static void test_out_of_range_clamped_and_counted(void)
{
    hdr_histogram_t h;
    hdr_init(&h);
    hdr_record(&h, 0);
    hdr_record(&h, 999);
    hdr_record(&h, 1000);
    hdr_record(&h, 60000000000ull);
    hdr_record(&h, 60000000001ull);
    hdr_record(&h, UINT64_MAX);
    CHECK_INT(h.total, 6);
    CHECK_INT(h.below_range, 2);
    CHECK_INT(h.above_range, 2);
    CHECK_INT(h.min, HDR_LOWEST_NS);
    CHECK_INT(h.max, HDR_HIGHEST_NS);
    /* Clamped values count at the ends of the range. */
    CHECK(within_error(hdr_value_at_percentile(&h, 10), HDR_LOWEST_NS));
    CHECK(within_error(hdr_value_at_percentile(&h, 50), HDR_LOWEST_NS));
    CHECK(within_error(hdr_value_at_percentile(&h, 60), HDR_HIGHEST_NS));
    CHECK_INT(hdr_value_at_percentile(&h, 100), HDR_HIGHEST_NS);

    hdr_histogram_t other;
    hdr_init(&other);
    hdr_record(&other, 5);
    hdr_merge(&h, &other);
    CHECK_INT(h.below_range, 3);
    CHECK_INT(h.above_range, 2);
}

static void test_mean_of_values(void)
{
    hdr_histogram_t h;
    hdr_init(&h);
    hdr_record(&h, 2000);
    hdr_record(&h, 4000);
    hdr_record(&h, 9000);
    CHECK(hdr_mean(&h) == 5000.0);
}

int main(void)
{
    RUN(test_uniform_values_percentiles);
    RUN(test_log_spread_values_percentiles);
    RUN(test_min_max_exact);
    RUN(test_single_value_every_percentile);
    RUN(test_empty_histogram_reports_zero);
    RUN(test_counter_bounds);
    RUN(test_merge_two_histograms);
    RUN(test_out_of_range_clamped_and_counted);
    RUN(test_mean_of_values);
    return unit_report();
}
