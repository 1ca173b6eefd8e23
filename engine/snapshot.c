/*
 * Snapshot writing and loading.
 *
 * Writing: header, section table, then each section padded to 64 bytes,
 * into a temporary file beside the target; fsync; rename; fsync of the
 * directory. A reader therefore sees the old file or the new one, never a
 * mix.
 *
 * Loading: the whole file is read into one 64-byte-aligned buffer with
 * io_uring (several large reads in flight), or mapped read-only in map
 * mode. Then every check that could make a later access go out of bounds
 * is run, and the store's pointers are set to the sections. A read buffer
 * belongs to the kernel until each read's completion arrives. Nothing
 * touches it before then, except threads that fault its pages in without
 * writing to them (prefault_run).
 */
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <libgen.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hash.h"
#include "model.h"
#include "snapshot.h"
#include "status.h"

#define SECTION_ALIGN   64
#define READ_CHUNK      (4u << 20)
#define READS_IN_FLIGHT 8

struct section_src {
    uint32_t id;
    const void *data;
    uint64_t bytes;
};

static void collect_sections(const struct ecif_store *s,
                             struct section_src out[SECTION_COUNT])
{
    const struct section_src src[SECTION_COUNT] = {
        {SECTION_STRINGS, s->strings, s->strings_bytes},
        {SECTION_RECORDS, s->records,
         (uint64_t)s->record_count * sizeof(struct rec_entry)},
        {SECTION_VALUES, s->values, s->values_count * sizeof(uint32_t)},
        {SECTION_ACCOUNTS, s->accounts,
         (uint64_t)s->account_count * sizeof(struct acct_entry)},
        {SECTION_CUSTOMERS, s->customers,
         (uint64_t)s->customer_count * sizeof(struct cust_entry)},
        {SECTION_MEMBERS, s->members,
         (uint64_t)s->record_count * sizeof(uint32_t)},
        {SECTION_EXPOSURE, s->exposure,
         (uint64_t)s->exposure_count * sizeof(struct exposure_entry)},
        {SECTION_SOURCES, s->sources,
         (uint64_t)s->record_count * sizeof(uint32_t)},
        {SECTION_SHARDS, s->shards,
         (uint64_t)s->shard_count * sizeof(struct shard_entry)},
        {SECTION_SLOTS, s->slots, s->slots_count * sizeof(struct slot_entry)},
        {SECTION_POSTINGS, s->postings, s->postings_count * sizeof(uint32_t)},
        {SECTION_NAMES, s->names, s->names_count * sizeof(struct name_count)},
        {SECTION_HISTORY, s->history,
         s->history_count * sizeof(struct number_redirect)},
        {SECTION_MODEL, s->model_text, s->model_text_bytes},
        {SECTION_CORRECTIONS, s->links,
         s->links_count * sizeof(struct correction_link)},
        {SECTION_UPDATED, s->updated,
         s->updated != NULL ? (uint64_t)s->record_count * sizeof(uint32_t) : 0},
        {SECTION_ORIGINS, s->history_origins,
         s->history_origins != NULL ? s->history_count * sizeof(uint32_t)
                                    : 0},
    };
    memcpy(out, src, sizeof(src));
}

static uint64_t align_up(uint64_t x)
{
    return (x + SECTION_ALIGN - 1) & ~(uint64_t)(SECTION_ALIGN - 1);
}

