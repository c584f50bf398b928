/*
 * control.h — the local control socket through which ppx submits messages
 * and reads status.
 *
 * ZeroMQ IPC in the configured directory (made 0700): only the daemon's
 * user and root can reach the socket file, and ZAP (domain "control") lets
 * in only Unix users configured as operators, each mapped to a named
 * person.  Requests and replies are ControlRequest / ControlReply (proto/).
 */
#ifndef PPXD_CONTROL_H
#define PPXD_CONTROL_H

#include <stddef.h>
#include <stdint.h>

#include "ppx.pb-c.h"

struct ppxd;
struct control;

int control_new(struct control **out, struct ppxd *d);
void control_free(struct control **self);
void *control_socket(struct control *self);

/* Answer up to `max` waiting requests (submits are answered after the
 * commit). */
size_t control_drain(struct ppxd *d, size_t max);

#endif
