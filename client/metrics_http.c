/*
 * metrics_http.c — `ppx metrics --listen ADDR:PORT`: GET /metrics over
 * HTTP on a loopback address, for a Prometheus on the same host (or a
 * proxy in front of it), asking the daemon on each scrape.
 *
 * The HTTP is libmicrohttpd's: one internal thread polls every
 * connection and calls answer() in turn, so scrapes are served one at a
 * time; requests are bounded (memory per connection, number of
 * connections, a timeout), and only loopback addresses are accepted to
 * listen on: the figures name partners and certificates, and nothing
 * here authenticates a client.  The main thread waits for SIGTERM or
 * SIGINT and stops the server.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <microhttpd.h>

#include "client.h"
#include "metrics.h"
#include "ppx/error.h"

#define HTTP_CONN_MEMORY 16384	/* bytes per connection, request included */
#define HTTP_CONN_MAX 16
#define HTTP_TIMEOUT_S 10

/* A loopback address to listen on. */
union listen_addr {
	struct sockaddr sa;
	struct sockaddr_in in4;
	struct sockaddr_in6 in6;
};

/* The port of "...:PORT": 1 to 65535, digits only.  0, or -1. */
static int parse_port(const char *s, uint16_t *out)
{
	unsigned long v = 0;

	if (!s[0] || strlen(s) > 5 || strspn(s, "0123456789") != strlen(s))
		return -1;
	v = strtoul(s, NULL, 10);
	if (v == 0 || v > 65535)
		return -1;
	*out = (uint16_t)v;
	return 0;
}

/*
 * "127.0.0.1:9469" or "[::1]:9469" into *out: 0, or -1 after saying why
 * (not an address and port, or not loopback: 0.0.0.0, ::, a LAN
 * address, an IPv4-mapped IPv6 address and a host name are refused).
 */
static int parse_listen(const char *arg, union listen_addr *out)
{
	char host[64];
	const char *colon, *end = NULL;
	uint16_t port;

	memset(out, 0, sizeof(*out));
	if (arg[0] == '[') {
		end = strchr(arg, ']');
		colon = end && end[1] == ':' ? end + 1 : NULL;
	} else {
		colon = strrchr(arg, ':');
	}
	if (!colon || parse_port(colon + 1, &port) != 0 ||
	    (size_t)(colon - arg) >= sizeof(host)) {
		fprintf(stderr, "ppx metrics: --listen %s: give ADDR:PORT, "
			"e.g. 127.0.0.1:9469 or [::1]:9469\n", arg);
		return -1;
	}
	if (end) {	/* [v6]:port */
		memcpy(host, arg + 1, (size_t)(end - arg - 1));
		host[end - arg - 1] = '\0';
	} else {
		memcpy(host, arg, (size_t)(colon - arg));
		host[colon - arg] = '\0';
	}
	if (!end && inet_pton(AF_INET, host, &out->in4.sin_addr) == 1 &&
	    (ntohl(out->in4.sin_addr.s_addr) >> 24) == 127) {
		out->in4.sin_family = AF_INET;
		out->in4.sin_port = htons(port);
		return 0;
	}
	if (end && inet_pton(AF_INET6, host, &out->in6.sin6_addr) == 1 &&
	    IN6_IS_ADDR_LOOPBACK(&out->in6.sin6_addr)) {
		out->in6.sin6_family = AF_INET6;
		out->in6.sin6_port = htons(port);
		return 0;
	}
	fprintf(stderr, "ppx metrics: --listen %s: not a loopback address; "
		"the endpoint has no authentication, so it listens only on "
		"127.0.0.0/8 or [::1] (put a proxy in front to reach it from "
		"elsewhere)\n", arg);
	return -1;
}

/* A fixed answer: `status` with a short text body. */
static enum MHD_Result answer_text(struct MHD_Connection *conn,
				   unsigned int status, const char *text)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(
		strlen(text), (void *)text, MHD_RESPMEM_PERSISTENT);
	enum MHD_Result ret;

	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, "Content-Type",
				"text/plain; charset=utf-8");
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, "Allow", "GET, HEAD");
	ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

/* The exposition, asked of the daemon now.  A daemon that does not
 * answer is ppx_up 0 with 200: the scrape worked, the daemon is down. */
static enum MHD_Result answer_metrics(struct MHD_Connection *conn,
				      const char *config_path)
{
	struct MHD_Response *r;
	enum MHD_Result ret;
	char *text = NULL;
	size_t len = 0;
	int up;

	if (metrics_collect(&text, &len, &up, config_path) != 0) {
		fprintf(stderr, "ppx metrics: %s\n", ppx_error_last());
		return answer_text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR,
				   "cannot build the metrics\n");
	}
	r = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(text);
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type", METRICS_CONTENT_TYPE);
	ret = MHD_queue_response(conn, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

/* libmicrohttpd's request handler, called once the headers are in:
 * answered then, before any body is read (a GET has none; anything else
 * is refused unread).  GET or HEAD /metrics; 405 for any other method,
 * 404 for any other path. */
static enum MHD_Result answer(void *cls, struct MHD_Connection *conn,
			      const char *url, const char *method,
			      const char *version, const char *upload,
			      size_t *upload_size, void **req)
{
	(void)version;
	(void)upload;
	(void)upload_size;
	(void)req;
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 &&
	    strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return answer_text(conn, MHD_HTTP_METHOD_NOT_ALLOWED,
				   "only GET /metrics is served\n");
	if (strcmp(url, "/metrics") != 0)
		return answer_text(conn, MHD_HTTP_NOT_FOUND,
				   "not found: the figures are at /metrics\n");
	return answer_metrics(conn, (const char *)cls);
}

int metrics_http_serve(const char *addr, const char *config_path)
{
	union listen_addr la;
	struct MHD_Daemon *httpd;
	sigset_t set;
	int sig = 0;

	if (parse_listen(addr, &la) != 0)
		return PPX_EXIT_USAGE;
	/* Blocked before the server's thread exists, so it inherits the
	 * mask and only sigwait() below takes them. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	httpd = MHD_start_daemon(
		MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG |
		(la.sa.sa_family == AF_INET6 ? MHD_USE_IPv6 : 0),
		0, NULL, NULL, answer, (void *)config_path,
		MHD_OPTION_SOCK_ADDR, &la.sa,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)HTTP_CONN_MEMORY,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned int)HTTP_CONN_MAX,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)HTTP_TIMEOUT_S,
		MHD_OPTION_END);
	if (!httpd) {
		fprintf(stderr, "ppx metrics: cannot listen on %s: %s\n", addr,
			errno ? strerror(errno) : "the HTTP server did not "
			"start");
		return PPX_EXIT_UNAVAILABLE;
	}
	fprintf(stderr, "ppx metrics: serving http://%s/metrics\n", addr);
	while (sigwait(&set, &sig) != 0)
		;
	MHD_stop_daemon(httpd);
	return PPX_EXIT_OK;
}
