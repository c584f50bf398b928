/*
 * witness_log.c — the log side of witnessing (PROTOCOL.md 11.2): asking
 * each partner to cosign our checkpoints, and taking its answers.
 *
 * A request goes to a partner when its link comes up (a new session) and
 * then whenever our log grew, by more than our own witnessing entries,
 * since it last cosigned and `witness_interval_ms` passed since the last
 * request; at once after a PROOF_NEEDED (once: a second one waits for
 * the interval).  The request holds a checkpoint of the committed log,
 * signed as ppx signs checkpoints, our signature over its C2SP note text,
 * consistency proofs to it from the size the partner last cosigned and
 * from every size it asked for, and the checkpoints of the other
 * partners' logs we hold (gossip).  One request is in flight per partner;
 * a new one replaces it, and an answer ends it: a second answer (a replay)
 * finds nothing in flight and is dropped.
 *
 * A COSIGNED answer is checked before it is logged: it names the partner
 * as witness and us as the log, its timestamp is within clock_skew_ms of
 * our clock, and the witness's signing certificate (by fingerprint,
 * chained at that time, of the partner's agency) signed the cosignature/v1
 * message of exactly the checkpoint we sent.  It is then logged as
 * ENTRY_COSIGNED (both frames, charged to the partner's log quota) and
 * marked, so that a restart knows where the partner stands.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "budget.h"
#include "log.h"
#include "partners.h"
#include "ppx/error.h"
#include "ppx/note.h"
#include "state.h"
#include "transport.h"
#include "witness_int.h"
#include "writer.h"

/* The proofs a request carries, with room for their paths. */
struct proofs {
	Ppx__V1__ConsistencyProof v[WITNESS_PROVE_MAX + 1];
	Ppx__V1__ConsistencyProof *p[WITNESS_PROVE_MAX + 1];
	ppx_hash path[WITNESS_PROVE_MAX + 1][PPX_MERKLE_MAX_PATH];
	ProtobufCBinaryData bin[WITNESS_PROVE_MAX + 1][PPX_MERKLE_MAX_PATH];
	size_t n;
};

/* Add the proof from `old` to `size` unless it is trivial or there. */
static void proof_add(struct ppxd *d, struct proofs *ps, uint64_t old,
		      uint64_t size)
{
	size_t n = ps->n, len = 0;

	if (old == 0 || old >= size || n > WITNESS_PROVE_MAX)
		return;
	for (size_t i = 0; i < n; i++)
		if (ps->v[i].old_size == old)
			return;
	if (ppx_log_consistency_proof(d->log, old, size, ps->path[n],
				      &len) != 0) {
		log_warnx("no consistency proof from %llu to %llu: %s",
			  (unsigned long long)old, (unsigned long long)size,
			  ppx_error_last());
		return;
	}
	ppx__v1__consistency_proof__init(&ps->v[n]);
	ps->v[n].old_size = old;
	ps->v[n].new_size = size;
	for (size_t i = 0; i < len; i++) {
		ps->bin[n][i].data = ps->path[n][i];
		ps->bin[n][i].len = PPX_HASH_LEN;
	}
	ps->v[n].n_path = len;
	ps->v[n].path = ps->bin[n];
	ps->p[n] = &ps->v[n];
	ps->n++;
}

/* The signed checkpoint of our log at `size` (an Envelope, caller
 * frees) and our signature over its note text. */
