/*
 * logstore_runs.c — the indexes as runs: the list of runs, their keys,
 * and the lookups that probe them.
 *
 * A random-key index (dedupe, ids, subjects) written in place dirties a
 * page of its own for nearly every record once it is much larger than a
 * commit, so a commit's bytes grow with the log (docs/PERFORMANCE.md, "Log
 * growth").  In format 2 each of them is a set of sorted runs in the same
 * LMDB database: a key is the run's number (4 bytes, big-endian) followed
 * by the key of format 1.  Appends go to the young run, whose pages a
 * commit touches are few and shared; once it holds young_max entries it
 * is sealed, and sealed runs of about equal size are merged into one,
 * written in key order with MDB_APPEND into full pages, a slice per
 * commit (logstore_merge.c).  Each live run holds the records of a
 * contiguous range of entries, and the ranges of the live runs (the
 * sealed ones, oldest first, then the young one) cover the log without
 * overlap: so the records of one entry are in one run, and a list of seqs
 * is the runs' lists read oldest first.  A merge's inputs stay live, and
 * are probed, until it ends; its output, then, takes their place.
 *
 * The list is meta "runs" (PROTOCOL.md 6.2), written in the commit that
 * changes it, so that it always names the records the commit left.  Every
 * lookup reads it in its own transaction, since another process may be
 * appending.  A log of format 1 (no "runs") reads as one run without run
 * numbers: a read-only open, such as ppx verify of an old log or backup,
 * reads it as it is; a writable open moves it to format 2 first.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "logstore_int.h"
#include "ppx/error.h"

#define RUNS_KEY "runs"

/* ---- the list, as meta "runs" ------------------------------------------ */

struct reader {
	const uint8_t *p;
	size_t left;
	int bad;
};

static uint64_t get_be(struct reader *r, size_t bytes)
{
	uint64_t v = 0;

	if (r->bad || r->left < bytes) {
		r->bad = 1;
		return 0;
	}
	for (size_t i = 0; i < bytes; i++)
		v = v << 8 | r->p[i];
	r->p += bytes;
	r->left -= bytes;
	return v;
}

static size_t put_be(uint8_t *out, uint64_t v, size_t bytes)
{
	for (size_t i = bytes; i-- > 0; v >>= 8)
		out[i] = (uint8_t)v;
	return bytes;
}

static void read_merge(struct reader *rd, struct logstore_runs *r,
		       size_t key_max)
{
	struct logstore_merge *g = &r->merge;

	g->active = (int)get_be(rd, 1);
	if (g->active > 1)
		rd->bad = 1;	/* 0 or 1: no other value is written */
	if (g->active != 1)
		return;
	g->ia = (unsigned)get_be(rd, 1);
	g->out = (uint32_t)get_be(rd, 4);
	for (int ix = 0; ix < NUM_IX; ix++) {
		g->done[ix] = (int)get_be(rd, 1);
		g->last_len[ix] = (size_t)get_be(rd, 2);
		if (g->done[ix] > 1 || g->last_len[ix] > key_max ||
		    g->last_len[ix] > rd->left) {
			rd->bad = 1;
			return;
		}
		memcpy(g->last[ix], rd->p, g->last_len[ix]);
		rd->p += g->last_len[ix];
		rd->left -= g->last_len[ix];
	}
}

/* Decodes the record; 1 if it is well formed. */
static int runs_decode(struct logstore_runs *r, const MDB_val *v,
		       size_t key_max)
{
	struct reader rd = {v->mv_data, v->mv_size, 0};

	r->young = (uint32_t)get_be(&rd, 4);
	r->young_from = get_be(&rd, 8);
	r->next_run = (uint32_t)get_be(&rd, 4);
	r->next_out = (uint32_t)get_be(&rd, 4);
	r->nsealed = (unsigned)get_be(&rd, 1);
	if (r->nsealed > LOGSTORE_RUNS_MAX)
		return 0;
	for (unsigned i = 0; i < r->nsealed; i++) {
		r->sealed[i].id = (uint32_t)get_be(&rd, 4);
		r->sealed[i].from = get_be(&rd, 8);
		r->sealed[i].to = get_be(&rd, 8);
	}
	r->ndrop = (unsigned)get_be(&rd, 1);
	if (r->ndrop > LOGSTORE_RUNS_MAX)
		return 0;
	for (unsigned i = 0; i < r->ndrop; i++)
		r->drop[i] = (uint32_t)get_be(&rd, 4);
	read_merge(&rd, r, key_max);
	return !rd.bad && rd.left == 0;
}

/* 1 if run number id is used by more than one of the list's runs. */
static int id_repeated(const struct logstore_runs *r, uint32_t id)
{
	int n = r->young == id;

	for (unsigned i = 0; i < r->nsealed; i++)
		n += r->sealed[i].id == id;
	for (unsigned i = 0; i < r->ndrop; i++)
		n += r->drop[i] == id;
	n += r->merge.active && r->merge.out == id;
	return n > 1;
}

