/*
 * bench_curve.c — this machine's raw CurveZMQ throughput: the ceiling for
 * any exchange between two daemons, which talk DEALER -> ROUTER over
 * CURVE.
 *
 * One DEALER sends COUNT messages to one ROUTER over tcp://127.0.0.1 with
 * CURVE (keys from zmq_curve_keypair), the receiver in a second thread, as
 * fast as libzmq takes them.  Each message is a real sealed notification
 * frame, the size of what a daemon sends.  The clock starts once the
 * CURVE handshake is done (one message has crossed) and stops when the
 * receiver has the last message.  The same is measured with CURVE off
 * (plain TCP) as a second reference.  Each figure is the median of RUNS
 * runs, each on a fresh connection.
 *
 * Usage: bench_curve [COUNT]
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

#include "ppx/envelope.h"
#include "ppx/error.h"
#include "../unit/support.h"

#define RUNS 5
#define COUNT 200000

struct receiver {
	void *router;
	long count;
	size_t bytes;
	double end;
	int failed;
};

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
	fprintf(stderr, "bench_curve: %s: %s\n", what, zmq_strerror(zmq_errno()));
	exit(1);
}

/* Receive one routed message (identity, payload); its payload size. */
static int recv_one(void *router, size_t *len)
{
	zmq_msg_t id, m;
	int rc;

	zmq_msg_init(&id);
	zmq_msg_init(&m);
	rc = zmq_msg_recv(&id, router, 0) < 0 ||
	     !zmq_msg_more(&id) || zmq_msg_recv(&m, router, 0) < 0;
	*len = zmq_msg_size(&m);
	zmq_msg_close(&id);
	zmq_msg_close(&m);
	return rc ? -1 : 0;
}

static void *receive_all(void *p)
{
	struct receiver *r = p;

	for (long i = 0; i < r->count; i++) {
		size_t len;

		if (recv_one(r->router, &len) != 0) {
			r->failed = 1;
			break;
		}
		r->bytes += len;
	}
	r->end = now_s();
	return NULL;
}

/* A bound ROUTER and a DEALER connected to it, CURVE on or off; returns
 * once one message has crossed, so the handshake is behind us. */
static void pair_open(void *zctx, int curve, void **router, void **dealer)
{
	char pub[41], sec[41], cpub[41], csec[41], ep[64];
	size_t eplen = sizeof(ep), len;
	int on = 1, linger = 0;

	*router = zmq_socket(zctx, ZMQ_ROUTER);
	*dealer = zmq_socket(zctx, ZMQ_DEALER);
	if (!*router || !*dealer)
		die("socket");
	zmq_setsockopt(*router, ZMQ_LINGER, &linger, sizeof(linger));
	zmq_setsockopt(*dealer, ZMQ_LINGER, &linger, sizeof(linger));
	if (curve && (zmq_curve_keypair(pub, sec) != 0 ||
		      zmq_curve_keypair(cpub, csec) != 0 ||
		      zmq_setsockopt(*router, ZMQ_CURVE_SERVER, &on,
				     sizeof(on)) != 0 ||
		      zmq_setsockopt(*router, ZMQ_CURVE_SECRETKEY, sec, 40) ||
		      zmq_setsockopt(*dealer, ZMQ_CURVE_SERVERKEY, pub, 40) ||
		      zmq_setsockopt(*dealer, ZMQ_CURVE_PUBLICKEY, cpub, 40) ||
		      zmq_setsockopt(*dealer, ZMQ_CURVE_SECRETKEY, csec, 40)))
		die("CURVE keys");
	if (zmq_bind(*router, "tcp://127.0.0.1:*") != 0 ||
	    zmq_getsockopt(*router, ZMQ_LAST_ENDPOINT, ep, &eplen) != 0 ||
	    zmq_connect(*dealer, ep) != 0)
		die("bind or connect");
	if (zmq_send(*dealer, "hello", 5, 0) != 5 || recv_one(*router, &len))
		die("first message");
}

/* One run: messages/s of COUNT messages of frame[0..len). */
static double run(void *zctx, int curve, const uint8_t *frame, size_t len,
		  long count)
{
	struct receiver r = {.count = count};
	void *dealer;
	pthread_t t;
	double start;

	pair_open(zctx, curve, &r.router, &dealer);
	if (pthread_create(&t, NULL, receive_all, &r) != 0)
		die("thread");
	start = now_s();
	for (long i = 0; i < count; i++)
		if (zmq_send(dealer, frame, len, 0) != (int)len)
			die("send");
	pthread_join(t, NULL);
	if (r.failed || r.bytes != (size_t)count * len)
		die("receive");
	zmq_close(dealer);
	zmq_close(r.router);
	return (double)count / (r.end - start);
}

static void report(void *zctx, int curve, const uint8_t *frame, size_t len,
		   long count)
{
	double rates[RUNS], m;

	for (int i = 0; i < RUNS; i++)
		rates[i] = run(zctx, curve, frame, len, count);
	qsort(rates, RUNS, sizeof(rates[0]), cmp_double);
	m = rates[RUNS / 2];
	printf("%-44s %10.0f msg/s %8.1f MB/s   (runs %.0f..%.0f)\n",
	       curve ? "raw CURVE DEALER->ROUTER (limit)"
		     : "plain TCP DEALER->ROUTER (reference)",
	       m, m * (double)len / 1e6, rates[0], rates[RUNS - 1]);
}

int main(int argc, char **argv)
{
	ppx_signer *signer = signer_at("police.gwent");
	Ppx__V1__Body *body = body_new("police.gwent", "probation.gwent");
	long count = argc > 1 ? strtol(argv[1], NULL, 10) : COUNT;
	uint8_t *frame = NULL;
	size_t len = 0;
	void *zctx = zmq_ctx_new();

	if (count <= 0 || !zctx) {
		fprintf(stderr, "usage: bench_curve [COUNT]\n");
		return 2;
	}
	if (ppx_body_seal(&frame, &len, signer, body) != 0) {
		fprintf(stderr, "bench_curve: seal: %s\n", ppx_error_last());
		return 1;
	}
	printf("message: %zu-byte frame (a signed arrest notification); "
	       "%ld per run, median of %d runs, tcp://127.0.0.1, 2 threads\n",
	       len, count, RUNS);
	report(zctx, 1, frame, len, count);
	report(zctx, 0, frame, len, count);
	zmq_ctx_term(zctx);
	free(frame);
	body_free(body);
	ppx_signer_free(signer);
	return 0;
}
