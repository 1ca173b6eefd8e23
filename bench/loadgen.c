/*
 * loadgen: latency percentiles and throughput of ecifd under load.
 *
 * The requests are built once before the first call: every record of the
 * query file becomes a packed ResolveRequest and a packed
 * GetExposureRequest{record}, without its source_system and source_id,
 * held in a grpc_slice that every call of that query shares by reference.
 * Health/Check sends an empty HealthCheckRequest.
 *
 * Calls go through the gRPC C core async API. Each worker thread owns a
 * channel (with its own subchannel pool, so its own connection) and a
 * completion queue that it polls with grpc_completion_queue_next. A call
 * is one batch of six operations, and its completion ends the call.
 *
 * Closed loop: a worker starts its share of --concurrency calls, and each
 * completion starts the next, until the run ends.
 * Open loop: one scheduler thread starts calls at the fixed times
 * start + k / rate, round robin over the workers' queues, and sleeps with
 * clock_nanosleep in between. A call's latency runs from its intended
 * send time, not from when the scheduler got to it, so a client or server
 * that falls behind shows up in the percentiles instead of slowing the
 * arrivals (coordinated omission). Sends that start more than
 * LOADGEN_LATE_NS after their intended time are counted as late.
 *
 * A run is --warmup seconds of unmeasured calls, then --duration seconds
 * whose calls are measured: a call counts when its intended send time is
 * in that window. Calls in flight at the end get up to --deadline-ms to
 * finish, so every run is bounded.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <grpc/byte_buffer.h>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/support/alloc.h>
#include <grpc/support/time.h>

#include "bench_common.h"
#include "client.h"
#include "ecif/v1/customer_index.pb-c.h"
#include "grpc/health/v1/health.pb-c.h"
#include "hdr.h"
#include "mapping.h"
#include "source.h"
#include "status.h"
#include "tls.h"

#define LOADGEN_DEFAULT_CONCURRENCY 16
#define LOADGEN_DEFAULT_RATE        1000.0
#define LOADGEN_DEFAULT_DURATION    10.0
#define LOADGEN_DEFAULT_WARMUP      2.0
#define LOADGEN_DEFAULT_DEADLINE_MS 5000
#define LOADGEN_DEFAULT_THREADS     1
#define LOADGEN_MAX_THREADS         64
#define LOADGEN_MAX_CONCURRENCY     100000
#define LOADGEN_MAX_RATE            1000000.0
#define LOADGEN_MAX_SECONDS         86400.0
#define LOADGEN_MAX_SWEEP           64
/* A send this far behind its intended time counts as late. */
#define LOADGEN_LATE_NS 1000000ull
/* How often an idle worker wakes up to see whether its run is over. */
#define LOADGEN_POLL_NS 50000000ll
/* Find-saturation: a step must beat the best throughput by this factor. */
#define LOADGEN_SATURATION_GROWTH       1.05
#define LOADGEN_DEFAULT_MAX_CONCURRENCY 256

/* gRPC status codes are 0 (OK) to 16 (UNAUTHENTICATED). */
#define LOADGEN_STATUS_CODES 17

typedef enum method_id {
    METHOD_RESOLVE,
    METHOD_EXPOSURE,
    METHOD_HEALTH,
    METHOD_COUNT,
} method_id_t;

static const char *const method_names[METHOD_COUNT] = {
    "resolve",
    "exposure",
    "health",
};

static const char *const method_paths[METHOD_COUNT] = {
    "/ecif.v1.CustomerIndex/Resolve",
    "/ecif.v1.CustomerIndex/GetExposure",
    "/grpc.health.v1.Health/Check",
};

static const char *const status_names[LOADGEN_STATUS_CODES] = {
    "OK",
    "CANCELLED",
    "UNKNOWN",
    "INVALID_ARGUMENT",
    "DEADLINE_EXCEEDED",
    "NOT_FOUND",
    "ALREADY_EXISTS",
    "PERMISSION_DENIED",
    "RESOURCE_EXHAUSTED",
    "FAILED_PRECONDITION",
    "ABORTED",
    "OUT_OF_RANGE",
    "UNIMPLEMENTED",
    "INTERNAL",
    "UNAVAILABLE",
    "DATA_LOSS",
    "UNAUTHENTICATED",
};

typedef enum run_mode {
    RUN_CLOSED,
    RUN_OPEN,
} run_mode_t;

typedef struct lg_options {
    const char *server;
    const char *queries;
    const char *mapping;
    const char *json;
    run_mode_t mode;
    uint32_t concurrency;
    double rate;
    double duration_s;
    double warmup_s;
    uint32_t mix[METHOD_COUNT];
    uint32_t deadline_ms;
    uint32_t threads;
    double sweep[LOADGEN_MAX_SWEEP];
    size_t n_sweep;
    bool find_saturation;
    uint32_t max_concurrency;
} lg_options_t;

/* The packed requests, one slice per query and method. */
typedef struct lg_payloads {
    grpc_slice *resolve;
    grpc_slice *exposure;
    size_t count;
    uint64_t rows_rejected;
    grpc_slice health;
} lg_payloads_t;

/* What one thread measured; merged into the run's totals at the end. */
typedef struct lg_stats {
    hdr_histogram_t latency[METHOD_COUNT]; /* calls with status OK */
    uint64_t status[METHOD_COUNT][LOADGEN_STATUS_CODES];
} lg_stats_t;

struct lg_run;

typedef struct lg_worker {
    grpc_channel *channel;
    grpc_completion_queue *cq;
    pthread_t thread;
    struct lg_run *run;
    uint32_t index;
    uint32_t concurrency; /* closed loop: calls this worker keeps in flight */
    atomic_uint_fast64_t in_flight;
    uint64_t rng;
    size_t next_query;
    lg_stats_t stats;
    char first_error[256];
} lg_worker_t;

/* The workers and the channels they own, reused by every run. */
typedef struct lg_client {
    lg_worker_t *workers;
    uint32_t count;
    /* The bearer token of ECIF_TOKEN_FILE, sent with every call when
     * has_token (rpc/ACCESS.md). */
    grpc_metadata authorization;
    bool has_token;
} lg_client_t;

/* Parameters and results of one closed- or open-loop run. */
typedef struct lg_run {
    const lg_options_t *opts;
    const lg_payloads_t *payloads;
    lg_client_t *client;
    run_mode_t mode;
    uint32_t concurrency;
    double rate;
    uint64_t start_ns;
    uint64_t measure_ns; /* start of the measured window */
    uint64_t end_ns;
    uint64_t drained_ns; /* when the last call of the run finished */
    atomic_bool sending_done;
    /* Open loop, written by the scheduler thread only. */
    uint64_t sent;
    uint64_t late_sends;
    uint64_t max_send_lag_ns;
    uint64_t last_send_ns; /* actual time of the last measured send */
    lg_stats_t totals;
    char first_error[256];
} lg_run_t;

