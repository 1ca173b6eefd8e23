/*
 * gen_customers: synthetic customer records with ground truth.
 *
 * Writes records, their accounts and a truth file that names the person
 * (entity) behind every record, as CSV or JSONL in the canonical layout of
 * tools/IMPORT.md, or feeds records and accounts straight to the snapshot
 * builder. The design, the distributions and the corruptions are described
 * in bench/GENERATOR.md.
 *
 * Determinism: customers are split into fixed blocks of BLOCK_CUSTOMERS.
 * Every block has its own xoshiro256** generator seeded from the run seed
 * and the block number, and blocks are written in order, so the output
 * depends on the seed and the options but never on --threads. Worker
 * threads generate blocks into per-slot buffers; the main thread writes
 * the slots in block order.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "builder.h"
#include "cn_id.h"
#include "division_data.h"
#include "record.h"
#include "region_data.h"
#include "status.h"
#include "unihan_data.h"

#include "tables/cn_names.h"
#include "tables/latin_names.h"

/* Fields are cut to their buffers on purpose, so snprintf truncation is
 * the intended bound and GCC's warning about it is off here. */
#pragma GCC diagnostic ignored "-Wformat-truncation"

#define COUNT_OF(a) (sizeof(a) / sizeof((a)[0]))

/* Customers per block. Part of the output contract: changing it changes
 * the output of every seed. */
#define BLOCK_CUSTOMERS 1024

/* Source systems; a person has at most one record in each. */
static const char *const gen_sources[] = {
    "core_banking", "credit_card",    "loan",
    "wealth",       "online_banking", "mobile_app",
};
static const char *const gen_source_prefixes[] = {
    "CB", "CC", "LN", "WM", "OB", "MA",
};
#define SOURCE_COUNT 6

#define MAX_ACCOUNTS 3

/* ---------------------------------------------------------------------
 * Random numbers: splitmix64 seeds xoshiro256** (Blackman and Vigna).
 */

typedef struct gen_rng {
    uint64_t s[4];
} gen_rng_t;

static uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* A bijection of 64-bit values, so distinct inputs give distinct ids. */
static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static void rng_seed(gen_rng_t *rng, uint64_t seed, uint64_t stream)
{
    uint64_t state = seed ^ mix64(stream + 0x5851f42d4c957f2dull);
    for (int i = 0; i < 4; i++)
        rng->s[i] = splitmix64(&state);
}

static inline uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static uint64_t rng_next(gen_rng_t *rng)
{
    uint64_t *s = rng->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

/* Uniform in [0, n) by Lemire's multiply-shift; bias below 2^-32. */
static uint32_t rng_below(gen_rng_t *rng, uint32_t n)
{
    return (uint32_t)(((rng_next(rng) >> 32) * (uint64_t)n) >> 32);
}

/* Uniform in [0, 1). */
static double rng_unit(gen_rng_t *rng)
{
    return (double)(rng_next(rng) >> 11) * 0x1.0p-53;
}

static bool rng_chance(gen_rng_t *rng, double p)
{
    return rng_unit(rng) < p;
}

/* Uniform in [lo, hi]. */
static int rng_range(gen_rng_t *rng, int lo, int hi)
{
    return lo + (int)rng_below(rng, (uint32_t)(hi - lo + 1));
}

/* ---------------------------------------------------------------------
 * Weighted tables: cumulative weights searched by bisection.
 */

typedef struct gen_cdf {
    const char **values;
    uint64_t *cumulative;
    size_t count;
    uint64_t total;
} gen_cdf_t;

static void *xmalloc(size_t n)
{
    void *p = malloc(n);
    if (p == NULL) {
        fprintf(stderr, "gen_customers: out of memory (%zu bytes)\n", n);
        exit(1);
    }
    return p;
}

static void cdf_init(gen_cdf_t *cdf, size_t count)
{
    cdf->values = xmalloc(count * sizeof(*cdf->values));
    cdf->cumulative = xmalloc(count * sizeof(*cdf->cumulative));
    cdf->count = 0;
    cdf->total = 0;
}

static void cdf_add(gen_cdf_t *cdf, const char *value, uint64_t weight)
{
    if (weight == 0)
        return;
    cdf->total += weight;
    cdf->values[cdf->count] = value;
    cdf->cumulative[cdf->count] = cdf->total;
    cdf->count++;
}

static void cdf_from_weighted(gen_cdf_t *cdf, const struct gen_weighted *t,
                              size_t n)
{
    cdf_init(cdf, n);
    for (size_t i = 0; i < n; i++)
        cdf_add(cdf, t[i].value, t[i].weight);
}

/* Weights a list ordered most common first by a Zipf-like 1/(rank + 8). */
static void cdf_from_ranked(gen_cdf_t *cdf, const char *const *t, size_t n)
{
    cdf_init(cdf, n);
    for (size_t i = 0; i < n; i++)
        cdf_add(cdf, t[i], 100000 / (i + 8));
}

static const char *cdf_draw(const gen_cdf_t *cdf, gen_rng_t *rng)
{
    uint64_t x = (rng_next(rng) >> 1) % cdf->total;
    size_t lo = 0, hi = cdf->count - 1;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (cdf->cumulative[mid] > x)
            hi = mid;
        else
            lo = mid + 1;
    }
    return cdf->values[lo];
}

/* ---------------------------------------------------------------------
 * Options and shared read-only state.
 */

enum gen_format { FORMAT_CSV, FORMAT_JSONL };

typedef struct gen_options {
    uint64_t customers;
    uint64_t seed;
    double chinese_share;
    enum gen_format format;
    const char *output_dir;
    unsigned threads;
    double corruption_rate;
    unsigned sources;
    const char *names_table;
    const char *snapshot;
} gen_options_t;

typedef struct gen_tables {
    gen_cdf_t surnames;
    gen_cdf_t common_male, common_female;
    gen_cdf_t given_male, given_female;
    gen_cdf_t mobile_prefixes;
    gen_cdf_t latin_male, latin_female, latin_surnames;
    gen_cdf_t full_names; /* from --names-table; count 0 when not given */
    char *full_names_text;
    uint32_t *county_regions; /* indices of current county-level codes */
    size_t county_region_count;
    uint32_t *area_city;     /* division_areas index -> division_cities */
    uint32_t *city_province; /* division_cities index -> provinces */
} gen_tables_t;

static gen_options_t g_opts;
static gen_tables_t g_tables;

/* ---------------------------------------------------------------------
 * Output buffers: one growing buffer per file and slot, reused across
 * blocks, so steady state allocates nothing.
 */

typedef struct gen_buf {
    char *data;
    size_t len, cap;
} gen_buf_t;

static void buf_reserve(gen_buf_t *b, size_t extra)
{
    if (b->len + extra <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 1 << 16;
    while (cap < b->len + extra)
        cap *= 2;
    char *p = realloc(b->data, cap);
    if (p == NULL) {
        fprintf(stderr, "gen_customers: out of memory (%zu bytes)\n", cap);
        exit(1);
    }
    b->data = p;
    b->cap = cap;
}

static void buf_put(gen_buf_t *b, const char *s, size_t n)
{
    buf_reserve(b, n);
    memcpy(b->data + b->len, s, n);
    b->len += n;
}

static void buf_str(gen_buf_t *b, const char *s)
{
    buf_put(b, s, strlen(s));
}

static void buf_char(gen_buf_t *b, char c)
{
    buf_reserve(b, 1);
    b->data[b->len++] = c;
}

/* Writes a CSV field, quoted (RFC 4180) only when it needs to be. */
static void buf_csv(gen_buf_t *b, const char *s)
{
    if (strpbrk(s, ",\"\r\n") == NULL && s[0] != ' ') {
        buf_str(b, s);
        return;
    }
    buf_char(b, '"');
    for (; *s; s++) {
        if (*s == '"')
            buf_char(b, '"');
        buf_char(b, *s);
    }
    buf_char(b, '"');
}

/* Writes a JSON string with the escapes RFC 8259 requires. */
static void buf_json_str(gen_buf_t *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    buf_char(b, '"');
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            buf_char(b, '\\');
            buf_char(b, (char)c);
        } else if (c < 0x20) {
            char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            buf_put(b, esc, sizeof(esc));
        } else {
            buf_char(b, (char)c);
        }
    }
    buf_char(b, '"');
}

