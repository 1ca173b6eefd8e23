/*
 * resolve_bench: accuracy and latency of Resolve against a running ecifd.
 *
 * The query records come from a source file read with the same reader and
 * column mapping as ecifctl import. A truth rule derives, from each
 * query's source_id, the source_id of the stored record the query should
 * find (for Febrl, rec-N-dup-K belongs with rec-N-org). The query is sent
 * without its source_system and source_id, so the server cannot use the
 * key that reveals the truth.
 *
 * Accuracy is scored on the first round over the query set:
 *   hit@1  the top candidate's first matched record is the true record;
 *   hit@k  the true record is among the matched records of the returned
 *          candidates (at most k = --max-candidates of them);
 *   MRR    the mean of 1/rank. The rank is the position of the first
 *          candidate whose matched records contain the true record, and
 *          1/rank is 0 when no candidate does.
 *
 * Latency: after a warm-up, every Resolve call is followed by one
 * grpc.health.v1.Health/Check call on the same client and channel. The
 * server answers Health with a fixed message and no engine work, so its
 * time is the transport floor, and interleaving the two exposes both to
 * the same machine noise.
 * Each call's wall time is taken with CLOCK_MONOTONIC around the blocking
 * call only; packing and unpacking are outside it.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_common.h"
#include "client.h"
#include "ecif/v1/customer_index.pb-c.h"
#include "grpc/health/v1/health.pb-c.h"
#include "mapping.h"
#include "source.h"
#include "status.h"

#define BENCH_DEFAULT_MAX_CANDIDATES 5
#define BENCH_DEFAULT_WARMUP         200
#define BENCH_DEFAULT_DEADLINE_MS    5000
#define BENCH_MAX_ROUNDS             1000

typedef struct bench_options {
    const char *server;
    const char *queries;
    const char *mapping;
    const char *truth;
    const char *json;
    const char *misses;
    source_format_t format;
    uint32_t max_candidates;
    uint32_t rounds;
    uint32_t warmup;
    uint32_t deadline_ms;
} bench_options_t;

/* One query: the packed ResolveRequest and the true source_id. */
typedef struct bench_query {
    char *source_id;
    char *truth_id; /* NULL when the truth rule does not apply */
    uint8_t *request;
    size_t request_len;
} bench_query_t;

typedef struct bench_queries {
    bench_query_t *items;
    size_t count;
    size_t cap;
    uint64_t rows_rejected;
} bench_queries_t;

/* Latency samples of one method, in nanoseconds. */
typedef struct latency_samples {
    uint64_t *ns;
    size_t count;
    uint64_t failed;
} latency_samples_t;

/* Verdict slots: the proto enum values 0 to 3. */
#define BENCH_VERDICTS 4

typedef struct accuracy {
    uint64_t scored;   /* queries with a truth and an OK response */
    uint64_t no_truth; /* queries the truth rule did not apply to */
    uint64_t hit_at_1;
    uint64_t hit_at_k;
    uint64_t no_candidate;
    double reciprocal_rank_sum;
    uint64_t verdict_at_1[BENCH_VERDICTS];
    /* Rank-1 verdicts split by whether the top candidate contains the truth. */
    uint64_t verdict_at_1_right[BENCH_VERDICTS];
    uint64_t verdict_at_1_wrong[BENCH_VERDICTS];
    FILE *misses; /* output for rank-1 misses, or NULL */
} accuracy_t;

typedef struct bench_run {
    latency_samples_t resolve;
    latency_samples_t health;
    accuracy_t accuracy;
    uint64_t resolve_invalid; /* Resolve calls with INVALID_ARGUMENT */
    uint64_t health_not_serving;
    uint64_t warmup_failed; /* failed calls among the warm-up pairs */
    char first_error[ECIF_CLIENT_DETAILS_MAX + 64];
} bench_run_t;

/* ---- Options ---------------------------------------------------------------
 */

