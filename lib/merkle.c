/*
 * merkle.c — RFC 6962 Merkle tree hashing, proof generation and RFC 9162
 * proof verification.
 *
 * The log (logstore.c) keeps the hash of every complete, aligned subtree it
 * has built, so the hash of any range [start, start + 2^k) with start a
 * multiple of 2^k is one lookup away.  Generation here follows the
 * recursive definitions of RFC 6962 §2.1 (MTH, PATH, SUBPROOF) and asks the
 * caller's subtree function for every complete aligned subtree it needs; a
 * partial range is split at the largest power of two below its size, its
 * left part is complete and aligned, and its right part is split again.  So
 * a root or a proof costs O(log n) lookups and never touches the leaves.
 *
 * Every range the recursion visits starts at a multiple of the smallest
 * power of two not below its size, which is why the left part of a split
 * is always aligned.
 *
 * Verification uses only the proof, by the iterative algorithms of RFC 9162
 * §2.1.3.2 (inclusion) and §2.1.4.2 (consistency).  They are the checks a
 * partner or an auditor runs on evidence we hand out, so they are kept
 * literal to the RFC and compare hashes in constant time.
 *
 * SHA-256 comes from OpenSSL.  Computing it can only fail if libcrypto has
 * no SHA-256 or cannot allocate a few hundred bytes; a wrong hash would
 * silently break the tamper evidence, so that case aborts the process as a
 * broken invariant rather than returning a value nobody could trust.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "ppx/error.h"
#include "ppx/merkle.h"

#define LEAF_PREFIX 0x00
#define NODE_PREFIX 0x01

/* SHA-256(prefix || a || b); prefix < 0 means no prefix byte. */
static void sha256_parts(ppx_hash out, int prefix, const uint8_t *a,
			 size_t alen, const uint8_t *b, size_t blen)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	uint8_t p = (uint8_t)prefix;
	unsigned int len = 0;
	int ok;

	ok = ctx != NULL && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1;
	if (ok && prefix >= 0)
		ok = EVP_DigestUpdate(ctx, &p, 1) == 1;
	if (ok && alen > 0)
		ok = EVP_DigestUpdate(ctx, a, alen) == 1;
	if (ok && blen > 0)
		ok = EVP_DigestUpdate(ctx, b, blen) == 1;
	if (ok)
		ok = EVP_DigestFinal_ex(ctx, out, &len) == 1 &&
		     len == PPX_MERKLE_HASH_LEN;
	EVP_MD_CTX_free(ctx);
	if (!ok)
		abort();	/* see the file comment */
}

void ppx_merkle_leaf(ppx_hash out, const uint8_t *data, size_t len)
{
	sha256_parts(out, LEAF_PREFIX, data, len, NULL, 0);
}

void ppx_merkle_node(ppx_hash out, const ppx_hash left, const ppx_hash right)
{
	sha256_parts(out, NODE_PREFIX, left, PPX_MERKLE_HASH_LEN, right,
		     PPX_MERKLE_HASH_LEN);
}

void ppx_merkle_empty(ppx_hash out)
{
	sha256_parts(out, -1, NULL, 0, NULL, 0);
}

/* The largest power of two strictly less than n (n >= 2): the top bit of
 * n - 1. */
static uint64_t split_point(uint64_t n)
{
	return UINT64_C(1) << (63 - __builtin_clzll(n - 1));
}

static int is_power_of_two(uint64_t n)
{
	return n != 0 && (n & (n - 1)) == 0;
}

/* MTH(D[start : start + n]), n >= 1: one callback call for a complete
 * subtree, otherwise the left complete part and the right part recursed. */
static int range_hash(ppx_hash out, uint64_t start, uint64_t n,
		      ppx_merkle_subtree_fn fn, void *ctx)
{
	ppx_hash left, right;
	uint64_t k;
	int rc;

	if (is_power_of_two(n))
		return fn(ctx, start, n, out);
	k = split_point(n);
	if ((rc = fn(ctx, start, k, left)) < 0)
		return rc;
	if ((rc = range_hash(right, start + k, n - k, fn, ctx)) < 0)
		return rc;
	ppx_merkle_node(out, left, right);
	return 0;
}

