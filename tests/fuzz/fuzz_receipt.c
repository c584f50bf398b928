/*
 * fuzz_receipt.c — libFuzzer target for receipts: the frame a partner sends
 * back for a batch of our messages, through ppx_receipt_open() (frame
 * decoding, purpose, signature, then the receipt's own checks), and the
 * bytes decoded directly as a ppx.v1.ReceiptBody for coverage past the
 * signature, whose items' proofs of recording are then checked
 * (lib/receipt_proof.c).
 *
 * The trust store is the demo PKI ($PPX_TEST_PKI, else $BUILD/pki, else
 * build/pki), loaded once.  The demo certificates are made when the PKI
 * is, so the clock is read once per process: every input of a run sees
 * the same time.  Nothing may crash, leak or read out of bounds.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "ppx/envelope.h"
#include "ppx/error.h"
#include "ppx/receipt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static ppx_trust *fuzz_trust(void)
{
	static ppx_trust *trust;
	static int tried;
	char ca[1024], crl[1024], certs[1024], dflt[512];
	const char *root = getenv("PPX_TEST_PKI");
	const char *build = getenv("BUILD");

	if (tried)
		return trust;
	tried = 1;
	if (!root) {
		snprintf(dflt, sizeof(dflt), "%s/pki", build ? build : "build");
		root = dflt;
	}
	snprintf(ca, sizeof(ca), "%s/ca/ca.crt", root);
	snprintf(crl, sizeof(crl), "%s/ca/crl.pem", root);
	snprintf(certs, sizeof(certs), "%s/certs", root);
	if (ppx_trust_load(&trust, ca, crl, certs) != 0) {
		fprintf(stderr, "fuzz_receipt: %s\n", ppx_error_last());
		abort();	/* a broken harness, not a finding */
	}
	return trust;
}

/* Every item's proof of recording, as a sender checks it for a frame of
 * its own (PROTOCOL.md 5.3), with and without the checkpoint's
 * signature, and the split of the items' heads as if they were entries. */
static void check_proofs(const ppx_trust *trust, const Ppx__V1__ReceiptBody *r,
			 time_t now)
{
	static const uint8_t frame[] = "the frame police.gwent sent";
	size_t head, off, len;

	for (size_t i = 0; i < r->n_items; i++) {
		const Ppx__V1__ReceiptItem *it = r->items[i];

		(void)ppx_receipt_check_recorded(NULL, trust, r, it, frame,
						 sizeof(frame), "police.gwent",
						 now);
		(void)ppx_receipt_check_recorded(NULL, NULL, r, it, frame,
						 sizeof(frame), "police.gwent",
						 0);
		(void)ppx_entry_split(&head, &off, &len, it->entry_head.data,
				      it->entry_head.len);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ppx_trust *trust = fuzz_trust();
	Ppx__V1__ReceiptBody *r = NULL;
	static time_t now;

	if (!now)
		now = time(NULL);
	if (ppx_receipt_open(&r, trust, data, size, "probation.gwent",
			     "police.gwent", now) == 0)
		ppx__v1__receipt_body__free_unpacked(r, NULL);
	if (ppx_receipt_open(&r, trust, data, size, NULL, "police.gwent",
			     now) == 0)
		ppx__v1__receipt_body__free_unpacked(r, NULL);
	r = ppx__v1__receipt_body__unpack(NULL, size, data);
	if (r)
		check_proofs(trust, r, now);
	if (r)
		ppx__v1__receipt_body__free_unpacked(r, NULL);
	return 0;
}
