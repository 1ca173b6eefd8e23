/*
 * Manual corrections and added records: the state behind merge, split,
 * not-same and add, and the store views that publish it.
 *
 * The state is the customer number of every record (record_number), plus
 * the history, links and next number of the current view. record_number
 * is filled on the first correction, so a server that is never corrected
 * spends no memory or start time on it.
 *
 * A correction changes record_number in place, builds new history and
 * link arrays, materializes a new view from them, appends the journal
 * entry, and only then publishes the view. On any failure it puts
 * record_number back, so a failed call changes nothing.
 *
 * Materializing a view costs O(records + accounts of changed customers +
 * links): customers of the new view whose members are those of the
 * loaded store keep its exposure rows, the others are summed again.
 *
 * Added records live in the delta (delta.h), which every view shares. An
 * add changes only the delta: the record, its keys and the overlay entry
 * of the one customer it joins or creates. A correction folds the
 * delta's customers into the view it builds: added records become
 * members of the new customer tables, and the customers containing them get
 * overlay entries for their exposure, whose strings live in the delta.
 *
 * Readers hold the reader-writer lock for reading for the length of a
 * call. Writers are serialized by write_lock. They prepare everything and
 * write the journal without blocking readers, and take the lock for
 * writing only to publish (engine/LIVE_ADDS.md).
 */
#include <assert.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "corrections.h"
#include "delta.h"
#include "hash.h"
#include "history.h"
#include "layout.h"
#include "resolve.h"
#include "status.h"

/* A published store and the arrays it owns. store is the first member,
 * so a view's address is its store's. */
struct view {
    struct ecif_store store;
    uint32_t *record_customers;
    uint32_t *delta_customers;    /* customer of each added record */
    uint32_t delta_count;         /* added records the view was built on */
    struct delta_overlay overlay; /* moved into the delta at publish */
    struct cust_entry *customers;
    uint32_t *members;
    struct exposure_entry *exposure;
    struct number_redirect *history;
    uint32_t *history_origins;
    struct correction_link *links;
};

/*
 * An index of the accounts of every record by (source system, account
 * id). It keeps an add from giving a second record an account that another
 * record has, which import rejects and which would count the account in
 * two customers.
 * Open addressing with linear probing. A slot stores the key's hash (0 is
 * empty) and the record of the account, whose account list is compared to
 * tell keys with one hash apart. It is built at the first add that has
 * accounts, so a server that takes none spends no memory or time on it,
 * and write_lock guards it.
 */
struct account_index {
    uint64_t *hashes;
    uint32_t *records;
    uint32_t cap; /* a power of two, or 0 before the first build */
    uint32_t used;
};

/* A retired number, a record that carried it, and a record that carried
 * the survivor's number then. ECIF_NO_ORIGIN marks an unknown record, as
 * survivor_record is for numbers read from the snapshot. */
struct retired_origin {
    uint64_t retired;
    uint32_t record;
    uint32_t survivor_record;
    uint64_t survivor; /* the number survivor_record carried, or 0 */
};

static int compare_origins(const void *pa, const void *pb)
{
    const struct retired_origin *a = pa, *b = pb;
    return a->retired < b->retired ? -1 : (a->retired > b->retired);
}

struct ecif_corrections {
    const struct ecif_store *base;
    pthread_mutex_t write_lock; /* serializes writers, guards all below */
    /* Held for reading by every call and for writing to publish. current,
     * the delta and current->store change only under it. */
    pthread_rwlock_t rw;
    struct view *current;
    uint64_t *record_number; /* of loaded records, see delta_record */
    struct store_delta *delta;
    ecif_journal_t *journal;
    /* One event per entry applied. It grows and is appended to only
     * under rw held for writing, so readers holding a view may scan it. */
    ecif_history_t history;
    struct account_index accounts;
    /* Each retired number with one record that carried it, read from the
     * snapshot's history or taken by own_record when a Merge retires it.
     * A Split that moves that record points the number at the new
     * customer, so the number follows its person. Guarded by write_lock. */
    struct retired_origin *origins;
    size_t origin_count; /* sorted by retired number, each once */
    size_t origin_cap;
};

/* Returns the customer number a correction in progress gives a record. */
static uint64_t number_of(const ecif_corrections_t *c, uint32_t record)
{
    if (record < c->base->record_count)
        return c->record_number[record];
    return c->delta->records[record - c->base->record_count]->number;
}

static void set_number(ecif_corrections_t *c, uint32_t record, uint64_t number)
{
    if (record < c->base->record_count)
        c->record_number[record] = number;
    else
        c->delta->records[record - c->base->record_count]->number = number;
}

/* ---- Views ------------------------------------------------------------ */

static void view_free(struct view *v)
{
    free(v->record_customers);
    free(v->delta_customers);
    delta_overlay_fini(&v->overlay);
    free(v->customers);
    free(v->members);
    free(v->exposure);
    free(v->history);
    free(v->history_origins);
    free(v->links);
    free(v);
}

static int compare_u64(const void *pa, const void *pb)
{
    uint64_t a = *(const uint64_t *)pa, b = *(const uint64_t *)pb;
    return a < b ? -1 : (a > b);
}

/* True when customer c of the new view has exactly the members of a
 * customer of the base store, whose id is written to *old. */
static bool same_as_base(const struct ecif_store *base, const struct view *v,
                         uint32_t c, uint32_t *old)
{
    const struct cust_entry *ce = &v->customers[c];

    if (ce->member_count > 0 &&
        v->members[ce->members_first + ce->member_count - 1] >=
            base->record_count)
        return false; /* contains an added record */
    if (ecif_store_find_customer(base, ce->number, old) != ECIF_OK ||
        base->customers[*old].member_count != ce->member_count)
        return false;
    for (uint32_t m = 0; m < ce->member_count; m++) {
        uint32_t r = v->members[ce->members_first + m];
        if (base->records[r].customer != *old)
            return false;
    }
    return true;
}

struct exposure_item {
    uint32_t product;
    uint32_t currency;
    int64_t credit_limit;
    int64_t balance;
};

/* Orders items as exposure totals list them (ecif_exposure_order). */
static int compare_items(const void *pa, const void *pb, void *arg)
{
    const struct exposure_item *a = pa, *b = pb;
    const char *pool = arg;
    return ecif_exposure_order(pool + a->product, pool + a->currency,
                               pool + b->product, pool + b->currency);
}

/*
 * Sums the exposure of customer c of v from its members' accounts,
 * appending rows to rows (capacity rows_cap, grown as needed) at *count.
 */
static int sum_exposure(const struct ecif_store *base, struct view *v,
                        uint32_t c, struct exposure_entry **rows,
                        size_t *rows_cap, size_t *count)
{
    struct cust_entry *ce = &v->customers[c];
    size_t n = 0;

    for (uint32_t m = 0; m < ce->member_count; m++)
        n += base->records[v->members[ce->members_first + m]].account_count;
    struct exposure_item *items = malloc((n ? n : 1) * sizeof(*items));
    if (items == NULL)
        return ECIF_ENOMEM;
    n = 0;
    for (uint32_t m = 0; m < ce->member_count; m++) {
        const struct rec_entry *r =
            &base->records[v->members[ce->members_first + m]];
        for (uint32_t a = 0; a < r->account_count; a++) {
            const struct acct_entry *acct =
                &base->accounts[r->accounts_first + a];
            items[n++] =
                (struct exposure_item){acct->product, acct->currency,
                                       acct->credit_limit, acct->balance};
        }
    }
    if (n > 1)
        qsort_r(items, n, sizeof(*items), compare_items, (void *)base->strings);

    ce->exposure_first = (uint32_t)*count;
    ce->exposure_count = 0;
    for (size_t i = 0; i < n; i++) {
        const char *pool = base->strings;
        if (i == 0 || !ecif_exposure_same_total(pool + items[i].product,
                                                pool + items[i].currency,
                                                pool + items[i - 1].product,
                                                pool + items[i - 1].currency)) {
            if (*count == *rows_cap) {
                size_t cap = *rows_cap * 2 + 16;
                struct exposure_entry *grown =
                    realloc(*rows, cap * sizeof(**rows));
                if (grown == NULL) {
                    free(items);
                    return ECIF_ENOMEM;
                }
                *rows = grown;
                *rows_cap = cap;
            }
            memset(&(*rows)[*count], 0, sizeof(**rows));
            (*rows)[*count].product = items[i].product;
            (*rows)[*count].currency = items[i].currency;
            (*count)++;
            ce->exposure_count++;
        }
        struct exposure_entry *e = &(*rows)[*count - 1];
        e->account_count++;
        /* A merge sums accounts never summed together before, and about
         * 920 accounts at ECIF_AMOUNT_MAX already overflow an int64. */
        if (ecif_amount_add(&e->credit_limit, items[i].credit_limit) !=
                ECIF_OK ||
            ecif_amount_add(&e->balance, items[i].balance) != ECIF_OK) {
            free(items);
            return ECIF_ELIMIT;
        }
    }
    free(items);
    return ECIF_OK;
}

