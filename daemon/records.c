/*
 * records.c — domain checks that need the log: partner record versions,
 * and the messages that amendments, acknowledgements and action updates
 * refer to.
 *
 * Where it sits: control_submit_body() calls records_check() on every
 * body it is about to sign (outbound), and inbound's check_accept() on
 * every body a partner sends, after the policy and the pure domain rules
 * (ppx_domain_check).  Both read this iteration's open batch too, so two
 * updates of one record in one burst are judged in order.
 *
 * Partner records.  Each version carries the whole picture and names the
 * version it was based on: base_version, and Body.supersedes for its
 * message id.  An update is accepted only if it is based on the latest
 * version this log holds — the same number and the same message, so two
 * agencies that both turned version 1 into "version 2" are told apart.
 * Anything else is a conflict: two agencies editing at once is detected,
 * never silently overwritten (DOMAIN.md, partner records).  The loser is
 * told which version is the latest and from whom, merges, and resends; an
 * update may name in `merges` the concurrent versions it reconciles,
 * whose values it may then carry in fields its sender does not own.
 *
 * Then ownership: against the content of the version it names (when we
 * hold it), every field that differs must be one the sender's agency type
 * owns (or carry a merged version's value), and changed_fields must list
 * exactly those fields.  A receiver that does not hold the base (it was
 * not sent every version) checks only what the update declares.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "policy.h"
#include "records.h"
#include "ppx/domain.h"
#include "ppx/envelope.h"
#include "ppx/error.h"

#define VERSIONS_MAX (1u << 20)	/* entries of one record looked at */
#define MERGES_MAX 8

static void iso_time(char *out, size_t cap, int64_t ms)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	if (!gmtime_r(&t, &tm) || !strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(out, cap, "?");
}

/* The body inside a logged SENT/RECEIVED/REJECTED entry, or NULL. */
static Ppx__V1__Body *entry_body(const Ppx__V1__LogEntry *e)
{
	Ppx__V1__Frame *f = NULL;
	Ppx__V1__Body *b = NULL;

	if (ppx_frame_decode(&f, e->data.data, e->data.len) != 0)
		return NULL;
	if (f->message)
		b = ppx__v1__body__unpack(NULL, f->message->signed_body.len,
					  f->message->signed_body.data);
	ppx__v1__frame__free_unpacked(f, NULL);
	return b;
}

static int kind_wanted(const Ppx__V1__LogEntry *e, unsigned kinds)
{
	switch (e->kind) {
	case PPX__V1__ENTRY_KIND__ENTRY_SENT:
		return (kinds & RECORDS_SENT) != 0;
	case PPX__V1__ENTRY_KIND__ENTRY_RECEIVED:
		return (kinds & RECORDS_RECEIVED) != 0;
	case PPX__V1__ENTRY_KIND__ENTRY_REJECTED:
		return (kinds & RECORDS_CONFLICT) &&
		       e->reason == PPX__V1__REJECT_REASON__REJECT_CONFLICT;
	default:
		return 0;
	}
}

int records_find(struct logged_message *out, ppx_log *log, const uint8_t *id,
		 unsigned kinds)
{
	uint64_t *seqs = NULL;
	size_t n = 0;
	int rc = ppx_log_by_message(log, id, 16, &seqs, &n, 4096);

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; rc == 0 && i < n && !out->body; i++) {
		Ppx__V1__LogEntry *e = NULL;

		if (ppx_log_get(log, seqs[i], &e) != 0)
			continue;
		if (kind_wanted(e, kinds) && e->message_id.len == 16 &&
		    memcmp(e->message_id.data, id, 16) == 0 &&
		    (out->body = entry_body(e)) != NULL) {
			out->kind = e->kind;
			out->seq = seqs[i];
			snprintf(out->peer, sizeof(out->peer), "%s",
				 e->peer_agency);
		}
		ppx__v1__log_entry__free_unpacked(e, NULL);
	}
	free(seqs);
	if (rc != 0)
		return rc;
	return out->body ? 0 : PPX_ENOTFOUND;
}

void records_logged_free(struct logged_message *m)
{
	if (m->body)
		ppx__v1__body__free_unpacked(m->body, NULL);
	m->body = NULL;
}

static int record_key(char **out, const char *record_id)
{
	size_t len = strlen(RECORDS_KEY_PREFIX) + strlen(record_id) + 1;

	*out = malloc(len);
	if (!*out)
		return ppx_error_set(PPX_ENOMEM, "out of memory");
	snprintf(*out, len, "%s%s", RECORDS_KEY_PREFIX, record_id);
	return 0;
}

