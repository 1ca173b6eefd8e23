/*
 * Reads the small files that decide who may call ecifd or what it proves
 * about itself: tokens, private keys, certificates. Each must be a
 * regular file (opening a FIFO would block), and the caller chooses which
 * permissions to hold it to. Messages name the file and what is wrong
 * with it, never its contents.
 */
#ifndef ECIF_RPC_GUARDED_FILE_H
#define ECIF_RPC_GUARDED_FILE_H

#include <stddef.h>

/* Checks a guarded file can be held to; combine with |. */
enum {
    /* Refuse a file that group or others may write. */
    ECIF_GUARD_NO_FOREIGN_WRITE = 1 << 0,
    /* Refuse a file that group or others may read or write: a secret. */
    ECIF_GUARD_PRIVATE = 1 << 1,
    /* Refuse a file that belongs to neither this process's user nor
     * root. */
    ECIF_GUARD_OWNER = 1 << 2,
    /* Refuse a file whose folder group or others may write, unless the
     * folder is sticky (as /tmp is), where they cannot replace another
     * user's file. */
    ECIF_GUARD_FOLDER = 1 << 3,
};

/*
 * Reads the whole file at path into a malloc'd buffer ending in a NUL byte
 * (*out, *len without the NUL); the caller frees it. what names the file
 * in messages ("--tls-key", "ECIF_TOKEN_FILE"). A file larger than
 * max_bytes is refused. Returns ECIF_OK, ECIF_EIO (it cannot be opened or
 * read), ECIF_EINVAL (not a regular file, too large, or fails a check of
 * guards) or ECIF_ENOMEM, with the reason in err.
 */
int ecif_guarded_read(const char *path, const char *what, unsigned guards,
                      size_t max_bytes, char **out, size_t *len, char *err,
                      size_t errlen);

#endif