static int sign_checkpoint(Ppx__V1__Frame **out, uint8_t *sig,
			   size_t *siglen, struct ppxd *d, uint64_t size,
			   const uint8_t *root)
{
	Ppx__V1__Checkpoint cp = PPX__V1__CHECKPOINT__INIT;
	uint8_t body[PPX_NAME_MAX + 96], *frame = NULL;
	char note[PPX_NOTE_MAX];
	size_t len, note_len;
	int rc;

	cp.agency = (char *)ppx_signer_agency(d->signer);
	cp.tree_size = size;
	cp.root_hash.data = (uint8_t *)root;
	cp.root_hash.len = PPX_HASH_LEN;
	cp.time_ms = ppxd_now_ms();
	if (ppx__v1__checkpoint__get_packed_size(&cp) > sizeof(body))
		return ppx_error_set(PPX_EINVAL, "agency name too long");
	rc = ppx_frame_seal(&frame, &len, d->signer,
			    PPX__V1__SIGNED_PURPOSE__SIGNED_CHECKPOINT, body,
			    ppx__v1__checkpoint__pack(&cp, body));
	if (rc == 0)
		rc = ppx_frame_decode(out, frame, len);
	free(frame);
	if (rc == 0)
		rc = ppx_note_checkpoint_text(note, sizeof(note), &note_len,
					      cp.agency, size, root);
	if (rc == 0)
		rc = ppx_signer_sign(d->signer, sig, PPX_SIG_MAX, siglen,
				     (const uint8_t *)note, note_len);
	return rc;
}

/* The other partners' checkpoints we hold, unpacked into `g`. */
static size_t gossip(struct ppxd *d, const struct wpeer *to,
		     Ppx__V1__Envelope **g)
{
	struct witness *w = d->witness;
	size_t n = 0;

	for (size_t i = 0; i < w->n && n < WITNESS_GOSSIP_MAX; i++)
		if (&w->p[i] != to && w->p[i].held.env &&
		    (g[n] = ppx__v1__envelope__unpack(NULL, w->p[i].held.env_len,
						      w->p[i].held.env)))
			n++;
	return n;
}

/* Build the request for `p` of our log at `size` into p->req. */
static int build(struct ppxd *d, struct wpeer *p, uint64_t size,
		 const uint8_t *root)
{
	Ppx__V1__Frame f = PPX__V1__FRAME__INIT, *cpf = NULL;
	Ppx__V1__WitnessRequest q = PPX__V1__WITNESS_REQUEST__INIT;
	Ppx__V1__Envelope *g[WITNESS_GOSSIP_MAX];
	struct proofs *ps = calloc(1, sizeof(*ps));
	uint8_t sig[PPX_SIG_MAX];
	size_t siglen = 0, ng = 0;
	int rc = ps ? sign_checkpoint(&cpf, sig, &siglen, d, size, root)
		    : ppx_error_set(PPX_ENOMEM, "out of memory");

	if (rc == 0) {
		proof_add(d, ps, p->cosigned_size, size);
		for (size_t i = 0; i < p->n_prove_from; i++)
			proof_add(d, ps, p->prove_from[i], size);
		ng = gossip(d, p, g);
		q.checkpoint = cpf->checkpoint;
		q.note_signature.data = sig;
		q.note_signature.len = siglen;
		q.n_consistency = ps->n;
		q.consistency = ps->p;
		q.n_gossip = ng;
		q.gossip = g;
		f.version = PPX__V1__WIRE_VERSION__WIRE_VERSION_1;
		f.content_case = PPX__V1__FRAME__CONTENT_WITNESS;
		f.witness = &q;
		free(p->req);
		p->req_len = ppx__v1__frame__get_packed_size(&f);
		if (!(p->req = malloc(p->req_len)))
			rc = ppx_error_set(PPX_ENOMEM, "out of memory");
		else
			ppx__v1__frame__pack(&f, p->req);
	}
	for (size_t i = 0; i < ng; i++)
		ppx__v1__envelope__free_unpacked(g[i], NULL);
	if (cpf)
		ppx__v1__frame__free_unpacked(cpf, NULL);
	free(ps);
	return rc;
}

/* 1 if a request to `p` is due now.  A session that came up since the
 * last look is asked at once. */
static int due(struct ppxd *d, struct wpeer *p, size_t link, int64_t now)
{
	int up = transport_link_up(d->transport, link);

	if (up && !p->up)
		p->sent_ms = 0;
	p->up = up;
	if (!up)
		return 0;
	if (p->sent_ms == 0 || p->retry_now)
		return 1;
	return now - p->sent_ms >= d->cfg->witness_interval_ms &&
	       witness_growth(d) > p->cosigned_growth;
}

