/*
 * pki_forge.h — CRLs and certificates the federation CA would never issue
 * (no nextUpdate, no keyUsage, an old crlNumber), made in the test with
 * the demo CA's key, for the trust checks to refuse.
 */
#ifndef PPX_TEST_PKI_FORGE_H
#define PPX_TEST_PKI_FORGE_H

#include <time.h>

#include "ppx/pki.h"

/* A CRL to make: `number` < 0 leaves out crlNumber, `next_update` 0
 * leaves out nextUpdate; `revoked` lists demo PKI certificate paths
 * (relative, NULL-terminated) whose serials it revokes. */
struct forge_crl {
	long number;
	time_t this_update;
	time_t next_update;
	const char *revoked[4];
};

/* Write the CRL, signed by the demo CA, as PEM to `path`. */
void forge_crl_write(const char *path, const struct forge_crl *spec);

/* A certificate of `agency` with OU `role`, signed by the demo CA, valid
 * for a day from an hour ago, basicConstraints CA:FALSE, and keyUsage
 * `key_usage` (an openssl.cnf value) or none if NULL.  The key is X25519
 * for role "transport", Ed25519 otherwise.  Free with ppx_cert_free(). */
ppx_cert *forge_cert(const char *agency, const char *role,
		     const char *key_usage);

/* The same, with the public key of `like` (a key certified again), or a
 * new one if `like` is NULL. */
ppx_cert *forge_cert_like(const char *agency, const char *role,
			  const char *key_usage, const ppx_cert *like);

/* Write a certificate as PEM to `path`. */
void forge_cert_write(const char *path, const ppx_cert *cert);

#endif
