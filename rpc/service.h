/*
 * The CustomerIndex and Health services: the one place that maps protobuf
 * messages to engine calls and engine statuses to gRPC status codes.
 *
 * A method handler takes the request payload of one unary call and returns
 * the status code, the response payload (only with GRPC_STATUS_OK) and a
 * status message. Handlers keep their scratch in a per-call arena that is
 * freed before ecif_service_call() returns. They only read the store,
 * except the corrections and AddRecord, which write through the
 * corrections state and its lock, so any number of threads may call them
 * at once.
 */
#ifndef ECIF_RPC_SERVICE_H
#define ECIF_RPC_SERVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <grpc/byte_buffer.h>
#include <grpc/status.h>

#include "store.h"
#include "survivorship.h"

/* The server default of Resolve's max_candidates when a request sends 0. */
#define ECIF_SERVICE_DEFAULT_CANDIDATES 10

/* Bytes of the status message buffer a handler writes into. */
#define ECIF_SERVICE_DETAILS_MAX 512

typedef struct ecif_service {
    const ecif_store_t *store; /* borrowed; must outlive the service */
    /*
     * Manual corrections and adds over store, or NULL. When NULL, Merge,
     * Split, NotSameCustomer and AddRecord fail with UNIMPLEMENTED and every
     * call reads store. Otherwise each call reads the view that is current
     * when it starts. Borrowed, so it must outlive the service.
     */
    struct ecif_corrections *corrections;
    /* Called with one line per applied correction or add (method, customer
     * numbers and counts) and per rejected write (method, status, field and
     * customer numbers). May be NULL. */
    void (*log_correction)(const char *line);
    /* Cap on Resolve's max_candidates, from 1 to ECIF_MAX_CANDIDATES. */
    uint32_t max_candidates;
    /* Source trust order of GetCustomer's golden record; its strings are
     * borrowed and must outlive the service. Zeroed: no trust order. */
    ecif_golden_options_t survivorship;
    /* Duplicate applications in GetExposure (engine/APPLICATIONS.md):
     * the window in days and the records needed for a signal; 0 picks
     * ECIF_APPLICATION_WINDOW_DAYS and ECIF_APPLICATION_THRESHOLD. */
    uint32_t application_window_days;
    uint32_t application_threshold;
} ecif_service_t;

/* Defaults of the duplicate-application signals. */
#define ECIF_APPLICATION_WINDOW_DAYS 30
#define ECIF_APPLICATION_THRESHOLD   3

/* One served method; the service owns the table of them. */
typedef struct ecif_service_method ecif_service_method_t;

/*
 * Finds a method by its path, such as "/ecif.v1.CustomerIndex/Resolve"
 * (path_len bytes, not NUL-terminated). Returns NULL for a method the
 * server does not serve.
 */
const ecif_service_method_t *ecif_service_find_method(const char *path,
                                                      size_t path_len);

/* Customer numbers an audit line lists at most; "+N" counts the rest. */
#define ECIF_SERVICE_AUDIT_CUSTOMERS 16

/* Caller of a call and the customer numbers for its audit line
 * (rpc/ACCESS.md). */
typedef struct ecif_call_info {
    /* In: the verified principal, or NULL without access control. A
     * write's journaled actor starts with it. */
    const char *principal;
    /* In: whether to fill customers, which only the audit log reads. */
    bool list_customers;
    /* Out: the customer numbers of a successful call's response,
     * comma-separated, "" for none. */
    char customers[ECIF_SERVICE_AUDIT_CUSTOMERS * 16 + 16];
} ecif_call_info_t;

/*
 * Handles one unary call. request may be NULL (the client sent no
 * message). On GRPC_STATUS_OK *response is a new byte buffer that the
 * caller destroys; on any other code *response is NULL and details holds a
 * message naming the field and the value. details is always written
 * (empty on success). info may be NULL. The unpacked request and all
 * scratch are freed before the call returns.
 */
grpc_status_code ecif_service_call(const ecif_service_t *svc,
                                   const ecif_service_method_t *method,
                                   grpc_byte_buffer *request,
                                   grpc_byte_buffer **response, char *details,
                                   size_t details_len, ecif_call_info_t *info);

/* Returns the scope a caller needs for method (rpc/access.h), or 0 when
 * anyone may call it. */
uint32_t ecif_service_method_scope(const ecif_service_method_t *method);

/* Returns the short name of method ("Resolve", "Health/Check"). */
const char *ecif_service_method_name(const ecif_service_method_t *method);

/* Returns the number of served methods; each has an index below it. */
size_t ecif_service_method_count(void);

/* Returns the index of method among the served methods. */
size_t ecif_service_method_index(const ecif_service_method_t *method);

/* Returns the short name of the method of index i (below the count). */
const char *ecif_service_method_name_at(size_t i);

/* Returns the name of a gRPC status code ("PERMISSION_DENIED"). */
const char *ecif_service_status_name(grpc_status_code code);

#endif
