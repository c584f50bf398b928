/*
 * test_envelope_batch.c — batch signatures (PROTOCOL.md 3.4): many bodies
 * sealed under one signature over the Merkle root of their leaves open one
 * by one, each with its own path; every way of moving a signature, a path
 * or a leaf to where it does not belong is refused, and every malformed
 * inclusion is refused before anything is hashed.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "ppx/envelope.h"
#include "ppx/error.h"
#include "support.h"

#define N 5

struct fx {
	ppx_trust *trust;
	ppx_signer *police, *probation;
	Ppx__V1__Body *body[N];
	uint8_t *packed[N];
	size_t packed_len[N];
	uint8_t *frame[N];
	size_t len[N];
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	f->trust = trust_demo();
	f->police = signer_at("police.gwent");
	f->probation = signer_at("probation.gwent");
	for (int i = 0; i < N; i++) {
		f->body[i] = body_new("police.gwent", "probation.gwent");
		assert_int_equal(ppx_body_pack(&f->packed[i],
					       &f->packed_len[i], f->body[i]),
				 0);
	}
	assert_int_equal(ppx_bodies_seal_batch(f->frame, f->len, f->police,
					       f->packed, f->packed_len, N),
			 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	for (int i = 0; i < N; i++) {
		free(f->frame[i]);
		free(f->packed[i]);
		body_free(f->body[i]);
	}
	ppx_signer_free(f->police);
	ppx_signer_free(f->probation);
	ppx_trust_free(f->trust);
	free(f);
	ppx_batch_cache_clear();
	return 0;
}

static int open_frame(struct fx *f, const uint8_t *frame, size_t len)
{
	ppx_opened *o = NULL;
	int rc = ppx_message_open(&o, f->trust, frame, len, "police.gwent",
				  time(NULL));

	if (rc == 0)
		assert_non_null(o);
	else
		assert_null(o);
	ppx_opened_free(o);
	return rc;
}

/* frame i decoded, edited by `edit` (with frame j at hand), packed again,
 * opened: the code. */
static int open_edited(struct fx *f, int i, int j,
		       void (*edit)(Ppx__V1__Envelope *e,
				    const Ppx__V1__Envelope *other))
{
	Ppx__V1__Frame *a = ppx__v1__frame__unpack(NULL, f->len[i],
						   f->frame[i]);
	Ppx__V1__Frame *b = ppx__v1__frame__unpack(NULL, f->len[j],
						   f->frame[j]);
	Ppx__V1__Frame copy;
	Ppx__V1__Envelope env;
	size_t len;
	uint8_t *re;
	int rc;

	assert_non_null(a);
	assert_non_null(b);
	/* Edited in a shallow copy, so that the decoded frames free as
	 * they came. */
	copy = *a;
	env = *a->message;
	copy.message = &env;
	edit(&env, b->message);
	len = ppx__v1__frame__get_packed_size(&copy);
	re = malloc(len);
	ppx__v1__frame__pack(&copy, re);
	ppx__v1__frame__free_unpacked(a, NULL);
	ppx__v1__frame__free_unpacked(b, NULL);
	ppx_batch_cache_clear();
	rc = open_frame(f, re, len);
	free(re);
	return rc;
}

static void test_envelope_batch__every_frame_opens_with_its_own_body(void **state)
{
	struct fx *f = *state;

	for (int i = 0; i < N; i++) {
		ppx_opened *o = NULL;

		assert_int_equal(ppx_message_open(&o, f->trust, f->frame[i],
						  f->len[i], "police.gwent",
						  time(NULL)),
				 0);
		assert_non_null(o->frame->message->batch);
		assert_int_equal(o->frame->message->batch->leaf_index, i);
		assert_int_equal(o->frame->message->batch->tree_size, N);
		assert_memory_equal(o->body->message_id.data,
				    f->body[i]->message_id.data,
				    PPX_MESSAGE_ID_LEN);
		ppx_opened_free(o);
	}
}

/* The batch's frames share one signature, and it is no signature over any
 * one body. */
static void test_envelope_batch__one_signature_covers_the_batch(void **state)
{
	struct fx *f = *state;
	Ppx__V1__Frame *a = ppx__v1__frame__unpack(NULL, f->len[0],
						   f->frame[0]);
	Ppx__V1__Frame *b = ppx__v1__frame__unpack(NULL, f->len[N - 1],
						   f->frame[N - 1]);

	assert_int_equal(a->message->signature.len,
			 b->message->signature.len);
	assert_memory_equal(a->message->signature.data,
			    b->message->signature.data,
			    a->message->signature.len);
	ppx__v1__frame__free_unpacked(a, NULL);
	ppx__v1__frame__free_unpacked(b, NULL);
}

