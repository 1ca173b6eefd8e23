/*
 * Unit tests of the corrections journal file. Entries read back as they
 * were appended, with sequence numbers, and a torn last entry is cut away.
 * A damaged entry with entries after it is an error naming its offset. A
 * journal of another snapshot is rejected, and limits are enforced. One
 * writer at a time holds a journal's lock.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "hash.h"
#include "journal.h"
#include "status.h"
#include "unit.h"

static char scratch[512];
static const ecif_journal_identity_t identity = {0x1234abcd, 4096};

static void scratch_init(void)
{
    const char *base = getenv("ECIF_TEST_TMPDIR");
    char cmd[600];

    snprintf(scratch, sizeof(scratch), "%s/test_journal.d",
             base != NULL ? base : "/tmp");
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", scratch);
    if (system(cmd) != 0 || mkdir(scratch, 0755) != 0) {
        perror(scratch);
        exit(1);
    }
}

static const char *scratch_path(const char *name)
{
    static char path[600];
    snprintf(path, sizeof(path), "%s/%s", scratch, name);
    return path;
}

static long file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

/* Opens the journal at path for identity. Returns NULL after a failed
 * check. */
static ecif_journal_t *open_journal(const char *path)
{
    ecif_journal_t *j = NULL;
    char err[256];

    CHECK_INT(ecif_journal_open(path, &identity, &j, err, sizeof(err)),
              ECIF_OK);
    if (j == NULL)
        fprintf(stderr, "%s: %s\n", path, err);
    return j;
}

/* Opens a journal that must contain no entries yet and reads it to its end,
 * so that it accepts appends. Returns NULL after a failed check. */
static ecif_journal_t *open_empty(const char *path)
{
    ecif_journal_t *j = open_journal(path);
    ecif_journal_entry_t e;
    char err[256];

    if (j != NULL)
        CHECK_INT(ecif_journal_next(j, &e, NULL, err, sizeof(err)), 0);
    return j;
}

/* Reads every entry left in j, checks that the read ends without an
 * error, and returns how many there were. */
static int read_to_end(ecif_journal_t *j, uint64_t *torn)
{
    ecif_journal_entry_t e;
    char err[256];
    int n = 0, rc;

    while ((rc = ecif_journal_next(j, &e, torn, err, sizeof(err))) == 1)
        n++;
    CHECK_INT(rc, 0);
    return n;
}

/* Returns the format version byte of the journal file at path, or -1. */
static int file_version(const char *path)
{
    FILE *f = fopen(path, "rb");
    uint8_t version = 0;
    bool ok = f != NULL && fseek(f, 8, SEEK_SET) == 0 &&
              fread(&version, 1, 1, f) == 1;

    if (f != NULL)
        fclose(f);
    return ok ? version : -1;
}

/* Writes three entries (merge, split of two keys, not-same) to path and
 * returns the file size after each in sizes. */
static void write_three(const char *path, long sizes[3])
{
    ecif_journal_t *j;
    char err[256];
    static const ecif_source_key_t keys[2] = {{"crm", "42"}, {"core", "7"}};

    unlink(path);
    j = open_empty(path);
    if (j == NULL)
        return;

    ecif_journal_entry_t merge = {.kind = ECIF_CORRECTION_MERGE,
                                  .customer_a = 3,
                                  .customer_b = 9,
                                  .reason = "duplicate after review"};
    ecif_journal_entry_t split = {.kind = ECIF_CORRECTION_SPLIT,
                                  .customer_a = 3,
                                  .reason = "two people",
                                  .keys = keys,
                                  .key_count = 2};
    ecif_journal_entry_t not_same = {.kind = ECIF_CORRECTION_NOT_SAME,
                                     .customer_a = 3,
                                     .customer_b = 12,
                                     .reason = ""};
    CHECK_INT(ecif_journal_append(j, &merge, err, sizeof(err)), ECIF_OK);
    sizes[0] = file_size(path);
    CHECK_INT(ecif_journal_append(j, &split, err, sizeof(err)), ECIF_OK);
    sizes[1] = file_size(path);
    CHECK_INT(ecif_journal_append(j, &not_same, err, sizeof(err)), ECIF_OK);
    sizes[2] = file_size(path);
    CHECK_INT(merge.sequence, 1);
    CHECK_INT(split.sequence, 2);
    CHECK_INT(not_same.sequence, 3);
    ecif_journal_close(j);
}

