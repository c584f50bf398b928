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
 *
 * A personally signed message (docs/PROTOCOL.md 3.2) comes in twice: a
 * prepare (submit_prepare) completes and checks the body as above, with
 * sender_person.certificate_fingerprint naming the person certificate,
 * and hands back its bytes; the person signs them; the signed submission
 * (submit_queue_signed) must then be exactly those bytes, a body this
 * daemon would complete so for this operator, signed by the person
 * certificate the operator's person_cert names.  Those bytes are sealed
 * unchanged and the frame carries the personal signature.  Where the
 * policy requires a personal signature, an unsigned submission is
 * refused (PPX_EPERSON_REQUIRED).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "federation.h"
#include "log.h"
#include "outbox.h"
#include "partners.h"
#include "policy.h"
#include "ppx/cases.h"
#include "ppx/domain.h"
#include "ppx/entry.h"
#include "ppx/envelope.h"
#include "ppx/error.h"
#include "ppx/names.h"
#include "ppx/person.h"
#include "ppx/records.h"
#include "ppx/text.h"
#include "ppx/timefmt.h"
#include "ppx/workdays.h"
#include "state.h"
#include "submit.h"
#include "writer.h"

/* The case of b's subject is needed: a recipient is a duty-to-co-operate
 * agency, or the operator's need to know is limited. */
static int case_needed(struct ppxd *d, const struct ppx_operator *op,
		       const Ppx__V1__Body *b)
{
	if (op->need_to_know != PPX_NTK_ALL)
		return 1;
	for (size_t i = 0; i < b->n_recipients; i++)
		if (ppxd_duty_to_cooperate(d, b->recipients[i]))
			return 1;
	return 0;
}

/*
 * The operator's own need to know ([operator] need_to_know): with
 * `agency`, the case must list this agency; with `named`, a record of
 * the case must name the operator as an officer.  A partner record being
 * sent counts for itself.  An emergency waives it; so does a message
 * that names no subject.
 */
static int check_operator(struct ppxd *d, const struct ppx_operator *op,
			  const Ppx__V1__Body *b, const struct ppx_case *c,
			  const char *keys)
{
	const Ppx__V1__PartnerRecord *r =
		b->payload_case == PPX__V1__BODY__PAYLOAD_PARTNER_RECORD
			? b->partner_record : NULL;
	const char *us = d->cfg->agency;

	if (op->need_to_know == PPX_NTK_ALL || b->emergency || !keys[0])
		return 0;
	if (op->need_to_know == PPX_NTK_AGENCY &&
	    (ppx_case_lists_agency(c, us, NULL, 0) ||
	     (r && ppx_record_lists_agency(r, us))))
		return 0;
	if (op->need_to_know == PPX_NTK_NAMED &&
	    (ppx_case_names_person(c, op->id, us) ||
	     (r && ppx_record_names_person(r, op->id, us))))
		return 0;
	if (op->need_to_know == PPX_NTK_AGENCY)
		return ppx_error_set(PPX_EPOLICY, "need to know: operator %s "
				     "(need_to_know = agency) sends only about "
				     "cases that list %s, and no partner record "
				     "this agency holds of the case of %s does; "
				     "in an emergency, send with --emergency "
				     "--reason TEXT", op->id, us, keys);
	return ppx_error_set(PPX_EPOLICY, "need to know: operator %s "
			     "(need_to_know = named) is not named on the case "
			     "of %s by any partner record this agency holds; "
			     "in an emergency, send with --emergency --reason "
			     "TEXT", op->id, keys);
}

/* An emergency needs someone to review it ([accountability]
 * emergency_reviewer); its reason is checked with the body
 * (ppx_domain_check). */
static int check_emergency(struct ppxd *d, const Ppx__V1__Body *b)
{
	if (!b->emergency || d->cfg->emergency_reviewer[0])
		return 0;
	return ppx_error_set(PPX_EPOLICY, "emergency: no [accountability] "
			     "emergency_reviewer is configured at %s, so no "
			     "one could review this; an emergency send is "
			     "refused until one is", d->cfg->agency);
}

