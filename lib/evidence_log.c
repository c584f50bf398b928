/*
 * evidence_log.c — the log proofs of an evidence bundle (docs/EVIDENCE.md
 * 3, step 7): an entry of an agency's log, given or rebuilt from a
 * receipt item, included in a signed checkpoint of that log, and the
 * witnesses' cosignatures of that checkpoint or of a later one consistent
 * with it.  Failures are named "log proof K: ..." or, for a proof carried
 * by a receipt, "receipt K: ...".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "evidence_int.h"
#include "ppx/checkpoint.h"
#include "ppx/error.h"
#include "ppx/merkle.h"

/* ---- log proofs ------------------------------------------------------- */

/* What one LogProof proves: its entry, leaf and checkpoint. */
struct ev_proof {
	char what[48];
	const Ppx__V1__LogProof *lp;
	uint8_t *entry;			/* the entry's bytes (owned) */
	size_t entry_len;
	Ppx__V1__LogEntry *e;
	const Ppx__V1__Envelope *cp_env;
	Ppx__V1__Checkpoint *cp;
	const ProtobufCBinaryData *path;
	size_t n_path;
	uint64_t leaf_index, tree_size;	/* as the proof states them */
};

static size_t varint(uint8_t *out, uint64_t v)
{
	size_t n = 0;

	do {
		out[n] = (uint8_t)(v & 0x7f);
		v >>= 7;
		if (v)
			out[n] |= 0x80;
		n++;
	} while (v);
	return n;
}

/* A LogProof that points into receipt `receipt`, item `item`. */
static int proof_from_receipt(struct ev *ev, struct ev_proof *p)
{
	const Ppx__V1__LogProof *lp = p->lp;
	const ProtobufCBinaryData *f = &ev->b->frame;
	const Ppx__V1__ReceiptBody *rb;
	const Ppx__V1__ReceiptItem *it;
	uint8_t v[10];
	size_t vn, n;

	if (!f->len || lp->receipt > ev->n_receipts || lp->item == 0 ||
	    lp->entry.len || lp->checkpoint || lp->n_path)
		return fail(ev, PPX_EINVAL, "%s: a proof by receipt names a "
			    "receipt and item of the bundle, and nothing else",
			    p->what);
	rb = ev->rbodies[lp->receipt - 1];
	snprintf(p->what, sizeof(p->what), "receipt %u", lp->receipt);
	if (lp->item > rb->n_items)
		return fail(ev, PPX_EINVAL, "%s: has no item %u", p->what,
			    lp->item);
	it = rb->items[lp->item - 1];
	if (strcmp(rb->receiver_agency, lp->agency) != 0 ||
	    it != ppxi_ev_item_of(ev, rb) || lp->seq != it->log_seq ||
	    (it->status != PPX__V1__RECEIPT_STATUS__STORED &&
	     it->status != PPX__V1__RECEIPT_STATUS__DUPLICATE))
		return fail(ev, PPX_EINVAL, "%s: item %u is not the message "
			    "stored by %s at seq %llu", p->what, lp->item,
			    lp->agency, (unsigned long long)lp->seq);
	if (!rb->checkpoint || !it->inclusion)
		return fail(ev, PPX_ENOTFOUND, "%s: carries no checkpoint or "
			    "no inclusion proof (no proof of recording)",
			    p->what);
	vn = varint(v, f->len);
	n = it->entry_head.len + 1 + vn + f->len + it->entry_tail.len;
	if (!(p->entry = malloc(n)))
		return fail(ev, PPX_ENOMEM, "out of memory");
	memcpy(p->entry, it->entry_head.data, it->entry_head.len);
	p->entry[it->entry_head.len] = 0x42;
	memcpy(p->entry + it->entry_head.len + 1, v, vn);
	memcpy(p->entry + it->entry_head.len + 1 + vn, f->data, f->len);
	memcpy(p->entry + n - it->entry_tail.len, it->entry_tail.data,
	       it->entry_tail.len);
	p->entry_len = n;
	p->cp_env = rb->checkpoint;
	p->path = it->inclusion->path;
	p->n_path = it->inclusion->n_path;
	p->leaf_index = it->inclusion->leaf_index;
	p->tree_size = it->inclusion->tree_size;
	return 0;
}

