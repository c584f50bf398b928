/*
 * transport_zmq.c — the CurveZMQ transport of ppxd (behind the interface
 * of transport.h): one ROUTER that partners connect to, one DEALER per
 * partner, heartbeats, and connection events.  Frames are handed out in
 * the zmq_msg_t they arrived in (struct transport_frame's `impl`), and a
 * ROUTER's routing id is the reply handle (struct transport_route).
 *
 * The CA binds every agency's CURVE key to its name: our server key and
 * secret come from our transport certificate's key file; a partner's
 * server key is read from its transport certificate and pinned; ZAP
 * (zap.c) maps every connecting client key to an agency the same way.
 *
 * The listening port is ours for as long as the daemon runs.  We open the
 * listening TCP socket ourselves and hand libzmq a duplicate of it
 * (ZMQ_USE_FD).  To cut every partner session (a CRL reload: everybody is
 * judged again) a new ROUTER is made on another duplicate of the same
 * socket and the old ROUTER, with every connection it accepted, is
 * closed: the port is never unbound, so no other process can take it in
 * between.  (Unbinding and binding again, as before, left a window in
 * which any local user could bind the port, and a bind that failed was
 * never tried again.)  If the port cannot be had at start-up, the daemon
 * runs without it, tries again every second and says so in `ppx status`.
 *
 * A blocked partner's connections are cut one by one instead, so that
 * one hostile partner cannot make every other partner's session drop:
 * libzmq cannot drop one peer of a ROUTER, but every frame names the
 * descriptor of the connection it came on (ZMQ_SRCFD), and shutdown() on
 * it makes libzmq's I/O thread see the connection end and tear that one
 * session down (libzmq still owns the descriptor and closes it).  See
 * zt_conn_name() for how a descriptor number reused by another
 * connection is told apart, and what risk remains.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "log.h"
#include "partners.h"
#include "ppx/error.h"
#include "state.h"
#include "transport.h"
#include "zap.h"

struct link {
	char agency[PPX_NAME_MAX];
	char endpoint[256];
	void *sock;
	void *monitor;
	unsigned generation;
	int up;
	int disabled;		/* the directory cut the partner off */
	/* The partner's server key and place: the listed transport
	 * certificates usable now (partners_server_key) and the listed
	 * endpoints (partners_endpoint) are tried in turn, every key at
	 * one endpoint before the next endpoint, the next pair after a
	 * refused or unfinished handshake or a connection never made. */
	uint8_t key[32];
	unsigned key_attempt;
	int n_keys;		/* candidates at the last reset */
	int n_tries;		/* keys times endpoints at the last reset */
	char connect_to[256];	/* the endpoint of this reset */
	int64_t opened_ms;
	int was_up;		/* in this generation */
};

/* An accepted connection, named from a frame it sent (zt_recv), so that
 * an agency's sessions can be cut (transport_cut_agency). */
struct known_conn {
	struct transport_conn c;
	char addr[64];		/* its frames' Peer-Address */
	char agency[PPX_NAME_MAX];
};

#define LISTEN_RETRY_MS 1000
#define LISTEN_BACKLOG 256
#define CUT_LINGER_MS 1000
#define CUTS_REMEMBERED 128	/* connections judged for a cut (ring) */
#define CONNS_KNOWN 512		/* accepted connections named (ring) */

/* A connection of the ROUTER that was judged for a cut (cut, or found
 * gone): its routing id is never judged again, so that its frames still
 * queued here cannot make us shut down whatever connection has since
 * been given its descriptor number.  libzmq never gives a routing id to
 * two connections of one ROUTER at once. */
struct cut_seen {
	uint8_t routing[TRANSPORT_ROUTING_MAX];
	size_t len;
	char agency[PPX_NAME_MAX];
};

struct zmq_transport {
	struct transport base;	/* first: the interface's */
	struct ppxd *d;
	void *router;
	int listen_fd;		/* ours; -1 while the port is not had */
	uint64_t multipart;	/* malformed messages dropped, not yet said */
	int64_t multipart_said_ms;
	char listen_error[256];	/* why not, while it is not */
	int64_t listen_tried_ms;
	struct link *links;
	size_t n_links;
	uint8_t secret[32];
	uint8_t public_key[32];
	struct cut_seen cuts[CUTS_REMEMBERED];	/* a ring */
	size_t next_cut;
	struct known_conn conns[CONNS_KNOWN];	/* a ring */
	size_t next_conn;
};

static int set_int(void *sock, int opt, int value)
{
	return zmq_setsockopt(sock, opt, &value, sizeof(value));
}

/* Heartbeats, linger, the handshake deadline (a peer that connects and
 * does not finish the CURVE handshake in time is cut off) and the message
 * size cap every socket shares.  The
 * cap is above max_frame so that an oversized frame is answered with
 * REJECT_TOO_LARGE rather than a silent disconnect; only far larger
 * messages are cut off by libzmq itself. */
