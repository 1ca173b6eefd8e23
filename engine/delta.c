/*
 * The delta of added records: their storage, the source-key and
 * blocking-key tables that find them, and the customer overlay.
 *
 * Everything here is sized by the adds. A record is one allocation. The
 * tables grow by doubling in delta_reserve(), which the writer calls before
 * the journal entry is written. So the step that publishes an add
 * (delta_append, delta_overlay_put) cannot fail halfway.
 */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "delta.h"
#include "hash.h"
#include "status.h"

/* ---- Hash tables ------------------------------------------------------ */

static uint32_t map_home(uint64_t key, uint32_t cap)
{
    return (uint32_t)((key * 0x9e3779b97f4a7c15ULL) >> 32) & (cap - 1);
}

/* Grows m so that need more entries keep its load at one half or less. */
static int map_reserve(struct delta_map *m, uint32_t need)
{
    if ((uint64_t)(m->used + need) * 2 <= m->cap)
        return ECIF_OK;
    uint32_t cap = m->cap ? m->cap : 64;
    while ((uint64_t)(m->used + need) * 2 > cap)
        cap *= 2;
    uint64_t *keys = malloc(cap * sizeof(*keys));
    uint32_t *values = malloc(cap * sizeof(*values));
    if (keys == NULL || values == NULL) {
        free(keys);
        free(values);
        return ECIF_ENOMEM;
    }
    memset(values, 0xff, cap * sizeof(*values));
    for (uint32_t i = 0; i < m->cap; i++) {
        if (m->values[i] == DELTA_NONE)
            continue;
        uint32_t s = map_home(m->keys[i], cap);
        while (values[s] != DELTA_NONE)
            s = (s + 1) & (cap - 1);
        keys[s] = m->keys[i];
        values[s] = m->values[i];
    }
    free(m->keys);
    free(m->values);
    m->keys = keys;
    m->values = values;
    m->cap = cap;
    return ECIF_OK;
}

/* Returns the slot of key, or of the empty slot where it would go. */
static uint32_t map_slot(const struct delta_map *m, uint64_t key)
{
    uint32_t s = map_home(key, m->cap);
    while (m->values[s] != DELTA_NONE && m->keys[s] != key)
        s = (s + 1) & (m->cap - 1);
    return s;
}

static uint32_t map_get(const struct delta_map *m, uint64_t key)
{
    return m->cap == 0 ? DELTA_NONE : m->values[map_slot(m, key)];
}

/* Sets key to value. The caller has reserved room. */
static void map_set(struct delta_map *m, uint64_t key, uint32_t value)
{
    uint32_t s = map_slot(m, key);

    assert(m->cap > 0);
    assert(value != DELTA_NONE);
    if (m->values[s] == DELTA_NONE)
        m->used++;
    m->keys[s] = key;
    m->values[s] = value;
}

static void map_free(struct delta_map *m)
{
    free(m->keys);
    free(m->values);
    memset(m, 0, sizeof(*m));
}

/* Grows an array of item-sized elements to hold need more. */
static int grow(void **data, uint32_t *cap, uint32_t count, uint32_t need,
                size_t item)
{
    if ((uint64_t)count + need <= *cap)
        return ECIF_OK;
    uint64_t want = (uint64_t)*cap * 2 + 16;
    if (want < (uint64_t)count + need)
        want = (uint64_t)count + need;
    if (want > UINT32_MAX - 1)
        return ECIF_ELIMIT;
    void *p = realloc(*data, want * item);
    if (p == NULL)
        return ECIF_ENOMEM;
    *data = p;
    *cap = (uint32_t)want;
    return ECIF_OK;
}

/* Hashes a source key to one 64-bit value. Lookups compare the strings,
 * so equal hashes of different keys probe on. */
static uint64_t source_hash(const char *system, const char *id)
{
    uint64_t h = ecif_hash64(system, strlen(system), 0x53);
    return ecif_hash64(id, strlen(id), h) | 1;
}

/* ---- Create and free -------------------------------------------------- */

struct store_delta *delta_create(uint32_t base_records)
{
    struct store_delta *d = calloc(1, sizeof(*d));

