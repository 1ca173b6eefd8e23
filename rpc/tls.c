/*
 * TLS for ecifd and its clients. The server hands gRPC a certificate-
 * config fetcher: gRPC calls it before handshakes, and it returns the
 * config a load left pending, once, or "unchanged". Files are read on the
 * thread that loads them (ecifd's main thread on SIGHUP), so a handshake
 * only swaps a pointer under the lock.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <grpc/grpc.h>
#include <grpc/support/time.h>

#include "guarded_file.h"
#include "status.h"
#include "tls.h"
#include "x509.h"

struct ecif_tls_server {
    ecif_tls_files_t files;
    bool require_client_cert;
    /* Of the certificate last loaded; written by the loading thread. */
    ecif_tls_validity_t validity;
    pthread_mutex_t lock;
    /* Loaded and not yet taken by a handshake; owned until taken. */
    grpc_ssl_server_certificate_config *pending;
};

/* Frees a buffer that held a private key, clearing it first. */
static void free_secret(char *text, size_t len)
{
    if (text == NULL)
        return;
    explicit_bzero(text, len);
    free(text);
}

/* Counts of the blocks of a PEM file, from pem_scan. */
struct pem_blocks {
    unsigned certificates;
    unsigned private_keys; /* blocks whose label ends in "PRIVATE KEY" */
    unsigned encrypted;    /* encrypted keys, which gRPC cannot use */
    /* The first block that is not whole, or NULL. */
    const char *problem;
    char label[48];
};

/* True when line (len bytes) is base64 text of a PEM block. */
static bool base64_line(const char *line, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        char c = line[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
              (c >= '0' && c <= '9') || c == '+' || c == '/' || c == '='))
            return false;
    }
    return true;
}

/*
 * Scans text (RFC 7468 PEM) block by block. Every BEGIN line needs the
 * END line of its label, with only base64 lines between them whose
 * length is a multiple of four. Otherwise a file cut short while it was
 * written, or a block edited by hand, would pass and fail every
 * handshake. Text outside blocks, such as openssl's "Bag
 * Attributes", is allowed. Encrypted legacy keys carry header lines and
 * are counted, not parsed.
 */
static void pem_scan(const char *text, struct pem_blocks *out)
{
    const char *line = text;
    bool inside = false;
    size_t base64 = 0;

    memset(out, 0, sizeof(*out));
    while (*line != '\0' && out->problem == NULL) {
        /* A line ends at LF, CR LF or a lone CR. */
        size_t len = strcspn(line, "\r\n");
        const char *next = line + len;
        if (*next == '\r')
            next++;
        if (*next == '\n')
            next++;
        if (!inside && len > 16 && strncmp(line, "-----BEGIN ", 11) == 0 &&
            strncmp(line + len - 5, "-----", 5) == 0) {
            size_t label = len - 16;
            if (label >= sizeof(out->label))
                label = sizeof(out->label) - 1;
            memcpy(out->label, line + 11, label);
            out->label[label] = '\0';
            inside = true;
            base64 = 0;
        } else if (inside && strncmp(line, "-----END ", 9) == 0) {
            if (len != 14 + strlen(out->label) ||
                strncmp(line + 9, out->label, strlen(out->label)) != 0)
                out->problem = "has an END line that does not match its "
                               "BEGIN line";
            else if (base64 % 4 != 0)
                out->problem = "has a block whose base64 text is cut short";
            inside = false;
            size_t n = strlen(out->label);
            if (strcmp(out->label, "CERTIFICATE") == 0)
                out->certificates++;
            else if (n >= 11 && strcmp(out->label + n - 11, "PRIVATE KEY") == 0)
                out->private_keys++;
            if (strstr(out->label, "ENCRYPTED") != NULL)
                out->encrypted++;
        } else if (inside && memchr(line, ':', len) != NULL) {
            out->encrypted += strncmp(line, "Proc-Type: 4,ENCRYPTED", 22) == 0;
        } else if (inside && !base64_line(line, len)) {
            out->problem = "has a line in a block that is not base64";
        } else if (inside) {
            base64 += len;
        }
        line = next;
    }
    if (inside && out->problem == NULL)
        out->problem = "ends inside a block, without its END line (was it "
                       "cut short while being written?)";
}

