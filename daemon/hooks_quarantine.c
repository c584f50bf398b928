/*
 * hooks_quarantine.c — a hook that keeps failing on one entry sets it
 * aside and goes on with the next, so that one poison entry (a partner's
 * message the case system cannot take) does not stop every later one; a
 * named operator later decides what becomes of it (docs/HOOKS.md,
 * "Quarantine").
 *
 * Where it sits: hooks.c runs the commands.  After a failed run it asks
 * hook_quarantine_maybe() whether to set the entry aside: with on_failure
 * = quarantine, once the entry has failed quarantine_after times in a row.
 * Setting aside is one commit: an ENTRY_HOOK_QUARANTINE entry in the log
 * (family: the hook's name, related_seq: the entry, detail: the failures
 * and the last error), a mark "hook/NAME" -> seq in the log's meta (the
 * value: the seq of that log entry), and the hook's cursor past the entry.
 * `ppx hook retry|drop` reaches hooks_decide() through the control socket:
 * an ENTRY_HOOK_DECISION entry names the operator, the entry and the
 * reason; drop removes the mark, retry flags it (the top bit of its value)
 * so that hooks.c runs the hook on the entry again, out of order, when it
 * is between entries.  A retried entry that is stored loses its mark; one
 * that fails quarantine_after times again is set aside again, with a new
 * ENTRY_HOOK_QUARANTINE entry.
 *
 * Why marks in meta and not a scan of the log: the marks are the state, read
 * at start in one range of one B-tree however long the log is, and they
 * change in the same commit as the log entry that explains each change, so
 * the two never disagree after a crash.  The log entries are the evidence
 * (who decided what, and why); the marks are an index of them, like the
 * cursors.
 *
 * Guards: a hook sets aside no second entry until it has stored one since
 * the last (a database that is down would otherwise have every entry set
 * aside); it never sets aside an ENTRY_HOOK_QUARANTINE entry (a hook that
 * fails on those would log one for each, for ever); and it holds at most
 * HOOK_QUARANTINE_MAX.  In each of these cases it stops on the entry, as
 * with on_failure = stop.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hooks.h"
#include "hooks_int.h"
#include "log.h"
#include "ppx/error.h"
#include "state.h"
#include "writer.h"

#define MARK_RETRY (UINT64_C(1) << 63)	/* in a mark's value */

/* ------------------------------------------------------------------ */
/* The in-memory list                                                  */
/* ------------------------------------------------------------------ */

static struct hook_quarantined *q_find(struct hook *h, uint64_t seq)
{
	for (size_t i = 0; i < h->nq; i++)
		if (h->q[i].seq == seq)
			return &h->q[i];
	return NULL;
}

/* The entry for seq, added in seq order if it is not there; NULL if out
 * of memory. */
static struct hook_quarantined *q_add(struct hook *h, uint64_t seq)
{
	struct hook_quarantined *q = q_find(h, seq), *g;
	size_t at = 0;

	if (q)
		return q;
	if (h->nq == h->capq) {
		size_t cap = h->capq ? 2 * h->capq : 8;

		if (!(g = realloc(h->q, cap * sizeof(*g))))
			return NULL;
		h->q = g;
		h->capq = cap;
	}
	while (at < h->nq && h->q[at].seq < seq)
		at++;
	memmove(&h->q[at + 1], &h->q[at], (h->nq - at) * sizeof(*h->q));
	h->nq++;
	memset(&h->q[at], 0, sizeof(*h->q));
	h->q[at].seq = seq;
	return &h->q[at];
}

static void q_remove(struct hook *h, uint64_t seq)
{
	struct hook_quarantined *q = q_find(h, seq);
	size_t at;

	if (!q)
		return;
	at = (size_t)(q - h->q);
	memmove(&h->q[at], &h->q[at + 1], (h->nq - at - 1) * sizeof(*h->q));
	h->nq--;
}

/* Text for a log entry's detail: printable ASCII only, so that what a
 * command wrote never puts invalid UTF-8 into the log. */
static void ascii_copy(char *out, size_t cap, const char *in)
{
	size_t n = 0;

	for (; *in && n + 1 < cap; in++) {
		unsigned char c = (unsigned char)*in;

		out[n++] = c < 0x20 || c >= 0x7f ? '?' : (char)c;
	}
	out[n] = '\0';
}

/* ------------------------------------------------------------------ */
/* Loading                                                             */
/* ------------------------------------------------------------------ */

