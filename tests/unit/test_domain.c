/*
 * test_domain.c — the domain rules (lib/domain.c, lib/domain_record.c)
 * accept complete messages of every family and every notification kind,
 * and refuse each incomplete one naming the field; the partner record
 * field table, the difference of two versions, and who may change what.
 * (The checks that need the log are test_domain_records.c's.)
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "domain_fixtures.h"
#include "ppx/domain.h"
#include "ppx/error.h"

/* ------------------------------------------------------------------ */
/* Valid messages are accepted                                         */
/* ------------------------------------------------------------------ */

static void accepted(const char *json, const char *sender,
		     const struct mut *m, size_t n)
{
	Ppx__V1__Body *b = body_from(json, sender, m, n);
	int rc = ppx_domain_check(b, sender);

	if (rc != 0)
		fail_msg("refused: %s", ppx_error_last());
	body_drop(b);
}

static void test_domain__complete_messages_of_every_family_pass(void **state)
{
	static const struct mut cancelled[] = {
		{"minutes.meeting_cancelled", "true"},
		{"minutes.required", "[]"},
		{"minutes.actual", "[]"},
	};
	static const struct mut said_no[] = {
		{"disclosure.considered", "false"},
		{"disclosure.considered_answer", "\"NO\""},
		{"disclosure.decision", NULL},
	};

	(void)state;
	accepted(DF_NOTE, "police.gwent", NULL, 0);
	accepted(DF_MINUTES, "probation.gwent", NULL, 0);
	accepted(DF_MINUTES, "probation.gwent", cancelled, 3);
	accepted(DF_DISCLOSURE, "police.gwent", NULL, 0);
	accepted(DF_DISCLOSURE, "police.gwent", said_no, 3);
	accepted(DF_RECORD1, "police.gwent", NULL, 0);
	accepted(DF_RECORD2, "probation.gwent", NULL, 0);
	accepted(DF_ACK, "probation.gwent", NULL, 0);
	accepted(DF_ACTION, "police.gwent", NULL, 0);
}

/* Every kind of DOMAIN.md's table, with what it needs. */
static void test_domain__every_notification_kind_passes_with_its_fields(
	void **state)
{
	const ProtobufCEnumDescriptor *d = &ppx__v1__notification_kind__descriptor;
	char kind[80];
	struct mut m[] = {
		{"notification.kind", kind},
		{"notification.risk", "{\"category\":\"CATEGORY_2\",\"level\":"
				      "\"LEVEL_2\",\"rosh\":[{\"group\":\"PUBLIC\","
				      "\"level\":\"RISK_HIGH\"}]}"},
		{"ack_deadline_ms", "\"1795400000000\""},
		{"notification.address", "{\"lines\":\"1 High St, Newport\"}"},
		{"notification.from_area", "\"gwent\""},
		{"notification.to_area", "\"south-wales\""},
		{"notification.decided_by", "\"ACO Jones\""},
		{"notification.home_visit", "{\"visited_by\":\"DS Evans\","
					    "\"outcome\":\"No concerns\"}"},
		{"notification.exit_plan", "\"Agreed at review\""},
		{"notification.conditions", NULL},
	};
	size_t n = sizeof(m) / sizeof(m[0]);

	(void)state;
	assert_int_equal(d->n_values, 33);
	for (unsigned i = 1; i < d->n_values; i++) {
		snprintf(kind, sizeof(kind), "\"%s\"", d->values[i].name);
		m[n - 1].value = NULL;
		if (d->values[i].value == PPX__V1__NOTIFICATION_KIND__ORDER)
			m[n - 1].value = "[{\"kind\":\"SOPO\",\"text\":\"SOPO in "
					 "full\",\"monitoring_agency\":"
					 "\"police.gwent\"}]";
		if (d->values[i].value ==
		    PPX__V1__NOTIFICATION_KIND__LICENCE_CONDITIONS)
			m[n - 1].value = "[{\"kind\":\"CURFEW\",\"text\":\"19:00-"
					 "07:00\",\"monitoring_agency\":"
					 "\"probation.gwent\"}]";
		accepted(DF_NOTE, "probation.gwent", m, m[n - 1].value ? n : n - 1);
	}
}

