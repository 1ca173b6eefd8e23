/*
 * Latin-script addresses: tokens with common abbreviations canonicalized,
 * so that "12 Main Street Apt 4" and "12 main st apartment 4" agree.
 * Rules are in CONTACTS.md.
 */
#ifndef ECIF_LATIN_ADDRESS_H
#define ECIF_LATIN_ADDRESS_H

#include <stddef.h>

/*
 * Tokenizes folded text (the output of ecif_norm_text: lower case, tokens
 * separated by single spaces) and writes the canonical tokens joined by
 * single spaces. Each known word or abbreviation is replaced by one
 * canonical abbreviation (street and st both become "st"). "no", "nr", "num"
 * and "number" before a token that starts with a digit are dropped. Tokens are
 * never cut: one that does not fit ends the output. *ntokens (may be NULL)
 * receives the number of tokens written. Returns the output length.
 */
size_t latin_address_tokens(const char *folded, char *out, size_t outlen,
                            size_t *ntokens);

#endif
