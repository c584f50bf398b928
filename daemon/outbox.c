/*
 * outbox.c — store and forward, per partner, in order, until receipted.
 *
 * See outbox.h for the model.  The receipt side: a receipt is verified
 * (signed by the partner the link leads to, addressed to us), each item is
 * matched to our SENT entry by message id and by the hash of the exact
 * bytes we signed, and only then is RECEIPT_RECEIVED logged and the outbox
 * key removed, in one commit.  A refusal the partner calls transient
 * (storage full, internal fault) leaves the message pending; any other
 * refusal ends its delivery to that partner and is logged with the reason.
 *
 * Proof of recording (PROTOCOL.md 5.3): before a receipt delivers
 * anything, every STORED or DUPLICATE item of it that settles a message
 * we wait for must prove that the partner logged exactly the frame we
 * sent (ppx_receipt_check_recorded(): its checkpoint, our frame spliced
 * into its entry, the inclusion proof).  A receipt whose proof fails
 * delivers nothing: it is logged as REJECTED with what failed, counted
 * (as REJECT_BAD_BODY) and said, and the messages stay queued.  A partner
 * with `proofs = optional` (a version-1 peer) may send none: its receipts
 * then deliver without proof of recording, which ppx show says.
 *
 * When our own log is full the receipt cannot be logged and the message
 * stays in the durable outbox; it has been delivered, though, so it is
 * parked rather than put back to be sent again: resending it with the
 * rest would keep the window full of delivered messages and hold back the
 * ones behind them, which the partner never gets while our disk is full.
 * Parked messages go back into their lane retry_max_ms later, so that
 * their receipts are logged once there is room (the partner answers a
 * repeat with its original receipt).
 *
 * Batch signatures (PROTOCOL.md 3.4): each verified receipt says whether
 * its partner accepts batch-signed messages; that is kept per lane, in
 * memory only, so after a restart every partner gets single signatures
 * until its next receipt says otherwise.  outbox_seal() signs the bodies
 * of a burst whose every recipient accepts batches under batch signatures
 * of at most batch_sign_max bodies, and the rest one by one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "inbound.h"
#include "log.h"
#include "outbox.h"
#include "partners.h"
#include "ppx/config.h"
#include "ppx/delivery.h"
#include "ppx/entry.h"
#include "ppx/envelope.h"
#include "ppx/error.h"
#include "ppx/names.h"
#include "ppx/receipt.h"
#include "ppx/text.h"
#include "state.h"
#include "stats.h"
#include "trace.h"
#include "witness.h"
#include "writer.h"

#define LANE_MAX (16u * 1024 * 1024)	/* pending messages per partner */

struct lane {
	uint64_t *seq;		/* pending SENT entries, log order */
	size_t head, n, cap;	/* pending are seq[head .. n) */
	size_t in_flight;	/* seq[head .. head+in_flight) sent this try */
	int64_t last_progress_ms;
	int64_t next_retry_ms;
	long backoff_ms;
	int needs_reset;	/* recreate the link at next_retry_ms */
	Ppx__V1__RejectReason transient_reason;	/* last said, or 0 */
	uint64_t transient_n;	/* refusals for it since it was said */
	uint64_t *parked;	/* receipted, the receipt not storable */
	size_t n_parked, cap_parked;
	int64_t unpark_ms;	/* when the parked go back into the lane */
	int accepts_batch;	/* its last verified receipt said so */
	struct outbox_stats stats;
};

struct outbox {
	struct lane *lanes;
	size_t n;
};

static int lane_push(struct lane *l, uint64_t seq)
{
	if (l->head > 0 && l->head == l->n)
		l->head = l->n = 0;
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 256;
		uint64_t *s;

		if (l->head > 0) {	/* compact before growing */
			memmove(l->seq, l->seq + l->head,
				(l->n - l->head) * sizeof(*s));
			l->n -= l->head;
			l->head = 0;
			return lane_push(l, seq);
		}
		if (cap > LANE_MAX || !(s = realloc(l->seq, cap * sizeof(*s))))
			return ppx_error_set(PPX_ENOMEM,
					     "outbox of a partner is full");
		l->seq = s;
		l->cap = cap;
	}
	l->seq[l->n++] = seq;
	return 0;
}

/* Index of `seq` among the pending, or PPX_ENOTFOUND. */
static long lane_find(const struct lane *l, uint64_t seq)
{
	for (size_t i = l->head; i < l->n; i++)
		if (l->seq[i] == seq)
			return (long)i;
	return PPX_ENOTFOUND;
}

