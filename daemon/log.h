/*
 * log.h — the daemon's diagnostic logging (not the tamper-evident log,
 * which is lib/logstore.c).
 *
 * stderr in the foreground, syslog otherwise.  log_warn() appends
 * strerror(errno); fatal()/fatalx() are for start-up failures and broken
 * invariants only: input from outside is never a reason to exit.
 */
#ifndef PPXD_LOG_H
#define PPXD_LOG_H

#include <stdarg.h>

void log_init(const char *ident, int foreground, int verbose);
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void fatal(const char *fmt, ...)
	__attribute__((format(printf, 1, 2), noreturn));
void fatalx(const char *fmt, ...)
	__attribute__((format(printf, 1, 2), noreturn));

#endif