static void set_index_1(Ppx__V1__Envelope *e, const Ppx__V1__Envelope *o)
{
	static Ppx__V1__BatchInclusion inc;

	(void)o;
	inc = *e->batch;
	inc.leaf_index = 1;
	e->batch = &inc;
}

static void test_envelope_batch__wrong_index_is_refused(void **state)
{
	assert_int_equal(open_edited(*state, 0, 0, set_index_1), PPX_EBADSIG);
}

static uint8_t flipped[PPX_HASH_LEN];
static ProtobufCBinaryData flipped_path[PPX_MERKLE_MAX_PATH];

static void flip_path(Ppx__V1__Envelope *e, const Ppx__V1__Envelope *o)
{
	static Ppx__V1__BatchInclusion inc;

	(void)o;
	inc = *e->batch;
	for (size_t k = 0; k < inc.n_path; k++)
		flipped_path[k] = inc.path[k];
	memcpy(flipped, inc.path[0].data, PPX_HASH_LEN);
	flipped[7] ^= 0x10;
	flipped_path[0].data = flipped;
	inc.path = flipped_path;
	e->batch = &inc;
}

static void test_envelope_batch__wrong_path_is_refused(void **state)
{
	assert_int_equal(open_edited(*state, 2, 2, flip_path), PPX_EBADSIG);
}

/* Leaf 0's body with leaf 1's place in the tree. */
static void other_inclusion(Ppx__V1__Envelope *e, const Ppx__V1__Envelope *o)
{
	static Ppx__V1__BatchInclusion inc;

	inc = *o->batch;
	e->batch = &inc;
}

static void test_envelope_batch__swapped_leaves_are_refused(void **state)
{
	assert_int_equal(open_edited(*state, 0, 1, other_inclusion),
			 PPX_EBADSIG);
	assert_int_equal(open_edited(*state, 1, 0, other_inclusion),
			 PPX_EBADSIG);
}

/* A body's own single signature under a batch of one: the leaf is the
 * root, but the signature was made for "body", not "batch". */
static void test_envelope_batch__other_purposes_signature_is_refused(void **state)
{
	struct fx *f = *state;
	Ppx__V1__BatchInclusion one = PPX__V1__BATCH_INCLUSION__INIT;
	Ppx__V1__Frame *fr;
	uint8_t *single = NULL, *re;
	size_t len = 0;

	assert_int_equal(ppx_body_seal(&single, &len, f->police, f->body[0]),
			 0);
	fr = ppx__v1__frame__unpack(NULL, len, single);
	one.tree_size = 1;
	fr->message->batch = &one;
	len = ppx__v1__frame__get_packed_size(fr);
	re = malloc(len);
	ppx__v1__frame__pack(fr, re);
	fr->message->batch = NULL;
	ppx__v1__frame__free_unpacked(fr, NULL);
	assert_int_equal(open_frame(f, re, len), PPX_EBADSIG);
	free(re);
	free(single);
}

/* A batch frame without its inclusion: the signature is over the root,
 * not "ppx/v1/body" and the body. */
static void drop_batch(Ppx__V1__Envelope *e, const Ppx__V1__Envelope *o)
{
	(void)o;
	e->batch = NULL;
}

static void test_envelope_batch__batch_signature_alone_is_refused(void **state)
{
	assert_int_equal(open_edited(*state, 3, 3, drop_batch), PPX_EBADSIG);
}

/* A batch envelope presented as a receipt: batches are for messages. */
static void test_envelope_batch__batch_on_another_purpose_is_refused(void **state)
{
	struct fx *f = *state;
	Ppx__V1__Frame *fr = ppx__v1__frame__unpack(NULL, f->len[0],
						    f->frame[0]);
	ppx_identity who;

	fr->message->purpose = PPX__V1__SIGNED_PURPOSE__SIGNED_RECEIPT;
	assert_int_equal(ppx_envelope_verify(
				 f->trust, fr->message,
				 PPX__V1__SIGNED_PURPOSE__SIGNED_RECEIPT,
				 NULL, time(NULL), &who),
			 PPX_EBATCH);
	ppx__v1__frame__free_unpacked(fr, NULL);
}

/* Probation's batch signature under police's frames, and police's frame
 * claiming probation's fingerprint: both refused. */
