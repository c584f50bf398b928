/*
 * log.h — the daemon's diagnostic logging (not the tamper-evident log,
 * which is lib/logstore.c).
 *
 * stderr in the foreground, syslog otherwise, the journal (with
 * structured fields) when systemd connects us to it.  log_warn() appends
 * strerror(errno); fatal()/fatalx() are for start-up failures and broken
 * invariants only: input from outside is never a reason to exit.
 */
#ifndef PPXD_LOG_H
#define PPXD_LOG_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <syslog.h>	/* LOG_WARNING, ... for log_event() */

void log_init(const char *ident, int foreground, int verbose);

/* Our own agency, for every journal record's PPX_AGENCY=. */
void log_set_agency(const char *agency);

/* 1 if records go to the journal (sd_journal_send). */
int log_to_journal(void);

/*
 * What a line is about, as journal fields an operator filters on
 * (journalctl PPX_PARTNER=prison.cardiff).  Each member is optional:
 * NULL (or has_seq 0) leaves the field out.  Values from partners are
 * escaped like the message: one line of text, no forged fields.
 */
struct log_fields {
	const char *partner;		/* PPX_PARTNER */
	const uint8_t *message_id;	/* PPX_MESSAGE_ID, 16 bytes, as hex */
	const char *reason;		/* PPX_REASON: a RejectReason name or
					 * a short word ("expiry", "hook") */
	uint64_t seq;			/* PPX_ENTRY_SEQ, when has_seq */
	int has_seq;
};

/* A line at syslog priority `pri` (LOG_WARNING, LOG_INFO, ...), with its
 * fields in the journal; on stderr and syslog it reads as log_warnx()'s
 * or log_info()'s would. */
void log_event(int pri, const struct log_fields *f, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void fatal(const char *fmt, ...)
	__attribute__((format(printf, 1, 2), noreturn));
void fatalx(const char *fmt, ...)
	__attribute__((format(printf, 1, 2), noreturn));

#endif
