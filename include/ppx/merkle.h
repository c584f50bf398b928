/*
 * merkle.h — RFC 6962 / RFC 9162 Merkle tree hashing and proofs.
 *
 *   leaf hash  = SHA-256(0x00 || entry bytes)
 *   node hash  = SHA-256(0x01 || left || right)
 *   empty tree = SHA-256("")
 *
 * The hash functions cannot fail: if libcrypto cannot compute SHA-256 (no
 * provider, no memory) the process aborts rather than go on with a hash
 * nobody could trust.
 *
 * Proof generation is independent of storage: the caller supplies a
 * function that returns the hash of any complete aligned subtree
 * [start, start + 2^k).  Verification needs only the proof.
 */
#ifndef PPX_MERKLE_H
#define PPX_MERKLE_H

#include <stddef.h>
#include <stdint.h>

#define PPX_MERKLE_HASH_LEN 32
#define PPX_MERKLE_MAX_PATH 64

typedef uint8_t ppx_hash[PPX_MERKLE_HASH_LEN];

void ppx_merkle_leaf(ppx_hash out, const uint8_t *data, size_t len);
void ppx_merkle_node(ppx_hash out, const ppx_hash left, const ppx_hash right);
void ppx_merkle_empty(ppx_hash out);

/* Returns the hash of leaves [start, start + size), size a power of two and
 * start a multiple of size; 0 or a negative ppx_error. */
typedef int (*ppx_merkle_subtree_fn)(void *ctx, uint64_t start, uint64_t size,
				     ppx_hash out);

/* The root of the first `tree_size` leaves. */
int ppx_merkle_root(ppx_hash out, uint64_t tree_size,
		    ppx_merkle_subtree_fn fn, void *ctx);

/* The audit path of leaf `index` in a tree of `tree_size` leaves
 * (RFC 6962 PATH).  Writes up to PPX_MERKLE_MAX_PATH hashes to `path`.
 * PPX_ERANGE if index >= tree_size. */
int ppx_merkle_inclusion_proof(ppx_hash *path, size_t *path_len,
			       uint64_t index, uint64_t tree_size,
			       ppx_merkle_subtree_fn fn, void *ctx);

/* The consistency proof between sizes old_size <= new_size (RFC 6962
 * PROOF; empty when old_size is 0 or equal to new_size).  PPX_ERANGE if
 * old_size > new_size. */
int ppx_merkle_consistency_proof(ppx_hash *path, size_t *path_len,
				 uint64_t old_size, uint64_t new_size,
				 ppx_merkle_subtree_fn fn, void *ctx);

/* The root an inclusion path leads to from `leaf` (RFC 9162 §2.1.3.2
 * without the final comparison): 0, or PPX_EPROOF if index >= tree_size or
 * the path has not exactly the hashes a tree of tree_size needs. */
int ppx_merkle_root_from_inclusion(ppx_hash out, const ppx_hash leaf,
				   uint64_t index, uint64_t tree_size,
				   const ppx_hash *path, size_t path_len);

/* RFC 9162 §2.1.3.2: 0, or PPX_EPROOF. */
int ppx_merkle_verify_inclusion(const ppx_hash leaf, uint64_t index,
				uint64_t tree_size, const ppx_hash *path,
				size_t path_len, const ppx_hash root);

/* RFC 9162 §2.1.4.2: 0, or PPX_EPROOF.  From size 0 the proof must be
 * empty and old_root the empty tree's; between equal sizes it must be
 * empty and the roots equal. */
int ppx_merkle_verify_consistency(uint64_t old_size, uint64_t new_size,
				  const ppx_hash old_root,
				  const ppx_hash new_root,
				  const ppx_hash *path, size_t path_len);

/*
 * A small tree held in memory (a batch of signed bodies, PROTOCOL.md 3.4):
 * built once from n leaf hashes (1 <= n <= PPX_MERKLE_MEM_MAX), then its
 * root and the path of any leaf, as for the log.
 */
#define PPX_MERKLE_MEM_MAX 65536
typedef struct ppx_merkle_mem ppx_merkle_mem;

int ppx_merkle_mem_new(ppx_merkle_mem **out, const ppx_hash *leaves,
		       uint64_t n);
int ppx_merkle_mem_root(const ppx_merkle_mem *self, ppx_hash out);
int ppx_merkle_mem_path(const ppx_merkle_mem *self, ppx_hash *path,
			size_t *path_len, uint64_t index);
void ppx_merkle_mem_free(ppx_merkle_mem *self);

#endif
