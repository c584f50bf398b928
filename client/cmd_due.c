/*
 * cmd_due.c — `ppx due`: what is overdue and what falls due soon, by owner
 * agency and person, from the local log, read-only.
 *
 * deadlines.c works out the obligations (minutes, actions,
 * acknowledgements, reviews, reviews of emergency access) as of a date; this file keeps those not met
 * whose due date is before that date (overdue) or within --soon working
 * days of it (due soon), and prints them as a table grouped by agency and
 * person, as JSON or as CSV.  The exit status says whether anything is
 * overdue, so that a scheduled job can raise an alert.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "client.h"
#include "deadlines.h"
#include "logread.h"
#include "ppx/error.h"
#include "ppx/timefmt.h"

static const char usage[] =
	"usage: ppx due [--log DIR | --config FILE] [--deadlines FILE]\n"
	"               [--as-of YYYY-MM-DD] [--soon DAYS] [--json | --csv]\n"
	"Lists the minutes, actions, acknowledgements, reviews and reviews of\n"
	"emergency access that are overdue, or due within DAYS working days\n"
	"(due_soon_days of the deadlines file, default 5), by owner agency\n"
	"and person.  The rules and bank holidays come from --deadlines FILE\n"
	"or $PPX_DEADLINES (docs/ppx-deadlines.md).  Exit 0: nothing\n"
	"overdue; 1: something is; 2: usage; 3: the log cannot be read.\n";

struct due_item {
	const struct obligation *o;
	int overdue;
	long working_days;	/* from as-of to due; negative when late */
};

struct due_list {
	struct due_item *items;
	size_t n, n_overdue;
	ppx_day as_of, until;
	long soon;
	const char *agency;
};

static int cmp_item(const void *a, const void *b)
{
	const struct obligation *x = ((const struct due_item *)a)->o;
	const struct obligation *y = ((const struct due_item *)b)->o;
	int c = strcmp(x->agency, y->agency);

	if (!c)
		c = strcmp(x->person, y->person);
	if (!c && x->due != y->due)
		c = x->due < y->due ? -1 : 1;
	if (!c && x->kind != y->kind)
		c = x->kind < y->kind ? -1 : 1;
	return c ? c : strcmp(x->ref, y->ref);
}

/* The obligations not met and due by `until`, sorted for grouping. */
static int due_select(struct due_list *l, const struct deadlines_run *r)
{
	const struct deadlines *dl = r->dl;

	l->items = calloc(dl->n_ob + 1, sizeof(*l->items));
	if (!l->items)
		return ppx_error_set(PPX_ENOMEM, "out of memory");
	for (size_t i = 0; i < dl->n_ob; i++) {
		const struct obligation *o = &dl->ob[i];
		struct due_item *it = &l->items[l->n];

		if (o->done || o->due > l->until)
			continue;
		it->o = o;
		it->overdue = o->due < l->as_of;
		it->working_days = ppx_workdays_between(r->cal, l->as_of,
							o->due);
		l->n_overdue += it->overdue;
		l->n++;
	}
	if (l->n > 1)
		qsort(l->items, l->n, sizeof(*l->items), cmp_item);
	return 0;
}

static const char *person_or_none(const char *person)
{
	return *person ? person : "(no one named yet)";
}

