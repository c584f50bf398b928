/*
 * compose_record.c — partner record versions from flags (part of the
 * compose module; compose.c tells its story).
 *
 * Every version carries the whole shared picture, so an update starts
 * from the version it is based on — by default the latest this agency's
 * log holds (daemon/records.c, the same view the daemon checks against),
 * or the one --base-version names — and changes what the flags say.  It
 * then names that version (base_version, Body.supersedes) and lists what
 * differs (changed_fields, computed, never typed).  An agency may change
 * only the fields it owns; the domain rules say so, naming the field,
 * before anything is sent.
 *
 * --merge ID reconciles a concurrent version (one that a partner refused
 * as a conflict, or that we refused): from it come the fields its sender
 * owns and we do not, and the conditions of the kinds it owns.  Shared
 * fields keep our version's values; the person merging changes them with
 * flags if the other version's were right.
 *
 * Without --to, a version goes to every partner agency on the record.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "compose_int.h"
#include "ppx/domain.h"
#include "ppx/error.h"

/* A list of pointers: room for n + extra. */
static void **grow(struct compose *c, size_t n, size_t extra)
{
	return compose_alloc(c, (n + extra + 1) * sizeof(void *));
}

/* The version to start from, and the merged versions, from the log. */
static int load_versions(struct compose *c, ppx_log *log, const char *id,
			 struct ppx_logged_message *base)
{
	struct ppx_record_latest l;
	const char *v = compose_val(c, O_BASE_VERSION);
	uint64_t n = 0;
	int rc = v ? compose_uint(c, &n, v, "--base-version") : 0;

	memset(base, 0, sizeof(*base));
	if (rc != 0 || (v && n == 0))
		return rc;
	if (v) {
		rc = ppx_records_version(base, log, id, n);
	} else if ((rc = ppx_records_latest(&l, log, id)) == 0 && l.n > 1) {
		return compose_fail(c, "partner record %s: this log holds %zu "
				    "versions numbered %llu: name one with "
				    "--base-version and reconcile the others "
				    "with --merge", id, l.n,
				    (unsigned long long)l.version);
	} else if (rc == 0 && l.n == 1) {
		rc = ppx_records_find(base, log, l.tips[0].agency, l.tips[0].id,
				      PPX_RECORDS_SENT | PPX_RECORDS_RECEIVED);
	}
	if (rc != 0)
		return compose_fail(c, "%s", ppx_error_last());
	return base->body ? compose_keep(c, base->body) : 0;
}

/* Conditions: ours (kinds we own), and the merged version's of the kinds
 * its sender owns and we do not. */
static int merge_conditions(struct compose *c, Ppx__V1__PartnerRecord *r,
			    const Ppx__V1__Body *m)
{
	unsigned us = ppx_agency_type(c->cfg->agency);
	unsigned them = ppx_agency_type(m->sender_agency);
	const Ppx__V1__PartnerRecord *mr = m->partner_record;
	Ppx__V1__Condition **out = (Ppx__V1__Condition **)grow(
		c, r->n_conditions, mr->n_conditions);
	size_t n = 0;

	if (!out)
		return PPX_ENOMEM;
	for (size_t i = 0; i < r->n_conditions; i++) {
		unsigned owners = ppx_condition_owners(r->conditions[i]->kind);

		if ((owners & us) || !(owners & them))
			out[n++] = r->conditions[i];
	}
	for (size_t i = 0; i < mr->n_conditions; i++) {
		unsigned owners = ppx_condition_owners(mr->conditions[i]->kind);

		if ((owners & them) && !(owners & us))
			out[n++] = mr->conditions[i];
	}
	r->conditions = out;
	r->n_conditions = n;
	return 0;
}

static int merge_one(struct compose *c, Ppx__V1__PartnerRecord *r,
		     const Ppx__V1__Body *m)
{
	unsigned us = ppx_agency_type(c->cfg->agency);
	unsigned them = ppx_agency_type(m->sender_agency);

	for (size_t i = 0; i < PPX_RECORD_FIELDS; i++) {
		const char *path = ppx_record_field_name(i);
		unsigned owners = ppx_record_field_owners(path);

		if (strcmp(path, "conditions") == 0) {
			if (merge_conditions(c, r, m) != 0)
				return PPX_ENOMEM;
		} else if (!(owners & us) && (owners & them) &&
			   ppx_record_field_take(r, path, m->partner_record)) {
			return compose_fail(c, "%s", ppx_error_last());
		}
	}
	return 0;
}

