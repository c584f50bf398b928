/*
 * bench_directory.c — what judging a federation directory costs
 * (ppx_directory_parse, PROTOCOL.md 13.2) as the federation grows: 10,
 * 100 and 1,000 agencies, each with one signing and one transport
 * certificate (made with the demo CA, pki_forge.c), signed with the demo
 * federation's directory key.
 *
 * Every certificate in a directory is checked against the CA, so the cost
 * grows with the agencies; the figure that matters is what a partner
 * sending directories can take of a daemon's time: ppxd judges at most
 * two documents per partner per second (daemon/federation_io.c), and
 * one not newer than the one held is refused after its signature, before
 * its certificates (ppx_directory_parse_next).  Printed: a directory
 * judged afresh (at start), the next serial judged over the one held
 * (its certificates known: not verified again), a stale one, each
 * against one Ed25519 verification in the same run.  Medians of RUNS
 * runs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ppx.pb-c.h"
#include "ppx/directory.h"
#include "ppx/error.h"
#include "ppx/pki.h"
#include "../unit/pki_forge.h"
#include "../unit/support.h"

#define RUNS 5
#define RUN_SECONDS 0.3
#define PARSES_PER_S_PER_PARTNER 2	/* FED_PARSES_PER_S */

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
	fprintf(stderr, "bench_directory: %s: %s\n", what, ppx_error_last());
	exit(1);
}

static ProtobufCBinaryData der_of(const char *agency, const char *role,
				  const char *usage)
{
	ProtobufCBinaryData b = {0, NULL};
	ppx_cert *c = forge_cert(agency, role, usage);

	if (!c || ppx_cert_der(&b.data, &b.len, c) != 0)
		die("certificate");
	ppx_cert_free(c);
	return b;
}

#define MAX_AGENCIES 1000

/* The agencies' certificates, made once for the largest directory. */
static ProtobufCBinaryData certs[2 * MAX_AGENCIES];
static char names[MAX_AGENCIES][64];

static void make_certs(void)
{
	for (size_t i = 0; i < MAX_AGENCIES; i++) {
		snprintf(names[i], sizeof(names[i]), "police.bench%zu", i);
		certs[2 * i] = der_of(names[i], "signing", "digitalSignature");
		certs[2 * i + 1] = der_of(names[i], "transport", "keyAgreement");
	}
}

/* A SignedDirectory of the first `n` agencies, serial `serial`, in *len
 * bytes. */
static uint8_t *directory_of(size_t n, uint64_t serial, ppx_signer *signer,
			     size_t *len)
{
	Ppx__V1__Directory d = PPX__V1__DIRECTORY__INIT;
	Ppx__V1__DirectoryAgency *a = calloc(n, sizeof(*a));
	Ppx__V1__DirectoryAgency **ap = calloc(n, sizeof(*ap));
	static char *endpoint[1] = {"tcp://10.0.0.1:7100"};
	int64_t now = (int64_t)time(NULL) * 1000;
	uint8_t *buf, *out = NULL;
	size_t blen;

	if (!a || !ap)
		die("memory");
	d.federation = "england-wales";
	d.serial = serial;
	d.issued_ms = now;
	d.not_before_ms = now - 3600 * 1000;
	d.not_after_ms = now + 86400LL * 1000;
	for (size_t i = 0; i < n; i++) {
		ppx__v1__directory_agency__init(&a[i]);
		a[i].name = names[i];
		a[i].type = "police";
		a[i].display_name = "";
		a[i].endpoints = endpoint;
		a[i].n_endpoints = 1;
		a[i].signing_certificates = &certs[2 * i];
		a[i].n_signing_certificates = 1;
		a[i].transport_certificates = &certs[2 * i + 1];
		a[i].n_transport_certificates = 1;
		a[i].status = PPX__V1__AGENCY_STATUS__AGENCY_ACTIVE;
		ap[i] = &a[i];
	}
	d.agencies = ap;
	d.n_agencies = n;
	blen = ppx__v1__directory__get_packed_size(&d);
	if (!(buf = malloc(blen)))
		die("memory");
	ppx__v1__directory__pack(&d, buf);
	if (ppx_directory_sign(&out, len, buf, blen, signer) != 0)
		die("sign");
	free(ap);
	free(a);
	free(buf);
	return out;
}

