/*
 * The corrections journal file.
 *
 * A journal contains one entry per steward action or add, so opening
 * reads the whole file into memory and entries are parsed from that copy.
 * Appends go to the end of the file with pwrite and are made durable with
 * fdatasync before the append returns, so an entry acknowledged to a
 * client survives a crash. A crash in the middle of an append leaves a
 * torn last entry, which the next open truncates away. An entry damaged
 * in place has whole entries after it. Those are searched for before any
 * cut, so a damaged length never cuts away acknowledged entries.
 *
 * A writer holds an exclusive flock(2) on the file for as long as it has
 * the journal open, because two writers would issue the same sequence
 * numbers and overwrite each other's entries. No call replaces or moves
 * a journal file while another process holds its lock: a new journal is
 * linked into place, which fails when a file is already there.
 *
 * All integers are little-endian.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "hash.h"
#include "journal.h"
#include "layout.h"
#include "status.h"

struct ecif_journal {
    int fd;
    bool writable;
    char path[4096];
    uint8_t *data; /* the file as read at open */
    uint64_t size;
    uint64_t offset;         /* next entry to read, then the append position */
    bool read_done;          /* the end of the entries was found */
    uint64_t sequence;       /* of the last entry read or appended */
    ecif_source_key_t *keys; /* of the last entry read */
    char **key_strings;      /* NUL-terminated copies, two per key */
    uint32_t keys_cap;
    char *reason;
    char *actor;       /* of the last entry read */
    uint32_t version;  /* of the file header */
    char *add_strings; /* of the last add read: NUL-terminated copies */
    ecif_record_t add_record;
    ecif_account_t *add_accounts; /* ECIF_JOURNAL_MAX_ACCOUNTS */
};

/* ---- Little-endian helpers -------------------------------------------- */

static void put_u16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void put_u32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint16_t get_u16(const uint8_t *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}

