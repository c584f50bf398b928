/*
 * test_restore_hostile.c — taking a partner's restore notice
 * (daemon/restore_partner.c, docs/PROTOCOL.md 14.2) on a real log, real
 * keys and the in-memory transport: what is queued again is only what
 * the partner's receipts settled and we sent to it, and a notice no
 * newer than the one taken is dropped before its signatures are judged.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../daemon/outbox.h"
#include "../../daemon/restore.h"
#include "../../daemon/witness.h"
#include "../../daemon/writer.h"
#include "daemon_fixture.h"
#include "ppx/checkpoint.h"
#include "ppx/envelope.h"
#include "ppx/error.h"
#include "ppx/receipt.h"
#include "support.h"
#include "transport_mem.h"

#define US "police.gwent"
#define PROBATION "probation.gwent"
#define PRISON "prison.cardiff"

struct sent {
	uint8_t id[PPX_MESSAGE_ID_LEN];
	uint8_t hash[PPX_HASH_LEN];
	uint64_t seq;
};

/* A message to `to` logged and queued as control.c does. */
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

/* `partner`'s STORED receipt naming the `n` messages, at log_seq 100 on:
 * an honest receipt names only what it was sent; a hostile one adds
 * items for messages sent elsewhere. */
static void push_receipt(struct daemon_fixture *f, const char *partner,
			 const struct sent *s, size_t n)
{
	Ppx__V1__ReceiptBody r = PPX__V1__RECEIPT_BODY__INIT;
	Ppx__V1__ReceiptItem iv[4], *ip[4];
	ppx_signer *signer = signer_at(partner);
	uint8_t *out = NULL;
	size_t len = 0;

	assert_true(n <= 4);
	for (size_t i = 0; i < n; i++) {
		ppx__v1__receipt_item__init(&iv[i]);
		iv[i].body_hash = (ProtobufCBinaryData){PPX_HASH_LEN,
							(uint8_t *)s[i].hash};
		iv[i].message_id = (ProtobufCBinaryData){PPX_MESSAGE_ID_LEN,
							 (uint8_t *)s[i].id};
		iv[i].status = PPX__V1__RECEIPT_STATUS__STORED;
		iv[i].detail = "";
		iv[i].log_seq = 100 + i;
		ip[i] = &iv[i];
	}
	r.receiver_agency = (char *)partner;
	r.sender_agency = US;
	r.time_ms = (int64_t)time(NULL) * 1000;
	r.n_items = n;
	r.items = ip;
	assert_int_equal(ppx_receipt_seal(&out, &len, signer, &r), 0);
	ppx_signer_free(signer);
	transport_mem_link_push(f->d.transport, daemon_fixture_link(f, partner),
				out, len);
	free(out);
}

/* Pack `msg` and seal it for `purpose` with `who`'s demo key. */
static uint8_t *seal(size_t *len, const char *who, int purpose,
		     const ProtobufCMessage *msg)
{
	ppx_signer *signer = signer_at(who);
	size_t n = protobuf_c_message_get_packed_size(msg);
	uint8_t *body = malloc(n ? n : 1), *out = NULL;

	assert_non_null(body);
	protobuf_c_message_pack(msg, body);
	assert_int_equal(ppx_frame_seal(&out, len, signer, purpose, body, n),
			 0);
	free(body);
	ppx_signer_free(signer);
	return out;
}

/* A Frame{checkpoint} of `agency`'s log of `size` entries, its root
 * bytes all `fill`, signed by it. */
static Ppx__V1__Frame *checkpoint(const char *agency, uint64_t size,
				  uint8_t fill, int64_t ms)
{
	Ppx__V1__Checkpoint cp = PPX__V1__CHECKPOINT__INIT;
	Ppx__V1__Frame *cpf = NULL;
	uint8_t root[PPX_HASH_LEN], *cpb;
	size_t cpl = 0;

	memset(root, fill, sizeof(root));
	cp.agency = (char *)agency;
	cp.tree_size = size;
	cp.root_hash = (ProtobufCBinaryData){sizeof(root), root};
	cp.time_ms = ms;
	cpb = seal(&cpl, agency, PPX__V1__SIGNED_PURPOSE__SIGNED_CHECKPOINT,
		   &cp.base);
	assert_int_equal(ppx_frame_decode(&cpf, cpb, cpl), 0);
	free(cpb);
	return cpf;
}

/* `agency`'s restore notice of its log restored to `size` entries (root
 * 0x11...) at `restored_ms`, the notice signed by `signed_by`. */
static uint8_t *notice(size_t *len, const char *agency, const char *signed_by,
		       uint64_t size, int64_t restored_ms)
{
	Ppx__V1__RestoreNotice n = PPX__V1__RESTORE_NOTICE__INIT;
	Ppx__V1__Frame *cpf = checkpoint(agency, size, 0x11, restored_ms);
	uint8_t *out;

	n.agency = (char *)agency;
	n.checkpoint = cpf->checkpoint;
	n.restored_ms = restored_ms;
	n.copied_ms = restored_ms - 3600 * 1000;
	n.reason = "test";
	out = seal(len, signed_by, PPX__V1__SIGNED_PURPOSE__SIGNED_RESTORE,
		   &n.base);
	ppx__v1__frame__free_unpacked(cpf, NULL);
	return out;
}

