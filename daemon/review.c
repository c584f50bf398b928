/*
 * review.c — the reviewer's finding on an emergency access.
 *
 * An operator without need to know may read or send with --emergency and
 * a reason (break-glass); the entry that records it (ENTRY_READ, or the
 * SENT entry of the message) carries access.emergency, and the review it
 * owes is due to the configured [accountability] emergency_reviewer
 * within emergency_review_days working days (ppx due lists it).  This
 * file takes that review: `ppx review SEQ --justified|--not-justified
 * --finding TEXT` reaches review_log() through the control socket as the
 * operator the caller's uid maps to.
 *
 * Only the configured reviewer may review, and never an access of their
 * own.  The finding is logged as ENTRY_REVIEW: person the reviewer,
 * related_seq the access, access{reason = finding, justified}, under the
 * subject keys, message id and partner of the access so that ppx audit
 * and ppx show find it.  Whether an access was reviewed is a mark (REVIEW_MARKS)
 * written in the same batch as the ENTRY_REVIEW: the log has no index on
 * related_seq, and the mark and the entry commit together, so they never
 * disagree after a crash.  Until that batch commits the mark is not
 * seen, so the accesses reviewed in the open batch are also kept here
 * (in_batch) and forgotten once it commits.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "ppx/error.h"
#include "ppx/logstore.h"
#include "review.h"
#include "state.h"
#include "writer.h"

/* Whether the caller may review at all: the configured reviewer. */
static int reviewer_check(const struct ppxd *d, const char *person)
{
	const char *reviewer = d->cfg->emergency_reviewer;

	if (!reviewer[0])
		return ppx_error_set(PPX_EPERM, "no emergency_reviewer is "
				     "configured ([accountability] in the "
				     "daemon's configuration)");
	if (strcmp(person, reviewer) != 0)
		return ppx_error_set(PPX_EPERM, "only the emergency reviewer "
				     "%s may review emergency access; you "
				     "are %s", reviewer, person);
	return 0;
}

/* A finding: 1 to REVIEW_FINDING_MAX bytes of printable text (the
 * request's strings are UTF-8 already: control_request.c checked). */
static int finding_check(const char *finding)
{
	size_t len = finding ? strlen(finding) : 0;

	if (len == 0)
		return ppx_error_set(PPX_EINVAL, "a review needs a finding "
				     "(--finding TEXT): why the access was, "
				     "or was not, justified");
	if (len > REVIEW_FINDING_MAX)
		return ppx_error_set(PPX_EINVAL, "finding of %zu bytes; at "
				     "most %d", len, REVIEW_FINDING_MAX);
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)finding[i] < 0x20 || finding[i] == 0x7f)
			return ppx_error_set(PPX_EINVAL, "the finding holds a "
					     "control character at byte %zu: "
					     "give it on one line", i);
	return 0;
}

/* Accesses reviewed in the batch not yet committed, with their reviews'
 * seqs (the daemon has one writer, so one open batch). */
#define IN_BATCH_MAX 64
static struct ppx_log_mark in_batch[IN_BATCH_MAX];
static size_t n_in_batch;
static int in_batch_after;		/* in_batch_done registered */

static void in_batch_done(struct ppxd *d, void *arg, int rc)
{
	(void)d;
	(void)arg;
	(void)rc;	/* committed: the marks say it; failed: not reviewed */
	n_in_batch = 0;
	in_batch_after = 0;
}

/* Remember that access `seq` was reviewed at `at` in the open batch. */
static int in_batch_add(struct ppxd *d, uint64_t seq, uint64_t at)
{
	if (!in_batch_after) {
		if (writer_after(d, in_batch_done, NULL) != 0)
			return ppx_error_set(PPX_ENOMEM, "out of memory");
		in_batch_after = 1;
	}
	in_batch[n_in_batch].seq = seq;
	in_batch[n_in_batch++].value = at;
	return 0;
}

