/*
 * inbound.c — what happens to a frame a partner sends us.
 *
 * The checks run in DESIGN.md's order and stop at the first failure:
 * size, frame, signature over the exact bytes, chain, validity, CRL (all in
 * ppx_message_open), signer = the agency the transport authenticated,
 * body, clock, recipient, policy, duplicate.  A message that passes is
 * appended to this iteration's batch as RECEIVED together with the signed
 * receipt we will send (RECEIPT_SENT); the receipt leaves only after the
 * commit.  A refusal is logged as REJECTED, counted by reason, and answered
 * with a signed receipt whose item says REFUSED and why.  A duplicate is
 * never logged again: after the commit it is answered with the receipt the
 * original got.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

#include "inbound.h"
#include "log.h"
#include "policy.h"
#include "ppx/envelope.h"
#include "ppx/error.h"
#include "ppx/receipt.h"
#include "ppxd.h"
#include "transport.h"
#include "writer.h"

#define REJECTED_DATA_MAX (64 * 1024)

/* A reply that waits for the commit. */
struct pending {
	zmq_msg_t routing;
	char agency[PPX_NAME_MAX];
	uint8_t id[PPX_MESSAGE_ID_LEN];
	uint8_t *frame;		/* receipt to send; NULL: look up original */
	size_t len;
};

const char *inbound_family_name(int payload_case)
{
	const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field(
		&ppx__v1__body__descriptor, (unsigned)payload_case);

	return f ? f->name : "";
}

static void pending_free(struct pending *p)
{
	zmq_msg_close(&p->routing);
	free(p->frame);
	free(p);
}

/* After the commit: send the receipt, or the original receipt of a
 * duplicate.  If the commit failed nothing is sent: the sender retries. */
static void send_after_commit(struct ppxd *d, void *arg, int rc)
{
	struct pending *p = arg;
	Ppx__V1__LogEntry *orig = NULL;
	uint64_t seq;

	if (rc == 0 && p->frame) {
		transport_reply(d->transport, &p->routing, p->frame, p->len);
	} else if (rc == 0 &&
		   ppx_log_find(d->log, PPX__V1__ENTRY_KIND__ENTRY_RECEIPT_SENT,
				p->agency, p->id, sizeof(p->id), &seq) == 0 &&
		   ppx_log_get(d->log, seq, &orig) == 0) {
		transport_reply(d->transport, &p->routing, orig->data.data,
				orig->data.len);
	} else if (rc == 0) {
		log_warnx("no original receipt to answer a duplicate from %s",
			  p->agency);
	}
	if (orig)
		ppx__v1__log_entry__free_unpacked(orig, NULL);
	pending_free(p);
}

static int defer_reply(struct ppxd *d, zmq_msg_t *routing, const char *agency,
		       const uint8_t *id, uint8_t *frame, size_t len)
{
	struct pending *p = calloc(1, sizeof(*p));

	if (!p) {
		free(frame);
		return ppx_error_set(PPX_ENOMEM, "out of memory");
	}
	zmq_msg_init(&p->routing);
	zmq_msg_copy(&p->routing, routing);
	snprintf(p->agency, sizeof(p->agency), "%s", agency);
	if (id)
		memcpy(p->id, id, sizeof(p->id));
	p->frame = frame;
	p->len = len;
	if (writer_after(d, send_after_commit, p) != 0) {
		pending_free(p);
		return PPX_ENOMEM;
	}
	return 0;
}

/* Seal a one-item receipt to `agency`. */
static int seal_receipt(struct ppxd *d, uint8_t **out, size_t *len,
			const char *agency, Ppx__V1__ReceiptItem *item)
{
	Ppx__V1__ReceiptBody r = PPX__V1__RECEIPT_BODY__INIT;
	Ppx__V1__ReceiptItem *items[] = {item};

	r.receiver_agency = d->cfg->agency;
	r.sender_agency = (char *)agency;
	r.time_ms = ppxd_now_ms();
	r.n_items = 1;
	r.items = items;
	return ppx_receipt_seal(out, len, d->signer, &r);
}

/* What a refused frame can be named by: its body hash (of the raw frame if
 * it has no body) and, if the body decodes, its (unverified) message id. */
