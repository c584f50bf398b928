/*
 * control.c — requests from the ppx client: submit a message, read status,
 * ask how a message's delivery stands, decide on an entry a hook set aside.
 *
 * A submitted Body is completed by the daemon, never trusted for who sent
 * it: the sending person is the operator the caller's Unix uid maps to
 * (ZAP put their id on the connection), the sender agency is ours, the
 * time is now and a message id is made unless the caller gave one (so a
 * retried submit is idempotent); who acknowledges or updates an action is
 * the operator too.  The body is checked against the domain rules of its
 * family (lib/domain.c), each recipient against the policy, and what it
 * refers to against the log (records.c: a partner record update must be
 * based on the latest version and change only fields we own) before
 * anything is signed; the sealed frame is logged as SENT, under its
 * subject keys and a partner record's "record:<id>", with one outbox key
 * per recipient in this iteration's commit; the reply follows the commit.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include "budget.h"
#include "control.h"
#include "events.h"
#include "hooks.h"
#include "inbound.h"
#include "log.h"
#include "outbox.h"
#include "policy.h"
#include "ppx/domain.h"
#include "ppx/entry.h"
#include "ppx/envelope.h"
#include "ppx/error.h"
#include "ppx/text.h"
#include "ppxd.h"
#include "ppx/records.h"
#include "transport.h"
#include "writer.h"
#include "zap.h"

#define CONTROL_VERSION 1
#define CONTROL_REQUEST_MAX (2 * 1024 * 1024)

struct control {
	void *sock;
	char endpoint[300];
};

/*
 * The control directory must be a directory of ppxd's own user, closed to
 * other users.  Its owner matters as much as its mode: whoever owns it can
 * replace the socket in it with their own, or open it to anyone.
 */
static int make_private_dir(const char *dir)
{
	struct stat st;

	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return ppx_error_set(PPX_EIO, "cannot create control directory "
				     "%s: %s", dir, strerror(errno));
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
		return ppx_error_set(PPX_EIO, "control path %s is not a "
				     "directory", dir);
	if (st.st_uid != geteuid())
		return ppx_error_set(PPX_EPERM,
				     "control directory %s is owned by uid %u, "
				     "not by ppxd's user (uid %u): chown it to "
				     "that user or configure another directory",
				     dir, (unsigned)st.st_uid,
				     (unsigned)geteuid());
	if (st.st_mode & 007)
		return ppx_error_set(PPX_EPERM,
				     "control directory %s is open to all users "
				     "(mode %04o): make it 0700 or 0750",
				     dir, (unsigned)(st.st_mode & 07777));
	return 0;
}

int control_new(struct control **out, struct ppxd *d)
{
	struct control *c = calloc(1, sizeof(*c));
	int linger = 0, rc;
	int64_t max = CONTROL_REQUEST_MAX;

	*out = NULL;
	if (!c)
		return ppx_error_set(PPX_ENOMEM, "out of memory");
	rc = make_private_dir(d->cfg->control_dir);
	snprintf(c->endpoint, sizeof(c->endpoint), "ipc://%s/control.sock",
		 d->cfg->control_dir);
	if (rc == 0) {
		c->sock = zmq_socket(d->zctx, ZMQ_ROUTER);
		if (!c->sock ||
		    zmq_setsockopt(c->sock, ZMQ_LINGER, &linger, sizeof(linger)) ||
		    zmq_setsockopt(c->sock, ZMQ_MAXMSGSIZE, &max, sizeof(max)) ||
		    zmq_setsockopt(c->sock, ZMQ_ZAP_DOMAIN, ZAP_DOMAIN_CONTROL,
				   strlen(ZAP_DOMAIN_CONTROL)) ||
		    zmq_bind(c->sock, c->endpoint) != 0)
			rc = ppx_error_set(PPX_EIO, "cannot open control socket "
					   "%s: %s", c->endpoint,
					   zmq_strerror(zmq_errno()));
	}
	if (rc != 0) {
		control_free(&c);
		return rc;
	}
	*out = c;
	return 0;
}

