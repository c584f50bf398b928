/*
 * compose.c — building message bodies from flags, for `ppx send FAMILY`,
 * `ppx ack` and `ppx action`.
 *
 * Where it sits: the client's other way in besides `ppx send --json`.  A
 * person names the everyday fields with flags (kind, subject identifiers,
 * recipients, priority, marking, acknowledgement deadline, details, and
 * each family's own); this file turns them into a ppx.v1.Body, checks it
 * with the daemon's own domain rules (ppx_domain_check) so that a mistake
 * is named at once, by field and flag (compose_check), and gives it to
 * the command, which submits it (cmd_send.c) or prints it.  The daemon fills in who sends it and checks everything again.
 *
 * Some messages start from what the local log holds, read-only (LMDB
 * allows it while the daemon runs): an amendment of minutes starts from
 * the minutes it supersedes, a partner record update from the latest
 * version (daemon/records.c, the same view the daemon checks against),
 * an acknowledgement or action update from the message it answers.
 *
 * Options are one table: name, argument, the commands that take it, and
 * its help line; `--help` prints the rows of the command asked about.
 * Values stay where getopt found them (argv) or in an arena freed with the
 * compose; loaded bodies are kept until then, as composed bodies point
 * into them.
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "client.h"
#include "compose_int.h"
#include "ppx/domain.h"
#include "ppx/envelope.h"
#include "ppx/error.h"
#include "ppx/json.h"

#define ARENA_MAX 100000	/* allocations of one compose */

/* ------------------------------------------------------------------ */
/* The option table                                                    */
/* ------------------------------------------------------------------ */

#define SEND (F_NOTIFICATION | F_MINUTES | F_DISCLOSURE | F_RECORD)
#define ALL (SEND | F_ACK | F_ACTION)
#define SUBJ SEND

