/*
 * Junk detection. junk_check reduces a value to a key (ASCII letters and
 * digits lower-cased, other ASCII dropped, other characters kept) and looks
 * it up in the dictionary of its field, then tests digit patterns.
 *
 * The counter is an open-addressing table of 64-bit slots: a 40-bit
 * fingerprint of (field, value hash), a 16-bit saturating count of records
 * and an 8-bit tag of the record that added the value last. The slot index
 * comes from the fingerprint, so the table can be rehashed from slots
 * alone. When it is full at its maximum size, the values seen by the fewest
 * records are evicted: a placeholder shared by many records survives,
 * while the evicted values were seen by at most as many records as the
 * eviction threshold.
 */
#include <stdlib.h>
#include <string.h>

#include "junk.h"
#include "normalize.h"
#include "status.h"

/* ---------------------------------------------------------------------- */
/* Dictionary                                                             */
/* ---------------------------------------------------------------------- */

static const char *const junk_phones[] = {
    "13800138000", "13800000000", "13900000000", "12345678901",
    "12345678900", "1234567",     "12345678",    "01012345678",
    "02112345678", "4008008000",  "110",         "119",
    "120",         "10086",       "10000",       "10010",
};

static const char *const junk_emails[] = {
    "123@abc.com",     "test@test.com", "a@a.com",     "xxx@xxx.com",
    "abc@abc.com",     "123@123.com",   "123@qq.com",  "test@qq.com",
    "email@email.com", "1@1.com",       "aaa@aaa.com", "asd@asd.com",
};

/* Local parts meaning "no address", whatever the domain. */
static const char *const junk_email_locals[] = {
    "noemail", "none",    "nomail",     "noaddress", "null", "na",  "nil",
    "unknown", "noreply", "donotreply", "test",      "xxx",  "abc", "example",
};

/* Domains that no real mailbox uses: common made-up ones. */
static const char *const junk_email_domains[] = {
    "test.com", "abc.com", "xxx.com",     "a.com",         "test.cn",
    "none.com", "123.com", "noemail.com", "localhost.com",
};

/* The RFC 2606 documentation domains. No real mailbox uses them, but
 * anonymized and synthetic customer files put them in place of real
 * domains, where the local part still tells people apart: flagged, not
 * dropped. */
static const char *const suspect_email_domains[] = {
    "example.com",
    "example.org",
    "example.net",
};

static const char *const junk_ids[] = {
    "123456789012345678", "12345678901234567x", "123456789",
    "000000000000000000", "110101190001011234", "a123456789",
};

static const char *const junk_names[] = {
    "不详",     "未知",   "无",   "测试", "测试用户", "test", "testuser",
    "unknown",  "na",     "none", "null", "nil",      "xxx",  "x",
    "某某",     "某",     "先生", "女士", "小姐",     "客户", "匿名",
    "无名",     "无名氏", "待定", "暂无", "空",       "tbd",  "anonymous",
    "customer", "noname", "姓名", "name", "abc",      "asdf",
};

static const char *const junk_addresses[] = {
    "我家楼下", "不详",     "无",     "未知", "同上",    "sameasabove",
    "asabove",  "na",       "none",   "null", "unknown", "暂无",
    "空",       "地址不详", "无地址", "见上", "xxx",     "test",
    "测试",     "详见",     "不知道", "tbd",  "address", "地址",
};

/* Database and spreadsheet minimum and maximum dates, impossible as the
 * birthday of a living customer. */
static const char *const junk_dates[] = {
    "19000101", "18991231", "18991230", "00010101", "99991231",
    "17530101", "18000101", "19000000", "00000000",
};

/* Real birthdays that systems also fill in as defaults. */
static const char *const suspect_dates[] = {
    "19700101",
    "20000101",
    "19010101",
    "19800101",
};

#define COUNT_OF(a) (sizeof(a) / sizeof((a)[0]))

static bool in_list(const char *key, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(key, list[i]) == 0)
            return true;
    return false;
}

/* Lower-cases ASCII letters, keeps digits and non-ASCII, drops the rest. */
static void reduce_key(const char *value, char *key, size_t cap)
{
    size_t n = 0;

    for (const char *p = value; *p != '\0' && n + 1 < cap; p++) {
        unsigned char c = (unsigned char)*p;
        if (c >= 'A' && c <= 'Z')
            c |= 0x20;
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c >= 0x80)
            key[n++] = (char)c;
    }
    key[n] = '\0';
}

