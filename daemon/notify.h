/*
 * notify.h — telling systemd how the daemon stands (sd_notify): ready,
 * reloading, stopping, a status line, and the watchdog's pings.  Every
 * call is a no-op outside systemd (NOTIFY_SOCKET unset).
 */
#ifndef PPXD_NOTIFY_H
#define PPXD_NOTIFY_H

struct ppxd;

/* Read the watchdog's interval (WATCHDOG_USEC, for our pid) once. */
void notify_init(void);

/* READY=1 with a STATUS= line: start() succeeded (log checked, sockets
 * bound), or a reload is done. */
void notify_ready(struct ppxd *d);

/* RELOADING=1 with MONOTONIC_USEC=, before a reload. */
void notify_reloading(void);

/* STOPPING=1, at SIGTERM. */
void notify_stopping(void);

/* A start that failed: STATUS= the error, ERRNO= if one is known. */
void notify_failed(const char *why, int err);

/* Once per loop iteration: WATCHDOG=1 when half the interval has passed
 * since the last ping, and STATUS= at most every few seconds. */
void notify_tick(struct ppxd *d);

/* The poll timeout `timeout` (ms, -1: none), bounded so that the loop
 * wakes in time for the next watchdog ping. */
long notify_timeout(long timeout);

#endif
