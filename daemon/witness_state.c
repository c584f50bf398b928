/*
 * witness_state.c — what witnessing keeps per partner across restarts,
 * and how the loop, the outbox and the status reach it.
 *
 * One struct wpeer per partner link.  At start each is rebuilt from the
 * entries its marks point at (the last ENTRY_WITNESSED that cosigned, the
 * last ENTRY_COSIGNED, the last ENTRY_WITNESS_ALARM): three reads per
 * partner, however long the log.  Gossip still to prove and the alarm
 * pairs already logged are kept in memory only: after a restart an alarm
 * may be logged once more.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "ppx/error.h"
#include "state.h"
#include "transport.h"
#include "witness_int.h"

/* The entry the mark `prefix` || agency points at, or NULL. */
static Ppx__V1__LogEntry *marked(struct ppxd *d, const char *prefix,
				 const char *agency, uint64_t *seq)
{
	char set[PPX_LOG_CURSOR_NAME_MAX + 1];
	struct ppx_log_mark *m = NULL;
	Ppx__V1__LogEntry *e = NULL;
	size_t n = 0;

	if (snprintf(set, sizeof(set), "%s%s", prefix, agency) >=
		    (int)sizeof(set) ||
	    ppx_log_mark_list(d->log, set, &m, &n, 1) != 0 || n == 0) {
		free(m);
		return NULL;
	}
	*seq = m[0].seq;
	free(m);
	if (ppx_log_get(d->log, *seq, &e) != 0) {
		log_warnx("witnessing mark %s at %llu unreadable: %s", set,
			  (unsigned long long)*seq, ppx_error_last());
		return NULL;
	}
	return e;
}

/* The frame `which` (0: request, 1: reply) of a WitnessRecord entry. */
static Ppx__V1__Frame *record_frame(const Ppx__V1__LogEntry *e, int which)
{
	Ppx__V1__WitnessRecord *rec = ppx__v1__witness_record__unpack(
		NULL, e->data.len, e->data.data);
	Ppx__V1__Frame *f = NULL;

	if (rec) {
		const ProtobufCBinaryData *b = which ? &rec->reply
						     : &rec->request;

		if (ppx_frame_decode(&f, b->data, b->len) != 0)
			f = NULL;
		ppx__v1__witness_record__free_unpacked(rec, NULL);
	}
	return f;
}

/* The checkpoint an ENTRY_PARTNER_RESTORED moved the held one to: its
 * notice's (restore.c), as a Frame{witness} would carry it. */
static Ppx__V1__Frame *restored_frame(const Ppx__V1__LogEntry *e,
				      Ppx__V1__RestoreNotice **notice)
{
	Ppx__V1__PartnerRestoreRecord *rec =
		ppx__v1__partner_restore_record__unpack(NULL, e->data.len,
							 e->data.data);
	Ppx__V1__Frame *f = NULL;

	*notice = NULL;
	if (rec && ppx_frame_decode(&f, rec->notice.data, rec->notice.len) == 0 &&
	    f->content_case == PPX__V1__FRAME__CONTENT_RESTORE)
		*notice = ppx__v1__restore_notice__unpack(
			NULL, f->restore->signed_body.len,
			f->restore->signed_body.data);
	if (rec)
		ppx__v1__partner_restore_record__free_unpacked(rec, NULL);
	return f;
}

static void restore_held(struct ppxd *d, struct wpeer *p)
{
	Ppx__V1__LogEntry *e = marked(d, MARK_HELD, p->agency, &p->held_mark);
	Ppx__V1__RestoreNotice *notice = NULL;
	Ppx__V1__Frame *f = NULL;
	Ppx__V1__Checkpoint *cp = NULL;
	const Ppx__V1__Envelope *env = NULL;

	if (e && e->kind == PPX__V1__ENTRY_KIND__ENTRY_PARTNER_RESTORED) {
		f = restored_frame(e, &notice);
		env = notice ? notice->checkpoint : NULL;
	} else if (e && (f = record_frame(e, 0)) != NULL &&
		   f->content_case == PPX__V1__FRAME__CONTENT_WITNESS) {
		env = f->witness->checkpoint;
	}
	if (env &&
	    (cp = ppx__v1__checkpoint__unpack(NULL, env->signed_body.len,
					      env->signed_body.data)) &&
	    cp->root_hash.len == PPX_HASH_LEN) {
		size_t len = ppx__v1__envelope__get_packed_size(env);

		if ((p->held.env = malloc(len ? len : 1)) != NULL) {
			p->held.env_len = len;
			ppx__v1__envelope__pack(env, p->held.env);
			p->held.size = cp->tree_size;
			memcpy(p->held.root, cp->root_hash.data, PPX_HASH_LEN);
			p->held.ms = e->time_ms;
		}
	}
	if (cp)
		ppx__v1__checkpoint__free_unpacked(cp, NULL);
	if (notice)
		ppx__v1__restore_notice__free_unpacked(notice, NULL);
	if (f)
		ppx__v1__frame__free_unpacked(f, NULL);
	if (e)
		ppx__v1__log_entry__free_unpacked(e, NULL);
}

