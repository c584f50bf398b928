/*
 * test_signer.c — the signer process (daemon/signer.c): its request
 * checks called directly, and a real signer forked from the demo police
 * key, talked to through ppx_signer_sign() and, for what the daemon never
 * sends, straight over its socket.
 */
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "ppx/config.h"
#include "ppx/error.h"
#include "../../daemon/signer.h"
#include "support.h"

#define MAX 1000	/* payload limit given to the checks */

/* A request packet: header for a `len`-byte message, then `n` bytes. */
static size_t packet(uint8_t *buf, uint16_t version, uint16_t type,
		     uint32_t len, const void *data, size_t n)
{
	struct signer_hdr h = {version, type, 7, len, 0};

	memcpy(buf, &h, SIGNER_HDR_LEN);
	memcpy(buf + SIGNER_HDR_LEN, data, n);
	return SIGNER_HDR_LEN + n;
}

static void test_signer__parse_accepts_a_well_formed_request(void **state)
{
	uint8_t buf[64];
	struct signer_hdr h;
	size_t n = packet(buf, SIGNER_VERSION, SIGNER_SIGN, 12,
			  "ppx/v1/body\0", 12);

	(void)state;
	assert_int_equal(signer_parse_request(&h, buf, n, 0, MAX), 0);
	assert_int_equal(h.id, 7);
	assert_int_equal(h.len, 12);
}

static void test_signer__parse_refuses_malformed_requests(void **state)
{
	uint8_t buf[64];
	struct signer_hdr h;
	size_t n;

	(void)state;
	n = packet(buf, SIGNER_VERSION, SIGNER_SIGN, 4, "abcd", 4);
	assert_int_equal(signer_parse_request(&h, buf, SIGNER_HDR_LEN - 1, 0,
					      MAX), PPX_EFRAME);
	assert_non_null(strstr(ppx_error_last(), "shorter than a header"));
	assert_int_equal(signer_parse_request(&h, buf, n, 1, MAX), PPX_EFRAME);
	n = packet(buf, 2, SIGNER_SIGN, 4, "abcd", 4);
	assert_int_equal(signer_parse_request(&h, buf, n, 0, MAX),
			 PPX_EVERSION);
	n = packet(buf, SIGNER_VERSION, SIGNER_SIGNATURE, 4, "abcd", 4);
	assert_int_equal(signer_parse_request(&h, buf, n, 0, MAX), PPX_EFRAME);
	n = packet(buf, SIGNER_VERSION, SIGNER_SIGN, 0, "", 0);
	assert_int_equal(signer_parse_request(&h, buf, n, 0, MAX), PPX_EFRAME);
	/* the length says 5, the packet holds 4 */
	n = packet(buf, SIGNER_VERSION, SIGNER_SIGN, 5, "abcd", 4);
	assert_int_equal(signer_parse_request(&h, buf, n, 0, MAX), PPX_EFRAME);
	n = packet(buf, SIGNER_VERSION, SIGNER_SIGN, 3, "abcd", 4);
	assert_int_equal(signer_parse_request(&h, buf, n, 0, MAX), PPX_EFRAME);
	n = packet(buf, SIGNER_VERSION, SIGNER_SIGN, 4, "abcd", 4);
	assert_int_equal(signer_parse_request(&h, buf, n, 0, 3), PPX_ETOOBIG);
}

/* Checkpoint notes (lib/note.c) of police and of prison, and a
 * cosignature/v1 message over prison's. */
#define ROOT0 "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"
#define N1 "police/ppx-log\n12\n" ROOT0
#define N2 "prison/ppx-log\n12\n" ROOT0
#define C2 "cosignature/v1\ntime 1700000000\n" N2
#define C0 "cosignature/v1\ntime 01\n" N1

