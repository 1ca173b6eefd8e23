/*
 * Normalization of field values. First version: hand-written folding for
 * ASCII, full-width forms and Latin-1; other scripts pass through.
 */
#include <ctype.h>
#include <string.h>

#include "normalize.h"
#include "status.h"

bool ecif_utf8_valid(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    const unsigned char *end = p + len;

    while (p < end) {
        unsigned char c = *p;
        size_t n;
        uint32_t cp;

        if (c == 0)
            return false;
        if (c < 0x80) {
            p++;
            continue;
        }
        if (c >= 0xC2 && c <= 0xDF) {
            n = 1;
            cp = c & 0x1F;
        } else if (c >= 0xE0 && c <= 0xEF) {
            n = 2;
            cp = c & 0x0F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            n = 3;
            cp = c & 0x07;
        } else {
            return false;
        }
        if ((size_t)(end - p) <= n)
            return false;
        for (size_t i = 1; i <= n; i++) {
            if ((p[i] & 0xC0) != 0x80)
                return false;
            cp = (cp << 6) | (p[i] & 0x3F);
        }
        if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
            cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        p += n + 1;
    }
    return true;
}

uint32_t ecif_utf8_next(const char **pp, const char *end)
{
    const unsigned char *p = (const unsigned char *)*pp;
    unsigned char c = *p;
    size_t n;
    uint32_t cp;

    if (c < 0x80) {
        *pp += 1;
        return c;
    }
    if (c >= 0xC2 && c <= 0xDF) {
        n = 1;
        cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 2;
        cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 3;
        cp = c & 0x07;
    } else {
        *pp += 1;
        return 0xFFFD;
    }
    if ((size_t)(end - (const char *)p) <= n) { /* sequence cut short */
        *pp += 1;
        return 0xFFFD;
    }
    for (size_t i = 1; i <= n; i++) {
        if ((p[i] & 0xC0) != 0x80) {
            *pp += 1;
            return 0xFFFD;
        }
        cp = (cp << 6) | (p[i] & 0x3F);
    }
    *pp += n + 1;
    return cp;
}

static size_t utf8_put(uint32_t cp, char *out)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Base letters of U+00C0..U+00FF; '\0' where the character is no letter. */
static const char latin1_base[64] = {
    'a', 'a', 'a', 'a', 'a', 'a', 'a', 'c', 'e', 'e', 'e', 'e', 'i',
    'i', 'i', 'i', 'd', 'n', 'o', 'o', 'o', 'o', 'o', 0,   'o', 'u',
    'u', 'u', 'u', 'y', 0,   's', 'a', 'a', 'a', 'a', 'a', 'a', 'a',
    'c', 'e', 'e', 'e', 'e', 'i', 'i', 'i', 'i', 'd', 'n', 'o', 'o',
    'o', 'o', 'o', 0,   'o', 'u', 'u', 'u', 'u', 'y', 0,   'y',
};

enum fold_class { FOLD_SPACE, FOLD_KEEP };

/*
 * Folds one code point. Returns FOLD_SPACE for separators and punctuation,
 * otherwise FOLD_KEEP with the folded code point in *cp.
 */
static enum fold_class fold_code_point(uint32_t *cp)
{
    uint32_t c = *cp;

    if (c >= 0xFF01 && c <= 0xFF5E) /* full-width ASCII */
        c -= 0xFEE0;
    if (c == 0x3000 || c == 0xFFFD)
        return FOLD_SPACE;
    if (c < 0x80) {
        if (isalnum((int)c)) {
            *cp = (uint32_t)tolower((int)c);
            return FOLD_KEEP;
        }
        return FOLD_SPACE;
    }
    if (c >= 0xC0 && c <= 0xFF) {
        char base = latin1_base[c - 0xC0];
        if (base == 0)
            return FOLD_SPACE;
        *cp = (uint32_t)base;
        return FOLD_KEEP;
    }
    if (c < 0xC0) /* Latin-1 punctuation and symbols */
        return FOLD_SPACE;
    if ((c >= 0x3001 && c <= 0x303F) || (c >= 0xFE30 && c <= 0xFE4F) ||
        (c >= 0x2000 && c <= 0x206F) || c == 0x00B7 || c == 0x30FB)
        return FOLD_SPACE; /* CJK and general punctuation, middle dots */
    *cp = c;
    return FOLD_KEEP;
}