static void digits_of(const char *value, char *out, size_t cap)
{
    size_t n = 0;

    for (const char *p = value; *p != '\0' && n + 1 < cap; p++)
        if (*p >= '0' && *p <= '9')
            out[n++] = *p;
    out[n] = '\0';
}

static bool all_same(const char *s)
{
    if (s[0] == '\0')
        return false;
    for (const char *p = s + 1; *p != '\0'; p++)
        if (*p != s[0])
            return false;
    return true;
}

/* Digits that go up or down by one at each step, 9 to 0 wrapping. */
static bool is_sequence(const char *d, size_t min_len)
{
    size_t n = strlen(d);
    bool up = true, down = true;

    if (n < min_len)
        return false;
    for (size_t i = 1; i < n; i++) {
        int a = d[i - 1] - '0', b = d[i] - '0';
        up = up && b == (a + 1) % 10;
        down = down && a == (b + 1) % 10;
    }
    return up || down;
}

static uint32_t digit_patterns(const char *digits, size_t min_len)
{
    uint32_t flags = 0;

    if (strlen(digits) >= min_len && all_same(digits))
        flags |= JUNK_REPEATED;
    if (is_sequence(digits, min_len))
        flags |= JUNK_SEQUENCE;
    return flags;
}

static uint32_t check_phone(const char *value)
{
    char d[ECIF_NORM_MAX];
    const char *national = d;
    uint32_t flags = 0;

    digits_of(value, d, sizeof(d));
    if (value[0] == '+' && strncmp(d, "86", 2) == 0)
        national = d + 2;
    else if (strncmp(d, "0086", 4) == 0)
        national = d + 4;
    if (in_list(national, junk_phones, COUNT_OF(junk_phones)))
        flags |= JUNK_PLACEHOLDER;
    flags |= digit_patterns(national, 5);
    /* A mobile whose last eight digits are one digit: 13900000000. */
    if (strlen(national) == 11 && national[0] == '1' && all_same(national + 3))
        flags |= JUNK_REPEATED;
    return flags;
}

static uint32_t check_email(const char *value)
{
    char key[ECIF_NORM_MAX];
    const char *at = strchr(value, '@');
    uint32_t flags = 0;

    if (at == NULL)
        return JUNK_PLACEHOLDER;
    if (in_list(value, junk_emails, COUNT_OF(junk_emails)))
        flags |= JUNK_PLACEHOLDER;
    if (in_list(at + 1, junk_email_domains, COUNT_OF(junk_email_domains)))
        flags |= JUNK_PLACEHOLDER;
    if (in_list(at + 1, suspect_email_domains, COUNT_OF(suspect_email_domains)))
        flags |= JUNK_SUSPECT;

    size_t llen = (size_t)(at - value);
    if (llen >= sizeof(key))
        return flags;
    memcpy(key, value, llen);
    key[llen] = '\0';
    char reduced[ECIF_NORM_MAX];
    reduce_key(key, reduced, sizeof(reduced));
    if (in_list(reduced, junk_email_locals, COUNT_OF(junk_email_locals)))
        flags |= JUNK_PLACEHOLDER;
    if (all_same(key))
        flags |= JUNK_REPEATED;
    if (strspn(key, "0123456789") == llen) {
        flags |= digit_patterns(key, 5);
        /* QQ numbers start at 10000, so a shorter one is made up. */
        if (strcmp(at + 1, "qq.com") == 0 && llen < 5)
            flags |= JUNK_PLACEHOLDER;
    }
    return flags;
}

static uint32_t check_id(const char *value)
{
    char key[ECIF_NORM_MAX];
    char d[ECIF_NORM_MAX];
    uint32_t flags = 0;

    reduce_key(value, key, sizeof(key));
    digits_of(value, d, sizeof(d));
    if (in_list(key, junk_ids, COUNT_OF(junk_ids)))
        flags |= JUNK_PLACEHOLDER;
    if (all_same(key))
        flags |= JUNK_REPEATED;
    if (strlen(d) == strlen(key))
        flags |= digit_patterns(d, 6);
    return flags;
}

