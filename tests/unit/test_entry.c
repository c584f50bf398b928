/*
 * test_entry.c — the message or receipt a log entry holds is decoded from
 * its logged frame for exactly the kinds that hold one, and a damaged
 * frame gives an error code, never a crash.
 *
 * The frames are built here without signing: ppx_entry_body() and
 * ppx_entry_receipt() unwrap what the log holds and verify nothing.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ppx/entry.h"
#include "ppx/envelope.h"
#include "ppx/error.h"
#include "support.h"

/* A version-1 frame around `signed_body`, as `content` (a Frame content
 * case), serialised; the caller frees it. */
static uint8_t *frame_of(int content, const uint8_t *signed_body,
			 size_t len, size_t *outlen)
{
	Ppx__V1__Frame f = PPX__V1__FRAME__INIT;
	Ppx__V1__Envelope env = PPX__V1__ENVELOPE__INIT;
	uint8_t fp[32] = {7}, sig[64] = {8}, *out;

	env.signed_body.data = (uint8_t *)signed_body;
	env.signed_body.len = len;
	env.signer_fingerprint.data = fp;
	env.signer_fingerprint.len = sizeof(fp);
	env.signature.data = sig;
	env.signature.len = sizeof(sig);
	f.version = PPX__V1__WIRE_VERSION__WIRE_VERSION_1;
	f.content_case = content;
	if (content == PPX__V1__FRAME__CONTENT_MESSAGE)
		f.message = &env;
	else
		f.receipt = &env;
	*outlen = ppx__v1__frame__get_packed_size(&f);
	out = malloc(*outlen);
	assert_non_null(out);
	ppx__v1__frame__pack(&f, out);
	return out;
}

/* A police notification to probation, packed: the signed body bytes. */
static uint8_t *packed_body(Ppx__V1__Body **keep, size_t *len)
{
	Ppx__V1__Body *b = body_new("police.gwent", "probation.gwent");
	uint8_t *out;

	*len = ppx__v1__body__get_packed_size(b);
	out = malloc(*len);
	assert_non_null(out);
	ppx__v1__body__pack(b, out);
	*keep = b;
	return out;
}

static void entry_init(Ppx__V1__LogEntry *e, int kind, uint8_t *data,
		       size_t len)
{
	ppx__v1__log_entry__init(e);
	e->seq = 12;
	e->kind = kind;
	e->data.data = data;
	e->data.len = len;
}

static void test_entry__body_of_each_message_kind(void **state)
{
	static const int kinds[] = {
		PPX__V1__ENTRY_KIND__ENTRY_SENT,
		PPX__V1__ENTRY_KIND__ENTRY_RECEIVED,
		PPX__V1__ENTRY_KIND__ENTRY_REJECTED,
	};
	Ppx__V1__Body *orig, *got;
	Ppx__V1__LogEntry e;
	uint8_t hash[PPX_HASH_LEN], want[PPX_HASH_LEN];
	size_t blen, flen;
	uint8_t *body = packed_body(&orig, &blen);
	uint8_t *frame = frame_of(PPX__V1__FRAME__CONTENT_MESSAGE, body, blen,
				  &flen);

	(void)state;
	assert_int_equal(ppx_sha256(want, body, blen), 0);
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		assert_true(ppx_entry_has_body(kinds[i]));
		entry_init(&e, kinds[i], frame, flen);
		memset(hash, 0, sizeof(hash));
		got = NULL;
		assert_int_equal(ppx_entry_body(&got, hash, &e), 0);
		assert_non_null(got);
		assert_memory_equal(got->message_id.data,
				    orig->message_id.data, PPX_MESSAGE_ID_LEN);
		assert_string_equal(got->sender_agency, "police.gwent");
		assert_string_equal(got->recipients[0], "probation.gwent");
		assert_memory_equal(hash, want, PPX_HASH_LEN);
		ppx__v1__body__free_unpacked(got, NULL);
		/* The hash is optional. */
		assert_int_equal(ppx_entry_body(&got, NULL, &e), 0);
		ppx__v1__body__free_unpacked(got, NULL);
	}
	free(frame);
	free(body);
	body_free(orig);
}

static void test_entry__no_body_for_other_kinds(void **state)
{
	Ppx__V1__Body *orig, *got;
	Ppx__V1__LogEntry e;
	size_t blen, flen;
	uint8_t *body = packed_body(&orig, &blen);
	uint8_t *frame = frame_of(PPX__V1__FRAME__CONTENT_MESSAGE, body, blen,
				  &flen);

	(void)state;
	/* Even with a message frame in data: the kind decides. */
	for (int k = 0; k <= PPX__V1__ENTRY_KIND__ENTRY_PARTNER_BLOCKED; k++) {
		if (k == PPX__V1__ENTRY_KIND__ENTRY_SENT ||
		    k == PPX__V1__ENTRY_KIND__ENTRY_RECEIVED ||
		    k == PPX__V1__ENTRY_KIND__ENTRY_REJECTED)
			continue;
		assert_false(ppx_entry_has_body(k));
		entry_init(&e, k, frame, flen);
		got = (Ppx__V1__Body *)1;
		assert_int_equal(ppx_entry_body(&got, NULL, &e),
				 PPX_ENOTFOUND);
		assert_null(got);
		assert_non_null(strstr(ppx_error_last(), "holds no message"));
	}
	free(frame);
	free(body);
	body_free(orig);
}