static int common_options(struct ppxd *d, void *sock)
{
	int64_t maxmsg = 2 * (int64_t)d->cfg->max_frame + 65536;

	return set_int(sock, ZMQ_LINGER, 0) ||
	       set_int(sock, ZMQ_HEARTBEAT_IVL, (int)d->cfg->heartbeat_ms) ||
	       set_int(sock, ZMQ_HEARTBEAT_TIMEOUT,
		       (int)d->cfg->heartbeat_timeout_ms) ||
	       set_int(sock, ZMQ_HEARTBEAT_TTL,
		       (int)d->cfg->heartbeat_timeout_ms) ||
	       set_int(sock, ZMQ_HANDSHAKE_IVL,
		       (int)d->cfg->handshake_timeout_ms) ||
	       zmq_setsockopt(sock, ZMQ_MAXMSGSIZE, &maxmsg, sizeof(maxmsg));
}

/* HOST and PORT of tcp://HOST:PORT (config.c checked the shape); HOST
 * "*" for any address, brackets of an IPv6 address dropped.  0, or
 * PPX_EINVAL (the caller says on what). */
static int split_endpoint(const char *ep, char *host, size_t hcap,
			  char *port, size_t pcap)
{
	const char *h = ep + strlen("tcp://"), *colon = strrchr(h, ':');
	size_t hlen;

	if (strncmp(ep, "tcp://", 6) != 0 || !colon)
		return PPX_EINVAL;
	hlen = (size_t)(colon - h);
	if (hlen >= 2 && h[0] == '[') {
		h++;
		hlen -= 2;
	}
	if (hlen >= hcap)
		return PPX_EINVAL;
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	snprintf(port, pcap, "%s", colon + 1);
	return 0;
}

/* Our listening socket on the configured endpoint: bound, listening,
 * non-blocking (two ROUTERs may poll it for a moment while sessions are
 * cut, and neither may block in accept()). */
static int listen_open(struct zmq_transport *t)
{
	struct addrinfo hints = {.ai_flags = AI_PASSIVE,
				 .ai_socktype = SOCK_STREAM}, *ai = NULL;
	const char *ep = t->d->cfg->listen;
	char host[256], port[16];
	int fd = -1, one = 1, rc;

	if (split_endpoint(ep, host, sizeof(host), port, sizeof(port)) != 0)
		return ppx_error_set(PPX_EINVAL, "cannot listen on %s: not "
				     "tcp://HOST:PORT", ep);
	rc = getaddrinfo(strcmp(host, "*") ? host : NULL, port, &hints, &ai);
	if (rc != 0)
		return ppx_error_set(PPX_EIO, "cannot listen on %s: %s", ep,
				     gai_strerror(rc));
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
		    0);
	if (fd < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(fd, ai->ai_addr, ai->ai_addrlen) ||
	    listen(fd, LISTEN_BACKLOG)) {
		int e = errno;

		if (fd >= 0)
			close(fd);
		freeaddrinfo(ai);
		return ppx_error_set(PPX_EIO, "cannot listen on %s: %s", ep,
				     strerror(e));
	}
	freeaddrinfo(ai);
	t->listen_fd = fd;
	return 0;
}

/* A new ROUTER, bound to a duplicate of our listening socket if we have
 * it (libzmq closes the duplicate with the ROUTER). */
static int router_new(struct zmq_transport *t, void **out)
{
	struct ppxd *d = t->d;
	void *r = zmq_socket(d->zctx, ZMQ_ROUTER);
	int fd = -1;

	*out = NULL;
	if (!r || common_options(d, r) || set_int(r, ZMQ_CURVE_SERVER, 1) ||
	    zmq_setsockopt(r, ZMQ_CURVE_SECRETKEY, t->secret, 32) ||
	    zmq_setsockopt(r, ZMQ_ZAP_DOMAIN, ZAP_DOMAIN_PARTNER,
			   strlen(ZAP_DOMAIN_PARTNER)) ||
	    set_int(r, ZMQ_RCVHWM, 10000) || set_int(r, ZMQ_SNDHWM, 10000) ||
	    (t->listen_fd >= 0 &&
	     ((fd = fcntl(t->listen_fd, F_DUPFD_CLOEXEC, 0)) < 0 ||
	      set_int(r, ZMQ_USE_FD, fd) || zmq_bind(r, t->d->cfg->listen)))) {
		int e = zmq_errno();

		if (fd >= 0)	/* the bind failed: libzmq did not take it */
			close(fd);
		if (r)
			zmq_close(r);
		return ppx_error_set(PPX_EIO, "cannot listen on %s: %s",
				     d->cfg->listen, zmq_strerror(e));
	}
	*out = r;
	return 0;
}