static void bench_usage(FILE *out)
{
    fprintf(
        out,
        "usage: resolve_bench --server HOST:PORT --queries FILE [OPTIONS]\n"
        "\n"
        "Sends every record of FILE to ecifd as a Resolve request, scores\n"
        "the answers against a truth rule, and measures Resolve latency\n"
        "against Health/Check calls interleaved one to one.\n"
        "\n"
        "  --server HOST:PORT        address of ecifd (required)\n"
        "  --queries FILE            query records, CSV or JSONL (required)\n"
        "  --mapping FILE            column mapping of FILE (default: the\n"
        "                            canonical layout)\n"
        "  --format csv|jsonl        format of FILE (default: by file name)\n"
        "  --truth RULE              how a query's source_id names the true\n"
        "                            record's source_id: 'febrl'\n"
        "                            (rec-N-dup-K -> rec-N-org), 'same', or\n"
        "                            's/REGEX/REPLACEMENT/' with a POSIX\n"
        "                            extended REGEX matching the whole id\n"
        "                            and \\1..\\9 in REPLACEMENT\n"
        "                            (default febrl)\n"
        "  --truth-from-source-id RULE  the same as --truth\n"
        "  --max-candidates K        candidates requested per query; the k\n"
        "                            of hit@k (1 to 64, default 5)\n"
        "  --rounds N                passes over the query set for latency\n"
        "                            samples; accuracy uses the first\n"
        "                            (default 1)\n"
        "  --warmup N                unmeasured Resolve and Health pairs\n"
        "                            before the first round (default 200)\n"
        "  --deadline-ms N           deadline of each call in milliseconds\n"
        "                            (default 5000)\n"
        "  --json OUT                also write every figure to OUT as JSON\n"
        "  --misses OUT              write to OUT one tab-separated line per\n"
        "                            query whose true record is not the\n"
        "                            first at rank 1: source_id, true\n"
        "                            source_id, rank (0 for none), verdict\n"
        "  --help                    show this text\n");
}

/* Returns -1 to go on, or the exit code: 0 after --help, 2 on a usage error. */
static int parse_options(int argc, char **argv, bench_options_t *opts)
{
    enum {
        OPT_SERVER = 256,
        OPT_QUERIES,
        OPT_MAPPING,
        OPT_FORMAT,
        OPT_TRUTH,
        OPT_MAX_CANDIDATES,
        OPT_ROUNDS,
        OPT_WARMUP,
        OPT_DEADLINE_MS,
        OPT_JSON,
        OPT_MISSES,
        OPT_HELP,
    };
    static const struct option longopts[] = {
        {"server", required_argument, NULL, OPT_SERVER},
        {"queries", required_argument, NULL, OPT_QUERIES},
        {"mapping", required_argument, NULL, OPT_MAPPING},
        {"format", required_argument, NULL, OPT_FORMAT},
        {"truth", required_argument, NULL, OPT_TRUTH},
        {"truth-from-source-id", required_argument, NULL, OPT_TRUTH},
        {"max-candidates", required_argument, NULL, OPT_MAX_CANDIDATES},
        {"rounds", required_argument, NULL, OPT_ROUNDS},
        {"warmup", required_argument, NULL, OPT_WARMUP},
        {"deadline-ms", required_argument, NULL, OPT_DEADLINE_MS},
        {"json", required_argument, NULL, OPT_JSON},
        {"misses", required_argument, NULL, OPT_MISSES},
        {"help", no_argument, NULL, OPT_HELP},
        {NULL, 0, NULL, 0},
    };

    memset(opts, 0, sizeof(*opts));
    opts->truth = "febrl";
    opts->format = SOURCE_FORMAT_AUTO;
    opts->max_candidates = BENCH_DEFAULT_MAX_CANDIDATES;
    opts->rounds = 1;
    opts->warmup = BENCH_DEFAULT_WARMUP;
    opts->deadline_ms = BENCH_DEFAULT_DEADLINE_MS;

    int c;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        bool ok = true;
        switch (c) {
        case OPT_SERVER:
            opts->server = optarg;
            break;
        case OPT_QUERIES:
            opts->queries = optarg;
            break;
        case OPT_MAPPING:
            opts->mapping = optarg;
            break;
        case OPT_FORMAT:
            ok = bench_parse_format("resolve_bench", optarg, &opts->format);
            break;
        case OPT_TRUTH:
            opts->truth = optarg;
            break;
        case OPT_MAX_CANDIDATES:
            ok = bench_parse_u32("resolve_bench", "--max-candidates", optarg, 1,
                                 64, &opts->max_candidates);
            break;
        case OPT_ROUNDS:
            ok = bench_parse_u32("resolve_bench", "--rounds", optarg, 1,
                                 BENCH_MAX_ROUNDS, &opts->rounds);
            break;
        case OPT_WARMUP:
            ok = bench_parse_u32("resolve_bench", "--warmup", optarg, 0,
                                 1000000, &opts->warmup);
            break;
        case OPT_DEADLINE_MS:
            ok = bench_parse_u32("resolve_bench", "--deadline-ms", optarg, 1,
                                 3600 * 1000, &opts->deadline_ms);
            break;
        case OPT_JSON:
            opts->json = optarg;
            break;
        case OPT_MISSES:
            opts->misses = optarg;
            break;
        case OPT_HELP:
            bench_usage(stdout);
            return 0;
        default:
            ok = false;
            break;
        }
        if (!ok) {
            bench_usage(stderr);
            return 2;
        }
    }
    if (optind != argc) {
        fprintf(stderr, "resolve_bench: unexpected argument '%s'\n",
                argv[optind]);
        bench_usage(stderr);
        return 2;
    }
    if (opts->server == NULL || opts->queries == NULL) {
        fprintf(stderr, "resolve_bench: --server and --queries are "
                        "required\n");
        bench_usage(stderr);
        return 2;
    }
    return -1;
}

