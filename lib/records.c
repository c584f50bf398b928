/*
 * records.c — domain checks that need the log: partner record versions,
 * and the messages that amendments, acknowledgements and action updates
 * refer to.
 *
 * Where it sits: submit_body() calls ppx_records_check() on every
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
 *
 * A message is (sender agency, message id): each sender picks its ids, so
 * another agency may send a message under the same id, by chance or to
 * squat it.  Every reference therefore resolves to one sender's message
 * (PROTOCOL.md section 4.3): an acknowledgement to a message the
 * acknowledged party sent to the acknowledging one, an action update to
 * minutes sent by a party to the update, an amendment to minutes its own
 * sender issued, a record's base or merged version to a version of that
 * record (from any agency).  A message of any other agency under the id
 * never binds it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ppx/subject.h"
#include "ppx/records.h"
#include "ppx/domain.h"
#include "ppx/entry.h"
#include "ppx/envelope.h"
#include "ppx/error.h"
#include "ppx/timefmt.h"

#define VERSIONS_MAX (1u << 20)	/* entries of one record looked at */
#define MERGES_MAX 8

/* The body inside a logged SENT/RECEIVED/REJECTED entry, or NULL. */
static Ppx__V1__Body *entry_body(const Ppx__V1__LogEntry *e)
{
	Ppx__V1__Body *b = NULL;

	if (ppx_entry_body(&b, NULL, e) != 0)
		ppx_error_clear();
	return b;
}

static int kind_wanted(const Ppx__V1__LogEntry *e, unsigned kinds)
{
	switch (e->kind) {
	case PPX__V1__ENTRY_KIND__ENTRY_SENT:
		return (kinds & PPX_RECORDS_SENT) != 0;
	case PPX__V1__ENTRY_KIND__ENTRY_RECEIVED:
		return (kinds & PPX_RECORDS_RECEIVED) != 0;
	case PPX__V1__ENTRY_KIND__ENTRY_REJECTED:
		return (kinds & PPX_RECORDS_CONFLICT) &&
		       e->reason == PPX__V1__REJECT_REASON__REJECT_CONFLICT;
	default:
		return 0;
	}
}

/* The message in entry `seq` if it is one of `kinds` with id `id` (NULL:
 * any id), with its sender: us (the body's sender_agency) for SENT, the
 * partner for what came in.  1 if found, else 0 and *out is cleared. */
static int logged_at(struct ppx_logged_message *out, ppx_log *log, uint64_t seq,
		     const uint8_t *id, unsigned kinds)
{
	Ppx__V1__LogEntry *e = NULL;

	memset(out, 0, sizeof(*out));
	if (ppx_log_get(log, seq, &e) != 0)
		return 0;
	if (kind_wanted(e, kinds) &&
	    (!id || (e->message_id.len == 16 &&
		     memcmp(e->message_id.data, id, 16) == 0)) &&
	    (out->body = entry_body(e)) != NULL) {
		out->kind = e->kind;
		out->seq = seq;
		snprintf(out->peer, sizeof(out->peer), "%s", e->peer_agency);
		snprintf(out->sender, sizeof(out->sender), "%s",
			 e->kind == PPX__V1__ENTRY_KIND__ENTRY_SENT
				 ? out->body->sender_agency : e->peer_agency);
	}
	ppx__v1__log_entry__free_unpacked(e, NULL);
	return out->body != NULL;
}

static int sender_among(const struct ppx_logged_message *m, size_t n,
			const char *sender)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(m[i].sender, sender) == 0)
			return 1;
	return 0;
}