/* One call in flight; freed by the worker that polls its completion. */
typedef struct lg_call {
    grpc_call *call;
    lg_worker_t *worker;
    method_id_t method;
    uint64_t intended_ns;
    grpc_metadata_array initial_metadata;
    grpc_metadata_array trailing_metadata;
    grpc_byte_buffer *request;
    grpc_byte_buffer *response;
    grpc_status_code status;
    grpc_slice details;
    const char *error_string;
} lg_call_t;

static uint64_t seconds_to_ns(double seconds)
{
    return (uint64_t)llround(seconds * 1e9);
}

/* ---- Options ----------------------------------------------------------- */

static void lg_usage(FILE *out)
{
    fprintf(
        out,
        "usage: loadgen --server HOST:PORT --queries FILE [OPTIONS]\n"
        "\n"
        "Sends Resolve, GetExposure and Health/Check calls to ecifd and\n"
        "reports latency percentiles, throughput and errors by status.\n"
        "\n"
        "  --server HOST:PORT     address of ecifd (required)\n"
        "  --queries FILE         query records, CSV or JSONL (required)\n"
        "  --mapping FILE         column mapping of FILE (default: the\n"
        "                         canonical layout)\n"
        "  --mode closed|open     closed: a fixed number of calls in\n"
        "                         flight; open: calls at a fixed arrival\n"
        "                         rate (default closed)\n"
        "  --concurrency C        closed loop: calls in flight (default "
        "%d)\n"
        "  --rate R               open loop: calls per second (default "
        "%g)\n"
        "  --duration S           measured seconds per run (default %g)\n"
        "  --warmup S             unmeasured seconds before each run\n"
        "                         (default %g)\n"
        "  --mix M                weights of the methods, such as\n"
        "                         resolve=70,exposure=20,health=10\n"
        "                         (the default)\n"
        "  --deadline-ms D        deadline of each call in milliseconds\n"
        "                         (default %d)\n"
        "  --threads T            worker threads, each with its own\n"
        "                         channel and completion queue (default "
        "%d)\n"
        "  --json OUT             write every figure to OUT as JSON\n"
        "  --sweep R1,R2,...      open loop at each rate in turn\n"
        "  --find-saturation      closed loop at concurrency 1, 2, 4, ...\n"
        "                         until throughput grows by less than 5%%,\n"
        "                         then open loop at half the best\n"
        "                         throughput\n"
        "  --max-concurrency C    highest concurrency --find-saturation\n"
        "                         tries (default %d)\n"
        "  --help                 show this text\n",
        LOADGEN_DEFAULT_CONCURRENCY, LOADGEN_DEFAULT_RATE,
        LOADGEN_DEFAULT_DURATION, LOADGEN_DEFAULT_WARMUP,
        LOADGEN_DEFAULT_DEADLINE_MS, LOADGEN_DEFAULT_THREADS,
        LOADGEN_DEFAULT_MAX_CONCURRENCY);
}

static bool parse_positive(const char *option, const char *text, double max,
                           bool zero_ok, double *out)
{
    char *end = NULL;
    errno = 0;
    double v = strtod(text, &end);
    if (text[0] == '\0' || *end != '\0' || errno != 0 || !isfinite(v) ||
        v < 0 || (v == 0 && !zero_ok) || v > max) {
        fprintf(stderr, "loadgen: invalid %s '%s': expected a number %s %g\n",
                option, text, zero_ok ? "from 0 to" : "above 0 and at most",
                max);
        return false;
    }
    *out = v;
    return true;
}

/* Parses "resolve=70,exposure=20,health=10"; a method left out gets 0. */
static bool parse_mix(const char *text, uint32_t mix[METHOD_COUNT])
{
    uint32_t parsed[METHOD_COUNT] = {0};
    uint64_t sum = 0;
    char *copy = strdup(text);
    if (copy == NULL)
        return false;

    bool ok = true;
    char *save = NULL;
    for (char *item = strtok_r(copy, ",", &save); item != NULL && ok;
         item = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(item, '=');
        int method = -1;
        if (eq != NULL) {
            *eq = '\0';
            for (int m = 0; m < METHOD_COUNT; m++) {
                if (strcmp(item, method_names[m]) == 0)
                    method = m;
            }
        }
        if (method < 0) {
            fprintf(stderr,
                    "loadgen: invalid --mix item '%s': expected "
                    "resolve=N, exposure=N or health=N\n",
                    item);
            ok = false;
            break;
        }
        ok = bench_parse_u32("loadgen", "--mix weight", eq + 1, 0, 1000000,
                             &parsed[method]);
        sum += parsed[method];
    }
    free(copy);
    if (ok && sum == 0) {
        fprintf(stderr, "loadgen: invalid --mix '%s': the weights sum to 0\n",
                text);
        ok = false;
    }
    if (ok)
        memcpy(mix, parsed, sizeof(parsed));
    return ok;
}

static bool parse_sweep(const char *text, lg_options_t *opts)
{
    char *copy = strdup(text);
    if (copy == NULL)
        return false;
    bool ok = true;
    opts->n_sweep = 0;
    char *save = NULL;
    for (char *item = strtok_r(copy, ",", &save); item != NULL && ok;
         item = strtok_r(NULL, ",", &save)) {
        if (opts->n_sweep == LOADGEN_MAX_SWEEP) {
            fprintf(stderr, "loadgen: --sweep has more than %d rates\n",
                    LOADGEN_MAX_SWEEP);
            ok = false;
            break;
        }
        ok = parse_positive("--sweep rate", item, LOADGEN_MAX_RATE, false,
                            &opts->sweep[opts->n_sweep++]);
    }
    free(copy);
    if (ok && opts->n_sweep == 0) {
        fprintf(stderr, "loadgen: --sweep '%s' has no rate\n", text);
        ok = false;
    }
    return ok;
}

static bool parse_mode(const char *text, run_mode_t *out)
{
    if (strcmp(text, "closed") == 0) {
        *out = RUN_CLOSED;
        return true;
    }
    if (strcmp(text, "open") == 0) {
        *out = RUN_OPEN;
        return true;
    }
    fprintf(stderr, "loadgen: invalid --mode '%s': expected closed or open\n",
            text);
    return false;
}

