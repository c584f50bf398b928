/*
 * deadlines_join.c — the facts of one pass over the log (deadlines.c),
 * joined into obligations: minutes by meeting (the first issue against
 * the meeting date plus the working days of its level), action states
 * replayed in time order over the versions of the minutes and the action
 * updates, reviews met by a later meeting about the same subject
 * identifiers, and acknowledgements and receipts matched by message id.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "deadlines_int.h"
#include "ppx/error.h"

/* ------------------------------------------------------------------ */
/* Joining the facts into obligations                                  */
/* ------------------------------------------------------------------ */

static struct obligation *add_ob(struct deadlines_mem *m, struct deadlines *dl,
				 enum obligation_kind kind)
{
	struct obligation *o = PUSH(m, dl->ob, dl->n_ob, m->cap_ob);

	if (!o)
		return NULL;
	o->kind = kind;
	o->done_day = DEADLINES_NONE;
	o->to_receipt_ms = -1;
	o->to_ack_ms = -1;
	return o;
}

static const char *fmt(struct deadlines_mem *m, const char *f, ...)
	__attribute__((format(printf, 2, 3)));
static const char *fmt(struct deadlines_mem *m, const char *f, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, f);
	vsnprintf(buf, sizeof(buf), f, ap);
	va_end(ap);
	return dl_str(m, buf);
}

static int cmp_minutes(const void *a, const void *b)
{
	const struct minutes_v *x = a, *y = b;
	int c = strcmp(x->meeting_id, y->meeting_id);

	if (c)
		return c;
	if (x->logged_ms != y->logged_ms)
		return x->logged_ms < y->logged_ms ? -1 : 1;
	return x->version < y->version ? -1 : x->version > y->version;
}

static int cmp_update(const void *a, const void *b)
{
	const struct update *x = a, *y = b;
	int c = strcmp(x->meeting_id, y->meeting_id);

	if (!c)
		c = strcmp(x->action_id, y->action_id);
	if (!c && x->logged_ms != y->logged_ms)
		c = x->logged_ms < y->logged_ms ? -1 : 1;
	return c;
}

static int cmp_minutes_id(const void *a, const void *b)
{
	const struct minutes_v *const *x = a, *const *y = b;

	return memcmp((*x)->id, (*y)->id, ID_LEN);
}

/* Whether minutes v were sent by a party to update u (us, its sender or
 * a recipient): only those can be the minutes it names (PROTOCOL.md 4.3;
 * another agency's message under the same id is another message). */
static int party_to(const struct minutes_v *v, const struct update *u,
		    const char *us)
{
	if ((us && strcmp(v->sender, us) == 0) || strcmp(v->sender, u->sender) == 0)
		return 1;
	for (size_t i = 0; i < u->n_to; i++)
		if (strcmp(v->sender, u->to[i]) == 0)
			return 1;
	return 0;
}

/* An update names its minutes by replies_to; take the meeting from those
 * minutes, as signed, over the meeting_id it may also carry.  Then sort
 * the updates by meeting, action and time. */
static int resolve_updates(struct deadlines_mem *m)
{
	struct minutes_v **by_id = malloc((m->n_mins + 1) * sizeof(*by_id));

	if (!by_id)
		return ppx_error_set(PPX_ENOMEM, "out of memory");
	for (size_t i = 0; i < m->n_mins; i++)
		by_id[i] = &m->mins[i];
	sort_n(by_id, m->n_mins, sizeof(*by_id), cmp_minutes_id);
	for (size_t i = 0; i < m->n_updates; i++) {
		struct minutes_v key, *kp = &key, **hit;

		memcpy(key.id, m->updates[i].replies_to, ID_LEN);
		hit = bsearch(&kp, by_id, m->n_mins, sizeof(*by_id),
			      cmp_minutes_id);
		while (hit && hit > by_id && cmp_minutes_id(hit - 1, &kp) == 0)
			hit--;	/* the first minutes with that id */
		for (; hit && hit < by_id + m->n_mins &&
		       cmp_minutes_id(hit, &kp) == 0; hit++)
			if (party_to(*hit, &m->updates[i], m->agency)) {
				m->updates[i].meeting_id = (*hit)->meeting_id;
				break;
			}
	}
	free(by_id);
	sort_n(m->updates, m->n_updates, sizeof(*m->updates), cmp_update);
	return 0;
}

/* The state of one action: its copies in each version of the minutes and
 * its updates, replayed in time order.  Sets done / done_day and returns
 * the final status. */
