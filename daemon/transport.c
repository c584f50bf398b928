/*
 * transport.c — the CurveZMQ sockets of ppxd: one ROUTER that partners
 * connect to, one DEALER per partner, heartbeats, and connection events.
 *
 * The CA binds every agency's CURVE key to its name: our server key and
 * secret come from our transport certificate's key file; a partner's
 * server key is read from its transport certificate and pinned; ZAP
 * (zap.c) maps every connecting client key to an agency the same way.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "ppx/error.h"
#include "ppxd.h"
#include "transport.h"
#include "zap.h"

struct link {
	char agency[PPX_NAME_MAX];
	char endpoint[256];
	void *sock;
	void *monitor;
	unsigned generation;
	int up;
};

struct transport {
	struct ppxd *d;
	void *router;
	struct link *links;
	size_t n_links;
	uint8_t secret[32];
	uint8_t public_key[32];
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

static int router_open(struct transport *t)
{
	struct ppxd *d = t->d;

	t->router = zmq_socket(d->zctx, ZMQ_ROUTER);
	if (!t->router || common_options(d, t->router) ||
	    set_int(t->router, ZMQ_CURVE_SERVER, 1) ||
	    zmq_setsockopt(t->router, ZMQ_CURVE_SECRETKEY, t->secret, 32) ||
	    zmq_setsockopt(t->router, ZMQ_ZAP_DOMAIN, ZAP_DOMAIN_PARTNER,
			   strlen(ZAP_DOMAIN_PARTNER)) ||
	    set_int(t->router, ZMQ_RCVHWM, 10000) ||
	    set_int(t->router, ZMQ_SNDHWM, 10000) ||
	    zmq_bind(t->router, d->cfg->listen) != 0)
		return ppx_error_set(PPX_EIO, "cannot listen on %s: %s",
				     d->cfg->listen, zmq_strerror(zmq_errno()));
	return 0;
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

static int link_monitor(struct transport *t, struct link *l, size_t i)
{
	char ep[64];

	snprintf(ep, sizeof(ep), "inproc://ppxd-link-%zu-%u", i, l->generation);
	if (zmq_socket_monitor(l->sock, ep,
			       ZMQ_EVENT_HANDSHAKE_SUCCEEDED |
				       ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL |
				       ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
				       ZMQ_EVENT_HANDSHAKE_FAILED_AUTH |
				       ZMQ_EVENT_DISCONNECTED) != 0)
		return -1;
	l->monitor = zmq_socket(t->d->zctx, ZMQ_PAIR);
	return l->monitor && set_int(l->monitor, ZMQ_LINGER, 0) == 0 &&
			       zmq_connect(l->monitor, ep) == 0
		       ? 0
		       : -1;
}

int transport_link_reset(struct transport *t, size_t i)
{
	struct link *l = &t->links[i];
	struct ppxd *d = t->d;
	uint8_t server_key[32];
	X509 *cert;

	link_close(l);
	l->generation++;
	cert = ppx_trust_find_agency(d->trust, l->agency, PPX_ROLE_TRANSPORT,
				     time(NULL));
	if (!cert || ppx_cert_x25519_public(cert, server_key) != 0) {
		log_warnx("link to %s disabled: %s", l->agency,
			  ppx_error_last());
		return PPX_ENOTFOUND;
	}
	l->sock = zmq_socket(d->zctx, ZMQ_DEALER);
	if (!l->sock || common_options(d, l->sock) ||
	    set_int(l->sock, ZMQ_IMMEDIATE, 1) ||
	    set_int(l->sock, ZMQ_SNDHWM, (int)d->cfg->window + 16) ||
	    set_int(l->sock, ZMQ_RECONNECT_IVL, (int)d->cfg->retry_initial_ms) ||
	    set_int(l->sock, ZMQ_RECONNECT_IVL_MAX, (int)d->cfg->retry_max_ms) ||
	    zmq_setsockopt(l->sock, ZMQ_CURVE_SERVERKEY, server_key, 32) ||
	    zmq_setsockopt(l->sock, ZMQ_CURVE_PUBLICKEY, t->public_key, 32) ||
	    zmq_setsockopt(l->sock, ZMQ_CURVE_SECRETKEY, t->secret, 32) ||
	    link_monitor(t, l, i) != 0 || zmq_connect(l->sock, l->endpoint)) {
		log_warnx("cannot open link to %s at %s: %s", l->agency,
			  l->endpoint, zmq_strerror(zmq_errno()));
		link_close(l);
		return PPX_EIO;
	}
	return 0;
}

int transport_new(struct transport **out, struct ppxd *d,
		  const uint8_t secret[32], const uint8_t public_key[32])
{
	struct transport *t = calloc(1, sizeof(*t));
	int rc;

	*out = NULL;
	if (!t)
		return ppx_error_set(PPX_ENOMEM, "out of memory");
	t->d = d;
	memcpy(t->secret, secret, 32);
	memcpy(t->public_key, public_key, 32);
	t->links = calloc(d->cfg->n_partners ? d->cfg->n_partners : 1,
			  sizeof(*t->links));
	if (!t->links) {
		transport_free(&t);
		return ppx_error_set(PPX_ENOMEM, "out of memory");
	}
	rc = router_open(t);
	for (size_t i = 0; rc == 0 && i < d->cfg->n_partners; i++) {
		struct link *l = &t->links[t->n_links++];

		snprintf(l->agency, sizeof(l->agency), "%s",
			 d->cfg->partners[i].name);
		snprintf(l->endpoint, sizeof(l->endpoint), "%s",
			 d->cfg->partners[i].endpoint);
		transport_link_reset(t, i);	/* a disabled link is not fatal */
	}
	if (rc != 0) {
		transport_free(&t);
		return rc;
	}
	*out = t;
	return 0;
}

