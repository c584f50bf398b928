/*
 * report.h — what the three files of `ppx report` share: the figures of a
 * period as counts over totals, by agency, by area and by month
 * (report_rows.c keeps the rows; cmd_report.c counts the obligations of
 * deadlines.c into them and prints text, CSV and JSON; report_measures.c
 * counts the board's other measures from its own pass over the log;
 * report_html.c draws the page).
 *
 * docs/ppx-deadlines.md defines every measure: what is counted over what.
 */
#ifndef PPX_CLIENT_REPORT_H
#define PPX_CLIENT_REPORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "deadlines.h"
#include "ppx/logstore.h"

#define REPORT_MAX_ROWS 4096	/* agencies, areas */
#define REPORT_MAX_MONTHS 120	/* a period of ten years at most */
#define REPORT_CATEGORIES 4	/* MappaCategory 0 (unset) to 3 */
#define REPORT_LEVELS 4		/* MappaLevel 0 (unset) to 3 */

/* Every measure, in the order the outputs list them. */
enum measure {
	M_MINUTES,		/* minutes on time / meetings */
	M_DISCLOSURE,		/* disclosure considered / meetings */
	M_DONE,			/* actions done / actions due */
	M_OVERDUE,		/* actions overdue / actions due */
	M_ACKS,			/* acknowledged in time / owed */
	M_RECORDS,		/* records mismatched / compared */
	M_ATTENDED,		/* attended / expected (required) */
	M_UNINVITED,		/* on the case, not invited / on the case */
	M_REFERRAL,		/* referred 6 months before release / referrals */
	M_TRANSFER,		/* not accepted / transfers to accept */
	M_NOT_REARRANGED,	/* not rearranged / cancelled meetings */
	M_PLAN_COPIED,		/* plan unchanged / meetings with a previous */
	M_EMERGENCY,		/* emergency accesses / accesses */
	M_REVIEWED,		/* reviewed / emergency accesses owing one */
	M_REVIEW_OVERDUE,	/* review overdue / the same */
	M_JUSTIFIED,		/* found justified / reviewed */
	M_COUNT
};

struct measure_info {
	const char *key;	/* JSON and CSV name */
	const char *label;	/* a text column's head: 9 characters */
	const char *title;	/* for people */
	const char *over;	/* what the total counts */
	int lower_is_better;	/* for the charts' colour */
};

extern const struct measure_info report_measure[M_COUNT];

struct ratio {
	long count, total;
};

struct samples {
	int64_t *v;
	size_t n, cap;
};

/* One row of figures: an agency, an area, a month or the total. */
struct row {
	const char *agency;	/* the row's name: agency, area or month */
	struct ratio m[M_COUNT];
	struct samples receipt, ack;
};

struct row_set {
	struct row *v;
	size_t n;
};

/* One comparable pair of latest record versions of two agencies. */
struct pair {
	size_t a, b;		/* indexes into report.latest */
	int level;		/* the levels differ */
	unsigned rosh;		/* bit per RiskGroup whose levels differ */
};

/* Partner records by MAPPA category and level on one day. */
struct snapshot {
	ppx_day day;
	long n[REPORT_CATEGORIES][REPORT_LEVELS];
	long total;
};

struct report {
	ppx_day from, to, as_of;
	int64_t as_of_ms;		/* "now" for what falls due by the ms */
	struct row_set agencies, areas;
	struct row months[REPORT_MAX_MONTHS];
	size_t n_months;
	struct row total;
	struct snapshot snap;
	const struct record_copy **latest;	/* per agency and record */
	size_t n_latest;
	struct pair *pairs;
	size_t n_pairs;
	char **names;		/* the copies rows' names point at */
	size_t n_names, cap_names;
	int failed;		/* out of memory along the way */
};

/* Set up the period's months ("2026-07"); from, to, as_of set. */
int report_init(struct report *rp);
void report_free(struct report *rp);

/* The row named `name` in `set`, added if new; NULL when out of memory
 * or beyond REPORT_MAX_ROWS (rp->failed set).  `name` is copied. */
struct row *report_row(struct report *rp, struct row_set *set,
		       const char *name);

/* Count one item of measure `k`: into the agency's row, the area's row
 * (when area is not empty), the month of `day` (when in the period) and
 * the total. */
void report_tally(struct report *rp, enum measure k, const char *agency,
		  const char *area, ppx_day day, int yes);

int report_in_period(const struct report *rp, ppx_day d);

/*
 * The board's measures that are not obligations (attendance, referral
 * timeliness, transfers, cancelled meetings, copied plans, emergency
 * accesses and the category/level snapshot on rp->snap.day): one
 * read-only pass over `log`, whose own agency is `agency`.  0, or
 * PPX_ENOMEM / PPX_ETOOBIG / the log's error.
 */
int report_measures(struct report *rp, ppx_log *log, const char *agency);

/* The last 31 March on or before `day`. */
ppx_day report_last_march31(ppx_day day);

/* "unset", "1".."3"; "unset", "1".."3" for categories. */
const char *report_level_name(int level);

/* The page: one self-contained HTML document (report_html.c). */
void report_html(FILE *out, struct report *rp, const char *agency);

/* The median of s in ms, or -1 when empty (sorts s). */
int64_t report_median(struct samples *s);

#endif
