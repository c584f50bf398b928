/*
 * cmd_show.c — `ppx show ID`: one message in full, read-only.
 *
 * The argument names a message as (sender, id): AGENCY/ID, or an id (or a
 * prefix of one) that fits one sender's message only (msgref.c); an
 * ambiguous one is refused with the candidates.  It finds every entry
 * about that message through the log's message-id index, leaving out
 * those about another sender's message under the same id, and prints: what the message is and who sent it to whom; its
 * delivery to each recipient (QUEUED until that partner's signed receipt
 * is logged, then DELIVERED or REFUSED with the reason); who acknowledged
 * it and when, or that an acknowledgement is still awaited; the log
 * entries about it; and the Body itself as canonical JSON (the project's
 * mapper, pretty-printed).  --json gives all of that as one JSON object,
 * --body only the Body on one line — which `ppx send --json -` accepts
 * back, as an idempotent retry of the same message.
 *
 * Only the sending person is vouched for: a receiver checks that
 * sender_person belongs to the agency that signed.  Every other person a
 * body names (a chair, an action's owner, who decided or approved) is
 * that agency's statement about them, and is shown as such, "stated by"
 * the sender (PROTOCOL.md section 4).  A message a person signed
 * personally says so: "signed by NAME (person certificate FPR...) of
 * AGENCY", or "no personal signature" (PROTOCOL.md 3.2).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "client.h"
#include "logread.h"
#include "ppx/error.h"
#include "ppx/json.h"
#include "ppx/names.h"
#include "ppx/entry.h"
#include "ppx/person.h"
#include "ppx/pki.h"

#define SHOW_MAX_ENTRIES 4096	/* entries about one message listed */

static const char usage[] =
	"usage: ppx show [AGENCY/]ID [--log DIR | --config FILE] [--json | --body]\n"
	"Shows message ID (32 hex digits, as ppx log and ppx send print it,\n"
	"or enough of the first digits to tell it apart) in full: the\n"
	"message as canonical JSON, its delivery to each recipient, its\n"
	"acknowledgements and every log entry about it.  A message id is\n"
	"unique per sender only: AGENCY/ID names the message AGENCY sent;\n"
	"an ID that fits messages of several senders is refused, listing them.\n"
	"--json prints one JSON object; --body prints only the message, on\n"
	"one line (ppx send --json - accepts it back).\n"
	"Exit 0: shown; 1: no such message in this log; 2: usage, or an\n"
	"ambiguous ID; 3: cannot read the log.\n" LR_WHERE_HELP;

/* Every entry about the message; msg is the SENT/RECEIVED one, if any. */
struct shown {
	struct lr_entry *ents;
	size_t n;
	struct lr_entry *msg;
};

static void shown_free(struct shown *s)
{
	for (size_t i = 0; i < s->n; i++)
		lr_entry_clear(&s->ents[i]);
	free(s->ents);
}

/* Every entry about message m: its id, and its sender (another agency's
 * message under the same id is another message). */
static int collect(struct shown *s, logread *lr, const struct lr_ref_match *m)
{
	uint64_t *seqs = NULL;
	size_t n = 0;
	int rc = logread_by_message(lr, m->id, &seqs, &n);

	memset(s, 0, sizeof(*s));
	if (n > SHOW_MAX_ENTRIES)
		n = SHOW_MAX_ENTRIES;
	if (rc == 0 && n > 0 && !(s->ents = calloc(n, sizeof(*s->ents))))
		rc = ppx_error_set(PPX_ENOMEM, "out of memory");
	for (size_t i = 0; rc == 0 && i < n; i++) {
		rc = logread_get(lr, &s->ents[s->n], seqs[i]);
		if (rc == PPX_ECORRUPT) {
			fprintf(stderr, "ppx show: %s\n", ppx_error_last());
			rc = 0;
			continue;
		}
		if (rc == 0 && !lr_ref_owns(m, s->ents[s->n].e)) {
			lr_entry_clear(&s->ents[s->n]);
			continue;
		}
		if (rc == 0 && !s->msg && s->ents[s->n].body)
			s->msg = &s->ents[s->n];
		s->n += rc == 0;
	}
	free(seqs);
	return rc;
}

