/*
 * test_evidence.c — the offline verifier of evidence bundles on what is
 * not a bundle, and the cosigned text it checks witnesses' signatures
 * over.
 *
 * Bundles of messages made from real daemons' logs, and every byte of
 * them changed, are tested in tests/integration/evidence.sh (build/tests/
 * evidence-flip).  Here the verifier meets input that must fail before
 * any certificate is needed, saying which check failed; and a log built
 * in the test, with witnessing records as a log holds them (ENTRY_COSIGNED:
 * our WitnessRequest and a partner's COSIGNED WitnessReply), gives an
 * entry bundle that carries two witnesses' cosignatures -- one of the
 * checkpoint proven against, one of a later checkpoint with the
 * consistency proof to it -- which verifies, and fails with any byte
 * changed.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "ppx/checkpoint.h"
#include "ppx/error.h"
#include "ppx/evidence.h"
#include "ppx/logstore.h"
#include "support.h"
#include "ppx.pb-c.h"

/* Verify `buf` and expect a failure whose reason begins with `prefix`. */
static void expect_fail(const uint8_t *buf, size_t len, const char *prefix)
{
	ppx_evidence_report r;

	assert_int_equal(ppx_evidence_verify(&r, buf, len, NULL, 0), 0);
	assert_int_equal(r.ok, 0);
	if (strncmp(r.reason, prefix, strlen(prefix)) != 0)
		fail_msg("reason '%s', expected '%s...'", r.reason, prefix);
	ppx_evidence_report_clear(&r);
}

/* A bundle of `b` with the digest field appended, as ppx prove ends it. */
static uint8_t *pack(const Ppx__V1__EvidenceBundle *b, size_t *len)
{
	size_t n = ppx__v1__evidence_bundle__get_packed_size(b);
	uint8_t *buf = malloc(n + 34);

	assert_non_null(buf);
	ppx__v1__evidence_bundle__pack(b, buf);
	buf[n] = 0x7a;
	buf[n + 1] = 0x20;
	memset(buf + n + 2, 0, 32);
	*len = n + 34;
	return buf;
}

static void test_evidence__garbage_is_not_a_bundle(void **state)
{
	static const uint8_t junk[] = {0xff, 0xff, 0xff, 0x01, 0x02};

	(void)state;
	expect_fail(junk, sizeof(junk), "bundle: does not decode");
}

static void test_evidence__empty_file_has_no_version(void **state)
{
	(void)state;
	expect_fail((const uint8_t *)"", 0, "bundle: version 0");
}

static void test_evidence__other_version_is_refused(void **state)
{
	Ppx__V1__EvidenceBundle b = PPX__V1__EVIDENCE_BUNDLE__INIT;
	size_t len;
	uint8_t *buf;

	(void)state;
	b.version = 2;
	buf = pack(&b, &len);
	expect_fail(buf, len, "bundle: version 2");
	free(buf);
}

static void test_evidence__unknown_field_is_refused(void **state)
{
	Ppx__V1__EvidenceBundle b = PPX__V1__EVIDENCE_BUNDLE__INIT;
	size_t len;
	uint8_t *buf, *more;

	(void)state;
	b.version = 1;
	buf = pack(&b, &len);
	/* field 9, varint 1, before the digest */
	more = malloc(len + 2);
	assert_non_null(more);
	memcpy(more, buf, len - 34);
	more[len - 34] = 9 << 3;
	more[len - 33] = 1;
	memcpy(more + len - 32, buf + len - 34, 34);
	expect_fail(more, len + 2, "bundle: a field this version does not");
	free(buf);
	free(more);
}

static void test_evidence__digest_must_end_the_file(void **state)
{
	Ppx__V1__EvidenceBundle b = PPX__V1__EVIDENCE_BUNDLE__INIT;
	size_t n;
	uint8_t buf[8];

	(void)state;
	b.version = 1;
	n = ppx__v1__evidence_bundle__pack(&b, buf);
	expect_fail(buf, n, "bundle: the digest is not its last field");
}

