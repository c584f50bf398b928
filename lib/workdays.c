/*
 * workdays.c — dates, bank-holiday calendars and working-day arithmetic.
 *
 * The deadline commands (ppx due, ppx report) ask two questions of this
 * module: "which day is N working days after the meeting?" and "how many
 * working days after the meeting was this day?".  Dates are day numbers
 * (days since 1970-01-01), converted to and from the civil calendar with
 * Howard Hinnant's algorithms, which are exact for the proleptic Gregorian
 * calendar and need no tables or time zone.  A calendar is a sorted array
 * of holiday day numbers, searched by bisection.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ppx/error.h"
#include "ppx/workdays.h"

struct ppx_calendar {
	ppx_day *days;		/* sorted, unique, Monday to Friday only */
	size_t n, cap;
};

/* ------------------------------------------------------------------ */
/* Dates                                                               */
/* ------------------------------------------------------------------ */

static int leap_year(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int month_days(int y, int m)
{
	static const int days[12] = {31, 28, 31, 30, 31, 30,
				     31, 31, 30, 31, 30, 31};

	return m == 2 && leap_year(y) ? 29 : days[m - 1];
}

/* Days from 1970-01-01 to y-m-d (Hinnant, days_from_civil). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

void ppx_date_to_ymd(ppx_day day, int *year, int *month, int *mday)
{
	int64_t z = (int64_t)day + 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	int m = (int)(mp < 10 ? mp + 3 : mp - 9);

	*mday = (int)(doy - (153 * mp + 2) / 5 + 1);
	*month = m;
	*year = (int)(yoe + era * 400 + (m <= 2));
}

int ppx_date_from_ymd(ppx_day *out, int year, int month, int day)
{
	if (year < PPX_DATE_MIN_YEAR || year > PPX_DATE_MAX_YEAR ||
	    month < 1 || month > 12 || day < 1 ||
	    day > month_days(year, month))
		return ppx_error_set(PPX_EINVAL,
				     "%04d-%02d-%02d is not a date", year,
				     month, day);
	*out = (ppx_day)days_from_civil(year, month, day);
	return 0;
}

/* `n` decimal digits at s, into *out; 0 if they are all digits. */
static int digits(int *out, const char *s, int n)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

int ppx_date_parse(ppx_day *out, const char *text)
{
	int y, m, d;

	if (strlen(text) != PPX_DATE_LEN - 1 || text[4] != '-' ||
	    text[7] != '-' || digits(&y, text, 4) != 0 ||
	    digits(&m, text + 5, 2) != 0 || digits(&d, text + 8, 2) != 0 ||
	    ppx_date_from_ymd(out, y, m, d) != 0)
		return ppx_error_set(PPX_EINVAL,
				     "'%.40s' is not a date: give YYYY-MM-DD, "
				     "e.g. 2026-12-24", text);
	return 0;
}

void ppx_date_format(char out[PPX_DATE_LEN], ppx_day day)
{
	int y, m, d;

	ppx_date_to_ymd(day, &y, &m, &d);
	if (y < 0 || y > 9999) {
		snprintf(out, PPX_DATE_LEN, "?");
		return;
	}
	snprintf(out, PPX_DATE_LEN, "%04d-%02d-%02d", y, m, d);
}

int ppx_date_weekday(ppx_day day)
{
	/* 1970-01-01 was a Thursday (4). */
	int r = (int)(((int64_t)day + 3) % 7);

	return (r < 0 ? r + 7 : r) + 1;
}

ppx_day ppx_date_of_ms(int64_t ms)
{
	int64_t d = ms / 86400000;

	if (ms % 86400000 < 0)
		d--;
	return (ppx_day)d;
}

int64_t ppx_date_start_ms(ppx_day day)
{
	return (int64_t)day * 86400000;
}

/* ------------------------------------------------------------------ */
/* Calendars                                                           */
/* ------------------------------------------------------------------ */

int ppx_calendar_new(ppx_calendar **out)
{
	*out = calloc(1, sizeof(**out));
	return *out ? 0 : ppx_error_set(PPX_ENOMEM, "out of memory");
}

void ppx_calendar_free(ppx_calendar *self)
{
	if (!self)
		return;
	free(self->days);
	free(self);
}

size_t ppx_calendar_count(const ppx_calendar *self)
{
	return self ? self->n : 0;
}

/* The index of the first holiday >= day (self->n if none). */
static size_t lower_bound(const ppx_calendar *self, ppx_day day)
{
	size_t lo = 0, hi = self->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (self->days[mid] < day)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int ppx_calendar_is_holiday(const ppx_calendar *self, ppx_day day)
{
	size_t i;

	if (!self)
		return 0;
	i = lower_bound(self, day);
	return i < self->n && self->days[i] == day;
}

int ppx_calendar_add(ppx_calendar *self, ppx_day day)
{
	char date[PPX_DATE_LEN];
	size_t i = lower_bound(self, day);

	ppx_date_format(date, day);
	if (ppx_date_weekday(day) > 5)
		return ppx_error_set(PPX_EINVAL,
				     "%s is a %s: list the weekday the holiday "
				     "is observed on (the substitute day)",
				     date, ppx_date_weekday(day) == 6
						   ? "Saturday" : "Sunday");
	if (i < self->n && self->days[i] == day)
		return ppx_error_set(PPX_EDUP, "%s is listed twice", date);
	if (self->n == PPX_CALENDAR_MAX)
		return ppx_error_set(PPX_ETOOBIG,
				     "more than %d bank holidays",
				     PPX_CALENDAR_MAX);
	if (self->n == self->cap) {
		size_t cap = self->cap ? 2 * self->cap : 32;
		ppx_day *g = realloc(self->days, cap * sizeof(*g));

		if (!g)
			return ppx_error_set(PPX_ENOMEM, "out of memory");
		self->days = g;
		self->cap = cap;
	}
	memmove(&self->days[i + 1], &self->days[i],
		(self->n - i) * sizeof(*self->days));
	self->days[i] = day;
	self->n++;
	return 0;
}

/* Strip a '#' comment and surrounding white space, in place. */
static char *trim_line(char *s)
{
	char *hash = strchr(s, '#'), *end;

	if (hash)
		*hash = '\0';
	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s && strchr(" \t\r\n", end[-1]))
		*--end = '\0';
	return s;
}

/* One line of a calendar file: 0, or an error recorded without place. */
static int load_line(ppx_calendar *cal, char *buf, FILE *f)
{
	size_t len = strlen(buf);
	char *text;
	ppx_day day;

	if (len == PPX_CALENDAR_LINE_MAX - 1 && buf[len - 1] != '\n' &&
	    !feof(f))
		return ppx_error_set(PPX_EINVAL,
				     "line longer than %d characters",
				     PPX_CALENDAR_LINE_MAX - 2);
	text = trim_line(buf);
	if (!*text)
		return 0;
	if (ppx_date_parse(&day, text) != 0)
		return PPX_EINVAL;
	return ppx_calendar_add(cal, day);
}

int ppx_calendar_load(ppx_calendar **out, const char *path)
{
	char buf[PPX_CALENDAR_LINE_MAX];
	ppx_calendar *cal = NULL;
	FILE *f;
	int line = 0, rc;

	*out = NULL;
	f = fopen(path, "re");
	if (!f)
		return ppx_error_set(PPX_EIO, "cannot open bank holidays %s: %s",
				     path, strerror(errno));
	rc = ppx_calendar_new(&cal);
	while (rc == 0 && fgets(buf, sizeof(buf), f)) {
		line++;
		rc = load_line(cal, buf, f);
	}
	if (rc == 0 && ferror(f))
		rc = ppx_error_set(PPX_EIO, "cannot read bank holidays %s",
				   path);
	else if (rc != 0 && rc != PPX_ENOMEM) {
		char detail[512];

		snprintf(detail, sizeof(detail), "%s", ppx_error_last());
		rc = ppx_error_set(rc == PPX_EDUP ? PPX_EINVAL : rc,
				   "%s:%d: %s", path, line, detail);
	}
	fclose(f);
	if (rc != 0) {
		ppx_calendar_free(cal);
		return rc;
	}
	*out = cal;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Working days                                                        */
/* ------------------------------------------------------------------ */

int ppx_workday_is(const ppx_calendar *self, ppx_day day)
{
	return ppx_date_weekday(day) <= 5 && !ppx_calendar_is_holiday(self, day);
}

int ppx_workdays_add(ppx_day *out, const ppx_calendar *self, ppx_day from,
		     int n)
{
	int64_t day = from, lo, hi;
	int step = n < 0 ? -1 : 1;

	lo = days_from_civil(PPX_DATE_MIN_YEAR, 1, 1);
	hi = days_from_civil(PPX_DATE_MAX_YEAR, 12, 31);
	if (n > PPX_WORKDAYS_MAX || n < -PPX_WORKDAYS_MAX)
		return ppx_error_set(PPX_ERANGE, "%d working days is too many",
				     n);
	for (int left = n < 0 ? -n : n; left > 0;) {
		day += step;
		if (day < lo || day > hi)
			return ppx_error_set(PPX_ERANGE,
					     "date out of range (years %d to "
					     "%d)", PPX_DATE_MIN_YEAR,
					     PPX_DATE_MAX_YEAR);
		if (ppx_workday_is(self, (ppx_day)day))
			left--;
	}
	*out = (ppx_day)day;
	return 0;
}

/* Mondays to Fridays d <= x, counted from the Monday 1970-01-05. */
static int64_t weekdays_upto(int64_t x)
{
	int64_t k = x - 4, weeks = k / 7, r;

	if (k % 7 < 0)
		weeks--;
	r = k - weeks * 7;	/* 0 Monday ... 6 Sunday */
	return weeks * 5 + (r < 5 ? r + 1 : 5);
}

/* Holidays h with a < h <= b (a <= b). */
static int64_t holidays_in(const ppx_calendar *self, ppx_day a, ppx_day b)
{
	if (!self || a >= b)
		return 0;
	return (int64_t)lower_bound(self, b + 1) - (int64_t)lower_bound(self, a + 1);
}

long ppx_workdays_between(const ppx_calendar *self, ppx_day from, ppx_day to)
{
	ppx_day a = from < to ? from : to, b = from < to ? to : from;
	int64_t n = weekdays_upto(b) - weekdays_upto(a) - holidays_in(self, a, b);

	return (long)(from <= to ? n : -n);
}

int64_t ppx_review_due_ms(const ppx_calendar *self, int64_t at_ms, long days)
{
	ppx_day due;

	if (days < 0 || days > PPX_WORKDAYS_MAX ||
	    ppx_workdays_add(&due, self, ppx_date_of_ms(at_ms), (int)days) != 0)
		return 0;
	return ppx_date_start_ms(due) + 86400000;
}
