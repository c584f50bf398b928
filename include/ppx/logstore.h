/*
 * logstore.h — the append-only, tamper-evident log in LMDB.
 *
 * This module is the only one that touches LMDB.  One environment per
 * daemon, with these databases:
 *
 *   log       big-endian uint64 seq -> serialised LogEntry (MDB_APPEND only)
 *   tree      node number (8, BE) -> 32-byte RFC 6962 hash of the complete
 *             subtree of 2^level leaves starting at index << level; node
 *             (level, index) is numbered in the order nodes complete
 *             (post-order): 2m - popcount(m) - 1 - (ctz(m) - level) with
 *             m = (index + 1) << level, so this database too is only ever
 *             appended to (MDB_APPEND)
 *   dedupe    run(4) || kind(1) || peer || 0x00 || message id -> seq
 *   ids       run(4) || message id -> seq, duplicates sorted (every entry
 *             about it: its message_id and each of its related_ids)
 *   subjects  run(4) || subject key ("pnc:..") -> seq, duplicates sorted
 *             (the three indexes are sorted runs, merged a slice per
 *             commit so that a commit's bytes stay flat as the log grows:
 *             logstore_runs.c; a log of format 1 has no run numbers)
 *   outbox    partner || 0x00 || seq (8, BE) -> empty: SENT entries still
 *             waiting for that partner's receipt
 *   meta      named values ("format" -> 4-byte BE version, 2;
 *             "runs" -> the list of index runs;
 *             "cursor/" || name -> 8-byte BE seq, see the cursors below;
 *             "mark/" || set || 0x00 || seq (8, BE) -> 8-byte BE value,
 *             see the marks below)
 *
 * Every entry's prev_hash is the RFC 6962 leaf hash of the entry before it
 * (32 zero bytes for entry 0), so the log is a hash chain as well as the
 * leaves of a Merkle tree.  Entries are never changed or deleted; the
 * indexes can be rebuilt from the log.
 *
 * Appends are grouped: a batch is one write transaction and one fsync.  A
 * batch that hits MDB_MAP_FULL grows the map and is replayed; if the disk
 * itself is full the batch fails with PPX_EFULL and nothing of it is kept,
 * while everything committed earlier stays.  A commit that returned 0 is
 * durable (LMDB's default synchronous commit).
 *
 * A ppx_log belongs to one thread; the daemon is the one writer.  Other
 * processes may open the same directory read-only (LMDB forbids opening it
 * twice in one process).  Size, head, roots and proofs are those of the
 * entries committed through this handle (or present when it was opened).
 * While a batch is open, reads see its uncommitted entries too.
 */
#ifndef PPX_LOGSTORE_H
#define PPX_LOGSTORE_H

#include <stddef.h>
#include <stdint.h>

#include "ppx/merkle.h"
#include "ppx.pb-c.h"

typedef struct ppx_log ppx_log;
typedef struct ppx_log_batch ppx_log_batch;

enum ppx_log_flags {
	PPX_LOG_READONLY = 1 << 0,	/* open read-only (ppx verify, ppx log) */
};

typedef struct ppx_log_options {
	uint64_t map_size;	/* initial map size in bytes; 0: 64 MiB */
	uint64_t map_max;	/* the map never grows beyond; 0: 1 TiB */
	unsigned flags;		/* enum ppx_log_flags */
	/* The index runs (PROTOCOL.md 6.2): entries the young run takes
	 * before it is sealed (0: 16384), and the records per index a
	 * commit's share of a merge copies (0: 16 per entry the commit
	 * appends, at least 512 and at most 16,000).  Tests set them low. */
	uint64_t run_entries;
	uint64_t run_slice;
} ppx_log_options;

/* Open (and create, mode 0700, unless read-only) the log in directory
 * `dir`.  `opts` may be NULL; map_size below 64 KiB is raised to it.  An
 * existing log keeps the map size it grew to.  PPX_ENOTFOUND for a
 * read-only open where there is no log; PPX_ECORRUPT for a file that is not
 * a ppx log, a format this build does not read, or (writable open only, so
 * that ppx verify can still read a damaged log) a last entry that does not
 * match its stored leaf hash. */
int ppx_log_open(ppx_log **out, const char *dir, const ppx_log_options *opts);
void ppx_log_close(ppx_log *self);	/* aborts an open batch; NULL ok */

/* What the open did that its caller should log, or NULL: a writable open
 * of a log of format 1 moves it to the current format first, in one
 * transaction (a crash leaves it in format 1), and says so here. */
const char *ppx_log_notice(ppx_log *self);

/* Number of entries (the next sequence number). */
uint64_t ppx_log_size(ppx_log *self);

/* The leaf hash of the last entry (zeros for an empty log). */
void ppx_log_head(ppx_log *self, ppx_hash out);