int ppx_merkle_root(ppx_hash out, uint64_t tree_size,
		    ppx_merkle_subtree_fn fn, void *ctx)
{
	if (tree_size == 0) {
		ppx_merkle_empty(out);
		return 0;
	}
	return range_hash(out, 0, tree_size, fn, ctx);
}

/* A proof under construction: hashes in RFC 6962 order (leaf to root). */
struct proof {
	ppx_hash *path;
	size_t len;
};

static int proof_add(struct proof *p, uint64_t start, uint64_t n,
		     ppx_merkle_subtree_fn fn, void *ctx)
{
	if (p->len >= PPX_MERKLE_MAX_PATH)
		return ppx_error_set(PPX_ERANGE,
				     "Merkle proof longer than %d hashes",
				     PPX_MERKLE_MAX_PATH);
	return range_hash(p->path[p->len++], start, n, fn, ctx);
}

/* PATH(m, D[start : start + n]) appended to p. */
static int path_rec(struct proof *p, uint64_t m, uint64_t start, uint64_t n,
		    ppx_merkle_subtree_fn fn, void *ctx)
{
	uint64_t k;
	int rc;

	if (n <= 1)
		return 0;
	k = split_point(n);
	if (m < k) {
		if ((rc = path_rec(p, m, start, k, fn, ctx)) < 0)
			return rc;
		return proof_add(p, start + k, n - k, fn, ctx);
	}
	if ((rc = path_rec(p, m - k, start + k, n - k, fn, ctx)) < 0)
		return rc;
	return proof_add(p, start, k, fn, ctx);
}

int ppx_merkle_inclusion_proof(ppx_hash *path, size_t *path_len,
			       uint64_t index, uint64_t tree_size,
			       ppx_merkle_subtree_fn fn, void *ctx)
{
	struct proof p = {path, 0};
	int rc;

	*path_len = 0;
	if (index >= tree_size)
		return ppx_error_set(PPX_ERANGE,
				     "no leaf %llu in a Merkle tree of %llu",
				     (unsigned long long)index,
				     (unsigned long long)tree_size);
	if ((rc = path_rec(&p, index, 0, tree_size, fn, ctx)) < 0)
		return rc;
	*path_len = p.len;
	return 0;
}

/* SUBPROOF(m, D[start : start + n], whole) appended to p. */
static int subproof_rec(struct proof *p, uint64_t m, uint64_t start,
			uint64_t n, int whole, ppx_merkle_subtree_fn fn,
			void *ctx)
{
	uint64_t k;
	int rc;

	if (m == n)
		return whole ? 0 : proof_add(p, start, n, fn, ctx);
	k = split_point(n);
	if (m <= k) {
		if ((rc = subproof_rec(p, m, start, k, whole, fn, ctx)) < 0)
			return rc;
		return proof_add(p, start + k, n - k, fn, ctx);
	}
	if ((rc = subproof_rec(p, m - k, start + k, n - k, 0, fn, ctx)) < 0)
		return rc;
	return proof_add(p, start, k, fn, ctx);
}

int ppx_merkle_consistency_proof(ppx_hash *path, size_t *path_len,
				 uint64_t old_size, uint64_t new_size,
				 ppx_merkle_subtree_fn fn, void *ctx)
{
	struct proof p = {path, 0};
	int rc;

	*path_len = 0;
	if (old_size > new_size)
		return ppx_error_set(PPX_ERANGE,
				     "no consistency proof from tree size %llu "
				     "back to the smaller size %llu",
				     (unsigned long long)old_size,
				     (unsigned long long)new_size);
	/* From the empty tree or to the same tree there is nothing to prove. */
	if (old_size == 0 || old_size == new_size)
		return 0;
	if ((rc = subproof_rec(&p, old_size, 0, new_size, 1, fn, ctx)) < 0)
		return rc;
	*path_len = p.len;
	return 0;
}

static int hash_equal(const ppx_hash a, const ppx_hash b)
{
	return CRYPTO_memcmp(a, b, PPX_MERKLE_HASH_LEN) == 0;
}

