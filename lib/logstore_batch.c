/*
 * logstore_batch.c — appending to the log: batches, map growth, replay.
 *
 * A batch is one LMDB write transaction and, at commit, one fsync.  Each
 * ppx_log_append() checks the dedupe index, fills in seq, prev_hash and
 * time_ms, packs the entry and writes the log record, the tree nodes the
 * new leaf completes and the index records.  The outbox (partner || 0x00 ||
 * seq -> nothing: the messages still waiting for that partner's receipt)
 * changes in the same batches, so a SENT entry and its outbox keys, or a
 * receipt and the removal of its key, are committed together.  So do named
 * values in meta (the cursors of logstore_cursor.c), so that a hook's
 * cursor moves in the same commit as whatever else the iteration logged.
 *
 * The index records of each entry go to the young run (logstore_runs.c);
 * at commit, the batch does its share of sealing and merging runs
 * (logstore_merge.c) in the same transaction.
 *
 * The batch keeps every write it made: when LMDB reports MDB_MAP_FULL, at
 * a put or at commit, the batch aborts its transaction, doubles the map (up
 * to map_max) and replays the writes into a new transaction, then carries
 * on.  If the map cannot grow or the disk is full, the batch fails with
 * PPX_EFULL and nothing of it is kept; what was committed before stays.
 * The log's cached size and head move only when a commit has returned 0.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <time.h>

#include "logstore_int.h"
#include "ppx/error.h"

#define BATCH_MAX 262144		/* entries in one batch */
#define ENTRY_MAX (UINT64_C(64) << 20)	/* bytes of one packed entry */

enum rec_kind {
	REC_ENTRY, REC_OUTBOX_ADD, REC_OUTBOX_DEL, REC_META, REC_META_DEL
};

/* One write of the batch, kept until the batch ends so that it can be
 * replayed: an appended entry (and what the caller's entry->prev_hash
 * points to), a change to the outbox, or a named value put into meta (a
 * cursor, logstore_cursor.c). */
struct batch_rec {
	enum rec_kind kind;
	uint64_t seq;		/* of the entry, named by the outbox key, or
				 * the meta value */
	size_t len;
	ppx_hash prev;
	ppx_hash leaf;
	uint8_t bytes[];	/* the packed entry, the outbox or meta key */
};

