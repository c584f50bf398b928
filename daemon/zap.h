/*
 * zap.h — the ZeroMQ authentication handler (ZAP, RFC 27) of ppxd.
 *
 * One handler serves the two places where a peer connects:
 *   domain "ppx"      CURVE connections from partner daemons: the client's
 *                     CURVE key must be the X25519 key of a known transport
 *                     certificate that passes the trust check now, and the
 *                     agency it names must be a configured partner.  The
 *                     agency becomes the connection's User-Id.
 *   domain "control"  the local IPC control socket: the caller's Unix uid
 *                     (from the kernel, via the peer address libzmq reports)
 *                     must be a configured operator.  The operator id
 *                     becomes the User-Id.
 */
#ifndef PPXD_ZAP_H
#define PPXD_ZAP_H

#define ZAP_DOMAIN_PARTNER "ppx"
#define ZAP_DOMAIN_CONTROL "control"

struct ppxd;
struct zap;

int zap_new(struct zap **out, struct ppxd *d);
void zap_free(struct zap **self);
void *zap_socket(struct zap *self);

/* The uid and gid of an IPC peer from the address libzmq reports for it,
 * "host:uid:gid:pid" (SO_PEERCRED): 0, or PPX_ENOTFOUND if it holds
 * none (a TCP peer's address). */
int zap_peer_cred(const char *address, long *uid, long *gid);

/* Answer every pending request without blocking. */
void zap_handle(struct zap *self);

#endif