static int compare_by_source(const void *pa, const void *pb, void *arg)
{
    return delta_compare_source(arg, *(const uint32_t *)pa,
                                *(const uint32_t *)pb);
}

/*
 * Sorts the members of customer k of v, which contains added records,
 * into source-key order and appends an overlay entry with its exposure to
 * entries at *count.
 */
static int fold_added(struct view *v, uint32_t k,
                      struct delta_customer **entries, uint32_t *count)
{
    struct cust_entry *ce = &v->customers[k];
    uint32_t *members = v->members + ce->members_first;

    if (ce->member_count > 1)
        qsort_r(members, ce->member_count, sizeof(uint32_t), compare_by_source,
                &v->store);
    struct delta_customer *d;
    int rc = delta_customer_create(&v->store, k, ce->number, members,
                                   ce->member_count, NULL, &d);
    if (rc != ECIF_OK)
        return rc;
    free(d->members); /* the view's member list is used instead */
    d->members = NULL;
    entries[(*count)++] = d;
    ce->exposure_first = 0;
    ce->exposure_count = 0;
    return ECIF_OK;
}

/* Fills the customers, members and exposure of v from the record
 * numbers of c, over the loaded and the added records. */
static int view_fill_customers(ecif_corrections_t *cs, struct view *v)
{
    const struct ecif_store *base = cs->base;
    uint32_t nb = base->record_count, nd = cs->delta->count;
    uint32_t n = nb + nd;
    uint64_t *numbers = malloc((n ? n : 1) * sizeof(uint64_t));
    struct delta_customer **entries = NULL;
    uint32_t folded = 0;
    size_t k = 0, rows_cap = 0, rows = 0;
    int rc = ECIF_ENOMEM;

    v->record_customers = malloc((nb ? nb : 1) * sizeof(uint32_t));
    v->delta_customers = malloc((nd ? nd : 1) * sizeof(uint32_t));
    v->delta_count = nd;
    v->members = malloc((n ? n : 1) * sizeof(uint32_t));
    if (numbers == NULL || v->record_customers == NULL ||
        v->delta_customers == NULL || v->members == NULL)
        goto out;
    for (uint32_t r = 0; r < n; r++)
        numbers[r] = number_of(cs, r);
    if (n > 1)
        qsort(numbers, n, sizeof(uint64_t), compare_u64);
    for (uint32_t i = 0; i < n; i++) {
        if (k == 0 || numbers[k - 1] != numbers[i])
            numbers[k++] = numbers[i];
    }
    v->customers = calloc(k ? k : 1, sizeof(*v->customers));
    entries = calloc(k ? k : 1, sizeof(*entries));
    if (v->customers == NULL || entries == NULL)
        goto out;
    for (uint32_t r = 0; r < n; r++) {
        uint64_t number = number_of(cs, r);
        uint64_t *hit =
            bsearch(&number, numbers, k, sizeof(uint64_t), compare_u64);
        assert(hit != NULL);
        if (r < nb)
            v->record_customers[r] = (uint32_t)(hit - numbers);
        else
            v->delta_customers[r - nb] = (uint32_t)(hit - numbers);
        v->customers[hit - numbers].member_count++;
    }
    uint32_t offset = 0;
    for (size_t c = 0; c < k; c++) {
        struct cust_entry *ce = &v->customers[c];
        snprintf(ce->number, sizeof(ce->number), "C%012llu",
                 (unsigned long long)numbers[c]);
        ce->members_first = offset;
        offset += ce->member_count;
        ce->member_count = 0;
    }
    /* Members in source-key order, as a snapshot keeps them. Added
     * records go last, and fold_added sorts the customers containing them. */
    for (uint32_t i = 0; i < nb; i++) {
        uint32_t r = base->sources[i];
        struct cust_entry *ce = &v->customers[v->record_customers[r]];
        v->members[ce->members_first + ce->member_count++] = r;
    }
    for (uint32_t i = 0; i < nd; i++) {
        struct cust_entry *ce = &v->customers[v->delta_customers[i]];
        v->members[ce->members_first + ce->member_count++] = nb + i;
    }
    v->store.customers = v->customers;
    v->store.customer_count = (uint32_t)k;
    v->store.members = v->members;
    for (size_t c = 0; c < k; c++) {
        uint32_t old;
        const struct cust_entry *ce = &v->customers[c];
        if (ce->member_count > 0 &&
            v->members[ce->members_first + ce->member_count - 1] >= nb) {
            if ((rc = fold_added(v, (uint32_t)c, entries, &folded)) != ECIF_OK)
                goto out;
            continue;
        }
        if (!same_as_base(base, v, (uint32_t)c, &old)) {
            rc = sum_exposure(base, v, (uint32_t)c, &v->exposure, &rows_cap,
                              &rows);
            if (rc != ECIF_OK)
                goto out;
            continue;
        }
        const struct cust_entry *oe = &base->customers[old];
        if (rows + oe->exposure_count > rows_cap) {
            size_t cap = (rows + oe->exposure_count) * 2 + 16;
            struct exposure_entry *grown =
                realloc(v->exposure, cap * sizeof(*grown));
            if (grown == NULL) {
                rc = ECIF_ENOMEM;
                goto out;
            }
            v->exposure = grown;
            rows_cap = cap;
        }
        if (oe->exposure_count > 0)
            memcpy(&v->exposure[rows], &base->exposure[oe->exposure_first],
                   oe->exposure_count * sizeof(*v->exposure));
        v->customers[c].exposure_first = (uint32_t)rows;
        v->customers[c].exposure_count = oe->exposure_count;
        rows += oe->exposure_count;
    }
    v->store.exposure = v->exposure;
    v->store.exposure_count = (uint32_t)rows;
    v->store.record_customers = v->record_customers;
    rc = delta_overlay_init(&v->overlay, entries, folded, (uint32_t)k);
    entries = NULL;
out:
    if (entries != NULL) {
        for (uint32_t i = 0; i < folded; i++)
            delta_customer_free(entries[i]);
        free(entries);
    }
    free(numbers);
    return rc;
}

/* Fills the view's history_origins from c->origins and pending (the
 * retirement of the Merge being applied, or NULL), so that an import over
 * the view keeps the record of each retired number. */
static int view_origins(const ecif_corrections_t *c,
                        const struct retired_origin *pending, struct view *v)
{
    size_t n = v->store.history_count;
    bool any = pending != NULL && pending->retired != 0;

    v->store.history_origins = NULL;
    if ((c->origin_count == 0 && !any) || n == 0)
        return ECIF_OK;
    v->history_origins = malloc(n * sizeof(uint32_t));
    if (v->history_origins == NULL)
        return ECIF_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        struct retired_origin key = {.retired = v->store.history[i].retired};
        const struct retired_origin *o =
            c->origin_count > 0 ? bsearch(&key, c->origins, c->origin_count,
                                          sizeof(*c->origins), compare_origins)
                                : NULL;
        v->history_origins[i] = o != NULL ? o->record : ECIF_NO_ORIGIN;
        if (any && pending->retired == key.retired)
            v->history_origins[i] = pending->record;
    }
    v->store.history_origins = v->history_origins;
    return ECIF_OK;
}

/*
 * Builds a view of the loaded store and the delta with the customers of
 * the record numbers of c. Takes ownership of history and links, also on
 * failure. pending is the retirement of the Merge being applied, or NULL.
 */
static int view_build(ecif_corrections_t *c, struct number_redirect *history,
                      size_t history_count, struct correction_link *links,
                      size_t links_count, uint64_t next_number,
                      const struct retired_origin *pending, struct view **out)
{
    struct view *v = calloc(1, sizeof(*v));

    *out = NULL;
    if (v == NULL) {
        free(history);
        free(links);
        return ECIF_ENOMEM;
    }
    v->store = *c->base;
    v->store.buffer = NULL; /* the loaded store owns the file image */
    v->store.delta = c->delta;
    v->history = history;
    v->links = links;
    v->store.history = history;
    v->store.history_count = history_count;
    v->store.links = links;
    v->store.links_count = links_count;
    v->store.next_customer_number = next_number;
    int rc = view_origins(c, pending, v);
    if (rc == ECIF_OK)
        rc = view_fill_customers(c, v);
    if (rc != ECIF_OK) {
        view_free(v);
        return rc;
    }
    *out = v;
    return ECIF_OK;
}

