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
	uint64_t from;		/* the first entry checked: the check seal's
				 * (ppx_log_check_sealed()), else 0 */
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
 * The same with the signatures checked by `jobs` threads, thread t with
 * trusts[t] (each its own store, loaded alike: a directory entry's
 * certificates are added to each).  Same verdict and report as
 * ppx_log_verify() for any number of jobs.
 */
int ppx_log_verify_jobs(ppx_verify_report *out, ppx_log *log,
			const ppx_trust *const *trusts, unsigned jobs);

/*
 * The same without the signatures: every entry against its leaf hash, the
 * hash chain and the whole stored tree.  About 2.5 µs per entry
 * (bench_growth), not signature-bound.  The daemon runs it before it
 * starts, as part of ppx_log_check_dir().
 */
int ppx_log_check(ppx_verify_report *out, ppx_log *log);

/*
 * The start-up check: ppx_log_check() from the check seal on.  Every
 * checkpoint entry's commit puts its seq in meta ("check/seal"); what
 * lies before it was checked when it was written and is checked in full
 * by ppx_log_check() (the daemon's background check, ppx verify).  From
 * the seal: the entry it names is a checkpoint whose root equals the
 * stored tree's at its tree size; the stored leaf before it is the
 * chain's link; then every entry to the end as ppx_log_check() checks
 * it, each checkpoint's root included, and the stored root at the end.
 * A log without a seal (made before it existed) is checked whole.
 * out->from names the seal.  Returns as ppx_log_verify().
 */
int ppx_log_check_sealed(ppx_verify_report *out, ppx_log *log);

/* The seq the check seal names: 0, PPX_ENOTFOUND if there is none, or a
 * negative code. */
int ppx_log_seal(ppx_log *log, uint64_t *seq);

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
 * The same for entries [from, end) only: each one's dedupe, ids and
 * subjects records are there.  The counts and the outbox, which follow
 * from the whole log, are left to ppx_log_check_indexes().  from 0 is
 * ppx_log_check_indexes().
 */
int ppx_log_check_indexes_from(ppx_verify_report *out, ppx_log *log,
			       uint64_t from);

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

/* What ppx_log_check_dir_mode() checks. */
enum ppx_log_check_mode {
	PPX_CHECK_FULL,		/* as ppx_log_check_dir() */
	PPX_CHECK_SEALED,	/* ppx_log_check_sealed(), then the tail's
				 * indexes (ppx_log_check_indexes_from()):
				 * no walk of the whole file */
};

int ppx_log_check_dir_mode(ppx_verify_report *out, const char *dir,
			   const ppx_trust *trust,
			   enum ppx_log_check_mode mode);

/* ppx_log_check_dir() with ppx_log_verify_jobs(): trusts[0..jobs-1]. */
int ppx_log_check_dir_jobs(ppx_verify_report *out, const char *dir,
			   const ppx_trust *const *trusts, unsigned jobs);

/*
 * The full check (ppx_log_check_dir() without trust) in a child process
 * left running: at nice 19 and SCHED_IDLE, with no descriptor of the
 * caller's but its pipe, killed if the caller dies.  Call before any
 * thread exists.  ppx_log_check_poll() never blocks: *done 0 while it
 * runs; once *done is 1 it returns as ppx_log_check_dir() does.
 * ppx_log_check_cancel() kills and reaps a check still running.
 */
typedef struct ppx_log_check_job {
	int pid;
	int fd;			/* the verdict's pipe, -1 when read */
	char dir[4096];
} ppx_log_check_job;

int ppx_log_check_spawn(ppx_log_check_job *job, const char *dir);
int ppx_log_check_poll(ppx_log_check_job *job, ppx_verify_report *out,
		       int *done);
void ppx_log_check_cancel(ppx_log_check_job *job);

#endif
