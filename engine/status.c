/*
 * Status names and the message helper shared by every engine module.
 */
#include <stdarg.h>
#include <stdio.h>

#include "status.h"

const char *ecif_status_str(int status)
{
    switch (status) {
    case ECIF_OK:
        return "ok";
    case ECIF_EINVAL:
        return "invalid argument";
    case ECIF_ENOMEM:
        return "out of memory";
    case ECIF_ENOTFOUND:
        return "not found";
    case ECIF_ECORRUPT:
        return "corrupt data";
    case ECIF_EVERSION:
        return "unsupported snapshot version";
    case ECIF_EIO:
        return "I/O error";
    case ECIF_ELIMIT:
        return "limit exceeded";
    case ECIF_EEXIST:
        return "already exists";
    case ECIF_ECONFLICT:
        return "conflicts with the current state";
    case ECIF_EBUSY:
        return "in use by another process";
    default:
        return "unknown status";
    }
}

int ecif_fail(int status, char *err, size_t errlen, const char *fmt, ...)
{
    if (err != NULL && errlen > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return status;
}
