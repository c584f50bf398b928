/*
 * witness.c — the witness side of witnessing (PROTOCOL.md 11.2, 11.3), and
 * what both sides keep per partner.
 *
 * A partner's WitnessRequest is taken out of the inbound pipeline before
 * anything else (witness_inbound(), from inbound.c).  Its checkpoint must
 * be signed by the agency the transport authenticated, and the note
 * signature by the same certificate over the checkpoint's C2SP text.  It
 * is then judged against the checkpoint of that partner we hold (the
 * newest we cosigned):
 *
 *   none held                 COSIGNED: trust on first use
 *   same size, same root      COSIGNED
 *   larger, proof from held   COSIGNED if it verifies, else INCONSISTENT
 *   larger, no such proof     PROOF_NEEDED, prove_from = held size (and
 *                             the sizes of gossip about it still to prove)
 *   smaller, or same size
 *   and another root          INCONSISTENT
 *
 * An INCONSISTENT answer raises an ENTRY_WITNESS_ALARM (both signed
 * checkpoints and the proofs that failed), once per (held, presented)
 * pair; the held checkpoint stays.  A rewritten log and a restored one
 * look the same here: both are a log that does not extend what was
 * cosigned, and both are alarms.  Gossip (the checkpoints of third logs
 * the requester cosigned) is compared with what we hold of those logs:
 * the same size with another root is a split view, raised at once; any
 * other size is remembered (the newest per log and reporter) and that log is
 * asked, when it next presents a checkpoint at least as large, for a
 * proof from it too.  A failed proof is a split view.
 *
 * Every answer after the signature checks is logged as ENTRY_WITNESSED
 * (the request and reply frames) and charged to the partner's hourly log
 * quota (budget.c); past that quota, or with a checkpoint or note
 * signature that does not verify, the partner gets WITNESS_REFUSED at
 * once, not logged.  The reply goes out after the
 * commit.  What we hold survives a restart through one mark per partner
 * (MARK_HELD, MARK_COSIGNED, MARK_ALARM): witness_new() reads those
 * entries, not the log.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "budget.h"
#include "log.h"
#include "partners.h"
#include "ppx/entry.h"
#include "ppx/checkpoint.h"
#include "ppx/envelope.h"
#include "ppx/error.h"
#include "ppx/merkle.h"
#include "ppx/note.h"
#include "state.h"
#include "transport.h"
#include "witness_int.h"
#include "writer.h"

/* What one request costs the partner's quota beyond its own bytes: the
 * reply and the entries' overhead, and an alarm's copy of both
 * checkpoints. */
#define REQUEST_OVERHEAD 2048

/* One request being judged. */
struct judge {
	struct ppxd *d;
	struct wpeer *p;
	const char *agency;
	const Ppx__V1__WitnessRequest *q;
	Ppx__V1__Checkpoint *cp;
	ppx_identity signer;
	Ppx__V1__WitnessReply r;
	Ppx__V1__Envelope *held;	/* r.held, when INCONSISTENT */
	uint64_t prove[WITNESS_PROVE_MAX];
	char detail[256];
	char note[PPX_NOTE_MAX];
	size_t note_len;
	uint8_t sig[PPX_SIG_MAX];
};

/* A reply waiting for the commit. */
struct wreply {
	struct transport_route route;
	uint8_t *frame;
	size_t len;
};

/* ------------------------------------------------------------------ */
/* Shared helpers                                                      */
/* ------------------------------------------------------------------ */

struct wpeer *witness_peer(struct witness *w, const char *agency)
{
	for (size_t i = 0; w && i < w->n; i++)
		if (strcmp(w->p[i].agency, agency) == 0)
			return &w->p[i];
	return NULL;
}

uint64_t witness_growth(struct ppxd *d)
{
	/* the committed log and this iteration's batch, which `appended`
	 * counts already */
	uint64_t size = ppx_log_size(d->log) + writer_pending(d);

	return size > d->witness->appended ? size - d->witness->appended : 0;
}