/* ---- Truth rules -----------------------------------------------------------
 */

/* ---- Queries ---------------------------------------------------------------
 */

static bool queries_append(bench_queries_t *qs, const source_row_t *row,
                           const bench_truth_rule_t *rule,
                           uint32_t max_candidates)
{
    if (qs->count == qs->cap) {
        size_t cap = qs->cap ? qs->cap * 2 : 1024;
        bench_query_t *items = realloc(qs->items, cap * sizeof(*items));
        if (items == NULL)
            return false;
        qs->items = items;
        qs->cap = cap;
    }
    bench_query_t *q = &qs->items[qs->count];
    const char *id = row->record.source_id ? row->record.source_id : "";
    q->source_id = strdup(id);
    q->truth_id = bench_truth_rule_apply(rule, id);
    q->request = bench_pack_resolve_request(&row->record, max_candidates,
                                            &q->request_len);
    if (q->source_id == NULL || q->request == NULL) {
        free(q->source_id);
        free(q->truth_id);
        free(q->request);
        return false;
    }
    qs->count++;
    return true;
}

static void queries_fini(bench_queries_t *qs)
{
    for (size_t i = 0; i < qs->count; i++) {
        free(qs->items[i].source_id);
        free(qs->items[i].truth_id);
        free(qs->items[i].request);
    }
    free(qs->items);
}

/* State of queries_load while the shared reader calls queries_add. */
typedef struct queries_loader {
    bench_queries_t *qs;
    const bench_truth_rule_t *rule;
    uint32_t max_candidates;
} queries_loader_t;

static bool queries_add(void *arg, const source_row_t *row)
{
    queries_loader_t *loader = arg;
    if (queries_append(loader->qs, row, loader->rule, loader->max_candidates))
        return true;
    fprintf(stderr, "resolve_bench: out of memory at query %zu\n",
            loader->qs->count + 1);
    return false;
}

/*
 * Reads every row of the query file into qs. A row the reader rejects is
 * reported by line and skipped. Returns false when the file cannot be
 * read or memory runs out.
 */
static bool queries_load(const bench_options_t *opts, const mapping_t *mapping,
                         const bench_truth_rule_t *rule, bench_queries_t *qs)
{
    queries_loader_t loader = {
        .qs = qs,
        .rule = rule,
        .max_candidates = opts->max_candidates,
    };
    return bench_read_queries("resolve_bench", opts->queries, opts->format,
                              mapping, true, queries_add, &loader,
                              &qs->rows_rejected);
}

/* ---- Calls -----------------------------------------------------------------
 */

static bool samples_init(latency_samples_t *s, size_t cap)
{
    s->ns = malloc((cap > 0 ? cap : 1) * sizeof(*s->ns));
    s->count = 0;
    s->failed = 0;
    return s->ns != NULL;
}

/*
 * Makes one call and times it. Returns true when the call finished with
 * status OK; the response is then in result and the caller frees it.
 * A failure's description goes to run->first_error once.
 */
