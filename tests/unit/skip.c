/*
 * skip.c — PPX_TEST_SKIP=pattern leaves out of every unit test program the
 * tests whose names match the cmocka glob `pattern` (e.g.
 * "*every_single_byte_change*").  tests/run-tests sets it under valgrind
 * for the few exhaustive tests that would take an hour there; they still
 * run natively and under SAN=1.
 *
 * Linked into every program that links the unit-test helpers; it runs
 * before main() so that no test program has to know about it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>

#include <cmocka.h>

static void skip_from_env(void) __attribute__((constructor));

static void skip_from_env(void)
{
	const char *pattern = getenv("PPX_TEST_SKIP");

	if (pattern && *pattern)
		cmocka_set_skip_filter(pattern);
}