/* ------------------------------------------------------------------ */
/* Each rule refused, naming the field                                 */
/* ------------------------------------------------------------------ */

struct rule_case {
	const char *what;
	const char *base;
	const char *sender;
	struct mut m[3];
	int code;
	const char *says;
};

static void refused_all(const struct rule_case *cases, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct rule_case *c = &cases[i];
		Ppx__V1__Body *b = body_from(c->base, c->sender, c->m, 3);
		int rc = ppx_domain_check(b, c->sender);

		if (rc != c->code || !strstr(ppx_error_last(), c->says))
			fail_msg("%s: got %d \"%s\", wanted %d \"%s\"", c->what,
				 rc, ppx_error_last(), c->code, c->says);
		body_drop(b);
	}
}

#define P "police.gwent"
#define B "probation.gwent"
#define J "prison.cardiff"
#define EBODY PPX_EBODY
#define EPOLICY PPX_EPOLICY
#define N(x) (sizeof(x) / sizeof((x)[0]))

static const struct rule_case notification_cases[] = {
	{"no kind", DF_NOTE, P, {{"notification.kind", NULL}}, EBODY,
	 "notification.kind: say which kind"},
	{"no date", DF_NOTE, P, {{"notification.effective_date", NULL}},
	 EBODY, "notification.effective_date: a date (YYYY-MM-DD) is "
		"required"},
	{"30 February", DF_NOTE, P,
	 {{"notification.effective_date", "\"2026-02-30\""}}, EBODY,
	 "notification.effective_date: '2026-02-30' is not a date"},
	{"no details", DF_NOTE, P, {{"notification.details", NULL}}, EBODY,
	 "notification.details: say what happened"},
	{"no priority", DF_NOTE, P, {{"priority", NULL}}, EBODY,
	 "priority: a notification is ROUTINE, URGENT or IMMEDIATE"},
	{"subject by name only", DF_NOTE, P,
	 {{"subject", "{\"name\":\"John Smith\"}"}}, EBODY,
	 "subject: name the subject by at least one identifier"},
	{"risk change without rosh", DF_NOTE, P,
	 {{"notification.kind", "\"RISK_CHANGE\""},
	  {"ack_deadline_ms", "\"1795400000000\""}}, EBODY,
	 "notification.risk.rosh: a risk change says"},
	{"risk change without deadline", DF_NOTE, P,
	 {{"notification.kind", "\"RISK_CHANGE\""},
	  {"notification.risk",
	   "{\"rosh\":[{\"group\":\"PUBLIC\",\"level\":\"RISK_HIGH\"}]}"}},
	 EBODY, "ack_deadline_ms: each agency must acknowledge"},
	{"rosh without a group", DF_NOTE, P,
	 {{"notification.risk", "{\"rosh\":[{\"level\":\"RISK_HIGH\"}]}"}},
	 EBODY, "notification.risk.rosh[0]: risk of serious harm is "
		"always risk to someone"},
	{"the same group twice", DF_NOTE, P,
	 {{"notification.risk",
	   "{\"rosh\":[{\"group\":\"PUBLIC\",\"level\":\"RISK_HIGH\"},"
	   "{\"group\":\"PUBLIC\",\"level\":\"RISK_LOW\"}]}"}},
	 EBODY, "notification.risk.rosh[1]: the same group twice"},
	{"licence conditions without any", DF_NOTE, P,
	 {{"notification.kind", "\"LICENCE_CONDITIONS\""}}, EBODY,
	 "notification.conditions: a LICENCE_CONDITIONS notification"},
	{"an order among licence conditions", DF_NOTE, P,
	 {{"notification.kind", "\"LICENCE_CONDITIONS\""},
	  {"notification.conditions",
	   "[{\"kind\":\"SHPO\",\"text\":\"t\",\"monitoring_agency\":"
	   "\"police.gwent\"}]"}},
	 EBODY, "notification.conditions[0]: an order in a "
		"LICENCE_CONDITIONS"},
	{"a condition nobody monitors", DF_NOTE, P,
	 {{"notification.kind", "\"ORDER\""},
	  {"notification.conditions",
	   "[{\"kind\":\"SHPO\",\"text\":\"t\"}]"}},
	 EBODY, "notification.conditions[0].monitoring_agency: an agency "
		"is required"},
	{"level set without a level", DF_NOTE, P,
	 {{"notification.kind", "\"LEVEL_SET\""}}, EBODY,
	 "notification.risk.level: give the MAPPA level"},
	{"eligible without a category", DF_NOTE, P,
	 {{"notification.kind", "\"MAPPA_ELIGIBLE\""}}, EBODY,
	 "notification.risk.category: give the MAPPA category"},
	{"deregistration without an exit plan", DF_NOTE, P,
	 {{"notification.kind", "\"DEREGISTRATION\""}}, EBODY,
	 "notification.exit_plan: deregistration needs an exit plan"},
	{"transfer without the receiving area", DF_NOTE, P,
	 {{"notification.kind", "\"TRANSFER\""},
	  {"notification.from_area", "\"gwent\""}}, EBODY,
	 "notification.to_area: a transfer names the receiving area"},
	{"recall decided by nobody", DF_NOTE, P,
	 {{"notification.kind", "\"RECALL_DECIDED\""}}, EBODY,
	 "notification.decided_by: a decision (including a decision not "
	 "to recall"},
	{"home visit without outcome", DF_NOTE, P,
	 {{"notification.kind", "\"HOME_VISIT\""},
	  {"notification.home_visit", "{\"visited_by\":\"DS Evans\"}"}},
	 EBODY, "notification.home_visit.outcome"},
	{"address kind without address", DF_NOTE, P,
	 {{"notification.kind", "\"ADDRESS_PROPOSED\""}}, EBODY,
	 "notification.address.lines: this kind carries the address"},
	{"deadline before creation", DF_NOTE, P,
	 {{"ack_deadline_ms", "\"1795200000000\""}}, EBODY,
	 "ack_deadline_ms: the acknowledgement deadline must be after"},
};

