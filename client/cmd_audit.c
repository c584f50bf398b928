/*
 * cmd_audit.c — `ppx audit SUBJECT`: every entry about one person in this
 * log, as an account of who did what, when and why; the answer to a
 * subject access request or an inquiry.  Read-only.
 *
 * The entries are found as `ppx subject` finds them: through the log's
 * subject index, an identifier given bare matching under every scheme,
 * following the other identifiers those entries carry (--exact: only the
 * "record:<id>" keys of the subject's partner records, so that every
 * version of their record is in).  Then for each message about the
 * subject its consequences are added although they name no subject: the
 * partners' receipts (delivered, or refused and why, as logread.c works
 * delivery out per party) and the acknowledgements of it.
 *
 * Each becomes a row: seq, time, action (sent, received, delivered,
 * refused, acknowledged, disclosure decided, read, emergency read or
 * sent, reviewed, hook quarantine, ...), the person (the Body's
 * sender_person for a message; the entry's person for a read, an
 * acknowledgement or a review), their agency, the partner concerned,
 * what (family, kind, message id; the command and scope of a read) and
 * why (the reason of a read, a refusal's reason and detail, a
 * disclosure's outcome and rationale, an emergency's reason, a review's
 * finding).  Rows are in log order; a delivery row has the seq of the
 * receipt that settled it.
 *
 * Output: a table (default), CSV (--format csv; RFC 4180, fields made
 * inert for spreadsheets), JSON Lines (--format jsonl, one row a line) or
 * one JSON document (--json).  Text from partners goes through
 * lr_print_clean(), the CSV quoting and JSON strings, never raw.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "client.h"
#include "deadlines.h"
#include "logread.h"
#include "ppx/error.h"
#include "ppx/records.h"

#define AUDIT_MAX_KEYS 64	/* linked identifiers followed */
#define AUDIT_WHY_MAX 2048

static const char usage[] =
	"usage: ppx audit ID [--log DIR | --config FILE] [--exact] [FILTERS]\n"
	"                 [--format csv|jsonl | --json]\n"
	"Every entry about one person, as who did what, when and why: what\n"
	"was sent and received about them, delivered or refused and why,\n"
	"acknowledged, disclosed, read (and the reason given), emergency\n"
	"access and its review.  ID is pnc:ID, cro:ID, crn:ID, prison:ID or\n"
	"visor:ID, or a bare ID matched under any of them; identifiers that\n"
	"entries carry together are followed unless --exact is given (the\n"
	"subject's partner records are followed always).  A table, or CSV,\n"
	"JSON Lines (one row a line) or one JSON document (--json).  Exit 1\n"
	"if the log holds nothing about ID.\n"
	LR_WHERE_HELP LR_FILTER_HELP;

static const char *const columns[] = {
	"seq", "time", "action", "direction", "person", "person_name",
	"agency", "partner", "entry", "family", "message_id", "what", "why",
	"emergency",
};
#define N_COLUMNS (sizeof(columns) / sizeof(columns[0]))

struct row {
	uint64_t seq;
	size_t order;		/* rows of one seq keep the order made */
	json_object *o;
};

struct audit {
	logread *lr;
	const struct lr_opts *o;
	char *keys[AUDIT_MAX_KEYS];	/* [0] is the identifier asked for */
	size_t n_keys;
	int keys_capped;
	uint64_t *seqs;			/* the entries found, ascending */
	size_t n_seqs;
	uint64_t *extra;		/* acknowledgements of their messages */
	size_t n_extra, cap_extra;
	struct row *rows;
	size_t n_rows, cap_rows;
	int rc;				/* the first failure, sticky */
};

/* ---- finding the entries ---------------------------------------------- */

static int add_key(struct audit *a, const char *key)
{
	for (size_t i = 0; i < a->n_keys; i++)
		if (strcmp(a->keys[i], key) == 0)
			return 0;
	if (a->n_keys == AUDIT_MAX_KEYS) {
		a->keys_capped = 1;
		return 0;
	}
	if (!(a->keys[a->n_keys] = strdup(key)))
		return ppx_error_set(PPX_ENOMEM, "out of memory");
	a->n_keys++;
	return 0;
}

static int is_record_key(const char *key)
{
	return strncmp(key, PPX_RECORDS_KEY_PREFIX,
		       sizeof(PPX_RECORDS_KEY_PREFIX) - 1) == 0;
}

/* The subject keys of entry seq become keys to follow: all of them, or
 * with --exact those of partner records. */
