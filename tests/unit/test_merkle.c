/*
 * test_merkle.c — RFC 6962 hashing, roots and proofs.
 *
 * merkle.c builds roots and proofs from complete subtrees supplied by a
 * callback and verifies proofs with the iterative RFC 9162 algorithms.  The
 * tests hold it against an independent, naive reading of RFC 6962 §2.1
 * (recursion over an in-memory array of leaves) for every tree size up to
 * 64, every leaf and every older size, check that every kind of tampering
 * is refused, and pin the known answers that Certificate Transparency's
 * implementations share (transparency-dev/merkle, proof/verify_test.go).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ppx/error.h"
#include "ppx/merkle.h"

#define MAX_LEAVES 64

/* ---- the naive reference -------------------------------------------- */

static ppx_hash leaves[MAX_LEAVES];

static void make_leaves(void)
{
	uint8_t data[2];

	for (int i = 0; i < MAX_LEAVES; i++) {
		data[0] = (uint8_t)i;
		data[1] = (uint8_t)(i * 7);
		ppx_merkle_leaf(leaves[i], data, sizeof(data));
	}
}

static uint64_t naive_split(uint64_t n)
{
	uint64_t k = 1;

	while (k * 2 < n)
		k *= 2;
	return k;
}

/* MTH(D[start : start + n]) over `leaves`, literally as RFC 6962 says. */
static void naive_mth(ppx_hash out, const ppx_hash *d, uint64_t start,
		      uint64_t n)
{
	ppx_hash l, r;
	uint64_t k;

	if (n == 0) {
		ppx_merkle_empty(out);
		return;
	}
	if (n == 1) {
		memcpy(out, d[start], sizeof(ppx_hash));
		return;
	}
	k = naive_split(n);
	naive_mth(l, d, start, k);
	naive_mth(r, d, start + k, n - k);
	ppx_merkle_node(out, l, r);
}

/* PATH(m, D[start : start + n]) appended to path. */
static void naive_path(ppx_hash *path, size_t *len, uint64_t m,
		       uint64_t start, uint64_t n)
{
	uint64_t k;

	if (n <= 1)
		return;
	k = naive_split(n);
	if (m < k) {
		naive_path(path, len, m, start, k);
		naive_mth(path[(*len)++], leaves, start + k, n - k);
	} else {
		naive_path(path, len, m - k, start + k, n - k);
		naive_mth(path[(*len)++], leaves, start, k);
	}
}

/* SUBPROOF(m, D[start : start + n], b) appended to path. */
static void naive_subproof(ppx_hash *path, size_t *len, uint64_t m,
			   uint64_t start, uint64_t n, int b)
{
	uint64_t k;

	if (m == n) {
		if (!b)
			naive_mth(path[(*len)++], leaves, start, n);
		return;
	}
	k = naive_split(n);
	if (m <= k) {
		naive_subproof(path, len, m, start, k, b);
		naive_mth(path[(*len)++], leaves, start + k, n - k);
	} else {
		naive_subproof(path, len, m - k, start + k, n - k, 0);
		naive_mth(path[(*len)++], leaves, start, k);
	}
}

/* The callback merkle.c generates from: a complete aligned subtree of an
 * in-memory tree.  It fails the test if asked for anything else. */
struct source {
	const ppx_hash *leaves;
	uint64_t size;
	int calls;
	int fail_with;		/* non-zero: return this instead */
};

static int subtree(void *ctx, uint64_t start, uint64_t size, ppx_hash out)
{
	struct source *s = ctx;

	s->calls++;
	if (s->fail_with)
		return s->fail_with;
	assert_true(size > 0 && (size & (size - 1)) == 0);
	assert_int_equal(start % size, 0);
	assert_true(start + size <= s->size);
	naive_mth(out, s->leaves, start, size);
	return 0;
}

/* ---- helpers ---------------------------------------------------------- */

static void from_hex(ppx_hash out, const char *hex)
{
	assert_int_equal(strlen(hex), 2 * PPX_MERKLE_HASH_LEN);
	for (int i = 0; i < PPX_MERKLE_HASH_LEN; i++) {
		unsigned int byte;

		assert_int_equal(sscanf(hex + 2 * i, "%2x", &byte), 1);
		out[i] = (uint8_t)byte;
	}
}

static void assert_hash_hex(const ppx_hash h, const char *hex)
{
	ppx_hash want;

	from_hex(want, hex);
	assert_memory_equal(h, want, PPX_MERKLE_HASH_LEN);
}