static void test_domain__notification_rules_refuse_naming_the_field(
	void **state)
{
	(void)state;
	refused_all(notification_cases, N(notification_cases));
}

static const struct rule_case minutes_cases[] = {
	{"no meeting id", DF_MINUTES, B, {{"minutes.meeting_id", NULL}},
	 EBODY, "minutes.meeting_id: name the meeting"},
	{"no date", DF_MINUTES, B, {{"minutes.meeting_date", NULL}}, EBODY,
	 "minutes.meeting_date: a date"},
	{"no lead agency", DF_MINUTES, B, {{"minutes.lead_agency", NULL}},
	 EBODY, "minutes.lead_agency: an agency is required"},
	{"a lead agency that is no agency", DF_MINUTES, B,
	 {{"minutes.lead_agency", "\"Probation\""}}, EBODY,
	 "minutes.lead_agency: 'Probation' is not an agency name"},
	{"version 0", DF_MINUTES, B, {{"minutes.version", NULL}}, EBODY,
	 "minutes.version: 1 for the first issue"},
	{"an amendment naming nothing", DF_MINUTES, B,
	 {{"minutes.version", "2"}}, EBODY,
	 "supersedes: an amendment names the version it supersedes"},
	{"version 1 superseding", DF_MINUTES, B,
	 {{"supersedes", "\"" ID1 "\""}}, EBODY,
	 "supersedes: version 1 of the minutes supersedes nothing"},
	{"level 1", DF_MINUTES, B, {{"minutes.level", "\"LEVEL_1\""}}, EBODY,
	 "minutes.level: MAPPA meetings are held at level 2 or 3"},
	{"a chair without a name", DF_MINUTES, B,
	 {{"minutes.chair.name", NULL}}, EBODY,
	 "minutes.chair.name: the chair must be a named person"},
	{"no required attendees", DF_MINUTES, B,
	 {{"minutes.required", "[]"}}, EBODY,
	 "minutes.required: list the required attendees"},
	{"no actual attendees", DF_MINUTES, B, {{"minutes.actual", "[]"}},
	 EBODY, "minutes.actual: list the actual attendees"},
	{"an attendee without a role", DF_MINUTES, B,
	 {{"minutes.actual.0.person.role", NULL}}, EBODY,
	 "minutes.actual[0].person.role: say Sam Okafor's role"},
	{"an absence not recorded", DF_MINUTES, B,
	 {{"minutes.absent", "[]"}}, EBODY,
	 "minutes.absent: Dana Evans (police.gwent) was required and is "
	 "neither"},
	{"absent and attending", DF_MINUTES, B,
	 {{"minutes.absent.1", "{\"person\":" SAM "}"}}, EBODY,
	 "minutes.absent[1]: listed as absent and as attending"},
	{"disclosure not answered", DF_MINUTES, B,
	 {{"minutes.disclosure_considered_answer", NULL},
	  {"minutes.disclosure_considered", NULL}}, EBODY,
	 "minutes.disclosure_considered_answer: say whether disclosure"},
	{"the old bool contradicts NO", DF_MINUTES, B,
	 {{"minutes.disclosure_considered_answer", "\"NO\""},
	  {"minutes.disclosures", "[]"}}, EBODY,
	 "minutes.disclosure_considered: true contradicts"},
	{"decisions without considering", DF_MINUTES, B,
	 {{"minutes.disclosure_considered_answer", "\"NO\""},
	  {"minutes.disclosure_considered", "false"}}, EBODY,
	 "minutes.disclosures: decisions are listed but disclosure is "
	 "recorded as not considered"},
	{"a listed decision without rationale", DF_MINUTES, B,
	 {{"minutes.disclosures.0.rationale", NULL}}, EBODY,
	 "minutes.disclosures[0].rationale"},
	{"an action without an id", DF_MINUTES, B,
	 {{"minutes.actions.0.id", NULL}}, EBODY,
	 "minutes.actions[0].id: each action has an id"},
	{"an action owned by a team", DF_MINUTES, B,
	 {{"minutes.actions.0.owner.name", NULL}}, EBODY,
	 "minutes.actions[0].owner.name: an action's owner must be a "
	 "named person, never just an agency or a team"},
	{"an action owner without agency", DF_MINUTES, B,
	 {{"minutes.actions.0.owner.agency", NULL}}, EBODY,
	 "minutes.actions[0].owner.agency: an agency is required"},
	{"an action without a due date", DF_MINUTES, B,
	 {{"minutes.actions.0.due_date", NULL}}, EBODY,
	 "minutes.actions[0].due_date: a date (YYYY-MM-DD) is required"},
	{"completed without an outcome", DF_MINUTES, B,
	 {{"minutes.actions.0.status", "\"ACTION_COMPLETED\""}}, EBODY,
	 "minutes.actions[0].outcome: 'completed' without an outcome"},
	{"two actions with one id", DF_MINUTES, B,
	 {{"minutes.actions.1",
	   "{\"id\":\"A1\",\"description\":\"d\",\"owner\":" SAM ","
	   "\"due_date\":\"2026-12-02\"}"}}, EBODY,
	 "action id A1 is used twice"},
	{"no subject at all", DF_MINUTES, B, {{"subject", NULL}}, EBODY,
	 "subject: name the subject"},
};

