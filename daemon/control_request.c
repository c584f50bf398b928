/*
 * control_request.c — one control request answered: the bytes of a
 * ControlRequest and who sent it in, the bytes of a ControlReply out.
 *
 * Where it sits: control.c moves bytes between the control socket and
 * control_handle(); nothing here knows of ZeroMQ, so the handling is
 * tested on its own (tests/unit/test_control.c).  A request is checked
 * first (it decodes, speaks PPX_CONTROL_VERSION, its strings are text),
 * then dispatched: a submit goes through submit.c as the operator the
 * caller's uid maps to, status and message state are answered from the
 * daemon's state and the log, and a hook decision goes to hooks.c.  A
 * personally signed message is two submits (docs/PROTOCOL.md 3.2): a
 * prepare, answered at once with the body's bytes, then those bytes
 * signed by the person.  A review of an emergency access goes to
 * review.c.  A submit's, a hook decision's and a review's reply follows the commit of this loop
 * iteration (writer_after), so that no caller is told of something the
 * disk does not yet hold; every other reply goes at once.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "budget.h"
#include "control.h"
#include "federation.h"
#include "hooks.h"
#include "partners.h"
#include "log.h"
#include "logaudit.h"
#include "outbox.h"
#include "expiry.h"
#include "reload.h"
#include "reads.h"
#include "restore.h"
#include "ppx/control.h"
#include "ppx/entry.h"
#include "ppx/envelope.h"
#include "ppx/error.h"
#include "ppx/text.h"
#include "review.h"
#include "state.h"
#include "stats.h"
#include "submit.h"
#include "transport.h"
#include "witness.h"
#include "writer.h"

/* Pack `reply` and hand it to where it goes; a reply that cannot be
 * packed for want of memory is dropped (the client times out). */
static void send_reply(struct ppxd *d, const struct control_reply_to *to,
		       Ppx__V1__ControlReply *reply)
{
	size_t len = ppx__v1__control_reply__get_packed_size(reply);
	uint8_t *buf = malloc(len ? len : 1);

	if (!buf)
		return;
	ppx__v1__control_reply__pack(reply, buf);
	to->send(d, to->arg, buf, len);
	free(buf);
}

static void send_error(struct ppxd *d, const struct control_reply_to *to,
		       int code)
{
	Ppx__V1__ControlReply reply = PPX__V1__CONTROL_REPLY__INIT;

	reply.version = PPX_CONTROL_VERSION;
	reply.code = code;
	reply.error = (char *)ppx_error_last();
	send_reply(d, to, &reply);
}

static void release(const struct control_reply_to *to)
{
	if (to->release)
		to->release(to->arg);
}

/* A submit waiting for the commit. */
struct submitted {
	struct control_reply_to to;
	uint8_t id[PPX_MESSAGE_ID_LEN];
	uint64_t seq;
	char **recipients;
	size_t n;
};

static void submitted_free(struct submitted *s)
{
	release(&s->to);
	for (size_t i = 0; i < s->n; i++)
		free(s->recipients[i]);
	free(s->recipients);
	free(s);
}

/* Answer with the message id, its log position and each delivery. */
static void reply_state(struct ppxd *d, const struct control_reply_to *to,
			const uint8_t *id, uint64_t seq,
			char *const *recipients, size_t n)
{
	Ppx__V1__ControlReply reply = PPX__V1__CONTROL_REPLY__INIT;
	Ppx__V1__SubmitReply sr = PPX__V1__SUBMIT_REPLY__INIT;
	Ppx__V1__Delivery *dv = calloc(n ? n : 1, sizeof(*dv));
	Ppx__V1__Delivery **dp = calloc(n ? n : 1, sizeof(*dp));

	if (!dv || !dp) {
		free(dv);
		free(dp);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		ppx__v1__delivery__init(&dv[i]);
		outbox_delivery(d, id, recipients[i], &dv[i]);
		dp[i] = &dv[i];
	}
	sr.message_id.data = (uint8_t *)id;
	sr.message_id.len = PPX_MESSAGE_ID_LEN;
	sr.log_seq = seq;
	sr.n_deliveries = n;
	sr.deliveries = dp;
	reply.version = PPX_CONTROL_VERSION;
	reply.reply_case = PPX__V1__CONTROL_REPLY__REPLY_SUBMIT;
	reply.submit = &sr;
	send_reply(d, to, &reply);
	free(dv);
	free(dp);
}