static uint32_t get_u32(const uint8_t *p)
{
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static uint64_t get_u64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

/* ---- Header -------------------------------------------------------------- */

void ecif_journal_identity_of(const ecif_store_t *store,
                              ecif_journal_identity_t *id)
{
    const struct snap_header *h = store->buffer;

    id->snapshot_crc = h != NULL ? h->header_crc : 0;
    id->snapshot_bytes = h != NULL ? store->buffer_bytes : 0;
}

/*
 * Header layout: magic (8), version (4), snapshot CRC (4), snapshot bytes
 * (8), CRC-32C of the 24 bytes before it (4), zero (4).
 */
static void encode_header(const ecif_journal_identity_t *id, uint8_t *out)
{
    memset(out, 0, ECIF_JOURNAL_HEADER_BYTES);
    memcpy(out, ECIF_JOURNAL_MAGIC, 8);
    put_u32(out + 8, ECIF_JOURNAL_VERSION);
    put_u32(out + 12, id->snapshot_crc);
    put_u64(out + 16, id->snapshot_bytes);
    put_u32(out + 24, ecif_crc32c(0, out, 24));
}

static int decode_header(const uint8_t *data, uint64_t size, const char *path,
                         ecif_journal_identity_t *id, uint32_t *version,
                         char *err, size_t errlen)
{
    if (size < ECIF_JOURNAL_HEADER_BYTES || memcmp(data, "ECIFJRNL", 8) != 0)
        return ecif_fail(ECIF_ECORRUPT, err, errlen,
                         "'%s' is not a corrections journal (bad header)",
                         path);
    if (get_u32(data + 24) != ecif_crc32c(0, data, 24))
        return ecif_fail(ECIF_ECORRUPT, err, errlen,
                         "journal '%s': header checksum mismatch", path);
    *version = get_u32(data + 8);
    if (*version < 1 || *version > ECIF_JOURNAL_VERSION)
        return ecif_fail(ECIF_EVERSION, err, errlen,
                         "journal '%s' has format version %u; this build "
                         "reads versions 1 to %u",
                         path, *version, ECIF_JOURNAL_VERSION);
    id->snapshot_crc = get_u32(data + 12);
    id->snapshot_bytes = get_u64(data + 16);
    return ECIF_OK;
}

/* ---- Entry bodies ----------------------------------------------------- */

/*
 * Body layout: sequence (8), kind (1), flags (1), zero (2), key count (4),
 * customer a (8), customer b (8), reason length (2) and bytes, then per
 * key the source system length (2) and bytes and the source id length (2)
 * and bytes. With FLAG_AUDIT the body ends in the audit fields: time (8,
 * microseconds since the epoch, two's complement) and actor length (2)
 * and bytes. Version 1 wrote the flags byte as zero.
 */
#define BODY_FIXED_BYTES 34
#define FLAG_AUDIT       0x01
/* An add only: the record's updated_at (8) follows its accounts. */
#define FLAG_UPDATED 0x02
/* A merge only: it overrides a not-same mark (override_not_same). */
#define FLAG_OVERRIDE 0x04

static bool put_string(uint8_t *buf, size_t cap, size_t *at, const char *s,
                       size_t max)
{
    size_t len = s != NULL ? strlen(s) : 0;

    if (len > max || *at + 2 + len > cap)
        return false;
    put_u16(buf + *at, (uint16_t)len);
    if (len > 0)
        memcpy(buf + *at + 2, s, len);
    *at += 2 + len;
    return true;
}

/*
 * Add body layout: sequence (8), kind (1), flags (1), zero (2) and account
 * count (4). Length-prefixed strings follow: source system, source id,
 * name, given name, family name, ID type, ID number, date of birth and
 * gender. Then come the phones, emails and addresses, each list a count
 * (1) and its strings. Each account adds its account id, product,
 * currency and branch strings, and its credit limit and balance (8 each,
 * two's complement). With FLAG_UPDATED, the record's updated_at (8,
 * seconds since the epoch) follows. With FLAG_AUDIT, the audit fields end
 * the body as in a correction.
 */
#define ADD_FIXED_BYTES 16

static bool put_list(uint8_t *buf, size_t cap, size_t *at,
                     const char *const *list, uint32_t n)
{
    if (n > ECIF_MAX_VALUES || *at + 1 > cap)
        return false;
    buf[(*at)++] = (uint8_t)n;
    for (uint32_t i = 0; i < n; i++) {
        if (!put_string(buf, cap, at, list[i], ECIF_MAX_FIELD_BYTES))
            return false;
    }
    return true;
}

/* Sets FLAG_AUDIT in the flags byte and writes the audit fields at *at
 * when time_us is set. */
static bool put_audit(const ecif_journal_entry_t *e, uint8_t *buf, size_t cap,
                      size_t *at)
{
    if (e->time_us > 0)
        buf[9] |= FLAG_AUDIT;
    if (e->time_us <= 0)
        return true;
    if (*at + 8 > cap)
        return false;
    put_u64(buf + *at, (uint64_t)e->time_us);
    *at += 8;
    return put_string(buf, cap, at, e->actor, ECIF_JOURNAL_MAX_ACTOR);
}

static size_t encode_add(const ecif_journal_entry_t *e, uint8_t *buf,
                         size_t cap)
{
    const ecif_record_t *r = e->record;
    size_t at = ADD_FIXED_BYTES;

    if (cap < ADD_FIXED_BYTES || r == NULL ||
        e->account_count > ECIF_JOURNAL_MAX_ACCOUNTS)
        return 0;
    put_u64(buf, e->sequence);
    buf[8] = (uint8_t)e->kind;
    buf[9] = buf[10] = buf[11] = 0;
    put_u32(buf + 12, e->account_count);
    const char *fields[] = {r->source_system, r->source_id,   r->name,
                            r->given_name,    r->family_name, r->id_type,
                            r->id_number,     r->dob,         r->gender};
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        if (!put_string(buf, cap, &at, fields[i], ECIF_MAX_FIELD_BYTES))
            return 0;
    }
    if (!put_list(buf, cap, &at, r->phones, r->n_phones) ||
        !put_list(buf, cap, &at, r->emails, r->n_emails) ||
        !put_list(buf, cap, &at, r->addresses, r->n_addresses))
        return 0;
    for (uint32_t i = 0; i < e->account_count; i++) {
        const ecif_account_t *a = &e->accounts[i];
        if (!put_string(buf, cap, &at, a->account_id, ECIF_MAX_FIELD_BYTES) ||
            !put_string(buf, cap, &at, a->product, ECIF_MAX_FIELD_BYTES) ||
            !put_string(buf, cap, &at, a->currency, ECIF_MAX_FIELD_BYTES) ||
            !put_string(buf, cap, &at, a->branch, ECIF_MAX_FIELD_BYTES) ||
            at + 16 > cap)
            return 0;
        put_u64(buf + at, (uint64_t)a->credit_limit);
        put_u64(buf + at + 8, (uint64_t)a->balance);
        at += 16;
    }
    if (r->updated_at != 0) {
        if (at + 8 > cap)
            return 0;
        buf[9] |= FLAG_UPDATED;
        put_u64(buf + at, (uint64_t)r->updated_at);
        at += 8;
    }
    return put_audit(e, buf, cap, &at) ? at : 0;
}

size_t ecif_journal_encode(const ecif_journal_entry_t *e, uint8_t *buf,
                           size_t cap)
{
    size_t at = BODY_FIXED_BYTES;

    if (e->kind == ECIF_JOURNAL_ADD)
        return encode_add(e, buf, cap);

    if (cap < BODY_FIXED_BYTES || e->key_count > ECIF_JOURNAL_MAX_KEYS)
        return 0;
    put_u64(buf, e->sequence);
    buf[8] = (uint8_t)e->kind;
    buf[9] = buf[10] = buf[11] = 0;
    if (e->kind == ECIF_CORRECTION_MERGE && e->override_not_same)
        buf[9] |= FLAG_OVERRIDE;
    put_u32(buf + 12, e->key_count);
    put_u64(buf + 16, e->customer_a);
    put_u64(buf + 24, e->customer_b);
    at = 32;
    if (!put_string(buf, cap, &at, e->reason, ECIF_JOURNAL_MAX_REASON))
        return 0;
    for (uint32_t i = 0; i < e->key_count; i++) {
        if (!put_string(buf, cap, &at, e->keys[i].source_system,
                        ECIF_MAX_FIELD_BYTES) ||
            !put_string(buf, cap, &at, e->keys[i].source_id,
                        ECIF_MAX_FIELD_BYTES))
            return 0;
    }
    return put_audit(e, buf, cap, &at) ? at : 0;
}

