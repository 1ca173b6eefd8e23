/*
 * Survivorship over the public store API.
 *
 * A single-valued field is chosen by a cascade of filters over the member
 * records that have a value: each step keeps the members it prefers, and
 * the first step after which all remaining members agree on the value
 * names the rule. Fields that belong together (the three name fields, the
 * ID type and number) are taken from one record, so a golden name is never
 * assembled from parts of different records.
 *
 * Multi-valued fields are the distinct union of the members' values.
 * Phones and emails are compared in the form the matcher reads them, so
 * "+86 139 7531 8642" and "13975318642" are one phone. Every other value
 * is compared as stored, byte for byte.
 */

/* qsort_r is a GNU extension; the build defines _GNU_SOURCE. */
#include "survivorship.h"

#include <assert.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cn_id.h"
#include "email.h"
#include "normalize.h"
#include "phone.h"
#include "status.h"

/* One member record and what the rules need to know of it. */
typedef struct golden_member {
    uint32_t record;
    uint32_t trust; /* index in the trust order; n_trusted when unlisted */
    bool verified;  /* ecif_golden_id_verified() */
    ecif_record_t rec;
} golden_member_t;

/* Fields taken together from one record, and which of them are compared. */
typedef struct golden_group {
    ecif_golden_field_t first;
    ecif_golden_field_t key_first; /* fields key_first..last are compared */
    ecif_golden_field_t last;
    bool verified_id_rule;
} golden_group_t;

static const golden_group_t golden_groups[] = {
    {ECIF_GOLDEN_NAME, ECIF_GOLDEN_NAME, ECIF_GOLDEN_FAMILY_NAME, true},
    {ECIF_GOLDEN_ID_TYPE, ECIF_GOLDEN_ID_NUMBER, ECIF_GOLDEN_ID_NUMBER, false},
    {ECIF_GOLDEN_DOB, ECIF_GOLDEN_DOB, ECIF_GOLDEN_DOB, false},
    {ECIF_GOLDEN_GENDER, ECIF_GOLDEN_GENDER, ECIF_GOLDEN_GENDER, false},
};

/* The working set of one cascade: member indexes in store order. */
typedef struct golden_set {
    const golden_member_t *members;
    const golden_group_t *group;
    uint32_t *idx;
    uint32_t count;
    uint32_t *sorted; /* scratch of the same capacity */
    bool *keep;       /* scratch, one flag per member */
} golden_set_t;

static bool is_set(const char *s)
{
    return s != NULL && s[0] != '\0';
}

static const char *nonnull(const char *s)
{
    return s != NULL ? s : "";
}

static const char *member_field(const golden_member_t *m,
                                ecif_golden_field_t field)
{
    switch (field) {
    case ECIF_GOLDEN_NAME:
        return nonnull(m->rec.name);
    case ECIF_GOLDEN_GIVEN_NAME:
        return nonnull(m->rec.given_name);
    case ECIF_GOLDEN_FAMILY_NAME:
        return nonnull(m->rec.family_name);
    case ECIF_GOLDEN_ID_TYPE:
        return nonnull(m->rec.id_type);
    case ECIF_GOLDEN_ID_NUMBER:
        return nonnull(m->rec.id_number);
    case ECIF_GOLDEN_DOB:
        return nonnull(m->rec.dob);
    case ECIF_GOLDEN_GENDER:
        return nonnull(m->rec.gender);
    case ECIF_GOLDEN_FIELD_COUNT:
        break;
    }
    assert(!"unknown golden field");
    return "";
}

static bool group_has_value(const golden_member_t *m, const golden_group_t *g)
{
    for (int f = g->key_first; f <= (int)g->last; f++) {
        if (is_set(member_field(m, (ecif_golden_field_t)f)))
            return true;
    }
    return false;
}

static int group_compare(const golden_member_t *a, const golden_member_t *b,
                         const golden_group_t *g)
{
    for (int f = g->key_first; f <= (int)g->last; f++) {
        int c = strcmp(member_field(a, (ecif_golden_field_t)f),
                       member_field(b, (ecif_golden_field_t)f));
        if (c != 0)
            return c;
    }
    return 0;
}

