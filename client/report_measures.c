/*
 * report_measures.c — the board's measures that are not obligations:
 * attendance expected against actual and agencies on the case not
 * invited, referral timeliness, transfers without acceptance, cancelled
 * meetings not rearranged, risk management plans copied unchanged,
 * emergency (break-glass) accesses and their reviews, and the partner
 * records by MAPPA category and level on one day (31 March).
 *
 * Like deadlines.c it is two steps: one read-only pass over the log copies
 * the few facts each entry contributes into flat arrays (text in the
 * deadlines memory pool, every protobuf freed where it is unpacked); then
 * each measure is a small function over those arrays that counts into the
 * report's rows (report_tally).  Times are those of the entries in this
 * log, never what a body says of itself.  docs/ppx-deadlines.md defines
 * each measure.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "deadlines_int.h"
#include "report.h"
#include "ppx/entry.h"
#include "ppx/error.h"

/* 001:L379: a referral at least six months before release. */
#define REFERRAL_DAYS 183

/* ------------------------------------------------------------------ */
/* The facts of one pass                                               */
/* ------------------------------------------------------------------ */

struct m_minutes {
	const char *meeting_id, *agency, *area, *plan;
	const char **keys, **required, **actual;
	size_t n_keys, n_required, n_actual;
	int64_t logged_ms;
	uint32_t version;
	ppx_day date;
	int cancelled, rearranged;
};

struct m_notif {
	uint8_t id[ID_LEN];
	int kind;
	const char *sender, *area;
	const char **keys, **to;
	size_t n_keys, n_to;
	int64_t logged_ms;
	ppx_day effective;
};

struct m_ack {
	uint8_t id[ID_LEN];	/* the message acknowledged */
	const char *agency;	/* who acknowledged it */
};

struct m_record {
	const char *record_id;
	const char **keys, **agencies;	/* lead, partners, current prison */
	size_t n_keys, n_agencies;
	uint64_t version;
	int64_t logged_ms;
	int category, level;
};

struct m_access {
	uint64_t seq;
	const char *agency;	/* whose access */
	int64_t ms, due_ms;
	int emergency, owes;	/* owes: a review is owed here */
};

struct m_review {
	uint64_t related;
	int justified;
};

struct facts {
	struct deadlines_mem *m;
	const char *agency;	/* this log's */
	ARRAY(struct m_minutes, mins);
	ARRAY(struct m_minutes *, meetings);	/* latest version of each */
	ARRAY(struct m_notif, notifs);
	ARRAY(struct m_ack, acks);
	ARRAY(struct m_record, recs);
	ARRAY(struct m_access, acc);
	ARRAY(struct m_review, reviews);
};

static ppx_day day_of(const char *s)
{
	ppx_day d;

	return s && ppx_date_parse(&d, s) == 0 ? d : DEADLINES_NONE;
}

static int has(const char *const *v, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i], s) == 0)
			return 1;
	return 0;
}

/* Add `s` (not empty, not yet there) to `v`, which has room. */
static void put(struct deadlines_mem *m, const char **v, size_t *n,
		const char *s)
{
	if (v && s && *s && !has(v, *n, s))
		v[(*n)++] = dl_str(m, s);
}

static int keys_meet(const char *const *a, size_t na, const char *const *b,
		     size_t nb)
{
	for (size_t i = 0; i < na; i++)
		if (has(b, nb, a[i]))
			return 1;
	return 0;
}

static void agencies_of(struct deadlines_mem *m, const char ***out, size_t *n,
			Ppx__V1__Attendee *const *v, size_t nv)
{
	*n = 0;
	*out = dl_pool_alloc(m, (nv + 1) * sizeof(**out));
	for (size_t i = 0; *out && i < nv; i++)
		if (v[i] && v[i]->person)
			put(m, *out, n, v[i]->person->agency);
}

