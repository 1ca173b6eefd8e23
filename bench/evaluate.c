/*
 * evaluate: accuracy of the matcher against ground truth.
 *
 *   evaluate dedup  reads a snapshot written by `ecifctl import` and
 *                   scores its blocking (ecif_record_candidates), its pair
 *                   decisions (ecif_compare) and its customers
 *                   (ecif_store_record_customer) against the true entities,
 *                   and the calibration of the match probabilities of the
 *                   candidate pairs.
 *   evaluate query  sends query records to a running ecifd over gRPC and
 *                   scores the ranked candidates: hit@1, hit@k, MRR, the
 *                   share of queries without a true record in the index
 *                   that got no match, and the calibration of the top
 *                   candidate's match probability.
 *
 * Ground truth gives each record an entity key, a string. Records with
 * equal keys are the same person. The key comes from a rule on the
 * record's source_id, from a truth CSV, or from a column of the file the
 * records were imported from. Keys are interned into dense labels, which
 * the metrics module (metrics.h) turns into pair counts and B-cubed
 * figures. bench/EVALUATION.md defines every figure.
 */
#include <errno.h>
#include <getopt.h>
#include <regex.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bench_common.h"
#include "client.h"
#include "csv.h"
#include "ecif/v1/customer_index.pb-c.h"
#include "mapping.h"
#include "metrics.h"
#include "model.h"
#include "resolve.h"
#include "source.h"
#include "status.h"
#include "store.h"

#define EVAL_DEFAULT_K           5
#define EVAL_DEFAULT_DEADLINE_MS 5000
#define EVAL_MAX_RECORD_FILES    64

/* Room for the candidates ecif_record_candidates returns for one record. */
#define EVAL_MAX_RECORD_CANDIDATES 4096

/*
 * A record gathers at most 256 candidates, itself included (engine/
 * MATCHING.md), so 255 others mean the list may have been cut short.
 * NOTE: this copies the engine's bound, which no public header exports.
 */
#define EVAL_FULL_CANDIDATE_LIST 255

/* Separates source_system from source_id in a source key. */
#define SOURCE_KEY_SEPARATOR '\x1f'

/* ---- Interning: strings to dense labels --------------------------------- */

/* An open-addressing map from owned strings to uint32_t values. */
typedef struct strmap {
    char **keys;
    uint32_t *values;
    size_t cap; /* a power of two */
    size_t count;
} strmap_t;

static uint64_t hash_string(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 0x100000001b3ull;
    }
    return h;
}

static size_t strmap_slot(const strmap_t *map, const char *key)
{
    size_t mask = map->cap - 1;
    size_t i = hash_string(key) & mask;
    while (map->keys[i] != NULL && strcmp(map->keys[i], key) != 0)
        i = (i + 1) & mask;
    return i;
}

static bool strmap_grow(strmap_t *map)
{
    size_t cap = map->cap ? map->cap * 2 : 1024;
    strmap_t next = {
        .keys = calloc(cap, sizeof(char *)),
        .values = malloc(cap * sizeof(uint32_t)),
        .cap = cap,
        .count = map->count,
    };
    if (next.keys == NULL || next.values == NULL) {
        free(next.keys);
        free(next.values);
        return false;
    }
    for (size_t i = 0; i < map->cap; i++) {
        if (map->keys[i] == NULL)
            continue;
        size_t slot = strmap_slot(&next, map->keys[i]);
        next.keys[slot] = map->keys[i];
        next.values[slot] = map->values[i];
    }
    free(map->keys);
    free(map->values);
    *map = next;
    return true;
}

/* Finds key; returns false when it is absent. */
static bool strmap_get(const strmap_t *map, const char *key, uint32_t *value)
{
    if (map->cap == 0)
        return false;
    size_t slot = strmap_slot(map, key);
    if (map->keys[slot] == NULL)
        return false;
    *value = map->values[slot];
    return true;
}

/*
 * Sets key to value unless key is present. Stores the value now mapped
 * in *value. Returns false when memory runs out.
 */
static bool strmap_put(strmap_t *map, const char *key, uint32_t *value)
{
    if (strmap_get(map, key, value))
        return true;
    if ((map->count + 1) * 2 > map->cap && !strmap_grow(map))
        return false;
    char *copy = strdup(key);
    if (copy == NULL)
        return false;
    size_t slot = strmap_slot(map, key);
    map->keys[slot] = copy;
    map->values[slot] = *value;
    map->count++;
    return true;
}

static void strmap_fini(strmap_t *map)
{
    for (size_t i = 0; i < map->cap; i++)
        free(map->keys[i]);
    free(map->keys);
    free(map->values);
    memset(map, 0, sizeof(*map));
}

/* Entity keys to dense labels 0..count-1. */
typedef struct interner {
    strmap_t map;
    uint32_t next;
} interner_t;

static bool intern(interner_t *in, const char *key, uint32_t *label)
{
    *label = in->next;
    if (!strmap_put(&in->map, key, label))
        return false;
    if (*label == in->next)
        in->next++;
    return true;
}

/* Returns a label no key maps to, for a record without a truth. */
static uint32_t intern_fresh(interner_t *in)
{
    return in->next++;
}

/* ---- Truth ----------------------------------------------------------------
 */

typedef enum truth_kind {
    TRUTH_RULE,  /* entity key from a regex on source_id */
    TRUTH_TABLE, /* entity key looked up by (source_system, source_id) */
} truth_kind_t;

/*
 * Ground truth. A rule rewrites a source_id that the regex matches whole
 * into the entity key. A table maps source keys to entity labels; it is
 * loaded from a truth CSV or a column of the imported files.
 */
typedef struct truth {
    truth_kind_t kind;
    bench_subst_t rule;
    strmap_t table; /* source key -> entity label */
    interner_t entities;
    uint64_t table_rows;     /* rows that gave an entity */
    uint64_t table_rejected; /* rows the reader rejected */
} truth_t;

/* Named rules, written as substitutions on source_id. */
static const struct {
    const char *name;
    const char *regex;
    const char *replacement;
} truth_named_rules[] = {
    /* Febrl and geco: rec-N-org and rec-N-dup-K are entity N. */
    {"febrl", "^rec-([0-9]+)-(org|dup-[0-9]+)$", "\\1"},
    /* Febrl dsgen: the entity is rec_id without its last digit. */
    {"dsgen", "^([0-9]*)[0-9]$", "\\1"},
    /* The source_id is the entity: equal ids in different systems. */
    {"source-id", "^(.*)$", "\\1"},
};

static bool truth_compile_rule(truth_t *truth, const char *regex_text,
                               const char *replacement)
{
    truth->kind = TRUTH_RULE;
    return bench_subst_compile("evaluate", &truth->rule, regex_text,
                               replacement);
}

