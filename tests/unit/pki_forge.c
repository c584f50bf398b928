/*
 * pki_forge.c — CRLs and certificates made with the demo CA's key and
 * OpenSSL's API, for the cases ppx-pki never produces (see pki_forge.h).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "pki_forge.h"
#include "ppx/error.h"
#include "ppx/pki.h"
#include "../../lib/pki_int.h"
#include "support.h"

static EVP_PKEY *ca_key(void)
{
	FILE *f = fopen(pki_path("ca/ca.key"), "r");
	EVP_PKEY *k;

	assert_non_null(f);
	k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	assert_non_null(k);
	return k;
}

/* A demo PKI certificate as OpenSSL's own, to forge with. */
static X509 *x509_load(const char *rel)
{
	FILE *f = fopen(pki_path(rel), "r");
	X509 *c;

	assert_non_null(f);
	c = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	assert_non_null(c);
	return c;
}

static X509 *ca_cert(void)
{
	return x509_load("ca/ca.crt");
}

static void crl_revoke(X509_CRL *crl, const char *rel, const ASN1_TIME *when)
{
	X509 *c = x509_load(rel);
	X509_REVOKED *r = X509_REVOKED_new();

	assert_non_null(r);
	assert_int_equal(X509_REVOKED_set_serialNumber(
				 r, X509_get_serialNumber(c)), 1);
	assert_int_equal(X509_REVOKED_set_revocationDate(r, (ASN1_TIME *)when),
			 1);
	assert_int_equal(X509_CRL_add0_revoked(crl, r), 1);
	X509_free(c);
}

static void crl_number_set(X509_CRL *crl, long number)
{
	ASN1_INTEGER *n = ASN1_INTEGER_new();

	assert_non_null(n);
	assert_int_equal(ASN1_INTEGER_set(n, number), 1);
	assert_int_equal(X509_CRL_add1_ext_i2d(crl, NID_crl_number, n, 0, 0),
			 1);
	ASN1_INTEGER_free(n);
}

void forge_crl_write(const char *path, const struct forge_crl *spec)
{
	X509 *ca = ca_cert();
	EVP_PKEY *key = ca_key();
	X509_CRL *crl = X509_CRL_new();
	ASN1_TIME *t = ASN1_TIME_set(NULL, spec->this_update);
	FILE *f;

	assert_non_null(crl);
	assert_int_equal(X509_CRL_set_version(crl, X509_CRL_VERSION_2), 1);
	assert_int_equal(X509_CRL_set_issuer_name(crl,
						  X509_get_subject_name(ca)),
			 1);
	assert_int_equal(X509_CRL_set1_lastUpdate(crl, t), 1);
	for (int i = 0; i < 4 && spec->revoked[i]; i++)
		crl_revoke(crl, spec->revoked[i], t);
	assert_int_equal(X509_CRL_sort(crl), 1);
	if (spec->next_update) {
		ASN1_TIME_free(t);
		t = ASN1_TIME_set(NULL, spec->next_update);
		assert_int_equal(X509_CRL_set1_nextUpdate(crl, t), 1);
	}
	if (spec->number >= 0)
		crl_number_set(crl, spec->number);
	assert_true(X509_CRL_sign(crl, key, NULL) > 0);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(PEM_write_X509_CRL(f, crl), 1);
	fclose(f);
	ASN1_TIME_free(t);
	X509_CRL_free(crl);
	EVP_PKEY_free(key);
	X509_free(ca);
}

static void cert_ext(X509 *cert, X509 *ca, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;

	X509V3_set_ctx(&ctx, ca, cert, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	assert_non_null(ext);
	assert_int_equal(X509_add_ext(cert, ext, -1), 1);
	X509_EXTENSION_free(ext);
}

static void cert_name(X509 *cert, const char *agency, const char *role)
{
	X509_NAME *n = X509_get_subject_name(cert);
	const unsigned char *o = (const unsigned char *)agency;
	const unsigned char *ou = (const unsigned char *)role;

	assert_int_equal(X509_NAME_add_entry_by_txt(n, "O", MBSTRING_UTF8, o,
						    -1, -1, 0), 1);
	assert_int_equal(X509_NAME_add_entry_by_txt(n, "OU", MBSTRING_UTF8, ou,
						    -1, -1, 0), 1);
	assert_int_equal(X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8, o,
						    -1, -1, 0), 1);
}

ppx_cert *forge_cert(const char *agency, const char *role,
		     const char *key_usage)
{
	return forge_cert_like(agency, role, key_usage, NULL);
}

ppx_cert *forge_cert_like(const char *agency, const char *role,
			  const char *key_usage, const ppx_cert *like)
{
	ppx_cert *out = NULL;
	static long serial = 0x7000;
	X509 *ca = ca_cert(), *c = X509_new();
	EVP_PKEY *key = ca_key();
	EVP_PKEY *own = like ? X509_get_pubkey(ppxi_cert_x509(like)) :
		EVP_PKEY_Q_keygen(NULL, NULL, strcmp(role, "transport") == 0
						      ? "X25519" : "ED25519");

	assert_non_null(c);
	assert_non_null(own);
	assert_int_equal(X509_set_version(c, X509_VERSION_3), 1);
	assert_int_equal(ASN1_INTEGER_set(X509_get_serialNumber(c), serial++),
			 1);
	assert_int_equal(X509_set_issuer_name(c, X509_get_subject_name(ca)),
			 1);
	cert_name(c, agency, role);
	assert_non_null(X509_gmtime_adj(X509_getm_notBefore(c), -3600));
	assert_non_null(X509_gmtime_adj(X509_getm_notAfter(c), 86400));
	assert_int_equal(X509_set_pubkey(c, own), 1);
	cert_ext(c, ca, NID_basic_constraints, "critical,CA:FALSE");
	if (key_usage)
		cert_ext(c, ca, NID_key_usage, key_usage);
	assert_true(X509_sign(c, key, NULL) > 0);
	EVP_PKEY_free(own);
	EVP_PKEY_free(key);
	X509_free(ca);
	assert_int_equal(ppxi_cert_adopt(&out, c), 0);
	return out;
}

void forge_cert_write(const char *path, const ppx_cert *cert)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(PEM_write_X509(f, ppxi_cert_x509(cert)), 1);
	fclose(f);
}
