/*
 * file.h — whole small files in and out: a document read with a size cap
 * (a directory, a CRL, a specification), and written so that a reader
 * sees the old bytes or the new, never half.
 */
#ifndef PPX_FILE_H
#define PPX_FILE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * The regular file at `path`, at most `max` bytes, in *out (*len bytes,
 * followed by a NUL not counted; the caller frees it).  PPX_ENOTFOUND if
 * it does not exist, PPX_ETOOBIG over `max`, PPX_EIO (not a regular file,
 * cannot read), PPX_ENOMEM.
 */
int ppx_file_read(uint8_t **out, size_t *len, const char *path, size_t max);

/*
 * Write `len` bytes to `path` atomically with `mode`: PATH.tmp written
 * (never through a symbolic link) and synced, renamed over `path`, and
 * the directory synced.  0 or PPX_EIO / PPX_ERANGE with the detail.
 */
int ppx_file_write_atomic(const char *path, const uint8_t *data, size_t len,
			  mode_t mode);

/* The same, the file given to `uid`:`gid` before anything is written in
 * it (by root, for a daemon's user); (uid_t)-1: not given. */
int ppx_file_write_atomic_as(const char *path, const uint8_t *data,
			     size_t len, mode_t mode, uid_t uid, gid_t gid);

#endif