/* The plan's five parts, joined by a unit separator; "" for no plan. */
static const char *plan_text(struct deadlines_mem *m,
			     const Ppx__V1__RiskManagementPlan *p)
{
	const char *part[5];
	size_t len = 0;
	char *s;

	if (!p)
		return "";
	part[0] = p->supervision;
	part[1] = p->monitoring_and_control;
	part[2] = p->interventions_and_treatment;
	part[3] = p->victim_safety_planning;
	part[4] = p->contingency;
	for (int i = 0; i < 5; i++)
		len += (part[i] ? strlen(part[i]) : 0) + 1;
	if (len == 5 || !(s = dl_pool_alloc(m, len + 1)))
		return "";
	s[0] = '\0';
	for (int i = 0, at = 0; i < 5; i++) {
		int w = snprintf(s + at, len + 1 - (size_t)at, "%s\x1f",
				 part[i] ? part[i] : "");

		at += w > 0 ? w : 0;
	}
	return s;
}

static void add_minutes(struct facts *f, const Ppx__V1__LogEntry *e,
			const Ppx__V1__Body *b)
{
	const Ppx__V1__Minutes *mn = b->minutes;
	const Ppx__V1__SubjectIds **ids;
	struct m_minutes *v;

	if (!mn->meeting_id || !*mn->meeting_id ||
	    !(v = PUSH(f->m, f->mins, f->n_mins, f->cap_mins)))
		return;
	v->meeting_id = dl_str(f->m, mn->meeting_id);
	v->agency = dl_str(f->m, b->sender_agency);
	v->area = dl_str(f->m, mn->area && *mn->area ? mn->area : b->area);
	v->plan = plan_text(f->m, mn->plan);
	v->logged_ms = e->time_ms;
	v->version = mn->version;
	v->date = day_of(mn->meeting_date);
	v->cancelled = mn->meeting_cancelled;
	v->rearranged = mn->rearranged_date && *mn->rearranged_date;
	agencies_of(f->m, &v->required, &v->n_required, mn->required,
		    mn->n_required);
	agencies_of(f->m, &v->actual, &v->n_actual, mn->actual, mn->n_actual);
	if ((ids = dl_pool_alloc(f->m, (mn->n_subjects + 1) * sizeof(*ids)))) {
		for (size_t i = 0; i < mn->n_subjects; i++)
			ids[i] = mn->subjects[i];
		ids[mn->n_subjects] = b->subject;
		dl_subject_keys(f->m, &v->keys, &v->n_keys, ids,
				mn->n_subjects + 1);
	}
}

static void add_notification(struct facts *f, const Ppx__V1__LogEntry *e,
			     const Ppx__V1__Body *b)
{
	const Ppx__V1__Notification *n = b->notification;
	const Ppx__V1__SubjectIds *subj = b->subject;
	struct m_notif *v;

	if ((n->kind != PPX__V1__NOTIFICATION_KIND__MAPPA_REFERRAL &&
	     n->kind != PPX__V1__NOTIFICATION_KIND__RELEASE_DATE &&
	     n->kind != PPX__V1__NOTIFICATION_KIND__TRANSFER) ||
	    !(v = PUSH(f->m, f->notifs, f->n_notifs, f->cap_notifs)))
		return;
	memcpy(v->id, b->message_id.data, ID_LEN);
	v->kind = n->kind;
	v->sender = dl_str(f->m, b->sender_agency);
	v->area = dl_str(f->m, n->to_area && *n->to_area ? n->to_area
							 : b->area);
	v->logged_ms = e->time_ms;
	v->effective = day_of(n->effective_date);
	dl_subject_keys(f->m, &v->keys, &v->n_keys, &subj, 1);
	v->to = dl_pool_alloc(f->m, (b->n_recipients + 1) * sizeof(*v->to));
	for (size_t i = 0; i < b->n_recipients; i++)
		put(f->m, v->to, &v->n_to, b->recipients[i]);
}

static void add_ack(struct facts *f, const uint8_t *id, const char *agency)
{
	struct m_ack *a = PUSH(f->m, f->acks, f->n_acks, f->cap_acks);

	if (!a)
		return;
	memcpy(a->id, id, ID_LEN);
	a->agency = dl_str(f->m, agency);
}

