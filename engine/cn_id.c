/*
 * Identity documents. The resident ID code follows GB 11643-1999: six
 * digits of GB/T 2260 region, eight of birth date, three of sequence
 * (odd for men, even for women) and an ISO 7064 MOD 11-2 check character.
 * Numbers issued before 1999 have 15 digits: a two-digit year and no check
 * character. The other documents only get a canonical kind and a number
 * layout check; engine/IDENTITY.md describes both.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "cn_id.h"
#include "normalize.h"
#include "status.h"

/* Weights 2^(17-i) mod 11 of the 17 digits, from the left. */
static const int check_weights[17] = {7, 9, 10, 5,  8, 4, 2, 1, 6,
                                      3, 7, 9,  10, 5, 8, 4, 2};

/* Check character for each weighted sum modulo 11. */
static const char check_chars[11] = {'1', '0', 'X', '9', '8', '7',
                                     '6', '5', '4', '3', '2'};

static bool all_digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i]))
            return false;
    }
    return true;
}

/* Reads n ASCII digits known to be there. */
static uint32_t digits_value(const char *s, size_t n)
{
    uint32_t v = 0;

    for (size_t i = 0; i < n; i++)
        v = v * 10 + (uint32_t)(s[i] - '0');
    return v;
}

char cn_id_check_char(const char *first17)
{
    int sum = 0;

    if (first17 == NULL)
        return 0;
    for (int i = 0; i < 17; i++) {
        if (!isdigit((unsigned char)first17[i]))
            return 0;
        sum += (first17[i] - '0') * check_weights[i];
    }
    return check_chars[sum % 11];
}

bool cn_id_valid18(const char *id)
{
    if (id == NULL || strlen(id) != 18)
        return false;
    char check = cn_id_check_char(id);
    return check != 0 && id[17] == check;
}

int cn_id_upgrade15(const char *id15, char out[CN_ID_SIZE])
{
    out[0] = '\0';
    if (id15 == NULL || strlen(id15) != 15 || !all_digits(id15, 15))
        return ECIF_EINVAL;

    memcpy(out, id15, 6);
    memcpy(out + 6, "19", 2);
    memcpy(out + 8, id15 + 6, 9);
    out[17] = cn_id_check_char(out);
    out[18] = '\0';
    return ECIF_OK;
}