/* ---- Create, acquire, release ------------------------------------------- */

/* Fills record_number from the loaded store on the first correction,
 * while the current view is still the loaded one. */
static int ensure_record_numbers(ecif_corrections_t *c)
{
    uint32_t n = c->base->record_count;

    if (c->record_number != NULL)
        return ECIF_OK;
    c->record_number = malloc((n ? n : 1) * sizeof(uint64_t));
    if (c->record_number == NULL)
        return ECIF_ENOMEM;
    for (uint32_t r = 0; r < n; r++) {
        const char *number = ecif_store_customer_number(
            c->base, ecif_store_record_customer(c->base, r));
        bool ok = store_parse_customer_number(number, &c->record_number[r]);
        assert(ok);
        (void)ok;
    }
    return ECIF_OK;
}

static void remember_origin(ecif_corrections_t *c,
                            const struct retired_origin *origin);

int ecif_corrections_create(const ecif_store_t *base, ecif_corrections_t **out,
                            char *err, size_t errlen)
{
    ecif_corrections_t *c = calloc(1, sizeof(*c));
    pthread_rwlockattr_t attr;

    *out = NULL;
    if (c == NULL)
        return ecif_fail(ECIF_ENOMEM, err, errlen, "out of memory");
    c->base = base;
    c->current = calloc(1, sizeof(*c->current));
    c->delta = delta_create(base->record_count);
    if (c->current == NULL || c->delta == NULL) {
        free(c->current);
        delta_destroy(c->delta);
        free(c);
        return ecif_fail(ECIF_ENOMEM, err, errlen, "out of memory");
    }
    c->current->store = *base;
    c->current->store.buffer = NULL;
    c->current->store.delta = c->delta;
    for (uint64_t i = 0;
         base->history_origins != NULL && i < base->history_count; i++) {
        struct retired_origin o = {base->history[i].retired,
                                   base->history_origins[i], ECIF_NO_ORIGIN, 0};
        if (o.record != ECIF_NO_ORIGIN)
            remember_origin(c, &o);
    }
    c->delta->overlay.view_customers = base->customer_count;
    ecif_history_init(&c->history);
    pthread_mutex_init(&c->write_lock, NULL);
    /* With glibc's writer-preferring kind, a writer waits only for the
     * calls already running. Calls that start after it queue behind it, so
     * a steady stream of reads cannot starve an add. */
    pthread_rwlockattr_init(&attr);
    pthread_rwlockattr_setkind_np(&attr,
                                  PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&c->rw, &attr);
    pthread_rwlockattr_destroy(&attr);
    *out = c;
    return ECIF_OK;
}

void ecif_corrections_destroy(ecif_corrections_t *c)
{
    if (c == NULL)
        return;
    view_free(c->current);
    delta_destroy(c->delta);
    ecif_journal_close(c->journal);
    free(c->record_number);
    free(c->accounts.hashes);
    free(c->accounts.records);
    free(c->origins);
    ecif_history_fini(&c->history);
    pthread_rwlock_destroy(&c->rw);
    pthread_mutex_destroy(&c->write_lock);
    free(c);
}

void ecif_corrections_attach_journal(ecif_corrections_t *c,
                                     ecif_journal_t *journal)
{
    pthread_mutex_lock(&c->write_lock);
    ecif_journal_close(c->journal);
    c->journal = journal;
    pthread_mutex_unlock(&c->write_lock);
}

const ecif_store_t *ecif_corrections_acquire(ecif_corrections_t *c)
{
    pthread_rwlock_rdlock(&c->rw);
    return &c->current->store;
}

void ecif_corrections_release(ecif_corrections_t *c, const ecif_store_t *view)
{
    assert(view == &c->current->store);
    (void)view;
    pthread_rwlock_unlock(&c->rw);
}

uint32_t ecif_corrections_added_count(ecif_corrections_t *c)
{
    pthread_rwlock_rdlock(&c->rw);
    uint32_t n = c->delta->count;
    pthread_rwlock_unlock(&c->rw);
    return n;
}

/*
 * Replaces the current view and logs ev, for which room was reserved. The
 * caller holds write_lock. Added records take their customers in the new
 * view, and the delta takes its overlay. No reader holds the old view
 * once the write lock is granted, so it is freed at once.
 */
static void publish_locked(ecif_corrections_t *c, struct view *v,
                           const ecif_history_event_t *ev)
{
    struct view *old = c->current;

    assert(v->delta_count == c->delta->count);
    pthread_rwlock_wrlock(&c->rw);
    ecif_history_commit(&c->history, ev);
    c->current = v;
    for (uint32_t i = 0; i < v->delta_count; i++)
        c->delta->records[i]->customer = v->delta_customers[i];
    delta_overlay_swap(c->delta, &v->overlay);
    pthread_rwlock_unlock(&c->rw);
    view_free(old);
}

/* ---- Links ------------------------------------------------------------ */

typedef struct link_vec {
    struct correction_link *data;
    size_t count;
    size_t cap;
} link_vec_t;

static int link_push(link_vec_t *v, uint32_t a, uint32_t b, uint32_t kind)
{
    if (a == b)
        return ECIF_OK;
    if (v->count == v->cap) {
        size_t cap = v->cap * 2 + 64;
        struct correction_link *grown = realloc(v->data, cap * sizeof(*grown));
        if (grown == NULL)
            return ECIF_ENOMEM;
        v->data = grown;
        v->cap = cap;
    }
    v->data[v->count++] = (struct correction_link){
        .record_a = a < b ? a : b, .record_b = a < b ? b : a, .kind = kind};
    return ECIF_OK;
}

static int compare_links(const void *pa, const void *pb)
{
    const struct correction_link *x = pa, *y = pb;
    if (x->record_a != y->record_a)
        return x->record_a < y->record_a ? -1 : 1;
    if (x->record_b != y->record_b)
        return x->record_b < y->record_b ? -1 : 1;
    return x->kind < y->kind ? -1 : (x->kind > y->kind);
}

/*
 * Sorts the links, drops repeats, and drops every link the customers of
 * record_number no longer satisfy. A later correction overrides an
 * earlier one, so the set kept never contradicts itself.
 */
static void links_normalize(link_vec_t *v, const ecif_corrections_t *c)
{
    size_t kept = 0;

    if (v->count > 1)
        qsort(v->data, v->count, sizeof(*v->data), compare_links);
    for (size_t i = 0; i < v->count; i++) {
        const struct correction_link *l = &v->data[i];
        bool same = number_of(c, l->record_a) == number_of(c, l->record_b);
        if (same != (l->kind == LINK_MUST))
            continue;
        if (kept > 0 && compare_links(&v->data[kept - 1], l) == 0)
            continue;
        v->data[kept++] = *l;
    }
    v->count = kept;
}

/* ---- Applying one correction -------------------------------------------- */

/* A correction in progress: the next state before it is published. */
struct change {
    link_vec_t links;
    struct number_redirect *history;
    size_t history_count;
    uint64_t next_number;
    uint32_t *moved; /* records whose number changed */
    size_t moved_count;
    uint64_t moved_from;          /* their number before */
    struct retired_origin origin; /* a Merge's retirement, else zero */
};

static void change_free(struct change *ch)
{
    free(ch->links.data);
    free(ch->history);
    free(ch->moved);
}

/*
 * Finds the customer a number leads to in view v, following a retirement
 * to its survivor. field names the request field for messages.
 */
static int find_target(const struct ecif_store *v, const char *field,
                       uint64_t number, uint32_t *customer, char *err,
                       size_t errlen)
{
    char text[32], survivor[ECIF_CUSTOMER_NUMBER_LEN + 1];

    snprintf(text, sizeof(text), "C%012llu", (unsigned long long)number);
    if (number == 0 || number > 999999999999ull)
        return ecif_fail(ECIF_EINVAL, err, errlen,
                         "%s: invalid customer number", field);
    if (ecif_store_find_customer(v, text, customer) == ECIF_OK)
        return ECIF_OK;
    if (ecif_store_find_redirect(v, text, survivor) == ECIF_OK &&
        ecif_store_find_customer(v, survivor, customer) == ECIF_OK)
        return ECIF_OK;
    return ecif_fail(ECIF_ENOTFOUND, err, errlen, "%s: customer '%s' not found",
                     field, text);
}

