/*
 * Email addresses: a canonical form for exact comparison and a match key
 * that drops what mail providers ignore. Pure functions that write into
 * caller buffers; the rules are described in CONTACTS.md.
 */
#ifndef ECIF_EMAIL_H
#define ECIF_EMAIL_H

#include <stddef.h>

/*
 * Normalizes an address: full-width forms folded to ASCII, surrounding
 * spaces trimmed, ASCII letters lower-cased. The result must have exactly
 * one '@', a non-empty local part, and a domain with a dot that neither
 * starts nor ends it; no spaces, control characters or ".." anywhere.
 * Dots and "+tag" suffixes are kept. Non-ASCII UTF-8 is kept unchanged.
 *
 * Returns the output length, or 0 (with out = "") for an invalid address or
 * one that does not fit in min(outlen, ECIF_NORM_MAX) bytes.
 */
size_t email_normalize(const char *text, char *out, size_t outlen);

/*
 * Writes the match key of an address that email_normalize accepted (it is
 * normalized again first): the "+tag" of the local part is dropped, and for
 * gmail.com and googlemail.com, whose mailboxes ignore dots, the dots of
 * the local part are dropped and the domain becomes gmail.com. Other
 * providers keep their dots. Returns the length, 0 when invalid.
 */
size_t email_match_key(const char *text, char *out, size_t outlen);

#endif