static int keys_of(struct audit *a, uint64_t seq)
{
	Ppx__V1__LogEntry *e = NULL;
	int rc = ppx_log_get(logread_log(a->lr), seq, &e);

	for (size_t i = 0; rc == 0 && i < e->n_subject_keys; i++)
		if (!a->o->exact || is_record_key(e->subject_keys[i]))
			rc = add_key(a, e->subject_keys[i]);
	if (e)
		ppx__v1__log_entry__free_unpacked(e, NULL);
	return rc == PPX_ECORRUPT ? 0 : rc;
}

/* The entries under key: a "record:" key as it is, any other through
 * logread (a bare identifier under every scheme). */
static int by_key(struct audit *a, const char *key, uint64_t **seqs,
		  size_t *n)
{
	if (is_record_key(key))
		return ppx_log_by_subject(logread_log(a->lr), key, seqs, n,
					  SIZE_MAX / sizeof(uint64_t));
	return logread_by_subject(a->lr, key, seqs, n);
}

static int append_seqs(uint64_t **all, size_t *n, const uint64_t *more,
		       size_t m)
{
	uint64_t *g;

	if (m == 0)
		return 0;
	if (!(g = realloc(*all, (*n + m) * sizeof(*g))))
		return ppx_error_set(PPX_ENOMEM, "out of memory");
	memcpy(g + *n, more, m * sizeof(*g));
	*all = g;
	*n += m;
	return 0;
}

static int find_entries(struct audit *a)
{
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < a->n_keys; i++) {
		uint64_t *seqs = NULL;
		size_t m = 0;

		rc = by_key(a, a->keys[i], &seqs, &m);
		for (size_t k = 0; rc == 0 && k < m; k++)
			rc = keys_of(a, seqs[k]);
		if (rc == 0)
			rc = append_seqs(&a->seqs, &a->n_seqs, seqs, m);
		free(seqs);
	}
	lr_seqs_unique(a->seqs, &a->n_seqs);
	return rc;
}

static int found(const struct audit *a, uint64_t seq)
{
	return lr_seqs_has(a->seqs, a->n_seqs, seq);
}

/* ---- rows ------------------------------------------------------------- */

static void fail(struct audit *a, int rc)
{
	if (a->rc == 0)
		a->rc = rc;
}

static json_object *row_new(struct audit *a, uint64_t seq, int64_t ms,
			    const char *action)
{
	json_object *o;
	char when[32];

	if (a->n_rows == a->cap_rows) {
		size_t cap = a->cap_rows ? 2 * a->cap_rows : 64;
		struct row *g = realloc(a->rows, cap * sizeof(*g));

		if (!g) {
			fail(a, ppx_error_set(PPX_ENOMEM, "out of memory"));
			return NULL;
		}
		a->rows = g;
		a->cap_rows = cap;
	}
	o = json_object_new_object();
	lr_format_time(when, sizeof(when), ms);
	json_object_object_add(o, "seq", json_object_new_uint64(seq));
	json_object_object_add(o, "time", lr_json_string(when));
	json_object_object_add(o, "action", lr_json_string(action));
	a->rows[a->n_rows] = (struct row){seq, a->n_rows, o};
	a->n_rows++;
	return o;
}

/* Set o[key] = s (NULL: ""). */
static void put(json_object *o, const char *key, const char *s)
{
	json_object_object_add(o, key, lr_json_string(s ? s : ""));
}

/* The acting person of a message: id, else name. */
static void put_person(json_object *o, const Ppx__V1__Person *p)
{
	put(o, "person", p ? (p->id && p->id[0] ? p->id : p->name) : "");
	put(o, "person_name", p ? p->name : "");
}

/* The name of value v of a protobuf enum, or "". */
static const char *enum_name(const ProtobufCEnumDescriptor *d, int v)
{
	const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value(d,
									    v);

	return ev ? ev->name : "";
}

/* Why, for an emergency access: the reason and the review it owes. */
static void why_emergency(char *out, size_t cap, const Ppx__V1__Access *acc,
			  const Ppx__V1__Body *b)
{
	const char *reason = acc->reason && acc->reason[0] ? acc->reason
			     : b && b->emergency ? b->emergency->reason : "";
	char due[32] = "";

	lr_format_time(due, sizeof(due), acc->review_due_ms);
	snprintf(out, cap, "emergency: %s%s%s%s%s", reason,
		 acc->reviewer && acc->reviewer[0] ? "; review owed by " : "",
		 acc->reviewer ? acc->reviewer : "", due[0] ? " by " : "", due);
}

