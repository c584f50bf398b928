/*
 * test_workdays.c — dates and working days: real dates only, weekends
 * and bank holidays skipped, year ends and leap years crossed correctly,
 * and every bad calendar line refused with its file and line.
 *
 * The England and Wales calendar is the one shipped in docs/examples
 * (make test runs from the top of the tree).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ppx/error.h"
#include "ppx/workdays.h"
#include "support.h"

#define EW_CALENDAR "docs/examples/bank-holidays-england-wales-2026-2027.txt"

struct fixture {
	char *dir;
	ppx_calendar *ew;	/* England and Wales 2026-2027 */
	char path[512];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	f->dir = tmpdir_new();
	if (ppx_calendar_load(&f->ew, EW_CALENDAR) != 0) {
		print_error("%s\n", ppx_error_last());
		return -1;
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	ppx_calendar_free(f->ew);
	tmpdir_remove(f->dir);
	free(f);
	return 0;
}

static ppx_day D(const char *text)
{
	ppx_day d = 0;

	if (ppx_date_parse(&d, text) != 0)
		fail_msg("%s", ppx_error_last());
	return d;
}

/* ppx_workdays_add() as "YYYY-MM-DD". */
static const char *add(const ppx_calendar *cal, const char *from, int n)
{
	static char out[PPX_DATE_LEN];
	ppx_day d;

	if (ppx_workdays_add(&d, cal, D(from), n) != 0)
		fail_msg("%s", ppx_error_last());
	ppx_date_format(out, d);
	return out;
}

/* Write `text` to a calendar file in the fixture directory. */
static const char *write_calendar(struct fixture *f, const char *text)
{
	FILE *fp;

	snprintf(f->path, sizeof(f->path), "%s/holidays.txt", f->dir);
	fp = fopen(f->path, "w");
	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
	return f->path;
}

/* Loading `text` fails with `code`, at "path:line:", saying `what`. */
static void assert_refused(struct fixture *f, const char *text, int code,
			   int line, const char *what)
{
	ppx_calendar *cal = (ppx_calendar *)&cal;
	char where[600];

	assert_int_equal(ppx_calendar_load(&cal, write_calendar(f, text)), code);
	assert_null(cal);
	snprintf(where, sizeof(where), "%s:%d: ", f->path, line);
	if (!strstr(ppx_error_last(), where) ||
	    !strstr(ppx_error_last(), what))
		fail_msg("expected \"%s...%s\", got \"%s\"", where, what,
			 ppx_error_last());
}

static void test_workdays__date_parse_round_trips(void **state)
{
	char out[PPX_DATE_LEN];
	int y, m, d;

	(void)state;
	assert_int_equal(D("1970-01-01"), 0);
	assert_int_equal(D("1970-01-02"), 1);
	assert_int_equal(D("1969-12-31"), -1);
	assert_int_equal(D("2000-03-01") - D("2000-02-28"), 2);
	ppx_date_format(out, D("2026-12-24"));
	assert_string_equal(out, "2026-12-24");
	ppx_date_format(out, D("1900-01-01"));
	assert_string_equal(out, "1900-01-01");
	ppx_date_format(out, D("9999-12-31"));
	assert_string_equal(out, "9999-12-31");
	ppx_date_to_ymd(D("2028-02-29"), &y, &m, &d);
	assert_int_equal(y, 2028);
	assert_int_equal(m, 2);
	assert_int_equal(d, 29);
}

static void test_workdays__date_parse_refuses_what_is_not_a_date(void **state)
{
	static const char *const bad[] = {
		"", "2026-02-29", "2100-02-29", "1900-02-29", "2026-13-01",
		"2026-00-10", "2026-04-31", "2026-1-01", "2026-01-1",
		" 2026-01-01", "2026-01-01 ", "2026-01-01x", "26-01-01",
		"2026/01/01", "1899-12-31", "+026-01-01", "2026-0a-01",
		"25/12/2026",
	};
	ppx_day d;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (ppx_date_parse(&d, bad[i]) != PPX_EINVAL)
			fail_msg("'%s' was taken for a date", bad[i]);
		assert_non_null(strstr(ppx_error_last(), "YYYY-MM-DD"));
	}
}

