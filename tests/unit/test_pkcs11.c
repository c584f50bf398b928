/*
 * test_pkcs11.c — the PKCS#11 signer (lib/pkcs11.c, lib/pkcs11_uri.c,
 * lib/signer_open.c) against a real SoftHSM2 token.
 *
 * The group setup makes a token in a temporary directory (SOFTHSM2_CONF
 * points at a config written there), imports the demo police.gwent and
 * probation.gwent Ed25519 signing keys and a P-256 key made for the test
 * with its own certificate, with softhsm2-util, the tool an agency would
 * use; and both demo keys once more under one label ("twice").  Nothing
 * is mocked: the signer loads libsofthsm2.so with dlopen.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "ppx/config.h"
#include "ppx/error.h"
#include "ppx/pkcs11.h"
#include "ppx/pki.h"
#include "ppx/signer_open.h"
#include "ppx.pb-c.h"
#include "support.h"

#define MODULE "/usr/lib/softhsm/libsofthsm2.so"
#define TOKEN "ppxtest"
#define URI_POLICE "pkcs11:token=" TOKEN ";object=police;type=private"
#define URI_PROBATION "pkcs11:token=" TOKEN ";id=%02"
#define URI_P256 "pkcs11:token=" TOKEN ";object=p256;id=%03"

static char *dir;
static char pin_ok[4200], pin_bad[4200], pin_open[4200];
static char p256_cert[4200];

static void sh(const char *fmt, ...)
{
	char cmd[16384];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	if (system(cmd) != 0)
		fail_msg("failed: %s", cmd);
}

static void pin_file(char *path, const char *name, const char *pin,
		     mode_t mode)
{
	snprintf(path, 4200, "%s/%s", dir, name);
	write_text(path, pin);
	assert_int_equal(chmod(path, mode), 0);
}

static int setup(void **state)
{
	char conf[4200];
	char text[8400];

	(void)state;
	dir = tmpdir_new();
	snprintf(conf, sizeof(conf), "%s/softhsm2.conf", dir);
	snprintf(text, sizeof(text), "directories.tokendir = %s/tokens\n"
		 "objectstore.backend = file\nlog.level = ERROR\n", dir);
	write_text(conf, text);
	setenv("SOFTHSM2_CONF", conf, 1);
	sh("mkdir %s/tokens && softhsm2-util --init-token --free --label "
	   TOKEN " --so-pin 5678 --pin 1234 >/dev/null", dir);
	sh("softhsm2-util --import %s --token " TOKEN " --label police "
	   "--id 01 --pin 1234 >/dev/null",
	   pki_path("agencies/police.gwent/signing.key"));
	sh("softhsm2-util --import %s --token " TOKEN " --label probation "
	   "--id 02 --pin 1234 >/dev/null",
	   pki_path("agencies/probation.gwent/signing.key"));
	sh("softhsm2-util --import %s --token " TOKEN " --label twice "
	   "--id 04 --pin 1234 >/dev/null && softhsm2-util --import %s "
	   "--token " TOKEN " --label twice --id 05 --pin 1234 >/dev/null",
	   pki_path("agencies/police.gwent/signing.key"),
	   pki_path2("agencies/probation.gwent/signing.key"));
	snprintf(p256_cert, sizeof(p256_cert), "%s/p256.crt", dir);
	sh("cd %s && openssl req -x509 -newkey ec -pkeyopt "
	   "ec_paramgen_curve:P-256 -nodes -keyout p256.key -out p256.crt "
	   "-subj /O=police.gwent/OU=signing/CN=police.gwent -days 1 "
	   "2>/dev/null && softhsm2-util --import p256.key --token " TOKEN
	   " --label p256 --id 03 --pin 1234 >/dev/null", dir);
	pin_file(pin_ok, "pin", "1234\n", 0600);
	pin_file(pin_bad, "pin.wrong", "9999\n", 0600);
	pin_file(pin_open, "pin.open", "1234\n", 0644);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	tmpdir_remove(dir);
	return 0;
}

static const char *police_cert(void)
{
	return pki_path("agencies/police.gwent/signing.crt");
}

/* Open `uri` with the police certificate; expect `code`, and `what` in
 * the message when it fails. */
