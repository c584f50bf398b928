/*
 * receipt.c — sealing and opening signed receipts.
 *
 * A receipt travels as Frame{receipt=Envelope(purpose SIGNED_RECEIPT)} and
 * is checked like a message (envelope.c) and then for its own content: the
 * signer is the receiver it names, it is addressed to us, and every item
 * names a 32-byte body hash and a known status.  Its strings, and those of
 * the checkpoint it carries, must be text (ppx_text_check) like a body's:
 * a receipt is logged and shown, and its detail quoted on.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ppx/envelope.h"
#include "ppx/error.h"
#include "ppx/receipt.h"
#include "ppx/text.h"

#define RECEIPT_ITEMS_MAX 100000

int ppx_receipt_seal(uint8_t **out, size_t *outlen, ppx_signer *signer,
		     const Ppx__V1__ReceiptBody *receipt)
{
	size_t len = ppx__v1__receipt_body__get_packed_size(receipt);
	uint8_t *bytes;
	int rc;

	*out = NULL;
	if (len > PPX_FRAME_MAX)
		return ppx_error_set(PPX_ETOOBIG,
				     "receipt of %zu bytes exceeds the cap", len);
	bytes = malloc(len ? len : 1);
	if (!bytes)
		return ppx_error_set(PPX_ENOMEM, "out of memory");
	ppx__v1__receipt_body__pack(receipt, bytes);
	rc = ppx_frame_seal(out, outlen, signer,
			    PPX__V1__SIGNED_PURPOSE__SIGNED_RECEIPT, bytes, len);
	free(bytes);
	return rc;
}

static int check_item(const Ppx__V1__ReceiptItem *it, size_t i)
{
	if (it->body_hash.len != PPX_HASH_LEN)
		return ppx_error_set(PPX_EBODY,
				     "receipt item %zu has no 32-byte body hash",
				     i);
	if (it->message_id.len != 0 && it->message_id.len != PPX_MESSAGE_ID_LEN)
		return ppx_error_set(PPX_EBODY,
				     "receipt item %zu has a malformed message id",
				     i);
	switch (it->status) {
	case PPX__V1__RECEIPT_STATUS__STORED:
	case PPX__V1__RECEIPT_STATUS__DUPLICATE:
		if (it->message_id.len == 0)
			return ppx_error_set(PPX_EBODY,
					     "receipt item %zu stores no message",
					     i);
		return 0;
	case PPX__V1__RECEIPT_STATUS__REFUSED:
		return 0;
	default:
		return ppx_error_set(PPX_EBODY,
				     "receipt item %zu has unknown status %d", i,
				     it->status);
	}
}

static int check_receipt(const Ppx__V1__ReceiptBody *r, const char *signer,
			 const char *us)
{
	if (!r->receiver_agency || strcmp(r->receiver_agency, signer) != 0)
		return ppx_error_set(PPX_ESENDER,
				     "receipt names receiver %s but is signed by %s",
				     r->receiver_agency ? r->receiver_agency : "",
				     signer);
	if (us && (!r->sender_agency || strcmp(r->sender_agency, us) != 0))
		return ppx_error_set(PPX_EBODY,
				     "receipt from %s is addressed to %s, not %s",
				     signer, r->sender_agency, us);
	if (r->n_items == 0 || r->n_items > RECEIPT_ITEMS_MAX)
		return ppx_error_set(PPX_EBODY,
				     "receipt from %s lists %zu items", signer,
				     r->n_items);
	for (size_t i = 0; i < r->n_items; i++) {
		int rc = check_item(r->items[i], i);

		if (rc != 0)
			return rc;
	}
	return 0;
}

/* The strings of a verified receipt's bytes, and of the checkpoint it
 * carries (`r`, those bytes decoded), are text. */
static int check_text(const Ppx__V1__Envelope *env,
		      const Ppx__V1__ReceiptBody *r, const char *signer)
{
	char what[PPX_NAME_MAX + 40];
	int rc;

	snprintf(what, sizeof(what), "receipt from %s", signer);
	rc = ppx_text_check(&ppx__v1__receipt_body__descriptor,
			    env->signed_body.data, env->signed_body.len, what);
	if (rc != 0 || !r->checkpoint)
		return rc;
	snprintf(what, sizeof(what), "checkpoint in a receipt from %s", signer);
	return ppx_text_check(&ppx__v1__checkpoint__descriptor,
			      r->checkpoint->signed_body.data,
			      r->checkpoint->signed_body.len, what);
}

int ppx_receipt_open(Ppx__V1__ReceiptBody **out, const ppx_trust *trust,
		     const uint8_t *frame, size_t len,
		     const char *expected_agency, const char *us, time_t now)
{
	Ppx__V1__Frame *f = NULL;
	Ppx__V1__ReceiptBody *r = NULL;
	ppx_identity signer;
	int rc;

	*out = NULL;
	rc = ppx_frame_decode(&f, frame, len);
	if (rc != 0)
		return rc;
	if (f->content_case != PPX__V1__FRAME__CONTENT_RECEIPT)
		rc = ppx_error_set(PPX_EPURPOSE, "frame carries no receipt");
	if (rc == 0)
		rc = ppx_envelope_verify(trust, f->receipt,
					 PPX__V1__SIGNED_PURPOSE__SIGNED_RECEIPT,
					 expected_agency, now, &signer);
	if (rc == 0 && !(r = ppx__v1__receipt_body__unpack(
				 NULL, f->receipt->signed_body.len,
				 f->receipt->signed_body.data)))
		rc = ppx_error_set(PPX_EBODY, "receipt from %s does not decode",
				   signer.agency);
	if (rc == 0)
		rc = check_text(f->receipt, r, signer.agency);
	if (rc == 0)
		rc = check_receipt(r, signer.agency, us);
	ppx__v1__frame__free_unpacked(f, NULL);
	if (rc != 0) {
		if (r)
			ppx__v1__receipt_body__free_unpacked(r, NULL);
		return rc;
	}
	*out = r;
	return 0;
}
