/*
 * Normalized views, blocking keys and field-agreement scoring. The weights
 * are hand-set log-likelihood-style values: agreement on a field adds what
 * it is worth as evidence, disagreement subtracts, a missing value is 0.
 */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cn_address.h"
#include "cn_id.h"
#include "cn_name.h"
#include "compare.h"
#include "delta.h"
#include "email.h"
#include "hash.h"
#include "junk.h"
#include "latin_address.h"
#include "latin_name.h"
#include "match.h"
#include "phone.h"
#include "status.h"

static bool present(const char *s)
{
    return s != NULL && s[0] != '\0';
}

const char *ecif_quality_str(uint32_t flag)
{
    static const char *const names[ECIF_QUALITY_FLAG_COUNT] = {
        "name_noise",          "name_traditional",  "name_placeholder",
        "id_bad_check",        "id_bad_date",       "id_unknown_region",
        "id_upgraded",         "id_dob_mismatch",   "id_gender_mismatch",
        "id_placeholder",      "phone_placeholder", "email_placeholder",
        "address_placeholder", "dob_invalid",       "dob_placeholder",
        "id_frequent",         "phone_frequent",    "email_frequent",
        "ambiguous_match",
    };
    for (int i = 0; i < ECIF_QUALITY_FLAG_COUNT; i++) {
        if (flag == 1u << i)
            return names[i];
    }
    return "unknown";
}

static uint8_t suffix_code(const char *suffix)
{
    static const char *const codes[] = {"", "JR", "SR", "II", "III", "IV", "V"};
    for (uint8_t i = 1; i < sizeof(codes) / sizeof(codes[0]); i++) {
        if (strcmp(suffix, codes[i]) == 0)
            return i;
    }
    return SUFFIX_NONE;
}

/* Appends src to the *len bytes of text in dst of size bytes and cuts it
 * to fit, as snprintf would. */
static void append_string(char *dst, size_t size, size_t *len, const char *src)
{
    size_t n = strlen(src);

    if (n > size - 1 - *len)
        n = size - 1 - *len;
    memcpy(dst + *len, src, n);
    *len += n;
    dst[*len] = '\0';
}

/* Copies src into dst of size bytes, cut to fit like snprintf "%s". */
static void copy_string(char *dst, size_t size, const char *src)
{
    size_t len = 0;

    append_string(dst, size, &len, src);
}

/* Writes value in decimal, zero-padded to width digits like "%0*u", at
 * dst (no NUL); returns the digits written. */
static size_t put_uint(char *dst, uint32_t value, size_t width)
{
    char digits[10];
    size_t n = 0, written = 0;

    do {
        digits[n++] = (char)('0' + value % 10);
        value /= 10;
    } while (value != 0);
    while (written + n < width)
        dst[written++] = '0';
    while (n > 0)
        dst[written++] = digits[--n];
    return written;
}

/*
 * Normalizes the name: the Han form and the pinyin keys for Chinese
 * names, the folded tokens without a generational suffix for Latin ones.
 */
