/*
 * receipt.h — signed receipts: a receiver's statement that it stored (or
 * refused) the messages it lists.
 *
 * A receipt with status STORED or DUPLICATE is only ever sealed after the
 * receiver's log transaction holding the message has committed; a sender
 * marks a message delivered only after ppx_receipt_open() accepted the
 * receipt, ppx_receipt_check_recorded() its proof of recording (or the
 * partner is a version-1 peer allowed to send none), and the receipt is
 * in its own log.
 */
#ifndef PPX_RECEIPT_H
#define PPX_RECEIPT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "ppx/merkle.h"
#include "ppx/pki.h"
#include "ppx.pb-c.h"

/* Serialise and seal a receipt (purpose SIGNED_RECEIPT). */
int ppx_receipt_seal(uint8_t **out, size_t *outlen, ppx_signer *signer,
		     const Ppx__V1__ReceiptBody *receipt);

/*
 * Verify a receipt frame that arrived over the link of `expected_agency`
 * (NULL offline) and decode it.  It must be signed by the agency it names as
 * receiver, be addressed to `us` (NULL: any), and list well-formed items.
 * Free with ppx__v1__receipt_body__free_unpacked().
 */
int ppx_receipt_open(Ppx__V1__ReceiptBody **out, const ppx_trust *trust,
		     const uint8_t *frame, size_t len,
		     const char *expected_agency, const char *us, time_t now);

/*
 * Proof of recording (PROTOCOL.md section 5.3).  A receipt item that says
 * STORED or DUPLICATE carries the receiver's RECEIVED LogEntry as stored,
 * split around its field 8 (`data`, the frame the sender sent):
 *
 *     entry = entry_head || 0x42 || varint(len(F)) || F || entry_tail
 *
 * and the RFC 9162 inclusion proof of that entry's leaf in the signed
 * Checkpoint the receipt carries (ReceiptBody.checkpoint).
 */

/* Where field 8 of a packed LogEntry lies: its tag at [head_len], its
 * value at [data_off, data_off + data_len), the tail after it.  It must
 * occur exactly once, length-delimited; PPX_ECORRUPT if the bytes are
 * not a well-formed message or hold no such field, or hold it twice. */
int ppx_entry_split(size_t *head_len, size_t *data_off, size_t *data_len,
		    const uint8_t *entry, size_t len);

/* entry_head || 0x42 || varint(frame_len) || frame || entry_tail into a
 * new buffer (*out, caller frees). */
int ppx_entry_splice(uint8_t **out, size_t *out_len, const uint8_t *head,
		     size_t head_len, const uint8_t *frame, size_t frame_len,
		     const uint8_t *tail, size_t tail_len);

/* What a verified proof of recording establishes. */
typedef struct ppx_recorded {
	uint64_t log_seq;	/* the RECEIVED entry's place in the log */
	uint64_t tree_size;	/* of the checkpoint that holds it */
	int64_t checkpoint_ms;	/* when the receiver signed the checkpoint */
	ppx_hash root;		/* the checkpoint's root */
	ppx_hash leaf;		/* the entry's leaf hash */
} ppx_recorded;

/*
 * Check the proof of recording item `it` of receipt `r` (opened with
 * ppx_receipt_open()) gives for the frame we sent, `frame`: the
 * checkpoint is signed by r's receiver agency (checkpoint purpose, at
 * `now`; 0: chain and role only, for evidence read later) and names it,
 * the inclusion proof is of leaf log_seq in a tree of the checkpoint's
 * size, head and tail spliced around `frame` decode as a RECEIVED entry
 * at log_seq from `us` of the item's message id whose data is `frame`
 * byte for byte, and that entry's leaf verifies against the root.
 * Returns 0 with *out filled, PPX_ENOTFOUND when the item carries no
 * proof at all (a version-1 peer), PPX_EPROOF (or the signature's code)
 * with the error saying what failed.  `out` may be NULL.
 *
 * `trust` NULL checks all but the checkpoint's own signature: for a
 * receipt whose signature (which covers the checkpoint's bytes) was
 * checked when it was logged, as ppx show re-checks a logged receipt. 
 */
int ppx_receipt_check_recorded(ppx_recorded *out, const ppx_trust *trust,
			       const Ppx__V1__ReceiptBody *r,
			       const Ppx__V1__ReceiptItem *it,
			       const uint8_t *frame, size_t frame_len,
			       const char *us, time_t now);

#endif