int witness_mark(struct ppxd *d, const char *prefix, const char *agency,
		 uint64_t *mark, uint64_t seq)
{
	char set[PPX_LOG_CURSOR_NAME_MAX + 1];
	ppx_log_batch *b;
	int rc = writer_batch(d, &b);

	if (snprintf(set, sizeof(set), "%s%s", prefix, agency) >=
	    (int)sizeof(set))
		return ppx_error_set(PPX_EINVAL, "agency name %s too long for "
				     "a mark", agency);
	if (rc == 0 && *mark != 0)
		rc = ppx_log_mark_del(b, set, *mark);
	if (rc == 0)
		rc = ppx_log_mark_put(b, set, seq, 0);
	if (rc == 0)
		*mark = seq;
	return rc;
}

int witness_append(struct ppxd *d, int kind, const char *agency,
		   const uint8_t *data, size_t len, const char *detail,
		   uint64_t *seq)
{
	Ppx__V1__LogEntry e = PPX__V1__LOG_ENTRY__INIT;
	int rc;

	e.kind = kind;
	e.time_ms = ppxd_now_ms();
	e.peer_agency = (char *)agency;
	e.data.data = (uint8_t *)data;
	e.data.len = len;
	e.detail = (char *)(detail ? detail : "");
	rc = writer_append(d, &e, seq);
	if (rc == 0)
		d->witness->appended++;
	return rc;
}

