/*
 * Guarded file reads. The checks run on the open descriptor (fstat), so a
 * file swapped between the check and the read cannot slip past them.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "guarded_file.h"
#include "status.h"

/* Returns NULL when st passes guards, else why not. */
static const char *guard_problem(const struct stat *st, unsigned guards)
{
    if (!S_ISREG(st->st_mode))
        return "is not a regular file";
    if ((guards & ECIF_GUARD_OWNER) && st->st_uid != geteuid() &&
        st->st_uid != 0)
        return "belongs to a user other than this process's or root";
    if ((guards & ECIF_GUARD_PRIVATE) && (st->st_mode & 077))
        return "may be read or written by group or others: run chmod 600 "
               "on it";
    if ((guards & ECIF_GUARD_NO_FOREIGN_WRITE) &&
        (st->st_mode & (S_IWGRP | S_IWOTH)))
        return "may be written by group or others: run chmod go-w on it";
    return NULL;
}

/*
 * Checks the folder that contains the file path names, after symbolic
 * links, because a user who may write into it could put another file in
 * its place.
 * Returns NULL or why the folder is refused, with its path in folder.
 */
static const char *folder_problem(const char *path, char *folder,
                                  size_t folder_len)
{
    char *real = realpath(path, NULL);
    if (real == NULL)
        return NULL; /* the open reports a missing file */
    char *slash = strrchr(real, '/');
    if (slash == real)
        slash[1] = '\0';
    else if (slash != NULL)
        *slash = '\0';
    snprintf(folder, folder_len, "%s", real);
    free(real);

    struct stat st;
    if (stat(folder, &st) != 0)
        return NULL;
    if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0 && (st.st_mode & S_ISVTX) == 0)
        return "may be written by group or others, who could put another "
               "file in its place";
    return NULL;
}

int ecif_guarded_read(const char *path, const char *what, unsigned guards,
                      size_t max_bytes, char **out, size_t *len, char *err,
                      size_t errlen)
{
    *out = NULL;
    *len = 0;
    /* O_NONBLOCK: opening a FIFO must not wait for a writer. */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return ecif_fail(ECIF_EIO, err, errlen, "%s '%s' cannot be opened: %s",
                         what, path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int saved = errno;
        close(fd);
        return ecif_fail(ECIF_EIO, err, errlen, "%s '%s' cannot be read: %s",
                         what, path, strerror(saved));
    }
    const char *problem = guard_problem(&st, guards);
    if (problem != NULL) {
        close(fd);
        return ecif_fail(ECIF_EINVAL, err, errlen, "%s '%s' %s", what, path,
                         problem);
    }
    char folder[4096];
    if ((guards & ECIF_GUARD_FOLDER) &&
        (problem = folder_problem(path, folder, sizeof(folder))) != NULL) {
        close(fd);
        return ecif_fail(ECIF_EINVAL, err, errlen,
                         "the folder '%s' of %s '%s' %s: run chmod go-w on "
                         "it or move the file",
                         folder, what, path, problem);
    }
    if ((uint64_t)st.st_size > (uint64_t)max_bytes) {
        close(fd);
        return ecif_fail(ECIF_EINVAL, err, errlen,
                         "%s '%s' has %lld bytes, more than the %zu allowed",
                         what, path, (long long)st.st_size, max_bytes);
    }
    char *buf = malloc((size_t)st.st_size + 1);
    if (buf == NULL) {
        close(fd);
        return ecif_fail(ECIF_ENOMEM, err, errlen, "out of memory reading %s",
                         what);
    }
    size_t got = 0, want = (size_t)st.st_size;
    while (got < want) {
        ssize_t n = read(fd, buf + got, want - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            int saved = n < 0 ? errno : 0;
            close(fd);
            free(buf);
            return ecif_fail(
                ECIF_EIO, err, errlen, "%s '%s' cannot be read: %s", what, path,
                saved != 0 ? strerror(saved) : "it shrank while being read");
        }
        got += (size_t)n;
    }
    close(fd);
    buf[got] = '\0';
    *out = buf;
    *len = got;
    return ECIF_OK;
}
