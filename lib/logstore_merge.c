/*
 * logstore_merge.c — keeping the index runs few: sealing the young run,
 * merging sealed runs a slice per commit, removing merged runs; and the
 * one-time move of a format-1 log to runs.
 *
 * Every commit that appends entries does a share of the upkeep before it
 * commits (ppxi_runs_step(), from logstore_batch.c), in its own
 * transaction, and writes the list of runs it leaves: so a crash at any
 * point leaves the list and the records of one commit, and a merge carries
 * on where the last commit left it.  The share is a slice of the merge
 * under way -- up to slice records per index, copied key by key from the
 * two input runs in key order and written with MDB_APPEND into full pages
 * of the output run, which is numbered above every other run -- and a
 * slice of the removal of runs already merged.  A merge's position is the
 * last key it copied, per index.  Its inputs are live until the last
 * index is done; then the output takes their place in the list, in the
 * same commit, and their records are removed over the commits that
 * follow.  The slice grows with the commit (SLICE_PER_ENTRY records per
 * index and entry appended, between SLICE_MIN and SLICE_MAX), so that
 * merges keep up with appends (each record is merged about log2(entries /
 * young_max) times, and removed as often) and a commit of one entry stays
 * small.
 *
 * Which runs merge: after a seal or a merge, the newest adjacent pair of
 * sealed runs whose newer is at least 3/4 of the older's size, one merge
 * at a time.  Runs then double in size, as the digits of a binary counter,
 * and a lookup probes about log2(entries / young_max) + 1 of them.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "logstore_int.h"
#include "ppx/error.h"

static void put_run(uint8_t *out, uint32_t run)
{
	for (int i = LOGSTORE_RUN_LEN - 1; i >= 0; i--, run >>= 8)
		out[i] = (uint8_t)run;
}

/* 1 if the cursor's record (rc its result) is in run `prefix`. */
static int in_run(int rc, const MDB_val *k, const uint8_t *prefix)
{
	return rc == 0 && k->mv_size > LOGSTORE_RUN_LEN &&
	       memcmp(k->mv_data, prefix, LOGSTORE_RUN_LEN) == 0;
}

/* Key order of two records' keys without their run numbers. */
static int key_cmp(const MDB_val *a, const MDB_val *b)
{
	size_t la = a->mv_size - LOGSTORE_RUN_LEN;
	size_t lb = b->mv_size - LOGSTORE_RUN_LEN;
	int c = memcmp((const uint8_t *)a->mv_data + LOGSTORE_RUN_LEN,
		       (const uint8_t *)b->mv_data + LOGSTORE_RUN_LEN,
		       la < lb ? la : lb);

	return c ? c : (la > lb) - (la < lb);
}

/* ---- a merge ------------------------------------------------------------ */

/*
 * The output is written into the database the inputs are read from, and
 * its first pages are the newer input's last: a write can move the records
 * an input's cursor is on.  So no record read is used after a write: a
 * key's values are read into memory (the key first), the cursor is moved to
 * the next key and that key copied, and only then are the values written;
 * an input is found again from its copied key.
 */
struct input {
	MDB_cursor *cur;
	uint8_t prefix[LOGSTORE_RUN_LEN];
	int has;			/* a key left in the run */
	uint8_t key[LOGSTORE_KEY_BUF];	/* the next, with its run number */
	size_t len;
};

/* A key's values, read before they are written (all seqs, 8 bytes). */
struct values {
	uint8_t (*v)[8];
	size_t n, cap;
};

/* Keeps the cursor's key (rc its result) as the input's next, if it is in
 * the input's run.  Returns an LMDB result. */
static int input_keep(struct input *in, int rc, const MDB_val *k)
{
	/* A key that is a run number alone was never written: damage, not
	 * the end of the run (which would end the merge short). */
	if (rc == 0 && k->mv_size == LOGSTORE_RUN_LEN &&
	    memcmp(k->mv_data, in->prefix, LOGSTORE_RUN_LEN) == 0)
		return MDB_CORRUPTED;
	in->has = in_run(rc, k, in->prefix);
	if (in->has) {
		if (k->mv_size >= LOGSTORE_KEY_BUF)
			return MDB_BAD_VALSIZE;
		memcpy(in->key, k->mv_data, k->mv_size);
		in->len = k->mv_size;
	}
	return rc == MDB_NOTFOUND ? 0 : rc;
}

/* Finds the first key of `run` after `last` (all of the run if last_len is
 * 0).  Returns an LMDB result. */
