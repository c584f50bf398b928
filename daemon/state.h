/*
 * state.h — the state of one running daemon, shared by its modules.
 *
 * ppxd is a single-threaded event loop (main.c).  Each iteration drains
 * what is ready on every socket; everything it must log goes into one
 * batch (writer.c) that is committed once, with one fsync, at the end of
 * the iteration.  Only then are receipts sent, control replies answered and
 * new messages handed to the outbox: nothing leaves the daemon that claims
 * more than the disk holds.
 *
 * The flow of a message: control.c / spool.c -> submit.c (log SENT) ->
 * writer.c (commit) -> outbox.c -> transport.c -> partner ... partner's
 * receipt -> transport.c -> outbox.c (log RECEIPT_RECEIVED).  And inbound:
 * transport.c -> inbound.c (receive check, policy, log RECEIVED and
 * RECEIPT_SENT) -> receipt back (docs/ARCHITECTURE.md).
 *
 * The modules include this header and never ppxd.h: the loop (ppxd.c)
 * calls the modules, and they reach the state it owns only through this
 * struct and the two helpers below (state.c), so that no module calls
 * back into the loop.
 */
#ifndef PPXD_STATE_H
#define PPXD_STATE_H

#include <stdint.h>

#include "ppx/config.h"
#include "policy.h"
#include "ppx/logstore.h"
#include "ppx/pki.h"

#define PPXD_REASONS 32

struct zap;
struct transport;
struct outbox;
struct control;
struct writer;
struct events;
struct hooks;
struct spool;
struct budget;
struct signer_proc;
struct witness;
struct changes;
struct reads;
struct federation;
struct ppx_directory;
struct partners;
struct stats;

struct ppxd {
	struct ppx_config *cfg;
	ppxd_policy *policy;
	ppx_trust *trust;
	ppx_signer *signer;
	struct signer_proc *signer_proc;	/* where signer's key is, or
						 * NULL: in this process */
	ppx_log *log;
	void *zctx;
	struct zap *zap;
	struct transport *transport;
	struct outbox *outbox;
	struct control *control;
	struct writer *writer;
	struct events *events;		/* the event stream (events.c) */
	struct hooks *hooks;		/* durable hooks (hooks.c) */
	struct spool *spool;		/* the spool directory (spool.c) */
	struct budget *budget;		/* partners' budgets (budget.c) */
	struct witness *witness;	/* witnessing (witness.c) */
	struct changes *changes;	/* the files in force (changes.c) */
	struct restore *restore;	/* restores, ours and partners' (restore.c) */
	struct reads *reads;		/* the read broker (reads.c) */
	struct federation *federation;	/* directory and CRL intake and
					 * forwarding (federation.c); NULL
					 * without [federation] directory */
	/* The directory in force, owned by federation.c, read by
	 * partners.c and the checks; NULL: none (partners from the
	 * [partner] sections only). */
	struct ppx_directory *directory;
	/* Its baseline_policy, loaded; NULL: none.  A message passes only
	 * if this and d->policy both let it (policy.c callers). */
	ppxd_policy *baseline;
	/* What the directory in force made of each partner (partners.c);
	 * NULL until one is applied. */
	struct partners *partners;
	uint64_t refusals[PPXD_REASONS];	/* by RejectReason */
	struct stats *stats;		/* per partner counters (stats.c);
					 * NULL until the first count */
	uint64_t discarded;		/* frames of blocked partners, unanswered */
	uint64_t receipts_unproven;	/* partners' receipts refused: their
					 * proof of recording failed */
	int64_t started_ms;
	struct logaudit *logaudit;	/* the log's checks (logaudit.c) */
	uint64_t checkpoint_size;	/* tree size the last checkpoint states
					 * (the log size at start-up) */
	struct {			/* the CRL file, watched (ppxd.c) */
		int64_t checked_ms;
		struct crl_file_id {
			long long mtime_ns, size, ino;
		} seen;			/* the file as last loaded */
		int stale;		/* past its nextUpdate: warned */
	} crl;
	struct expiry *expiry;		/* certificates' and CRL's expiry
					 * watch (expiry.c) */
	int stopping;
};

/* 1 if `agency` (a partner, or this agency) is a duty-to-co-operate
 * agency, whose need to know is judged by its cases (PROTOCOL.md 3.5):
 * a [duty-to-cooperate] section of the policy or of the directory's
 * baseline says so, or its [partner] type, or, with a directory in
 * force, its listed type (any but police, probation and prison; 13.4). */
int ppxd_duty_to_cooperate(const struct ppxd *d, const char *agency);

/* Count a refusal (a ppx_error code) under its wire reason. */
void ppxd_count_refusal(struct ppxd *d, int code);

/* The content of the Frame in `data` (a PPX__V1__FRAME__CONTENT_* value)
 * read from its top-level tags as protobuf reads them: the last content
 * field counts.  0 if the tags do not parse or none is there; the
 * message pipeline refuses such a frame. */
int ppxd_frame_content(const uint8_t *data, size_t len);



/* Unix time in milliseconds. */
int64_t ppxd_now_ms(void);

#endif
