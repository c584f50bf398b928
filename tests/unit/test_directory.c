/*
 * test_directory.c — judging a signed federation directory (PROTOCOL.md
 * 13.2), which one supersedes which, the text of what changed, and the
 * CRL as DER bytes (as a partner passes it on).
 *
 * Directories are built here from the demo PKI's real certificates
 * (make pki: the directory key of federation england-wales is
 * DIR/test/directory/, a rogue CA's one DIR/test/rogue/directory/), changed in
 * one way per test, and signed with real keys.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "pki_forge.h"
#include "ppx/checkpoint.h"
#include "ppx/envelope.h"
#include "ppx/logstore.h"
#include "ppx/directory.h"
#include "ppx/error.h"
#include "ppx/pki.h"
#include "ppx.pb-c.h"
#include "support.h"

#define N_AGENCIES 3
#define DAY_MS (86400LL * 1000)

static const char *const names[N_AGENCIES] = {"police.gwent",
					      "probation.gwent",
					      "prison.cardiff"};
static const char *const types[N_AGENCIES] = {"police", "probation",
					      "prison"};

/* A Directory under construction: the protobuf and the storage it points
 * into, so that a test can change any field before signing. */
struct fixture {
	Ppx__V1__Directory d;
	Ppx__V1__DirectoryAgency a[N_AGENCIES + 1];
	Ppx__V1__DirectoryAgency *ap[N_AGENCIES + 1];
	char *endpoints[N_AGENCIES + 1][PPX_DIRECTORY_MAX_ENDPOINTS + 1];
	char ep_text[N_AGENCIES + 1][64];
	ProtobufCBinaryData sign[N_AGENCIES + 1][PPX_DIRECTORY_MAX_CERTS + 1];
	ProtobufCBinaryData trans[N_AGENCIES + 1][PPX_DIRECTORY_MAX_CERTS + 1];
	ProtobufCBinaryData der[8];	/* extra certificates, freed at end */
	size_t n_der;
	ppx_trust *trust;
};

/* The DER of a demo PKI certificate (relative path); freed by the
 * fixture. */
static ProtobufCBinaryData cert_der(struct fixture *f, const char *rel)
{
	ppx_cert *cert = NULL;
	ProtobufCBinaryData b = {0, NULL};

	assert_int_equal(ppx_cert_load(&cert, pki_path(rel)), 0);
	assert_int_equal(ppx_cert_der(&b.data, &b.len, cert), 0);
	ppx_cert_free(cert);
	assert_true(f->n_der < sizeof(f->der) / sizeof(f->der[0]));
	f->der[f->n_der++] = b;
	return b;
}

static void agency_cert(struct fixture *f, ProtobufCBinaryData *out,
			const char *agency, const char *role)
{
	char rel[256];

	snprintf(rel, sizeof(rel), "agencies/%s/%s.crt", agency, role);
	*out = cert_der(f, rel);
}

static struct fixture *fixture_new(void)
{
	struct fixture *f = calloc(1, sizeof(*f));
	int64_t now_ms = (int64_t)time(NULL) * 1000;

	assert_non_null(f);
	ppx__v1__directory__init(&f->d);
	f->d.federation = "england-wales";
	f->d.serial = 4;
	f->d.issued_ms = now_ms;
	f->d.not_before_ms = now_ms - DAY_MS;
	f->d.not_after_ms = now_ms + 30 * DAY_MS;
	f->d.baseline_policy = "";
	for (int i = 0; i < N_AGENCIES; i++) {
		Ppx__V1__DirectoryAgency *a = &f->a[i];

		ppx__v1__directory_agency__init(a);
		a->name = (char *)names[i];
		a->type = (char *)types[i];
		a->display_name = "";
		snprintf(f->ep_text[i], sizeof(f->ep_text[i]),
			 "tcp://127.0.0.1:%d", 7101 + i);
		f->endpoints[i][0] = f->ep_text[i];
		a->endpoints = f->endpoints[i];
		a->n_endpoints = 1;
		agency_cert(f, &f->sign[i][0], names[i], "signing");
		agency_cert(f, &f->trans[i][0], names[i], "transport");
		a->signing_certificates = f->sign[i];
		a->n_signing_certificates = 1;
		a->transport_certificates = f->trans[i];
		a->n_transport_certificates = 1;
		a->status = PPX__V1__AGENCY_STATUS__AGENCY_ACTIVE;
		f->ap[i] = a;
	}
	f->d.agencies = f->ap;
	f->d.n_agencies = N_AGENCIES;
	f->trust = trust_demo();
	return f;
}

