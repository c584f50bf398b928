/*
 * delivery.c — a sent message's state for one recipient, from that
 * recipient's receipts (include/ppx/delivery.h).
 *
 * Where it sits: the daemon's outbox (outbox_delivery(), for the replies
 * to `ppx send` and `ppx status`) and ppx's log reader (client/logread.c,
 * for `ppx log`, show, follow, subject and export) each find the receipts
 * a message has in the log and hand them here one by one; what a receipt
 * means for the message is decided only here.
 */
#include <stdio.h>
#include <string.h>

#include "ppx/delivery.h"
#include "ppx/error.h"
#include "ppx/receipt.h"

void ppx_delivery_init(struct ppx_delivery *self)
{
	memset(self, 0, sizeof(*self));
	self->state = PPX__V1__DELIVERY_STATE__DELIVERY_QUEUED;
}

/* The first item of `r` about message `id`, or NULL. */
static const Ppx__V1__ReceiptItem *item_for(const Ppx__V1__ReceiptBody *r,
					    const uint8_t *id, size_t id_len)
{
	for (size_t i = 0; r && i < r->n_items; i++) {
		const Ppx__V1__ReceiptItem *it = r->items[i];

		if (it && it->message_id.len == id_len &&
		    memcmp(it->message_id.data, id, id_len) == 0)
			return it;
	}
	return NULL;
}

int ppx_delivery_apply(struct ppx_delivery *self, const uint8_t *id,
		       size_t id_len, uint64_t receipt_seq,
		       const Ppx__V1__ReceiptBody *receipt)
{
	const Ppx__V1__ReceiptItem *it = item_for(receipt, id, id_len);

	if (self->has_item || (self->has_receipt && !it))
		return 0;
	ppx_delivery_init(self);
	self->has_receipt = 1;
	self->receipt_seq = receipt_seq;
	self->state = PPX__V1__DELIVERY_STATE__DELIVERY_DELIVERED;
	if (!it)
		return 1;
	self->has_item = 1;
	self->remote_seq = it->log_seq;
	if (it->status == PPX__V1__RECEIPT_STATUS__REFUSED) {
		self->state = PPX__V1__DELIVERY_STATE__DELIVERY_REFUSED;
		self->reason = it->reason;
		snprintf(self->detail, sizeof(self->detail), "%s",
			 it->detail ? it->detail : "");
	}
	return 1;
}

void ppx_delivery_prove(struct ppx_delivery *self, const uint8_t *id,
			size_t id_len, const Ppx__V1__ReceiptBody *receipt,
			const uint8_t *frame, size_t frame_len)
{
	const Ppx__V1__ReceiptItem *it = item_for(receipt, id, id_len);
	ppx_recorded rec;
	int rc;

	if (!it || it->status == PPX__V1__RECEIPT_STATUS__REFUSED)
		return;
	rc = ppx_receipt_check_recorded(&rec, NULL, receipt, it, frame,
					frame_len, receipt->sender_agency, 0);
	if (rc == PPX_ENOTFOUND) {
		self->proof = PPX_DELIVERY_PROOF_NONE;
	} else if (rc != 0) {
		self->proof = PPX_DELIVERY_PROOF_FAILED;
	} else {
		self->proof = PPX_DELIVERY_PROOF_VERIFIED;
		self->remote_size = rec.tree_size;
		self->checkpoint_ms = rec.checkpoint_ms;
	}
	ppx_error_clear();
}
