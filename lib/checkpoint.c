/*
 * checkpoint.c — signed checkpoints of the log's Merkle tree, and offline
 * verification of a whole log.
 *
 * ppx_checkpoint_append() is called by the daemon at intervals: it signs
 * (agency, tree size, root, time) and appends the signed frame as an entry.
 * ppx_checkpoint_seal_batch() signs one without appending it: the one a
 * loop iteration's receipts carry (PROTOCOL.md 5.3), logged inside each
 * RECEIPT_SENT entry rather than as an entry of its own.
 *
 * ppx_log_verify() is what `ppx verify` runs.  It trusts nothing stored
 * beside the entries: it recomputes every leaf hash, the hash chain and a
 * compact range of the Merkle tree as it reads, compares them with the
 * stored tree and with every signed checkpoint, and checks every signature.
 * The first sequence number at which anything differs is reported.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "logstore_int.h"
#include "ppx/checkpoint.h"
#include "ppx/directory.h"
#include "ppx/envelope.h"
#include "ppx/error.h"
#include "ppx/person.h"
#include "ppx/text.h"
#include "verify_int.h"

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The signed checkpoint frame of the tree of `size` entries (committed,
 * or in `batch` if it is not NULL). */
static int checkpoint_seal(uint8_t **out, size_t *len, int64_t *time_ms,
			   ppx_log *log, ppx_log_batch *batch,
			   ppx_signer *signer, uint64_t size)
{
	Ppx__V1__Checkpoint cp = PPX__V1__CHECKPOINT__INIT;
	uint8_t body[PPX_NAME_MAX + 96];
	ppx_hash root;
	int rc = batch ? ppxi_logstore_batch_root(batch, size, root)
		       : ppx_log_root(log, size, root);

	if (rc != 0)
		return rc;
	if (!signer)
		return ppx_error_set(PPX_EINVAL, "no signing key to sign a "
				     "checkpoint with");
	cp.agency = (char *)ppx_signer_agency(signer);
	cp.tree_size = size;
	cp.root_hash.data = root;
	cp.root_hash.len = sizeof(root);
	cp.time_ms = *time_ms = now_ms();
	if (ppx__v1__checkpoint__get_packed_size(&cp) > sizeof(body))
		return ppx_error_set(PPX_EINVAL, "agency name too long");
	return ppx_frame_seal(out, len, signer,
			      PPX__V1__SIGNED_PURPOSE__SIGNED_CHECKPOINT, body,
			      ppx__v1__checkpoint__pack(&cp, body));
}

/*
 * The check seal: meta "check/seal" -> the seq of the newest checkpoint
 * entry, put in the commit that appends it.  The start-up check
 * (ppx_log_check_sealed()) trusts what lies before it as far as the
 * stored tree agrees with that checkpoint's signed root, and checks
 * everything from it to the end.
 */
#define SEAL_KEY "check/seal"

/* Append a sealed checkpoint of `size` entries, which must land at seq
 * `size` (the next position) to describe the log before it; through the
 * open batch when there is one, else in a commit of its own. */
static int checkpoint_put(ppx_log *log, ppx_log_batch *batch,
			  const uint8_t *sealed, size_t sealed_len, int64_t t,
			  uint64_t size, uint64_t *seq_out)
{
	Ppx__V1__LogEntry entry = PPX__V1__LOG_ENTRY__INIT;
	uint64_t seq = 0;
	int rc;

	ppx_log_batch *own = NULL;

	entry.kind = PPX__V1__ENTRY_KIND__ENTRY_CHECKPOINT;
	entry.time_ms = t;
	entry.data.data = (uint8_t *)sealed;
	entry.data.len = sealed_len;
	if (!batch && (rc = ppx_log_begin(&own, log)) < 0)
		return rc;
	rc = ppx_log_append(batch ? batch : own, &entry, &seq);
	if (rc == 0 && seq != size)
		rc = ppx_error_set(PPX_ECORRUPT,
				   "checkpoint of size %llu landed at %llu",
				   (unsigned long long)size,
				   (unsigned long long)seq);
	/* The seal moves with the checkpoint, in the same commit. */
	if (rc == 0)
		rc = ppxi_logstore_batch_meta(batch ? batch : own, SEAL_KEY,
					      sizeof(SEAL_KEY) - 1, seq);
	if (own && rc == 0)
		rc = ppx_log_commit(own);
	else if (own)
		ppx_log_abort(own);
	if (rc == 0 && seq_out)
		*seq_out = seq;
	return rc;
}

