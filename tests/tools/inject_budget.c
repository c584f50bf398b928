/*
 * inject_budget.c — Budget modes (issue 10: budgets, deviations).
 *
 * A partner may be authenticated and still cost the receiver more than it
 * should: frames of an unknown layout, junk at full speed over many
 * connections, or simply too many messages.  These modes measure what the
 * receiver does about it, for tests/integration/block_cut.sh,
 * deviations.sh and hostile_flood.sh and for tests/bench/hostile-latency:
 * junk and latency run links of their own, since they neither wait for
 * every answer (junk) nor send more than one frame at a time (latency).
 *
 * version-layout N  a frame of wire version N whose field 2 is a varint:
 *                   nothing a version-1 decoder takes for an Envelope
 * junk N            N distinct frames that are not ppx Frames, sent at
 *                   full speed over --conns C connections (default 1),
 *                   --hold-ms H after connecting (default 0), without
 *                   waiting for answers; prints one summary line
 *                   "junk: sent S answered A" and the answers by reason
 *                   (a flooding partner: answers stop once it is blocked);
 *                   --watch (at most WATCH_MAX connections) monitors each
 *                   connection and adds "junk: connections C up U down D
 *                   refused R": handshakes that succeeded (C of them, if
 *                   none was made again), connections the daemon ended,
 *                   handshakes it refused
 * latency N         N valid messages, each sent once the one before is
 *                   answered; prints "latency: n N p50 X p99 Y max Z" (ms)
 *
 * The core (inject.c) builds the frames of latency itself (as flood does)
 * and calls the rest from main().
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <zmq.h>

#include "ppx/envelope.h"
#include "ppx/error.h"
#include "ppx/pki.h"
#include "ppx/receipt.h"
#include "ppx.pb-c.h"
#include "inject.h"

/* version-layout N: Frame.version = N (field 1), then field 2 as a varint
 * where a version-1 Frame has its Envelope. */
int build_version_layout(struct frames *fs, const struct opts *o)
{
	uint8_t *buf = malloc(16);
	size_t n = 0;
	long v;

	if (inject_parse_long(o->arg, 0, 0xffffffffL, &v) != 0)
		inject_usage(EXIT_USAGE);
	if (!buf)
		return ppx_error_set(PPX_ENOMEM, "out of memory");
	buf[n++] = 0x08;
	for (unsigned long u = (unsigned long)v;; u >>= 7) {
		buf[n++] = (uint8_t)((u & 0x7f) | (u > 0x7f ? 0x80 : 0));
		if (u <= 0x7f)
			break;
	}
	buf[n++] = 0x10;
	buf[n++] = 0x05;
	return inject_frames_add(fs, buf, n);
}

/* junk N: N distinct frames, none of them a ppx Frame. */
int build_junk(struct frames *fs, const struct opts *o)
{
	long n;
	int rc = 0;

	if (inject_parse_long(o->arg, 1, FLOOD_MAX, &n) != 0)
		inject_usage(EXIT_USAGE);
	for (long i = 0; rc == 0 && i < n; i++) {
		uint8_t *buf = malloc(64);
		int len;

		if (!buf)
			return ppx_error_set(PPX_ENOMEM, "out of memory");
		len = snprintf((char *)buf, 64, "\x0f\xff\xff junk %ld", i);
		rc = inject_frames_add(fs, buf, (size_t)len);
	}
	return rc;
}

#define WATCH_MAX 300	/* three zmq sockets each: within ZMQ_MAX_SOCKETS */

/* What the junk connections' monitors saw (--watch): handshakes that
 * succeeded, sessions ended after one (a failed handshake ends no
 * session), handshakes refused. */
struct junk_seen {
	long up, down, refused;
	char is_up[CONNS_MAX];
};