static uint32_t check_date(const char *value)
{
    char d[ECIF_NORM_MAX];

    digits_of(value, d, sizeof(d));
    if (strlen(d) != 8)
        return 0;
    if (in_list(d, junk_dates, COUNT_OF(junk_dates)))
        return JUNK_PLACEHOLDER;
    if (in_list(d, suspect_dates, COUNT_OF(suspect_dates)))
        return JUNK_SUSPECT;
    return 0;
}

static uint32_t check_text(const char *value, const char *const *list, size_t n)
{
    char key[ECIF_NORM_MAX];
    uint32_t flags = 0;

    reduce_key(value, key, sizeof(key));
    if (key[0] == '\0')
        return JUNK_PLACEHOLDER; /* only punctuation: "/", "--", "?" */
    if (in_list(key, list, n))
        flags |= JUNK_PLACEHOLDER;
    if (strlen(key) >= 2 && all_same(key))
        flags |= JUNK_REPEATED;
    return flags;
}

uint32_t junk_check(enum junk_field field, const char *value)
{
    if (value == NULL || value[0] == '\0')
        return 0;
    switch (field) {
    case JUNK_FIELD_PHONE:
        return check_phone(value);
    case JUNK_FIELD_EMAIL:
        return check_email(value);
    case JUNK_FIELD_ID_NUMBER:
        return check_id(value);
    case JUNK_FIELD_DATE:
        return check_date(value);
    case JUNK_FIELD_NAME:
        return check_text(value, junk_names, COUNT_OF(junk_names));
    case JUNK_FIELD_ADDRESS:
        return check_text(value, junk_addresses, COUNT_OF(junk_addresses));
    case JUNK_FIELD_COUNT:
        break;
    }
    return 0;
}

const char *junk_flag_str(uint32_t flag)
{
    switch (flag) {
    case JUNK_PLACEHOLDER:
        return "placeholder";
    case JUNK_REPEATED:
        return "repeated";
    case JUNK_SEQUENCE:
        return "sequence";
    case JUNK_SUSPECT:
        return "suspect";
    case JUNK_FREQUENT:
        return "frequent";
    }
    return "unknown";
}

const char *junk_field_str(enum junk_field field)
{
    static const char *const names[JUNK_FIELD_COUNT] = {
        "phone", "email", "id_number", "date", "name", "address",
    };

    if ((unsigned)field >= JUNK_FIELD_COUNT)
        return "unknown";
    return names[field];
}

/* ---------------------------------------------------------------------- */
/* Frequency counter                                                      */
/* ---------------------------------------------------------------------- */

#define SLOT_FP_BITS    40
#define SLOT_FP_MASK    ((1ULL << SLOT_FP_BITS) - 1)
#define SLOT_COUNT_MAX  0xFFFFu
#define SLOT_MIN        64u
#define SLOT_FIRST_SIZE 1024u

struct junk_counter {
    uint64_t *slots; /* 0 is an empty slot */
    uint32_t nslots; /* a power of two */
    uint32_t max_slots;
    uint32_t used;
    uint32_t limit;
    uint32_t evictions;
};

static uint64_t mix64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

static uint64_t fingerprint(enum junk_field field, uint64_t value_hash)
{
    uint64_t fp =
        mix64(value_hash + (uint64_t)(field + 1) * 0x9E3779B97F4A7C15ULL) &
        SLOT_FP_MASK;
    return fp != 0 ? fp : 1;
}

static uint64_t slot_fp(uint64_t s)
{
    return s & SLOT_FP_MASK;
}

static uint32_t slot_count(uint64_t s)
{
    return (uint32_t)((s >> SLOT_FP_BITS) & 0xFFFF);
}

static uint8_t slot_tag(uint64_t s)
{
    return (uint8_t)(s >> 56);
}

static uint64_t make_slot(uint64_t fp, uint32_t count, uint8_t tag)
{
    return fp | ((uint64_t)count << SLOT_FP_BITS) | ((uint64_t)tag << 56);
}

/* Index of the slot holding fp, or of the empty slot where it belongs. */
static uint32_t probe(const uint64_t *slots, uint32_t nslots, uint64_t fp)
{
    uint32_t mask = nslots - 1;
    uint32_t i = (uint32_t)mix64(fp) & mask;

    while (slots[i] != 0 && slot_fp(slots[i]) != fp)
        i = (i + 1) & mask;
    return i;
}

