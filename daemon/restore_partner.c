/*
 * restore_partner.c — telling partners that our log was restored from a
 * backup, and taking a partner's word that its log was (PROTOCOL.md 14.2).
 *
 * Ours: the newest ENTRY_RESTORED's data, the signed Frame{restore}, is
 * sent on each link when it comes up, for as long as it is our newest
 * restore (restore_link_up).
 *
 * Theirs: a Frame{restore} from a partner (field 9 read from the top-level
 * tags; inbound.c hands it here) is hostile input.  Bytes already taken
 * or dropped as old are dropped unparsed, and at most one notice per
 * partner per second is kept; restore_tick() judges it once the loop's
 * batch has committed.  A notice no newer than the last one taken from it
 * (the newest mark "partner-restored/" || agency) is dropped before any
 * signature is checked: it is sent at every link-up, and the certificate
 * that signed it may have expired since.  Otherwise it must verify
 * (section 3.1) as SIGNED_RESTORE by a current signing certificate of the
 * agency the transport authenticated, name that agency, hold a checkpoint
 * signed by it with a 32-byte root, a copied_ms not after its
 * restored_ms, a restored_ms not in the future beyond the clock skew
 * allowance, and a checkpoint that is not as large as the one we hold
 * with another root (a fork: refused, and alarmed).  A refusal is logged
 * (ENTRY_REJECTED, rate-limited by the partner's quota) and spends its
 * refusal budget like any bad frame; it is judged again when sent again.
 * While a witnessing alarm about the partner is outstanding a notice is
 * not taken (journal warning), left for the operators. A valid notice less
 * than an hour after the last one taken from that partner is deferred: not
 * taken, said (at most every ten minutes), judged again when sent again.
 *
 * Taking it is a commit of its own, whole or not at all (writer_abort()
 * on any failure, and the commit's own failure leaves the notice to be
 * judged again): ENTRY_PARTNER_RESTORED (data a PartnerRestoreRecord: the
 * notice, the checkpoint we held, how many messages are sent again;
 * related_ids those messages); the mark moved; the witness's held mark
 * moved if ours is larger than the notice's checkpoint; and every
 * message we sent it that one of its receipts settled (the entry's
 * related_ids) at a log_seq at or beyond the notice's tree_size, whose
 * SENT entry names it as a recipient with the body hash the receipt
 * names, queued to it again
 * (outbox_add: the same frame bytes, which its lost dedupe now stores as
 * new).  Once committed (taken_done()), memory follows: the held
 * checkpoint becomes the notice's (witness_restored), so that its next
 * checkpoints, which extend the restored log, are cosigned instead of
 * alarmed, and the partner's lane is put back in log order with its link
 * reset, so that what was queued again is sent first, in the order it was
 * first sent.  The messages are found walking back from our log's end
 * over the entries logged since the copy (time_ms >= copied_ms less the
 * clock skew allowance: entries are appended in time order).  A receipt
 * of the partner with a STORED item below the notice's tree_size, sealed
 * at T, raises that floor to T less the allowance: the partner stores at
 * the end of its log, so a receipt it sealed before T names positions
 * below that item's, and one it sealed at T or later we logged at T less
 * the allowance or later (even if that receipt was an original answered
 * again to a resend, and so logged late).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "budget.h"
#include "inbound.h"
#include "log.h"
#include "outbox.h"
#include "partners.h"
#include "ppx/checkpoint.h"
#include "ppx/entry.h"
#include "ppx/envelope.h"
#include "ppx/error.h"
#include "ppx/timefmt.h"
#include "restore.h"
#include "restore_int.h"
#include "state.h"
#include "transport.h"
#include "witness.h"
#include "writer.h"

#define JUDGE_EVERY_MS 1000	/* one notice per partner per second */
#define TAKE_EVERY_MS 3600000	/* one taken per partner per hour */
#define DEFER_SAID_MS 600000	/* a deferral said at most this often */
#define RESENT_MAX 100000	/* messages queued again per notice */
#define SCAN_MAX 1000000	/* entries walked back per notice */