static bool truth_init_rule(truth_t *truth, const char *text)
{
    for (size_t i = 0;
         i < sizeof(truth_named_rules) / sizeof(truth_named_rules[0]); i++) {
        if (strcmp(text, truth_named_rules[i].name) == 0)
            return truth_compile_rule(truth, truth_named_rules[i].regex,
                                      truth_named_rules[i].replacement);
    }
    char *regex_text = NULL;
    char *replacement = NULL;
    if (!bench_subst_split(text, &regex_text, &replacement)) {
        fprintf(stderr,
                "evaluate: invalid --truth '%s': expected febrl, dsgen, "
                "source-id, s/REGEX/REPLACEMENT/, column:NAME or "
                "file:PATH\n",
                text);
        return false;
    }
    bool ok = truth_compile_rule(truth, regex_text, replacement);
    free(regex_text);
    free(replacement);
    return ok;
}

/* Writes "SYSTEM<0x1f>ID" into *buf (grown as needed). */
static bool source_key(const char *system, const char *id, char **buf,
                       size_t *cap)
{
    size_t need = strlen(system) + strlen(id) + 2;
    if (need > *cap) {
        char *grown = realloc(*buf, need);
        if (grown == NULL)
            return false;
        *buf = grown;
        *cap = need;
    }
    snprintf(*buf, *cap, "%s%c%s", system, SOURCE_KEY_SEPARATOR, id);
    return true;
}

/* Maps a source key to the label of entity in the truth table. */
static bool truth_table_add(truth_t *truth, const char *system, const char *id,
                            const char *entity, char **buf, size_t *cap)
{
    uint32_t label;
    if (!intern(&truth->entities, entity, &label) ||
        !source_key(system, id, buf, cap) ||
        !strmap_put(&truth->table, *buf, &label))
        return false;
    truth->table_rows++;
    return true;
}

static int column_index(const char *const *names, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(names[i], name) == 0)
            return (int)i;
    }
    return -1;
}

/*
 * Loads a truth CSV with a header naming the columns source_system,
 * source_id and entity_id (in any order, other columns ignored).
 */
static bool truth_load_file(truth_t *truth, const char *path)
{
    FILE *fp = fopen(path, "r");
    if (fp == NULL) {
        fprintf(stderr, "evaluate: cannot open the truth file '%s': %s\n", path,
                strerror(errno));
        return false;
    }
    csv_reader_t *reader = NULL;
    if (csv_reader_create(fp, ',', &reader) != ECIF_OK) {
        fclose(fp);
        fprintf(stderr, "evaluate: out of memory\n");
        return false;
    }

    char err[512];
    csv_row_t row;
    int col[3] = {-1, -1, -1};
    static const char *const names[3] = {"source_system", "source_id",
                                         "entity_id"};
    int rc = csv_reader_next(reader, &row, err, sizeof(err));
    for (int i = 0; rc == 1 && i < 3; i++)
        col[i] = column_index((const char *const *)row.fields, row.n_fields,
                              names[i]);
    bool ok = rc == 1 && col[0] >= 0 && col[1] >= 0 && col[2] >= 0;
    if (!ok)
        fprintf(stderr,
                "evaluate: %s: the header must name the columns "
                "source_system, source_id and entity_id\n",
                path);

    char *buf = NULL;
    size_t cap = 0;
    while (ok && (rc = csv_reader_next(reader, &row, err, sizeof(err))) != 0) {
        if (rc == ECIF_EINVAL) {
            fprintf(stderr, "%s: row skipped: %s\n", path, err);
            truth->table_rejected++;
            continue;
        }
        if (rc < 0) {
            fprintf(stderr, "evaluate: reading %s failed: %s\n", path, err);
            ok = false;
            break;
        }
        ok = truth_table_add(truth, row.fields[col[0]], row.fields[col[1]],
                             row.fields[col[2]], &buf, &cap);
        if (!ok)
            fprintf(stderr, "evaluate: out of memory\n");
    }
    free(buf);
    csv_reader_destroy(reader);
    fclose(fp);
    return ok;
}

/*
 * Loads the entity of every row of path from its column `column`, with
 * the row's source key computed through mapping as the import does.
 */
static bool truth_load_column(truth_t *truth, const char *path,
                              const mapping_t *mapping, const char *column)
{
    /* No .warn callback, because only the truth column is read and the
     * other columns are expected to go unused. */
    source_options_t sopts = {.mapping = mapping};
    char err[512];
    source_t *src = NULL;
    if (source_open(path, MAPPING_RECORDS, &sopts, &src, err, sizeof(err)) !=
        ECIF_OK) {
        fprintf(stderr, "evaluate: cannot open the records: %s\n", err);
        return false;
    }

    bool ok = true;
    int col = -2;
    char *buf = NULL;
    size_t cap = 0;
    source_row_t row;
    int rc;
    while (ok && (rc = source_next(src, &row, err, sizeof(err))) != 0) {
        if (rc == ECIF_EINVAL) {
            truth->table_rejected++;
            continue;
        }
        if (rc < 0) {
            fprintf(stderr, "evaluate: reading %s failed: %s\n", path, err);
            ok = false;
            break;
        }
        if (col == -2)
            col = column_index(row.columns, row.n_columns, column);
        if (col < 0) {
            fprintf(stderr, "evaluate: %s has no column '%s' for the truth\n",
                    path, column);
            ok = false;
            break;
        }
        const char *entity = row.values[col];
        if (entity == NULL || entity[0] == '\0')
            continue; /* a record without a truth */
        ok = truth_table_add(truth, row.record.source_system,
                             row.record.source_id, entity, &buf, &cap);
        if (!ok)
            fprintf(stderr, "evaluate: out of memory\n");
    }
    free(buf);
    source_close(src);
    return ok;
}

/* Options that locate the files a column truth reads. */
typedef struct truth_sources {
    const char *records[EVAL_MAX_RECORD_FILES];
    size_t n_records;
    const char *mapping;
} truth_sources_t;

static bool truth_load_columns(truth_t *truth, const char *column,
                               const truth_sources_t *sources)
{
    if (sources->n_records == 0) {
        fprintf(stderr,
                "evaluate: --truth column:%s needs the imported "
                "files in --records\n",
                column);
        return false;
    }
    mapping_t *mapping = NULL;
    char err[512];
    if (mapping_create(&mapping) != ECIF_OK) {
        fprintf(stderr, "evaluate: out of memory\n");
        return false;
    }
    bool ok = sources->mapping == NULL ||
              mapping_load_file(mapping, sources->mapping, err, sizeof(err)) ==
                  ECIF_OK;
    if (!ok)
        fprintf(stderr, "evaluate: invalid --mapping: %s\n", err);
    for (size_t i = 0; ok && i < sources->n_records; i++)
        ok = truth_load_column(truth, sources->records[i], mapping, column);
    mapping_destroy(mapping);
    return ok;
}

/* Parses --truth: a rule name, s/REGEX/REPL/, column:NAME or file:PATH. */
static bool truth_init(truth_t *truth, const char *text,
                       const truth_sources_t *sources)
{
    memset(truth, 0, sizeof(*truth));
    if (strncmp(text, "file:", 5) == 0) {
        truth->kind = TRUTH_TABLE;
        return truth_load_file(truth, text + 5);
    }
    if (strncmp(text, "column:", 7) == 0) {
        truth->kind = TRUTH_TABLE;
        return truth_load_columns(truth, text + 7, sources);
    }
    return truth_init_rule(truth, text);
}

