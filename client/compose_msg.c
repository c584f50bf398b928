/*
 * compose_msg.c — notifications, minutes, disclosure decisions,
 * acknowledgements and action updates from flags (part of the compose
 * module; compose.c tells its story).
 *
 * Each builder fills its payload in the compose's own storage and points
 * the body at it; it checks only what flags can get wrong (a value that is
 * not a date, an enum name that does not exist).  Whether the message is
 * complete is the domain rules' to say, in compose_check(), so that the
 * client and the daemon say the same thing.
 *
 * Structured flags take "key=value; key=value" (the first key may be
 * left out: --condition "Curfew 19:00-07:00; kind=curfew; monitor=
 * probation.gwent"), people "NAME, AGENCY[, ROLE[, GRADE]]".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "client.h"
#include "compose_int.h"
#include "ppx/envelope.h"
#include "ppx/error.h"
#include "ppx/timefmt.h"

/* ------------------------------------------------------------------ */
/* Pieces more than one family uses                                    */
/* ------------------------------------------------------------------ */

int compose_rosh(struct compose *c, Ppx__V1__RiskOfSeriousHarm ***out,
		 size_t *n)
{
	const struct compose_list *l = compose_all(c, O_ROSH);
	Ppx__V1__RiskOfSeriousHarm *r = compose_alloc(c, (l->n + 1) * sizeof(*r));
	int rc = 0, group, level;

	*out = compose_alloc(c, (l->n + 1) * sizeof(**out));
	if (!r || !*out)
		return PPX_ENOMEM;
	for (*n = 0; rc == 0 && *n < l->n; (*n)++) {
		const char *eq = strchr(l->v[*n], '=');
		char *g = eq ? compose_strndup(c, l->v[*n],
					       (size_t)(eq - l->v[*n])) : NULL;

		if (!eq)
			return compose_fail(c, "--rosh: write GROUP=LEVEL, e.g. "
					    "public=high, not '%s'", l->v[*n]);
		if ((rc = compose_enum(c, &group, &ppx__v1__risk_group__descriptor,
				       "", g ? g : "", "--rosh group")) ||
		    (rc = compose_enum(c, &level, &ppx__v1__risk_level__descriptor,
				       "RISK_", eq + 1, "--rosh level")))
			return rc;
		ppx__v1__risk_of_serious_harm__init(&r[*n]);
		r[*n].group = group;
		r[*n].level = level;
		(*out)[*n] = &r[*n];
	}
	return rc;
}

/* The risk picture flags over `base`; `level`: --level is the subject's
 * MAPPA level (not, as in minutes, the meeting's). */
int compose_risk(struct compose *c, Ppx__V1__RiskPicture **out,
		 const Ppx__V1__RiskPicture *base, int level)
{
	Ppx__V1__RiskPicture *r = &c->risk;
	const char *v;
	int e, rc = 0;

	*out = (Ppx__V1__RiskPicture *)base;
	if (!compose_val(c, O_CATEGORY) && !compose_all(c, O_ROSH)->n &&
	    !compose_val(c, O_IMMINENCE) && !compose_val(c, O_ASSESSMENT) &&
	    !(level && compose_val(c, O_LEVEL)))
		return 0;
	if (base)
		*r = *base;
	else
		ppx__v1__risk_picture__init(r);
	if ((v = compose_val(c, O_CATEGORY)) &&
	    (rc = compose_enum(c, &e, &ppx__v1__mappa_category__descriptor,
			       "CATEGORY_", v, "--category")) == 0)
		r->category = e;
	if (rc == 0 && level && (v = compose_val(c, O_LEVEL)) &&
	    (rc = compose_enum(c, &e, &ppx__v1__mappa_level__descriptor,
			       "LEVEL_", v, "--level")) == 0)
		r->level = e;
	if (rc == 0 && compose_all(c, O_ROSH)->n)
		rc = compose_rosh(c, &r->rosh, &r->n_rosh);
	if ((v = compose_val(c, O_IMMINENCE)))
		r->imminence = (char *)v;
	if ((v = compose_val(c, O_ASSESSMENT)))
		r->assessment = (char *)v;
	*out = r;
	return rc;
}

