/*
 * bench_core.c — the cost of the foundation: signing, verifying and durably
 * logging messages, each beside this machine's own limits measured in the
 * same run (raw OpenSSL Ed25519 sign and verify, raw LMDB fsynced commits).
 *
 * Every figure is the median of RUNS runs; the machines are shared and
 * noisy, so ratios to the raw figures mean more than absolute rates.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <lmdb.h>
#include <openssl/evp.h>

#include "ppx/envelope.h"
#include "ppx/error.h"
#include "ppx/logstore.h"
#include "../../lib/pki_int.h"
#include "../unit/support.h"

#define RUNS 5
#define RUN_SECONDS 0.4

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

/* Run `op` repeatedly for RUN_SECONDS, RUNS times; median operations/s.
 * `op` returns how many operations it did. */
static double median_rate(long (*op)(void *), void *ctx)
{
	double rates[RUNS];

	for (int r = 0; r < RUNS; r++) {
		double start = now_s(), t;
		long n = 0;

		do
			n += op(ctx);
		while ((t = now_s() - start) < RUN_SECONDS);
		rates[r] = (double)n / t;
	}
	qsort(rates, RUNS, sizeof(rates[0]), cmp_double);
	return rates[RUNS / 2];
}

static void die(const char *what)
{
	fprintf(stderr, "bench: %s: %s\n", what, ppx_error_last());
	exit(1);
}

struct ctx {
	ppx_signer *signer;
	ppx_trust *trust;
	EVP_PKEY *pub;
	Ppx__V1__Body *body;
	uint8_t *frame;
	size_t frame_len;
	uint8_t tbs[400];
	uint8_t sig[PPX_SIG_MAX];
	size_t siglen;
	MDB_env *env;
	MDB_dbi dbi;
	uint64_t key;
	ppx_log *log;
	int group;
};

static long raw_sign(void *p)
{
	struct ctx *c = p;

	c->siglen = sizeof(c->sig);
	if (ppx_signer_sign(c->signer, c->sig, sizeof(c->sig), &c->siglen,
			    c->tbs, sizeof(c->tbs)) != 0)
		die("sign");
	return 1;
}

static long raw_verify(void *p)
{
	struct ctx *c = p;
	EVP_MD_CTX *m = EVP_MD_CTX_new();
	int ok = EVP_DigestVerifyInit(m, NULL, NULL, NULL, c->pub) == 1 &&
		 EVP_DigestVerify(m, c->sig, c->siglen, c->tbs,
				  sizeof(c->tbs)) == 1;

	EVP_MD_CTX_free(m);
	if (!ok)
		die("raw verify");
	return 1;
}

static long ppx_seal(void *p)
{
	struct ctx *c = p;
	uint8_t *out = NULL;
	size_t len;

	if (ppx_body_seal(&out, &len, c->signer, c->body) != 0)
		die("seal");
	free(out);
	return 1;
}

static long ppx_open(void *p)
{
	struct ctx *c = p;
	ppx_opened *o = NULL;

	if (ppx_message_open(&o, c->trust, c->frame, c->frame_len,
			     "police.gwent", time(NULL)) != 0)
		die("open");
	ppx_opened_free(o);
	return 1;
}

static long raw_commit(void *p)
{
	struct ctx *c = p;
	MDB_txn *txn;
	MDB_val k = {sizeof(c->key), &c->key};
	MDB_val v = {c->frame_len, c->frame};

	c->key++;
	if (mdb_txn_begin(c->env, NULL, 0, &txn) != 0 ||
	    mdb_put(txn, c->dbi, &k, &v, 0) != 0 || mdb_txn_commit(txn) != 0) {
		fprintf(stderr, "bench: raw LMDB commit failed\n");
		exit(1);
	}
	return 1;
}