static void normalize_name(const ecif_record_t *rec, match_buffer_t *buf,
                           match_view_t *view)
{
    char full[2 * ECIF_NORM_MAX];
    char folded[2 * ECIF_NORM_MAX];
    char suffix[LATIN_SUFFIX_SIZE] = "";
    cn_name_flags_t cn_flags = 0;

    buf->han[0] = buf->name_key[0] = buf->name_key_fuzzy[0] = '\0';
    size_t full_len = 0;
    full[0] = '\0';
    if (present(rec->given_name) || present(rec->family_name)) {
        if (present(rec->family_name))
            append_string(full, sizeof(full), &full_len, rec->family_name);
        if (present(rec->family_name) && present(rec->given_name))
            append_string(full, sizeof(full), &full_len, " ");
        if (present(rec->given_name))
            append_string(full, sizeof(full), &full_len, rec->given_name);
    } else if (present(rec->name)) {
        append_string(full, sizeof(full), &full_len, rec->name);
    }

    if (full[0] != '\0' && junk_check(JUNK_FIELD_NAME, full) & JUNK_DISCARD) {
        view->quality |= ECIF_QUALITY_NAME_PLACEHOLDER;
        full[0] = '\0';
    }

    if (cn_is_han_name(full)) {
        /* A Han name: split it ourselves when the source did not. */
        cn_name_clean(full, buf->han, sizeof(buf->han), &cn_flags);
        if (cn_flags & CN_NAME_NOISE)
            view->quality |= ECIF_QUALITY_NAME_NOISE;
        if (cn_flags & CN_NAME_TRADITIONAL)
            view->quality |= ECIF_QUALITY_NAME_TRADITIONAL;
        /* One pinyin reading gives the split and both keys. */
        cn_name_keys_t keys;
        cn_name_clean_keys(buf->han, &keys);
        copy_string(buf->family, sizeof(buf->family), keys.family);
        copy_string(buf->given, sizeof(buf->given), keys.given);
        copy_string(buf->name, sizeof(buf->name), buf->han);
        copy_string(buf->name_key, sizeof(buf->name_key), keys.key);
        copy_string(buf->name_key_fuzzy, sizeof(buf->name_key_fuzzy),
                    keys.key_fuzzy);
    } else {
        ecif_norm_name(rec->given_name, buf->given, sizeof(buf->given));
        ecif_norm_name(rec->family_name, buf->family, sizeof(buf->family));
        ecif_norm_name(full, folded, sizeof(folded));
        latin_name_suffix(folded, buf->name, sizeof(buf->name), suffix);
        if (buf->name[0] == '\0')
            copy_string(buf->name, sizeof(buf->name), folded);
        if (suffix[0] != '\0' && buf->given[0] != '\0') {
            /* The suffix was typed into the given or family column. */
            char rest[ECIF_NORM_MAX], s2[LATIN_SUFFIX_SIZE];
            latin_name_suffix(buf->given, rest, sizeof(rest), s2);
            if (s2[0] != '\0')
                copy_string(buf->given, sizeof(buf->given), rest);
        }
        view->suffix = suffix_code(suffix);
        /* A Chinese name in Latin script ("Zhang Wei", "ZHANGWEI"). */
        if (cn_name_key(buf->name, buf->name_key, sizeof(buf->name_key)) > 0)
            cn_key_fuzzy(buf->name_key, buf->name_key_fuzzy,
                         sizeof(buf->name_key_fuzzy));
    }
    view->name = buf->name;
    view->given = buf->given;
    view->family = buf->family;
    view->han = buf->han;
    view->name_key = buf->name_key;
    view->name_key_fuzzy = buf->name_key_fuzzy;
    view->raw_name = rec->name;
    view->raw_given = rec->given_name;
    view->raw_family = rec->family_name;
}

/* True when an ID number has the shape of a resident ID: 15 digits, or 17
 * digits and a digit or X. */
static bool looks_like_resident_id(const char *id)
{
    size_t len = strlen(id);
    size_t digits = strspn(id, "0123456789");

    return (len == 15 && digits == 15) ||
           (len == 18 && (digits == 18 || (digits == 17 && id[17] == 'X')));
}

/*
 * Normalizes the ID number. For a resident ID that parses, *info receives
 * the parse and the return value is true, so the cross-check with the dob
 * and gender does not parse it again.
 */
static bool normalize_id(const ecif_record_t *rec, match_buffer_t *buf,
                         match_view_t *view, cn_id_info_t *info)
{
    id_doc_type_t kind = ID_DOC_OTHER;
    bool well_formed = false;
    char plain[ECIF_NORM_MAX];

    buf->id[0] = '\0';
    view->id = buf->id;
    if (!present(rec->id_number))
        return false;
    ecif_norm_id(rec->id_number, plain, sizeof(plain));
    if (junk_check(JUNK_FIELD_ID_NUMBER, plain) & JUNK_DISCARD) {
        view->quality |= ECIF_QUALITY_ID_PLACEHOLDER;
        return false;
    }
    kind = id_doc_type_parse(rec->id_type);
    if (kind == ID_DOC_OTHER && looks_like_resident_id(plain))
        kind = ID_DOC_RESIDENT_ID; /* sources often leave the type out */
    id_doc_normalize(id_doc_type_name(kind), rec->id_number, &kind,
                     &well_formed, buf->id, sizeof(buf->id));
    view->id_kind = (uint8_t)kind;
    if (kind != ID_DOC_RESIDENT_ID)
        return false;

    if (cn_id_parse(buf->id, info) != ECIF_OK)
        return false;
    if (!info->check_valid)
        view->quality |= ECIF_QUALITY_ID_BAD_CHECK;
    if (!info->date_valid)
        view->quality |= ECIF_QUALITY_ID_BAD_DATE;
    if (!info->region_known)
        view->quality |= ECIF_QUALITY_ID_UNKNOWN_REGION;
    if (info->flags & CN_ID_UPGRADED)
        view->quality |= ECIF_QUALITY_ID_UPGRADED;
    view->id_valid_resident = info->check_valid && info->date_valid;
    return true;
}

/* Cross-checks the birth date and sex of a parsed resident ID against the
 * record's own. */
static void cross_check_id(match_view_t *view, const cn_id_info_t *info)
{
    uint32_t flags = cn_id_cross_check(info, view->dob, view->gender);

    if (flags & CN_ID_DOB_MISMATCH)
        view->quality |= ECIF_QUALITY_ID_DOB_MISMATCH;
    if (flags & CN_ID_GENDER_MISMATCH)
        view->quality |= ECIF_QUALITY_ID_GENDER_MISMATCH;
}