int ppx_records_find_all(struct ppx_logged_message *out, size_t max, size_t *n,
		     ppx_log *log, const uint8_t *id, unsigned kinds)
{
	uint64_t *seqs = NULL;
	size_t ns = 0;
	int rc = ppx_log_by_message(log, id, 16, &seqs, &ns, PPX_RECORDS_IDS_MAX);

	*n = 0;
	for (size_t i = 0; rc == 0 && i < ns && *n < max; i++) {
		if (!logged_at(&out[*n], log, seqs[i], id, kinds))
			continue;
		/* A sender's id names one message: its first entry. */
		if (sender_among(out, *n, out[*n].sender))
			ppx_records_logged_free(&out[*n]);
		else
			(*n)++;
	}
	free(seqs);
	if (rc != 0) {
		for (size_t i = 0; i < *n; i++)
			ppx_records_logged_free(&out[i]);
		*n = 0;
	}
	return rc;
}

/* The message (from, id) through the dedupe index, whose key names the
 * partner: exact, and not to be crowded out by whatever else a partner
 * logs under the same id (refusals, receipts).  `from` NULL is us; so is
 * `from` naming the agency a SENT entry's body was sent by. */
int ppx_records_find(struct ppx_logged_message *out, ppx_log *log, const char *from,
		 const uint8_t *id, unsigned kinds)
{
	uint64_t seq;
	int rc = PPX_ENOTFOUND;

	memset(out, 0, sizeof(*out));
	if (from && (kinds & PPX_RECORDS_RECEIVED) &&
	    (rc = ppx_log_find(log, PPX__V1__ENTRY_KIND__ENTRY_RECEIVED, from,
			       id, 16, &seq)) == 0 &&
	    !logged_at(out, log, seq, id, PPX_RECORDS_RECEIVED))
		rc = PPX_ENOTFOUND;
	if (rc == PPX_ENOTFOUND && (kinds & PPX_RECORDS_SENT) &&
	    (rc = ppx_log_find(log, PPX__V1__ENTRY_KIND__ENTRY_SENT, "", id,
			       16, &seq)) == 0 &&
	    (!logged_at(out, log, seq, id, PPX_RECORDS_SENT) ||
	     (from && strcmp(out->sender, from) != 0))) {
		ppx_records_logged_free(out);
		rc = PPX_ENOTFOUND;
	}
	if (rc == PPX_ENOTFOUND)
		return ppx_error_set(PPX_ENOTFOUND, "no message with that id "
				     "from %s in the log", from ? from : "us");
	return rc;
}

void ppx_records_logged_free(struct ppx_logged_message *m)
{
	if (m->body)
		ppx__v1__body__free_unpacked(m->body, NULL);
	m->body = NULL;
}

static int record_key(char **out, const char *record_id)
{
	size_t len = strlen(PPX_RECORDS_KEY_PREFIX) + strlen(record_id) + 1;

	*out = malloc(len);
	if (!*out)
		return ppx_error_set(PPX_ENOMEM, "out of memory");
	snprintf(*out, len, "%s%s", PPX_RECORDS_KEY_PREFIX, record_id);
	return 0;
}

int ppx_records_subject_keys(char ***out, size_t *n, const Ppx__V1__Body *b)
{
	char **keys;
	int rc = ppx_subject_keys(out, n, b->subject);

	if (rc != 0 || b->payload_case != PPX__V1__BODY__PAYLOAD_PARTNER_RECORD ||
	    !b->partner_record->record_id || !b->partner_record->record_id[0])
		return rc;
	keys = realloc(*out, (*n + 1) * sizeof(*keys));
	if (!keys) {
		ppx_subject_keys_free(*out, *n);
		*out = NULL;
		*n = 0;
		return ppx_error_set(PPX_ENOMEM, "out of memory");
	}
	*out = keys;
	if ((rc = record_key(&keys[*n], b->partner_record->record_id)) != 0) {
		ppx_subject_keys_free(*out, *n);
		*out = NULL;
		*n = 0;
		return rc;
	}
	(*n)++;
	return 0;
}