static void root_of(ppx_hash out, const ppx_hash *d, uint64_t n)
{
	struct source s = {d, n, 0, 0};

	assert_int_equal(ppx_merkle_root(out, n, subtree, &s), 0);
}

/* The eight leaves of the CT test vectors, hashed. */
static void ct_leaves(ppx_hash out[8])
{
	static const struct {
		const char *bytes;
		size_t len;
	} data[8] = {
		{"", 0},
		{"\x00", 1},
		{"\x10", 1},
		{"\x20\x21", 2},
		{"\x30\x31", 2},
		{"\x40\x41\x42\x43", 4},
		{"\x50\x51\x52\x53\x54\x55\x56\x57", 8},
		{"\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d"
		 "\x6e\x6f", 16},
	};

	for (int i = 0; i < 8; i++)
		ppx_merkle_leaf(out[i], (const uint8_t *)data[i].bytes,
				data[i].len);
}

static const char *const ct_roots[8] = {
	"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
	"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
	"aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
	"d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
	"4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
	"76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
	"ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
	"5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
};

/* ---- hashing ---------------------------------------------------------- */

static void test_merkle__hashes_match_rfc6962_known_answers(void **state)
{
	ppx_hash h, l, r;

	(void)state;
	ppx_merkle_empty(h);
	assert_hash_hex(h, "e3b0c44298fc1c149afbf4c8996fb924"
			   "27ae41e4649b934ca495991b7852b855");
	ppx_merkle_leaf(h, NULL, 0);
	assert_hash_hex(h, ct_roots[0]);
	/* A node is SHA-256(0x01 || l || r): leaves 0 and 1 of the vectors
	 * make the root of size 2. */
	ppx_merkle_leaf(l, (const uint8_t *)"", 0);
	ppx_merkle_leaf(r, (const uint8_t *)"\x00", 1);
	ppx_merkle_node(h, l, r);
	assert_hash_hex(h, ct_roots[1]);
	/* Order matters. */
	ppx_merkle_node(h, r, l);
	assert_memory_not_equal(h, l, PPX_MERKLE_HASH_LEN);
}

static void test_merkle__roots_match_ct_test_vectors(void **state)
{
	ppx_hash d[8], root, naive;

	(void)state;
	ct_leaves(d);
	for (uint64_t n = 1; n <= 8; n++) {
		root_of(root, d, n);
		naive_mth(naive, d, 0, n);
		assert_memory_equal(root, naive, PPX_MERKLE_HASH_LEN);
		assert_hash_hex(root, ct_roots[n - 1]);
	}
}

static void test_merkle__empty_tree_root_is_hash_of_nothing(void **state)
{
	struct source s = {leaves, 0, 0, 0};
	ppx_hash root, empty;

	(void)state;
	assert_int_equal(ppx_merkle_root(root, 0, subtree, &s), 0);
	ppx_merkle_empty(empty);
	assert_memory_equal(root, empty, PPX_MERKLE_HASH_LEN);
	assert_int_equal(s.calls, 0);
}

static void test_merkle__roots_match_naive_for_sizes_1_to_64(void **state)
{
	ppx_hash root, naive;

	(void)state;
	make_leaves();
	for (uint64_t n = 1; n <= MAX_LEAVES; n++) {
		struct source s = {leaves, n, 0, 0};

		assert_int_equal(ppx_merkle_root(root, n, subtree, &s), 0);
		naive_mth(naive, leaves, 0, n);
		assert_memory_equal(root, naive, PPX_MERKLE_HASH_LEN);
		/* One lookup per set bit of n: O(log n). */
		assert_int_equal(s.calls, __builtin_popcountll(n));
	}
}

/* ---- inclusion -------------------------------------------------------- */

static int inclusion_ok(const ppx_hash leaf, uint64_t m, uint64_t n,
			const ppx_hash *path, size_t len, const ppx_hash root)
{
	return ppx_merkle_verify_inclusion(leaf, m, n, path, len, root) == 0;
}