static bool timed_call(ecif_client_t *client, const char *method,
                       const uint8_t *request, size_t len, uint32_t deadline_ms,
                       ecif_client_result_t *result, uint64_t *elapsed_ns,
                       bench_run_t *run)
{
    uint64_t start = bench_now_ns();
    int rc =
        ecif_client_call(client, method, request, len, deadline_ms, result);
    *elapsed_ns = bench_now_ns() - start;
    if (rc == ECIF_OK && result->status == GRPC_STATUS_OK)
        return true;

    if (run->first_error[0] == '\0')
        snprintf(run->first_error, sizeof(run->first_error),
                 "%s: %s (gRPC status %d)", method,
                 rc == ECIF_OK ? result->details : ecif_status_str(rc),
                 (int)result->status);
    free(result->response);
    result->response = NULL;
    return false;
}

/* ---- Accuracy --------------------------------------------------------------
 */

static const char *verdict_name(unsigned verdict)
{
    const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value(
        &ecif__v1__verdict__descriptor, (int)verdict);
    return ev != NULL ? ev->name : "VERDICT_UNSPECIFIED";
}

static bool candidate_has_record(const Ecif__V1__Candidate *c, const char *id)
{
    for (size_t i = 0; i < c->n_matched_records; i++) {
        if (strcmp(c->matched_records[i]->source_id, id) == 0)
            return true;
    }
    return false;
}

/* Writes one line for a query whose true record is not first at rank 1. */
static void accuracy_report_miss(const accuracy_t *acc, const bench_query_t *q,
                                 size_t rank, const char *verdict)
{
    if (acc->misses != NULL)
        fprintf(acc->misses, "%s\t%s\t%zu\t%s\n", q->source_id, q->truth_id,
                rank, verdict);
}

static void accuracy_add(accuracy_t *acc, const bench_query_t *q,
                         const Ecif__V1__ResolveResponse *resp)
{
    if (q->truth_id == NULL) {
        acc->no_truth++;
        return;
    }
    acc->scored++;
    if (resp->n_candidates == 0) {
        acc->no_candidate++;
        accuracy_report_miss(acc, q, 0, "no_candidate");
        return;
    }

    const Ecif__V1__Candidate *top = resp->candidates[0];
    bool hit_at_1 =
        top->n_matched_records > 0 &&
        strcmp(top->matched_records[0]->source_id, q->truth_id) == 0;
    if (hit_at_1)
        acc->hit_at_1++;

    size_t rank = 0;
    for (size_t i = 0; i < resp->n_candidates && rank == 0; i++) {
        if (candidate_has_record(resp->candidates[i], q->truth_id))
            rank = i + 1;
    }
    if (rank > 0) {
        acc->hit_at_k++;
        acc->reciprocal_rank_sum += 1.0 / (double)rank;
    }

    unsigned verdict = (unsigned)top->verdict;
    if (verdict >= BENCH_VERDICTS)
        verdict = ECIF__V1__VERDICT__VERDICT_UNSPECIFIED;
    acc->verdict_at_1[verdict]++;
    if (rank == 1)
        acc->verdict_at_1_right[verdict]++;
    else
        acc->verdict_at_1_wrong[verdict]++;
    if (!hit_at_1)
        accuracy_report_miss(acc, q, rank, verdict_name(verdict));
}

/* ---- The run ---------------------------------------------------------------
 */

/*
 * Makes one Resolve call and one Health call. With record set, keeps both
 * times, and scores the Resolve response when acc is not NULL.
 */