static void fixture_free(struct fixture *f)
{
	for (size_t i = 0; i < f->n_der; i++)
		free(f->der[i].data);
	ppx_trust_free(f->trust);
	free(f);
}

static ppx_signer *load_signer(const char *dir, const char *stem)
{
	char key[4096], crt[4096];
	ppx_signer *s = NULL;

	snprintf(key, sizeof(key), "%s/%s.key", pki_path(dir), stem);
	snprintf(crt, sizeof(crt), "%s/%s.crt", pki_path(dir), stem);
	if (ppx_signer_load(&s, key, crt) != 0)
		fail_msg("cannot load %s/%s (make pki): %s", dir, stem,
			 ppx_error_last());
	return s;
}

/* Pack the fixture's Directory (with `extra` bytes appended, if any) and
 * sign it with the key in `dir`/`stem`. */
static uint8_t *sign_extra(struct fixture *f, const char *dir,
			   const char *stem, const uint8_t *extra,
			   size_t n_extra, size_t *len)
{
	size_t n = ppx__v1__directory__get_packed_size(&f->d);
	uint8_t *buf = malloc(n + n_extra + 1), *out = NULL;
	ppx_signer *s = load_signer(dir, stem);

	assert_non_null(buf);
	ppx__v1__directory__pack(&f->d, buf);
	if (n_extra)
		memcpy(buf + n, extra, n_extra);
	assert_int_equal(ppx_directory_sign(&out, len, buf, n + n_extra, s),
			 0);
	ppx_signer_free(s);
	free(buf);
	return out;
}

static uint8_t *sign_dir(struct fixture *f, size_t *len)
{
	return sign_extra(f, "test/directory", "directory", NULL, 0, len);
}

/* Sign the fixture and expect PPX_EBADDIR with `detail` in the message. */
static void expect_refused(struct fixture *f, const char *detail)
{
	struct ppx_directory *dir = NULL;
	size_t len = 0;
	uint8_t *bytes = sign_dir(f, &len);

	assert_int_equal(ppx_directory_parse(&dir, bytes, len, f->trust,
					     time(NULL)), PPX_EBADDIR);
	assert_null(dir);
	if (!strstr(ppx_error_last(), detail))
		fail_msg("expected '%s' in: %s", detail, ppx_error_last());
	free(bytes);
}

static struct ppx_directory *parse_ok(struct fixture *f)
{
	struct ppx_directory *dir = NULL;
	size_t len = 0;
	uint8_t *bytes = sign_dir(f, &len);

	if (ppx_directory_parse(&dir, bytes, len, f->trust, time(NULL)) != 0)
		fail_msg("refused: %s", ppx_error_last());
	free(bytes);
	return dir;
}

static void test_directory__good_directory_parses(void **state)
{
	struct fixture *f = fixture_new();
	struct ppx_directory *dir;
	const struct ppx_dir_agency *a;
	uint8_t fp[PPX_FINGERPRINT_LEN];
	ppx_cert *cert = NULL;

	(void)state;
	f->a[1].status = PPX__V1__AGENCY_STATUS__AGENCY_SUSPENDED;
	dir = parse_ok(f);
	assert_string_equal(dir->federation, "england-wales");
	assert_int_equal(dir->serial, 4);
	assert_int_equal(dir->n_agencies, 3);
	assert_non_null(strstr(dir->signer, "OU=directory"));
	a = ppx_directory_agency(dir, "probation.gwent");
	assert_non_null(a);
	assert_int_equal(a->status, PPX_AGENCY_SUSPENDED);
	assert_string_equal(a->endpoints[0], "tcp://127.0.0.1:7102");
	assert_int_equal(a->duty_to_cooperate, 0);
	assert_null(ppx_directory_agency(dir, "housing.newport"));
	assert_int_equal(ppx_cert_load(&cert, pki_path(
		"agencies/police.gwent/signing.crt")), 0);
	assert_int_equal(ppx_cert_fingerprint(cert, fp), 0);
	assert_int_equal(ppx_directory_lists_cert(dir, "police.gwent",
						  PPX_ROLE_SIGNING, fp), 1);
	assert_int_equal(ppx_directory_lists_cert(dir, "police.gwent",
						  PPX_ROLE_TRANSPORT, fp), 0);
	assert_int_equal(ppx_directory_lists_cert(dir, "probation.gwent",
						  PPX_ROLE_SIGNING, fp), 0);
	ppx_cert_free(cert);
	ppx_directory_free(dir);
	fixture_free(f);
}