static void test_envelope_batch__mixed_signers_are_refused(void **state)
{
	struct fx *f = *state;
	uint8_t *theirs[N];
	size_t theirs_len[N];
	Ppx__V1__Frame *a, *b;
	ProtobufCBinaryData keep;
	size_t len;
	uint8_t *re;

	assert_int_equal(ppx_bodies_seal_batch(theirs, theirs_len,
					       f->probation, f->packed,
					       f->packed_len, N),
			 0);
	a = ppx__v1__frame__unpack(NULL, f->len[0], f->frame[0]);
	b = ppx__v1__frame__unpack(NULL, theirs_len[0], theirs[0]);
	keep = a->message->signature;
	a->message->signature = b->message->signature;
	len = ppx__v1__frame__get_packed_size(a);
	re = malloc(len);
	ppx__v1__frame__pack(a, re);
	a->message->signature = keep;
	ppx_batch_cache_clear();
	assert_int_equal(open_frame(f, re, len), PPX_EBADSIG);
	free(re);
	keep = a->message->signer_fingerprint;
	a->message->signer_fingerprint = b->message->signer_fingerprint;
	len = ppx__v1__frame__get_packed_size(a);
	re = malloc(len);
	ppx__v1__frame__pack(a, re);
	a->message->signer_fingerprint = keep;
	assert_int_equal(open_frame(f, re, len), PPX_EBADSIG);
	free(re);
	/* Once a frame of the batch verified (and is cached), a frame with
	 * the same root under another signer's name is still refused. */
	assert_int_equal(open_frame(f, f->frame[0], f->len[0]), 0);
	a->message->signer_fingerprint = b->message->signer_fingerprint;
	len = ppx__v1__frame__get_packed_size(a);
	re = malloc(len);
	ppx__v1__frame__pack(a, re);
	a->message->signer_fingerprint = keep;
	assert_int_equal(open_frame(f, re, len), PPX_EBADSIG);
	free(re);
	ppx__v1__frame__free_unpacked(a, NULL);
	ppx__v1__frame__free_unpacked(b, NULL);
	for (int i = 0; i < N; i++)
		free(theirs[i]);
}

/* ---- malformed inclusions --------------------------------------------- */

static uint64_t edit_size, edit_index;
static size_t edit_path_len, edit_hash_len;
static uint8_t long_hash[PPX_HASH_LEN + 1];
static ProtobufCBinaryData long_path[PPX_MERKLE_MAX_PATH + 1];

static void malformed(Ppx__V1__Envelope *e, const Ppx__V1__Envelope *o)
{
	static Ppx__V1__BatchInclusion inc;

	(void)o;
	inc = *e->batch;
	inc.tree_size = edit_size;
	inc.leaf_index = edit_index;
	for (size_t k = 0; k < edit_path_len; k++) {
		long_path[k].data = long_hash;
		long_path[k].len = edit_hash_len;
	}
	inc.n_path = edit_path_len;
	inc.path = long_path;
	e->batch = &inc;
}

static int open_malformed(struct fx *f, uint64_t size, uint64_t index,
			  size_t path_len, size_t hash_len)
{
	edit_size = size;
	edit_index = index;
	edit_path_len = path_len;
	edit_hash_len = hash_len;
	return open_edited(f, 0, 0, malformed);
}

static void test_envelope_batch__malformed_inclusions_are_refused(void **state)
{
	struct fx *f = *state;

	assert_int_equal(open_malformed(f, 0, 0, 0, 32), PPX_EFRAME);
	assert_int_equal(open_malformed(f, PPX_BATCH_TREE_MAX + 1, 0, 17, 32),
			 PPX_EFRAME);
	assert_int_equal(open_malformed(f, UINT64_MAX, 0, 64, 32),
			 PPX_EFRAME);
	assert_int_equal(open_malformed(f, 4, 4, 2, 32), PPX_EFRAME);
	assert_int_equal(open_malformed(f, 4, 9, 2, 32), PPX_EFRAME);
	assert_int_equal(open_malformed(f, 4, 1, PPX_MERKLE_MAX_PATH + 1, 32),
			 PPX_EFRAME);
	assert_int_equal(open_malformed(f, 4, 1, 2, 31), PPX_EFRAME);
	assert_int_equal(open_malformed(f, 4, 1, 2, 33), PPX_EFRAME);
	assert_int_equal(open_malformed(f, 4, 1, 2, 0), PPX_EFRAME);
	/* Well formed, but not the path a tree of 4 needs. */
	assert_int_equal(open_malformed(f, 4, 1, 3, 32), PPX_EBADSIG);
	assert_int_equal(open_malformed(f, 4, 1, 1, 32), PPX_EBADSIG);
	assert_string_not_equal(ppx_error_last(), "");
}

