/*
 * bench_layout.c — what an append costs in bytes written as a log grows,
 * under the log's index layout and three others, in raw LMDB.
 *
 * It models the log store's databases with records of the sizes the
 * growth benchmark's entries give them (bench_growth.c): a 500-byte entry
 * and two tree nodes appended per entry, a dedupe record (33-byte key), an
 * ids record (a random 16-byte message id) and two subject records (one of
 * 50,000 subjects, a "pnc:" and a "crn:" key), in commits of 1,000.  At
 * 10^4, 10^5 and 10^6 entries it reports the bytes passed to write(2) per
 * commit of 1,000 (from /proc/self/io), amortised over the growth and in
 * the next 10 commits, the largest commit, and a lookup of a random
 * existing id in the ids index (mean of 20,000).  Layouts:
 *
 *   current    the layout of PROTOCOL.md 6.2 (format 1)
 *   no-dedupe  the same without the dedupe database (duplicates found
 *              through ids)
 *   epochs     every index key prefixed with seq >> 14: appends touch only
 *              the current epoch's pages, a lookup probes every epoch
 *   runs       every index key prefixed with a run number: new entries go
 *              to a young run of 2^14 entries; when it fills it is sealed,
 *              and sealed runs of equal size are merged into one (a binary
 *              counter), written in key order with MDB_APPEND; a lookup
 *              probes each run (about log2(n / 2^14) of them)
 *   sliced     runs, with each merge (and the removal of the runs it
 *              merged) done a slice of SLICE records per index per commit,
 *              one merge at a time, so that no commit carries a whole merge;
 *              runs being merged are probed until their merge ends
 *
 * Usage: bench_layout LAYOUT [MAX]   (MAX: the largest size, 10^4 to 10^6,
 * default 10^6; today's layout writes about 17 GB on the way to 10^6).
 * It runs without fsync (MDB_NOSYNC): it counts bytes, not disk time.
 * docs/PERFORMANCE.md, "Log growth", says what it found.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <lmdb.h>

#include "../unit/support.h"

#define EPOCH_BITS 14
#define GROUP 1000
#define SUBJECTS 50000
#define LOOKUPS 20000
#define MAX_RUNS 64
#define KEY_MAX 64
#define SLICE 8000		/* records per index a commit merges (sliced) */
#define NUM_INDEXES 3
#define OUT_RUNS UINT32_C(0x80000000)	/* merged runs sort after young ones */

enum layout { CURRENT, NO_DEDUPE, EPOCHS, RUNS, SLICED };

static const char *const layout_names[] = {"current", "no-dedupe", "epochs",
					   "runs", "sliced"};

/* The merge under way (sliced): sealed runs ia and ia + 1 into out. */
struct merge {
	int active;
	unsigned ia;
	uint32_t out;
	int done[NUM_INDEXES];
	uint8_t last[NUM_INDEXES][KEY_MAX];	/* last key copied, no prefix */
	size_t last_len[NUM_INDEXES];
	uint32_t drop[MAX_RUNS];		/* merged runs still to remove */
	unsigned ndrop;
};

struct model {
	enum layout layout;
	MDB_env *env;
	MDB_dbi log, tree, dedupe, ids, subjects;
	uint8_t (*id)[16];	/* message id by seq */
	uint32_t *subject;	/* subject by seq */
	uint64_t n, cap, rng;
	uint32_t runs[MAX_RUNS];	/* sealed runs, oldest first */
	uint64_t run_size[MAX_RUNS];
	unsigned nruns;
	uint32_t young, next_run;
	uint64_t young_n;
	double largest;		/* bytes of the largest commit */
	struct merge merge;
	uint32_t next_out;
};

static void fail(const char *what, int rc)
{
	fprintf(stderr, "bench_layout: %s: %s\n", what, mdb_strerror(rc));
	exit(1);
}

