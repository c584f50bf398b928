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
 * partner per second is judged.  A notice no newer than the last one
 * taken from it (the newest mark "partner-restored/" || agency) is
 * dropped before any signature is checked: it is sent at every link-up,
 * and the certificate that signed it may have expired since.  Otherwise
 * it must verify (section 3.1) as SIGNED_RESTORE by a current signing
 * certificate of the agency the transport authenticated, name that
 * agency, hold a checkpoint signed by it with a 32-byte root, a copied_ms
 * not after its restored_ms, a restored_ms not in the future beyond the
 * clock skew allowance, and a checkpoint that is not as large as the one
 * we hold with another root (a fork: refused, and alarmed).  A refusal is
 * logged (ENTRY_REJECTED, rate-limited by the partner's quota) and spends
 * its refusal budget like any bad frame.  While a witnessing alarm about
 * the partner is outstanding a notice is not taken (journal warning),
 * left for the operators.
 *
 * Taking it, in one commit: ENTRY_PARTNER_RESTORED (data a
 * PartnerRestoreRecord: the notice, the checkpoint we held, how many
 * messages are sent again; related_ids those messages); the checkpoint we
 * hold of its log moved back to the notice's if ours is larger
 * (witness_restored), so that its next checkpoints, which extend the
 * restored log, are cosigned instead of alarmed; and every message we
 * sent it that one of its receipts settled (the entry's related_ids) at
 * a log_seq at or beyond the notice's tree_size, whose SENT entry names
 * it as a recipient with the body hash the receipt names, queued to it
 * again, in the order they were sent (outbox_add: the same frame bytes,
 * which its lost dedupe now stores as new; behind whatever was already
 * queued to it).  They are
 * found walking back from our log's end over the entries logged since the
 * copy (time_ms >= copied_ms less the clock skew allowance): entries are
 * appended in time order, so the walk stops at the first older one.
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
#include "restore.h"
#include "restore_int.h"
#include "state.h"
#include "transport.h"
#include "witness.h"
#include "writer.h"

#define FIELD_RESTORE 9		/* Frame.restore */
#define JUDGE_EVERY_MS 1000	/* one notice per partner per second */
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

/* 1 if the frame's top-level tags hold field 9 (restore), read as
 * protobuf reads them: the last content field counts. */
static int is_restore(const uint8_t *data, size_t len)
{
	size_t at = 0;
	uint64_t content = 0;

	while (at < len) {
		uint64_t tag, v = 0;

		if (ppx_varint_read(data, len, &at, &tag) != 0)
			return 0;
		switch (tag & 7) {
		case 0:
			if (ppx_varint_read(data, len, &at, &v) != 0)
				return 0;
			break;
		case 2:
			if (ppx_varint_read(data, len, &at, &v) != 0 ||
			    v > len - at)
				return 0;
			at += v;
			if ((tag >> 3) >= 2 && (tag >> 3) <= FIELD_RESTORE)
				content = tag >> 3;
			break;
		default:
			return 0;	/* the message pipeline refuses it */
		}
	}
	return content == FIELD_RESTORE;
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
	p->last_ms = restore_partner_last(r->d, agency);
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

/* The messages one of our RECEIPT_RECEIVED entries from the partner
 * settled (its related_ids, not every item of the frame) that it stored
 * at or beyond the notice's size, each our SENT entry to that partner
 * with the body the item names: noted, to queue again. */
static int requeue_receipt(struct notice *n, struct ppxd *d,
			   const char *agency, const Ppx__V1__LogEntry *e)
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

/* Walk back over what we logged since the copy; then queue what it found
 * again in the order it was sent. */
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
			rc = requeue_receipt(n, d, agency, e);
		ppx__v1__log_entry__free_unpacked(e, NULL);
	}
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

/* The record, the mark moved, the held checkpoint moved back if ours is
 * larger than the notice's (judge_held refused one as large with another
 * root). */
static int log_taken(struct notice *n, struct ppxd *d, const char *agency,
		     const uint8_t *raw, size_t len)
{
	Ppx__V1__Envelope *held_env = NULL;
	uint8_t held_root[PPX_HASH_LEN];
	uint64_t held_size = 0, seq;
	size_t held_len = 0;
	const uint8_t *held = witness_held(d, agency, &held_len, &held_size,
					    held_root);
	int move = held && held_size > n->cp->tree_size;
	int other = held && replaced_other(n->notice, held_size, held_root);
	char detail[400];
	int rc;

	if (held)
		held_env = ppx__v1__envelope__unpack(NULL, held_len, held);
	snprintf(detail, sizeof(detail), "restored to %llu entries (held "
		 "%llu); %zu messages queued again%s",
		 (unsigned long long)n->cp->tree_size,
		 (unsigned long long)held_size, n->n_ids,
		 other ? "; the log it says it replaced has another root "
		 "than the one we cosigned at that size: not the log we "
		 "witnessed" : "");
	rc = append_record(d, n, agency, raw, len, held_env, detail, &seq);
	if (rc == 0)
		rc = restore_partner_mark(d, agency, seq,
					  n->notice->restored_ms);
	if (rc == 0 && move)
		rc = witness_restored(d, agency, n->notice->checkpoint,
				      n->cp->tree_size, n->cp->root_hash.data,
				      seq);
	if (rc == 0) {
		witness_restored_status(d, agency, n->notice->restored_ms,
					n->cp->tree_size);
		log_event(LOG_WARNING, &(struct log_fields){
				  .partner = agency,
				  .reason = other ? "restore-replaced-other"
						  : "partner-restored"},
			  "%s says its log was restored from a backup: %s%s",
			  agency, detail, move ? "; witnessing goes on from "
			  "the restored log" : "");
	}
	if (held_env)
		ppx__v1__envelope__free_unpacked(held_env, NULL);
	return rc;
}

/* Judged; taken (0), dropped (1), left for the operators (2) or refused
 * (< 0, error set). */
static int take(struct ppxd *d, struct restore_peer *p, const char *agency,
		const uint8_t *raw, size_t len)
{
	struct notice n;
	int rc = judge(&n, d, agency, raw, len, p->last_ms);

	if (rc == 0 && (rc = requeue(&n, d, agency)) == 0 &&
	    (rc = log_taken(&n, d, agency, raw, len)) == 0)
		p->last_ms = n.notice->restored_ms;
	if (rc < 0 && rc != PPX_ENOMEM && rc != PPX_EIO && rc != PPX_EFULL)
		refuse(d, agency, raw, len, rc);
	else if (rc < 0)
		log_warnx("cannot take %s's restore notice: %s", agency,
			  ppx_error_last());
	if (rc == PPX_EIO || rc == PPX_EFULL)
		rc = PPX_ENOMEM;	/* local trouble: judge it again */
	notice_clear(&n);
	return rc;
}

int restore_frame(struct ppxd *d, const char *agency, const uint8_t *raw,
		  size_t len)
{
	struct restore *r = d->restore;
	struct restore_peer *p;
	int64_t now = ppxd_now_ms();
	uint8_t sha[PPX_HASH_LEN];
	int rc;

	if (!is_restore(raw, len))
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
	p->judged_ms = now;
	rc = take(d, p, agency, raw, len);
	/* Only what was taken or dropped as old is not judged again: a
	 * notice refused or left for the operators is judged again at the
	 * next link-up. */
	if (rc == 0 || rc == 1) {
		memcpy(p->sha, sha, sizeof(sha));
		p->judged = 1;
	}
	return 1;
}