/* One mark: its ENTRY_HOOK_QUARANTINE entry gives the time and error. */
static int load_one(struct ppxd *d, struct hook *h,
		    const struct ppx_log_mark *m)
{
	struct hook_quarantined *q = q_add(h, m->seq);
	Ppx__V1__LogEntry *e = NULL;
	int rc;

	if (!q)
		return ppx_error_set(PPX_ENOMEM, "out of memory");
	q->why_seq = m->value & ~MARK_RETRY;
	q->retry = (m->value & MARK_RETRY) != 0;
	rc = ppx_log_get(d->log, q->why_seq, &e);
	if (rc == 0 && e->kind == PPX__V1__ENTRY_KIND__ENTRY_HOOK_QUARANTINE) {
		q->since_ms = e->time_ms;
		ascii_copy(q->last_error, sizeof(q->last_error), e->detail);
	} else {
		log_warnx("hook %s: quarantined entry %llu: its entry %llu is "
			  "not an ENTRY_HOOK_QUARANTINE; kept set aside",
			  h->cfg->name, (unsigned long long)m->seq,
			  (unsigned long long)q->why_seq);
	}
	if (e)
		ppx__v1__log_entry__free_unpacked(e, NULL);
	return 0;
}

int hook_quarantine_load(struct ppxd *d, struct hook *h)
{
	struct ppx_log_mark *m = NULL;
	size_t n = 0;
	int rc = ppx_log_mark_list(d->log, h->cursor, &m, &n,
				   HOOK_QUARANTINE_MAX + 1);

	for (size_t i = 0; rc == 0 && i < n; i++)
		rc = load_one(d, h, &m[i]);
	free(m);
	if (rc == 0 && n)
		log_info("hook %s: %zu entries set aside (ppx status lists "
			 "them; ppx hook retry|drop decides)", h->cfg->name, n);
	return rc;
}

void hook_quarantine_free(struct hook *h)
{
	free(h->q);
	free(h->qstatus);
	free(h->qstatus_p);
	h->q = NULL;
	h->qstatus = NULL;
	h->qstatus_p = NULL;
	h->nq = h->capq = 0;
}

/* ------------------------------------------------------------------ */
/* Setting an entry aside                                              */
/* ------------------------------------------------------------------ */

/* Whether h sets aside entry h->seq now; says why not when it is due. */
static int quarantine_wanted(struct hook *h)
{
	const char *why = NULL;

	if ((uint32_t)h->cfg->quarantine_after > h->failures)
		return 0;
	if (h->retrying)
		return 1;	/* back where it was */
	if (h->cfg->on_failure_stop)
		return 0;
	if (h->seq_kind == PPX__V1__ENTRY_KIND__ENTRY_HOOK_QUARANTINE)
		why = "it is itself a quarantine record";
	else if (!h->may_quarantine)
		why = "the hook has stored nothing since it set the last "
		      "entry aside (is its database down?)";
	else if (h->nq >= HOOK_QUARANTINE_MAX)
		why = "its quarantine is full";
	if (why && h->failures == (uint32_t)h->cfg->quarantine_after)
		log_warnx("hook %s: entry %llu is not set aside: %s; the hook "
			  "stops on it", h->cfg->name,
			  (unsigned long long)h->seq, why);
	return why == NULL;
}

/* After the commit: if it failed, the entry was not set aside. */
struct q_commit {
	struct hook *h;
	uint64_t seq;
	int was_retry;
};

static void quarantine_committed(struct ppxd *d, void *arg, int rc)
{
	struct q_commit *c = arg;
	struct hook *h = c->h;

	(void)d;
	if (rc != 0) {
		log_warnx("hook %s: setting entry %llu aside was not "
			  "committed; it is tried again", h->cfg->name,
			  (unsigned long long)c->seq);
		if (!c->was_retry) {
			q_remove(h, c->seq);
			h->next = c->seq;
			h->saved = UINT64_MAX;	/* written again */
			h->may_quarantine = 1;
		}
	}
	free(c);
}

