/*
 * Fuzz target for engine/record.h. Input lines fill the fields of a
 * record and an account, which are validated with several message buffer
 * sizes. Every line is also parsed as an amount: a parsed amount must
 * survive format and parse unchanged, and any int64 must format into
 * text that parses back to it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "record.h"
#include "status.h"

static const size_t err_sizes[] = {1, 2, 8, 40, 512};

/* Checks the formatted text: sign, digits, '.', two to four decimals. */
static void check_format(int64_t amount)
{
    char buf[ECIF_AMOUNT_STR_MAX];
    const char *dot;
    size_t decimals;
    int64_t back = 0;

    FUZZ_CHECK(ecif_amount_format(amount, buf) == buf);
    FUZZ_CHECK(memchr(buf, '\0', sizeof(buf)) != NULL);
    dot = strchr(buf, '.');
    FUZZ_CHECK(dot != NULL);
    decimals = strlen(dot + 1);
    FUZZ_CHECK(decimals >= 2 && decimals <= 4);
    if (decimals > 2)
        FUZZ_CHECK(dot[decimals] != '0');
    FUZZ_CHECK(ecif_amount_parse(buf, &back) == ECIF_OK);
    FUZZ_CHECK(back == amount);
}

static void check_amount(const char *text)
{
    int64_t amount = 0;
    int rc = ecif_amount_parse(text, &amount);

    FUZZ_CHECK(rc == ECIF_OK || rc == ECIF_EINVAL);
    if (rc == ECIF_OK)
        check_format(amount);
}

static void check_add(int64_t a, int64_t b)
{
    int64_t sum = a;
    int64_t expect;
    bool overflow = __builtin_add_overflow(a, b, &expect);
    int rc = ecif_amount_add(&sum, b);

    FUZZ_CHECK(rc == (overflow ? ECIF_ELIMIT : ECIF_OK));
    FUZZ_CHECK(sum == (overflow ? a : expect));
}

/*
 * Validates with every message size; all must give the same status, and a
 * failure leaves a NUL-terminated message (err is unset on success).
 */
static void check_validate(const ecif_record_t *rec, const ecif_account_t *acct)
{
    int rec_rc[2], acct_rc = 0;

    for (size_t i = 0; i < sizeof(err_sizes) / sizeof(err_sizes[0]); i++) {
        size_t errlen = err_sizes[i];
        char *err = malloc(errlen);

        if (err == NULL)
            abort();
        for (int strict = 0; strict < 2; strict++) {
            int rc = ecif_record_validate(rec, strict, err, errlen);

            FUZZ_CHECK(rc == ECIF_OK || rc == ECIF_EINVAL);
            FUZZ_CHECK(i == 0 || rc == rec_rc[strict]);
            rec_rc[strict] = rc;
            if (rc == ECIF_OK)
                continue;
            FUZZ_CHECK(memchr(err, '\0', errlen) != NULL);
            FUZZ_CHECK(errlen == 1 || err[0] != '\0');
        }
        /* A stored record passes every check a query does. */
        if (rec_rc[1] == ECIF_OK)
            FUZZ_CHECK(rec_rc[0] == ECIF_OK);

        int rc = ecif_account_validate(acct, err, errlen);
        FUZZ_CHECK(rc == ECIF_OK || rc == ECIF_EINVAL);
        FUZZ_CHECK(i == 0 || rc == acct_rc);
        acct_rc = rc;
        if (rc != ECIF_OK)
            FUZZ_CHECK(memchr(err, '\0', errlen) != NULL);
        free(err);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *in = fuzz_cstring(data, size);
    char *lines[FUZZ_MAX_LINES];
    size_t n = fuzz_split_lines(in, lines, FUZZ_MAX_LINES);
    ecif_record_t rec = {0};
    ecif_account_t acct = {0};
    int64_t a = 0, b = 0;

    for (size_t i = 0; i < n; i++)
        check_amount(lines[i]);
    if (size >= 16) {
        memcpy(&a, data, 8);
        memcpy(&b, data + 8, 8);
        check_format(a);
        check_format(b);
        check_add(a, b);
    }

    /* Line i goes to field i; the lists take the lines that follow. */
    const char **fields[] = {
        &rec.source_system, &rec.source_id,   &rec.name,
        &rec.given_name,    &rec.family_name, &rec.id_type,
        &rec.id_number,     &rec.dob,         &rec.gender,
    };
    size_t k = 0;
    for (; k < n && k < sizeof(fields) / sizeof(fields[0]); k++)
        *fields[k] = lines[k];
    for (; k < n && rec.n_phones < 3; k++)
        rec.phones[rec.n_phones++] = lines[k];
    for (; k < n && rec.n_emails < 3; k++)
        rec.emails[rec.n_emails++] = lines[k];
    for (; k < n && rec.n_addresses < 3; k++)
        rec.addresses[rec.n_addresses++] = lines[k];
    acct.account_id = lines[0];
    acct.product = n > 1 ? lines[1] : NULL;
    acct.currency = n > 2 ? lines[2] : NULL;
    acct.branch = n > 3 ? lines[3] : NULL;
    acct.credit_limit = a;
    acct.balance = b;
    check_validate(&rec, &acct);

    free(in);
    return 0;
}
