/*
 * test_restore_partner.c — taking a partner's restore notice
 * (daemon/restore_partner.c, PROTOCOL.md 14.2) on the in-memory daemon:
 * real signed messages and receipts in a real log, a notice signed with
 * the partner's demo key; only the sockets are replaced.
 *
 * Police sent probation six messages, which probation receipted as stored
 * at positions 100..105 of its log; probation then says its log was
 * restored to `size` entries.  Police must queue again those stored at or
 * beyond it, in one commit or not at all, before what it already queued,
 * in their order, and take at most one notice an hour.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../daemon/outbox.h"
#include "../../daemon/restore.h"
#include "../../daemon/restore_int.h"
#include "../../daemon/writer.h"
#include "daemon_fixture.h"
#include "ppx/envelope.h"
#include "ppx/error.h"
#include "ppx/receipt.h"
#include "support.h"
#include "transport_mem.h"

#define US "police.gwent"
#define PROBATION "probation.gwent"
#define N_SENT 6
#define FIRST_SEQ 100	/* where probation stored the first */

/* Probation takes the next frame sent to it: the message `s`. */
static void assert_next_sent(struct daemon_fixture *f,
			     const struct fixture_sent *s)
{
	daemon_fixture_assert_next_sent(f, daemon_fixture_link(f, PROBATION),
					s);
}

/* Probation's notice: its log restored to `size` entries, copied at
 * `copied_ms`, restored at `restored_ms`. */
static uint8_t *notice(size_t *len, uint64_t size, int64_t copied_ms,
		       int64_t restored_ms)
{
	return daemon_fixture_notice(len, PROBATION, PROBATION, size,
				     copied_ms, restored_ms);
}

/* Probation's notice handed in as inbound.c does, judged by the loop;
 * the one-a-second gate opened first, as a second passing would. */
static void hand_in(struct daemon_fixture *f, const uint8_t *raw, size_t len)
{
	struct restore *r = f->d.restore;

	for (size_t i = 0; i < r->n_peers; i++)
		r->peers[i].judged_ms = 0;
	assert_int_equal(restore_frame(&f->d, PROBATION, raw, len), 1);
	daemon_fixture_iterate(f);
}

static size_t durable_depth(struct daemon_fixture *f)
{
	uint64_t *seqs = NULL;
	size_t n = 0;

	assert_int_equal(ppx_log_outbox_list(f->d.log, PROBATION, &seqs, &n,
					     1000), 0);
	free(seqs);
	return n;
}

static size_t taken(struct daemon_fixture *f)
{
	return daemon_fixture_count(
		f, PPX__V1__ENTRY_KIND__ENTRY_PARTNER_RESTORED, PROBATION);
}

/* The daemon of police, its log opened with `opts` (NULL: as main.c),
 * with N_SENT messages to probation sent and receipted (s[]). */
static struct daemon_fixture *fixture(const ppx_log_options *opts,
				      struct fixture_sent *s)
{
	struct daemon_fixture *f = daemon_fixture_new(US, NULL);
	struct ppxd *d = &f->d;
	char path[PATH_MAX + 16];

	for (size_t i = 0; i < d->cfg->n_partners; i++)
		d->cfg->partners[i].proofs_optional = 1;
	if (opts) {	/* the fixture's empty log made again, smaller */
		ppx_log_close(d->log);
		d->log = NULL;
		assert_true(snprintf(path, sizeof(path), "%s/data.mdb",
				     d->cfg->log_dir) < (int)sizeof(path));
		assert_int_equal(unlink(path), 0);
		if (snprintf(path, sizeof(path), "%s/lock.mdb",
			     d->cfg->log_dir) < (int)sizeof(path))
			unlink(path);
		assert_int_equal(ppx_log_open(&d->log, d->cfg->log_dir, opts),
				 0);
	}
	assert_int_equal(restore_start(d), 0);
	for (size_t i = 0; i < transport_links(d->transport); i++)
		transport_mem_link_up(d->transport, i, 1);
	for (size_t i = 0; i < N_SENT; i++)
		s[i] = daemon_fixture_submit(f, PROBATION);
	daemon_fixture_iterate(f);
	for (size_t i = 0; i < N_SENT; i++)
		assert_next_sent(f, &s[i]);
	daemon_fixture_push_receipt(f, PROBATION, s, N_SENT, 0, FIRST_SEQ);
	daemon_fixture_iterate(f);
	assert_int_equal(durable_depth(f), 0);
	return f;
}