/* True when text contains a character of the CJK ideograph blocks. */
static bool has_han(const char *text)
{
    const char *end = text + strlen(text);

    while (text < end) {
        uint32_t cp = ecif_utf8_next(&text, end);
        if ((cp >= 0x3400 && cp <= 0x9FFF) || (cp >= 0x20000 && cp <= 0x3FFFF))
            return true;
    }
    return false;
}

/* Canonical address tokens: Chinese divisions and numbers, or Latin
 * tokens with abbreviations expanded. */
static size_t normalize_address(const char *raw, char *out, size_t outlen)
{
    struct cn_address addr;
    char folded[ECIF_NORM_MAX];
    size_t ntokens = 0;

    out[0] = '\0';
    if (has_han(raw) && cn_address_parse(raw, &addr) == ECIF_OK &&
        (addr.province_code != 0 || addr.city_code != 0)) {
        /* Division, town, detail and numbers, separated by spaces. The
         * finest division found, as its code, is one short token in place
         * of three names (江苏省 徐州市 沛县 is d320322). */
        char line[2 * ECIF_NORM_MAX];
        size_t n = 0;
        if (addr.district_code != 0) {
            line[n++] = 'd';
            n += put_uint(line + n, addr.district_code, 6);
        } else if (addr.city_code != 0) {
            line[n++] = 'c';
            n += put_uint(line + n, addr.city_code, 4);
        } else {
            line[n++] = 'p';
            n += put_uint(line + n, addr.province_code, 2);
        }
        line[n++] = ' ';
        if (addr.town_code != 0) {
            line[n++] = 't';
            n += put_uint(line + n, addr.town_code, 9);
        }
        line[n++] = ' ';
        append_string(line, sizeof(line), &n, addr.detail);
        static const char tags[] = {'h', 'b', 'u', 'r'};
        uint32_t values[] = {addr.house_number, addr.building, addr.unit,
                             addr.room};
        for (size_t i = 0; i < sizeof(tags); i++) {
            if (values[i] == 0)
                continue;
            line[n++] = ' ';
            line[n++] = tags[i];
            n += put_uint(line + n, values[i], 1);
        }
        line[n] = '\0';
        if (n >= outlen)
            line[0] = '\0'; /* a value cut short is unusable */
        /* Collapse the spaces left by missing parts. */
        char folded_out[ECIF_NORM_MAX];
        ecif_norm_text(line, folded_out, sizeof(folded_out));
        copy_string(out, outlen, folded_out);
        return strlen(out);
    }
    ecif_norm_text(raw, folded, sizeof(folded));
    if (folded[0] == '\0')
        return 0;
    if (latin_address_tokens(folded, out, outlen, &ntokens) == 0)
        copy_string(out, outlen, folded);
    return strlen(out);
}