static void truth_fini(truth_t *truth)
{
    bench_subst_fini(&truth->rule);
    strmap_fini(&truth->table);
    strmap_fini(&truth->entities.map);
}

typedef enum truth_result {
    TRUTH_FOUND,
    TRUTH_NONE, /* the rule does not match, or the table lacks the key */
    TRUTH_NOMEM,
} truth_result_t;

/*
 * Finds the entity label of a record. With insert, a rule's new entity
 * key gets a new label; without it, an unknown key is TRUTH_NONE.
 */
static truth_result_t truth_label(truth_t *truth, const char *system,
                                  const char *id, bool insert, char **buf,
                                  size_t *cap, uint32_t *label)
{
    if (truth->kind == TRUTH_TABLE) {
        if (!source_key(system, id, buf, cap))
            return TRUTH_NOMEM;
        return strmap_get(&truth->table, *buf, label) ? TRUTH_FOUND
                                                      : TRUTH_NONE;
    }
    if (!bench_subst_apply(&truth->rule, id, buf, cap))
        return TRUTH_NONE;
    if (!insert)
        return strmap_get(&truth->entities.map, *buf, label) ? TRUTH_FOUND
                                                             : TRUTH_NONE;
    return intern(&truth->entities, *buf, label) ? TRUTH_FOUND : TRUTH_NOMEM;
}

/* ---- Options ------------------------------------------------------------- */

typedef struct eval_options {
    const char *snapshot;
    const char *server;
    const char *queries;
    const char *truth;
    const char *absent_rule;
    const char *json;
    const char *errors; /* --errors: TSV of the pairs clustered wrongly */
    const char *pairs;  /* --pairs: TSV of every candidate pair */
    const char *label;
    source_format_t format;
    truth_sources_t sources; /* --records and --mapping */
    uint32_t k;
    uint32_t deadline_ms;
} eval_options_t;

static void eval_usage(FILE *out)
{
    fprintf(
        out,
        "usage: evaluate dedup --snapshot SNAP --truth TRUTH [OPTIONS]\n"
        "       evaluate query --server HOST:PORT --queries FILE\n"
        "                      --truth TRUTH [OPTIONS]\n"
        "\n"
        "dedup scores the blocking, the pair decisions and the customers\n"
        "of a snapshot against the true entities. query sends every record\n"
        "of FILE to ecifd as a Resolve request and scores the ranking.\n"
        "\n"
        "  --snapshot SNAP      snapshot written by ecifctl import (dedup)\n"
        "  --truth TRUTH        the entity of a record:\n"
        "                         febrl      rec-N-org, rec-N-dup-K -> N\n"
        "                         dsgen      rec_id without its last digit\n"
        "                         source-id  the source_id itself\n"
        "                         s/REGEX/REPLACEMENT/  POSIX extended\n"
        "                                    REGEX matching the whole\n"
        "                                    source_id, \\1..\\9 in\n"
        "                                    REPLACEMENT\n"
        "                         column:NAME  column NAME of the files in\n"
        "                                    --records (dedup)\n"
        "                         file:PATH  CSV with the columns\n"
        "                                    source_system, source_id,\n"
        "                                    entity_id\n"
        "  --records FILE       a file the snapshot was imported from, read\n"
        "                       for column:NAME (repeat for several files)\n"
        "  --mapping FILE       column mapping of the --records or\n"
        "                       --queries files, as given to ecifctl import\n"
        "  --format csv|jsonl   format of --queries (default: by file name)\n"
        "  --server HOST:PORT   address of ecifd (query)\n"
        "  --queries FILE       query records, CSV or JSONL (query)\n"
        "  --k K                candidates requested per query; the k of\n"
        "                       hit@k (1 to 64, default 5)\n"
        "  --absent-rule REGEX  queries whose source_id matches this POSIX\n"
        "                       extended REGEX have no true record in the\n"
        "                       index; a right answer is no match\n"
        "  --deadline-ms N      deadline of each call (default 5000)\n"
        "  --label TEXT         name of the data set in the output\n"
        "  --json OUT           also write every figure to OUT as JSON\n"
        "  --errors OUT         write the candidate pairs that clustering\n"
        "                       decided wrongly to OUT, with each field's\n"
        "                       level and weight (dedup)\n"
        "  --pairs OUT          write every candidate pair to OUT as\n"
        "                       --errors does, also those clustered\n"
        "                       rightly (dedup)\n"
        "  --help               show this text\n");
}

static bool add_records_file(truth_sources_t *sources, const char *path)
{
    if (sources->n_records == EVAL_MAX_RECORD_FILES) {
        fprintf(stderr, "evaluate: more than %d --records files\n",
                EVAL_MAX_RECORD_FILES);
        return false;
    }
    sources->records[sources->n_records++] = path;
    return true;
}

/* Returns -1 to go on, or the exit code: 0 after --help, 2 on a usage error. */
static int parse_options(int argc, char **argv, eval_options_t *opts)
{
    enum {
        OPT_SNAPSHOT = 256,
        OPT_SERVER,
        OPT_QUERIES,
        OPT_TRUTH,
        OPT_RECORDS,
        OPT_MAPPING,
        OPT_FORMAT,
        OPT_K,
        OPT_ABSENT,
        OPT_DEADLINE,
        OPT_LABEL,
        OPT_JSON,
        OPT_ERRORS,
        OPT_PAIRS,
        OPT_HELP,
    };
    static const struct option longopts[] = {
        {"snapshot", required_argument, NULL, OPT_SNAPSHOT},
        {"server", required_argument, NULL, OPT_SERVER},
        {"queries", required_argument, NULL, OPT_QUERIES},
        {"truth", required_argument, NULL, OPT_TRUTH},
        {"records", required_argument, NULL, OPT_RECORDS},
        {"mapping", required_argument, NULL, OPT_MAPPING},
        {"format", required_argument, NULL, OPT_FORMAT},
        {"k", required_argument, NULL, OPT_K},
        {"absent-rule", required_argument, NULL, OPT_ABSENT},
        {"deadline-ms", required_argument, NULL, OPT_DEADLINE},
        {"label", required_argument, NULL, OPT_LABEL},
        {"json", required_argument, NULL, OPT_JSON},
        {"errors", required_argument, NULL, OPT_ERRORS},
        {"pairs", required_argument, NULL, OPT_PAIRS},
        {"help", no_argument, NULL, OPT_HELP},
        {NULL, 0, NULL, 0},
    };

    memset(opts, 0, sizeof(*opts));
    opts->format = SOURCE_FORMAT_AUTO;
    opts->k = EVAL_DEFAULT_K;
    opts->deadline_ms = EVAL_DEFAULT_DEADLINE_MS;

    int c;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        bool ok = true;
        switch (c) {
        case OPT_SNAPSHOT:
            opts->snapshot = optarg;
            break;
        case OPT_SERVER:
            opts->server = optarg;
            break;
        case OPT_QUERIES:
            opts->queries = optarg;
            break;
        case OPT_TRUTH:
            opts->truth = optarg;
            break;
        case OPT_RECORDS:
            ok = add_records_file(&opts->sources, optarg);
            break;
        case OPT_MAPPING:
            opts->sources.mapping = optarg;
            break;
        case OPT_FORMAT:
            ok = bench_parse_format("evaluate", optarg, &opts->format);
            break;
        case OPT_K:
            ok = bench_parse_u32("evaluate", "--k", optarg, 1,
                                 ECIF_MAX_CANDIDATES, &opts->k);
            break;
        case OPT_ABSENT:
            opts->absent_rule = optarg;
            break;
        case OPT_DEADLINE:
            ok = bench_parse_u32("evaluate", "--deadline-ms", optarg, 1,
                                 3600 * 1000, &opts->deadline_ms);
            break;
        case OPT_LABEL:
            opts->label = optarg;
            break;
        case OPT_JSON:
            opts->json = optarg;
            break;
        case OPT_ERRORS:
            opts->errors = optarg;
            break;
        case OPT_PAIRS:
            opts->pairs = optarg;
            break;
        case OPT_HELP:
            eval_usage(stdout);
            return 0;
        default:
            ok = false;
            break;
        }
        if (!ok) {
            eval_usage(stderr);
            return 2;
        }
    }
    if (optind != argc) {
        fprintf(stderr, "evaluate: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    if (opts->truth == NULL) {
        fprintf(stderr, "evaluate: --truth is required\n");
        return 2;
    }
    return -1;
}

