/*
 * pg_resolve_bench: the PostgreSQL side of bench/pg-compare.sh. It sends
 * each query record to PostgreSQL as one execution of a prepared
 * statement and measures accuracy and latency the way resolve_bench does
 * for ecifd.
 *
 * Queries are read with the tools/source.h reader and the same column
 * mapping as ecifctl import. The statement text comes from a file
 * (bench/pg/query.sql) and takes eight text parameters: given name,
 * family name, full name, ID number, phones and emails joined by '|',
 * date of birth as YYYY-MM-DD (normalized by ecif_norm_date, NULL when
 * absent or not in the calendar), and the row limit K. It returns rows
 * (source_system, source_id, score), best first.
 *
 * Truth comes from a rule on the query's source_id (febrl, same or
 * s/REGEX/REPLACEMENT/, as in resolve_bench), and then a row is right when
 * its source_id equals the derived id. Or it comes from a truth file of
 * (source_system, source_id, entity_id) rows, and then a row is right when
 * its record belongs to the entity of the query record.
 *
 * Latency: one connection, one statement at a time. Each execution is
 * timed with CLOCK_MONOTONIC around PQexecPrepared(), which sends the
 * parameters and returns when the whole result has arrived.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "bench_common.h"
#include "csv.h"
#include "mapping.h"
#include "normalize.h"
#include "record.h"
#include "source.h"
#include "status.h"

#define PGB_DEFAULT_K      5
#define PGB_DEFAULT_ROUNDS 5
#define PGB_DEFAULT_WARMUP 200
#define PGB_MAX_ROUNDS     1000
#define PGB_PARAMS         8
#define PGB_STATEMENT      "resolve"

typedef struct pgb_options {
    const char *conninfo;
    const char *sql;
    const char *queries;
    const char *mapping;
    const char *truth;
    const char *truth_file;
    const char *json;
    source_format_t format;
    uint32_t k;
    uint32_t rounds;
    uint32_t warmup;
} pgb_options_t;

/* A truth file entry; the key is "source_system\x1fsource_id". */
typedef struct truth_entry {
    char *key;
    char *entity;
} truth_entry_t;

typedef struct truth_table {
    truth_entry_t *items; /* sorted by key */
    size_t count;
    size_t cap;
} truth_table_t;

typedef struct pgb_query {
    char *params[PGB_PARAMS]; /* malloc'd; NULL is SQL NULL */
    char *key;                /* the query's "system\x1fid" */
    char *truth_id;           /* the rule's true source_id, or NULL */
    const char *entity;       /* the truth file's entity, or NULL */
} pgb_query_t;

typedef struct pgb_queries {
    pgb_query_t *items;
    size_t count;
    size_t cap;
    uint64_t rows_rejected;
} pgb_queries_t;

typedef struct pgb_accuracy {
    uint64_t scored;
    uint64_t no_truth;
    uint64_t hit_at_1;
    uint64_t hit_at_k;
    uint64_t no_candidate;
    double reciprocal_rank_sum;
} pgb_accuracy_t;

typedef struct pgb_latency {
    uint64_t *ns;
    size_t count;
    uint64_t failed;
    bench_latency_t summary; /* summary of ns, set once the rounds are done */
} pgb_latency_t;

static void pgb_usage(FILE *out)
{
    fputs("usage: pg_resolve_bench --conninfo STR --sql FILE --queries FILE\n"
          "         [--mapping FILE] [--format csv|jsonl]\n"
          "         [--truth RULE | --truth-file CSV] [--max-candidates K]\n"
          "         [--rounds N] [--warmup N] [--json OUT]\n"
          "Runs each query record through the prepared statement in --sql on\n"
          "one PostgreSQL connection and reports hit@1, hit@k, MRR and the\n"
          "latency of each execution.\n"
          "  --conninfo STR        libpq connection string\n"
          "  --sql FILE            the statement, with parameters $1..$8\n"
          "  --truth RULE          febrl (default), same or s/REGEX/REPL/ on\n"
          "                        the query's source_id\n"
          "  --truth-file CSV      source_system,source_id,entity_id rows;\n"
          "                        replaces --truth\n"
          "  --max-candidates K    rows per query (default 5)\n"
          "  --rounds N            passes over the queries (default 5)\n"
          "  --warmup N            unmeasured executions first (default 200)\n"
          "  --json OUT            write every figure as JSON\n",
          out);
}

