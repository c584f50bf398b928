/*
 * verify_int.h — the signatures of a log checked by worker threads
 * (checkpoint.c queues them, verify_pool.c runs them).
 */
#ifndef PPX_VERIFY_INT_H
#define PPX_VERIFY_INT_H

#include <stddef.h>
#include <stdint.h>

#include "ppx/merkle.h"
#include "ppx/pki.h"

/* One entry's signature to check. */
struct ppxi_sig {
	uint64_t seq;
	int kind;		/* its entry's kind */
	const uint8_t *data;	/* the entry's data (a frame) */
	size_t len;
	ppx_hash root;		/* a checkpoint: the root of the entries
				 * before it */
	int code;		/* when it fails: a ppx code */
	char reason[256];	/* ... and what ppx verify says */
};

/* Checks s against trust: 0, or 1 with s->code and s->reason set.  Uses
 * nothing but its arguments: threads may run it at once, each with a
 * trust store of its own (checkpoint.c). */
int ppxi_verify_sig(struct ppxi_sig *s, const ppx_trust *trust);

/* Up to PPXI_SIG_BATCH queued signatures, run over `jobs` threads, thread
 * t with trusts[t]. */
#define PPXI_SIG_BATCH 4096
struct ppxi_sig_pool;
int ppxi_sig_pool_new(struct ppxi_sig_pool **out,
		      const ppx_trust *const *trusts, unsigned jobs);
/* Queues a copy of s (and of its data). */
int ppxi_sig_pool_add(struct ppxi_sig_pool *p, const struct ppxi_sig *s);
size_t ppxi_sig_pool_size(const struct ppxi_sig_pool *p);
const struct ppxi_sig *ppxi_sig_pool_item(const struct ppxi_sig_pool *p,
					  size_t i);
/* Checks every queued signature; *bad_at: the first (in queue order)
 * that failed, or the queue's size.  0, or a negative code. */
int ppxi_sig_pool_run(struct ppxi_sig_pool *p, size_t *bad_at);
void ppxi_sig_pool_clear(struct ppxi_sig_pool *p);
void ppxi_sig_pool_free(struct ppxi_sig_pool *p);

#endif
