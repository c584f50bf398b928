/*
 * logstore_filter.c — a Bloom filter of each sealed run's dedupe keys, so
 * that a new message's duplicate check probes one run, not all of them.
 *
 * A new message is (nearly always) in no run, and without filters its
 * check is a B-tree lookup in every live run: about six at 10^6 entries,
 * most of a commit's extra cost at that size (docs/PERFORMANCE.md, "Log
 * growth").  A sealed run never changes: its records are written when it
 * is sealed (a young run) or by the merge that made it, and it is only
 * ever removed, whole, after a merge.  So its filter, built once from its
 * keys, holds for as long as it lives; the young run, which changes, is
 * always probed.  A filter says "perhaps" for every key of its run and
 * for about 1 key in 400 others (16 bits and 6 hashes per key), and then
 * the run is probed as before: a filter can make a lookup slower, never
 * wrong.
 *
 * Filters live in memory, in the writable ppx_log, built on the first
 * lookup that needs one (one read through the run's dedupe keys) and
 * named by the run's number and range: a run sealed in a commit that was
 * then aborted, and sealed again later with more entries, is another run.
 * Read-only handles (ppx verify, the client's reads) probe every run.
 */
#include <stdlib.h>
#include <string.h>

#include "logstore_int.h"

#define BITS_PER_KEY 16
#define HASHES 6
#define FILTERS_MAX (2 * LOGSTORE_RUNS_MAX)

struct logstore_filter {
	struct logstore_run run;
	uint64_t nbits;
	uint8_t *bits;
};

/* Two 64-bit hashes of the key (FNV-1a, and the same with another
 * basis, mixed); position i is h1 + i * h2. */
static void key_hash(const uint8_t *key, size_t len, uint64_t *h1,
		     uint64_t *h2)
{
	uint64_t a = 0xcbf29ce484222325ULL, b = 0x84222325cbf29ce4ULL;

	for (size_t i = 0; i < len; i++) {
		a = (a ^ key[i]) * 0x100000001b3ULL;
		b = (b ^ key[i]) * 0x100000001b3ULL;
	}
	b ^= b >> 33;
	b *= 0xff51afd7ed558ccdULL;
	b ^= b >> 33;
	*h1 = a;
	*h2 = b | 1;
}

static void filter_add(struct logstore_filter *f, const uint8_t *key,
		       size_t len)
{
	uint64_t h1, h2;

	key_hash(key, len, &h1, &h2);
	for (int i = 0; i < HASHES; i++) {
		uint64_t bit = (h1 + (uint64_t)i * h2) % f->nbits;

		f->bits[bit / 8] |= (uint8_t)(1u << (bit % 8));
	}
}

static int filter_has(const struct logstore_filter *f, const uint8_t *key,
		      size_t len)
{
	uint64_t h1, h2;

	key_hash(key, len, &h1, &h2);
	for (int i = 0; i < HASHES; i++) {
		uint64_t bit = (h1 + (uint64_t)i * h2) % f->nbits;

		if (!(f->bits[bit / 8] & (1u << (bit % 8))))
			return 0;
	}
	return 1;
}

/* Reads the run's dedupe keys into a new filter.  Returns an LMDB
 * result; *out NULL if there was no memory. */
static int filter_build(ppx_log *log, MDB_txn *txn,
			const struct logstore_run *run,
			struct logstore_filter **out)
{
	uint8_t prefix[LOGSTORE_RUN_LEN];
	MDB_val k = {sizeof(prefix), prefix}, v;
	struct logstore_filter *f = calloc(1, sizeof(*f));
	uint64_t keys = run->to - run->from;	/* at most one per entry */
	MDB_cursor *cur;
	int rc;

	*out = NULL;
	for (int i = 0; i < LOGSTORE_RUN_LEN; i++)
		prefix[i] = (uint8_t)(run->id >> (8 * (LOGSTORE_RUN_LEN - 1 - i)));
	if (!f || keys > UINT64_MAX / BITS_PER_KEY / 2 ||
	    !(f->bits = calloc(1, (size_t)((keys * BITS_PER_KEY + 64) / 8)))) {
		free(f);
		return 0;
	}
	f->run = *run;
	f->nbits = (keys * BITS_PER_KEY + 64) / 8 * 8;
	if ((rc = mdb_cursor_open(txn, log->dbi[DB_DEDUPE], &cur)) != 0) {
		free(f->bits);
		free(f);
		return rc;
	}
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	     rc == 0 && k.mv_size > sizeof(prefix) &&
	     memcmp(k.mv_data, prefix, sizeof(prefix)) == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
		filter_add(f, (const uint8_t *)k.mv_data + sizeof(prefix),
			   k.mv_size - sizeof(prefix));
	mdb_cursor_close(cur);
	if (rc != 0 && rc != MDB_NOTFOUND) {
		free(f->bits);
		free(f);
		return rc;
	}
	*out = f;
	return 0;
}

static int same_run(const struct logstore_run *a, const struct logstore_run *b)
{
	return a->id == b->id && a->from == b->from && a->to == b->to;
}

/* Forgets the filters of runs r no longer lists as sealed. */
static void filters_prune(ppx_log *log, const struct logstore_runs *r)
{
	unsigned kept = 0;

	for (unsigned i = 0; i < log->nfilters; i++) {
		struct logstore_filter *f = log->filters[i];
		int live = 0;

		for (unsigned j = 0; j < r->nsealed && !live; j++)
			live = same_run(&f->run, &r->sealed[j]);
		if (live) {
			log->filters[kept++] = f;
		} else {
			free(f->bits);
			free(f);
		}
	}
	log->nfilters = kept;
}

int ppxi_filter_may_hold(ppx_log *log, MDB_txn *txn,
			 const struct logstore_runs *r,
			 const struct logstore_run *run, const uint8_t *key,
			 size_t len)
{
	struct logstore_filter *f = NULL;

	if (log->flags & PPX_LOG_READONLY)
		return 1;
	for (unsigned i = 0; i < log->nfilters && !f; i++)
		if (same_run(&log->filters[i]->run, run))
			f = log->filters[i];
	if (!f) {
		filters_prune(log, r);
		if (log->nfilters >= FILTERS_MAX)
			return 1;
		/* No filter (no memory, or the read failed): probe the
		 * run, which says what is wrong, if anything. */
		if (filter_build(log, txn, run, &f) != 0 || !f)
			return 1;
		log->filters[log->nfilters++] = f;
	}
	return filter_has(f, key, len);
}

void ppxi_filters_free(ppx_log *log)
{
	for (unsigned i = 0; i < log->nfilters; i++) {
		free(log->filters[i]->bits);
		free(log->filters[i]);
	}
	log->nfilters = 0;
}