static int parse_options(int argc, char **argv, pgb_options_t *opts)
{
    enum { OPT_TRUTH_FILE = 256, OPT_WARMUP, OPT_JSON };
    static const struct option long_opts[] = {
        {"conninfo", required_argument, NULL, 'c'},
        {"sql", required_argument, NULL, 's'},
        {"queries", required_argument, NULL, 'q'},
        {"mapping", required_argument, NULL, 'm'},
        {"format", required_argument, NULL, 'f'},
        {"truth", required_argument, NULL, 't'},
        {"truth-file", required_argument, NULL, OPT_TRUTH_FILE},
        {"max-candidates", required_argument, NULL, 'k'},
        {"rounds", required_argument, NULL, 'r'},
        {"warmup", required_argument, NULL, OPT_WARMUP},
        {"json", required_argument, NULL, OPT_JSON},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    *opts = (pgb_options_t){.truth = "febrl",
                            .format = SOURCE_FORMAT_AUTO,
                            .k = PGB_DEFAULT_K,
                            .rounds = PGB_DEFAULT_ROUNDS,
                            .warmup = PGB_DEFAULT_WARMUP};
    int c;
    while ((c = getopt_long(argc, argv, "c:s:q:m:f:t:k:r:h", long_opts,
                            NULL)) != -1) {
        bool ok = true;
        switch (c) {
        case 'c':
            opts->conninfo = optarg;
            break;
        case 's':
            opts->sql = optarg;
            break;
        case 'q':
            opts->queries = optarg;
            break;
        case 'm':
            opts->mapping = optarg;
            break;
        case 'f':
            ok = bench_parse_format("pg_resolve_bench", optarg, &opts->format);
            break;
        case 't':
            opts->truth = optarg;
            break;
        case OPT_TRUTH_FILE:
            opts->truth_file = optarg;
            break;
        case 'k':
            ok = bench_parse_u32("pg_resolve_bench", "--max-candidates", optarg,
                                 1, 100, &opts->k);
            break;
        case 'r':
            ok = bench_parse_u32("pg_resolve_bench", "--rounds", optarg, 1,
                                 PGB_MAX_ROUNDS, &opts->rounds);
            break;
        case OPT_WARMUP:
            ok = bench_parse_u32("pg_resolve_bench", "--warmup", optarg, 0,
                                 1000000, &opts->warmup);
            break;
        case OPT_JSON:
            opts->json = optarg;
            break;
        case 'h':
            pgb_usage(stdout);
            return 0;
        default:
            ok = false;
            break;
        }
        if (!ok) {
            pgb_usage(stderr);
            return 2;
        }
    }
    const char *missing = opts->conninfo == NULL  ? "--conninfo"
                          : opts->sql == NULL     ? "--sql"
                          : opts->queries == NULL ? "--queries"
                                                  : NULL;
    if (missing != NULL || optind != argc) {
        if (missing != NULL)
            fprintf(stderr, "pg_resolve_bench: missing %s\n", missing);
        else
            fprintf(stderr, "pg_resolve_bench: unexpected argument '%s'\n",
                    argv[optind]);
        pgb_usage(stderr);
        return 2;
    }
    return -1;
}

/* ---- Truth ---------------------------------------------------------------
 */

static char *key_join(const char *system, const char *id)
{
    size_t len = strlen(system) + strlen(id) + 2;
    char *key = malloc(len);
    if (key != NULL)
        snprintf(key, len, "%s\x1f%s", system, id);
    return key;
}

static int truth_entry_compare(const void *a, const void *b)
{
    return strcmp(((const truth_entry_t *)a)->key,
                  ((const truth_entry_t *)b)->key);
}

static void truth_table_fini(truth_table_t *t)
{
    for (size_t i = 0; i < t->count; i++) {
        free(t->items[i].key);
        free(t->items[i].entity);
    }
    free(t->items);
}

static bool truth_table_append(truth_table_t *t, const char *system,
                               const char *id, const char *entity)
{
    if (t->count == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 1024;
        truth_entry_t *items = realloc(t->items, cap * sizeof(*items));
        if (items == NULL)
            return false;
        t->items = items;
        t->cap = cap;
    }
    truth_entry_t *e = &t->items[t->count];
    e->key = key_join(system, id);
    e->entity = strdup(entity);
    if (e->key == NULL || e->entity == NULL) {
        free(e->key);
        free(e->entity);
        return false;
    }
    t->count++;
    return true;
}

/*
 * Reads a truth CSV whose header names source_system, source_id and
 * entity_id, in any order among other columns. Returns false on a read
 * error, a missing column or a malformed row.
 */
static bool truth_table_load(truth_table_t *t, const char *path)
{
    FILE *fp = fopen(path, "r");
    if (fp == NULL) {
        fprintf(stderr, "pg_resolve_bench: cannot open --truth-file '%s': %s\n",
                path, strerror(errno));
        return false;
    }
    csv_reader_t *reader = NULL;
    if (csv_reader_create(fp, ',', &reader) != ECIF_OK) {
        fclose(fp);
        return false;
    }

    static const char *const names[3] = {"source_system", "source_id",
                                         "entity_id"};
    size_t column[3] = {SIZE_MAX, SIZE_MAX, SIZE_MAX};
    bool header = true, ok = true;
    char err[512];
    csv_row_t row;
    int rc;
    while (ok && (rc = csv_reader_next(reader, &row, err, sizeof(err))) != 0) {
        if (rc < 0) {
            fprintf(stderr, "pg_resolve_bench: %s: %s\n", path, err);
            ok = false;
            break;
        }
        if (header) {
            for (size_t i = 0; i < row.n_fields; i++)
                for (size_t n = 0; n < 3; n++)
                    if (strcmp(row.fields[i], names[n]) == 0)
                        column[n] = i;
            for (size_t n = 0; n < 3; n++)
                if (column[n] == SIZE_MAX) {
                    fprintf(stderr,
                            "pg_resolve_bench: %s: missing column '%s'\n", path,
                            names[n]);
                    ok = false;
                }
            header = false;
            continue;
        }
        ok = truth_table_append(t, row.fields[column[0]], row.fields[column[1]],
                                row.fields[column[2]]);
        if (!ok)
            fprintf(stderr, "pg_resolve_bench: out of memory in %s\n", path);
    }
    csv_reader_destroy(reader);
    fclose(fp);
    if (ok)
        qsort(t->items, t->count, sizeof(*t->items), truth_entry_compare);
    return ok;
}

/* Returns the entity of a record key, or NULL when the table lacks it. */
static const char *truth_table_find(const truth_table_t *t, const char *key)
{
    truth_entry_t probe = {.key = (char *)key};
    const truth_entry_t *e = bsearch(&probe, t->items, t->count,
                                     sizeof(*t->items), truth_entry_compare);
    return e != NULL ? e->entity : NULL;
}

/* ---- Queries --------------------------------------------------------------
 */

static char *dup_or_null(const char *s)
{
    return s != NULL && s[0] != '\0' ? strdup(s) : NULL;
}

/* Joins the non-empty values with '|'; NULL when there are none. */
static char *join_values(const char *const *values, uint32_t n)
{
    size_t cap = 1;
    for (uint32_t i = 0; i < n; i++)
        cap += values[i] != NULL ? strlen(values[i]) + 1 : 0;
    char *out = malloc(cap);
    if (out == NULL)
        return NULL;
    size_t len = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (values[i] == NULL || values[i][0] == '\0')
            continue;
        if (len > 0)
            out[len++] = '|';
        memcpy(out + len, values[i], strlen(values[i]));
        len += strlen(values[i]);
    }
    out[len] = '\0';
    if (len == 0) {
        free(out);
        return NULL;
    }
    return out;
}

