/*
 * cmd_subject.c — `ppx subject ID`: one subject's history across every
 * partner, read-only.
 *
 * A subject is known by several identifiers, one per system (PNC, CRO,
 * nDelius CRN, NOMIS prison number, ViSOR), and a message carries
 * whichever its sender holds.  Starting from the identifier given, this
 * follows the log's subject index: every message that names it, then
 * every message naming any other identifier those messages carried with
 * it, and so on (--exact stops after the first step).  The identifiers
 * found are printed, so that a wrongly linked identifier shows.
 *
 * It prints the names seen, the partners involved (sent to, received
 * from), the history oldest first, and what is still unacknowledged where
 * an acknowledgement was asked for (ack_deadline_ms > 0): messages we
 * received and have not acknowledged, and messages we sent that a
 * recipient has not.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "client.h"
#include "logread.h"
#include "ppx/error.h"

#define SUBJECT_MAX_KEYS 64	/* linked identifiers followed */
#define SUBJECT_MAX_NAMES 32
#define SUBJECT_MAX_PARTNERS 128

static const char usage[] =
	"usage: ppx subject ID [--log DIR | --config FILE] [--exact] "
	"[FILTERS] [--json]\n"
	"One subject's history across every partner: what was sent and\n"
	"received about them, from and to whom, when, its delivery, and what\n"
	"is still unacknowledged where an acknowledgement was asked for.\n"
	"ID is pnc:ID, cro:ID, crn:ID, prison:ID or visor:ID, or a bare ID\n"
	"matched under any of them.  Identifiers that messages carry together\n"
	"are followed (a message naming pnc:A and crn:B links them) unless\n"
	"--exact is given.  Exit 1 if the log holds nothing about ID.\n"
	LR_WHERE_HELP LR_FILTER_HELP;

struct partner_count {
	char agency[128];
	size_t sent, received;
};

struct history {
	logread *lr;
	const struct lr_opts *o;
	char *keys[SUBJECT_MAX_KEYS];	/* [0] is the identifier asked for */
	size_t n_keys;
	int keys_capped;
	json_object *names, *births;	/* arrays of distinct strings */
	struct partner_count partners[SUBJECT_MAX_PARTNERS];
	size_t n_partners;
	json_object *entries;		/* --json: the entries */
	json_object *pending;		/* what awaits acknowledgement */
	FILE *lines;			/* text: the history table */
	size_t n_entries;
};

static int add_key(struct history *h, const char *key)
{
	for (size_t i = 0; i < h->n_keys; i++)
		if (strcmp(h->keys[i], key) == 0)
			return 0;
	if (h->n_keys == SUBJECT_MAX_KEYS) {
		h->keys_capped = 1;
		return 0;
	}
	if (!(h->keys[h->n_keys] = strdup(key)))
		return ppx_error_set(PPX_ENOMEM, "out of memory");
	h->n_keys++;
	return 0;
}

/* The subject keys of entry seq become known identifiers. */
static int keys_of(struct history *h, uint64_t seq)
{
	Ppx__V1__LogEntry *e = NULL;
	int rc = ppx_log_get(logread_log(h->lr), seq, &e);

	for (size_t i = 0; rc == 0 && i < e->n_subject_keys; i++)
		rc = add_key(h, e->subject_keys[i]);
	if (e)
		ppx__v1__log_entry__free_unpacked(e, NULL);
	return rc == PPX_ECORRUPT ? 0 : rc;
}

static int seq_cmp(const void *a, const void *b)
{
	const uint64_t *x = a, *y = b;

	return *x < *y ? -1 : *x > *y;
}

/* Sort a[0..*n) and drop repeats. */
static void unique(uint64_t *a, size_t *n)
{
	size_t k = 0;

	if (*n < 2)
		return;
	qsort(a, *n, sizeof(*a), seq_cmp);
	for (size_t i = 1; i < *n; i++)
		if (a[i] != a[k])
			a[++k] = a[i];
	*n = k + 1;
}

/* The entries about the subject, ascending, following linked keys. */
static int find_entries(struct history *h, uint64_t **all, size_t *n)
{
	int rc = 0;

	*all = NULL;
	*n = 0;
	for (size_t i = 0; rc == 0 && i < h->n_keys; i++) {
		uint64_t *seqs = NULL, *g;
		size_t m = 0;

		if (i > 0 && h->o->exact)
			break;
		rc = logread_by_subject(h->lr, h->keys[i], &seqs, &m);
		for (size_t k = 0; rc == 0 && k < m; k++)
			rc = keys_of(h, seqs[k]);
		if (rc == 0 && m > 0 &&
		    !(g = realloc(*all, (*n + m) * sizeof(*g))))
			rc = ppx_error_set(PPX_ENOMEM, "out of memory");
		else if (rc == 0 && m > 0) {
			memcpy(g + *n, seqs, m * sizeof(*g));
			*all = g;
			*n += m;
		}
		free(seqs);
	}
	unique(*all, n);
	return rc;
}

