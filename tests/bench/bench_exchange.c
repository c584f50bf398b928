/*
 * bench_exchange.c — load generator for two running daemons: submits
 * signed messages to the sender's control socket at a fixed rate (or as
 * fast as it will take them), waits until every receipt is logged, then
 * reads the sender's log to measure each message's end-to-end latency:
 * from its SENT entry to the RECEIPT_RECEIVED entry of the partner's
 * signed receipt (signed, verified and fsynced on both sides).
 *
 * It also reads how each SENT frame was signed: alone, or under a batch
 * signature (PROTOCOL.md 3.4), and the mean size of those batches.
 *
 * Usage: bench_exchange CONTROL_DIR LOG_DIR TO RATE COUNT
 *   RATE 0 = as fast as possible (sustained throughput).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

#include "ppx/envelope.h"
#include "ppx/error.h"
#include "ppx/logstore.h"

#define WINDOW 512

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void submit(void *sock, const char *to, unsigned i)
{
	Ppx__V1__ControlRequest req = PPX__V1__CONTROL_REQUEST__INIT;
	Ppx__V1__SubmitRequest sub = PPX__V1__SUBMIT_REQUEST__INIT;
	Ppx__V1__Body b = PPX__V1__BODY__INIT;
	Ppx__V1__SubjectIds subj = PPX__V1__SUBJECT_IDS__INIT;
	Ppx__V1__Notification n = PPX__V1__NOTIFICATION__INIT;
	char *rcpt[] = {(char *)to}, details[64];
	uint8_t buf[1024];
	size_t len;

	snprintf(details, sizeof(details), "benchmark message %u", i);
	subj.pnc_id = "2019/0123456X";
	subj.crn = "X123456";
	n.kind = PPX__V1__NOTIFICATION_KIND__ARREST;
	n.effective_date = "2026-11-21";
	n.details = details;
	b.n_recipients = 1;
	b.recipients = rcpt;
	b.marking = PPX__V1__PROTECTIVE_MARKING__OFFICIAL_SENSITIVE;
	b.priority = PPX__V1__PRIORITY__URGENT;
	b.subject = &subj;
	b.payload_case = PPX__V1__BODY__PAYLOAD_NOTIFICATION;
	b.notification = &n;
	sub.body = &b;
	req.version = 1;
	req.request_case = PPX__V1__CONTROL_REQUEST__REQUEST_SUBMIT;
	req.submit = &sub;
	len = ppx__v1__control_request__pack(&req, buf);
	zmq_send(sock, buf, len, 0);
}

/* Read one reply; returns 0 if the submit was accepted. */
static int reply(void *sock)
{
	uint8_t buf[4096];
	int n = zmq_recv(sock, buf, sizeof(buf), 0);
	Ppx__V1__ControlReply *r;
	int rc;

	if (n < 0)
		return -1;
	r = ppx__v1__control_reply__unpack(NULL, (size_t)n, buf);
	rc = r && r->code == 0 ? 0 : -1;
	if (r && r->code != 0)
		fprintf(stderr, "bench: refused: %s\n", r->error);
	if (r)
		ppx__v1__control_reply__free_unpacked(r, NULL);
	return rc;
}

struct lat {
	uint8_t id[16];
	int64_t sent, done;
};

