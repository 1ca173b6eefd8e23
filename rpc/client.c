/*
 * The blocking unary client. A call is one batch of six operations (send
 * metadata, message and half-close; receive metadata, message and status)
 * plucked from the calling thread's completion queue.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/support/alloc.h>
#include <grpc/support/time.h>

#include "client.h"
#include "guarded_file.h"
#include "status.h"
#include "tls.h"

struct ecif_client {
    grpc_channel *channel;
    /* "authorization: Bearer TOKEN" from ECIF_TOKEN_FILE, sent with every
     * call when has_token. */
    grpc_metadata authorization;
    bool has_token;
    bool tls; /* ECIF_TLS_CA was set */
};

/* Maximum length of the token in ECIF_TOKEN_FILE, and of the file. */
#define CLIENT_TOKEN_MAX      512
#define CLIENT_TOKEN_FILE_MAX 4096

static pthread_key_t client_cq_key;
static pthread_once_t client_cq_once = PTHREAD_ONCE_INIT;
static __thread grpc_completion_queue *client_cq;

/* Destroys a thread's queue; no call is pending when a thread exits. */
static void client_cq_release(void *cq)
{
    grpc_completion_queue_shutdown(cq);
    grpc_completion_queue_destroy(cq);
}

static void client_cq_key_create(void)
{
    pthread_key_create(&client_cq_key, client_cq_release);
}

static grpc_completion_queue *client_thread_cq(void)
{
    if (client_cq == NULL) {
        pthread_once(&client_cq_once, client_cq_key_create);
        client_cq = grpc_completion_queue_create_for_pluck(NULL);
        pthread_setspecific(client_cq_key, client_cq);
    }
    return client_cq;
}

int ecif_client_token_metadata(grpc_metadata *md, bool *has_token, char *err,
                               size_t errlen)
{
    *has_token = false;
    const char *path = getenv("ECIF_TOKEN_FILE");
    if (path == NULL || path[0] == '\0')
        return ECIF_OK;
    char *text = NULL;
    size_t text_len = 0;
    int rc =
        ecif_guarded_read(path, "ECIF_TOKEN_FILE", ECIF_GUARD_PRIVATE,
                          CLIENT_TOKEN_FILE_MAX, &text, &text_len, err, errlen);
    if (rc != ECIF_OK)
        return rc;
    size_t len = strcspn(text, "\r\n");
    if (len == 0 || len > CLIENT_TOKEN_MAX)
        rc = ecif_fail(ECIF_EINVAL, err, errlen,
                       "ECIF_TOKEN_FILE '%s': the first line must be a "
                       "token of 1 to %d characters",
                       path, CLIENT_TOKEN_MAX);
    for (size_t i = 0; rc == ECIF_OK && i < len; i++) {
        if ((unsigned char)text[i] <= ' ' || text[i] == 0x7f)
            rc = ecif_fail(ECIF_EINVAL, err, errlen,
                           "ECIF_TOKEN_FILE '%s': the token contains a "
                           "space or control character at position %zu",
                           path, i + 1);
    }
    if (rc == ECIF_OK) {
        char value[CLIENT_TOKEN_MAX + 8];
        int n = snprintf(value, sizeof(value), "Bearer %.*s", (int)len, text);
        md->key = grpc_slice_from_static_string("authorization");
        md->value = grpc_slice_from_copied_buffer(value, (size_t)n);
        explicit_bzero(value, sizeof(value));
        *has_token = true;
    }
    explicit_bzero(text, text_len);
    free(text);
    return rc;
}

int ecif_client_create(const char *target, ecif_client_t **out, char *err,
                       size_t errlen)
{
    *out = NULL;
    ecif_client_t *client = calloc(1, sizeof(*client));
    if (client == NULL)
        return ecif_fail(ECIF_ENOMEM, err, errlen, "out of memory");
    ecif_tls_client_t security;
    int rc = ecif_client_token_metadata(&client->authorization,
                                        &client->has_token, err, errlen);
    if (rc != ECIF_OK) {
        free(client);
        return rc;
    }

    grpc_init();
    rc = ecif_tls_client_from_env(&security, err, errlen);
    if (rc != ECIF_OK) {
        if (client->has_token)
            grpc_slice_unref(client->authorization.value);
        free(client);
        grpc_shutdown();
        return rc;
    }
    /* The server's limit governs response sizes; -1 lifts the client's. */
    grpc_arg arg = {
        .type = GRPC_ARG_INTEGER,
        .key = GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH,
        .value.integer = -1,
    };
    grpc_channel_args args = {.num_args = 1, .args = &arg};
    client->channel = ecif_tls_channel_create(&security, target, &args);
    client->tls = security.tls;
    grpc_channel_credentials_release(security.credentials);
    if (client->channel == NULL) {
        ecif_client_destroy(client);
        return ecif_fail(ECIF_ENOMEM, err, errlen, "out of memory");
    }
    *out = client;
    return ECIF_OK;
}

bool ecif_client_tls(const ecif_client_t *client)
{
    return client->tls;
}

void ecif_client_destroy(ecif_client_t *client)
{
    if (client == NULL)
        return;
    if (client_cq != NULL) {
        pthread_setspecific(client_cq_key, NULL);
        client_cq_release(client_cq);
        client_cq = NULL;
    }
    if (client->channel != NULL)
        grpc_channel_destroy(client->channel);
    if (client->has_token)
        grpc_slice_unref(client->authorization.value);
    free(client);
    grpc_shutdown();
}