/* The log entry, the mark and the cursor, in this iteration's batch. */
static int quarantine_log(struct ppxd *d, struct hook *h, uint64_t *why_seq)
{
	Ppx__V1__LogEntry e = PPX__V1__LOG_ENTRY__INIT;
	char detail[HOOK_ERROR_MAX + 96], err[HOOK_ERROR_MAX];
	ppx_log_batch *b;
	int rc;

	ascii_copy(err, sizeof(err), h->last_error);
	snprintf(detail, sizeof(detail), "entry %llu set aside after %u "
		 "failures: %s", (unsigned long long)h->seq, h->failures, err);
	e.kind = PPX__V1__ENTRY_KIND__ENTRY_HOOK_QUARANTINE;
	e.family = (char *)h->cfg->name;
	e.related_seq = h->seq;
	e.detail = detail;
	if ((rc = writer_append(d, &e, why_seq)) != 0)
		return rc;
	if ((rc = writer_batch(d, &b)) != 0 ||
	    (rc = ppx_log_mark_put(b, h->cursor, h->seq, *why_seq)) != 0 ||
	    (!h->retrying && (rc = ppx_log_cursor_set(b, h->cursor,
						      h->seq + 1)) != 0))
		writer_fail(d, rc);	/* the entry alone would say too much */
	return rc;
}

int hook_quarantine_maybe(struct ppxd *d, struct hook *h, int64_t now)
{
	struct q_commit *c;
	struct hook_quarantined *q = NULL;
	uint64_t why_seq = 0;

	if (!quarantine_wanted(h))
		return 0;
	if (!(c = calloc(1, sizeof(*c))) || !(q = q_add(h, h->seq)) ||
	    quarantine_log(d, h, &why_seq) != 0) {
		log_warnx("hook %s: cannot set entry %llu aside: %s",
			  h->cfg->name, (unsigned long long)h->seq,
			  c ? ppx_error_last() : "out of memory");
		if (q && !h->retrying)	/* added just now */
			q_remove(h, h->seq);
		free(c);
		return 0;
	}
	log_event(LOG_WARNING, &(struct log_fields){
			  .seq = h->seq, .has_seq = 1,
			  .reason = "hook-quarantine"},
		  "hook %s: entry %llu set aside after %u failures (%s); "
		  "the hook goes on", h->cfg->name, (unsigned long long)h->seq,
		  h->failures, h->last_error);
	q->why_seq = why_seq;
	q->since_ms = now;
	q->retry = 0;
	snprintf(q->last_error, sizeof(q->last_error), "%s", h->last_error);
	c->h = h;
	c->seq = h->seq;
	c->was_retry = h->retrying;
	if (!h->retrying) {
		h->next = h->seq + 1;
		h->saved = h->next;
		h->may_quarantine = 0;
	}
	h->retrying = 0;
	h->failures = 0;
	h->failing_since_ms = 0;
	h->retry_at_ms = 0;
	h->last_error[0] = '\0';
	if (writer_after(d, quarantine_committed, c) != 0) {
		writer_fail(d, PPX_ENOMEM);	/* not stored, and undone: */
		quarantine_committed(d, c, PPX_ENOMEM);
	}
	return 1;
}

void hook_quarantine_stored(struct ppxd *d, struct hook *h)
{
	ppx_log_batch *b;

	log_info("hook %s: quarantined entry %llu stored on retry",
		 h->cfg->name, (unsigned long long)h->seq);
	if (writer_batch(d, &b) != 0 ||
	    ppx_log_mark_del(b, h->cursor, h->seq) != 0)
		log_warnx("hook %s: cannot clear the quarantine of entry %llu:"
			  " %s", h->cfg->name, (unsigned long long)h->seq,
			  ppx_error_last());
	q_remove(h, h->seq);
	h->delivered++;
	h->may_quarantine = 1;
	h->retrying = 0;
	h->failures = 0;
	h->failing_since_ms = 0;
	h->retry_at_ms = 0;
	h->last_error[0] = '\0';
}