static void options_set_defaults(lg_options_t *opts)
{
    memset(opts, 0, sizeof(*opts));
    opts->mode = RUN_CLOSED;
    opts->concurrency = LOADGEN_DEFAULT_CONCURRENCY;
    opts->rate = LOADGEN_DEFAULT_RATE;
    opts->duration_s = LOADGEN_DEFAULT_DURATION;
    opts->warmup_s = LOADGEN_DEFAULT_WARMUP;
    opts->mix[METHOD_RESOLVE] = 70;
    opts->mix[METHOD_EXPOSURE] = 20;
    opts->mix[METHOD_HEALTH] = 10;
    opts->deadline_ms = LOADGEN_DEFAULT_DEADLINE_MS;
    opts->threads = LOADGEN_DEFAULT_THREADS;
    opts->max_concurrency = LOADGEN_DEFAULT_MAX_CONCURRENCY;
}

/* Returns -1 to go on, or the exit code: 0 after --help, 2 on a usage error. */
static int parse_options(int argc, char **argv, lg_options_t *opts)
{
    enum {
        OPT_SERVER = 256,
        OPT_QUERIES,
        OPT_MAPPING,
        OPT_MODE,
        OPT_CONCURRENCY,
        OPT_RATE,
        OPT_DURATION,
        OPT_WARMUP,
        OPT_MIX,
        OPT_DEADLINE_MS,
        OPT_THREADS,
        OPT_JSON,
        OPT_SWEEP,
        OPT_FIND_SATURATION,
        OPT_MAX_CONCURRENCY,
        OPT_HELP,
    };
    static const struct option longopts[] = {
        {"server", required_argument, NULL, OPT_SERVER},
        {"queries", required_argument, NULL, OPT_QUERIES},
        {"mapping", required_argument, NULL, OPT_MAPPING},
        {"mode", required_argument, NULL, OPT_MODE},
        {"concurrency", required_argument, NULL, OPT_CONCURRENCY},
        {"rate", required_argument, NULL, OPT_RATE},
        {"duration", required_argument, NULL, OPT_DURATION},
        {"warmup", required_argument, NULL, OPT_WARMUP},
        {"mix", required_argument, NULL, OPT_MIX},
        {"deadline-ms", required_argument, NULL, OPT_DEADLINE_MS},
        {"threads", required_argument, NULL, OPT_THREADS},
        {"json", required_argument, NULL, OPT_JSON},
        {"sweep", required_argument, NULL, OPT_SWEEP},
        {"find-saturation", no_argument, NULL, OPT_FIND_SATURATION},
        {"max-concurrency", required_argument, NULL, OPT_MAX_CONCURRENCY},
        {"help", no_argument, NULL, OPT_HELP},
        {NULL, 0, NULL, 0},
    };

    options_set_defaults(opts);
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
        case OPT_MODE:
            ok = parse_mode(optarg, &opts->mode);
            break;
        case OPT_CONCURRENCY:
            ok = bench_parse_u32("loadgen", "--concurrency", optarg, 1,
                                 LOADGEN_MAX_CONCURRENCY, &opts->concurrency);
            break;
        case OPT_RATE:
            ok = parse_positive("--rate", optarg, LOADGEN_MAX_RATE, false,
                                &opts->rate);
            break;
        case OPT_DURATION:
            ok = parse_positive("--duration", optarg, LOADGEN_MAX_SECONDS,
                                false, &opts->duration_s);
            break;
        case OPT_WARMUP:
            ok = parse_positive("--warmup", optarg, LOADGEN_MAX_SECONDS, true,
                                &opts->warmup_s);
            break;
        case OPT_MIX:
            ok = parse_mix(optarg, opts->mix);
            break;
        case OPT_DEADLINE_MS:
            ok = bench_parse_u32("loadgen", "--deadline-ms", optarg, 1,
                                 60 * 1000, &opts->deadline_ms);
            break;
        case OPT_THREADS:
            ok = bench_parse_u32("loadgen", "--threads", optarg, 1,
                                 LOADGEN_MAX_THREADS, &opts->threads);
            break;
        case OPT_JSON:
            opts->json = optarg;
            break;
        case OPT_SWEEP:
            ok = parse_sweep(optarg, opts);
            break;
        case OPT_FIND_SATURATION:
            opts->find_saturation = true;
            break;
        case OPT_MAX_CONCURRENCY:
            ok = bench_parse_u32("loadgen", "--max-concurrency", optarg, 1,
                                 LOADGEN_MAX_CONCURRENCY,
                                 &opts->max_concurrency);
            break;
        case OPT_HELP:
            lg_usage(stdout);
            return 0;
        default:
            ok = false;
            break;
        }
        if (!ok) {
            lg_usage(stderr);
            return 2;
        }
    }
    if (optind != argc) {
        fprintf(stderr, "loadgen: unexpected argument '%s'\n", argv[optind]);
        lg_usage(stderr);
        return 2;
    }
    if (opts->server == NULL || opts->queries == NULL) {
        fprintf(stderr, "loadgen: --server and --queries are required\n");
        lg_usage(stderr);
        return 2;
    }
    if (opts->n_sweep > 0 && opts->find_saturation) {
        fprintf(stderr,
                "loadgen: --sweep and --find-saturation are exclusive\n");
        return 2;
    }
    return -1;
}

/* ---- Payloads ---------------------------------------------------------- */

/* Packs msg into a new slice that owns its bytes. */
static grpc_slice pack_slice(const ProtobufCMessage *msg)
{
    size_t len = protobuf_c_message_get_packed_size(msg);
    grpc_slice slice = grpc_slice_malloc(len);
    protobuf_c_message_pack(msg, GRPC_SLICE_START_PTR(slice));
    return slice;
}

static bool payloads_append(lg_payloads_t *p, size_t *cap,
                            const ecif_record_t *rec)
{
    if (p->count == *cap) {
        size_t new_cap = *cap ? *cap * 2 : 1024;
        grpc_slice *resolve = realloc(p->resolve, new_cap * sizeof(*resolve));
        if (resolve == NULL)
            return false;
        p->resolve = resolve;
        grpc_slice *exposure =
            realloc(p->exposure, new_cap * sizeof(*exposure));
        if (exposure == NULL)
            return false;
        p->exposure = exposure;
        *cap = new_cap;
    }

    Ecif__V1__Record record;
    bench_record_message_init(&record, rec);
    Ecif__V1__ResolveRequest resolve = ECIF__V1__RESOLVE_REQUEST__INIT;
    resolve.record = &record;
    Ecif__V1__GetExposureRequest exposure =
        ECIF__V1__GET_EXPOSURE_REQUEST__INIT;
    exposure.target_case = ECIF__V1__GET_EXPOSURE_REQUEST__TARGET_RECORD;
    exposure.record = &record;

    p->resolve[p->count] = pack_slice(&resolve.base);
    p->exposure[p->count] = pack_slice(&exposure.base);
    p->count++;
    return true;
}