static void refused(const char *module, const char *uri, const char *pin,
		    int code, const char *what)
{
	ppx_signer *s = (ppx_signer *)1;
	int rc = ppx_signer_pkcs11_open(&s, module, uri, pin, police_cert());

	if (rc != code || !strstr(ppx_error_last(), what))
		fail_msg("rc %d \"%s\"; expected %d with \"%s\"", rc,
			 ppx_error_last(), code, what);
	assert_null(s);
}

static void test_pkcs11__ed25519_signature_verifies_and_equals_key_file(
	void **state)
{
	static const uint8_t msg[] = "a notification from police.gwent";
	ppx_signer *s = NULL, *file = signer_at("police.gwent");
	uint8_t sig[PPX_SIG_MAX], want[PPX_SIG_MAX];
	size_t n = 0, wn = 0;

	(void)state;
	assert_int_equal(ppx_signer_pkcs11_open(&s, MODULE, URI_POLICE,
						pin_ok, police_cert()), 0);
	assert_int_equal(ppx_signer_algorithm(s),
			 PPX__V1__SIGNATURE_ALGORITHM__SIG_ED25519);
	assert_string_equal(ppx_signer_agency(s), "police.gwent");
	assert_memory_equal(ppx_signer_fingerprint(s),
			    ppx_signer_fingerprint(file), PPX_FINGERPRINT_LEN);
	assert_int_equal(ppx_signer_sign(s, sig, sizeof(sig), &n, msg,
					 sizeof(msg)), 0);
	assert_int_equal(n, 64);
	assert_int_equal(ppx_cert_verify_signature(ppx_signer_cert(s), sig, n,
						   msg, sizeof(msg)), 0);
	/* Ed25519 is deterministic: the token signs as the key file does. */
	assert_int_equal(ppx_signer_sign(file, want, sizeof(want), &wn, msg,
					 sizeof(msg)), 0);
	assert_memory_equal(sig, want, 64);
	ppx_signer_free(s);
	ppx_signer_free(file);
}

static void test_pkcs11__p256_signature_is_der_and_verifies(void **state)
{
	static const uint8_t msg[] = "a receipt from police.gwent";
	ppx_signer *s = NULL;
	uint8_t sig[PPX_SIG_MAX];
	size_t n = 0;

	(void)state;
	assert_int_equal(ppx_signer_pkcs11_open(&s, MODULE, URI_P256, pin_ok,
						p256_cert), 0);
	assert_int_equal(ppx_signer_algorithm(s),
			 PPX__V1__SIGNATURE_ALGORITHM__SIG_ECDSA_P256_SHA256);
	for (int i = 0; i < 20; i++) {
		assert_int_equal(ppx_signer_sign(s, sig, sizeof(sig), &n, msg,
						 sizeof(msg)), 0);
		assert_int_equal(sig[0], 0x30);	/* DER SEQUENCE, not r||s */
		assert_int_equal(sig[1], n - 2);
		assert_true(n >= 8 && n <= 72);
		assert_int_equal(ppx_cert_verify_signature(ppx_signer_cert(s),
							   sig, n, msg,
							   sizeof(msg)), 0);
	}
	sig[n - 1] ^= 1;
	assert_int_equal(ppx_cert_verify_signature(ppx_signer_cert(s), sig, n,
						   msg, sizeof(msg)),
			 PPX_EBADSIG);
	ppx_signer_free(s);
}

static void test_pkcs11__two_signers_share_the_module(void **state)
{
	static const uint8_t msg[] = "x";
	ppx_signer *a = NULL, *b = NULL;
	uint8_t sig[PPX_SIG_MAX];
	size_t n = 0;

	(void)state;
	assert_int_equal(ppx_signer_pkcs11_open(&a, MODULE, URI_POLICE,
						pin_ok, police_cert()), 0);
	assert_int_equal(ppx_signer_pkcs11_open(&b, MODULE, URI_P256, pin_ok,
						p256_cert), 0);
	ppx_signer_free(a);
	/* The module is not finalised while b still uses it. */
	assert_int_equal(ppx_signer_sign(b, sig, sizeof(sig), &n, msg, 1), 0);
	assert_int_equal(ppx_cert_verify_signature(ppx_signer_cert(b), sig, n,
						   msg, 1), 0);
	ppx_signer_free(b);
}

static void test_pkcs11__wrong_pin_is_refused(void **state)
{
	(void)state;
	refused(MODULE, URI_POLICE, pin_bad, PPX_EPERM,
		"C_Login with the PIN in the PIN file failed: "
		"CKR_PIN_INCORRECT");
}

