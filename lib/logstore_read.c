/*
 * logstore_read.c — reading the log: entries, indexes, the outbox, the
 * Merkle tree and iteration.
 *
 * Every function here runs in one transaction: its own short read-only
 * one, or the one reads currently share (an open batch's, so the writer
 * sees its uncommitted entries; or the chunk's of a running
 * ppx_log_foreach(), so a visitor may read the log too).  A root or a
 * proof reads every stored node it needs in the same transaction, so they
 * all belong to one tree.  Sizes are checked against the committed size.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "logstore_int.h"
#include "ppx/error.h"

#define FOREACH_CHUNK 1024	/* entries per read transaction */

/* ---- entries ---------------------------------------------------------- */

/*
 * Every entry read is checked against the leaf hash stored for it, so a
 * damaged entry is an error, never a wrong answer.  (Whether the leaves
 * themselves are right is what ppx_log_verify() establishes.)
 */
static int entry_check(ppx_log *log, MDB_txn *txn, uint64_t seq,
		       const MDB_val *v)
{
	ppx_hash leaf, stored;
	int rc = ppxi_logstore_node_get(log, txn, 0, seq, stored);

	if (rc < 0)
		return rc;
	ppx_merkle_leaf(leaf, v->mv_data, v->mv_size);
	if (memcmp(leaf, stored, sizeof(leaf)) != 0)
		return ppxi_logstore_corrupt(log,
					     "entry %llu does not match its "
					     "stored leaf hash",
					     (unsigned long long)seq);
	return 0;
}

/* The stored bytes of entry seq, checked, valid while txn lives. */
static int entry_get(ppx_log *log, MDB_txn *txn, uint64_t seq, MDB_val *v)
{
	uint8_t key[8];
	MDB_val k = {sizeof(key), key};
	int rc;

	logstore_put_be64(key, seq);
	rc = mdb_get(txn, log->dbi[DB_LOG], &k, v);
	if (rc == MDB_NOTFOUND)
		return ppx_error_set(PPX_ENOTFOUND, "no entry %llu in log %s "
				     "(it holds %llu)", (unsigned long long)seq,
				     log->dir, (unsigned long long)log->size);
	if (rc != 0)
		return ppxi_logstore_fail(rc,
					  "cannot read entry %llu of log %s",
					  (unsigned long long)seq, log->dir);
	return entry_check(log, txn, seq, v);
}

int ppx_log_get_raw(ppx_log *self, uint64_t seq, uint8_t **out, size_t *len)
{
	MDB_txn *txn;
	MDB_val v;
	int rc;

	*out = NULL;
	*len = 0;
	if ((rc = ppxi_logstore_read_begin(self, &txn)) < 0)
		return rc;
	if ((rc = entry_get(self, txn, seq, &v)) == 0) {
		if ((*out = malloc(v.mv_size ? v.mv_size : 1))) {
			memcpy(*out, v.mv_data, v.mv_size);
			*len = v.mv_size;
		} else {
			rc = ppx_error_set(PPX_ENOMEM, "cannot read entry %llu "
					   "of log %s: out of memory",
					   (unsigned long long)seq, self->dir);
		}
	}
	ppxi_logstore_read_end(self, txn);
	return rc;
}

/* Entry seq decoded from txn. */
static int entry_decode(ppx_log *log, MDB_txn *txn, uint64_t seq,
			Ppx__V1__LogEntry **out)
{
	MDB_val v;
	uint64_t recorded;
	int rc;

	if ((rc = entry_get(log, txn, seq, &v)) < 0)
		return rc;
	*out = ppx__v1__log_entry__unpack(NULL, v.mv_size, v.mv_data);
	if (!*out)
		return ppxi_logstore_corrupt(log, "entry %llu does not decode",
					     (unsigned long long)seq);
	recorded = (*out)->seq;
	if (recorded != seq) {
		ppx__v1__log_entry__free_unpacked(*out, NULL);
		*out = NULL;
		return ppxi_logstore_corrupt(log, "entry %llu records seq %llu",
					     (unsigned long long)seq,
					     (unsigned long long)recorded);
	}
	return 0;
}

