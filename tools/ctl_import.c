/*
 * ecifctl import: reads record and account files, adds every valid row to
 * a builder, and writes the snapshot.
 *
 * Each rejected row is reported on stderr as "FILE:LINE: message" and
 * counted by reason. When the share of rejected rows exceeds
 * --max-invalid-share, nothing is written, so an existing snapshot at the
 * output path stays as it was.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "builder.h"
#include "model.h"
#include "corrections.h"
#include "ctl.h"
#include "journal.h"
#include "store.h"
#include "mapping.h"
#include "source.h"
#include "status.h"

#define IMPORT_MAX_FILES 256

enum import_reason {
    REASON_MALFORMED, /* the reader rejected the row */
    REASON_INVALID,   /* a field value failed validation */
    REASON_DUPLICATE, /* the source key or account was added before */
    REASON_AMOUNT,    /* an amount is not a decimal */
    REASON_ORPHAN,    /* an account whose record was not imported */
    REASON_COUNT
};

static const char *const import_reason_names[REASON_COUNT] = {
    "malformed", "invalid", "duplicate", "bad amount", "no record",
};

typedef struct import_options {
    const char *output;
    const char *accounts[IMPORT_MAX_FILES];
    size_t n_accounts;
    const char *files[IMPORT_MAX_FILES];
    size_t n_files;
    source_options_t source;
    double max_invalid_share;
    uint32_t shards;
    uint32_t frequent_limit;
    const char *previous;
    const char *journal; /* --journal: journal replayed over previous */
    const char *model;   /* --model: matching model file, or NULL */
    bool quiet;
} import_options_t;

/* Journals that an import may read, fold or remove: --journal and the
 * journals beside --previous and --output. */
#define IMPORT_MAX_JOURNALS 3

/* A journal whose writer lock the import holds until it exits. */
typedef struct held_journal {
    ecif_journal_lock_t *lock;
    char path[4200];
} held_journal_t;

typedef struct import_state {
    const import_options_t *opts;
    held_journal_t held[IMPORT_MAX_JOURNALS];
    size_t n_held;
    ecif_builder_t *builder;
    ecif_store_t *previous;          /* --previous, or NULL */
    ecif_corrections_t *corrections; /* --journal replayed over previous */
    const ecif_store_t *corrected;   /* view of corrections, or NULL */
    ecif_model_t model;              /* --model, when given */
    uint64_t rows_read;
    uint64_t imported;
    uint64_t rejected[REASON_COUNT];
    double started;
    double last_progress;
} import_state_t;

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void import_usage(FILE *out)
{
    fprintf(
        out,
        "usage: ecifctl import --output SNAPSHOT [OPTIONS] FILE...\n"
        "\n"
        "Reads records from each FILE (CSV or JSONL) and accounts from\n"
        "each --accounts FILE, resolves them into customers and writes\n"
        "the snapshot.\n"
        "\n"
        "  -o, --output PATH          snapshot to write (required)\n"
        "  -a, --accounts FILE        accounts file; may repeat\n"
        "  -m, --mapping FILE         column mapping of the record files\n"
        "      --map FIELD=EXPR       one mapping line; overrides the\n"
        "                             file; may repeat\n"
        "  -f, --format csv|jsonl     input format (default: by file\n"
        "                             name, .jsonl and .ndjson are JSONL)\n"
        "  -d, --delimiter C          CSV delimiter: one character or\n"
        "                             'tab' (default ',')\n"
        "      --max-invalid-share F  fail without writing when more than\n"
        "                             this share of rows is rejected\n"
        "                             (0 to 1, default 0.05)\n"
        "      --shards N             key index shards, a power of two\n"
        "                             (default 16)\n"
        "      --previous SNAPSHOT    the snapshot this one replaces: its\n"
        "                             customers keep their numbers\n"
        "      --journal FILE         the journal ecifd wrote over the\n"
        "                             --previous snapshot: its merges,\n"
        "                             splits, not-same marks and\n"
        "                             added records are kept. Required\n"
        "                             when the journal beside --previous\n"
        "                             or --output holds entries\n"
        "      --frequent-limit N     a key value on more than N records\n"
        "                             is frequent: no blocking key, little\n"
        "                             weight (2 to 65536, default 256)\n"
        "      --model FILE           matching model to cluster with and\n"
        "                             store in the snapshot (default: the\n"
        "                             built-in model, engine/MODEL.md)\n"
        "  -q, --quiet                no progress lines\n"
        "\n"
        "The mapping syntax is described in tools/IMPORT.md.\n");
}

