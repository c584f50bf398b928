/*
 * cmd_log.c — `ppx log`: list a log's entries, read-only, as a table or as
 * JSON Lines, filtered by subject, kind, partner, direction, time, delivery
 * and acknowledgement state.  It opens LMDB read-only, so it works while
 * the daemon is down.
 *
 * The other reading commands (show, follow, subject, export) share what is
 * here: one entry rendered as a table line or as a JSON object.  Their
 * options are parsed in options.c (lr_opts_parse).  The interpretation of the log — deliveries,
 * acknowledgements, filters — is logread.c's.
 *
 * The JSON object of an entry is libppx's entry JSON (lib/entry_json.c,
 * docs/HOOKS.md: the same keys as the hooks and the event stream get), to
 * which a message's entry adds what only a reader of the whole log knows:
 * its delivery and acknowledgement state, over all parties and per party.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "client.h"
#include "logread.h"
#include "ppx/error.h"
#include "ppx/json-c.h"
#include "ppx/names.h"
#include "ppx/timefmt.h"
#include "ppx/text.h"

static const char usage[] =
	"usage: ppx log [--log DIR | --config FILE] [FILTERS] [--json]\n"
	"Lists the entries of an agency's log, oldest first: sequence, time\n"
	"(UTC), kind, partner, message id, and what it is, with each message's\n"
	"delivery and acknowledgement state.  --json prints JSON Lines.\n"
	"Reads the log read-only: it works while ppxd is down.\n"
	LR_WHERE_HELP LR_FILTER_HELP;

int lr_fail(const char *cmd, int rc)
{
	fprintf(stderr, "ppx %s: %s\n", cmd,
		ppx_error_last()[0] ? ppx_error_last() : ppx_strerror(rc));
	/* A reader stopped by anything but a usage error cannot read what
	 * was asked for, whatever the code (even a refusal from loading
	 * the certificates). */
	return ppx_exit_code(rc == PPX_EINVAL ? PPX_EINVAL : PPX_EIO);
}

/* ---- names ------------------------------------------------------------ */

static const char *or_unknown(const char *name)
{
	return name ? name : "?";
}

const char *lr_entry_kind_name(int kind)
{
	return or_unknown(ppx_entry_kind_name(kind));
}

const char *lr_state_name(int state)
{
	if (state == 0)
		return "";
	return or_unknown(ppx_delivery_state_name(state));
}

const char *lr_ack_name(int ack)
{
	static const char *const names[] = {
		"", "NOT_REQUIRED", "PENDING", "OVERDUE", "ACKNOWLEDGED",
	};

	return ack >= 0 && ack <= LR_ACK_ACKNOWLEDGED ? names[ack] : "?";
}

const char *lr_reason_name(int reason)
{
	return or_unknown(ppx_reject_reason_name(reason));
}

const char *lr_dir_name(int dir)
{
	return dir == LR_DIR_IN ? "in" : dir == LR_DIR_OUT ? "out" : "";
}

const char *lr_family_name(const struct lr_entry *ent)
{
	const char *f;

	if (!ent->body)
		return ent->e->family;
	f = ppx_family_name((int)ent->body->payload_case);
	return f ? f : "";
}

const char *lr_notification_kind(const struct lr_entry *ent)
{
	if (!ent->body ||
	    ent->body->payload_case != PPX__V1__BODY__PAYLOAD_NOTIFICATION)
		return "";
	return or_unknown(ppx_notification_kind_name(
		ent->body->notification->kind));
}

/* ---- small helpers ---------------------------------------------------- */

void lr_format_time(char *out, size_t cap, int64_t ms)
{
	if (cap == 0)
		return;
	out[0] = '\0';
	if (ms != 0)
		ppx_time_iso(out, cap, ms);
}

json_object *lr_json_string(const char *s)
{
	size_t len = strlen(s ? s : "");
	char *fixed;
	json_object *j;

	if (len > INT_MAX / 3 ||
	    !(fixed = ppx_text_repair(s ? s : "", len, &len)))
		return NULL;
	j = json_object_new_string_len(fixed, (int)len);
	free(fixed);
	return j;
}

