/*
 * test_keywipe.c — private keys are wiped before the memory holding them
 * is given back.
 *
 * The test installs scanning allocators and then drives ppx's real API the
 * way ppxd does: load the signing key and sign, load the transport key and
 * hand it to the transport, free everything.  Every block released while
 * the scanner is armed is searched for the secrets of the demo agency
 * police.gwent:
 *
 *   - the raw 32-byte Ed25519 signing key and X25519 transport key;
 *   - the key-bearing base64 of their PEM files (the body line from its
 *     25th character on, which encodes DER bytes 18..47, that is the last
 *     30 bytes of the raw key).
 *
 * Two doors are watched.  OpenSSL's allocations go through
 * CRYPTO_set_mem_functions(), which must be called before OpenSSL
 * allocates anything, hence first thing in main().  ppx's own free() and
 * realloc() calls reach __wrap_free and __wrap_realloc because this
 * program alone is linked with -Wl,--wrap=free,--wrap=realloc (the
 * Makefile); libppx.a and libppxd.a are linked statically, so the wrap
 * covers lib/ and daemon/.
 *
 * What it cannot see: blocks that shared libraries other than libcrypto
 * free themselves (libc's stdio buffers, libzmq, which keeps its own copies
 * of the CURVE secret and does not wipe them; see certs/README.md), and
 * memory never freed (the stack, which ppx wipes by hand).  The secrets are
 * extracted on the stack, without the heap, so that the heap holds no copy
 * before the scanner is armed; the controls show the scanner does find an
 * unwiped copy through either door.
 */
#include <fcntl.h>
#include <malloc.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <zmq.h>

#if defined(__has_include)
#if __has_include(<valgrind/memcheck.h>)
#include <valgrind/memcheck.h>
#endif
#endif
#ifndef VALGRIND_MAKE_MEM_DEFINED
#define VALGRIND_MAKE_MEM_DEFINED(p, n) ((void)(p), (void)(n))
#endif

#include "ppx/config.h"
#include "../../daemon/state.h"
#include "../../daemon/transport.h"
#include "ppx/error.h"
#include "ppx/pki.h"
#include "support.h"

#define AGENCY "police.gwent"
#define B64_FROM 24	/* first base64 character that encodes only key bytes */
#define HITS_MAX 16

/* The linker's names for the real functions and for ours. */
void __real_free(void *p);
void *__real_realloc(void *p, size_t n);
void __wrap_free(void *p);
void *__wrap_realloc(void *p, size_t n);

struct secret {
	const char *what;
	uint8_t bytes[64];
	size_t len;
};

struct hit {
	const char *what;
	const char *file;	/* where OpenSSL freed it, or "ppx" */
	int line;
	size_t size;
};

enum { SIGNING_RAW, SIGNING_B64, TRANSPORT_RAW, TRANSPORT_B64, N_SECRETS };
static struct secret secrets[N_SECRETS];
static volatile int armed;
static int n_hits;
static struct hit hits[HITS_MAX];

/*
 * Search a block about to be released for every secret.  Runs inside
 * free(), so it must not allocate: hits go to a fixed array.  The slack
 * malloc_usable_size() reports is searched too; under valgrind it may be
 * uninitialised, which is harmless here, so it is declared defined.
 */
static void scan(const void *p, const char *file, int line)
{
	size_t n;

	if (!armed || !p)
		return;
	n = malloc_usable_size((void *)p);
	VALGRIND_MAKE_MEM_DEFINED(p, n);
	for (int i = 0; i < N_SECRETS; i++) {
		if (secrets[i].len == 0 ||
		    !memmem(p, n, secrets[i].bytes, secrets[i].len))
			continue;
		if (n_hits < HITS_MAX)
			hits[n_hits] = (struct hit){ secrets[i].what,
						     file ? file : "?", line,
						     n };
		n_hits++;
	}
}

void __wrap_free(void *p)
{
	scan(p, "ppx", 0);
	__real_free(p);
}

/* A realloc may move the block and leave the old bytes behind, so a
 * secret in the old block counts as given back unwiped. */
void *__wrap_realloc(void *p, size_t n)
{
	scan(p, "ppx", 0);
	return __real_realloc(p, n);
}

static void *ossl_malloc(size_t n, const char *file, int line)
{
	(void)file;
	(void)line;
	return malloc(n);
}

