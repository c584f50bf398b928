/*
 * evidence.c — checking an evidence bundle offline (docs/EVIDENCE.md 3).
 *
 * `ppx verify --bundle` hands the bundle's bytes and the verifier's own
 * CA here.  Nothing else is consulted: no log, no daemon, no certificate
 * directory.  The checks run in the order the document gives, and the
 * first that fails is the one reported, named the way the document names
 * it ("receipt 1: inclusion proof does not match checkpoint root"); what
 * held before it is kept in the report's text, which on success is the
 * statement of what the bundle proves: who sent what when, recorded by
 * whom at which position, cosigned by whom, signed by which person.
 *
 * Every signature is judged at the time of the statement it signs (a
 * message's created_ms, a receipt's or checkpoint's time_ms, a
 * cosignature's timestamp): the certificate must be issued by the CA,
 * hold the role, speak for the agency, be within its validity then, and
 * not be listed in the bundle's CRL with a revocation date at or before
 * then.  A certificate revoked later is noted, and its earlier signatures
 * stand.
 *
 * Nothing is re-encoded.  Signed bytes are verified as they lie in the
 * bundle, an entry's leaf hash is computed over the bytes given, and the
 * bundle's own digest (its last field) covers every other byte, so that a
 * bundle changed anywhere fails: at the first evidential check the change
 * breaks, or else at the digest (a changed byte no check reads).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "evidence_int.h"
#include "pki_int.h"
#include "ppx/envelope.h"
#include "ppx/error.h"
#include "ppx/evidence.h"
#include "ppx/merkle.h"
#include "ppx/note.h"
#include "ppx/timefmt.h"

#define EV_TEXT_MAX (1024 * 1024)	/* bytes of report text */

/* ---- the report ------------------------------------------------------- */

void say(struct ev *ev, const char *fmt, ...)
{
	ppx_evidence_report *r = ev->r;
	char line[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line))
		n = sizeof(line) - 1;
	if (r->text_len + n + 2 > r->text_cap) {
		size_t cap = r->text_cap ? r->text_cap * 2 : 4096;
		char *t;

		while (cap < r->text_len + n + 2)
			cap *= 2;
		if (cap > EV_TEXT_MAX || !(t = realloc(r->text, cap)))
			return;
		r->text = t;
		r->text_cap = cap;
	}
	memcpy(r->text + r->text_len, line, n);
	r->text_len += n;
	r->text[r->text_len++] = '\n';
	r->text[r->text_len] = '\0';
}

/* Record the first failure; returns `code` so callers can return it. */
int fail(struct ev *ev, int code, const char *fmt, ...)
{
	va_list ap;

	if (ev->r->ok == 0 && ev->r->reason[0])
		return code;
	ev->r->ok = 0;
	ev->r->code = code;
	va_start(ap, fmt);
	vsnprintf(ev->r->reason, sizeof(ev->r->reason), fmt, ap);
	va_end(ap);
	return code;
}

void ppx_evidence_report_clear(ppx_evidence_report *r)
{
	if (!r)
		return;
	free(r->text);
	memset(r, 0, sizeof(*r));
}

static void hex8(char out[17], const uint8_t *fp)
{
	ppx_hex(out, fp, 8);
}

void when(char *out, size_t cap, int64_t ms)
{
	ppx_time_iso_ms(out, cap, ms);
}

const char *enum_name(const ProtobufCEnumDescriptor *d, int v)
{
	const ProtobufCEnumValue *e;

	e = protobuf_c_enum_descriptor_get_value(d, v);

	return e ? e->name : "?";
}

/* ---- certificates ----------------------------------------------------- */

static int x509_at(const ASN1_TIME *t, int64_t ms)
{
	time_t at = (time_t)(ms / 1000);

	return X509_cmp_time(t, &at);
}

/*
 * Certificate `x` issued by the CA, of `role` for `agency` (NULL: any),
 * valid and not revoked at `ms`.  `what` names the check in the failure.
 */