/* ---- JSON output ----------------------------------------------------------
 */

static void json_text(FILE *out, const char *key, const char *value)
{
    fprintf(out, "  \"%s\": ", key);
    if (value != NULL)
        bench_json_string(out, value);
    else
        fputs("null", out);
    fputs(",\n", out);
}

static void json_count(FILE *out, const char *key, uint64_t value)
{
    fprintf(out, "  \"%s\": %llu,\n", key, (unsigned long long)value);
}

static void json_ratio(FILE *out, const char *key, double value)
{
    fprintf(out, "  \"%s\": %.6f,\n", key, value);
}

static void json_prf(FILE *out, const char *prefix, const metrics_prf_t *prf)
{
    char key[64];
    snprintf(key, sizeof(key), "%s_precision", prefix);
    json_ratio(out, key, prf->precision);
    snprintf(key, sizeof(key), "%s_recall", prefix);
    json_ratio(out, key, prf->recall);
    snprintf(key, sizeof(key), "%s_f1", prefix);
    json_ratio(out, key, prf->f1);
}

/*
 * Writes the calibration figures as calibration_* keys and the bins as an
 * array of objects, one line per bin.
 */
static void json_calibration(FILE *out, const metrics_calibration_t *cal,
                             uint64_t rejected)
{
    metrics_calibration_scores_t s;
    metrics_calibration_scores(cal, &s);
    json_count(out, "calibration_count", cal->count);
    json_count(out, "calibration_true", cal->positives);
    json_count(out, "calibration_rejected", rejected);
    json_ratio(out, "calibration_mean_predicted", s.mean_predicted);
    json_ratio(out, "calibration_observed", s.observed);
    json_ratio(out, "calibration_brier", s.brier);
    json_ratio(out, "calibration_ece", s.ece);
    fputs("  \"calibration_bins\": [\n", out);
    for (int i = 0; i < METRICS_CALIBRATION_BINS; i++) {
        const metrics_calibration_bin_t *b = &cal->bins[i];
        double n = (double)b->count;
        fprintf(out,
                "    {\"lower\": %.4f, \"upper\": %.4f, \"count\": %llu, "
                "\"true\": %llu, \"mean_predicted\": %.6f, "
                "\"observed\": %.6f}%s\n",
                b->lower, b->upper, (unsigned long long)b->count,
                (unsigned long long)b->positives,
                b->count ? b->predicted_sum / n : 0.0,
                b->count ? (double)b->positives / n : 0.0,
                i + 1 < METRICS_CALIBRATION_BINS ? "," : "");
    }
    fputs("  ],\n", out);
}

/*
 * Prints the calibration table, where unit names what one prediction is
 * about ("pairs" or "queries"). Empty bins are left out.
 */
static void print_calibration(const metrics_calibration_t *cal,
                              uint64_t rejected, const char *unit)
{
    metrics_calibration_scores_t s;
    metrics_calibration_scores(cal, &s);
    printf("  calibration over %llu %s (%llu true): mean predicted %.4f, "
           "observed %.4f, Brier %.4f, ECE %.4f\n",
           (unsigned long long)cal->count, unit,
           (unsigned long long)cal->positives, s.mean_predicted, s.observed,
           s.brier, s.ece);
    if (rejected > 0)
        printf("  calibration: %llu probabilities outside [0, 1] left "
               "out\n",
               (unsigned long long)rejected);
    printf("    %-17s %9s %9s %14s %9s\n", "probability", unit, "true",
           "mean predicted", "observed");
    for (int i = 0; i < METRICS_CALIBRATION_BINS; i++) {
        const metrics_calibration_bin_t *b = &cal->bins[i];
        if (b->count == 0)
            continue;
        double n = (double)b->count;
        printf("    [%.4f, %.4f%c %9llu %9llu %14.4f %9.4f\n", b->lower,
               b->upper, i + 1 < METRICS_CALIBRATION_BINS ? ')' : ']',
               (unsigned long long)b->count, (unsigned long long)b->positives,
               b->predicted_sum / n, (double)b->positives / n);
    }
}

static void json_header(FILE *out, const char *mode, const eval_options_t *opts)
{
    char date[32];
    bench_utc_timestamp(date, sizeof(date));
    fputs("{\n", out);
    json_text(out, "mode", mode);
    json_text(out, "date", date);
    json_text(out, "label", opts->label);
    json_text(out, "truth", opts->truth);
}

/* ---- dedup ----------------------------------------------------------------
 */

typedef struct dedup_result {
    uint64_t records;
    uint64_t entities;
    uint64_t customers;
    uint64_t no_truth; /* records the truth gives no entity */
    metrics_pairs_t cluster_pairs;
    metrics_prf_t cluster;
    metrics_prf_t bcubed;
    uint64_t candidate_pairs;
    uint64_t true_candidate_pairs;
    uint64_t capped_records; /* records whose candidate list was full */
    metrics_blocking_t blocking;
    uint64_t match_pairs;      /* candidate pairs ecif_compare calls MATCH */
    uint64_t true_match_pairs; /* of those, true pairs */
    metrics_prf_t compare;
    /* Match probabilities of the candidate pairs against the truth. */
    metrics_calibration_t calibration;
    uint64_t calibration_rejected; /* probabilities outside [0, 1] */
} dedup_result_t;

/* Fills truth_labels and predicted with one label per stored record. */
static bool dedup_labels(const ecif_store_t *store, truth_t *truth,
                         uint32_t *truth_labels, uint32_t *predicted,
                         dedup_result_t *res)
{
    char *buf = NULL;
    size_t cap = 0;
    bool ok = true;
    for (uint32_t r = 0; ok && r < res->records; r++) {
        ecif_record_t rec;
        ecif_store_get_record(store, r, &rec);
        truth_result_t tr = truth_label(truth, rec.source_system, rec.source_id,
                                        true, &buf, &cap, &truth_labels[r]);
        if (tr == TRUTH_NOMEM) {
            fprintf(stderr, "evaluate: out of memory\n");
            ok = false;
        } else if (tr == TRUTH_NONE) {
            truth_labels[r] = intern_fresh(&truth->entities);
            res->no_truth++;
        }
        predicted[r] = ecif_store_record_customer(store, r);
    }
    free(buf);
    return ok;
}