static void *ossl_realloc(void *p, size_t n, const char *file, int line)
{
	scan(p, file, line);
	return __real_realloc(p, n);
}

static void ossl_free(void *p, const char *file, int line)
{
	scan(p, file, line);
	__real_free(p);
}

static void arm(void)
{
	n_hits = 0;
	armed = 1;
}

/* Disarm and report every hit; returns how many there were. */
static int disarm(void)
{
	armed = 0;
	for (int i = 0; i < n_hits && i < HITS_MAX; i++)
		print_message("# freed block of %zu bytes held the %s "
			      "(released at %s:%d)\n",
			      hits[i].size, hits[i].what, hits[i].file,
			      hits[i].line);
	return n_hits;
}

/*
 * Read the PEM key file `rel` of the demo PKI into secrets[raw] and
 * secrets[b64], on the stack only.  The file must be the one-line PKCS#8
 * of an Ed25519 or X25519 key: 16 bytes of DER header, then the key.
 */
static void extract(const char *rel, int raw, int b64, const char *what_raw,
		    const char *what_b64)
{
	static const uint8_t header[14] = { 0x30, 0x2e, 0x02, 0x01, 0x00,
					    0x30, 0x05, 0x06, 0x03, 0x2b,
					    0x65, 0x00, 0x04, 0x22 };
	char text[512], *line, *end;
	uint8_t der[64];
	ssize_t n;
	int fd = open(pki_path(rel), O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		fail_msg("cannot open %s (run make pki)", pki_path(rel));
	n = read(fd, text, sizeof(text) - 1);
	close(fd);
	assert_true(n > 0);
	text[n] = '\0';
	line = strchr(text, '\n');
	assert_non_null(line);
	line++;
	end = strchr(line, '\n');
	assert_non_null(end);
	assert_int_equal(end - line, 64);
	assert_int_equal(EVP_DecodeBlock(der, (unsigned char *)line, 64), 48);
	assert_memory_equal(der, header, 11);	/* up to the curve's OID byte */
	assert_memory_equal(der + 12, header + 12, 2);
	assert_int_equal(der[14], 0x04);
	assert_int_equal(der[15], 32);
	secrets[raw].what = what_raw;
	memcpy(secrets[raw].bytes, der + 16, 32);
	secrets[raw].len = 32;
	secrets[b64].what = what_b64;
	memcpy(secrets[b64].bytes, line + B64_FROM, 64 - B64_FROM);
	secrets[b64].len = 64 - B64_FROM;
	ppx_wipe(text, sizeof(text));
	ppx_wipe(der, sizeof(der));
}

static int secrets_load(void **state)
{
	(void)state;
	extract("agencies/" AGENCY "/signing.key", SIGNING_RAW, SIGNING_B64,
		"raw Ed25519 signing key", "base64 of the signing key");
	extract("agencies/" AGENCY "/transport.key", TRANSPORT_RAW,
		TRANSPORT_B64, "raw X25519 transport key",
		"base64 of the transport key");
	return 0;
}

static int secrets_wipe(void **state)
{
	(void)state;
	ppx_wipe(secrets, sizeof(secrets));
	return 0;
}

/* The scanner is worth something only if it can fail: an unwiped copy
 * released through either door is found, a wiped one is not. */
static void test_keywipe__scanner_finds_an_unwiped_copy(void **state)
{
	/* volatile, so that the compiler cannot drop the copy as a store
	 * to memory about to be freed */
	void *volatile ours;
	void *volatile theirs;

	(void)state;
	arm();
	ours = malloc(100);
	assert_non_null(ours);
	memcpy((uint8_t *)ours + 7, secrets[SIGNING_RAW].bytes, 32);
	free(ours);
	assert_int_equal(disarm(), 1);
	assert_string_equal(hits[0].what, secrets[SIGNING_RAW].what);

	arm();
	theirs = OPENSSL_malloc(200);
	assert_non_null(theirs);
	memcpy((uint8_t *)theirs + 50, secrets[TRANSPORT_B64].bytes,
	       secrets[TRANSPORT_B64].len);
	OPENSSL_free(theirs);
	assert_int_equal(disarm(), 1);
	assert_string_equal(hits[0].what, secrets[TRANSPORT_B64].what);

	arm();
	ours = malloc(100);
	assert_non_null(ours);
	memcpy(ours, secrets[TRANSPORT_RAW].bytes, 32);
	ppx_wipe(ours, 100);
	free(ours);
	assert_int_equal(disarm(), 0);
}

static void test_keywipe__signing_key_is_wiped_after_signing(void **state)
{
	char key[4096], cert[4096];
	static const uint8_t msg[] = "release date 2026-11-21";
	uint8_t sig[PPX_SIG_MAX];
	size_t siglen = 0;
	ppx_signer *s = NULL;

	(void)state;
	snprintf(key, sizeof(key), "%s", pki_path("agencies/" AGENCY "/signing.key"));
	snprintf(cert, sizeof(cert), "%s", pki_path("agencies/" AGENCY "/signing.crt"));
	arm();
	assert_int_equal(ppx_signer_load(&s, key, cert), 0);
	assert_int_equal(ppx_signer_sign(s, sig, sizeof(sig), &siglen, msg,
					 sizeof(msg)),
			 0);
	assert_int_equal(ppx_cert_verify_signature(ppx_signer_cert(s), sig,
						   siglen, msg, sizeof(msg)),
			 0);
	ppx_signer_free(s);
	assert_int_equal(disarm(), 0);
}

/* A key refused because it does not match its certificate is wiped on
 * the error path too. */
static void test_keywipe__refused_signing_key_is_wiped(void **state)
{
	char key[4096], cert[4096];
	ppx_signer *s = NULL;

	(void)state;
	snprintf(key, sizeof(key), "%s", pki_path("agencies/" AGENCY "/signing.key"));
	snprintf(cert, sizeof(cert), "%s",
		 pki_path("agencies/probation.gwent/signing.crt"));
	arm();
	assert_int_equal(ppx_signer_load(&s, key, cert), PPX_EINVAL);
	assert_null(s);
	assert_int_equal(disarm(), 0);
}

/*
 * The transport key as ppxd handles it: read into a stack buffer, given
 * to transport_new(), which copies it and sets it on the ROUTER and on the
 * DEALER of a partner, then wiped on the stack; transport_free() wipes its
 * copy.
 */
static void test_keywipe__transport_key_is_wiped_after_transport_free(
	void **state)
{
	static struct ppx_config cfg;
	static struct ppx_partner partner = {
		.name = "probation.gwent",
		.endpoint = "tcp://127.0.0.1:9",
	};
	struct ppxd d = { .cfg = &cfg };
	uint8_t secret[32], pub[32];

	(void)state;
	snprintf(cfg.agency, sizeof(cfg.agency), "%s", AGENCY);
	snprintf(cfg.listen, sizeof(cfg.listen), "tcp://127.0.0.1:*");
	cfg.retry_initial_ms = 100;
	cfg.retry_max_ms = 1000;
	cfg.window = 16;
	cfg.heartbeat_ms = 500;
	cfg.heartbeat_timeout_ms = 3000;
	cfg.max_frame = 65536;
	cfg.partners = &partner;
	cfg.n_partners = 1;
	arm();
	d.trust = trust_demo();
	d.zctx = zmq_ctx_new();
	assert_non_null(d.zctx);
	assert_int_equal(ppx_transport_key_load(secret, pub,
				pki_path("agencies/" AGENCY "/transport.key")),
			 0);
	assert_memory_equal(secret, secrets[TRANSPORT_RAW].bytes, 32);
	assert_int_equal(transport_new(&d.transport, &d, secret, pub), 0);
	ppx_wipe(secret, sizeof(secret));
	assert_int_equal(transport_link_open(d.transport, 0), 1);
	transport_free(&d.transport);
	assert_int_equal(zmq_ctx_term(d.zctx), 0);
	ppx_trust_free(d.trust);
	assert_int_equal(disarm(), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keywipe__scanner_finds_an_unwiped_copy),
		cmocka_unit_test(test_keywipe__signing_key_is_wiped_after_signing),
		cmocka_unit_test(test_keywipe__refused_signing_key_is_wiped),
		cmocka_unit_test(
			test_keywipe__transport_key_is_wiped_after_transport_free),
	};

	/* Before anything else: OpenSSL accepts allocators only until its
	 * first allocation. */
	if (!CRYPTO_set_mem_functions(ossl_malloc, ossl_realloc, ossl_free)) {
		fprintf(stderr, "test_keywipe: OpenSSL allocated before main(); "
				"cannot watch its frees\n");
		return 1;
	}
	return cmocka_run_group_tests(tests, secrets_load, secrets_wipe);
}
