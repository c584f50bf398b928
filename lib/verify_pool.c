/*
 * verify_pool.c — signatures checked on every core.
 *
 * ppx verify is bound by signature checks (one Ed25519 verify or more per
 * message and receipt), each independent of the others once the entries
 * are read in order: the reading, hashing, chain and tree stay on one
 * thread (checkpoint.c), which queues each signature here.  A full queue
 * (or a directory entry, which changes the trust stores, or the end) is
 * run: `jobs` threads take items by an atomic counter, thread t checking
 * with trust store t, so that no two threads share one (a store caches
 * verdicts as it goes).  The verdict is the first item in queue order
 * that failed, whatever thread saw it first: the output is the same for
 * every number of threads.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "ppx/error.h"
#include "verify_int.h"

struct ppxi_sig_pool {
	const ppx_trust *const *trusts;
	unsigned jobs;
	struct ppxi_sig *items;
	uint8_t **copies;	/* items[i].data, owned */
	size_t n, cap;
	atomic_size_t next;	/* the next item a thread takes */
	atomic_size_t bad;	/* the first failed item seen (n: none) */
};

struct worker {
	struct ppxi_sig_pool *p;
	const ppx_trust *trust;
};

int ppxi_sig_pool_new(struct ppxi_sig_pool **out,
		      const ppx_trust *const *trusts, unsigned jobs)
{
	struct ppxi_sig_pool *p = calloc(1, sizeof(*p));

	*out = NULL;
	if (!p || !(p->items = calloc(PPXI_SIG_BATCH, sizeof(*p->items))) ||
	    !(p->copies = calloc(PPXI_SIG_BATCH, sizeof(*p->copies)))) {
		ppxi_sig_pool_free(p);
		return ppx_error_set(PPX_ENOMEM, "out of memory");
	}
	p->trusts = trusts;
	p->jobs = jobs ? jobs : 1;
	p->cap = PPXI_SIG_BATCH;
	*out = p;
	return 0;
}

int ppxi_sig_pool_add(struct ppxi_sig_pool *p, const struct ppxi_sig *s)
{
	uint8_t *copy;

	if (p->n >= p->cap)
		return ppx_error_set(PPX_EINVAL, "signature queue full");
	if (!(copy = malloc(s->len ? s->len : 1)))
		return ppx_error_set(PPX_ENOMEM, "out of memory");
	if (s->len)
		memcpy(copy, s->data, s->len);
	p->items[p->n] = *s;
	p->items[p->n].data = copy;
	p->copies[p->n] = copy;
	p->n++;
	return 0;
}

size_t ppxi_sig_pool_size(const struct ppxi_sig_pool *p)
{
	return p->n;
}

const struct ppxi_sig *ppxi_sig_pool_item(const struct ppxi_sig_pool *p,
					  size_t i)
{
	return &p->items[i];
}

/* Lowers p->bad to i if i is lower. */
static void saw_bad(struct ppxi_sig_pool *p, size_t i)
{
	size_t cur = atomic_load(&p->bad);

	while (i < cur && !atomic_compare_exchange_weak(&p->bad, &cur, i))
		;
}

static void *work(void *arg)
{
	struct worker *w = arg;
	struct ppxi_sig_pool *p = w->p;
	size_t i;

	while ((i = atomic_fetch_add(&p->next, 1)) < p->n) {
		if (i > atomic_load(&p->bad))
			continue;	/* a failure before it decides */
		if (ppxi_verify_sig(&p->items[i], w->trust))
			saw_bad(p, i);
	}
	return NULL;
}

int ppxi_sig_pool_run(struct ppxi_sig_pool *p, size_t *bad_at)
{
	struct worker w[p->jobs];
	pthread_t tid[p->jobs];
	unsigned started = 1;
	int rc = 0;

	atomic_store(&p->next, 0);
	atomic_store(&p->bad, p->n);
	for (unsigned t = 0; t < p->jobs; t++)
		w[t] = (struct worker){p, p->trusts[t]};
	/* Threads only for a queue worth them; this one works too. */
	for (unsigned t = 1; t < p->jobs && p->n > 1; t++, started++)
		if ((rc = pthread_create(&tid[t], NULL, work, &w[t])) != 0)
			break;
	work(&w[0]);
	for (unsigned t = 1; t < started; t++)
		pthread_join(tid[t], NULL);
	*bad_at = atomic_load(&p->bad);
	return 0;
}

void ppxi_sig_pool_clear(struct ppxi_sig_pool *p)
{
	for (size_t i = 0; i < p->n; i++) {
		free(p->copies[i]);
		p->copies[i] = NULL;
	}
	p->n = 0;
}

void ppxi_sig_pool_free(struct ppxi_sig_pool *p)
{
	if (!p)
		return;
	if (p->copies)
		ppxi_sig_pool_clear(p);
	free(p->copies);
	free(p->items);
	free(p);
}