static int write_all(int fd, const void *data, uint64_t len)
{
    const char *p = data;

    while (len > 0) {
        ssize_t n = write(fd, p, len > (1u << 30) ? (1u << 30) : len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        p += n;
        len -= (uint64_t)n;
    }
    return 0;
}

/* Fsyncs the directory that contains path, so a rename in it is durable. */
static int sync_parent(const char *path)
{
    char copy[4096];
    int fd, rc = 0;

    snprintf(copy, sizeof(copy), "%s", path);
    fd = open(dirname(copy), O_RDONLY | O_DIRECTORY);
    if (fd < 0)
        return -errno;
    if (fsync(fd) != 0)
        rc = -errno;
    close(fd);
    return rc;
}

int snapshot_write(const struct ecif_store *s, const char *path,
                   uint64_t *bytes, char *err, size_t errlen)
{
    struct section_src src[SECTION_COUNT];
    struct snap_header header;
    struct snap_section table[SECTION_COUNT];
    static const char zeros[SECTION_ALIGN];
    char tmp[4096];
    uint64_t offset;
    int fd, rc;
    const char *step;

    collect_sections(s, src);
    memset(&header, 0, sizeof(header));
    memcpy(header.magic, ECIF_SNAPSHOT_MAGIC, 8);
    header.version = ECIF_SNAPSHOT_VERSION;
    header.section_count = SECTION_COUNT;
    header.shard_count = s->shard_count;
    header.record_count = s->record_count;
    header.customer_count = s->customer_count;
    header.account_count = s->account_count;
    header.exposure_count = s->exposure_count;
    header.key_count = s->key_count;
    header.next_customer_number = s->next_customer_number;

    offset = align_up(sizeof(header) + sizeof(table));
    for (int i = 0; i < SECTION_COUNT; i++) {
        table[i].id = src[i].id;
        table[i].crc = ecif_crc32c(0, src[i].data, src[i].bytes);
        table[i].offset = offset;
        table[i].bytes = src[i].bytes;
        offset = align_up(offset + src[i].bytes);
    }
    header.file_bytes = offset;
    header.header_crc = ecif_crc32c(0, &header, sizeof(header));
    header.header_crc = ecif_crc32c(header.header_crc, table, sizeof(table));

    if ((size_t)snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >= sizeof(tmp))
        return ecif_fail(ECIF_EIO, err, errlen, "snapshot path is too long");
    fd = mkstemp(tmp);
    if (fd < 0)
        return ecif_fail(ECIF_EIO, err, errlen,
                         "cannot create a temporary file beside '%s': %s", path,
                         strerror(errno));

    step = "write";
    rc = write_all(fd, &header, sizeof(header));
    if (rc == 0)
        rc = write_all(fd, table, sizeof(table));
    uint64_t written = sizeof(header) + sizeof(table);
    for (int i = 0; i < SECTION_COUNT && rc == 0; i++) {
        rc = write_all(fd, zeros, table[i].offset - written);
        if (rc == 0)
            rc = write_all(fd, src[i].data, src[i].bytes);
        written = table[i].offset + src[i].bytes;
    }
    if (rc == 0)
        rc = write_all(fd, zeros, header.file_bytes - written);
    if (rc == 0 && fsync(fd) != 0) {
        step = "fsync";
        rc = -errno;
    }
    if (close(fd) != 0 && rc == 0) {
        step = "close";
        rc = -errno;
    }
    if (rc == 0 && rename(tmp, path) != 0) {
        step = "rename";
        rc = -errno;
    }
    if (rc != 0) {
        unlink(tmp);
        return ecif_fail(ECIF_EIO, err, errlen,
                         "%s of snapshot '%s' failed: %s", step, path,
                         strerror(-rc));
    }
    rc = sync_parent(path);
    if (rc != 0)
        return ecif_fail(ECIF_EIO, err, errlen,
                         "fsync of the directory of '%s' failed: %s", path,
                         strerror(-rc));
    *bytes = header.file_bytes;
    return ECIF_OK;
}

/*
 * Maps the anonymous memory that contains a loaded snapshot, asking for
 * transparent huge pages: with 4 KiB pages, faulting in a few GB costs
 * more than reading the file. Freed by ecif_store_close() with munmap.
 * Returns NULL when the memory cannot be had.
 */
static void *map_buffer(uint64_t bytes)
{
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

    if (p == MAP_FAILED)
        return NULL;
    /* Only a hint: without huge pages the load is slower, not wrong. */
    (void)madvise(p, bytes, MADV_HUGEPAGE);
    return p;
}

/* Bytes of the load buffer that one prefault step populates. */
#define PREFAULT_PIECE (8u << 20)

/* The part of a load buffer that prefault threads have not taken yet. */
struct prefault {
    char *buf;
    uint64_t bytes;
    atomic_uint_fast64_t next; /* first byte not taken */
};

/*
 * Populates the buffer piece by piece, from the front, while the reads
 * fill it. Faulting in fresh memory costs more than copying it from the
 * page cache, and the reads alone would fault it in on one CPU.
 * MADV_POPULATE_WRITE maps the pages writable without writing to them, so
 * it is safe on pages that a read is filling.
 */
static void *prefault_run(void *arg)
{
    struct prefault *p = arg;

    for (;;) {
        uint64_t at = atomic_fetch_add(&p->next, PREFAULT_PIECE);
        if (at >= p->bytes)
            break;
        uint64_t n =
            p->bytes - at < PREFAULT_PIECE ? p->bytes - at : PREFAULT_PIECE;
        /* Kernels before Linux 5.14 reject MADV_POPULATE_WRITE, and the
         * reads then fault the pages in themselves. */
        if (madvise(p->buf + at, n, MADV_POPULATE_WRITE) != 0)
            break;
    }
    return NULL;
}

#define PREFAULT_THREADS 3

/*
 * Starts threads that populate p's buffer, one per online CPU except the
 * reading one, from 1 to PREFAULT_THREADS. Returns how many started, and
 * the caller joins them once the reads are done.
 */
static int prefault_start(struct prefault *p, pthread_t *threads)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    int n = PREFAULT_THREADS;
    int started = 0;

    if (cpus <= 2)
        n = 1;
    else if (cpus <= PREFAULT_THREADS + 1)
        n = (int)cpus - 1;

    atomic_init(&p->next, 0);
    for (int t = 0; t < n; t++) {
        if (pthread_create(&threads[started], NULL, prefault_run, p) == 0)
            started++;
    }
    return started;
}

/* Reads len bytes at offset 0 of fd into buf with pread. */
static int read_pread(int fd, char *buf, uint64_t len)
{
    uint64_t done = 0;

    while (done < len) {
        ssize_t n = pread(fd, buf + done, len - done, (off_t)done);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (n == 0)
            return -ENODATA;
        done += (uint64_t)n;
    }
    return 0;
}

/*
 * Reads len bytes of fd into buf with io_uring, READS_IN_FLIGHT chunks of
 * READ_CHUNK bytes at a time; the rest of a short read is read with pread.
 * Returns 0, -ENODATA when the file ended early, another -errno on a read
 * error, or a positive 1 when io_uring itself is unavailable.
 */
static int read_uring(int fd, char *buf, uint64_t len)
{
    struct io_uring ring;
    uint64_t next = 0; /* first byte not yet submitted */
    unsigned inflight = 0;
    int rc = io_uring_queue_init(READS_IN_FLIGHT, &ring, 0);

    if (rc < 0)
        return 1;
    rc = 0;
    while ((next < len || inflight > 0) && rc == 0) {
        while (next < len && inflight < READS_IN_FLIGHT) {
            struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);
            uint64_t n = len - next < READ_CHUNK ? len - next : READ_CHUNK;
            if (sqe == NULL)
                break;
            io_uring_prep_read(sqe, fd, buf + next, (unsigned)n, next);
            io_uring_sqe_set_data64(sqe, next);
            next += n;
            inflight++;
        }
        rc = io_uring_submit(&ring);
        if (rc < 0)
            break;
        rc = 0;

        struct io_uring_cqe *cqe;
        rc = io_uring_wait_cqe(&ring, &cqe);
        if (rc < 0)
            break;
        rc = 0;
        uint64_t at = cqe->user_data;
        int res = cqe->res;
        io_uring_cqe_seen(&ring, cqe);
        inflight--;
        if (res < 0) {
            rc = res;
        } else if (res == 0) {
            rc = -ENODATA;
        } else {
            /* Chunks start at multiples of READ_CHUNK. */
            uint64_t planned = len - at < READ_CHUNK ? len - at : READ_CHUNK;
            if ((uint64_t)res < planned) {
                /* Read the rest of this chunk synchronously. */
                rc = (int)pread(fd, buf + at + res, planned - res,
                                (off_t)(at + res));
                if (rc < 0)
                    rc = -errno;
                else if ((uint64_t)rc < planned - res)
                    rc = -ENODATA;
                else
                    rc = 0;
            }
        }
    }
    /* Drain what is still in flight before the buffer can be freed. */
    while (inflight > 0) {
        struct io_uring_cqe *cqe;
        if (io_uring_wait_cqe(&ring, &cqe) < 0)
            break;
        io_uring_cqe_seen(&ring, cqe);
        inflight--;
    }
    io_uring_queue_exit(&ring);
    return rc;
}