/* Copies a length-prefixed string out of a body into a new C string. */
static char *take_string(const uint8_t *body, uint32_t len, uint32_t *at,
                         size_t max)
{
    if (*at + 2 > len)
        return NULL;
    uint16_t n = get_u16(body + *at);
    if (n > max || *at + 2 + n > len)
        return NULL;
    char *s = malloc((size_t)n + 1);
    if (s == NULL)
        return NULL;
    memcpy(s, body + *at + 2, n);
    s[n] = '\0';
    if (strlen(s) != n) { /* an embedded NUL */
        free(s);
        return NULL;
    }
    *at += 2 + n;
    return s;
}

static void free_entry_strings(ecif_journal_t *j)
{
    for (uint32_t i = 0; i < 2 * j->keys_cap; i++) {
        free(j->key_strings[i]);
        j->key_strings[i] = NULL;
    }
    free(j->reason);
    j->reason = NULL;
}

/*
 * Reads the audit fields that end a body at *at, when its flags byte has
 * FLAG_AUDIT, into e and j->actor. Returns false on unknown flags or a bad
 * layout.
 */
static bool take_audit(ecif_journal_t *j, const uint8_t *body, uint32_t len,
                       uint32_t *at, ecif_journal_entry_t *e)
{
    uint8_t valid = FLAG_AUDIT;
    if (e->kind == ECIF_JOURNAL_ADD)
        valid |= FLAG_UPDATED;
    if (e->kind == ECIF_CORRECTION_MERGE)
        valid |= FLAG_OVERRIDE;
    uint8_t flags = body[9];

    free(j->actor);
    j->actor = NULL;
    e->time_us = 0;
    e->actor = "";
    if ((flags & ~valid) != 0 || body[10] != 0 || body[11] != 0)
        return false;
    e->override_not_same = (flags & FLAG_OVERRIDE) != 0;
    if ((flags & FLAG_AUDIT) == 0)
        return true;
    if (*at + 8 > len)
        return false;
    e->time_us = (int64_t)get_u64(body + *at);
    *at += 8;
    j->actor = take_string(body, len, at, ECIF_JOURNAL_MAX_ACTOR);
    if (j->actor == NULL || e->time_us <= 0)
        return false;
    e->actor = j->actor;
    return true;
}

/* A cursor over an add body that copies strings into j->add_strings. */
struct add_reader {
    const uint8_t *body;
    uint32_t len;
    uint32_t at;
    char *out;
};

static bool read_string(struct add_reader *r, const char **s)
{
    if (r->at + 2 > r->len)
        return false;
    uint16_t n = get_u16(r->body + r->at);
    if (n > ECIF_MAX_FIELD_BYTES || r->at + 2 + n > r->len ||
        memchr(r->body + r->at + 2, '\0', n) != NULL)
        return false;
    memcpy(r->out, r->body + r->at + 2, n);
    r->out[n] = '\0';
    *s = r->out;
    r->out += n + 1;
    r->at += 2 + n;
    return true;
}

static bool read_list(struct add_reader *r, const char **list, uint32_t *n)
{
    if (r->at + 1 > r->len || r->body[r->at] > ECIF_MAX_VALUES)
        return false;
    *n = r->body[r->at++];
    for (uint32_t i = 0; i < *n; i++) {
        if (!read_string(r, &list[i]))
            return false;
    }
    return true;
}