static int cert_check(struct ev *ev, const char *what, const ppx_cert *cert,
		      enum ppx_cert_role role, const char *agency, int64_t ms,
		      ppx_identity *id)
{
	X509 *x = ppxi_cert_x509(cert);
	X509_REVOKED *rev = NULL;
	char t[40];

	memset(id, 0, sizeof(*id));
	if (X509_verify(x, X509_get0_pubkey(ev->ca)) != 1)
		return fail(ev, PPX_EUNTRUSTED, "%s: certificate is not issued "
			    "by the CA", what);
	if (ppxi_cert_check_role(x, role, id) != 0)
		return fail(ev, PPX_EUNTRUSTED, "%s: %s", what,
			    ppx_error_last());
	if (agency && strcmp(id->agency, agency) != 0)
		return fail(ev, PPX_ESENDER, "%s: certificate of %s, not of %s",
			    what, id->agency, agency);
	when(t, sizeof(t), ms);
	if (x509_at(X509_get0_notBefore(x), ms) > 0)
		return fail(ev, PPX_ENOTYETVALID, "%s: certificate of %s not "
			    "yet valid at %s", what, id->agency, t);
	if (x509_at(X509_get0_notAfter(x), ms) < 0)
		return fail(ev, PPX_EEXPIRED, "%s: certificate of %s expired "
			    "before %s", what, id->agency, t);
	if (X509_CRL_get0_by_cert(ev->crl, &rev, x) == 1) {
		const ASN1_TIME *rd = X509_REVOKED_get0_revocationDate(rev);

		if (x509_at(rd, ms) <= 0)
			return fail(ev, PPX_EREVOKED, "%s: certificate of %s "
				    "was revoked at or before %s", what,
				    id->agency, t);
		say(ev, "  note: the certificate of %s (%s) was revoked after "
		    "%s; what it signed before stands", id->agency, id->name,
		    t);
	}
	return 0;
}

/* The bundle's certificate with fingerprint `fp`, marked used. */
const ppx_cert *ppxi_ev_cert_find(struct ev *ev, const char *what,
				 const ProtobufCBinaryData *fp)
{
	char h[17];

	if (fp->len != PPX_FINGERPRINT_LEN) {
		fail(ev, PPX_EUNTRUSTED, "%s: signer fingerprint is not 32 "
		     "bytes", what);
		return NULL;
	}
	for (size_t i = 0; i < ev->n_certs; i++)
		if (!memcmp(ev->certs[i].fp, fp->data, PPX_FINGERPRINT_LEN)) {
			ev->certs[i].used = 1;
			return ev->certs[i].cert;
		}
	hex8(h, fp->data);
	fail(ev, PPX_ENOTFOUND, "%s: the signer's certificate %s... is not in "
	     "the bundle", what, h);
	return NULL;
}

/* A signature `sig` over `msg` by `cert` with `alg`, then the certificate
 * as cert_check(). */
int ppxi_ev_signature(struct ev *ev, const char *what, const ppx_cert *cert,
		     int alg, const uint8_t *msg, size_t len,
		     const ProtobufCBinaryData *sig, enum ppx_cert_role role,
		     const char *agency, int64_t ms, ppx_identity *id)
{
	if (ppx_cert_algorithm(cert) != alg)
		return fail(ev, PPX_EBADSIG, "%s: algorithm %d does not match "
			    "the signer's key", what, alg);
	if (ppx_cert_verify_signature(cert, sig->data, sig->len, msg, len) != 0)
		return fail(ev, PPX_EBADSIG, "%s: signature does not verify",
			    what);
	return cert_check(ev, what, cert, role, agency, ms, id);
}

/* A batch-signed message (PROTOCOL.md 3.4): its path leads from its body
 * to the root whose size and hash the one batch signature covers. */
static int batch_envelope(struct ev *ev, const char *what,
			  const Ppx__V1__Envelope *env, const ppx_cert *cert,
			  const char *agency, int64_t ms, ppx_identity *id)
{
	uint8_t tbs[PPX_BATCH_TBS_LEN];
	int rc = ppx_batch_tbs(tbs, env);

	if (rc != 0)
		return fail(ev, rc, "%s: %s", what, ppx_error_last());
	return ppxi_ev_signature(ev, what, cert, env->algorithm, tbs,
				 sizeof(tbs), &env->signature,
				 PPX_ROLE_SIGNING, agency, ms, id);
}

