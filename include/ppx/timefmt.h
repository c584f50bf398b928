/*
 * ppx/timefmt.h — times written out, always UTC and ISO 8601, in the
 * three forms ppx needs:
 *
 *   ppx_time_iso()     "2026-12-05T21:11:28Z"      to the second: what
 *                      people read (ppx log, status, deadlines, errors)
 *   ppx_time_iso_ms()  "2026-12-05T21:11:28.123Z"  to the millisecond: the
 *                      event stream and the daemon's messages, where two
 *                      entries a few ms apart must be told apart
 *   ppx_date_iso()     "2026-12-05"                a day, for fields that
 *                      hold a date
 *
 * Times are milliseconds since the Unix epoch, as the protocol keeps them.
 */
#ifndef PPX_TIMEFMT_H
#define PPX_TIMEFMT_H

#include <stddef.h>
#include <stdint.h>

/* Buffer sizes that hold every time of years 0 to 9999, with the NUL. */
#define PPX_TIME_ISO_LEN 21
#define PPX_TIME_ISO_MS_LEN 25
#define PPX_DATE_ISO_LEN 11

/* "YYYY-MM-DDTHH:MM:SSZ" into out; "?" if it does not fit in cap. */
void ppx_time_iso(char *out, size_t cap, int64_t ms);

/* "YYYY-MM-DDTHH:MM:SS.mmmZ" into out; a time before 1970, or one that
 * does not fit, is written as the epoch, "1970-01-01T00:00:00.000Z" (cut
 * to cap). */
void ppx_time_iso_ms(char *out, size_t cap, int64_t ms);

/* "YYYY-MM-DD" into out; "?" if it does not fit in cap. */
void ppx_date_iso(char *out, size_t cap, int64_t ms);

#endif
