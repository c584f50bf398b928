/*
 * test_inbound.c — the receive pipeline (daemon/inbound.c) on the
 * in-memory transport: real frames signed with the demo PKI's keys, the
 * real receive check, policy and log (LMDB in a temporary directory),
 * real signed receipts; only the sockets are replaced.  We are
 * probation; the test plays police and the other senders, pushing
 * frames inbound and reading the receipts the pipeline answers with.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "../../daemon/inbound.h"
#include "../../daemon/writer.h"
#include "daemon_fixture.h"
#include "ppx/envelope.h"
#include "ppx/error.h"
#include "ppx/receipt.h"
#include "support.h"
#include "transport_mem.h"

#define US "probation.gwent"
#define POLICE "police.gwent"
#define PRISON "prison.cardiff"
#define ROUTE "conn-1"

/* `b` sealed by the signer of `who` (a demo agency or a fixture
 * directory such as "test/rogue/police.gwent"). */
static uint8_t *seal(const char *who, const Ppx__V1__Body *b, size_t *len)
{
	ppx_signer *s = signer_at(who);
	uint8_t *frame = NULL;

	assert_int_equal(ppx_body_seal(&frame, len, s, b), 0);
	ppx_signer_free(s);
	return frame;
}

/* A police notification to us, sealed: its frame and its id. */
static uint8_t *police_frame(size_t *len, uint8_t id[PPX_MESSAGE_ID_LEN])
{
	Ppx__V1__Body *b = body_new(POLICE, US);
	uint8_t *frame = seal(POLICE, b, len);

	memcpy(id, b->message_id.data, PPX_MESSAGE_ID_LEN);
	body_free(b);
	return frame;
}

/* One iteration as far as the pipeline goes (ppxd.c): drain, commit,
 * send what waited for the commit, cut what is due. */
static void drain(struct daemon_fixture *f, const char *agency,
		  const uint8_t *frame, size_t len)
{
	transport_mem_inbound_push(f->d.transport, agency, ROUTE, frame, len);
	assert_int_equal(inbound_drain(&f->d, 100), 1);
	writer_flush(&f->d);
	inbound_cut(&f->d);
}

/* The one reply sent: to ROUTE, a receipt signed by us for `to`. */
static Ppx__V1__ReceiptBody *reply(struct daemon_fixture *f, const char *to,
				   uint8_t **raw, size_t *raw_len)
{
	Ppx__V1__ReceiptBody *r = NULL;
	struct transport_route route;
	uint8_t *data = NULL;
	size_t len = 0;

	assert_int_equal(transport_mem_replies(f->d.transport), 1);
	assert_int_equal(transport_mem_reply_take(f->d.transport, &route,
						  &data, &len), 0);
	assert_int_equal(route.len, strlen(ROUTE));
	assert_memory_equal(route.id, ROUTE, route.len);
	assert_int_equal(ppx_receipt_open(&r, f->d.trust, data, len, US, to,
					  time(NULL)), 0);
	assert_int_equal(r->n_items, 1);
	if (raw) {
		*raw = data;
		*raw_len = len;
	} else {
		free(data);
	}
	return r;
}

static size_t count(struct daemon_fixture *f, int kind)
{
	return daemon_fixture_count(f, kind, NULL);
}

/* The reason of the last REJECTED entry in the log, -1 if none. */
static int last_rejected_reason(struct daemon_fixture *f)
{
	int reason = -1;

	for (uint64_t s = ppx_log_size(f->d.log); s-- > 0 && reason < 0;) {
		Ppx__V1__LogEntry *e = NULL;

		assert_int_equal(ppx_log_get(f->d.log, s, &e), 0);
		if (e->kind == PPX__V1__ENTRY_KIND__ENTRY_REJECTED)
			reason = e->reason;
		ppx__v1__log_entry__free_unpacked(e, NULL);
	}
	return reason;
}

/*
 * Push `frame` as if from a session authenticated as `agency`, and check
 * that it was refused for `reason`: a REFUSED receipt item saying so,
 * a REJECTED entry with that reason, the refusal counted, nothing stored.
 */
