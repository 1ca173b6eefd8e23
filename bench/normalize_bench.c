/*
 * normalize_bench: records per second through match_normalize(), the full
 * record normalization that import and queries run, on one thread.
 *
 * The record set is generated in memory from a seed, so every run of the
 * same build gets the same data: Han names (some Traditional, some with
 * noise), pinyin and Latin names, resident IDs (some 15-digit, some
 * full-width) and passports, phones in many layouts, emails, Chinese and
 * Latin addresses, and dates in several layouts. The breakdown runs the
 * same records with one field kept at a time, so each row is the cost of
 * that field's normalizers on the real code path.
 *
 * With --checksum it times nothing and prints one FNV-1a hash of every
 * normalized output of every breakdown row instead, so a change to the
 * normalizers can be checked to leave every value byte-identical: run
 * the old and the new build on the same seed and compare the hashes.
 *
 * usage: normalize_bench [-n RECORDS] [-r RUNS] [-s SEED] [--checksum]
 */
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cn_id.h"
#include "match.h"

/* One generated record and the storage its strings point into. */
typedef struct bench_record {
    char name[64];
    char id_type[24];
    char id[48];
    char phones[2][48];
    char email[80];
    char address[160];
    char dob[32];
    char gender[8];
    ecif_record_t rec;
} bench_record_t;

/* Fields the breakdown keeps one at a time. */
enum bench_field {
    FIELD_ALL = 0,
    FIELD_NONE,
    FIELD_NAME,
    FIELD_ID,
    FIELD_PHONE,
    FIELD_EMAIL,
    FIELD_ADDRESS,
    FIELD_DOB_GENDER,
    FIELD_COUNT,
};

static const char *const field_names[FIELD_COUNT] = {
    "all fields", "none (fixed cost)", "name",         "id_number", "phones",
    "email",      "address",           "dob + gender",
};

static uint64_t rng_state;

static uint64_t rng_next(void)
{
    uint64_t x = rng_state;

    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    rng_state = x;
    return x;
}

static uint32_t rng_below(uint32_t n)
{
    return (uint32_t)(rng_next() % n);
}

static const char *pick(const char *const *list, size_t n)
{
    return list[rng_below((uint32_t)n)];
}

#define PICK(list) pick(list, sizeof(list) / sizeof(list[0]))

static const char *const han_surnames[] = {
    "张", "王", "李", "刘", "陈",   "杨",   "黄",   "赵", "吴", "周", "徐",
    "孙", "马", "朱", "胡", "郭",   "何",   "林",   "罗", "高", "張", "陳",
    "劉", "黃", "趙", "鄭", "欧阳", "司马", "诸葛", "单", "吕", "曾",
};
static const char *const han_given[] = {
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇",
    "艳", "杰", "娟", "涛", "明", "超", "秀", "霞", "平", "刚", "桂",
    "偉", "華", "麗", "國", "東", "龍", "文", "志", "建", "红", "小",
};
static const char *const pinyin_names[] = {
    "Zhang Wei",      "Wei Zhang",    "ZHANG WEI", "Zhangwei",
    "Wang Fang",      "Li Na",        "Liu Yang",  "Chen Jie",
    "Cheung Wai",     "Chan Tai Man", "Lyu Li",    "Ouyang Nana",
    "Huang Xiaoming", "Zhou Min",     "Xu Jing",   "Lin Tao",
};
static const char *const latin_given[] = {
    "John",   "Robert",   "Bob",       "William", "Bill",  "Mary",
    "Maria",  "José",     "Katherine", "Cathy",   "Chris", "Elizabeth",
    "Müller", "Jean-Luc", "Siobhán",   "Thomas",
};
static const char *const latin_family[] = {
    "Smith",        "Johnson",      "O'Brien",  "McDonald",
    "van der Berg", "García López", "Nguyen",   "Schmidt",
    "Brown",        "de la Cruz",   "Williams", "Müller",
};
static const char *const latin_suffixes[] = {"", "", "", "", " Jr.", " III"};
static const char *const regions[] = {"110105", "310104", "440305",
                                      "510107", "330106", "420102"};