/*
 * Reads one PEM file for what (an option or variable name) and checks
 * its blocks: every block whole (pem_scan), and at least one of the kind
 * wanted. A certificate file must hold a CERTIFICATE block and no private
 * key, because others may read it; a key file one unencrypted private
 * key. A NUL byte would cut the text gRPC reads, so it is rejected too.
 * Certificates, like keys, must belong to this process's user or root and
 * sit in a folder that others cannot write, because a user who can
 * replace them could swap the server's identity or admit their own
 * clients.
 */
static int read_pem(const char *what, const char *path, bool secret, char **out,
                    size_t *len, char *err, size_t errlen)
{
    unsigned guards =
        ECIF_GUARD_OWNER | ECIF_GUARD_FOLDER |
        (secret ? ECIF_GUARD_PRIVATE : ECIF_GUARD_NO_FOREIGN_WRITE);
    int rc = ecif_guarded_read(path, what, guards, ECIF_TLS_FILE_MAX, out, len,
                               err, errlen);
    if (rc != ECIF_OK)
        return rc;

    struct pem_blocks blocks;
    const char *problem = NULL;
    if (strlen(*out) != *len) {
        problem = "contains a NUL byte, so it is not PEM text";
    } else {
        pem_scan(*out, &blocks);
        problem = blocks.problem;
    }
    if (problem != NULL)
        ;
    else if (!secret && blocks.private_keys > 0)
        problem = "contains a private key, which belongs in its own file of "
                  "mode 600";
    else if (!secret && blocks.certificates == 0)
        problem = "contains no PEM block 'BEGIN CERTIFICATE'";
    else if (secret && blocks.encrypted > 0)
        problem = "contains an encrypted key; give the key without a "
                  "passphrase (openssl pkey -in KEY -out PLAIN)";
    else if (secret && blocks.private_keys == 0)
        problem = "contains no PEM block 'BEGIN PRIVATE KEY'";
    if (problem == NULL)
        return ECIF_OK;
    if (secret)
        free_secret(*out, *len);
    else
        free(*out);
    *out = NULL;
    return ecif_fail(ECIF_EINVAL, err, errlen, "%s '%s' %s", what, path,
                     problem);
}

/*
 * Returns whether the TLS library accepts the chain, key and roots: it
 * builds its context when a port is added, and only then finds a key that
 * does not belong to its certificate or a block that does not parse. So
 * a throwaway server adds an ephemeral loopback port with them; such a
 * port is free whenever loopback works, so a failure is the library's.
 */
/* Set while this thread runs the check of tls_library_accepts, with the
 * first reason gRPC logged during it. */
static __thread bool probing;
static __thread char probe_reason[160];

bool ecif_tls_probing(void)
{
    return probing;
}

void ecif_tls_probe_note(const char *message)
{
    if (probing && probe_reason[0] == '\0')
        snprintf(probe_reason, sizeof(probe_reason), "%s", message);
}