static void test_journal_round_trip(void)
{
    const char *path = scratch_path("round.journal");
    long sizes[3];
    ecif_journal_t *j = NULL;
    ecif_journal_entry_t e;
    uint64_t torn = 99;
    char err[256];

    write_three(path, sizes);
    j = open_journal(path);
    if (j == NULL)
        return;
    CHECK_INT(ecif_journal_next(j, &e, &torn, err, sizeof(err)), 1);
    CHECK_INT(e.sequence, 1);
    CHECK_INT(e.kind, ECIF_CORRECTION_MERGE);
    CHECK_INT(e.customer_a, 3);
    CHECK_INT(e.customer_b, 9);
    CHECK_STR(e.reason, "duplicate after review");
    CHECK_INT(e.key_count, 0);
    CHECK_INT(ecif_journal_next(j, &e, &torn, err, sizeof(err)), 1);
    CHECK_INT(e.kind, ECIF_CORRECTION_SPLIT);
    CHECK_INT(e.key_count, 2);
    if (e.key_count == 2) {
        CHECK_STR(e.keys[0].source_system, "crm");
        CHECK_STR(e.keys[0].source_id, "42");
        CHECK_STR(e.keys[1].source_system, "core");
        CHECK_STR(e.keys[1].source_id, "7");
    }
    CHECK_INT(ecif_journal_next(j, &e, &torn, err, sizeof(err)), 1);
    CHECK_INT(e.kind, ECIF_CORRECTION_NOT_SAME);
    CHECK_INT(e.customer_b, 12);
    CHECK_STR(e.reason, "");
    CHECK_INT(ecif_journal_next(j, &e, &torn, err, sizeof(err)), 0);
    CHECK_INT(torn, 0);
    CHECK_INT(ecif_journal_last_sequence(j), 3);

    /* Appending after a reopen continues the sequence. */
    ecif_journal_entry_t more = {.kind = ECIF_CORRECTION_NOT_SAME,
                                 .customer_a = 1,
                                 .customer_b = 2,
                                 .reason = "x"};
    CHECK_INT(ecif_journal_append(j, &more, err, sizeof(err)), ECIF_OK);
    CHECK_INT(more.sequence, 4);
    ecif_journal_close(j);
}

static void test_journal_torn_tail_every_byte(void)
{
    const char *path = scratch_path("torn.journal");
    long sizes[3];

    write_three(path, sizes);
    /* Cut the last entry at every length short of whole. */
    for (long cut = sizes[1] + 1; cut < sizes[2]; cut++) {
        ecif_journal_t *j;
        uint64_t torn = 0;

        write_three(path, sizes);
        CHECK(truncate(path, cut) == 0);
        j = open_journal(path);
        if (j == NULL)
            return;
        CHECK_INT(read_to_end(j, &torn), 2);
        CHECK_INT(torn, cut - sizes[1]);
        ecif_journal_close(j);
        CHECK_INT(file_size(path), sizes[1]);
    }
}

static void test_journal_torn_tail_garbage(void)
{
    const char *path = scratch_path("garbage.journal");
    long sizes[3];
    ecif_journal_t *j;
    uint64_t torn = 0;

    write_three(path, sizes);
    /* A whole-length last entry whose body was not all written. */
    int fd = open(path, O_WRONLY);
    CHECK(fd >= 0);
    CHECK(pwrite(fd, "\xff\xff\xff\xff", 4, sizes[2] - 4) == 4);
    close(fd);
    j = open_journal(path);
    if (j == NULL)
        return;
    CHECK_INT(read_to_end(j, &torn), 2);
    CHECK_INT(torn, sizes[2] - sizes[1]);
    ecif_journal_close(j);
}

static void test_journal_corrupt_middle_entry(void)
{
    const char *path = scratch_path("middle.journal");
    long sizes[3];
    ecif_journal_t *j = NULL;
    ecif_journal_entry_t e;
    char err[256], expect[64];
    int rc;

    write_three(path, sizes);
    /* Flip a byte inside the second entry's body. */
    int fd = open(path, O_RDWR);
    unsigned char byte;
    CHECK(pread(fd, &byte, 1, sizes[0] + 20) == 1);
    byte ^= 0x40;
    CHECK(pwrite(fd, &byte, 1, sizes[0] + 20) == 1);
    close(fd);

    j = open_journal(path);
    if (j == NULL)
        return;
    CHECK_INT(ecif_journal_next(j, &e, NULL, err, sizeof(err)), 1);
    rc = ecif_journal_next(j, &e, NULL, err, sizeof(err));
    CHECK_INT(rc, ECIF_ECORRUPT);
    snprintf(expect, sizeof(expect), "byte offset %ld", sizes[0]);
    CHECK(strstr(err, expect) != NULL);
    ecif_journal_close(j);
    CHECK_INT(file_size(path), sizes[2]);
}