int ppx_log_get(ppx_log *self, uint64_t seq, Ppx__V1__LogEntry **out)
{
	MDB_txn *txn;
	int rc;

	*out = NULL;
	if ((rc = ppxi_logstore_read_begin(self, &txn)) < 0)
		return rc;
	rc = entry_decode(self, txn, seq, out);
	ppxi_logstore_read_end(self, txn);
	return rc;
}

/* ---- indexes ---------------------------------------------------------- */

static int not_found(const ppx_log *log, int kind, const char *peer)
{
	return ppx_error_set(PPX_ENOTFOUND, "log %s has no entry of kind %d "
			     "about that message for \"%s\"", log->dir, kind,
			     peer);
}

/* The seq of an index record, checked. */
static int index_seq(const ppx_log *log, const MDB_val *v, uint64_t *seq)
{
	if (v->mv_size != 8)
		return ppxi_logstore_corrupt(log, "index record of %zu bytes",
					     v->mv_size);
	*seq = logstore_get_be64(v->mv_data);
	return 0;
}

/* Whether entry seq has this kind and peer. */
static int entry_matches(ppx_log *log, MDB_txn *txn, uint64_t seq,
			 int kind, const char *peer, int *match)
{
	Ppx__V1__LogEntry *e;
	int rc;

	if ((rc = entry_decode(log, txn, seq, &e)) < 0)
		return rc;
	*match = (int)e->kind == kind && strcmp(e->peer_agency, peer) == 0;
	ppx__v1__log_entry__free_unpacked(e, NULL);
	return 0;
}

/* The first entry about message id with this kind and peer, from the ids
 * index: for the kinds the dedupe index does not cover. */
static int find_in_ids(ppx_log *log, MDB_txn *txn,
		       const struct logstore_runs *r, int kind,
		       const char *peer, const uint8_t *id, size_t id_len,
		       uint64_t *seq_out)
{
	uint64_t *seqs = NULL;
	size_t n = 0;
	int rc, match = 0;

	rc = ppxi_runs_seqs(log, txn, r, IX_IDS, id, id_len, 0, SIZE_MAX,
			    &seqs, &n);
	for (size_t i = 0; rc == 0 && !match && i < n; i++)
		if ((rc = entry_matches(log, txn, seqs[i], kind, peer,
					&match)) == 0 && match)
			*seq_out = seqs[i];
	free(seqs);
	if (rc < 0 || match)
		return rc;
	return not_found(log, kind, peer);
}

/* The seq recorded in the dedupe index for (kind, peer, id). */
static int find_in_dedupe(ppx_log *log, MDB_txn *txn,
			  const struct logstore_runs *r, int kind,
			  const char *peer, const uint8_t *id, size_t id_len,
			  uint64_t *seq_out)
{
	uint8_t key[LOGSTORE_KEY_BUF];
	size_t len = logstore_dedupe_key_len(kind, peer, id_len);
	MDB_val v;
	int rc;

	logstore_dedupe_key(key, kind, peer, id, id_len);
	rc = ppxi_runs_dedupe_get(log, txn, r, key, len, &v);
	if (rc == MDB_NOTFOUND)
		return not_found(log, kind, peer);
	if (rc != 0)
		return ppxi_logstore_fail(rc, "cannot search log %s", log->dir);
	return index_seq(log, &v, seq_out);
}