static void assert_refused(const char *agency, const uint8_t *frame,
			   size_t len, int reason)
{
	struct daemon_fixture *f = daemon_fixture_new(US, NULL);
	Ppx__V1__ReceiptBody *r;

	drain(f, agency, frame, len);
	r = reply(f, agency, NULL, NULL);
	assert_int_equal(r->items[0]->status,
			 PPX__V1__RECEIPT_STATUS__REFUSED);
	assert_int_equal(r->items[0]->reason, reason);
	assert_true(r->items[0]->detail[0] != '\0');
	ppx__v1__receipt_body__free_unpacked(r, NULL);
	assert_int_equal(count(f, PPX__V1__ENTRY_KIND__ENTRY_REJECTED), 1);
	assert_int_equal(last_rejected_reason(f), reason);
	assert_int_equal(f->d.refusals[reason], 1);
	assert_int_equal(count(f, PPX__V1__ENTRY_KIND__ENTRY_RECEIVED), 0);
	daemon_fixture_free(&f);
}

static void test_inbound__valid_frame_is_stored_and_receipted_once(void **st)
{
	struct daemon_fixture *f = daemon_fixture_new(US, NULL);
	uint8_t id[PPX_MESSAGE_ID_LEN];
	size_t len = 0;
	uint8_t *frame = police_frame(&len, id);
	Ppx__V1__ReceiptBody *r;
	uint64_t seq = 0;

	(void)st;
	drain(f, POLICE, frame, len);
	assert_int_equal(ppx_log_find(f->d.log,
				      PPX__V1__ENTRY_KIND__ENTRY_RECEIVED,
				      POLICE, id, sizeof(id), &seq), 0);
	assert_int_equal(count(f, PPX__V1__ENTRY_KIND__ENTRY_RECEIVED), 1);
	assert_int_equal(count(f, PPX__V1__ENTRY_KIND__ENTRY_RECEIPT_SENT), 1);
	r = reply(f, POLICE, NULL, NULL);
	assert_int_equal(r->items[0]->status, PPX__V1__RECEIPT_STATUS__STORED);
	assert_int_equal(r->items[0]->log_seq, seq);
	assert_int_equal(r->items[0]->message_id.len, sizeof(id));
	assert_memory_equal(r->items[0]->message_id.data, id, sizeof(id));
	ppx__v1__receipt_body__free_unpacked(r, NULL);
	assert_int_equal(transport_mem_replies(f->d.transport), 0);
	free(frame);
	daemon_fixture_free(&f);
}

static void test_inbound__same_frame_again_gets_original_receipt_only(
	void **st)
{
	struct daemon_fixture *f = daemon_fixture_new(US, NULL);
	uint8_t id[PPX_MESSAGE_ID_LEN], *first = NULL, *again = NULL;
	size_t len = 0, first_len = 0, again_len = 0;
	uint8_t *frame = police_frame(&len, id);
	uint64_t size;

	(void)st;
	drain(f, POLICE, frame, len);
	ppx__v1__receipt_body__free_unpacked(
		reply(f, POLICE, &first, &first_len), NULL);
	size = ppx_log_size(f->d.log);
	drain(f, POLICE, frame, len);
	ppx__v1__receipt_body__free_unpacked(
		reply(f, POLICE, &again, &again_len), NULL);
	assert_int_equal(again_len, first_len);
	assert_memory_equal(again, first, first_len);
	assert_int_equal(ppx_log_size(f->d.log), size);
	assert_int_equal(count(f, PPX__V1__ENTRY_KIND__ENTRY_RECEIVED), 1);
	assert_int_equal(count(f, PPX__V1__ENTRY_KIND__ENTRY_RECEIPT_SENT), 1);
	free(first);
	free(again);
	free(frame);
	daemon_fixture_free(&f);
}

/* Frames drained together from one connection get one receipt, listing
 * an item per frame; another connection's frame gets its own, sent back
 * on its own route. */
