/*
 * The record model: a source record as one source system holds it, and the
 * accounts it owns.
 *
 * A record is identified by (source_system, source_id). Every string is a
 * borrowed, NUL-terminated UTF-8 pointer; NULL and "" both mean missing.
 * The engine copies what it keeps, so a caller may free its strings as soon
 * as a call returns. Records returned by the store point into the store and
 * stay valid until the store is closed.
 */
#ifndef ECIF_RECORD_H
#define ECIF_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Maximum values of one multi-valued field (phones, emails, addresses). */
#define ECIF_MAX_VALUES 8

/* Maximum bytes of one field value; longer values are rejected. */
#define ECIF_MAX_FIELD_BYTES 512

/* Amounts are fixed-point integers in units of 1/10000 of the currency. */
#define ECIF_AMOUNT_SCALE 10000

/*
 * Largest magnitude of one account's limit or balance: one trillion
 * currency units (1e16 in fixed point). A total over about 922 such
 * accounts passes INT64_MAX, so every sum checks for overflow.
 */
#define ECIF_AMOUNT_MAX (1000000000000LL * ECIF_AMOUNT_SCALE)

/* Bytes needed to format any amount, with sign, point and NUL. */
#define ECIF_AMOUNT_STR_MAX 32

typedef struct ecif_record {
    const char *source_system;
    const char *source_id;
    const char *name; /* full name; used when given and family are missing */
    const char *given_name;
    const char *family_name;
    const char *id_type; /* RESIDENT_ID, PASSPORT, SSN, ... */
    const char *id_number;
    const char *phones[ECIF_MAX_VALUES];
    uint32_t n_phones;
    const char *emails[ECIF_MAX_VALUES];
    uint32_t n_emails;
    const char *addresses[ECIF_MAX_VALUES];
    uint32_t n_addresses;
    const char *dob;    /* as given; normalized to YYYY-MM-DD in the store */
    const char *gender; /* M, F or missing */
    /* When the source system last changed the record: seconds since
     * 1970-01-01T00:00:00Z, 1 to ECIF_UPDATED_AT_MAX, or 0 when unknown.
     * Survivorship prefers the most recent record's values. */
    int64_t updated_at;
} ecif_record_t;

/* Latest updated_at the store can keep: 2106-02-07T06:28:15Z, the
 * largest uint32_t. */
#define ECIF_UPDATED_AT_MAX 4294967295LL

/* An updated_at this many seconds after the current time is rejected as
 * in the future; the day allows for clocks that disagree. */
#define ECIF_UPDATED_AT_SKEW 86400

/* Bytes to format an updated_at: "YYYY-MM-DDTHH:MM:SSZ" and its NUL take
 * 21, and the rest lets the compiler prove that nothing is cut. */
#define ECIF_UPDATED_AT_STR_MAX 64

typedef struct ecif_account {
    const char *account_id;
    const char *product;  /* loan, credit_card, deposit, wealth, ... */
    const char *currency; /* ISO 4217 code, upper case */
    const char *branch;
    int64_t credit_limit; /* in 1/ECIF_AMOUNT_SCALE units */
    int64_t balance;      /* in 1/ECIF_AMOUNT_SCALE units */
} ecif_account_t;

/* Names of record fields as they appear in messages and column headers. */
#define ECIF_COLUMN_SOURCE_SYSTEM "source_system"
#define ECIF_COLUMN_SOURCE_ID     "source_id"

/*
 * Checks a record. With require_source, source_system and source_id must be
 * set (stored records); queries may leave them empty. Checks UTF-8 validity,
 * field sizes, the date of birth and the gender, and that at least one
 * matchable field (name, ID number, phone, email, dob) is present.
 *
 * Returns ECIF_OK or ECIF_EINVAL with a message in err that names the field
 * and quotes the value (cut to a safe length).
 */
int ecif_record_validate(const ecif_record_t *rec, bool require_source,
                         char *err, size_t errlen);

/*
 * Checks the record of a journal entry as ecif_record_validate does with
 * the source key required. It skips two checks that an entry accepted
 * earlier may fail now: the form of the source key, which older builds did
 * not check, and an update time in the future, since the clock may have
 * stepped back. So every entry accepted once can be replayed.
 */
int ecif_record_validate_journaled(const ecif_record_t *rec, char *err,
                                   size_t errlen);

/*
 * Parses the update time of a record. It reads "YYYY-MM-DD" (midnight),
 * "YYYY-MM-DDTHH:MM" or "YYYY-MM-DDTHH:MM:SS" with optional decimals of a
 * second (dropped), and a space may stand in place of the T. The zone is
 * "Z", an offset "+HH:MM", "+HHMM" or "+HH" (or '-'), or none for UTC. Leading
 * and trailing spaces are ignored. On success *out is the time in seconds since
 * the epoch, which may still be out of the range that ecif_record_validate
 * accepts. Returns ECIF_OK, or ECIF_EINVAL with "updated_at: invalid time
 * 'VALUE' (...)" in err.
 */
