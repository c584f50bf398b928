/*
 * test_evidence.c — the offline verifier of evidence bundles on what is
 * not a bundle, and the cosigned text it checks witnesses' signatures
 * over.
 *
 * Bundles made from real logs and every byte of them changed are tested
 * with real daemons in tests/integration/evidence.sh (build/tests/
 * evidence-flip); here the verifier meets input that must fail before any
 * certificate is needed, and must say which check failed, never crash.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ppx/error.h"
#include "ppx/evidence.h"
#include "ppx.pb-c.h"

/* Verify `buf` and expect a failure whose reason begins with `prefix`. */
static void expect_fail(const uint8_t *buf, size_t len, const char *prefix)
{
	ppx_evidence_report r;

	assert_int_equal(ppx_evidence_verify(&r, buf, len, NULL, 0), 0);
	assert_int_equal(r.ok, 0);
	if (strncmp(r.reason, prefix, strlen(prefix)) != 0)
		fail_msg("reason '%s', expected '%s...'", r.reason, prefix);
	ppx_evidence_report_clear(&r);
}

/* A bundle of `b` with the digest field appended, as ppx prove ends it. */
static uint8_t *pack(const Ppx__V1__EvidenceBundle *b, size_t *len)
{
	size_t n = ppx__v1__evidence_bundle__get_packed_size(b);
	uint8_t *buf = malloc(n + 34);

	assert_non_null(buf);
	ppx__v1__evidence_bundle__pack(b, buf);
	buf[n] = 0x7a;
	buf[n + 1] = 0x20;
	memset(buf + n + 2, 0, 32);
	*len = n + 34;
	return buf;
}

static void test_evidence__garbage_is_not_a_bundle(void **state)
{
	static const uint8_t junk[] = {0xff, 0xff, 0xff, 0x01, 0x02};

	(void)state;
	expect_fail(junk, sizeof(junk), "bundle: does not decode");
}

static void test_evidence__empty_file_has_no_version(void **state)
{
	(void)state;
	expect_fail((const uint8_t *)"", 0, "bundle: version 0");
}

static void test_evidence__other_version_is_refused(void **state)
{
	Ppx__V1__EvidenceBundle b = PPX__V1__EVIDENCE_BUNDLE__INIT;
	size_t len;
	uint8_t *buf;

	(void)state;
	b.version = 2;
	buf = pack(&b, &len);
	expect_fail(buf, len, "bundle: version 2");
	free(buf);
}

static void test_evidence__unknown_field_is_refused(void **state)
{
	Ppx__V1__EvidenceBundle b = PPX__V1__EVIDENCE_BUNDLE__INIT;
	size_t len;
	uint8_t *buf, *more;

	(void)state;
	b.version = 1;
	buf = pack(&b, &len);
	/* field 9, varint 1, before the digest */
	more = malloc(len + 2);
	assert_non_null(more);
	memcpy(more, buf, len - 34);
	more[len - 34] = 9 << 3;
	more[len - 33] = 1;
	memcpy(more + len - 32, buf + len - 34, 34);
	expect_fail(more, len + 2, "bundle: a field this version does not");
	free(buf);
	free(more);
}

static void test_evidence__digest_must_end_the_file(void **state)
{
	Ppx__V1__EvidenceBundle b = PPX__V1__EVIDENCE_BUNDLE__INIT;
	size_t n;
	uint8_t buf[8];

	(void)state;
	b.version = 1;
	n = ppx__v1__evidence_bundle__pack(&b, buf);
	expect_fail(buf, n, "bundle: the digest is not its last field");
}

static void test_evidence__a_bundle_without_proofs_fails(void **state)
{
	Ppx__V1__EvidenceBundle b = PPX__V1__EVIDENCE_BUNDLE__INIT;
	size_t len;
	uint8_t *buf;

	(void)state;
	b.version = 1;
	buf = pack(&b, &len);
	expect_fail(buf, len, "bundle: a message bundle needs a log proof");
	free(buf);
}

static void test_evidence__cosigned_text_is_c2sp(void **state)
{
	uint8_t root[32];
	char text[256];
	int n;

	(void)state;
	for (int i = 0; i < 32; i++)
		root[i] = (uint8_t)i;
	n = ppx_evidence_cosigned_text(text, sizeof(text), "police.gwent", 42,
				       root, 1700000000);
	assert_int_equal(n, (int)strlen(text));
	assert_string_equal(text,
			    "cosignature/v1\n"
			    "time 1700000000\n"
			    "police.gwent/ppx-log\n"
			    "42\n"
			    "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n");
	assert_int_equal(ppx_evidence_cosigned_text(text, 20, "police.gwent",
						    42, root, 1),
			 PPX_ERANGE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_evidence__garbage_is_not_a_bundle),
		cmocka_unit_test(test_evidence__empty_file_has_no_version),
		cmocka_unit_test(test_evidence__other_version_is_refused),
		cmocka_unit_test(test_evidence__unknown_field_is_refused),
		cmocka_unit_test(test_evidence__digest_must_end_the_file),
		cmocka_unit_test(test_evidence__a_bundle_without_proofs_fails),
		cmocka_unit_test(test_evidence__cosigned_text_is_c2sp),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
