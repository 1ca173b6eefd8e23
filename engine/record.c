/*
 * Validation of records and accounts, and fixed-point amounts.
 *
 * Messages have the form "FIELD: what is wrong 'VALUE'", so that callers
 * can prefix the path of the field in their own input ("record.dob: ...",
 * "column 'dob': ..."). Values are quoted up to QUOTE_MAX bytes, cut on a
 * UTF-8 boundary, and only ever returned to the caller, never logged.
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <utf8proc.h>

#include "email.h"
#include "normalize.h"
#include "phone.h"
#include "record.h"
#include "status.h"

#define QUOTE_MAX 64

/* Copies at most QUOTE_MAX bytes of value, cut on a UTF-8 boundary, with
 * control characters as '?'. */
static const char *quote(const char *value, char *buf, size_t buflen)
{
    size_t len = strlen(value);
    bool control = false;

    for (size_t i = 0; i < len && !control; i++)
        control = (unsigned char)value[i] < 0x20 || value[i] == 0x7F;
    if (len < buflen && len <= QUOTE_MAX && !control)
        return value;
    bool cut = len > QUOTE_MAX || len + 1 > buflen;
    if (cut) {
        len = QUOTE_MAX < buflen - 4 ? QUOTE_MAX : buflen - 4;
        while (len > 0 && ((unsigned char)value[len] & 0xC0) == 0x80)
            len--;
    }
    /* A control character goes out as '?', so a message never carries a
     * raw line break or escape into a log. */
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)value[i];
        buf[i] = c < 0x20 || c == 0x7F ? '?' : (char)c;
    }
    memcpy(buf + len, cut ? "..." : "", cut ? 4 : 1);
    return buf;
}

/*
 * Returns the length of the longest well-formed UTF-8 prefix of s (of len
 * bytes), so a message can quote a value without copying bad bytes.
 */
static size_t utf8_valid_prefix(const char *s, size_t len)
{
    const char *p = s;
    const char *end = s + len;

    while (p < end) {
        const char *at = p;
        if (ecif_utf8_next(&p, end) == 0xFFFD && p - at == 1)
            return (size_t)(at - s);
    }
    return len;
}

/*
 * Copies the first valid bytes of value (at most QUOTE_MAX, cut on a
 * character) into buf of QUOTE_MAX + 4 bytes or more; "..." marks a cut.
 */
static const char *quote_prefix(const char *value, size_t valid, char *buf)
{
    size_t len = valid < QUOTE_MAX ? valid : QUOTE_MAX;

    while (len < valid && len > 0 && ((unsigned char)value[len] & 0xC0) == 0x80)
        len--;
    memcpy(buf, value, len);
    strcpy(buf + len, len < valid ? "..." : "");
    return buf;
}

static bool present(const char *s)
{
    return s != NULL && s[0] != '\0';
}

static bool is_control(utf8proc_int32_t cp);

/* Returns the first control or format character, or line or paragraph
 * separator (U+2028, U+2029, which print as line breaks), of valid UTF-8
 * text, or -1 when there is none. */
static utf8proc_int32_t first_control(const char *value)
{
    const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)value;
    utf8proc_ssize_t len = (utf8proc_ssize_t)strlen(value);
    utf8proc_int32_t cp;

    while (len > 0) {
        utf8proc_ssize_t n = utf8proc_iterate(p, len, &cp);
        if (n <= 0)
            break;
        utf8proc_category_t c = utf8proc_category(cp);
        if (is_control(cp) || c == UTF8PROC_CATEGORY_ZL ||
            c == UTF8PROC_CATEGORY_ZP)
            return cp;
        p += n;
        len -= n;
    }
    return -1;
}

/*
 * Checks encoding and size of one string field. strict also rejects
 * control and format characters (a line break, an escape sequence, a
 * zero-width space), which no name, number or address needs and which
 * would print as something else. Values journaled before that check
 * existed are not held to it.
 */