/* qsort_r comparator of member indexes: by value, then store order. */
static int compare_by_value(const void *pa, const void *pb, void *arg)
{
    const golden_set_t *set = arg;
    uint32_t a = *(const uint32_t *)pa;
    uint32_t b = *(const uint32_t *)pb;
    int c = group_compare(&set->members[a], &set->members[b], set->group);
    if (c != 0)
        return c;
    return a < b ? -1 : a > b;
}

static bool set_agrees(const golden_set_t *set)
{
    for (uint32_t i = 1; i < set->count; i++) {
        if (group_compare(&set->members[set->idx[0]],
                          &set->members[set->idx[i]], set->group) != 0)
            return false;
    }
    return true;
}

/* Keeps the members whose keep flag is set, in store order. */
static void set_apply_keep(golden_set_t *set)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < set->count; i++) {
        if (set->keep[set->idx[i]])
            set->idx[n++] = set->idx[i];
    }
    assert(n > 0);
    set->count = n;
}

/* Keeps the members whose resident ID verifies, when there are any. */
static void filter_verified(golden_set_t *set)
{
    bool any = false;
    for (uint32_t i = 0; i < set->count; i++) {
        uint32_t m = set->idx[i];
        set->keep[m] = set->members[m].verified;
        any = any || set->keep[m];
    }
    if (any)
        set_apply_keep(set);
}

/* Keeps the members of the most trusted source present. */
static void filter_trusted(golden_set_t *set)
{
    uint32_t best = UINT32_MAX;
    for (uint32_t i = 0; i < set->count; i++) {
        uint32_t t = set->members[set->idx[i]].trust;
        if (t < best)
            best = t;
    }
    for (uint32_t i = 0; i < set->count; i++) {
        uint32_t m = set->idx[i];
        set->keep[m] = set->members[m].trust == best;
    }
    set_apply_keep(set);
}

/* Keeps the members updated last, when any member has an update time. A
 * member without one counts as older than every member with one. */
static void filter_most_recent(golden_set_t *set)
{
    int64_t latest = 0;
    for (uint32_t i = 0; i < set->count; i++) {
        int64_t t = set->members[set->idx[i]].rec.updated_at;
        if (t > latest)
            latest = t;
    }
    if (latest == 0)
        return;
    for (uint32_t i = 0; i < set->count; i++) {
        uint32_t m = set->idx[i];
        set->keep[m] = set->members[m].rec.updated_at == latest;
    }
    set_apply_keep(set);
}

/* Returns how many words a value has (runs of characters between
 * spaces). */
static int words(const char *v)
{
    int n = 0;
    for (const char *p = v; *p != '\0'; p++) {
        if (*p != ' ' && (p == v || p[-1] == ' '))
            n++;
    }
    return n;
}

/* Returns how complete member m's value of group g is: the fields it
 * fills first, then the words in them, so that "Adaeze Okonkwo" beats
 * "Okonkwo". Longer words do not count: a typo with an extra letter is
 * no fuller. */
static int group_filled(const golden_member_t *m, const golden_group_t *g)
{
    int fields = 0, n = 0;
    for (int f = g->first; f <= (int)g->last; f++) {
        const char *v = member_field(m, (ecif_golden_field_t)f);
        if (is_set(v)) {
            fields++;
            n += words(v);
        }
    }
    return fields * 1000 + (n < 999 ? n : 999);
}

/* Keeps the most complete members (group_filled): a name with its given
 * name beats the family name alone, a number with its type beats the
 * number alone. */
static void filter_most_complete(golden_set_t *set)
{
    int max_filled = 0;

    for (uint32_t i = 0; i < set->count; i++) {
        int n = group_filled(&set->members[set->idx[i]], set->group);
        if (n > max_filled)
            max_filled = n;
    }
    for (uint32_t i = 0; i < set->count; i++) {
        uint32_t m = set->idx[i];
        set->keep[m] = group_filled(&set->members[m], set->group) == max_filled;
    }
    set_apply_keep(set);
}