static int cmp_seq(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

static void lane_remove(struct lane *l, size_t i)
{
	if (i < l->head + l->in_flight)
		l->in_flight--;
	if (i == l->head) {
		l->head++;
		return;
	}
	memmove(l->seq + i, l->seq + i + 1, (l->n - i - 1) * sizeof(*l->seq));
	l->n--;
}

/* Lane i, empty, filled from the durable outbox of link i's partner. */
static int lane_load(struct ppxd *d, struct lane *l, size_t i)
{
	const char *agency = transport_link_agency(d->transport, i);
	uint64_t *seqs = NULL;
	size_t n = 0;
	int rc;

	memset(l, 0, sizeof(*l));
	l->backoff_ms = d->cfg->retry_initial_ms;
	rc = ppx_log_outbox_list(d->log, agency, &seqs, &n, LANE_MAX);
	for (size_t k = 0; rc == 0 && k < n; k++)
		rc = lane_push(l, seqs[k]);
	free(seqs);
	if (n)
		log_info("outbox: %zu messages wait for %s", n, agency);
	return rc;
}

int outbox_new(struct outbox **out, struct ppxd *d)
{
	struct outbox *o = calloc(1, sizeof(*o));
	size_t links = transport_links(d->transport);
	int rc = 0;

	*out = NULL;
	if (!o || !(o->lanes = calloc(links ? links : 1, sizeof(*o->lanes)))) {
		free(o);
		return ppx_error_set(PPX_ENOMEM, "out of memory");
	}
	o->n = links;
	for (size_t i = 0; rc == 0 && i < links; i++)
		rc = lane_load(d, &o->lanes[i], i);
	if (rc != 0) {
		outbox_free(&o);
		return rc;
	}
	*out = o;
	return 0;
}

void outbox_free(struct outbox **self)
{
	if (!*self)
		return;
	for (size_t i = 0; i < (*self)->n; i++) {
		free((*self)->lanes[i].seq);
		free((*self)->lanes[i].parked);
	}
	free((*self)->lanes);
	free(*self);
	*self = NULL;
}

int outbox_partner_added(struct ppxd *d, size_t link)
{
	struct outbox *o = d->outbox;
	struct lane *nl;

	if (link != o->n)
		return ppx_error_set(PPX_EINVAL, "outbox: lane %zu added after "
				     "%zu lanes", link, o->n);
	nl = realloc(o->lanes, (o->n + 1) * sizeof(*nl));
	if (!nl)
		return ppx_error_set(PPX_ENOMEM, "out of memory");
	o->lanes = nl;
	o->n++;
	return lane_load(d, &nl[link], link);
}

void outbox_partner_dropped(struct ppxd *d, size_t link)
{
	struct outbox *o = d->outbox;

	if (link + 1 != o->n)
		return;
	free(o->lanes[link].seq);
	free(o->lanes[link].parked);
	o->n--;
}

struct queued {
	size_t link;
	uint64_t seq;
};

static void queue_after_commit(struct ppxd *d, void *arg, int rc)
{
	struct queued *q = arg;

	if (rc == 0 && q->link < d->outbox->n &&
	    lane_push(&d->outbox->lanes[q->link], q->seq) != 0)
		log_warnx("cannot queue entry %llu: %s",
			  (unsigned long long)q->seq, ppx_error_last());
	free(q);
}

int outbox_add(struct ppxd *d, const char *partner, uint64_t seq)
{
	int link = transport_link_find(d->transport, partner);
	ppx_log_batch *b;
	struct queued *q;
	int rc;

	if (link < 0 || (size_t)link >= d->outbox->n)
		return ppx_error_set(PPX_EINVAL, "%s is not a configured partner",
				     partner);
	rc = writer_batch(d, &b);
	if (rc == 0)
		rc = ppx_log_outbox_add(b, partner, seq);
	if (rc != 0)
		return rc;
	q = malloc(sizeof(*q));
	if (!q)
		return ppx_error_set(PPX_ENOMEM, "out of memory");
	q->link = (size_t)link;
	q->seq = seq;
	if ((rc = writer_after(d, queue_after_commit, q)) != 0)
		free(q);
	return rc;
}

void outbox_lane_reorder(struct ppxd *d, const char *partner)
{
	int link = transport_link_find(d->transport, partner);
	struct lane *l;

	if (link < 0 || (size_t)link >= d->outbox->n)
		return;
	l = &d->outbox->lanes[link];
	if (l->n > l->head)	/* an empty lane may have no array yet */
		qsort(l->seq + l->head, l->n - l->head, sizeof(*l->seq),
		      cmp_seq);
	outbox_link_event(d, (size_t)link, LINK_DOWN);
}

/* Does the receipt item answer exactly the bytes we signed as `seq`? */
static int matches_sent(struct ppxd *d, uint64_t seq,
			const Ppx__V1__ReceiptItem *it)
{
	Ppx__V1__LogEntry *e = NULL;
	uint8_t hash[PPX_HASH_LEN];
	int ok;

	if (ppx_log_get(d->log, seq, &e) != 0)
		return 0;
	ok = ppx_entry_body_hash(hash, e) == 0 &&
	     memcmp(hash, it->body_hash.data, sizeof(hash)) == 0;
	ppx__v1__log_entry__free_unpacked(e, NULL);
	return ok;
}

/* Refusals that depend on the partner's state, not on the message: it
 * stays queued and is sent again after the backoff. */
static int transient(int reason)
{
	return reason == PPX__V1__REJECT_REASON__REJECT_STORAGE_FULL ||
	       reason == PPX__V1__REJECT_REASON__REJECT_INTERNAL ||
	       reason == PPX__V1__REJECT_REASON__REJECT_CRL_UNAVAILABLE ||
	       reason == PPX__V1__REJECT_REASON__REJECT_CLOCK_SKEW ||
	       reason == PPX__V1__REJECT_REASON__REJECT_OVER_QUOTA ||
	       reason == PPX__V1__REJECT_REASON__REJECT_BUSY;
}

/*
 * A transient refusal (a full disk, a stale CRL, clocks apart) can last for
 * hours and come back for every message at every retry: say it when the
 * reason changes, then every 1,000th time with the count.
 */
static void note_transient(struct lane *l, const char *agency, uint64_t seq,
			   const Ppx__V1__ReceiptItem *it)
{
	if (l->transient_reason == it->reason && ++l->transient_n % 1000)
		return;
	if (l->transient_reason != it->reason)
		l->transient_n = 1;
	l->transient_reason = it->reason;
	log_event(LOG_WARNING, &(struct log_fields){
			  .partner = agency, .seq = seq, .has_seq = 1,
			  .reason = ppx_reject_reason_name(it->reason)},
		  "%s refused entry %llu for now (%llu such refusals), will "
		  "retry: %s", agency, (unsigned long long)seq,
		  (unsigned long long)l->transient_n, it->detail);
}

/* What a receipt frame settles, kept until its commit. */
struct settled {
	size_t link;
	size_t n;
	int64_t time_ms;
	struct {
		uint64_t seq;
		int refused;
	} item[];
};

/* Parks a delivered message whose receipt our full log could not take;
 * 0, or PPX_ENOMEM if there is no memory for it (it goes back into the
 * lane). */
static int lane_park(struct ppxd *d, struct lane *l, uint64_t seq)
{
	if (l->n_parked == l->cap_parked) {
		size_t cap = l->cap_parked ? 2 * l->cap_parked : 256;
		uint64_t *p;

		if (cap > LANE_MAX ||
		    !(p = realloc(l->parked, cap * sizeof(*p))))
			return PPX_ENOMEM;
		l->parked = p;
		l->cap_parked = cap;
	}
	if (l->n_parked == 0)
		l->unpark_ms = ppxd_now_ms() + d->cfg->retry_max_ms;
	l->parked[l->n_parked++] = seq;
	return 0;
}

/* The parked messages back into the lane, in log order, to be sent again
 * so that their receipts can be logged. */
static void lane_unpark(struct ppxd *d, size_t i, struct lane *l)
{
	size_t n = 0;

	for (; n < l->n_parked && lane_push(l, l->parked[n]) == 0; n++)
		;
	log_info("trying again to log the receipts of %zu messages "
		 "delivered to %s while the log was full", n,
		 transport_link_agency(d->transport, i));
	memmove(l->parked, l->parked + n, (l->n_parked - n) * sizeof(*l->parked));
	l->n_parked -= n;
	l->unpark_ms = ppxd_now_ms() + d->cfg->retry_max_ms;
	qsort(l->seq + l->head, l->n - l->head, sizeof(*l->seq), cmp_seq);
}

/*
 * After the commit the settled messages are gone for good; if the commit
 * failed they go back into their lane (in log order) to be sent again --
 * unless it failed because the log is full: then they are parked.
 */
static void settle_after_commit(struct ppxd *d, void *arg, int rc)
{
	struct settled *s = arg;
	struct lane *l = &d->outbox->lanes[s->link];

	for (size_t i = 0; i < s->n; i++) {
		if (rc == PPX_EFULL && lane_park(d, l, s->item[i].seq) == 0)
			continue;
		if (rc != 0) {
			lane_push(l, s->item[i].seq);
			continue;
		}
		if (s->item[i].refused)
			l->stats.refused++;
		else
			l->stats.delivered++;
	}
	if (rc != 0 && s->n > 0)	/* restore log order */
		qsort(l->seq + l->head, l->n - l->head, sizeof(*l->seq),
		      cmp_seq);
	if (rc == 0 && s->n > 0) {
		l->last_progress_ms = s->time_ms;
		l->stats.last_receipt_ms = s->time_ms;
		l->backoff_ms = d->cfg->retry_initial_ms;
		l->transient_reason = 0;	/* the next one is news */
	}
	free(s);
}

/*
 * Which pending message an item settles: its SENT entry must be waiting
 * for this link and the item must name exactly the bytes we signed.
 * Returns the seq, or a negative code for an item ignored: PPX_ENOTFOUND
 * (already settled, or not ours), PPX_EINVAL (another body than the one
 * we sent), PPX_EAGAIN (a transient refusal, retried after the timeout).
 */
static long long item_target(struct ppxd *d, size_t link,
			     const Ppx__V1__ReceiptItem *it)
{
	const char *agency = transport_link_agency(d->transport, link);
	uint64_t seq;

	if (it->message_id.len != PPX_MESSAGE_ID_LEN ||
	    ppx_log_find(d->log, PPX__V1__ENTRY_KIND__ENTRY_SENT, "",
			 it->message_id.data, it->message_id.len, &seq) != 0 ||
	    lane_find(&d->outbox->lanes[link], seq) < 0)
		return PPX_ENOTFOUND;
	if (!matches_sent(d, seq, it)) {
		log_warnx("receipt from %s names entry %llu with another body "
			  "hash: ignored",
			  agency, (unsigned long long)seq);
		return PPX_EINVAL;
	}
	if (it->status == PPX__V1__RECEIPT_STATUS__REFUSED) {
		if (transient(it->reason)) {
			/* retried after the timeout */
			note_transient(&d->outbox->lanes[link], agency, seq, it);
			return PPX_EAGAIN;
		}
		log_event(LOG_WARNING, &(struct log_fields){
				  .partner = agency, .seq = seq, .has_seq = 1,
				  .reason = ppx_reject_reason_name(it->reason)},
			  "%s refused entry %llu: %s", agency,
			  (unsigned long long)seq, it->detail);
	}
	return (long long)seq;
}

/*
 * Log one verified receipt frame once, indexed under every message id it
 * settles, remove those messages from the durable outbox in the same
 * commit, and take them out of the lane now so that a second copy of the
 * receipt in this iteration settles nothing.
 */
static void settle_frame(struct ppxd *d, size_t link,
			 const Ppx__V1__ReceiptBody *r, const uint8_t *frame,
			 size_t len)
{
	const char *agency = transport_link_agency(d->transport, link);
	Ppx__V1__LogEntry e = PPX__V1__LOG_ENTRY__INIT;
	struct lane *l = &d->outbox->lanes[link];
	ProtobufCBinaryData *ids = calloc(r->n_items + 1, sizeof(*ids));
	struct settled *s = calloc(1, sizeof(*s) + r->n_items * sizeof(s->item[0]));
	ppx_log_batch *b;
	uint64_t rseq;
	int rc;

	if (!ids || !s) {	/* nothing taken out: the partner answers again */
		log_warnx("receipt from %s not taken: out of memory", agency);
		free(ids);
		free(s);
		return;
	}
	for (size_t i = 0; i < r->n_items; i++) {
		long long seq = item_target(d, link, r->items[i]);

		if (seq < 0)
			continue;
		lane_remove(l, (size_t)lane_find(l, (uint64_t)seq));
		s->item[s->n].seq = (uint64_t)seq;
		s->item[s->n++].refused =
			r->items[i]->status == PPX__V1__RECEIPT_STATUS__REFUSED;
		ids[e.n_related_ids++] = r->items[i]->message_id;
	}
	if (s->n == 0) {	/* nothing new in it */
		free(ids);
		free(s);
		return;
	}
	s->link = link;
	s->time_ms = ppxd_now_ms();
	e.kind = PPX__V1__ENTRY_KIND__ENTRY_RECEIPT_RECEIVED;
	e.peer_agency = (char *)agency;
	e.related_ids = ids;
	e.data.data = (uint8_t *)frame;
	e.data.len = len;
	rc = writer_append(d, &e, &rseq);
	for (size_t i = 0; rc == 0 && i < s->n; i++)
		if ((rc = writer_batch(d, &b)) == 0)
			rc = ppx_log_outbox_del(b, agency, s->item[i].seq);
	if (rc != 0) {
		log_warnx("cannot log the receipt from %s: %s", agency,
			  ppx_error_last());
		/* The receipt and its outbox removals are stored together
		 * or not at all: the batch is aborted, and the lane restored
		 * by settle_after_commit(). */
		writer_fail(d, rc);
	}
	if (writer_after(d, settle_after_commit, s) != 0) {
		/* Not told of the commit: put them back now, and keep the
		 * receipt out of the log. */
		writer_fail(d, PPX_ENOMEM);
		settle_after_commit(d, s, PPX_ENOMEM);
	}
	free(ids);
}

/* Must the partner behind `link` prove what it recorded? */
static int proofs_required(struct ppxd *d, const char *agency)
{
	const struct ppx_partner *p = ppx_config_partner(d->cfg, agency);

	return d->cfg->evidence_proofs && !(p && p->proofs_optional);
}

/* The proof of recording of item `it`, if it settles a message we wait
 * for as STORED or DUPLICATE: 0 when it holds (or is absent and not
 * required), else the code with the error set. */
static int check_item_proof(struct ppxd *d, size_t link,
			    const Ppx__V1__ReceiptBody *r,
			    const Ppx__V1__ReceiptItem *it, int required,
			    const ppx_trust **trust)
{
	Ppx__V1__LogEntry *e = NULL;
	uint8_t hash[PPX_HASH_LEN];
	uint64_t seq;
	int rc;

	if (it->status != PPX__V1__RECEIPT_STATUS__STORED &&
	    it->status != PPX__V1__RECEIPT_STATUS__DUPLICATE)
		return 0;
	if (it->message_id.len != PPX_MESSAGE_ID_LEN ||
	    ppx_log_find(d->log, PPX__V1__ENTRY_KIND__ENTRY_SENT, "",
			 it->message_id.data, it->message_id.len, &seq) != 0 ||
	    lane_find(&d->outbox->lanes[link], seq) < 0 ||
	    ppx_log_get(d->log, seq, &e) != 0)
		return 0;	/* settles nothing: item_target() says why */
	if (ppx_entry_body_hash(hash, e) != 0 ||
	    memcmp(hash, it->body_hash.data, sizeof(hash)) != 0) {
		ppx__v1__log_entry__free_unpacked(e, NULL);
		return 0;	/* another body: item_target() says so */
	}
	rc = ppx_receipt_check_recorded(NULL, *trust, r, it, e->data.data,
					e->data.len, d->cfg->agency,
					time(NULL));
	ppx__v1__log_entry__free_unpacked(e, NULL);
	if (rc == 0)	/* the receipt's one checkpoint: its signature holds */
		*trust = NULL;
	if (rc == PPX_ENOTFOUND && !required)
		rc = 0;
	else if (rc == PPX_ENOTFOUND)
		rc = ppx_error_set(PPX_EPROOF, "%s (required: [evidence] "
				   "proofs = yes and [partner %s] proofs = "
				   "required)", ppx_error_last(),
				   r->receiver_agency);
	return rc;
}

/* Every item's proof of recording holds; else the receipt is logged as
 * REJECTED, counted, said, and delivers nothing. */
static int check_proofs(struct ppxd *d, size_t link,
			const Ppx__V1__ReceiptBody *r, const uint8_t *data,
			size_t len)
{
	const char *agency = transport_link_agency(d->transport, link);
	int required = proofs_required(d, agency);
	const ppx_trust *trust = d->trust;	/* NULL once checked */
	char raw[600], detail[256];
	/* The proofs' checkpoint: signed by a key the directory lists. */
	int rc = witness_checkpoint_allowed(d, agency, r->checkpoint);

	for (size_t i = 0; rc == 0 && i < r->n_items; i++)
		rc = check_item_proof(d, link, r, r->items[i], required,
				      &trust);
	if (rc == 0)
		return 0;
	snprintf(raw, sizeof(raw), "receipt without valid proof of "
		 "recording, nothing delivered: %s", ppx_error_last());
	ppx_text_escape(detail, sizeof(detail), raw, strlen(raw));
	log_warnx("%s: %s", agency, detail);
	d->receipts_unproven++;
	ppxd_count_refusal(d, PPX_EBODY);
	stats_refused(d, agency, PPX_EBODY);
	inbound_log_refused_receipt(d, agency, data, len, PPX_EBODY, detail);
	return rc;
}

static void receipt_frame(struct ppxd *d, size_t link, const uint8_t *data,
			  size_t len)
{
	const char *agency = transport_link_agency(d->transport, link);
	Ppx__V1__ReceiptBody *r = NULL;
	int rc = ppx_receipt_open(&r, d->trust, data, len, agency,
				  d->cfg->agency, time(NULL));

	if (rc == 0)	/* with a directory: listed, and not cut off */
		rc = partners_frame_allowed(d, agency, data, len,
					    PARTNERS_USE_RECEIPT);

	if (rc != 0) {
		char raw[600], detail[256];

		/* Cut at a character: the detail is logged and shown. */
		snprintf(raw, sizeof(raw), "receipt: %s", ppx_error_last());
		ppx_text_escape(detail, sizeof(detail), raw, strlen(raw));
		ppxd_count_refusal(d, rc);
		stats_refused(d, agency, rc);
		inbound_log_refused_receipt(d, agency, data, len, rc, detail);
		if (r)
			ppx__v1__receipt_body__free_unpacked(r, NULL);
		return;
	}
	/* Verified and ours: whether it takes batch signatures now. */
	if (link < d->outbox->n)
		d->outbox->lanes[link].accepts_batch =
			d->cfg->batch_signatures && r->accepts_batch;
	if (check_proofs(d, link, r, data, len) == 0) {
		settle_frame(d, link, r, data, len);
		witness_receipt_seen(d, agency, r->checkpoint);
	}
	ppx__v1__receipt_body__free_unpacked(r, NULL);
}

void outbox_receipts(struct ppxd *d, size_t link, size_t max)
{
	struct transport_frame frame;

	if (link >= d->outbox->n)
		return;	/* a link without a lane: nothing is owed on it */
	for (size_t n = 0;
	     n < max && transport_link_recv(d->transport, link, &frame) == 0;
	     n++) {
		if (!witness_link_frame(d, link, frame.data, frame.len))
			receipt_frame(d, link, frame.data, frame.len);
		trace_count(TRACE_RECEIPTS, 1);
		transport_frame_done(d->transport, &frame);
	}
}

void outbox_link_event(struct ppxd *d, size_t link, enum link_event ev)
{
	struct lane *l;
	const char *agency;

	if (link >= d->outbox->n)
		return;
	l = &d->outbox->lanes[link];
	agency = transport_link_agency(d->transport, link);

	witness_link_event(d, link, ev == LINK_UP);
	if (ev == LINK_UP) {
		log_event(LOG_INFO, &(struct log_fields){.partner = agency,
							  .reason = "link-up"},
			  "link to %s is up", agency);
		l->last_progress_ms = ppxd_now_ms();
	} else if (ev == LINK_REFUSED) {
		/* libzmq gives up after a refused handshake: try again later,
		 * e.g. once the partner has our renewed certificate. */
		log_event(LOG_WARNING, &(struct log_fields){
				  .partner = agency, .reason = "link-refused"},
			  "%s refused our connection; retrying in %ld ms",
			  agency, l->backoff_ms);
		l->in_flight = 0;
		l->needs_reset = 1;
		l->next_retry_ms = ppxd_now_ms() + l->backoff_ms;
		l->backoff_ms = l->backoff_ms * 2 > d->cfg->retry_max_ms
					? d->cfg->retry_max_ms
					: l->backoff_ms * 2;
	} else if (ev == LINK_DOWN) {
		log_event(LOG_INFO, &(struct log_fields){
				  .partner = agency, .reason = "link-down"},
			  "link to %s is down; %zu messages wait", agency,
			  l->n - l->head);
		/* Drop what the socket still queues: resend in order. */
		l->in_flight = 0;
		transport_link_reset(d->transport, link);
	}
}

/* Send the next message of lane `l` on link i: 0, or a negative code to
 * stop for now: that of an unreadable entry (logged), or PPX_EFULL if the
 * link cannot take it now. */
static int send_next(struct ppxd *d, size_t i, struct lane *l)
{
	uint64_t seq = l->seq[l->head + l->in_flight];
	Ppx__V1__LogEntry *e = NULL;
	int rc;

	rc = ppx_log_get(d->log, seq, &e);
	if (rc != 0) {
		log_warnx("outbox entry %llu unreadable: %s",
			  (unsigned long long)seq, ppx_error_last());
		return rc;
	}
	rc = transport_link_send(d->transport, i, e->data.data, e->data.len);
	ppx__v1__log_entry__free_unpacked(e, NULL);
	if (rc != 0)
		return rc;
	if (l->in_flight == 0)
		l->last_progress_ms = ppxd_now_ms();
	l->in_flight++;
	l->stats.sent++;
	trace_count(TRACE_PUMP, 1);
	return 0;
}

/* No receipt for too long: start again from the oldest, waiting longer. */
static void retry_lane(struct ppxd *d, size_t i, struct lane *l, int64_t now)
{
	log_event(LOG_INFO, &(struct log_fields){
			  .partner = transport_link_agency(d->transport, i),
			  .reason = "resend"},
		  "no receipt from %s for %lld ms; resending %zu messages "
		  "from the oldest", transport_link_agency(d->transport, i),
		  (long long)(now - l->last_progress_ms), l->n - l->head);
	l->in_flight = 0;
	l->backoff_ms = l->backoff_ms * 2 > d->cfg->retry_max_ms
				? d->cfg->retry_max_ms
				: l->backoff_ms * 2;
	l->next_retry_ms = now + l->backoff_ms;
	l->last_progress_ms = now;
	transport_link_reset(d->transport, i);
}

static long pump_lane(struct ppxd *d, size_t i, struct lane *l, int64_t now)
{
	long timeout = d->cfg->heartbeat_timeout_ms > l->backoff_ms
			       ? d->cfg->heartbeat_timeout_ms
			       : l->backoff_ms;

	if (l->n_parked > 0 && now >= l->unpark_ms)
		lane_unpark(d, i, l);
	if (l->needs_reset && now >= l->next_retry_ms) {
		l->needs_reset = 0;
		transport_link_reset(d->transport, i);
	}
	if (!transport_link_open(d->transport, i)) {
		if (now >= l->next_retry_ms) {	/* partner's cert may be back */
			l->next_retry_ms = now + d->cfg->retry_max_ms;
			transport_link_reset(d->transport, i);
		}
		return d->cfg->retry_max_ms;
	}
	if (l->in_flight > 0 && now - l->last_progress_ms > timeout) {
		retry_lane(d, i, l, now);
		return l->backoff_ms;
	}
	if (now < l->next_retry_ms)
		return (long)(l->next_retry_ms - now);
	while (l->in_flight < (size_t)d->cfg->window &&
	       l->head + l->in_flight < l->n &&
	       transport_link_up(d->transport, i) && send_next(d, i, l) == 0)
		;
	return l->in_flight ? timeout : 1000;
}

long outbox_pump(struct ppxd *d)
{
	int64_t now = ppxd_now_ms();
	long next = 1000;

	for (size_t i = 0; i < d->outbox->n; i++) {
		long t = pump_lane(d, i, &d->outbox->lanes[i], now);

		if (t < next)
			next = t;
	}
	return next < 1 ? 1 : next;
}

void outbox_stats(struct ppxd *d, size_t link, struct outbox_stats *out)
{
	const struct lane *l;

	memset(out, 0, sizeof(*out));
	if (link >= d->outbox->n)
		return;
	l = &d->outbox->lanes[link];
	*out = l->stats;
	out->depth = l->n - l->head + l->n_parked;
	out->next_retry_ms = l->next_retry_ms;
}

int outbox_oldest(struct ppxd *d, size_t link, uint64_t *out)
{
	const struct lane *l;
	int found = 0;

	if (link >= d->outbox->n)
		return PPX_ENOTFOUND;
	l = &d->outbox->lanes[link];
	if (l->head < l->n) {	/* the lane is in log order */
		*out = l->seq[l->head];
		found = 1;
	}
	for (size_t i = 0; i < l->n_parked; i++)
		if (!found || l->parked[i] < *out) {
			*out = l->parked[i];
			found = 1;
		}
	return found ? 0 : PPX_ENOTFOUND;
}

/* Entry `seq`, if it is a receipt from `partner`, into the delivery of
 * message `id` to it. */
static void delivery_receipt(struct ppxd *d, struct ppx_delivery *dv,
			     const uint8_t *id, const char *partner,
			     uint64_t seq)
{
	Ppx__V1__LogEntry *e = NULL;
	Ppx__V1__ReceiptBody *r = NULL;

	if (ppx_log_get(d->log, seq, &e) != 0)
		return;
	if (e->kind == PPX__V1__ENTRY_KIND__ENTRY_RECEIPT_RECEIVED &&
	    strcmp(e->peer_agency, partner) == 0) {
		if (ppx_entry_receipt(&r, e) != 0)
			log_warnx("%s", ppx_error_last());
		ppx_delivery_apply(dv, id, PPX_MESSAGE_ID_LEN, seq, r);
	}
	if (r)
		ppx__v1__receipt_body__free_unpacked(r, NULL);
	ppx__v1__log_entry__free_unpacked(e, NULL);
}

/* What the partner's receipts say (lib/delivery.c), in log order. */
int outbox_delivery(struct ppxd *d, const uint8_t *id, const char *partner,
		    Ppx__V1__Delivery *out)
{
	struct ppx_delivery dv;
	uint64_t *seqs = NULL;
	size_t n = 0;

	ppx_delivery_init(&dv);
	if (ppx_log_by_message(d->log, id, PPX_MESSAGE_ID_LEN, &seqs, &n,
			       256) == 0)
		for (size_t i = 0; i < n; i++)
			delivery_receipt(d, &dv, id, partner, seqs[i]);
	free(seqs);
	out->partner = (char *)partner;
	out->state = dv.state;
	out->receipt_seq = dv.receipt_seq;
	out->remote_seq = dv.remote_seq;
	out->reason = dv.reason;
	return 0;
}

/* ---- batch signatures ------------------------------------------------ */

int outbox_accepts_batch(struct ppxd *d, const char *partner)
{
	int link;

	if (!d->cfg->batch_signatures || !d->outbox ||
	    (link = transport_link_find(d->transport, partner)) < 0 ||
	    (size_t)link >= d->outbox->n)
		return 0;
	return d->outbox->lanes[link].accepts_batch;
}

/* Seal bodies idx[0..n) one by one (one round trip for all of them). */
static int seal_single(struct ppxd *d, uint8_t **frames, size_t *frame_len,
		       uint8_t *const *bodies, const size_t *body_len,
		       const size_t *idx, size_t n)
{
	uint8_t *b[OUTBOX_SEAL_MAX], *f[OUTBOX_SEAL_MAX];
	size_t bl[OUTBOX_SEAL_MAX], fl[OUTBOX_SEAL_MAX];
	int rc;

	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		b[i] = bodies[idx[i]];
		bl[i] = body_len[idx[i]];
	}
	if ((rc = ppx_bodies_seal(f, fl, d->signer, b, bl, n)) != 0)
		return rc;
	for (size_t i = 0; i < n; i++) {
		frames[idx[i]] = f[i];
		frame_len[idx[i]] = fl[i];
	}
	return 0;
}

