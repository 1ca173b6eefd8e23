/*
 * Fuzz target for engine/phone.h and engine/email.h. The first input byte
 * picks the default calling code, the rest is the number and, as a
 * second case, the address. Checks the parsed fields against the kinds
 * the header defines and the email rules against the normalized form.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "email.h"
#include "fuzz_common.h"
#include "phone.h"

static const uint16_t default_countries[] = {0, PHONE_CC_CHINA, 1, 44, 852};

static bool digits_only(const char *s)
{
    return strspn(s, "0123456789") == strlen(s);
}

static void check_phone_fields(const struct phone_info *p, size_t n)
{
    FUZZ_CHECK(memchr(p->canonical, '\0', sizeof(p->canonical)) ==
               p->canonical + n);
    FUZZ_CHECK(memchr(p->area_code, '\0', sizeof(p->area_code)) != NULL);
    FUZZ_CHECK(memchr(p->subscriber, '\0', sizeof(p->subscriber)) != NULL);
    FUZZ_CHECK(memchr(p->extension, '\0', sizeof(p->extension)) != NULL);
    FUZZ_CHECK(digits_only(p->extension));
    FUZZ_CHECK(phone_kind_str(p->kind) != NULL);

    if (n == 0) {
        FUZZ_CHECK(p->kind == PHONE_INVALID);
        FUZZ_CHECK(p->reason != NULL);
        return;
    }
    FUZZ_CHECK(p->kind != PHONE_INVALID);
    if (p->kind == PHONE_UNKNOWN) {
        FUZZ_CHECK(digits_only(p->canonical));
    } else {
        FUZZ_CHECK(p->canonical[0] == '+');
        FUZZ_CHECK(digits_only(p->canonical + 1));
    }
    if (p->kind == PHONE_CN_MOBILE) {
        FUZZ_CHECK(n == 14 && strncmp(p->canonical, "+861", 4) == 0);
        FUZZ_CHECK(p->canonical[4] >= '3' && p->canonical[4] <= '9');
    }
    if (p->kind == PHONE_CN_LANDLINE) {
        size_t sub = strlen(p->subscriber);

        FUZZ_CHECK(sub == 7 || sub == 8);
        FUZZ_CHECK(digits_only(p->area_code) && p->area_code[0] != '\0');
    }
    if (p->kind == PHONE_CN_MOBILE || p->kind == PHONE_CN_LANDLINE ||
        p->kind == PHONE_CN_SERVICE)
        FUZZ_CHECK(p->country_code == PHONE_CC_CHINA);
    if (p->kind == PHONE_FOREIGN)
        FUZZ_CHECK(p->country_code != PHONE_CC_CHINA);
}

static void check_phone(const char *text, uint16_t country)
{
    struct phone_info info;
    size_t n = phone_normalize(text, country, &info);

    check_phone_fields(&info, n);
    for (size_t i = 0; i < FUZZ_N_OUT_SIZES; i++) {
        size_t outlen = fuzz_out_sizes[i];
        char *out = malloc(outlen);
        size_t k;

        if (out == NULL)
            abort();
        k = phone_match_key(&info, out, outlen);
        fuzz_check_out(out, outlen, k, true);
        if (n == 0)
            FUZZ_CHECK(k == 0);
        free(out);
    }
}

/* The normalized address follows every rule email.h states. */
static void check_email_form(const char *e, size_t n)
{
    const char *at = strchr(e, '@');
    const char *domain;
    size_t dlen;

    FUZZ_CHECK(at != NULL && strchr(at + 1, '@') == NULL);
    FUZZ_CHECK(at > e);
    domain = at + 1;
    dlen = strlen(domain);
    FUZZ_CHECK(dlen > 0 && strchr(domain, '.') != NULL);
    FUZZ_CHECK(domain[0] != '.' && domain[dlen - 1] != '.');
    FUZZ_CHECK(strstr(e, "..") == NULL);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)e[i];

        FUZZ_CHECK(c > ' ' && c != 0x7F);
        FUZZ_CHECK(!(c >= 'A' && c <= 'Z'));
    }
}

static void check_email(const char *text)
{
    char norm[ECIF_NORM_MAX];
    char again[ECIF_NORM_MAX];
    char key[ECIF_NORM_MAX];
    size_t n = fuzz_run_writer(email_normalize, text, norm);
    size_t k = fuzz_run_writer(email_match_key, text, key);

    /* An address whose local part is only a "+tag" has no key. */
    if (n == 0)
        FUZZ_CHECK(k == 0);
    if (n == 0)
        return;
    check_email_form(norm, n);
    FUZZ_CHECK(k <= n);
    if (k == 0) {
        FUZZ_CHECK(norm[0] == '+');
        return;
    }
    check_email_form(key, k);
    FUZZ_CHECK(email_normalize(norm, again, sizeof(again)) == n);
    FUZZ_CHECK(strcmp(norm, again) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *in;
    uint16_t country;

    if (size == 0)
        return 0;
    country = default_countries[data[0] % (sizeof(default_countries) /
                                           sizeof(default_countries[0]))];
    in = fuzz_cstring(data + 1, size - 1);
    check_phone(in, country);
    check_email(in);
    free(in);
    return 0;
}
