/*
 * domain.c — the domain rules of notifications, minutes, disclosure
 * decisions, partner records, acknowledgements and action updates.
 *
 * Where it sits: the daemon runs ppx_domain_check() on every body it is
 * about to sign (daemon/submit.c) and on every body a partner sends
 * (inbound check_accept, after the policy), and the client runs it before
 * submitting so that a person hears at once which field is wrong.  The
 * rules come from DOMAIN.md and the inspection findings behind it: minutes
 * "completed" without an outcome (001:L463), actions owned by "the team"
 * (003:L413), disclosure never recorded as considered (001:L500), a trust
 * editing police-owned fields (003:L407).
 *
 * "Was disclosure considered?" cannot be a proto3 bool, whose false is
 * also what a sender that never asked sends: minutes and decisions carry
 * a YesNo answer that must be YES or NO, and the old bool may not
 * contradict it.
 *
 * The second half is the partner record field table: which agency type
 * owns each field (docs/PROTOCOL.md section 4.2 prints it), how two
 * versions differ, and whether an agency may make a change.  Fields are
 * reached through protobuf-c's descriptors, so comparing and copying is
 * one generic routine rather than one per field.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain_int.h"
#include "ppx/error.h"
#include "ppx/text.h"

/* ------------------------------------------------------------------ */
/* Helpers                                                             */
/* ------------------------------------------------------------------ */

int ppxi_refuse(int code, const char *path, const char *what)
{
	return ppx_error_set(code, "%s: %s", path, what);
}

int ppxi_nonempty(const char *s)
{
	return s && *s;
}

/* path + "." + name, or path + "[i]" when name is NULL. */
const char *ppxi_sub(char *buf, const char *path, const char *name, size_t i)
{
	int n = name ? snprintf(buf, PATH_MAX_LEN, "%s.%s", path, name)
		     : snprintf(buf, PATH_MAX_LEN, "%s[%zu]", path, i);

	if (n < 0 || n >= PATH_MAX_LEN)	/* paths are short; never happens */
		buf[PATH_MAX_LEN - 1] = '\0';
	return buf;
}

static int leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* A real calendar date written YYYY-MM-DD. */
static int date_valid(const char *s)
{
	static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31,
				   30, 31};
	int y, m, d;

	if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return 0;
	for (int i = 0; i < 10; i++)
		if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
			return 0;
	y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 +
	    (s[3] - '0');
	m = (s[5] - '0') * 10 + (s[6] - '0');
	d = (s[8] - '0') * 10 + (s[9] - '0');
	if (y < 1900 || m < 1 || m > 12 || d < 1)
		return 0;
	return d <= days[m - 1] + (m == 2 && leap(y));
}

static int check_date(const char *s, const char *path, int required)
{
	if (!ppxi_nonempty(s))
		return required ? ppx_error_set(PPX_EBODY, "%s: a date "
						"(YYYY-MM-DD) is required",
						path)
				: 0;
	if (!date_valid(s))
		return ppx_error_set(PPX_EBODY, "%s: '%s' is not a date: "
				     "write YYYY-MM-DD", path, s);
	return 0;
}

/* A dotted agency name: ^[a-z][a-z0-9-]*(\.[a-z0-9-]+)+$ (PROTOCOL 1). */
static int agency_valid(const char *s)
{
	size_t len = s ? strlen(s) : 0, label = 0, dots = 0;

	if (len == 0 || len >= 128 || s[0] < 'a' || s[0] > 'z')
		return 0;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (c == '.') {
			if (label == 0)
				return 0;
			dots++;
			label = 0;
		} else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
			   c == '-') {
			label++;
		} else {
			return 0;
		}
	}
	return dots > 0 && label > 0;
}

int ppxi_check_agency(const char *s, const char *path, int required)
{
	if (!ppxi_nonempty(s))
		return required ? ppxi_refuse(PPX_EBODY, path,
					      "an agency is required "
					      "(a dotted name such as "
					      "probation.gwent)")
				: 0;
	if (!agency_valid(s))
		return ppx_error_set(PPX_EBODY, "%s: '%s' is not an agency "
				     "name (e.g. probation.gwent)", path, s);
	return 0;
}

enum { NEED_NAME = 1, NEED_AGENCY = 2, NEED_ROLE = 4 };

