/*
 * The gRPC server: worker threads, completion queues and the per-call
 * state machine.
 *
 * Every worker thread owns one completion queue, registered with the
 * server, and polls only that queue. A call object is created for every
 * grpc_server_request_call and moves through three states, each ended by
 * one completion on its worker's queue:
 *
 *   REQUESTED -> a client started a call; post a replacement request,
 *                then start a batch receiving the request message.
 *   RECEIVED  -> the message arrived; handle it through the service, then
 *                start one batch with initial metadata, the response
 *                message, the status and RECV_CLOSE_ON_SERVER.
 *   SENT      -> the call is over; free it.
 *
 * A completion with success == 0 in any state means the server is
 * shutting down or the client went away, and frees the call. The call
 * object owns everything of its call (gRPC call, details, metadata,
 * message buffers, status slice) and server_call_free releases all of it.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/support/time.h>

#include "server.h"
#include "status.h"

typedef struct server_worker server_worker_t;

struct ecif_server {
    grpc_server *grpc;
    const ecif_service_t *service;
    ecif_server_options_t opts;
    int port;
    /* Shutdown notification only; never polled for calls. */
    grpc_completion_queue *shutdown_cq;
    server_worker_t *workers;
    uint32_t worker_count;
    uint32_t started_threads;
    atomic_bool stopping;
    /* The callers now in force; ecif_server_set_access replaces it. */
    _Atomic(const ecif_access_t *) access;
    /* Call objects not yet freed: posted request slots and running calls.
     * Once shutdown has failed every slot, only running calls count. */
    atomic_uint live_calls;
    bool started;
    bool stopped;
};

struct server_worker {
    ecif_server_t *server;
    grpc_completion_queue *cq;
    pthread_t thread;
};

typedef enum server_call_state {
    CALL_REQUESTED,
    CALL_RECEIVED,
    CALL_SENT,
} server_call_state_t;

typedef struct server_call {
    server_worker_t *worker;
    server_call_state_t state;
    grpc_call *handle;
    grpc_call_details details;
    grpc_metadata_array request_metadata;
    grpc_byte_buffer *request;
    grpc_byte_buffer *response;
    grpc_slice status_details;
    int cancelled; /* written by RECV_CLOSE_ON_SERVER */
    char message[ECIF_SERVICE_DETAILS_MAX];
} server_call_t;

