/*
 * test_text.c — strings are text (lib/text.c): the strict UTF-8 table,
 * the check on serialised bytes (a NUL and what follows it, nested and
 * repeated fields named by their path, unknown fields skipped, broken
 * encodings refused), and what ppx writes: escaped error details, U+FFFD
 * for JSON and CSV, a body that is not text never signed, a receipt that
 * is not text never accepted.
 *
 * Bad bytes are patched into packed messages at a marker of the same
 * length, so that no length prefix changes: protobuf-c itself cannot put
 * a NUL inside a string.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ppx/envelope.h"
#include "ppx/error.h"
#include "ppx/json.h"
#include "ppx/receipt.h"
#include "ppx/text.h"
#include "support.h"

struct utf8_case {
	const char *bytes;
	size_t len;
	size_t bad;	/* offset of the first bad byte; len if text */
};

#define OK(s) {s, sizeof(s) - 1, sizeof(s) - 1}
#define BAD(s, at) {s, sizeof(s) - 1, at}

static const struct utf8_case utf8_cases[] = {
	OK(""),
	OK("plain ASCII ~"),
	OK("caf\xc3\xa9"),			/* U+00E9 */
	OK("\xc2\x80"),				/* U+0080, smallest 2-byte */
	OK("\xe2\x82\xac 10"),			/* U+20AC */
	OK("\xed\x9f\xbf"),			/* U+D7FF, below surrogates */
	OK("\xee\x80\x80"),			/* U+E000, above them */
	OK("\xef\xbf\xbf"),			/* U+FFFF */
	OK("\xf0\x9f\x98\x80"),			/* U+1F600 emoji */
	OK("\xf4\x8f\xbf\xbf"),			/* U+10FFFF, the last */
	OK("\xd0\x9e\xd0\xbb\xd1\x8c\xd0\xb3\xd0\xb0"),	/* Cyrillic */
	BAD("a\x80", 1),			/* lone continuation */
	BAD("\xc0\xaf", 0),			/* overlong '/' */
	BAD("\xc1\xbf", 0),			/* overlong 2-byte */
	BAD("\xe0\x80\xaf", 0),			/* overlong 3-byte */
	BAD("\xe0\x9f\xbf", 0),			/* overlong U+07FF */
	BAD("\xf0\x80\x80\xaf", 0),		/* overlong 4-byte */
	BAD("\xf0\x8f\xbf\xbf", 0),		/* overlong U+FFFF */
	BAD("ok\xed\xa0\x80", 2),		/* high surrogate U+D800 */
	BAD("\xed\xbf\xbf", 0),			/* low surrogate U+DFFF */
	BAD("\xf4\x90\x80\x80", 0),		/* U+110000 */
	BAD("\xf5\x80\x80\x80", 0),
	BAD("\xfe", 0),
	BAD("\xff", 0),
	BAD("\xe2\x82", 0),			/* cut short at the end */
	BAD("abc\xf0\x9f\x98", 3),
	BAD("\xe2\x28\xa1", 0),			/* bad second byte */
	BAD("\xc3\xa9\xc3", 2),
	BAD("a\0b", 1),				/* NUL is not text here */
};

static void test_text__utf8_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(utf8_cases) / sizeof(utf8_cases[0]);
	     i++) {
		const struct utf8_case *c = &utf8_cases[i];
		size_t got = ppx_utf8_find_bad((const uint8_t *)c->bytes,
					       c->len);

		if (got != c->bad)
			fail_msg("case %zu: first bad byte %zu, expected %zu",
				 i, got, c->bad);
	}
}

/* The packed bytes of `m`, malloc'd. */
static uint8_t *pack(const ProtobufCMessage *m, size_t *len)
{
	uint8_t *buf;

	*len = protobuf_c_message_get_packed_size(m);
	buf = malloc(*len ? *len : 1);
	assert_non_null(buf);
	protobuf_c_message_pack(m, buf);
	return buf;
}

/* Overwrite the one occurrence of `marker` in `buf` with `with` (the same
 * length), as a partner would craft it. */
static void patch(uint8_t *buf, size_t len, const char *marker,
		  const char *with, size_t n)
{
	uint8_t *at = memmem(buf, len, marker, n);

	assert_non_null(at);
	assert_null(memmem(at + 1, len - (size_t)(at - buf) - 1, marker, n));
	memcpy(at, with, n);
}

