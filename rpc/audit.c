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

/* Maximum length of an audit line. A longer customer list is cut at a
 * comma. */
#define AUDIT_LINE_MAX 1024

struct ecif_audit {
    pthread_rwlock_t lock; /* read: a write; write: a reopen */
    int fd;
    char *path;
    atomic_uint_fast64_t failures;
};

/*
 * Opens path for appending, creating it with mode 0600. Rejects anything
 * but a regular file; O_NONBLOCK keeps a FIFO from blocking the open.
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

int ecif_audit_write(ecif_audit_t *audit, const char *principal,
                     const char *method, const char *status, uint64_t micros,
                     const char *customers)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char stamp[32];
    strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);

    char list[AUDIT_LINE_MAX / 2];
    copy_customers(customers, list, sizeof(list));
    char line[AUDIT_LINE_MAX];
    int n = snprintf(line, sizeof(line),
                     "%s.%03ldZ principal=%s method=%s status=%s us=%llu "
                     "customers=%s\n",
                     stamp, ts.tv_nsec / 1000000,
                     principal != NULL ? principal : "-", method, status,
                     (unsigned long long)micros, list[0] ? list : "-");
    if (n < 0 || (size_t)n >= sizeof(line)) {
        atomic_fetch_add(&audit->failures, 1);
        return ECIF_EIO;
    }

    pthread_rwlock_rdlock(&audit->lock);
    ssize_t written = write(audit->fd, line, (size_t)n);
    /* A full disk can cut a line. Ending the piece with a line break
     * keeps the next line from running on from it. */
    if (written > 0 && written < n && write(audit->fd, "\n", 1) != 1)
        atomic_fetch_add(&audit->failures, 1);
    pthread_rwlock_unlock(&audit->lock);
    if (written != n) {
        atomic_fetch_add(&audit->failures, 1);
        return ECIF_EIO;
    }
    return ECIF_OK;
}

uint64_t ecif_audit_take_failures(ecif_audit_t *audit)
{
    return atomic_exchange(&audit->failures, 0);
}

void ecif_audit_close(ecif_audit_t *audit)
{
    if (audit == NULL)
        return;
    close(audit->fd);
    pthread_rwlock_destroy(&audit->lock);
    free(audit->path);
    free(audit);
}
