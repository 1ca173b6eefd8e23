/*
 * Normalization of field values into the canonical forms that blocking
 * keys and comparisons use.
 *
 * Every function writes into a caller buffer of outlen bytes, always
 * NUL-terminates it when outlen > 0, and returns the output length (0 for
 * an empty or unusable value). Output never exceeds ECIF_NORM_MAX - 1 bytes.
 * Normalizing twice gives the same result as normalizing once.
 */
#ifndef ECIF_NORMALIZE_H
#define ECIF_NORMALIZE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Buffer size that fits any normalized value. */
#define ECIF_NORM_MAX 256

/*
 * Returns true when s (of len bytes) is well-formed UTF-8 without NUL,
 * overlong forms or surrogates.
 */
bool ecif_utf8_valid(const char *s, size_t len);

/*
 * Decodes one code point of well-formed UTF-8 at *p and advances *p. Returns
 * the code point, or 0xFFFD for an ill-formed sequence (advancing one byte).
 */
uint32_t ecif_utf8_next(const char **p, const char *end);

/*
 * Folds text: Unicode NFKC (full-width forms to ASCII, the ideographic
 * space to a space), case folding, accents removed; anything but letters
 * and digits becomes one space between tokens, trimmed. Chinese and other
 * letters are kept. Invalid UTF-8 gives 0.
 */
size_t ecif_norm_text(const char *in, char *out, size_t outlen);

/*
 * Normalizes a name to its folded tokens joined by single spaces. Digits,
 * '?' and punctuation are dropped.
 */
size_t ecif_norm_name(const char *in, char *out, size_t outlen);

/*
 * Folds like ecif_norm_name (is_name) or ecif_norm_text, always through
 * utf8proc. Those two skip utf8proc for printable ASCII and common Han
 * text; this is the reference their output must equal.
 */
size_t ecif_norm_fold_utf8proc(const char *in, char *out, size_t outlen,
                               bool is_name);

/*
 * Upper-cases an identity document number and drops spaces, dashes and
 * dots; full-width characters are folded first.
 */
size_t ecif_norm_id(const char *in, char *out, size_t outlen);

/*
 * Parses a date in one of YYYYMMDD, YYYY-MM-DD, YYYY/MM/DD, YYYY.MM.DD,
 * DD/MM/YYYY, DD-MM-YYYY, DD.MM.YYYY or YYYY年M月D日 into *ymd as
 * YYYY*10000 + MM*100 + DD. Returns ECIF_OK when the text has one of those
 * shapes (even if the date does not exist, which *calendar_valid reports), or
 * ECIF_EINVAL when it has none.
 */
int ecif_norm_date(const char *in, uint32_t *ymd, bool *calendar_valid);

/* Returns 'M', 'F' or 0 for a gender value (M/F/male/female/男/女). */
char ecif_norm_gender(const char *in);

/*
 * Computes a phonetic code of one folded name token: a Soundex-style code
 * of up to 6 characters for Latin letters, the token itself for other
 * scripts. Returns the output length.
 */
size_t ecif_phonetic(const char *token, char *out, size_t outlen);

#endif