/* 1 if id was handed out by the counters of its kind. */
static int id_issued(const struct logstore_runs *r, uint32_t id)
{
	return id < LOGSTORE_OUT_RUNS ? id < r->next_run
				      : id < r->next_out;
}

/* The list's own rules: the ranges of the sealed runs and the young one
 * follow each other from entry 0 to the end of the log, every number was
 * issued and names one run, a merge names two adjacent sealed runs and a
 * merged run above all of them.  1 if they hold. */
static int runs_valid(const struct logstore_runs *r, uint64_t size)
{
	uint64_t at = 0;

	if (r->young >= LOGSTORE_OUT_RUNS || !id_issued(r, r->young) ||
	    id_repeated(r, r->young) || r->next_out < LOGSTORE_OUT_RUNS)
		return 0;
	for (unsigned i = 0; i < r->nsealed; i++) {
		const struct logstore_run *s = &r->sealed[i];

		if (s->from != at || s->to <= s->from || !id_issued(r, s->id) ||
		    id_repeated(r, s->id))
			return 0;
		at = s->to;
	}
	for (unsigned i = 0; i < r->ndrop; i++)
		if (!id_issued(r, r->drop[i]) || id_repeated(r, r->drop[i]))
			return 0;
	if (r->young_from != at || at > size)
		return 0;
	/* A merge ends by adding its two inputs to the runs to remove:
	 * there must be room for them (merge_start waits until there is). */
	return !r->merge.active ||
	       (r->merge.ia + 1 < r->nsealed &&
		r->ndrop + 2 <= LOGSTORE_RUNS_MAX &&
		r->merge.out >= LOGSTORE_OUT_RUNS && id_issued(r, r->merge.out) &&
		r->merge.out + 1 == r->next_out &&
		!id_repeated(r, r->merge.out));
}

int ppxi_runs_load(ppx_log *log, MDB_txn *txn, struct logstore_runs *out)
{
	MDB_val k = {sizeof(RUNS_KEY) - 1, RUNS_KEY}, v;
	MDB_stat st;
	int rc = mdb_get(txn, log->dbi[DB_META], &k, &v);

	memset(out, 0, offsetof(struct logstore_runs, merge));
	out->merge.active = 0;
	if (rc == MDB_NOTFOUND && log->format < LOGSTORE_FORMAT) {
		out->format = 1;
		return 0;
	}
	if (rc == MDB_NOTFOUND)
		return ppxi_logstore_corrupt(log, "its index runs (meta "
					     "\"runs\") are missing");
	if (rc != 0 || (rc = mdb_stat(txn, log->dbi[DB_LOG], &st)) != 0)
		return ppxi_logstore_fail(rc, "cannot read log %s: meta",
					  log->dir);
	out->format = LOGSTORE_FORMAT;
	out->plen = LOGSTORE_RUN_LEN;
	if (!runs_decode(out, &v, log->ix_key_max) ||
	    !runs_valid(out, st.ms_entries))
		return ppxi_logstore_corrupt(log, "its list of index runs "
					     "(meta \"runs\", %zu bytes) is "
					     "malformed", v.mv_size);
	return 0;
}

int ppxi_runs_save(ppx_log *log, MDB_txn *txn, const struct logstore_runs *r)
{
	uint8_t buf[32 + LOGSTORE_RUNS_MAX * 24 + NUM_IX * LOGSTORE_KEY_BUF];
	MDB_val k = {sizeof(RUNS_KEY) - 1, RUNS_KEY}, v = {0, buf};
	const struct logstore_merge *g = &r->merge;
	size_t n = 0;

	n += put_be(buf + n, r->young, 4);
	n += put_be(buf + n, r->young_from, 8);
	n += put_be(buf + n, r->next_run, 4);
	n += put_be(buf + n, r->next_out, 4);
	n += put_be(buf + n, r->nsealed, 1);
	for (unsigned i = 0; i < r->nsealed; i++) {
		n += put_be(buf + n, r->sealed[i].id, 4);
		n += put_be(buf + n, r->sealed[i].from, 8);
		n += put_be(buf + n, r->sealed[i].to, 8);
	}
	n += put_be(buf + n, r->ndrop, 1);
	for (unsigned i = 0; i < r->ndrop; i++)
		n += put_be(buf + n, r->drop[i], 4);
	n += put_be(buf + n, (uint64_t)g->active, 1);
	if (g->active) {
		n += put_be(buf + n, g->ia, 1);
		n += put_be(buf + n, g->out, 4);
		for (int ix = 0; ix < NUM_IX; ix++) {
			n += put_be(buf + n, (uint64_t)g->done[ix], 1);
			n += put_be(buf + n, g->last_len[ix], 2);
			memcpy(buf + n, g->last[ix], g->last_len[ix]);
			n += g->last_len[ix];
		}
	}
	v.mv_size = n;
	return mdb_put(txn, log->dbi[DB_META], &k, &v, 0);
}