/* Decodes an add body; its strings live in j until the next read. */
static bool decode_add(ecif_journal_t *j, const uint8_t *body, uint32_t len,
                       ecif_journal_entry_t *e)
{
    ecif_record_t *rec = &j->add_record;

    e->account_count = get_u32(body + 12);
    if (e->account_count > ECIF_JOURNAL_MAX_ACCOUNTS || j->version < 2)
        return false;
    free(j->add_strings);
    /* Every string is shorter than its length prefix plus a NUL. */
    j->add_strings = malloc(len);
    if (j->add_accounts == NULL)
        j->add_accounts =
            calloc(ECIF_JOURNAL_MAX_ACCOUNTS, sizeof(*j->add_accounts));
    if (j->add_strings == NULL || j->add_accounts == NULL)
        return false;
    struct add_reader r = {body, len, ADD_FIXED_BYTES, j->add_strings};
    memset(rec, 0, sizeof(*rec));
    const char **fields[] = {
        &rec->source_system, &rec->source_id,   &rec->name,
        &rec->given_name,    &rec->family_name, &rec->id_type,
        &rec->id_number,     &rec->dob,         &rec->gender};
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        if (!read_string(&r, fields[i]))
            return false;
    }
    if (!read_list(&r, rec->phones, &rec->n_phones) ||
        !read_list(&r, rec->emails, &rec->n_emails) ||
        !read_list(&r, rec->addresses, &rec->n_addresses))
        return false;
    for (uint32_t i = 0; i < e->account_count; i++) {
        ecif_account_t *a = &j->add_accounts[i];
        if (!read_string(&r, &a->account_id) || !read_string(&r, &a->product) ||
            !read_string(&r, &a->currency) || !read_string(&r, &a->branch) ||
            r.at + 16 > len)
            return false;
        a->credit_limit = (int64_t)get_u64(body + r.at);
        a->balance = (int64_t)get_u64(body + r.at + 8);
        r.at += 16;
    }
    if (body[9] & FLAG_UPDATED) {
        if (r.at + 8 > len)
            return false;
        rec->updated_at = (int64_t)get_u64(body + r.at);
        r.at += 8;
        if (rec->updated_at < 1 || rec->updated_at > ECIF_UPDATED_AT_MAX)
            return false;
    }
    e->record = rec;
    e->accounts = j->add_accounts;
    return take_audit(j, body, len, &r.at, e) && r.at == len;
}

/* Decodes a body whose checksum matched. Returns false on a bad layout. */
static bool decode_body(ecif_journal_t *j, const uint8_t *body, uint32_t len,
                        ecif_journal_entry_t *e)
{
    uint32_t at = 32;

    if (len < ADD_FIXED_BYTES)
        return false;
    memset(e, 0, sizeof(*e));
    e->sequence = get_u64(body);
    e->kind = body[8];
    if (e->kind == ECIF_JOURNAL_ADD)
        return decode_add(j, body, len, e);
    if (len < BODY_FIXED_BYTES)
        return false;
    e->sequence = get_u64(body);
    e->kind = body[8];
    e->key_count = get_u32(body + 12);
    e->customer_a = get_u64(body + 16);
    e->customer_b = get_u64(body + 24);
    if (e->kind < ECIF_CORRECTION_MERGE || e->kind > ECIF_CORRECTION_NOT_SAME ||
        e->key_count > ECIF_JOURNAL_MAX_KEYS)
        return false;
    if ((e->kind == ECIF_CORRECTION_SPLIT) != (e->key_count > 0))
        return false;
    if (e->key_count > j->keys_cap) {
        free_entry_strings(j);
        free(j->keys);
        free(j->key_strings);
        j->keys = calloc(e->key_count, sizeof(*j->keys));
        j->key_strings = calloc(2 * (size_t)e->key_count, sizeof(char *));
        j->keys_cap =
            j->keys != NULL && j->key_strings != NULL ? e->key_count : 0;
        if (j->keys_cap == 0)
            return false;
    }
    free_entry_strings(j);
    j->reason = take_string(body, len, &at, ECIF_JOURNAL_MAX_REASON);
    if (j->reason == NULL)
        return false;
    for (uint32_t i = 0; i < e->key_count; i++) {
        char **pair = &j->key_strings[2 * i];
        pair[0] = take_string(body, len, &at, ECIF_MAX_FIELD_BYTES);
        pair[1] =
            pair[0] ? take_string(body, len, &at, ECIF_MAX_FIELD_BYTES) : NULL;
        if (pair[1] == NULL)
            return false;
        j->keys[i].source_system = pair[0];
        j->keys[i].source_id = pair[1];
    }
    e->reason = j->reason;
    e->keys = e->key_count > 0 ? j->keys : NULL;
    return take_audit(j, body, len, &at, e) && at == len;
}

/* ---- Open, read, append -------------------------------------------------- */

static int sync_parent(const char *path)
{
    char copy[4096];
    snprintf(copy, sizeof(copy), "%s", path);
    int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    int rc = fsync(fd) != 0 ? -errno : 0;
    close(fd);
    return rc;
}

static int write_all(int fd, const void *buf, size_t len, off_t at)
{
    const char *p = buf;
    while (len > 0) {
        ssize_t n = pwrite(fd, p, len, at);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return n < 0 ? -errno : -EIO;
        p += n;
        len -= (size_t)n;
        at += n;
    }
    return 0;
}

/*
 * Creates a journal with only its header. It writes a temporary file and
 * links it to path, so a crash never leaves a half-written header at path
 * and a journal that another writer created meanwhile is never replaced.
 * Finding such a journal is not an error.
 */
