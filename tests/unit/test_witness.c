/*
 * test_witness.c — witnessing (daemon/witness.c, witness_log.c) between
 * daemons built on the in-memory transport: the log's side taking
 * answers (replays, hostile cosignatures) and the witness's side judging
 * requests the test builds itself (a refused request is not logged; one
 * partner's gossip cannot crowd out a log's own receipts; a split view's
 * answer shows the checkpoint that disagrees; with a directory in force,
 * a checkpoint signed by a key it does not list is not taken as gossip or
 * from a receipt; a stream of receipts cannot keep a log from being
 * cosigned).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "../../daemon/witness.h"
#include "../../daemon/writer.h"
#include "daemon_fixture.h"
#include "pki_forge.h"
#include "ppx/directory.h"
#include "ppx/envelope.h"
#include "ppx/error.h"
#include "ppx/note.h"
#include "support.h"
#include "transport_mem.h"

#define POLICE "police.gwent"
#define PROBATION "probation.gwent"
#define PRISON "prison.cardiff"
#define DAY_MS (86400LL * 1000)

static struct daemon_fixture *daemon(const char *agency)
{
	struct daemon_fixture *f = daemon_fixture_new(agency, NULL);

	assert_int_equal(witness_new(&f->d.witness, &f->d), 0);
	return f;
}

static void daemon_free(struct daemon_fixture **f)
{
	witness_free(&(*f)->d.witness);
	daemon_fixture_free(f);
}

static size_t count(struct daemon_fixture *f, int kind)
{
	return daemon_fixture_count(f, kind, NULL);
}

/* One ordinary entry, so that the log has something to be cosigned. */
static void log_something(struct daemon_fixture *f)
{
	Ppx__V1__LogEntry e = PPX__V1__LOG_ENTRY__INIT;
	uint64_t seq;

	e.kind = PPX__V1__ENTRY_KIND__ENTRY_RECEIVED;
	e.time_ms = 1;
	e.peer_agency = PRISON;
	e.detail = "";
	assert_int_equal(writer_append(&f->d, &e, &seq), 0);
	assert_int_equal(writer_flush(&f->d), 0);
}

/* `w` answers request `req` of `from`: the reply (caller frees) or NULL. */
static uint8_t *witness_answers(struct daemon_fixture *w, const char *from,
				const uint8_t *req, size_t len,
				size_t *reply_len)
{
	struct transport_route route = {.id = "r", .len = 1}, got;
	uint8_t *reply = NULL;

	assert_int_equal(witness_inbound(&w->d, &route, from, req, len), 1);
	assert_int_equal(writer_flush(&w->d), 0);
	if (transport_mem_reply_take(w->d.transport, &got, &reply,
				     reply_len) != 0)
		return NULL;
	return reply;
}

/* The log `l` asks `w`: its request (caller frees). */
static uint8_t *log_asks(struct daemon_fixture *l, struct daemon_fixture *w,
			 size_t *len)
{
	size_t link = daemon_fixture_link(l, w->d.cfg->agency);
	uint8_t *req = NULL;

	transport_mem_link_up(l->d.transport, link, 1);
	witness_pump(&l->d, 1000);
	assert_int_equal(transport_mem_link_take(l->d.transport, link, &req,
						 len), 0);
	return req;
}

/* `l` takes answer `reply` from `w` and commits. */
static void log_takes(struct daemon_fixture *l, struct daemon_fixture *w,
		      const uint8_t *reply, size_t len)
{
	size_t link = daemon_fixture_link(l, w->d.cfg->agency);

	assert_int_equal(witness_link_frame(&l->d, link, reply, len), 1);
	assert_int_equal(writer_flush(&l->d), 0);
}

static Ppx__V1__Frame *decode(const uint8_t *data, size_t len)
{
	Ppx__V1__Frame *f = NULL;

	assert_int_equal(ppx_frame_decode(&f, data, len), 0);
	return f;
}

static uint8_t *pack(const Ppx__V1__Frame *f, size_t *len)
{
	uint8_t *buf;

	*len = ppx__v1__frame__get_packed_size(f);
	buf = malloc(*len);
	assert_non_null(buf);
	ppx__v1__frame__pack(f, buf);
	return buf;
}