static int check_text(const char *field, const char *value, bool strict,
                      char *err, size_t errlen)
{
    char q[QUOTE_MAX + 8];
    size_t len, valid;

    if (!present(value))
        return ECIF_OK;
    len = strlen(value);
    valid = utf8_valid_prefix(value, len);
    if (len > ECIF_MAX_FIELD_BYTES)
        return ecif_fail(ECIF_EINVAL, err, errlen,
                         "%s: value '%s' of %zu bytes is longer than the "
                         "maximum of %d bytes",
                         field, quote_prefix(value, valid, q), len,
                         ECIF_MAX_FIELD_BYTES);
    if (valid < len)
        return ecif_fail(ECIF_EINVAL, err, errlen,
                         "%s: invalid UTF-8 at byte %zu, after '%s'", field,
                         valid, quote_prefix(value, valid, q));
    utf8proc_int32_t cp = strict ? first_control(value) : -1;
    if (cp >= 0)
        return ecif_fail(ECIF_EINVAL, err, errlen,
                         "%s: control character U+%04X in '%s'", field,
                         (unsigned)cp, quote(value, q, sizeof(q)));
    return ECIF_OK;
}

static int check_list(const char *field, const char *const *values,
                      uint32_t count, bool strict, char *err, size_t errlen)
{
    if (count > ECIF_MAX_VALUES)
        return ecif_fail(ECIF_EINVAL, err, errlen,
                         "%s: %u values, more than the maximum of %d", field,
                         count, ECIF_MAX_VALUES);
    for (uint32_t i = 0; i < count; i++) {
        int rc = check_text(field, values[i], strict, err, errlen);
        if (rc != ECIF_OK)
            return rc;
    }
    return ECIF_OK;
}

static int check_encoding(const ecif_record_t *rec, bool strict, char *err,
                          size_t errlen)
{
    const struct {
        const char *field;
        const char *value;
    } singles[] = {
        {"source_system", rec->source_system},
        {"source_id", rec->source_id},
        {"name", rec->name},
        {"given_name", rec->given_name},
        {"family_name", rec->family_name},
        {"id_type", rec->id_type},
        {"id_number", rec->id_number},
        {"dob", rec->dob},
        {"gender", rec->gender},
    };
    int rc;

    for (size_t i = 0; i < sizeof(singles) / sizeof(singles[0]); i++) {
        rc =
            check_text(singles[i].field, singles[i].value, strict, err, errlen);
        if (rc != ECIF_OK)
            return rc;
    }
    rc = check_list("phone", rec->phones, rec->n_phones, strict, err, errlen);
    if (rc == ECIF_OK)
        rc = check_list("email", rec->emails, rec->n_emails, strict, err,
                        errlen);
    if (rc == ECIF_OK)
        rc = check_list("address", rec->addresses, rec->n_addresses, strict,
                        err, errlen);
    return rc;
}

static int check_values(const ecif_record_t *rec, char *err, size_t errlen)
{
    char q[QUOTE_MAX + 8];
    char norm[ECIF_NORM_MAX];

    if (present(rec->dob)) {
        uint32_t ymd;
        bool exists;
        if (ecif_norm_date(rec->dob, &ymd, &exists) != ECIF_OK)
            return ecif_fail(ECIF_EINVAL, err, errlen,
                             "dob: invalid date '%s' (expected YYYY-MM-DD, "
                             "YYYYMMDD, DD/MM/YYYY or YYYY年M月D日)",
                             quote(rec->dob, q, sizeof(q)));
    }
    if (present(rec->gender) && ecif_norm_gender(rec->gender) == 0)
        return ecif_fail(ECIF_EINVAL, err, errlen,
                         "gender: invalid gender '%s' (expected M or F)",
                         quote(rec->gender, q, sizeof(q)));
    if (present(rec->id_number) &&
        ecif_norm_id(rec->id_number, norm, sizeof(norm)) == 0)
        return ecif_fail(ECIF_EINVAL, err, errlen,
                         "id_number: invalid ID number '%s' (no letters or "
                         "digits)",
                         quote(rec->id_number, q, sizeof(q)));
    /* Phones and emails are checked by the normalizers matching uses, so
     * every value accepted here is one matching can compare. */
    for (uint32_t i = 0; i < rec->n_phones; i++) {
        struct phone_info info;
        if (present(rec->phones[i]) &&
            phone_normalize(rec->phones[i], PHONE_CC_CHINA, &info) == 0)
            return ecif_fail(ECIF_EINVAL, err, errlen,
                             "phone: invalid phone number '%s' (%s)",
                             quote(rec->phones[i], q, sizeof(q)), info.reason);
    }
    for (uint32_t i = 0; i < rec->n_emails; i++) {
        if (present(rec->emails[i]) &&
            email_normalize(rec->emails[i], norm, sizeof(norm)) == 0)
            return ecif_fail(ECIF_EINVAL, err, errlen,
                             "email: invalid email address '%s' (expected "
                             "local@domain with a dot in the domain)",
                             quote(rec->emails[i], q, sizeof(q)));
    }
    return ECIF_OK;
}

