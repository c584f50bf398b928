/*
 * evidence_build.c — making an evidence bundle from a log (`ppx prove`).
 *
 * The log is read, never written: the bundle holds only what the log
 * already holds, signed by whoever signed it.  For a message: the frame as
 * sent (our SENT entry) or received (our RECEIVED entry from its sender);
 * every receipt frame logged about it that names its body; and the proofs
 * of recording:
 *
 *   - our own end: our entry's bytes, proven by an inclusion path we
 *     compute (the log proves any leaf at any size) against a checkpoint we
 *     signed.  We take the oldest checkpoint a partner cosigned that covers
 *     the entry (an ENTRY_COSIGNED record holds our request with the signed
 *     checkpoint and the partner's COSIGNED reply), with every later
 *     cosignature of each witness and the consistency proof to it, computed
 *     from our log.  Without one, the oldest checkpoint entry that covers
 *     the entry, uncosigned.  Without that, nothing to prove against yet.
 *   - the partner's end: each receipt item that carries a checkpoint and
 *     an inclusion proof (PROTOCOL.md 5.3) is a proof of its own, pointed
 *     at, not copied; with our cosignature of that checkpoint when we hold
 *     one (ENTRY_WITNESSED), or of a later one whose request carried the
 *     consistency proof from it.
 *
 * Then the certificates every one of those signatures names, found among
 * the known certificates, the CRL and the CA certificate.  The file ends
 * with the digest of everything before it (docs/EVIDENCE.md 2).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "pki_int.h"
#include "ppx/entry.h"
#include "ppx/envelope.h"
#include "ppx/error.h"
#include "ppx/evidence.h"

#define BUILD_MAX_ENTRIES 4096	/* entries about one message looked at */
#define BUILD_MAX_CERTS 64

/* One witnessing record of the log: a COSIGNED reply and what it cosigned. */
struct wit {
	uint64_t seq;
	int ours;			/* ENTRY_COSIGNED: of our checkpoint */
	Ppx__V1__Frame *request;	/* decoded, owned */
	Ppx__V1__Checkpoint *cp;	/* of request's checkpoint, owned */
	ProtobufCBinaryData reply;	/* Frame{cosignature} bytes, owned */
	Ppx__V1__Frame *rframe;		/* decoded reply, owned */
};

/* One ENTRY_CHECKPOINT of the log. */
struct cpe {
	uint64_t seq;
	Ppx__V1__Frame *frame;		/* owned */
	Ppx__V1__Checkpoint *cp;	/* owned */
};

struct build {
	ppx_log *log;
	const struct ppx_evidence_pki *pki;
	struct wit *wits;
	size_t n_wits, cap_wits;
	struct cpe *cps;
	size_t n_cps, cap_cps;
	uint8_t fps[BUILD_MAX_CERTS][PPX_FINGERPRINT_LEN];
	size_t n_fps;
	/* what the bundle points into */
	Ppx__V1__EvidenceBundle b;
	Ppx__V1__LogProof **logs;
	ProtobufCBinaryData *receipts, *certs;
	ProtobufCBinaryData entry;	/* our entry's bytes, owned */
	Ppx__V1__ReceiptBody **rbodies;	/* the receipts, decoded, owned */
};

static void *grow(void *p, size_t *cap, size_t n, size_t size)
{
	void *q;

	if (n < *cap)
		return p;
	*cap = *cap ? *cap * 2 : 16;
	if (!(q = realloc(p, *cap * size)))
		return NULL;
	return q;
}

/* ---- one pass over the log: checkpoints and witnessing ---------------- */

static Ppx__V1__Checkpoint *checkpoint_of(const Ppx__V1__Envelope *env)
{
	if (!env || env->purpose != PPX__V1__SIGNED_PURPOSE__SIGNED_CHECKPOINT)
		return NULL;
	return ppx__v1__checkpoint__unpack(NULL, env->signed_body.len,
					   env->signed_body.data);
}