static long log_group(void *p)
{
	struct ctx *c = p;
	ppx_log_batch *b = NULL;
	uint64_t seq;

	if (ppx_log_begin(&b, c->log) != 0)
		die("begin");
	for (int i = 0; i < c->group; i++) {
		Ppx__V1__LogEntry e = PPX__V1__LOG_ENTRY__INIT;

		e.kind = PPX__V1__ENTRY_KIND__ENTRY_NOTE;
		e.data.data = c->frame;
		e.data.len = c->frame_len;
		if (ppx_log_append(b, &e, &seq) != 0)
			die("append");
	}
	if (ppx_log_commit(b) != 0)
		die("commit");
	return c->group;
}

static void setup_lmdb(struct ctx *c, const char *dir)
{
	MDB_txn *txn;

	if (mdb_env_create(&c->env) != 0 ||
	    mdb_env_set_mapsize(c->env, 1ULL << 30) != 0 ||
	    mdb_env_open(c->env, dir, 0, 0600) != 0 ||
	    mdb_txn_begin(c->env, NULL, 0, &txn) != 0 ||
	    mdb_dbi_open(txn, NULL, 0, &c->dbi) != 0 || mdb_txn_commit(txn) != 0) {
		fprintf(stderr, "bench: cannot open raw LMDB in %s\n", dir);
		exit(1);
	}
}

int main(void)
{
	struct ctx c = {0};
	char raw_dir[] = "/tmp/ppx-bench-raw-XXXXXX";
	char log_dir[] = "/tmp/ppx-bench-log-XXXXXX";
	double sign_raw, sign_ppx, verify_raw, verify_ppx, commit_raw;

	c.signer = signer_at("police.gwent");
	c.trust = trust_demo();
	c.pub = X509_get0_pubkey(
		ppxi_cert_x509(ppx_signer_cert(c.signer)));
	c.body = body_new("police.gwent", "probation.gwent");
	memset(c.tbs, 0x5a, sizeof(c.tbs));
	if (ppx_body_seal(&c.frame, &c.frame_len, c.signer, c.body) != 0)
		die("seal");
	printf("message: %zu-byte frame (a signed arrest notification)\n",
	       c.frame_len);

	sign_raw = median_rate(raw_sign, &c);
	sign_ppx = median_rate(ppx_seal, &c);
	verify_raw = median_rate(raw_verify, &c);
	verify_ppx = median_rate(ppx_open, &c);
	printf("%-44s %10.0f /s\n", "OpenSSL Ed25519 sign (raw, limit)",
	       sign_raw);
	printf("%-44s %10.0f /s   %.2f x limit\n",
	       "ppx seal (pack + sign + frame)", sign_ppx, sign_ppx / sign_raw);
	printf("%-44s %10.0f /s\n", "OpenSSL Ed25519 verify (raw, limit)",
	       verify_raw);
	printf("%-44s %10.0f /s   %.2f x limit\n",
	       "ppx open (decode+verify+chain+CRL+decode)", verify_ppx,
	       verify_ppx / verify_raw);

	if (!mkdtemp(raw_dir) || !mkdtemp(log_dir))
		die("mkdtemp");
	setup_lmdb(&c, raw_dir);
	commit_raw = median_rate(raw_commit, &c);
	printf("%-44s %10.0f /s\n", "LMDB fsynced commit, 1 put (raw, limit)",
	       commit_raw);
	if (ppx_log_open(&c.log, log_dir, NULL) != 0)
		die("log open");
	for (int g = 1; g <= 1000; g *= 10) {
		char label[64];
		double rate;

		if (g == 10)
			continue;
		c.group = g;
		rate = median_rate(log_group, &c);
		snprintf(label, sizeof(label), "ppx durable append, group of %d",
			 g);
		printf("%-44s %10.0f /s   %.2f x commit limit\n", label, rate,
		       rate / commit_raw);
	}
	printf("log size after the run: %llu entries\n",
	       (unsigned long long)ppx_log_size(c.log));
	ppx_log_close(c.log);
	mdb_env_close(c.env);
	free(c.frame);
	body_free(c.body);
	ppx_trust_free(c.trust);
	ppx_signer_free(c.signer);
	return 0;
}