static const char *const cities[] = {
    "北京市朝阳区",       "上海市浦东新区",     "广东省深圳市南山区",
    "四川省成都市武侯区", "浙江省杭州市西湖区", "湖北省武汉市江岸区",
    "重庆市渝中区",       "江苏省南京市鼓楼区",
};
static const char *const roads[] = {
    "建国路", "人民路", "中山路", "解放大道", "科技园南区", "文三路", "博云路"};
static const char *const streets[] = {
    "Main Street",    "Baker St",    "Pennsylvania Avenue NW",
    "Rue de la Paix", "High Street", "Oak Road"};
static const char *const domains[] = {"example.com", "gmail.com",
                                      "qq.com",      "163.com",
                                      "example.org", "GMAIL.COM"};

/* Writes a Han name, with a noise character in about one name of ten. */
static void gen_han_name(char *out, size_t len)
{
    const char *family = PICK(han_surnames);
    const char *g1 = PICK(han_given);
    const char *g2 = rng_below(3) ? PICK(han_given) : "";
    static const char *const noise[] = {"?", "1", "·", " ", "A"};

    if (rng_below(10) == 0)
        snprintf(out, len, "%s%s%s%s", family, PICK(noise), g1, g2);
    else
        snprintf(out, len, "%s%s%s", family, g1, g2);
}

static void gen_name(bench_record_t *r, unsigned kind)
{
    if (kind < 50)
        gen_han_name(r->name, sizeof(r->name));
    else if (kind < 70)
        snprintf(r->name, sizeof(r->name), "%s", PICK(pinyin_names));
    else
        snprintf(r->name, sizeof(r->name), "%s %s%s", PICK(latin_given),
                 PICK(latin_family), PICK(latin_suffixes));
}

static void gen_dob_digits(unsigned *y, unsigned *m, unsigned *d)
{
    *y = 1940 + rng_below(65);
    *m = 1 + rng_below(12);
    *d = 1 + rng_below(28);
}

/* Writes a resident ID: 18 characters, 15 digits in about one of six, and
 * full-width digits in about one of twenty. */
static void gen_resident_id(char *out, size_t len, unsigned y, unsigned m,
                            unsigned d)
{
    char first17[18];
    char id[CN_ID_SIZE + 1];

    snprintf(first17, sizeof(first17), "%s%04u%02u%02u%03u", PICK(regions), y,
             m, d, rng_below(1000));
    if (rng_below(6) == 0) {
        snprintf(out, len, "%.6s%.6s%.3s", first17, first17 + 8, first17 + 14);
        return;
    }
    snprintf(id, sizeof(id), "%s%c", first17, cn_id_check_char(first17));
    if (rng_below(20) == 0) {
        size_t n = 0;

        /* Full-width digits are U+FF10..U+FF19: EF BC 90..99. */
        for (const char *p = id; *p != '\0' && n + 4 < len; p++) {
            if (*p >= '0' && *p <= '9') {
                out[n++] = (char)0xEF;
                out[n++] = (char)0xBC;
                out[n++] = (char)(0x90 + (*p - '0'));
            } else {
                out[n++] = *p;
            }
        }
        out[n] = '\0';
        return;
    }
    snprintf(out, len, "%s", id);
}

static void gen_phone(char *out, size_t len)
{
    unsigned a = 130 + rng_below(70);
    unsigned b = rng_below(10000);
    unsigned c = rng_below(10000);

    switch (rng_below(9)) {
    case 0:
        snprintf(out, len, "%u%04u%04u", a, b, c);
        break;
    case 1:
        snprintf(out, len, "+86 %u %04u %04u", a, b, c);
        break;
    case 2:
        snprintf(out, len, "%u-%04u-%04u", a, b, c);
        break;
    case 3:
        snprintf(out, len, "0086%u%04u%04u", a, b, c);
        break;
    case 4:
        snprintf(out, len, "(010) %04u-%04u", b, c);
        break;
    case 5:
        snprintf(out, len, "0755-%04u%04u转%u", b, c, rng_below(900) + 100);
        break;
    case 6:
        snprintf(out, len, "+1 415 555 %04u", c);
        break;
    case 7:
        snprintf(out, len, "＋８６ %u %04u %04u", a, b, c);
        break;
    default:
        snprintf(out, len, "%04u %04u", b, c);
        break;
    }
}