/* The version of record `record_id` in entry `seq`, if it is one. */
static int version_at(struct ppx_record_version *v, ppx_log *log, uint64_t seq,
		      const char *record_id)
{
	Ppx__V1__LogEntry *e = NULL;
	Ppx__V1__Body *b = NULL;
	int found = 0;

	if (ppx_log_get(log, seq, &e) != 0)
		return 0;
	if (kind_wanted(e, PPX_RECORDS_SENT | PPX_RECORDS_RECEIVED))
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

int ppx_records_latest(struct ppx_record_latest *out, ppx_log *log,
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
		struct ppx_record_version v;

		if (!version_at(&v, log, seqs[i], record_id))
			continue;
		if (v.version < out->version)
			break;
		if (v.version > out->version)
			out->n = 0;
		out->version = v.version;
		if (out->n < PPX_RECORDS_TIPS_MAX)
			out->tips[out->n++] = v;
	}
	free(seqs);
	free(key);
	return rc;
}

int ppx_records_version(struct ppx_logged_message *out, ppx_log *log,
		    const char *record_id, uint64_t version)
{
	uint64_t *seqs = NULL;
	size_t n = 0;
	char *key = NULL;
	int rc = record_key(&key, record_id);
	struct ppx_record_version v;

	memset(out, 0, sizeof(*out));
	if (rc == 0)
		rc = ppx_log_by_subject(log, key, &seqs, &n, VERSIONS_MAX);
	for (size_t i = n; rc == 0 && i-- > 0;)
		if (version_at(&v, log, seqs[i], record_id) &&
		    v.version == version) {
			logged_at(out, log, seqs[i], NULL,
				  PPX_RECORDS_SENT | PPX_RECORDS_RECEIVED);
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
		 const struct ppx_record_latest *l)
{
	char when[32];

	ppx_time_iso(when, sizeof(when), l->tips[0].created_ms);
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
	struct ppx_record_latest l;
	char when[32], tip[33];
	int rc = ppx_records_latest(&l, log, r->record_id);

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
		ppx_time_iso(when, sizeof(when), l.tips[i].created_ms);
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
	struct ppx_logged_message base;
	struct ppx_logged_message merged[MERGES_MAX];
	size_t n_merged;
};

static void named_free(struct named_versions *nv)
{
	ppx_records_logged_free(&nv->base);
	for (size_t i = 0; i < nv->n_merged; i++)
		ppx_records_logged_free(&nv->merged[i]);
}

static int is_version_of(const struct ppx_logged_message *m, const char *record_id)
{
	return m->body &&
	       m->body->payload_case == PPX__V1__BODY__PAYLOAD_PARTNER_RECORD &&
	       strcmp(m->body->partner_record->record_id, record_id) == 0;
}

/*
 * The version of record `record_id` that message id `id` names.  A base or
 * a merged version may come from any agency, and the body names it by id
 * alone, so the id is looked up among every sender's messages, and only
 * versions of this record count: another agency's message that merely
 * reuses the id (a squatter's) is not a version of it.  A stored version
 * is preferred to one refused as a conflict; two stored versions of the
 * record under one id from different agencies cannot be told apart, and
 * the update is refused (PPX_EBODY).  PPX_ENOTFOUND when none is held.
 */
int ppx_records_find_version(struct ppx_logged_message *out, ppx_log *log,
			 const uint8_t *id, const char *record_id,
			 const char *field)
{
	unsigned kinds[] = {PPX_RECORDS_SENT | PPX_RECORDS_RECEIVED, PPX_RECORDS_CONFLICT};
	struct ppx_logged_message all[PPX_RECORDS_SENDERS_MAX];
	size_t n = 0, found = 0;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	for (size_t k = 0; rc == 0 && found == 0 && k < 2; k++) {
		rc = ppx_records_find_all(all, PPX_RECORDS_SENDERS_MAX, &n, log, id,
				      kinds[k]);
		for (size_t i = 0; i < n; i++) {
			if (is_version_of(&all[i], record_id) && found++ == 0) {
				*out = all[i];
				continue;
			}
			ppx_records_logged_free(&all[i]);
		}
	}
	if (rc == 0 && found > 1) {
		char hex[33];

		ppx_records_logged_free(out);
		ppx_hex(hex, id, 16);
		return ppx_error_set(PPX_EBODY, "%s: %zu agencies sent a "
				     "version of partner record %s as message "
				     "%s: it cannot be told which is meant",
				     field, found, record_id, hex);
	}
	if (rc != 0)
		ppx_records_logged_free(out);
	return rc ? rc : found ? 0 : PPX_ENOTFOUND;
}

static int load_named(struct named_versions *nv, ppx_log *log,
		      const Ppx__V1__Body *b, int outbound)
{
	const Ppx__V1__PartnerRecord *r = b->partner_record;
	char hex[33];
	int rc = 0;

	memset(nv, 0, sizeof(*nv));
	if (b->supersedes.len == 16 &&
	    (rc = ppx_records_find_version(&nv->base, log, b->supersedes.data,
			       r->record_id, "supersedes")) != 0 &&
	    rc != PPX_ENOTFOUND)
		return rc;
	if (r->n_merges > MERGES_MAX)
		return ppx_error_set(PPX_EBODY, "partner_record.merges: at "
				     "most %d versions", MERGES_MAX);
	for (size_t i = 0; i < r->n_merges; i++) {
		struct ppx_logged_message *m = &nv->merged[nv->n_merged];

		rc = r->merges[i].len != 16 ? PPX_ENOTFOUND
		     : ppx_records_find_version(m, log, r->merges[i].data,
					    r->record_id,
					    "partner_record.merges");
		if (rc == 0) {
			nv->n_merged++;
			continue;
		}
		if (rc != PPX_ENOTFOUND)
			return rc;
		ppx_hex(hex, r->merges[i].data,
			r->merges[i].len < 16 ? r->merges[i].len : 16);
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

/* Whether a message held under the id an update names was sent by a party
 * to the update: us, its sender, or one of its recipients. */
static int party_to(const struct ppx_logged_message *m, const Ppx__V1__Body *b,
		    const char *sender)
{
	return m->kind == PPX__V1__ENTRY_KIND__ENTRY_SENT ||
	       strcmp(m->sender, sender) == 0 ||
	       is_among(b->recipients, b->n_recipients, m->sender);
}

static int not_held(const Ppx__V1__Body *b, int outbound, const char *whose)
{
	char hex[33];

	ppx_hex(hex, b->replies_to.data, 16);
	return ppx_error_set(PPX_EBODY, "replies_to: message %s %sis not in "
			     "%s log", hex, whose, outbound ? "this agency's"
			     : "the receiver's");
}

/*
 * An acknowledgement takes on a message that the acknowledged party sent
 * to the acknowledging one.  Received by us: a message we sent, to its
 * sender.  Sent by us: a message we received from one of its recipients
 * (it goes back to whoever sent the message), and from exactly one of
 * them, or it cannot be told which message is meant.
 */
static int check_ack(ppx_log *log, const Ppx__V1__Body *b, const char *sender,
		     int outbound)
{
	struct ppx_logged_message all[PPX_RECORDS_SENDERS_MAX];
	size_t n = 0, from = 0, ours = 0;
	int rc = ppx_records_find_all(all, PPX_RECORDS_SENDERS_MAX, &n, log,
				  b->replies_to.data,
				  PPX_RECORDS_SENT | PPX_RECORDS_RECEIVED);

	for (size_t i = 0; i < n; i++) {
		if (all[i].kind == PPX__V1__ENTRY_KIND__ENTRY_SENT)
			ours += !outbound ? is_among(all[i].body->recipients,
						     all[i].body->n_recipients,
						     sender) : 1;
		else if (outbound && is_among(b->recipients, b->n_recipients,
					      all[i].sender))
			from++;
		ppx_records_logged_free(&all[i]);
	}
	if (rc != 0)
		return rc;
	if (outbound && from == 0 && ours)
		return ppx_error_set(PPX_EBODY, "replies_to: this agency sent "
				     "that message; acknowledge what partners "
				     "sent");
	if (outbound && from == 0)
		return not_held(b, 1, "from a recipient of the "
				"acknowledgement ");
	if (outbound && from > 1)
		return ppx_error_set(PPX_EBODY, "replies_to: %zu recipients "
				     "of the acknowledgement sent a message "
				     "with that id: acknowledge each in its "
				     "own message to its sender", from);
	if (!outbound && !ours)
		return ppx_error_set(PPX_EBODY, "replies_to: %s acknowledges a "
				     "message that was not sent to it",
				     sender);
	return 0;
}

/* The action an update is about is in the minutes it answers. */
static int check_action_ref(const struct ppx_logged_message *m,
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

/*
 * An action update answers minutes sent by a party to the update (us, its
 * sender or one of its recipients): a message that another agency sent
 * under the same id never binds it.  It passes if such minutes have the
 * action; otherwise the first candidate's misfit is the error.
 */
static int check_update(ppx_log *log, const Ppx__V1__Body *b,
			const char *sender, int outbound)
{
	struct ppx_logged_message all[PPX_RECORDS_SENDERS_MAX];
	size_t n = 0;
	int rc = ppx_records_find_all(all, PPX_RECORDS_SENDERS_MAX, &n, log,
				  b->replies_to.data,
				  PPX_RECORDS_SENT | PPX_RECORDS_RECEIVED);
	int fit = PPX_ENOTFOUND;
	char first[512] = "";

	for (size_t i = 0; i < n; i++) {
		if (rc == 0 && fit != 0 && party_to(&all[i], b, sender)) {
			fit = check_action_ref(&all[i], b->action_update);
			if (fit != 0 && !first[0])
				snprintf(first, sizeof(first), "%s",
					 ppx_error_last());
		}
		ppx_records_logged_free(&all[i]);
	}
	if (rc != 0 || fit == 0)
		return rc;
	if (first[0])
		return ppx_error_set(PPX_EBODY, "%s", first);
	return not_held(b, outbound, "from a party to the update ");
}

static int check_reply(ppx_log *log, const Ppx__V1__Body *b,
		       const char *sender, int outbound)
{
	if (b->replies_to.len != 16)
		return 0;	/* the domain rules require it */
	if (b->payload_case == PPX__V1__BODY__PAYLOAD_ACKNOWLEDGEMENT)
		return check_ack(log, b, sender, outbound);
	return check_update(log, b, sender, outbound);
}

/* An amendment of minutes names earlier minutes of the same meeting from
 * the same sender: ours when we send it, the sender's when we receive it
 * (another agency's message under that id never binds it). */
static int check_amendment(ppx_log *log, const Ppx__V1__Body *b,
			   const char *sender, int outbound)
{
	const Ppx__V1__Minutes *mn = b->minutes;
	struct ppx_logged_message m;
	char hex[33];
	int rc;

	if (b->supersedes.len != 16)
		return 0;
	ppx_hex(hex, b->supersedes.data, 16);
	rc = ppx_records_find(&m, log, outbound ? NULL : sender,
			  b->supersedes.data, PPX_RECORDS_SENT | PPX_RECORDS_RECEIVED);
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
	ppx_records_logged_free(&m);
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

int ppx_records_check(ppx_log *log, const Ppx__V1__Body *b, const char *sender,
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
		return check_amendment(log, b, sender, outbound);
	case PPX__V1__BODY__PAYLOAD_ACKNOWLEDGEMENT:
	case PPX__V1__BODY__PAYLOAD_ACTION_UPDATE:
		return check_reply(log, b, sender, outbound);
	default:
		return 0;
	}
}
