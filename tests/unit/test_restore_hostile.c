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

/* `agency`'s notice of its log restored to `size` entries at
 * `restored_ms`, copied an hour before, signed by `signed_by`. */
static uint8_t *notice(size_t *len, const char *agency, const char *signed_by,
		       uint64_t size, int64_t restored_ms)
{
	return daemon_fixture_notice(len, agency, signed_by, size,
				     restored_ms - 3600 * 1000, restored_ms);
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
	struct fixture_sent s[2];
	uint8_t ids[4][PPX_MESSAGE_ID_LEN];
	ppx_verify_report rep;
	uint8_t *raw;
	size_t len = 0;

	(void)st;
	s[0] = daemon_fixture_submit(f, PROBATION);
	/* never sent to probation */
	s[1] = daemon_fixture_submit(f, PRISON);
	daemon_fixture_iterate(f);
	daemon_fixture_push_receipt(f, PROBATION, s, 2, 0, 100);
	daemon_fixture_iterate(f);
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
	struct fixture_sent s = daemon_fixture_submit(f, PRISON);
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
	Ppx__V1__Frame *held = daemon_fixture_checkpoint(PROBATION, 5, 0x22,
							 ppxd_now_ms());
	uint8_t root[PPX_HASH_LEN], *raw;
	struct fixture_sent s = daemon_fixture_submit(f, PROBATION);
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
