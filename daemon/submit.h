/*
 * submit.h — a message sent from this agency, from whichever local way in
 * (the control socket, the spool): completed, checked, sealed and logged
 * as SENT.
 */
#ifndef PPXD_SUBMIT_H
#define PPXD_SUBMIT_H

#include <stdint.h>

#include "ppx.pb-c.h"

struct ppxd;
struct ppx_operator;

/*
 * Complete a body as sent by operator `op` (sender agency and person, id
 * unless given, time, area), check it and its recipients against the
 * policy, seal it and append it as SENT with its outbox records to this
 * iteration's batch.  Fills the message id and log position; submitting a
 * message id already sent with the same body is not an error (the
 * original's seq is given), another body under it is PPX_EREUSED.  The
 * caller acts on the outcome after the commit (writer_after).
 */
int submit_body(struct ppxd *d, const struct ppx_operator *op,
		const Ppx__V1__Body *in, uint8_t id_out[16], uint64_t *seq_out);

#endif