void lr_print_clean(FILE *out, const char *s)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t left = strlen(s), n;

	for (; left > 0; u += n, left -= n) {
		n = *u < 0x80 ? 1 : ppx_utf8_seq(u, left);
		if (*u == '\n')
			fputs("\\n", out);
		else if (*u == '\t')
			fputc(' ', out);
		else if (*u < 0x20 || *u == 0x7f || n == 0)
			fprintf(out, "\\x%02x", *u);	/* not text */
		else if (*u == 0xc2 && u[1] <= 0x9f)	/* a C1 control */
			fprintf(out, "\\u%04x", (unsigned)u[1]);
		else
			fwrite(u, 1, n, out);
		n += n == 0;
	}
}

void lr_json_write(FILE *out, json_object *o, int jflags)
{
	const char *text = json_object_to_json_string_ext(
		o, jflags | JSON_C_TO_STRING_NOSLASHESCAPE);
	size_t len = strlen(text);
	char *fixed = ppx_text_repair(text, len, &len);

	/* json-c copies bytes >= 0x80 as they are: repaired, so that a
	 * string of an older log that is not UTF-8 cannot break the output
	 * (outside strings the text is ASCII). */
	fwrite(fixed ? fixed : "null", 1, fixed ? len : 4, out);
	fputc('\n', out);
	free(fixed);
}

void lr_json_line(FILE *out, json_object *o)
{
	lr_json_write(out, o, JSON_C_TO_STRING_PLAIN);
}


static int is_receipt(int kind)
{
	return kind == PPX__V1__ENTRY_KIND__ENTRY_RECEIPT_SENT ||
	       kind == PPX__V1__ENTRY_KIND__ENTRY_RECEIPT_RECEIVED;
}

static int is_message_kind(int kind)
{
	return kind == PPX__V1__ENTRY_KIND__ENTRY_SENT ||
	       kind == PPX__V1__ENTRY_KIND__ENTRY_RECEIVED;
}

int lr_flush(const char *cmd, FILE *out, const char *name)
{
	if (fflush(out) != 0 || ferror(out)) {
		fprintf(stderr, "ppx %s: cannot write to %s: %s\n", cmd, name,
			strerror(errno));
		return PPX_EIO;
	}
	return 0;
}

/* ---- the JSON object of an entry -------------------------------------- */

static void add_str(json_object *o, const char *key, const char *value)
{
	json_object_object_add(o, key, lr_json_string(value));
}

static void add_time(json_object *o, const char *key, int64_t ms)
{
	char when[32];

	lr_format_time(when, sizeof(when), ms);
	add_str(o, key, when);
}

/* What the receipt proves of the partner's log (PROTOCOL.md 5.3). */
static void proof_json(json_object *o, const struct ppx_delivery *dv)
{
	static const char *const names[] = {
		[PPX_DELIVERY_PROOF_NONE] = "none",
		[PPX_DELIVERY_PROOF_VERIFIED] = "verified",
		[PPX_DELIVERY_PROOF_FAILED] = "failed",
	};

	add_str(o, "proof", names[dv->proof]);
	if (dv->proof != PPX_DELIVERY_PROOF_VERIFIED)
		return;
	json_object_object_add(o, "remote_tree_size",
			       json_object_new_uint64(dv->remote_size));
	add_time(o, "remote_checkpoint_time", dv->checkpoint_ms);
}