static void add_distinct(json_object *a, const char *s)
{
	if (!s || !s[0])
		return;
	for (size_t i = 0; i < json_object_array_length(a); i++)
		if (strcmp(json_object_get_string(
				   json_object_array_get_idx(a, i)), s) == 0)
			return;
	if (json_object_array_length(a) < SUBJECT_MAX_NAMES)
		json_object_array_add(a, lr_json_string(s));
}

static struct partner_count *partner(struct history *h, const char *agency)
{
	for (size_t i = 0; i < h->n_partners; i++)
		if (strcmp(h->partners[i].agency, agency) == 0)
			return &h->partners[i];
	if (h->n_partners == SUBJECT_MAX_PARTNERS)
		return NULL;
	snprintf(h->partners[h->n_partners].agency,
		 sizeof(h->partners[0].agency), "%s", agency);
	return &h->partners[h->n_partners++];
}

/* One party that has not acknowledged what was asked for. */
static void add_pending(struct history *h, const struct lr_entry *ent,
			const struct lr_party *p)
{
	json_object *o = json_object_new_object();
	char what[512], when[32];

	lr_describe(what, sizeof(what), ent);
	lr_format_time(when, sizeof(when), ent->body->ack_deadline_ms);
	json_object_object_add(o, "seq", json_object_new_uint64(ent->seq));
	json_object_object_add(o, "message_id", lr_json_string(ent->id));
	json_object_object_add(o, "direction",
			       lr_json_string(lr_dir_name(ent->dir)));
	json_object_object_add(o, "partner", lr_json_string(p->partner));
	json_object_object_add(o, "waiting_for",
			       lr_json_string(ent->dir == LR_DIR_IN ? "us"
								    : p->partner));
	json_object_object_add(o, "what", lr_json_string(what));
	json_object_object_add(o, "ack_deadline", lr_json_string(when));
	json_object_object_add(o, "overdue",
			       json_object_new_boolean(ent->ack ==
						       LR_ACK_OVERDUE));
	json_object_array_add(h->pending, o);
}

/* What a message adds to the summary: names, partners, pending acks. */
static void note_message(struct history *h, const struct lr_entry *ent)
{
	const Ppx__V1__Body *b = ent->body;

	if (b->subject) {
		add_distinct(h->names, b->subject->name);
		for (size_t i = 0; i < b->subject->n_aliases; i++)
			add_distinct(h->names, b->subject->aliases[i]);
		add_distinct(h->births, b->subject->date_of_birth);
	}
	for (size_t i = 0; i < ent->n_parties; i++) {
		const struct lr_party *p = &ent->parties[i];
		struct partner_count *c = partner(h, p->partner);
		int refused = p->delivery.state ==
			      PPX__V1__DELIVERY_STATE__DELIVERY_REFUSED;

		if (c && ent->dir == LR_DIR_OUT)
			c->sent++;
		else if (c)
			c->received++;
		if (b->ack_deadline_ms > 0 && !p->acked && !refused &&
		    b->payload_case != PPX__V1__BODY__PAYLOAD_ACKNOWLEDGEMENT)
			add_pending(h, ent, p);
	}
}

static int record(void *ctx, struct lr_entry *ent)
{
	struct history *h = ctx;

	h->n_entries++;
	if (ent->body)
		note_message(h, ent);
	if (h->lines)
		lr_entry_line(h->lines, ent);
	else
		json_object_array_add(h->entries, lr_entry_json(ent, 0));
	return 0;
}

static int walk(struct history *h, const uint64_t *seqs, size_t n)
{
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < n; i++) {
		struct lr_entry ent;

		rc = logread_get(h->lr, &ent, seqs[i]);
		if (rc == PPX_ECORRUPT) {
			fprintf(stderr, "ppx subject: %s\n", ppx_error_last());
			rc = 0;
			continue;
		}
		if (rc == 0 && lr_match(h->lr, &h->o->filter, &ent))
			rc = record(h, &ent);
		lr_entry_clear(&ent);
	}
	return rc;
}

static void print_strings(const char *label, json_object *a)
{
	if (json_object_array_length(a) == 0)
		return;
	printf("  %s:", label);
	for (size_t i = 0; i < json_object_array_length(a); i++) {
		printf("%s", i ? ", " : " ");
		lr_print_clean(stdout, json_object_get_string(
					       json_object_array_get_idx(a, i)));
	}
	putchar('\n');
}

static const char *field(json_object *o, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(o, key, &v) ? json_object_get_string(v)
						     : "";
}

static void print_pending(const struct history *h)
{
	size_t n = json_object_array_length(h->pending);

	if (n == 0) {
		printf("\nnothing that asked for an acknowledgement is "
		       "waiting for one\n");
		return;
	}
	printf("\nstill unacknowledged (an acknowledgement was asked for):\n");
	for (size_t i = 0; i < n; i++) {
		json_object *p = json_object_array_get_idx(h->pending, i);
		int in = strcmp(field(p, "direction"), "in") == 0;

		printf("  seq %-6s %s  ", field(p, "seq"), field(p, "message_id"));
		lr_print_clean(stdout, field(p, "what"));
		printf("\n    %s %s, %s not acknowledged it; due by %s%s\n",
		       in ? "received from" : "sent to", field(p, "partner"),
		       in ? "and we have" : "who has", field(p, "ack_deadline"),
		       strcmp(field(p, "overdue"), "true") == 0 ? ", OVERDUE"
								 : "");
	}
}