/* An Envelope of `purpose`: "ppx/v1/" || label || 0x00 || signed_body,
 * signed by the bundle's certificate it names. */
int ppxi_ev_envelope(struct ev *ev, const char *what,
			  const Ppx__V1__Envelope *env, int purpose,
			  const char *agency, int64_t ms, ppx_identity *id)
{
	static const char *const labels[] = {
		[PPX__V1__SIGNED_PURPOSE__SIGNED_BODY] = "body",
		[PPX__V1__SIGNED_PURPOSE__SIGNED_RECEIPT] = "receipt",
		[PPX__V1__SIGNED_PURPOSE__SIGNED_CHECKPOINT] = "checkpoint",
		[PPX__V1__SIGNED_PURPOSE__SIGNED_PERSON] = "person",
	};
	const ppx_cert *cert;
	uint8_t *tbs;
	size_t n;
	int rc;

	if ((int)env->purpose != purpose)
		return fail(ev, PPX_EPURPOSE, "%s: signed for purpose %d, not "
			    "%s", what, env->purpose, labels[purpose]);
	if (env->batch && purpose != PPX__V1__SIGNED_PURPOSE__SIGNED_BODY)
		return fail(ev, PPX_EBATCH, "%s: a batch signature covers "
			    "messages only", what);
	if (!(cert = ppxi_ev_cert_find(ev, what, &env->signer_fingerprint)))
		return ev->r->code;
	if (env->batch)
		return batch_envelope(ev, what, env, cert, agency, ms, id);
	n = 7 + strlen(labels[purpose]) + 1 + env->signed_body.len;
	if (!(tbs = malloc(n)))
		return fail(ev, PPX_ENOMEM, "out of memory");
	memcpy(tbs, "ppx/v1/", 7);
	memcpy(tbs + 7, labels[purpose], strlen(labels[purpose]) + 1);
	if (env->signed_body.len)
		memcpy(tbs + n - env->signed_body.len, env->signed_body.data,
		       env->signed_body.len);
	rc = ppxi_ev_signature(ev, what, cert, env->algorithm, tbs, n,
			       &env->signature, PPX_ROLE_SIGNING, agency, ms,
			       id);
	free(tbs);
	return rc;
}

/* ---- the parts -------------------------------------------------------- */

static int load_anchor(struct ev *ev, const uint8_t *ca_der, size_t ca_len)
{
	const ProtobufCBinaryData *own = &ev->b->ca_certificate;
	const uint8_t *p = ca_der ? ca_der : own->data;
	long n = ca_der ? (long)ca_len : (long)own->len;
	uint8_t fp[PPX_HASH_LEN];
	char h[2 * PPX_HASH_LEN + 1];

	if (ca_der && own->len && (own->len != ca_len ||
				   memcmp(own->data, ca_der, ca_len) != 0))
		return fail(ev, PPX_EUNTRUSTED, "CA: the bundle's CA "
			    "certificate is not the CA given");
	if (n == 0)
		return fail(ev, PPX_EUNTRUSTED, "CA: the bundle holds no CA "
			    "certificate and none was given (--ca)");
	ppx_sha256(fp, p, (size_t)n);
	if (!(ev->ca = d2i_X509(NULL, &p, n)) ||
	    p != (ca_der ? ca_der : own->data) + n)
		return fail(ev, PPX_EUNTRUSTED, "CA: the certificate does not "
			    "decode");
	if (X509_check_ca(ev->ca) == 0 ||
	    X509_verify(ev->ca, X509_get0_pubkey(ev->ca)) != 1)
		return fail(ev, PPX_EUNTRUSTED, "CA: not a self-signed CA "
			    "certificate");
	ppx_hex(h, fp, sizeof(fp));
	if (ca_der)
		say(ev, "trust anchor: the CA given, SHA-256 %s", h);
	else
		say(ev, "trust anchor: the bundle's own CA certificate, "
		    "SHA-256 %s -- it proves nothing by itself: compare it "
		    "with the federation's CA, or give --ca", h);
	return 0;
}