/* Writes count not-same entries to path and returns the byte offset of
 * entry `mark` (0-based) in *mark_offset. */
static void write_many(const char *path, int count, int mark, long *mark_offset)
{
    ecif_journal_t *j;
    char err[256];

    unlink(path);
    j = open_empty(path);
    if (j == NULL)
        return;
    for (int i = 0; i < count; i++) {
        ecif_journal_entry_t e = {.kind = ECIF_CORRECTION_NOT_SAME,
                                  .customer_a = 1 + (uint64_t)i,
                                  .customer_b = 1000 + (uint64_t)i,
                                  .reason = "reviewed"};
        if (i == mark)
            *mark_offset = file_size(path);
        CHECK_INT(ecif_journal_append(j, &e, err, sizeof(err)), ECIF_OK);
    }
    ecif_journal_close(j);
}

/* Reads the whole file at path into a new buffer; *size gets its length. */
static unsigned char *slurp(const char *path, long *size)
{
    FILE *f = fopen(path, "rb");
    unsigned char *buf;

    *size = file_size(path);
    if (f == NULL || *size < 0)
        return NULL;
    buf = malloc((size_t)*size + 1);
    if (buf != NULL && fread(buf, 1, (size_t)*size, f) != (size_t)*size) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    return buf;
}

/*
 * A length field damaged in the middle of a journal is not a torn last
 * entry: whole entries follow it. Reading must fail at that entry and
 * leave the file byte for byte as it was, whether the damaged length is
 * beyond any entry, past the end of the file, or exactly at its end.
 */
static void test_journal_damaged_length_middle(void)
{
    const char *path = scratch_path("length.journal");
    const int count = 60, mark = 30;

    for (int variant = 0; variant < 3; variant++) {
        long mark_offset = -1, before_size, after_size;
        ecif_journal_t *j;
        ecif_journal_entry_t e;
        char err[256], expect[64];
        int rc, read = 0;

        write_many(path, count, mark, &mark_offset);
        CHECK(mark_offset > 0);
        long size = file_size(path);
        uint32_t len;
        if (variant == 0)
            len = 0x40000000u; /* beyond the largest possible entry */
        else if (variant == 1)
            len = (uint32_t)(size - mark_offset) + 100; /* past the end */
        else
            len = (uint32_t)(size - mark_offset - ECIF_JOURNAL_FRAME_BYTES);
        unsigned char le[4] = {(unsigned char)len, (unsigned char)(len >> 8),
                               (unsigned char)(len >> 16),
                               (unsigned char)(len >> 24)};
        int fd = open(path, O_RDWR);
        CHECK(fd >= 0);
        CHECK(pwrite(fd, le, 4, mark_offset) == 4);
        close(fd);
        unsigned char *before = slurp(path, &before_size);
        CHECK(before != NULL);

        j = open_journal(path);
        if (j == NULL || before == NULL) {
            free(before);
            return;
        }
        while ((rc = ecif_journal_next(j, &e, NULL, err, sizeof(err))) == 1)
            read++;
        CHECK_INT(rc, ECIF_ECORRUPT);
        CHECK_INT(read, mark);
        snprintf(expect, sizeof(expect), "byte offset %ld", mark_offset);
        CHECK(strstr(err, expect) != NULL);
        ecif_journal_entry_t more = {
            .kind = ECIF_CORRECTION_MERGE, .customer_a = 1, .customer_b = 2};
        CHECK_INT(ecif_journal_append(j, &more, err, sizeof(err)), ECIF_EINVAL);
        ecif_journal_close(j);

        unsigned char *after = slurp(path, &after_size);
        CHECK_INT(after_size, before_size);
        CHECK(after != NULL);
        if (after != NULL)
            CHECK(memcmp(before, after, (size_t)before_size) == 0);
        free(before);
        free(after);
    }
}

static void test_journal_other_snapshot(void)
{
    const char *path = scratch_path("other.journal");
    long sizes[3];
    ecif_journal_t *j = NULL;
    ecif_journal_identity_t other = {identity.snapshot_crc + 1,
                                     identity.snapshot_bytes};
    ecif_journal_identity_t found;
    char err[256];

    write_three(path, sizes);
    CHECK_INT(ecif_journal_open(path, &other, &j, err, sizeof(err)),
              ECIF_ECORRUPT);
    CHECK(j == NULL);
    CHECK(strstr(err, "another snapshot") != NULL);
    CHECK_INT(ecif_journal_open_read(path, &found, &j, err, sizeof(err)),
              ECIF_OK);
    CHECK_INT(found.snapshot_crc, identity.snapshot_crc);
    CHECK_INT(found.snapshot_bytes, identity.snapshot_bytes);
    ecif_journal_close(j);
}