/* Each recipient against the policy, under the case `c`. */
static int check_each_recipient(struct ppxd *d, const Ppx__V1__Body *b,
				struct policy_query *q)
{
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < b->n_recipients; i++) {
		q->to = b->recipients[i];
		q->to_dtc = ppxd_duty_to_cooperate(d, q->to);
		if (!ppx_config_partner(d->cfg, b->recipients[i]))
			rc = ppx_error_set(PPX_EINVAL,
					   "recipient %s is not a configured "
					   "partner of %s",
					   b->recipients[i], d->cfg->agency);
		else
			rc = federation_policy_check(d, q);
	}
	return rc;
}

/* With a directory in force, every recipient that is a partner is
 * active in it: a suspended, leaving, removed or not-allowed one gets
 * nothing new (its queue still goes out if it may connect). */
static int check_standing(struct ppxd *d, const Ppx__V1__Body *b)
{
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < b->n_recipients; i++)
		if (ppx_config_partner(d->cfg, b->recipients[i]))
			rc = partners_may_send(d, b->recipients[i]);
	return rc;
}

/* Every recipient is a partner and the policy lets us send it this; the
 * operator may send about its subject.  Need to know is decided from the
 * case as this agency's log holds it (lib/cases.c). */
static int check_recipients(struct ppxd *d, const struct ppx_operator *op,
			    const Ppx__V1__Body *b)
{
	struct policy_query q = {0};
	struct ppx_case c = {0};
	char **keys = NULL, list[256] = "";
	size_t n = 0;
	int rc = ppx_subject_keys(&keys, &n, b->subject);

	if (rc == 0)
		rc = check_emergency(d, b);
	if (rc == 0 && case_needed(d, op, b))
		rc = ppx_case_load(&c, d->log, keys, n);
	policy_keys_text(list, sizeof(list), (const char *const *)keys, n);
	if (rc == 0)
		rc = check_operator(d, op, b, &c, list);
	policy_query_of(&q, b, d->cfg->agency, keys, n);
	q.cas = &c;
	if (rc == 0)
		rc = check_standing(d, b);
	if (rc == 0)
		rc = check_each_recipient(d, b, &q);
	ppx_case_free(&c);
	ppx_subject_keys_free(keys, n);
	return rc;
}

/* A message checked and serialised, ready for its signature: what
 * log_sent() needs of it, copied, so that it outlives the request. */
struct pending {
	uint8_t *body;			/* the serialised Body to sign */
	size_t len;
	uint8_t id[PPX_MESSAGE_ID_LEN];
	char *person;			/* sender_person.id */
	int family;			/* Body.payload case */
	char **keys;			/* subject keys */
	size_t n_keys;
	char **recipients;
	size_t n_recipients;
	submit_done_fn *done;		/* submit_queue()'s caller */
	void *arg;
	int has_person;			/* signed: a personal signature */
	char *emergency;		/* Body.emergency.reason, or NULL */
	Ppx__V1__PersonSignature signed_by;/* its bytes owned here */
};

/* The submissions of one control drain (or of several, while they wait
 * for a batch: batch_sign_wait_ms), sealed together by submit_flush():
 * one round trip to the signer process for the burst. */
static struct pending queue[SUBMIT_QUEUE_MAX];
static size_t queued;
static int64_t queued_since_ms;	/* when queue[0] was queued */

static void pending_free(struct pending *p)
{
	free(p->body);
	free(p->person);
	free(p->emergency);
	ppx_subject_keys_free(p->keys, p->n_keys);
	for (size_t i = 0; p->recipients && i < p->n_recipients; i++)
		free(p->recipients[i]);
	free(p->recipients);
	free(p->signed_by.certificate.data);
	free(p->signed_by.signature.data);
	memset(p, 0, sizeof(*p));
}

/* Keep a copy of the personal signature `ps` in p. */
static int pending_person(struct pending *p,
			  const Ppx__V1__PersonSignature *ps)
{
	const ProtobufCBinaryData *c = &ps->certificate, *s = &ps->signature;

	ppx__v1__person_signature__init(&p->signed_by);
	p->signed_by.certificate.data = malloc(c->len ? c->len : 1);
	p->signed_by.signature.data = malloc(s->len ? s->len : 1);
	if (!p->signed_by.certificate.data || !p->signed_by.signature.data)
		return ppx_error_set(PPX_ENOMEM, "out of memory");
	memcpy(p->signed_by.certificate.data, c->data, c->len);
	p->signed_by.certificate.len = c->len;
	memcpy(p->signed_by.signature.data, s->data, s->len);
	p->signed_by.signature.len = s->len;
	p->signed_by.algorithm = ps->algorithm;
	p->has_person = 1;
	return 0;
}