int hook_quarantine_next_retry(const struct hook *h, size_t *index)
{
	for (size_t i = 0; i < h->nq; i++)
		if (h->q[i].retry) {
			*index = i;
			return 1;
		}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Operators' decisions                                                */
/* ------------------------------------------------------------------ */

/* Applied after the commit, so that memory follows what is on disk. */
struct q_decision {
	struct hook *h;
	uint64_t seq;
	int drop;
};

static void decision_committed(struct ppxd *d, void *arg, int rc)
{
	struct q_decision *c = arg;
	struct hook_quarantined *q;

	(void)d;
	if (rc == 0 && c->drop)
		q_remove(c->h, c->seq);
	else if (rc == 0 && (q = q_find(c->h, c->seq)))
		q->retry = 1;
	free(c);
}

static struct hook *hook_by_name(struct ppxd *d, const char *name)
{
	for (size_t i = 0; name && i < d->hooks->n; i++)
		if (strcmp(d->hooks->v[i].cfg->name, name) == 0)
			return &d->hooks->v[i];
	return NULL;
}

/* What is wrong with the request, or 0; *out the hook and *qo the entry. */
static int decision_check(struct ppxd *d, const Ppx__V1__HookDecisionRequest *r,
			  struct hook **out, struct hook_quarantined **qo)
{
	struct hook *h = hook_by_name(d, r->hook);

	if (!h)
		return ppx_error_set(PPX_ENOTFOUND, "no hook %s: ppx status "
				     "lists the hooks", r->hook);
	if (!r->reason || !r->reason[0])
		return ppx_error_set(PPX_EINVAL, "a decision on a quarantined "
				     "entry needs a reason (--reason TEXT): "
				     "it is logged with your name");
	if (!(*qo = q_find(h, r->seq)))
		return ppx_error_set(PPX_ENOTFOUND, "hook %s has not set entry "
				     "%llu aside: ppx status lists what it "
				     "has", r->hook, (unsigned long long)r->seq);
	if (h->retrying && h->seq == r->seq)
		return ppx_error_set(PPX_EBUSY, "hook %s is retrying entry "
				     "%llu now: ask again once it is stored "
				     "or set aside again (ppx status)",
				     r->hook, (unsigned long long)r->seq);
	if (!r->drop && (*qo)->retry)
		return ppx_error_set(PPX_EINVAL, "hook %s: entry %llu is "
				     "already waiting for its retry",
				     r->hook, (unsigned long long)r->seq);
	*out = h;
	return 0;
}

int hooks_decide(struct ppxd *d, const char *person,
		 const Ppx__V1__HookDecisionRequest *r)
{
	Ppx__V1__LogEntry e = PPX__V1__LOG_ENTRY__INIT;
	struct hook_quarantined *q = NULL;
	struct q_decision *c;
	struct hook *h = NULL;
	char detail[1200];
	ppx_log_batch *b;
	uint64_t seq;
	int rc;

	if ((rc = decision_check(d, r, &h, &q)) != 0)
		return rc;
	snprintf(detail, sizeof(detail), "%s entry %llu: %s",
		 r->drop ? "drop" : "retry", (unsigned long long)r->seq,
		 r->reason);
	e.kind = PPX__V1__ENTRY_KIND__ENTRY_HOOK_DECISION;
	e.person = (char *)person;
	e.family = (char *)h->cfg->name;
	e.related_seq = r->seq;
	e.detail = detail;
	if (!(c = calloc(1, sizeof(*c))))
		return ppx_error_set(PPX_ENOMEM, "out of memory");
	c->h = h;
	c->seq = r->seq;
	c->drop = r->drop;
	if ((rc = writer_append(d, &e, &seq)) != 0) {
		free(c);
		return rc;
	}
	if ((rc = writer_batch(d, &b)) != 0 ||
	    (rc = r->drop ? ppx_log_mark_del(b, h->cursor, r->seq) :
		  ppx_log_mark_put(b, h->cursor, r->seq,
				   q->why_seq | MARK_RETRY)) != 0 ||
	    (rc = writer_after(d, decision_committed, c)) != 0) {
		writer_fail(d, rc);	/* the decision is not taken: not logged */
		free(c);
		return rc;
	}
	log_info("hook %s: %s decided to %s entry %llu: %s", h->cfg->name,
		 person, r->drop ? "drop" : "retry",
		 (unsigned long long)r->seq, r->reason);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Status                                                              */
/* ------------------------------------------------------------------ */

void hook_quarantine_status(struct hook *h, Ppx__V1__HookStatus *s)
{
	Ppx__V1__HookQuarantined *v;
	Ppx__V1__HookQuarantined **p;

	s->on_failure = (char *)(h->cfg->on_failure_stop ? "stop" :
							   "quarantine");
	if (h->nq == 0)
		return;
	v = realloc(h->qstatus, h->nq * sizeof(*v));
	if (v)
		h->qstatus = v;
	p = realloc(h->qstatus_p, h->nq * sizeof(*p));
	if (p)
		h->qstatus_p = p;
	if (!v || !p)
		return;
	for (size_t i = 0; i < h->nq; i++) {
		ppx__v1__hook_quarantined__init(&v[i]);
		v[i].seq = h->q[i].seq;
		v[i].last_error = h->q[i].last_error;
		v[i].since_ms = h->q[i].since_ms;
		p[i] = &v[i];
	}
	s->n_quarantined = h->nq;
	s->quarantined = p;
}