static int one_condition(struct compose *c, Ppx__V1__Condition *k,
			 const char *spec, size_t i)
{
	static const char *const keys[] = {"text", "kind", "monitor", "id",
					   "start", "end", NULL};
	char *v[6];
	char id[24];
	int e, rc = compose_spec(c, spec, "--condition", keys, v);

	if (rc != 0)
		return rc;
	ppx__v1__condition__init(k);
	if (v[1] && (rc = compose_enum(c, &e,
				       &ppx__v1__condition_kind__descriptor, "",
				       v[1], "--condition kind")) != 0)
		return rc;
	k->kind = v[1] ? e : 0;
	k->text = v[0] ? v[0] : (char *)"";
	k->monitoring_agency = v[2] ? v[2] : (char *)"";
	snprintf(id, sizeof(id), "c%zu", i + 1);
	k->id = v[3] ? v[3] : compose_strndup(c, id, strlen(id));
	k->start_date = v[4] ? v[4] : (char *)"";
	k->end_date = v[5] ? v[5] : (char *)"";
	return k->id ? 0 : PPX_ENOMEM;
}

int compose_conditions(struct compose *c, Ppx__V1__Condition ***out,
		       size_t *n)
{
	const struct compose_list *l = compose_all(c, O_CONDITION);
	Ppx__V1__Condition *k = compose_alloc(c, (l->n + 1) * sizeof(*k));
	int rc = 0;

	*out = compose_alloc(c, (l->n + 1) * sizeof(**out));
	if (!k || !*out)
		return PPX_ENOMEM;
	for (*n = 0; rc == 0 && *n < l->n; (*n)++) {
		rc = one_condition(c, &k[*n], l->v[*n], *n);
		(*out)[*n] = &k[*n];
	}
	return rc;
}