static bool tls_library_accepts(const char *roots,
                                const grpc_ssl_pem_key_cert_pair *pair,
                                bool require_client_cert)
{
    grpc_ssl_server_certificate_config *config =
        grpc_ssl_server_certificate_config_create(roots, pair, 1);
    if (config == NULL)
        return false;
    grpc_ssl_server_credentials_options *options =
        grpc_ssl_server_credentials_create_options_using_config(
            require_client_cert
                ? GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY
                : GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE,
            config);
    grpc_server_credentials *creds =
        grpc_ssl_server_credentials_create_with_options(options);
    grpc_server *probe = grpc_server_create(NULL, NULL);
    grpc_completion_queue *cq = grpc_completion_queue_create_for_pluck(NULL);
    grpc_server_register_completion_queue(probe, cq, NULL);
    probing = true;
    probe_reason[0] = '\0';
    int port = grpc_server_add_http2_port(probe, "127.0.0.1:0", creds);
    probing = false;
    grpc_server_credentials_release(creds);
    /* gRPC destroys a server with a listener only after a shutdown. */
    grpc_server_shutdown_and_notify(probe, cq, probe);
    grpc_completion_queue_pluck(cq, probe, gpr_inf_future(GPR_CLOCK_REALTIME),
                                NULL);
    grpc_server_destroy(probe);
    grpc_completion_queue_shutdown(cq);
    grpc_completion_queue_destroy(cq);
    return port != 0;
}

/* Reads the server's files into a new certificate config. */
static int load_config(const ecif_tls_files_t *files,
                       grpc_ssl_server_certificate_config **out,
                       ecif_tls_validity_t *validity, char *err, size_t errlen)
{
    char *cert = NULL, *key = NULL, *ca = NULL;
    size_t cert_len = 0, key_len = 0, ca_len = 0;

    *out = NULL;
    int rc = read_pem("--tls-cert", files->cert, false, &cert, &cert_len, err,
                      errlen);
    if (rc == ECIF_OK)
        rc = read_pem("--tls-key", files->key, true, &key, &key_len, err,
                      errlen);
    if (rc == ECIF_OK && files->client_ca != NULL)
        rc = read_pem("--tls-client-ca", files->client_ca, false, &ca, &ca_len,
                      err, errlen);
    /*
     * NOTE: gRPC 1.51 asserts that a fetched config has root certificates
     * even when no client certificate is requested, and aborts without.
     * The server's own chain is passed instead: a server that requests no
     * client certificate never verifies against it.
     */
    const char *roots = ca != NULL ? ca : cert;
    grpc_ssl_pem_key_cert_pair pair = {.private_key = key, .cert_chain = cert};
    if (rc == ECIF_OK &&
        !tls_library_accepts(roots, &pair, files->client_ca != NULL))
        rc = ecif_fail(ECIF_EINVAL, err, errlen,
                       "the TLS library refused --tls-cert '%s' with "
                       "--tls-key '%s'%s%s%s: the key does not belong to the "
                       "certificate, or a PEM block does not parse (%s)",
                       files->cert, files->key,
                       files->client_ca != NULL ? " and --tls-client-ca '" : "",
                       files->client_ca != NULL ? files->client_ca : "",
                       files->client_ca != NULL ? "'" : "",
                       probe_reason[0] != '\0' ? probe_reason
                                               : "no reason given");
    if (rc == ECIF_OK) {
        validity->known = ecif_x509_validity(cert, &validity->not_before,
                                             &validity->not_after) == ECIF_OK;
        /* gRPC copies the strings. */
        *out = grpc_ssl_server_certificate_config_create(roots, &pair, 1);
        if (*out == NULL)
            rc = ecif_fail(ECIF_ENOMEM, err, errlen,
                           "out of memory loading the TLS certificate");
    }
    free(cert);
    free_secret(key, key_len);
    free(ca);
    return rc;
}

static grpc_ssl_certificate_config_reload_status
fetch_config(void *user_data, grpc_ssl_server_certificate_config **config)
{
    ecif_tls_server_t *tls = user_data;

    pthread_mutex_lock(&tls->lock);
    grpc_ssl_server_certificate_config *pending = tls->pending;
    tls->pending = NULL;
    pthread_mutex_unlock(&tls->lock);
    if (pending == NULL)
        return GRPC_SSL_CERTIFICATE_CONFIG_RELOAD_UNCHANGED;
    *config = pending; /* gRPC owns it from here */
    return GRPC_SSL_CERTIFICATE_CONFIG_RELOAD_NEW;
}

