/*
 * writer.c — group commit for ppxd.
 *
 * Everything an iteration of the main loop logs goes into one LMDB write
 * transaction; writer_flush() commits it with a single fsync and only then
 * runs the actions that depend on it.  A burst of a thousand messages
 * costs one fsync, and every receipt still means "on disk".
 */
#include <stdlib.h>

#include "log.h"
#include "ppx/error.h"
#include "ppxd.h"
#include "writer.h"

#define WRITER_ACTIONS_MAX (1u << 20)

struct action {
	writer_done_fn fn;
	void *arg;
};

struct writer {
	ppx_log_batch *batch;
	size_t appended;
	struct action *actions;
	size_t n, cap;
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
		if (rc != 0)
			return rc;
		w->appended = 0;
	}
	*out = w->batch;
	return 0;
}

int writer_append(struct ppxd *d, Ppx__V1__LogEntry *entry, uint64_t *seq)
{
	ppx_log_batch *b;
	int rc = writer_batch(d, &b);

	if (rc == 0)
		rc = ppx_log_append(b, entry, seq);
	if (rc == 0)
		d->writer->appended++;
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

int writer_flush(struct ppxd *d)
{
	struct writer *w = d->writer;
	int rc = 0;

	if (w->batch) {
		rc = ppx_log_commit(w->batch);
		w->batch = NULL;
		if (rc != 0)
			log_warnx("log commit of %zu entries failed: %s",
				  w->appended, ppx_error_last());
	}
	/* Actions may register further actions for the next iteration. */
	size_t n = w->n;
	struct action *run = w->actions;

	w->actions = NULL;
	w->n = w->cap = 0;
	for (size_t i = 0; i < n; i++)
		run[i].fn(d, run[i].arg, rc);
	free(run);
	return rc;
}
