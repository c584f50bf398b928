/*
 * test_client_ctl.c — client/ctl.c returns PPX_E* codes, not exit
 * statuses: a configuration that does not load is PPX_EINVAL (which
 * ppx_exit_code() makes the usage error, 2, that `ppx status` and `ppx
 * send` have always exited with for it).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../../client/client.h"
#include "ppx/error.h"

static void test_client_ctl__missing_config_is_invalid(void **state)
{
	struct ctl c;

	(void)state;
	ppx_error_clear();
	assert_int_equal(ctl_open(&c, "/nonexistent/ppx-test/ppxd.conf", 100),
			 PPX_EINVAL);
	assert_null(c.cfg);
	assert_null(c.sock);
	assert_int_equal(ppx_exit_code(PPX_EINVAL), PPX_EXIT_USAGE);
	assert_non_null(strstr(ppx_error_last(), "/nonexistent/ppx-test"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_client_ctl__missing_config_is_invalid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
