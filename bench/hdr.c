/*
 * Counter layout: index v for v < HDR_EXACT_LIMIT. Above, a value with
 * its highest set bit at position b is shifted right by s = b -
 * HDR_SUB_BITS, which leaves a sub-bucket number from HDR_SUB_BUCKETS to
 * 2 * HDR_SUB_BUCKETS - 1. Each shift s >= 1 owns HDR_SUB_BUCKETS counters
 * after the exact part.
 */
#include "hdr.h"

#include <assert.h>
#include <string.h>

void hdr_init(hdr_histogram_t *h)
{
    memset(h, 0, sizeof(*h));
    h->min = UINT64_MAX;
}

uint32_t hdr_counter_index(uint64_t value_ns)
{
    if (value_ns < HDR_EXACT_LIMIT)
        return (uint32_t)value_ns;

    unsigned top_bit = 63u - (unsigned)__builtin_clzll(value_ns);
    unsigned shift = top_bit - HDR_SUB_BITS;
    uint64_t sub = value_ns >> shift;
    uint32_t index = HDR_EXACT_LIMIT + (shift - 1u) * HDR_SUB_BUCKETS +
                     (uint32_t)(sub - HDR_SUB_BUCKETS);
    assert(index < HDR_COUNTERS);
    return index;
}

uint64_t hdr_counter_lowest(uint32_t index)
{
    if (index < HDR_EXACT_LIMIT)
        return index;
    uint32_t above = index - HDR_EXACT_LIMIT;
    unsigned shift = above / HDR_SUB_BUCKETS + 1u;
    uint64_t sub = HDR_SUB_BUCKETS + above % HDR_SUB_BUCKETS;
    return sub << shift;
}

uint64_t hdr_counter_width(uint32_t index)
{
    if (index < HDR_EXACT_LIMIT)
        return 1;
    return 1ull << ((index - HDR_EXACT_LIMIT) / HDR_SUB_BUCKETS + 1u);
}

void hdr_record(hdr_histogram_t *h, uint64_t value_ns)
{
    if (value_ns < HDR_LOWEST_NS) {
        value_ns = HDR_LOWEST_NS;
        h->below_range++;
    } else if (value_ns > HDR_HIGHEST_NS) {
        value_ns = HDR_HIGHEST_NS;
        h->above_range++;
    }

    h->counts[hdr_counter_index(value_ns)]++;
    h->total++;
    h->sum += (double)value_ns;
    if (value_ns < h->min)
        h->min = value_ns;
    if (value_ns > h->max)
        h->max = value_ns;
}

void hdr_merge(hdr_histogram_t *dst, const hdr_histogram_t *src)
{
    for (uint32_t i = 0; i < HDR_COUNTERS; i++)
        dst->counts[i] += src->counts[i];
    dst->total += src->total;
    dst->below_range += src->below_range;
    dst->above_range += src->above_range;
    dst->sum += src->sum;
    if (src->min < dst->min)
        dst->min = src->min;
    if (src->max > dst->max)
        dst->max = src->max;
}

uint64_t hdr_value_at_percentile(const hdr_histogram_t *h, double percentile)
{
    if (h->total == 0)
        return 0;
    if (percentile <= 0.0)
        return h->min;
    if (percentile >= 100.0)
        return h->max;

    /* The rank is at least 1 and at most total, whatever the rounding. */
    double exact_rank = percentile / 100.0 * (double)h->total;
    uint64_t rank = (uint64_t)exact_rank;
    if ((double)rank < exact_rank)
        rank++;
    if (rank == 0)
        rank = 1;
    if (rank > h->total)
        rank = h->total;

    uint64_t seen = 0;
    uint32_t index = 0;
    for (; index < HDR_COUNTERS; index++) {
        seen += h->counts[index];
        if (seen >= rank)
            break;
    }
    assert(index < HDR_COUNTERS);

    uint64_t value = hdr_counter_lowest(index) + hdr_counter_width(index) / 2u;
    if (value < h->min)
        value = h->min;
    if (value > h->max)
        value = h->max;
    return value;
}

double hdr_mean(const hdr_histogram_t *h)
{
    return h->total > 0 ? h->sum / (double)h->total : 0.0;
}
