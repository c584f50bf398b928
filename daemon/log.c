/*
 * log.c — diagnostic logging for ppxd, after OpenBSD's log.c.
 *
 * In the foreground, lines go to stderr prefixed with the time and level;
 * otherwise to syslog (LOG_DAEMON).  Under systemd, records go to the
 * journal instead (sd_journal_send), with structured fields: PPX_AGENCY
 * always, and PPX_PARTNER, PPX_MESSAGE_ID, PPX_REASON, PPX_ENTRY_SEQ where
 * log_event() is given them.  The journal is used when stderr is the
 * journal's stream ($JOURNAL_STREAM names stderr's device and inode, as
 * systemd sets it for StandardError=journal) or, not in the foreground,
 * when the journal's socket exists.
 *
 * Messages are single lines: callers pass sentences that say what failed,
 * on what, and what to do.  Those sentences quote names and details from
 * partners, so each line is made text before it is written
 * (ppx_text_escape: invalid UTF-8 and control characters as \xNN): a
 * partner can neither break the log's encoding nor forge a line of it.
 * Field values get the same treatment: a newline in a partner's name
 * cannot start a field of its own.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>
#include <systemd/sd-journal.h>

#include "log.h"
#include "ppx/envelope.h"
#include "ppx/text.h"

#define JOURNAL_SOCKET "/run/systemd/journal/socket"
#define FIELD_MAX 1100		/* one field: its name and a whole line */

static int log_foreground = 1;
static int log_verbose;
static int log_journal;
static const char *log_ident = "ppxd";
static char log_agency[256];

/* $JOURNAL_STREAM is "DEV:INO" of the stream systemd connected; it is
 * inherited by children, so only a match with our own stderr counts. */
static int stderr_is_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;
	int end = 0;

	if (!js || sscanf(js, "%llu:%llu%n", &dev, &ino, &end) != 2 ||
	    js[end] != '\0' || fstat(STDERR_FILENO, &st) != 0)
		return 0;
	return (unsigned long long)st.st_dev == dev &&
	       (unsigned long long)st.st_ino == ino;
}

void log_init(const char *ident, int foreground, int verbose)
{
	log_ident = ident;
	log_foreground = foreground;
	log_verbose = verbose;
	log_journal = stderr_is_journal() ||
		      (!foreground && access(JOURNAL_SOCKET, W_OK) == 0);
	if (!foreground && !log_journal)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void log_set_agency(const char *agency)
{
	snprintf(log_agency, sizeof(log_agency), "%s", agency ? agency : "");
}

int log_to_journal(void)
{
	return log_journal;
}

/* "NAME=value", the value escaped; into iov[*n] if there is room. */
static void field(struct iovec *iov, char (*buf)[FIELD_MAX], size_t *n,
		  const char *name, const char *value)
{
	char head[64];
	int len = snprintf(head, sizeof(head), "%s=", name);

	if (len < 0 || (size_t)len >= sizeof(head))
		return;
	memcpy(buf[*n], head, (size_t)len);
	ppx_text_escape(buf[*n] + len, FIELD_MAX - (size_t)len, value,
			strlen(value));
	iov[*n].iov_base = buf[*n];
	iov[*n].iov_len = strlen(buf[*n]);
	(*n)++;
}

static void journal(int pri, const struct log_fields *f, const char *msg)
{
	char b[9][FIELD_MAX], tmp[64];
	struct iovec iov[9];
	size_t n = 0;

	field(iov, b, &n, "MESSAGE", msg);
	snprintf(tmp, sizeof(tmp), "%d", pri);
	field(iov, b, &n, "PRIORITY", tmp);
	field(iov, b, &n, "SYSLOG_IDENTIFIER", log_ident);
	if (log_agency[0])
		field(iov, b, &n, "PPX_AGENCY", log_agency);
	if (f && f->partner)
		field(iov, b, &n, "PPX_PARTNER", f->partner);
	if (f && f->message_id) {
		char hex[2 * PPX_MESSAGE_ID_LEN + 1];

		ppx_hex(hex, f->message_id, PPX_MESSAGE_ID_LEN);
		field(iov, b, &n, "PPX_MESSAGE_ID", hex);
	}
	if (f && f->reason)
		field(iov, b, &n, "PPX_REASON", f->reason);
	if (f && f->has_seq) {
		snprintf(tmp, sizeof(tmp), "%llu", (unsigned long long)f->seq);
		field(iov, b, &n, "PPX_ENTRY_SEQ", tmp);
	}
	sd_journal_sendv(iov, (int)n);
}

static void vlog_fields(int pri, const struct log_fields *f,
			const char *fmt, va_list ap, const char *suffix)
{
	char raw[1024], msg[1024];

	vsnprintf(raw, sizeof(raw), fmt, ap);
	if (suffix) {
		size_t len = strlen(raw);

		snprintf(raw + len, sizeof(raw) - len, ": %s", suffix);
	}
	ppx_text_escape(msg, sizeof(msg), raw, strlen(raw));
	if (log_journal) {
		journal(pri, f, msg);
	} else if (log_foreground) {
		char when[32];
		struct timespec ts;
		struct tm tm;

		clock_gettime(CLOCK_REALTIME, &ts);
		gmtime_r(&ts.tv_sec, &tm);
		strftime(when, sizeof(when), "%H:%M:%S", &tm);
		fprintf(stderr, "%s.%03ld %s %s\n", when,
			ts.tv_nsec / 1000000, log_ident, msg);
	} else {
		syslog(pri, "%s", msg);
	}
}

static void vlog(int pri, const char *fmt, va_list ap, const char *suffix)
{
	vlog_fields(pri, NULL, fmt, ap, suffix);
}

void log_event(int pri, const struct log_fields *f, const char *fmt, ...)
{
	va_list ap;

	if (pri == LOG_DEBUG && !log_verbose)
		return;
	va_start(ap, fmt);
	vlog_fields(pri, f, fmt, ap, NULL);
	va_end(ap);
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
