/*
 * hooks_int.h — inside the durable hooks: the state of each hook, shared
 * by hooks.c (running commands, cursors, retries) and hooks_quarantine.c
 * (the entries a hook set aside, and the operators' decisions on them).
 */
#ifndef PPXD_HOOKS_INT_H
#define PPXD_HOOKS_INT_H

#include <stdint.h>
#include <sys/types.h>

#include "ppx/config.h"
#include "ppx.pb-c.h"

struct events_entry;

#define HOOK_TAIL 1000		/* bytes of output kept */
#define HOOK_ERROR_MAX (HOOK_TAIL + 160)
/* Longest answer line of a streaming hook (docs/HOOKS.md). */
#define HOOK_ANSWER_MAX 1024
/* Entries one hook may hold set aside; beyond, it stops instead. */
#define HOOK_QUARANTINE_MAX 1000

struct ppxd;

/* An entry the hook set aside (docs/HOOKS.md, "Quarantine"). */
struct hook_quarantined {
	uint64_t seq;		/* the entry */
	uint64_t why_seq;	/* its ENTRY_HOOK_QUARANTINE entry */
	int64_t since_ms;	/* when it was set aside */
	int retry;		/* an operator asked to run it again */
	char last_error[HOOK_ERROR_MAX];
};

/* A streaming hook's batch apart from the one in flight (hooks_stream.c). */
struct hook_batch {
	char *input;		/* its JSON lines, without "end SEQ" */
	size_t input_len;
	uint64_t *bseq;
	int *bkind;
	size_t bn, bcap;
};

struct hook {
	const struct ppx_hook_config *cfg;
	char cursor[8 + PPX_CONFIG_HOOK_NAME_MAX]; /* "hook/NAME" */
	uint64_t next;		/* next entry not yet stored or skipped */
	uint64_t saved;		/* the cursor as last put in a batch */
	/* The run in flight, if pid != 0. */
	pid_t pid;
	uint64_t seq;
	int seq_kind;		/* the EntryKind of entry seq */
	int in_fd, out_fd;	/* our ends of its stdin and output; -1 */
	int err_fd;		/* mode = stream: its stderr apart; -1 */
	char *input;
	size_t input_len, input_off;
	int64_t started_ms, term_ms;
	char tail[HOOK_TAIL];
	size_t tail_len;
	/* Failures of the entry worked on: the one at `next`, or, while
	 * `retrying`, the quarantined entry `seq` an operator retries. */
	uint32_t failures;
	int64_t failing_since_ms, retry_at_ms;
	char last_error[HOOK_ERROR_MAX];
	uint64_t delivered;
	int retrying;
	/* The quarantine, in seq order, and whether a new entry may join it
	 * (not until the hook stored one since the last did). */
	struct hook_quarantined *q;
	size_t nq, capq;
	int may_quarantine;
	Ppx__V1__HookQuarantined *qstatus, **qstatus_p;
	/* mode = stream (hooks_stream.c): the process lives on between
	 * batches; the batch in flight (bn > 0) was handed over at
	 * started_ms.  `killed`: we killed the process and counted the
	 * failure; it is yet to be reaped. */
	uint64_t *bseq;		/* the batch's entries, in order */
	int *bkind;		/* and their EntryKinds */
	size_t bn, bcap;
	/* The next batch, built while the process stores the one in
	 * flight and handed over when that one is answered ok.  `ahead_tried`:
	 * built (maybe empty) for the batch in flight; `ahead_due`: that one
	 * was answered ok in this turn, and this one may go; `ahead_sent`: the
	 * batch in flight went so, to a process that may have ended after its
	 * ok, between batches as it saw it. */
	struct hook_batch ahead;
	int ahead_tried, ahead_due, ahead_sent;
	int killed;
	char answer[HOOK_ANSWER_MAX];	/* the answer line being read */
	size_t answer_len;
};

struct hooks {
	struct hook *v;
	size_t n;
	int stopping;		/* hooks_stop(): processes are told to end */
	Ppx__V1__HookStatus *status;
	Ppx__V1__HookStatus **status_p;
};

/* hooks.c, shared with hooks_stream.c */

/* Whether the hook takes entry v (its filters). */
int hook_wants(const struct ppx_hook_config *c, struct events_entry *v);
/* Move h's cursor to h->next in this iteration's batch. */
void hook_cursor_save(struct ppxd *d, struct hook *h);
int hook_stuck(const struct hook *h, int64_t now);
/* Entry h->seq was not stored: count it, log it, schedule the retry. */
void hook_failed(struct hook *h, int64_t now, const char *what);
/* Entry h->seq was stored: the cursor moves past it, in this commit. */
void hook_stored(struct ppxd *d, struct hook *h);
void hook_close_fd(int *fd);
/* Close h's pipes and forget its process (reaped already). */
void hook_run_clear(struct hook *h);
void hook_tail_add(struct hook *h, const char *buf, size_t n);
void hook_tail_read(struct hook *h, int *fd, int max);
int hook_spawn(struct ppxd *d, struct hook *h, const int in[2],
	       const int out[2], const int err[2]);
void hook_outcome(const struct hook *h, int status, char *out, size_t cap);

/* hooks_stream.c: mode = stream */

/* Whether h has a batch in flight or a killed process to reap. */
int hook_stream_busy(const struct hook *h);
/* Hand the next batch from h->next (or the quarantined entry h->seq an
 * operator retries, if h->retrying) to h's process, starting it if
 * needed. */
void hook_stream_next(struct ppxd *d, struct hook *h, int64_t now);
void hook_stream_retry(struct ppxd *d, struct hook *h, int64_t now);
/* Feed, read and reap h's process; kill it on a bad or late answer. */
void hook_stream_io(struct ppxd *d, struct hook *h, int64_t now);
/* When h needs the loop again (into *due); 0 if it does not. */
int hook_stream_due(const struct hook *h, int64_t now, int work,
		    int64_t *due);
/* At shutdown: stdin closed once no batch is in flight. */
void hook_stream_stop(struct ppxd *d, struct hook *h, int64_t now);
void hook_stream_free(struct hook *h);

/* hooks_quarantine.c */

/* Load h's quarantine from the log (its marks and their entries). */
int hook_quarantine_load(struct ppxd *d, struct hook *h);
void hook_quarantine_free(struct hook *h);

/* After a failed run of entry h->seq: if h's policy says so, set it aside
 * (log ENTRY_HOOK_QUARANTINE, mark it, and move past it) and return 1;
 * else 0, and it is tried again as before. */
int hook_quarantine_maybe(struct ppxd *d, struct hook *h, int64_t now);

/* A quarantined entry the hook was retrying has been stored. */
void hook_quarantine_stored(struct ppxd *d, struct hook *h);

/* The quarantined entry an operator asked to retry, if any: its index. */
int hook_quarantine_next_retry(const struct hook *h, size_t *index);

/* Into s: h's quarantine and on_failure. */
void hook_quarantine_status(struct hook *h, Ppx__V1__HookStatus *s);

#endif
