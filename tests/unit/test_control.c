/*
 * test_control.c — control requests answered (daemon/control_request.c)
 * without the control socket: the bytes of a ControlRequest and a caller's
 * uid/gid go into control_handle(), the bytes of the ControlReply come
 * back through a capturing reply_to.  The daemon behind it is real: a
 * configuration and policy written into a temporary directory and loaded
 * as ppxd loads them, the demo PKI's police.gwent signer, a log, the
 * writer, the partners' links (never connected), outbox and budgets.  It
 * proves that a request of another version, one that does not decode, a
 * caller who is not an operator and a send the policy refuses are each
 * refused with their code; that a good send is answered only after the
 * commit, with a SENT entry in the log under the operator's name; that
 * status is answered at once; and that a personally signed submission
 * (a prepare, then the prepared bytes signed) is sealed unchanged, while
 * other bytes, or a person certificate not the operator's, are refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <zmq.h>

#include "../../daemon/budget.h"
#include "../../daemon/control.h"
#include "../../daemon/hooks.h"
#include "../../daemon/outbox.h"
#include "../../daemon/stats.h"
#include "../../daemon/state.h"
#include "../../daemon/submit.h"
#include "../../daemon/transport.h"
#include "../../daemon/writer.h"
#include "ppx/config.h"
#include "ppx/control.h"
#include "ppx/error.h"
#include "ppx/entry.h"
#include "ppx/envelope.h"
#include "ppx/logstore.h"
#include "ppx/person.h"
#include "support.h"

/* What came back for one request. */
struct capture {
	int replies;
	int released;
	Ppx__V1__ControlReply *reply;
};

static void capture_send(struct ppxd *d, void *arg, const uint8_t *bytes,
			 size_t len)
{
	struct capture *c = arg;

	(void)d;
	c->replies++;
	if (c->reply)
		ppx__v1__control_reply__free_unpacked(c->reply, NULL);
	c->reply = ppx__v1__control_reply__unpack(NULL, len, bytes);
	assert_non_null(c->reply);
}

static void capture_release(void *arg)
{
	struct capture *c = arg;

	c->released++;
}

struct fx {
	char *root;
	struct ppxd d;
	struct capture cap;
	struct control_caller operator, stranger;
	int burst;	/* leave submits queued, as within one drain */
};

/* "key = /absolute/path/of/the/demo/PKI/file". */
static void pki_line(FILE *fp, const char *key, const char *rel)
{
	char *abs = realpath(pki_path(rel), NULL);

	assert_non_null(abs);
	fprintf(fp, "%s = %s\n", key, abs);
	free(abs);
}

/* Police may send to probation only: a message to the prison, a
 * configured partner, is the policy's to refuse. */
static void write_files(struct fx *f, char *conf, size_t cap)
{
	char path[512];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/policy.conf", f->root);
	write_text(path, "[rule police-to-probation]\n"
			 "from = police.*\n"
			 "to = probation.*\n"
			 "kinds = *\n"
			 "max_marking = OFFICIAL-SENSITIVE\n");
	snprintf(conf, cap, "%s/ppxd.conf", f->root);
	fp = fopen(conf, "w");
	assert_non_null(fp);
	/* The partners' links are made but never connect; a listen port
	 * taken by someone else only makes the daemon say so. */
	fprintf(fp, "[agency]\nname = police.gwent\narea = gwent\n"
		"listen = tcp://127.0.0.1:%d\nlog_dir = %s/log\n"
		"control = %s/run\npolicy = %s\n", 40000 + getpid() % 10000,
		f->root, f->root, path);
	fprintf(fp, "[pki]\n");
	pki_line(fp, "ca", "ca/ca.crt");
	pki_line(fp, "crl", "ca/crl.pem");
	pki_line(fp, "certs", "certs");
	pki_line(fp, "signing_key", "agencies/police.gwent/signing.key");
	pki_line(fp, "signing_cert", "agencies/police.gwent/signing.crt");
	pki_line(fp, "transport_key", "agencies/police.gwent/transport.key");
	pki_line(fp, "transport_cert",
		 "agencies/police.gwent/transport.crt");
	fprintf(fp, "[partner probation.gwent]\n"
		"endpoint = tcp://127.0.0.1:1\n"
		"[partner prison.cardiff]\nendpoint = tcp://127.0.0.1:1\n"
		"[operator dana.evans]\nname = Dana Evans\n"
		"role = police offender manager\ngrade = DS\nuid = %u\n",
		(unsigned)getuid());
	pki_line(fp, "person_cert", "people/police.gwent/dana.evans.crt");
	fclose(fp);
}