static void check(int rc, const char *what)
{
	if (rc != 0)
		fail(what, rc);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Bytes this process has passed to write(2) so far. */
static double written_bytes(void)
{
	FILE *fp = fopen("/proc/self/io", "r");
	char line[128];
	double v = 0;

	while (fp && fgets(line, sizeof(line), fp))
		if (strncmp(line, "wchar:", 6) == 0)
			v = (double)strtoull(line + 6, NULL, 10);
	if (fp)
		fclose(fp);
	return v;
}

static uint64_t rng_next(struct model *m)
{
	m->rng ^= m->rng >> 12;
	m->rng ^= m->rng << 25;
	m->rng ^= m->rng >> 27;
	return m->rng * 0x2545F4914F6CDD1DULL;
}

static void put_be(uint8_t *out, uint64_t v, int bytes)
{
	for (int i = bytes - 1; i >= 0; i--, v >>= 8)
		out[i] = (uint8_t)v;
}

/* The prefix an index key of entry seq gets in this layout; its length. */
static size_t key_prefix(const struct model *m, uint8_t *key, uint64_t seq)
{
	switch (m->layout) {
	case EPOCHS:
		put_be(key, seq >> EPOCH_BITS, 4);
		return 4;
	case RUNS:
	case SLICED:
		put_be(key, m->young, 4);
		return 4;
	default:
		return 0;
	}
}

static void index_put(MDB_txn *txn, MDB_dbi dbi, const uint8_t *key,
		      size_t len, uint8_t seq[8], unsigned flags)
{
	MDB_val k = {len, (void *)key}, v = {8, seq};
	int rc = mdb_put(txn, dbi, &k, &v, flags);

	if (rc != 0 && rc != MDB_KEYEXIST)
		fail("index put", rc);
}

static void entry_put(struct model *m, MDB_txn *txn, uint64_t seq)
{
	uint8_t key[KEY_MAX], s[8], entry[500], node[32] = {0};
	MDB_val k = {8, s}, v = {sizeof(entry), entry};
	size_t p;
	int len;

	put_be(s, seq, 8);
	memset(entry, (int)(seq & 0xff), sizeof(entry));
	check(mdb_put(txn, m->log, &k, &v, MDB_APPEND), "log put");
	for (int i = 0; i < 2; i++) {
		uint8_t n[8];
		MDB_val nk = {8, n}, nv = {sizeof(node), node};

		put_be(n, 2 * seq + (uint64_t)i, 8);
		check(mdb_put(txn, m->tree, &nk, &nv, MDB_APPEND), "tree put");
	}
	if (m->layout != NO_DEDUPE) {
		p = key_prefix(m, key, seq);
		key[p] = seq & 1 ? 3 : 1;
		memcpy(key + p + 1, "probation.gwent", 15);
		key[p + 16] = 0;
		memcpy(key + p + 17, m->id[seq], 16);
		index_put(txn, m->dedupe, key, p + 33, s, MDB_NOOVERWRITE);
	}
	p = key_prefix(m, key, seq);
	memcpy(key + p, m->id[seq], 16);
	index_put(txn, m->ids, key, p + 16, s, MDB_NODUPDATA);
	for (int i = 0; i < 2; i++) {
		uint32_t sj = m->subject[seq];

		p = key_prefix(m, key, seq);
		len = i ? snprintf((char *)key + p, KEY_MAX - p, "crn:X%06u", sj)
			: snprintf((char *)key + p, KEY_MAX - p,
				   "pnc:20%02u/%07uX", 10 + sj % 15, sj);
		index_put(txn, m->subjects, key, p + (size_t)len, s,
			  MDB_NODUPDATA);
	}
}

/* 1 if the cursor's record is in run `prefix`. */
static int in_run(int rc, const MDB_val *k, const uint8_t prefix[4])
{
	return rc == 0 && k->mv_size >= 4 && memcmp(k->mv_data, prefix, 4) == 0;
}

/* Which of the two current records comes first: the older run's on a
 * tie, so that a key's values stay in seq order. */
static int run_cmp(int ha, const MDB_val *ka, int hb, const MDB_val *kb)
{
	size_t la, lb;
	int c;

	if (!hb)
		return -1;
	if (!ha)
		return 1;
	la = ka->mv_size - 4;
	lb = kb->mv_size - 4;
	c = memcmp((const char *)ka->mv_data + 4, (const char *)kb->mv_data + 4,
		   la < lb ? la : lb);
	if (c == 0)
		c = la < lb ? -1 : la > lb;
	return c == 0 ? -1 : c;
}

/* Deletes every record of run `prefix`. */
static void run_drop(MDB_txn *txn, MDB_dbi dbi, uint32_t run, int dup)
{
	uint8_t prefix[4];
	MDB_val k = {4, prefix}, v;
	MDB_cursor *c;
	int rc;

	put_be(prefix, run, 4);
	check(mdb_cursor_open(txn, dbi, &c), "cursor");
	rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
	while (in_run(rc, &k, prefix)) {
		check(mdb_cursor_del(c, dup ? MDB_NODUPDATA : 0), "run del");
		rc = mdb_cursor_get(c, &k, &v, MDB_GET_CURRENT);
		if (rc == EINVAL)
			rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
	}
	mdb_cursor_close(c);
}

/* Merges runs a (older) and b into run out, appended in key order. */
static void run_merge(MDB_txn *txn, MDB_dbi dbi, uint32_t a, uint32_t b,
		      uint32_t out, int dup)
{
	uint8_t pa[4], pb[4], key[KEY_MAX], last[KEY_MAX];
	MDB_val ka = {4, pa}, va, kb = {4, pb}, vb;
	MDB_cursor *ca, *cb, *co;
	size_t last_len = 0;
	int ra, rb;

	put_be(pa, a, 4);
	put_be(pb, b, 4);
	check(mdb_cursor_open(txn, dbi, &ca), "cursor");
	check(mdb_cursor_open(txn, dbi, &cb), "cursor");
	check(mdb_cursor_open(txn, dbi, &co), "cursor");
	ra = mdb_cursor_get(ca, &ka, &va, MDB_SET_RANGE);
	rb = mdb_cursor_get(cb, &kb, &vb, MDB_SET_RANGE);
	for (;;) {
		int ha = in_run(ra, &ka, pa), hb = in_run(rb, &kb, pb), c, same;
		MDB_val *k, *v, nk, nv;

		if (!ha && !hb)
			break;
		c = run_cmp(ha, &ka, hb, &kb);
		k = c <= 0 ? &ka : &kb;
		v = c <= 0 ? &va : &vb;
		put_be(key, out, 4);
		memcpy(key + 4, (const char *)k->mv_data + 4, k->mv_size - 4);
		nk = (MDB_val){k->mv_size, key};
		nv = *v;
		same = dup && last_len == nk.mv_size &&
		       memcmp(last, key, last_len) == 0;
		check(mdb_cursor_put(co, &nk, &nv,
				     same ? MDB_APPENDDUP : MDB_APPEND),
		      "merge put");
		memcpy(last, key, nk.mv_size);
		last_len = nk.mv_size;
		if (c <= 0)
			ra = mdb_cursor_get(ca, &ka, &va, MDB_NEXT);
		else
			rb = mdb_cursor_get(cb, &kb, &vb, MDB_NEXT);
	}
	mdb_cursor_close(ca);
	mdb_cursor_close(cb);
	mdb_cursor_close(co);
	run_drop(txn, dbi, a, dup);
	run_drop(txn, dbi, b, dup);
}

/* Seals the young run and merges sealed runs while the newest is as
 * large as the one before it. */
static void runs_seal(struct model *m, MDB_txn *txn)
{
	m->runs[m->nruns] = m->young;
	m->run_size[m->nruns++] = m->young_n;
	m->young = m->next_run++;
	m->young_n = 0;
	while (m->nruns >= 2 &&
	       m->run_size[m->nruns - 1] >= m->run_size[m->nruns - 2]) {
		uint32_t a = m->runs[m->nruns - 2], b = m->runs[m->nruns - 1];
		uint32_t out = m->next_run++;

		run_merge(txn, m->dedupe, a, b, out, 0);
		run_merge(txn, m->ids, a, b, out, 1);
		run_merge(txn, m->subjects, a, b, out, 1);
		m->run_size[m->nruns - 2] += m->run_size[m->nruns - 1];
		m->runs[m->nruns - 2] = out;
		m->nruns--;
	}
}

/* Copies every value of the cursor's current key into run out.  Returns
 * the number of values. */
static int copy_key(MDB_cursor *from, MDB_cursor *to, MDB_val *k, MDB_val *v,
		    uint32_t out, int dup, int first)
{
	uint8_t key[KEY_MAX];
	MDB_val nk;
	int n = 0, rc = 0;

	put_be(key, out, 4);
	memcpy(key + 4, (const char *)k->mv_data + 4, k->mv_size - 4);
	nk = (MDB_val){k->mv_size, key};
	while (rc == 0) {
		MDB_val nv = *v;

		check(mdb_cursor_put(to, &nk, &nv,
				     first && n == 0 ? MDB_APPEND
						     : MDB_APPENDDUP),
		      "slice put");
		n++;
		if (!dup)
			break;
		rc = mdb_cursor_get(from, k, v, MDB_NEXT_DUP);
	}
	return n;
}

/* Positions c at the first key of run `run` after `last` (all of it if
 * last_len is 0). */
static int run_seek(MDB_cursor *c, MDB_val *k, MDB_val *v, uint32_t run,
		    const uint8_t *last, size_t last_len, uint8_t prefix[4])
{
	uint8_t key[KEY_MAX];
	int rc;

	put_be(prefix, run, 4);
	memcpy(key, prefix, 4);
	memcpy(key + 4, last, last_len);
	*k = (MDB_val){4 + last_len, key};
	rc = mdb_cursor_get(c, k, v, MDB_SET_RANGE);
	if (rc == 0 && last_len > 0 && k->mv_size == 4 + last_len &&
	    memcmp((const char *)k->mv_data + 4, last, last_len) == 0)
		rc = mdb_cursor_get(c, k, v, MDB_NEXT_NODUP);
	return rc;
}

/* Merges up to SLICE more records of runs a and b into out, key by key
 * (a key's values in a, then in b).  Returns 1 when the merge is done. */
static int merge_slice(struct model *m, MDB_txn *txn, MDB_dbi dbi, int ix,
		       int dup)
{
	struct merge *g = &m->merge;
	uint32_t a = m->runs[g->ia], b = m->runs[g->ia + 1];
	uint8_t pa[4], pb[4];
	MDB_val ka, va, kb, vb;
	MDB_cursor *ca, *cb, *co;
	int ra, rb, budget = SLICE;

	check(mdb_cursor_open(txn, dbi, &ca), "cursor");
	check(mdb_cursor_open(txn, dbi, &cb), "cursor");
	check(mdb_cursor_open(txn, dbi, &co), "cursor");
	ra = run_seek(ca, &ka, &va, a, g->last[ix], g->last_len[ix], pa);
	rb = run_seek(cb, &kb, &vb, b, g->last[ix], g->last_len[ix], pb);
	while (budget > 0) {
		int ha = in_run(ra, &ka, pa), hb = in_run(rb, &kb, pb), c;
		MDB_val *k;

		if (!ha && !hb)
			break;
		c = run_cmp(ha, &ka, hb, &kb);
		if (ha && hb && ka.mv_size == kb.mv_size &&
		    memcmp((const char *)ka.mv_data + 4,
			   (const char *)kb.mv_data + 4, ka.mv_size - 4) == 0)
			c = 0;
		k = c <= 0 ? &ka : &kb;
		g->last_len[ix] = k->mv_size - 4;
		memcpy(g->last[ix], (const char *)k->mv_data + 4,
		       g->last_len[ix]);
		if (c <= 0) {
			budget -= copy_key(ca, co, &ka, &va, g->out, dup, 1);
			ra = mdb_cursor_get(ca, &ka, &va, MDB_NEXT_NODUP);
		}
		if (c >= 0) {
			budget -= copy_key(cb, co, &kb, &vb, g->out, dup,
					   c > 0);
			rb = mdb_cursor_get(cb, &kb, &vb, MDB_NEXT_NODUP);
		}
	}
	ra = in_run(ra, &ka, pa) || in_run(rb, &kb, pb);
	mdb_cursor_close(ca);
	mdb_cursor_close(cb);
	mdb_cursor_close(co);
	return !ra;
}

/* Removes up to SLICE records of run `run`.  Returns 1 when it is gone. */
static int drop_slice(MDB_txn *txn, MDB_dbi dbi, uint32_t run, int dup)
{
	uint8_t prefix[4];
	MDB_val k = {4, prefix}, v;
	MDB_cursor *c;
	int rc, budget = SLICE;

	put_be(prefix, run, 4);
	check(mdb_cursor_open(txn, dbi, &c), "cursor");
	rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
	while (budget > 0 && in_run(rc, &k, prefix)) {
		size_t values = 1;

		if (dup)
			check(mdb_cursor_count(c, &values), "count");
		check(mdb_cursor_del(c, dup ? MDB_NODUPDATA : 0), "drop del");
		budget -= (int)values;
		rc = mdb_cursor_get(c, &k, &v, MDB_GET_CURRENT);
		if (rc == EINVAL)
			rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
	}
	rc = in_run(rc, &k, prefix);
	mdb_cursor_close(c);
	return !rc;
}

/* Starts merging the newest pair of sealed runs whose newer is as large
 * as the older, if there is one and no merge is under way. */
static void sliced_start(struct model *m)
{
	struct merge *g = &m->merge;

	if (g->active || m->nruns < 2 ||
	    m->run_size[m->nruns - 1] < m->run_size[m->nruns - 2])
		return;
	memset(g->done, 0, sizeof(g->done));
	memset(g->last_len, 0, sizeof(g->last_len));
	g->active = 1;
	g->ia = m->nruns - 2;
	g->out = OUT_RUNS + m->next_out++;
}

/* One commit's share of the merge under way and of the removals. */
static void sliced_step(struct model *m, MDB_txn *txn)
{
	struct merge *g = &m->merge;
	MDB_dbi dbis[NUM_INDEXES] = {m->dedupe, m->ids, m->subjects};

	if (g->ndrop > 0) {
		int gone = 1;

		for (int i = 0; i < NUM_INDEXES; i++)
			gone &= drop_slice(txn, dbis[i], g->drop[0], i > 0);
		if (gone)
			memmove(g->drop, g->drop + 1,
				--g->ndrop * sizeof(*g->drop));
	}
	if (!g->active)
		return;
	for (int i = 0; i < NUM_INDEXES; i++)
		if (!g->done[i])
			g->done[i] = merge_slice(m, txn, dbis[i], i, i > 0);
	if (!g->done[0] || !g->done[1] || !g->done[2])
		return;
	/* The merged run answers from now on; its inputs go. */
	g->drop[g->ndrop++] = m->runs[g->ia];
	g->drop[g->ndrop++] = m->runs[g->ia + 1];
	m->runs[g->ia] = g->out;
	m->run_size[g->ia] += m->run_size[g->ia + 1];
	memmove(m->runs + g->ia + 1, m->runs + g->ia + 2,
		(m->nruns - g->ia - 2) * sizeof(*m->runs));
	memmove(m->run_size + g->ia + 1, m->run_size + g->ia + 2,
		(m->nruns - g->ia - 2) * sizeof(*m->run_size));
	m->nruns--;
	g->active = 0;
	sliced_start(m);
}

/* Appends entries in commits of GROUP until the model holds `to`. */
static void grow(struct model *m, uint64_t to)
{
	while (m->n < to) {
		MDB_txn *txn;
		double w;

		check(mdb_txn_begin(m->env, NULL, 0, &txn), "txn");
		for (int i = 0; i < GROUP && m->n < to; i++, m->n++) {
			for (int j = 0; j < 16; j += 8) {
				uint64_t r = rng_next(m);

				memcpy(m->id[m->n] + j, &r, 8);
			}
			m->subject[m->n] = (uint32_t)(rng_next(m) % SUBJECTS);
			entry_put(m, txn, m->n);
		}
		if (m->layout == RUNS || m->layout == SLICED)
			m->young_n += GROUP;
		if (m->layout == RUNS &&
		    m->young_n >= (UINT64_C(1) << EPOCH_BITS))
			runs_seal(m, txn);
		if (m->layout == SLICED &&
		    m->young_n >= (UINT64_C(1) << EPOCH_BITS)) {
			m->runs[m->nruns] = m->young;
			m->run_size[m->nruns++] = m->young_n;
			m->young = m->next_run++;
			m->young_n = 0;
			sliced_start(m);
		}
		if (m->layout == SLICED)
			sliced_step(m, txn);
		w = written_bytes();
		check(mdb_txn_commit(txn), "commit");
		w = written_bytes() - w;
		if (w > m->largest)
			m->largest = w;
	}
}

/* Probes of the ids index that find the id of entry seq. */
static int find(struct model *m, MDB_txn *txn, uint64_t seq)
{
	uint8_t key[20];
	MDB_val k = {16, key}, v;
	int probes = 0, parts = 1;

	if (m->layout == EPOCHS)
		parts = (int)((m->n - 1) >> EPOCH_BITS) + 1;
	else if (m->layout == RUNS || m->layout == SLICED)
		parts = (int)m->nruns + 1;
	for (int i = 0; i < parts; i++) {
		size_t p = m->layout >= EPOCHS ? 4 : 0;
		int rc;

		/* Newest first: the epoch or run most lookups are about. */
		if (m->layout == EPOCHS)
			put_be(key, (uint64_t)(parts - 1 - i), 4);
		else if (m->layout >= RUNS)
			put_be(key, i == 0 ? m->young
					   : m->runs[m->nruns - (unsigned)i],
			       4);
		memcpy(key + p, m->id[seq], 16);
		k.mv_size = p + 16;
		probes++;
		if ((rc = mdb_get(txn, m->ids, &k, &v)) == 0)
			return probes;
		if (rc != MDB_NOTFOUND)
			fail("find", rc);
	}
	fprintf(stderr, "bench_layout: entry %llu not found\n",
		(unsigned long long)seq);
	exit(1);
}

static void open_model(struct model *m, const char *dir)
{
	MDB_txn *txn;

	check(mdb_env_create(&m->env), "env");
	check(mdb_env_set_maxdbs(m->env, 8), "maxdbs");
	check(mdb_env_set_mapsize(m->env, UINT64_C(16) << 30), "mapsize");
	check(mdb_env_open(m->env, dir, MDB_NOSYNC, 0600), "env open");
	check(mdb_txn_begin(m->env, NULL, 0, &txn), "txn");
	check(mdb_dbi_open(txn, "log", MDB_CREATE, &m->log), "log");
	check(mdb_dbi_open(txn, "tree", MDB_CREATE, &m->tree), "tree");
	check(mdb_dbi_open(txn, "dedupe", MDB_CREATE, &m->dedupe), "dedupe");
	check(mdb_dbi_open(txn, "ids", MDB_CREATE | MDB_DUPSORT | MDB_DUPFIXED,
			   &m->ids), "ids");
	check(mdb_dbi_open(txn, "subjects",
			   MDB_CREATE | MDB_DUPSORT | MDB_DUPFIXED,
			   &m->subjects), "subjects");
	check(mdb_txn_commit(txn), "commit");
	m->young = m->next_run++;
}

static void measure(struct model *m, uint64_t size)
{
	double w = written_bytes(), t, mb;
	uint64_t from = m->n;
	MDB_txn *txn;
	long probes = 0;

	m->largest = 0;
	grow(m, size);
	printf("%-9s %8llu  %8.0f  %8.1f", layout_names[m->layout],
	       (unsigned long long)size,
	       (written_bytes() - w) / (double)(size - from),
	       m->largest / 1e6);
	w = written_bytes();
	grow(m, m->n + 10 * GROUP);
	mb = (written_bytes() - w) / 10 / 1e6;
	check(mdb_txn_begin(m->env, NULL, MDB_RDONLY, &txn), "txn");
	t = now_s();
	for (int i = 0; i < LOOKUPS; i++)
		probes += find(m, txn, rng_next(m) % m->n);
	t = (now_s() - t) / LOOKUPS * 1e6;
	mdb_txn_abort(txn);
	printf("  %8.2f  %8.0f  %6.2f  %6.1f\n", mb, mb * 1e6 / GROUP, t,
	       (double)probes / LOOKUPS);
	fflush(stdout);
}

static int parse_args(struct model *m, uint64_t *max, int argc, char **argv)
{
	char *end;

	if (argc < 2 || argc > 3)
		return -1;
	for (size_t i = 0; i < sizeof(layout_names) / sizeof(*layout_names);
	     i++)
		if (strcmp(argv[1], layout_names[i]) == 0)
			m->layout = (enum layout)i;
	if (strcmp(argv[1], layout_names[m->layout]) != 0)
		return -1;
	*max = 1000000;
	if (argc == 3) {
		*max = strtoull(argv[2], &end, 10);
		if (*end || *max < 10000 || *max > 1000000)
			return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct model m = {.rng = 0x9e3779b97f4a7c15ULL};
	char dir[] = "/tmp/ppx-bench-layout-XXXXXX";
	uint64_t max;

	if (parse_args(&m, &max, argc, argv) != 0) {
		fprintf(stderr, "usage: bench_layout current|no-dedupe|epochs|"
			"runs|sliced [MAX, 10^4 to 10^6]\n");
		return 2;
	}
	m.cap = max + 4 * 10 * GROUP;
	m.id = malloc(m.cap * sizeof(*m.id));
	m.subject = malloc(m.cap * sizeof(*m.subject));
	if (!m.id || !m.subject || !mkdtemp(dir)) {
		fprintf(stderr, "bench_layout: setup failed\n");
		return 1;
	}
	open_model(&m, dir);
	printf("%-9s %8s  %8s  %8s  %8s  %8s  %6s  %6s\n", "layout", "entries",
	       "B/entry", "max MB", "MB/1000", "B/entry", "find us", "probes");
	printf("%-9s %8s  %8s  %8s  %8s  %8s\n", "", "", "(growth)",
	       "(growth)", "(next 10)", "(next 10)");
	for (uint64_t size = 10000; size <= max; size *= 10)
		measure(&m, size);
	mdb_env_close(m.env);
	tmpdir_clear(dir);
	free(m.id);
	free(m.subject);
	return 0;
}
