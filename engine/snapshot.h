/*
 * Snapshot files: writing a store atomically and loading it with io_uring.
 * The format is described in docs/snapshot-format.md.
 *
 * Private to the engine; ecif_store_open() in store.h is the public entry.
 */
#ifndef ECIF_SNAPSHOT_H
#define ECIF_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>

#include "layout.h"

/*
 * Writes the tables of s to path: a temporary file in the same directory,
 * fsync, rename over path, fsync of the directory. Sets *bytes to the file
 * size. Returns ECIF_OK or ECIF_EIO (message names the call and errno
 * text); on failure the temporary file is removed and path is untouched.
 */
int snapshot_write(const struct ecif_store *s, const char *path,
                   uint64_t *bytes, char *err, size_t errlen);

#endif