static void print_text(const struct due_list *l)
{
	char as_of[PPX_DATE_LEN], until[PPX_DATE_LEN], due[PPX_DATE_LEN];
	char when[32];

	ppx_date_format(as_of, l->as_of);
	ppx_date_format(until, l->until);
	printf("ppx due%s%s, as of %s: %zu overdue, %zu due by %s (%ld working "
	       "day%s)\n", *l->agency ? " for " : "", l->agency, as_of,
	       l->n_overdue, l->n - l->n_overdue, until, l->soon,
	       l->soon == 1 ? "" : "s");
	for (size_t i = 0; i < l->n; i++) {
		const struct obligation *o = l->items[i].o;
		const struct obligation *p = i ? l->items[i - 1].o : NULL;

		if (!p || strcmp(p->agency, o->agency) != 0) {
			printf("\n");
			deadlines_print_clean(stdout, o->agency, 0);
			printf("\n");
		}
		if (!p || strcmp(p->agency, o->agency) != 0 ||
		    strcmp(p->person, o->person) != 0) {
			printf("  ");
			deadlines_print_clean(stdout, person_or_none(o->person), 0);
			printf("\n");
		}
		ppx_date_format(due, o->due);
		printf("    %-7s  %s  %+4ld  %-11s ",
		       l->items[i].overdue ? "overdue" : "soon", due,
		       l->items[i].working_days, obligation_kind_name(o->kind));
		deadlines_print_clean(stdout, o->ref, 0);
		printf("  ");
		deadlines_print_clean(stdout, o->subject, 0);
		printf(": ");
		deadlines_print_clean(stdout, o->what, 0);
		if (o->due_ms) {
			ppx_time_iso(when, sizeof(when), o->due_ms);
			printf(" by %s", when);
		}
		printf("\n");
	}
}

static void print_csv(const struct due_list *l)
{
	char due[PPX_DATE_LEN], when[32];

	printf("agency,person,state,due,working_days,kind,ref,subject,what,"
	       "deadline\r\n");
	for (size_t i = 0; i < l->n; i++) {
		const struct obligation *o = l->items[i].o;

		ppx_date_format(due, o->due);
		when[0] = '\0';
		if (o->due_ms)
			ppx_time_iso(when, sizeof(when), o->due_ms);
		deadlines_csv_field(stdout, o->agency);
		putchar(',');
		deadlines_csv_field(stdout, o->person);
		printf(",%s,%s,%ld,%s,", l->items[i].overdue ? "overdue" : "soon",
		       due, l->items[i].working_days,
		       obligation_kind_name(o->kind));
		deadlines_csv_field(stdout, o->ref);
		putchar(',');
		deadlines_csv_field(stdout, o->subject);
		putchar(',');
		deadlines_csv_field(stdout, o->what);
		printf(",%s\r\n", when);
	}
}

static json_object *item_json(const struct due_item *it)
{
	const struct obligation *o = it->o;
	json_object *j = json_object_new_object(), *keys;
	char due[PPX_DATE_LEN], when[32];

	ppx_date_format(due, o->due);
	json_object_object_add(j, "state", json_object_new_string(
					       it->overdue ? "overdue" : "soon"));
	json_object_object_add(j, "kind", json_object_new_string(
					      obligation_kind_name(o->kind)));
	json_object_object_add(j, "ref", json_object_new_string(o->ref));
	json_object_object_add(j, "due", json_object_new_string(due));
	json_object_object_add(j, "working_days",
			       json_object_new_int64(it->working_days));
	if (o->due_ms) {
		ppx_time_iso(when, sizeof(when), o->due_ms);
		json_object_object_add(j, "deadline", json_object_new_string(when));
	}
	json_object_object_add(j, "subject", json_object_new_string(o->subject));
	keys = json_object_new_array();
	for (size_t k = 0; k < o->n_keys; k++)
		json_object_array_add(keys, json_object_new_string(o->keys[k]));
	json_object_object_add(j, "subject_keys", keys);
	json_object_object_add(j, "what", json_object_new_string(o->what));
	return j;
}