static const struct flag {
	const char *name;
	int arg;		/* required_argument or no_argument */
	unsigned families;
	const char *help;
} flags[O_COUNT] = {
	[O_CONFIG] = {"config", 1, ALL, "FILE  the daemon's configuration"},
	[O_WAIT] = {"wait", 0, ALL, "      wait for every signed receipt"},
	[O_TIMEOUT] = {"timeout", 1, ALL, "S     how long --wait waits (60)"},
	[O_PRINT] = {"print", 0, ALL, "      print the body as JSON, send "
		     "nothing"},
	[O_HELP] = {"help", 0, ALL, "      this list"},
	[O_SIGN] = {"sign", 1, ALL, "KEY   sign it yourself: your person key "
		    "(0600 file or pkcs11: URI)"},
	[O_SIGN_CERT] = {"sign-cert", 1, ALL, "CERT  your person certificate "
			 "(default: KEY with .crt)"},
	[O_TO] = {"to", 1, SEND, "AGENCY  a recipient (repeat, or a,b)"},
	[O_MARKING] = {"marking", 1, SEND, "M     official | official-sensitive "
		       "(default)"},
	[O_PRIORITY] = {"priority", 1, SEND, "P     routine (default) | urgent "
			"| immediate"},
	[O_ACK_BY] = {"ack-by", 1, SEND, "T     acknowledgement deadline: "
		      "YYYY-MM-DD[THH:MM] UTC, or +Nh, +Nd"},
	[O_PURPOSE] = {"purpose", 1, SEND, "TEXT  why this is shared"},
	[O_LEGAL_BASIS] = {"legal-basis", 1, SEND, "B     cja-2003-s325 "
			   "(default), dpa-2018-part3, ..."},
	[O_AREA] = {"area", 1, SEND, "AREA  the MAPPA area (default: ours)"},
	[O_CT] = {"ct", 0, SEND, "      counter-terrorism material"},
	[O_EMERGENCY] = {"emergency", 0, SEND, "      break-glass: send without "
			 "need to know (with --reason; reviewed)"},
	[O_REASON] = {"reason", 1, SEND, "TEXT  why, for --emergency"},
	[O_SUPERSEDES] = {"supersedes", 1, F_NOTIFICATION | F_DISCLOSURE,
			  "ID    the message this one replaces"},
	[O_PNC] = {"pnc", 1, SUBJ, "ID    subject's PNC id"},
	[O_CRO] = {"cro", 1, SUBJ, "N     subject's CRO number"},
	[O_CRN] = {"crn", 1, SUBJ, "CRN   subject's nDelius CRN"},
	[O_PRISON_NUMBER] = {"prison-number", 1, SUBJ, "N     subject's NOMIS "
			     "number"},
	[O_VISOR] = {"visor", 1, SUBJ, "ID    subject's ViSOR id"},
	[O_NAME] = {"name", 1, SUBJ, "NAME  subject's name"},
	[O_ALIAS] = {"alias", 1, SUBJ, "NAME  an alias (repeat)"},
	[O_DOB] = {"dob", 1, SUBJ, "DATE  subject's date of birth"},
	[O_KIND] = {"kind", 1, F_NOTIFICATION, "KIND  arrest, release-date, "
		    "risk-change, ... (ppx send notification --kinds)"},
	[O_KINDS] = {"kinds", 0, F_NOTIFICATION, "      list the kinds"},
	[O_EFFECTIVE] = {"effective", 1, F_NOTIFICATION, "DATE  effective "
			 "date (default today)"},
	[O_DETAILS] = {"details", 1, F_NOTIFICATION, "TEXT  what happened"},
	[O_CATEGORY] = {"category", 1, F_NOTIFICATION | F_MINUTES | F_RECORD,
			"1|2|3 MAPPA category"},
	[O_LEVEL] = {"level", 1, F_NOTIFICATION | F_MINUTES | F_RECORD,
		     "1|2|3 MAPPA level"},
	[O_ROSH] = {"rosh", 1, F_NOTIFICATION | F_MINUTES | F_RECORD,
		    "G=L   risk of serious harm, e.g. public=high (repeat)"},
	[O_IMMINENCE] = {"imminence", 1, F_NOTIFICATION | F_MINUTES,
			 "TEXT  imminence of the risk"},
	[O_ASSESSMENT] = {"assessment", 1, F_NOTIFICATION | F_MINUTES,
			  "TEXT  e.g. \"OASys 2026-10-01\""},
	[O_CONDITION] = {"condition", 1, F_NOTIFICATION | F_MINUTES | F_RECORD,
			 "SPEC  kind=curfew; text=...; monitor=AGENCY; id=c1 "
			 "(repeat)"},
	[O_ADDRESS] = {"address", 1, F_NOTIFICATION | F_RECORD,
		       "SPEC  lines; postcode=...; kind=...; from=DATE"},
	[O_FROM_AREA] = {"from-area", 1, F_NOTIFICATION, "AREA  transfer from"},
	[O_TO_AREA] = {"to-area", 1, F_NOTIFICATION, "AREA  transfer to"},
	[O_RECALL] = {"recall", 1, F_NOTIFICATION, "yes|no recall decided"},
	[O_DECIDED_BY] = {"decided-by", 1, F_NOTIFICATION | F_DISCLOSURE,
			  "WHO   who decided (a disclosure: NAME, AGENCY)"},
	[O_VISIT_ANNOUNCED] = {"announced", 1, F_NOTIFICATION,
			       "yes|no home visit announced"},
	[O_VISITED_BY] = {"visited-by", 1, F_NOTIFICATION, "NAME  who visited"},
	[O_VISIT_OUTCOME] = {"visit-outcome", 1, F_NOTIFICATION,
			     "TEXT  outcome of the visit"},
	[O_SAFETY] = {"safety-issues", 1, F_NOTIFICATION, "TEXT  found on the "
		      "visit"},
	[O_EXIT_PLAN] = {"exit-plan", 1, F_NOTIFICATION, "TEXT  for "
			 "deregistration"},
	[O_MEETING_ID] = {"meeting-id", 1, F_MINUTES | F_DISCLOSURE | F_ACTION,
			  "ID    the MAPPA meeting"},
	[O_DATE] = {"date", 1, F_MINUTES, "DATE  the meeting's date"},
	[O_CHAIR] = {"chair", 1, F_MINUTES, "PERSON  NAME, AGENCY[, ROLE]"},
	[O_LEAD_AGENCY] = {"lead-agency", 1, F_MINUTES | F_RECORD,
			   "AGENCY  the lead agency"},
	[O_REQUIRED] = {"required", 1, F_MINUTES, "PERSON  NAME, AGENCY, ROLE"
			"[, GRADE] (repeat)"},
	[O_ATTENDED] = {"attended", 1, F_MINUTES, "PERSON  who attended "
			"(repeat)"},
	[O_ABSENT] = {"absent", 1, F_MINUTES, "PERSON  who was absent "
		      "(repeat)"},
	[O_DISCLOSURE_CONSIDERED] = {"disclosure-considered", 1, F_MINUTES,
				     "yes|no (required)"},
	[O_ACTION] = {"action", 1, F_MINUTES, "SPEC  id=A1; text=...; "
		      "owner=NAME, AGENCY; due=DATE[; status=; outcome=]"},
	[O_SUPERVISION] = {"supervision", 1, F_MINUTES, "TEXT  plan"},
	[O_MONITORING] = {"monitoring", 1, F_MINUTES, "TEXT  plan: monitoring "
			  "and control"},
	[O_INTERVENTIONS] = {"interventions", 1, F_MINUTES, "TEXT  plan: "
			     "interventions and treatment"},
	[O_VICTIM_SAFETY] = {"victim-safety", 1, F_MINUTES, "TEXT  plan: "
			     "victim safety planning"},
	[O_CONTINGENCY] = {"contingency", 1, F_MINUTES, "TEXT  plan"},
	[O_AMEND] = {"amend", 1, F_MINUTES, "ID    amend these minutes: a new "
		     "version superseding them"},
	[O_NEXT_REVIEW] = {"next-review", 1, F_MINUTES, "DATE  next review"},
	[O_CPP] = {"cpp", 1, F_MINUTES, "yes|no critical public protection "
		   "case"},
	[O_VIEWS] = {"offender-views", 1, F_MINUTES, "TEXT  the offender's "
		     "views"},
	[O_EXIT_STRATEGY] = {"exit-strategy", 1, F_MINUTES, "TEXT"},
	[O_COMMENTS] = {"comments", 1, F_MINUTES, "TEXT  comments to the SMB"},
	[O_CANCELLED] = {"cancelled", 0, F_MINUTES, "      the meeting was "
			 "cancelled"},
	[O_REARRANGED] = {"rearranged", 1, F_MINUTES, "DATE  rearranged to"},
	[O_CONSIDERED] = {"considered", 1, F_DISCLOSURE, "yes|no (required)"},
	[O_DECISION] = {"decision", 1, F_DISCLOSURE, "D     disclose | "
			"do-not-disclose | defer"},
	[O_RECIPIENT_CATEGORY] = {"recipient-category", 1, F_DISCLOSURE,
				  "C     employer, school, new-partner, ..."},
	[O_RECIPIENT] = {"recipient", 1, F_DISCLOSURE, "TEXT  to whom"},
	[O_INFORMATION] = {"information", 1, F_DISCLOSURE, "TEXT  what is "
			   "disclosed"},
	[O_RATIONALE] = {"rationale", 1, F_DISCLOSURE, "TEXT  why (required)"},
	[O_APPROVED_BY] = {"approved-by", 1, F_DISCLOSURE, "PERSON  approver"},
	[O_EXECUTED_BY] = {"executed-by", 1, F_DISCLOSURE, "PERSON  who "
			   "disclosed"},
	[O_EXECUTED] = {"executed", 1, F_DISCLOSURE, "T     when disclosed"},
	[O_RECORD_ID] = {"record-id", 1, F_RECORD, "ID    the shared record"},
	[O_BASE_VERSION] = {"base-version", 1, F_RECORD, "N     version to "
			    "update (default: the latest held)"},
	[O_MERGE] = {"merge", 1, F_RECORD, "ID    a concurrent version to "
		     "reconcile (repeat)"},
	[O_OFFENDER_MANAGER] = {"offender-manager", 1, F_RECORD, "PERSON"},
	[O_POLICE_OM] = {"police-offender-manager", 1, F_RECORD, "PERSON"},
	[O_POLICE_SUPERVISOR] = {"police-supervisor", 1, F_RECORD, "PERSON"},
	[O_PARTNER] = {"partner", 1, F_RECORD, "AGENCY  add a partner agency "
		       "(repeat)"},
	[O_NO_PARTNER] = {"no-partner", 1, F_RECORD, "AGENCY  remove one"},
	[O_CURRENT_PRISON] = {"current-prison", 1, F_RECORD, "AGENCY  where "
			      "held ('' on release)"},
	[O_CLEAR] = {"clear", 1, F_RECORD, "FIELD  clear a field, e.g. "
		     "addresses (repeat)"},
	[O_NOTE] = {"note", 1, F_ACK, "TEXT  a note with the acknowledgement"},
	[O_ACTION_ID] = {"action-id", 1, F_ACTION, "ID    the action (e.g. A1)"},
	[O_STATUS] = {"status", 1, F_ACTION, "S     open | in-progress | "
		      "completed | cancelled"},
	[O_OUTCOME] = {"outcome", 1, F_ACTION, "TEXT  required for completed"},
};