void restore_link_up(struct ppxd *d, size_t link)
{
	struct restore *r = d->restore;

	if (!r || !r->frame)
		return;
	if (transport_link_send(d->transport, link, r->frame, r->frame_len) != 0)
		log_warnx("cannot tell %s that our log was restored: %s; "
			  "told at the next link-up",
			  transport_link_agency(d->transport, link),
			  ppx_error_last());
}

/* The partner's judging state, made on first use. */
static struct restore_peer *peer_of(struct restore *r, const char *agency)
{
	struct restore_peer *p;

	for (size_t i = 0; i < r->n_peers; i++)
		if (strcmp(r->peers[i].agency, agency) == 0)
			return &r->peers[i];
	if (r->n_peers == RESTORE_PEERS_MAX)
		return NULL;
	p = &r->peers[r->n_peers++];
	memset(p, 0, sizeof(*p));
	snprintf(p->agency, sizeof(p->agency), "%s", agency);
	p->last_ms = restore_partner_last(r->d, agency, &p->taken_ms);
	return p;
}

static void refuse(struct ppxd *d, const char *agency, const uint8_t *raw,
		   size_t len, int code)
{
	char detail[600];
	int64_t until, now = ppxd_now_ms();
	uint32_t episode;

	snprintf(detail, sizeof(detail), "restore notice refused: %s",
		 ppx_error_last());
	ppxd_count_refusal(d, code);
	if (budget_refusal(d->budget, agency, now, &until, &episode))
		inbound_block_partner(d, agency, until, episode);
	log_warnx("%s: %s", agency, detail);
	inbound_log_refused(d, agency, raw, len, code, detail);
}

/* 1 if the notice's restored_ms, read before any signature is checked,
 * is no newer than the last taken (`last_ms`): a notice sent again at
 * each link-up, dropped even once the certificate that signed it has
 * expired or been revoked.  Its body decoded into n->notice. */
static int already_taken(struct notice *n, int64_t last_ms)
{
	const Ppx__V1__Envelope *env = n->frame->restore;

	if (!env || !(n->notice = ppx__v1__restore_notice__unpack(
			      NULL, env->signed_body.len,
			      env->signed_body.data)))
		return ppx_error_set(PPX_EBODY, "restore notice does not "
				     "decode");
	return n->notice->restored_ms <= last_ms;
}

/*
 * The notice against what we hold of its log: a checkpoint as large as
 * ours with another root is no backup of the log we witnessed but a
 * fork, refused and alarmed with both as evidence (PPX_EPROOF); a notice
 * while an alarm about that log is outstanding is left for the
 * operators (2).  0 to take it.
 */
static int judge_held(struct notice *n, struct ppxd *d, const char *agency)
{
	uint8_t root[PPX_HASH_LEN];
	uint64_t size = 0;
	size_t len = 0;

	if (witness_held(d, agency, &len, &size, root) &&
	    size == n->cp->tree_size &&
	    memcmp(root, n->cp->root_hash.data, PPX_HASH_LEN) != 0) {
		witness_restore_fork(d, agency, n->notice->checkpoint, size,
				     n->cp->root_hash.data);
		return ppx_error_set(PPX_EPROOF, "its checkpoint of %llu "
				     "entries has another root than the one "
				     "we cosigned: a fork, not a restore",
				     (unsigned long long)size);
	}
	if (witness_alarmed(d, agency)) {
		log_event(LOG_WARNING, &(struct log_fields){
				  .partner = agency,
				  .reason = "restore-under-alarm"},
			  "%s says its log was restored from a backup, but a "
			  "witnessing alarm about it is outstanding: not "
			  "taken, left for the operators", agency);
		return 2;
	}
	return 0;
}

/* The notice and its checkpoint judged (see the file's comment): 0 to
 * take it, 1 dropped as taken already, 2 left for the operators, < 0
 * refused. */
