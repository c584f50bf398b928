/*
 * cmd_report.c — `ppx report`: the Strategic Management Board's figures
 * for a period, as counts over totals per partner agency (DOMAIN.md, "What
 * the Strategic Management Board needs to see"; 004:L410-492 uses exactly
 * this form), from the local log, read-only.
 *
 * Per agency that owes something in the period:
 *   minutes on time        meetings in the period whose minutes it issued
 *                          within the working days their level allows;
 *   disclosure considered  of those meetings, the ones where disclosure
 *                          was considered (in the minutes or a decision);
 *   actions done, overdue  actions it owns due in the period: completed,
 *                          or still open after their due date;
 *   acks in time           notifications of the period it had to
 *                          acknowledge, acknowledged by the deadline, with
 *                          the median time to our signed receipt and to
 *                          the acknowledgement;
 *   record mismatches      its partner records whose latest version holds
 *                          a different MAPPA level or risk of serious harm
 *                          from another agency's latest version of the
 *                          same record (same record id or a shared subject
 *                          identifier), as at the end of the period.
 * The obligations come from deadlines.c; the record comparison is here.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "client.h"
#include "deadlines.h"
#include "report.h"
#include "logread.h"
#include "ppx/error.h"

static const char usage[] =
	"usage: ppx report [--log DIR | --config FILE] [--deadlines FILE]\n"
	"                  (--quarter YYYYQn | --from YYYY-MM-DD --to YYYY-MM-DD)\n"
	"                  [--as-of YYYY-MM-DD] [--snapshot YYYY-MM-DD]\n"
	"                  [--format text|json|csv|html | --json | --csv]\n"
	"                  [--output FILE]\n"
	"The board's figures for the period, per partner agency, as counts\n"
	"over totals: minutes on time, disclosure considered, actions done and\n"
	"overdue, notifications acknowledged in time (median time to receipt\n"
	"and to acknowledgement), partner-record mismatches, attendance,\n"
	"agencies on the case not invited, referral timeliness, transfers\n"
	"not accepted, cancelled meetings not rearranged, plans copied\n"
	"unchanged, emergency accesses and their reviews, and the partner\n"
	"records by category and level on 31 March (--snapshot).  Read-only;\n"
	"docs/ppx-deadlines.md gives the rules.\n";

/* qsort(), which may not be given a NULL array even when n is 0. */
static void sort_n(void *base, size_t n, size_t size,
		   int (*cmp)(const void *, const void *))
{
	if (n > 1)
		qsort(base, n, size, cmp);
}

/* ------------------------------------------------------------------ */
/* Rows                                                                */
/* ------------------------------------------------------------------ */

static void sample(struct report *rp, struct samples *s, int64_t v)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 16;
		int64_t *g = cap <= DEADLINES_MAX_ITEMS
				     ? realloc(s->v, cap * sizeof(*g)) : NULL;

		if (!g) {
			rp->failed = 1;
			return;
		}
		s->v = g;
		s->cap = cap;
	}
	s->v[s->n++] = v;
}

static void tally(struct ratio *r, int yes)
{
	r->count += yes != 0;
	r->total++;
}

/* Count one obligation into its agency's row, its month and the total. */
static void count_obligation(struct report *rp, const struct obligation *o,
			     ppx_day when)
{
	struct row *w;

	switch (o->kind) {
	case OBLIGATION_MINUTES:
		report_tally(rp, M_MINUTES, o->agency, NULL, when,
			     o->done_day <= o->due);
		break;
	case OBLIGATION_ACTION:
		report_tally(rp, M_DONE, o->agency, NULL, when, o->done);
		report_tally(rp, M_OVERDUE, o->agency, NULL, when,
			     !o->done && o->due < rp->as_of);
		break;
	case OBLIGATION_ACK:
		report_tally(rp, M_ACKS, o->agency, NULL, when,
			     o->done && o->done_ms <= o->due_ms);
		/* After the tally: a new row may have moved the rows. */
		w = report_row(rp, &rp->agencies, o->agency);
		for (int i = 0; w && i < 2; i++) {
			struct row *x = i ? &rp->total : w;

			if (o->to_receipt_ms >= 0)
				sample(rp, &x->receipt, o->to_receipt_ms);
			if (o->to_ack_ms >= 0)
				sample(rp, &x->ack, o->to_ack_ms);
		}
		break;
	case OBLIGATION_REVIEW:
	case OBLIGATION_EMERGENCY:	/* counted from the entries: report_measures.c */
		break;
	}
}

