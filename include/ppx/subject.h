/*
 * subject.h — the keys a message is logged and found under.
 *
 * A subject is named by up to five identifiers (SubjectIds): the Police
 * National Computer id, the CRO number, the probation case reference, the
 * prison number and the ViSOR id.  Each present identifier gives a subject
 * key "scheme:identifier" (e.g. "pnc:2019/0123456X"); the log indexes
 * every message under the keys of its subjects (ppx_log_by_subject), the
 * policy lists a duty-to-co-operate agency's cases by them, and ppx finds
 * a subject's messages by them.  One table, here, says which schemes there
 * are and which field of SubjectIds each reads.
 */
#ifndef PPX_SUBJECT_H
#define PPX_SUBJECT_H

#include <stddef.h>

#include "ppx.pb-c.h"

#define PPX_SUBJECT_SCHEMES 5

/* Scheme i's name ("pnc", "cro", "crn", "prison", "visor"), or NULL past
 * the last. */
const char *ppx_subject_scheme(size_t i);

/* Scheme i's identifier in `ids`, or NULL if it is absent or empty. */
const char *ppx_subject_id(const Ppx__V1__SubjectIds *ids, size_t i);

/* The index of the scheme named by the first `len` bytes of `name`, or -1. */
int ppx_subject_scheme_index(const char *name, size_t len);

/* Nonzero if `key` is scheme:identifier with a known scheme and an
 * identifier without spaces or control characters. */
int ppx_subject_key_valid(const char *key);

/*
 * The subject keys of `ids`, one per present identifier.  *out is a new
 * array of *n new strings (both possibly empty; *out may be NULL when *n
 * is 0); free with ppx_subject_keys_free.  `ids` may be NULL.  0 or
 * PPX_ENOMEM.
 */
int ppx_subject_keys(char ***out, size_t *n, const Ppx__V1__SubjectIds *ids);

void ppx_subject_keys_free(char **keys, size_t n);

#endif