/* Seconds per judgement of `bytes`: the median of RUNS runs. */
static double median_parse(const uint8_t *bytes, size_t len,
			   const ppx_trust *trust,
			   const struct ppx_directory *held, int expect)
{
	double per[RUNS];

	for (int r = 0; r < RUNS; r++) {
		double start = now_s(), t;
		long done = 0;

		do {
			struct ppx_directory *dir = NULL;

			if (ppx_directory_parse_next(&dir, bytes, len, trust,
						     time(NULL), held) != expect)
				die("parse");
			ppx_directory_free(dir);
			done++;
		} while ((t = now_s() - start) < RUN_SECONDS);
		per[r] = t / (double)done;
	}
	qsort(per, RUNS, sizeof(per[0]), cmp_double);
	return per[RUNS / 2];
}

/* Seconds per Ed25519 verification, the median of RUNS runs. */
static double median_verify(ppx_signer *s)
{
	static const uint8_t msg[300];
	uint8_t sig[PPX_SIG_MAX];
	double per[RUNS];
	size_t n;

	if (ppx_signer_sign(s, sig, sizeof(sig), &n, msg, sizeof(msg)) != 0)
		die("sign");
	for (int r = 0; r < RUNS; r++) {
		double start = now_s(), t;
		long done = 0;

		do {
			if (ppx_cert_verify_signature(ppx_signer_cert(s), sig,
						      n, msg, sizeof(msg)) != 0)
				die("verify");
			done++;
		} while ((t = now_s() - start) < RUN_SECONDS);
		per[r] = t / (double)done;
	}
	qsort(per, RUNS, sizeof(per[0]), cmp_double);
	return per[RUNS / 2];
}

int main(void)
{
	static const size_t sizes[] = {10, 100, 1000};
	ppx_trust *trust = trust_demo();
	ppx_signer *dir_signer = NULL;
	ppx_signer *agency = signer_at("police.gwent");
	double verify;
	char key[4096];

	snprintf(key, sizeof(key), "%s", pki_path("test/directory/directory.key"));
	if (ppx_signer_load(&dir_signer, key,
			    pki_path("test/directory/directory.crt")) != 0)
		die("the directory key (make pki)");
	if (!trust || !dir_signer || !agency)
		die("demo PKI (make pki)");
	verify = median_verify(agency);
	printf("one Ed25519 verification: %.1f us (median of %d)\n",
	       verify * 1e6, RUNS);
	make_certs();
	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		size_t len, len2;
		uint8_t *bytes = directory_of(sizes[k], 1, dir_signer, &len);
		uint8_t *next = directory_of(sizes[k], 2, dir_signer, &len2);
		struct ppx_directory *held = NULL, *held2 = NULL;
		double t = median_parse(bytes, len, trust, NULL, 0), tn, ts;

		if (ppx_directory_parse(&held, bytes, len, trust, time(NULL)) ||
		    ppx_directory_parse(&held2, next, len2, trust, time(NULL)))
			die("parse");
		tn = median_parse(next, len2, trust, held, 0);
		ts = median_parse(bytes, len, trust, held2, PPX_ESTALE);
		printf("directory of %4zu agencies: %7zu bytes; judged afresh "
		       "in %8.2f ms (%.1f us per agency, %.1f x one "
		       "verification per agency); the next serial over it in "
		       "%.2f ms (%.3f x afresh); a stale one in %.3f ms; a "
		       "partner sending stale ones %d/s takes %.2f%% of a "
		       "core\n", sizes[k], len, t * 1e3,
		       t * 1e6 / (double)sizes[k],
		       t / (double)sizes[k] / verify, tn * 1e3, tn / t,
		       ts * 1e3, PARSES_PER_S_PER_PARTNER,
		       100.0 * PARSES_PER_S_PER_PARTNER * ts);
		ppx_directory_free(held);
		ppx_directory_free(held2);
		free(bytes);
		free(next);
	}
	for (size_t i = 0; i < 2 * MAX_AGENCIES; i++)
		free(certs[i].data);
	ppx_signer_free(agency);
	ppx_signer_free(dir_signer);
	ppx_trust_free(trust);
	return 0;
}