static int add_checkpoint(struct build *bd, uint64_t seq,
			  const Ppx__V1__LogEntry *e)
{
	struct cpe c = {.seq = seq};
	struct cpe *g;

	if (ppx_frame_decode(&c.frame, e->data.data, e->data.len) != 0)
		return 0;	/* ppx verify names a damaged log */
	if (c.frame->content_case != PPX__V1__FRAME__CONTENT_CHECKPOINT ||
	    !(c.cp = checkpoint_of(c.frame->checkpoint))) {
		ppx__v1__frame__free_unpacked(c.frame, NULL);
		return 0;
	}
	if (!(g = grow(bd->cps, &bd->cap_cps, bd->n_cps, sizeof(*g)))) {
		ppx__v1__checkpoint__free_unpacked(c.cp, NULL);
		ppx__v1__frame__free_unpacked(c.frame, NULL);
		return ppx_error_set(PPX_ENOMEM, "out of memory");
	}
	bd->cps = g;
	bd->cps[bd->n_cps++] = c;
	return 0;
}

static void wit_clear(struct wit *w)
{
	ppx__v1__frame__free_unpacked(w->request, NULL);
	ppx__v1__frame__free_unpacked(w->rframe, NULL);
	ppx__v1__checkpoint__free_unpacked(w->cp, NULL);
	free(w->reply.data);
}

static int add_witnessing(struct build *bd, uint64_t seq,
			  const Ppx__V1__LogEntry *e)
{
	Ppx__V1__WitnessRecord *rec;
	struct wit w = {.seq = seq};
	struct wit *g;
	int ok;

	w.ours = e->kind == PPX__V1__ENTRY_KIND__ENTRY_COSIGNED;
	if (!(rec = ppx__v1__witness_record__unpack(NULL, e->data.len,
						     e->data.data)))
		return 0;
	ok = !ppx_frame_decode(&w.request, rec->request.data,
			       rec->request.len) &&
	     w.request->content_case == PPX__V1__FRAME__CONTENT_WITNESS &&
	     (w.cp = checkpoint_of(w.request->witness->checkpoint)) &&
	     !ppx_frame_decode(&w.rframe, rec->reply.data, rec->reply.len) &&
	     w.rframe->content_case == PPX__V1__FRAME__CONTENT_COSIGNATURE &&
	     w.rframe->cosignature->result ==
		     PPX__V1__WITNESS_RESULT__COSIGNED &&
	     (w.reply.data = malloc(rec->reply.len ? rec->reply.len : 1));
	if (ok) {
		memcpy(w.reply.data, rec->reply.data, rec->reply.len);
		w.reply.len = rec->reply.len;
	}
	ppx__v1__witness_record__free_unpacked(rec, NULL);
	if (!ok) {
		wit_clear(&w);
		return 0;
	}
	if (!(g = grow(bd->wits, &bd->cap_wits, bd->n_wits, sizeof(*g)))) {
		wit_clear(&w);
		return ppx_error_set(PPX_ENOMEM, "out of memory");
	}
	bd->wits = g;
	bd->wits[bd->n_wits++] = w;
	return 0;
}

static int scan_one(void *ctx, uint64_t seq, const uint8_t *data, size_t len)
{
	struct build *bd = ctx;
	Ppx__V1__LogEntry *e = ppx__v1__log_entry__unpack(NULL, len, data);
	int rc = 0;

	if (!e)
		return 0;
	if (e->kind == PPX__V1__ENTRY_KIND__ENTRY_CHECKPOINT)
		rc = add_checkpoint(bd, seq, e);
	else if (e->kind == PPX__V1__ENTRY_KIND__ENTRY_COSIGNED ||
		 e->kind == PPX__V1__ENTRY_KIND__ENTRY_WITNESSED)
		rc = add_witnessing(bd, seq, e);
	ppx__v1__log_entry__free_unpacked(e, NULL);
	return rc;
}

/* ---- certificates, CRL, CA -------------------------------------------- */

static void need_cert(struct build *bd, const ProtobufCBinaryData *fp)
{
	if (fp->len != PPX_FINGERPRINT_LEN)
		return;
	for (size_t i = 0; i < bd->n_fps; i++)
		if (memcmp(bd->fps[i], fp->data, PPX_FINGERPRINT_LEN) == 0)
			return;
	if (bd->n_fps < BUILD_MAX_CERTS)
		memcpy(bd->fps[bd->n_fps++], fp->data, PPX_FINGERPRINT_LEN);
}

