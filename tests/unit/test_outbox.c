/*
 * test_outbox.c — store and forward (daemon/outbox.c) on the in-memory
 * transport: real signed messages in a real log, real receipts signed
 * by the partner's demo key; only the sockets are replaced.  The test
 * plays the partner: it takes what the outbox sent from the link, and
 * pushes the partner's receipts onto it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "../../daemon/outbox.h"
#include "../../daemon/writer.h"
#include "daemon_fixture.h"
#include "ppx/envelope.h"
#include "ppx/error.h"
#include "ppx/receipt.h"
#include "support.h"
#include "transport_mem.h"

#define US "police.gwent"
#define PROBATION "probation.gwent"
#define PRISON "prison.cardiff"

/* Messages still waiting for `partner` in the durable outbox. */
static size_t durable_depth(struct daemon_fixture *f, const char *partner)
{
	uint64_t *seqs = NULL;
	size_t n = 0;

	assert_int_equal(ppx_log_outbox_list(f->d.log, partner, &seqs, &n,
					     1000), 0);
	free(seqs);
	return n;
}

static struct outbox_stats stats(struct daemon_fixture *f, const char *partner)
{
	struct outbox_stats st;

	outbox_stats(&f->d, daemon_fixture_link(f, partner), &st);
	return st;
}

/* What probation's receipts did: RECEIPT_RECEIVED entries logged,
 * messages delivered, and messages still waiting (in the lane, as ppx
 * status counts them, and in the durable outbox alike). */
static void assert_to_probation(struct daemon_fixture *f, size_t receipts,
				uint64_t delivered, size_t waiting)
{
	assert_int_equal(daemon_fixture_count(
				 f, PPX__V1__ENTRY_KIND__ENTRY_RECEIPT_RECEIVED,
				 PROBATION), receipts);
	assert_int_equal(stats(f, PROBATION).delivered, delivered);
	assert_int_equal(stats(f, PROBATION).depth, waiting);
	assert_int_equal(durable_depth(f, PROBATION), waiting);
}

/* A daemon whose partners are version-1 peers (`proofs = optional`): the
 * receipts these tests make carry no proof of recording, which
 * test_receipt_proof.c and receipt_proofs.sh cover. */
static struct daemon_fixture *fixture_v1(const char *delivery)
{
	struct daemon_fixture *f = daemon_fixture_new(US, delivery);

	for (size_t i = 0; i < f->d.cfg->n_partners; i++)
		f->d.cfg->partners[i].proofs_optional = 1;
	return f;
}

static void links_up(struct daemon_fixture *f)
{
	for (size_t i = 0; i < transport_links(f->d.transport); i++)
		transport_mem_link_up(f->d.transport, i, 1);
}

static void test_outbox__sends_each_partners_messages_in_log_order(void **st)
{
	struct daemon_fixture *f = fixture_v1(NULL);
	size_t probation = daemon_fixture_link(f, PROBATION);
	size_t prison = daemon_fixture_link(f, PRISON);
	struct fixture_sent s[5];

	(void)st;
	/* probation, prison, probation... */
	for (size_t i = 0; i < 5; i++)
		s[i] = daemon_fixture_submit(f, i % 2 ? PRISON : PROBATION);
	daemon_fixture_iterate(f);
	assert_int_equal(transport_mem_link_queued(f->d.transport, probation),
			 0);	/* links down: nothing sent */
	links_up(f);
	daemon_fixture_iterate(f);
	assert_int_equal(transport_mem_link_queued(f->d.transport, probation),
			 3);
	assert_int_equal(transport_mem_link_queued(f->d.transport, prison), 2);
	daemon_fixture_assert_next_sent(f, probation, &s[0]);
	daemon_fixture_assert_next_sent(f, probation, &s[2]);
	daemon_fixture_assert_next_sent(f, probation, &s[4]);
	daemon_fixture_assert_next_sent(f, prison, &s[1]);
	daemon_fixture_assert_next_sent(f, prison, &s[3]);
	assert_int_equal(stats(f, PROBATION).depth, 3);
	daemon_fixture_free(&f);
}

