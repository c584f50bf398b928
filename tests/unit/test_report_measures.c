/*
 * test_report_measures.c — the board report's emergency (break-glass)
 * measures, counted from a log built here entry by entry: emergency
 * accesses over all accesses, reviews done (ENTRY_REVIEW whose
 * related_seq is the access), reviews overdue (none and review_due_ms
 * passed) and found justified.  Until `ppx --emergency` writes such
 * entries through a daemon, this is where they are built
 * (tests/integration/report_board.sh covers the other measures with real
 * daemons).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../client/report.h"
#include "ppx/error.h"
#include "support.h"

#define DAY_MS 86400000LL

struct fixture {
	char *root;
	char dir[256];
	ppx_log *log;
	int64_t t0;		/* 2026-05-01T00:00Z */
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	ppx_day d;

	if (!f)
		return -1;
	f->root = tmpdir_new();
	snprintf(f->dir, sizeof(f->dir), "%s/log", f->root);
	if (ppx_log_open(&f->log, f->dir, NULL) != 0 ||
	    ppx_date_from_ymd(&d, 2026, 5, 1) != 0)
		return -1;
	f->t0 = ppx_date_start_ms(d);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	ppx_log_close(f->log);
	tmpdir_remove(f->root);
	free(f);
	return 0;
}

/* Append an entry of `kind` at t0 + `day` days: an emergency access
 * owing a review due `due_day` days after t0 (0: owes none), or a review
 * of entry `related`.  Its seq. */
static uint64_t append(struct fixture *f, int kind, int day, int emergency,
		       int due_day, uint64_t related, int justified)
{
	Ppx__V1__LogEntry e = PPX__V1__LOG_ENTRY__INIT;
	Ppx__V1__Access a = PPX__V1__ACCESS__INIT;
	uint64_t seq = 0;

	e.kind = kind;
	e.time_ms = f->t0 + day * DAY_MS;
	e.person = kind == PPX__V1__ENTRY_KIND__ENTRY_REVIEW ? "rev.iewer"
							      : "dana.evans";
	e.access = &a;
	a.command = "show";
	a.reason = "threat to life";
	a.emergency = emergency;
	if (due_day) {
		a.reviewer = "rev.iewer";
		a.review_due_ms = f->t0 + due_day * DAY_MS;
	}
	if (kind == PPX__V1__ENTRY_KIND__ENTRY_REVIEW) {
		e.related_seq = related;
		a.reason = justified ? "justified" : "no need to know";
		a.justified = justified;
		a.command = "";
	}
	assert_int_equal(ppx_log_append_one(f->log, &e, &seq), 0);
	return seq;
}

static void report_may(struct report *rp, int as_of_day)
{
	memset(rp, 0, sizeof(*rp));
	assert_int_equal(ppx_date_from_ymd(&rp->from, 2026, 5, 1), 0);
	assert_int_equal(ppx_date_from_ymd(&rp->to, 2026, 5, 31), 0);
	rp->as_of = rp->from + as_of_day;
	rp->snap.day = rp->from;
	assert_int_equal(report_init(rp), 0);
}

static void expect(const struct ratio *r, long count, long total)
{
	assert_int_equal(r->count, count);
	assert_int_equal(r->total, total);
}