/* A receiver that does not accept batches refuses them before any check,
 * as version 1 did, and still opens single signatures. */
static void test_envelope_batch__receiver_without_batches_refuses(void **state)
{
	struct fx *f = *state;
	ppx_opened *o = NULL;
	uint8_t *single = NULL;
	size_t len = 0;

	assert_int_equal(ppx_message_open_batch(&o, f->trust, f->frame[0],
						f->len[0], "police.gwent",
						time(NULL), 0),
			 PPX_EBATCH);
	assert_null(o);
	assert_int_equal(ppx_body_seal(&single, &len, f->police, f->body[0]),
			 0);
	assert_int_equal(ppx_message_open_batch(&o, f->trust, single, len,
						"police.gwent", time(NULL), 0),
			 0);
	ppx_opened_free(o);
	free(single);
}

/* The signer process signs batch bytes of exactly their length only. */
static void test_envelope_batch__only_exact_batch_bytes_are_a_purpose(void **state)
{
	uint8_t tbs[PPX_BATCH_TBS_LEN + 1];
	ppx_hash root;

	(void)state;
	memset(root, 0xab, sizeof(root));
	ppx_batch_tbs_of_root(tbs, 3, root);
	tbs[PPX_BATCH_TBS_LEN] = 0;
	assert_memory_equal(tbs, "ppx/v1/batch\0\0\0\0\0\0\0\0\3", 21);
	assert_int_equal(ppx_tbs_purpose(tbs, PPX_BATCH_TBS_LEN),
			 PPX__V1__SIGNED_PURPOSE__SIGNED_BATCH);
	assert_int_equal(ppx_tbs_purpose(tbs, PPX_BATCH_TBS_LEN + 1), 0);
	assert_int_equal(ppx_tbs_purpose(tbs, PPX_BATCH_TBS_LEN - 1), 0);
}

/* A batch of one: an empty path, and the leaf is the root. */
static void test_envelope_batch__batch_of_one_opens(void **state)
{
	struct fx *f = *state;
	uint8_t *frame = NULL;
	size_t len = 0;

	assert_int_equal(ppx_bodies_seal_batch(&frame, &len, f->police,
					       f->packed, f->packed_len, 1),
			 0);
	assert_int_equal(open_frame(f, frame, len), 0);
	free(frame);
	assert_int_equal(ppx_bodies_seal_batch(&frame, &len, f->police,
					       f->packed, f->packed_len, 0),
			 PPX_EINVAL);
}

/* The worked example of docs/PROTOCOL.md 3.4, byte for byte. */
static void hex32(ppx_hash out, const char *hex)
{
	for (int i = 0; i < PPX_HASH_LEN; i++)
		out[i] = (uint8_t)(ppx_hex_digit(hex[2 * i]) << 4 |
				   ppx_hex_digit(hex[2 * i + 1]));
}

static void test_envelope_batch__worked_example_of_protocol_md(void **state)
{
	static const char *const want_leaf[3] = {
		"9bb9036f021e123d5cf47e95cff87bf86b1101924375e84755a6e11d11adaaca",
		"66310027ef56ba64f39bc314c19825aa45bc67e701ae11740418d6f0bafd7c11",
		"b4b24d5faf9d14e9fa7d82bf306d40b830be923bef6cbde6e4280c5daea28214",
	};
	ppx_hash leaves[3], want, root, path[PPX_MERKLE_MAX_PATH];
	uint8_t tbs[PPX_BATCH_TBS_LEN];
	ppx_merkle_mem *t = NULL;
	char body[8];
	size_t len;

	(void)state;
	for (int i = 0; i < 3; i++) {
		snprintf(body, sizeof(body), "body-%d", i);
		ppx_batch_leaf(leaves[i], (const uint8_t *)body, 6);
		hex32(want, want_leaf[i]);
		assert_memory_equal(leaves[i], want, PPX_HASH_LEN);
	}
	assert_int_equal(ppx_merkle_mem_new(&t, leaves, 3), 0);
	assert_int_equal(ppx_merkle_mem_root(t, root), 0);
	hex32(want, "08d75f020fdd41f16d95f8453bdabc9a7cf32b9e5bb0c1c90a8da533c2e1c533");
	assert_memory_equal(root, want, PPX_HASH_LEN);
	assert_int_equal(ppx_merkle_mem_path(t, path, &len, 2), 0);
	assert_int_equal(len, 1);
	hex32(want, "2e54d70589303a28122d4f8c86a8a84cc0a752f48a28bd3b8bba063ce15d5ac9");
	assert_memory_equal(path[0], want, PPX_HASH_LEN);
	assert_int_equal(ppx_merkle_mem_path(t, path, &len, 0), 0);
	assert_int_equal(len, 2);
	assert_memory_equal(path[0], leaves[1], PPX_HASH_LEN);
	assert_memory_equal(path[1], leaves[2], PPX_HASH_LEN);
	ppx_batch_tbs_of_root(tbs, 3, root);
	assert_memory_equal(tbs, "ppx/v1/batch\0\0\0\0\0\0\0\0\3", 21);
	assert_memory_equal(tbs + 21, root, PPX_HASH_LEN);
	ppx_merkle_mem_free(t);
}