/* The acknowledgement logged at seq: who, and their note. */
static void ack_who(logread *lr, uint64_t seq, char *who, size_t cap,
		    char *note, size_t ncap)
{
	struct lr_entry a;

	snprintf(who, cap, "?");
	note[0] = '\0';
	if (logread_get(lr, &a, seq) != 0)
		return;
	if (a.body && a.body->acknowledgement &&
	    a.body->acknowledgement->acknowledged_by &&
	    a.body->acknowledgement->acknowledged_by->name[0])
		snprintf(who, cap, "%s",
			 a.body->acknowledgement->acknowledged_by->name);
	else if (a.body && a.body->sender_person)
		snprintf(who, cap, "%s", a.body->sender_person->name);
	else
		snprintf(who, cap, "%s", a.e->person);
	if (a.body && a.body->acknowledgement)
		snprintf(note, ncap, "%s", a.body->acknowledgement->note);
	else
		snprintf(note, ncap, "%s", a.e->detail);
	lr_entry_clear(&a);
}

/* What the receipt proves of the partner's log (PROTOCOL.md 5.3). */
static void print_proof(const struct ppx_delivery *dv)
{
	char when[32];

	printf("\n  %-24s ", "");
	if (dv->proof == PPX_DELIVERY_PROOF_VERIFIED) {
		lr_format_time(when, sizeof(when), dv->checkpoint_ms);
		printf("recorded at their log seq %" PRIu64 ", in their "
		       "checkpoint of size %" PRIu64 " signed at %s: proof "
		       "verified", dv->remote_seq, dv->remote_size, when);
	} else if (dv->proof == PPX_DELIVERY_PROOF_NONE) {
		printf("no proof of recording (the partner sends none)");
	} else {
		printf("proof of recording does NOT verify");
	}
}

static void print_party(logread *lr, const struct lr_entry *m,
			const struct lr_party *p)
{
	const struct ppx_delivery *dv = &p->delivery;
	char when[32], who[160], note[512];

	printf("  %-24s %-10s", p->partner, m->dir == LR_DIR_OUT
	       ? lr_state_name(dv->state) : "stored");
	if (dv->has_receipt && m->dir == LR_DIR_OUT && !dv->reason)
		printf(" receipt at seq %" PRIu64 ", their seq %" PRIu64,
		       dv->receipt_seq, dv->remote_seq);
	if (m->dir == LR_DIR_OUT && !dv->reason && dv->proof)
		print_proof(dv);
	else if (dv->has_receipt && m->dir == LR_DIR_OUT)
		printf(" receipt at seq %" PRIu64, dv->receipt_seq);
	else if (dv->has_receipt)
		printf(" our receipt at seq %" PRIu64, dv->receipt_seq);
	if (dv->reason) {
		printf(": %s%s", lr_reason_name(dv->reason),
		       dv->detail[0] ? ": " : "");
		lr_print_clean(stdout, dv->detail);
	}
	if (p->acked) {
		lr_format_time(when, sizeof(when), p->ack_ms);
		ack_who(lr, p->ack_seq, who, sizeof(who), note, sizeof(note));
		printf("\n  %-24s acknowledged %s by ", "", when);
		lr_print_clean(stdout, who);
		printf(" (seq %" PRIu64 ")", p->ack_seq);
		if (note[0]) {
			printf(": ");
			lr_print_clean(stdout, note);
		}
	} else if (m->body->ack_deadline_ms > 0 &&
		   dv->state != PPX__V1__DELIVERY_STATE__DELIVERY_REFUSED) {
		lr_format_time(when, sizeof(when), m->body->ack_deadline_ms);
		printf("\n  %-24s not acknowledged; due by %s", "", when);
	}
	putchar('\n');
}

static const char *or_unknown(const char *name)
{
	return name ? name : "?";
}

/* The messages this one answers or replaces. */
static void print_ids(const Ppx__V1__Body *b)
{
	char hex[LR_ID_HEX];

	lr_hex_id(hex, &b->replies_to);
	if (hex[0])
		printf("in reply to %s\n  ", hex);
	lr_hex_id(hex, &b->supersedes);
	if (hex[0])
		printf("supersedes %s\n  ", hex);
}