static void test_directory__bad_signature_is_refused(void **state)
{
	struct fixture *f = fixture_new();
	struct ppx_directory *dir = NULL;
	Ppx__V1__SignedDirectory *sd;
	size_t len = 0;
	uint8_t *bytes = sign_dir(f, &len), *again;

	(void)state;
	sd = ppx__v1__signed_directory__unpack(NULL, len, bytes);
	assert_non_null(sd);
	sd->signature.data[0] ^= 1;
	again = malloc(len);
	assert_int_equal(ppx__v1__signed_directory__pack(sd, again), len);
	ppx__v1__signed_directory__free_unpacked(sd, NULL);
	assert_int_equal(ppx_directory_parse(&dir, again, len, f->trust,
					     time(NULL)), PPX_EBADDIR);
	assert_non_null(strstr(ppx_error_last(), "signature does not verify"));
	free(again);
	free(bytes);
	fixture_free(f);
}

static void test_directory__signed_by_a_signing_cert_is_refused(void **state)
{
	struct fixture *f = fixture_new();
	struct ppx_directory *dir = NULL;
	size_t len = 0;
	uint8_t *bytes = sign_extra(f, "agencies/police.gwent", "signing",
				    NULL, 0, &len);

	(void)state;
	assert_int_equal(ppx_directory_parse(&dir, bytes, len, f->trust,
					     time(NULL)), PPX_EBADDIR);
	assert_non_null(strstr(ppx_error_last(), "not a current directory "
			       "certificate"));
	assert_non_null(strstr(ppx_error_last(), "not a directory"));
	free(bytes);
	fixture_free(f);
}

static void test_directory__signer_from_another_ca_is_refused(void **state)
{
	struct fixture *f = fixture_new();
	struct ppx_directory *dir = NULL;
	size_t len = 0;
	uint8_t *bytes = sign_extra(f, "test/rogue/directory", "directory",
				    NULL, 0, &len);

	(void)state;
	assert_int_equal(ppx_directory_parse(&dir, bytes, len, f->trust,
					     time(NULL)), PPX_EBADDIR);
	assert_non_null(strstr(ppx_error_last(), "does not chain"));
	free(bytes);
	fixture_free(f);
}

static void test_directory__expired_and_not_yet_valid_are_refused(
	void **state)
{
	struct fixture *f = fixture_new();
	struct ppx_directory *dir = NULL;
	int64_t now_ms = (int64_t)time(NULL) * 1000;
	size_t len = 0;
	uint8_t *bytes;

	(void)state;
	f->d.not_before_ms = now_ms - 30 * DAY_MS;
	f->d.not_after_ms = now_ms - DAY_MS;
	expect_refused(f, "expired");
	/* Without time (a directory in an old log) it still verifies. */
	bytes = sign_dir(f, &len);
	assert_int_equal(ppx_directory_parse(&dir, bytes, len, f->trust, 0), 0);
	ppx_directory_free(dir);
	free(bytes);
	f->d.not_before_ms = now_ms + DAY_MS;
	f->d.not_after_ms = now_ms + 30 * DAY_MS;
	expect_refused(f, "not yet valid");
	f->d.not_before_ms = f->d.not_after_ms;
	expect_refused(f, "not_before_ms must be before not_after_ms");
	fixture_free(f);
}

/* A directory key signs for the federation its certificate names (O):
 * one CA may certify several federations' keys. */
