/*
 * directory_int.h — shared by lib/directory.c and lib/directory_changes.c.
 */
#ifndef PPX_DIRECTORY_INT_H
#define PPX_DIRECTORY_INT_H

#include <stddef.h>
#include <stdint.h>

/* A directory's signature covers this label, its NUL, then the
 * Directory's bytes (PROTOCOL.md 13.1). */
#define PPX_DIRECTORY_TBS_LABEL "ppx/v1/directory"

/* The bytes signed for directory bytes `dir` (*out, *len: the caller
 * frees *out). */
int ppxi_directory_tbs(uint8_t **out, size_t *len, const uint8_t *dir,
		       size_t dir_len);

#endif