static void test_outbox__sends_no_more_than_the_window(void **st)
{
	struct daemon_fixture *f = fixture_v1("window = 2");
	size_t link = daemon_fixture_link(f, PROBATION);
	struct fixture_sent s[5];

	(void)st;
	for (size_t i = 0; i < 5; i++)
		s[i] = daemon_fixture_submit(f, PROBATION);
	links_up(f);
	daemon_fixture_iterate(f);
	daemon_fixture_iterate(f);
	assert_int_equal(transport_mem_link_queued(f->d.transport, link), 2);
	daemon_fixture_assert_next_sent(f, link, &s[0]);
	daemon_fixture_assert_next_sent(f, link, &s[1]);
	/* taken, but not receipted: still in flight */
	daemon_fixture_iterate(f);
	assert_int_equal(transport_mem_link_queued(f->d.transport, link), 0);
	daemon_fixture_push_receipt(f, PROBATION, &s[0], 1, 0, 100);
	daemon_fixture_iterate(f);	/* one settled: one more may go */
	assert_int_equal(transport_mem_link_queued(f->d.transport, link), 1);
	daemon_fixture_assert_next_sent(f, link, &s[2]);
	assert_int_equal(stats(f, PROBATION).sent, 3);
	daemon_fixture_free(&f);
}

static void test_outbox__a_full_link_holds_back_the_rest_in_order(void **st)
{
	struct daemon_fixture *f = fixture_v1(NULL);
	size_t link = daemon_fixture_link(f, PROBATION);
	struct fixture_sent s[3];

	(void)st;
	for (size_t i = 0; i < 3; i++)
		s[i] = daemon_fixture_submit(f, PROBATION);
	transport_mem_link_capacity(f->d.transport, link, 1);
	links_up(f);
	daemon_fixture_iterate(f);
	assert_int_equal(transport_mem_link_queued(f->d.transport, link), 1);
	daemon_fixture_assert_next_sent(f, link, &s[0]);
	daemon_fixture_iterate(f);
	daemon_fixture_assert_next_sent(f, link, &s[1]);
	transport_mem_link_capacity(f->d.transport, link, SIZE_MAX);
	daemon_fixture_iterate(f);
	assert_int_equal(transport_mem_link_queued(f->d.transport, link), 1);
	daemon_fixture_assert_next_sent(f, link, &s[2]);
	daemon_fixture_free(&f);
}

static void test_outbox__after_link_down_resends_from_oldest_unreceipted(
	void **st)
{
	struct daemon_fixture *f = fixture_v1(NULL);
	size_t link = daemon_fixture_link(f, PROBATION);
	struct fixture_sent s[3];
	size_t resets;

	(void)st;
	for (size_t i = 0; i < 3; i++)
		s[i] = daemon_fixture_submit(f, PROBATION);
	links_up(f);
	daemon_fixture_iterate(f);
	for (size_t i = 0; i < 3; i++)
		daemon_fixture_assert_next_sent(f, link, &s[i]);
	daemon_fixture_push_receipt(f, PROBATION, &s[0], 1, 0, 100);
	daemon_fixture_iterate(f);
	resets = transport_mem_link_resets(f->d.transport, link);
	transport_mem_link_up(f->d.transport, link, 0);
	daemon_fixture_iterate(f);
	assert_int_equal(transport_mem_link_resets(f->d.transport, link),
			 resets + 1);
	assert_int_equal(transport_mem_link_queued(f->d.transport, link), 0);
	transport_mem_link_up(f->d.transport, link, 1);
	daemon_fixture_iterate(f);
	assert_int_equal(transport_mem_link_queued(f->d.transport, link), 2);
	daemon_fixture_assert_next_sent(f, link, &s[1]);
	daemon_fixture_assert_next_sent(f, link, &s[2]);
	assert_int_equal(stats(f, PROBATION).depth, 2);
	daemon_fixture_free(&f);
}

static void test_outbox__receipt_completes_message_and_is_logged_once(
	void **st)
{
	struct daemon_fixture *f = fixture_v1(NULL);
	size_t link = daemon_fixture_link(f, PROBATION);
	struct fixture_sent s[2];

	(void)st;
	s[0] = daemon_fixture_submit(f, PROBATION);
	s[1] = daemon_fixture_submit(f, PROBATION);
	links_up(f);
	daemon_fixture_iterate(f);
	daemon_fixture_assert_next_sent(f, link, &s[0]);
	daemon_fixture_assert_next_sent(f, link, &s[1]);
	assert_int_equal(durable_depth(f, PROBATION), 2);
	/* The same receipt twice in one iteration (a resend crossed it). */
	daemon_fixture_push_receipt(f, PROBATION, &s[0], 1, 0, 100);
	daemon_fixture_push_receipt(f, PROBATION, &s[0], 1, 0, 100);
	daemon_fixture_iterate(f);
	assert_to_probation(f, 1, 1, 1);
	daemon_fixture_free(&f);
}