static void test_pkcs11__pin_file_of_mode_0644_is_refused(void **state)
{
	(void)state;
	refused(MODULE, URI_POLICE, pin_open, PPX_EPERM,
		"mode 0644, must be 0600");
	assert_non_null(strstr(ppx_error_last(), pin_open));
}

static void test_pkcs11__missing_object_is_refused(void **state)
{
	(void)state;
	refused(MODULE, "pkcs11:token=" TOKEN ";object=nosuch", pin_ok,
		PPX_ENOTFOUND, "no such private key on token 'ppxtest'");
	refused(MODULE, "pkcs11:token=" TOKEN ";object=police;id=%02", pin_ok,
		PPX_ENOTFOUND, "no such private key");
}

static void test_pkcs11__uri_naming_two_keys_is_refused(void **state)
{
	ppx_signer *s = NULL;

	(void)state;
	refused(MODULE, "pkcs11:token=" TOKEN ";object=twice", pin_ok,
		PPX_EINVAL, "names more than one private key");
	assert_int_equal(ppx_signer_pkcs11_open(&s, MODULE, "pkcs11:token="
						TOKEN ";object=twice;id=%04",
						pin_ok, police_cert()), 0);
	ppx_signer_free(s);
}

static void test_pkcs11__missing_token_is_refused(void **state)
{
	(void)state;
	refused(MODULE, "pkcs11:token=other;object=police", pin_ok,
		PPX_ENOTFOUND, "no token labelled 'other'");
}

static void test_pkcs11__key_not_matching_certificate_is_refused(
	void **state)
{
	(void)state;
	refused(MODULE, URI_PROBATION, pin_ok, PPX_EINVAL,
		"does not match certificate");
	assert_non_null(strstr(ppx_error_last(), police_cert()));
	refused(MODULE, URI_P256, pin_ok, PPX_EINVAL,
		"is ECDSA, certificate");
}

static void test_pkcs11__missing_module_is_refused(void **state)
{
	(void)state;
	refused("/nonexistent/libnope.so", URI_POLICE, pin_ok, PPX_ENOTFOUND,
		"cannot load PKCS#11 module /nonexistent/libnope.so");
	refused(pki_path("ca/ca.crt"), URI_POLICE, pin_ok, PPX_ENOTFOUND,
		"cannot load PKCS#11 module");
}

static void test_pkcs11__uri_subset_is_parsed_strictly(void **state)
{
	struct ppx_pkcs11_uri u;

	(void)state;
	assert_int_equal(ppx_pkcs11_uri_parse(&u, "pkcs11:token=a%20b;"
					      "object=k;id=%01%fF"), 0);
	assert_string_equal(u.token, "a b");
	assert_string_equal(u.object, "k");
	assert_int_equal(u.id_len, 2);
	assert_int_equal(u.id[0], 0x01);
	assert_int_equal(u.id[1], 0xff);
	assert_int_equal(ppx_pkcs11_uri_parse(&u, "pkcs11:token=t;id=%0"),
			 PPX_EINVAL);
	assert_non_null(strstr(ppx_error_last(), "bad value of 'id'"));
	assert_int_equal(ppx_pkcs11_uri_parse(&u, "pkcs11:token=t;serial=1;"
					      "object=k"), PPX_EINVAL);
	assert_non_null(strstr(ppx_error_last(), "'serial' is not one"));
	assert_int_equal(ppx_pkcs11_uri_parse(&u, "pkcs11:object=k"),
			 PPX_EINVAL);
	assert_non_null(strstr(ppx_error_last(), "no token=LABEL"));
	assert_int_equal(ppx_pkcs11_uri_parse(&u, "pkcs11:token=t"),
			 PPX_EINVAL);
	assert_non_null(strstr(ppx_error_last(), "no key is named"));
	assert_int_equal(ppx_pkcs11_uri_parse(&u, "pkcs11:token=t;object=k"
					      "?pin-value=1234"), PPX_EINVAL);
	assert_int_equal(ppx_pkcs11_uri_parse(&u, "pkcs11:token=t;object=k;"
					      "type=public"), PPX_EINVAL);
	assert_int_equal(ppx_pkcs11_uri_parse(&u, "pkcs11:token=t;object=%0a"),
			 PPX_EINVAL);
}