/* A replayed COSIGNED answer is not logged a second time. */
static void test_replayed_cosignature(void **state)
{
	struct daemon_fixture *l = daemon(POLICE), *w = daemon(PROBATION);
	uint8_t *req, *reply;
	size_t len, reply_len;

	(void)state;
	log_something(l);
	req = log_asks(l, w, &len);
	reply = witness_answers(w, POLICE, req, len, &reply_len);
	assert_non_null(reply);
	log_takes(l, w, reply, reply_len);
	assert_int_equal(count(l, PPX__V1__ENTRY_KIND__ENTRY_COSIGNED), 1);
	log_takes(l, w, reply, reply_len);
	log_takes(l, w, reply, reply_len);
	assert_int_equal(count(l, PPX__V1__ENTRY_KIND__ENTRY_COSIGNED), 1);
	free(req);
	free(reply);
	daemon_free(&l);
	daemon_free(&w);
}

/* A cosignature the witness signed but that names the wrong agencies, or
 * a timestamp far from now, is not logged. */
static void test_hostile_cosignature(void **state)
{
	struct daemon_fixture *l = daemon(POLICE), *w = daemon(PROBATION);
	uint8_t *req, *reply, *bad;
	size_t len, reply_len, bad_len;
	Ppx__V1__Frame *f;
	Ppx__V1__WitnessReply *r;
	char note[PPX_NOTE_MAX], msg[PPX_NOTE_MAX + 64];
	uint8_t sig[PPX_SIG_MAX];
	size_t note_len, msg_len, sig_len;
	char *orig_w, *orig_l;
	ProtobufCBinaryData orig_sig;

	(void)state;
	log_something(l);
	req = log_asks(l, w, &len);
	reply = witness_answers(w, POLICE, req, len, &reply_len);
	assert_non_null(reply);
	f = decode(reply, reply_len);
	r = f->cosignature;
	assert_int_equal(r->result, PPX__V1__WITNESS_RESULT__COSIGNED);
	orig_w = r->witness_agency;
	orig_l = r->log_agency;
	orig_sig = r->signature;

	/* witness_agency our own name: the signature still holds */
	r->witness_agency = POLICE;
	bad = pack(f, &bad_len);
	log_takes(l, w, bad, bad_len);
	free(bad);
	r->witness_agency = PROBATION;
	r->log_agency = PRISON;
	bad = pack(f, &bad_len);
	log_takes(l, w, bad, bad_len);
	free(bad);
	r->log_agency = POLICE;
	assert_int_equal(count(l, PPX__V1__ENTRY_KIND__ENTRY_COSIGNED), 0);

	/* timestamp 1, signed by the witness */
	assert_int_equal(ppx_note_checkpoint_text(note, sizeof(note),
						  &note_len, POLICE,
						  r->tree_size,
						  r->root_hash.data), 0);
	assert_int_equal(ppx_note_cosigned_message(msg, sizeof(msg), &msg_len,
						   1, note, note_len), 0);
	assert_int_equal(ppx_signer_sign(w->d.signer, sig, sizeof(sig),
					 &sig_len, (const uint8_t *)msg,
					 msg_len), 0);
	r->timestamp = 1;
	r->signature.data = sig;
	r->signature.len = sig_len;
	bad = pack(f, &bad_len);
	log_takes(l, w, bad, bad_len);
	free(bad);
	assert_int_equal(count(l, PPX__V1__ENTRY_KIND__ENTRY_COSIGNED), 0);

	/* the genuine answer is still taken */
	log_takes(l, w, reply, reply_len);
	assert_int_equal(count(l, PPX__V1__ENTRY_KIND__ENTRY_COSIGNED), 1);
	/* protobuf-c frees what it unpacked: put its own pointers back */
	r->witness_agency = orig_w;
	r->log_agency = orig_l;
	r->signature = orig_sig;
	ppx__v1__frame__free_unpacked(f, NULL);
	free(req);
	free(reply);
	daemon_free(&l);
	daemon_free(&w);
}

/* The signed checkpoint of `agency`'s log at (size, root), as an
 * Envelope (caller frees), and the note signature into sig. */
