/*
 * transport.h — what carries frames between daemons, behind a small
 * interface: frames and partner identities go through it, never the
 * types of the library underneath, so that the outbox (outbox.c), the
 * receive pipeline (inbound.c) and the writer can be driven by an
 * in-memory transport in unit tests (tests/unit/transport_mem.c).
 *
 * The daemon's transport is CurveZMQ (transport_zmq.c): one ROUTER
 * accepts partners (CURVE server, ZAP domain "ppx"); one DEALER per
 * partner sends to it (CURVE client pinned to the server key in the
 * partner's transport certificate).  Messages go out on our link to a
 * partner and their receipts come back on it; partners' messages arrive
 * inbound, each with the agency the transport authenticated and a reply
 * handle, and their receipts go back through the reply.
 *
 * A link is reset, dropping anything queued in it, whenever the
 * connection is lost: the outbox then resends from the oldest message
 * without a receipt, which keeps per-partner order.
 *
 * An implementation fills a struct transport_ops and puts a struct
 * transport first in its own state; transport.c dispatches.
 */
#ifndef PPXD_TRANSPORT_H
#define PPXD_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "ppx/pki.h"

struct ppxd;
struct transport;

enum link_event {
	LINK_NONE = 0,
	LINK_UP,
	LINK_DOWN,
	LINK_REFUSED,	/* the partner refused our handshake */
};

#define TRANSPORT_ROUTING_MAX 256	/* a reply handle, bytes */

/* Where a reply to an inbound frame goes: an opaque byte string (the
 * ROUTER's routing id under ZeroMQ), compared and copied as bytes. */
struct transport_route {
	uint8_t id[TRANSPORT_ROUTING_MAX];
	size_t len;
};

/* A frame received: its bytes, valid until transport_frame_done().
 * `impl` is the implementation's (what the bytes live in). */
struct transport_frame {
	const uint8_t *data;
	size_t len;
	void *impl;
};

/* The accepted connection a frame came on, as it was when the frame was
 * read: its descriptor (-1: not known) and its peer's address and port. */
struct transport_conn {
	int fd;
	struct sockaddr_storage peer;
	socklen_t peer_len;
};

/* Something the event loop waits on for the transport: a socket of the
 * loop's poller (a ZeroMQ socket), or, if `socket` is NULL, a descriptor
 * (-1: nothing, a disabled link). */
struct transport_wait {
	void *socket;
	int fd;
};

/* The operations of an implementation; see the transport_* functions
 * below for each one's contract. */
struct transport_ops {
	void (*free)(struct transport *t);
	size_t (*links)(struct transport *t);
	const char *(*link_agency)(struct transport *t, size_t i);
	int (*link_open)(struct transport *t, size_t i);
	int (*link_up)(struct transport *t, size_t i);
	int (*link_send)(struct transport *t, size_t i, const uint8_t *data,
			 size_t len);
	int (*link_recv)(struct transport *t, size_t i,
			 struct transport_frame *out);
	enum link_event (*link_event)(struct transport *t, size_t i);
	int (*link_reset)(struct transport *t, size_t i);
	int (*recv)(struct transport *t, struct transport_route *route,
		    struct transport_frame *frame, char agency[PPX_NAME_MAX]);
	void (*reply)(struct transport *t, const struct transport_route *route,
		      const uint8_t *data, size_t len);
	void (*frame_done)(struct transport *t, struct transport_frame *f);
	int (*cut_sessions)(struct transport *t);
	int (*conn_name)(struct transport *t, const struct transport_frame *f,
			 struct transport_conn *out);
	int (*conn_cut)(struct transport *t, const struct transport_route *r,
			const struct transport_conn *c, const char *agency);
	int (*conn_judged)(struct transport *t,
			   const struct transport_route *r);
	void (*conn_forget)(struct transport *t, const char *agency);
	void (*tick)(struct transport *t);
	int (*listening)(struct transport *t, const char **error);
	size_t (*waits)(struct transport *t, struct transport_wait *out,
			size_t max);
	size_t (*waits_max)(struct transport *t);
	int (*link_add)(struct transport *t, const char *agency,
			const char *endpoint);
	void (*link_drop)(struct transport *t);
	int (*link_set)(struct transport *t, size_t i, const char *endpoint,
			int enabled);
	int (*cut_agency)(struct transport *t, const char *agency);
	const char *(*link_endpoint)(struct transport *t, size_t i);
	int (*link_key)(struct transport *t, size_t i, uint8_t key[32]);
};

/* The common head of every implementation's state. */
struct transport {
	const struct transport_ops *ops;
};

/* The CurveZMQ transport of the daemon (transport_zmq.c). */
int transport_new(struct transport **out, struct ppxd *d,
		  const uint8_t secret[32], const uint8_t public_key[32]);
void transport_free(struct transport **self);

size_t transport_links(struct transport *self);
const char *transport_link_agency(struct transport *self, size_t i);
/* 1 if link i is enabled (its partner's certificate was usable when it
 * was last reset), else 0: a disabled link sends nothing. */