static int judge(struct notice *n, struct ppxd *d, const char *agency,
		 const uint8_t *raw, size_t len, int64_t last_ms)
{
	ppx_identity signer;
	int64_t now = ppxd_now_ms();
	int rc;

	memset(n, 0, sizeof(*n));
	if ((rc = ppx_frame_decode(&n->frame, raw, len)) != 0)
		return rc;
	if (n->frame->content_case != PPX__V1__FRAME__CONTENT_RESTORE)
		return ppx_error_set(PPX_EFRAME, "not a restore frame");
	if ((rc = already_taken(n, last_ms)) != 0)
		return rc;	/* 1: taken already, or older: dropped */
	if ((rc = ppx_envelope_verify(d->trust, n->frame->restore,
				      PPX__V1__SIGNED_PURPOSE__SIGNED_RESTORE,
				      agency, now / 1000, &signer)) != 0)
		return rc;
	if (!n->notice->agency || strcmp(n->notice->agency, agency) != 0 ||
	    !n->notice->checkpoint)
		return ppx_error_set(PPX_ESENDER, "restore notice is not of "
				     "%s's own log", agency);
	if ((rc = ppx_envelope_verify(d->trust, n->notice->checkpoint,
				      PPX__V1__SIGNED_PURPOSE__SIGNED_CHECKPOINT,
				      agency, now / 1000, &signer)) != 0 ||
	    (rc = ppx_checkpoint_decode(&n->cp, n->notice->checkpoint,
					agency)) != 0)
		return rc;
	if (n->notice->copied_ms > n->notice->restored_ms ||
	    n->notice->restored_ms > now + d->cfg->clock_skew_ms ||
	    n->notice->copied_ms < 0)
		return ppx_error_set(PPX_EBODY, "restore notice has times "
				     "out of order or in the future");
	return judge_held(n, d, agency);
}

static void notice_clear(struct notice *n)
{
	if (n->cp)
		ppx__v1__checkpoint__free_unpacked(n->cp, NULL);
	if (n->notice)
		ppx__v1__restore_notice__free_unpacked(n->notice, NULL);
	if (n->frame)
		ppx__v1__frame__free_unpacked(n->frame, NULL);
	free(n->ids);
	free(n->seqs);
	memset(n, 0, sizeof(*n));
}

static int resent_has(const struct notice *n, const uint8_t *id)
{
	for (size_t i = 0; i < n->n_ids; i++)
		if (memcmp(n->ids[i], id, PPX_MESSAGE_ID_LEN) == 0)
			return 1;
	return 0;
}

static int resent_add(struct notice *n, const uint8_t *id, uint64_t seq)
{
	if (n->n_ids == n->cap) {
		size_t cap = n->cap ? 2 * n->cap : 64;
		uint8_t(*ids)[PPX_MESSAGE_ID_LEN] =
			realloc(n->ids, cap * sizeof(*ids));
		uint64_t *seqs;

		if (ids)
			n->ids = ids;
		if (!ids || !(seqs = realloc(n->seqs, cap * sizeof(*seqs))))
			return ppx_error_set(PPX_ENOMEM, "out of memory");
		n->seqs = seqs;
		n->cap = cap;
	}
	memcpy(n->ids[n->n_ids], id, PPX_MESSAGE_ID_LEN);
	n->seqs[n->n_ids++] = seq;
	return 0;
}

/* 1 if our SENT entry `seq` went to `agency` and is the message the
 * receipt item `it` names by its body hash: a partner's receipt may name
 * messages it was never sent, and they must not be sent to it. */
static int sent_to(struct ppxd *d, const char *agency, uint64_t seq,
		   const Ppx__V1__ReceiptItem *it)
{
	Ppx__V1__LogEntry *e = NULL;
	Ppx__V1__Body *b = NULL;
	uint8_t hash[PPX_HASH_LEN];
	int ok = 0;

	if (it->body_hash.len != PPX_HASH_LEN ||
	    ppx_log_get(d->log, seq, &e) != 0)
		return 0;
	if (ppx_entry_body(&b, hash, e) == 0 &&
	    memcmp(hash, it->body_hash.data, PPX_HASH_LEN) == 0)
		for (size_t i = 0; !ok && i < b->n_recipients; i++)
			ok = b->recipients[i] &&
			     strcmp(b->recipients[i], agency) == 0;
	if (b)
		ppx__v1__body__free_unpacked(b, NULL);
	ppx__v1__log_entry__free_unpacked(e, NULL);
	return ok;
}