static void add_record(struct facts *f, const Ppx__V1__LogEntry *e,
		       const Ppx__V1__Body *b)
{
	const Ppx__V1__PartnerRecord *r = b->partner_record;
	const Ppx__V1__SubjectIds *ids[2] = {r->subject, b->subject};
	struct m_record *v;

	if (!r->record_id || !*r->record_id ||
	    !(v = PUSH(f->m, f->recs, f->n_recs, f->cap_recs)))
		return;
	v->record_id = dl_str(f->m, r->record_id);
	dl_subject_keys(f->m, &v->keys, &v->n_keys, ids, 2);
	v->version = r->version;
	v->logged_ms = e->time_ms;
	v->category = r->category >= 0 && r->category < REPORT_CATEGORIES
			      ? (int)r->category : 0;
	v->level = r->level >= 0 && r->level < REPORT_LEVELS ? (int)r->level
							      : 0;
	v->agencies = dl_pool_alloc(f->m, (r->n_partner_agencies + 3) *
					      sizeof(*v->agencies));
	put(f->m, v->agencies, &v->n_agencies, r->lead_agency);
	for (size_t i = 0; i < r->n_partner_agencies; i++)
		put(f->m, v->agencies, &v->n_agencies, r->partner_agencies[i]);
	put(f->m, v->agencies, &v->n_agencies, r->current_prison);
}

/* A READ, SENT or RECEIVED entry is an access; an emergency one owes a
 * review here when it names a reviewer or a date. */
static void add_access(struct facts *f, const Ppx__V1__LogEntry *e,
		       const char *agency, int emergency)
{
	const Ppx__V1__Access *a = e->access;
	struct m_access *v = PUSH(f->m, f->acc, f->n_acc, f->cap_acc);

	if (!v)
		return;
	v->seq = e->seq;
	v->agency = dl_str(f->m, agency);
	v->ms = a && a->direct && a->read_ms > 0 ? a->read_ms : e->time_ms;
	v->emergency = emergency || (a && a->emergency);
	v->owes = v->emergency && a && ((a->reviewer && *a->reviewer) ||
					a->review_due_ms > 0);
	v->due_ms = a ? a->review_due_ms : 0;
}

static void scan_message(struct facts *f, const Ppx__V1__LogEntry *e)
{
	int sent = e->kind == PPX__V1__ENTRY_KIND__ENTRY_SENT;
	Ppx__V1__Body *b = NULL;

	if (ppx_entry_body(&b, NULL, e) != 0 || b->message_id.len != ID_LEN) {
		if (b)
			ppx__v1__body__free_unpacked(b, NULL);
		return;
	}
	add_access(f, e, sent ? f->agency : b->sender_agency,
		   b->emergency != NULL);
	switch (b->payload_case) {
	case PPX__V1__BODY__PAYLOAD_MINUTES:
		add_minutes(f, e, b);
		break;
	case PPX__V1__BODY__PAYLOAD_NOTIFICATION:
		add_notification(f, e, b);
		break;
	case PPX__V1__BODY__PAYLOAD_PARTNER_RECORD:
		add_record(f, e, b);
		break;
	case PPX__V1__BODY__PAYLOAD_ACKNOWLEDGEMENT:
		if (b->replies_to.len == ID_LEN)
			add_ack(f, b->replies_to.data, b->sender_agency);
		break;
	default:
		break;
	}
	ppx__v1__body__free_unpacked(b, NULL);
}

struct scan {
	struct facts *f;
	int64_t cutoff_ms;
};