/* The signed test vector of PROTOCOL.md 3.4: the RFC 8032 test 1 key
 * signs the worked example's 53 batch bytes (Ed25519, no pre-hash). */
static void hexn(uint8_t *out, const char *hex, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned v;

		assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
		out[i] = (uint8_t)v;
	}
}

static void test_envelope_batch__signed_vector_of_protocol_md(void **state)
{
	uint8_t seed[32], pub[32], sig[64], got[64], tbs[PPX_BATCH_TBS_LEN];
	size_t got_len = sizeof(got);
	ppx_hash root;
	EVP_PKEY *priv, *key;
	EVP_MD_CTX *ctx;

	(void)state;
	hexn(seed, "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60", 32);
	hexn(pub, "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", 32);
	hexn(sig, "9ef88f324fa6249f852e1bec975b9cd6faba87ec2c97de0902a580093b292ffb"
		  "1ee9e22bbb8fc663148d48aa1d7373b63be22205bf2b8b66b68713b95be56004", 64);
	hex32(root, "08d75f020fdd41f16d95f8453bdabc9a7cf32b9e5bb0c1c90a8da533c2e1c533");
	ppx_batch_tbs_of_root(tbs, 3, root);
	priv = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, 32);
	key = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub, 32);
	assert_non_null(priv);
	assert_non_null(key);
	assert_non_null(ctx = EVP_MD_CTX_new());
	assert_int_equal(EVP_DigestSignInit(ctx, NULL, NULL, NULL, priv), 1);
	assert_int_equal(EVP_DigestSign(ctx, got, &got_len, tbs, sizeof(tbs)), 1);
	assert_int_equal(got_len, 64);
	assert_memory_equal(got, sig, 64);
	EVP_MD_CTX_reset(ctx);
	assert_int_equal(EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, key), 1);
	assert_int_equal(EVP_DigestVerify(ctx, sig, 64, tbs, sizeof(tbs)), 1);
	tbs[20] = 4;	/* tree_size 4: the same root no longer verifies */
	EVP_MD_CTX_reset(ctx);
	assert_int_equal(EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, key), 1);
	assert_int_not_equal(EVP_DigestVerify(ctx, sig, 64, tbs, sizeof(tbs)), 1);
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(priv);
	EVP_PKEY_free(key);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
		T(test_envelope_batch__every_frame_opens_with_its_own_body),
		T(test_envelope_batch__one_signature_covers_the_batch),
		T(test_envelope_batch__wrong_index_is_refused),
		T(test_envelope_batch__wrong_path_is_refused),
		T(test_envelope_batch__swapped_leaves_are_refused),
		T(test_envelope_batch__other_purposes_signature_is_refused),
		T(test_envelope_batch__batch_signature_alone_is_refused),
		T(test_envelope_batch__batch_on_another_purpose_is_refused),
		T(test_envelope_batch__mixed_signers_are_refused),
		T(test_envelope_batch__malformed_inclusions_are_refused),
		T(test_envelope_batch__receiver_without_batches_refuses),
		T(test_envelope_batch__only_exact_batch_bytes_are_a_purpose),
		T(test_envelope_batch__batch_of_one_opens),
#undef T
		cmocka_unit_test(
			test_envelope_batch__worked_example_of_protocol_md),
		cmocka_unit_test(
			test_envelope_batch__signed_vector_of_protocol_md),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