static void test_workdays__leap_years_follow_the_gregorian_rule(void **state)
{
	ppx_day d;

	(void)state;
	assert_int_equal(ppx_date_from_ymd(&d, 2024, 2, 29), 0);
	assert_int_equal(ppx_date_from_ymd(&d, 2000, 2, 29), 0);
	assert_int_equal(ppx_date_from_ymd(&d, 2028, 2, 29), 0);
	assert_int_equal(ppx_date_from_ymd(&d, 2026, 2, 29), PPX_EINVAL);
	assert_int_equal(ppx_date_from_ymd(&d, 1900, 2, 29), PPX_EINVAL);
	assert_int_equal(ppx_date_from_ymd(&d, 2100, 2, 29), PPX_EINVAL);
	assert_int_equal(D("2025-01-01") - D("2024-01-01"), 366);
	assert_int_equal(D("2027-01-01") - D("2026-01-01"), 365);
	assert_int_equal(D("2001-01-01") - D("2000-01-01"), 366);
	/* Mon 28 Feb 2028, Tue 29 Feb, Wed 1 Mar. */
	assert_string_equal(add(NULL, "2028-02-28", 2), "2028-03-01");
	assert_int_equal(ppx_workdays_between(NULL, D("2028-02-25"),
					      D("2028-03-01")), 3);
}

static void test_workdays__weekday_and_utc_date_of_a_time(void **state)
{
	(void)state;
	assert_int_equal(ppx_date_weekday(D("1970-01-01")), 4);
	assert_int_equal(ppx_date_weekday(D("1969-12-29")), 1);
	assert_int_equal(ppx_date_weekday(D("2026-12-24")), 4);
	assert_int_equal(ppx_date_weekday(D("2026-12-26")), 6);
	assert_int_equal(ppx_date_weekday(D("2027-12-26")), 7);
	assert_int_equal(ppx_date_of_ms(0), 0);
	assert_int_equal(ppx_date_of_ms(86399999), 0);
	assert_int_equal(ppx_date_of_ms(86400000), 1);
	assert_int_equal(ppx_date_of_ms(-1), -1);
	assert_int_equal(ppx_date_of_ms(-86400000), -1);
	assert_int_equal(ppx_date_of_ms(-86400001), -2);
	/* 2026-09-04T10:00:00Z */
	assert_int_equal(ppx_date_of_ms(1788516000000LL), D("2026-09-04"));
	assert_int_equal(ppx_date_start_ms(D("2026-09-04")), 1788480000000LL);
}

static void test_workdays__weekends_are_skipped(void **state)
{
	(void)state;
	assert_string_equal(add(NULL, "2026-09-04", 1), "2026-09-07");	/* Fri */
	assert_string_equal(add(NULL, "2026-09-05", 1), "2026-09-07");	/* Sat */
	assert_string_equal(add(NULL, "2026-09-06", 1), "2026-09-07");	/* Sun */
	assert_string_equal(add(NULL, "2026-09-05", 0), "2026-09-05");
	assert_string_equal(add(NULL, "2026-09-07", -1), "2026-09-04");
	assert_string_equal(add(NULL, "2026-09-06", -1), "2026-09-04");
	/* Level 2: ten working days after Wednesday 15 July 2026. */
	assert_string_equal(add(NULL, "2026-07-15", 10), "2026-07-29");
	assert_int_equal(ppx_workdays_between(NULL, D("2026-09-04"),
					      D("2026-09-07")), 1);
	assert_int_equal(ppx_workdays_between(NULL, D("2026-09-05"),
					      D("2026-09-06")), 0);
	assert_int_equal(ppx_workdays_between(NULL, D("2026-09-14"),
					      D("2026-09-08")), -4);
	assert_false(ppx_workday_is(NULL, D("2026-09-05")));
	assert_true(ppx_workday_is(NULL, D("2026-09-07")));
}

/* The August bank holiday makes Friday 4 September working day 5 after a
 * meeting on Thursday 27 August, not day 6. */