const uint8_t *witness_held(struct ppxd *d, const char *agency, size_t *len,
			    uint64_t *size, uint8_t root[PPX_HASH_LEN])
{
	struct wpeer *p = d->witness ? witness_peer(d->witness, agency) : NULL;

	if (!p || !p->held.env)
		return NULL;
	*len = p->held.env_len;
	*size = p->held.size;
	memcpy(root, p->held.root, PPX_HASH_LEN);
	return p->held.env;
}

int witness_restored_mark(struct ppxd *d, const char *agency, uint64_t seq)
{
	struct wpeer *p = d->witness ? witness_peer(d->witness, agency) : NULL;
	uint64_t mark;

	if (!p)
		return 0;
	mark = p->held_mark;	/* moved in memory once committed */
	return witness_mark(d, MARK_HELD, agency, &mark, seq);
}

void witness_restored(struct ppxd *d, const char *agency,
		      const Ppx__V1__Envelope *env, uint64_t size,
		      const uint8_t root[PPX_HASH_LEN], uint64_t seq)
{
	struct wpeer *p = d->witness ? witness_peer(d->witness, agency) : NULL;
	size_t len = ppx__v1__envelope__get_packed_size(env), k = 0;
	uint8_t *copy;

	if (!p)
		return;
	p->held_mark = seq;
	if (!(copy = malloc(len ? len : 1))) {
		log_warnx("witness %s: out of memory; the restored log's "
			  "checkpoint is held from the next start", agency);
		return;
	}
	ppx__v1__envelope__pack(env, copy);
	free(p->held.env);
	p->held.env = copy;
	p->held.env_len = len;
	p->held.size = size;
	memcpy(p->held.root, root, PPX_HASH_LEN);
	p->held.ms = ppxd_now_ms();
	/* What gossip and receipts showed of the log it replaced. */
	for (size_t i = 0; i < p->n_seen; i++) {
		if (p->seen[i].size > size) {
			free(p->seen[i].env);
			continue;
		}
		p->seen[k++] = p->seen[i];
	}
	p->n_seen = k;
}

void witness_restored_status(struct ppxd *d, const char *agency,
			     int64_t restored_ms, uint64_t size)
{
	struct wpeer *p = d->witness ? witness_peer(d->witness, agency) : NULL;

	if (p) {
		p->restored_ms = restored_ms;
		p->restored_size = size;
	}
}

void witness_log_restore(struct ppxd *d, struct wpeer *p)
{
	Ppx__V1__LogEntry *e = marked(d, MARK_COSIGNED, p->agency,
				      &p->cosigned_mark);
	Ppx__V1__Frame *f = e ? record_frame(e, 1) : NULL;

	if (f && f->content_case == PPX__V1__FRAME__CONTENT_COSIGNATURE) {
		p->cosigned_size = f->cosignature->tree_size;
		p->cosigned_ms = e->time_ms;
	}
	if (f)
		ppx__v1__frame__free_unpacked(f, NULL);
	if (e)
		ppx__v1__log_entry__free_unpacked(e, NULL);
}

static void restore_alarm(struct ppxd *d, struct wpeer *p)
{
	Ppx__V1__LogEntry *e = marked(d, MARK_ALARM, p->agency, &p->alarm_mark);

	if (!e)
		return;
	p->alarm = 1;
	p->alarm_ms = e->time_ms;
	snprintf(p->alarm_detail, sizeof(p->alarm_detail), "%s",
		 e->detail ? e->detail : "");
	ppx__v1__log_entry__free_unpacked(e, NULL);
}

int witness_new(struct witness **out, struct ppxd *d)
{
	size_t n = transport_links(d->transport);
	struct witness *w = calloc(1, sizeof(*w));

	if (!w || !(w->p = calloc(n ? n : 1, sizeof(*w->p))) ||
	    !(w->st = calloc(n ? n : 1, sizeof(*w->st))) ||
	    !(w->stp = calloc(n ? n : 1, sizeof(*w->stp)))) {
		witness_free(&w);
		return ppx_error_set(PPX_ENOMEM, "out of memory");
	}
	w->n = n;
	for (size_t i = 0; i < n; i++) {
		struct wpeer *p = &w->p[i];

		snprintf(p->agency, sizeof(p->agency), "%s",
			 transport_link_agency(d->transport, i));
		restore_held(d, p);
		witness_log_restore(d, p);
		restore_alarm(d, p);
	}
	*out = w;
	return 0;
}

