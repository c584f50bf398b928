/*
 * cmd_log.c — `ppx log`: list a log's entries, read-only, as a table or as
 * JSON Lines, filtered by subject, kind, partner, direction, time, delivery
 * and acknowledgement state.  It opens LMDB read-only, so it works while
 * the daemon is down.
 *
 * The other reading commands (show, follow, subject, export) share what is
 * here: their options (lr_opts_parse), and one entry rendered as a table
 * line or as a JSON object.  The interpretation of the log — deliveries,
 * acknowledgements, filters — is logread.c's.
 *
 * The JSON object of an entry is libppx's entry JSON (lib/entry_json.c,
 * docs/HOOKS.md: the same keys as the hooks and the event stream get), to
 * which a message's entry adds what only a reader of the whole log knows:
 * its delivery and acknowledgement state, over all parties and per party.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <json-c/json.h>

#include "client.h"
#include "logread.h"
#include "ppx/error.h"
#include "ppx/entry_json.h"
#include "ppx/text.h"

static const char usage[] =
	"usage: ppx log [--log DIR | --config FILE] [FILTERS] [--json]\n"
	"Lists the entries of an agency's log, oldest first: sequence, time\n"
	"(UTC), kind, partner, message id, and what it is, with each message's\n"
	"delivery and acknowledgement state.  --json prints JSON Lines.\n"
	"Reads the log read-only: it works while ppxd is down.\n"
	LR_WHERE_HELP LR_FILTER_HELP;

/* ---- options ---------------------------------------------------------- */

enum {
	O_SINCE = 256, O_UNTIL, O_STATE, O_ACK, O_FROM, O_FORCE, O_EXACT,
	O_BODY,
};

static const struct option longopts[] = {
	{"log", required_argument, NULL, 'l'},
	{"config", required_argument, NULL, 'c'},
	{"json", no_argument, NULL, 'j'},
	{"help", no_argument, NULL, 'h'},
	{"subject", required_argument, NULL, 's'},
	{"kind", required_argument, NULL, 'k'},
	{"partner", required_argument, NULL, 'p'},
	{"direction", required_argument, NULL, 'd'},
	{"since", required_argument, NULL, O_SINCE},
	{"until", required_argument, NULL, O_UNTIL},
	{"state", required_argument, NULL, O_STATE},
	{"ack", required_argument, NULL, O_ACK},
	{"from", required_argument, NULL, O_FROM},
	{"format", required_argument, NULL, 'f'},
	{"output", required_argument, NULL, 'o'},
	{"force", no_argument, NULL, O_FORCE},
	{"exact", no_argument, NULL, O_EXACT},
	{"body", no_argument, NULL, O_BODY},
	{NULL, 0, NULL, 0},
};

/* The flag an option needs, 0 for the common ones. */
static unsigned option_flag(int ch)
{
	switch (ch) {
	case 's': case 'k': case 'p': case 'd':
	case O_SINCE: case O_UNTIL: case O_STATE: case O_ACK:
		return LR_OPT_FILTERS;
	case O_FROM:
		return LR_OPT_FROM;
	case 'f': case 'o': case O_FORCE:
		return LR_OPT_EXPORT;
	case O_EXACT:
		return LR_OPT_EXACT;
	case O_BODY:
		return LR_OPT_BODY;
	default:
		return 0;
	}
}

static int take_digits(const char **p, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if ((*p)[i] < '0' || (*p)[i] > '9')
			return -1;
		v = v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	*out = v;
	return 0;
}

static int days_in_month(int y, int m)
{
	static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31,
				   30, 31};
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return m == 2 && leap ? 29 : days[m - 1];
}

/* hh:mm[:ss[.mmm]] after the date; *step is the precision given. */
static int parse_clock(const char **p, struct tm *tm, int *ms, int64_t *step)
{
	if (take_digits(p, 2, &tm->tm_hour) || *(*p)++ != ':' ||
	    take_digits(p, 2, &tm->tm_min))
		return -1;
	*step = 60000;
	if (**p != ':')
		return 0;
	(*p)++;
	if (take_digits(p, 2, &tm->tm_sec))
		return -1;
	*step = 1000;
	if (**p != '.')
		return 0;
	(*p)++;
	*step = 1;
	return take_digits(p, 3, ms);
}

