/*
 * writer.c — group commit for ppxd.
 *
 * Everything an iteration of the main loop logs goes into one LMDB write
 * transaction; writer_flush() commits it with a single fsync and only then
 * runs the actions that depend on it.  A burst of a thousand messages
 * costs one fsync, and every receipt still means "on disk".
 *
 * Checkpoints are signed here, inside the batch, as soon as
 * `checkpoint_every` entries follow the last one: consecutive checkpoints
 * while the daemon runs state tree sizes exactly checkpoint_every apart,
 * whatever the size of a group commit (one per commit let them drift up
 * to a whole batch apart).
 *
 * A module whose records must be stored together (a receipt entry and the
 * outbox keys it removes; a SENT entry and one outbox key per recipient)
 * and which fails halfway says so with writer_fail(): the iteration's
 * batch is then aborted rather than committed, and every action is told
 * the failure, so that nothing is held done in memory that is not on
 * disk.  A batch that cannot be begun (writer_batch()) fails the same
 * way: every action of the iteration is told so, never 0.  Modules that
 * fail alone (a refused frame, a duplicate) do not call it: their
 * failure leaves nothing half-written in the batch.
 */
#include <stdio.h>
#include <stdlib.h>

#include "log.h"
#include "ppx/checkpoint.h"
#include "ppx/error.h"
#include "state.h"
#include "writer.h"

#define WRITER_ACTIONS_MAX (1u << 20)

struct action {
	writer_done_fn fn;
	void *arg;
};

struct writer {
	ppx_log_batch *batch;
	size_t appended;
	uint64_t checkpoint_at_begin;	/* restored if the commit fails */
	struct action *actions;
	size_t n, cap;
	int failed;		/* writer_fail(): abort, not commit */
	char why[256];
};

int writer_new(struct writer **out)
{
	*out = calloc(1, sizeof(**out));
	return *out ? 0 : ppx_error_set(PPX_ENOMEM, "out of memory");
}

void writer_free(struct writer **self)
{
	if (!*self)
		return;
	if ((*self)->batch)
		ppx_log_abort((*self)->batch);
	free((*self)->actions);
	free(*self);
	*self = NULL;
}

int writer_batch(struct ppxd *d, ppx_log_batch **out)
{
	struct writer *w = d->writer;
	int rc;

	if (!w->batch) {
		rc = ppx_log_begin(&w->batch, d->log);
		if (rc != 0) {	/* what this iteration waits on is not done */
			writer_fail(d, rc);
			return rc;
		}
		w->appended = 0;
		w->checkpoint_at_begin = d->checkpoint_size;
	}
	*out = w->batch;
	return 0;
}

/* A checkpoint in the batch once checkpoint_every entries follow the last
 * one.  Failing to sign one is not the entry's failure: it is said, and
 * tried again at the next entry. */
static void writer_checkpoint(struct ppxd *d, ppx_log_batch *b)
{
	uint64_t next = ppx_log_batch_next(b), seq;

	if (next - d->checkpoint_size < (uint64_t)d->cfg->checkpoint_every)
		return;
	if (ppx_checkpoint_append_batch(b, d->log, d->signer, &seq) != 0) {
		log_warnx("cannot sign a checkpoint: %s", ppx_error_last());
		return;
	}
	d->writer->appended++;
	d->checkpoint_size = seq;
}

/* A checkpoint in the batch now, whatever checkpoint_every says: before
 * a backup, so that every copy holds one the agency signed (ppx restore
 * tells whose log a copy is by it). */
int writer_checkpoint_now(struct ppxd *d)
{
	ppx_log_batch *b;
	uint64_t seq;
	int rc = writer_batch(d, &b);

	if (rc == 0)
		rc = ppx_checkpoint_append_batch(b, d->log, d->signer, &seq);
	if (rc == 0) {
		d->writer->appended++;
		d->checkpoint_size = seq;
	}
	return rc;
}

int writer_append(struct ppxd *d, Ppx__V1__LogEntry *entry, uint64_t *seq)
{
	ppx_log_batch *b;
	int rc = writer_batch(d, &b);

	if (rc == 0)
		rc = ppx_log_append(b, entry, seq);
	if (rc == 0)
		d->writer->appended++;
	if (rc == 0)
		writer_checkpoint(d, b);
	return rc;
}

int writer_after(struct ppxd *d, writer_done_fn fn, void *arg)
{
	struct writer *w = d->writer;

	if (w->n == w->cap) {
		size_t cap = w->cap ? 2 * w->cap : 64;
		struct action *a;

		if (cap > WRITER_ACTIONS_MAX ||
		    !(a = realloc(w->actions, cap * sizeof(*a))))
			return ppx_error_set(PPX_ENOMEM,
					     "too many actions waiting for the "
					     "commit");
		w->actions = a;
		w->cap = cap;
	}
	w->actions[w->n].fn = fn;
	w->actions[w->n].arg = arg;
	w->n++;
	return 0;
}

size_t writer_pending(struct ppxd *d)
{
	return d->writer->batch ? d->writer->appended : 0;
}

int writer_idle(struct ppxd *d)
{
	return !d->writer->batch && d->writer->n == 0;
}

/* The deferred actions, told rc.  They may register further actions for
 * the next iteration. */
static void writer_run(struct ppxd *d, int rc)
{
	struct writer *w = d->writer;
	size_t n = w->n;
	struct action *run = w->actions;

	w->actions = NULL;
	w->n = w->cap = 0;
	for (size_t i = 0; i < n; i++)
		run[i].fn(d, run[i].arg, rc);
	free(run);
}

void writer_fail(struct ppxd *d, int rc)
{
	struct writer *w = d->writer;

	if (w->failed)
		return;	/* the first failure is the one said */
	w->failed = rc < 0 ? rc : PPX_EIO;
	snprintf(w->why, sizeof(w->why), "%s", ppx_error_last());
}

int writer_flush(struct ppxd *d)
{
	struct writer *w = d->writer;
	int rc = 0;

	if (w->failed) {
		rc = w->failed;
		w->failed = 0;
		log_warnx("log batch of %zu entries not committed: %s",
			  w->batch ? w->appended : 0, w->why);
		if (w->batch) {
			ppx_log_abort(w->batch);
			w->batch = NULL;
			d->checkpoint_size = w->checkpoint_at_begin;
		}
		ppx_error_set(rc, "%s", w->why);
	} else if (w->batch) {
		rc = ppx_log_commit(w->batch);
		w->batch = NULL;
		if (rc != 0)
			d->checkpoint_size = w->checkpoint_at_begin;
		if (rc != 0)
			log_warnx("log commit of %zu entries failed: %s",
				  w->appended, ppx_error_last());
	}
	writer_run(d, rc);
	return rc;
}

void writer_abort(struct ppxd *d, int rc)
{
	struct writer *w = d->writer;

	w->failed = 0;
	if (w->batch) {
		ppx_log_abort(w->batch);
		w->batch = NULL;
		d->checkpoint_size = w->checkpoint_at_begin;
	}
	writer_run(d, rc < 0 ? rc : PPX_EIO);
}