int ppx_log_find(ppx_log *self, int kind, const char *peer,
		 const uint8_t *id, size_t id_len, uint64_t *seq_out)
{
	struct logstore_runs r;
	size_t klen;
	MDB_txn *txn;
	int rc;

	peer = peer ? peer : "";
	klen = logstore_dedupe_key_len(kind, peer, id_len);
	if (!id || id_len == 0 || id_len > self->key_max ||
	    klen > self->key_max)
		return ppx_error_set(PPX_EINVAL, "cannot search log %s: "
				     "message id missing or too long",
				     self->dir);
	if ((rc = ppxi_logstore_read_begin(self, &txn)) < 0)
		return rc;
	if ((rc = ppxi_runs_load(self, txn, &r)) < 0)
		;
	else if (klen > 0)
		rc = find_in_dedupe(self, txn, &r, kind, peer, id, id_len,
				    seq_out);
	else
		rc = find_in_ids(self, txn, &r, kind, peer, id, id_len,
				 seq_out);
	ppxi_logstore_read_end(self, txn);
	return rc;
}

/* The seqs under key in index ix from `from` on, at most max, ascending. */
static int by_key(ppx_log *log, int ix, const void *key, size_t len,
		  uint64_t from, uint64_t **seqs, size_t *n, size_t max)
{
	struct logstore_runs r;
	MDB_txn *txn;
	int rc;

	*seqs = NULL;
	*n = 0;
	if (!key || len == 0 || len > log->key_max)
		return ppx_error_set(PPX_EINVAL, "cannot search log %s: key "
				     "missing or longer than %zu bytes",
				     log->dir, log->key_max);
	if (max == 0)
		return 0;
	if ((rc = ppxi_logstore_read_begin(log, &txn)) < 0)
		return rc;
	if ((rc = ppxi_runs_load(log, txn, &r)) == 0)
		rc = ppxi_runs_seqs(log, txn, &r, ix, key, len, from, max,
				    seqs, n);
	ppxi_logstore_read_end(log, txn);
	return rc;
}

int ppx_log_by_message(ppx_log *self, const uint8_t *id, size_t id_len,
		       uint64_t **seqs, size_t *n, size_t max)
{
	return by_key(self, IX_IDS, id, id_len, 0, seqs, n, max);
}

int ppx_log_by_message_from(ppx_log *self, const uint8_t *id, size_t id_len,
			    uint64_t from, uint64_t **seqs, size_t *n,
			    size_t max)
{
	return by_key(self, IX_IDS, id, id_len, from, seqs, n, max);
}

/* Whether key k (after plen bytes of run number) starts with the first
 * `nibbles` hex digits of prefix. */
static int has_prefix(const MDB_val *k, size_t plen, const uint8_t *prefix,
		      size_t nibbles)
{
	const uint8_t *key = (const uint8_t *)k->mv_data + plen;
	size_t whole = nibbles / 2;

	if (k->mv_size < plen + (nibbles + 1) / 2 ||
	    memcmp(key, prefix, whole) != 0)
		return 0;
	return nibbles % 2 == 0 || (key[whole] >> 4) == (prefix[whole] >> 4);
}

static int id_cmp(const void *a, const void *b)
{
	return memcmp(a, b, PPX_LOG_ID_LEN);
}

/* Adds to ids the distinct 16-byte keys under the prefix in one run, up
 * to max of them. */
static int run_ids_prefix(ppx_log *log, MDB_cursor *cur,
			  const struct logstore_runs *r, uint32_t run,
			  const uint8_t *prefix, size_t nibbles,
			  uint8_t (*ids)[PPX_LOG_ID_LEN], size_t max, size_t *n)
{
	uint8_t start[PPX_LOG_ID_LEN] = {0}, key[LOGSTORE_KEY_BUF];
	MDB_val k, v;
	size_t got = 0;
	int rc;

	memcpy(start, prefix, (nibbles + 1) / 2);
	if (nibbles % 2)
		start[nibbles / 2] &= 0xf0;
	k = (MDB_val){ppxi_runs_key(r, run, key, start, (nibbles + 1) / 2),
		      key};
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	     rc == 0 && got < max && has_prefix(&k, r->plen, prefix, nibbles) &&
	     (r->plen == 0 || memcmp(k.mv_data, key, r->plen) == 0);
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT_NODUP))
		if (k.mv_size == r->plen + PPX_LOG_ID_LEN) {
			memcpy(ids[(*n)++], (const uint8_t *)k.mv_data + r->plen,
			       PPX_LOG_ID_LEN);
			got++;
		}
	if (rc != 0 && rc != MDB_NOTFOUND)
		return ppxi_logstore_fail(rc, "cannot search log %s", log->dir);
	return 0;
}