static int load_merges(struct compose *c, ppx_log *log, const char *id,
		       Ppx__V1__PartnerRecord *r)
{
	const struct compose_list *l = compose_all(c, O_MERGE);
	struct ppx_logged_message m;
	int rc = 0;

	r->merges = compose_alloc(c, (l->n + 1) * sizeof(*r->merges));
	if (!r->merges)
		return PPX_ENOMEM;
	for (r->n_merges = 0; rc == 0 && r->n_merges < l->n; r->n_merges++) {
		ProtobufCBinaryData *mid = &r->merges[r->n_merges];

		if ((rc = compose_id(c, mid, l->v[r->n_merges], "--merge")))
			return rc;
		if (ppx_records_find_version(&m, log, mid->data, id,
					     "--merge") != 0) {
			return compose_fail(c, "--merge %s: no version of partner "
					    "record %s in this agency's log",
					    l->v[r->n_merges], id);
		}
		if ((rc = compose_keep(c, m.body)) == 0)
			rc = merge_one(c, r, m.body);
	}
	return rc;
}

/* --condition replaces the conditions of the kinds we own. */
static int own_conditions(struct compose *c, Ppx__V1__PartnerRecord *r)
{
	unsigned us = ppx_agency_type(c->cfg->agency);
	Ppx__V1__Condition **given = NULL, **out;
	size_t n_given = 0, n = 0;
	int rc;

	if (!compose_all(c, O_CONDITION)->n)
		return 0;
	if ((rc = compose_conditions(c, &given, &n_given)) != 0)
		return rc;
	if (!(out = (Ppx__V1__Condition **)grow(c, r->n_conditions, n_given)))
		return PPX_ENOMEM;
	for (size_t i = 0; i < r->n_conditions; i++)
		if (!(ppx_condition_owners(r->conditions[i]->kind) & us))
			out[n++] = r->conditions[i];
	for (size_t i = 0; i < n_given; i++)
		out[n++] = given[i];
	r->conditions = out;
	r->n_conditions = n;
	return 0;
}

/* --partner adds, --no-partner removes. */
static int partners(struct compose *c, Ppx__V1__PartnerRecord *r)
{
	const struct compose_list *add = compose_all(c, O_PARTNER);
	const struct compose_list *del = compose_all(c, O_NO_PARTNER);
	char **out = (char **)grow(c, r->n_partner_agencies, add->n);
	size_t n = 0;

	if (!out)
		return PPX_ENOMEM;
	for (size_t i = 0; i < r->n_partner_agencies + add->n; i++) {
		const char *a = i < r->n_partner_agencies
					? r->partner_agencies[i]
					: add->v[i - r->n_partner_agencies];
		size_t j = 0, k = 0;

		while (j < n && strcmp(out[j], a) != 0)
			j++;
		while (k < del->n && strcmp(del->v[k], a) != 0)
			k++;
		if (j == n && k == del->n)
			out[n++] = (char *)a;
	}
	r->partner_agencies = out;
	r->n_partner_agencies = n;
	return 0;
}

static int officer(struct compose *c, Ppx__V1__Person **slot, int opt)
{
	const char *v = compose_val(c, opt);

	return v ? compose_person(c, slot, v) : 0;
}

/* Lists and people: --rosh and --address replace the list. */
static int record_lists(struct compose *c, Ppx__V1__PartnerRecord *r)
{
	const struct compose_list *addr = compose_all(c, O_ADDRESS);
	int rc = 0;

	if (compose_all(c, O_ROSH)->n &&
	    (rc = compose_rosh(c, &r->rosh, &r->n_rosh)) != 0)
		return rc;
	if (addr->n) {
		r->addresses = compose_alloc(c, (addr->n + 1) *
						     sizeof(*r->addresses));
		if (!r->addresses)
			return PPX_ENOMEM;
		for (r->n_addresses = 0; rc == 0 && r->n_addresses < addr->n;
		     r->n_addresses++)
			rc = compose_address(c, &r->addresses[r->n_addresses],
					     addr->v[r->n_addresses]);
	}
	if (rc == 0 &&
	    ((rc = officer(c, &c->officers.offender_manager,
			   O_OFFENDER_MANAGER)) ||
	     (rc = officer(c, &c->officers.police_offender_manager,
			   O_POLICE_OM)) ||
	     (rc = officer(c, &c->officers.police_supervisor,
			   O_POLICE_SUPERVISOR))))
		return rc;
	if (rc == 0 && (rc = own_conditions(c, r)) == 0)
		rc = partners(c, r);
	return rc;
}

