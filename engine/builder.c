/*
 * The builder collects records and accounts in growable arrays laid out
 * exactly like a store (engine/layout.h), then, in ecif_builder_write():
 *
 *   1. attaches accounts to their records;
 *   2. builds the sharded blocking-key index;
 *   3. clusters records into customers: pairs that share a key and score
 *      at or above the model's clustering weight are joined with
 *      union-find, strongest first, unless the join would put conflicting
 *      records into one customer (cluster()). Pairs are sorted by score
 *      and source keys, so the result does not depend on the order in
 *      which records were added;
 *   4. numbers customers in the order of their first source key, sums
 *      exposure, and hands the arrays to the snapshot writer.
 *
 * Strings are interned in one pool, so repeated values (source systems,
 * products, currencies) are stored once.
 */
#include <assert.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "builder.h"
#include "hash.h"
#include "layout.h"
#include "match.h"
#include "snapshot.h"
#include "status.h"

/* A growable array of fixed-size items. */
typedef struct vec {
    void *data;
    size_t count;
    size_t cap;
    size_t item;
} vec_t;

static int vec_reserve(vec_t *v, size_t extra)
{
    if (v->count + extra <= v->cap)
        return ECIF_OK;
    size_t cap = v->cap ? v->cap * 2 : 64;
    while (cap < v->count + extra)
        cap *= 2;
    void *data = realloc(v->data, cap * v->item);
    if (data == NULL)
        return ECIF_ENOMEM;
    v->data = data;
    v->cap = cap;
    return ECIF_OK;
}

static void *vec_push(vec_t *v)
{
    if (vec_reserve(v, 1) != ECIF_OK)
        return NULL;
    return (char *)v->data + v->item * v->count++;
}

#define VEC_AT(v, type, i) (((type *)(v).data)[i])

/* An open-addressing map from a 64-bit hash to a 32-bit value. */
typedef struct hmap {
    uint64_t *keys; /* 0 = empty */
    uint32_t *values;
    size_t cap;
    size_t used;
} hmap_t;

static int hmap_grow(hmap_t *m)
{
    size_t cap = m->cap ? m->cap * 2 : 1024;
    uint64_t *keys = calloc(cap, sizeof(*keys));
    uint32_t *values = calloc(cap, sizeof(*values));

    if (keys == NULL || values == NULL) {
        free(keys);
        free(values);
        return ECIF_ENOMEM;
    }
    for (size_t i = 0; i < m->cap; i++) {
        if (m->keys[i] == 0)
            continue;
        size_t j = m->keys[i] & (cap - 1);
        while (keys[j] != 0)
            j = (j + 1) & (cap - 1);
        keys[j] = m->keys[i];
        values[j] = m->values[i];
    }
    free(m->keys);
    free(m->values);
    m->keys = keys;
    m->values = values;
    m->cap = cap;
    return ECIF_OK;
}

/*
 * Calls match(arg, value) for each entry with this hash until it returns
 * true; returns that entry's slot, or the empty slot where the hash would
 * go (check m->keys[slot] == 0).
 */
static size_t hmap_find(const hmap_t *m, uint64_t hash,
                        bool (*match)(void *arg, uint32_t value), void *arg)
{
    size_t i = hash & (m->cap - 1);

    while (m->keys[i] != 0) {
        if (m->keys[i] == hash && match(arg, m->values[i]))
            return i;
        i = (i + 1) & (m->cap - 1);
    }
    return i;
}

static void hmap_free(hmap_t *m)
{
    free(m->keys);
    free(m->values);
}

struct pending_account {
    uint32_t source_system;
    uint32_t source_id;
    struct acct_entry entry;
};

struct ecif_builder {
    ecif_builder_options_t opts;
    vec_t strings;      /* char */
    hmap_t interned;    /* string hash → pool offset */
    vec_t records;      /* struct rec_entry */
    vec_t updated;      /* uint32_t per record, empty while none has one */
    vec_t values;       /* uint32_t */
    hmap_t sources;     /* source key hash → record id */
    vec_t pending;      /* struct pending_account */
    hmap_t account_ids; /* (source_system, account_id) → pending index */
};

void ecif_builder_options_default(ecif_builder_options_t *opts)
{
    memset(opts, 0, sizeof(*opts));
    opts->shard_count = 16;
    opts->frequent_value_limit = 256;
}

int ecif_builder_create(const ecif_builder_options_t *opts,
                        ecif_builder_t **out, char *err, size_t errlen)
{
    ecif_builder_t *b;
    uint32_t shards = opts->shard_count;

    *out = NULL;
    if (shards == 0 || shards > 4096 || (shards & (shards - 1)) != 0)
        return ecif_fail(ECIF_EINVAL, err, errlen,
                         "shard count %u is not a power of two from 1 to "
                         "4096",
                         shards);
    if (opts->frequent_value_limit < 2 || opts->frequent_value_limit > 65536)
        return ecif_fail(ECIF_EINVAL, err, errlen,
                         "frequent value limit %u is not from 2 to 65536",
                         opts->frequent_value_limit);
    if (opts->thread_count > 256)
        return ecif_fail(ECIF_EINVAL, err, errlen,
                         "thread count %u is not from 0 to 256",
                         opts->thread_count);
    b = calloc(1, sizeof(*b));
    if (b == NULL)
        return ECIF_ENOMEM;
    b->opts = *opts;
    b->strings.item = 1;
    b->records.item = sizeof(struct rec_entry);
    b->updated.item = sizeof(uint32_t);
    b->values.item = sizeof(uint32_t);
    b->pending.item = sizeof(struct pending_account);
    if (vec_push(&b->strings) == NULL || hmap_grow(&b->interned) ||
        hmap_grow(&b->sources) || hmap_grow(&b->account_ids)) {
        ecif_builder_destroy(b);
        return ECIF_ENOMEM;
    }
    ((char *)b->strings.data)[0] = '\0'; /* offset 0 is "" */
    *out = b;
    return ECIF_OK;
}

void ecif_builder_destroy(ecif_builder_t *b)
{
    if (b == NULL)
        return;
    free(b->strings.data);
    hmap_free(&b->interned);
    free(b->records.data);
    free(b->updated.data);
    free(b->values.data);
    hmap_free(&b->sources);
    free(b->pending.data);
    hmap_free(&b->account_ids);
    free(b);
}

struct string_probe {
    const ecif_builder_t *b;
    const char *text;
};

static bool string_equals(void *arg, uint32_t offset)
{
    struct string_probe *p = arg;
    return strcmp((const char *)p->b->strings.data + offset, p->text) == 0;
}

/* Interns s and stores its pool offset in *off. NULL and "" give 0. */
static int intern(ecif_builder_t *b, const char *s, uint32_t *off)
{
    size_t len;
    uint64_t hash;
    size_t slot;
    struct string_probe probe = {b, s};

    *off = 0;
    if (s == NULL || s[0] == '\0')
        return ECIF_OK;
    len = strlen(s);
    hash = ecif_hash64(s, len, 0x5157);
    slot = hmap_find(&b->interned, hash, string_equals, &probe);
    if (b->interned.keys[slot] != 0) {
        *off = b->interned.values[slot];
        return ECIF_OK;
    }
    if (b->strings.count + len + 1 > UINT32_MAX)
        return ECIF_ELIMIT;
    if (vec_reserve(&b->strings, len + 1) != ECIF_OK)
        return ECIF_ENOMEM;
    if ((b->interned.used + 1) * 2 > b->interned.cap) {
        if (hmap_grow(&b->interned) != ECIF_OK)
            return ECIF_ENOMEM;
        slot = hmap_find(&b->interned, hash, string_equals, &probe);
    }
    *off = (uint32_t)b->strings.count;
    memcpy((char *)b->strings.data + b->strings.count, s, len + 1);
    b->strings.count += len + 1;
    b->interned.keys[slot] = hash;
    b->interned.values[slot] = *off;
    b->interned.used++;
    return ECIF_OK;
}

static uint64_t source_hash(const char *system, const char *id)
{
    uint64_t h = ecif_hash64(system, strlen(system), 0x53);
    return ecif_hash64(id, strlen(id), h);
}

struct source_probe {
    const ecif_builder_t *b;
    const char *system;
    const char *id;
};

static bool source_equals(void *arg, uint32_t record)
{
    struct source_probe *p = arg;
    const struct rec_entry *r =
        &VEC_AT(p->b->records, struct rec_entry, record);
    const char *pool = p->b->strings.data;
    return strcmp(pool + r->source_system, p->system) == 0 &&
           strcmp(pool + r->source_id, p->id) == 0;
}

/* Interns a list of strings and appends their offsets to values. */
static int push_values(ecif_builder_t *b, const char *const *list,
                       uint32_t count)
{
    for (uint32_t i = 0; i < count; i++) {
        uint32_t off;
        int rc = intern(b, list[i], &off);
        if (rc != ECIF_OK)
            return rc;
        uint32_t *slot = vec_push(&b->values);
        if (slot == NULL)
            return ECIF_ENOMEM;
        *slot = off;
    }
    return ECIF_OK;
}

/*
 * Appends the raw phones. A raw phone that equals its canonical form
 * without the +86 prefix (13800138000 beside +8613800138000) points into
 * the canonical string instead of taking its own copy. Most mainland
 * phones are written that way, and every byte per record counts at ten
 * million records.
 */
static int push_phones(ecif_builder_t *b, const char *const *raw,
                       const char *const *canonical, uint32_t count)
{
    for (uint32_t i = 0; i < count; i++) {
        uint32_t off;
        int rc;
        if (strncmp(canonical[i], "+86", 3) == 0 &&
            strcmp(canonical[i] + 3, raw[i]) == 0) {
            rc = intern(b, canonical[i], &off);
            off += 3;
        } else {
            rc = intern(b, raw[i], &off);
        }
        if (rc != ECIF_OK)
            return rc;
        uint32_t *slot = vec_push(&b->values);
        if (slot == NULL)
            return ECIF_ENOMEM;
        *slot = off;
    }
    return ECIF_OK;
}

/* Picks the raw values that normalization kept, in its order. */
static void kept_values(const char *const *in, const uint8_t *kept,
                        uint32_t count, const char **out)
{
    for (uint32_t i = 0; i < count; i++)
        out[i] = in[kept[i]];
}