static void fixture_free(struct daemon_fixture **f)
{
	restore_free(&(*f)->d.restore);
	daemon_fixture_free(f);
}

static void test_restore_partner__queues_again_in_sent_order_before_newer(
	void **st)
{
	struct fixture_sent s[N_SENT], newer;
	struct daemon_fixture *f = fixture(NULL, s);
	size_t len = 0, link = daemon_fixture_link(f, PROBATION);
	int64_t now = ppxd_now_ms();
	uint8_t *raw = notice(&len, FIRST_SEQ + 3, now - 60000, now);
	size_t resets = transport_mem_link_resets(f->d.transport, link);

	(void)st;
	/* queued and sent before the notice */
	newer = daemon_fixture_submit(f, PROBATION);
	daemon_fixture_iterate(f);
	assert_next_sent(f, &newer);
	hand_in(f, raw, len);
	assert_int_equal(taken(f), 1);
	assert_int_equal(durable_depth(f), 4);	/* s[3..5] and newer */
	/* The link was reset; sending starts again from the oldest. */
	assert_true(transport_mem_link_resets(f->d.transport, link) > resets);
	transport_mem_link_up(f->d.transport, link, 1);	/* reconnected */
	daemon_fixture_iterate(f);
	assert_next_sent(f, &s[3]);
	assert_next_sent(f, &s[4]);
	assert_next_sent(f, &s[5]);
	assert_next_sent(f, &newer);
	free(raw);
	fixture_free(&f);
}

static void test_restore_partner__full_log_stores_nothing_judged_again(
	void **st)
{
	ppx_log_options small = {.map_size = 256 << 10,
				 .map_max = 256 << 10};
	struct fixture_sent s[N_SENT];
	struct daemon_fixture *f = fixture(&small, s);
	struct ppxd *d = &f->d;
	int64_t now = ppxd_now_ms();
	size_t len = 0, n_notes = 0;
	uint8_t *raw = notice(&len, FIRST_SEQ + 3, now - 60000, now);
	static const size_t sizes[] = {4096, 512, 64, 1};

	(void)st;
	/* The log filled to its limit, what is left too small for the
	 * taking: its outbox records and its entry. */
	for (size_t k = 0; k < sizeof(sizes) / sizeof(*sizes); k++)
		for (;;) {
			Ppx__V1__LogEntry e = PPX__V1__LOG_ENTRY__INIT;
			static uint8_t fill[4096];

			e.kind = PPX__V1__ENTRY_KIND__ENTRY_NOTE;
			e.data.data = fill;
			e.data.len = sizes[k];
			if (ppx_log_append_one(d->log, &e, NULL) != 0)
				break;
			n_notes++;
		}
	assert_true(n_notes > 0);
	hand_in(f, raw, len);
	assert_int_equal(taken(f), 0);
	assert_int_equal(durable_depth(f), 0);	/* no record without it */
	assert_int_equal(d->restore->peers[0].last_ms, 0);	/* not taken */
	/* Room again (the limit raised): the same bytes, sent again at the
	 * next link-up, are judged again and taken. */
	ppx_log_close(d->log);
	small.map_max = 64 << 20;
	assert_int_equal(ppx_log_open(&d->log, d->cfg->log_dir, &small), 0);
	hand_in(f, raw, len);
	assert_int_equal(taken(f), 1);
	assert_int_equal(durable_depth(f), 3);
	free(raw);
	fixture_free(&f);
}