/* Why, for a disclosure decision: its outcome, legal basis, rationale. */
static void why_disclosure(char *out, size_t cap,
			   const Ppx__V1__DisclosureDecision *d)
{
	snprintf(out, cap, "%s%s%s%s%s",
		 enum_name(&ppx__v1__disclosure_outcome__descriptor,
			   (int)d->decision),
		 d->legal_basis ? " under " : "",
		 d->legal_basis ? enum_name(&ppx__v1__legal_basis__descriptor,
					    (int)d->legal_basis) : "",
		 d->rationale && d->rationale[0] ? ": " : "",
		 d->rationale ? d->rationale : "");
}

static int is_emergency(const Ppx__V1__LogEntry *e)
{
	return e->access && e->access->emergency;
}

/* The verb of a message entry. */
static const char *message_action(const struct lr_entry *ent)
{
	const Ppx__V1__Body *b = ent->body;
	int out = ent->dir == LR_DIR_OUT;

	if (b && b->payload_case == PPX__V1__BODY__PAYLOAD_ACKNOWLEDGEMENT)
		return "acknowledged";
	if (b && b->payload_case == PPX__V1__BODY__PAYLOAD_DISCLOSURE)
		return "disclosure decided";
	if (is_emergency(ent->e))
		return out ? "emergency sent" : "emergency received";
	return out ? "sent" : "received";
}

/* The recipients of what we sent, "a, b"; or who sent what we received. */
static void partners_of(char *out, size_t cap, const struct lr_entry *ent)
{
	const Ppx__V1__Body *b = ent->body;
	size_t at = 0;

	out[0] = '\0';
	if (ent->dir != LR_DIR_OUT) {
		snprintf(out, cap, "%s", ent->e->peer_agency);
		return;
	}
	for (size_t i = 0; i < b->n_recipients && at < cap; i++) {
		int n = snprintf(out + at, cap - at, "%s%s", i ? ", " : "",
				 b->recipients[i]);

		at += n > 0 ? (size_t)n : 0;
	}
}

/* Keep the acknowledgement of a party to add as a row of its own. */
static void note_ack(struct audit *a, uint64_t seq)
{
	if (found(a, seq))
		return;
	if (a->n_extra == a->cap_extra) {
		size_t cap = a->cap_extra ? 2 * a->cap_extra : 16;
		uint64_t *g = realloc(a->extra, cap * sizeof(*g));

		if (!g) {
			fail(a, ppx_error_set(PPX_ENOMEM, "out of memory"));
			return;
		}
		a->extra = g;
		a->cap_extra = cap;
	}
	a->extra[a->n_extra++] = seq;
}

/* A partner's receipt settled the delivery of what we sent to them. */
static void delivery_row(struct audit *a, const struct lr_entry *ent,
			 const struct lr_party *p)
{
	const struct ppx_delivery *dv = &p->delivery;
	int refused = dv->state == PPX__V1__DELIVERY_STATE__DELIVERY_REFUSED;
	Ppx__V1__LogEntry *r = NULL;
	char why[AUDIT_WHY_MAX] = "", what[256];
	json_object *o;

	if (ppx_log_get(logread_log(a->lr), dv->receipt_seq, &r) != 0) {
		ppx_error_clear();
		return;
	}
	o = row_new(a, dv->receipt_seq, r->time_ms,
		    refused ? "refused" : "delivered");
	ppx__v1__log_entry__free_unpacked(r, NULL);
	if (!o)
		return;
	if (refused)
		snprintf(why, sizeof(why), "%s%s%s", lr_reason_name(dv->reason),
			 dv->detail[0] ? ": " : "", dv->detail);
	snprintf(what, sizeof(what), "receipt for %s %.8s",
		 lr_family_name(ent), ent->id);
	put(o, "direction", "in");
	put(o, "person", "");
	put(o, "person_name", "");
	put(o, "agency", p->partner);
	put(o, "partner", p->partner);
	put(o, "entry", "ENTRY_RECEIPT_RECEIVED");
	put(o, "family", lr_family_name(ent));
	put(o, "message_id", ent->id);
	put(o, "what", what);
	put(o, "why", why);
	json_object_object_add(o, "emergency", json_object_new_boolean(0));
}