int ppx_merkle_root_from_inclusion(ppx_hash out, const ppx_hash leaf,
				   uint64_t index, uint64_t tree_size,
				   const ppx_hash *path, size_t path_len)
{
	uint64_t fn = index, sn;

	if (index >= tree_size)
		return ppx_error_set(PPX_EPROOF,
				     "inclusion proof for leaf %llu in a tree "
				     "of only %llu",
				     (unsigned long long)index,
				     (unsigned long long)tree_size);
	sn = tree_size - 1;
	memcpy(out, leaf, PPX_MERKLE_HASH_LEN);
	for (size_t i = 0; i < path_len; i++) {
		if (sn == 0)
			return ppx_error_set(PPX_EPROOF, "inclusion proof has "
					     "%zu hashes, too many", path_len);
		if ((fn & 1) || fn == sn) {
			ppx_merkle_node(out, path[i], out);
			while (!(fn & 1) && fn != 0) {
				fn >>= 1;
				sn >>= 1;
			}
		} else {
			ppx_merkle_node(out, out, path[i]);
		}
		fn >>= 1;
		sn >>= 1;
	}
	if (sn != 0)
		return ppx_error_set(PPX_EPROOF, "inclusion proof of leaf %llu "
				     "in tree size %llu has too few hashes",
				     (unsigned long long)index,
				     (unsigned long long)tree_size);
	return 0;
}

int ppx_merkle_verify_inclusion(const ppx_hash leaf, uint64_t index,
				uint64_t tree_size, const ppx_hash *path,
				size_t path_len, const ppx_hash root)
{
	ppx_hash r;
	int rc = ppx_merkle_root_from_inclusion(r, leaf, index, tree_size,
						path, path_len);

	if (rc != 0)
		return rc;
	if (!hash_equal(r, root))
		return ppx_error_set(PPX_EPROOF, "inclusion proof of leaf %llu "
				     "does not lead to the root of tree size "
				     "%llu",
				     (unsigned long long)index,
				     (unsigned long long)tree_size);
	return 0;
}

/* The trivial cases of consistency: an empty old tree, or no growth. */
static int verify_trivial_consistency(uint64_t old_size, uint64_t new_size,
				      const ppx_hash old_root,
				      const ppx_hash new_root,
				      size_t path_len)
{
	ppx_hash empty;

	if (path_len != 0)
		return ppx_error_set(PPX_EPROOF, "consistency proof from size "
				     "%llu to %llu must be empty",
				     (unsigned long long)old_size,
				     (unsigned long long)new_size);
	if (old_size == 0) {
		ppx_merkle_empty(empty);
		if (!hash_equal(old_root, empty))
			return ppx_error_set(PPX_EPROOF, "old root is not the "
					     "root of the empty tree");
		return 0;
	}
	if (!hash_equal(old_root, new_root))
		return ppx_error_set(PPX_EPROOF, "two different roots for the "
				     "same tree size %llu",
				     (unsigned long long)old_size);
	return 0;
}

/* RFC 9162 §2.1.4.2 steps 3 to 7, for 0 < old_size < new_size and a path
 * whose first element (step 2 done) is `first`, followed by `rest`. */
static int verify_consistency_path(uint64_t old_size, uint64_t new_size,
				   const ppx_hash old_root,
				   const ppx_hash new_root,
				   const ppx_hash first, const ppx_hash *rest,
				   size_t rest_len)
{
	uint64_t fn = old_size - 1, sn = new_size - 1;
	ppx_hash fr, sr;

	while (fn & 1) {
		fn >>= 1;
		sn >>= 1;
	}
	memcpy(fr, first, PPX_MERKLE_HASH_LEN);
	memcpy(sr, first, PPX_MERKLE_HASH_LEN);
	for (size_t i = 0; i < rest_len; i++) {
		if (sn == 0)
			return ppx_error_set(PPX_EPROOF, "consistency proof "
					     "has too many hashes");
		if ((fn & 1) || fn == sn) {
			ppx_merkle_node(fr, rest[i], fr);
			ppx_merkle_node(sr, rest[i], sr);
			while (!(fn & 1) && fn != 0) {
				fn >>= 1;
				sn >>= 1;
			}
		} else {
			ppx_merkle_node(sr, sr, rest[i]);
		}
		fn >>= 1;
		sn >>= 1;
	}
	if (sn != 0 || !hash_equal(fr, old_root) || !hash_equal(sr, new_root))
		return ppx_error_set(PPX_EPROOF, "consistency proof from tree "
				     "size %llu to %llu does not verify",
				     (unsigned long long)old_size,
				     (unsigned long long)new_size);
	return 0;
}

