/*
 * test_delivery.c — what a sent message's state is for a recipient after
 * each sequence of that recipient's receipts.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>

#include <cmocka.h>

#include "ppx/delivery.h"

#define QUEUED PPX__V1__DELIVERY_STATE__DELIVERY_QUEUED
#define DELIVERED PPX__V1__DELIVERY_STATE__DELIVERY_DELIVERED
#define REFUSED PPX__V1__DELIVERY_STATE__DELIVERY_REFUSED

static uint8_t id[16] = {0xab, 1, 2, 3};
static uint8_t other[16] = {0xcd, 4};

/* A receipt of up to three items; items use `it`'s storage. */
struct rcpt {
	Ppx__V1__ReceiptBody r;
	Ppx__V1__ReceiptItem it[3];
	Ppx__V1__ReceiptItem *p[3];
};

static const Ppx__V1__ReceiptBody *rcpt_add(struct rcpt *x, uint8_t *mid,
					    int status, uint64_t log_seq,
					    int reason, const char *detail)
{
	Ppx__V1__ReceiptItem *it = &x->it[x->r.n_items];

	if (x->r.n_items == 0)
		ppx__v1__receipt_body__init(&x->r);
	ppx__v1__receipt_item__init(it);
	it->message_id.data = mid;
	it->message_id.len = 16;
	it->status = status;
	it->log_seq = log_seq;
	it->reason = reason;
	it->detail = (char *)detail;
	x->p[x->r.n_items++] = it;
	x->r.items = x->p;
	return &x->r;
}

static void test_delivery__queued_without_receipts(void **state)
{
	struct ppx_delivery d;

	(void)state;
	memset(&d, 0x5a, sizeof(d));
	ppx_delivery_init(&d);
	assert_int_equal(d.state, QUEUED);
	assert_false(d.has_receipt);
	assert_int_equal(d.receipt_seq, 0);
	assert_int_equal(d.reason, 0);
	assert_string_equal(d.detail, "");
}

static void test_delivery__stored_and_duplicate_are_delivered(void **state)
{
	static const int statuses[] = {PPX__V1__RECEIPT_STATUS__STORED,
				       PPX__V1__RECEIPT_STATUS__DUPLICATE};

	(void)state;
	for (size_t i = 0; i < 2; i++) {
		struct rcpt x = {0};
		struct ppx_delivery d;

		rcpt_add(&x, other, PPX__V1__RECEIPT_STATUS__STORED, 3, 0, "");
		rcpt_add(&x, id, statuses[i], 41, 0, "");
		ppx_delivery_init(&d);
		assert_int_equal(ppx_delivery_apply(&d, id, 16, 9, &x.r), 1);
		assert_int_equal(d.state, DELIVERED);
		assert_true(d.has_receipt && d.has_item);
		assert_int_equal(d.receipt_seq, 9);
		assert_int_equal(d.remote_seq, 41);
		assert_int_equal(d.reason, 0);
	}
}

