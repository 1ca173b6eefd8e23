/*
 * Manual corrections: the state behind merge, split and not-same, and
 * the copy-on-write store views that publish it.
 *
 * The state is the customer number of every record (record_number), plus
 * the history, links and next number of the current view. record_number
 * is filled on the first correction: a server that is never corrected
 * spends no memory or start time on it. A correction
 * changes record_number in place, builds new history and link arrays,
 * materializes a new view from them, appends the journal entry, and only
 * then publishes the view; on any failure it puts record_number back, so
 * a failed call changes nothing.
 *
 * Materializing a view costs O(records + accounts of changed customers +
 * links): customers of the new view whose members are those of the
 * loaded store keep its exposure rows, the others are summed again.
 */
#include <assert.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "corrections.h"
#include "layout.h"
#include "status.h"

/* A published store and the arrays it owns; store is the first member,
 * so a view's address is its store's. */
struct view {
    struct ecif_store store;
    uint32_t refs; /* under ecif_corrections.lock */
    uint32_t *record_customers;
    struct cust_entry *customers;
    uint32_t *members;
    struct exposure_entry *exposure;
    struct number_redirect *history;
    struct correction_link *links;
};

struct ecif_corrections {
    const struct ecif_store *base;
    pthread_mutex_t lock; /* guards everything below */
    struct view *current;
    uint64_t *record_number;
    ecif_journal_t *journal;
};

/* ---- Views ----------------------------------------------------------------
 */

