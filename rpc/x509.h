/*
 * The dates of validity of a PEM certificate, read without a TLS library.
 * It parses enough of DER (X.690) to reach the Validity of the first
 * certificate (RFC 5280, section 4.1.2.5), so that ecifd can warn about
 * an expired or expiring certificate before clients fail their
 * handshakes.
 */
#ifndef ECIF_RPC_X509_H
#define ECIF_RPC_X509_H

#include <stdint.h>

/*
 * Reads notBefore and notAfter, as Unix seconds, of the first
 * CERTIFICATE block of pem (NUL-terminated PEM text). Returns ECIF_OK, or
 * ECIF_EINVAL when there is no such block or its DER does not have the
 * shape of a certificate.
 */
int ecif_x509_validity(const char *pem, int64_t *not_before,
                       int64_t *not_after);

#endif