int ecif_tls_server_open(const ecif_tls_files_t *files, ecif_tls_server_t **out,
                         char *err, size_t errlen)
{
    *out = NULL;
    if (files->cert == NULL || files->key == NULL)
        return ecif_fail(ECIF_EINVAL, err, errlen,
                         "--tls-cert and --tls-key come together");
    ecif_tls_server_t *tls = calloc(1, sizeof(*tls));
    if (tls == NULL)
        return ecif_fail(ECIF_ENOMEM, err, errlen, "out of memory");
    grpc_init(); /* the check of load_config runs a gRPC server */
    tls->files = *files;
    tls->require_client_cert = files->client_ca != NULL;
    pthread_mutex_init(&tls->lock, NULL);
    ecif_tls_validity_t validity = {0};
    int rc = load_config(files, &tls->pending, &validity, err, errlen);
    if (rc != ECIF_OK) {
        ecif_tls_server_free(tls);
        return rc;
    }
    tls->validity = validity;
    *out = tls;
    return ECIF_OK;
}

grpc_server_credentials *ecif_tls_server_credentials(ecif_tls_server_t *tls)
{
    grpc_ssl_client_certificate_request_type request =
        tls->require_client_cert
            ? GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY
            : GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE;
    grpc_ssl_server_credentials_options *options =
        grpc_ssl_server_credentials_create_options_using_config_fetcher(
            request, fetch_config, tls);
    return grpc_ssl_server_credentials_create_with_options(options);
}

ecif_tls_validity_t ecif_tls_server_validity(const ecif_tls_server_t *tls)
{
    return tls->validity;
}

bool ecif_tls_server_requires_client_cert(const ecif_tls_server_t *tls)
{
    return tls->require_client_cert;
}

int ecif_tls_server_reload(ecif_tls_server_t *tls, char *err, size_t errlen)
{
    grpc_ssl_server_certificate_config *fresh = NULL;
    ecif_tls_validity_t validity = {0};
    int rc = load_config(&tls->files, &fresh, &validity, err, errlen);
    if (rc != ECIF_OK)
        return rc;
    tls->validity = validity;
    pthread_mutex_lock(&tls->lock);
    grpc_ssl_server_certificate_config *old = tls->pending;
    tls->pending = fresh;
    pthread_mutex_unlock(&tls->lock);
    if (old != NULL)
        grpc_ssl_server_certificate_config_destroy(old);
    return ECIF_OK;
}

void ecif_tls_server_free(ecif_tls_server_t *tls)
{
    if (tls == NULL)
        return;
    if (tls->pending != NULL)
        grpc_ssl_server_certificate_config_destroy(tls->pending);
    pthread_mutex_destroy(&tls->lock);
    free(tls);
    grpc_shutdown();
}

/* Returns the value of an environment variable, NULL when unset or
 * empty. */
static const char *env(const char *name)
{
    const char *value = getenv(name);
    return value != NULL && value[0] != '\0' ? value : NULL;
}

/* Checks ECIF_TLS_SERVER_NAME: a host name, no spaces or controls. */
static int check_server_name(const char *name, char *err, size_t errlen)
{
    size_t len = strlen(name);
    if (len > 253)
        return ecif_fail(ECIF_EINVAL, err, errlen,
                         "ECIF_TLS_SERVER_NAME has %zu characters, more than "
                         "the 253 of a host name",
                         len);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)name[i];
        if (c <= ' ' || c == 0x7f)
            return ecif_fail(ECIF_EINVAL, err, errlen,
                             "ECIF_TLS_SERVER_NAME '%s' contains a space or "
                             "control character at position %zu",
                             name, i + 1);
    }
    return ECIF_OK;
}