static void submitted_after_commit(struct ppxd *d, void *arg, int rc)
{
	struct submitted *s = arg;

	if (rc == 0)
		reply_state(d, &s->to, s->id, s->seq, s->recipients, s->n);
	else
		send_error(d, &s->to, rc);
	submitted_free(s);
}

/* Answer the submit of `b` (its id completed) after the commit; on
 * success the reply is the commit's to send, and to->arg its to free. */
static int defer_submit_reply(struct ppxd *d, const struct control_reply_to *to,
			      const Ppx__V1__Body *b, uint64_t seq)
{
	struct submitted *s = calloc(1, sizeof(*s));

	if (!s || !(s->recipients = calloc(b->n_recipients, sizeof(char *)))) {
		free(s);
		return ppx_error_set(PPX_ENOMEM, "out of memory");
	}
	memcpy(s->id, b->message_id.data, PPX_MESSAGE_ID_LEN);
	s->seq = seq;
	for (; s->n < b->n_recipients; s->n++)
		if (!(s->recipients[s->n] = strdup(b->recipients[s->n])))
			break;
	/* s->to stays empty until the commit has s: until then to->arg
	 * is the caller's to release. */
	if (s->n < b->n_recipients ||
	    writer_after(d, submitted_after_commit, s) != 0) {
		submitted_free(s);
		return ppx_error_set(PPX_ENOMEM, "out of memory");
	}
	s->to = *to;
	return 0;
}

/* A queued submit sealed and logged (or not): its reply waits for the
 * commit.  `arg` is the request's reply handle, copied by submit(). */
static void submit_done(struct ppxd *d, void *arg, int rc,
			const struct submit_result *r)
{
	struct control_reply_to *to = arg;
	Ppx__V1__Body b = PPX__V1__BODY__INIT;

	if (rc == 0) {
		b.message_id.data = (uint8_t *)r->id;
		b.message_id.len = PPX_MESSAGE_ID_LEN;
		b.recipients = (char **)r->recipients;
		b.n_recipients = r->n_recipients;
		rc = defer_submit_reply(d, to, &b, r->seq);
	}
	if (rc != 0) {
		log_warnx("control submit not sent: %s", ppx_error_last());
		send_error(d, to, rc);
		release(to);
	}
	free(to);
}

/* A submit from operator `op`: checked now, sealed with the rest of this
 * drain's submits (submit_queue), answered after the commit. */
static int submit(struct ppxd *d, const struct control_reply_to *to,
		  const struct ppx_operator *op, const Ppx__V1__Body *in)
{
	struct control_reply_to *copy;
	int rc;

	if (!op)
		return ppx_error_set(PPX_EPERM, "caller is not an operator");
	if (!(copy = malloc(sizeof(*copy))))
		return ppx_error_set(PPX_ENOMEM, "out of memory");
	*copy = *to;
	rc = submit_queue(d, op, in, submit_done, copy);
	if (rc != 0)
		free(copy);	/* refused now: control_handle answers */
	return rc;
}