int witness_record(uint8_t **out, size_t *len, const uint8_t *req,
		   size_t req_len, const uint8_t *reply, size_t reply_len)
{
	Ppx__V1__WitnessRecord rec = PPX__V1__WITNESS_RECORD__INIT;

	rec.request.data = (uint8_t *)req;
	rec.request.len = req_len;
	rec.reply.data = (uint8_t *)reply;
	rec.reply.len = reply_len;
	*len = ppx__v1__witness_record__get_packed_size(&rec);
	if (!(*out = malloc(*len ? *len : 1)))
		return ppx_error_set(PPX_ENOMEM, "out of memory");
	ppx__v1__witness_record__pack(&rec, *out);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Checkpoints                                                         */
/* ------------------------------------------------------------------ */

static void wcheck_clear(struct wcheck *c)
{
	free(c->env);
	memset(c, 0, sizeof(*c));
}

/* Keep a copy of signed checkpoint `env` stating (size, root). */
static int wcheck_set(struct wcheck *c, const Ppx__V1__Envelope *env,
		      uint64_t size, const uint8_t *root, int64_t ms)
{
	size_t len = ppx__v1__envelope__get_packed_size(env);
	uint8_t *buf = malloc(len ? len : 1);

	if (!buf)
		return ppx_error_set(PPX_ENOMEM, "out of memory");
	ppx__v1__envelope__pack(env, buf);
	free(c->env);
	c->env = buf;
	c->env_len = len;
	c->size = size;
	memcpy(c->root, root, PPX_HASH_LEN);
	c->ms = ms;
	return 0;
}

/*
 * Verify a signed checkpoint of `agency` and decode it: the signature, by
 * a signing certificate of that agency at `now`, and a 32-byte root.
 */
static int checkpoint_open(Ppx__V1__Checkpoint **out, ppx_identity *signer,
			   const ppx_trust *trust,
			   const Ppx__V1__Envelope *env, const char *agency)
{
	Ppx__V1__Checkpoint *cp;
	int rc;

	*out = NULL;
	if (!env)
		return ppx_error_set(PPX_EFRAME, "no checkpoint in the request");
	rc = ppx_envelope_verify(trust, env,
				 PPX__V1__SIGNED_PURPOSE__SIGNED_CHECKPOINT,
				 agency, time(NULL), signer);
	if (rc != 0)
		return rc;
	if (ppx_checkpoint_decode(&cp, env, agency) != 0)
		return ppx_error_set(PPX_EFRAME, "%s", ppx_error_last());
	*out = cp;
	return 0;
}

/* The proof in `q` from old_size to the checkpoint's size, or NULL. */
static const Ppx__V1__ConsistencyProof *
find_proof(const Ppx__V1__WitnessRequest *q, uint64_t old_size,
	   uint64_t new_size)
{
	for (size_t i = 0; i < q->n_consistency; i++)
		if (q->consistency[i]->old_size == old_size &&
		    q->consistency[i]->new_size == new_size)
			return q->consistency[i];
	return NULL;
}

/* 0 if `pf` proves (old_size, old_root) extends to (new_size, new_root). */
static int proof_ok(const Ppx__V1__ConsistencyProof *pf,
		    const uint8_t *old_root, const uint8_t *new_root)
{
	ppx_hash path[PPX_MERKLE_MAX_PATH];

	if (pf->n_path > PPX_MERKLE_MAX_PATH)
		return PPX_EPROOF;
	for (size_t i = 0; i < pf->n_path; i++) {
		if (pf->path[i].len != PPX_HASH_LEN)
			return PPX_EPROOF;
		memcpy(path[i], pf->path[i].data, PPX_HASH_LEN);
	}
	return ppx_merkle_verify_consistency(pf->old_size, pf->new_size,
					     old_root, new_root, path,
					     pf->n_path);
}

/* ------------------------------------------------------------------ */
/* Alarms                                                              */
/* ------------------------------------------------------------------ */

/* 1 the first time this (held, presented) pair is alarmed. */
static int alarm_new(struct wpeer *p, const struct wcheck *held,
		     uint64_t size, const uint8_t *root)
{
	uint8_t buf[2 * (8 + PPX_HASH_LEN)], key[PPX_HASH_LEN];

	memcpy(buf, &held->size, 8);
	memcpy(buf + 8, held->root, PPX_HASH_LEN);
	memcpy(buf + 40, &size, 8);
	memcpy(buf + 48, root, PPX_HASH_LEN);
	ppx_sha256(key, buf, sizeof(buf));
	for (size_t i = 0; i < p->n_alarm_keys && i < WITNESS_ALARM_KEYS; i++)
		if (memcmp(p->alarm_keys[i], key, PPX_HASH_LEN) == 0)
			return 0;
	memcpy(p->alarm_keys[p->n_alarm_keys++ % WITNESS_ALARM_KEYS], key,
	       PPX_HASH_LEN);
	return 1;
}

/*
 * Raise an alarm about `p`'s log: `held` (ours, or gossip reported by
 * held->reported_by) and the `presented` checkpoint disagree.  Logged
 * once per pair; shown in the status from now on.
 */
static void alarm_raise(struct ppxd *d, struct wpeer *p,
			const struct wcheck *held,
			const Ppx__V1__Envelope *presented, uint64_t size,
			const uint8_t *root,
			const Ppx__V1__ConsistencyProof *failed,
			const char *detail)
{
	Ppx__V1__WitnessAlarm a = PPX__V1__WITNESS_ALARM__INIT;
	Ppx__V1__ConsistencyProof *pf[1] = {(Ppx__V1__ConsistencyProof *)failed};
	Ppx__V1__Envelope *h;
	uint8_t *buf = NULL;
	size_t len;
	uint64_t seq;

	p->alarm = 1;
	p->alarm_ms = ppxd_now_ms();
	snprintf(p->alarm_detail, sizeof(p->alarm_detail), "%s", detail);
	if (!alarm_new(p, held, size, root))
		return;
	log_event(LOG_ERR, &(struct log_fields){.partner = p->agency,
						 .reason = "witness-alarm"},
		  "ALARM: the log of %s: %s", p->agency, detail);
	h = ppx__v1__envelope__unpack(NULL, held->env_len, held->env);
	a.log_agency = p->agency;
	a.held = h;
	a.presented = (Ppx__V1__Envelope *)presented;
	a.n_proofs = failed ? 1 : 0;
	a.proofs = pf;
	a.reported_by = (char *)held->reported_by;
	len = ppx__v1__witness_alarm__get_packed_size(&a);
	if ((buf = malloc(len ? len : 1)) != NULL) {
		ppx__v1__witness_alarm__pack(&a, buf);
		budget_charge(d->budget, p->agency, len + 512, ppxd_now_ms());
		if (witness_append(d, PPX__V1__ENTRY_KIND__ENTRY_WITNESS_ALARM,
				   p->agency, buf, len, detail, &seq) != 0 ||
		    witness_mark(d, MARK_ALARM, p->agency, &p->alarm_mark,
				 seq) != 0)
			log_warnx("cannot log the alarm about %s: %s",
				  p->agency, ppx_error_last());
	}
	free(buf);
	ppx__v1__envelope__free_unpacked(h, NULL);
}

/* ------------------------------------------------------------------ */
/* Judging a request                                                   */
/* ------------------------------------------------------------------ */

static void judge_say(struct judge *j, int result, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void judge_say(struct judge *j, int result, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(j->detail, sizeof(j->detail), fmt, ap);
	va_end(ap);
	j->r.result = result;
	j->r.detail = j->detail;
}

/* The checkpoint's note text and the log's signature over it. */
static int judge_note(struct judge *j)
{
	const ppx_cert *cert = ppx_trust_find(j->d->trust,
					      j->signer.fingerprint);
	int rc = ppx_note_checkpoint_text(j->note, sizeof(j->note),
					  &j->note_len, j->cp->agency,
					  j->cp->tree_size,
					  j->cp->root_hash.data);

	if (rc == 0 && !cert)
		rc = ppx_error_set(PPX_EUNTRUSTED, "signer certificate gone");
	if (rc == 0)
		rc = ppx_cert_verify_signature(cert, j->q->note_signature.data,
					       j->q->note_signature.len,
					       (const uint8_t *)j->note,
					       j->note_len);
	if (rc != 0)
		ppx_error_set(rc, "note signature: %s", ppx_error_last());
	return rc;
}

/* Gossip about `p`'s log checked against what this request shows:
 * 0, or -1 after a split-view alarm. */
static int judge_seen(struct judge *j)
{
	struct wpeer *p = j->p;
	const uint8_t *root = j->cp->root_hash.data;
	size_t kept = 0;
	int bad = 0;

	for (size_t i = 0; i < p->n_seen; i++) {
		struct wcheck *s = &p->seen[i];
		const Ppx__V1__ConsistencyProof *pf =
			find_proof(j->q, s->size, j->cp->tree_size);

		if (s->size > j->cp->tree_size || (!pf && s->size < j->cp->tree_size)) {
			p->seen[kept++] = *s;	/* later, or ask below */
			continue;
		}
		if (s->size == j->cp->tree_size
			    ? memcmp(s->root, root, PPX_HASH_LEN) != 0
			    : proof_ok(pf, s->root, root) != 0) {
			char why[256];

			int own = strcmp(s->reported_by, p->agency) == 0;

			snprintf(why, sizeof(why), "split view: %s%s showed "
				 "us a checkpoint of size %llu that the log's "
				 "own of size %llu does not extend",
				 own ? "a receipt of " : "", s->reported_by,
				 (unsigned long long)s->size,
				 (unsigned long long)j->cp->tree_size);
			alarm_raise(j->d, p, s, j->q->checkpoint,
				    j->cp->tree_size, root, pf, why);
			if (!bad) {	/* the answer shows the first */
				judge_say(j,
					  PPX__V1__WITNESS_RESULT__INCONSISTENT,
					  "%s", why);
				j->held = ppx__v1__envelope__unpack(NULL,
						s->env_len, s->env);
			}
			bad = 1;
		}
		wcheck_clear(s);
	}
	p->n_seen = kept;
	return bad ? -1 : 0;
}

/* Sizes to prove from before we cosign: held's, then gossip's. */
static size_t judge_needs(struct judge *j)
{
	struct wpeer *p = j->p;
	size_t n = 0;

	if (p->held.env && p->held.size < j->cp->tree_size &&
	    p->held.size > 0 &&
	    !find_proof(j->q, p->held.size, j->cp->tree_size))
		j->prove[n++] = p->held.size;
	for (size_t i = 0; i < p->n_seen && n < WITNESS_PROVE_MAX; i++)
		if (p->seen[i].size < j->cp->tree_size && p->seen[i].size > 0) {
			j->prove[n++] = p->seen[i].size;
			p->seen[i].asked = 1;
		}
	return n;
}

/* Compare with the held checkpoint; COSIGNED (to be signed),
 * PROOF_NEEDED or INCONSISTENT (alarm raised) in j->r. */
static void judge_against_held(struct judge *j)
{
	struct wpeer *p = j->p;
	const struct wcheck *h = &p->held;
	const uint8_t *root = j->cp->root_hash.data;
	uint64_t size = j->cp->tree_size;
	const Ppx__V1__ConsistencyProof *pf = NULL;
	size_t n;

	if (h->env && (size < h->size ||
		       (size == h->size &&
			memcmp(h->root, root, PPX_HASH_LEN) != 0) ||
		       (size > h->size && h->size > 0 &&
			(pf = find_proof(j->q, h->size, size)) != NULL &&
			proof_ok(pf, h->root, root) != 0))) {
		judge_say(j, PPX__V1__WITNESS_RESULT__INCONSISTENT,
			  "checkpoint of size %llu does not extend the one of "
			  "size %llu we cosigned", (unsigned long long)size,
			  (unsigned long long)h->size);
		alarm_raise(j->d, p, h, j->q->checkpoint, size, root, pf,
			    j->detail);
		j->held = ppx__v1__envelope__unpack(NULL, h->env_len, h->env);
		return;
	}
	if (judge_seen(j) != 0)
		return;		/* INCONSISTENT, the gossip in j->held */
	if ((n = judge_needs(j)) > 0) {
		judge_say(j, PPX__V1__WITNESS_RESULT__PROOF_NEEDED,
			  "send consistency proofs from the sizes asked");
		j->r.n_prove_from = n;
		j->r.prove_from = j->prove;
		return;
	}
	judge_say(j, PPX__V1__WITNESS_RESULT__COSIGNED, "%s",
		  h->env ? "consistent with the checkpoint we held"
			 : "first checkpoint of this log we see: cosigned on "
			   "trust (nothing to compare it with)");
}

/* Sign the cosignature of the checkpoint and hold it. */
static int judge_cosign(struct judge *j)
{
	char msg[PPX_NOTE_MAX + 64];
	size_t len, siglen = 0;
	uint64_t t = (uint64_t)time(NULL);
	int rc = ppx_note_cosigned_message(msg, sizeof(msg), &len, t, j->note,
					   j->note_len);

	if (rc == 0)
		rc = ppx_signer_sign(j->d->signer, j->sig, sizeof(j->sig),
				     &siglen, (const uint8_t *)msg, len);
	if (rc != 0)
		return rc;
	j->r.timestamp = t;
	j->r.signature.data = j->sig;
	j->r.signature.len = siglen;
	j->r.algorithm = ppx_signer_algorithm(j->d->signer);
	j->r.signer_fingerprint.data =
		(uint8_t *)ppx_signer_fingerprint(j->d->signer);
	j->r.signer_fingerprint.len = PPX_FINGERPRINT_LEN;
	return wcheck_set(&j->p->held, j->q->checkpoint, j->cp->tree_size,
			  j->cp->root_hash.data, ppxd_now_ms());
}

/* 1 if this checkpoint of `c`'s log is among those still to prove. */
static int seen_already(const struct wpeer *c, uint64_t size,
			const uint8_t *root)
{
	for (size_t i = 0; i < c->n_seen; i++)
		if (c->seen[i].size == size &&
		    memcmp(c->seen[i].root, root, PPX_HASH_LEN) == 0)
			return 1;
	return 0;
}

/* Checkpoint `cp` of `c`'s log, signed in `env`, as shown to us by
 * `shown_by` (a third partner's gossip, or `c` itself in a receipt): the
 * same size as the one we hold with another root is a split-view alarm at
 * once; another size is kept to be proven consistent the next time `c`
 * presents a checkpoint (judge_seen).  Each reporter (`c` itself for its
 * receipts) takes one place, its newest checkpoint replacing the one
 * before, so that no partner can crowd out another's gossip or `c`'s
 * receipts. */
static void seen_add(struct ppxd *d, struct wpeer *c, Ppx__V1__Envelope *env,
		     const Ppx__V1__Checkpoint *cp, const char *shown_by)
{
	int own = strcmp(shown_by, c->agency) == 0;
	struct wcheck s = {0};
	size_t at = c->n_seen;

	if (c->held.env && cp->tree_size == c->held.size &&
	    memcmp(cp->root_hash.data, c->held.root, PPX_HASH_LEN) != 0) {
		char why[256];

		snprintf(why, sizeof(why), "split view: %s showed us a "
			 "checkpoint of size %llu with another root than the "
			 "one we cosigned", own ? "a receipt of the log" :
			 shown_by, (unsigned long long)cp->tree_size);
		snprintf(c->held.reported_by, sizeof(c->held.reported_by),
			 "%s", shown_by);
		alarm_raise(d, c, &c->held, env, cp->tree_size,
			    cp->root_hash.data, NULL, why);
		c->held.reported_by[0] = 0;
		return;
	}
	if ((c->held.env && cp->tree_size == c->held.size) ||
	    seen_already(c, cp->tree_size, cp->root_hash.data))
		return;
	for (size_t i = 0; i < c->n_seen; i++)
		if (strcmp(c->seen[i].reported_by, shown_by) == 0)
			at = i;
	/* That reporter's newer one stays; so does one we asked the log to
	 * prove: replaced by each newer receipt, the size asked for would
	 * never be the one the log's next request proves, and a log under a
	 * steady stream of receipts would never be cosigned. */
	if (at < c->n_seen &&
	    (c->seen[at].size >= cp->tree_size || c->seen[at].asked))
		return;
	if (at == WITNESS_SEEN_MAX ||
	    wcheck_set(&s, env, cp->tree_size, cp->root_hash.data,
		       ppxd_now_ms()) != 0)
		return;
	snprintf(s.reported_by, sizeof(s.reported_by), "%s", shown_by);
	if (at < c->n_seen)
		wcheck_clear(&c->seen[at]);
	else
		c->n_seen++;
	c->seen[at] = s;
}

/*
 * A third log's checkpoint in gossip is evidence about that log, not
 * traffic from its agency: with a directory in force its signing
 * certificate must be one the directory lists for the log's agency
 * (PROTOCOL.md 13.4), whatever that agency's standing.  A suspended or
 * leaving agency's listed key still speaks for its log; a removed one,
 * or a key dropped from the directory, speaks for nothing, and an alarm
 * raised on it would be raised by a key the federation cut.
 */
static int gossip_signer_listed(const struct ppxd *d, const ppx_identity *id)
{
	return !d->directory ||
	       ppx_directory_lists_cert(d->directory, id->agency,
					PPX_ROLE_SIGNING, id->fingerprint);
}

/* Gossip in the request: checkpoints of third logs `agency` cosigned. */
static void take_gossip(struct ppxd *d, const char *agency,
			const Ppx__V1__WitnessRequest *q)
{
	for (size_t i = 0; i < q->n_gossip && i < WITNESS_GOSSIP_MAX; i++) {
		Ppx__V1__Envelope *env = q->gossip[i];
		Ppx__V1__Checkpoint *cp = NULL;
		ppx_identity id;
		struct wpeer *c;

		if (ppx_envelope_verify(d->trust, env,
					PPX__V1__SIGNED_PURPOSE__SIGNED_CHECKPOINT,
					NULL, time(NULL), &id) != 0 ||
		    !(c = witness_peer(d->witness, id.agency)) ||
		    strcmp(id.agency, agency) == 0 ||
		    !gossip_signer_listed(d, &id) ||
		    checkpoint_open(&cp, &id, d->trust, env, id.agency) != 0)
			continue;	/* not a partner's, or not good */
		seen_add(d, c, env, cp, agency);
		ppx__v1__checkpoint__free_unpacked(cp, NULL);
	}
}

int witness_checkpoint_allowed(struct ppxd *d, const char *agency,
			       const Ppx__V1__Envelope *env)
{
	ppx_identity id;
	int rc;

	if (!d->directory || !env)
		return 0;
	rc = ppx_envelope_verify(d->trust, env,
				 PPX__V1__SIGNED_PURPOSE__SIGNED_CHECKPOINT,
				 agency, time(NULL), &id);
	if (rc == 0)
		rc = partners_cert_allowed(d, agency, PPX_ROLE_SIGNING,
					   id.fingerprint,
					   PARTNERS_USE_RECEIPT);
	return rc;
}

void witness_receipt_seen(struct ppxd *d, const char *agency,
			  Ppx__V1__Envelope *env)
{
	Ppx__V1__Checkpoint *cp = NULL;
	ppx_identity id;
	struct wpeer *c;

	if (!d->witness || !env || !(c = witness_peer(d->witness, agency)) ||
	    witness_checkpoint_allowed(d, agency, env) != 0 ||
	    checkpoint_open(&cp, &id, d->trust, env, agency) != 0)
		return;
	seen_add(d, c, env, cp, agency);
	ppx__v1__checkpoint__free_unpacked(cp, NULL);
}

/* Judge the request into j->r: 0, or -1 if refused at step 1 (its
 * signatures), an answer not to be logged. */
static int judge(struct judge *j)
{
	int rc = checkpoint_open(&j->cp, &j->signer, j->d->trust,
				 j->q->checkpoint, j->agency);

	if (rc == 0)	/* with a directory: listed, and not cut off */
		rc = partners_cert_allowed(j->d, j->agency, PPX_ROLE_SIGNING,
					   j->signer.fingerprint,
					   PARTNERS_USE_RECEIPT);
	if (rc == 0)
		rc = judge_note(j);
	if (rc != 0) {
		judge_say(j, PPX__V1__WITNESS_RESULT__WITNESS_REFUSED, "%s",
			  ppx_error_last());
		return -1;
	}
	j->r.tree_size = j->cp->tree_size;
	j->r.root_hash = j->cp->root_hash;
	take_gossip(j->d, j->agency, j->q);
	judge_against_held(j);
	if (j->r.result == PPX__V1__WITNESS_RESULT__INCONSISTENT)
		j->r.held = j->held;	/* NULL if nothing was held */
	if (j->r.result == PPX__V1__WITNESS_RESULT__COSIGNED &&
	    (rc = judge_cosign(j)) != 0)
		judge_say(j, PPX__V1__WITNESS_RESULT__WITNESS_REFUSED,
			  "cannot cosign now: %s", ppx_error_last());
	return 0;
}

/* ------------------------------------------------------------------ */
/* Answering                                                           */
/* ------------------------------------------------------------------ */

static int reply_pack(uint8_t **out, size_t *len,
		      const Ppx__V1__WitnessReply *r)
{
	Ppx__V1__Frame f = PPX__V1__FRAME__INIT;

	f.version = PPX__V1__WIRE_VERSION__WIRE_VERSION_1;
	f.content_case = PPX__V1__FRAME__CONTENT_COSIGNATURE;
	f.cosignature = (Ppx__V1__WitnessReply *)r;
	*len = ppx__v1__frame__get_packed_size(&f);
	if (!(*out = malloc(*len)))
		return ppx_error_set(PPX_ENOMEM, "out of memory");
	ppx__v1__frame__pack(&f, *out);
	return 0;
}

static void reply_after_commit(struct ppxd *d, void *arg, int rc)
{
	struct wreply *w = arg;

	if (rc == 0)
		transport_reply(d->transport, &w->route, w->frame, w->len);
	else
		log_warnx("witnessing answer not sent: the log commit "
			  "failed");
	free(w->frame);
	free(w);
}

/* Answer at once, logging nothing (refused before anything was held). */
static void reply_now(struct ppxd *d, const struct transport_route *route,
		      const char *agency, int result, const char *detail)
{
	Ppx__V1__WitnessReply r = PPX__V1__WITNESS_REPLY__INIT;
	uint8_t *frame;
	size_t len;

	r.witness_agency = d->cfg->agency;
	r.log_agency = (char *)agency;
	r.result = result;
	r.detail = (char *)detail;
	if (reply_pack(&frame, &len, &r) != 0)
		return;
	transport_reply(d->transport, route, frame, len);
	free(frame);
}

/* Log the exchange as ENTRY_WITNESSED and send the reply after commit. */
static void answer(struct judge *j, const struct transport_route *route,
		   const uint8_t *req, size_t req_len)
{
	struct wreply *w = calloc(1, sizeof(*w));
	uint8_t *rec = NULL;
	size_t rec_len;
	uint64_t seq;
	int rc = w ? reply_pack(&w->frame, &w->len, &j->r)
		   : ppx_error_set(PPX_ENOMEM, "out of memory"), appended = 0;

	if (rc == 0)
		rc = witness_record(&rec, &rec_len, req, req_len, w->frame,
				    w->len);
	if (rc == 0)
		appended = (rc = witness_append(
				    j->d, PPX__V1__ENTRY_KIND__ENTRY_WITNESSED,
				    j->agency, rec, rec_len, j->detail,
				    &seq)) == 0;
	if (rc == 0 && j->r.result == PPX__V1__WITNESS_RESULT__COSIGNED)
		rc = witness_mark(j->d, MARK_HELD, j->agency, &j->p->held_mark,
				  seq);
	if (rc == 0) {
		budget_charge(j->d->budget, j->agency, rec_len + 512,
			      ppxd_now_ms());
		w->route = *route;
		rc = writer_after(j->d, reply_after_commit, w);
	}
	if (rc != 0) {
		log_warnx("cannot log the witnessing of %s: %s", j->agency,
			  ppx_error_last());
		if (appended)	/* the entry without its mark: not at all */
			writer_fail(j->d, rc);
		if (w)
			free(w->frame);
		free(w);
	}
	free(rec);
}

/* A request judged and answered; `f` is its decoded frame. */
static void request(struct ppxd *d, const struct transport_route *route,
		    struct wpeer *p, const Ppx__V1__Frame *f,
		    const uint8_t *data, size_t len)
{
	struct judge j = {0};

	j.d = d;
	j.p = p;
	j.agency = p->agency;
	j.q = f->witness;
	ppx__v1__witness_reply__init(&j.r);
	j.r.witness_agency = d->cfg->agency;
	j.r.log_agency = p->agency;
	if (judge(&j) != 0) {
		log_info("witnessing %s refused: %s", p->agency, j.detail);
		reply_now(d, route, p->agency, j.r.result, j.detail);
	} else {
		if (j.r.result != PPX__V1__WITNESS_RESULT__COSIGNED)
			log_info("witnessing %s: %s", p->agency, j.detail);
		answer(&j, route, data, len);
	}
	if (j.held)
		ppx__v1__envelope__free_unpacked(j.held, NULL);
	if (j.cp)
		ppx__v1__checkpoint__free_unpacked(j.cp, NULL);
}

int witness_inbound(struct ppxd *d, const struct transport_route *route,
		    const char *agency, const uint8_t *data, size_t len)
{
	int content = ppxd_frame_content(data, len);
	struct wpeer *p = witness_peer(d->witness, agency);
	const struct ppx_partner *pt = ppx_config_partner(d->cfg, agency);
	Ppx__V1__Frame *f = NULL;

	if (content != PPX__V1__FRAME__CONTENT_WITNESS &&
	    content != PPX__V1__FRAME__CONTENT_COSIGNATURE)
		return 0;
	if (content == PPX__V1__FRAME__CONTENT_COSIGNATURE)
		return 1;	/* answers come on our link, never here */
	if (!p || !d->cfg->witness || (pt && pt->witness_off))
		reply_now(d, route, agency,
			  PPX__V1__WITNESS_RESULT__WITNESS_REFUSED,
			  "this daemon does not witness your log");
	else if (len > WITNESS_REQUEST_MAX ||
		 !budget_quota_allows(d->budget, agency,
				      2 * len + REQUEST_OVERHEAD,
				      ppxd_now_ms()))
		reply_now(d, route, agency,
			  PPX__V1__WITNESS_RESULT__WITNESS_REFUSED,
			  "request too large or log quota spent: not "
			  "witnessed, ask again later");
	else if (ppx_frame_decode(&f, data, len) != 0 ||
		 f->content_case != PPX__V1__FRAME__CONTENT_WITNESS)
		reply_now(d, route, agency,
			  PPX__V1__WITNESS_RESULT__WITNESS_REFUSED,
			  "malformed witness request");
	else
		request(d, route, p, f, data, len);
	if (f)
		ppx__v1__frame__free_unpacked(f, NULL);
	return 1;
}

/* ------------------------------------------------------------------ */
/* A partner's restore notice (restore_partner.c)                      */
/* ------------------------------------------------------------------ */

int witness_alarmed(struct ppxd *d, const char *agency)
{
	struct wpeer *p = d->witness ? witness_peer(d->witness, agency) : NULL;

	return p && p->alarm;
}

void witness_restore_fork(struct ppxd *d, const char *agency,
			  const Ppx__V1__Envelope *env, uint64_t size,
			  const uint8_t root[PPX_HASH_LEN])
{
	struct wpeer *p = d->witness ? witness_peer(d->witness, agency) : NULL;
	char why[256];

	if (!p || !p->held.env)
		return;
	snprintf(why, sizeof(why), "fork: a restore notice of the log "
		 "names a checkpoint of size %llu with another root than "
		 "the one we cosigned", (unsigned long long)size);
	alarm_raise(d, p, &p->held, env, size, root, NULL, why);
}