static int input_seek(struct input *in, uint32_t run, const uint8_t *last,
		      size_t last_len)
{
	uint8_t key[LOGSTORE_KEY_BUF];
	MDB_val k = {LOGSTORE_RUN_LEN + last_len, key}, v;
	int rc;

	put_run(in->prefix, run);
	memcpy(key, in->prefix, LOGSTORE_RUN_LEN);
	memcpy(key + LOGSTORE_RUN_LEN, last, last_len);
	rc = mdb_cursor_get(in->cur, &k, &v, MDB_SET_RANGE);
	if (rc == 0 && last_len > 0 && k.mv_size == LOGSTORE_RUN_LEN +
	    last_len && memcmp((const uint8_t *)k.mv_data + LOGSTORE_RUN_LEN,
			       last, last_len) == 0)
		rc = mdb_cursor_get(in->cur, &k, &v, MDB_NEXT_NODUP);
	return input_keep(in, rc, &k);
}

/* Adds every value of the input's key to vals and moves it to the next
 * key.  Returns an LMDB result. */
static int input_take(struct input *in, int dup, struct values *vals)
{
	MDB_val k = {in->len, in->key}, v;
	int rc = mdb_cursor_get(in->cur, &k, &v, MDB_SET_KEY);

	while (rc == 0) {
		if (v.mv_size != 8)
			return MDB_CORRUPTED;
		if (vals->n == vals->cap) {
			size_t cap = vals->cap ? vals->cap * 2 : 64;
			void *grown = realloc(vals->v, cap * sizeof(*vals->v));

			if (!grown)
				return ENOMEM;
			vals->v = grown;
			vals->cap = cap;
		}
		memcpy(vals->v[vals->n++], v.mv_data, 8);
		rc = dup ? mdb_cursor_get(in->cur, &k, &v, MDB_NEXT_DUP)
			 : MDB_NOTFOUND;
	}
	if (rc != MDB_NOTFOUND)
		return rc;
	rc = mdb_cursor_get(in->cur, &k, &v, MDB_NEXT_NODUP);
	return input_keep(in, rc, &k);
}

struct merge_io {
	struct input a, b;
	MDB_cursor *out;
	struct values vals;
};

/* Copies the next key of the merge (of a, of b, or of both when equal:
 * a's values first, being older) and records it as the last copied.  Adds
 * the records copied to *copied.  Returns an LMDB result. */
static int merge_key(struct merge_io *m, struct logstore_merge *g, int ix,
		     size_t *copied)
{
	uint8_t key[LOGSTORE_KEY_BUF];
	MDB_val ka = {m->a.len, m->a.key}, kb = {m->b.len, m->b.key};
	int c = !m->b.has ? -1 : !m->a.has ? 1 : key_cmp(&ka, &kb), rc;
	const MDB_val *k = c <= 0 ? &ka : &kb;
	MDB_val nk = {k->mv_size, key};

	if (c == 0 && ix == IX_DEDUPE)
		return MDB_CORRUPTED;	/* a dedupe key is in one run only */
	put_run(key, g->out);
	memcpy(key + LOGSTORE_RUN_LEN, (const uint8_t *)k->mv_data +
	       LOGSTORE_RUN_LEN, k->mv_size - LOGSTORE_RUN_LEN);
	g->last_len[ix] = k->mv_size - LOGSTORE_RUN_LEN;
	memcpy(g->last[ix], key + LOGSTORE_RUN_LEN, g->last_len[ix]);
	m->vals.n = 0;
	if ((c <= 0 && (rc = input_take(&m->a, ix != IX_DEDUPE, &m->vals))) ||
	    (c >= 0 && (rc = input_take(&m->b, ix != IX_DEDUPE, &m->vals))))
		return rc;
	for (size_t i = 0; i < m->vals.n; i++) {
		MDB_val v = {8, m->vals.v[i]};

		if ((rc = mdb_cursor_put(m->out, &nk, &v, i ? MDB_APPENDDUP
							    : MDB_APPEND)))
			return rc;
	}
	*copied += m->vals.n;
	return 0;
}

/* Merges up to `budget` more records of index ix.  Returns an LMDB
 * result. */