/* A named person: never anonymous, never "the team" (003:L413). */
static int check_person(const Ppx__V1__Person *p, const char *path,
			unsigned need, const char *who)
{
	char buf[PATH_MAX_LEN];

	if (!p || !ppxi_nonempty(p->name))
		return ppx_error_set(PPX_EBODY,
				     "%s: %s must be a named person, "
				     "never just an agency or a team",
				     ppxi_sub(buf, path, "name", 0), who);
	if ((need & NEED_AGENCY) || ppxi_nonempty(p->agency))
		if (ppxi_check_agency(p->agency,
				      ppxi_sub(buf, path, "agency", 0),
				      (need & NEED_AGENCY) != 0) != 0)
			return ppx_error_set(PPX_EBODY, "%s (%s needs a named "
					     "person and their agency)",
					     ppx_error_last(), who);
	if ((need & NEED_ROLE) && !ppxi_nonempty(p->role))
		return ppx_error_set(PPX_EBODY, "%s: say %s's role",
				     ppxi_sub(buf, path, "role", 0), p->name);
	return 0;
}

static int has_identifier(const Ppx__V1__SubjectIds *s)
{
	return s && (ppxi_nonempty(s->pnc_id) || ppxi_nonempty(s->cro_number) ||
		     ppxi_nonempty(s->crn) || ppxi_nonempty(s->prison_number) ||
		     ppxi_nonempty(s->visor_id));
}

int ppxi_check_subject(const Ppx__V1__SubjectIds *s, const char *path)
{
	char buf[PATH_MAX_LEN];

	if (!has_identifier(s))
		return ppxi_refuse(PPX_EBODY, path,
				   "name the subject by at least "
				   "one identifier (pnc_id, cro_number, crn, "
				   "prison_number or visor_id)");
	return check_date(s->date_of_birth,
			  ppxi_sub(buf, path, "date_of_birth", 0), 0);
}