/* The item of `rb` for message `id`, or NULL. */
static const Ppx__V1__ReceiptItem *item_of(const Ppx__V1__ReceiptBody *rb,
					   const ProtobufCBinaryData *id)
{
	for (size_t i = 0; i < rb->n_items; i++)
		if (rb->items[i]->message_id.len == id->len &&
		    memcmp(rb->items[i]->message_id.data, id->data,
			   id->len) == 0)
			return rb->items[i];
	return NULL;
}

/* If an item STORED of the receipt `rb` names a position below the
 * notice's size, *since is raised to the receipt's time less the clock
 * skew allowance (the walk's floor, see the file's comment). */
static void raise_floor(const struct notice *n, const struct ppxd *d,
			const Ppx__V1__ReceiptBody *rb, int64_t *since)
{
	for (size_t i = 0; i < rb->n_items; i++)
		if (rb->items[i]->status == PPX__V1__RECEIPT_STATUS__STORED &&
		    rb->items[i]->log_seq < n->cp->tree_size &&
		    rb->time_ms - d->cfg->clock_skew_ms - 1 > *since)
			*since = rb->time_ms - d->cfg->clock_skew_ms - 1;
}

/* The messages one of our RECEIPT_RECEIVED entries from the partner
 * settled (its related_ids, not every item of the frame) that it stored
 * at or beyond the notice's size, each our SENT entry to that partner
 * with the body the item names: noted, to queue again. */
static int requeue_receipt(struct notice *n, struct ppxd *d,
			   const char *agency, const Ppx__V1__LogEntry *e,
			   int64_t *since)
{
	Ppx__V1__Frame *f = NULL;
	Ppx__V1__ReceiptBody *rb = NULL;
	int rc = 0;

	if (ppx_frame_decode(&f, e->data.data, e->data.len) != 0 ||
	    f->content_case != PPX__V1__FRAME__CONTENT_RECEIPT ||
	    !(rb = ppx__v1__receipt_body__unpack(
		      NULL, f->receipt->signed_body.len,
		      f->receipt->signed_body.data)))
		goto out;
	raise_floor(n, d, rb, since);
	for (size_t i = 0; rc == 0 && i < e->n_related_ids; i++) {
		const ProtobufCBinaryData *id = &e->related_ids[i];
		const Ppx__V1__ReceiptItem *it;
		uint64_t seq;

		if (id->len != PPX_MESSAGE_ID_LEN || !(it = item_of(rb, id)) ||
		    (it->status != PPX__V1__RECEIPT_STATUS__STORED &&
		     it->status != PPX__V1__RECEIPT_STATUS__DUPLICATE) ||
		    it->log_seq < n->cp->tree_size ||
		    resent_has(n, id->data) || n->n_ids == RESENT_MAX ||
		    ppx_log_find(d->log, PPX__V1__ENTRY_KIND__ENTRY_SENT, "",
				 id->data, id->len, &seq) != 0 ||
		    !sent_to(d, agency, seq, it))
			continue;
		if ((rc = resent_add(n, id->data, seq)) != 0)
			break;
	}
out:
	if (rb)
		ppx__v1__receipt_body__free_unpacked(rb, NULL);
	if (f)
		ppx__v1__frame__free_unpacked(f, NULL);
	return rc;
}

