/*
 * Phone number parsing. The text is scanned once into the digits of the
 * number and of an extension, then classified: an explicit country code
 * ("+", "00") decides first, then the mainland China forms, then a
 * "86" prefix without a plus sign, then the caller's default country.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "normalize.h"
#include "phone.h"

/* Digits kept while scanning; more than E.164 allows makes a number
 * invalid, so the bound only needs to exceed 15 plus a "00" prefix. */
#define PHONE_SCAN_DIGITS 20

struct phone_scan {
    char digits[PHONE_SCAN_DIGITS + 1];
    size_t ndigits;
    char extension[PHONE_EXTENSION_MAX];
    size_t nextension;
    bool plus;
    bool in_extension;
    const char *reason;
};

/* Maps full-width ASCII forms and the ideographic space to ASCII. */
static uint32_t fold_full_width(uint32_t cp)
{
    if (cp >= 0xFF01 && cp <= 0xFF5E)
        return cp - 0xFEE0;
    if (cp == 0x3000)
        return ' ';
    return cp;
}

static bool is_separator(uint32_t cp)
{
    return cp == ' ' || cp == '\t' || cp == '-' || cp == '.' || cp == '/' ||
           cp == '(' || cp == ')';
}

static bool is_ascii_letter(uint32_t cp)
{
    return (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z');
}

/* Reads an ASCII word starting at *p (already past its first letter cp)
 * and returns true when it names an extension: x, ext, extn, extension. */
static bool read_extension_word(uint32_t first, const char **p, const char *end)
{
    char word[12];
    size_t n = 0;

    word[n++] = (char)(first | 0x20);
    while (*p < end) {
        const char *q = *p;
        uint32_t cp = fold_full_width(ecif_utf8_next(&q, end));
        if (!is_ascii_letter(cp))
            break;
        if (n + 1 >= sizeof(word))
            return false;
        word[n++] = (char)(cp | 0x20);
        *p = q;
    }
    word[n] = '\0';
    if (*p < end && **p == '.')
        (*p)++;
    return strcmp(word, "x") == 0 || strcmp(word, "ext") == 0 ||
           strcmp(word, "extn") == 0 || strcmp(word, "extension") == 0;
}

static bool scan_digit(struct phone_scan *s, uint32_t cp)
{
    if (s->in_extension) {
        if (s->nextension + 1 >= sizeof(s->extension)) {
            s->reason = "extension longer than 8 digits";
            return false;
        }
        s->extension[s->nextension++] = (char)cp;
        return true;
    }
    if (s->ndigits >= PHONE_SCAN_DIGITS) {
        s->reason = "more than 15 digits";
        return false;
    }
    s->digits[s->ndigits++] = (char)cp;
    return true;
}

static bool start_extension(struct phone_scan *s)
{
    if (s->ndigits == 0 || s->in_extension) {
        s->reason = "misplaced extension mark";
        return false;
    }
    s->in_extension = true;
    return true;
}

/* Splits text into number digits and extension digits. */
static bool scan(const char *text, struct phone_scan *s)
{
    const char *p = text;
    const char *end = text + strlen(text);

    memset(s, 0, sizeof(*s));
    if (!ecif_utf8_valid(text, (size_t)(end - text))) {
        s->reason = "invalid UTF-8";
        return false;
    }
    while (p < end) {
        uint32_t cp = fold_full_width(ecif_utf8_next(&p, end));
        bool ok = true;

        if (cp >= '0' && cp <= '9')
            ok = scan_digit(s, cp);
        else if (is_separator(cp))
            continue;
        else if (cp == '+' && s->ndigits == 0 && !s->plus)
            s->plus = true;
        else if (cp == '#' || cp == 0x8F6C) /* 转 */
            ok = start_extension(s);
        else if (cp == 0x5206 && p < end && ecif_utf8_next(&p, end) == 0x673A)
            ok = start_extension(s); /* 分机 */
        else if (is_ascii_letter(cp) && read_extension_word(cp, &p, end))
            ok = start_extension(s);
        else {
            s->reason = is_ascii_letter(cp) ? "contains letters"
                                            : "contains a character that is "
                                              "not a digit or separator";
            ok = false;
        }
        if (!ok)
            return false;
    }
    s->digits[s->ndigits] = '\0';
    s->extension[s->nextension] = '\0';
    return true;
}

/*
 * Length of the country code that starts d, following the ITU-T E.164
 * zones. Codes 1 and 7 have one digit. In each other zone the listed
 * two-digit codes are assigned and the remaining prefixes take three digits.
 * Returns 0 for zone 0, which is not a country code.
 */
static size_t country_code_length(const char *d)
{
    static const char *const two_digit[] = {
        "20", "27", "30", "31", "32", "33", "34", "36", "39", "40", "41",
        "43", "44", "45", "46", "47", "48", "49", "51", "52", "53", "54",
        "55", "56", "57", "58", "60", "61", "62", "63", "64", "65", "66",
        "81", "82", "84", "86", "90", "91", "92", "93", "94", "95", "98",
    };

    if (d[0] == '0' || d[0] == '\0')
        return 0;
    if (d[0] == '1' || d[0] == '7')
        return 1;
    if (d[1] == '\0')
        return 0;
    for (size_t i = 0; i < sizeof(two_digit) / sizeof(two_digit[0]); i++)
        if (memcmp(d, two_digit[i], 2) == 0)
            return 2;
    return 3;
}

static void set_canonical(struct phone_info *out, const char *prefix,
                          const char *digits, size_t n)
{
    size_t plen = strlen(prefix);

    memcpy(out->canonical, prefix, plen);
    memcpy(out->canonical + plen, digits, n);
    out->canonical[plen + n] = '\0';
}

static bool is_subscriber(const char *d, size_t n)
{
    return (n == 7 || n == 8) && d[0] >= '2' && d[0] <= '9';
}

/* Length of the area code (without the trunk 0) that starts d, or 0. */
static size_t cn_area_length(const char *d, size_t n)
{
    if (n < 2)
        return 0;
    if (d[0] == '1')
        return d[1] == '0' ? 2 : 0; /* 10 is Beijing; other 1x are mobile */
    if (d[0] == '2')
        return 2;
    if (d[0] >= '3' && d[0] <= '9' && n >= 3)
        return 3;
    return 0;
}

static void set_landline(struct phone_info *out, const char *area, size_t alen,
                         const char *sub, size_t slen)
{
    char national[16];

    memcpy(national, area, alen);
    memcpy(national + alen, sub, slen);
    set_canonical(out, "+86", national, alen + slen);
    memcpy(out->area_code, area, alen);
    out->area_code[alen] = '\0';
    memcpy(out->subscriber, sub, slen);
    out->subscriber[slen] = '\0';
    out->kind = PHONE_CN_LANDLINE;
    out->country_code = PHONE_CC_CHINA;
}

/*
 * Classifies mainland national digits. With the trunk 0 the subscriber
 * number may have 7 or 8 digits. Without it, a two-digit area code needs 8,
 * because every city with such a code dials 8 digits, so 9-digit strings
 * are not read as landlines.
 */
static bool classify_cn(const char *d, size_t n, struct phone_info *out)
{
    bool trunk = n > 0 && d[0] == '0';
    const char *a = trunk ? d + 1 : d;
    size_t an = trunk ? n - 1 : n;

    if (!trunk && n == 11 && d[0] == '1' && d[1] >= '3' && d[1] <= '9') {
        set_canonical(out, "+86", d, n);
        out->kind = PHONE_CN_MOBILE;
        out->country_code = PHONE_CC_CHINA;
        return true;
    }
    if (!trunk && n == 10 &&
        (memcmp(d, "400", 3) == 0 || memcmp(d, "800", 3) == 0)) {
        set_canonical(out, "+86", d, n);
        out->kind = PHONE_CN_SERVICE;
        out->country_code = PHONE_CC_CHINA;
        return true;
    }

    size_t alen = cn_area_length(a, an);
    if (alen == 0 || !is_subscriber(a + alen, an - alen))
        return false;
    if (!trunk && alen == 2 && an - alen != 8)
        return false;
    set_landline(out, a, alen, a + alen, an - alen);
    return true;
}

static size_t fail(struct phone_info *out, const char *reason)
{
    memset(out, 0, sizeof(*out));
    out->kind = PHONE_INVALID;
    out->reason = reason;
    return 0;
}

/* Digits that follow "+" or "00": a country code and a national number. */
static size_t classify_international(const char *d, size_t n,
                                     struct phone_info *out)
{
    size_t cclen = country_code_length(d);

    if (cclen == 0 || cclen >= n)
        return fail(out, "invalid country code");
    /* E.164 numbers have at most 15 digits; more would overflow
     * out->canonical on the +86 path too. */
    if (n > 15)
        return fail(out, "more than 15 digits");
    if (cclen == 2 && memcmp(d, "86", 2) == 0) {
        if (classify_cn(d + 2, n - 2, out))
            return strlen(out->canonical);
        if (n - 2 < 5)
            return fail(out, "fewer than 5 digits");
        /* A mainland number of no known form: compare its digits only. */
        set_canonical(out, "", d + 2, n - 2);
        out->kind = PHONE_UNKNOWN;
        out->country_code = PHONE_CC_CHINA;
        return n - 2;
    }
    if (n < 7)
        return fail(out, "fewer than 7 digits with the country code");

    uint16_t cc = 0;
    for (size_t i = 0; i < cclen; i++)
        cc = (uint16_t)(cc * 10 + (d[i] - '0'));
    set_canonical(out, "+", d, n);
    out->kind = PHONE_FOREIGN;
    out->country_code = cc;
    return n + 1;
}

/* National digits of a number in default_country (not 0, not 86). */
static size_t classify_default(const char *d, size_t n, uint16_t cc,
                               struct phone_info *out)
{
    char full[PHONE_SCAN_DIGITS + 8];
    int len;

    /* The trunk prefix is dropped, except in Italy where 0 is part of the
     * number. A NANP number may be written with its country code 1. */
    if (cc == 1 && n == 11 && d[0] == '1') {
        d++;
        n--;
    } else if (cc != 39 && d[0] == '0') {
        d++;
        n--;
    }
    len = snprintf(full, sizeof(full), "%u%.*s", (unsigned)cc, (int)n, d);
    if (len < 0 || (size_t)len >= sizeof(full))
        return fail(out, "more than 15 digits");
    return classify_international(full, (size_t)len, out);
}

size_t phone_normalize(const char *text, uint16_t default_country,
                       struct phone_info *out)
{
    struct phone_scan s;
    size_t n;

    if (text == NULL || !scan(text, &s))
        return fail(out, text == NULL ? "missing" : s.reason);
    memset(out, 0, sizeof(*out));
    memcpy(out->extension, s.extension, s.nextension + 1);
    n = s.ndigits;
    if (n < 5)
        return fail(out, "fewer than 5 digits");

    if (s.plus)
        return classify_international(s.digits, n, out);
    if (n > 2 && memcmp(s.digits, "00", 2) == 0)
        return classify_international(s.digits + 2, n - 2, out);
    if (default_country == 0 || default_country == PHONE_CC_CHINA) {
        if (classify_cn(s.digits, n, out))
            return strlen(out->canonical);
        if (n > 2 && memcmp(s.digits, "86", 2) == 0 &&
            classify_cn(s.digits + 2, n - 2, out))
            return strlen(out->canonical);
    } else {
        return classify_default(s.digits, n, default_country, out);
    }
    if (n > 15)
        return fail(out, "more than 15 digits");
    set_canonical(out, "", s.digits, n);
    out->kind = PHONE_UNKNOWN;
    out->country_code = default_country;
    return n;
}

size_t phone_match_key(const struct phone_info *info, char *out, size_t outlen)
{
    const char *key;
    size_t n;

    if (outlen == 0)
        return 0;
    out[0] = '\0';
    switch (info->kind) {
    case PHONE_CN_LANDLINE:
        key = info->subscriber;
        break;
    case PHONE_UNKNOWN:
        key = info->canonical;
        if (strlen(key) > 8)
            key += strlen(key) - 8;
        break;
    case PHONE_CN_MOBILE:
    case PHONE_CN_SERVICE:
    case PHONE_FOREIGN:
        key = info->canonical;
        break;
    default:
        return 0;
    }
    n = strlen(key);
    if (n + 1 > outlen)
        return 0;
    memcpy(out, key, n + 1);
    return n;
}

const char *phone_kind_str(enum phone_kind kind)
{
    switch (kind) {
    case PHONE_INVALID:
        return "invalid";
    case PHONE_UNKNOWN:
        return "unknown";
    case PHONE_CN_MOBILE:
        return "cn_mobile";
    case PHONE_CN_LANDLINE:
        return "cn_landline";
    case PHONE_CN_SERVICE:
        return "cn_service";
    case PHONE_FOREIGN:
        return "foreign";
    }
    return "invalid";
}