static void count_all(struct report *rp, const struct deadlines *dl)
{
	for (size_t i = 0; i < dl->n_ob; i++) {
		const struct obligation *o = &dl->ob[i];
		ppx_day when = o->kind == OBLIGATION_ACTION ? o->due : o->start;

		if (o->kind != OBLIGATION_REVIEW && report_in_period(rp, when))
			count_obligation(rp, o, when);
	}
	for (size_t i = 0; i < dl->n_meetings; i++) {
		const struct meeting *mt = &dl->meetings[i];

		if (!mt->cancelled && report_in_period(rp, mt->date))
			report_tally(rp, M_DISCLOSURE, mt->agency, NULL,
				     mt->date, mt->considered);
	}
}

/* ------------------------------------------------------------------ */
/* Partner record mismatches                                           */
/* ------------------------------------------------------------------ */

static int cmp_version(const void *a, const void *b)
{
	const struct record_copy *x = *(const struct record_copy *const *)a;
	const struct record_copy *y = *(const struct record_copy *const *)b;
	int c = strcmp(x->agency, y->agency);

	if (!c)
		c = strcmp(x->record_id, y->record_id);
	if (!c && x->version != y->version)
		c = x->version < y->version ? -1 : 1;
	if (!c && x->logged_ms != y->logged_ms)
		c = x->logged_ms < y->logged_ms ? -1 : 1;
	return c;
}

/* The latest version each agency sent of each record, by the period's
 * end. */
static int latest_versions(struct report *rp, const struct deadlines *dl)
{
	ppx_day end = rp->to < rp->as_of ? rp->to : rp->as_of;
	const struct record_copy **v = calloc(dl->n_records + 1, sizeof(*v));
	size_t n = 0;

	if (!v)
		return ppx_error_set(PPX_ENOMEM, "out of memory");
	for (size_t i = 0; i < dl->n_records; i++)
		if (ppx_date_of_ms(dl->records[i].logged_ms) <= end)
			v[n++] = &dl->records[i];
	sort_n(v, n, sizeof(*v), cmp_version);
	for (size_t i = 0; i < n; i++)
		if (i + 1 == n || strcmp(v[i]->agency, v[i + 1]->agency) != 0 ||
		    strcmp(v[i]->record_id, v[i + 1]->record_id) != 0)
			v[rp->n_latest++] = v[i];
	rp->latest = v;
	return 0;
}

struct record_key {
	const char *key;	/* a subject key, or the record id */
	int is_id;
	size_t i;		/* into rp->latest */
};

static int cmp_record_key(const void *a, const void *b)
{
	const struct record_key *x = a, *y = b;
	int c = x->is_id - y->is_id;

	if (!c)
		c = strcmp(x->key, y->key);
	return c ? c : x->i < y->i ? -1 : x->i > y->i;
}

static int cmp_pair(const void *a, const void *b)
{
	const struct pair *x = a, *y = b;

	if (x->a != y->a)
		return x->a < y->a ? -1 : 1;
	return x->b < y->b ? -1 : x->b > y->b;
}

static int add_pair(struct report *rp, size_t *cap, size_t a, size_t b)
{
	const struct record_copy *x = rp->latest[a], *y = rp->latest[b];
	struct pair *p;

	if (strcmp(x->agency, y->agency) == 0)
		return 0;
	if (rp->n_pairs == *cap) {
		size_t c = *cap ? 2 * *cap : 64;

		if (c > DEADLINES_MAX_ITEMS ||
		    !(p = realloc(rp->pairs, c * sizeof(*p))))
			return ppx_error_set(PPX_ETOOBIG, "too many partner "
					     "record pairs to compare");
		rp->pairs = p;
		*cap = c;
	}
	p = &rp->pairs[rp->n_pairs++];
	p->a = a < b ? a : b;
	p->b = a < b ? b : a;
	p->level = x->level && y->level && x->level != y->level;
	p->rosh = 0;
	for (int g = 1; g < DEADLINES_GROUPS; g++)
		if (x->rosh[g] && y->rosh[g] && x->rosh[g] != y->rosh[g])
			p->rosh |= 1u << g;
	return 0;
}

/* Pairs of latest versions from different agencies that share a record
 * id or a subject identifier, each pair once. */
