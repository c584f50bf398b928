/*
 * reload.h — what a reload puts in force, and how it is logged.
 *
 * A reload comes from SIGHUP, from `ppx reload` (ControlRequest.reload,
 * with the operator) or, for the CRL alone, from the loop noticing that
 * the CRL file was replaced.  It re-reads the CRL (in force at once: live
 * sessions are cut so partners are judged again), the configuration (its
 * [operator] and [accountability] sections in force at once; every other
 * key changed is logged and said to take effect at the next restart), the
 * policy (in force at once) and the certificates and CA (logged; in force
 * at restart).  A configuration or policy that does not load, or that the
 * two no longer agree, is refused, logged, and the one before stays in
 * force.  Each file that changed gets its change entry (changes.c).
 */
#ifndef PPXD_RELOAD_H
#define PPXD_RELOAD_H

#include "changes.h"

struct ppxd;

/* Note the CRL file as loaded: reload_crl_replaced() compares with it. */
void reload_crl_seen(struct ppxd *d);

/* Nonzero if the CRL file is no longer the one last loaded. */
int reload_crl_replaced(const struct ppxd *d);

/* The CRL alone (its file was replaced): `person` is "". */
void reload_crl(struct ppxd *d, struct changes_report *r);

/* Everything (SIGHUP: person ""; ppx reload: the operator).  r->code
 * and r->error say what was refused, if anything. */
void reload_all(struct ppxd *d, const char *person, struct changes_report *r);

#endif