/* Writes "key":value where a value with '|' becomes an array. */
static void buf_json_field(gen_buf_t *b, const char *key, const char *value,
                           bool multi, bool first)
{
    if (!first)
        buf_char(b, ',');
    buf_json_str(b, key, strlen(key));
    buf_char(b, ':');
    const char *bar = multi ? strchr(value, '|') : NULL;
    if (bar == NULL) {
        buf_json_str(b, value, strlen(value));
        return;
    }
    buf_char(b, '[');
    const char *start = value;
    for (;;) {
        const char *end = strchr(start, '|');
        size_t n = end ? (size_t)(end - start) : strlen(start);
        buf_json_str(b, start, n);
        if (end == NULL)
            break;
        buf_char(b, ',');
        start = end + 1;
    }
    buf_char(b, ']');
}

/* ---------------------------------------------------------------------
 * Persons and records.
 */

typedef struct gen_person {
    uint64_t entity;
    bool chinese;
    bool male;
    bool us; /* Latin customers: United States, else United Kingdom */
    int year, month, day;
    char family[32];
    char given[48];
    char id_type[16];
    char id_number[24];
    char id15[16]; /* "" unless born before 2000 with a resident ID */
    char mobile[24];
    char landline[32];
    char family_phone[24]; /* a relative's phone the person also gives */
    char email[96];
    char address[256];
    char old_address[256];
    char branch[16];
    const char *currency;
} gen_person_t;

typedef struct gen_account {
    char account_id[32];
    const char *product;
    int64_t credit_limit; /* in 1/ECIF_AMOUNT_SCALE units */
    int64_t balance;
    const char *currency;
    char branch[16];
} gen_account_t;

typedef struct gen_record {
    uint64_t entity;
    const char *source_system;
    char source_id[32];
    char name[128];
    char given[96];
    char family[64];
    char id_type[16];
    char id_number[64];
    char phone[192];
    char email[128];
    char address[320];
    char dob[16];
    char gender[4];
    uint32_t account_count;
    gen_account_t accounts[MAX_ACCOUNTS];
} gen_record_t;

#define SET(dst, src) snprintf((dst), sizeof(dst), "%s", (src))

static int days_in_month(int year, int month)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return month == 2 && leap ? 29 : days[month - 1];
}

/* Birth years 1940-2006: adults of 18 to 84 in 2024, fewer of the old. */
static void draw_dob(gen_rng_t *rng, gen_person_t *p)
{
    int age = 18 + (int)(rng_below(rng, 48) + rng_below(rng, 20));
    p->year = 2024 - age;
    p->month = rng_range(rng, 1, 12);
    p->day = rng_range(rng, 1, days_in_month(p->year, p->month));
}

/* Length of the UTF-8 sequence that starts with byte c. */
static size_t utf8_len(unsigned char c)
{
    if (c < 0x80)
        return 1;
    if (c >= 0xf0)
        return 4;
    if (c >= 0xe0)
        return 3;
    return 2;
}

static uint32_t utf8_decode(const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    if (n == 1)
        return u[0];
    if (n == 2)
        return ((u[0] & 0x1fu) << 6) | (u[1] & 0x3fu);
    if (n == 3)
        return ((u[0] & 0x0fu) << 12) | ((u[1] & 0x3fu) << 6) | (u[2] & 0x3fu);
    return ((u[0] & 0x07u) << 18) | ((u[1] & 0x3fu) << 12) |
           ((u[2] & 0x3fu) << 6) | (u[3] & 0x3fu);
}

/* Appends the toneless pinyin of every character of s to out. */
static void append_pinyin(char *out, size_t outlen, const char *s)
{
    size_t len = strlen(out);
    while (*s) {
        size_t n = utf8_len((unsigned char)*s);
        int syl = unihan_data_reading(utf8_decode(s, n));
        if (syl >= 0) {
            const char *py = unihan_data_syllable(syl);
            size_t m = strlen(py);
            if (len + m + 1 < outlen) {
                memcpy(out + len, py, m);
                len += m;
                out[len] = '\0';
            }
        }
        s += n;
    }
}

static void draw_digits(gen_rng_t *rng, char *out, int n)
{
    for (int i = 0; i < n; i++)
        out[i] = (char)('0' + rng_below(rng, 10));
    out[n] = '\0';
}

static void draw_cn_mobile(gen_rng_t *rng, char out[24])
{
    char rest[9];
    draw_digits(rng, rest, 8);
    snprintf(out, 24, "%s%s", cdf_draw(&g_tables.mobile_prefixes, rng), rest);
}

static const char *area_code_of(unsigned province)
{
    for (size_t i = 0; i < COUNT_OF(gen_cn_area_codes); i++)
        if (gen_cn_area_codes[i].province == province)
            return gen_cn_area_codes[i].area_code;
    return "010";
}

static void draw_cn_landline(gen_rng_t *rng, unsigned province, char out[32])
{
    const char *area = area_code_of(province);
    int digits = strlen(area) == 3 ? 8 : rng_range(rng, 7, 8);
    char sub[9];
    draw_digits(rng, sub, digits);
    sub[0] = (char)('2' + rng_below(rng, 7));
    snprintf(out, 32, "%s-%s", area, sub);
}

/* Division names that stand for no real level in an address. */
static bool division_name_skipped(const char *name)
{
    return strcmp(name, "市辖区") == 0 || strcmp(name, "县") == 0 ||
           strstr(name, "行政区划") != NULL;
}

static void draw_cn_road(gen_rng_t *rng, char *out, size_t outlen)
{
    snprintf(
        out, outlen, "%s%s%s",
        gen_cn_road_roots[rng_below(rng, COUNT_OF(gen_cn_road_roots))],
        gen_cn_road_directions[rng_below(rng,
                                         COUNT_OF(gen_cn_road_directions))],
        gen_cn_road_suffixes[rng_below(rng, COUNT_OF(gen_cn_road_suffixes))]);
}

/*
 * Draws a Chinese address "省 市 区 路 号 栋 单元 室" (written without
 * spaces). Sets *area_code to the six-digit county code and *province.
 */
static void draw_cn_address(gen_rng_t *rng, char *out, size_t outlen,
                            uint32_t *area_code, unsigned *province)
{
    uint32_t a = rng_below(rng, division_areas_count);
    uint32_t c = g_tables.area_city[a];
    uint32_t p = g_tables.city_province[c];
    const char *pname = division_names + division_provinces[p].name;
    const char *cname = division_names + division_cities[c].name;
    const char *aname = division_names + division_areas[a].name;
    char road[64];

    if (division_name_skipped(cname))
        cname = "";
    if (division_name_skipped(aname))
        aname = "";
    draw_cn_road(rng, road, sizeof(road));
    int floor = rng_range(rng, 1, 32);
    snprintf(out, outlen, "%s%s%s%s%d号%d栋%d单元%d%02d室", pname, cname, aname,
             road, rng_range(rng, 1, 999), rng_range(rng, 1, 30),
             rng_range(rng, 1, 6), floor, rng_range(rng, 1, 4));
    *area_code = division_areas[a].code;
    *province = division_provinces[p].code;
}

/* Picks the region code of a resident ID: the county of the address
 * for most people, another county for people who moved. */
static uint32_t draw_region(gen_rng_t *rng, uint32_t area_code)
{
    if (rng_chance(rng, 0.7)) {
        const cn_region_t *r = cn_region_find(area_code);
        if (r != NULL && r->current)
            return area_code;
    }
    uint32_t i = rng_below(rng, (uint32_t)g_tables.county_region_count);
    return cn_region_table[g_tables.county_regions[i]].code;
}

/* Builds the 18-character resident ID and, before 2000, its 15-digit
 * form: region, birth date, sequence whose last digit is odd for men. */
static void make_resident_id(gen_rng_t *rng, gen_person_t *p, uint32_t region)
{
    unsigned seq = rng_below(rng, 500) * 2 + (p->male ? 1 : 0);
    char first17[18];
    snprintf(first17, sizeof(first17), "%06u%04d%02d%02d%03u", (unsigned)region,
             p->year, p->month, p->day, seq);
    snprintf(p->id_number, sizeof(p->id_number), "%s%c", first17,
             cn_id_check_char(first17));
    SET(p->id_type, "RESIDENT_ID");
    if (p->year < 2000)
        snprintf(p->id15, sizeof(p->id15), "%06u%02d%02d%02d%03u",
                 (unsigned)region, p->year % 100, p->month, p->day, seq);
    else
        p->id15[0] = '\0';
}

/* Splits a full Chinese name after a compound or one-character surname. */
static void split_cn_name(const char *full, gen_person_t *p)
{
    size_t cut = utf8_len((unsigned char)full[0]);
    for (size_t i = 0; i < COUNT_OF(gen_cn_compound_surnames); i++) {
        size_t n = strlen(gen_cn_compound_surnames[i]);
        if (strncmp(full, gen_cn_compound_surnames[i], n) == 0 &&
            full[n] != '\0') {
            cut = n;
            break;
        }
    }
    if (cut > strlen(full))
        cut = strlen(full);
    snprintf(p->family, sizeof(p->family), "%.*s", (int)cut, full);
    SET(p->given, full + cut);
}

