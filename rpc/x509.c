/*
 * Certificate validity from DER. Only the path to Validity is walked:
 * Certificate and TBSCertificate (SEQUENCE), an optional [0] version, the
 * serial number, the signature algorithm and the issuer, then the two
 * times (UTCTime or GeneralizedTime).
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "status.h"
#include "x509.h"

/* Decodes the base64 lines of the first CERTIFICATE block into a malloc'd
 * buffer; NULL when there is none or out of memory. */
static unsigned char *first_certificate(const char *pem, size_t *len)
{
    static const char begin[] = "-----BEGIN CERTIFICATE-----";
    const char *p = strstr(pem, begin);
    if (p == NULL)
        return NULL;
    /* The END line is searched after the BEGIN line, whose closing dashes
     * could otherwise start it. */
    p += sizeof(begin) - 1;
    const char *end = strstr(p, "-----END CERTIFICATE-----");
    if (end == NULL)
        return NULL;
    unsigned char *out = malloc((size_t)(end - p) / 4 * 3 + 3);
    if (out == NULL)
        return NULL;
    uint32_t bits = 0;
    int nbits = 0;
    size_t n = 0;
    for (; p < end; p++) {
        int v;
        char c = *p;
        if (c >= 'A' && c <= 'Z')
            v = c - 'A';
        else if (c >= 'a' && c <= 'z')
            v = c - 'a' + 26;
        else if (c >= '0' && c <= '9')
            v = c - '0' + 52;
        else if (c == '+')
            v = 62;
        else if (c == '/')
            v = 63;
        else
            continue; /* line breaks and '=' padding */
        bits = bits << 6 | (uint32_t)v;
        nbits += 6;
        if (nbits >= 8) {
            nbits -= 8;
            out[n++] = (unsigned char)(bits >> nbits);
        }
    }
    *len = n;
    return out;
}

/* A DER reader over [p, end). */
struct der {
    const unsigned char *p;
    const unsigned char *end;
};

/*
 * Reads the tag and length of the next element. On success *body is the
 * reader of its contents and d moves past it.
 */
static bool der_next(struct der *d, unsigned char *tag, struct der *body)
{
    if (d->end - d->p < 2)
        return false;
    *tag = d->p[0];
    size_t len = d->p[1];
    const unsigned char *q = d->p + 2;
    if (len & 0x80) {
        size_t bytes = len & 0x7f;
        if (bytes == 0 || bytes > 3 || (size_t)(d->end - q) < bytes)
            return false;
        len = 0;
        for (size_t i = 0; i < bytes; i++)
            len = len << 8 | *q++;
    }
    if ((size_t)(d->end - q) < len)
        return false;
    body->p = q;
    body->end = q + len;
    d->p = q + len;
    return true;
}

/* Reads a DER time (UTCTime, tag 0x17, or GeneralizedTime, 0x18). */
static bool der_time(struct der *d, int64_t *out)
{
    unsigned char tag;
    struct der t;
    if (!der_next(d, &tag, &t))
        return false;
    size_t len = (size_t)(t.end - t.p);
    size_t year_digits = 0;
    if (tag == 0x17)
        year_digits = 2; /* UTCTime */
    else if (tag == 0x18)
        year_digits = 4; /* GeneralizedTime */
    if (year_digits == 0 || len != year_digits + 11 || t.p[len - 1] != 'Z')
        return false;
    int v[7] = {0};
    const unsigned char *c = t.p;
    /* year, month, day, hour, minute, second */
    int widths[6] = {(int)year_digits, 2, 2, 2, 2, 2};
    for (int f = 0; f < 6; f++) {
        for (int i = 0; i < widths[f]; i++, c++) {
            if (*c < '0' || *c > '9')
                return false;
            v[f] = v[f] * 10 + (*c - '0');
        }
    }
    if (year_digits == 2) /* RFC 5280: 50 to 99 are 19YY */
        v[0] += v[0] >= 50 ? 1900 : 2000;
    /* timegm would carry a month 13 or an hour 25 into the next field. */
    if (v[1] < 1 || v[1] > 12 || v[2] < 1 || v[2] > 31 || v[3] > 23 ||
        v[4] > 59 || v[5] > 60)
        return false;
    struct tm tm = {.tm_year = v[0] - 1900,
                    .tm_mon = v[1] - 1,
                    .tm_mday = v[2],
                    .tm_hour = v[3],
                    .tm_min = v[4],
                    .tm_sec = v[5]};
    *out = (int64_t)timegm(&tm);
    return true;
}

int ecif_x509_validity(const char *pem, int64_t *not_before, int64_t *not_after)
{
    size_t len = 0;
    unsigned char *der = first_certificate(pem, &len);
    if (der == NULL)
        return ECIF_EINVAL;

    struct der all = {der, der + len}, cert, tbs, skip;
    unsigned char tag;
    bool ok = der_next(&all, &tag, &cert) && tag == 0x30 &&
              der_next(&cert, &tag, &tbs) && tag == 0x30;
    if (ok && tbs.p < tbs.end && tbs.p[0] == 0xA0) /* [0] version */
        ok = der_next(&tbs, &tag, &skip);
    /* serialNumber, signature algorithm, issuer */
    ok = ok && der_next(&tbs, &tag, &skip) && tag == 0x02 &&
         der_next(&tbs, &tag, &skip) && tag == 0x30 &&
         der_next(&tbs, &tag, &skip) && tag == 0x30;
    struct der validity;
    ok = ok && der_next(&tbs, &tag, &validity) && tag == 0x30 &&
         der_time(&validity, not_before) && der_time(&validity, not_after);
    free(der);
    return ok ? ECIF_OK : ECIF_EINVAL;
}