static Ppx__V1__Envelope *checkpoint_of(struct daemon_fixture *f,
					uint64_t size, uint8_t *root,
					uint8_t *sig, size_t *sig_len)
{
	Ppx__V1__Checkpoint cp = PPX__V1__CHECKPOINT__INIT;
	uint8_t body[512], *frame = NULL;
	char note[PPX_NOTE_MAX];
	size_t len, note_len;
	Ppx__V1__Frame *fr;
	Ppx__V1__Envelope *env;

	cp.agency = f->d.cfg->agency;
	cp.tree_size = size;
	cp.root_hash.data = root;
	cp.root_hash.len = 32;
	cp.time_ms = 1;
	assert_int_equal(ppx_frame_seal(&frame, &len, f->d.signer,
			 PPX__V1__SIGNED_PURPOSE__SIGNED_CHECKPOINT, body,
			 ppx__v1__checkpoint__pack(&cp, body)), 0);
	fr = decode(frame, len);
	free(frame);
	env = fr->checkpoint;
	fr->checkpoint = NULL;
	fr->content_case = PPX__V1__FRAME__CONTENT__NOT_SET;
	ppx__v1__frame__free_unpacked(fr, NULL);
	if (sig) {
		assert_int_equal(ppx_note_checkpoint_text(note, sizeof(note),
							  &note_len,
							  cp.agency, size,
							  root), 0);
		assert_int_equal(ppx_signer_sign(f->d.signer, sig, PPX_SIG_MAX,
						 sig_len,
						 (const uint8_t *)note,
						 note_len), 0);
	}
	return env;
}

static Ppx__V1__Envelope *checkpoint(struct daemon_fixture *f, uint64_t size,
				     uint8_t fill, uint8_t *sig,
				     size_t *sig_len)
{
	uint8_t root[32];

	memset(root, fill, sizeof(root));
	return checkpoint_of(f, size, root, sig, sig_len);
}

/* A checkpoint of `f`'s real log as it stands, as its receipts carry. */
static Ppx__V1__Envelope *checkpoint_now(struct daemon_fixture *f)
{
	uint64_t size = ppx_log_size(f->d.log);
	ppx_hash root;

	assert_int_equal(ppx_log_root(f->d.log, size, root), 0);
	return checkpoint_of(f, size, root, NULL, NULL);
}

/* A request of `l`'s log at (size, fill) with `n` gossip envelopes. */
static uint8_t *request(struct daemon_fixture *l, uint64_t size,
			uint8_t fill, Ppx__V1__Envelope **gossip, size_t n,
			int bad_sig, size_t *len)
{
	Ppx__V1__Frame f = PPX__V1__FRAME__INIT;
	Ppx__V1__WitnessRequest q = PPX__V1__WITNESS_REQUEST__INIT;
	uint8_t sig[PPX_SIG_MAX], *out;
	size_t sig_len = 0;
	Ppx__V1__Envelope *cp = checkpoint(l, size, fill, sig, &sig_len);

	if (bad_sig)
		sig[sig_len / 2] ^= 1;
	q.checkpoint = cp;
	q.note_signature.data = sig;
	q.note_signature.len = sig_len;
	q.gossip = gossip;
	q.n_gossip = n;
	f.version = PPX__V1__WIRE_VERSION__WIRE_VERSION_1;
	f.content_case = PPX__V1__FRAME__CONTENT_WITNESS;
	f.witness = &q;
	out = pack(&f, len);
	ppx__v1__envelope__free_unpacked(cp, NULL);
	return out;
}

static Ppx__V1__WitnessResult result(const uint8_t *reply, size_t len)
{
	Ppx__V1__Frame *f = decode(reply, len);
	Ppx__V1__WitnessResult r = f->cosignature->result;

	ppx__v1__frame__free_unpacked(f, NULL);
	return r;
}

/* A request whose note signature does not verify is refused, not logged. */
static void test_refused_not_logged(void **state)
{
	struct daemon_fixture *l = daemon(POLICE), *w = daemon(PROBATION);
	uint8_t *req, *reply;
	size_t len, reply_len;

	(void)state;
	req = request(l, 5, 0xaa, NULL, 0, 1, &len);
	reply = witness_answers(w, POLICE, req, len, &reply_len);
	assert_non_null(reply);
	assert_int_equal(result(reply, reply_len),
			 PPX__V1__WITNESS_RESULT__WITNESS_REFUSED);
	assert_int_equal(count(w, PPX__V1__ENTRY_KIND__ENTRY_WITNESSED), 0);
	free(req);
	free(reply);
	daemon_free(&l);
	daemon_free(&w);
}

/*
 * Police gossips eight genuine checkpoints of prison's log; prison's own
 * receipt then shows probation a checkpoint of size 20, and prison asks
 * probation to cosign another root at size 20: a split view, found
 * however much police gossiped.  The answer shows the receipt's
 * checkpoint (nothing of prison was held).
 */
