/*
 * submit.c — a message this agency sends: the one path from a local way in
 * (control.c for `ppx send`, spool.c for dropped files) to the log.
 *
 * A submitted Body is completed by the daemon, never trusted for who sent
 * it: the sending person is the operator the caller maps to, the sender
 * agency is ours, the time is now and a message id is made unless the
 * caller gave one (so a retried submit is idempotent); who acknowledges or
 * updates an action is the operator too.  The body is checked against the
 * domain rules of its family (lib/domain.c), each recipient against the
 * policy, and what it refers to against the log (records.c: a partner
 * record update must be based on the latest version and change only
 * fields we own) before anything is signed; the sealed frame is logged as
 * SENT, under its subject keys and a partner record's "record:<id>", with
 * one outbox key per recipient in this iteration's batch.  The caller
 * answers (or moves its file) after the commit.
 */
#include <stdlib.h>
#include <string.h>

#include "outbox.h"
#include "policy.h"
#include "ppx/domain.h"
#include "ppx/entry.h"
#include "ppx/envelope.h"
#include "ppx/error.h"
#include "ppx/names.h"
#include "ppx/records.h"
#include "ppx/text.h"
#include "ppx/timefmt.h"
#include "state.h"
#include "submit.h"
#include "writer.h"

/* Every recipient is a partner and the policy lets us send it this. */
static int check_recipients(struct ppxd *d, const Ppx__V1__Body *b)
{
	struct policy_query q = {0};
	char **keys = NULL;
	size_t n = 0;
	int rc = ppx_subject_keys(&keys, &n, b->subject);

	policy_query_of(&q, b, d->cfg->agency, keys, n);
	for (size_t i = 0; rc == 0 && i < b->n_recipients; i++) {
		q.to = b->recipients[i];
		if (!ppx_config_partner(d->cfg, b->recipients[i]))
			rc = ppx_error_set(PPX_EINVAL,
					   "recipient %s is not a configured "
					   "partner of %s",
					   b->recipients[i], d->cfg->agency);
		else
			rc = policy_check(d->policy, &q);
	}
	ppx_subject_keys_free(keys, n);
	return rc;
}

/* Log the sealed message as SENT with an outbox key per recipient. */
static int log_sent(struct ppxd *d, const Ppx__V1__Body *b, uint8_t *frame,
		    size_t len, uint64_t *seq)
{
	Ppx__V1__LogEntry e = PPX__V1__LOG_ENTRY__INIT;
	char **keys = NULL;
	size_t n = 0;
	int rc = ppx_records_subject_keys(&keys, &n, b);

	if (rc != 0)
		return rc;
	e.kind = PPX__V1__ENTRY_KIND__ENTRY_SENT;
	e.message_id = b->message_id;
	e.person = b->sender_person->id;
	e.data.data = frame;
	e.data.len = len;
	e.subject_keys = keys;
	e.n_subject_keys = n;
	e.family = (char *)ppx_family_name((int)b->payload_case);
	if (!e.family)
		e.family = "";
	rc = writer_append(d, &e, seq);
	ppx_subject_keys_free(keys, n);
	for (size_t i = 0; rc == 0 && i < b->n_recipients; i++)
		rc = outbox_add(d, b->recipients[i], *seq);
	return rc;
}

/* What the daemon, never the caller, says about a submitted body. */
struct completion {
	Ppx__V1__Person person;
	Ppx__V1__Acknowledgement ack;
	Ppx__V1__ActionUpdate update;
};

/*
 * The creation time is the daemon's to state: it stamps its own clock when
 * the caller gives none, and takes a caller's value only within
 * clock_skew_ms of it, either way.  Otherwise an operator could backdate a
 * message (and with it every deadline measured from it) or date it ahead.
 * A value within the allowance is kept as given, so that a caller that
 * resubmits the same body resubmits the same bytes.
 */
static int stamp_created(struct ppxd *d, Ppx__V1__Body *b)
{
	int64_t now = ppxd_now_ms(), off = b->created_ms - now;
	char when[40], ours[40];

	if (b->created_ms == 0) {
		b->created_ms = now;
		return 0;
	}
	if (off <= d->cfg->clock_skew_ms && -off <= d->cfg->clock_skew_ms)
		return 0;
	ppx_time_iso_ms(when, sizeof(when), b->created_ms);
	ppx_time_iso_ms(ours, sizeof(ours), now);
	return ppx_error_set(PPX_EBODY,
			     "createdMs %s is %lld s in the %s by this "
			     "daemon's clock (%s; clock_skew_ms allows %lld "
			     "s): leave createdMs out and the daemon stamps it",
			     when, (long long)((off < 0 ? -off : off) / 1000),
			     off < 0 ? "past" : "future", ours,
			     (long long)(d->cfg->clock_skew_ms / 1000));
}

/* Fill in the sender (agency and operator), the id unless given, the time
 * and the area; who acknowledges or updates an action is the operator.
 * A body completed once may be completed again (with another created_ms):
 * what it already points into `c` and `id_out` stays. */