static int load_crl(struct ev *ev)
{
	const uint8_t *p = ev->b->crl.data;
	char t[40];

	if (!ev->b->crl.len ||
	    !(ev->crl = d2i_X509_CRL(NULL, &p, (long)ev->b->crl.len)) ||
	    p != ev->b->crl.data + ev->b->crl.len)
		return fail(ev, PPX_ECRL, "CRL: missing, or does not decode");
	if (X509_CRL_verify(ev->crl, X509_get0_pubkey(ev->ca)) != 1)
		return fail(ev, PPX_ECRL, "CRL: not signed by the CA");
	{
		const ASN1_TIME *tu = X509_CRL_get0_lastUpdate(ev->crl);
		struct tm tm;

		if (tu && ASN1_TIME_to_tm(tu, &tm) == 1) {
			strftime(t, sizeof(t), "%Y-%m-%dT%H:%M:%SZ", &tm);
			say(ev, "CRL: issued %s by the CA", t);
		}
	}
	return 0;
}

static int load_certs(struct ev *ev)
{
	size_t n = ev->b->n_certificates;

	if (n && !(ev->certs = calloc(n, sizeof(*ev->certs))))
		return fail(ev, PPX_ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		const ProtobufCBinaryData *d = &ev->b->certificates[i];

		/* PROTOCOL.md 3.2 step 1: canonical DER, at most 64 KiB */
		if (ppx_cert_from_der(&ev->certs[i].cert, d->data, d->len))
			return fail(ev, PPX_EUNTRUSTED, "certificate %zu: %s",
				    i + 1, ppx_error_last());
		ev->n_certs++;
		ppx_sha256(ev->certs[i].fp, d->data, d->len);
	}
	return 0;
}

/* The personal signature of the message, if it carries one. */
static int person_check(struct ev *ev, const Ppx__V1__Envelope *env)
{
	const Ppx__V1__PersonSignature *ps = env->person;
	const ProtobufCBinaryData *named =
		&ev->body->sender_person->certificate_fingerprint;
	uint8_t *tbs, fp[PPX_HASH_LEN];
	ppx_cert *cert = NULL;
	ppx_identity id;
	size_t n;
	int rc;

	if (!ps) {
		say(ev, "  no personal signature: the sending person is the "
		    "sending agency's statement");
		return 0;
	}
	/* PROTOCOL.md 3.2 step 1: canonical DER, at most 64 KiB */
	if (ppx_cert_from_der(&cert, ps->certificate.data,
			      ps->certificate.len))
		return fail(ev, PPX_EUNTRUSTED, "message: person certificate: "
			    "%s", ppx_error_last());
	n = 14 + env->signed_body.len;
	if (!(tbs = malloc(n))) {
		ppx_cert_free(cert);
		return fail(ev, PPX_ENOMEM, "out of memory");
	}
	memcpy(tbs, "ppx/v1/person", 14);	/* with its 0x00 */
	if (env->signed_body.len)
		memcpy(tbs + 14, env->signed_body.data, env->signed_body.len);
	rc = ppxi_ev_signature(ev, "message: personal signature", cert,
			       ps->algorithm, tbs, n, &ps->signature,
			       PPX_ROLE_PERSON, ev->body->sender_agency,
			       ev->body->created_ms, &id);
	free(tbs);
	ppx_cert_free(cert);
	ppx_sha256(fp, ps->certificate.data, ps->certificate.len);
	if (rc == 0 && (named->len != PPX_HASH_LEN ||
			memcmp(named->data, fp, PPX_HASH_LEN) != 0))
		rc = fail(ev, PPX_EUNTRUSTED, "message: personal signature: "
			  "not the sender person (sender_person names another "
			  "certificate)");
	if (rc == 0)
		say(ev, "  signed personally by %s of %s (person certificate)",
		    id.name, id.agency);
	return rc;
}