static void test_restore_partner__one_notice_an_hour(void **st)
{
	struct fixture_sent s[N_SENT];
	struct daemon_fixture *f = fixture(NULL, s);
	int64_t now = ppxd_now_ms();
	size_t len1 = 0, len2 = 0;
	uint8_t *first = notice(&len1, FIRST_SEQ + 5, now - 60000, now - 2);
	uint8_t *second = notice(&len2, FIRST_SEQ, now - 60000, now - 1);

	(void)st;
	hand_in(f, first, len1);
	assert_int_equal(taken(f), 1);
	assert_int_equal(durable_depth(f), 1);
	hand_in(f, second, len2);	/* valid and newer, but deferred */
	assert_int_equal(taken(f), 1);
	assert_int_equal(durable_depth(f), 1);
	hand_in(f, second, len2);	/* judged again, deferred again */
	assert_int_equal(taken(f), 1);
	assert_int_equal(f->d.restore->peers[0].judged, 0);
	free(first);
	free(second);
	fixture_free(&f);
}

/* The walk's end: a receipt naming a position below the notice's size
 * as STORED, sealed at T, ends the walk at the entries logged before T
 * less the clock skew allowance (0 here); the receipts logged before
 * that are not looked at (here they name positions beyond, as no real
 * partner's would). */
static void test_restore_partner__walk_ends_at_a_receipt_below_the_size(
	void **st)
{
	struct fixture_sent s[N_SENT], later[2];
	struct daemon_fixture *f = fixture(NULL, s);
	int64_t now = ppxd_now_ms();
	size_t len = 0;
	uint8_t *raw = notice(&len, FIRST_SEQ, 0, now);	/* copied at 0 */

	(void)st;
	f->d.cfg->clock_skew_ms = 0;
	usleep(20000);	/* s[]'s receipt logged before the next is sealed */
	later[0] = daemon_fixture_submit(f, PROBATION);
	later[1] = daemon_fixture_submit(f, PROBATION);
	daemon_fixture_iterate(f);
	assert_next_sent(f, &later[0]);
	assert_next_sent(f, &later[1]);
	daemon_fixture_push_receipt(f, PROBATION, later, 2, 0, FIRST_SEQ - 10);
	daemon_fixture_iterate(f);
	assert_int_equal(durable_depth(f), 0);
	hand_in(f, raw, len);
	assert_int_equal(taken(f), 1);
	assert_int_equal(durable_depth(f), 0);	/* s[] not reached */
	free(raw);
	fixture_free(&f);
}

/* The worst walk a notice can ask for (copied at 0, size 0: nothing ends
 * it before the log's start), over a log of 10^5 entries: its cost is
 * said, not asserted (a figure for PROTOCOL.md 14.2). */
static void test_restore_partner__walk_of_100000_entries_is_measured(
	void **st)
{
	struct fixture_sent s[N_SENT];
	struct daemon_fixture *f = fixture(NULL, s);
	struct ppxd *d = &f->d;
	size_t len = 0;
	uint8_t *raw;
	struct timespec t0, t1;

	(void)st;
	for (int k = 0; k < 100; k++) {
		for (int i = 0; i < 1000; i++) {
			Ppx__V1__LogEntry e = PPX__V1__LOG_ENTRY__INIT;

			e.kind = PPX__V1__ENTRY_KIND__ENTRY_NOTE;
			e.data.data = (uint8_t *)"filler";
			e.data.len = 6;
			assert_int_equal(writer_append(d, &e, NULL), 0);
		}
		assert_int_equal(writer_flush(d), 0);
	}
	raw = notice(&len, 0, 0, ppxd_now_ms());
	clock_gettime(CLOCK_MONOTONIC, &t0);
	hand_in(f, raw, len);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	print_message("taking a notice, walking back over %llu entries: "
		      "%.1f ms\n", (unsigned long long)ppx_log_size(d->log),
		      (double)(t1.tv_sec - t0.tv_sec) * 1e3 +
			      (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
	assert_int_equal(taken(f), 1);
	assert_int_equal(durable_depth(f), N_SENT);	/* the walk's end */
	free(raw);
	fixture_free(&f);
}

#define T(f) cmocka_unit_test(f)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_restore_partner__queues_again_in_sent_order_before_newer),
		T(test_restore_partner__full_log_stores_nothing_judged_again),
		T(test_restore_partner__one_notice_an_hour),
		T(test_restore_partner__walk_ends_at_a_receipt_below_the_size),
		T(test_restore_partner__walk_of_100000_entries_is_measured),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