static void test_evidence__a_bundle_without_proofs_fails(void **state)
{
	Ppx__V1__EvidenceBundle b = PPX__V1__EVIDENCE_BUNDLE__INIT;
	size_t len;
	uint8_t *buf;

	(void)state;
	b.version = 1;
	buf = pack(&b, &len);
	expect_fail(buf, len, "bundle: a message bundle needs a log proof");
	free(buf);
}

static void test_evidence__cosigned_text_is_c2sp(void **state)
{
	uint8_t root[32];
	char text[256];
	int n;

	(void)state;
	for (int i = 0; i < 32; i++)
		root[i] = (uint8_t)i;
	n = ppx_evidence_cosigned_text(text, sizeof(text), "police.gwent", 42,
				       root, 1700000000);
	assert_int_equal(n, (int)strlen(text));
	assert_string_equal(text,
			    "cosignature/v1\n"
			    "time 1700000000\n"
			    "police.gwent/ppx-log\n"
			    "42\n"
			    "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n");
	assert_int_equal(ppx_evidence_cosigned_text(text, 20, "police.gwent",
						    42, root, 1),
			 PPX_ERANGE);
}

/* ---- a log with witnessing records --------------------------------- */

static void append_note(ppx_log *log, const char *detail)
{
	Ppx__V1__LogEntry e = PPX__V1__LOG_ENTRY__INIT;

	e.kind = PPX__V1__ENTRY_KIND__ENTRY_NOTE;
	e.time_ms = (int64_t)time(NULL) * 1000;
	e.detail = (char *)detail;
	assert_int_equal(ppx_log_append_one(log, &e, NULL), 0);
}

/* A frame of `f`, packed into a malloc'd buffer. */
static ProtobufCBinaryData frame_pack(Ppx__V1__Frame *f)
{
	ProtobufCBinaryData d;

	f->version = 1;
	d.len = ppx__v1__frame__get_packed_size(f);
	d.data = malloc(d.len);
	assert_non_null(d.data);
	ppx__v1__frame__pack(f, d.data);
	return d;
}

/*
 * Sign a checkpoint of police's log as it stands, and log `witness`'s
 * cosignature of it as police's daemon would (ENTRY_COSIGNED).
 */
