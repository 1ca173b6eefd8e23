/*
 * Matching aids for names in Latin script: the Double Metaphone phonetic
 * code, a table of English given-name diminutives, generational suffixes
 * and surname particles. Input is text already folded by ecif_norm_name():
 * lower case, no accents, tokens separated by single spaces.
 *
 * Every function is pure: it never allocates and writes NUL-terminated
 * output into caller buffers. The rules and their limits are described in
 * engine/LATIN_NAMES.md.
 */
#ifndef ECIF_LATIN_NAME_H
#define ECIF_LATIN_NAME_H

#include <stdbool.h>
#include <stddef.h>

#include "normalize.h"

/* Characters of a Double Metaphone code at most, and its buffer size. */
#define LATIN_METAPHONE_MAX  4
#define LATIN_METAPHONE_SIZE (LATIN_METAPHONE_MAX + 1)

/* Canonical forms of one given name at most, and a form's buffer size. */
#define LATIN_NICKNAME_MAX   4
#define LATIN_CANONICAL_SIZE 16

/* Buffer size of a generational suffix ("III" and its NUL). */
#define LATIN_SUFFIX_SIZE 4

/* Surname parts reported at most. */
#define LATIN_SURNAME_MAX_PARTS 4

/*
 * Computes the primary and alternate Double Metaphone codes of one folded
 * token, up to LATIN_METAPHONE_MAX characters each from the letters A-Z,
 * '0' (for "th") and 'X' (for "sh"). alternate equals primary when the
 * token has one pronunciation only. Characters other than a-z are skipped,
 * and only the first 32 letters are read. Returns the primary's length (0
 * for a token without Latin letters).
 */
size_t latin_double_metaphone(const char *token,
                              char primary[LATIN_METAPHONE_SIZE],
                              char alternate[LATIN_METAPHONE_SIZE]);

/*
 * Returns true when two tokens share a Double Metaphone code: either
 * token's primary or alternate equals either of the other's. Tokens without
 * Latin letters never match.
 */
bool latin_metaphone_match(const char *a, const char *b);

/*
 * Looks a folded given name up in the diminutive table and writes its
 * canonical forms ("bob" gives "robert"; "chris" gives "christopher",
 * "christine", ...). A canonical name gives itself. Returns how many forms
 * were written, or 0 when the name is in the table neither as a diminutive
 * nor as a canonical name.
 */
size_t
latin_nickname_canonical(const char *token,
                         char out[LATIN_NICKNAME_MAX][LATIN_CANONICAL_SIZE]);

/*
 * Returns true when two folded given names are equal or share a canonical
 * form ("bill" and "will", "bob" and "robert").
 */
bool latin_nickname_match(const char *a, const char *b);

/*
 * Splits a generational suffix off the last token of a folded name: jr or
 * junior gives "JR", sr or senior "SR", and ii, iii, iv and v give the
 * numeral in upper case. A suffix needs a name before it: one token for
 * most, two for "v", because "john v" more likely ends with an initial.
 * Writes the name without its suffix into rest (outlen bytes) and the
 * suffix, or "", into suffix. A name that does not fit rest gives "" and
 * 0. Returns the length of rest.
 */
size_t latin_name_suffix(const char *folded, char *rest, size_t outlen,
                         char suffix[LATIN_SUFFIX_SIZE]);

/*
 * Weak key of a family name. key has the name's tokens without particles,
 * so "van der berg" gives "berg". A leading "mc" is written "mac", and the
 * prefixes mac, o and saint are joined to the next token. parts lists the
 * tokens of key: "garcia lopez" gives "garcia" and "lopez".
 */
typedef struct latin_surname {
    char key[ECIF_NORM_MAX];
    char parts[LATIN_SURNAME_MAX_PARTS][ECIF_NORM_MAX];
    size_t n_parts;
} latin_surname_t;

/*
 * Computes the weak key and parts of a folded family name. A particle is
 * dropped only when a token that is not a particle follows it, so a name
 * that is all particles ("le") keeps them. Tokens that do not fit key are
 * left out whole, and parts beyond LATIN_SURNAME_MAX_PARTS are left out.
 * Returns the length of key.
 */
size_t latin_surname_key(const char *folded_family, latin_surname_t *out);

#endif