static void test_journal_bad_header(void)
{
    const char *path = scratch_path("header.journal");
    ecif_journal_t *j = NULL;
    char err[256];

    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    fputs("not a journal at all, just some text", f);
    fclose(f);
    CHECK_INT(ecif_journal_open(path, &identity, &j, err, sizeof(err)),
              ECIF_ECORRUPT);
    CHECK(strstr(err, "not a corrections journal") != NULL);
    CHECK_INT(ecif_journal_open_read(scratch_path("missing"), NULL, &j, err,
                                     sizeof(err)),
              ECIF_ENOTFOUND);
}

static void test_journal_read_only_keeps_torn_tail(void)
{
    const char *path = scratch_path("readonly.journal");
    long sizes[3];
    ecif_journal_t *j = NULL;
    ecif_journal_identity_t found;
    uint64_t torn = 0;
    char err[256];

    write_three(path, sizes);
    CHECK(truncate(path, sizes[2] - 3) == 0);
    CHECK_INT(ecif_journal_open_read(path, &found, &j, err, sizeof(err)),
              ECIF_OK);
    if (j == NULL)
        return;
    read_to_end(j, &torn);
    CHECK_INT(torn, sizes[2] - 3 - sizes[1]);
    CHECK_INT(file_size(path), sizes[2] - 3);
    ecif_journal_entry_t more = {
        .kind = ECIF_CORRECTION_MERGE, .customer_a = 1, .customer_b = 2};
    CHECK_INT(ecif_journal_append(j, &more, err, sizeof(err)), ECIF_EINVAL);
    ecif_journal_close(j);
}

static void test_journal_limits(void)
{
    const char *path = scratch_path("limits.journal");
    ecif_journal_t *j = NULL;
    ecif_journal_entry_t e;
    char err[256], reason[ECIF_JOURNAL_MAX_REASON + 2];
    char long_id[ECIF_MAX_FIELD_BYTES + 2];

    unlink(path);
    j = open_journal(path);
    if (j == NULL)
        return;
    /* Appending before the entries were read is rejected. */
    ecif_journal_entry_t merge = {
        .kind = ECIF_CORRECTION_MERGE, .customer_a = 1, .customer_b = 2};
    CHECK_INT(ecif_journal_append(j, &merge, err, sizeof(err)), ECIF_EINVAL);
    CHECK_INT(ecif_journal_next(j, &e, NULL, err, sizeof(err)), 0);

    memset(reason, 'r', sizeof(reason) - 1);
    reason[sizeof(reason) - 1] = '\0';
    merge.reason = reason;
    CHECK_INT(ecif_journal_append(j, &merge, err, sizeof(err)), ECIF_EINVAL);
    CHECK(strstr(err, "reason") != NULL);

    memset(long_id, '9', sizeof(long_id) - 1);
    long_id[sizeof(long_id) - 1] = '\0';
    ecif_source_key_t key = {"crm", long_id};
    ecif_journal_entry_t split = {.kind = ECIF_CORRECTION_SPLIT,
                                  .customer_a = 1,
                                  .reason = "",
                                  .keys = &key,
                                  .key_count = 1};
    CHECK_INT(ecif_journal_append(j, &split, err, sizeof(err)), ECIF_EINVAL);
    CHECK_INT(file_size(path), ECIF_JOURNAL_HEADER_BYTES);
    ecif_journal_close(j);
}

/* An added record with two accounts, one a negative balance. */
static const ecif_record_t added = {
    .source_system = "LOANS",
    .source_id = "APP-1",
    .name = "Li Wei",
    .id_type = "RESIDENT_ID",
    .id_number = "110101199003071233",
    .phones = {"13975318642", "+86 10 5555 0000"},
    .n_phones = 2,
    .emails = {"liwei@example.cn"},
    .n_emails = 1,
    .dob = "1990-03-07",
    .gender = "M"};
static const ecif_account_t added_accounts[2] = {
    {"L-1", "loan", "CNY", "BJ03", 2000000000, 1500000000},
    {"D-1", "deposit", "CNY", "", 0, -12345}};