int lr_time_parse(const char *s, int64_t *start, int64_t *end)
{
	struct tm tm = {0};
	const char *p = s;
	int y, mo, ms = 0;
	int64_t step = 86400000;
	time_t t;

	if (take_digits(&p, 4, &y) || *p++ != '-' || take_digits(&p, 2, &mo) ||
	    *p++ != '-' || take_digits(&p, 2, &tm.tm_mday))
		goto bad;
	if ((*p == 'T' || *p == 't' || *p == ' ') &&
	    (p++, parse_clock(&p, &tm, &ms, &step) != 0))
		goto bad;
	if (*p == 'Z' || *p == 'z')
		p++;
	else if (strcmp(p, "+00:00") == 0)
		p += 6;
	if (*p || y < 1970 || mo < 1 || mo > 12 || tm.tm_mday < 1 ||
	    tm.tm_mday > days_in_month(y, mo) || tm.tm_hour > 23 ||
	    tm.tm_min > 59 || tm.tm_sec > 59)
		goto bad;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	if ((t = timegm(&tm)) == (time_t)-1)
		goto bad;
	*start = (int64_t)t * 1000 + ms;
	*end = *start + step;
	return 0;
bad:
	return ppx_error_set(PPX_EINVAL, "\"%s\" is not an ISO 8601 UTC date "
			     "or date-time: write 2026-11-21, "
			     "2026-11-21T09:30 or 2026-11-21T09:30:00Z", s);
}

static void upper(char *s)
{
	for (; *s; s++)
		if (*s >= 'a' && *s <= 'z')
			*s = (char)(*s - 'a' + 'A');
}

static void lower(char *s)
{
	for (; *s; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s - 'A' + 'a');
}

/* A value of an enum by name, with an optional prefix; 0 if none. */
static int enum_by_name(const ProtobufCEnumDescriptor *d, const char *prefix,
			const char *name)
{
	const ProtobufCEnumValue *v;
	char buf[96];

	if ((size_t)snprintf(buf, sizeof(buf), "%s%s", prefix, name) >=
	    sizeof(buf))
		return 0;
	v = protobuf_c_enum_descriptor_get_value_by_name(d, buf);
	return v ? v->value : 0;
}

/* One --kind item: "notification", "ARREST", "notification:ARREST",
 * "RECEIVED" or "ENTRY_RECEIVED", in any case. */
static int parse_kind(struct lr_kind *k, const char *item, size_t len)
{
	const ProtobufCFieldDescriptor *f;
	char name[64], up[64], *colon;

	if (len == 0 || len >= sizeof(name))
		return -1;
	memcpy(name, item, len);
	name[len] = '\0';
	lower(name);
	memcpy(up, name, len + 1);
	upper(up);
	if ((colon = strchr(name, ':'))) {
		k->what = LR_KIND_NOTIFICATION;
		k->value = enum_by_name(&ppx__v1__notification_kind__descriptor,
					"", up + (colon - name) + 1);
		return strncmp(name, "notification:", 13) == 0 && k->value > 0
			       ? 0 : -1;
	}
	f = protobuf_c_message_descriptor_get_field_by_name(
		&ppx__v1__body__descriptor, name);
	if (f && (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)) {
		k->what = LR_KIND_FAMILY;
		k->value = (int)f->id;
		return 0;
	}
	k->what = LR_KIND_NOTIFICATION;
	if ((k->value = enum_by_name(&ppx__v1__notification_kind__descriptor,
				     "", up)) > 0)
		return 0;
	k->what = LR_KIND_ENTRY;
	k->value = enum_by_name(&ppx__v1__entry_kind__descriptor,
				strncmp(up, "ENTRY_", 6) ? "ENTRY_" : "", up);
	return k->value > 0 ? 0 : -1;
}