/* Seal bodies idx[0..n) under batch signatures of at most batch_sign_max;
 * a chunk that cannot be batch-sealed (a body too near the frame cap to
 * take its path) is sealed one by one instead. */
static int seal_batched(struct ppxd *d, uint8_t **frames, size_t *frame_len,
			uint8_t *const *bodies, const size_t *body_len,
			const size_t *idx, size_t n)
{
	size_t max = (size_t)d->cfg->batch_sign_max;

	for (size_t at = 0; at < n;) {
		size_t k = n - at < max ? n - at : max;
		uint8_t *b[OUTBOX_SEAL_MAX], *f[OUTBOX_SEAL_MAX];
		size_t bl[OUTBOX_SEAL_MAX], fl[OUTBOX_SEAL_MAX];
		int rc;

		for (size_t i = 0; i < k; i++) {
			b[i] = bodies[idx[at + i]];
			bl[i] = body_len[idx[at + i]];
		}
		rc = k < 2 ? PPX_EINVAL
			   : ppx_bodies_seal_batch(f, fl, d->signer, b, bl, k);
		if (rc == PPX_ETOOBIG || rc == PPX_EINVAL)
			rc = seal_single(d, frames, frame_len, bodies, body_len,
					 idx + at, k);
		else if (rc == 0)
			for (size_t i = 0; i < k; i++) {
				frames[idx[at + i]] = f[i];
				frame_len[idx[at + i]] = fl[i];
			}
		if (rc != 0)
			return rc;
		at += k;
	}
	return 0;
}