/* {"agency", "as_of", ..., "owners": [{"agency", "person", "items"}]} */
static void print_json(const struct due_list *l)
{
	json_object *root = json_object_new_object(), *owners, *items = NULL;
	char as_of[PPX_DATE_LEN], until[PPX_DATE_LEN];

	ppx_date_format(as_of, l->as_of);
	ppx_date_format(until, l->until);
	json_object_object_add(root, "agency", json_object_new_string(l->agency));
	json_object_object_add(root, "as_of", json_object_new_string(as_of));
	json_object_object_add(root, "soon_days", json_object_new_int64(l->soon));
	json_object_object_add(root, "soon_until", json_object_new_string(until));
	json_object_object_add(root, "overdue",
			       json_object_new_int64((int64_t)l->n_overdue));
	json_object_object_add(root, "soon", json_object_new_int64(
						     (int64_t)(l->n - l->n_overdue)));
	owners = json_object_new_array();
	for (size_t i = 0; i < l->n; i++) {
		const struct obligation *o = l->items[i].o;
		const struct obligation *p = i ? l->items[i - 1].o : NULL;

		if (!p || strcmp(p->agency, o->agency) != 0 ||
		    strcmp(p->person, o->person) != 0) {
			json_object *owner = json_object_new_object();

			json_object_object_add(owner, "agency",
					       json_object_new_string(o->agency));
			json_object_object_add(owner, "person",
					       json_object_new_string(o->person));
			items = json_object_new_array();
			json_object_object_add(owner, "items", items);
			json_object_array_add(owners, owner);
		}
		json_object_array_add(items, item_json(&l->items[i]));
	}
	json_object_object_add(root, "owners", owners);
	lr_json_write(stdout, root, JSON_C_TO_STRING_PLAIN);
	json_object_put(root);
}

/* --soon DAYS: a whole number of working days, 0 to 365. */
static int parse_soon(long *out, const char *arg)
{
	char *end;
	long v = strtol(arg, &end, 10);

	if (end == arg || *end || v < 0 || v > 365) {
		fprintf(stderr, "ppx due: --soon %s: give a number of working "
			"days from 0 to 365\n", arg);
		return PPX_EXIT_USAGE;
	}
	*out = v;
	return 0;
}

static int due_parse(struct deadlines_opts *o, long *soon, int argc,
		     char **argv)
{
	static const struct option longopts[] = {
		DEADLINES_LONGOPTS,
		{"soon", required_argument, NULL, 's'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int ch, rc;

	memset(o, 0, sizeof(*o));
	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if ((rc = deadlines_opt(o, ch, optarg, "due")) != 0) {
			if (rc != 1)
				return ppx_exit_code(rc);
			continue;
		}
		if (ch == 's') {
			if ((rc = parse_soon(soon, optarg)) != 0)
				return rc;
		} else if (ch == 'h') {
			fputs(usage, stdout);
			return 1;
		} else {
			fputs(usage, stderr);
			return PPX_EXIT_USAGE;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "ppx due: unexpected argument %s\n%s",
			argv[optind], usage);
		return PPX_EXIT_USAGE;
	}
	return 0;
}

int cmd_due(int argc, char **argv)
{
	struct deadlines_opts o;
	struct deadlines_run r;
	struct due_list l = {0};
	long soon = -1;		/* not given */
	int rc = due_parse(&o, &soon, argc, argv);

	if (rc != 0)
		return rc == 1 ? PPX_EXIT_OK : rc;
	if ((rc = deadlines_run_open(&r, &o, "due")) != 0) {
		deadlines_run_close(&r);
		return ppx_exit_code(rc);
	}
	l.soon = soon >= 0 ? soon : r.cfg.due_soon_days;
	l.as_of = r.as_of;
	l.agency = r.agency;
	if (ppx_workdays_add(&l.until, r.cal, l.as_of, (int)l.soon) != 0 ||
	    due_select(&l, &r) != 0) {
		fprintf(stderr, "ppx due: %s\n", ppx_error_last());
		deadlines_run_close(&r);
		free(l.items);
		return PPX_EXIT_UNAVAILABLE;
	}
	if (o.format == FORMAT_JSON)
		print_json(&l);
	else if (o.format == FORMAT_CSV)
		print_csv(&l);
	else
		print_text(&l);
	rc = l.n_overdue ? PPX_EXIT_NO : PPX_EXIT_OK;
	free(l.items);
	deadlines_run_close(&r);
	return rc;
}
