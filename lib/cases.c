/*
 * cases.c — who is on a subject's case, from the partner records a log
 * holds (include/ppx/cases.h tells the rule).
 *
 * For each subject key the subject index gives the entries about it; the
 * newest are looked at first, and each partner record found there is
 * replaced by the latest version the log holds of it (records.c), so an
 * old message about the subject cannot bring back a partner the lead
 * agency has since removed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ppx/cases.h"
#include "ppx/entry.h"
#include "ppx/error.h"
#include "ppx/records.h"

static int is_record_key(const char *key)
{
	return strncmp(key, PPX_RECORDS_KEY_PREFIX,
		       strlen(PPX_RECORDS_KEY_PREFIX)) == 0;
}

/* The record id of the partner record in entry `seq`, into `id`: 1 if
 * the entry is a SENT or RECEIVED partner record, else 0. */
static int record_in(char *id, size_t cap, ppx_log *log, uint64_t seq)
{
	Ppx__V1__LogEntry *e = NULL;
	Ppx__V1__Body *b = NULL;
	int found = 0;

	if (ppx_log_get(log, seq, &e) != 0) {
		ppx_error_clear();
		return 0;
	}
	if ((e->kind == PPX__V1__ENTRY_KIND__ENTRY_SENT ||
	     e->kind == PPX__V1__ENTRY_KIND__ENTRY_RECEIVED) &&
	    e->family && strcmp(e->family, "partner_record") == 0 &&
	    ppx_entry_body(&b, NULL, e) == 0 &&
	    b->payload_case == PPX__V1__BODY__PAYLOAD_PARTNER_RECORD &&
	    b->partner_record->record_id &&
	    strlen(b->partner_record->record_id) < cap) {
		snprintf(id, cap, "%s", b->partner_record->record_id);
		found = 1;
	}
	ppx_error_clear();
	if (b)
		ppx__v1__body__free_unpacked(b, NULL);
	ppx__v1__log_entry__free_unpacked(e, NULL);
	return found;
}

static int have_record(const struct ppx_case *c, const char *id)
{
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->records[i].body->partner_record->record_id,
			   id) == 0)
			return 1;
	return 0;
}

/* The partner record body logged at `seq`, or NULL. */
static Ppx__V1__Body *record_at(ppx_log *log, uint64_t seq)
{
	Ppx__V1__LogEntry *e = NULL;
	Ppx__V1__Body *b = NULL;

	if (ppx_log_get(log, seq, &e) == 0 && ppx_entry_body(&b, NULL, e) == 0 &&
	    b->payload_case != PPX__V1__BODY__PAYLOAD_PARTNER_RECORD) {
		ppx__v1__body__free_unpacked(b, NULL);
		b = NULL;
	}
	ppx_error_clear();
	if (e)
		ppx__v1__log_entry__free_unpacked(e, NULL);
	return b;
}

/* Add the latest version(s) of record `id`. */
static int add_latest(struct ppx_case *c, ppx_log *log, const char *id)
{
	struct ppx_record_latest latest;
	int rc = ppx_records_latest(&latest, log, id);

	for (size_t t = 0; rc == 0 && t < latest.n; t++) {
		Ppx__V1__Body *b;

		if (c->n == PPX_CASE_RECORDS_MAX) {
			c->more = 1;
			break;
		}
		if (!(b = record_at(log, latest.tips[t].seq)))
			continue;
		c->records[c->n].body = b;
		c->records[c->n].seq = latest.tips[t].seq;
		c->n++;
	}
	return rc;
}

int ppx_case_load(struct ppx_case *c, ppx_log *log, char *const *keys,
		  size_t n_keys)
{
	return ppx_case_load_max(c, log, keys, n_keys, PPX_CASE_ENTRIES_MAX);
}

int ppx_case_load_max(struct ppx_case *c, ppx_log *log, char *const *keys,
		      size_t n_keys, size_t max_entries)
{
	int rc = 0;

	memset(c, 0, sizeof(*c));
	for (size_t k = 0; rc == 0 && k < n_keys; k++) {
		uint64_t *seqs = NULL;
		size_t n = 0;

		if (!keys[k] || is_record_key(keys[k]))
			continue;
		rc = ppx_log_by_subject(log, keys[k], &seqs, &n,
					max_entries);
		for (size_t i = n; rc == 0 && i-- > 0;) {
			char id[256];

			if (!record_in(id, sizeof(id), log, seqs[i]) ||
			    have_record(c, id))
				continue;
			rc = add_latest(c, log, id);
		}
		free(seqs);
	}
	if (rc != 0)
		ppx_case_free(c);
	return rc;
}

void ppx_case_free(struct ppx_case *c)
{
	for (size_t i = 0; i < c->n; i++)
		ppx__v1__body__free_unpacked(c->records[i].body, NULL);
	memset(c, 0, sizeof(*c));
}

/* How record r names `agency`, or NULL. */
static const char *listed_as(const Ppx__V1__PartnerRecord *r,
			     const char *agency)
{
	if (r->lead_agency && strcmp(r->lead_agency, agency) == 0)
		return "the lead agency";
	if (r->current_prison && strcmp(r->current_prison, agency) == 0)
		return "the current prison";
	for (size_t i = 0; i < r->n_partner_agencies; i++)
		if (strcmp(r->partner_agencies[i], agency) == 0)
			return "a partner agency";
	return NULL;
}

int ppx_record_lists_agency(const Ppx__V1__PartnerRecord *r,
			    const char *agency)
{
	return listed_as(r, agency) != NULL;
}

int ppx_case_lists_agency(const struct ppx_case *c, const char *agency,
			  char *why, size_t cap)
{
	for (size_t i = 0; i < c->n; i++) {
		const Ppx__V1__Body *b = c->records[i].body;
		const Ppx__V1__PartnerRecord *r = b->partner_record;
		const char *as = listed_as(r, agency);

		if (as) {
			if (why)
				snprintf(why, cap, "partner record %s v%llu "
					 "(%s) lists %s as %s", r->record_id,
					 (unsigned long long)r->version,
					 b->sender_agency, agency, as);
			return 1;
		}
	}
	if (why && c->n == 0)
		snprintf(why, cap, "this agency holds no partner record of "
			 "the case");
	else if (why) {
		const Ppx__V1__Body *b = c->records[0].body;

		snprintf(why, cap, "partner record %s v%llu (%s) does not "
			 "list %s%s", b->partner_record->record_id,
			 (unsigned long long)b->partner_record->version,
			 b->sender_agency, agency,
			 c->n > 1 ? ", nor does any other record of the case"
				  : "");
	}
	return 0;
}

static int is_person(const Ppx__V1__Person *p, const char *id,
		     const char *agency)
{
	return p && p->id && strcmp(p->id, id) == 0 && p->agency &&
	       strcmp(p->agency, agency) == 0;
}

int ppx_record_names_person(const Ppx__V1__PartnerRecord *r,
			    const char *person_id, const char *agency)
{
	const Ppx__V1__NamedOfficers *o = r->officers;

	return o && (is_person(o->offender_manager, person_id, agency) ||
		     is_person(o->police_offender_manager, person_id, agency) ||
		     is_person(o->police_supervisor, person_id, agency));
}

int ppx_case_names_person(const struct ppx_case *c, const char *person_id,
			  const char *agency)
{
	for (size_t i = 0; i < c->n; i++)
		if (ppx_record_names_person(c->records[i].body->partner_record,
					    person_id, agency))
			return 1;
	return 0;
}