/* A prepare: the completed body's bytes, at once; nothing is logged. */
static int submit_prepared(struct ppxd *d, const struct control_reply_to *to,
			   const struct ppx_operator *op,
			   const Ppx__V1__SubmitRequest *r)
{
	Ppx__V1__ControlReply reply = PPX__V1__CONTROL_REPLY__INIT;
	Ppx__V1__SubmitReply sr = PPX__V1__SUBMIT_REPLY__INIT;
	Ppx__V1__Body *b;
	uint8_t *bytes = NULL;
	size_t len = 0;
	int rc;

	if (!op)
		return ppx_error_set(PPX_EPERM, "caller is not an operator");
	if (!r->body)
		return ppx_error_set(PPX_EINVAL, "a prepare carries a body");
	rc = submit_prepare(d, op, r->body, r->person_cert.len
			    ? r->person_cert.data : NULL, r->person_cert.len,
			    &bytes, &len);
	if (rc != 0)
		return rc;
	b = ppx__v1__body__unpack(NULL, len, bytes);
	if (b) {
		sr.message_id = b->message_id;
		sr.prepared_body.data = bytes;
		sr.prepared_body.len = len;
		reply.version = PPX_CONTROL_VERSION;
		reply.reply_case = PPX__V1__CONTROL_REPLY__REPLY_SUBMIT;
		reply.submit = &sr;
		send_reply(d, to, &reply);
		release(to);
		ppx__v1__body__free_unpacked(b, NULL);
	}
	free(bytes);
	return b ? 0 : ppx_error_set(PPX_ENOMEM, "out of memory");
}

/* The prepared bytes signed by the person: checked now, sealed with the
 * drain's submits, answered after the commit. */
static int submit_signed(struct ppxd *d, const struct control_reply_to *to,
			 const struct ppx_operator *op,
			 const Ppx__V1__SubmitRequest *r)
{
	struct control_reply_to *copy;
	int rc;

	if (!op)
		return ppx_error_set(PPX_EPERM, "caller is not an operator");
	if (!r->person)
		return ppx_error_set(PPX_EINVAL, "signed_body without the "
				     "personal signature");
	if (!(copy = malloc(sizeof(*copy))))
		return ppx_error_set(PPX_ENOMEM, "out of memory");
	*copy = *to;
	rc = submit_queue_signed(d, op, &r->signed_body, r->person,
				 submit_done, copy);
	if (rc != 0)
		free(copy);
	return rc;
}

/* A SubmitRequest, in whichever of its three forms. */
static int submit_request(struct ppxd *d, const struct control_reply_to *to,
			  const struct ppx_operator *op,
			  const Ppx__V1__SubmitRequest *r)
{
	if (r->prepare)
		return submit_prepared(d, to, op, r);
	if (r->signed_body.len != 0 && !r->body)
		return submit_signed(d, to, op, r);
	if (!r->body || r->signed_body.len || r->person)
		return ppx_error_set(PPX_EINVAL, "a submit carries a body, or "
				     "signed_body with its person");
	return submit(d, to, op, r->body);
}

/* The partner's budgets (budget.c): refusals in the window, a block,
 * the log bytes charged in the last hour and its quota. */
static void status_budget(struct ppxd *d, Ppx__V1__PartnerStatus *ps)
{
	struct budget_view v;

	budget_view(d->budget, ps->agency, ppxd_now_ms(), &v);
	ps->refusals_window = v.refusals_window;
	ps->blocked_until_ms = v.blocked_until_ms;
	ps->log_bytes_hour = v.log_bytes_hour;
	ps->log_quota_bytes_hour = v.log_quota_bytes_hour;
	ps->blocked_episodes = v.blocked_episodes;
}

/* One partner's line of the status: its link, outbox and budgets. */
static void status_partner(struct ppxd *d, size_t i,
			   Ppx__V1__PartnerStatus *ps)
{
	struct outbox_stats st;

	outbox_stats(d, i, &st);
	ppx__v1__partner_status__init(ps);
	ps->agency = (char *)transport_link_agency(d->transport, i);
	ps->connected = transport_link_up(d->transport, i);
	ps->outbox_depth = st.depth;
	ps->last_receipt_ms = st.last_receipt_ms;
	ps->sent = st.sent;
	ps->delivered = st.delivered;
	ps->refused = st.refused;
	ps->next_retry_ms = st.next_retry_ms;
	status_budget(d, ps);
	for (size_t k = 0; ps->agency && k < d->cfg->n_partners; k++)
		if (strcmp(d->cfg->partners[k].name, ps->agency) == 0 &&
		    partners_status(d, k, ps) != 0)
			log_warnx("status of %s: %s", ps->agency,
				  ppx_error_last());
}

