/*
 * pki_cert.c — a certificate as libppx hands it out: ppx_cert, an X509
 * behind a type of ppx's own.
 *
 * Programs that use libppx judge certificates through ppx_trust and sign
 * and verify through ppx_signer and ppx_cert_verify_signature(); none of
 * them needs OpenSSL's types to do so.  The X509 stays in here and in
 * lib/pki.c, which reaches it through ppxi_cert_x509() (lib/pki_int.h).
 * This file reads a certificate and what callers read off it: the
 * fingerprint, the subject line, the dates and serial number, and the
 * X25519 key of a transport certificate.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "ppx/error.h"
#include "pki_int.h"

struct ppx_cert {
	X509 *x509;
};

X509 *ppxi_cert_x509(const ppx_cert *cert)
{
	return cert->x509;
}

int ppxi_cert_adopt(ppx_cert **out, X509 *x509)
{
	ppx_cert *c = calloc(1, sizeof(*c));

	*out = NULL;
	if (!c) {
		X509_free(x509);
		return ppx_error_set(PPX_ENOMEM, "out of memory");
	}
	c->x509 = x509;
	*out = c;
	return 0;
}

void ppx_cert_free(ppx_cert *self)
{
	if (!self)
		return;
	X509_free(self->x509);
	free(self);
}

int ppx_cert_load(ppx_cert **out, const char *path)
{
	BIO *bio = BIO_new_file(path, "r");
	X509 *x509;

	*out = NULL;
	if (!bio)
		return ppx_error_set(PPX_ENOTFOUND,
				     "cannot open certificate %s", path);
	x509 = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	BIO_free(bio);
	if (!x509)
		return ppx_error_set(PPX_EINVAL, "cannot read certificate %s: "
				     "not PEM X.509", path);
	return ppxi_cert_adopt(out, x509);
}

int ppx_cert_from_der(ppx_cert **out, const uint8_t *der, size_t len)
{
	const unsigned char *p = der;
	unsigned char *again = NULL;
	X509 *x509;
	int n;

	*out = NULL;
	if (len == 0 || len > 65536)
		return ppx_error_set(PPX_EINVAL, "certificate of %zu bytes: "
				     "expected DER X.509 of 1 to 65536 bytes",
				     len);
	x509 = d2i_X509(NULL, &p, (long)len);
	if (!x509 || p != der + len) {
		X509_free(x509);
		return ppx_error_set(PPX_EINVAL, "certificate does not decode "
				     "as one DER X.509 certificate");
	}
	n = i2d_X509(x509, &again);
	if (n < 0 || (size_t)n != len || memcmp(again, der, len) != 0) {
		OPENSSL_free(again);
		X509_free(x509);
		return ppx_error_set(PPX_EINVAL, "certificate is not in DER "
				     "(it does not re-encode to its bytes)");
	}
	OPENSSL_free(again);
	return ppxi_cert_adopt(out, x509);
}

int ppx_cert_der(uint8_t **out, size_t *len, const ppx_cert *cert)
{
	unsigned char *der = NULL;
	int n = i2d_X509(cert->x509, &der);

	*out = NULL;
	if (n <= 0)
		return ppx_error_set(PPX_ECRYPTO, "cannot encode a certificate");
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

int ppx_cert_fingerprint(const ppx_cert *cert,
			 uint8_t out[PPX_FINGERPRINT_LEN])
{
	unsigned int len = 0;

	if (X509_digest(cert->x509, EVP_sha256(), out, &len) != 1 ||
	    len != PPX_FINGERPRINT_LEN)
		return ppx_error_set(PPX_ECRYPTO, "cannot hash certificate");
	return 0;
}

/* OpenSSL's own cut drops whole name entries; this one cuts at `cap`. */
void ppx_cert_subject(const ppx_cert *cert, char *out, size_t cap)
{
	char *line;

	if (cap == 0)
		return;
	line = X509_NAME_oneline(X509_get_subject_name(cert->x509), NULL, 0);
	snprintf(out, cap, "%s", line ? line : "(no subject)");
	OPENSSL_free(line);
}

int ppx_cert_x25519_public(const ppx_cert *cert, uint8_t out[32])
{
	EVP_PKEY *key = X509_get0_pubkey(cert->x509);
	size_t len = 32;

	if (!key || EVP_PKEY_get_base_id(key) != EVP_PKEY_X25519 ||
	    EVP_PKEY_get_raw_public_key(key, out, &len) != 1 || len != 32)
		return ppx_error_set(PPX_EINVAL,
				     "certificate does not hold an X25519 key");
	return 0;
}

static time_t cert_time(const ASN1_TIME *t)
{
	struct tm tm;

	if (!t || ASN1_TIME_to_tm(t, &tm) != 1)
		return 0;
	return timegm(&tm);
}

void ppx_cert_dates(const ppx_cert *cert, time_t *not_before,
		    time_t *not_after)
{
	*not_before = cert_time(X509_get0_notBefore(cert->x509));
	*not_after = cert_time(X509_get0_notAfter(cert->x509));
}

void ppx_cert_serial_hex(const ppx_cert *cert, char *out, size_t cap)
{
	BIGNUM *bn;
	char *hex = NULL;

	if (cap == 0)
		return;
	bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert->x509), NULL);
	if (bn)
		hex = BN_bn2hex(bn);
	if (hex)
		for (char *p = hex; *p; p++)
			if (*p >= 'A' && *p <= 'F')
				*p = (char)(*p - 'A' + 'a');
	snprintf(out, cap, "%s", hex ? hex : "?");
	OPENSSL_free(hex);
	BN_free(bn);
}