static int scan_entry(void *ctx, uint64_t seq, const uint8_t *data,
		      size_t len)
{
	struct scan *s = ctx;
	struct facts *f = s->f;
	Ppx__V1__LogEntry *e = ppx__v1__log_entry__unpack(NULL, len, data);
	struct m_review *r;

	if (!e)
		return 0;	/* deadlines.c has said so already */
	e->seq = seq;
	if (e->time_ms >= s->cutoff_ms)
		e->kind = PPX__V1__ENTRY_KIND__ENTRY_UNSPECIFIED;
	switch (e->kind) {
	case PPX__V1__ENTRY_KIND__ENTRY_SENT:
	case PPX__V1__ENTRY_KIND__ENTRY_RECEIVED:
		scan_message(f, e);
		break;
	case PPX__V1__ENTRY_KIND__ENTRY_READ:
		add_access(f, e, f->agency, 0);
		break;
	case PPX__V1__ENTRY_KIND__ENTRY_ACKNOWLEDGED:
		if (e->message_id.len == ID_LEN)
			add_ack(f, e->message_id.data, f->agency);
		break;
	case PPX__V1__ENTRY_KIND__ENTRY_REVIEW:
		if ((r = PUSH(f->m, f->reviews, f->n_reviews,
			      f->cap_reviews))) {
			r->related = e->related_seq;
			r->justified = e->access && e->access->justified;
		}
		break;
	default:
		break;
	}
	ppx__v1__log_entry__free_unpacked(e, NULL);
	return f->m->rc;
}

/* ------------------------------------------------------------------ */
/* Meetings and the case                                               */
/* ------------------------------------------------------------------ */

static int cmp_minutes(const void *a, const void *b)
{
	const struct m_minutes *x = a, *y = b;
	int c = strcmp(x->meeting_id, y->meeting_id);

	if (!c && x->version != y->version)
		c = x->version < y->version ? -1 : 1;
	if (!c && x->logged_ms != y->logged_ms)
		c = x->logged_ms < y->logged_ms ? -1 : 1;
	return c;
}

/* Each meeting by the latest version of its minutes. */
static void latest_meetings(struct facts *f)
{
	sort_n(f->mins, f->n_mins, sizeof(*f->mins), cmp_minutes);
	for (size_t i = 0; i < f->n_mins; i++) {
		struct m_minutes **p;

		if (i + 1 < f->n_mins && strcmp(f->mins[i].meeting_id,
					       f->mins[i + 1].meeting_id) == 0)
			continue;
		if ((p = PUSH(f->m, f->meetings, f->n_meetings,
			      f->cap_meetings)))
			*p = &f->mins[i];
	}
}

static int cmp_record(const void *a, const void *b)
{
	const struct m_record *x = a, *y = b;
	int c = strcmp(x->record_id, y->record_id);

	if (!c && x->version != y->version)
		c = x->version < y->version ? -1 : 1;
	if (!c && x->logged_ms != y->logged_ms)
		c = x->logged_ms < y->logged_ms ? -1 : 1;
	return c;
}

/*
 * Call fn for the latest version of each record logged before `before_ms`
 * (the records sorted by cmp_record): that version is what the log held
 * of the record then, as cases.c takes it now.
 */
static void each_latest_record(const struct facts *f, int64_t before_ms,
			       void (*fn)(void *, const struct m_record *),
			       void *ctx)
{
	const struct m_record *best = NULL;

	for (size_t i = 0; i < f->n_recs; i++) {
		const struct m_record *r = &f->recs[i];

		if (best && strcmp(best->record_id, r->record_id) != 0) {
			fn(ctx, best);
			best = NULL;
		}
		if (r->logged_ms < before_ms)
			best = r;
	}
	if (best)
		fn(ctx, best);
}

struct on_case {
	struct report *rp;
	const struct m_minutes *mt;
	const char *seen[64];
	size_t n_seen;
};

/* Each agency a record of the meeting's case lists, counted once. */
static void count_on_case(void *ctx, const struct m_record *r)
{
	struct on_case *c = ctx;
	const struct m_minutes *mt = c->mt;

	if (!keys_meet(r->keys, r->n_keys, mt->keys, mt->n_keys))
		return;
	for (size_t i = 0; i < r->n_agencies; i++) {
		const char *a = r->agencies[i];

		if (has(c->seen, c->n_seen, a) || c->n_seen == 64)
			continue;
		c->seen[c->n_seen++] = a;
		report_tally(c->rp, M_UNINVITED, a, mt->area, mt->date,
			     !has(mt->required, mt->n_required, a) &&
				     !has(mt->actual, mt->n_actual, a));
	}
}