static void payloads_fini(lg_payloads_t *p)
{
    for (size_t i = 0; i < p->count; i++) {
        grpc_slice_unref(p->resolve[i]);
        grpc_slice_unref(p->exposure[i]);
    }
    free(p->resolve);
    free(p->exposure);
    grpc_slice_unref(p->health);
}

/* State of payloads_load while the shared reader calls payloads_add. */
typedef struct payloads_loader {
    lg_payloads_t *payloads;
    size_t cap;
} payloads_loader_t;

static bool payloads_add(void *arg, const source_row_t *row)
{
    payloads_loader_t *loader = arg;
    if (payloads_append(loader->payloads, &loader->cap, &row->record))
        return true;
    fprintf(stderr, "loadgen: out of memory at query %zu\n",
            loader->payloads->count + 1);
    return false;
}

/*
 * Reads every row of the query file and packs its requests. A row the
 * reader rejects is reported by line and skipped. Returns false when the
 * file cannot be read or memory runs out.
 */
static bool payloads_load(const lg_options_t *opts, const mapping_t *mapping,
                          lg_payloads_t *p)
{
    Grpc__Health__V1__HealthCheckRequest health =
        GRPC__HEALTH__V1__HEALTH_CHECK_REQUEST__INIT;
    p->health = pack_slice(&health.base);

    payloads_loader_t loader = {.payloads = p};
    return bench_read_queries("loadgen", opts->queries, SOURCE_FORMAT_AUTO,
                              mapping, true, payloads_add, &loader,
                              &p->rows_rejected);
}

/* ---- Calls ------------------------------------------------------------- */

static uint64_t next_random(uint64_t *state)
{
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    return *state;
}

/* Draws a method by the --mix weights. */
static method_id_t pick_method(lg_worker_t *w)
{
    const uint32_t *mix = w->run->opts->mix;
    uint64_t total = 0;
    for (int m = 0; m < METHOD_COUNT; m++)
        total += mix[m];
    uint64_t r = next_random(&w->rng) % total;
    for (int m = 0; m < METHOD_COUNT; m++) {
        if (r < mix[m])
            return (method_id_t)m;
        r -= mix[m];
    }
    return METHOD_HEALTH;
}

static void call_free(lg_call_t *c)
{
    if (c->call != NULL)
        grpc_call_unref(c->call);
    grpc_byte_buffer_destroy(c->request);
    if (c->response != NULL)
        grpc_byte_buffer_destroy(c->response);
    grpc_slice_unref(c->details);
    gpr_free((void *)c->error_string);
    grpc_metadata_array_destroy(&c->initial_metadata);
    grpc_metadata_array_destroy(&c->trailing_metadata);
    free(c);
}

static bool in_window(const lg_run_t *run, uint64_t intended_ns)
{
    return intended_ns >= run->measure_ns && intended_ns < run->end_ns;
}

static void worker_note_error(lg_worker_t *w, const lg_call_t *c)
{
    if (w->first_error[0] != '\0')
        return;
    const char *name = (unsigned)c->status < LOADGEN_STATUS_CODES
                           ? status_names[c->status]
                           : "unknown status";
    snprintf(w->first_error, sizeof(w->first_error), "%s: %s: %.*s",
             method_paths[c->method], name, (int)GRPC_SLICE_LENGTH(c->details),
             (const char *)GRPC_SLICE_START_PTR(c->details));
}

/* Counts a finished call in its worker's figures when it was measured. */
static void call_record(lg_worker_t *w, const lg_call_t *c, uint64_t done_ns)
{
    if (c->status != GRPC_STATUS_OK)
        worker_note_error(w, c);
    if (!in_window(w->run, c->intended_ns))
        return;
    unsigned code = (unsigned)c->status < LOADGEN_STATUS_CODES
                        ? (unsigned)c->status
                        : GRPC_STATUS_UNKNOWN;
    w->stats.status[c->method][code]++;
    if (c->status == GRPC_STATUS_OK)
        hdr_record(&w->stats.latency[c->method], done_ns - c->intended_ns);
}

/*
 * Starts one call on worker w whose latency counts from intended_ns. The
 * completion arrives on w->cq with the call as its tag. Returns false when
 * the call cannot start; it is then counted as INTERNAL and freed.
 */
static bool call_start(lg_worker_t *w, uint64_t intended_ns)
{
    lg_call_t *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return false;
    const lg_payloads_t *p = w->run->payloads;
    c->worker = w;
    c->method = pick_method(w);
    c->intended_ns = intended_ns;
    grpc_metadata_array_init(&c->initial_metadata);
    grpc_metadata_array_init(&c->trailing_metadata);
    c->details = grpc_empty_slice();

    grpc_slice payload = p->health;
    if (c->method != METHOD_HEALTH) {
        size_t q = w->next_query++ % p->count;
        payload = c->method == METHOD_RESOLVE ? p->resolve[q] : p->exposure[q];
    }
    /* The byte buffer takes its own reference; the bytes are not copied. */
    c->request = grpc_raw_byte_buffer_create(&payload, 1);

    gpr_timespec deadline = gpr_time_add(
        gpr_now(GPR_CLOCK_MONOTONIC),
        gpr_time_from_millis(w->run->opts->deadline_ms, GPR_TIMESPAN));
    c->call = grpc_channel_create_call(
        w->channel, NULL, GRPC_PROPAGATE_DEFAULTS, w->cq,
        grpc_slice_from_static_string(method_paths[c->method]), NULL, deadline,
        NULL);

    grpc_op ops[6];
    memset(ops, 0, sizeof(ops));
    ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
    if (w->run->client->has_token) {
        ops[0].data.send_initial_metadata.count = 1;
        ops[0].data.send_initial_metadata.metadata =
            &w->run->client->authorization;
    }
    ops[1].op = GRPC_OP_SEND_MESSAGE;
    ops[1].data.send_message.send_message = c->request;
    ops[2].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
    ops[3].op = GRPC_OP_RECV_INITIAL_METADATA;
    ops[3].data.recv_initial_metadata.recv_initial_metadata =
        &c->initial_metadata;
    ops[4].op = GRPC_OP_RECV_MESSAGE;
    ops[4].data.recv_message.recv_message = &c->response;
    ops[5].op = GRPC_OP_RECV_STATUS_ON_CLIENT;
    ops[5].data.recv_status_on_client.trailing_metadata = &c->trailing_metadata;
    ops[5].data.recv_status_on_client.status = &c->status;
    ops[5].data.recv_status_on_client.status_details = &c->details;
    ops[5].data.recv_status_on_client.error_string = &c->error_string;

    atomic_fetch_add(&w->in_flight, 1);
    grpc_call_error rc = grpc_call_start_batch(c->call, ops, 6, c, NULL);
    if (rc != GRPC_CALL_OK) {
        atomic_fetch_sub(&w->in_flight, 1);
        c->status = GRPC_STATUS_INTERNAL;
        grpc_slice_unref(c->details);
        c->details =
            grpc_slice_from_copied_string(grpc_call_error_to_string(rc));
        call_record(w, c, bench_now_ns());
        call_free(c);
        return false;
    }
    return true;
}