static void test_gossip_cannot_crowd_out(void **state)
{
	struct daemon_fixture *pol = daemon(POLICE), *w = daemon(PROBATION),
			      *pri = daemon(PRISON);
	Ppx__V1__Envelope *g[8], *receipt_cp;
	Ppx__V1__Checkpoint *held;
	Ppx__V1__Frame *f;
	uint8_t *req, *reply;
	size_t len, reply_len;

	(void)state;
	for (size_t i = 0; i < 8; i++)
		g[i] = checkpoint(pri, 2 + i, 0x10 + (uint8_t)i, NULL, NULL);
	req = request(pol, 3, 0x01, g, 8, 0, &len);
	free(witness_answers(w, POLICE, req, len, &reply_len));
	free(req);
	for (size_t i = 0; i < 8; i++)
		ppx__v1__envelope__free_unpacked(g[i], NULL);

	receipt_cp = checkpoint(pri, 20, 0x77, NULL, NULL);
	witness_receipt_seen(&w->d, PRISON, receipt_cp);
	ppx__v1__envelope__free_unpacked(receipt_cp, NULL);

	req = request(pri, 20, 0x66, NULL, 0, 0, &len);
	reply = witness_answers(w, PRISON, req, len, &reply_len);
	assert_non_null(reply);
	f = decode(reply, reply_len);
	assert_int_equal(f->cosignature->result,
			 PPX__V1__WITNESS_RESULT__INCONSISTENT);
	assert_int_equal(count(w, PPX__V1__ENTRY_KIND__ENTRY_WITNESS_ALARM),
			 1);
	assert_non_null(f->cosignature->held);
	held = ppx__v1__checkpoint__unpack(NULL,
			f->cosignature->held->signed_body.len,
			f->cosignature->held->signed_body.data);
	assert_non_null(held);
	assert_int_equal(held->tree_size, 20);
	assert_int_equal(held->root_hash.len, 32);
	assert_int_equal(held->root_hash.data[0], 0x77);
	ppx__v1__checkpoint__free_unpacked(held, NULL);
	ppx__v1__frame__free_unpacked(f, NULL);
	free(req);
	free(reply);
	daemon_free(&pol);
	daemon_free(&w);
	daemon_free(&pri);
}

/* A new session, so that `l` asks `w` at once, not after the interval. */
static uint8_t *log_asks_anew(struct daemon_fixture *l,
			      struct daemon_fixture *w, size_t *len)
{
	transport_mem_link_up(l->d.transport,
			      daemon_fixture_link(l, w->d.cfg->agency), 0);
	witness_pump(&l->d, 1000);
	return log_asks(l, w, len);
}

/* `l` asks `w`, `w` answers and `l` takes the answer: its result. */
static Ppx__V1__WitnessResult round_trip(struct daemon_fixture *l,
					 struct daemon_fixture *w, int anew)
{
	size_t len, reply_len;
	uint8_t *req = anew ? log_asks_anew(l, w, &len) : log_asks(l, w, &len);
	uint8_t *reply = witness_answers(w, l->d.cfg->agency, req, len,
					 &reply_len);
	Ppx__V1__WitnessResult r;

	assert_non_null(reply);
	r = result(reply, reply_len);
	log_takes(l, w, reply, reply_len);
	free(req);
	free(reply);
	return r;
}

/* The log's receipts, each with a newer checkpoint, arrive between the
 * witness's PROOF_NEEDED and the log's next request (a steady stream of
 * messages does that every time): the size asked for stays until the
 * log proves it, so the next request is cosigned.  Were each receipt's
 * checkpoint to replace it, every request would be asked for a size it
 * could not yet have proven, and the log would never be cosigned. */
static void test_receipts_cannot_stall_witnessing(void **state)
{
	struct daemon_fixture *l = daemon(POLICE), *w = daemon(PROBATION);
	Ppx__V1__Envelope *rc;

	(void)state;
	log_something(l);
	assert_int_equal(round_trip(l, w, 0),
			 PPX__V1__WITNESS_RESULT__COSIGNED);
	for (int round = 0; round < 3; round++) {
		log_something(l);
		rc = checkpoint_now(l);	/* a receipt the witness takes */
		witness_receipt_seen(&w->d, POLICE, rc);
		ppx__v1__envelope__free_unpacked(rc, NULL);
		log_something(l);
		assert_int_equal(round_trip(l, w, 1),
				 PPX__V1__WITNESS_RESULT__PROOF_NEEDED);
		log_something(l);	/* the next receipt, newer */
		rc = checkpoint_now(l);
		witness_receipt_seen(&w->d, POLICE, rc);
		ppx__v1__envelope__free_unpacked(rc, NULL);
		log_something(l);
		assert_int_equal(round_trip(l, w, 0),	/* the retry */
				 PPX__V1__WITNESS_RESULT__COSIGNED);
	}
	assert_int_equal(count(l, PPX__V1__ENTRY_KIND__ENTRY_COSIGNED), 4);
	assert_int_equal(count(w, PPX__V1__ENTRY_KIND__ENTRY_WITNESS_ALARM),
			 0);
	daemon_free(&l);
	daemon_free(&w);
}

