/*
 * deadlines.c — the obligations a log implies (deadlines.h tells what they
 * are): the pass over the log.
 *
 * The flow is two steps.  First one read-only pass over the log copies
 * the few facts each message contributes (a notification's deadline, the
 * minutes' meeting and actions, an acknowledgement, an action update, a
 * receipt, a partner record version) into flat arrays, with their text in
 * one memory pool; every protobuf message is freed where it is unpacked.
 * Then deadlines_join.c sorts the arrays and joins them into obligations.
 * Nothing here writes to the log.
 *
 * When something happened is the time of its entry in THIS log (logged_ms),
 * never the body's created_ms: a partner chooses what it writes in a body,
 * and could backdate its minutes or its acknowledgement to look on time.
 * For a message we sent that is our SENT entry; for one we received, our
 * RECEIVED entry: evidence our own daemon stamped.
 */
#include <stdlib.h>
#include <string.h>

#include "deadlines_int.h"
#include "ppx/entry.h"
#include "ppx/error.h"
#include "ppx/names.h"

/* ------------------------------------------------------------------ */
/* Memory: a text pool and growing arrays                              */
/* ------------------------------------------------------------------ */

void dl_fail(struct deadlines_mem *m, int rc)
{
	if (m->rc == 0)
		m->rc = rc;
}

void *dl_pool_alloc(struct deadlines_mem *m, size_t n)
{
	struct chunk *c = m->chunks;
	void *p;

	n = (n + sizeof(max_align_t) - 1) & ~(sizeof(max_align_t) - 1);
	if (!c || c->cap - c->used < n) {
		size_t cap = n > CHUNK_MIN ? n : CHUNK_MIN;

		if (m->pool_bytes + cap > DEADLINES_MAX_TEXT) {
			dl_fail(m, ppx_error_set(PPX_ETOOBIG, "the log holds more "
					      "than %u MiB of text to report "
					      "on", DEADLINES_MAX_TEXT >> 20));
			return NULL;
		}
		if (!(c = malloc(sizeof(*c) + cap))) {
			dl_fail(m, ppx_error_set(PPX_ENOMEM, "out of memory"));
			return NULL;
		}
		c->next = m->chunks;
		c->used = 0;
		c->cap = cap;
		m->chunks = c;
		m->pool_bytes += cap;
	}
	p = (char *)c->data + c->used;
	c->used += n;
	memset(p, 0, n);
	return p;
}