static int find_pairs(struct report *rp)
{
	struct record_key *k;
	size_t n = 0, total = rp->n_latest, cap = 0, out = 0;
	int rc = 0;

	for (size_t i = 0; i < rp->n_latest; i++)
		total += rp->latest[i]->n_keys;
	if (!(k = calloc(total + 1, sizeof(*k))))
		return ppx_error_set(PPX_ENOMEM, "out of memory");
	for (size_t i = 0; i < rp->n_latest; i++) {
		k[n++] = (struct record_key){rp->latest[i]->record_id, 1, i};
		for (size_t j = 0; j < rp->latest[i]->n_keys; j++)
			k[n++] = (struct record_key){rp->latest[i]->keys[j], 0, i};
	}
	sort_n(k, n, sizeof(*k), cmp_record_key);
	for (size_t s = 0, e; rc == 0 && s < n; s = e) {
		for (e = s + 1; e < n && k[e].is_id == k[s].is_id &&
				strcmp(k[e].key, k[s].key) == 0; e++)
			;
		for (size_t a = s; rc == 0 && a < e; a++)
			for (size_t b = a + 1; rc == 0 && b < e; b++)
				rc = add_pair(rp, &cap, k[a].i, k[b].i);
	}
	free(k);
	sort_n(rp->pairs, rp->n_pairs, sizeof(*rp->pairs), cmp_pair);
	for (size_t i = 0; i < rp->n_pairs; i++)
		if (out == 0 || cmp_pair(&rp->pairs[out - 1], &rp->pairs[i]))
			rp->pairs[out++] = rp->pairs[i];
	rp->n_pairs = out;
	return rc;
}

/* Per agency: its records compared, and those that differ; the total
 * row counts pairs. */
