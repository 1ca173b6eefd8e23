/*
 * A log-linear latency histogram in the style of HdrHistogram.
 *
 * Values are nanoseconds. The tracked range is 1 µs to 60 s. Below 256 ns
 * every value has its own counter. Above, each power-of-two range
 * [2^k, 2^(k+1)) is split into HDR_SUB_BUCKETS equal counters, so a
 * counter is at most 1/HDR_SUB_BUCKETS (0.78%) of its lower bound wide.
 * A percentile reports the midpoint of its counter, which is within 0.4%
 * of every value the counter holds. The minimum and the maximum are kept
 * exactly.
 *
 * Values outside the range are clamped to its ends before they are
 * counted, and counted again in below_range or above_range, so a report
 * can say that the figures at that end are bounds and not values.
 *
 * The histogram is a plain struct of about 30 KiB with no pointers: it
 * may live on the stack or inside another struct, and copying it copies
 * the data. No function allocates, and none is thread-safe: each thread
 * records into its own histogram and the owner merges them afterwards.
 */
#ifndef ECIF_BENCH_HDR_H
#define ECIF_BENCH_HDR_H

#include <stdint.h>

#define HDR_LOWEST_NS  1000ull        /* 1 µs */
#define HDR_HIGHEST_NS 60000000000ull /* 60 s */

/* log2 of the counters per power-of-two range above the exact part. */
#define HDR_SUB_BITS    7
#define HDR_SUB_BUCKETS (1u << HDR_SUB_BITS)
/* Values below this have one counter each. */
#define HDR_EXACT_LIMIT (2u * HDR_SUB_BUCKETS)
/*
 * HDR_HIGHEST_NS is below 2^36, so the widest counter shift is
 * 35 - HDR_SUB_BITS, and the counters are the exact part plus that many
 * ranges of HDR_SUB_BUCKETS.
 */
#define HDR_COUNTERS (HDR_EXACT_LIMIT + (35u - HDR_SUB_BITS) * HDR_SUB_BUCKETS)

typedef struct hdr_histogram {
    uint64_t counts[HDR_COUNTERS];
    uint64_t total;       /* recorded values, clamped ones included */
    uint64_t min;         /* UINT64_MAX while empty */
    uint64_t max;         /* 0 while empty */
    uint64_t below_range; /* values under HDR_LOWEST_NS, counted as it */
    uint64_t above_range; /* values over HDR_HIGHEST_NS, counted as it */
    double sum;           /* of the clamped values, for the mean */
} hdr_histogram_t;

/* Empties h. */
void hdr_init(hdr_histogram_t *h);

/* Counts one value in nanoseconds, clamped to the tracked range. */
void hdr_record(hdr_histogram_t *h, uint64_t value_ns);

/* Adds every count of src to dst. */
void hdr_merge(hdr_histogram_t *dst, const hdr_histogram_t *src);

/*
 * Returns the value at percentile (0 to 100) in nanoseconds: the
 * midpoint of the counter holding the value of rank ceil(percentile/100 *
 * total), clamped to [min, max]. Percentile 0 returns min and 100 returns
 * max. Returns 0 for an empty histogram.
 */
uint64_t hdr_value_at_percentile(const hdr_histogram_t *h, double percentile);

/* Returns the mean of the clamped values, or 0 for an empty histogram. */
double hdr_mean(const hdr_histogram_t *h);

/* Returns the counter index of a value in the tracked range. */
uint32_t hdr_counter_index(uint64_t value_ns);

/* Returns the lowest value that counter index holds. */
uint64_t hdr_counter_lowest(uint32_t index);

/* Returns how many values counter index spans. */
uint64_t hdr_counter_width(uint32_t index);

#endif