/* A DEALER to the daemon, monitored if --watch (*mon then set). */
static void *junk_socket(void *ctx, const struct opts *o, long i,
			 void **mon)
{
	uint8_t secret[32], public_key[32], server[32];
	char ep[64];
	void *s;

	if (inject_load_keys(o, secret, public_key, server) != 0)
		return NULL;
	s = zmq_socket(ctx, ZMQ_DEALER);
	if (s && (inject_set_int(s, ZMQ_LINGER, 0) ||
		  inject_set_int(s, ZMQ_SNDHWM, 100000) ||
		  zmq_setsockopt(s, ZMQ_CURVE_SERVERKEY, server, 32) ||
		  zmq_setsockopt(s, ZMQ_CURVE_PUBLICKEY, public_key, 32) ||
		  zmq_setsockopt(s, ZMQ_CURVE_SECRETKEY, secret, 32))) {
		zmq_close(s);
		s = NULL;
	}
	ppx_wipe(secret, sizeof(secret));
	snprintf(ep, sizeof(ep), "inproc://inject-junk-%ld", i);
	if (s && o->watch &&
	    (zmq_socket_monitor(s, ep, ZMQ_EVENT_HANDSHAKE_SUCCEEDED |
					       ZMQ_EVENT_DISCONNECTED |
					       ZMQ_EVENT_HANDSHAKE_FAILED_AUTH |
					       ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL) ||
	     !(*mon = zmq_socket(ctx, ZMQ_PAIR)) ||
	     inject_set_int(*mon, ZMQ_LINGER, 0) || zmq_connect(*mon, ep)))
		return NULL;
	if (s && zmq_connect(s, o->endpoint)) {
		zmq_close(s);
		s = NULL;
	}
	return s;
}

/* Count what junk connection i's monitor says. */
static void junk_events(void *mon, long i, struct junk_seen *seen)
{
	zmq_msg_t m;
	uint16_t event;

	for (;;) {
		zmq_msg_init(&m);
		if (zmq_msg_recv(&m, mon, ZMQ_DONTWAIT) < 0)
			break;
		event = 0;
		if (zmq_msg_size(&m) >= 2)
			memcpy(&event, zmq_msg_data(&m), sizeof(event));
		seen->up += event == ZMQ_EVENT_HANDSHAKE_SUCCEEDED;
		seen->down += event == ZMQ_EVENT_DISCONNECTED && seen->is_up[i];
		if (event == ZMQ_EVENT_HANDSHAKE_SUCCEEDED ||
		    event == ZMQ_EVENT_DISCONNECTED)
			seen->is_up[i] = event == ZMQ_EVENT_HANDSHAKE_SUCCEEDED;
		seen->refused += event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH ||
				 event == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL;
		zmq_msg_close(&m);
		zmq_msg_init(&m);	/* the event's second part: its address */
		zmq_msg_recv(&m, mon, ZMQ_DONTWAIT);
		zmq_msg_close(&m);
	}
	zmq_msg_close(&m);
}

/* Count one answer's items by status and reason, without a line each. */
static void junk_answer(const ppx_trust *trust, const struct opts *o,
			struct frames *fs, zmq_msg_t *m, uint64_t *by)
{
	Ppx__V1__ReceiptBody *r = NULL;

	if (ppx_receipt_open(&r, trust, zmq_msg_data(m), zmq_msg_size(m),
			     o->to, o->agency, time(NULL)) != 0)
		return;
	for (size_t k = 0; k < r->n_items; k++)
		if (inject_match_item(fs, r->items[k]) >= 0)
			by[r->items[k]->status == PPX__V1__RECEIPT_STATUS__REFUSED
				   ? (r->items[k]->reason & 63)
				   : 0]++;
	ppx__v1__receipt_body__free_unpacked(r, NULL);
}

static void junk_collect(void **socks, void **mons, long c,
			 const ppx_trust *trust, const struct opts *o,
			 struct frames *fs, uint64_t *by, long deadline,
			 struct junk_seen *seen)
{
	zmq_pollitem_t items[CONNS_MAX];
	long quiet = inject_now_ms() + 3000;

	for (long i = 0; i < c; i++)
		items[i] = (zmq_pollitem_t){socks[i], 0, ZMQ_POLLIN, 0};
	while (fs->n_answered < fs->n && inject_now_ms() < deadline &&
	       inject_now_ms() < quiet) {
		for (long i = 0; o->watch && i < c; i++)
			junk_events(mons[i], i, seen);
		if (zmq_poll(items, (int)c, 200) <= 0)
			continue;
		for (long i = 0; i < c; i++) {
			zmq_msg_t m;

			zmq_msg_init(&m);
			while (zmq_msg_recv(&m, socks[i], ZMQ_DONTWAIT) >= 0) {
				junk_answer(trust, o, fs, &m, by);
				quiet = inject_now_ms() + 3000;
			}
			zmq_msg_close(&m);
		}
	}
}

