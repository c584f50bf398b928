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

/*
 * Complete a body as sent by operator `op` (sender agency and person, id
 * unless given, time, area), check it and its recipients against the
 * policy, seal it and append it as SENT with its outbox records to this
 * iteration's batch.  Fills the message id and log position; submitting a
 * message id already sent is not an error (the original's seq is given).
 * The caller acts on the outcome after the commit (writer_after).  Used by
 * the control socket and by every other local way in (the spool).
 */
struct ppx_operator;
int control_submit_body(struct ppxd *d, const struct ppx_operator *op,
			const Ppx__V1__Body *in, uint8_t id_out[16],
			uint64_t *seq_out);

/* Answer up to `max` waiting requests (submits are answered after the
 * commit). */
size_t control_drain(struct ppxd *d, size_t max);

#endif
