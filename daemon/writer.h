/*
 * writer.h — group commit: one log transaction per loop iteration.
 *
 * Modules append to the iteration's batch and register what must happen
 * once it is on disk (send a receipt, answer a client, queue a message).
 * writer_flush() commits once and then runs those actions in order, each
 * told whether the commit succeeded.  Nothing is announced before it is
 * durable.
 */
#ifndef PPXD_WRITER_H
#define PPXD_WRITER_H

#include "ppx/logstore.h"

struct ppxd;
struct writer;

/* Called after the commit: rc is 0, or the code the commit failed with. */
typedef void (*writer_done_fn)(struct ppxd *d, void *arg, int rc);

int writer_new(struct writer **out);
void writer_free(struct writer **self);

/* The batch of this iteration, begun on first use. */
int writer_batch(struct ppxd *d, ppx_log_batch **out);

/* Append to this iteration's batch. */
int writer_append(struct ppxd *d, Ppx__V1__LogEntry *entry, uint64_t *seq);
/* A signed checkpoint appended to the batch now (before a backup). */
int writer_checkpoint_now(struct ppxd *d);

/* Run fn(d, arg, rc) after this iteration's commit.  `arg` is the
 * callback's to free. */
int writer_after(struct ppxd *d, writer_done_fn fn, void *arg);

/* Entries appended in this iteration so far. */
size_t writer_pending(struct ppxd *d);

/* 1 if no batch is open and no action waits: what is begun now commits
 * (or aborts) alone. */
int writer_idle(struct ppxd *d);

/* Commit the batch (if any) and run the deferred actions. */
int writer_flush(struct ppxd *d);

/* Records that must be stored together could not all be put in the
 * batch (or no batch could be begun): the next writer_flush() aborts the
 * batch instead of committing it and tells every action `rc` (negative,
 * the error message kept), as after a failed commit.  Other modules' work
 * in the same iteration is lost with it and retried by whoever asked. */
void writer_fail(struct ppxd *d, int rc);

/* Abort the batch (if any): nothing of it is stored, and the deferred
 * actions run told `rc` (negative), as after a failed commit.  For a unit
 * of work that must commit whole or not at all, begun when writer_idle(). */
void writer_abort(struct ppxd *d, int rc);

#endif