    if (d != NULL)
        d->base_records = base_records;
    return d;
}

void delta_customer_free(struct delta_customer *c)
{
    if (c == NULL)
        return;
    free(c->members);
    free(c->exposure);
    free(c);
}

void delta_record_free(struct delta_record *r)
{
    free(r); /* strings, values and accounts live in the same block */
}

void delta_destroy(struct store_delta *d)
{
    if (d == NULL)
        return;
    for (uint32_t i = 0; i < d->count; i++)
        delta_record_free(d->records[i]);
    delta_overlay_fini(&d->overlay);
    free(d->records);
    free(d->postings);
    map_free(&d->sources);
    map_free(&d->keys);
    free(d);
}

/* ---- Building an added record ----------------------------------------- */

/* A string pool under construction inside the record's block. */
struct pool {
    char *data;
    size_t used;
    size_t cap;
};

static uint32_t pool_put(struct pool *p, const char *s)
{
    size_t len = s != NULL ? strlen(s) : 0;

    if (len == 0)
        return 0;
    assert(p->used + len + 1 <= p->cap);
    memcpy(p->data + p->used, s, len + 1);
    p->used += len + 1;
    return (uint32_t)(p->used - len - 1);
}

static size_t str_bytes(const char *s)
{
    return s != NULL && s[0] != '\0' ? strlen(s) + 1 : 0;
}