static const char *const family_names[] = {
	"notification", "minutes", "disclosure", "record", "ack", "action",
};

static void print_help(FILE *out, const struct compose *c)
{
	fprintf(out, "usage: %s %s[OPTIONS]\noptions:\n", c->cmd,
		c->family & (F_ACK | F_ACTION) ? "ID " : "");
	for (int i = 0; i < O_COUNT; i++)
		if (flags[i].families & c->family)
			fprintf(out, "  --%-24s %s\n", flags[i].name,
				flags[i].help);
	fprintf(out, "Prints: message-id log-seq partner=state...  "
		"(docs/ppx-sending.md)\n");
}

/* ------------------------------------------------------------------ */
/* Memory and messages                                                 */
/* ------------------------------------------------------------------ */

int compose_fail(const struct compose *c, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", c->cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return PPX_EINVAL;
}

void *compose_alloc(struct compose *c, size_t size)
{
	void *p;

	if (c->n_arena == c->cap_arena) {
		size_t cap = c->cap_arena ? 2 * c->cap_arena : 64;
		void **g = cap <= ARENA_MAX
				   ? realloc(c->arena, cap * sizeof(*g)) : NULL;

		if (!g)
			return NULL;
		c->arena = g;
		c->cap_arena = cap;
	}
	p = calloc(1, size ? size : 1);
	if (p)
		c->arena[c->n_arena++] = p;
	return p;
}

char *compose_strndup(struct compose *c, const char *s, size_t len)
{
	char *p = compose_alloc(c, len + 1);

	if (p)
		memcpy(p, s, len);
	return p;
}