static bool leap_year(uint32_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Accepts birth years 1800..2099: older or later dates are typing errors. */
static bool birth_date_exists(uint32_t ymd)
{
    static const uint8_t days[12] = {31, 28, 31, 30, 31, 30,
                                     31, 31, 30, 31, 30, 31};
    uint32_t y = ymd / 10000, m = ymd / 100 % 100, d = ymd % 100;

    if (y < 1800 || y > 2099 || m < 1 || m > 12 || d < 1)
        return false;
    uint32_t max = days[m - 1] + (m == 2 && leap_year(y) ? 1 : 0);
    return d <= max;
}

/* Sets the canonical form and the UPGRADED and BAD_CHECK flags. */
static int canonical_form(const char *id, cn_id_info_t *info)
{
    size_t len = strlen(id);

    if (len == 15) {
        if (cn_id_upgrade15(id, info->id18) != ECIF_OK)
            return ECIF_EINVAL;
        info->flags |= CN_ID_UPGRADED;
        return ECIF_OK;
    }
    if (len != 18 || !all_digits(id, 17))
        return ECIF_EINVAL;
    if (!isdigit((unsigned char)id[17]) && id[17] != 'X')
        return ECIF_EINVAL;
    memcpy(info->id18, id, CN_ID_SIZE);
    return ECIF_OK;
}

int cn_id_parse(const char *normalized_id, cn_id_info_t *info)
{
    memset(info, 0, sizeof(*info));
    if (normalized_id == NULL ||
        canonical_form(normalized_id, info) != ECIF_OK) {
        memset(info, 0, sizeof(*info));
        return ECIF_EINVAL;
    }

    const char *id = info->id18;
    info->check_valid = cn_id_valid18(id);
    if (!info->check_valid)
        info->flags |= CN_ID_BAD_CHECK;

    info->dob = digits_value(id + 6, 8);
    info->date_valid = birth_date_exists(info->dob);
    if (!info->date_valid)
        info->flags |= CN_ID_BAD_DATE;

    info->sex = (id[16] - '0') % 2 == 1 ? 'M' : 'F';

    info->region = digits_value(id, 6);
    const cn_region_t *region = cn_region_find(info->region);
    info->region_known = region != NULL;
    if (region == NULL) {
        info->flags |= CN_ID_UNKNOWN_REGION;
    } else {
        info->region_name = region->name;
        if (!region->current)
            info->flags |= CN_ID_RETIRED_REGION;
    }
    return ECIF_OK;
}

uint32_t cn_id_cross_check(const cn_id_info_t *info, uint32_t dob_yyyymmdd,
                           char gender)
{
    uint32_t flags = 0;

    if (dob_yyyymmdd != 0 && info->date_valid && dob_yyyymmdd != info->dob)
        flags |= CN_ID_DOB_MISMATCH;
    if ((gender == 'M' || gender == 'F') && info->sex != 0 &&
        gender != info->sex)
        flags |= CN_ID_GENDER_MISMATCH;
    return flags;
}

static const struct {
    uint32_t flag;
    const char *name;
} flag_names[] = {
    {CN_ID_BAD_CHECK, "BAD_CHECK"},
    {CN_ID_BAD_DATE, "BAD_DATE"},
    {CN_ID_UNKNOWN_REGION, "UNKNOWN_REGION"},
    {CN_ID_RETIRED_REGION, "RETIRED_REGION"},
    {CN_ID_UPGRADED, "UPGRADED"},
    {CN_ID_DOB_MISMATCH, "DOB_MISMATCH"},
    {CN_ID_GENDER_MISMATCH, "GENDER_MISMATCH"},
};

size_t cn_id_flag_str(uint32_t flags, char *out, size_t outlen)
{
    size_t n = 0;

    if (outlen == 0)
        return 0;
    out[0] = '\0';
    for (size_t i = 0; i < sizeof(flag_names) / sizeof(flag_names[0]); i++) {
        if ((flags & flag_names[i].flag) == 0)
            continue;
        size_t len = strlen(flag_names[i].name);
        size_t sep = n > 0 ? 1 : 0;
        if (n + sep + len + 1 > outlen)
            continue;
        if (sep)
            out[n++] = '|';
        memcpy(out + n, flag_names[i].name, len + 1);
        n += len;
    }
    return n;
}

static int compare_region(const void *key, const void *elem)
{
    uint32_t code = *(const uint32_t *)key;
    uint32_t other = ((const cn_region_t *)elem)->code;

    return code < other ? -1 : code > other ? 1 : 0;
}

const cn_region_t *cn_region_find(uint32_t code)
{
    return bsearch(&code, cn_region_table, cn_region_count,
                   sizeof(cn_region_table[0]), compare_region);
}

int cn_region_lookup(const char *code, const char **name)
{
    *name = NULL;
    if (code == NULL || strlen(code) != 6 || !all_digits(code, 6))
        return ECIF_EINVAL;

    const cn_region_t *region = cn_region_find(digits_value(code, 6));
    if (region == NULL)
        return ECIF_ENOTFOUND;
    *name = region->name;
    return ECIF_OK;
}

/*
 * Accepted spellings of each kind, as ecif_norm_text() folds them: lower
 * case, and every run of separators one space.
 */
static const struct {
    const char *spelling;
    id_doc_type_t type;
} type_spellings[] = {
    {"resident id", ID_DOC_RESIDENT_ID},
    {"id card", ID_DOC_RESIDENT_ID},
    {"idcard", ID_DOC_RESIDENT_ID},
    {"id", ID_DOC_RESIDENT_ID},
    {"prc id", ID_DOC_RESIDENT_ID},
    {"cn id", ID_DOC_RESIDENT_ID},
    {"01", ID_DOC_RESIDENT_ID},
    {"身份证", ID_DOC_RESIDENT_ID},
    {"居民身份证", ID_DOC_RESIDENT_ID},
    {"二代身份证", ID_DOC_RESIDENT_ID},
    {"第二代居民身份证", ID_DOC_RESIDENT_ID},
    {"临时身份证", ID_DOC_RESIDENT_ID},
    {"临时居民身份证", ID_DOC_RESIDENT_ID},
    {"passport", ID_DOC_PASSPORT},
    {"护照", ID_DOC_PASSPORT},
    {"hk macau permit", ID_DOC_HK_MACAU_PERMIT},
    {"港澳居民来往内地通行证", ID_DOC_HK_MACAU_PERMIT},
    {"港澳居民往来内地通行证", ID_DOC_HK_MACAU_PERMIT},
    {"回乡证", ID_DOC_HK_MACAU_PERMIT},
    {"taiwan permit", ID_DOC_TAIWAN_PERMIT},
    {"台湾居民来往大陆通行证", ID_DOC_TAIWAN_PERMIT},
    {"台湾居民往来大陆通行证", ID_DOC_TAIWAN_PERMIT},
    {"台胞证", ID_DOC_TAIWAN_PERMIT},
    {"foreign permanent", ID_DOC_FOREIGN_PERMANENT},
    {"外国人永久居留身份证", ID_DOC_FOREIGN_PERMANENT},
    {"外国人永久居留证", ID_DOC_FOREIGN_PERMANENT},
    {"永久居留身份证", ID_DOC_FOREIGN_PERMANENT},
    {"other", ID_DOC_OTHER},
};

id_doc_type_t id_doc_type_parse(const char *id_type)
{
    char folded[ECIF_NORM_MAX];

    if (id_type == NULL || ecif_norm_text(id_type, folded, sizeof(folded)) == 0)
        return ID_DOC_OTHER;
    for (size_t i = 0; i < sizeof(type_spellings) / sizeof(type_spellings[0]);
         i++) {
        if (strcmp(folded, type_spellings[i].spelling) == 0)
            return type_spellings[i].type;
    }
    return ID_DOC_OTHER;
}

const char *id_doc_type_name(id_doc_type_t type)
{
    switch (type) {
    case ID_DOC_RESIDENT_ID:
        return "RESIDENT_ID";
    case ID_DOC_PASSPORT:
        return "PASSPORT";
    case ID_DOC_HK_MACAU_PERMIT:
        return "HK_MACAU_PERMIT";
    case ID_DOC_TAIWAN_PERMIT:
        return "TAIWAN_PERMIT";
    case ID_DOC_FOREIGN_PERMANENT:
        return "FOREIGN_PERMANENT";
    case ID_DOC_OTHER:
        break;
    }
    return "OTHER";
}

static bool all_upper(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] < 'A' || s[i] > 'Z')
            return false;
    }
    return true;
}