/* ---- the persons a body names ---------------------------------------- */

typedef void person_fn(void *ctx, const char *path, const Ppx__V1__Person *p);

/* Call `fn` for every Person in `m` below `path`, by the descriptors (so
 * that a Person field added to ppx.proto is shown too). */
static void persons_walk(const ProtobufCMessage *m, char *path, size_t len,
			 int depth, person_fn *fn, void *ctx)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;

	for (unsigned i = 0; i < d->n_fields && depth < 16; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		const char *base = (const char *)m;
		const size_t *q = (const size_t *)(base + f->quantifier_offset);
		ProtobufCMessage *const *v =
			(ProtobufCMessage *const *)(base + f->offset);
		size_t n = 1;

		if (f->type != PROTOBUF_C_TYPE_MESSAGE ||
		    ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
		     *(const uint32_t *)q != f->id))
			continue;
		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			n = *q;
			v = *(ProtobufCMessage *const *const *)v;
		}
		for (size_t k = 0; k < n && v && v[k]; k++) {
			int w = snprintf(path + len, 256 - len,
					 f->label == PROTOBUF_C_LABEL_REPEATED
						 ? "%s%s[%zu]" : "%s%s",
					 len ? "." : "", f->name, k);

			if (w < 0 || (size_t)w >= 256 - len)
				continue;
			if (f->descriptor == &ppx__v1__person__descriptor)
				fn(ctx, path, (const Ppx__V1__Person *)v[k]);
			else
				persons_walk(v[k], path, len + (size_t)w,
					     depth + 1, fn, ctx);
		}
		path[len] = '\0';
	}
}

static void stated_line(void *ctx, const char *path, const Ppx__V1__Person *p)
{
	const Ppx__V1__Body *b = ctx;

	if (strcmp(path, "sender_person") == 0)
		return;
	printf("  %s: ", path);
	lr_print_clean(stdout, p->name);
	printf(" (");
	lr_print_clean(stdout, p->agency[0] ? p->agency : "no agency");
	printf("), stated by ");
	lr_print_clean(stdout, b->sender_agency);
	putchar('\n');
}

static void stated_json(void *ctx, const char *path, const Ppx__V1__Person *p)
{
	json_object *a = ctx, *o;

	if (strcmp(path, "sender_person") == 0 || !(o = json_object_new_object()))
		return;
	json_object_object_add(o, "field", lr_json_string(path));
	json_object_object_add(o, "name", lr_json_string(p->name));
	json_object_object_add(o, "agency", lr_json_string(p->agency));
	json_object_array_add(a, o);
}

/* The sending person, vouched for by the signature's agency, and the
 * others the body names, which are that agency's statement. */
static void print_persons(const Ppx__V1__Body *b)
{
	char path[256] = "";
	const Ppx__V1__Person *p = b->sender_person;

	printf("sent by ");
	lr_print_clean(stdout, p ? p->name : "?");
	printf(" (");
	lr_print_clean(stdout, p ? p->id : "?");
	printf(") of ");
	lr_print_clean(stdout, p ? p->agency : "?");
	printf(p && strcmp(p->agency, b->sender_agency) == 0
		       ? ", the signing agency\n"
		       : ": NOT the signing agency (stored before ppx checked)\n");
	printf("persons named, as stated by ");
	lr_print_clean(stdout, b->sender_agency);
	printf(" (not their own statement):\n");
	persons_walk(&b->base, path, 0, 0, stated_line, (void *)b);
}

/* Who signed the message personally (PROTOCOL.md 3.2), if anyone. */
static void print_person_signature(const struct lr_entry *m)
{
	char line[3 * PPX_NAME_MAX];
	ppx_identity who;
	int rc = ppx_entry_person(&who, m->e);

	if (rc == 0) {
		printf("no personal signature\n");
		return;
	}
	if (rc < 0) {
		printf("personal signature unreadable: ");
		lr_print_clean(stdout, ppx_error_last());
		putchar('\n');
		return;
	}
	ppx_person_describe(line, sizeof(line), &who);
	lr_print_clean(stdout, line);
	putchar('\n');
}