/*
 * Collects the distinct candidate pairs (low id << 32 | high id) of every
 * record into *pairs (malloc'd, sorted) and their count into *count. A
 * pair gathered from both of its records is counted once.
 */
static bool dedup_candidate_pairs(const ecif_store_t *store,
                                  dedup_result_t *res, uint64_t **pairs,
                                  size_t *count)
{
    uint32_t *cands = malloc(EVAL_MAX_RECORD_CANDIDATES * sizeof(*cands));
    uint64_t *list = NULL;
    size_t n = 0;
    size_t cap = 0;
    bool ok = cands != NULL;

    for (uint32_t r = 0; ok && r < res->records; r++) {
        size_t got = 0;
        ok = ecif_record_candidates(store, r, cands, EVAL_MAX_RECORD_CANDIDATES,
                                    &got) == ECIF_OK;
        if (got >= EVAL_FULL_CANDIDATE_LIST)
            res->capped_records++;
        if (ok && n + got > cap) {
            size_t next = cap ? cap * 2 : 65536;
            while (next < n + got)
                next *= 2;
            uint64_t *grown = realloc(list, next * sizeof(*list));
            ok = grown != NULL;
            if (ok) {
                list = grown;
                cap = next;
            }
        }
        for (size_t i = 0; ok && i < got; i++) {
            uint32_t lo = r < cands[i] ? r : cands[i];
            uint32_t hi = r < cands[i] ? cands[i] : r;
            list[n++] = (uint64_t)lo << 32 | hi;
        }
    }
    free(cands);
    if (!ok) {
        free(list);
        fprintf(stderr, "evaluate: gathering candidates failed: out of "
                        "memory\n");
        return false;
    }

    qsort(list, n, sizeof(*list), bench_compare_u64);
    size_t unique = 0;
    for (size_t i = 0; i < n; i++) {
        if (unique == 0 || list[i] != list[unique - 1])
            list[unique++] = list[i];
    }
    *pairs = list;
    *count = unique;
    return true;
}

/*
 * Writes one wrongly clustered pair as a TSV line: "false_join" for two
 * entities in one customer, "missed" for one entity in two customers, then
 * both source keys, the pair's score and each field's fine level and
 * weight. The evidence is ecif_store_compare's, so the weights sum to the
 * score.
 */
/* Output files of --errors and --pairs, NULL when not requested. */
typedef struct pair_files {
    FILE *errors;
    FILE *all;
} pair_files_t;

/* The kind of a candidate pair in --errors and --pairs: whether it is one
 * entity (is_true) and whether clustering put it in one customer. */
static const char *pair_kind(bool is_true, bool joined)
{
    if (is_true)
        return joined ? "joined" : "missed";
    return joined ? "false_join" : "apart";
}

static void write_pair(FILE *out, const ecif_record_t *a,
                       const ecif_record_t *b, const char *kind, double score,
                       const ecif_evidence_t evidence[ECIF_FIELD_COUNT])
{
    fprintf(out, "%s\t%s/%s\t%s/%s\t%.3f", kind, a->source_system, a->source_id,
            b->source_system, b->source_id, score);
    for (int f = 0; f < ECIF_FIELD_COUNT; f++) {
        const ecif_evidence_t *e = &evidence[f];
        if (e->detail != NULL)
            fprintf(out, "\t%s=%s:%.3f", ecif_field_str((ecif_field_t)f),
                    e->detail, e->weight);
    }
    fputc('\n', out);
}

/*
 * Scores the blocking and the pair decisions over the candidate pairs:
 * which are true pairs, which of them ecif_compare calls MATCH, and how
 * the match probability of each pair's score compares with the truth.
 * Pairs that blocking never gathers have no score, so they are not in the
 * calibration sample.
 */
static bool dedup_score_pairs(const ecif_store_t *store,
                              const uint32_t *truth_labels,
                              const uint32_t *predicted,
                              const pair_files_t *files, dedup_result_t *res)
{
    uint64_t *pairs = NULL;
    size_t n = 0;
    if (!dedup_candidate_pairs(store, res, &pairs, &n))
        return false;

    const struct ecif_model *model = ecif_store_model(store);
    metrics_calibration_init(&res->calibration);
    res->candidate_pairs = n;
    for (size_t i = 0; i < n; i++) {
        uint32_t a = (uint32_t)(pairs[i] >> 32);
        uint32_t b = (uint32_t)pairs[i];
        bool is_true = truth_labels[a] == truth_labels[b];
        if (is_true)
            res->true_candidate_pairs++;

        ecif_record_t ra, rb;
        ecif_store_get_record(store, a, &ra);
        ecif_store_get_record(store, b, &rb);
        double score;
        ecif_verdict_t verdict;
        ecif_evidence_t evidence[ECIF_FIELD_COUNT];
        ecif_compare(model, &ra, &rb, &score, &verdict, evidence);
        if (metrics_calibration_add(&res->calibration,
                                    model_probability(model, score),
                                    is_true) != ECIF_OK)
            res->calibration_rejected++;
        if (verdict == ECIF_MATCH) {
            res->match_pairs++;
            if (is_true)
                res->true_match_pairs++;
        }
        bool joined = predicted[a] == predicted[b];
        FILE *error_out = is_true != joined ? files->errors : NULL;
        if (error_out != NULL || files->all != NULL) {
            /* Scored as the import scored it, with the name's frequency
             * in the store, unlike the compare figures. */
            ecif_store_compare(store, &ra, &rb, &score, &verdict, evidence);
            const char *kind = pair_kind(is_true, joined);
            if (error_out != NULL)
                write_pair(error_out, &ra, &rb, kind, score, evidence);
            if (files->all != NULL)
                write_pair(files->all, &ra, &rb, kind, score, evidence);
        }
    }
    free(pairs);

    metrics_blocking_from_counts(
        res->cluster_pairs.true_pairs, res->true_candidate_pairs,
        res->candidate_pairs, res->records, &res->blocking);
    metrics_prf_from_counts(res->true_match_pairs, res->match_pairs,
                            res->cluster_pairs.true_pairs, &res->compare);
    return true;
}