/* The distinct 16-byte keys of the ids index under the prefix, in txn:
 * the first max of each run, then sorted, each once, the first max. */
static int ids_prefix(ppx_log *log, MDB_txn *txn, const uint8_t *prefix,
		      size_t nibbles, uint8_t (*ids)[PPX_LOG_ID_LEN],
		      size_t max, size_t *n)
{
	struct logstore_run live[LOGSTORE_RUNS_MAX + 1];
	struct logstore_runs r;
	uint8_t (*all)[PPX_LOG_ID_LEN] = NULL;
	MDB_cursor *cur;
	size_t got = 0;
	unsigned nlive;
	int rc;

	if (max == 0 || (rc = ppxi_runs_load(log, txn, &r)) < 0)
		return max == 0 ? 0 : rc;
	nlive = ppxi_runs_live(&r, live);
	if (max > SIZE_MAX / PPX_LOG_ID_LEN / nlive ||
	    !(all = malloc(max * nlive * PPX_LOG_ID_LEN)))
		return ppx_error_set(PPX_ENOMEM, "cannot search log %s: out "
				     "of memory", log->dir);
	if ((rc = mdb_cursor_open(txn, log->dbi[DB_IDS], &cur)) != 0) {
		free(all);
		return ppxi_logstore_fail(rc, "cannot search log %s", log->dir);
	}
	for (unsigned i = 0; i < nlive && rc == 0; i++)
		rc = run_ids_prefix(log, cur, &r, live[i].id, prefix, nibbles,
				    all, max, &got);
	mdb_cursor_close(cur);
	if (rc == 0 && got > 0) {
		qsort(all, got, PPX_LOG_ID_LEN, id_cmp);
		for (size_t i = 0; i < got && *n < max; i++)
			if (*n == 0 || memcmp(ids[*n - 1], all[i],
					      PPX_LOG_ID_LEN) != 0)
				memcpy(ids[(*n)++], all[i], PPX_LOG_ID_LEN);
	}
	free(all);
	return rc;
}

int ppx_log_ids_by_prefix(ppx_log *self, const uint8_t *prefix,
			  size_t nibbles, uint8_t (*ids)[PPX_LOG_ID_LEN],
			  size_t max, size_t *n)
{
	MDB_txn *txn;
	int rc;

	*n = 0;
	if (nibbles == 0 || nibbles > 2 * PPX_LOG_ID_LEN)
		return ppx_error_set(PPX_EINVAL, "a message id prefix has 1 to "
				     "%d hex digits", 2 * PPX_LOG_ID_LEN);
	if ((rc = ppxi_logstore_read_begin(self, &txn)) < 0)
		return rc;
	rc = ids_prefix(self, txn, prefix, nibbles, ids, max, n);
	ppxi_logstore_read_end(self, txn);
	return rc;
}

int ppx_log_by_subject(ppx_log *self, const char *key, uint64_t **seqs,
		       size_t *n, size_t max)
{
	return by_key(self, IX_SUBJECTS, key,
		      key ? strlen(key) : 0, 0, seqs, n, max);
}