static void refusal_names(const uint8_t *data, size_t len,
			  uint8_t hash[PPX_HASH_LEN], uint8_t *id, int *has_id)
{
	Ppx__V1__Frame *f = NULL;
	Ppx__V1__Body *b;

	*has_id = 0;
	if (ppx_frame_decode(&f, data, len) != 0 || !f->message) {
		ppx_sha256(hash, data, len < PPX_FRAME_MAX ? len : PPX_FRAME_MAX);
		if (f)
			ppx__v1__frame__free_unpacked(f, NULL);
		return;
	}
	ppx_sha256(hash, f->message->signed_body.data,
		   f->message->signed_body.len);
	b = ppx__v1__body__unpack(NULL, f->message->signed_body.len,
				  f->message->signed_body.data);
	if (b && b->message_id.len == PPX_MESSAGE_ID_LEN) {
		memcpy(id, b->message_id.data, PPX_MESSAGE_ID_LEN);
		*has_id = 1;
	}
	if (b)
		ppx__v1__body__free_unpacked(b, NULL);
	ppx__v1__frame__free_unpacked(f, NULL);
}

/* Log a refusal, count it, and answer it after the commit. */
static void refuse(struct ppxd *d, zmq_msg_t *routing, const char *agency,
		   const uint8_t *data, size_t len, int code)
{
	Ppx__V1__ReceiptItem it = PPX__V1__RECEIPT_ITEM__INIT;
	Ppx__V1__LogEntry e = PPX__V1__LOG_ENTRY__INIT;
	uint8_t hash[PPX_HASH_LEN], id[PPX_MESSAGE_ID_LEN], *receipt = NULL;
	char detail[256];
	size_t rlen = 0;
	uint64_t seq;
	int has_id;

	snprintf(detail, sizeof(detail), "%s", ppx_error_last());
	log_warnx("refused a frame from %s: %s", agency[0] ? agency : "?",
		  detail);
	ppxd_count_refusal(d, code);
	refusal_names(data, len, hash, id, &has_id);
	e.kind = PPX__V1__ENTRY_KIND__ENTRY_REJECTED;
	e.peer_agency = (char *)agency;
	e.message_id.data = has_id ? id : NULL;
	e.message_id.len = has_id ? sizeof(id) : 0;
	e.data.data = (uint8_t *)data;
	e.data.len = len < REJECTED_DATA_MAX ? len : REJECTED_DATA_MAX;
	e.reason = ppx_error_reject_reason(code);
	e.detail = detail;
	if (code != PPX_EFULL && writer_append(d, &e, &seq) != 0)
		log_warnx("cannot log the refusal: %s", ppx_error_last());
	it.body_hash.data = hash;
	it.body_hash.len = sizeof(hash);
	it.message_id = e.message_id;
	it.status = PPX__V1__RECEIPT_STATUS__REFUSED;
	it.reason = e.reason;
	it.detail = detail;
	if (seal_receipt(d, &receipt, &rlen, agency, &it) == 0)
		defer_reply(d, routing, agency, NULL, receipt, rlen);
}

static int is_recipient(const Ppx__V1__Body *b, const char *us)
{
	for (size_t i = 0; i < b->n_recipients; i++)
		if (strcmp(b->recipients[i], us) == 0)
			return 1;
	return 0;
}

/* Clock, recipient and policy: checks after the signature holds. */
static int check_accept(struct ppxd *d, const ppx_opened *o)
{
	const Ppx__V1__Body *b = o->body;
	struct policy_query q = {0};
	char **keys = NULL;
	size_t n = 0;
	int rc;

	if (b->created_ms > ppxd_now_ms() + d->cfg->clock_skew_ms)
		return ppx_error_set(PPX_EBODY,
				     "message from %s is dated %lld ms in the "
				     "future: check the sender's clock",
				     o->signer.agency,
				     (long long)(b->created_ms - ppxd_now_ms()));
	if (!is_recipient(b, d->cfg->agency))
		return ppx_error_set(PPX_ENOTRECIPIENT,
				     "message from %s does not name %s among "
				     "its recipients",
				     o->signer.agency, d->cfg->agency);
	rc = policy_subject_keys(&keys, &n, b->subject);
	if (rc != 0)
		return rc;
	q.from = o->signer.agency;
	q.to = d->cfg->agency;
	q.family = (int)b->payload_case;
	q.kind = b->payload_case == PPX__V1__BODY__PAYLOAD_NOTIFICATION
			 ? (int)b->notification->kind
			 : 0;
	q.marking = (int)b->marking;
	q.counter_terrorism = b->counter_terrorism;
	q.subjects = (const char *const *)keys;
	q.n_subjects = n;
	rc = policy_check(d->policy, &q);
	policy_subject_keys_free(keys, n);
	return rc;
}

