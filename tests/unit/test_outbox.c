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
#define MAX_SENT 16

/* A message we sent: its id and the hash of the body we signed. */
struct sent {
	uint8_t id[PPX_MESSAGE_ID_LEN];
	uint8_t hash[PPX_HASH_LEN];
	uint64_t seq;
};

/* Submit a message to `to` as control.c does: a SENT entry and its
 * outbox key in one commit. */
static struct sent submit(struct daemon_fixture *f, const char *to)
{
	struct ppxd *d = &f->d;
	Ppx__V1__Body *b = body_new(US, to);
	Ppx__V1__LogEntry e = PPX__V1__LOG_ENTRY__INIT;
	Ppx__V1__Frame *fr = NULL;
	struct sent s;
	uint8_t *frame = NULL;
	size_t len = 0;

	assert_int_equal(ppx_body_seal(&frame, &len, d->signer, b), 0);
	assert_int_equal(ppx_frame_decode(&fr, frame, len), 0);
	ppx_sha256(s.hash, fr->message->signed_body.data,
		   fr->message->signed_body.len);
	memcpy(s.id, b->message_id.data, sizeof(s.id));
	e.kind = PPX__V1__ENTRY_KIND__ENTRY_SENT;
	e.message_id = b->message_id;
	e.person = b->sender_person->id;
	e.data.data = frame;
	e.data.len = len;
	assert_int_equal(writer_append(d, &e, &s.seq), 0);
	assert_int_equal(outbox_add(d, to, s.seq), 0);
	assert_int_equal(writer_flush(d), 0);
	ppx__v1__frame__free_unpacked(fr, NULL);
	free(frame);
	body_free(b);
	return s;
}

/* One iteration of the loop as far as the outbox goes (ppxd.c). */
static void iterate(struct daemon_fixture *f)
{
	struct ppxd *d = &f->d;
	struct transport *t = d->transport;

	for (size_t i = 0; i < transport_links(t); i++) {
		enum link_event ev;

		outbox_receipts(d, i, 100);
		while ((ev = transport_link_event(t, i)) != LINK_NONE)
			outbox_link_event(d, i, ev);
	}
	writer_flush(d);
	outbox_pump(d);
}

/* The partner takes the next frame we sent on `link`: the message id of
 * the message it carries.  Fails the test if there is none. */
static void take_id(struct daemon_fixture *f, size_t link,
		    uint8_t id[PPX_MESSAGE_ID_LEN])
{
	ppx_opened *o = NULL;
	uint8_t *data = NULL;
	size_t len = 0;

	assert_int_equal(transport_mem_link_take(f->d.transport, link, &data,
						 &len), 0);
	assert_int_equal(ppx_message_open(&o, f->d.trust, data, len, US,
					  time(NULL)), 0);
	memcpy(id, o->body->message_id.data, PPX_MESSAGE_ID_LEN);
	ppx_opened_free(o);
	free(data);
}

static void assert_next_sent(struct daemon_fixture *f, size_t link,
			     const struct sent *s)
{
	uint8_t id[PPX_MESSAGE_ID_LEN];

	take_id(f, link, id);
	assert_memory_equal(id, s->id, sizeof(id));
}

/* The partner's receipt for `n` messages, signed with its demo key:
 * STORED, or REFUSED for `reason` if it is not REJECT_NONE. */
static uint8_t *receipt(const char *partner, const struct sent *s, size_t n,
			int reason, size_t *len)
{
	Ppx__V1__ReceiptBody r = PPX__V1__RECEIPT_BODY__INIT;
	Ppx__V1__ReceiptItem iv[MAX_SENT], *ip[MAX_SENT];
	ppx_signer *signer = signer_at(partner);
	uint8_t *out = NULL;

	assert_true(n <= MAX_SENT);
	for (size_t i = 0; i < n; i++) {
		ppx__v1__receipt_item__init(&iv[i]);
		iv[i].body_hash.data = (uint8_t *)s[i].hash;
		iv[i].body_hash.len = PPX_HASH_LEN;
		iv[i].message_id.data = (uint8_t *)s[i].id;
		iv[i].message_id.len = PPX_MESSAGE_ID_LEN;
		iv[i].status = reason ? PPX__V1__RECEIPT_STATUS__REFUSED
				      : PPX__V1__RECEIPT_STATUS__STORED;
		iv[i].reason = reason;
		iv[i].detail = reason ? "refused here for the test" : "";
		iv[i].log_seq = reason ? 0 : 100 + i;
		ip[i] = &iv[i];
	}
	r.receiver_agency = (char *)partner;
	r.sender_agency = US;
	r.time_ms = (int64_t)time(NULL) * 1000;
	r.n_items = n;
	r.items = ip;
	assert_int_equal(ppx_receipt_seal(&out, len, signer, &r), 0);
	ppx_signer_free(signer);
	return out;
}