struct delta_record *delta_record_create(const struct ecif_store *base,
                                         const ecif_record_t *rec,
                                         const ecif_account_t *accounts,
                                         uint32_t account_count)
{
    match_buffer_t buf;
    match_view_t v;
    uint8_t kp[ECIF_MAX_VALUES], ke[ECIF_MAX_VALUES], ka[ECIF_MAX_VALUES];

    match_normalize(rec, &buf, &v, kp, ke, ka);
    char dob[16];
    const char *texts[] = {
        rec->source_system,
        rec->source_id,
        rec->name,
        rec->given_name,
        rec->family_name,
        rec->id_type,
        rec->id_number,
        ecif_dob_text(rec->dob, v.dob, dob),
        rec->gender,
        v.name,
        v.given,
        v.family,
        v.han,
        v.name_key,
        v.name_key_fuzzy,
        v.id,
    };
    size_t nt = sizeof(texts) / sizeof(texts[0]);
    uint32_t np = v.n_phones, ne = v.n_emails, na = v.n_addresses;
    size_t bytes = 1;
    for (size_t i = 0; i < nt; i++)
        bytes += str_bytes(texts[i]);
    for (uint32_t i = 0; i < np; i++)
        bytes += str_bytes(rec->phones[kp[i]]) + str_bytes(v.phones[i]);
    for (uint32_t i = 0; i < ne; i++)
        bytes += str_bytes(rec->emails[ke[i]]) + str_bytes(v.emails[i]);
    for (uint32_t i = 0; i < na; i++)
        bytes += str_bytes(rec->addresses[ka[i]]) + str_bytes(v.addresses[i]);
    for (uint32_t i = 0; i < account_count; i++)
        bytes +=
            str_bytes(accounts[i].account_id) + str_bytes(accounts[i].product) +
            str_bytes(accounts[i].currency) + str_bytes(accounts[i].branch);

    size_t nvalues = 2 * (size_t)(np + ne + na);
    size_t head = sizeof(struct delta_record);
    size_t acct_bytes = account_count * sizeof(struct acct_entry);
    size_t value_bytes = (nvalues ? nvalues : 1) * sizeof(uint32_t);
    struct delta_record *r = calloc(1, head + acct_bytes + value_bytes + bytes);
    if (r == NULL)
        return NULL;
    struct acct_entry *accts = (struct acct_entry *)(r + 1);
    uint32_t *values = (uint32_t *)((char *)accts + acct_bytes);
    struct pool pool = {(char *)values + value_bytes, 1, bytes};
    pool.data[0] = '\0';

    struct rec_entry *e = &r->entry;
    uint32_t *offs[] = {
        &e->source_system, &e->source_id, &e->name,           &e->given_name,
        &e->family_name,   &e->id_type,   &e->id_number,      &e->dob,
        &e->gender,        &e->norm_name, &e->norm_given,     &e->norm_family,
        &e->norm_han,      &e->name_key,  &e->name_key_fuzzy, &e->norm_id,
    };
    for (size_t i = 0; i < nt; i++)
        *offs[i] = pool_put(&pool, texts[i]);
    /* Raw values where normalization kept them, then the normalized ones,
     * as a snapshot lays them out. */
    size_t k = 0;
    for (uint32_t i = 0; i < np; i++)
        values[k++] = pool_put(&pool, rec->phones[kp[i]]);
    for (uint32_t i = 0; i < ne; i++)
        values[k++] = pool_put(&pool, rec->emails[ke[i]]);
    for (uint32_t i = 0; i < na; i++)
        values[k++] = pool_put(&pool, rec->addresses[ka[i]]);
    for (uint32_t i = 0; i < np; i++)
        values[k++] = pool_put(&pool, v.phones[i]);
    for (uint32_t i = 0; i < ne; i++)
        values[k++] = pool_put(&pool, v.emails[i]);
    for (uint32_t i = 0; i < na; i++)
        values[k++] = pool_put(&pool, v.addresses[i]);
    for (uint32_t i = 0; i < account_count; i++) {
        accts[i].account_id = pool_put(&pool, accounts[i].account_id);
        accts[i].product = pool_put(&pool, accounts[i].product);
        accts[i].currency = pool_put(&pool, accounts[i].currency);
        accts[i].branch = pool_put(&pool, accounts[i].branch);
        accts[i].credit_limit = accounts[i].credit_limit;
        accts[i].balance = accounts[i].balance;
    }
    e->n_phones = (uint8_t)np;
    e->n_emails = (uint8_t)ne;
    e->n_addresses = (uint8_t)na;
    e->account_count = account_count;
    e->dob_ymd = v.dob;
    e->flags = (v.dob_valid ? REC_DOB_VALID : 0) |
               (v.id_valid_resident ? REC_ID_VALID_RESIDENT : 0);
    e->gender_code = (uint8_t)v.gender;
    e->id_kind = v.id_kind;
    e->suffix = v.suffix;
    e->quality = v.quality;
    r->strings = pool.data;
    r->values = values;
    r->accounts = accts;
    r->customer = DELTA_NONE;
    r->updated = (uint32_t)rec->updated_at;

    /* The builder does not index a key that the loaded store marks
     * frequent, so the delta does not either. */
    uint64_t keys[MAX_RECORD_KEYS];
    size_t nk = match_keys(&v, keys, MAX_RECORD_KEYS, NULL);
    for (size_t i = 0; i < nk; i++) {
        if (!store_key_frequent(base, keys[i]))
            r->keys[r->key_count++] = keys[i];
    }
    return r;
}

/* ---- Appending and finding ---------------------------------------------- */

int delta_reserve(struct store_delta *d, uint32_t key_count,
                  uint32_t overlay_extra)
{
    int rc;

    if ((rc = grow((void **)&d->records, &d->cap, d->count, 1,
                   sizeof(*d->records))) != ECIF_OK ||
        (rc = grow((void **)&d->postings, &d->postings_cap, d->postings_count,
                   key_count, sizeof(*d->postings))) != ECIF_OK ||
        (rc = grow((void **)&d->overlay.entries, &d->overlay.cap,
                   d->overlay.count, overlay_extra,
                   sizeof(*d->overlay.entries))) != ECIF_OK ||
        (rc = map_reserve(&d->sources, 1)) != ECIF_OK ||
        (rc = map_reserve(&d->keys, key_count)) != ECIF_OK ||
        (rc = map_reserve(&d->overlay.index, overlay_extra)) != ECIF_OK)
        return rc;
    return ECIF_OK;
}