/*
 * Batches.  ppx_log_append() assigns entry->seq, entry->prev_hash (pointing
 * into the batch; valid until commit or abort, so the entry must not be one
 * that ppx__v1__log_entry__free_unpacked() will free) and entry->time_ms if
 * zero, and writes it; nothing else of the entry is changed.  If `entry` is
 * a SENT, RECEIVED, RECEIPT_SENT or RECEIPT_RECEIVED entry with a message id
 * that is already in the log or this batch for the same kind and peer,
 * nothing is written, the entry is untouched and PPX_EDUP is returned with
 * the original's seq in *seq_out (which may be NULL).  Any other failure
 * also leaves the entry as it was; after PPX_EFULL or an LMDB failure the
 * batch can only be aborted (commit returns the same error).
 *
 * One batch at a time per log (PPX_EINVAL otherwise); PPX_EPERM on a
 * read-only log.
 */
int ppx_log_begin(ppx_log_batch **out, ppx_log *log);
int ppx_log_append(ppx_log_batch *batch, Ppx__V1__LogEntry *entry,
		   uint64_t *seq_out);
/* Commit (one fsync).  The batch is freed whatever the result. */
int ppx_log_commit(ppx_log_batch *batch);
void ppx_log_abort(ppx_log_batch *batch);

/* The seq the next entry appended to the batch will get. */
uint64_t ppx_log_batch_next(const ppx_log_batch *batch);

/*
 * The bytes of entry `seq` as the batch stored them (packed, with seq,
 * prev_hash and time_ms filled in): *out points into the batch and stays
 * valid until it ends.  PPX_ERANGE if `seq` was not appended in this batch.
 */
int ppx_log_batch_entry(const uint8_t **out, size_t *len,
			const ppx_log_batch *batch, uint64_t seq);

/* The audit path of entry `seq` in the tree of the first `tree_size`
 * entries of the log and its open batch (ppx_log_inclusion_proof() sees
 * committed entries only).  `path` has room for PPX_MERKLE_MAX_PATH. */
int ppx_log_batch_inclusion_proof(ppx_log_batch *batch, uint64_t seq,
				  uint64_t tree_size, ppx_hash *path,
				  size_t *path_len);

/* A batch of one. */
int ppx_log_append_one(ppx_log *log, Ppx__V1__LogEntry *entry,
		       uint64_t *seq_out);

/*
 * The outbox, changed in a batch so that it commits with the entries it is
 * about: add when the SENT entry `seq` is appended (it must be in the log
 * or the batch: PPX_ERANGE otherwise), delete when the partner's receipt
 * is.  Adding a key that is there or deleting one that is not changes
 * nothing.  ppx_log_outbox_list() gives the seqs waiting for `partner`,
 * ascending, at most `max`; *seqs is malloc'd (caller frees; NULL when *n
 * is 0).  PPX_EINVAL for an empty partner name.
 */
int ppx_log_outbox_add(ppx_log_batch *batch, const char *partner,
		       uint64_t seq);
int ppx_log_outbox_del(ppx_log_batch *batch, const char *partner,
		       uint64_t seq);
int ppx_log_outbox_list(ppx_log *self, const char *partner, uint64_t **seqs,
			size_t *n, size_t max);

/*
 * Named cursors: for each consumer of the log (a hook), the seq of the next
 * entry it has not yet taken.  A cursor moves in a batch, so that it
 * commits with whatever else the batch holds and survives a crash exactly
 * as the entries do.  `name` is 1 to 128 bytes of printable ASCII without
 * spaces (PPX_EINVAL otherwise); it is stored in meta as "cursor/" || name.
 * Setting a cursor beyond the end of the log and the batch is PPX_ERANGE.
 * ppx_log_cursor_get() gives PPX_ENOTFOUND for a cursor never set (callers
 * start from 0); while a batch is open it sees the batch's value.
 */
#define PPX_LOG_CURSOR_NAME_MAX 128
int ppx_log_cursor_get(ppx_log *self, const char *name, uint64_t *next_seq);
int ppx_log_cursor_set(ppx_log_batch *batch, const char *name,
		       uint64_t next_seq);

/*
 * Marks: named sets of entries behind a cursor, each with an 8-byte value
 * (a hook's quarantine: the entries it set aside, each with the seq of the
 * log entry that says why).  Stored in meta as "mark/" || set || 0x00 ||
 * seq (8, BE) -> value (8, BE); `set` is named as a cursor is.  They change
 * in a batch and commit with it; `seq` must be in the log or the batch
 * (PPX_ERANGE).  Deleting a mark that is not there changes nothing.
 * ppx_log_mark_list() gives at most `max` marks of a set in seq order;
 * *out is malloc'd (caller frees; NULL when *n is 0).
 */
struct ppx_log_mark {
	uint64_t seq;
	uint64_t value;
};
int ppx_log_mark_put(ppx_log_batch *batch, const char *set, uint64_t seq,
		     uint64_t value);
int ppx_log_mark_del(ppx_log_batch *batch, const char *set, uint64_t seq);
int ppx_log_mark_list(ppx_log *self, const char *set,
		      struct ppx_log_mark **out, size_t *n, size_t max);
