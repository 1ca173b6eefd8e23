/*
 * Identity documents: the PRC resident identity number (GB 11643-1999)
 * and the canonical forms of the other documents customers present.
 *
 * Every function is pure: it never allocates, writes NUL-terminated output
 * into caller buffers and reads only its arguments and static tables. A
 * failed check of a resident ID (check character, birth date, region) is
 * reported as a flag, never as a rejection, because source systems hold
 * mistyped numbers that still identify their customer. The design is
 * described in engine/IDENTITY.md.
 */
#ifndef ECIF_CN_ID_H
#define ECIF_CN_ID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "region_data.h"

/* Buffer size of an 18-character resident ID number with its NUL. */
#define CN_ID_SIZE 19

/* Flags of a parsed resident ID and of a cross-check with its record. */
enum cn_id_flag {
    CN_ID_BAD_CHECK = 1u << 0,       /* check character does not match */
    CN_ID_BAD_DATE = 1u << 1,        /* birth date does not exist */
    CN_ID_UNKNOWN_REGION = 1u << 2,  /* region code in no GB/T 2260 list */
    CN_ID_RETIRED_REGION = 1u << 3,  /* code known, but retired */
    CN_ID_UPGRADED = 1u << 4,        /* given as a 15-digit number */
    CN_ID_DOB_MISMATCH = 1u << 5,    /* record's dob differs from the ID */
    CN_ID_GENDER_MISMATCH = 1u << 6, /* record's gender differs */
};

/* Fields derived from a resident ID number. */
typedef struct cn_id_info {
    char id18[CN_ID_SIZE];   /* canonical 18-character form */
    uint32_t dob;            /* birth date YYYYMMDD as written in the ID */
    char sex;                /* 'M' or 'F' from the sequence code's parity */
    uint32_t region;         /* first six digits, a GB/T 2260 code */
    const char *region_name; /* static UTF-8, or NULL when unknown */
    bool check_valid;        /* check character matches MOD 11-2 */
    bool date_valid;         /* birth date exists in 1800..2099 */
    bool region_known;       /* code is in some GB/T 2260 revision */
    uint32_t flags;          /* enum cn_id_flag bits */
} cn_id_info_t;

/*
 * Computes the ISO 7064 MOD 11-2 check character of 17 digits: '0'..'9'
 * or 'X'. Returns 0 when first17 has fewer than 17 leading digits.
 */
char cn_id_check_char(const char *first17);

/* Returns true when id is 17 digits followed by their check character. */
bool cn_id_valid18(const char *id);

/*
 * Upgrades a 15-digit number to 18 characters: "19" goes before the
 * six-digit birth date YYMMDD, and the check character is appended.
 * out must hold CN_ID_SIZE bytes. Returns ECIF_OK, or ECIF_EINVAL (out
 * set to "") when id15 is not exactly 15 digits.
 */
int cn_id_upgrade15(const char *id15, char out[CN_ID_SIZE]);

/*
 * Parses a normalized resident ID (upper case, no separators, as from
 * ecif_norm_id()): 18 characters of 17 digits and a digit or 'X', or 15
 * digits. Returns ECIF_OK with every field of *info set, including
 * the flags of failed checks, or ECIF_EINVAL (info zeroed) for any other
 * shape.
 */
int cn_id_parse(const char *normalized_id, cn_id_info_t *info);

/*
 * Compares a record's own date of birth (YYYYMMDD, 0 when unknown) and
 * gender ('M', 'F', 0 when unknown) with a parsed ID. Returns the
 * CN_ID_DOB_MISMATCH and CN_ID_GENDER_MISMATCH bits that apply. Unknown
 * values, and a dob against an ID whose date is invalid, never mismatch.
 */
uint32_t cn_id_cross_check(const cn_id_info_t *info, uint32_t dob_yyyymmdd,
                           char gender);

/*
 * Writes the names of the flags set in flags, upper case and joined by
 * '|' ("BAD_CHECK|UNKNOWN_REGION"), into out. Names that do not fit whole
 * are left out. Returns the output length.
 */
size_t cn_id_flag_str(uint32_t flags, char *out, size_t outlen);

/* Finds a six-digit GB/T 2260 code; returns NULL when no revision has it. */
const cn_region_t *cn_region_find(uint32_t code);

/*
 * Looks up a region code given as six ASCII digits and sets *name to its
 * static UTF-8 name. Returns ECIF_OK, ECIF_ENOTFOUND when the code is in
 * no revision, or ECIF_EINVAL when code is not six digits.
 */
int cn_region_lookup(const char *code, const char **name);

/* Kinds of identity document. */
typedef enum id_doc_type {
    ID_DOC_OTHER = 0,
    ID_DOC_RESIDENT_ID,       /* 居民身份证, GB 11643 */
    ID_DOC_PASSPORT,          /* 护照, any country */
    ID_DOC_HK_MACAU_PERMIT,   /* 港澳居民来往内地通行证 */
    ID_DOC_TAIWAN_PERMIT,     /* 台湾居民来往大陆通行证 */
    ID_DOC_FOREIGN_PERMANENT, /* 外国人永久居留身份证 */
} id_doc_type_t;

/*
 * Maps a document type as source systems spell it (see IDENTITY.md) to
 * its kind. Case, width and separators are ignored; anything unknown,
 * empty or NULL is ID_DOC_OTHER.
 */
id_doc_type_t id_doc_type_parse(const char *id_type);

/* Returns the canonical name of a kind ("RESIDENT_ID", "OTHER", ...). */
const char *id_doc_type_name(id_doc_type_t type);

/*
 * Normalizes a document number for its kind: full-width folded, upper
 * case, every character but ASCII letters and digits dropped, and a
 * 15-digit resident ID upgraded to 18 characters. Sets *type to the kind
 * of id_type and *well_formed to whether the number has the layout of
 * that kind (IDENTITY.md lists them). Writes at most outlen - 1 bytes;
 * a number that does not fit gives "" and 0. Returns the output length.
 */
size_t id_doc_normalize(const char *id_type, const char *id_number,
                        id_doc_type_t *type, bool *well_formed, char *out,
                        size_t outlen);

#endif