static void status(struct ppxd *d, const struct control_reply_to *to)
{
	Ppx__V1__ControlReply reply = PPX__V1__CONTROL_REPLY__INIT;
	Ppx__V1__StatusReply sr = PPX__V1__STATUS_REPLY__INIT;
	size_t n = transport_links(d->transport);
	Ppx__V1__PartnerStatus ps[n ? n : 1], *pp[n ? n : 1];
	Ppx__V1__ReasonCount rc[PPXD_REASONS], *rp[PPXD_REASONS];
	const char *listen_error = "";

	for (size_t i = 0; i < n; i++) {
		status_partner(d, i, &ps[i]);
		pp[i] = &ps[i];
	}
	for (int r = 0; r < PPXD_REASONS; r++)
		if (d->refusals[r]) {
			ppx__v1__reason_count__init(&rc[sr.n_refusals]);
			rc[sr.n_refusals].reason = r;
			rc[sr.n_refusals].count = d->refusals[r];
			rp[sr.n_refusals] = &rc[sr.n_refusals];
			sr.n_refusals++;
		}
	sr.agency = d->cfg->agency;
	sr.log_size = ppx_log_size(d->log);
	sr.n_partners = n;
	sr.partners = pp;
	sr.refusals = rp;
	sr.started_ms = d->started_ms;
	sr.restored_ms = restore_last_ms(d);
	sr.listening = transport_listening(d->transport, &listen_error);
	sr.listen_error = (char *)listen_error;
	hooks_status(d, &sr);
	witness_status(d, &sr);
	federation_status(d, &sr.directory);
	stats_status(d, &sr);
	expiry_status(d, &sr);	/* certificates, CRL, warnings */
	logaudit_status(d, &sr);
	reply.version = PPX_CONTROL_VERSION;
	reply.reply_case = PPX__V1__CONTROL_REPLY__REPLY_STATUS;
	reply.status = &sr;
	send_reply(d, to, &reply);
}

/* How the deliveries of a message we sent stand, answered at once. */
static int message_state(struct ppxd *d, const struct control_reply_to *to,
			 const Ppx__V1__MessageStateRequest *q)
{
	Ppx__V1__LogEntry *e = NULL;
	Ppx__V1__Body *b = NULL;
	uint64_t seq;
	int rc;

	if (q->message_id.len != PPX_MESSAGE_ID_LEN)
		return ppx_error_set(PPX_EINVAL, "message id must be 16 bytes");
	rc = ppx_log_find(d->log, PPX__V1__ENTRY_KIND__ENTRY_SENT, "",
			  q->message_id.data, q->message_id.len, &seq);
	if (rc != 0)
		return ppx_error_set(PPX_ENOTFOUND, "no message sent with that id");
	rc = ppx_log_get(d->log, seq, &e);
	if (rc == 0)
		rc = ppx_entry_body(&b, NULL, e);
	if (rc == 0)
		reply_state(d, to, q->message_id.data, seq, b->recipients,
			    b->n_recipients);
	if (b)
		ppx__v1__body__free_unpacked(b, NULL);
	if (e)
		ppx__v1__log_entry__free_unpacked(e, NULL);
	return rc;
}


/* A request this daemon can take: it decodes, speaks our version, and
 * its strings are text.  The text is checked on the bytes: a NUL would
 * silently cut a decoded string, and the operator would sign something
 * other than what they wrote. */