static int copy_links(const struct ecif_store *v, link_vec_t *out)
{
    out->cap = v->links_count + 64;
    out->data = malloc(out->cap * sizeof(*out->data));
    if (out->data == NULL)
        return ECIF_ENOMEM;
    if (v->links_count > 0)
        memcpy(out->data, v->links, v->links_count * sizeof(*out->data));
    out->count = v->links_count;
    return ECIF_OK;
}

/* Links every record of one list with every record of another. */
static int link_all_pairs(link_vec_t *links, const uint32_t *a, uint32_t na,
                          const uint32_t *b, uint32_t nb, uint32_t kind,
                          const char *field, char *err, size_t errlen)
{
    if ((uint64_t)na * nb > ECIF_CORRECTION_MAX_PAIRS)
        return ecif_fail(ECIF_ELIMIT, err, errlen,
                         "%s: the correction would record %llu record "
                         "pairs, at most %u",
                         field, (unsigned long long)na * nb,
                         ECIF_CORRECTION_MAX_PAIRS);
    for (uint32_t i = 0; i < na; i++) {
        for (uint32_t j = 0; j < nb; j++) {
            if (link_push(links, a[i], b[j], kind) != ECIF_OK)
                return ECIF_ENOMEM;
        }
    }
    return ECIF_OK;
}

/* Links the first record of a list with each other one. */
static int link_star(link_vec_t *links, const uint32_t *ids, uint32_t n)
{
    for (uint32_t i = 1; i < n; i++) {
        if (link_push(links, ids[0], ids[i], LINK_MUST) != ECIF_OK)
            return ECIF_ENOMEM;
    }
    return ECIF_OK;
}

static int copy_history(const struct ecif_store *v, struct change *ch,
                        size_t extra)
{
    ch->history = malloc((v->history_count + extra + 1) * sizeof(*ch->history));
    if (ch->history == NULL)
        return ECIF_ENOMEM;
    if (v->history_count > 0)
        memcpy(ch->history, v->history,
               v->history_count * sizeof(*ch->history));
    ch->history_count = v->history_count;
    return ECIF_OK;
}

static int compare_redirects(const void *pa, const void *pb)
{
    const struct number_redirect *x = pa, *y = pb;
    return x->retired < y->retired ? -1 : (x->retired > y->retired);
}

/* True when a cannot-link joins a record of customer x to one of y. */
static bool marked_not_same(const struct ecif_store *v, uint32_t x, uint32_t y)
{
    for (uint64_t i = 0; i < v->links_count; i++) {
        const struct correction_link *l = &v->links[i];
        if (l->kind != LINK_CANNOT)
            continue;
        uint32_t ca = ecif_store_record_customer(v, l->record_a);
        uint32_t cb = ecif_store_record_customer(v, l->record_b);
        if ((ca == x && cb == y) || (ca == y && cb == x))
            return true;
    }
    return false;
}

/* Returns whether record is the record of some retired number. */
static bool is_origin(const ecif_corrections_t *c, uint32_t record)
{
    for (size_t i = 0; i < c->origin_count; i++) {
        if (c->origins[i].record == record)
            return true;
    }
    return false;
}

/*
 * Returns the record among ids (a customer's n records) that carries its
 * number itself, rather than a number retired into it. That is the record
 * kept for the number when it survived a Merge, else the lowest id that is
 * no retired number's record, else the lowest id.
 */
static uint32_t own_record(const ecif_corrections_t *c, uint64_t number,
                           const uint32_t *ids, uint32_t n)
{
    uint32_t lowest = UINT32_MAX, lowest_free = UINT32_MAX;

    for (size_t i = 0; i < c->origin_count; i++) {
        const struct retired_origin *o = &c->origins[i];
        if (o->survivor != number)
            continue;
        for (uint32_t k = 0; k < n; k++) {
            if (ids[k] == o->survivor_record)
                return o->survivor_record;
        }
    }
    for (uint32_t k = 0; k < n; k++) {
        if (ids[k] < lowest)
            lowest = ids[k];
        if (ids[k] < lowest_free && !is_origin(c, ids[k]))
            lowest_free = ids[k];
    }
    return lowest_free != UINT32_MAX ? lowest_free : lowest;
}

static int plan_merge(ecif_corrections_t *c, const struct ecif_store *v,
                      const ecif_journal_entry_t *e, struct change *ch,
                      ecif_correction_result_t *res, char *err, size_t errlen)
{
    uint32_t a, b, na, nb;
    int rc;

    if ((rc = find_target(v, "customer_a", e->customer_a, &a, err, errlen)) ||
        (rc = find_target(v, "customer_b", e->customer_b, &b, err, errlen)))
        return rc;
    const char *num_a = ecif_store_customer_number(v, a);
    const char *num_b = ecif_store_customer_number(v, b);
    if (a == b)
        return ecif_fail(ECIF_ECONFLICT, err, errlen,
                         "customer_a and customer_b: both lead to customer "
                         "'%s'",
                         num_a);
    /* An override's must-links join the two, and normalizing the links
     * then drops the cannot-links between their records. */
    if (!e->override_not_same && marked_not_same(v, a, b))
        return ecif_fail(ECIF_ECONFLICT, err, errlen,
                         "customer_a '%s' and customer_b '%s' are marked "
                         "not the same customer (set override_not_same to "
                         "merge them anyway)",
                         num_a, num_b);
    /* Customer ids follow numbers: the lower id has the older number. */
    uint32_t keep = a < b ? a : b, gone = a < b ? b : a;
    const uint32_t *keep_ids = ecif_store_customer_records(v, keep, &na);
    const uint32_t *gone_ids = ecif_store_customer_records(v, gone, &nb);
    uint64_t keep_number, gone_number;
    store_parse_customer_number(ecif_store_customer_number(v, keep),
                                &keep_number);
    store_parse_customer_number(ecif_store_customer_number(v, gone),
                                &gone_number);

    if ((rc = copy_links(v, &ch->links)) != ECIF_OK ||
        (rc = link_all_pairs(&ch->links, keep_ids, 1, gone_ids, nb, LINK_MUST,
                             "customer_b", err, errlen)) ||
        (rc = link_star(&ch->links, keep_ids, na)) != ECIF_OK ||
        (rc = copy_history(v, ch, 1)) != ECIF_OK)
        return rc;
    for (size_t i = 0; i < ch->history_count; i++) {
        if (ch->history[i].survivor == gone_number)
            ch->history[i].survivor = keep_number;
    }
    ch->history[ch->history_count++] =
        (struct number_redirect){gone_number, keep_number};
    qsort(ch->history, ch->history_count, sizeof(*ch->history),
          compare_redirects);

    ch->moved = malloc((nb ? nb : 1) * sizeof(uint32_t));
    if (ch->moved == NULL)
        return ECIF_ENOMEM;
    memcpy(ch->moved, gone_ids, nb * sizeof(uint32_t));
    ch->moved_count = nb;
    ch->moved_from = gone_number;
    ch->origin.retired = gone_number;
    ch->origin.record = own_record(c, gone_number, gone_ids, nb);
    ch->origin.survivor_record = own_record(c, keep_number, keep_ids, na);
    ch->origin.survivor = keep_number;
    for (uint32_t i = 0; i < nb; i++)
        set_number(c, gone_ids[i], keep_number);
    ch->next_number = v->next_customer_number;

    snprintf(res->customer, sizeof(res->customer), "%s",
             ecif_store_customer_number(v, keep));
    snprintf(res->other, sizeof(res->other), "%s",
             ecif_store_customer_number(v, gone));
    res->customer_records = na + nb;
    res->other_records = 0;
    res->moved_records = nb;
    return ECIF_OK;
}

static int compare_u32(const void *pa, const void *pb)
{
    uint32_t a = *(const uint32_t *)pa, b = *(const uint32_t *)pb;
    return a < b ? -1 : (a > b);
}

