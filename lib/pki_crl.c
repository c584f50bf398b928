/*
 * pki_crl.c — the federation CA's certificate revocation list in the trust
 * store: read from a file (at start and on reload), or taken as DER bytes
 * a partner passed on (PROTOCOL.md 13.5), and handed out again as DER.
 *
 * Whichever way it comes, a CRL goes in force only through install_crl():
 * signed by the CA, with a nextUpdate, and not older than the CRL in
 * force, so that no path can un-revoke a certificate.  Putting one in
 * force bumps the store's generation, which forgets every cached verdict
 * (lib/pki.c).
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "ppx/error.h"
#include "pki_int.h"

#define CRL_DER_MAX (4 * 1024 * 1024)

static int load_crl(X509_CRL **out, const char *path)
{
	BIO *bio = BIO_new_file(path, "r");
	X509_CRL *crl;

	if (!bio)
		return ppx_error_set(PPX_ECRL, "cannot open CRL %s", path);
	crl = PEM_read_bio_X509_CRL(bio, NULL, NULL, NULL);
	BIO_free(bio);
	if (!crl)
		return ppx_error_set(PPX_ECRL, "cannot read CRL %s: not PEM",
				     path);
	*out = crl;
	return 0;
}

/* The CRL's crlNumber, or NULL if it has none; free with
 * ASN1_INTEGER_free(). */
static ASN1_INTEGER *crl_number(const X509_CRL *crl)
{
	return X509_CRL_get_ext_d2i(crl, NID_crl_number, NULL, NULL);
}

/*
 * Whether `a` is older (< 0), of the same rank (0) or newer (> 0) than `b`:
 * by crlNumber when both carry one (RFC 5280 5.2.3: a CA numbers its CRLs
 * in increasing order), else by thisUpdate.  `what` says which was used,
 * for the error message.
 */
static int crl_order(const X509_CRL *a, const X509_CRL *b, const char **what)
{
	ASN1_INTEGER *na = crl_number(a), *nb = crl_number(b);
	int cmp;

	if (na && nb) {
		*what = "crlNumber";
		cmp = ASN1_INTEGER_cmp(na, nb);
	} else {
		*what = "thisUpdate";
		cmp = ASN1_TIME_compare(X509_CRL_get0_lastUpdate(a),
					X509_CRL_get0_lastUpdate(b));
	}
	ASN1_INTEGER_free(na);
	ASN1_INTEGER_free(nb);
	return cmp;
}

/* Whether `crl` revokes every certificate `held` revokes. */
static int crl_revokes_all_of(X509_CRL *crl, const X509_CRL *held)
{
	STACK_OF(X509_REVOKED) *old = X509_CRL_get_REVOKED((X509_CRL *)held);
	X509_REVOKED *r;

	for (int i = 0; i < sk_X509_REVOKED_num(old); i++) {
		const X509_REVOKED *o = sk_X509_REVOKED_value(old, i);

		if (X509_CRL_get0_by_serial(crl, &r, (ASN1_INTEGER *)
					    X509_REVOKED_get0_serialNumber(o))
		    != 1)
			return 0;
	}
	return 1;
}

/*
 * May `crl` replace the CRL in force?  It must have a nextUpdate (one
 * without would never go stale, so a withheld CRL would go unnoticed).
 * It must not be older than the CRL in force: installing an older one
 * would un-revoke every certificate revoked since.  One of the same rank
 * (same crlNumber, or same thisUpdate) is taken only if it is the same
 * CRL or revokes everything the one in force revokes, so that even a CA
 * that issued two CRLs in one second, or reused a number, cannot lift a
 * revocation this way.
 */
static int crl_acceptable(const ppx_trust *self, X509_CRL *crl,
			  const char *crl_file)
{
	const char *what = NULL;
	int cmp;

	if (!X509_CRL_get0_nextUpdate(crl))
		return ppx_error_set(PPX_ECRL,
				     "CRL %s has no nextUpdate, so it would "
				     "never go stale: refused; publish one "
				     "with a nextUpdate (ppx-pki crl)",
				     crl_file);
	if (!self->crl)
		return 0;
	cmp = crl_order(crl, self->crl, &what);
	if (cmp < 0)
		return ppx_error_set(PPX_ECRL,
				     "CRL %s is older (by %s) than the CRL in "
				     "force: refused, as it would lift later "
				     "revocations; install the CA's latest CRL",
				     crl_file, what);
	if (cmp == 0 && X509_CRL_match(crl, self->crl) != 0 &&
	    !crl_revokes_all_of(crl, self->crl))
		return ppx_error_set(PPX_ECRL,
				     "CRL %s has the same %s as the CRL in "
				     "force but does not list every "
				     "certificate that one revokes: refused; "
				     "install the CA's latest CRL",
				     crl_file, what);
	return 0;
}

/* Whether `crl` is the federation CA's: issued by its name, signed by
 * its key. */