int ppx_checkpoint_append_batch(ppx_log_batch *batch, ppx_log *log,
				ppx_signer *signer, uint64_t *seq_out)
{
	uint64_t size = ppxi_logstore_batch_next(batch);
	uint8_t *sealed = NULL;
	size_t sealed_len = 0;
	int64_t t = 0;
	int rc = checkpoint_seal(&sealed, &sealed_len, &t, log, batch, signer,
				 size);

	if (rc == 0)
		rc = checkpoint_put(log, batch, sealed, sealed_len, t, size,
				    seq_out);
	free(sealed);
	return rc;
}

int ppx_checkpoint_seal_batch(uint8_t **frame, size_t *frame_len,
			      uint64_t *size_out, ppx_log_batch *batch,
			      ppx_log *log, ppx_signer *signer)
{
	uint64_t size = ppxi_logstore_batch_next(batch);
	int64_t t = 0;
	int rc = checkpoint_seal(frame, frame_len, &t, log, batch, signer,
				 size);

	if (rc == 0 && size_out)
		*size_out = size;
	return rc;
}

int ppx_checkpoint_append(ppx_log *log, ppx_signer *signer, uint8_t **frame,
			  size_t *frame_len, uint64_t *seq_out)
{
	uint64_t size = ppx_log_size(log);
	uint8_t *sealed = NULL;
	size_t sealed_len = 0;
	int64_t t = 0;
	int rc = checkpoint_seal(&sealed, &sealed_len, &t, log, NULL, signer,
				 size);

	if (rc == 0)
		rc = checkpoint_put(log, NULL, sealed, sealed_len, t, size,
				    seq_out);
	if (rc == 0 && frame) {
		*frame = sealed;
		*frame_len = sealed_len;
	} else {
		free(sealed);
	}
	return rc;
}

int ppx_checkpoint_decode(Ppx__V1__Checkpoint **out,
			  const Ppx__V1__Envelope *env, const char *agency)
{
	Ppx__V1__Checkpoint *cp;
	int rc;

	*out = NULL;
	cp = ppx__v1__checkpoint__unpack(NULL, env->signed_body.len,
					 env->signed_body.data);
	if (!cp)
		return ppx_error_set(PPX_EBODY, "checkpoint does not decode");
	rc = ppx_text_check(&ppx__v1__checkpoint__descriptor,
			    env->signed_body.data, env->signed_body.len,
			    "checkpoint");
	if (rc == 0 && (!cp->agency || strcmp(cp->agency, agency) != 0 ||
			cp->root_hash.len != PPX_MERKLE_HASH_LEN))
		rc = ppx_error_set(PPX_EBODY, "checkpoint is not one of %s "
				   "with a 32-byte root", agency);
	if (rc != 0) {
		ppx__v1__checkpoint__free_unpacked(cp, NULL);
		return rc;
	}
	*out = cp;
	return 0;
}

int ppx_checkpoint_open(Ppx__V1__Checkpoint **out, const ppx_trust *trust,
			const uint8_t *frame, size_t len,
			const char *expected_agency, time_t now)
{
	Ppx__V1__Frame *f = NULL;
	ppx_identity signer;
	int rc;

	*out = NULL;
	rc = ppx_frame_decode(&f, frame, len);
	if (rc != 0)
		return rc;
	if (f->content_case != PPX__V1__FRAME__CONTENT_CHECKPOINT)
		rc = ppx_error_set(PPX_EPURPOSE, "frame carries no checkpoint");
	if (rc == 0)
		rc = ppx_envelope_verify(trust, f->checkpoint,
					 PPX__V1__SIGNED_PURPOSE__SIGNED_CHECKPOINT,
					 expected_agency, now, &signer);
	if (rc == 0)
		rc = ppx_checkpoint_decode(out, f->checkpoint, signer.agency);
	ppx__v1__frame__free_unpacked(f, NULL);
	return rc;
}

/*
 * A compact range: the roots of the perfect subtrees that make up the first
 * `size` leaves, largest first.  Enough to compute the root of any prefix
 * as the entries stream past, in O(log n) memory.
 */
struct range {
	ppx_hash peak[PPX_MERKLE_MAX_PATH];
	unsigned n;
	uint64_t size;
};

static void range_push(struct range *r, const ppx_hash leaf)
{
	uint64_t s = r->size;

	memcpy(r->peak[r->n++], leaf, sizeof(ppx_hash));
	/* Each trailing 1 bit of the old size is a merge. */
	for (; s & 1; s >>= 1) {
		r->n--;
		ppx_merkle_node(r->peak[r->n - 1], r->peak[r->n - 1],
				r->peak[r->n]);
	}
	r->size++;
}

