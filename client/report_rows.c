/*
 * report_rows.c — the rows of `ppx report`: every measure's names, and
 * the counts over totals by agency, by area, by month of the period and
 * in total, into which cmd_report.c and report_measures.c count
 * (report_tally).  The names the rows carry are copies owned by the
 * report, so that they outlive the pass over the log that found them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "ppx/error.h"

/* key, text column, title, what the total counts, lower is better */
const struct measure_info report_measure[M_COUNT] = {
	[M_MINUTES] = {"minutes_on_time", "minutes",
		"minutes on time",
		"meetings whose minutes it issued", 0},
	[M_DISCLOSURE] = {"disclosure_considered", "disclosed",
		"disclosure considered",
		"meetings whose minutes it issued", 0},
	[M_DONE] = {"actions_done", "done",
		"actions done",
		"actions due", 0},
	[M_OVERDUE] = {"actions_overdue", "overdue",
		"actions overdue",
		"actions due", 1},
	[M_ACKS] = {"acks_in_time", "acks",
		"acknowledged in time",
		"notifications to acknowledge", 0},
	[M_RECORDS] = {"record_mismatches", "mismatch",
		"record mismatches",
		"records compared", 1},
	[M_ATTENDED] = {"attended", "attended",
		"attended when expected",
		"places expected at meetings", 0},
	[M_UNINVITED] = {"not_invited", "uninvited",
		"on the case, not invited",
		"agencies on the case of a meeting", 1},
	[M_REFERRAL] = {"referrals_in_time", "referral",
		"referred 6 months before release",
		"referrals with a known release date", 0},
	[M_TRANSFER] = {"transfers_not_accepted", "transfer",
		"transfers not accepted",
		"transfers to accept", 1},
	[M_NOT_REARRANGED] = {"cancelled_not_rearranged", "cancelled",
		"cancelled, not rearranged",
		"meetings cancelled", 1},
	[M_PLAN_COPIED] = {"plans_copied", "plan copy",
		"plan copied unchanged",
		"meetings with an earlier meeting", 1},
	[M_EMERGENCY] = {"emergency_accesses", "emergency",
		"emergency accesses",
		"reads and messages", 1},
	[M_REVIEWED] = {"emergency_reviewed", "reviewed",
		"emergency accesses reviewed",
		"emergency accesses owing a review", 0},
	[M_REVIEW_OVERDUE] = {"emergency_review_overdue", "rev. late",
		"reviews overdue",
		"emergency accesses owing a review", 1},
	[M_JUSTIFIED] = {"emergency_justified", "justified",
		"found justified",
		"emergency accesses reviewed", 0},
};

/* ------------------------------------------------------------------ */
/* Rows                                                                */
/* ------------------------------------------------------------------ */

static const char *keep_name(struct report *rp, const char *name)
{
	char *copy, **g;

	if (rp->n_names == rp->cap_names) {
		size_t cap = rp->cap_names ? 2 * rp->cap_names : 64;

		if (!(g = realloc(rp->names, cap * sizeof(*g))))
			return NULL;
		rp->names = g;
		rp->cap_names = cap;
	}
	if (!(copy = strdup(name)))
		return NULL;
	rp->names[rp->n_names++] = copy;
	return copy;
}

struct row *report_row(struct report *rp, struct row_set *set,
		       const char *name)
{
	struct row *g;

	for (size_t i = 0; i < set->n; i++)
		if (strcmp(set->v[i].agency, name) == 0)
			return &set->v[i];
	if (set->n == REPORT_MAX_ROWS ||
	    !(g = realloc(set->v, (set->n + 1) * sizeof(*g)))) {
		rp->failed = 1;
		return NULL;
	}
	set->v = g;
	g = &set->v[set->n];
	memset(g, 0, sizeof(*g));
	if (!(g->agency = keep_name(rp, name))) {
		rp->failed = 1;
		return NULL;
	}
	set->n++;
	return g;
}

int report_in_period(const struct report *rp, ppx_day d)
{
	return d != DEADLINES_NONE && d >= rp->from && d <= rp->to;
}

static void add(struct ratio *r, int yes)
{
	r->count += yes != 0;
	r->total++;
}

static struct row *month_of(struct report *rp, ppx_day day)
{
	int y0, m0, y, m, d;
	long i;

	if (!report_in_period(rp, day))
		return NULL;
	ppx_date_to_ymd(rp->from, &y0, &m0, &d);
	ppx_date_to_ymd(day, &y, &m, &d);
	i = (long)(y - y0) * 12 + (m - m0);
	return i >= 0 && (size_t)i < rp->n_months ? &rp->months[i] : NULL;
}

void report_tally(struct report *rp, enum measure k, const char *agency,
		  const char *area, ppx_day day, int yes)
{
	struct row *w = report_row(rp, &rp->agencies, agency ? agency : "");
	struct row *mo = month_of(rp, day);

	if (!w)
		return;
	add(&w->m[k], yes);
	add(&rp->total.m[k], yes);
	if (mo)
		add(&mo->m[k], yes);
	if (area && *area && (w = report_row(rp, &rp->areas, area)))
		add(&w->m[k], yes);
}

int report_init(struct report *rp)
{
	int y, m, d, y1, m1;

	rp->total.agency = "total";
	ppx_date_to_ymd(rp->from, &y, &m, &d);
	ppx_date_to_ymd(rp->to, &y1, &m1, &d);
	rp->n_months = 0;
	while ((y < y1 || (y == y1 && m <= m1)) &&
	       rp->n_months < REPORT_MAX_MONTHS) {
		char name[16];

		snprintf(name, sizeof(name), "%04d-%02d", y, m);
		if (!(rp->months[rp->n_months].agency = keep_name(rp, name)))
			return ppx_error_set(PPX_ENOMEM, "out of memory");
		rp->n_months++;
		if (++m == 13) {
			m = 1;
			y++;
		}
	}
	if (y < y1 || (y == y1 && m <= m1))
		return ppx_error_set(PPX_EINVAL, "the period is longer than "
				     "%d months", REPORT_MAX_MONTHS);
	return 0;
}

static void rows_free(struct row *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].receipt.v);
		free(v[i].ack.v);
	}
}

void report_free(struct report *rp)
{
	rows_free(rp->agencies.v, rp->agencies.n);
	rows_free(rp->areas.v, rp->areas.n);
	rows_free(rp->months, rp->n_months);
	rows_free(&rp->total, 1);
	free(rp->agencies.v);
	free(rp->areas.v);
	for (size_t i = 0; i < rp->n_names; i++)
		free(rp->names[i]);
	free(rp->names);
	free(rp->latest);
	free(rp->pairs);
}

ppx_day report_last_march31(ppx_day day)
{
	int y, m, d;
	ppx_day out;

	ppx_date_to_ymd(day, &y, &m, &d);
	if (m < 3 || (m == 3 && d < 31))
		y--;
	return ppx_date_from_ymd(&out, y, 3, 31) == 0 ? out : day;
}

const char *report_level_name(int level)
{
	static const char *const names[] = {"unset", "1", "2", "3"};

	return level >= 0 && level <= 3 ? names[level] : "?";
}