static void draw_cn_given(gen_rng_t *rng, bool male, char *out, size_t outlen)
{
    /* A third of people carry one of the very common whole names. */
    if (rng_chance(rng, 0.33)) {
        snprintf(
            out, outlen, "%s",
            cdf_draw(male ? &g_tables.common_male : &g_tables.common_female,
                     rng));
        return;
    }
    const gen_cdf_t *chars =
        male ? &g_tables.given_male : &g_tables.given_female;
    if (rng_chance(rng, 0.3))
        snprintf(out, outlen, "%s", cdf_draw(chars, rng));
    else
        snprintf(out, outlen, "%s%s", cdf_draw(chars, rng),
                 cdf_draw(chars, rng));
}

static void draw_cn_email(gen_rng_t *rng, gen_person_t *p)
{
    const char *domain =
        gen_cn_email_domains[rng_below(rng, COUNT_OF(gen_cn_email_domains))];
    if (strcmp(domain, "qq.com") == 0 && rng_chance(rng, 0.6)) {
        char qq[12];
        int n = rng_range(rng, 6, 10);
        draw_digits(rng, qq, n);
        qq[0] = (char)('1' + rng_below(rng, 9));
        snprintf(p->email, sizeof(p->email), "%s@%s", qq, domain);
        return;
    }
    char local[64] = "";
    if (rng_chance(rng, 0.5)) {
        append_pinyin(local, sizeof(local), p->given);
        append_pinyin(local, sizeof(local), p->family);
    } else {
        append_pinyin(local, sizeof(local), p->family);
        append_pinyin(local, sizeof(local), p->given);
    }
    if (local[0] == '\0')
        SET(local, "user");
    if (rng_chance(rng, 0.5))
        snprintf(p->email, sizeof(p->email), "%s%d@%s", local, p->year, domain);
    else
        snprintf(p->email, sizeof(p->email), "%s%d@%s", local,
                 rng_range(rng, 1, 999), domain);
}

static void draw_chinese(gen_rng_t *rng, gen_person_t *p)
{
    uint32_t area, old_area;
    unsigned province, old_province;

    p->male = rng_chance(rng, 0.5);
    if (g_tables.full_names.count > 0) {
        split_cn_name(cdf_draw(&g_tables.full_names, rng), p);
    } else {
        SET(p->family, cdf_draw(&g_tables.surnames, rng));
        draw_cn_given(rng, p->male, p->given, sizeof(p->given));
    }
    draw_dob(rng, p);
    draw_cn_address(rng, p->address, sizeof(p->address), &area, &province);
    draw_cn_address(rng, p->old_address, sizeof(p->old_address), &old_area,
                    &old_province);
    make_resident_id(rng, p, draw_region(rng, area));
    draw_cn_mobile(rng, p->mobile);
    draw_cn_landline(rng, province, p->landline);
    draw_cn_email(rng, p);
    snprintf(p->branch, sizeof(p->branch), "BR%02u%02u", province,
             rng_below(rng, 100));
    p->currency = "CNY";
}

static void draw_latin_address(gen_rng_t *rng, bool us, char *out,
                               size_t outlen, char *dial, size_t diallen)
{
    const char *street = gen_latin_street_names[rng_below(
        rng, COUNT_OF(gen_latin_street_names))];
    if (us) {
        const struct gen_latin_town *t =
            &gen_us_towns[rng_below(rng, COUNT_OF(gen_us_towns))];
        snprintf(
            out, outlen, "%d %s %s, %s, %s %s%02d", rng_range(rng, 1, 9999),
            street,
            gen_us_street_types[rng_below(rng, COUNT_OF(gen_us_street_types))],
            t->town, t->region, t->postcode, rng_range(rng, 0, 99));
        snprintf(dial, diallen, "%s", t->dial);
        return;
    }
    /* Letters that UK postcodes use in the inward code. */
    static const char letters[] = "ABDEFGHJLNPQRSTUWXYZ";
    const struct gen_latin_town *t =
        &gen_uk_towns[rng_below(rng, COUNT_OF(gen_uk_towns))];
    snprintf(out, outlen, "%d %s %s, %s %s %d%c%c", rng_range(rng, 1, 250),
             street,
             gen_uk_street_types[rng_below(rng, COUNT_OF(gen_uk_street_types))],
             t->town, t->postcode, rng_range(rng, 1, 9),
             letters[rng_below(rng, sizeof(letters) - 1)],
             letters[rng_below(rng, sizeof(letters) - 1)]);
    snprintf(dial, diallen, "%s", t->dial);
}

static void lower_alpha(char *out, size_t outlen, const char *s)
{
    size_t n = 0;
    for (; *s && n + 1 < outlen; s++) {
        char c = *s;
        if (c >= 'A' && c <= 'Z')
            out[n++] = (char)(c - 'A' + 'a');
        else if (c >= 'a' && c <= 'z')
            out[n++] = c;
    }
    out[n] = '\0';
}

static void draw_latin_id(gen_rng_t *rng, gen_person_t *p)
{
    if (p->us && rng_chance(rng, 0.85)) {
        int area = rng_range(rng, 1, 899);
        if (area == 666)
            area = 665;
        snprintf(p->id_number, sizeof(p->id_number), "%03d-%02d-%04d", area,
                 rng_range(rng, 1, 99), rng_range(rng, 1, 9999));
        SET(p->id_type, "SSN");
        return;
    }
    char digits[10];
    draw_digits(rng, digits, 9);
    digits[0] = (char)('1' + rng_below(rng, 9));
    if (p->us)
        snprintf(p->id_number, sizeof(p->id_number), "A%.8s", digits);
    else
        SET(p->id_number, digits);
    SET(p->id_type, "PASSPORT");
}

static void draw_latin_phone(gen_rng_t *rng, bool us, const char *dial,
                             bool mobile, char out[24])
{
    if (us) {
        snprintf(out, 24, "+1 %s %03d %04d", dial, rng_range(rng, 201, 989),
                 rng_range(rng, 0, 9999));
    } else if (mobile) {
        snprintf(out, 24, "+44 7%03d %06d", rng_range(rng, 100, 999),
                 rng_range(rng, 0, 999999));
    } else {
        int digits = 10 - (int)strlen(dial);
        char sub[12];
        draw_digits(rng, sub, digits);
        sub[0] = (char)('2' + rng_below(rng, 7));
        snprintf(out, 24, "+44 %s %s", dial, sub);
    }
}

static void draw_latin(gen_rng_t *rng, gen_person_t *p)
{
    char dial[8], old_dial[8];
    char local_given[48], local_family[48];

    p->male = rng_chance(rng, 0.5);
    p->us = rng_chance(rng, 0.6);
    SET(p->given,
        cdf_draw(p->male ? &g_tables.latin_male : &g_tables.latin_female, rng));
    SET(p->family, cdf_draw(&g_tables.latin_surnames, rng));
    draw_dob(rng, p);
    draw_latin_address(rng, p->us, p->address, sizeof(p->address), dial,
                       sizeof(dial));
    draw_latin_address(rng, p->us, p->old_address, sizeof(p->old_address),
                       old_dial, sizeof(old_dial));
    draw_latin_id(rng, p);
    p->id15[0] = '\0';
    draw_latin_phone(rng, p->us, dial, true, p->mobile);
    draw_latin_phone(rng, p->us, dial, false, p->landline);

    lower_alpha(local_given, sizeof(local_given), p->given);
    lower_alpha(local_family, sizeof(local_family), p->family);
    const char *domain = gen_latin_email_domains[rng_below(
        rng, COUNT_OF(gen_latin_email_domains))];
    switch (rng_below(rng, 3)) {
    case 0:
        snprintf(p->email, sizeof(p->email), "%s.%s@%s", local_given,
                 local_family, domain);
        break;
    case 1:
        snprintf(p->email, sizeof(p->email), "%c%s%d@%s", local_given[0],
                 local_family, rng_range(rng, 1, 99), domain);
        break;
    default:
        snprintf(p->email, sizeof(p->email), "%s%s%d@%s", local_given,
                 local_family, p->year % 100, domain);
        break;
    }
    snprintf(p->branch, sizeof(p->branch), "%s%03u", p->us ? "US" : "UK",
             rng_below(rng, 1000));
    p->currency = p->us ? "USD" : "GBP";
}