/* Days from 1970-01-01 to the date y-m-d of the proleptic Gregorian
 * calendar, counting March as the first month of a year. */
static int64_t days_from_civil(int64_t y, int64_t m, int64_t d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* Reads exactly n digits at *p into *out and moves *p past them. */
static bool read_digits(const char **p, int n, int *out)
{
    int v = 0;

    for (int i = 0; i < n; i++) {
        if ((*p)[i] < '0' || (*p)[i] > '9')
            return false;
        v = v * 10 + ((*p)[i] - '0');
    }
    *p += n;
    *out = v;
    return true;
}

/* Parses the text of ecif_updated_at_parse() without its spaces. */
static bool parse_time(const char *p, const char *end, int64_t *out)
{
    int y, mo, d, h = 0, mi = 0, sec = 0, oh = 0, om = 0, sign = 0;
    static const int days[12] = {31, 29, 31, 30, 31, 30,
                                 31, 31, 30, 31, 30, 31};

    if (end - p < 10 || !read_digits(&p, 4, &y) || *p++ != '-' ||
        !read_digits(&p, 2, &mo) || *p++ != '-' || !read_digits(&p, 2, &d))
        return false;
    if (mo < 1 || mo > 12 || d < 1 || d > days[mo - 1] ||
        (mo == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)))
        return false;
    if (p < end && (*p == 'T' || *p == ' ')) {
        p++;
        if (end - p < 5 || !read_digits(&p, 2, &h) || *p++ != ':' ||
            !read_digits(&p, 2, &mi))
            return false;
        if (p < end && *p == ':') {
            p++;
            if (end - p < 2 || !read_digits(&p, 2, &sec))
                return false;
            if (p < end && *p == '.') {
                p++;
                if (p >= end || *p < '0' || *p > '9')
                    return false;
                while (p < end && *p >= '0' && *p <= '9')
                    p++;
            }
        }
        if (h > 23 || mi > 59 || sec > 59)
            return false;
        if (p < end && *p == 'Z') {
            p++;
        } else if (p < end && (*p == '+' || *p == '-')) {
            sign = *p++ == '+' ? 1 : -1;
            if (end - p < 2 || !read_digits(&p, 2, &oh))
                return false;
            if (p < end && *p == ':')
                p++;
            if (p < end && !read_digits(&p, 2, &om))
                return false;
            if (oh > 14 || om > 59)
                return false;
        }
    }
    if (p != end)
        return false;
    *out = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec -
           sign * (oh * 3600 + om * 60);
    return true;
}

int ecif_updated_at_parse(const char *text, int64_t *out, char *err,
                          size_t errlen)
{
    char q[QUOTE_MAX + 8];
    const char *p = text != NULL ? text : "";
    const char *end = p + strlen(p);

    while (p < end && *p == ' ')
        p++;
    while (end > p && end[-1] == ' ')
        end--;
    if (end - p > 40 || !parse_time(p, end, out))
        return ecif_fail(ECIF_EINVAL, err, errlen,
                         "updated_at: invalid time '%s' (expected YYYY-MM-DD "
                         "or YYYY-MM-DDTHH:MM:SS with Z or an offset such as "
                         "+08:00)",
                         quote(text != NULL ? text : "", q, sizeof(q)));
    /* 0 means unknown, so the epoch itself cannot be kept. */
    if (*out < 1)
        return ecif_fail(ECIF_EINVAL, err, errlen,
                         "updated_at: time '%s' is not after "
                         "1970-01-01T00:00:00Z, the earliest time kept",
                         quote(text, q, sizeof(q)));
    return ECIF_OK;
}