static void hear(struct daemon_fixture *f, const char *agency,
		 const uint8_t *raw, size_t len)
{
	assert_int_equal(restore_frame(&f->d, agency, raw, len), 1);
	assert_int_equal(writer_flush(&f->d), 0);
	restore_tick(&f->d);	/* judged once the loop's batch is idle */
	assert_int_equal(writer_flush(&f->d), 0);
}

static int queued(struct daemon_fixture *f, const char *partner, uint64_t seq)
{
	uint64_t *seqs = NULL;
	size_t n = 0;
	int found = 0;

	assert_int_equal(ppx_log_outbox_list(f->d.log, partner, &seqs, &n,
					     1000), 0);
	for (size_t i = 0; i < n; i++)
		found |= seqs[i] == seq;
	free(seqs);
	return found;
}

static struct daemon_fixture *fixture(void)
{
	struct daemon_fixture *f = daemon_fixture_new(US, NULL);

	for (size_t i = 0; i < f->d.cfg->n_partners; i++)
		f->d.cfg->partners[i].proofs_optional = 1;
	assert_int_equal(restore_start(&f->d), 0);
	for (size_t i = 0; i < transport_links(f->d.transport); i++)
		transport_mem_link_up(f->d.transport, i, 1);
	return f;
}

static void fixture_free(struct daemon_fixture **f)
{
	restore_free(&(*f)->d.restore);
	daemon_fixture_free(f);
}

/* The notice's entry: its related_ids, the messages queued again. */
static size_t requeued(struct daemon_fixture *f, uint8_t ids[][PPX_MESSAGE_ID_LEN],
		       size_t max)
{
	uint64_t size = ppx_log_size(f->d.log);
	size_t n = 0;

	for (uint64_t s = 0; s < size; s++) {
		Ppx__V1__LogEntry *e = NULL;

		assert_int_equal(ppx_log_get(f->d.log, s, &e), 0);
		if (e->kind == PPX__V1__ENTRY_KIND__ENTRY_PARTNER_RESTORED)
			for (size_t i = 0; i < e->n_related_ids && n < max; i++)
				memcpy(ids[n++], e->related_ids[i].data,
				       PPX_MESSAGE_ID_LEN);
		ppx__v1__log_entry__free_unpacked(e, NULL);
	}
	return n;
}

/* Probation's receipt settles its message and names prison's as stored
 * beyond the size it restores to: only its own is queued to it again. */
static void test_restore_hostile__requeues_only_what_was_sent_to_it(
	void **st)
{
	struct daemon_fixture *f = fixture();
	struct sent s[2];
	uint8_t ids[4][PPX_MESSAGE_ID_LEN];
	ppx_verify_report rep;
	uint8_t *raw;
	size_t len = 0;

	(void)st;
	s[0] = submit(f, PROBATION);
	s[1] = submit(f, PRISON);	/* never sent to probation */
	iterate(f);
	push_receipt(f, PROBATION, s, 2);
	iterate(f);
	assert_false(queued(f, PROBATION, s[0].seq));
	raw = notice(&len, PROBATION, PROBATION, 50, ppxd_now_ms());
	hear(f, PROBATION, raw, len);
	free(raw);
	assert_int_equal(daemon_fixture_count(
				 f, PPX__V1__ENTRY_KIND__ENTRY_PARTNER_RESTORED,
				 PROBATION), 1);
	assert_int_equal(requeued(f, ids, 4), 1);
	assert_memory_equal(ids[0], s[0].id, PPX_MESSAGE_ID_LEN);
	assert_true(queued(f, PROBATION, s[0].seq));
	assert_false(queued(f, PROBATION, s[1].seq));
	assert_int_equal(ppx_log_check_indexes(&rep, f->d.log), 0);
	assert_true(rep.ok);
	fixture_free(&f);
}

/* `ppx verify` agrees: a partner restore that had queued prison's
 * message to probation (as the daemon once did) is named by the index
 * check. */
static void test_restore_hostile__verify_names_a_requeue_to_another(
	void **st)
{
	struct daemon_fixture *f = fixture();
	Ppx__V1__LogEntry e = PPX__V1__LOG_ENTRY__INIT;
	ProtobufCBinaryData id;
	ppx_verify_report rep;
	struct sent s = submit(f, PRISON);
	uint64_t seq;

	(void)st;
	id = (ProtobufCBinaryData){PPX_MESSAGE_ID_LEN, s.id};
	e.kind = PPX__V1__ENTRY_KIND__ENTRY_PARTNER_RESTORED;
	e.peer_agency = PROBATION;
	e.related_ids = &id;
	e.n_related_ids = 1;
	assert_int_equal(writer_append(&f->d, &e, &seq), 0);
	assert_int_equal(outbox_add(&f->d, PROBATION, s.seq), 0);
	assert_int_equal(writer_flush(&f->d), 0);
	assert_int_equal(ppx_log_check_indexes(&rep, f->d.log), 0);
	assert_false(rep.ok);
	assert_int_equal(rep.first_bad, seq);
	assert_non_null(strstr(rep.reason, "not one we sent to it"));
	fixture_free(&f);
}

