/*
 * test_envelope.c — sealing and opening signed messages: the receive check
 * refuses every kind of bad envelope with its own code.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "ppx/envelope.h"
#include "ppx/error.h"
#include "support.h"

struct fx {
	ppx_trust *trust;
	ppx_signer *police;
	Ppx__V1__Body *body;
	uint8_t *frame;
	size_t len;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	f->trust = trust_demo();
	f->police = signer_at("police.gwent");
	f->body = body_new("police.gwent", "probation.gwent");
	assert_int_equal(ppx_body_seal(&f->frame, &f->len, f->police, f->body),
			 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	free(f->frame);
	body_free(f->body);
	ppx_signer_free(f->police);
	ppx_trust_free(f->trust);
	free(f);
	return 0;
}

static int open_frame(struct fx *f, const uint8_t *frame, size_t len,
		      const char *expected)
{
	ppx_opened *o = NULL;
	int rc = ppx_message_open(&o, f->trust, frame, len, expected,
				  time(NULL));

	if (rc == 0)
		assert_non_null(o);
	else
		assert_null(o);
	ppx_opened_free(o);
	return rc;
}

static void test_envelope__sealed_message_opens_with_its_content(void **state)
{
	struct fx *f = *state;
	ppx_opened *o = NULL;

	assert_int_equal(ppx_message_open(&o, f->trust, f->frame, f->len,
					  "police.gwent", time(NULL)),
			 0);
	assert_string_equal(o->signer.agency, "police.gwent");
	assert_memory_equal(o->body->message_id.data, f->body->message_id.data,
			    PPX_MESSAGE_ID_LEN);
	assert_string_equal(o->body->notification->details,
			    f->body->notification->details);
	assert_int_equal(o->body->notification->kind,
			 PPX__V1__NOTIFICATION_KIND__ARREST);
	ppx_opened_free(o);
}

static void test_envelope__offline_open_needs_no_transport_agency(void **state)
{
	struct fx *f = *state;

	assert_int_equal(open_frame(f, f->frame, f->len, NULL), 0);
}

/*
 * Change each byte of the frame to each of its 255 other values: every
 * variant must be refused.  Nothing an attacker can do to one byte gets a
 * message accepted.
 */
static void test_envelope__every_single_byte_change_is_refused(void **state)
{
	struct fx *f = *state;
	uint8_t *copy = malloc(f->len);
	size_t accepted = 0, tried = 0;

	memcpy(copy, f->frame, f->len);
	for (size_t i = 0; i < f->len; i++) {
		for (int v = 0; v < 256; v++) {
			if (v == f->frame[i])
				continue;
			copy[i] = (uint8_t)v;
			tried++;
			if (open_frame(f, copy, f->len, "police.gwent") == 0) {
				accepted++;
				print_error("byte %zu = 0x%02x accepted\n", i, v);
			}
		}
		copy[i] = f->frame[i];
	}
	free(copy);
	assert_int_equal(tried, f->len * 255);
	assert_int_equal(accepted, 0);
}

static void test_envelope__truncations_are_refused(void **state)
{
	struct fx *f = *state;

	for (size_t n = 0; n < f->len; n++)
		assert_int_not_equal(open_frame(f, f->frame, n, "police.gwent"),
				     0);
}

static void test_envelope__signature_over_other_bytes_is_refused(void **state)
{
	struct fx *f = *state;
	Ppx__V1__Frame *fr = NULL;
	uint8_t *re;
	size_t len;

	assert_int_equal(ppx_frame_decode(&fr, f->frame, f->len), 0);
	fr->message->signed_body.data[fr->message->signed_body.len - 1] ^= 1;
	len = ppx__v1__frame__get_packed_size(fr);
	re = malloc(len);
	ppx__v1__frame__pack(fr, re);
	ppx__v1__frame__free_unpacked(fr, NULL);
	assert_int_equal(open_frame(f, re, len, "police.gwent"), PPX_EBADSIG);
	free(re);
}