int records_subject_keys(char ***out, size_t *n, const Ppx__V1__Body *b)
{
	char **keys;
	int rc = policy_subject_keys(out, n, b->subject);

	if (rc != 0 || b->payload_case != PPX__V1__BODY__PAYLOAD_PARTNER_RECORD ||
	    !b->partner_record->record_id || !b->partner_record->record_id[0])
		return rc;
	keys = realloc(*out, (*n + 1) * sizeof(*keys));
	if (!keys) {
		policy_subject_keys_free(*out, *n);
		*out = NULL;
		*n = 0;
		return ppx_error_set(PPX_ENOMEM, "out of memory");
	}
	*out = keys;
	if ((rc = record_key(&keys[*n], b->partner_record->record_id)) != 0) {
		policy_subject_keys_free(*out, *n);
		*out = NULL;
		*n = 0;
		return rc;
	}
	(*n)++;
	return 0;
}

/* The version of record `record_id` in entry `seq`, if it is one. */
static int version_at(struct record_version *v, ppx_log *log, uint64_t seq,
		      const char *record_id)
{
	Ppx__V1__LogEntry *e = NULL;
	Ppx__V1__Body *b = NULL;
	int found = 0;

	if (ppx_log_get(log, seq, &e) != 0)
		return 0;
	if (kind_wanted(e, RECORDS_SENT | RECORDS_RECEIVED))
		b = entry_body(e);
	if (b && b->payload_case == PPX__V1__BODY__PAYLOAD_PARTNER_RECORD &&
	    b->message_id.len == 16 &&
	    strcmp(b->partner_record->record_id, record_id) == 0) {
		memcpy(v->id, b->message_id.data, 16);
		v->version = b->partner_record->version;
		v->seq = seq;
		v->created_ms = b->created_ms;
		snprintf(v->agency, sizeof(v->agency), "%s", b->sender_agency);
		found = 1;
	}
	if (b)
		ppx__v1__body__free_unpacked(b, NULL);
	ppx__v1__log_entry__free_unpacked(e, NULL);
	return found;
}

int records_latest(struct record_latest *out, ppx_log *log,
		   const char *record_id)
{
	uint64_t *seqs = NULL;
	size_t n = 0;
	char *key = NULL;
	int rc = record_key(&key, record_id);

	memset(out, 0, sizeof(*out));
	if (rc == 0)
		rc = ppx_log_by_subject(log, key, &seqs, &n, VERSIONS_MAX);
	/* Versions are logged in increasing order: walk back from the end
	 * while the number is the highest (a log holding two versions of one
	 * number is a fork that a merge resolves). */
	for (size_t i = n; rc == 0 && i-- > 0;) {
		struct record_version v;

		if (!version_at(&v, log, seqs[i], record_id))
			continue;
		if (v.version < out->version)
			break;
		if (v.version > out->version)
			out->n = 0;
		out->version = v.version;
		if (out->n < RECORDS_TIPS_MAX)
			out->tips[out->n++] = v;
	}
	free(seqs);
	free(key);
	return rc;
}

int records_version(struct logged_message *out, ppx_log *log,
		    const char *record_id, uint64_t version)
{
	uint64_t *seqs = NULL;
	size_t n = 0;
	char *key = NULL;
	int rc = record_key(&key, record_id);
	struct record_version v;

	memset(out, 0, sizeof(*out));
	if (rc == 0)
		rc = ppx_log_by_subject(log, key, &seqs, &n, VERSIONS_MAX);
	for (size_t i = n; rc == 0 && i-- > 0;)
		if (version_at(&v, log, seqs[i], record_id) &&
		    v.version == version) {
			rc = records_find(out, log, v.id,
					  RECORDS_SENT | RECORDS_RECEIVED);
			break;
		}
	free(seqs);
	free(key);
	if (rc == 0 && !out->body)
		rc = ppx_error_set(PPX_ENOTFOUND, "partner record %s: this "
				   "agency holds no version %llu", record_id,
				   (unsigned long long)version);
	return rc;
}

/* Nonzero if the update names `id` as its base or among its merges. */
static int based_on(const Ppx__V1__Body *b, const uint8_t *id)
{
	const Ppx__V1__PartnerRecord *r = b->partner_record;

	if (b->supersedes.len == 16 && memcmp(b->supersedes.data, id, 16) == 0)
		return 1;
	for (size_t i = 0; i < r->n_merges; i++)
		if (r->merges[i].len == 16 &&
		    memcmp(r->merges[i].data, id, 16) == 0)
			return 1;
	return 0;
}