int outbox_seal(struct ppxd *d, uint8_t **frames, size_t *frame_len,
		uint8_t *const *bodies, const size_t *body_len,
		const int *group, size_t n)
{
	size_t one[OUTBOX_SEAL_MAX] = {0}, many[OUTBOX_SEAL_MAX] = {0};
	size_t n1 = 0;
	int rc;

	if (n > OUTBOX_SEAL_MAX)
		return ppx_error_set(PPX_EINVAL, "%zu bodies to seal at once "
				     "(at most %d)", n, OUTBOX_SEAL_MAX);
	for (size_t i = 0; i < n; i++) {
		frames[i] = NULL;
		if (group[i] == 0)
			one[n1++] = i;
	}
	rc = seal_single(d, frames, frame_len, bodies, body_len, one, n1);
	/* One batch per group, so that no batch spans two recipient sets
	 * (PROTOCOL.md 3.4): group i is sealed when its first body is met. */
	for (size_t i = 0; rc == 0 && i < n; i++) {
		size_t nm = 0;
		int seen = 0;

		for (size_t j = 0; j < i && !seen; j++)
			seen = group[j] == group[i];
		if (group[i] == 0 || seen)
			continue;
		for (size_t j = i; j < n; j++)
			if (group[j] == group[i])
				many[nm++] = j;
		rc = seal_batched(d, frames, frame_len, bodies, body_len, many,
				  nm);
	}
	for (size_t i = 0; rc != 0 && i < n; i++) {
		free(frames[i]);
		frames[i] = NULL;
	}
	return rc;
}