int compose_address(struct compose *c, Ppx__V1__Address **out,
		    const char *spec)
{
	static const char *const keys[] = {"lines", "postcode", "kind", "from",
					   "to", NULL};
	Ppx__V1__Address *a = compose_alloc(c, sizeof(*a));
	char *v[5];
	int rc;

	if (!a)
		return PPX_ENOMEM;
	if ((rc = compose_spec(c, spec, "--address", keys, v)) != 0)
		return rc;
	ppx__v1__address__init(a);
	a->lines = v[0] ? v[0] : (char *)"";
	a->postcode = v[1] ? v[1] : (char *)"";
	a->kind = v[2] ? v[2] : (char *)"";
	a->from_date = v[3] ? v[3] : (char *)"";
	a->to_date = v[4] ? v[4] : (char *)"";
	*out = a;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Notifications                                                       */
/* ------------------------------------------------------------------ */

int compose_list_kinds(void)
{
	const ProtobufCEnumDescriptor *d = &ppx__v1__notification_kind__descriptor;

	for (unsigned i = 1; i < d->n_values; i++) {
		char name[64];
		size_t k;

		for (k = 0; d->values[i].name[k] && k + 1 < sizeof(name); k++)
			name[k] = d->values[i].name[k] == '_'
					  ? '-' : (char)(d->values[i].name[k] |
							 0x20);
		name[k] = '\0';
		printf("%s\n", name);
	}
	return 1;
}

static char *today(struct compose *c)
{
	char *s = compose_alloc(c, PPX_DATE_ISO_LEN);

	if (s)
		ppx_date_iso(s, PPX_DATE_ISO_LEN, (int64_t)time(NULL) * 1000);
	return s;
}

/* The fields only some kinds carry. */
static int notification_extras(struct compose *c, Ppx__V1__Notification *n)
{
	const char *v;
	int yes = 0, rc = 0;

	if ((v = compose_val(c, O_ADDRESS)))
		rc = compose_address(c, &n->address, v);
	if (rc == 0 && (v = compose_val(c, O_RECALL)) &&
	    (rc = compose_yesno(c, &yes, v, "--recall")) == 0)
		n->recall = yes == PPX__V1__YES_NO__YES;
	if ((v = compose_val(c, O_FROM_AREA)))
		n->from_area = (char *)v;
	if ((v = compose_val(c, O_TO_AREA)))
		n->to_area = (char *)v;
	if ((v = compose_val(c, O_DECIDED_BY)))
		n->decided_by = (char *)v;
	if ((v = compose_val(c, O_EXIT_PLAN)))
		n->exit_plan = (char *)v;
	if (!compose_val(c, O_VISITED_BY) && !compose_val(c, O_VISIT_OUTCOME) &&
	    !compose_val(c, O_SAFETY) && !compose_val(c, O_VISIT_ANNOUNCED))
		return rc;
	ppx__v1__home_visit__init(&c->visit);
	n->home_visit = &c->visit;
	if (rc == 0 && (v = compose_val(c, O_VISIT_ANNOUNCED)) &&
	    (rc = compose_yesno(c, &yes, v, "--announced")) == 0)
		c->visit.announced = yes == PPX__V1__YES_NO__YES;
	if ((v = compose_val(c, O_VISITED_BY)))
		c->visit.visited_by = (char *)v;
	if ((v = compose_val(c, O_VISIT_OUTCOME)))
		c->visit.outcome = (char *)v;
	if ((v = compose_val(c, O_SAFETY)))
		c->visit.safety_issues = (char *)v;
	return rc;
}

int compose_notification(struct compose *c)
{
	Ppx__V1__Notification *n = &c->notification;
	const char *v;
	int e, rc = 0;

	ppx__v1__notification__init(n);
	c->body.payload_case = PPX__V1__BODY__PAYLOAD_NOTIFICATION;
	c->body.notification = n;
	if ((v = compose_val(c, O_KIND)) &&
	    (rc = compose_enum(c, &e, &ppx__v1__notification_kind__descriptor,
			       "", v, "--kind")) == 0)
		n->kind = e;
	n->effective_date = (char *)compose_val(c, O_EFFECTIVE);
	if (!n->effective_date && !(n->effective_date = today(c)))
		return PPX_ENOMEM;
	if ((v = compose_val(c, O_DETAILS)))
		n->details = (char *)v;
	if (rc == 0)
		rc = compose_risk(c, &n->risk, NULL, 1);
	if (rc == 0)
		rc = compose_conditions(c, &n->conditions, &n->n_conditions);
	return rc ? rc : notification_extras(c, n);
}

/* ------------------------------------------------------------------ */
/* Disclosure decisions                                                */
/* ------------------------------------------------------------------ */

static int person_flag(struct compose *c, Ppx__V1__Person **out, int opt)
{
	const char *v = compose_val(c, opt);

	return v ? compose_person(c, out, v) : 0;
}

int compose_disclosure(struct compose *c)
{
	Ppx__V1__DisclosureDecision *d = &c->disclosure;
	const char *v;
	int e, rc = 0;

	ppx__v1__disclosure_decision__init(d);
	c->body.payload_case = PPX__V1__BODY__PAYLOAD_DISCLOSURE;
	c->body.disclosure = d;
	d->legal_basis = c->purpose.legal_basis;
	if ((v = compose_val(c, O_CONSIDERED)) &&
	    (rc = compose_yesno(c, &e, v, "--considered")) == 0) {
		d->considered_answer = e;
		d->considered = e == PPX__V1__YES_NO__YES;
	}
	if (rc == 0 && (v = compose_val(c, O_DECISION)) &&
	    (rc = compose_enum(c, &e, &ppx__v1__disclosure_outcome__descriptor,
			       "", v, "--decision")) == 0)
		d->decision = e;
	if (rc == 0 && (v = compose_val(c, O_RECIPIENT_CATEGORY)) &&
	    (rc = compose_enum(c, &e, &ppx__v1__recipient_category__descriptor,
			       "", v, "--recipient-category")) == 0)
		d->recipient_category = e;
	if (rc == 0 && (v = compose_val(c, O_EXECUTED)))
		rc = compose_time(c, &d->executed_ms, v, "--executed", 0);
	if (rc == 0 &&
	    ((rc = person_flag(c, &d->decided_by, O_DECIDED_BY)) ||
	     (rc = person_flag(c, &d->approved_by, O_APPROVED_BY)) ||
	     (rc = person_flag(c, &d->executed_by, O_EXECUTED_BY))))
		return rc;
	if ((v = compose_val(c, O_RECIPIENT)))
		d->recipient = (char *)v;
	if ((v = compose_val(c, O_INFORMATION)))
		d->information_disclosed = (char *)v;
	if ((v = compose_val(c, O_RATIONALE)))
		d->rationale = (char *)v;
	if ((v = compose_val(c, O_MEETING_ID)))
		d->meeting_id = (char *)v;
	return rc;
}

/* ------------------------------------------------------------------ */
/* Minutes                                                             */
/* ------------------------------------------------------------------ */

static int attendees(struct compose *c, int opt, Ppx__V1__Attendee ***out,
		     size_t *n)
{
	const struct compose_list *l = compose_all(c, opt);
	Ppx__V1__Attendee *a = compose_alloc(c, (l->n + 1) * sizeof(*a));
	int rc = 0;

	if (l->n == 0)
		return 0;	/* keep what the amended minutes said */
	*out = compose_alloc(c, (l->n + 1) * sizeof(**out));
	if (!a || !*out)
		return PPX_ENOMEM;
	for (*n = 0; rc == 0 && *n < l->n; (*n)++) {
		ppx__v1__attendee__init(&a[*n]);
		rc = compose_person(c, &a[*n].person, l->v[*n]);
		(*out)[*n] = &a[*n];
	}
	return rc;
}

static int one_action(struct compose *c, Ppx__V1__Action *a, const char *spec,
		      size_t i)
{
	static const char *const keys[] = {"text", "id", "owner", "due",
					   "status", "outcome", NULL};
	char *v[6], id[24];
	int e, rc = compose_spec(c, spec, "--action", keys, v);

	if (rc != 0)
		return rc;
	ppx__v1__action__init(a);
	a->description = v[0] ? v[0] : (char *)"";
	snprintf(id, sizeof(id), "A%zu", i + 1);
	if (!(a->id = v[1] ? v[1] : compose_strndup(c, id, strlen(id))))
		return PPX_ENOMEM;
	if (v[2] && (rc = compose_person(c, &a->owner, v[2])) != 0)
		return rc;
	a->due_date = v[3] ? v[3] : (char *)"";
	a->status = PPX__V1__ACTION_STATUS__ACTION_OPEN;
	if (v[4] && (rc = compose_enum(c, &e, &ppx__v1__action_status__descriptor,
				       "ACTION_", v[4], "--action status")))
		return rc;
	if (v[4])
		a->status = e;
	a->outcome = v[5] ? v[5] : (char *)"";
	return 0;
}

static int actions(struct compose *c, Ppx__V1__Minutes *m)
{
	const struct compose_list *l = compose_all(c, O_ACTION);
	Ppx__V1__Action *a = compose_alloc(c, (l->n + 1) * sizeof(*a));
	int rc = 0;

	if (l->n == 0)
		return 0;
	m->actions = compose_alloc(c, (l->n + 1) * sizeof(*m->actions));
	if (!a || !m->actions)
		return PPX_ENOMEM;
	for (m->n_actions = 0; rc == 0 && m->n_actions < l->n; m->n_actions++) {
		rc = one_action(c, &a[m->n_actions], l->v[m->n_actions],
				m->n_actions);
		m->actions[m->n_actions] = &a[m->n_actions];
	}
	return rc;
}

/* The plan's four headings and the standing items, over the amended. */
static int plan_and_standing(struct compose *c, Ppx__V1__Minutes *m)
{
	static const int plan_opts[] = {O_SUPERVISION, O_MONITORING,
					O_INTERVENTIONS, O_VICTIM_SAFETY,
					O_CONTINGENCY};
	char **plan_fields[5];
	const char *v;
	int yes, rc = 0;

	if (m->plan)
		c->plan = *m->plan;
	else
		ppx__v1__risk_management_plan__init(&c->plan);
	plan_fields[0] = &c->plan.supervision;
	plan_fields[1] = &c->plan.monitoring_and_control;
	plan_fields[2] = &c->plan.interventions_and_treatment;
	plan_fields[3] = &c->plan.victim_safety_planning;
	plan_fields[4] = &c->plan.contingency;
	for (size_t i = 0; i < 5; i++)
		if ((v = compose_val(c, plan_opts[i])))
			*plan_fields[i] = (char *)v;
	m->plan = &c->plan;
	if (m->standing)
		c->standing = *m->standing;
	else
		ppx__v1__standing_items__init(&c->standing);
	m->standing = &c->standing;
	if ((v = compose_val(c, O_NEXT_REVIEW)))
		c->standing.next_review_date = (char *)v;
	if ((v = compose_val(c, O_VIEWS)))
		c->standing.offender_views = (char *)v;
	if ((v = compose_val(c, O_EXIT_STRATEGY)))
		c->standing.exit_strategy = (char *)v;
	if ((v = compose_val(c, O_CPP)) &&
	    (rc = compose_yesno(c, &yes, v, "--cpp")) == 0)
		c->standing.critical_public_protection_case =
			yes == PPX__V1__YES_NO__YES;
	return rc;
}

/* --amend ID: start from the minutes it supersedes, as the next version,
 * with their recipients, subject, marking and purpose unless given. */
static int amend_from(struct compose *c, Ppx__V1__Minutes *m)
{
	struct ppx_logged_message old;
	const Ppx__V1__Body *ob;
	int rc = compose_logged(c, &old, &c->body.supersedes,
				compose_val(c, O_AMEND), PPX_RECORDS_SENT,
				"--amend");

	if (rc != 0)
		return rc;
	ob = old.body;
	if (ob->payload_case != PPX__V1__BODY__PAYLOAD_MINUTES)
		return compose_fail(c, "--amend: %s is not minutes",
				    compose_val(c, O_AMEND));
	*m = *ob->minutes;
	m->version = ob->minutes->version + 1;
	if (c->body.n_recipients == 0) {
		c->body.recipients = ob->recipients;
		c->body.n_recipients = ob->n_recipients;
	}
	compose_subject(c, &c->subject, ob->subject);
	if (!compose_val(c, O_MARKING))
		c->body.marking = ob->marking;
	if (!compose_val(c, O_PURPOSE) && !compose_val(c, O_LEGAL_BASIS) &&
	    ob->purpose)
		c->body.purpose = ob->purpose;
	c->body.counter_terrorism |= ob->counter_terrorism;
	return 0;
}

/* Who was there, the answer on disclosure, what was decided. */
static int minutes_meeting(struct compose *c, Ppx__V1__Minutes *m)
{
	const char *v;
	int e, rc = 0;

	if ((v = compose_val(c, O_MEETING_ID)))
		m->meeting_id = (char *)v;
	if ((v = compose_val(c, O_DATE)))
		m->meeting_date = (char *)v;
	if ((v = compose_val(c, O_LEAD_AGENCY)))
		m->lead_agency = (char *)v;
	if ((v = compose_val(c, O_COMMENTS)))
		m->comments_to_smb = (char *)v;
	if ((v = compose_val(c, O_REARRANGED)))
		m->rearranged_date = (char *)v;
	if (compose_val(c, O_CANCELLED))
		m->meeting_cancelled = 1;
	if ((v = compose_val(c, O_LEVEL)) &&
	    (rc = compose_enum(c, &e, &ppx__v1__mappa_level__descriptor,
			       "LEVEL_", v, "--level")) == 0)
		m->level = e;
	if (rc == 0 && (v = compose_val(c, O_DISCLOSURE_CONSIDERED)) &&
	    (rc = compose_yesno(c, &e, v, "--disclosure-considered")) == 0) {
		m->disclosure_considered_answer = e;
		m->disclosure_considered = e == PPX__V1__YES_NO__YES;
	}
	if (rc == 0 && (v = compose_val(c, O_CHAIR)))
		rc = compose_person(c, &m->chair, v);
	if (rc == 0 &&
	    ((rc = attendees(c, O_REQUIRED, &m->required, &m->n_required)) ||
	     (rc = attendees(c, O_ATTENDED, &m->actual, &m->n_actual)) ||
	     (rc = attendees(c, O_ABSENT, &m->absent, &m->n_absent))))
		return rc;
	return rc ? rc : actions(c, m);
}

int compose_minutes(struct compose *c)
{
	Ppx__V1__Minutes *m = &c->minutes;
	int rc = 0;

	ppx__v1__minutes__init(m);
	m->version = 1;
	c->body.payload_case = PPX__V1__BODY__PAYLOAD_MINUTES;
	c->body.minutes = m;
	if (compose_val(c, O_AMEND) && (rc = amend_from(c, m)) != 0)
		return rc;
	if ((rc = minutes_meeting(c, m)) != 0 ||
	    (rc = compose_risk(c, &m->risk, m->risk, 0)) != 0 ||
	    (rc = plan_and_standing(c, m)) != 0)
		return rc;
	if (compose_all(c, O_CONDITION)->n)
		rc = compose_conditions(c, &m->conditions, &m->n_conditions);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Acknowledgements and action updates                                 */
/* ------------------------------------------------------------------ */

/* The action of the minutes, named by --action-id. */
static int action_of(struct compose *c, const Ppx__V1__Minutes *m)
{
	Ppx__V1__ActionUpdate *u = &c->update;
	const char *v = compose_val(c, O_MEETING_ID);
	int e, rc = 0;

	if (v && strcmp(v, m->meeting_id) != 0)
		return compose_fail(c, "--meeting-id %s: the minutes are of "
				    "meeting %s", v, m->meeting_id);
	u->meeting_id = m->meeting_id;
	if (!(v = compose_val(c, O_ACTION_ID)))
		return compose_fail(c, "--action-id: say which action of "
				    "meeting %s", m->meeting_id);
	u->action_id = (char *)v;
	for (size_t i = 0; i < m->n_actions; i++)
		if (strcmp(m->actions[i]->id, v) == 0)
			goto found;
	return compose_fail(c, "--action-id: the minutes of meeting %s have "
			    "no action %s", m->meeting_id, v);
found:
	if ((v = compose_val(c, O_STATUS)) &&
	    (rc = compose_enum(c, &e, &ppx__v1__action_status__descriptor,
			       "ACTION_", v, "--status")) == 0)
		u->status = e;
	if ((v = compose_val(c, O_OUTCOME)))
		u->outcome = (char *)v;
	u->updated_by = compose_operator(c);
	return rc;
}

/* What an answer copies from the message it answers. */
static int answer(struct compose *c, const struct ppx_logged_message *m)
{
	const Ppx__V1__Body *ob = m->body;
	char **to;

	if (m->kind == PPX__V1__ENTRY_KIND__ENTRY_RECEIVED) {
		to = compose_alloc(c, sizeof(*to));
		if (!to || !(to[0] = compose_strndup(c, m->peer,
						     strlen(m->peer))))
			return PPX_ENOMEM;
		c->body.recipients = to;
		c->body.n_recipients = 1;
	} else {
		c->body.recipients = ob->recipients;
		c->body.n_recipients = ob->n_recipients;
	}
	c->body.subject = ob->subject;
	c->body.marking = ob->marking;
	c->body.priority = ob->priority;
	c->body.purpose = ob->purpose;
	c->body.counter_terrorism = ob->counter_terrorism;
	return 0;
}

int compose_reply(struct compose *c)
{
	struct ppx_logged_message m;
	int ack = c->family == F_ACK;
	int rc;

	if (c->n_args != 1)
		return compose_fail(c, "name the message: %s ID (see %s "
				    "--help)", c->cmd, c->cmd);
	rc = compose_logged(c, &m, &c->body.replies_to, c->args[0],
			    PPX_RECORDS_SENT | PPX_RECORDS_RECEIVED, "ID");
	if (rc == 0 && ack && m.kind != PPX__V1__ENTRY_KIND__ENTRY_RECEIVED)
		return compose_fail(c, "%s was sent by %s: acknowledge what "
				    "partners sent", c->args[0],
				    c->cfg->agency);
	if (rc != 0 || (rc = answer(c, &m)) != 0)
		return rc;
	if (ack) {
		ppx__v1__acknowledgement__init(&c->ack);
		if (compose_val(c, O_NOTE))
			c->ack.note = (char *)compose_val(c, O_NOTE);
		c->ack.acknowledged_by = compose_operator(c);
		c->body.payload_case = PPX__V1__BODY__PAYLOAD_ACKNOWLEDGEMENT;
		c->body.acknowledgement = &c->ack;
		return 0;
	}
	if (m.body->payload_case != PPX__V1__BODY__PAYLOAD_MINUTES)
		return compose_fail(c, "%s is not minutes: an action update "
				    "answers minutes", c->args[0]);
	ppx__v1__action_update__init(&c->update);
	c->body.payload_case = PPX__V1__BODY__PAYLOAD_ACTION_UPDATE;
	c->body.action_update = &c->update;
	return action_of(c, m.body->minutes);
}
