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

/* Family name of a Body payload case ("notification", ...). */
const char *inbound_family_name(int payload_case);

#endif