/* Looks up the split's keys, each a distinct record of customer. */
static int split_records(const struct ecif_store *v,
                         const ecif_journal_entry_t *e, uint32_t customer,
                         uint32_t *ids, char *err, size_t errlen)
{
    for (uint32_t i = 0; i < e->key_count; i++) {
        const ecif_source_key_t *k = &e->keys[i];
        if (k->source_system == NULL || k->source_system[0] == '\0' ||
            k->source_id == NULL || k->source_id[0] == '\0')
            return ecif_fail(ECIF_EINVAL, err, errlen,
                             "records[%u]: source_system and source_id are "
                             "required",
                             i);
        if (ecif_store_find_record(v, k->source_system, k->source_id,
                                   &ids[i]) != ECIF_OK)
            return ecif_fail(ECIF_ENOTFOUND, err, errlen,
                             "records[%u]: record '%.64s/%.64s' not found", i,
                             k->source_system, k->source_id);
        uint32_t owner = ecif_store_record_customer(v, ids[i]);
        if (owner != customer)
            return ecif_fail(ECIF_ECONFLICT, err, errlen,
                             "records[%u]: record '%.64s/%.64s' belongs to "
                             "customer '%s', not '%s'",
                             i, k->source_system, k->source_id,
                             ecif_store_customer_number(v, owner),
                             ecif_store_customer_number(v, customer));
        for (uint32_t j = 0; j < i; j++) {
            if (ids[j] == ids[i])
                return ecif_fail(ECIF_EINVAL, err, errlen,
                                 "records[%u]: record '%.64s/%.64s' is also "
                                 "records[%u]",
                                 i, k->source_system, k->source_id, j);
        }
    }
    return ECIF_OK;
}

/*
 * Rejects a split that names one source key twice. Runs before the keys
 * are counted against the customer's records, so the error names the
 * repeated record and not a count that the repeat made wrong.
 */
static int check_repeated_keys(const ecif_journal_entry_t *e, char *err,
                               size_t errlen)
{
    for (uint32_t i = 1; i < e->key_count; i++) {
        const ecif_source_key_t *k = &e->keys[i];
        for (uint32_t j = 0; j < i; j++) {
            if (strcmp(k->source_system, e->keys[j].source_system) == 0 &&
                strcmp(k->source_id, e->keys[j].source_id) == 0)
                return ecif_fail(ECIF_EINVAL, err, errlen,
                                 "records[%u]: record '%.64s/%.64s' is also "
                                 "records[%u]",
                                 i, k->source_system, k->source_id, j);
        }
    }
    return ECIF_OK;
}

/* Returns whether the split moves record. ch->moved is sorted. */
static bool moved_record(const struct change *ch, uint32_t record)
{
    return bsearch(&record, ch->moved, ch->moved_count, sizeof(uint32_t),
                   compare_u32) != NULL;
}

/* Returns the redirect of retired number into the customer being split
 * (ch->moved_from), or NULL. ch->history is sorted by retired number. */
static struct number_redirect *redirect_of(const struct change *ch,
                                           uint64_t retired)
{
    struct number_redirect key = {retired, 0};
    struct number_redirect *h =
        ch->history_count > 0 ? bsearch(&key, ch->history, ch->history_count,
                                        sizeof(*ch->history), compare_redirects)
                              : NULL;
    return h != NULL && h->survivor == ch->moved_from ? h : NULL;
}

/*
 * Rejects a split that moves out the record that carries the customer's
 * own number (own_record) while the record of a number merged into it
 * stays. The customer would keep its number for the other person, and the
 * moved person would get a new one. Splitting the other side keeps every
 * number with its person.
 */
static int check_split_side(const ecif_corrections_t *c,
                            const struct ecif_store *v, const struct change *ch,
                            const uint32_t *members, uint32_t count, char *err,
                            size_t errlen)
{
    uint32_t own = own_record(c, ch->moved_from, members, count);

    if (!moved_record(ch, own))
        return ECIF_OK;
    for (size_t i = 0; i < c->origin_count; i++) {
        const struct retired_origin *o = &c->origins[i];
        if (redirect_of(ch, o->retired) == NULL || moved_record(ch, o->record))
            continue;
        ecif_record_t rec;
        ecif_store_get_record(v, own, &rec);
        return ecif_fail(
            ECIF_ECONFLICT, err, errlen,
            "records: record '%.64s/%.64s' carries customer number "
            "C%012llu, into which C%012llu was merged; moving it out would "
            "leave C%012llu to the other person, so split out the records "
            "of C%012llu instead",
            rec.source_system, rec.source_id,
            (unsigned long long)ch->moved_from, (unsigned long long)o->retired,
            (unsigned long long)ch->moved_from, (unsigned long long)o->retired);
    }
    return ECIF_OK;
}

/*
 * Points each number retired into the customer being split at the new
 * customer when the split moves the record that carried it. A split that
 * undoes a merge thus gives the retired number back to its person.
 */
static void follow_origins(const ecif_corrections_t *c, struct change *ch,
                           uint64_t new_number)
{
    for (size_t i = 0; i < c->origin_count; i++) {
        const struct retired_origin *o = &c->origins[i];
        struct number_redirect *h = redirect_of(ch, o->retired);
        if (h != NULL && moved_record(ch, o->record))
            h->survivor = new_number;
    }
}

/* Records the retirement of a published Merge. Fails only for memory, and
 * then the number keeps its survivor when a later split moves its record. */
static void remember_origin(ecif_corrections_t *c,
                            const struct retired_origin *origin)
{
    if (origin->retired == 0)
        return;
    if (c->origin_count == c->origin_cap) {
        size_t cap = c->origin_cap ? 2 * c->origin_cap : 16;
        struct retired_origin *grown =
            realloc(c->origins, cap * sizeof(*grown));
        if (grown == NULL)
            return;
        c->origins = grown;
        c->origin_cap = cap;
    }
    /* Inserted in place, because bsearch needs the list sorted by
     * retired number. */
    size_t at = c->origin_count;
    while (at > 0 && c->origins[at - 1].retired > origin->retired)
        at--;
    memmove(&c->origins[at + 1], &c->origins[at],
            (c->origin_count - at) * sizeof(*c->origins));
    c->origins[at] = *origin;
    c->origin_count++;
}

static int plan_split(ecif_corrections_t *c, const struct ecif_store *v,
                      const ecif_journal_entry_t *e, struct change *ch,
                      ecif_correction_result_t *res, char *err, size_t errlen)
{
    uint32_t customer, count;
    int rc;

    if ((rc = find_target(v, "customer_number", e->customer_a, &customer, err,
                          errlen)) != ECIF_OK)
        return rc;
    const uint32_t *members = ecif_store_customer_records(v, customer, &count);
    if (e->key_count == 0)
        return ecif_fail(ECIF_EINVAL, err, errlen,
                         "records: at least one record is required");
    if ((rc = check_repeated_keys(e, err, errlen)) != ECIF_OK)
        return rc;
    if (e->key_count >= count)
        return ecif_fail(ECIF_EINVAL, err, errlen,
                         "records: names %u records, but customer '%s' has "
                         "%u; a split must leave at least one",
                         e->key_count, ecif_store_customer_number(v, customer),
                         count);
    ch->moved = malloc(e->key_count * sizeof(uint32_t));
    uint32_t *rest = malloc(count * sizeof(uint32_t));
    if (ch->moved == NULL || rest == NULL) {
        free(rest);
        return ECIF_ENOMEM;
    }
    rc = split_records(v, e, customer, ch->moved, err, errlen);
    ch->moved_count = e->key_count;
    uint32_t nrest = 0;
    if (rc == ECIF_OK) {
        uint32_t *sorted = ch->moved;
        qsort(sorted, e->key_count, sizeof(uint32_t), compare_u32);
        for (uint32_t i = 0; i < count; i++) {
            if (bsearch(&members[i], sorted, e->key_count, sizeof(uint32_t),
                        compare_u32) == NULL)
                rest[nrest++] = members[i];
        }
        if ((rc = copy_links(v, &ch->links)) == ECIF_OK &&
            (rc = link_all_pairs(&ch->links, ch->moved, e->key_count, rest,
                                 nrest, LINK_CANNOT, "records", err, errlen)) ==
                ECIF_OK &&
            (rc = link_star(&ch->links, ch->moved, e->key_count)) == ECIF_OK)
            rc = copy_history(v, ch, 0);
    }
    free(rest);
    if (rc != ECIF_OK)
        return rc;

    uint64_t new_number = v->next_customer_number;
    store_parse_customer_number(ecif_store_customer_number(v, customer),
                                &ch->moved_from);
    if ((rc = check_split_side(c, v, ch, members, count, err, errlen)) !=
        ECIF_OK) {
        ch->moved_from = 0;
        return rc;
    }
    follow_origins(c, ch, new_number);
    for (size_t i = 0; i < ch->moved_count; i++)
        set_number(c, ch->moved[i], new_number);
    ch->next_number = new_number + 1;

    snprintf(res->customer, sizeof(res->customer), "%s",
             ecif_store_customer_number(v, customer));
    snprintf(res->other, sizeof(res->other), "C%012llu",
             (unsigned long long)new_number);
    res->customer_records = nrest;
    res->other_records = e->key_count;
    res->moved_records = e->key_count;
    return ECIF_OK;
}