/* Copy what logging `b` needs into p, with its serialised bytes. */
static int pending_of(struct pending *p, const Ppx__V1__Body *b)
{
	int rc;

	memset(p, 0, sizeof(*p));
	memcpy(p->id, b->message_id.data, PPX_MESSAGE_ID_LEN);
	p->family = (int)b->payload_case;
	if ((rc = ppx_body_pack(&p->body, &p->len, b)) != 0 ||
	    (rc = ppx_records_subject_keys(&p->keys, &p->n_keys, b)) != 0)
		goto fail;
	p->person = strdup(b->sender_person->id);
	p->recipients = calloc(b->n_recipients ? b->n_recipients : 1,
			       sizeof(char *));
	rc = p->person && p->recipients ? 0 : PPX_ENOMEM;
	if (rc == 0 && b->emergency &&
	    !(p->emergency = strdup(b->emergency->reason ? b->emergency->reason
							 : "")))
		rc = PPX_ENOMEM;
	for (; rc == 0 && p->n_recipients < b->n_recipients; p->n_recipients++)
		if (!(p->recipients[p->n_recipients] =
			      strdup(b->recipients[p->n_recipients])))
			rc = PPX_ENOMEM;
	if (rc == 0)
		return 0;
	ppx_error_set(rc, "out of memory");
fail:
	pending_free(p);
	return rc;
}

/* Log the sealed message as SENT with an outbox key per recipient; an
 * emergency with its reason, its reviewer and when the review is due. */
static int log_sent(struct ppxd *d, const struct pending *p, uint8_t *frame,
		    size_t len, uint64_t *seq)
{
	Ppx__V1__LogEntry e = PPX__V1__LOG_ENTRY__INIT;
	Ppx__V1__Access access = PPX__V1__ACCESS__INIT;
	const char *family = ppx_family_name(p->family);
	int rc;

	if (p->emergency) {
		access.emergency = 1;
		access.reason = p->emergency;
		access.reviewer = d->cfg->emergency_reviewer;
		access.review_due_ms = ppx_review_due_ms(
			NULL, ppxd_now_ms(), d->cfg->emergency_review_days);
		e.access = &access;
	}
	e.kind = PPX__V1__ENTRY_KIND__ENTRY_SENT;
	e.message_id.data = (uint8_t *)p->id;
	e.message_id.len = PPX_MESSAGE_ID_LEN;
	e.person = p->person;
	e.data.data = frame;
	e.data.len = len;
	e.subject_keys = p->keys;
	e.n_subject_keys = p->n_keys;
	e.family = (char *)(family ? family : "");
	rc = writer_append(d, &e, seq);
	if (rc != 0)
		return rc;	/* nothing of it is in the batch */
	for (size_t i = 0; rc == 0 && i < p->n_recipients; i++)
		rc = outbox_add(d, p->recipients[i], *seq);
	if (rc != 0)	/* a SENT entry without its outbox keys is never sent */
		writer_fail(d, rc);
	return rc;
}

/* What the daemon, never the caller, says about a submitted body. */
struct completion {
	/* The person certificate a personal signature is to come from
	 * (len 0: none), for sender_person.certificate_fingerprint. */
	ProtobufCBinaryData fingerprint;
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
	c->person.certificate_fingerprint = c->fingerprint;
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

/* The policy wants a personal signature on b and it has none. */
static int check_person_required(struct ppxd *d, const Ppx__V1__Body *b)
{
	char what[96];

	if (!policy_person_required(d->policy, b, what, sizeof(what)))
		return 0;
	return ppx_error_set(PPX_EPERSON_REQUIRED, "policy: %s needs a "
			     "personal signature ([signatures] "
			     "require_person_signature): send it with ppx "
			     "send --sign KEY", what);
}

/*
 * Complete `in` as sent by `op` (with c's fingerprint) and check it; with
 * p, an unsigned submission, serialise it into p (not yet signed), unless
 * the policy requires a personal signature on it.  Without p (a prepare
 * for a personal signature), the completed body's bytes go to *bytes.
 */
static int prepare_body(struct ppxd *d, const struct ppx_operator *op,
			const Ppx__V1__Body *in, struct completion *c,
			uint8_t id_out[16], uint64_t *seq_out, int *again,
			struct pending *p, uint8_t **bytes, size_t *len)
{
	const char *us = d->cfg->agency;
	Ppx__V1__Body b = *in;
	int rc;