static void server_log_error(const ecif_server_t *server, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void server_log_error(const ecif_server_t *server, const char *fmt, ...)
{
    if (server->opts.log_error == NULL)
        return;
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    server->opts.log_error(line);
}

void ecif_server_options_default(ecif_server_options_t *opts)
{
    memset(opts, 0, sizeof(*opts));
    opts->max_message_bytes = 1024 * 1024;
    opts->calls_per_thread = 8;
}

/* ---- Calls --------------------------------------------------------------- */

static void server_call_free(server_call_t *call)
{
    atomic_fetch_sub(&call->worker->server->live_calls, 1);
    if (call->handle != NULL)
        grpc_call_unref(call->handle);
    grpc_call_details_destroy(&call->details);
    grpc_metadata_array_destroy(&call->request_metadata);
    if (call->request != NULL)
        grpc_byte_buffer_destroy(call->request);
    if (call->response != NULL)
        grpc_byte_buffer_destroy(call->response);
    grpc_slice_unref(call->status_details);
    free(call);
}

/*
 * Posts one grpc_server_request_call on the worker's queue. A failure is
 * expected once shutdown has begun, so it is logged only before that.
 */
static void server_call_request(server_worker_t *worker)
{
    ecif_server_t *server = worker->server;
    server_call_t *call = calloc(1, sizeof(*call));
    if (call == NULL) {
        server_log_error(server, "cannot allocate a call: out of memory");
        return;
    }
    atomic_fetch_add(&server->live_calls, 1);
    call->worker = worker;
    call->state = CALL_REQUESTED;
    call->status_details = grpc_empty_slice();
    grpc_call_details_init(&call->details);
    grpc_metadata_array_init(&call->request_metadata);

    grpc_call_error rc = grpc_server_request_call(
        server->grpc, &call->handle, &call->details, &call->request_metadata,
        worker->cq, worker->cq, call);
    if (rc != GRPC_CALL_OK) {
        if (!atomic_load(&server->stopping))
            server_log_error(server, "grpc_server_request_call failed: %s",
                             grpc_call_error_to_string(rc));
        server_call_free(call);
    }
}

static void server_call_start_batch(server_call_t *call, const grpc_op *ops,
                                    size_t n, server_call_state_t next)
{
    call->state = next;
    grpc_call_error rc =
        grpc_call_start_batch(call->handle, ops, n, call, NULL);
    if (rc != GRPC_CALL_OK) {
        server_log_error(call->worker->server,
                         "grpc_call_start_batch failed in state %d: %s",
                         (int)next, grpc_call_error_to_string(rc));
        grpc_call_cancel(call->handle, NULL);
        server_call_free(call);
    }
}

static void server_call_receive(server_call_t *call)
{
    grpc_op op;
    memset(&op, 0, sizeof(op));
    op.op = GRPC_OP_RECV_MESSAGE;
    op.data.recv_message.recv_message = &call->request;
    server_call_start_batch(call, &op, 1, CALL_RECEIVED);
}

static bool deadline_passed(gpr_timespec deadline)
{
    gpr_timespec now = gpr_now(GPR_CLOCK_MONOTONIC);
    deadline = gpr_convert_clock_type(deadline, GPR_CLOCK_MONOTONIC);
    return gpr_time_cmp(deadline, now) < 0;
}

/* Copies a method path for a status message, non-printable bytes as '?'. */
static void format_method(grpc_slice method, char *out, size_t out_len)
{
    size_t len = GRPC_SLICE_LENGTH(method);
    const unsigned char *p = GRPC_SLICE_START_PTR(method);
    size_t n = 0;
    for (; n < len && n < 80 && n + 1 < out_len; n++)
        out[n] = (p[n] >= 0x20 && p[n] < 0x7f) ? (char)p[n] : '?';
    out[n] = '\0';
}

/* Maximum length of a bearer token. ecifctl token makes 64 characters. */
#define SERVER_TOKEN_MAX 512

/*
 * Finds the token of the call's "authorization: Bearer TOKEN" metadata.
 * Returns false when there is none, another scheme, an empty or oversized
 * token, or more than one authorization entry (which one would count is
 * for no caller to guess).
 */
static bool bearer_token(const grpc_metadata_array *md, const char **token,
                         size_t *len)
{
    static const char scheme[] = "bearer ";
    const size_t scheme_len = sizeof(scheme) - 1;
    size_t entries = 0;

    for (size_t i = 0; i < md->count; i++) {
        grpc_slice key = md->metadata[i].key;
        entries += GRPC_SLICE_LENGTH(key) == 13 &&
                   memcmp(GRPC_SLICE_START_PTR(key), "authorization", 13) == 0;
    }
    if (entries != 1)
        return false;
    for (size_t i = 0; i < md->count; i++) {
        grpc_slice key = md->metadata[i].key;
        if (GRPC_SLICE_LENGTH(key) != 13 ||
            memcmp(GRPC_SLICE_START_PTR(key), "authorization", 13) != 0)
            continue;
        const char *v =
            (const char *)GRPC_SLICE_START_PTR(md->metadata[i].value);
        size_t n = GRPC_SLICE_LENGTH(md->metadata[i].value);
        if (n <= scheme_len || n - scheme_len > SERVER_TOKEN_MAX ||
            strncasecmp(v, scheme, scheme_len) != 0)
            return false;
        *token = v + scheme_len;
        *len = n - scheme_len;
        return true;
    }
    return false;
}

/*
 * Checks the caller of a method that needs a scope: sets *principal and
 * returns GRPC_STATUS_OK, or returns UNAUTHENTICATED or PERMISSION_DENIED
 * with the message in the call. The message never contains the token.
 */
static grpc_status_code
server_call_authorize(server_call_t *call, const ecif_service_method_t *entry,
                      const ecif_principal_t **principal)
{
    const ecif_access_t *access = atomic_load(&call->worker->server->access);
    uint32_t scope = ecif_service_method_scope(entry);
    const char *token;
    size_t len;

    *principal = NULL;
    if (access == NULL || scope == 0)
        return GRPC_STATUS_OK;
    if (bearer_token(&call->request_metadata, &token, &len))
        *principal = ecif_access_find(access, token, len);
    if (*principal == NULL) {
        snprintf(call->message, sizeof(call->message),
                 "a valid bearer token is required: send the metadata "
                 "'authorization: Bearer TOKEN'");
        return GRPC_STATUS_UNAUTHENTICATED;
    }
    if (((*principal)->scopes & scope) == 0) {
        snprintf(call->message, sizeof(call->message),
                 "principal '%s' lacks the scope '%s' that %s needs",
                 (*principal)->name, ecif_scope_str(scope),
                 ecif_service_method_name(entry));
        return GRPC_STATUS_PERMISSION_DENIED;
    }
    return GRPC_STATUS_OK;
}

static uint64_t monotonic_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* Handles a request for a known method after its caller is checked. */
static grpc_status_code server_call_dispatch(server_call_t *call,
                                             const ecif_service_method_t *entry,
                                             ecif_call_info_t *info)
{
    const ecif_server_t *server = call->worker->server;
    const ecif_principal_t *principal;
    grpc_status_code code = server_call_authorize(call, entry, &principal);

    info->principal = principal != NULL ? principal->name : NULL;
    info->list_customers = server->opts.audit != NULL;
    info->customers[0] = '\0';
    if (code != GRPC_STATUS_OK)
        return code;
    if (deadline_passed(call->details.deadline)) {
        snprintf(call->message, sizeof(call->message),
                 "deadline exceeded before the request was handled");
        return GRPC_STATUS_DEADLINE_EXCEEDED;
    }
    return ecif_service_call(server->service, entry, call->request,
                             &call->response, call->message,
                             sizeof(call->message), info);
}

/* Copies the customer numbers (C and 12 digits) that a status message
 * names into out, comma-separated, for the audit line of a failed call. */
static void numbers_in(const char *message, char *out, size_t len)
{
    size_t used = 0;

    out[0] = '\0';
    for (const char *p = message; (p = strchr(p, 'C')) != NULL; p++) {
        if (strspn(p + 1, "0123456789") != 12)
            continue;
        if (used + 14 >= len)
            break;
        if (used > 0)
            out[used++] = ',';
        memcpy(out + used, p, 13);
        used += 13;
        out[used] = '\0';
        p += 12;
    }
}

/* Handles the received request and fills the status, message and
 * response. With an audit log, every call of a method that needs a scope
 * gets a line in it. */
static grpc_status_code server_call_handle(server_call_t *call)
{
    const ecif_server_t *server = call->worker->server;
    grpc_slice method = call->details.method;
    const ecif_service_method_t *entry = ecif_service_find_method(
        (const char *)GRPC_SLICE_START_PTR(method), GRPC_SLICE_LENGTH(method));
    if (entry == NULL) {
        char path[96];
        format_method(method, path, sizeof(path));
        snprintf(call->message, sizeof(call->message),
                 "method '%s' is not implemented", path);
        if (server->opts.metrics != NULL)
            ecif_metrics_observe(server->opts.metrics, SIZE_MAX,
                                 GRPC_STATUS_UNIMPLEMENTED, 0);
        return GRPC_STATUS_UNIMPLEMENTED;
    }

    uint64_t start = monotonic_us();
    ecif_call_info_t info;
    grpc_status_code code = server_call_dispatch(call, entry, &info);
    if (code == GRPC_STATUS_OK && call->response != NULL &&
        grpc_byte_buffer_length(call->response) >
            server->opts.max_message_bytes) {
        /* gRPC would fail the send. Failing the call here makes the
         * status and the audit line match what the caller gets. */
        snprintf(call->message, sizeof(call->message),
                 "the response of %zu bytes is larger than "
                 "--max-message-bytes %u",
                 grpc_byte_buffer_length(call->response),
                 server->opts.max_message_bytes);
        grpc_byte_buffer_destroy(call->response);
        call->response = NULL;
        code = GRPC_STATUS_RESOURCE_EXHAUSTED;
    }
    uint64_t elapsed = monotonic_us() - start;
    if (server->opts.metrics != NULL)
        ecif_metrics_observe(server->opts.metrics,
                             ecif_service_method_index(entry), code, elapsed);
    if (server->opts.audit == NULL || ecif_service_method_scope(entry) == 0)
        return code;
    if (code != GRPC_STATUS_OK && info.customers[0] == '\0')
        numbers_in(call->message, info.customers, sizeof(info.customers));
    ecif_audit_write(server->opts.audit, info.principal,
                     ecif_service_method_name(entry),
                     ecif_service_status_name(code), elapsed, info.customers);
    return code;
}

static void server_call_respond(server_call_t *call)
{
    grpc_status_code code = server_call_handle(call);
    call->status_details = grpc_slice_from_copied_string(call->message);

    grpc_op ops[4];
    size_t n = 0;
    memset(ops, 0, sizeof(ops));
    ops[n++].op = GRPC_OP_SEND_INITIAL_METADATA;
    if (code == GRPC_STATUS_OK && call->response != NULL) {
        ops[n].op = GRPC_OP_SEND_MESSAGE;
        ops[n++].data.send_message.send_message = call->response;
    }
    ops[n].op = GRPC_OP_SEND_STATUS_FROM_SERVER;
    ops[n].data.send_status_from_server.status = code;
    ops[n++].data.send_status_from_server.status_details =
        &call->status_details;
    ops[n].op = GRPC_OP_RECV_CLOSE_ON_SERVER;
    ops[n++].data.recv_close_on_server.cancelled = &call->cancelled;
    server_call_start_batch(call, ops, n, CALL_SENT);
}

/* Advances a call by one completion of its worker's queue. */
static void server_call_advance(server_call_t *call, bool success)
{
    server_worker_t *worker = call->worker;
    switch (call->state) {
    case CALL_REQUESTED:
        if (!success) {
            /* Requests fail only when the server shuts down. */
            server_call_free(call);
            return;
        }
        if (!atomic_load(&worker->server->stopping))
            server_call_request(worker);
        server_call_receive(call);
        return;
    case CALL_RECEIVED:
        if (!success) {
            /* The client cancelled or the deadline expired. */
            server_call_free(call);
            return;
        }
        server_call_respond(call);
        return;
    case CALL_SENT:
        server_call_free(call);
        return;
    }
}

/* ---- Workers ------------------------------------------------------------- */

static void *server_worker_main(void *arg)
{
    server_worker_t *worker = arg;
    for (uint32_t i = 0; i < worker->server->opts.calls_per_thread; i++)
        server_call_request(worker);

    for (;;) {
        grpc_event ev = grpc_completion_queue_next(
            worker->cq, gpr_inf_future(GPR_CLOCK_MONOTONIC), NULL);
        if (ev.type == GRPC_QUEUE_SHUTDOWN)
            break;
        if (ev.type == GRPC_OP_COMPLETE)
            server_call_advance(ev.tag, ev.success != 0);
    }
    return NULL;
}

static uint32_t online_cpus(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (uint32_t)n : 1;
}

/* ---- Server -------------------------------------------------------------- */

static grpc_completion_queue *create_non_listening_cq(void)
{
    grpc_completion_queue_attributes attr;
    memset(&attr, 0, sizeof(attr));
    attr.version = 1;
    attr.cq_completion_type = GRPC_CQ_NEXT;
    attr.cq_polling_type = GRPC_CQ_NON_LISTENING;
    return grpc_completion_queue_create(
        grpc_completion_queue_factory_lookup(&attr), &attr, NULL);
}

static grpc_server *create_grpc_server(const ecif_server_options_t *opts)
{
    grpc_arg args[3];
    memset(args, 0, sizeof(args));
    args[0].type = GRPC_ARG_INTEGER;
    args[0].key = GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH;
    args[0].value.integer = (int)opts->max_message_bytes;
    args[1].type = GRPC_ARG_INTEGER;
    args[1].key = GRPC_ARG_MAX_SEND_MESSAGE_LENGTH;
    args[1].value.integer = (int)opts->max_message_bytes;
    /* Without this, a second ecifd on a busy port would share it. */
    args[2].type = GRPC_ARG_INTEGER;
    args[2].key = GRPC_ARG_ALLOW_REUSEPORT;
    args[2].value.integer = 0;
    grpc_channel_args channel_args = {.num_args = 3, .args = args};
    return grpc_server_create(&channel_args, NULL);
}

static int check_options(const ecif_server_options_t *opts, char *err,
                         size_t errlen)
{
    if (opts->listen == NULL || opts->listen[0] == '\0')
        return ecif_fail(ECIF_EINVAL, err, errlen,
                         "listen address is required");
    if (opts->max_message_bytes == 0 || opts->max_message_bytes > INT32_MAX)
        return ecif_fail(ECIF_EINVAL, err, errlen,
                         "invalid max message bytes %u (1 to %d)",
                         opts->max_message_bytes, INT32_MAX);
    if (opts->calls_per_thread == 0)
        return ecif_fail(ECIF_EINVAL, err, errlen,
                         "calls per thread must be at least 1");
    return ECIF_OK;
}

int ecif_server_create(const ecif_server_options_t *opts,
                       const ecif_service_t *service, ecif_server_t **out,
                       char *err, size_t errlen)
{
    *out = NULL;
    int status = check_options(opts, err, errlen);
    if (status != ECIF_OK)
        return status;

    ecif_server_t *server = calloc(1, sizeof(*server));
    if (server == NULL)
        return ecif_fail(ECIF_ENOMEM, err, errlen, "out of memory");
    server->opts = *opts;
    atomic_init(&server->access, opts->access);
    server->service = service;
    server->worker_count = opts->threads > 0 ? opts->threads : online_cpus();
    server->workers = calloc(server->worker_count, sizeof(*server->workers));
    if (server->workers == NULL) {
        free(server);
        return ecif_fail(ECIF_ENOMEM, err, errlen, "out of memory");
    }
    atomic_init(&server->stopping, false);
    atomic_init(&server->live_calls, 0);

    grpc_init();
    server->grpc = create_grpc_server(opts);
    server->shutdown_cq = create_non_listening_cq();
    grpc_server_register_completion_queue(server->grpc, server->shutdown_cq,
                                          NULL);
    for (uint32_t i = 0; i < server->worker_count; i++) {
        server->workers[i].server = server;
        server->workers[i].cq = grpc_completion_queue_create_for_next(NULL);
        grpc_server_register_completion_queue(server->grpc,
                                              server->workers[i].cq, NULL);
    }

    grpc_server_credentials *creds =
        opts->tls != NULL ? ecif_tls_server_credentials(opts->tls)
                          : grpc_insecure_server_credentials_create();
    server->port =
        grpc_server_add_http2_port(server->grpc, opts->listen, creds);
    grpc_server_credentials_release(creds);
    if (server->port == 0) {
        ecif_server_destroy(server);
        if (opts->tls != NULL)
            return ecif_fail(ECIF_EINVAL, err, errlen,
                             "cannot listen on '%s' with TLS: invalid "
                             "address, the port is in use, or the TLS "
                             "library refused the certificate, key or client "
                             "CA (gRPC's log line above names the cause)",
                             opts->listen);
        return ecif_fail(ECIF_EINVAL, err, errlen,
                         "cannot listen on '%s': invalid address, or the "
                         "port is in use",
                         opts->listen);
    }
    *out = server;
    return ECIF_OK;
}

void ecif_server_set_access(ecif_server_t *server, const ecif_access_t *access)
{
    atomic_store(&server->access, access);
}

int ecif_server_port(const ecif_server_t *server)
{
    return server->port;
}

uint32_t ecif_server_thread_count(const ecif_server_t *server)
{
    return server->worker_count;
}

int ecif_server_start(ecif_server_t *server, char *err, size_t errlen)
{
    grpc_server_start(server->grpc);
    server->started = true;
    for (uint32_t i = 0; i < server->worker_count; i++) {
        server_worker_t *worker = &server->workers[i];
        int rc =
            pthread_create(&worker->thread, NULL, server_worker_main, worker);
        if (rc != 0) {
            ecif_server_stop(server, 0);
            return ecif_fail(ECIF_ENOMEM, err, errlen,
                             "cannot start worker thread %u: %s", i,
                             strerror(rc));
        }
        server->started_threads++;
    }
    return ECIF_OK;
}

/* Waits for the shutdown notification until deadline; false on timeout. */
static bool wait_shutdown(ecif_server_t *server, gpr_timespec deadline)
{
    for (;;) {
        grpc_event ev =
            grpc_completion_queue_next(server->shutdown_cq, deadline, NULL);
        if (ev.type == GRPC_QUEUE_TIMEOUT)
            return false;
        if (ev.type == GRPC_OP_COMPLETE && ev.tag == server)
            return true;
    }
}

/* How often shutdown checks whether only idle connections are left. */
#define SERVER_SHUTDOWN_POLL_MS 10

/*
 * Shuts the gRPC server down, letting running calls finish for up to
 * grace_ms. The shutdown notification also waits for every client
 * connection to close, and an idle client may keep its connection open
 * past any grace period. Once no call object is left, the workers have
 * freed every request slot that shutdown failed and every running call
 * has ended. The remaining connections are then idle and are closed at
 * once. Returns true when running calls had to be cancelled.
 */
static bool shutdown_grpc_server(ecif_server_t *server, uint32_t grace_ms)
{
    gpr_timespec end =
        gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC),
                     gpr_time_from_millis((int64_t)grace_ms, GPR_TIMESPAN));
    gpr_timespec poll =
        gpr_time_from_millis(SERVER_SHUTDOWN_POLL_MS, GPR_TIMESPAN);
    bool calls_running = true;

    atomic_store(&server->stopping, true);
    grpc_server_shutdown_and_notify(server->grpc, server->shutdown_cq, server);
    for (;;) {
        gpr_timespec next = gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC), poll);
        if (wait_shutdown(server, gpr_time_min(next, end)))
            return false;
        calls_running = atomic_load(&server->live_calls) > 0;
        if (!calls_running ||
            gpr_time_cmp(gpr_now(GPR_CLOCK_MONOTONIC), end) >= 0)
            break;
    }
    /* With no call left, this only closes idle connections. */
    grpc_server_cancel_all_calls(server->grpc);
    wait_shutdown(server, gpr_inf_future(GPR_CLOCK_MONOTONIC));
    return calls_running;
}