static bool offset_ok(const struct ecif_store *s, uint32_t off)
{
    return off < s->strings_bytes;
}

/* Checks the record entries from first to end - 1. */
static int check_records(const struct ecif_store *s, uint32_t first,
                         uint32_t end, char *err, size_t errlen)
{
    for (uint32_t i = first; i < end; i++) {
        const struct rec_entry *r = &s->records[i];
        const uint32_t offs[] = {
            r->source_system, r->source_id, r->name,           r->given_name,
            r->family_name,   r->id_type,   r->id_number,      r->dob,
            r->gender,        r->norm_name, r->norm_given,     r->norm_family,
            r->norm_han,      r->name_key,  r->name_key_fuzzy, r->norm_id,
        };
        uint64_t nvalues =
            2 * ((uint64_t)r->n_phones + r->n_emails + r->n_addresses);
        for (size_t k = 0; k < sizeof(offs) / sizeof(offs[0]); k++) {
            if (!offset_ok(s, offs[k]))
                return ecif_fail(ECIF_ECORRUPT, err, errlen,
                                 "record %u: string offset out of range", i);
        }
        if (r->n_phones > ECIF_MAX_VALUES || r->n_emails > ECIF_MAX_VALUES ||
            r->n_addresses > ECIF_MAX_VALUES ||
            (uint64_t)r->values_first + nvalues > s->values_count)
            return ecif_fail(ECIF_ECORRUPT, err, errlen,
                             "record %u: value list out of range", i);
        if (r->customer >= s->customer_count ||
            (uint64_t)r->accounts_first + r->account_count > s->account_count)
            return ecif_fail(ECIF_ECORRUPT, err, errlen,
                             "record %u: customer or accounts out of range", i);
    }
    return ECIF_OK;
}

/* Checks the list values (phones, emails, addresses) of the records. */
static int check_values(const struct ecif_store *s, char *err, size_t errlen)
{
    for (uint64_t i = 0; i < s->values_count; i++) {
        if (!offset_ok(s, s->values[i]))
            return ecif_fail(ECIF_ECORRUPT, err, errlen,
                             "value %llu: string offset out of range",
                             (unsigned long long)i);
    }
    return ECIF_OK;
}

static int check_customers(const struct ecif_store *s, char *err, size_t errlen)
{
    for (uint32_t i = 0; i < s->customer_count; i++) {
        const struct cust_entry *c = &s->customers[i];
        if (memchr(c->number, '\0', sizeof(c->number)) == NULL ||
            strlen(c->number) != ECIF_CUSTOMER_NUMBER_LEN ||
            (i > 0 && strcmp(s->customers[i - 1].number, c->number) >= 0))
            return ecif_fail(ECIF_ECORRUPT, err, errlen,
                             "customer %u: invalid or unsorted number", i);
        if ((uint64_t)c->members_first + c->member_count > s->record_count ||
            (uint64_t)c->exposure_first + c->exposure_count > s->exposure_count)
            return ecif_fail(ECIF_ECORRUPT, err, errlen,
                             "customer %u: members or exposure out of range",
                             i);
    }
    return ECIF_OK;
}

/* Returns the largest of n record ids, or 0 when n is 0. The loop has no
 * branch per entry, so the compiler can vectorize it. */
static uint32_t max_id(const uint32_t *ids, uint64_t n)
{
    uint32_t max = 0;

    for (uint64_t i = 0; i < n; i++)
        max = ids[i] > max ? ids[i] : max;
    return max;
}

/* Returns the index of the first of n record ids at or above limit. */
static uint64_t first_id_at_least(const uint32_t *ids, uint64_t n,
                                  uint32_t limit)
{
    uint64_t i = 0;

    while (i < n && ids[i] < limit)
        i++;
    return i;
}

static int check_members(const struct ecif_store *s, char *err, size_t errlen)
{
    uint32_t n = s->record_count;

    if (n > 0 && (max_id(s->members, n) >= n || max_id(s->sources, n) >= n)) {
        uint64_t bad = first_id_at_least(s->members, n, n);
        uint64_t bad_source = first_id_at_least(s->sources, n, n);
        return ecif_fail(
            ECIF_ECORRUPT, err, errlen,
            "member or source entry %llu out of range",
            (unsigned long long)(bad < bad_source ? bad : bad_source));
    }
    return ECIF_OK;
}

static int check_accounts(const struct ecif_store *s, char *err, size_t errlen)
{
    for (uint32_t i = 0; i < s->account_count; i++) {
        const struct acct_entry *a = &s->accounts[i];
        if (!offset_ok(s, a->account_id) || !offset_ok(s, a->product) ||
            !offset_ok(s, a->currency) || !offset_ok(s, a->branch))
            return ecif_fail(ECIF_ECORRUPT, err, errlen,
                             "account %u: string offset out of range", i);
    }
    for (uint32_t i = 0; i < s->exposure_count; i++) {
        if (!offset_ok(s, s->exposure[i].product) ||
            !offset_ok(s, s->exposure[i].currency))
            return ecif_fail(ECIF_ECORRUPT, err, errlen,
                             "exposure %u: string offset out of range", i);
    }
    return ECIF_OK;
}