static int count_records(struct report *rp, const struct deadlines *dl)
{
	unsigned char *seen;
	int rc;

	if ((rc = latest_versions(rp, dl)) != 0 || (rc = find_pairs(rp)) != 0)
		return rc;
	if (!(seen = calloc(rp->n_latest + 1, 1)))
		return ppx_error_set(PPX_ENOMEM, "out of memory");
	for (size_t i = 0; i < rp->n_pairs; i++) {
		const struct pair *p = &rp->pairs[i];
		int differ = p->level || p->rosh;

		seen[p->a] |= 1 | (differ ? 2 : 0);
		seen[p->b] |= 1 | (differ ? 2 : 0);
		tally(&rp->total.m[M_RECORDS], differ);
	}
	for (size_t i = 0; i < rp->n_latest; i++) {
		struct row *w = seen[i] ? report_row(rp, &rp->agencies,
						     rp->latest[i]->agency)
					: NULL;

		if (w)
			tally(&w->m[M_RECORDS], seen[i] & 2);
	}
	free(seen);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Output                                                              */
/* ------------------------------------------------------------------ */

static int cmp_int64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/* The median in ms (the mean of the middle two for an even count), or
 * -1 when there is nothing to take it of. */
int64_t report_median(struct samples *s)
{
	if (s->n == 0)
		return -1;
	sort_n(s->v, s->n, sizeof(*s->v), cmp_int64);
	if (s->n % 2)
		return s->v[s->n / 2];
	return s->v[s->n / 2 - 1] + (s->v[s->n / 2] - s->v[s->n / 2 - 1]) / 2;
}

static void fmt_ratio(char *out, size_t cap, const struct ratio *r)
{
	if (r->total)
		snprintf(out, cap, "%ld/%ld", r->count, r->total);
	else
		snprintf(out, cap, "-");
}

/* "35ms", "2.5s", "4m 05s", "6h 00m", "2d 0h". */
static void fmt_duration(char *out, size_t cap, int64_t ms)
{
	int64_t s = ms / 1000;

	if (ms < 0)
		snprintf(out, cap, "-");
	else if (ms < 1000)
		snprintf(out, cap, "%lldms", (long long)ms);
	else if (ms < 60000)
		snprintf(out, cap, "%.1fs", (double)ms / 1000);
	else if (s < 3600)
		snprintf(out, cap, "%lldm %02llds", (long long)(s / 60),
			 (long long)(s % 60));
	else if (s < 86400)
		snprintf(out, cap, "%lldh %02lldm", (long long)(s / 3600),
			 (long long)(s % 3600 / 60));
	else
		snprintf(out, cap, "%lldd %lldh", (long long)(s / 86400),
			 (long long)(s % 86400 / 3600));
}

static const char *level_name(int level)
{
	static const char *const names[] = {"unset", "1", "2", "3"};

	return level >= 0 && level <= 3 ? names[level] : "?";
}

static const char *risk_name(int level)
{
	static const char *const names[] = {"unset", "low", "medium", "high",
					    "very high"};

	return level >= 0 && level <= 4 ? names[level] : "?";
}

static const char *group_name(int group)
{
	static const char *const names[] = {"?", "children", "public",
					    "known adult", "staff", "prisoners"};

	return group > 0 && group < DEADLINES_GROUPS ? names[group] : "?";
}

static void text_row(const struct row *w, const char *name)
{
	char c[7][24], rec[24], ack[24];
	struct samples rs = w->receipt, as = w->ack;

	fmt_ratio(c[0], sizeof(c[0]), &w->m[M_MINUTES]);
	fmt_ratio(c[1], sizeof(c[1]), &w->m[M_DISCLOSURE]);
	fmt_ratio(c[2], sizeof(c[2]), &w->m[M_DONE]);
	fmt_ratio(c[3], sizeof(c[3]), &w->m[M_OVERDUE]);
	fmt_ratio(c[4], sizeof(c[4]), &w->m[M_ACKS]);
	fmt_ratio(c[5], sizeof(c[5]), &w->m[M_RECORDS]);
	fmt_duration(rec, sizeof(rec), report_median(&rs));
	fmt_duration(ack, sizeof(ack), report_median(&as));
	deadlines_print_clean(stdout, name, 24);
	printf(" %-9s %-10s %-8s %-8s %-8s %-10s %-10s %s\n", c[0], c[1], c[2],
	       c[3], c[4], rec, ack, c[5]);
}

static void text_mismatch(const struct report *rp, const struct pair *p)
{
	const struct record_copy *x = rp->latest[p->a], *y = rp->latest[p->b];
	const char *sep = "";

	printf("  ");
	deadlines_print_clean(stdout, x->subject, 0);
	printf(": ");
	deadlines_print_clean(stdout, x->agency, 0);
	printf(" %s v%llu, ", x->record_id, (unsigned long long)x->version);
	deadlines_print_clean(stdout, y->agency, 0);
	printf(" %s v%llu: ", y->record_id, (unsigned long long)y->version);
	if (p->level) {
		printf("level %s vs %s", level_name(x->level),
		       level_name(y->level));
		sep = "; ";
	}
	for (int g = 1; g < DEADLINES_GROUPS; g++)
		if (p->rosh & (1u << g)) {
			printf("%srisk to %s %s vs %s", sep, group_name(g),
			       risk_name(x->rosh[g]), risk_name(y->rosh[g]));
			sep = "; ";
		}
	printf("\n");
}

/* The board's other measures, by agency and area, and the snapshot. */
static void text_board_rows(const struct row *v, size_t n, const char *what)
{
	char c[24];

	printf("\n%-24s", what);
	for (int k = M_ATTENDED; k < M_COUNT; k++)
		printf(k + 1 < M_COUNT ? " %-9s" : " %s\n",
		       report_measure[k].label);
	for (size_t i = 0; i < n; i++) {
		deadlines_print_clean(stdout, v[i].agency, 24);
		for (int k = M_ATTENDED; k < M_COUNT; k++) {
			fmt_ratio(c, sizeof(c), &v[i].m[k]);
			printf(k + 1 < M_COUNT ? " %-9s" : " %s\n", c);
		}
	}
}

static void text_board(struct report *rp)
{
	char d[PPX_DATE_LEN];

	printf("\nthe board's other measures (count/total; "
	       "docs/ppx-deadlines.md):\n");
	for (int k = M_ATTENDED; k < M_COUNT; k++)
		printf("  %-9s %s over %s\n", report_measure[k].label,
		       report_measure[k].title, report_measure[k].over);
	text_board_rows(rp->agencies.v, rp->agencies.n, "agency");
	text_board_rows(&rp->total, 1, "");
	if (rp->areas.n)
		text_board_rows(rp->areas.v, rp->areas.n, "area");
	ppx_date_format(d, rp->snap.day);
	printf("\npartner records by category and level on %s: %ld\n", d,
	       rp->snap.total);
	for (int c = 0; c < REPORT_CATEGORIES; c++)
		for (int l = 0; l < REPORT_LEVELS; l++)
			if (rp->snap.n[c][l])
				printf("  category %s level %s: %ld\n",
				       report_level_name(c),
				       report_level_name(l), rp->snap.n[c][l]);
}

static void print_text(struct report *rp, const struct deadlines_run *r)
{
	char from[PPX_DATE_LEN], to[PPX_DATE_LEN], as_of[PPX_DATE_LEN];
	size_t shown = 0;

	ppx_date_format(from, rp->from);
	ppx_date_format(to, rp->to);
	ppx_date_format(as_of, rp->as_of);
	printf("ppx report%s%s: %s to %s, as of %s\n", *r->agency ? " for " : "",
	       r->agency, from, to, as_of);
	printf("minutes within %ld (level 2) / %ld (level 3) working days; "
	       "%zu bank holidays%s%s\n\n", r->cfg.minutes_level2_days,
	       r->cfg.minutes_level3_days, ppx_calendar_count(r->cal),
	       r->cfg.bank_holidays[0] ? " from " : "", r->cfg.bank_holidays);
	printf("%-24s %-9s %-10s %-8s %-8s %-8s %-10s %-10s %s\n", "", "minutes",
	       "disclosure", "actions", "actions", "acks", "median to",
	       "median to", "record");
	printf("%-24s %-9s %-10s %-8s %-8s %-8s %-10s %-10s %s\n", "agency",
	       "on time", "considered", "done", "overdue", "in time", "receipt",
	       "ack", "mismatches");
	for (size_t i = 0; i < rp->agencies.n; i++)
		text_row(&rp->agencies.v[i], rp->agencies.v[i].agency);
	text_row(&rp->total, "total");
	text_board(rp);
	for (size_t i = 0; i < rp->n_pairs; i++) {
		if (!rp->pairs[i].level && !rp->pairs[i].rosh)
			continue;
		if (shown++ == 0)
			printf("\nrecord mismatches (each agency's latest "
			       "version as at %s):\n", rp->to < rp->as_of ? to
								       : as_of);
		text_mismatch(rp, &rp->pairs[i]);
	}
}

static void csv_ratio(const struct ratio *r, int with_total)
{
	if (with_total)
		printf(",%ld,%ld", r->count, r->total);
	else
		printf(",%ld", r->count);
}

static void csv_median(struct samples *s)
{
	int64_t m = report_median(s);

	if (m >= 0)
		printf(",%lld", (long long)m);
	else
		printf(",");
}

static void csv_row(struct row *w, const char *name)
{
	struct samples rs = w->receipt, as = w->ack;

	deadlines_csv_field(stdout, name);
	csv_ratio(&w->m[M_MINUTES], 1);
	csv_ratio(&w->m[M_DISCLOSURE], 1);
	csv_ratio(&w->m[M_DONE], 0);
	csv_ratio(&w->m[M_OVERDUE], 1);
	csv_ratio(&w->m[M_ACKS], 1);
	csv_median(&rs);
	csv_median(&as);
	csv_ratio(&w->m[M_RECORDS], 1);
	for (int k = M_ATTENDED; k < M_COUNT; k++)
		csv_ratio(&w->m[k], 1);
	printf("\r\n");
}

static void print_csv(struct report *rp)
{
	printf("agency,minutes_on_time,minutes_total,disclosure_considered,"
	       "meetings_total,actions_done,actions_overdue,actions_total,"
	       "acks_in_time,acks_total,median_receipt_ms,median_ack_ms,"
	       "records_mismatched,records_compared");
	for (int k = M_ATTENDED; k < M_COUNT; k++)
		printf(",%s,%s_total", report_measure[k].key,
		       report_measure[k].key);
	printf("\r\n");
	for (size_t i = 0; i < rp->agencies.n; i++)
		csv_row(&rp->agencies.v[i], rp->agencies.v[i].agency);
	csv_row(&rp->total, "total");
}

static json_object *json_ratio(const struct ratio *r)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "count", json_object_new_int64(r->count));
	json_object_object_add(o, "total", json_object_new_int64(r->total));
	return o;
}

