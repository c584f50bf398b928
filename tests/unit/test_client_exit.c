/*
 * test_client_exit.c — client/exit.c: the one mapping from a PPX_E* code
 * to the exit status of ppx (docs/ppx.1), which the scenarios check
 * through the commands: 0 success, 1 a "no" answer, 2 a usage error,
 * 3 what was asked for cannot be read or reached.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <cmocka.h>

#include "../../client/client.h"
#include "ppx/error.h"

static void test_client_exit__success_is_zero(void **state)
{
	(void)state;
	assert_int_equal(ppx_exit_code(PPX_OK), 0);
	assert_int_equal(PPX_EXIT_OK, 0);
}

static void test_client_exit__invalid_is_a_usage_error(void **state)
{
	(void)state;
	assert_int_equal(ppx_exit_code(PPX_EINVAL), PPX_EXIT_USAGE);
	assert_int_equal(PPX_EXIT_USAGE, 2);
}

static void test_client_exit__refusals_answer_no(void **state)
{
	static const int refusals[] = {
		PPX_ETOOBIG, PPX_EBADSIG, PPX_EPOLICY, PPX_EBODY,
		PPX_ENOTRECIPIENT, PPX_EQUOTA, PPX_EBUSY,
		PPX_EPERSON_REQUIRED, PPX_EBADPERSON, PPX_ENOTLISTED,
		PPX_ESTALE, PPX_EBADDIR,
	};

	(void)state;
	for (size_t i = 0; i < sizeof(refusals) / sizeof(refusals[0]); i++)
		assert_int_equal(ppx_exit_code(refusals[i]), PPX_EXIT_NO);
	assert_int_equal(PPX_EXIT_NO, 1);
}

/* What ctl_open and ctl_recv return when ppxd is not there, and every
 * other failure, leaves what was asked for unavailable. */
static void test_client_exit__other_failures_are_unavailable(void **state)
{
	static const int others[] = {
		PPX_EIO, PPX_ENOMEM, PPX_ENOTFOUND, PPX_EPERM, PPX_ECORRUPT,
		PPX_ERANGE, PPX_EAGAIN, -19, -46, -1000,
	};

	(void)state;
	for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++)
		assert_int_equal(ppx_exit_code(others[i]),
				 PPX_EXIT_UNAVAILABLE);
	assert_int_equal(PPX_EXIT_UNAVAILABLE, 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_client_exit__success_is_zero),
		cmocka_unit_test(test_client_exit__invalid_is_a_usage_error),
		cmocka_unit_test(test_client_exit__refusals_answer_no),
		cmocka_unit_test(
			test_client_exit__other_failures_are_unavailable),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
