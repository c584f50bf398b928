/*
 * logaudit.c — the log's checks: a start-up check whose time does not grow
 * with the log, then the full check in the background.
 *
 * At start the log is checked from its check seal (ppx_log_check_sealed():
 * the newest checkpoint entry, its signed root against the stored tree,
 * the chain link before it, and every entry and its index records from
 * there to the end), in a child process as ever (ppx_log_check_dir_mode()):
 * damage there stops the daemon before anything is sent or received.
 * What lies before the seal was checked when it was written; damage to it
 * since (a flipped bit, an edited file, a B-tree page that crashes LMDB)
 * is what the full check finds: every record of the file read, every
 * entry, the whole tree, every index record, the outbox.  It runs in a
 * child process of its own at nice 19 and SCHED_IDLE, forked before any
 * thread exists, reading its own read-only view of the log: it never
 * blocks the loop or the writer.  Its verdict is collected by the loop
 * (logaudit_tick(), woken by SIGCHLD), logged, and shown in ppx status and
 * the metrics.  A failure does not stop the daemon -- stopping would stop
 * the exchange of messages over damage that is in its past -- but is
 * alarmed at LOG_CRIT and stays in ppx status until a restart: the
 * operator verifies a copy and restores from a backup
 * (docs/OPERATIONS.md).  log_check_full = yes checks the whole log before
 * starting instead, as the daemon did before the seal.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "log.h"
#include "logaudit.h"
#include "ppx/checkpoint.h"
#include "ppx/error.h"
#include "ppxd.h"

enum full_state {
	FULL_NOT_RUN, FULL_RUNNING, FULL_PASSED, FULL_FAILED,
	FULL_NOT_DONE,		/* could not run to a verdict: nothing known */
};

static const char *const full_names[] = {
	[FULL_NOT_RUN] = "not run",
	[FULL_RUNNING] = "running",
	[FULL_PASSED] = "passed",
	[FULL_FAILED] = "FAILED",
	[FULL_NOT_DONE] = "could not run",
};

struct logaudit {
	ppx_log_check_job job;
	enum full_state full;
	uint64_t start_from, start_entries;
	int64_t start_ms, full_started_ms, full_done_ms;
	uint64_t full_entries, first_bad;
	char reason[512];
	Ppx__V1__LogCheck status;	/* what logaudit_status() hands out */
};

int logaudit_start(struct ppxd *d)
{
	struct logaudit *a = calloc(1, sizeof(*a));
	const char *dir = d->cfg->log_dir;
	ppx_verify_report r;
	int64_t t0 = ppxd_now_ms();
	int rc;

	if (!a)
		return ppx_error_set(PPX_ENOMEM, "out of memory");
	a->job.fd = -1;
	d->logaudit = a;
	rc = ppx_log_check_dir_mode(&r, dir, NULL,
				    d->cfg->log_check_full ? PPX_CHECK_FULL
							   : PPX_CHECK_SEALED);
	if (rc == PPX_ENOTFOUND)
		return 0;	/* a new log: nothing to check */
	if (rc != 0)
		return rc;
	if (!r.ok)
		return ppx_error_set(PPX_ECORRUPT, "log %s is damaged at entry "
				     "%llu: %s; not starting on it (run ppx "
				     "verify on a copy and restore from a "
				     "backup)", dir,
				     (unsigned long long)r.first_bad,
				     r.reason);
	a->start_ms = ppxd_now_ms() - t0;
	a->start_from = r.from;
	a->start_entries = r.entries;
	log_info("log %s: %llu entries checked in %lld ms (%s)", dir,
		 (unsigned long long)r.entries, (long long)a->start_ms,
		 d->cfg->log_check_full ? "the whole log"
		 : r.from ? "from its check seal" : "no seal yet: the whole log");
	if (d->cfg->log_check_full || r.from == 0)
		return 0;	/* nothing before what was just checked */
	if (ppx_log_check_spawn(&a->job, dir) != 0) {
		log_warnx("cannot start the full check of the log in the "
			  "background: %s", ppx_error_last());
		return 0;
	}
	a->full = FULL_RUNNING;
	a->full_started_ms = ppxd_now_ms();
	log_info("log %s: full check running in the background",  dir);
	return 0;
}

static void full_failed(struct ppxd *d, struct logaudit *a, const char *why)
{
	a->full = FULL_FAILED;
	snprintf(a->reason, sizeof(a->reason), "%s", why);
	log_event(LOG_CRIT, NULL, "LOG DAMAGED: the full check of log %s "
		  "failed: %s; messages are still exchanged, but the log's "
		  "past cannot be relied on: run ppx verify on a copy and "
		  "restore from a backup", d->cfg->log_dir, why);
}

void logaudit_tick(struct ppxd *d)
{
	struct logaudit *a = d->logaudit;
	ppx_verify_report r;
	char why[512];
	int done = 0, rc;

	if (!a || a->full != FULL_RUNNING)
		return;
	rc = ppx_log_check_poll(&a->job, &r, &done);
	if (!done)
		return;
	a->full_done_ms = ppxd_now_ms();
	if (rc == PPX_ECORRUPT) {	/* reading the file crashed the check */
		full_failed(d, a, ppx_error_last());
		return;
	}
	if (rc != 0) {			/* killed, out of memory...: no verdict */
		a->full = FULL_NOT_DONE;
		snprintf(a->reason, sizeof(a->reason), "%s", ppx_error_last());
		log_warnx("log %s: the full check did not finish, so says "
			  "nothing of the log: %s; it runs again at the next "
			  "start, or run ppx verify on a copy",
			  d->cfg->log_dir, a->reason);
		return;
	}
	a->full_entries = r.entries;
	if (!r.ok) {
		a->first_bad = r.first_bad;
		snprintf(why, sizeof(why), "damaged at entry %llu: %s",
			 (unsigned long long)r.first_bad, r.reason);
		full_failed(d, a, why);
		return;
	}
	a->full = FULL_PASSED;
	log_info("log %s: full check passed: %llu entries in %lld ms",
		 d->cfg->log_dir, (unsigned long long)r.entries,
		 (long long)(a->full_done_ms - a->full_started_ms));
}

void logaudit_status(struct ppxd *d, Ppx__V1__StatusReply *sr)
{
	struct logaudit *a = d->logaudit;
	Ppx__V1__LogCheck *s;

	if (!a)
		return;
	s = &a->status;
	ppx__v1__log_check__init(s);
	s->start_from = a->start_from;
	s->start_entries = a->start_entries;
	s->start_ms = a->start_ms;
	s->full = (char *)full_names[a->full];
	s->full_entries = a->full_entries;
	s->full_done_ms = a->full_done_ms;
	if (a->full == FULL_FAILED) {
		s->first_bad = a->first_bad;
		s->reason = a->reason;
	} else if (a->full == FULL_NOT_DONE) {
		s->reason = a->reason;
	}
	sr->log_check = s;
}

void logaudit_free(struct ppxd *d)
{
	if (!d->logaudit)
		return;
	ppx_log_check_cancel(&d->logaudit->job);
	free(d->logaudit);
	d->logaudit = NULL;
}