/*
 * Makes p a twin of prev: same surname, birth date, address and phones,
 * another given name and another ID number.
 */
static void make_twin(gen_rng_t *rng, gen_person_t *p, const gen_person_t *prev)
{
    char old_given[48];

    SET(old_given, prev->given);
    *p = *prev;
    p->male = rng_chance(rng, 0.5);
    for (int tries = 0; tries < 8 && strcmp(p->given, old_given) == 0;
         tries++) {
        if (p->chinese)
            draw_cn_given(rng, p->male, p->given, sizeof(p->given));
        else
            SET(p->given, cdf_draw(p->male ? &g_tables.latin_male
                                           : &g_tables.latin_female,
                                   rng));
    }
    if (p->chinese) {
        uint32_t region = (uint32_t)strtoul(
            (char[7]){prev->id_number[0], prev->id_number[1],
                      prev->id_number[2], prev->id_number[3],
                      prev->id_number[4], prev->id_number[5], 0},
            NULL, 10);
        do {
            make_resident_id(rng, p, region);
        } while (strcmp(p->id_number, prev->id_number) == 0);
    } else {
        do {
            draw_latin_id(rng, p);
        } while (strcmp(p->id_number, prev->id_number) == 0);
    }
}

/* ---------------------------------------------------------------------
 * Corruptions of single records.
 */

enum gen_corruption {
    CORRUPT_HOMOPHONE,
    CORRUPT_TRADITIONAL,
    CORRUPT_TYPO,
    CORRUPT_NICKNAME,
    CORRUPT_ID15,
    CORRUPT_MISSING,
    CORRUPT_PLACEHOLDER,
    CORRUPT_MOVED,
    CORRUPT_SWAPPED,
    CORRUPT_FULLWIDTH,
    CORRUPT_COUNT
};

/* Replaces one character of a Chinese given name with a homophone. */
static bool corrupt_homophone(gen_rng_t *rng, char *given, size_t size)
{
    size_t len = strlen(given);
    size_t offsets[8], groups[8], n = 0;
    for (size_t off = 0; off < len && n < 8;) {
        size_t cl = utf8_len((unsigned char)given[off]);
        for (size_t g = 0; g < COUNT_OF(gen_cn_homophones); g++) {
            for (size_t k = 0; k < 5 && gen_cn_homophones[g][k]; k++) {
                if (strncmp(given + off, gen_cn_homophones[g][k], cl) == 0 &&
                    strlen(gen_cn_homophones[g][k]) == cl) {
                    offsets[n] = off;
                    groups[n++] = g;
                    goto next;
                }
            }
        }
    next:
        off += cl;
    }
    if (n == 0)
        return false;

    size_t pick = rng_below(rng, (uint32_t)n);
    const char *const *group = gen_cn_homophones[groups[pick]];
    size_t members = 0;
    while (members < 5 && group[members])
        members++;
    size_t off = offsets[pick];
    size_t cl = utf8_len((unsigned char)given[off]);
    const char *repl;
    do {
        repl = group[rng_below(rng, (uint32_t)members)];
    } while (strncmp(repl, given + off, cl) == 0);

    char out[96];
    snprintf(out, sizeof(out), "%.*s%s%s", (int)off, given, repl,
             given + off + cl);
    snprintf(given, size, "%s", out);
    return true;
}

/* Writes the Traditional form of every character of s that has one. */
static bool to_traditional(char *s, size_t size)
{
    char out[128];
    size_t n = 0;
    bool changed = false;
    for (const char *p = s; *p;) {
        size_t cl = utf8_len((unsigned char)*p);
        const char *repl = NULL;
        for (size_t i = 0; i < COUNT_OF(gen_cn_traditional); i++) {
            if (strlen(gen_cn_traditional[i][0]) == cl &&
                strncmp(p, gen_cn_traditional[i][0], cl) == 0) {
                repl = gen_cn_traditional[i][1];
                break;
            }
        }
        const char *src = repl ? repl : p;
        size_t m = repl ? strlen(repl) : cl;
        if (n + m + 1 > sizeof(out))
            break;
        memcpy(out + n, src, m);
        n += m;
        changed |= repl != NULL;
        p += cl;
    }
    out[n] = '\0';
    if (changed)
        snprintf(s, size, "%s", out);
    return changed;
}

/* Applies one keyboard typo to an ASCII name of at least three letters. */
static bool corrupt_typo(gen_rng_t *rng, char *s, size_t size)
{
    static const char *const rows[] = {"qwertyuiop", "asdfghjkl", "zxcvbnm"};
    size_t len = strlen(s);
    if (len < 3 || len + 2 > size)
        return false;
    size_t i = 1 + rng_below(rng, (uint32_t)(len - 2));
    switch (rng_below(rng, 4)) {
    case 0: /* transposition */ {
        char t = s[i];
        s[i] = s[i + 1];
        s[i + 1] = t;
        break;
    }
    case 1: /* deletion */
        memmove(s + i, s + i + 1, len - i);
        break;
    case 2: /* doubled letter */
        memmove(s + i + 1, s + i, len - i + 1);
        break;
    default: /* neighbouring key */ {
        char c = s[i];
        for (size_t r = 0; r < COUNT_OF(rows); r++) {
            const char *at = strchr(rows[r], c);
            if (at != NULL && c != '\0') {
                size_t pos = (size_t)(at - rows[r]);
                size_t rl = strlen(rows[r]);
                s[i] = rows[r][pos + 1 < rl ? pos + 1 : pos - 1];
                break;
            }
        }
        if (s[i] == c)
            s[i] = c == 'e' ? 'a' : 'e';
        break;
    }
    }
    return true;
}

static bool corrupt_nickname(char *given, size_t size)
{
    for (size_t i = 0; i < COUNT_OF(gen_latin_nicknames); i++) {
        if (strcmp(given, gen_latin_nicknames[i][0]) == 0) {
            snprintf(given, size, "%s", gen_latin_nicknames[i][1]);
            return true;
        }
    }
    return false;
}

/* Rewrites the ASCII digits of s as full-width digits U+FF10-U+FF19. */
static void to_fullwidth_digits(char *s, size_t size)
{
    char out[256];
    size_t n = 0;
    for (const char *p = s; *p && n + 4 < sizeof(out); p++) {
        if (*p >= '0' && *p <= '9') {
            out[n++] = (char)0xef;
            out[n++] = (char)0xbc;
            out[n++] = (char)(0x90 + (*p - '0'));
        } else {
            out[n++] = *p;
        }
    }
    out[n] = '\0';
    snprintf(s, size, "%s", out);
}

static void corrupt_missing(gen_rng_t *rng, gen_record_t *r)
{
    switch (rng_below(rng, 6)) {
    case 0:
        r->phone[0] = '\0';
        break;
    case 1:
        r->email[0] = '\0';
        break;
    case 2:
        r->address[0] = '\0';
        break;
    case 3:
        r->dob[0] = '\0';
        break;
    case 4:
        r->id_number[0] = '\0';
        r->id_type[0] = '\0';
        break;
    default:
        r->gender[0] = '\0';
        break;
    }
}

static void corrupt_placeholder(gen_rng_t *rng, gen_record_t *r, bool chinese)
{
    switch (rng_below(rng, chinese ? 4 : 2)) {
    case 0:
        SET(r->email, "123@abc.com");
        break;
    case 1:
        SET(r->dob, "1900-01-01");
        break;
    case 2:
        SET(r->phone, "13800138000");
        break;
    default:
        SET(r->address, "不详");
        break;
    }
}

/*
 * Applies corruption kind to r. Returns false when the kind does not
 * apply to this person (a nickname for a name without one), so the caller
 * can draw another.
 */
static bool corrupt_record(gen_rng_t *rng, gen_record_t *r,
                           const gen_person_t *p, enum gen_corruption kind,
                           bool *swapped)
{
    switch (kind) {
    case CORRUPT_HOMOPHONE:
        return p->chinese && corrupt_homophone(rng, r->given, sizeof(r->given));
    case CORRUPT_TRADITIONAL:
        if (!p->chinese)
            return false;
        {
            bool a = to_traditional(r->family, sizeof(r->family));
            bool b = to_traditional(r->given, sizeof(r->given));
            return a || b;
        }
    case CORRUPT_TYPO:
        if (p->chinese)
            return false;
        return rng_chance(rng, 0.5)
                   ? corrupt_typo(rng, r->given, sizeof(r->given))
                   : corrupt_typo(rng, r->family, sizeof(r->family));
    case CORRUPT_NICKNAME:
        return !p->chinese && corrupt_nickname(r->given, sizeof(r->given));
    case CORRUPT_ID15:
        if (p->id15[0] == '\0' || r->id_number[0] == '\0')
            return false;
        SET(r->id_number, p->id15);
        return true;
    case CORRUPT_MISSING:
        corrupt_missing(rng, r);
        return true;
    case CORRUPT_PLACEHOLDER:
        corrupt_placeholder(rng, r, p->chinese);
        return true;
    case CORRUPT_MOVED:
        SET(r->address, p->old_address);
        return true;
    case CORRUPT_SWAPPED:
        *swapped = true;
        return true;
    case CORRUPT_FULLWIDTH:
        if (p->chinese && r->id_number[0] && rng_chance(rng, 0.5))
            to_fullwidth_digits(r->id_number, sizeof(r->id_number));
        else
            to_fullwidth_digits(r->phone, sizeof(r->phone));
        return true;
    default:
        return false;
    }
}

