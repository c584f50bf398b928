/*
 * budget.h — what each partner may cost us: a refusal budget, a log-growth
 * quota, and rate-limited reports of refused connections.
 *
 * A partner is trusted to be who it is (CURVE, ZAP, signatures), not to
 * behave.  budget.c keeps, per partner agency, the counts that bound what
 * its frames can make this daemon do (PROTOCOL.md section 7, "Budgets"):
 *
 *   refusals  frames of it refused for a permanent reason within
 *             refusal_window_ms of the first; more than refusal_budget
 *             starts a block episode: its own connections are cut (no
 *             other partner's: inbound.c, transport_zmq.c) and ZAP refuses
 *             its key for block_initial_ms, doubled per episode up to
 *             block_max_ms;
 *   quota     log bytes its frames caused (its RECEIVED and REJECTED
 *             entries and the RECEIPT_SENT entries answering it) in the
 *             last hour, in one-minute buckets; a message that would pass
 *             log_quota_bytes_hour is refused REJECT_OVER_QUOTA, transient,
 *             and nothing of it is logged;
 *   reports   refused handshakes, one report per key (agency, or CURVE key
 *             when no agency is known) per refusal_log_ms, with the count.
 *
 * The module knows nothing of sockets or the log: it counts and decides,
 * and its callers (inbound.c, zap.c) act.  Times are Unix milliseconds,
 * passed in, so that tests can drive it.
 */
#ifndef PPXD_BUDGET_H
#define PPXD_BUDGET_H

#include <stddef.h>
#include <stdint.h>

#include "ppx/config.h"

struct budget;

/* One partner's figures, as `ppx status` shows them. */
struct budget_view {
	uint64_t refusals_window;	/* refusals in the current window */
	int64_t blocked_until_ms;	/* 0: not blocked now */
	uint64_t log_bytes_hour;	/* charged in the last hour */
	uint64_t log_quota_bytes_hour;
	uint32_t blocked_episodes;	/* since the daemon started */
};

int budget_new(struct budget **out, const struct ppx_config *cfg);
void budget_free(struct budget **self);

/* A budget for `agency`, a partner the directory brought: 0 (also if it
 * has one), or PPX_ENOMEM. */
int budget_partner_added(struct budget *self, const char *agency);

/* 1 if `agency` is blocked at `now`, else 0. */
int budget_blocked(struct budget *self, const char *agency, int64_t now);

/*
 * Note one refusal, for a permanent reason, of a frame from `agency`.
 * Returns 1 when it spends the budget: a block episode begins, and *until
 * and *episode (1 for the first) say how long and which; else 0.
 */
int budget_refusal(struct budget *self, const char *agency, int64_t now,
		   int64_t *until, uint32_t *episode);

/* 1 if `bytes` more may be logged for `agency` within its quota. */
int budget_quota_allows(struct budget *self, const char *agency,
			uint64_t bytes, int64_t now);

/* Charge `bytes` of log growth to `agency`. */
void budget_charge(struct budget *self, const char *agency, uint64_t bytes,
		   int64_t now);

/* 1 the first time in an hour that `agency` is found over its quota
 * (the refusal worth one log entry), else 0. */
int budget_quota_spent(struct budget *self, const char *agency, int64_t now);

/*
 * A refused handshake from `key`.  Returns 1 when it is to be reported
 * now, with *count the refusals of that key since its last report (this
 * one included); 0 when it is only counted, to be reported by
 * budget_conn_due() once refusal_log_ms has passed.
 */
int budget_conn_refused(struct budget *self, const char *key, int64_t now,
			uint64_t *count);

/*
 * Counted refusals whose interval has passed: the first such key is
 * copied to `key` (cap bytes) with its count, and forgotten; 1 if there
 * was one, 0 if none.  Call until it returns 0.
 */
int budget_conn_due(struct budget *self, int64_t now, char *key, size_t cap,
		    uint64_t *count);

/* The figures of `agency` (zeros with the quota for one never seen). */
void budget_view(struct budget *self, const char *agency, int64_t now,
		 struct budget_view *out);

#endif
