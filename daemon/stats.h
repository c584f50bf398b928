/*
 * stats.h — counters since start that the status needs and no other module
 * keeps: per partner, the messages from it we stored and its frames we
 * refused, by reason; and the figures read when the status is built (the
 * oldest message waiting for each partner, the log's size on disk, the
 * free space of its filesystem).  `ppx metrics` renders them.
 *
 * The per-partner table is created on the first count and holds at most
 * STATS_PARTNERS_MAX names: a frame is counted only once the transport
 * has named its partner, so the names are the configured and listed ones,
 * never a remote's free text.
 */
#ifndef PPXD_STATS_H
#define PPXD_STATS_H

#include <stddef.h>

#include "ppx.pb-c.h"

#define STATS_PARTNERS_MAX 1024

struct ppxd;
struct stats;

void stats_free(struct stats **self);

/* `n` messages from `partner` were stored (their commit succeeded). */
void stats_received(struct ppxd *d, const char *partner, size_t n);

/* A frame of `partner` was refused with ppx_error code `code`. */
void stats_refused(struct ppxd *d, const char *partner, int code);

/* Fill the status fields kept here: each partner's received,
 * refusals_by_reason and oldest_waiting_ms (sr->partners[i] is link i),
 * and the log's log_bytes, disk_free_bytes and log_max_bytes.  What
 * cannot be read is left 0 and logged.  refusals_by_reason points into
 * the table: valid until the next count, so the reply is sent before the
 * loop goes on (control_request.c does). */
void stats_status(struct ppxd *d, Ppx__V1__StatusReply *sr);

#endif