/* Keeps the members holding a value that the most members hold. */
static void filter_most_common(golden_set_t *set)
{
    memcpy(set->sorted, set->idx, set->count * sizeof(*set->idx));
    qsort_r(set->sorted, set->count, sizeof(*set->sorted), compare_by_value,
            set);

    uint32_t best = 0;
    for (uint32_t start = 0, end; start < set->count; start = end) {
        for (end = start + 1; end < set->count; end++) {
            if (group_compare(&set->members[set->sorted[start]],
                              &set->members[set->sorted[end]], set->group) != 0)
                break;
        }
        if (end - start > best)
            best = end - start;
    }
    for (uint32_t start = 0, end; start < set->count; start = end) {
        for (end = start + 1; end < set->count; end++) {
            if (group_compare(&set->members[set->sorted[start]],
                              &set->members[set->sorted[end]], set->group) != 0)
                break;
        }
        for (uint32_t k = start; k < end; k++)
            set->keep[set->sorted[k]] = end - start == best;
    }
    set_apply_keep(set);
}

/*
 * Narrows the set down to one member and returns the rule that decided
 * the value: the first step after which the remaining members agree.
 * Steps that cannot change the value still run, so that among members
 * holding the same value the verified, most trusted and most recent one
 * is the source.
 */
static ecif_golden_rule_t choose_member(golden_set_t *set)
{
    ecif_golden_rule_t rule = ECIF_GOLDEN_RULE_NONE;
    if (set_agrees(set))
        rule = ECIF_GOLDEN_RULE_UNANIMOUS;

    if (set->group->verified_id_rule) {
        filter_verified(set);
        if (rule == ECIF_GOLDEN_RULE_NONE && set_agrees(set))
            rule = ECIF_GOLDEN_RULE_VERIFIED_ID;
    }

    filter_trusted(set);
    if (rule == ECIF_GOLDEN_RULE_NONE && set_agrees(set))
        rule = ECIF_GOLDEN_RULE_SOURCE_TRUST;

    filter_most_recent(set);
    if (rule == ECIF_GOLDEN_RULE_NONE && set_agrees(set))
        rule = ECIF_GOLDEN_RULE_MOST_RECENT;

    filter_most_complete(set);
    if (rule == ECIF_GOLDEN_RULE_NONE && set_agrees(set))
        rule = ECIF_GOLDEN_RULE_MOST_COMPLETE;

    if (rule == ECIF_GOLDEN_RULE_NONE) {
        filter_most_common(set);
        if (set_agrees(set))
            rule = ECIF_GOLDEN_RULE_MOST_COMMON;
    }

    if (rule == ECIF_GOLDEN_RULE_NONE)
        rule = ECIF_GOLDEN_RULE_FIRST;
    set->count = 1;
    return rule;
}

static void choose_group(golden_set_t *set, uint32_t n_members,
                         ecif_golden_record_t *out)
{
    const golden_group_t *g = set->group;
    set->count = 0;
    for (uint32_t i = 0; i < n_members; i++) {
        if (group_has_value(&set->members[i], g))
            set->idx[set->count++] = i;
    }

    for (int f = g->first; f <= (int)g->last; f++) {
        out->fields[f].value = "";
        out->fields[f].rule = ECIF_GOLDEN_RULE_NONE;
    }
    if (set->count == 0)
        return;

    ecif_golden_rule_t rule = choose_member(set);
    const golden_member_t *winner = &set->members[set->idx[0]];
    for (int f = g->first; f <= (int)g->last; f++) {
        const char *value = member_field(winner, (ecif_golden_field_t)f);
        if (!is_set(value))
            continue;
        out->fields[f].value = value;
        out->fields[f].record = winner->record;
        out->fields[f].rule = rule;
    }
}

/* ---- Multi-valued fields ------------------------------------------------- */

typedef struct golden_entry {
    const char *value;
    const char *key; /* what equal values share: golden_value_key() */
    uint32_t member;
    uint32_t trust;
    uint32_t position; /* member * ECIF_MAX_VALUES + index in its list */
} golden_entry_t;

/* By key, then trust, then store order: one run per distinct value. */
static int compare_entries(const void *pa, const void *pb)
{
    const golden_entry_t *a = pa;
    const golden_entry_t *b = pb;
    int c = strcmp(a->key, b->key);
    if (c != 0)
        return c;
    if (a->trust != b->trust)
        return a->trust < b->trust ? -1 : 1;
    return a->member < b->member ? -1 : a->member > b->member;
}