int ecif_server_stop(ecif_server_t *server, uint32_t grace_ms)
{
    if (server->stopped)
        return 0;
    server->stopped = true;
    bool cancelled = shutdown_grpc_server(server, grace_ms);

    /* No call is left, so the worker queues only drain and shut down. */
    for (uint32_t i = 0; i < server->worker_count; i++)
        grpc_completion_queue_shutdown(server->workers[i].cq);
    for (uint32_t i = 0; i < server->started_threads; i++)
        pthread_join(server->workers[i].thread, NULL);
    return cancelled ? 1 : 0;
}

/* Shuts down and destroys a queue no worker thread ever polled. */
static void destroy_unpolled_cq(grpc_completion_queue *cq)
{
    grpc_completion_queue_shutdown(cq);
    grpc_event ev;
    do {
        ev = grpc_completion_queue_next(cq, gpr_inf_future(GPR_CLOCK_MONOTONIC),
                                        NULL);
    } while (ev.type != GRPC_QUEUE_SHUTDOWN);
    grpc_completion_queue_destroy(cq);
}

void ecif_server_destroy(ecif_server_t *server)
{
    if (server == NULL)
        return;
    /* gRPC requires a finished shutdown before grpc_server_destroy. */
    if (!server->stopped) {
        server->stopped = true;
        shutdown_grpc_server(server, 0);
    }
    grpc_server_destroy(server->grpc);
    for (uint32_t i = 0; i < server->worker_count; i++) {
        /* A started worker drained its queue before it exited. */
        if (i < server->started_threads)
            grpc_completion_queue_destroy(server->workers[i].cq);
        else
            destroy_unpolled_cq(server->workers[i].cq);
    }
    destroy_unpolled_cq(server->shutdown_cq);
    free(server->workers);
    free(server);
    grpc_shutdown();
}
