/*
 * Read access to a store: lookups by customer number, source key and
 * blocking key, record and account views, and the integrity check run on
 * every loaded snapshot before it is used.
 *
 * A store view of a running server may carry a delta of added records
 * (delta.h). Each accessor reads the loaded tables first. It turns to the
 * delta only for an id past them, or when the delta changed the requested
 * customer, so a view without a delta pays only one extra branch.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <string.h>

#include "delta.h"
#include "layout.h"
#include "status.h"

void ecif_store_close(ecif_store_t *store)
{
    if (store == NULL)
        return;
    if (store->buffer != NULL)
        munmap(store->buffer, store->buffer_bytes);
    free(store->model_owned);
    free(store);
}

const struct ecif_model *ecif_store_model(const ecif_store_t *s)
{
    return s->model;
}

void ecif_store_get_info(const ecif_store_t *s, ecif_store_info_t *info)
{
    info->format_version = ECIF_SNAPSHOT_VERSION;
    info->shard_count = s->shard_count;
    info->record_count = s->record_count;
    info->customer_count = s->customer_count;
    info->account_count = s->account_count;
    if (s->delta != NULL) {
        /* Records added while serving, and the customers they created,
         * count too. */
        info->record_count += s->delta->count;
        info->customer_count += s->delta->overlay.new_customers;
        info->account_count += s->delta->account_count;
    }
    info->key_count = s->key_count;
    info->snapshot_bytes = s->buffer_bytes;
    info->loaded_with_io_uring = s->loaded_with_io_uring;
    info->mapped = s->mapped;
    info->pinned = s->pinned;
}

/* Finds a customer created by records added while serving. Such customers
 * have ids after the view's customers, in number order. */