/* A SENT or RECEIVED entry, then its deliveries; its acknowledgements
 * are kept for later. */
static void message_rows(struct audit *a, const struct lr_entry *ent)
{
	const Ppx__V1__Body *b = ent->body;
	char what[512], why[AUDIT_WHY_MAX] = "", partners[1024];
	json_object *o = row_new(a, ent->seq, ent->e->time_ms,
				 message_action(ent));

	if (!o)
		return;
	lr_describe(what, sizeof(what), ent);
	partners_of(partners, sizeof(partners), ent);
	if (is_emergency(ent->e))
		why_emergency(why, sizeof(why), ent->e->access, b);
	else if (b->payload_case == PPX__V1__BODY__PAYLOAD_DISCLOSURE)
		why_disclosure(why, sizeof(why), b->disclosure);
	put(o, "direction", lr_dir_name(ent->dir));
	put_person(o, b->sender_person);
	put(o, "agency", b->sender_agency);
	put(o, "partner", partners);
	put(o, "what", what);
	put(o, "why", why);
	for (size_t i = 0; i < ent->n_parties; i++) {
		const struct lr_party *p = &ent->parties[i];

		if (ent->dir == LR_DIR_OUT && p->delivery.has_receipt)
			delivery_row(a, ent, p);
		if (p->acked)
			note_ack(a, p->ack_seq);
	}
}

/* What a READ entry says was read: "ppx show 1a2b... (2 messages)". */
static void read_what(char *out, size_t cap, const Ppx__V1__LogEntry *e)
{
	const Ppx__V1__Access *acc = e->access;

	snprintf(out, cap, "ppx %s%s%s%s", acc && acc->command ? acc->command
					   : "?", acc && acc->scope &&
		 acc->scope[0] ? " " : "", acc && acc->scope ? acc->scope : "",
		 acc && acc->direct ? " (read the files directly)" : "");
}

/* Action, what and why of an entry that is not a message. */
static void other_fields(const struct lr_entry *ent, const char **action,
			 char *what, size_t wcap, char *why, size_t ycap)
{
	const Ppx__V1__LogEntry *e = ent->e;
	const Ppx__V1__Access *acc = e->access;

	lr_describe(what, wcap, ent);
	switch (e->kind) {
	case PPX__V1__ENTRY_KIND__ENTRY_READ:
		*action = is_emergency(e) ? "emergency read" : "read";
		read_what(what, wcap, e);
		if (is_emergency(e))
			why_emergency(why, ycap, acc, NULL);
		else
			snprintf(why, ycap, "%s", acc ? acc->reason : "");
		return;
	case PPX__V1__ENTRY_KIND__ENTRY_REVIEW:
		*action = "reviewed";
		snprintf(what, wcap, "review of the emergency access at entry "
			 "%" PRIu64, e->related_seq);
		snprintf(why, ycap, "%s: %s", acc && acc->justified
			 ? "justified" : "not justified",
			 acc ? acc->reason : "");
		return;
	case PPX__V1__ENTRY_KIND__ENTRY_ACKNOWLEDGED:
		*action = "acknowledged";
		snprintf(what, wcap, "took on message %.8s", ent->id);
		snprintf(why, ycap, "%s", e->detail);
		return;
	case PPX__V1__ENTRY_KIND__ENTRY_REJECTED:
		*action = "refused";
		snprintf(what, wcap, "%s from %s refused here",
			 e->family[0] ? e->family : "a message", e->peer_agency);
		snprintf(why, ycap, "%s%s%s", lr_reason_name(e->reason),
			 e->detail[0] ? ": " : "", e->detail);
		return;
	case PPX__V1__ENTRY_KIND__ENTRY_HOOK_QUARANTINE:
		*action = "hook quarantine";
		break;
	case PPX__V1__ENTRY_KIND__ENTRY_HOOK_DECISION:
		*action = "hook decision";
		break;
	default:
		*action = lr_entry_kind_name((int)e->kind);
		break;
	}
	snprintf(why, ycap, "%s", e->detail);
}

static void other_row(struct audit *a, const struct lr_entry *ent)
{
	const Ppx__V1__LogEntry *e = ent->e;
	const char *action = "";
	char what[1024], why[AUDIT_WHY_MAX] = "";
	json_object *o;
	int ours = e->kind != PPX__V1__ENTRY_KIND__ENTRY_REJECTED;

	other_fields(ent, &action, what, sizeof(what), why, sizeof(why));
	if (!(o = row_new(a, ent->seq, e->time_ms, action)))
		return;
	put(o, "direction", lr_dir_name(ent->dir));
	put(o, "person", e->person);
	put(o, "person_name", "");
	put(o, "agency", ours ? ent->agency : e->peer_agency);
	put(o, "partner", e->peer_agency);
	put(o, "what", what);
	put(o, "why", why);
}