/*
 * Fills a record entry: raw values as imported, normalized values for keys
 * and scoring. Raw list values are stored only where normalization kept
 * them, so the raw and normalized lists line up one to one.
 */
static int fill_entry(ecif_builder_t *b, const ecif_record_t *rec,
                      struct rec_entry *e)
{
    match_buffer_t buf;
    match_view_t v;
    uint8_t kp[ECIF_MAX_VALUES], ke[ECIF_MAX_VALUES], ka[ECIF_MAX_VALUES];
    const char *phones[ECIF_MAX_VALUES], *emails[ECIF_MAX_VALUES];
    const char *addresses[ECIF_MAX_VALUES];
    int rc = ECIF_OK;

    memset(e, 0, sizeof(*e));
    match_normalize(rec, &buf, &v, kp, ke, ka);
    kept_values(rec->phones, kp, v.n_phones, phones);
    kept_values(rec->emails, ke, v.n_emails, emails);
    kept_values(rec->addresses, ka, v.n_addresses, addresses);
    char dob[16];
    const struct {
        const char *text;
        uint32_t *off;
    } fields[] = {
        {rec->source_system, &e->source_system},
        {rec->source_id, &e->source_id},
        {rec->name, &e->name},
        {rec->given_name, &e->given_name},
        {rec->family_name, &e->family_name},
        {rec->id_type, &e->id_type},
        {rec->id_number, &e->id_number},
        {ecif_dob_text(rec->dob, v.dob, dob), &e->dob},
        {rec->gender, &e->gender},
        {v.name, &e->norm_name},
        {v.given, &e->norm_given},
        {v.family, &e->norm_family},
        {v.han, &e->norm_han},
        {v.name_key, &e->name_key},
        {v.name_key_fuzzy, &e->name_key_fuzzy},
        {v.id, &e->norm_id},
    };
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]) && !rc; i++)
        rc = intern(b, fields[i].text, fields[i].off);
    if (rc != ECIF_OK)
        return rc;

    uint32_t np = v.n_phones, ne = v.n_emails, na = v.n_addresses;
    if (b->values.count + 2 * (np + ne + na) > UINT32_MAX)
        return ECIF_ELIMIT;
    e->values_first = (uint32_t)b->values.count;
    e->n_phones = (uint8_t)np;
    e->n_emails = (uint8_t)ne;
    e->n_addresses = (uint8_t)na;
    if ((rc = push_phones(b, phones, v.phones, np)) ||
        (rc = push_values(b, emails, ne)) ||
        (rc = push_values(b, addresses, na)) ||
        (rc = push_values(b, v.phones, np)) ||
        (rc = push_values(b, v.emails, ne)) ||
        (rc = push_values(b, v.addresses, na)))
        return rc;
    e->dob_ymd = v.dob;
    e->flags = (v.dob_valid ? REC_DOB_VALID : 0) |
               (v.id_valid_resident ? REC_ID_VALID_RESIDENT : 0);
    e->gender_code = (uint8_t)v.gender;
    e->id_kind = v.id_kind;
    e->suffix = v.suffix;
    e->quality = v.quality;
    return ECIF_OK;
}

/*
 * Appends the update time of the record about to be added. The array
 * stays empty while no record has one, so a store without update times
 * spends no memory on them. The first time fills in 0 for the records
 * before it.
 */
static int push_updated(ecif_builder_t *b, int64_t updated_at)
{
    if (updated_at == 0 && b->updated.count == 0)
        return ECIF_OK;
    if (vec_reserve(&b->updated, b->records.count + 1 - b->updated.count) !=
        ECIF_OK)
        return ECIF_ENOMEM;
    while (b->updated.count < b->records.count)
        *(uint32_t *)vec_push(&b->updated) = 0;
    *(uint32_t *)vec_push(&b->updated) = (uint32_t)updated_at;
    return ECIF_OK;
}

static int add_record(ecif_builder_t *b, const ecif_record_t *rec,
                      bool journaled, char *err, size_t errlen)
{
    struct source_probe probe = {b, rec->source_system, rec->source_id};
    struct rec_entry entry;
    size_t values_before = b->values.count;
    uint64_t hash;
    size_t slot;
    int rc;

    rc = journaled ? ecif_record_validate_journaled(rec, err, errlen)
                   : ecif_record_validate(rec, true, err, errlen);
    if (rc != ECIF_OK)
        return rc;
    if (b->records.count >= UINT32_MAX - 1)
        return ecif_fail(ECIF_ELIMIT, err, errlen,
                         "record: more than %u records", UINT32_MAX - 1);
    hash = source_hash(rec->source_system, rec->source_id);
    slot = hmap_find(&b->sources, hash, source_equals, &probe);
    if (b->sources.keys[slot] != 0)
        return ecif_fail(ECIF_EEXIST, err, errlen,
                         "source_id: duplicate record '%s' in source system "
                         "'%s'",
                         rec->source_id, rec->source_system);

    rc = fill_entry(b, rec, &entry);
    if (rc == ECIF_OK && (b->sources.used + 1) * 2 > b->sources.cap)
        rc = hmap_grow(&b->sources);
    if (rc == ECIF_OK)
        rc = push_updated(b, rec->updated_at);
    if (rc == ECIF_OK && vec_push(&b->records) == NULL) {
        if (b->updated.count > 0)
            b->updated.count--;
        rc = ECIF_ENOMEM;
    }
    if (rc != ECIF_OK) {
        /* Strings interned so far stay in the pool, unreferenced. */
        b->values.count = values_before;
        return ecif_fail(rc, err, errlen, "record: %s", ecif_status_str(rc));
    }
    VEC_AT(b->records, struct rec_entry, b->records.count - 1) = entry;
    slot = hmap_find(&b->sources, hash, source_equals, &probe);
    b->sources.keys[slot] = hash;
    b->sources.values[slot] = (uint32_t)(b->records.count - 1);
    b->sources.used++;
    return ECIF_OK;
}

int ecif_builder_add_record(ecif_builder_t *b, const ecif_record_t *rec,
                            char *err, size_t errlen)
{
    return add_record(b, rec, false, err, errlen);
}

int ecif_builder_add_journaled_record(ecif_builder_t *b,
                                      const ecif_record_t *rec, char *err,
                                      size_t errlen)
{
    return add_record(b, rec, true, err, errlen);
}

bool ecif_builder_has_record(const ecif_builder_t *b, const char *source_system,
                             const char *source_id)
{
    struct source_probe probe = {b, source_system, source_id};
    size_t slot;

    if (source_system == NULL || source_id == NULL)
        return false;
    slot = hmap_find(&b->sources, source_hash(source_system, source_id),
                     source_equals, &probe);
    return b->sources.keys[slot] != 0;
}

struct account_probe {
    const ecif_builder_t *b;
    const char *system;
    const char *account_id;
};

static bool account_equals(void *arg, uint32_t index)
{
    struct account_probe *p = arg;
    const struct pending_account *a =
        &VEC_AT(p->b->pending, struct pending_account, index);
    const char *pool = p->b->strings.data;
    return strcmp(pool + a->source_system, p->system) == 0 &&
           strcmp(pool + a->entry.account_id, p->account_id) == 0;
}

int ecif_builder_add_account(ecif_builder_t *b, const char *source_system,
                             const char *source_id, const ecif_account_t *acct,
                             char *err, size_t errlen)
{
    struct account_probe probe = {b, source_system, acct->account_id};
    struct pending_account pa;
    uint64_t hash;
    size_t slot;
    int rc;

    if (source_system == NULL || source_system[0] == '\0')
        return ecif_fail(ECIF_EINVAL, err, errlen,
                         "source_system: missing value");
    if (source_id == NULL || source_id[0] == '\0')
        return ecif_fail(ECIF_EINVAL, err, errlen, "source_id: missing value");
    rc = ecif_account_validate(acct, err, errlen);
    if (rc != ECIF_OK)
        return rc;
    hash = source_hash(source_system, acct->account_id);
    slot = hmap_find(&b->account_ids, hash, account_equals, &probe);
    if (b->account_ids.keys[slot] != 0)
        return ecif_fail(ECIF_EEXIST, err, errlen,
                         "account_id: duplicate account '%s' in source "
                         "system '%s'",
                         acct->account_id, source_system);

    memset(&pa, 0, sizeof(pa));
    if ((rc = intern(b, source_system, &pa.source_system)) ||
        (rc = intern(b, source_id, &pa.source_id)) ||
        (rc = intern(b, acct->account_id, &pa.entry.account_id)) ||
        (rc = intern(b, acct->product, &pa.entry.product)) ||
        (rc = intern(b, acct->currency, &pa.entry.currency)) ||
        (rc = intern(b, acct->branch, &pa.entry.branch)))
        return ecif_fail(rc, err, errlen, "account: %s", ecif_status_str(rc));
    pa.entry.credit_limit = acct->credit_limit;
    pa.entry.balance = acct->balance;
    if ((b->account_ids.used + 1) * 2 > b->account_ids.cap &&
        hmap_grow(&b->account_ids) != ECIF_OK)
        return ecif_fail(ECIF_ENOMEM, err, errlen, "account: out of memory");
    if (vec_push(&b->pending) == NULL)
        return ecif_fail(ECIF_ENOMEM, err, errlen, "account: out of memory");
    VEC_AT(b->pending, struct pending_account, b->pending.count - 1) = pa;
    slot = hmap_find(&b->account_ids, hash, account_equals, &probe);
    b->account_ids.keys[slot] = hash;
    b->account_ids.values[slot] = (uint32_t)(b->pending.count - 1);
    b->account_ids.used++;
    return ECIF_OK;
}

/* State of one ecif_builder_write() call; all arrays are freed at its end. */
struct build {
    ecif_builder_t *b;
    struct ecif_store store; /* views the builder's arrays while building */
    struct acct_entry *accounts;
    struct shard_entry *shards;
    struct slot_entry *slots;
    uint32_t *postings;
    uint32_t *parent; /* union-find over records */
    struct cust_entry *customers;
    uint32_t *members;
    struct exposure_entry *exposure;
    uint32_t *sources;
    struct name_count *names;
    struct number_redirect *history;
    uint32_t *history_origins;     /* aligned with history */
    char *model_text;              /* the model as the snapshot stores it */
    struct correction_link *links; /* from opts.previous */
    uint32_t customer_count;
    uint32_t exposure_count;
    uint64_t frequent_keys;
    uint64_t bridge_count;
    uint64_t distant_count; /* pairs clusters_close kept apart */
    uint32_t kept_numbers;
    uint32_t retired_numbers;
    time_t last_progress;
};