int compose_keep(struct compose *c, Ppx__V1__Body *loaded)
{
	if (c->n_loaded == COMPOSE_LOADED_MAX) {
		ppx__v1__body__free_unpacked(loaded, NULL);
		return compose_fail(c, "too many messages to start from");
	}
	c->loaded[c->n_loaded++] = loaded;
	return 0;
}

const char *compose_val(const struct compose *c, int opt)
{
	const struct compose_list *l = &c->vals[opt];

	return l->n ? l->v[l->n - 1] : NULL;
}

const struct compose_list *compose_all(const struct compose *c, int opt)
{
	return &c->vals[opt];
}

const char *compose_agency(const struct compose *c)
{
	return c->cfg ? c->cfg->agency : "";
}

const Ppx__V1__Body *compose_body(const struct compose *c)
{
	return &c->body;
}

void compose_free(struct compose **c)
{
	if (!*c)
		return;
	for (size_t i = 0; i < (*c)->n_arena; i++)
		free((*c)->arena[i]);
	for (size_t i = 0; i < (*c)->n_loaded; i++)
		ppx__v1__body__free_unpacked((*c)->loaded[i], NULL);
	free((*c)->arena);
	ppx_config_free((*c)->cfg);
	free(*c);
	*c = NULL;
}

/* ------------------------------------------------------------------ */
/* Parsing the command line                                            */
/* ------------------------------------------------------------------ */

static int store(struct compose *c, int opt, const char *value)
{
	struct compose_list *l = &c->vals[opt];

	if (l->n == COMPOSE_LIST_MAX)
		return compose_fail(c, "--%s given more than %d times",
				    flags[opt].name, COMPOSE_LIST_MAX);
	l->v[l->n++] = value ? value : "1";
	return 0;
}

