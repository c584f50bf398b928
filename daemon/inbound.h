/*
 * inbound.h — the receive pipeline: frames from partners, checked, logged,
 * and answered with signed receipts after the commit.
 */
#ifndef PPXD_INBOUND_H
#define PPXD_INBOUND_H

#include <stddef.h>
#include <stdint.h>

struct ppxd;

/* Take up to `max` frames waiting on the ROUTER through the pipeline. */
size_t inbound_drain(struct ppxd *d, size_t max);

/* After the iteration's commit: cut the connections of blocked partners
 * that frames were read from, once due (their last receipts had
 * CUT_DELAY_MS to go out), and only those: every other partner's
 * session is left alone. */
void inbound_cut(struct ppxd *d);

/* `max`, or less if a cut falls due sooner (ms; -1: none). */
long inbound_timeout(long max);

/* A refused frame or document from `agency` ("" for a local file)
 * logged as ENTRY_REJECTED: size, hash, reason, detail and at most a
 * 1 KiB prefix, within the partner's quota (federation_io.c). */
void inbound_log_refused(struct ppxd *d, const char *agency,
			 const uint8_t *data, size_t len, int code,
			 const char *detail);

/* A receipt frame refused on our link to `agency` (outbox.c): logged as
 * inbound_log_refused does, and said on a rate-limited line. */
void inbound_log_refused_receipt(struct ppxd *d, const char *agency,
				 const uint8_t *data, size_t len, int code,
				 const char *detail);

/* The partner spent its refusal budget (budget_refusal() said so): one
 * ENTRY_PARTNER_BLOCKED for the episode, its handshakes refused.  Also
 * for documents refused by federation_io.c. */
void inbound_block_partner(struct ppxd *d, const char *agency, int64_t until,
			   uint32_t episode);

#endif