static void test_signer__only_ppx_labels_are_signed(void **state)
{
	static const struct {
		const char *msg;
		size_t len;
		int ok;
	} cases[] = {
		{"ppx/v1/body\0x", 13, 1},
		{"ppx/v1/receipt\0", 15, 1},
		{"ppx/v1/checkpoint\0xyz", 21, 1},
		{"ppx/v1/body", 11, 0},		/* no 0x00 */
		{"ppx/v1/bodyx\0", 13, 0},
		{"ppx/v1/other\0", 13, 0},
		{"ppx/v2/body\0", 12, 0},
		{"\0ppx/v1/body\0", 13, 0},
		{"GET / HTTP/1.0\r\n", 16, 0},
		{"", 0, 0},
		{N1, sizeof(N1) - 1, 1},
		{N2, sizeof(N2) - 1, 0},	/* another agency's note */
		{C2, sizeof(C2) - 1, 1},	/* cosigning it is fine */
		{N1 "x\n", sizeof(N1) + 1, 0},	/* an extension line */
		{C0, sizeof(C0) - 1, 0},	/* a leading zero */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_int_equal(signer_check_message(
					 (const uint8_t *)cases[i].msg,
					 cases[i].len, "police"),
				 cases[i].ok ? 0 : PPX_EPURPOSE);
}

/* A configuration naming the demo police key and `cert`'s certificate. */
static struct ppx_config *config_for(const char *cert)
{
	struct ppx_config *cfg = calloc(1, sizeof(*cfg));

	assert_non_null(cfg);
	snprintf(cfg->signing_key, sizeof(cfg->signing_key), "%s",
		 pki_path("agencies/police.gwent/signing.key"));
	snprintf(cfg->signing_cert, sizeof(cfg->signing_cert), "%s",
		 pki_path2(cert));
	cfg->max_frame = 100000;
	return cfg;
}

static void sign_and_verify(ppx_signer *s, size_t len)
{
	uint8_t *msg = calloc(1, len), sig[PPX_SIG_MAX];
	size_t siglen = 0;

	assert_non_null(msg);
	memcpy(msg, "ppx/v1/receipt", 15);
	for (size_t i = 15; i < len; i++)
		msg[i] = (uint8_t)(i * 7);
	assert_int_equal(ppx_signer_sign(s, sig, sizeof(sig), &siglen, msg,
					 len), 0);
	assert_int_equal(ppx_cert_verify_signature(ppx_signer_cert(s), sig,
						   siglen, msg, len), 0);
	free(msg);
}

static void test_signer__process_signs_ppx_messages_only(void **state)
{
	struct ppx_config *cfg =
		config_for("agencies/police.gwent/signing.crt");
	struct signer_proc *proc = NULL;
	ppx_signer *s = NULL;
	uint8_t sig[PPX_SIG_MAX], big[200000] = "ppx/v1/body";
	size_t siglen;

	(void)state;
	assert_int_equal(signer_start(&s, &proc, cfg), 0);
	assert_string_equal(ppx_signer_agency(s), "police.gwent");
	assert_true(signer_pid(proc) > 0);
	sign_and_verify(s, 20);
	sign_and_verify(s, 3 * SIGNER_CHUNK + 5);	/* continuations */
	assert_int_equal(ppx_signer_sign(s, sig, sizeof(sig), &siglen,
					 (const uint8_t *)"hello", 5),
			 PPX_EPURPOSE);
	assert_non_null(strstr(ppx_error_last(), "refused to sign"));
	assert_int_equal(ppx_signer_sign(s, sig, sizeof(sig), &siglen, big,
					 sizeof(big)), PPX_ETOOBIG);
	assert_false(signer_lost(proc));
	sign_and_verify(s, 100);	/* still in step after the refusals */
	ppx_signer_free(s);
	ppx_config_free(cfg);
}

/* Send a raw packet to the signer and read the answer's header. */
static struct signer_hdr raw_exchange(int fd, const uint8_t *pkt, size_t n)
{
	uint8_t buf[SIGNER_HDR_LEN + SIGNER_TEXT_MAX];
	struct signer_hdr h;

	assert_int_equal(send(fd, pkt, n, 0), (ssize_t)n);
	assert_true(recv(fd, buf, sizeof(buf), 0) >= (ssize_t)SIGNER_HDR_LEN);
	memcpy(&h, buf, SIGNER_HDR_LEN);
	return h;
}

static void test_signer__process_refuses_malformed_packets(void **state)
{
	struct ppx_config *cfg =
		config_for("agencies/police.gwent/signing.crt");
	struct signer_proc *proc = NULL;
	ppx_signer *s = NULL;
	uint8_t buf[64];
	struct signer_hdr h;
	size_t n;

	(void)state;
	assert_int_equal(signer_start(&s, &proc, cfg), 0);
	h = raw_exchange(signer_fd(proc), (const uint8_t *)"abc", 3);
	assert_int_equal(h.type, SIGNER_ERROR);
	assert_int_equal(h.status, PPX_EFRAME);
	n = packet(buf, 9, SIGNER_SIGN, 12, "ppx/v1/body\0", 12);
	h = raw_exchange(signer_fd(proc), buf, n);
	assert_int_equal(h.type, SIGNER_ERROR);
	assert_int_equal(h.status, PPX_EVERSION);
	n = packet(buf, SIGNER_VERSION, SIGNER_SIGN, 12, "ppx/v9/body\0", 12);
	h = raw_exchange(signer_fd(proc), buf, n);
	assert_int_equal(h.type, SIGNER_ERROR);
	assert_int_equal(h.status, PPX_EPURPOSE);
	assert_int_equal(h.id, 7);
	n = packet(buf, SIGNER_VERSION, SIGNER_SIGN, 12, "ppx/v1/body\0", 12);
	h = raw_exchange(signer_fd(proc), buf, n);
	assert_int_equal(h.type, SIGNER_SIGNATURE);
	assert_int_equal(h.len, 64);	/* Ed25519 */
	ppx_signer_free(s);
	ppx_config_free(cfg);
}

static void test_signer__key_that_does_not_match_is_refused(void **state)
{
	struct ppx_config *cfg =
		config_for("agencies/probation.gwent/signing.crt");
	struct signer_proc *proc = NULL;
	ppx_signer *s = NULL;

	(void)state;
	assert_int_not_equal(signer_start(&s, &proc, cfg), 0);
	assert_null(s);
	assert_null(proc);
	assert_non_null(strstr(ppx_error_last(), "does not match"));
	ppx_config_free(cfg);
}

static void test_signer__killed_process_is_lost(void **state)
{
	struct ppx_config *cfg =
		config_for("agencies/police.gwent/signing.crt");
	struct signer_proc *proc = NULL;
	ppx_signer *s = NULL;
	uint8_t sig[PPX_SIG_MAX];
	size_t siglen;

	(void)state;
	assert_int_equal(signer_start(&s, &proc, cfg), 0);
	assert_int_equal(kill(signer_pid(proc), SIGKILL), 0);
	assert_int_equal(ppx_signer_sign(s, sig, sizeof(sig), &siglen,
					 (const uint8_t *)"ppx/v1/body\0x",
					 13), PPX_EIO);
	assert_true(signer_lost(proc));
	assert_non_null(strstr(ppx_error_last(), "signer process"));
	assert_int_equal(ppx_signer_sign(s, sig, sizeof(sig), &siglen,
					 (const uint8_t *)"ppx/v1/body\0x",
					 13), PPX_EIO);
	ppx_signer_free(s);
	ppx_config_free(cfg);
}

static void test_signer__silent_process_times_out(void **state)
{
	struct ppx_config *cfg =
		config_for("agencies/police.gwent/signing.crt");
	struct signer_proc *proc = NULL;
	ppx_signer *s = NULL;
	uint8_t sig[PPX_SIG_MAX];
	size_t siglen;

	(void)state;
	assert_int_equal(signer_start(&s, &proc, cfg), 0);
	assert_int_equal(signer_set_timeout(proc, 300), 0);
	assert_int_equal(kill(signer_pid(proc), SIGSTOP), 0);
	assert_int_equal(ppx_signer_sign(s, sig, sizeof(sig), &siglen,
					 (const uint8_t *)"ppx/v1/body\0x",
					 13), PPX_EIO);
	assert_non_null(strstr(ppx_error_last(), "no answer in time"));
	assert_true(signer_lost(proc));
	assert_int_equal(kill(signer_pid(proc), SIGCONT), 0);
	ppx_signer_free(s);	/* the child reads end of file and exits */
	ppx_config_free(cfg);
}

/* A burst of more than SIGNER_BATCH messages signed in one call: every
 * signature verifies; one refused message in a burst fails the call but
 * leaves the link in step (every answer was read). */
static void test_signer__process_signs_a_burst(void **state)
{
	struct ppx_config *cfg =
		config_for("agencies/police.gwent/signing.crt");
	enum { N = SIGNER_BATCH + 9 };
	static uint8_t msg[N][64], sig[N][PPX_SIG_MAX];
	const uint8_t *m[N];
	size_t len[N], siglen[N];
	struct signer_proc *proc = NULL;
	ppx_signer *s = NULL;

	(void)state;
	assert_int_equal(signer_start(&s, &proc, cfg), 0);
	for (size_t i = 0; i < N; i++) {
		len[i] = (size_t)snprintf((char *)msg[i], sizeof(msg[i]),
					  "ppx/v1/body%cmessage %zu", 0, i);
		m[i] = msg[i];
	}
	assert_int_equal(ppx_signer_sign_many(s, N, sig, siglen, m, len), 0);
	for (size_t i = 0; i < N; i++)
		assert_int_equal(ppx_cert_verify_signature(ppx_signer_cert(s),
							   sig[i], siglen[i],
							   m[i], len[i]), 0);
	m[3] = (const uint8_t *)"not a ppx message";
	len[3] = strlen((const char *)m[3]);
	assert_int_equal(ppx_signer_sign_many(s, N, sig, siglen, m, len),
			 PPX_EPURPOSE);
	assert_false(signer_lost(proc));
	sign_and_verify(s, 100);	/* still in step after the burst */
	ppx_signer_free(s);
	ppx_config_free(cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_signer__parse_accepts_a_well_formed_request),
		cmocka_unit_test(test_signer__parse_refuses_malformed_requests),
		cmocka_unit_test(test_signer__only_ppx_labels_are_signed),
		cmocka_unit_test(test_signer__process_signs_ppx_messages_only),
		cmocka_unit_test(test_signer__process_refuses_malformed_packets),
		cmocka_unit_test(test_signer__key_that_does_not_match_is_refused),
		cmocka_unit_test(test_signer__killed_process_is_lost),
		cmocka_unit_test(test_signer__silent_process_times_out),
		cmocka_unit_test(test_signer__process_signs_a_burst),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