static int replay_action(struct deadlines_mem *m, struct obligation *o,
			  const struct minutes_v *v, size_t nv,
			  const char *action_id)
{
	struct update key = {.meeting_id = v->meeting_id,
			     .action_id = action_id};
	size_t u = 0, lo = 0, hi = m->n_updates;
	int status = PPX__V1__ACTION_STATUS__ACTION_OPEN;
	int64_t done_ms = -1;

	while (lo < hi) {	/* the first update of this action */
		size_t mid = lo + (hi - lo) / 2;

		if (cmp_update(&m->updates[mid], &key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	u = lo;
	for (size_t i = 0; i <= nv;) {
		const struct update *up = u < m->n_updates &&
			strcmp(m->updates[u].meeting_id, key.meeting_id) == 0 &&
			strcmp(m->updates[u].action_id, action_id) == 0
			? &m->updates[u] : NULL;
		int64_t when;
		int st = -1;

		if (i < nv && (!up || v[i].logged_ms <= up->logged_ms)) {
			when = v[i].logged_ms;
			for (size_t k = 0; k < v[i].n_actions; k++)
				if (strcmp(v[i].actions[k].id, action_id) == 0)
					st = v[i].actions[k].status;
			i++;
		} else if (up) {
			when = up->logged_ms;
			st = up->status;
			u++;
		} else {
			break;
		}
		if (st <= 0)
			continue;
		if (st == PPX__V1__ACTION_STATUS__ACTION_COMPLETED &&
		    status != st)
			done_ms = when;
		else if (st != PPX__V1__ACTION_STATUS__ACTION_COMPLETED)
			done_ms = -1;
		status = st;
	}
	if (done_ms >= 0) {
		o->done = 1;
		o->done_day = ppx_date_of_ms(done_ms);
		o->done_ms = done_ms;
	}
	return status;
}

static void meeting_actions(struct deadlines_mem *m, struct deadlines *dl,
			    const struct minutes_v *v, size_t nv,
			    const struct minutes_v *latest)
{
	for (size_t i = 0; i < latest->n_actions; i++) {
		const struct action_v *a = &latest->actions[i];
		struct obligation *o;

		if (a->due == DEADLINES_NONE || !(o = add_ob(m, dl,
							     OBLIGATION_ACTION)))
			continue;
		o->ref = fmt(m, "%s/%s", latest->meeting_id, a->id);
		o->subject = latest->subject;
		o->keys = latest->keys;
		o->n_keys = latest->n_keys;
		o->what = a->what;
		o->agency = a->agency;
		o->person = a->person;
		o->start = latest->date;
		o->due = a->due;
		o->level = latest->level == 3 ? 3 : 2;
		if (replay_action(m, o, v, nv, a->id) ==
		    PPX__V1__ACTION_STATUS__ACTION_CANCELLED)
			dl->n_ob--;	/* cancelled: nothing is owed */
	}
}

/* The minutes obligation of one meeting, met by its first issue. */
static void meeting_minutes(struct deadlines_mem *m, struct deadlines *dl,
			    const struct deadlines_config *cfg,
			    const ppx_calendar *cal,
			    const struct minutes_v *first,
			    const struct minutes_v *latest)
{
	long days = latest->level == PPX__V1__MAPPA_LEVEL__LEVEL_3
			    ? cfg->minutes_level3_days
			    : cfg->minutes_level2_days;
	struct obligation *o = add_ob(m, dl, OBLIGATION_MINUTES);

	if (!o)
		return;
	o->ref = latest->meeting_id;
	o->subject = latest->subject;
	o->keys = latest->keys;
	o->n_keys = latest->n_keys;
	o->what = fmt(m, "minutes of the level %d meeting of %s",
		      latest->level == 3 ? 3 : 2, latest->meeting_id);
	o->agency = first->sender;
	o->person = first->sender_person;
	o->start = latest->date;
	o->level = latest->level == 3 ? 3 : 2;
	if (ppx_workdays_add(&o->due, cal, latest->date, (int)days) != 0)
		o->due = latest->date;
	o->done = 1;
	o->done_ms = first->logged_ms;
	o->done_day = ppx_date_of_ms(first->logged_ms);
}

/* The next review of the subjects of a meeting; met later, by subject. */
static void meeting_review(struct deadlines_mem *m, struct deadlines *dl,
			   const struct deadlines_config *cfg,
			   const struct minutes_v *latest)
{
	long weeks = latest->level == PPX__V1__MAPPA_LEVEL__LEVEL_3
			     ? cfg->review_level3_weeks
			     : cfg->review_level2_weeks;
	struct obligation *o;

	if (latest->n_keys == 0 || !(o = add_ob(m, dl, OBLIGATION_REVIEW)))
		return;
	o->ref = latest->meeting_id;
	o->subject = latest->subject;
	o->keys = latest->keys;
	o->n_keys = latest->n_keys;
	o->what = fmt(m, "next MAPPA meeting (level %d, every %ld weeks)",
		      latest->level == 3 ? 3 : 2, weeks);
	o->agency = latest->chair_agency;
	o->person = latest->chair;
	o->start = latest->date;
	o->due = latest->date + (ppx_day)(weeks * 7);
	o->level = latest->level == 3 ? 3 : 2;
}

static int decided(const struct deadlines_mem *m, const char *meeting_id)
{
	for (size_t i = 0; i < m->n_decisions; i++)
		if (m->decisions[i].considered &&
		    strcmp(m->decisions[i].meeting_id, meeting_id) == 0)
			return 1;
	return 0;
}

/* One meeting: versions v[0..nv) of its minutes, oldest first. */
static void add_meeting(struct deadlines_mem *m, struct deadlines *dl,
			const struct deadlines_config *cfg,
			const ppx_calendar *cal, const struct minutes_v *v,
			size_t nv)
{
	const struct minutes_v *latest = &v[0];
	struct meeting *mt;

	for (size_t i = 1; i < nv; i++)
		if (v[i].version >= latest->version)
			latest = &v[i];
	if (latest->date == DEADLINES_NONE ||
	    !(mt = PUSH(m, dl->meetings, dl->n_meetings, m->cap_meetings)))
		return;
	mt->meeting_id = latest->meeting_id;
	mt->agency = v[0].sender;
	mt->date = latest->date;
	mt->level = latest->level;
	mt->cancelled = latest->cancelled;
	mt->considered = latest->considered || decided(m, latest->meeting_id);
	if (latest->cancelled)
		return;
	meeting_minutes(m, dl, cfg, cal, &v[0], latest);
	meeting_actions(m, dl, v, nv, latest);
	meeting_review(m, dl, cfg, latest);
}

/* Reviews: a key of a reviewed subject, its meeting date, its review. */
struct review_key {
	const char *key;
	ppx_day date;
	size_t ob;
};

static int cmp_review_key(const void *a, const void *b)
{
	const struct review_key *x = a, *y = b;
	int c = strcmp(x->key, y->key);

	return c ? c : x->date < y->date ? -1 : x->date > y->date;
}

/* A review is met by the next meeting about any of the same subject
 * identifiers: sort (key, date) and look one date ahead in each key. */
static int join_reviews(struct deadlines *dl)
{
	struct review_key *rk;
	size_t n = 0, total = 0;

	for (size_t i = 0; i < dl->n_ob; i++)
		if (dl->ob[i].kind == OBLIGATION_REVIEW)
			total += dl->ob[i].n_keys;
	if (!(rk = calloc(total + 1, sizeof(*rk))))
		return ppx_error_set(PPX_ENOMEM, "out of memory");
	for (size_t i = 0; i < dl->n_ob; i++)
		for (size_t k = 0; dl->ob[i].kind == OBLIGATION_REVIEW &&
				   k < dl->ob[i].n_keys; k++)
			rk[n++] = (struct review_key){dl->ob[i].keys[k],
						      dl->ob[i].start, i};
	sort_n(rk, n, sizeof(*rk), cmp_review_key);
	for (size_t end = n; end > 0;) {
		size_t start = end - 1;
		ppx_day cur = DEADLINES_NONE, next = DEADLINES_NONE;

		while (start > 0 && strcmp(rk[start - 1].key, rk[end - 1].key) == 0)
			start--;
		for (size_t k = end; k-- > start;) {
			struct obligation *o = &dl->ob[rk[k].ob];

			if (rk[k].date != cur) {
				next = cur;
				cur = rk[k].date;
			}
			if (next != DEADLINES_NONE &&
			    (!o->done || next < o->done_day)) {
				o->done = 1;
				o->done_day = next;
			}
		}
		end = start;
	}
	free(rk);
	return 0;
}

static int cmp_ack(const void *a, const void *b)
{
	const struct ack *x = a, *y = b;
	int c = memcmp(x->id, y->id, ID_LEN);

	return c ? c : x->logged_ms < y->logged_ms ? -1
		     : x->logged_ms > y->logged_ms;
}

static int cmp_receipt(const void *a, const void *b)
{
	const struct receipt *x = a, *y = b;
	int c = memcmp(x->id, y->id, ID_LEN);

	return c ? c : x->time_ms < y->time_ms ? -1 : x->time_ms > y->time_ms;
}

/* By (id, sender): a message id is unique per sender only, and another
 * agency's message under the same id is another message. */
static int cmp_notif(const void *a, const void *b)
{
	const struct notif *x = a, *y = b;
	int c = memcmp(x->id, y->id, ID_LEN);

	if (!c)
		c = strcmp(x->sender, y->sender);
	/* A message we sent sorts before a copy we received, if any. */
	return c ? c : (x->sent_ms < 0) - (y->sent_ms < 0);
}

/* Whether acknowledgement a is of notification n: by the owner it is
 * owed by, and, for one we received, sent to n's sender (not to another
 * agency that used the same id). */
static int acks_it(const struct ack *a, const struct notif *n,
		   const char *owner)
{
	if (!a->agency || strcmp(a->agency, owner) != 0)
		return 0;
	if (n->sent_ms >= 0 || a->n_to == 0)
		return 1;
	for (size_t i = 0; i < a->n_to; i++)
		if (strcmp(a->to[i], n->sender) == 0)
			return 1;
	return 0;
}

/* The first element of sorted `arr` whose first ID_LEN bytes are `id`. */
static size_t first_with_id(const void *arr, size_t n, size_t size,
			    const uint8_t *id)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (memcmp((const char *)arr + mid * size, id, ID_LEN) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static void ack_obligation(struct deadlines_mem *m, struct deadlines *dl,
			   const struct notif *n, const char *owner)
{
	size_t a = first_with_id(m->acks, m->n_acks, sizeof(*m->acks), n->id);
	size_t r = first_with_id(m->receipts, m->n_receipts,
				 sizeof(*m->receipts), n->id);
	char hex[2 * ID_LEN + 1];
	struct obligation *o = add_ob(m, dl, OBLIGATION_ACK);

	if (!o)
		return;
	ppx_hex(hex, n->id, ID_LEN);
	o->ref = dl_str(m, hex);
	o->subject = n->subject;
	o->keys = n->keys;
	o->n_keys = n->n_keys;
	o->what = fmt(m, "acknowledge %s from %s", n->kind, n->sender);
	o->agency = owner;
	o->person = "";
	o->start = ppx_date_of_ms(n->logged_ms);
	o->due = ppx_date_of_ms(n->deadline_ms);
	o->due_ms = n->deadline_ms;
	for (; a < m->n_acks && memcmp(m->acks[a].id, n->id, ID_LEN) == 0; a++)
		if (acks_it(&m->acks[a], n, owner)) {
			o->done = 1;
			o->done_ms = m->acks[a].logged_ms;
			o->done_day = ppx_date_of_ms(o->done_ms);
			o->to_ack_ms = o->done_ms - n->logged_ms;
			o->person = m->acks[a].person;
			break;
		}
	for (; n->sent_ms >= 0 && r < m->n_receipts &&
	       memcmp(m->receipts[r].id, n->id, ID_LEN) == 0; r++)
		if (strcmp(m->receipts[r].peer, owner) == 0) {
			o->to_receipt_ms = m->receipts[r].time_ms - n->sent_ms;
			if (o->to_receipt_ms < 0)
				o->to_receipt_ms = 0;
			break;
		}
}

/*
 * Acknowledgements owed.  For a notification we sent, each recipient owes
 * one and sends it to us.  For one we received, only our own is sure to
 * be in this log, so only ours is counted.
 */
static void join_acks(struct deadlines_mem *m, struct deadlines *dl)
{
	for (size_t i = 0; i < m->n_acks; i++)
		if (!m->acks[i].agency)
			m->acks[i].agency = m->agency ? m->agency : "";
	sort_n(m->acks, m->n_acks, sizeof(*m->acks), cmp_ack);
	sort_n(m->receipts, m->n_receipts, sizeof(*m->receipts), cmp_receipt);
	sort_n(m->notifs, m->n_notifs, sizeof(*m->notifs), cmp_notif);
	for (size_t i = 0; i < m->n_notifs; i++) {
		const struct notif *n = &m->notifs[i];

		if (i > 0 && memcmp(n->id, m->notifs[i - 1].id, ID_LEN) == 0 &&
		    strcmp(n->sender, m->notifs[i - 1].sender) == 0)
			continue;	/* the same message twice */
		for (size_t k = 0; k < n->n_to; k++) {
			int ours = m->agency && strcmp(n->to[k], m->agency) == 0;

			if (n->sent_ms >= 0 || ours ||
			    (!m->agency && n->n_to == 1))
				ack_obligation(m, dl, n, n->to[k]);
		}
	}
}

int dl_join(struct deadlines_mem *m, struct deadlines *dl,
		const struct deadlines_config *cfg, const ppx_calendar *cal)
{
	int rc;

	if ((rc = resolve_updates(m)) != 0)
		return rc;
	sort_n(m->mins, m->n_mins, sizeof(*m->mins), cmp_minutes);
	for (size_t i = 0, j; i < m->n_mins; i = j) {
		j = i + 1;
		while (j < m->n_mins &&
		       strcmp(m->mins[j].meeting_id, m->mins[i].meeting_id) == 0)
			j++;
		if (m->mins[i].meeting_id[0])
			add_meeting(m, dl, cfg, cal, &m->mins[i], j - i);
	}
	if (m->rc || (rc = join_reviews(dl)) != 0)
		return m->rc ? m->rc : rc;
	join_acks(m, dl);
	return m->rc;
}