unsigned ppxi_runs_live(const struct logstore_runs *r,
			struct logstore_run *out)
{
	if (r->format < LOGSTORE_FORMAT) {
		out[0] = (struct logstore_run){0, 0, UINT64_MAX};
		return 1;
	}
	memcpy(out, r->sealed, r->nsealed * sizeof(*out));
	out[r->nsealed] = (struct logstore_run){r->young, r->young_from,
						UINT64_MAX};
	return r->nsealed + 1;
}

size_t ppxi_runs_key(const struct logstore_runs *r, uint32_t run,
		     uint8_t *buf, const void *key, size_t len)
{
	if (r->plen > 0)
		put_be(buf, run, LOGSTORE_RUN_LEN);
	memcpy(buf + r->plen, key, len);
	return r->plen + len;
}

/* ---- lookups ----------------------------------------------------------- */

int ppxi_runs_dedupe_get(ppx_log *log, MDB_txn *txn,
			 const struct logstore_runs *r, const void *key,
			 size_t len, MDB_val *v)
{
	struct logstore_run live[LOGSTORE_RUNS_MAX + 1];
	uint8_t buf[LOGSTORE_KEY_BUF];
	unsigned n = ppxi_runs_live(r, live);
	int rc = MDB_NOTFOUND;

	if (!logstore_runs_fit(log, r, len))
		return MDB_NOTFOUND;	/* no such key could be stored */
	/* Newest first: a duplicate is most often of a recent message.
	 * A sealed run whose filter rules the key out is not probed. */
	while (n-- > 0 && rc == MDB_NOTFOUND) {
		MDB_val k = {ppxi_runs_key(r, live[n].id, buf, key, len), buf};

		if (r->format == LOGSTORE_FORMAT && n < r->nsealed &&
		    !ppxi_filter_may_hold(log, txn, r, &live[n], key, len))
			continue;
		rc = mdb_get(txn, log->dbi[DB_DEDUPE], &k, v);
	}
	return rc;
}

/* Appends to *seqs the seqs under k in the cursor's index from `from` on,
 * until *n reaches max. */
static int run_seqs(ppx_log *log, MDB_cursor *cur, MDB_val *k, uint64_t from,
		    size_t max, uint64_t **seqs, size_t *n)
{
	uint8_t start[8];
	MDB_val v = {sizeof(start), start};
	size_t count = 0;
	uint64_t *grown;
	int rc;

	logstore_put_be64(start, from);
	rc = from == 0 ? mdb_cursor_get(cur, k, &v, MDB_SET_KEY)
		       : mdb_cursor_get(cur, k, &v, MDB_GET_BOTH_RANGE);
	if (rc == 0)
		rc = mdb_cursor_count(cur, &count);
	if (rc != 0)
		return rc == MDB_NOTFOUND ? 0 : ppxi_logstore_fail(
			rc, "cannot search log %s", log->dir);
	if (count > max - *n)
		count = max - *n;
	if (!(grown = realloc(*seqs, (*n + count) * sizeof(*grown))))
		return ppx_error_set(PPX_ENOMEM, "cannot search log %s: out "
				     "of memory", log->dir);
	*seqs = grown;
	for (size_t got = 0; rc == 0 && got < count; got++) {
		if (v.mv_size != 8)
			return ppxi_logstore_corrupt(log, "index record of "
						     "%zu bytes", v.mv_size);
		(*seqs)[(*n)++] = logstore_get_be64(v.mv_data);
		if (got + 1 < count)
			rc = mdb_cursor_get(cur, k, &v, MDB_NEXT_DUP);
	}
	if (rc != 0 && rc != MDB_NOTFOUND)
		return ppxi_logstore_fail(rc, "cannot search log %s", log->dir);
	return 0;
}

int ppxi_runs_seqs(ppx_log *log, MDB_txn *txn, const struct logstore_runs *r,
		   int ix, const void *key, size_t len, uint64_t from,
		   size_t max, uint64_t **seqs, size_t *n)
{
	struct logstore_run live[LOGSTORE_RUNS_MAX + 1];
	uint8_t buf[LOGSTORE_KEY_BUF];
	unsigned nlive = ppxi_runs_live(r, live);
	MDB_cursor *cur;
	int rc = 0;

	*seqs = NULL;
	*n = 0;
	if (!logstore_runs_fit(log, r, len) || max == 0)
		return 0;
	if ((rc = mdb_cursor_open(txn, log->dbi[logstore_ix_db(ix)], &cur)))
		return ppxi_logstore_fail(rc, "cannot search log %s", log->dir);
	/* Oldest first: the runs' ranges follow each other, so their seqs
	 * come out ascending, each once. */
	for (unsigned i = 0; i < nlive && rc == 0 && *n < max; i++) {
		MDB_val k = {ppxi_runs_key(r, live[i].id, buf, key, len), buf};

		if (live[i].to > from)
			rc = run_seqs(log, cur, &k, from, max, seqs, n);
	}
	mdb_cursor_close(cur);
	if (rc < 0 || *n == 0) {
		free(*seqs);
		*seqs = NULL;
		*n = 0;
	}
	return rc;
}
