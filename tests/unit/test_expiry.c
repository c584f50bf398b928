/*
 * test_expiry.c — the levels of daemon/expiry.c: a certificate warns 90,
 * 30 and 7 days before its notAfter and once expired; the CRL 3 days and
 * 1 day before its nextUpdate and once passed.  The edges are inclusive
 * (exactly 90 days left is within the 90-day level).  Time is passed in.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <cmocka.h>

#include "../../daemon/expiry.h"

#define T0 1800000000000LL	/* some Unix time in ms */
#define DAY EXPIRY_DAY_MS

static void test_expiry__cert_levels_at_90_30_7_days(void **state)
{
	(void)state;
	assert_int_equal(expiry_level(T0 + 120 * DAY, T0), 0);
	assert_int_equal(expiry_level(T0 + 90 * DAY + 1, T0), 0);
	assert_int_equal(expiry_level(T0 + 90 * DAY, T0), 90);
	assert_int_equal(expiry_level(T0 + 31 * DAY, T0), 90);
	assert_int_equal(expiry_level(T0 + 30 * DAY, T0), 30);
	assert_int_equal(expiry_level(T0 + 7 * DAY + 1, T0), 30);
	assert_int_equal(expiry_level(T0 + 7 * DAY, T0), 7);
	assert_int_equal(expiry_level(T0 + 1, T0), 7);
}

static void test_expiry__cert_expired_is_minus_one(void **state)
{
	(void)state;
	assert_int_equal(expiry_level(T0, T0), -1);
	assert_int_equal(expiry_level(T0 - 400 * DAY, T0), -1);
}

static void test_expiry__no_date_no_warning(void **state)
{
	(void)state;
	assert_int_equal(expiry_level(0, T0), 0);
	assert_int_equal(expiry_crl_level(0, T0), 0);
}

static void test_expiry__crl_levels_at_3_and_1_day(void **state)
{
	(void)state;
	/* A weekly CRL, just issued: no warning. */
	assert_int_equal(expiry_crl_level(T0 + 7 * DAY, T0), 0);
	assert_int_equal(expiry_crl_level(T0 + 3 * DAY + 1, T0), 0);
	assert_int_equal(expiry_crl_level(T0 + 3 * DAY, T0), 3);
	assert_int_equal(expiry_crl_level(T0 + DAY + 1, T0), 3);
	assert_int_equal(expiry_crl_level(T0 + DAY, T0), 1);
	assert_int_equal(expiry_crl_level(T0 + 1, T0), 1);
	assert_int_equal(expiry_crl_level(T0, T0), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_expiry__cert_levels_at_90_30_7_days),
		cmocka_unit_test(test_expiry__cert_expired_is_minus_one),
		cmocka_unit_test(test_expiry__no_date_no_warning),
		cmocka_unit_test(test_expiry__crl_levels_at_3_and_1_day),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
