/*
 * A blocking unary gRPC client on the gRPC C core, for ecifctl and the
 * benchmark tools.
 *
 * A client owns one channel, which any number of threads may share. Each
 * calling thread gets its own pluck completion queue on first use, kept in
 * thread-local storage and destroyed when the thread exits, so a call
 * allocates no queue and threads never wait on one another's queue.
 * Request and response payloads are serialized protobuf bytes; this module
 * knows nothing about the messages.
 */
#ifndef ECIF_RPC_CLIENT_H
#define ECIF_RPC_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include <stdbool.h>

#include <grpc/grpc.h>
#include <grpc/status.h>

typedef struct ecif_client ecif_client_t;

/* Method paths of the services ecifd serves. */
#define ECIF_METHOD_RESOLVE           "/ecif.v1.CustomerIndex/Resolve"
#define ECIF_METHOD_GET_CUSTOMER      "/ecif.v1.CustomerIndex/GetCustomer"
#define ECIF_METHOD_GET_EXPOSURE      "/ecif.v1.CustomerIndex/GetExposure"
#define ECIF_METHOD_MERGE             "/ecif.v1.CustomerIndex/Merge"
#define ECIF_METHOD_SPLIT             "/ecif.v1.CustomerIndex/Split"
#define ECIF_METHOD_NOT_SAME_CUSTOMER "/ecif.v1.CustomerIndex/NotSameCustomer"
#define ECIF_METHOD_ADD_RECORD        "/ecif.v1.CustomerIndex/AddRecord"
#define ECIF_METHOD_GET_HISTORY       "/ecif.v1.CustomerIndex/GetHistory"
#define ECIF_METHOD_HEALTH_CHECK      "/grpc.health.v1.Health/Check"

/* Bytes of the status message kept from a call. */
#define ECIF_CLIENT_DETAILS_MAX 512

typedef struct ecif_client_result {
    grpc_status_code status;
    char details[ECIF_CLIENT_DETAILS_MAX]; /* the server's status message */
    uint8_t *response; /* malloc'd response bytes, NULL unless status OK */
    size_t response_len;
} ecif_client_result_t;

/*
 * Creates a client for target ("HOST:PORT"). The channel connects lazily,
 * so an unreachable server shows up as UNAVAILABLE on the first call.
 * When the environment variable ECIF_TOKEN_FILE names a file, its first
 * line is the bearer token sent with every call (rpc/ACCESS.md). The
 * ECIF_TLS_* variables choose TLS (rpc/TLS.md); without them the channel
 * is plain HTTP/2. Returns ECIF_OK, ECIF_EINVAL or ECIF_EIO (the token or
 * a TLS file cannot be used; message in err) or ECIF_ENOMEM.
 */
int ecif_client_create(const char *target, ecif_client_t **out, char *err,
                       size_t errlen);

/* Returns whether the client speaks TLS. */
bool ecif_client_tls(const ecif_client_t *client);

/*
 * Reads the bearer token from the file ECIF_TOKEN_FILE names (its first
 * line, without the line end) into *md as "authorization: Bearer TOKEN",
 * for a caller that builds its own calls. The caller unrefs md->value.
 * Sets *has_token to false and leaves *md alone when the variable is unset
 * or empty. Returns ECIF_OK, or ECIF_EINVAL with the reason in err, which
 * never contains the token.
 */
int ecif_client_token_metadata(grpc_metadata *md, bool *has_token, char *err,
                               size_t errlen);

/*
 * Destroys the client and the calling thread's completion queue. Other
 * threads that made calls must have exited before. Accepts NULL.
 */
void ecif_client_destroy(ecif_client_t *client);

/*
 * Makes one unary call on method (a path such as ECIF_METHOD_RESOLVE) and
 * waits for its status, at most deadline_ms milliseconds. Thread-safe.
 *
 * Returns ECIF_OK when the call finished, whatever its gRPC status: read
 * result->status, result->details and, on GRPC_STATUS_OK, the response,
 * which the caller frees with free(). Returns ECIF_ENOMEM or ECIF_EINVAL
 * (gRPC refused to start the call; message in result->details) otherwise.
 */
int ecif_client_call(ecif_client_t *client, const char *method,
                     const uint8_t *request, size_t request_len,
                     uint32_t deadline_ms, ecif_client_result_t *result);

#endif
