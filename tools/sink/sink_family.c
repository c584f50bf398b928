/*
 * sink_family.c — the rows of each message family (DOMAIN.md): a
 * notification, minutes with their attendance, actions and decisions, a
 * disclosure decision, a version of a partner record, an acknowledgement,
 * an action update.  One mapper per payload member of ppx.v1.Body, each a
 * list of columns read from the body's canonical JSON; the shared parts of
 * several families (risk per group, conditions, addresses, a disclosure
 * decision) are helpers.  Column names are those of schema.sql.
 */
#include <inttypes.h>

#include <json-c/json.h>

#include "sink_int.h"

/* The payload members of ppx.v1.Body and the family names the log uses. */
static const struct {
	const char *member, *family;
} families[] = {
	{"notification", "notification"},
	{"minutes", "minutes"},
	{"disclosure", "disclosure"},
	{"partnerRecord", "partner_record"},
	{"acknowledgement", "acknowledgement"},
	{"actionUpdate", "action_update"},
};

/* ------------------------------------------------------------------ */
/* Shared pieces of the families                                        */
/* ------------------------------------------------------------------ */

static void store_rosh(struct entry *e, json_object *o, const char *key)
{
	json_object *a = entry_arr(e, o, key);
	size_t i;

	for (i = 0; i < entry_len(a) && !e->rc; i++) {
		json_object *g = entry_elem(e, a, i, key);
		const char *group = entry_text(e, g, "group");
		struct row r;

		row_init(&r, "rosh");
		col_message(e, &r);
		col_text(e, &r, "risk_group",
			 group ? group : "RISK_GROUP_UNSPECIFIED");
		col_str(e, &r, "level", g, "level");
		row_insert(e, &r, NULL);
	}
}

static void store_conditions(struct entry *e, json_object *o)
{
	json_object *a = entry_arr(e, o, "conditions");
	size_t i;

	for (i = 0; i < entry_len(a) && !e->rc; i++) {
		json_object *c = entry_elem(e, a, i, "conditions");
		struct row r;

		row_init(&r, "conditions");
		col_message(e, &r);
		col_int(e, &r, "n", (int64_t)i);
		col_str(e, &r, "condition_id", c, "id");
		col_str(e, &r, "kind", c, "kind");
		col_str(e, &r, "text", c, "text");
		col_str(e, &r, "monitoring_agency", c, "monitoringAgency");
		col_str(e, &r, "start_date", c, "startDate");
		col_str(e, &r, "end_date", c, "endDate");
		row_insert(e, &r, NULL);
	}
}

static void store_address(struct entry *e, json_object *a, size_t n)
{
	struct row r;

	row_init(&r, "addresses");
	col_message(e, &r);
	col_int(e, &r, "n", (int64_t)n);
	col_str(e, &r, "lines", a, "lines");
	col_str(e, &r, "postcode", a, "postcode");
	col_str(e, &r, "from_date", a, "fromDate");
	col_str(e, &r, "to_date", a, "toDate");
	col_str(e, &r, "kind", a, "kind");
	row_insert(e, &r, NULL);
}

/* A ppx.v1.DisclosureDecision, the n-th of its message. */
static void store_decision(struct entry *e, json_object *d, size_t n,
			   const char *meeting_id)
{
	const char *m = entry_text(e, d, "meetingId");
	json_object *x = entry_member(d, "executedMs");
	struct row r;

	row_init(&r, "disclosures");
	col_message(e, &r);
	col_int(e, &r, "n", (int64_t)n);
	col_text(e, &r, "meeting_id", m ? m : meeting_id);
	col_bool(e, &r, "considered", entry_bool(e, d, "considered"));
	col_str(e, &r, "considered_answer", d, "consideredAnswer");
	col_str(e, &r, "decision", d, "decision");
	col_str(e, &r, "recipient_category", d, "recipientCategory");
	col_str(e, &r, "recipient", d, "recipient");
	col_str(e, &r, "information_disclosed", d, "informationDisclosed");
	col_str(e, &r, "rationale", d, "rationale");
	col_str(e, &r, "legal_basis", d, "legalBasis");
	col_person(e, &r, d, "decidedBy", NULL, "decided_by_name",
		   "decided_by_agency");
	col_person(e, &r, d, "approvedBy", NULL, "approved_by_name",
		   "approved_by_agency");
	col_person(e, &r, d, "executedBy", NULL, "executed_by_name",
		   "executed_by_agency");
	if (x)
		col_int(e, &r, "executed_ms", entry_int(e, d, "executedMs"));
	row_insert(e, &r, NULL);
}