static int request_check(const Ppx__V1__ControlRequest *req,
			 const uint8_t *bytes, size_t len)
{
	if (!req)
		return ppx_error_set(PPX_EINVAL,
				     "control request does not decode");
	if (req->version != PPX_CONTROL_VERSION)
		return ppx_error_set(PPX_EVERSION,
				     "control request version %u; this ppxd "
				     "speaks %d: use a matching ppx",
				     req->version, PPX_CONTROL_VERSION);
	return ppx_text_check(&ppx__v1__control_request__descriptor, bytes,
			      len, "control request");
}

/* An empty reply (code 0), after the commit or with its error. */
static void decided_after_commit(struct ppxd *d, void *arg, int rc)
{
	struct control_reply_to *to = arg;
	Ppx__V1__ControlReply reply = PPX__V1__CONTROL_REPLY__INIT;

	reply.version = PPX_CONTROL_VERSION;
	if (rc == 0)
		send_reply(d, to, &reply);
	else
		send_error(d, to, rc);
	release(to);
	free(to);
}

/* ppx hook retry|drop: the caller, an operator, decides on an entry a hook
 * set aside (hooks.c logs it with their id); answered after the commit. */
static int hook_decision(struct ppxd *d, const struct control_reply_to *to,
			 const struct ppx_operator *op,
			 const Ppx__V1__HookDecisionRequest *r)
{
	struct control_reply_to *copy;
	int rc;

	if (!op)
		return ppx_error_set(PPX_EPERM, "caller is not an operator");
	if ((rc = hooks_decide(d, op->id, r)) != 0)
		return rc;
	if (!(copy = malloc(sizeof(*copy))))
		return ppx_error_set(PPX_ENOMEM, "out of memory");
	*copy = *to;
	if (writer_after(d, decided_after_commit, copy) != 0) {
		free(copy);
		return PPX_ENOMEM;
	}
	return 0;
}

/* A reload's report, waiting for the commit of its entries. */
struct reloaded {
	struct control_reply_to to;
	struct changes_report r;
};

static void reloaded_after_commit(struct ppxd *d, void *arg, int rc)
{
	struct reloaded *x = arg;
	Ppx__V1__ControlReply reply = PPX__V1__CONTROL_REPLY__INIT;
	Ppx__V1__ReloadReply rr = PPX__V1__RELOAD_REPLY__INIT;

	reply.version = PPX_CONTROL_VERSION;
	reply.code = rc ? rc : x->r.code;
	reply.error = rc ? (char *)ppx_error_last() : x->r.error;
	rr.entries = x->r.entries;
	rr.changes = x->r.changes;
	rr.n_changes = x->r.n_changes;
	rr.restart = x->r.restart;
	rr.n_restart = x->r.n_restart;
	reply.reply_case = PPX__V1__CONTROL_REPLY__REPLY_RELOAD;
	reply.reload = &rr;
	send_reply(d, &x->to, &reply);
	release(&x->to);
	changes_report_clear(&x->r);
	free(x);
}

/* ppx reload: everything re-read as the operator (reload.c); the change
 * entries name them; answered after the commit with what changed, or
 * what was refused. */
static int reload(struct ppxd *d, const struct control_reply_to *to,
		  const struct ppx_operator *op)
{
	struct reloaded *x;
	char person[sizeof(op->id)];

	if (!op)
		return ppx_error_set(PPX_EPERM, "caller is not an operator");
	if (!(x = calloc(1, sizeof(*x))))
		return ppx_error_set(PPX_ENOMEM, "out of memory");
	/* op points into the operator table a reload may replace. */
	memcpy(person, op->id, sizeof(person));
	reload_all(d, person, &x->r);
	if (writer_after(d, reloaded_after_commit, x) != 0) {
		changes_report_clear(&x->r);
		free(x);
		return PPX_ENOMEM;
	}
	x->to = *to;
	return 0;
}

/* A review's reply: the place of its ENTRY_REVIEW, after the commit. */
struct reviewed {
	struct control_reply_to to;
	uint64_t seq;
};