/* Seal `body` with the signer in fixture directory `dir` and open it. */
static int open_signed_by(struct fx *f, const char *dir, const char *claimed,
			  const char *expected)
{
	ppx_signer *s = signer_at(dir);
	Ppx__V1__Body *b = body_new(claimed, "probation.gwent");
	uint8_t *frame = NULL;
	size_t len = 0;
	int rc;

	assert_int_equal(ppx_body_seal(&frame, &len, s, b), 0);
	rc = open_frame(f, frame, len, expected);
	free(frame);
	body_free(b);
	ppx_signer_free(s);
	return rc;
}

static void add_fixture_cert(struct fx *f, const char *dir)
{
	char rel[512];

	snprintf(rel, sizeof(rel), "%s/signing.crt", dir);
	assert_int_equal(ppx_trust_add_cert_file(f->trust, pki_path(rel)), 0);
}

static void test_envelope__unknown_signer_is_refused(void **state)
{
	struct fx *f = *state;

	/* The expired certificate is valid X.509 but not a known one. */
	assert_int_equal(open_signed_by(f, "test/expired/police.gwent",
					"police.gwent", "police.gwent"),
			 PPX_EUNKNOWN_SIGNER);
}

static void test_envelope__wrong_ca_is_refused(void **state)
{
	struct fx *f = *state;

	add_fixture_cert(f, "test/rogue/police.gwent");
	assert_int_equal(open_signed_by(f, "test/rogue/police.gwent",
					"police.gwent", "police.gwent"),
			 PPX_EUNTRUSTED);
}

static void test_envelope__expired_signer_is_refused(void **state)
{
	struct fx *f = *state;

	add_fixture_cert(f, "test/expired/police.gwent");
	assert_int_equal(open_signed_by(f, "test/expired/police.gwent",
					"police.gwent", "police.gwent"),
			 PPX_EEXPIRED);
}

static void test_envelope__not_yet_valid_signer_is_refused(void **state)
{
	struct fx *f = *state;

	add_fixture_cert(f, "test/notyet/police.gwent");
	assert_int_equal(open_signed_by(f, "test/notyet/police.gwent",
					"police.gwent", "police.gwent"),
			 PPX_ENOTYETVALID);
}

static void test_envelope__revoked_signer_is_refused(void **state)
{
	struct fx *f = *state;

	add_fixture_cert(f, "test/revoked/police.gwent");
	assert_int_equal(open_signed_by(f, "test/revoked/police.gwent",
					"police.gwent", "police.gwent"),
			 PPX_EREVOKED);
}

static void test_envelope__person_certificate_cannot_sign_for_agency(void **state)
{
	struct fx *f = *state;

	add_fixture_cert(f, "test/wrongrole/police.gwent");
	assert_int_equal(open_signed_by(f, "test/wrongrole/police.gwent",
					"police.gwent", "police.gwent"),
			 PPX_EUNTRUSTED);
}

static void test_envelope__signer_other_than_transport_agency_is_refused(
	void **state)
{
	struct fx *f = *state;

	/* Signed by police, arriving on probation's authenticated link. */
	assert_int_equal(open_frame(f, f->frame, f->len, "probation.gwent"),
			 PPX_ESENDER);
}

static void test_envelope__body_claiming_another_sender_is_refused(void **state)
{
	struct fx *f = *state;

	/* police.gwent's key signs a body that claims to be from prison. */
	assert_int_equal(open_signed_by(f, "police.gwent", "prison.cardiff",
					NULL),
			 PPX_ESENDER);
}

static void test_envelope__stale_crl_is_refused(void **state)
{
	struct fx *f = *state;
	ppx_opened *o = NULL;
	time_t later = time(NULL) + 90 * 24 * 3600;	/* past nextUpdate */

	assert_int_equal(ppx_message_open(&o, f->trust, f->frame, f->len,
					  "police.gwent", later),
			 PPX_ECRL);
	assert_null(o);
}