static void print_text(struct history *h, const char *table, size_t len)
{
	printf("subject %s\n  identifiers:", h->keys[0]);
	for (size_t i = 0; i < h->n_keys; i++)
		if (strchr(h->keys[i], ':')) {
			putchar(' ');
			lr_print_clean(stdout, h->keys[i]);
		}
	printf("%s\n", h->keys_capped ? " (and more; see --exact)" : "");
	print_strings("names", h->names);
	print_strings("born", h->births);
	printf("  partners:");
	for (size_t i = 0; i < h->n_partners; i++)
		printf("%s %s (sent %zu, received %zu)", i ? "," : "",
		       h->partners[i].agency, h->partners[i].sent,
		       h->partners[i].received);
	printf("%s\n\nhistory, oldest first (%zu entr%s):\n",
	       h->n_partners ? "" : " none", h->n_entries,
	       h->n_entries == 1 ? "y" : "ies");
	lr_table_header(stdout);
	fwrite(table, 1, len, stdout);
	print_pending(h);
}

static void print_json(struct history *h)
{
	json_object *o = json_object_new_object(), *ids, *ps;

	json_object_object_add(o, "subject", lr_json_string(h->keys[0]));
	ids = json_object_new_array();
	for (size_t i = 0; i < h->n_keys; i++)
		if (strchr(h->keys[i], ':'))
			json_object_array_add(ids, lr_json_string(h->keys[i]));
	json_object_object_add(o, "identifiers", ids);
	json_object_object_add(o, "names", json_object_get(h->names));
	json_object_object_add(o, "dates_of_birth", json_object_get(h->births));
	ps = json_object_new_array();
	for (size_t i = 0; i < h->n_partners; i++) {
		json_object *p = json_object_new_object();

		json_object_object_add(p, "agency", lr_json_string(
					       h->partners[i].agency));
		json_object_object_add(p, "sent", json_object_new_uint64(
					       h->partners[i].sent));
		json_object_object_add(p, "received", json_object_new_uint64(
					       h->partners[i].received));
		json_object_array_add(ps, p);
	}
	json_object_object_add(o, "partners", ps);
	json_object_object_add(o, "entries", json_object_get(h->entries));
	json_object_object_add(o, "unacknowledged",
			       json_object_get(h->pending));
	lr_json_write(stdout, o, JSON_C_TO_STRING_PRETTY |
				  JSON_C_TO_STRING_SPACED);
	json_object_put(o);
}

/* Find, walk and print; an exit code. */
static int run(struct history *h)
{
	uint64_t *seqs = NULL;
	size_t n = 0, len = 0;
	char *table = NULL;
	int rc = find_entries(h, &seqs, &n);

	if (rc == 0 && n == 0) {
		free(seqs);
		fprintf(stderr, "ppx subject: nothing about %s in log %s "
			"(identifiers must match exactly: check it, or give "
			"it bare to match any scheme)\n", h->keys[0],
			logread_dir(h->lr));
		return PPX_EXIT_NO;
	}
	if (rc == 0 && !h->o->json && !(h->lines = open_memstream(&table, &len)))
		rc = ppx_error_set(PPX_ENOMEM, "out of memory");
	if (rc == 0)
		rc = walk(h, seqs, n);
	free(seqs);
	if (h->lines)
		fclose(h->lines);
	if (rc == 0 && h->o->json)
		print_json(h);
	else if (rc == 0)
		print_text(h, table, len);
	free(table);
	if (rc != 0)
		return lr_fail(h->o->cmd, rc);
	return ppx_exit_code(lr_flush(h->o->cmd, stdout, "standard output"));
}

int cmd_subject(int argc, char **argv)
{
	struct lr_opts o;
	struct history h = {0};
	int rc = lr_opts_parse(&o, argc, argv, LR_OPT_FILTERS | LR_OPT_EXACT, 1,
			       usage);

	if (rc != 0)
		return rc == 1 ? PPX_EXIT_OK : ppx_exit_code(rc);
	if (o.filter.subject) {
		fprintf(stderr, "ppx subject: give the identifier as the "
			"argument, not with --subject\n%s", usage);
		return PPX_EXIT_USAGE;
	}
	if (lr_subject_check(o.args[0]) != 0)
		return lr_fail(o.cmd, PPX_EINVAL);
	if ((rc = logread_open(&h.lr, &o)) != 0)
		return lr_fail(o.cmd, rc);
	h.o = &o;
	h.names = json_object_new_array();
	h.births = json_object_new_array();
	h.entries = json_object_new_array();
	h.pending = json_object_new_array();
	rc = add_key(&h, o.args[0]);
	rc = rc == 0 ? run(&h) : lr_fail(o.cmd, rc);
	for (size_t i = 0; i < h.n_keys; i++)
		free(h.keys[i]);
	json_object_put(h.names);
	json_object_put(h.births);
	json_object_put(h.entries);
	json_object_put(h.pending);
	logread_close(h.lr);
	return rc;
}