int ppxi_check_message_id(ProtobufCBinaryData id, const char *path,
			  const char *what)
{
	if (id.len != 16)
		return ppx_error_set(PPX_EBODY, "%s: %s (a 16-byte message "
				     "id) is required", path, what);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Agency types                                                        */
/* ------------------------------------------------------------------ */

unsigned ppx_agency_type(const char *agency)
{
	static const struct {
		const char *label;
		unsigned type;
	} types[] = {
		{"police", PPX_AGENCY_POLICE},
		{"probation", PPX_AGENCY_PROBATION},
		{"prison", PPX_AGENCY_PRISON},
	};
	const char *dot = agency ? strchr(agency, '.') : NULL;

	for (size_t i = 0; dot && i < sizeof(types) / sizeof(types[0]); i++)
		if (strlen(types[i].label) == (size_t)(dot - agency) &&
		    strncmp(agency, types[i].label, (size_t)(dot - agency)) == 0)
			return types[i].type;
	return PPX_AGENCY_DTC;
}

void ppx_agency_types_name(char *out, size_t cap, unsigned types)
{
	static const char *const names[] = {"police", "probation", "prison",
					    "duty-to-co-operate"};
	size_t len = 0, k = 0, n = 0;

	for (size_t i = 0; i < 4; i++)
		n += (types >> i) & 1u;
	snprintf(out, cap, "no agency");
	for (size_t i = 0; i < 4 && cap > 0; i++) {
		if (!(types & (1u << i)))
			continue;
		k++;
		len += (size_t)snprintf(out + len, len < cap ? cap - len : 0,
					"%s%s", k == 1 ? "" :
					k == n ? " or " : ", ", names[i]);
		if (len >= cap)
			break;
	}
}

/* ------------------------------------------------------------------ */
/* Notifications                                                       */
/* ------------------------------------------------------------------ */

enum {
	N_CATEGORY = 1 << 0,	/* risk.category */
	N_LEVEL = 1 << 1,	/* risk.level */
	N_ROSH = 1 << 2,	/* risk.rosh, at least one group */
	N_ACK = 1 << 3,		/* ack_deadline_ms: each must acknowledge */
	N_LICENCE = 1 << 4,	/* conditions: licence conditions */
	N_ORDERS = 1 << 5,	/* conditions: orders */
	N_ADDRESS = 1 << 6,
	N_AREAS = 1 << 7,	/* from_area and to_area */
	N_DECIDED = 1 << 8,	/* decided_by */
	N_VISIT = 1 << 9,	/* home_visit */
	N_EXIT = 1 << 10,	/* exit_plan (001:L581) */
};

/* What each kind must carry beyond kind, date, details and priority. */
static unsigned kind_needs(int kind)
{
	switch (kind) {
	case PPX__V1__NOTIFICATION_KIND__MAPPA_ELIGIBLE:
	case PPX__V1__NOTIFICATION_KIND__MAPPA_REFERRAL:
		return N_CATEGORY;
	case PPX__V1__NOTIFICATION_KIND__SCREENING_DECISION:
		return N_LEVEL | N_DECIDED;
	case PPX__V1__NOTIFICATION_KIND__LEVEL_SET:
		return N_LEVEL;
	case PPX__V1__NOTIFICATION_KIND__DEREGISTRATION:
		return N_EXIT;
	case PPX__V1__NOTIFICATION_KIND__RISK_CHANGE:
		return N_ROSH | N_ACK;
	case PPX__V1__NOTIFICATION_KIND__LICENCE_CONDITIONS:
		return N_LICENCE;
	case PPX__V1__NOTIFICATION_KIND__ORDER:
		return N_ORDERS;
	case PPX__V1__NOTIFICATION_KIND__ADDRESS_PROPOSED:
	case PPX__V1__NOTIFICATION_KIND__ADDRESS_CONFIRMED:
	case PPX__V1__NOTIFICATION_KIND__REGISTERED_ADDRESS_CHANGE:
		return N_ADDRESS;
	case PPX__V1__NOTIFICATION_KIND__TRANSFER:
		return N_AREAS;
	case PPX__V1__NOTIFICATION_KIND__RECALL_DECIDED:
		return N_DECIDED;
	case PPX__V1__NOTIFICATION_KIND__HOME_VISIT:
		return N_VISIT;
	default:
		return 0;
	}
}

int ppxi_is_order(int kind)
{
	return kind >= PPX__V1__CONDITION_KIND__SOPO &&
	       kind <= PPX__V1__CONDITION_KIND__OTHER_ORDER;
}

/* One condition or order, in full, with the agency that monitors it
 * (000:L239). */
static int check_condition(const Ppx__V1__Condition *c, const char *path)
{
	char buf[PATH_MAX_LEN];
	int rc;

	if (!c || c->kind == PPX__V1__CONDITION_KIND__CONDITION_UNSPECIFIED ||
	    !protobuf_c_enum_descriptor_get_value(
		    &ppx__v1__condition_kind__descriptor, c->kind))
		return ppxi_refuse(
			PPX_EBODY, ppxi_sub(buf, path, "kind", 0),
			"say which licence condition or order this is");
	if (!ppxi_nonempty(c->text))
		return ppxi_refuse(PPX_EBODY, ppxi_sub(buf, path, "text", 0),
				   "conditions and orders are copied in full");
	if ((rc = ppxi_check_agency(c->monitoring_agency,
				    ppxi_sub(buf, path, "monitoring_agency", 0),
				    1)) != 0)
		return ppx_error_set(rc, "%s: each condition has an agency "
				     "that monitors it", ppx_error_last());
	if ((rc = check_date(c->start_date,
			     ppxi_sub(buf, path, "start_date", 0), 0)) != 0)
		return rc;
	return check_date(c->end_date, ppxi_sub(buf, path, "end_date", 0), 0);
}

int ppxi_check_conditions(Ppx__V1__Condition *const *c, size_t n,
			  const char *path, unsigned need)
{
	char buf[PATH_MAX_LEN];
	int rc;

	if (n == 0 && (need & (N_LICENCE | N_ORDERS)))
		return ppxi_refuse(
			PPX_EBODY, path,
			need & N_ORDERS
				? "an ORDER notification lists the order(s) in "
				  "full"
				: "a LICENCE_CONDITIONS notification lists the "
				  "conditions in full");
	for (size_t i = 0; i < n; i++) {
		if ((rc = check_condition(c[i],
					  ppxi_sub(buf, path, NULL, i))) != 0)
			return rc;
		if ((need & N_LICENCE) && ppxi_is_order(c[i]->kind))
			return ppxi_refuse(
				PPX_EBODY, buf,
				"an order in a "
				"LICENCE_CONDITIONS notification: send "
				"it as an ORDER");
		if ((need & N_ORDERS) && !ppxi_is_order(c[i]->kind))
			return ppxi_refuse(PPX_EBODY, buf,
					   "a licence condition in an "
					   "ORDER notification: send it as "
					   "LICENCE_CONDITIONS");
	}
	return 0;
}

int ppxi_check_rosh(Ppx__V1__RiskOfSeriousHarm *const *r, size_t n,
		    const char *path)
{
	char buf[PATH_MAX_LEN];
	unsigned seen = 0;

	for (size_t i = 0; i < n; i++) {
		ppxi_sub(buf, path, NULL, i);
		if (!r[i] || r[i]->group <= 0 || r[i]->group > 5)
			return ppxi_refuse(
				PPX_EBODY, buf,
				"risk of serious harm is "
				"always risk to someone: give the group "
				"(CHILDREN, PUBLIC, KNOWN_ADULT, STAFF, "
				"PRISONERS)");
		if (r[i]->level <= 0 || r[i]->level > 4)
			return ppxi_refuse(PPX_EBODY, buf,
					   "give the level (LOW, "
					   "MEDIUM, HIGH, VERY_HIGH)");
		if (seen & (1u << r[i]->group))
			return ppxi_refuse(PPX_EBODY, buf,
					   "the same group twice");
		seen |= 1u << r[i]->group;
	}
	return 0;
}

/* The risk picture, with what the kind requires of it. */
static int check_risk(const Ppx__V1__RiskPicture *r, const char *path,
		      unsigned need)
{
	char buf[PATH_MAX_LEN];

	if ((need & N_CATEGORY) &&
	    (!r || r->category <= 0 || r->category > 3))
		return ppxi_refuse(PPX_EBODY,
				   ppxi_sub(buf, path, "category", 0),
				   "give the MAPPA category (1, 2 or 3)");
	if ((need & N_LEVEL) && (!r || r->level <= 0 || r->level > 3))
		return ppxi_refuse(PPX_EBODY, ppxi_sub(buf, path, "level", 0),
				   "give the MAPPA level (1, 2 or 3)");
	if ((need & N_ROSH) && (!r || r->n_rosh == 0))
		return ppxi_refuse(
			PPX_EBODY, ppxi_sub(buf, path, "rosh", 0),
			"a risk change says the risk of serious harm "
			"per group (001:L406: risk of what, to whom)");
	return r ? ppxi_check_rosh(r->rosh, r->n_rosh,
				   ppxi_sub(buf, path, "rosh", 0))
		 : 0;
}

/* The fields particular to the kind. */
static int check_kind_fields(const Ppx__V1__Notification *n, unsigned need)
{
	if ((need & N_ADDRESS) &&
	    (!n->address || !ppxi_nonempty(n->address->lines)))
		return ppxi_refuse(PPX_EBODY, "notification.address.lines",
				   "this kind carries the address");
	if ((need & N_AREAS) && !ppxi_nonempty(n->from_area))
		return ppxi_refuse(PPX_EBODY, "notification.from_area",
				   "a transfer names the area it comes from");
	if ((need & N_AREAS) && !ppxi_nonempty(n->to_area))
		return ppxi_refuse(PPX_EBODY, "notification.to_area",
				   "a transfer names the receiving area");
	if ((need & N_DECIDED) && !ppxi_nonempty(n->decided_by))
		return ppxi_refuse(PPX_EBODY, "notification.decided_by",
				   "a decision (including a decision not to "
				   "recall, 000:L142) names who took it");
	if ((need & N_VISIT) &&
	    (!n->home_visit || !ppxi_nonempty(n->home_visit->visited_by)))
		return ppxi_refuse(PPX_EBODY,
				   "notification.home_visit.visited_by",
				   "a home visit record names who visited");
	if ((need & N_VISIT) && !ppxi_nonempty(n->home_visit->outcome))
		return ppxi_refuse(PPX_EBODY, "notification.home_visit.outcome",
				   "a home visit record gives its outcome");
	if ((need & N_EXIT) && !ppxi_nonempty(n->exit_plan))
		return ppxi_refuse(
			PPX_EBODY, "notification.exit_plan",
			"deregistration needs an exit plan (001:L581)");
	return 0;
}

static int check_notification(const Ppx__V1__Body *b)
{
	const Ppx__V1__Notification *n = b->notification;
	unsigned need;
	int rc;

	if (n->kind == 0 || !protobuf_c_enum_descriptor_get_value(
				    &ppx__v1__notification_kind__descriptor,
				    n->kind))
		return ppxi_refuse(PPX_EBODY, "notification.kind",
				   "say which kind of notification this is");
	need = kind_needs(n->kind);
	if ((rc = ppxi_check_subject(b->subject, "subject")) != 0 ||
	    (rc = check_date(n->effective_date, "notification.effective_date",
			     1)) != 0)
		return rc;
	if (!ppxi_nonempty(n->details))
		return ppxi_refuse(PPX_EBODY, "notification.details",
				   "say what happened, in words");
	if (b->priority == PPX__V1__PRIORITY__PRIORITY_UNSPECIFIED)
		return ppxi_refuse(
			PPX_EBODY, "priority",
			"a notification is ROUTINE, URGENT or IMMEDIATE");
	if ((need & N_ACK) && b->ack_deadline_ms <= 0)
		return ppxi_refuse(PPX_EBODY, "ack_deadline_ms",
				   "each agency must acknowledge a risk change "
				   "(004:L199): set a deadline");
	if ((rc = check_risk(n->risk, "notification.risk", need)) != 0 ||
	    (rc = ppxi_check_conditions(n->conditions, n->n_conditions,
					"notification.conditions", need)) != 0)
		return rc;
	return check_kind_fields(n, need);
}

/* ------------------------------------------------------------------ */
/* Disclosure decisions                                                */
/* ------------------------------------------------------------------ */

/* The YesNo answer, with the old bool not contradicting it.  In minutes
 * a listed decision may leave it unanswered: it was considered there. */
static int check_considered(const Ppx__V1__DisclosureDecision *d,
			    const char *path, int embedded)
{
	char buf[PATH_MAX_LEN];

	ppxi_sub(buf, path, "considered_answer", 0);
	if (d->considered_answer == PPX__V1__YES_NO__YES_NO_UNSPECIFIED &&
	    !embedded)
		return ppxi_refuse(PPX_EBODY, buf,
				   "say whether disclosure was "
				   "considered: YES or NO (001:L500)");
	if (embedded && d->considered_answer == PPX__V1__YES_NO__NO)
		return ppxi_refuse(PPX_EBODY, buf,
				   "a decision listed in minutes "
				   "was considered: it cannot say NO");
	if (d->considered && d->considered_answer == PPX__V1__YES_NO__NO)
		return ppxi_refuse(PPX_EBODY,
				   ppxi_sub(buf, path, "considered", 0),
				   "true contradicts considered_answer NO");
	if (d->considered_answer != PPX__V1__YES_NO__YES &&
	    d->considered_answer != PPX__V1__YES_NO__NO &&
	    d->considered_answer != PPX__V1__YES_NO__YES_NO_UNSPECIFIED)
		return ppxi_refuse(PPX_EBODY, buf, "must be YES or NO");
	return 0;
}

/* What a decision to disclose must also say. */
static int check_disclose(const Ppx__V1__DisclosureDecision *d,
			  const char *path, int counter_terrorism)
{
	char buf[PATH_MAX_LEN];
	int rc;

	if (d->recipient_category <= 0)
		return ppxi_refuse(
			PPX_EBODY, ppxi_sub(buf, path, "recipient_category", 0),
			"say to whom it is disclosed (employer, school, "
			"new partner, ...)");
	if (!ppxi_nonempty(d->information_disclosed))
		return ppxi_refuse(
			PPX_EBODY,
			ppxi_sub(buf, path, "information_disclosed", 0),
			"say what is disclosed");
	if (d->legal_basis <= 0)
		return ppxi_refuse(PPX_EBODY,
				   ppxi_sub(buf, path, "legal_basis", 0),
				   "a disclosure states its legal basis");
	if (counter_terrorism &&
	    (rc = check_person(d->approved_by,
			       ppxi_sub(buf, path, "approved_by", 0),
			       NEED_AGENCY, "the approver")) != 0)
		return ppx_error_set(rc, "%s; counter-terrorism material is "
				     "disclosed only with approval (001:L635)",
				     ppx_error_last());
	if ((d->executed_ms != 0) !=
	    (d->executed_by != NULL && ppxi_nonempty(d->executed_by->name)))
		return ppxi_refuse(
			PPX_EBODY, ppxi_sub(buf, path, "executed_by", 0),
			"an executed disclosure says who executed it "
			"and when (executed_by and executed_ms)");
	return 0;
}

static int check_decision(const Ppx__V1__DisclosureDecision *d,
			  const char *path, int embedded, int ct)
{
	char buf[PATH_MAX_LEN];
	int rc = check_considered(d, path, embedded);
	int considered = d->considered_answer == PPX__V1__YES_NO__YES ||
			 embedded;

	if (rc != 0)
		return rc;
	if (!ppxi_nonempty(d->rationale))
		return ppxi_refuse(PPX_EBODY,
				   ppxi_sub(buf, path, "rationale", 0),
				   "record why: the rationale is required");
	if ((rc = check_person(d->decided_by,
			       ppxi_sub(buf, path, "decided_by", 0),
			       NEED_AGENCY, "the decision-maker")) != 0)
		return rc;
	ppxi_sub(buf, path, "decision", 0);
	if (considered && (d->decision <= 0 || d->decision > 3))
		return ppxi_refuse(PPX_EBODY, buf,
				   "DISCLOSE, DO_NOT_DISCLOSE or "
				   "DEFER is required once disclosure is "
				   "considered");
	if (!considered && d->decision != 0)
		return ppxi_refuse(
			PPX_EBODY, buf,
			"a decision needs disclosure to "
			"have been considered (considered_answer YES)");
	if (!considered && d->executed_ms != 0)
		return ppxi_refuse(PPX_EBODY,
				   ppxi_sub(buf, path, "executed_ms", 0),
				   "nothing is executed without a decision");
	if (d->decision == PPX__V1__DISCLOSURE_OUTCOME__DISCLOSE)
		return check_disclose(d, path, ct);
	if (d->executed_ms != 0)
		return ppxi_refuse(PPX_EBODY,
				   ppxi_sub(buf, path, "executed_ms", 0),
				   "only a decision to disclose is executed");
	return 0;
}

static int check_disclosure(const Ppx__V1__Body *b)
{
	int rc = ppxi_check_subject(b->subject, "subject");

	return rc ? rc : check_decision(b->disclosure, "disclosure", 0,
					b->counter_terrorism);
}

/* ------------------------------------------------------------------ */
/* Minutes (MAPPA form B)                                              */
/* ------------------------------------------------------------------ */

static int same_person(const Ppx__V1__Person *a, const Ppx__V1__Person *b)
{
	if (!a || !b)
		return 0;
	if (ppxi_nonempty(a->id) && ppxi_nonempty(b->id))
		return strcmp(a->id, b->id) == 0;
	return ppxi_nonempty(a->name) && ppxi_nonempty(b->name) &&
	       strcmp(a->name, b->name) == 0 && a->agency && b->agency &&
	       strcmp(a->agency, b->agency) == 0;
}

static int listed(Ppx__V1__Attendee *const *list, size_t n,
		  const Ppx__V1__Person *p)
{
	for (size_t i = 0; i < n; i++)
		if (list[i] && same_person(list[i]->person, p))
			return 1;
	return 0;
}

static int check_attendees(Ppx__V1__Attendee *const *a, size_t n,
			   const char *path, int required)
{
	char buf[PATH_MAX_LEN], pbuf[PATH_MAX_LEN];
	int rc;

	if (n == 0 && required)
		return ppx_error_set(PPX_EBODY, "%s: list the %s attendees, "
				     "each with agency, name and role", path,
				     strstr(path, "required") ? "required"
							      : "actual");
	for (size_t i = 0; i < n; i++) {
		ppxi_sub(buf, path, NULL, i);
		if ((rc = check_person(a[i] ? a[i]->person : NULL,
				       ppxi_sub(pbuf, buf, "person", 0),
				       NEED_AGENCY | NEED_ROLE,
				       "an attendee")) != 0)
			return rc;
	}
	return 0;
}

/* Required, actual and absent agree: whoever was required and did not
 * attend is recorded as absent (attendance expected vs actual, 001:L333). */
static int check_attendance(const Ppx__V1__Minutes *m)
{
	char buf[PATH_MAX_LEN];
	int rc;

	if ((rc = check_attendees(m->required, m->n_required,
				  "minutes.required", 1)) != 0 ||
	    (rc = check_attendees(m->actual, m->n_actual, "minutes.actual",
				  1)) != 0 ||
	    (rc = check_attendees(m->absent, m->n_absent, "minutes.absent",
				  0)) != 0)
		return rc;
	for (size_t i = 0; i < m->n_required; i++) {
		const Ppx__V1__Person *p = m->required[i]->person;

		if (!listed(m->actual, m->n_actual, p) &&
		    !listed(m->absent, m->n_absent, p))
			return ppx_error_set(PPX_EBODY, "minutes.absent: %s (%s) "
					     "was required and is neither "
					     "among the actual attendees nor "
					     "recorded as absent", p->name,
					     p->agency);
	}
	for (size_t i = 0; i < m->n_absent; i++)
		if (listed(m->actual, m->n_actual, m->absent[i]->person))
			return ppxi_refuse(
				PPX_EBODY,
				ppxi_sub(buf, "minutes.absent", NULL, i),
				"listed as absent and as attending");
	return 0;
}

/* Each action: an id, what, a named owner with their agency, a due
 * date; "completed" only with an outcome (001:L463). */
static int check_action(Ppx__V1__Action *const *acts, size_t i)
{
	const Ppx__V1__Action *a = acts[i];
	char path[PATH_MAX_LEN], buf[PATH_MAX_LEN];
	int rc;

	ppxi_sub(path, "minutes.actions", NULL, i);
	if (!a || !ppxi_nonempty(a->id))
		return ppxi_refuse(PPX_EBODY, ppxi_sub(buf, path, "id", 0),
				   "each action has an id");
	for (size_t j = 0; j < i; j++)
		if (acts[j] && strcmp(acts[j]->id, a->id) == 0)
			return ppx_error_set(PPX_EBODY, "%s: action id %s is "
					     "used twice", buf, a->id);
	if (!ppxi_nonempty(a->description))
		return ppxi_refuse(PPX_EBODY,
				   ppxi_sub(buf, path, "description", 0),
				   "say what is to be done");
	if ((rc = check_person(a->owner, ppxi_sub(buf, path, "owner", 0),
			       NEED_AGENCY, "an action's owner")) != 0)
		return rc;
	if ((rc = check_date(a->due_date, ppxi_sub(buf, path, "due_date", 0),
			     1)) != 0)
		return ppx_error_set(rc, "%s: every action has a due date",
				     ppx_error_last());
	if (a->status == PPX__V1__ACTION_STATUS__ACTION_COMPLETED &&
	    !ppxi_nonempty(a->outcome))
		return ppxi_refuse(
			PPX_EBODY, ppxi_sub(buf, path, "outcome", 0),
			"'completed' without an outcome is not complete "
			"(001:L463)");
	return 0;
}

static int check_minutes_disclosure(const Ppx__V1__Body *b)
{
	const Ppx__V1__Minutes *m = b->minutes;
	char buf[PATH_MAX_LEN];
	int rc;

	if (m->disclosure_considered_answer != PPX__V1__YES_NO__YES &&
	    m->disclosure_considered_answer != PPX__V1__YES_NO__NO)
		return ppxi_refuse(
			PPX_EBODY, "minutes.disclosure_considered_answer",
			"say whether disclosure was considered at this "
			"meeting: YES or NO (001:L500)");
	if (m->disclosure_considered &&
	    m->disclosure_considered_answer == PPX__V1__YES_NO__NO)
		return ppxi_refuse(
			PPX_EBODY, "minutes.disclosure_considered",
			"true contradicts disclosure_considered_answer "
			"NO");
	if (m->disclosure_considered_answer == PPX__V1__YES_NO__NO &&
	    m->n_disclosures > 0)
		return ppxi_refuse(PPX_EBODY, "minutes.disclosures",
				   "decisions are listed but disclosure is "
				   "recorded as not considered");
	for (size_t i = 0; i < m->n_disclosures; i++)
		if (!m->disclosures[i] ||
		    (rc = check_decision(
			     m->disclosures[i],
			     ppxi_sub(buf, "minutes.disclosures", NULL, i), 1,
			     b->counter_terrorism)) != 0)
			return m->disclosures[i]
				       ? rc
				       : ppxi_refuse(PPX_EBODY, buf,
						     "empty decision");
	return 0;
}

/* Identity, version and amendment: what even a cancelled meeting has. */
static int check_minutes_header(const Ppx__V1__Body *b)
{
	const Ppx__V1__Minutes *m = b->minutes;
	int rc;

	if (!ppxi_nonempty(m->meeting_id))
		return ppxi_refuse(PPX_EBODY, "minutes.meeting_id",
				   "name the meeting");
	if ((rc = check_date(m->meeting_date, "minutes.meeting_date", 1)) ||
	    (rc = ppxi_check_agency(m->lead_agency, "minutes.lead_agency", 1)))
		return rc;
	if (m->version == 0)
		return ppxi_refuse(
			PPX_EBODY, "minutes.version",
			"1 for the first issue of these minutes, then 2, "
			"3, ... for amendments");
	if (m->version == 1 && b->supersedes.len != 0)
		return ppxi_refuse(
			PPX_EBODY, "supersedes",
			"version 1 of the minutes supersedes nothing");
	if (m->version > 1 &&
	    (rc = ppxi_check_message_id(b->supersedes, "supersedes",
					"an amendment names the "
					"version it supersedes")))
		return rc;
	return check_date(m->rearranged_date, "minutes.rearranged_date", 0);
}

static int check_minutes(const Ppx__V1__Body *b)
{
	const Ppx__V1__Minutes *m = b->minutes;
	char buf[PATH_MAX_LEN];
	int rc;

	if ((rc = check_minutes_header(b)) != 0 || m->meeting_cancelled)
		return rc;
	if (m->level != PPX__V1__MAPPA_LEVEL__LEVEL_2 &&
	    m->level != PPX__V1__MAPPA_LEVEL__LEVEL_3)
		return ppxi_refuse(PPX_EBODY, "minutes.level",
				   "MAPPA meetings are held at level 2 or 3");
	if ((rc = check_person(m->chair, "minutes.chair", NEED_AGENCY,
			       "the chair")) != 0 ||
	    (rc = check_attendance(m)) != 0)
		return rc;
	if (!has_identifier(b->subject)) {
		for (size_t i = 0; i < m->n_subjects; i++)
			if ((rc = ppxi_check_subject(
				     m->subjects[i],
				     ppxi_sub(buf, "minutes.subjects", NULL,
					      i))) != 0)
				return rc;
		if (m->n_subjects == 0)
			return ppxi_check_subject(b->subject, "subject");
	}
	if ((rc = check_risk(m->risk, "minutes.risk", 0)) != 0 ||
	    (rc = ppxi_check_conditions(m->conditions, m->n_conditions,
					"minutes.conditions", 0)) != 0 ||
	    (rc = check_minutes_disclosure(b)) != 0)
		return rc;
	for (size_t i = 0; i < m->n_actions; i++)
		if ((rc = check_action(m->actions, i)) != 0)
			return rc;
	return m->standing ? check_date(m->standing->next_review_date,
					"minutes.standing.next_review_date", 0)
			   : 0;
}

/* ------------------------------------------------------------------ */
/* Acknowledgements and action updates                                 */
/* ------------------------------------------------------------------ */

static int check_acknowledgement(const Ppx__V1__Body *b)
{
	int rc =
		ppxi_check_message_id(b->replies_to, "replies_to",
				      "an acknowledgement names the message it "
				      "takes on");

	if (rc != 0)
		return rc;
	return check_person(b->acknowledgement->acknowledged_by,
			    "acknowledgement.acknowledged_by", 0,
			    "whoever acknowledges");
}

static int check_action_update(const Ppx__V1__Body *b)
{
	const Ppx__V1__ActionUpdate *u = b->action_update;
	int rc = ppxi_check_message_id(b->replies_to, "replies_to",
				       "an action update names the minutes");

	if (rc != 0)
		return rc;
	if (!ppxi_nonempty(u->action_id))
		return ppxi_refuse(PPX_EBODY, "action_update.action_id",
				   "say which action of the minutes this is");
	if (u->status <= 0 || u->status > 4)
		return ppxi_refuse(PPX_EBODY, "action_update.status",
				   "OPEN, IN_PROGRESS, COMPLETED or CANCELLED");
	if (u->status == PPX__V1__ACTION_STATUS__ACTION_COMPLETED &&
	    !ppxi_nonempty(u->outcome))
		return ppxi_refuse(
			PPX_EBODY, "action_update.outcome",
			"'completed' without an outcome is not complete "
			"(001:L463)");
	return check_person(u->updated_by, "action_update.updated_by", 0,
			    "whoever updates an action");
}

/* ------------------------------------------------------------------ */
/* Dispatch                                                            */
/* ------------------------------------------------------------------ */

/* Body.emergency (PROTOCOL.md 3.6): a reason of 1 to 1024 bytes of
 * printable UTF-8 (no control character), not only spaces. */
static int check_emergency(const Ppx__V1__Emergency *e)
{
	const char *r = e->reason ? e->reason : "";
	size_t len = strlen(r), blank = strspn(r, " ");

	if (len == 0 || blank == len)
		return ppxi_refuse(PPX_EBODY, "emergency.reason",
				   "an emergency needs a reason");
	if (len > PPX_EMERGENCY_REASON_MAX)
		return ppxi_refuse(PPX_EBODY, "emergency.reason",
				   "longer than 1024 bytes");
	if (ppx_utf8_find_bad((const uint8_t *)r, len) != len)
		return ppxi_refuse(PPX_EBODY, "emergency.reason",
				   "not UTF-8 text");
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)r[i] < 0x20 || r[i] == 0x7f)
			return ppxi_refuse(PPX_EBODY, "emergency.reason",
					   "holds a control character");
	return 0;
}

