/*
 * test_lock.c — one writer per log (daemon/lock.c): the lock file is
 * created 0600 with the holder's pid; a second taker is refused, naming
 * that pid; once released, it can be taken again.  flock() locks an open
 * file description, so two takes in one process conflict as two
 * processes would.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../daemon/lock.h"
#include "ppx/error.h"

static int setup(void **state)
{
	char *dir = strdup("/tmp/ppx-lock-XXXXXX");

	assert_non_null(dir);
	assert_non_null(mkdtemp(dir));
	*state = dir;
	return 0;
}

static int teardown(void **state)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/log/ppxd.lock", (char *)*state);
	unlink(path);
	snprintf(path, sizeof(path), "%s/log", (char *)*state);
	rmdir(path);
	rmdir(*state);
	free(*state);
	return 0;
}

static void test_lock__second_taker_refused_with_holder_pid(void **state)
{
	char dir[256], want[320], lockfile[300];
	int a = -1, b = -1;
	struct stat st;

	snprintf(dir, sizeof(dir), "%s/log", (char *)*state);
	snprintf(lockfile, sizeof(lockfile), "%s/ppxd.lock", dir);
	assert_int_equal(lock_take(&a, dir), 0);
	assert_true(a >= 0);
	assert_int_equal(stat(lockfile, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(lock_holder(dir), (long)getpid());

	assert_int_equal(lock_take(&b, dir), PPX_EIO);
	assert_int_equal(b, -1);
	snprintf(want, sizeof(want), "log %s is in use by another ppxd (pid %ld)",
		 dir, (long)getpid());
	assert_string_equal(ppx_error_last(), want);

	lock_release(&a);
	assert_int_equal(a, -1);
	assert_int_equal(lock_take(&b, dir), 0);
	lock_release(&b);
	lock_release(&b);	/* -1: a no-op */
}

static void test_lock__holder_of_garbage_is_zero(void **state)
{
	char dir[256], lockfile[300];
	FILE *f;

	snprintf(dir, sizeof(dir), "%s/log", (char *)*state);
	snprintf(lockfile, sizeof(lockfile), "%s/ppxd.lock", dir);
	assert_int_equal(mkdir(dir, 0700), 0);
	assert_non_null(f = fopen(lockfile, "w"));
	fputs("not a pid\n", f);
	fclose(f);
	assert_int_equal(lock_holder(dir), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_lock__second_taker_refused_with_holder_pid, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_lock__holder_of_garbage_is_zero, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