static void checkpoint_cosigned(ppx_log *log, ppx_signer *police,
				const char *witness)
{
	Ppx__V1__Frame *cpf = NULL, req = PPX__V1__FRAME__INIT;
	Ppx__V1__Frame rep = PPX__V1__FRAME__INIT;
	Ppx__V1__WitnessRequest wq = PPX__V1__WITNESS_REQUEST__INIT;
	Ppx__V1__WitnessReply wr = PPX__V1__WITNESS_REPLY__INIT;
	Ppx__V1__WitnessRecord rec = PPX__V1__WITNESS_RECORD__INIT;
	Ppx__V1__LogEntry e = PPX__V1__LOG_ENTRY__INIT;
	Ppx__V1__Checkpoint *cp;
	ppx_signer *w = signer_at(witness);
	uint8_t *frame, sig[PPX_SIG_MAX], data[8192];
	size_t len, siglen;
	char text[512];
	time_t now = time(NULL);
	int n;

	assert_int_equal(ppx_checkpoint_append(log, police, &frame, &len,
					       NULL), 0);
	assert_int_equal(ppx_frame_decode(&cpf, frame, len), 0);
	cp = ppx__v1__checkpoint__unpack(NULL,
					 cpf->checkpoint->signed_body.len,
					 cpf->checkpoint->signed_body.data);
	assert_non_null(cp);
	n = ppx_evidence_cosigned_text(text, sizeof(text), "police.gwent",
				       cp->tree_size, cp->root_hash.data,
				       (uint64_t)now);
	assert_true(n > 0);
	assert_int_equal(ppx_signer_sign(w, sig, sizeof(sig), &siglen,
					 (const uint8_t *)text, (size_t)n), 0);
	wq.checkpoint = cpf->checkpoint;
	req.content_case = PPX__V1__FRAME__CONTENT_WITNESS;
	req.witness = &wq;
	wr.witness_agency = (char *)witness;
	wr.log_agency = "police.gwent";
	wr.tree_size = cp->tree_size;
	wr.root_hash = cp->root_hash;
	wr.result = PPX__V1__WITNESS_RESULT__COSIGNED;
	wr.timestamp = (uint64_t)now;
	wr.signature.data = sig;
	wr.signature.len = siglen;
	wr.algorithm = ppx_signer_algorithm(w);
	wr.signer_fingerprint.data = (uint8_t *)ppx_signer_fingerprint(w);
	wr.signer_fingerprint.len = PPX_FINGERPRINT_LEN;
	rep.content_case = PPX__V1__FRAME__CONTENT_COSIGNATURE;
	rep.cosignature = &wr;
	rec.request = frame_pack(&req);
	rec.reply = frame_pack(&rep);
	assert_true(ppx__v1__witness_record__get_packed_size(&rec) <=
		    sizeof(data));
	e.data.len = ppx__v1__witness_record__pack(&rec, data);
	e.data.data = data;
	e.kind = PPX__V1__ENTRY_KIND__ENTRY_COSIGNED;
	e.peer_agency = (char *)witness;
	assert_int_equal(ppx_log_append_one(log, &e, NULL), 0);
	free(rec.request.data);
	free(rec.reply.data);
	ppx__v1__checkpoint__free_unpacked(cp, NULL);
	ppx__v1__frame__free_unpacked(cpf, NULL);
	free(frame);
	ppx_signer_free(w);
}

/* Police's log with a note at 0 cosigned by two witnesses, and the entry
 * bundle of that note with the CA it is checked against. */
static void witnessed_bundle(uint8_t **bundle, size_t *len, uint8_t **ca,
			     size_t *ca_len)
{
	char *dir = tmpdir_new();
	ppx_signer *police = signer_at("police.gwent");
	ppx_trust *trust = trust_demo();
	struct ppx_evidence_pki pki = {.trust = trust};
	ppx_log *log = NULL;

	assert_int_equal(ppx_log_open(&log, dir, NULL), 0);
	append_note(log, "the entry proven");
	append_note(log, "another");
	checkpoint_cosigned(log, police, "probation.gwent");	/* size 2 */
	append_note(log, "later");
	checkpoint_cosigned(log, police, "prison.cardiff");	/* size 5 */
	pki.ca_file = pki_path("ca/ca.crt");
	pki.crl_file = pki_path2("ca/crl.pem");
	assert_int_equal(ppx_evidence_prove_entry(bundle, len, log, &pki, 0),
			 0);
	assert_int_equal(ppx_evidence_read_ca(ca, ca_len,
					      pki_path("ca/ca.crt")), 0);
	ppx_log_close(log);
	ppx_trust_free(trust);
	ppx_signer_free(police);
	tmpdir_remove(dir);
}

static void test_evidence__entry_with_two_witnesses_verifies(void **state)
{
	ppx_evidence_report r;
	uint8_t *bundle = NULL, *ca = NULL;
	size_t len = 0, ca_len = 0;

	(void)state;
	witnessed_bundle(&bundle, &len, &ca, &ca_len);
	assert_int_equal(ppx_evidence_verify(&r, bundle, len, ca, ca_len), 0);
	if (!r.ok)
		fail_msg("%s\n%s", r.reason, r.text ? r.text : "");
	assert_non_null(strstr(r.text, "checkpoint of 2 entries"));
	assert_non_null(strstr(r.text, "cosigned by probation.gwent"));
	assert_non_null(strstr(r.text, "cosigned by prison.cardiff"));
	assert_non_null(strstr(r.text, "consistent with the checkpoint"));
	ppx_evidence_report_clear(&r);
	free(bundle);
	free(ca);
}