/* ---------------------------------------------------------------------
 * Records and accounts of one person.
 */

static int64_t money(int64_t units)
{
    return units * ECIF_AMOUNT_SCALE;
}

static void make_account(gen_rng_t *rng, const gen_person_t *p, uint32_t source,
                         uint64_t key, gen_account_t *a)
{
    snprintf(
        a->account_id, sizeof(a->account_id), "%s%016" PRIx64,
        gen_source_prefixes[source],
        mix64(key ^ (0xa5a5a5a5ull + g_opts.seed * 0x9e3779b97f4a7c15ull)));
    a->currency = p->currency;
    SET(a->branch, p->branch);
    int64_t cents = rng_range(rng, 0, 99) * (ECIF_AMOUNT_SCALE / 100);
    switch (source) {
    case 1:
        a->product = "credit_card";
        a->credit_limit = money(rng_range(rng, 5, 100) * 1000);
        a->balance = a->credit_limit / 100 * rng_range(rng, 0, 100) + cents;
        break;
    case 2:
        a->product = "loan";
        a->credit_limit = money(rng_range(rng, 1, 200) * 10000);
        a->balance = a->credit_limit / 100 * rng_range(rng, 1, 100) + cents;
        break;
    case 3:
        a->product = "wealth";
        a->credit_limit = 0;
        a->balance = money(rng_range(rng, 5, 500) * 10000) + cents;
        break;
    default:
        a->product = "deposit";
        a->credit_limit = 0;
        a->balance = money(rng_range(rng, 0, 200000)) + cents;
        break;
    }
}

/* Fills r from p as source system `source` keeps it, uncorrupted. */
static void base_record(gen_rng_t *rng, const gen_person_t *p, uint32_t source,
                        gen_record_t *r)
{
    r->source_system = gen_sources[source];
    SET(r->given, p->given);
    SET(r->family, p->family);
    SET(r->id_type, p->id_type);
    SET(r->id_number, p->id_number);
    snprintf(r->dob, sizeof(r->dob), "%04d-%02d-%02d", p->year, p->month,
             p->day);
    SET(r->gender, p->male ? "M" : "F");
    SET(r->address, p->address);

    const char *extra = "";
    if (p->family_phone[0] && rng_chance(rng, 0.5))
        extra = p->family_phone;
    else if (source == 0 && rng_chance(rng, 0.4))
        extra = p->landline;
    if (p->family_phone[0] && rng_chance(rng, 0.3))
        SET(r->phone, p->family_phone);
    else if (extra[0])
        snprintf(r->phone, sizeof(r->phone), "%s|%s", p->mobile, extra);
    else
        SET(r->phone, p->mobile);

    /* Branch systems often lack an email; app systems often lack an
     * address. */
    if (source == 0 || source == 2)
        SET(r->email, rng_chance(rng, 0.5) ? p->email : "");
    else
        SET(r->email, p->email);
    if (source >= 4 && rng_chance(rng, 0.5))
        r->address[0] = '\0';
}

static void compose_name(gen_record_t *r, bool chinese, bool swapped)
{
    if (swapped) {
        char t[96];
        SET(t, r->given);
        SET(r->given, r->family);
        snprintf(r->family, sizeof(r->family), "%s", t);
    }
    if (chinese && !swapped)
        snprintf(r->name, sizeof(r->name), "%s%s", r->family, r->given);
    else if (chinese)
        snprintf(r->name, sizeof(r->name), "%s%s", r->given, r->family);
    else
        snprintf(r->name, sizeof(r->name), "%s %s", r->given, r->family);
}

/* Number of records of a person: 1 for 40 %, then a geometric tail. */
static uint32_t draw_record_count(gen_rng_t *rng)
{
    uint32_t n = 1;
    if (rng_chance(rng, 0.6)) {
        n = 2;
        while (n < g_opts.sources && rng_chance(rng, 0.5))
            n++;
    }
    return n < g_opts.sources ? n : g_opts.sources;
}

typedef void (*record_sink_fn)(void *arg, const gen_record_t *r);

static void emit_person(gen_rng_t *rng, const gen_person_t *p, gen_record_t *r,
                        record_sink_fn sink, void *arg)
{
    uint32_t order[SOURCE_COUNT];
    for (uint32_t i = 0; i < SOURCE_COUNT; i++)
        order[i] = i;
    for (uint32_t i = SOURCE_COUNT - 1; i > 0; i--) {
        uint32_t j = rng_below(rng, i + 1);
        uint32_t t = order[i];
        order[i] = order[j];
        order[j] = t;
    }

    uint32_t n = draw_record_count(rng);
    for (uint32_t k = 0; k < n; k++) {
        uint32_t source = order[k];
        uint64_t key = (p->entity << 3) | source;
        bool swapped = false;

        memset(r, 0, offsetof(gen_record_t, accounts));
        r->entity = p->entity;
        base_record(rng, p, source, r);
        snprintf(r->source_id, sizeof(r->source_id), "%s%016" PRIx64,
                 gen_source_prefixes[source],
                 mix64(key + g_opts.seed * 0xd1b54a32d192ed03ull));

        int corruptions = 0;
        if (rng_chance(rng, g_opts.corruption_rate))
            corruptions = rng_chance(rng, g_opts.corruption_rate) ? 2 : 1;
        for (int c = 0; c < corruptions; c++) {
            for (int tries = 0; tries < 4; tries++) {
                enum gen_corruption kind =
                    (enum gen_corruption)rng_below(rng, CORRUPT_COUNT);
                if (corrupt_record(rng, r, p, kind, &swapped))
                    break;
            }
        }
        compose_name(r, p->chinese, swapped);

        r->account_count =
            1 + (rng_chance(rng, 0.3) ? 1 : 0) + (rng_chance(rng, 0.1) ? 1 : 0);
        for (uint32_t a = 0; a < r->account_count; a++)
            make_account(rng, p, source, (key << 2) | a, &r->accounts[a]);
        sink(arg, r);
    }
}

/* Draws the person of customer number entity; prev is the previous person
 * of the same block or NULL. */
static void draw_person(gen_rng_t *rng, uint64_t entity,
                        const gen_person_t *prev, gen_person_t *p)
{
    bool chinese = rng_chance(rng, g_opts.chinese_share);
    double rate = g_opts.corruption_rate;

    if (prev != NULL && prev->chinese == chinese &&
        rng_chance(rng, rate * 0.05)) {
        make_twin(rng, p, prev);
    } else {
        memset(p, 0, sizeof(*p));
        p->chinese = chinese;
        if (chinese)
            draw_chinese(rng, p);
        else
            draw_latin(rng, p);
        /* A household: the previous person's address and phone. */
        if (prev != NULL && prev->chinese == chinese &&
            rng_chance(rng, rate * 0.2)) {
            SET(p->family_phone, prev->mobile);
            SET(p->address, prev->address);
        }
    }
    p->entity = entity;
}

/* ---------------------------------------------------------------------
 * Blocks, slots and the output pipeline.
 */

typedef enum slot_state { SLOT_FREE, SLOT_BUSY, SLOT_READY } slot_state_t;

typedef struct gen_slot {
    slot_state_t state;
    uint64_t block;
    /* The only block that may take this slot next. Without it a fast
     * worker could take a freed slot for a later block before the worker
     * that claimed the earlier block wakes up, and the writer would wait
     * forever for the earlier one. */
    uint64_t turn;
    gen_buf_t records, accounts, truth;
    gen_record_t *items; /* --snapshot: the block's records */
    size_t item_count, item_cap;
} gen_slot_t;

typedef struct gen_pipeline {
    pthread_mutex_t lock;
    pthread_cond_t changed;
    gen_slot_t *slots;
    size_t slot_count;
    uint64_t block_count;
    uint64_t next_block;
} gen_pipeline_t;