static int der_of(ProtobufCBinaryData *out, X509 *x, X509_CRL *crl)
{
	unsigned char *p = NULL;
	int n = x ? i2d_X509(x, &p) : i2d_X509_CRL(crl, &p);

	if (n <= 0)
		return ppx_error_set(PPX_ECRYPTO, "cannot encode a certificate "
				     "or CRL as DER");
	out->data = p;
	out->len = (size_t)n;
	return 0;
}

static int pem_file(ProtobufCBinaryData *out, const char *path, int is_crl)
{
	FILE *f = fopen(path, "r");
	X509 *x = NULL;
	X509_CRL *crl = NULL;
	int rc;

	if (!f)
		return ppx_error_set(PPX_EIO, "cannot open %s", path);
	if (is_crl)
		crl = PEM_read_X509_CRL(f, NULL, NULL, NULL);
	else
		x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	if (!x && !crl)
		return ppx_error_set(PPX_EINVAL, "%s holds no PEM %s", path,
				     is_crl ? "CRL" : "certificate");
	rc = der_of(out, x, crl);
	X509_free(x);
	X509_CRL_free(crl);
	return rc;
}

static int add_pki(struct build *bd)
{
	int rc;

	if (bd->n_fps && !(bd->certs = calloc(bd->n_fps, sizeof(*bd->certs))))
		return ppx_error_set(PPX_ENOMEM, "out of memory");
	for (size_t i = 0; i < bd->n_fps; i++) {
		const ppx_cert *c = ppx_trust_find(bd->pki->trust, bd->fps[i]);
		char h[2 * PPX_FINGERPRINT_LEN + 1];

		if (!c) {
			ppx_hex(h, bd->fps[i], PPX_FINGERPRINT_LEN);
			return ppx_error_set(PPX_ENOTFOUND, "certificate %s "
					     "is not among the known "
					     "certificates: add it to the "
					     "certificate directory", h);
		}
		if ((rc = der_of(&bd->certs[i], ppxi_cert_x509(c), NULL)))
			return rc;
		bd->b.n_certificates++;
	}
	bd->b.certificates = bd->certs;
	if ((rc = pem_file(&bd->b.crl, bd->pki->crl_file, 1)) ||
	    (rc = pem_file(&bd->b.ca_certificate, bd->pki->ca_file, 0)))
		return rc;
	return 0;
}

/* ---- log proofs ------------------------------------------------------- */

static Ppx__V1__LogProof *proof_new(struct build *bd, const char *agency,
				    uint64_t seq)
{
	Ppx__V1__LogProof *lp = calloc(1, sizeof(*lp));
	Ppx__V1__LogProof **g;

	if (!lp || !(g = realloc(bd->logs, (bd->b.n_logs + 1) * sizeof(*g)))) {
		free(lp);
		ppx_error_set(PPX_ENOMEM, "out of memory");
		return NULL;
	}
	ppx__v1__log_proof__init(lp);
	lp->agency = (char *)agency;
	lp->seq = seq;
	bd->logs = g;
	bd->logs[bd->b.n_logs++] = lp;
	bd->b.logs = bd->logs;
	return lp;
}

/* `n` hashes into a list the bundle points at. */
static int hashes(ProtobufCBinaryData **out,
		  const ppx_hash *h, size_t n)
{
	ProtobufCBinaryData *d = n ? calloc(n, sizeof(*d)) : NULL;
	ppx_hash *keep;

	if (n && !d)
		return ppx_error_set(PPX_ENOMEM, "out of memory");
	if (!(keep = malloc((n ? n : 1) * sizeof(*keep)))) {
		free(d);
		return ppx_error_set(PPX_ENOMEM, "out of memory");
	}
	memcpy(keep, h, n * sizeof(*keep));
	for (size_t i = 0; i < n; i++) {
		d[i].data = keep[i];
		d[i].len = PPX_MERKLE_HASH_LEN;
	}
	/* keep[] is freed with the proof: it is d[0].data, or alone */
	if (!n)
		free(keep);
	*out = d;
	return 0;
}