struct ppx_log_batch {
	ppx_log *log;
	MDB_txn *txn;		/* NULL once the batch has failed */
	uint64_t first;		/* seq of its first entry */
	uint64_t next;		/* seq of the next entry */
	ppx_hash head;		/* leaf hash of the last entry so far */
	struct batch_rec **recs;
	size_t n, cap;
	uint64_t bytes;		/* of all records */
	int failed;		/* 0, or why the batch cannot commit */
	char why[256];		/* the detail of that failure */
	struct logstore_runs runs;	/* as of txn, before the upkeep */
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int ppx_log_begin(ppx_log_batch **out, ppx_log *log)
{
	ppx_log_batch *b;
	int rc;

	*out = NULL;
	if (log->flags & PPX_LOG_READONLY)
		return ppx_error_set(PPX_EPERM, "cannot append to log %s: it "
				     "is open read-only", log->dir);
	if (log->batch || log->iterating)
		return ppx_error_set(PPX_EINVAL, "cannot begin a batch on log "
				     "%s: %s", log->dir, log->batch ?
				     "one is already open" :
				     "inside ppx_log_foreach");
	if (!(b = calloc(1, sizeof(*b))))
		return ppx_error_set(PPX_ENOMEM, "cannot begin a batch on log "
				     "%s: out of memory", log->dir);
	b->log = log;
	if ((rc = ppxi_logstore_txn_begin(log, 0, &b->txn)) != 0) {
		free(b);
		return ppxi_logstore_fail(rc, "cannot begin a batch on log %s",
					  log->dir);
	}
	/* Start from the log's real end, should another process have
	 * appended since we last looked. */
	if ((rc = ppxi_logstore_read_tail(log, b->txn, &b->next, b->head)) <
	    0 || (rc = ppxi_runs_load(log, b->txn, &b->runs)) < 0) {
		mdb_txn_abort(b->txn);
		free(b);
		return rc;
	}
	b->first = b->next;
	log->batch = b;
	log->shared = b->txn;
	*out = b;
	return 0;
}

/* Forgets the batch's transaction, aborting it unless a commit (which
 * frees it whatever the result) was just tried. */
static void batch_end_txn(ppx_log_batch *b, int commit_done)
{
	if (b->txn && !commit_done)
		mdb_txn_abort(b->txn);
	b->txn = NULL;
	b->log->shared = NULL;
}

void ppxi_logstore_batch_free(ppx_log_batch *b)
{
	batch_end_txn(b, 0);
	for (size_t i = 0; i < b->n; i++)
		free(b->recs[i]);
	free(b->recs);
	b->log->batch = NULL;
	free(b);
}

/* Marks the batch as unable to commit, keeping the detail for commit. */
static int batch_fail(ppx_log_batch *b, int code)
{
	batch_end_txn(b, 0);
	b->failed = code;
	snprintf(b->why, sizeof(b->why), "%s", ppx_error_last());
	return code;
}

/* Refuses entries whose index keys LMDB cannot store. */
static int check_entry(const ppx_log *log, const Ppx__V1__LogEntry *e)
{
	size_t klen = logstore_dedupe_key_len(e->kind, e->peer_agency,
					      e->message_id.len);

	if (klen > log->ix_key_max || e->message_id.len > log->ix_key_max)
		return ppx_error_set(PPX_EINVAL, "cannot append to log %s: "
				     "message id (%zu bytes) and peer name "
				     "too long for its index (%zu bytes)",
				     log->dir, e->message_id.len,
				     log->ix_key_max);
	for (size_t i = 0; i < e->n_related_ids; i++)
		if (e->related_ids[i].len == 0 ||
		    e->related_ids[i].len > log->ix_key_max)
			return ppx_error_set(PPX_EINVAL, "cannot append to log "
					     "%s: related id %zu is empty or "
					     "too long", log->dir, i);
	for (size_t i = 0; i < e->n_subject_keys; i++) {
		size_t len = e->subject_keys[i] ? strlen(e->subject_keys[i])
						: 0;

		if (len == 0 || len > log->ix_key_max)
			return ppx_error_set(PPX_EINVAL, "cannot append to log "
					     "%s: subject key %zu is empty or "
					     "longer than %zu bytes", log->dir,
					     i, log->ix_key_max);
	}
	return 0;
}

/* PPX_EDUP with the original's seq if the log already holds an entry of
 * this kind about this message from/to this peer; 0 if not. */
static int check_duplicate(ppx_log_batch *b, const Ppx__V1__LogEntry *e,
			   uint64_t *seq_out)
{
	ppx_log *log = b->log;
	uint8_t key[LOGSTORE_KEY_BUF];
	MDB_val k = {logstore_dedupe_key_len(e->kind, e->peer_agency,
					     e->message_id.len), key}, v;
	uint64_t seq;
	int rc;

	if (k.mv_size == 0)
		return 0;
	logstore_dedupe_key(key, e->kind, e->peer_agency, e->message_id.data,
			    e->message_id.len);
	rc = ppxi_runs_dedupe_get(log, b->txn, &b->runs, key, k.mv_size, &v);
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return ppxi_logstore_fail(
			rc, "cannot check log %s for duplicates", log->dir);
	if (v.mv_size != 8)
		return ppxi_logstore_corrupt(log, "dedupe record of %zu bytes",
					     v.mv_size);
	seq = logstore_get_be64(v.mv_data);
	if (seq_out)
		*seq_out = seq;
	return ppx_error_set(PPX_EDUP, "log %s already holds this message "
			     "(kind %d, peer \"%s\") as entry %llu", log->dir,
			     e->kind, e->peer_agency ? e->peer_agency : "",
			     (unsigned long long)seq);
}

/*
 * Fills in seq, prev_hash and time_ms and packs the entry into a new
 * record; e->prev_hash points into the record from then on.
 */
static int record_new(struct batch_rec **out, ppx_log_batch *b,
		      Ppx__V1__LogEntry *e)
{
	struct batch_rec *rec;
	size_t len;

	e->seq = b->next;
	if (e->time_ms == 0)
		e->time_ms = now_ms();
	e->prev_hash.data = b->head;
	e->prev_hash.len = sizeof(ppx_hash);
	len = ppx__v1__log_entry__get_packed_size(e);
	if (len > ENTRY_MAX)
		return ppx_error_set(PPX_ERANGE, "cannot append to log %s: "
				     "entry of %zu bytes, the limit is %llu",
				     b->log->dir, len,
				     (unsigned long long)ENTRY_MAX);
	if (!(rec = malloc(sizeof(*rec) + len)))
		return ppx_error_set(PPX_ENOMEM, "cannot append to log %s: "
				     "out of memory", b->log->dir);
	rec->kind = REC_ENTRY;
	rec->seq = e->seq;
	memcpy(rec->prev, b->head, sizeof(ppx_hash));
	e->prev_hash.data = rec->prev;
	rec->len = ppx__v1__log_entry__pack(e, rec->bytes);
	ppx_merkle_leaf(rec->leaf, rec->bytes, rec->len);
	*out = rec;
	return 0;
}

/* Stores leaf `seq` and every node it completes: while the node just
 * stored is a right child, its parent.  Returns an LMDB result. */
static int tree_put(ppx_log *log, MDB_txn *txn, uint64_t seq,
		    const ppx_hash leaf)
{
	uint8_t key[8];
	MDB_val k = {sizeof(key), key}, v;
	ppx_hash h;
	unsigned level = 0;
	int rc;

	memcpy(h, leaf, sizeof(h));
	for (;;) {
		logstore_tree_key(key, level, seq);
		v.mv_size = sizeof(h);
		v.mv_data = h;
		rc = mdb_put(txn, log->dbi[DB_TREE], &k, &v, MDB_APPEND);
		if (rc != 0 || !(seq & 1))
			return rc;
		logstore_tree_key(key, level, seq - 1);
		rc = mdb_get(txn, log->dbi[DB_TREE], &k, &v);
		if (rc == MDB_NOTFOUND || (rc == 0 && v.mv_size != sizeof(h)))
			return MDB_CORRUPTED;
		if (rc != 0)
			return rc;
		ppx_merkle_node(h, v.mv_data, h);
		level++;
		seq >>= 1;
	}
}

/* run || key -> seq in index ix, in the young run: a DUPSORT index keeps
 * the same pair once, the dedupe index refuses a key it holds. */
static int index_put(ppx_log_batch *b, int ix, const void *key, size_t len,
		     uint8_t seq[8])
{
	uint8_t buf[LOGSTORE_KEY_BUF];
	MDB_val k = {ppxi_runs_key(&b->runs, b->runs.young, buf, key, len),
		     buf}, v = {8, seq};
	int rc = mdb_put(b->txn, b->log->dbi[logstore_ix_db(ix)], &k, &v,
			 ix == IX_DEDUPE ? MDB_NOOVERWRITE : MDB_NODUPDATA);

	return rc == MDB_KEYEXIST && ix != IX_DEDUPE ? 0 : rc;
}

/* Writes one entry and its tree nodes and index records.  Returns an
 * LMDB result. */
static int entry_put(ppx_log_batch *b, const struct batch_rec *rec,
		     const Ppx__V1__LogEntry *e)
{
	ppx_log *log = b->log;
	uint8_t seq[8], key[LOGSTORE_KEY_BUF];
	size_t klen = logstore_dedupe_key_len(e->kind, e->peer_agency,
					      e->message_id.len);
	MDB_val k = {sizeof(seq), seq}, v = {rec->len, (void *)rec->bytes};
	int rc;

	logstore_put_be64(seq, rec->seq);
	if (klen > 0) {
		logstore_dedupe_key(key, e->kind, e->peer_agency,
				    e->message_id.data, e->message_id.len);
		if ((rc = index_put(b, IX_DEDUPE, key, klen, seq)))
			return rc;
	}
	if ((rc = mdb_put(b->txn, log->dbi[DB_LOG], &k, &v, MDB_APPEND)) ||
	    (rc = tree_put(log, b->txn, rec->seq, rec->leaf)))
		return rc;
	if (e->message_id.len > 0 &&
	    (rc = index_put(b, IX_IDS, e->message_id.data, e->message_id.len,
			    seq)))
		return rc;
	for (size_t i = 0; i < e->n_related_ids; i++)
		if ((rc = index_put(b, IX_IDS, e->related_ids[i].data,
				    e->related_ids[i].len, seq)))
			return rc;
	for (size_t i = 0; i < e->n_subject_keys; i++)
		if ((rc = index_put(b, IX_SUBJECTS, e->subject_keys[i],
				    strlen(e->subject_keys[i]), seq)))
			return rc;
	return 0;
}

/* Adds or removes an outbox key.  Returns an LMDB result; removing a
 * key that is not there is no change. */
static int outbox_put(ppx_log_batch *b, const struct batch_rec *rec)
{
	MDB_val k = {rec->len, (void *)rec->bytes}, v = {0, ""};
	int rc;

	if (rec->kind == REC_OUTBOX_ADD)
		return mdb_put(b->txn, b->log->dbi[DB_OUTBOX], &k, &v, 0);
	rc = mdb_del(b->txn, b->log->dbi[DB_OUTBOX], &k, NULL);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

/* Puts a meta record: its key -> its value as 8 bytes, big-endian; or
 * removes it (removing one that is not there is no change).  Returns an
 * LMDB result. */
static int meta_put(ppx_log_batch *b, const struct batch_rec *rec)
{
	uint8_t val[8];
	MDB_val k = {rec->len, (void *)rec->bytes}, v = {sizeof(val), val};
	int rc;

	if (rec->kind == REC_META_DEL) {
		rc = mdb_del(b->txn, b->log->dbi[DB_META], &k, NULL);
		return rc == MDB_NOTFOUND ? 0 : rc;
	}
	logstore_put_be64(val, rec->seq);
	return mdb_put(b->txn, b->log->dbi[DB_META], &k, &v, 0);
}

/* Writes one record of the batch; e is the entry of an entry record. */
static int record_put(ppx_log_batch *b, const struct batch_rec *rec,
		      const Ppx__V1__LogEntry *e)
{
	switch (rec->kind) {
	case REC_ENTRY:
		return entry_put(b, rec, e);
	case REC_META:
	case REC_META_DEL:
		return meta_put(b, rec);
	default:
		return outbox_put(b, rec);
	}
}

/* Writes every record of the batch again, into a new transaction.
 * Returns an LMDB result. */
static int batch_replay(ppx_log_batch *b)
{
	const struct batch_rec *rec;
	Ppx__V1__LogEntry *e;
	int rc = 0;

	for (size_t i = 0; i < b->n && rc == 0; i++) {
		rec = b->recs[i];
		if (rec->kind != REC_ENTRY) {
			rc = record_put(b, rec, NULL);
			continue;
		}
		e = ppx__v1__log_entry__unpack(NULL, rec->len, rec->bytes);
		if (!e)
			return ENOMEM;	/* it decoded when we packed it */
		rc = entry_put(b, rec, e);
		ppx__v1__log_entry__free_unpacked(e, NULL);
	}
	return rc;
}

int ppxi_logstore_map_grow(ppx_log *log)
{
	uint64_t cur = ppx_log_map_size(log), next;
	int rc;

	if (cur >= log->map_max)
		return ppx_error_set(PPX_EFULL, "log %s is full: its map has "
				     "reached the limit of %llu bytes and "
				     "nothing of this batch was stored; raise "
				     "the limit (log_max_mb in ppxd.conf) or "
				     "archive the log", log->dir,
				     (unsigned long long)log->map_max);
	next = cur > log->map_max / 2 ? log->map_max : cur * 2;
	if ((rc = mdb_env_set_mapsize(log->env, next)) != 0)
		return ppxi_logstore_fail(rc,
					  "cannot grow the map of log %s to "
					  "%llu bytes",
					  log->dir, (unsigned long long)next);
	return 0;
}

/*
 * After MDB_MAP_FULL: ends the transaction, grows the map and replays the
 * batch into a new one, as often as the replay itself fills the map.
 */
static int batch_grow(ppx_log_batch *b)
{
	ppx_log *log = b->log;
	int rc;

	for (;;) {
		batch_end_txn(b, 0);
		if ((rc = ppxi_logstore_map_grow(log)) < 0)
			return rc;
		if ((rc = ppxi_logstore_txn_begin(log, 0, &b->txn)) != 0) {
			b->txn = NULL;
			return ppxi_logstore_fail(rc,
						  "cannot begin a transaction "
						  "on log %s",
						  log->dir);
		}
		log->shared = b->txn;
		if ((rc = ppxi_runs_load(log, b->txn, &b->runs)) < 0)
			return rc;
		rc = batch_replay(b);
		if (rc == 0)
			return 0;
		if (rc != MDB_MAP_FULL)
			return ppxi_logstore_fail(rc,
						  "cannot replay a batch into "
						  "log %s",
						  log->dir);
	}
}

/* Writes one new record, growing the map as needed.  On failure the
 * batch can no longer commit. */
static int batch_write(ppx_log_batch *b, const struct batch_rec *rec,
		       const Ppx__V1__LogEntry *e)
{
	int rc;

	while ((rc = record_put(b, rec, e)) == MDB_MAP_FULL)
		if ((rc = batch_grow(b)) < 0)
			return batch_fail(b, rc);
	if (rc == MDB_KEYEXIST || rc == MDB_CORRUPTED)
		rc = ppxi_logstore_corrupt(b->log,
					   "entry %llu or its tree nodes "
					   "exist already or are missing: has "
					   "another process written to it?",
					   (unsigned long long)rec->seq);
	else if (rc != 0)
		rc = ppxi_logstore_fail(
			rc, "cannot write %s %llu to log %s",
			rec->kind == REC_ENTRY	? "entry"
			: rec->kind >= REC_META ? "the meta value"
						: "the outbox key of entry",
			(unsigned long long)rec->seq, b->log->dir);
	return rc < 0 ? batch_fail(b, rc) : 0;
}

/* Room for one more record, within BATCH_MAX. */
static int batch_reserve(ppx_log_batch *b)
{
	struct batch_rec **recs;
	size_t cap = b->cap ? b->cap * 2 : 64;

	if (b->n < b->cap)
		return 0;
	if (b->n >= BATCH_MAX)
		return ppx_error_set(PPX_ERANGE, "batch on log %s holds %d "
				     "entries already: commit it and begin "
				     "another", b->log->dir, BATCH_MAX);
	if (!(recs = realloc(b->recs, cap * sizeof(*recs))))
		return ppx_error_set(PPX_ENOMEM, "cannot append to log %s: "
				     "out of memory", b->log->dir);
	b->recs = recs;
	b->cap = cap;
	return 0;
}

int ppx_log_append(ppx_log_batch *batch, Ppx__V1__LogEntry *entry,
		   uint64_t *seq_out)
{
	Ppx__V1__LogEntry saved;
	struct batch_rec *rec = NULL;
	int rc;

	if (!batch || !entry)
		return ppx_error_set(PPX_EINVAL, "ppx_log_append: no %s",
				     batch ? "entry" : "batch");
	if (batch->failed)
		return ppx_error_set(batch->failed, "%s (the batch must be "
				     "aborted)", batch->why);
	if ((rc = check_entry(batch->log, entry)) < 0 ||
	    (rc = check_duplicate(batch, entry, seq_out)) < 0 ||
	    (rc = batch_reserve(batch)) < 0)
		return rc;
	saved = *entry;
	if ((rc = record_new(&rec, batch, entry)) < 0 ||
	    (rc = batch_write(batch, rec, entry)) < 0) {
		entry->seq = saved.seq;
		entry->prev_hash = saved.prev_hash;
		entry->time_ms = saved.time_ms;
		free(rec);
		return rc;
	}
	batch->recs[batch->n++] = rec;
	batch->bytes += rec->len;
	batch->next++;
	memcpy(batch->head, rec->leaf, sizeof(ppx_hash));
	if (seq_out)
		*seq_out = rec->seq;
	return 0;
}

/* Adds a change of the outbox key of (partner, seq) to the batch. */
static int outbox_change(ppx_log_batch *b, enum rec_kind kind,
			 const char *partner, uint64_t seq)
{
	uint8_t key[LOGSTORE_KEY_BUF];
	size_t len = logstore_outbox_prefix(key, partner, b->log->key_max);
	struct batch_rec *rec;
	int rc;

	if (b->failed)
		return ppx_error_set(b->failed, "%s (the batch must be "
				     "aborted)", b->why);
	if (len == 0)
		return ppx_error_set(PPX_EINVAL, "cannot change the outbox of "
				     "log %s: partner name empty or too long",
				     b->log->dir);
	if (seq >= b->next)
		return ppx_error_set(PPX_ERANGE, "cannot change the outbox of "
				     "log %s: no entry %llu", b->log->dir,
				     (unsigned long long)seq);
	if ((rc = batch_reserve(b)) < 0)
		return rc;
	if (!(rec = calloc(1, sizeof(*rec) + len + 8)))
		return ppx_error_set(PPX_ENOMEM, "cannot change the outbox of "
				     "log %s: out of memory", b->log->dir);
	rec->kind = kind;
	rec->seq = seq;
	rec->len = len + 8;
	memcpy(rec->bytes, key, len);
	logstore_put_be64(rec->bytes + len, seq);
	if ((rc = batch_write(b, rec, NULL)) < 0) {
		free(rec);
		return rc;
	}
	b->recs[b->n++] = rec;
	return 0;
}

int ppx_log_outbox_add(ppx_log_batch *batch, const char *partner,
		       uint64_t seq)
{
	if (!batch)
		return ppx_error_set(PPX_EINVAL, "ppx_log_outbox_add: no "
				     "batch");
	return outbox_change(batch, REC_OUTBOX_ADD, partner, seq);
}

int ppx_log_outbox_del(ppx_log_batch *batch, const char *partner,
		       uint64_t seq)
{
	if (!batch)
		return ppx_error_set(PPX_EINVAL, "ppx_log_outbox_del: no "
				     "batch");
	return outbox_change(batch, REC_OUTBOX_DEL, partner, seq);
}

ppx_log *ppxi_logstore_batch_log(ppx_log_batch *b)
{
	return b->log;
}

uint64_t ppx_log_batch_next(const ppx_log_batch *batch)
{
	return ppxi_logstore_batch_next(batch);
}

/* The batch's records are in the order written, entries among them in
 * seq order: search back from the newest, which is what a receipt asks
 * for first. */
int ppx_log_batch_entry(const uint8_t **out, size_t *len,
			const ppx_log_batch *batch, uint64_t seq)
{
	*out = NULL;
	*len = 0;
	for (size_t i = batch->n; i-- > 0;) {
		const struct batch_rec *rec = batch->recs[i];

		if (rec->kind != REC_ENTRY || rec->seq > seq)
			continue;
		if (rec->seq < seq)
			break;
		*out = rec->bytes;
		*len = rec->len;
		return 0;
	}
	return ppx_error_set(PPX_ERANGE, "entry %llu is not in the open batch "
			     "of log %s", (unsigned long long)seq,
			     batch->log->dir);
}

uint64_t ppxi_logstore_batch_next(const ppx_log_batch *b)
{
	return b->next;
}

int ppxi_logstore_batch_meta(ppx_log_batch *b, const void *key, size_t len,
			     uint64_t value)
{
	return ppxi_logstore_batch_meta_change(b, key, len, value, 0);
}

int ppxi_logstore_batch_meta_del(ppx_log_batch *b, const void *key, size_t len)
{
	return ppxi_logstore_batch_meta_change(b, key, len, 0, 1);
}

int ppxi_logstore_batch_meta_change(ppx_log_batch *b, const void *key,
				    size_t len, uint64_t value, int del)
{
	struct batch_rec *rec;
	int rc;

	if (b->failed)
		return ppx_error_set(b->failed, "%s (the batch must be "
				     "aborted)", b->why);
	if (len == 0 || len > b->log->key_max)
		return ppx_error_set(PPX_EINVAL, "cannot write to log %s: "
				     "meta key of %zu bytes (1 to %zu)",
				     b->log->dir, len, b->log->key_max);
	if ((rc = batch_reserve(b)) < 0)
		return rc;
	if (!(rec = calloc(1, sizeof(*rec) + len)))
		return ppx_error_set(PPX_ENOMEM, "cannot write to log %s: out "
				     "of memory", b->log->dir);
	rec->kind = del ? REC_META_DEL : REC_META;
	rec->seq = value;
	rec->len = len;
	memcpy(rec->bytes, key, len);
	if ((rc = batch_write(b, rec, NULL)) < 0) {
		free(rec);
		return rc;
	}
	b->recs[b->n++] = rec;
	return 0;
}

/*
 * A commit that LMDB could not write.  A write that runs out of disk space
 * comes back as ENOSPC, or as EIO when part of it was written; either way,
 * if the file system has no room left for the batch it is PPX_EFULL (a
 * partner is told to retry later), else an I/O error.
 */
static int commit_fail(ppx_log_batch *b, int rc)
{
	struct statvfs vfs;
	uint64_t avail, need = 2 * b->bytes + (UINT64_C(1) << 20);

	if ((rc == EIO || rc == ENOSPC || rc == EDQUOT) &&
	    statvfs(b->log->dir, &vfs) == 0 &&
	    (avail = (uint64_t)vfs.f_bavail * vfs.f_frsize) < need)
		return ppx_error_set(PPX_EFULL, "cannot commit to log %s: its "
				     "disk is full (%llu bytes free) and none "
				     "of the batch's %zu changes was stored; "
				     "free disk space", b->log->dir,
				     (unsigned long long)avail, b->n);
	return ppxi_logstore_fail(rc,
				  "cannot commit a batch of %zu changes to "
				  "log %s; none of them was stored",
				  b->n, b->log->dir);
}

/* Commits the batch's transaction, growing the map and replaying the
 * batch while the commit finds it full. */
static int batch_commit_txn(ppx_log_batch *b)
{
	int rc;

	for (;;) {
		rc = ppxi_runs_step(b->log, b->txn, &b->runs, b->next,
				    b->next - b->first);
		if (rc == MDB_MAP_FULL) {
			if ((rc = batch_grow(b)) < 0)
				return rc;
			continue;
		}
		if (rc != 0) {
			batch_end_txn(b, 0);
			return ppxi_logstore_fail(rc, "cannot merge the index "
						  "runs of log %s; none of the "
						  "batch was stored",
						  b->log->dir);
		}
		rc = mdb_txn_commit(b->txn);
		batch_end_txn(b, 1);
		if (rc == 0)
			return 0;
		if (rc != MDB_MAP_FULL)
			return commit_fail(b, rc);
		if ((rc = batch_grow(b)) < 0)
			return rc;
	}
}

int ppx_log_commit(ppx_log_batch *batch)
{
	ppx_log *log;
	int rc;

	if (!batch)
		return ppx_error_set(PPX_EINVAL, "ppx_log_commit: no batch");
	log = batch->log;
	if (batch->failed)
		rc = ppx_error_set(batch->failed, "%s", batch->why);
	else
		rc = batch_commit_txn(batch);
	if (rc == 0) {
		log->size = batch->next;
		memcpy(log->head, batch->head, sizeof(ppx_hash));
	}
	ppxi_logstore_batch_free(batch);
	return rc;
}

void ppx_log_abort(ppx_log_batch *batch)
{
	if (batch)
		ppxi_logstore_batch_free(batch);
}

int ppx_log_append_one(ppx_log *log, Ppx__V1__LogEntry *entry,
		       uint64_t *seq_out)
{
	ppx_log_batch *b;
	int rc;

	if ((rc = ppx_log_begin(&b, log)) < 0)
		return rc;
	if ((rc = ppx_log_append(b, entry, seq_out)) < 0) {
		ppx_log_abort(b);
		return rc;
	}
	return ppx_log_commit(b);
}