static void test_domain__minutes_rules_refuse_naming_the_field(void **state)
{
	(void)state;
	refused_all(minutes_cases, N(minutes_cases));
}

static const struct rule_case disclosure_cases[] = {
	{"not answered", DF_DISCLOSURE, P,
	 {{"disclosure.considered_answer", NULL}}, EBODY,
	 "disclosure.considered_answer: say whether disclosure was "
	 "considered: YES or NO"},
	{"bool says yes, answer no", DF_DISCLOSURE, P,
	 {{"disclosure.considered_answer", "\"NO\""}}, EBODY,
	 "disclosure.considered: true contradicts considered_answer NO"},
	{"no rationale", DF_DISCLOSURE, P, {{"disclosure.rationale", NULL}},
	 EBODY, "disclosure.rationale: record why"},
	{"decided by nobody", DF_DISCLOSURE, P,
	 {{"disclosure.decided_by", NULL}}, EBODY,
	 "disclosure.decided_by.name: the decision-maker must be a "
	 "named person"},
	{"decided by someone of no agency", DF_DISCLOSURE, P,
	 {{"disclosure.decided_by.agency", NULL}}, EBODY,
	 "disclosure.decided_by.agency: an agency is required"},
	{"considered without a decision", DF_DISCLOSURE, P,
	 {{"disclosure.decision", NULL}}, EBODY,
	 "disclosure.decision: DISCLOSE, DO_NOT_DISCLOSE or DEFER is "
	 "required"},
	{"a decision without considering", DF_DISCLOSURE, P,
	 {{"disclosure.considered_answer", "\"NO\""},
	  {"disclosure.considered", "false"}}, EBODY,
	 "disclosure.decision: a decision needs disclosure to have been "
	 "considered"},
	{"disclosed to no one", DF_DISCLOSURE, P,
	 {{"disclosure.recipient_category", NULL}}, EBODY,
	 "disclosure.recipient_category"},
	{"disclosed nothing", DF_DISCLOSURE, P,
	 {{"disclosure.information_disclosed", NULL}}, EBODY,
	 "disclosure.information_disclosed"},
	{"no legal basis", DF_DISCLOSURE, P,
	 {{"disclosure.legal_basis", NULL}}, EBODY,
	 "disclosure.legal_basis: a disclosure states its legal basis"},
	{"CT material unapproved", DF_DISCLOSURE, P,
	 {{"counter_terrorism", "true"}}, EBODY,
	 "counter-terrorism material is disclosed only with approval"},
	{"executed by nobody", DF_DISCLOSURE, P,
	 {{"disclosure.executed_ms", "\"1795300000000\""}}, EBODY,
	 "disclosure.executed_by"},
	{"not disclosed but executed", DF_DISCLOSURE, P,
	 {{"disclosure.decision", "\"DEFER\""},
	  {"disclosure.executed_ms", "\"1795300000000\""}}, EBODY,
	 "disclosure.executed_ms: only a decision to disclose"},
};