/* Left out under valgrind (tests/run-tests): thousands of verifications. */
static void test_evidence__every_single_byte_change_fails(void **state)
{
	ppx_evidence_report r;
	uint8_t *bundle = NULL, *ca = NULL;
	size_t len = 0, ca_len = 0, still = 0;

	(void)state;
	witnessed_bundle(&bundle, &len, &ca, &ca_len);
	for (size_t i = 0; i < len; i++) {
		bundle[i] ^= 0x01;
		assert_int_equal(ppx_evidence_verify(&r, bundle, len, ca,
						     ca_len), 0);
		if (r.ok)
			print_error("byte %zu changed still verifies\n", i);
		still += r.ok;
		ppx_evidence_report_clear(&r);
		bundle[i] ^= 0x01;
	}
	assert_int_equal(still, 0);
	free(bundle);
	free(ca);
}

/* ---- a message with a personal signature -------------------------- */

/* A frame of `body` sealed by police, with dana.evans's personal
 * signature over the same signed_body (PROTOCOL.md 3.2). */
static ProtobufCBinaryData person_signed_frame(const Ppx__V1__Body *body)
{
	Ppx__V1__PersonSignature ps = PPX__V1__PERSON_SIGNATURE__INIT;
	ppx_signer *police = signer_at("police.gwent"), *dana = NULL;
	Ppx__V1__Frame *f = NULL;
	ProtobufCBinaryData out;
	uint8_t *frame, *tbs, sig[PPX_SIG_MAX];
	size_t len, n, siglen;

	assert_int_equal(ppx_body_seal(&frame, &len, police, body), 0);
	assert_int_equal(ppx_frame_decode(&f, frame, len), 0);
	assert_int_equal(ppx_signer_load(&dana, pki_path(
		"people/police.gwent/dana.evans.key"), pki_path2(
		"people/police.gwent/dana.evans.crt")), 0);
	n = 14 + f->message->signed_body.len;
	tbs = malloc(n);
	assert_non_null(tbs);
	memcpy(tbs, "ppx/v1/person", 14);
	memcpy(tbs + 14, f->message->signed_body.data,
	       f->message->signed_body.len);
	assert_int_equal(ppx_signer_sign(dana, sig, sizeof(sig), &siglen, tbs,
					 n), 0);
	assert_int_equal(ppx_evidence_read_ca(&ps.certificate.data,
					      &ps.certificate.len, pki_path(
		"people/police.gwent/dana.evans.crt")), 0);
	ps.signature.data = sig;
	ps.signature.len = siglen;
	ps.algorithm = ppx_signer_algorithm(dana);
	f->message->person = &ps;
	out.len = ppx__v1__frame__get_packed_size(f);
	out.data = malloc(out.len);
	assert_non_null(out.data);
	ppx__v1__frame__pack(f, out.data);
	f->message->person = NULL;
	ppx__v1__frame__free_unpacked(f, NULL);
	free(ps.certificate.data);
	free(tbs);
	free(frame);
	ppx_signer_free(dana);
	ppx_signer_free(police);
	return out;
}

/* Police's log with the SENT entry of a person-signed message and a
 * checkpoint of it, and the message bundle with the CA it is checked
 * against. */