static void progress(struct build *bd, const char *stage, uint64_t done,
                     uint64_t total)
{
    time_t now;

    if (bd->b->opts.progress == NULL)
        return;
    now = time(NULL);
    if (done != total && done != 0 && now == bd->last_progress)
        return;
    bd->last_progress = now;
    bd->b->opts.progress(bd->b->opts.progress_arg, stage, done, total);
}

static int compare_pending(const void *pa, const void *pb, void *arg)
{
    const struct pending_account *a = pa, *b = pb;
    const char *pool = arg;
    int cmp = strcmp(pool + a->source_system, pool + b->source_system);
    if (cmp == 0)
        cmp = strcmp(pool + a->source_id, pool + b->source_id);
    if (cmp == 0)
        cmp = strcmp(pool + a->entry.account_id, pool + b->entry.account_id);
    return cmp;
}

/* Attaches accounts to records: sorted by source key, then account id. */
static int attach_accounts(struct build *bd, char *err, size_t errlen)
{
    ecif_builder_t *b = bd->b;
    struct pending_account *pending = b->pending.data;
    struct rec_entry *records = b->records.data;
    size_t n = b->pending.count;

    bd->accounts = malloc((n ? n : 1) * sizeof(*bd->accounts));
    if (bd->accounts == NULL)
        return ECIF_ENOMEM;
    if (n > 0)
        qsort_r(pending, n, sizeof(*pending), compare_pending, b->strings.data);
    for (size_t i = 0; i < n; i++) {
        const char *pool = b->strings.data;
        const char *system = pool + pending[i].source_system;
        const char *id = pool + pending[i].source_id;
        struct source_probe probe = {b, system, id};
        size_t slot = hmap_find(&b->sources, source_hash(system, id),
                                source_equals, &probe);
        if (b->sources.keys[slot] == 0)
            return ecif_fail(ECIF_ENOTFOUND, err, errlen,
                             "account '%s': no record '%s' in source system "
                             "'%s'",
                             pool + pending[i].entry.account_id, id, system);
        struct rec_entry *r = &records[b->sources.values[slot]];
        if (r->account_count == 0)
            r->accounts_first = (uint32_t)i;
        r->account_count++;
        bd->accounts[i] = pending[i].entry;
    }
    return ECIF_OK;
}

struct key_ref {
    uint64_t hash;
    uint32_t record;
};

static int compare_key_refs(const void *pa, const void *pb)
{
    const struct key_ref *a = pa, *b = pb;
    if (a->hash != b->hash)
        return a->hash < b->hash ? -1 : 1;
    return a->record < b->record ? -1 : (a->record > b->record);
}

static uint32_t shard_of(const struct ecif_store *s, uint64_t hash)
{
    return s->shard_shift >= 64 ? 0 : (uint32_t)(hash >> s->shard_shift);
}

/*
 * Builds the key index: every (key, record) pair sorted by key hash (which
 * also groups them by shard, since the shard is the top bits), then one
 * open-addressing table per shard at a load factor of at most one half.
 * A key on more than frequent_value_limit records keeps its slot, marked
 * SLOT_FREQUENT with no postings, so scoring can tell it is frequent.
 */
static int build_index(struct build *bd)
{
    struct ecif_store *s = &bd->store;
    uint32_t n = s->record_count;
    vec_t refs = {.item = sizeof(struct key_ref)};
    uint64_t keys[MAX_RECORD_KEYS];
    uint64_t *shard_keys = NULL;
    int rc = ECIF_OK;

    for (uint32_t r = 0; r < n; r++) {
        match_view_t v;
        match_view_stored(s, r, &v);
        size_t nk = match_keys(&v, keys, MAX_RECORD_KEYS, NULL);
        if (vec_reserve(&refs, nk) != ECIF_OK) {
            rc = ECIF_ENOMEM;
            goto out;
        }
        for (size_t k = 0; k < nk; k++) {
            struct key_ref *ref = vec_push(&refs);
            ref->hash = keys[k];
            ref->record = r;
        }
        progress(bd, "index", r + 1, n);
    }
    struct key_ref *all = refs.data;
    if (refs.count > 0)
        qsort(all, refs.count, sizeof(*all), compare_key_refs);

    /* Count the usable keys per shard and lay the postings out. */
    shard_keys = calloc(s->shard_count, sizeof(*shard_keys));
    bd->postings = malloc((refs.count ? refs.count : 1) * sizeof(uint32_t));
    bd->shards = calloc(s->shard_count, sizeof(*bd->shards));
    if (shard_keys == NULL || bd->postings == NULL || bd->shards == NULL) {
        rc = ECIF_ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < refs.count;) {
        size_t j = i;
        while (j < refs.count && all[j].hash == all[i].hash)
            j++;
        shard_keys[shard_of(s, all[i].hash)]++;
        i = j;
    }
    uint64_t slots_total = 0;
    for (uint32_t sh = 0; sh < s->shard_count; sh++) {
        /* A load factor of at most 3/4 keeps linear probing short; the
         * capacity need not be a power of two (see slot_home). */
        uint64_t cap = shard_keys[sh] + shard_keys[sh] / 3 + 8;
        if (cap > UINT32_MAX) {
            rc = ECIF_ELIMIT;
            goto out;
        }
        bd->shards[sh].slots_first = slots_total;
        bd->shards[sh].capacity = (uint32_t)cap;
        slots_total += cap;
    }
    bd->slots = calloc(slots_total, sizeof(*bd->slots));
    if (bd->slots == NULL) {
        rc = ECIF_ENOMEM;
        goto out;
    }
    uint32_t posted = 0;
    for (size_t i = 0; i < refs.count;) {
        size_t j = i;
        while (j < refs.count && all[j].hash == all[i].hash)
            j++;
        struct shard_entry *sh = &bd->shards[shard_of(s, all[i].hash)];
        uint32_t at = slot_home(all[i].hash, sh->capacity);
        while (bd->slots[sh->slots_first + at].key_tag != 0)
            at = at + 1 == sh->capacity ? 0 : at + 1;
        struct slot_entry *slot = &bd->slots[sh->slots_first + at];
        slot->key_tag = key_tag(all[i].hash);
        sh->used++;
        if (j - i == 1) {
            slot->postings_first = all[i].record; /* inline, see layout.h */
            slot->postings_count = 1;
            s->key_count++;
        } else if (j - i <= bd->b->opts.frequent_value_limit) {
            slot->postings_first = posted;
            slot->postings_count = (uint32_t)(j - i);
            for (size_t k = i; k < j; k++)
                bd->postings[posted++] = all[k].record;
            s->key_count++;
        } else {
            slot->postings_first = SLOT_FREQUENT;
            slot->postings_count = 0;
            bd->frequent_keys++;
        }
        i = j;
    }
    s->shards = bd->shards;
    s->slots = bd->slots;
    s->postings = bd->postings;
    s->slots_count = slots_total;
    s->postings_count = posted;
out:
    free(shard_keys);
    free(refs.data);
    return rc;
}

static int compare_u64(const void *pa, const void *pb)
{
    uint64_t a = *(const uint64_t *)pa, b = *(const uint64_t *)pb;
    return a < b ? -1 : (a > b);
}

/*
 * Counts the records of every name and keeps the names on two or more
 * records, sorted by hash, for the term-frequency adjustment.
 */
static int count_names(struct build *bd)
{
    struct ecif_store *s = &bd->store;
    uint32_t n = s->record_count;
    uint64_t *hashes = malloc((n ? n : 1) * sizeof(uint64_t));
    size_t m = 0, kept = 0;

    if (hashes == NULL)
        return ECIF_ENOMEM;
    for (uint32_t r = 0; r < n; r++) {
        match_view_t v;
        match_view_stored(s, r, &v);
        uint64_t h = match_name_hash(&v);
        if (h != 0)
            hashes[m++] = h;
    }
    if (m > 0)
        qsort(hashes, m, sizeof(uint64_t), compare_u64);
    bd->names = malloc((m ? m : 1) * sizeof(*bd->names));
    if (bd->names == NULL) {
        free(hashes);
        return ECIF_ENOMEM;
    }
    for (size_t i = 0; i < m;) {
        size_t j = i;
        while (j < m && hashes[j] == hashes[i])
            j++;
        if (j - i >= 2) {
            bd->names[kept].name_hash = hashes[i];
            bd->names[kept].count =
                j - i > UINT32_MAX ? UINT32_MAX : (uint32_t)(j - i);
            bd->names[kept].pad = 0;
            kept++;
        }
        i = j;
    }
    free(hashes);
    s->names = bd->names;
    s->names_count = kept;
    return ECIF_OK;
}

static uint32_t find_root(uint32_t *parent, uint32_t x)
{
    while (parent[x] != x) {
        parent[x] = parent[parent[x]];
        x = parent[x];
    }
    return x;
}

/* A pair of records that scored at or above the clustering weight at
 * import. */
struct match_pair {
    uint32_t a; /* a < b */
    uint32_t b;
    double score;
};

/* Orders pairs by score, strongest first; ties by the records' ranks in
 * source-key order, so the order never depends on the input order. */
static int compare_pairs(const void *pa, const void *pb, void *arg)
{
    const struct match_pair *x = pa, *y = pb;
    const uint32_t *rank = arg;

    if (x->score != y->score)
        return x->score > y->score ? -1 : 1;
    uint32_t x1 = rank[x->a] < rank[x->b] ? rank[x->a] : rank[x->b];
    uint32_t y1 = rank[y->a] < rank[y->b] ? rank[y->a] : rank[y->b];
    if (x1 != y1)
        return x1 < y1 ? -1 : 1;
    uint32_t x2 = rank[x->a] ^ rank[x->b] ^ x1;
    uint32_t y2 = rank[y->a] ^ rank[y->b] ^ y1;
    return x2 < y2 ? -1 : (x2 > y2);
}

/* True when two records share a normalized phone or address (interned:
 * equal strings have equal offsets, and 0 is the empty string). */
