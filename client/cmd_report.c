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
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "client.h"
#include "deadlines.h"
#include "logread.h"
#include "ppx/error.h"

static const char usage[] =
	"usage: ppx report [--log DIR | --config FILE] [--deadlines FILE]\n"
	"                  (--quarter YYYYQn | --from YYYY-MM-DD --to YYYY-MM-DD)\n"
	"                  [--as-of YYYY-MM-DD] [--json | --csv]\n"
	"The board's figures for the period, per partner agency, as counts\n"
	"over totals: minutes on time, disclosure considered, actions done and\n"
	"overdue, notifications acknowledged in time (median time to receipt\n"
	"and to acknowledgement) and partner-record mismatches.  Read-only;\n"
	"docs/ppx-deadlines.md gives the rules.\n";

#define MAX_AGENCIES 4096

struct ratio {
	long count, total;
};

struct samples {
	int64_t *v;
	size_t n, cap;
};

struct row {
	const char *agency;
	struct ratio minutes, disclosure, done, overdue, acks, records;
	struct samples receipt, ack;
};

/* One comparable pair of latest record versions of two agencies. */
struct pair {
	size_t a, b;		/* indexes into report.latest */
	int level;		/* the levels differ */
	unsigned rosh;		/* bit per RiskGroup whose levels differ */
};

struct report {
	ppx_day from, to, as_of;
	struct row *rows;
	size_t n_rows;
	struct row total;
	const struct record_copy **latest;	/* per agency and record */
	size_t n_latest;
	struct pair *pairs;
	size_t n_pairs;
	int failed;		/* out of memory along the way */
};

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

static struct row *row_of(struct report *rp, const char *agency)
{
	struct row *g;

	for (size_t i = 0; i < rp->n_rows; i++)
		if (strcmp(rp->rows[i].agency, agency) == 0)
			return &rp->rows[i];
	if (rp->n_rows == MAX_AGENCIES ||
	    !(g = realloc(rp->rows, (rp->n_rows + 1) * sizeof(*g)))) {
		rp->failed = 1;
		return NULL;
	}
	rp->rows = g;
	g = &rp->rows[rp->n_rows++];
	memset(g, 0, sizeof(*g));
	g->agency = agency;
	return g;
}

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

static int in_period(const struct report *rp, ppx_day d)
{
	return d != DEADLINES_NONE && d >= rp->from && d <= rp->to;
}

/* Count one obligation into its agency's row and the total row. */
static void count_obligation(struct report *rp, const struct obligation *o)
{
	struct row *rows[2] = {row_of(rp, o->agency), &rp->total};

	for (size_t i = 0; rows[0] && i < 2; i++) {
		struct row *w = rows[i];

		switch (o->kind) {
		case OBLIGATION_MINUTES:
			tally(&w->minutes, o->done_day <= o->due);
			break;
		case OBLIGATION_ACTION:
			tally(&w->done, o->done);
			tally(&w->overdue, !o->done && o->due < rp->as_of);
			break;
		case OBLIGATION_ACK:
			tally(&w->acks, o->done && o->done_ms <= o->due_ms);
			if (o->to_receipt_ms >= 0)
				sample(rp, &w->receipt, o->to_receipt_ms);
			if (o->to_ack_ms >= 0)
				sample(rp, &w->ack, o->to_ack_ms);
			break;
		case OBLIGATION_REVIEW:
		case OBLIGATION_EMERGENCY:
			break;
		}
	}
}

