/*
 * The builder scores record pairs on several threads while clustering,
 * and the snapshot must not depend on how many. The generated test builds
 * the same records with 1, 2 and 3 threads, the CSV mode with 1 and 2, and
 * both compare the snapshot files byte for byte.
 *
 * Without arguments the records are generated here: several thousand
 * persons with one to three records each, spread over more than one
 * chunk of work per thread. With arguments, the records of a CSV file
 * are used instead, read like ecifctl import reads them:
 *
 *     test_build_threads RECORDS.csv [MAPPING.map]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "builder.h"
#include "mapping.h"
#include "source.h"
#include "status.h"
#include "unit.h"

static const char *const given_names[] = {
    "Anna",  "Ben",   "Clara", "David", "Emma",  "Felix", "Grace",
    "Henry", "Ida",   "Jonas", "Karin", "Lukas", "Maria", "Niklas",
    "Olga",  "Peter", "Rosa",  "Simon", "Tanja", "Ulf",
};

static const char *const family_names[] = {
    "Berg",       "Carlsson",  "Dahl",     "Eriksson",    "Falk",
    "Gustafsson", "Holm",      "Isaksson", "Jansson",     "Karlsson",
    "Lind",       "Magnusson", "Nilsson",  "Olsson",      "Persson",
    "Qvist",      "Rosen",     "Svensson", "Torstensson", "Wikstrom",
};

#define N_GIVEN  (sizeof(given_names) / sizeof(given_names[0]))
#define N_FAMILY (sizeof(family_names) / sizeof(family_names[0]))

/* Deterministic, so a failure repeats. */
static uint32_t next_random(uint32_t *state)
{
    *state = *state * 1664525u + 1013904223u;
    return *state >> 8;
}

/* Owns the strings of one generated record. */
struct gen_record {
    char source_id[32];
    char name[64];
    char phone[32];
    char email[96];
    char dob[16];
};

/* Generates the records of `persons` persons into out, at most 3 per
 * person, and returns the record count. Records of one person share some
 * identifiers and differ in others, so pairs score across the whole
 * range of verdicts, and common names make many candidates per key. */
static size_t generate(struct gen_record *out, size_t persons)
{
    uint32_t state = 20261204;
    size_t n = 0;

    for (size_t p = 0; p < persons; p++) {
        uint32_t copies = 1 + next_random(&state) % 3;
        const char *given = given_names[next_random(&state) % N_GIVEN];
        const char *family = family_names[next_random(&state) % N_FAMILY];
        uint32_t year = 1940 + next_random(&state) % 60;
        uint32_t month = 1 + next_random(&state) % 12;
        uint32_t day = 1 + next_random(&state) % 28;

        for (uint32_t c = 0; c < copies; c++) {
            struct gen_record *g = &out[n];
            uint32_t variant = next_random(&state) % 4;

            snprintf(g->source_id, sizeof(g->source_id), "R-%zu", n);
            snprintf(g->name, sizeof(g->name), "%s %s", given, family);
            if (variant == 1) /* a typo in the family name */
                g->name[strlen(given) + 2] ^= 0x01;
            snprintf(g->phone, sizeof(g->phone), "+46 70 %03zu %04zu", p % 1000,
                     (p * 7 + (variant == 2 ? 1 : 0)) % 10000);
            snprintf(g->email, sizeof(g->email), "%s.%s.%zu@example.se", given,
                     family, variant == 3 ? p + 1 : p);
            snprintf(g->dob, sizeof(g->dob), "%04u-%02u-%02u", year, month,
                     variant == 0 && c > 0 ? (day % 28) + 1 : day);
            n++;
        }
    }
    return n;
}

static ecif_record_t as_record(const struct gen_record *g, uint32_t source)
{
    static const char *const systems[] = {"core_banking", "credit_card",
                                          "mobile"};
    ecif_record_t r = {.source_system = systems[source % 3],
                       .source_id = g->source_id,
                       .name = g->name,
                       .phones = {g->phone},
                       .n_phones = 1,
                       .emails = {g->email},
                       .n_emails = 1,
                       .dob = g->dob};
    return r;
}

static const char *scratch_path(const char *name)
{
    static char paths[4][600];
    static int next;
    const char *dir = getenv("ECIF_TEST_TMPDIR");
    char *p = paths[next++ % 4];

    snprintf(p, sizeof(paths[0]), "%s/test_build_threads.%s",
             dir != NULL ? dir : "/tmp", name);
    return p;
}

static ecif_builder_t *new_builder(uint32_t threads)
{
    ecif_builder_options_t opts;
    ecif_builder_t *b = NULL;
    char err[256];

    ecif_builder_options_default(&opts);
    opts.thread_count = threads;
    if (ecif_builder_create(&opts, &b, err, sizeof(err)) != ECIF_OK) {
        fprintf(stderr, "creating the builder failed: %s\n", err);
        exit(1);
    }
    return b;
}

/* Reads a whole file and stores its size in *len. Exits on failure. */
static char *read_file(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    char *data;
    long size;

    if (fp == NULL || fseek(fp, 0, SEEK_END) != 0 || (size = ftell(fp)) < 0 ||
        fseek(fp, 0, SEEK_SET) != 0) {
        perror(path);
        exit(1);
    }
    data = malloc(size > 0 ? (size_t)size : 1);
    if (data == NULL || fread(data, 1, (size_t)size, fp) != (size_t)size) {
        perror(path);
        exit(1);
    }
    fclose(fp);
    *len = (size_t)size;
    return data;
}