/* The mark of `set` with the largest seq (the newest), in one lookup
 * however many the set holds; PPX_ENOTFOUND when it holds none. */
int ppx_log_mark_newest(ppx_log *self, const char *set,
			struct ppx_log_mark *out);

/* A copy of the stored bytes of entry `seq` (caller frees). PPX_ENOTFOUND. */
int ppx_log_get_raw(ppx_log *self, uint64_t seq, uint8_t **out, size_t *len);

/* Entry `seq`, decoded; free with ppx__v1__log_entry__free_unpacked(). */
int ppx_log_get(ppx_log *self, uint64_t seq, Ppx__V1__LogEntry **out);

/* The seq of the entry of `kind` about message `id` from/to `peer` (NULL:
 * ""): the dedupe index for the four message kinds, else the first such
 * entry among those about the message.  PPX_ENOTFOUND. */
int ppx_log_find(ppx_log *self, int kind, const char *peer,
		 const uint8_t *id, size_t id_len, uint64_t *seq_out);

/* All entries about message `id`, or about subject `key`, ascending.
 * A message id is unique per sender only: the entries about `id` may be
 * about messages of several agencies (a RECEIVED or REJECTED entry is
 * about its peer's, a SENT one about ours), and a caller after one
 * message keeps those of its sender.
 * *seqs is malloc'd (caller frees; NULL when *n is 0); at most `max` are
 * returned.  None is not an error. */
int ppx_log_by_message(ppx_log *self, const uint8_t *id, size_t id_len,
		       uint64_t **seqs, size_t *n, size_t max);
/* The same from entry `from` on: what followed a known entry, however
 * many entries a partner logged under the id before it. */
int ppx_log_by_message_from(ppx_log *self, const uint8_t *id, size_t id_len,
			    uint64_t from, uint64_t **seqs, size_t *n,
			    size_t max);
int ppx_log_by_subject(ppx_log *self, const char *key, uint64_t **seqs,
		       size_t *n, size_t max);

/* The message ids (of PPX_LOG_ID_LEN bytes) in the ids index whose hex
 * form starts with the first `nibbles` hex digits of `prefix` (1 to 32),
 * ascending and each once, at most `max` of them into ids; *n says how
 * many.  An id names a message only together with its sender: each id
 * found may stand for messages of several agencies. */
#define PPX_LOG_ID_LEN 16
/* How many ids a message reference's prefix is resolved to, by ppx and
 * ppxd alike; as many found means there may be more. */
#define PPX_LOG_REF_IDS_MAX 64
int ppx_log_ids_by_prefix(ppx_log *self, const uint8_t *prefix,
			  size_t nibbles, uint8_t (*ids)[PPX_LOG_ID_LEN],
			  size_t max, size_t *n);

/* Merkle tree over the entries: sizes beyond ppx_log_size() and leaves at
 * or beyond tree_size are PPX_ERANGE; `path` has room for
 * PPX_MERKLE_MAX_PATH hashes. */
int ppx_log_root(ppx_log *self, uint64_t tree_size, ppx_hash out);
int ppx_log_leaf(ppx_log *self, uint64_t seq, ppx_hash out); /* stored node */
int ppx_log_inclusion_proof(ppx_log *self, uint64_t seq, uint64_t tree_size,
			    ppx_hash *path, size_t *path_len);
int ppx_log_consistency_proof(ppx_log *self, uint64_t old_size,
			      uint64_t new_size, ppx_hash *path,
			      size_t *path_len);

/*
 * Iterate entries [from, to) in order (to is capped at ppx_log_size()),
 * calling fn with the raw stored bytes, valid during the call only.  Stops
 * early if fn returns non-zero, and returns that value.  Runs in one read
 * transaction per chunk of 1024 entries so that readers stay short.  fn may
 * call the reading functions of this log (they share the chunk's
 * transaction) but may not begin a batch; PPX_EINVAL while a batch is open.
 */
typedef int (*ppx_log_visit_fn)(void *ctx, uint64_t seq, const uint8_t *data,
				size_t len);
int ppx_log_foreach(ppx_log *self, uint64_t from, uint64_t to,
		    ppx_log_visit_fn fn, void *ctx);

/*
 * Read every record of every database of the log, keys and values byte by
 * byte, in one read transaction; *records is how many.  A damaged B-tree
 * page shows up as an error here, or as a crash of the reading process:
 * run it where that is survivable (ppx_log_check_dir()).
 */
int ppx_log_walk(ppx_log *self, uint64_t *records);

/*
 * A consistent, compacted copy of the log's data file written to `fd` (a
 * file or a pipe), in one read transaction: one committed state, while a
 * writer in another process goes on (ppx backup).  A read-only open of a
 * regular file instead of a directory reads such a copy, without a lock
 * file.  PPX_EINVAL while a batch is open.
 */
int ppx_log_copy_fd(ppx_log *self, int fd);

/* Current map size in bytes (for tests and status). */
uint64_t ppx_log_map_size(ppx_log *self);

#endif
