/*
 * test_person.c — personal signatures (lib/person.c): a person's signature
 * over a body verifies, and each check of ppx_person_verify() refuses
 * what it is there for with PPX_EBADPERSON and a detail naming it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "ppx/entry.h"
#include "ppx/envelope.h"
#include "ppx/error.h"
#include "ppx/person.h"
#include "pki_forge.h"
#include "support.h"

#define DANA "people/police.gwent/dana.evans"
#define SAM "people/probation.gwent/sam.okafor"

struct fx {
	ppx_trust *trust;
	ppx_signer *dana;
	Ppx__V1__Body *body;
	uint8_t fpr[PPX_FINGERPRINT_LEN];
	uint8_t *bytes;
	size_t len;
};

static ppx_signer *person_at(const char *rel)
{
	char key[2048], crt[2048];
	ppx_signer *s = NULL;

	snprintf(key, sizeof(key), "%s.key", pki_path(rel));
	snprintf(crt, sizeof(crt), "%s.crt", pki_path(rel));
	if (ppx_person_signer_open(&s, key, crt, NULL, NULL) != 0)
		fail_msg("cannot load person %s: %s", rel, ppx_error_last());
	return s;
}

/* The body names `fpr` as its sender person's certificate; f->bytes is
 * it serialised. */
static void body_naming(struct fx *f, const uint8_t *fpr)
{
	free(f->bytes);
	memcpy(f->fpr, fpr, PPX_FINGERPRINT_LEN);
	f->body->sender_person->certificate_fingerprint.data = f->fpr;
	f->body->sender_person->certificate_fingerprint.len =
		PPX_FINGERPRINT_LEN;
	assert_int_equal(ppx_body_pack(&f->bytes, &f->len, f->body), 0);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	f->trust = trust_demo();
	f->dana = person_at(DANA);
	f->body = body_new("police.gwent", "probation.gwent");
	body_naming(f, ppx_signer_fingerprint(f->dana));
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	f->body->sender_person->certificate_fingerprint.data = NULL;
	f->body->sender_person->certificate_fingerprint.len = 0;
	body_free(f->body);
	free(f->bytes);
	ppx_signer_free(f->dana);
	ppx_trust_free(f->trust);
	free(f);
	return 0;
}

/* Verify `ps` over f's bytes as a message of police.gwent at `now`. */
static int verify(struct fx *f, const Ppx__V1__PersonSignature *ps,
		  time_t now, ppx_identity *who)
{
	return ppx_person_verify(who, f->trust, ps, f->bytes, f->len, f->body,
				 "police.gwent", now);
}

static Ppx__V1__PersonSignature *sign(ppx_signer *s, const struct fx *f)
{
	Ppx__V1__PersonSignature *ps = NULL;

	assert_int_equal(ppx_person_sign(&ps, s, f->bytes, f->len), 0);
	return ps;
}

static void assert_bad(int rc, const char *what)
{
	assert_int_equal(rc, PPX_EBADPERSON);
	if (!strstr(ppx_error_last(), what))
		fail_msg("detail '%s' does not say '%s'", ppx_error_last(),
			 what);
}

static void test_person__signature_verifies_and_names_the_signer(void **state)
{
	struct fx *f = *state;
	Ppx__V1__PersonSignature *ps = sign(f->dana, f);
	ppx_identity who;
	char line[512];

	assert_int_equal(verify(f, ps, time(NULL), &who), 0);
	assert_string_equal(who.name, "Dana Evans");
	assert_string_equal(who.agency, "police.gwent");
	assert_int_equal(who.role, PPX_ROLE_PERSON);
	assert_memory_equal(who.fingerprint, ppx_signer_fingerprint(f->dana),
			    PPX_FINGERPRINT_LEN);
	ppx_person_describe(line, sizeof(line), &who);
	assert_non_null(strstr(line, "signed by Dana Evans (person "
				     "certificate "));
	assert_non_null(strstr(line, ") of police.gwent"));
	ppx_person_signature_free(ps);
}