static bool dedup_evaluate(const ecif_store_t *store, truth_t *truth,
                           const pair_files_t *files, dedup_result_t *res)
{
    ecif_store_info_t info;
    ecif_store_get_info(store, &info);
    res->records = info.record_count;
    res->customers = info.customer_count;

    size_t n = res->records;
    uint32_t *truth_labels = malloc((n ? n : 1) * sizeof(uint32_t));
    uint32_t *predicted = malloc((n ? n : 1) * sizeof(uint32_t));
    bool ok = truth_labels != NULL && predicted != NULL &&
              dedup_labels(store, truth, truth_labels, predicted, res);
    if (ok) {
        res->entities = truth->entities.next;
        ok =
            metrics_count_pairs(truth_labels, predicted, n,
                                &res->cluster_pairs) == ECIF_OK &&
            metrics_bcubed(truth_labels, predicted, n, &res->bcubed) == ECIF_OK;
        if (!ok)
            fprintf(stderr, "evaluate: out of memory counting pairs\n");
    }
    if (ok) {
        const metrics_pairs_t *p = &res->cluster_pairs;
        metrics_prf_from_counts(p->true_positives, p->predicted_pairs,
                                p->true_pairs, &res->cluster);
        ok = dedup_score_pairs(store, truth_labels, predicted, files, res);
    }
    free(truth_labels);
    free(predicted);
    return ok;
}

/* Returns "pair" for one, "pairs" otherwise. */
static const char *pairs(uint64_t n)
{
    return n == 1 ? "pair" : "pairs";
}

/* Entities of the records in the snapshot that have a truth. */
static uint64_t dedup_entities(const dedup_result_t *res)
{
    return res->entities - res->no_truth;
}

static void dedup_print(const eval_options_t *opts, const dedup_result_t *r)
{
    const metrics_pairs_t *p = &r->cluster_pairs;
    printf("dedup %s (truth %s)\n", opts->label ? opts->label : opts->snapshot,
           opts->truth);
    printf("  records %llu, true entities %llu, customers %llu, records "
           "without a truth %llu\n",
           (unsigned long long)r->records,
           (unsigned long long)dedup_entities(r),
           (unsigned long long)r->customers, (unsigned long long)r->no_truth);
    printf("  blocking:   pairs completeness %.4f, reduction ratio %.6f "
           "(%llu candidate %s, %llu of %llu true %s; %llu %s "
           "with a full candidate list)\n",
           r->blocking.pairs_completeness, r->blocking.reduction_ratio,
           (unsigned long long)r->candidate_pairs, pairs(r->candidate_pairs),
           (unsigned long long)r->true_candidate_pairs,
           (unsigned long long)p->true_pairs, pairs(p->true_pairs),
           (unsigned long long)r->capped_records,
           r->capped_records == 1 ? "record" : "records");
    printf("  compare:    precision %.4f, recall %.4f, F1 %.4f "
           "(%llu MATCH %s, %llu true)\n",
           r->compare.precision, r->compare.recall, r->compare.f1,
           (unsigned long long)r->match_pairs, pairs(r->match_pairs),
           (unsigned long long)r->true_match_pairs);
    printf("  clusters:   precision %.4f, recall %.4f, F1 %.4f "
           "(%llu %s in one customer, %llu true)\n",
           r->cluster.precision, r->cluster.recall, r->cluster.f1,
           (unsigned long long)p->predicted_pairs, pairs(p->predicted_pairs),
           (unsigned long long)p->true_positives);
    printf("  B-cubed:    precision %.4f, recall %.4f, F1 %.4f\n",
           r->bcubed.precision, r->bcubed.recall, r->bcubed.f1);
    print_calibration(&r->calibration, r->calibration_rejected, "pairs");
}

static bool dedup_json(const eval_options_t *opts, const truth_t *truth,
                       const dedup_result_t *r)
{
    FILE *out = bench_json_open("evaluate", opts->json);
    if (out == NULL)
        return false;
    const metrics_pairs_t *p = &r->cluster_pairs;
    json_header(out, "dedup", opts);
    json_text(out, "snapshot", opts->snapshot);
    json_count(out, "records", r->records);
    json_count(out, "entities", dedup_entities(r));
    json_count(out, "customers", r->customers);
    json_count(out, "records_without_truth", r->no_truth);
    json_count(out, "truth_rows", truth->table_rows);
    json_count(out, "truth_rows_rejected", truth->table_rejected);
    json_count(out, "true_pairs", p->true_pairs);
    json_count(out, "candidate_pairs", r->candidate_pairs);
    json_count(out, "true_candidate_pairs", r->true_candidate_pairs);
    json_count(out, "records_with_full_candidate_list", r->capped_records);
    json_ratio(out, "pairs_completeness", r->blocking.pairs_completeness);
    json_ratio(out, "reduction_ratio", r->blocking.reduction_ratio);
    json_count(out, "match_pairs", r->match_pairs);
    json_count(out, "true_match_pairs", r->true_match_pairs);
    json_prf(out, "compare", &r->compare);
    json_count(out, "cluster_pairs", p->predicted_pairs);
    json_count(out, "true_cluster_pairs", p->true_positives);
    json_prf(out, "cluster", &r->cluster);
    json_prf(out, "bcubed", &r->bcubed);
    json_calibration(out, &r->calibration, r->calibration_rejected);
    fputs("  \"end\": true\n}\n", out);
    return bench_json_close("evaluate", out, opts->json);
}

/*
 * Finds what identifies the file at path: its inode when it exists, else
 * the inode of its directory and its last component (*leaf, pointing into
 * path). Returns false when neither exists.
 */
static bool file_identity(const char *path, struct stat *st, const char **leaf)
{
    *leaf = NULL;
    if (stat(path, st) == 0)
        return true;
    const char *slash = strrchr(path, '/');
    char dir[4096];
    if (slash == NULL) {
        strcpy(dir, ".");
        *leaf = path;
    } else if ((size_t)(slash - path) < sizeof(dir)) {
        size_t len = slash == path ? 1 : (size_t)(slash - path);
        memcpy(dir, path, len);
        dir[len] = '\0';
        *leaf = slash + 1;
    } else {
        return false;
    }
    return stat(dir, st) == 0;
}

/* Returns whether paths a and b name one file, existing or yet to be
 * created: the same string, or two names of one inode. */
static bool same_file(const char *a, const char *b)
{
    struct stat a_st, b_st;
    const char *a_leaf, *b_leaf;

    if (strcmp(a, b) == 0)
        return true;
    if (!file_identity(a, &a_st, &a_leaf) || !file_identity(b, &b_st, &b_leaf))
        return false;
    if (a_st.st_dev != b_st.st_dev || a_st.st_ino != b_st.st_ino)
        return false;
    if (a_leaf == NULL || b_leaf == NULL)
        return a_leaf == b_leaf;
    return strcmp(a_leaf, b_leaf) == 0;
}

/*
 * Returns whether the output file of option (NULL: not given) is another
 * file than the snapshot, so that writing it cannot destroy the input.
 * Prints why when it is not.
 */
static bool output_apart(const char *option, const char *output,
                         const char *snapshot)
{
    if (output == NULL || !same_file(output, snapshot))
        return true;
    fprintf(stderr,
            "evaluate: %s '%s' is the snapshot being evaluated; name "
            "another file\n",
            option, output);
    return false;
}

/* Returns whether --errors and --pairs name different files, or not both
 * are given. Two writers of one file would interleave their lines. */
static bool outputs_differ(const char *errors, const char *pairs)
{
    if (errors == NULL || pairs == NULL || !same_file(errors, pairs))
        return true;
    fprintf(stderr,
            "evaluate: --errors and --pairs both name '%s'; name two files\n",
            pairs);
    return false;
}

