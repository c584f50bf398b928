/*
 * test_policy.c — the policy lets a message pass only by a rule that
 * covers its sender, recipient, family and kind, marking and counter-
 * terrorism flag; a duty-to-co-operate agency gets only its own cases;
 * mistakes in the file are refused naming file:line.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../daemon/policy.h"
#include "ppx/subject.h"
#include "ppx/error.h"
#include "support.h"

#define NOTIFICATION PPX__V1__BODY__PAYLOAD_NOTIFICATION
#define MINUTES PPX__V1__BODY__PAYLOAD_MINUTES
#define DISCLOSURE PPX__V1__BODY__PAYLOAD_DISCLOSURE
#define ACK PPX__V1__BODY__PAYLOAD_ACKNOWLEDGEMENT
#define OFFICIAL PPX__V1__PROTECTIVE_MARKING__OFFICIAL
#define SENSITIVE PPX__V1__PROTECTIVE_MARKING__OFFICIAL_SENSITIVE
#define K(name) PPX__V1__NOTIFICATION_KIND__##name

static const char policy_text[] =
	"; who may send what to whom\n"				/* 1 */
	"[rule prison-to-probation]\n"
	"from = prison.*\n"
	"to = probation.*, police.*\n"
	"kinds = notification:RELEASE_DATE, notification:PRISON_*, "	/* 5 */
	"minutes, acknowledgement, action_update\n"
	"max_marking = OFFICIAL-SENSITIVE\n"
	"\n"
	"[rule police-to-partners]\n"
	"from = police.*\n"
	"to = probation.*, prison.*, housing.newport\n"		/* 10 */
	"kinds = *\n"
	"max_marking = OFFICIAL\n"
	"counter_terrorism = deny\n"
	"\n"
	"[rule police-ct]\n"					/* 15 */
	"from = police.gwent\n"
	"to = probation.gwent\n"
	"kinds = notification:INTELLIGENCE\n"
	"counter_terrorism = allow\n"
	"\n"							/* 20 */
	"[duty-to-cooperate housing.newport]\n"
	"subjects = crn:X123456, pnc:2019/0123456X,\n"
	"    prison:A1234BC\n";

