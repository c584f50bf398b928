/*
 * transport.h — CurveZMQ sockets between daemons.
 *
 * One ROUTER accepts partners (CURVE server, ZAP domain "ppx"); one DEALER
 * per partner sends to it (CURVE client pinned to the server key in the
 * partner's transport certificate).  Messages go out on our DEALER and
 * their receipts come back on it; partners' messages arrive on our ROUTER
 * and their receipts go back through it.
 *
 * A link's DEALER is recreated, dropping anything queued in it, whenever
 * the connection is lost: the outbox then resends from the oldest message
 * without a receipt, which keeps per-partner order.
 */
#ifndef PPXD_TRANSPORT_H
#define PPXD_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <zmq.h>

#include "ppx/pki.h"

struct ppxd;
struct transport;

enum link_event {
	LINK_NONE = 0,
	LINK_UP,
	LINK_DOWN,
	LINK_REFUSED,	/* the partner refused our handshake */
};

int transport_new(struct transport **out, struct ppxd *d,
		  const uint8_t secret[32], const uint8_t public_key[32]);
void transport_free(struct transport **self);

void *transport_router(struct transport *self);
size_t transport_links(struct transport *self);
const char *transport_link_agency(struct transport *self, size_t i);
void *transport_link_socket(struct transport *self, size_t i);	/* or NULL */
void *transport_link_monitor(struct transport *self, size_t i);	/* or NULL */
int transport_link_up(struct transport *self, size_t i);
/* The link of `agency`, or -1. */
int transport_link_find(struct transport *self, const char *agency);

/*
 * Receive one frame from the ROUTER without blocking: the routing id (for
 * the reply), the frame, and the agency the transport authenticated.
 * 0, or -1 when nothing is waiting.  Malformed multipart messages are
 * dropped and logged.
 */
int transport_recv(struct transport *self, zmq_msg_t *routing,
		   zmq_msg_t *frame, char agency[PPX_NAME_MAX]);

/* Send a frame back to the peer behind `routing` (dropped if gone). */
void transport_reply(struct transport *self, zmq_msg_t *routing,
		     const uint8_t *data, size_t len);

/* Receive one frame on link i without blocking: 0, or -1. */
int transport_link_recv(struct transport *self, size_t i, zmq_msg_t *frame);

/* Send on link i without blocking: 0, or PPX_EFULL if it cannot take it
 * now (not connected, or its queue is full). */
int transport_link_send(struct transport *self, size_t i, const uint8_t *data,
			size_t len);

/* Read the link's monitor: LINK_UP, LINK_DOWN or LINK_NONE. */
enum link_event transport_link_event(struct transport *self, size_t i);

/* Recreate link i's socket (drops what is queued); retries the partner's
 * certificate, so a revoked partner stays disconnected. */
int transport_link_reset(struct transport *self, size_t i);

/* Drop every accepted connection (after a CRL reload): partners
 * reconnect and are judged again by ZAP.  The listening port is kept
 * throughout: a new ROUTER takes over the same listening socket before
 * the old one is closed. */
int transport_cut_sessions(struct transport *self);

#define TRANSPORT_ROUTING_MAX 256	/* a ROUTER's routing ids, bytes */

/* The accepted connection a frame came on, as it was when the frame was
 * read: its descriptor (-1: not known) and its peer's address and port. */
struct transport_conn {
	int fd;
	struct sockaddr_storage peer;
	socklen_t peer_len;
};

/* Name the connection of a frame just read from the ROUTER: 0, or
 * PPX_ENOTFOUND (out->fd -1) if it cannot be named for sure. */
int transport_conn_name(struct transport *self, zmq_msg_t *frame,
			struct transport_conn *out);

/*
 * Cut that one connection (of the blocked `agency`, the one behind
 * `routing`): shut down if it is still the connection named, which ends
 * its session and no other.  0 if cut; PPX_ENOTFOUND if gone already,
 * not named, or judged before (a routing id is judged once, so frames
 * still queued from a connection cut or gone cut nothing else).  Call it
 * in the iteration that read the frame.
 */
int transport_conn_cut(struct transport *self, zmq_msg_t *routing,
		       const struct transport_conn *c, const char *agency);

/* 1 if the connection behind `routing` was judged for a cut already. */
int transport_conn_judged(struct transport *self, zmq_msg_t *routing);

/* A new block episode of `agency`: its routing ids may be judged again
 * (a partner choosing its own routing id could reuse one). */
void transport_conn_forget(struct transport *self, const char *agency);

/* Once a second while the listening port is not ours: try for it. */
void transport_tick(struct transport *self);

/* 1 if the listening port is ours; else 0 and *error says why not. */
int transport_listening(struct transport *self, const char **error);

#endif