static void gen_email(char *out, size_t len, unsigned serial)
{
    static const char *const locals[] = {"zhang.wei",  "ZhangWei", "li.na",
                                         "john.smith", "bob",      "m.garcia"};
    const char *tag = rng_below(5) == 0 ? "+news" : "";

    snprintf(out, len, "%s%u%s@%s", PICK(locals), serial % 1000, tag,
             PICK(domains));
}

static void gen_address(char *out, size_t len, bool chinese)
{
    if (chinese)
        snprintf(out, len, "%s%s%u号%u号楼%u单元%u室", PICK(cities),
                 PICK(roads), 1 + rng_below(300), 1 + rng_below(20),
                 1 + rng_below(6), 101 + rng_below(2000));
    else
        snprintf(out, len, "%u %s Apt %u", 1 + rng_below(2000), PICK(streets),
                 1 + rng_below(40));
}

static void gen_dob(char *out, size_t len, unsigned y, unsigned m, unsigned d)
{
    switch (rng_below(6)) {
    case 0:
        snprintf(out, len, "%04u%02u%02u", y, m, d);
        break;
    case 1:
        snprintf(out, len, "%04u/%02u/%02u", y, m, d);
        break;
    case 2:
        snprintf(out, len, "%02u/%02u/%04u", d, m, y);
        break;
    case 3:
        snprintf(out, len, "%04u年%u月%u日", y, m, d);
        break;
    case 4:
        snprintf(out, len, "%02u.%02u.%04u", d, m, y);
        break;
    default:
        snprintf(out, len, "%04u-%02u-%02u", y, m, d);
        break;
    }
}

static void gen_record(bench_record_t *r, unsigned serial)
{
    static const char *const genders[] = {"M", "F", "男", "女", "male", ""};
    unsigned kind = rng_below(100);
    bool chinese = kind < 70;
    unsigned y, m, d;
    ecif_record_t *rec = &r->rec;

    memset(r, 0, sizeof(*r));
    gen_name(r, kind);
    gen_dob_digits(&y, &m, &d);
    if (rng_below(10) < 8) {
        if (chinese) {
            snprintf(r->id_type, sizeof(r->id_type), "%s",
                     rng_below(2) ? "RESIDENT_ID" : "身份证");
            gen_resident_id(r->id, sizeof(r->id), y, m, d);
        } else {
            snprintf(r->id_type, sizeof(r->id_type), "PASSPORT");
            snprintf(r->id, sizeof(r->id), "E%08u", rng_below(100000000));
        }
        rec->id_type = r->id_type;
        rec->id_number = r->id;
    }
    rec->name = r->name;
    rec->n_phones = 1 + rng_below(2);
    for (uint32_t i = 0; i < rec->n_phones; i++) {
        gen_phone(r->phones[i], sizeof(r->phones[i]));
        rec->phones[i] = r->phones[i];
    }
    if (rng_below(10) < 6) {
        gen_email(r->email, sizeof(r->email), serial);
        rec->emails[0] = r->email;
        rec->n_emails = 1;
    }
    if (rng_below(10) < 7) {
        gen_address(r->address, sizeof(r->address), chinese);
        rec->addresses[0] = r->address;
        rec->n_addresses = 1;
    }
    if (rng_below(10) < 9) {
        gen_dob(r->dob, sizeof(r->dob), y, m, d);
        rec->dob = r->dob;
    }
    snprintf(r->gender, sizeof(r->gender), "%s", PICK(genders));
    rec->gender = r->gender;
    rec->source_system = "bench";
    rec->source_id = "0";
}