static int body_text(uint8_t *buf, size_t len)
{
	return ppx_text_check(&ppx__v1__body__descriptor, buf, len, NULL);
}

static void test_text__a_complete_body_is_text(void **state)
{
	Ppx__V1__Body *b = body_new("police.gwent", "probation.gwent");
	size_t len;
	uint8_t *buf;

	(void)state;
	free(b->sender_person->name);
	b->sender_person->name = strdup("Si\xc3\xa2n \xf0\x9f\x98\x80 O'Neill");
	buf = pack(&b->base, &len);
	assert_int_equal(body_text(buf, len), 0);
	free(buf);
	body_free(b);
}

static void test_text__bad_bytes_are_named_by_field(void **state)
{
	Ppx__V1__Body *b = body_new("police.gwent", "probation.gwent");
	size_t len;
	uint8_t *buf;

	(void)state;
	free(b->sender_person->id);
	b->sender_person->id = strdup("op-XYZ");
	buf = pack(&b->base, &len);
	patch(buf, len, "XYZ", "\xc0\xaf!", 3);
	assert_int_equal(body_text(buf, len), PPX_EBODY);
	assert_string_equal(ppx_error_last(),
			    "sender_person.id: invalid UTF-8 at byte 3 "
			    "(\"op-\\xc0\\xaf!\")");
	assert_int_equal(ppx_text_check(&ppx__v1__body__descriptor, buf, len,
					"message from prison.cardiff"),
			 PPX_EBODY);
	assert_string_equal(ppx_error_last(),
			    "message from prison.cardiff: sender_person.id: "
			    "invalid UTF-8 at byte 3 (\"op-\\xc0\\xaf!\")");
	free(buf);
	body_free(b);
}

/* A NUL: protobuf-c would decode "op-" and hide the rest. */
static void test_text__nul_inside_a_string_is_refused(void **state)
{
	Ppx__V1__Body *b = body_new("police.gwent", "probation.gwent");
	Ppx__V1__Body *decoded;
	size_t len;
	uint8_t *buf;

	(void)state;
	free(b->notification->details);
	b->notification->details = strdup("seen at MARKER by officer");
	buf = pack(&b->base, &len);
	patch(buf, len, "MARKER", "home\0X", 6);
	decoded = ppx__v1__body__unpack(NULL, len, buf);
	assert_non_null(decoded);
	assert_string_equal(decoded->notification->details, "seen at home");
	ppx__v1__body__free_unpacked(decoded, NULL);
	assert_int_equal(body_text(buf, len), PPX_EBODY);
	assert_string_equal(ppx_error_last(),
			    "notification.details: NUL at byte 12 "
			    "(\"seen at home\\x00X by officer\")");
	free(buf);
	body_free(b);
}

/* Repeated strings and repeated messages name their element. */
static void test_text__repeated_and_nested_fields_name_the_element(
	void **state)
{
	static const char json[] =
		"{\"recipients\":[\"a\",\"b\",\"RCPT\"],"
		"\"subject\":{\"aliases\":[\"x\",\"ALIAS\"]},"
		"\"minutes\":{\"actual\":[{\"person\":{\"name\":\"A\"}},"
		"{\"person\":{\"name\":\"B\"}},"
		"{\"person\":{\"name\":\"Dana NAME\"}}],"
		"\"actions\":[{\"owner\":{\"agency\":\"OWNER\"}}]}}";
	ProtobufCMessage *m = NULL;
	size_t len;
	uint8_t *buf;

	(void)state;
	assert_int_equal(ppx_json_parse(&m, &ppx__v1__body__descriptor, json,
					sizeof(json) - 1),
			 0);
	buf = pack(m, &len);
	assert_int_equal(body_text(buf, len), 0);
	patch(buf, len, "NAME", "N\xed\xa0\x80", 4);
	assert_int_equal(body_text(buf, len), PPX_EBODY);
	assert_string_equal(ppx_error_last(),
			    "minutes.actual[2].person.name: invalid UTF-8 at "
			    "byte 6 (\"Dana N\\xed\\xa0\\x80\")");
	patch(buf, len, "N\xed\xa0\x80", "NAME", 4);
	patch(buf, len, "ALIAS", "ALI\xff\xfe", 5);
	assert_int_equal(body_text(buf, len), PPX_EBODY);
	assert_string_equal(ppx_error_last(),
			    "subject.aliases[1]: invalid UTF-8 at byte 3 "
			    "(\"ALI\\xff\\xfe\")");
	patch(buf, len, "ALI\xff\xfe", "ALIAS", 5);
	patch(buf, len, "RCPT", "RC\0T", 4);
	assert_int_equal(body_text(buf, len), PPX_EBODY);
	assert_string_equal(ppx_error_last(),
			    "recipients[2]: NUL at byte 2 (\"RC\\x00T\")");
	patch(buf, len, "RC\0T", "RCPT", 4);
	patch(buf, len, "OWNER", "OWNE\x80", 5);
	assert_int_equal(body_text(buf, len), PPX_EBODY);
	assert_string_equal(ppx_error_last(),
			    "minutes.actions[0].owner.agency: invalid UTF-8 at "
			    "byte 4 (\"OWNE\\x80\")");
	free(buf);
	protobuf_c_message_free_unpacked(m, NULL);
}