static void range_root(const struct range *r, ppx_hash out)
{
	if (r->n == 0) {
		ppx_merkle_empty(out);
		return;
	}
	memcpy(out, r->peak[r->n - 1], sizeof(ppx_hash));
	for (unsigned i = r->n - 1; i-- > 0;)
		ppx_merkle_node(out, r->peak[i], out);
}

/* The compact range of the first `size` leaves as the stored tree holds
 * it: the perfect subtrees of the binary decomposition of size. */
static int range_load(struct range *r, ppx_log *log, uint64_t size)
{
	uint64_t offset = 0;
	MDB_txn *txn;
	int rc = 0;

	memset(r, 0, sizeof(*r));
	if ((rc = ppxi_logstore_read_begin(log, &txn)) < 0)
		return rc;
	for (unsigned level = 64; rc == 0 && level-- > 0;) {
		if (!(size >> level & 1))
			continue;
		rc = ppxi_logstore_node_get(log, txn, level, offset >> level,
					    r->peak[r->n]);
		r->n++;
		offset += (uint64_t)1 << level;
	}
	ppxi_logstore_read_end(log, txn);
	r->size = size;
	return rc;
}

struct verify_ctx {
	ppx_log *log;
	const ppx_trust *trust;		/* trusts[0] */
	const ppx_trust *const *trusts;	/* one per thread */
	unsigned jobs;
	struct ppxi_sig_pool *pool;	/* jobs > 1: signatures queued */
	ppx_verify_report *report;
	struct range range;
	ppx_hash prev;
	int sealed;		/* checking from a seal: */
	uint64_t seal;		/* the checkpoint entry it names */
};

static int bad(struct verify_ctx *v, uint64_t seq, int code, const char *what)
{
	v->report->ok = 0;
	v->report->first_bad = seq;
	v->report->code = code;
	snprintf(v->report->reason, sizeof(v->report->reason), "%s", what);
	return 1;	/* stop iterating */
}

static int bad_detail(struct verify_ctx *v, uint64_t seq, int code,
		      const char *what)
{
	char buf[256];

	snprintf(buf, sizeof(buf), "%s: %s", what, ppx_error_last());
	return bad(v, seq, code, buf);
}

static int check_receipt_frame(const ppx_trust *trust, const uint8_t *data,
			       size_t len)
{
	Ppx__V1__Frame *f = NULL;
	ppx_identity signer;
	int rc = ppx_frame_decode(&f, data, len);

	if (rc != 0)
		return rc;
	if (f->content_case != PPX__V1__FRAME__CONTENT_RECEIPT)
		rc = ppx_error_set(PPX_EPURPOSE, "frame carries no receipt");
	else
		rc = ppx_envelope_verify(trust, f->receipt,
					 PPX__V1__SIGNED_PURPOSE__SIGNED_RECEIPT,
					 NULL, 0, &signer);
	ppx__v1__frame__free_unpacked(f, NULL);
	return rc;
}

/* Without trust (the daemon's own checks): the checkpoint's body as
 * stored, its signature not judged. */
static int checkpoint_unsigned(Ppx__V1__Checkpoint **out, const uint8_t *data,
			       size_t len)
{
	Ppx__V1__Frame *f = NULL;
	int rc = ppx_frame_decode(&f, data, len);

	*out = NULL;
	if (rc != 0)
		return rc;
	if (f->content_case != PPX__V1__FRAME__CONTENT_CHECKPOINT ||
	    !f->checkpoint)
		rc = ppx_error_set(PPX_EPURPOSE, "frame carries no checkpoint");
	else if (!(*out = ppx__v1__checkpoint__unpack(
			   NULL, f->checkpoint->signed_body.len,
			   f->checkpoint->signed_body.data)))
		rc = ppx_error_set(PPX_EBODY, "checkpoint does not decode");
	else if ((*out)->root_hash.len != PPX_MERKLE_HASH_LEN)
		rc = ppx_error_set(PPX_EBODY, "checkpoint root is not 32 "
				   "bytes");
	ppx__v1__frame__free_unpacked(f, NULL);
	if (rc != 0 && *out) {
		ppx__v1__checkpoint__free_unpacked(*out, NULL);
		*out = NULL;
	}
	return rc;
}