char *ecif_updated_at_format(int64_t t, char *buf)
{
    if (t <= 0) {
        buf[0] = '\0';
        return buf;
    }
    /* The inverse of days_from_civil(). */
    int64_t z = t / 86400 + 719468;
    int64_t secs = t % 86400;
    int64_t era = z / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int64_t d = doy - (153 * mp + 2) / 5 + 1;
    int64_t m = mp < 10 ? mp + 3 : mp - 9;
    int64_t y = yoe + era * 400 + (m <= 2);
    snprintf(buf, ECIF_UPDATED_AT_STR_MAX, "%04d-%02d-%02dT%02d:%02d:%02dZ",
             (int)(y % 10000), (int)m, (int)d, (int)(secs / 3600),
             (int)(secs / 60 % 60), (int)(secs % 60));
    return buf;
}

/* Checks that an update time is one the store can keep and, with clock,
 * that it is not in the future. */
static int check_updated_at(int64_t t, bool clock, char *err, size_t errlen)
{
    char text[ECIF_UPDATED_AT_STR_MAX];
    int64_t latest =
        clock ? (int64_t)time(NULL) + ECIF_UPDATED_AT_SKEW : INT64_MAX;

    if (t == 0)
        return ECIF_OK;
    if (t < 0)
        return ecif_fail(ECIF_EINVAL, err, errlen,
                         "updated_at: %lld seconds is before "
                         "1970-01-01T00:00:01Z, the earliest time kept",
                         (long long)t);
    if (t > latest)
        return ecif_fail(ECIF_EINVAL, err, errlen,
                         "updated_at: '%s' is in the future (more than a "
                         "day after the current time)",
                         ecif_updated_at_format(t, text));
    if (t > ECIF_UPDATED_AT_MAX)
        return ecif_fail(ECIF_EINVAL, err, errlen,
                         "updated_at: '%s' is after 2106-02-07T06:28:15Z, "
                         "the latest time kept",
                         ecif_updated_at_format(t, text));
    return ECIF_OK;
}

static bool any_present(const char *const *values, uint32_t count)
{
    for (uint32_t i = 0; i < count; i++) {
        if (present(values[i]))
            return true;
    }
    return false;
}

/* Returns whether cp is a Unicode space or an ASCII white-space control. */
static bool is_blank(utf8proc_int32_t cp)
{
    utf8proc_category_t c = utf8proc_category(cp);

    return c == UTF8PROC_CATEGORY_ZS || c == UTF8PROC_CATEGORY_ZL ||
           c == UTF8PROC_CATEGORY_ZP || cp == '\t' || cp == '\n' ||
           cp == '\r' || cp == '\v' || cp == '\f';
}

/* Returns whether cp is a control or format character. */
static bool is_control(utf8proc_int32_t cp)
{
    utf8proc_category_t c = utf8proc_category(cp);

    return c == UTF8PROC_CATEGORY_CC || c == UTF8PROC_CATEGORY_CF;
}

/*
 * Checks a source key part or an account id. A space at either end, a
 * control character (a tab or line break too) or a space other than
 * U+0020 would make a second key that prints like the first. A '/' in the
 * system would make SYSTEM/ID, the form tools print and parse, ambiguous.
 */