static void count_all(struct report *rp, const struct deadlines *dl)
{
	for (size_t i = 0; i < dl->n_ob; i++) {
		const struct obligation *o = &dl->ob[i];
		ppx_day when = o->kind == OBLIGATION_ACTION ? o->due : o->start;

		if (o->kind != OBLIGATION_REVIEW && in_period(rp, when))
			count_obligation(rp, o);
	}
	for (size_t i = 0; i < dl->n_meetings; i++) {
		const struct meeting *mt = &dl->meetings[i];
		struct row *w;

		if (mt->cancelled || !in_period(rp, mt->date) ||
		    !(w = row_of(rp, mt->agency)))
			continue;
		tally(&w->disclosure, mt->considered);
		tally(&rp->total.disclosure, mt->considered);
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
		tally(&rp->total.records, differ);
	}
	for (size_t i = 0; i < rp->n_latest; i++) {
		struct row *w = seen[i] ? row_of(rp, rp->latest[i]->agency) : NULL;

		if (w)
			tally(&w->records, seen[i] & 2);
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
static int64_t median(struct samples *s)
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

	fmt_ratio(c[0], sizeof(c[0]), &w->minutes);
	fmt_ratio(c[1], sizeof(c[1]), &w->disclosure);
	fmt_ratio(c[2], sizeof(c[2]), &w->done);
	fmt_ratio(c[3], sizeof(c[3]), &w->overdue);
	fmt_ratio(c[4], sizeof(c[4]), &w->acks);
	fmt_ratio(c[5], sizeof(c[5]), &w->records);
	fmt_duration(rec, sizeof(rec), median(&rs));
	fmt_duration(ack, sizeof(ack), median(&as));
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
	for (size_t i = 0; i < rp->n_rows; i++)
		text_row(&rp->rows[i], rp->rows[i].agency);
	text_row(&rp->total, "total");
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
	int64_t m = median(s);

	if (m >= 0)
		printf(",%lld", (long long)m);
	else
		printf(",");
}

static void csv_row(struct row *w, const char *name)
{
	struct samples rs = w->receipt, as = w->ack;

	deadlines_csv_field(stdout, name);
	csv_ratio(&w->minutes, 1);
	csv_ratio(&w->disclosure, 1);
	csv_ratio(&w->done, 0);
	csv_ratio(&w->overdue, 1);
	csv_ratio(&w->acks, 1);
	csv_median(&rs);
	csv_median(&as);
	csv_ratio(&w->records, 1);
	printf("\r\n");
}

static void print_csv(struct report *rp)
{
	printf("agency,minutes_on_time,minutes_total,disclosure_considered,"
	       "meetings_total,actions_done,actions_overdue,actions_total,"
	       "acks_in_time,acks_total,median_receipt_ms,median_ack_ms,"
	       "records_mismatched,records_compared\r\n");
	for (size_t i = 0; i < rp->n_rows; i++)
		csv_row(&rp->rows[i], rp->rows[i].agency);
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
	int64_t m = median(s);

	return m >= 0 ? json_object_new_int64(m) : NULL;
}

static json_object *json_row(struct row *w, const char *name)
{
	json_object *o = json_object_new_object();
	struct samples rs = w->receipt, as = w->ack;

	json_object_object_add(o, "agency", json_object_new_string(name));
	json_object_object_add(o, "minutes_on_time", json_ratio(&w->minutes));
	json_object_object_add(o, "disclosure_considered",
			       json_ratio(&w->disclosure));
	json_object_object_add(o, "actions_done", json_ratio(&w->done));
	json_object_object_add(o, "actions_overdue", json_ratio(&w->overdue));
	json_object_object_add(o, "acks_in_time", json_ratio(&w->acks));
	json_object_object_add(o, "median_receipt_ms", json_median(&rs));
	json_object_object_add(o, "median_ack_ms", json_median(&as));
	json_object_object_add(o, "record_mismatches", json_ratio(&w->records));
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
	for (size_t i = 0; i < rp->n_rows; i++)
		json_object_array_add(rows, json_row(&rp->rows[i],
						     rp->rows[i].agency));
	json_object_object_add(root, "rows", rows);
	json_object_object_add(root, "total", json_row(&rp->total, "total"));
	json_object_object_add(root, "mismatches", json_mismatches(rp));
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

static int report_parse(struct deadlines_opts *o, struct report *rp,
			int argc, char **argv)
{
	static const struct option longopts[] = {
		DEADLINES_LONGOPTS,
		{"quarter", required_argument, NULL, 'q'},
		{"from", required_argument, NULL, 'f'},
		{"to", required_argument, NULL, 't'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct period_args p = {0};
	int ch, rc;

	memset(o, 0, sizeof(*o));
	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if ((rc = deadlines_opt(o, ch, optarg, "report")) != 0) {
			if (rc != 1)
				return ppx_exit_code(rc);
		} else if (ch == 'q') {
			p.quarter = optarg;
		} else if (ch == 'f') {
			p.from = optarg;
		} else if (ch == 't') {
			p.to = optarg;
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
	return period_parse(rp, &p);
}

static int cmp_row(const void *a, const void *b)
{
	return strcmp(((const struct row *)a)->agency,
		      ((const struct row *)b)->agency);
}

static void report_free(struct report *rp)
{
	for (size_t i = 0; i < rp->n_rows; i++) {
		free(rp->rows[i].receipt.v);
		free(rp->rows[i].ack.v);
	}
	free(rp->rows);
	free(rp->total.receipt.v);
	free(rp->total.ack.v);
	free(rp->latest);
	free(rp->pairs);
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
	rp.as_of = r.as_of;
	count_all(&rp, r.dl);
	if (count_records(&rp, r.dl) != 0 || rp.failed) {
		fprintf(stderr, "ppx report: %s\n", rp.failed ? "out of memory"
							       : ppx_error_last());
		report_free(&rp);
		deadlines_run_close(&r);
		return PPX_EXIT_UNAVAILABLE;
	}
	sort_n(rp.rows, rp.n_rows, sizeof(*rp.rows), cmp_row);
	if (o.format == FORMAT_JSON)
		print_json(&rp, &r);
	else if (o.format == FORMAT_CSV)
		print_csv(&rp);
	else
		print_text(&rp, &r);
	report_free(&rp);
	deadlines_run_close(&r);
	return PPX_EXIT_OK;
}
