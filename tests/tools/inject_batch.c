/*
 * inject_batch.c — the batch signature modes (docs/PROTOCOL.md 3.4), for
 * tests/integration/batch_sig.sh.
 *
 * An honest sending daemon batch-signs only towards a partner whose
 * receipt said accepts_batch, and only well-formed batches.  These modes
 * send batch-signed messages (of --kind KIND, default ARREST) from WHO
 * whatever the receiver said, honest or forged as CASE says:
 *
 *   batch good          4 messages under one batch signature of WHO
 *   batch wrong-index   a batch's message claiming another leaf's index
 *   batch wrong-path    a batch's message with one path hash changed
 *   batch swapped       two messages, each with the other's inclusion
 *   batch other-purpose a message's own single signature, presented as
 *                       the batch signature of a batch of one
 *   batch other-signer  a batch signed with the key of another agency
 *                       (probation.gwent, or police.gwent when WHO is
 *                       probation) under WHO's fingerprint
 *   batch long-path     a path of 65 hashes
 *   batch index-outside leaf_index = tree_size
 *   batch size-zero     tree_size 0
 *   batch size-huge     tree_size 2^64 - 1
 *   batch short-hash    a path hash of 31 bytes
 *
 * Only "good" is answered STORED (by a receiver that accepts batches);
 * each other case must be REFUSED, never stored.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ppx/envelope.h"
#include "ppx/error.h"
#include "ppx/pki.h"
#include "ppx.pb-c.h"
#include "../unit/support.h"
#include "inject.h"

#define BATCH_N 4

int batch_mode(const char *mode)
{
	return strcmp(mode, "batch") == 0;
}

/* BATCH_N bodies from WHO, packed, sealed as one batch by `signer_of`. */
static int seal_batch(uint8_t **frames, size_t *len, const struct opts *o,
		      const char *signer_of, int kind)
{
	const char *slash = strrchr(o->as, '/');
	ppx_signer *signer = signer_at(signer_of);
	uint8_t *bodies[BATCH_N] = {0};
	size_t body_len[BATCH_N] = {0};
	int rc = 0;

	for (int i = 0; rc == 0 && i < BATCH_N; i++) {
		Ppx__V1__Body *b = body_new(slash ? slash + 1 : o->as, o->to);

		b->notification->kind = kind;
		rc = ppx_body_pack(&bodies[i], &body_len[i], b);
		body_free(b);
	}
	if (rc == 0)
		rc = ppx_bodies_seal_batch(frames, len, signer, bodies,
					   body_len, BATCH_N);
	for (int i = 0; i < BATCH_N; i++)
		free(bodies[i]);
	ppx_signer_free(signer);
	return rc;
}

/* `f` packed into a new buffer, added to fs. */
static int add_packed(struct frames *fs, const Ppx__V1__Frame *f)
{
	size_t size = ppx__v1__frame__get_packed_size(f);
	uint8_t *buf = malloc(size ? size : 1);

	if (!buf)
		return ppx_error_set(PPX_ENOMEM, "out of memory");
	ppx__v1__frame__pack(f, buf);
	return inject_frames_add(fs, buf, size);
}

/* The malformed inclusions: the shape of frame a's batch replaced. */
static int malformed(struct frames *fs, Ppx__V1__Frame *a, const char *c)
{
	static uint8_t hash[PPX_HASH_LEN];
	ProtobufCBinaryData path[PPX_MERKLE_MAX_PATH + 1];
	Ppx__V1__BatchInclusion inc = *a->message->batch, *keep;
	int rc;

	for (size_t k = 0; k < PPX_MERKLE_MAX_PATH + 1; k++) {
		path[k].data = hash;
		path[k].len = PPX_HASH_LEN;
	}
	if (strcmp(c, "long-path") == 0) {
		inc.n_path = PPX_MERKLE_MAX_PATH + 1;
		inc.path = path;
	} else if (strcmp(c, "index-outside") == 0) {
		inc.leaf_index = inc.tree_size;
	} else if (strcmp(c, "size-zero") == 0) {
		inc.tree_size = 0;
	} else if (strcmp(c, "size-huge") == 0) {
		inc.tree_size = UINT64_MAX;
	} else if (strcmp(c, "short-hash") == 0) {
		for (size_t k = 0; k < inc.n_path; k++)
			path[k] = inc.path[k];
		path[0].len = PPX_HASH_LEN - 1;
		inc.path = path;
	} else {
		return 1;
	}
	keep = a->message->batch;
	a->message->batch = &inc;
	rc = add_packed(fs, a);
	a->message->batch = keep;
	return rc;
}