/* ------------------------------------------------------------------ */
/* The families                                                         */
/* ------------------------------------------------------------------ */

static void store_notification(struct entry *e, json_object *n)
{
	json_object *risk = entry_obj(e, n, "risk");
	json_object *visit = entry_obj(e, n, "homeVisit");
	json_object *addr = entry_obj(e, n, "address");
	struct row r;

	row_init(&r, "notifications");
	col_message(e, &r);
	col_str(e, &r, "kind", n, "kind");
	col_str(e, &r, "effective_date", n, "effectiveDate");
	col_str(e, &r, "details", n, "details");
	col_str(e, &r, "category", risk, "category");
	col_str(e, &r, "level", risk, "level");
	col_str(e, &r, "imminence", risk, "imminence");
	col_str(e, &r, "assessment", risk, "assessment");
	col_str(e, &r, "from_area", n, "fromArea");
	col_str(e, &r, "to_area", n, "toArea");
	col_bool(e, &r, "recall", entry_bool(e, n, "recall"));
	col_str(e, &r, "decided_by", n, "decidedBy");
	col_str(e, &r, "exit_plan", n, "exitPlan");
	if (visit) {
		col_bool(e, &r, "home_visit_announced",
			 entry_bool(e, visit, "announced"));
		col_str(e, &r, "home_visit_by", visit, "visitedBy");
		col_str(e, &r, "home_visit_outcome", visit, "outcome");
		col_str(e, &r, "home_visit_safety_issues", visit,
			"safetyIssues");
	}
	row_insert(e, &r, NULL);
	e->where = "body.notification.risk";
	store_rosh(e, risk, "rosh");
	e->where = "body.notification";
	store_conditions(e, n);
	if (addr)
		store_address(e, addr, 0);
}

static void store_attendees(struct entry *e, json_object *m, const char *key)
{
	json_object *a = entry_arr(e, m, key);
	size_t i;

	for (i = 0; i < entry_len(a) && !e->rc; i++) {
		json_object *p = entry_obj(e, entry_elem(e, a, i, key), "person");
		struct row r;

		row_init(&r, "attendees");
		col_message(e, &r);
		col_text(e, &r, "attendance", key);
		col_int(e, &r, "n", (int64_t)i);
		col_str(e, &r, "person_id", p, "id");
		col_str(e, &r, "name", p, "name");
		col_str(e, &r, "agency", p, "agency");
		col_str(e, &r, "role", p, "role");
		col_str(e, &r, "grade", p, "grade");
		row_insert(e, &r, NULL);
	}
}

static void store_actions(struct entry *e, json_object *m,
			  const char *meeting_id)
{
	json_object *a = entry_arr(e, m, "actions");
	size_t i;

	for (i = 0; i < entry_len(a) && !e->rc; i++) {
		json_object *x = entry_elem(e, a, i, "actions");
		json_object *owner = entry_obj(e, x, "owner");
		struct row r;

		row_init(&r, "actions");
		col_message(e, &r);
		col_int(e, &r, "n", (int64_t)i);
		col_text(e, &r, "meeting_id", meeting_id);
		col_str(e, &r, "action_id", x, "id");
		col_str(e, &r, "description", x, "description");
		col_str(e, &r, "owner_id", owner, "id");
		col_str(e, &r, "owner_name", owner, "name");
		col_str(e, &r, "owner_agency", owner, "agency");
		col_str(e, &r, "owner_role", owner, "role");
		col_str(e, &r, "due_date", x, "dueDate");
		col_str(e, &r, "status", x, "status");
		col_str(e, &r, "outcome", x, "outcome");
		row_insert(e, &r, NULL);
	}
}

