/*
 * notify.c — the daemon under systemd (Type=notify, WatchdogSec=).
 *
 * READY=1 is sent only once start() has returned: the log opened and
 * checked, the files in force logged, every socket bound.  A unit that
 * depends on ppxd@AGENCY therefore starts against a daemon that has
 * checked its log, and a damaged log never looks ready (start fails,
 * STATUS= says why, the process exits 1).
 *
 * The watchdog is pinged from the event loop itself (ppxd.c calls
 * notify_tick() once per iteration, and notify_timeout() bounds the poll
 * so the loop wakes in time): a loop stuck in a blocked write or a
 * deadlock stops pinging, and systemd restarts the daemon.  The interval
 * comes from sd_watchdog_enabled(), which checks WATCHDOG_PID too.
 *
 * Reload (SIGHUP) is announced with RELOADING=1 and MONOTONIC_USEC=, as
 * Type=notify-reload (systemd 253) wants, and closed with READY=1.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <systemd/sd-daemon.h>

#include "notify.h"
#include "outbox.h"
#include "state.h"
#include "transport.h"

#define STATUS_EVERY_US (5 * 1000000ULL)	/* STATUS= at most this often */

static struct {
	uint64_t watchdog_us;	/* 0: no watchdog */
	uint64_t pinged_us;	/* last WATCHDOG=1 */
	uint64_t status_us;	/* last STATUS= */
	char status[256];	/* as last sent */
} notify;

static uint64_t monotonic_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000ULL + (uint64_t)ts.tv_nsec / 1000;
}

void notify_init(void)
{
	uint64_t usec = 0;

	if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0)
		notify.watchdog_us = usec;
	notify.pinged_us = monotonic_us();
}

/* "3 partners, 2 links up, outbox 5": what an operator looks for first
 * in `systemctl status`. */
static void status_line(struct ppxd *d, char *out, size_t cap)
{
	size_t n = d->transport ? transport_links(d->transport) : 0, up = 0;
	uint64_t depth = 0;

	for (size_t i = 0; i < n; i++) {
		struct outbox_stats st;

		outbox_stats(d, i, &st);
		depth += st.depth;
		up += transport_link_up(d->transport, i) ? 1 : 0;
	}
	snprintf(out, cap, "%s: %zu partners, %zu links up, outbox %llu, "
		 "log %llu entries", d->cfg->agency, n, up,
		 (unsigned long long)depth,
		 (unsigned long long)ppx_log_size(d->log));
}

void notify_ready(struct ppxd *d)
{
	status_line(d, notify.status, sizeof(notify.status));
	notify.status_us = monotonic_us();
	sd_notifyf(0, "READY=1\nSTATUS=%s", notify.status);
}

void notify_reloading(void)
{
	sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu\nSTATUS=reloading",
		   (unsigned long long)monotonic_us());
}

void notify_stopping(void)
{
	sd_notify(0, "STOPPING=1\nSTATUS=stopping");
}

void notify_failed(const char *why, int err)
{
	if (err > 0)
		sd_notifyf(0, "STATUS=not started: %s\nERRNO=%d", why, err);
	else
		sd_notifyf(0, "STATUS=not started: %s", why);
}

void notify_tick(struct ppxd *d)
{
	uint64_t now = monotonic_us();
	char line[sizeof(notify.status)];

	if (notify.watchdog_us &&
	    now - notify.pinged_us >= notify.watchdog_us / 2) {
		sd_notify(0, "WATCHDOG=1");
		notify.pinged_us = now;
	}
	if (now - notify.status_us < STATUS_EVERY_US)
		return;
	notify.status_us = now;
	status_line(d, line, sizeof(line));
	if (strcmp(line, notify.status) == 0)
		return;
	memcpy(notify.status, line, sizeof(line));
	sd_notifyf(0, "STATUS=%s", notify.status);
}

long notify_timeout(long timeout)
{
	uint64_t now, due;
	long left;

	if (!notify.watchdog_us)
		return timeout;
	now = monotonic_us();
	due = notify.pinged_us + notify.watchdog_us / 2;
	left = due > now ? (long)((due - now + 999) / 1000) : 0;
	return timeout < 0 || timeout > left ? left : timeout;
}