static json_object *json_median(struct samples *s)
{
	int64_t m = report_median(s);

	return m >= 0 ? json_object_new_int64(m) : NULL;
}

static json_object *json_row(struct row *w, const char *name)
{
	json_object *o = json_object_new_object();
	struct samples rs = w->receipt, as = w->ack;

	json_object_object_add(o, "agency", json_object_new_string(name));
	json_object_object_add(o, "minutes_on_time", json_ratio(&w->m[M_MINUTES]));
	json_object_object_add(o, "disclosure_considered",
			       json_ratio(&w->m[M_DISCLOSURE]));
	json_object_object_add(o, "actions_done", json_ratio(&w->m[M_DONE]));
	json_object_object_add(o, "actions_overdue", json_ratio(&w->m[M_OVERDUE]));
	json_object_object_add(o, "acks_in_time", json_ratio(&w->m[M_ACKS]));
	json_object_object_add(o, "median_receipt_ms", json_median(&rs));
	json_object_object_add(o, "median_ack_ms", json_median(&as));
	json_object_object_add(o, "record_mismatches", json_ratio(&w->m[M_RECORDS]));
	for (int k = M_ATTENDED; k < M_COUNT; k++)
		json_object_object_add(o, report_measure[k].key,
				       json_ratio(&w->m[k]));
	return o;
}