/* A receipt that cannot be logged (here: the writer cannot begin its
 * batch, as when LMDB refuses a write transaction) settles nothing:
 * the message still waits in the lane and in the durable outbox, and the
 * same receipt delivers it once the log takes writes again. */
static void test_outbox__receipt_not_logged_leaves_the_message_waiting(
	void **st)
{
	struct daemon_fixture *f = fixture_v1(NULL);
	struct fixture_sent s = daemon_fixture_submit(f, PROBATION);
	ppx_log_batch *elsewhere = NULL;

	(void)st;
	links_up(f);
	daemon_fixture_iterate(f);
	daemon_fixture_assert_next_sent(f, daemon_fixture_link(f, PROBATION),
					&s);
	assert_int_equal(ppx_log_begin(&elsewhere, f->d.log), 0);
	daemon_fixture_push_receipt(f, PROBATION, &s, 1, 0, 100);
	daemon_fixture_iterate(f);
	ppx_log_abort(elsewhere);
	assert_to_probation(f, 0, 0, 1);

	daemon_fixture_push_receipt(f, PROBATION, &s, 1, 0, 100);
	daemon_fixture_iterate(f);
	assert_to_probation(f, 1, 1, 0);
	daemon_fixture_free(&f);
}

static void test_outbox__duplicate_receipt_changes_nothing(void **st)
{
	struct daemon_fixture *f = fixture_v1(NULL);
	struct fixture_sent s = daemon_fixture_submit(f, PROBATION);
	uint64_t size;

	(void)st;
	links_up(f);
	daemon_fixture_iterate(f);
	daemon_fixture_push_receipt(f, PROBATION, &s, 1, 0, 100);
	daemon_fixture_iterate(f);
	assert_int_equal(stats(f, PROBATION).delivered, 1);
	size = ppx_log_size(f->d.log);
	daemon_fixture_push_receipt(f, PROBATION, &s, 1, 0, 100);
	daemon_fixture_iterate(f);
	assert_int_equal(ppx_log_size(f->d.log), size);
	assert_int_equal(stats(f, PROBATION).delivered, 1);
	assert_int_equal(stats(f, PROBATION).refused, 0);
	assert_int_equal(durable_depth(f, PROBATION), 0);
	daemon_fixture_free(&f);
}

/* The reason of the only item of the RECEIPT_RECEIVED entry. */
static int logged_reason(struct daemon_fixture *f, int *status)
{
	uint64_t size = ppx_log_size(f->d.log);
	int reason = -1;

	for (uint64_t q = 0; q < size; q++) {
		Ppx__V1__LogEntry *e = NULL;
		Ppx__V1__ReceiptBody *r = NULL;

		assert_int_equal(ppx_log_get(f->d.log, q, &e), 0);
		if (e->kind == PPX__V1__ENTRY_KIND__ENTRY_RECEIPT_RECEIVED) {
			assert_int_equal(ppx_receipt_open(&r, f->d.trust,
							  e->data.data,
							  e->data.len, NULL,
							  US, 0), 0);
			assert_int_equal(r->n_items, 1);
			reason = r->items[0]->reason;
			*status = r->items[0]->status;
			ppx__v1__receipt_body__free_unpacked(r, NULL);
		}
		ppx__v1__log_entry__free_unpacked(e, NULL);
	}
	return reason;
}

static void test_outbox__refusal_receipt_is_recorded_with_its_reason(
	void **st)
{
	struct daemon_fixture *f = fixture_v1(NULL);
	struct fixture_sent s = daemon_fixture_submit(f, PROBATION);
	int status = 0;

	(void)st;
	links_up(f);
	daemon_fixture_iterate(f);
	daemon_fixture_push_receipt(f, PROBATION, &s, 1,
				    PPX__V1__REJECT_REASON__REJECT_POLICY, 100);
	daemon_fixture_iterate(f);
	assert_int_equal(stats(f, PROBATION).refused, 1);
	assert_int_equal(stats(f, PROBATION).delivered, 0);
	assert_int_equal(stats(f, PROBATION).depth, 0);
	assert_int_equal(durable_depth(f, PROBATION), 0);
	assert_int_equal(logged_reason(f, &status),
			 PPX__V1__REJECT_REASON__REJECT_POLICY);
	assert_int_equal(status, PPX__V1__RECEIPT_STATUS__REFUSED);
	daemon_fixture_free(&f);
}