static void count_attendance(struct report *rp, const struct facts *f)
{
	for (size_t i = 0; i < f->n_meetings; i++) {
		const struct m_minutes *mt = f->meetings[i];
		struct on_case c = {.rp = rp, .mt = mt};

		if (mt->cancelled || !report_in_period(rp, mt->date))
			continue;
		for (size_t j = 0; j < mt->n_required; j++)
			report_tally(rp, M_ATTENDED, mt->required[j], mt->area,
				     mt->date, has(mt->actual, mt->n_actual,
						   mt->required[j]));
		each_latest_record(f, mt->logged_ms + 1, count_on_case, &c);
	}
}

/* A later meeting about the same subject, or an earlier one: the nearest
 * meeting (not cancelled) on the other side of `mt`'s date; NULL if none. */
static const struct m_minutes *
neighbour(const struct facts *f, const struct m_minutes *mt, int later)
{
	const struct m_minutes *best = NULL;

	for (size_t i = 0; i < f->n_meetings; i++) {
		const struct m_minutes *o = f->meetings[i];

		if (o == mt || o->cancelled || o->date == DEADLINES_NONE ||
		    (later ? o->date <= mt->date : o->date >= mt->date) ||
		    !keys_meet(o->keys, o->n_keys, mt->keys, mt->n_keys))
			continue;
		if (!best || (later ? o->date < best->date
				    : o->date > best->date ||
					      (o->date == best->date &&
					       o->logged_ms > best->logged_ms)))
			best = o;
	}
	return best;
}

static void count_meetings(struct report *rp, const struct facts *f)
{
	for (size_t i = 0; i < f->n_meetings; i++) {
		const struct m_minutes *mt = f->meetings[i], *prev;

		if (!report_in_period(rp, mt->date))
			continue;
		if (mt->cancelled) {
			report_tally(rp, M_NOT_REARRANGED, mt->agency, mt->area,
				     mt->date, !mt->rearranged &&
						       !neighbour(f, mt, 1));
		} else if (*mt->plan && (prev = neighbour(f, mt, 0))) {
			report_tally(rp, M_PLAN_COPIED, mt->agency, mt->area,
				     mt->date, strcmp(prev->plan, mt->plan) == 0);
		}
	}
}

/* ------------------------------------------------------------------ */
/* Notifications                                                       */
/* ------------------------------------------------------------------ */

/* The release date the log last heard of for the subject of `n`. */
static ppx_day release_of(const struct facts *f, const struct m_notif *n)
{
	const struct m_notif *best = NULL;

	for (size_t i = 0; i < f->n_notifs; i++) {
		const struct m_notif *o = &f->notifs[i];

		if (o->kind == PPX__V1__NOTIFICATION_KIND__RELEASE_DATE &&
		    o->effective != DEADLINES_NONE &&
		    keys_meet(o->keys, o->n_keys, n->keys, n->n_keys) &&
		    (!best || o->logged_ms >= best->logged_ms))
			best = o;
	}
	return best ? best->effective : DEADLINES_NONE;
}

static int accepted(const struct facts *f, const uint8_t *id,
		    const char *agency)
{
	for (size_t i = 0; i < f->n_acks; i++)
		if (memcmp(f->acks[i].id, id, ID_LEN) == 0 &&
		    strcmp(f->acks[i].agency, agency) == 0)
			return 1;
	return 0;
}

static void count_transfer(struct report *rp, const struct facts *f,
			   const struct m_notif *n, ppx_day day)
{
	int ours = strcmp(n->sender, f->agency) == 0;

	for (size_t j = 0; j < n->n_to; j++) {
		const char *to = n->to[j];

		/* What we received: only our own acceptance is sure to be
		 * in our log. */
		if (strcmp(to, n->sender) == 0 ||
		    (!ours && strcmp(to, f->agency) != 0))
			continue;
		report_tally(rp, M_TRANSFER, to, n->area, day,
			     !accepted(f, n->id, to));
	}
}