/* A distinct value during ranking: its run in the sorted entries. */
typedef struct golden_run {
    uint32_t start;
    uint32_t sources; /* distinct members */
    uint32_t trust;   /* of the most trusted member */
    uint32_t first;   /* earliest position: store order, then list order */
} golden_run_t;

/* Most trusted first, then held by more members, then earliest. */
static int compare_runs(const void *pa, const void *pb)
{
    const golden_run_t *a = pa;
    const golden_run_t *b = pb;
    if (a->trust != b->trust)
        return a->trust < b->trust ? -1 : 1;
    if (a->sources != b->sources)
        return a->sources > b->sources ? -1 : 1;
    return a->first < b->first ? -1 : a->first > b->first;
}

static void list_values(const ecif_record_t *rec, ecif_golden_list_t list,
                        const char *const **values, uint32_t *count)
{
    switch (list) {
    case ECIF_GOLDEN_PHONES:
        *values = rec->phones;
        *count = rec->n_phones;
        return;
    case ECIF_GOLDEN_EMAILS:
        *values = rec->emails;
        *count = rec->n_emails;
        return;
    case ECIF_GOLDEN_ADDRESSES:
        *values = rec->addresses;
        *count = rec->n_addresses;
        return;
    case ECIF_GOLDEN_LIST_COUNT:
        break;
    }
    assert(!"unknown golden list");
    *values = NULL;
    *count = 0;
}

/* Bytes a key may take beyond the length of its value: "+86" and an
 * extension's "x" at most. A key that would not fit is the value itself. */
#define GOLDEN_KEY_SLACK 8

/*
 * Writes the key under which value counts as one distinct value of list
 * into out (at least strlen(value) + GOLDEN_KEY_SLACK + 1 bytes): the
 * canonical phone with its extension, or the normalized email, as the
 * matcher reads them. A value the normalizer rejects, and every address,
 * is its own key. Returns the length written.
 */
static size_t golden_value_key(ecif_golden_list_t list, const char *value,
                               char *out, size_t outlen)
{
    size_t n = 0;

    if (list == ECIF_GOLDEN_PHONES) {
        struct phone_info info;
        if (phone_normalize(value, PHONE_CC_CHINA, &info) > 0) {
            int w =
                snprintf(out, outlen, "%s%s%s", info.canonical,
                         info.extension[0] != '\0' ? "x" : "", info.extension);
            if (w > 0 && (size_t)w < outlen)
                return (size_t)w;
        }
    } else if (list == ECIF_GOLDEN_EMAILS) {
        n = email_normalize(value, out, outlen);
    }
    if (n == 0) {
        n = strlen(value);
        memcpy(out, value, n + 1);
    }
    return n;
}

/* Fills one item from a run of sorted entries [start, end). */
static void fill_item(const golden_member_t *members,
                      const golden_entry_t *entries, uint32_t start,
                      uint32_t end, ecif_golden_item_t *item)
{
    memset(item, 0, sizeof(*item));
    item->value = entries[start].value;
    for (uint32_t k = start; k < end; k++) {
        if (k > start && entries[k].member == entries[k - 1].member)
            continue;
        if (item->n_records < ECIF_GOLDEN_MAX_SOURCES)
            item->records[item->n_records++] =
                members[entries[k].member].record;
        item->source_count++;
    }
}