/* A split view with nothing held of the log: the answer's `held` is the
 * receipt's checkpoint that disagrees, not an empty envelope. */
static void test_split_view_shows_checkpoint(void **state)
{
	struct daemon_fixture *w = daemon(PROBATION), *pri = daemon(PRISON);
	Ppx__V1__Envelope *receipt_cp = checkpoint(pri, 4, 0x44, NULL, NULL);
	Ppx__V1__Checkpoint *held;
	Ppx__V1__Frame *f;
	uint8_t *req, *reply;
	size_t len, reply_len;

	(void)state;
	witness_receipt_seen(&w->d, PRISON, receipt_cp);
	ppx__v1__envelope__free_unpacked(receipt_cp, NULL);
	req = request(pri, 4, 0x55, NULL, 0, 0, &len);
	reply = witness_answers(w, PRISON, req, len, &reply_len);
	assert_non_null(reply);
	f = decode(reply, reply_len);
	assert_int_equal(f->cosignature->result,
			 PPX__V1__WITNESS_RESULT__INCONSISTENT);
	assert_non_null(f->cosignature->held);
	held = ppx__v1__checkpoint__unpack(NULL,
			f->cosignature->held->signed_body.len,
			f->cosignature->held->signed_body.data);
	assert_non_null(held);
	assert_int_equal(held->tree_size, 4);
	assert_int_equal(held->root_hash.len, 32);
	assert_int_equal(held->root_hash.data[0], 0x44);
	ppx__v1__checkpoint__free_unpacked(held, NULL);
	ppx__v1__frame__free_unpacked(f, NULL);
	free(req);
	free(reply);
	daemon_free(&w);
	daemon_free(&pri);
}

/* ------------------------------------------------------------------ */
/* A directory in force that no longer lists prison's signing key      */
/* ------------------------------------------------------------------ */

static ProtobufCBinaryData der(ppx_cert *c)
{
	ProtobufCBinaryData b = {0, NULL};

	assert_int_equal(ppx_cert_der(&b.data, &b.len, c), 0);
	ppx_cert_free(c);
	return b;
}

static ProtobufCBinaryData demo_der(const char *agency, const char *role)
{
	char rel[256];
	ppx_cert *c = NULL;

	snprintf(rel, sizeof(rel), "agencies/%s/%s.crt", agency, role);
	assert_int_equal(ppx_cert_load(&c, pki_path(rel)), 0);
	return der(c);
}

static ppx_signer *directory_signer(void)
{
	char key[4096], crt[4096];
	ppx_signer *s = NULL;

	snprintf(key, sizeof(key), "%s",
		 pki_path("test/directory/directory.key"));
	snprintf(crt, sizeof(crt), "%s",
		 pki_path("test/directory/directory.crt"));
	if (ppx_signer_load(&s, key, crt) != 0)
		fail_msg("no test directory key (make pki): %s",
			 ppx_error_last());
	return s;
}

/*
 * A directory judged by `f`'s trust: police, probation and prison all
 * active with their transport keys; police and probation with their
 * signing keys, prison with a new one only (its old key dropped, as
 * after a compromise, and not revoked yet).
 */
static struct ppx_directory *directory_without_prison_key(
	struct daemon_fixture *f)
{
	static const char *const names[3] = {POLICE, PROBATION, PRISON};
	static const char *const types[3] = {"police", "probation", "prison"};
	Ppx__V1__Directory dir = PPX__V1__DIRECTORY__INIT;
	Ppx__V1__DirectoryAgency a[3], *ap[3];
	ProtobufCBinaryData sign[3], trans[3];
	char *eps[3][1] = {{"tcp://127.0.0.1:7101"}, {"tcp://127.0.0.1:7102"},
			   {"tcp://127.0.0.1:7103"}};
	int64_t now = (int64_t)time(NULL) * 1000;
	uint8_t *buf, *signed_bytes = NULL;
	size_t len = 0, packed;
	ppx_signer *s = directory_signer();
	struct ppx_directory *parsed = NULL;