static int plan_not_same(const struct ecif_store *v,
                         const ecif_journal_entry_t *e, struct change *ch,
                         ecif_correction_result_t *res, char *err,
                         size_t errlen)
{
    uint32_t a, b, na, nb;
    int rc;

    if ((rc = find_target(v, "customer_a", e->customer_a, &a, err, errlen)) ||
        (rc = find_target(v, "customer_b", e->customer_b, &b, err, errlen)))
        return rc;
    if (a == b)
        return ecif_fail(ECIF_ECONFLICT, err, errlen,
                         "customer_a and customer_b: both lead to customer "
                         "'%s'",
                         ecif_store_customer_number(v, a));
    const uint32_t *ids_a = ecif_store_customer_records(v, a, &na);
    const uint32_t *ids_b = ecif_store_customer_records(v, b, &nb);
    if ((rc = copy_links(v, &ch->links)) != ECIF_OK ||
        (rc = link_all_pairs(&ch->links, ids_a, na, ids_b, nb, LINK_CANNOT,
                             "customer_b", err, errlen)) != ECIF_OK ||
        (rc = copy_history(v, ch, 0)) != ECIF_OK)
        return rc;
    ch->next_number = v->next_customer_number;

    snprintf(res->customer, sizeof(res->customer), "%s",
             ecif_store_customer_number(v, a));
    snprintf(res->other, sizeof(res->other), "%s",
             ecif_store_customer_number(v, b));
    res->customer_records = na;
    res->other_records = nb;
    return ECIF_OK;
}

/*
 * Makes room in the history for one event and copies its strings into
 * ev. The caller holds write_lock. Readers are blocked while the array
 * may move.
 */
static int reserve_event(ecif_corrections_t *c, ecif_history_event_t *ev,
                         const char *actor, const char *reason)
{
    pthread_rwlock_wrlock(&c->rw);
    int rc = ecif_history_reserve(&c->history);
    pthread_rwlock_unlock(&c->rw);
    if (rc == ECIF_OK)
        rc = ecif_history_prepare(ev, actor, reason);
    return rc;
}

/* Fills the numbers and counts of a correction's event from its result. */
static void correction_event(const ecif_correction_result_t *res,
                             ecif_history_event_t *ev)
{
    bool ok = store_parse_customer_number(res->customer, &ev->customer) &&
              store_parse_customer_number(res->other, &ev->other);
    assert(ok);
    (void)ok;
    ev->customer_records = res->customer_records;
    ev->other_records = res->other_records;
    ev->moved_records = res->moved_records;
}

/*
 * Applies e to the state and publishes the result. The caller holds
 * write_lock. With write, appends e to the journal before publishing. The
 * history event takes e's sequence and time, or the journal's.
 */
static int apply_locked(ecif_corrections_t *c, const ecif_journal_entry_t *e,
                        bool write, ecif_correction_result_t *res, char *err,
                        size_t errlen)
{
    const struct ecif_store *v = &c->current->store;
    struct change ch = {0};
    struct view *next = NULL;
    size_t links_before = v->links_count;
    ecif_history_event_t ev = {.kind = (ecif_history_kind_t)e->kind,
                               .sequence = e->sequence,
                               .time_us = e->time_us};
    int rc;

    memset(res, 0, sizeof(*res));
    if (ensure_record_numbers(c) != ECIF_OK ||
        reserve_event(c, &ev, e->actor, e->reason) != ECIF_OK)
        return ecif_fail(ECIF_ENOMEM, err, errlen,
                         "out of memory while applying the correction");
    switch (e->kind) {
    case ECIF_CORRECTION_MERGE:
        rc = plan_merge(c, v, e, &ch, res, err, errlen);
        break;
    case ECIF_CORRECTION_SPLIT:
        rc = plan_split(c, v, e, &ch, res, err, errlen);
        break;
    case ECIF_CORRECTION_NOT_SAME:
        rc = plan_not_same(v, e, &ch, res, err, errlen);
        break;
    default:
        rc = ecif_fail(ECIF_EINVAL, err, errlen, "unknown correction kind %d",
                       (int)e->kind);
    }
    if (rc == ECIF_OK) {
        links_normalize(&ch.links, c);
        res->links_added = ch.links.count > links_before
                               ? (uint32_t)(ch.links.count - links_before)
                               : 0;
        rc = view_build(c, ch.history, ch.history_count, ch.links.data,
                        ch.links.count, ch.next_number, &ch.origin, &next);
        ch.history = NULL;
        ch.links.data = NULL;
        if (rc == ECIF_ENOMEM)
            ecif_fail(rc, err, errlen,
                      "out of memory while applying the "
                      "correction");
        else if (rc == ECIF_ELIMIT)
            ecif_fail(rc, err, errlen,
                      "customer '%s': an exposure total after the "
                      "correction overflows",
                      res->customer);
    }
    if (rc == ECIF_OK && write && c->journal != NULL) {
        ecif_journal_entry_t copy = *e;
        rc = ecif_journal_append(c->journal, &copy, err, errlen);
        res->sequence = copy.sequence;
        ev.sequence = copy.sequence;
        ev.time_us = copy.time_us;
    }
    if (rc != ECIF_OK) {
        for (size_t i = 0; i < ch.moved_count && ch.moved_from != 0; i++)
            set_number(c, ch.moved[i], ch.moved_from);
        if (next != NULL)
            view_free(next);
        change_free(&ch);
        ecif_history_discard(&ev);
        return rc == ECIF_ENOMEM && err != NULL && err[0] == '\0'
                   ? ecif_fail(rc, err, errlen, "out of memory")
                   : rc;
    }
    correction_event(res, &ev);
    publish_locked(c, next, &ev);
    remember_origin(c, &ch.origin);
    change_free(&ch);
    return ECIF_OK;
}

int ecif_corrections_apply(ecif_corrections_t *c,
                           const ecif_journal_entry_t *entry,
                           ecif_correction_result_t *result, char *err,
                           size_t errlen)
{
    if (err != NULL && errlen > 0)
        err[0] = '\0';
    if (entry->kind == ECIF_JOURNAL_ADD)
        return ecif_fail(ECIF_EINVAL, err, errlen,
                         "an added record is no correction; use "
                         "ecif_corrections_add");
    pthread_mutex_lock(&c->write_lock);
    int rc = apply_locked(c, entry, true, result, err, errlen);
    pthread_mutex_unlock(&c->write_lock);
    return rc;
}

/* ---- Adding one record ------------------------------------------------ */

/* Checks the accounts of an add: each valid, no account id twice. With
 * strict, as for a new add, the form of each account id too. */
static int check_accounts(const ecif_account_t *accounts, uint32_t count,
                          bool strict, char *err, size_t errlen)
{
    char detail[300];

    if (count > ECIF_JOURNAL_MAX_ACCOUNTS)
        return ecif_fail(ECIF_EINVAL, err, errlen,
                         "accounts: %u accounts, at most %u", count,
                         ECIF_JOURNAL_MAX_ACCOUNTS);
    for (uint32_t i = 0; i < count; i++) {
        if (ecif_account_validate(&accounts[i], detail, sizeof(detail)) !=
                ECIF_OK ||
            (strict && ecif_account_check_new(&accounts[i], detail,
                                              sizeof(detail)) != ECIF_OK))
            return ecif_fail(ECIF_EINVAL, err, errlen, "accounts[%u]: %s", i,
                             detail);
        for (uint32_t j = 0; j < i; j++) {
            if (strcmp(accounts[i].account_id, accounts[j].account_id) == 0)
                return ecif_fail(ECIF_EINVAL, err, errlen,
                                 "accounts[%u]: account_id '%.64s' is also "
                                 "accounts[%u]",
                                 i, accounts[i].account_id, j);
        }
    }
    return ECIF_OK;
}

/* Orders a stored record against a source key. */
static int compare_to_key(const struct ecif_store *v, uint32_t record,
                          const ecif_record_t *key)
{
    ecif_record_t r;

    ecif_store_get_record(v, record, &r);
    int cmp = strcmp(r.source_system, key->source_system);
    return cmp != 0 ? cmp : strcmp(r.source_id, key->source_id);
}

