/*
 * policy.c — who may send what to whom, and need to know for
 * duty-to-co-operate agencies.
 *
 * The policy file is read once (policy_load) into rules whose globs over
 * notification kinds are already resolved against the schema: a rule
 * holds the set of message families it allows whole, and the set of
 * notification kinds it allows one by one.  A name or glob that matches
 * no NotificationKind is a mistake in the file and is refused at load
 * time with file:line, rather than silently never matching.
 *
 * policy_check() is then a pure function of the loaded policy and one
 * message-to-one-recipient query.  It is called by the sender before
 * signing and by the receiver in its pipeline; either way a refusal is a
 * sentence that says which part failed: no rule for this sender,
 * recipient and kind; the marking above what the rules allow; counter-
 * terrorism material; or a duty-to-co-operate recipient that is not on
 * the case.
 *
 * Subject keys ("crn:X123456") name a case by one of its identifiers.
 * Who is on a case is what the latest partner records in the caller's log
 * say (lib/cases.c; the caller loads the case into the query); each
 * duty-to-co-operate agency's static list, sorted once, overrides it: a
 * message passes if any of its keys is in the list.
 */
#include <fnmatch.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"
#include "ppx/error.h"
#include "ppx/names.h"
#include "ppx/subject.h"

#define KIND_SLOTS 256		/* NotificationKind values we can hold */
#define LIST_MAX 64		/* globs in one from or to list */
#define ITEM_MAX 128		/* bytes of one glob or subject key */

struct glob_list {
	char **items;
	size_t n;
};

struct rule {
	char name[64];
	int line;
	struct glob_list from, to;
	unsigned families;		/* bit i: families[i] whole */
	unsigned char kinds[KIND_SLOTS];/* notification kinds one by one */
	int max_marking;		/* Ppx__V1__ProtectiveMarking */
	int allow_ct;
};

struct dtc {
	char agency[PPX_CONFIG_AGENCY_MAX];
	int line;
	char **subjects;		/* sorted once the section ends */
	size_t n, cap;
};

struct ppxd_policy {
	char path[PATH_MAX];
	struct rule *rules;
	size_t n_rules, cap_rules;
	struct dtc *dtcs;
	size_t n_dtcs, cap_dtcs;
	/* [signatures] require_person_signature: the families and kinds
	 * that must carry a personal signature, sent or received. */
	struct rule person;
	int signatures_line;
};

/* The message families, by their names in the file. */
static const struct {
	const char *name;
	int payload;		/* Ppx__V1__Body__PayloadCase */
} families[] = {
	{"notification", PPX__V1__BODY__PAYLOAD_NOTIFICATION},
	{"minutes", PPX__V1__BODY__PAYLOAD_MINUTES},
	{"disclosure", PPX__V1__BODY__PAYLOAD_DISCLOSURE},
	{"partner_record", PPX__V1__BODY__PAYLOAD_PARTNER_RECORD},
	{"acknowledgement", PPX__V1__BODY__PAYLOAD_ACKNOWLEDGEMENT},
	{"action_update", PPX__V1__BODY__PAYLOAD_ACTION_UPDATE},
};

#define N_FAMILIES (sizeof(families) / sizeof(families[0]))
#define ALL_FAMILIES ((1u << N_FAMILIES) - 1)

/* The index of a payload case in families[], or PPX_ENOTFOUND. */
static int family_index(int payload)
{
	for (size_t i = 0; i < N_FAMILIES; i++)
		if (families[i].payload == payload)
			return (int)i;
	return PPX_ENOTFOUND;
}

static const char *marking_name(int marking)
{
	return marking == PPX__V1__PROTECTIVE_MARKING__OFFICIAL ? "OFFICIAL"
		: "OFFICIAL-SENSITIVE";
}

/* ------------------------------------------------------------------ */
/* Loading                                                             */
/* ------------------------------------------------------------------ */

enum psec { PSEC_NONE, PSEC_RULE, PSEC_DTC, PSEC_SIGNATURES };

struct load;
typedef int item_fn(struct load *l, const struct ppx_ini_entry *e,
		    const char *item);

static item_fn add_from, add_to, add_kind, add_subject, add_person_kind;
static int set_marking(struct load *l, const struct ppx_ini_entry *e);
static int set_ct(struct load *l, const struct ppx_ini_entry *e);