/* ---- Workers ----------------------------------------------------------- */

/* Whether w has nothing more to do in its run. */
static bool worker_finished(lg_worker_t *w, uint64_t now)
{
    if (atomic_load(&w->in_flight) > 0)
        return false;
    if (w->run->mode == RUN_CLOSED)
        return now >= w->run->end_ns || w->concurrency == 0;
    return atomic_load(&w->run->sending_done);
}

/*
 * Polls w->cq until the run is over and no call of w is in flight. In a
 * closed loop each completion before the end starts the next call.
 */
static void *worker_main(void *arg)
{
    lg_worker_t *w = arg;
    lg_run_t *run = w->run;

    if (run->mode == RUN_CLOSED) {
        uint64_t now = bench_now_ns();
        for (uint32_t i = 0; i < w->concurrency; i++)
            call_start(w, now);
    }

    for (;;) {
        gpr_timespec wake =
            gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC),
                         gpr_time_from_nanos(LOADGEN_POLL_NS, GPR_TIMESPAN));
        grpc_event ev = grpc_completion_queue_next(w->cq, wake, NULL);
        uint64_t now = bench_now_ns();
        if (ev.type == GRPC_OP_COMPLETE) {
            lg_call_t *c = ev.tag;
            if (!ev.success) {
                c->status = GRPC_STATUS_INTERNAL;
            }
            call_record(w, c, now);
            call_free(c);
            atomic_fetch_sub(&w->in_flight, 1);
            if (run->mode == RUN_CLOSED && now < run->end_ns)
                call_start(w, now);
        }
        if (worker_finished(w, now))
            break;
    }
    return NULL;
}

/* Sleeps until the monotonic time t_ns. */
static void sleep_until(uint64_t t_ns)
{
    struct timespec ts = {
        .tv_sec = (time_t)(t_ns / 1000000000ull),
        .tv_nsec = (long)(t_ns % 1000000000ull),
    };
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
        ;
}

/*
 * Starts the open loop's calls at start + k / rate for k = 0, 1, ... until
 * the end of the run. When the scheduler is behind it starts the overdue
 * calls at once: their latency still counts from the intended time.
 */
static void *scheduler_main(void *arg)
{
    lg_run_t *run = arg;
    lg_client_t *client = run->client;
    double interval_ns = 1e9 / run->rate;

    for (uint64_t k = 0;; k++) {
        uint64_t intended =
            run->start_ns + (uint64_t)llround((double)k * interval_ns);
        if (intended >= run->end_ns)
            break;
        uint64_t now = bench_now_ns();
        if (now < intended) {
            sleep_until(intended);
            now = bench_now_ns();
        }
        lg_worker_t *w = &client->workers[k % client->count];
        call_start(w, intended);

        if (in_window(run, intended)) {
            uint64_t lag = now - intended;
            run->sent++;
            if (lag > LOADGEN_LATE_NS)
                run->late_sends++;
            if (lag > run->max_send_lag_ns)
                run->max_send_lag_ns = lag;
            run->last_send_ns = now;
        }
    }
    atomic_store(&run->sending_done, true);
    return NULL;
}

/* ---- Runs -------------------------------------------------------------- */

static bool client_init(lg_client_t *client, const lg_options_t *opts)
{
    char err[512];
    if (ecif_client_token_metadata(&client->authorization, &client->has_token,
                                   err, sizeof(err)) != ECIF_OK) {
        fprintf(stderr, "loadgen: %s\n", err);
        return false;
    }
    client->count = opts->threads;
    client->workers = calloc(client->count, sizeof(*client->workers));
    if (client->workers == NULL) {
        fprintf(stderr, "loadgen: out of memory\n");
        if (client->has_token)
            grpc_slice_unref(client->authorization.value);
        return false;
    }

    /*
     * A local subchannel pool gives each channel its own connection, so
     * the workers do not share one HTTP/2 transport. The server's limit
     * governs response sizes, so -1 lifts the client's.
     */
    grpc_arg args[2] = {
        {.type = GRPC_ARG_INTEGER,
         .key = GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL,
         .value.integer = 1},
        {.type = GRPC_ARG_INTEGER,
         .key = GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH,
         .value.integer = -1},
    };
    grpc_channel_args channel_args = {.num_args = 2, .args = args};
    ecif_tls_client_t security;
    if (ecif_tls_client_from_env(&security, err, sizeof(err)) != ECIF_OK) {
        fprintf(stderr, "loadgen: %s\n", err);
        free(client->workers);
        client->workers = NULL;
        client->count = 0;
        if (client->has_token)
            grpc_slice_unref(client->authorization.value);
        return false;
    }
    bool ok = true;
    for (uint32_t i = 0; i < client->count; i++) {
        lg_worker_t *w = &client->workers[i];
        w->index = i;
        w->channel =
            ecif_tls_channel_create(&security, opts->server, &channel_args);
        w->cq = grpc_completion_queue_create_for_next(NULL);
        if (w->channel == NULL)
            ok = false;
    }
    grpc_channel_credentials_release(security.credentials);
    if (!ok)
        fprintf(stderr, "loadgen: out of memory creating channels\n");
    return ok;
}

static void client_fini(lg_client_t *client)
{
    for (uint32_t i = 0; i < client->count; i++) {
        lg_worker_t *w = &client->workers[i];
        if (w->channel != NULL)
            grpc_channel_destroy(w->channel);
        grpc_completion_queue_shutdown(w->cq);
        while (grpc_completion_queue_next(
                   w->cq, gpr_inf_future(GPR_CLOCK_REALTIME), NULL)
                   .type != GRPC_QUEUE_SHUTDOWN)
            ;
        grpc_completion_queue_destroy(w->cq);
    }
    free(client->workers);
    if (client->has_token)
        grpc_slice_unref(client->authorization.value);
}