void match_normalize(const ecif_record_t *rec, match_buffer_t *buf,
                     match_view_t *view, uint8_t *kept_phones,
                     uint8_t *kept_emails, uint8_t *kept_addresses)
{
    cn_id_info_t id_info;
    bool resident_id;

    memset(view, 0, sizeof(*view));
    normalize_name(rec, buf, view);
    resident_id = normalize_id(rec, buf, view, &id_info);

    for (uint32_t i = 0; i < rec->n_phones && i < ECIF_MAX_VALUES; i++) {
        struct phone_info info;
        char *out = buf->phones[view->n_phones];
        if (!present(rec->phones[i]) ||
            phone_normalize(rec->phones[i], PHONE_CC_CHINA, &info) == 0)
            continue;
        const char *national = info.canonical;
        if (info.country_code == PHONE_CC_CHINA && national[0] == '+')
            national += 3;
        if (junk_check(JUNK_FIELD_PHONE, national) & JUNK_DISCARD ||
            junk_check(JUNK_FIELD_PHONE, info.canonical) & JUNK_DISCARD) {
            view->quality |= ECIF_QUALITY_PHONE_PLACEHOLDER;
            continue;
        }
        copy_string(out, sizeof(buf->phones[0]), info.canonical);
        if (kept_phones != NULL)
            kept_phones[view->n_phones] = (uint8_t)i;
        view->phones[view->n_phones++] = out;
    }
    for (uint32_t i = 0; i < rec->n_emails && i < ECIF_MAX_VALUES; i++) {
        char *out = buf->emails[view->n_emails];
        if (!present(rec->emails[i]) ||
            email_normalize(rec->emails[i], out, sizeof(buf->emails[0])) == 0)
            continue;
        if (junk_check(JUNK_FIELD_EMAIL, out) & JUNK_DISCARD) {
            view->quality |= ECIF_QUALITY_EMAIL_PLACEHOLDER;
            continue;
        }
        if (kept_emails != NULL)
            kept_emails[view->n_emails] = (uint8_t)i;
        view->emails[view->n_emails++] = out;
    }
    for (uint32_t i = 0; i < rec->n_addresses && i < ECIF_MAX_VALUES; i++) {
        char *out = buf->addresses[view->n_addresses];
        if (!present(rec->addresses[i]))
            continue;
        if (junk_check(JUNK_FIELD_ADDRESS, rec->addresses[i]) & JUNK_DISCARD) {
            view->quality |= ECIF_QUALITY_ADDRESS_PLACEHOLDER;
            continue;
        }
        if (normalize_address(rec->addresses[i], out,
                              sizeof(buf->addresses[0])) == 0)
            continue;
        if (kept_addresses != NULL)
            kept_addresses[view->n_addresses] = (uint8_t)i;
        view->addresses[view->n_addresses++] = out;
    }
    if (present(rec->dob)) {
        uint32_t ymd;
        bool valid;
        if (ecif_norm_date(rec->dob, &ymd, &valid) == ECIF_OK) {
            char text[16];
            size_t n = put_uint(text, ymd / 10000, 4);
            text[n++] = '-';
            n += put_uint(text + n, ymd / 100 % 100, 2);
            text[n++] = '-';
            n += put_uint(text + n, ymd % 100, 2);
            text[n] = '\0';
            if (junk_check(JUNK_FIELD_DATE, text) & JUNK_DISCARD) {
                view->quality |= ECIF_QUALITY_DOB_PLACEHOLDER;
            } else {
                view->dob = ymd;
                view->dob_valid = valid;
                if (!valid)
                    view->quality |= ECIF_QUALITY_DOB_INVALID;
            }
        }
    }
    view->gender = ecif_norm_gender(rec->gender);
    if (resident_id)
        cross_check_id(view, &id_info);
}

void match_view_stored(const struct ecif_store *s, uint32_t record,
                       match_view_t *view)
{
    const char *pool;
    const uint32_t *v;
    const struct rec_entry *r = store_record(s, record, &pool, &v);

    v += r->n_phones + r->n_emails + r->n_addresses;
    view->name = pool + r->norm_name;
    view->given = pool + r->norm_given;
    view->family = pool + r->norm_family;
    view->raw_name = pool + r->name;
    view->raw_given = pool + r->given_name;
    view->raw_family = pool + r->family_name;
    view->han = pool + r->norm_han;
    view->name_key = pool + r->name_key;
    view->name_key_fuzzy = pool + r->name_key_fuzzy;
    view->suffix = r->suffix;
    view->id_kind = r->id_kind;
    view->id_valid_resident = (r->flags & REC_ID_VALID_RESIDENT) != 0;
    view->id = pool + r->norm_id;
    view->n_phones = r->n_phones;
    for (uint32_t i = 0; i < r->n_phones; i++)
        view->phones[i] = pool + *v++;
    view->n_emails = r->n_emails;
    for (uint32_t i = 0; i < r->n_emails; i++)
        view->emails[i] = pool + *v++;
    view->n_addresses = r->n_addresses;
    for (uint32_t i = 0; i < r->n_addresses; i++)
        view->addresses[i] = pool + *v++;
    view->dob = r->dob_ymd;
    view->dob_valid = (r->flags & REC_DOB_VALID) != 0;
    view->gender = (char)r->gender_code;
    view->quality = r->quality;
    /* Agreement is checked on the query side, which match_mark_frequent
     * sets: an equal value has the same frequency on both sides. */
    view->frequent = 0;
    view->name_count = 0;
}

size_t match_split_tokens(const char *text, char buf[][ECIF_NORM_MAX],
                          size_t max)
{
    size_t n = 0;
    const char *p = text;

    while (*p != '\0' && n < max) {
        const char *end = strchr(p, ' ');
        size_t len = end != NULL ? (size_t)(end - p) : strlen(p);
        if (len > 0) {
            if (len >= ECIF_NORM_MAX)
                len = ECIF_NORM_MAX - 1;
            memcpy(buf[n], p, len);
            buf[n][len] = '\0';
            n++;
        }
        if (end == NULL)
            break;
        p = end + 1;
    }
    return n;
}

/* Returns the hash of a key made of a type letter and parts joined by '|'. */
static uint64_t key_hash(char type, const char *a, const char *b)
{
    char key[2 * ECIF_NORM_MAX + 4];
    size_t la = strlen(a);
    size_t lb = b != NULL ? strlen(b) : 0;

    /* type, a, '|', b: the same bytes as "%c%s|%s", cut to fit. */
    if (la > ECIF_NORM_MAX)
        la = ECIF_NORM_MAX;
    if (lb > ECIF_NORM_MAX)
        lb = ECIF_NORM_MAX;
    key[0] = type;
    memcpy(key + 1, a, la);
    key[1 + la] = '|';
    if (lb > 0)
        memcpy(key + 2 + la, b, lb);
    return ecif_hash64(key, 2 + la + lb, 0);
}

