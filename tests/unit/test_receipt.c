/*
 * test_receipt.c — signed receipts are accepted only from the receiver they
 * name, addressed to us, and unaltered.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "ppx/envelope.h"
#include "ppx/error.h"
#include "ppx/receipt.h"
#include "support.h"

static uint8_t hash[PPX_HASH_LEN] = {1, 2, 3};
static uint8_t id[PPX_MESSAGE_ID_LEN] = {9, 9, 9};

/* A probation receipt for one stored police message, sealed by `signer`. */
static uint8_t *seal(ppx_signer *signer, const char *receiver,
		     const char *to, size_t *len)
{
	Ppx__V1__ReceiptBody r = PPX__V1__RECEIPT_BODY__INIT;
	Ppx__V1__ReceiptItem it = PPX__V1__RECEIPT_ITEM__INIT;
	Ppx__V1__ReceiptItem *items[] = {&it};
	uint8_t *out = NULL;

	it.body_hash.data = hash;
	it.body_hash.len = sizeof(hash);
	it.message_id.data = id;
	it.message_id.len = sizeof(id);
	it.status = PPX__V1__RECEIPT_STATUS__STORED;
	it.log_seq = 41;
	r.receiver_agency = (char *)receiver;
	r.sender_agency = (char *)to;
	r.time_ms = (int64_t)time(NULL) * 1000;
	r.n_items = 1;
	r.items = items;
	assert_int_equal(ppx_receipt_seal(&out, len, signer, &r), 0);
	return out;
}

static void test_receipt__round_trip(void **state)
{
	ppx_trust *t = trust_demo();
	ppx_signer *s = signer_at("probation.gwent");
	Ppx__V1__ReceiptBody *r = NULL;
	size_t len;
	uint8_t *frame = seal(s, "probation.gwent", "police.gwent", &len);

	(void)state;
	assert_int_equal(ppx_receipt_open(&r, t, frame, len, "probation.gwent",
					  "police.gwent", time(NULL)),
			 0);
	assert_int_equal(r->n_items, 1);
	assert_int_equal(r->items[0]->log_seq, 41);
	assert_memory_equal(r->items[0]->body_hash.data, hash, sizeof(hash));
	ppx__v1__receipt_body__free_unpacked(r, NULL);
	free(frame);
	ppx_signer_free(s);
	ppx_trust_free(t);
}

static void test_receipt__naming_another_receiver_is_refused(void **state)
{
	ppx_trust *t = trust_demo();
	ppx_signer *s = signer_at("prison.cardiff");
	Ppx__V1__ReceiptBody *r = NULL;
	size_t len;
	uint8_t *frame = seal(s, "probation.gwent", "police.gwent", &len);

	(void)state;
	assert_int_equal(ppx_receipt_open(&r, t, frame, len, NULL,
					  "police.gwent", time(NULL)),
			 PPX_ESENDER);
	assert_null(r);
	free(frame);
	ppx_signer_free(s);
	ppx_trust_free(t);
}

static void test_receipt__addressed_to_another_agency_is_refused(void **state)
{
	ppx_trust *t = trust_demo();
	ppx_signer *s = signer_at("probation.gwent");
	Ppx__V1__ReceiptBody *r = NULL;
	size_t len;
	uint8_t *frame = seal(s, "probation.gwent", "prison.cardiff", &len);

	(void)state;
	assert_int_equal(ppx_receipt_open(&r, t, frame, len, "probation.gwent",
					  "police.gwent", time(NULL)),
			 PPX_EBODY);
	free(frame);
	ppx_signer_free(s);
	ppx_trust_free(t);
}

static void test_receipt__every_single_bit_flip_is_refused(void **state)
{
	ppx_trust *t = trust_demo();
	ppx_signer *s = signer_at("probation.gwent");
	size_t len;
	uint8_t *frame = seal(s, "probation.gwent", "police.gwent", &len);

	(void)state;
	for (size_t i = 0; i < len; i++)
		for (int bit = 0; bit < 8; bit++) {
			Ppx__V1__ReceiptBody *r = NULL;

			frame[i] ^= (uint8_t)(1 << bit);
			assert_int_not_equal(ppx_receipt_open(&r, t, frame, len,
							      "probation.gwent",
							      "police.gwent",
							      time(NULL)),
					     0);
			frame[i] ^= (uint8_t)(1 << bit);
		}
	free(frame);
	ppx_signer_free(s);
	ppx_trust_free(t);
}

static void test_receipt__message_frame_is_not_a_receipt(void **state)
{
	ppx_trust *t = trust_demo();
	ppx_signer *s = signer_at("police.gwent");
	Ppx__V1__Body *b = body_new("police.gwent", "probation.gwent");
	Ppx__V1__ReceiptBody *r = NULL;
	uint8_t *frame = NULL;
	size_t len;

	(void)state;
	assert_int_equal(ppx_body_seal(&frame, &len, s, b), 0);
	assert_int_equal(ppx_receipt_open(&r, t, frame, len, NULL, NULL,
					  time(NULL)),
			 PPX_EPURPOSE);
	free(frame);
	body_free(b);
	ppx_signer_free(s);
	ppx_trust_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_receipt__round_trip),
		cmocka_unit_test(test_receipt__naming_another_receiver_is_refused),
		cmocka_unit_test(test_receipt__addressed_to_another_agency_is_refused),
		cmocka_unit_test(test_receipt__every_single_bit_flip_is_refused),
		cmocka_unit_test(test_receipt__message_frame_is_not_a_receipt),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