/* rc is 0, or the test fails with the error it came with. */
static void ok(int rc)
{
	if (rc != 0)
		fail_msg("%s (%d)", ppx_error_last(), rc);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct ppxd *d = &f->d;
	uint8_t secret[32], pub[32];
	char conf[512];

	assert_non_null(f);
	f->root = tmpdir_new();
	write_files(f, conf, sizeof(conf));
	ok(ppx_config_load(&d->cfg, conf));
	ok(policy_load(&d->policy, d->cfg->policy_path));
	ok(ppx_trust_load(&d->trust, d->cfg->ca, d->cfg->crl, d->cfg->certs));
	ok(ppx_signer_load(&d->signer, d->cfg->signing_key,
			   d->cfg->signing_cert));
	ok(ppx_transport_key_load(secret, pub, d->cfg->transport_key));
	ok(ppx_log_open(&d->log, d->cfg->log_dir, NULL));
	d->zctx = zmq_ctx_new();
	assert_non_null(d->zctx);
	ok(writer_new(&d->writer));
	ok(budget_new(&d->budget, d->cfg));
	ok(transport_new(&d->transport, d, secret, pub));
	ok(outbox_new(&d->outbox, d));
	ok(hooks_new(&d->hooks, d));
	d->started_ms = ppxd_now_ms();
	f->operator = (struct control_caller){getuid(), getgid()};
	f->stranger = (struct control_caller){getuid() + 1, getgid()};
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	struct ppxd *d = &f->d;

	if (f->cap.reply)
		ppx__v1__control_reply__free_unpacked(f->cap.reply, NULL);
	hooks_free(&d->hooks);
	outbox_free(&d->outbox);
	transport_free(&d->transport);
	budget_free(&d->budget);
	stats_free(&d->stats);
	writer_free(&d->writer);
	zmq_ctx_term(d->zctx);
	ppx_log_close(d->log);
	ppx_signer_free(d->signer);
	ppx_trust_free(d->trust);
	policy_free(d->policy);
	ppx_config_free(d->cfg);
	tmpdir_remove(f->root);
	free(f);
	return 0;
}

/* Hand `len` bytes from `who` to control_handle(), then end the drain
 * (submit_flush) as control_drain() does, unless f->burst. */
static void handle_bytes(struct fx *f, const struct control_caller *who,
			 const uint8_t *bytes, size_t len)
{
	struct control_reply_to to = {capture_send, capture_release, &f->cap};

	control_handle(&f->d, who, bytes, len, &to);
	if (!f->burst)
		submit_flush(&f->d);
}

static void handle(struct fx *f, const struct control_caller *who,
		   Ppx__V1__ControlRequest *req)
{
	size_t len = ppx__v1__control_request__get_packed_size(req);
	uint8_t *buf = malloc(len ? len : 1);

	assert_non_null(buf);
	ppx__v1__control_request__pack(req, buf);
	handle_bytes(f, who, buf, len);
	free(buf);
}

/* Submit body b (from body_new, its time and id left to the daemon). */
static void submit(struct fx *f, const struct control_caller *who,
		   Ppx__V1__Body *b)
{
	Ppx__V1__ControlRequest req = PPX__V1__CONTROL_REQUEST__INIT;
	Ppx__V1__SubmitRequest sub = PPX__V1__SUBMIT_REQUEST__INIT;

	sub.body = b;
	req.version = PPX_CONTROL_VERSION;
	req.request_case = PPX__V1__CONTROL_REQUEST__REQUEST_SUBMIT;
	req.submit = &sub;
	handle(f, who, &req);
}

/* Exactly one reply, released once, with `code`. */
static void assert_answered(struct fx *f, int code)
{
	assert_int_equal(f->cap.replies, 1);
	assert_int_equal(f->cap.released, 1);
	assert_int_equal(f->cap.reply->version, PPX_CONTROL_VERSION);
	assert_int_equal(f->cap.reply->code, code);
}

static void test_control__other_version_refused(void **state)
{
	struct fx *f = *state;
	Ppx__V1__ControlRequest req = PPX__V1__CONTROL_REQUEST__INIT;

	req.version = PPX_CONTROL_VERSION + 1;
	req.request_case = PPX__V1__CONTROL_REQUEST__REQUEST_STATUS;
	req.status = 1;
	handle(f, &f->operator, &req);
	assert_answered(f, PPX_EVERSION);
	assert_non_null(strstr(f->cap.reply->error, "version 2"));
	assert_int_equal(f->cap.reply->reply_case,
			 PPX__V1__CONTROL_REPLY__REPLY__NOT_SET);
}

