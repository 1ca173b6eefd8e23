/*
 * Counters of ecifd in the Prometheus text format, and the small HTTP
 * server that serves them (rpc/METRICS.md).
 */
#ifndef ECIF_RPC_METRICS_H
#define ECIF_RPC_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <grpc/status.h>

typedef struct ecif_metrics ecif_metrics_t;

/* The state of the store at a scrape, filled by the gauges callback. */
typedef struct ecif_metrics_gauges {
    uint64_t records;
    uint64_t customers;
    uint64_t added_records;
} ecif_metrics_gauges_t;

/* Fills *out with the gauges of the current store; called on the HTTP
 * thread at each scrape. */
typedef void (*ecif_metrics_gauges_fn)(void *arg, ecif_metrics_gauges_t *out);

/* What a SIGHUP reloads, for ecif_reloads_total. */
typedef enum ecif_metrics_reload {
    ECIF_RELOAD_ACCESS,
    ECIF_RELOAD_TLS,
    ECIF_RELOAD_AUDIT_LOG,
    ECIF_RELOAD_KINDS
} ecif_metrics_reload_t;

/*
 * Creates the counters, all 0, with one row per method of the service and
 * one for unknown methods. gauges (may be NULL) and arg are kept for
 * scrapes. Returns ECIF_OK or ECIF_ENOMEM.
 */
int ecif_metrics_create(ecif_metrics_gauges_fn gauges, void *arg,
                        ecif_metrics_t **out);

/* Frees m; accepts NULL. No thread may observe or scrape it any more. */
void ecif_metrics_free(ecif_metrics_t *m);

/*
 * Counts one finished call with its status and server time in
 * microseconds. method is the index of ecif_service_method_index, and
 * any larger index counts as an unknown method. Thread-safe and
 * lock-free.
 */
void ecif_metrics_observe(ecif_metrics_t *m, size_t method,
                          grpc_status_code code, uint64_t us);

/* Counts one reload of what, successful or not. Thread-safe. */
void ecif_metrics_reloaded(ecif_metrics_t *m, ecif_metrics_reload_t what,
                           bool ok);

/* Sets the notAfter of the served TLS certificate, Unix seconds, served
 * as ecif_tls_certificate_expiry_seconds; until then the metric is left
 * out. */
void ecif_metrics_set_tls_expiry(ecif_metrics_t *m, int64_t not_after);

/* Sets the start time served as ecif_start_time_seconds, Unix seconds. */
void ecif_metrics_set_start_time(ecif_metrics_t *m, int64_t unix_seconds);

/*
 * Writes the metrics in the Prometheus text format into a malloc'd,
 * NUL-terminated buffer (*out, *len without the NUL). Returns ECIF_OK or
 * ECIF_ENOMEM.
 */
int ecif_metrics_render(ecif_metrics_t *m, char **out, size_t *len);

typedef struct ecif_metrics_http ecif_metrics_http_t;

/*
 * Binds address (HOST:PORT; port 0 picks a free port, returned in *port)
 * and starts the thread that serves GET /metrics from m until
 * ecif_metrics_http_stop. m must outlive the server. Returns ECIF_OK,
 * ECIF_EINVAL (the address is invalid or cannot be bound; message in err)
 * or ECIF_ENOMEM.
 */
int ecif_metrics_http_start(const char *address, ecif_metrics_t *m,
                            ecif_metrics_http_t **out, int *port, char *err,
                            size_t errlen);

/* Stops the thread, closes the socket and frees h; accepts NULL. */
void ecif_metrics_http_stop(ecif_metrics_http_t *h);

#endif