/* Appends a key unless it is already in hashes or hashes is full. */
static void add_key(uint64_t *hashes, size_t *n, size_t max, char type,
                    const char *a, const char *b)
{
    uint64_t h;

    if (*n >= max)
        return;
    h = key_hash(type, a, b);
    for (size_t i = 0; i < *n; i++) {
        if (hashes[i] == h)
            return;
    }
    hashes[(*n)++] = h;
}

static int compare_chars(const void *a, const void *b)
{
    return *(const char *)a - *(const char *)b;
}

/* Copies the first chars code points of token into out. */
static void utf8_prefix(const char *token, size_t chars, char *out,
                        size_t outlen)
{
    const char *p = token;
    const char *end = token + strlen(token);
    size_t len;

    for (size_t i = 0; i < chars && p < end; i++)
        ecif_utf8_next(&p, end);
    len = (size_t)(p - token);
    if (len >= outlen)
        len = outlen - 1;
    memcpy(out, token, len);
    out[len] = '\0';
}

#define MAX_POSTCODES 2

/* Collects up to MAX_POSTCODES address tokens of 4 to 6 digits. */
static size_t find_postcodes(const match_view_t *v, char out[MAX_POSTCODES][8])
{
    size_t n = 0;

    for (uint32_t a = 0; a < v->n_addresses; a++) {
        const char *p = v->addresses[a];
        while (*p != '\0' && n < MAX_POSTCODES) {
            size_t len = strcspn(p, " ");
            if (len >= 4 && len <= 6 && strspn(p, "0123456789") == len) {
                memcpy(out[n], p, len);
                out[n][len] = '\0';
                n++;
            }
            p += len;
            while (*p == ' ')
                p++;
        }
    }
    return n;
}

static int compare_strings(const void *a, const void *b)
{
    return strcmp((const char *)a, (const char *)b);
}

/*
 * Adds the keys that pair a name token with a second value (the date of
 * birth or a postal code) to the n keys in hashes and returns the new
 * count. codes receives the phonetic code of each of the ntok tokens.
 */
static size_t add_token_keys(const match_view_t *v,
                             char tokens[][ECIF_NORM_MAX],
                             char codes[][ECIF_NORM_MAX], size_t ntok,
                             const char *dob, uint64_t *hashes, size_t n,
                             size_t max)
{
    for (size_t i = 0; i < ntok; i++)
        ecif_phonetic(tokens[i], codes[i], sizeof(codes[i]));

    /* Each name token with the date of birth: survives a typo or a swap in
     * the other tokens. A diminutive also keys its full forms (Bob keys
     * Robert), so nickname pairs meet. */
    if (dob[0] != '\0') {
        for (size_t i = 0; i < ntok; i++) {
            char canon[LATIN_NICKNAME_MAX][LATIN_CANONICAL_SIZE];
            size_t nc = latin_nickname_canonical(tokens[i], canon);
            add_key(hashes, &n, max, 'T', codes[i], dob);
            for (size_t k = 0; k < nc; k++) {
                char code[ECIF_NORM_MAX];
                ecif_phonetic(canon[k], code, sizeof(code));
                add_key(hashes, &n, max, 'T', code, dob);
            }
        }
    }

    /* The first three characters of each name token with the date of
     * birth: survives a typo past the start that changes the phonetic
     * code. */
    if (dob[0] != '\0') {
        for (size_t i = 0; i < ntok; i++) {
            char prefix[16];
            utf8_prefix(tokens[i], 3, prefix, sizeof(prefix));
            add_key(hashes, &n, max, 'Q', prefix, dob);
        }
    }

    /* Each name token with each postal code (a number of 4 to 6 digits)
     * found in the addresses: for records without a date of birth. */
    char postcodes[MAX_POSTCODES][8];
    size_t npost = find_postcodes(v, postcodes);
    for (size_t i = 0; i < ntok; i++) {
        for (size_t k = 0; k < npost; k++)
            add_key(hashes, &n, max, 'Z', codes[i], postcodes[k]);
    }

    return n;
}

/*
 * Returns whether a Latin-script record has a given name without a family
 * name or the reverse, or an unsplit name of one token (ntok tokens).
 */
static bool lacks_name_part(const match_view_t *v, size_t ntok)
{
    bool has_given = v->given[0] != '\0';
    bool has_family = v->family[0] != '\0';

    if (v->han[0] != '\0' || ntok == 0)
        return false;
    if (has_given || has_family)
        return has_given != has_family;
    return ntok == 1;
}