static void test_control__malformed_refused(void **state)
{
	struct fx *f = *state;
	static const uint8_t junk[] = {0xff, 0xff, 0xff, 0xff, 0x0f};

	handle_bytes(f, &f->operator, junk, sizeof(junk));
	assert_answered(f, PPX_EINVAL);
	assert_string_equal(f->cap.reply->error,
			    "control request does not decode");
	assert_int_equal(ppx_log_size(f->d.log), 0);
}

static void test_control__stranger_cannot_send(void **state)
{
	struct fx *f = *state;
	Ppx__V1__Body *b = body_new("police.gwent", "probation.gwent");

	b->created_ms = 0;
	submit(f, &f->stranger, b);
	assert_answered(f, PPX_EPERM);
	assert_string_equal(f->cap.reply->error, "caller is not an operator");
	assert_int_equal(writer_pending(&f->d), 0);
	body_free(b);
}

static void test_control__policy_refusal(void **state)
{
	struct fx *f = *state;
	Ppx__V1__Body *b = body_new("police.gwent", "prison.cardiff");

	b->created_ms = 0;
	submit(f, &f->operator, b);
	assert_answered(f, PPX_EPOLICY);
	assert_non_null(strstr(f->cap.reply->error, "prison.cardiff"));
	assert_int_equal(writer_pending(&f->d), 0);
	assert_int_equal(writer_flush(&f->d), 0);
	assert_int_equal(ppx_log_size(f->d.log), 0);
	body_free(b);
}

/* Nothing is said before the commit; after it, the message id and the
 * SENT entry's place, where the operator is the sending person. */
static void test_control__good_send_after_commit(void **state)
{
	struct fx *f = *state;
	Ppx__V1__Body *b = body_new("police.gwent", "probation.gwent");
	const Ppx__V1__SubmitReply *sr;
	Ppx__V1__LogEntry *e = NULL;

	b->created_ms = 0;
	submit(f, &f->operator, b);
	assert_int_equal(f->cap.replies, 0);
	assert_int_equal(f->cap.released, 0);
	assert_int_equal(writer_flush(&f->d), 0);
	assert_answered(f, 0);
	assert_int_equal(f->cap.reply->reply_case,
			 PPX__V1__CONTROL_REPLY__REPLY_SUBMIT);
	sr = f->cap.reply->submit;
	assert_int_equal(sr->message_id.len, PPX_MESSAGE_ID_LEN);
	assert_memory_equal(sr->message_id.data, b->message_id.data,
			    PPX_MESSAGE_ID_LEN);
	assert_int_equal(sr->n_deliveries, 1);
	assert_string_equal(sr->deliveries[0]->partner, "probation.gwent");
	assert_int_equal(sr->deliveries[0]->state,
			 PPX__V1__DELIVERY_STATE__DELIVERY_QUEUED);
	assert_int_equal(ppx_log_get(f->d.log, sr->log_seq, &e), 0);
	assert_int_equal(e->kind, PPX__V1__ENTRY_KIND__ENTRY_SENT);
	assert_string_equal(e->person, "dana.evans");
	assert_string_equal(e->family, "notification");
	ppx__v1__log_entry__free_unpacked(e, NULL);
	body_free(b);
}

static void test_control__status_at_once(void **state)
{
	struct fx *f = *state;
	Ppx__V1__ControlRequest req = PPX__V1__CONTROL_REQUEST__INIT;
	const Ppx__V1__StatusReply *s;

	req.version = PPX_CONTROL_VERSION;
	req.request_case = PPX__V1__CONTROL_REQUEST__REQUEST_STATUS;
	req.status = 1;
	handle(f, &f->operator, &req);
	assert_answered(f, 0);
	assert_int_equal(f->cap.reply->reply_case,
			 PPX__V1__CONTROL_REPLY__REPLY_STATUS);
	s = f->cap.reply->status;
	assert_string_equal(s->agency, "police.gwent");
	assert_int_equal(s->log_size, 0);
	assert_int_equal(s->n_partners, 2);
	assert_string_equal(s->partners[0]->agency, "probation.gwent");
	assert_false(s->partners[0]->connected);
	assert_int_equal(s->started_ms, f->d.started_ms);
}