static void stats_init(lg_stats_t *s)
{
    for (int m = 0; m < METHOD_COUNT; m++)
        hdr_init(&s->latency[m]);
    memset(s->status, 0, sizeof(s->status));
}

static void stats_merge(lg_stats_t *dst, const lg_stats_t *src)
{
    for (int m = 0; m < METHOD_COUNT; m++) {
        hdr_merge(&dst->latency[m], &src->latency[m]);
        for (int s = 0; s < LOADGEN_STATUS_CODES; s++)
            dst->status[m][s] += src->status[m][s];
    }
}

/*
 * Runs one closed loop at concurrency, or one open loop at rate, and
 * merges the workers' figures into run->totals. Returns false when a
 * thread cannot start.
 */
static bool run_execute(lg_run_t *run)
{
    lg_client_t *client = run->client;
    stats_init(&run->totals);
    atomic_store(&run->sending_done, false);

    run->start_ns = bench_now_ns();
    run->measure_ns = run->start_ns + seconds_to_ns(run->opts->warmup_s);
    run->end_ns = run->measure_ns + seconds_to_ns(run->opts->duration_s);

    uint32_t started = 0;
    bool ok = true;
    for (uint32_t i = 0; i < client->count; i++) {
        lg_worker_t *w = &client->workers[i];
        w->run = run;
        w->concurrency = run->concurrency / client->count +
                         (i < run->concurrency % client->count ? 1 : 0);
        w->rng = 0x9e3779b97f4a7c15ull * (i + 1);
        w->first_error[0] = '\0';
        stats_init(&w->stats);
        atomic_store(&w->in_flight, 0);
    }
    /* Workers sharing the same query file start at spread-out queries. */
    for (uint32_t i = 0; i < client->count; i++)
        client->workers[i].next_query =
            run->payloads->count * i / client->count;

    for (; started < client->count; started++) {
        lg_worker_t *w = &client->workers[started];
        if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
            fprintf(stderr, "loadgen: cannot start worker thread %u\n",
                    started);
            ok = false;
            break;
        }
    }

    pthread_t scheduler;
    bool scheduling = false;
    if (ok && run->mode == RUN_OPEN) {
        scheduling = pthread_create(&scheduler, NULL, scheduler_main, run) == 0;
        if (!scheduling) {
            fprintf(stderr, "loadgen: cannot start the scheduler thread\n");
            ok = false;
        }
    }
    if (!scheduling)
        atomic_store(&run->sending_done, true);
    else
        pthread_join(scheduler, NULL);

    for (uint32_t i = 0; i < started; i++) {
        lg_worker_t *w = &client->workers[i];
        pthread_join(w->thread, NULL);
        stats_merge(&run->totals, &w->stats);
        if (run->first_error[0] == '\0' && w->first_error[0] != '\0')
            memcpy(run->first_error, w->first_error, sizeof(w->first_error));
    }
    run->drained_ns = bench_now_ns();
    return ok;
}

/* ---- Reports ----------------------------------------------------------- */

/* Figures of one run, derived from its totals. */
typedef struct run_summary {
    hdr_histogram_t all; /* latency of every OK call */
    uint64_t calls[METHOD_COUNT];
    uint64_t errors[METHOD_COUNT];
    uint64_t status[LOADGEN_STATUS_CODES];
    uint64_t total_calls;
    uint64_t total_errors;
    double window_s;
    double completion_s; /* window start to the last completion */
    double throughput;   /* completed calls per second */
    double ok_throughput;
    double achieved_rate; /* open loop: measured sends per second */
} run_summary_t;

static void summarize(const lg_run_t *run, run_summary_t *s)
{
    memset(s, 0, sizeof(*s));
    hdr_init(&s->all);
    for (int m = 0; m < METHOD_COUNT; m++) {
        hdr_merge(&s->all, &run->totals.latency[m]);
        for (int code = 0; code < LOADGEN_STATUS_CODES; code++) {
            uint64_t n = run->totals.status[m][code];
            s->calls[m] += n;
            s->status[code] += n;
            if (code != GRPC_STATUS_OK)
                s->errors[m] += n;
        }
        s->total_calls += s->calls[m];
        s->total_errors += s->errors[m];
    }
    /*
     * The calls of the window may finish after it ends, and an open loop
     * that falls behind sends after it ends, so both rates divide by the
     * span that was really needed.
     */
    uint64_t end = run->end_ns;
    s->window_s = (double)(end - run->measure_ns) / 1e9;
    uint64_t completion_end = run->drained_ns > end ? run->drained_ns : end;
    s->completion_s = (double)(completion_end - run->measure_ns) / 1e9;
    s->throughput = (double)s->total_calls / s->completion_s;
    s->ok_throughput =
        (double)(s->total_calls - s->total_errors) / s->completion_s;
    uint64_t send_end = run->last_send_ns > end ? run->last_send_ns : end;
    s->achieved_rate =
        (double)run->sent / ((double)(send_end - run->measure_ns) / 1e9);
}

static double us_at(const hdr_histogram_t *h, double percentile)
{
    return (double)hdr_value_at_percentile(h, percentile) / 1000.0;
}

static void print_latency_row(const char *name, uint64_t calls, uint64_t errors,
                              const hdr_histogram_t *h)
{
    printf("  %-9s %9llu %7llu %9.1f %9.1f %9.1f %9.1f %10.1f\n", name,
           (unsigned long long)calls, (unsigned long long)errors, us_at(h, 50),
           us_at(h, 90), us_at(h, 99), us_at(h, 99.9), us_at(h, 100));
}

