/*
 * Status codes of the engine. Every engine call that can fail returns an
 * int: ECIF_OK (0) on success or one of the negative codes below. A call
 * that fails leaves the objects it was given unchanged.
 */
#ifndef ECIF_STATUS_H
#define ECIF_STATUS_H

#include <stddef.h>

enum {
    ECIF_OK = 0,
    ECIF_EINVAL = -1,    /* an argument or input value is invalid */
    ECIF_ENOMEM = -2,    /* an allocation driven by input size failed */
    ECIF_ENOTFOUND = -3, /* the requested customer or record is unknown */
    ECIF_ECORRUPT = -4,  /* a snapshot or journal failed a check */
    ECIF_EVERSION = -5,  /* a snapshot has an unsupported format version */
    ECIF_EIO = -6,       /* a read, write or sync failed; errno is kept */
    ECIF_ELIMIT = -7,    /* a configured limit was exceeded */
    ECIF_EEXIST = -8,    /* a record with the same key was already added */
    ECIF_ECONFLICT = -9, /* a request contradicts the current state */
    ECIF_EBUSY = -10,    /* another process holds a file's lock */
};

/* Returns a static, lower-case name for a status code ("invalid argument"). */
const char *ecif_status_str(int status);

/*
 * Writes a formatted message into err (of errlen bytes, may be 0) and
 * returns status. Lets a failing path set its message and return in one
 * statement.
 */
int ecif_fail(int status, char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
