/*
 * The gRPC server of ecifd, on the gRPC C core.
 *
 * Worker threads each own one completion queue registered with the server
 * and keep several grpc_server_request_call requests outstanding on it.
 * Each call runs a small state machine on the worker that accepted it:
 * receive the request message, handle it synchronously through the
 * service, send the response and status in one batch, free the call. See
 * rpc/README.md for the design.
 */
#ifndef ECIF_RPC_SERVER_H
#define ECIF_RPC_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include "access.h"
#include "audit.h"
#include "metrics.h"
#include "service.h"
#include "tls.h"

typedef struct ecif_server ecif_server_t;

typedef struct ecif_server_options {
    const char *listen; /* HOST:PORT; port 0 binds an ephemeral port */
    uint32_t threads;   /* worker threads; 0 means the online CPU count */
    /* Largest request or response message in bytes. */
    uint32_t max_message_bytes;
    /* grpc_server_request_call requests kept outstanding per worker. */
    uint32_t calls_per_thread;
    /*
     * Receives one line for every error the server catches and does not
     * return to a caller, such as a failed grpc_call_start_batch. Called
     * from worker threads; may be NULL.
     */
    void (*log_error)(const char *message);
    /* Callers and their scopes (rpc/ACCESS.md), borrowed. NULL serves every
     * method to every caller. */
    const ecif_access_t *access;
    /* The audit log of every call of a method that needs a scope,
     * borrowed. May be NULL. */
    ecif_audit_t *audit;
    /* The certificate to serve TLS with (rpc/TLS.md), borrowed; it must
     * outlive the server. NULL serves plain HTTP/2. */
    ecif_tls_server_t *tls;
    /* Counts every finished call (rpc/METRICS.md), borrowed; may be
     * NULL. */
    ecif_metrics_t *metrics;
} ecif_server_options_t;

/* Fills *opts: no listen address, 0 threads, 1 MiB messages, 8 calls. */
void ecif_server_options_default(ecif_server_options_t *opts);

/*
 * Creates the server and binds the listen address; nothing is served until
 * ecif_server_start. service is borrowed and must outlive the server.
 * Returns ECIF_OK, ECIF_EINVAL (invalid options, or the address could not be
 * bound; message in err) or ECIF_ENOMEM.
 */
int ecif_server_create(const ecif_server_options_t *opts,
                       const ecif_service_t *service, ecif_server_t **out,
                       char *err, size_t errlen);

/*
 * Puts a new list of callers in force for calls that start from now on,
 * as after a reload of the access file. The old list must stay alive
 * until the server is destroyed: a call in flight may still read it, and
 * its principal names are in the audit log and journal entries being
 * written. Passing NULL turns access control off.
 */
void ecif_server_set_access(ecif_server_t *server, const ecif_access_t *access);

/* Returns the bound port (the real one when the listen port was 0). */
int ecif_server_port(const ecif_server_t *server);

/* Returns the number of worker threads. */
uint32_t ecif_server_thread_count(const ecif_server_t *server);

/*
 * Starts serving and the worker threads. Returns ECIF_OK, or ECIF_ENOMEM
 * when a thread could not be started (the server is then stopped).
 */
int ecif_server_start(ecif_server_t *server, char *err, size_t errlen);

/*
 * Stops accepting calls, lets calls in flight finish for up to grace_ms
 * milliseconds, cancels those still running, and joins the workers.
 * Returns 1 when calls were still running after the grace period and
 * were cancelled, else 0. A second call does nothing and returns 0.
 */
int ecif_server_stop(ecif_server_t *server, uint32_t grace_ms);

/* Frees the server; it must be stopped or never started. Accepts NULL. */
void ecif_server_destroy(ecif_server_t *server);

#endif