/* A checkpoint entry at seq against the root of the entries before it. */
static int check_checkpoint(struct ppxi_sig *s, const ppx_trust *trust)
{
	Ppx__V1__Checkpoint *cp = NULL;
	int rc = trust ? ppx_checkpoint_open(&cp, trust, s->data, s->len,
					     NULL, 0)
		       : checkpoint_unsigned(&cp, s->data, s->len);

	if (rc != 0) {
		s->code = rc;
		snprintf(s->reason, sizeof(s->reason), "%s: %s",
			 trust ? "checkpoint signature" : "checkpoint",
			 ppx_error_last());
		return 1;
	}
	if (cp->tree_size != s->seq ||
	    memcmp(cp->root_hash.data, s->root, sizeof(s->root)) != 0)
		rc = PPX_ECORRUPT;
	ppx__v1__checkpoint__free_unpacked(cp, NULL);
	if (rc != 0) {
		s->code = rc;
		snprintf(s->reason, sizeof(s->reason), "signed checkpoint does "
			 "not match the entries before it");
		return 1;
	}
	return 0;
}

/* A message's personal signature, if it carries one, as history
 * (PROTOCOL.md 3.2: chain and role, not the period or the CRL). */
static int check_person(const ppx_trust *trust, const ppx_opened *o)
{
	const Ppx__V1__Envelope *env = o->frame->message;
	ppx_identity who;

	if (!env->person)
		return 0;
	return ppx_person_verify(&who, trust, env->person,
				 env->signed_body.data, env->signed_body.len,
				 o->body, o->signer.agency, 0);
}

int ppxi_verify_sig(struct ppxi_sig *s, const ppx_trust *trust)
{
	ppx_opened *o = NULL;
	int rc = 0;

	s->code = 0;
	s->reason[0] = '\0';
	switch (s->kind) {
	case PPX__V1__ENTRY_KIND__ENTRY_SENT:
	case PPX__V1__ENTRY_KIND__ENTRY_RECEIVED:
		rc = ppx_message_open(&o, trust, s->data, s->len, NULL, 0);
		if (rc == 0)
			rc = check_person(trust, o);
		ppx_opened_free(o);
		break;
	case PPX__V1__ENTRY_KIND__ENTRY_RECEIPT_SENT:
	case PPX__V1__ENTRY_KIND__ENTRY_RECEIPT_RECEIVED:
		rc = check_receipt_frame(trust, s->data, s->len);
		break;
	case PPX__V1__ENTRY_KIND__ENTRY_CHECKPOINT:
		return check_checkpoint(s, trust);
	default:
		return 0;
	}
	if (rc != 0) {
		s->code = rc;
		snprintf(s->reason, sizeof(s->reason), "signature: %s",
			 ppx_error_last());
		return 1;
	}
	return 0;
}

/*
 * A directory the daemon took (ENTRY_DIRECTORY, PROTOCOL.md 13.3), judged
 * as history (now 0: signature, chain and role; not its dates): its
 * certificates become known for the entries after it, so that a log keeps
 * verifying after a rotation even when the old certificate's file is gone.
 * Adding a certificate only lets it be found by fingerprint; every use of
 * it is still judged by ppx_trust_check() against the CA, so the store's
 * const is kept in spirit: it trusts nothing more than before.  With
 * worker threads each has a trust store of its own: the certificates go
 * into every one, after every signature before the directory is checked.
 */
static int check_directory(struct verify_ctx *v, const Ppx__V1__LogEntry *e)
{
	struct ppx_directory *dir = NULL;
	int rc = ppx_directory_parse(&dir, e->data.data, e->data.len,
				     v->trusts[0], 0);

	for (unsigned t = 0; rc == 0 && t < v->jobs; t++) {
		ppx_trust *trust = (ppx_trust *)v->trusts[t];

		for (size_t i = 0; rc == 0 && i < dir->n_agencies; i++) {
			const struct ppx_dir_agency *a = &dir->agencies[i];

			for (size_t k = 0; rc == 0 && k < a->n_signing; k++)
				rc = ppx_trust_add_cert(trust, a->signing[k]);
			for (size_t k = 0; rc == 0 && k < a->n_transport; k++)
				rc = ppx_trust_add_cert(trust,
							a->transport[k]);
		}
	}
	ppx_directory_free(dir);
	return rc;
}

static void count_sig(struct verify_ctx *v, int kind)
{
	if (kind == PPX__V1__ENTRY_KIND__ENTRY_CHECKPOINT)
		v->report->checkpoints++;
	else
		v->report->signatures++;
}