static char *format_dob(const char *dob)
{
    uint32_t ymd;
    bool valid;
    if (dob == NULL || dob[0] == '\0' ||
        ecif_norm_date(dob, &ymd, &valid) != ECIF_OK || !valid)
        return NULL;
    char buf[16];
    snprintf(buf, sizeof(buf), "%04u-%02u-%02u", ymd / 10000, ymd / 100 % 100,
             ymd % 100);
    return strdup(buf);
}

static void query_fini(pgb_query_t *q)
{
    for (size_t i = 0; i < PGB_PARAMS; i++)
        free(q->params[i]);
    free(q->key);
    free(q->truth_id);
}

/*
 * Appends a query with its parameters and truth. Returns false when
 * memory runs out.
 */
static bool queries_append(pgb_queries_t *qs, const ecif_record_t *r,
                           uint32_t k, const bench_truth_rule_t *rule,
                           const truth_table_t *table)
{
    if (qs->count == qs->cap) {
        size_t cap = qs->cap ? qs->cap * 2 : 1024;
        pgb_query_t *items = realloc(qs->items, cap * sizeof(*items));
        if (items == NULL)
            return false;
        qs->items = items;
        qs->cap = cap;
    }
    pgb_query_t *q = &qs->items[qs->count];
    memset(q, 0, sizeof(*q));

    char limit[16];
    snprintf(limit, sizeof(limit), "%u", k);
    q->params[0] = dup_or_null(r->given_name);
    q->params[1] = dup_or_null(r->family_name);
    q->params[2] = dup_or_null(r->name);
    q->params[3] = dup_or_null(r->id_number);
    q->params[4] = join_values(r->phones, r->n_phones);
    q->params[5] = join_values(r->emails, r->n_emails);
    q->params[6] = format_dob(r->dob);
    q->params[7] = strdup(limit);

    const char *system = r->source_system ? r->source_system : "";
    const char *id = r->source_id ? r->source_id : "";
    q->key = key_join(system, id);
    if (table != NULL)
        q->entity = truth_table_find(table, q->key);
    else
        q->truth_id = bench_truth_rule_apply(rule, id);
    if (q->params[7] == NULL || q->key == NULL) {
        query_fini(q);
        return false;
    }
    qs->count++;
    return true;
}