static void test_outbox__transient_refusal_keeps_the_message_pending(
	void **st)
{
	struct daemon_fixture *f = fixture_v1(NULL);
	struct fixture_sent s = daemon_fixture_submit(f, PROBATION);

	(void)st;
	links_up(f);
	daemon_fixture_iterate(f);
	daemon_fixture_push_receipt(
		f, PROBATION, &s, 1,
		PPX__V1__REJECT_REASON__REJECT_STORAGE_FULL, 100);
	daemon_fixture_iterate(f);
	assert_int_equal(stats(f, PROBATION).refused, 0);
	assert_int_equal(stats(f, PROBATION).depth, 1);
	assert_int_equal(durable_depth(f, PROBATION), 1);
	assert_int_equal(daemon_fixture_count(
				 f, PPX__V1__ENTRY_KIND__ENTRY_RECEIPT_RECEIVED,
				 NULL), 0);
	daemon_fixture_free(&f);
}

static void test_outbox__receipt_signed_by_another_partner_is_refused(
	void **st)
{
	struct daemon_fixture *f = fixture_v1(NULL);
	struct fixture_sent s = daemon_fixture_submit(f, PROBATION);
	int mismatch = PPX__V1__REJECT_REASON__REJECT_SENDER_MISMATCH;
	size_t len = 0;
	uint8_t *r;

	(void)st;
	links_up(f);
	daemon_fixture_iterate(f);
	/* Prison's receipt for probation's message, on probation's link. */
	r = daemon_fixture_receipt(&len, f, PRISON, &s, 1, 0, 100);
	transport_mem_link_push(f->d.transport,
				daemon_fixture_link(f, PROBATION), r, len);
	free(r);
	daemon_fixture_iterate(f);
	assert_int_equal(stats(f, PROBATION).delivered, 0);
	assert_int_equal(durable_depth(f, PROBATION), 1);
	assert_int_equal(daemon_fixture_count(
				 f, PPX__V1__ENTRY_KIND__ENTRY_REJECTED,
				 PROBATION), 1);
	assert_int_equal(f->d.refusals[mismatch], 1);
	daemon_fixture_free(&f);
}

static void test_outbox__receipt_without_required_proof_delivers_nothing(
	void **st)
{
	struct daemon_fixture *f = daemon_fixture_new(US, NULL);
	struct fixture_sent s = daemon_fixture_submit(f, PROBATION);
	int bad_body = PPX__V1__REJECT_REASON__REJECT_BAD_BODY;

	(void)st;
	links_up(f);
	daemon_fixture_iterate(f);
	daemon_fixture_push_receipt(f, PROBATION, &s, 1, 0, 100);
	daemon_fixture_iterate(f);
	assert_int_equal(stats(f, PROBATION).delivered, 0);
	assert_int_equal(durable_depth(f, PROBATION), 1);
	assert_int_equal(daemon_fixture_count(
				 f, PPX__V1__ENTRY_KIND__ENTRY_RECEIPT_RECEIVED,
				 NULL), 0);
	assert_int_equal(daemon_fixture_count(
				 f, PPX__V1__ENTRY_KIND__ENTRY_REJECTED,
				 PROBATION), 1);
	assert_int_equal(f->d.receipts_unproven, 1);
	assert_int_equal(f->d.refusals[bad_body], 1);
	/* the same partner made optional: the same receipt delivers */
	for (size_t i = 0; i < f->d.cfg->n_partners; i++)
		f->d.cfg->partners[i].proofs_optional = 1;
	daemon_fixture_push_receipt(f, PROBATION, &s, 1, 0, 100);
	daemon_fixture_iterate(f);
	assert_int_equal(stats(f, PROBATION).delivered, 1);
	assert_int_equal(durable_depth(f, PROBATION), 0);
	daemon_fixture_free(&f);
}

/* Test names are long: they say what each proves. */
#define T(f) cmocka_unit_test(f)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_outbox__sends_each_partners_messages_in_log_order),
		T(test_outbox__sends_no_more_than_the_window),
		T(test_outbox__a_full_link_holds_back_the_rest_in_order),
		T(test_outbox__after_link_down_resends_from_oldest_unreceipted),
		T(test_outbox__receipt_completes_message_and_is_logged_once),
		T(test_outbox__receipt_not_logged_leaves_the_message_waiting),
		T(test_outbox__duplicate_receipt_changes_nothing),
		T(test_outbox__refusal_receipt_is_recorded_with_its_reason),
		T(test_outbox__transient_refusal_keeps_the_message_pending),
		T(test_outbox__receipt_signed_by_another_partner_is_refused),
		T(test_outbox__receipt_without_required_proof_delivers_nothing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