static int check_key(const char *field, const char *value, bool is_system,
                     char *err, size_t errlen)
{
    char q[QUOTE_MAX + 8];
    const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)value;
    utf8proc_ssize_t len = (utf8proc_ssize_t)strlen(value);
    utf8proc_int32_t cp = 0;
    bool first = true;

    /* The encoding was checked before, so every step decodes. */
    while (len > 0) {
        utf8proc_ssize_t n = utf8proc_iterate(p, len, &cp);
        if (n <= 0)
            break;
        if (first && is_blank(cp))
            return ecif_fail(ECIF_EINVAL, err, errlen,
                             "%s: space at the start or end of '%s'", field,
                             quote(value, q, sizeof(q)));
        if (is_control(cp))
            return ecif_fail(ECIF_EINVAL, err, errlen,
                             "%s: control character U+%04X in '%s'", field,
                             (unsigned)cp, quote(value, q, sizeof(q)));
        /* A blank that ends the value is reported after the loop. */
        if (is_blank(cp) && cp != ' ' && n < len)
            return ecif_fail(ECIF_EINVAL, err, errlen,
                             "%s: space character U+%04X in '%s' (only the "
                             "ASCII space U+0020 may separate its parts)",
                             field, (unsigned)cp, quote(value, q, sizeof(q)));
        first = false;
        p += n;
        len -= n;
    }
    if (is_blank(cp))
        return ecif_fail(ECIF_EINVAL, err, errlen,
                         "%s: space at the start or end of '%s'", field,
                         quote(value, q, sizeof(q)));
    if (is_system && strchr(value, '/') != NULL)
        return ecif_fail(ECIF_EINVAL, err, errlen,
                         "%s: '/' in '%s' (it separates the system from "
                         "the id in SYSTEM/ID)",
                         field, quote(value, q, sizeof(q)));
    return ECIF_OK;
}

/*
 * Validates rec. strict adds the checks that an entry journaled before
 * they existed, or under another clock, may fail: the form of the source
 * key, control characters in any value and an update time in the future.
 */
static int validate(const ecif_record_t *rec, bool require_source, bool strict,
                    char *err, size_t errlen)
{
    int rc = check_encoding(rec, strict, err, errlen);

    if (rc != ECIF_OK)
        return rc;
    if (require_source && !present(rec->source_system))
        return ecif_fail(ECIF_EINVAL, err, errlen,
                         "source_system: missing value");
    if (require_source && !present(rec->source_id))
        return ecif_fail(ECIF_EINVAL, err, errlen, "source_id: missing value");
    if (require_source && strict &&
        ((rc = check_key("source_system", rec->source_system, true, err,
                         errlen)) != ECIF_OK ||
         (rc = check_key("source_id", rec->source_id, false, err, errlen)) !=
             ECIF_OK))
        return rc;
    rc = check_values(rec, err, errlen);
    if (rc == ECIF_OK)
        rc = check_updated_at(rec->updated_at, strict, err, errlen);
    if (rc != ECIF_OK)
        return rc;
    if (!present(rec->name) && !present(rec->given_name) &&
        !present(rec->family_name) && !present(rec->id_number) &&
        !any_present(rec->phones, rec->n_phones) &&
        !any_present(rec->emails, rec->n_emails) && !present(rec->dob))
        return ecif_fail(ECIF_EINVAL, err, errlen,
                         "record: no name, id_number, phone, email or dob "
                         "to match on");
    return ECIF_OK;
}

int ecif_record_validate(const ecif_record_t *rec, bool require_source,
                         char *err, size_t errlen)
{
    return validate(rec, require_source, true, err, errlen);
}

int ecif_record_validate_journaled(const ecif_record_t *rec, char *err,
                                   size_t errlen)
{
    return validate(rec, true, false, err, errlen);
}