/* Shared folding loop; keep_digits decides whether digits survive. */
static size_t fold(const char *in, char *out, size_t outlen, bool keep_digits)
{
    size_t n = 0;
    bool pending_space = false;

    if (outlen == 0)
        return 0;
    if (in == NULL) {
        out[0] = '\0';
        return 0;
    }

    const char *p = in;
    const char *end = in + strlen(in);
    size_t cap = outlen < ECIF_NORM_MAX ? outlen : ECIF_NORM_MAX;

    while (p < end) {
        uint32_t cp = ecif_utf8_next(&p, end);
        char buf[4];
        size_t len;

        if (fold_code_point(&cp) == FOLD_SPACE ||
            (!keep_digits && cp < 0x80 && isdigit((int)cp))) {
            pending_space = n > 0;
            continue;
        }
        len = utf8_put(cp, buf);
        if (n + (pending_space ? 1 : 0) + len + 1 > cap)
            break;
        if (pending_space)
            out[n++] = ' ';
        pending_space = false;
        memcpy(out + n, buf, len);
        n += len;
    }
    out[n] = '\0';
    return n;
}

size_t ecif_norm_text(const char *in, char *out, size_t outlen)
{
    return fold(in, out, outlen, true);
}

size_t ecif_norm_name(const char *in, char *out, size_t outlen)
{
    return fold(in, out, outlen, false);
}

/* Collects ASCII and full-width digits of in. */
static size_t collect_digits(const char *in, char *out, size_t outlen)
{
    const char *p = in;
    const char *end = in + strlen(in);
    size_t n = 0;

    while (p < end && n + 1 < outlen) {
        uint32_t cp = ecif_utf8_next(&p, end);
        if (cp >= 0xFF10 && cp <= 0xFF19)
            cp -= 0xFEE0;
        if (cp == 'x' || cp == 'X') /* an extension starts */
            break;
        if (cp >= '0' && cp <= '9')
            out[n++] = (char)cp;
    }
    out[n] = '\0';
    return n;
}

size_t ecif_norm_phone(const char *in, char *out, size_t outlen)
{
    char digits[ECIF_NORM_MAX];
    size_t n;
    const char *start = digits;
    const char *p;

    if (outlen == 0)
        return 0;
    out[0] = '\0';
    if (in == NULL)
        return 0;
    /* The country code is only removed when it was written as one. */
    p = in;
    while (*p == ' ')
        p++;
    n = collect_digits(in, digits, sizeof(digits));
    if (*p == '+' && n > 2 && strncmp(digits, "86", 2) == 0) {
        start += 2;
        n -= 2;
    } else if (n > 4 && strncmp(digits, "0086", 4) == 0) {
        start += 4;
        n -= 4;
    }
    if (n < 5 || n + 1 > outlen)
        return 0;
    memcpy(out, start, n + 1);
    return n;
}

size_t ecif_norm_email(const char *in, char *out, size_t outlen)
{
    size_t n = 0;
    int at = 0;

    if (outlen == 0)
        return 0;
    out[0] = '\0';
    if (in == NULL)
        return 0;
    for (const char *p = in; *p != '\0' && n + 1 < outlen; p++) {
        unsigned char c = (unsigned char)*p;
        if (isspace(c))
            continue;
        if (c == '@')
            at++;
        out[n++] = (char)tolower(c);
    }
    out[n] = '\0';
    if (at != 1 || out[0] == '@' || out[n - 1] == '@') {
        out[0] = '\0';
        return 0;
    }
    return n;
}

size_t ecif_norm_id(const char *in, char *out, size_t outlen)
{
    size_t n = 0;

    if (outlen == 0)
        return 0;
    out[0] = '\0';
    if (in == NULL)
        return 0;

    const char *p = in;
    const char *end = in + strlen(in);

    while (p < end && n + 1 < outlen) {
        uint32_t cp = ecif_utf8_next(&p, end);
        if (cp >= 0xFF01 && cp <= 0xFF5E)
            cp -= 0xFEE0;
        if (cp < 0x80 && isalnum((int)cp))
            out[n++] = (char)toupper((int)cp);
    }
    out[n] = '\0';
    return n;
}

/* Reads 1..max ASCII digits at *p; returns -1 when there are none. */
static int read_number(const char **p, const char *end, int max)
{
    int value = 0;
    int digits = 0;

    while (*p < end && digits < max && isdigit((unsigned char)**p)) {
        value = value * 10 + (**p - '0');
        (*p)++;
        digits++;
    }
    return digits == 0 ? -1 : value;
}