static void person_signed_bundle(uint8_t **bundle, size_t *len, uint8_t **ca,
				 size_t *ca_len)
{
	Ppx__V1__LogEntry e = PPX__V1__LOG_ENTRY__INIT;
	Ppx__V1__Body *body = body_new("police.gwent", "probation.gwent");
	ppx_signer *police = signer_at("police.gwent");
	ppx_trust *trust = trust_demo();
	struct ppx_evidence_pki pki = {.trust = trust};
	char *dir = tmpdir_new();
	uint8_t fp[PPX_HASH_LEN];
	ppx_log *log = NULL;

	assert_int_equal(ppx_evidence_read_ca(ca, ca_len, pki_path(
		"people/police.gwent/dana.evans.crt")), 0);
	body->sender_person->certificate_fingerprint.data = fp;
	body->sender_person->certificate_fingerprint.len = sizeof(fp);
	ppx_sha256(fp, *ca, *ca_len);
	free(*ca);
	assert_int_equal(ppx_log_open(&log, dir, NULL), 0);
	e.kind = PPX__V1__ENTRY_KIND__ENTRY_SENT;
	e.message_id = body->message_id;
	e.time_ms = body->created_ms;
	e.data = person_signed_frame(body);
	assert_int_equal(ppx_log_append_one(log, &e, NULL), 0);
	assert_int_equal(ppx_checkpoint_append(log, police, NULL, NULL, NULL),
			 0);
	pki.ca_file = pki_path("ca/ca.crt");
	pki.crl_file = pki_path2("ca/crl.pem");
	assert_int_equal(ppx_evidence_prove_message(bundle, len, log, &pki,
						    NULL,
						    body->message_id.data), 0);
	assert_int_equal(ppx_evidence_read_ca(ca, ca_len,
					      pki_path("ca/ca.crt")), 0);
	free(e.data.data);
	ppx_log_close(log);
	ppx_trust_free(trust);
	ppx_signer_free(police);
	body->sender_person->certificate_fingerprint.data = NULL;
	body->sender_person->certificate_fingerprint.len = 0;
	body_free(body);
	tmpdir_remove(dir);
}

static void test_evidence__person_signed_message_names_the_person(
	void **state)
{
	ppx_evidence_report r;
	uint8_t *bundle = NULL, *ca = NULL;
	size_t len = 0, ca_len = 0;

	(void)state;
	person_signed_bundle(&bundle, &len, &ca, &ca_len);
	assert_int_equal(ppx_evidence_verify(&r, bundle, len, ca, ca_len), 0);
	if (!r.ok)
		fail_msg("%s\n%s", r.reason, r.text ? r.text : "");
	assert_non_null(strstr(r.text, "signed personally by Dana Evans of "
				       "police.gwent"));
	assert_non_null(strstr(r.text, "ENTRY_SENT"));
	ppx_evidence_report_clear(&r);
	free(bundle);
	free(ca);
}

/*
 * The message bundle `bundle` with the cosignature `wr` (of police's log,
 * at the checkpoint's size + `grow`, by probation, signed by no one)
 * added to log proof 1, and, if `second`, a second log proof of the same
 * agency carrying the consistency proof from the checkpoint's size to
 * that size.  Ended with a correct digest; malloc'd.
 */