/* Moves the slots with a count above min_count into a table of nslots. */
static int rebuild(junk_counter_t *c, uint32_t nslots, uint32_t min_count)
{
    uint64_t *slots = calloc(nslots, sizeof(*slots));
    uint32_t used = 0;

    if (slots == NULL)
        return ECIF_ENOMEM;
    for (uint32_t i = 0; i < c->nslots; i++) {
        uint64_t s = c->slots[i];
        if (s == 0 || slot_count(s) <= min_count)
            continue;
        slots[probe(slots, nslots, slot_fp(s))] = s;
        used++;
    }
    free(c->slots);
    c->slots = slots;
    c->nslots = nslots;
    c->used = used;
    return ECIF_OK;
}

/* Makes room for one more value: grow, or evict the rarest values until
 * at most half the table is used. */
static int make_room(junk_counter_t *c)
{
    if ((uint64_t)(c->used + 1) * 4 <= (uint64_t)c->nslots * 3)
        return ECIF_OK;
    if (c->nslots < c->max_slots)
        return rebuild(c, c->nslots * 2, 0);
    for (uint32_t threshold = 1; threshold < SLOT_COUNT_MAX; threshold++) {
        int rc = rebuild(c, c->nslots, threshold);
        if (rc != ECIF_OK)
            return rc;
        c->evictions++;
        if ((uint64_t)c->used * 2 <= c->nslots)
            break;
    }
    return ECIF_OK;
}

junk_counter_t *junk_counter_create_capped(uint32_t limit, uint32_t max_slots)
{
    if (limit == 0 || limit >= SLOT_COUNT_MAX || max_slots < SLOT_MIN ||
        (max_slots & (max_slots - 1)) != 0)
        return NULL;

    junk_counter_t *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return NULL;
    c->nslots = max_slots < SLOT_FIRST_SIZE ? max_slots : SLOT_FIRST_SIZE;
    c->max_slots = max_slots;
    c->limit = limit;
    c->slots = calloc(c->nslots, sizeof(*c->slots));
    if (c->slots == NULL) {
        free(c);
        return NULL;
    }
    return c;
}

junk_counter_t *junk_counter_create(uint32_t limit)
{
    return junk_counter_create_capped(limit, JUNK_COUNTER_DEFAULT_SLOTS);
}

void junk_counter_destroy(junk_counter_t *counter)
{
    if (counter == NULL)
        return;
    free(counter->slots);
    free(counter);
}

int junk_counter_add(junk_counter_t *c, enum junk_field field,
                     uint64_t value_hash, uint64_t record_id)
{
    if ((unsigned)field >= JUNK_FIELD_COUNT)
        return ECIF_EINVAL;

    uint64_t fp = fingerprint(field, value_hash);
    uint8_t tag = (uint8_t)(mix64(record_id) >> 56);
    uint32_t i = probe(c->slots, c->nslots, fp);

    if (c->slots[i] != 0) {
        uint64_t s = c->slots[i];
        uint32_t count = slot_count(s);
        if (slot_tag(s) == tag)
            return ECIF_OK; /* most likely the same record again */
        if (count < SLOT_COUNT_MAX)
            count++;
        c->slots[i] = make_slot(fp, count, tag);
        return ECIF_OK;
    }

    int rc = make_room(c);
    if (rc != ECIF_OK)
        return rc;
    i = probe(c->slots, c->nslots, fp);
    c->slots[i] = make_slot(fp, 1, tag);
    c->used++;
    return ECIF_OK;
}

uint32_t junk_counter_count(const junk_counter_t *c, enum junk_field field,
                            uint64_t value_hash)
{
    if ((unsigned)field >= JUNK_FIELD_COUNT)
        return 0;

    uint64_t s =
        c->slots[probe(c->slots, c->nslots, fingerprint(field, value_hash))];
    return s != 0 ? slot_count(s) : 0;
}

bool junk_counter_is_frequent(const junk_counter_t *c, enum junk_field field,
                              uint64_t value_hash)
{
    return junk_counter_count(c, field, value_hash) > c->limit;
}

uint32_t junk_counter_evictions(const junk_counter_t *c)
{
    return c->evictions;
}