	if (p)
		memset(p, 0, sizeof(*p));
	/* A retry is judged by its content first: its createdMs is not its
	 * own (the first submission's stands, however long ago that was),
	 * so the checks of a new createdMs come after, for a new message. */
	b.created_ms = 0;
	if ((rc = complete_body(d, op, &b, c, id_out)) != 0 ||
	    (rc = check_reused(d, &b, seq_out, again)) != 0 || *again)
		return rc;
	b.created_ms = in->created_ms;
	if ((rc = complete_body(d, op, &b, c, id_out)) != 0 ||
	    (rc = ppx_body_check(&b, us)) != 0 ||
	    (rc = ppx_domain_check(&b, us)) != 0 ||
	    (rc = check_recipients(d, op, &b)) != 0 ||
	    (rc = ppx_records_check(d->log, &b, us, 1)) != 0)
		return rc;
	if (!p)
		return ppx_body_pack(bytes, len, &b);
	if ((rc = check_person_required(d, &b)) != 0)
		return rc;
	return pending_of(p, &b);
}

/*
 * Complete and check `in` as sent by `op`, into p (serialised, not yet
 * signed).  *again: the same message was sent before under its id, at
 * *seq_out, and p is left empty.
 */
static int prepare(struct ppxd *d, const struct ppx_operator *op,
		   const Ppx__V1__Body *in, uint8_t id_out[16],
		   uint64_t *seq_out, int *again, struct pending *p)
{
	struct completion c = {{0, NULL}};

	return prepare_body(d, op, in, &c, id_out, seq_out, again, p, NULL,
			    NULL);
}

/* The operator's person_cert, as the fingerprint to complete bodies
 * with; PPX_EBADPERSON if there is none or `der` (if given) is not it. */
static int operator_person(const struct ppx_operator *op, const uint8_t *der,
			   size_t len, ProtobufCBinaryData *fpr)
{
	uint8_t got[PPX_HASH_LEN];
	int rc;

	if (!op->has_person_cert)
		return ppx_error_set(PPX_EBADPERSON, "operator %s has no "
				     "person_cert in the configuration: a "
				     "personal signature cannot be theirs",
				     op->id);
	fpr->data = (uint8_t *)op->person_cert;
	fpr->len = PPX_HASH_LEN;
	if (!der)
		return 0;
	if ((rc = ppx_sha256(got, der, len)) != 0)
		return rc;
	if (memcmp(got, op->person_cert, PPX_HASH_LEN) != 0)
		return ppx_error_set(PPX_EBADPERSON, "the person certificate "
				     "given is not operator %s's person_cert",
				     op->id);
	return 0;
}

int submit_prepare(struct ppxd *d, const struct ppx_operator *op,
		   const Ppx__V1__Body *in, const uint8_t *cert,
		   size_t cert_len, uint8_t **out, size_t *len)
{
	struct completion c = {{0, NULL}};
	uint8_t id[PPX_MESSAGE_ID_LEN];
	uint64_t seq = 0;
	int rc, again = 0;

	*out = NULL;
	submit_flush(d);	/* what was queued is in the log to check */
	if ((rc = operator_person(op, cert, cert_len, &c.fingerprint)) != 0)
		return rc;
	rc = prepare_body(d, op, in, &c, id, &seq, &again, NULL, out, len);
	if (rc == 0 && again)
		rc = ppx_error_set(PPX_EREUSED, "this message was sent already "
				   "(log entry %llu): nothing to sign",
				   (unsigned long long)seq);
	return rc;
}

/*
 * The signed bytes are a body this daemon prepares for `op`: completed
 * again from themselves (who sends, our agency, the area, the person
 * certificate, the time within the allowance), they encode to exactly
 * the same bytes, and they pass the checks of a submit.
 */
static int check_signed_body(struct ppxd *d, const struct ppx_operator *op,
			     const ProtobufCBinaryData *bytes,
			     Ppx__V1__Body *b, struct completion *c,
			     uint64_t *seq_out, int *again)
{
	const char *us = d->cfg->agency;
	uint8_t id[PPX_MESSAGE_ID_LEN], *mine = NULL;
	size_t len = 0;
	int rc;

	if ((rc = operator_person(op, NULL, 0, &c->fingerprint)) != 0)
		return rc;
	if (b->message_id.len != PPX_MESSAGE_ID_LEN || b->created_ms == 0)
		return ppx_error_set(PPX_EBODY, "the signed body has no "
				     "message id or time: sign what a prepare "
				     "answered");
	if ((rc = complete_body(d, op, b, c, id)) != 0 ||
	    (rc = ppx_body_pack(&mine, &len, b)) != 0)
		return rc;
	if (len != bytes->len || memcmp(mine, bytes->data, len) != 0 ||
	    b->base.n_unknown_fields != 0)
		rc = ppx_error_set(PPX_EBODY, "the signed body is not one this "
				   "daemon prepared for operator %s: sign the "
				   "bytes a prepare answered, unchanged",
				   op->id);
	free(mine);
	if (rc == 0)
		rc = check_reused(d, b, seq_out, again);
	if (rc != 0 || *again)
		return rc;
	if ((rc = ppx_body_check(b, us)) != 0 ||
	    (rc = ppx_domain_check(b, us)) != 0 ||
	    (rc = check_recipients(d, op, b)) != 0 ||
	    (rc = ppx_records_check(d->log, b, us, 1)) != 0)
		return rc;
	return 0;
}

/* A signed submission checked (body and personal signature) into p. */
static int prepare_signed(struct ppxd *d, const struct ppx_operator *op,
			  const ProtobufCBinaryData *bytes,
			  const Ppx__V1__PersonSignature *ps, uint8_t id[16],
			  uint64_t *seq_out, int *again, struct pending *p)
{
	Ppx__V1__Body *b = ppx__v1__body__unpack(NULL, bytes->len, bytes->data);
	struct completion c = {{0, NULL}};
	Ppx__V1__Body done;	/* b completed: its fields point into c */
	ppx_identity who;
	int rc;

	memset(p, 0, sizeof(*p));
	if (!b)
		return ppx_error_set(PPX_EBODY, "the signed body does not "
				     "decode as a Body");
	done = *b;
	rc = check_signed_body(d, op, bytes, &done, &c, seq_out, again);
	if (rc == 0)
		memcpy(id, done.message_id.data, PPX_MESSAGE_ID_LEN);
	if (rc == 0 && !*again)
		rc = ppx_person_verify(&who, d->trust, ps, bytes->data,
				       bytes->len, &done, d->cfg->agency,
				       time(NULL));
	if (rc == 0 && !*again && (rc = pending_of(p, &done)) == 0)
		rc = pending_person(p, ps);
	if (rc != 0)
		pending_free(p);
	ppx__v1__body__free_unpacked(b, NULL);
	return rc;
}

/* Whether p may go under a batch signature: every recipient accepts them
 * (PROTOCOL.md 3.4, outbox_accepts_batch()). */
static int batchable(struct ppxd *d, const struct pending *p)
{
	for (size_t i = 0; i < p->n_recipients; i++)
		if (!outbox_accepts_batch(d, p->recipients[i]))
			return 0;
	return p->n_recipients > 0;
}

/* Whether a and b name the same recipients (in any order). */
static int same_recipients(const struct pending *a, const struct pending *b)
{
	if (a->n_recipients != b->n_recipients)
		return 0;
	for (size_t i = 0; i < a->n_recipients; i++) {
		int found = 0;

		for (size_t j = 0; j < b->n_recipients && !found; j++)
			found = strcmp(a->recipients[i], b->recipients[j]) == 0;
		if (!found)
			return 0;
	}
	return 1;
}

/* group[i] for outbox_seal(): 0 to sign p[i] alone; else one number per
 * recipient set, so that a batch only holds messages to the same
 * recipients (PROTOCOL.md 3.4). */
static void batch_groups(struct ppxd *d, const struct pending *p, size_t n,
			 int *group)
{
	int next = 0;

	for (size_t i = 0; i < n; i++) {
		group[i] = 0;
		if (!batchable(d, &p[i]))
			continue;
		for (size_t j = 0; j < i && group[i] == 0; j++)
			if (group[j] != 0 && same_recipients(&p[i], &p[j]))
				group[i] = group[j];
		if (group[i] == 0)
			group[i] = ++next;
	}
}

/*
 * Add p's personal signature to its sealed frame *frame.  A batch path
 * plus the personal signature can pass the frame cap where a single
 * signature would not: then p is sealed again alone, so that only a
 * message that cannot fit at all fails.  On failure *frame is freed.
 */
static int add_person(struct ppxd *d, const struct pending *p, int group,
		      uint8_t **frame, size_t *frame_len)
{
	uint8_t *body = p->body;
	int rc, alone = 0;

	rc = ppx_frame_set_person(frame, frame_len, &p->signed_by);
	if (rc == PPX_ETOOBIG && group != 0) {
		free(*frame);
		*frame = NULL;
		rc = outbox_seal(d, frame, frame_len, &body, &p->len, &alone,
				 1);
		if (rc == 0)
			rc = ppx_frame_set_person(frame, frame_len,
						  &p->signed_by);
	}
	if (rc != 0) {
		free(*frame);
		*frame = NULL;
	}
	return rc;
}

/*
 * Seal n prepared messages with one round of signatures and log each as
 * SENT, in order: rc[i] and seq[i] say how each went (a failed seal fails
 * them all; a message too big for its personal signature fails alone).
 * Returns the first failure, or 0.
 */
static int seal_and_log(struct ppxd *d, struct pending *p, size_t n,
			int *rc, uint64_t *seq)
{
	uint8_t *frames[SUBMIT_QUEUE_MAX] = {0};
	uint8_t *bodies[SUBMIT_QUEUE_MAX] = {0};
	size_t frame_len[SUBMIT_QUEUE_MAX], body_len[SUBMIT_QUEUE_MAX] = {0};
	int first, group[SUBMIT_QUEUE_MAX] = {0};

	for (size_t i = 0; i < n; i++) {
		bodies[i] = p[i].body;
		body_len[i] = p[i].len;
	}
	batch_groups(d, p, n, group);
	first = outbox_seal(d, frames, frame_len, bodies, body_len, group, n);
	for (size_t i = 0; i < n; i++) {
		if (first != 0)
			rc[i] = first;
		else if (p[i].has_person &&
			 (rc[i] = add_person(d, &p[i], group[i], &frames[i],
					     &frame_len[i])) != 0)
			log_warnx("message %zu of %zu not sent: %s", i + 1, n,
				  ppx_error_last());
		else
			rc[i] = log_sent(d, &p[i], frames[i], frame_len[i],
					 &seq[i]);
		free(frames[i]);
	}
	for (size_t i = 0; first == 0 && i < n; i++)
		if (rc[i] != 0)
			first = rc[i];
	return first;
}

int submit_body(struct ppxd *d, const struct ppx_operator *op,
		const Ppx__V1__Body *in, uint8_t id_out[16], uint64_t *seq_out)
{
	struct pending p;
	int rc, again = 0;

	submit_flush(d);	/* what was queued goes first, and is seen */
	rc = prepare(d, op, in, id_out, seq_out, &again, &p);
	if (rc != 0 || again)
		return rc;
	seal_and_log(d, &p, 1, &rc, seq_out);
	pending_free(&p);
	return rc;
}

/* Whether `in` may wait in the queue behind what is queued: its checks
 * must not depend on a queued message, which is not in the log yet.
 * Notifications and disclosure decisions look nothing up in the log
 * (ppx_records_check) but their own id (check_reused) and the partner
 * records of their case (need to know): a queued partner record is
 * flushed first. */
static int may_queue_behind(const Ppx__V1__Body *in)
{
	if (in->payload_case != PPX__V1__BODY__PAYLOAD_NOTIFICATION &&
	    in->payload_case != PPX__V1__BODY__PAYLOAD_DISCLOSURE)
		return 0;
	for (size_t i = 0; i < queued; i++)
		if (queue[i].family == PPX__V1__BODY__PAYLOAD_PARTNER_RECORD ||
		    (in->message_id.len == PPX_MESSAGE_ID_LEN &&
		     memcmp(queue[i].id, in->message_id.data,
			    PPX_MESSAGE_ID_LEN) == 0))
			return 0;
	return 1;
}

/* The prepared queue[queued] joins the queue, its time noted if it is
 * the first; a full queue is sealed at once. */
static void enqueue(struct ppxd *d, submit_done_fn *done, void *arg)
{
	queue[queued].done = done;
	queue[queued].arg = arg;
	if (queued == 0)
		queued_since_ms = ppxd_now_ms();
	if (++queued == SUBMIT_QUEUE_MAX)
		submit_flush(d);
}

int submit_queue(struct ppxd *d, const struct ppx_operator *op,
		 const Ppx__V1__Body *in, submit_done_fn *done, void *arg)
{
	struct submit_result r = {0};
	uint8_t id[PPX_MESSAGE_ID_LEN];
	int rc, again = 0;

	if (queued && !may_queue_behind(in))
		submit_flush(d);
	rc = prepare(d, op, in, id, &r.seq, &again, &queue[queued]);
	if (rc != 0)
		return rc;
	if (again) {		/* answered at once: nothing to sign */
		r.id = id;
		r.recipients = in->recipients;
		r.n_recipients = in->n_recipients;
		done(d, arg, 0, &r);
		return 0;
	}
	enqueue(d, done, arg);
	return 0;
}

int submit_queue_signed(struct ppxd *d, const struct ppx_operator *op,
			const ProtobufCBinaryData *bytes,
			const Ppx__V1__PersonSignature *ps,
			submit_done_fn *done, void *arg)
{
	struct submit_result r = {0};
	uint8_t id[PPX_MESSAGE_ID_LEN];
	int rc, again = 0;

	submit_flush(d);	/* its checks see what came before */
	rc = prepare_signed(d, op, bytes, ps, id, &r.seq, &again,
			    &queue[queued]);
	if (rc != 0)
		return rc;
	if (again) {
		r.id = id;
		done(d, arg, 0, &r);
		return 0;
	}
	enqueue(d, done, arg);
	return 0;
}

/* Whether every queued message may go under a batch signature. */
static int all_batchable(struct ppxd *d)
{
	for (size_t i = 0; i < queued; i++)
		if (!batchable(d, &queue[i]))
			return 0;
	return 1;
}

void submit_flush_due(struct ppxd *d, int64_t now_ms)
{
	long wait = d->cfg->batch_sign_wait_ms;

	if (queued == 0)
		return;
	if (wait <= 0 || now_ms - queued_since_ms >= wait || now_ms <
	    queued_since_ms || !all_batchable(d))
		submit_flush(d);
}

long submit_timeout(struct ppxd *d, int64_t now_ms, long timeout)
{
	int64_t left;

	if (queued == 0)
		return timeout;
	left = queued_since_ms + d->cfg->batch_sign_wait_ms - now_ms;
	if (left < 0 || now_ms < queued_since_ms)
		left = 0;
	return timeout < 0 || left < timeout ? (long)left : timeout;
}

void submit_flush(struct ppxd *d)
{
	uint64_t seq[SUBMIT_QUEUE_MAX] = {0};
	int rc[SUBMIT_QUEUE_MAX];
	size_t n = queued;

	if (n == 0)
		return;
	queued = 0;
	if (seal_and_log(d, queue, n, rc, seq) != 0)
		log_warnx("submitted messages not all sent: %s",
			  ppx_error_last());
	for (size_t i = 0; i < n; i++) {
		struct submit_result r = {queue[i].id, seq[i],
					  queue[i].recipients,
					  queue[i].n_recipients};

		queue[i].done(d, queue[i].arg, rc[i], &r);
		pending_free(&queue[i]);
	}
}