/* Try for the port (again); the ROUTER is replaced once we have it. */
static int listen_try(struct zmq_transport *t)
{
	void *r = NULL;
	int rc;

	t->listen_tried_ms = ppxd_now_ms();
	rc = listen_open(t);
	if (rc == 0 && (rc = router_new(t, &r)) != 0) {
		close(t->listen_fd);
		t->listen_fd = -1;
	}
	if (rc != 0) {
		snprintf(t->listen_error, sizeof(t->listen_error), "%s",
			 ppx_error_last());
		return rc;
	}
	if (t->router)
		zmq_close(t->router);
	t->router = r;
	t->listen_error[0] = '\0';
	return 0;
}

static int router_open(struct zmq_transport *t)
{
	t->listen_fd = -1;
	if (listen_try(t) == 0)
		return 0;
	log_warnx("%s; partners cannot reach us until it is free: trying "
		  "again every second", t->listen_error);
	return router_new(t, &t->router);	/* unbound until then */
}

static struct zmq_transport *zt(struct transport *self)
{
	return (struct zmq_transport *)self;
}

static int link_reset(struct zmq_transport *t, size_t i);

/* A link with other keys to try whose handshake has not succeeded in
 * twice the handshake deadline: the partner may have switched to its
 * next key (rotation, PROTOCOL.md 13): reset it onto the next one. */
static void rotate_stuck(struct zmq_transport *t)
{
	int64_t now = ppxd_now_ms();

	for (size_t i = 0; i < t->n_links; i++) {
		struct link *l = &t->links[i];

		if (l->sock && !l->was_up && l->n_tries > 1 && l->opened_ms &&
		    now - l->opened_ms >= 2 * t->d->cfg->handshake_timeout_ms) {
			log_info("link to %s: no session at %s with its "
				 "transport key %u of %d; trying the next",
				 l->agency, l->connect_to,
				 l->key_attempt % (unsigned)l->n_keys + 1,
				 l->n_keys);
			link_reset(t, i);
		}
	}
}

static void zt_tick(struct transport *base)
{
	struct zmq_transport *self = zt(base);

	rotate_stuck(self);
	if (self->listen_fd >= 0 ||
	    ppxd_now_ms() - self->listen_tried_ms < LISTEN_RETRY_MS)
		return;
	if (listen_try(self) == 0)
		log_info("listening on %s", self->d->cfg->listen);
}

static int zt_listening(struct transport *base, const char **error)
{
	struct zmq_transport *self = zt(base);

	*error = self->listen_error;
	return self->listen_fd >= 0;
}

/*
 * libzmq sends a monitored socket's events to the monitor from its I/O
 * thread, with a blocking send: an event of the socket's teardown (it goes
 * on after zmq_close(), in the background) sent to a monitor whose reader
 * is already closed would block that thread for good, and with it every
 * connection of the context, the control socket's too (libzmq issue
 * #3575).  So the monitor is stopped first, while its reader is still
 * open: zmq_socket_monitor(sock, NULL, 0).
 */
static void link_close(struct link *l)
{
	if (l->sock && l->monitor)
		zmq_socket_monitor(l->sock, NULL, 0);
	if (l->sock)
		zmq_close(l->sock);
	if (l->monitor)
		zmq_close(l->monitor);
	l->sock = l->monitor = NULL;
	l->up = 0;
}

/* Watch link l's handshakes and disconnections on a PAIR socket: 0, or
 * PPX_EIO (zmq_errno() says why; the caller logs it). */
static int link_monitor(struct zmq_transport *t, struct link *l, size_t i)
{
	char ep[64];

	snprintf(ep, sizeof(ep), "inproc://ppxd-link-%zu-%u", i, l->generation);
	if (zmq_socket_monitor(l->sock, ep,
			       ZMQ_EVENT_HANDSHAKE_SUCCEEDED |
				       ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL |
				       ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
				       ZMQ_EVENT_HANDSHAKE_FAILED_AUTH |
				       ZMQ_EVENT_DISCONNECTED) != 0)
		return PPX_EIO;
	l->monitor = zmq_socket(t->d->zctx, ZMQ_PAIR);
	return l->monitor && set_int(l->monitor, ZMQ_LINGER, 0) == 0 &&
			       zmq_connect(l->monitor, ep) == 0
		       ? 0
		       : PPX_EIO;
}

/* The server key and endpoint of link l for this reset: the next pair
 * if the last one never got a session up in time (attempt a: key a mod
 * keys, endpoint a / keys mod endpoints).  0, or a code (logged). */
static int link_server_key(struct zmq_transport *t, struct link *l)
{
	int64_t now = ppxd_now_ms();
	int n, e;

	if (l->opened_ms && !l->was_up && l->n_tries > 1 &&
	    now - l->opened_ms >= 2 * t->d->cfg->handshake_timeout_ms)
		l->key_attempt++;
	n = partners_server_key(t->d, l->agency, l->key_attempt, l->key);
	if (n < 0) {
		log_warnx("link to %s disabled: %s", l->agency,
			  ppx_error_last());
		l->n_keys = l->n_tries = 0;
		return n;
	}
	e = partners_endpoint(t->d, l->agency, l->key_attempt / (unsigned)n,
			      l->connect_to, sizeof(l->connect_to));
	if (e == 0)	/* not listed: the configured one */
		snprintf(l->connect_to, sizeof(l->connect_to), "%s",
			 l->endpoint);
	l->n_keys = n;
	l->n_tries = n * (e ? e : 1);
	return 0;
}