static void push_receipt(struct daemon_fixture *f, const char *partner,
			 const struct sent *s, size_t n, int reason)
{
	size_t len = 0;
	uint8_t *r = receipt(partner, s, n, reason, &len);

	transport_mem_link_push(f->d.transport, daemon_fixture_link(f, partner),
				r, len);
	free(r);
}

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
	struct sent s[5];

	(void)st;
	for (size_t i = 0; i < 5; i++)	/* probation, prison, probation... */
		s[i] = submit(f, i % 2 ? PRISON : PROBATION);
	iterate(f);
	assert_int_equal(transport_mem_link_queued(f->d.transport, probation),
			 0);	/* links down: nothing sent */
	links_up(f);
	iterate(f);
	assert_int_equal(transport_mem_link_queued(f->d.transport, probation),
			 3);
	assert_int_equal(transport_mem_link_queued(f->d.transport, prison), 2);
	assert_next_sent(f, probation, &s[0]);
	assert_next_sent(f, probation, &s[2]);
	assert_next_sent(f, probation, &s[4]);
	assert_next_sent(f, prison, &s[1]);
	assert_next_sent(f, prison, &s[3]);
	assert_int_equal(stats(f, PROBATION).depth, 3);
	daemon_fixture_free(&f);
}

static void test_outbox__sends_no_more_than_the_window(void **st)
{
	struct daemon_fixture *f = fixture_v1("window = 2");
	size_t link = daemon_fixture_link(f, PROBATION);
	struct sent s[5];

	(void)st;
	for (size_t i = 0; i < 5; i++)
		s[i] = submit(f, PROBATION);
	links_up(f);
	iterate(f);
	iterate(f);
	assert_int_equal(transport_mem_link_queued(f->d.transport, link), 2);
	assert_next_sent(f, link, &s[0]);
	assert_next_sent(f, link, &s[1]);
	iterate(f);	/* taken, but not receipted: still in flight */
	assert_int_equal(transport_mem_link_queued(f->d.transport, link), 0);
	push_receipt(f, PROBATION, &s[0], 1, 0);
	iterate(f);	/* one settled: one more may go */
	assert_int_equal(transport_mem_link_queued(f->d.transport, link), 1);
	assert_next_sent(f, link, &s[2]);
	assert_int_equal(stats(f, PROBATION).sent, 3);
	daemon_fixture_free(&f);
}

static void test_outbox__a_full_link_holds_back_the_rest_in_order(void **st)
{
	struct daemon_fixture *f = fixture_v1(NULL);
	size_t link = daemon_fixture_link(f, PROBATION);
	struct sent s[3];

	(void)st;
	for (size_t i = 0; i < 3; i++)
		s[i] = submit(f, PROBATION);
	transport_mem_link_capacity(f->d.transport, link, 1);
	links_up(f);
	iterate(f);
	assert_int_equal(transport_mem_link_queued(f->d.transport, link), 1);
	assert_next_sent(f, link, &s[0]);
	iterate(f);
	assert_next_sent(f, link, &s[1]);
	transport_mem_link_capacity(f->d.transport, link, SIZE_MAX);
	iterate(f);
	assert_int_equal(transport_mem_link_queued(f->d.transport, link), 1);
	assert_next_sent(f, link, &s[2]);
	daemon_fixture_free(&f);
}

