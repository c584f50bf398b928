/*
 * expiry.h — expiry never a surprise: the certificates the daemon relies
 * on, and the CRL's nextUpdate, watched (expiry.c).
 */
#ifndef PPXD_EXPIRY_H
#define PPXD_EXPIRY_H

#include <stdint.h>

#include "ppx.pb-c.h"

struct ppxd;
struct expiry;

#define EXPIRY_DAY_MS (24LL * 3600 * 1000)

/* The warning level a certificate ending at `not_after_ms` has reached at
 * `now_ms`: 90, 30 or 7 (within that many days), -1 (expired), 0 (none;
 * also for an unknown date, 0). */
int expiry_level(int64_t not_after_ms, int64_t now_ms);

/* The CRL's level at `now_ms`, for nextUpdate `next_ms`: 3 or 1 (within
 * that many days), -1 (passed), 0 (none, or no CRL: next_ms 0). */
int expiry_crl_level(int64_t next_ms, int64_t now_ms);

int expiry_new(struct expiry **out);
void expiry_free(struct expiry **self);

/* Check every certificate and the CRL now: a warning logged for each
 * that reached a level not yet warned of in this run; the warnings in
 * force kept for the status. */
void expiry_check(struct ppxd *d);

/* From the loop: expiry_check() when an hour has passed (the loop's
 * clock, ppxd_now_ms()) or the trust store, CRL or directory changed. */
void expiry_tick(struct ppxd *d);

/* The status reply's certificates (own signing and transport, CA,
 * directory signer), crl_next_update_ms, warnings, and warn_days on
 * every CertStatus it carries (the partners' too), after expiry_tick().
 * What it points to lives until the next call. */
void expiry_status(struct ppxd *d, Ppx__V1__StatusReply *sr);

#endif