static int parse_kinds(struct lr_filter *f, const char *list)
{
	const char *p = list;

	if (!*p)
		return ppx_error_set(PPX_EINVAL, "--kind needs a kind, e.g. "
				     "--kind ARREST or --kind notification");
	while (*p) {
		size_t len = strcspn(p, ",");
		const char *item = p;

		while (len > 0 && *item == ' ')
			item++, len--;
		while (len > 0 && item[len - 1] == ' ')
			len--;
		if (f->n_kinds == LR_MAX_KINDS)
			return ppx_error_set(PPX_EINVAL, "--kind: at most %d "
					     "kinds", LR_MAX_KINDS);
		if (parse_kind(&f->kinds[f->n_kinds], item, len) != 0)
			return ppx_error_set(PPX_EINVAL, "--kind %s: \"%.*s\" is "
					     "not a family (notification, "
					     "minutes, disclosure, "
					     "partner_record, acknowledgement,"
					     " action_update), a notification "
					     "kind (ARREST, RISK_CHANGE, ...) "
					     "or an entry kind (RECEIVED, "
					     "REJECTED, NOTE, ...)", list,
					     (int)len, item);
		f->n_kinds++;
		p += strcspn(p, ",");
		p += *p == ',';
	}
	return 0;
}

/* One of `words` (case-insensitive) to its index, or -1. */
static int word(const char *s, const char *const *words, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcasecmp(s, words[i]) == 0)
			return (int)i;
	return -1;
}

static int parse_choice(int ch, const char *arg, struct lr_filter *f)
{
	static const char *const dirs[] = {"in", "out", "received", "sent"};
	static const char *const states[] = {"queued", "delivered", "refused"};
	static const char *const acks[] = {"acknowledged", "unacknowledged",
					   "pending", "overdue"};
	int i;

	if (ch == 'd' && (i = word(arg, dirs, 4)) >= 0)
		f->direction = i % 2 == 0 ? LR_DIR_IN : LR_DIR_OUT;
	else if (ch == 'd')
		return ppx_error_set(PPX_EINVAL, "--direction %s: say in or "
				     "out", arg);
	else if (ch == O_STATE && (i = word(arg, states, 3)) >= 0)
		f->state = i + 1;	/* QUEUED, DELIVERED, REFUSED */
	else if (ch == O_STATE)
		return ppx_error_set(PPX_EINVAL, "--state %s: say queued, "
				     "delivered or refused", arg);
	else if ((i = word(arg, acks, 4)) >= 0)
		f->ack = i + 1;		/* enum lr_ack_filter */
	else
		return ppx_error_set(PPX_EINVAL, "--ack %s: say acknowledged, "
				     "unacknowledged, pending or overdue",
				     arg);
	return 0;
}

int lr_subject_check(const char *arg)
{
	static const char *const schemes[] = {"pnc", "cro", "crn", "prison",
					      "visor"};
	const char *colon = strchr(arg, ':');
	char scheme[16];
	size_t len = colon ? (size_t)(colon - arg) : 0;

	if (!*arg || (colon && !colon[1]))
		return ppx_error_set(PPX_EINVAL, "a subject identifier is "
				     "needed, e.g. pnc:2019/0123456X");
	if (colon && (len >= sizeof(scheme) ||
		      (memcpy(scheme, arg, len), scheme[len] = '\0',
		       word(scheme, schemes, 5) < 0)))
		return ppx_error_set(PPX_EINVAL, "subject %s: the scheme is "
				     "one of pnc, cro, crn, prison or visor, "
				     "or give the bare identifier", arg);
	return 0;
}

static int parse_subject(struct lr_filter *f, const char *arg)
{
	f->subject = arg;
	return lr_subject_check(arg);
}

