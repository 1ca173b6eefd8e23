/*
 * Normalization of field values. Text folding is Unicode NFKC with case
 * folding and accents stripped, through utf8proc; the field-specific
 * normalizers (phones, emails, IDs, dates) work on ASCII after folding
 * full-width forms themselves.
 */
#include <ctype.h>
#include <string.h>

#include <utf8proc.h>

#include "normalize.h"
#include "record.h"
#include "status.h"

/* Input bytes of one value that folding reads; validation caps fields at
 * ECIF_MAX_FIELD_BYTES. */
#define ECIF_MAX_FOLD_INPUT ECIF_MAX_FIELD_BYTES

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
    if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10FFFF ||
        (cp >= 0xD800 && cp <= 0xDFFF)) {
        *pp += 1; /* overlong form, surrogate or beyond Unicode */
        return 0xFFFD;
    }
    *pp += n + 1;
    return cp;
}

/*
 * utf8proc options of the text fold: compatibility decomposition (folds
 * full-width forms and the ideographic space), Unicode case folding,
 * accents stripped, ignorable and control characters dropped, punctuation
 * lumped to ASCII, then recomposed.
 */
#define FOLD_OPTIONS                                                           \
    (UTF8PROC_COMPAT | UTF8PROC_CASEFOLD | UTF8PROC_STRIPMARK |                \
     UTF8PROC_IGNORE | UTF8PROC_STRIPCC | UTF8PROC_LUMP | UTF8PROC_COMPOSE)

/* Code points one folded value may expand to before it is cut. */
#define FOLD_BUFFER 2048

/*
 * Shared folding: utf8proc normalizes, then letters (and digits, except in
 * names) are kept and everything else becomes a single space between
 * tokens. In names, a space between two Han characters is dropped, because
 * Chinese names are written without one and 张 伟 is 张伟. The output is cut,
 * on a code point boundary, to fit min(outlen, ECIF_NORM_MAX).
 */
static bool is_han(utf8proc_int32_t cp)
{
    return (cp >= 0x3400 && cp <= 0x9FFF) || (cp >= 0xF900 && cp <= 0xFAFF) ||
           (cp >= 0x20000 && cp <= 0x3FFFF);
}

/* Folds in (of inlen bytes) through utf8proc into out, cut at cap. */
static size_t fold_utf8proc(const char *in, size_t inlen, char *out, size_t cap,
                            bool is_name)
{
    bool keep_digits = !is_name;
    utf8proc_int32_t last = 0;
    utf8proc_int32_t cps[FOLD_BUFFER];
    utf8proc_ssize_t count;
    size_t n = 0;
    bool pending_space = false;

    count = utf8proc_decompose((const utf8proc_uint8_t *)in,
                               (utf8proc_ssize_t)inlen, cps, FOLD_BUFFER,
                               FOLD_OPTIONS);
    if (count < 0 || count > FOLD_BUFFER)
        return 0; /* invalid UTF-8, or an expansion beyond any real name */
    count = utf8proc_normalize_utf32(cps, count, FOLD_OPTIONS);
    if (count < 0)
        return 0;

    for (utf8proc_ssize_t i = 0; i < count; i++) {
        utf8proc_int32_t cp = cps[i];
        utf8proc_category_t cat = utf8proc_category(cp);
        bool letter =
            cat >= UTF8PROC_CATEGORY_LU && cat <= UTF8PROC_CATEGORY_LO;
        bool digit = cat == UTF8PROC_CATEGORY_ND;
        utf8proc_uint8_t buf[4];
        utf8proc_ssize_t len;

        if (cat == UTF8PROC_CATEGORY_MN || cat == UTF8PROC_CATEGORY_MC ||
            cat == UTF8PROC_CATEGORY_ME)
            continue; /* marks left after folding belong to their letter */
        if (!letter && !(digit && keep_digits)) {
            pending_space = n > 0;
            continue;
        }
        len = utf8proc_encode_char(cp, buf);
        if (n + (pending_space ? 1u : 0u) + (size_t)len + 1 > cap)
            break;
        if (pending_space && !(is_name && is_han(last) && is_han(cp)))
            out[n++] = ' ';
        pending_space = false;
        memcpy(out + n, buf, (size_t)len);
        n += (size_t)len;
        last = cp;
    }
    out[n] = '\0';
    return n;
}