static void view_free(struct view *v)
{
    free(v->record_customers);
    free(v->customers);
    free(v->members);
    free(v->exposure);
    free(v->history);
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

/* The order of exposure rows in a snapshot: product, then currency. */
static int compare_items(const void *pa, const void *pb, void *arg)
{
    const struct exposure_item *a = pa, *b = pb;
    const char *pool = arg;
    int cmp = strcmp(pool + a->product, pool + b->product);
    return cmp != 0 ? cmp : strcmp(pool + a->currency, pool + b->currency);
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
        if (i == 0 || items[i].product != items[i - 1].product ||
            items[i].currency != items[i - 1].currency) {
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
        /* Sums fit: the same accounts summed to a stored total before. */
        ecif_amount_add(&e->credit_limit, items[i].credit_limit);
        ecif_amount_add(&e->balance, items[i].balance);
    }
    free(items);
    return ECIF_OK;
}

/* Fills the customers, members and exposure of v from record_number. */
static int view_fill_customers(const struct ecif_store *base,
                               const uint64_t *record_number, struct view *v)
{
    uint32_t n = base->record_count;
    uint64_t *numbers = malloc((n ? n : 1) * sizeof(uint64_t));
    size_t k = 0, rows_cap = 0, rows = 0;
    int rc = ECIF_ENOMEM;

    v->record_customers = malloc((n ? n : 1) * sizeof(uint32_t));
    v->members = malloc((n ? n : 1) * sizeof(uint32_t));
    if (numbers == NULL || v->record_customers == NULL || v->members == NULL)
        goto out;
    memcpy(numbers, record_number, n * sizeof(uint64_t));
    if (n > 1)
        qsort(numbers, n, sizeof(uint64_t), compare_u64);
    for (uint32_t i = 0; i < n; i++) {
        if (k == 0 || numbers[k - 1] != numbers[i])
            numbers[k++] = numbers[i];
    }
    v->customers = calloc(k ? k : 1, sizeof(*v->customers));
    if (v->customers == NULL)
        goto out;
    for (uint32_t r = 0; r < n; r++) {
        uint64_t *hit = bsearch(&record_number[r], numbers, k, sizeof(uint64_t),
                                compare_u64);
        assert(hit != NULL);
        v->record_customers[r] = (uint32_t)(hit - numbers);
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
    /* Members in source-key order, as a snapshot keeps them. */
    for (uint32_t i = 0; i < n; i++) {
        uint32_t r = base->sources[i];
        struct cust_entry *ce = &v->customers[v->record_customers[r]];
        v->members[ce->members_first + ce->member_count++] = r;
    }
    for (size_t c = 0; c < k; c++) {
        uint32_t old;
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
            if (grown == NULL)
                goto out;
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
    v->store.customers = v->customers;
    v->store.customer_count = (uint32_t)k;
    v->store.members = v->members;
    v->store.exposure = v->exposure;
    v->store.exposure_count = (uint32_t)rows;
    v->store.record_customers = v->record_customers;
    rc = ECIF_OK;
out:
    free(numbers);
    return rc;
}

/*
 * Builds a view of base with the customers of record_number. Takes
 * ownership of history and links (also on failure).
 */
static int view_build(const struct ecif_store *base,
                      const uint64_t *record_number,
                      struct number_redirect *history, size_t history_count,
                      struct correction_link *links, size_t links_count,
                      uint64_t next_number, struct view **out)
{
    struct view *v = calloc(1, sizeof(*v));

    *out = NULL;
    if (v == NULL) {
        free(history);
        free(links);
        return ECIF_ENOMEM;
    }
    v->store = *base;
    v->store.buffer = NULL; /* the loaded store owns the file image */
    v->history = history;
    v->links = links;
    v->store.history = history;
    v->store.history_count = history_count;
    v->store.links = links;
    v->store.links_count = links_count;
    v->store.next_customer_number = next_number;
    int rc = view_fill_customers(base, record_number, v);
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

int ecif_corrections_create(const ecif_store_t *base, ecif_corrections_t **out,
                            char *err, size_t errlen)
{
    ecif_corrections_t *c = calloc(1, sizeof(*c));

    *out = NULL;
    if (c == NULL)
        return ecif_fail(ECIF_ENOMEM, err, errlen, "out of memory");
    c->base = base;
    c->current = calloc(1, sizeof(*c->current));
    if (c->current == NULL) {
        free(c);
        return ecif_fail(ECIF_ENOMEM, err, errlen, "out of memory");
    }
    c->current->store = *base;
    c->current->store.buffer = NULL;
    c->current->refs = 1;
    pthread_mutex_init(&c->lock, NULL);
    *out = c;
    return ECIF_OK;
}

void ecif_corrections_destroy(ecif_corrections_t *c)
{
    if (c == NULL)
        return;
    assert(c->current->refs == 1);
    view_free(c->current);
    ecif_journal_close(c->journal);
    free(c->record_number);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

void ecif_corrections_attach_journal(ecif_corrections_t *c,
                                     ecif_journal_t *journal)
{
    pthread_mutex_lock(&c->lock);
    ecif_journal_close(c->journal);
    c->journal = journal;
    pthread_mutex_unlock(&c->lock);
}

const ecif_store_t *ecif_corrections_acquire(ecif_corrections_t *c)
{
    pthread_mutex_lock(&c->lock);
    struct view *v = c->current;
    v->refs++;
    pthread_mutex_unlock(&c->lock);
    return &v->store;
}

void ecif_corrections_release(ecif_corrections_t *c, const ecif_store_t *view)
{
    struct view *v = (struct view *)view;
    bool last;

    pthread_mutex_lock(&c->lock);
    assert(v->refs > 0);
    last = --v->refs == 0;
    pthread_mutex_unlock(&c->lock);
    if (last)
        view_free(v);
}

/* Replaces the current view; the caller holds the lock. */
static void publish_locked(ecif_corrections_t *c, struct view *v)
{
    struct view *old = c->current;

    v->refs = 1;
    c->current = v;
    if (--old->refs == 0)
        view_free(old);
}

/* ---- Links ----------------------------------------------------------------
 */

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
 * record_number no longer satisfy: a later correction overrides an
 * earlier one, so the set kept never contradicts itself.
 */
static void links_normalize(link_vec_t *v, const uint64_t *record_number)
{
    size_t kept = 0;

    if (v->count > 1)
        qsort(v->data, v->count, sizeof(*v->data), compare_links);
    for (size_t i = 0; i < v->count; i++) {
        const struct correction_link *l = &v->data[i];
        bool same = record_number[l->record_a] == record_number[l->record_b];
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
    uint64_t moved_from; /* their number before */
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
    if (marked_not_same(v, a, b))
        return ecif_fail(ECIF_ECONFLICT, err, errlen,
                         "customer_a '%s' and customer_b '%s' are marked "
                         "not the same customer",
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
    for (uint32_t i = 0; i < nb; i++)
        c->record_number[gone_ids[i]] = keep_number;
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

/* Looks the split's keys up: every one a record of customer, none twice. */
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
    for (size_t i = 0; i < ch->moved_count; i++)
        c->record_number[ch->moved[i]] = new_number;
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
 * Applies e to the state and publishes the result; the caller holds the
 * lock. With write, appends e to the journal before publishing.
 */
static int apply_locked(ecif_corrections_t *c, const ecif_journal_entry_t *e,
                        bool write, ecif_correction_result_t *res, char *err,
                        size_t errlen)
{
    const struct ecif_store *v = &c->current->store;
    struct change ch = {0};
    struct view *next = NULL;
    size_t links_before = v->links_count;
    int rc;

    memset(res, 0, sizeof(*res));
    if (ensure_record_numbers(c) != ECIF_OK)
        return ecif_fail(ECIF_ENOMEM, err, errlen,
                         "out of memory while applying the first correction");
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
        links_normalize(&ch.links, c->record_number);
        res->links_added = ch.links.count > links_before
                               ? (uint32_t)(ch.links.count - links_before)
                               : 0;
        rc = view_build(c->base, c->record_number, ch.history, ch.history_count,
                        ch.links.data, ch.links.count, ch.next_number, &next);
        ch.history = NULL;
        ch.links.data = NULL;
        if (rc == ECIF_ENOMEM)
            ecif_fail(rc, err, errlen,
                      "out of memory while applying the "
                      "correction");
    }
    if (rc == ECIF_OK && write && c->journal != NULL) {
        ecif_journal_entry_t copy = *e;
        rc = ecif_journal_append(c->journal, &copy, err, errlen);
        res->sequence = copy.sequence;
    }
    if (rc != ECIF_OK) {
        for (size_t i = 0; i < ch.moved_count && ch.moved_from != 0; i++)
            c->record_number[ch.moved[i]] = ch.moved_from;
        if (next != NULL)
            view_free(next);
        change_free(&ch);
        return rc == ECIF_ENOMEM && err != NULL && err[0] == '\0'
                   ? ecif_fail(rc, err, errlen, "out of memory")
                   : rc;
    }
    publish_locked(c, next);
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
    pthread_mutex_lock(&c->lock);
    int rc = apply_locked(c, entry, true, result, err, errlen);
    pthread_mutex_unlock(&c->lock);
    return rc;
}

int ecif_corrections_replay(ecif_corrections_t *c, ecif_journal_t *journal,
                            uint64_t *applied, uint64_t *torn_bytes, char *err,
                            size_t errlen)
{
    ecif_journal_entry_t entry;
    ecif_correction_result_t res;
    char detail[400];
    int rc;

    *applied = 0;
    pthread_mutex_lock(&c->lock);
    while ((rc = ecif_journal_next(journal, &entry, torn_bytes, err, errlen)) ==
           1) {
        detail[0] = '\0';
        rc = apply_locked(c, &entry, false, &res, detail, sizeof(detail));
        if (rc != ECIF_OK) {
            rc = ecif_fail(rc, err, errlen,
                           "journal entry %llu no longer applies: %s",
                           (unsigned long long)entry.sequence, detail);
            break;
        }
        (*applied)++;
    }
    pthread_mutex_unlock(&c->lock);
    return rc;
}