static bool share_contact(const struct ecif_store *s, const struct rec_entry *a,
                          const struct rec_entry *b)
{
    /* A record's values: raw phones, emails and addresses, then the
     * normalized ones in the same order. */
    const uint32_t *va = s->values + a->values_first + a->n_phones +
                         a->n_emails + a->n_addresses;
    const uint32_t *vb = s->values + b->values_first + b->n_phones +
                         b->n_emails + b->n_addresses;

    for (uint32_t i = 0; i < a->n_phones; i++) {
        for (uint32_t j = 0; j < b->n_phones; j++) {
            if (va[i] != 0 && va[i] == vb[j])
                return true;
        }
    }
    va += a->n_phones + a->n_emails;
    vb += b->n_phones + b->n_emails;
    for (uint32_t i = 0; i < a->n_addresses; i++) {
        for (uint32_t j = 0; j < b->n_addresses; j++) {
            if (va[i] != 0 && va[i] == vb[j])
                return true;
        }
    }
    return false;
}

/*
 * True when records x and y are two generations of one name at one
 * household (match_generations_apart). A third record without a date, at
 * that phone and address, matches both and would otherwise join them.
 * The tests on the entries come first, so that views are made only for
 * the rare pairs whose dates are a generation apart at a shared contact.
 */
static bool generations_apart(const struct ecif_store *s, uint32_t x,
                              uint32_t y)
{
    const struct rec_entry *a = &s->records[x], *b = &s->records[y];

    if (!(a->flags & b->flags & REC_DOB_VALID))
        return false;
    uint32_t hi = a->dob_ymd > b->dob_ymd ? a->dob_ymd : b->dob_ymd;
    uint32_t lo = a->dob_ymd > b->dob_ymd ? b->dob_ymd : a->dob_ymd;
    if (hi - lo <= MODEL_DOB_GAP_YYYYMMDD || !share_contact(s, a, b))
        return false;

    match_view_t va, vb;
    match_view_stored(s, x, &va);
    match_view_stored(s, y, &vb);
    return match_generations_apart(s->model, &va, &vb);
}

/*
 * True when two records can never be one person: both carry a resident
 * ID whose check character verifies and the IDs differ, both carry a
 * generational suffix and the suffixes differ (the hard conflicts of
 * MATCHING.md), or they are generations apart at one household.
 */
static bool records_conflict(const struct ecif_store *s, uint32_t x, uint32_t y)
{
    const struct rec_entry *a = &s->records[x], *b = &s->records[y];

    if ((a->flags & b->flags & REC_ID_VALID_RESIDENT) &&
        a->norm_id != b->norm_id)
        return true; /* interned: equal strings have equal offsets */
    if (a->suffix != SUFFIX_NONE && b->suffix != SUFFIX_NONE &&
        a->suffix != b->suffix)
        return true;
    return generations_apart(s, x, y);
}

/* Orders links by records, then kind, for binary search. */
static int compare_links(const void *pa, const void *pb)
{
    const struct correction_link *x = pa, *y = pb;
    if (x->record_a != y->record_a)
        return x->record_a < y->record_a ? -1 : 1;
    if (x->record_b != y->record_b)
        return x->record_b < y->record_b ? -1 : 1;
    return x->kind < y->kind ? -1 : (x->kind > y->kind);
}

/* True when a correction marked two records as never one customer. */
static bool cannot_link(const struct ecif_store *s, uint32_t x, uint32_t y)
{
    struct correction_link key = {x < y ? x : y, x < y ? y : x, LINK_CANNOT, 0};
    return s->links_count > 0 && bsearch(&key, s->links, s->links_count,
                                         sizeof(key), compare_links) != NULL;
}

/* Members of each union-find set as a linked list, for conflict checks. */
struct cluster_lists {
    uint32_t *next; /* next member, UINT32_MAX at the end */
    uint32_t *tail; /* per root */
};

static bool clusters_conflict(const struct ecif_store *s,
                              const struct cluster_lists *l, uint32_t ra,
                              uint32_t rb)
{
    for (uint32_t x = ra; x != UINT32_MAX; x = l->next[x]) {
        for (uint32_t y = rb; y != UINT32_MAX; y = l->next[y]) {
            if (records_conflict(s, x, y) || cannot_link(s, x, y))
                return true;
        }
    }
    return false;
}

/* Members of each customer that clusters_close scores at most, which
 * bounds a join's check at 16 x 16 pairs. NOTE: past 16 members, which
 * ones are scored follows the member lists, whose order depends on the
 * record ids and so on the input order. */
#define LINKAGE_MAX_MEMBERS 16

/* Returns the higher of a pair's two scores, each record taken once as
 * the query, so that the result does not depend on the pair's order. */
static double pair_score(const struct ecif_store *s, uint32_t x, uint32_t y)
{
    ecif_evidence_t evidence[ECIF_FIELD_COUNT];
    match_view_t query, stored;
    double xy, yx;

    match_view_stored(s, x, &query);
    match_mark_frequent(s, &query);
    match_view_stored(s, y, &stored);
    xy = match_score(s->model, &query, &stored, evidence);
    match_view_stored(s, y, &query);
    match_mark_frequent(s, &query);
    match_view_stored(s, x, &stored);
    yx = match_score(s->model, &query, &stored, evidence);
    return xy > yx ? xy : yx;
}

/*
 * Returns whether two sets of records are close enough on average
 * (average linkage) to be one customer. A set of one record always is,
 * so it joins through its best pair. Two sets of two or more records
 * each need a mean score over their cross pairs (at most
 * LINKAGE_MAX_MEMBERS of each) of at least the clustering weight less
 * MATCH_AMBIGUITY_MARGIN. Without that check, one strong pair chains two
 * people. Two Oliver Roberts born years apart each have records that
 * agree among themselves, and a record without a date of birth can score
 * at the clustering weight with both.
 */
static bool clusters_close(const struct ecif_store *s,
                           const struct cluster_lists *l, uint32_t ra,
                           uint32_t rb)
{
    double sum = 0.0;
    uint32_t pairs = 0;
    uint32_t i = 0;

    if (l->next[ra] == UINT32_MAX || l->next[rb] == UINT32_MAX)
        return true;
    for (uint32_t x = ra; x != UINT32_MAX && i < LINKAGE_MAX_MEMBERS;
         x = l->next[x], i++) {
        uint32_t j = 0;
        for (uint32_t y = rb; y != UINT32_MAX && j < LINKAGE_MAX_MEMBERS;
             y = l->next[y], j++) {
            sum += pair_score(s, x, y);
            pairs++;
        }
    }
    return sum / pairs >= s->model->cluster_weight - MATCH_AMBIGUITY_MARGIN;
}

/* True when a cannot-link joins a record of one set to one of the other. */
static bool clusters_conflict_links(const struct ecif_store *s,
                                    const struct cluster_lists *l, uint32_t ra,
                                    uint32_t rb)
{
    if (s->links_count == 0)
        return false;
    for (uint32_t x = ra; x != UINT32_MAX; x = l->next[x]) {
        for (uint32_t y = rb; y != UINT32_MAX; y = l->next[y]) {
            if (cannot_link(s, x, y))
                return true;
        }
    }
    return false;
}

/* Records a worker takes from the shared cursor at a time: small enough
 * to balance the workers, large enough that the cursor is rarely hit. */
#define PAIR_CHUNK 1024

/*
 * State shared by the workers of collect_pairs. Chunk c covers the
 * PAIR_CHUNK records from c * PAIR_CHUNK and collects its pairs in
 * chunk_pairs[c]. Joined in chunk order, they are the pairs one thread
 * would collect.
 */
struct pair_work {
    struct build *bd;
    uint32_t chunk_count;
    vec_t *chunk_pairs;
    atomic_uint next_chunk;
    atomic_uint done;  /* records finished, for progress */
    atomic_int failed; /* ECIF_ENOMEM once a worker ran out */
};

/* Adds the pairs of records [first, end) that score at or above the
 * clustering weight to pairs. */
static int collect_range(const struct ecif_store *s, uint32_t first,
                         uint32_t end, match_candidates_t *cand, vec_t *pairs)
{
    ecif_evidence_t evidence[ECIF_FIELD_COUNT];

    for (uint32_t r = first; r < end; r++) {
        match_view_t a;
        match_view_stored(s, r, &a);
        match_mark_frequent(s, &a);
        match_gather(s, &a, cand);
        for (uint32_t i = 0; i < cand->count; i++) {
            uint32_t other = cand->ids[i];
            if (other == r)
                continue;
            match_view_t b;
            match_view_stored(s, other, &b);
            double score = match_score(s->model, &a, &b, evidence);
            if (!(score >= s->model->cluster_weight))
                continue;
            struct match_pair *p = vec_push(pairs);
            if (p == NULL)
                return ECIF_ENOMEM;
            p->a = r < other ? r : other;
            p->b = r < other ? other : r;
            p->score = score;
        }
    }
    return ECIF_OK;
}

/* Takes chunks until none is left. Only the calling thread (report set)
 * reports progress, so the callback never runs on a worker thread. */
static int collect_worker(struct pair_work *w, bool report)
{
    const struct ecif_store *s = &w->bd->store;
    uint32_t n = s->record_count;
    match_candidates_t *cand = malloc(sizeof(*cand));

    if (cand == NULL) {
        atomic_store(&w->failed, ECIF_ENOMEM);
        return ECIF_ENOMEM;
    }
    while (atomic_load(&w->failed) == ECIF_OK) {
        uint32_t c = atomic_fetch_add(&w->next_chunk, 1);
        if (c >= w->chunk_count)
            break;
        uint32_t first = c * PAIR_CHUNK;
        uint32_t end = n - first < PAIR_CHUNK ? n : first + PAIR_CHUNK;
        if (collect_range(s, first, end, cand, &w->chunk_pairs[c]) != ECIF_OK) {
            atomic_store(&w->failed, ECIF_ENOMEM);
            break;
        }
        uint32_t done = atomic_fetch_add(&w->done, end - first) + end - first;
        if (report && done < n)
            progress(w->bd, "cluster", done, n);
    }
    free(cand);
    return atomic_load(&w->failed);
}

static void *collect_thread(void *arg)
{
    collect_worker(arg, false);
    return NULL;
}