int witness_partner_added(struct ppxd *d, size_t link)
{
	struct witness *w = d->witness;
	struct wpeer *np;
	Ppx__V1__WitnessStatus *nst, **nstp;
	size_t n;

	if (!w)
		return 0;	/* no witnessing in this daemon (tests) */
	if (link != w->n)
		return ppx_error_set(PPX_EINVAL, "witness: partner %zu added "
				     "after %zu", link, w->n);
	n = w->n + 1;
	if (!(np = realloc(w->p, n * sizeof(*np))))
		return ppx_error_set(PPX_ENOMEM, "out of memory");
	w->p = np;
	if (!(nst = realloc(w->st, n * sizeof(*nst))))
		return ppx_error_set(PPX_ENOMEM, "out of memory");
	w->st = nst;	/* witness_status() points stp into it anew */
	if (!(nstp = realloc(w->stp, n * sizeof(*nstp))))
		return ppx_error_set(PPX_ENOMEM, "out of memory");
	w->stp = nstp;
	memset(&np[link], 0, sizeof(np[link]));
	memset(&nst[link], 0, sizeof(nst[link]));
	nstp[link] = NULL;
	snprintf(np[link].agency, sizeof(np[link].agency), "%s",
		 transport_link_agency(d->transport, link));
	w->n = n;
	restore_held(d, &np[link]);
	witness_log_restore(d, &np[link]);
	restore_alarm(d, &np[link]);
	return 0;
}

void witness_free(struct witness **self)
{
	struct witness *w = *self;

	if (!w)
		return;
	for (size_t i = 0; w->p && i < w->n; i++) {
		free(w->p[i].held.env);
		for (size_t j = 0; j < w->p[i].n_seen; j++)
			free(w->p[i].seen[j].env);
		free(w->p[i].req);
	}
	free(w->p);
	free(w->st);
	free(w->stp);
	free(w);
	*self = NULL;
}

int witness_link_frame(struct ppxd *d, size_t link, const uint8_t *data,
		       size_t len)
{
	if (!d->witness || link >= d->witness->n ||
	    ppxd_frame_content(data, len) !=
		    PPX__V1__FRAME__CONTENT_COSIGNATURE)
		return 0;
	return witness_log_reply(d, &d->witness->p[link], data, len);
}

void witness_link_event(struct ppxd *d, size_t link, int up)
{
	struct wpeer *p;

	if (!d->witness || link >= d->witness->n)
		return;
	p = &d->witness->p[link];
	if (!up)
		p->up = 0;	/* the next session asks at once */
	p->retry_now = 0;
}

long witness_pump(struct ppxd *d, long max)
{
	int64_t now = ppxd_now_ms();
	long next = max;

	if (!d->witness || !d->cfg->witness)
		return max;
	for (size_t i = 0; i < d->witness->n; i++) {
		const struct ppx_partner *pt =
			ppx_config_partner(d->cfg, d->witness->p[i].agency);
		long t;

		if (pt && pt->witness_off)
			continue;	/* [partner NAME] witness = no */
		t = witness_log_pump(d, &d->witness->p[i], i, now);

		if (t >= 0 && (next < 0 || t < next))
			next = t;
	}
	return next;
}

void witness_status(struct ppxd *d, Ppx__V1__StatusReply *sr)
{
	struct witness *w = d->witness;

	if (!w)
		return;
	for (size_t i = 0; i < w->n; i++) {
		const struct wpeer *p = &w->p[i];
		Ppx__V1__WitnessStatus *s = &w->st[i];

		ppx__v1__witness_status__init(s);
		s->agency = (char *)p->agency;
		s->held_size = p->held.env ? p->held.size : 0;
		s->held_ms = p->held.env ? p->held.ms : 0;
		s->cosigned_size = p->cosigned_size;
		s->cosigned_ms = p->cosigned_ms;
		s->alarm = p->alarm;
		s->alarm_detail = (char *)p->alarm_detail;
		s->alarm_ms = p->alarm_ms;
		s->restored_ms = p->restored_ms;
		s->restored_size = p->restored_size;
		w->stp[i] = s;
	}
	sr->n_witnesses = w->n;
	sr->witnesses = w->stp;
}