static int check_shards(const struct ecif_store *s, char *err, size_t errlen)
{
    for (uint32_t i = 0; i < s->shard_count; i++) {
        const struct shard_entry *sh = &s->shards[i];
        if (sh->capacity == 0 || sh->used >= sh->capacity ||
            sh->slots_first + sh->capacity > s->slots_count)
            return ecif_fail(ECIF_ECORRUPT, err, errlen,
                             "shard %u: invalid slot range", i);
    }
    return ECIF_OK;
}

/* Returns whether a key slot points outside the postings or the
 * records. */
static bool slot_bad(const struct ecif_store *s, const struct slot_entry *slot)
{
    bool frequent =
        slot->postings_first == SLOT_FREQUENT && slot->postings_count == 0;
    bool inline_bad =
        slot->postings_count == 1 && slot->postings_first >= s->record_count;
    bool range_bad = slot->postings_count > 1 &&
                     (uint64_t)slot->postings_first + slot->postings_count >
                         s->postings_count;

    return slot->key_tag != 0 && !frequent &&
           (inline_bad || range_bad || slot->postings_count == 0);
}

/* Checks the key slots from first to end - 1. The loop folds every slot's
 * verdict into one flag without a branch, and only a failure looks for
 * the first bad slot to name it. */
static int check_slots(const struct ecif_store *s, uint64_t first, uint64_t end,
                       char *err, size_t errlen)
{
    bool any_bad = false;

    for (uint64_t i = first; i < end; i++)
        any_bad |= slot_bad(s, &s->slots[i]);
    if (!any_bad)
        return ECIF_OK;
    while (!slot_bad(s, &s->slots[first]))
        first++;
    return ecif_fail(ECIF_ECORRUPT, err, errlen,
                     "key slot %llu: postings out of range",
                     (unsigned long long)first);
}

static int check_postings(const struct ecif_store *s, uint64_t first,
                          uint64_t end, char *err, size_t errlen)
{
    const uint32_t *ids = s->postings + first;

    if (end > first && max_id(ids, end - first) >= s->record_count)
        return ecif_fail(
            ECIF_ECORRUPT, err, errlen, "posting %llu: record out of range",
            (unsigned long long)(first + first_id_at_least(ids, end - first,
                                                           s->record_count)));
    return ECIF_OK;
}

/* Redirects must be sorted by retired number and lead to a customer. */
static int check_history(const struct ecif_store *s, char *err, size_t errlen)
{
    for (uint64_t i = 0; i < s->history_count; i++) {
        char number[32];
        uint32_t customer;
        if (i > 0 && s->history[i - 1].retired >= s->history[i].retired)
            return ecif_fail(ECIF_ECORRUPT, err, errlen,
                             "history is not sorted at entry %llu",
                             (unsigned long long)i);
        snprintf(number, sizeof(number), "C%012llu",
                 (unsigned long long)s->history[i].survivor);
        if (ecif_store_find_customer(s, number, &customer) != ECIF_OK)
            return ecif_fail(ECIF_ECORRUPT, err, errlen,
                             "history entry %llu leads to no customer",
                             (unsigned long long)i);
        if (s->history_origins != NULL &&
            s->history_origins[i] != ECIF_NO_ORIGIN &&
            s->history_origins[i] >= s->record_count)
            return ecif_fail(ECIF_ECORRUPT, err, errlen,
                             "history entry %llu: origin record out of range",
                             (unsigned long long)i);
    }
    return ECIF_OK;
}

/* Checks that the correction links point within the records and are
 * sorted by (record_a, record_b) without repeats, so each pair has one
 * kind. */
static int check_links(const struct ecif_store *s, char *err, size_t errlen)
{
    for (uint64_t i = 0; i < s->links_count; i++) {
        const struct correction_link *l = &s->links[i];
        const struct correction_link *prev = i > 0 ? &s->links[i - 1] : NULL;
        if (l->record_a >= l->record_b || l->record_b >= s->record_count ||
            (l->kind != LINK_MUST && l->kind != LINK_CANNOT) || l->pad != 0)
            return ecif_fail(ECIF_ECORRUPT, err, errlen,
                             "correction link %llu is invalid",
                             (unsigned long long)i);
        if (prev != NULL &&
            (prev->record_a > l->record_a ||
             (prev->record_a == l->record_a && prev->record_b >= l->record_b)))
            return ecif_fail(ECIF_ECORRUPT, err, errlen,
                             "correction links are not sorted at entry %llu",
                             (unsigned long long)i);
    }
    return ECIF_OK;
}

/* The name table must be sorted, without repeats, for binary search. */
static int check_names(const struct ecif_store *s, char *err, size_t errlen)
{
    for (uint64_t i = 1; i < s->names_count; i++) {
        if (s->names[i - 1].name_hash >= s->names[i].name_hash)
            return ecif_fail(ECIF_ECORRUPT, err, errlen,
                             "name table is not sorted at entry %llu",
                             (unsigned long long)i);
    }
    return ECIF_OK;
}

/* Parts of the records, key slots and postings checked as separate jobs.
 * The key index is the largest part of a snapshot, and as a single job it
 * would keep one thread busy after the others finish. */
#define RECORD_PARTS  4
#define SLOT_PARTS    4
#define POSTING_PARTS 4

/*
 * The checks that pass over whole sections, as jobs in the order they
 * report in: the records in RECORD_PARTS parts, the list values, the
 * customers, their members and sources, the accounts and exposure, the
 * shards, then the key slots and the postings in parts.
 */
