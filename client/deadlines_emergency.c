/*
 * deadlines_emergency.c — the reviews that emergency access owes, for
 * ppx due (and ppx report): an obligation per break-glass read or send.
 *
 * An operator without need to know may read or send with --emergency
 * and a reason; the ENTRY_READ or ENTRY_SENT that records it carries
 * access{emergency, reason, reviewer, review_due_ms} (the daemon worked
 * the due time out from [accountability] emergency_review_days when the
 * access happened, so that a later change of the rule does not move it).
 * The review is owed by that reviewer at this agency, and met by an
 * ENTRY_REVIEW whose related_seq names the access (ppx review).  A
 * RECEIVED entry of a partner's emergency send owes nothing here: its
 * review is the sender's.
 *
 * As elsewhere in deadlines.c, only what this log holds up to the as-of
 * day counts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deadlines_int.h"
#include "ppx/error.h"

static void add_access(struct deadlines_mem *m, uint64_t seq,
		       const Ppx__V1__LogEntry *e)
{
	const Ppx__V1__Access *a = e->access;
	struct emergency *x = PUSH(m, m->emergencies, m->n_emergencies,
				   m->cap_emergencies);

	if (!x)
		return;
	x->seq = seq;
	x->what = e->kind == PPX__V1__ENTRY_KIND__ENTRY_READ ? "read" : "send";
	x->person = dl_str(m, e->person);
	x->reason = dl_str(m, a->reason);
	x->reviewer = dl_str(m, a->reviewer);
	x->logged_ms = e->time_ms;
	x->due_ms = a->review_due_ms;
	x->keys = dl_pool_alloc(m, (e->n_subject_keys + 1) * sizeof(*x->keys));
	for (size_t i = 0; x->keys && i < e->n_subject_keys; i++)
		x->keys[x->n_keys++] = dl_str(m, e->subject_keys[i]);
}

void dl_scan_emergency(struct deadlines_mem *m, uint64_t seq,
		       const Ppx__V1__LogEntry *e)
{
	struct review_done *r;

	if (e->time_ms >= m->cutoff_ms)
		return;
	if (e->kind == PPX__V1__ENTRY_KIND__ENTRY_REVIEW) {
		if ((r = PUSH(m, m->reviews, m->n_reviews, m->cap_reviews))) {
			r->related_seq = e->related_seq;
			r->logged_ms = e->time_ms;
		}
		return;
	}
	if ((e->kind == PPX__V1__ENTRY_KIND__ENTRY_READ ||
	     e->kind == PPX__V1__ENTRY_KIND__ENTRY_SENT) && e->access &&
	    e->access->emergency)
		add_access(m, seq, e);
}

static int cmp_review(const void *a, const void *b)
{
	const struct review_done *x = a, *y = b;

	if (x->related_seq != y->related_seq)
		return x->related_seq < y->related_seq ? -1 : 1;
	return x->logged_ms < y->logged_ms ? -1 : x->logged_ms > y->logged_ms;
}

/* The first review of access seq, or NULL. */
static const struct review_done *review_of(const struct deadlines_mem *m,
					   uint64_t seq)
{
	size_t lo = 0, hi = m->n_reviews;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (m->reviews[mid].related_seq < seq)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < m->n_reviews && m->reviews[lo].related_seq == seq
	       ? &m->reviews[lo] : NULL;
}

void dl_join_emergency(struct deadlines_mem *m, struct deadlines *dl)
{
	char buf[1400];

	sort_n(m->reviews, m->n_reviews, sizeof(*m->reviews), cmp_review);
	for (size_t i = 0; i < m->n_emergencies && m->rc == 0; i++) {
		const struct emergency *x = &m->emergencies[i];
		const struct review_done *r = review_of(m, x->seq);
		struct obligation *o = PUSH(m, dl->ob, dl->n_ob, m->cap_ob);

		if (!o)
			return;
		o->kind = OBLIGATION_EMERGENCY;
		snprintf(buf, sizeof(buf), "seq %llu",
			 (unsigned long long)x->seq);
		o->ref = dl_str(m, buf);
		o->subject = x->n_keys ? x->keys[0] : "(no subject)";
		o->keys = x->keys;
		o->n_keys = x->n_keys;
		snprintf(buf, sizeof(buf), "review of emergency %s at seq %llu "
			 "by %s (%s) owed by %s", x->what,
			 (unsigned long long)x->seq,
			 x->person[0] ? x->person : "?", x->reason,
			 x->reviewer[0] ? x->reviewer : "(no reviewer named)");
		o->what = dl_str(m, buf);
		o->agency = m->agency ? m->agency : "";
		o->person = x->reviewer;
		/* UTC dates, as ppx_review_due_ms() counted the working days
		 * and as every other deadline and "today" are; a due time is
		 * the first ms after its day, so its day is the ms before. */
		o->start = ppx_date_of_ms(x->logged_ms);
		o->due = x->due_ms > 0 ? ppx_date_of_ms(x->due_ms - 1)
				       : o->start;
		o->due_ms = x->due_ms;
		o->done = r != NULL;
		o->done_day = r ? ppx_date_of_ms(r->logged_ms) : DEADLINES_NONE;
		o->done_ms = r ? r->logged_ms : 0;
		o->to_receipt_ms = -1;
		o->to_ack_ms = -1;
	}
}
