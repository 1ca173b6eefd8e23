/*
 * Fuzz target for engine/cn_id.h. The first line is a document type, the
 * second a document number, the third and fourth a dob and a gender for
 * the cross-check. A parsed resident ID must agree with its own digits: the
 * check character, birth date, sex and region fields, and the flags.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cn_id.h"
#include "fuzz_common.h"
#include "status.h"

static bool all_digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

static uint32_t digits_value(const char *s, size_t n)
{
    uint32_t v = 0;

    for (size_t i = 0; i < n; i++)
        v = v * 10 + (uint32_t)(s[i] - '0');
    return v;
}

static void check_parsed(const char *norm, const cn_id_info_t *info)
{
    const char *id = info->id18;
    char check = cn_id_check_char(id);
    uint32_t flags = info->flags;

    FUZZ_CHECK(strlen(id) == 18);
    FUZZ_CHECK(all_digits(id, 17));
    FUZZ_CHECK(check != 0);
    FUZZ_CHECK(info->check_valid == (id[17] == check));
    FUZZ_CHECK(info->check_valid == cn_id_valid18(id));
    FUZZ_CHECK(info->dob == digits_value(id + 6, 8));
    FUZZ_CHECK(info->region == digits_value(id, 6));
    FUZZ_CHECK(info->sex == ((id[16] - '0') % 2 ? 'M' : 'F'));
    FUZZ_CHECK(!(flags & CN_ID_BAD_CHECK) == info->check_valid);
    FUZZ_CHECK(!(flags & CN_ID_BAD_DATE) == info->date_valid);
    FUZZ_CHECK(!(flags & CN_ID_UNKNOWN_REGION) == info->region_known);
    FUZZ_CHECK(info->region_known == (info->region_name != NULL));
    if (info->region_name != NULL)
        FUZZ_CHECK(fuzz_utf8(info->region_name));
    FUZZ_CHECK(!(flags & CN_ID_UPGRADED) == (strlen(norm) == 18));

    if (strlen(norm) == 15) {
        char up[CN_ID_SIZE];

        FUZZ_CHECK(cn_id_upgrade15(norm, up) == ECIF_OK);
        FUZZ_CHECK(strcmp(up, id) == 0);
        FUZZ_CHECK(cn_id_valid18(up));
    } else {
        FUZZ_CHECK(strcmp(norm, id) == 0);
    }
}

static void check_resident(const char *number, const char *dob_text,
                           const char *gender)
{
    char norm[ECIF_NORM_MAX];
    char up[CN_ID_SIZE];
    cn_id_info_t info;
    uint32_t dob = 0;
    bool dob_valid;
    int rc;

    fuzz_run_writer(ecif_norm_id, number, norm);
    rc = cn_id_parse(norm, &info);
    FUZZ_CHECK(rc == ECIF_OK || rc == ECIF_EINVAL);
    if (rc == ECIF_OK) {
        uint32_t bits;

        check_parsed(norm, &info);
        if (ecif_norm_date(dob_text, &dob, &dob_valid) != ECIF_OK)
            dob = 0;
        bits = cn_id_cross_check(&info, dob, ecif_norm_gender(gender));
        FUZZ_CHECK((bits & ~(uint32_t)(CN_ID_DOB_MISMATCH |
                                       CN_ID_GENDER_MISMATCH)) == 0);
        FUZZ_CHECK(cn_id_cross_check(&info, 0, 0) == 0);
    } else {
        FUZZ_CHECK(info.id18[0] == '\0' && info.flags == 0);
    }

    rc = cn_id_upgrade15(number, up);
    FUZZ_CHECK(rc == ECIF_OK || rc == ECIF_EINVAL);
    FUZZ_CHECK((rc == ECIF_OK) ==
               (strlen(number) == 15 && all_digits(number, 15)));
    FUZZ_CHECK(rc == ECIF_OK ? cn_id_valid18(up) : up[0] == '\0');
}

static void check_region(const char *code)
{
    const char *name = NULL;
    int rc = cn_region_lookup(code, &name);

    FUZZ_CHECK(rc == ECIF_OK || rc == ECIF_ENOTFOUND || rc == ECIF_EINVAL);
    if (rc == ECIF_OK)
        FUZZ_CHECK(name != NULL && fuzz_utf8(name));
    if (rc != ECIF_EINVAL)
        FUZZ_CHECK(strlen(code) == 6 && all_digits(code, 6));
}

static void check_document(const char *type_text, const char *number)
{
    id_doc_type_t type = id_doc_type_parse(type_text);
    char full[ECIF_NORM_MAX];
    size_t n_full = 0;

    FUZZ_CHECK(type >= ID_DOC_OTHER && type <= ID_DOC_FOREIGN_PERMANENT);
    FUZZ_CHECK(id_doc_type_name(type) != NULL);
    for (size_t i = 0; i < FUZZ_N_OUT_SIZES; i++) {
        size_t outlen = fuzz_out_sizes[i];
        char *out = malloc(outlen);
        id_doc_type_t got;
        bool well_formed;
        size_t n;

        if (out == NULL)
            abort();
        n = id_doc_normalize(type_text, number, &got, &well_formed, out,
                             outlen);
        fuzz_check_out(out, outlen, n, true);
        FUZZ_CHECK(got == type);
        FUZZ_CHECK(strspn(out, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") == n);
        memcpy(full, out, n + 1);
        n_full = n;
        free(out);
    }

    /* The canonical form is a fixed point of its own normalization. */
    if (n_full > 0) {
        char again[ECIF_NORM_MAX];
        id_doc_type_t got;
        bool well_formed;

        FUZZ_CHECK(id_doc_normalize(type_text, full, &got, &well_formed, again,
                                    sizeof(again)) == n_full);
        FUZZ_CHECK(strcmp(again, full) == 0);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *in = fuzz_cstring(data, size);
    char *lines[4];
    size_t n = fuzz_split_lines(in, lines, 4);
    const char *type = lines[0];
    const char *number = n > 1 ? lines[1] : lines[0];
    const char *dob = n > 2 ? lines[2] : "";
    const char *gender = n > 3 ? lines[3] : "";
    char flags[64];

    check_resident(number, dob, gender);
    check_region(number);
    check_document(type, number);

    for (size_t i = 0; i < FUZZ_N_OUT_SIZES; i++) {
        size_t outlen = fuzz_out_sizes[i];
        char *out = malloc(outlen);
        uint32_t bits = size > 0 ? data[0] : 0;
        size_t r;

        if (out == NULL)
            abort();
        r = cn_id_flag_str(bits, out, outlen);
        fuzz_check_out(out, outlen, r, true);
        free(out);
    }
    FUZZ_CHECK(cn_id_flag_str(0x7F, flags, sizeof(flags)) > 0);
    free(in);
    return 0;
}