static bool date_exists(int y, int m, int d)
{
    static const int days[12] = {31, 29, 31, 30, 31, 30,
                                 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

    if (y < 1850 || y > 2100 || m < 1 || m > 12 || d < 1)
        return false;
    if (m == 2 && !leap)
        return d <= 28;
    return d <= days[m - 1];
}

int ecif_norm_date(const char *in, uint32_t *ymd, bool *calendar_valid)
{
    int y, m, d;

    if (in == NULL)
        return ECIF_EINVAL;

    const char *p = in;
    const char *end = in + strlen(in);
    while (p < end && *p == ' ')
        p++;
    while (end > p && end[-1] == ' ')
        end--;

    size_t n = (size_t)(end - p);
    if (n == 8 && strspn(p, "0123456789") >= 8) {
        y = (p[0] - '0') * 1000 + (p[1] - '0') * 100 + (p[2] - '0') * 10 +
            (p[3] - '0');
        m = (p[4] - '0') * 10 + (p[5] - '0');
        d = (p[6] - '0') * 10 + (p[7] - '0');
    } else {
        const char *q = p;
        int a = read_number(&q, end, 4);
        int first_digits = (int)(q - p);
        const char *sep1 = q;
        if (a < 0 || q >= end)
            return ECIF_EINVAL;
        /* Separator: one of - / . or the UTF-8 of 年 (E5 B9 B4). */
        if (*q == '-' || *q == '/' || *q == '.')
            q++;
        else if (end - q >= 3 && memcmp(q, "\xE5\xB9\xB4", 3) == 0)
            q += 3;
        else
            return ECIF_EINVAL;
        int b = read_number(&q, end, 2);
        if (b < 0 || q >= end)
            return ECIF_EINVAL;
        if (*q == *sep1 && *q != '\xE5')
            q++;
        else if (end - q >= 3 && memcmp(q, "\xE6\x9C\x88", 3) == 0) /* 月 */
            q += 3;
        else
            return ECIF_EINVAL;
        int c = read_number(&q, end, 4);
        if (c < 0)
            return ECIF_EINVAL;
        if (end - q >= 3 && memcmp(q, "\xE6\x97\xA5", 3) == 0) /* 日 */
            q += 3;
        if (q != end)
            return ECIF_EINVAL;
        if (first_digits == 4) {
            y = a;
            m = b;
            d = c;
        } else if (first_digits <= 2 && c >= 1000) {
            d = a; /* DD/MM/YYYY: the day-first layout */
            m = b;
            y = c;
        } else {
            return ECIF_EINVAL;
        }
    }
    if (y < 1000)
        return ECIF_EINVAL;
    *ymd = (uint32_t)(y * 10000 + m * 100 + d);
    *calendar_valid = date_exists(y, m, d);
    return ECIF_OK;
}

char ecif_norm_gender(const char *in)
{
    char text[16];

    if (in == NULL)
        return 0;
    if (strcmp(in, "\xE7\x94\xB7") == 0) /* 男 */
        return 'M';
    if (strcmp(in, "\xE5\xA5\xB3") == 0) /* 女 */
        return 'F';
    ecif_norm_text(in, text, sizeof(text));
    if (strcmp(text, "m") == 0 || strcmp(text, "male") == 0)
        return 'M';
    if (strcmp(text, "f") == 0 || strcmp(text, "female") == 0)
        return 'F';
    return 0;
}

/* Soundex digit classes for a..z; '0' marks vowels and h, w, y. */
static const char soundex_class[26] = {
    '0', '1', '2', '3', '0', '1', '2', '0', '0', '2', '2', '4', '5',
    '5', '0', '1', '2', '6', '2', '3', '0', '1', '0', '2', '0', '2',
};

size_t ecif_phonetic(const char *token, char *out, size_t outlen)
{
    size_t n = 0;
    char last = 0;

    if (outlen < 8) {
        if (outlen > 0)
            out[0] = '\0';
        return 0;
    }
    if (token == NULL || token[0] == '\0') {
        out[0] = '\0';
        return 0;
    }
    if ((unsigned char)token[0] >= 0x80 || !isalpha((unsigned char)token[0])) {
        /* Not Latin: the token is its own phonetic code for now. */
        size_t len = strlen(token);
        if (len + 1 > outlen)
            len = outlen - 1;
        memcpy(out, token, len);
        out[len] = '\0';
        return len;
    }
    out[n++] = (char)toupper((unsigned char)token[0]);
    last = soundex_class[tolower((unsigned char)token[0]) - 'a'];
    for (const char *p = token + 1; *p != '\0' && n < 6; p++) {
        int c = tolower((unsigned char)*p);
        if (c < 'a' || c > 'z')
            continue;
        char code = soundex_class[c - 'a'];
        if (code == '0') {
            /* h and w do not separate equal codes; vowels do. */
            if (c != 'h' && c != 'w')
                last = 0;
            continue;
        }
        if (code != last)
            out[n++] = code;
        last = code;
    }
    out[n] = '\0';
    return n;
}