static void check_added(const ecif_journal_entry_t *e)
{
    CHECK_INT(e->kind, ECIF_JOURNAL_ADD);
    CHECK(e->record != NULL);
    if (e->record == NULL)
        return;
    CHECK_STR(e->record->source_id, "APP-1");
    CHECK_STR(e->record->id_number, "110101199003071233");
    CHECK_STR(e->record->given_name, "");
    CHECK_INT(e->record->n_phones, 2);
    CHECK_STR(e->record->phones[1], "+86 10 5555 0000");
    CHECK_STR(e->record->emails[0], "liwei@example.cn");
    CHECK_INT(e->record->n_addresses, 0);
    CHECK_STR(e->record->gender, "M");
    CHECK_INT(e->account_count, 2);
    if (e->account_count == 2) {
        CHECK_STR(e->accounts[0].branch, "BJ03");
        CHECK_INT(e->accounts[0].credit_limit, 2000000000);
        CHECK_STR(e->accounts[1].account_id, "D-1");
        CHECK_INT(e->accounts[1].balance, -12345);
    }
}

static void test_journal_add_round_trip(void)
{
    const char *path = scratch_path("add.journal");
    ecif_journal_t *j = NULL;
    ecif_journal_entry_t e;
    char err[256];

    unlink(path);
    j = open_empty(path);
    if (j == NULL)
        return;
    ecif_journal_entry_t add = {.kind = ECIF_JOURNAL_ADD,
                                .record = &added,
                                .accounts = added_accounts,
                                .account_count = 2};
    ecif_journal_entry_t merge = {.kind = ECIF_CORRECTION_MERGE,
                                  .customer_a = 1,
                                  .customer_b = 2,
                                  .reason = "same",
                                  .override_not_same = true};
    CHECK_INT(ecif_journal_append(j, &add, err, sizeof(err)), ECIF_OK);
    CHECK_INT(ecif_journal_append(j, &merge, err, sizeof(err)), ECIF_OK);
    ecif_journal_close(j);

    j = open_journal(path);
    if (j == NULL)
        return;
    CHECK_INT(ecif_journal_next(j, &e, NULL, err, sizeof(err)), 1);
    CHECK_INT(e.sequence, 1);
    check_added(&e);
    CHECK_INT(ecif_journal_next(j, &e, NULL, err, sizeof(err)), 1);
    CHECK_INT(e.kind, ECIF_CORRECTION_MERGE);
    CHECK(e.record == NULL);
    CHECK(e.override_not_same);
    CHECK_INT(ecif_journal_next(j, &e, NULL, err, sizeof(err)), 0);

    /* Too many accounts are rejected and nothing is written. */
    static ecif_account_t many[ECIF_JOURNAL_MAX_ACCOUNTS + 1];
    for (size_t i = 0; i < ECIF_JOURNAL_MAX_ACCOUNTS + 1; i++)
        many[i] = added_accounts[0];
    long before = file_size(path);
    ecif_journal_entry_t big = {.kind = ECIF_JOURNAL_ADD,
                                .record = &added,
                                .accounts = many,
                                .account_count = ECIF_JOURNAL_MAX_ACCOUNTS + 1};
    CHECK_INT(ecif_journal_append(j, &big, err, sizeof(err)), ECIF_EINVAL);
    CHECK(strstr(err, "accounts") != NULL);
    CHECK_INT(file_size(path), before);
    ecif_journal_close(j);
}

/* Appends a framed body to the file at path. */
static void append_framed(const char *path, const uint8_t *body, size_t len)
{
    uint8_t frame[ECIF_JOURNAL_FRAME_BYTES];
    uint32_t n = (uint32_t)len, crc = ecif_crc32c(0, body, len);
    FILE *f = fopen(path, "ab");

    memcpy(frame, &n, 4);
    memcpy(frame + 4, &crc, 4);
    CHECK(f != NULL);
    if (f == NULL)
        return;
    CHECK_INT(fwrite(frame, 1, sizeof(frame), f), sizeof(frame));
    CHECK_INT(fwrite(body, 1, len, f), len);
    fclose(f);
}

/* Writes a version 1 header, as builds before version 2 wrote it. */
static void write_version_1(const char *path)
{
    uint8_t h[ECIF_JOURNAL_HEADER_BYTES] = "ECIFJRNL";
    uint32_t crc;

    h[8] = 1;
    memcpy(h + 12, &identity.snapshot_crc, 4);
    memcpy(h + 16, &identity.snapshot_bytes, 8);
    crc = ecif_crc32c(0, h, 24);
    memcpy(h + 24, &crc, 4);
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    if (f == NULL)
        return;
    CHECK_INT(fwrite(h, 1, sizeof(h), f), sizeof(h));
    fclose(f);
}

