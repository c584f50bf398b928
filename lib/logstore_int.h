/*
 * logstore_int.h — what the three files of the log module share, and no
 * one else sees.
 *
 *   logstore.c        opening, LMDB errors, transactions (the story of
 *                     the module is told there)
 *   logstore_batch.c  appending: batches, the outbox, map growth, replay
 *   logstore_read.c   reading: entries, indexes, the outbox, the tree,
 *                     iteration
 *   logstore_cursor.c named cursors, kept in meta
 *   logstore_runs.c   the indexes' runs: their list, keys and lookups
 *   logstore_merge.c  sealing and merging runs; the move from format 1
 *   logstore_filter.c a Bloom filter per sealed run for the dedupe check
 */
#ifndef PPX_LOGSTORE_INT_H
#define PPX_LOGSTORE_INT_H

#include <stdint.h>
#include <string.h>

#include <lmdb.h>

#include "ppx/logstore.h"

#define LOGSTORE_KEY_BUF 512	/* LMDB's default key limit + 1 */

struct logstore_filter;

enum {
	DB_LOG, DB_TREE, DB_DEDUPE, DB_IDS, DB_SUBJECTS, DB_OUTBOX, DB_META,
	NUM_DBS
};

const char *ppxi_logstore_db_name(int db); /* "log", "tree", ... */
unsigned ppxi_logstore_db_flags(int db);   /* MDB_DUPSORT, ... */

/*
 * The three random-key indexes (dedupe, ids, subjects) in format 2 are
 * runs (logstore_runs.c): every key is a 4-byte run number || the key of
 * format 1.  Runs numbered below LOGSTORE_OUT_RUNS are filled by appends;
 * those from it up are written by merges, always above every other key.
 */
#define LOGSTORE_FORMAT 2		/* meta "format" this build writes */
#define LOGSTORE_RUN_LEN 4		/* bytes of a run number */
#define LOGSTORE_RUNS_MAX 48		/* sealed runs, and runs to remove */
#define LOGSTORE_OUT_RUNS UINT32_C(0x80000000)
#define LOGSTORE_YOUNG_MAX 16384	/* entries a young run takes */
#define LOGSTORE_SLICE_PER_ENTRY 16	/* merge records per index and entry */
#define LOGSTORE_SLICE_MIN 512		/* ... per commit, at least */
#define LOGSTORE_SLICE_MAX 16000	/* ... and at most */

enum { IX_DEDUPE, IX_IDS, IX_SUBJECTS, NUM_IX };

static inline int logstore_ix_db(int ix)
{
	return DB_DEDUPE + ix;
}

/* A run: its number and the entries [from, to) whose records it holds. */
struct logstore_run {
	uint32_t id;
	uint64_t from, to;
};

/* The merge under way: sealed runs ia and ia + 1 into run out; per index,
 * whether it is done and the last key (without run number) copied. */
struct logstore_merge {
	int active;
	unsigned ia;
	uint32_t out;
	int done[NUM_IX];
	size_t last_len[NUM_IX];
	uint8_t last[NUM_IX][LOGSTORE_KEY_BUF];
};

/* The runs of the indexes, as meta "runs" records them (format 2), or
 * format 1: one run holding every entry, with no run number (plen 0). */
struct logstore_runs {
	int format;
	size_t plen;			/* 0 (format 1) or LOGSTORE_RUN_LEN */
	uint32_t young;			/* the run appends go to */
	uint64_t young_from;		/* its first entry */
	uint32_t next_run, next_out;	/* numbers of the next young and
					 * merged runs */
	struct logstore_run sealed[LOGSTORE_RUNS_MAX];	/* oldest first */
	unsigned nsealed;
	uint32_t drop[LOGSTORE_RUNS_MAX];	/* merged away, to remove */
	unsigned ndrop;
	struct logstore_merge merge;
};