static uint8_t *hostile_bundle(const uint8_t *bundle, size_t len,
			       Ppx__V1__WitnessReply *wr, uint64_t grow,
			       int second, size_t *out_len)
{
	Ppx__V1__EvidenceBundle *b;
	Ppx__V1__LogProof *lp, lp2, *logs[2];
	Ppx__V1__ConsistencyProof cons = PPX__V1__CONSISTENCY_PROOF__INIT;
	Ppx__V1__ConsistencyProof *conss[1] = {&cons};
	Ppx__V1__Frame rep = PPX__V1__FRAME__INIT;
	Ppx__V1__Checkpoint *cp;
	ProtobufCBinaryData cosig, *cosigs, *saved_cosigs, path[1];
	Ppx__V1__LogProof **saved_logs;
	uint8_t *out, root[32], hash[32];
	size_t n, n_cosigs;

	b = ppx__v1__evidence_bundle__unpack(NULL, len - 34, bundle);
	assert_non_null(b);
	assert_int_equal(b->n_logs, 1);
	lp = b->logs[0];
	assert_int_equal(lp->n_consistency, 0);
	cp = ppx__v1__checkpoint__unpack(NULL, lp->checkpoint->signed_body.len,
					 lp->checkpoint->signed_body.data);
	assert_non_null(cp);

	memset(root, 0xab, sizeof(root));
	memset(hash, 0xcd, sizeof(hash));
	wr->result = PPX__V1__WITNESS_RESULT__COSIGNED;
	wr->log_agency = lp->agency;
	wr->witness_agency = "probation.gwent";
	wr->root_hash.data = grow ? root : cp->root_hash.data;
	wr->root_hash.len = sizeof(root);
	wr->tree_size = cp->tree_size + grow;
	rep.content_case = PPX__V1__FRAME__CONTENT_COSIGNATURE;
	rep.cosignature = wr;
	cosig = frame_pack(&rep);
	n_cosigs = lp->n_cosignatures;
	cosigs = malloc((n_cosigs + 1) * sizeof(*cosigs));
	assert_non_null(cosigs);
	for (size_t i = 0; i < n_cosigs; i++)
		cosigs[i] = lp->cosignatures[i];
	cosigs[n_cosigs] = cosig;

	cons.old_size = cp->tree_size;
	cons.new_size = cp->tree_size + grow;
	path[0].data = hash;
	path[0].len = sizeof(hash);
	cons.path = path;
	cons.n_path = 1;
	lp2 = *lp;
	lp2.consistency = conss;
	lp2.n_consistency = 1;
	logs[0] = lp;
	logs[1] = &lp2;

	saved_logs = b->logs;
	saved_cosigs = lp->cosignatures;
	b->logs = logs;
	b->n_logs = second ? 2 : 1;
	lp->cosignatures = cosigs;
	lp->n_cosignatures = n_cosigs + 1;
	n = ppx__v1__evidence_bundle__get_packed_size(b);
	out = malloc(n + 34);
	assert_non_null(out);
	ppx__v1__evidence_bundle__pack(b, out);
	lp->cosignatures = saved_cosigs;
	lp->n_cosignatures = n_cosigs;
	b->logs = saved_logs;
	b->n_logs = 1;
	/* the digest, as ppx prove ends a bundle */
	out[n] = 0x7a;
	out[n + 1] = 0x20;
	ppx_sha256(out + n + 2, out, n);
	*out_len = n + 34;

	free(cosigs);
	free(cosig.data);
	ppx__v1__checkpoint__free_unpacked(cp, NULL);
	ppx__v1__evidence_bundle__free_unpacked(b, NULL);
	return out;
}

/* Verify `buf` against `ca` and expect a failure whose reason has `part`. */
static void expect_fail_ca(const uint8_t *buf, size_t len, const uint8_t *ca,
			   size_t ca_len, const char *part)
{
	ppx_evidence_report r;

	assert_int_equal(ppx_evidence_verify(&r, buf, len, ca, ca_len), 0);
	assert_int_equal(r.ok, 0);
	if (!strstr(r.reason, part))
		fail_msg("reason '%s', expected '...%s...'", r.reason, part);
	ppx_evidence_report_clear(&r);
}

/*
 * Log proof 1 gets a made-up cosignature of a tree one entry larger than
 * its checkpoint, and a second log proof of the same agency carries the
 * consistency proof to that size (at index 0, past log proof 1's none).
 * The consistency proof must be one of log proof 1's own: the bundle
 * fails, cleanly, at cosignature 1.
 */
static void test_evidence__consistency_of_another_log_proof_fails(
	void **state)
{
	Ppx__V1__WitnessReply wr = PPX__V1__WITNESS_REPLY__INIT;
	uint8_t *bundle = NULL, *ca = NULL, *out;
	size_t len = 0, ca_len = 0, out_len;

	(void)state;
	person_signed_bundle(&bundle, &len, &ca, &ca_len);
	wr.timestamp = (uint64_t)time(NULL);
	out = hostile_bundle(bundle, len, &wr, 1, 1, &out_len);
	expect_fail_ca(out, out_len, ca, ca_len,
		       "log proof 1: cosignature 1: no consistency proof");
	free(out);
	free(bundle);
	free(ca);
}

/* A cosignature whose timestamp x 1000 is no int64 time is refused before
 * its time is computed. */