static void test_directory__other_federation_name_is_refused(void **state)
{
	struct fixture *f = fixture_new();

	(void)state;
	f->d.federation = "scotland";
	expect_refused(f, "federation scotland is not the one the signer "
			  "certificate signs for");
	fixture_free(f);
}

static void test_directory__unknown_fields_are_refused(void **state)
{
	/* Field 15, varint 1: a field the schema does not name. */
	static const uint8_t unknown[] = {0x78, 0x01};
	struct fixture *f = fixture_new();
	struct ppx_directory *dir = NULL;
	size_t len = 0;
	uint8_t *bytes = sign_extra(f, "test/directory", "directory", unknown,
				    sizeof(unknown), &len), *outer;

	(void)state;
	assert_int_equal(ppx_directory_parse(&dir, bytes, len, f->trust,
					     time(NULL)), PPX_EBADDIR);
	assert_non_null(strstr(ppx_error_last(), "fields the schema does not "
			       "name"));
	free(bytes);
	bytes = sign_dir(f, &len);
	outer = malloc(len + sizeof(unknown));
	memcpy(outer, bytes, len);
	memcpy(outer + len, unknown, sizeof(unknown));
	assert_int_equal(ppx_directory_parse(&dir, outer,
					     len + sizeof(unknown), f->trust,
					     time(NULL)), PPX_EBADDIR);
	assert_non_null(strstr(ppx_error_last(), "fields the schema does not "
			       "name"));
	free(outer);
	free(bytes);
	fixture_free(f);
}

static void test_directory__duplicate_agency_is_refused(void **state)
{
	struct fixture *f = fixture_new();

	(void)state;
	f->a[2].name = "police.gwent";
	expect_refused(f, "agency police.gwent is listed twice");
	fixture_free(f);
}

static void test_directory__cert_naming_another_agency_is_refused(
	void **state)
{
	struct fixture *f = fixture_new();

	(void)state;
	agency_cert(f, &f->trans[2][0], "police.gwent", "transport");
	expect_refused(f, "agency prison.cardiff: transport certificate 0 "
		       "names police.gwent");
	fixture_free(f);
}

static void test_directory__cert_listed_twice_is_refused(void **state)
{
	struct fixture *f = fixture_new();

	(void)state;
	f->sign[0][1] = f->sign[0][0];
	f->a[0].n_signing_certificates = 2;
	expect_refused(f, "agency police.gwent: signing certificate 1 is "
		       "listed twice");
	fixture_free(f);
}

static void test_directory__cert_of_wrong_role_is_refused(void **state)
{
	struct fixture *f = fixture_new();

	(void)state;
	f->sign[1][0] = f->trans[1][0];
	expect_refused(f, "agency probation.gwent: signing certificate 0 is "
		       "not a signing certificate");
	fixture_free(f);
}

static void test_directory__bad_endpoints_are_refused(void **state)
{
	static const char *const bad[] = {
		"tcp://127.0.0.1:0", "tcp://127.0.0.1:65536", "http://a.b:1",
		"tcp://a b:1", "tcp://host:", "tcp://:7101", "tcp://[::1:7101",
		"tcp://host:71x", "tcp://host:7101/x", "tcp://host:07101",
		"tcp://[10.0.0.1]:7101",	/* brackets hold IPv6 only */
	};
	static const char *const good[] = {
		"tcp://localhost:1", "tcp://[fe80::1]:65535",
		"tcp://police.gwent.example:7101",
	};
	struct fixture *f = fixture_new();
	struct ppx_directory *dir;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		f->endpoints[0][0] = (char *)bad[i];
		expect_refused(f, "agency police.gwent: endpoint 0");
	}
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		f->endpoints[0][0] = (char *)good[i];
		dir = parse_ok(f);
		ppx_directory_free(dir);
	}
	f->a[0].n_endpoints = 0;
	expect_refused(f, "agency police.gwent: 0 endpoints");
	fixture_free(f);
}