int transport_link_open(struct transport *self, size_t i);
int transport_link_up(struct transport *self, size_t i);
/* The link of `agency`, or PPX_ENOTFOUND if it is no partner's. */
int transport_link_find(struct transport *self, const char *agency);

/*
 * Receive one inbound frame without blocking: the route (for the
 * reply), the frame, and the agency the transport authenticated.
 * 0, PPX_EAGAIN when nothing is waiting, or PPX_ENOMEM (what waits is
 * read once there is memory).  Malformed messages are dropped and
 * logged.  A frame received is given back with transport_frame_done().
 */
int transport_recv(struct transport *self, struct transport_route *route,
		   struct transport_frame *frame, char agency[PPX_NAME_MAX]);

/* Send a frame back to the peer behind `route` (dropped if gone). */
void transport_reply(struct transport *self,
		     const struct transport_route *route, const uint8_t *data,
		     size_t len);

/* Receive one frame on link i without blocking: 0, PPX_EAGAIN when
 * nothing is waiting (or the link has no socket), or PPX_ENOMEM. */
int transport_link_recv(struct transport *self, size_t i,
			struct transport_frame *out);

/* Done with a frame received (accepts one already done). */
void transport_frame_done(struct transport *self, struct transport_frame *f);

/* Send on link i without blocking: 0, or PPX_EFULL if it cannot take it
 * now (not connected, or its queue is full). */
int transport_link_send(struct transport *self, size_t i, const uint8_t *data,
			size_t len);

/* The next connection event of link i: LINK_UP, LINK_DOWN, LINK_REFUSED
 * or LINK_NONE. */
enum link_event transport_link_event(struct transport *self, size_t i);

/* Recreate link i (drops what is queued); retries the partner's
 * certificate, so a revoked partner stays disconnected. */
int transport_link_reset(struct transport *self, size_t i);

/* Drop every accepted connection (after a CRL reload): partners
 * reconnect and are judged again.  The listening port is kept
 * throughout. */
int transport_cut_sessions(struct transport *self);

/* Name the connection of a frame just received inbound: 0, or
 * PPX_ENOTFOUND (out->fd -1) if it cannot be named for sure. */
int transport_conn_name(struct transport *self,
			const struct transport_frame *frame,
			struct transport_conn *out);

/*
 * Cut that one connection (of the blocked `agency`, the one behind
 * `route`): shut down if it is still the connection named, which ends
 * its session and no other.  0 if cut; PPX_ENOTFOUND if gone already,
 * not named, or judged before (a route is judged once, so frames still
 * queued from a connection cut or gone cut nothing else).  Call it in
 * the iteration that read the frame.
 */
int transport_conn_cut(struct transport *self,
		       const struct transport_route *route,
		       const struct transport_conn *c, const char *agency);

/* 1 if the connection behind `route` was judged for a cut already. */
int transport_conn_judged(struct transport *self,
			  const struct transport_route *route);

/* A new block episode of `agency`: its routes may be judged again (a
 * partner choosing its own routing id could reuse one). */
void transport_conn_forget(struct transport *self, const char *agency);

/* Once a second while the listening port is not ours: try for it. */
void transport_tick(struct transport *self);

/* 1 if the listening port is ours; else 0 and *error says why not. */
int transport_listening(struct transport *self, const char **error);

/* What the event loop waits on for the transport, at most `max` (and
 * at most transport_waits_max()); returns how many were filled. */
size_t transport_waits(struct transport *self, struct transport_wait *out,
		       size_t max);
size_t transport_waits_max(struct transport *self);

/*
 * A link to a partner the directory brought (partners.c): to `agency` at
 * `endpoint`, opened at once.  Its index (the next one: indexes of
 * links, cfg->partners and outbox lanes stay aligned), or PPX_ENOMEM.
 * transport_waits_max() grows by its waits.
 */
int transport_link_add(struct transport *self, const char *agency,
		       const char *endpoint);

/* Close and forget the last link, the one transport_link_add() just
 * added: a partner whose other structures could not be made. */
void transport_link_drop(struct transport *self);

/*
 * Where link i connects, and whether it may open at all (0: a partner
 * the directory cut off; the link stays closed through resets, sends
 * nothing, and its queue is the outbox's to keep).  Takes effect at the
 * next transport_link_reset().
 */
int transport_link_set(struct transport *self, size_t i, const char *endpoint,
		       int enabled);

/* The endpoint link i connects to. */
const char *transport_link_endpoint(struct transport *self, size_t i);

/* The server key link i was last opened with: 0, or PPX_ENOTFOUND (not
 * open). */
int transport_link_key(struct transport *self, size_t i, uint8_t key[32]);

/*
 * End every accepted session whose peer authenticated as `agency` (cut
 * off, or a certificate of it de-listed): 0, or a code.  None of them
 * may survive.  The ZeroMQ transport shuts down the connections it knows
 * as that agency's by their frames, and then every other session too,
 * as transport_cut_sessions(): a session that sent nothing since the
 * directory came cannot be told apart, and the other partners reconnect.
 */
int transport_cut_agency(struct transport *self, const char *agency);

/* Two routes are the same reply handle. */
int transport_route_eq(const struct transport_route *a,
		       const struct transport_route *b);

#endif