static int cmp_id(const void *a, const void *b)
{
	return memcmp(a, b, 16);
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

struct scan {
	struct lat *l;
	size_t n, cap;
	size_t n_batched;	/* SENT frames under a batch signature */
	uint64_t batch_sizes;	/* the sum of their batches' sizes */
	int64_t *done_ms;
	size_t n_done;
};

static int visit(void *ctx, uint64_t seq, const uint8_t *data, size_t len)
{
	struct scan *s = ctx;
	Ppx__V1__LogEntry *e = ppx__v1__log_entry__unpack(NULL, len, data);

	(void)seq;
	if (!e)
		return 0;
	if (e->kind == PPX__V1__ENTRY_KIND__ENTRY_SENT && e->message_id.len == 16 &&
	    s->n < s->cap) {
		Ppx__V1__Frame *f = ppx__v1__frame__unpack(NULL, e->data.len,
							   e->data.data);

		if (f && f->content_case == PPX__V1__FRAME__CONTENT_MESSAGE &&
		    f->message->batch) {
			s->n_batched++;
			s->batch_sizes += f->message->batch->tree_size;
		}
		if (f)
			ppx__v1__frame__free_unpacked(f, NULL);
		memcpy(s->l[s->n].id, e->message_id.data, 16);
		s->l[s->n].sent = e->time_ms;
		s->l[s->n++].done = -1;
	}
	ppx__v1__log_entry__free_unpacked(e, NULL);
	return 0;
}

static int visit_receipts(void *ctx, uint64_t seq, const uint8_t *data,
			  size_t len)
{
	struct scan *s = ctx;
	Ppx__V1__LogEntry *e = ppx__v1__log_entry__unpack(NULL, len, data);
	struct lat *hit;

	(void)seq;
	if (!e)
		return 0;
	for (size_t i = 0;
	     e->kind == PPX__V1__ENTRY_KIND__ENTRY_RECEIPT_RECEIVED &&
	     i < e->n_related_ids; i++)
		if (e->related_ids[i].len == 16 &&
		    (hit = bsearch(e->related_ids[i].data, s->l, s->n,
				   sizeof(*s->l), cmp_id)) != NULL)
			hit->done = e->time_ms;
	ppx__v1__log_entry__free_unpacked(e, NULL);
	return 0;
}

/* Latencies of the messages logged from `from` on. */
static void report(const char *log_dir, uint64_t from, unsigned count,
		   double rate, double elapsed)
{
	ppx_log_options ro = {.flags = PPX_LOG_READONLY};
	struct scan s = {.cap = count};
	ppx_log *log = NULL;
	int64_t *ms;
	size_t k = 0;

	s.l = calloc(count, sizeof(*s.l));
	ms = calloc(count, sizeof(*ms));
	if (!s.l || !ms || ppx_log_open(&log, log_dir, &ro) != 0) {
		fprintf(stderr, "bench: cannot read %s\n", log_dir);
		exit(1);
	}
	ppx_log_foreach(log, from, ppx_log_size(log), visit, &s);
	qsort(s.l, s.n, sizeof(*s.l), cmp_id);
	ppx_log_foreach(log, from, ppx_log_size(log), visit_receipts, &s);
	for (size_t i = 0; i < s.n; i++)
		if (s.l[i].done >= 0)
			ms[k++] = s.l[i].done - s.l[i].sent;
	qsort(ms, k, sizeof(*ms), cmp_i64);
	if (rate > 0)
		printf("offered %6.0f msg/s: %u messages, ", rate, count);
	else
		printf("as fast as accepted: %u messages in %.2f s = %.0f msg/s "
		       "sustained, ", count, elapsed, count / elapsed);
	printf("end-to-end latency p50 %lld ms, p99 %lld ms (%zu receipted); "
	       "batch-signed %zu of %zu, mean batch %.1f\n",
	       k ? (long long)ms[k / 2] : -1LL,
	       k ? (long long)ms[k * 99 / 100] : -1LL, k, s.n_batched, s.n,
	       s.n_batched ? (double)s.batch_sizes / (double)s.n_batched : 0.0);
	ppx_log_close(log);
	free(s.l);
	free(ms);
}

static uint64_t log_size(const char *dir)
{
	ppx_log_options ro = {.flags = PPX_LOG_READONLY};
	ppx_log *log = NULL;
	uint64_t n;

	if (ppx_log_open(&log, dir, &ro) != 0)
		return 0;
	n = ppx_log_size(log);
	ppx_log_close(log);
	return n;
}

static int count_receipt(void *ctx, uint64_t seq, const uint8_t *data,
			 size_t len)
{
	Ppx__V1__LogEntry *e = ppx__v1__log_entry__unpack(NULL, len, data);

	(void)seq;
	if (e && e->kind == PPX__V1__ENTRY_KIND__ENTRY_RECEIPT_RECEIVED)
		*(unsigned *)ctx += (unsigned)e->n_related_ids;
	if (e)
		ppx__v1__log_entry__free_unpacked(e, NULL);
	return 0;
}

static unsigned receipts_since(const char *dir, uint64_t from)
{
	ppx_log_options ro = {.flags = PPX_LOG_READONLY};
	ppx_log *log = NULL;
	unsigned n = 0;

	if (ppx_log_open(&log, dir, &ro) != 0)
		return 0;
	ppx_log_foreach(log, from, ppx_log_size(log), count_receipt, &n);
	ppx_log_close(log);
	return n;
}

int main(int argc, char **argv)
{
	char ep[512];
	void *ctx, *sock;
	double rate, t0, last = 0;
	unsigned count, outstanding = 0, done = 0;
	uint64_t from;
	int timeout = 30000;

	if (argc != 6) {
		fprintf(stderr, "usage: bench_exchange CONTROL_DIR LOG_DIR TO RATE COUNT\n");
		return 2;
	}
	rate = strtod(argv[4], NULL);
	count = (unsigned)strtoul(argv[5], NULL, 10);
	snprintf(ep, sizeof(ep), "ipc://%s/control.sock", argv[1]);
	ctx = zmq_ctx_new();
	sock = zmq_socket(ctx, ZMQ_DEALER);
	zmq_setsockopt(sock, ZMQ_RCVTIMEO, &timeout, sizeof(timeout));
	zmq_connect(sock, ep);
	from = log_size(argv[2]);
	t0 = now_s();
	for (unsigned i = 0; i < count || outstanding > 0;) {
		if (i < count && outstanding < WINDOW &&
		    (rate <= 0 || now_s() >= t0 + i / rate)) {
			submit(sock, argv[3], i++);
			outstanding++;
			continue;
		}
		if (outstanding > 0 && (rate <= 0 || outstanding >= WINDOW ||
					i == count ||
					zmq_poll(&(zmq_pollitem_t){sock, 0, ZMQ_POLLIN, 0},
						 1, 0) > 0)) {
			if (reply(sock) != 0)
				return 1;
			outstanding--;
			done++;
		} else if (rate > 0) {
			nanosleep(&(struct timespec){0, 100000}, NULL);
		}
	}
	while (receipts_since(argv[2], from) < done && now_s() - t0 < 300) {
		nanosleep(&(struct timespec){0, 20 * 1000 * 1000}, NULL);
		last = now_s();
	}
	report(argv[2], from, count, rate, (last ? last : now_s()) - t0);
	zmq_close(sock);
	zmq_ctx_term(ctx);
	return 0;
}
