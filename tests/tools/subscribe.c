/*
 * subscribe.c — a minimal subscriber to ppxd's event stream, for
 * tests/integration/hooks.sh (and for trying the stream by hand).
 *
 *   subscribe ENDPOINT [PREFIX [COUNT [SECONDS]]]
 *
 * Connects a SUB socket to ENDPOINT, subscribes to topics starting with
 * PREFIX (default: all), and prints each two-part message as one line,
 * "TOPIC<TAB>JSON".  Exits 0 after COUNT messages (default: never) or 1
 * when SECONDS (default 30) pass first, or 2 for a message that is not
 * two parts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

#define PART_MAX (8 * 1024 * 1024)

static long arg_long(const char *s, long def)
{
	char *end;
	long v;

	if (!s)
		return def;
	v = strtol(s, &end, 10);
	return *end || v < 0 ? def : v;
}

/* One part into buf (truncated to cap - 1, NUL-terminated); whether more
 * parts follow in *more. */
static int recv_part(void *sock, char *buf, size_t cap, int *more)
{
	size_t ml = sizeof(*more);
	int n = zmq_recv(sock, buf, cap - 1, 0);

	if (n < 0)
		return -1;
	buf[(size_t)n < cap - 1 ? (size_t)n : cap - 1] = '\0';
	zmq_getsockopt(sock, ZMQ_RCVMORE, more, &ml);
	return 0;
}

int main(int argc, char **argv)
{
	const char *prefix = argc > 2 ? argv[2] : "";
	long count = arg_long(argc > 3 ? argv[3] : NULL, -1);
	long seconds = arg_long(argc > 4 ? argv[4] : NULL, 30);
	void *ctx = zmq_ctx_new();
	void *sock = ctx ? zmq_socket(ctx, ZMQ_SUB) : NULL;
	char topic[256], *json = malloc(PART_MAX);
	int timeout = 200, linger = 0, rc = 1, more = 0;
	time_t end = time(NULL) + seconds;

	if (argc < 2 || !sock || !json) {
		fprintf(stderr, "usage: subscribe ENDPOINT [PREFIX [COUNT "
			"[SECONDS]]]\n");
		return 2;
	}
	zmq_setsockopt(sock, ZMQ_RCVTIMEO, &timeout, sizeof(timeout));
	zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof(linger));
	zmq_setsockopt(sock, ZMQ_SUBSCRIBE, prefix, strlen(prefix));
	if (zmq_connect(sock, argv[1]) != 0) {
		fprintf(stderr, "subscribe: %s: %s\n", argv[1],
			zmq_strerror(zmq_errno()));
		return 2;
	}
	while (count != 0 && time(NULL) < end) {
		if (recv_part(sock, topic, sizeof(topic), &more) != 0)
			continue;	/* timeout: look at the clock */
		if (!more || recv_part(sock, json, PART_MAX, &more) != 0 ||
		    more) {
			fprintf(stderr, "subscribe: not a two-part message\n");
			rc = 2;
			break;
		}
		printf("%s\t%s\n", topic, json);
		fflush(stdout);
		if (count > 0)
			count--;
	}
	if (count == 0)
		rc = 0;
	free(json);
	zmq_close(sock);
	zmq_ctx_term(ctx);
	return rc;
}