static int proof_given(struct ev *ev, struct ev_proof *p)
{
	const Ppx__V1__LogProof *lp = p->lp;

	if (lp->item || !lp->entry.len || !lp->checkpoint)
		return fail(ev, PPX_EINVAL, "%s: needs an entry and a "
			    "checkpoint, or a receipt and item", p->what);
	if (!(p->entry = malloc(lp->entry.len)))
		return fail(ev, PPX_ENOMEM, "out of memory");
	memcpy(p->entry, lp->entry.data, lp->entry.len);
	p->entry_len = lp->entry.len;
	p->cp_env = lp->checkpoint;
	p->path = lp->path;
	p->n_path = lp->n_path;
	p->leaf_index = lp->seq;
	p->tree_size = UINT64_MAX;	/* the checkpoint's, by definition */
	return 0;
}

/* In a message bundle, the entry must be the message's SENT entry in the
 * sender's log or its RECEIVED entry in a recipient's. */
static int entry_is_message(struct ev *ev, struct ev_proof *p)
{
	const Ppx__V1__LogEntry *e = p->e;
	const ProtobufCBinaryData *f = &ev->b->frame;
	const char *sender = ev->body->sender_agency;
	int same = e->data.len == f->len &&
		   memcmp(e->data.data, f->data, f->len) == 0;

	if (e->kind == PPX__V1__ENTRY_KIND__ENTRY_SENT && same &&
	    strcmp(p->lp->agency, sender) == 0)
		return 0;
	if (e->kind == PPX__V1__ENTRY_KIND__ENTRY_RECEIVED && same &&
	    strcmp(e->peer_agency, sender) == 0 &&
	    ppxi_ev_is_recipient(ev->body, p->lp->agency))
		return 0;
	return fail(ev, PPX_EINVAL, "%s: the entry is not the message's SENT "
		    "entry at its sender or RECEIVED entry at a recipient",
		    p->what);
}

static int checkpoint_check(struct ev *ev, struct ev_proof *p)
{
	const Ppx__V1__LogProof *lp = p->lp;
	ppx_hash leaf, root, path[PPX_MERKLE_MAX_PATH];
	ppx_identity id;
	char w[64];

	if (ppx_checkpoint_decode(&p->cp, p->cp_env, lp->agency) != 0)
		return fail(ev, PPX_EBODY, "%s: %s", p->what,
			    ppx_error_last());
	snprintf(w, sizeof(w), "%s: checkpoint", p->what);
	if (ppxi_ev_envelope(ev, w, p->cp_env,
			   PPX__V1__SIGNED_PURPOSE__SIGNED_CHECKPOINT,
			   lp->agency, p->cp->time_ms, &id) != 0)
		return ev->r->code;
	if (p->tree_size == UINT64_MAX)
		p->tree_size = p->cp->tree_size;
	if (p->leaf_index != lp->seq || p->tree_size != p->cp->tree_size ||
	    lp->seq >= p->cp->tree_size)
		return fail(ev, PPX_EPROOF, "%s: inclusion proof is not of "
			    "leaf %llu in the checkpoint's tree of %llu",
			    p->what, (unsigned long long)lp->seq,
			    (unsigned long long)p->cp->tree_size);
	if (p->n_path > PPX_MERKLE_MAX_PATH)
		return fail(ev, PPX_EPROOF, "%s: inclusion path too long",
			    p->what);
	for (size_t i = 0; i < p->n_path; i++) {
		if (p->path[i].len != PPX_MERKLE_HASH_LEN)
			return fail(ev, PPX_EPROOF, "%s: inclusion path hash "
				    "%zu is not 32 bytes", p->what, i + 1);
		memcpy(path[i], p->path[i].data, PPX_MERKLE_HASH_LEN);
	}
	memcpy(root, p->cp->root_hash.data, PPX_MERKLE_HASH_LEN);
	ppx_merkle_leaf(leaf, p->entry, p->entry_len);
	if (ppx_merkle_verify_inclusion(leaf, lp->seq, p->cp->tree_size,
					(const ppx_hash *)path, p->n_path,
					root) != 0)
		return fail(ev, PPX_EPROOF, "%s: inclusion proof does not "
			    "match checkpoint root", p->what);
	return 0;
}