/* Copies the response payload into one malloc'd buffer. */
static int copy_response(grpc_byte_buffer *buf, ecif_client_result_t *result)
{
    grpc_byte_buffer_reader reader;
    if (!grpc_byte_buffer_reader_init(&reader, buf))
        return ECIF_EINVAL;
    grpc_slice slice = grpc_byte_buffer_reader_readall(&reader);
    grpc_byte_buffer_reader_destroy(&reader);

    size_t len = GRPC_SLICE_LENGTH(slice);
    result->response = malloc(len > 0 ? len : 1);
    if (result->response == NULL) {
        grpc_slice_unref(slice);
        return ECIF_ENOMEM;
    }
    memcpy(result->response, GRPC_SLICE_START_PTR(slice), len);
    result->response_len = len;
    grpc_slice_unref(slice);
    return ECIF_OK;
}

static void copy_details(grpc_slice details, ecif_client_result_t *result)
{
    size_t len = GRPC_SLICE_LENGTH(details);
    if (len >= sizeof(result->details))
        len = sizeof(result->details) - 1;
    memcpy(result->details, GRPC_SLICE_START_PTR(details), len);
    result->details[len] = '\0';
}

/* State of one call that the batch writes into. */
typedef struct client_call {
    grpc_metadata_array initial_metadata;
    grpc_metadata_array trailing_metadata;
    grpc_byte_buffer *request;
    grpc_byte_buffer *response;
    grpc_status_code status;
    grpc_slice details;
    const char *error_string;
} client_call_t;

static int start_call(const ecif_client_t *client, grpc_call *call,
                      client_call_t *cc, void *tag)
{
    grpc_op ops[6];
    memset(ops, 0, sizeof(ops));
    ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
    if (client->has_token) {
        ops[0].data.send_initial_metadata.count = 1;
        ops[0].data.send_initial_metadata.metadata =
            (grpc_metadata *)&client->authorization;
    }
    ops[1].op = GRPC_OP_SEND_MESSAGE;
    ops[1].data.send_message.send_message = cc->request;
    ops[2].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
    ops[3].op = GRPC_OP_RECV_INITIAL_METADATA;
    ops[3].data.recv_initial_metadata.recv_initial_metadata =
        &cc->initial_metadata;
    ops[4].op = GRPC_OP_RECV_MESSAGE;
    ops[4].data.recv_message.recv_message = &cc->response;
    ops[5].op = GRPC_OP_RECV_STATUS_ON_CLIENT;
    ops[5].data.recv_status_on_client.trailing_metadata =
        &cc->trailing_metadata;
    ops[5].data.recv_status_on_client.status = &cc->status;
    ops[5].data.recv_status_on_client.status_details = &cc->details;
    ops[5].data.recv_status_on_client.error_string = &cc->error_string;
    return grpc_call_start_batch(call, ops, 6, tag, NULL);
}

int ecif_client_call(ecif_client_t *client, const char *method,
                     const uint8_t *request, size_t request_len,
                     uint32_t deadline_ms, ecif_client_result_t *result)
{
    memset(result, 0, sizeof(*result));
    grpc_completion_queue *cq = client_thread_cq();
    gpr_timespec deadline =
        gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC),
                     gpr_time_from_millis(deadline_ms, GPR_TIMESPAN));
    grpc_call *call = grpc_channel_create_call(
        client->channel, NULL, GRPC_PROPAGATE_DEFAULTS, cq,
        grpc_slice_from_static_string(method), NULL, deadline, NULL);

    client_call_t cc;
    memset(&cc, 0, sizeof(cc));
    grpc_metadata_array_init(&cc.initial_metadata);
    grpc_metadata_array_init(&cc.trailing_metadata);
    cc.details = grpc_empty_slice();
    grpc_slice payload =
        grpc_slice_from_copied_buffer((const char *)request, request_len);
    cc.request = grpc_raw_byte_buffer_create(&payload, 1);
    grpc_slice_unref(payload);

    int status = ECIF_OK;
    grpc_call_error rc = start_call(client, call, &cc, &cc);
    if (rc == GRPC_CALL_OK) {
        grpc_completion_queue_pluck(cq, &cc, gpr_inf_future(GPR_CLOCK_REALTIME),
                                    NULL);
        result->status = cc.status;
        copy_details(cc.details, result);
        if (cc.status == GRPC_STATUS_OK && cc.response != NULL)
            status = copy_response(cc.response, result);
    } else {
        result->status = GRPC_STATUS_INTERNAL;
        snprintf(result->details, sizeof(result->details),
                 "cannot start the call: %s", grpc_call_error_to_string(rc));
        status = ECIF_EINVAL;
    }

    grpc_byte_buffer_destroy(cc.request);
    if (cc.response != NULL)
        grpc_byte_buffer_destroy(cc.response);
    grpc_slice_unref(cc.details);
    gpr_free((void *)cc.error_string);
    grpc_metadata_array_destroy(&cc.initial_metadata);
    grpc_metadata_array_destroy(&cc.trailing_metadata);
    grpc_call_unref(call);
    return status;
}
