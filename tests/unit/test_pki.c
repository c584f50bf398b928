/*
 * test_pki.c — certificates, roles, CRLs and private key files.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "ppx/error.h"
#include "ppx/pki.h"
#include "support.h"

/* Copy a fixture file into `dir` with `mode`; returns the new path. */
static char *copy_with_mode(const char *dir, const char *src, mode_t mode)
{
	static char path[4096];
	FILE *in = fopen(src, "rb"), *out;
	char buf[4096];
	size_t n;

	assert_non_null(in);
	snprintf(path, sizeof(path), "%s/copy.key", dir);
	out = fopen(path, "wb");
	assert_non_null(out);
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		assert_int_equal(fwrite(buf, 1, n, out), n);
	fclose(in);
	fclose(out);
	assert_int_equal(chmod(path, mode), 0);
	return path;
}

static void test_pki__key_readable_by_others_is_refused(void **state)
{
	char *dir = tmpdir_new();
	ppx_signer *s = NULL;
	char *key;

	(void)state;
	key = copy_with_mode(dir,
			     pki_path("agencies/police.gwent/signing.key"),
			     0644);
	assert_int_equal(ppx_signer_load(&s, key,
					 pki_path("agencies/police.gwent/signing.crt")),
			 PPX_EPERM);
	assert_null(s);
	assert_non_null(strstr(ppx_error_last(), "must be 0600"));
	assert_non_null(strstr(ppx_error_last(), key));
	tmpdir_remove(dir);
}

static void test_pki__key_with_0600_loads(void **state)
{
	char *dir = tmpdir_new();
	ppx_signer *s = NULL;
	char *key;

	(void)state;
	key = copy_with_mode(dir,
			     pki_path("agencies/police.gwent/signing.key"),
			     0600);
	assert_int_equal(ppx_signer_load(&s, key,
					 pki_path("agencies/police.gwent/signing.crt")),
			 0);
	assert_string_equal(ppx_signer_agency(s), "police.gwent");
	assert_int_equal(ppx_signer_algorithm(s),
			 PPX__V1__SIGNATURE_ALGORITHM__SIG_ED25519);
	ppx_signer_free(s);
	tmpdir_remove(dir);
}

static void test_pki__key_not_matching_certificate_is_refused(void **state)
{
	ppx_signer *s = NULL;
	char key[2048];

	(void)state;
	snprintf(key, sizeof(key), "%s",
		 pki_path("agencies/police.gwent/signing.key"));
	assert_int_equal(ppx_signer_load(&s, key,
					 pki_path2("agencies/probation.gwent/signing.crt")),
			 PPX_EINVAL);
	assert_null(s);
}

static void test_pki__missing_key_names_the_file(void **state)
{
	ppx_signer *s = NULL;

	(void)state;
	assert_int_equal(ppx_signer_load(&s, "/nonexistent/ppx.key",
					 pki_path("agencies/police.gwent/signing.crt")),
			 PPX_ENOTFOUND);
	assert_non_null(strstr(ppx_error_last(), "/nonexistent/ppx.key"));
}

static void test_pki__signature_verifies_and_forgery_does_not(void **state)
{
	ppx_signer *s = signer_at("police.gwent");
	const uint8_t msg[] = "release date 2026-12-01";
	uint8_t sig[PPX_SIG_MAX];
	size_t len = 0;

	(void)state;
	assert_int_equal(ppx_signer_sign(s, sig, sizeof(sig), &len, msg,
					 sizeof(msg)),
			 0);
	assert_int_equal(ppx_cert_verify_signature(ppx_signer_cert(s), sig, len,
						   msg, sizeof(msg)),
			 0);
	sig[3] ^= 0x40;
	assert_int_equal(ppx_cert_verify_signature(ppx_signer_cert(s), sig, len,
						   msg, sizeof(msg)),
			 PPX_EBADSIG);
	ppx_signer_free(s);
}

static X509 *load(const char *rel)
{
	X509 *c = NULL;

	assert_int_equal(ppx_cert_load(&c, pki_path(rel)), 0);
	return c;
}

static void test_pki__transport_cert_binds_agency_to_curve_key(void **state)
{
	ppx_trust *t = trust_demo();
	X509 *c = load("agencies/probation.gwent/transport.crt");
	uint8_t secret[32], pub[32], from_cert[32];
	ppx_identity id;

	(void)state;
	assert_int_equal(ppx_trust_check(t, c, time(NULL), PPX_ROLE_TRANSPORT,
					 &id),
			 0);
	assert_string_equal(id.agency, "probation.gwent");
	assert_int_equal(ppx_cert_x25519_public(c, from_cert), 0);
	assert_int_equal(ppx_transport_key_load(secret, pub,
						pki_path("agencies/probation.gwent/transport.key")),
			 0);
	assert_memory_equal(pub, from_cert, 32);
	ppx_wipe(secret, sizeof(secret));
	X509_free(c);
	ppx_trust_free(t);
}

static void test_pki__certificate_used_in_wrong_role_is_refused(void **state)
{
	ppx_trust *t = trust_demo();
	X509 *transport = load("agencies/police.gwent/transport.crt");
	X509 *signing = load("agencies/police.gwent/signing.crt");
	ppx_identity id;

	(void)state;
	assert_int_equal(ppx_trust_check(t, transport, time(NULL),
					 PPX_ROLE_SIGNING, &id),
			 PPX_EUNTRUSTED);
	assert_int_equal(ppx_trust_check(t, signing, time(NULL),
					 PPX_ROLE_TRANSPORT, &id),
			 PPX_EUNTRUSTED);
	assert_int_equal(ppx_trust_check(t, signing, time(NULL),
					 PPX_ROLE_SIGNING, &id),
			 0);
	X509_free(transport);
	X509_free(signing);
	ppx_trust_free(t);
}