static int parse_filter(int ch, const char *arg, struct lr_filter *f)
{
	int64_t start, end;

	switch (ch) {
	case 's':
		return parse_subject(f, arg);
	case 'k':
		return parse_kinds(f, arg);
	case 'p':
		f->partner = arg;
		return 0;
	case O_SINCE:
	case O_UNTIL:
		if (lr_time_parse(arg, &start, &end) != 0)
			return ppx_error_set(PPX_EINVAL, "--%s: %s",
					     ch == O_SINCE ? "since" : "until",
					     ppx_error_last());
		if (ch == O_SINCE)
			f->since_ms = start;
		else
			f->until_ms = end;
		return 0;
	default:
		return parse_choice(ch, arg, f);
	}
}

static int parse_from(struct lr_opts *o, const char *arg)
{
	char *end;
	unsigned long long v;

	if (*arg < '0' || *arg > '9' || (v = strtoull(arg, &end, 10), *end))
		return ppx_error_set(PPX_EINVAL, "--from %s: give a sequence "
				     "number (0 for the whole log)", arg);
	o->from = v;
	o->has_from = 1;
	return 0;
}

static int parse_option(struct lr_opts *o, int ch, const char *arg)
{
	switch (ch) {
	case 'l': o->log_dir = arg; return 0;
	case 'c': o->config = arg; return 0;
	case 'j': o->json = 1; return 0;
	case O_FROM: return parse_from(o, arg);
	case 'o': o->output = arg; return 0;
	case O_FORCE: o->force = 1; return 0;
	case O_EXACT: o->exact = 1; return 0;
	case O_BODY: o->body = 1; return 0;
	case 'f':
		if (strcmp(arg, "jsonl") != 0 && strcmp(arg, "csv") != 0)
			return ppx_error_set(PPX_EINVAL, "--format %s: say "
					     "jsonl or csv", arg);
		o->format = arg;
		return 0;
	default:
		return parse_filter(ch, arg, &o->filter);
	}
}

/* How the user wrote option ch (longopts[li] if li >= 0), for messages. */
static const char *opt_name(char *buf, size_t cap, int ch, int li,
			    char **argv)
{
	if (li >= 0)
		snprintf(buf, cap, "--%s", longopts[li].name);
	else if (ch != '?' && ch != ':' && ch < 256)
		snprintf(buf, cap, "-%c", ch);
	else if (ch == ':')	/* as written: -k or --kind */
		snprintf(buf, cap, "%s", argv[optind - 1]);
	else if (optopt > 0 && optopt < 256)
		snprintf(buf, cap, "-%c", optopt);
	else
		snprintf(buf, cap, "%s", argv[optind - 1]);
	return buf;
}

/* An option this command does not take, or whose value is missing. */
static int bad_option(const struct lr_opts *o, int ch, const char *name,
		      const char *use)
{
	fprintf(stderr, "ppx %s: %s %s\n%s", o->cmd,
		ch == ':' ? "this option needs a value:"
			  : "not an option of this command:", name, use);
	return PPX_EXIT_USAGE;
}

int lr_opts_parse(struct lr_opts *o, int argc, char **argv, unsigned flags,
		  size_t n_args, const char *use)
{
	char name[64];
	int ch, li = -1;

	memset(o, 0, sizeof(*o));
	o->cmd = argv[0];
	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":l:c:jhs:k:p:d:f:o:", longopts,
				 &li)) != -1) {
		opt_name(name, sizeof(name), ch, li, argv);
		li = -1;
		if (ch == 'h') {
			fputs(use, stdout);
			return 1;
		}
		if (ch == '?' || ch == ':' || (option_flag(ch) & ~flags))
			return bad_option(o, ch, name, use);
		if (optarg && optarg[0] == '-' && optarg[1]) {
			fprintf(stderr, "ppx %s: %s needs a value, not the "
				"option %s\n", o->cmd, name, optarg);
			return PPX_EXIT_USAGE;
		}
		if (parse_option(o, ch, optarg) != 0) {
			fprintf(stderr, "ppx %s: %s\n", o->cmd, ppx_error_last());
			return PPX_EXIT_USAGE;
		}
	}
	for (; optind < argc && o->n_args < LR_MAX_ARGS; optind++)
		o->args[o->n_args++] = argv[optind];
	if (optind < argc || o->n_args != n_args) {
		fprintf(stderr, "ppx %s: %s\n%s", o->cmd,
			o->n_args < n_args ? "missing argument" :
					     "unexpected argument", use);
		return PPX_EXIT_USAGE;
	}
	return 0;
}