static void test_person__signature_over_other_bytes_is_bad(void **state)
{
	struct fx *f = *state;
	Ppx__V1__PersonSignature *ps = sign(f->dana, f);
	ppx_identity who;

	f->bytes[f->len - 1] ^= 1;
	assert_bad(verify(f, ps, time(NULL), &who), "bad signature");
	ppx_person_signature_free(ps);
}

/* The same key's signature under "ppx/v1/body" is no personal one. */
static void test_person__body_label_signature_is_not_personal(void **state)
{
	struct fx *f = *state;
	Ppx__V1__PersonSignature *ps = sign(f->dana, f);
	Ppx__V1__Frame *frame = NULL;
	uint8_t *buf = NULL;
	size_t len = 0;
	ppx_identity who;

	assert_int_equal(ppx_frame_seal(&buf, &len, f->dana,
					PPX__V1__SIGNED_PURPOSE__SIGNED_BODY,
					f->bytes, f->len), 0);
	assert_int_equal(ppx_frame_decode(&frame, buf, len), 0);
	free(ps->signature.data);
	ps->signature.len = frame->message->signature.len;
	ps->signature.data = malloc(ps->signature.len);
	memcpy(ps->signature.data, frame->message->signature.data,
	       ps->signature.len);
	assert_bad(verify(f, ps, time(NULL), &who), "bad signature");
	ppx__v1__frame__free_unpacked(frame, NULL);
	free(buf);
	ppx_person_signature_free(ps);
}

static void test_person__wrong_algorithm_is_bad(void **state)
{
	struct fx *f = *state;
	Ppx__V1__PersonSignature *ps = sign(f->dana, f);
	ppx_identity who;

	ps->algorithm = PPX__V1__SIGNATURE_ALGORITHM__SIG_ECDSA_P256_SHA256;
	assert_bad(verify(f, ps, time(NULL), &who), "algorithm");
	ppx_person_signature_free(ps);
}

static void test_person__certificate_not_der_is_bad(void **state)
{
	struct fx *f = *state;
	Ppx__V1__PersonSignature *ps = sign(f->dana, f);
	ppx_identity who;

	ps->certificate.data[ps->certificate.len / 2] ^= 0xff;
	assert_int_equal(verify(f, ps, time(NULL), &who), PPX_EBADPERSON);
	ps->certificate.len--;
	assert_bad(verify(f, ps, time(NULL), &who), "personal signature");
	ppx_person_signature_free(ps);
}

static void test_person__person_of_another_agency_is_bad(void **state)
{
	struct fx *f = *state;
	ppx_signer *sam = person_at(SAM);
	Ppx__V1__PersonSignature *ps;
	ppx_identity who;

	body_naming(f, ppx_signer_fingerprint(sam));
	ps = sign(sam, f);
	assert_bad(verify(f, ps, time(NULL), &who), "other agency");
	ppx_person_signature_free(ps);
	ppx_signer_free(sam);
}

static void test_person__agency_certificate_as_person_is_bad(void **state)
{
	struct fx *f = *state;
	ppx_signer *police = signer_at("police.gwent");
	Ppx__V1__PersonSignature *ps;
	ppx_identity who;

	body_naming(f, ppx_signer_fingerprint(police));
	ps = sign(police, f);
	assert_bad(verify(f, ps, time(NULL), &who), "other role");
	ppx_person_signature_free(ps);
	ppx_signer_free(police);
}

static void test_person__body_not_naming_the_signer_is_bad(void **state)
{
	struct fx *f = *state;
	ppx_signer *police = signer_at("police.gwent");
	Ppx__V1__PersonSignature *ps;
	ppx_identity who;

	body_naming(f, ppx_signer_fingerprint(police));
	ps = sign(f->dana, f);
	assert_bad(verify(f, ps, time(NULL), &who), "not the sender person");
	ppx_person_signature_free(ps);
	ppx_signer_free(police);
}