/* State of queries_load while the shared reader calls queries_add. */
typedef struct queries_loader {
    pgb_queries_t *qs;
    uint32_t k;
    const bench_truth_rule_t *rule;
    const truth_table_t *table;
} queries_loader_t;

static bool queries_add(void *arg, const source_row_t *row)
{
    queries_loader_t *loader = arg;
    if (queries_append(loader->qs, &row->record, loader->k, loader->rule,
                       loader->table))
        return true;
    fprintf(stderr, "pg_resolve_bench: out of memory at query %zu\n",
            loader->qs->count + 1);
    return false;
}

static bool queries_load(const pgb_options_t *opts, const mapping_t *mapping,
                         const bench_truth_rule_t *rule,
                         const truth_table_t *table, pgb_queries_t *qs)
{
    queries_loader_t loader = {
        .qs = qs, .k = opts->k, .rule = rule, .table = table};
    return bench_read_queries("pg_resolve_bench", opts->queries, opts->format,
                              mapping, true, queries_add, &loader,
                              &qs->rows_rejected);
}

/* ---- Execution ------------------------------------------------------------
 */

/* Reads a whole file into a malloc'd string, or returns NULL. */
static char *read_text(const char *path)
{
    FILE *fp = fopen(path, "r");
    if (fp == NULL) {
        fprintf(stderr, "pg_resolve_bench: cannot open --sql '%s': %s\n", path,
                strerror(errno));
        return NULL;
    }
    size_t cap = 4096, len = 0;
    char *text = malloc(cap);
    size_t n;
    while (text != NULL && (n = fread(text + len, 1, cap - len - 1, fp)) > 0) {
        len += n;
        if (len + 1 == cap) {
            char *grown = realloc(text, cap * 2);
            if (grown == NULL) {
                free(text);
                text = NULL;
                break;
            }
            text = grown;
            cap *= 2;
        }
    }
    fclose(fp);
    if (text != NULL)
        text[len] = '\0';
    return text;
}

/* Whether the record in row of res is the query's true record. */
static bool row_is_true(const PGresult *res, int row, const pgb_query_t *q,
                        const truth_table_t *table)
{
    const char *system = PQgetvalue(res, row, 0);
    const char *id = PQgetvalue(res, row, 1);
    if (table == NULL)
        return strcmp(id, q->truth_id) == 0;

    char *key = key_join(system, id);
    const char *entity = key != NULL ? truth_table_find(table, key) : NULL;
    free(key);
    return entity != NULL && strcmp(entity, q->entity) == 0;
}

static void accuracy_add(pgb_accuracy_t *acc, const PGresult *res,
                         const pgb_query_t *q, const truth_table_t *table)
{
    if ((table == NULL && q->truth_id == NULL) ||
        (table != NULL && q->entity == NULL)) {
        acc->no_truth++;
        return;
    }
    acc->scored++;
    int rows = PQntuples(res);
    if (rows == 0)
        acc->no_candidate++;
    for (int i = 0; i < rows; i++) {
        if (!row_is_true(res, i, q, table))
            continue;
        if (i == 0)
            acc->hit_at_1++;
        acc->hit_at_k++;
        acc->reciprocal_rank_sum += 1.0 / (double)(i + 1);
        break;
    }
}

