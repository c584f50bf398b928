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
	const ppx_trust *trust;
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

static int check_receipt_frame(struct verify_ctx *v, const uint8_t *data,
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
		rc = ppx_envelope_verify(v->trust, f->receipt,
					 PPX__V1__SIGNED_PURPOSE__SIGNED_RECEIPT,
					 NULL, 0, &signer);
	ppx__v1__frame__free_unpacked(f, NULL);
	return rc;
}

/* Without trust (the daemon's own checks): the checkpoint's body as
 * stored, its signature not judged. */
static int checkpoint_unsigned(Ppx__V1__Checkpoint **out,
			       const Ppx__V1__LogEntry *e)
{
	Ppx__V1__Frame *f = NULL;
	int rc = ppx_frame_decode(&f, e->data.data, e->data.len);

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

static int check_checkpoint(struct verify_ctx *v, uint64_t seq,
			    const Ppx__V1__LogEntry *e)
{
	Ppx__V1__Checkpoint *cp = NULL;
	ppx_hash root;
	int rc = v->trust ? ppx_checkpoint_open(&cp, v->trust, e->data.data,
						e->data.len, NULL, 0)
			  : checkpoint_unsigned(&cp, e);

	if (rc != 0)
		return bad_detail(v, seq, rc, v->trust ? "checkpoint signature"
						       : "checkpoint");
	range_root(&v->range, root);
	if (cp->tree_size != seq ||
	    memcmp(cp->root_hash.data, root, sizeof(root)) != 0)
		rc = PPX_ECORRUPT;
	ppx__v1__checkpoint__free_unpacked(cp, NULL);
	if (rc != 0)
		return bad(v, seq, rc,
			   "signed checkpoint does not match the entries "
			   "before it");
	v->report->checkpoints++;
	return 0;
}

/* A message's personal signature, if it carries one, as history
 * (PROTOCOL.md 3.2: chain and role, not the period or the CRL). */
static int check_person(struct verify_ctx *v, const ppx_opened *o)
{
	const Ppx__V1__Envelope *env = o->frame->message;
	ppx_identity who;

	if (!env->person)
		return 0;
	return ppx_person_verify(&who, v->trust, env->person,
				 env->signed_body.data, env->signed_body.len,
				 o->body, o->signer.agency, 0);
}

/*
 * A directory the daemon took (ENTRY_DIRECTORY, PROTOCOL.md 13.3), judged
 * as history (now 0: signature, chain and role; not its dates): its
 * certificates become known for the entries after it, so that a log keeps
 * verifying after a rotation even when the old certificate's file is gone.
 * Adding a certificate only lets it be found by fingerprint; every use of
 * it is still judged by ppx_trust_check() against the CA, so the store's
 * const is kept in spirit: it trusts nothing more than before.
 */
static int check_directory(struct verify_ctx *v, const Ppx__V1__LogEntry *e)
{
	ppx_trust *trust = (ppx_trust *)v->trust;
	struct ppx_directory *dir = NULL;
	int rc = ppx_directory_parse(&dir, e->data.data, e->data.len, trust, 0);

	for (size_t i = 0; rc == 0 && i < dir->n_agencies; i++) {
		const struct ppx_dir_agency *a = &dir->agencies[i];

		for (size_t k = 0; rc == 0 && k < a->n_signing; k++)
			rc = ppx_trust_add_cert(trust, a->signing[k]);
		for (size_t k = 0; rc == 0 && k < a->n_transport; k++)
			rc = ppx_trust_add_cert(trust, a->transport[k]);
	}
	ppx_directory_free(dir);
	return rc;
}

/* Check the signature an entry carries, by its kind. */
static int check_signatures(struct verify_ctx *v, uint64_t seq,
			    const Ppx__V1__LogEntry *e)
{
	ppx_opened *o = NULL;
	int rc = 0;

	if (!v->trust)	/* ppx_log_check(): structure, and checkpoints' roots */
		return e->kind == PPX__V1__ENTRY_KIND__ENTRY_CHECKPOINT
			       ? check_checkpoint(v, seq, e) : 0;
	switch (e->kind) {
	case PPX__V1__ENTRY_KIND__ENTRY_SENT:
	case PPX__V1__ENTRY_KIND__ENTRY_RECEIVED:
		rc = ppx_message_open(&o, v->trust, e->data.data, e->data.len,
				      NULL, 0);
		if (rc == 0)
			rc = check_person(v, o);
		ppx_opened_free(o);
		break;
	case PPX__V1__ENTRY_KIND__ENTRY_RECEIPT_SENT:
	case PPX__V1__ENTRY_KIND__ENTRY_RECEIPT_RECEIVED:
		rc = check_receipt_frame(v, e->data.data, e->data.len);
		break;
	case PPX__V1__ENTRY_KIND__ENTRY_CHECKPOINT:
		return check_checkpoint(v, seq, e);
	case PPX__V1__ENTRY_KIND__ENTRY_DIRECTORY:
		rc = check_directory(v, e);
		break;
	default:
		return 0;	/* no signature in this kind of entry */
	}
	if (rc != 0)
		return bad_detail(v, seq, rc, "signature");
	v->report->signatures++;
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
	if (rc < 0)
		return rc;
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
	struct verify_ctx v = {.log = log, .report = out};
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
	struct verify_ctx v = {.log = log, .trust = trust, .report = out};

	memset(out, 0, sizeof(*out));
	out->ok = 1;
	return verify_from(&v, 0);
}

int ppx_log_check(ppx_verify_report *out, ppx_log *log)
{
	return ppx_log_verify(out, log, NULL);
}