/* The checkpoint we prove our entry `seq` against: the oldest a partner
 * cosigned that covers it, else the oldest checkpoint entry that does. */
static const Ppx__V1__Envelope *our_checkpoint(struct build *bd, uint64_t seq,
					       const Ppx__V1__Checkpoint **cp)
{
	const struct wit *best = NULL;
	const struct cpe *cpe = NULL;

	for (size_t i = 0; i < bd->n_wits; i++) {
		const struct wit *w = &bd->wits[i];

		if (w->ours && w->cp->tree_size > seq &&
		    (!best || w->cp->tree_size < best->cp->tree_size))
			best = w;
	}
	if (best) {
		*cp = best->cp;
		return best->request->witness->checkpoint;
	}
	for (size_t i = 0; i < bd->n_cps; i++)
		if (bd->cps[i].cp->tree_size > seq &&
		    (!cpe || bd->cps[i].cp->tree_size < cpe->cp->tree_size))
			cpe = &bd->cps[i];
	if (!cpe)
		return NULL;
	*cp = cpe->cp;
	return cpe->frame->checkpoint;
}

static int consistency_new(Ppx__V1__LogProof *lp,
			   uint64_t old_size, uint64_t new_size,
			   const ppx_hash *path, size_t n)
{
	Ppx__V1__ConsistencyProof *c, **g;

	if (!(c = calloc(1, sizeof(*c))) ||
	    !(g = realloc(lp->consistency,
			  (lp->n_consistency + 1) * sizeof(*g)))) {
		free(c);
		return ppx_error_set(PPX_ENOMEM, "out of memory");
	}
	lp->consistency = g;
	ppx__v1__consistency_proof__init(c);
	c->old_size = old_size;
	c->new_size = new_size;
	lp->consistency[lp->n_consistency++] = c;
	c->n_path = n;
	return hashes(&c->path, path, n);
}

static int add_consistency(struct build *bd, Ppx__V1__LogProof *lp,
			   uint64_t old_size, uint64_t new_size)
{
	ppx_hash path[PPX_MERKLE_MAX_PATH];
	size_t n = 0;
	int rc;

	for (size_t i = 0; i < lp->n_consistency; i++)
		if (lp->consistency[i]->new_size == new_size)
			return 0;
	if ((rc = ppx_log_consistency_proof(bd->log, old_size, new_size, path,
					    &n)))
		return rc;
	return consistency_new(lp, old_size, new_size,
			       (const ppx_hash *)path, n);
}

static int add_cosignature(Ppx__V1__LogProof *lp, const struct wit *w)
{
	ProtobufCBinaryData *g = realloc(lp->cosignatures,
					 (lp->n_cosignatures + 1) * sizeof(*g));

	if (!g)
		return ppx_error_set(PPX_ENOMEM, "out of memory");
	lp->cosignatures = g;
	lp->cosignatures[lp->n_cosignatures++] = w->reply;
	return 0;
}

/* Each witness's first cosignature of our checkpoint `cp` or a later one. */
static int our_cosignatures(struct build *bd, Ppx__V1__LogProof *lp,
			    const Ppx__V1__Checkpoint *cp)
{
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < bd->n_wits; i++) {
		const struct wit *w = &bd->wits[i];
		const Ppx__V1__WitnessReply *wr = w->rframe->cosignature;
		int seen = 0;

		if (!w->ours || wr->tree_size < cp->tree_size)
			continue;
		for (size_t j = 0; j < i; j++)
			seen |= bd->wits[j].ours &&
				bd->wits[j].rframe->cosignature->tree_size >=
					cp->tree_size &&
				strcmp(bd->wits[j].rframe->cosignature
					       ->witness_agency,
				       wr->witness_agency) == 0;
		if (seen)
			continue;
		if (wr->tree_size > cp->tree_size)
			rc = add_consistency(bd, lp, cp->tree_size,
					     wr->tree_size);
		if (rc == 0)
			rc = add_cosignature(lp, w);
		need_cert(bd, &wr->signer_fingerprint);
	}
	return rc;
}