static void amount_str(int64_t v, char buf[ECIF_AMOUNT_STR_MAX])
{
    ecif_amount_format(v, buf);
}

static void write_csv_record(gen_slot_t *s, const gen_record_t *r)
{
    const char *fields[] = {r->source_system, r->source_id, r->name,
                            r->given,         r->family,    r->id_type,
                            r->id_number,     r->phone,     r->email,
                            r->address,       r->dob,       r->gender};
    for (size_t i = 0; i < COUNT_OF(fields); i++) {
        if (i)
            buf_char(&s->records, ',');
        buf_csv(&s->records, fields[i]);
    }
    buf_char(&s->records, '\n');

    for (uint32_t a = 0; a < r->account_count; a++) {
        const gen_account_t *ac = &r->accounts[a];
        char limit[ECIF_AMOUNT_STR_MAX], balance[ECIF_AMOUNT_STR_MAX];
        amount_str(ac->credit_limit, limit);
        amount_str(ac->balance, balance);
        const char *af[] = {r->source_system, r->source_id, ac->account_id,
                            ac->product,      limit,        balance,
                            ac->currency,     ac->branch};
        for (size_t i = 0; i < COUNT_OF(af); i++) {
            if (i)
                buf_char(&s->accounts, ',');
            buf_csv(&s->accounts, af[i]);
        }
        buf_char(&s->accounts, '\n');
    }
}

static void write_jsonl_record(gen_slot_t *s, const gen_record_t *r)
{
    static const char *const keys[] = {
        "source_system", "source_id", "name",      "given_name",
        "family_name",   "id_type",   "id_number", "phone",
        "email",         "address",   "dob",       "gender"};
    const char *fields[] = {r->source_system, r->source_id, r->name,
                            r->given,         r->family,    r->id_type,
                            r->id_number,     r->phone,     r->email,
                            r->address,       r->dob,       r->gender};
    buf_char(&s->records, '{');
    for (size_t i = 0; i < COUNT_OF(fields); i++)
        buf_json_field(&s->records, keys[i], fields[i], i >= 7 && i <= 9,
                       i == 0);
    buf_str(&s->records, "}\n");

    static const char *const akeys[] = {
        "source_system", "source_id", "account_id", "product",
        "credit_limit",  "balance",   "currency",   "branch"};
    for (uint32_t a = 0; a < r->account_count; a++) {
        const gen_account_t *ac = &r->accounts[a];
        char limit[ECIF_AMOUNT_STR_MAX], balance[ECIF_AMOUNT_STR_MAX];
        amount_str(ac->credit_limit, limit);
        amount_str(ac->balance, balance);
        const char *af[] = {r->source_system, r->source_id, ac->account_id,
                            ac->product,      limit,        balance,
                            ac->currency,     ac->branch};
        buf_char(&s->accounts, '{');
        for (size_t i = 0; i < COUNT_OF(af); i++)
            buf_json_field(&s->accounts, akeys[i], af[i], false, i == 0);
        buf_str(&s->accounts, "}\n");
    }
}

static void write_truth(gen_slot_t *s, const gen_record_t *r)
{
    char entity[24];
    snprintf(entity, sizeof(entity), "E%010" PRIu64, r->entity);
    if (g_opts.format == FORMAT_CSV) {
        buf_str(&s->truth, r->source_system);
        buf_char(&s->truth, ',');
        buf_str(&s->truth, r->source_id);
        buf_char(&s->truth, ',');
        buf_str(&s->truth, entity);
        buf_char(&s->truth, '\n');
        return;
    }
    buf_char(&s->truth, '{');
    buf_json_field(&s->truth, "source_system", r->source_system, false, true);
    buf_json_field(&s->truth, "source_id", r->source_id, false, false);
    buf_json_field(&s->truth, "entity_id", entity, false, false);
    buf_str(&s->truth, "}\n");
}

static void slot_sink(void *arg, const gen_record_t *r)
{
    gen_slot_t *s = arg;
    write_truth(s, r);
    if (g_opts.snapshot != NULL) {
        if (s->item_count == s->item_cap) {
            size_t cap = s->item_cap ? s->item_cap * 2 : 1024;
            gen_record_t *items = realloc(s->items, cap * sizeof(*items));
            if (items == NULL) {
                fprintf(stderr, "gen_customers: out of memory\n");
                exit(1);
            }
            s->items = items;
            s->item_cap = cap;
        }
        s->items[s->item_count++] = *r;
    } else if (g_opts.format == FORMAT_CSV) {
        write_csv_record(s, r);
    } else {
        write_jsonl_record(s, r);
    }
}

static void generate_block(gen_slot_t *s, uint64_t block)
{
    gen_rng_t rng;
    gen_person_t people[2];
    gen_record_t record;
    uint64_t first = block * BLOCK_CUSTOMERS;
    uint64_t last = first + BLOCK_CUSTOMERS;
    if (last > g_opts.customers)
        last = g_opts.customers;

    s->records.len = s->accounts.len = s->truth.len = 0;
    s->item_count = 0;
    rng_seed(&rng, g_opts.seed, block);
    for (uint64_t c = first; c < last; c++) {
        gen_person_t *p = &people[c & 1];
        const gen_person_t *prev = c > first ? &people[(c - 1) & 1] : NULL;
        draw_person(&rng, c + 1, prev, p);
        emit_person(&rng, p, &record, slot_sink, s);
    }
}

static void *worker_main(void *arg)
{
    gen_pipeline_t *pl = arg;

    pthread_mutex_lock(&pl->lock);
    while (pl->next_block < pl->block_count) {
        uint64_t block = pl->next_block++;
        gen_slot_t *s = &pl->slots[block % pl->slot_count];
        while (s->state != SLOT_FREE || s->turn != block)
            pthread_cond_wait(&pl->changed, &pl->lock);
        s->state = SLOT_BUSY;
        s->block = block;
        pthread_mutex_unlock(&pl->lock);

        generate_block(s, block);

        pthread_mutex_lock(&pl->lock);
        s->state = SLOT_READY;
        pthread_cond_broadcast(&pl->changed);
    }
    pthread_mutex_unlock(&pl->lock);
    return NULL;
}

/* ---------------------------------------------------------------------
 * Sinks of finished blocks: files or the snapshot builder.
 */

typedef struct gen_output {
    int records_fd, accounts_fd, truth_fd;
    ecif_builder_t *builder;
    uint64_t record_count, account_count, rejected;
} gen_output_t;