/* A ppxd.conf whose [pki] is `pki` (the other sections minimal). */
static int config_with(struct ppx_config **cfg, const char *pki)
{
	char path[4200], text[17000];

	snprintf(path, sizeof(path), "%s/ppxd.conf", dir);
	snprintf(text, sizeof(text),
		 "[agency]\nname = police.gwent\nlisten = tcp://*:7101\n"
		 "log_dir = /var/lib/ppx\ncontrol = /run/ppx\n"
		 "policy = /etc/ppx/policy.conf\n[pki]\nca = /etc/ppx/ca.crt\n"
		 "crl = /etc/ppx/crl.pem\ncerts = /etc/ppx/certs\n"
		 "transport_key = /etc/ppx/t.key\n"
		 "transport_cert = /etc/ppx/t.crt\n%s", pki);
	write_text(path, text);
	return ppx_config_load(cfg, path);
}

static void test_pkcs11__configuration_opens_the_token_signer(void **state)
{
	static const uint8_t msg[] = "m";
	struct ppx_config *cfg = NULL;
	ppx_signer *s = NULL;
	char pki[16384], cert[PATH_MAX];
	uint8_t sig[PPX_SIG_MAX];
	size_t n = 0;

	(void)state;
	assert_non_null(realpath(police_cert(), cert));
	snprintf(pki, sizeof(pki), "signing_key = " URI_POLICE "\n"
		 "pkcs11_module = " MODULE "\npkcs11_pin_file = %s\n"
		 "signing_cert = %s\n", pin_ok, cert);
	assert_int_equal(config_with(&cfg, pki), 0);
	assert_string_equal(cfg->signing_key, URI_POLICE);
	if (ppx_signer_open(&s, cfg) != 0)
		fail_msg("%s", ppx_error_last());
	assert_int_equal(ppx_signer_sign(s, sig, sizeof(sig), &n, msg, 1), 0);
	assert_int_equal(ppx_cert_verify_signature(ppx_signer_cert(s), sig, n,
						   msg, 1), 0);
	ppx_signer_free(s);
	ppx_config_free(cfg);
}

static void test_pkcs11__configuration_needs_module_and_pin_file(
	void **state)
{
	struct ppx_config *cfg = NULL;

	(void)state;
	assert_int_equal(config_with(&cfg, "signing_key = " URI_POLICE "\n"
				     "signing_cert = /etc/ppx/s.crt\n"),
			 PPX_EINVAL);
	assert_non_null(strstr(ppx_error_last(), "pkcs11_module and "
			       "pkcs11_pin_file are then required"));
	assert_int_equal(config_with(&cfg, "signing_key = pkcs11:object=k\n"
				     "pkcs11_module = /m.so\n"
				     "pkcs11_pin_file = /p\n"
				     "signing_cert = /etc/ppx/s.crt\n"),
			 PPX_EINVAL);
	assert_non_null(strstr(ppx_error_last(), "no token=LABEL"));
	assert_int_equal(config_with(&cfg, "signing_key = /etc/ppx/s.key\n"
				     "pkcs11_module = /m.so\n"
				     "signing_cert = /etc/ppx/s.crt\n"),
			 PPX_EINVAL);
	assert_non_null(strstr(ppx_error_last(), "are for a signing_key "
			       "that is a pkcs11: URI"));
	assert_null(cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pkcs11__ed25519_signature_verifies_and_equals_key_file),
		cmocka_unit_test(test_pkcs11__p256_signature_is_der_and_verifies),
		cmocka_unit_test(test_pkcs11__two_signers_share_the_module),
		cmocka_unit_test(test_pkcs11__wrong_pin_is_refused),
		cmocka_unit_test(test_pkcs11__pin_file_of_mode_0644_is_refused),
		cmocka_unit_test(test_pkcs11__missing_object_is_refused),
		cmocka_unit_test(test_pkcs11__uri_naming_two_keys_is_refused),
		cmocka_unit_test(test_pkcs11__missing_token_is_refused),
		cmocka_unit_test(test_pkcs11__key_not_matching_certificate_is_refused),
		cmocka_unit_test(test_pkcs11__missing_module_is_refused),
		cmocka_unit_test(test_pkcs11__uri_subset_is_parsed_strictly),
		cmocka_unit_test(test_pkcs11__configuration_opens_the_token_signer),
		cmocka_unit_test(test_pkcs11__configuration_needs_module_and_pin_file),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