static void test_journal_version_1_upgraded(void)
{
    const char *path = scratch_path("v1.journal");
    ecif_journal_t *j = NULL;
    ecif_journal_entry_t e;
    char err[256];

    write_version_1(path);
    j = open_empty(path);
    if (j == NULL)
        return;
    ecif_journal_entry_t merge = {.kind = ECIF_CORRECTION_MERGE,
                                  .customer_a = 1,
                                  .customer_b = 2,
                                  .reason = "v1"};
    CHECK_INT(ecif_journal_append(j, &merge, err, sizeof(err)), ECIF_OK);
    /* Every appended entry carries the audit fields of version 2. */
    CHECK_INT(file_version(path), ECIF_JOURNAL_VERSION);

    ecif_journal_entry_t add = {.kind = ECIF_JOURNAL_ADD,
                                .record = &added,
                                .accounts = added_accounts,
                                .account_count = 2};
    CHECK_INT(ecif_journal_append(j, &add, err, sizeof(err)), ECIF_OK);
    CHECK_INT(add.sequence, 2);
    ecif_journal_close(j);
    CHECK_INT(file_version(path), ECIF_JOURNAL_VERSION);

    j = open_journal(path);
    if (j == NULL)
        return;
    CHECK_INT(ecif_journal_next(j, &e, NULL, err, sizeof(err)), 1);
    CHECK_INT(e.kind, ECIF_CORRECTION_MERGE);
    CHECK_INT(ecif_journal_next(j, &e, NULL, err, sizeof(err)), 1);
    check_added(&e);
    ecif_journal_close(j);
}

/* Appended entries carry the time of the append and the actor given. */
static void test_journal_audit_fields_round_trip(void)
{
    const char *path = scratch_path("audit.journal");
    static const ecif_source_key_t keys[1] = {{"crm", "42"}};
    char actor[ECIF_JOURNAL_MAX_ACTOR + 2];
    ecif_journal_entry_t e;
    char err[256];

    unlink(path);
    ecif_journal_t *j = open_empty(path);
    if (j == NULL)
        return;
    int64_t before = (int64_t)time(NULL) * 1000000;
    ecif_journal_entry_t split = {.kind = ECIF_CORRECTION_SPLIT,
                                  .customer_a = 3,
                                  .reason = "two people",
                                  .keys = keys,
                                  .key_count = 1,
                                  .actor = "steward.li"};
    ecif_journal_entry_t add = {.kind = ECIF_JOURNAL_ADD,
                                .record = &added,
                                .accounts = added_accounts,
                                .account_count = 2};
    CHECK_INT(ecif_journal_append(j, &split, err, sizeof(err)), ECIF_OK);
    CHECK_INT(ecif_journal_append(j, &add, err, sizeof(err)), ECIF_OK);
    int64_t after = ((int64_t)time(NULL) + 1) * 1000000;
    CHECK(split.time_us >= before);
    CHECK(split.time_us <= after);
    CHECK(add.time_us >= split.time_us);

    /* An actor one byte too long is rejected and nothing is written. */
    memset(actor, 'a', sizeof(actor) - 1);
    actor[sizeof(actor) - 1] = '\0';
    long size = file_size(path);
    ecif_journal_entry_t long_actor = {.kind = ECIF_CORRECTION_NOT_SAME,
                                       .customer_a = 1,
                                       .customer_b = 2,
                                       .reason = "r",
                                       .actor = actor};
    CHECK_INT(ecif_journal_append(j, &long_actor, err, sizeof(err)),
              ECIF_EINVAL);
    CHECK(strstr(err, "actor") != NULL);
    CHECK_INT(file_size(path), size);
    ecif_journal_close(j);

    j = open_journal(path);
    if (j == NULL)
        return;
    CHECK_INT(ecif_journal_next(j, &e, NULL, err, sizeof(err)), 1);
    CHECK_INT(e.kind, ECIF_CORRECTION_SPLIT);
    CHECK_STR(e.actor, "steward.li");
    CHECK(e.time_us == split.time_us);
    CHECK_STR(e.keys[0].source_id, "42");
    CHECK_INT(ecif_journal_next(j, &e, NULL, err, sizeof(err)), 1);
    check_added(&e);
    CHECK_STR(e.actor, "");
    CHECK(e.time_us == add.time_us);
    CHECK_INT(ecif_journal_next(j, &e, NULL, err, sizeof(err)), 0);
    ecif_journal_close(j);
}

/*
 * Entries of a version 1 journal, written without audit fields, read with
 * time 0 and an empty actor. An entry appended after them carries both,
 * and the file reads back whole.
 */