struct ppx_log {
	MDB_env *env;
	MDB_dbi dbi[NUM_DBS];
	char *dir;
	unsigned flags;		/* enum ppx_log_flags */
	int file;		/* a copy: one data file, no lock file */
	uint64_t map_max;
	size_t key_max;		/* LMDB's largest key, below KEY_BUF */
	size_t ix_key_max;	/* an index key's, before its run number */
	int format;		/* of the log when it was opened */
	uint64_t young_max;	/* entries a young run takes */
	uint64_t slice;		/* merge records per index and commit, if
				 * fixed (tests); 0: by the commit's size */
	char *notice;		/* what the open did, for its caller */
	struct logstore_filter *filters[2 * LOGSTORE_RUNS_MAX];
	unsigned nfilters;	/* of sealed runs (logstore_filter.c) */
	uint64_t size;		/* committed entries */
	ppx_hash head;		/* leaf hash of the last committed one */
	ppx_log_batch *batch;	/* the open batch, if any */
	MDB_txn *shared;	/* the transaction reads share, if any */
	int iterating;		/* inside ppx_log_foreach() */
};

static inline void logstore_put_be64(uint8_t out[8], uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		out[i] = (uint8_t)v;
}

static inline uint64_t logstore_get_be64(const uint8_t in[8])
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | in[i];
	return v;
}

/* The tree key of node (level, index): its post-order number, see
 * logstore.c. */
static inline void logstore_tree_key(uint8_t out[8], unsigned level,
				     uint64_t index)
{
	uint64_t m = (index + 1) << level;
	uint64_t n = 2 * m - (uint64_t)__builtin_popcountll(m) - 1 -
		     ((uint64_t)__builtin_ctzll(m) - level);

	logstore_put_be64(out, n);
}

/* The length of the dedupe key of (kind, peer, id), 0 for entries that
 * are not deduplicated: SENT, RECEIVED, RECEIPT_SENT and RECEIPT_RECEIVED
 * entries with a message id are. */
static inline size_t logstore_dedupe_key_len(int kind, const char *peer,
					     size_t id_len)
{
	if (id_len == 0 || kind < PPX__V1__ENTRY_KIND__ENTRY_SENT ||
	    kind > PPX__V1__ENTRY_KIND__ENTRY_RECEIPT_RECEIVED)
		return 0;
	return 2 + (peer ? strlen(peer) : 0) + id_len;
}

/* kind(1) || peer || 0x00 || id into buf (of dedupe_key_len bytes). */
static inline void logstore_dedupe_key(uint8_t *buf, int kind,
				       const char *peer, const uint8_t *id,
				       size_t id_len)
{
	size_t plen = peer ? strlen(peer) : 0;

	buf[0] = (uint8_t)kind;
	if (plen > 0)
		memcpy(buf + 1, peer, plen);
	buf[1 + plen] = 0;
	memcpy(buf + 2 + plen, id, id_len);
}

/* The length of the outbox key prefix of `partner`: partner || 0x00; 0 if
 * the name is empty or too long for a key (with the seq) of `max` bytes. */
static inline size_t logstore_outbox_prefix(uint8_t *buf, const char *partner,
					    size_t max)
{
	size_t plen = partner ? strlen(partner) : 0;

	if (plen == 0 || plen + 1 + 8 > max)
		return 0;
	memcpy(buf, partner, plen);
	buf[plen] = 0;
	return plen + 1;
}

/* Records "<what>: <LMDB's reason><what to do>" for an LMDB or errno
 * result and returns the matching ppx code. */