void transport_free(struct transport **self)
{
	struct transport *t = *self;

	if (!t)
		return;
	for (size_t i = 0; i < t->n_links; i++)
		link_close(&t->links[i]);
	free(t->links);
	if (t->router)
		zmq_close(t->router);
	ppx_wipe(t->secret, sizeof(t->secret));
	free(t);
	*self = NULL;
}

void *transport_router(struct transport *self)
{
	return self->router;
}

size_t transport_links(struct transport *self)
{
	return self->n_links;
}

const char *transport_link_agency(struct transport *self, size_t i)
{
	return self->links[i].agency;
}

void *transport_link_socket(struct transport *self, size_t i)
{
	return self->links[i].sock;
}

void *transport_link_monitor(struct transport *self, size_t i)
{
	return self->links[i].monitor;
}

int transport_link_up(struct transport *self, size_t i)
{
	return self->links[i].up;
}

int transport_link_find(struct transport *self, const char *agency)
{
	for (size_t i = 0; i < self->n_links; i++)
		if (strcmp(self->links[i].agency, agency) == 0)
			return (int)i;
	return -1;
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

int transport_recv(struct transport *self, zmq_msg_t *routing,
		   zmq_msg_t *frame, char agency[PPX_NAME_MAX])
{
	const char *user;

	for (;;) {
		zmq_msg_init(routing);
		if (zmq_msg_recv(routing, self->router, ZMQ_DONTWAIT) < 0) {
			zmq_msg_close(routing);
			return -1;
		}
		zmq_msg_init(frame);
		if (has_more(self->router) &&
		    zmq_msg_recv(frame, self->router, 0) >= 0 &&
		    !has_more(self->router))
			break;
		log_warnx("dropped a malformed multipart message from a partner");
		drain(self->router);
		zmq_msg_close(routing);
		zmq_msg_close(frame);
	}
	user = zmq_msg_gets(frame, "User-Id");
	snprintf(agency, PPX_NAME_MAX, "%s", user ? user : "");
	return 0;
}

void transport_reply(struct transport *self, zmq_msg_t *routing,
		     const uint8_t *data, size_t len)
{
	zmq_msg_t id;

	zmq_msg_init(&id);
	zmq_msg_copy(&id, routing);
	if (zmq_msg_send(&id, self->router, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0 ||
	    zmq_send(self->router, data, len, ZMQ_DONTWAIT) < 0)
		log_debug("reply dropped: %s", zmq_strerror(zmq_errno()));
	zmq_msg_close(&id);
}

int transport_link_recv(struct transport *self, size_t i, zmq_msg_t *frame)
{
	void *sock = self->links[i].sock;

	if (!sock)
		return -1;
	for (;;) {
		zmq_msg_init(frame);
		if (zmq_msg_recv(frame, sock, ZMQ_DONTWAIT) < 0) {
			zmq_msg_close(frame);
			return -1;
		}
		if (!has_more(sock))
			return 0;
		log_warnx("dropped a malformed multipart message from %s",
			  self->links[i].agency);
		drain(sock);
		zmq_msg_close(frame);
	}
}

int transport_link_send(struct transport *self, size_t i, const uint8_t *data,
			size_t len)
{
	struct link *l = &self->links[i];

	if (!l->sock || !l->up)
		return PPX_EFULL;
	if (zmq_send(l->sock, data, len, ZMQ_DONTWAIT) < 0)
		return PPX_EFULL;
	return 0;
}

enum link_event transport_link_event(struct transport *self, size_t i)
{
	struct link *l = &self->links[i];
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
		return LINK_REFUSED;	/* libzmq will not try again by itself */
	}
	return LINK_NONE;
}

int transport_cut_sessions(struct transport *self)
{
	const char *ep = self->d->cfg->listen;
	char bound[256];
	size_t len = sizeof(bound);

	/* Unbinding the listener ends every connection it accepted. */
	if (zmq_getsockopt(self->router, ZMQ_LAST_ENDPOINT, bound, &len) != 0)
		snprintf(bound, sizeof(bound), "%s", ep);
	if (zmq_unbind(self->router, bound) != 0)
		log_warnx("cannot unbind %s: %s", bound,
			  zmq_strerror(zmq_errno()));
	/* libzmq closes the old listener in its I/O thread, a moment later:
	 * until then the port is taken.  Never stay unbound. */
	for (int i = 0; i < 500; i++) {
		if (zmq_bind(self->router, ep) == 0)
			return 0;
		if (zmq_errno() != EADDRINUSE)
			break;
		nanosleep(&(struct timespec){0, 10 * 1000 * 1000}, NULL);
	}
	return ppx_error_set(PPX_EIO, "cannot listen again on %s: %s", ep,
			     zmq_strerror(zmq_errno()));
}