/* Break-glass (PROTOCOL.md 3.6): the signed reason, and at the sender
 * who reviews it by when. */
static void print_emergency(const struct lr_entry *m)
{
	const Ppx__V1__Access *a = m->e->access;
	char when[32];

	if (!m->body->emergency)
		return;
	printf("EMERGENCY: ");
	lr_print_clean(stdout, m->body->emergency->reason);
	if (a && a->reviewer && a->reviewer[0]) {
		lr_format_time(when, sizeof(when), a->review_due_ms);
		printf("\n  review owed by ");
		lr_print_clean(stdout, a->reviewer);
		printf(" by %s", when);
	}
	printf("\n  ");
}

static void print_heading(const struct lr_entry *m)
{
	const Ppx__V1__Body *b = m->body;
	char what[512], when[32];

	lr_describe(what, sizeof(what), m);
	lr_format_time(when, sizeof(when), b->created_ms);
	printf("message %s\n  ", m->id);
	lr_print_clean(stdout, what);
	printf("\n  %s %s, created %s", m->dir == LR_DIR_OUT ? "sent by us,"
	       : "received from", m->dir == LR_DIR_OUT ? b->sender_agency
	       : m->e->peer_agency, when);
	if (b->priority)
		printf(", %s", or_unknown(ppx_priority_name(b->priority)));
	printf(", %s\n  ", or_unknown(ppx_marking_name(b->marking)));
	print_emergency(m);
	print_ids(b);
	lr_format_time(when, sizeof(when), b->ack_deadline_ms);
	if (b->ack_deadline_ms > 0)
		printf("acknowledgement asked for by %s: %s\n  ", when,
		       lr_ack_name(m->ack));
	else if (m->ack == LR_ACK_ACKNOWLEDGED)
		printf("acknowledged (though not asked for)\n  ");
	else if (m->ack != LR_ACK_NONE)
		printf("no acknowledgement asked for\n  ");
	printf("subject:");
	for (size_t i = 0; i < m->e->n_subject_keys; i++) {
		putchar(' ');
		lr_print_clean(stdout, m->e->subject_keys[i]);
	}
	printf("\n\n%s:\n", m->dir == LR_DIR_OUT ? "delivery" : "stored");
}

static int print_text(logread *lr, const struct shown *s)
{
	char *text = NULL;

	if (s->msg) {
		print_heading(s->msg);
		for (size_t i = 0; i < s->msg->n_parties; i++)
			print_party(lr, s->msg, &s->msg->parties[i]);
	} else {
		printf("no copy of the message itself is in this log\n");
	}
	if (s->msg) {
		print_person_signature(s->msg);
		print_persons(s->msg->body);
	}
	printf("\nlog entries:\n");
	lr_table_header(stdout);
	for (size_t i = 0; i < s->n; i++)
		lr_entry_line(stdout, &s->ents[i]);
	if (!s->msg)
		return 0;
	printf("\nmessage (canonical JSON):\n");
	if (ppx_json_print(&text, &s->msg->body->base, PPX_JSON_PRETTY) == 0)
		printf("%s\n", text);
	else
		fprintf(stderr, "ppx show: the message does not map to JSON: "
			"%s\n", ppx_error_last());
	free(text);
	return 0;	/* what could be shown was */
}

/* The acknowledgements, each with who gave it and their note. */
static json_object *acks_json(logread *lr, const struct lr_entry *m)
{
	json_object *a = json_object_new_array();
	char who[160], note[512], when[32];

	for (size_t i = 0; m && i < m->n_parties; i++) {
		const struct lr_party *p = &m->parties[i];
		json_object *o;

		if (!p->acked)
			continue;
		ack_who(lr, p->ack_seq, who, sizeof(who), note, sizeof(note));
		o = json_object_new_object();
		json_object_object_add(o, "partner", lr_json_string(p->partner));
		json_object_object_add(o, "seq",
				       json_object_new_uint64(p->ack_seq));
		lr_format_time(when, sizeof(when), p->ack_ms);
		json_object_object_add(o, "time", lr_json_string(when));
		json_object_object_add(o, "by", lr_json_string(who));
		json_object_object_add(o, "note", lr_json_string(note));
		json_object_array_add(a, o);
	}
	return a;
}