/* A ConsistencyProof of this log proof `lp` (never of another one of the
 * same agency: `used` has one slot per proof of `lp`) from the checkpoint
 * to the cosigned tree. */
static int consistency_check(struct ev *ev, const char *what,
			     const Ppx__V1__LogProof *lp,
			     const Ppx__V1__Checkpoint *cp,
			     const Ppx__V1__WitnessReply *wr, int *used)
{
	ppx_hash path[PPX_MERKLE_MAX_PATH], r1, r2;

	for (size_t i = 0; i < lp->n_consistency; i++) {
		const Ppx__V1__ConsistencyProof *c = lp->consistency[i];

		if (c->old_size != cp->tree_size ||
		    c->new_size != wr->tree_size)
			continue;
		used[i] = 1;
		if (c->n_path > PPX_MERKLE_MAX_PATH)
			break;
		for (size_t j = 0; j < c->n_path; j++) {
			if (c->path[j].len != PPX_MERKLE_HASH_LEN)
				goto bad;
			memcpy(path[j], c->path[j].data, PPX_MERKLE_HASH_LEN);
		}
		memcpy(r1, cp->root_hash.data, PPX_MERKLE_HASH_LEN);
		memcpy(r2, wr->root_hash.data, PPX_MERKLE_HASH_LEN);
		if (ppx_merkle_verify_consistency(c->old_size, c->new_size, r1,
						  r2, (const ppx_hash *)path,
						  c->n_path) == 0)
			return 0;
		goto bad;
	}
bad:
	return fail(ev, PPX_EPROOF, "%s: no consistency proof from the "
		    "checkpoint's size %llu to the cosigned size %llu holds",
		    what, (unsigned long long)cp->tree_size,
		    (unsigned long long)wr->tree_size);
}

static int cosignature_check(struct ev *ev, struct ev_proof *p, size_t i,
			     int *used)
{
	const ProtobufCBinaryData *f = &p->lp->cosignatures[i];
	const Ppx__V1__WitnessReply *wr;
	Ppx__V1__Frame *fr = NULL;
	const ppx_cert *cert;
	ppx_identity id;
	char what[96], text[512], t[40];
	int n, rc = 0;

	snprintf(what, sizeof(what), "%s: cosignature %zu", p->what, i + 1);
	if (ppx_frame_decode(&fr, f->data, f->len) != 0 ||
	    fr->content_case != PPX__V1__FRAME__CONTENT_COSIGNATURE) {
		ppx__v1__frame__free_unpacked(fr, NULL);
		return fail(ev, PPX_EFRAME, "%s: does not decode as a "
			    "cosignature frame", what);
	}
	wr = fr->cosignature;
	if (wr->result != PPX__V1__WITNESS_RESULT__COSIGNED ||
	    strcmp(wr->log_agency, p->lp->agency) != 0 ||
	    strcmp(wr->witness_agency, p->lp->agency) == 0 ||
	    wr->root_hash.len != PPX_MERKLE_HASH_LEN ||
	    wr->tree_size < p->cp->tree_size)
		rc = fail(ev, PPX_EINVAL, "%s: not a cosignature of %s's "
			  "checkpoint (or a later one) by another agency",
			  what, p->lp->agency);
	else if (wr->tree_size == p->cp->tree_size &&
		 memcmp(wr->root_hash.data, p->cp->root_hash.data,
			PPX_MERKLE_HASH_LEN) != 0)
		rc = fail(ev, PPX_EPROOF, "%s: cosigns another root at the "
			  "checkpoint's size", what);
	else if (wr->timestamp > (uint64_t)(INT64_MAX / 1000))
		rc = fail(ev, PPX_EINVAL, "%s: timestamp %llu is past any "
			  "time in milliseconds", what,
			  (unsigned long long)wr->timestamp);
	else if (wr->tree_size > p->cp->tree_size)
		rc = consistency_check(ev, what, p->lp, p->cp, wr, used);
	if (rc == 0 && (n = ppx_evidence_cosigned_text(
				text, sizeof(text), wr->log_agency,
				wr->tree_size, wr->root_hash.data,
				wr->timestamp)) < 0)
		rc = fail(ev, PPX_EINVAL, "%s: origin too long", what);
	if (rc == 0 &&
	    (cert = ppxi_ev_cert_find(ev, what, &wr->signer_fingerprint)))
		rc = ppxi_ev_signature(ev, what, cert, wr->algorithm,
			       (const uint8_t *)text, (size_t)n,
			       &wr->signature, PPX_ROLE_SIGNING,
			       wr->witness_agency,
			       (int64_t)wr->timestamp * 1000, &id);
	else if (rc == 0)
		rc = ev->r->code;
	if (rc == 0) {
		when(t, sizeof(t), (int64_t)wr->timestamp * 1000);
		say(ev, "  cosigned by %s at %s (tree size %llu%s)",
		    wr->witness_agency, t, (unsigned long long)wr->tree_size,
		    wr->tree_size > p->cp->tree_size
			    ? ", consistent with the checkpoint" : "");
	}
	ppx__v1__frame__free_unpacked(fr, NULL);
	return rc;
}