/* Our entry `seq` (its stored bytes in bd->entry), proven in our log. */
static int prove_ours(struct build *bd, uint64_t seq)
{
	const Ppx__V1__Checkpoint *cp = NULL;
	const Ppx__V1__Envelope *env = our_checkpoint(bd, seq, &cp);
	ppx_hash path[PPX_MERKLE_MAX_PATH];
	Ppx__V1__LogProof *lp;
	size_t n = 0;
	int rc;

	if (!env)
		return ppx_error_set(PPX_ENOTFOUND, "entry %llu is in no "
				     "signed checkpoint yet: the daemon signs "
				     "one every checkpoint_every entries, at "
				     "each witnessing and when it stops; try "
				     "again after the next",
				     (unsigned long long)seq);
	if ((rc = ppx_log_inclusion_proof(bd->log, seq, cp->tree_size, path,
					  &n)))
		return rc;
	if (!(lp = proof_new(bd, cp->agency, seq)))
		return PPX_ENOMEM;
	lp->entry = bd->entry;
	lp->checkpoint = (Ppx__V1__Envelope *)env;
	need_cert(bd, &env->signer_fingerprint);
	if ((rc = hashes(&lp->path, (const ppx_hash *)path, n)))
		return rc;
	lp->n_path = n;
	return our_cosignatures(bd, lp, cp);
}

/* Our cosignature of the receipt's checkpoint `cp` of `agency`, if any:
 * of it, or of a later one whose request proved consistency from it. */
static int their_cosignature(struct build *bd, Ppx__V1__LogProof *lp,
			     const Ppx__V1__Checkpoint *cp)
{
	for (size_t i = 0; i < bd->n_wits; i++) {
		const struct wit *w = &bd->wits[i];
		const Ppx__V1__WitnessReply *wr = w->rframe->cosignature;
		const Ppx__V1__WitnessRequest *rq = w->request->witness;

		if (w->ours || strcmp(wr->log_agency, cp->agency) != 0)
			continue;
		if (wr->tree_size == cp->tree_size &&
		    wr->root_hash.len == cp->root_hash.len &&
		    memcmp(wr->root_hash.data, cp->root_hash.data,
			   cp->root_hash.len) == 0) {
			need_cert(bd, &wr->signer_fingerprint);
			return add_cosignature(lp, w);
		}
		/* The log's own proofs, checked here: our witness checked
		 * only those from sizes it asked for. */
		for (size_t j = 0; j < rq->n_consistency; j++) {
			const Ppx__V1__ConsistencyProof *c = rq->consistency[j];
			ppx_hash path[PPX_MERKLE_MAX_PATH], r1, r2;
			size_t k;
			int rc;

			if (c->old_size != cp->tree_size ||
			    c->new_size != wr->tree_size ||
			    c->n_path > PPX_MERKLE_MAX_PATH ||
			    cp->root_hash.len != PPX_MERKLE_HASH_LEN ||
			    wr->root_hash.len != PPX_MERKLE_HASH_LEN)
				continue;
			for (k = 0; k < c->n_path &&
				    c->path[k].len == PPX_MERKLE_HASH_LEN; k++)
				memcpy(path[k], c->path[k].data,
				       PPX_MERKLE_HASH_LEN);
			memcpy(r1, cp->root_hash.data, PPX_MERKLE_HASH_LEN);
			memcpy(r2, wr->root_hash.data, PPX_MERKLE_HASH_LEN);
			if (k < c->n_path ||
			    ppx_merkle_verify_consistency(
				    c->old_size, c->new_size, r1, r2,
				    (const ppx_hash *)path, c->n_path) != 0)
				continue;
			if ((rc = consistency_new(lp, c->old_size,
						  c->new_size,
						  (const ppx_hash *)path,
						  c->n_path)))
				return rc;
			need_cert(bd, &wr->signer_fingerprint);
			return add_cosignature(lp, w);
		}
	}
	return 0;
}

/* Receipt `ri` (0-based), decoded as `rb`: a proof for its item about the
 * message, when it carries one. */