/*
 * Adds each token code with the year of birth (Y) and with the month and
 * day (D). A record that lacks a name part or an identifier is posted
 * under them, and every Latin record looks them up. So a full record finds
 * a partial one whose month or day of birth differs, and two records
 * without an ID number or phone meet when one token and one part of the
 * date both changed (engine/MATCHING.md).
 */
static size_t add_partial_name_keys(const match_view_t *v,
                                    char codes[][ECIF_NORM_MAX], size_t ntok,
                                    uint64_t *hashes, size_t n, size_t max)
{
    char year[8];
    char month_day[8];

    if (v->dob == 0)
        return n;
    snprintf(year, sizeof(year), "%04u", (unsigned)(v->dob / 10000));
    snprintf(month_day, sizeof(month_day), "%04u", (unsigned)(v->dob % 10000));
    for (size_t i = 0; i < ntok; i++) {
        if (codes[i][0] != '\0') {
            add_key(hashes, &n, max, 'Y', codes[i], year);
            add_key(hashes, &n, max, 'D', codes[i], month_day);
        }
    }
    return n;
}

/*
 * Adds the first three characters of each address with the date of birth. It
 * gathers a person whose name tokens all changed (typos, a dropped part,
 * swapped order) while the birth date and the start of the address stayed.
 * That start is a house number, a city that lost a late letter, or a Chinese
 * province code. Relatives at one address rarely share a birth date, so
 * unlike a name token with the address it does not gather a household.
 */
static size_t add_address_dob_keys(const match_view_t *v, const char *dob,
                                   uint64_t *hashes, size_t n, size_t max)
{
    if (dob[0] == '\0')
        return n;
    for (uint32_t i = 0; i < v->n_addresses; i++) {
        char prefix[16];
        utf8_prefix(v->addresses[i], 3, prefix, sizeof(prefix));
        if (prefix[0] != '\0')
            add_key(hashes, &n, max, 'A', prefix, dob);
    }
    return n;
}

/*
 * Returns whether a record has neither an ID number nor a phone. Only such
 * a record is posted under the email local part, address, Y and D keys,
 * while every record looks them up. A record with an ID or a phone is
 * found by those. Posting the weak keys for it too would cost the index
 * about 16 bytes per record (L and A) on generated customers, most of
 * whom have both.
 */
static bool lacks_identifier(const match_view_t *v)
{
    return v->id[0] == '\0' && v->n_phones == 0;
}

/* Shortest email local part that gets a key of its own: "js" or "mh"
 * names too many people to gather by. */
#define LOCAL_PART_MIN 4

/*
 * Adds the local part of each email, which survives a changed or mistyped
 * domain (frederick.jones62@anderson.biz and @andersen.biz). The scorer
 * gives such a pair the same_local_part level, and the frequent-value
 * limit drops a local part that too many records share.
 */
static size_t add_local_part_keys(const match_view_t *v, uint64_t *hashes,
                                  size_t n, size_t max)
{
    for (uint32_t i = 0; i < v->n_emails; i++) {
        char local[ECIF_NORM_MAX];
        size_t len = strcspn(v->emails[i], "@");
        if (len < LOCAL_PART_MIN || len >= sizeof(local))
            continue;
        memcpy(local, v->emails[i], len);
        local[len] = '\0';
        add_key(hashes, &n, max, 'L', local, NULL);
    }
    return n;
}

/*
 * Computes a record's keys in gathering order. With lookup set, a full
 * record also gets the keys of a record that lacks a name part, which it
 * looks up but is not posted under.
 */