/*
 * Builds the overlay entry of the customer an added record goes to: the
 * customer's members with the record's id put in source-key order, or a
 * new customer of the record alone.
 */
static int plan_customer(ecif_corrections_t *c, const ecif_record_t *rec,
                         const struct delta_record *dr, bool join,
                         uint32_t customer, struct delta_customer **out)
{
    const struct ecif_store *v = &c->current->store;
    uint32_t id = c->delta->base_records + c->delta->count;
    char number[ECIF_CUSTOMER_NUMBER_LEN + 1];

    *out = NULL;
    if (!join) {
        snprintf(number, sizeof(number), "C%012llu",
                 (unsigned long long)v->next_customer_number);
        return delta_customer_create(
            v, v->customer_count + c->delta->overlay.new_customers, number, &id,
            1, dr, out);
    }

    uint32_t count;
    const uint32_t *old = ecif_store_customer_records(v, customer, &count);
    uint32_t *members = malloc(((size_t)count + 1) * sizeof(uint32_t));
    if (members == NULL)
        return ECIF_ENOMEM;
    uint32_t at = 0;
    while (at < count && compare_to_key(v, old[at], rec) < 0)
        at++;
    memcpy(members, old, at * sizeof(uint32_t));
    members[at] = id;
    memcpy(members + at + 1, old + at, (count - at) * sizeof(uint32_t));
    int rc = delta_customer_create(v, customer,
                                   ecif_store_customer_number(v, customer),
                                   members, count + 1, dr, out);
    free(members);
    return rc;
}

/* Fills the candidates of an add result with their customer numbers. */
static void report_candidates(const struct ecif_store *v,
                              const ecif_candidate_t *found, size_t n,
                              ecif_add_result_t *res)
{
    res->candidate_count = n < ECIF_ADD_CANDIDATES ? n : ECIF_ADD_CANDIDATES;
    for (size_t i = 0; i < res->candidate_count; i++) {
        res->candidates[i] = found[i];
        snprintf(res->candidate_numbers[i], sizeof(res->candidate_numbers[i]),
                 "%s", ecif_store_customer_number(v, found[i].customer));
        for (uint32_t m = 0; m < found[i].n_matched; m++) {
            ecif_record_t r;
            ecif_store_get_record(v, found[i].matched[m], &r);
            res->matched[i][m].source_system = r.source_system;
            res->matched[i][m].source_id = r.source_id;
        }
    }
}

/* ---- Account index ---------------------------------------------------- */

static uint64_t account_hash(const char *system, const char *account_id)
{
    uint64_t h = ecif_hash64(system, strlen(system), 0x41);
    return ecif_hash64(account_id, strlen(account_id), h) | 1;
}

static const char *record_system(const struct ecif_store *v, uint32_t record)
{
    if (record < v->record_count)
        return v->strings + v->records[record].source_system;
    const struct delta_record *d = delta_record_at(v->delta, record);
    return d->strings + d->entry.source_system;
}

/* Returns whether the record has the account in the source system. */
static bool record_has_account(const struct ecif_store *v, uint32_t record,
                               const char *system, const char *account_id)
{
    if (strcmp(record_system(v, record), system) != 0)
        return false;
    uint32_t n = ecif_store_record_account_count(v, record);
    for (uint32_t a = 0; a < n; a++) {
        ecif_account_t acct;
        ecif_store_get_account(v, record, a, &acct);
        if (strcmp(acct.account_id, account_id) == 0)
            return true;
    }
    return false;
}

/* Returns the record holding the account, or UINT32_MAX. */
static uint32_t account_owner(const struct account_index *ix,
                              const struct ecif_store *v, const char *system,
                              const char *account_id)
{
    uint64_t h = account_hash(system, account_id);

    for (uint32_t i = (uint32_t)h & (ix->cap - 1); ix->hashes[i] != 0;
         i = (i + 1) & (ix->cap - 1)) {
        if (ix->hashes[i] == h &&
            record_has_account(v, ix->records[i], system, account_id))
            return ix->records[i];
    }
    return UINT32_MAX;
}

static void account_put(struct account_index *ix, uint64_t h, uint32_t record)
{
    uint32_t i = (uint32_t)h & (ix->cap - 1);

    while (ix->hashes[i] != 0)
        i = (i + 1) & (ix->cap - 1);
    ix->hashes[i] = h;
    ix->records[i] = record;
    ix->used++;
}

/* Makes room for more accounts, keeping the table at most half full. */
static int account_reserve(struct account_index *ix, uint64_t more)
{
    uint64_t need = (uint64_t)ix->used + more;
    uint64_t cap = ix->cap != 0 ? ix->cap : 64;

    while (cap < 2 * need)
        cap *= 2;
    if (cap == ix->cap)
        return ECIF_OK;
    if (cap > (UINT64_C(1) << 31))
        return ECIF_ENOMEM;
    uint64_t *hashes = calloc(cap, sizeof(*hashes));
    uint32_t *records = malloc(cap * sizeof(*records));
    if (hashes == NULL || records == NULL) {
        free(hashes);
        free(records);
        return ECIF_ENOMEM;
    }
    struct account_index grown = {hashes, records, (uint32_t)cap, 0};
    for (uint32_t i = 0; i < ix->cap; i++) {
        if (ix->hashes[i] != 0)
            account_put(&grown, ix->hashes[i], ix->records[i]);
    }
    free(ix->hashes);
    free(ix->records);
    *ix = grown;
    return ECIF_OK;
}

/* Indexes the accounts of one record. The table must have room for them. */
static void account_index_record(struct account_index *ix,
                                 const struct ecif_store *v, uint32_t record)
{
    const char *system = record_system(v, record);
    uint32_t n = ecif_store_record_account_count(v, record);

    for (uint32_t a = 0; a < n; a++) {
        ecif_account_t acct;
        ecif_store_get_account(v, record, a, &acct);
        account_put(ix, account_hash(system, acct.account_id), record);
    }
}

/* Builds the index over every record of v on its first use. */
static int account_index_build(struct account_index *ix,
                               const struct ecif_store *v, uint32_t records)
{
    uint64_t total = 0;

    if (ix->cap != 0)
        return ECIF_OK;
    for (uint32_t r = 0; r < records; r++)
        total += ecif_store_record_account_count(v, r);
    if (account_reserve(ix, total) != ECIF_OK)
        return ECIF_ENOMEM;
    for (uint32_t r = 0; r < records; r++)
        account_index_record(ix, v, r);
    return ECIF_OK;
}

/*
 * True when rec can never be one person with some record of customer in
 * v (match_records_conflict): import keeps such records apart, so an add
 * must not join them.
 */
static bool conflicts_with_customer(const struct ecif_store *v,
                                    const ecif_record_t *rec, uint32_t customer)
{
    match_buffer_t buf;
    match_view_t mine, theirs;
    uint32_t count = 0;
    const uint32_t *members = ecif_store_customer_records(v, customer, &count);

    match_normalize(rec, &buf, &mine, NULL, NULL, NULL);
    for (uint32_t i = 0; i < count; i++) {
        match_view_stored(v, members[i], &theirs);
        if (match_records_conflict(v->model, &mine, &theirs))
            return true;
    }
    return false;
}

/*
 * Rejects accounts that a loaded or added record already has in the
 * record's source system, and makes room to index them.
 */
static int check_account_owners(ecif_corrections_t *c,
                                const struct ecif_store *v,
                                const ecif_record_t *rec,
                                const ecif_account_t *accounts, uint32_t count,
                                char *err, size_t errlen)
{
    uint32_t records = v->record_count + c->delta->count;

    if (count == 0 && c->accounts.cap == 0)
        return ECIF_OK;
    if (account_index_build(&c->accounts, v, records) != ECIF_OK ||
        account_reserve(&c->accounts, count) != ECIF_OK)
        return ecif_fail(ECIF_ENOMEM, err, errlen,
                         "out of memory while indexing accounts");
    for (uint32_t i = 0; i < count; i++) {
        uint32_t owner = account_owner(&c->accounts, v, rec->source_system,
                                       accounts[i].account_id);
        if (owner == UINT32_MAX)
            continue;
        ecif_record_t other;
        ecif_store_get_record(v, owner, &other);
        return ecif_fail(ECIF_EEXIST, err, errlen,
                         "accounts[%u].account_id: account '%.64s' in source "
                         "system '%.64s' already belongs to record "
                         "'%.64s/%.64s'",
                         i, accounts[i].account_id, rec->source_system,
                         other.source_system, other.source_id);
    }
    return ECIF_OK;
}