/* The ENTRY_REVIEW of access seq, if any: its seq in *at.  0 or 1. */
static int reviewed(struct ppxd *d, uint64_t seq, uint64_t *at, int *rc)
{
	struct ppx_log_mark *marks = NULL;
	size_t n = 0;
	int found = 0;

	*rc = 0;
	for (size_t i = 0; i < n_in_batch; i++)
		if (in_batch[i].seq == seq) {
			*at = in_batch[i].value;
			return 1;
		}
	*rc = ppx_log_mark_list(d->log, REVIEW_MARKS, &marks, &n, SIZE_MAX);
	for (size_t i = 0; *rc == 0 && i < n && !found; i++)
		if (marks[i].seq == seq) {
			*at = marks[i].value;
			found = 1;
		}
	free(marks);
	return found;
}

/* Entry seq is an emergency access someone else made, not yet reviewed. */
static int access_check(struct ppxd *d, const char *person, uint64_t seq,
			const Ppx__V1__LogEntry *e)
{
	uint64_t at = 0;
	int rc = 0;

	if ((e->kind != PPX__V1__ENTRY_KIND__ENTRY_READ &&
	     e->kind != PPX__V1__ENTRY_KIND__ENTRY_SENT) ||
	    !e->access || !e->access->emergency)
		return ppx_error_set(PPX_EINVAL, "entry %llu is not an "
				     "emergency read or send: nothing to "
				     "review (ppx due lists what is owed)",
				     (unsigned long long)seq);
	if (strcmp(e->person, person) == 0)
		return ppx_error_set(PPX_EPERM, "entry %llu is your own "
				     "emergency access: someone else must "
				     "review it", (unsigned long long)seq);
	if (n_in_batch >= IN_BATCH_MAX)
		return ppx_error_set(PPX_EBUSY, "%d reviews are being "
				     "logged; try again", IN_BATCH_MAX);
	if (reviewed(d, seq, &at, &rc))
		return ppx_error_set(PPX_EDUP, "emergency access %llu was "
				     "reviewed already, at entry %llu",
				     (unsigned long long)seq,
				     (unsigned long long)at);
	return rc;
}

/* Append the ENTRY_REVIEW of access `a` and its mark. */
static int review_append(struct ppxd *d, const char *person,
			 const Ppx__V1__ReviewRequest *r,
			 const Ppx__V1__LogEntry *a, uint64_t *seq)
{
	Ppx__V1__LogEntry e = PPX__V1__LOG_ENTRY__INIT;
	Ppx__V1__Access acc = PPX__V1__ACCESS__INIT;
	ppx_log_batch *b;
	int rc;

	acc.reason = r->finding;
	acc.justified = r->justified;
	e.kind = PPX__V1__ENTRY_KIND__ENTRY_REVIEW;
	e.person = (char *)person;
	e.related_seq = r->seq;
	e.subject_keys = a->subject_keys;
	e.n_subject_keys = a->n_subject_keys;
	e.message_id = a->message_id;
	e.peer_agency = a->peer_agency;	/* whose message, as the access's */
	e.access = &acc;
	if ((rc = writer_append(d, &e, seq)) != 0)
		return rc;
	if ((rc = writer_batch(d, &b)) != 0 ||
	    (rc = ppx_log_mark_put(b, REVIEW_MARKS, r->seq, *seq)) != 0 ||
	    (rc = in_batch_add(d, r->seq, *seq)) != 0)
		writer_fail(d, rc);	/* a review without its mark: twice */
	return rc;
}

int review_log(struct ppxd *d, const char *person,
	       const Ppx__V1__ReviewRequest *r, uint64_t *seq)
{
	Ppx__V1__LogEntry *a = NULL;
	int rc;

	if ((rc = reviewer_check(d, person)) != 0 ||
	    (rc = finding_check(r->finding)) != 0)
		return rc;
	rc = ppx_log_get(d->log, r->seq, &a);
	if (rc == PPX_ENOTFOUND)
		return ppx_error_set(rc, "there is no entry %llu in the log",
				     (unsigned long long)r->seq);
	if (rc == 0)
		rc = access_check(d, person, r->seq, a);
	if (rc == 0)
		rc = review_append(d, person, r, a, seq);
	if (rc == 0)
		log_info("%s reviewed emergency access %llu: %s: %s", person,
			 (unsigned long long)r->seq,
			 r->justified ? "justified" : "not justified",
			 r->finding);
	if (a)
		ppx__v1__log_entry__free_unpacked(a, NULL);
	return rc;
}