static size_t record_keys(const match_view_t *v, bool lookup, uint64_t *hashes,
                          size_t max, size_t *n_identifier_keys,
                          size_t *n_qualified_keys)
{
    char tokens[MATCH_MAX_TOKENS][ECIF_NORM_MAX];
    char codes[MATCH_MAX_TOKENS][ECIF_NORM_MAX];
    char dob[16] = "";
    size_t n = 0;
    size_t ntok = 0;
    bool key_alone = false;

    if (strlen(v->id) >= 4)
        add_key(hashes, &n, max, 'I', v->id, NULL);
    for (uint32_t i = 0; i < v->n_phones; i++)
        add_key(hashes, &n, max, 'P', v->phones[i], NULL);
    for (uint32_t i = 0; i < v->n_emails; i++)
        add_key(hashes, &n, max, 'E', v->emails[i], NULL);
    if (n_identifier_keys != NULL)
        *n_identifier_keys = n;
    if (strlen(v->id) >= 6) {
        /* The characters of the ID in sorted order, which survive a
         * transposition of two digits, the most common keying error. A
         * 9-digit ID has few such digit sets, so an estimated tens of
         * unrelated records share this key. It follows the exact keys. */
        char sorted[ECIF_NORM_MAX];
        snprintf(sorted, sizeof(sorted), "%s", v->id);
        qsort(sorted, strlen(sorted), 1, compare_chars);
        add_key(hashes, &n, max, 'S', sorted, NULL);
    }

    if (v->dob != 0)
        snprintf(dob, sizeof(dob), "%08u", (unsigned)v->dob);

    /* The order-free pinyin key matches a Chinese name in either script
     * and either order, and the fuzzy key tolerates confusable sounds.
     * Alone the key is too common for names like 张伟, so it goes with the
     * date of birth. Without a date, or without any phone or email, it is
     * also added alone with the name-only keys at the end. The
     * frequent-value limit drops it when it is common. */
    if (v->name_key[0] != '\0') {
        add_key(hashes, &n, max, 'K', v->name_key, dob);
        if (strcmp(v->name_key_fuzzy, v->name_key) != 0)
            add_key(hashes, &n, max, 'F', v->name_key_fuzzy, dob);
        key_alone = dob[0] == '\0' || v->n_phones + v->n_emails == 0;
    }

    /* A Han name is one token, so the token keys below would repeat the
     * pinyin keys. The surname with the date of birth instead survives a
     * given-name character mistyped with another sound. */
    if (v->han[0] != '\0') {
        if (dob[0] != '\0' && v->family[0] != '\0')
            add_key(hashes, &n, max, 'H', v->family, dob);
    } else {
        ntok = match_split_tokens(v->name, tokens, MATCH_MAX_TOKENS);
        n = add_token_keys(v, tokens, codes, ntok, dob, hashes, n, max);
        if (lookup || lacks_name_part(v, ntok) || lacks_identifier(v))
            n = add_partial_name_keys(v, codes, ntok, hashes, n, max);
    }
    if (lookup || lacks_identifier(v)) {
        n = add_local_part_keys(v, hashes, n, max);
        n = add_address_dob_keys(v, dob, hashes, n, max);
    }
    if (n_qualified_keys != NULL)
        *n_qualified_keys = n;

    /* The keys of the name alone come last, because a common name can
     * share them with hundreds of records. */
    if (key_alone)
        add_key(hashes, &n, max, 'K', v->name_key, NULL);

    /* All phonetic codes in sorted order: survives swapped name order and
     * a missing date of birth. */
    if (ntok >= 1) {
        char joined[ECIF_NORM_MAX * 2];
        size_t used = 0;
        qsort(codes, ntok, sizeof(codes[0]), compare_strings);
        for (size_t i = 0; i < ntok; i++) {
            size_t len = strlen(codes[i]);
            if (used + len + 2 > sizeof(joined))
                break;
            if (i > 0)
                joined[used++] = ' ';
            memcpy(joined + used, codes[i], len);
            used += len;
        }
        joined[used] = '\0';
        add_key(hashes, &n, max, 'N', joined, NULL);
    }
    return n;
}

size_t match_keys(const match_view_t *v, uint64_t *hashes, size_t max,
                  size_t *n_identifier_keys)
{
    return record_keys(v, false, hashes, max, n_identifier_keys, NULL);
}

size_t match_keys_ordered(const match_view_t *v, uint64_t *hashes, size_t max,
                          size_t *n_identifier_keys, size_t *n_qualified_keys)
{
    return record_keys(v, true, hashes, max, n_identifier_keys,
                       n_qualified_keys);
}

/* Longest run of name digits compared; digits past it are left out. */
#define NAME_DIGITS_MAX 32

/* Appends the digits of text (ASCII, and full-width as ASCII) to out,
 * which contains *n of at most NAME_DIGITS_MAX. */
static void append_digits(const char *text, char *out, size_t *n)
{
    const unsigned char *p = (const unsigned char *)text;

    for (; p != NULL && *p != '\0' && *n < NAME_DIGITS_MAX; p++) {
        if (*p >= '0' && *p <= '9')
            out[(*n)++] = (char)*p;
        else if (p[0] == 0xEF && p[1] == 0xBC && p[2] >= 0x90 && p[2] <= 0x99)
            out[(*n)++] = (char)('0' + p[2] - 0x90); /* U+FF10 to U+FF19 */
    }
}

/* Copies the digits of a view's raw name into out, in the order the name
 * is compared (family then given name, or the whole name), and returns
 * how many there are. */
static size_t name_digits(const match_view_t *v, char out[NAME_DIGITS_MAX])
{
    size_t n = 0;

    if (present(v->raw_given) || present(v->raw_family)) {
        append_digits(v->raw_family, out, &n);
        append_digits(v->raw_given, out, &n);
    } else {
        append_digits(v->raw_name, out, &n);
    }
    return n;
}