/* Every change to a good inclusion proof of leaf m in tree n is refused. */
static void assert_inclusion_tampering_fails(uint64_t m, uint64_t n,
					     const ppx_hash *path, size_t len,
					     const ppx_hash root)
{
	ppx_hash bad[PPX_MERKLE_MAX_PATH + 1], other;

	for (size_t i = 0; i < len; i++) {
		memcpy(bad, path, len * sizeof(ppx_hash));
		bad[i][(i * 7 + m) % PPX_MERKLE_HASH_LEN] ^= 1 << (i % 8);
		assert_false(inclusion_ok(leaves[m], m, n, bad, len, root));
	}
	if (m + 1 < n)
		assert_false(inclusion_ok(leaves[m], m + 1, n, path, len,
					  root));
	if (m > 0)
		assert_false(inclusion_ok(leaves[m], m - 1, n, path, len,
					  root));
	if ((m ^ 2) < n)
		assert_false(inclusion_ok(leaves[m], m ^ 2, n, path, len,
					  root));
	assert_false(inclusion_ok(leaves[m], m, n * 2, path, len, root));
	assert_false(inclusion_ok(leaves[m], m, n / 2, path, len, root));
	/* Against the true root of a neighbouring size. */
	if (n + 1 <= MAX_LEAVES) {
		naive_mth(other, leaves, 0, n + 1);
		assert_false(inclusion_ok(leaves[m], m, n + 1, path, len,
					  other));
	}
	if (n - 1 > m) {
		naive_mth(other, leaves, 0, n - 1);
		assert_false(inclusion_ok(leaves[m], m, n - 1, path, len,
					  other));
	}
	assert_false(inclusion_ok(leaves[(m + 1) % MAX_LEAVES], m, n, path,
				  len, root));
	memcpy(other, root, sizeof(other));
	other[31] ^= 0x80;
	assert_false(inclusion_ok(leaves[m], m, n, path, len, other));
	if (len > 0)
		assert_false(inclusion_ok(leaves[m], m, n, path, len - 1,
					  root));
	memcpy(bad, path, len * sizeof(ppx_hash));
	memcpy(bad[len], root, sizeof(ppx_hash));
	assert_false(inclusion_ok(leaves[m], m, n, bad, len + 1, root));
	memset(bad[len], 0, sizeof(ppx_hash));
	assert_false(inclusion_ok(leaves[m], m, n, bad, len + 1, root));
	memcpy(bad[0], root, sizeof(ppx_hash));
	memcpy(bad + 1, path, len * sizeof(ppx_hash));
	assert_false(inclusion_ok(leaves[m], m, n, bad, len + 1, root));
}

static void test_merkle__inclusion_proofs_match_naive_and_verify(void **state)
{
	ppx_hash path[PPX_MERKLE_MAX_PATH], naive[PPX_MERKLE_MAX_PATH], root;
	size_t len, naive_len;

	(void)state;
	make_leaves();
	for (uint64_t n = 1; n <= MAX_LEAVES; n++) {
		struct source s = {leaves, n, 0, 0};

		naive_mth(root, leaves, 0, n);
		for (uint64_t m = 0; m < n; m++) {
			assert_int_equal(ppx_merkle_inclusion_proof(path, &len,
					 m, n, subtree, &s), 0);
			naive_len = 0;
			naive_path(naive, &naive_len, m, 0, n);
			assert_int_equal(len, naive_len);
			assert_memory_equal(path, naive,
					    len * sizeof(ppx_hash));
			assert_true(inclusion_ok(leaves[m], m, n, path, len,
						 root));
		}
	}
}

static void test_merkle__tampered_inclusion_proofs_fail(void **state)
{
	ppx_hash path[PPX_MERKLE_MAX_PATH], root;
	size_t len;

	(void)state;
	make_leaves();
	for (uint64_t n = 1; n <= MAX_LEAVES; n++) {
		struct source s = {leaves, n, 0, 0};

		naive_mth(root, leaves, 0, n);
		for (uint64_t m = 0; m < n; m++) {
			assert_int_equal(ppx_merkle_inclusion_proof(path, &len,
					 m, n, subtree, &s), 0);
			assert_inclusion_tampering_fails(m, n, path, len, root);
		}
	}
}

