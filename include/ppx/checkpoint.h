/*
 * checkpoint.h — signed statements of a log's Merkle tree, and the offline
 * verification of a whole log.
 *
 * A checkpoint entry at sequence s carries a signed Checkpoint of tree size
 * s: the root over every entry before it.  Receipts carry a checkpoint of
 * the receiver's log that holds the entries they answer (PROTOCOL.md 5.3),
 * so partners hold evidence of each other's logs, and a later consistency
 * proof shows whether a log was rewritten.
 */
#ifndef PPX_CHECKPOINT_H
#define PPX_CHECKPOINT_H

#include <stdint.h>
#include <time.h>

#include "ppx/logstore.h"
#include "ppx/pki.h"

/*
 * Sign a checkpoint of the whole log as it stands and append it as an
 * ENTRY_CHECKPOINT entry in its own commit.  The signed frame is returned in
 * *frame if `frame` is not NULL (caller frees).
 */
int ppx_checkpoint_append(ppx_log *log, ppx_signer *signer,
			  uint8_t **frame, size_t *frame_len,
			  uint64_t *seq_out);

/*
 * The same inside an open batch of `log`: the checkpoint states the tree
 * of every entry before it, the batch's own included, and commits with
 * them.  This is how the daemon puts checkpoints exactly every
 * `checkpoint_every` entries whatever the size of its group commits.
 */
int ppx_checkpoint_append_batch(ppx_log_batch *batch, ppx_log *log,
				ppx_signer *signer, uint64_t *seq_out);

/*
 * Sign a checkpoint of every entry of `log` and its open batch so far
 * (tree size = the batch's next seq, returned in *size_out) WITHOUT
 * appending it: the signed Frame{checkpoint} is returned in *frame
 * (caller frees).  A receipt carries it; the RECEIPT_SENT entry that logs
 * the receipt logs it with it.
 */
int ppx_checkpoint_seal_batch(uint8_t **frame, size_t *frame_len,
			      uint64_t *size_out, ppx_log_batch *batch,
			      ppx_log *log, ppx_signer *signer);

/*
 * Decode the Checkpoint that signed envelope `env` carries (its signature
 * is the caller's to check, against whatever anchor and time it holds)
 * and check that it is one of `agency`, with a 32-byte root and text that
 * is well formed.  PPX_EBODY saying which is not so.  Free with
 * ppx__v1__checkpoint__free_unpacked().
 */
int ppx_checkpoint_decode(Ppx__V1__Checkpoint **out,
			  const Ppx__V1__Envelope *env, const char *agency);

/*
 * Verify a checkpoint frame signed by a known agency certificate (at time
 * `now`, or chain and role only when `now` is 0, for history) and decode it.
 * Free with ppx__v1__checkpoint__free_unpacked().
 */
int ppx_checkpoint_open(Ppx__V1__Checkpoint **out, const ppx_trust *trust,
			const uint8_t *frame, size_t len,
			const char *expected_agency, time_t now);

/* What ppx_log_verify() found. */
typedef struct ppx_verify_report {
	uint64_t entries;	/* entries checked */
	uint64_t signatures;	/* signatures checked */
	uint64_t checkpoints;	/* checkpoints whose root matched */
	int ok;			/* 1: everything matched */
	uint64_t first_bad;	/* when !ok: the first sequence that differs */
	int code;		/* when !ok: a ppx_error code */
	char reason[256];	/* when !ok: what differs */
} ppx_verify_report;

/*
 * Recompute the hash chain and the Merkle tree from the entries, compare
 * them with the stored tree and every signed checkpoint, and check every
 * signature in the log (envelopes sent and received, receipts,
 * checkpoints).  Signatures are judged by chain to the CA and role: a log
 * stays verifiable after its certificates expire.  Returns 0 when the log
 * could be read (the verdict is in `out`), or a negative code.
 */
int ppx_log_verify(ppx_verify_report *out, ppx_log *log,
		   const ppx_trust *trust);

/*
 * The same without the signatures: every entry against its leaf hash, the
 * hash chain and the whole stored tree.  About 2.5 µs per entry
 * (bench_growth), not signature-bound.  The daemon runs it before it
 * starts, as part of ppx_log_check_dir().
 */
int ppx_log_check(ppx_verify_report *out, ppx_log *log);

/*
 * The dedupe, ids and subjects indexes and the outbox checked against the
 * entries, in one read transaction: every record the entries imply is
 * there (for the outbox: each recipient of each sent message that has not
 * receipted it), and each holds no more records than that.  `out` as ppx_log_verify() gives
 * it (first_bad: the entry whose record is missing, or the log's size for
 * a count that differs).  Returns 0 with the verdict in `out`, or a
 * negative code.
 */
int ppx_log_check_indexes(ppx_verify_report *out, ppx_log *log);

/*
 * The log in `dir` opened read-only, every record of every database read
 * (ppx_log_walk()) and then checked -- with ppx_log_verify() if trust is
 * given, else ppx_log_check(), then ppx_log_check_indexes() -- in a child
 * process, so that a B-tree page damaged in a way LMDB does not detect (it
 * trusts its pages) crashes the child rather than the caller: that is
 * reported as PPX_ECORRUPT naming the signal.  Returns 0 with the verdict
 * in `out`, or a negative code with the error set; PPX_ENOTFOUND when
 * there is no log in `dir` yet.
 */
int ppx_log_check_dir(ppx_verify_report *out, const char *dir,
		      const ppx_trust *trust);

#endif