static void test_person__expired_certificate_is_bad(void **state)
{
	struct fx *f = *state;
	Ppx__V1__PersonSignature *ps = sign(f->dana, f);
	ppx_identity who;

	assert_bad(verify(f, ps, time(NULL) + 20L * 366 * 86400, &who),
		   "expired person certificate");
	ppx_person_signature_free(ps);
}

/* Revoked at `now`; history (now == 0) still judges it by chain and
 * role only, as a log that outlives its certificates needs. */
static void test_person__revoked_certificate_is_bad_but_history_holds(
	void **state)
{
	struct fx *f = *state;
	Ppx__V1__PersonSignature *ps = sign(f->dana, f);
	time_t now = time(NULL);
	struct forge_crl spec = {999999, now - 60, now + 86400,
				 {DANA ".crt", NULL}};
	char *dir = tmpdir_new(), path[4096];
	ppx_identity who;

	snprintf(path, sizeof(path), "%s/revoked.pem", dir);
	forge_crl_write(path, &spec);
	assert_int_equal(ppx_trust_reload_crl(f->trust, path), 0);
	assert_bad(verify(f, ps, now, &who), "revoked person certificate");
	assert_int_equal(verify(f, ps, 0, &who), 0);
	ppx_person_signature_free(ps);
	tmpdir_remove(dir);
}

/* The frame carries the signature beside the agency's, over the same
 * bytes, and the log entry tells who signed. */
static void test_person__frame_carries_it_and_the_entry_names_it(void **state)
{
	struct fx *f = *state;
	Ppx__V1__PersonSignature *ps = sign(f->dana, f);
	ppx_signer *police = signer_at("police.gwent");
	Ppx__V1__LogEntry e = PPX__V1__LOG_ENTRY__INIT;
	ppx_opened *o = NULL;
	ppx_identity who;
	uint8_t *frame = NULL;
	size_t len = 0;

	assert_int_equal(ppx_frame_seal(&frame, &len, police,
					PPX__V1__SIGNED_PURPOSE__SIGNED_BODY,
					f->bytes, f->len), 0);
	e.kind = PPX__V1__ENTRY_KIND__ENTRY_SENT;
	e.data.data = frame;
	e.data.len = len;
	assert_int_equal(ppx_entry_person(&who, &e), 0);
	assert_int_equal(ppx_frame_set_person(&frame, &len, ps), 0);
	assert_int_equal(ppx_message_open(&o, f->trust, frame, len,
					  "police.gwent", time(NULL)), 0);
	assert_non_null(o->frame->message->person);
	assert_memory_equal(o->frame->message->signed_body.data, f->bytes,
			    f->len);
	assert_int_equal(ppx_person_verify(&who, f->trust,
					   o->frame->message->person,
					   o->frame->message->signed_body.data,
					   o->frame->message->signed_body.len,
					   o->body, "police.gwent",
					   time(NULL)), 0);
	e.data.data = frame;
	e.data.len = len;
	assert_int_equal(ppx_entry_person(&who, &e), 1);
	assert_string_equal(who.name, "Dana Evans");
	ppx_opened_free(o);
	free(frame);
	ppx_signer_free(police);
	ppx_person_signature_free(ps);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
		T(test_person__signature_verifies_and_names_the_signer),
		T(test_person__signature_over_other_bytes_is_bad),
		T(test_person__body_label_signature_is_not_personal),
		T(test_person__wrong_algorithm_is_bad),
		T(test_person__certificate_not_der_is_bad),
		T(test_person__person_of_another_agency_is_bad),
		T(test_person__agency_certificate_as_person_is_bad),
		T(test_person__body_not_naming_the_signer_is_bad),
		T(test_person__expired_certificate_is_bad),
		T(test_person__revoked_certificate_is_bad_but_history_holds),
		T(test_person__frame_carries_it_and_the_entry_names_it),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