/* The row(s) of one entry. */
static int add_entry(void *ctx, struct lr_entry *ent)
{
	struct audit *a = ctx;
	size_t first = a->n_rows;
	int kind = (int)ent->e->kind;

	if (kind == PPX__V1__ENTRY_KIND__ENTRY_RECEIPT_SENT ||
	    kind == PPX__V1__ENTRY_KIND__ENTRY_RECEIPT_RECEIVED)
		return 0;	/* shown as the deliveries of their messages */
	if (ent->body)
		message_rows(a, ent);
	else
		other_row(a, ent);
	if (first < a->n_rows) {
		json_object *o = a->rows[first].o;

		put(o, "entry", lr_entry_kind_name(kind));
		put(o, "family", lr_family_name(ent));
		put(o, "message_id", ent->id);
		json_object_object_add(o, "emergency", json_object_new_boolean(
						       is_emergency(ent->e)));
	}
	return a->rc;
}

/* Rows for entries seqs[0..n), as filtered. */
static int walk(struct audit *a, const uint64_t *seqs, size_t n)
{
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < n; i++) {
		struct lr_entry ent;

		rc = logread_get(a->lr, &ent, seqs[i]);
		if (rc == PPX_ECORRUPT) {
			fprintf(stderr, "ppx audit: %s\n", ppx_error_last());
			rc = 0;
			continue;
		}
		if (rc == 0 && lr_match(a->lr, &a->o->filter, &ent))
			rc = add_entry(a, &ent);
		lr_entry_clear(&ent);
	}
	return rc ? rc : a->rc;
}

static int row_cmp(const void *x, const void *y)
{
	const struct row *p = x, *q = y;

	if (p->seq != q->seq)
		return p->seq < q->seq ? -1 : 1;
	return p->order < q->order ? -1 : p->order > q->order;
}

/* ---- output ----------------------------------------------------------- */

static const char *field(json_object *o, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(o, key, &v) ? json_object_get_string(v)
						     : "";
}

/* s cleaned for a terminal, then spaces to `width` characters. */
static void print_col(const char *s, int width)
{
	int n = 0;

	lr_print_clean(stdout, s);
	for (const char *p = s; *p; p++)
		n += ((unsigned char)*p & 0xc0) != 0x80;
	do
		putchar(' ');
	while (++n < width);
}

static void print_table(const struct audit *a)
{
	printf("audit of %s in log %s", a->keys[0], logread_dir(a->lr));
	printf("\n  identifiers:");
	for (size_t i = 0; i < a->n_keys; i++) {
		putchar(' ');
		lr_print_clean(stdout, a->keys[i]);
	}
	printf("%s\n  %zu row%s, oldest first\n\n",
	       a->keys_capped ? " (and more)" : "", a->n_rows,
	       a->n_rows == 1 ? "" : "s");
	printf("%-6s %-20s %-20s %-16s %-18s %-18s %s\n", "SEQ", "TIME",
	       "ACTION", "PERSON", "AGENCY", "PARTNER", "WHAT | WHY");
	for (size_t i = 0; i < a->n_rows; i++) {
		json_object *o = a->rows[i].o;

		printf("%-6s ", field(o, "seq"));
		print_col(field(o, "time"), 20);
		print_col(field(o, "action"), 20);
		print_col(field(o, "person"), 16);
		print_col(field(o, "agency"), 18);
		print_col(field(o, "partner"), 18);
		lr_print_clean(stdout, field(o, "what"));
		if (field(o, "why")[0]) {
			fputs(" | ", stdout);
			lr_print_clean(stdout, field(o, "why"));
		}
		putchar('\n');
	}
}

static void print_csv(const struct audit *a)
{
	for (size_t i = 0; i < N_COLUMNS; i++)
		printf("%s%s", i ? "," : "", columns[i]);
	fputs("\r\n", stdout);
	for (size_t r = 0; r < a->n_rows; r++) {
		for (size_t i = 0; i < N_COLUMNS; i++) {
			if (i)
				putchar(',');
			deadlines_csv_field(stdout, field(a->rows[r].o,
							  columns[i]));
		}
		fputs("\r\n", stdout);
	}
}

