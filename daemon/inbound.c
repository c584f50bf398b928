/*
 * inbound.c — what happens to a frame a partner sends us.
 *
 * The checks run in DESIGN.md's order and stop at the first failure:
 * size, frame, signature over the exact bytes, chain, validity, CRL (all in
 * ppx_message_open), signer = the agency the transport authenticated,
 * body, clock, recipient, policy, the domain rules of its family
 * (lib/domain.c) and what needs our log (records.c: a partner record
 * update not based on the latest version we hold is refused as
 * REJECT_CONFLICT, a change to a field its sender does not own as
 * REJECT_POLICY), duplicate (a byte-identical copy of a message stored
 * under its sender and id; another body under them is refused as
 * REJECT_ID_REUSED).  A message that passes is
 * appended to this iteration's batch as RECEIVED; a refusal is logged as
 * REJECTED and counted by reason.  Every frame drained from one connection
 * in one iteration is then answered by ONE signed receipt listing an item
 * per frame (STORED with its log position, or REFUSED and why), logged as
 * RECEIPT_SENT in the same commit and sent only after it: one signature
 * per burst instead of one per message.  A duplicate is never logged
 * again: after the commit it is answered with the receipt the original
 * got, found through the message-id index.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

#include "inbound.h"
#include "log.h"
#include "policy.h"
#include "ppx/domain.h"
#include "ppx/envelope.h"
#include "ppx/error.h"
#include "ppx/receipt.h"
#include "ppxd.h"
#include "records.h"
#include "transport.h"
#include "writer.h"

#define REJECTED_DATA_MAX (64 * 1024)

#define GROUPS_MAX 64	/* connections answered per iteration */

/* One item of the receipt a connection will get. */
struct item {
	uint8_t hash[PPX_HASH_LEN];
	uint8_t id[PPX_MESSAGE_ID_LEN];
	int has_id;
	int status;		/* Ppx__V1__ReceiptStatus */
	uint64_t seq;
	int reason;		/* Ppx__V1__RejectReason */
	char detail[200];
};

/* The frames drained from one connection in this iteration. */
struct group {
	zmq_msg_t routing;
	char agency[PPX_NAME_MAX];
	struct item *items;
	size_t n, cap;
};

struct drain {
	struct group g[GROUPS_MAX];
	size_t n;
};

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

/* The RECEIPT_SENT entry that answered message `id` from `agency`: the
 * first receipt to that agency about the id after the message's RECEIVED
 * entry (they commit together).  A later one may be a refusal of another
 * body under the same id, an earlier one a refusal before the message
 * was stored. */
static int original_receipt(struct ppxd *d, const char *agency,
			    const uint8_t *id, Ppx__V1__LogEntry **out)
{
	uint64_t *seqs = NULL, stored = 0;
	size_t n = 0;
	int rc = ppx_log_find(d->log, PPX__V1__ENTRY_KIND__ENTRY_RECEIVED,
			      agency, id, PPX_MESSAGE_ID_LEN, &stored);

	*out = NULL;
	if (rc == 0)
		rc = ppx_log_by_message(d->log, id, PPX_MESSAGE_ID_LEN, &seqs,
					&n, 4096);
	for (size_t i = 0; rc == 0 && i < n && !*out; i++) {
		Ppx__V1__LogEntry *e = NULL;

		if (seqs[i] <= stored || ppx_log_get(d->log, seqs[i], &e) != 0)
			continue;
		if (e->kind == PPX__V1__ENTRY_KIND__ENTRY_RECEIPT_SENT &&
		    strcmp(e->peer_agency, agency) == 0)
			*out = e;
		else
			ppx__v1__log_entry__free_unpacked(e, NULL);
	}
	free(seqs);
	return *out ? 0 : PPX_ENOTFOUND;
}

/* After the commit: send the receipt, or the original receipt of a
 * duplicate.  If the commit failed nothing is sent: the sender retries. */