/* The seqs of the outbox keys of one partner, from txn, ascending. */
static int outbox_list(ppx_log *log, MDB_txn *txn, MDB_val *prefix,
		       uint64_t **seqs, size_t *n, size_t max)
{
	size_t cap = 0, plen = prefix->mv_size;
	MDB_cursor *cur;
	MDB_val k = *prefix, v;
	uint64_t *grown;
	int rc, err = 0;

	if ((rc = mdb_cursor_open(txn, log->dbi[DB_OUTBOX], &cur)) != 0)
		return ppxi_logstore_fail(
			rc, "cannot read the outbox of log %s", log->dir);
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	     rc == 0 && *n < max && k.mv_size == plen + 8 &&
	     memcmp(k.mv_data, prefix->mv_data, plen) == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (*n == cap) {
			cap = cap ? (cap > max / 2 ? max : cap * 2) : 64;
			if (!(grown = realloc(*seqs, cap * sizeof(*grown)))) {
				err = ppx_error_set(PPX_ENOMEM, "cannot read "
						    "the outbox of log %s: out "
						    "of memory", log->dir);
				break;
			}
			*seqs = grown;
		}
		(*seqs)[(*n)++] = logstore_get_be64((uint8_t *)k.mv_data +
						    plen);
	}
	mdb_cursor_close(cur);
	if (err == 0 && rc != 0 && rc != MDB_NOTFOUND)
		err = ppxi_logstore_fail(rc, "cannot read the outbox of log %s",
					 log->dir);
	return err;
}

int ppx_log_outbox_list(ppx_log *self, const char *partner, uint64_t **seqs,
			size_t *n, size_t max)
{
	uint8_t key[LOGSTORE_KEY_BUF];
	MDB_val prefix = {logstore_outbox_prefix(key, partner, self->key_max),
			  key};
	MDB_txn *txn;
	int rc;

	*seqs = NULL;
	*n = 0;
	if (prefix.mv_size == 0)
		return ppx_error_set(PPX_EINVAL, "cannot read the outbox of "
				     "log %s: partner name empty or too long",
				     self->dir);
	if (max == 0)
		return 0;
	if ((rc = ppxi_logstore_read_begin(self, &txn)) < 0)
		return rc;
	rc = outbox_list(self, txn, &prefix, seqs, n, max);
	ppxi_logstore_read_end(self, txn);
	if (rc < 0) {
		free(*seqs);
		*seqs = NULL;
		*n = 0;
	}
	return rc;
}

/* ---- the Merkle tree -------------------------------------------------- */

struct tree_reader {
	ppx_log *log;
	MDB_txn *txn;
};

/* ppx_merkle_subtree_fn over the stored tree. */
static int stored_subtree(void *ctx, uint64_t start, uint64_t size,
			  ppx_hash out)
{
	struct tree_reader *r = ctx;
	unsigned level;

	if (size == 0 || (size & (size - 1)) != 0 || start % size != 0)
		return ppx_error_set(PPX_EINVAL, "no stored subtree of %llu "
				     "leaves at %llu", (unsigned long long)size,
				     (unsigned long long)start);
	level = (unsigned)__builtin_ctzll(size);
	return ppxi_logstore_node_get(r->log, r->txn, level, start >> level,
				      out);
}

static int check_size(const ppx_log *log, uint64_t tree_size)
{
	if (tree_size > log->size)
		return ppx_error_set(PPX_ERANGE, "tree size %llu is beyond the "
				     "%llu entries of log %s",
				     (unsigned long long)tree_size,
				     (unsigned long long)log->size, log->dir);
	return 0;
}

int ppx_log_root(ppx_log *self, uint64_t tree_size, ppx_hash out)
{
	struct tree_reader r = {self, NULL};
	int rc;

	if ((rc = check_size(self, tree_size)) < 0 ||
	    (rc = ppxi_logstore_read_begin(self, &r.txn)) < 0)
		return rc;
	rc = ppx_merkle_root(out, tree_size, stored_subtree, &r);
	ppxi_logstore_read_end(self, r.txn);
	return rc;
}

static int check_batch_size(ppx_log_batch *b, uint64_t tree_size)
{
	if (tree_size > ppxi_logstore_batch_next(b))
		return ppx_error_set(
			PPX_ERANGE,
			"tree size %llu is beyond the "
			"%llu entries of log %s and its batch",
			(unsigned long long)tree_size,
			(unsigned long long)ppxi_logstore_batch_next(b),
			ppxi_logstore_batch_log(b)->dir);
	return 0;
}