static int create_journal(const char *path, const ecif_journal_identity_t *id,
                          char *err, size_t errlen)
{
    uint8_t header[ECIF_JOURNAL_HEADER_BYTES];
    char tmp[4200];
    int rc = 0;

    encode_header(id, header);
    snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0)
        return ecif_fail(ECIF_EIO, err, errlen,
                         "cannot create journal '%s': %s", path,
                         strerror(errno));
    rc = write_all(fd, header, sizeof(header), 0);
    if (rc == 0 && fsync(fd) != 0)
        rc = -errno;
    close(fd);
    if (rc == 0 && link(tmp, path) != 0 && errno != EEXIST)
        rc = -errno;
    unlink(tmp);
    if (rc == 0)
        rc = sync_parent(path);
    if (rc != 0)
        return ecif_fail(ECIF_EIO, err, errlen,
                         "cannot create journal '%s': %s", path, strerror(-rc));
    return ECIF_OK;
}

/* Opens tried before open_locked gives up on a path whose file keeps
 * being replaced. */
#define LOCK_ATTEMPTS 8

/*
 * Opens path with flags and takes the writer lock on the new open file.
 * The first attempt uses first instead when it is a descriptor (not -1)
 * that the caller opened with flags. The file at path may have been moved
 * away between the open and the lock, as an import does with a journal it
 * folded, so the lock counts only when path still names the locked file.
 * Otherwise the open is tried again. Returns the descriptor, or
 * ECIF_ENOTFOUND, ECIF_EBUSY or ECIF_EIO with err set.
 */
static int open_locked(const char *path, int first, int flags, char *err,
                       size_t errlen)
{
    for (int attempt = 0; attempt < LOCK_ATTEMPTS; attempt++) {
        struct stat opened, named;
        int fd =
            attempt == 0 && first >= 0 ? first : open(path, flags | O_CLOEXEC);

        if (fd < 0)
            return ecif_fail(errno == ENOENT ? ECIF_ENOTFOUND : ECIF_EIO, err,
                             errlen, "cannot open journal '%s': %s", path,
                             strerror(errno));
        int rc = flock(fd, LOCK_EX | LOCK_NB);
        while (rc != 0 && errno == EINTR)
            rc = flock(fd, LOCK_EX | LOCK_NB);
        if (rc != 0) {
            int saved = errno;
            close(fd);
            if (saved == EWOULDBLOCK)
                return ecif_fail(ECIF_EBUSY, err, errlen,
                                 "journal '%s' is in use by another process, "
                                 "such as an ecifd serving it",
                                 path);
            return ecif_fail(ECIF_EIO, err, errlen,
                             "cannot lock journal '%s': %s", path,
                             strerror(saved));
        }
        if (fstat(fd, &opened) == 0 && stat(path, &named) == 0 &&
            opened.st_dev == named.st_dev && opened.st_ino == named.st_ino)
            return fd;
        close(fd);
    }
    return ecif_fail(ECIF_EIO, err, errlen,
                     "cannot lock journal '%s': another process kept moving "
                     "or replacing the file",
                     path);
}