/* The base is older than the latest version held here. */
static int stale(const Ppx__V1__PartnerRecord *r,
		 const struct record_latest *l)
{
	char when[32];

	iso_time(when, sizeof(when), l->tips[0].created_ms);
	if (r->version == 1)
		return ppx_error_set(PPX_ECONFLICT, "partner record %s "
				     "already exists: version %llu (from %s, "
				     "%s) is the latest: send an update based "
				     "on it", r->record_id,
				     (unsigned long long)l->version,
				     l->tips[0].agency, when);
	return ppx_error_set(PPX_ECONFLICT, "partner record %s: based on "
			     "version %llu but version %llu (from %s, %s) is "
			     "the latest: merge and resend", r->record_id,
			     (unsigned long long)r->base_version,
			     (unsigned long long)l->version, l->tips[0].agency,
			     when);
}

/* The update is based on the latest version this log holds. */
static int check_latest(ppx_log *log, const Ppx__V1__Body *b, int outbound)
{
	const Ppx__V1__PartnerRecord *r = b->partner_record;
	struct record_latest l;
	char when[32], tip[33];
	int rc = records_latest(&l, log, r->record_id);

	if (rc != 0 || (l.version == 0 && (r->version == 1 || !outbound)))
		return rc;
	if (l.version == 0)
		return ppx_error_set(PPX_ECONFLICT, "partner record %s: based "
				     "on version %llu, but this agency holds "
				     "no version of it", r->record_id,
				     (unsigned long long)r->base_version);
	if (r->base_version > l.version && outbound)
		return ppx_error_set(PPX_ECONFLICT, "partner record %s: based "
				     "on version %llu, but the latest version "
				     "this agency holds is %llu", r->record_id,
				     (unsigned long long)r->base_version,
				     (unsigned long long)l.version);
	if (r->version == 1 || r->base_version < l.version)
		return stale(r, &l);
	if (r->base_version > l.version)
		return 0;	/* versions were not all sent to us */
	for (size_t i = 0; i < l.n; i++) {
		if (based_on(b, l.tips[i].id))
			continue;
		ppx_hex(tip, l.tips[i].id, 16);
		iso_time(when, sizeof(when), l.tips[i].created_ms);
		return ppx_error_set(PPX_ECONFLICT, "partner record %s: version "
				     "%llu held here is message %s from %s "
				     "(%s), not the one this update is based "
				     "on: merge it and resend", r->record_id,
				     (unsigned long long)l.version, tip,
				     l.tips[i].agency, when);
	}
	return 0;
}

/* The versions an update names: its base and the merged ones we hold. */
struct named_versions {
	struct logged_message base;
	struct logged_message merged[MERGES_MAX];
	size_t n_merged;
};

static void named_free(struct named_versions *nv)
{
	records_logged_free(&nv->base);
	for (size_t i = 0; i < nv->n_merged; i++)
		records_logged_free(&nv->merged[i]);
}

static int is_version_of(const struct logged_message *m, const char *record_id)
{
	return m->body &&
	       m->body->payload_case == PPX__V1__BODY__PAYLOAD_PARTNER_RECORD &&
	       strcmp(m->body->partner_record->record_id, record_id) == 0;
}

static int load_named(struct named_versions *nv, ppx_log *log,
		      const Ppx__V1__Body *b, int outbound)
{
	const Ppx__V1__PartnerRecord *r = b->partner_record;
	unsigned kinds = RECORDS_SENT | RECORDS_RECEIVED | RECORDS_CONFLICT;
	char hex[33];

	memset(nv, 0, sizeof(*nv));
	if (b->supersedes.len == 16 &&
	    records_find(&nv->base, log, b->supersedes.data, kinds) == 0 &&
	    !is_version_of(&nv->base, r->record_id))
		return ppx_error_set(PPX_EBODY, "supersedes: message is not a "
				     "version of partner record %s",
				     r->record_id);
	if (r->n_merges > MERGES_MAX)
		return ppx_error_set(PPX_EBODY, "partner_record.merges: at "
				     "most %d versions", MERGES_MAX);
	for (size_t i = 0; i < r->n_merges; i++) {
		struct logged_message *m = &nv->merged[nv->n_merged];

		if (records_find(m, log, r->merges[i].data, kinds) == 0 &&
		    is_version_of(m, r->record_id)) {
			nv->n_merged++;
			continue;
		}
		records_logged_free(m);
		ppx_hex(hex, r->merges[i].data, 16);
		if (outbound)
			return ppx_error_set(PPX_EBODY, "partner_record.merges"
					     "[%zu]: %s is no version of %s in "
					     "this agency's log", i, hex,
					     r->record_id);
	}
	return 0;
}