static int merge_slice(ppx_log *log, MDB_txn *txn, struct logstore_runs *r,
		       int ix, size_t budget)
{
	struct logstore_merge *g = &r->merge;
	MDB_dbi dbi = log->dbi[logstore_ix_db(ix)];
	struct merge_io m = {0};
	size_t copied = 0;
	int rc;

	if ((rc = mdb_cursor_open(txn, dbi, &m.a.cur)) ||
	    (rc = mdb_cursor_open(txn, dbi, &m.b.cur)) ||
	    (rc = mdb_cursor_open(txn, dbi, &m.out)) ||
	    (rc = input_seek(&m.a, r->sealed[g->ia].id, g->last[ix],
			     g->last_len[ix])) ||
	    (rc = input_seek(&m.b, r->sealed[g->ia + 1].id, g->last[ix],
			     g->last_len[ix])))
		goto out;
	while (copied < budget && rc == 0 && (m.a.has || m.b.has))
		rc = merge_key(&m, g, ix, &copied);
	if (rc == 0)
		g->done[ix] = !m.a.has && !m.b.has;
out:
	if (m.a.cur)
		mdb_cursor_close(m.a.cur);
	if (m.b.cur)
		mdb_cursor_close(m.b.cur);
	if (m.out)
		mdb_cursor_close(m.out);
	free(m.vals.v);
	return rc;
}

/* The merged run takes the place of its inputs, which are to go. */
static void merge_end(struct logstore_runs *r)
{
	struct logstore_merge *g = &r->merge;
	struct logstore_run *a = &r->sealed[g->ia];

	if (r->ndrop + 2 > LOGSTORE_RUNS_MAX || g->ia + 1 >= r->nsealed)
		return;	/* never: merge_start and the list's checks see to it */
	r->drop[r->ndrop++] = a->id;
	r->drop[r->ndrop++] = a[1].id;
	a->id = g->out;
	a->to = a[1].to;
	memmove(a + 1, a + 2, (r->nsealed - g->ia - 2) * sizeof(*a));
	r->nsealed--;
	g->active = 0;
}

/* Starts merging the newest adjacent pair of sealed runs whose newer is at
 * least 3/4 of the older, if no merge is under way. */
static void merge_start(struct logstore_runs *r)
{
	struct logstore_merge *g = &r->merge;

	if (g->active || r->nsealed < 2 || r->ndrop + 2 > LOGSTORE_RUNS_MAX ||
	    r->next_out == UINT32_MAX)
		return;
	for (unsigned i = r->nsealed - 1; i-- > 0;) {
		uint64_t older = r->sealed[i].to - r->sealed[i].from;
		uint64_t newer = r->sealed[i + 1].to - r->sealed[i + 1].from;

		if (4 * newer < 3 * older)
			continue;
		memset(g->done, 0, sizeof(g->done));
		memset(g->last_len, 0, sizeof(g->last_len));
		g->active = 1;
		g->ia = i;
		g->out = r->next_out++;
		return;
	}
}

/* ---- removal of merged runs ------------------------------------------- */

/* Removes up to `budget` records of run `run` from index ix; *gone is 1
 * when none are left.  Returns an LMDB result. */