void control_free(struct control **self)
{
	if (!*self)
		return;
	if ((*self)->sock)
		zmq_close((*self)->sock);
	free(*self);
	*self = NULL;
}

void *control_socket(struct control *self)
{
	return self->sock;
}

static void send_reply(struct ppxd *d, zmq_msg_t *routing,
		       Ppx__V1__ControlReply *reply)
{
	size_t len = ppx__v1__control_reply__get_packed_size(reply);
	uint8_t *buf = malloc(len ? len : 1);
	zmq_msg_t id;

	if (!buf)
		return;
	ppx__v1__control_reply__pack(reply, buf);
	zmq_msg_init(&id);
	zmq_msg_copy(&id, routing);
	if (zmq_msg_send(&id, d->control->sock, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0 ||
	    zmq_send(d->control->sock, buf, len, ZMQ_DONTWAIT) < 0)
		log_debug("control reply dropped: %s", zmq_strerror(zmq_errno()));
	zmq_msg_close(&id);
	free(buf);
}

static void send_error(struct ppxd *d, zmq_msg_t *routing, int code)
{
	Ppx__V1__ControlReply reply = PPX__V1__CONTROL_REPLY__INIT;

	reply.version = CONTROL_VERSION;
	reply.code = code;
	reply.error = (char *)ppx_error_last();
	send_reply(d, routing, &reply);
}

/* A submit waiting for the commit. */
struct submitted {
	zmq_msg_t routing;
	uint8_t id[PPX_MESSAGE_ID_LEN];
	uint64_t seq;
	char **recipients;
	size_t n;
};

static void submitted_free(struct submitted *s)
{
	zmq_msg_close(&s->routing);
	for (size_t i = 0; i < s->n; i++)
		free(s->recipients[i]);
	free(s->recipients);
	free(s);
}

/* Answer with the message id, its log position and each delivery. */
static void reply_state(struct ppxd *d, zmq_msg_t *routing, const uint8_t *id,
			uint64_t seq, char *const *recipients, size_t n)
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
	reply.version = CONTROL_VERSION;
	reply.reply_case = PPX__V1__CONTROL_REPLY__REPLY_SUBMIT;
	reply.submit = &sr;
	send_reply(d, routing, &reply);
	free(dv);
	free(dp);
}

static void submitted_after_commit(struct ppxd *d, void *arg, int rc)
{
	struct submitted *s = arg;

	if (rc == 0)
		reply_state(d, &s->routing, s->id, s->seq, s->recipients, s->n);
	else
		send_error(d, &s->routing, rc);
	submitted_free(s);
}

static const struct ppx_operator *operator_by_id(struct ppxd *d, const char *id)
{
	for (size_t i = 0; id && i < d->cfg->n_operators; i++)
		if (strcmp(d->cfg->operators[i].id, id) == 0)
			return &d->cfg->operators[i];
	return NULL;
}

/* Every recipient is a partner and the policy lets us send it this. */
static int check_recipients(struct ppxd *d, const Ppx__V1__Body *b)
{
	struct policy_query q = {0};
	char **keys = NULL;
	size_t n = 0;
	int rc = ppx_subject_keys(&keys, &n, b->subject);

	q.from = d->cfg->agency;
	q.family = (int)b->payload_case;
	q.kind = b->payload_case == PPX__V1__BODY__PAYLOAD_NOTIFICATION
			 ? (int)b->notification->kind
			 : 0;
	q.marking = (int)b->marking;
	q.counter_terrorism = b->counter_terrorism;
	q.subjects = (const char *const *)keys;
	q.n_subjects = n;
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
	e.family = (char *)inbound_family_name((int)b->payload_case);
	rc = writer_append(d, &e, seq);
	ppx_subject_keys_free(keys, n);
	for (size_t i = 0; rc == 0 && i < b->n_recipients; i++)
		rc = outbox_add(d, b->recipients[i], *seq);
	return rc;
}