/* The workers of collect_pairs: the option, else one per online CPU. */
static uint32_t pair_thread_count(const ecif_builder_options_t *opts,
                                  uint32_t chunks)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    uint32_t t = opts->thread_count;

    if (t == 0) {
        if (cpus <= 0)
            t = 1;
        else if (cpus > 256)
            t = 256;
        else
            t = (uint32_t)cpus;
    }
    if (chunks == 0)
        return 1;
    return t < chunks ? t : chunks;
}

/*
 * Collects every pair of records that share a key and score at or above
 * the model's clustering weight (MATCH for the built-in model), from
 * both records' keys, because gathering is not symmetric. A pair appears
 * once per side that gathers the other, so the caller removes repeats. The
 * records are split into chunks scored by thread_count workers, and the
 * chunks' pairs are joined in record order, so the result does not
 * depend on the number of threads.
 */
static int collect_pairs(struct build *bd, vec_t *pairs)
{
    uint32_t n = bd->store.record_count;
    struct pair_work w = {.bd = bd};
    pthread_t *threads = NULL;
    uint32_t started = 0, nthreads;
    size_t total = 0;
    int rc = ECIF_ENOMEM;

    w.chunk_count = (uint32_t)(((uint64_t)n + PAIR_CHUNK - 1) / PAIR_CHUNK);
    w.chunk_pairs =
        calloc(w.chunk_count ? w.chunk_count : 1, sizeof(*w.chunk_pairs));
    nthreads = pair_thread_count(&bd->b->opts, w.chunk_count);
    threads = calloc(nthreads, sizeof(*threads));
    if (w.chunk_pairs == NULL || threads == NULL)
        goto out;
    for (uint32_t c = 0; c < w.chunk_count; c++)
        w.chunk_pairs[c].item = sizeof(struct match_pair);
    atomic_init(&w.next_chunk, 0);
    atomic_init(&w.done, 0);
    atomic_init(&w.failed, ECIF_OK);

    /* A thread that cannot start only slows the build, because the calling
     * thread and the started ones take its chunks. */
    for (uint32_t t = 1; t < nthreads; t++) {
        if (pthread_create(&threads[t], NULL, collect_thread, &w) != 0)
            break;
        started++;
    }
    rc = collect_worker(&w, true);
    for (uint32_t t = 1; t <= started; t++)
        pthread_join(threads[t], NULL);
    if (n > 0)
        progress(bd, "cluster", n, n);
    if (rc == ECIF_OK)
        rc = atomic_load(&w.failed);
    if (rc != ECIF_OK)
        goto out;

    for (uint32_t c = 0; c < w.chunk_count; c++)
        total += w.chunk_pairs[c].count;
    rc = vec_reserve(pairs, total);
    if (rc != ECIF_OK)
        goto out;
    for (uint32_t c = 0; c < w.chunk_count; c++) {
        vec_t *v = &w.chunk_pairs[c];
        if (v->count > 0)
            memcpy((char *)pairs->data + pairs->count * pairs->item, v->data,
                   v->count * v->item);
        pairs->count += v->count;
        free(v->data);
        v->data = NULL;
    }
out:
    if (w.chunk_pairs != NULL) {
        for (uint32_t c = 0; c < w.chunk_count; c++)
            free(w.chunk_pairs[c].data);
    }
    free(w.chunk_pairs);
    free(threads);
    return rc;
}

static int compare_pair_ids(const void *pa, const void *pb)
{
    const struct match_pair *x = pa, *y = pb;
    if (x->a != y->a)
        return x->a < y->a ? -1 : 1;
    if (x->b != y->b)
        return x->b < y->b ? -1 : 1;
    return x->score > y->score ? -1 : (x->score < y->score);
}

/* Finds the record added with a source key. */
static bool find_added_record(const ecif_builder_t *b, const char *system,
                              const char *id, uint32_t *record)
{
    struct source_probe probe = {b, system, id};
    size_t slot =
        hmap_find(&b->sources, source_hash(system, id), source_equals, &probe);
    *record = b->sources.values[slot];
    return b->sources.keys[slot] != 0;
}

static int compare_u32(const void *pa, const void *pb)
{
    uint32_t a = *(const uint32_t *)pa, b = *(const uint32_t *)pb;
    return a < b ? -1 : (a > b);
}

/* Finds the root of x in a union-find array, halving the path. */
static uint32_t uf_root(uint32_t *parent, uint32_t x)
{
    while (parent[x] != x) {
        parent[x] = parent[parent[x]];
        x = parent[x];
    }
    return x;
}

/* Returns the index of id in the sorted array ids of n. */
static uint32_t index_of(const uint32_t *ids, size_t n, uint32_t id)
{
    const uint32_t *hit = bsearch(&id, ids, n, sizeof(*ids), compare_u32);
    return (uint32_t)(hit - ids);
}

/* Finds this build's id of record old of the previous store. */
static bool carried_record(struct build *bd, uint32_t old, uint32_t *id)
{
    ecif_record_t r; /* records added while serving included */
    ecif_store_get_record(bd->b->opts.previous, old, &r);
    return find_added_record(bd->b, r.source_system, r.source_id, id);
}

/*
 * Carries the must-links of the previous snapshot over by source key. The
 * records that must-links joined stay joined as groups. A record that is
 * not imported again drops out of its group, and the rest are linked to
 * the group's first record that is. A merge thus survives the loss of the
 * record its links met at. Appends to bd->links at *n.
 */
static int carry_must_links(struct build *bd, size_t *n)
{
    const struct ecif_store *prev = bd->b->opts.previous;
    size_t m = 0;
    uint32_t *ids = malloc(2 * prev->links_count * sizeof(uint32_t));
    uint32_t *parent = malloc(2 * prev->links_count * sizeof(uint32_t));
    uint32_t *hub = malloc(2 * prev->links_count * sizeof(uint32_t));
    int rc = ECIF_ENOMEM;

    if (ids == NULL || parent == NULL || hub == NULL)
        goto out;
    for (uint64_t i = 0; i < prev->links_count; i++) {
        if (prev->links[i].kind != LINK_MUST)
            continue;
        ids[m++] = prev->links[i].record_a;
        ids[m++] = prev->links[i].record_b;
    }
    if (m > 0)
        qsort(ids, m, sizeof(*ids), compare_u32);
    size_t u = 0;
    for (size_t i = 0; i < m; i++) {
        if (u == 0 || ids[u - 1] != ids[i])
            ids[u++] = ids[i];
    }
    for (size_t i = 0; i < u; i++) {
        parent[i] = (uint32_t)i;
        hub[i] = UINT32_MAX;
    }
    for (uint64_t i = 0; i < prev->links_count; i++) {
        const struct correction_link *l = &prev->links[i];
        if (l->kind != LINK_MUST)
            continue;
        uint32_t a = uf_root(parent, index_of(ids, u, l->record_a));
        uint32_t b = uf_root(parent, index_of(ids, u, l->record_b));
        if (a != b)
            parent[b] = a;
    }
    for (size_t i = 0; i < u; i++) {
        uint32_t id;
        if (!carried_record(bd, ids[i], &id))
            continue;
        uint32_t root = uf_root(parent, (uint32_t)i);
        if (hub[root] == UINT32_MAX) {
            hub[root] = id;
        } else if (hub[root] != id) {
            uint32_t h = hub[root];
            bd->links[(*n)++] = (struct correction_link){
                h < id ? h : id, h < id ? id : h, LINK_MUST, 0};
        }
    }
    rc = ECIF_OK;
out:
    free(ids);
    free(parent);
    free(hub);
    return rc;
}

/*
 * Carries the correction links of the previous snapshot over to this
 * build's records by source key: must-links as groups (carry_must_links),
 * cannot-links pair by pair, dropping a pair whose records were not both
 * imported again. The store's links then point at the result.
 */
static int carry_links(struct build *bd)
{
    const struct ecif_store *prev = bd->b->opts.previous;
    size_t n = 0;

    if (prev == NULL || prev->links_count == 0)
        return ECIF_OK;
    /* At most one must-link per record of a group, one per cannot-link. */
    bd->links = malloc(3 * prev->links_count * sizeof(*bd->links));
    if (bd->links == NULL)
        return ECIF_ENOMEM;
    int rc = carry_must_links(bd, &n);
    if (rc != ECIF_OK)
        return rc;
    for (uint64_t i = 0; i < prev->links_count; i++) {
        const struct correction_link *l = &prev->links[i];
        uint32_t a, b;
        if (l->kind == LINK_MUST || !carried_record(bd, l->record_a, &a) ||
            !carried_record(bd, l->record_b, &b) || a == b)
            continue;
        bd->links[n++] =
            (struct correction_link){a < b ? a : b, a < b ? b : a, l->kind, 0};
    }
    if (n > 1)
        qsort(bd->links, n, sizeof(*bd->links), compare_links);
    /* One pair may now come from two groups' hubs, so keep it once. */
    size_t kept = 0;
    for (size_t i = 0; i < n; i++) {
        if (kept > 0 && compare_links(&bd->links[kept - 1], &bd->links[i]) == 0)
            continue;
        bd->links[kept++] = bd->links[i];
    }
    bd->store.links = bd->links;
    bd->store.links_count = kept;
    return ECIF_OK;
}

static void report_bridge(struct build *bd, uint32_t a, uint32_t b)
{
    const struct ecif_store *s = &bd->store;

    bd->bridge_count++;
    if (bd->b->opts.bridge == NULL)
        return;
    const struct rec_entry *x = &s->records[a], *y = &s->records[b];
    bd->b->opts.bridge(bd->b->opts.progress_arg, store_str(s, x->source_system),
                       store_str(s, x->source_id),
                       store_str(s, y->source_system),
                       store_str(s, y->source_id));
}

/*
 * Joins the records that corrections put into one customer, before any
 * scored pair. A steward's merge applies even against a hard conflict.
 * A merge against a cannot-link is not applied and is reported as a bridge.
 */
static int join_must_links(struct build *bd, struct cluster_lists *lists)
{
    int rc = carry_links(bd);

    for (uint64_t i = 0; rc == ECIF_OK && i < bd->store.links_count; i++) {
        const struct correction_link *l = &bd->store.links[i];
        if (l->kind != LINK_MUST)
            continue;
        uint32_t ra = find_root(bd->parent, l->record_a);
        uint32_t rb = find_root(bd->parent, l->record_b);
        if (ra == rb)
            continue;
        if (clusters_conflict_links(&bd->store, lists, ra, rb)) {
            report_bridge(bd, l->record_a, l->record_b);
            continue;
        }
        uint32_t keep = ra < rb ? ra : rb, gone = ra < rb ? rb : ra;
        bd->parent[gone] = keep;
        lists->next[lists->tail[keep]] = gone;
        lists->tail[keep] = lists->tail[gone];
    }
    return rc;
}

