/*
 * ppxd.h — the event loop (ppxd.c), for main.c: the only file that
 * includes it.  The modules share the daemon's state through state.h.
 */
#ifndef PPXD_H
#define PPXD_H

#include "state.h"

/* Run the event loop until SIGTERM or SIGINT. */
int ppxd_run(struct ppxd *d);

#endif