static void reviewed_after_commit(struct ppxd *d, void *arg, int rc)
{
	struct reviewed *r = arg;
	Ppx__V1__ControlReply reply = PPX__V1__CONTROL_REPLY__INIT;
	Ppx__V1__SubmitReply sr = PPX__V1__SUBMIT_REPLY__INIT;

	if (rc == 0) {
		sr.log_seq = r->seq;
		reply.version = PPX_CONTROL_VERSION;
		reply.reply_case = PPX__V1__CONTROL_REPLY__REPLY_REVIEW;
		reply.review = &sr;
		send_reply(d, &r->to, &reply);
	} else {
		send_error(d, &r->to, rc);
	}
	release(&r->to);
	free(r);
}

/* ppx review SEQ: the caller, the emergency reviewer, gives their
 * finding on an emergency access (review.c logs it); answered after the
 * commit. */
static int review(struct ppxd *d, const struct control_reply_to *to,
		  const struct ppx_operator *op,
		  const Ppx__V1__ReviewRequest *q)
{
	struct reviewed *r;
	int rc;

	if (!op)
		return ppx_error_set(PPX_EPERM, "caller is not an operator");
	if (!(r = calloc(1, sizeof(*r))))
		return ppx_error_set(PPX_ENOMEM, "out of memory");
	if ((rc = review_log(d, op->id, q, &r->seq)) != 0) {
		free(r);
		return rc;
	}
	r->to = *to;
	if (writer_after(d, reviewed_after_commit, r) != 0) {
		free(r);
		rc = ppx_error_set(PPX_ENOMEM, "out of memory");
		writer_fail(d, rc);	/* told it failed: so it must have */
		return rc;
	}
	return 0;
}

/* Hand the request to its handler: 0 when it is answered (or will be
 * after the commit), else the refusal to answer with now. */
static int dispatch(struct ppxd *d, const struct control_reply_to *to,
		    const struct ppx_operator *op, uid_t uid,
		    const Ppx__V1__ControlRequest *req)
{
	switch (req->request_case) {
	case PPX__V1__CONTROL_REQUEST__REQUEST_SUBMIT:
		return submit_request(d, to, op, req->submit);
	case PPX__V1__CONTROL_REQUEST__REQUEST_STATUS:
		reads_count(d, op, uid, "status");	/* a counting read */
		status(d, to);
		release(to);
		return 0;
	case PPX__V1__CONTROL_REQUEST__REQUEST_MESSAGE_STATE: {
		int rc = message_state(d, to, req->message_state);

		if (rc == 0)
			release(to);
		return rc;
	}
	case PPX__V1__CONTROL_REQUEST__REQUEST_HOOK_DECISION:
		return hook_decision(d, to, op, req->hook_decision);
	case PPX__V1__CONTROL_REQUEST__REQUEST_RELOAD:
		return reload(d, to, op);
	case PPX__V1__CONTROL_REQUEST__REQUEST_REVIEW:
		return review(d, to, op, req->review);
	default:
		break;
	}
	return ppx_error_set(PPX_EINVAL, "empty control request");
}

void control_handle(struct ppxd *d, const struct control_caller *who,
		    const uint8_t *bytes, size_t len,
		    const struct control_reply_to *to)
{
	Ppx__V1__ControlRequest *req =
		ppx__v1__control_request__unpack(NULL, len, bytes);
	const struct ppx_operator *op =
		ppx_config_operator_by_uid(d->cfg, who->uid);
	int rc = request_check(req, bytes, len);

	if (rc == 0)
		rc = dispatch(d, to, op, who->uid, req);
	if (rc != 0) {
		if (op)
			log_info("control request from %s refused: %s", op->id,
				 ppx_error_last());
		else
			log_info("control request from uid %ld gid %ld "
				 "refused: %s", (long)who->uid,
				 (long)who->gid, ppx_error_last());
		send_error(d, to, rc);
		release(to);
	}
	if (req)
		ppx__v1__control_request__free_unpacked(req, NULL);
}