/* Keeps the links the customers satisfy, for the CORRECTIONS section: a
 * must-link that a cannot-link kept apart is dropped. */
static void keep_satisfied_links(struct build *bd)
{
    struct correction_link *links = bd->links;
    size_t kept = 0;

    for (uint64_t i = 0; i < bd->store.links_count; i++) {
        bool same = find_root(bd->parent, links[i].record_a) ==
                    find_root(bd->parent, links[i].record_b);
        if (same == (links[i].kind == LINK_MUST))
            links[kept++] = links[i];
    }
    bd->store.links_count = kept;
}

/* Maximum number of partners of one record checked against each other for
 * ambiguity, which bounds the quadratic check. NOTE: partners past the
 * first 64 in pair order are never checked. */
#define AMBIGUITY_MAX_PARTNERS 64

static uint32_t pair_other(const struct match_pair *p, uint32_t x)
{
    return p->a == x ? p->b : p->a;
}

/*
 * Drops the pairs of a record that cannot tell two conflicting partners
 * apart. The pairs here are those collect_pairs kept, at or above the
 * clustering weight. A record that matches two records that can never be
 * one person (a hard conflict or a cannot-link), neither by
 * MATCH_AMBIGUITY_MARGIN more than the other, cannot tell them apart: a
 * record without birth date or suffix that shares a father's and his
 * son's phone and address. Joining it to whichever scores a hair higher
 * would be a guess, so its pairs with both are dropped and reported as
 * bridges. It joins a customer only through other pairs. p contains *m
 * pairs sorted by (a, b) without repeats, and the kept ones stay in that
 * order. The pairs and their scores do not depend on input order, so
 * neither does the result.
 */
static int drop_ambiguous_pairs(struct build *bd, struct match_pair *p,
                                size_t *m)
{
    const struct ecif_store *s = &bd->store;
    uint32_t n = s->record_count;
    uint32_t *start = calloc((size_t)n + 1, sizeof(uint32_t));
    uint32_t *adj = malloc((*m ? *m : 1) * 2 * sizeof(uint32_t));
    bool *drop = calloc(*m ? *m : 1, sizeof(bool));
    size_t kept = 0;

    if (start == NULL || adj == NULL || drop == NULL) {
        free(start);
        free(adj);
        free(drop);
        return ECIF_ENOMEM;
    }
    /* Pair indexes by record, in pair order (compressed rows). */
    for (size_t i = 0; i < *m; i++) {
        start[p[i].a + 1]++;
        start[p[i].b + 1]++;
    }
    for (uint32_t r = 0; r < n; r++)
        start[r + 1] += start[r];
    for (size_t i = 0; i < *m; i++) {
        adj[start[p[i].a]++] = (uint32_t)i;
        adj[start[p[i].b]++] = (uint32_t)i;
    }
    for (uint32_t r = n; r > 0; r--)
        start[r] = start[r - 1];
    start[0] = 0;

    for (uint32_t x = 0; x < n; x++) {
        uint32_t first = start[x], end = start[x + 1];
        if (end - first > AMBIGUITY_MAX_PARTNERS)
            end = first + AMBIGUITY_MAX_PARTNERS;
        for (uint32_t i = first; i < end; i++) {
            const struct match_pair *pi = &p[adj[i]];
            for (uint32_t j = i + 1; j < end; j++) {
                const struct match_pair *pj = &p[adj[j]];
                uint32_t y = pair_other(pi, x), z = pair_other(pj, x);
                if (fabs(pi->score - pj->score) >= MATCH_AMBIGUITY_MARGIN ||
                    !(records_conflict(s, y, z) || cannot_link(s, y, z)))
                    continue;
                drop[adj[i]] = drop[adj[j]] = true;
            }
        }
    }
    for (size_t i = 0; i < *m; i++) {
        if (drop[i])
            report_bridge(bd, p[i].a, p[i].b);
        else
            p[kept++] = p[i];
    }
    *m = kept;
    free(start);
    free(adj);
    free(drop);
    return ECIF_OK;
}

/*
 * Groups records into customers. Pairs at or above the clustering weight
 * are joined strongest first. A join that would put two conflicting
 * records into one customer is rejected and reported as a bridge, so a
 * record that matches a father and his son does not chain them together.
 * Pairs are ordered by score and source keys, so the customers do not
 * depend on input order.
 */
static int cluster(struct build *bd)
{
    const struct ecif_store *s = &bd->store;
    uint32_t n = s->record_count;
    vec_t pairs = {.item = sizeof(struct match_pair)};
    struct cluster_lists lists = {0};
    uint32_t *rank = NULL;
    int rc = ECIF_ENOMEM;

    bd->parent = malloc((n ? n : 1) * sizeof(uint32_t));
    lists.next = malloc((n ? n : 1) * sizeof(uint32_t));
    lists.tail = malloc((n ? n : 1) * sizeof(uint32_t));
    rank = malloc((n ? n : 1) * sizeof(uint32_t));
    if (bd->parent == NULL || lists.next == NULL || lists.tail == NULL ||
        rank == NULL)
        goto out;
    for (uint32_t r = 0; r < n; r++) {
        bd->parent[r] = r;
        lists.next[r] = UINT32_MAX;
        lists.tail[r] = r;
    }
    for (uint32_t i = 0; i < n; i++)
        rank[bd->sources[i]] = i;

    rc = collect_pairs(bd, &pairs);
    if (rc != ECIF_OK)
        goto out;
    struct match_pair *p = pairs.data;
    size_t m = 0;
    if (pairs.count > 0)
        qsort(p, pairs.count, sizeof(*p), compare_pair_ids);
    for (size_t i = 0; i < pairs.count; i++) {
        if (m == 0 || p[i].a != p[m - 1].a || p[i].b != p[m - 1].b)
            p[m++] = p[i];
    }
    rc = drop_ambiguous_pairs(bd, p, &m);
    if (rc != ECIF_OK)
        goto out;
    if (m > 0)
        qsort_r(p, m, sizeof(*p), compare_pairs, rank);

    rc = join_must_links(bd, &lists);
    if (rc != ECIF_OK)
        goto out;
    for (size_t i = 0; i < m; i++) {
        uint32_t ra = find_root(bd->parent, p[i].a);
        uint32_t rb = find_root(bd->parent, p[i].b);
        if (ra == rb)
            continue;
        if (clusters_conflict(s, &lists, ra, rb)) {
            bd->bridge_count++;
            if (bd->b->opts.bridge != NULL) {
                const struct rec_entry *x = &s->records[p[i].a];
                const struct rec_entry *y = &s->records[p[i].b];
                bd->b->opts.bridge(
                    bd->b->opts.progress_arg, store_str(s, x->source_system),
                    store_str(s, x->source_id), store_str(s, y->source_system),
                    store_str(s, y->source_id));
            }
            continue;
        }
        if (!clusters_close(s, &lists, ra, rb)) {
            bd->distant_count++;
            continue;
        }
        /* The smaller root id stays root; append the other list. */
        uint32_t keep = ra < rb ? ra : rb, gone = ra < rb ? rb : ra;
        bd->parent[gone] = keep;
        lists.next[lists.tail[keep]] = gone;
        lists.tail[keep] = lists.tail[gone];
    }
    keep_satisfied_links(bd);
    rc = ECIF_OK;
out:
    free(pairs.data);
    free(lists.next);
    free(lists.tail);
    free(rank);
    return rc;
}

static int compare_records_by_source(const void *pa, const void *pb, void *arg)
{
    const struct ecif_store *s = arg;
    const struct rec_entry *a = &s->records[*(const uint32_t *)pa];
    const struct rec_entry *b = &s->records[*(const uint32_t *)pb];
    int cmp =
        strcmp(store_str(s, a->source_system), store_str(s, b->source_system));
    return cmp != 0
               ? cmp
               : strcmp(store_str(s, a->source_id), store_str(s, b->source_id));
}

/* Lists the record ids in (source_system, source_id) order. */
static int sort_sources(struct build *bd)
{
    uint32_t n = bd->store.record_count;

    bd->sources = malloc((n ? n : 1) * sizeof(uint32_t));
    if (bd->sources == NULL)
        return ECIF_ENOMEM;
    for (uint32_t r = 0; r < n; r++)
        bd->sources[r] = r;
    if (n > 0)
        qsort_r(bd->sources, n, sizeof(uint32_t), compare_records_by_source,
                &bd->store);
    bd->store.sources = bd->sources;
    return ECIF_OK;
}

struct exposure_item {
    uint32_t product;
    uint32_t currency;
    int64_t credit_limit;
    int64_t balance;
};

/* Orders items as exposure totals list them (ecif_exposure_order). */
static int compare_exposure_items(const void *pa, const void *pb, void *arg)
{
    const struct exposure_item *a = pa, *b = pb;
    const char *pool = arg;
    return ecif_exposure_order(pool + a->product, pool + a->currency,
                               pool + b->product, pool + b->currency);
}

/* A previous customer number claimed by a new customer's records. */
struct number_claim {
    uint64_t number;
    uint32_t customer; /* provisional id */
    uint32_t records;  /* how many of its records had that number */
    uint32_t record;   /* the lowest id among them */
};

/* A record of the previous store and its id in the new one. */
struct id_pair {
    uint32_t old;
    uint32_t id;
};

static int compare_id_pairs(const void *pa, const void *pb)
{
    const struct id_pair *a = pa, *b = pb;
    return a->old < b->old ? -1 : (a->old > b->old);
}

/* A redirect being assigned, with the record that carried its number. */
struct retirement {
    struct number_redirect redirect;
    uint32_t origin; /* ECIF_NO_ORIGIN when unknown */
};

static int compare_retirements(const void *pa, const void *pb)
{
    const struct retirement *a = pa, *b = pb;
    return a->redirect.retired < b->redirect.retired
               ? -1
               : (a->redirect.retired > b->redirect.retired);
}