static void test_evidence__cosignature_timestamp_past_int64_ms_fails(
	void **state)
{
	Ppx__V1__WitnessReply wr = PPX__V1__WITNESS_REPLY__INIT;
	uint8_t *bundle = NULL, *ca = NULL, *out;
	size_t len = 0, ca_len = 0, out_len;

	(void)state;
	person_signed_bundle(&bundle, &len, &ca, &ca_len);
	wr.timestamp = (uint64_t)(INT64_MAX / 1000) + 1;
	out = hostile_bundle(bundle, len, &wr, 0, 0, &out_len);
	expect_fail_ca(out, out_len, ca, ca_len,
		       "log proof 1: cosignature 1: timestamp");
	free(out);
	free(bundle);
	free(ca);
}

/* A bundle certificate in BER, not DER (its outer length in 3 bytes, not
 * 2) is refused as it decodes (PROTOCOL.md 3.2 step 1). */
static void test_evidence__certificate_not_in_der_fails(void **state)
{
	Ppx__V1__EvidenceBundle *b;
	ProtobufCBinaryData *certs, ber;
	uint8_t *bundle = NULL, *ca = NULL, *out;
	size_t len = 0, ca_len = 0, n, saved_n;
	ProtobufCBinaryData *saved;

	(void)state;
	person_signed_bundle(&bundle, &len, &ca, &ca_len);
	b = ppx__v1__evidence_bundle__unpack(NULL, len - 34, bundle);
	assert_non_null(b);
	assert_true(b->n_certificates > 0);
	assert_int_equal(b->certificates[0].data[1], 0x82);
	ber.len = b->certificates[0].len + 1;
	ber.data = malloc(ber.len);
	assert_non_null(ber.data);
	ber.data[0] = 0x30;
	ber.data[1] = 0x83;
	ber.data[2] = 0x00;
	memcpy(ber.data + 3, b->certificates[0].data + 2,
	       b->certificates[0].len - 2);
	certs = malloc((b->n_certificates + 1) * sizeof(*certs));
	assert_non_null(certs);
	memcpy(certs, b->certificates, b->n_certificates * sizeof(*certs));
	certs[b->n_certificates] = ber;
	saved = b->certificates;
	saved_n = b->n_certificates;
	b->certificates = certs;
	b->n_certificates = saved_n + 1;
	n = ppx__v1__evidence_bundle__get_packed_size(b);
	out = malloc(n + 34);
	assert_non_null(out);
	ppx__v1__evidence_bundle__pack(b, out);
	b->certificates = saved;
	b->n_certificates = saved_n;
	out[n] = 0x7a;
	out[n + 1] = 0x20;
	ppx_sha256(out + n + 2, out, n);
	expect_fail_ca(out, n + 34, ca, ca_len, "not in DER");
	free(out);
	free(certs);
	free(ber.data);
	ppx__v1__evidence_bundle__free_unpacked(b, NULL);
	free(bundle);
	free(ca);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_evidence__garbage_is_not_a_bundle),
		cmocka_unit_test(test_evidence__empty_file_has_no_version),
		cmocka_unit_test(test_evidence__other_version_is_refused),
		cmocka_unit_test(test_evidence__unknown_field_is_refused),
		cmocka_unit_test(test_evidence__digest_must_end_the_file),
		cmocka_unit_test(test_evidence__a_bundle_without_proofs_fails),
		cmocka_unit_test(test_evidence__cosigned_text_is_c2sp),
		cmocka_unit_test(
			test_evidence__entry_with_two_witnesses_verifies),
		cmocka_unit_test(test_evidence__every_single_byte_change_fails),
		cmocka_unit_test(
			test_evidence__person_signed_message_names_the_person),
		cmocka_unit_test(
			test_evidence__consistency_of_another_log_proof_fails),
		cmocka_unit_test(
			test_evidence__cosignature_timestamp_past_int64_ms_fails),
		cmocka_unit_test(test_evidence__certificate_not_in_der_fails),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
