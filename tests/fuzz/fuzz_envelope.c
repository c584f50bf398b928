/*
 * fuzz_envelope.c — libFuzzer target for everything a partner's bytes reach
 * before the signature holds: frame decoding, the version and purpose
 * checks, envelope verification, and (for coverage past the signature) the
 * decoders and completeness check of the signed bodies themselves.
 *
 * Receipts go through ppx_receipt_open() too.  The trust store is the demo PKI ($PPX_TEST_PKI, else $BUILD/pki, else
 * build/pki), loaded once.  Nothing here may crash, leak or read out of
 * bounds, whatever the input.
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
	char ca[1024], crl[1024], certs[1024];
	const char *root = getenv("PPX_TEST_PKI");
	const char *build = getenv("BUILD");
	char dflt[512];

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
		fprintf(stderr, "fuzz_envelope: %s\n", ppx_error_last());
		abort();	/* a broken harness, not a finding */
	}
	return trust;
}

/* Decode a signed body directly, as if its signature had held. */
static void fuzz_bodies(const Ppx__V1__Envelope *env)
{
	Ppx__V1__Body *b = ppx__v1__body__unpack(NULL, env->signed_body.len,
						 env->signed_body.data);
	Ppx__V1__ReceiptBody *r;
	Ppx__V1__Checkpoint *c;

	if (b) {
		ppx_body_check(b, "police.gwent");
		ppx__v1__body__free_unpacked(b, NULL);
	}
	r = ppx__v1__receipt_body__unpack(NULL, env->signed_body.len,
					  env->signed_body.data);
	if (r)
		ppx__v1__receipt_body__free_unpacked(r, NULL);
	c = ppx__v1__checkpoint__unpack(NULL, env->signed_body.len,
					env->signed_body.data);
	if (c)
		ppx__v1__checkpoint__free_unpacked(c, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ppx_trust *trust = fuzz_trust();
	ppx_opened *o = NULL;
	Ppx__V1__Frame *f = NULL;
	ppx_identity id;

	if (ppx_message_open(&o, trust, data, size, "police.gwent",
			     1790000000) == 0)
		ppx_opened_free(o);
	Ppx__V1__ReceiptBody *r = NULL;

	if (ppx_receipt_open(&r, trust, data, size, "probation.gwent",
			     "police.gwent", 1790000000) == 0)
		ppx__v1__receipt_body__free_unpacked(r, NULL);
	if (ppx_frame_decode(&f, data, size) != 0)
		return 0;
	if (f->receipt)
		ppx_envelope_verify(trust, f->receipt,
				    PPX__V1__SIGNED_PURPOSE__SIGNED_RECEIPT,
				    NULL, 0, &id);
	if (f->message)
		fuzz_bodies(f->message);
	if (f->receipt)
		fuzz_bodies(f->receipt);
	if (f->checkpoint)
		fuzz_bodies(f->checkpoint);
	ppx__v1__frame__free_unpacked(f, NULL);
	return 0;
}