uint32_t delta_append(struct store_delta *d, struct delta_record *r)
{
    uint32_t index = d->count;

    assert(d->count < d->cap);
    assert(d->postings_count + r->key_count <= d->postings_cap);
    d->records[d->count++] = r;
    d->account_count += r->entry.account_count;

    /* Equal source hashes of different keys take the next free slot. */
    uint64_t h = source_hash(r->strings + r->entry.source_system,
                             r->strings + r->entry.source_id);
    while (map_get(&d->sources, h) != DELTA_NONE)
        h = h * 0x100000001b3ULL | 1;
    map_set(&d->sources, h, index);

    for (uint32_t k = 0; k < r->key_count; k++) {
        uint32_t p = d->postings_count++;
        d->postings[p].record = index;
        d->postings[p].next = map_get(&d->keys, r->keys[k]);
        map_set(&d->keys, r->keys[k], p);
    }
    return d->base_records + index;
}

uint32_t delta_find_source(const struct store_delta *d,
                           const char *source_system, const char *source_id)
{
    uint64_t h = source_hash(source_system, source_id);

    for (;;) {
        uint32_t i = map_get(&d->sources, h);
        if (i == DELTA_NONE)
            return DELTA_NONE;
        const struct delta_record *r = d->records[i];
        if (strcmp(r->strings + r->entry.source_system, source_system) == 0 &&
            strcmp(r->strings + r->entry.source_id, source_id) == 0)
            return d->base_records + i;
        h = h * 0x100000001b3ULL | 1;
    }
}

uint32_t delta_key_first(const struct store_delta *d, uint64_t hash)
{
    return map_get(&d->keys, hash);
}

/* ---- Customer overlay ------------------------------------------------- */

const struct delta_customer *delta_overlay_find(const struct store_delta *d,
                                                uint32_t customer)
{
    uint32_t i = map_get(&d->overlay.index, (uint64_t)customer + 1);
    return i == DELTA_NONE ? NULL : d->overlay.entries[i];
}

struct exposure_item {
    const char *product;
    const char *currency;
    int64_t credit_limit;
    int64_t balance;
};

/* Orders items as exposure totals list them (ecif_exposure_order). */
static int compare_items(const void *pa, const void *pb)
{
    const struct exposure_item *a = pa, *b = pb;
    return ecif_exposure_order(a->product, a->currency, b->product,
                               b->currency);
}

/* Copies up to max accounts of record r of s into out (which may be NULL)
 * and returns the record's account count. r may be the id pending will
 * get. */
static uint32_t accounts_of(const struct ecif_store *s,
                            const struct delta_record *pending, uint32_t r,
                            ecif_account_t *out, uint32_t max)
{
    uint32_t pending_id = s->delta != NULL
                              ? s->delta->base_records + s->delta->count
                              : DELTA_NONE;

    if (pending != NULL && r == pending_id) {
        uint32_t n = pending->entry.account_count;
        for (uint32_t a = 0; a < n && out != NULL && a < max; a++) {
            const struct acct_entry *e = &pending->accounts[a];
            out[a] =
                (ecif_account_t){.account_id = pending->strings + e->account_id,
                                 .product = pending->strings + e->product,
                                 .currency = pending->strings + e->currency,
                                 .branch = pending->strings + e->branch,
                                 .credit_limit = e->credit_limit,
                                 .balance = e->balance};
        }
        return n;
    }
    uint32_t n = ecif_store_record_account_count(s, r);
    for (uint32_t a = 0; a < n && out != NULL && a < max; a++)
        ecif_store_get_account(s, r, a, &out[a]);
    return n;
}

int delta_customer_create(const struct ecif_store *s, uint32_t customer,
                          const char *number, const uint32_t *members,
                          uint32_t member_count,
                          const struct delta_record *pending,
                          struct delta_customer **out)
{
    struct delta_customer *c = calloc(1, sizeof(*c));
    size_t n = 0;