/* Submits of one drain wait, checked, for the end of the drain; then
 * they are signed together, logged in the order they came, and each
 * answered after the commit. */
static void test_control__burst_sealed_together(void **state)
{
	struct fx *f = *state;
	Ppx__V1__Body *b[3];
	Ppx__V1__LogEntry *e = NULL;

	f->burst = 1;
	for (size_t i = 0; i < 3; i++) {
		b[i] = body_new("police.gwent", "probation.gwent");
		b[i]->created_ms = 0;
		submit(f, &f->operator, b[i]);
	}
	assert_int_equal(writer_pending(&f->d), 0);
	assert_int_equal(f->cap.replies, 0);
	submit_flush(&f->d);
	assert_true(writer_pending(&f->d) > 0);
	assert_int_equal(f->cap.replies, 0);
	assert_int_equal(writer_flush(&f->d), 0);
	assert_int_equal(f->cap.replies, 3);
	assert_int_equal(f->cap.released, 3);
	assert_int_equal(f->cap.reply->code, 0);
	assert_int_equal(ppx_log_size(f->d.log), 3);
	for (uint64_t seq = 0; seq < 3; seq++) {
		assert_int_equal(ppx_log_get(f->d.log, seq, &e), 0);
		assert_int_equal(e->kind, PPX__V1__ENTRY_KIND__ENTRY_SENT);
		assert_memory_equal(e->message_id.data,
				    b[seq]->message_id.data,
				    PPX_MESSAGE_ID_LEN);
		ppx__v1__log_entry__free_unpacked(e, NULL);
		body_free(b[seq]);
	}
}

/* Forget what came back, for the next request. */
static void cap_reset(struct fx *f)
{
	if (f->cap.reply)
		ppx__v1__control_reply__free_unpacked(f->cap.reply, NULL);
	memset(&f->cap, 0, sizeof(f->cap));
}

/* Where `what` (n bytes) is in bytes; the test fails if it is not. */
static uint8_t *find(const ProtobufCBinaryData *bytes, const char *what,
		     size_t n)
{
	for (size_t i = 0; i + n <= bytes->len; i++)
		if (memcmp(bytes->data + i, what, n) == 0)
			return bytes->data + i;
	fail_msg("'%s' is not in the prepared body", what);
	return NULL;
}

static ppx_signer *person_at(const char *rel)
{
	char key[2048], crt[2048];
	ppx_signer *s = NULL;

	snprintf(key, sizeof(key), "%s.key", pki_path(rel));
	snprintf(crt, sizeof(crt), "%s.crt", pki_path(rel));
	ok(ppx_person_signer_open(&s, key, crt, NULL, NULL));
	return s;
}

/* A prepare of b for `person`'s certificate: the bytes, or NULL after a
 * refusal (f->cap.reply says which). */
static ProtobufCBinaryData prepare(struct fx *f, Ppx__V1__Body *b,
				   ppx_signer *person)
{
	Ppx__V1__ControlRequest req = PPX__V1__CONTROL_REQUEST__INIT;
	Ppx__V1__SubmitRequest sub = PPX__V1__SUBMIT_REQUEST__INIT;
	ProtobufCBinaryData out = {0, NULL};

	cap_reset(f);
	sub.body = b;
	sub.prepare = 1;
	ok(ppx_cert_der(&sub.person_cert.data, &sub.person_cert.len,
			ppx_signer_cert(person)));
	req.version = PPX_CONTROL_VERSION;
	req.request_case = PPX__V1__CONTROL_REQUEST__REQUEST_SUBMIT;
	req.submit = &sub;
	handle(f, &f->operator, &req);
	free(sub.person_cert.data);
	if (f->cap.reply->code != 0)
		return out;
	out.len = f->cap.reply->submit->prepared_body.len;
	out.data = malloc(out.len);
	assert_non_null(out.data);
	memcpy(out.data, f->cap.reply->submit->prepared_body.data, out.len);
	return out;
}