/* changed_fields lists exactly the fields that differ from the base. */
static int check_declared(const Ppx__V1__PartnerRecord *r, const char **diff,
			  size_t n)
{
	for (size_t i = 0; i < n; i++) {
		size_t j = 0;

		while (j < r->n_changed_fields &&
		       strcmp(r->changed_fields[j], diff[i]) != 0)
			j++;
		if (j == r->n_changed_fields)
			return ppx_error_set(PPX_EBODY, "partner_record.changed_"
					     "fields: %s differs from version "
					     "%llu but is not listed", diff[i],
					     (unsigned long long)r->base_version);
	}
	if (n != r->n_changed_fields)
		return ppx_error_set(PPX_EBODY, "partner_record.changed_fields: "
				     "lists a field that is the same as in "
				     "version %llu",
				     (unsigned long long)r->base_version);
	return 0;
}

/* A field the sender does not own may carry a merged version's value,
 * set by an agency that does own it; conditions may differ from a merged
 * version's only in the kinds the sender owns. */
static int from_merged(const struct named_versions *nv, const char *path,
		       const Ppx__V1__PartnerRecord *r, const char *sender)
{
	for (size_t i = 0; i < nv->n_merged; i++) {
		const Ppx__V1__Body *m = nv->merged[i].body;

		if (strcmp(path, "conditions") == 0) {
			if (ppx_record_may_change(path, sender,
						  m->partner_record, r) == 0)
				return 1;
		} else if ((ppx_record_field_owners(path) &
			    ppx_agency_type(m->sender_agency)) &&
			   ppx_record_field_equal(path, m->partner_record, r)) {
			return 1;
		}
	}
	return 0;
}

/* Every change is the sender's to make, against what the update names. */
static int check_ownership(ppx_log *log, const Ppx__V1__Body *b,
			   const char *sender, int outbound)
{
	const Ppx__V1__PartnerRecord *r = b->partner_record;
	const Ppx__V1__PartnerRecord *base = NULL;
	const char *diff[PPX_RECORD_FIELDS];
	const char *const *paths = (const char *const *)r->changed_fields;
	struct named_versions nv;
	size_t n = r->n_changed_fields;
	int rc = load_named(&nv, log, b, outbound);

	if (rc == 0 && nv.base.body) {
		base = nv.base.body->partner_record;
		ppx_record_diff(diff, &n, base, r);
		paths = diff;
		rc = check_declared(r, diff, n);
	}
	for (size_t i = 0; rc == 0 && i < n; i++) {
		if (from_merged(&nv, paths[i], r, sender))
			continue;
		/* Without the base, which conditions changed is unknown. */
		if (!base && strcmp(paths[i], "conditions") == 0 &&
		    (ppx_record_field_owners(paths[i]) &
		     ppx_agency_type(sender)))
			continue;
		rc = ppx_record_may_change(paths[i], sender, base, r);
	}
	named_free(&nv);
	return rc;
}

static int check_record(ppx_log *log, const Ppx__V1__Body *b,
			const char *sender, int outbound)
{
	int rc = check_ownership(log, b, sender, outbound);

	return rc ? rc : check_latest(log, b, outbound);
}

/* ------------------------------------------------------------------ */
/* What a message refers to                                            */
/* ------------------------------------------------------------------ */

static int is_among(char *const *list, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(list[i], s) == 0)
			return 1;
	return 0;
}

/* An acknowledgement takes on a message its sender received from us. */
static int check_ack(const struct logged_message *m, const char *sender,
		     int outbound)
{
	if (outbound && m->kind != PPX__V1__ENTRY_KIND__ENTRY_RECEIVED)
		return ppx_error_set(PPX_EBODY, "replies_to: this agency sent "
				     "that message; acknowledge what partners "
				     "sent");
	if (!outbound && (m->kind != PPX__V1__ENTRY_KIND__ENTRY_SENT ||
			  !is_among(m->body->recipients,
				    m->body->n_recipients, sender)))
		return ppx_error_set(PPX_EBODY, "replies_to: %s acknowledges a "
				     "message that was not sent to it",
				     sender);
	return 0;
}

