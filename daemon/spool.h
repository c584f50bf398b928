/*
 * spool.h — the spool directory: a system drops one message per JSON file
 * and ppxd sends it exactly once, moving the file to done/ or failed/ with
 * its outcome beside it (docs/HOOKS.md).
 *
 * spool_scan() runs inside a loop iteration, before the commit: it submits
 * new files through submit_body() (submit.c) into the iteration's batch, and
 * moves each file aside only after that batch has committed.
 */
#ifndef PPXD_SPOOL_H
#define PPXD_SPOOL_H

#include <stddef.h>

struct ppxd;
struct spool;

/* Without [spool], a spool that does nothing.  Otherwise the directory
 * must exist and be closed to other users; done/ and failed/ are made. */
int spool_new(struct spool **out, struct ppxd *d);
void spool_free(struct spool **self);

/* Every scan_ms: submit up to `max` files, in name order. */
void spool_scan(struct ppxd *d, size_t max);

/* Milliseconds until the next scan, at most `max`. */
long spool_timeout(struct ppxd *d, long max);

#endif