static json_object *party_json(const struct lr_entry *ent,
			       const struct lr_party *p)
{
	const struct ppx_delivery *dv = &p->delivery;
	json_object *o = json_object_new_object();

	add_str(o, "partner", p->partner);
	add_str(o, "state", lr_state_name(dv->state));
	if (dv->has_receipt)
		json_object_object_add(o, "receipt_seq",
				       json_object_new_uint64(dv->receipt_seq));
	if (dv->has_receipt && ent->dir == LR_DIR_OUT)
		json_object_object_add(o, "remote_seq",
				       json_object_new_uint64(dv->remote_seq));
	if (dv->proof)
		proof_json(o, dv);
	if (dv->reason)
		add_str(o, "reason", lr_reason_name(dv->reason));
	if (dv->detail[0])
		add_str(o, "refusal", dv->detail);
	json_object_object_add(o, "acknowledged",
			       json_object_new_boolean(p->acked));
	if (p->acked) {
		json_object_object_add(o, "ack_seq",
				       json_object_new_uint64(p->ack_seq));
		add_time(o, "ack_time", p->ack_ms);
	}
	return o;
}

/* What a reader of the whole log adds to a message's entry JSON: its
 * delivery and acknowledgement state, over all parties and per party. */
static void state_json(json_object *o, const struct lr_entry *ent)
{
	json_object *parties = json_object_new_array();

	add_str(o, "state", lr_state_name(ent->state));
	if (ent->ack)
		add_str(o, "ack", lr_ack_name(ent->ack));
	for (size_t i = 0; i < ent->n_parties; i++)
		json_object_array_add(parties,
				      party_json(ent, &ent->parties[i]));
	json_object_object_add(o, "deliveries", parties);
}

json_object *lr_entry_json(const struct lr_entry *ent, unsigned flags)
{
	json_object *o = NULL;

	if (ppx_entry_json(&o, ent->e, ent->body, ent->agency,
			   flags & LR_JSON_BODY ? PPX_ENTRY_JSON_BODY : 0) != 0)
		return NULL;
	if (ent->body)
		state_json(o, ent);
	return o;
}

/* ---- the table line of an entry --------------------------------------- */

/* "answers 2 messages: 0f3a9b21, 77c01d4e", at most three named. */
static void describe_receipt(char *out, size_t cap,
			     const Ppx__V1__LogEntry *e)
{
	size_t n = e->n_related_ids, used;
	char hex[LR_ID_HEX];

	snprintf(out, cap, "answers %zu message%s", n, n == 1 ? "" : "s");
	for (size_t i = 0; i < n && i < 3; i++) {
		lr_hex_id(hex, &e->related_ids[i]);
		used = strlen(out);
		snprintf(out + used, cap - used, "%s%.8s", i ? ", " : ": ", hex);
	}
	used = strlen(out);
	if (n > 3)
		snprintf(out + used, cap - used, " and %zu more", n - 3);
	used = strlen(out);
	if (e->detail[0])
		snprintf(out + used, cap - used, " (%s)", e->detail);
}

void lr_describe(char *out, size_t cap, const struct lr_entry *ent)
{
	const Ppx__V1__LogEntry *e = ent->e;
	const Ppx__V1__Body *b = ent->body;
	char re[LR_ID_HEX] = "";

	if (b) {
		lr_hex_id(re, &b->replies_to);
		snprintf(out, cap, "%s%s%s%s%.8s by %s%s%s", lr_family_name(ent),
			 lr_notification_kind(ent)[0] ? " " : "",
			 lr_notification_kind(ent), re[0] ? " of " : "", re,
			 b->sender_person ? b->sender_person->name : "?",
			 e->n_subject_keys ? " about " : "",
			 e->n_subject_keys ? e->subject_keys[0] : "");
	} else if (is_receipt(e->kind)) {
		describe_receipt(out, cap, e);
	} else if (e->reason) {
		snprintf(out, cap, "%s%s%s", lr_reason_name(e->reason),
			 e->detail[0] ? ": " : "", e->detail);
	} else if (is_message_kind(e->kind)) {
		snprintf(out, cap, "(message does not decode: run ppx verify)");
	} else if (e->kind == PPX__V1__ENTRY_KIND__ENTRY_CHECKPOINT &&
		   !e->detail[0]) {
		snprintf(out, cap, "signed checkpoint of the %" PRIu64
			 " entries before it", ent->seq);
	} else {
		snprintf(out, cap, "%s", e->detail);
	}
}