static int prove_theirs(struct build *bd, size_t ri,
			const Ppx__V1__ReceiptBody *rb,
			const uint8_t body_hash[PPX_HASH_LEN])
{
	Ppx__V1__Checkpoint *cp;
	Ppx__V1__LogProof *lp;
	int rc = 0;

	for (size_t j = 0; j < rb->n_items; j++) {
		const Ppx__V1__ReceiptItem *it = rb->items[j];

		if (it->body_hash.len != PPX_HASH_LEN ||
		    memcmp(it->body_hash.data, body_hash, PPX_HASH_LEN) != 0)
			continue;
		if (it->status == PPX__V1__RECEIPT_STATUS__REFUSED ||
		    !rb->checkpoint || !it->inclusion)
			return 0;
		if (!(cp = checkpoint_of(rb->checkpoint)))
			return 0;
		need_cert(bd, &rb->checkpoint->signer_fingerprint);
		if (!(lp = proof_new(bd, rb->receiver_agency, it->log_seq)))
			rc = PPX_ENOMEM;
		else {
			lp->receipt = (uint32_t)ri + 1;
			lp->item = (uint32_t)j + 1;
			rc = their_cosignature(bd, lp, cp);
		}
		ppx__v1__checkpoint__free_unpacked(cp, NULL);
		return rc;
	}
	return 0;
}

/* ---- the bundle ------------------------------------------------------- */

static void paths_free(ProtobufCBinaryData *d, size_t n)
{
	if (n)
		free(d[0].data);	/* every hash of the list: hashes() */
	free(d);
}

static void build_free(struct build *bd)
{
	for (size_t k = 0; k < bd->b.n_logs; k++) {
		Ppx__V1__LogProof *lp = bd->logs[k];

		paths_free(lp->path, lp->n_path);
		for (size_t i = 0; i < lp->n_consistency; i++) {
			paths_free(lp->consistency[i]->path,
				   lp->consistency[i]->n_path);
			free(lp->consistency[i]);
		}
		free(lp->consistency);
		free(lp->cosignatures);
		free(lp);
	}
	free(bd->logs);
	for (size_t i = 0; i < bd->b.n_receipts; i++) {
		free(bd->receipts[i].data);
		ppx__v1__receipt_body__free_unpacked(bd->rbodies[i], NULL);
	}
	free(bd->receipts);
	free(bd->rbodies);
	for (size_t i = 0; i < bd->b.n_certificates; i++)
		OPENSSL_free(bd->certs[i].data);
	free(bd->certs);
	OPENSSL_free(bd->b.crl.data);
	OPENSSL_free(bd->b.ca_certificate.data);
	free(bd->b.frame.data);
	free(bd->entry.data);
	for (size_t i = 0; i < bd->n_wits; i++)
		wit_clear(&bd->wits[i]);
	free(bd->wits);
	for (size_t i = 0; i < bd->n_cps; i++) {
		ppx__v1__checkpoint__free_unpacked(bd->cps[i].cp, NULL);
		ppx__v1__frame__free_unpacked(bd->cps[i].frame, NULL);
	}
	free(bd->cps);
}

static int build_start(struct build *bd, ppx_log *log,
		       const struct ppx_evidence_pki *pki)
{
	memset(bd, 0, sizeof(*bd));
	bd->log = log;
	bd->pki = pki;
	ppx__v1__evidence_bundle__init(&bd->b);
	bd->b.version = PPX_EVIDENCE_VERSION;
	return ppx_log_foreach(log, 0, ppx_log_size(log), scan_one, bd);
}

/* The bundle, then its digest field: tag 15, length 32, SHA-256 of all
 * that precedes it. */