static int apply_flags(struct compose *c, Ppx__V1__PartnerRecord *r)
{
	const struct compose_list *clear = compose_all(c, O_CLEAR);
	const char *v;
	int e, rc = 0;

	for (size_t i = 0; i < clear->n; i++)
		if (ppx_record_field_take(r, clear->v[i], NULL) != 0)
			return compose_fail(c, "--clear: %s", ppx_error_last());
	compose_subject(c, r->subject, r->subject);
	if ((v = compose_val(c, O_CATEGORY)) &&
	    (rc = compose_enum(c, &e, &ppx__v1__mappa_category__descriptor,
			       "CATEGORY_", v, "--category")) == 0)
		r->category = e;
	if (rc == 0 && (v = compose_val(c, O_LEVEL)) &&
	    (rc = compose_enum(c, &e, &ppx__v1__mappa_level__descriptor,
			       "LEVEL_", v, "--level")) == 0)
		r->level = e;
	if ((v = compose_val(c, O_LEAD_AGENCY)))
		r->lead_agency = (char *)v;
	if ((v = compose_val(c, O_CURRENT_PRISON)))
		r->current_prison = (char *)v;
	return rc ? rc : record_lists(c, r);
}

/* Version numbers, what it is based on, what changed, to whom. */
static int finish(struct compose *c, Ppx__V1__PartnerRecord *r,
		  const Ppx__V1__Body *base)
{
	const Ppx__V1__PartnerRecord *br = base ? base->partner_record : NULL;
	const char *diff[PPX_RECORD_FIELDS];
	size_t n;

	r->base_version = br ? br->version : 0;
	r->version = r->base_version + 1;
	if (base)
		c->body.supersedes = base->message_id;
	ppx_record_diff(diff, &n, br, r);
	r->changed_fields = (char **)grow(c, n, 0);
	if (!r->changed_fields)
		return PPX_ENOMEM;
	for (r->n_changed_fields = 0; r->n_changed_fields < n;
	     r->n_changed_fields++)
		r->changed_fields[r->n_changed_fields] =
			(char *)diff[r->n_changed_fields];
	c->body.subject = r->subject;
	if (c->body.n_recipients > 0)
		return 0;
	for (size_t i = 0; i < r->n_partner_agencies &&
			   c->body.n_recipients < COMPOSE_LIST_MAX; i++)
		if (strcmp(r->partner_agencies[i], c->cfg->agency) != 0)
			c->body.recipients[c->body.n_recipients++] =
				r->partner_agencies[i];
	if (c->body.n_recipients == 0)
		return compose_fail(c, "--to: name the recipients (the record "
				    "lists no partner agency but us)");
	return 0;
}

/* The record, starting from `base` (NULL: a new record). */
static void start_from(struct compose *c, const Ppx__V1__Body *base,
		       const char *id)
{
	Ppx__V1__PartnerRecord *r = &c->record;
	const Ppx__V1__PartnerRecord *br = base ? base->partner_record : NULL;

	if (br)
		*r = *br;
	else
		ppx__v1__partner_record__init(r);
	r->record_id = (char *)id;
	if (br && br->subject)
		c->record_subject = *br->subject;
	else
		ppx__v1__subject_ids__init(&c->record_subject);
	r->subject = &c->record_subject;
	if (br && br->officers)
		c->officers = *br->officers;
	else
		ppx__v1__named_officers__init(&c->officers);
	r->officers = &c->officers;
	r->n_merges = 0;
	r->merges = NULL;
	r->n_changed_fields = 0;
	r->changed_fields = NULL;
}

int compose_record(struct compose *c)
{
	ppx_log_options ro = {.flags = PPX_LOG_READONLY};
	const char *id = compose_val(c, O_RECORD_ID);
	struct ppx_logged_message base;
	ppx_log *log = NULL;
	int rc;

	if (!id)
		return compose_fail(c, "--record-id: name the partner record");
	if (ppx_log_open(&log, c->cfg->log_dir, &ro) != 0)
		return compose_fail(c, "cannot read the log %s: %s",
				    c->cfg->log_dir, ppx_error_last());
	rc = load_versions(c, log, id, &base);
	if (rc == 0) {
		start_from(c, base.body, id);
		rc = load_merges(c, log, id, &c->record);
	}
	ppx_log_close(log);
	if (rc == 0)
		rc = apply_flags(c, &c->record);
	if (rc == 0)
		rc = finish(c, &c->record, base.body);
	c->body.payload_case = PPX__V1__BODY__PAYLOAD_PARTNER_RECORD;
	c->body.partner_record = &c->record;
	return rc;
}