static void print_json(const struct audit *a)
{
	json_object *doc = json_object_new_object(), *ids, *rows;

	put(doc, "subject", a->keys[0]);
	ids = json_object_new_array();
	for (size_t i = 0; i < a->n_keys; i++)
		json_object_array_add(ids, lr_json_string(a->keys[i]));
	json_object_object_add(doc, "identifiers", ids);
	rows = json_object_new_array();
	for (size_t i = 0; i < a->n_rows; i++)
		json_object_array_add(rows, json_object_get(a->rows[i].o));
	json_object_object_add(doc, "rows", rows);
	lr_json_write(stdout, doc, JSON_C_TO_STRING_PRETTY |
				       JSON_C_TO_STRING_SPACED);
	json_object_put(doc);
}

static void print(const struct audit *a)
{
	const char *format = a->o->format;

	if (a->o->json)
		print_json(a);
	else if (format && strcmp(format, "csv") == 0)
		print_csv(a);
	else if (format)
		for (size_t i = 0; i < a->n_rows; i++)
			lr_json_line(stdout, a->rows[i].o);
	else
		print_table(a);
}

/* ---- the command ------------------------------------------------------ */

/* Find, walk, sort and print; an exit code. */
static int run(struct audit *a)
{
	int rc = find_entries(a);

	if (rc == 0 && a->n_seqs == 0) {
		fprintf(stderr, "ppx audit: nothing about %s in log %s "
			"(identifiers must match exactly: check it, or give "
			"it bare to match any scheme)\n", a->keys[0],
			logread_dir(a->lr));
		return PPX_EXIT_NO;
	}
	if (rc == 0)
		rc = walk(a, a->seqs, a->n_seqs);
	if (rc == 0) {
		/* Acknowledgements found on the way; any they lead to are
		 * not followed further. */
		uint64_t *extra = a->extra;
		size_t n = a->n_extra;

		a->extra = NULL;
		a->n_extra = a->cap_extra = 0;
		lr_seqs_unique(extra, &n);
		rc = walk(a, extra, n);
		free(extra);
	}
	if (rc != 0)
		return lr_fail(a->o->cmd, rc);
	if (a->n_rows > 1)
		qsort(a->rows, a->n_rows, sizeof(*a->rows), row_cmp);
	print(a);
	return ppx_exit_code(lr_flush(a->o->cmd, stdout, "standard output"));
}

/* The options that make no sense here, refused with a usage error. */
static int check_opts(const struct lr_opts *o)
{
	const char *bad = o->filter.subject ? "give the identifier as the "
					      "argument, not with --subject"
			  : o->output ? "--output: redirect standard output "
					"instead"
			  : o->force ? "--force: there is no --output"
			  : o->json && o->format ? "--json and --format "
						   "disagree; give one"
						 : NULL;

	if (o->format && strcmp(o->format, "csv") != 0 &&
	    strcmp(o->format, "jsonl") != 0)
		bad = "--format is csv or jsonl";
	if (!bad)
		return 0;
	fprintf(stderr, "ppx audit: %s\n%s", bad, usage);
	return PPX_EXIT_USAGE;
}

static void audit_free(struct audit *a)
{
	for (size_t i = 0; i < a->n_keys; i++)
		free(a->keys[i]);
	for (size_t i = 0; i < a->n_rows; i++)
		json_object_put(a->rows[i].o);
	free(a->rows);
	free(a->seqs);
	free(a->extra);
	logread_close(a->lr);
}

int cmd_audit(int argc, char **argv)
{
	struct lr_opts o;
	struct audit a = {0};
	int rc = lr_opts_parse(&o, argc, argv, LR_OPT_FILTERS | LR_OPT_EXACT |
			       LR_OPT_EXPORT, 1, usage);

	if (rc != 0)
		return rc == 1 ? PPX_EXIT_OK : ppx_exit_code(rc);
	if ((rc = check_opts(&o)) != 0)
		return rc;
	if (lr_subject_check(o.args[0]) != 0)
		return lr_fail(o.cmd, PPX_EINVAL);
	if ((rc = logread_open(&a.lr, &o)) != 0)
		return lr_fail(o.cmd, rc);
	a.o = &o;
	rc = add_key(&a, o.args[0]);
	rc = rc == 0 ? run(&a) : lr_fail(o.cmd, rc);
	audit_free(&a);
	return rc;
}