static int write_all(int fd, const char *data, size_t len, const char *what)
{
    while (len > 0) {
        ssize_t n = write(fd, data, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            fprintf(stderr, "gen_customers: write of the %s file failed: %s\n",
                    what, strerror(errno));
            return -1;
        }
        data += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Splits a '|'-separated cell into values that point into copy. */
static uint32_t split_values(const char *cell, char *copy, size_t size,
                             const char **values)
{
    uint32_t n = 0;
    if (cell[0] == '\0')
        return 0;
    snprintf(copy, size, "%s", cell);
    char *save = NULL;
    for (char *tok = strtok_r(copy, "|", &save);
         tok != NULL && n < ECIF_MAX_VALUES; tok = strtok_r(NULL, "|", &save))
        values[n++] = tok;
    return n;
}

static void report_rejected(gen_output_t *out, const char *msg)
{
    /* The first few messages show the cause; the count shows the scale. */
    if (out->rejected++ < 5)
        fprintf(stderr, "gen_customers: builder rejected a row: %s\n", msg);
}

static void feed_builder(gen_output_t *out, const gen_slot_t *s)
{
    char err[512];
    char phones[sizeof(((gen_record_t *)0)->phone)];
    char emails[sizeof(((gen_record_t *)0)->email)];
    char addresses[sizeof(((gen_record_t *)0)->address)];

    for (size_t i = 0; i < s->item_count; i++) {
        const gen_record_t *r = &s->items[i];
        ecif_record_t rec = {
            .source_system = r->source_system,
            .source_id = r->source_id,
            .name = r->name,
            .given_name = r->given,
            .family_name = r->family,
            .id_type = r->id_type,
            .id_number = r->id_number,
            .dob = r->dob,
            .gender = r->gender,
        };
        rec.n_phones =
            split_values(r->phone, phones, sizeof(phones), rec.phones);
        rec.n_emails =
            split_values(r->email, emails, sizeof(emails), rec.emails);
        rec.n_addresses = split_values(r->address, addresses, sizeof(addresses),
                                       rec.addresses);
        if (ecif_builder_add_record(out->builder, &rec, err, sizeof(err)) !=
            ECIF_OK) {
            report_rejected(out, err);
            continue;
        }
        out->record_count++;
        for (uint32_t a = 0; a < r->account_count; a++) {
            const gen_account_t *ac = &r->accounts[a];
            ecif_account_t acct = {
                .account_id = ac->account_id,
                .product = ac->product,
                .currency = ac->currency,
                .branch = ac->branch,
                .credit_limit = ac->credit_limit,
                .balance = ac->balance,
            };
            if (ecif_builder_add_account(out->builder, r->source_system,
                                         r->source_id, &acct, err,
                                         sizeof(err)) != ECIF_OK) {
                report_rejected(out, err);
                continue;
            }
            out->account_count++;
        }
    }
}

static int consume_slot(gen_output_t *out, const gen_slot_t *s)
{
    if (write_all(out->truth_fd, s->truth.data, s->truth.len, "truth") != 0)
        return -1;
    if (out->builder != NULL) {
        feed_builder(out, s);
        return 0;
    }
    for (size_t i = 0; i < s->records.len; i++)
        out->record_count += s->records.data[i] == '\n';
    for (size_t i = 0; i < s->accounts.len; i++)
        out->account_count += s->accounts.data[i] == '\n';
    if (write_all(out->records_fd, s->records.data, s->records.len,
                  "records") != 0)
        return -1;
    return write_all(out->accounts_fd, s->accounts.data, s->accounts.len,
                     "accounts");
}

/* Runs the workers and consumes every block in order. */
static int run_pipeline(gen_output_t *out)
{
    gen_pipeline_t pl = {
        .lock = PTHREAD_MUTEX_INITIALIZER,
        .changed = PTHREAD_COND_INITIALIZER,
        .slot_count = 2 * (size_t)g_opts.threads + 2,
        .block_count =
            (g_opts.customers + BLOCK_CUSTOMERS - 1) / BLOCK_CUSTOMERS,
    };
    pl.slots = calloc(pl.slot_count, sizeof(*pl.slots));
    pthread_t *threads = calloc(g_opts.threads, sizeof(*threads));
    if (pl.slots == NULL || threads == NULL) {
        fprintf(stderr, "gen_customers: out of memory\n");
        exit(1);
    }
    for (size_t i = 0; i < pl.slot_count; i++)
        pl.slots[i].turn = i;
    for (unsigned t = 0; t < g_opts.threads; t++) {
        int rc = pthread_create(&threads[t], NULL, worker_main, &pl);
        if (rc != 0) {
            fprintf(stderr, "gen_customers: pthread_create failed: %s\n",
                    strerror(rc));
            exit(1);
        }
    }

    int status = 0;
    for (uint64_t b = 0; b < pl.block_count; b++) {
        gen_slot_t *s = &pl.slots[b % pl.slot_count];
        pthread_mutex_lock(&pl.lock);
        while (s->state != SLOT_READY || s->block != b)
            pthread_cond_wait(&pl.changed, &pl.lock);
        pthread_mutex_unlock(&pl.lock);

        if (status == 0)
            status = consume_slot(out, s);

        pthread_mutex_lock(&pl.lock);
        s->state = SLOT_FREE;
        s->turn = b + pl.slot_count;
        pthread_cond_broadcast(&pl.changed);
        pthread_mutex_unlock(&pl.lock);
    }

    for (unsigned t = 0; t < g_opts.threads; t++)
        pthread_join(threads[t], NULL);
    for (size_t i = 0; i < pl.slot_count; i++) {
        free(pl.slots[i].records.data);
        free(pl.slots[i].accounts.data);
        free(pl.slots[i].truth.data);
        free(pl.slots[i].items);
    }
    free(pl.slots);
    free(threads);
    return status;
}

/* ---------------------------------------------------------------------
 * Tables built at start-up.
 */

/* Reads a CSV of name,count. Rows whose count is no positive integer,
 * such as a header, are skipped. */
static int load_names_table(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "gen_customers: cannot open --names-table '%s': %s\n",
                path, strerror(errno));
        return -1;
    }
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *text = xmalloc((size_t)size + 1);
    size_t got = fread(text, 1, (size_t)size, f);
    fclose(f);
    text[got] = '\0';

    size_t lines = 1;
    for (size_t i = 0; i < got; i++)
        lines += text[i] == '\n';
    cdf_init(&g_tables.full_names, lines);

    char *save = NULL;
    for (char *line = strtok_r(text, "\r\n", &save); line != NULL;
         line = strtok_r(NULL, "\r\n", &save)) {
        char *comma = strrchr(line, ',');
        if (comma == NULL)
            continue;
        *comma = '\0';
        char *end;
        unsigned long long count = strtoull(comma + 1, &end, 10);
        if (end == comma + 1 || *end != '\0' || count == 0 || line[0] == '\0')
            continue;
        cdf_add(&g_tables.full_names, line, count);
    }
    g_tables.full_names_text = text;
    if (g_tables.full_names.count == 0) {
        fprintf(stderr,
                "gen_customers: --names-table '%s' has no name,count rows "
                "with a positive count\n",
                path);
        return -1;
    }
    return 0;
}

static void build_tables(void)
{
    gen_tables_t *t = &g_tables;

    cdf_from_weighted(&t->surnames, gen_cn_surnames, COUNT_OF(gen_cn_surnames));
    cdf_from_weighted(&t->common_male, gen_cn_common_male,
                      COUNT_OF(gen_cn_common_male));
    cdf_from_weighted(&t->common_female, gen_cn_common_female,
                      COUNT_OF(gen_cn_common_female));
    cdf_from_ranked(&t->given_male, gen_cn_given_male,
                    COUNT_OF(gen_cn_given_male));
    cdf_from_ranked(&t->given_female, gen_cn_given_female,
                    COUNT_OF(gen_cn_given_female));
    cdf_from_weighted(&t->mobile_prefixes, gen_cn_mobile_prefixes,
                      COUNT_OF(gen_cn_mobile_prefixes));
    cdf_from_ranked(&t->latin_male, gen_latin_given_male,
                    COUNT_OF(gen_latin_given_male));
    cdf_from_ranked(&t->latin_female, gen_latin_given_female,
                    COUNT_OF(gen_latin_given_female));
    cdf_from_ranked(&t->latin_surnames, gen_latin_surnames,
                    COUNT_OF(gen_latin_surnames));

    t->county_regions = xmalloc(cn_region_count * sizeof(uint32_t));
    for (size_t i = 0; i < cn_region_count; i++) {
        const cn_region_t *r = &cn_region_table[i];
        if (r->current && r->code % 100 != 0 && !division_name_skipped(r->name))
            t->county_regions[t->county_region_count++] = (uint32_t)i;
    }

    t->area_city = xmalloc(division_areas_count * sizeof(uint32_t));
    t->city_province = xmalloc(division_cities_count * sizeof(uint32_t));
    for (uint32_t p = 0; p < division_provinces_count; p++) {
        const struct division *prov = &division_provinces[p];
        for (uint32_t c = prov->first_child;
             c < prov->first_child + prov->child_count; c++) {
            t->city_province[c] = p;
            const struct division *city = &division_cities[c];
            for (uint32_t a = city->first_child;
                 a < city->first_child + city->child_count; a++)
                t->area_city[a] = c;
        }
    }
}

/* ---------------------------------------------------------------------
 * Command line.
 */

static void usage(FILE *f)
{
    fprintf(f,
            "usage: gen_customers --customers N --seed S [OPTIONS]\n"
            "\n"
            "Writes synthetic customer records, their accounts and the\n"
            "true person of every record (bench/GENERATOR.md).\n"
            "\n"
            "  -n, --customers N        persons to generate (1 to 2^40)\n"
            "  -s, --seed S             seed; equal seeds and options give\n"
            "                           byte-identical output\n"
            "      --chinese-share F    share of Chinese persons, 0 to 1\n"
            "                           (default 0.7)\n"
            "  -f, --format csv|jsonl   output format (default csv)\n"
            "  -o, --output-dir DIR     directory of records.*, accounts.*\n"
            "                           and truth.* (default .)\n"
            "  -t, --threads T          generator threads, 1 to 256\n"
            "                           (default: online CPUs); the output\n"
            "                           does not depend on it\n"
            "      --corruption-rate F  share of records with a corruption,\n"
            "                           0 to 1 (default 0.1)\n"
            "      --sources K          most records per person, 1 to 6\n"
            "                           (default 6)\n"
            "      --names-table FILE   CSV of name,count: Chinese full names\n"
            "                           drawn by count instead of the\n"
            "                           built-in tables\n"
            "      --snapshot PATH      build a snapshot at PATH instead of\n"
            "                           writing records and accounts; the\n"
            "                           truth file is still written\n"
            "  -h, --help               this text\n");
}