int ecif_account_validate(const ecif_account_t *acct, char *err, size_t errlen)
{
    char q[QUOTE_MAX + 8];
    const struct {
        const char *field;
        const char *value;
    } fields[] = {
        {"account_id", acct->account_id},
        {"product", acct->product},
        {"currency", acct->currency},
        {"branch", acct->branch},
    };

    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        int rc =
            check_text(fields[i].field, fields[i].value, false, err, errlen);
        if (rc != ECIF_OK)
            return rc;
    }
    if (!present(acct->account_id))
        return ecif_fail(ECIF_EINVAL, err, errlen, "account_id: missing value");
    if (!present(acct->product))
        return ecif_fail(ECIF_EINVAL, err, errlen, "product: missing value");
    if (!present(acct->currency))
        return ecif_fail(ECIF_EINVAL, err, errlen, "currency: missing value");
    const struct {
        const char *field;
        int64_t value;
    } amounts[] = {
        {"credit_limit", acct->credit_limit},
        {"balance", acct->balance},
    };
    for (size_t i = 0; i < 2; i++) {
        if (amounts[i].value > ECIF_AMOUNT_MAX ||
            amounts[i].value < -ECIF_AMOUNT_MAX) {
            char text[ECIF_AMOUNT_STR_MAX];
            return ecif_fail(ECIF_EINVAL, err, errlen,
                             "%s: amount '%s' is outside the accepted range "
                             "of plus or minus 1000000000000",
                             amounts[i].field,
                             ecif_amount_format(amounts[i].value, text));
        }
    }
    const char *c = acct->currency;
    if (strlen(c) != 3 || !isupper((unsigned char)c[0]) ||
        !isupper((unsigned char)c[1]) || !isupper((unsigned char)c[2]))
        return ecif_fail(ECIF_EINVAL, err, errlen,
                         "currency: invalid currency code '%s' (expected "
                         "three upper-case letters, such as CNY)",
                         quote(c, q, sizeof(q)));
    return ECIF_OK;
}

int ecif_account_id_check(const char *account_id, char *err, size_t errlen)
{
    /* A missing id, or one that is not UTF-8, is for ecif_account_validate
     * to report. */
    if (!present(account_id) ||
        check_text("account_id", account_id, false, NULL, 0) != ECIF_OK)
        return ECIF_OK;
    return check_key("account_id", account_id, false, err, errlen);
}

const char *ecif_dob_text(const char *raw, uint32_t ymd, char buf[16])
{
    if (ymd == 0 || ymd > 99991231u)
        return raw;
    snprintf(buf, 16, "%04u-%02u-%02u", (unsigned)(ymd / 10000),
             (unsigned)(ymd / 100 % 100), (unsigned)(ymd % 100));
    return buf;
}

int ecif_text_check(const char *field, const char *value, char *err,
                    size_t errlen)
{
    return check_text(field, value, true, err, errlen);
}

int ecif_account_check_new(const ecif_account_t *acct, char *err, size_t errlen)
{
    int rc = ecif_account_id_check(acct->account_id, err, errlen);
    const struct {
        const char *field;
        const char *value;
    } texts[] = {{"product", acct->product}, {"branch", acct->branch}};

    /* Missing or malformed values are for ecif_account_validate. */
    for (size_t i = 0; rc == ECIF_OK && i < 2; i++) {
        if (present(texts[i].value) &&
            check_text(texts[i].field, texts[i].value, false, NULL, 0) ==
                ECIF_OK)
            rc = check_key(texts[i].field, texts[i].value, false, err, errlen);
    }
    if (rc == ECIF_OK && acct->credit_limit < 0) {
        char amount[32];
        rc = ecif_fail(ECIF_EINVAL, err, errlen,
                       "credit_limit: negative limit %s (a limit is 0 or "
                       "more; an overdrawn account has a negative balance)",
                       ecif_amount_format(acct->credit_limit, amount));
    }
    return rc;
}

/*
 * Returns the next unit of a product name as totals compare it, and
 * advances *p past it. An ASCII letter comes back in lower case, and a
 * full-width form (U+FF01 to U+FF5E, typed by Chinese input methods) as
 * its ASCII character. Any other byte comes back as it is, and 0 at the
 * end.
 */