/* Returns a copy of rec with only the fields of one breakdown row. */
static ecif_record_t keep_field(const ecif_record_t *rec, enum bench_field f)
{
    ecif_record_t out = {.source_system = rec->source_system,
                         .source_id = rec->source_id};

    switch (f) {
    case FIELD_ALL:
        return *rec;
    case FIELD_NONE:
        break;
    case FIELD_NAME:
        out.name = rec->name;
        break;
    case FIELD_ID:
        out.id_type = rec->id_type;
        out.id_number = rec->id_number;
        break;
    case FIELD_PHONE:
        memcpy(out.phones, rec->phones, sizeof(out.phones));
        out.n_phones = rec->n_phones;
        break;
    case FIELD_EMAIL:
        memcpy(out.emails, rec->emails, sizeof(out.emails));
        out.n_emails = rec->n_emails;
        break;
    case FIELD_ADDRESS:
        memcpy(out.addresses, rec->addresses, sizeof(out.addresses));
        out.n_addresses = rec->n_addresses;
        break;
    case FIELD_DOB_GENDER:
        out.dob = rec->dob;
        out.gender = rec->gender;
        break;
    case FIELD_COUNT:
        break;
    }
    return out;
}

static double now_seconds(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Normalizes every record once; returns the seconds it took. The checksum
 * keeps the compiler from dropping the work. */
static double run_once(const ecif_record_t *recs, size_t n, uint64_t *sum)
{
    match_buffer_t buf;
    match_view_t view;
    double start = now_seconds();

    for (size_t i = 0; i < n; i++) {
        match_normalize(&recs[i], &buf, &view, NULL, NULL, NULL);
        *sum += view.quality + view.n_phones + view.dob + (uint8_t)view.name[0];
    }
    return now_seconds() - start;
}

static uint64_t fnv1a(uint64_t h, const void *data, size_t len)
{
    const unsigned char *p = data;

    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

/* Hashes a string with its terminating NUL, so "ab","c" and "a","bc"
 * differ. */
static uint64_t fnv1a_str(uint64_t h, const char *s)
{
    return fnv1a(h, s, strlen(s) + 1);
}

/* Hashes every output of match_normalize: the strings of the view, its
 * numeric fields and the indexes of the kept values. */
static uint64_t hash_normalized(uint64_t h, const match_view_t *v,
                                const uint8_t *kept_phones,
                                const uint8_t *kept_emails,
                                const uint8_t *kept_addresses)
{
    uint32_t numbers[] = {v->suffix,   v->id_kind,   v->id_valid_resident,
                          v->n_phones, v->n_emails,  v->n_addresses,
                          v->dob,      v->dob_valid, (uint8_t)v->gender,
                          v->quality,  v->frequent,  v->name_count};

    h = fnv1a_str(h, v->name);
    h = fnv1a_str(h, v->given);
    h = fnv1a_str(h, v->family);
    h = fnv1a_str(h, v->han);
    h = fnv1a_str(h, v->name_key);
    h = fnv1a_str(h, v->name_key_fuzzy);
    h = fnv1a_str(h, v->id);
    for (uint32_t i = 0; i < v->n_phones; i++)
        h = fnv1a_str(fnv1a(h, &kept_phones[i], 1), v->phones[i]);
    for (uint32_t i = 0; i < v->n_emails; i++)
        h = fnv1a_str(fnv1a(h, &kept_emails[i], 1), v->emails[i]);
    for (uint32_t i = 0; i < v->n_addresses; i++)
        h = fnv1a_str(fnv1a(h, &kept_addresses[i], 1), v->addresses[i]);
    return fnv1a(h, numbers, sizeof(numbers));
}

/* Returns the hash of the normalized outputs of every record. */
static uint64_t checksum_records(const ecif_record_t *recs, size_t n,
                                 uint64_t h)
{
    match_buffer_t buf;
    match_view_t view;
    uint8_t kept_phones[ECIF_MAX_VALUES];
    uint8_t kept_emails[ECIF_MAX_VALUES];
    uint8_t kept_addresses[ECIF_MAX_VALUES];

    for (size_t i = 0; i < n; i++) {
        match_normalize(&recs[i], &buf, &view, kept_phones, kept_emails,
                        kept_addresses);
        h = hash_normalized(h, &view, kept_phones, kept_emails, kept_addresses);
    }
    return h;
}

static int compare_double(const void *a, const void *b)
{
    double x = *(const double *)a;
    double y = *(const double *)b;

    return (x > y) - (x < y);
}

/* Returns the median seconds of runs passes over recs. */
static double median_seconds(const ecif_record_t *recs, size_t n, int runs,
                             uint64_t *sum)
{
    double *t = calloc((size_t)runs, sizeof(*t));
    double median;

    if (t == NULL) {
        fprintf(stderr, "normalize_bench: out of memory\n");
        exit(1);
    }
    for (int i = 0; i < runs; i++)
        t[i] = run_once(recs, n, sum);
    qsort(t, (size_t)runs, sizeof(*t), compare_double);
    median = t[runs / 2];
    free(t);
    return median;
}

int main(int argc, char **argv)
{
    size_t n = 100000;
    int runs = 7;
    uint64_t seed = 20240601;
    uint64_t sum = 0;
    bool checksum = false;
    int opt;
    static const struct option long_options[] = {
        {"checksum", no_argument, NULL, 'c'},
        {NULL, 0, NULL, 0},
    };

    while ((opt = getopt_long(argc, argv, "n:r:s:", long_options, NULL)) !=
           -1) {
        switch (opt) {
        case 'n':
            n = strtoul(optarg, NULL, 10);
            break;
        case 'r':
            runs = atoi(optarg);
            break;
        case 's':
            seed = strtoull(optarg, NULL, 10);
            break;
        case 'c':
            checksum = true;
            break;
        default:
            fprintf(stderr, "usage: normalize_bench [-n RECORDS] [-r RUNS] "
                            "[-s SEED] [--checksum]\n");
            return 2;
        }
    }
    if (n == 0 || runs < 1 || seed == 0) {
        fprintf(stderr, "normalize_bench: -n and -r must be at least 1 and "
                        "-s nonzero\n");
        return 2;
    }

    bench_record_t *records = calloc(n, sizeof(*records));
    ecif_record_t *recs = calloc(n, sizeof(*recs));
    if (records == NULL || recs == NULL) {
        fprintf(stderr, "normalize_bench: out of memory for %zu records\n", n);
        return 1;
    }
    rng_state = seed;
    for (size_t i = 0; i < n; i++)
        gen_record(&records[i], (unsigned)i);

    if (checksum) {
        uint64_t h = 0xcbf29ce484222325ull;

        for (int f = 0; f < FIELD_COUNT; f++) {
            for (size_t i = 0; i < n; i++)
                recs[i] = keep_field(&records[i].rec, (enum bench_field)f);
            h = checksum_records(recs, n, h);
        }
        printf("records %zu, seed %llu, normalized checksum %016llx\n", n,
               (unsigned long long)seed, (unsigned long long)h);
        free(recs);
        free(records);
        return 0;
    }

    printf("records %zu, runs %d, seed %llu\n", n, runs,
           (unsigned long long)seed);
    printf("%-18s %14s %12s\n", "fields kept", "records/s", "ns/record");
    for (int f = 0; f < FIELD_COUNT; f++) {
        for (size_t i = 0; i < n; i++)
            recs[i] = keep_field(&records[i].rec, (enum bench_field)f);
        (void)run_once(recs, n < 1000 ? n : 1000, &sum); /* warm-up */
        double s = median_seconds(recs, n, runs, &sum);
        printf("%-18s %14.0f %12.1f\n", field_names[f], (double)n / s,
               s * 1e9 / (double)n);
    }
    printf("checksum %llu\n", (unsigned long long)sum);
    free(recs);
    free(records);
    return 0;
}