int ppx_merkle_verify_consistency(uint64_t old_size, uint64_t new_size,
				  const ppx_hash old_root,
				  const ppx_hash new_root,
				  const ppx_hash *path, size_t path_len)
{
	if (old_size > new_size)
		return ppx_error_set(PPX_EPROOF, "consistency proof from tree "
				     "size %llu back to %llu",
				     (unsigned long long)old_size,
				     (unsigned long long)new_size);
	if (old_size == 0 || old_size == new_size)
		return verify_trivial_consistency(old_size, new_size, old_root,
						  new_root, path_len);
	if (path_len == 0)
		return ppx_error_set(PPX_EPROOF, "empty consistency proof from "
				     "tree size %llu to %llu",
				     (unsigned long long)old_size,
				     (unsigned long long)new_size);
	/* Step 2: a complete old tree is its own first proof element. */
	if (is_power_of_two(old_size))
		return verify_consistency_path(old_size, new_size, old_root,
					       new_root, old_root, path,
					       path_len);
	return verify_consistency_path(old_size, new_size, old_root, new_root,
				       path[0], path + 1, path_len - 1);
}

/* ---- a tree held in memory ------------------------------------------- */

/*
 * Every complete aligned subtree of n leaves, level by level: level k holds
 * the n >> k hashes of the subtrees [i * 2^k, (i + 1) * 2^k).  Built once
 * in O(n); a root or a path is then O(log n) lookups through the same
 * recursion the log uses (range_hash, path_rec).
 */
struct ppx_merkle_mem {
	uint64_t n;
	unsigned levels;
	ppx_hash *level[PPX_MERKLE_MAX_PATH + 1];
	ppx_hash *all;
};

static int mem_subtree(void *ctx, uint64_t start, uint64_t size, ppx_hash out)
{
	const struct ppx_merkle_mem *t = ctx;
	unsigned k = (unsigned)__builtin_ctzll(size);

	if (k >= t->levels || start + size > t->n)
		return ppx_error_set(PPX_ERANGE, "no subtree [%llu, +%llu) in "
				     "a tree of %llu",
				     (unsigned long long)start,
				     (unsigned long long)size,
				     (unsigned long long)t->n);
	memcpy(out, t->level[k][start >> k], PPX_MERKLE_HASH_LEN);
	return 0;
}

int ppx_merkle_mem_new(ppx_merkle_mem **out, const ppx_hash *leaves,
		       uint64_t n)
{
	struct ppx_merkle_mem *t;
	uint64_t total = 0;

	*out = NULL;
	if (n == 0 || n > PPX_MERKLE_MEM_MAX)
		return ppx_error_set(PPX_ERANGE, "an in-memory Merkle tree holds "
				     "1 to %d leaves, not %llu",
				     PPX_MERKLE_MEM_MAX, (unsigned long long)n);
	for (uint64_t m = n; m; m >>= 1)
		total += m;
	if (!(t = calloc(1, sizeof(*t))) ||
	    !(t->all = malloc(total * sizeof(ppx_hash)))) {
		free(t);
		return ppx_error_set(PPX_ENOMEM, "out of memory");
	}
	t->n = n;
	t->level[0] = t->all;
	memcpy(t->level[0], leaves, n * sizeof(ppx_hash));
	for (unsigned k = 1; (n >> k) != 0; k++) {
		t->level[k] = t->level[k - 1] + (n >> (k - 1));
		for (uint64_t i = 0; i < (n >> k); i++)
			ppx_merkle_node(t->level[k][i], t->level[k - 1][2 * i],
					t->level[k - 1][2 * i + 1]);
		t->levels = k;
	}
	t->levels++;
	*out = t;
	return 0;
}

int ppx_merkle_mem_root(const ppx_merkle_mem *self, ppx_hash out)
{
	return ppx_merkle_root(out, self->n, mem_subtree, (void *)self);
}

int ppx_merkle_mem_path(const ppx_merkle_mem *self, ppx_hash *path,
			size_t *path_len, uint64_t index)
{
	return ppx_merkle_inclusion_proof(path, path_len, index, self->n,
					  mem_subtree, (void *)self);
}

void ppx_merkle_mem_free(ppx_merkle_mem *self)
{
	if (!self)
		return;
	free(self->all);
	free(self);
}