static void test_merkle__inclusion_proofs_match_ct_test_vectors(void **state)
{
	static const struct {
		uint64_t index, size;
		size_t len;
		const char *path[3];
	} vec[] = {
		{0, 8, 3, {"96a296d224f285c67bee93c30f8a3091"
			   "57f0daa35dc5b87e410b78630a09cfc7",
			   "5f083f0a1a33ca076a95279832580db3"
			   "e0ef4584bdff1f54c8a360f50de3031e",
			   "6b47aaf29ee3c2af9af889bc1fb9254d"
			   "abd31177f16232dd6aab035ca39bf6e4"}},
		{5, 8, 3, {"bc1a0643b12e4d2d7c77918f44e0f4f7"
			   "9a838b6cf9ec5b5c283e1f4d88599e6b",
			   "ca854ea128ed050b41b35ffc1b87b8eb"
			   "2bde461e9e3b5596ece6b9d5975a0ae0",
			   "d37ee418976dd95753c1c73862b9398f"
			   "a2a2cf9b4ff0fdfe8b30cd95209614b7"}},
		{2, 3, 1, {"fac54203e7cc696cf0dfcb42c92a1d9d"
			   "baf70ad9e621f4bd8d98662f00e3c125"}},
		{1, 5, 3, {"6e340b9cffb37a989ca544e6bb780a2c"
			   "78901d3fb33738768511a30617afa01d",
			   "5f083f0a1a33ca076a95279832580db3"
			   "e0ef4584bdff1f54c8a360f50de3031e",
			   "bc1a0643b12e4d2d7c77918f44e0f4f7"
			   "9a838b6cf9ec5b5c283e1f4d88599e6b"}},
	};
	ppx_hash d[8], path[PPX_MERKLE_MAX_PATH], root;
	size_t len;

	(void)state;
	ct_leaves(d);
	for (size_t v = 0; v < sizeof(vec) / sizeof(vec[0]); v++) {
		struct source s = {d, vec[v].size, 0, 0};

		assert_int_equal(ppx_merkle_inclusion_proof(path, &len,
				 vec[v].index, vec[v].size, subtree, &s), 0);
		assert_int_equal(len, vec[v].len);
		for (size_t i = 0; i < len; i++)
			assert_hash_hex(path[i], vec[v].path[i]);
		from_hex(root, ct_roots[vec[v].size - 1]);
		assert_true(inclusion_ok(d[vec[v].index], vec[v].index,
					 vec[v].size, path, len, root));
	}
}

static void test_merkle__inclusion_of_missing_leaf_is_refused(void **state)
{
	struct source s = {leaves, 4, 0, 0};
	ppx_hash path[PPX_MERKLE_MAX_PATH], root;
	size_t len = 99;

	(void)state;
	make_leaves();
	assert_int_equal(ppx_merkle_inclusion_proof(path, &len, 4, 4, subtree,
						    &s), PPX_ERANGE);
	assert_int_equal(len, 0);
	assert_int_equal(ppx_merkle_inclusion_proof(path, &len, 0, 0, subtree,
						    &s), PPX_ERANGE);
	naive_mth(root, leaves, 0, 1);
	/* A one-leaf tree: the leaf is the root and the path is empty. */
	assert_true(inclusion_ok(leaves[0], 0, 1, path, 0, root));
	assert_int_equal(ppx_merkle_verify_inclusion(leaves[0], 1, 1, path, 0,
						     root), PPX_EPROOF);
	assert_int_equal(ppx_merkle_verify_inclusion(leaves[0], 0, 0, path, 0,
						     root), PPX_EPROOF);
}

/* A subtree function for trees too big to hash: every subtree is zeros. */
static int fake_subtree(void *ctx, uint64_t start, uint64_t size,
			ppx_hash out)
{
	int *calls = ctx;

	assert_true(size > 0 && (size & (size - 1)) == 0);
	assert_int_equal(start % size, 0);
	(*calls)++;
	memset(out, 0, sizeof(ppx_hash));
	return 0;
}

static void test_merkle__proofs_of_huge_trees_fit_max_path(void **state)
{
	ppx_hash path[PPX_MERKLE_MAX_PATH];
	size_t len;
	int calls = 0;

	(void)state;
	assert_int_equal(ppx_merkle_inclusion_proof(path, &len, 0, UINT64_MAX,
						    fake_subtree, &calls), 0);
	assert_int_equal(len, 64);
	assert_int_equal(ppx_merkle_inclusion_proof(path, &len,
						    UINT64_C(1) << 63,
						    (UINT64_C(1) << 63) + 1,
						    fake_subtree, &calls), 0);
	assert_int_equal(len, 1);
	assert_int_equal(ppx_merkle_consistency_proof(path, &len,
						      UINT64_C(1) << 62,
						      UINT64_MAX - 1,
						      fake_subtree, &calls), 0);
	assert_true(len > 0 && len <= PPX_MERKLE_MAX_PATH);
}