static void test_workdays__a_bank_holiday_is_not_a_working_day(void **state)
{
	struct fixture *f = *state;

	assert_true(ppx_calendar_is_holiday(f->ew, D("2026-08-31")));
	assert_false(ppx_workday_is(f->ew, D("2026-08-31")));
	assert_string_equal(add(f->ew, "2026-08-27", 5), "2026-09-04");
	assert_string_equal(add(NULL, "2026-08-27", 5), "2026-09-03");
	assert_int_equal(ppx_workdays_between(f->ew, D("2026-08-27"),
					      D("2026-09-04")), 5);
	assert_int_equal(ppx_workdays_between(NULL, D("2026-08-27"),
					      D("2026-09-04")), 6);
	assert_int_equal(ppx_workdays_between(f->ew, D("2026-08-27"),
					      D("2026-09-07")), 6);
	/* Good Friday and Easter Monday both. */
	assert_string_equal(add(f->ew, "2026-04-02", 5), "2026-04-13");
	assert_string_equal(add(f->ew, "2026-09-01", -1), "2026-08-28");
}

static void test_workdays__christmas_and_the_year_end(void **state)
{
	struct fixture *f = *state;

	/* Level 3 on Thursday 24 December 2026: 29, 30, 31 December,
	 * (1 January), 4 and 5 January. */
	assert_string_equal(add(f->ew, "2026-12-24", 5), "2027-01-05");
	assert_string_equal(add(NULL, "2026-12-24", 5), "2026-12-31");
	assert_int_equal(ppx_workdays_between(f->ew, D("2026-12-24"),
					      D("2027-01-05")), 5);
	/* 2027: Christmas on a Saturday, Boxing Day on a Sunday. */
	assert_string_equal(add(f->ew, "2027-12-24", 1), "2027-12-29");
	assert_string_equal(add(f->ew, "2027-12-31", -1), "2027-12-30");
	assert_string_equal(add(f->ew, "2027-12-29", -1), "2027-12-24");
}

/* ppx_workdays_between() undoes ppx_workdays_add() and agrees with
 * counting one day at a time, over two years of starts. */
static void test_workdays__between_inverts_add(void **state)
{
	struct fixture *f = *state;
	ppx_day start = D("2025-12-01");

	for (ppx_day from = start; from < start + 800; from += 3) {
		for (int n = 0; n <= 25; n++) {
			ppx_day to;
			long count = 0;

			assert_int_equal(ppx_workdays_add(&to, f->ew, from, n), 0);
			assert_int_equal(ppx_workdays_between(f->ew, from, to), n);
			for (ppx_day d = from + 1; d <= to; d++)
				count += ppx_workday_is(f->ew, d);
			assert_int_equal(count, n);
			assert_int_equal(ppx_workdays_between(f->ew, to, from),
					 -count);
		}
	}
}

static void test_workdays__limits_are_refused(void **state)
{
	ppx_day d;

	(void)state;
	assert_int_equal(ppx_workdays_add(&d, NULL, D("2026-01-01"),
					  PPX_WORKDAYS_MAX + 1), PPX_ERANGE);
	assert_int_equal(ppx_workdays_add(&d, NULL, D("9999-12-30"), 2),
			 PPX_ERANGE);
	assert_int_equal(ppx_workdays_add(&d, NULL, D("1900-01-02"), -2),
			 PPX_ERANGE);
}

static void test_workdays__shipped_calendar_has_the_2026_2027_holidays(void **state)
{
	struct fixture *f = *state;
	static const char *const days[] = {
		"2026-01-01", "2026-04-03", "2026-04-06", "2026-05-04",
		"2026-05-25", "2026-08-31", "2026-12-25", "2026-12-28",
		"2027-01-01", "2027-03-26", "2027-03-29", "2027-05-03",
		"2027-05-31", "2027-08-30", "2027-12-27", "2027-12-28",
	};

	assert_int_equal(ppx_calendar_count(f->ew), 16);
	for (size_t i = 0; i < sizeof(days) / sizeof(days[0]); i++)
		if (!ppx_calendar_is_holiday(f->ew, D(days[i])))
			fail_msg("%s is missing", days[i]);
	assert_false(ppx_calendar_is_holiday(f->ew, D("2026-12-26")));
	assert_false(ppx_calendar_is_holiday(f->ew, D("2026-12-24")));
}