static void test_envelope__oversized_frame_is_refused_undecoded(void **state)
{
	struct fx *f = *state;
	size_t len = PPX_FRAME_MAX + 1;
	uint8_t *big = calloc(1, len);

	assert_int_equal(open_frame(f, big, len, "police.gwent"), PPX_ETOOBIG);
	free(big);
}

static void test_envelope__garbage_is_refused(void **state)
{
	struct fx *f = *state;
	uint8_t junk[512];

	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)(i * 37 + 11);
	assert_int_equal(open_frame(f, junk, sizeof(junk), NULL), PPX_EFRAME);
	assert_int_equal(open_frame(f, junk, 0, NULL), PPX_EFRAME);
}

static uint8_t *repack_frame(const uint8_t *frame, size_t len, size_t *outlen,
			     void (*edit)(Ppx__V1__Frame *))
{
	Ppx__V1__Frame *fr = ppx__v1__frame__unpack(NULL, len, frame);
	uint8_t *re;

	assert_non_null(fr);
	edit(fr);
	*outlen = ppx__v1__frame__get_packed_size(fr);
	re = malloc(*outlen);
	ppx__v1__frame__pack(fr, re);
	ppx__v1__frame__free_unpacked(fr, NULL);
	return re;
}

static void set_version_2(Ppx__V1__Frame *fr)
{
	fr->version = 2;
}

static void set_receipt_purpose(Ppx__V1__Frame *fr)
{
	fr->message->purpose = PPX__V1__SIGNED_PURPOSE__SIGNED_RECEIPT;
}

static Ppx__V1__BatchInclusion batch = PPX__V1__BATCH_INCLUSION__INIT;

static void add_batch(Ppx__V1__Frame *fr)
{
	fr->message->batch = &batch;
}

static void detach_batch(Ppx__V1__Frame *fr)
{
	fr->message->batch = NULL;
}

static void test_envelope__unknown_version_is_refused(void **state)
{
	struct fx *f = *state;
	size_t len;
	uint8_t *re = repack_frame(f->frame, f->len, &len, set_version_2);

	assert_int_equal(open_frame(f, re, len, NULL), PPX_EVERSION);
	assert_string_not_equal(ppx_error_last(), "");
	free(re);
}

/* A later version may lay its fields out differently: a version-2 frame
 * whose field 2 is a varint (not a version-1 Envelope) or that carries
 * fields version 1 does not know is still an unsupported version, not a
 * bad frame; so is a version that does not fit 32 bits. */
static void test_envelope__later_version_with_other_layout_is_unsupported(
	void **state)
{
	struct fx *f = *state;
	static const uint8_t other_layout[] = {0x08, 0x02, 0x10, 0x05, 0x1a,
					       0x01, 0x00};
	static const uint8_t unknown_fields[] = {0x08, 0x02, 0x7a, 0x02, 'h',
						 'i'};
	static const uint8_t wide[] = {0x08, 0x81, 0x80, 0x80, 0x80, 0x10};
	static const uint8_t none[] = {0x12, 0x00};

	assert_int_equal(open_frame(f, other_layout, sizeof(other_layout),
				    NULL), PPX_EVERSION);
	assert_int_equal(open_frame(f, unknown_fields, sizeof(unknown_fields),
				    NULL), PPX_EVERSION);
	assert_int_equal(open_frame(f, wide, sizeof(wide), NULL), PPX_EVERSION);
	assert_int_equal(open_frame(f, none, sizeof(none), NULL), PPX_EFRAME);
}

static void test_envelope__signature_for_another_purpose_is_refused(
	void **state)
{
	struct fx *f = *state;
	size_t len;
	uint8_t *re = repack_frame(f->frame, f->len, &len, set_receipt_purpose);

	assert_int_equal(open_frame(f, re, len, NULL), PPX_EPURPOSE);
	free(re);
}