static int crl_signed_by_ca(const ppx_trust *self, X509_CRL *crl)
{
	X509 *ca = ppxi_cert_x509(self->ca);
	EVP_PKEY *ca_key = X509_get0_pubkey(ca);

	return X509_NAME_cmp(X509_CRL_get_issuer(crl),
			     X509_get_subject_name(ca)) == 0 &&
	       ca_key && X509_CRL_verify(crl, ca_key) == 1;
}

/* Put `crl` (owned, freed on failure) in force if it is the CA's and may
 * replace the CRL in force; `name` says where it came from. */
static int install_crl(ppx_trust *self, X509_CRL *crl, const char *name)
{
	int rc;

	if (!crl_signed_by_ca(self, crl)) {
		X509_CRL_free(crl);
		return ppx_error_set(PPX_ECRL,
				     "CRL %s is not signed by the federation CA",
				     name);
	}
	rc = crl_acceptable(self, crl, name);
	if (rc != 0) {
		X509_CRL_free(crl);
		return rc;
	}
	X509_CRL_free(self->crl);
	self->crl = crl;
	self->crl_generation++;	/* forget every cached verdict */
	return 0;
}

int ppx_trust_reload_crl(ppx_trust *self, const char *crl_file)
{
	X509_CRL *crl = NULL;
	int rc = load_crl(&crl, crl_file);

	if (rc != 0)
		return rc;
	return install_crl(self, crl, crl_file);
}

/* A CRL from DER bytes, refusing trailing bytes. */
static int crl_from_der(X509_CRL **out, const uint8_t *der, size_t len)
{
	const unsigned char *p = der;
	X509_CRL *crl;

	*out = NULL;
	if (len == 0 || len > CRL_DER_MAX)
		return ppx_error_set(PPX_ECRL, "CRL of %zu bytes: expected DER "
				     "of 1 to %d bytes", len, CRL_DER_MAX);
	crl = d2i_X509_CRL(NULL, &p, (long)len);
	if (!crl || p != der + len) {
		X509_CRL_free(crl);
		return ppx_error_set(PPX_ECRL, "CRL does not decode as one DER "
				     "X.509 CRL");
	}
	*out = crl;
	return 0;
}

/* 1 if the DER CRL is the CA's and newer than the CRL in force, 0 if
 * it is not newer, or PPX_ECRL. */
static int crl_newer_than_held(const ppx_trust *self, const uint8_t *der,
			       size_t len)
{
	X509_CRL *crl = NULL;
	const char *what = NULL;
	int rc = crl_from_der(&crl, der, len);

	if (rc != 0)
		return rc;
	if (!crl_signed_by_ca(self, crl)) {
		X509_CRL_free(crl);
		return ppx_error_set(PPX_ECRL, "CRL (DER) is not signed by the "
				     "federation CA");
	}
	rc = !self->crl || crl_order(crl, self->crl, &what) > 0;
	/* Newer: whatever else ppx_trust_reload_crl_der() would refuse it
	 * for, so that a CRL judged here can be logged before it is put in
	 * force. */
	if (rc == 1 && crl_acceptable(self, crl, "(DER)") != 0)
		rc = PPX_ECRL;
	X509_CRL_free(crl);
	return rc;
}

int ppx_trust_crl_newer(const ppx_trust *self, const uint8_t *der,
			size_t len)
{
	return crl_newer_than_held(self, der, len);
}

int ppx_trust_crl_der(const ppx_trust *self, uint8_t **out, size_t *len)
{
	unsigned char *der = NULL;
	int n;

	*out = NULL;
	*len = 0;
	if (!self->crl)
		return ppx_error_set(PPX_ENOTFOUND, "no CRL is held");
	n = i2d_X509_CRL(self->crl, &der);
	if (n <= 0)
		return ppx_error_set(PPX_ECRYPTO, "cannot encode the CRL");
	*out = malloc((size_t)n);
	if (!*out) {
		OPENSSL_free(der);
		return ppx_error_set(PPX_ENOMEM, "out of memory");
	}
	memcpy(*out, der, (size_t)n);
	*len = (size_t)n;
	OPENSSL_free(der);
	return 0;
}

unsigned ppx_trust_crl_generation(const ppx_trust *self)
{
	return self->crl_generation;
}

uint64_t ppx_trust_crl_number(const ppx_trust *self)
{
	ASN1_INTEGER *n = self->crl ? crl_number(self->crl) : NULL;
	uint64_t v = 0;

	if (n && ASN1_INTEGER_get_uint64(&v, n) != 1)
		v = 0;
	ASN1_INTEGER_free(n);
	return v;
}
int ppx_trust_reload_crl_der(ppx_trust *self, const uint8_t *der, size_t len)
{
	X509_CRL *crl = NULL;
	int rc = crl_newer_than_held(self, der, len);

	if (rc < 0)
		return rc;
	if (rc == 0)
		return ppx_error_set(PPX_ECRL, "CRL (DER) is not newer than the "
				     "CRL in force: refused");
	rc = crl_from_der(&crl, der, len);
	if (rc != 0)
		return rc;
	return install_crl(self, crl, "(DER)");
}