static int print_json(logread *lr, const struct shown *s)
{
	json_object *o, *entries = json_object_new_array();

	if (s->msg) {
		json_object *stated = json_object_new_array();
		char path[256] = "";

		o = lr_entry_json(s->msg, LR_JSON_BODY);
		persons_walk(&s->msg->body->base, path, 0, 0, stated_json,
			     stated);
		json_object_object_add(o, "stated_by", lr_json_string(
			s->msg->body->sender_agency));
		json_object_object_add(o, "stated_persons", stated);
	} else {
		o = json_object_new_object();
		json_object_object_add(o, "message_id",
				       lr_json_string(s->ents[0].id));
	}
	for (size_t i = 0; i < s->n; i++)
		json_object_array_add(entries, lr_entry_json(&s->ents[i], 0));
	json_object_object_add(o, "acknowledgements", acks_json(lr, s->msg));
	json_object_object_add(o, "entries", entries);
	lr_json_write(stdout, o, JSON_C_TO_STRING_PRETTY |
				  JSON_C_TO_STRING_SPACED);
	json_object_put(o);
	return 0;
}

static int print_body(const struct shown *s)
{
	char *text = NULL;

	if (!s->msg)
		return ppx_error_set(PPX_ENOTFOUND, "the log has entries about "
				     "this message but no copy of it");
	if (ppx_json_print(&text, &s->msg->body->base, 0) != 0)
		return PPX_EINVAL;
	puts(text);
	free(text);
	return 0;
}

/* The one message the argument names, or the exit status after saying
 * that none or several do. */
static int pick(struct lr_ref *r, logread *lr, const char *arg)
{
	int rc = lr_ref_resolve(r, lr, arg);

	if (rc != 0)
		return lr_fail("show", rc);
	if (r->n == 0) {
		fprintf(stderr, "ppx show: message %s is not in log %s; ppx log "
			"lists the messages it holds\n", arg, logread_dir(lr));
		return PPX_EXIT_NO;
	}
	if (r->n > 1) {
		fprintf(stderr, "ppx show: %s is ambiguous: it fits %zu%s "
			"messages (a message id is unique per sender only); "
			"name one as AGENCY/ID:\n", arg, r->n,
			r->more ? " or more" : "");
		lr_ref_list(stderr, r);
		return PPX_EXIT_USAGE;
	}
	return 0;
}

int cmd_show(int argc, char **argv)
{
	struct lr_opts o;
	struct shown s = {0};
	struct lr_ref *r = calloc(1, sizeof(*r));
	logread *lr = NULL;
	int rc;

	if (!r)
		return lr_fail("show", ppx_error_set(PPX_ENOMEM, "out of "
						     "memory"));
	rc = lr_opts_parse(&o, argc, argv, LR_OPT_BODY, 1, usage);
	if (rc != 0) {
		free(r);
		return rc == 1 ? PPX_EXIT_OK : ppx_exit_code(rc);
	}
	if ((rc = logread_open(&lr, &o)) != 0)
		rc = lr_fail(o.cmd, rc);
	else if ((rc = pick(r, lr, o.args[0])) != 0)
		;	/* said why */
	else if ((rc = collect(&s, lr, &r->m[0])) == 0 && s.n == 0)
		rc = PPX_EXIT_NO;	/* its entries do not decode: said so */
	else if (rc == 0) {
		rc = o.body ? print_body(&s) : o.json ? print_json(lr, &s)
						      : print_text(lr, &s);
		if (rc != 0) {
			fprintf(stderr, "ppx show: %s\n", ppx_error_last());
			rc = PPX_EXIT_NO;
		}
	} else {
		rc = lr_fail(o.cmd, rc);
	}
	shown_free(&s);
	logread_close(lr);
	free(r);
	if (rc != 0)
		return rc;
	return ppx_exit_code(lr_flush(o.cmd, stdout, "standard output"));
}