static void proof_say(struct ev *ev, const struct ev_proof *p)
{
	const Ppx__V1__LogEntry *e = p->e;
	char t[40], c[40], id[2 * PPX_MESSAGE_ID_LEN + 1] = "";

	when(t, sizeof(t), e->time_ms);
	when(c, sizeof(c), p->cp->time_ms);
	if (e->message_id.len == PPX_MESSAGE_ID_LEN)
		ppx_hex(id, e->message_id.data, PPX_MESSAGE_ID_LEN);
	say(ev, "log of %s: entry %llu, %s at %s%s%s%s%s, in its checkpoint "
	    "of %llu entries signed %s%s", p->lp->agency,
	    (unsigned long long)e->seq,
	    enum_name(&ppx__v1__entry_kind__descriptor, e->kind), t,
	    e->peer_agency[0] ? ", partner " : "", e->peer_agency,
	    id[0] ? ", message " : "", id,
	    (unsigned long long)p->cp->tree_size, c,
	    p->lp->receipt ? " (proof carried by its receipt)" : "");
	if (e->reason)
		say(ev, "  reason %s: %s",
		    enum_name(&ppx__v1__reject_reason__descriptor, e->reason),
		    e->detail);
	else if (e->detail[0])
		say(ev, "  detail: %s", e->detail);
	if (e->person[0])
		say(ev, "  person: %s", e->person);
}

int ppxi_ev_log_check(struct ev *ev, size_t k)
{
	struct ev_proof p;
	int *used = NULL;
	int rc;

	memset(&p, 0, sizeof(p));
	p.lp = ev->b->logs[k];
	snprintf(p.what, sizeof(p.what), "log proof %zu", k + 1);
	rc = p.lp->receipt ? proof_from_receipt(ev, &p)
			   : proof_given(ev, &p);
	if (rc == 0 && (!(p.e = ppx__v1__log_entry__unpack(NULL, p.entry_len,
							    p.entry)) ||
			p.e->seq != p.lp->seq))
		rc = fail(ev, PPX_ECORRUPT, "%s: the entry does not decode, "
			  "or is not entry %llu", p.what,
			  (unsigned long long)p.lp->seq);
	if (rc == 0 && ev->body)
		rc = entry_is_message(ev, &p);
	if (rc == 0)
		rc = checkpoint_check(ev, &p);
	if (rc == 0) {
		proof_say(ev, &p);
		if (p.lp->n_consistency &&
		    !(used = calloc(p.lp->n_consistency, sizeof(*used))))
			rc = fail(ev, PPX_ENOMEM, "out of memory");
	}
	for (size_t i = 0; rc == 0 && i < p.lp->n_cosignatures; i++)
		rc = cosignature_check(ev, &p, i, used);
	for (size_t i = 0; rc == 0 && i < p.lp->n_consistency; i++)
		if (!used[i])
			rc = fail(ev, PPX_EINVAL, "%s: consistency proof %zu "
				  "serves no cosignature", p.what, i + 1);
	if (rc == 0 && p.lp->n_cosignatures == 0)
		say(ev, "  no cosignature of this checkpoint in the bundle");
	free(used);
	free(p.entry);
	ppx__v1__log_entry__free_unpacked(p.e, NULL);
	ppx__v1__checkpoint__free_unpacked(p.cp, NULL);
	return rc;
}