static void test_merkle__subtree_failure_is_returned(void **state)
{
	struct source s = {leaves, 8, 0, PPX_ECORRUPT};
	ppx_hash path[PPX_MERKLE_MAX_PATH], root;
	size_t len;

	(void)state;
	assert_int_equal(ppx_merkle_root(root, 5, subtree, &s), PPX_ECORRUPT);
	assert_int_equal(ppx_merkle_inclusion_proof(path, &len, 3, 8, subtree,
						    &s), PPX_ECORRUPT);
	assert_int_equal(len, 0);
	assert_int_equal(ppx_merkle_consistency_proof(path, &len, 3, 8,
						      subtree, &s),
			 PPX_ECORRUPT);
	assert_int_equal(len, 0);
}

/* ---- consistency ------------------------------------------------------ */

static int consistency_ok(uint64_t m, uint64_t n, const ppx_hash r1,
			  const ppx_hash r2, const ppx_hash *path, size_t len)
{
	return ppx_merkle_verify_consistency(m, n, r1, r2, path, len) == 0;
}

/* Every change to a good, non-empty consistency proof is refused. */
static void assert_consistency_tampering_fails(uint64_t m, uint64_t n,
					       const ppx_hash r1,
					       const ppx_hash r2,
					       const ppx_hash *path,
					       size_t len)
{
	ppx_hash bad[PPX_MERKLE_MAX_PATH + 1], other;

	for (size_t i = 0; i < len; i++) {
		memcpy(bad, path, len * sizeof(ppx_hash));
		bad[i][(i * 5 + n) % PPX_MERKLE_HASH_LEN] ^= 0x10;
		assert_false(consistency_ok(m, n, r1, r2, bad, len));
	}
	assert_false(consistency_ok(m - 1, n, r1, r2, path, len));
	assert_false(consistency_ok(m + 1, n, r1, r2, path, len));
	if ((m ^ 2) != 0)
		assert_false(consistency_ok(m ^ 2, n, r1, r2, path, len));
	assert_false(consistency_ok(m, n * 2, r1, r2, path, len));
	assert_false(consistency_ok(m, n / 2, r1, r2, path, len));
	assert_false(consistency_ok(m, n, r2, r1, path, len));
	memcpy(other, r1, sizeof(other));
	other[0] ^= 1;
	assert_false(consistency_ok(m, n, other, r2, path, len));
	memcpy(other, r2, sizeof(other));
	other[0] ^= 1;
	assert_false(consistency_ok(m, n, r1, other, path, len));
	assert_false(consistency_ok(m, n, r1, r2, path, 0));
	assert_false(consistency_ok(m, n, r1, r2, path, len - 1));
	memcpy(bad, path, len * sizeof(ppx_hash));
	memcpy(bad[len], r1, sizeof(ppx_hash));
	assert_false(consistency_ok(m, n, r1, r2, bad, len + 1));
	memcpy(bad[len], r2, sizeof(ppx_hash));
	assert_false(consistency_ok(m, n, r1, r2, bad, len + 1));
	memcpy(bad[0], path[0], sizeof(ppx_hash));
	memcpy(bad + 1, path, len * sizeof(ppx_hash));
	assert_false(consistency_ok(m, n, r1, r2, bad, len + 1));
	memcpy(bad[0], r2, sizeof(ppx_hash));
	assert_false(consistency_ok(m, n, r1, r2, bad, len + 1));
}

static void test_merkle__consistency_proofs_match_naive_and_verify(void **state)
{
	ppx_hash path[PPX_MERKLE_MAX_PATH], naive[PPX_MERKLE_MAX_PATH];
	ppx_hash r1, r2;
	size_t len, naive_len;

	(void)state;
	make_leaves();
	for (uint64_t n = 1; n <= MAX_LEAVES; n++) {
		struct source s = {leaves, n, 0, 0};

		naive_mth(r2, leaves, 0, n);
		for (uint64_t m = 0; m <= n; m++) {
			assert_int_equal(ppx_merkle_consistency_proof(path,
					 &len, m, n, subtree, &s), 0);
			naive_len = 0;
			if (m > 0 && m < n)
				naive_subproof(naive, &naive_len, m, 0, n, 1);
			assert_int_equal(len, naive_len);
			assert_memory_equal(path, naive,
					    len * sizeof(ppx_hash));
			naive_mth(r1, leaves, 0, m);
			assert_true(consistency_ok(m, n, r1, r2, path, len));
		}
	}
}