/* Whether a normalized number has the layout of its kind. */
static bool number_well_formed(id_doc_type_t type, const char *s, size_t n)
{
    switch (type) {
    case ID_DOC_RESIDENT_ID:
        return n == 18 && all_digits(s, 17) &&
               (isdigit((unsigned char)s[17]) || s[17] == 'X');
    case ID_DOC_PASSPORT:
        return n >= 5 && n <= 17;
    case ID_DOC_HK_MACAU_PERMIT:
        /* H (Hong Kong) or M (Macau), 8 digits, optionally 2 digits of
         * issue count. */
        return (n == 9 || n == 11) && (s[0] == 'H' || s[0] == 'M') &&
               all_digits(s + 1, n - 1);
    case ID_DOC_TAIWAN_PERMIT:
        return n == 8 && all_digits(s, 8);
    case ID_DOC_FOREIGN_PERMANENT:
        /* Older cards: 3 letters of nationality and 12 digits. Cards
         * issued from December 2023 have 18 characters laid out like a
         * resident ID, starting with 9. */
        if (n == 15)
            return all_upper(s, 3) && all_digits(s + 3, 12);
        return n == 18 && s[0] == '9' && all_digits(s, 17) &&
               (isdigit((unsigned char)s[17]) || s[17] == 'X');
    case ID_DOC_OTHER:
        break;
    }
    return n > 0;
}

size_t id_doc_normalize(const char *id_type, const char *id_number,
                        id_doc_type_t *type, bool *well_formed, char *out,
                        size_t outlen)
{
    char number[ECIF_NORM_MAX];
    size_t n;

    *type = id_doc_type_parse(id_type);
    *well_formed = false;
    if (outlen > 0)
        out[0] = '\0';
    if (id_number == NULL)
        return 0;

    n = ecif_norm_id(id_number, number, sizeof(number));
    if (*type == ID_DOC_RESIDENT_ID && n == 15 && all_digits(number, 15)) {
        char id18[CN_ID_SIZE];
        cn_id_upgrade15(number, id18);
        memcpy(number, id18, CN_ID_SIZE);
        n = 18;
    }
    if (n == 0 || n + 1 > outlen)
        return 0;

    memcpy(out, number, n + 1);
    *well_formed = number_well_formed(*type, out, n);
    return n;
}