static int compare_claims(const void *pa, const void *pb)
{
    const struct number_claim *a = pa, *b = pb;

    if (a->number != b->number)
        return a->number < b->number ? -1 : 1;
    if (a->records != b->records)
        return a->records > b->records ? -1 : 1;
    return a->customer < b->customer ? -1 : (a->customer > b->customer);
}

static int compare_redirects(const void *pa, const void *pb)
{
    const struct number_redirect *a = pa, *b = pb;
    return a->retired < b->retired ? -1 : (a->retired > b->retired);
}

/* Follows redirects (retired → survivor) until a number that is not
 * retired; the table is sorted by retired number. */
static uint64_t follow_redirects(const struct number_redirect *table,
                                 size_t count, uint64_t number)
{
    for (size_t hops = 0; hops <= count; hops++) {
        struct number_redirect key = {number, 0};
        const struct number_redirect *hit =
            bsearch(&key, table, count, sizeof(*table), compare_redirects);
        if (hit == NULL)
            return number;
        number = hit->survivor;
    }
    return number; /* a cycle cannot be built; stop anyway */
}

/* Returns the new id of record old of the previous store, or
 * ECIF_NO_ORIGIN when it was not imported again. */
static uint32_t new_id_of(const struct id_pair *pairs, size_t n, uint32_t old)
{
    struct id_pair key = {old, 0};
    const struct id_pair *hit =
        bsearch(&key, pairs, n, sizeof(*pairs), compare_id_pairs);
    return hit != NULL ? hit->id : ECIF_NO_ORIGIN;
}

/*
 * Gives every provisional customer its number. Without a previous
 * snapshot, numbers are 1, 2, ... in provisional order. With one, each
 * previous number goes to the new customer holding most of its records
 * (ties: the earlier customer), lowest numbers first, so a customer formed
 * by joining earlier customers keeps the oldest of their numbers; a
 * previous number left without a taker is retired and redirects to the
 * customer that took its records, and one of those records is kept as its
 * origin. A retired number whose origin record is now apart from its
 * survivor's person comes back to the origin's customer. Every other
 * retired number with an origin leads to the origin's customer. Everyone
 * else gets a number never issued before.
 */
static int assign_numbers(struct build *bd, uint32_t customers,
                          uint64_t *numbers)
{
    const struct ecif_store *prev = bd->b->opts.previous;
    struct ecif_store *s = &bd->store;
    const struct rec_entry *records = bd->b->records.data;
    uint64_t next = prev != NULL ? prev->next_customer_number : 1;
    vec_t claims = {.item = sizeof(struct number_claim)};
    vec_t pairs = {.item = sizeof(struct id_pair)};
    vec_t history = {.item = sizeof(struct retirement)};
    uint64_t *sorted = NULL;
    int rc = ECIF_ENOMEM;

    memset(numbers, 0, customers * sizeof(uint64_t));
    if (next == 0)
        next = 1;
    for (uint32_t i = 0; prev != NULL && i < s->record_count; i++) {
        uint32_t r = bd->sources[i], old;
        const char *sys = store_str(s, records[r].source_system);
        const char *id = store_str(s, records[r].source_id);
        if (ecif_store_find_record(prev, sys, id, &old) != ECIF_OK)
            continue;
        struct id_pair *pair = vec_push(&pairs);
        if (pair == NULL)
            goto out;
        *pair = (struct id_pair){old, r};
        uint64_t number;
        if (!store_parse_customer_number(
                ecif_store_customer_number(
                    prev, ecif_store_record_customer(prev, old)),
                &number) ||
            number == 0)
            continue;
        struct number_claim *c = vec_push(&claims);
        if (c == NULL)
            goto out;
        c->number = number;
        c->customer = records[r].customer;
        c->records = 1;
        c->record = r;
    }
    if (pairs.count > 0)
        qsort(pairs.data, pairs.count, sizeof(struct id_pair),
              compare_id_pairs);
    /* Fold repeated (number, customer) claims into counts. */
    struct number_claim *cl = claims.data;
    size_t m = 0;
    if (claims.count > 0)
        qsort(cl, claims.count, sizeof(*cl), compare_claims);
    for (size_t i = 0; i < claims.count; i++) {
        if (m > 0 && cl[m - 1].number == cl[i].number &&
            cl[m - 1].customer == cl[i].customer) {
            cl[m - 1].records++;
            if (cl[i].record < cl[m - 1].record)
                cl[m - 1].record = cl[i].record;
        } else {
            cl[m++] = cl[i];
        }
    }
    if (m > 0)
        qsort(cl, m, sizeof(*cl), compare_claims); /* by new counts */

    for (size_t i = 0; i < m;) {
        size_t j = i;
        while (j < m && cl[j].number == cl[i].number)
            j++;
        size_t taker = j;
        for (size_t k = i; k < j && taker == j; k++) {
            if (numbers[cl[k].customer] == 0)
                taker = k;
        }
        if (taker < j) {
            numbers[cl[taker].customer] = cl[i].number;
            bd->kept_numbers++;
        } else {
            /* The customer that took most of its records took the number
             * over; one of those records stands for the person. */
            struct retirement *h = vec_push(&history);
            if (h == NULL)
                goto out;
            h->redirect.retired = cl[i].number;
            h->redirect.survivor = numbers[cl[i].customer];
            h->origin = cl[i].record;
            bd->retired_numbers++;
        }
        if (cl[i].number >= next)
            next = cl[i].number + 1;
        i = j;
    }
    /* Earlier retirements stay, pointed at today's survivors. */
    size_t fresh = history.count;
    if (fresh > 0)
        qsort(history.data, fresh, sizeof(struct retirement),
              compare_retirements);
    struct number_redirect *fresh_redirects =
        malloc((fresh ? fresh : 1) * sizeof(*fresh_redirects));
    if (fresh_redirects == NULL)
        goto out;
    for (size_t i = 0; i < fresh; i++)
        fresh_redirects[i] = ((struct retirement *)history.data)[i].redirect;
    for (uint64_t i = 0; prev != NULL && i < prev->history_count; i++) {
        struct retirement *h = vec_push(&history);
        if (h == NULL) {
            free(fresh_redirects);
            goto out;
        }
        h->redirect.retired = prev->history[i].retired;
        h->redirect.survivor =
            follow_redirects(fresh_redirects, fresh, prev->history[i].survivor);
        h->origin =
            prev->history_origins != NULL &&
                    prev->history_origins[i] != ECIF_NO_ORIGIN
                ? new_id_of(pairs.data, pairs.count, prev->history_origins[i])
                : ECIF_NO_ORIGIN;
    }
    free(fresh_redirects);

    /*
     * A retired number whose record is in a customer apart from its
     * survivor's person comes back to it: the records were apart again,
     * so the number is its person's once more (the oldest such number
     * first). That customer either took no number, or took the survivor's
     * number by holding more of its records than the survivor's person,
     * who then gets it back.
     */
    struct retirement *carried = (struct retirement *)history.data + fresh;
    size_t n_carried = history.count - fresh;
    for (size_t i = 0; i < n_carried; i++) {
        uint32_t o = carried[i].origin;
        if (o == ECIF_NO_ORIGIN)
            continue;
        uint32_t c = records[o].customer;
        uint64_t survivor = prev->history[i].survivor;
        size_t other = m;
        for (size_t k = 0; numbers[c] == survivor && k < m; k++) {
            if (cl[k].number == survivor && cl[k].customer != c &&
                numbers[cl[k].customer] == 0)
                other = k;
        }
        if (numbers[c] != 0 && other == m)
            continue;
        if (other < m)
            numbers[cl[other].customer] = survivor;
        numbers[c] = carried[i].redirect.retired;
        carried[i].redirect.survivor = 0; /* dropped below */
        bd->kept_numbers++;
    }
    for (uint32_t c = 0; c < customers; c++) {
        if (numbers[c] == 0)
            numbers[c] = next++;
    }
    /* Every other number with a known record leads to that record's
     * customer, wherever clustering put it. */
    for (size_t i = 0; i < history.count; i++) {
        struct retirement *h = (struct retirement *)history.data + i;
        if (h->origin != ECIF_NO_ORIGIN && h->redirect.survivor != 0 &&
            numbers[records[h->origin].customer] != h->redirect.retired)
            h->redirect.survivor = numbers[records[h->origin].customer];
    }
    /* Keep only redirects whose survivor is a customer now. */
    struct retirement *hd = history.data;
    size_t kept = 0;
    sorted = malloc((customers ? customers : 1) * sizeof(uint64_t));
    if (sorted == NULL)
        goto out;
    memcpy(sorted, numbers, customers * sizeof(uint64_t));
    if (customers > 0)
        qsort(sorted, customers, sizeof(uint64_t), compare_u64);
    for (size_t i = 0; i < history.count; i++) {
        if (bsearch(&hd[i].redirect.survivor, sorted, customers,
                    sizeof(uint64_t), compare_u64) != NULL)
            hd[kept++] = hd[i];
    }
    if (kept > 0)
        qsort(hd, kept, sizeof(*hd), compare_retirements);
    bd->history = malloc((kept ? kept : 1) * sizeof(*bd->history));
    bd->history_origins = malloc((kept ? kept : 1) * sizeof(uint32_t));
    if (bd->history == NULL || bd->history_origins == NULL)
        goto out;
    for (size_t i = 0; i < kept; i++) {
        bd->history[i] = hd[i].redirect;
        bd->history_origins[i] = hd[i].origin;
    }
    s->history = bd->history;
    s->history_count = kept;
    s->history_origins = bd->history_origins;
    s->next_customer_number = next;
    rc = ECIF_OK;
out:
    free(claims.data);
    free(pairs.data);
    free(history.data);
    free(sorted);
    return rc;
}

/* Orders provisional customers by number. */
static int compare_by_number(const void *pa, const void *pb, void *arg)
{
    const uint64_t *numbers = arg;
    uint64_t a = numbers[*(const uint32_t *)pa];
    uint64_t b = numbers[*(const uint32_t *)pb];
    return a < b ? -1 : (a > b);
}

/*
 * Renumbers customer ids so that ids follow customer numbers (the store
 * finds a customer by binary search over numbers), and sorts numbers[]
 * the same way.
 */