/*
 * Folds in without utf8proc when it consists of printable ASCII and the
 * CJK unified ideographs U+4E00..U+9FA5 only. NFKC, case folding and the
 * other utf8proc options change none of those code points except A-Z,
 * which case folding lowers, and map none of them to a mark or to an
 * ignorable character, so the loop of fold_utf8proc() processes the same code
 * points. Returns false, with out unspecified, for any other input.
 */
static bool fold_fast(const char *in, size_t inlen, char *out, size_t cap,
                      bool is_name, size_t *outn)
{
    const unsigned char *p = (const unsigned char *)in;
    const unsigned char *end = p + inlen;
    bool pending_space = false;
    bool last_han = false;
    bool cut = false; /* out is full: the rest is only checked */
    size_t n = 0;

    while (p < end) {
        unsigned char c = p[0];
        size_t len = 1;
        bool han = false;

        if (c >= 0x80) {
            /* E4 B8 80 (U+4E00) to E9 BE A5 (U+9FA5), well-formed. */
            if (c < 0xE4 || c > 0xE9 || end - p < 3 || (p[1] & 0xC0) != 0x80 ||
                (p[2] & 0xC0) != 0x80)
                return false;
            uint32_t cp = ((uint32_t)(c & 0x0F) << 12) |
                          ((uint32_t)(p[1] & 0x3F) << 6) | (p[2] & 0x3F);
            if (cp < 0x4E00 || cp > 0x9FA5)
                return false;
            len = 3;
            han = true;
        } else if (c < 0x20 || c == 0x7F) {
            return false; /* controls: utf8proc strips or maps them */
        } else if (c >= 'A' && c <= 'Z') {
            c |= 0x20;
        } else if (!(c >= 'a' && c <= 'z') &&
                   !(!is_name && c >= '0' && c <= '9')) {
            pending_space = n > 0;
            p++;
            continue;
        }
        if (!cut && n + (pending_space ? 1u : 0u) + len + 1 > cap)
            cut = true;
        if (cut) {
            /* utf8proc rejects invalid UTF-8 anywhere in the input, so
             * the input after the cut must be checked too. */
            p += len;
            continue;
        }
        if (pending_space && !(is_name && last_han && han))
            out[n++] = ' ';
        pending_space = false;
        if (han)
            memcpy(out + n, p, 3);
        else
            out[n] = (char)c;
        n += len;
        p += len;
        last_han = han;
    }
    out[n] = '\0';
    *outn = n;
    return true;
}

static size_t fold(const char *in, char *out, size_t outlen, bool is_name,
                   bool fast)
{
    size_t inlen, n;

    if (outlen == 0)
        return 0;
    out[0] = '\0';
    if (in == NULL)
        return 0;
    inlen = strlen(in);
    if (inlen > ECIF_MAX_FOLD_INPUT)
        inlen = ECIF_MAX_FOLD_INPUT;

    size_t cap = outlen < ECIF_NORM_MAX ? outlen : ECIF_NORM_MAX;
    if (fast && fold_fast(in, inlen, out, cap, is_name, &n))
        return n;
    out[0] = '\0'; /* fold_fast may have written a part */
    return fold_utf8proc(in, inlen, out, cap, is_name);
}

size_t ecif_norm_fold_utf8proc(const char *in, char *out, size_t outlen,
                               bool is_name)
{
    return fold(in, out, outlen, is_name, false);
}

size_t ecif_norm_text(const char *in, char *out, size_t outlen)
{
    return fold(in, out, outlen, false, true);
}

size_t ecif_norm_name(const char *in, char *out, size_t outlen)
{
    return fold(in, out, outlen, true, true);
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
    size_t cap = outlen < ECIF_NORM_MAX ? outlen : ECIF_NORM_MAX;

    while (p < end && n + 1 < cap) {
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
        const char *third = q;
        int c = read_number(&q, end, 4);
        int last_digits = (int)(q - third);
        if (c < 0)
            return ECIF_EINVAL;
        if (end - q >= 3 && memcmp(q, "\xE6\x97\xA5", 3) == 0) /* 日 */
            q += 3;
        if (q != end)
            return ECIF_EINVAL;
        if (first_digits == 4 && last_digits <= 2) {
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
        if (len + 1 > outlen) {
            len = outlen - 1;
            /* Cut before a continuation byte, so the code stays UTF-8. */
            while (len > 0 && ((unsigned char)token[len] & 0xC0) == 0x80)
                len--;
        }
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