/* Submit `bytes` signed by `person`. */
static void submit_signed(struct fx *f, const ProtobufCBinaryData *bytes,
			  ppx_signer *person)
{
	Ppx__V1__ControlRequest req = PPX__V1__CONTROL_REQUEST__INIT;
	Ppx__V1__SubmitRequest sub = PPX__V1__SUBMIT_REQUEST__INIT;
	Ppx__V1__PersonSignature *ps = NULL;

	ok(ppx_person_sign(&ps, person, bytes->data, bytes->len));
	sub.signed_body = *bytes;
	sub.person = ps;
	req.version = PPX_CONTROL_VERSION;
	req.request_case = PPX__V1__CONTROL_REQUEST__REQUEST_SUBMIT;
	req.submit = &sub;
	cap_reset(f);
	handle(f, &f->operator, &req);
	ppx_person_signature_free(ps);
}

/* The prepare names the person certificate and logs nothing; the signed
 * bytes are sealed as they are, with the signature in the frame. */
static void test_control__signed_submission_sealed_unchanged(void **state)
{
	struct fx *f = *state;
	Ppx__V1__Body *b = body_new("police.gwent", "probation.gwent");
	ppx_signer *dana = person_at("people/police.gwent/dana.evans");
	Ppx__V1__Body *prepared;
	Ppx__V1__LogEntry *e = NULL;
	Ppx__V1__Frame *frame = NULL;
	ProtobufCBinaryData bytes;
	ppx_identity who;

	b->created_ms = 0;
	bytes = prepare(f, b, dana);
	assert_answered(f, 0);
	assert_non_null(bytes.data);
	assert_int_equal(writer_pending(&f->d), 0);
	prepared = ppx__v1__body__unpack(NULL, bytes.len, bytes.data);
	assert_non_null(prepared);
	assert_memory_equal(prepared->sender_person->certificate_fingerprint.data,
			    ppx_signer_fingerprint(dana), PPX_FINGERPRINT_LEN);
	ppx__v1__body__free_unpacked(prepared, NULL);
	submit_signed(f, &bytes, dana);
	assert_int_equal(writer_flush(&f->d), 0);
	assert_answered(f, 0);
	ok(ppx_log_get(f->d.log, f->cap.reply->submit->log_seq, &e));
	ok(ppx_frame_decode(&frame, e->data.data, e->data.len));
	assert_int_equal(frame->message->signed_body.len, bytes.len);
	assert_memory_equal(frame->message->signed_body.data, bytes.data,
			    bytes.len);
	assert_non_null(frame->message->person);
	assert_int_equal(ppx_entry_person(&who, e), 1);
	assert_string_equal(who.name, "Dana Evans");
	ppx__v1__frame__free_unpacked(frame, NULL);
	ppx__v1__log_entry__free_unpacked(e, NULL);
	free(bytes.data);
	ppx_signer_free(dana);
	body_free(b);
}

/* Bytes other than a body the daemon prepares for the operator, and a
 * person certificate not the operator's, are refused; nothing is logged. */
static void test_control__signed_submission_refusals(void **state)
{
	struct fx *f = *state;
	Ppx__V1__Body *b = body_new("police.gwent", "probation.gwent");
	ppx_signer *dana = person_at("people/police.gwent/dana.evans");
	ppx_signer *sam = person_at("people/probation.gwent/sam.okafor");
	ProtobufCBinaryData bytes;
	uint8_t *x;

	b->created_ms = 0;
	bytes = prepare(f, b, sam);
	assert_answered(f, PPX_EBADPERSON);
	assert_non_null(strstr(f->cap.reply->error, "person_cert"));
	bytes = prepare(f, b, dana);
	assert_non_null(bytes.data);
	/* The content is the sender's to write (and sign), but who sends it
	 * is the daemon's: "Dana Evans" as "Dana Evanz" was not prepared. */
	x = find(&bytes, "Dana Evans", 10);
	x[9] = 'z';
	submit_signed(f, &bytes, dana);
	assert_answered(f, PPX_EBODY);
	assert_non_null(strstr(f->cap.reply->error, "not one this daemon "
				"prepared"));
	x[9] = 's';
	submit_signed(f, &bytes, sam);
	assert_answered(f, PPX_EBADPERSON);
	assert_non_null(strstr(f->cap.reply->error, "other agency"));
	assert_int_equal(writer_pending(&f->d), 0);
	assert_int_equal(ppx_log_size(f->d.log), 0);
	free(bytes.data);
	ppx_signer_free(sam);
	ppx_signer_free(dana);
	body_free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_control__other_version_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_control__malformed_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_control__stranger_cannot_send, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_control__policy_refusal, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_control__good_send_after_commit, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_control__status_at_once, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_control__burst_sealed_together, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_control__signed_submission_sealed_unchanged, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_control__signed_submission_refusals, setup,
			teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