static void test_inbound__one_receipt_per_connection_per_iteration(void **st)
{
	struct daemon_fixture *f = daemon_fixture_new(US, NULL);
	uint8_t id[3][PPX_MESSAGE_ID_LEN], *frame[3], *data = NULL;
	size_t len[3], n = 0, rlen = 0;
	const char *routes[3] = {"conn-a", "conn-b", "conn-a"};
	struct transport_route route;
	Ppx__V1__ReceiptBody *r = NULL;

	(void)st;
	for (size_t i = 0; i < 3; i++) {
		frame[i] = police_frame(&len[i], id[i]);
		transport_mem_inbound_push(f->d.transport, POLICE, routes[i],
					   frame[i], len[i]);
	}
	assert_int_equal(inbound_drain(&f->d, 100), 3);
	writer_flush(&f->d);
	assert_int_equal(transport_mem_replies(f->d.transport), 2);
	while (transport_mem_reply_take(f->d.transport, &route, &data,
					&rlen) == 0) {
		int is_a = route.len == 6 && memcmp(route.id, "conn-a", 6) == 0;

		assert_int_equal(ppx_receipt_open(&r, f->d.trust, data, rlen,
						  US, POLICE, time(NULL)), 0);
		assert_int_equal(r->n_items, is_a ? 2 : 1);
		for (size_t i = 0; i < r->n_items; i++)
			assert_memory_equal(r->items[i]->message_id.data,
					    id[is_a ? 2 * i : 1],
					    PPX_MESSAGE_ID_LEN);
		ppx__v1__receipt_body__free_unpacked(r, NULL);
		free(data);
		n++;
	}
	assert_int_equal(n, 2);
	assert_int_equal(count(f, PPX__V1__ENTRY_KIND__ENTRY_RECEIVED), 3);
	assert_int_equal(count(f, PPX__V1__ENTRY_KIND__ENTRY_RECEIPT_SENT), 2);
	for (size_t i = 0; i < 3; i++)
		free(frame[i]);
	daemon_fixture_free(&f);
}

static void test_inbound__bad_signature_is_refused(void **st)
{
	uint8_t id[PPX_MESSAGE_ID_LEN];
	size_t len = 0;
	uint8_t *frame = police_frame(&len, id);
	uint8_t *text = memmem(frame, len, "Arrested", 8);

	(void)st;
	assert_non_null(text);
	text[0] = 'B';	/* the signed bytes, altered after signing */
	assert_refused(POLICE, frame, len,
		       PPX__V1__REJECT_REASON__REJECT_BAD_SIGNATURE);
	free(frame);
}

static void test_inbound__frame_not_naming_us_is_refused(void **st)
{
	Ppx__V1__Body *b = body_new(POLICE, PRISON);
	size_t len = 0;
	uint8_t *frame = seal(POLICE, b, &len);

	(void)st;
	assert_refused(POLICE, frame, len,
		       PPX__V1__REJECT_REASON__REJECT_NOT_RECIPIENT);
	free(frame);
	body_free(b);
}

static void test_inbound__signer_outside_the_federation_is_refused(void **st)
{
	Ppx__V1__Body *b = body_new(POLICE, US);
	size_t len = 0;
	uint8_t *frame = seal("test/rogue/police.gwent", b, &len);

	(void)st;
	assert_refused(POLICE, frame, len,
		       PPX__V1__REJECT_REASON__REJECT_UNKNOWN_SIGNER);
	free(frame);
	body_free(b);
}

static void test_inbound__frame_signed_by_another_partner_is_refused(
	void **st)
{
	uint8_t id[PPX_MESSAGE_ID_LEN];
	size_t len = 0;
	uint8_t *frame = police_frame(&len, id);

	(void)st;
	/* Police's frame, on a session authenticated as prison. */
	assert_refused(PRISON, frame, len,
		       PPX__V1__REJECT_REASON__REJECT_SENDER_MISMATCH);
	free(frame);
}

static void test_inbound__oversized_frame_is_refused(void **st)
{
	size_t len = PPX_FRAME_MAX + 1;
	uint8_t *frame = calloc(1, len);

	(void)st;
	assert_non_null(frame);
	assert_refused(POLICE, frame, len,
		       PPX__V1__REJECT_REASON__REJECT_TOO_LARGE);
	free(frame);
}

static void test_inbound__malformed_frame_is_refused(void **st)
{
	uint8_t frame[64];

	(void)st;
	memset(frame, 0xff, sizeof(frame));
	assert_refused(POLICE, frame, sizeof(frame),
		       PPX__V1__REJECT_REASON__REJECT_BAD_FRAME);
}

static void test_inbound__frame_naming_other_agencys_officer_is_refused(
	void **st)
{
	Ppx__V1__Body *b = body_new(POLICE, US);
	size_t len = 0;
	uint8_t *frame;

	(void)st;
	free(b->sender_person->agency);
	b->sender_person->agency = strdup(PRISON);
	assert_non_null(b->sender_person->agency);
	frame = seal(POLICE, b, &len);
	assert_refused(POLICE, frame, len,
		       PPX__V1__REJECT_REASON__REJECT_SENDER_MISMATCH);
	free(frame);
	body_free(b);
}