static void test_journal_version_1_without_audit(void)
{
    const char *path = scratch_path("v1-entries.journal");
    uint8_t body[256];
    ecif_journal_entry_t e;
    char err[256];

    write_version_1(path);
    ecif_journal_entry_t old = {.sequence = 1,
                                .kind = ECIF_CORRECTION_MERGE,
                                .customer_a = 4,
                                .customer_b = 8,
                                .reason = "before audit"};
    size_t len = ecif_journal_encode(&old, body, sizeof(body));
    CHECK(len > 0);
    append_framed(path, body, len);

    ecif_journal_t *j = open_journal(path);
    if (j == NULL)
        return;
    CHECK_INT(ecif_journal_next(j, &e, NULL, err, sizeof(err)), 1);
    CHECK_INT(e.customer_b, 8);
    CHECK_STR(e.reason, "before audit");
    CHECK(e.time_us == 0);
    CHECK_STR(e.actor, "");
    CHECK_INT(ecif_journal_next(j, &e, NULL, err, sizeof(err)), 0);
    ecif_journal_entry_t next = {.kind = ECIF_CORRECTION_NOT_SAME,
                                 .customer_a = 4,
                                 .customer_b = 15,
                                 .reason = "after audit",
                                 .actor = "ops"};
    CHECK_INT(ecif_journal_append(j, &next, err, sizeof(err)), ECIF_OK);
    ecif_journal_close(j);
    CHECK_INT(file_version(path), ECIF_JOURNAL_VERSION);

    j = open_journal(path);
    if (j == NULL)
        return;
    CHECK_INT(ecif_journal_next(j, &e, NULL, err, sizeof(err)), 1);
    CHECK(e.time_us == 0);
    CHECK_INT(ecif_journal_next(j, &e, NULL, err, sizeof(err)), 1);
    CHECK_INT(e.sequence, 2);
    CHECK_STR(e.actor, "ops");
    CHECK(e.time_us > 0);
    CHECK_INT(ecif_journal_next(j, &e, NULL, err, sizeof(err)), 0);
    ecif_journal_close(j);
}

/* A flags byte with a bit no build defines is an invalid entry. */
static void test_journal_unknown_flag_is_invalid(void)
{
    const char *path = scratch_path("flags.journal");
    uint8_t body[256];
    ecif_journal_entry_t e;
    char err[256];

    unlink(path);
    ecif_journal_t *j = open_empty(path);
    if (j == NULL)
        return;
    ecif_journal_close(j);
    ecif_journal_entry_t merge = {.sequence = 1,
                                  .kind = ECIF_CORRECTION_MERGE,
                                  .customer_a = 4,
                                  .customer_b = 8,
                                  .reason = "r"};
    size_t len = ecif_journal_encode(&merge, body, sizeof(body));
    body[9] = 0x02;
    append_framed(path, body, len);
    append_framed(path, body, len); /* so the first is not a torn tail */
    j = open_journal(path);
    if (j == NULL)
        return;
    CHECK_INT(ecif_journal_next(j, &e, NULL, err, sizeof(err)), ECIF_ECORRUPT);
    CHECK(strstr(err, "invalid entry") != NULL);
    ecif_journal_close(j);
}

/* An add keeps the record's update time, and one out of range is an
 * invalid entry. */
static void test_journal_add_updated_at(void)
{
    const char *path = scratch_path("updated.journal");
    uint8_t body[1024];
    ecif_journal_entry_t e;
    char err[256];

    unlink(path);
    ecif_journal_t *j = open_empty(path);
    if (j == NULL)
        return;
    ecif_record_t rec = added;
    rec.updated_at = 1709281815;
    ecif_journal_entry_t add = {.kind = ECIF_JOURNAL_ADD,
                                .record = &rec,
                                .accounts = added_accounts,
                                .account_count = 2,
                                .actor = "feed"};
    CHECK_INT(ecif_journal_append(j, &add, err, sizeof(err)), ECIF_OK);
    ecif_journal_entry_t plain = {.kind = ECIF_JOURNAL_ADD, .record = &added};
    CHECK_INT(ecif_journal_append(j, &plain, err, sizeof(err)), ECIF_OK);
    ecif_journal_close(j);

    j = open_journal(path);
    if (j == NULL)
        return;
    CHECK_INT(ecif_journal_next(j, &e, NULL, err, sizeof(err)), 1);
    check_added(&e);
    CHECK(e.record != NULL);
    if (e.record != NULL)
        CHECK_INT(e.record->updated_at, 1709281815);
    CHECK_STR(e.actor, "feed");
    CHECK_INT(ecif_journal_next(j, &e, NULL, err, sizeof(err)), 1);
    CHECK(e.record != NULL);
    if (e.record != NULL)
        CHECK_INT(e.record->updated_at, 0);
    CHECK_INT(ecif_journal_next(j, &e, NULL, err, sizeof(err)), 0);
    ecif_journal_close(j);

    /* A time of 0 under the flag is not one an append writes. */
    rec.updated_at = 1;
    add.sequence = 3;
    add.time_us = 0;
    size_t len = ecif_journal_encode(&add, body, sizeof(body));
    CHECK(len > 8);
    memset(body + len - 8, 0, 8);
    append_framed(path, body, len);
    append_framed(path, body, len); /* so the first is not a torn tail */
    j = open_journal(path);
    if (j == NULL)
        return;
    CHECK_INT(ecif_journal_next(j, &e, NULL, err, sizeof(err)), 1);
    CHECK_INT(ecif_journal_next(j, &e, NULL, err, sizeof(err)), 1);
    CHECK_INT(ecif_journal_next(j, &e, NULL, err, sizeof(err)), ECIF_ECORRUPT);
    CHECK(strstr(err, "invalid entry") != NULL);
    ecif_journal_close(j);
}