int ecif_tls_client_from_env(ecif_tls_client_t *out, char *err, size_t errlen)
{
    const char *ca_set = getenv("ECIF_TLS_CA");
    if (ca_set != NULL && ca_set[0] == '\0')
        /* Set from an empty variable: plain text would be a surprise. */
        return ecif_fail(ECIF_EINVAL, err, errlen,
                         "ECIF_TLS_CA is set but empty: name the CA file, "
                         "or unset it to speak plain HTTP/2");
    const char *ca_path = env("ECIF_TLS_CA");
    const char *cert_path = env("ECIF_TLS_CERT");
    const char *key_path = env("ECIF_TLS_KEY");
    const char *name = env("ECIF_TLS_SERVER_NAME");

    memset(out, 0, sizeof(*out));
    if (ca_path == NULL) {
        const char *set = cert_path != NULL  ? "ECIF_TLS_CERT"
                          : key_path != NULL ? "ECIF_TLS_KEY"
                          : name != NULL     ? "ECIF_TLS_SERVER_NAME"
                                             : NULL;
        if (set != NULL)
            return ecif_fail(ECIF_EINVAL, err, errlen,
                             "%s is set but ECIF_TLS_CA is not: set "
                             "ECIF_TLS_CA to the CA file to speak TLS, or "
                             "unset %s",
                             set, set);
        out->credentials = grpc_insecure_credentials_create();
        return ECIF_OK;
    }
    if ((cert_path == NULL) != (key_path == NULL))
        return ecif_fail(ECIF_EINVAL, err, errlen,
                         "ECIF_TLS_CERT and ECIF_TLS_KEY come together; "
                         "only %s is set",
                         cert_path != NULL ? "ECIF_TLS_CERT" : "ECIF_TLS_KEY");
    if (name != NULL) {
        int rc = check_server_name(name, err, errlen);
        if (rc != ECIF_OK)
            return rc;
    }

    char *ca = NULL, *cert = NULL, *key = NULL;
    size_t ca_len = 0, cert_len = 0, key_len = 0;
    int rc = read_pem("ECIF_TLS_CA", ca_path, false, &ca, &ca_len, err, errlen);
    if (rc == ECIF_OK && cert_path != NULL)
        rc = read_pem("ECIF_TLS_CERT", cert_path, false, &cert, &cert_len, err,
                      errlen);
    if (rc == ECIF_OK && key_path != NULL)
        rc = read_pem("ECIF_TLS_KEY", key_path, true, &key, &key_len, err,
                      errlen);
    if (rc == ECIF_OK) {
        grpc_ssl_pem_key_cert_pair pair = {.private_key = key,
                                           .cert_chain = cert};
        /* gRPC copies the strings. */
        out->credentials = grpc_ssl_credentials_create(
            ca, cert != NULL ? &pair : NULL, NULL, NULL);
        out->server_name = name;
        out->tls = true;
        if (out->credentials == NULL)
            rc = ecif_fail(ECIF_ENOMEM, err, errlen,
                           "out of memory setting up TLS");
    }
    free(ca);
    free(cert);
    free_secret(key, key_len);
    return rc;
}

grpc_channel *ecif_tls_channel_create(const ecif_tls_client_t *client,
                                      const char *target,
                                      const grpc_channel_args *args)
{
    size_t n = args != NULL ? args->num_args : 0;
    grpc_arg *list = calloc(n + 1, sizeof(*list));
    if (list == NULL)
        return NULL;
    grpc_channel_args all = {.num_args = n, .args = list};
    if (n > 0)
        memcpy(list, args->args, n * sizeof(*list));
    if (client->server_name != NULL)
        list[all.num_args++] = (grpc_arg){
            .type = GRPC_ARG_STRING,
            .key = GRPC_SSL_TARGET_NAME_OVERRIDE_ARG,
            .value.string = (char *)client->server_name,
        };
    /* gRPC copies the arguments. */
    grpc_channel *channel =
        grpc_channel_create(target, client->credentials, &all);
    free(list);
    return channel;
}
