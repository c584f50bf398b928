/*
 * delivery.h — what state a message we sent is in for one recipient,
 * worked out from that recipient's receipts.
 *
 * A message we sent is QUEUED for a partner until the partner's signed
 * receipt for it is in our log (a RECEIPT_RECEIVED entry, indexed under
 * every message id it settled).  The receipt's item for the message then
 * says STORED or DUPLICATE (DELIVERED) or REFUSED, with a reason and a
 * detail; it also gives the partner's own log position.  Transient
 * refusals (a full disk, a stale CRL) are never logged as receipts: the
 * message stays queued and is sent again.
 *
 * The daemon answers `ppx send` and `ppx status` with this (outbox.c) and
 * the reading commands show it (client/logread.c), so the two cannot
 * disagree about a message.
 */
#ifndef PPX_DELIVERY_H
#define PPX_DELIVERY_H

#include <stddef.h>
#include <stdint.h>

#include "ppx.pb-c.h"

/* Bytes kept of a refusal's detail, with the terminating NUL. */
#define PPX_DELIVERY_DETAIL_MAX 160

/* One message's delivery to one partner. */
struct ppx_delivery {
	int state;		/* Ppx__V1__DeliveryState: QUEUED, DELIVERED
				 * or REFUSED */
	int has_receipt;	/* a receipt of the partner's settled it */
	int has_item;		/* ... and we could read its item for it */
	uint64_t receipt_seq;	/* our log position of that receipt */
	uint64_t remote_seq;	/* the partner's log position (its item's
				 * log_seq; 0 without an item) */
	int reason;		/* Ppx__V1__RejectReason when REFUSED */
	char detail[PPX_DELIVERY_DETAIL_MAX];	/* the refusal's detail */
	int proof;		/* enum ppx_delivery_proof */
	uint64_t remote_size;	/* PROOF_VERIFIED: the tree size of the
				 * partner's checkpoint that holds it */
	int64_t checkpoint_ms;	/* ... and when the partner signed that */
};

/* What the deciding receipt proves of the partner's log (PROTOCOL.md
 * 5.3), once ppx_delivery_prove() has looked. */
enum ppx_delivery_proof {
	PPX_DELIVERY_PROOF_UNKNOWN,	/* not looked at */
	PPX_DELIVERY_PROOF_NONE,	/* no proof of recording (a version-1
					 * partner with proofs = optional) */
	PPX_DELIVERY_PROOF_VERIFIED,	/* the entry is in the checkpoint */
	PPX_DELIVERY_PROOF_FAILED,	/* it carries one that does not hold */
};

/* QUEUED, no receipt. */
void ppx_delivery_init(struct ppx_delivery *self);

/*
 * Take one receipt of the partner's into account: call it for each
 * RECEIPT_RECEIVED entry from that partner, about message `id`, that was
 * logged after the message, in log order.  `receipt` is the entry's
 * ReceiptBody (ppx_entry_receipt()), or NULL when it does not decode.
 *
 * The first receipt whose items name `id` decides, by its first such
 * item: STORED or DUPLICATE is DELIVERED, REFUSED is REFUSED with the
 * item's reason and detail; remote_seq is the item's log_seq.  A receipt
 * that does not decode, or names `id` in no item, still settled the
 * message (the log indexes a receipt under the ids it settled): DELIVERED,
 * unless a later receipt names the id.  Returns 1 when this receipt
 * changed the delivery, else 0.
 */
int ppx_delivery_apply(struct ppx_delivery *self, const uint8_t *id,
		       size_t id_len, uint64_t receipt_seq,
		       const Ppx__V1__ReceiptBody *receipt);

/*
 * After ppx_delivery_apply() returned 1 for a STORED or DUPLICATE item:
 * check the proof of recording the receipt gives for `frame`, the frame
 * we sent (ppx_receipt_check_recorded(), without the checkpoint's own
 * signature: the receipt's, which covers it, was checked before it was
 * logged), and note what it proves in self.
 */
void ppx_delivery_prove(struct ppx_delivery *self, const uint8_t *id,
			size_t id_len, const Ppx__V1__ReceiptBody *receipt,
			const uint8_t *frame, size_t frame_len);

#endif