static void import_warn(void *arg, const char *path, const char *message)
{
    fprintf(stderr, "%s: warning: %s\n", path, message);
}

static int parse_delimiter(const char *text, char *out)
{
    if (strcmp(text, "tab") == 0 || strcmp(text, "\\t") == 0) {
        *out = '\t';
        return 0;
    }
    if (strlen(text) != 1 || text[0] == '"' || text[0] == '\n' ||
        text[0] == '\r') {
        fprintf(stderr,
                "ecifctl import: invalid --delimiter '%s' (expected one "
                "character or 'tab')\n",
                text);
        return 2;
    }
    *out = text[0];
    return 0;
}

static int parse_number(const char *option, const char *text, double min,
                        double max, double *out)
{
    char *end;
    errno = 0;
    double value = strtod(text, &end);
    if (errno != 0 || end == text || *end != '\0' || isnan(value) ||
        value < min || value > max) {
        fprintf(stderr,
                "ecifctl import: invalid %s '%s' (expected a number from "
                "%g to %g)\n",
                option, text, min, max);
        return 2;
    }
    *out = value;
    return 0;
}

static int add_file(const char **list, size_t *count, const char *path)
{
    if (*count == IMPORT_MAX_FILES) {
        fprintf(stderr, "ecifctl import: more than %d files\n",
                IMPORT_MAX_FILES);
        return 2;
    }
    list[(*count)++] = path;
    return 0;
}

/*
 * Rejects an output path that names one of the input files: writing the
 * snapshot would replace the data it is built from. Returns 0 or 2.
 */
static int output_is_input(const import_options_t *opts)
{
    struct stat out;

    if (stat(opts->output, &out) != 0)
        return 0; /* a new file cannot be an input */
    for (size_t k = 0; k < 2; k++) {
        const char *const *list = k == 0 ? opts->files : opts->accounts;
        size_t n = k == 0 ? opts->n_files : opts->n_accounts;
        for (size_t i = 0; i < n; i++) {
            struct stat in;
            if (stat(list[i], &in) == 0 && in.st_dev == out.st_dev &&
                in.st_ino == out.st_ino) {
                fprintf(stderr,
                        "ecifctl import: --output '%s' is the input file "
                        "'%s'; choose another output path\n",
                        opts->output, list[i]);
                return 2;
            }
        }
    }
    return 0;
}

/*
 * Parses the command line into opts and mapping. Returns 0, or the exit
 * code (2 for a usage error, 1 for an unreadable mapping, -1 for --help).
 */