static int link_reset(struct zmq_transport *t, size_t i)
{
	struct link *l = &t->links[i];
	struct ppxd *d = t->d;

	link_close(l);
	l->generation++;
	if (l->disabled) {
		l->opened_ms = 0;
		log_debug("link to %s stays closed: cut off by the directory",
			  l->agency);
		return PPX_ENOTLISTED;
	}
	if (!l->endpoint[0]) {
		l->opened_ms = 0;
		log_warnx("link to %s disabled: no endpoint until a directory "
			  "lists one", l->agency);
		return PPX_ENOTFOUND;
	}
	if (link_server_key(t, l) != 0) {
		l->opened_ms = 0;
		return PPX_ENOTFOUND;
	}
	l->sock = zmq_socket(d->zctx, ZMQ_DEALER);
	if (!l->sock || common_options(d, l->sock) ||
	    set_int(l->sock, ZMQ_IMMEDIATE, 1) ||
	    set_int(l->sock, ZMQ_SNDHWM, (int)d->cfg->window + 16) ||
	    set_int(l->sock, ZMQ_RECONNECT_IVL, (int)d->cfg->retry_initial_ms) ||
	    set_int(l->sock, ZMQ_RECONNECT_IVL_MAX, (int)d->cfg->retry_max_ms) ||
	    zmq_setsockopt(l->sock, ZMQ_CURVE_SERVERKEY, l->key, 32) ||
	    zmq_setsockopt(l->sock, ZMQ_CURVE_PUBLICKEY, t->public_key, 32) ||
	    zmq_setsockopt(l->sock, ZMQ_CURVE_SECRETKEY, t->secret, 32) ||
	    link_monitor(t, l, i) != 0 || zmq_connect(l->sock, l->connect_to)) {
		log_warnx("cannot open link to %s at %s: %s", l->agency,
			  l->connect_to, zmq_strerror(zmq_errno()));
		link_close(l);
		return PPX_EIO;
	}
	l->opened_ms = ppxd_now_ms();
	l->was_up = 0;
	return 0;
}

static const struct transport_ops zt_ops;

int transport_new(struct transport **out, struct ppxd *d,
		  const uint8_t secret[32], const uint8_t public_key[32])
{
	struct zmq_transport *t = calloc(1, sizeof(*t));
	struct transport *base;
	int rc;

	*out = NULL;
	if (!t)
		return ppx_error_set(PPX_ENOMEM, "out of memory");
	t->base.ops = &zt_ops;
	t->d = d;
	t->listen_fd = -1;	/* not fd 0, should the next step fail */
	for (size_t i = 0; i < CONNS_KNOWN; i++)
		t->conns[i].c.fd = -1;
	memcpy(t->secret, secret, 32);
	memcpy(t->public_key, public_key, 32);
	t->links = calloc(d->cfg->n_partners ? d->cfg->n_partners : 1,
			  sizeof(*t->links));
	if (!t->links) {
		base = &t->base;
		transport_free(&base);
		return ppx_error_set(PPX_ENOMEM, "out of memory");
	}
	rc = router_open(t);
	for (size_t i = 0; rc == 0 && i < d->cfg->n_partners; i++) {
		struct link *l = &t->links[t->n_links++];

		snprintf(l->agency, sizeof(l->agency), "%s",
			 d->cfg->partners[i].name);
		snprintf(l->endpoint, sizeof(l->endpoint), "%s",
			 d->cfg->partners[i].endpoint);
		link_reset(t, i);	/* a disabled link is not fatal */
	}
	if (rc != 0) {
		base = &t->base;
		transport_free(&base);
		return rc;
	}
	*out = &t->base;
	return 0;
}

static void zt_free(struct transport *base)
{
	struct zmq_transport *t = zt(base);

	for (size_t i = 0; i < t->n_links; i++)
		link_close(&t->links[i]);
	free(t->links);
	if (t->router)
		zmq_close(t->router);
	if (t->listen_fd >= 0)
		close(t->listen_fd);
	ppx_wipe(t->secret, sizeof(t->secret));
	free(t);
}

static size_t zt_links(struct transport *self)
{
	return zt(self)->n_links;
}

static const char *zt_link_agency(struct transport *self, size_t i)
{
	return zt(self)->links[i].agency;
}

static int zt_link_open(struct transport *self, size_t i)
{
	return zt(self)->links[i].sock != NULL;
}

