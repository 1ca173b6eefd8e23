/*
 * The audit log. Writers share one file descriptor opened with O_APPEND,
 * and each line is a single write(2), so lines of concurrent calls never
 * interleave. A reader-writer lock lets reopen swap the descriptor while
 * no write is using it.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "status.h"

/* Maximum lines a second for calls without a valid token. Anyone who
 * reaches the port can make such calls, so they must not fill the disk. */
#define AUDIT_UNAUTHENTICATED_PER_SECOND 20

/* Maximum length of an audit line. A longer customer list is cut at a
 * comma. */
#define AUDIT_LINE_MAX 1024

struct ecif_audit {
    pthread_rwlock_t
        lock; /* held for reading by writes, for writing by reopen */
    int fd;
    char *path;
    atomic_uint_fast64_t failures;
    pthread_mutex_t limit_lock; /* guards the three fields below */
    time_t limit_second;
    unsigned limit_count;
    uint64_t suppressed; /* calls without a valid token not written */
};

/*
 * Opens path for appending, creating it with mode 0600. Rejects anything
 * but a regular file, and O_NONBLOCK keeps a FIFO from blocking the open.
 */
static int open_append(const char *path, char *err, size_t errlen)
{
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NONBLOCK,
                  0600);
    /* ENXIO: a FIFO that no process reads. */
    if (fd < 0 && errno == ENXIO)
        return ecif_fail(ECIF_EIO, err, errlen,
                         "audit log '%s' is not a regular file", path);
    if (fd < 0)
        return ecif_fail(ECIF_EIO, err, errlen,
                         "opening the audit log '%s' failed: %s", path,
                         strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return ecif_fail(ECIF_EIO, err, errlen,
                         "audit log '%s' is not a regular file", path);
    }
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) < 0) {
        close(fd);
        return ecif_fail(ECIF_EIO, err, errlen,
                         "setting up the audit log '%s' failed: %s", path,
                         strerror(errno));
    }
    return fd;
}

bool ecif_audit_private(const ecif_audit_t *audit)
{
    struct stat st;
    return fstat(audit->fd, &st) != 0 || (st.st_mode & 077) == 0;
}

int ecif_audit_open(const char *path, ecif_audit_t **out, char *err,
                    size_t errlen)
{
    *out = NULL;
    ecif_audit_t *audit = calloc(1, sizeof(*audit));
    char *copy = strdup(path);
    if (audit == NULL || copy == NULL) {
        free(audit);
        free(copy);
        return ecif_fail(ECIF_ENOMEM, err, errlen,
                         "out of memory opening the audit log");
    }
    int fd = open_append(path, err, errlen);
    if (fd < 0) {
        free(audit);
        free(copy);
        return fd;
    }
    pthread_rwlock_init(&audit->lock, NULL);
    pthread_mutex_init(&audit->limit_lock, NULL);
    audit->fd = fd;
    audit->path = copy;
    atomic_init(&audit->failures, 0);
    *out = audit;
    return ECIF_OK;
}

int ecif_audit_reopen(ecif_audit_t *audit, char *err, size_t errlen)
{
    int fd = open_append(audit->path, err, errlen);
    if (fd < 0)
        return fd;
    pthread_rwlock_wrlock(&audit->lock);
    int old = audit->fd;
    audit->fd = fd;
    pthread_rwlock_unlock(&audit->lock);
    close(old);
    return ECIF_OK;
}

/* Copies customers into out (room for len bytes), cut after the last
 * whole number that fits. */
static void copy_customers(const char *customers, char *out, size_t len)
{
    size_t n = strlen(customers);
    if (n < len) {
        memcpy(out, customers, n + 1);
        return;
    }
    n = len - 1;
    while (n > 0 && customers[n] != ',')
        n--;
    memcpy(out, customers, n);
    out[n] = '\0';
}

/* Writes one formatted line with one write(2). */
static int write_line(ecif_audit_t *audit, const char *line, size_t n)
{
    pthread_rwlock_rdlock(&audit->lock);
    ssize_t written = write(audit->fd, line, n);
    /* A full disk can cut a line. Ending the piece with a line break
     * keeps the next line from running on from it. */
    if (written > 0 && (size_t)written < n && write(audit->fd, "\n", 1) != 1)
        atomic_fetch_add(&audit->failures, 1);
    pthread_rwlock_unlock(&audit->lock);
    if (written < 0 || (size_t)written != n) {
        atomic_fetch_add(&audit->failures, 1);
        return ECIF_EIO;
    }
    return ECIF_OK;
}

/* Formats the time stamp of a line into stamp (room for 40 bytes). */
static void line_time(char *stamp)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    size_t n = strftime(stamp, 32, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(stamp + n, 40 - n, ".%03ldZ", ts.tv_nsec / 1000000);
}

int ecif_audit_report_suppressed(ecif_audit_t *audit)
{
    pthread_mutex_lock(&audit->limit_lock);
    uint64_t suppressed = audit->suppressed;
    audit->suppressed = 0;
    pthread_mutex_unlock(&audit->limit_lock);
    if (suppressed == 0)
        return ECIF_OK;
    char stamp[40], line[160];
    line_time(stamp);
    int n = snprintf(line, sizeof(line),
                     "%s principal=- method=- status=UNAUTHENTICATED us=0 "
                     "customers=- suppressed=%llu\n",
                     stamp, (unsigned long long)suppressed);
    return write_line(audit, line, (size_t)n);
}

/* Returns whether a call without a valid token gets its line, counting
 * those that do not. */
static bool unauthenticated_line_allowed(ecif_audit_t *audit)
{
    time_t now = time(NULL);
    bool allowed;

    pthread_mutex_lock(&audit->limit_lock);
    if (now != audit->limit_second) {
        audit->limit_second = now;
        audit->limit_count = 0;
    }
    allowed = audit->limit_count < AUDIT_UNAUTHENTICATED_PER_SECOND;
    if (allowed)
        audit->limit_count++;
    else
        audit->suppressed++;
    pthread_mutex_unlock(&audit->limit_lock);
    return allowed;
}

int ecif_audit_write(ecif_audit_t *audit, const char *principal,
                     const char *method, const char *status, uint64_t micros,
                     const char *customers)
{
    if (strcmp(status, "UNAUTHENTICATED") == 0) {
        if (!unauthenticated_line_allowed(audit))
            return ECIF_OK;
        ecif_audit_report_suppressed(audit);
    }

    char stamp[40];
    line_time(stamp);
    char list[AUDIT_LINE_MAX / 2];
    copy_customers(customers, list, sizeof(list));
    char line[AUDIT_LINE_MAX];
    int n = snprintf(line, sizeof(line),
                     "%s principal=%s method=%s status=%s us=%llu "
                     "customers=%s\n",
                     stamp, principal != NULL ? principal : "-", method, status,
                     (unsigned long long)micros, list[0] ? list : "-");
    if (n < 0 || (size_t)n >= sizeof(line)) {
        atomic_fetch_add(&audit->failures, 1);
        return ECIF_EIO;
    }
    return write_line(audit, line, (size_t)n);
}

uint64_t ecif_audit_take_failures(ecif_audit_t *audit)
{
    return atomic_exchange(&audit->failures, 0);
}

void ecif_audit_close(ecif_audit_t *audit)
{
    if (audit == NULL)
        return;
    ecif_audit_report_suppressed(audit);
    close(audit->fd);
    pthread_mutex_destroy(&audit->limit_lock);
    pthread_rwlock_destroy(&audit->lock);
    free(audit->path);
    free(audit);
}