static int build_pack(struct build *bd, uint8_t **out, size_t *len)
{
	size_t n = ppx__v1__evidence_bundle__get_packed_size(&bd->b);
	uint8_t *buf;

	if (n + 2 + PPX_HASH_LEN > PPX_EVIDENCE_MAX)
		return ppx_error_set(PPX_ETOOBIG, "the bundle would be over "
				     "%u bytes", PPX_EVIDENCE_MAX);
	if (!(buf = malloc(n + 2 + PPX_HASH_LEN)))
		return ppx_error_set(PPX_ENOMEM, "out of memory");
	ppx__v1__evidence_bundle__pack(&bd->b, buf);
	buf[n] = (15 << 3) | 2;
	buf[n + 1] = PPX_HASH_LEN;
	ppx_sha256(buf + n + 2, buf, n);
	*out = buf;
	*len = n + 2 + PPX_HASH_LEN;
	return 0;
}

static int copy_bytes(ProtobufCBinaryData *out, const ProtobufCBinaryData *in)
{
	if (!(out->data = malloc(in->len ? in->len : 1)))
		return ppx_error_set(PPX_ENOMEM, "out of memory");
	memcpy(out->data, in->data, in->len);
	out->len = in->len;
	return 0;
}

/* The signer of the envelope a frame carries, needed in the bundle. */
static void need_frame_signer(struct build *bd, const ProtobufCBinaryData *f)
{
	Ppx__V1__Frame *fr = NULL;

	if (ppx_frame_decode(&fr, f->data, f->len) != 0)
		return;
	if (fr->content_case == PPX__V1__FRAME__CONTENT_MESSAGE)
		need_cert(bd, &fr->message->signer_fingerprint);
	else if (fr->content_case == PPX__V1__FRAME__CONTENT_RECEIPT)
		need_cert(bd, &fr->receipt->signer_fingerprint);
	ppx__v1__frame__free_unpacked(fr, NULL);
}

/* A receipt entry: kept if one of its items names the body. */
static int add_receipt(struct build *bd, const Ppx__V1__LogEntry *e,
		       const uint8_t body_hash[PPX_HASH_LEN])
{
	Ppx__V1__ReceiptBody *rb = NULL;
	size_t n = bd->b.n_receipts;
	int names = 0, rc;
	void *g;

	if (ppx_entry_receipt(&rb, e) != 0)
		return 0;
	for (size_t j = 0; j < rb->n_items; j++)
		names |= rb->items[j]->body_hash.len == PPX_HASH_LEN &&
			 memcmp(rb->items[j]->body_hash.data, body_hash,
				PPX_HASH_LEN) == 0;
	if (!names) {
		ppx__v1__receipt_body__free_unpacked(rb, NULL);
		return 0;
	}
	if (!(g = realloc(bd->rbodies, (n + 1) * sizeof(*bd->rbodies)))) {
		ppx__v1__receipt_body__free_unpacked(rb, NULL);
		return ppx_error_set(PPX_ENOMEM, "out of memory");
	}
	bd->rbodies = g;
	bd->rbodies[n] = rb;
	if (!(g = realloc(bd->receipts, (n + 1) * sizeof(*bd->receipts)))) {
		ppx__v1__receipt_body__free_unpacked(rb, NULL);
		return ppx_error_set(PPX_ENOMEM, "out of memory");
	}
	bd->receipts = g;
	if ((rc = copy_bytes(&bd->receipts[n], &e->data))) {
		ppx__v1__receipt_body__free_unpacked(rb, NULL);
		return rc;
	}
	bd->b.n_receipts++;
	bd->b.receipts = bd->receipts;
	need_frame_signer(bd, &e->data);
	return 0;
}

/* Is entry `e` the message (ours if sender is NULL), or a receipt of it? */
static int is_message(const Ppx__V1__LogEntry *e, const char *sender)
{
	if (!sender)
		return e->kind == PPX__V1__ENTRY_KIND__ENTRY_SENT;
	return e->kind == PPX__V1__ENTRY_KIND__ENTRY_RECEIVED &&
	       strcmp(e->peer_agency, sender) == 0;
}

static int is_receipt(const Ppx__V1__LogEntry *e, const char *sender)
{
	if (!sender)
		return e->kind == PPX__V1__ENTRY_KIND__ENTRY_RECEIPT_RECEIVED;
	return e->kind == PPX__V1__ENTRY_KIND__ENTRY_RECEIPT_SENT &&
	       strcmp(e->peer_agency, sender) == 0;
}

