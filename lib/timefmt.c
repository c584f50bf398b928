/*
 * timefmt.c — UTC times written out in ISO 8601 (ppx/timefmt.h): the one
 * place that turns protocol milliseconds into text, for the daemon, the
 * client and libppx's own error messages alike.
 */
#include <stdio.h>
#include <time.h>

#include "ppx/timefmt.h"

/* The UTC calendar time of the second `ms` falls in; 0 if there is none
 * (a year past what struct tm holds). */
static int utc(struct tm *tm, int64_t ms)
{
	time_t t = (time_t)(ms / 1000);

	return gmtime_r(&t, tm) != NULL;
}

void ppx_time_iso(char *out, size_t cap, int64_t ms)
{
	struct tm tm;

	if (cap && (!utc(&tm, ms) ||
		    !strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm)))
		snprintf(out, cap, "?");
}

void ppx_time_iso_ms(char *out, size_t cap, int64_t ms)
{
	struct tm tm;
	char sec[24];

	if (cap == 0)
		return;
	if (ms < 0 || !utc(&tm, ms) ||
	    !strftime(sec, sizeof(sec), "%Y-%m-%dT%H:%M:%S", &tm))
		snprintf(out, cap, "1970-01-01T00:00:00.000Z");
	else
		snprintf(out, cap, "%s.%03dZ", sec, (int)(ms % 1000));
}

void ppx_date_iso(char *out, size_t cap, int64_t ms)
{
	struct tm tm;

	if (cap && (!utc(&tm, ms) || !strftime(out, cap, "%Y-%m-%d", &tm)))
		snprintf(out, cap, "?");
}