static void test_directory__bad_type_and_status_are_refused(void **state)
{
	struct fixture *f = fixture_new();

	(void)state;
	f->a[1].type = "bakery";
	expect_refused(f, "agency probation.gwent: unknown type 'bakery'");
	/* The type agrees with the name (PROTOCOL.md 4.1 takes it from
	 * there): not police for probation.*, nor housing for one. */
	f->a[1].type = "police";
	expect_refused(f, "agency probation.gwent: type police does not fit "
			  "its name");
	f->a[1].type = "housing";
	expect_refused(f, "agency probation.gwent: type housing does not fit "
			  "its name");
	f->a[1].type = "probation";
	f->a[1].status = PPX__V1__AGENCY_STATUS__AGENCY_STATUS_UNSPECIFIED;
	expect_refused(f, "agency probation.gwent: status 0");
	f->a[1].status = (Ppx__V1__AgencyStatus)4;
	expect_refused(f, "agency probation.gwent: status 4");
	f->a[1].status = PPX__V1__AGENCY_STATUS__AGENCY_ACTIVE;
	f->a[1].name = "Probation Gwent";
	expect_refused(f, "agency 1: 'Probation Gwent' is not an agency name");
	fixture_free(f);
}

static void test_directory__over_limits_are_refused(void **state)
{
	struct fixture *f = fixture_new();

	(void)state;
	for (int i = 0; i <= PPX_DIRECTORY_MAX_ENDPOINTS; i++)
		f->endpoints[0][i] = f->ep_text[0];
	f->a[0].n_endpoints = PPX_DIRECTORY_MAX_ENDPOINTS + 1;
	expect_refused(f, "agency police.gwent: 5 endpoints: 1 to 4");
	f->a[0].n_endpoints = 1;
	f->a[0].n_signing_certificates = PPX_DIRECTORY_MAX_CERTS + 1;
	expect_refused(f, "agency police.gwent: 5 signing certificates");
	f->a[0].n_signing_certificates = 0;
	expect_refused(f, "agency police.gwent: 0 signing certificates");
	f->a[0].n_signing_certificates = 1;
	f->d.serial = 0;
	expect_refused(f, "serial must be greater than 0");
	f->d.serial = 4;
	f->d.federation = "";
	expect_refused(f, "federation name");
	fixture_free(f);
}

static void test_directory__oversized_and_garbage_are_refused(void **state)
{
	struct fixture *f = fixture_new();
	struct ppx_directory *dir = NULL;
	static const uint8_t junk[] = {0xff, 0xff, 0xff};
	uint8_t *big = calloc(1, PPX_DIRECTORY_MAX_BYTES + 1);

	(void)state;
	assert_int_equal(ppx_directory_parse(&dir, big,
					     PPX_DIRECTORY_MAX_BYTES + 1,
					     f->trust, time(NULL)),
			 PPX_EBADDIR);
	assert_int_equal(ppx_directory_parse(&dir, junk, sizeof(junk),
					     f->trust, time(NULL)),
			 PPX_EBADDIR);
	assert_non_null(strstr(ppx_error_last(), "does not decode"));
	free(big);
	fixture_free(f);
}

static void test_directory__supersedes_only_newer_of_same_federation(
	void **state)
{
	struct fixture *f = fixture_new();
	struct ppx_directory *held, *same, *newer, *older, *other, *fed;

	(void)state;
	held = parse_ok(f);
	assert_int_equal(ppx_directory_supersedes(NULL, held), 0);
	/* The same bytes. */
	same = held;
	assert_int_equal(ppx_directory_supersedes(held, same), PPX_EDUP);
	f->d.serial = 5;
	newer = parse_ok(f);
	assert_int_equal(ppx_directory_supersedes(held, newer), 0);
	f->d.serial = 3;
	older = parse_ok(f);
	assert_int_equal(ppx_directory_supersedes(held, older), PPX_ESTALE);
	assert_non_null(strstr(ppx_error_last(), "serial 3"));
	assert_non_null(strstr(ppx_error_last(), "serial 4"));
	f->d.serial = 4;
	f->a[0].status = PPX__V1__AGENCY_STATUS__AGENCY_LEAVING;
	other = parse_ok(f);
	assert_int_equal(ppx_directory_supersedes(held, other), PPX_ESTALE);
	f->d.serial = 9;
	fed = parse_ok(f);
	/* Another federation's directory (signed by its own key): as if
	 * parsed under that key, the name is all that differs. */
	snprintf(fed->federation, sizeof(fed->federation), "%s", "scotland");
	assert_int_equal(ppx_directory_supersedes(held, fed), PPX_EBADDIR);
	ppx_directory_free(held);
	ppx_directory_free(newer);
	ppx_directory_free(older);
	ppx_directory_free(other);
	ppx_directory_free(fed);
	fixture_free(f);
}