static void run_pair(ecif_client_t *client, const bench_options_t *opts,
                     const bench_query_t *q, const uint8_t *health_req,
                     size_t health_len, bool record, accuracy_t *acc,
                     bench_run_t *run)
{
    ecif_client_result_t result;
    uint64_t ns;

    if (timed_call(client, ECIF_METHOD_RESOLVE, q->request, q->request_len,
                   opts->deadline_ms, &result, &ns, run)) {
        if (record)
            run->resolve.ns[run->resolve.count++] = ns;
        Ecif__V1__ResolveResponse *resp = ecif__v1__resolve_response__unpack(
            NULL, result.response_len, result.response);
        free(result.response);
        if (resp == NULL) {
            run->resolve.failed++;
        } else {
            if (acc != NULL)
                accuracy_add(acc, q, resp);
            ecif__v1__resolve_response__free_unpacked(resp, NULL);
        }
    } else {
        run->resolve.failed++;
        if (result.status == GRPC_STATUS_INVALID_ARGUMENT)
            run->resolve_invalid++;
    }

    if (timed_call(client, ECIF_METHOD_HEALTH_CHECK, health_req, health_len,
                   opts->deadline_ms, &result, &ns, run)) {
        if (record)
            run->health.ns[run->health.count++] = ns;
        Grpc__Health__V1__HealthCheckResponse *resp =
            grpc__health__v1__health_check_response__unpack(
                NULL, result.response_len, result.response);
        free(result.response);
        if (resp == NULL ||
            resp->status !=
                GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING)
            run->health_not_serving++;
        if (resp != NULL)
            grpc__health__v1__health_check_response__free_unpacked(resp, NULL);
    } else {
        run->health.failed++;
    }
}

/*
 * Runs the warm-up and the measured rounds. Returns false when the server
 * cannot be reached (the first warm-up call fails) or memory runs out.
 */
static bool bench_execute(ecif_client_t *client, const bench_options_t *opts,
                          const bench_queries_t *qs, bench_run_t *run)
{
    size_t samples = qs->count * (size_t)opts->rounds;
    if (!samples_init(&run->resolve, samples) ||
        !samples_init(&run->health, samples)) {
        fprintf(stderr, "resolve_bench: out of memory for %zu samples\n",
                samples);
        return false;
    }

    Grpc__Health__V1__HealthCheckRequest hreq =
        GRPC__HEALTH__V1__HEALTH_CHECK_REQUEST__INIT;
    uint8_t health_req[64];
    size_t health_len = protobuf_c_message_pack(&hreq.base, health_req);

    /*
     * The first warm-up pair always runs and is checked alone, so a server
     * that cannot be reached ends the run instead of failing every query.
     */
    run_pair(client, opts, &qs->items[0], health_req, health_len, false, NULL,
             run);
    if (run->health.failed > 0) {
        fprintf(stderr,
                "resolve_bench: the server at '%s' did not answer: "
                "%s\n",
                opts->server, run->first_error);
        return false;
    }
    for (uint32_t i = 1; i < opts->warmup; i++)
        run_pair(client, opts, &qs->items[i % qs->count], health_req,
                 health_len, false, NULL, run);

    /* Warm-up failures are counted apart from the measured calls. */
    run->warmup_failed = run->resolve.failed + run->health.failed;
    run->resolve.failed = 0;
    run->health.failed = 0;
    run->resolve_invalid = 0;
    run->health_not_serving = 0;
    run->first_error[0] = '\0';

    for (uint32_t round = 0; round < opts->rounds; round++) {
        accuracy_t *acc = round == 0 ? &run->accuracy : NULL;
        for (size_t i = 0; i < qs->count; i++)
            run_pair(client, opts, &qs->items[i], health_req, health_len, true,
                     acc, run);
    }
    return true;
}

/* ---- Figures ---------------------------------------------------------------
 */

static void print_latency(const char *label, const bench_latency_t *s,
                          uint64_t failed)
{
    printf("  %-8s n=%-7zu p50 %8.1f  p90 %8.1f  p99 %8.1f  max %9.1f  "
           "mean %8.1f us  failed %llu\n",
           label, s->count, s->p50_us, s->p90_us, s->p99_us, s->max_us,
           s->mean_us, (unsigned long long)failed);
}