/* Every key of the policy file.  docs/CONFIG.md documents each row. */
static const struct pkey {
	enum psec section;
	const char *name;
	int required;
	item_fn *item;		/* a comma-separated list, one call per item */
	int (*set)(struct load *l, const struct ppx_ini_entry *e);
} pkeys[] = {
	{PSEC_RULE, "from", 1, add_from, NULL},
	{PSEC_RULE, "to", 1, add_to, NULL},
	{PSEC_RULE, "kinds", 1, add_kind, NULL},
	{PSEC_RULE, "max_marking", 0, NULL, set_marking},
	{PSEC_RULE, "counter_terrorism", 0, NULL, set_ct},
	{PSEC_DTC, "subjects", 1, add_subject, NULL},
	{PSEC_SIGNATURES, "require_person_signature", 0, add_person_kind,
	 NULL},
};

#define N_PKEYS (sizeof(pkeys) / sizeof(pkeys[0]))

struct load {
	ppxd_policy *pol;
	enum psec sec;
	int seen[N_PKEYS];	/* line of each key in this section */
};

static struct rule *cur_rule(struct load *l)
{
	return &l->pol->rules[l->pol->n_rules - 1];
}

static struct dtc *cur_dtc(struct load *l)
{
	return &l->pol->dtcs[l->pol->n_dtcs - 1];
}

/* "[section] key: item: why", the shape of every list error. */
static int bad_item(const struct ppx_ini_entry *e, const char *item,
		    const char *why)
{
	return ppx_error_set(PPX_EINVAL, "[%s] %s: %s: %s", e->section,
			     e->name, item, why);
}

static int chars_in(const char *s, const char *allowed)
{
	for (; *s; s++)
		if (!strchr(allowed, *s))
			return 0;
	return 1;
}

#define AGENCY_GLOB_CHARS "abcdefghijklmnopqrstuvwxyz0123456789.-*?[]!"
#define KIND_GLOB_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_*?[]!"

static int add_glob(struct glob_list *gl, const struct ppx_ini_entry *e,
		    const char *item)
{
	char **na;

	if (!chars_in(item, AGENCY_GLOB_CHARS))
		return bad_item(e, item, "not an agency name or glob (a-z, "
				"0-9, '.', '-', and * ? [ ])");
	if (gl->n >= LIST_MAX)
		return bad_item(e, item, "too many agencies in one list");
	na = realloc(gl->items, (gl->n + 1) * sizeof(*na));
	if (!na)
		return ppx_error_set(PPX_ENOMEM, "out of memory");
	gl->items = na;
	gl->items[gl->n] = strdup(item);
	if (!gl->items[gl->n])
		return ppx_error_set(PPX_ENOMEM, "out of memory");
	gl->n++;
	return 0;
}

static int add_from(struct load *l, const struct ppx_ini_entry *e,
		    const char *item)
{
	return add_glob(&cur_rule(l)->from, e, item);
}

static int add_to(struct load *l, const struct ppx_ini_entry *e,
		  const char *item)
{
	return add_glob(&cur_rule(l)->to, e, item);
}

/* notification:GLOB: mark each NotificationKind the glob matches. */
static int add_kind_glob(struct rule *r, const struct ppx_ini_entry *e,
			 const char *item, const char *glob)
{
	const ProtobufCEnumDescriptor *d =
		&ppx__v1__notification_kind__descriptor;
	int matched = 0;

	if (!*glob || !chars_in(glob, KIND_GLOB_CHARS))
		return bad_item(e, item, "a notification kind is written in "
				"capitals, e.g. notification:RELEASE_DATE");
	for (unsigned i = 0; i < d->n_values; i++) {
		int v = d->values[i].value;

		if (v <= 0 || v >= KIND_SLOTS ||
		    fnmatch(glob, d->values[i].name, 0) != 0)
			continue;
		r->kinds[v] = 1;
		matched = 1;
	}
	if (matched)
		return 0;
	if (strpbrk(glob, "*?["))
		return bad_item(e, item, "matches no NotificationKind "
				"(see proto/ppx.proto)");
	return bad_item(e, item, "not a NotificationKind (see "
			"proto/ppx.proto)");
}