static int find_new_customer(const ecif_store_t *s, const char *number,
                             uint32_t *customer)
{
    const struct delta_overlay *o = &s->delta->overlay;
    size_t lo = 0, hi = o->new_customers;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const struct delta_customer *c =
            delta_overlay_find(s->delta, s->customer_count + (uint32_t)mid);
        int cmp = strcmp(c->number, number);
        if (cmp == 0) {
            *customer = c->customer;
            return ECIF_OK;
        }
        if (cmp < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return ECIF_ENOTFOUND;
}

int ecif_store_find_customer(const ecif_store_t *s, const char *number,
                             uint32_t *customer)
{
    size_t lo = 0, hi = s->customer_count;

    if (number == NULL || strlen(number) != ECIF_CUSTOMER_NUMBER_LEN)
        return ECIF_ENOTFOUND;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int cmp = strcmp(s->customers[mid].number, number);
        if (cmp == 0) {
            *customer = (uint32_t)mid;
            return ECIF_OK;
        }
        if (cmp < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (s->delta != NULL && s->delta->overlay.new_customers > 0)
        return find_new_customer(s, number, customer);
    return ECIF_ENOTFOUND;
}

/* Orders records by (source_system, source_id). */
static int compare_source(const ecif_store_t *s, uint32_t record,
                          const char *system, const char *id)
{
    const struct rec_entry *r = &s->records[record];
    int cmp = strcmp(store_str(s, r->source_system), system);
    return cmp != 0 ? cmp : strcmp(store_str(s, r->source_id), id);
}

int ecif_store_find_record(const ecif_store_t *s, const char *source_system,
                           const char *source_id, uint32_t *record)
{
    size_t lo = 0, hi = s->record_count;

    if (source_system == NULL || source_id == NULL)
        return ECIF_ENOTFOUND;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int cmp = compare_source(s, s->sources[mid], source_system, source_id);
        if (cmp == 0) {
            *record = s->sources[mid];
            return ECIF_OK;
        }
        if (cmp < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (s->delta != NULL && s->delta->count > 0) {
        uint32_t r = delta_find_source(s->delta, source_system, source_id);
        if (r != DELTA_NONE) {
            *record = r;
            return ECIF_OK;
        }
    }
    return ECIF_ENOTFOUND;
}

bool store_parse_customer_number(const char *text, uint64_t *value)
{
    if (text == NULL || text[0] != 'C' ||
        strlen(text) != ECIF_CUSTOMER_NUMBER_LEN)
        return false;
    *value = 0;
    for (const char *p = text + 1; *p != '\0'; p++) {
        if (*p < '0' || *p > '9')
            return false;
        *value = *value * 10 + (uint64_t)(*p - '0');
    }
    return true;
}

int ecif_store_find_redirect(const ecif_store_t *s, const char *number,
                             char *survivor)
{
    uint64_t value;
    size_t lo = 0, hi = s->history_count;

    if (!store_parse_customer_number(number, &value))
        return ECIF_ENOTFOUND;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->history[mid].retired == value) {
            snprintf(survivor, ECIF_CUSTOMER_NUMBER_LEN + 1, "C%012llu",
                     (unsigned long long)s->history[mid].survivor);
            return ECIF_OK;
        }
        if (s->history[mid].retired < value)
            lo = mid + 1;
        else
            hi = mid;
    }
    return ECIF_ENOTFOUND;
}

size_t
ecif_store_customer_history(const ecif_store_t *s, uint32_t customer,
                            char (*numbers)[ECIF_CUSTOMER_NUMBER_LEN + 1],
                            size_t max)
{
    uint64_t value;
    size_t n = 0;

    if (!store_parse_customer_number(ecif_store_customer_number(s, customer),
                                     &value))
        return 0;
    /* NOTE: a linear scan; the table is sorted by retired number only. */
    for (uint64_t i = 0; i < s->history_count; i++) {
        if (s->history[i].survivor != value)
            continue;
        if (n < max)
            snprintf(numbers[n], ECIF_CUSTOMER_NUMBER_LEN + 1, "C%012llu",
                     (unsigned long long)s->history[i].retired);
        n++;
    }
    return n;
}

/* Returns the overlay entry of a customer, or NULL when the delta left it
 * as the view has it. */
static const struct delta_customer *overlay_of(const ecif_store_t *s,
                                               uint32_t customer)
{
    if (s->delta == NULL || s->delta->overlay.count == 0)
        return NULL;
    return delta_overlay_find(s->delta, customer);
}

const char *ecif_store_customer_number(const ecif_store_t *s, uint32_t customer)
{
    if (customer >= s->customer_count)
        return overlay_of(s, customer)->number;
    return s->customers[customer].number;
}

uint32_t ecif_store_record_customer(const ecif_store_t *s, uint32_t record)
{
    if (record >= s->record_count)
        return delta_record_at(s->delta, record)->customer;
    if (s->record_customers != NULL)
        return s->record_customers[record];
    return s->records[record].customer;
}

const uint32_t *ecif_store_customer_records(const ecif_store_t *s,
                                            uint32_t customer, uint32_t *count)
{
    const struct delta_customer *o = overlay_of(s, customer);
    if (o != NULL && o->members != NULL) {
        *count = o->member_count;
        return o->members;
    }
    const struct cust_entry *c = &s->customers[customer];
    *count = c->member_count;
    return s->members + c->members_first;
}

const struct rec_entry *store_delta_entry(const struct ecif_store *s,
                                          uint32_t record, const char **pool,
                                          const uint32_t **values)
{
    const struct delta_record *d = delta_record_at(s->delta, record);

    *pool = d->strings;
    *values = d->values;
    return &d->entry;
}

void ecif_store_get_record(const ecif_store_t *s, uint32_t record,
                           ecif_record_t *out)
{
    const char *pool;
    const uint32_t *v;
    const struct rec_entry *r = store_record(s, record, &pool, &v);

    memset(out, 0, sizeof(*out));
    out->source_system = pool + r->source_system;
    out->source_id = pool + r->source_id;
    out->name = pool + r->name;
    out->given_name = pool + r->given_name;
    out->family_name = pool + r->family_name;
    out->id_type = pool + r->id_type;
    out->id_number = pool + r->id_number;
    out->dob = pool + r->dob;
    out->gender = pool + r->gender;
    if (record >= s->record_count)
        out->updated_at = delta_record_at(s->delta, record)->updated;
    else if (s->updated != NULL)
        out->updated_at = s->updated[record];
    out->n_phones = r->n_phones;
    for (uint32_t i = 0; i < r->n_phones; i++)
        out->phones[i] = pool + *v++;
    out->n_emails = r->n_emails;
    for (uint32_t i = 0; i < r->n_emails; i++)
        out->emails[i] = pool + *v++;
    out->n_addresses = r->n_addresses;
    for (uint32_t i = 0; i < r->n_addresses; i++)
        out->addresses[i] = pool + *v++;
}

uint32_t ecif_store_record_quality(const ecif_store_t *s, uint32_t record)
{
    const char *pool;
    const uint32_t *v;
    return store_record(s, record, &pool, &v)->quality;
}

uint32_t ecif_store_record_account_count(const ecif_store_t *s, uint32_t record)
{
    const char *pool;
    const uint32_t *v;
    return store_record(s, record, &pool, &v)->account_count;
}

void ecif_store_get_account(const ecif_store_t *s, uint32_t record,
                            uint32_t index, ecif_account_t *out)
{
    const struct acct_entry *a;
    const char *pool = s->strings;

    if (record < s->record_count) {
        a = &s->accounts[s->records[record].accounts_first + index];
    } else {
        const struct delta_record *d = delta_record_at(s->delta, record);
        a = &d->accounts[index];
        pool = d->strings;
    }
    out->account_id = pool + a->account_id;
    out->product = pool + a->product;
    out->currency = pool + a->currency;
    out->branch = pool + a->branch;
    out->credit_limit = a->credit_limit;
    out->balance = a->balance;
}

uint32_t ecif_store_customer_exposure_count(const ecif_store_t *s,
                                            uint32_t customer)
{
    const struct delta_customer *o = overlay_of(s, customer);
    if (o != NULL)
        return o->exposure_count;
    return s->customers[customer].exposure_count;
}

void ecif_store_get_exposure(const ecif_store_t *s, uint32_t customer,
                             uint32_t index, ecif_exposure_total_t *out)
{
    const struct delta_customer *o = overlay_of(s, customer);
    if (o != NULL) {
        *out = o->exposure[index];
        return;
    }
    const struct exposure_entry *e =
        &s->exposure[s->customers[customer].exposure_first + index];

    out->product = store_str(s, e->product);
    out->currency = store_str(s, e->currency);
    out->credit_limit = e->credit_limit;
    out->balance = e->balance;
    out->account_count = e->account_count;
}

/* Returns the slot of a key, or NULL when the key is absent. */
static const struct slot_entry *find_slot(const struct ecif_store *s,
                                          uint64_t hash)
{
    uint32_t shard =
        s->shard_shift >= 64 ? 0 : (uint32_t)(hash >> s->shard_shift);
    const struct shard_entry *sh = &s->shards[shard];
    if (sh->capacity == 0)
        return NULL;
    uint32_t tag = key_tag(hash);
    uint32_t i = slot_home(hash, sh->capacity);
    for (uint32_t probes = 0; probes < sh->capacity;
         probes++, i = i + 1 == sh->capacity ? 0 : i + 1) {
        const struct slot_entry *slot = &s->slots[sh->slots_first + i];
        if (slot->key_tag == 0)
            return NULL;
        if (slot->key_tag == tag)
            return slot;
    }
    return NULL;
}

const uint32_t *store_lookup_key(const struct ecif_store *s, uint64_t hash,
                                 uint32_t *count)
{
    const struct slot_entry *slot = find_slot(s, hash);

    *count = 0;
    if (slot == NULL || slot->postings_count == 0)
        return NULL;
    *count = slot->postings_count;
    if (slot->postings_count == 1)
        return &slot->postings_first; /* the record id itself */
    return s->postings + slot->postings_first;
}

uint32_t store_name_count(const struct ecif_store *s, uint64_t name_hash)
{
    size_t lo = 0, hi = s->names_count;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->names[mid].name_hash == name_hash)
            return s->names[mid].count;
        if (s->names[mid].name_hash < name_hash)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 1;
}

bool store_key_frequent(const struct ecif_store *s, uint64_t hash)
{
    const struct slot_entry *slot = find_slot(s, hash);
    return slot != NULL && slot->postings_first == SLOT_FREQUENT;
}