int ppxi_logstore_batch_root(ppx_log_batch *b, uint64_t tree_size, ppx_hash out)
{
	ppx_log *log = ppxi_logstore_batch_log(b);
	struct tree_reader r = {log, NULL};
	int rc;

	if ((rc = check_batch_size(b, tree_size)) < 0 ||
	    (rc = ppxi_logstore_read_begin(log, &r.txn)) < 0)
		return rc;
	rc = ppx_merkle_root(out, tree_size, stored_subtree, &r);
	ppxi_logstore_read_end(log, r.txn);
	return rc;
}

/* Read through the batch's transaction, as ppxi_logstore_batch_root(). */
int ppx_log_batch_inclusion_proof(ppx_log_batch *batch, uint64_t seq,
				  uint64_t tree_size, ppx_hash *path,
				  size_t *path_len)
{
	ppx_log *log = ppxi_logstore_batch_log(batch);
	struct tree_reader r = {log, NULL};
	int rc;

	*path_len = 0;
	if ((rc = check_batch_size(batch, tree_size)) < 0 ||
	    (rc = ppxi_logstore_read_begin(log, &r.txn)) < 0)
		return rc;
	rc = ppx_merkle_inclusion_proof(path, path_len, seq, tree_size,
					stored_subtree, &r);
	ppxi_logstore_read_end(log, r.txn);
	return rc;
}

int ppx_log_leaf(ppx_log *self, uint64_t seq, ppx_hash out)
{
	MDB_txn *txn;
	int rc;

	if (seq >= self->size)
		return ppx_error_set(PPX_ERANGE, "no leaf %llu in log %s (it "
				     "holds %llu)", (unsigned long long)seq,
				     self->dir, (unsigned long long)self->size);
	if ((rc = ppxi_logstore_read_begin(self, &txn)) < 0)
		return rc;
	rc = ppxi_logstore_node_get(self, txn, 0, seq, out);
	ppxi_logstore_read_end(self, txn);
	return rc;
}

int ppx_log_inclusion_proof(ppx_log *self, uint64_t seq, uint64_t tree_size,
			    ppx_hash *path, size_t *path_len)
{
	struct tree_reader r = {self, NULL};
	int rc;

	*path_len = 0;
	if ((rc = check_size(self, tree_size)) < 0 ||
	    (rc = ppxi_logstore_read_begin(self, &r.txn)) < 0)
		return rc;
	rc = ppx_merkle_inclusion_proof(path, path_len, seq, tree_size,
					stored_subtree, &r);
	ppxi_logstore_read_end(self, r.txn);
	return rc;
}

int ppx_log_consistency_proof(ppx_log *self, uint64_t old_size,
			      uint64_t new_size, ppx_hash *path,
			      size_t *path_len)
{
	struct tree_reader r = {self, NULL};
	int rc;

	*path_len = 0;
	if ((rc = check_size(self, new_size)) < 0 ||
	    (rc = ppxi_logstore_read_begin(self, &r.txn)) < 0)
		return rc;
	rc = ppx_merkle_consistency_proof(path, path_len, old_size, new_size,
					  stored_subtree, &r);
	ppxi_logstore_read_end(self, r.txn);
	return rc;
}

/* ---- iteration -------------------------------------------------------- */

/* Visits [from, to) in txn with one cursor; returns what fn returned if
 * that was not 0. */