static void test_delivery__refused_with_reason_and_detail(void **state)
{
	struct rcpt x = {0};
	struct ppx_delivery d;
	char longer[400];

	(void)state;
	rcpt_add(&x, id, PPX__V1__RECEIPT_STATUS__REFUSED, 0,
		 PPX__V1__REJECT_REASON__REJECT_POLICY, "no disclosures");
	ppx_delivery_init(&d);
	ppx_delivery_apply(&d, id, 16, 20, &x.r);
	assert_int_equal(d.state, REFUSED);
	assert_int_equal(d.reason, PPX__V1__REJECT_REASON__REJECT_POLICY);
	assert_string_equal(d.detail, "no disclosures");
	assert_int_equal(d.receipt_seq, 20);
	/* A long detail is kept to its first bytes, terminated. */
	memset(longer, 'x', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = '\0';
	x.it[0].detail = longer;
	ppx_delivery_init(&d);
	ppx_delivery_apply(&d, id, 16, 20, &x.r);
	assert_int_equal(strlen(d.detail), PPX_DELIVERY_DETAIL_MAX - 1);
}

static void test_delivery__first_receipt_naming_it_decides(void **state)
{
	struct rcpt a = {0}, b = {0};
	struct ppx_delivery d;

	(void)state;
	rcpt_add(&a, id, PPX__V1__RECEIPT_STATUS__REFUSED, 0,
		 PPX__V1__REJECT_REASON__REJECT_CONFLICT, "merge");
	rcpt_add(&b, id, PPX__V1__RECEIPT_STATUS__STORED, 50, 0, "");
	ppx_delivery_init(&d);
	assert_int_equal(ppx_delivery_apply(&d, id, 16, 30, &a.r), 1);
	assert_int_equal(ppx_delivery_apply(&d, id, 16, 31, &b.r), 0);
	assert_int_equal(d.state, REFUSED);
	assert_int_equal(d.receipt_seq, 30);
	/* Within one receipt too: its first item about the id. */
	rcpt_add(&a, id, PPX__V1__RECEIPT_STATUS__STORED, 60, 0, "");
	ppx_delivery_init(&d);
	ppx_delivery_apply(&d, id, 16, 30, &a.r);
	assert_int_equal(d.state, REFUSED);
}

/* A receipt the log indexes under the id settled it, even when its body
 * cannot be read or names the id in no item: delivered, until a receipt
 * that names it says more. */
static void test_delivery__unreadable_receipt_still_settles(void **state)
{
	struct rcpt x = {0}, y = {0};
	struct ppx_delivery d;

	(void)state;
	ppx_delivery_init(&d);
	assert_int_equal(ppx_delivery_apply(&d, id, 16, 7, NULL), 1);
	assert_int_equal(d.state, DELIVERED);
	assert_true(d.has_receipt);
	assert_false(d.has_item);
	assert_int_equal(d.receipt_seq, 7);
	assert_int_equal(d.remote_seq, 0);
	rcpt_add(&x, other, PPX__V1__RECEIPT_STATUS__REFUSED, 0,
		 PPX__V1__REJECT_REASON__REJECT_POLICY, "not this one");
	assert_int_equal(ppx_delivery_apply(&d, id, 16, 8, &x.r), 0);
	assert_int_equal(d.receipt_seq, 7);
	assert_int_equal(d.state, DELIVERED);
	rcpt_add(&y, id, PPX__V1__RECEIPT_STATUS__REFUSED, 0,
		 PPX__V1__REJECT_REASON__REJECT_POLICY, "no");
	assert_int_equal(ppx_delivery_apply(&d, id, 16, 9, &y.r), 1);
	assert_int_equal(d.state, REFUSED);
	assert_int_equal(d.receipt_seq, 9);
	assert_string_equal(d.detail, "no");
}

static void test_delivery__item_of_another_length_is_not_it(void **state)
{
	struct rcpt x = {0};
	struct ppx_delivery d;

	(void)state;
	rcpt_add(&x, id, PPX__V1__RECEIPT_STATUS__REFUSED, 0,
		 PPX__V1__REJECT_REASON__REJECT_POLICY, "prefix");
	x.it[0].message_id.len = 8;
	ppx_delivery_init(&d);
	ppx_delivery_apply(&d, id, 16, 4, &x.r);
	assert_int_equal(d.state, DELIVERED);
	assert_false(d.has_item);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_delivery__queued_without_receipts),
		cmocka_unit_test(
			test_delivery__stored_and_duplicate_are_delivered),
		cmocka_unit_test(
			test_delivery__refused_with_reason_and_detail),
		cmocka_unit_test(
			test_delivery__first_receipt_naming_it_decides),
		cmocka_unit_test(
			test_delivery__unreadable_receipt_still_settles),
		cmocka_unit_test(
			test_delivery__item_of_another_length_is_not_it),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