static void test_domain__disclosure_rules_refuse_naming_the_field(void **state)
{
	(void)state;
	refused_all(disclosure_cases, N(disclosure_cases));
}

static const struct rule_case record_cases[] = {
	{"no record id", DF_RECORD1, P,
	 {{"partner_record.record_id", NULL}}, EBODY,
	 "partner_record.record_id: the record's id is required"},
	{"a record id with a space", DF_RECORD1, P,
	 {{"partner_record.record_id", "\"JS 1981\""}}, EBODY,
	 "partner_record.record_id"},
	{"version 0", DF_RECORD1, P, {{"partner_record.version", NULL}},
	 EBODY, "partner_record.version: 1 for a new record"},
	{"version is not base + 1", DF_RECORD2, B,
	 {{"partner_record.version", "\"3\""}}, EBODY,
	 "partner_record.version: 3 must be base_version + 1 (2)"},
	{"version 1 supersedes", DF_RECORD1, P,
	 {{"supersedes", "\"" ID1 "\""}}, EBODY,
	 "supersedes: version 1 of a record supersedes nothing"},
	{"an update names no base", DF_RECORD2, B, {{"supersedes", NULL}},
	 EBODY, "supersedes: an update names the version it is based on"},
	{"an unknown field", DF_RECORD2, B,
	 {{"partner_record.changed_fields", "[\"risk\"]"}}, EBODY,
	 "partner_record.changed_fields[0]: 'risk' is not a partner "
	 "record field"},
	{"a field twice", DF_RECORD2, B,
	 {{"partner_record.changed_fields",
	   "[\"subject.crn\",\"subject.crn\"]"}}, EBODY,
	 "'subject.crn' twice"},
	{"an update changing nothing", DF_RECORD2, B,
	 {{"partner_record.changed_fields", "[]"}}, EBODY,
	 "partner_record.changed_fields: an update lists the fields"},
	{"version 1 not listing what it sets", DF_RECORD1, P,
	 {{"partner_record.changed_fields", "[\"subject.pnc_id\"]"}},
	 EBODY, "version 1 sets category but does not list it"},
	{"a duty-to-co-operate sender", DF_RECORD2, "housing.newport", {{0}},
	 EPOLICY, "partner_record: housing.newport is a "
		  "duty-to-co-operate agency and owns no partner record "
		  "field"},
	{"probation changing the level", DF_RECORD2, B,
	 {{"partner_record.changed_fields", "[\"level\"]"},
	  {"partner_record.level", "\"LEVEL_3\""}}, EPOLICY,
	 "partner_record.level: probation.gwent (probation) may not "
	 "change this field: it is owned by police"},
	{"police changing the risk", DF_RECORD2, P,
	 {{"partner_record.changed_fields", "[\"rosh\"]"}}, EPOLICY,
	 "partner_record.rosh: police.gwent (police) may not change this "
	 "field: it is owned by probation"},
	{"prison changing conditions", DF_RECORD2, J,
	 {{"partner_record.changed_fields", "[\"conditions\"]"}}, EPOLICY,
	 "partner_record.conditions: prison.cardiff (prison) may not "
	 "change this field: it is owned by police or probation"},
	{"probation creating with an order", DF_RECORD1, B,
	 {{"partner_record.changed_fields",
	   "[\"subject.pnc_id\",\"category\",\"level\",\"conditions\","
	   "\"partner_agencies\"]"}}, EPOLICY,
	 "partner_record.subject.pnc_id: probation.gwent (probation) may "
	 "not change this field"},
	{"police creating with a licence condition", DF_RECORD1, P,
	 {{"partner_record.conditions.0.kind", "\"CURFEW\""}}, EPOLICY,
	 "partner_record.conditions[id c8]: police.gwent may not change "
	 "it: a licence condition is owned by probation"},
	{"the current prison no partner", DF_RECORD2, J,
	 {{"partner_record.current_prison", "\"prison.cardiff\""},
	  {"partner_record.changed_fields", "[\"current_prison\"]"}},
	 EBODY, "partner_record.partner_agencies: the current prison "
		"prison.cardiff must be a partner"},
	{"two conditions with one id", DF_RECORD2, B,
	 {{"partner_record.conditions.1",
	   "{\"id\":\"c8\",\"kind\":\"CURFEW\",\"text\":\"t\","
	   "\"monitoring_agency\":\"probation.gwent\"}"}}, EBODY,
	 "partner_record.conditions[1].id: each condition has its own "
	 "id"},
	{"a merge that is no message id", DF_RECORD2, B,
	 {{"partner_record.merges", "[\"AQID\"]"}}, EBODY,
	 "partner_record.merges[0]: a 16-byte message id"},
	{"a record of no subject", DF_RECORD2, B,
	 {{"partner_record.subject", "{\"name\":\"John Smith\"}"}}, EBODY,
	 "partner_record.subject: name the subject"},
};

