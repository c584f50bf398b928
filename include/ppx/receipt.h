/*
 * receipt.h — signed receipts: a receiver's statement that it stored (or
 * refused) the messages it lists.
 *
 * A receipt with status STORED or DUPLICATE is only ever sealed after the
 * receiver's log transaction holding the message has committed; a sender
 * marks a message delivered only after ppx_receipt_open() accepted the
 * receipt and the receipt is in its own log.
 */
#ifndef PPX_RECEIPT_H
#define PPX_RECEIPT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

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

#endif