static int product_unit(const unsigned char **p)
{
    const unsigned char *s = *p;
    int c = s[0];

    if (s[0] == 0xEF && ((s[1] == 0xBC && s[2] >= 0x81 && s[2] <= 0xBF) ||
                         (s[1] == 0xBD && s[2] >= 0x80 && s[2] <= 0x9E))) {
        int code = 0xF000 | ((s[1] & 0x3F) << 6) | (s[2] & 0x3F);
        c = code - 0xFEE0;
        *p += 3;
    } else if (c != 0) {
        *p += 1;
    }
    return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

int ecif_product_cmp(const char *a, const char *b)
{
    const unsigned char *p = (const unsigned char *)a;
    const unsigned char *q = (const unsigned char *)b;

    for (;;) {
        int x = product_unit(&p);
        int y = product_unit(&q);
        if (x != y || x == 0)
            return x - y;
    }
}

int ecif_exposure_order(const char *product_a, const char *currency_a,
                        const char *product_b, const char *currency_b)
{
    int cmp = ecif_product_cmp(product_a, product_b);
    if (cmp == 0)
        cmp = strcmp(currency_a, currency_b);
    return cmp != 0 ? cmp : strcmp(product_a, product_b);
}

bool ecif_exposure_same_total(const char *product_a, const char *currency_a,
                              const char *product_b, const char *currency_b)
{
    return ecif_product_cmp(product_a, product_b) == 0 &&
           strcmp(currency_a, currency_b) == 0;
}

int ecif_amount_parse(const char *text, int64_t *out)
{
    const char *p = text;
    bool negative = false;
    uint64_t units = 0;
    uint64_t fraction = 0;
    uint64_t magnitude, limit;
    int places = 0;
    int digits = 0;
    int group = -1; /* digits since the last thousands separator */

    if (text == NULL)
        return ECIF_EINVAL;
    while (*p == ' ')
        p++;
    if (*p == '-' || *p == '+')
        negative = *p++ == '-';
    for (; isdigit((unsigned char)*p) || *p == ','; p++) {
        if (*p == ',') {
            if (digits == 0 || (group >= 0 && group != 3) ||
                (group < 0 && digits > 3))
                return ECIF_EINVAL;
            group = 0;
            continue;
        }
        units = units * 10 + (uint64_t)(*p - '0');
        /* Past this, units * ECIF_AMOUNT_SCALE is out of range anyway; the
         * check also keeps units * 10 from wrapping. */
        if (units > ((uint64_t)INT64_MAX + 1) / ECIF_AMOUNT_SCALE)
            return ECIF_EINVAL;
        digits++;
        if (group >= 0)
            group++;
    }
    if (group >= 0 && group != 3)
        return ECIF_EINVAL;
    if (*p == '.') {
        p++;
        for (; isdigit((unsigned char)*p); p++) {
            if (++places > 4)
                return ECIF_EINVAL;
            fraction = fraction * 10 + (uint64_t)(*p - '0');
        }
    }
    while (*p == ' ')
        p++;
    if (*p != '\0' || (digits == 0 && places == 0))
        return ECIF_EINVAL;
    for (int i = places; i < 4; i++)
        fraction *= 10;
    /* INT64_MIN has no positive counterpart: negatives reach one further. */
    magnitude = units * ECIF_AMOUNT_SCALE + fraction;
    limit = negative ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    if (magnitude > limit)
        return ECIF_EINVAL;
    if (!negative)
        *out = (int64_t)magnitude;
    else if (magnitude == (uint64_t)INT64_MAX + 1)
        *out = INT64_MIN;
    else
        *out = -(int64_t)magnitude;
    return ECIF_OK;
}

char *ecif_amount_format(int64_t amount, char *buf)
{
    uint64_t magnitude =
        amount < 0 ? (uint64_t)(-(amount + 1)) + 1 : (uint64_t)amount;
    uint64_t units = magnitude / ECIF_AMOUNT_SCALE;
    unsigned fraction = (unsigned)(magnitude % ECIF_AMOUNT_SCALE);
    int len;

    len = snprintf(buf, ECIF_AMOUNT_STR_MAX, "%s%" PRIu64 ".%04u",
                   amount < 0 ? "-" : "", units, fraction);
    /* Keep two places; drop trailing zeros of the third and fourth. */
    while (len > 0 && buf[len - 1] == '0' && buf[len - 3] != '.')
        buf[--len] = '\0';
    return buf;
}

int ecif_amount_add(int64_t *a, int64_t b)
{
    int64_t sum;

    if (__builtin_add_overflow(*a, b, &sum))
        return ECIF_ELIMIT;
    *a = sum;
    return ECIF_OK;
}