static json_object *json_copy(const struct record_copy *v)
{
	json_object *o = json_object_new_object(), *rosh = json_object_new_object();

	json_object_object_add(o, "agency", json_object_new_string(v->agency));
	json_object_object_add(o, "record_id",
			       json_object_new_string(v->record_id));
	json_object_object_add(o, "version", json_object_new_uint64(v->version));
	json_object_object_add(o, "level", json_object_new_string(
						   level_name(v->level)));
	for (int g = 1; g < DEADLINES_GROUPS; g++)
		if (v->rosh[g])
			json_object_object_add(rosh, group_name(g),
					       json_object_new_string(
						       risk_name(v->rosh[g])));
	json_object_object_add(o, "rosh", rosh);
	return o;
}

static json_object *json_mismatches(const struct report *rp)
{
	json_object *a = json_object_new_array();

	for (size_t i = 0; i < rp->n_pairs; i++) {
		const struct pair *p = &rp->pairs[i];
		json_object *o, *copies, *fields;

		if (!p->level && !p->rosh)
			continue;
		o = json_object_new_object();
		copies = json_object_new_array();
		fields = json_object_new_array();
		json_object_object_add(o, "subject", json_object_new_string(
						     rp->latest[p->a]->subject));
		if (p->level)
			json_object_array_add(fields,
					      json_object_new_string("level"));
		for (int g = 1; g < DEADLINES_GROUPS; g++)
			if (p->rosh & (1u << g))
				json_object_array_add(fields, json_object_new_string(
							      group_name(g)));
		json_object_object_add(o, "differ", fields);
		json_object_array_add(copies, json_copy(rp->latest[p->a]));
		json_object_array_add(copies, json_copy(rp->latest[p->b]));
		json_object_object_add(o, "copies", copies);
		json_object_array_add(a, o);
	}
	return a;
}

static json_object *json_rows(struct row *v, size_t n)
{
	json_object *a = json_object_new_array();

	for (size_t i = 0; i < n; i++)
		json_object_array_add(a, json_row(&v[i], v[i].agency));
	return a;
}

static json_object *json_snapshot(const struct snapshot *s)
{
	json_object *o = json_object_new_object(), *a = json_object_new_array();
	char d[PPX_DATE_LEN];

	ppx_date_format(d, s->day);
	json_object_object_add(o, "date", json_object_new_string(d));
	for (int c = 0; c < REPORT_CATEGORIES; c++)
		for (int l = 0; l < REPORT_LEVELS; l++) {
			json_object *x;

			if (!s->n[c][l])
				continue;
			x = json_object_new_object();
			json_object_object_add(x, "category", json_object_new_string(
						       report_level_name(c)));
			json_object_object_add(x, "level", json_object_new_string(
						       report_level_name(l)));
			json_object_object_add(x, "count",
					       json_object_new_int64(s->n[c][l]));
			json_object_array_add(a, x);
		}
	json_object_object_add(o, "counts", a);
	json_object_object_add(o, "total", json_object_new_int64(s->total));
	return o;
}