/* The action an update is about is in the minutes it answers. */
static int check_action_ref(const struct logged_message *m,
			    const Ppx__V1__ActionUpdate *u)
{
	const Ppx__V1__Minutes *mn = m->body->minutes;

	if (m->body->payload_case != PPX__V1__BODY__PAYLOAD_MINUTES)
		return ppx_error_set(PPX_EBODY, "replies_to: an action update "
				     "answers minutes, and that message is "
				     "not minutes");
	if (u->meeting_id && u->meeting_id[0] &&
	    strcmp(u->meeting_id, mn->meeting_id) != 0)
		return ppx_error_set(PPX_EBODY, "action_update.meeting_id: %s, "
				     "but the minutes are of meeting %s",
				     u->meeting_id, mn->meeting_id);
	for (size_t i = 0; i < mn->n_actions; i++)
		if (strcmp(mn->actions[i]->id, u->action_id) == 0)
			return 0;
	return ppx_error_set(PPX_EBODY, "action_update.action_id: the minutes "
			     "of meeting %s have no action %s", mn->meeting_id,
			     u->action_id);
}

static int check_reply(ppx_log *log, const Ppx__V1__Body *b,
		       const char *sender, int outbound)
{
	struct logged_message m;
	char hex[33];
	int rc = records_find(&m, log, b->replies_to.data,
			      RECORDS_SENT | RECORDS_RECEIVED);

	if (rc == PPX_ENOTFOUND) {
		ppx_hex(hex, b->replies_to.data, 16);
		return ppx_error_set(PPX_EBODY, "replies_to: message %s is not "
				     "in %s log", hex, outbound
				     ? "this agency's" : "the receiver's");
	}
	if (rc != 0)
		return rc;
	if (b->payload_case == PPX__V1__BODY__PAYLOAD_ACKNOWLEDGEMENT)
		rc = check_ack(&m, sender, outbound);
	else
		rc = check_action_ref(&m, b->action_update);
	records_logged_free(&m);
	return rc;
}

/* An amendment of minutes names earlier minutes of the same meeting. */
static int check_amendment(ppx_log *log, const Ppx__V1__Body *b,
			   int outbound)
{
	const Ppx__V1__Minutes *mn = b->minutes;
	struct logged_message m;
	char hex[33];
	int rc;

	if (b->supersedes.len != 16)
		return 0;
	ppx_hex(hex, b->supersedes.data, 16);
	rc = records_find(&m, log, b->supersedes.data,
			  RECORDS_SENT | RECORDS_RECEIVED);
	if (rc == PPX_ENOTFOUND)
		return outbound ? ppx_error_set(PPX_EBODY, "supersedes: "
						"minutes %s are not in this "
						"agency's log", hex)
				: 0;	/* amends minutes not sent to us */
	if (rc != 0)
		return rc;
	if (m.body->payload_case != PPX__V1__BODY__PAYLOAD_MINUTES ||
	    strcmp(m.body->minutes->meeting_id, mn->meeting_id) != 0 ||
	    m.body->minutes->version >= mn->version)
		rc = ppx_error_set(PPX_EBODY, "supersedes: %s is not an earlier "
				   "version of the minutes of meeting %s",
				   hex, mn->meeting_id);
	records_logged_free(&m);
	return rc;
}

/* A retry of a message we sent, or another copy of one we received. */
static int already_logged(ppx_log *log, const Ppx__V1__Body *b,
			  const char *sender, int outbound)
{
	uint64_t seq;
	int rc;

	if (b->message_id.len != 16)
		return 0;
	rc = ppx_log_find(log, outbound ? PPX__V1__ENTRY_KIND__ENTRY_SENT
					: PPX__V1__ENTRY_KIND__ENTRY_RECEIVED,
			  outbound ? "" : sender, b->message_id.data, 16, &seq);
	ppx_error_clear();
	return rc == 0;
}

int records_check(ppx_log *log, const Ppx__V1__Body *b, const char *sender,
		  int outbound)
{
	if (b->payload_case == PPX__V1__BODY__PAYLOAD_NOTIFICATION ||
	    b->payload_case == PPX__V1__BODY__PAYLOAD_DISCLOSURE ||
	    already_logged(log, b, sender, outbound))
		return 0;	/* nothing to look up, or a retry */
	switch (b->payload_case) {
	case PPX__V1__BODY__PAYLOAD_PARTNER_RECORD:
		return check_record(log, b, sender, outbound);
	case PPX__V1__BODY__PAYLOAD_MINUTES:
		return check_amendment(log, b, outbound);
	case PPX__V1__BODY__PAYLOAD_ACKNOWLEDGEMENT:
	case PPX__V1__BODY__PAYLOAD_ACTION_UPDATE:
		return check_reply(log, b, sender, outbound);
	default:
		return 0;
	}
}
