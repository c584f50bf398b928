/*
 * workdays.h — calendar dates and working-day arithmetic.
 *
 * MAPPA deadlines are counted in working days: minutes are due within 10
 * working days of a level 2 meeting and 5 of a level 3 one (DOMAIN.md).  A
 * working day is a Monday to Friday that is not a bank holiday, and the
 * bank holidays come from a calendar file that the agency keeps (England
 * and Wales, Scotland and Northern Ireland differ).
 *
 * Dates are whole days, numbered from 1970-01-01 (day 0) as the proleptic
 * Gregorian calendar counts them, with no time zone: ppx takes the date of
 * a timestamp in UTC.  Everything here is pure arithmetic except
 * ppx_calendar_load(), which reads a file.
 *
 * The calendar file holds one ISO date (YYYY-MM-DD) a line.  '#' starts a
 * comment, to the end of the line; blank lines are ignored.  A date that
 * is not a real date, a date given twice and a date that falls on a
 * Saturday or Sunday (the substitute weekday is what must be listed) are
 * refused, naming "file:line".
 */
#ifndef PPX_WORKDAYS_H
#define PPX_WORKDAYS_H

#include <stddef.h>
#include <stdint.h>

typedef int32_t ppx_day;	/* days since 1970-01-01; may be negative */

#define PPX_DATE_LEN 11			/* "YYYY-MM-DD" and its NUL */
#define PPX_DATE_MIN_YEAR 1900
#define PPX_DATE_MAX_YEAR 9999
#define PPX_CALENDAR_MAX 10000		/* holidays in one calendar */
#define PPX_CALENDAR_LINE_MAX 256	/* bytes in one calendar line */
#define PPX_WORKDAYS_MAX 36600		/* |n| for ppx_workdays_add() */

/*
 * Parse exactly "YYYY-MM-DD" (a real date, years PPX_DATE_MIN_YEAR to
 * PPX_DATE_MAX_YEAR, nothing before or after) into *out.  PPX_EINVAL,
 * with a detail that quotes the text, otherwise.
 */
int ppx_date_parse(ppx_day *out, const char *text);

/* The day of year-month-day, or PPX_EINVAL if there is no such date. */
int ppx_date_from_ymd(ppx_day *out, int year, int month, int day);

/* The year, month (1-12) and day of month (1-31) of `day`. */
void ppx_date_to_ymd(ppx_day day, int *year, int *month, int *mday);

/* `day` as "YYYY-MM-DD". */
void ppx_date_format(char out[PPX_DATE_LEN], ppx_day day);

/* ISO 8601 weekday: 1 Monday ... 7 Sunday. */
int ppx_date_weekday(ppx_day day);

/* The UTC date of a Unix time in milliseconds, and the first millisecond
 * of a date. */
ppx_day ppx_date_of_ms(int64_t ms);
int64_t ppx_date_start_ms(ppx_day day);

/* A set of bank holidays. */
typedef struct ppx_calendar ppx_calendar;

/* An empty calendar: working days are Monday to Friday. */
int ppx_calendar_new(ppx_calendar **out);

/*
 * Read the calendar file at `path` (format above).  On failure *out is
 * NULL and the code is PPX_EIO (cannot read), PPX_EINVAL (a bad line:
 * "path:line: problem"), PPX_ETOOBIG (more than PPX_CALENDAR_MAX dates)
 * or PPX_ENOMEM.
 */
int ppx_calendar_load(ppx_calendar **out, const char *path);

/* Add a holiday: PPX_EDUP if it is there already, PPX_EINVAL if it is a
 * Saturday or Sunday, PPX_ETOOBIG beyond PPX_CALENDAR_MAX. */
int ppx_calendar_add(ppx_calendar *self, ppx_day day);

void ppx_calendar_free(ppx_calendar *self);	/* NULL ok */

size_t ppx_calendar_count(const ppx_calendar *self);

/* Nonzero if `day` is a listed holiday. */
int ppx_calendar_is_holiday(const ppx_calendar *self, ppx_day day);

/* Nonzero if `day` is Monday to Friday and not a holiday.  `self` may be
 * NULL: no holidays. */
int ppx_workday_is(const ppx_calendar *self, ppx_day day);

/*
 * The n-th working day after `from` (n > 0), before it (n < 0), or `from`
 * itself (n = 0), whether or not `from` is a working day.  So a level 3
 * meeting on `from` has its minutes due on ppx_workdays_add(from, 5).
 * PPX_ERANGE if |n| > PPX_WORKDAYS_MAX or the answer leaves the years
 * ppx supports.
 */
int ppx_workdays_add(ppx_day *out, const ppx_calendar *self, ppx_day from,
		     int n);

/*
 * The working days d with from < d <= to, counted; minus the working days
 * with to < d <= from when `to` is before `from`.  Minutes issued on day
 * `to` for a meeting on `from` were issued on "working day N" where N is
 * this count, and ppx_workdays_between(from, ppx_workdays_add(from, n))
 * is n for every n >= 0.
 */
long ppx_workdays_between(const ppx_calendar *self, ppx_day from, ppx_day to);

/*
 * When the review of an emergency access at `at_ms` falls due: the end
 * (the first millisecond after) of the `days`-th working day after the
 * access's UTC date ([accountability] emergency_review_days).  0 if that
 * leaves the years ppx supports.
 */
int64_t ppx_review_due_ms(const ppx_calendar *self, int64_t at_ms, long days);

#endif
