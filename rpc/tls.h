/*
 * TLS for ecifd and its clients (rpc/TLS.md): the server's certificate,
 * key and client CA, loaded with checks and reloaded on request, and the
 * clients' channel credentials from the environment.
 */
#ifndef ECIF_RPC_TLS_H
#define ECIF_RPC_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <grpc/grpc_security.h>

/* Largest certificate, key or CA file accepted. */
#define ECIF_TLS_FILE_MAX (1u << 20)

/* The files of the server's TLS; client_ca may be NULL. */
typedef struct ecif_tls_files {
    const char *cert;      /* --tls-cert: certificate chain, PEM */
    const char *key;       /* --tls-key: private key, PEM */
    const char *client_ca; /* --tls-client-ca: CAs of client certificates */
} ecif_tls_files_t;

typedef struct ecif_tls_server ecif_tls_server_t;

/*
 * Reads and checks the files (rpc/TLS.md, "Server"). The paths are
 * borrowed and read again by ecif_tls_server_reload, so they must outlive
 * the object. Returns ECIF_OK, ECIF_EINVAL or ECIF_EIO (message in err
 * naming the option and the file) or ECIF_ENOMEM.
 */
int ecif_tls_server_open(const ecif_tls_files_t *files, ecif_tls_server_t **out,
                         char *err, size_t errlen);

/*
 * Returns new server credentials that take their certificate from tls:
 * first the files opened, then those of each successful reload, for
 * connections that start after it. tls must outlive every server that
 * uses the credentials. The caller releases them.
 */
grpc_server_credentials *ecif_tls_server_credentials(ecif_tls_server_t *tls);

/* The dates of the server's certificate (its first in the chain). */
typedef struct ecif_tls_validity {
    bool known;         /* false when the DER could not be read */
    int64_t not_before; /* Unix seconds */
    int64_t not_after;
} ecif_tls_validity_t;

/* Returns the dates of the certificate that the last successful open or
 * reload read. Call it from the thread that loads. */
ecif_tls_validity_t ecif_tls_server_validity(const ecif_tls_server_t *tls);

/* Returns whether clients must present a certificate. */
bool ecif_tls_server_requires_client_cert(const ecif_tls_server_t *tls);

/*
 * Reads and checks the files again and, when all pass, hands them to the
 * next handshake. On failure the previous files stay in force. Returns as
 * ecif_tls_server_open. Thread-safe with handshakes.
 */
int ecif_tls_server_reload(ecif_tls_server_t *tls, char *err, size_t errlen);

/* Frees tls; accepts NULL. */
void ecif_tls_server_free(ecif_tls_server_t *tls);

/*
 * Returns whether the calling thread is checking TLS files with a
 * throwaway server. gRPC logs why it refuses them, in its own words,
 * before ecifd's message names the files; a log function may drop those
 * lines.
 */
bool ecif_tls_probing(void);

/* Keeps message, gRPC's first log line of the check, for ecifd's error
 * message; does nothing outside a check. */
void ecif_tls_probe_note(const char *message);

/*
 * A client's channel security from the environment (rpc/TLS.md,
 * "Clients"): ECIF_TLS_CA turns TLS on; ECIF_TLS_CERT and ECIF_TLS_KEY add
 * a client certificate; ECIF_TLS_SERVER_NAME is the name to check the
 * server's certificate against.
 */
typedef struct ecif_tls_client {
    grpc_channel_credentials *credentials; /* insecure without ECIF_TLS_CA */
    /* ECIF_TLS_SERVER_NAME, or NULL: the host of the target. */
    const char *server_name;
    bool tls;
} ecif_tls_client_t;

/*
 * Fills *out from the environment. Returns ECIF_OK, or ECIF_EINVAL,
 * ECIF_EIO or ECIF_ENOMEM with the variable and the file named in err.
 * The caller releases out->credentials.
 */
int ecif_tls_client_from_env(ecif_tls_client_t *out, char *err, size_t errlen);

/*
 * Creates a channel to target with the security of client and the
 * channel arguments of args (may be NULL), adding the server-name
 * override when client->server_name is set. Returns NULL when out of
 * memory.
 */
grpc_channel *ecif_tls_channel_create(const ecif_tls_client_t *client,
                                      const char *target,
                                      const grpc_channel_args *args);

#endif