/*
 * Adds the record of an add entry e. The caller holds write_lock. With
 * write, appends the entry to the journal before publishing.
 */
static int add_locked(ecif_corrections_t *c, const ecif_journal_entry_t *e,
                      bool write, ecif_add_result_t *res, char *err,
                      size_t errlen)
{
    const ecif_record_t *rec = e->record;
    const ecif_account_t *accounts = e->accounts;
    uint32_t account_count = e->account_count;
    ecif_history_event_t ev = {.kind = ECIF_HISTORY_ADD,
                               .sequence = e->sequence,
                               .time_us = e->time_us};
    struct view *cur = c->current;
    const struct ecif_store *v = &cur->store;
    ecif_candidate_t found[ECIF_ADD_CANDIDATES];
    size_t n = 0;
    uint32_t quality = 0, existing;
    int rc;

    memset(res, 0, sizeof(*res));
    rc = write ? ecif_record_validate(rec, true, err, errlen)
               : ecif_record_validate_journaled(rec, err, errlen);
    if (rc != ECIF_OK || (rc = check_accounts(accounts, account_count, write,
                                              err, errlen)) != ECIF_OK)
        return rc;
    if (ecif_store_find_record(v, rec->source_system, rec->source_id,
                               &existing) == ECIF_OK)
        return ecif_fail(ECIF_EEXIST, err, errlen,
                         "source_id: record '%.64s/%.64s' already exists in "
                         "customer '%s'",
                         rec->source_system, rec->source_id,
                         ecif_store_customer_number(
                             v, ecif_store_record_customer(v, existing)));
    if (c->delta->count >= UINT32_MAX - c->delta->base_records - 1)
        return ecif_fail(ECIF_ELIMIT, err, errlen,
                         "record: no record ids are left, so re-import the "
                         "data to add more");
    /* A replayed add was checked when it was appended. Journals written
     * before the check existed may contain a duplicate account, and replay
     * keeps it so that the server still starts. Import reports it. */
    if (write && (rc = check_account_owners(c, v, rec, accounts, account_count,
                                            err, errlen)) != ECIF_OK)
        return rc;

    /* Resolve the record exactly as the Resolve call does. A MATCH that
     * is not ambiguous joins, and anything else becomes its own customer. */
    rc = ecif_resolve_with_quality(v, rec, found, ECIF_ADD_CANDIDATES, &n,
                                   &quality);
    if (rc != ECIF_OK)
        return ecif_fail(rc, err, errlen, "out of memory while resolving");
    bool join = n > 0 && found[0].verdict == ECIF_MATCH;
    res->ambiguous = (quality & ECIF_QUALITY_AMBIGUOUS_MATCH) != 0;
    if (join && conflicts_with_customer(v, rec, found[0].customer)) {
        join = false; /* as import would refuse the join */
        res->conflict = true;
    }
    report_candidates(v, found, n, res);

    if (reserve_event(c, &ev, e->actor, "") != ECIF_OK)
        return ecif_fail(ECIF_ENOMEM, err, errlen,
                         "out of memory while adding the record");
    struct delta_record *dr =
        delta_record_create(v, rec, accounts, account_count);
    if (dr == NULL) {
        ecif_history_discard(&ev);
        return ecif_fail(ECIF_ENOMEM, err, errlen,
                         "out of memory while adding the record");
    }
    pthread_rwlock_wrlock(&c->rw);
    rc = delta_reserve(c->delta, dr->key_count, 1);
    pthread_rwlock_unlock(&c->rw);
    struct delta_customer *target = NULL;
    bool reserved = rc == ECIF_OK;
    if (reserved)
        rc = plan_customer(c, rec, dr, join, join ? found[0].customer : 0,
                           &target);
    if (rc != ECIF_OK) {
        delta_record_free(dr);
        ecif_history_discard(&ev);
        if (rc == ECIF_ELIMIT && !reserved)
            return ecif_fail(rc, err, errlen,
                             "record: the delta tables are full, so re-import "
                             "the data to add more");
        if (rc == ECIF_ELIMIT)
            return ecif_fail(rc, err, errlen,
                             "customer '%s': an exposure total after the add "
                             "overflows",
                             ecif_store_customer_number(v, found[0].customer));
        return ecif_fail(ECIF_ENOMEM, err, errlen,
                         "out of memory while adding the record");
    }
    if (write && c->journal != NULL) {
        ecif_journal_entry_t entry = *e;
        rc = ecif_journal_append(c->journal, &entry, err, errlen);
        if (rc != ECIF_OK) {
            delta_customer_free(target);
            delta_record_free(dr);
            ecif_history_discard(&ev);
            return rc;
        }
        res->sequence = entry.sequence;
        ev.sequence = entry.sequence;
        ev.time_us = entry.time_us;
    }

    uint64_t number;
    bool ok = store_parse_customer_number(target->number, &number);
    assert(ok);
    (void)ok;
    dr->number = number;
    dr->customer = target->customer;
    res->joined = join;
    res->customer_records = target->member_count;
    snprintf(res->customer, sizeof(res->customer), "%.13s", target->number);
    ev.customer = number;
    ev.customer_records = target->member_count;
    ev.joined = join;

    pthread_rwlock_wrlock(&c->rw);
    ecif_history_commit(&c->history, &ev);
    uint32_t id = delta_append(c->delta, dr);
    delta_overlay_put(c->delta, target);
    if (!join)
        cur->store.next_customer_number = number + 1;
    pthread_rwlock_unlock(&c->rw);
    if (c->accounts.cap != 0) {
        /* Without room, drop the index: the next add builds it again. */
        if (account_reserve(&c->accounts, account_count) == ECIF_OK) {
            account_index_record(&c->accounts, v, id);
        } else {
            free(c->accounts.hashes);
            free(c->accounts.records);
            memset(&c->accounts, 0, sizeof(c->accounts));
        }
    }
    return ECIF_OK;
}

int ecif_corrections_add(ecif_corrections_t *c, const ecif_record_t *rec,
                         const ecif_account_t *accounts, uint32_t account_count,
                         const char *actor, ecif_add_result_t *result,
                         char *err, size_t errlen)
{
    ecif_journal_entry_t entry = {.kind = ECIF_JOURNAL_ADD,
                                  .record = rec,
                                  .accounts = accounts,
                                  .account_count = account_count,
                                  .actor = actor};

    if (err != NULL && errlen > 0)
        err[0] = '\0';
    pthread_mutex_lock(&c->write_lock);
    int rc = add_locked(c, &entry, true, result, err, errlen);
    pthread_mutex_unlock(&c->write_lock);
    return rc;
}

int ecif_corrections_replay(ecif_corrections_t *c, ecif_journal_t *journal,
                            uint64_t *applied, uint64_t *torn_bytes, char *err,
                            size_t errlen)
{
    ecif_journal_entry_t entry;
    ecif_correction_result_t res;
    ecif_add_result_t *added = malloc(sizeof(*added));
    char detail[400];
    int rc;

    *applied = 0;
    if (added == NULL)
        return ecif_fail(ECIF_ENOMEM, err, errlen, "out of memory");
    pthread_mutex_lock(&c->write_lock);
    while ((rc = ecif_journal_next(journal, &entry, torn_bytes, err, errlen)) ==
           1) {
        detail[0] = '\0';
        if (entry.kind == ECIF_JOURNAL_ADD)
            rc = add_locked(c, &entry, false, added, detail, sizeof(detail));
        else
            rc = apply_locked(c, &entry, false, &res, detail, sizeof(detail));
        if (rc != ECIF_OK) {
            /* The reason of a rejected add quotes the record's value after
             * the field, and this message goes to logs. */
            char *quote = strchr(detail, '\'');
            if (entry.kind == ECIF_JOURNAL_ADD && quote != NULL)
                snprintf(quote, sizeof(detail) - (size_t)(quote - detail),
                         "(value not shown)");
            rc = ecif_fail(rc, err, errlen,
                           "journal entry %llu no longer applies: %s",
                           (unsigned long long)entry.sequence, detail);
            break;
        }
        (*applied)++;
    }
    pthread_mutex_unlock(&c->write_lock);
    free(added);
    return rc;
}

const ecif_history_t *ecif_corrections_history(const ecif_corrections_t *c)
{
    return &c->history;
}