    *out = NULL;
    if (c == NULL)
        return ECIF_ENOMEM;
    c->customer = customer;
    snprintf(c->number, sizeof(c->number), "%s", number);
    c->member_count = member_count;
    c->members = malloc((member_count ? member_count : 1) * sizeof(uint32_t));
    for (uint32_t m = 0; m < member_count; m++)
        n += accounts_of(s, pending, members[m], NULL, 0);
    ecif_account_t *accts = malloc((n ? n : 1) * sizeof(*accts));
    struct exposure_item *items = malloc((n ? n : 1) * sizeof(*items));
    c->exposure = malloc((n ? n : 1) * sizeof(*c->exposure));
    if (c->members == NULL || items == NULL || accts == NULL ||
        c->exposure == NULL) {
        free(items);
        free(accts);
        delta_customer_free(c);
        return ECIF_ENOMEM;
    }
    memcpy(c->members, members, member_count * sizeof(uint32_t));
    size_t got = 0;
    for (uint32_t m = 0; m < member_count; m++)
        got += accounts_of(s, pending, members[m], accts + got,
                           (uint32_t)(n - got));
    for (size_t i = 0; i < n; i++)
        items[i] =
            (struct exposure_item){accts[i].product, accts[i].currency,
                                   accts[i].credit_limit, accts[i].balance};
    free(accts);
    if (n > 1)
        qsort(items, n, sizeof(*items), compare_items);

    for (size_t i = 0; i < n; i++) {
        if (i == 0 || !ecif_exposure_same_total(
                          items[i - 1].product, items[i - 1].currency,
                          items[i].product, items[i].currency))
            c->exposure[c->exposure_count++] = (ecif_exposure_total_t){
                .product = items[i].product, .currency = items[i].currency};
        ecif_exposure_total_t *t = &c->exposure[c->exposure_count - 1];
        t->account_count++;
        /* Each amount is within ECIF_AMOUNT_MAX, but about 920 accounts at
         * that bound already overflow one int64 total. */
        if (ecif_amount_add(&t->credit_limit, items[i].credit_limit) !=
                ECIF_OK ||
            ecif_amount_add(&t->balance, items[i].balance) != ECIF_OK) {
            free(items);
            delta_customer_free(c);
            return ECIF_ELIMIT;
        }
    }
    free(items);
    *out = c;
    return ECIF_OK;
}

void delta_overlay_put(struct store_delta *d, struct delta_customer *c)
{
    struct delta_overlay *o = &d->overlay;
    uint64_t key = (uint64_t)c->customer + 1;
    uint32_t i = map_get(&o->index, key);

    if (i != DELTA_NONE) {
        delta_customer_free(o->entries[i]);
        o->entries[i] = c;
        return;
    }
    assert(o->count < o->cap);
    if (c->customer >= o->view_customers)
        o->new_customers++;
    o->entries[o->count] = c;
    map_set(&o->index, key, o->count);
    o->count++;
}

int delta_overlay_init(struct delta_overlay *o, struct delta_customer **entries,
                       uint32_t count, uint32_t view_customers)
{
    memset(o, 0, sizeof(*o));
    o->entries = entries;
    o->count = count;
    o->cap = count;
    o->view_customers = view_customers;
    if (map_reserve(&o->index, count) != ECIF_OK) {
        delta_overlay_fini(o);
        return ECIF_ENOMEM;
    }
    for (uint32_t i = 0; i < count; i++) {
        map_set(&o->index, (uint64_t)entries[i]->customer + 1, i);
        if (entries[i]->customer >= view_customers)
            o->new_customers++;
    }
    return ECIF_OK;
}

void delta_overlay_fini(struct delta_overlay *o)
{
    for (uint32_t i = 0; i < o->count; i++)
        delta_customer_free(o->entries[i]);
    free(o->entries);
    map_free(&o->index);
    memset(o, 0, sizeof(*o));
}

void delta_overlay_swap(struct store_delta *d, struct delta_overlay *o)
{
    delta_overlay_fini(&d->overlay);
    d->overlay = *o;
    memset(o, 0, sizeof(*o));
}

int delta_compare_source(const struct ecif_store *s, uint32_t a, uint32_t b)
{
    ecif_record_t ra, rb;

    ecif_store_get_record(s, a, &ra);
    ecif_store_get_record(s, b, &rb);
    int cmp = strcmp(ra.source_system, rb.source_system);
    return cmp != 0 ? cmp : strcmp(ra.source_id, rb.source_id);
}