static int renumber_customers(struct build *bd, uint32_t customers,
                              uint64_t *numbers)
{
    struct rec_entry *records = bd->b->records.data;
    uint32_t *order = malloc((customers ? customers : 1) * sizeof(uint32_t));
    uint32_t *new_id = malloc((customers ? customers : 1) * sizeof(uint32_t));
    uint64_t *sorted = malloc((customers ? customers : 1) * sizeof(uint64_t));

    if (order == NULL || new_id == NULL || sorted == NULL) {
        free(order);
        free(new_id);
        free(sorted);
        return ECIF_ENOMEM;
    }
    for (uint32_t c = 0; c < customers; c++)
        order[c] = c;
    if (customers > 0)
        qsort_r(order, customers, sizeof(uint32_t), compare_by_number, numbers);
    for (uint32_t k = 0; k < customers; k++) {
        new_id[order[k]] = k;
        sorted[k] = numbers[order[k]];
    }
    for (uint32_t r = 0; r < bd->store.record_count; r++)
        records[r].customer = new_id[records[r].customer];
    memcpy(numbers, sorted, customers * sizeof(uint64_t));
    free(order);
    free(new_id);
    free(sorted);
    return ECIF_OK;
}

/*
 * Numbers the customers and sums their exposure. Records are walked in
 * source-key order, so a customer's number follows the first source key of
 * its members and the same input always gives the same numbers.
 */
static int number_customers(struct build *bd, char *err, size_t errlen)
{
    struct ecif_store *s = &bd->store;
    struct rec_entry *records = bd->b->records.data;
    uint32_t n = s->record_count;
    uint32_t *first_of_root = NULL;
    uint32_t *next = NULL;
    uint64_t *numbers = NULL;
    vec_t items = {.item = sizeof(struct exposure_item)};
    vec_t exposure = {.item = sizeof(struct exposure_entry)};
    int rc = ECIF_ENOMEM;

    bd->members = malloc((n ? n : 1) * sizeof(uint32_t));
    bd->customers = calloc(n ? n : 1, sizeof(*bd->customers));
    first_of_root = malloc((n ? n : 1) * sizeof(uint32_t));
    next = malloc((n ? n : 1) * sizeof(uint32_t));
    if (!bd->members || !bd->customers || !first_of_root || !next)
        goto out;

    /* Customer ids in order of first member; members chained per root. */
    for (uint32_t r = 0; r < n; r++)
        first_of_root[r] = UINT32_MAX;
    uint32_t customers = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t r = bd->sources[i];
        uint32_t root = find_root(bd->parent, r);
        if (first_of_root[root] == UINT32_MAX)
            first_of_root[root] = customers++;
        records[r].customer = first_of_root[root];
    }
    /* Numbers, then customer ids in number order for binary search. */
    numbers = malloc((customers ? customers : 1) * sizeof(uint64_t));
    if (numbers == NULL || assign_numbers(bd, customers, numbers) != ECIF_OK)
        goto out;
    if (renumber_customers(bd, customers, numbers) != ECIF_OK)
        goto out;

    /* Counting sort of records (in source order) by customer. */
    uint32_t *counts = next;
    memset(counts, 0, n * sizeof(uint32_t));
    for (uint32_t r = 0; r < n; r++)
        counts[records[r].customer]++;
    uint32_t offset = 0;
    for (uint32_t c = 0; c < customers; c++) {
        bd->customers[c].members_first = offset;
        offset += counts[c];
        counts[c] = 0;
    }
    for (uint32_t i = 0; i < n; i++) {
        uint32_t r = bd->sources[i];
        struct cust_entry *c = &bd->customers[records[r].customer];
        bd->members[c->members_first + counts[records[r].customer]++] = r;
        c->member_count++;
    }

    for (uint32_t c = 0; c < customers; c++) {
        struct cust_entry *ce = &bd->customers[c];
        snprintf(ce->number, sizeof(ce->number), "C%012llu",
                 (unsigned long long)numbers[c]);
        items.count = 0;
        for (uint32_t m = 0; m < ce->member_count; m++) {
            const struct rec_entry *r =
                &records[bd->members[ce->members_first + m]];
            for (uint32_t a = 0; a < r->account_count; a++) {
                const struct acct_entry *acct =
                    &bd->accounts[r->accounts_first + a];
                struct exposure_item *it = vec_push(&items);
                if (it == NULL)
                    goto out;
                it->product = acct->product;
                it->currency = acct->currency;
                it->credit_limit = acct->credit_limit;
                it->balance = acct->balance;
            }
        }
        if (items.count > 0)
            qsort_r(items.data, items.count, sizeof(struct exposure_item),
                    compare_exposure_items, bd->b->strings.data);
        ce->exposure_first = (uint32_t)exposure.count;
        struct exposure_item *it = items.data;
        for (size_t i = 0; i < items.count; i++) {
            struct exposure_entry *e = NULL;
            const char *pool = bd->b->strings.data;
            if (i > 0 && ecif_exposure_same_total(pool + it[i].product,
                                                  pool + it[i].currency,
                                                  pool + it[i - 1].product,
                                                  pool + it[i - 1].currency)) {
                e = &VEC_AT(exposure, struct exposure_entry,
                            exposure.count - 1);
            } else {
                e = vec_push(&exposure);
                if (e == NULL)
                    goto out;
                memset(e, 0, sizeof(*e));
                e->product = it[i].product;
                e->currency = it[i].currency;
                ce->exposure_count++;
            }
            e->account_count++;
            if (ecif_amount_add(&e->credit_limit, it[i].credit_limit) ||
                ecif_amount_add(&e->balance, it[i].balance)) {
                rc = ecif_fail(ECIF_ELIMIT, err, errlen,
                               "customer %s: the %s credit limits or "
                               "balances in %s add up to more than a total "
                               "can hold (about 9.2e14); check the amounts "
                               "of its accounts",
                               ce->number, pool + it[i].product,
                               pool + it[i].currency);
                goto out;
            }
        }
        progress(bd, "customers", c + 1, customers);
    }
    bd->customer_count = customers;
    bd->exposure = exposure.data;
    bd->exposure_count = (uint32_t)exposure.count;
    exposure.data = NULL;
    rc = ECIF_OK;
out:
    free(exposure.data);
    free(items.data);
    free(first_of_root);
    free(next);
    free(numbers);
    return rc;
}

static void build_free(struct build *bd)
{
    free(bd->accounts);
    free(bd->shards);
    free(bd->slots);
    free(bd->postings);
    free(bd->parent);
    free(bd->customers);
    free(bd->members);
    free(bd->exposure);
    free(bd->sources);
    free(bd->names);
    free(bd->history);
    free(bd->history_origins);
    free(bd->model_text);
    free(bd->links);
}

/* Points the store at the model of the options and at its text, which
 * the snapshot stores. */
static int set_model(struct build *bd, char *err, size_t errlen)
{
    struct ecif_store *s = &bd->store;
    size_t bytes = 0;
    FILE *out;

    s->model = bd->b->opts.model != NULL ? bd->b->opts.model : model_default();
    out = open_memstream(&bd->model_text, &bytes);
    if (out == NULL)
        return ecif_fail(ECIF_ENOMEM, err, errlen,
                         "writing the model: out of memory");
    int rc = model_write(s->model, out);
    if (fclose(out) != 0 || rc != ECIF_OK)
        return ecif_fail(ECIF_ENOMEM, err, errlen,
                         "writing the model: out of memory");
    s->model_text = bd->model_text;
    s->model_text_bytes = bytes;
    return ECIF_OK;
}

int ecif_builder_write(ecif_builder_t *b, const char *path,
                       ecif_build_stats_t *stats, char *err, size_t errlen)
{
    struct build bd = {.b = b};
    struct ecif_store *s = &bd.store;
    uint64_t bytes = 0;
    int rc;

    s->shard_count = b->opts.shard_count;
    s->shard_shift = 64;
    for (uint32_t n = s->shard_count; n > 1; n >>= 1)
        s->shard_shift--;
    s->record_count = (uint32_t)b->records.count;
    s->strings = b->strings.data;
    s->strings_bytes = b->strings.count;
    s->records = b->records.data;
    s->updated = b->updated.count > 0 ? b->updated.data : NULL;
    s->values = b->values.data;
    s->values_count = b->values.count;
    rc = set_model(&bd, err, errlen);
    if (rc != ECIF_OK)
        goto out;

    /* Account attachment rewrites accounts_first/count: start clean so a
     * second write after a failed one gives the same result. */
    for (size_t i = 0; i < b->records.count; i++) {
        VEC_AT(b->records, struct rec_entry, i).accounts_first = 0;
        VEC_AT(b->records, struct rec_entry, i).account_count = 0;
    }
    rc = attach_accounts(&bd, err, errlen);
    if (rc != ECIF_OK)
        goto out;
    s->accounts = bd.accounts;
    s->account_count = (uint32_t)b->pending.count;

    if ((rc = build_index(&bd)) != ECIF_OK ||
        (rc = count_names(&bd)) != ECIF_OK ||
        (rc = sort_sources(&bd)) != ECIF_OK || (rc = cluster(&bd)) != ECIF_OK)
        goto fail_status;
    rc = number_customers(&bd, err, errlen);
    if (rc != ECIF_OK)
        goto out;
    s->customers = bd.customers;
    s->customer_count = bd.customer_count;
    s->members = bd.members;
    s->exposure = bd.exposure;
    s->exposure_count = bd.exposure_count;
    s->sources = bd.sources;

    progress(&bd, "write", 0, 1);
    rc = snapshot_write(s, path, &bytes, err, errlen);
    if (rc != ECIF_OK)
        goto out;
    progress(&bd, "write", 1, 1);
    if (stats != NULL) {
        stats->record_count = s->record_count;
        stats->customer_count = s->customer_count;
        stats->account_count = s->account_count;
        stats->key_count = s->key_count;
        stats->frequent_key_count = bd.frequent_keys;
        stats->bridge_count = bd.bridge_count;
        stats->distant_count = bd.distant_count;
        stats->kept_numbers = bd.kept_numbers;
        stats->retired_numbers = bd.retired_numbers;
        stats->snapshot_bytes = bytes;
    }
    goto out;
fail_status:
    rc = ecif_fail(rc, err, errlen, "building the index: %s",
                   ecif_status_str(rc));
out:
    build_free(&bd);
    return rc;
}