static void test_domain__record_rules_refuse_naming_the_field(void **state)
{
	(void)state;
	refused_all(record_cases, N(record_cases));
}

static const struct rule_case ack_and_action_cases[] = {
	{"an ack of nothing", DF_ACK, B, {{"replies_to", NULL}}, EBODY,
	 "replies_to: an acknowledgement names the message it takes on"},
	{"an ack by nobody", DF_ACK, B,
	 {{"acknowledgement.acknowledged_by", NULL}}, EBODY,
	 "acknowledgement.acknowledged_by.name: whoever acknowledges "
	 "must be a named person"},
	{"an update of nothing", DF_ACTION, P, {{"replies_to", NULL}}, EBODY,
	 "replies_to: an action update names the minutes"},
	{"an update of no action", DF_ACTION, P,
	 {{"action_update.action_id", NULL}}, EBODY,
	 "action_update.action_id"},
	{"an update without status", DF_ACTION, P,
	 {{"action_update.status", NULL}}, EBODY,
	 "action_update.status: OPEN, IN_PROGRESS, COMPLETED or "
	 "CANCELLED"},
	{"completed without outcome", DF_ACTION, P,
	 {{"action_update.outcome", NULL}}, EBODY,
	 "action_update.outcome: 'completed' without an outcome"},
	{"a replies_to of 3 bytes", DF_ACTION, P,
	 {{"replies_to", "\"AQID\""}}, EBODY,
	 "replies_to: a 16-byte message id"},
};

static void test_domain__ack_and_action_rules_refuse_naming_the_field(
	void **state)
{
	(void)state;
	refused_all(ack_and_action_cases, N(ack_and_action_cases));
}