static void test_envelope__batch_signature_is_refused_when_not_accepted(
	void **state)
{
	struct fx *f = *state;
	ppx_opened *o = NULL;
	Ppx__V1__Frame *fr = ppx__v1__frame__unpack(NULL, f->len, f->frame);
	size_t len;
	uint8_t *re;

	add_batch(fr);
	len = ppx__v1__frame__get_packed_size(fr);
	re = malloc(len);
	ppx__v1__frame__pack(fr, re);
	detach_batch(fr);
	ppx__v1__frame__free_unpacked(fr, NULL);
	assert_int_equal(ppx_message_open_batch(&o, f->trust, re, len, NULL,
						time(NULL), 0),
			 PPX_EBATCH);
	assert_null(o);
	/* Where batches are accepted, an empty inclusion is malformed. */
	assert_int_equal(open_frame(f, re, len, NULL), PPX_EFRAME);
	free(re);
}

static void test_envelope__body_without_person_is_refused(void **state)
{
	struct fx *f = *state;
	Ppx__V1__Person *p = f->body->sender_person;
	Ppx__V1__Person empty = PPX__V1__PERSON__INIT;
	uint8_t *frame = NULL;
	size_t len = 0;

	f->body->sender_person = &empty;
	assert_int_equal(ppx_body_seal(&frame, &len, f->police, f->body), 0);
	f->body->sender_person = p;
	assert_int_equal(open_frame(f, frame, len, NULL), PPX_EBODY);
	free(frame);
}

static void test_envelope__each_refusal_maps_to_its_own_reason(void **state)
{
	const int codes[] = {PPX_ETOOBIG, PPX_EFRAME, PPX_EVERSION,
			     PPX_EPURPOSE, PPX_EBATCH, PPX_EUNKNOWN_SIGNER,
			     PPX_EBADSIG, PPX_EUNTRUSTED, PPX_EEXPIRED,
			     PPX_ENOTYETVALID, PPX_EREVOKED, PPX_ECRL,
			     PPX_ESENDER, PPX_EBODY, PPX_EPOLICY,
			     PPX_ENOTRECIPIENT};
	const size_t n = sizeof(codes) / sizeof(codes[0]);

	(void)state;
	for (size_t i = 0; i < n; i++) {
		int r = ppx_error_reject_reason(codes[i]);

		assert_int_not_equal(r, PPX__V1__REJECT_REASON__REJECT_NONE);
		assert_int_not_equal(r, PPX__V1__REJECT_REASON__REJECT_INTERNAL);
		for (size_t j = 0; j < i; j++)
			assert_int_not_equal(r,
					     ppx_error_reject_reason(codes[j]));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
		T(test_envelope__sealed_message_opens_with_its_content),
		T(test_envelope__offline_open_needs_no_transport_agency),
		T(test_envelope__every_single_byte_change_is_refused),
		T(test_envelope__truncations_are_refused),
		T(test_envelope__signature_over_other_bytes_is_refused),
		T(test_envelope__unknown_signer_is_refused),
		T(test_envelope__wrong_ca_is_refused),
		T(test_envelope__expired_signer_is_refused),
		T(test_envelope__not_yet_valid_signer_is_refused),
		T(test_envelope__revoked_signer_is_refused),
		T(test_envelope__person_certificate_cannot_sign_for_agency),
		T(test_envelope__signer_other_than_transport_agency_is_refused),
		T(test_envelope__body_claiming_another_sender_is_refused),
		T(test_envelope__stale_crl_is_refused),
		T(test_envelope__oversized_frame_is_refused_undecoded),
		T(test_envelope__garbage_is_refused),
		T(test_envelope__unknown_version_is_refused),
		T(test_envelope__later_version_with_other_layout_is_unsupported),
		T(test_envelope__signature_for_another_purpose_is_refused),
		T(test_envelope__batch_signature_is_refused_when_not_accepted),
		T(test_envelope__body_without_person_is_refused),
		T(test_envelope__each_refusal_maps_to_its_own_reason),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
