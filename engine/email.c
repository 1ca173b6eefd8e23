/*
 * Email normalization. Folding works code point by code point, so the only
 * change to non-ASCII text is the full-width to ASCII mapping.
 */
#include <stdbool.h>
#include <string.h>

#include "email.h"
#include "normalize.h"

static uint32_t fold_full_width(uint32_t cp)
{
    if (cp >= 0xFF01 && cp <= 0xFF5E)
        return cp - 0xFEE0;
    if (cp == 0x3000)
        return ' ';
    return cp;
}

static bool is_space(uint32_t cp)
{
    return cp == ' ' || cp == '\t' || cp == '\r' || cp == '\n';
}

/* Encodes cp into out at *n when it fits before cap - 1. */
static bool put(char *out, size_t *n, size_t cap, uint32_t cp)
{
    char buf[4];
    size_t len;

    if (cp < 0x80) {
        buf[0] = (char)cp;
        len = 1;
    } else if (cp < 0x800) {
        buf[0] = (char)(0xC0 | (cp >> 6));
        buf[1] = (char)(0x80 | (cp & 0x3F));
        len = 2;
    } else if (cp < 0x10000) {
        buf[0] = (char)(0xE0 | (cp >> 12));
        buf[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        buf[2] = (char)(0x80 | (cp & 0x3F));
        len = 3;
    } else {
        buf[0] = (char)(0xF0 | (cp >> 18));
        buf[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        buf[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        buf[3] = (char)(0x80 | (cp & 0x3F));
        len = 4;
    }
    if (*n + len + 1 > cap)
        return false;
    memcpy(out + *n, buf, len);
    *n += len;
    return true;
}

/* Checks the structure of a folded address of n bytes. */
static bool email_well_formed(const char *s, size_t n)
{
    const char *at = memchr(s, '@', n);

    if (at == NULL || at == s || memchr(at + 1, '@', n - 1 - (size_t)(at - s)))
        return false;
    if (memmem(s, n, "..", 2) != NULL)
        return false;

    const char *domain = at + 1;
    size_t dlen = n - (size_t)(domain - s);
    if (dlen < 3 || domain[0] == '.' || domain[dlen - 1] == '.' ||
        memchr(domain, '.', dlen) == NULL)
        return false;
    return s[0] != '.' && at[-1] != '.';
}

size_t email_normalize(const char *text, char *out, size_t outlen)
{
    size_t n = 0;
    size_t trailing_spaces = 0;

    if (outlen == 0)
        return 0;
    out[0] = '\0';
    if (text == NULL || !ecif_utf8_valid(text, strlen(text)))
        return 0;

    size_t cap = outlen < ECIF_NORM_MAX ? outlen : ECIF_NORM_MAX;
    const char *p = text;
    const char *end = text + strlen(text);
    while (p < end) {
        uint32_t cp = fold_full_width(ecif_utf8_next(&p, end));
        if (is_space(cp)) {
            if (n > 0)
                trailing_spaces++;
            continue;
        }
        if (trailing_spaces > 0 || cp < 0x20 || cp == 0x7F)
            goto invalid; /* a space or control character inside */
        if (cp >= 'A' && cp <= 'Z')
            cp |= 0x20;
        if (!put(out, &n, cap, cp))
            goto invalid; /* a cut address is another address */
    }
    out[n] = '\0';
    if (!email_well_formed(out, n))
        goto invalid;
    return n;

invalid:
    out[0] = '\0';
    return 0;
}

static bool is_gmail(const char *domain)
{
    return strcmp(domain, "gmail.com") == 0 ||
           strcmp(domain, "googlemail.com") == 0;
}

size_t email_match_key(const char *text, char *out, size_t outlen)
{
    char norm[ECIF_NORM_MAX];
    size_t n = email_normalize(text, norm, sizeof(norm));

    if (outlen == 0)
        return 0;
    out[0] = '\0';
    if (n == 0)
        return 0;

    char *at = strchr(norm, '@');
    const char *domain = at + 1;
    bool gmail = is_gmail(domain);
    size_t k = 0;
    for (const char *p = norm; p < at && *p != '+'; p++) {
        if (gmail && *p == '.')
            continue;
        if (k + 1 >= outlen)
            goto too_small;
        out[k++] = *p;
    }
    if (k == 0)
        return 0; /* "+tag@domain": nothing left to compare */
    if (gmail)
        domain = "gmail.com";

    size_t dlen = strlen(domain);
    if (k + 1 + dlen + 1 > outlen)
        goto too_small;
    out[k++] = '@';
    memcpy(out + k, domain, dlen + 1);
    return k + dlen;

too_small:
    out[0] = '\0';
    return 0;
}