static int message_check(struct ev *ev)
{
	const ProtobufCBinaryData *f = &ev->b->frame;
	const Ppx__V1__Envelope *env;
	ppx_identity id;
	char t[40], h[2 * PPX_MESSAGE_ID_LEN + 1];

	if (ppx_frame_decode(&ev->frame, f->data, f->len) != 0 ||
	    ev->frame->content_case != PPX__V1__FRAME__CONTENT_MESSAGE)
		return fail(ev, PPX_EFRAME, "message: the frame does not "
			    "decode as a message frame");
	env = ev->frame->message;
	ev->body = ppx__v1__body__unpack(NULL, env->signed_body.len,
					 env->signed_body.data);
	if (!ev->body || ev->body->message_id.len != PPX_MESSAGE_ID_LEN ||
	    !ev->body->sender_person)
		return fail(ev, PPX_EBODY, "message: the body does not decode "
			    "or lacks its id or sender");
	ppx_sha256(ev->body_hash, env->signed_body.data, env->signed_body.len);
	if (ppxi_ev_envelope(ev, "message", env,
			   PPX__V1__SIGNED_PURPOSE__SIGNED_BODY,
			   ev->body->sender_agency, ev->body->created_ms,
			   &id) != 0)
		return ev->r->code;
	ppx_hex(h, ev->body->message_id.data, PPX_MESSAGE_ID_LEN);
	when(t, sizeof(t), ev->body->created_ms);
	say(ev, "message %s/%s: %s, created %s, signed by %s",
	    ev->body->sender_agency, h,
	    ev->body->payload_case ? protobuf_c_message_descriptor_get_field(
		    &ppx__v1__body__descriptor,
		    ev->body->payload_case)->name : "no payload",
	    t, id.agency);
	say(ev, "  sending person (stated by %s): %s, id %s",
	    ev->body->sender_agency, ev->body->sender_person->name,
	    ev->body->sender_person->id);
	for (size_t i = 0; i < ev->body->n_recipients; i++)
		say(ev, "  to %s", ev->body->recipients[i]);
	return person_check(ev, env);
}

int ppxi_ev_is_recipient(const Ppx__V1__Body *body, const char *agency)
{
	for (size_t i = 0; i < body->n_recipients; i++)
		if (strcmp(body->recipients[i], agency) == 0)
			return 1;
	return 0;
}

/* The item of receipt `rb` naming the message, or NULL. */
const Ppx__V1__ReceiptItem *ppxi_ev_item_of(const struct ev *ev,
					   const Ppx__V1__ReceiptBody *rb)
{
	for (size_t j = 0; j < rb->n_items; j++)
		if (rb->items[j]->body_hash.len == PPX_HASH_LEN &&
		    memcmp(rb->items[j]->body_hash.data, ev->body_hash,
			   PPX_HASH_LEN) == 0)
			return rb->items[j];
	return NULL;
}

static int receipt_check(struct ev *ev, size_t i)
{
	const ProtobufCBinaryData *f = &ev->b->receipts[i];
	const Ppx__V1__ReceiptItem *it;
	Ppx__V1__ReceiptBody *rb;
	ppx_identity id;
	char what[32], t[40];

	snprintf(what, sizeof(what), "receipt %zu", i + 1);
	if (ppx_frame_decode(&ev->rframes[i], f->data, f->len) != 0 ||
	    ev->rframes[i]->content_case != PPX__V1__FRAME__CONTENT_RECEIPT)
		return fail(ev, PPX_EFRAME, "%s: the frame does not decode as "
			    "a receipt frame", what);
	rb = ppx__v1__receipt_body__unpack(
		NULL, ev->rframes[i]->receipt->signed_body.len,
		ev->rframes[i]->receipt->signed_body.data);
	if (!(ev->rbodies[i] = rb))
		return fail(ev, PPX_EBODY, "%s: the receipt body does not "
			    "decode", what);
	if (ppxi_ev_envelope(ev, what, ev->rframes[i]->receipt,
			   PPX__V1__SIGNED_PURPOSE__SIGNED_RECEIPT,
			   rb->receiver_agency, rb->time_ms, &id) != 0)
		return ev->r->code;
	if (strcmp(rb->sender_agency, ev->body->sender_agency) != 0)
		return fail(ev, PPX_ESENDER, "%s: addressed to %s, not to the "
			    "sender %s", what, rb->sender_agency,
			    ev->body->sender_agency);
	if (!ppxi_ev_is_recipient(ev->body, rb->receiver_agency))
		return fail(ev, PPX_ENOTRECIPIENT, "%s: %s is not a recipient "
			    "of the message", what, rb->receiver_agency);
	if (!(it = ppxi_ev_item_of(ev, rb)))
		return fail(ev, PPX_ENOTFOUND, "%s: no item names the "
			    "message's body hash", what);
	when(t, sizeof(t), rb->time_ms);
	if (it->status == PPX__V1__RECEIPT_STATUS__REFUSED)
		say(ev, "%s: %s REFUSED it at %s: %s %s", what,
		    rb->receiver_agency, t,
		    enum_name(&ppx__v1__reject_reason__descriptor, it->reason),
		    it->detail);
	else
		say(ev, "%s: %s stored it at seq %llu of its log, receipt "
		    "signed %s", what, rb->receiver_agency,
		    (unsigned long long)it->log_seq, t);
	return 0;
}