enum {
    JOB_VALUES = RECORD_PARTS,
    JOB_CUSTOMERS,
    JOB_MEMBERS,
    JOB_ACCOUNTS,
    JOB_SHARDS,
    JOB_SLOTS,
    JOB_POSTINGS = JOB_SLOTS + SLOT_PARTS,
    CHECK_JOB_COUNT = JOB_POSTINGS + POSTING_PARTS,
};

struct check_jobs {
    const struct ecif_store *s;
    atomic_int next; /* first job not taken */
    int rc[CHECK_JOB_COUNT];
    char err[CHECK_JOB_COUNT][256];
};

static int run_check(const struct ecif_store *s, int job, char *err,
                     size_t errlen)
{
    uint64_t n = s->record_count;

    if (job < RECORD_PARTS)
        return check_records(s, (uint32_t)(n * job / RECORD_PARTS),
                             (uint32_t)(n * (job + 1) / RECORD_PARTS), err,
                             errlen);
    if (job >= JOB_POSTINGS) {
        uint64_t part = (uint64_t)(job - JOB_POSTINGS);
        return check_postings(s, s->postings_count * part / POSTING_PARTS,
                              s->postings_count * (part + 1) / POSTING_PARTS,
                              err, errlen);
    }
    if (job >= JOB_SLOTS) {
        uint64_t part = (uint64_t)(job - JOB_SLOTS);
        return check_slots(s, s->slots_count * part / SLOT_PARTS,
                           s->slots_count * (part + 1) / SLOT_PARTS, err,
                           errlen);
    }
    switch (job) {
    case JOB_VALUES:
        return check_values(s, err, errlen);
    case JOB_CUSTOMERS:
        return check_customers(s, err, errlen);
    case JOB_MEMBERS:
        return check_members(s, err, errlen);
    case JOB_ACCOUNTS:
        return check_accounts(s, err, errlen);
    default:
        return check_shards(s, err, errlen);
    }
}

static void *run_check_jobs(void *arg)
{
    struct check_jobs *jobs = arg;
    int job;

    while ((job = atomic_fetch_add(&jobs->next, 1)) < CHECK_JOB_COUNT)
        jobs->rc[job] =
            run_check(jobs->s, job, jobs->err[job], sizeof(jobs->err[job]));
    return NULL;
}

#define CHECK_THREADS 4

/*
 * Runs the checks that pass over whole sections on one thread per online
 * CPU, at most CHECK_THREADS, because at ten million records one thread
 * takes an estimated few hundred milliseconds for them. Reports the
 * failure that running them in turn would report.
 */
static int check_sections(const struct ecif_store *s, char *err, size_t errlen)
{
    struct check_jobs jobs = {.s = s};
    pthread_t threads[CHECK_THREADS];
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    int started = 0;

    atomic_init(&jobs.next, 0);
    for (int t = 1; t < CHECK_THREADS && t < cpus; t++) {
        if (pthread_create(&threads[started], NULL, run_check_jobs, &jobs) == 0)
            started++;
    }
    run_check_jobs(&jobs);
    for (int t = 0; t < started; t++)
        pthread_join(threads[t], NULL);
    for (int job = 0; job < CHECK_JOB_COUNT; job++) {
        if (jobs.rc[job] != ECIF_OK)
            return ecif_fail(jobs.rc[job], err, errlen, "%s", jobs.err[job]);
    }
    return ECIF_OK;
}

int store_check(const struct ecif_store *s, char *err, size_t errlen)
{
    int rc;

    if (s->strings_bytes == 0 || s->strings[0] != '\0' ||
        s->strings[s->strings_bytes - 1] != '\0')
        return ecif_fail(ECIF_ECORRUPT, err, errlen,
                         "string pool is not NUL-terminated");
    if ((rc = check_sections(s, err, errlen)) != ECIF_OK ||
        (rc = check_names(s, err, errlen)) != ECIF_OK ||
        (rc = check_history(s, err, errlen)) != ECIF_OK ||
        (rc = check_links(s, err, errlen)) != ECIF_OK)
        return rc;
    return ECIF_OK;
}

static const char *section_name(uint32_t id)
{
    static const char *const names[SECTION_COUNT + 1] = {
        "?",           "strings",  "records",  "values",  "accounts",
        "customers",   "members",  "exposure", "sources", "shards",
        "slots",       "postings", "names",    "history", "model",
        "corrections", "updated",  "origins",
    };
    return id <= SECTION_COUNT ? names[id] : "?";
}

/* Sections whose checksums one thread verifies. */
struct checksum_job {
    const char *buf;
    const struct snap_section *table;
    uint32_t sections[SECTION_COUNT];
    uint32_t count;
    uint64_t bytes;
    bool ok[SECTION_COUNT];
};

static void *run_checksum_job(void *arg)
{
    struct checksum_job *job = arg;

    for (uint32_t k = 0; k < job->count; k++) {
        const struct snap_section *sec = &job->table[job->sections[k]];
        job->ok[k] =
            ecif_crc32c(0, job->buf + sec->offset, sec->bytes) == sec->crc;
    }
    return NULL;
}

#define CHECKSUM_THREADS 4

/*
 * Verifies every section checksum, spreading the sections over up to
 * CHECKSUM_THREADS threads (one per online CPU), largest first to the
 * least loaded: at ten million records the checksums of 4 GB would
 * otherwise take longer than reading the file. Returns the index of the
 * first failing section, or -1.
 */