/* ------------------------------------------------------------------ */
/* The field table                                                     */
/* ------------------------------------------------------------------ */

static void test_domain__agency_type_is_the_first_label(void **state)
{
	char name[64];

	(void)state;
	assert_int_equal(ppx_agency_type("police.gwent"), PPX_AGENCY_POLICE);
	assert_int_equal(ppx_agency_type("probation.gwent"),
			 PPX_AGENCY_PROBATION);
	assert_int_equal(ppx_agency_type("prison.cardiff"), PPX_AGENCY_PRISON);
	assert_int_equal(ppx_agency_type("housing.newport"), PPX_AGENCY_DTC);
	assert_int_equal(ppx_agency_type("policex.gwent"), PPX_AGENCY_DTC);
	assert_int_equal(ppx_agency_type("police"), PPX_AGENCY_DTC);
	assert_int_equal(ppx_agency_type(NULL), PPX_AGENCY_DTC);
	ppx_agency_types_name(name, sizeof(name),
			      PPX_AGENCY_PROBATION | PPX_AGENCY_POLICE);
	assert_string_equal(name, "police or probation");
	ppx_agency_types_name(name, sizeof(name), PPX_AGENCY_POLICE |
			      PPX_AGENCY_PROBATION | PPX_AGENCY_PRISON);
	assert_string_equal(name, "police, probation or prison");
}

static void test_domain__refusal_codes_map_to_their_wire_reasons(void **state)
{
	(void)state;
	assert_int_equal(ppx_error_reject_reason(PPX_ECONFLICT),
			 PPX__V1__REJECT_REASON__REJECT_CONFLICT);
	assert_int_equal(ppx_error_reject_reason(PPX_EPOLICY),
			 PPX__V1__REJECT_REASON__REJECT_POLICY);
	assert_int_equal(ppx_error_reject_reason(PPX_EBODY),
			 PPX__V1__REJECT_REASON__REJECT_BAD_BODY);
	assert_string_equal(ppx_strerror(PPX_ECONFLICT),
			    "concurrent partner record update");
}

static void test_domain__ownership_table_has_an_owner_for_every_field(
	void **state)
{
	(void)state;
	for (size_t i = 0; i < PPX_RECORD_FIELDS; i++) {
		unsigned o = ppx_record_field_owners(ppx_record_field_name(i));

		assert_true(o != 0);
		assert_false(o & PPX_AGENCY_DTC);
	}
	assert_null(ppx_record_field_name(PPX_RECORD_FIELDS));
	assert_int_equal(ppx_record_field_owners("level"), PPX_AGENCY_POLICE);
	assert_int_equal(ppx_record_field_owners("rosh"), PPX_AGENCY_PROBATION);
	assert_int_equal(ppx_record_field_owners("subject.crn"),
			 PPX_AGENCY_PROBATION);
	assert_int_equal(ppx_record_field_owners("current_prison"),
			 PPX_AGENCY_PRISON);
	assert_int_equal(ppx_record_field_owners("version"), 0);
	assert_int_equal(ppx_condition_owners(PPX__V1__CONDITION_KIND__SHPO),
			 PPX_AGENCY_POLICE);
	assert_int_equal(ppx_condition_owners(PPX__V1__CONDITION_KIND__CURFEW),
			 PPX_AGENCY_PROBATION);
}

static void test_domain__diff_names_each_changed_field(void **state)
{
	static const struct mut changes[] = {
		{"partner_record.level", "\"LEVEL_3\""},
		{"partner_record.subject.crn", "\"X999\""},
		{"partner_record.conditions.0.text", "\"changed\""},
	};
	Ppx__V1__Body *a = body_from(DF_RECORD2, NULL, NULL, 0);
	Ppx__V1__Body *b = body_from(DF_RECORD2, NULL, changes, 3);
	const char *diff[PPX_RECORD_FIELDS];
	size_t n;

	(void)state;
	ppx_record_diff(diff, &n, a->partner_record, a->partner_record);
	assert_int_equal(n, 0);
	ppx_record_diff(diff, &n, a->partner_record, b->partner_record);
	assert_int_equal(n, 3);
	assert_string_equal(diff[0], "subject.crn");
	assert_string_equal(diff[1], "level");
	assert_string_equal(diff[2], "conditions");
	ppx_record_diff(diff, &n, NULL, a->partner_record);
	assert_int_equal(n, 6);	/* pnc, crn, category, level, conditions,
				 * partner_agencies */
	body_drop(a);
	body_drop(b);
}

