/*
 * test_note.c — the C2SP text forms of checkpoints and cosignatures.
 *
 * The known answers are the signed-note example of golang.org/x/mod's
 * sumdb/note (PeterNeumann: its verifier key's id c74f20a3 and its
 * signature line, Ed25519 being deterministic) and the cosigned message of
 * C2SP tlog-cosignature; the rest are round trips and the strictness of
 * the parser the signer process relies on.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "ppx/error.h"
#include "ppx/note.h"

static const char peter_vkey_b64[] =
	"ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
static const char peter_skey_b64[] =
	"AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
static const char peter_text[] =
	"If you think cryptography is the answer to your problem,\n"
	"then you don't know what your problem is.\n";
static const char peter_sig_b64[] =
	"x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqf"
	"qdngotpRZb6KE6RyyBwJnAM=";

/* Decode base64 of 33 bytes (type byte and key) into out. */
static void decode33(uint8_t out[33], const char *b64)
{
	uint8_t raw[36];

	assert_int_equal(EVP_DecodeBlock(raw, (const unsigned char *)b64,
					 (int)strlen(b64)), 33);
	memcpy(out, raw, 33);
}

static void test_note__key_id_matches_signed_note_example(void **state)
{
	uint8_t vkey[33], id[4];
	const uint8_t want[4] = {0xc7, 0x4f, 0x20, 0xa3};

	(void)state;
	decode33(vkey, peter_vkey_b64);
	assert_int_equal(vkey[0], PPX_NOTE_TYPE_ED25519);
	ppx_note_key_id(id, "PeterNeumann", vkey[0], vkey + 1, 32);
	assert_memory_equal(id, want, 4);
}

static void test_note__signature_matches_signed_note_example(void **state)
{
	uint8_t skey[33], vkey[33], blob[68];
	unsigned char b64[100];
	size_t n = 64;
	EVP_PKEY *k;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	(void)state;
	decode33(skey, peter_skey_b64);
	decode33(vkey, peter_vkey_b64);
	k = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, skey + 1, 32);
	assert_non_null(k);
	ppx_note_key_id(blob, "PeterNeumann", PPX_NOTE_TYPE_ED25519, vkey + 1,
			32);
	assert_int_equal(EVP_DigestSignInit(ctx, NULL, NULL, NULL, k), 1);
	assert_int_equal(EVP_DigestSign(ctx, blob + 4, &n,
					(const uint8_t *)peter_text,
					strlen(peter_text)), 1);
	EVP_EncodeBlock(b64, blob, 68);
	assert_string_equal((char *)b64, peter_sig_b64);
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(k);
}

static void test_note__cosigned_message_matches_tlog_cosignature(void **state)
{
	static const char note[] = "example.com/behind-the-sofa\n20852163\n"
				   "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";
	char out[PPX_NOTE_MAX];
	size_t len = 0;

	(void)state;
	assert_int_equal(ppx_note_cosigned_message(out, sizeof(out), &len,
						   1679315147, note,
						   strlen(note)), 0);
	assert_string_equal(out, "cosignature/v1\ntime 1679315147\n"
				 "example.com/behind-the-sofa\n20852163\n"
				 "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n");
	assert_int_equal(len, strlen(out));
}

static void test_note__checkpoint_text_round_trips(void **state)
{
	uint8_t root[32], back[32];
	char text[PPX_NOTE_MAX], agency[PPX_NAME_MAX];
	uint64_t sizes[] = {0, 1, 12, UINT64_MAX}, size;
	size_t len;

	(void)state;
	for (size_t i = 0; i < 32; i++)
		root[i] = (uint8_t)(i * 7);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		assert_int_equal(ppx_note_checkpoint_text(text, sizeof(text),
							  &len, "police",
							  sizes[i], root), 0);
		assert_int_equal(ppx_note_checkpoint_parse(
					 agency, &size, back,
					 (const uint8_t *)text, len), 0);
		assert_string_equal(agency, "police");
		assert_true(size == sizes[i]);
		assert_memory_equal(back, root, 32);
	}
	assert_int_equal(ppx_note_checkpoint_text(text, sizeof(text), &len,
						  "police", 12, root), 0);
	assert_int_equal(strncmp(text, "police/ppx-log\n12\n", 18), 0);
}

static void test_note__bad_names_are_no_origin(void **state)
{
	uint8_t root[32] = {0};
	char text[PPX_NOTE_MAX];
	size_t len;

	(void)state;
	assert_int_equal(ppx_note_checkpoint_text(text, sizeof(text), &len,
						  "two words", 1, root),
			 PPX_EINVAL);
	assert_int_equal(ppx_note_checkpoint_text(text, sizeof(text), &len,
						  "a+b", 1, root), PPX_EINVAL);
	assert_int_equal(ppx_note_checkpoint_text(text, sizeof(text), &len,
						  "", 1, root), PPX_EINVAL);
}

#define ROOT0 "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"

static void test_note__parser_takes_only_the_one_spelling(void **state)
{
	static const char *bad[] = {
		"police/ppx-log\n012\n" ROOT0,		/* leading zero */
		"police/ppx-log\n12\n" ROOT0 "ext\n",	/* extension line */
		"police/ppx-log\n12\n" "AAAA\n",		/* short root */
		"police/ppx-log\n12\n" ROOT0 "\n",	/* blank line */
		"police/other\n12\n" ROOT0,		/* not a ppx log */
		"/ppx-log\n12\n" ROOT0,			/* no agency */
		"police/ppx-log\n-1\n" ROOT0,
		"police/ppx-log\n18446744073709551616\n" ROOT0, /* 2^64 */
		"police/ppx-log\n12\n"
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB=\n", /* not canonical */
		"police/ppx-log\n12\n" "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
	};
	char agency[PPX_NAME_MAX];
	uint8_t root[32];
	uint64_t size;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(ppx_note_checkpoint_parse(
					 agency, &size, root,
					 (const uint8_t *)bad[i],
					 strlen(bad[i])), PPX_EINVAL);
	assert_int_equal(ppx_note_checkpoint_parse(
				 agency, &size, root,
				 (const uint8_t *)"police/ppx-log\n0\n" ROOT0,
				 strlen("police/ppx-log\n0\n" ROOT0)), 0);
}

static void test_note__sign_form_names_its_kind(void **state)
{
	static const char note[] = "police/ppx-log\n3\n" ROOT0;
	static const char cosig[] = "cosignature/v1\ntime 5\n"
				    "police/ppx-log\n3\n" ROOT0;
	static const char two[] = "cosignature/v1\ntime 5\ntime 5\n"
				  "police/ppx-log\n3\n" ROOT0;

	(void)state;
	assert_int_equal(ppx_note_sign_form((const uint8_t *)note,
					    strlen(note), "police"), 1);
	assert_int_equal(ppx_note_sign_form((const uint8_t *)note,
					    strlen(note), "prison"), 0);
	assert_int_equal(ppx_note_sign_form((const uint8_t *)cosig,
					    strlen(cosig), "prison"), 2);
	assert_int_equal(ppx_note_sign_form((const uint8_t *)two,
					    strlen(two), "prison"), 0);
	assert_int_equal(ppx_note_sign_form((const uint8_t *)note,
					    sizeof(note), "police"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test(name)
		T(test_note__key_id_matches_signed_note_example),
		T(test_note__signature_matches_signed_note_example),
		T(test_note__cosigned_message_matches_tlog_cosignature),
		T(test_note__checkpoint_text_round_trips),
		T(test_note__bad_names_are_no_origin),
		T(test_note__parser_takes_only_the_one_spelling),
		T(test_note__sign_form_names_its_kind),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