/* Send every frame over the --conns links without waiting, then count
 * the answers by reason until they stop: 0, or a negative error. */
int run_junk(const struct opts *o, const ppx_trust *trust,
		    struct frames *fs)
{
	void *ctx = zmq_ctx_new(), *socks[CONNS_MAX], *mons[CONNS_MAX] = {0};
	long c = o->conns ? o->conns : 1;
	long deadline = inject_now_ms() + o->timeout_ms;
	struct junk_seen seen = {0};
	uint64_t by[64] = {0};
	size_t sent = 0;

	if (o->watch && c > WATCH_MAX)
		return ppx_error_set(PPX_EINVAL, "--watch takes at most %d "
				     "connections", WATCH_MAX);
	for (long i = 0; i < c; i++)
		if (!(socks[i] = junk_socket(ctx, o, i, &mons[i])))
			return ppx_error_set(PPX_EIO, "cannot connect to %s",
					     o->endpoint);
	if (o->hold_ms)		/* the handshakes first, then every frame */
		nanosleep(&(struct timespec){o->hold_ms / 1000,
					     (o->hold_ms % 1000) * 1000000},
			  NULL);
	for (size_t i = 0; i < fs->n; i++)
		if (zmq_send(socks[i % (size_t)c], fs->f[i].data, fs->f[i].len,
			     ZMQ_DONTWAIT) >= 0)
			sent++;
	junk_collect(socks, mons, c, trust, o, fs, by, deadline, &seen);
	printf("junk: sent %zu answered %zu\n", sent, fs->n_answered);
	for (int r = 0; r < 64; r++)
		if (by[r])
			printf("junk: %s %llu\n",
			       r ? inject_reason_name(r) : "STORED",
			       (unsigned long long)by[r]);
	for (long i = 0; o->watch && i < c; i++)
		junk_events(mons[i], i, &seen);
	if (o->watch)
		printf("junk: connections %ld up %ld down %ld refused %ld\n", c,
		       seen.up, seen.down, seen.refused);
	for (long i = 0; i < c; i++) {
		if (mons[i])	/* stopped while its reader is open (#3575) */
			zmq_socket_monitor(socks[i], NULL, 0);
		zmq_close(socks[i]);
		if (mons[i])
			zmq_close(mons[i]);
	}
	zmq_ctx_term(ctx);
	return 0;
}

static int cmp_long(const void *a, const void *b)
{
	return (*(const long *)a > *(const long *)b) -
	       (*(const long *)a < *(const long *)b);
}

/* Each message alone: the time from its send to its answer. */
int run_latency(const struct opts *o, const ppx_trust *trust,
		       struct frames *fs)
{
	struct link_state st = {0};
	void *ctx = zmq_ctx_new(), *sock = NULL, *mon = NULL;
	long *us = calloc(fs->n, sizeof(*us)), deadline;
	struct timespec t0, t1;
	size_t n = 0;
	int rc = us ? inject_link_open(ctx, o, &sock, &mon) : PPX_ENOMEM;

	for (size_t i = 0; rc == 0 && i < fs->n; i++, n++) {
		deadline = inject_now_ms() + o->timeout_ms;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		if ((rc = inject_send_frames(sock, fs, i, i + 1)) != 0 ||
		    inject_collect(sock, mon, trust, o, fs, &st, i + 1,
				   deadline) ||
		    fs->n_answered != i + 1)
			break;
		clock_gettime(CLOCK_MONOTONIC, &t1);
		us[i] = (t1.tv_sec - t0.tv_sec) * 1000000L +
			(t1.tv_nsec - t0.tv_nsec) / 1000;
	}
	qsort(us, n, sizeof(*us), cmp_long);
	if (n > 0)
		printf("latency: n %zu p50 %.2f p99 %.2f max %.2f ms\n",
			n, us[n / 2] / 1000.0, us[(n * 99) / 100] / 1000.0,
			us[n - 1] / 1000.0);
	free(us);
	if (sock)
		zmq_close(sock);
	if (mon)
		zmq_close(mon);
	zmq_ctx_term(ctx);
	return rc != 0 ? rc : n == fs->n ? 0 : EXIT_ANSWERS;
}
