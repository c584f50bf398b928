/*
 * ppx/control.h — the control protocol between ppx and ppxd, in one place
 * for the daemon (daemon/control.c), the client (client/ctl.c) and the
 * fuzzer of the control socket.
 *
 * One ZeroMQ IPC socket, PPX_CONTROL_SOCKET in the configured control
 * directory: the client (DEALER) sends one frame, a ppx.v1.ControlRequest
 * (proto/ppx.proto), and receives one ppx.v1.ControlReply.  Both carry
 * PPX_CONTROL_VERSION; a daemon refuses a request of another version with
 * PPX_EVERSION.  A reply's code is 0 or a negative PPX_E* code, with its
 * error text.
 */
#ifndef PPX_CONTROL_H
#define PPX_CONTROL_H

#include "ppx.pb-c.h"

/* The version of ControlRequest / ControlReply both sides speak. */
#define PPX_CONTROL_VERSION 1

/* The socket file in the control directory. */
#define PPX_CONTROL_SOCKET "control.sock"

/* The largest request the daemon reads (ZMQ_MAXMSGSIZE): a submit of the
 * largest body with room to spare. */
#define PPX_CONTROL_REQUEST_MAX (2 * 1024 * 1024)

/* The largest reply the client reads: a status of many partners and
 * hooks, or a submit's deliveries, is far smaller. */
#define PPX_CONTROL_REPLY_MAX (16 * 1024 * 1024)

typedef Ppx__V1__ControlRequest ppx_control_request;
typedef Ppx__V1__ControlReply ppx_control_reply;

#endif