static void test_pki__revoked_transport_cert_is_refused(void **state)
{
	ppx_trust *t = trust_demo();
	X509 *c = load("test/revoked/housing.newport/transport.crt");
	ppx_identity id;

	(void)state;
	assert_int_equal(ppx_trust_check(t, c, time(NULL), PPX_ROLE_TRANSPORT,
					 &id),
			 PPX_EREVOKED);
	X509_free(c);
	ppx_trust_free(t);
}

static void test_pki__expired_and_future_transport_certs_are_refused(
	void **state)
{
	ppx_trust *t = trust_demo();
	X509 *old = load("test/expired/police.gwent/transport.crt");
	X509 *future = load("test/notyet/police.gwent/transport.crt");
	ppx_identity id;

	(void)state;
	assert_int_equal(ppx_trust_check(t, old, time(NULL), PPX_ROLE_TRANSPORT,
					 &id),
			 PPX_EEXPIRED);
	assert_int_equal(ppx_trust_check(t, future, time(NULL),
					 PPX_ROLE_TRANSPORT, &id),
			 PPX_ENOTYETVALID);
	X509_free(old);
	X509_free(future);
	ppx_trust_free(t);
}

static void test_pki__crl_from_another_ca_is_refused_and_old_kept(void **state)
{
	ppx_trust *t = trust_demo();
	X509 *c = load("test/revoked/police.gwent/signing.crt");
	ppx_identity id;

	(void)state;
	assert_int_equal(ppx_trust_reload_crl(t, pki_path("test/rogue-ca/crl.pem")),
			 PPX_ECRL);
	/* The federation CRL still applies. */
	assert_int_equal(ppx_trust_check(t, c, time(NULL), PPX_ROLE_SIGNING,
					 &id),
			 PPX_EREVOKED);
	assert_int_equal(ppx_trust_reload_crl(t, pki_path("ca/crl.pem")), 0);
	X509_free(c);
	ppx_trust_free(t);
}

static void test_pki__trust_without_crl_cannot_be_loaded(void **state)
{
	ppx_trust *t = NULL;
	char ca[2048];

	(void)state;
	snprintf(ca, sizeof(ca), "%s", pki_path("ca/ca.crt"));
	assert_int_equal(ppx_trust_load(&t, ca, "/nonexistent/crl.pem", NULL),
			 PPX_ECRL);
	assert_null(t);
}

static void test_pki__known_certificates_found_by_fingerprint(void **state)
{
	ppx_trust *t = trust_demo();
	X509 *c = load("agencies/prison.cardiff/signing.crt");
	uint8_t fp[PPX_FINGERPRINT_LEN];

	(void)state;
	assert_int_equal(ppx_cert_fingerprint(c, fp), 0);
	assert_non_null(ppx_trust_find(t, fp));
	fp[0] ^= 1;
	assert_null(ppx_trust_find(t, fp));
	X509_free(c);
	ppx_trust_free(t);
}

/* A verdict remembered for speed never outlives the certificate's
 * validity or the CRL's nextUpdate, and never covers another role. */
static void test_pki__cached_verdict_expires_with_crl_and_role(void **state)
{
	ppx_trust *t = trust_demo();
	time_t now = time(NULL);
	X509 *known = ppx_trust_find_agency(t, "police.gwent", PPX_ROLE_SIGNING,
					     now);
	ppx_identity id;

	(void)state;
	assert_non_null(known);	/* finding it checked it: the verdict is kept */
	assert_int_equal(ppx_trust_check(t, known, now + 90 * 86400,
					 PPX_ROLE_SIGNING, &id),
			 PPX_ECRL);
	assert_int_equal(ppx_trust_check(t, known, now - 10 * 365 * 86400,
					 PPX_ROLE_SIGNING, &id),
			 PPX_ENOTYETVALID);
	assert_int_equal(ppx_trust_check(t, known, now, PPX_ROLE_TRANSPORT, &id),
			 PPX_EUNTRUSTED);
	assert_int_equal(ppx_trust_check(t, known, now, PPX_ROLE_SIGNING, &id),
			 0);
	assert_string_equal(id.agency, "police.gwent");
	/* History (now == 0): remembered once made, still by role. */
	for (int i = 0; i < 2; i++) {
		memset(&id, 0, sizeof(id));
		assert_int_equal(ppx_trust_check(t, known, 0, PPX_ROLE_SIGNING,
						 &id),
				 0);
		assert_string_equal(id.agency, "police.gwent");
		assert_int_equal(ppx_trust_check(t, known, 0,
						 PPX_ROLE_TRANSPORT, &id),
				 PPX_EUNTRUSTED);
	}
	ppx_trust_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pki__key_readable_by_others_is_refused),
		cmocka_unit_test(test_pki__key_with_0600_loads),
		cmocka_unit_test(test_pki__key_not_matching_certificate_is_refused),
		cmocka_unit_test(test_pki__missing_key_names_the_file),
		cmocka_unit_test(test_pki__signature_verifies_and_forgery_does_not),
		cmocka_unit_test(test_pki__transport_cert_binds_agency_to_curve_key),
		cmocka_unit_test(test_pki__certificate_used_in_wrong_role_is_refused),
		cmocka_unit_test(test_pki__revoked_transport_cert_is_refused),
		cmocka_unit_test(test_pki__expired_and_future_transport_certs_are_refused),
		cmocka_unit_test(test_pki__crl_from_another_ca_is_refused_and_old_kept),
		cmocka_unit_test(test_pki__trust_without_crl_cannot_be_loaded),
		cmocka_unit_test(test_pki__known_certificates_found_by_fingerprint),
		cmocka_unit_test(test_pki__cached_verdict_expires_with_crl_and_role),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