/* The signatures queued for the workers, checked; the first that fails,
 * if any, becomes the report (entries before it: its seq). */
static int pool_run(struct verify_ctx *v)
{
	size_t n, bad_at;
	int rc;

	if (!v->pool || (n = ppxi_sig_pool_size(v->pool)) == 0)
		return 0;
	if ((rc = ppxi_sig_pool_run(v->pool, &bad_at)) != 0)
		return rc;
	for (size_t i = 0; i < bad_at; i++)
		count_sig(v, ppxi_sig_pool_item(v->pool, i)->kind);
	if (bad_at < n) {
		const struct ppxi_sig *s = ppxi_sig_pool_item(v->pool, bad_at);

		bad(v, s->seq, s->code, s->reason);
		v->report->entries = s->seq;
	}
	ppxi_sig_pool_clear(v->pool);
	return bad_at < n;
}

/* Check the signature an entry carries, by its kind: here, or queued for
 * the workers (all but directories, which change the trust stores and
 * wait for what was queued before them). */
static int check_signatures(struct verify_ctx *v, uint64_t seq,
			    const Ppx__V1__LogEntry *e)
{
	struct ppxi_sig s = {.seq = seq, .kind = e->kind,
			     .data = e->data.data, .len = e->data.len};
	int rc;

	if (!v->trust && e->kind != PPX__V1__ENTRY_KIND__ENTRY_CHECKPOINT)
		return 0;	/* ppx_log_check(): structure, checkpoints' roots */
	switch (e->kind) {
	case PPX__V1__ENTRY_KIND__ENTRY_DIRECTORY:
		if ((rc = pool_run(v)) != 0)
			return rc;
		if ((rc = check_directory(v, e)) != 0)
			return bad_detail(v, seq, rc, "signature");
		v->report->signatures++;
		return 0;
	case PPX__V1__ENTRY_KIND__ENTRY_SENT:
	case PPX__V1__ENTRY_KIND__ENTRY_RECEIVED:
	case PPX__V1__ENTRY_KIND__ENTRY_RECEIPT_SENT:
	case PPX__V1__ENTRY_KIND__ENTRY_RECEIPT_RECEIVED:
	case PPX__V1__ENTRY_KIND__ENTRY_CHECKPOINT:
		break;
	default:
		return 0;	/* no signature in this kind of entry */
	}
	if (e->kind == PPX__V1__ENTRY_KIND__ENTRY_CHECKPOINT)
		range_root(&v->range, s.root);
	if (v->pool)
		return (rc = ppxi_sig_pool_add(v->pool, &s)) != 0 ? rc
		       : ppxi_sig_pool_size(v->pool) < PPXI_SIG_BATCH ? 0
		       : pool_run(v);
	if (ppxi_verify_sig(&s, v->trust))
		return bad(v, seq, s.code, s.reason);
	count_sig(v, e->kind);
	return 0;
}

static int verify_entry(void *ctx, uint64_t seq, const uint8_t *data,
			size_t len)
{
	struct verify_ctx *v = ctx;
	Ppx__V1__LogEntry *e;
	ppx_hash leaf, stored;
	int stop;

	ppx_merkle_leaf(leaf, data, len);
	if (ppx_log_leaf(v->log, seq, stored) != 0 ||
	    memcmp(leaf, stored, sizeof(leaf)) != 0)
		return bad(v, seq, PPX_ECORRUPT,
			   "entry bytes do not match the stored leaf hash");
	e = ppx__v1__log_entry__unpack(NULL, len, data);
	if (!e)
		return bad(v, seq, PPX_ECORRUPT, "entry does not decode");
	if (e->seq != seq)
		stop = bad(v, seq, PPX_ECORRUPT,
			   "entry records another sequence number");
	else if (e->prev_hash.len != sizeof(ppx_hash) ||
		 memcmp(e->prev_hash.data, v->prev, sizeof(ppx_hash)) != 0)
		stop = bad(v, seq, PPX_ECORRUPT,
			   "prev_hash does not match the entry before");
	else if (v->sealed && seq == v->seal &&
		 e->kind != PPX__V1__ENTRY_KIND__ENTRY_CHECKPOINT)
		stop = bad(v, seq, PPX_ECORRUPT,
			   "the check seal names an entry that is not a "
			   "checkpoint");
	else
		stop = check_signatures(v, seq, e);
	ppx__v1__log_entry__free_unpacked(e, NULL);
	if (stop)
		return stop;
	range_push(&v->range, leaf);
	memcpy(v->prev, leaf, sizeof(leaf));
	v->report->entries++;
	return 0;
}

