/*
 * witness.h — partners witness each other's logs (PROTOCOL.md 11).
 *
 * As a log, the daemon sends each connected partner a WitnessRequest: a
 * fresh signed checkpoint of its committed log, its signature over the
 * C2SP note text, consistency proofs from the sizes the partner last
 * cosigned or asked for, and gossip (the newest checkpoints of third
 * logs it cosigned).  The partner's WitnessReply comes back on the same
 * link; a cosignature is verified and logged as ENTRY_COSIGNED.
 *
 * As a witness, it answers a partner's WitnessRequest: COSIGNED when the
 * checkpoint extends the one it holds of that partner (or it holds none:
 * trust on first use), PROOF_NEEDED with the sizes to prove from, or
 * INCONSISTENT with the checkpoint it holds, raising an alarm entry.
 * Every answer is logged as ENTRY_WITNESSED and charged to the partner's
 * log quota.  Messages from a partner under alarm are still received and
 * stored: witnessing never blocks data.
 *
 * The modules call in through the hooks below; witness_new() rebuilds
 * what it holds from marks in the log (one mark per partner and kind),
 * not by scanning the log.
 */
#ifndef PPXD_WITNESS_H
#define PPXD_WITNESS_H

#include <stddef.h>
#include <stdint.h>

#include "ppx.pb-c.h"
#include "transport.h"

struct ppxd;
struct witness;

int witness_new(struct witness **out, struct ppxd *d);
void witness_free(struct witness **self);

/* Witnessing with the partner of link `link`, just added by the
 * directory (the next index), its state restored from the log. */
int witness_partner_added(struct ppxd *d, size_t link);

/*
 * inbound.c, for each frame a partner sends: 1 if it was a WitnessRequest
 * (or a cosignature sent the wrong way) and is taken care of here, 0 if
 * it is for the message pipeline.
 */
int witness_inbound(struct ppxd *d, const struct transport_route *route,
		    const char *agency, const uint8_t *data, size_t len);

/* outbox.c, for each frame on link i: 1 if it was a WitnessReply. */
int witness_link_frame(struct ppxd *d, size_t link, const uint8_t *data,
		       size_t len);

/*
 * outbox.c, for each receipt of `agency` accepted: its checkpoint (the
 * receiver's, PROTOCOL.md 5.3) is kept to be proven consistent with the
 * next checkpoint `agency` presents for cosigning, like gossip.
 */
void witness_receipt_seen(struct ppxd *d, const char *agency,
			  Ppx__V1__Envelope *checkpoint);

/*
 * A checkpoint `agency` signed, from its receipt or proof: with a
 * directory in force its signature must verify and its certificate be
 * one the directory lists for `agency` with a standing that may send
 * receipts (partners_cert_allowed, PARTNERS_USE_RECEIPT).  0, or the
 * code with the error set.  Without a directory, 0.
 */
int witness_checkpoint_allowed(struct ppxd *d, const char *agency,
			       const Ppx__V1__Envelope *checkpoint);

/* outbox.c: link i came up (a new session: ask again) or went down. */
void witness_link_event(struct ppxd *d, size_t link, int up);

/* The loop: send the requests that are due; ms until the next one is. */
long witness_pump(struct ppxd *d, long max);

/*
 * restore_partner.c, taking a partner's RestoreNotice (PROTOCOL.md 14):
 * the checkpoint held of its log (NULL: none; *len, *size, root filled).
 * Moving it to the notice's, `env`, logged at entry `seq`: in this
 * iteration's batch the held mark moves there (witness_restored_mark());
 * once that has committed, witness_restored() holds `env` in memory and
 * forgets what gossip showed of the log beyond `size`.
 * witness_restored_status() is what status shows.
 */
const uint8_t *witness_held(struct ppxd *d, const char *agency, size_t *len,
			    uint64_t *size, uint8_t root[32]);
int witness_restored_mark(struct ppxd *d, const char *agency, uint64_t seq);
void witness_restored(struct ppxd *d, const char *agency,
		      const Ppx__V1__Envelope *env, uint64_t size,
		      const uint8_t root[32], uint64_t seq);
void witness_restored_status(struct ppxd *d, const char *agency,
			     int64_t restored_ms, uint64_t size);

/*
 * restore_partner.c, judging a partner's RestoreNotice: 1 if an alarm
 * about `agency`'s log is outstanding; and a notice whose checkpoint
 * `env` is as large as the one held with another root `root`, alarmed as
 * a split view, with both checkpoints as evidence.
 */
int witness_alarmed(struct ppxd *d, const char *agency);
void witness_restore_fork(struct ppxd *d, const char *agency,
			  const Ppx__V1__Envelope *env, uint64_t size,
			  const uint8_t root[32]);

/* control_request.c: StatusReply.witnesses, valid until the next call. */
void witness_status(struct ppxd *d, Ppx__V1__StatusReply *sr);

#endif