/* Writes b's snapshot to path and returns its statistics. */
static ecif_build_stats_t write_snapshot(ecif_builder_t *b, const char *path)
{
    ecif_build_stats_t stats;
    char err[256];

    if (ecif_builder_write(b, path, &stats, err, sizeof(err)) != ECIF_OK) {
        fprintf(stderr, "writing %s failed: %s\n", path, err);
        exit(1);
    }
    return stats;
}

/* True when the two files contain the same bytes. Otherwise reports the
 * offset of the first difference. */
static bool same_file(const char *pa, const char *pb)
{
    size_t la, lb;
    char *a = read_file(pa, &la), *b = read_file(pb, &lb);
    bool same = la == lb && memcmp(a, b, la) == 0;

    if (!same) {
        size_t i = 0;
        while (i < la && i < lb && a[i] == b[i])
            i++;
        fprintf(stderr, "%s (%zu bytes) and %s (%zu bytes) differ at %zu\n", pa,
                la, pb, lb, i);
    }
    free(a);
    free(b);
    return same;
}

static void test_thread_count_over_limit(void)
{
    ecif_builder_options_t opts;
    ecif_builder_t *b = NULL;
    char err[256] = "";

    ecif_builder_options_default(&opts);
    opts.thread_count = 257;
    CHECK_INT(ecif_builder_create(&opts, &b, err, sizeof(err)), ECIF_EINVAL);
    CHECK(b == NULL);
    CHECK(strstr(err, "thread count 257") != NULL);
}

static void test_generated_snapshot_identical(void)
{
    enum { PERSONS = 2500 };
    struct gen_record *gen = calloc(3 * PERSONS, sizeof(*gen));
    size_t n = generate(gen, PERSONS);
    static const uint32_t threads[] = {1, 2, 3};
    ecif_build_stats_t stats[3];
    char err[256];

    for (size_t t = 0; t < 3; t++) {
        ecif_builder_t *b = new_builder(threads[t]);
        char name[32];
        for (size_t i = 0; i < n; i++) {
            ecif_record_t r = as_record(&gen[i], (uint32_t)i);
            if (ecif_builder_add_record(b, &r, err, sizeof(err)) != ECIF_OK) {
                fprintf(stderr, "adding record %zu failed: %s\n", i, err);
                exit(1);
            }
        }
        snprintf(name, sizeof(name), "gen%u.snap", threads[t]);
        stats[t] = write_snapshot(b, scratch_path(name));
        ecif_builder_destroy(b);
    }
    /* The records need more than one chunk of work per thread, and some
     * must join into customers, or the comparison would prove little. */
    CHECK(n > 3 * 1024);
    CHECK(stats[0].customer_count < stats[0].record_count);
    CHECK(stats[0].customer_count > PERSONS / 2);
    CHECK(same_file(scratch_path("gen1.snap"), scratch_path("gen2.snap")));
    CHECK(same_file(scratch_path("gen1.snap"), scratch_path("gen3.snap")));
    free(gen);
}

/* Adds every valid record row of path to b and returns how many were
 * added. */
static size_t add_csv(ecif_builder_t *b, const char *path,
                      const mapping_t *mapping)
{
    source_options_t opts = {.mapping = mapping};
    source_t *source;
    source_row_t row;
    char err[512];
    size_t added = 0;
    int rc;

    if (source_open(path, MAPPING_RECORDS, &opts, &source, err, sizeof(err)) !=
        ECIF_OK) {
        fprintf(stderr, "%s\n", err);
        exit(1);
    }
    while ((rc = source_next(source, &row, err, sizeof(err))) != 0) {
        if (rc != 1 && rc != ECIF_EINVAL) {
            fprintf(stderr, "%s: %s\n", path, err);
            exit(1);
        }
        if (rc == 1 && ecif_builder_add_record(b, &row.record, err,
                                               sizeof(err)) == ECIF_OK)
            added++;
    }
    source_close(source);
    return added;
}

/* Builds the records of a CSV file with 1 and 2 threads and compares the
 * snapshots. Returns 0 when they are identical, else 1. */
static int compare_csv(const char *path, const char *mapping_path)
{
    mapping_t *mapping = NULL;
    char err[512];

    if (mapping_path != NULL && (mapping_create(&mapping) != ECIF_OK ||
                                 mapping_load_file(mapping, mapping_path, err,
                                                   sizeof(err)) != ECIF_OK)) {
        fprintf(stderr, "loading mapping %s failed: %s\n", mapping_path, err);
        return 1;
    }
    for (uint32_t t = 1; t <= 2; t++) {
        ecif_builder_t *b = new_builder(t);
        char name[32];
        size_t n = add_csv(b, path, mapping);
        snprintf(name, sizeof(name), "csv%u.snap", t);
        ecif_build_stats_t stats = write_snapshot(b, scratch_path(name));
        printf("%u thread(s): %zu records, %u customers\n", t, n,
               stats.customer_count);
        ecif_builder_destroy(b);
    }
    mapping_destroy(mapping);
    if (!same_file(scratch_path("csv1.snap"), scratch_path("csv2.snap")))
        return 1;
    printf("snapshots with 1 and 2 threads are identical\n");
    return 0;
}

int main(int argc, char **argv)
{
    if (argc > 1)
        return compare_csv(argv[1], argc > 2 ? argv[2] : NULL);
    RUN(test_thread_count_over_limit);
    RUN(test_generated_snapshot_identical);
    return unit_report();
}
