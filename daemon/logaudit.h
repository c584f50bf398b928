/*
 * logaudit.h — the log's checks: the start-up check from the check seal,
 * then the full check in the background (logaudit.c).
 */
#ifndef PPXD_LOGAUDIT_H
#define PPXD_LOGAUDIT_H

#include "ppx.pb-c.h"
#include "state.h"

/* The start-up check: from the seal (or whole, with log_check_full), in
 * a child process; a damaged log is an error naming the first entry that
 * differs.  Then, unless it was the full one, the full check is started
 * in the background.  Before any thread or ZeroMQ context exists. */
int logaudit_start(struct ppxd *d);

/* Collects the background check's verdict once it is there: logged, and
 * a failure alarmed (at LOG_CRIT, in ppx status and the metrics).  Never
 * blocks. */
void logaudit_tick(struct ppxd *d);

/* What ppx status shows. */
void logaudit_status(struct ppxd *d, Ppx__V1__StatusReply *sr);

/* Kills a check still running. */
void logaudit_free(struct ppxd *d);

#endif