static void print_json(struct report *rp, const struct deadlines_run *r)
{
	json_object *root = json_object_new_object(), *rows, *rules;
	char d[PPX_DATE_LEN];

	json_object_object_add(root, "agency", json_object_new_string(r->agency));
	ppx_date_format(d, rp->from);
	json_object_object_add(root, "from", json_object_new_string(d));
	ppx_date_format(d, rp->to);
	json_object_object_add(root, "to", json_object_new_string(d));
	ppx_date_format(d, rp->as_of);
	json_object_object_add(root, "as_of", json_object_new_string(d));
	rules = json_object_new_object();
	json_object_object_add(rules, "minutes_level2_days",
			       json_object_new_int64(r->cfg.minutes_level2_days));
	json_object_object_add(rules, "minutes_level3_days",
			       json_object_new_int64(r->cfg.minutes_level3_days));
	json_object_object_add(rules, "review_level2_weeks",
			       json_object_new_int64(r->cfg.review_level2_weeks));
	json_object_object_add(rules, "review_level3_weeks",
			       json_object_new_int64(r->cfg.review_level3_weeks));
	json_object_object_add(rules, "bank_holidays", json_object_new_int64(
				       (int64_t)ppx_calendar_count(r->cal)));
	json_object_object_add(root, "rules", rules);
	rows = json_object_new_array();
	for (size_t i = 0; i < rp->agencies.n; i++)
		json_object_array_add(rows, json_row(&rp->agencies.v[i],
						     rp->agencies.v[i].agency));
	json_object_object_add(root, "rows", rows);
	json_object_object_add(root, "total", json_row(&rp->total, "total"));
	json_object_object_add(root, "mismatches", json_mismatches(rp));
	json_object_object_add(root, "areas", json_rows(rp->areas.v,
							rp->areas.n));
	json_object_object_add(root, "months", json_rows(rp->months,
							 rp->n_months));
	json_object_object_add(root, "snapshot", json_snapshot(&rp->snap));
	lr_json_write(stdout, root, JSON_C_TO_STRING_PLAIN);
	json_object_put(root);
}

/* ------------------------------------------------------------------ */
/* Options and the command                                             */
/* ------------------------------------------------------------------ */

/* "2026Q4" (or "2026-Q4", "2026q4"): its first and last day. */
static int parse_quarter(ppx_day *from, ppx_day *to, const char *s)
{
	char *end;
	long y = strtol(s, &end, 10);
	int q;

	if (end - s != 4 || !isdigit((unsigned char)s[0]))
		return PPX_EINVAL;
	if (*end == '-')
		end++;
	if ((end[0] != 'Q' && end[0] != 'q') || end[1] < '1' || end[1] > '4' ||
	    end[2])
		return PPX_EINVAL;
	q = end[1] - '0';
	if (ppx_date_from_ymd(from, (int)y, 3 * q - 2, 1) != 0 ||
	    ppx_date_from_ymd(to, q == 4 ? (int)y + 1 : (int)y,
			      q == 4 ? 1 : 3 * q + 1, 1) != 0)
		return PPX_EINVAL;
	(*to)--;
	return 0;
}

struct period_args {
	const char *quarter, *from, *to;
};

static int period_parse(struct report *rp, const struct period_args *p)
{
	if (p->quarter && (p->from || p->to)) {
		fprintf(stderr, "ppx report: give --quarter or --from and --to, "
			"not both\n");
		return PPX_EXIT_USAGE;
	}
	if (p->quarter) {
		if (parse_quarter(&rp->from, &rp->to, p->quarter) == 0)
			return 0;
		fprintf(stderr, "ppx report: --quarter %s: write YYYYQn, e.g. "
			"2026Q4\n", p->quarter);
		return PPX_EXIT_USAGE;
	}
	if (!p->from || !p->to) {
		fprintf(stderr, "ppx report: the period is required: --quarter "
			"YYYYQn, or --from DATE and --to DATE\n%s", usage);
		return PPX_EXIT_USAGE;
	}
	if (ppx_date_parse(&rp->from, p->from) != 0 ||
	    ppx_date_parse(&rp->to, p->to) != 0) {
		fprintf(stderr, "ppx report: %s\n", ppx_error_last());
		return PPX_EXIT_USAGE;
	}
	if (rp->from > rp->to) {
		fprintf(stderr, "ppx report: --from %s is after --to %s\n",
			p->from, p->to);
		return PPX_EXIT_USAGE;
	}
	return 0;
}

struct report_args {
	struct period_args p;
	const char *format, *output, *snapshot;
};

/* --format, --snapshot/--at: what period_parse leaves. */
static int extra_parse(struct deadlines_opts *o, struct report *rp,
		       const struct report_args *x)
{
	static const char *const names[] = {"text", "json", "csv", "html"};
	int f = -1;

	for (int i = 0; x->format && i < 4; i++)
		if (strcmp(x->format, names[i]) == 0)
			f = i;
	if (x->format && (f < 0 || (o->format != FORMAT_TEXT &&
				    o->format != f))) {
		fprintf(stderr, "ppx report: --format %s: give one of text, "
			"json, csv, html (and no other --json or --csv)\n",
			x->format);
		return PPX_EXIT_USAGE;
	}
	if (x->format)
		o->format = f;
	rp->snap.day = DEADLINES_NONE;
	if (x->snapshot && ppx_date_parse(&rp->snap.day, x->snapshot) != 0) {
		fprintf(stderr, "ppx report: --snapshot: %s\n", ppx_error_last());
		return PPX_EXIT_USAGE;
	}
	if (x->output && !freopen(x->output, "w", stdout)) {
		fprintf(stderr, "ppx report: cannot write %s: %s\n", x->output,
			strerror(errno));
		return PPX_EXIT_UNAVAILABLE;
	}
	return 0;
}