/* Opens the pair list of option at path and writes its header line. A NULL
 * path leaves *out NULL. Prints the reason when opening fails. */
static bool open_pair_file(const char *option, const char *path, FILE **out)
{
    *out = NULL;
    if (path == NULL)
        return true;
    *out = fopen(path, "w");
    if (*out == NULL) {
        fprintf(stderr, "evaluate: opening %s '%s' failed: %s\n", option, path,
                strerror(errno));
        return false;
    }
    fputs("# kind\trecord_a\trecord_b\tscore\tfield=level:weight...\n", *out);
    return true;
}

/* Closes a pair list opened by open_pair_file. Returns false when a write
 * failed. */
static bool close_pair_file(const char *option, const char *path, FILE *f)
{
    if (f == NULL || fclose(f) == 0)
        return true;
    fprintf(stderr, "evaluate: writing %s '%s' failed: %s\n", option, path,
            strerror(errno));
    return false;
}

static int run_dedup(const eval_options_t *opts)
{
    if (opts->snapshot == NULL) {
        fprintf(stderr, "evaluate: dedup needs --snapshot\n");
        return 2;
    }
    truth_t truth;
    if (!truth_init(&truth, opts->truth, &opts->sources)) {
        truth_fini(&truth);
        return 2;
    }

    char err[512];
    ecif_store_t *store = NULL;
    if (ecif_store_open(opts->snapshot, &store, err, sizeof(err)) != ECIF_OK) {
        fprintf(stderr, "evaluate: cannot open the snapshot '%s': %s\n",
                opts->snapshot, err);
        truth_fini(&truth);
        return 1;
    }

    if (!output_apart("--json", opts->json, opts->snapshot) ||
        !output_apart("--errors", opts->errors, opts->snapshot) ||
        !output_apart("--pairs", opts->pairs, opts->snapshot) ||
        !outputs_differ(opts->errors, opts->pairs)) {
        ecif_store_close(store);
        truth_fini(&truth);
        return 2;
    }
    pair_files_t files = {NULL, NULL};
    if (!open_pair_file("--errors", opts->errors, &files.errors) ||
        !open_pair_file("--pairs", opts->pairs, &files.all)) {
        if (files.errors != NULL)
            fclose(files.errors);
        ecif_store_close(store);
        truth_fini(&truth);
        return 1;
    }

    dedup_result_t res = {0};
    bool ok = dedup_evaluate(store, &truth, &files, &res);
    ok = close_pair_file("--errors", opts->errors, files.errors) && ok;
    ok = close_pair_file("--pairs", opts->pairs, files.all) && ok;
    if (ok) {
        dedup_print(opts, &res);
        if (res.no_truth == res.records && res.records > 0)
            fprintf(stderr, "evaluate: warning: no record of the snapshot "
                            "has a truth; check --truth\n");
        if (opts->json != NULL)
            ok = dedup_json(opts, &truth, &res);
    }
    ecif_store_close(store);
    truth_fini(&truth);
    return ok ? 0 : 1;
}

/* ---- query ----------------------------------------------------------------
 */

typedef struct query_result {
    uint64_t queries;
    uint64_t rows_rejected;
    uint64_t no_truth; /* queries the truth gives no entity */
    uint64_t failed;   /* calls that did not return OK */
    uint64_t no_candidate;
    metrics_ranking_t ranking;
    /* match_probability of the top candidate against whether it is right,
     * for the queries with a candidate and an entity or an absent rule */
    metrics_calibration_t calibration;
    uint64_t calibration_rejected; /* probabilities outside [0, 1] */
    char first_error[ECIF_CLIENT_DETAILS_MAX + 64];
} query_result_t;

/* State shared by the queries of one run. */
typedef struct query_run {
    const eval_options_t *opts;
    ecif_client_t *client;
    truth_t *truth;
    regex_t absent;
    bool has_absent;
    char *buf;
    size_t cap;
    query_result_t *res;
} query_run_t;

/*
 * Returns the rank of the first candidate with a matched record of entity,
 * or 0. A matched record whose key has no entity counts as wrong.
 */
static size_t query_rank(query_run_t *run,
                         const Ecif__V1__ResolveResponse *resp, uint32_t entity)
{
    for (size_t i = 0; i < resp->n_candidates; i++) {
        const Ecif__V1__Candidate *c = resp->candidates[i];
        for (size_t j = 0; j < c->n_matched_records; j++) {
            const Ecif__V1__RecordRef *ref = c->matched_records[j];
            uint32_t label;
            if (truth_label(run->truth, ref->source_system, ref->source_id,
                            false, &run->buf, &run->cap,
                            &label) == TRUTH_FOUND &&
                label == entity)
                return i + 1;
        }
    }
    return 0;
}

/* Adds the top candidate's probability, right or not, to the calibration. */
static void query_calibrate(query_result_t *res,
                            const Ecif__V1__ResolveResponse *resp, bool right)
{
    if (resp->n_candidates == 0)
        return;
    if (metrics_calibration_add(&res->calibration,
                                resp->candidates[0]->match_probability,
                                right) != ECIF_OK)
        res->calibration_rejected++;
}

static void query_score(query_run_t *run, const ecif_record_t *rec,
                        const Ecif__V1__ResolveResponse *resp)
{
    query_result_t *res = run->res;
    if (resp->n_candidates == 0)
        res->no_candidate++;

    const char *id = rec->source_id ? rec->source_id : "";
    if (run->has_absent && regexec(&run->absent, id, 0, NULL, 0) == 0) {
        bool no_match =
            resp->n_candidates == 0 ||
            resp->candidates[0]->verdict == ECIF__V1__VERDICT__NO_MATCH;
        metrics_ranking_add_absent(&res->ranking, no_match);
        /* The index contains no true record, so every candidate is wrong. */
        query_calibrate(res, resp, false);
        return;
    }

    uint32_t entity;
    const char *system = rec->source_system ? rec->source_system : "";
    if (truth_label(run->truth, system, id, true, &run->buf, &run->cap,
                    &entity) != TRUTH_FOUND) {
        res->no_truth++;
        return;
    }
    size_t rank = query_rank(run, resp, entity);
    metrics_ranking_add_present(&res->ranking, rank);
    query_calibrate(res, resp, rank == 1);
}

/* Sends one query and scores the response. Returns false on ENOMEM only. */
static bool query_one(query_run_t *run, const ecif_record_t *rec)
{
    size_t len = 0;
    uint8_t *req = bench_pack_resolve_request(rec, run->opts->k, &len);
    if (req == NULL)
        return false;

    ecif_client_result_t result;
    int rc = ecif_client_call(run->client, ECIF_METHOD_RESOLVE, req, len,
                              run->opts->deadline_ms, &result);
    free(req);
    run->res->queries++;
    if (rc != ECIF_OK || result.status != GRPC_STATUS_OK) {
        if (run->res->first_error[0] == '\0')
            snprintf(run->res->first_error, sizeof(run->res->first_error),
                     "Resolve: %s (gRPC status %d)",
                     rc == ECIF_OK ? result.details : ecif_status_str(rc),
                     (int)result.status);
        free(result.response);
        run->res->failed++;
        return rc != ECIF_ENOMEM;
    }

    Ecif__V1__ResolveResponse *resp = ecif__v1__resolve_response__unpack(
        NULL, result.response_len, result.response);
    free(result.response);
    if (resp == NULL) {
        run->res->failed++;
        return true;
    }
    query_score(run, rec, resp);
    ecif__v1__resolve_response__free_unpacked(resp, NULL);
    return true;
}