static int read_file(ecif_journal_t *j, char *err, size_t errlen)
{
    struct stat st;

    if (fstat(j->fd, &st) != 0)
        return ecif_fail(ECIF_EIO, err, errlen, "fstat of journal '%s': %s",
                         j->path, strerror(errno));
    j->size = (uint64_t)st.st_size;
    j->data = malloc(j->size ? j->size : 1);
    if (j->data == NULL)
        return ecif_fail(ECIF_ENOMEM, err, errlen,
                         "cannot allocate %llu bytes for journal '%s'",
                         (unsigned long long)j->size, j->path);
    for (uint64_t got = 0; got < j->size;) {
        ssize_t n = pread(j->fd, j->data + got, j->size - got, (off_t)got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return ecif_fail(ECIF_EIO, err, errlen,
                             "reading journal '%s' failed: %s", j->path,
                             n < 0 ? strerror(errno) : "unexpected end");
        got += (uint64_t)n;
    }
    j->offset = ECIF_JOURNAL_HEADER_BYTES;
    return ECIF_OK;
}

static int open_common(const char *path, bool writable,
                       ecif_journal_identity_t *found, ecif_journal_t **out,
                       char *err, size_t errlen)
{
    ecif_journal_t *j = calloc(1, sizeof(*j));
    ecif_journal_identity_t ignored;
    int rc;

    *out = NULL;
    if (found == NULL)
        found = &ignored;
    if (j == NULL)
        return ecif_fail(ECIF_ENOMEM, err, errlen, "out of memory");
    snprintf(j->path, sizeof(j->path), "%s", path);
    j->writable = writable;
    if (writable) {
        j->fd = open_locked(path, -1, O_RDWR, err, errlen);
    } else {
        j->fd = open(path, O_RDONLY | O_CLOEXEC);
        if (j->fd < 0)
            j->fd = ecif_fail(errno == ENOENT ? ECIF_ENOTFOUND : ECIF_EIO, err,
                              errlen, "cannot open journal '%s': %s", path,
                              strerror(errno));
    }
    if (j->fd < 0) {
        rc = j->fd;
        goto fail;
    }
    if ((rc = read_file(j, err, errlen)) != ECIF_OK ||
        (rc = decode_header(j->data, j->size, path, found, &j->version, err,
                            errlen)) != ECIF_OK)
        goto fail;
    *out = j;
    return ECIF_OK;
fail:
    ecif_journal_close(j);
    return rc;
}

int ecif_journal_open(const char *path, const ecif_journal_identity_t *id,
                      ecif_journal_t **out, char *err, size_t errlen)
{
    ecif_journal_identity_t found;
    int rc = ECIF_ENOTFOUND;

    /* A journal moved away between the create and the open, as by an
     * import that folded it, is created again. */
    for (int attempt = 0; attempt < 2 && rc == ECIF_ENOTFOUND; attempt++) {
        if (access(path, F_OK) != 0 && errno == ENOENT) {
            rc = create_journal(path, id, err, errlen);
            if (rc != ECIF_OK)
                return rc;
        }
        rc = open_common(path, true, &found, out, err, errlen);
    }
    if (rc != ECIF_OK)
        return rc;
    if (found.snapshot_crc != id->snapshot_crc ||
        found.snapshot_bytes != id->snapshot_bytes) {
        ecif_journal_close(*out);
        *out = NULL;
        return ecif_fail(
            ECIF_ECORRUPT, err, errlen,
            "journal '%s' belongs to another snapshot (one of "
            "%llu bytes with header checksum %08x); this one "
            "has %llu bytes and checksum %08x",
            path, (unsigned long long)found.snapshot_bytes, found.snapshot_crc,
            (unsigned long long)id->snapshot_bytes, id->snapshot_crc);
    }
    return ECIF_OK;
}

int ecif_journal_open_read(const char *path, ecif_journal_identity_t *id,
                           ecif_journal_t **out, char *err, size_t errlen)
{
    return open_common(path, false, id, out, err, errlen);
}

void ecif_journal_close(ecif_journal_t *j)
{
    if (j == NULL)
        return;
    if (j->fd >= 0)
        close(j->fd);
    if (j->key_strings != NULL)
        free_entry_strings(j);
    free(j->reason);
    free(j->actor);
    free(j->add_strings);
    free(j->add_accounts);
    free(j->key_strings);
    free(j->keys);
    free(j->data);
    free(j);
}

struct ecif_journal_lock {
    int fd;
};

int ecif_journal_path_for(const char *snapshot_path, char *out, size_t outlen)
{
    char *resolved = realpath(snapshot_path, NULL);
    int n;

    if (resolved == NULL) {
        /* Not there yet: resolve the folder and keep the file name. */
        char *copy = strdup(snapshot_path);
        const char *slash = copy != NULL ? strrchr(copy, '/') : NULL;
        if (copy != NULL && slash != NULL && slash != copy) {
            copy[slash - copy] = '\0';
            char *dir = realpath(copy, NULL);
            if (dir != NULL) {
                size_t len = strlen(dir) + strlen(slash) + 1;
                resolved = malloc(len);
                if (resolved != NULL)
                    snprintf(resolved, len, "%s%s", dir, slash);
                free(dir);
            }
        }
        free(copy);
    }
    n = snprintf(out, outlen, "%s.journal",
                 resolved != NULL ? resolved : snapshot_path);
    free(resolved);
    return n >= 0 && (size_t)n < outlen ? ECIF_OK : ECIF_ELIMIT;
}

int ecif_journal_lock(const char *path, ecif_journal_lock_t **out, char *err,
                      size_t errlen)
{
    ecif_journal_lock_t *lock = malloc(sizeof(*lock));

    *out = NULL;
    if (lock == NULL)
        return ecif_fail(ECIF_ENOMEM, err, errlen, "out of memory");
    /* Write access, because NFS emulates flock with byte-range locks,
     * whose exclusive kind needs a descriptor open for writing. On a
     * read-only file system no process can append, so no lock is needed.
     * Without write permission, a local lock on a read-only descriptor
     * still keeps out an ecifd of another user. */
    int flags = O_RDWR;
    int first = open(path, O_RDWR | O_CLOEXEC);
    if (first < 0 && errno == EROFS) {
        lock->fd = -1;
        *out = lock;
        return ECIF_OK;
    }
    if (first < 0 && errno == EACCES)
        flags = O_RDONLY;
    lock->fd = open_locked(path, first, flags, err, errlen);
    if (lock->fd < 0) {
        int rc = lock->fd;
        free(lock);
        return rc;
    }
    *out = lock;
    return ECIF_OK;
}

void ecif_journal_unlock(ecif_journal_lock_t *lock)
{
    if (lock == NULL)
        return;
    if (lock->fd >= 0)
        close(lock->fd);
    free(lock);
}

/* Ends the journal at the current offset, cutting a torn entry away. */
static int end_entries(ecif_journal_t *j, uint64_t *torn_bytes, char *err,
                       size_t errlen)
{
    uint64_t torn = j->size - j->offset;

    j->read_done = true;
    if (torn_bytes != NULL)
        *torn_bytes = torn;
    if (torn == 0 || !j->writable)
        return 0;
    if (ftruncate(j->fd, (off_t)j->offset) != 0 || fdatasync(j->fd) != 0)
        return ecif_fail(ECIF_EIO, err, errlen,
                         "truncating the torn end of journal '%s' failed: %s",
                         j->path, strerror(errno));
    j->size = j->offset;
    return 0;
}

/*
 * Returns the offset of the first whole entry that starts after the read
 * offset and has a sequence above the last one read, or 0 when there is
 * none. A torn last entry is a prefix of one append, so finding a whole
 * entry means that the entry at the read offset was damaged in place and
 * that acknowledged entries follow it.
 * NOTE: a torn entry whose strings happen to embed a valid frame with a
 * later sequence is reported as corrupt instead of being cut away.
 */
static uint64_t find_later_entry(const ecif_journal_t *j)
{
    const uint64_t min_entry = ECIF_JOURNAL_FRAME_BYTES + ADD_FIXED_BYTES;
    uint64_t max_sequence = j->sequence + (j->size - j->offset) / min_entry;

    for (uint64_t at = j->offset + 1; at + min_entry <= j->size; at++) {
        const uint8_t *frame = j->data + at;
        const uint8_t *body = frame + ECIF_JOURNAL_FRAME_BYTES;
        uint32_t len = get_u32(frame);

        if (len < ADD_FIXED_BYTES ||
            len > j->size - at - ECIF_JOURNAL_FRAME_BYTES)
            continue;
        uint64_t sequence = get_u64(body);
        if (sequence <= j->sequence || sequence > max_sequence)
            continue;
        if (ecif_crc32c(0, body, len) == get_u32(frame + 4))
            return at;
    }
    return 0;
}

/* Ends the journal at a torn last entry. When whole entries follow the
 * damaged one, the journal is corrupt and the file is not touched. */
static int end_at_torn_entry(ecif_journal_t *j, uint64_t *torn_bytes, char *err,
                             size_t errlen)
{
    uint64_t later = find_later_entry(j);

    if (later != 0)
        return ecif_fail(ECIF_ECORRUPT, err, errlen,
                         "journal '%s': the entry at byte offset %llu has a "
                         "damaged length or checksum, and a whole entry "
                         "follows it at byte offset %llu",
                         j->path, (unsigned long long)j->offset,
                         (unsigned long long)later);
    return end_entries(j, torn_bytes, err, errlen);
}

int ecif_journal_next(ecif_journal_t *j, ecif_journal_entry_t *entry,
                      uint64_t *torn_bytes, char *err, size_t errlen)
{
    if (torn_bytes != NULL)
        *torn_bytes = 0;
    if (j->read_done)
        return 0;

    uint64_t left = j->size - j->offset;
    if (left < ECIF_JOURNAL_FRAME_BYTES)
        return end_entries(j, torn_bytes, err, errlen);
    const uint8_t *frame = j->data + j->offset;
    uint32_t len = get_u32(frame);
    uint32_t crc = get_u32(frame + 4);
    /* No append writes a longer body, so a torn append cannot leave one. */
    if (len > ECIF_JOURNAL_MAX_BODY)
        return ecif_fail(ECIF_ECORRUPT, err, errlen,
                         "journal '%s': the entry at byte offset %llu has "
                         "length %u, longer than any entry (at most %u)",
                         j->path, (unsigned long long)j->offset, len,
                         ECIF_JOURNAL_MAX_BODY);
    if (len > left - ECIF_JOURNAL_FRAME_BYTES)
        return end_at_torn_entry(j, torn_bytes, err, errlen);
    const uint8_t *body = frame + ECIF_JOURNAL_FRAME_BYTES;
    bool last = len == left - ECIF_JOURNAL_FRAME_BYTES;
    if (ecif_crc32c(0, body, len) != crc) {
        if (last)
            return end_at_torn_entry(j, torn_bytes, err, errlen);
        return ecif_fail(ECIF_ECORRUPT, err, errlen,
                         "journal '%s': checksum mismatch in the entry at "
                         "byte offset %llu, with entries after it",
                         j->path, (unsigned long long)j->offset);
    }
    if (!decode_body(j, body, len, entry))
        return ecif_fail(ECIF_ECORRUPT, err, errlen,
                         "journal '%s': invalid entry at byte offset %llu",
                         j->path, (unsigned long long)j->offset);
    if (entry->sequence != j->sequence + 1)
        return ecif_fail(ECIF_ECORRUPT, err, errlen,
                         "journal '%s': entry at byte offset %llu has "
                         "sequence %llu, expected %llu",
                         j->path, (unsigned long long)j->offset,
                         (unsigned long long)entry->sequence,
                         (unsigned long long)(j->sequence + 1));
    j->sequence = entry->sequence;
    j->offset += ECIF_JOURNAL_FRAME_BYTES + len;
    return 1;
}

/*
 * Rewrites an older header as the current version before the first
 * append, whose entry may carry fields an older build cannot parse, so
 * that such a build rejects the file by its version. The 32 bytes sit in
 * one disk sector, and the entries after them do not change.
 */
static int upgrade_header(ecif_journal_t *j)
{
    ecif_journal_identity_t id;
    uint8_t header[ECIF_JOURNAL_HEADER_BYTES];

    id.snapshot_crc = get_u32(j->data + 12);
    id.snapshot_bytes = get_u64(j->data + 16);
    encode_header(&id, header);
    int rc = write_all(j->fd, header, sizeof(header), 0);
    if (rc == 0 && fdatasync(j->fd) != 0)
        rc = -errno;
    if (rc == 0) {
        memcpy(j->data, header, sizeof(header));
        j->version = ECIF_JOURNAL_VERSION;
    }
    return rc;
}

/* The wall-clock time in microseconds since the epoch, at least 1. */
static int64_t now_us(void)
{
    struct timespec ts;

    if (clock_gettime(CLOCK_REALTIME, &ts) != 0 || ts.tv_sec <= 0)
        return 1;
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int ecif_journal_append(ecif_journal_t *j, ecif_journal_entry_t *entry,
                        char *err, size_t errlen)
{
    if (!j->writable || !j->read_done)
        return ecif_fail(ECIF_EINVAL, err, errlen,
                         "journal '%s' is not open for appending", j->path);
    if (entry->key_count > ECIF_JOURNAL_MAX_KEYS)
        return ecif_fail(ECIF_EINVAL, err, errlen,
                         "records: %u keys, at most %u", entry->key_count,
                         ECIF_JOURNAL_MAX_KEYS);
    if (entry->kind == ECIF_JOURNAL_ADD &&
        entry->account_count > ECIF_JOURNAL_MAX_ACCOUNTS)
        return ecif_fail(ECIF_EINVAL, err, errlen,
                         "accounts: %u accounts, at most %u",
                         entry->account_count, ECIF_JOURNAL_MAX_ACCOUNTS);
    if (entry->actor != NULL && strlen(entry->actor) > ECIF_JOURNAL_MAX_ACTOR)
        return ecif_fail(ECIF_EINVAL, err, errlen,
                         "actor: %zu bytes, at most %u", strlen(entry->actor),
                         ECIF_JOURNAL_MAX_ACTOR);
    if (entry->reason != NULL &&
        strlen(entry->reason) > ECIF_JOURNAL_MAX_REASON)
        return ecif_fail(ECIF_EINVAL, err, errlen,
                         "reason: %zu bytes, at most %u", strlen(entry->reason),
                         ECIF_JOURNAL_MAX_REASON);
    if (j->version < ECIF_JOURNAL_VERSION) {
        int rc = upgrade_header(j);
        if (rc != 0)
            return ecif_fail(ECIF_EIO, err, errlen,
                             "rewriting the header of journal '%s' to "
                             "version %d failed: %s",
                             j->path, ECIF_JOURNAL_VERSION, strerror(-rc));
    }

    size_t cap = ECIF_JOURNAL_FRAME_BYTES + ECIF_JOURNAL_MAX_BODY;
    uint8_t *buf = malloc(cap);
    if (buf == NULL)
        return ecif_fail(ECIF_ENOMEM, err, errlen, "out of memory");
    entry->sequence = j->sequence + 1;
    entry->time_us = now_us();
    size_t len = ecif_journal_encode(entry, buf + ECIF_JOURNAL_FRAME_BYTES,
                                     cap - ECIF_JOURNAL_FRAME_BYTES);
    if (len == 0) {
        free(buf);
        return ecif_fail(ECIF_EINVAL, err, errlen,
                         entry->kind == ECIF_JOURNAL_ADD
                             ? "record: a value is longer than %u bytes"
                             : "records: a source key is longer than %u "
                               "bytes",
                         ECIF_MAX_FIELD_BYTES);
    }
    put_u32(buf, (uint32_t)len);
    put_u32(buf + 4, ecif_crc32c(0, buf + ECIF_JOURNAL_FRAME_BYTES, len));

    int rc =
        write_all(j->fd, buf, ECIF_JOURNAL_FRAME_BYTES + len, (off_t)j->size);
    if (rc == 0 && fdatasync(j->fd) != 0)
        rc = -errno;
    free(buf);
    if (rc != 0) {
        /* Leave no partial entry behind for the next append to follow. */
        if (ftruncate(j->fd, (off_t)j->size) != 0) {
            /* The torn bytes are cut away at the next open. */
        }
        return ecif_fail(ECIF_EIO, err, errlen,
                         "appending to journal '%s' failed: %s", j->path,
                         strerror(-rc));
    }
    j->size += ECIF_JOURNAL_FRAME_BYTES + len;
    j->offset = j->size;
    j->sequence = entry->sequence;
    return ECIF_OK;
}

uint64_t ecif_journal_last_sequence(const ecif_journal_t *j)
{
    return j->sequence;
}
