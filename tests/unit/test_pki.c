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
#include "pki_forge.h"
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

static ppx_cert *load(const char *rel)
{
	ppx_cert *c = NULL;

	assert_int_equal(ppx_cert_load(&c, pki_path(rel)), 0);
	return c;
}

static void test_pki__transport_cert_binds_agency_to_curve_key(void **state)
{
	ppx_trust *t = trust_demo();
	ppx_cert *c = load("agencies/probation.gwent/transport.crt");
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
	ppx_cert_free(c);
	ppx_trust_free(t);
}

/* The subject names the certificate in messages (zap.c's refusals):
 * agency and role are in it, and a short buffer still ends in NUL. */
static void test_pki__subject_names_agency_and_role(void **state)
{
	ppx_cert *c = load("agencies/police.gwent/transport.crt");
	char line[256], cut[8];

	(void)state;
	ppx_cert_subject(c, line, sizeof(line));
	assert_non_null(strstr(line, "O=police.gwent"));
	assert_non_null(strstr(line, "OU=transport"));
	memset(cut, 'x', sizeof(cut));
	ppx_cert_subject(c, cut, sizeof(cut));
	assert_int_equal(strlen(cut), sizeof(cut) - 1);
	assert_memory_equal(cut, line, sizeof(cut) - 1);
	ppx_cert_free(c);
}

static void test_pki__certificate_used_in_wrong_role_is_refused(void **state)
{
	ppx_trust *t = trust_demo();
	ppx_cert *transport = load("agencies/police.gwent/transport.crt");
	ppx_cert *signing = load("agencies/police.gwent/signing.crt");
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
	ppx_cert_free(transport);
	ppx_cert_free(signing);
	ppx_trust_free(t);
}

static void test_pki__revoked_transport_cert_is_refused(void **state)
{
	ppx_trust *t = trust_demo();
	ppx_cert *c = load("test/revoked/housing.newport/transport.crt");
	ppx_identity id;

	(void)state;
	assert_int_equal(ppx_trust_check(t, c, time(NULL), PPX_ROLE_TRANSPORT,
					 &id),
			 PPX_EREVOKED);
	ppx_cert_free(c);
	ppx_trust_free(t);
}

static void test_pki__expired_and_future_transport_certs_are_refused(
	void **state)
{
	ppx_trust *t = trust_demo();
	ppx_cert *old = load("test/expired/police.gwent/transport.crt");
	ppx_cert *future = load("test/notyet/police.gwent/transport.crt");
	ppx_identity id;

	(void)state;
	assert_int_equal(ppx_trust_check(t, old, time(NULL), PPX_ROLE_TRANSPORT,
					 &id),
			 PPX_EEXPIRED);
	assert_int_equal(ppx_trust_check(t, future, time(NULL),
					 PPX_ROLE_TRANSPORT, &id),
			 PPX_ENOTYETVALID);
	ppx_cert_free(old);
	ppx_cert_free(future);
	ppx_trust_free(t);
}

static void test_pki__crl_from_another_ca_is_refused_and_old_kept(void **state)
{
	ppx_trust *t = trust_demo();
	ppx_cert *c = load("test/revoked/police.gwent/signing.crt");
	ppx_identity id;

	(void)state;
	assert_int_equal(ppx_trust_reload_crl(t, pki_path("test/rogue-ca/crl.pem")),
			 PPX_ECRL);
	/* The federation CRL still applies. */
	assert_int_equal(ppx_trust_check(t, c, time(NULL), PPX_ROLE_SIGNING,
					 &id),
			 PPX_EREVOKED);
	assert_int_equal(ppx_trust_reload_crl(t, pki_path("ca/crl.pem")), 0);
	ppx_cert_free(c);
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
	ppx_cert *c = load("agencies/prison.cardiff/signing.crt");
	uint8_t fp[PPX_FINGERPRINT_LEN];

	(void)state;
	assert_int_equal(ppx_cert_fingerprint(c, fp), 0);
	assert_non_null(ppx_trust_find(t, fp));
	fp[0] ^= 1;
	assert_null(ppx_trust_find(t, fp));
	ppx_cert_free(c);
	ppx_trust_free(t);
}

/* A verdict remembered for speed never outlives the certificate's
 * validity or the CRL's nextUpdate, and never covers another role. */