static void store_minutes_row(struct entry *e, json_object *m)
{
	json_object *risk = entry_obj(e, m, "risk");
	json_object *plan = entry_obj(e, m, "plan");
	json_object *st = entry_obj(e, m, "standing");
	struct row r;

	row_init(&r, "minutes");
	col_message(e, &r);
	col_str(e, &r, "meeting_id", m, "meetingId");
	col_str(e, &r, "area", m, "area");
	col_str(e, &r, "level", m, "level");
	col_str(e, &r, "meeting_date", m, "meetingDate");
	col_int(e, &r, "version", entry_int(e, m, "version"));
	col_person(e, &r, m, "chair", "chair_id", "chair_name",
		   "chair_agency");
	col_str(e, &r, "lead_agency", m, "leadAgency");
	col_str(e, &r, "category", risk, "category");
	col_str(e, &r, "imminence", risk, "imminence");
	col_str(e, &r, "supervision", plan, "supervision");
	col_str(e, &r, "monitoring_and_control", plan, "monitoringAndControl");
	col_str(e, &r, "interventions_and_treatment", plan,
		"interventionsAndTreatment");
	col_str(e, &r, "victim_safety_planning", plan, "victimSafetyPlanning");
	col_str(e, &r, "contingency", plan, "contingency");
	col_bool(e, &r, "disclosure_considered",
		 entry_bool(e, m, "disclosureConsidered"));
	col_str(e, &r, "disclosure_considered_answer", m,
		"disclosureConsideredAnswer");
	col_str(e, &r, "recall", st, "recall");
	col_str(e, &r, "licence_expiry", st, "licenceExpiry");
	col_str(e, &r, "exit_strategy", st, "exitStrategy");
	col_str(e, &r, "offender_views", st, "offenderViews");
	col_bool(e, &r, "critical_public_protection_case",
		 entry_bool(e, st, "criticalPublicProtectionCase"));
	col_str(e, &r, "next_review_date", st, "nextReviewDate");
	col_str(e, &r, "comments_to_smb", m, "commentsToSmb");
	col_bool(e, &r, "meeting_cancelled", entry_bool(e, m, "meetingCancelled"));
	col_str(e, &r, "rearranged_date", m, "rearrangedDate");
	row_insert(e, &r, NULL);
	e->where = "body.minutes.risk";
	store_rosh(e, risk, "rosh");
}

static void store_minutes(struct entry *e, json_object *m)
{
	const char *meeting_id = entry_text(e, m, "meetingId");
	json_object *subjects = entry_arr(e, m, "subjects");
	json_object *ds = entry_arr(e, m, "disclosures");
	size_t i;

	store_minutes_row(e, m);
	e->where = "body.minutes";
	store_attendees(e, m, "required");
	store_attendees(e, m, "actual");
	store_attendees(e, m, "absent");
	store_conditions(e, m);
	store_actions(e, m, meeting_id);
	for (i = 0; i < entry_len(ds) && !e->rc; i++)
		store_decision(e, entry_elem(e, ds, i, "disclosures"), i,
			       meeting_id);
	for (i = 0; i < entry_len(subjects) && !e->rc; i++)
		subject_link(e, entry_elem(e, subjects, i, "subjects"));
}

/* A uint64 version of a partner record, which this schema keeps signed. */
static int64_t get_version(struct entry *e, json_object *p, const char *key)
{
	int64_t v = entry_int(e, p, key);

	if (v < 0)
		entry_bad(e, "%s: %" PRId64 " is negative", key, v);
	return v;
}

