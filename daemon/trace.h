/*
 * trace.h — an optional per-iteration trace of the event loop, for
 * finding where latency goes (docs/PERFORMANCE.md "Latency").
 *
 * Off unless the environment names a file in PPXD_TRACE when ppxd starts.
 * Then every iteration that did something appends one line to it: when
 * it woke (monotonic µs), how long it waited in poll, how long each stage
 * took and how much each stage handled.  Nothing of it reaches the log.
 */
#ifndef PPXD_TRACE_H
#define PPXD_TRACE_H

#include <stddef.h>

enum trace_stage {
	TRACE_POLL,		/* waiting in zmq_poll */
	TRACE_INBOUND,		/* partners' frames: checks, RECEIVED */
	TRACE_RECEIPTS,		/* receipts from partners: RECEIPT_RECEIVED */
	TRACE_CONTROL,		/* control requests: submits sealed, SENT */
	TRACE_OTHER,		/* reads, spool, hooks */
	TRACE_COMMIT,		/* the group commit and its fsync */
	TRACE_AFTER,		/* after the commit: receipts out, replies */
	TRACE_PUMP,		/* the outbox: messages sent on the links */
	TRACE_STAGES
};

/* Reads PPXD_TRACE; a file that cannot be opened is said and ignored. */
void trace_open(void);
void trace_close(void);
int trace_on(void);

/* The stage that ends now (its time is from the previous mark). */
void trace_mark(enum trace_stage s);
/* How many items stage s handled in this iteration. */
void trace_count(enum trace_stage s, size_t n);
/* The iteration ends: its line is written if it handled anything. */
void trace_iteration(void);

#endif