static int drop_slice(ppx_log *log, MDB_txn *txn, int ix, uint32_t run,
		      size_t budget, int *gone)
{
	uint8_t prefix[LOGSTORE_RUN_LEN];
	MDB_val k = {sizeof(prefix), prefix}, v;
	MDB_cursor *c;
	size_t removed = 0;
	int rc, err = 0;

	put_run(prefix, run);
	if ((rc = mdb_cursor_open(txn, log->dbi[logstore_ix_db(ix)], &c)))
		return rc;
	rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
	while (removed < budget && in_run(rc, &k, prefix)) {
		size_t values = 1;

		if ((ix != IX_DEDUPE && (err = mdb_cursor_count(c, &values))) ||
		    (err = mdb_cursor_del(c, ix != IX_DEDUPE ? MDB_NODUPDATA
							     : 0)))
			break;
		removed += values;
		rc = mdb_cursor_get(c, &k, &v, MDB_GET_CURRENT);
		if (rc == EINVAL)
			rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
	}
	mdb_cursor_close(c);
	if (err != 0)
		return err;
	*gone = !in_run(rc, &k, prefix);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

static int drop_step(ppx_log *log, MDB_txn *txn, struct logstore_runs *r,
		     size_t budget)
{
	int gone = 1, rc;

	for (int ix = 0; ix < NUM_IX && r->ndrop > 0; ix++) {
		int ix_gone;

		if ((rc = drop_slice(log, txn, ix, r->drop[0], budget,
				     &ix_gone)))
			return rc;
		gone &= ix_gone;
	}
	if (r->ndrop > 0 && gone)
		memmove(r->drop, r->drop + 1, --r->ndrop * sizeof(*r->drop));
	return 0;
}

/* ---- one commit's share ------------------------------------------------ */

static size_t slice_of(const ppx_log *log, uint64_t entries)
{
	uint64_t s = entries * LOGSTORE_SLICE_PER_ENTRY;

	if (log->slice > 0)
		return (size_t)log->slice;
	if (s < LOGSTORE_SLICE_MIN)
		s = LOGSTORE_SLICE_MIN;
	return s > LOGSTORE_SLICE_MAX ? LOGSTORE_SLICE_MAX : (size_t)s;
}

int ppxi_runs_step(ppx_log *log, MDB_txn *txn, struct logstore_runs *r,
		   uint64_t next, uint64_t entries)
{
	size_t budget = slice_of(log, entries);
	int rc;

	/* Nothing to seal, merge or remove: the list stays as it is, and
	 * meta is not rewritten. */
	if (r->format < LOGSTORE_FORMAT || entries == 0 ||
	    (next - r->young_from < log->young_max && !r->merge.active &&
	     r->ndrop == 0))
		return 0;
	if (next - r->young_from >= log->young_max &&
	    r->nsealed < LOGSTORE_RUNS_MAX && r->next_run < LOGSTORE_OUT_RUNS) {
		r->sealed[r->nsealed++] = (struct logstore_run){
			r->young, r->young_from, next};
		r->young = r->next_run++;
		r->young_from = next;
		merge_start(r);
	}
	if ((rc = drop_step(log, txn, r, budget)) != 0)
		return rc;
	merge_start(r);	/* if one waited for room in the list */
	for (int ix = 0; ix < NUM_IX && r->merge.active; ix++)
		if (!r->merge.done[ix] &&
		    (rc = merge_slice(log, txn, r, ix, budget)) != 0)
			return rc;
	if (r->merge.active && r->merge.done[IX_DEDUPE] &&
	    r->merge.done[IX_IDS] && r->merge.done[IX_SUBJECTS]) {
		merge_end(r);
		merge_start(r);
	}
	return ppxi_runs_save(log, txn, r);
}

/* ---- from format 1 ----------------------------------------------------- */

/* Copies every record of `from` into `to` (empty), each key prefixed with
 * run number `run` unless plen is 0, with MDB_APPEND: the keys come in
 * order.  Counts them into *records.  Returns an LMDB result, or
 * MDB_BAD_VALSIZE for a key that does not fit. */
static int copy_all(ppx_log *log, MDB_txn *txn, MDB_dbi from, MDB_dbi to,
		    size_t plen, uint64_t *records)
{
	uint8_t key[LOGSTORE_KEY_BUF], last[LOGSTORE_KEY_BUF];
	size_t last_len = 0;
	MDB_cursor *cf, *ct;
	MDB_val k, v;
	int rc, err = 0;

	if ((rc = mdb_cursor_open(txn, from, &cf)))
		return rc;
	if ((rc = mdb_cursor_open(txn, to, &ct))) {
		mdb_cursor_close(cf);
		return rc;
	}
	put_run(key, LOGSTORE_OUT_RUNS);
	for (rc = mdb_cursor_get(cf, &k, &v, MDB_FIRST); rc == 0 && !err;
	     rc = mdb_cursor_get(cf, &k, &v, MDB_NEXT)) {
		MDB_val nk = {plen + k.mv_size, key};
		int same;

		if (k.mv_size + plen > log->key_max) {
			err = MDB_BAD_VALSIZE;
			break;
		}
		memcpy(key + plen, k.mv_data, k.mv_size);
		same = last_len == nk.mv_size && memcmp(last, key, last_len) == 0;
		err = mdb_cursor_put(ct, &nk, &v, same ? MDB_APPENDDUP
						       : MDB_APPEND);
		memcpy(last, key, nk.mv_size);
		last_len = nk.mv_size;
		(*records)++;
	}
	mdb_cursor_close(cf);
	mdb_cursor_close(ct);
	return err ? err : rc == MDB_NOTFOUND ? 0 : rc;
}

/* One index into a run: its records into a scratch database with run
 * numbers, the index emptied, and they copied back. */
static int migrate_index(ppx_log *log, MDB_txn *txn, int ix,
			 uint64_t *records)
{
	char name[32];
	int db = logstore_ix_db(ix);
	uint64_t ignored = 0;
	MDB_dbi tmp;
	int rc;

	snprintf(name, sizeof(name), "migrate-%s", ppxi_logstore_db_name(db));
	if ((rc = mdb_dbi_open(txn, name, ppxi_logstore_db_flags(db) |
			       MDB_CREATE, &tmp)) ||
	    (rc = mdb_drop(txn, tmp, 0)) ||
	    (rc = copy_all(log, txn, log->dbi[db], tmp, LOGSTORE_RUN_LEN,
			   records)) ||
	    (rc = mdb_drop(txn, log->dbi[db], 0)) ||
	    (rc = copy_all(log, txn, tmp, log->dbi[db], 0, &ignored)))
		return rc;
	return mdb_drop(txn, tmp, 1);
}

#define MIGRATE_DONE_ALREADY (-30000)	/* not an LMDB result */

/* The move in txn; *records is how many index records moved. */
static int migrate_txn(ppx_log *log, MDB_txn *txn, uint64_t *records)
{
	uint8_t two[4] = {0, 0, 0, LOGSTORE_FORMAT};
	MDB_val k = {6, "format"}, v = {sizeof(two), two};
	struct logstore_runs r;
	MDB_stat st;
	int rc;

	*records = 0;
	/* Read again in the move's own write transaction: another writer
	 * (ppxd's lock keeps it out; this does not rely on that) may have
	 * moved the log since it was opened, and moving it twice would put
	 * a second run number before every key. */
	rc = mdb_get(txn, log->dbi[DB_META], &k, &v);
	if (rc == 0 && v.mv_size == sizeof(two) &&
	    ((const uint8_t *)v.mv_data)[3] >= LOGSTORE_FORMAT)
		return MIGRATE_DONE_ALREADY;
	if (rc != 0 && rc != MDB_NOTFOUND)
		return rc;
	v = (MDB_val){sizeof(two), two};
	if ((rc = mdb_stat(txn, log->dbi[DB_LOG], &st)))
		return rc;
	for (int ix = 0; ix < NUM_IX; ix++)
		if ((rc = migrate_index(log, txn, ix, records)))
			return rc;
	memset(&r, 0, offsetof(struct logstore_runs, merge));
	r.merge.active = 0;
	r.format = LOGSTORE_FORMAT;
	r.young = 0;
	r.next_run = 1;
	r.next_out = LOGSTORE_OUT_RUNS;
	r.young_from = st.ms_entries;
	if (st.ms_entries > 0)
		r.sealed[r.nsealed++] = (struct logstore_run){
			r.next_out++, 0, st.ms_entries};
	if ((rc = ppxi_runs_save(log, txn, &r)))
		return rc;
	return mdb_put(txn, log->dbi[DB_META], &k, &v, 0);
}

/* Commits the move, growing the map and starting again while it is full:
 * 0, 1 if the log was in format 2 already, or < 0. */
static int migrate_commit(ppx_log *log, uint64_t *records)
{
	MDB_txn *txn;
	int rc;

	for (;;) {
		if ((rc = ppxi_logstore_txn_begin(log, 0, &txn)))
			break;
		if ((rc = migrate_txn(log, txn, records))) {
			mdb_txn_abort(txn);
			if (rc == MIGRATE_DONE_ALREADY)
				return 1;
		} else {
			rc = mdb_txn_commit(txn);
		}
		if (rc != MDB_MAP_FULL)
			break;
		if ((rc = ppxi_logstore_map_grow(log)) < 0)
			return rc;
	}
	if (rc == MDB_BAD_VALSIZE)
		return ppx_error_set(PPX_EINVAL, "cannot move log %s to format "
				     "%d: an index key is too long for a run "
				     "(over %zu bytes); it is left in format 1",
				     log->dir, LOGSTORE_FORMAT,
				     log->ix_key_max);
	if (rc != 0)
		return ppxi_logstore_fail(rc, "cannot move log %s to format "
					  "%d (it is left in format 1)",
					  log->dir, LOGSTORE_FORMAT);
	return 0;
}

int ppxi_runs_migrate(ppx_log *log)
{
	char notice[512];
	uint64_t records = 0;
	int rc;

	if ((rc = migrate_commit(log, &records)) < 0)
		return rc;
	log->format = LOGSTORE_FORMAT;
	if (rc == 1)
		return 0;	/* moved by another writer meanwhile */
	snprintf(notice, sizeof(notice), "log %s moved from format 1 to "
		 "format %d: %llu index records copied into one sealed run, "
		 "in one transaction", log->dir, LOGSTORE_FORMAT,
		 (unsigned long long)records);
	free(log->notice);
	log->notice = strdup(notice);
	return 0;
}