static int verify_checksums(const char *buf, const struct snap_section *table)
{
    struct checksum_job jobs[CHECKSUM_THREADS];
    pthread_t threads[CHECKSUM_THREADS];
    bool started[CHECKSUM_THREADS] = {false};
    uint32_t order[SECTION_COUNT];
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    int n = cpus < 1                  ? 1
            : cpus > CHECKSUM_THREADS ? CHECKSUM_THREADS
                                      : (int)cpus;
    int bad = -1;

    memset(jobs, 0, sizeof(jobs));
    for (uint32_t i = 0; i < SECTION_COUNT; i++)
        order[i] = i;
    for (uint32_t i = 1; i < SECTION_COUNT; i++) { /* by size, descending */
        uint32_t x = order[i], j = i;
        while (j > 0 && table[order[j - 1]].bytes < table[x].bytes) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = x;
    }
    for (uint32_t i = 0; i < SECTION_COUNT; i++) {
        int least = 0;
        for (int t = 1; t < n; t++) {
            if (jobs[t].bytes < jobs[least].bytes)
                least = t;
        }
        jobs[least].sections[jobs[least].count++] = order[i];
        jobs[least].bytes += table[order[i]].bytes;
    }
    for (int t = 0; t < n; t++) {
        jobs[t].buf = buf;
        jobs[t].table = table;
        if (t > 0)
            started[t] = pthread_create(&threads[t], NULL, run_checksum_job,
                                        &jobs[t]) == 0;
    }
    for (int t = 0; t < n; t++) {
        if (t == 0 || !started[t])
            run_checksum_job(&jobs[t]); /* here, or when a thread failed */
    }
    for (int t = 1; t < n; t++) {
        if (started[t])
            pthread_join(threads[t], NULL);
    }
    for (int t = 0; t < n; t++) {
        for (uint32_t k = 0; k < jobs[t].count; k++) {
            int idx = (int)jobs[t].sections[k];
            if (!jobs[t].ok[k] && (bad < 0 || idx < bad))
                bad = idx;
        }
    }
    return bad;
}

/* Checks the header and section table of a file image of size bytes. */
static int check_layout(const char *buf, uint64_t size, const char *path,
                        char *err, size_t errlen)
{
    const struct snap_header *h = (const struct snap_header *)buf;
    const struct snap_section *table =
        (const struct snap_section *)(buf + sizeof(*h));
    struct snap_header copy;
    uint32_t crc;

    if (size < sizeof(*h) || memcmp(h->magic, ECIF_SNAPSHOT_MAGIC, 8) != 0)
        return ecif_fail(ECIF_ECORRUPT, err, errlen,
                         "'%s' is not an ECIF snapshot (bad magic)", path);
    /* A newer file needs a newer build. An older one can be rebuilt from
     * its source files by this build, which writes the current version. */
    if (h->version > ECIF_SNAPSHOT_VERSION)
        return ecif_fail(ECIF_EVERSION, err, errlen,
                         "snapshot '%s' has format version %u, written by a "
                         "newer build; this build reads version %u: use a "
                         "build that reads version %u",
                         path, h->version, ECIF_SNAPSHOT_VERSION, h->version);
    if (h->version != ECIF_SNAPSHOT_VERSION)
        return ecif_fail(ECIF_EVERSION, err, errlen,
                         "snapshot '%s' has format version %u; this build "
                         "reads version %u: re-import it",
                         path, h->version, ECIF_SNAPSHOT_VERSION);
    if (h->section_count != SECTION_COUNT ||
        size < sizeof(*h) + SECTION_COUNT * sizeof(*table))
        return ecif_fail(ECIF_ECORRUPT, err, errlen,
                         "snapshot '%s': invalid section table", path);
    if (h->file_bytes != size)
        return ecif_fail(ECIF_ECORRUPT, err, errlen,
                         "snapshot '%s' is truncated or extended: the header "
                         "says %llu bytes, the file has %llu",
                         path, (unsigned long long)h->file_bytes,
                         (unsigned long long)size);
    copy = *h;
    copy.header_crc = 0;
    crc = ecif_crc32c(0, &copy, sizeof(copy));
    crc = ecif_crc32c(crc, table, SECTION_COUNT * sizeof(*table));
    if (crc != h->header_crc)
        return ecif_fail(ECIF_ECORRUPT, err, errlen,
                         "snapshot '%s': header checksum mismatch", path);
    for (uint32_t i = 0; i < SECTION_COUNT; i++) {
        const struct snap_section *sec = &table[i];
        if (sec->id != i + 1 || sec->offset % SECTION_ALIGN != 0 ||
            sec->offset > size || sec->bytes > size - sec->offset)
            return ecif_fail(ECIF_ECORRUPT, err, errlen,
                             "snapshot '%s': section %s out of range", path,
                             section_name(i + 1));
    }
    int bad = verify_checksums(buf, table);
    if (bad >= 0)
        return ecif_fail(ECIF_ECORRUPT, err, errlen,
                         "snapshot '%s': checksum mismatch in section %s", path,
                         section_name(table[bad].id));
    /* No checksum covers the padding, so check that it is all zero: a
     * flipped byte anywhere in the file is then found. */
    uint64_t at = sizeof(*h) + SECTION_COUNT * sizeof(*table);
    for (uint32_t i = 0; i <= SECTION_COUNT; i++) {
        uint64_t next = i < SECTION_COUNT ? table[i].offset : size;
        if (next < at)
            return ecif_fail(ECIF_ECORRUPT, err, errlen,
                             "snapshot '%s': sections overlap", path);
        for (uint64_t k = at; k < next; k++) {
            if (buf[k] != 0)
                return ecif_fail(ECIF_ECORRUPT, err, errlen,
                                 "snapshot '%s': nonzero padding at byte "
                                 "%llu",
                                 path, (unsigned long long)k);
        }
        if (i < SECTION_COUNT)
            at = table[i].offset + table[i].bytes;
    }
    return ECIF_OK;
}