static void test_domain__conditions_are_owned_by_their_kind(void **state)
{
	static const struct mut curfew[] = {
		{"partner_record.conditions.1",
		 "{\"id\":\"c9\",\"kind\":\"CURFEW\",\"text\":\"t\","
		 "\"monitoring_agency\":\"probation.gwent\"}"},
	};
	static const struct mut no_shpo[] = {
		{"partner_record.conditions", "[]"},
	};
	Ppx__V1__Body *base = body_from(DF_RECORD2, NULL, NULL, 0);
	Ppx__V1__Body *added = body_from(DF_RECORD2, NULL, curfew, 1);
	Ppx__V1__Body *removed = body_from(DF_RECORD2, NULL, no_shpo, 1);
	const Ppx__V1__PartnerRecord *r0 = base->partner_record;

	(void)state;
	assert_int_equal(ppx_record_may_change("conditions", B, r0,
					       added->partner_record), 0);
	assert_int_equal(ppx_record_may_change("conditions", P, r0,
					       added->partner_record),
			 PPX_EPOLICY);
	assert_int_equal(ppx_record_may_change("conditions", B, r0,
					       removed->partner_record),
			 PPX_EPOLICY);
	assert_non_null(strstr(ppx_error_last(), "conditions[id c8]: "
				"probation.gwent may not change it: an order "
				"is owned by police"));
	assert_int_equal(ppx_record_may_change("conditions", P, r0,
					       removed->partner_record), 0);
	body_drop(base);
	body_drop(added);
	body_drop(removed);
}

static void test_domain__take_copies_one_field(void **state)
{
	static const struct mut risk[] = {
		{"partner_record.rosh",
		 "[{\"group\":\"PUBLIC\",\"level\":\"RISK_HIGH\"}]"},
	};
	Ppx__V1__Body *src = body_from(DF_RECORD2, NULL, risk, 1);
	Ppx__V1__Body *dst = body_from(DF_RECORD2, NULL, NULL, 0);
	Ppx__V1__PartnerRecord r = *dst->partner_record;
	Ppx__V1__SubjectIds subj = *r.subject;

	(void)state;
	r.subject = &subj;	/* the caller's own, as the contract says */
	assert_int_equal(ppx_record_field_take(&r, "rosh", src->partner_record),
			 0);
	assert_true(ppx_record_field_equal("rosh", &r, src->partner_record));
	assert_int_equal(ppx_record_field_take(&r, "subject.crn", NULL), 0);
	assert_string_equal(subj.crn, "");
	assert_string_equal(dst->partner_record->subject->crn, "X123456");
	assert_int_equal(ppx_record_field_take(&r, "risk", NULL), PPX_EINVAL);
	body_drop(src);
	body_drop(dst);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_domain__complete_messages_of_every_family_pass),
		cmocka_unit_test(test_domain__every_notification_kind_passes_with_its_fields),
		cmocka_unit_test(test_domain__notification_rules_refuse_naming_the_field),
		cmocka_unit_test(test_domain__minutes_rules_refuse_naming_the_field),
		cmocka_unit_test(test_domain__disclosure_rules_refuse_naming_the_field),
		cmocka_unit_test(test_domain__record_rules_refuse_naming_the_field),
		cmocka_unit_test(test_domain__ack_and_action_rules_refuse_naming_the_field),
		cmocka_unit_test(test_domain__agency_type_is_the_first_label),
		cmocka_unit_test(
			test_domain__refusal_codes_map_to_their_wire_reasons),
		cmocka_unit_test(test_domain__ownership_table_has_an_owner_for_every_field),
		cmocka_unit_test(test_domain__diff_names_each_changed_field),
		cmocka_unit_test(test_domain__conditions_are_owned_by_their_kind),
		cmocka_unit_test(test_domain__take_copies_one_field),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