static int by_seq(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Walk back over what we logged since the copy, no further than a
 * receipt of the partner naming a position below the notice's size as
 * STORED allows (PROTOCOL.md 14.2); then queue what it found again in the
 * order it was sent. */
static int requeue(struct notice *n, struct ppxd *d, const char *agency)
{
	int64_t since = n->notice->copied_ms - d->cfg->clock_skew_ms;
	uint64_t s = ppx_log_size(d->log), walked = 0;
	int rc = 0;

	while (rc == 0 && s > 0 && walked++ < SCAN_MAX) {
		Ppx__V1__LogEntry *e = NULL;

		if ((rc = ppx_log_get(d->log, --s, &e)) != 0)
			break;
		if (e->time_ms < since) {
			ppx__v1__log_entry__free_unpacked(e, NULL);
			break;
		}
		if (e->kind == PPX__V1__ENTRY_KIND__ENTRY_RECEIPT_RECEIVED &&
		    e->peer_agency && strcmp(e->peer_agency, agency) == 0)
			rc = requeue_receipt(n, d, agency, e, &since);
		ppx__v1__log_entry__free_unpacked(e, NULL);
	}
	n->walked = walked;
	if (rc == 0 && n->n_ids > 0) {
		uint64_t *order = malloc(n->n_ids * sizeof(*order));

		if (!order)
			return ppx_error_set(PPX_ENOMEM, "out of memory");
		memcpy(order, n->seqs, n->n_ids * sizeof(*order));
		qsort(order, n->n_ids, sizeof(*order), by_seq);
		for (size_t i = 0; rc == 0 && i < n->n_ids; i++)
			rc = outbox_add(d, agency, order[i]);
		free(order);
	}
	return rc;
}

/* ENTRY_PARTNER_RESTORED appended: data the record of the notice `raw`
 * and the checkpoint held (`held`, may be NULL), related_ids the messages
 * queued again. */
static int append_record(struct ppxd *d, const struct notice *n,
			 const char *agency, const uint8_t *raw, size_t len,
			 Ppx__V1__Envelope *held, const char *detail,
			 uint64_t *seq)
{
	Ppx__V1__LogEntry e = PPX__V1__LOG_ENTRY__INIT;
	Ppx__V1__PartnerRestoreRecord rec = PPX__V1__PARTNER_RESTORE_RECORD__INIT;
	ProtobufCBinaryData *ids = NULL;
	uint8_t *data = NULL;
	int rc = 0;

	rec.notice.data = (uint8_t *)raw;
	rec.notice.len = len;
	rec.held = held;
	rec.resent = n->n_ids;
	if ((n->n_ids && !(ids = calloc(n->n_ids, sizeof(*ids)))) ||
	    !(data = malloc(ppx__v1__partner_restore_record__get_packed_size(
				    &rec) + 1)))
		rc = ppx_error_set(PPX_ENOMEM, "out of memory");
	for (size_t i = 0; rc == 0 && i < n->n_ids; i++)
		ids[i] = (ProtobufCBinaryData){PPX_MESSAGE_ID_LEN, n->ids[i]};
	if (rc == 0) {
		e.kind = PPX__V1__ENTRY_KIND__ENTRY_PARTNER_RESTORED;
		e.peer_agency = (char *)agency;
		e.detail = (char *)detail;
		e.data.data = data;
		e.data.len = ppx__v1__partner_restore_record__pack(&rec, data);
		e.related_ids = ids;
		e.n_related_ids = n->n_ids;
		rc = writer_append(d, &e, seq);
	}
	free(ids);
	free(data);
	return rc;
}

/* What is done once the taking has committed (taken_done()). */
struct taken {
	char agency[PPX_NAME_MAX];
	int64_t restored_ms;
	uint64_t size, seq;
	uint8_t root[PPX_HASH_LEN];
	Ppx__V1__Envelope *env;	/* the notice's checkpoint, if it moves */
	char detail[400];
	int other;		/* the replaced log is not the one we witnessed */
};

static void taken_free(struct taken *t)
{
	if (t && t->env)
		ppx__v1__envelope__free_unpacked(t->env, NULL);
	free(t);
}

/* 1 if the notice names the log it replaced at the size we hold
 * (`size`, `root`) with another root: the replaced log was not the one we
 * witnessed. */
static int replaced_other(const Ppx__V1__RestoreNotice *rn, uint64_t size,
			  const uint8_t *root)
{
	return rn->replaced_size == size && rn->replaced_root.len > 0 &&
	       (rn->replaced_root.len != PPX_HASH_LEN ||
		memcmp(rn->replaced_root.data, root, PPX_HASH_LEN) != 0);
}

/* In the batch: the record, the mark moved, the held mark moved if the
 * held checkpoint is larger than the notice's (judge_held refused one as
 * large with another root).  *out: what to do once committed. */
static int log_taken(struct taken **out, struct notice *n, struct ppxd *d,
		     const char *agency, const uint8_t *raw, size_t len)
{
	Ppx__V1__Envelope *held_env = NULL;
	uint8_t held_root[PPX_HASH_LEN];
	uint64_t held_size = 0;
	size_t held_len = 0;
	const uint8_t *held = witness_held(d, agency, &held_len, &held_size,
					    held_root);
	int move = held && held_size > n->cp->tree_size;
	struct taken *t = calloc(1, sizeof(*t));
	int rc = t ? 0 : ppx_error_set(PPX_ENOMEM, "out of memory");
	uint8_t *cp = NULL;
	size_t cp_len = move ? ppx__v1__envelope__get_packed_size(
					n->notice->checkpoint) : 0;

	if (rc == 0 && move &&
	    (!(cp = malloc(cp_len ? cp_len : 1)) ||
	     !(t->env = ppx__v1__envelope__unpack(
		       NULL, ppx__v1__envelope__pack(n->notice->checkpoint,
						    cp), cp))))
		rc = ppx_error_set(PPX_ENOMEM, "out of memory");
	free(cp);
	if (rc == 0 && held)
		held_env = ppx__v1__envelope__unpack(NULL, held_len, held);
	if (rc == 0) {
		snprintf(t->agency, sizeof(t->agency), "%s", agency);
		t->restored_ms = n->notice->restored_ms;
		t->size = n->cp->tree_size;
		memcpy(t->root, n->cp->root_hash.data, PPX_HASH_LEN);
		t->other = held && replaced_other(n->notice, held_size,
						  held_root);
		snprintf(t->detail, sizeof(t->detail), "restored to %llu "
			 "entries (held %llu); %zu messages queued again%s",
			 (unsigned long long)n->cp->tree_size,
			 (unsigned long long)held_size, n->n_ids,
			 t->other ? "; the log it says it replaced has another "
			 "root than the one we cosigned at that size: not the "
			 "log we witnessed" : "");
		rc = append_record(d, n, agency, raw, len, held_env,
				   t->detail, &t->seq);
	}
	if (rc == 0)
		rc = restore_partner_mark(d, agency, t->seq,
					  n->notice->restored_ms);
	if (rc == 0 && move)
		rc = witness_restored_mark(d, agency, t->seq);
	if (held_env)
		ppx__v1__envelope__free_unpacked(held_env, NULL);
	if (rc != 0)
		taken_free(t);
	*out = rc == 0 ? t : NULL;
	return rc;
}

/* After the taking's commit: the memory follows the log, and the
 * partner's lane is put back in log order so that what was queued again
 * goes first (PROTOCOL.md 14.2).  If the commit failed, nothing of it
 * was stored, and the notice is judged again when sent again. */
static void taken_done(struct ppxd *d, void *arg, int rc)
{
	struct taken *t = arg;
	struct restore_peer *p = d->restore ? peer_of(d->restore, t->agency)
					    : NULL;

	if (rc != 0) {
		log_warnx("cannot take %s's restore notice: %s; nothing of it "
			  "was stored, judged again when sent again",
			  t->agency, ppx_error_last());
		if (p)
			p->judged = 0;
		taken_free(t);
		return;
	}
	if (p) {
		p->last_ms = t->restored_ms;
		p->taken_ms = ppxd_now_ms();
	}
	if (t->env)
		witness_restored(d, t->agency, t->env, t->size, t->root, t->seq);
	witness_restored_status(d, t->agency, t->restored_ms, t->size);
	log_event(LOG_WARNING, &(struct log_fields){
			  .partner = t->agency,
			  .reason = t->other ? "restore-replaced-other"
					     : "partner-restored"},
		  "%s says its log was restored from a backup: %s%s",
		  t->agency, t->detail, t->env ? "; witnessing goes on from "
		  "the restored log" : "");
	outbox_lane_reorder(d, t->agency);
	taken_free(t);
}

/* 1 (said, at most every DEFER_SAID_MS) if a notice was taken from the
 * partner less than TAKE_EVERY_MS ago: a real restore is rare, and each
 * taking walks back over the log. */
static int deferred(struct restore_peer *p)
{
	int64_t now = ppxd_now_ms();
	char when[40];

	if (p->taken_ms == 0 || now - p->taken_ms >= TAKE_EVERY_MS)
		return 0;
	if (p->deferred_said_ms == 0 || now - p->deferred_said_ms >=
						DEFER_SAID_MS) {
		ppx_time_iso(when, sizeof(when), p->taken_ms);
		log_warnx("restore notice from %s deferred: one taken at %s",
			  p->agency, when);
		p->deferred_said_ms = now;
	}
	p->judged = 0;	/* judged again when sent again */
	return 1;
}

/* Queued again, logged, and the action registered that finishes the
 * taking once committed; on failure nothing of it is in the batch. */
static int take_all(struct notice *n, struct ppxd *d, const char *agency,
		    const uint8_t *raw, size_t len)
{
	struct taken *t = NULL;
	int rc;

	if ((rc = requeue(n, d, agency)) == 0 &&
	    (rc = log_taken(&t, n, d, agency, raw, len)) == 0 &&
	    (rc = writer_after(d, taken_done, t)) == 0) {
		writer_flush(d);	/* taken_done() is told how it went */
		return 0;
	}
	taken_free(t);
	writer_abort(d, rc);
	return rc;
}

/* Judged; taken in a commit of its own, dropped, deferred or refused.
 * Called when writer_idle(). */
static void take(struct ppxd *d, struct restore_peer *p, const uint8_t *raw,
		 size_t len)
{
	struct notice n;
	int rc = judge(&n, d, p->agency, raw, len, p->last_ms);

	if (rc == 0 && !deferred(p)) {
		rc = take_all(&n, d, p->agency, raw, len);
	} else if (rc < 0 && rc != PPX_ENOMEM) {
		refuse(d, p->agency, raw, len, rc);
		writer_flush(d);	/* the refusal's entry */
		p->judged = 0;	/* judged again when sent again */
		rc = 0;
	} else if (rc == 2) {
		p->judged = 0;	/* left for the operators; again at link-up */
	}
	if (rc < 0) {	/* local trouble: nothing of it stored */
		log_warnx("cannot take %s's restore notice: %s; judged again "
			  "when sent again", p->agency, ppx_error_last());
		p->judged = 0;
	}
	notice_clear(&n);
}

void restore_tick(struct ppxd *d)
{
	struct restore *r = d->restore;

	if (!r || !writer_idle(d))
		return;	/* the next iteration's turn */
	for (size_t i = 0; i < r->n_peers; i++) {
		struct restore_peer *p = &r->peers[i];
		uint8_t *raw = p->pending;
		size_t len = p->pending_len;

		if (!raw)
			continue;
		p->pending = NULL;
		p->pending_len = 0;
		if (partners_session_allowed(d, p->agency) == 0)
			take(d, p, raw, len);
		free(raw);
	}
}

int restore_frame(struct ppxd *d, const char *agency, const uint8_t *raw,
		  size_t len)
{
	struct restore *r = d->restore;
	struct restore_peer *p;
	int64_t now = ppxd_now_ms();
	uint8_t sha[PPX_HASH_LEN];

	if (ppxd_frame_content(raw, len) !=
	    PPX__V1__FRAME__CONTENT_RESTORE)
		return 0;
	if (!r || partners_session_allowed(d, agency) != 0 ||
	    !(p = peer_of(r, agency)))
		return 1;	/* not heard */
	if (len > (size_t)d->cfg->max_frame) {
		ppx_error_set(PPX_ETOOBIG, "frame of %zu bytes exceeds the "
			      "%ld-byte cap", len, d->cfg->max_frame);
		refuse(d, agency, raw, len, PPX_ETOOBIG);
		return 1;
	}
	ppx_sha256(sha, raw, len);
	if ((p->judged && memcmp(p->sha, sha, sizeof(sha)) == 0) ||
	    now - p->judged_ms < JUDGE_EVERY_MS)
		return 1;	/* judged already, or too soon */
	memcpy(p->sha, sha, sizeof(sha));
	p->judged = 1;
	p->judged_ms = now;
	free(p->pending);	/* the newest bytes are judged */
	if (!(p->pending = malloc(len ? len : 1))) {
		p->pending_len = 0;
		p->judged = 0;	/* judged again when sent again */
		return 1;
	}
	memcpy(p->pending, raw, len);
	p->pending_len = len;
	return 1;
}