/* Points the store at the sections and checks each section's size. */
static int map_sections(struct ecif_store *s, const char *path, char *err,
                        size_t errlen)
{
    const char *buf = s->buffer;
    const struct snap_header *h = (const struct snap_header *)buf;
    const struct snap_section *t =
        (const struct snap_section *)(buf + sizeof(*h));
    uint32_t shards = h->shard_count;

#define SECTION(id) (buf + t[(id)-1].offset)
#define BYTES(id)   (t[(id)-1].bytes)
    if (shards == 0 || shards > 4096 || (shards & (shards - 1)) != 0)
        return ecif_fail(ECIF_ECORRUPT, err, errlen,
                         "snapshot '%s': invalid shard count %u", path, shards);
    s->shard_count = shards;
    s->shard_shift = 64;
    for (uint32_t n = shards; n > 1; n >>= 1)
        s->shard_shift--;
    s->record_count = h->record_count;
    s->customer_count = h->customer_count;
    s->account_count = h->account_count;
    s->exposure_count = h->exposure_count;
    s->key_count = h->key_count;
    s->strings = SECTION(SECTION_STRINGS);
    s->strings_bytes = BYTES(SECTION_STRINGS);
    s->records = (const void *)SECTION(SECTION_RECORDS);
    s->values = (const void *)SECTION(SECTION_VALUES);
    s->values_count = BYTES(SECTION_VALUES) / sizeof(uint32_t);
    s->accounts = (const void *)SECTION(SECTION_ACCOUNTS);
    s->customers = (const void *)SECTION(SECTION_CUSTOMERS);
    s->members = (const void *)SECTION(SECTION_MEMBERS);
    s->exposure = (const void *)SECTION(SECTION_EXPOSURE);
    s->sources = (const void *)SECTION(SECTION_SOURCES);
    s->shards = (const void *)SECTION(SECTION_SHARDS);
    s->slots = (const void *)SECTION(SECTION_SLOTS);
    s->slots_count = BYTES(SECTION_SLOTS) / sizeof(struct slot_entry);
    s->postings = (const void *)SECTION(SECTION_POSTINGS);
    s->postings_count = BYTES(SECTION_POSTINGS) / sizeof(uint32_t);
    s->names = (const void *)SECTION(SECTION_NAMES);
    s->names_count = BYTES(SECTION_NAMES) / sizeof(struct name_count);
    s->history = (const void *)SECTION(SECTION_HISTORY);
    s->history_count = BYTES(SECTION_HISTORY) / sizeof(struct number_redirect);
    s->next_customer_number = h->next_customer_number;
    s->links = (const void *)SECTION(SECTION_CORRECTIONS);
    s->links_count =
        BYTES(SECTION_CORRECTIONS) / sizeof(struct correction_link);
    s->model_text = SECTION(SECTION_MODEL);
    s->model_text_bytes = BYTES(SECTION_MODEL);
    s->updated = BYTES(SECTION_UPDATED) > 0
                     ? (const void *)SECTION(SECTION_UPDATED)
                     : NULL;
    s->history_origins = BYTES(SECTION_ORIGINS) > 0
                             ? (const void *)SECTION(SECTION_ORIGINS)
                             : NULL;

    if (BYTES(SECTION_RECORDS) !=
            (uint64_t)s->record_count * sizeof(struct rec_entry) ||
        BYTES(SECTION_VALUES) % sizeof(uint32_t) != 0 ||
        BYTES(SECTION_ACCOUNTS) !=
            (uint64_t)s->account_count * sizeof(struct acct_entry) ||
        BYTES(SECTION_CUSTOMERS) !=
            (uint64_t)s->customer_count * sizeof(struct cust_entry) ||
        BYTES(SECTION_MEMBERS) != (uint64_t)s->record_count * 4 ||
        BYTES(SECTION_EXPOSURE) !=
            (uint64_t)s->exposure_count * sizeof(struct exposure_entry) ||
        BYTES(SECTION_SOURCES) != (uint64_t)s->record_count * 4 ||
        BYTES(SECTION_SHARDS) !=
            (uint64_t)shards * sizeof(struct shard_entry) ||
        BYTES(SECTION_SLOTS) % sizeof(struct slot_entry) != 0 ||
        BYTES(SECTION_POSTINGS) % sizeof(uint32_t) != 0 ||
        BYTES(SECTION_NAMES) % sizeof(struct name_count) != 0 ||
        BYTES(SECTION_HISTORY) % sizeof(struct number_redirect) != 0 ||
        BYTES(SECTION_CORRECTIONS) % sizeof(struct correction_link) != 0 ||
        (BYTES(SECTION_UPDATED) != 0 &&
         BYTES(SECTION_UPDATED) != (uint64_t)s->record_count * 4) ||
        (BYTES(SECTION_ORIGINS) != 0 &&
         BYTES(SECTION_ORIGINS) != BYTES(SECTION_HISTORY) /
                                       sizeof(struct number_redirect) * 4))
        return ecif_fail(ECIF_ECORRUPT, err, errlen,
                         "snapshot '%s': section sizes do not match the "
                         "header counts",
                         path);
#undef SECTION
#undef BYTES
    return ECIF_OK;
}

/* Parses the MODEL section into memory the store owns. */
static int load_model(struct ecif_store *s, const char *path, char *err,
                      size_t errlen)
{
    char detail[320];

    s->model_owned = malloc(sizeof(*s->model_owned));
    if (s->model_owned == NULL)
        return ecif_fail(ECIF_ENOMEM, err, errlen,
                         "snapshot '%s': no memory for the model", path);
    if (model_parse(s->model_text, s->model_text_bytes, s->model_owned, detail,
                    sizeof(detail)) != ECIF_OK)
        return ecif_fail(ECIF_ECORRUPT, err, errlen,
                         "snapshot '%s': section model: %s", path, detail);
    s->model = s->model_owned;
    return ECIF_OK;
}

/*
 * Fills a fresh anonymous buffer of bytes from fd with io_uring (pread
 * where the kernel refuses io_uring), and stores it in s. Returns 0, or a
 * negative errno (-ENODATA for a file shorter than its size, -ENOMEM).
 */