static int complete_body(struct ppxd *d, const struct ppx_operator *op,
			 Ppx__V1__Body *b, struct completion *c,
			 uint8_t id_out[16])
{
	int rc;

	ppx__v1__person__init(&c->person);
	c->person.id = (char *)op->id;
	c->person.name = (char *)op->name;
	c->person.agency = d->cfg->agency;
	c->person.role = (char *)op->role;
	c->person.grade = (char *)op->grade;
	b->sender_person = &c->person;
	b->sender_agency = d->cfg->agency;
	if (b->message_id.len == 0) {
		if ((rc = ppx_message_id_new(id_out)) != 0)
			return rc;
		b->message_id.data = id_out;
		b->message_id.len = PPX_MESSAGE_ID_LEN;
	} else if (b->message_id.len == PPX_MESSAGE_ID_LEN &&
		   b->message_id.data != id_out) {	/* completed before */
		memcpy(id_out, b->message_id.data, PPX_MESSAGE_ID_LEN);
	}
	if ((rc = stamp_created(d, b)) != 0)
		return rc;
	if (b->area == NULL || !b->area[0])
		b->area = d->cfg->area;
	if (b->payload_case == PPX__V1__BODY__PAYLOAD_ACKNOWLEDGEMENT &&
	    b->acknowledgement && b->acknowledgement != &c->ack) {
		c->ack = *b->acknowledgement;
		c->ack.acknowledged_by = &c->person;
		b->acknowledgement = &c->ack;
	} else if (b->payload_case == PPX__V1__BODY__PAYLOAD_ACTION_UPDATE &&
		   b->action_update && b->action_update != &c->update) {
		c->update = *b->action_update;
		c->update.updated_by = &c->person;
		b->action_update = &c->update;
	}
	return 0;
}

/*
 * A submission under a message id this agency already used.  A message id
 * names one message, so the same message again is an idempotent retry
 * (*again set, *seq_out its entry) and any other body is refused
 * (PPX_EREUSED): a second message under a used id would never be logged
 * or sent, and its sender must not be told it was.  "The same" is judged
 * on the body as the daemon completed it (the operator, our agency, the
 * area), which must serialise to exactly the bytes we signed the first
 * time, except for created_ms: the daemon stamps the first submission's
 * time, and a retry keeps it.
 */
static int check_reused(struct ppxd *d, Ppx__V1__Body *b, uint64_t *seq_out,
			int *again)
{
	Ppx__V1__LogEntry *e = NULL;
	Ppx__V1__Body *old = NULL;
	uint8_t *mine = NULL, logged[PPX_HASH_LEN], ours[PPX_HASH_LEN];
	size_t len = 0;
	char hex[2 * PPX_MESSAGE_ID_LEN + 1];
	int rc = ppx_log_find(d->log, PPX__V1__ENTRY_KIND__ENTRY_SENT, "",
			      b->message_id.data, b->message_id.len, seq_out);

	*again = 0;
	if (rc == PPX_ENOTFOUND) {
		ppx_error_clear();
		return 0;
	}
	if (rc == 0 && (rc = ppx_log_get(d->log, *seq_out, &e)) == 0)
		rc = ppx_entry_body(&old, logged, e);
	if (rc == 0) {
		b->created_ms = old->created_ms;
		len = ppx__v1__body__get_packed_size(b);
		if (!(mine = malloc(len ? len : 1)))
			rc = ppx_error_set(PPX_ENOMEM, "out of memory");
	}
	/* The same bytes as we signed: the same SHA-256. */
	if (rc == 0 && (ppx__v1__body__pack(b, mine),
			ppx_sha256(ours, mine, len)) != 0)
		rc = ppx_error_set(PPX_ECRYPTO, "cannot hash a message body");
	if (rc == 0) {
		*again = memcmp(ours, logged, PPX_HASH_LEN) == 0;
		ppx_hex(hex, b->message_id.data, PPX_MESSAGE_ID_LEN);
		if (!*again)
			rc = ppx_error_set(PPX_EREUSED, "message id %s is "
					   "already used by another message "
					   "(log entry %llu): an id names one "
					   "message; give this one a new id, or "
					   "resubmit that message unchanged",
					   hex, (unsigned long long)*seq_out);
	}
	free(mine);
	if (old)
		ppx__v1__body__free_unpacked(old, NULL);
	if (e)
		ppx__v1__log_entry__free_unpacked(e, NULL);
	return rc;
}

int submit_body(struct ppxd *d, const struct ppx_operator *op,
		const Ppx__V1__Body *in, uint8_t id_out[16], uint64_t *seq_out)
{
	const char *us = d->cfg->agency;
	struct completion c;
	Ppx__V1__Body b = *in;
	uint8_t *frame = NULL;
	size_t len = 0;
	int rc, again = 0;

	/* A retry is judged by its content first: its createdMs is not its
	 * own (the first submission's stands, however long ago that was),
	 * so the checks of a new createdMs come after, for a new message. */
	b.created_ms = 0;
	if ((rc = complete_body(d, op, &b, &c, id_out)) != 0 ||
	    (rc = check_reused(d, &b, seq_out, &again)) != 0 || again)
		return rc;
	b.created_ms = in->created_ms;
	if ((rc = complete_body(d, op, &b, &c, id_out)) != 0 ||
	    (rc = ppx_body_check(&b, us)) != 0 ||
	    (rc = ppx_domain_check(&b, us)) != 0 ||
	    (rc = check_recipients(d, &b)) != 0 ||
	    (rc = ppx_records_check(d->log, &b, us, 1)) != 0 ||
	    (rc = ppx_body_seal(&frame, &len, d->signer, &b)) != 0)
		return rc;
	rc = log_sent(d, &b, frame, len, seq_out);
	free(frame);
	return rc;
}