static int parse_args(int argc, char **argv, import_options_t *opts,
                      mapping_t *mapping)
{
    enum {
        OPT_MAP = 256,
        OPT_MAX_INVALID,
        OPT_SHARDS,
        OPT_FREQUENT,
        OPT_PREVIOUS,
        OPT_JOURNAL,
        OPT_MODEL
    };
    static const struct option longopts[] = {
        {"output", required_argument, NULL, 'o'},
        {"accounts", required_argument, NULL, 'a'},
        {"mapping", required_argument, NULL, 'm'},
        {"map", required_argument, NULL, OPT_MAP},
        {"format", required_argument, NULL, 'f'},
        {"delimiter", required_argument, NULL, 'd'},
        {"max-invalid-share", required_argument, NULL, OPT_MAX_INVALID},
        {"shards", required_argument, NULL, OPT_SHARDS},
        {"frequent-limit", required_argument, NULL, OPT_FREQUENT},
        {"previous", required_argument, NULL, OPT_PREVIOUS},
        {"journal", required_argument, NULL, OPT_JOURNAL},
        {"model", required_argument, NULL, OPT_MODEL},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *maps[IMPORT_MAX_FILES];
    const char *mapping_file = NULL;
    size_t n_maps = 0;
    char err[512];
    double value = 0;
    int rc = 0;
    int c;

    optind = 1;
    while (rc == 0 && (c = getopt_long(argc, argv, "o:a:m:f:d:qh", longopts,
                                       NULL)) != -1) {
        switch (c) {
        case 'o':
            opts->output = optarg;
            break;
        case 'a':
            rc = add_file(opts->accounts, &opts->n_accounts, optarg);
            break;
        case 'm':
            mapping_file = optarg;
            break;
        case OPT_MAP:
            rc = add_file(maps, &n_maps, optarg);
            break;
        case 'f':
            if (strcmp(optarg, "csv") == 0) {
                opts->source.format = SOURCE_FORMAT_CSV;
            } else if (strcmp(optarg, "jsonl") == 0) {
                opts->source.format = SOURCE_FORMAT_JSONL;
            } else {
                fprintf(stderr,
                        "ecifctl import: invalid --format '%s' (expected "
                        "csv or jsonl)\n",
                        optarg);
                rc = 2;
            }
            break;
        case 'd':
            rc = parse_delimiter(optarg, &opts->source.delimiter);
            break;
        case OPT_MAX_INVALID:
            rc = parse_number("--max-invalid-share", optarg, 0, 1,
                              &opts->max_invalid_share);
            break;
        case OPT_SHARDS:
            rc = parse_number("--shards", optarg, 1, 4096, &value);
            opts->shards = (uint32_t)value;
            break;
        case OPT_PREVIOUS:
            opts->previous = optarg;
            break;
        case OPT_JOURNAL:
            opts->journal = optarg;
            break;
        case OPT_MODEL:
            opts->model = optarg;
            break;
        case OPT_FREQUENT:
            rc = parse_number("--frequent-limit", optarg, 2, 65536, &value);
            opts->frequent_limit = (uint32_t)value;
            break;
        case 'q':
            opts->quiet = true;
            break;
        case 'h':
            import_usage(stdout);
            return -1;
        default:
            import_usage(stderr);
            return 2;
        }
    }
    if (rc != 0)
        return rc;
    for (int i = optind; i < argc && rc == 0; i++)
        rc = add_file(opts->files, &opts->n_files, argv[i]);
    if (rc != 0)
        return rc;
    if (opts->output == NULL || opts->n_files == 0) {
        fprintf(stderr, "ecifctl import: %s\n",
                opts->output == NULL ? "missing --output SNAPSHOT"
                                     : "missing input FILE");
        import_usage(stderr);
        return 2;
    }

    if (opts->journal != NULL && opts->previous == NULL) {
        fprintf(stderr, "ecifctl import: --journal needs --previous, the "
                        "snapshot the journal belongs to\n");
        return 2;
    }
    if (output_is_input(opts) != 0)
        return 2;

    if (mapping_file != NULL &&
        mapping_load_file(mapping, mapping_file, err, sizeof(err)) != ECIF_OK) {
        fprintf(stderr, "ecifctl import: %s\n", err);
        return 1;
    }
    for (size_t i = 0; i < n_maps; i++) {
        if (mapping_add_line(mapping, "--map", 0, maps[i], err, sizeof(err)) !=
            ECIF_OK) {
            fprintf(stderr, "ecifctl import: %s\n", err);
            return 2;
        }
    }
    return 0;
}

/*
 * Rewrites an engine message "field: text" as "column 'SOURCE': text",
 * naming the source column the mapping read the field from.
 */
static void describe_engine_error(const source_t *source, const char *err,
                                  char *out, size_t outlen)
{
    const char *colon = strstr(err, ": ");
    if (colon != NULL) {
        char field[32];
        size_t len = (size_t)(colon - err);
        if (len < sizeof(field)) {
            memcpy(field, err, len);
            field[len] = '\0';
            int index = mapping_field_lookup(field);
            if (index >= 0) {
                snprintf(out, outlen, "column '%s': %s",
                         source_column_name(source, (mapping_field_t)index),
                         colon + 2);
                return;
            }
        }
    }
    snprintf(out, outlen, "%s", err);
}

static void reject(import_state_t *st, const source_t *source, uint64_t line,
                   enum import_reason reason, const char *message)
{
    st->rejected[reason]++;
    fprintf(stderr, "%s:%llu: %s\n", source_path(source),
            (unsigned long long)line, message);
}

static uint64_t rejected_total(const import_state_t *st)
{
    uint64_t total = 0;
    for (int i = 0; i < REASON_COUNT; i++)
        total += st->rejected[i];
    return total;
}

static void report_progress(import_state_t *st)
{
    if (st->opts->quiet)
        return;
    double t = now_seconds();
    if (t - st->last_progress < 1.0)
        return;
    st->last_progress = t;
    double elapsed = t - st->started;
    fprintf(stderr, "import: %llu rows read, %.0f rows/s\n",
            (unsigned long long)st->rows_read,
            elapsed > 0 ? (double)st->rows_read / elapsed : 0.0);
}

/* Adds one row to the builder, or reports and counts its rejection. */
static void add_row(import_state_t *st, const source_t *source,
                    mapping_kind_t kind, const source_row_t *row)
{
    char err[512];
    char message[640];
    int rc;

    if (kind == MAPPING_ACCOUNTS &&
        !ecif_builder_has_record(st->builder, row->source_system,
                                 row->source_id)) {
        /* Record files are read before accounts files, so the record
         * will not come later. */
        snprintf(message, sizeof(message),
                 "column 'source_id': no record '%s' in source system '%s' "
                 "for account '%s'",
                 row->source_id, row->source_system,
                 row->account.account_id ? row->account.account_id : "");
        reject(st, source, row->line, REASON_ORPHAN, message);
        return;
    }
    if (kind == MAPPING_RECORDS)
        rc = ecif_builder_add_record(st->builder, &row->record, err,
                                     sizeof(err));
    else if ((rc = ecif_account_check_new(&row->account, err, sizeof(err))) ==
             ECIF_OK)
        rc = ecif_builder_add_account(st->builder, row->source_system,
                                      row->source_id, &row->account, err,
                                      sizeof(err));
    if (rc == ECIF_OK) {
        st->imported++;
        return;
    }
    describe_engine_error(source, err, message, sizeof(message));
    reject(st, source, row->line,
           rc == ECIF_EEXIST ? REASON_DUPLICATE : REASON_INVALID, message);
}

/* Reads one file into the builder. Returns 0 or 1 (the file failed). */
static int import_file(import_state_t *st, const char *path,
                       mapping_kind_t kind)
{
    source_options_t opts = st->opts->source;
    source_t *source;
    source_row_t row;
    char err[512];
    int rc;

    if (kind == MAPPING_ACCOUNTS)
        opts.mapping = NULL; /* accounts files have the canonical layout */
    rc = source_open(path, kind, &opts, &source, err, sizeof(err));
    if (rc != ECIF_OK) {
        fprintf(stderr, "ecifctl import: %s\n", err);
        return 1;
    }
    while ((rc = source_next(source, &row, err, sizeof(err))) != 0) {
        if (rc != 1 && rc != ECIF_EINVAL) {
            if (row.line > 0)
                fprintf(stderr, "%s:%llu: %s\n", path,
                        (unsigned long long)row.line, err);
            else
                fprintf(stderr, "%s: %s\n", path, err);
            source_close(source);
            return 1;
        }
        st->rows_read++;
        if (rc == 1)
            add_row(st, source, kind, &row);
        else if (strstr(err, "invalid amount") != NULL)
            reject(st, source, row.line, REASON_AMOUNT, err);
        else if (strncmp(err, "column '", 8) == 0)
            reject(st, source, row.line, REASON_INVALID, err);
        else
            reject(st, source, row.line, REASON_MALFORMED, err);
        if ((st->rows_read & 1023) == 0)
            report_progress(st);
    }
    source_close(source);
    return 0;
}

/* Reports a record that matched two customers which conflict. */
static void report_bridge(void *arg, const char *system_a, const char *id_a,
                          const char *system_b, const char *id_b)
{
    (void)arg;
    fprintf(stderr,
            "ecifctl import: bridge: %s/%s matches %s/%s, but their "
            "customers conflict (different resident IDs or generational "
            "suffixes, or a correction marked them not the same); left "
            "apart for review\n",
            system_a, id_a, system_b, id_b);
}

static void write_progress(void *arg, const char *stage, uint64_t done,
                           uint64_t total)
{
    import_state_t *st = arg;
    if (st->opts->quiet)
        return;
    fprintf(stderr, "import: %s %llu/%llu\n", stage, (unsigned long long)done,
            (unsigned long long)total);
}

static void print_summary(const import_state_t *st,
                          const ecif_build_stats_t *stats, size_t n_files)
{
    printf("files: %zu\n", n_files);
    printf("rows read: %llu\n", (unsigned long long)st->rows_read);
    printf("imported: %llu\n", (unsigned long long)st->imported);
    printf("rejected: %llu", (unsigned long long)rejected_total(st));
    const char *sep = " (";
    for (int i = 0; i < REASON_COUNT; i++) {
        if (st->rejected[i] == 0)
            continue;
        printf("%s%s %llu", sep, import_reason_names[i],
               (unsigned long long)st->rejected[i]);
        sep = ", ";
    }
    printf("%s\n", sep[0] == ',' ? ")" : "");
    printf("records: %u\n", stats->record_count);
    printf("customers: %u\n", stats->customer_count);
    printf("accounts: %u\n", stats->account_count);
    printf("keys: %llu\n", (unsigned long long)stats->key_count);
    printf("frequent keys: %llu\n",
           (unsigned long long)stats->frequent_key_count);
    printf("bridges: %llu\n", (unsigned long long)stats->bridge_count);
    printf("distant pairs: %llu\n", (unsigned long long)stats->distant_count);
    if (st->opts->previous != NULL) {
        printf("numbers kept: %u\n", stats->kept_numbers);
        printf("numbers retired: %u\n", stats->retired_numbers);
    }
    printf("snapshot bytes: %llu\n", (unsigned long long)stats->snapshot_bytes);
    printf("seconds: %.2f\n", now_seconds() - st->started);
}

/* Checks the rejected share. Returns 0 or 1 (too many rejected rows). */
static int check_invalid_share(const import_state_t *st)
{
    uint64_t rejected = rejected_total(st);
    double share =
        st->rows_read > 0 ? (double)rejected / (double)st->rows_read : 0.0;

    if (share <= st->opts->max_invalid_share)
        return 0;
    fprintf(stderr,
            "ecifctl import: %llu of %llu rows (%.1f%%) were invalid, more "
            "than --max-invalid-share %g; no snapshot written. Fix the rows "
            "or raise --max-invalid-share to import the valid ones.\n",
            (unsigned long long)rejected, (unsigned long long)st->rows_read,
            share * 100.0, st->opts->max_invalid_share);
    return 1;
}

/*
 * Replays --journal over the --previous snapshot, so the build starts
 * from the corrected customers and their links. Returns 0 or 1.
 */
static int open_corrections(import_state_t *st)
{
    const import_options_t *opts = st->opts;
    ecif_journal_identity_t expected, found;
    ecif_journal_t *journal = NULL;
    uint64_t applied = 0, torn = 0;
    char err[768];

    if (opts->journal == NULL)
        return 0;
    ecif_journal_identity_of(st->previous, &expected);
    int rc = ecif_journal_open_read(opts->journal, &found, &journal, err,
                                    sizeof(err));
    if (rc == ECIF_OK && (found.snapshot_crc != expected.snapshot_crc ||
                          found.snapshot_bytes != expected.snapshot_bytes))
        rc = ecif_fail(ECIF_ECORRUPT, err, sizeof(err),
                       "journal '%s' belongs to another snapshot than '%s'",
                       opts->journal, opts->previous);
    if (rc == ECIF_OK)
        rc = ecif_corrections_create(st->previous, &st->corrections, err,
                                     sizeof(err));
    if (rc == ECIF_OK)
        rc = ecif_corrections_replay(st->corrections, journal, &applied, &torn,
                                     err, sizeof(err));
    ecif_journal_close(journal);
    if (torn > 0)
        fprintf(stderr,
                "ecifctl import: warning: journal '%s' ends in a torn entry "
                "of %llu bytes, which is ignored\n",
                opts->journal, (unsigned long long)torn);
    if (rc != ECIF_OK) {
        if (strstr(err, "another snapshot") != NULL)
            fprintf(stderr,
                    "ecifctl import: --journal: %s; name the journal that "
                    "ecifd wrote over --previous\n",
                    err);
        else
            fprintf(stderr,
                    "ecifctl import: --journal: %s; restore the journal "
                    "from a backup, or move it away and import without "
                    "--journal (its entries are then lost)\n",
                    err);
        return 1;
    }
    st->corrected = ecif_corrections_acquire(st->corrections);
    if (!opts->quiet)
        fprintf(stderr, "import: replayed %llu journal entries from '%s'\n",
                (unsigned long long)applied, opts->journal);
    return 0;
}

/* Adds one record added while serving, with its accounts. */
static int add_journal_record(import_state_t *st, const ecif_journal_entry_t *e,
                              char *err, size_t errlen)
{
    const ecif_record_t *r = e->record;
    int rc = ecif_builder_add_journaled_record(st->builder, r, err, errlen);

    for (uint32_t i = 0; i < e->account_count && rc == ECIF_OK; i++)
        rc = ecif_builder_add_account(st->builder, r->source_system,
                                      r->source_id, &e->accounts[i], err,
                                      errlen);
    return rc;
}

/*
 * Takes the records added while serving from --journal as input records,
 * with their accounts, so the new snapshot contains them and --previous
 * keeps their customer numbers. When the input files contain a record with
 * the same source key, the files win because they are the newer copy.
 * Returns 0 or 1.
 */
static int import_added(import_state_t *st)
{
    const import_options_t *opts = st->opts;
    ecif_journal_t *journal = NULL;
    ecif_journal_entry_t e;
    uint64_t added = 0, in_files = 0;
    char err[768];
    int rc;

    if (opts->journal == NULL)
        return 0;
    rc =
        ecif_journal_open_read(opts->journal, NULL, &journal, err, sizeof(err));
    while (rc == ECIF_OK &&
           (rc = ecif_journal_next(journal, &e, NULL, err, sizeof(err))) == 1) {
        rc = ECIF_OK;
        if (e.kind != ECIF_JOURNAL_ADD)
            continue;
        if (ecif_builder_has_record(st->builder, e.record->source_system,
                                    e.record->source_id)) {
            in_files++;
            continue;
        }
        char detail[512];
        rc = add_journal_record(st, &e, detail, sizeof(detail));
        if (rc != ECIF_OK)
            snprintf(err, sizeof(err),
                     "entry %llu, added record '%.64s/%.64s': %s; a row "
                     "with this key in the input files replaces the "
                     "journal's copy",
                     (unsigned long long)e.sequence, e.record->source_system,
                     e.record->source_id, detail);
        added++;
    }
    ecif_journal_close(journal);
    if (rc != ECIF_OK) {
        fprintf(stderr, "ecifctl import: --journal: %s\n", err);
        return 1;
    }
    if (!opts->quiet || in_files > 0)
        fprintf(stderr,
                "import: took %llu added records from '%s'; %llu more are "
                "in the input files, which were kept\n",
                (unsigned long long)added, opts->journal,
                (unsigned long long)in_files);
    return 0;
}

/* Returns whether paths a and b name the same existing file. */
static bool same_file(const char *a, const char *b)
{
    struct stat sa, sb;

    return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
           sa.st_ino == sb.st_ino;
}

/*
 * Takes the writer lock of the journal at path for the rest of the import,
 * unless the import holds it already or no file is there. A running ecifd
 * holds the lock of the journal it appends to, and folding or removing
 * that file would send the server's acknowledged writes to a file that no
 * restart reads. Returns 0, or 1 after printing why.
 */
static int hold_journal(import_state_t *st, const char *path)
{
    ecif_journal_lock_t *lock = NULL;
    char err[4400];

    for (size_t i = 0; i < st->n_held; i++) {
        if (same_file(st->held[i].path, path))
            return 0;
    }
    int rc = ecif_journal_lock(path, &lock, err, sizeof(err));
    if (rc == ECIF_ENOTFOUND)
        return 0;
    if (rc == ECIF_EBUSY) {
        fprintf(stderr,
                "ecifctl import: %s: stop it first, then run the import "
                "again\n",
                err);
        return 1;
    }
    if (rc == ECIF_OK && st->n_held == IMPORT_MAX_JOURNALS) {
        ecif_journal_unlock(lock);
        rc = ecif_fail(ECIF_ELIMIT, err, sizeof(err),
                       "more than %d journals to lock", IMPORT_MAX_JOURNALS);
    }
    if (rc != ECIF_OK) {
        fprintf(stderr, "ecifctl import: %s\n", err);
        return 1;
    }
    st->held[st->n_held].lock = lock;
    snprintf(st->held[st->n_held].path, sizeof(st->held[0].path), "%s", path);
    st->n_held++;
    return 0;
}

/* Locks every journal the import may read, fold or remove, before it
 * reads or writes anything. Returns 0 or 1. */
static int hold_journals(import_state_t *st)
{
    const import_options_t *opts = st->opts;
    char beside[4200];

    if (opts->journal != NULL && hold_journal(st, opts->journal) != 0)
        return 1;
    if (opts->previous != NULL) {
        ecif_journal_path_for(opts->previous, beside, sizeof(beside));
        if (hold_journal(st, beside) != 0)
            return 1;
    }
    ecif_journal_path_for(opts->output, beside, sizeof(beside));
    return hold_journal(st, beside);
}

static void release_journals(import_state_t *st)
{
    for (size_t i = 0; i < st->n_held; i++)
        ecif_journal_unlock(st->held[i].lock);
    st->n_held = 0;
}

/*
 * Counts the entries of the journal at path: all of them in *entries, the
 * added records among them in *adds. A missing file has none. Returns 0,
 * or 1 after printing why the file cannot be read.
 */
static int count_journal(const char *path, uint64_t *entries, uint64_t *adds)
{
    ecif_journal_t *journal = NULL;
    ecif_journal_entry_t e;
    char err[768];

    *entries = *adds = 0;
    int rc = ecif_journal_open_read(path, NULL, &journal, err, sizeof(err));
    if (rc == ECIF_ENOTFOUND)
        return 0;
    while (rc == ECIF_OK &&
           (rc = ecif_journal_next(journal, &e, NULL, err, sizeof(err))) == 1) {
        rc = ECIF_OK;
        (*entries)++;
        if (e.kind == ECIF_JOURNAL_ADD)
            (*adds)++;
    }
    ecif_journal_close(journal);
    if (rc != ECIF_OK) {
        fprintf(stderr,
                "ecifctl import: cannot read journal '%s': %s; move it "
                "away, or pass it with --journal once it reads\n",
                path, err);
        return 1;
    }
    return 0;
}

/*
 * Rejects the import before anything is written when the journal beside
 * snapshot contains entries and --journal does not name it. Beside
 * --previous, its corrections and added records would be left out of the
 * new snapshot. Beside --output, the new snapshot would replace the one
 * the journal belongs to, and ecifd would then reject the journal at
 * start. Returns 0 or 1.
 */
static int check_unnamed_journal(const import_options_t *opts,
                                 const char *snapshot)
{
    char beside[4200];
    uint64_t entries, adds;

    ecif_journal_path_for(snapshot, beside, sizeof(beside));
    if (opts->journal != NULL && same_file(beside, opts->journal))
        return 0;
    if (count_journal(beside, &entries, &adds) != 0)
        return 1;
    if (entries == 0)
        return 0;
    fprintf(
        stderr,
        "ecifctl import: journal '%s' contains %llu %s (%llu corrections "
        "and %llu added records) that this import would lose; pass "
        "--journal '%s' to carry them into the new snapshot, or move "
        "the file away to drop them\n",
        beside, (unsigned long long)entries, entries == 1 ? "entry" : "entries",
        (unsigned long long)(entries - adds), (unsigned long long)adds, beside);
    return 1;
}

static int check_unnamed_journals(const import_options_t *opts)
{
    if (opts->previous != NULL && check_unnamed_journal(opts, opts->previous))
        return 1;
    return check_unnamed_journal(opts, opts->output);
}

/*
 * Removes the journal at path, beside the new snapshot, when it contains
 * no entries. It names the snapshot that the output replaced, so ecifd
 * would reject it at start, and there is nothing in it to keep. A journal
 * with entries was rejected before the import began. Returns 0 or 1.
 */
static int remove_empty_journal(import_state_t *st, const char *path,
                                const char *output)
{
    uint64_t entries, adds;

    if (access(path, F_OK) != 0)
        return 0;
    /* A journal that an ecifd created during the import is locked here. */
    if (hold_journal(st, path) != 0)
        return 1;
    if (count_journal(path, &entries, &adds) != 0 || entries > 0)
        return 0;
    if (unlink(path) != 0) {
        fprintf(stderr,
                "ecifctl import: removing '%s' failed: %s; remove it "
                "before starting ecifd on '%s'\n",
                path, strerror(errno), output);
        return 1;
    }
    fprintf(stderr,
            "ecifctl import: removed '%s', an empty journal of the "
            "snapshot that '%s' replaced\n",
            path, output);
    return 0;
}

/*
 * Renames the journal beside the new snapshot when it is the one just
 * replayed, as in an import over the snapshot it belongs to. Its entries
 * are now in the new snapshot, and left in place it would stop ecifd from
 * starting. The new name ends in ".folded-" and the UTC time, and the file
 * is kept as the record of what was folded. Any other journal there must
 * be empty and is removed. Returns 0 or 1.
 */
static int fold_journal(import_state_t *st)
{
    char beside[4200], folded[4300], stamp[32];
    time_t now = time(NULL);
    struct tm tm;
    int rc = -1;

    ecif_journal_path_for(st->opts->output, beside, sizeof(beside));
    if (st->opts->journal == NULL || !same_file(beside, st->opts->journal))
        return remove_empty_journal(st, beside, st->opts->output);
    gmtime_r(&now, &tm);
    strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
    /* link() never replaces an existing file, unlike rename(). */
    for (int i = 0; i < 100 && rc != 0; i++) {
        if (i == 0)
            snprintf(folded, sizeof(folded), "%s.folded-%s", beside, stamp);
        else
            snprintf(folded, sizeof(folded), "%s.folded-%s.%d", beside, stamp,
                     i);
        rc = link(beside, folded);
        if (rc != 0 && errno != EEXIST)
            break;
    }
    if (rc != 0 || unlink(beside) != 0) {
        fprintf(stderr,
                "ecifctl import: moving the folded journal '%s' aside "
                "failed: %s; move it away before starting ecifd on '%s'\n",
                beside, strerror(errno), st->opts->output);
        return 1;
    }
    fprintf(stderr,
            "ecifctl import: moved the folded journal '%s' to '%s'; its "
            "entries are in '%s' now, and ecifd starts a new journal\n",
            beside, folded, st->opts->output);
    return 0;
}

static int run_import(import_state_t *st)
{
    const import_options_t *opts = st->opts;
    ecif_builder_options_t bopts;
    ecif_build_stats_t stats = {0};
    char err[512];

    ecif_builder_options_default(&bopts);
    if (opts->shards != 0)
        bopts.shard_count = opts->shards;
    if (opts->frequent_limit != 0)
        bopts.frequent_value_limit = opts->frequent_limit;
    bopts.progress = write_progress;
    bopts.progress_arg = st;
    bopts.bridge = report_bridge;
    if (hold_journals(st) != 0 || check_unnamed_journals(opts) != 0)
        return 1;
    if (opts->model != NULL) {
        if (model_load(opts->model, &st->model, err, sizeof(err)) != ECIF_OK) {
            fprintf(stderr, "ecifctl import: --model: %s\n", err);
            return 1;
        }
        bopts.model = &st->model;
    }
    if (opts->previous != NULL &&
        ecif_store_open(opts->previous, &st->previous, err, sizeof(err)) !=
            ECIF_OK) {
        fprintf(stderr, "ecifctl import: --previous: %s\n", err);
        return 1;
    }
    if (open_corrections(st) != 0)
        return 1;
    bopts.previous = st->corrected != NULL ? st->corrected : st->previous;
    if (ecif_builder_create(&bopts, &st->builder, err, sizeof(err)) !=
        ECIF_OK) {
        fprintf(stderr, "ecifctl import: %s\n", err);
        return 1;
    }
    for (size_t i = 0; i < opts->n_files; i++) {
        if (import_file(st, opts->files[i], MAPPING_RECORDS) != 0)
            return 1;
    }
    for (size_t i = 0; i < opts->n_accounts; i++) {
        if (import_file(st, opts->accounts[i], MAPPING_ACCOUNTS) != 0)
            return 1;
    }
    if (check_invalid_share(st) != 0 || import_added(st) != 0)
        return 1;
    if (ecif_builder_write(st->builder, opts->output, &stats, err,
                           sizeof(err)) != ECIF_OK) {
        fprintf(stderr, "ecifctl import: writing %s failed: %s\n", opts->output,
                err);
        return 1;
    }
    print_summary(st, &stats, opts->n_files + opts->n_accounts);
    return fold_journal(st);
}

int ctl_import_main(int argc, char **argv)
{
    import_options_t opts = {.max_invalid_share = 0.05};
    import_state_t st = {.opts = &opts};
    mapping_t *mapping;

    if (mapping_create(&mapping) != ECIF_OK) {
        fprintf(stderr, "ecifctl import: out of memory\n");
        return 1;
    }
    opts.source.mapping = mapping;
    opts.source.warn = import_warn;
    int rc = parse_args(argc, argv, &opts, mapping);
    if (rc == 0) {
        st.started = now_seconds();
        st.last_progress = st.started;
        rc = run_import(&st);
    }
    ecif_builder_destroy(st.builder);
    if (st.corrected != NULL)
        ecif_corrections_release(st.corrections, st.corrected);
    ecif_corrections_destroy(st.corrections);
    ecif_store_close(st.previous);
    release_journals(&st);
    mapping_destroy(mapping);
    return rc < 0 ? 0 : rc;
}