int ecif_updated_at_parse(const char *text, int64_t *out, char *err,
                          size_t errlen);

/*
 * Formats an update time as "YYYY-MM-DDTHH:MM:SSZ" in buf of at least
 * ECIF_UPDATED_AT_STR_MAX bytes, or "" for 0. Returns buf.
 */
char *ecif_updated_at_format(int64_t t, char *buf);

/*
 * Checks an account: account_id and product are required, currency must be
 * three ASCII letters, and each amount within ±ECIF_AMOUNT_MAX. Same
 * contract as ecif_record_validate.
 */
int ecif_account_validate(const ecif_account_t *acct, char *err, size_t errlen);

/*
 * Checks the form of an account id as a new account must have it: no
 * space at either end and no control character, which would make a second
 * id that prints like the first. Accounts journaled before the check
 * existed are not held to it. A missing or malformed id passes here,
 * because ecif_account_validate reports it. Returns ECIF_OK or
 * ECIF_EINVAL naming account_id and the value.
 */
int ecif_account_id_check(const char *account_id, char *err, size_t errlen);

/*
 * Returns the dob as the store keeps it: the date ymd (YYYYMMDD, as
 * ecif_norm_date gives it) written YYYY-MM-DD into buf, or raw when ymd is
 * 0 (no date could be read). Clients then get one form whatever the
 * source system wrote, and the consolidated record compares dates rather
 * than spellings.
 */
const char *ecif_dob_text(const char *raw, uint32_t ymd, char buf[16]);

/*
 * Checks one free-text value as a record's fields are checked: at most
 * ECIF_MAX_FIELD_BYTES of valid UTF-8 without a control or format
 * character. For values kept beside records, such as a correction's
 * reason. Returns ECIF_OK or ECIF_EINVAL naming field and quoting the
 * value.
 */
int ecif_text_check(const char *field, const char *value, char *err,
                    size_t errlen);

/*
 * Checks a new account beyond ecif_account_validate. The account id is
 * checked as ecif_account_id_check does. A product or branch may not have
 * a space at either end, a control character or a space other than
 * U+0020, which would split one product into two totals. The credit limit
 * must be 0 or more. Accounts journaled before these checks are not held
 * to them. Returns ECIF_OK or ECIF_EINVAL naming the field.
 */
int ecif_account_check_new(const ecif_account_t *acct, char *err,
                           size_t errlen);

/*
 * Compares two product names as exposure totals group them. ASCII letters
 * compare without regard to case, so "Loan", "LOAN" and "loan" from three
 * source systems are one product, and full-width forms (U+FF01 to U+FF5E)
 * as their ASCII characters, so "ＬＯＡＮ" is that product too. Other
 * bytes compare as they are. Returns a value below, equal to or above 0,
 * as strcmp does. A total shows the lowest spelling of its group by
 * strcmp.
 */
int ecif_product_cmp(const char *a, const char *b);

/*
 * Orders two accounts, given by product and currency, as exposure totals
 * list them: by product as ecif_product_cmp groups it, then currency,
 * then the product's spelling. One total's accounts are then adjacent,
 * its lowest spelling first. Returns as strcmp does. The builder, live
 * adds and corrections all sum with it, so they agree on every total.
 */
int ecif_exposure_order(const char *product_a, const char *currency_a,
                        const char *product_b, const char *currency_b);

/* Returns whether two accounts count toward one exposure total. */
bool ecif_exposure_same_total(const char *product_a, const char *currency_a,
                              const char *product_b, const char *currency_b);

/*
 * Parses a decimal amount ("1234", "-12.5", "1,234.50") into
 * 1/ECIF_AMOUNT_SCALE units. At most four decimal places; thousands
 * separators are accepted only in groups of three. Returns ECIF_OK or
 * ECIF_EINVAL (not a number, too many places, out of range).
 */
int ecif_amount_parse(const char *text, int64_t *out);

/*
 * Formats an amount with at least two and at most four decimal places,
 * trailing zeros past the second removed ("1234.50", "0.0125"). buf must
 * hold ECIF_AMOUNT_STR_MAX bytes. Returns buf.
 */
char *ecif_amount_format(int64_t amount, char *buf);

/*
 * Adds b to *a, failing with ECIF_ELIMIT instead of overflowing.
 */
int ecif_amount_add(int64_t *a, int64_t b);

#endif
