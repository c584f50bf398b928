/*
 * transport_mem.h — an in-memory transport for unit tests (transport.h):
 * the outbox, the receive pipeline and the writer run on it unchanged,
 * and the test plays the partners.
 *
 * Each link has a queue of frames we sent (what the partner has got, in
 * order; a reset drops what it still holds, as the DEALER does), a queue
 * of frames arriving on it (the partner's receipts) and a queue of
 * connection events.  Inbound frames wait in one queue, each with the
 * agency it was authenticated as and its route; replies are kept in the
 * order sent.  Nothing happens by itself: links go up and down, and
 * queues fill, only when the test says so.
 */
#ifndef PPX_TEST_TRANSPORT_MEM_H
#define PPX_TEST_TRANSPORT_MEM_H

#include <stddef.h>
#include <stdint.h>

#include "../../daemon/transport.h"

/* A transport with one link per agency of `agencies`, all down. */
int transport_mem_new(struct transport **out, const char *const *agencies,
		      size_t n);

/* Take link i up or down (a LINK_UP or LINK_DOWN event), or have the
 * partner refuse our handshake (LINK_REFUSED, down). */
void transport_mem_link_up(struct transport *t, size_t i, int up);
void transport_mem_link_refuse(struct transport *t, size_t i);

/* Link i takes at most `cap` frames not yet taken (SIZE_MAX: no limit):
 * beyond, a send gets PPX_EFULL. */
void transport_mem_link_capacity(struct transport *t, size_t i, size_t cap);

/* Link i's partner takes the oldest frame we sent: 0 and a copy the
 * caller frees, or -1 if there is none.  And how many wait. */
int transport_mem_link_take(struct transport *t, size_t i, uint8_t **data,
			    size_t *len);
size_t transport_mem_link_queued(struct transport *t, size_t i);

/* How often link i was reset. */
size_t transport_mem_link_resets(struct transport *t, size_t i);

/* How often the sessions of link i's agency were cut
 * (transport_cut_agency). */
size_t transport_mem_link_cuts(struct transport *t, size_t i);

/* While `fail` is set, transport_link_add() fails with PPX_ENOMEM. */
void transport_mem_fail_link_add(struct transport *t, int fail);

/* A frame arriving on link i (the partner's receipt), copied. */
void transport_mem_link_push(struct transport *t, size_t i,
			     const uint8_t *data, size_t len);

/* A frame arriving inbound from a session authenticated as `agency`,
 * with route `route` (a string, its bytes the reply handle), copied. */
void transport_mem_inbound_push(struct transport *t, const char *agency,
				const char *route, const uint8_t *data,
				size_t len);

/* The oldest reply sent and not yet taken: 0, its route and a copy the
 * caller frees; -1 if there is none.  And how many wait. */
int transport_mem_reply_take(struct transport *t,
			     struct transport_route *route, uint8_t **data,
			     size_t *len);
size_t transport_mem_replies(struct transport *t);

#endif
