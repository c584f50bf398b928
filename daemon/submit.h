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

/* Submissions queued at once: sealed together, one signature round trip
 * to the signer process for the lot. */
#define SUBMIT_QUEUE_MAX 32

/* How a queued submission went: its id and log position, and its
 * recipients (valid during the call only). */
struct submit_result {
	const uint8_t *id;
	uint64_t seq;
	char *const *recipients;
	size_t n_recipients;
};

/* Called once per queued submission: rc 0 (r says where it is logged) or
 * the failure, with its error set. */
typedef void submit_done_fn(struct ppxd *d, void *arg, int rc,
			    const struct submit_result *r);

/*
 * submit_body() for a burst: `in` is completed and checked now (a refusal
 * is returned now, and done is not called), and sealed and logged with
 * the others at submit_flush(), which then calls done.  A body whose
 * checks read the log (a partner record, minutes, an acknowledgement, an
 * action update, or an id already queued) first flushes the queue, so
 * that every check sees what was submitted before it.  A resubmission of
 * a message already logged calls done at once.
 */
int submit_queue(struct ppxd *d, const struct ppx_operator *op,
		 const Ppx__V1__Body *in, submit_done_fn *done, void *arg);

/*
 * A prepare for a personal signature (docs/PROTOCOL.md 3.2): complete and
 * check `in` as submit_queue() would, with sender_person's
 * certificate_fingerprint the operator's person_cert (PPX_EBADPERSON if
 * the operator has none, or `cert`, the DER the caller means to sign
 * with, is not it), and give its exact bytes in *out (*len; caller frees).
 * Nothing is signed or logged.
 */
int submit_prepare(struct ppxd *d, const struct ppx_operator *op,
		   const Ppx__V1__Body *in, const uint8_t *cert,
		   size_t cert_len, uint8_t **out, size_t *len);

/*
 * submit_queue() for bytes a prepare answered, with the person's
 * signature `ps` over them: they must be exactly a body this daemon would
 * prepare for `op` (PPX_EBODY otherwise) and pass every check of a
 * submit, and `ps` must verify (ppx_person_verify: PPX_EBADPERSON).  The
 * bytes are sealed unchanged and the frame carries `ps`.  A resubmission
 * of a message already logged calls done at once (its recipients empty).
 */
int submit_queue_signed(struct ppxd *d, const struct ppx_operator *op,
			const ProtobufCBinaryData *bytes,
			const Ppx__V1__PersonSignature *ps,
			submit_done_fn *done, void *arg);

/* Seal and log what submit_queue() holds, and call each one's done.
 * Called before anything that changes what the queued messages were
 * checked against (a reload, a new CRL or directory) and at a stop. */
void submit_flush(struct ppxd *d);

/*
 * The end of a control drain: the queue is sealed and logged now
 * (submit_flush) unless it may wait for more to go under the same batch
 * signature: `[delivery] batch_sign_wait_ms` is above 0, every queued
 * message may be batch-signed (every recipient accepts batches), and the
 * oldest was queued less than that long before `now_ms`.
 */
void submit_flush_due(struct ppxd *d, int64_t now_ms);

/* The loop's poll `timeout` (ms, -1 for none) bounded by when
 * submit_flush_due() must seal what waits: 0 if that is now or the clock
 * went back; `timeout` unchanged if nothing waits. */
long submit_timeout(struct ppxd *d, int64_t now_ms, long timeout);

#endif