int ppxi_logstore_fail(int rc, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Records "log <dir>: <what>; <what to do>" and returns PPX_ECORRUPT. */
int ppxi_logstore_corrupt(const ppx_log *log, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* mdb_txn_begin, adopting the map size if another process grew it. */
int ppxi_logstore_txn_begin(ppx_log *log, unsigned flags, MDB_txn **txn);

/* The transaction a read runs in: the shared one if there is one, else a
 * new read-only one, which ppxi_logstore_read_end() ends. */
int ppxi_logstore_read_begin(ppx_log *log, MDB_txn **txn);
void ppxi_logstore_read_end(ppx_log *log, MDB_txn *txn);

/* Node (level, index) of the tree as stored in txn. */
int ppxi_logstore_node_get(ppx_log *log, MDB_txn *txn, unsigned level,
			   uint64_t index, ppx_hash out);

/* ppx_log_foreach(), with the check of each entry against its stored leaf
 * hash left to the visitor when `checked` is 0 (ppx_log_verify() reports
 * a mismatch at its sequence number itself). */
int ppxi_logstore_foreach(ppx_log *self, uint64_t from, uint64_t to,
			  int checked, ppx_log_visit_fn fn, void *ctx);

/* The number of entries in txn's view of the log and the leaf hash of the
 * last one, checked against the entry count and (unless read-only) the
 * stored leaf. */
int ppxi_logstore_read_tail(ppx_log *log, MDB_txn *txn, uint64_t *size,
			    ppx_hash head);

/* The seq the batch's next entry will get. */
uint64_t ppxi_logstore_batch_next(const ppx_log_batch *b);
ppx_log *ppxi_logstore_batch_log(ppx_log_batch *b);

/* The root of the first tree_size entries of the log and its open batch,
 * read through the batch's transaction (a checkpoint signed inside a
 * batch).  ppx_log_root() sees committed entries only. */
int ppxi_logstore_batch_root(ppx_log_batch *b, uint64_t tree_size,
			     ppx_hash out);

/* Puts key -> value (8 bytes, big-endian) into meta in the batch, recorded
 * for replay like every other write.  Fails as ppx_log_append() does. */
int ppxi_logstore_batch_meta(ppx_log_batch *b, const void *key, size_t len,
			     uint64_t value);
/* Removes key from meta in the batch (no change if it is not there). */
int ppxi_logstore_batch_meta_del(ppx_log_batch *b, const void *key, size_t len);
/* Both, as one: del non-zero removes. */
int ppxi_logstore_batch_meta_change(ppx_log_batch *b, const void *key,
				    size_t len, uint64_t value, int del);

/* Doubles the map, up to map_max.  PPX_EFULL when it cannot grow. */
int ppxi_logstore_map_grow(ppx_log *log);

/* ---- runs (logstore_runs.c, logstore_merge.c) -------------------------- */

/* The runs in txn: meta "runs", or format 1 if the log has none. */
int ppxi_runs_load(ppx_log *log, MDB_txn *txn, struct logstore_runs *out);
/* Writes r as meta "runs".  Returns an LMDB result. */
int ppxi_runs_save(ppx_log *log, MDB_txn *txn, const struct logstore_runs *r);
/* The runs lookups probe, oldest first: the sealed runs, then the young
 * one (to UINT64_MAX).  Returns how many (at most RUNS_MAX + 1). */
unsigned ppxi_runs_live(const struct logstore_runs *r,
			struct logstore_run *out);
/* Whether a key of len bytes fits LMDB's limit with r's run numbers. */
static inline int logstore_runs_fit(const ppx_log *log,
				    const struct logstore_runs *r, size_t len)
{
	return r->plen + len <= log->key_max;
}
/* run || key into buf; returns its length. */
size_t ppxi_runs_key(const struct logstore_runs *r, uint32_t run,
		     uint8_t *buf, const void *key, size_t len);
/* The value of a dedupe key, probing the runs newest first.  Returns an
 * LMDB result. */
int ppxi_runs_dedupe_get(ppx_log *log, MDB_txn *txn,
			 const struct logstore_runs *r, const void *key,
			 size_t len, MDB_val *v);
/* The seqs under key in index ix from `from` on, at most max, ascending
 * (*seqs NULL if none). */
int ppxi_runs_seqs(ppx_log *log, MDB_txn *txn, const struct logstore_runs *r,
		   int ix, const void *key, size_t len, uint64_t from,
		   size_t max, uint64_t **seqs, size_t *n);
/* One commit's share of the runs' upkeep, before it commits: seals the
 * young run once it holds young_max entries, starts a merge, and copies
 * and removes a slice; `entries` is how many the commit appended, next
 * the seq of the next.  Returns an LMDB result. */
int ppxi_runs_step(ppx_log *log, MDB_txn *txn, struct logstore_runs *r,
		   uint64_t next, uint64_t entries);
/* 0 if the sealed run of r surely does not hold the dedupe key (without
 * run number), 1 if it may (logstore_filter.c). */
int ppxi_filter_may_hold(ppx_log *log, MDB_txn *txn,
			 const struct logstore_runs *r,
			 const struct logstore_run *run, const uint8_t *key,
			 size_t len);
void ppxi_filters_free(ppx_log *log);

/* Moves a format-1 log to format 2 in one transaction. */
int ppxi_runs_migrate(ppx_log *log);

/* Ends an open batch without committing it (ppx_log_close). */
void ppxi_logstore_batch_free(ppx_log_batch *b);

#endif