/* Entries [from, size): the chain and the tree carried on from the
 * stored tree at `from`. */
static int verify_from(struct verify_ctx *v, uint64_t from)
{
	ppx_log *log = v->log;
	ppx_verify_report *out = v->report;
	uint64_t size = ppx_log_size(log);
	ppx_hash computed, stored;
	int rc;

	if (from > 0 && ((rc = range_load(&v->range, log, from)) != 0 ||
			 (rc = ppx_log_leaf(log, from - 1, v->prev)) != 0))
		return rc;
	rc = ppxi_logstore_foreach(log, from, size, 0, verify_entry, v);
	/*
	 * What was queued precedes any stop, a read error too: it is run
	 * whatever the stop, and a bad signature it finds is the verdict, as
	 * with one job (the read error would have come after it).
	 */
	if (rc < 0) {
		char why[512];
		int prc;

		snprintf(why, sizeof(why), "%s", ppx_error_last());
		prc = pool_run(v);
		if (prc > 0)
			return 0;
		return ppx_error_set(rc, "%s", why);
	} else {
		int prc = pool_run(v);

		if (prc < 0)
			return prc;
	}
	if (!out->ok)
		return 0;
	range_root(&v->range, computed);
	rc = ppx_log_root(log, size, stored);
	if (rc != 0)
		return rc;
	if (memcmp(computed, stored, sizeof(stored)) != 0)
		bad(v, size, PPX_ECORRUPT,
		    "stored Merkle tree differs from the entries");
	return 0;
}

int ppx_log_seal(ppx_log *log, uint64_t *seq)
{
	MDB_val k = {sizeof(SEAL_KEY) - 1, SEAL_KEY}, v;
	MDB_txn *txn;
	int rc;

	if ((rc = ppxi_logstore_read_begin(log, &txn)) < 0)
		return rc;
	rc = mdb_get(txn, log->dbi[DB_META], &k, &v);
	if (rc == 0 && v.mv_size == 8)
		*seq = logstore_get_be64(v.mv_data);
	ppxi_logstore_read_end(log, txn);
	if (rc == MDB_NOTFOUND)
		return PPX_ENOTFOUND;
	if (rc != 0)
		return ppxi_logstore_fail(rc, "cannot read the check seal of "
					  "log %s", log->dir);
	if (v.mv_size != 8)
		return ppxi_logstore_corrupt(log, "its check seal has %zu "
					     "bytes, not 8", v.mv_size);
	return 0;
}

int ppx_log_check_sealed(ppx_verify_report *out, ppx_log *log)
{
	const ppx_trust *none = NULL;
	struct verify_ctx v = {.log = log, .trusts = &none, .jobs = 1,
			       .report = out};
	uint64_t seal = 0;
	int rc = ppx_log_seal(log, &seal);

	memset(out, 0, sizeof(*out));
	out->ok = 1;
	if (rc == PPX_ENOTFOUND)	/* a log of before the seal: all of it */
		return verify_from(&v, 0);
	if (rc != 0)
		return rc;
	if (seal >= ppx_log_size(log)) {
		bad(&v, seal, PPX_ECORRUPT, "the check seal names an entry "
		    "past the end of the log");
		return 0;
	}
	v.sealed = 1;
	v.seal = seal;
	out->from = seal;
	return verify_from(&v, seal);
}

int ppx_log_verify(ppx_verify_report *out, ppx_log *log,
		   const ppx_trust *trust)
{
	return ppx_log_verify_jobs(out, log, &trust, 1);
}

int ppx_log_verify_jobs(ppx_verify_report *out, ppx_log *log,
			const ppx_trust *const *trusts, unsigned jobs)
{
	struct verify_ctx v = {.log = log, .trust = trusts[0],
			       .trusts = trusts, .jobs = jobs ? jobs : 1,
			       .report = out};
	int rc;

	memset(out, 0, sizeof(*out));
	out->ok = 1;
	if (v.jobs > 1 && v.trust &&
	    (rc = ppxi_sig_pool_new(&v.pool, trusts, v.jobs)) != 0)
		return rc;
	rc = verify_from(&v, 0);
	ppxi_sig_pool_free(v.pool);
	return rc;
}

int ppx_log_check(ppx_verify_report *out, ppx_log *log)
{
	return ppx_log_verify(out, log, NULL);
}