/* The state of a message in words: " | QUEUED, ack due by ...". */
static void describe_state(FILE *out, const struct lr_entry *ent)
{
	char due[32];
	const char *sep = " | ";

	if (ent->state && ent->dir == LR_DIR_OUT) {
		fprintf(out, "%s%s", sep, lr_state_name(ent->state));
		sep = ", ";
	}
	if (ent->ack == LR_ACK_NONE || ent->ack == LR_ACK_NOT_REQUIRED)
		return;
	lr_format_time(due, sizeof(due), ent->body->ack_deadline_ms);
	if (ent->ack == LR_ACK_ACKNOWLEDGED)
		fprintf(out, "%sacknowledged", sep);
	else if (ent->ack == LR_ACK_PENDING)
		fprintf(out, "%sack due by %s", sep, due);
	else
		fprintf(out, "%sack OVERDUE since %s", sep, due);
}

void lr_table_header(FILE *out)
{
	fprintf(out, "%6s  %-20s  %-16s  %-20s  %-32s  %s\n", "SEQ", "TIME (UTC)",
		"KIND", "PARTNER", "MESSAGE", "WHAT");
}

/* The partner column: the recipients of what we sent, else the peer. */
static void partner_column(char *out, size_t cap, const struct lr_entry *ent)
{
	size_t used = 0;

	snprintf(out, cap, "%s", ent->e->peer_agency[0] ? ent->e->peer_agency
							: "-");
	if (!ent->body || ent->dir != LR_DIR_OUT)
		return;
	for (size_t i = 0; i < ent->body->n_recipients && used < cap; i++) {
		int n = snprintf(out + used, cap - used, "%s%s", i ? "," : "",
				 ent->body->recipients[i]);

		used += n > 0 ? (size_t)n : 0;
	}
}

void lr_entry_line(FILE *out, const struct lr_entry *ent)
{
	const char *kind = lr_entry_kind_name(ent->e->kind);
	char when[32], partner[256], what[512];

	lr_format_time(when, sizeof(when), ent->e->time_ms);
	partner_column(partner, sizeof(partner), ent);
	lr_describe(what, sizeof(what), ent);
	if (strncmp(kind, "ENTRY_", 6) == 0)
		kind += 6;
	fprintf(out, "%6" PRIu64 "  %-20s  %-16s  ", ent->seq, when, kind);
	lr_print_clean(out, partner);
	fprintf(out, "%*s  %-32s  ",
		strlen(partner) < 20 ? (int)(20 - strlen(partner)) : 0, "",
		ent->id[0] ? ent->id : "-");
	lr_print_clean(out, what);
	describe_state(out, ent);
	fputc('\n', out);
}

/* ---- ppx log ---------------------------------------------------------- */

static int print_entry(void *ctx, struct lr_entry *ent)
{
	const int *json = ctx;
	json_object *o;

	if (!*json) {
		lr_entry_line(stdout, ent);
		return 0;
	}
	if (!(o = lr_entry_json(ent, 0)))
		return ppx_error_set(PPX_ENOMEM, "out of memory");
	lr_json_line(stdout, o);
	json_object_put(o);
	return 0;
}

int cmd_log(int argc, char **argv)
{
	struct lr_opts o;
	logread *lr = NULL;
	int rc = lr_opts_parse(&o, argc, argv, LR_OPT_FILTERS, 0, usage);

	if (rc != 0)
		return rc == 1 ? PPX_EXIT_OK : ppx_exit_code(rc);
	if ((rc = logread_open(&lr, &o)) != 0)
		return lr_fail(o.cmd, rc);
	if (!o.json)
		lr_table_header(stdout);
	rc = logread_each(lr, &o.filter, 0, logread_size(lr), print_entry,
			  &o.json);
	logread_close(lr);
	if (rc < 0)
		return lr_fail(o.cmd, rc);
	return ppx_exit_code(lr_flush(o.cmd, stdout, "standard output"));
}