/* Log an accepted message and its receipt in this iteration's batch. */
static int accept_message(struct ppxd *d, zmq_msg_t *routing,
			  const char *agency, const uint8_t *data, size_t len,
			  const ppx_opened *o)
{
	const Ppx__V1__Body *b = o->body;
	Ppx__V1__LogEntry e = PPX__V1__LOG_ENTRY__INIT;
	Ppx__V1__ReceiptItem it = PPX__V1__RECEIPT_ITEM__INIT;
	char **keys = NULL;
	uint8_t *receipt = NULL;
	size_t n = 0, rlen = 0;
	uint64_t seq = 0;
	int rc;

	if (policy_subject_keys(&keys, &n, b->subject) != 0)
		return PPX_ENOMEM;
	e.kind = PPX__V1__ENTRY_KIND__ENTRY_RECEIVED;
	e.peer_agency = (char *)agency;
	e.message_id = b->message_id;
	e.person = b->sender_person->id;
	e.data.data = (uint8_t *)data;
	e.data.len = len;
	e.subject_keys = keys;
	e.n_subject_keys = n;
	e.family = (char *)inbound_family_name((int)b->payload_case);
	rc = writer_append(d, &e, &seq);
	policy_subject_keys_free(keys, n);
	if (rc == PPX_EDUP)	/* answered with the original receipt */
		return defer_reply(d, routing, agency, b->message_id.data,
				   NULL, 0);
	if (rc != 0)
		return rc;
	it.body_hash.data = (uint8_t *)o->body_hash;
	it.body_hash.len = PPX_HASH_LEN;
	it.message_id = b->message_id;
	it.status = PPX__V1__RECEIPT_STATUS__STORED;
	it.log_seq = seq;
	rc = seal_receipt(d, &receipt, &rlen, agency, &it);
	if (rc != 0)
		return rc;
	memset(&e, 0, sizeof(e));
	ppx__v1__log_entry__init(&e);
	e.kind = PPX__V1__ENTRY_KIND__ENTRY_RECEIPT_SENT;
	e.peer_agency = (char *)agency;
	e.message_id = b->message_id;
	e.data.data = receipt;
	e.data.len = rlen;
	rc = writer_append(d, &e, &seq);
	if (rc != 0) {
		free(receipt);
		return rc;
	}
	return defer_reply(d, routing, agency, NULL, receipt, rlen);
}

static void handle_frame(struct ppxd *d, zmq_msg_t *routing, zmq_msg_t *frame,
			 const char *agency)
{
	const uint8_t *data = zmq_msg_data(frame);
	size_t len = zmq_msg_size(frame);
	ppx_opened *o = NULL;
	int rc;

	rc = ppx_message_open(&o, d->trust, data, len, agency, time(NULL));
	if (rc == 0)
		rc = check_accept(d, o);
	if (rc == 0) {
		rc = accept_message(d, routing, agency, data, len, o);
		if (rc != 0)
			log_warnx("cannot store a message from %s: %s", agency,
				  ppx_error_last());
		if (rc == PPX_EFULL || rc == PPX_EIO || rc == PPX_ENOMEM)
			rc = PPX_EFULL;
	}
	if (rc != 0)
		refuse(d, routing, agency, data, len, rc);
	ppx_opened_free(o);
}

size_t inbound_drain(struct ppxd *d, size_t max)
{
	char agency[PPX_NAME_MAX];
	zmq_msg_t routing, frame;
	size_t n = 0;

	while (n < max &&
	       transport_recv(d->transport, &routing, &frame, agency) == 0) {
		handle_frame(d, &routing, &frame, agency);
		zmq_msg_close(&routing);
		zmq_msg_close(&frame);
		n++;
	}
	return n;
}