static void count_notifications(struct report *rp, const struct facts *f)
{
	for (size_t i = 0; i < f->n_notifs; i++) {
		const struct m_notif *n = &f->notifs[i];
		ppx_day day = ppx_date_of_ms(n->logged_ms), release;

		if (!report_in_period(rp, day))
			continue;
		if (n->kind == PPX__V1__NOTIFICATION_KIND__TRANSFER)
			count_transfer(rp, f, n, day);
		if (n->kind != PPX__V1__NOTIFICATION_KIND__MAPPA_REFERRAL ||
		    (release = release_of(f, n)) == DEADLINES_NONE)
			continue;
		report_tally(rp, M_REFERRAL, n->sender, n->area, day,
			     day <= release - REFERRAL_DAYS);
	}
}

/* ------------------------------------------------------------------ */
/* Emergency accesses, and the snapshot                                */
/* ------------------------------------------------------------------ */

static const struct m_review *review_of(const struct facts *f, uint64_t seq)
{
	for (size_t i = 0; i < f->n_reviews; i++)
		if (f->reviews[i].related == seq)
			return &f->reviews[i];
	return NULL;
}

static void count_emergency(struct report *rp, const struct facts *f)
{
	for (size_t i = 0; i < f->n_acc; i++) {
		const struct m_access *a = &f->acc[i];
		ppx_day day = ppx_date_of_ms(a->ms);
		const struct m_review *r;

		if (!report_in_period(rp, day))
			continue;
		report_tally(rp, M_EMERGENCY, a->agency, NULL, day,
			     a->emergency);
		if (!a->owes)
			continue;
		r = review_of(f, a->seq);
		report_tally(rp, M_REVIEWED, a->agency, NULL, day, r != NULL);
		report_tally(rp, M_REVIEW_OVERDUE, a->agency, NULL, day,
			     !r && a->due_ms > 0 && a->due_ms < rp->as_of_ms);
		if (r)
			report_tally(rp, M_JUSTIFIED, a->agency, NULL, day,
				     r->justified);
	}
}

static void count_snapshot(void *ctx, const struct m_record *r)
{
	struct snapshot *s = ctx;

	s->n[r->category][r->level]++;
	s->total++;
}

/* ------------------------------------------------------------------ */
/* The whole                                                           */
/* ------------------------------------------------------------------ */

static void facts_free(struct facts *f)
{
	free(f->mins);
	free(f->meetings);
	free(f->notifs);
	free(f->acks);
	free(f->recs);
	free(f->acc);
	free(f->reviews);
	dl_mem_free(f->m);
}

int report_measures(struct report *rp, ppx_log *log, const char *agency)
{
	struct facts f = {0};
	struct scan s = {&f, ppx_date_start_ms(rp->as_of + 1)};
	int64_t now = (int64_t)time(NULL) * 1000;
	int rc;

	if (!(f.m = calloc(1, sizeof(*f.m))))
		return ppx_error_set(PPX_ENOMEM, "out of memory");
	f.agency = dl_str(f.m, agency);
	rp->as_of_ms = now < s.cutoff_ms ? now : s.cutoff_ms;
	rc = ppx_log_foreach(log, 0, ppx_log_size(log), scan_entry, &s);
	if (rc == 0 && (rc = f.m->rc) == 0) {
		latest_meetings(&f);
		sort_n(f.recs, f.n_recs, sizeof(*f.recs), cmp_record);
		count_attendance(rp, &f);
		count_meetings(rp, &f);
		count_notifications(rp, &f);
		count_emergency(rp, &f);
		memset(rp->snap.n, 0, sizeof(rp->snap.n));
		rp->snap.total = 0;
		each_latest_record(&f, ppx_date_start_ms(rp->snap.day + 1),
				   count_snapshot, &rp->snap);
		rc = f.m->rc ? f.m->rc : rp->failed ? PPX_ENOMEM : 0;
		if (rc == PPX_ENOMEM && !f.m->rc)
			ppx_error_set(PPX_ENOMEM, "out of memory");
	}
	facts_free(&f);
	return rc;
}