static void test_workdays__comments_blank_lines_and_crlf_are_fine(void **state)
{
	struct fixture *f = *state;
	ppx_calendar *cal = NULL;

	assert_int_equal(ppx_calendar_load(&cal, write_calendar(f,
		"# holidays\n\n   \n2026-12-25 # Christmas\r\n"
		"\t2026-12-28\t\n2027-01-01")), 0);
	assert_int_equal(ppx_calendar_count(cal), 3);
	assert_true(ppx_calendar_is_holiday(cal, D("2027-01-01")));
	ppx_calendar_free(cal);
	assert_int_equal(ppx_calendar_load(&cal, write_calendar(f, "")), 0);
	assert_int_equal(ppx_calendar_count(cal), 0);
	ppx_calendar_free(cal);
	ppx_calendar_free(NULL);
}

static void test_workdays__bad_calendar_lines_name_file_and_line(void **state)
{
	struct fixture *f = *state;
	char longline[400];

	assert_refused(f, "2026-12-25\n# ok\n2026-02-30\n", PPX_EINVAL, 3,
		       "'2026-02-30' is not a date");
	assert_refused(f, "25/12/2026\n", PPX_EINVAL, 1, "YYYY-MM-DD");
	assert_refused(f, "2026-12-25 2026-12-28\n", PPX_EINVAL, 1,
		       "is not a date");
	assert_refused(f, "2026-12-25\n2026-12-26\n", PPX_EINVAL, 2,
		       "2026-12-26 is a Saturday: list the weekday");
	assert_refused(f, "2027-12-26\n", PPX_EINVAL, 1, "is a Sunday");
	assert_refused(f, "2026-12-25\n2026-12-28\n\n2026-12-25\n", PPX_EINVAL,
		       4, "2026-12-25 is listed twice");
	memset(longline, ' ', sizeof(longline));
	memcpy(longline + 300, "2026-12-25\n", 12);
	assert_refused(f, longline, PPX_EINVAL, 1, "line longer than");
}

static void test_workdays__missing_calendar_is_an_io_error(void **state)
{
	struct fixture *f = *state;
	ppx_calendar *cal = NULL;
	char path[600];

	snprintf(path, sizeof(path), "%s/none.txt", f->dir);
	assert_int_equal(ppx_calendar_load(&cal, path), PPX_EIO);
	assert_null(cal);
	assert_non_null(strstr(ppx_error_last(), path));
}

static void test_workdays__add_keeps_the_calendar_sorted(void **state)
{
	ppx_calendar *cal = NULL;

	(void)state;
	assert_int_equal(ppx_calendar_new(&cal), 0);
	assert_int_equal(ppx_calendar_add(cal, D("2027-01-01")), 0);
	assert_int_equal(ppx_calendar_add(cal, D("2026-04-03")), 0);
	assert_int_equal(ppx_calendar_add(cal, D("2026-08-31")), 0);
	assert_int_equal(ppx_calendar_add(cal, D("2026-08-31")), PPX_EDUP);
	assert_int_equal(ppx_calendar_add(cal, D("2026-08-29")), PPX_EINVAL);
	assert_int_equal(ppx_calendar_count(cal), 3);
	assert_int_equal(ppx_workdays_between(cal, D("2026-01-01"),
					      D("2027-01-01")), 258);
	assert_int_equal(ppx_workdays_between(NULL, D("2026-01-01"),
					      D("2027-01-01")), 261);
	ppx_calendar_free(cal);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_workdays__date_parse_round_trips),
		T(test_workdays__date_parse_refuses_what_is_not_a_date),
		T(test_workdays__leap_years_follow_the_gregorian_rule),
		T(test_workdays__weekday_and_utc_date_of_a_time),
		T(test_workdays__weekends_are_skipped),
		T(test_workdays__a_bank_holiday_is_not_a_working_day),
		T(test_workdays__christmas_and_the_year_end),
		T(test_workdays__between_inverts_add),
		T(test_workdays__limits_are_refused),
		T(test_workdays__shipped_calendar_has_the_2026_2027_holidays),
		T(test_workdays__comments_blank_lines_and_crlf_are_fine),
		T(test_workdays__bad_calendar_lines_name_file_and_line),
		T(test_workdays__missing_calendar_is_an_io_error),
		T(test_workdays__add_keeps_the_calendar_sorted),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