static int zt_link_up(struct transport *self, size_t i)
{
	return zt(self)->links[i].up;
}

static int zt_link_reset(struct transport *self, size_t i)
{
	return link_reset(zt(self), i);
}

/* The ROUTER, then each link's DEALER and monitor (NULL socket and fd
 * -1 for a disabled link): the loop drains them all every iteration. */
static size_t zt_waits(struct transport *base, struct transport_wait *out,
		       size_t max)
{
	struct zmq_transport *t = zt(base);
	size_t n = 0;

	if (max < 1)
		return 0;
	out[n].socket = t->router;
	out[n++].fd = -1;
	for (size_t i = 0; i < t->n_links && n + 2 <= max; i++) {
		out[n].socket = t->links[i].sock;
		out[n++].fd = -1;
		out[n].socket = t->links[i].monitor;
		out[n++].fd = -1;
	}
	return n;
}

static size_t zt_waits_max(struct transport *self)
{
	return 1 + 2 * zt(self)->n_links;
}

static int has_more(void *sock)
{
	int more = 0;
	size_t len = sizeof(more);

	zmq_getsockopt(sock, ZMQ_RCVMORE, &more, &len);
	return more;
}

/* Discard the rest of a multipart message. */
static void drain(void *sock)
{
	while (has_more(sock)) {
		zmq_msg_t m;

		zmq_msg_init(&m);
		zmq_msg_recv(&m, sock, 0);
		zmq_msg_close(&m);
	}
}

/* A malformed multipart message dropped: said at most once per
 * refusal_log_ms, with the count, so that a partner sending them cannot
 * flood the daemon's output. */
static void multipart_dropped(struct zmq_transport *t, const char *from)
{
	int64_t now = ppxd_now_ms();

	t->multipart++;
	if (now - t->multipart_said_ms < t->d->cfg->refusal_log_ms)
		return;
	log_warnx("dropped %llu malformed multipart message%s (the latest "
		  "from %s)", (unsigned long long)t->multipart,
		  t->multipart == 1 ? "" : "s", from);
	t->multipart = 0;
	t->multipart_said_ms = now;
}

/* A zmq_msg_t of our own on the heap, initialised. */
static zmq_msg_t *msg_new(void)
{
	zmq_msg_t *m = malloc(sizeof(*m));

	if (m)
		zmq_msg_init(m);
	return m;
}

static void zt_frame_done(struct transport *self, struct transport_frame *f)
{
	(void)self;
	zmq_msg_close(f->impl);
	free(f->impl);
}

/* Hand out a message received as a frame (the frame owns it). */
static void frame_of(struct transport_frame *out, zmq_msg_t *m)
{
	out->impl = m;
	out->data = zmq_msg_data(m);
	out->len = zmq_msg_size(m);
}

/* One message from the ROUTER: its routing id and its single frame.
 * 0, or PPX_EAGAIN when nothing is waiting. */
static int router_recv(struct zmq_transport *self, zmq_msg_t *routing,
		       zmq_msg_t *frame)
{
	for (;;) {
		zmq_msg_init(routing);
		if (zmq_msg_recv(routing, self->router, ZMQ_DONTWAIT) < 0) {
			zmq_msg_close(routing);
			return PPX_EAGAIN;
		}
		zmq_msg_init(frame);
		if (has_more(self->router) &&
		    zmq_msg_recv(frame, self->router, 0) >= 0 &&
		    !has_more(self->router))
			break;
		multipart_dropped(self, "a partner");
		drain(self->router);
		zmq_msg_close(routing);
		zmq_msg_close(frame);
	}
	return 0;
}

static int zt_conn_name(struct transport *base,
			const struct transport_frame *f,
			struct transport_conn *out);

/* Remember the connection a frame of `agency` came on, for
 * transport_cut_agency: once per connection (descriptor, address and
 * agency the same as remembered: nothing to do). */
static void conn_learn(struct zmq_transport *t, const struct transport_frame *f,
		       const char *agency)
{
	const char *addr = zmq_msg_gets(f->impl, "Peer-Address");
	int fd = zmq_msg_get(f->impl, ZMQ_SRCFD);
	struct known_conn *k;

	if (fd < 0 || !addr || !agency[0] || !t->d->directory)
		return;	/* without a directory nobody is cut off this way */
	for (size_t i = 0; i < CONNS_KNOWN; i++) {
		k = &t->conns[i];
		if (k->c.fd == fd && strcmp(k->agency, agency) == 0 &&
		    strcmp(k->addr, addr) == 0)
			return;
	}
	k = &t->conns[t->next_conn++ % CONNS_KNOWN];
	if (zt_conn_name(&t->base, f, &k->c) != 0) {
		memset(k, 0, sizeof(*k));
		k->c.fd = -1;
		return;
	}
	snprintf(k->addr, sizeof(k->addr), "%s", addr);
	snprintf(k->agency, sizeof(k->agency), "%s", agency);
}