static void store_partner_record(struct entry *e, json_object *p)
{
	json_object *officers = entry_obj(e, p, "officers");
	json_object *addrs = entry_arr(e, p, "addresses");
	const char *rid = entry_text(e, p, "recordId");
	struct row r;
	size_t i;

	row_init(&r, "partner_records");
	col_text(e, &r, "record_id", rid ? rid : "");
	col_int(e, &r, "version", get_version(e, p, "version"));
	col_message(e, &r);
	col_int(e, &r, "base_version", get_version(e, p, "baseVersion"));
	col_text(e, &r, "changed_fields", entry_joined(e, p, "changedFields"));
	col_int(e, &r, "created_ms", e->created_ms);
	col_str(e, &r, "category", p, "category");
	col_str(e, &r, "level", p, "level");
	col_str(e, &r, "lead_agency", p, "leadAgency");
	col_person(e, &r, officers, "offenderManager", NULL,
		   "offender_manager_name", "offender_manager_agency");
	col_str(e, &r, "police_offender_manager_name",
		entry_obj(e, officers, "policeOffenderManager"), "name");
	col_str(e, &r, "police_supervisor_name",
		entry_obj(e, officers, "policeSupervisor"), "name");
	col_text(e, &r, "partner_agencies",
		 entry_joined(e, p, "partnerAgencies"));
	col_str(e, &r, "current_prison", p, "currentPrison");
	row_insert(e, &r, NULL);
	store_rosh(e, p, "rosh");
	store_conditions(e, p);
	for (i = 0; i < entry_len(addrs) && !e->rc; i++)
		store_address(e, entry_elem(e, addrs, i, "addresses"), i);
	subject_link(e, entry_obj(e, p, "subject"));
}

static void store_disclosure(struct entry *e, json_object *d)
{
	store_decision(e, d, 0, NULL);
}

static void store_acknowledgement(struct entry *e, json_object *a)
{
	struct row r;

	row_init(&r, "acknowledgements");
	col_message(e, &r);
	col_text(e, &r, "replies_to", *e->replies_to ? e->replies_to : NULL);
	col_person(e, &r, a, "acknowledgedBy", "acknowledged_by_id",
		   "acknowledged_by_name", "acknowledged_by_agency");
	col_str(e, &r, "note", a, "note");
	col_int(e, &r, "created_ms", e->created_ms);
	row_insert(e, &r, NULL);
}

static void store_action_update(struct entry *e, json_object *u)
{
	struct row r;

	row_init(&r, "action_updates");
	col_message(e, &r);
	col_str(e, &r, "meeting_id", u, "meetingId");
	col_str(e, &r, "action_id", u, "actionId");
	col_str(e, &r, "status", u, "status");
	col_str(e, &r, "outcome", u, "outcome");
	col_person(e, &r, u, "updatedBy", "updated_by_id", "updated_by_name",
		   "updated_by_agency");
	col_int(e, &r, "created_ms", e->created_ms);
	row_insert(e, &r, NULL);
}

const char *family_of(json_object *body)
{
	size_t i;

	for (i = 0; i < sizeof(families) / sizeof(families[0]); i++)
		if (entry_member(body, families[i].member))
			return families[i].family;
	return NULL;
}

/* Dispatch to the family's mapper, one handler per payload member; then
 * the body's own subject. */
void family_store(struct entry *e)
{
	static void (*const handlers[])(struct entry *, json_object *) = {
		store_notification, store_minutes, store_disclosure,
		store_partner_record, store_acknowledgement,
		store_action_update,
	};
	static const char *const paths[] = {
		"body.notification", "body.minutes", "body.disclosure",
		"body.partnerRecord", "body.acknowledgement",
		"body.actionUpdate",
	};
	size_t i;

	for (i = 0; i < sizeof(families) / sizeof(families[0]); i++) {
		json_object *p = entry_obj(e, e->body, families[i].member);

		if (!p)
			continue;
		e->where = paths[i];
		handlers[i](e, p);
		break;
	}
	e->where = "body";
	subject_link(e, entry_obj(e, e->body, "subject"));
}