/* Once a notice is taken, one no newer is dropped unjudged: a forged
 * signature costs the partner nothing and logs no refusal (its old
 * notice, signed by a certificate since expired, is sent at each
 * link-up); a newer one with the forged signature is refused. */
static void test_restore_hostile__old_notice_dropped_before_signatures(
	void **st)
{
	struct daemon_fixture *f = fixture();
	int64_t now = ppxd_now_ms();
	uint8_t *raw;
	size_t len = 0;

	(void)st;
	raw = notice(&len, PROBATION, PROBATION, 5, now - 10000);
	hear(f, PROBATION, raw, len);
	free(raw);
	assert_int_equal(daemon_fixture_count(
				 f, PPX__V1__ENTRY_KIND__ENTRY_PARTNER_RESTORED,
				 PROBATION), 1);
	for (int i = 0; i < 2; i++) {
		usleep(1100 * 1000);	/* one notice a second is judged */
		raw = notice(&len, PROBATION, PRISON, 5, now - 20000 + i);
		hear(f, PROBATION, raw, len);
		free(raw);
	}
	assert_int_equal(daemon_fixture_count(
				 f, PPX__V1__ENTRY_KIND__ENTRY_REJECTED, NULL), 0);
	usleep(1100 * 1000);
	raw = notice(&len, PROBATION, PRISON, 5, now);
	hear(f, PROBATION, raw, len);
	free(raw);
	assert_int_equal(daemon_fixture_count(
				 f, PPX__V1__ENTRY_KIND__ENTRY_REJECTED, NULL), 1);
	assert_int_equal(daemon_fixture_count(
				 f, PPX__V1__ENTRY_KIND__ENTRY_PARTNER_RESTORED,
				 PROBATION), 1);
	fixture_free(&f);
}

/* We hold probation's checkpoint of 5 entries (root 0x22...): a notice of
 * 5 entries with another root is a fork, refused and alarmed; with the
 * alarm outstanding, a notice of 3 entries, which would otherwise be
 * taken, is left for the operators: not taken, not refused. */
static void test_restore_hostile__fork_refused_and_alarm_holds_notices(
	void **st)
{
	struct daemon_fixture *f = fixture();
	Ppx__V1__Frame *held = checkpoint(PROBATION, 5, 0x22, ppxd_now_ms());
	uint8_t root[PPX_HASH_LEN], *raw;
	struct sent s = submit(f, PROBATION);
	size_t len = 0;

	(void)st;
	assert_int_equal(witness_new(&f->d.witness, &f->d), 0);
	memset(root, 0x22, sizeof(root));
	assert_int_equal(witness_restored_mark(&f->d, PROBATION, s.seq), 0);
	assert_int_equal(writer_flush(&f->d), 0);
	witness_restored(&f->d, PROBATION, held->checkpoint, 5, root, s.seq);
	raw = notice(&len, PROBATION, PROBATION, 5, ppxd_now_ms());
	hear(f, PROBATION, raw, len);
	free(raw);
	assert_int_equal(daemon_fixture_count(
				 f, PPX__V1__ENTRY_KIND__ENTRY_REJECTED, NULL), 1);
	assert_int_equal(daemon_fixture_count(
				 f, PPX__V1__ENTRY_KIND__ENTRY_WITNESS_ALARM,
				 PROBATION), 1);
	usleep(1100 * 1000);	/* one notice a second is judged */
	raw = notice(&len, PROBATION, PROBATION, 3, ppxd_now_ms());
	hear(f, PROBATION, raw, len);
	free(raw);
	assert_int_equal(daemon_fixture_count(
				 f, PPX__V1__ENTRY_KIND__ENTRY_REJECTED, NULL), 1);
	assert_int_equal(daemon_fixture_count(
				 f, PPX__V1__ENTRY_KIND__ENTRY_PARTNER_RESTORED,
				 PROBATION), 0);
	ppx__v1__frame__free_unpacked(held, NULL);
	witness_free(&f->d.witness);
	fixture_free(&f);
}

#define T(f) cmocka_unit_test(f)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_restore_hostile__requeues_only_what_was_sent_to_it),
		T(test_restore_hostile__verify_names_a_requeue_to_another),
		T(test_restore_hostile__old_notice_dropped_before_signatures),
		T(test_restore_hostile__fork_refused_and_alarm_holds_notices),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