static void test_report_measures__emergency_reviews_done_overdue_justified(
	void **state)
{
	struct fixture *f = *state;
	struct report rp;
	uint64_t reviewed, refused;
	const struct row *w;

	/* In May: five reads, four by break-glass. */
	append(f, PPX__V1__ENTRY_KIND__ENTRY_READ, 1, 1, 5, 0, 0);	/* overdue */
	append(f, PPX__V1__ENTRY_KIND__ENTRY_READ, 2, 1, 60, 0, 0);	/* not yet due */
	append(f, PPX__V1__ENTRY_KIND__ENTRY_READ, 3, 0, 0, 0, 0);	/* ordinary */
	reviewed = append(f, PPX__V1__ENTRY_KIND__ENTRY_READ, 4, 1, 9, 0, 0);
	refused = append(f, PPX__V1__ENTRY_KIND__ENTRY_READ, 5, 1, 9, 0, 0);
	append(f, PPX__V1__ENTRY_KIND__ENTRY_REVIEW, 6, 0, 0, reviewed, 1);
	append(f, PPX__V1__ENTRY_KIND__ENTRY_REVIEW, 7, 0, 0, refused, 0);
	/* In June: outside the period (and its review overdue too). */
	append(f, PPX__V1__ENTRY_KIND__ENTRY_READ, 35, 1, 38, 0, 0);

	report_may(&rp, 45);	/* as of 15 June */
	assert_int_equal(report_measures(&rp, f->log, "police.gwent"), 0);
	expect(&rp.total.m[M_EMERGENCY], 4, 5);
	expect(&rp.total.m[M_REVIEWED], 2, 4);
	expect(&rp.total.m[M_REVIEW_OVERDUE], 1, 4);
	expect(&rp.total.m[M_JUSTIFIED], 1, 2);
	assert_int_equal(rp.agencies.n, 1);
	w = &rp.agencies.v[0];
	assert_string_equal(w->agency, "police.gwent");
	expect(&w->m[M_REVIEW_OVERDUE], 1, 4);
	/* By month: all of it in May, the period's only month. */
	assert_int_equal(rp.n_months, 1);
	expect(&rp.months[0].m[M_EMERGENCY], 4, 5);
	report_free(&rp);

	/* As of 3 May only the first two accesses were logged, neither
	 * was reviewed nor due yet. */
	report_may(&rp, 2);
	assert_int_equal(report_measures(&rp, f->log, "police.gwent"), 0);
	expect(&rp.total.m[M_EMERGENCY], 2, 2);
	expect(&rp.total.m[M_REVIEWED], 0, 2);
	expect(&rp.total.m[M_REVIEW_OVERDUE], 0, 2);
	report_free(&rp);
}

static void test_report_measures__a_received_emergency_owes_no_review_here(
	void **state)
{
	struct fixture *f = *state;
	struct report rp;

	/* An emergency read with no reviewer named owes no review in this
	 * log: counted as an emergency access, not in the reviews. */
	append(f, PPX__V1__ENTRY_KIND__ENTRY_READ, 1, 1, 0, 0, 0);
	report_may(&rp, 20);
	assert_int_equal(report_measures(&rp, f->log, "police.gwent"), 0);
	expect(&rp.total.m[M_EMERGENCY], 1, 1);
	expect(&rp.total.m[M_REVIEWED], 0, 0);
	expect(&rp.total.m[M_REVIEW_OVERDUE], 0, 0);
	report_free(&rp);
}

static void test_report_measures__last_march31(void **state)
{
	ppx_day d, want;

	(void)state;
	assert_int_equal(ppx_date_from_ymd(&d, 2026, 6, 30), 0);
	assert_int_equal(ppx_date_from_ymd(&want, 2026, 3, 31), 0);
	assert_int_equal(report_last_march31(d), want);
	assert_int_equal(report_last_march31(want), want);
	assert_int_equal(ppx_date_from_ymd(&d, 2026, 3, 30), 0);
	assert_int_equal(ppx_date_from_ymd(&want, 2025, 3, 31), 0);
	assert_int_equal(report_last_march31(d), want);
}

static void test_report_measures__a_period_over_ten_years_is_refused(
	void **state)
{
	struct report rp = {0};

	(void)state;
	assert_int_equal(ppx_date_from_ymd(&rp.from, 2016, 1, 1), 0);
	assert_int_equal(ppx_date_from_ymd(&rp.to, 2026, 1, 1), 0);
	assert_int_equal(report_init(&rp), PPX_EINVAL);
	report_free(&rp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_report_measures__emergency_reviews_done_overdue_justified,
			setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_report_measures__a_received_emergency_owes_no_review_here,
			setup, teardown),
		cmocka_unit_test(test_report_measures__last_march31),
		cmocka_unit_test(
			test_report_measures__a_period_over_ten_years_is_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