long witness_log_pump(struct ppxd *d, struct wpeer *p, size_t link,
		      int64_t now)
{
	uint64_t size = ppx_log_size(d->log);
	uint8_t root[PPX_HASH_LEN];
	int rc;

	if (!due(d, p, link, now) || size == 0)
		return p->up ? d->cfg->witness_interval_ms : -1;
	rc = ppx_log_root(d->log, size, root);
	if (rc == 0)
		rc = build(d, p, size, root);
	if (rc == 0)
		rc = transport_link_send(d->transport, link, p->req,
					 p->req_len);
	if (rc != 0) {
		log_warnx("cannot ask %s to cosign our log: %s", p->agency,
			  ppx_error_last());
		p->sent_ms = now;	/* again after the interval */
		return d->cfg->witness_interval_ms;
	}
	p->req_size = size;
	p->req_growth = witness_growth(d);
	memcpy(p->req_root, root, PPX_HASH_LEN);
	p->retried = p->retry_now;
	p->retry_now = 0;
	p->sent_ms = now;
	return d->cfg->witness_interval_ms;
}

/* ------------------------------------------------------------------ */
/* Answers                                                             */
/* ------------------------------------------------------------------ */

/* 0 if `r` is a cosignature by `p`'s signing key of what we sent. */
static int cosignature_check(struct ppxd *d, const struct wpeer *p,
			     const Ppx__V1__WitnessReply *r)
{
	char note[PPX_NOTE_MAX], msg[PPX_NOTE_MAX + 64];
	size_t note_len, len;
	const ppx_cert *cert = NULL;
	ppx_identity id;
	int rc = 0;

	uint64_t now = (uint64_t)time(NULL);
	uint64_t skew = (uint64_t)d->cfg->clock_skew_ms / 1000;

	if (!r->witness_agency || strcmp(r->witness_agency, p->agency) != 0 ||
	    !r->log_agency || strcmp(r->log_agency, d->cfg->agency) != 0)
		return ppx_error_set(PPX_ESENDER, "cosignature names witness "
				     "%s of log %s, not %s of ours",
				     r->witness_agency, r->log_agency,
				     p->agency);
	if (r->timestamp + skew < now || r->timestamp > now + skew)
		return ppx_error_set(PPX_EINVAL, "cosignature timestamp %llu "
				     "is more than clock_skew_ms from our "
				     "clock (%llu)",
				     (unsigned long long)r->timestamp,
				     (unsigned long long)now);
	if (r->signer_fingerprint.len == PPX_FINGERPRINT_LEN)
		cert = ppx_trust_find(d->trust, r->signer_fingerprint.data);
	if (!cert)
		return ppx_error_set(PPX_EUNTRUSTED, "cosignature by an "
				     "unknown certificate");
	rc = ppx_trust_check(d->trust, cert, (time_t)r->timestamp,
			     PPX_ROLE_SIGNING, &id);
	if (rc == 0 && strcmp(id.agency, p->agency) != 0)
		rc = ppx_error_set(PPX_ESENDER, "cosignature by %s, not %s",
				   id.agency, p->agency);
	if (rc == 0)	/* with a directory: listed, and not cut off */
		rc = partners_cert_allowed(d, p->agency, PPX_ROLE_SIGNING,
					   id.fingerprint, PARTNERS_USE_RECEIPT);
	if (rc == 0)
		rc = ppx_note_checkpoint_text(note, sizeof(note), &note_len,
					      d->cfg->agency, p->req_size,
					      p->req_root);
	if (rc == 0)
		rc = ppx_note_cosigned_message(msg, sizeof(msg), &len,
					       r->timestamp, note, note_len);
	if (rc == 0)
		rc = ppx_cert_verify_signature(cert, r->signature.data,
					       r->signature.len,
					       (const uint8_t *)msg, len);
	return rc;
}

