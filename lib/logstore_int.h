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
 */
#ifndef PPX_LOGSTORE_INT_H
#define PPX_LOGSTORE_INT_H

#include <stdint.h>
#include <string.h>

#include <lmdb.h>

#include "ppx/logstore.h"

#define LOGSTORE_KEY_BUF 512	/* LMDB's default key limit + 1 */

enum {
	DB_LOG, DB_TREE, DB_DEDUPE, DB_IDS, DB_SUBJECTS, DB_OUTBOX, DB_META,
	NUM_DBS
};

const char *ppxi_logstore_db_name(int db); /* "log", "tree", ... */

struct ppx_log {
	MDB_env *env;
	MDB_dbi dbi[NUM_DBS];
	char *dir;
	unsigned flags;		/* enum ppx_log_flags */
	int file;		/* a copy: one data file, no lock file */
	uint64_t map_max;
	size_t key_max;		/* LMDB's largest key, below KEY_BUF */
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

/* Ends an open batch without committing it (ppx_log_close). */
void ppxi_logstore_batch_free(ppx_log_batch *b);

#endif