/* One item of kinds into r: "*", a family, or notification:KIND-GLOB. */
static int add_kind_to(struct rule *r, const struct ppx_ini_entry *e,
		       const char *item)
{
	const char *colon = strchr(item, ':');
	size_t n = colon ? (size_t)(colon - item) : strlen(item);

	if (strcmp(item, "*") == 0) {
		r->families = ALL_FAMILIES;
		return 0;
	}
	for (size_t i = 0; i < N_FAMILIES; i++) {
		if (strlen(families[i].name) != n ||
		    strncmp(families[i].name, item, n) != 0)
			continue;
		if (!colon) {
			r->families |= 1u << i;
			return 0;
		}
		if (families[i].payload != PPX__V1__BODY__PAYLOAD_NOTIFICATION)
			return bad_item(e, item, "only notification has kinds;"
					" name the family alone");
		return add_kind_glob(r, e, item, colon + 1);
	}
	return bad_item(e, item, "unknown family; expected notification, "
			"minutes, disclosure, partner_record, "
			"acknowledgement, action_update, or *");
}

static int add_kind(struct load *l, const struct ppx_ini_entry *e,
		    const char *item)
{
	return add_kind_to(cur_rule(l), e, item);
}

static int add_person_kind(struct load *l, const struct ppx_ini_entry *e,
			   const char *item)
{
	return add_kind_to(&l->pol->person, e, item);
}

static int add_subject(struct load *l, const struct ppx_ini_entry *e,
		       const char *item)
{
	struct dtc *d = cur_dtc(l);
	int rc;

	if (!ppx_subject_key_valid(item))
		return bad_item(e, item, "a subject key is pnc:, cro:, crn:, "
				"prison: or visor: and the identifier, e.g. "
				"crn:X123456");
	rc = ppx_config_grow((void **)&d->subjects, &d->cap, d->n,
			     POLICY_MAX_SUBJECTS, sizeof(*d->subjects));
	if (rc < 0)
		return bad_item(e, item, rc == PPX_ERANGE ? "too many subjects"
				: "out of memory");
	d->subjects[d->n] = strdup(item);
	if (!d->subjects[d->n])
		return ppx_error_set(PPX_ENOMEM, "out of memory");
	d->n++;
	return 0;
}

static int set_marking(struct load *l, const struct ppx_ini_entry *e)
{
	struct rule *r = cur_rule(l);

	if (strcmp(e->value, "OFFICIAL") == 0)
		r->max_marking = PPX__V1__PROTECTIVE_MARKING__OFFICIAL;
	else if (strcmp(e->value, "OFFICIAL-SENSITIVE") == 0 ||
		 strcmp(e->value, "OFFICIAL_SENSITIVE") == 0)
		r->max_marking = PPX__V1__PROTECTIVE_MARKING__OFFICIAL_SENSITIVE;
	else
		return ppx_error_set(PPX_EINVAL, "[%s] max_marking = %s: must "
				     "be OFFICIAL or OFFICIAL-SENSITIVE",
				     e->section, e->value);
	return 0;
}

static int set_ct(struct load *l, const struct ppx_ini_entry *e)
{
	struct rule *r = cur_rule(l);

	if (strcmp(e->value, "allow") == 0)
		r->allow_ct = 1;
	else if (strcmp(e->value, "deny") == 0)
		r->allow_ct = 0;
	else
		return ppx_error_set(PPX_EINVAL, "[%s] counter_terrorism = %s: "
				     "must be allow or deny", e->section,
				     e->value);
	return 0;
}

/* Call `fn` for each comma-separated item of `e`, trimmed; empty items
 * (such as after a trailing comma) are skipped. */
static int each_item(struct load *l, const struct ppx_ini_entry *e, item_fn *fn)
{
	const char *s = e->value;
	char item[ITEM_MAX];

	while (*s) {
		const char *end = strchr(s, ',');
		const char *next;
		size_t n;

		if (!end)
			end = s + strlen(s);
		next = *end ? end + 1 : end;
		while (s < end && (*s == ' ' || *s == '\t'))
			s++;
		while (end > s && (end[-1] == ' ' || end[-1] == '\t'))
			end--;
		n = (size_t)(end - s);
		if (n >= sizeof(item))
			return ppx_error_set(PPX_EINVAL, "[%s] %s: an item is "
					     "longer than %zu characters",
					     e->section, e->name,
					     sizeof(item) - 1);
		memcpy(item, s, n);
		item[n] = '\0';
		int rc = n ? fn(l, e, item) : 0;
		if (rc < 0)
			return rc;
		s = next;
	}
	return 0;
}