static void test_outbox__after_link_down_resends_from_oldest_unreceipted(
	void **st)
{
	struct daemon_fixture *f = fixture_v1(NULL);
	size_t link = daemon_fixture_link(f, PROBATION);
	struct sent s[3];
	size_t resets;

	(void)st;
	for (size_t i = 0; i < 3; i++)
		s[i] = submit(f, PROBATION);
	links_up(f);
	iterate(f);
	for (size_t i = 0; i < 3; i++)
		assert_next_sent(f, link, &s[i]);
	push_receipt(f, PROBATION, &s[0], 1, 0);
	iterate(f);
	resets = transport_mem_link_resets(f->d.transport, link);
	transport_mem_link_up(f->d.transport, link, 0);
	iterate(f);
	assert_int_equal(transport_mem_link_resets(f->d.transport, link),
			 resets + 1);
	assert_int_equal(transport_mem_link_queued(f->d.transport, link), 0);
	transport_mem_link_up(f->d.transport, link, 1);
	iterate(f);
	assert_int_equal(transport_mem_link_queued(f->d.transport, link), 2);
	assert_next_sent(f, link, &s[1]);
	assert_next_sent(f, link, &s[2]);
	assert_int_equal(stats(f, PROBATION).depth, 2);
	daemon_fixture_free(&f);
}

static void test_outbox__receipt_completes_message_and_is_logged_once(
	void **st)
{
	struct daemon_fixture *f = fixture_v1(NULL);
	size_t link = daemon_fixture_link(f, PROBATION);
	struct sent s[2];

	(void)st;
	s[0] = submit(f, PROBATION);
	s[1] = submit(f, PROBATION);
	links_up(f);
	iterate(f);
	assert_next_sent(f, link, &s[0]);
	assert_next_sent(f, link, &s[1]);
	assert_int_equal(durable_depth(f, PROBATION), 2);
	/* The same receipt twice in one iteration (a resend crossed it). */
	push_receipt(f, PROBATION, &s[0], 1, 0);
	push_receipt(f, PROBATION, &s[0], 1, 0);
	iterate(f);
	assert_int_equal(daemon_fixture_count(
				 f, PPX__V1__ENTRY_KIND__ENTRY_RECEIPT_RECEIVED,
				 PROBATION), 1);
	assert_int_equal(stats(f, PROBATION).delivered, 1);
	assert_int_equal(stats(f, PROBATION).depth, 1);
	assert_int_equal(durable_depth(f, PROBATION), 1);
	daemon_fixture_free(&f);
}

static void test_outbox__duplicate_receipt_changes_nothing(void **st)
{
	struct daemon_fixture *f = fixture_v1(NULL);
	struct sent s = submit(f, PROBATION);
	uint64_t size;

	(void)st;
	links_up(f);
	iterate(f);
	push_receipt(f, PROBATION, &s, 1, 0);
	iterate(f);
	assert_int_equal(stats(f, PROBATION).delivered, 1);
	size = ppx_log_size(f->d.log);
	push_receipt(f, PROBATION, &s, 1, 0);
	iterate(f);
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
	struct sent s = submit(f, PROBATION);
	int status = 0;

	(void)st;
	links_up(f);
	iterate(f);
	push_receipt(f, PROBATION, &s, 1,
		     PPX__V1__REJECT_REASON__REJECT_POLICY);
	iterate(f);
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
	struct sent s = submit(f, PROBATION);

	(void)st;
	links_up(f);
	iterate(f);
	push_receipt(f, PROBATION, &s, 1,
		     PPX__V1__REJECT_REASON__REJECT_STORAGE_FULL);
	iterate(f);
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
	struct sent s = submit(f, PROBATION);
	int mismatch = PPX__V1__REJECT_REASON__REJECT_SENDER_MISMATCH;
	size_t len = 0;
	uint8_t *r;

	(void)st;
	links_up(f);
	iterate(f);
	/* Prison's receipt for probation's message, on probation's link. */
	r = receipt(PRISON, &s, 1, 0, &len);
	transport_mem_link_push(f->d.transport,
				daemon_fixture_link(f, PROBATION), r, len);
	free(r);
	iterate(f);
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
	struct sent s = submit(f, PROBATION);
	int bad_body = PPX__V1__REJECT_REASON__REJECT_BAD_BODY;

	(void)st;
	links_up(f);
	iterate(f);
	push_receipt(f, PROBATION, &s, 1, 0);
	iterate(f);
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
	push_receipt(f, PROBATION, &s, 1, 0);
	iterate(f);
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
		T(test_outbox__duplicate_receipt_changes_nothing),
		T(test_outbox__refusal_receipt_is_recorded_with_its_reason),
		T(test_outbox__transient_refusal_keeps_the_message_pending),
		T(test_outbox__receipt_signed_by_another_partner_is_refused),
		T(test_outbox__receipt_without_required_proof_delivers_nothing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