static void test_directory__changes_are_readable(void **state)
{
	struct fixture *f = fixture_new();
	struct ppx_directory *old, *new;
	char text[2048];

	(void)state;
	old = parse_ok(f);
	assert_int_equal(ppx_directory_changes(NULL, old, text, sizeof(text)),
			 4);
	assert_non_null(strstr(text, "added police.gwent (police, active, "
			       "tcp://127.0.0.1:7101)\n"));
	f->d.serial = 5;
	f->a[1].status = PPX__V1__AGENCY_STATUS__AGENCY_SUSPENDED;
	f->endpoints[2][0] = "tcp://10.0.0.9:7200";
	agency_cert(f, &f->sign[0][1], "police.gwent", "signing");
	f->sign[0][1] = f->sign[0][0];
	f->sign[0][0] = cert_der(f, "test/expired/police.gwent/signing.crt");
	f->a[0].n_signing_certificates = 2;
	f->d.n_agencies = 2;	/* prison.cardiff removed */
	f->d.baseline_policy = "[policy]\n";
	new = parse_ok(f);
	assert_int_equal(ppx_directory_changes(old, new, text, sizeof(text)),
			 5);
	assert_non_null(strstr(text, "serial 4 -> 5\n"));
	assert_non_null(strstr(text, "probation.gwent: active -> suspended\n"));
	assert_non_null(strstr(text, "police.gwent: signing certificate "
			       "added "));
	assert_non_null(strstr(text, "removed prison.cardiff\n"));
	assert_non_null(strstr(text, "baseline policy changed\n"));
	/* Cut short, still terminated and still counted in full. */
	assert_int_equal(ppx_directory_changes(old, new, text, 10), 5);
	assert_int_equal(strlen(text), 9);
	f->d.n_agencies = 3;
	ppx_directory_free(new);
	f->d.serial = 6;
	new = parse_ok(f);
	assert_int_equal(ppx_directory_changes(old, new, text, sizeof(text)),
			 5);
	assert_non_null(strstr(text, "prison.cardiff: endpoint "
			       "tcp://127.0.0.1:7103 -> tcp://10.0.0.9:7200"));
	ppx_directory_free(old);
	ppx_directory_free(new);
	fixture_free(f);
}

/* A display name cannot end its quotes or pass for more changes: a
 * quote, ';', a backslash and a newline are shown as \xNN. */
static void test_directory__changes_escape_display_names(void **state)
{
	struct fixture *f = fixture_new();
	struct ppx_directory *old, *new;
	char text[2048];

	(void)state;
	old = parse_ok(f);
	f->d.serial = 5;
	f->a[0].display_name = "x'; removed police.dyfed;\n\\y";
	new = parse_ok(f);
	assert_int_equal(ppx_directory_changes(old, new, text, sizeof(text)),
			 2);
	assert_string_equal(text, "serial 4 -> 5\npolice.gwent: display name "
			    "'' -> 'x\\x27\\x3b removed police.dyfed\\x3b"
			    "\\x0a\\x5cy'\n");
	f->a[0].display_name = "";
	ppx_directory_free(old);
	ppx_directory_free(new);
	fixture_free(f);
}

/* A CRL of the demo CA with crlNumber `number`, as DER. */
static uint8_t *crl_der(long number, size_t *len)
{
	char *dir = tmpdir_new(), path[4096];
	struct forge_crl spec = {.number = number,
				 .this_update = time(NULL) - 60,
				 .next_update = time(NULL) + 86400,
				 .revoked = {NULL}};
	X509_CRL *crl;
	FILE *fp;
	unsigned char *der = NULL;
	uint8_t *out;
	int n;

	snprintf(path, sizeof(path), "%s/crl.pem", dir);
	forge_crl_write(path, &spec);
	fp = fopen(path, "r");
	assert_non_null(fp);
	crl = PEM_read_X509_CRL(fp, NULL, NULL, NULL);
	fclose(fp);
	assert_non_null(crl);
	n = i2d_X509_CRL(crl, &der);
	assert_true(n > 0);
	out = malloc((size_t)n);
	memcpy(out, der, (size_t)n);
	*len = (size_t)n;
	OPENSSL_free(der);
	X509_CRL_free(crl);
	tmpdir_remove(dir);
	return out;
}