static void print_summary(const bench_options_t *opts,
                          const bench_queries_t *qs, const bench_run_t *run,
                          const bench_latency_t *resolve,
                          const bench_latency_t *health)
{
    const accuracy_t *a = &run->accuracy;
    printf("queries   %zu read from %s (%llu rows skipped), %llu scored, "
           "%llu without a truth\n",
           qs->count, opts->queries, (unsigned long long)qs->rows_rejected,
           (unsigned long long)a->scored, (unsigned long long)a->no_truth);
    printf("accuracy  hit@1 %.4f  hit@%u %.4f  MRR %.4f  no candidate %llu\n",
           bench_share(a->hit_at_1, a->scored), opts->max_candidates,
           bench_share(a->hit_at_k, a->scored),
           a->scored > 0 ? a->reciprocal_rank_sum / (double)a->scored : 0.0,
           (unsigned long long)a->no_candidate);
    printf("rank 1    verdict          total  right  wrong\n");
    for (unsigned v = 0; v < BENCH_VERDICTS; v++) {
        if (a->verdict_at_1[v] == 0)
            continue;
        printf("          %-16s %5llu  %5llu  %5llu\n", verdict_name(v),
               (unsigned long long)a->verdict_at_1[v],
               (unsigned long long)a->verdict_at_1_right[v],
               (unsigned long long)a->verdict_at_1_wrong[v]);
    }
    printf("latency   %u round(s) after %u warm-up pairs, Resolve and "
           "Health/Check alternating\n",
           opts->rounds, opts->warmup);
    print_latency("Resolve", resolve, run->resolve.failed);
    print_latency("Health", health, run->health.failed);
    printf("  Resolve p50 / Health p50 = %.3f\n",
           health->p50_us > 0 ? resolve->p50_us / health->p50_us : 0.0);
    if (run->resolve_invalid > 0)
        printf("  %llu Resolve calls were rejected as INVALID_ARGUMENT\n",
               (unsigned long long)run->resolve_invalid);
    if (run->health_not_serving > 0)
        printf("  %llu Health answers were not SERVING\n",
               (unsigned long long)run->health_not_serving);
    if (run->warmup_failed > 0)
        printf("  %llu warm-up calls failed\n",
               (unsigned long long)run->warmup_failed);
    if (run->first_error[0] != '\0')
        printf("  first failed call: %s\n", run->first_error);
}

/* ---- JSON ------------------------------------------------------------------
 */

static void json_latency(FILE *out, const char *name, const bench_latency_t *s,
                         uint64_t failed)
{
    fprintf(out,
            "    \"%s\": {\"samples\": %zu, \"failed\": %llu, "
            "\"p50_us\": %.1f, \"p90_us\": %.1f, \"p99_us\": %.1f, "
            "\"max_us\": %.1f, \"mean_us\": %.1f}",
            name, s->count, (unsigned long long)failed, s->p50_us, s->p90_us,
            s->p99_us, s->max_us, s->mean_us);
}

static void json_verdicts(FILE *out, const char *name, const uint64_t *counts)
{
    fprintf(out, "    \"%s\": {", name);
    for (unsigned v = 0; v < BENCH_VERDICTS; v++)
        fprintf(out, "%s\"%s\": %llu", v > 0 ? ", " : "", verdict_name(v),
                (unsigned long long)counts[v]);
    fputc('}', out);
}

static void json_write(FILE *out, const bench_options_t *opts,
                       const bench_queries_t *qs, const bench_run_t *run,
                       const bench_latency_t *resolve,
                       const bench_latency_t *health)
{
    const accuracy_t *a = &run->accuracy;
    char date[32];
    bench_utc_timestamp(date, sizeof(date));

    fprintf(out, "{\n  \"date\": \"%s\",\n  \"server\": ", date);
    bench_json_string(out, opts->server);
    fputs(",\n  \"queries_file\": ", out);
    bench_json_string(out, opts->queries);
    fputs(",\n  \"mapping\": ", out);
    if (opts->mapping != NULL)
        bench_json_string(out, opts->mapping);
    else
        fputs("null", out);
    fputs(",\n  \"truth\": ", out);
    bench_json_string(out, opts->truth);
    fprintf(out,
            ",\n  \"max_candidates\": %u,\n  \"rounds\": %u,\n"
            "  \"warmup\": %u,\n  \"queries\": %zu,\n"
            "  \"rows_skipped\": %llu,\n",
            opts->max_candidates, opts->rounds, opts->warmup, qs->count,
            (unsigned long long)qs->rows_rejected);

    fprintf(out,
            "  \"accuracy\": {\n    \"scored\": %llu,\n"
            "    \"no_truth\": %llu,\n    \"hit_at_1\": %.6f,\n"
            "    \"hit_at_k\": %.6f,\n    \"k\": %u,\n    \"mrr\": %.6f,\n"
            "    \"no_candidate\": %llu,\n",
            (unsigned long long)a->scored, (unsigned long long)a->no_truth,
            bench_share(a->hit_at_1, a->scored),
            bench_share(a->hit_at_k, a->scored), opts->max_candidates,
            a->scored > 0 ? a->reciprocal_rank_sum / (double)a->scored : 0.0,
            (unsigned long long)a->no_candidate);
    json_verdicts(out, "verdict_at_1", a->verdict_at_1);
    fputs(",\n", out);
    json_verdicts(out, "verdict_at_1_right", a->verdict_at_1_right);
    fputs(",\n", out);
    json_verdicts(out, "verdict_at_1_wrong", a->verdict_at_1_wrong);
    fputs("\n  },\n  \"latency\": {\n", out);

    json_latency(out, "resolve", resolve, run->resolve.failed);
    fputs(",\n", out);
    json_latency(out, "health", health, run->health.failed);
    fprintf(out,
            ",\n    \"resolve_p50_over_health_p50\": %.4f,\n"
            "    \"resolve_invalid_argument\": %llu,\n"
            "    \"health_not_serving\": %llu,\n"
            "    \"warmup_failed\": %llu\n  }\n}\n",
            health->p50_us > 0 ? resolve->p50_us / health->p50_us : 0.0,
            (unsigned long long)run->resolve_invalid,
            (unsigned long long)run->health_not_serving,
            (unsigned long long)run->warmup_failed);
}