/* Log a verified cosignature and move the partner's mark to it. */
static void cosigned(struct ppxd *d, struct wpeer *p, const uint8_t *data,
		     size_t len)
{
	uint8_t *rec = NULL;
	size_t rec_len;
	uint64_t seq;
	int rc = witness_record(&rec, &rec_len, p->req, p->req_len, data, len);

	if (rc == 0)
		budget_charge(d->budget, p->agency, rec_len + 512,
			      ppxd_now_ms());
	if (rc == 0)
		rc = witness_append(d, PPX__V1__ENTRY_KIND__ENTRY_COSIGNED,
				    p->agency, rec, rec_len, "", &seq);
	if (rc == 0)
		rc = witness_mark(d, MARK_COSIGNED, p->agency,
				  &p->cosigned_mark, seq);
	free(rec);
	if (rc != 0) {
		log_warnx("cannot log the cosignature of %s: %s", p->agency,
			  ppx_error_last());
		return;
	}
	p->cosigned_size = p->req_size;
	p->cosigned_ms = ppxd_now_ms();
	p->cosigned_growth = p->req_growth;
	p->n_prove_from = 0;
}

/* The request in flight was answered: a replay of the answer finds none. */
static void request_done(struct wpeer *p)
{
	free(p->req);
	p->req = NULL;
	p->req_len = 0;
	p->req_size = 0;
}

int witness_log_reply(struct ppxd *d, struct wpeer *p, const uint8_t *data,
		      size_t len)
{
	Ppx__V1__Frame *f = NULL;
	const Ppx__V1__WitnessReply *r;

	if (ppx_frame_decode(&f, data, len) != 0 ||
	    f->content_case != PPX__V1__FRAME__CONTENT_COSIGNATURE) {
		log_warnx("%s sent a malformed witnessing answer", p->agency);
		goto out;
	}
	r = f->cosignature;
	if (!p->req) {
		log_info("%s answered with no witnessing request of ours in "
			 "flight", p->agency);
		goto out;
	}
	if (r->result == PPX__V1__WITNESS_RESULT__WITNESS_REFUSED) {
		/* a refusal may name no checkpoint: it answers the one
		 * request in flight */
		log_warnx("%s does not witness our log: %s", p->agency,
			  r->detail);
		p->cosigned_growth = p->req_growth;	/* ask after growth */
		request_done(p);
		goto out;
	}
	if (r->tree_size != p->req_size ||
	    r->root_hash.len != PPX_HASH_LEN ||
	    memcmp(r->root_hash.data, p->req_root, PPX_HASH_LEN) != 0) {
		log_info("%s answered a witnessing request no longer in "
			 "flight", p->agency);
		goto out;
	}
	switch (r->result) {
	case PPX__V1__WITNESS_RESULT__COSIGNED:
		if (cosignature_check(d, p, r) == 0) {
			cosigned(d, p, data, len);
			request_done(p);
		} else
			log_warnx("cosignature of %s refused: %s", p->agency,
				  ppx_error_last());
		break;
	case PPX__V1__WITNESS_RESULT__PROOF_NEEDED:
		p->n_prove_from = 0;
		for (size_t i = 0; i < r->n_prove_from &&
				   i < WITNESS_PROVE_MAX; i++)
			p->prove_from[p->n_prove_from++] = r->prove_from[i];
		p->retry_now = !p->retried;
		request_done(p);
		break;
	case PPX__V1__WITNESS_RESULT__INCONSISTENT:
		log_warnx("%s says our log does not extend what it cosigned "
			  "of it: %s", p->agency, r->detail);
		p->cosigned_growth = p->req_growth;	/* ask after growth */
		request_done(p);
		break;
	default:
		log_warnx("%s gave an unknown witnessing answer %d",
			  p->agency, (int)r->result);
		break;
	}
out:
	if (f)
		ppx__v1__frame__free_unpacked(f, NULL);
	return 1;
}