static int on_key(void *user, const struct ppx_ini_entry *e)
{
	struct load *l = user;
	const struct pkey *k = NULL;

	for (size_t i = 0; i < N_PKEYS; i++)
		if (pkeys[i].section == l->sec &&
		    strcmp(pkeys[i].name, e->name) == 0)
			k = &pkeys[i];
	if (!k)
		return ppx_error_set(PPX_EINVAL, "[%s] %s: unknown key (see "
				     "docs/CONFIG.md)", e->section, e->name);
	if (e->continued && !k->item)
		return ppx_error_set(PPX_EINVAL, "[%s] %s: this indented line "
				     "would continue its value; only lists "
				     "may go on over lines", e->section,
				     e->name);
	if (!e->continued && l->seen[k - pkeys])
		return ppx_error_set(PPX_EINVAL, "[%s] %s given twice (first "
				     "at line %d)", e->section, e->name,
				     l->seen[k - pkeys]);
	if (!e->continued)
		l->seen[k - pkeys] = e->line;
	return k->item ? each_item(l, e, k->item) : k->set(l, e);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The section that ends has its required keys; its subjects are sorted
 * and each given once. */
static int close_section(struct load *l, int *line)
{
	const char *title = l->sec == PSEC_RULE ? "rule" : "duty-to-cooperate";
	const char *name;
	struct dtc *d;

	if (l->sec == PSEC_NONE || l->sec == PSEC_SIGNATURES)
		return 0;
	name = l->sec == PSEC_RULE ? cur_rule(l)->name : cur_dtc(l)->agency;
	*line = l->sec == PSEC_RULE ? cur_rule(l)->line : cur_dtc(l)->line;
	for (size_t i = 0; i < N_PKEYS; i++)
		if (pkeys[i].section == l->sec && pkeys[i].required &&
		    !l->seen[i])
			return ppx_error_set(PPX_EINVAL, "[%s %s] has no %s; it "
					     "is required", title, name,
					     pkeys[i].name);
	if (l->sec != PSEC_DTC)
		return 0;
	d = cur_dtc(l);
	/* An agency with no cases yet has no list at all (NULL): qsort must
	 * not be given it. */
	if (d->n > 1)
		qsort(d->subjects, d->n, sizeof(*d->subjects), cmp_str);
	for (size_t i = 1; i < d->n; i++)
		if (strcmp(d->subjects[i - 1], d->subjects[i]) == 0)
			return ppx_error_set(PPX_EINVAL, "[%s %s]: subject %s "
					     "listed twice", title, name,
					     d->subjects[i]);
	return 0;
}

/* A rule name: ^[a-z0-9][a-z0-9._-]*$, shorter than 64. */
static int rule_name_valid(const char *s)
{
	if (!*s || strlen(s) >= sizeof(((struct rule *)0)->name) ||
	    !strchr("abcdefghijklmnopqrstuvwxyz0123456789", *s))
		return 0;
	return chars_in(s, "abcdefghijklmnopqrstuvwxyz0123456789._-");
}

static int open_rule(struct load *l, const char *name, int line)
{
	ppxd_policy *pol = l->pol;
	struct rule *r;
	int rc;

	if (!rule_name_valid(name))
		return ppx_error_set(PPX_EINVAL, "[rule %s]: a rule name is "
				     "lower case a-z, 0-9, '.', '_', '-'", name);
	for (size_t i = 0; i < pol->n_rules; i++)
		if (strcmp(pol->rules[i].name, name) == 0)
			return ppx_error_set(PPX_EINVAL, "[rule %s] given twice"
					     " (first at line %d)", name,
					     pol->rules[i].line);
	rc = ppx_config_grow((void **)&pol->rules, &pol->cap_rules,
			     pol->n_rules, POLICY_MAX_RULES, sizeof(*r));
	if (rc < 0)
		return ppx_error_set(rc, "[rule %s]: %s", name, rc == PPX_ERANGE
				     ? "more than 1024 rules" : "out of memory");
	r = &pol->rules[pol->n_rules++];
	memset(r, 0, sizeof(*r));
	memcpy(r->name, name, strlen(name) + 1);
	r->line = line;
	r->max_marking = PPX__V1__PROTECTIVE_MARKING__OFFICIAL_SENSITIVE;
	l->sec = PSEC_RULE;
	return 0;
}

static int open_dtc(struct load *l, const char *agency, int line)
{
	ppxd_policy *pol = l->pol;
	struct dtc *d;
	int rc;

	if (!ppx_config_agency_name_valid(agency))
		return ppx_error_set(PPX_EINVAL, "[duty-to-cooperate %s]: not a"
				     " dotted agency name such as "
				     "housing.newport", agency);
	for (size_t i = 0; i < pol->n_dtcs; i++)
		if (strcmp(pol->dtcs[i].agency, agency) == 0)
			return ppx_error_set(PPX_EINVAL, "[duty-to-cooperate "
					     "%s] given twice (first at line "
					     "%d)", agency, pol->dtcs[i].line);
	rc = ppx_config_grow((void **)&pol->dtcs, &pol->cap_dtcs, pol->n_dtcs,
			     POLICY_MAX_DTC, sizeof(*d));
	if (rc < 0)
		return ppx_error_set(rc, "[duty-to-cooperate %s]: %s", agency,
				     rc == PPX_ERANGE ? "more than 256 such "
				     "agencies" : "out of memory");
	d = &pol->dtcs[pol->n_dtcs++];
	memset(d, 0, sizeof(*d));
	memcpy(d->agency, agency, strlen(agency) + 1);
	d->line = line;
	l->sec = PSEC_DTC;
	return 0;
}

static int open_signatures(struct load *l, int line)
{
	if (l->pol->signatures_line)
		return ppx_error_set(PPX_EINVAL, "[signatures] given twice "
				     "(first at line %d)",
				     l->pol->signatures_line);
	l->pol->signatures_line = line;
	l->sec = PSEC_SIGNATURES;
	return 0;
}

static int on_section(void *user, const char *section, int *line)
{
	struct load *l = user;
	int header = *line;
	int rc = close_section(l, line);

	if (rc < 0)
		return rc;
	*line = header;
	memset(l->seen, 0, sizeof(l->seen));
	l->sec = PSEC_NONE;
	if (strncmp(section, "rule ", 5) == 0)
		return open_rule(l, section + 5, header);
	if (strncmp(section, "duty-to-cooperate ", 18) == 0)
		return open_dtc(l, section + 18, header);
	if (strcmp(section, "signatures") == 0)
		return open_signatures(l, header);
	return ppx_error_set(PPX_EINVAL, "[%s]: unknown section; expected "
			     "[rule NAME], [duty-to-cooperate AGENCY] or "
			     "[signatures]", section);
}

static int on_end(void *user, int *line)
{
	return close_section(user, line);
}

int policy_load(ppxd_policy **out, const char *path)
{
	static const struct ppx_ini_handler h = {on_section, on_key, on_end};
	struct load l = {0};
	int rc;

	*out = NULL;
	if (strlen(path) >= sizeof(l.pol->path))
		return ppx_error_set(PPX_EINVAL, "%s: path too long", path);
	l.pol = calloc(1, sizeof(*l.pol));
	if (!l.pol)
		return ppx_error_set(PPX_ENOMEM, "out of memory");
	memcpy(l.pol->path, path, strlen(path) + 1);
	rc = ppx_ini_parse(path, &h, &l);
	if (rc < 0) {
		policy_free(l.pol);
		return rc;
	}
	*out = l.pol;
	return 0;
}

static void glob_list_free(struct glob_list *gl)
{
	for (size_t i = 0; i < gl->n; i++)
		free(gl->items[i]);
	free(gl->items);
}

void policy_free(ppxd_policy *self)
{
	if (!self)
		return;
	for (size_t i = 0; i < self->n_rules; i++) {
		glob_list_free(&self->rules[i].from);
		glob_list_free(&self->rules[i].to);
	}
	for (size_t i = 0; i < self->n_dtcs; i++)
		ppx_subject_keys_free(self->dtcs[i].subjects, self->dtcs[i].n);
	free(self->rules);
	free(self->dtcs);
	free(self);
}

/* ------------------------------------------------------------------ */
/* Checking                                                            */
/* ------------------------------------------------------------------ */

static int glob_any(const struct glob_list *gl, const char *agency)
{
	for (size_t i = 0; i < gl->n; i++)
		if (fnmatch(gl->items[i], agency, 0) == 0)
			return 1;
	return 0;
}

static int rule_matches(const struct rule *r, const struct policy_query *q)
{
	int fi = family_index(q->family);

	if (!glob_any(&r->from, q->from) || !glob_any(&r->to, q->to))
		return 0;
	if (r->families & (1u << fi))
		return 1;
	return q->family == PPX__V1__BODY__PAYLOAD_NOTIFICATION &&
	       r->kinds[q->kind];
}

/*
 * The query is one the rules can answer; `what` becomes its family and
 * kind as the file writes them, e.g. "notification:ARREST".
 */
static int query_describe(char *what, size_t size,
			  const struct policy_query *q)
{
	const char *kind;
	int fi = family_index(q->family);

	if (!q->from || !q->to || (q->n_subjects && !q->subjects))
		return ppx_error_set(PPX_EPOLICY, "policy: incomplete query");
	if (fi < 0)
		return ppx_error_set(PPX_EPOLICY, "policy: message from %s has "
				     "no known family (payload %d)", q->from,
				     q->family);
	if (q->marking != PPX__V1__PROTECTIVE_MARKING__OFFICIAL &&
	    q->marking != PPX__V1__PROTECTIVE_MARKING__OFFICIAL_SENSITIVE)
		return ppx_error_set(PPX_EPOLICY, "policy: message from %s has "
				     "no known protective marking (%d)",
				     q->from, q->marking);
	if (q->family != PPX__V1__BODY__PAYLOAD_NOTIFICATION) {
		snprintf(what, size, "%s", families[fi].name);
		return 0;
	}
	kind = ppx_notification_kind_name(q->kind);
	if (!kind || q->kind <= 0 || q->kind >= KIND_SLOTS)
		return ppx_error_set(PPX_EPOLICY, "policy: notification from %s"
				     " has no known kind (%d)", q->from,
				     q->kind);
	snprintf(what, size, "notification:%s", kind);
	return 0;
}

/* Some rule lets the query pass on sender, recipient, kind, marking and
 * counter-terrorism; otherwise say which of these stopped it. */
static int rules_allow(const ppxd_policy *self, const struct policy_query *q,
		       const char *what)
{
	const struct rule *near = NULL;

	for (size_t i = 0; i < self->n_rules; i++) {
		const struct rule *r = &self->rules[i];

		if (!rule_matches(r, q))
			continue;
		if (q->marking <= r->max_marking &&
		    (!q->counter_terrorism || r->allow_ct))
			return 0;
		if (!near)
			near = r;
	}
	if (!near)
		return ppx_error_set(PPX_EPOLICY, "policy: no rule lets %s send "
				     "%s to %s", q->from, what, q->to);
	if (q->marking > near->max_marking)
		return ppx_error_set(PPX_EPOLICY, "policy: no rule lets %s send "
				     "%s marked %s to %s (rule %s allows up to "
				     "%s)", q->from, what,
				     marking_name(q->marking), q->to,
				     near->name,
				     marking_name(near->max_marking));
	return ppx_error_set(PPX_EPOLICY, "policy: no rule lets %s send "
			     "counter-terrorism material (%s) to %s", q->from,
			     what, q->to);
}

static const struct dtc *dtc_find(const ppxd_policy *self,
				  const char *agency)
{
	for (size_t i = 0; i < self->n_dtcs; i++)
		if (strcmp(self->dtcs[i].agency, agency) == 0)
			return &self->dtcs[i];
	return NULL;
}

void policy_keys_text(char *out, size_t cap, const char *const *keys,
		      size_t n)
{
	size_t used = 0;

	if (cap == 0)
		return;
	out[0] = '\0';
	for (size_t i = 0; i < n && used < cap; i++) {
		int w;

		if (!keys[i])
			continue;
		w = snprintf(out + used, cap - used, "%s%s", used ? ", " : "",
			     keys[i]);
		used += w > 0 ? (size_t)w : 0;
	}
}

/* One of the message's subject keys is in T's static list (the
 * override). */
static int dtc_lists_subject(const struct dtc *d, const struct policy_query *q)
{
	for (size_t i = 0; i < q->n_subjects; i++) {
		const char *k = q->subjects[i];

		if (k && d->n && bsearch(&k, d->subjects, d->n,
					 sizeof(*d->subjects), cmp_str))
			return 1;
	}
	return 0;
}

/*
 * Need to know of a duty-to-co-operate recipient (PROTOCOL.md 3.5): the
 * static list, an emergency, the message itself as a partner record that
 * lists it, or the latest partner records of the case in our log.
 */
static int dtc_allow(const ppxd_policy *self, const struct policy_query *q)
{
	static const struct ppx_case none;	/* no record held */
	const struct dtc *d = dtc_find(self, q->to);
	char keys[256], why[512];

	if ((!d && !q->to_dtc) || (d && dtc_lists_subject(d, q)) ||
	    q->emergency)
		return 0;
	if (q->record && ppx_record_lists_agency(q->record, q->to))
		return 0;
	if (ppx_case_lists_agency(q->cas ? q->cas : &none, q->to, why,
				  sizeof(why)))
		return 0;
	policy_keys_text(keys, sizeof(keys), q->subjects, q->n_subjects);
	if (!d)	/* duty-to-co-operate by its type: no static list */
		return ppx_error_set(PPX_EPOLICY, "policy: %s is a duty-to-"
				     "co-operate agency not on the case of "
				     "%s: %s", q->to, keys[0] ? keys :
				     "a message that names no subject",
				     why);
	if (!keys[0])
		return ppx_error_set(PPX_EPOLICY, "policy: %s is not on any "
				     "case: the message names no subject, and "
				     "only a subject's case or [duty-to-"
				     "cooperate %s] lets it receive", q->to,
				     q->to);
	return ppx_error_set(PPX_EPOLICY, "policy: %s is not on the case of "
			     "%s: %s, and [duty-to-cooperate %s] does not list "
			     "%s", q->to, keys, why, q->to,
			     q->n_subjects > 1 ? "any of them" : keys);
}

int policy_person_required(const ppxd_policy *self, const Ppx__V1__Body *b,
			   char *what, size_t size)
{
	int fi = family_index((int)b->payload_case);
	int kind = b->payload_case == PPX__V1__BODY__PAYLOAD_NOTIFICATION &&
			   b->notification
		   ? (int)b->notification->kind : 0;
	const char *kname = ppx_notification_kind_name(kind);

	if (fi < 0)
		return 0;
	if (kind > 0 && kind < KIND_SLOTS && kname)
		snprintf(what, size, "notification:%s", kname);
	else
		snprintf(what, size, "%s", families[fi].name);
	if (self->person.families & (1u << fi))
		return 1;
	return kind > 0 && kind < KIND_SLOTS && self->person.kinds[kind];
}

void policy_query_of(struct policy_query *q, const Ppx__V1__Body *b,
		     const char *from, char *const *subjects,
		     size_t n_subjects)
{
	memset(q, 0, sizeof(*q));
	q->from = from;
	q->family = (int)b->payload_case;
	q->kind = b->payload_case == PPX__V1__BODY__PAYLOAD_NOTIFICATION &&
			  b->notification
		  ? (int)b->notification->kind
		  : 0;
	q->marking = (int)b->marking;
	q->counter_terrorism = b->counter_terrorism;
	q->subjects = (const char *const *)subjects;
	q->n_subjects = n_subjects;
	if (b->payload_case == PPX__V1__BODY__PAYLOAD_PARTNER_RECORD)
		q->record = b->partner_record;
	q->emergency = b->emergency != NULL;
}

int policy_check(const ppxd_policy *self, const struct policy_query *q)
{
	char what[128];
	int rc = query_describe(what, sizeof(what), q);

	if (rc == 0)
		rc = rules_allow(self, q, what);
	if (rc == 0)
		rc = dtc_allow(self, q);
	return rc;
}

int policy_is_duty_to_cooperate(const ppxd_policy *self, const char *agency)
{
	return dtc_find(self, agency) != NULL;
}

int policy_check_config(const ppxd_policy *self, const struct ppx_config *cfg)
{
	for (size_t i = 0; i < cfg->n_partners; i++) {
		const struct ppx_partner *p = &cfg->partners[i];
		const struct dtc *d = dtc_find(self, p->name);

		if (p->from_directory)
			continue;	/* its type is the directory's; it has
					 * no [partner] section to set */
		if (p->duty_to_cooperate && !d)
			return ppx_error_set(PPX_EINVAL, "%s:%d: [partner %s] "
					     "is duty-to-cooperate but %s has "
					     "no [duty-to-cooperate %s] listing"
					     " its cases", cfg->path, p->line,
					     p->name, self->path, p->name);
		if (!p->duty_to_cooperate && d)
			return ppx_error_set(PPX_EINVAL, "%s:%d: [duty-to-"
					     "cooperate %s], but %s:%d makes it"
					     " a responsible-authority partner;"
					     " set its type", self->path,
					     d->line, p->name, cfg->path,
					     p->line);
	}
	return 0;
}