static void test_directory__crl_der_reload_takes_only_newer(void **state)
{
	ppx_trust *t = trust_demo();
	size_t len = 0, held_len = 0;
	uint8_t *der = crl_der(100, &len), *held = NULL;

	(void)state;
	assert_true(ppx_trust_crl_number(t) < 100);
	assert_int_equal(ppx_trust_crl_newer(t, der, len), 1);
	assert_int_equal(ppx_trust_reload_crl_der(t, der, len), 0);
	assert_int_equal(ppx_trust_crl_number(t), 100);
	assert_int_equal(ppx_trust_crl_newer(t, der, len), 0);
	assert_int_equal(ppx_trust_reload_crl_der(t, der, len), PPX_ECRL);
	assert_non_null(strstr(ppx_error_last(), "not newer"));
	assert_int_equal(ppx_trust_crl_der(t, &held, &held_len), 0);
	assert_int_equal(held_len, len);
	assert_memory_equal(held, der, len);
	der[len - 1] ^= 1;	/* the signature */
	assert_int_equal(ppx_trust_crl_newer(t, der, len), PPX_ECRL);
	assert_int_equal(ppx_trust_crl_newer(t, der, len - 1), PPX_ECRL);
	free(held);
	free(der);
	der = crl_der(50, &len);
	assert_int_equal(ppx_trust_crl_newer(t, der, len), 0);
	free(der);
	ppx_trust_free(t);
}

static void test_directory__cert_dates_serial_and_added_cert(void **state)
{
	ppx_trust *t = trust_demo();
	ppx_cert *cert = NULL;
	ppx_identity id;
	time_t nb = 0, na = 0;
	char serial[64];
	uint8_t fp[PPX_FINGERPRINT_LEN];

	(void)state;
	assert_int_equal(ppx_cert_load(&cert, pki_path(
		"test/expired/police.gwent/signing.crt")), 0);
	ppx_cert_dates(cert, &nb, &na);
	assert_int_equal(nb, 1577836800);	/* 2020-01-01T00:00:00Z */
	assert_int_equal(na, 1609459200);	/* 2021-01-01T00:00:00Z */
	ppx_cert_serial_hex(cert, serial, sizeof(serial));
	assert_true(strlen(serial) >= 2);
	assert_null(strpbrk(serial, "ABCDEF"));
	assert_int_equal(ppx_cert_fingerprint(cert, fp), 0);
	assert_null(ppx_trust_find(t, fp));
	assert_int_equal(ppx_trust_add_cert(t, cert), 0);
	assert_int_equal(ppx_trust_add_cert(t, cert), 0);
	assert_non_null(ppx_trust_find(t, fp));
	assert_int_equal(ppx_trust_check(t, ppx_trust_find(t, fp), 0,
					 PPX_ROLE_SIGNING, &id), 0);
	assert_non_null(ppx_trust_ca(t));
	ppx_cert_free(cert);
	ppx_trust_free(t);
}

/* A log with (if `dir_bytes`) an ENTRY_DIRECTORY, then a message signed
 * by police.gwent; verified with a trust store that knows no agency
 * certificate of its own. */