/* Fields this build does not know are covered by the signature and
 * tolerated (PROTOCOL.md section 2): their bytes are not judged. */
static void test_text__unknown_fields_are_skipped(void **state)
{
	static const uint8_t unknown[] = {0xba, 0x3e, 3, 0xff, 0x00, 0xfe,
					  0xf8, 0x3e, 0x96, 0x01};
	Ppx__V1__Body *b = body_new("police.gwent", "probation.gwent");
	size_t len;
	uint8_t *buf = pack(&b->base, &len), *more;

	(void)state;
	more = malloc(len + sizeof(unknown));
	assert_non_null(more);
	memcpy(more, buf, len);
	memcpy(more + len, unknown, sizeof(unknown));	/* fields 999, 1007 */
	assert_int_equal(body_text(more, len + sizeof(unknown)), 0);
	free(more);
	free(buf);
	body_free(b);
}

static void test_text__broken_encodings_are_refused(void **state)
{
	static const uint8_t cut[] = {0x12, 5, 'a', 'b'};	/* 5 of 2 */
	static const uint8_t group[] = {0x13, 0x14};
	static const uint8_t field0[] = {0x02, 0x00};
	static const uint8_t varint[] = {0x08, 0xff, 0xff};

	(void)state;
	assert_int_equal(body_text((uint8_t *)cut, sizeof(cut)), PPX_EBODY);
	assert_string_equal(ppx_error_last(),
			    "not a protobuf encoding at byte 2");
	assert_int_equal(body_text((uint8_t *)group, sizeof(group)),
			 PPX_EBODY);
	assert_int_equal(body_text((uint8_t *)field0, sizeof(field0)),
			 PPX_EBODY);
	assert_int_equal(body_text((uint8_t *)varint, sizeof(varint)),
			 PPX_EBODY);
	assert_int_equal(body_text(NULL, 0), 0);
}

static void test_text__escape_keeps_text_and_cuts_at_a_character(
	void **state)
{
	static const char in[] = "a\xff" "b\n\x7f\xc3\xa9\0z";
	char out[64], small[6];
	size_t n;

	(void)state;
	n = ppx_text_escape(out, sizeof(out), in, sizeof(in) - 1);
	assert_int_equal(n, strlen(out));
	assert_string_equal(out, "a\\xffb\\x0a\\x7f\xc3\xa9\\x00z");
	/* "ab" + the 2-byte e-acute fits in 6 with the NUL, a third
	 * character would not: never half of one. */
	ppx_text_escape(small, sizeof(small), "ab\xc3\xa9\xc3\xa9", 6);
	assert_string_equal(small, "ab\xc3\xa9");
	ppx_text_escape(small, sizeof(small), "abc\xff", 4);
	assert_string_equal(small, "abc");
	ppx_text_escape(small, 1, "abc", 3);
	assert_string_equal(small, "");
}

static void test_text__repair_replaces_each_bad_byte(void **state)
{
	size_t len;
	char *s;

	(void)state;
	s = ppx_text_repair("a\xff\0b\xc3\xa9\xed\xa0", 8, &len);
	assert_non_null(s);
	assert_int_equal(len, strlen(s));
	assert_string_equal(s, "a\xef\xbf\xbd\xef\xbf\xbd" "b\xc3\xa9"
			       "\xef\xbf\xbd\xef\xbf\xbd");
	free(s);
	s = ppx_text_repair("", 0, NULL);
	assert_string_equal(s, "");
	free(s);
}