int lr_fail(const char *cmd, int rc)
{
	fprintf(stderr, "ppx %s: %s\n", cmd,
		ppx_error_last()[0] ? ppx_error_last() : ppx_strerror(rc));
	return rc == PPX_EINVAL ? PPX_EXIT_USAGE : PPX_EXIT_UNAVAILABLE;
}

/* ---- names ------------------------------------------------------------ */

static const char *enum_name(const ProtobufCEnumDescriptor *d, int v)
{
	const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value(d, v);

	return ev ? ev->name : "?";
}

const char *lr_entry_kind_name(int kind)
{
	return enum_name(&ppx__v1__entry_kind__descriptor, kind);
}

const char *lr_state_name(int state)
{
	if (state == 0)
		return "";
	return enum_name(&ppx__v1__delivery_state__descriptor, state) +
	       (state > 0 && state <= 3 ? strlen("DELIVERY_") : 0);
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
	return enum_name(&ppx__v1__reject_reason__descriptor, reason);
}

const char *lr_dir_name(int dir)
{
	return dir == LR_DIR_IN ? "in" : dir == LR_DIR_OUT ? "out" : "";
}

const char *lr_family_name(const struct lr_entry *ent)
{
	const ProtobufCFieldDescriptor *f;

	if (!ent->body)
		return ent->e->family;
	f = protobuf_c_message_descriptor_get_field(
		&ppx__v1__body__descriptor, (unsigned)ent->body->payload_case);
	return f ? f->name : "";
}

const char *lr_notification_kind(const struct lr_entry *ent)
{
	if (!ent->body ||
	    ent->body->payload_case != PPX__V1__BODY__PAYLOAD_NOTIFICATION)
		return "";
	return enum_name(&ppx__v1__notification_kind__descriptor,
			 ent->body->notification->kind);
}

/* ---- small helpers ---------------------------------------------------- */

void lr_format_time(char *out, size_t cap, int64_t ms)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	if (cap == 0)
		return;
	out[0] = '\0';
	if (ms != 0 && (!gmtime_r(&t, &tm) ||
			!strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm)))
		snprintf(out, cap, "?");
}

void lr_hex_id(char out[LR_ID_HEX], const ProtobufCBinaryData *id)
{
	out[0] = '\0';
	if (id->len == PPX_MESSAGE_ID_LEN)
		ppx_hex(out, id->data, id->len);
}

int lr_hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int lr_parse_id(uint8_t out[PPX_MESSAGE_ID_LEN], const char *hex)
{
	if (strlen(hex) != 2 * PPX_MESSAGE_ID_LEN)
		return ppx_error_set(PPX_EINVAL, "a message id is %d hex "
				     "digits, not \"%s\"",
				     2 * PPX_MESSAGE_ID_LEN, hex);
	for (size_t i = 0; i < PPX_MESSAGE_ID_LEN; i++) {
		int hi = lr_hexval((unsigned char)hex[2 * i]);
		int lo = lr_hexval((unsigned char)hex[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return ppx_error_set(PPX_EINVAL, "a message id is hex "
					     "digits only, not \"%s\"", hex);
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
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
		return PPX_EXIT_UNAVAILABLE;
	}
	return PPX_EXIT_OK;
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
		return rc == 1 ? PPX_EXIT_OK : rc;
	if ((rc = logread_open(&lr, &o)) != 0)
		return lr_fail(o.cmd, rc);
	if (!o.json)
		lr_table_header(stdout);
	rc = logread_each(lr, &o.filter, 0, logread_size(lr), print_entry,
			  &o.json);
	logread_close(lr);
	if (rc < 0)
		return lr_fail(o.cmd, rc);
	return lr_flush(o.cmd, stdout, "standard output");
}