/*
 * Executes the prepared statement for q. Returns the result on success
 * (the caller clears it) and NULL after printing the error.
 */
static PGresult *execute(PGconn *conn, const pgb_query_t *q,
                         uint64_t *elapsed_ns)
{
    uint64_t start = bench_now_ns();
    PGresult *res =
        PQexecPrepared(conn, PGB_STATEMENT, PGB_PARAMS,
                       (const char *const *)q->params, NULL, NULL, 0);
    *elapsed_ns = bench_now_ns() - start;
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        fprintf(stderr,
                "pg_resolve_bench: executing the statement failed: "
                "%s",
                PQerrorMessage(conn));
        PQclear(res);
        return NULL;
    }
    return res;
}

/*
 * Runs the warm-up and the measured rounds. Accuracy comes from the first
 * round. Returns false when memory for the samples runs out.
 */
static bool run_bench(PGconn *conn, const pgb_options_t *opts,
                      const pgb_queries_t *qs, const truth_table_t *table,
                      pgb_accuracy_t *acc, pgb_latency_t *lat)
{
    uint64_t ns;
    for (uint32_t i = 0; i < opts->warmup && qs->count > 0; i++)
        PQclear(execute(conn, &qs->items[i % qs->count], &ns));

    lat->ns = malloc((qs->count * opts->rounds + 1) * sizeof(*lat->ns));
    if (lat->ns == NULL)
        return false;
    for (uint32_t round = 0; round < opts->rounds; round++) {
        for (size_t i = 0; i < qs->count; i++) {
            PGresult *res = execute(conn, &qs->items[i], &ns);
            if (res == NULL) {
                lat->failed++;
                continue;
            }
            lat->ns[lat->count++] = ns;
            if (round == 0)
                accuracy_add(acc, res, &qs->items[i], table);
            PQclear(res);
        }
    }
    return true;
}

static void print_summary(const pgb_options_t *opts, const pgb_queries_t *qs,
                          const pgb_accuracy_t *a, const pgb_latency_t *l)
{
    printf("queries: %zu (%llu rows skipped), %llu scored, %llu without a "
           "truth\n",
           qs->count, (unsigned long long)qs->rows_rejected,
           (unsigned long long)a->scored, (unsigned long long)a->no_truth);
    printf("accuracy (first round):\n  hit@1 %.4f  hit@%u %.4f  MRR %.4f  "
           "no candidate %llu\n",
           bench_share(a->hit_at_1, a->scored), opts->k,
           bench_share(a->hit_at_k, a->scored),
           a->scored ? a->reciprocal_rank_sum / (double)a->scored : 0.0,
           (unsigned long long)a->no_candidate);
    printf("latency (%u rounds, us):\n  execute  n=%-7zu p50 %8.1f  p90 %8.1f"
           "  p99 %8.1f  max %9.1f  mean %8.1f  failed %llu\n",
           opts->rounds, l->count, l->summary.p50_us, l->summary.p90_us,
           l->summary.p99_us, l->summary.max_us, l->summary.mean_us,
           (unsigned long long)l->failed);
}