static int choose_list(const golden_member_t *members, uint32_t n_members,
                       ecif_golden_list_t list, ecif_golden_items_t *out)
{
    size_t total = 0;
    for (uint32_t i = 0; i < n_members; i++) {
        const char *const *values;
        uint32_t n;
        list_values(&members[i].rec, list, &values, &n);
        total += n;
    }
    memset(out, 0, sizeof(*out));
    if (total == 0)
        return ECIF_OK;

    size_t key_bytes = 0;
    for (uint32_t i = 0; i < n_members; i++) {
        const char *const *values;
        uint32_t n;
        list_values(&members[i].rec, list, &values, &n);
        for (uint32_t k = 0; k < n; k++)
            key_bytes += strlen(nonnull(values[k])) + GOLDEN_KEY_SLACK + 1;
    }
    golden_entry_t *entries = calloc(total, sizeof(*entries));
    golden_run_t *runs = calloc(total, sizeof(*runs));
    char *keys = malloc(key_bytes);
    if (entries == NULL || runs == NULL || keys == NULL) {
        free(entries);
        free(runs);
        free(keys);
        return ECIF_ENOMEM;
    }

    size_t n_entries = 0, key_used = 0;
    for (uint32_t i = 0; i < n_members; i++) {
        const char *const *values;
        uint32_t n;
        list_values(&members[i].rec, list, &values, &n);
        for (uint32_t k = 0; k < n; k++) {
            if (!is_set(values[k]))
                continue;
            char *key = keys + key_used;
            key_used +=
                golden_value_key(list, values[k], key,
                                 strlen(values[k]) + GOLDEN_KEY_SLACK + 1) +
                1;
            entries[n_entries].key = key;
            entries[n_entries].value = values[k];
            entries[n_entries].member = i;
            entries[n_entries].trust = members[i].trust;
            entries[n_entries].position = i * ECIF_MAX_VALUES + k;
            n_entries++;
        }
    }
    qsort(entries, n_entries, sizeof(*entries), compare_entries);

    uint32_t n_runs = 0;
    for (uint32_t start = 0, end; start < n_entries; start = end) {
        golden_run_t *run = &runs[n_runs++];
        run->start = start;
        run->trust = entries[start].trust;
        run->first = entries[start].position;
        run->sources = 1;
        for (end = start + 1; end < n_entries; end++) {
            if (strcmp(entries[end].key, entries[start].key) != 0)
                break;
            if (entries[end].member != entries[end - 1].member)
                run->sources++;
            if (entries[end].position < run->first)
                run->first = entries[end].position;
        }
    }
    qsort(runs, n_runs, sizeof(*runs), compare_runs);

    out->distinct_count = n_runs;
    out->count = n_runs < ECIF_MAX_VALUES ? n_runs : ECIF_MAX_VALUES;
    for (uint32_t r = 0; r < out->count; r++) {
        uint32_t start = runs[r].start;
        uint32_t end = start + 1;
        while (end < n_entries &&
               strcmp(entries[end].key, entries[start].key) == 0)
            end++;
        fill_item(members, entries, start, end, &out->items[r]);
    }
    free(entries);
    free(runs);
    free(keys);
    return ECIF_OK;
}

/* ---- Public API ---------------------------------------------------------- */

bool ecif_golden_id_verified(const ecif_record_t *rec)
{
    if (!is_set(rec->id_number) || !is_set(rec->dob))
        return false;

    /* A number of resident-ID shape with no type is read as one, as the
     * matcher reads it. */
    id_doc_type_t type = id_doc_type_parse(rec->id_type);
    if (type != ID_DOC_RESIDENT_ID &&
        !(type == ID_DOC_OTHER && !is_set(rec->id_type)))
        return false;

    char id[ECIF_NORM_MAX];
    if (ecif_norm_id(rec->id_number, id, sizeof(id)) != 18 ||
        !cn_id_valid18(id))
        return false;

    cn_id_info_t info;
    if (cn_id_parse(id, &info) != ECIF_OK || !info.date_valid)
        return false;

    uint32_t dob = 0;
    bool exists = false;
    if (ecif_norm_date(rec->dob, &dob, &exists) != ECIF_OK || !exists)
        return false;
    return dob == info.dob;
}

static uint32_t trust_rank(const char *source_system,
                           const ecif_golden_options_t *opts)
{
    size_t n = opts != NULL ? opts->n_trusted_sources : 0;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(opts->trusted_sources[i], nonnull(source_system)) == 0)
            return (uint32_t)i;
    }
    return (uint32_t)n;
}