static int parse_flags(struct compose *c, int argc, char **argv)
{
	struct option longopts[O_COUNT + 1];
	size_t n = 0;
	int ch, rc = 0;

	for (int i = 0; i < O_COUNT; i++)
		if (flags[i].families & c->family)
			longopts[n++] = (struct option){
				flags[i].name,
				flags[i].arg ? required_argument : no_argument,
				NULL, 256 + i};
	longopts[n] = (struct option){NULL, 0, NULL, 0};
	optind = 1;
	opterr = 0;
	while (rc == 0 &&
	       (ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (ch < 256)
			return compose_fail(c, "%s is not an option of this "
					    "command: see %s --help",
					    argv[optind - 1], c->cmd);
		rc = store(c, ch - 256, optarg);
	}
	for (; rc == 0 && optind < argc; optind++)
		if (c->n_args < 2)
			c->args[c->n_args++] = argv[optind];
		else
			return compose_fail(c, "unexpected argument '%s'",
					    argv[optind]);
	return rc;
}

/* Common options into *o; the configuration for the agency and log. */
static int setup(struct compose *c, struct send_common *o)
{
	const char *t = compose_val(c, O_TIMEOUT);
	char *end;

	memset(o, 0, sizeof(*o));
	o->config = compose_val(c, O_CONFIG);
	o->wait = compose_val(c, O_WAIT) != NULL;
	o->print = compose_val(c, O_PRINT) != NULL;
	o->sign = compose_val(c, O_SIGN);
	o->sign_cert = compose_val(c, O_SIGN_CERT);
	o->timeout_s = t ? strtol(t, &end, 10) : 60;
	if (t && (*end || o->timeout_s <= 0))
		return compose_fail(c, "--timeout needs a positive number of "
				    "seconds");
	if (ppx_config_load(&c->cfg, config_path_default(o->config)) != 0)
		return compose_fail(c, "%s", ppx_error_last());
	return 0;
}

static int compose_new(struct compose **out, unsigned family, int argc,
		       char **argv, struct send_common *o)
{
	struct compose *c = calloc(1, sizeof(*c));
	size_t fi = 0;
	int rc;

	*out = c;
	if (!c)
		return PPX_ENOMEM;
	while ((1u << fi) != family)
		fi++;
	c->family = family;
	snprintf(c->cmd, sizeof(c->cmd), "ppx %s%s",
		 family & (F_ACK | F_ACTION) ? "" : "send ", family_names[fi]);
	ppx__v1__body__init(&c->body);
	if ((rc = parse_flags(c, argc, argv)) != 0)
		return rc;
	if (compose_val(c, O_HELP)) {
		print_help(stdout, c);
		return 1;
	}
	if (compose_val(c, O_KINDS))
		return compose_list_kinds();
	return setup(c, o);
}

/* ------------------------------------------------------------------ */
/* Values                                                              */
/* ------------------------------------------------------------------ */

/* An enum value by name, case and '-' for '_' forgiven, with or without
 * the prefix its .proto name carries ("high" is RISK_HIGH). */
int compose_enum(struct compose *c, int *out,
		 const ProtobufCEnumDescriptor *d, const char *prefix,
		 const char *text, const char *what)
{
	char name[96], full[128];
	const ProtobufCEnumValue *v;
	size_t i;

	for (i = 0; text[i] && i + 1 < sizeof(name); i++)
		name[i] = text[i] == '-' || text[i] == ' '
				  ? '_' : (char)(text[i] >= 'a' && text[i] <= 'z'
						 ? text[i] - 32 : text[i]);
	name[i] = '\0';
	snprintf(full, sizeof(full), "%s%s", prefix, name);
	v = protobuf_c_enum_descriptor_get_value_by_name(d, name);
	if (!v || v->value == 0)
		v = protobuf_c_enum_descriptor_get_value_by_name(d, full);
	if (!v || v->value == 0)
		return compose_fail(c, "%s: '%s' is not one of the values "
				    "of %s", what, text, d->short_name);
	*out = v->value;
	return 0;
}

int compose_yesno(struct compose *c, int *out, const char *text,
		  const char *what)
{
	if (strcmp(text, "yes") == 0 || strcmp(text, "y") == 0)
		*out = PPX__V1__YES_NO__YES;
	else if (strcmp(text, "no") == 0 || strcmp(text, "n") == 0)
		*out = PPX__V1__YES_NO__NO;
	else
		return compose_fail(c, "%s: answer yes or no, not '%s'", what,
				    text);
	return 0;
}

int compose_uint(struct compose *c, uint64_t *out, const char *text,
		 const char *what)
{
	char *end;
	unsigned long long v;

	if (!text[0] || text[0] == '-')
		return compose_fail(c, "%s: '%s' is not a number", what, text);
	v = strtoull(text, &end, 10);
	if (*end)
		return compose_fail(c, "%s: '%s' is not a number", what, text);
	*out = v;
	return 0;
}

/* 32 hex digits into 16 bytes of the arena. */
int compose_id(struct compose *c, ProtobufCBinaryData *out, const char *text,
	       const char *what)
{
	uint8_t *id = compose_alloc(c, PPX_MESSAGE_ID_LEN);

	if (!id)
		return PPX_ENOMEM;
	if (strlen(text) != 2 * PPX_MESSAGE_ID_LEN)
		return compose_fail(c, "%s: a message id is 32 hex digits, as "
				    "ppx send and ppx log print it", what);
	for (size_t i = 0; i < PPX_MESSAGE_ID_LEN; i++) {
		unsigned v;

		if (sscanf(text + 2 * i, "%2x", &v) != 1 ||
		    !strchr("0123456789abcdefABCDEF", text[2 * i]) ||
		    !strchr("0123456789abcdefABCDEF", text[2 * i + 1]))
			return compose_fail(c, "%s: '%s' is not hex", what,
					    text);
		id[i] = (uint8_t)v;
	}
	out->data = id;
	out->len = PPX_MESSAGE_ID_LEN;
	return 0;
}

/* Relative "+N[mhd]" from now, or YYYY-MM-DD[THH:MM[:SS]][Z] in UTC (a
 * date alone: its last second if end_of_day, else its first). */
int compose_time(struct compose *c, int64_t *out, const char *text,
		 const char *what, int end_of_day)
{
	struct tm tm = {0};
	long n;
	char unit = 0, *end;
	const char *rest;

	if (text[0] == '+') {
		n = strtol(text + 1, &end, 10);
		unit = *end;
		if (n <= 0 || !strchr("mhd", unit) || !unit || end[1])
			return compose_fail(c, "%s: '%s': write +N followed by "
					    "m, h or d", what, text);
		*out = ((int64_t)time(NULL) + n * (unit == 'm' ? 60 : unit == 'h'
						   ? 3600 : 86400)) * 1000;
		return 0;
	}
	rest = strptime(text, "%Y-%m-%d", &tm);
	if (rest && *rest == 'T')
		rest = strptime(rest + 1, "%H:%M", &tm);
	if (rest && *rest == ':')
		rest = strptime(rest + 1, "%S", &tm);
	if (rest && *rest == 'Z')
		rest++;
	if (!rest || *rest)
		return compose_fail(c, "%s: '%s' is not a time: write "
				    "YYYY-MM-DD[THH:MM] (UTC) or +24h", what,
				    text);
	if (end_of_day && strlen(text) == 10) {
		tm.tm_hour = 23;
		tm.tm_min = tm.tm_sec = 59;
	}
	*out = (int64_t)timegm(&tm) * 1000;
	return 0;
}

static char *trimmed(struct compose *c, const char *s, size_t len)
{
	while (len && (*s == ' ' || *s == '\t')) {
		s++;
		len--;
	}
	while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
		len--;
	return compose_strndup(c, s, len);
}

/* "NAME, AGENCY[, ROLE[, GRADE]]" as a Person. */
int compose_person(struct compose *c, Ppx__V1__Person **out, const char *text)
{
	Ppx__V1__Person *p = compose_alloc(c, sizeof(*p));
	char **slot[4];
	const char *s = text;

	if (!p)
		return PPX_ENOMEM;
	ppx__v1__person__init(p);
	slot[0] = &p->name;
	slot[1] = &p->agency;
	slot[2] = &p->role;
	slot[3] = &p->grade;
	for (int i = 0; i < 4 && s; i++) {
		const char *comma = i < 3 ? strchr(s, ',') : NULL;
		size_t len = comma ? (size_t)(comma - s) : strlen(s);

		if (!(*slot[i] = trimmed(c, s, len)))
			return PPX_ENOMEM;
		s = comma ? comma + 1 : NULL;
	}
	*out = p;
	return 0;
}

/*
 * "k=v; k=v; ..." into values[] by keys[] (NULL-terminated); a first
 * segment without '=' belongs to keys[0].  An unknown key is refused.
 */
int compose_spec(struct compose *c, const char *text, const char *what,
		 const char *const *keys, char **values)
{
	const char *s = text;

	for (size_t i = 0; keys[i]; i++)
		values[i] = NULL;
	for (int first = 1; s; first = 0) {
		while (*s == ' ' || *s == '\t')
			s++;
		const char *semi = strchr(s, ';');
		size_t len = semi ? (size_t)(semi - s) : strlen(s);
		const char *eq = memchr(s, '=', len);
		size_t k = 0;

		if (eq)
			while (keys[k] && (strlen(keys[k]) != (size_t)(eq - s) ||
					   strncmp(keys[k], s, (size_t)(eq - s))))
				k++;
		if (eq && !keys[k])
			return compose_fail(c, "%s: unknown key in '%.*s'", what,
					    (int)len, s);
		if (!eq && !first)
			return compose_fail(c, "%s: write key=value, not '%.*s'",
					    what, (int)len, s);
		values[k] = eq ? trimmed(c, eq + 1, len - (size_t)(eq + 1 - s))
			       : trimmed(c, s, len);
		s = semi ? semi + 1 : NULL;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* What every message has                                              */
/* ------------------------------------------------------------------ */

/* --to AGENCY, repeated or comma-separated. */
static int build_recipients(struct compose *c)
{
	const struct compose_list *l = compose_all(c, O_TO);
	size_t n = 0;

	c->body.recipients = compose_alloc(c, COMPOSE_LIST_MAX * 8 *
					      sizeof(char *));
	if (!c->body.recipients)
		return PPX_ENOMEM;
	for (size_t i = 0; i < l->n; i++)
		for (const char *s = l->v[i]; s && *s;) {
			const char *comma = strchr(s, ',');
			size_t len = comma ? (size_t)(comma - s) : strlen(s);

			if (n == COMPOSE_LIST_MAX * 8)
				return compose_fail(c, "too many recipients");
			if (len && !(c->body.recipients[n++] =
					     trimmed(c, s, len)))
				return PPX_ENOMEM;
			s = comma ? comma + 1 : NULL;
		}
	c->body.n_recipients = n;
	return 0;
}

/* The subject identifier flags, over what `base` held. */
int compose_subject(struct compose *c, Ppx__V1__SubjectIds *s,
		    const Ppx__V1__SubjectIds *base)
{
	static const struct {
		int opt;
		size_t offset;
	} ids[] = {
		{O_PNC, offsetof(Ppx__V1__SubjectIds, pnc_id)},
		{O_CRO, offsetof(Ppx__V1__SubjectIds, cro_number)},
		{O_CRN, offsetof(Ppx__V1__SubjectIds, crn)},
		{O_PRISON_NUMBER, offsetof(Ppx__V1__SubjectIds, prison_number)},
		{O_VISOR, offsetof(Ppx__V1__SubjectIds, visor_id)},
		{O_NAME, offsetof(Ppx__V1__SubjectIds, name)},
		{O_DOB, offsetof(Ppx__V1__SubjectIds, date_of_birth)},
	};
	const struct compose_list *aliases = compose_all(c, O_ALIAS);

	if (base)
		*s = *base;
	else
		ppx__v1__subject_ids__init(s);
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		const char *v = compose_val(c, ids[i].opt);

		if (v)
			*(const char **)(void *)((char *)s + ids[i].offset) = v;
	}
	if (aliases->n) {
		s->aliases = (char **)aliases->v;
		s->n_aliases = aliases->n;
	}
	return 0;
}

/* --emergency --reason TEXT: Body.emergency (PROTOCOL.md 3.6).  Each
 * needs the other; the reason's rules are the domain's. */
static int compose_emergency(struct compose *c)
{
	const char *reason = compose_val(c, O_REASON);
	int emergency = compose_val(c, O_EMERGENCY) != NULL;

	if (emergency && !reason)
		return compose_fail(c, "--emergency needs --reason TEXT: why "
				    "this must be sent without need to know");
	if (reason && !emergency)
		return compose_fail(c, "--reason goes with --emergency");
	if (!emergency)
		return 0;
	ppx__v1__emergency__init(&c->emergency);
	c->emergency.reason = (char *)reason;
	c->body.emergency = &c->emergency;
	return 0;
}

/* Recipients, marking, priority, deadline, purpose, area, CT, emergency,
 * subject. */
int compose_common(struct compose *c)
{
	const char *v;
	int e, rc;

	if ((rc = build_recipients(c)) != 0)
		return rc;
	c->body.marking = PPX__V1__PROTECTIVE_MARKING__OFFICIAL_SENSITIVE;
	c->body.priority = PPX__V1__PRIORITY__ROUTINE;
	ppx__v1__purpose__init(&c->purpose);
	c->purpose.legal_basis = PPX__V1__LEGAL_BASIS__CJA_2003_S325;
	c->body.purpose = &c->purpose;
	if ((v = compose_val(c, O_MARKING)) &&
	    (rc = compose_enum(c, &e, &ppx__v1__protective_marking__descriptor,
			       "", v, "--marking")) == 0)
		c->body.marking = e;
	if (rc == 0 && (v = compose_val(c, O_PRIORITY)) &&
	    (rc = compose_enum(c, &e, &ppx__v1__priority__descriptor, "", v,
			       "--priority")) == 0)
		c->body.priority = e;
	if (rc == 0 && (v = compose_val(c, O_LEGAL_BASIS)) &&
	    (rc = compose_enum(c, &e, &ppx__v1__legal_basis__descriptor, "",
			       v, "--legal-basis")) == 0)
		c->purpose.legal_basis = e;
	if (rc == 0 && (v = compose_val(c, O_ACK_BY)))
		rc = compose_time(c, &c->body.ack_deadline_ms, v, "--ack-by",
				  1);
	if (rc == 0 && (v = compose_val(c, O_SUPERSEDES)))
		rc = compose_id(c, &c->body.supersedes, v, "--supersedes");
	if ((v = compose_val(c, O_PURPOSE)))
		c->purpose.text = (char *)v;
	if ((v = compose_val(c, O_AREA)))
		c->body.area = (char *)v;
	c->body.counter_terrorism = compose_val(c, O_CT) != NULL;
	if (rc == 0)
		rc = compose_emergency(c);
	if (rc == 0 && (rc = compose_subject(c, &c->subject, NULL)) == 0)
		c->body.subject = &c->subject;
	return rc;
}

/* The index in `all` of the one message `ref` means: the one from
 * `agency` if the reference names it, else the only one.  -1 after saying
 * why not, listing the candidates when the id alone does not tell them
 * apart. */
static int logged_pick(struct compose *c, struct ppx_logged_message *all,
		       size_t n, const char *agency, const char *ref,
		       const char *what)
{
	char list[512] = "";
	size_t used = 0, at = n;

	for (size_t i = 0; i < n; i++) {
		if (!agency || strcmp(all[i].sender, agency) == 0)
			at = at == n ? i : at;
		if (used < sizeof(list))
			used += (size_t)snprintf(list + used, sizeof(list) - used,
						 "%s%s/%s", i ? ", " : "",
						 all[i].sender, ref);
	}
	if (at == n)
		compose_fail(c, "%s: no message %s%s%s in %s's log", what,
			     agency ? agency : "", agency ? "/" : "", ref,
			     c->cfg->agency);
	else if (!agency && n > 1)
		compose_fail(c, "%s: %zu agencies sent a message with id %s: "
			     "name one as AGENCY/ID (%s)", what, n, ref, list);
	else
		return (int)at;
	return PPX_ENOTFOUND;
}

/* Open the local log read-only and find message `ref` in it: a message id
 * (32 hex digits), or AGENCY/ID for the message of that sender (ids are
 * unique per sender only). */
int compose_logged(struct compose *c, struct ppx_logged_message *out,
		   ProtobufCBinaryData *id, const char *ref, unsigned kinds,
		   const char *what)
{
	ppx_log_options ro = {.flags = PPX_LOG_READONLY};
	struct ppx_logged_message all[PPX_RECORDS_SENDERS_MAX];
	const char *slash = strchr(ref, '/');
	char agency[PPX_RECORDS_AGENCY_MAX] = "";
	ppx_log *log = NULL;
	size_t n = 0;
	int rc, at;

	if (slash && (size_t)(slash - ref) >= sizeof(agency))
		return compose_fail(c, "%s: %s: agency name too long", what,
				    ref);
	if (slash)
		memcpy(agency, ref, (size_t)(slash - ref));
	if ((rc = compose_id(c, id, slash ? slash + 1 : ref, what)) != 0)
		return rc;
	if (ppx_log_open(&log, c->cfg->log_dir, &ro) != 0)
		return compose_fail(c, "cannot read the log %s: %s",
				    c->cfg->log_dir, ppx_error_last());
	rc = ppx_records_find_all(all, PPX_RECORDS_SENDERS_MAX, &n, log,
				  id->data, kinds);
	ppx_log_close(log);
	if (rc != 0)
		return compose_fail(c, "%s", ppx_error_last());
	at = logged_pick(c, all, n, slash ? agency : NULL,
			 slash ? slash + 1 : ref, what);
	for (size_t i = 0; i < n; i++)
		if ((int)i != at)
			ppx_records_logged_free(&all[i]);
	if (at < 0)
		return PPX_EINVAL;	/* a reference to no message: said so */
	*out = all[at];
	return compose_keep(c, out->body);
}

/* The operator the caller is, as the daemon will record them. */
Ppx__V1__Person *compose_operator(struct compose *c)
{
	const struct ppx_operator *op =
		ppx_config_operator_by_uid(c->cfg, getuid());
	Ppx__V1__Person *p = compose_alloc(c, sizeof(*p));

	if (!p)
		return NULL;
	ppx__v1__person__init(p);
	p->agency = c->cfg->agency;
	if (op) {
		p->id = (char *)op->id;
		p->name = (char *)op->name;
		p->role = (char *)op->role;
	}
	return p;
}

/* ------------------------------------------------------------------ */
/* Entry points                                                        */
/* ------------------------------------------------------------------ */

static unsigned family_by_name(const char *name)
{
	for (size_t i = 0; i < 4; i++)
		if (strcmp(name, family_names[i]) == 0)
			return 1u << i;
	return 0;
}

int compose_send(struct compose **out, struct send_common *common, int argc,
		 char **argv)
{
	unsigned family = family_by_name(argv[0]);
	int rc;

	if (!family) {
		fprintf(stderr, "ppx send: '%s' is not notification, minutes, "
			"disclosure or record\n", argv[0]);
		*out = NULL;
		return PPX_EINVAL;
	}
	if ((rc = compose_new(out, family, argc, argv, common)) != 0)
		return rc;
	if ((*out)->n_args)
		return compose_fail(*out, "unexpected argument '%s'",
				    (*out)->args[0]);
	if ((rc = compose_common(*out)) != 0)
		return rc;
	switch (family) {
	case F_NOTIFICATION: return compose_notification(*out);
	case F_MINUTES: return compose_minutes(*out);
	case F_DISCLOSURE: return compose_disclosure(*out);
	default: return compose_record(*out);
	}
}

int compose_ack(struct compose **out, struct send_common *common, int argc,
		char **argv)
{
	int rc = compose_new(out, F_ACK, argc, argv, common);

	return rc ? rc : compose_reply(*out);
}

int compose_action(struct compose **out, struct send_common *common,
		   int argc, char **argv)
{
	int rc = compose_new(out, F_ACTION, argc, argv, common);

	return rc ? rc : compose_reply(*out);
}

/* Which flag sets the field a domain rule names, for the message. */
static const char *flag_for(const char *msg)
{
	static const char *const map[][2] = {
		{"notification.kind", "--kind"},
		{"notification.details", "--details"},
		{"notification.effective_date", "--effective"},
		{"notification.risk.rosh", "--rosh"},
		{"notification.risk.level", "--level"},
		{"notification.risk.category", "--category"},
		{"notification.conditions", "--condition"},
		{"notification.address", "--address"},
		{"notification.decided_by", "--decided-by"},
		{"notification.exit_plan", "--exit-plan"},
		{"notification.home_visit.visited_by", "--visited-by"},
		{"notification.home_visit.outcome", "--visit-outcome"},
		{"notification.from_area", "--from-area"},
		{"notification.to_area", "--to-area"},
		{"ack_deadline_ms", "--ack-by"},
		{"subject", "--pnc, --crn, --prison-number, ..."},
		{"minutes.meeting_id", "--meeting-id"},
		{"minutes.meeting_date", "--date"},
		{"minutes.lead_agency", "--lead-agency"},
		{"minutes.level", "--level"},
		{"minutes.chair", "--chair"},
		{"minutes.required", "--required"},
		{"minutes.actual", "--attended"},
		{"minutes.absent", "--absent"},
		{"minutes.disclosure_considered", "--disclosure-considered"},
		{"minutes.actions", "--action"},
		{"disclosure.considered", "--considered"},
		{"disclosure.rationale", "--rationale"},
		{"disclosure.decided_by", "--decided-by"},
		{"disclosure.decision", "--decision"},
		{"disclosure.recipient_category", "--recipient-category"},
		{"disclosure.information_disclosed", "--information"},
		{"disclosure.legal_basis", "--legal-basis"},
		{"disclosure.approved_by", "--approved-by"},
		{"disclosure.executed", "--executed, --executed-by"},
		{"partner_record.record_id", "--record-id"},
		{"action_update.outcome", "--outcome"},
		{"action_update.status", "--status"},
		{"action_update.action_id", "--action-id"},
	};

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strncmp(msg, map[i][0], strlen(map[i][0])) == 0)
			return map[i][1];
	return NULL;
}

int compose_check(const struct compose *c)
{
	const char *flag;

	if (ppx_domain_check(&c->body, compose_agency(c)) == 0)
		return 0;
	flag = flag_for(ppx_error_last());
	fprintf(stderr, "%s: refused: %s%s%s%s\n", c->cmd, ppx_error_last(),
		flag ? " [" : "", flag ? flag : "", flag ? "]" : "");
	return PPX_EBODY;	/* whatever the rule: a refusal of the body */
}

int compose_print(const struct compose *c)
{
	char *json = NULL;

	if (ppx_json_print(&json, &c->body.base, PPX_JSON_PRETTY) != 0) {
		fprintf(stderr, "%s: %s\n", c->cmd, ppx_error_last());
		return PPX_EBODY;	/* a body JSON cannot hold */
	}
	puts(json);
	free(json);
	return 0;
}