static bool json_save(const char *path, const bench_options_t *opts,
                      const bench_queries_t *qs, const bench_run_t *run,
                      const bench_latency_t *resolve,
                      const bench_latency_t *health)
{
    FILE *out = bench_json_open("resolve_bench", path);
    if (out == NULL)
        return false;
    json_write(out, opts, qs, run, resolve, health);
    return bench_json_close("resolve_bench", out, path);
}

/* ---- main ------------------------------------------------------------------
 */

/*
 * Exit codes: 0 when every measured call succeeded, 1 when the queries
 * cannot be read, the server cannot be reached or any call failed, 2 on
 * a usage error.
 */
int main(int argc, char **argv)
{
    bench_options_t opts;
    int rc = parse_options(argc, argv, &opts);
    if (rc >= 0)
        return rc;

    bench_truth_rule_t rule;
    if (!bench_truth_rule_init("resolve_bench", &rule, opts.truth))
        return 2;
    mapping_t *mapping = NULL;
    bench_queries_t qs = {0};
    bench_run_t run = {0};
    ecif_client_t *client = NULL;
    int exit_code = 1;

    if (!bench_load_mapping("resolve_bench", opts.mapping, &mapping) ||
        !queries_load(&opts, mapping, &rule, &qs))
        goto out;
    if (qs.count == 0) {
        fprintf(stderr, "resolve_bench: %s contains no query records\n",
                opts.queries);
        goto out;
    }

    char err[256];
    if (ecif_client_create(opts.server, &client, err, sizeof(err)) != ECIF_OK) {
        fprintf(stderr, "resolve_bench: cannot create a client for '%s': %s\n",
                opts.server, err);
        goto out;
    }
    if (opts.misses != NULL) {
        run.accuracy.misses = fopen(opts.misses, "w");
        if (run.accuracy.misses == NULL) {
            fprintf(stderr, "resolve_bench: cannot write --misses '%s': %s\n",
                    opts.misses, strerror(errno));
            goto out;
        }
    }
    if (!bench_execute(client, &opts, &qs, &run))
        goto out;

    bench_latency_t resolve =
        bench_latency_summarize(run.resolve.ns, run.resolve.count);
    bench_latency_t health =
        bench_latency_summarize(run.health.ns, run.health.count);
    print_summary(&opts, &qs, &run, &resolve, &health);
    bool saved = opts.json == NULL ||
                 json_save(opts.json, &opts, &qs, &run, &resolve, &health);
    bool all_ok = run.resolve.failed == 0 && run.health.failed == 0 &&
                  run.health_not_serving == 0;
    exit_code = saved && all_ok ? 0 : 1;

out:
    if (run.accuracy.misses != NULL && fclose(run.accuracy.misses) != 0) {
        fprintf(stderr, "resolve_bench: writing '%s' failed: %s\n", opts.misses,
                strerror(errno));
        exit_code = 1;
    }
    ecif_client_destroy(client);
    free(run.resolve.ns);
    free(run.health.ns);
    queries_fini(&qs);
    mapping_destroy(mapping);
    bench_truth_rule_fini(&rule);
    return exit_code;
}
