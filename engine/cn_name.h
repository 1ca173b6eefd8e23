/*
 * Chinese personal names: Traditional to Simplified, noise stripping,
 * surname split, pinyin with surname readings, romanized names, and the
 * order-free pinyin keys that let 张伟, 張偉, "Zhang Wei", "Wei Zhang" and
 * "Zhangwei" compare equal. Design and limits: CN_NAMES.md.
 *
 * Every function is pure: it writes NUL-terminated UTF-8 into a caller
 * buffer of outlen bytes, never allocates, and returns the output length.
 * It returns 0 with an empty output (when outlen > 0) when there is nothing
 * usable: invalid UTF-8, no Han character or syllable left, a character
 * without a reading, or a result that does not fit outlen or CN_NAME_MAX.
 * Results are never cut short, because a cut key could equal another key.
 */
#ifndef ECIF_CN_NAME_H
#define ECIF_CN_NAME_H

#include <stdbool.h>
#include <stddef.h>

/* Buffer size that fits any result. Inputs of this size or more give 0. */
#define CN_NAME_MAX 256

/* Facts about a name that cn_name_clean() found. */
typedef enum cn_name_flag {
    CN_NAME_HAN = 1u << 0,         /* written mainly in Han characters */
    CN_NAME_NOISE = 1u << 1,       /* letters, digits, dots, '?' stripped */
    CN_NAME_TRADITIONAL = 1u << 2, /* a character was mapped to Simplified */
} cn_name_flag_t;

/* Bit set of cn_name_flag_t values. */
typedef unsigned cn_name_flags_t;

/*
 * Maps every code point of in that has a Simplified form (Unihan
 * kSimplifiedVariant) to that form and copies the others unchanged.
 */
size_t cn_to_simplified(const char *in, char *out, size_t outlen);

/*
 * Returns true when name is valid UTF-8 with at least one Han character
 * and no fewer Han characters than runs of other letters, so "张伟",
 * "张?伟" and "ZHANG伟" are Han names and "Zhang Wei" is not.
 */
bool cn_is_han_name(const char *name);

/*
 * Cleans a Han name: keeps its Han characters in Simplified form and drops
 * spaces. Latin letters, digits, dots (·•．), '?', '？' and other symbols
 * are noise: they are stripped and set CN_NAME_NOISE. *flags (may be NULL)
 * receives the flags even when the function returns 0, which it does for
 * a name that is not a Han name.
 */
size_t cn_name_clean(const char *name, char *out, size_t outlen,
                     cn_name_flags_t *flags);

/*
 * Splits a Han name, cleaned first, into family and given name. The family
 * name is a compound surname (欧阳, 司马, ...) when the name starts with one
 * and has a character after it, otherwise the first character. Returns
 * the family name's length, 0 when the name is not a Han name or a part
 * does not fit its buffer. given may come back empty (a one-character
 * name).
 */
size_t cn_name_split(const char *name, char *family, size_t family_len,
                     char *given, size_t given_len);

/*
 * Writes the toneless pinyin of a name, one syllable per word, in written
 * order. For a Han name the family name is read with its surname reading
 * (单田芳 is "shan tian fang", 欧阳娜娜 is "ou yang na na") and every other
 * character with its first Mandarin reading. A romanized name is split
 * into syllables ("Zhangwei" is "zhang wei") without other changes.
 */
size_t cn_name_pinyin(const char *name, char *out, size_t outlen);

/*
 * Merges the common confusions of Mandarin pinyin, syllable by syllable:
 * zh/ch/sh to z/c/s, initial n to l, hu to fu, the finals ang/eng/ing to
 * an/en/in, and v (u-umlaut) to u. Input is lower-case syllables separated
 * by spaces; the order is kept. Returns 0 for any other character.
 */
size_t cn_pinyin_fuzzy(const char *pinyin, char *out, size_t outlen);

/*
 * Reads a folded romanized name ("zhang wei", "zhangwei", "cheung wai")
 * as pinyin. Each word is split into syllables (fewest syllables first),
 * and Cantonese, Wade-Giles and other surname spellings become pinyin.
 * The syllables come back sorted, so both name orders give one result.
 * Returns 0 when a word does not split into syllables.
 */
size_t cn_latin_name_pinyin(const char *folded, char *out, size_t outlen);

/*
 * Writes the order-free pinyin key of a name in either script: the sorted
 * syllables of cn_name_pinyin() for a Han name, cn_latin_name_pinyin() of
 * the folded name (ecif_norm_name) otherwise.
 */
size_t cn_name_key(const char *name, char *out, size_t outlen);

/* Writes cn_name_key() with every syllable merged by cn_pinyin_fuzzy(),
 * sorted again. */
size_t cn_name_key_fuzzy(const char *name, char *out, size_t outlen);

/*
 * Writes cn_name_key_fuzzy() of a name from its key, the non-empty result
 * of cn_name_key(), without reading the name again.
 */
size_t cn_key_fuzzy(const char *key, char *out, size_t outlen);

/* The split and the keys of one cleaned Han name. */
typedef struct cn_name_keys {
    char family[CN_NAME_MAX];
    char given[CN_NAME_MAX];
    char key[CN_NAME_MAX];
    char key_fuzzy[CN_NAME_MAX];
} cn_name_keys_t;

/*
 * Fills keys from clean, a non-empty result of cn_name_clean(), with what
 * cn_name_split(), cn_name_key() and cn_name_key_fuzzy() write for it, but
 * reads the pinyin once. Returns the family name's length, 0 (with every
 * part empty) when clean is empty or too long.
 */
size_t cn_name_clean_keys(const char *clean, cn_name_keys_t *keys);

#endif
