/*
 * outbox.h — store and forward: every message we sent waits, per partner,
 * until that partner's signed receipt is verified and logged.
 *
 * The durable state is the log's outbox index (one key per partner and
 * message, added in the same commit as the SENT entry, removed in the same
 * commit as the RECEIPT_RECEIVED entry), so a restart resumes exactly where
 * the last commit left off.  In memory each link keeps its pending
 * messages in log order and sends up to `window` of them; when no receipt
 * comes for too long, or the connection drops, the link is recreated and
 * sending starts again from the oldest pending message, with the wait
 * doubling up to retry_max_ms.
 */
#ifndef PPXD_OUTBOX_H
#define PPXD_OUTBOX_H

#include <stddef.h>
#include <stdint.h>

#include "ppx.pb-c.h"
#include "transport.h"

struct ppxd;
struct outbox;

int outbox_new(struct outbox **out, struct ppxd *d);
void outbox_free(struct outbox **self);

/* The lane of link `link`, just added (transport_link_add, the next
 * index), with what the durable outbox holds for its partner (one the
 * directory brings back after a restart). */
int outbox_partner_added(struct ppxd *d, size_t link);

/* Forget the lane of link `link` again, if it is the last one: the
 * partner could not be added whole (partners.c undoes its addition). */
void outbox_partner_dropped(struct ppxd *d, size_t link);

/* Record in this iteration's batch that SENT entry `seq` waits for the
 * receipt of `partner`; after the commit it is queued for sending. */
int outbox_add(struct ppxd *d, const char *partner, uint64_t seq);

/* The lane of `partner` put back in log order and its link reset, as when
 * its endpoint moves: sending starts again from the oldest message without
 * a receipt (restore_partner.c, after messages were queued again). */
void outbox_lane_reorder(struct ppxd *d, const char *partner);

/* Read and process the receipts waiting on link i. */
void outbox_receipts(struct ppxd *d, size_t link, size_t max);

/* A connection event on link i. */
void outbox_link_event(struct ppxd *d, size_t link, enum link_event ev);

/* Send what each link's window allows and retry what timed out.  Returns
 * the milliseconds until it next needs to run (for the poll timeout). */
long outbox_pump(struct ppxd *d);

/* Whether `partner`'s last verified receipt said it accepts batch
 * signatures (PROTOCOL.md 3.4) and we use them ([delivery]
 * batch_signatures): 1 or 0.  Kept in memory only. */
int outbox_accepts_batch(struct ppxd *d, const char *partner);

/*
 * Seal n (at most OUTBOX_SEAL_MAX) serialised bodies as message frames:
 * bodies with the same non-zero group[i] under batch signatures of at
 * most batch_sign_max bodies each (never two groups in one batch), those
 * with group[i] == 0 one signature each.  The caller gives one group per
 * recipient set, so a batch tells a recipient nothing of messages to
 * anyone else (PROTOCOL.md 3.4).  frames[i] (frame_len[i] bytes) are the
 * caller's; on failure none is left.
 */
#define OUTBOX_SEAL_MAX 256
int outbox_seal(struct ppxd *d, uint8_t **frames, size_t *frame_len,
		uint8_t *const *bodies, const size_t *body_len,
		const int *group, size_t n);

/* Per-link figures for status. */
struct outbox_stats {
	uint64_t depth;
	uint64_t sent;
	uint64_t delivered;
	uint64_t refused;
	int64_t last_receipt_ms;
	int64_t next_retry_ms;
};
void outbox_stats(struct ppxd *d, size_t link, struct outbox_stats *out);

/* The log position of the oldest message waiting for link `link`'s
 * partner, unsent, unreceipted or parked: 0, or PPX_ENOTFOUND when none
 * waits. */
int outbox_oldest(struct ppxd *d, size_t link, uint64_t *out);

/* The delivery state of SENT message `id` for `partner`. */
int outbox_delivery(struct ppxd *d, const uint8_t *id, const char *partner,
		    Ppx__V1__Delivery *out);

#endif
