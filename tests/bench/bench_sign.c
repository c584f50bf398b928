/*
 * bench_sign.c — signatures per second with the key in this process (a
 * 0600 key file, lib/pki.c) against the same key in a SoftHSM2 token
 * reached through PKCS#11 (lib/pkcs11.c), for Ed25519 and ECDSA P-256, in
 * the same run.
 *
 * The token is made in a temporary directory (SOFTHSM2_CONF) and the
 * keys imported with softhsm2-util, as tests/unit/test_pkcs11.c does: the
 * demo police.gwent Ed25519 key and a P-256 key made here with its own
 * certificate.  Every figure is the median of RUNS runs; the ratio says
 * what the token costs on this machine.  Prints one line per figure, for
 * tests/bench/run-bench and docs/PERFORMANCE.md.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "ppx/error.h"
#include "ppx/pkcs11.h"
#include "ppx/pki.h"
#include "../unit/support.h"

#define RUNS 5
#define RUN_SECONDS 0.5
#define MODULE "/usr/lib/softhsm/libsofthsm2.so"
#define MSG_LEN 300	/* about the signed part of an arrest notification */

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static void die(const char *what)
{
	fprintf(stderr, "bench_sign: %s: %s\n", what, ppx_error_last());
	exit(1);
}

static void sh(const char *fmt, ...)
{
	char cmd[8192];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	if (system(cmd) != 0) {
		fprintf(stderr, "bench_sign: failed: %s\n", cmd);
		exit(1);
	}
}

/* Signatures per second with `s`: the median of RUNS runs. */
static double median_rate(ppx_signer *s)
{
	static uint8_t msg[MSG_LEN];
	uint8_t sig[PPX_SIG_MAX];
	double rates[RUNS];
	size_t n;

	for (int r = 0; r < RUNS; r++) {
		double start = now_s(), t;
		long done = 0;

		do {
			msg[done % MSG_LEN]++;
			if (ppx_signer_sign(s, sig, sizeof(sig), &n, msg,
					    sizeof(msg)) != 0)
				die("sign");
			done++;
		} while ((t = now_s() - start) < RUN_SECONDS);
		rates[r] = (double)done / t;
	}
	qsort(rates, RUNS, sizeof(rates[0]), cmp_double);
	return rates[RUNS / 2];
}

/* A token in `dir` holding police.gwent's Ed25519 key ("ed", id 01) and
 * a fresh P-256 key ("p256", id 02) whose key file and certificate stay
 * in `dir`. */
static void make_token(const char *dir)
{
	char conf[4200], text[4400];

	snprintf(conf, sizeof(conf), "%s/softhsm2.conf", dir);
	snprintf(text, sizeof(text), "directories.tokendir = %s/tokens\n"
		 "objectstore.backend = file\nlog.level = ERROR\n", dir);
	write_text(conf, text);
	setenv("SOFTHSM2_CONF", conf, 1);
	sh("mkdir %s/tokens && softhsm2-util --init-token --free --label bench"
	   " --so-pin 5678 --pin 1234 >/dev/null", dir);
	sh("softhsm2-util --import %s --token bench --label ed --id 01 "
	   "--pin 1234 >/dev/null",
	   pki_path("agencies/police.gwent/signing.key"));
	sh("cd %s && openssl req -x509 -newkey ec -pkeyopt "
	   "ec_paramgen_curve:P-256 -nodes -keyout p256.key -out p256.crt "
	   "-subj /O=police.gwent/OU=signing/CN=police.gwent -days 1 "
	   "2>/dev/null && chmod 600 p256.key && softhsm2-util --import "
	   "p256.key --token bench --label p256 --id 02 --pin 1234 "
	   ">/dev/null", dir);
	snprintf(conf, sizeof(conf), "%s/pin", dir);
	write_text(conf, "1234\n");
	chmod(conf, 0600);
}

/* One algorithm: the key file and the token, same key, same run. */
static void compare(const char *name, const char *key, const char *cert,
		    const char *uri, const char *pin)
{
	ppx_signer *file = NULL, *token = NULL;
	double rf, rt;

	if (ppx_signer_load(&file, key, cert) != 0)
		die(key);
	if (ppx_signer_pkcs11_open(&token, MODULE, uri, pin, cert) != 0)
		die(uri);
	rf = median_rate(file);
	rt = median_rate(token);
	printf("%-44s %10.0f sig/s\n", name, rf);
	printf("%-44s %10.0f sig/s   %.3f x key file\n",
	       "  same key in SoftHSM2 via PKCS#11", rt, rt / rf);
	ppx_signer_free(file);
	ppx_signer_free(token);
}

int main(void)
{
	char *dir = tmpdir_new();
	char key[4200], cert[4200], pin[4200], ed_key[4200], ed_cert[4200];

	make_token(dir);
	snprintf(pin, sizeof(pin), "%s/pin", dir);
	snprintf(ed_key, sizeof(ed_key), "%s",
		 pki_path("agencies/police.gwent/signing.key"));
	snprintf(ed_cert, sizeof(ed_cert), "%s",
		 pki_path("agencies/police.gwent/signing.crt"));
	printf("%d-byte message, median of %d runs of %.1f s each\n", MSG_LEN,
	       RUNS, RUN_SECONDS);
	compare("Ed25519, key file in process", ed_key, ed_cert,
		"pkcs11:token=bench;object=ed", pin);
	snprintf(key, sizeof(key), "%s/p256.key", dir);
	snprintf(cert, sizeof(cert), "%s/p256.crt", dir);
	compare("ECDSA P-256, key file in process", key, cert,
		"pkcs11:token=bench;object=p256", pin);
	tmpdir_remove(dir);
	return 0;
}
