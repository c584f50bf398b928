/*
 * pki_int.h — libppx-internal view of a certificate (the X509 inside a
 * ppx_cert) and of the trust store.
 *
 * The public header (include/ppx/pki.h) keeps OpenSSL out of the programs
 * that use libppx.  lib/pki.c reaches the X509 through these, and so do
 * the tests and benches that need OpenSSL for their own purposes (forging
 * certificates, timing raw verification); nothing else should.
 */
#ifndef PPX_PKI_INT_H
#define PPX_PKI_INT_H

#include <time.h>

#include <openssl/x509.h>

#include "ppx/pki.h"

/*
 * A known certificate, with the last successful verdict on it: the
 * identity, the role it was checked for, and until when that verdict
 * holds (the earlier of the certificate's notAfter and the CRL's
 * nextUpdate) under which CRL.  The chain check then runs once per
 * certificate and CRL rather than once per message.
 */
struct known_cert {
	uint8_t fp[PPX_FINGERPRINT_LEN];
	ppx_cert *cert;		/* owned; its own allocation, so that it
				 * stays put as the array grows */
	uint8_t x25519[32];	/* its X25519 key, read once when added ... */
	int has_x25519;		/* ... if it has one (a transport cert) */
	ppx_identity verdict;
	unsigned verdict_crl;	/* crl_generation the verdict was made under */
	time_t valid_from, valid_until;
	ppx_identity history;	/* the verdict with no time (now == 0) ... */
	int has_history;	/* ... once made: chain and role do not change */
};

/* The trust store (include/ppx/pki.h), shared by lib/pki.c and
 * lib/pki_crl.c. */
struct ppx_trust {
	X509_STORE *store;
	ppx_cert *ca;
	X509_CRL *crl;
	struct known_cert *known;
	size_t n_known;
	unsigned crl_generation;	/* bumped on every CRL load; never 0 */
};

/* The X509 of `cert`, borrowed: it lives as long as `cert`. */
X509 *ppxi_cert_x509(const ppx_cert *cert);

/*
 * A ppx_cert owning `x509` (one reference of it is taken over, also on
 * failure, when it is freed).  PPX_ENOMEM.
 */
int ppxi_cert_adopt(ppx_cert **out, X509 *x509);

/*
 * Whether `cert` is a certificate of `role` (its single OU), with a single
 * O and CN and the key usage of the role, filling in id->agency, name and
 * role: 0, or PPX_EUNTRUSTED with the detail set.  No chain, time or CRL:
 * ppx_trust_check() adds those, and lib/evidence.c checks them against
 * the CA and CRL of an evidence bundle.
 */
int ppxi_cert_check_role(X509 *cert, enum ppx_cert_role role,
			 ppx_identity *id);

#endif