static ppx_verify_report verify_log_with(const uint8_t *dir_bytes,
					 size_t dir_len)
{
	char *tmp = tmpdir_new(), ca[2048], crl[2048];
	Ppx__V1__Body *b = body_new("police.gwent", "probation.gwent");
	Ppx__V1__LogEntry de = PPX__V1__LOG_ENTRY__INIT;
	Ppx__V1__LogEntry sent = PPX__V1__LOG_ENTRY__INIT;
	ppx_signer *police = signer_at("police.gwent");
	ppx_verify_report r;
	ppx_trust *bare = NULL;
	ppx_log *log = NULL;
	uint8_t *frame = NULL;
	size_t len = 0;
	uint64_t seq;

	assert_int_equal(ppx_log_open(&log, tmp, NULL), 0);
	if (dir_bytes) {
		de.kind = PPX__V1__ENTRY_KIND__ENTRY_DIRECTORY;
		de.data.data = (uint8_t *)dir_bytes;
		de.data.len = dir_len;
		de.detail = "serial 4 from file /etc/ppx/directory.pb";
		assert_int_equal(ppx_log_append_one(log, &de, &seq), 0);
	}
	assert_int_equal(ppx_body_seal(&frame, &len, police, b), 0);
	sent.kind = PPX__V1__ENTRY_KIND__ENTRY_SENT;
	sent.message_id = b->message_id;
	sent.data.data = frame;
	sent.data.len = len;
	assert_int_equal(ppx_log_append_one(log, &sent, &seq), 0);
	snprintf(ca, sizeof(ca), "%s", pki_path("ca/ca.crt"));
	snprintf(crl, sizeof(crl), "%s", pki_path("ca/crl.pem"));
	assert_int_equal(ppx_trust_load(&bare, ca, crl, NULL), 0);
	assert_int_equal(ppx_log_verify(&r, log, bare), 0);
	ppx_trust_free(bare);
	ppx_log_close(log);
	free(frame);
	body_free(b);
	ppx_signer_free(police);
	tmpdir_remove(tmp);
	return r;
}

static void test_directory__log_verifies_with_certs_it_carries(void **state)
{
	struct fixture *f = fixture_new();
	ppx_verify_report r;
	size_t len = 0;
	uint8_t *bytes;

	(void)state;
	/* Expired long ago: a log is history, judged without time. */
	f->d.not_before_ms = 1000;
	f->d.not_after_ms = 2000;
	bytes = sign_dir(f, &len);
	r = verify_log_with(NULL, 0);
	assert_false(r.ok);
	assert_int_equal(r.code, PPX_EUNKNOWN_SIGNER);
	r = verify_log_with(bytes, len);
	if (!r.ok)
		fail_msg("log with its directory does not verify: %s",
			 r.reason);
	assert_int_equal(r.entries, 2);
	bytes[len - 1] ^= 1;	/* the signer certificate's last byte */
	r = verify_log_with(bytes, len);
	assert_false(r.ok);
	assert_int_equal(r.first_bad, 0);
	free(bytes);
	fixture_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_directory__good_directory_parses),
		cmocka_unit_test(test_directory__bad_signature_is_refused),
		cmocka_unit_test(test_directory__signed_by_a_signing_cert_is_refused),
		cmocka_unit_test(test_directory__signer_from_another_ca_is_refused),
		cmocka_unit_test(test_directory__expired_and_not_yet_valid_are_refused),
		cmocka_unit_test(test_directory__unknown_fields_are_refused),
		cmocka_unit_test(test_directory__duplicate_agency_is_refused),
		cmocka_unit_test(test_directory__cert_naming_another_agency_is_refused),
		cmocka_unit_test(test_directory__cert_listed_twice_is_refused),
		cmocka_unit_test(test_directory__cert_of_wrong_role_is_refused),
		cmocka_unit_test(test_directory__bad_endpoints_are_refused),
		cmocka_unit_test(test_directory__bad_type_and_status_are_refused),
		cmocka_unit_test(test_directory__over_limits_are_refused),
		cmocka_unit_test(test_directory__oversized_and_garbage_are_refused),
		cmocka_unit_test(test_directory__other_federation_name_is_refused),
		cmocka_unit_test(test_directory__supersedes_only_newer_of_same_federation),
		cmocka_unit_test(test_directory__changes_are_readable),
		cmocka_unit_test(test_directory__changes_escape_display_names),
		cmocka_unit_test(test_directory__crl_der_reload_takes_only_newer),
		cmocka_unit_test(test_directory__cert_dates_serial_and_added_cert),
		cmocka_unit_test(test_directory__log_verifies_with_certs_it_carries),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