/* ---- the bundle ------------------------------------------------------- */

/* Decoded, version 1, no field the schema does not name, the digest last. */
static int structure_check(struct ev *ev)
{
	const Ppx__V1__EvidenceBundle *b = ev->b;
	const uint8_t *tail;

	if (b->version != PPX_EVIDENCE_VERSION)
		return fail(ev, PPX_EVERSION, "bundle: version %u, this "
			    "verifier reads version 1", b->version);
	if (b->base.n_unknown_fields)
		return fail(ev, PPX_EFRAME, "bundle: a field this version "
			    "does not define");
	for (size_t k = 0; k < b->n_logs; k++) {
		const Ppx__V1__LogProof *lp = b->logs[k];

		if (lp->base.n_unknown_fields ||
		    (lp->checkpoint && lp->checkpoint->base.n_unknown_fields))
			return fail(ev, PPX_EFRAME, "log proof %zu: a field "
				    "this version does not define", k + 1);
		for (size_t i = 0; i < lp->n_consistency; i++)
			if (lp->consistency[i]->base.n_unknown_fields)
				return fail(ev, PPX_EFRAME, "log proof %zu: a "
					    "field this version does not "
					    "define", k + 1);
	}
	tail = ev->raw_len < 2 + PPX_HASH_LEN
		       ? NULL : ev->raw + ev->raw_len - 2 - PPX_HASH_LEN;
	if (!tail || tail[0] != 0x7a || tail[1] != PPX_HASH_LEN ||
	    b->digest.len != PPX_HASH_LEN)
		return fail(ev, PPX_EFRAME, "bundle: the digest is not its "
			    "last field");
	if (b->n_logs == 0 || (!b->frame.len && (b->n_logs != 1 ||
						 b->n_receipts)))
		return fail(ev, PPX_EINVAL, "bundle: a message bundle needs a "
			    "log proof, an entry bundle exactly one and no "
			    "receipt");
	return 0;
}

static int digest_check(struct ev *ev)
{
	uint8_t d[PPX_HASH_LEN];

	ppx_sha256(d, ev->raw, ev->raw_len - 2 - PPX_HASH_LEN);
	if (memcmp(d, ev->b->digest.data, PPX_HASH_LEN) != 0)
		return fail(ev, PPX_ECORRUPT, "bundle: digest does not match "
			    "its bytes (changed or damaged)");
	return 0;
}

static int certs_all_used(struct ev *ev)
{
	for (size_t i = 0; i < ev->n_certs; i++)
		if (!ev->certs[i].used)
			return fail(ev, PPX_EINVAL, "certificate %zu: used by "
				    "no signature of the bundle", i + 1);
	return 0;
}

static int run(struct ev *ev, const uint8_t *ca_der, size_t ca_len)
{
	int rc;

	if ((rc = structure_check(ev)) ||
	    (rc = load_anchor(ev, ca_der, ca_len)) || (rc = load_crl(ev)) ||
	    (rc = load_certs(ev)))
		return rc;
	if (ev->b->frame.len && (rc = message_check(ev)))
		return rc;
	ev->n_receipts = ev->b->n_receipts;
	if (ev->n_receipts &&
	    (!(ev->rframes = calloc(ev->n_receipts, sizeof(*ev->rframes))) ||
	     !(ev->rbodies = calloc(ev->n_receipts, sizeof(*ev->rbodies)))))
		return fail(ev, PPX_ENOMEM, "out of memory");
	for (size_t i = 0; i < ev->n_receipts; i++)
		if ((rc = receipt_check(ev, i)))
			return rc;
	for (size_t k = 0; k < ev->b->n_logs; k++)
		if ((rc = ppxi_ev_log_check(ev, k)))
			return rc;
	if ((rc = certs_all_used(ev)) || (rc = digest_check(ev)))
		return rc;
	return 0;
}

