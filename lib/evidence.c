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

#include "pki_int.h"
#include "ppx/envelope.h"
#include "ppx/error.h"
#include "ppx/evidence.h"
#include "ppx/merkle.h"
#include "ppx/timefmt.h"

#define EV_TEXT_MAX (1024 * 1024)	/* bytes of report text */

/* One certificate of the bundle, and whether a check used it. */
struct ev_cert {
	ppx_cert *cert;
	uint8_t fp[PPX_FINGERPRINT_LEN];
	int used;
};

struct ev {
	ppx_evidence_report *r;
	const uint8_t *raw;
	size_t raw_len;
	Ppx__V1__EvidenceBundle *b;
	X509 *ca;
	X509_CRL *crl;
	struct ev_cert *certs;
	size_t n_certs;
	/* the message, for a message bundle */
	Ppx__V1__Frame *frame;
	Ppx__V1__Body *body;
	uint8_t body_hash[PPX_HASH_LEN];
	/* the receipts, decoded */
	Ppx__V1__Frame **rframes;
	Ppx__V1__ReceiptBody **rbodies;
	size_t n_receipts;
};

/* ---- the report ------------------------------------------------------- */

static void say(struct ev *ev, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void say(struct ev *ev, const char *fmt, ...)
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
static int fail(struct ev *ev, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct ev *ev, int code, const char *fmt, ...)
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

static void when(char *out, size_t cap, int64_t ms)
{
	ppx_time_iso_ms(out, cap, ms);
}

static const char *enum_name(const ProtobufCEnumDescriptor *d, int v)
{
	const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value(d, v);

	return ev ? ev->name : "?";
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
static const ppx_cert *cert_find(struct ev *ev, const char *what,
				 const ProtobufCBinaryData *fp)
{
	char h[17];

	if (fp->len != PPX_FINGERPRINT_LEN) {
		fail(ev, PPX_EUNTRUSTED, "%s: signer fingerprint is not 32 "
		     "bytes", what);
		return NULL;
	}
	for (size_t i = 0; i < ev->n_certs; i++)
		if (memcmp(ev->certs[i].fp, fp->data, PPX_FINGERPRINT_LEN) == 0) {
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
static int sig_check(struct ev *ev, const char *what, const ppx_cert *cert,
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

/* An Envelope of `purpose`: "ppx/v1/" || label || 0x00 || signed_body,
 * signed by the bundle's certificate it names. */
static int envelope_check(struct ev *ev, const char *what,
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
	if (env->batch)
		return fail(ev, PPX_EBATCH, "%s: batch signatures are not "
			    "version 1", what);
	if (!(cert = cert_find(ev, what, &env->signer_fingerprint)))
		return ev->r->code;
	n = 7 + strlen(labels[purpose]) + 1 + env->signed_body.len;
	if (!(tbs = malloc(n)))
		return fail(ev, PPX_ENOMEM, "out of memory");
	memcpy(tbs, "ppx/v1/", 7);
	memcpy(tbs + 7, labels[purpose], strlen(labels[purpose]) + 1);
	if (env->signed_body.len)
		memcpy(tbs + n - env->signed_body.len, env->signed_body.data,
		       env->signed_body.len);
	rc = sig_check(ev, what, cert, env->algorithm, tbs, n, &env->signature,
		       PPX_ROLE_SIGNING, agency, ms, id);
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
		const uint8_t *p = d->data;
		X509 *x = d2i_X509(NULL, &p, (long)d->len);

		if (!x || p != d->data + d->len) {
			X509_free(x);
			return fail(ev, PPX_EUNTRUSTED, "certificate %zu: does "
				    "not decode", i + 1);
		}
		if (ppxi_cert_adopt(&ev->certs[i].cert, x) != 0)
			return fail(ev, PPX_ENOMEM, "out of memory");
		ev->n_certs++;
		ppx_sha256(ev->certs[i].fp, d->data, d->len);
	}
	return 0;
}

/* The personal signature of the message, if it carries one. */
static int person_check(struct ev *ev, const Ppx__V1__Envelope *env)
{
	const Ppx__V1__PersonSignature *ps = env->person;
	const uint8_t *p;
	ppx_cert *cert = NULL;
	ppx_identity id;
	uint8_t *tbs;
	size_t n;
	X509 *x;
	int rc;

	if (!ps) {
		say(ev, "  no personal signature: the sending person is the "
		    "sending agency's statement");
		return 0;
	}
	p = ps->certificate.data;
	x = d2i_X509(NULL, &p, (long)ps->certificate.len);
	if (!x || p != ps->certificate.data + ps->certificate.len) {
		X509_free(x);
		return fail(ev, PPX_EUNTRUSTED, "message: person certificate "
			    "does not decode");
	}
	if (ppxi_cert_adopt(&cert, x) != 0)
		return fail(ev, PPX_ENOMEM, "out of memory");
	n = 14 + env->signed_body.len;
	if (!(tbs = malloc(n))) {
		ppx_cert_free(cert);
		return fail(ev, PPX_ENOMEM, "out of memory");
	}
	memcpy(tbs, "ppx/v1/person", 14);	/* with its 0x00 */
	if (env->signed_body.len)
		memcpy(tbs + 14, env->signed_body.data, env->signed_body.len);
	rc = sig_check(ev, "message: personal signature", cert, ps->algorithm,
		       tbs, n, &ps->signature, PPX_ROLE_PERSON,
		       ev->body->sender_agency, ev->body->created_ms, &id);
	free(tbs);
	ppx_cert_free(cert);
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
	if (envelope_check(ev, "message", env,
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

static int is_recipient(const Ppx__V1__Body *body, const char *agency)
{
	for (size_t i = 0; i < body->n_recipients; i++)
		if (strcmp(body->recipients[i], agency) == 0)
			return 1;
	return 0;
}

/* The item of receipt `rb` naming the message, or NULL. */
static const Ppx__V1__ReceiptItem *item_of(const struct ev *ev,
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
	if (envelope_check(ev, what, ev->rframes[i]->receipt,
			   PPX__V1__SIGNED_PURPOSE__SIGNED_RECEIPT,
			   rb->receiver_agency, rb->time_ms, &id) != 0)
		return ev->r->code;
	if (strcmp(rb->sender_agency, ev->body->sender_agency) != 0)
		return fail(ev, PPX_ESENDER, "%s: addressed to %s, not to the "
			    "sender %s", what, rb->sender_agency,
			    ev->body->sender_agency);
	if (!is_recipient(ev->body, rb->receiver_agency))
		return fail(ev, PPX_ENOTRECIPIENT, "%s: %s is not a recipient "
			    "of the message", what, rb->receiver_agency);
	if (!(it = item_of(ev, rb)))
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

/* ---- log proofs ------------------------------------------------------- */

/* What one LogProof proves: its entry, leaf and checkpoint. */
struct ev_proof {
	char what[48];
	const Ppx__V1__LogProof *lp;
	uint8_t *entry;			/* the entry's bytes (owned) */
	size_t entry_len;
	Ppx__V1__LogEntry *e;
	const Ppx__V1__Envelope *cp_env;
	Ppx__V1__Checkpoint *cp;
	const ProtobufCBinaryData *path;
	size_t n_path;
	uint64_t leaf_index, tree_size;	/* as the proof states them */
};

static size_t varint(uint8_t *out, uint64_t v)
{
	size_t n = 0;

	do {
		out[n] = (uint8_t)(v & 0x7f);
		v >>= 7;
		if (v)
			out[n] |= 0x80;
		n++;
	} while (v);
	return n;
}

/* A LogProof that points into receipt `receipt`, item `item`. */
static int proof_from_receipt(struct ev *ev, struct ev_proof *p)
{
	const Ppx__V1__LogProof *lp = p->lp;
	const ProtobufCBinaryData *f = &ev->b->frame;
	const Ppx__V1__ReceiptBody *rb;
	const Ppx__V1__ReceiptItem *it;
	uint8_t v[10];
	size_t vn, n;

	if (!f->len || lp->receipt > ev->n_receipts || lp->item == 0 ||
	    lp->entry.len || lp->checkpoint || lp->n_path)
		return fail(ev, PPX_EINVAL, "%s: a proof by receipt names a "
			    "receipt and item of the bundle, and nothing else",
			    p->what);
	rb = ev->rbodies[lp->receipt - 1];
	snprintf(p->what, sizeof(p->what), "receipt %u", lp->receipt);
	if (lp->item > rb->n_items)
		return fail(ev, PPX_EINVAL, "%s: has no item %u", p->what,
			    lp->item);
	it = rb->items[lp->item - 1];
	if (strcmp(rb->receiver_agency, lp->agency) != 0 ||
	    it != item_of(ev, rb) || lp->seq != it->log_seq ||
	    (it->status != PPX__V1__RECEIPT_STATUS__STORED &&
	     it->status != PPX__V1__RECEIPT_STATUS__DUPLICATE))
		return fail(ev, PPX_EINVAL, "%s: item %u is not the message "
			    "stored by %s at seq %llu", p->what, lp->item,
			    lp->agency, (unsigned long long)lp->seq);
	if (!rb->checkpoint || !it->inclusion)
		return fail(ev, PPX_ENOTFOUND, "%s: carries no checkpoint or "
			    "no inclusion proof (no proof of recording)",
			    p->what);
	vn = varint(v, f->len);
	n = it->entry_head.len + 1 + vn + f->len + it->entry_tail.len;
	if (!(p->entry = malloc(n)))
		return fail(ev, PPX_ENOMEM, "out of memory");
	memcpy(p->entry, it->entry_head.data, it->entry_head.len);
	p->entry[it->entry_head.len] = 0x42;
	memcpy(p->entry + it->entry_head.len + 1, v, vn);
	memcpy(p->entry + it->entry_head.len + 1 + vn, f->data, f->len);
	memcpy(p->entry + n - it->entry_tail.len, it->entry_tail.data,
	       it->entry_tail.len);
	p->entry_len = n;
	p->cp_env = rb->checkpoint;
	p->path = it->inclusion->path;
	p->n_path = it->inclusion->n_path;
	p->leaf_index = it->inclusion->leaf_index;
	p->tree_size = it->inclusion->tree_size;
	return 0;
}

static int proof_given(struct ev *ev, struct ev_proof *p)
{
	const Ppx__V1__LogProof *lp = p->lp;

	if (lp->item || !lp->entry.len || !lp->checkpoint)
		return fail(ev, PPX_EINVAL, "%s: needs an entry and a "
			    "checkpoint, or a receipt and item", p->what);
	if (!(p->entry = malloc(lp->entry.len)))
		return fail(ev, PPX_ENOMEM, "out of memory");
	memcpy(p->entry, lp->entry.data, lp->entry.len);
	p->entry_len = lp->entry.len;
	p->cp_env = lp->checkpoint;
	p->path = lp->path;
	p->n_path = lp->n_path;
	p->leaf_index = lp->seq;
	p->tree_size = UINT64_MAX;	/* the checkpoint's, by definition */
	return 0;
}

/* In a message bundle, the entry must be the message's SENT entry in the
 * sender's log or its RECEIVED entry in a recipient's. */
static int entry_is_message(struct ev *ev, struct ev_proof *p)
{
	const Ppx__V1__LogEntry *e = p->e;
	const ProtobufCBinaryData *f = &ev->b->frame;
	const char *sender = ev->body->sender_agency;
	int same = e->data.len == f->len &&
		   memcmp(e->data.data, f->data, f->len) == 0;

	if (e->kind == PPX__V1__ENTRY_KIND__ENTRY_SENT && same &&
	    strcmp(p->lp->agency, sender) == 0)
		return 0;
	if (e->kind == PPX__V1__ENTRY_KIND__ENTRY_RECEIVED && same &&
	    strcmp(e->peer_agency, sender) == 0 &&
	    is_recipient(ev->body, p->lp->agency))
		return 0;
	return fail(ev, PPX_EINVAL, "%s: the entry is not the message's SENT "
		    "entry at its sender or RECEIVED entry at a recipient",
		    p->what);
}

static int checkpoint_check(struct ev *ev, struct ev_proof *p)
{
	const Ppx__V1__LogProof *lp = p->lp;
	ppx_hash leaf, root, path[PPX_MERKLE_MAX_PATH];
	ppx_identity id;
	char w[64];

	p->cp = ppx__v1__checkpoint__unpack(NULL, p->cp_env->signed_body.len,
					    p->cp_env->signed_body.data);
	if (!p->cp || p->cp->root_hash.len != PPX_MERKLE_HASH_LEN)
		return fail(ev, PPX_EBODY, "%s: checkpoint does not decode",
			    p->what);
	snprintf(w, sizeof(w), "%s: checkpoint", p->what);
	if (envelope_check(ev, w, p->cp_env,
			   PPX__V1__SIGNED_PURPOSE__SIGNED_CHECKPOINT,
			   lp->agency, p->cp->time_ms, &id) != 0)
		return ev->r->code;
	if (strcmp(p->cp->agency, lp->agency) != 0)
		return fail(ev, PPX_ESENDER, "%s: checkpoint of %s, not of %s",
			    p->what, p->cp->agency, lp->agency);
	if (p->tree_size == UINT64_MAX)
		p->tree_size = p->cp->tree_size;
	if (p->leaf_index != lp->seq || p->tree_size != p->cp->tree_size ||
	    lp->seq >= p->cp->tree_size)
		return fail(ev, PPX_EPROOF, "%s: inclusion proof is not of "
			    "leaf %llu in the checkpoint's tree of %llu",
			    p->what, (unsigned long long)lp->seq,
			    (unsigned long long)p->cp->tree_size);
	if (p->n_path > PPX_MERKLE_MAX_PATH)
		return fail(ev, PPX_EPROOF, "%s: inclusion path too long",
			    p->what);
	for (size_t i = 0; i < p->n_path; i++) {
		if (p->path[i].len != PPX_MERKLE_HASH_LEN)
			return fail(ev, PPX_EPROOF, "%s: inclusion path hash "
				    "%zu is not 32 bytes", p->what, i + 1);
		memcpy(path[i], p->path[i].data, PPX_MERKLE_HASH_LEN);
	}
	memcpy(root, p->cp->root_hash.data, PPX_MERKLE_HASH_LEN);
	ppx_merkle_leaf(leaf, p->entry, p->entry_len);
	if (ppx_merkle_verify_inclusion(leaf, lp->seq, p->cp->tree_size,
					(const ppx_hash *)path, p->n_path,
					root) != 0)
		return fail(ev, PPX_EPROOF, "%s: inclusion proof does not "
			    "match checkpoint root", p->what);
	return 0;
}

static int consistency_check(struct ev *ev, const char *what,
			     const Ppx__V1__Checkpoint *cp,
			     const Ppx__V1__WitnessReply *wr, int *used)
{
	const Ppx__V1__LogProof *lp = NULL;
	ppx_hash path[PPX_MERKLE_MAX_PATH], r1, r2;

	for (size_t k = 0; k < ev->b->n_logs; k++)
		if (strcmp(ev->b->logs[k]->agency, cp->agency) == 0)
			lp = ev->b->logs[k];
	for (size_t i = 0; lp && i < lp->n_consistency; i++) {
		const Ppx__V1__ConsistencyProof *c = lp->consistency[i];

		if (c->old_size != cp->tree_size ||
		    c->new_size != wr->tree_size)
			continue;
		used[i] = 1;
		if (c->n_path > PPX_MERKLE_MAX_PATH)
			break;
		for (size_t j = 0; j < c->n_path; j++) {
			if (c->path[j].len != PPX_MERKLE_HASH_LEN)
				goto bad;
			memcpy(path[j], c->path[j].data, PPX_MERKLE_HASH_LEN);
		}
		memcpy(r1, cp->root_hash.data, PPX_MERKLE_HASH_LEN);
		memcpy(r2, wr->root_hash.data, PPX_MERKLE_HASH_LEN);
		if (ppx_merkle_verify_consistency(c->old_size, c->new_size, r1,
						  r2, (const ppx_hash *)path,
						  c->n_path) == 0)
			return 0;
		goto bad;
	}
bad:
	return fail(ev, PPX_EPROOF, "%s: no consistency proof from the "
		    "checkpoint's size %llu to the cosigned size %llu holds",
		    what, (unsigned long long)cp->tree_size,
		    (unsigned long long)wr->tree_size);
}

static int cosignature_check(struct ev *ev, struct ev_proof *p, size_t i,
			     int *used)
{
	const ProtobufCBinaryData *f = &p->lp->cosignatures[i];
	const Ppx__V1__WitnessReply *wr;
	Ppx__V1__Frame *fr = NULL;
	const ppx_cert *cert;
	ppx_identity id;
	char what[96], text[512], t[40];
	int n, rc = 0;

	snprintf(what, sizeof(what), "%s: cosignature %zu", p->what, i + 1);
	if (ppx_frame_decode(&fr, f->data, f->len) != 0 ||
	    fr->content_case != PPX__V1__FRAME__CONTENT_COSIGNATURE) {
		ppx__v1__frame__free_unpacked(fr, NULL);
		return fail(ev, PPX_EFRAME, "%s: does not decode as a "
			    "cosignature frame", what);
	}
	wr = fr->cosignature;
	if (wr->result != PPX__V1__WITNESS_RESULT__COSIGNED ||
	    strcmp(wr->log_agency, p->lp->agency) != 0 ||
	    strcmp(wr->witness_agency, p->lp->agency) == 0 ||
	    wr->root_hash.len != PPX_MERKLE_HASH_LEN ||
	    wr->tree_size < p->cp->tree_size)
		rc = fail(ev, PPX_EINVAL, "%s: not a cosignature of %s's "
			  "checkpoint (or a later one) by another agency",
			  what, p->lp->agency);
	else if (wr->tree_size == p->cp->tree_size &&
		 memcmp(wr->root_hash.data, p->cp->root_hash.data,
			PPX_MERKLE_HASH_LEN) != 0)
		rc = fail(ev, PPX_EPROOF, "%s: cosigns another root at the "
			  "checkpoint's size", what);
	else if (wr->tree_size > p->cp->tree_size)
		rc = consistency_check(ev, what, p->cp, wr, used);
	if (rc == 0 && (n = ppx_evidence_cosigned_text(
				text, sizeof(text), wr->log_agency,
				wr->tree_size, wr->root_hash.data,
				wr->timestamp)) < 0)
		rc = fail(ev, PPX_EINVAL, "%s: origin too long", what);
	if (rc == 0 && (cert = cert_find(ev, what, &wr->signer_fingerprint)))
		rc = sig_check(ev, what, cert, wr->algorithm,
			       (const uint8_t *)text, (size_t)n,
			       &wr->signature, PPX_ROLE_SIGNING,
			       wr->witness_agency,
			       (int64_t)wr->timestamp * 1000, &id);
	else if (rc == 0)
		rc = ev->r->code;
	if (rc == 0) {
		when(t, sizeof(t), (int64_t)wr->timestamp * 1000);
		say(ev, "  cosigned by %s at %s (tree size %llu%s)",
		    wr->witness_agency, t, (unsigned long long)wr->tree_size,
		    wr->tree_size > p->cp->tree_size
			    ? ", consistent with the checkpoint" : "");
	}
	ppx__v1__frame__free_unpacked(fr, NULL);
	return rc;
}

static void proof_say(struct ev *ev, const struct ev_proof *p)
{
	const Ppx__V1__LogEntry *e = p->e;
	char t[40], c[40], id[2 * PPX_MESSAGE_ID_LEN + 1] = "";

	when(t, sizeof(t), e->time_ms);
	when(c, sizeof(c), p->cp->time_ms);
	if (e->message_id.len == PPX_MESSAGE_ID_LEN)
		ppx_hex(id, e->message_id.data, PPX_MESSAGE_ID_LEN);
	say(ev, "log of %s: entry %llu, %s at %s%s%s%s%s, in its checkpoint "
	    "of %llu entries signed %s", p->lp->agency,
	    (unsigned long long)e->seq,
	    enum_name(&ppx__v1__entry_kind__descriptor, e->kind), t,
	    e->peer_agency[0] ? ", partner " : "", e->peer_agency,
	    id[0] ? ", message " : "", id,
	    (unsigned long long)p->cp->tree_size, c);
	if (e->reason)
		say(ev, "  reason %s: %s",
		    enum_name(&ppx__v1__reject_reason__descriptor, e->reason),
		    e->detail);
	else if (e->detail[0])
		say(ev, "  detail: %s", e->detail);
	if (e->person[0])
		say(ev, "  person: %s", e->person);
}

static int log_check(struct ev *ev, size_t k)
{
	struct ev_proof p;
	int *used = NULL;
	int rc;

	memset(&p, 0, sizeof(p));
	p.lp = ev->b->logs[k];
	snprintf(p.what, sizeof(p.what), "log proof %zu", k + 1);
	rc = p.lp->receipt ? proof_from_receipt(ev, &p)
			   : proof_given(ev, &p);
	if (rc == 0 && (!(p.e = ppx__v1__log_entry__unpack(NULL, p.entry_len,
							    p.entry)) ||
			p.e->seq != p.lp->seq))
		rc = fail(ev, PPX_ECORRUPT, "%s: the entry does not decode, "
			  "or is not entry %llu", p.what,
			  (unsigned long long)p.lp->seq);
	if (rc == 0 && ev->body)
		rc = entry_is_message(ev, &p);
	if (rc == 0)
		rc = checkpoint_check(ev, &p);
	if (rc == 0) {
		proof_say(ev, &p);
		if (p.lp->n_consistency &&
		    !(used = calloc(p.lp->n_consistency, sizeof(*used))))
			rc = fail(ev, PPX_ENOMEM, "out of memory");
	}
	for (size_t i = 0; rc == 0 && i < p.lp->n_cosignatures; i++)
		rc = cosignature_check(ev, &p, i, used);
	for (size_t i = 0; rc == 0 && i < p.lp->n_consistency; i++)
		if (!used[i])
			rc = fail(ev, PPX_EINVAL, "%s: consistency proof %zu "
				  "serves no cosignature", p.what, i + 1);
	if (rc == 0 && p.lp->n_cosignatures == 0)
		say(ev, "  no cosignature of this checkpoint in the bundle");
	free(used);
	free(p.entry);
	ppx__v1__log_entry__free_unpacked(p.e, NULL);
	ppx__v1__checkpoint__free_unpacked(p.cp, NULL);
	return rc;
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

	if ((rc = structure_check(ev)) || (rc = load_anchor(ev, ca_der, ca_len)) ||
	    (rc = load_crl(ev)) || (rc = load_certs(ev)))
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
		if ((rc = log_check(ev, k)))
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
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmn"
				  "opqrstuvwxyz0123456789+/";
	char r[45];
	size_t o = 0;
	int n;

	for (size_t i = 0; i < PPX_MERKLE_HASH_LEN; i += 3) {
		uint32_t v = (uint32_t)root[i] << 16;
		size_t left = PPX_MERKLE_HASH_LEN - i;

		v |= left > 1 ? (uint32_t)root[i + 1] << 8 : 0;
		v |= left > 2 ? root[i + 2] : 0;
		r[o++] = b64[(v >> 18) & 63];
		r[o++] = b64[(v >> 12) & 63];
		r[o++] = left > 1 ? b64[(v >> 6) & 63] : '=';
		r[o++] = left > 2 ? b64[v & 63] : '=';
	}
	r[o] = '\0';
	n = snprintf(out, cap, "cosignature/v1\ntime %llu\n%s/ppx-log\n%llu\n%s\n",
		     (unsigned long long)timestamp, agency,
		     (unsigned long long)tree_size, r);
	if (n < 0 || (size_t)n >= cap)
		return ppx_error_set(PPX_ERANGE, "cosignature text too long");
	return n;
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