/* Messages whose sending person's id is BIG_ID bytes long: each stored
 * item's entry_head repeats it, so that RECEIPT_CHUNK (256) such items
 * would be about 1.5 MiB, past PPX_FRAME_MAX. */
#define BIG_N 300
#define BIG_ID 6000

/* The frame of message `id` among the BIG_N pushed, by its id. */
static size_t big_find(uint8_t id[][PPX_MESSAGE_ID_LEN], const uint8_t *want)
{
	for (size_t i = 0; i < BIG_N; i++)
		if (memcmp(id[i], want, PPX_MESSAGE_ID_LEN) == 0)
			return i;
	fail_msg("a receipt item names a message not sent");
	return 0;
}

/* A burst from one connection whose receipt by count alone would pass
 * the frame cap: it is cut by size, and every message gets a receipt
 * that seals, opens and proves its recording. */
static void test_inbound__large_items_are_cut_into_receipts_under_the_cap(
	void **st)
{
	struct daemon_fixture *f = daemon_fixture_new(US, NULL);
	static uint8_t id[BIG_N][PPX_MESSAGE_ID_LEN];
	uint8_t *frame[BIG_N], *data = NULL, seen[BIG_N] = {0};
	size_t len[BIG_N], rlen = 0, receipts = 0, items = 0;
	struct transport_route route;
	char *person = malloc(BIG_ID + 1);

	(void)st;
	assert_non_null(person);
	memset(person, 'd', BIG_ID);
	person[BIG_ID] = '\0';
	for (size_t i = 0; i < BIG_N; i++) {
		Ppx__V1__Body *b = body_new(POLICE, US);

		free(b->sender_person->id);
		b->sender_person->id = strdup(person);
		assert_non_null(b->sender_person->id);
		frame[i] = seal(POLICE, b, &len[i]);
		memcpy(id[i], b->message_id.data, PPX_MESSAGE_ID_LEN);
		body_free(b);
		transport_mem_inbound_push(f->d.transport, POLICE, ROUTE,
					   frame[i], len[i]);
	}
	assert_int_equal(inbound_drain(&f->d, BIG_N), BIG_N);
	writer_flush(&f->d);
	assert_int_equal(count(f, PPX__V1__ENTRY_KIND__ENTRY_RECEIVED), BIG_N);
	while (transport_mem_reply_take(f->d.transport, &route, &data,
					&rlen) == 0) {
		Ppx__V1__ReceiptBody *r = NULL;

		assert_true(rlen <= PPX_FRAME_MAX);
		assert_int_equal(ppx_receipt_open(&r, f->d.trust, data, rlen,
						  US, POLICE, time(NULL)), 0);
		assert_non_null(r->checkpoint);
		for (size_t k = 0; k < r->n_items; k++) {
			const Ppx__V1__ReceiptItem *it = r->items[k];
			size_t i = big_find(id, it->message_id.data);

			assert_int_equal(it->status,
					 PPX__V1__RECEIPT_STATUS__STORED);
			assert_int_equal(ppx_receipt_check_recorded(
				NULL, f->d.trust, r, it, frame[i], len[i],
				POLICE, time(NULL)), 0);
			assert_int_equal(seen[i]++, 0);
			items++;
		}
		ppx__v1__receipt_body__free_unpacked(r, NULL);
		free(data);
		receipts++;
	}
	assert_int_equal(items, BIG_N);
	assert_true(receipts > BIG_N / 256 + 1);	/* cut by size too */
	assert_int_equal(count(f, PPX__V1__ENTRY_KIND__ENTRY_RECEIPT_SENT),
			 receipts);
	for (size_t i = 0; i < BIG_N; i++)
		free(frame[i]);
	free(person);
	daemon_fixture_free(&f);
}

/* Test names are long: they say what each proves. */
#define T(f) cmocka_unit_test(f)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_inbound__valid_frame_is_stored_and_receipted_once),
		T(test_inbound__same_frame_again_gets_original_receipt_only),
		T(test_inbound__one_receipt_per_connection_per_iteration),
		T(test_inbound__bad_signature_is_refused),
		T(test_inbound__frame_not_naming_us_is_refused),
		T(test_inbound__signer_outside_the_federation_is_refused),
		T(test_inbound__frame_signed_by_another_partner_is_refused),
		T(test_inbound__oversized_frame_is_refused),
		T(test_inbound__malformed_frame_is_refused),
		T(test_inbound__frame_naming_other_agencys_officer_is_refused),
		T(test_inbound__large_items_are_cut_into_receipts_under_the_cap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