static void ev_free(struct ev *ev)
{
	for (size_t i = 0; i < ev->n_certs; i++)
		ppx_cert_free(ev->certs[i].cert);
	free(ev->certs);
	for (size_t i = 0; i < ev->n_receipts; i++) {
		if (ev->rframes)
			ppx__v1__frame__free_unpacked(ev->rframes[i], NULL);
		if (ev->rbodies)
			ppx__v1__receipt_body__free_unpacked(ev->rbodies[i],
							     NULL);
	}
	free(ev->rframes);
	free(ev->rbodies);
	ppx__v1__body__free_unpacked(ev->body, NULL);
	ppx__v1__frame__free_unpacked(ev->frame, NULL);
	X509_CRL_free(ev->crl);
	X509_free(ev->ca);
	ppx__v1__evidence_bundle__free_unpacked(ev->b, NULL);
}

int ppx_evidence_verify(ppx_evidence_report *out, const uint8_t *bundle,
			size_t len, const uint8_t *ca_der, size_t ca_len)
{
	struct ev ev;

	memset(out, 0, sizeof(*out));
	memset(&ev, 0, sizeof(ev));
	ev.r = out;
	ev.raw = bundle;
	ev.raw_len = len;
	out->ok = 0;
	if (len > PPX_EVIDENCE_MAX)
		fail(&ev, PPX_ETOOBIG, "bundle: over %u bytes",
		     PPX_EVIDENCE_MAX);
	else if (!(ev.b = ppx__v1__evidence_bundle__unpack(NULL, len, bundle)))
		fail(&ev, PPX_EFRAME, "bundle: does not decode as an "
		     "EvidenceBundle");
	else if (run(&ev, ca_der, ca_len) == 0)
		out->ok = 1;
	ev_free(&ev);
	return out->code == PPX_ENOMEM ? PPX_ENOMEM : 0;
}

int ppx_evidence_cosigned_text(char *out, size_t cap, const char *agency,
			       uint64_t tree_size, const uint8_t *root,
			       uint64_t timestamp)
{
	char note[PPX_NOTE_MAX];
	size_t note_len, len;
	int rc;

	if ((rc = ppx_note_checkpoint_text(note, sizeof(note), &note_len,
					   agency, tree_size, root)) != 0 ||
	    (rc = ppx_note_cosigned_message(out, cap, &len, timestamp, note,
					    note_len)) != 0)
		return rc == PPX_ETOOBIG ? ppx_error_set(PPX_ERANGE, "%s",
							 ppx_error_last())
					 : rc;
	return (int)len;
}

int ppx_evidence_read_ca(uint8_t **out, size_t *len, const char *path)
{
	FILE *f = fopen(path, "rb");
	unsigned char *der = NULL;
	X509 *x;
	int n;

	*out = NULL;
	*len = 0;
	if (!f)
		return ppx_error_set(PPX_EIO, "cannot open CA certificate %s",
				     path);
	if (!(x = PEM_read_X509(f, NULL, NULL, NULL))) {
		rewind(f);
		x = d2i_X509_fp(f, NULL);
	}
	fclose(f);
	if (!x)
		return ppx_error_set(PPX_EINVAL, "%s holds no certificate (PEM "
				     "or DER)", path);
	n = i2d_X509(x, &der);
	X509_free(x);
	if (n <= 0 || !(*out = malloc((size_t)n))) {
		OPENSSL_free(der);
		return ppx_error_set(PPX_ENOMEM, "out of memory");
	}
	memcpy(*out, der, (size_t)n);
	*len = (size_t)n;
	OPENSSL_free(der);
	return 0;
}