/* A routing id longer than a route holds cannot be answered: libzmq
 * caps them at 255 bytes, so none is. */
static int zt_recv(struct transport *base, struct transport_route *route,
		   struct transport_frame *out, char agency[PPX_NAME_MAX])
{
	struct zmq_transport *self = zt(base);
	zmq_msg_t routing, *frame = msg_new();
	const char *user;
	size_t len;
	int rc;

	if (!frame)	/* what waits is read once there is memory */
		return PPX_ENOMEM;
	rc = router_recv(self, &routing, frame);
	if (rc != 0) {
		free(frame);
		return rc;
	}
	len = zmq_msg_size(&routing);
	route->len = len < sizeof(route->id) ? len : sizeof(route->id);
	memcpy(route->id, zmq_msg_data(&routing), route->len);
	zmq_msg_close(&routing);
	user = zmq_msg_gets(frame, "User-Id");
	snprintf(agency, PPX_NAME_MAX, "%s", user ? user : "");
	frame_of(out, frame);
	conn_learn(self, out, agency);
	return 0;
}

static void zt_reply(struct transport *base,
		     const struct transport_route *route, const uint8_t *data,
		     size_t len)
{
	struct zmq_transport *self = zt(base);

	if (zmq_send(self->router, route->id, route->len,
		     ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0 ||
	    zmq_send(self->router, data, len, ZMQ_DONTWAIT) < 0)
		log_debug("reply dropped: %s", zmq_strerror(zmq_errno()));
}

static int zt_link_recv(struct transport *base, size_t i,
			struct transport_frame *out)
{
	struct zmq_transport *self = zt(base);
	void *sock = self->links[i].sock;
	zmq_msg_t *frame;

	if (!sock)
		return PPX_EAGAIN;	/* a closed link: nothing to read */
	if (!(frame = msg_new()))
		return PPX_ENOMEM;
	for (;;) {
		if (zmq_msg_recv(frame, sock, ZMQ_DONTWAIT) < 0) {
			zmq_msg_close(frame);
			free(frame);
			return PPX_EAGAIN;
		}
		if (!has_more(sock)) {
			frame_of(out, frame);
			return 0;
		}
		multipart_dropped(self, self->links[i].agency);
		drain(sock);
		zmq_msg_close(frame);
		zmq_msg_init(frame);
	}
}

static int zt_link_send(struct transport *base, size_t i, const uint8_t *data,
			size_t len)
{
	struct link *l = &zt(base)->links[i];

	if (!l->sock || !l->up)
		return PPX_EFULL;
	if (zmq_send(l->sock, data, len, ZMQ_DONTWAIT) < 0)
		return PPX_EFULL;
	return 0;
}

static enum link_event zt_link_event(struct transport *base, size_t i)
{
	struct link *l = &zt(base)->links[i];
	zmq_msg_t m;
	uint16_t event = 0;

	if (!l->monitor)
		return LINK_NONE;
	zmq_msg_init(&m);
	if (zmq_msg_recv(&m, l->monitor, ZMQ_DONTWAIT) < 0) {
		zmq_msg_close(&m);
		return LINK_NONE;
	}
	if (zmq_msg_size(&m) >= 2)
		memcpy(&event, zmq_msg_data(&m), sizeof(event));
	zmq_msg_close(&m);
	drain(l->monitor);
	if (event == ZMQ_EVENT_HANDSHAKE_SUCCEEDED) {
		l->up = 1;
		l->was_up = 1;
		return LINK_UP;
	}
	if (event == ZMQ_EVENT_DISCONNECTED && l->up) {
		l->up = 0;
		return LINK_DOWN;
	}
	if (event == ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL ||
	    event == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL ||
	    event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH) {
		l->up = 0;
		if (!l->was_up) {	/* the next reset tries the next key */
			l->key_attempt++;
			l->opened_ms = 0;
		}
		return LINK_REFUSED;	/* libzmq will not try again by itself */
	}
	return LINK_NONE;
}

static int zt_cut_sessions(struct transport *base)
{
	struct zmq_transport *self = zt(base);
	void *r = NULL;
	int rc;

	/* A new ROUTER on the same listening socket first, then the old one
	 * closed with every connection it accepted: the port stays ours. */
	if (self->listen_fd < 0)
		return 0;	/* nothing accepted; transport_tick() tries */
	rc = router_new(self, &r);
	if (rc != 0)
		return rc;
	/* Receipts already queued (committed, answering frames taken before
	 * the cut) still go out, for up to CUT_LINGER_MS. */
	set_int(self->router, ZMQ_LINGER, CUT_LINGER_MS);
	zmq_close(self->router);
	self->router = r;
	memset(self->cuts, 0, sizeof(self->cuts));	/* the old ROUTER's */
	memset(self->conns, 0, sizeof(self->conns));
	for (size_t i = 0; i < CONNS_KNOWN; i++)
		self->conns[i].c.fd = -1;
	return 0;
}

/* The port of an IPv4 or IPv6 address (network order), or PPX_EINVAL
 * for another family. */
static int port_of(const struct sockaddr_storage *sa)
{
	if (sa->ss_family == AF_INET)
		return ((const struct sockaddr_in *)sa)->sin_port;
	if (sa->ss_family == AF_INET6)
		return ((const struct sockaddr_in6 *)sa)->sin6_port;
	return PPX_EINVAL;
}

/* The peer of `fd` if it is a connection our listening socket accepted:
 * connected (a listening socket has no peer, and shutdown() would stop
 * it listening), and its local port is ours (our links' connections and
 * any other descriptor are left alone).  0, or PPX_ENOTFOUND. */
static int accepted_peer(struct zmq_transport *t, int fd,
			 struct sockaddr_storage *peer, socklen_t *len)
{
	struct sockaddr_storage local, ours;
	socklen_t llen = sizeof(local), olen = sizeof(ours);

	*len = sizeof(*peer);
	memset(peer, 0, sizeof(*peer));
	if (fd < 0 || t->listen_fd < 0 ||
	    getpeername(fd, (struct sockaddr *)peer, len) != 0 ||
	    getsockname(fd, (struct sockaddr *)&local, &llen) != 0 ||
	    getsockname(t->listen_fd, (struct sockaddr *)&ours, &olen) != 0)
		return PPX_ENOTFOUND;
	return port_of(&local) >= 0 && port_of(&local) == port_of(&ours)
		       ? 0
		       : PPX_ENOTFOUND;
}

/*
 * Called as soon as the frame is read, the descriptor libzmq names is
 * checked against the frame's own Peer-Address (taken by libzmq when the
 * connection was accepted, so it cannot belong to another one), and the
 * peer's address and port are kept; transport_conn_cut() shuts the
 * descriptor down only if it still has that very peer (a connection that
 * took the number since has another peer port), however long the cut
 * waits for the receipts to go out.  What remains: a
 * connection that libzmq closed before we read its frame (its frames stay
 * queued here), whose descriptor number a new connection from the same
 * IP address took in between, would be named instead — only possible
 * for partners behind one address, and then that partner's daemon
 * reconnects and resends what has no receipt; nothing is lost.
 */
static int zt_conn_name(struct transport *base,
			const struct transport_frame *f,
			struct transport_conn *out)
{
	struct zmq_transport *self = zt(base);
	zmq_msg_t *frame = f->impl;
	const char *addr = zmq_msg_gets(frame, "Peer-Address");
	char host[NI_MAXHOST];

	out->fd = zmq_msg_get(frame, ZMQ_SRCFD);
	if (out->fd < 0 || !addr ||
	    accepted_peer(self, out->fd, &out->peer, &out->peer_len) != 0 ||
	    getnameinfo((struct sockaddr *)&out->peer, out->peer_len, host,
			sizeof(host), NULL, 0, NI_NUMERICHOST) != 0 ||
	    strcmp(host, addr) != 0) {
		out->fd = -1;
		return PPX_ENOTFOUND;
	}
	return 0;
}

static struct cut_seen *cut_find(struct zmq_transport *t,
				 const struct transport_route *routing)
{
	size_t len = routing->len;

	for (size_t i = 0; i < CUTS_REMEMBERED; i++)
		if (t->cuts[i].len == len && len > 0 &&
		    memcmp(t->cuts[i].routing, routing->id, len) == 0)
			return &t->cuts[i];
	return NULL;
}

static int zt_conn_judged(struct transport *base,
			  const struct transport_route *routing)
{
	return cut_find(zt(base), routing) != NULL;
}

static int zt_conn_cut(struct transport *base,
		       const struct transport_route *routing,
		       const struct transport_conn *c, const char *agency)
{
	struct zmq_transport *self = zt(base);
	struct cut_seen *seen;
	struct sockaddr_storage now;
	socklen_t len;
	size_t rlen = routing->len;

	if (rlen == 0 || rlen > TRANSPORT_ROUTING_MAX ||
	    cut_find(self, routing))
		return PPX_ENOTFOUND;
	seen = &self->cuts[self->next_cut++ % CUTS_REMEMBERED];
	memcpy(seen->routing, routing->id, rlen);
	seen->len = rlen;
	snprintf(seen->agency, sizeof(seen->agency), "%s", agency);
	/* Still the connection named when its frame was read?  Not closed
	 * since, its number not given to another connection. */
	if (c->fd < 0 || accepted_peer(self, c->fd, &now, &len) != 0 ||
	    len != c->peer_len || memcmp(&now, &c->peer, len) != 0)
		return PPX_ENOTFOUND;
	/* Not close(): the descriptor is libzmq's.  It sees the end of the
	 * connection and ends the session; the peer sees it closed. */
	if (shutdown(c->fd, SHUT_RDWR) != 0)
		return PPX_ENOTFOUND;
	return 0;
}

static void zt_conn_forget(struct transport *base, const char *agency)
{
	struct zmq_transport *self = zt(base);

	for (size_t i = 0; i < CUTS_REMEMBERED; i++)
		if (strcmp(self->cuts[i].agency, agency) == 0)
			memset(&self->cuts[i], 0, sizeof(self->cuts[i]));
}

static int zt_cut_sessions(struct transport *base);

/*
 * Cut every live session of `agency`.  The connections remembered as
 * its own (accepted_peer: not closed since, its number not given to
 * another connection) are shut down first; but a session of it that has
 * sent no frame since a directory came into force, or that the ring
 * (CONNS_KNOWN) no longer holds, is not known here, and ZAP is asked only
 * at the handshake, so such a session would live on.  Which sessions are
 * the agency's is therefore never known exactly, and every session is
 * cut as well (as on a CRL reload): none of the agency's survives, its
 * reconnection is refused by ZAP, and the other partners reconnect and
 * resend what has no receipt.
 */
static int zt_cut_agency(struct transport *base, const char *agency)
{
	struct zmq_transport *self = zt(base);
	int cut = 0;

	for (size_t i = 0; i < CONNS_KNOWN; i++) {
		struct known_conn *k = &self->conns[i];
		struct sockaddr_storage now;
		socklen_t len;

		if (!k->agency[0] || strcmp(k->agency, agency) != 0)
			continue;
		if (k->c.fd >= 0 &&
		    accepted_peer(self, k->c.fd, &now, &len) == 0 &&
		    len == k->c.peer_len && memcmp(&now, &k->c.peer, len) == 0 &&
		    shutdown(k->c.fd, SHUT_RDWR) == 0)
			cut++;
		memset(k, 0, sizeof(*k));
		k->c.fd = -1;
	}
	log_info("cut %d session%s of %s known by its frames, and every "
		 "other partner session, which may be %s's too; the others "
		 "reconnect", cut, cut == 1 ? "" : "s", agency, agency);
	return zt_cut_sessions(base);
}

static int zt_link_add(struct transport *base, const char *agency,
		       const char *endpoint)
{
	struct zmq_transport *self = zt(base);
	struct link *nl = realloc(self->links,
				  (self->n_links + 1) * sizeof(*nl));
	size_t i = self->n_links;

	if (!nl)
		return ppx_error_set(PPX_ENOMEM, "out of memory");
	self->links = nl;
	memset(&nl[i], 0, sizeof(nl[i]));
	snprintf(nl[i].agency, sizeof(nl[i].agency), "%s", agency);
	snprintf(nl[i].endpoint, sizeof(nl[i].endpoint), "%s", endpoint);
	self->n_links++;
	link_reset(self, i);	/* a disabled link is not fatal */
	return (int)i;
}

static void zt_link_drop(struct transport *base)
{
	struct zmq_transport *self = zt(base);

	if (self->n_links)
		link_close(&self->links[--self->n_links]);
}

static int zt_link_set(struct transport *base, size_t i, const char *endpoint,
		       int enabled)
{
	struct link *l = &zt(base)->links[i];

	if (strcmp(l->endpoint, endpoint) != 0)
		l->key_attempt = 0;	/* a new place: its first key */
	snprintf(l->endpoint, sizeof(l->endpoint), "%s", endpoint);
	l->disabled = !enabled;
	return 0;
}

static const char *zt_link_endpoint(struct transport *base, size_t i)
{
	return zt(base)->links[i].endpoint;
}

static int zt_link_key(struct transport *base, size_t i, uint8_t key[32])
{
	struct link *l = &zt(base)->links[i];

	if (!l->sock)
		return PPX_ENOTFOUND;
	memcpy(key, l->key, 32);
	return 0;
}

static const struct transport_ops zt_ops = {
	.free = zt_free,
	.links = zt_links,
	.link_agency = zt_link_agency,
	.link_open = zt_link_open,
	.link_up = zt_link_up,
	.link_send = zt_link_send,
	.link_recv = zt_link_recv,
	.link_event = zt_link_event,
	.link_reset = zt_link_reset,
	.recv = zt_recv,
	.reply = zt_reply,
	.frame_done = zt_frame_done,
	.cut_sessions = zt_cut_sessions,
	.conn_name = zt_conn_name,
	.conn_cut = zt_conn_cut,
	.conn_judged = zt_conn_judged,
	.conn_forget = zt_conn_forget,
	.tick = zt_tick,
	.listening = zt_listening,
	.waits = zt_waits,
	.waits_max = zt_waits_max,
	.link_add = zt_link_add,
	.link_drop = zt_link_drop,
	.link_set = zt_link_set,
	.cut_agency = zt_cut_agency,
	.link_endpoint = zt_link_endpoint,
	.link_key = zt_link_key,
};
