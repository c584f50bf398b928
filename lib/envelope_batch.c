/*
 * envelope_batch.c — batch signatures (PROTOCOL.md 3.4): one signature over
 * the RFC 6962 Merkle root of many signed bodies, each envelope carrying the
 * inclusion path of its own body.
 *
 * The leaf of body i is "ppx/v1/body" 0x00 || signed_body_i, so the body
 * purpose stays bound to every leaf; the agency signs
 *     "ppx/v1/batch" 0x00 || uint64_be(tree_size) || root
 * once for the batch.  A receiver climbs from its leaf along the path to
 * the root (lib/merkle.c), rebuilds those 53 bytes (ppx_batch_tbs) and
 * verifies the one signature over them; the same function serves every
 * verifier (envelope.c for a partner's frame, evidence.c for bundles and
 * `ppx verify`), so a stored envelope is checkable on its own.
 *
 * A batch of n bodies arrives as n frames, each asking for the same
 * signature check: the last few (fingerprint, batch bytes, signature)
 * triples that verified are kept per thread, so a batch costs one
 * verification.  The cache holds only exact triples that verified, so a
 * frame with any other signature, root or signer is checked in full.
 *
 * Every field of the inclusion is hostile input: a path of more than
 * PPX_MERKLE_MAX_PATH hashes, a hash not 32 bytes, a tree of 0 or more than
 * PPX_BATCH_TREE_MAX leaves, a leaf index outside the tree are refused as a
 * bad frame; a path that does not fit its tree as a bad signature.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "ppx/envelope.h"
#include "ppx/error.h"

#define BATCH_LABEL "ppx/v1/batch"
#define BODY_LABEL "ppx/v1/body"
#define CACHE_SLOTS 8

void ppx_batch_leaf(ppx_hash out, const uint8_t *body, size_t len)
{
	static const uint8_t zero = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned int n = 0;
	int ok;

	/* RFC 6962 leaf hash: SHA-256(0x00 || "ppx/v1/body" 0x00 || body). */
	ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 &&
	     EVP_DigestUpdate(ctx, &zero, 1) == 1 &&
	     EVP_DigestUpdate(ctx, BODY_LABEL, sizeof(BODY_LABEL)) == 1 &&
	     (len == 0 || EVP_DigestUpdate(ctx, body, len) == 1) &&
	     EVP_DigestFinal_ex(ctx, out, &n) == 1 && n == PPX_HASH_LEN;
	EVP_MD_CTX_free(ctx);
	if (!ok)
		abort();	/* as lib/merkle.c: no hash nobody could trust */
}

void ppx_batch_tbs_of_root(uint8_t out[PPX_BATCH_TBS_LEN], uint64_t tree_size,
			   const ppx_hash root)
{
	size_t pre = sizeof(BATCH_LABEL);	/* with its NUL */

	memcpy(out, BATCH_LABEL, pre);
	for (int i = 0; i < 8; i++)
		out[pre + i] = (uint8_t)(tree_size >> (56 - 8 * i));
	memcpy(out + pre + 8, root, PPX_HASH_LEN);
}

/* The inclusion's shape, before any hashing: PPX_EFRAME naming what is
 * wrong, or 0. */
static int check_shape(const Ppx__V1__BatchInclusion *b)
{
	if (b->tree_size == 0 || b->tree_size > PPX_BATCH_TREE_MAX)
		return ppx_error_set(PPX_EFRAME, "batch of %llu bodies: a "
				     "batch holds 1 to %d",
				     (unsigned long long)b->tree_size,
				     PPX_BATCH_TREE_MAX);
	if (b->leaf_index >= b->tree_size)
		return ppx_error_set(PPX_EFRAME, "batch leaf %llu in a batch "
				     "of only %llu bodies",
				     (unsigned long long)b->leaf_index,
				     (unsigned long long)b->tree_size);
	if (b->n_path > PPX_MERKLE_MAX_PATH)
		return ppx_error_set(PPX_EFRAME, "batch path of %zu hashes "
				     "(at most %d)", b->n_path,
				     PPX_MERKLE_MAX_PATH);
	for (size_t i = 0; i < b->n_path; i++)
		if (b->path[i].len != PPX_HASH_LEN)
			return ppx_error_set(PPX_EFRAME, "batch path hash %zu "
					     "is %zu bytes, not %d", i,
					     b->path[i].len, PPX_HASH_LEN);
	return 0;
}