static void print_run(const lg_run_t *run, const run_summary_t *s)
{
    const lg_options_t *opts = run->opts;
    if (run->mode == RUN_CLOSED)
        printf("closed loop, concurrency %u", run->concurrency);
    else
        printf("open loop, rate %g/s", run->rate);
    printf(", %g s measured after %g s warm-up, %u thread(s)\n",
           opts->duration_s, opts->warmup_s, run->client->count);

    if (run->mode == RUN_OPEN)
        printf("  sent %llu (%.1f/s), late sends %llu (max send lag "
               "%.3f ms)\n",
               (unsigned long long)run->sent, s->achieved_rate,
               (unsigned long long)run->late_sends,
               (double)run->max_send_lag_ns / 1e6);
    printf("  completed %llu (%.1f/s), errors %llu\n",
           (unsigned long long)s->total_calls, s->throughput,
           (unsigned long long)s->total_errors);
    printf("  %-9s %9s %7s %9s %9s %9s %9s %10s\n", "method", "calls", "errors",
           "p50 us", "p90 us", "p99 us", "p99.9 us", "max us");
    for (int m = 0; m < METHOD_COUNT; m++) {
        if (opts->mix[m] > 0)
            print_latency_row(method_names[m], s->calls[m], s->errors[m],
                              &run->totals.latency[m]);
    }
    print_latency_row("all", s->total_calls, s->total_errors, &s->all);

    for (int code = 1; code < LOADGEN_STATUS_CODES; code++) {
        if (s->status[code] > 0)
            printf("  status %s: %llu\n", status_names[code],
                   (unsigned long long)s->status[code]);
    }
    if (run->first_error[0] != '\0')
        printf("  first error: %s\n", run->first_error);
    if (run->mode == RUN_OPEN && run->late_sends > 0)
        printf("  WARNING: the client could not keep up: %llu of %llu "
               "sends were more than %.1f ms late; latency still counts "
               "from the intended send time\n",
               (unsigned long long)run->late_sends,
               (unsigned long long)run->sent, LOADGEN_LATE_NS / 1e6);
    if (s->all.above_range > 0)
        printf("  NOTE: %llu latencies exceeded %.0f s and were counted "
               "as %.0f s\n",
               (unsigned long long)s->all.above_range, HDR_HIGHEST_NS / 1e9,
               HDR_HIGHEST_NS / 1e9);
    fflush(stdout);
}

static void json_latency(FILE *out, const hdr_histogram_t *h)
{
    fprintf(out,
            "{\"count\": %llu, \"min\": %.3f, \"p50\": %.3f, "
            "\"p90\": %.3f, \"p99\": %.3f, \"p99_9\": %.3f, "
            "\"max\": %.3f, \"mean\": %.3f, \"below_range\": %llu, "
            "\"above_range\": %llu}",
            (unsigned long long)h->total, h->total ? us_at(h, 0) : 0.0,
            us_at(h, 50), us_at(h, 90), us_at(h, 99), us_at(h, 99.9),
            us_at(h, 100), hdr_mean(h) / 1000.0,
            (unsigned long long)h->below_range,
            (unsigned long long)h->above_range);
}

/* Writes the non-zero error counts as {"NAME": n, ...}. */
static void json_errors(FILE *out, const uint64_t status[LOADGEN_STATUS_CODES])
{
    fputc('{', out);
    const char *sep = "";
    for (int code = 1; code < LOADGEN_STATUS_CODES; code++) {
        if (status[code] == 0)
            continue;
        fprintf(out, "%s\"%s\": %llu", sep, status_names[code],
                (unsigned long long)status[code]);
        sep = ", ";
    }
    fputc('}', out);
}

static void json_run(FILE *out, const lg_run_t *run, const run_summary_t *s)
{
    const lg_options_t *opts = run->opts;
    fprintf(out,
            "    {\n      \"mode\": \"%s\",\n      \"concurrency\": %u,\n"
            "      \"rate\": %.3f,\n      \"warmup_s\": %.3f,\n"
            "      \"duration_s\": %.3f,\n      \"drain_s\": %.3f,\n",
            run->mode == RUN_CLOSED ? "closed" : "open",
            run->mode == RUN_CLOSED ? run->concurrency : 0,
            run->mode == RUN_OPEN ? run->rate : 0.0, opts->warmup_s,
            s->window_s,
            run->drained_ns > run->end_ns
                ? (double)(run->drained_ns - run->end_ns) / 1e9
                : 0.0);
    fprintf(out,
            "      \"calls\": %llu,\n      \"ok\": %llu,\n"
            "      \"errors\": %llu,\n      \"throughput\": %.3f,\n"
            "      \"ok_throughput\": %.3f,\n",
            (unsigned long long)s->total_calls,
            (unsigned long long)(s->total_calls - s->total_errors),
            (unsigned long long)s->total_errors, s->throughput,
            s->ok_throughput);
    fprintf(out,
            "      \"sent\": %llu,\n      \"achieved_rate\": %.3f,\n"
            "      \"late_sends\": %llu,\n      \"late_threshold_ms\": %.3f,\n"
            "      \"max_send_lag_ms\": %.3f,\n",
            (unsigned long long)(run->mode == RUN_OPEN ? run->sent
                                                       : s->total_calls),
            run->mode == RUN_OPEN ? s->achieved_rate : s->throughput,
            (unsigned long long)run->late_sends, LOADGEN_LATE_NS / 1e6,
            (double)run->max_send_lag_ns / 1e6);
    fprintf(out, "      \"errors_by_status\": ");
    json_errors(out, s->status);
    fprintf(out, ",\n      \"latency_us\": ");
    json_latency(out, &s->all);
    fprintf(out, ",\n      \"methods\": {\n");
    for (int m = 0; m < METHOD_COUNT; m++) {
        fprintf(out,
                "        \"%s\": {\"weight\": %u, \"calls\": %llu, "
                "\"errors\": %llu,\n          \"errors_by_status\": ",
                method_names[m], opts->mix[m], (unsigned long long)s->calls[m],
                (unsigned long long)s->errors[m]);
        json_errors(out, run->totals.status[m]);
        fprintf(out, ",\n          \"latency_us\": ");
        json_latency(out, &run->totals.latency[m]);
        fprintf(out, "}%s\n", m + 1 < METHOD_COUNT ? "," : "");
    }
    fprintf(out, "      }\n    }");
}

/* The runs of one invocation, kept for the JSON report. */
typedef struct run_list {
    lg_run_t *items;
    size_t count;
} run_list_t;

/* Result of --find-saturation. */
typedef struct saturation {
    bool found;
    double throughput;
    uint32_t concurrency;
    double open_rate;
} saturation_t;

