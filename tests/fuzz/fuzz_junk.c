/*
 * Fuzz target for engine/junk.h. The input text is checked as a raw and
 * a normalized value of every field. Its bytes then drive a small
 * junk_counter, compared with an exact model: the counter may lose counts
 * (by eviction, or when two records share the 8-bit tag the counter keeps
 * of the last record) but never counts a value more often than records
 * carried it, and without evictions it keeps every value it was given.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "hash.h"
#include "junk.h"
#include "phone.h"
#include "status.h"

#define KNOWN_FLAGS                                                            \
    (JUNK_PLACEHOLDER | JUNK_REPEATED | JUNK_SEQUENCE | JUNK_SUSPECT)

/* Values and records the counter script uses. */
#define SCRIPT_VALUES 16
#define SCRIPT_LIMIT  3

typedef struct model {
    uint32_t count[JUNK_FIELD_COUNT][SCRIPT_VALUES];
    uint64_t last_record[JUNK_FIELD_COUNT][SCRIPT_VALUES];
} model_t;

static void check_value(const char *value)
{
    char text[ECIF_NORM_MAX];
    struct phone_info phone;
    char id[ECIF_NORM_MAX];

    ecif_norm_text(value, text, sizeof(text));
    phone_normalize(value, PHONE_CC_CHINA, &phone);
    ecif_norm_id(value, id, sizeof(id));
    for (int f = 0; f < JUNK_FIELD_COUNT; f++) {
        FUZZ_CHECK((junk_check(f, value) & ~KNOWN_FLAGS) == 0);
        FUZZ_CHECK((junk_check(f, text) & ~KNOWN_FLAGS) == 0);
        FUZZ_CHECK(junk_field_str(f) != NULL);
    }
    uint32_t phone_flags = junk_check(JUNK_FIELD_PHONE, phone.canonical);
    uint32_t id_flags = junk_check(JUNK_FIELD_ID_NUMBER, id);

    FUZZ_CHECK((phone_flags & ~KNOWN_FLAGS) == 0);
    FUZZ_CHECK((id_flags & ~KNOWN_FLAGS) == 0);
    FUZZ_CHECK(junk_check(JUNK_FIELD_NAME, "") == 0);
    FUZZ_CHECK(junk_check(JUNK_FIELD_NAME, NULL) == 0);
}

/* Hashes a value number the way callers hash normalized values. */
static uint64_t value_hash(unsigned v)
{
    char text[16];
    int len = snprintf(text, sizeof(text), "value %u", v);

    return ecif_hash64(text, (size_t)len, 0);
}

static void run_counter(const uint8_t *data, size_t size)
{
    junk_counter_t *c = junk_counter_create_capped(SCRIPT_LIMIT, 64);
    model_t *m = calloc(1, sizeof(*m));
    uint64_t record = 1;

    FUZZ_CHECK(c != NULL);
    FUZZ_CHECK(m != NULL);
    for (size_t i = 0; i + 1 < size; i += 2) {
        unsigned field = data[i] % (JUNK_FIELD_COUNT + 1);
        unsigned v = data[i + 1] % SCRIPT_VALUES;
        int rc;

        record += data[i + 1] >> 7;
        rc = junk_counter_add(c, field, value_hash(v), record);
        if (field == JUNK_FIELD_COUNT) {
            FUZZ_CHECK(rc == ECIF_EINVAL);
            continue;
        }
        FUZZ_CHECK(rc == ECIF_OK);
        if (m->last_record[field][v] != record) {
            m->count[field][v]++;
            m->last_record[field][v] = record;
        }
    }

    for (int f = 0; f < JUNK_FIELD_COUNT; f++) {
        for (unsigned v = 0; v < SCRIPT_VALUES; v++) {
            uint32_t got = junk_counter_count(c, f, value_hash(v));
            bool frequent = junk_counter_is_frequent(c, f, value_hash(v));

            FUZZ_CHECK(got <= m->count[f][v]);
            if (junk_counter_evictions(c) == 0 && m->count[f][v] > 0)
                FUZZ_CHECK(got > 0);
            FUZZ_CHECK(frequent == (got > SCRIPT_LIMIT));
        }
    }
    junk_counter_destroy(c);
    free(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *in = fuzz_cstring(data, size);

    check_value(in);
    FUZZ_CHECK(junk_counter_create(0) == NULL);
    run_counter(data, size);
    free(in);
    return 0;
}