/* The forgeries made from frames a and b of an honest batch. */
static int forged(struct frames *fs, Ppx__V1__Frame *a, Ppx__V1__Frame *b,
		  const char *c)
{
	Ppx__V1__BatchInclusion inc = *a->message->batch, *keep_a, *keep_b;
	uint8_t hash[PPX_HASH_LEN];
	ProtobufCBinaryData path[PPX_MERKLE_MAX_PATH], *keep_path;
	int rc;

	keep_a = a->message->batch;
	keep_b = b->message->batch;
	if (strcmp(c, "wrong-index") == 0) {
		inc.leaf_index = (inc.leaf_index + 1) % inc.tree_size;
		a->message->batch = &inc;
		rc = add_packed(fs, a);
	} else if (strcmp(c, "wrong-path") == 0) {
		for (size_t k = 0; k < inc.n_path; k++)
			path[k] = inc.path[k];
		memcpy(hash, path[0].data, PPX_HASH_LEN);
		hash[0] ^= 1;
		path[0].data = hash;
		keep_path = inc.path;
		inc.path = path;
		a->message->batch = &inc;
		rc = add_packed(fs, a);
		inc.path = keep_path;
	} else if (strcmp(c, "swapped") == 0) {
		a->message->batch = keep_b;
		b->message->batch = keep_a;
		rc = add_packed(fs, a);
		if (rc == 0)
			rc = add_packed(fs, b);
	} else {
		return malformed(fs, a, c);
	}
	a->message->batch = keep_a;
	b->message->batch = keep_b;
	return rc;
}

/* A message's own single signature, under a batch of one. */
static int other_purpose(struct frames *fs, const struct opts *o, int kind)
{
	const char *slash = strrchr(o->as, '/');
	Ppx__V1__BatchInclusion one = PPX__V1__BATCH_INCLUSION__INIT;
	ppx_signer *signer = signer_at(o->as);
	Ppx__V1__Body *b = body_new(slash ? slash + 1 : o->as, o->to);
	Ppx__V1__Frame *f = NULL;
	uint8_t *buf = NULL;
	size_t len = 0;
	int rc;

	b->notification->kind = kind;
	rc = ppx_body_seal(&buf, &len, signer, b);
	if (rc == 0 && !(f = ppx__v1__frame__unpack(NULL, len, buf)))
		rc = ppx_error_set(PPX_EFRAME, "cannot re-decode our frame");
	if (rc == 0) {
		one.tree_size = 1;
		f->message->batch = &one;
		rc = add_packed(fs, f);
		f->message->batch = NULL;
	}
	if (f)
		ppx__v1__frame__free_unpacked(f, NULL);
	free(buf);
	body_free(b);
	ppx_signer_free(signer);
	return rc;
}

/* Another agency's batch signature under WHO's fingerprint. */
static int other_signer(struct frames *fs, const struct opts *o, int kind)
{
	const char *other = strcmp(o->agency, "probation.gwent") == 0
				    ? "police.gwent"
				    : "probation.gwent";
	ppx_signer *mine = signer_at(o->as);
	uint8_t *frames[BATCH_N] = {0};
	size_t len[BATCH_N];
	Ppx__V1__Frame *f = NULL;
	ProtobufCBinaryData keep;
	int rc = seal_batch(frames, len, o, other, kind);

	if (rc == 0 && !(f = ppx__v1__frame__unpack(NULL, len[0], frames[0])))
		rc = ppx_error_set(PPX_EFRAME, "cannot re-decode our frame");
	if (rc == 0) {
		keep = f->message->signer_fingerprint;
		f->message->signer_fingerprint.data =
			(uint8_t *)ppx_signer_fingerprint(mine);
		f->message->signer_fingerprint.len = PPX_FINGERPRINT_LEN;
		rc = add_packed(fs, f);
		f->message->signer_fingerprint = keep;
	}
	if (f)
		ppx__v1__frame__free_unpacked(f, NULL);
	for (int i = 0; i < BATCH_N; i++)
		free(frames[i]);
	ppx_signer_free(mine);
	return rc;
}

int build_batch(struct frames *fs, const struct opts *o)
{
	int kind = o->kind ? inject_kind_by_name(o->kind)
			   : PPX__V1__NOTIFICATION_KIND__ARREST;
	uint8_t *frames[BATCH_N] = {0};
	size_t len[BATCH_N];
	Ppx__V1__Frame *a = NULL, *b = NULL;
	int rc;

	if (strcmp(o->arg, "other-purpose") == 0)
		return other_purpose(fs, o, kind);
	if (strcmp(o->arg, "other-signer") == 0)
		return other_signer(fs, o, kind);
	if ((rc = seal_batch(frames, len, o, o->as, kind)) != 0)
		return rc;
	if (strcmp(o->arg, "good") == 0) {
		for (int i = 0; rc == 0 && i < BATCH_N; i++) {
			rc = inject_frames_add(fs, frames[i], len[i]);
			frames[i] = NULL;
		}
		return rc;
	}
	a = ppx__v1__frame__unpack(NULL, len[0], frames[0]);
	b = ppx__v1__frame__unpack(NULL, len[1], frames[1]);
	rc = a && b ? forged(fs, a, b, o->arg)
		    : ppx_error_set(PPX_EFRAME, "cannot re-decode our frame");
	if (rc == 1) {
		fprintf(stderr, "inject: batch %s is no case of batch\n",
			o->arg);
		inject_usage(EXIT_USAGE);
	}
	if (a)
		ppx__v1__frame__free_unpacked(a, NULL);
	if (b)
		ppx__v1__frame__free_unpacked(b, NULL);
	for (int i = 0; i < BATCH_N; i++)
		free(frames[i]);
	return rc;
}