	dir.federation = "england-wales";
	dir.serial = 1;
	dir.issued_ms = now;
	dir.not_before_ms = now - DAY_MS;
	dir.not_after_ms = now + DAY_MS;
	dir.baseline_policy = "";
	for (int i = 0; i < 3; i++) {
		sign[i] = i == 2 ? der(forge_cert(PRISON, "signing",
						  "critical,digitalSignature"))
				 : demo_der(names[i], "signing");
		trans[i] = demo_der(names[i], "transport");
		ppx__v1__directory_agency__init(&a[i]);
		a[i].name = (char *)names[i];
		a[i].type = (char *)types[i];
		a[i].display_name = "";
		a[i].endpoints = eps[i];
		a[i].n_endpoints = 1;
		a[i].signing_certificates = &sign[i];
		a[i].n_signing_certificates = 1;
		a[i].transport_certificates = &trans[i];
		a[i].n_transport_certificates = 1;
		a[i].status = PPX__V1__AGENCY_STATUS__AGENCY_ACTIVE;
		ap[i] = &a[i];
	}
	dir.agencies = ap;
	dir.n_agencies = 3;
	packed = ppx__v1__directory__get_packed_size(&dir);
	buf = malloc(packed);
	assert_non_null(buf);
	ppx__v1__directory__pack(&dir, buf);
	assert_int_equal(ppx_directory_sign(&signed_bytes, &len, buf, packed,
					    s), 0);
	if (ppx_directory_parse(&parsed, signed_bytes, len, f->d.trust,
				time(NULL)) != 0)
		fail_msg("directory refused: %s", ppx_error_last());
	for (int i = 0; i < 3; i++) {
		free(sign[i].data);
		free(trans[i].data);
	}
	free(buf);
	free(signed_bytes);
	ppx_signer_free(s);
	return parsed;
}

/*
 * With that directory in force at probation, police gossips and prison's
 * receipt shows checkpoints of prison's log signed with the dropped key:
 * neither is kept.  Later (the directory taken away, so that prison's own
 * request is judged at all) prison asks to cosign a third root at that
 * size, and is cosigned: nothing of the dropped key was held
 * against it, and no alarm is raised.
 */
static void test_dropped_key_checkpoints_not_taken(void **state)
{
	struct daemon_fixture *pol = daemon(POLICE), *w = daemon(PROBATION),
			      *pri = daemon(PRISON);
	struct ppx_directory *dir = directory_without_prison_key(w);
	Ppx__V1__Envelope *g, *receipt_cp;
	uint8_t *req, *reply;
	size_t len, reply_len;

	(void)state;
	w->d.directory = dir;
	g = checkpoint(pri, 4, 0x44, NULL, NULL);
	req = request(pol, 3, 0x01, &g, 1, 0, &len);
	reply = witness_answers(w, POLICE, req, len, &reply_len);
	assert_non_null(reply);
	assert_int_equal(result(reply, reply_len),
			 PPX__V1__WITNESS_RESULT__COSIGNED);
	free(reply);
	free(req);
	ppx__v1__envelope__free_unpacked(g, NULL);
	receipt_cp = checkpoint(pri, 4, 0x66, NULL, NULL);
	witness_receipt_seen(&w->d, PRISON, receipt_cp);
	assert_int_not_equal(witness_checkpoint_allowed(&w->d, PRISON,
							receipt_cp), 0);
	ppx__v1__envelope__free_unpacked(receipt_cp, NULL);
	w->d.directory = NULL;

	req = request(pri, 4, 0x55, NULL, 0, 0, &len);
	reply = witness_answers(w, PRISON, req, len, &reply_len);
	assert_non_null(reply);
	assert_int_equal(result(reply, reply_len),
			 PPX__V1__WITNESS_RESULT__COSIGNED);
	free(reply);
	free(req);
	assert_int_equal(count(w, PPX__V1__ENTRY_KIND__ENTRY_WITNESS_ALARM),
			 0);
	ppx_directory_free(dir);
	daemon_free(&pol);
	daemon_free(&w);
	daemon_free(&pri);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_replayed_cosignature),
		cmocka_unit_test(test_hostile_cosignature),
		cmocka_unit_test(test_refused_not_logged),
		cmocka_unit_test(test_gossip_cannot_crowd_out),
		cmocka_unit_test(test_split_view_shows_checkpoint),
		cmocka_unit_test(test_receipts_cannot_stall_witnessing),
		cmocka_unit_test(test_dropped_key_checkpoints_not_taken),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