int ecif_golden_build(const ecif_store_t *store, uint32_t customer,
                      const ecif_golden_options_t *opts,
                      ecif_golden_record_t *out)
{
    memset(out, 0, sizeof(*out));
    ecif_store_info_t info;
    ecif_store_get_info(store, &info);
    if (customer >= info.customer_count)
        return ECIF_ENOTFOUND;
    if (opts != NULL && opts->n_trusted_sources > ECIF_GOLDEN_MAX_TRUSTED)
        return ECIF_EINVAL;

    uint32_t count = 0;
    const uint32_t *ids = ecif_store_customer_records(store, customer, &count);
    size_t slots = count > 0 ? count : 1;
    golden_member_t *members = calloc(slots, sizeof(*members));
    uint32_t *idx = calloc(slots, sizeof(*idx));
    uint32_t *sorted = calloc(slots, sizeof(*sorted));
    bool *keep = calloc(slots, sizeof(*keep));
    int status = ECIF_OK;
    if (members == NULL || idx == NULL || sorted == NULL || keep == NULL) {
        status = ECIF_ENOMEM;
        goto done;
    }

    for (uint32_t i = 0; i < count; i++) {
        golden_member_t *m = &members[i];
        m->record = ids[i];
        ecif_store_get_record(store, ids[i], &m->rec);
        m->trust = trust_rank(m->rec.source_system, opts);
        m->verified = ecif_golden_id_verified(&m->rec);
    }

    out->customer = customer;
    out->member_count = count;
    for (size_t g = 0; g < sizeof(golden_groups) / sizeof(golden_groups[0]);
         g++) {
        golden_set_t set = {
            .members = members,
            .group = &golden_groups[g],
            .idx = idx,
            .sorted = sorted,
            .keep = keep,
        };
        choose_group(&set, count, out);
    }
    for (int l = 0; l < ECIF_GOLDEN_LIST_COUNT && status == ECIF_OK; l++)
        status =
            choose_list(members, count, (ecif_golden_list_t)l, &out->lists[l]);

done:
    free(members);
    free(idx);
    free(sorted);
    free(keep);
    if (status != ECIF_OK)
        memset(out, 0, sizeof(*out));
    return status;
}

int ecif_golden_parse_trust(char *text, const char **names, size_t max,
                            size_t *count, char *err, size_t errlen)
{
    *count = 0;
    char *p = text;
    for (;;) {
        char *comma = strchr(p, ',');
        if (comma != NULL)
            *comma = '\0';
        if (*p == '\0')
            return ecif_fail(ECIF_EINVAL, err, errlen,
                             "empty source system name in the trust order "
                             "(name %zu)",
                             *count + 1);
        if (*count == max)
            return ecif_fail(ECIF_EINVAL, err, errlen,
                             "too many source systems in the trust order "
                             "(maximum %zu)",
                             max);
        names[(*count)++] = p;
        if (comma == NULL)
            return ECIF_OK;
        p = comma + 1;
    }
}

const char *ecif_golden_field_str(ecif_golden_field_t field)
{
    static const char *const names[ECIF_GOLDEN_FIELD_COUNT] = {
        "name",      "given_name", "family_name", "id_type",
        "id_number", "dob",        "gender",
    };
    if ((unsigned)field < ECIF_GOLDEN_FIELD_COUNT)
        return names[field];
    return "unknown";
}

const char *ecif_golden_list_str(ecif_golden_list_t list)
{
    static const char *const names[ECIF_GOLDEN_LIST_COUNT] = {
        "phones", "emails", "addresses"};
    if ((unsigned)list < ECIF_GOLDEN_LIST_COUNT)
        return names[list];
    return "unknown";
}

const char *ecif_golden_rule_str(ecif_golden_rule_t rule)
{
    switch (rule) {
    case ECIF_GOLDEN_RULE_NONE:
        return "none";
    case ECIF_GOLDEN_RULE_UNANIMOUS:
        return "unanimous";
    case ECIF_GOLDEN_RULE_VERIFIED_ID:
        return "verified_id";
    case ECIF_GOLDEN_RULE_SOURCE_TRUST:
        return "source_trust";
    case ECIF_GOLDEN_RULE_MOST_RECENT:
        return "most_recent";
    case ECIF_GOLDEN_RULE_MOST_COMPLETE:
        return "most_complete";
    case ECIF_GOLDEN_RULE_MOST_COMMON:
        return "most_common";
    case ECIF_GOLDEN_RULE_FIRST:
        return "first";
    case ECIF_GOLDEN_RULE_UNION:
        return "union";
    }
    return "unknown";
}