static void test_merkle__tampered_consistency_proofs_fail(void **state)
{
	ppx_hash path[PPX_MERKLE_MAX_PATH], r1, r2;
	size_t len;

	(void)state;
	make_leaves();
	for (uint64_t n = 2; n <= MAX_LEAVES; n++) {
		struct source s = {leaves, n, 0, 0};

		naive_mth(r2, leaves, 0, n);
		for (uint64_t m = 1; m < n; m++) {
			assert_int_equal(ppx_merkle_consistency_proof(path,
					 &len, m, n, subtree, &s), 0);
			assert_true(len > 0);
			naive_mth(r1, leaves, 0, m);
			assert_consistency_tampering_fails(m, n, r1, r2, path,
							   len);
		}
	}
}

static void test_merkle__consistency_proofs_match_ct_test_vectors(void **state)
{
	static const struct {
		uint64_t old_size, new_size;
		size_t len;
		const char *path[3];
	} vec[] = {
		{1, 8, 3, {"96a296d224f285c67bee93c30f8a3091"
			   "57f0daa35dc5b87e410b78630a09cfc7",
			   "5f083f0a1a33ca076a95279832580db3"
			   "e0ef4584bdff1f54c8a360f50de3031e",
			   "6b47aaf29ee3c2af9af889bc1fb9254d"
			   "abd31177f16232dd6aab035ca39bf6e4"}},
		{6, 8, 3, {"0ebc5d3437fbe2db158b9f126a1d118e"
			   "308181031d0a949f8dededebc558ef6a",
			   "ca854ea128ed050b41b35ffc1b87b8eb"
			   "2bde461e9e3b5596ece6b9d5975a0ae0",
			   "d37ee418976dd95753c1c73862b9398f"
			   "a2a2cf9b4ff0fdfe8b30cd95209614b7"}},
		{2, 5, 2, {"5f083f0a1a33ca076a95279832580db3"
			   "e0ef4584bdff1f54c8a360f50de3031e",
			   "bc1a0643b12e4d2d7c77918f44e0f4f7"
			   "9a838b6cf9ec5b5c283e1f4d88599e6b"}},
		{6, 7, 3, {"0ebc5d3437fbe2db158b9f126a1d118e"
			   "308181031d0a949f8dededebc558ef6a",
			   "b08693ec2e721597130641e8211e7eed"
			   "ccb4c26413963eee6c1e2ed16ffb1a5f",
			   "d37ee418976dd95753c1c73862b9398f"
			   "a2a2cf9b4ff0fdfe8b30cd95209614b7"}},
	};
	ppx_hash d[8], path[PPX_MERKLE_MAX_PATH], r1, r2;
	size_t len;

	(void)state;
	ct_leaves(d);
	for (size_t v = 0; v < sizeof(vec) / sizeof(vec[0]); v++) {
		struct source s = {d, vec[v].new_size, 0, 0};

		assert_int_equal(ppx_merkle_consistency_proof(path, &len,
				 vec[v].old_size, vec[v].new_size, subtree,
				 &s), 0);
		assert_int_equal(len, vec[v].len);
		for (size_t i = 0; i < len; i++)
			assert_hash_hex(path[i], vec[v].path[i]);
		from_hex(r1, ct_roots[vec[v].old_size - 1]);
		from_hex(r2, ct_roots[vec[v].new_size - 1]);
		assert_true(consistency_ok(vec[v].old_size, vec[v].new_size,
					   r1, r2, path, len));
	}
}

static void test_merkle__trivial_consistency_needs_empty_proof(void **state)
{
	struct source s = {leaves, 8, 0, 0};
	ppx_hash path[PPX_MERKLE_MAX_PATH], empty, r;
	size_t len = 99;

	(void)state;
	make_leaves();
	ppx_merkle_empty(empty);
	naive_mth(r, leaves, 0, 5);
	memcpy(path[0], empty, sizeof(ppx_hash));
	assert_true(consistency_ok(0, 0, empty, empty, path, 0));
	assert_true(consistency_ok(0, 5, empty, r, path, 0));
	assert_false(consistency_ok(0, 5, r, r, path, 0));
	assert_false(consistency_ok(0, 5, empty, r, path, 1));
	assert_true(consistency_ok(5, 5, r, r, path, 0));
	assert_false(consistency_ok(5, 5, r, empty, path, 0));
	assert_false(consistency_ok(5, 5, r, r, path, 1));
	assert_false(consistency_ok(6, 5, r, r, path, 0));
	assert_int_equal(ppx_merkle_consistency_proof(path, &len, 6, 5,
						      subtree, &s), PPX_ERANGE);
	assert_int_equal(len, 0);
	assert_int_equal(ppx_merkle_consistency_proof(path, &len, 0, 5,
						      subtree, &s), 0);
	assert_int_equal(len, 0);
	assert_int_equal(s.calls, 0);
}