/* The message entry among `seqs`: its bytes into bd->entry, its frame
 * into the bundle, its body hash. */
static int find_message(struct build *bd, const uint64_t *seqs, size_t n,
			const char *sender, uint64_t *seq,
			uint8_t body_hash[PPX_HASH_LEN])
{
	for (size_t i = 0; i < n; i++) {
		Ppx__V1__LogEntry *e = NULL;
		int rc;

		if ((rc = ppx_log_get(bd->log, seqs[i], &e)))
			return rc;
		if (is_message(e, sender) &&
		    (rc = ppx_entry_body_hash(body_hash, e)) == 0 &&
		    (rc = copy_bytes(&bd->b.frame, &e->data)) == 0)
			rc = ppx_log_get_raw(bd->log, seqs[i],
					     &bd->entry.data, &bd->entry.len);
		if (is_message(e, sender)) {
			ppx__v1__log_entry__free_unpacked(e, NULL);
			*seq = seqs[i];
			need_frame_signer(bd, &bd->b.frame);
			return rc;
		}
		ppx__v1__log_entry__free_unpacked(e, NULL);
	}
	return ppx_error_set(PPX_ENOTFOUND, "no message %s under that id in "
			     "this log", sender ? "received from that agency"
						: "sent by this agency");
}

static int find_receipts(struct build *bd, const uint64_t *seqs, size_t n,
			 const char *sender,
			 const uint8_t body_hash[PPX_HASH_LEN])
{
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < n; i++) {
		Ppx__V1__LogEntry *e = NULL;

		if ((rc = ppx_log_get(bd->log, seqs[i], &e)))
			return rc;
		if (is_receipt(e, sender))
			rc = add_receipt(bd, e, body_hash);
		ppx__v1__log_entry__free_unpacked(e, NULL);
	}
	for (size_t i = 0; rc == 0 && i < bd->b.n_receipts; i++)
		rc = prove_theirs(bd, i, bd->rbodies[i], body_hash);
	return rc;
}

int ppx_evidence_prove_message(uint8_t **out, size_t *len, ppx_log *log,
			       const struct ppx_evidence_pki *pki,
			       const char *sender, const uint8_t *id)
{
	uint8_t body_hash[PPX_HASH_LEN];
	struct build bd;
	uint64_t *seqs = NULL, seq = 0;
	size_t n = 0;
	int rc;

	*out = NULL;
	*len = 0;
	if ((rc = build_start(&bd, log, pki)) == 0)
		rc = ppx_log_by_message(log, id, PPX_MESSAGE_ID_LEN, &seqs, &n,
					BUILD_MAX_ENTRIES);
	if (rc == 0)
		rc = find_message(&bd, seqs, n, sender, &seq, body_hash);
	if (rc == 0)
		rc = find_receipts(&bd, seqs, n, sender, body_hash);
	if (rc == 0) {
		size_t theirs = bd.b.n_logs;

		rc = prove_ours(&bd, seq);
		/* our end not yet in a checkpoint: a receipt's proof of the
		 * other end still makes a bundle */
		if (rc == PPX_ENOTFOUND && theirs > 0)
			rc = 0;
	}
	if (rc == 0)
		rc = add_pki(&bd);
	if (rc == 0)
		rc = build_pack(&bd, out, len);
	free(seqs);
	build_free(&bd);
	return rc;
}

int ppx_evidence_prove_entry(uint8_t **out, size_t *len, ppx_log *log,
			     const struct ppx_evidence_pki *pki, uint64_t seq)
{
	struct build bd;
	int rc;

	*out = NULL;
	*len = 0;
	if ((rc = build_start(&bd, log, pki)) == 0)
		rc = ppx_log_get_raw(log, seq, &bd.entry.data, &bd.entry.len);
	if (rc == PPX_ENOTFOUND)
		ppx_error_set(rc, "the log has no entry %llu",
			      (unsigned long long)seq);
	if (rc == 0)
		rc = prove_ours(&bd, seq);
	if (rc == 0)
		rc = add_pki(&bd);
	if (rc == 0)
		rc = build_pack(&bd, out, len);
	build_free(&bd);
	return rc;
}