/* What a damaged logged frame gives, for a SENT entry and a REJECTED
 * one (whose refused bytes may be anything). */
static void expect_undecodable(uint8_t *data, size_t len)
{
	Ppx__V1__LogEntry e;
	Ppx__V1__Body *got = (Ppx__V1__Body *)1;
	uint8_t hash[PPX_HASH_LEN];

	entry_init(&e, PPX__V1__ENTRY_KIND__ENTRY_SENT, data, len);
	assert_int_equal(ppx_entry_body(&got, hash, &e), PPX_ECORRUPT);
	assert_null(got);
	assert_non_null(strstr(ppx_error_last(), "entry 12 (ENTRY_SENT)"));
	entry_init(&e, PPX__V1__ENTRY_KIND__ENTRY_REJECTED, data, len);
	got = (Ppx__V1__Body *)1;
	assert_int_equal(ppx_entry_body(&got, hash, &e), PPX_EBODY);
	assert_null(got);
}

static void test_entry__corrupt_frame_is_an_error(void **state)
{
	Ppx__V1__Body *orig;
	size_t blen, flen, rlen;
	uint8_t garbage[] = {0xff, 0xff, 0xff, 0x0f, 0x01};
	uint8_t notbody[] = {0x0a, 0x7f, 0x01};	/* runs past its end */
	uint8_t *body = packed_body(&orig, &blen);
	uint8_t *frame = frame_of(PPX__V1__FRAME__CONTENT_MESSAGE, body, blen,
				  &flen);
	uint8_t *receipt = frame_of(PPX__V1__FRAME__CONTENT_RECEIPT, body, blen,
				    &rlen);
	uint8_t *badbody = frame_of(PPX__V1__FRAME__CONTENT_MESSAGE, notbody,
				    sizeof(notbody), &blen);

	(void)state;
	expect_undecodable(garbage, sizeof(garbage));
	expect_undecodable(NULL, 0);			/* nothing logged */
	expect_undecodable(frame, flen / 2);		/* cut short */
	expect_undecodable(receipt, rlen);		/* not a message */
	expect_undecodable(badbody, blen);	/* the body does not decode */
	free(badbody);
	free(receipt);
	free(frame);
	free(body);
	body_free(orig);
}

static uint8_t *packed_receipt(size_t *len)
{
	Ppx__V1__ReceiptBody r = PPX__V1__RECEIPT_BODY__INIT;
	Ppx__V1__ReceiptItem it = PPX__V1__RECEIPT_ITEM__INIT;
	Ppx__V1__ReceiptItem *items[] = {&it};
	uint8_t id[PPX_MESSAGE_ID_LEN] = {5, 5}, *out;

	it.message_id.data = id;
	it.message_id.len = sizeof(id);
	it.status = PPX__V1__RECEIPT_STATUS__STORED;
	it.log_seq = 77;
	r.receiver_agency = "probation.gwent";
	r.sender_agency = "police.gwent";
	r.n_items = 1;
	r.items = items;
	*len = ppx__v1__receipt_body__get_packed_size(&r);
	out = malloc(*len);
	assert_non_null(out);
	ppx__v1__receipt_body__pack(&r, out);
	return out;
}

static void test_entry__receipt_of_receipt_kinds_only(void **state)
{
	Ppx__V1__LogEntry e;
	Ppx__V1__ReceiptBody *r;
	size_t blen, flen;
	uint8_t *body = packed_receipt(&blen);
	uint8_t *frame = frame_of(PPX__V1__FRAME__CONTENT_RECEIPT, body, blen,
				  &flen);
	uint8_t garbage[] = {0xff, 0xff, 0xff};

	(void)state;
	entry_init(&e, PPX__V1__ENTRY_KIND__ENTRY_RECEIPT_RECEIVED, frame,
		   flen);
	assert_int_equal(ppx_entry_receipt(&r, &e), 0);
	assert_string_equal(r->receiver_agency, "probation.gwent");
	assert_int_equal(r->n_items, 1);
	assert_int_equal(r->items[0]->log_seq, 77);
	ppx__v1__receipt_body__free_unpacked(r, NULL);
	e.kind = PPX__V1__ENTRY_KIND__ENTRY_RECEIPT_SENT;
	assert_int_equal(ppx_entry_receipt(&r, &e), 0);
	ppx__v1__receipt_body__free_unpacked(r, NULL);
	e.kind = PPX__V1__ENTRY_KIND__ENTRY_SENT;
	assert_int_equal(ppx_entry_receipt(&r, &e), PPX_ENOTFOUND);
	assert_null(r);
	e.kind = PPX__V1__ENTRY_KIND__ENTRY_RECEIPT_RECEIVED;
	e.data.len = flen - 3;
	assert_int_equal(ppx_entry_receipt(&r, &e), PPX_ECORRUPT);
	assert_null(r);
	entry_init(&e, PPX__V1__ENTRY_KIND__ENTRY_RECEIPT_SENT, garbage,
		   sizeof(garbage));
	assert_int_equal(ppx_entry_receipt(&r, &e), PPX_ECORRUPT);
	assert_null(r);
	free(frame);
	free(body);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_entry__body_of_each_message_kind),
		cmocka_unit_test(test_entry__no_body_for_other_kinds),
		cmocka_unit_test(test_entry__corrupt_frame_is_an_error),
		cmocka_unit_test(test_entry__receipt_of_receipt_kinds_only),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