static void test_journal_second_writer_busy(void)
{
    const char *path = scratch_path("busy.journal");
    ecif_journal_t *first = open_journal(path), *second = NULL, *reader = NULL;
    ecif_journal_lock_t *lock = NULL;
    char err[256];

    if (first == NULL)
        return;
    CHECK_INT(ecif_journal_open(path, &identity, &second, err, sizeof(err)),
              ECIF_EBUSY);
    CHECK(second == NULL);
    CHECK(strstr(err, path) != NULL);
    CHECK(strstr(err, "in use by another process") != NULL);
    CHECK_INT(ecif_journal_lock(path, &lock, err, sizeof(err)), ECIF_EBUSY);
    CHECK(lock == NULL);
    /* Readers take no lock. */
    CHECK_INT(ecif_journal_open_read(path, NULL, &reader, err, sizeof(err)),
              ECIF_OK);
    ecif_journal_close(reader);

    ecif_journal_close(first);
    second = open_journal(path);
    ecif_journal_close(second);
}

static void test_journal_lock_blocks_writer(void)
{
    const char *path = scratch_path("locked.journal");
    ecif_journal_t *j = open_journal(path);
    ecif_journal_lock_t *lock = NULL;
    char err[256];

    ecif_journal_close(j);
    CHECK_INT(ecif_journal_lock(path, &lock, err, sizeof(err)), ECIF_OK);
    CHECK_INT(ecif_journal_open(path, &identity, &j, err, sizeof(err)),
              ECIF_EBUSY);
    CHECK(strstr(err, path) != NULL);
    ecif_journal_unlock(lock);
    j = open_journal(path);
    ecif_journal_close(j);
    CHECK_INT(
        ecif_journal_lock(scratch_path("missing"), &lock, err, sizeof(err)),
        ECIF_ENOTFOUND);
}

/* A journal moved aside under its lock, as import folds one, keeps the
 * lock, and a new journal at the old path is a file of its own. */
static void test_journal_lock_follows_rename(void)
{
    const char *path = scratch_path("moved.journal");
    char moved[700];
    ecif_journal_t *j = open_journal(path);
    ecif_journal_lock_t *lock = NULL;
    char err[256];

    ecif_journal_close(j);
    snprintf(moved, sizeof(moved), "%s.folded", path);
    CHECK_INT(ecif_journal_lock(path, &lock, err, sizeof(err)), ECIF_OK);
    CHECK(rename(path, moved) == 0);
    j = open_journal(path);
    ecif_journal_close(j);
    CHECK_INT(ecif_journal_open(moved, &identity, &j, err, sizeof(err)),
              ECIF_EBUSY);
    ecif_journal_unlock(lock);
}

int main(void)
{
    scratch_init();
    RUN(test_journal_add_round_trip);
    RUN(test_journal_version_1_upgraded);
    RUN(test_journal_audit_fields_round_trip);
    RUN(test_journal_version_1_without_audit);
    RUN(test_journal_unknown_flag_is_invalid);
    RUN(test_journal_add_updated_at);
    RUN(test_journal_round_trip);
    RUN(test_journal_torn_tail_every_byte);
    RUN(test_journal_torn_tail_garbage);
    RUN(test_journal_corrupt_middle_entry);
    RUN(test_journal_damaged_length_middle);
    RUN(test_journal_other_snapshot);
    RUN(test_journal_bad_header);
    RUN(test_journal_read_only_keeps_torn_tail);
    RUN(test_journal_limits);
    RUN(test_journal_second_writer_busy);
    RUN(test_journal_lock_blocks_writer);
    RUN(test_journal_lock_follows_rename);
    return unit_report();
}