static int report_parse(struct deadlines_opts *o, struct report *rp,
			int argc, char **argv)
{
	static const struct option longopts[] = {
		DEADLINES_LONGOPTS,
		{"quarter", required_argument, NULL, 'q'},
		{"from", required_argument, NULL, 'f'},
		{"to", required_argument, NULL, 't'},
		{"format", required_argument, NULL, 'F'},
		{"output", required_argument, NULL, 'o'},
		{"snapshot", required_argument, NULL, 's'},
		{"at", required_argument, NULL, 's'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct report_args x = {0};
	int ch, rc;

	memset(o, 0, sizeof(*o));
	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if ((rc = deadlines_opt(o, ch, optarg, "report")) != 0) {
			if (rc != 1)
				return ppx_exit_code(rc);
		} else if (ch == 'q' || ch == 'f' || ch == 't') {
			*(ch == 'q' ? &x.p.quarter : ch == 'f' ? &x.p.from
							       : &x.p.to) = optarg;
		} else if (ch == 'F' || ch == 'o' || ch == 's') {
			*(ch == 'F' ? &x.format : ch == 'o' ? &x.output
							    : &x.snapshot) = optarg;
		} else if (ch == 'h') {
			fputs(usage, stdout);
			return 1;
		} else {
			fputs(usage, stderr);
			return PPX_EXIT_USAGE;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "ppx report: unexpected argument %s\n%s",
			argv[optind], usage);
		return PPX_EXIT_USAGE;
	}
	if ((rc = period_parse(rp, &x.p)) != 0)
		return rc;
	return extra_parse(o, rp, &x);
}

static int cmp_row(const void *a, const void *b)
{
	return strcmp(((const struct row *)a)->agency,
		      ((const struct row *)b)->agency);
}

/* Count everything; 0, or an exit status after saying what failed. */
static int report_count(struct report *rp, struct deadlines_run *r)
{
	rp->as_of = r->as_of;
	if (rp->snap.day == DEADLINES_NONE)
		rp->snap.day = report_last_march31(rp->to);
	if (report_init(rp) != 0) {
		fprintf(stderr, "ppx report: %s\n", ppx_error_last());
		return PPX_EXIT_USAGE;
	}
	count_all(rp, r->dl);
	if (count_records(rp, r->dl) != 0 || rp->failed ||
	    report_measures(rp, r->log, r->agency) != 0) {
		fprintf(stderr, "ppx report: %s\n", rp->failed ? "out of memory"
							       : ppx_error_last());
		return PPX_EXIT_UNAVAILABLE;
	}
	sort_n(rp->agencies.v, rp->agencies.n, sizeof(*rp->agencies.v),
	       cmp_row);
	sort_n(rp->areas.v, rp->areas.n, sizeof(*rp->areas.v), cmp_row);
	return 0;
}

int cmd_report(int argc, char **argv)
{
	struct deadlines_opts o;
	struct deadlines_run r;
	struct report rp = {0};
	int rc = report_parse(&o, &rp, argc, argv);

	if (rc != 0)
		return rc == 1 ? PPX_EXIT_OK : rc;
	if ((rc = deadlines_run_open(&r, &o, "report")) != 0) {
		deadlines_run_close(&r);
		return ppx_exit_code(rc);
	}
	if ((rc = report_count(&rp, &r)) == 0) {
		if (o.format == FORMAT_JSON)
			print_json(&rp, &r);
		else if (o.format == FORMAT_CSV)
			print_csv(&rp);
		else if (o.format == FORMAT_HTML)
			report_html(stdout, &rp, r.agency);
		else
			print_text(&rp, &r);
		if (fflush(stdout) != 0 || ferror(stdout)) {
			fprintf(stderr, "ppx report: cannot write the report: "
				"%s\n", strerror(errno));
			rc = PPX_EXIT_UNAVAILABLE;
		}
	}
	report_free(&rp);
	deadlines_run_close(&r);
	return rc;
}
