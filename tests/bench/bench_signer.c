/*
 * bench_signer.c — what one signature costs with the key in the signer
 * process (daemon/signer.c: a request and an answer over the socket pair)
 * against the key in this process, in the same run: ROUNDS rounds of N
 * signatures of a 600-byte body-labelled message each way, alternated;
 * prints the medians in microseconds per signature and the difference.
 *
 * Usage: bench_signer [N]   (the demo PKI: $BUILD/pki or PPX_TEST_PKI)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../daemon/signer.h"
#include "ppx/error.h"
#include "../unit/support.h"

#define ROUNDS 5
#define MSG_LEN 600

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Microseconds per signature over n signatures. */
static double round_us(ppx_signer *s, int n)
{
	uint8_t msg[MSG_LEN] = "ppx/v1/body", sig[PPX_SIG_MAX];
	size_t siglen;
	double t0 = now_s();

	for (int i = 0; i < n; i++) {
		memcpy(msg + 12, &i, sizeof(i));
		if (ppx_signer_sign(s, sig, sizeof(sig), &siglen, msg,
				    sizeof(msg)) != 0) {
			fprintf(stderr, "bench: %s\n", ppx_error_last());
			exit(1);
		}
	}
	return (now_s() - t0) * 1e6 / n;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? (int)strtol(argv[1], NULL, 10) : 20000;
	struct ppx_config *cfg = calloc(1, sizeof(*cfg));
	struct signer_proc *proc;
	ppx_signer *local = signer_at("police.gwent"), *remote;
	double a[ROUNDS], b[ROUNDS];

	if (!cfg || n <= 0)
		return 1;
	snprintf(cfg->signing_key, sizeof(cfg->signing_key), "%s",
		 pki_path("agencies/police.gwent/signing.key"));
	snprintf(cfg->signing_cert, sizeof(cfg->signing_cert), "%s",
		 pki_path("agencies/police.gwent/signing.crt"));
	cfg->max_frame = 1 << 20;
	if (signer_start(&remote, &proc, cfg) != 0) {
		fprintf(stderr, "bench: %s\n", ppx_error_last());
		return 1;
	}
	round_us(remote, n / 10);	/* warm-up */
	round_us(local, n / 10);
	for (int r = 0; r < ROUNDS; r++) {
		a[r] = round_us(remote, n);
		b[r] = round_us(local, n);
	}
	qsort(a, ROUNDS, sizeof(double), cmp);
	qsort(b, ROUNDS, sizeof(double), cmp);
	printf("%-44s %8.1f us/signature\n", "Ed25519, signer = process",
	       a[ROUNDS / 2]);
	printf("%-44s %8.1f us/signature\n", "Ed25519, signer = in-process",
	       b[ROUNDS / 2]);
	printf("%-44s %8.1f us/signature (medians of %d x %d)\n",
	       "the round trip to the signer process", a[ROUNDS / 2] -
	       b[ROUNDS / 2], ROUNDS, n);
	ppx_signer_free(remote);
	ppx_signer_free(local);
	ppx_config_free(cfg);
	return 0;
}