static int parse_double(const char *opt, const char *text, double lo, double hi,
                        double *out)
{
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (errno != 0 || end == text || *end != '\0' || !(v >= lo && v <= hi)) {
        fprintf(stderr,
                "gen_customers: invalid %s '%s' (expected a number from %g "
                "to %g)\n",
                opt, text, lo, hi);
        return -1;
    }
    *out = v;
    return 0;
}

static int parse_u64(const char *opt, const char *text, uint64_t lo,
                     uint64_t hi, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || text[0] == '-' || v < lo ||
        v > hi) {
        fprintf(stderr,
                "gen_customers: invalid %s '%s' (expected an integer from "
                "%" PRIu64 " to %" PRIu64 ")\n",
                opt, text, lo, hi);
        return -1;
    }
    *out = v;
    return 0;
}

enum {
    OPT_CHINESE_SHARE = 256,
    OPT_CORRUPTION,
    OPT_SOURCES,
    OPT_NAMES,
    OPT_SNAPSHOT,
};

/* Returns 0, 1 after --help, or 2 on a usage error. */
static int parse_args(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"customers", required_argument, NULL, 'n'},
        {"seed", required_argument, NULL, 's'},
        {"chinese-share", required_argument, NULL, OPT_CHINESE_SHARE},
        {"format", required_argument, NULL, 'f'},
        {"output-dir", required_argument, NULL, 'o'},
        {"threads", required_argument, NULL, 't'},
        {"corruption-rate", required_argument, NULL, OPT_CORRUPTION},
        {"sources", required_argument, NULL, OPT_SOURCES},
        {"names-table", required_argument, NULL, OPT_NAMES},
        {"snapshot", required_argument, NULL, OPT_SNAPSHOT},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    bool have_customers = false, have_seed = false;
    uint64_t v;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);

    g_opts = (gen_options_t){
        .chinese_share = 0.7,
        .format = FORMAT_CSV,
        .output_dir = ".",
        .threads = cpus > 0 && cpus < 256 ? (unsigned)cpus : 1,
        .corruption_rate = 0.1,
        .sources = SOURCE_COUNT,
    };
    int c;
    while ((c = getopt_long(argc, argv, "n:s:f:o:t:h", longopts, NULL)) != -1) {
        int rc = 0;
        switch (c) {
        case 'n':
            rc = parse_u64("--customers", optarg, 1, 1ull << 40,
                           &g_opts.customers);
            have_customers = true;
            break;
        case 's':
            rc = parse_u64("--seed", optarg, 0, UINT64_MAX, &g_opts.seed);
            have_seed = true;
            break;
        case OPT_CHINESE_SHARE:
            rc = parse_double("--chinese-share", optarg, 0, 1,
                              &g_opts.chinese_share);
            break;
        case 'f':
            if (strcmp(optarg, "csv") == 0) {
                g_opts.format = FORMAT_CSV;
            } else if (strcmp(optarg, "jsonl") == 0) {
                g_opts.format = FORMAT_JSONL;
            } else {
                fprintf(stderr,
                        "gen_customers: invalid --format '%s' (expected csv "
                        "or jsonl)\n",
                        optarg);
                rc = -1;
            }
            break;
        case 'o':
            g_opts.output_dir = optarg;
            break;
        case 't':
            rc = parse_u64("--threads", optarg, 1, 256, &v);
            g_opts.threads = (unsigned)v;
            break;
        case OPT_CORRUPTION:
            rc = parse_double("--corruption-rate", optarg, 0, 1,
                              &g_opts.corruption_rate);
            break;
        case OPT_SOURCES:
            rc = parse_u64("--sources", optarg, 1, SOURCE_COUNT, &v);
            g_opts.sources = (unsigned)v;
            break;
        case OPT_NAMES:
            g_opts.names_table = optarg;
            break;
        case OPT_SNAPSHOT:
            g_opts.snapshot = optarg;
            break;
        case 'h':
            usage(stdout);
            return 1;
        default:
            usage(stderr);
            return 2;
        }
        if (rc != 0)
            return 2;
    }
    if (optind < argc) {
        fprintf(stderr, "gen_customers: unexpected argument '%s'\n",
                argv[optind]);
        return 2;
    }
    if (!have_customers || !have_seed) {
        fprintf(stderr, "gen_customers: --customers and --seed are "
                        "required\n");
        usage(stderr);
        return 2;
    }
    return 0;
}

static int open_output(const char *name, int *fd)
{
    char path[4096];
    const char *ext = g_opts.format == FORMAT_CSV ? "csv" : "jsonl";
    snprintf(path, sizeof(path), "%s/%s.%s", g_opts.output_dir, name, ext);
    *fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (*fd < 0) {
        fprintf(stderr, "gen_customers: cannot create '%s': %s\n", path,
                strerror(errno));
        return -1;
    }
    return 0;
}

static const char *const record_header =
    "source_system,source_id,name,given_name,family_name,id_type,"
    "id_number,phone,email,address,dob,gender\n";
static const char *const account_header =
    "source_system,source_id,account_id,product,credit_limit,balance,"
    "currency,branch\n";
static const char *const truth_header = "source_system,source_id,entity_id\n";

static int open_outputs(gen_output_t *out)
{
    out->records_fd = out->accounts_fd = out->truth_fd = -1;
    if (mkdir(g_opts.output_dir, 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "gen_customers: cannot create --output-dir '%s': %s\n",
                g_opts.output_dir, strerror(errno));
        return -1;
    }
    if (open_output("truth", &out->truth_fd) != 0)
        return -1;
    if (g_opts.snapshot == NULL &&
        (open_output("records", &out->records_fd) != 0 ||
         open_output("accounts", &out->accounts_fd) != 0))
        return -1;
    if (g_opts.format != FORMAT_CSV)
        return 0;
    if (write_all(out->truth_fd, truth_header, strlen(truth_header), "truth") !=
        0)
        return -1;
    if (g_opts.snapshot != NULL)
        return 0;
    if (write_all(out->records_fd, record_header, strlen(record_header),
                  "records") != 0)
        return -1;
    return write_all(out->accounts_fd, account_header, strlen(account_header),
                     "accounts");
}

static int close_fd(int fd, const char *what)
{
    if (fd >= 0 && close(fd) != 0) {
        fprintf(stderr, "gen_customers: close of the %s file failed: %s\n",
                what, strerror(errno));
        return -1;
    }
    return 0;
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int write_snapshot(gen_output_t *out)
{
    char err[512];
    ecif_build_stats_t stats;
    int rc = ecif_builder_write(out->builder, g_opts.snapshot, &stats, err,
                                sizeof(err));
    if (rc != ECIF_OK) {
        fprintf(stderr, "gen_customers: writing snapshot '%s' failed: %s\n",
                g_opts.snapshot, err);
        return -1;
    }
    fprintf(stderr,
            "gen_customers: snapshot %s: %u records, %u customers, %u "
            "accounts, %" PRIu64 " bytes\n",
            g_opts.snapshot, stats.record_count, stats.customer_count,
            stats.account_count, stats.snapshot_bytes);
    return 0;
}

int main(int argc, char **argv)
{
    int rc = parse_args(argc, argv);
    if (rc != 0)
        return rc == 1 ? 0 : 2;

    double start = now_seconds();
    build_tables();
    if (g_opts.names_table != NULL && load_names_table(g_opts.names_table))
        return 1;

    gen_output_t out = {0};
    if (open_outputs(&out) != 0)
        return 1;
    if (g_opts.snapshot != NULL) {
        ecif_builder_options_t bopts;
        char err[512];
        ecif_builder_options_default(&bopts);
        if (ecif_builder_create(&bopts, &out.builder, err, sizeof(err)) !=
            ECIF_OK) {
            fprintf(stderr, "gen_customers: builder: %s\n", err);
            return 1;
        }
    }

    int status = run_pipeline(&out);
    if (status == 0 && out.builder != NULL)
        status = write_snapshot(&out);
    if (close_fd(out.records_fd, "records") != 0 ||
        close_fd(out.accounts_fd, "accounts") != 0 ||
        close_fd(out.truth_fd, "truth") != 0)
        status = -1;
    ecif_builder_destroy(out.builder);

    fprintf(stderr,
            "gen_customers: %" PRIu64 " customers, %" PRIu64 " records, "
            "%" PRIu64 " accounts, %" PRIu64 " rejected, %.2f s\n",
            g_opts.customers, out.record_count, out.account_count, out.rejected,
            now_seconds() - start);
    return status == 0 ? 0 : 1;
}