static int foreach_chunk(ppx_log *log, MDB_txn *txn, uint64_t from,
			 uint64_t to, int checked, ppx_log_visit_fn fn,
			 void *ctx)
{
	uint8_t key[8];
	MDB_val k = {sizeof(key), key}, v;
	MDB_cursor *cur;
	uint64_t seq = from;
	int rc, stop = 0;

	if ((rc = mdb_cursor_open(txn, log->dbi[DB_LOG], &cur)) != 0)
		return ppxi_logstore_fail(rc, "cannot read log %s", log->dir);
	logstore_put_be64(key, from);
	rc = mdb_cursor_get(cur, &k, &v, MDB_SET_KEY);
	for (; rc == 0 && seq < to; seq++) {
		if (k.mv_size != 8 || logstore_get_be64(k.mv_data) != seq)
			break;
		if (checked && (stop = entry_check(log, txn, seq, &v)) != 0)
			break;
		if ((stop = fn(ctx, seq, v.mv_data, v.mv_size)) != 0)
			break;
		if (seq + 1 < to)
			rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	}
	mdb_cursor_close(cur);
	if (stop != 0)
		return stop;
	if (rc != 0 && rc != MDB_NOTFOUND)
		return ppxi_logstore_fail(rc, "cannot read log %s", log->dir);
	if (seq < to)
		return ppxi_logstore_corrupt(log, "entry %llu is missing",
					     (unsigned long long)seq);
	return 0;
}

int ppx_log_foreach(ppx_log *self, uint64_t from, uint64_t to,
		    ppx_log_visit_fn fn, void *ctx)
{
	return ppxi_logstore_foreach(self, from, to, 1, fn, ctx);
}

int ppxi_logstore_foreach(ppx_log *self, uint64_t from, uint64_t to,
			  int checked, ppx_log_visit_fn fn, void *ctx)
{
	MDB_txn *txn;
	uint64_t end;
	int rc = 0;

	if (self->batch)
		return ppx_error_set(PPX_EINVAL, "cannot iterate over log %s "
				     "while a batch is open", self->dir);
	if (to > self->size)
		to = self->size;
	/* Inside a visitor: run in the visitor's transaction. */
	if (self->shared)
		return from < to ? foreach_chunk(self, self->shared, from, to,
						 checked, fn, ctx) : 0;
	for (; rc == 0 && from < to; from = end) {
		end = to - from > FOREACH_CHUNK ? from + FOREACH_CHUNK : to;
		if ((rc = ppxi_logstore_read_begin(self, &txn)) < 0)
			return rc;
		self->shared = txn;
		self->iterating = 1;
		rc = foreach_chunk(self, txn, from, end, checked, fn, ctx);
		self->iterating = 0;
		self->shared = NULL;
		mdb_txn_abort(txn);
	}
	return rc;
}

/* ---- the whole file --------------------------------------------------- */

/* Every record of one database, key and value byte by byte. */
static int walk_db(ppx_log *log, MDB_txn *txn, int db, uint64_t *records,
		   uint8_t *sum)
{
	MDB_cursor *cur;
	MDB_val k, v;
	int rc;

	if ((rc = mdb_cursor_open(txn, log->dbi[db], &cur)) != 0)
		return ppxi_logstore_fail(rc, "cannot read log %s", log->dir);
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		for (size_t i = 0; i < k.mv_size; i++)
			*sum ^= ((const uint8_t *)k.mv_data)[i];
		for (size_t i = 0; i < v.mv_size; i++)
			*sum ^= ((const uint8_t *)v.mv_data)[i];
		(*records)++;
	}
	mdb_cursor_close(cur);
	if (rc != MDB_NOTFOUND)
		return ppxi_logstore_fail(rc,
					  "cannot read log %s: its %s database "
					  "is damaged",
					  log->dir, ppxi_logstore_db_name(db));
	return 0;
}

int ppx_log_walk(ppx_log *self, uint64_t *records)
{
	uint8_t sum = 0;
	MDB_txn *txn;
	int rc = 0;

	*records = 0;
	if ((rc = ppxi_logstore_read_begin(self, &txn)) < 0)
		return rc;
	for (int db = 0; rc == 0 && db < NUM_DBS; db++)
		rc = walk_db(self, txn, db, records, &sum);
	ppxi_logstore_read_end(self, txn);
	__asm__ volatile("" : : "r"(sum));	/* the reads are not optimised out */
	return rc;
}