static void json_write(FILE *out, const lg_options_t *opts,
                       const lg_payloads_t *p, const run_list_t *runs,
                       const saturation_t *sat)
{
    fprintf(out, "{\n  \"tool\": \"loadgen\",\n  \"server\": ");
    bench_json_string(out, opts->server);
    fprintf(out, ",\n  \"queries_file\": ");
    bench_json_string(out, opts->queries);
    fprintf(out,
            ",\n  \"queries\": %zu,\n  \"rows_rejected\": %llu,\n"
            "  \"threads\": %u,\n  \"deadline_ms\": %u,\n  \"mix\": {",
            p->count, (unsigned long long)p->rows_rejected, opts->threads,
            opts->deadline_ms);
    for (int m = 0; m < METHOD_COUNT; m++)
        fprintf(out, "\"%s\": %u%s", method_names[m], opts->mix[m],
                m + 1 < METHOD_COUNT ? ", " : "");
    fprintf(out, "},\n  \"latency_unit\": \"us\",\n");
    if (sat != NULL && sat->found)
        fprintf(out,
                "  \"saturation\": {\"throughput\": %.3f, "
                "\"concurrency\": %u, \"open_loop_rate\": %.3f},\n",
                sat->throughput, sat->concurrency, sat->open_rate);
    fprintf(out, "  \"runs\": [\n");
    for (size_t i = 0; i < runs->count; i++) {
        run_summary_t s;
        summarize(&runs->items[i], &s);
        json_run(out, &runs->items[i], &s);
        fprintf(out, "%s\n", i + 1 < runs->count ? "," : "");
    }
    fprintf(out, "  ]\n}\n");
}

static bool json_save(const char *path, const lg_options_t *opts,
                      const lg_payloads_t *p, const run_list_t *runs,
                      const saturation_t *sat)
{
    FILE *out = bench_json_open("loadgen", path);
    if (out == NULL)
        return false;
    json_write(out, opts, p, runs, sat);
    return bench_json_close("loadgen", out, path);
}

/* ---- Plans ------------------------------------------------------------- */

/* Appends, runs and prints one run. Returns false when it cannot run. */
static bool plan_run(run_list_t *runs, const lg_options_t *opts,
                     const lg_payloads_t *p, lg_client_t *client,
                     run_mode_t mode, uint32_t concurrency, double rate)
{
    lg_run_t *run = &runs->items[runs->count];
    memset(run, 0, sizeof(*run));
    run->opts = opts;
    run->payloads = p;
    run->client = client;
    run->mode = mode;
    run->concurrency = concurrency;
    run->rate = rate;
    if (!run_execute(run))
        return false;
    runs->count++;

    run_summary_t s;
    summarize(run, &s);
    print_run(run, &s);
    return true;
}

/*
 * Doubles the closed-loop concurrency from 1 until a step fails to beat
 * the best throughput of status-OK calls by LOADGEN_SATURATION_GROWTH,
 * then runs an open loop at half the best throughput.
 */
static bool plan_find_saturation(run_list_t *runs, const lg_options_t *opts,
                                 const lg_payloads_t *p, lg_client_t *client,
                                 saturation_t *sat)
{
    memset(sat, 0, sizeof(*sat));
    for (uint32_t c = 1; c <= opts->max_concurrency; c *= 2) {
        if (!plan_run(runs, opts, p, client, RUN_CLOSED, c, 0))
            return false;
        run_summary_t s;
        summarize(&runs->items[runs->count - 1], &s);
        bool grew =
            s.ok_throughput >= sat->throughput * LOADGEN_SATURATION_GROWTH;
        if (s.ok_throughput > sat->throughput) {
            sat->throughput = s.ok_throughput;
            sat->concurrency = c;
        }
        if (!grew)
            break;
        if (c > UINT32_MAX / 2)
            break;
    }
    if (sat->throughput <= 0) {
        fprintf(stderr, "loadgen: no call succeeded, so there is no "
                        "saturation throughput\n");
        return true;
    }
    sat->found = true;
    sat->open_rate = sat->throughput / 2;
    printf("saturation: %.1f calls/s at concurrency %u; open loop at "
           "%.1f/s\n",
           sat->throughput, sat->concurrency, sat->open_rate);
    return plan_run(runs, opts, p, client, RUN_OPEN, 0, sat->open_rate);
}

static size_t plan_max_runs(const lg_options_t *opts)
{
    if (opts->n_sweep > 0)
        return opts->n_sweep;
    if (opts->find_saturation) {
        size_t steps = 1;
        for (uint32_t c = 1; c < opts->max_concurrency; c *= 2)
            steps++;
        return steps + 1;
    }
    return 1;
}

static bool plan_execute(run_list_t *runs, const lg_options_t *opts,
                         const lg_payloads_t *p, lg_client_t *client,
                         saturation_t *sat)
{
    if (opts->find_saturation)
        return plan_find_saturation(runs, opts, p, client, sat);
    if (opts->n_sweep > 0) {
        for (size_t i = 0; i < opts->n_sweep; i++) {
            if (!plan_run(runs, opts, p, client, RUN_OPEN, 0, opts->sweep[i]))
                return false;
        }
        return true;
    }
    return plan_run(runs, opts, p, client, opts->mode, opts->concurrency,
                    opts->rate);
}

static uint64_t runs_errors(const run_list_t *runs)
{
    uint64_t errors = 0;
    for (size_t i = 0; i < runs->count; i++) {
        run_summary_t s;
        summarize(&runs->items[i], &s);
        errors += s.total_errors;
    }
    return errors;
}

/*
 * Exit codes: 0 when every measured call returned OK, 1 when the queries
 * cannot be read, a run cannot start, the JSON cannot be written or any
 * measured call failed, 2 on a usage error.
 */
int main(int argc, char **argv)
{
    lg_options_t opts;
    int rc = parse_options(argc, argv, &opts);
    if (rc >= 0)
        return rc;

    grpc_init();
    mapping_t *mapping = NULL;
    lg_payloads_t payloads = {0};
    lg_client_t client = {0};
    run_list_t runs = {0};
    saturation_t sat = {0};
    int exit_code = 1;

    if (!bench_load_mapping("loadgen", opts.mapping, &mapping) ||
        !payloads_load(&opts, mapping, &payloads))
        goto out;
    if (payloads.count == 0) {
        fprintf(stderr, "loadgen: %s contains no query records\n",
                opts.queries);
        goto out;
    }
    runs.items = calloc(plan_max_runs(&opts), sizeof(*runs.items));
    if (runs.items == NULL) {
        fprintf(stderr, "loadgen: out of memory\n");
        goto out;
    }
    if (!client_init(&client, &opts))
        goto out;
    printf("loadgen: %zu queries from %s, server %s\n", payloads.count,
           opts.queries, opts.server);

    bool ran = plan_execute(&runs, &opts, &payloads, &client, &sat);
    bool saved = opts.json == NULL ||
                 json_save(opts.json, &opts, &payloads, &runs, &sat);
    exit_code = ran && saved && runs_errors(&runs) == 0 ? 0 : 1;

out:
    if (client.workers != NULL)
        client_fini(&client);
    free(runs.items);
    payloads_fini(&payloads);
    mapping_destroy(mapping);
    grpc_shutdown();
    return exit_code;
}
