/*
 * log.c — diagnostic logging for ppxd, after OpenBSD's log.c.
 *
 * In the foreground, lines go to stderr prefixed with the time and level;
 * otherwise to syslog (LOG_DAEMON).  Messages are single lines: callers
 * pass sentences that say what failed, on what, and what to do.  Those
 * sentences quote names and details from partners, so each line is made
 * text before it is written (ppx_text_escape: invalid UTF-8 and control
 * characters as \xNN): a partner can neither break the log's encoding nor
 * forge a line of it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "log.h"
#include "ppx/text.h"

static int log_foreground = 1;
static int log_verbose;
static const char *log_ident = "ppxd";

void log_init(const char *ident, int foreground, int verbose)
{
	log_ident = ident;
	log_foreground = foreground;
	log_verbose = verbose;
	if (!foreground)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

static void vlog(int pri, const char *fmt, va_list ap, const char *suffix)
{
	char raw[1024], msg[1024];

	vsnprintf(raw, sizeof(raw), fmt, ap);
	ppx_text_escape(msg, sizeof(msg), raw, strlen(raw));
	if (log_foreground) {
		char when[32];
		struct timespec ts;
		struct tm tm;

		clock_gettime(CLOCK_REALTIME, &ts);
		gmtime_r(&ts.tv_sec, &tm);
		strftime(when, sizeof(when), "%H:%M:%S", &tm);
		fprintf(stderr, "%s.%03ld %s %s%s%s\n", when,
			ts.tv_nsec / 1000000, log_ident, msg,
			suffix ? ": " : "", suffix ? suffix : "");
	} else {
		syslog(pri, "%s%s%s", msg, suffix ? ": " : "",
		       suffix ? suffix : "");
	}
}

void log_warn(const char *fmt, ...)
{
	char err[128];
	va_list ap;

	snprintf(err, sizeof(err), "%s", strerror(errno));
	va_start(ap, fmt);
	vlog(LOG_WARNING, fmt, ap, err);
	va_end(ap);
}

void log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_WARNING, fmt, ap, NULL);
	va_end(ap);
}

void log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_INFO, fmt, ap, NULL);
	va_end(ap);
}

void log_debug(const char *fmt, ...)
{
	va_list ap;

	if (!log_verbose)
		return;
	va_start(ap, fmt);
	vlog(LOG_DEBUG, fmt, ap, NULL);
	va_end(ap);
}

void fatal(const char *fmt, ...)
{
	char err[128];
	va_list ap;

	snprintf(err, sizeof(err), "%s", strerror(errno));
	va_start(ap, fmt);
	vlog(LOG_CRIT, fmt, ap, err);
	va_end(ap);
	exit(1);
}

void fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_CRIT, fmt, ap, NULL);
	va_end(ap);
	exit(1);
}