/* ---- a tree held in memory ------------------------------------------- */

/* For every size up to 64: the in-memory tree's root is the naive MTH, each
 * leaf's path is the naive PATH, and the root that path leads back to from
 * the leaf is the root; one hash more or less leads nowhere. */
static void test_merkle__memory_tree_matches_naive_for_sizes_1_to_64(void **state)
{
	ppx_hash root, want, got, path[PPX_MERKLE_MAX_PATH];
	ppx_hash npath[PPX_MERKLE_MAX_PATH];
	size_t len, nlen;

	(void)state;
	make_leaves();
	for (uint64_t n = 1; n <= MAX_LEAVES; n++) {
		ppx_merkle_mem *t = NULL;

		assert_int_equal(ppx_merkle_mem_new(&t, leaves, n), 0);
		assert_int_equal(ppx_merkle_mem_root(t, root), 0);
		naive_mth(want, leaves, 0, n);
		assert_memory_equal(root, want, PPX_MERKLE_HASH_LEN);
		for (uint64_t m = 0; m < n; m++) {
			assert_int_equal(ppx_merkle_mem_path(t, path, &len, m),
					 0);
			nlen = 0;
			naive_path(npath, &nlen, m, 0, n);
			assert_int_equal(len, nlen);
			assert_memory_equal(path, npath,
					    len * PPX_MERKLE_HASH_LEN);
			assert_int_equal(ppx_merkle_root_from_inclusion(
						 got, leaves[m], m, n, path,
						 len),
					 0);
			assert_memory_equal(got, root, PPX_MERKLE_HASH_LEN);
			assert_int_equal(ppx_merkle_root_from_inclusion(
						 got, leaves[m], m, n, path,
						 len + 1),
					 PPX_EPROOF);
			if (len > 0)
				assert_int_equal(
					ppx_merkle_root_from_inclusion(
						got, leaves[m], m, n, path,
						len - 1),
					PPX_EPROOF);
		}
		assert_int_equal(ppx_merkle_mem_path(t, path, &len, n),
				 PPX_ERANGE);
		assert_int_equal(ppx_merkle_root_from_inclusion(
					 got, leaves[0], n, n, path, 0),
				 PPX_EPROOF);
		ppx_merkle_mem_free(t);
	}
}

static void test_merkle__memory_tree_sizes_are_bounded(void **state)
{
	ppx_merkle_mem *t = NULL;

	(void)state;
	assert_int_equal(ppx_merkle_mem_new(&t, leaves, 0), PPX_ERANGE);
	assert_null(t);
	assert_int_equal(ppx_merkle_mem_new(&t, leaves,
					    PPX_MERKLE_MEM_MAX + 1),
			 PPX_ERANGE);
	assert_null(t);
	ppx_merkle_mem_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test(name)
		T(test_merkle__hashes_match_rfc6962_known_answers),
		T(test_merkle__roots_match_ct_test_vectors),
		T(test_merkle__empty_tree_root_is_hash_of_nothing),
		T(test_merkle__roots_match_naive_for_sizes_1_to_64),
		T(test_merkle__inclusion_proofs_match_naive_and_verify),
		T(test_merkle__tampered_inclusion_proofs_fail),
		T(test_merkle__inclusion_proofs_match_ct_test_vectors),
		T(test_merkle__inclusion_of_missing_leaf_is_refused),
		T(test_merkle__proofs_of_huge_trees_fit_max_path),
		T(test_merkle__subtree_failure_is_returned),
		T(test_merkle__consistency_proofs_match_naive_and_verify),
		T(test_merkle__tampered_consistency_proofs_fail),
		T(test_merkle__consistency_proofs_match_ct_test_vectors),
		T(test_merkle__trivial_consistency_needs_empty_proof),
		T(test_merkle__memory_tree_matches_naive_for_sizes_1_to_64),
		T(test_merkle__memory_tree_sizes_are_bounded),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