static void send_after_commit(struct ppxd *d, void *arg, int rc)
{
	struct pending *p = arg;
	Ppx__V1__LogEntry *orig = NULL;

	if (rc == 0 && p->frame) {
		transport_reply(d->transport, &p->routing, p->frame, p->len);
	} else if (rc == 0 && original_receipt(d, p->agency, p->id, &orig) == 0) {
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

/* The group of the connection behind `routing`, or NULL if there are
 * too many connections this iteration (the frame then waits). */
static struct group *group_for(struct drain *dr, zmq_msg_t *routing,
			       const char *agency)
{
	struct group *g;

	for (size_t i = 0; i < dr->n; i++) {
		g = &dr->g[i];
		if (zmq_msg_size(&g->routing) == zmq_msg_size(routing) &&
		    memcmp(zmq_msg_data(&g->routing), zmq_msg_data(routing),
			   zmq_msg_size(routing)) == 0)
			return g;
	}
	if (dr->n == GROUPS_MAX)
		return NULL;
	g = &dr->g[dr->n++];
	memset(g, 0, sizeof(*g));
	zmq_msg_init(&g->routing);
	zmq_msg_copy(&g->routing, routing);
	snprintf(g->agency, sizeof(g->agency), "%s", agency);
	return g;
}

static struct item *item_add(struct group *g)
{
	if (g->n == g->cap) {
		size_t cap = g->cap ? 2 * g->cap : 64;
		struct item *it = realloc(g->items, cap * sizeof(*it));

		if (!it)
			return NULL;
		g->items = it;
		g->cap = cap;
	}
	memset(&g->items[g->n], 0, sizeof(g->items[0]));
	return &g->items[g->n++];
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

/* Log a refusal, count it, and list it in the connection's receipt. */
static void refuse(struct ppxd *d, struct group *g, const uint8_t *data,
		   size_t len, int code)
{
	Ppx__V1__LogEntry e = PPX__V1__LOG_ENTRY__INIT;
	struct item *it = item_add(g);
	struct item scratch;
	uint64_t seq;

	if (!it)
		it = &scratch;	/* logged, but not answered: the sender retries */
	snprintf(it->detail, sizeof(it->detail), "%s", ppx_error_last());
	log_warnx("refused a frame from %s: %s", g->agency[0] ? g->agency : "?",
		  it->detail);
	ppxd_count_refusal(d, code);
	refusal_names(data, len, it->hash, it->id, &it->has_id);
	it->status = PPX__V1__RECEIPT_STATUS__REFUSED;
	it->reason = ppx_error_reject_reason(code);
	e.kind = PPX__V1__ENTRY_KIND__ENTRY_REJECTED;
	e.peer_agency = g->agency;
	e.message_id.data = it->has_id ? it->id : NULL;
	e.message_id.len = it->has_id ? sizeof(it->id) : 0;
	e.data.data = (uint8_t *)data;
	e.data.len = len < REJECTED_DATA_MAX ? len : REJECTED_DATA_MAX;
	e.reason = it->reason;
	e.detail = it->detail;
	if (code != PPX_EFULL && writer_append(d, &e, &seq) != 0)
		log_warnx("cannot log the refusal: %s", ppx_error_last());
}

static int is_recipient(const Ppx__V1__Body *b, const char *us)
{
	for (size_t i = 0; i < b->n_recipients; i++)
		if (strcmp(b->recipients[i], us) == 0)
			return 1;
	return 0;
}

/* Clock, recipient, policy and the domain: checks after the signature
 * holds. */
static int check_accept(struct ppxd *d, const ppx_opened *o)
{
	const Ppx__V1__Body *b = o->body;
	struct policy_query q = {0};
	char **keys = NULL;
	size_t n = 0;
	int rc;

	if (b->created_ms > ppxd_now_ms() + d->cfg->clock_skew_ms)
		return ppx_error_set(PPX_ESKEW,
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
	if (rc == 0)
		rc = ppx_domain_check(b, o->signer.agency);
	if (rc == 0)
		rc = records_check(d->log, b, o->signer.agency, 0);
	return rc;
}

/*
 * A copy of a message stored at `seq` (same sender, same id) is the same
 * message only if it is the same signed body, byte for byte: then it gets
 * the original receipt.  Another body under the id is refused as
 * REJECT_ID_REUSED and logged as such; answering it with the original
 * receipt would settle nothing (its body_hash differs) and leave its
 * sender resending for ever.
 */
static int same_body(struct ppxd *d, uint64_t seq, const ppx_opened *o)
{
	Ppx__V1__LogEntry *e = NULL;
	Ppx__V1__Frame *f = NULL;
	uint8_t hash[PPX_HASH_LEN];
	char hex[2 * PPX_MESSAGE_ID_LEN + 1];
	int rc = ppx_log_get(d->log, seq, &e);

	if (rc == 0 && (rc = ppx_frame_decode(&f, e->data.data,
					      e->data.len)) == 0 &&
	    !f->message)
		rc = ppx_error_set(PPX_ECORRUPT, "entry %llu holds no message",
				   (unsigned long long)seq);
	if (rc == 0) {
		ppx_sha256(hash, f->message->signed_body.data,
			   f->message->signed_body.len);
		ppx_hex(hex, o->body->message_id.data, PPX_MESSAGE_ID_LEN);
		if (memcmp(hash, o->body_hash, PPX_HASH_LEN) != 0)
			rc = ppx_error_set(PPX_EREUSED, "message id %s from %s "
					   "is stored here (entry %llu) with "
					   "another body: an id names one "
					   "message; send this one under a new "
					   "id", hex, o->signer.agency,
					   (unsigned long long)seq);
	}
	if (f)
		ppx__v1__frame__free_unpacked(f, NULL);
	if (e)
		ppx__v1__log_entry__free_unpacked(e, NULL);
	return rc;
}

/* Log an accepted message in this iteration's batch and list it in the
 * connection's receipt. */
static int accept_message(struct ppxd *d, struct group *g, const uint8_t *data,
			  size_t len, const ppx_opened *o)
{
	const Ppx__V1__Body *b = o->body;
	Ppx__V1__LogEntry e = PPX__V1__LOG_ENTRY__INIT;
	const char *agency = g->agency;
	struct item *it;
	char **keys = NULL;
	size_t n = 0;
	uint64_t seq = 0;
	int rc;

	if (records_subject_keys(&keys, &n, b) != 0)
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
	if (rc == PPX_EDUP && (rc = same_body(d, seq, o)) == 0)
		/* answered with the original receipt */
		return defer_reply(d, &g->routing, agency, b->message_id.data,
				   NULL, 0);
	if (rc != 0)
		return rc;
	if (!(it = item_add(g)))
		return ppx_error_set(PPX_ENOMEM, "out of memory");
	memcpy(it->hash, o->body_hash, sizeof(it->hash));
	memcpy(it->id, b->message_id.data, sizeof(it->id));
	it->has_id = 1;
	it->status = PPX__V1__RECEIPT_STATUS__STORED;
	it->seq = seq;
	return 0;
}

/* Seal the connection's receipt, log it with every message id it answers,
 * and send it after the commit. */
static void answer_group(struct ppxd *d, struct group *g)
{
	Ppx__V1__ReceiptBody r = PPX__V1__RECEIPT_BODY__INIT;
	Ppx__V1__LogEntry e = PPX__V1__LOG_ENTRY__INIT;
	Ppx__V1__ReceiptItem *iv = calloc(g->n, sizeof(*iv));
	Ppx__V1__ReceiptItem **ip = calloc(g->n, sizeof(*ip));
	ProtobufCBinaryData *ids = calloc(g->n, sizeof(*ids));
	uint8_t *receipt = NULL;
	size_t len = 0;
	uint64_t seq;
	int rc = iv && ip && ids ? 0 : PPX_ENOMEM;

	for (size_t i = 0; rc == 0 && i < g->n; i++) {
		struct item *it = &g->items[i];

		ppx__v1__receipt_item__init(&iv[i]);
		iv[i].body_hash.data = it->hash;
		iv[i].body_hash.len = sizeof(it->hash);
		iv[i].message_id.data = it->has_id ? it->id : NULL;
		iv[i].message_id.len = it->has_id ? sizeof(it->id) : 0;
		iv[i].status = it->status;
		iv[i].log_seq = it->seq;
		iv[i].reason = it->reason;
		iv[i].detail = it->detail;
		ip[i] = &iv[i];
		if (it->has_id)
			ids[e.n_related_ids++] = iv[i].message_id;
	}
	r.receiver_agency = d->cfg->agency;
	r.sender_agency = g->agency;
	r.time_ms = ppxd_now_ms();
	r.n_items = g->n;
	r.items = ip;
	if (rc == 0)
		rc = ppx_receipt_seal(&receipt, &len, d->signer, &r);
	e.kind = PPX__V1__ENTRY_KIND__ENTRY_RECEIPT_SENT;
	e.peer_agency = g->agency;
	e.related_ids = ids;
	e.data.data = receipt;
	e.data.len = len;
	if (rc == 0)
		rc = writer_append(d, &e, &seq);
	if (rc == 0)
		rc = defer_reply(d, &g->routing, g->agency, NULL, receipt, len);
	else
		free(receipt);
	if (rc != 0)
		log_warnx("cannot answer %zu frames from %s: %s", g->n,
			  g->agency, ppx_error_last());
	free(iv);
	free(ip);
	free(ids);
}

static void handle_frame(struct ppxd *d, struct group *g, zmq_msg_t *frame)
{
	const uint8_t *data = zmq_msg_data(frame);
	size_t len = zmq_msg_size(frame);
	const char *agency = g->agency;
	ppx_opened *o = NULL;
	int rc;

	rc = ppx_message_open(&o, d->trust, data, len, agency, time(NULL));
	if (rc == 0)
		rc = check_accept(d, o);
	if (rc == 0) {
		rc = accept_message(d, g, data, len, o);
		if (rc != 0 && rc != PPX_EREUSED)
			log_warnx("cannot store a message from %s: %s", agency,
				  ppx_error_last());
		if (rc == PPX_EFULL || rc == PPX_EIO || rc == PPX_ENOMEM)
			rc = PPX_EFULL;
	}
	if (rc != 0)
		refuse(d, g, data, len, rc);
	ppx_opened_free(o);
}

size_t inbound_drain(struct ppxd *d, size_t max)
{
	static struct drain dr;	/* large; one drain at a time */
	char agency[PPX_NAME_MAX];
	zmq_msg_t routing, frame;
	size_t n = 0;

	while (n < max &&
	       transport_recv(d->transport, &routing, &frame, agency) == 0) {
		struct group *g = group_for(&dr, &routing, agency);

		if (g)
			handle_frame(d, g, &frame);
		else
			log_warnx("too many connections in one iteration: a "
				  "frame from %s is dropped and will be resent",
				  agency);
		zmq_msg_close(&routing);
		zmq_msg_close(&frame);
		n++;
	}
	for (size_t i = 0; i < dr.n; i++) {
		if (dr.g[i].n > 0)
			answer_group(d, &dr.g[i]);
		zmq_msg_close(&dr.g[i].routing);
		free(dr.g[i].items);
	}
	dr.n = 0;
	return n;
}