static void test_pki__cached_verdict_expires_with_crl_and_role(void **state)
{
	ppx_trust *t = trust_demo();
	time_t now = time(NULL);
	const ppx_cert *known = ppx_trust_find_agency(t, "police.gwent",
						      PPX_ROLE_SIGNING, now);
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

#define REVOKED_SIGNING "test/revoked/police.gwent/signing.crt"

/* The demo trust, but loaded with a CRL that revokes REVOKED_SIGNING,
 * with `number` (< 0: none) and thisUpdate `when`, written to `path`.
 * (Not the demo CRL and then this one: a demo PKI made a moment ago has
 * a CRL newer than `when`.) */
static ppx_trust *trust_with_crl(const char *path, long number, time_t when)
{
	ppx_trust *t = NULL;
	struct forge_crl spec = {number, when, when + 86400,
				 {REVOKED_SIGNING, NULL}};
	char ca[2048];

	forge_crl_write(path, &spec);
	snprintf(ca, sizeof(ca), "%s", pki_path("ca/ca.crt"));
	if (ppx_trust_load(&t, ca, path, pki_path("certs")) != 0)
		fail_msg("cannot load trust with CRL %s: %s", path,
			 ppx_error_last());
	return t;
}

static int revoked_signing_status(const ppx_trust *t)
{
	ppx_cert *c = load(REVOKED_SIGNING);
	ppx_identity id;
	int rc = ppx_trust_check(t, c, time(NULL), PPX_ROLE_SIGNING, &id);

	ppx_cert_free(c);
	return rc;
}

/* A CRL without nextUpdate would never go stale: refused when the trust
 * is loaded and on reload, where the CRL in force stays. */
static void test_pki__crl_without_next_update_is_refused(void **state)
{
	char *dir = tmpdir_new();
	char path[4096], ca[2048];
	time_t now = time(NULL);
	struct forge_crl spec = {5000, now - 60, 0, {NULL}};
	ppx_trust *t = NULL;

	(void)state;
	snprintf(path, sizeof(path), "%s/no-next.pem", dir);
	snprintf(ca, sizeof(ca), "%s", pki_path("ca/ca.crt"));
	forge_crl_write(path, &spec);
	assert_int_equal(ppx_trust_load(&t, ca, path, NULL), PPX_ECRL);
	assert_null(t);
	assert_non_null(strstr(ppx_error_last(), "no nextUpdate"));
	assert_non_null(strstr(ppx_error_last(), path));
	t = trust_demo();
	assert_int_equal(ppx_trust_reload_crl(t, path), PPX_ECRL);
	assert_non_null(strstr(ppx_error_last(), "no nextUpdate"));
	assert_int_equal(revoked_signing_status(t), PPX_EREVOKED);
	ppx_trust_free(t);
	tmpdir_remove(dir);
}

/* An older CRL (lower crlNumber) would un-revoke: refused, even with a
 * later thisUpdate; the CRL in force stays.  A newer one is taken. */
static void test_pki__older_crl_by_number_is_refused_and_held_one_stays(
	void **state)
{
	char *dir = tmpdir_new();
	char held[4096], old[4096], newer[4096];
	time_t now = time(NULL);
	struct forge_crl older = {4999, now - 10, now + 86400, {NULL}};
	struct forge_crl next = {5001, now - 100, now + 86400, {NULL}};
	ppx_trust *t;

	(void)state;
	snprintf(held, sizeof(held), "%s/held.pem", dir);
	snprintf(old, sizeof(old), "%s/old.pem", dir);
	snprintf(newer, sizeof(newer), "%s/newer.pem", dir);
	t = trust_with_crl(held, 5000, now - 60);
	forge_crl_write(old, &older);
	assert_int_equal(ppx_trust_reload_crl(t, old), PPX_ECRL);
	assert_non_null(strstr(ppx_error_last(), "older (by crlNumber)"));
	assert_non_null(strstr(ppx_error_last(), old));
	assert_int_equal(revoked_signing_status(t), PPX_EREVOKED);
	forge_crl_write(newer, &next);	/* the CA lifted the revocation */
	assert_int_equal(ppx_trust_reload_crl(t, newer), 0);
	assert_int_equal(revoked_signing_status(t), 0);
	ppx_trust_free(t);
	tmpdir_remove(dir);
}

/* Without crlNumber on both sides, thisUpdate decides. */
static void test_pki__older_crl_by_this_update_is_refused(void **state)
{
	char *dir = tmpdir_new();
	char held[4096], old[4096];
	time_t now = time(NULL);
	struct forge_crl older = {-1, now - 120, now + 86400, {NULL}};
	ppx_trust *t;

	(void)state;
	snprintf(held, sizeof(held), "%s/held.pem", dir);
	snprintf(old, sizeof(old), "%s/old.pem", dir);
	t = trust_with_crl(held, -1, now - 60);
	forge_crl_write(old, &older);
	assert_int_equal(ppx_trust_reload_crl(t, old), PPX_ECRL);
	assert_non_null(strstr(ppx_error_last(), "older (by thisUpdate)"));
	assert_int_equal(revoked_signing_status(t), PPX_EREVOKED);
	ppx_trust_free(t);
	tmpdir_remove(dir);
}

/* The same CRL again is taken; another CRL of the same number only if it
 * lists every certificate the CRL in force revokes. */
static void test_pki__same_numbered_crl_must_keep_every_revocation(
	void **state)
{
	char *dir = tmpdir_new();
	char held[4096], fewer[4096], more[4096];
	time_t now = time(NULL);
	struct forge_crl less = {5000, now - 30, now + 86400, {NULL}};
	struct forge_crl plus = {5000, now - 30, now + 86400,
				 {REVOKED_SIGNING,
				  "agencies/prison.cardiff/signing.crt", NULL}};
	ppx_trust *t;

	(void)state;
	snprintf(held, sizeof(held), "%s/held.pem", dir);
	snprintf(fewer, sizeof(fewer), "%s/fewer.pem", dir);
	snprintf(more, sizeof(more), "%s/more.pem", dir);
	t = trust_with_crl(held, 5000, now - 60);
	assert_int_equal(ppx_trust_reload_crl(t, held), 0);
	forge_crl_write(fewer, &less);
	assert_int_equal(ppx_trust_reload_crl(t, fewer), PPX_ECRL);
	assert_non_null(strstr(ppx_error_last(), "same crlNumber"));
	assert_int_equal(revoked_signing_status(t), PPX_EREVOKED);
	forge_crl_write(more, &plus);
	assert_int_equal(ppx_trust_reload_crl(t, more), 0);
	assert_int_equal(revoked_signing_status(t), PPX_EREVOKED);
	ppx_trust_free(t);
	tmpdir_remove(dir);
}

/* Without keyUsage, X509_get_key_usage() allows everything: such a
 * certificate is refused in every role, while the same certificate with
 * its key usage passes. */
static void test_pki__certificate_without_key_usage_is_refused_in_every_role(
	void **state)
{
	static const struct {
		const char *role;
		enum ppx_cert_role as;
		const char *ku;
	} cases[] = {
		{"signing", PPX_ROLE_SIGNING, "critical,digitalSignature"},
		{"transport", PPX_ROLE_TRANSPORT, "critical,keyAgreement"},
		{"person", PPX_ROLE_PERSON, "critical,digitalSignature"},
	};
	ppx_trust *t = trust_demo();
	ppx_identity id;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ppx_cert *bare = forge_cert("police.gwent", cases[i].role,
					    NULL);
		ppx_cert *good = forge_cert("police.gwent", cases[i].role,
					    cases[i].ku);

		assert_int_equal(ppx_trust_check(t, bare, time(NULL),
						 cases[i].as, &id),
				 PPX_EUNTRUSTED);
		assert_non_null(strstr(ppx_error_last(), "no keyUsage"));
		assert_int_equal(ppx_trust_check(t, bare, 0, cases[i].as, &id),
				 PPX_EUNTRUSTED);
		assert_int_equal(ppx_trust_check(t, good, time(NULL),
						 cases[i].as, &id),
				 0);
		ppx_cert_free(bare);
		ppx_cert_free(good);
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
		cmocka_unit_test(test_pki__subject_names_agency_and_role),
		cmocka_unit_test(test_pki__certificate_used_in_wrong_role_is_refused),
		cmocka_unit_test(test_pki__revoked_transport_cert_is_refused),
		cmocka_unit_test(test_pki__expired_and_future_transport_certs_are_refused),
		cmocka_unit_test(test_pki__crl_from_another_ca_is_refused_and_old_kept),
		cmocka_unit_test(test_pki__trust_without_crl_cannot_be_loaded),
		cmocka_unit_test(test_pki__known_certificates_found_by_fingerprint),
		cmocka_unit_test(test_pki__cached_verdict_expires_with_crl_and_role),
		cmocka_unit_test(test_pki__crl_without_next_update_is_refused),
		cmocka_unit_test(test_pki__older_crl_by_number_is_refused_and_held_one_stays),
		cmocka_unit_test(test_pki__older_crl_by_this_update_is_refused),
		cmocka_unit_test(test_pki__same_numbered_crl_must_keep_every_revocation),
		cmocka_unit_test(test_pki__certificate_without_key_usage_is_refused_in_every_role),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