struct fixture {
	char *dir;
	char path[1024];
	ppxd_policy *pol;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->dir = tmpdir_new();
	snprintf(f->path, sizeof(f->path), "%s/policy.conf", f->dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	policy_free(f->pol);
	tmpdir_remove(f->dir);
	free(f);
	return 0;
}

static int load(struct fixture *f, const char *text)
{
	policy_free(f->pol);
	f->pol = NULL;
	write_text(f->path, text);
	return policy_load(&f->pol, f->path);
}

/* Set up with the policy above. */
static int setup_loaded(void **state)
{
	struct fixture *f;

	setup(state);
	f = *state;
	if (load(f, policy_text) != 0)
		fail_msg("policy does not load: %s", ppx_error_last());
	return 0;
}

static void assert_refused(struct fixture *f, int rc, int line,
			   const char *what)
{
	char prefix[1100];
	const char *msg = ppx_error_last();

	snprintf(prefix, sizeof(prefix), "%s:%d: ", f->path, line);
	if (rc != PPX_EINVAL || strncmp(msg, prefix, strlen(prefix)) != 0 ||
	    !strstr(msg, what))
		fail_msg("rc %d, message \"%s\"; expected \"%s...%s\"", rc, msg,
			 prefix, what);
	assert_null(f->pol);
}

static const char *const case_x123456[] = {"crn:X123456"};

/* A query from `from` to `to`, OFFICIAL, not CT, about crn:X123456. */
static struct policy_query query(const char *from, const char *to,
				 int family, int kind)
{
	struct policy_query q = {0};

	q.from = from;
	q.to = to;
	q.family = family;
	q.kind = kind;
	q.marking = OFFICIAL;
	q.subjects = case_x123456;
	q.n_subjects = 1;
	return q;
}

static int check(struct fixture *f, struct policy_query q)
{
	ppx_error_clear();
	return policy_check(f->pol, &q);
}

/* Refused by policy, and the reason is `why` exactly. */
static void assert_denied(struct fixture *f, struct policy_query q,
			  const char *why)
{
	int rc = check(f, q);

	if (rc != PPX_EPOLICY || strcmp(ppx_error_last(), why) != 0)
		fail_msg("rc %d, \"%s\"; expected \"%s\"", rc, ppx_error_last(),
			 why);
}

static void test_policy__rule_allows_listed_kind(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(check(f, query("prison.cardiff", "probation.gwent",
					NOTIFICATION, K(RELEASE_DATE))), 0);
	assert_int_equal(check(f, query("prison.cardiff", "police.gwent",
					NOTIFICATION, K(RELEASE_DATE))), 0);
	assert_denied(f, query("prison.cardiff", "probation.gwent",
			       NOTIFICATION, K(ARREST)),
		      "policy: no rule lets prison.cardiff send "
		      "notification:ARREST to probation.gwent");
}

static void test_policy__kind_glob_allows_matching_kinds(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(check(f, query("prison.cardiff", "probation.gwent",
					NOTIFICATION,
					K(PRISON_ADJUDICATION))), 0);
	assert_int_equal(check(f, query("prison.cardiff", "probation.gwent",
					NOTIFICATION, K(PRISON_BEHAVIOUR))),
			 0);
	assert_denied(f, query("prison.cardiff", "probation.gwent",
			       NOTIFICATION, K(SECURITY_INTELLIGENCE)),
		      "policy: no rule lets prison.cardiff send "
		      "notification:SECURITY_INTELLIGENCE to probation.gwent");
}

static void test_policy__family_is_checked(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(check(f, query("prison.cardiff", "probation.gwent",
					MINUTES, 0)), 0);
	assert_int_equal(check(f, query("prison.cardiff", "probation.gwent",
					ACK, 0)), 0);
	assert_denied(f, query("prison.cardiff", "probation.gwent",
			       DISCLOSURE, 0),
		      "policy: no rule lets prison.cardiff send disclosure to "
		      "probation.gwent");
	/* "*" is every family and every kind. */
	assert_int_equal(check(f, query("police.gwent", "prison.cardiff",
					DISCLOSURE, 0)), 0);
	assert_int_equal(check(f, query("police.gwent", "prison.cardiff",
					NOTIFICATION, K(LICENCE_EXPIRY))), 0);
}

static void test_policy__sender_and_recipient_globs_are_checked(
	void **state)
{
	struct fixture *f = *state;

	assert_denied(f, query("prison.cardiff", "housing.newport", MINUTES,
			       0),
		      "policy: no rule lets prison.cardiff send minutes to "
		      "housing.newport");
	assert_denied(f, query("probation.gwent", "police.gwent", MINUTES, 0),
		      "policy: no rule lets probation.gwent send minutes to "
		      "police.gwent");
	/* A glob "prison.*" is not a prefix match on "prisonx.cardiff". */
	assert_int_equal(check(f, query("prisonx.cardiff", "police.gwent",
					MINUTES, 0)), PPX_EPOLICY);
}

static void test_policy__marking_above_max_is_refused(void **state)
{
	struct fixture *f = *state;
	struct policy_query q = query("police.gwent", "prison.cardiff",
				      NOTIFICATION, K(ARREST));

	assert_int_equal(check(f, q), 0);
	q.marking = SENSITIVE;
	assert_denied(f, q, "policy: no rule lets police.gwent send "
		      "notification:ARREST marked OFFICIAL-SENSITIVE to "
		      "prison.cardiff (rule police-to-partners allows up to "
		      "OFFICIAL)");
	/* The default maximum is OFFICIAL-SENSITIVE. */
	q = query("police.gwent", "probation.gwent", NOTIFICATION,
		  K(INTELLIGENCE));
	q.marking = SENSITIVE;
	assert_int_equal(check(f, q), 0);
}

static void test_policy__ct_material_needs_a_rule_that_allows_it(
	void **state)
{
	struct fixture *f = *state;
	struct policy_query q = query("police.gwent", "probation.gwent",
				      NOTIFICATION, K(INTELLIGENCE));

	q.counter_terrorism = 1;
	assert_int_equal(check(f, q), 0);
	q.kind = K(ARREST);
	assert_denied(f, q, "policy: no rule lets police.gwent send "
		      "counter-terrorism material (notification:ARREST) to "
		      "probation.gwent");
	q.counter_terrorism = 0;
	assert_int_equal(check(f, q), 0);
}

static void test_policy__dtc_agency_gets_only_its_cases(void **state)
{
	struct fixture *f = *state;
	static const char *const other[] = {"crn:X999"};
	static const char *const two[] = {"crn:X999", "pnc:2019/0123456X"};
	static const char *const continued[] = {"prison:A1234BC"};
	struct policy_query q = query("police.gwent", "housing.newport",
				      NOTIFICATION, K(ARREST));

	assert_int_equal(check(f, q), 0);
	q.subjects = two;
	q.n_subjects = 2;
	assert_int_equal(check(f, q), 0);
	q.subjects = continued;
	q.n_subjects = 1;
	assert_int_equal(check(f, q), 0);
	q.subjects = other;
	assert_denied(f, q, "policy: housing.newport is not on the case of "
		      "crn:X999: this agency holds no partner record of the "
		      "case, and [duty-to-cooperate housing.newport] does not "
		      "list crn:X999");
	/* An emergency waives need to know (and only it). */
	q.emergency = 1;
	assert_int_equal(check(f, q), 0);
	q.emergency = 0;
	q.subjects = NULL;
	q.n_subjects = 0;
	assert_denied(f, q, "policy: housing.newport is not on any case: the "
		      "message names no subject, and only a subject's case or "
		      "[duty-to-cooperate housing.newport] lets it receive");
	/* Other recipients are not limited to these cases. */
	q = query("police.gwent", "probation.gwent", NOTIFICATION, K(ARREST));
	q.subjects = other;
	assert_int_equal(check(f, q), 0);
}

/*
 * With an empty static list the case decides (PROTOCOL.md 3.5): the
 * latest records of the case as the caller loaded them, or the message
 * itself when it is a partner record that lists the recipient.  An
 * emergency waives this test and never the rules: counter-terrorism
 * material stays refused.
 */
static void test_policy__dtc_the_case_decides(void **state)
{
	struct fixture *f = *state;
	char *on[] = {(char *)"police.gwent", (char *)"housing.newport"};
	char *off[] = {(char *)"police.gwent"};
	Ppx__V1__PartnerRecord r = PPX__V1__PARTNER_RECORD__INIT;
	Ppx__V1__Body b = PPX__V1__BODY__INIT;
	struct ppx_case c = {0};
	struct policy_query q;

	if (load(f, "[rule police]\nfrom = police.*\nto = housing.*\n"
		    "kinds = *\n[duty-to-cooperate housing.newport]\n"
		    "subjects =\n") != 0)
		fail_msg("%s", ppx_error_last());
	q = query("police.gwent", "housing.newport", NOTIFICATION, K(ARREST));
	assert_denied(f, q, "policy: housing.newport is not on the case of "
		      "crn:X123456: this agency holds no partner record of the "
		      "case, and [duty-to-cooperate housing.newport] does not "
		      "list crn:X123456");
	r.record_id = (char *)"JS-1";
	r.version = 3;
	r.partner_agencies = off;
	r.n_partner_agencies = 1;
	b.sender_agency = (char *)"police.gwent";
	b.payload_case = PPX__V1__BODY__PAYLOAD_PARTNER_RECORD;
	b.partner_record = &r;
	c.records[0].body = &b;
	c.n = 1;
	q.cas = &c;
	assert_denied(f, q, "policy: housing.newport is not on the case of "
		      "crn:X123456: partner record JS-1 v3 (police.gwent) does "
		      "not list housing.newport, and [duty-to-cooperate "
		      "housing.newport] does not list crn:X123456");
	r.partner_agencies = on;
	r.n_partner_agencies = 2;
	assert_int_equal(check(f, q), 0);
	/* a partner record that lists it passes against a case that does
	 * not: the update adding it back */
	q.record = &r;
	q.cas = NULL;
	assert_int_equal(check(f, q), 0);
	q.record = NULL;
	q.emergency = 1;
	assert_int_equal(check(f, q), 0);
	q.counter_terrorism = 1;
	assert_denied(f, q, "policy: no rule lets police.gwent send "
		      "counter-terrorism material (notification:ARREST) to "
		      "housing.newport");
}

/* An agency the directory lists with a duty-to-co-operate type needs no
 * [duty-to-cooperate] section to be held to its cases: with none, its
 * static list is empty and the case decides. */
static void test_policy__dtc_by_type_without_a_section(void **state)
{
	struct fixture *f = *state;
	char *on[] = {(char *)"police.gwent", (char *)"health.gwent"};
	Ppx__V1__PartnerRecord r = PPX__V1__PARTNER_RECORD__INIT;
	Ppx__V1__Body b = PPX__V1__BODY__INIT;
	struct ppx_case c = {0};
	struct policy_query q;

	if (load(f, "[rule police]\nfrom = police.*\nto = *\nkinds = *\n") != 0)
		fail_msg("%s", ppx_error_last());
	q = query("police.gwent", "health.gwent", NOTIFICATION, K(ARREST));
	assert_int_equal(check(f, q), 0);	/* a responsible authority */
	q.to_dtc = 1;
	assert_denied(f, q, "policy: health.gwent is a duty-to-co-operate "
		      "agency not on the case of crn:X123456: this agency "
		      "holds no partner record of the case");
	r.record_id = (char *)"JS-1";
	r.version = 1;
	r.partner_agencies = on;
	r.n_partner_agencies = 2;
	b.sender_agency = (char *)"police.gwent";
	b.payload_case = PPX__V1__BODY__PAYLOAD_PARTNER_RECORD;
	b.partner_record = &r;
	c.records[0].body = &b;
	c.n = 1;
	q.cas = &c;
	assert_int_equal(check(f, q), 0);
	q.cas = NULL;
	q.emergency = 1;
	assert_int_equal(check(f, q), 0);
}

/* Replies carry the subject, and are held to it like anything else. */
static void test_policy__dtc_limit_applies_to_acknowledgements(void **state)
{
	struct fixture *f = *state;
	static const char *const other[] = {"crn:X999"};
	struct policy_query q = query("police.gwent", "housing.newport", ACK,
				      0);

	assert_int_equal(check(f, q), 0);
	q.subjects = other;
	assert_int_equal(check(f, q), PPX_EPOLICY);
	assert_int_equal(policy_is_duty_to_cooperate(f->pol, "housing.newport"),
			 1);
	assert_int_equal(policy_is_duty_to_cooperate(f->pol, "police.gwent"),
			 0);
}

static void test_policy__unknown_query_values_are_refused(void **state)
{
	struct fixture *f = *state;
	struct policy_query q = query("police.gwent", "prison.cardiff",
				      NOTIFICATION, 0);

	assert_int_equal(check(f, q), PPX_EPOLICY);
	assert_non_null(strstr(ppx_error_last(), "no known kind"));
	q.kind = 9999;
	assert_int_equal(check(f, q), PPX_EPOLICY);
	q = query("police.gwent", "prison.cardiff", 0, 0);
	assert_int_equal(check(f, q), PPX_EPOLICY);
	assert_non_null(strstr(ppx_error_last(), "no known family"));
	q = query("police.gwent", "prison.cardiff", MINUTES, 0);
	q.marking = 0;
	assert_int_equal(check(f, q), PPX_EPOLICY);
	assert_non_null(strstr(ppx_error_last(), "protective marking"));
	q.marking = 3;
	assert_int_equal(check(f, q), PPX_EPOLICY);
}

static void test_policy__empty_policy_refuses_everything(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(load(f, "; nothing yet\n"), 0);
	assert_int_equal(check(f, query("police.gwent", "probation.gwent",
					MINUTES, 0)), PPX_EPOLICY);
}

static void test_policy__subject_keys_from_subject_ids(void **state)
{
	Ppx__V1__SubjectIds ids = PPX__V1__SUBJECT_IDS__INIT;
	char **keys = NULL;
	size_t n = 99;

	(void)state;
	assert_int_equal(ppx_subject_keys(&keys, &n, NULL), 0);
	assert_int_equal(n, 0);
	ppx_subject_keys_free(keys, n);
	assert_int_equal(ppx_subject_keys(&keys, &n, &ids), 0);
	assert_int_equal(n, 0);
	ppx_subject_keys_free(keys, n);
	ids.pnc_id = "2019/0123456X";
	ids.crn = "X123456";
	ids.prison_number = "A1234BC";
	ids.visor_id = "V42";
	ids.cro_number = "";
	ids.name = "John Smith";	/* names are not keys */
	assert_int_equal(ppx_subject_keys(&keys, &n, &ids), 0);
	assert_int_equal(n, 4);
	assert_string_equal(keys[0], "pnc:2019/0123456X");
	assert_string_equal(keys[1], "crn:X123456");
	assert_string_equal(keys[2], "prison:A1234BC");
	assert_string_equal(keys[3], "visor:V42");
	ppx_subject_keys_free(keys, n);
}

static void test_policy__check_config_wants_dtc_sections(void **state)
{
	struct fixture *f = *state;
	struct ppx_config cfg;
	struct ppx_partner partners[2];

	memset(&cfg, 0, sizeof(cfg));
	memset(partners, 0, sizeof(partners));
	snprintf(cfg.path, sizeof(cfg.path), "/etc/ppx/police.conf");
	snprintf(partners[0].name, sizeof(partners[0].name), "housing.newport");
	partners[0].duty_to_cooperate = 1;
	partners[0].line = 30;
	snprintf(partners[1].name, sizeof(partners[1].name), "yot.newport");
	partners[1].duty_to_cooperate = 1;
	partners[1].line = 33;
	cfg.partners = partners;
	cfg.n_partners = 1;
	assert_int_equal(policy_check_config(f->pol, &cfg), 0);
	cfg.n_partners = 2;
	assert_int_equal(policy_check_config(f->pol, &cfg), PPX_EINVAL);
	assert_non_null(strstr(ppx_error_last(), "/etc/ppx/police.conf:33: "
			       "[partner yot.newport] is duty-to-cooperate"));
	partners[0].duty_to_cooperate = 0;
	assert_int_equal(policy_check_config(f->pol, &cfg), PPX_EINVAL);
	assert_non_null(strstr(ppx_error_last(), ":21: [duty-to-cooperate "
			       "housing.newport]"));
}

/* docs/examples: the policy loads, agrees with the example config, and
 * says what its comments say (run from the top of the tree). */
static void test_policy__example_policy_fits_example_config(void **state)
{
	struct fixture *f = *state;
	struct ppx_config *cfg = NULL;
	struct policy_query q;

	if (ppx_config_load(&cfg, "docs/examples/police.gwent.conf") != 0 ||
	    policy_load(&f->pol, cfg->policy_path) != 0)
		fail_msg("%s", ppx_error_last());
	assert_int_equal(policy_check_config(f->pol, cfg), 0);
	q = query("police.gwent", "housing.newport", NOTIFICATION,
		  K(ADDRESS_PROPOSED));
	q.marking = SENSITIVE;
	assert_int_equal(check(f, q), 0);
	q.kind = K(ARREST);
	assert_int_equal(check(f, q), PPX_EPOLICY);
	q = query("police.gwent", "probation.gwent", MINUTES, 0);
	q.counter_terrorism = 1;
	assert_int_equal(check(f, q), 0);
	q.to = "prison.cardiff";
	assert_int_equal(check(f, q), PPX_EPOLICY);
	ppx_config_free(cfg);
}

/* ---- mistakes in the file ------------------------------------------ */

static void test_policy__unknown_kind_name_names_file_and_line(void **state)
{
	struct fixture *f = *state;

	assert_refused(f, load(f, "[rule a]\nfrom = police.*\nto = *\n"
			       "kinds = minutes, notification:ARRESTED\n"),
		       4, "[rule a] kinds: notification:ARRESTED: not a "
		       "NotificationKind");
	assert_refused(f, load(f, "[rule a]\nkinds = notification:arrest\n"),
		       2, "written in capitals");
}

static void test_policy__glob_matching_no_kind_names_file_and_line(
	void **state)
{
	struct fixture *f = *state;

	assert_refused(f, load(f, "[rule a]\nfrom = police.*\n\n"
			       "kinds = notification:PRISON_X*\n"),
		       4, "notification:PRISON_X*: matches no "
		       "NotificationKind");
}

static void test_policy__unknown_family_names_file_and_line(void **state)
{
	struct fixture *f = *state;

	assert_refused(f, load(f, "[rule a]\nkinds = notifications\n"), 2,
		       "[rule a] kinds: notifications: unknown family");
	assert_refused(f, load(f, "[rule a]\nkinds = minutes:LEVEL_SET\n"), 2,
		       "only notification has kinds");
}

static void test_policy__unknown_key_names_file_and_line(void **state)
{
	struct fixture *f = *state;

	assert_refused(f, load(f, "[rule a]\nfrom = police.*\nmarking = "
			       "OFFICIAL\n"),
		       3, "[rule a] marking: unknown key");
	assert_refused(f, load(f, "[duty-to-cooperate housing.newport]\n"
			       "kinds = *\n"),
		       2, "unknown key");
}

static void test_policy__unknown_section_names_file_and_line(void **state)
{
	struct fixture *f = *state;

	assert_refused(f, load(f, "[rule a]\nfrom = a.b\nto = c.d\nkinds = *\n"
			       "[rules b]\n"),
		       5, "[rules b]: unknown section");
	assert_refused(f, load(f, "[duty-to-cooperate Housing]\n"), 1,
		       "not a dotted agency name");
}

static void test_policy__missing_required_key_names_the_rule(void **state)
{
	struct fixture *f = *state;

	assert_refused(f, load(f, "\n[rule a]\nfrom = police.*\nto = *\n\n"
			       "[rule b]\n"),
		       2, "[rule a] has no kinds; it is required");
	assert_refused(f, load(f, "[duty-to-cooperate housing.newport]\n"), 1,
		       "has no subjects");
}

static void test_policy__bad_values_are_refused(void **state)
{
	struct fixture *f = *state;

	assert_refused(f, load(f, "[rule a]\nmax_marking = SECRET\n"), 2,
		       "must be OFFICIAL or OFFICIAL-SENSITIVE");
	assert_refused(f, load(f, "[rule a]\ncounter_terrorism = yes\n"), 2,
		       "must be allow or deny");
	assert_refused(f, load(f, "[rule a]\nfrom = Police.*\n"), 2,
		       "[rule a] from: Police.*: not an agency name or glob");
	assert_refused(f, load(f, "[duty-to-cooperate housing.newport]\n"
			       "subjects = crn:X1, nhs:123\n"),
		       2, "nhs:123: a subject key is pnc:");
	assert_refused(f, load(f, "[duty-to-cooperate housing.newport]\n"
			       "subjects = crn:X1,\n  crn:X1\n"),
		       1, "subject crn:X1 listed twice");
}

static void test_policy__repeats_are_refused(void **state)
{
	struct fixture *f = *state;

	assert_refused(f, load(f, "[rule a]\nfrom = a.b\nto = c.d\nkinds = *\n"
			       "[rule a]\n"),
		       5, "[rule a] given twice (first at line 1)");
	assert_refused(f, load(f, "[rule a]\nfrom = a.b\nfrom = c.d\n"), 3,
		       "[rule a] from given twice (first at line 2)");
	/* Only lists may go on over indented lines. */
	assert_refused(f, load(f, "[rule a]\nmax_marking = OFFICIAL\n"
			       "  -SENSITIVE\n"),
		       3, "only lists may go on over lines");
}

/* [signatures] require_person_signature: families and kinds, once. */
static void test_policy__person_signature_required_for_listed_kinds(
	void **state)
{
	struct fixture *f = *state;
	Ppx__V1__Body b = PPX__V1__BODY__INIT;
	Ppx__V1__Notification n = PPX__V1__NOTIFICATION__INIT;
	char what[96];

	assert_int_equal(load(f, "[signatures]\nrequire_person_signature = "
			      "disclosure,\n    notification:RECALL_*\n"), 0);
	b.payload_case = DISCLOSURE;
	assert_true(policy_person_required(f->pol, &b, what, sizeof(what)));
	assert_string_equal(what, "disclosure");
	b.payload_case = MINUTES;
	assert_false(policy_person_required(f->pol, &b, what, sizeof(what)));
	b.payload_case = NOTIFICATION;
	b.notification = &n;
	n.kind = K(RECALL_DECIDED);
	assert_true(policy_person_required(f->pol, &b, what, sizeof(what)));
	assert_string_equal(what, "notification:RECALL_DECIDED");
	n.kind = K(ARREST);
	assert_false(policy_person_required(f->pol, &b, what, sizeof(what)));
	/* Without the section nothing is required. */
	assert_int_equal(load(f, policy_text), 0);
	b.payload_case = DISCLOSURE;
	assert_false(policy_person_required(f->pol, &b, what, sizeof(what)));
	assert_refused(f, load(f, "[signatures]\nrequire_person_signature = "
			       "minutes:X\n"), 2, "only notification has kinds");
	assert_refused(f, load(f, "[signatures]\n[signatures]\n"), 2,
		       "[signatures] given twice (first at line 1)");
	assert_refused(f, load(f, "[signatures]\nrequire = disclosure\n"), 2,
		       "unknown key");
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
#define L(name) cmocka_unit_test_setup_teardown(name, setup_loaded, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		L(test_policy__rule_allows_listed_kind),
		L(test_policy__kind_glob_allows_matching_kinds),
		L(test_policy__family_is_checked),
		L(test_policy__sender_and_recipient_globs_are_checked),
		L(test_policy__marking_above_max_is_refused),
		L(test_policy__ct_material_needs_a_rule_that_allows_it),
		L(test_policy__dtc_agency_gets_only_its_cases),
		L(test_policy__dtc_limit_applies_to_acknowledgements),
		T(test_policy__dtc_by_type_without_a_section),
		T(test_policy__dtc_the_case_decides),
		L(test_policy__unknown_query_values_are_refused),
		T(test_policy__empty_policy_refuses_everything),
		T(test_policy__subject_keys_from_subject_ids),
		L(test_policy__check_config_wants_dtc_sections),
		T(test_policy__example_policy_fits_example_config),
		T(test_policy__unknown_kind_name_names_file_and_line),
		T(test_policy__glob_matching_no_kind_names_file_and_line),
		T(test_policy__unknown_family_names_file_and_line),
		T(test_policy__unknown_key_names_file_and_line),
		T(test_policy__unknown_section_names_file_and_line),
		T(test_policy__missing_required_key_names_the_rule),
		T(test_policy__bad_values_are_refused),
		T(test_policy__repeats_are_refused),
		T(test_policy__person_signature_required_for_listed_kinds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