static int check_common(const Ppx__V1__Body *b)
{
	if (b->emergency) {
		int rc = check_emergency(b->emergency);

		if (rc != 0)
			return rc;
	}
	if (b->ack_deadline_ms < 0 ||
	    (b->ack_deadline_ms > 0 && b->created_ms > 0 &&
	     b->ack_deadline_ms <= b->created_ms))
		return ppxi_refuse(
			PPX_EBODY, "ack_deadline_ms",
			"the acknowledgement deadline must be after the "
			"message is created");
	if (b->supersedes.len != 0 && b->supersedes.len != 16)
		return ppxi_refuse(PPX_EBODY, "supersedes",
				   "a 16-byte message id");
	if (b->replies_to.len != 0 && b->replies_to.len != 16)
		return ppxi_refuse(PPX_EBODY, "replies_to",
				   "a 16-byte message id");
	return 0;
}

int ppx_domain_check(const Ppx__V1__Body *b, const char *sender_agency)
{
	int rc = check_common(b);

	if (rc != 0)
		return rc;
	switch (b->payload_case) {
	case PPX__V1__BODY__PAYLOAD_NOTIFICATION:
		return check_notification(b);
	case PPX__V1__BODY__PAYLOAD_MINUTES:
		return check_minutes(b);
	case PPX__V1__BODY__PAYLOAD_DISCLOSURE:
		return check_disclosure(b);
	case PPX__V1__BODY__PAYLOAD_PARTNER_RECORD:
		return ppxi_domain_check_record(b, sender_agency);
	case PPX__V1__BODY__PAYLOAD_ACKNOWLEDGEMENT:
		return check_acknowledgement(b);
	case PPX__V1__BODY__PAYLOAD_ACTION_UPDATE:
		return check_action_update(b);
	default:
		return ppxi_refuse(PPX_EBODY, "payload",
				   "the body carries no "
				   "payload of a known family");
	}
}
