/*
 * Fuzz target for rpc/x509.h. The input is the DER of a certificate,
 * wrapped as one PEM block, unless a first byte 'P' passes the rest as
 * PEM text. The reader must return ECIF_OK or ECIF_EINVAL and read
 * nothing outside the input. On ECIF_OK its times lie in years 0 to 9999.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "status.h"
#include "x509.h"

static const char alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Returns data as a PEM CERTIFICATE block, malloc'd. */
static char *wrap(const uint8_t *data, size_t size)
{
    static const char begin[] = "-----BEGIN CERTIFICATE-----\n";
    static const char end[] = "\n-----END CERTIFICATE-----\n";
    char *pem = malloc(sizeof(begin) + (size + 2) / 3 * 4 + size / 48 +
                       sizeof(end) + 1);
    if (pem == NULL)
        return NULL;
    size_t n = 0;
    memcpy(pem, begin, sizeof(begin) - 1);
    n = sizeof(begin) - 1;
    for (size_t i = 0; i < size; i += 3) {
        uint32_t v = (uint32_t)data[i] << 16;
        if (i + 1 < size)
            v |= (uint32_t)data[i + 1] << 8;
        if (i + 2 < size)
            v |= data[i + 2];
        pem[n++] = alphabet[v >> 18 & 63];
        pem[n++] = alphabet[v >> 12 & 63];
        pem[n++] = i + 1 < size ? alphabet[v >> 6 & 63] : '=';
        pem[n++] = i + 2 < size ? alphabet[v & 63] : '=';
        if (i % 48 == 45)
            pem[n++] = '\n';
    }
    memcpy(pem + n, end, sizeof(end));
    return pem;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text;

    if (size > 0 && data[0] == 'P') {
        text = malloc(size);
        if (text == NULL)
            return 0;
        memcpy(text, data + 1, size - 1);
        text[size - 1] = '\0';
    } else {
        text = wrap(data, size);
        if (text == NULL)
            return 0;
    }
    int64_t not_before = 0, not_after = 0;
    int rc = ecif_x509_validity(text, &not_before, &not_after);
    FUZZ_CHECK(rc == ECIF_OK || rc == ECIF_EINVAL);
    if (rc == ECIF_OK) {
        /* Year 0 to 9999 in Unix seconds, whatever the fields held. */
        FUZZ_CHECK(not_before >= -62167219200LL && not_before < 253402300800LL);
        FUZZ_CHECK(not_after >= -62167219200LL && not_after < 253402300800LL);
    }
    free(text);
    return 0;
}