static bool json_save(const pgb_options_t *opts, const pgb_queries_t *qs,
                      const pgb_accuracy_t *a, const pgb_latency_t *l)
{
    FILE *out = bench_json_open("pg_resolve_bench", opts->json);
    if (out == NULL)
        return false;
    char date[32];
    bench_utc_timestamp(date, sizeof(date));
    fprintf(out, "{\n  \"date\": \"%s\",\n  \"queries_file\": ", date);
    bench_json_string(out, opts->queries);
    fputs(",\n  \"truth\": ", out);
    bench_json_string(out, opts->truth_file ? opts->truth_file : opts->truth);
    fprintf(out,
            ",\n  \"max_candidates\": %u,\n  \"rounds\": %u,\n"
            "  \"warmup\": %u,\n  \"queries\": %zu,\n"
            "  \"rows_skipped\": %llu,\n",
            opts->k, opts->rounds, opts->warmup, qs->count,
            (unsigned long long)qs->rows_rejected);
    fprintf(out,
            "  \"accuracy\": {\n    \"scored\": %llu,\n"
            "    \"no_truth\": %llu,\n    \"hit_at_1\": %.6f,\n"
            "    \"hit_at_k\": %.6f,\n    \"k\": %u,\n    \"mrr\": %.6f,\n"
            "    \"no_candidate\": %llu\n  },\n",
            (unsigned long long)a->scored, (unsigned long long)a->no_truth,
            bench_share(a->hit_at_1, a->scored),
            bench_share(a->hit_at_k, a->scored), opts->k,
            a->scored ? a->reciprocal_rank_sum / (double)a->scored : 0.0,
            (unsigned long long)a->no_candidate);
    fprintf(out,
            "  \"latency\": {\n    \"execute\": {\"samples\": %zu, "
            "\"p50_us\": %.3f, \"p90_us\": %.3f, \"p99_us\": %.3f, "
            "\"max_us\": %.3f, \"mean_us\": %.3f, \"failed\": %llu}\n  }\n}\n",
            l->count, l->summary.p50_us, l->summary.p90_us, l->summary.p99_us,
            l->summary.max_us, l->summary.mean_us,
            (unsigned long long)l->failed);
    return bench_json_close("pg_resolve_bench", out, opts->json);
}

/* ---- main -----------------------------------------------------------------
 */

/* Connects and prepares the statement; NULL after printing the error. */
static PGconn *connect_and_prepare(const pgb_options_t *opts)
{
    char *sql = read_text(opts->sql);
    if (sql == NULL)
        return NULL;
    PGconn *conn = PQconnectdb(opts->conninfo);
    if (PQstatus(conn) != CONNECTION_OK) {
        fprintf(stderr,
                "pg_resolve_bench: connecting to PostgreSQL failed: "
                "%s",
                PQerrorMessage(conn));
        PQfinish(conn);
        free(sql);
        return NULL;
    }
    PGresult *res = PQprepare(conn, PGB_STATEMENT, sql, PGB_PARAMS, NULL);
    bool ok = PQresultStatus(res) == PGRES_COMMAND_OK;
    if (!ok)
        fprintf(stderr, "pg_resolve_bench: preparing %s failed: %s", opts->sql,
                PQerrorMessage(conn));
    PQclear(res);
    free(sql);
    if (!ok) {
        PQfinish(conn);
        return NULL;
    }
    return conn;
}

/*
 * Exit codes: 0 when every measured execution succeeded, 1 when the input
 * cannot be read, PostgreSQL cannot be reached or an execution failed, 2 on
 * a usage error.
 */
int main(int argc, char **argv)
{
    pgb_options_t opts;
    int rc = parse_options(argc, argv, &opts);
    if (rc >= 0)
        return rc;

    bench_truth_rule_t rule = {0};
    truth_table_t table = {0};
    if (opts.truth_file == NULL &&
        !bench_truth_rule_init("pg_resolve_bench", &rule, opts.truth))
        return 2;
    mapping_t *mapping = NULL;
    if (!bench_load_mapping("pg_resolve_bench", opts.mapping, &mapping)) {
        bench_truth_rule_fini(&rule);
        return 2;
    }

    int status = 1;
    pgb_queries_t qs = {0};
    pgb_accuracy_t acc = {0};
    pgb_latency_t lat = {0};
    PGconn *conn = NULL;
    if (opts.truth_file != NULL && !truth_table_load(&table, opts.truth_file))
        goto out;
    if (!queries_load(&opts, mapping, &rule, opts.truth_file ? &table : NULL,
                      &qs))
        goto out;
    if ((conn = connect_and_prepare(&opts)) == NULL)
        goto out;
    if (!run_bench(conn, &opts, &qs, opts.truth_file ? &table : NULL, &acc,
                   &lat)) {
        fprintf(stderr, "pg_resolve_bench: out of memory for the samples\n");
        goto out;
    }
    lat.summary = bench_latency_summarize(lat.ns, lat.count);
    print_summary(&opts, &qs, &acc, &lat);
    if (opts.json != NULL && !json_save(&opts, &qs, &acc, &lat))
        goto out;
    status = lat.failed == 0 ? 0 : 1;

out:
    PQfinish(conn);
    free(lat.ns);
    for (size_t i = 0; i < qs.count; i++)
        query_fini(&qs.items[i]);
    free(qs.items);
    truth_table_fini(&table);
    bench_truth_rule_fini(&rule);
    mapping_destroy(mapping);
    return status;
}
