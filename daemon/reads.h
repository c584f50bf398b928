/*
 * reads.h — every consultation of the log goes through the daemon and is
 * logged (docs/ppx-reading.md, "How reads are recorded").
 *
 * reads.c is the read broker: a Unix stream socket, read.sock, beside the
 * control socket.  An operator's ppx sends one ReadRequest with its
 * standard output and error; the broker checks the command, the reason
 * and need to know (reads_check.c, reads_about.c), commits an ENTRY_READ,
 * and only then runs ppx as the daemon's user with the caller's
 * descriptors, sending the child's exit status back when it ends.
 * reads_direct.c turns the records that direct readers of the files leave
 * in <log_dir>/reads/ into ENTRY_READ entries, at start and on SIGHUP.
 * `ppx status`, a counting command, is logged in coalesced entries
 * (reads_count).
 */
#ifndef PPXD_READS_H
#define PPXD_READS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>
#include <zmq.h>

#include "ppx/config.h"
#include "ppx/logstore.h"
#include "ppx.pb-c.h"

struct ppxd;
struct reads;

#define READS_SOCKET "read.sock"
#define READS_FRAME_MAX (64 * 1024)	/* one request or reply frame */
#define READS_RUNNING_MAX 16		/* reads answered at once */
#define READS_RUNNING_PER_UID 4		/* of them, one caller's */
#define READS_CONNS_MAX 64		/* connections, running or not */
#define READS_ARGS_MAX 32		/* argv items of one read */
#define READS_ARG_LEN_MAX 1024		/* bytes of one argv item */
#define READS_REASON_MAX 1024		/* bytes of a reason */
#define READS_SUBJECTS_MAX 8		/* --subject options of one read */
#define READS_KEYS_MAX 32		/* subject keys an entry carries */
#define READS_IDS_MAX 16		/* message ids an entry carries */
#define READS_CASE_ENTRIES_MAX 5000	/* entries per subject key looked at
					 * for need to know: the check runs
					 * in the event loop; a record past
					 * them is not found (refused) */
#define READS_GRANT_ENV "PPX_READ_GRANT"
#define READS_GRANT_MAX_AGE_MS 60000	/* a child starts well within it */
#define READS_DIRECT_DIR "reads"	/* in the log directory */
#define READS_RECORD_MAX (64 * 1024)	/* bytes of a direct-read record */

/* ---- the broker (reads.c) ---------------------------------------------- */

/* The socket, and the direct-read records left since the last run. */
int reads_new(struct reads **out, struct ppxd *d);
/* Kills the reads still running (their clients are told nothing more). */
void reads_free(struct reads **self);

size_t reads_poll_max(void);
size_t reads_poll_items(struct ppxd *d, zmq_pollitem_t *items, size_t max);
/* The loop's timeout, lowered to the first request deadline. */
long reads_timeout(struct ppxd *d, long max);
/* Accept, read requests, notice clients gone and children ended. */
void reads_handle(struct ppxd *d);
/* On the way out: stop the children, log the pending counts. */
void reads_stop(struct ppxd *d);

/* A counting command (`status`) by `op` (NULL: not an operator, uid
 * `uid`): logged as one ENTRY_READ per person per counting_log_ms. */
void reads_count(struct ppxd *d, const struct ppx_operator *op, uid_t uid,
		 const char *command);

/* One ENTRY_READ (docs/ppx-reading.md): strings may be NULL for "". */
struct read_entry {
	const char *person;
	const char *command;
	const char *scope;
	const char *reason;
	const char *detail;
	const struct read_about *about;	/* subject keys, message ids */
	int emergency;
	const char *reviewer;
	int64_t review_due_ms;
	int direct;
	int64_t read_ms;
	uint32_t count;
};

/* Into this iteration's batch. */
int reads_log_entry(struct ppxd *d, const struct read_entry *r,
		    uint64_t *seq);

/* ---- direct reads (reads_direct.c) -------------------------------------- */

/* <log_dir>/reads/, made if missing (group may write: see the docs). */
int reads_direct_dir(struct ppxd *d);
/* Each record in <log_dir>/reads/ into an ENTRY_READ of this iteration's
 * batch, then removed; a malformed one is logged and moved aside. */
void reads_direct_ingest(struct ppxd *d);

/* ---- what a read is about (reads_about.c) ------------------------------ */

struct read_plan;

/* The subjects and messages of one read, for its entry and for need to
 * know. */
struct read_about {
	char *keys[READS_KEYS_MAX];	/* subject keys, owned */
	size_t n_keys;
	uint8_t ids[READS_IDS_MAX][PPX_LOG_ID_LEN];	/* messages named */
	size_t n_ids;
	int every;		/* names no subject: reads every subject */
	int more;		/* a reference matched as many ids as are
				 * looked at: it may name more */
};

/* From plan `p` and the log (`ours`: our agency name).  0 or the log's
 * error; free with reads_about_free(). */
int reads_about(struct read_about *a, ppx_log *log, const char *ours,
		const struct read_plan *p);
void reads_about_free(struct read_about *a);

/* 1 if `op` needs to know what `a` is about under their need_to_know;
 * 0 with `why` saying which rule refuses; < 0 on a log error. */
int reads_need_to_know(ppx_log *log, const struct ppx_config *cfg,
		       const struct ppx_operator *op,
		       const struct read_plan *p, const struct read_about *a,
		       char *why, size_t cap);

/* ---- pure checks (reads_check.c) ---------------------------------------- */

/* What one read asks for, from its argv (the command first). */
struct read_plan {
	const char *command;
	int counting;		/* report: figures, no content */
	int no_reason;		/* due, report: no reason needed */
	const char *subjects[READS_SUBJECTS_MAX];	/* as given */
	size_t n_subjects;
	const char *ref;	/* show, prove: the message reference */
	int has_seq;		/* prove --seq N */
	uint64_t seq;
	char scope[1024];	/* the arguments as given */
};

/*
 * Check a read's argv as hostile input and say what it asks for: an
 * allowed command, at most READS_ARGS_MAX items of printable text, only
 * options that read this log and write nothing but standard output (no
 * --log, --config, --output, files of any kind), at most one positional
 * argument.  0, or PPX_EINVAL with the error set.  READS_PLAN_FILES
 * lets --deadlines FILE through: for a caller who can read whatever the
 * daemon can (root, or the daemon's own user).
 */
#define READS_PLAN_FILES 1u
int reads_plan(struct read_plan *p, char *const *argv, size_t argc,
	       unsigned flags);

/* Inside working hours: Monday to Friday, 08:00 to 18:00 (local time). */
/* Whether `s` is one acceptable argv item: 1 to READS_ARG_LEN_MAX bytes
 * of printable UTF-8. */
int reads_item_ok(const char *s);

/* A read's --reason (may be ""): 0, or PPX_EINVAL with the error set —
 * longer than READS_REASON_MAX, only spaces, not UTF-8, or holding a
 * control character. */
int reads_reason_check(const char *reason);

int reads_in_hours(const struct tm *local);

/* Whether a read needs a reason under `rule` (enum ppx_reason_rule) at
 * local time `local`; counting commands never do. */
int reads_reason_needed(int rule, int counting, const struct tm *local);

#endif
