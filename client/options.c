/*
 * options.c — the options shared by the commands that read a log: where
 * the log is (log_opts_parse, for verify), and the options and filters of
 * log, show, follow, subject and export (lr_opts_parse, into the
 * struct lr_opts and lr_filter that logread.c applies).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "client.h"
#include "logread.h"
#include "ppx/error.h"

/* "dir/name" into buf; the caller's pointer to it, or NULL if too long. */
static const char *join(char *buf, size_t cap, const char *dir,
			const char *name)
{
	if ((size_t)snprintf(buf, cap, "%s/%s", dir, name) >= cap)
		return NULL;
	return buf;
}

int log_opts_parse(struct log_opts *o, int argc, char **argv,
		   const char *usage)
{
	static const struct option longopts[] = {
		{"log", required_argument, NULL, 'l'},
		{"ca", required_argument, NULL, 'a'},
		{"crl", required_argument, NULL, 'r'},
		{"certs", required_argument, NULL, 'c'},
		{"pki", required_argument, NULL, 'p'},
		{"json", no_argument, NULL, 'j'},
		{"jobs", required_argument, NULL, 'J'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	char *end;
	unsigned long n;
	int ch;

	memset(o, 0, sizeof(*o));
	optind = 1;
	while ((ch = getopt_long(argc, argv, "l:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'l': o->log_dir = optarg; break;
		case 'a': o->ca = optarg; break;
		case 'r': o->crl = optarg; break;
		case 'c': o->certs = optarg; break;
		case 'j': o->json = 1; break;
		case 'J':
			errno = 0;
			n = strtoul(optarg, &end, 10);
			if (errno || end == optarg || *end || optarg[0] == '-' ||
			    n < 1 || n > PPX_VERIFY_JOBS_MAX) {
				fprintf(stderr, "ppx: --jobs takes a number "
					"from 1 to %d, not \"%s\"\n",
					PPX_VERIFY_JOBS_MAX, optarg);
				return PPX_EINVAL;
			}
			o->jobs = (unsigned)n;
			break;
		case 'p':
			o->ca = join(o->ca_buf, sizeof(o->ca_buf), optarg,
				     "ca/ca.crt");
			o->crl = join(o->crl_buf, sizeof(o->crl_buf), optarg,
				      "ca/crl.pem");
			o->certs = join(o->certs_buf, sizeof(o->certs_buf),
					optarg, "certs");
			if (!o->ca || !o->crl || !o->certs) {
				fprintf(stderr, "ppx: --pki path too long\n");
				return PPX_EINVAL;
			}
			break;
		case 'h':
			fputs(usage, stdout);
			return 1;
		default:
			fputs(usage, stderr);
			return PPX_EINVAL;
		}
	}
	if (optind != argc || !o->log_dir) {
		fprintf(stderr, "ppx %s: %s\n%s", argv[0],
			o->log_dir ? "unexpected argument" : "--log DIR is required",
			usage);
		return PPX_EINVAL;
	}
	return 0;
}

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

/* An option this command does not take, or whose value is missing:
 * PPX_EINVAL after saying so. */
static int bad_option(const struct lr_opts *o, int ch, const char *name,
		      const char *use)
{
	fprintf(stderr, "ppx %s: %s %s\n%s", o->cmd,
		ch == ':' ? "this option needs a value:"
			  : "not an option of this command:", name, use);
	return PPX_EINVAL;
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
			return PPX_EINVAL;
		}
		if (parse_option(o, ch, optarg) != 0) {
			fprintf(stderr, "ppx %s: %s\n", o->cmd, ppx_error_last());
			return PPX_EINVAL;
		}
	}
	for (; optind < argc && o->n_args < LR_MAX_ARGS; optind++)
		o->args[o->n_args++] = argv[optind];
	if (optind < argc || o->n_args != n_args) {
		fprintf(stderr, "ppx %s: %s\n%s", o->cmd,
			o->n_args < n_args ? "missing argument" :
					     "unexpected argument", use);
		return PPX_EINVAL;
	}
	return 0;
}