bool match_name_digits_differ(const match_view_t *a, const match_view_t *b)
{
    char da[NAME_DIGITS_MAX], db[NAME_DIGITS_MAX];
    size_t na = name_digits(a, da);
    size_t nb = name_digits(b, db);

    return na > 0 && nb > 0 && (na != nb || memcmp(da, db, na) != 0);
}

uint64_t match_name_hash(const match_view_t *v)
{
    char tokens[MATCH_MAX_TOKENS][ECIF_NORM_MAX];
    char joined[MATCH_MAX_TOKENS * ECIF_NORM_MAX];
    size_t n, len = 0;

    if (v->han[0] != '\0')
        return ecif_hash64(v->han, strlen(v->han), 0x4e);
    n = match_split_tokens(v->name, tokens, MATCH_MAX_TOKENS);
    if (n == 0)
        return 0;
    qsort(tokens, n, sizeof(tokens[0]), compare_strings);
    for (size_t i = 0; i < n; i++) {
        size_t t = strlen(tokens[i]);
        memcpy(joined + len, tokens[i], t);
        len += t;
        joined[len++] = ' ';
    }
    return ecif_hash64(joined, len - 1, 0x4e);
}

void match_mark_frequent(const struct ecif_store *s, match_view_t *v)
{
    uint64_t name_hash = match_name_hash(v);

    v->name_count = name_hash != 0 ? store_name_count(s, name_hash) : 0;
    v->frequent = 0;
    if (strlen(v->id) >= 4 && store_key_frequent(s, key_hash('I', v->id, NULL)))
        v->frequent |= FREQUENT_ID;
    for (uint32_t i = 0; i < v->n_phones; i++) {
        if (store_key_frequent(s, key_hash('P', v->phones[i], NULL)))
            v->frequent |= FREQUENT_PHONE(i);
    }
    for (uint32_t i = 0; i < v->n_emails; i++) {
        if (store_key_frequent(s, key_hash('E', v->emails[i], NULL)))
            v->frequent |= FREQUENT_EMAIL(i);
    }
}

/* Adds a record id to the candidate set unless present or full. */
static void add_candidate(match_candidates_t *c, uint32_t id)
{
    const uint32_t mask = MAX_QUERY_CANDIDATES * 4 - 1;
    uint32_t slot = (id * 2654435761U) & mask;

    while (c->table[slot] != 0) {
        if (c->table[slot] == id + 1)
            return;
        slot = (slot + 1) & mask;
    }
    if (c->count >= MAX_QUERY_CANDIDATES)
        return;
    c->table[slot] = id + 1;
    c->ids[c->count++] = id;
}

/* Adds the records added while serving that carry a key, newest first. */
static void gather_delta(const struct store_delta *d, uint64_t key,
                         match_candidates_t *out)
{
    for (uint32_t p = delta_key_first(d, key);
         p != DELTA_NONE && out->count < MAX_QUERY_CANDIDATES;
         p = d->postings[p].next)
        add_candidate(out, d->base_records + d->postings[p].record);
}

bool match_each_value_record(const struct ecif_store *s, char type,
                             const char *value,
                             void (*visit)(void *arg, uint32_t record),
                             void *arg)
{
    uint64_t key = key_hash(type, value, NULL);
    const struct store_delta *d = s->delta;

    if (store_key_frequent(s, key))
        return false;
    if (d != NULL && d->count > 0) {
        for (uint32_t p = delta_key_first(d, key); p != DELTA_NONE;
             p = d->postings[p].next)
            visit(arg, d->base_records + d->postings[p].record);
    }
    uint32_t count;
    const uint32_t *ids = store_lookup_key(s, key, &count);
    for (uint32_t i = 0; i < count; i++)
        visit(arg, ids[i]);
    return true;
}

void match_gather(const struct ecif_store *s, const match_view_t *view,
                  match_candidates_t *out)
{
    uint64_t keys[MAX_RECORD_KEYS];
    size_t nkeys = match_keys_ordered(view, keys, MAX_RECORD_KEYS, NULL, NULL);

    match_candidates_reset(out);
    match_gather_range(s, keys, 0, nkeys, out);
}

void match_candidates_reset(match_candidates_t *out)
{
    out->count = 0;
    memset(out->table, 0, sizeof(out->table));
}

void match_gather_range(const struct ecif_store *s, const uint64_t *keys,
                        size_t first, size_t end, match_candidates_t *out)
{
    for (size_t k = first; k < end && out->count < MAX_QUERY_CANDIDATES; k++) {
        uint32_t count;
        const uint32_t *ids = store_lookup_key(s, keys[k], &count);
        for (uint32_t i = 0; i < count; i++)
            add_candidate(out, ids[i]);
        if (s->delta != NULL && s->delta->count > 0)
            gather_delta(s->delta, keys[k], out);
    }
}