static int defer_submit_reply(struct ppxd *d, zmq_msg_t *routing,
			      const Ppx__V1__Body *b, uint64_t seq)
{
	struct submitted *s = calloc(1, sizeof(*s));

	if (!s || !(s->recipients = calloc(b->n_recipients, sizeof(char *)))) {
		free(s);
		return ppx_error_set(PPX_ENOMEM, "out of memory");
	}
	zmq_msg_init(&s->routing);
	zmq_msg_copy(&s->routing, routing);
	memcpy(s->id, b->message_id.data, PPX_MESSAGE_ID_LEN);
	s->seq = seq;
	for (; s->n < b->n_recipients; s->n++)
		if (!(s->recipients[s->n] = strdup(b->recipients[s->n]))) {
			submitted_free(s);
			return ppx_error_set(PPX_ENOMEM, "out of memory");
		}
	if (writer_after(d, submitted_after_commit, s) != 0) {
		submitted_free(s);
		return PPX_ENOMEM;
	}
	return 0;
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
	events_iso_time(when, sizeof(when), b->created_ms);
	events_iso_time(ours, sizeof(ours), now);
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

int control_submit_body(struct ppxd *d, const struct ppx_operator *op,
			const Ppx__V1__Body *in, uint8_t id_out[16],
			uint64_t *seq_out)
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

/* A submit from the control socket, answered after the commit. */
static int submit(struct ppxd *d, zmq_msg_t *routing, const char *user,
		  const Ppx__V1__Body *in)
{
	const struct ppx_operator *op = operator_by_id(d, user);
	Ppx__V1__Body b = *in;
	uint8_t id[PPX_MESSAGE_ID_LEN];
	uint64_t seq = 0;
	int rc;

	if (!op)
		return ppx_error_set(PPX_EPERM, "caller is not an operator");
	rc = control_submit_body(d, op, in, id, &seq);
	if (rc != 0)
		return rc;
	b.message_id.data = id;
	b.message_id.len = sizeof(id);
	return defer_submit_reply(d, routing, &b, seq);
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

static void status(struct ppxd *d, zmq_msg_t *routing)
{
	Ppx__V1__ControlReply reply = PPX__V1__CONTROL_REPLY__INIT;
	Ppx__V1__StatusReply sr = PPX__V1__STATUS_REPLY__INIT;
	size_t n = transport_links(d->transport);
	Ppx__V1__PartnerStatus ps[n ? n : 1], *pp[n ? n : 1];
	Ppx__V1__ReasonCount rc[PPXD_REASONS], *rp[PPXD_REASONS];
	const char *listen_error = "";

	for (size_t i = 0; i < n; i++) {
		struct outbox_stats st;

		outbox_stats(d, i, &st);
		ppx__v1__partner_status__init(&ps[i]);
		ps[i].agency = (char *)transport_link_agency(d->transport, i);
		ps[i].connected = transport_link_up(d->transport, i);
		ps[i].outbox_depth = st.depth;
		ps[i].last_receipt_ms = st.last_receipt_ms;
		ps[i].sent = st.sent;
		ps[i].delivered = st.delivered;
		ps[i].refused = st.refused;
		ps[i].next_retry_ms = st.next_retry_ms;
		status_budget(d, &ps[i]);
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
	sr.listening = transport_listening(d->transport, &listen_error);
	sr.listen_error = (char *)listen_error;
	hooks_status(d, &sr);
	reply.version = CONTROL_VERSION;
	reply.reply_case = PPX__V1__CONTROL_REPLY__REPLY_STATUS;
	reply.status = &sr;
	send_reply(d, routing, &reply);
}

static int message_state(struct ppxd *d, zmq_msg_t *routing,
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
		reply_state(d, routing, q->message_id.data, seq, b->recipients,
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
static int request_check(const Ppx__V1__ControlRequest *req, zmq_msg_t *frame)
{
	if (!req)
		return ppx_error_set(PPX_EINVAL,
				     "control request does not decode");
	if (req->version != CONTROL_VERSION)
		return ppx_error_set(PPX_EVERSION,
				     "control request version %u; this ppxd "
				     "speaks %d: use a matching ppx",
				     req->version, CONTROL_VERSION);
	return ppx_text_check(&ppx__v1__control_request__descriptor,
			      zmq_msg_data(frame), zmq_msg_size(frame),
			      "control request");
}

/* An empty reply (code 0), after the commit or with its error. */
static void decided_after_commit(struct ppxd *d, void *arg, int rc)
{
	zmq_msg_t *routing = arg;
	Ppx__V1__ControlReply reply = PPX__V1__CONTROL_REPLY__INIT;

	reply.version = CONTROL_VERSION;
	if (rc == 0)
		send_reply(d, routing, &reply);
	else
		send_error(d, routing, rc);
	zmq_msg_close(routing);
	free(routing);
}

/* ppx hook retry|drop: the caller, an operator, decides on an entry a hook
 * set aside (hooks.c logs it with their id); answered after the commit. */
static int hook_decision(struct ppxd *d, zmq_msg_t *routing, const char *user,
			 const Ppx__V1__HookDecisionRequest *r)
{
	const struct ppx_operator *op = operator_by_id(d, user);
	zmq_msg_t *copy;
	int rc;

	if (!op)
		return ppx_error_set(PPX_EPERM, "caller is not an operator");
	if ((rc = hooks_decide(d, op->id, r)) != 0)
		return rc;
	if (!(copy = malloc(sizeof(*copy))))
		return ppx_error_set(PPX_ENOMEM, "out of memory");
	zmq_msg_init(copy);
	zmq_msg_copy(copy, routing);
	if (writer_after(d, decided_after_commit, copy) != 0) {
		zmq_msg_close(copy);
		free(copy);
		return PPX_ENOMEM;
	}
	return 0;
}

static void control_request(struct ppxd *d, zmq_msg_t *routing,
			    zmq_msg_t *frame)
{
	Ppx__V1__ControlRequest *req = ppx__v1__control_request__unpack(
		NULL, zmq_msg_size(frame), zmq_msg_data(frame));
	const char *user = zmq_msg_gets(frame, "User-Id");
	int rc = request_check(req, frame);
	int which = rc == 0 ? (int)req->request_case : -1;

	if (which == PPX__V1__CONTROL_REQUEST__REQUEST_SUBMIT &&
	    req->submit->body)
		rc = submit(d, routing, user, req->submit->body);
	else if (which == PPX__V1__CONTROL_REQUEST__REQUEST_STATUS)
		status(d, routing);
	else if (which == PPX__V1__CONTROL_REQUEST__REQUEST_MESSAGE_STATE)
		rc = message_state(d, routing, req->message_state);
	else if (which == PPX__V1__CONTROL_REQUEST__REQUEST_HOOK_DECISION)
		rc = hook_decision(d, routing, user, req->hook_decision);
	else if (rc == 0)
		rc = ppx_error_set(PPX_EINVAL, "empty control request");
	if (rc != 0) {
		log_info("control request from %s refused: %s",
			 user ? user : "?", ppx_error_last());
		send_error(d, routing, rc);
	}
	if (req)
		ppx__v1__control_request__free_unpacked(req, NULL);
}

size_t control_drain(struct ppxd *d, size_t max)
{
	size_t n = 0;

	while (n < max) {
		zmq_msg_t routing, frame;
		int more = 0;
		size_t ml = sizeof(more);

		zmq_msg_init(&routing);
		if (zmq_msg_recv(&routing, d->control->sock, ZMQ_DONTWAIT) < 0) {
			zmq_msg_close(&routing);
			break;
		}
		zmq_msg_init(&frame);
		zmq_getsockopt(d->control->sock, ZMQ_RCVMORE, &more, &ml);
		if (more && zmq_msg_recv(&frame, d->control->sock, 0) >= 0)
			control_request(d, &routing, &frame);
		zmq_getsockopt(d->control->sock, ZMQ_RCVMORE, &more, &ml);
		while (more) {	/* a well-behaved client sends one part */
			zmq_msg_t extra;

			zmq_msg_init(&extra);
			zmq_msg_recv(&extra, d->control->sock, 0);
			zmq_msg_close(&extra);
			zmq_getsockopt(d->control->sock, ZMQ_RCVMORE, &more, &ml);
		}
		zmq_msg_close(&frame);
		zmq_msg_close(&routing);
		n++;
	}
	return n;
}