static bool query_row(void *arg, const source_row_t *row)
{
    if (query_one(arg, &row->record))
        return true;
    fprintf(stderr, "evaluate: out of memory\n");
    return false;
}

static bool query_all(query_run_t *run, const mapping_t *mapping)
{
    return bench_read_queries("evaluate", run->opts->queries, run->opts->format,
                              mapping, false, query_row, run,
                              &run->res->rows_rejected);
}

static void query_print(const eval_options_t *opts, const query_result_t *r)
{
    metrics_ranking_rates_t rates;
    metrics_ranking_rates(&r->ranking, &rates);
    printf("query %s at %s (truth %s)\n",
           opts->label ? opts->label : opts->queries, opts->server,
           opts->truth);
    printf("  queries %llu (%llu failed, %llu rows rejected, %llu without "
           "a truth, %llu with no candidate)\n",
           (unsigned long long)r->queries, (unsigned long long)r->failed,
           (unsigned long long)r->rows_rejected,
           (unsigned long long)r->no_truth,
           (unsigned long long)r->no_candidate);
    printf("  present %llu: hit@1 %.4f, hit@%u %.4f, MRR %.4f\n",
           (unsigned long long)r->ranking.present, rates.hit_at_1, r->ranking.k,
           rates.hit_at_k, rates.mrr);
    printf("  absent %llu: correct no-match rate %.4f\n",
           (unsigned long long)r->ranking.absent, rates.correct_no_match);
    print_calibration(&r->calibration, r->calibration_rejected, "queries");
    if (r->first_error[0] != '\0')
        printf("  first failure: %s\n", r->first_error);
}

static bool query_json(const eval_options_t *opts, const query_result_t *r)
{
    FILE *out = bench_json_open("evaluate", opts->json);
    if (out == NULL)
        return false;
    metrics_ranking_rates_t rates;
    metrics_ranking_rates(&r->ranking, &rates);
    json_header(out, "query", opts);
    json_text(out, "server", opts->server);
    json_text(out, "queries_file", opts->queries);
    json_text(out, "absent_rule", opts->absent_rule);
    json_count(out, "k", r->ranking.k);
    json_count(out, "queries", r->queries);
    json_count(out, "failed", r->failed);
    json_count(out, "rows_rejected", r->rows_rejected);
    json_count(out, "without_truth", r->no_truth);
    json_count(out, "no_candidate", r->no_candidate);
    json_count(out, "present", r->ranking.present);
    json_count(out, "hit_at_1_count", r->ranking.hit_at_1);
    json_count(out, "hit_at_k_count", r->ranking.hit_at_k);
    json_ratio(out, "hit_at_1", rates.hit_at_1);
    json_ratio(out, "hit_at_k", rates.hit_at_k);
    json_ratio(out, "mrr", rates.mrr);
    json_count(out, "absent", r->ranking.absent);
    json_count(out, "correct_no_match_count", r->ranking.correct_no_match);
    json_ratio(out, "correct_no_match", rates.correct_no_match);
    json_calibration(out, &r->calibration, r->calibration_rejected);
    fputs("  \"end\": true\n}\n", out);
    return bench_json_close("evaluate", out, opts->json);
}

/* Loads the --mapping of the queries, or the canonical layout. */
static mapping_t *query_mapping(const eval_options_t *opts)
{
    mapping_t *mapping = NULL;
    char err[512];
    if (mapping_create(&mapping) != ECIF_OK) {
        fprintf(stderr, "evaluate: out of memory\n");
        return NULL;
    }
    if (opts->sources.mapping != NULL &&
        mapping_load_file(mapping, opts->sources.mapping, err, sizeof(err)) !=
            ECIF_OK) {
        fprintf(stderr, "evaluate: invalid --mapping: %s\n", err);
        mapping_destroy(mapping);
        return NULL;
    }
    return mapping;
}

static bool query_compile_absent(query_run_t *run, const char *text)
{
    if (text == NULL)
        return true;
    int rc = regcomp(&run->absent, text, REG_EXTENDED | REG_NOSUB);
    if (rc != 0) {
        char msg[256];
        regerror(rc, &run->absent, msg, sizeof(msg));
        fprintf(stderr, "evaluate: invalid --absent-rule '%s': %s\n", text,
                msg);
        return false;
    }
    run->has_absent = true;
    return true;
}

static int run_query(const eval_options_t *opts)
{
    if (opts->server == NULL || opts->queries == NULL) {
        fprintf(stderr, "evaluate: query needs --server and --queries\n");
        return 2;
    }
    if (strncmp(opts->truth, "column:", 7) == 0) {
        fprintf(stderr, "evaluate: query takes a rule or file:PATH as "
                        "--truth, not column:NAME\n");
        return 2;
    }

    truth_t truth;
    query_result_t res = {0};
    query_run_t run = {.opts = opts, .truth = &truth, .res = &res};
    metrics_ranking_init(&res.ranking, opts->k);
    metrics_calibration_init(&res.calibration);
    bool ok = truth_init(&truth, opts->truth, &opts->sources) &&
              query_compile_absent(&run, opts->absent_rule);
    mapping_t *mapping = ok ? query_mapping(opts) : NULL;
    char err[512];
    if (mapping != NULL && ecif_client_create(opts->server, &run.client, err,
                                              sizeof(err)) != ECIF_OK) {
        fprintf(stderr, "evaluate: cannot create a client for '%s': %s\n",
                opts->server, err);
        ok = false;
    }
    int status = ok && mapping != NULL ? 0 : 2;

    if (status == 0) {
        /* A rule learns entity keys from the queries; the index shares
         * them through the same rule, so no table is needed. */
        ok = query_all(&run, mapping);
        if (ok)
            query_print(opts, &res);
        if (ok && res.failed == res.queries && res.queries > 0) {
            fprintf(stderr, "evaluate: every Resolve call failed\n");
            ok = false;
        }
        if (ok && opts->json != NULL)
            ok = query_json(opts, &res);
        status = ok ? 0 : 1;
    }
    ecif_client_destroy(run.client);
    mapping_destroy(mapping);
    if (run.has_absent)
        regfree(&run.absent);
    free(run.buf);
    truth_fini(&truth);
    return status;
}

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0) {
        eval_usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    const char *mode = argv[1];
    if (strcmp(mode, "dedup") != 0 && strcmp(mode, "query") != 0) {
        fprintf(stderr,
                "evaluate: unknown mode '%s': expected dedup or "
                "query\n",
                mode);
        return 2;
    }

    eval_options_t opts;
    int rc = parse_options(argc - 1, argv + 1, &opts);
    if (rc >= 0)
        return rc;
    return strcmp(mode, "dedup") == 0 ? run_dedup(&opts) : run_query(&opts);
}
