/*
 * pg_export: writes source records as canonical CSV for the PostgreSQL
 * comparison (bench/pg-compare.sh).
 *
 * It reads each file with the tools/source.h reader and the same column
 * mapping that ecifctl import takes, and drops the rows that the import
 * would reject: rows the reader rejects, rows that fail
 * ecif_record_validate() and rows whose (source_system, source_id) came
 * before. So PostgreSQL loads the records that the appliance stores.
 *
 * The output has the canonical header (tools/IMPORT.md) with the date of
 * birth normalized to YYYY-MM-DD by ecif_norm_date(), so that PostgreSQL
 * can cast it to date. A date that does not exist in the calendar is
 * written empty. Every other field is written as the reader returns it;
 * the normalized columns are computed in SQL (bench/pg/load.sql).
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_common.h"
#include "mapping.h"
#include "normalize.h"
#include "record.h"
#include "source.h"
#include "status.h"

/* Initial slots of the duplicate-key table; it doubles when half full. */
#define EXPORT_KEYS_INITIAL 4096

typedef struct export_keys {
    char **slots; /* "system\x1fid" strings, NULL for an empty slot */
    size_t cap;   /* a power of two */
    size_t count;
} export_keys_t;

typedef struct export_counts {
    uint64_t read;
    uint64_t written;
    uint64_t malformed;
    uint64_t invalid;
    uint64_t duplicate;
    uint64_t dob_not_in_calendar;
} export_counts_t;

static void export_usage(FILE *out)
{
    fputs("usage: pg_export [--mapping FILE] [--format csv|jsonl] "
          "[--output FILE] FILE...\n"
          "Writes the records of FILE... as canonical CSV, without the rows\n"
          "that ecifctl import would reject.\n"
          "  --mapping FILE   column mapping, as for ecifctl import\n"
          "  --format F       csv or jsonl (default: by file name)\n"
          "  --output FILE    write here instead of standard output\n",
          out);
}

static uint64_t key_hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h;
}

static bool keys_grow(export_keys_t *keys)
{
    size_t cap = keys->cap ? keys->cap * 2 : EXPORT_KEYS_INITIAL;
    char **slots = calloc(cap, sizeof(*slots));
    if (slots == NULL)
        return false;
    for (size_t i = 0; i < keys->cap; i++) {
        char *k = keys->slots[i];
        if (k == NULL)
            continue;
        size_t j = key_hash(k) & (cap - 1);
        while (slots[j] != NULL)
            j = (j + 1) & (cap - 1);
        slots[j] = k;
    }
    free(keys->slots);
    keys->slots = slots;
    keys->cap = cap;
    return true;
}

/*
 * Adds the key of a record. Returns 1 when it is new, 0 when it was added
 * before and -1 when memory runs out.
 */
static int keys_add(export_keys_t *keys, const char *system, const char *id)
{
    if ((keys->count + 1) * 2 > keys->cap && !keys_grow(keys))
        return -1;

    size_t len = strlen(system) + 1 + strlen(id) + 1;
    char *key = malloc(len);
    if (key == NULL)
        return -1;
    snprintf(key, len, "%s\x1f%s", system, id);

    size_t j = key_hash(key) & (keys->cap - 1);
    while (keys->slots[j] != NULL) {
        if (strcmp(keys->slots[j], key) == 0) {
            free(key);
            return 0;
        }
        j = (j + 1) & (keys->cap - 1);
    }
    keys->slots[j] = key;
    keys->count++;
    return 1;
}

static void keys_fini(export_keys_t *keys)
{
    for (size_t i = 0; i < keys->cap; i++)
        free(keys->slots[i]);
    free(keys->slots);
}

/* Writes one CSV field, quoted when it contains a quote, comma or newline. */
static void csv_field(FILE *out, const char *s, bool last)
{
    if (s != NULL && strpbrk(s, "\",\r\n") != NULL) {
        fputc('"', out);
        for (; *s; s++) {
            if (*s == '"')
                fputc('"', out);
            fputc(*s, out);
        }
        fputc('"', out);
    } else if (s != NULL) {
        fputs(s, out);
    }
    fputc(last ? '\n' : ',', out);
}

/* Writes the values of a multi-valued field joined by '|'. */
static void csv_multi(FILE *out, const char *const *values, uint32_t n)
{
    char joined[ECIF_MAX_VALUES * (ECIF_MAX_FIELD_BYTES + 1)];
    size_t len = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (values[i] == NULL || values[i][0] == '\0')
            continue;
        int w = snprintf(joined + len, sizeof(joined) - len, "%s%s",
                         len > 0 ? "|" : "", values[i]);
        if (w < 0 || (size_t)w >= sizeof(joined) - len)
            break;
        len += (size_t)w;
    }
    joined[len] = '\0';
    csv_field(out, joined, false);
}

