/*
 * trace.c — the optional per-iteration trace of the event loop (trace.h).
 *
 * Each line: wake time in µs (CLOCK_MONOTONIC, comparable between the
 * daemons of one machine), then for each stage of trace.h its µs and its
 * count.  Lines go through stdio's buffer, so tracing costs a few
 * hundred ns an iteration; the buffer is written out at exit.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "trace.h"

static FILE *out;
static int64_t last_us, wake_us;
static int64_t took[TRACE_STAGES];
static size_t count[TRACE_STAGES];

static int64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void trace_open(void)
{
	const char *path = getenv("PPXD_TRACE");
	int fd;

	if (!path || !*path)
		return;
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd < 0 || !(out = fdopen(fd, "a"))) {
		log_warn("PPXD_TRACE: cannot open %s; not tracing", path);
		if (fd >= 0)
			close(fd);
		return;
	}
	fputs("# wake_us poll_us inbound_us/n receipts_us/n control_us/n "
	      "other_us commit_us/entries after_us pump_us/sent\n", out);
	last_us = now_us();
}

void trace_close(void)
{
	if (out)
		fclose(out);
	out = NULL;
}

int trace_on(void)
{
	return out != NULL;
}

void trace_mark(enum trace_stage s)
{
	int64_t t;

	if (!out)
		return;
	t = now_us();
	took[s] += t - last_us;
	if (s == TRACE_POLL)
		wake_us = t;
	last_us = t;
}

void trace_count(enum trace_stage s, size_t n)
{
	if (out)
		count[s] += n;
}

void trace_iteration(void)
{
	size_t any = 0;

	if (!out)
		return;
	for (int s = TRACE_INBOUND; s < TRACE_STAGES; s++)
		any += count[s];
	if (any)
		fprintf(out, "%lld %lld %lld/%zu %lld/%zu %lld/%zu %lld "
			"%lld/%zu %lld %lld/%zu\n", (long long)wake_us,
			(long long)took[TRACE_POLL],
			(long long)took[TRACE_INBOUND], count[TRACE_INBOUND],
			(long long)took[TRACE_RECEIPTS], count[TRACE_RECEIPTS],
			(long long)took[TRACE_CONTROL], count[TRACE_CONTROL],
			(long long)took[TRACE_OTHER],
			(long long)took[TRACE_COMMIT], count[TRACE_COMMIT],
			(long long)took[TRACE_AFTER],
			(long long)took[TRACE_PUMP], count[TRACE_PUMP]);
	for (int s = 0; s < TRACE_STAGES; s++) {
		took[s] = 0;
		count[s] = 0;
	}
}