static int load_copy(struct ecif_store *s, int fd, uint64_t bytes)
{
    void *buf = map_buffer(bytes);
    pthread_t prefault_threads[PREFAULT_THREADS];
    int rc;

    if (buf == NULL)
        return -ENOMEM;
    s->buffer = buf;
    s->buffer_bytes = bytes;

    struct prefault prefault = {.buf = buf, .bytes = bytes};
    int prefaulting = prefault_start(&prefault, prefault_threads);
    rc = read_uring(fd, buf, bytes);
    for (int t = 0; t < prefaulting; t++)
        pthread_join(prefault_threads[t], NULL);
    s->loaded_with_io_uring = rc <= 0;
    if (rc > 0)
        rc = read_pread(fd, buf, bytes);
    return rc;
}

/*
 * Maps bytes of fd read-only into s and maps the pages the page cache
 * holds, then locks them in memory where the limit allows. A failed
 * populate or lock only makes serving slower, so neither is an error.
 * Returns 0 or -ENOMEM.
 */
static int load_map(struct ecif_store *s, int fd, uint64_t bytes)
{
    void *buf = mmap(NULL, bytes, PROT_READ, MAP_PRIVATE, fd, 0);

    if (buf == MAP_FAILED)
        return -ENOMEM;
    s->buffer = buf;
    s->buffer_bytes = bytes;
    s->mapped = 1;
    (void)madvise(buf, bytes, MADV_HUGEPAGE);
    /* Kernels before Linux 5.14 reject MADV_POPULATE_READ, and the checks
     * fault the pages in instead. */
    if (madvise(buf, bytes, MADV_POPULATE_READ) != 0)
        (void)madvise(buf, bytes, MADV_WILLNEED);
    s->pinned = mlock(buf, bytes) == 0;
    return 0;
}

int ecif_store_open(const char *path, ecif_store_t **out, char *err,
                    size_t errlen)
{
    return ecif_store_open_mode(path, ECIF_LOAD_COPY, out, err, errlen);
}

int ecif_store_open_mode(const char *path, ecif_load_mode_t mode,
                         ecif_store_t **out, char *err, size_t errlen)
{
    struct ecif_store *s = NULL;
    struct stat st;
    int fd, rc;

    *out = NULL;
    /* Without O_NONBLOCK, opening a FIFO would wait for a writer before
     * the check below could reject it. */
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return ecif_fail(ECIF_EIO, err, errlen, "cannot open snapshot '%s': %s",
                         path, strerror(errno));
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        rc = ecif_fail(ECIF_EIO, err, errlen,
                       "snapshot '%s' is not a regular file", path);
        goto fail;
    }
    /* io_uring honours O_NONBLOCK and may fail a read of pages that are
     * not cached with EAGAIN instead of waiting for them. */
    if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) != 0) {
        rc = ecif_fail(ECIF_EIO, err, errlen, "cannot open snapshot '%s': %s",
                       path, strerror(errno));
        goto fail;
    }
    if ((uint64_t)st.st_size < sizeof(struct snap_header)) {
        rc = ecif_fail(ECIF_ECORRUPT, err, errlen,
                       "snapshot '%s' is truncated: %lld bytes, shorter "
                       "than its header",
                       path, (long long)st.st_size);
        goto fail;
    }
    if (mode == ECIF_LOAD_MAP && st.st_uid != geteuid() && st.st_uid != 0) {
        rc = ecif_fail(ECIF_EINVAL, err, errlen,
                       "snapshot '%s' is owned by user %u, not by this "
                       "process's user %u or root, and a mapped snapshot "
                       "serves the file's own pages, so its owner could "
                       "change what is served: run chown %u '%s' or load "
                       "with copy",
                       path, (unsigned)st.st_uid, (unsigned)geteuid(),
                       (unsigned)geteuid(), path);
        goto fail;
    }
    if (mode == ECIF_LOAD_MAP && (st.st_mode & 022) != 0) {
        rc = ecif_fail(ECIF_EINVAL, err, errlen,
                       "snapshot '%s' is writable by group or others (mode "
                       "%04o), and a mapped snapshot serves the file's own "
                       "pages, so their writes would change what is "
                       "served: run chmod 600 '%s' or load with copy",
                       path, (unsigned)(st.st_mode & 07777), path);
        goto fail;
    }
    s = calloc(1, sizeof(*s));
    if (s == NULL) {
        rc = ecif_fail(ECIF_ENOMEM, err, errlen,
                       "cannot allocate a store for snapshot '%s'", path);
        goto fail;
    }
    rc = mode == ECIF_LOAD_MAP ? load_map(s, fd, (uint64_t)st.st_size)
                               : load_copy(s, fd, (uint64_t)st.st_size);
    if (rc == -ENOMEM) {
        rc = ecif_fail(ECIF_ENOMEM, err, errlen,
                       "cannot %s %lld bytes for snapshot '%s'",
                       mode == ECIF_LOAD_MAP ? "map" : "allocate",
                       (long long)st.st_size, path);
        goto fail;
    }
    if (rc != 0) {
        rc = ecif_fail(rc == -ENODATA ? ECIF_ECORRUPT : ECIF_EIO, err, errlen,
                       "reading snapshot '%s' failed: %s", path,
                       rc == -ENODATA ? "file shorter than its size"
                                      : strerror(-rc));
        goto fail;
    }
    close(fd);
    fd = -1;

    if ((rc = check_layout(s->buffer, s->buffer_bytes, path, err, errlen)) ||
        (rc = map_sections(s, path, err, errlen)))
        goto fail;
    if ((rc = store_check(s, err, errlen)) != ECIF_OK) {
        char detail[256];
        snprintf(detail, sizeof(detail), "%s", err ? err : "");
        rc = ecif_fail(rc, err, errlen, "snapshot '%s': %s", path, detail);
        goto fail;
    }
    if ((rc = load_model(s, path, err, errlen)) != ECIF_OK)
        goto fail;
    *out = s;
    return ECIF_OK;
fail:
    if (fd >= 0)
        close(fd);
    ecif_store_close(s); /* unmaps the buffer when s owns it */
    return rc;
}