/* Error details travel into receipts and the log: they are text. */
static void test_text__error_details_are_text(void **state)
{
	(void)state;
	assert_int_equal(ppx_error_set(PPX_EBODY, "sender %s is not %s",
				       "pri\xffson\nFAKE LINE", "us"),
			 PPX_EBODY);
	assert_string_equal(ppx_error_last(),
			    "sender pri\\xffson\\x0aFAKE LINE is not us");
	assert_int_equal(ppx_utf8_find_bad((const uint8_t *)ppx_error_last(),
					   strlen(ppx_error_last())),
			 strlen(ppx_error_last()));
}

static void test_text__a_body_that_is_not_text_is_never_signed(void **state)
{
	ppx_signer *s = signer_at("police.gwent");
	Ppx__V1__Body *b = body_new("police.gwent", "probation.gwent");
	uint8_t *frame = NULL;
	size_t len = 0;

	(void)state;
	assert_non_null(s);
	free(b->subject->crn);
	b->subject->crn = strdup("X12\xe2\x82");
	assert_int_equal(ppx_body_seal(&frame, &len, s, b), PPX_EBODY);
	assert_null(frame);
	assert_string_equal(ppx_error_last(),
			    "message to send: subject.crn: invalid UTF-8 at "
			    "byte 3 (\"X12\\xe2\\x82\")");
	body_free(b);
	ppx_signer_free(s);
}

/* A partner's receipt whose detail is not text is refused, naming it. */
static void test_text__a_receipt_that_is_not_text_is_refused(void **state)
{
	ppx_signer *s = signer_at("probation.gwent");
	ppx_trust *t = trust_demo();
	Ppx__V1__ReceiptBody r = PPX__V1__RECEIPT_BODY__INIT, *out = NULL;
	Ppx__V1__ReceiptItem it = PPX__V1__RECEIPT_ITEM__INIT, *ip = &it;
	uint8_t hash[PPX_HASH_LEN] = {1}, *frame = NULL;
	size_t len = 0;

	(void)state;
	assert_non_null(s);
	assert_non_null(t);
	it.body_hash.data = hash;
	it.body_hash.len = sizeof(hash);
	it.status = PPX__V1__RECEIPT_STATUS__REFUSED;
	it.reason = PPX__V1__REJECT_REASON__REJECT_POLICY;
	it.detail = "refused \xc3";
	r.receiver_agency = "probation.gwent";
	r.sender_agency = "police.gwent";
	r.time_ms = 1;
	r.n_items = 1;
	r.items = &ip;
	assert_int_equal(ppx_receipt_seal(&frame, &len, s, &r), 0);
	assert_int_equal(ppx_receipt_open(&out, t, frame, len,
					  "probation.gwent", "police.gwent",
					  time(NULL)),
			 PPX_EBODY);
	assert_null(out);
	assert_string_equal(ppx_error_last(),
			    "receipt from probation.gwent: items[0].detail: "
			    "invalid UTF-8 at byte 8 (\"refused \\xc3\")");
	free(frame);
	ppx_trust_free(t);
	ppx_signer_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text__utf8_table),
		cmocka_unit_test(test_text__a_complete_body_is_text),
		cmocka_unit_test(test_text__bad_bytes_are_named_by_field),
		cmocka_unit_test(test_text__nul_inside_a_string_is_refused),
		cmocka_unit_test(
			test_text__repeated_and_nested_fields_name_the_element),
		cmocka_unit_test(test_text__unknown_fields_are_skipped),
		cmocka_unit_test(test_text__broken_encodings_are_refused),
		cmocka_unit_test(
			test_text__escape_keeps_text_and_cuts_at_a_character),
		cmocka_unit_test(test_text__repair_replaces_each_bad_byte),
		cmocka_unit_test(test_text__error_details_are_text),
		cmocka_unit_test(
			test_text__a_body_that_is_not_text_is_never_signed),
		cmocka_unit_test(
			test_text__a_receipt_that_is_not_text_is_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