/* Length of the well-formed UTF-8 sequence at s, or 0. */
static size_t utf8_len(const unsigned char *s)
{
	size_t n = s[0] < 0x80 ? 1 : s[0] >= 0xc2 && s[0] < 0xe0 ? 2
		 : s[0] >= 0xe0 && s[0] < 0xf0 ? 3
		 : s[0] >= 0xf0 && s[0] < 0xf5 ? 4 : 0;

	for (size_t i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	if ((n == 3 && s[0] == 0xe0 && s[1] < 0xa0) ||
	    (n == 3 && s[0] == 0xed && s[1] >= 0xa0) ||
	    (n == 4 && s[0] == 0xf0 && s[1] < 0x90) ||
	    (n == 4 && s[0] == 0xf4 && s[1] >= 0x90))
		return 0;
	return n;
}

/* A pool copy of `s` ("" for NULL or on failure, which is recorded),
 * with bytes that are not well-formed UTF-8 replaced by '?': text from
 * partners goes out as JSON. */
const char *dl_str(struct deadlines_mem *m, const char *s)
{
	size_t len = s ? strlen(s) : 0;
	char *d;

	if (len == 0 || !(d = dl_pool_alloc(m, len + 1)))
		return "";
	for (size_t i = 0; i < len;) {
		size_t n = utf8_len((const unsigned char *)s + i);

		if (n == 0) {
			d[i++] = '?';
			continue;
		}
		memcpy(d + i, s + i, n);
		i += n;
	}
	return d;
}

/* Room for one more element of an array; a zeroed pointer to it. */
void *dl_push(struct deadlines_mem *m, void **arr, size_t *n,
		  size_t *cap, size_t size)
{
	if (*n == *cap) {
		size_t c = *cap ? 2 * *cap : 64;
		void *g;

		if (*n >= DEADLINES_MAX_ITEMS) {
			dl_fail(m, ppx_error_set(PPX_ETOOBIG, "more than %u items "
					      "of one kind to report on",
					      DEADLINES_MAX_ITEMS));
			return NULL;
		}
		if (c > DEADLINES_MAX_ITEMS)
			c = DEADLINES_MAX_ITEMS;
		if (!(g = realloc(*arr, c * size))) {
			dl_fail(m, ppx_error_set(PPX_ENOMEM, "out of memory"));
			return NULL;
		}
		*arr = g;
		*cap = c;
	}
	memset((char *)*arr + *n * size, 0, size);
	return (char *)*arr + (*n)++ * size;
}

/* ------------------------------------------------------------------ */
/* Subjects                                                            */
/* ------------------------------------------------------------------ */

static const struct {
	const char *prefix;
	size_t offset;
} schemes[] = {
	{"pnc:", offsetof(Ppx__V1__SubjectIds, pnc_id)},
	{"cro:", offsetof(Ppx__V1__SubjectIds, cro_number)},
	{"crn:", offsetof(Ppx__V1__SubjectIds, crn)},
	{"prison:", offsetof(Ppx__V1__SubjectIds, prison_number)},
	{"visor:", offsetof(Ppx__V1__SubjectIds, visor_id)},
};
#define N_SCHEMES (sizeof(schemes) / sizeof(schemes[0]))

static const char *scheme_id(const Ppx__V1__SubjectIds *s, size_t i)
{
	const char *id = *(char *const *)(const void *)((const char *)s +
							schemes[i].offset);

	return id && *id ? id : NULL;
}

/* "John Smith (pnc:2019/0123456X)", from the first subject with any. */
static const char *subject_label(struct deadlines_mem *m,
				 const Ppx__V1__SubjectIds *const *ids,
				 size_t n)
{
	char buf[512];

	for (size_t k = 0; k < n; k++) {
		const char *name = ids[k] && ids[k]->name ? ids[k]->name : "";
		size_t i = 0;

		if (!ids[k])
			continue;
		while (i < N_SCHEMES && !scheme_id(ids[k], i))
			i++;
		if (i == N_SCHEMES && !*name)
			continue;
		if (i == N_SCHEMES)
			return dl_str(m, name);
		snprintf(buf, sizeof(buf), "%s%s%s%s%s", name, *name ? " (" : "",
			 schemes[i].prefix, scheme_id(ids[k], i),
			 *name ? ")" : "");
		return dl_str(m, buf);
	}
	return "(no subject)";
}

/* The identifier keys of all of `ids`, without repeats, in the pool. */
void dl_subject_keys(struct deadlines_mem *m, const char ***out, size_t *n,
		     const Ppx__V1__SubjectIds *const *ids, size_t n_ids)
{
	const char **keys = dl_pool_alloc(m, (n_ids * N_SCHEMES + 1) *
					      sizeof(*keys));
	char buf[512];

	*out = keys;
	*n = 0;
	for (size_t k = 0; keys && k < n_ids; k++)
		for (size_t i = 0; ids[k] && i < N_SCHEMES; i++) {
			size_t j = 0;

			if (!scheme_id(ids[k], i))
				continue;
			snprintf(buf, sizeof(buf), "%s%s", schemes[i].prefix,
				 scheme_id(ids[k], i));
			while (j < *n && strcmp(keys[j], buf) != 0)
				j++;
			if (j == *n)
				keys[(*n)++] = dl_str(m, buf);
		}
}

/* ------------------------------------------------------------------ */
/* The pass over the log                                               */
/* ------------------------------------------------------------------ */

static ppx_day day_of(const char *s)
{
	ppx_day d;

	return s && ppx_date_parse(&d, s) == 0 ? d : DEADLINES_NONE;
}

static int yes(int answer, int old_bool)
{
	return answer == PPX__V1__YES_NO__YES ||
	       (answer == PPX__V1__YES_NO__YES_NO_UNSPECIFIED && old_bool);
}

static void add_notification(struct deadlines_mem *m,
			     const Ppx__V1__LogEntry *e,
			     const Ppx__V1__Body *b)
{
	const Ppx__V1__SubjectIds *subj = b->subject;
	const char *kind = ppx_notification_kind_name(b->notification->kind);
	struct notif *n;

	if (b->ack_deadline_ms <= 0 || b->n_recipients == 0 ||
	    !(n = PUSH(m, m->notifs, m->n_notifs, m->cap_notifs)))
		return;
	memcpy(n->id, b->message_id.data, ID_LEN);
	n->sender = dl_str(m, b->sender_agency);
	n->kind = dl_str(m, kind ? kind : "notification");
	n->subject = subject_label(m, &subj, 1);
	dl_subject_keys(m, &n->keys, &n->n_keys, &subj, 1);
	n->logged_ms = e->time_ms;
	n->deadline_ms = b->ack_deadline_ms;
	n->sent_ms = e->kind == PPX__V1__ENTRY_KIND__ENTRY_SENT ? e->time_ms
								 : -1;
	n->to = dl_pool_alloc(m, b->n_recipients * sizeof(*n->to));
	for (size_t i = 0; n->to && i < b->n_recipients; i++)
		n->to[n->n_to++] = dl_str(m, b->recipients[i]);
}

static void copy_actions(struct deadlines_mem *m, struct minutes_v *v,
			 const Ppx__V1__Minutes *mn)
{
	v->actions = dl_pool_alloc(m, (mn->n_actions + 1) * sizeof(*v->actions));
	for (size_t i = 0; v->actions && i < mn->n_actions; i++) {
		const Ppx__V1__Action *a = mn->actions[i];
		struct action_v *d = &v->actions[v->n_actions];

		if (!a || !a->id || !*a->id)
			continue;
		d->id = dl_str(m, a->id);
		d->what = dl_str(m, a->description);
		d->agency = dl_str(m, a->owner ? a->owner->agency : NULL);
		d->person = dl_str(m, a->owner ? a->owner->name : NULL);
		d->due = day_of(a->due_date);
		d->status = a->status;
		v->n_actions++;
	}
}

static void add_minutes(struct deadlines_mem *m, const Ppx__V1__LogEntry *e,
			const Ppx__V1__Body *b)
{
	const Ppx__V1__Minutes *mn = b->minutes;
	const Ppx__V1__SubjectIds **ids;
	struct minutes_v *v;

	if (!(v = PUSH(m, m->mins, m->n_mins, m->cap_mins)))
		return;
	memcpy(v->id, b->message_id.data, ID_LEN);
	v->meeting_id = dl_str(m, mn->meeting_id);
	v->sender = dl_str(m, b->sender_agency);
	v->sender_person = dl_str(m, b->sender_person ? b->sender_person->name
						 : NULL);
	v->chair = dl_str(m, mn->chair ? mn->chair->name : NULL);
	v->chair_agency = dl_str(m, mn->chair && mn->chair->agency &&
				       *mn->chair->agency
				       ? mn->chair->agency
				       : mn->lead_agency);
	v->logged_ms = e->time_ms;
	v->version = mn->version;
	v->date = day_of(mn->meeting_date);
	v->level = mn->level;
	v->cancelled = mn->meeting_cancelled;
	v->considered = yes(mn->disclosure_considered_answer,
			    mn->disclosure_considered) || mn->n_disclosures > 0;
	/* The subjects: the minutes' own list, then the body's. */
	ids = dl_pool_alloc(m, (mn->n_subjects + 1) * sizeof(*ids));
	if (ids) {
		for (size_t i = 0; i < mn->n_subjects; i++)
			ids[i] = mn->subjects[i];
		ids[mn->n_subjects] = b->subject;
		v->subject = subject_label(m, ids, mn->n_subjects + 1);
		dl_subject_keys(m, &v->keys, &v->n_keys, ids, mn->n_subjects + 1);
	}
	copy_actions(m, v, mn);
}

static void add_update(struct deadlines_mem *m, const Ppx__V1__LogEntry *e,
		       const Ppx__V1__Body *b)
{
	const Ppx__V1__ActionUpdate *u = b->action_update;
	struct update *d;

	if (!u->action_id || !*u->action_id ||
	    !(d = PUSH(m, m->updates, m->n_updates, m->cap_updates)))
		return;
	if (b->replies_to.len == ID_LEN)
		memcpy(d->replies_to, b->replies_to.data, ID_LEN);
	d->sender = dl_str(m, b->sender_agency);
	if ((d->to = dl_pool_alloc(m, (b->n_recipients + 1) * sizeof(*d->to))))
		for (size_t i = 0; i < b->n_recipients; i++)
			d->to[d->n_to++] = dl_str(m, b->recipients[i]);
	d->meeting_id = dl_str(m, u->meeting_id);
	d->action_id = dl_str(m, u->action_id);
	d->status = u->status;
	d->logged_ms = e->time_ms;
}

static void add_ack(struct deadlines_mem *m, const uint8_t *id,
		    const char *agency, const char *person, int64_t when)
{
	struct ack *a = PUSH(m, m->acks, m->n_acks, m->cap_acks);

	if (!a)
		return;
	memcpy(a->id, id, ID_LEN);
	a->agency = agency ? dl_str(m, agency) : NULL;
	a->person = dl_str(m, person);
	a->logged_ms = when;
}

/* The agencies the acknowledgement added last (if one was added since
 * there were `before`) went to: the message's sender is one of them, for
 * a message id is unique per sender only.  None: unknown (a local
 * ENTRY_ACKNOWLEDGED note without a peer). */
static void ack_recipients(struct deadlines_mem *m, size_t before,
			   char *const *to, size_t n_to)
{
	struct ack *a = m->n_acks > before ? &m->acks[m->n_acks - 1] : NULL;

	if (!a || n_to == 0 || !(a->to = dl_pool_alloc(m, n_to *
							 sizeof(*a->to))))
		return;
	for (size_t i = 0; i < n_to; i++)
		a->to[a->n_to++] = dl_str(m, to[i]);
}

static void add_decision(struct deadlines_mem *m, const Ppx__V1__Body *b)
{
	const Ppx__V1__DisclosureDecision *d = b->disclosure;
	struct decision *x;

	if (!d->meeting_id || !*d->meeting_id ||
	    !(x = PUSH(m, m->decisions, m->n_decisions, m->cap_decisions)))
		return;
	x->meeting_id = dl_str(m, d->meeting_id);
	x->considered = yes(d->considered_answer, d->considered);
}

static void add_record(struct deadlines_mem *m, struct deadlines *dl,
		       const Ppx__V1__LogEntry *e, const Ppx__V1__Body *b)
{
	const Ppx__V1__PartnerRecord *r = b->partner_record;
	const Ppx__V1__SubjectIds *ids[2] = {r->subject, b->subject};
	struct record_copy *v;
	const char **keys;

	if (!r->record_id || !*r->record_id ||
	    !(v = PUSH(m, dl->records, dl->n_records, m->cap_records)))
		return;
	v->agency = dl_str(m, b->sender_agency);
	v->record_id = dl_str(m, r->record_id);
	v->subject = subject_label(m, ids, 2);
	dl_subject_keys(m, &keys, &v->n_keys, ids, 2);
	v->keys = keys;
	v->version = r->version;
	v->logged_ms = e->time_ms;
	v->level = r->level;
	for (size_t i = 0; i < r->n_rosh; i++)
		if (r->rosh[i] && r->rosh[i]->group > 0 &&
		    r->rosh[i]->group < DEADLINES_GROUPS)
			v->rosh[r->rosh[i]->group] = r->rosh[i]->level;
}

static void add_body(struct deadlines_mem *m, struct deadlines *dl,
		     const Ppx__V1__LogEntry *e, const Ppx__V1__Body *b)
{
	switch (b->payload_case) {
	case PPX__V1__BODY__PAYLOAD_NOTIFICATION:
		add_notification(m, e, b);
		break;
	case PPX__V1__BODY__PAYLOAD_MINUTES:
		add_minutes(m, e, b);
		break;
	case PPX__V1__BODY__PAYLOAD_DISCLOSURE:
		add_decision(m, b);
		break;
	case PPX__V1__BODY__PAYLOAD_PARTNER_RECORD:
		add_record(m, dl, e, b);
		break;
	case PPX__V1__BODY__PAYLOAD_ACKNOWLEDGEMENT:
		if (b->replies_to.len == ID_LEN)
			add_ack(m, b->replies_to.data, b->sender_agency,
				b->acknowledgement->acknowledged_by
					? b->acknowledgement->acknowledged_by->name
					: b->sender_person ? b->sender_person->name
							   : NULL,
				e->time_ms);
		break;
	case PPX__V1__BODY__PAYLOAD_ACTION_UPDATE:
		add_update(m, e, b);
		break;
	default:
		break;
	}
}

/* A SENT or RECEIVED entry: the Body inside the logged frame. */
static void scan_message(struct deadlines_mem *m, struct deadlines *dl,
			 const Ppx__V1__LogEntry *e)
{
	Ppx__V1__Body *b = NULL;
	size_t acks;

	if (ppx_entry_body(&b, NULL, e) != 0) {
		dl->undecodable++;
	} else if (b->message_id.len == ID_LEN && e->time_ms < m->cutoff_ms) {
		if (e->kind == PPX__V1__ENTRY_KIND__ENTRY_SENT && !m->agency &&
		    b->sender_agency && *b->sender_agency)
			m->agency = dl_str(m, b->sender_agency);
		acks = m->n_acks;
		add_body(m, dl, e, b);
		if (b->payload_case == PPX__V1__BODY__PAYLOAD_ACKNOWLEDGEMENT)
			ack_recipients(m, acks, b->recipients, b->n_recipients);
	}
	if (b)
		ppx__v1__body__free_unpacked(b, NULL);
}

/* A RECEIPT_RECEIVED entry: the messages the partner stored. */
static void scan_receipt(struct deadlines_mem *m, struct deadlines *dl,
			 const Ppx__V1__LogEntry *e)
{
	Ppx__V1__ReceiptBody *r = NULL;

	/* Not cut at the as-of day: a receipt measures a delivery, and a
	 * scripted or back-dated history is only delivered now. */
	if (ppx_entry_receipt(&r, e) != 0)
		dl->undecodable++;
	for (size_t i = 0; r && i < r->n_items; i++) {
		const Ppx__V1__ReceiptItem *it = r->items[i];
		struct receipt *x;

		if (it->message_id.len != ID_LEN ||
		    (it->status != PPX__V1__RECEIPT_STATUS__STORED &&
		     it->status != PPX__V1__RECEIPT_STATUS__DUPLICATE) ||
		    !(x = PUSH(m, m->receipts, m->n_receipts, m->cap_receipts)))
			continue;
		memcpy(x->id, it->message_id.data, ID_LEN);
		x->peer = dl_str(m, e->peer_agency);
		x->time_ms = e->time_ms;
	}
	if (r)
		ppx__v1__receipt_body__free_unpacked(r, NULL);
}

struct scan {
	struct deadlines_mem *m;
	struct deadlines *dl;
};

static int scan_entry(void *ctx, uint64_t seq, const uint8_t *data,
		      size_t len)
{
	struct scan *s = ctx;
	Ppx__V1__LogEntry *e = ppx__v1__log_entry__unpack(NULL, len, data);

	if (!e) {
		s->dl->undecodable++;
		return 0;
	}
	dl_scan_emergency(s->m, seq, e);
	switch (e->kind) {
	case PPX__V1__ENTRY_KIND__ENTRY_SENT:
	case PPX__V1__ENTRY_KIND__ENTRY_RECEIVED:
		scan_message(s->m, s->dl, e);
		break;
	case PPX__V1__ENTRY_KIND__ENTRY_RECEIPT_RECEIVED:
		scan_receipt(s->m, s->dl, e);
		break;
	case PPX__V1__ENTRY_KIND__ENTRY_ACKNOWLEDGED:
		/* A person here took the message on: ours, agency later. */
		if (e->message_id.len == ID_LEN && e->time_ms < s->m->cutoff_ms) {
			size_t before = s->m->n_acks;

			add_ack(s->m, e->message_id.data, NULL, e->person,
				e->time_ms);
			ack_recipients(s->m, before, &e->peer_agency,
				       e->peer_agency[0] ? 1 : 0);
		}
		break;
	default:
		break;
	}
	ppx__v1__log_entry__free_unpacked(e, NULL);
	return s->m->rc;
}

/* ------------------------------------------------------------------ */
/* The whole                                                           */
/* ------------------------------------------------------------------ */

static void free_facts(struct deadlines_mem *m)
{
	free(m->notifs);
	free(m->mins);
	free(m->updates);
	free(m->acks);
	free(m->receipts);
	free(m->decisions);
	free(m->emergencies);
	free(m->reviews);
	m->emergencies = NULL;
	m->reviews = NULL;
	m->notifs = NULL;
	m->mins = NULL;
	m->updates = NULL;
	m->acks = NULL;
	m->receipts = NULL;
	m->decisions = NULL;
}

void dl_mem_free(struct deadlines_mem *m)
{
	if (!m)
		return;
	while (m->chunks) {
		struct chunk *c = m->chunks;

		m->chunks = c->next;
		free(c);
	}
	free(m);
}

void deadlines_free(struct deadlines *self)
{
	if (!self)
		return;
	if (self->mem) {
		free_facts(self->mem);
		dl_mem_free(self->mem);
	}
	free(self->ob);
	free(self->meetings);
	free(self->records);
	free(self);
}

int deadlines_collect(struct deadlines **out, ppx_log *log,
		      const struct deadlines_config *cfg,
		      const ppx_calendar *cal, ppx_day as_of,
		      const char *agency)
{
	struct deadlines *dl = calloc(1, sizeof(*dl));
	struct scan s;
	int rc;

	*out = NULL;
	if (!dl || !(dl->mem = calloc(1, sizeof(*dl->mem)))) {
		free(dl);
		return ppx_error_set(PPX_ENOMEM, "out of memory");
	}
	dl->as_of = as_of;
	dl->mem->cutoff_ms = ppx_date_start_ms(as_of + 1);
	if (agency && *agency)
		dl->mem->agency = dl_str(dl->mem, agency);
	s.m = dl->mem;
	s.dl = dl;
	rc = ppx_log_foreach(log, 0, ppx_log_size(log), scan_entry, &s);
	if (rc == 0)
		rc = dl_join(dl->mem, dl, cfg, cal);
	if (rc == 0) {
		dl_join_emergency(dl->mem, dl);
		rc = dl->mem->rc;
	}
	if (rc != 0) {
		deadlines_free(dl);
		return rc;
	}
	dl->agency = dl->mem->agency ? dl->mem->agency : "";
	free_facts(dl->mem);
	*out = dl;
	return 0;
}

const char *obligation_kind_name(enum obligation_kind kind)
{
	switch (kind) {
	case OBLIGATION_MINUTES: return "minutes";
	case OBLIGATION_ACTION: return "action";
	case OBLIGATION_ACK: return "acknowledge";
	case OBLIGATION_REVIEW: return "review";
	case OBLIGATION_EMERGENCY: return "emergency-review";
	}
	return "?";
}