static void write_record(FILE *out, const ecif_record_t *r,
                         export_counts_t *counts)
{
    char dob[16] = "";
    uint32_t ymd = 0;
    bool valid = false;
    if (r->dob != NULL && r->dob[0] != '\0' &&
        ecif_norm_date(r->dob, &ymd, &valid) == ECIF_OK) {
        if (valid)
            snprintf(dob, sizeof(dob), "%04u-%02u-%02u", ymd / 10000,
                     ymd / 100 % 100, ymd % 100);
        else
            counts->dob_not_in_calendar++;
    }

    csv_field(out, r->source_system, false);
    csv_field(out, r->source_id, false);
    csv_field(out, r->name, false);
    csv_field(out, r->given_name, false);
    csv_field(out, r->family_name, false);
    csv_field(out, r->id_type, false);
    csv_field(out, r->id_number, false);
    csv_multi(out, r->phones, r->n_phones);
    csv_multi(out, r->emails, r->n_emails);
    csv_multi(out, r->addresses, r->n_addresses);
    csv_field(out, dob, false);
    csv_field(out, r->gender, true);
}

/* Exports one file. Returns false when it cannot be read to the end. */
static bool export_file(const char *path, const source_options_t *sopts,
                        FILE *out, export_keys_t *keys, export_counts_t *counts)
{
    char err[512];
    source_t *src = NULL;
    if (source_open(path, MAPPING_RECORDS, sopts, &src, err, sizeof(err)) !=
        ECIF_OK) {
        fprintf(stderr, "pg_export: cannot open %s: %s\n", path, err);
        return false;
    }

    bool ok = true;
    for (;;) {
        source_row_t row;
        int rc = source_next(src, &row, err, sizeof(err));
        if (rc == 0)
            break;
        counts->read++;
        if (rc == ECIF_EINVAL) {
            counts->malformed++;
            continue;
        }
        if (rc < 0) {
            fprintf(stderr, "pg_export: reading %s failed: %s\n", path, err);
            ok = false;
            break;
        }
        if (ecif_record_validate(&row.record, true, err, sizeof(err)) !=
            ECIF_OK) {
            counts->invalid++;
            continue;
        }
        int added =
            keys_add(keys, row.record.source_system, row.record.source_id);
        if (added < 0) {
            fprintf(stderr, "pg_export: out of memory at %s:%llu\n", path,
                    (unsigned long long)row.line);
            ok = false;
            break;
        }
        if (added == 0) {
            counts->duplicate++;
            continue;
        }
        write_record(out, &row.record, counts);
        counts->written++;
    }
    source_close(src);
    return ok;
}

/* Exit codes: 0 when every file was read, 1 on a read or write error, 2 on
 * a usage error. Rejected rows are counted on stderr and do not fail. */
int main(int argc, char **argv)
{
    static const struct option long_opts[] = {
        {"mapping", required_argument, NULL, 'm'},
        {"format", required_argument, NULL, 'f'},
        {"output", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *mapping_path = NULL;
    const char *output = NULL;
    source_options_t sopts = {.format = SOURCE_FORMAT_AUTO,
                              .warn = bench_print_warning};
    int c;
    while ((c = getopt_long(argc, argv, "m:f:o:h", long_opts, NULL)) != -1) {
        switch (c) {
        case 'm':
            mapping_path = optarg;
            break;
        case 'f':
            if (!bench_parse_format("pg_export", optarg, &sopts.format))
                return 2;
            break;
        case 'o':
            output = optarg;
            break;
        case 'h':
            export_usage(stdout);
            return 0;
        default:
            export_usage(stderr);
            return 2;
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "pg_export: missing input FILE\n");
        export_usage(stderr);
        return 2;
    }

    mapping_t *mapping = NULL;
    if (!bench_load_mapping("pg_export", mapping_path, &mapping))
        return 2;
    sopts.mapping = mapping;

    FILE *out = stdout;
    if (output != NULL && (out = fopen(output, "w")) == NULL) {
        fprintf(stderr, "pg_export: cannot write --output '%s': %s\n", output,
                strerror(errno));
        mapping_destroy(mapping);
        return 1;
    }
    fputs("source_system,source_id,name,given_name,family_name,id_type,"
          "id_number,phone,email,address,dob,gender\n",
          out);

    export_keys_t keys = {0};
    export_counts_t counts = {0};
    bool ok = true;
    for (int i = optind; i < argc && ok; i++)
        ok = export_file(argv[i], &sopts, out, &keys, &counts);

    if (fflush(out) != 0 || ferror(out)) {
        fprintf(stderr, "pg_export: writing the output failed: %s\n",
                strerror(errno));
        ok = false;
    }
    if (out != stdout)
        fclose(out);
    fprintf(stderr,
            "pg_export: %llu rows read, %llu written, rejected: %llu "
            "malformed, %llu invalid, %llu duplicate; %llu dates of birth "
            "not in the calendar written empty\n",
            (unsigned long long)counts.read, (unsigned long long)counts.written,
            (unsigned long long)counts.malformed,
            (unsigned long long)counts.invalid,
            (unsigned long long)counts.duplicate,
            (unsigned long long)counts.dob_not_in_calendar);
    keys_fini(&keys);
    mapping_destroy(mapping);
    return ok ? 0 : 1;
}
