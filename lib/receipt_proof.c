/*
 * receipt_proof.c — proof of recording: the receiver's RECEIVED entry, its
 * place in a signed checkpoint, and the sender's check of both.
 *
 * The receiver (daemon/inbound.c) splits the entry it stored around the
 * frame the sender sent (ppx_entry_split) and puts head, tail and the
 * inclusion proof into the receipt item, beside one signed checkpoint for
 * the whole receipt.  The sender (daemon/outbox.c), and later anyone
 * holding the receipt and the sent frame (evidence bundles), splices its
 * own frame back in (ppx_entry_splice) and checks every claim in
 * ppx_receipt_check_recorded().  The sender never has to trust the
 * receiver's word that the bytes it logged are the bytes it was sent:
 * the leaf is computed from the sender's own frame.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ppx/checkpoint.h"
#include "ppx/envelope.h"
#include "ppx/error.h"
#include "ppx/receipt.h"

#define DATA_TAG 0x42	/* field 8, wire type 2 (length-delimited) */
#define VARINT_MAX 10
/* A log entry holds at most 64 MiB (logstore_batch.c): so does each part. */
#define SPLICE_PART_MAX (UINT64_C(64) << 20)

static size_t write_varint(uint8_t *out, uint64_t v)
{
	size_t n = 0;

	do {
		out[n++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
		v >>= 7;
	} while (v);
	return n;
}

/* Skip the value of a field of wire type `wt` at *pos: 0, or -1. */
static int skip_value(const uint8_t *p, size_t end, size_t *pos, unsigned wt,
		      uint64_t *len)
{
	uint64_t v;

	*len = 0;
	switch (wt) {
	case 0:
		return ppx_varint_read(p, end, pos, &v);
	case 1:
	case 5:
		v = wt == 1 ? 8 : 4;
		break;
	case 2:
		if (ppx_varint_read(p, end, pos, &v) != 0)
			return -1;
		*len = v;
		break;
	default:
		return -1;	/* groups are not in our messages */
	}
	if (v > end - *pos)
		return -1;
	*pos += v;
	return 0;
}

int ppx_entry_split(size_t *head_len, size_t *data_off, size_t *data_len,
		    const uint8_t *entry, size_t len)
{
	size_t pos = 0, found = 0;

	*head_len = *data_off = *data_len = 0;
	while (pos < len) {
		size_t start = pos;
		uint64_t tag, vlen;

		if (ppx_varint_read(entry, len, &pos, &tag) != 0 ||
		    skip_value(entry, len, &pos, (unsigned)(tag & 7), &vlen) !=
			    0)
			return ppx_error_set(PPX_ECORRUPT, "log entry of %zu "
					     "bytes is malformed at byte %zu",
					     len, start);
		if (tag != DATA_TAG)
			continue;
		if (found++)
			return ppx_error_set(PPX_ECORRUPT, "log entry holds "
					     "its data field twice");
		*head_len = start;
		*data_len = (size_t)vlen;
		*data_off = pos - (size_t)vlen;
	}
	if (!found)
		return ppx_error_set(PPX_ECORRUPT, "log entry holds no data "
				     "field to split around");
	return 0;
}

int ppx_entry_splice(uint8_t **out, size_t *out_len, const uint8_t *head,
		     size_t head_len, const uint8_t *frame, size_t frame_len,
		     const uint8_t *tail, size_t tail_len)
{
	uint8_t *p;
	size_t n = 0;

	*out = NULL;
	*out_len = 0;
	if (head_len > SPLICE_PART_MAX || frame_len > SPLICE_PART_MAX ||
	    tail_len > SPLICE_PART_MAX)
		return ppx_error_set(PPX_ETOOBIG, "entry head, frame or tail "
				     "beyond %llu bytes",
				     (unsigned long long)SPLICE_PART_MAX);
	p = malloc(head_len + 1 + VARINT_MAX + frame_len + tail_len);
	if (!p)
		return ppx_error_set(PPX_ENOMEM, "out of memory");
	if (head_len)
		memcpy(p, head, head_len);
	n = head_len;
	p[n++] = DATA_TAG;
	n += write_varint(p + n, frame_len);
	if (frame_len)
		memcpy(p + n, frame, frame_len);
	n += frame_len;
	if (tail_len)
		memcpy(p + n, tail, tail_len);
	*out = p;
	*out_len = n + tail_len;
	return 0;
}

static int bad(const char *receiver, uint64_t seq, const char *what)
{
	return ppx_error_set(PPX_EPROOF, "proof of recording of entry %llu in "
			     "a receipt from %s: %s", (unsigned long long)seq,
			     receiver, what);
}

/* The receipt's checkpoint, signed by its receiver, decoded into *out. */
static int open_checkpoint(Ppx__V1__Checkpoint **out, const ppx_trust *trust,
			   const Ppx__V1__ReceiptBody *r, uint64_t seq,
			   time_t now)
{
	const char *rcv = r->receiver_agency;
	ppx_identity signer;
	Ppx__V1__Checkpoint *cp;
	int rc;

	*out = NULL;
	if (!r->checkpoint)
		return bad(rcv, seq, "the receipt carries no checkpoint");
	if (!trust) {	/* its bytes are under the receipt's signature */
		if (r->checkpoint->purpose !=
		    PPX__V1__SIGNED_PURPOSE__SIGNED_CHECKPOINT)
			return bad(rcv, seq, "its checkpoint is signed for "
				   "another purpose");
		snprintf(signer.agency, sizeof(signer.agency), "%s", rcv);
	} else if ((rc = ppx_envelope_verify(
			    trust, r->checkpoint,
			    PPX__V1__SIGNED_PURPOSE__SIGNED_CHECKPOINT, rcv,
			    now, &signer)) != 0) {
		return ppx_error_set(rc, "checkpoint in a receipt from %s: %s",
				     rcv, ppx_error_last());
	}
	if (strcmp(signer.agency, rcv) != 0)
		return bad(rcv, seq, "its checkpoint is signed by another "
			   "agency");
	if (ppx_checkpoint_decode(&cp, r->checkpoint, rcv) != 0)
		return bad(rcv, seq, ppx_error_last());
	*out = cp;
	return 0;
}

/* The spliced entry says: RECEIVED at seq, from us, this id, our frame. */
static int check_entry(const Ppx__V1__ReceiptBody *r,
		       const Ppx__V1__ReceiptItem *it, const uint8_t *entry,
		       size_t len, const uint8_t *frame, size_t frame_len,
		       const char *us)
{
	Ppx__V1__LogEntry *e = ppx__v1__log_entry__unpack(NULL, len, entry);
	const char *why = NULL;

	if (!e)
		why = "head and tail around our frame do not decode as a log "
		      "entry";
	else if (e->kind != PPX__V1__ENTRY_KIND__ENTRY_RECEIVED)
		why = "the entry is not of kind RECEIVED";
	else if (e->seq != it->log_seq)
		why = "the entry records another sequence number";
	else if (!e->peer_agency || !us || strcmp(e->peer_agency, us) != 0)
		why = "the entry names another sending agency";
	else if (e->message_id.len != it->message_id.len ||
		 memcmp(e->message_id.data, it->message_id.data,
			it->message_id.len) != 0)
		why = "the entry names another message id";
	else if (e->data.len != frame_len ||
		 memcmp(e->data.data, frame, frame_len) != 0)
		why = "the entry's data is not the frame we sent";
	if (e)
		ppx__v1__log_entry__free_unpacked(e, NULL);
	return why ? bad(r->receiver_agency, it->log_seq, why) : 0;
}

/* The inclusion proof's shape, and the leaf against the root. */
static int check_inclusion(const Ppx__V1__ReceiptBody *r,
			   const Ppx__V1__ReceiptItem *it,
			   const Ppx__V1__Checkpoint *cp, const ppx_hash leaf)
{
	const Ppx__V1__InclusionProof *p = it->inclusion;
	ppx_hash path[PPX_MERKLE_MAX_PATH];
	uint64_t seq = it->log_seq;

	if (!p)
		return bad(r->receiver_agency, seq, "no inclusion proof");
	if (p->tree_size != cp->tree_size)
		return bad(r->receiver_agency, seq, "the inclusion proof is "
			   "for another tree size than the checkpoint's");
	if (p->leaf_index != seq || seq >= cp->tree_size)
		return bad(r->receiver_agency, seq, "the inclusion proof is "
			   "of another leaf, or the checkpoint does not "
			   "reach the entry");
	if (p->n_path > PPX_MERKLE_MAX_PATH)
		return bad(r->receiver_agency, seq, "inclusion path too long");
	for (size_t i = 0; i < p->n_path; i++) {
		if (p->path[i].len != PPX_MERKLE_HASH_LEN)
			return bad(r->receiver_agency, seq, "a hash of the "
				   "inclusion path is not 32 bytes");
		memcpy(path[i], p->path[i].data, PPX_MERKLE_HASH_LEN);
	}
	if (ppx_merkle_verify_inclusion(leaf, seq, cp->tree_size, path,
					p->n_path, cp->root_hash.data) != 0)
		return bad(r->receiver_agency, seq, "the entry's leaf does not "
			   "verify against the checkpoint's root");
	return 0;
}

int ppx_receipt_check_recorded(ppx_recorded *out, const ppx_trust *trust,
			       const Ppx__V1__ReceiptBody *r,
			       const Ppx__V1__ReceiptItem *it,
			       const uint8_t *frame, size_t frame_len,
			       const char *us, time_t now)
{
	Ppx__V1__Checkpoint *cp = NULL;
	uint8_t *entry = NULL;
	size_t len = 0;
	ppx_hash leaf;
	int rc;

	if (!r->checkpoint && !it->inclusion && it->entry_head.len == 0 &&
	    it->entry_tail.len == 0)
		return ppx_error_set(PPX_ENOTFOUND, "receipt from %s carries "
				     "no proof of recording of entry %llu",
				     r->receiver_agency,
				     (unsigned long long)it->log_seq);
	rc = open_checkpoint(&cp, trust, r, it->log_seq, now);
	if (rc == 0)
		rc = ppx_entry_splice(&entry, &len, it->entry_head.data,
				      it->entry_head.len, frame, frame_len,
				      it->entry_tail.data, it->entry_tail.len);
	if (rc == 0)
		rc = check_entry(r, it, entry, len, frame, frame_len, us);
	if (rc == 0) {
		ppx_merkle_leaf(leaf, entry, len);
		rc = check_inclusion(r, it, cp, leaf);
	}
	if (rc == 0 && out) {
		out->log_seq = it->log_seq;
		out->tree_size = cp->tree_size;
		out->checkpoint_ms = cp->time_ms;
		memcpy(out->root, cp->root_hash.data, sizeof(out->root));
		memcpy(out->leaf, leaf, sizeof(out->leaf));
	}
	free(entry);
	if (cp)
		ppx__v1__checkpoint__free_unpacked(cp, NULL);
	return rc;
}