int ppx_batch_tbs(uint8_t out[PPX_BATCH_TBS_LEN], const Ppx__V1__Envelope *env)
{
	const Ppx__V1__BatchInclusion *b = env->batch;
	ppx_hash leaf, root, path[PPX_MERKLE_MAX_PATH];
	int rc;

	if (!b)
		return ppx_error_set(PPX_EINVAL, "envelope carries no batch");
	if (env->purpose != PPX__V1__SIGNED_PURPOSE__SIGNED_BODY)
		return ppx_error_set(PPX_EBATCH, "a batch signature covers "
				     "messages only, not purpose %d",
				     env->purpose);
	if ((rc = check_shape(b)) != 0)
		return rc;
	for (size_t i = 0; i < b->n_path; i++)
		memcpy(path[i], b->path[i].data, PPX_HASH_LEN);
	ppx_batch_leaf(leaf, env->signed_body.data, env->signed_body.len);
	if (ppx_merkle_root_from_inclusion(root, leaf, b->leaf_index,
					   b->tree_size, path, b->n_path) != 0)
		return ppx_error_set(PPX_EBADSIG, "batch path of %zu hashes "
				     "does not fit leaf %llu of a batch of "
				     "%llu bodies", b->n_path,
				     (unsigned long long)b->leaf_index,
				     (unsigned long long)b->tree_size);
	ppx_batch_tbs_of_root(out, b->tree_size, root);
	return 0;
}

/* A batch signature that verified, in this thread. */
struct verified {
	int used;
	uint8_t fp[PPX_FINGERPRINT_LEN];
	uint8_t tbs[PPX_BATCH_TBS_LEN];
	uint8_t sig[PPX_SIG_MAX];
	size_t sig_len;
};

static _Thread_local struct verified cache[CACHE_SLOTS];
static _Thread_local unsigned cache_next;

static struct verified *cache_find(const uint8_t *fp, const uint8_t *tbs,
				   const ProtobufCBinaryData *sig)
{
	for (unsigned i = 0; i < CACHE_SLOTS; i++) {
		struct verified *v = &cache[i];

		if (v->used && v->sig_len == sig->len &&
		    memcmp(v->tbs, tbs, PPX_BATCH_TBS_LEN) == 0 &&
		    memcmp(v->fp, fp, PPX_FINGERPRINT_LEN) == 0 &&
		    memcmp(v->sig, sig->data, sig->len) == 0)
			return v;
	}
	return NULL;
}

static void cache_add(const uint8_t *fp, const uint8_t *tbs,
		      const ProtobufCBinaryData *sig)
{
	struct verified *v = &cache[cache_next++ % CACHE_SLOTS];

	if (sig->len > sizeof(v->sig))
		return;
	v->used = 1;
	memcpy(v->fp, fp, PPX_FINGERPRINT_LEN);
	memcpy(v->tbs, tbs, PPX_BATCH_TBS_LEN);
	memcpy(v->sig, sig->data, sig->len);
	v->sig_len = sig->len;
}

int ppx_batch_verify(const ppx_cert *cert, const Ppx__V1__Envelope *env)
{
	uint8_t tbs[PPX_BATCH_TBS_LEN];
	const uint8_t *fp = env->signer_fingerprint.data;
	int rc;

	/* The caller found `cert` by this fingerprint (ppx_trust_find). */
	if (env->signer_fingerprint.len != PPX_FINGERPRINT_LEN)
		return ppx_error_set(PPX_EUNKNOWN_SIGNER, "no known "
				     "certificate has the signer's "
				     "fingerprint");
	if ((rc = ppx_batch_tbs(tbs, env)) != 0)
		return rc;
	if (cache_find(fp, tbs, &env->signature))
		return 0;
	rc = ppx_cert_verify_signature(cert, env->signature.data,
				       env->signature.len, tbs, sizeof(tbs));
	if (rc == 0)
		cache_add(fp, tbs, &env->signature);
	return rc;
}

void ppx_batch_cache_clear(void)
{
	OPENSSL_cleanse(cache, sizeof(cache));
	cache_next = 0;
}
