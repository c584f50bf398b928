/*
 * test_file.c — whole small files: read with a cap (missing, too big,
 * not a regular file, empty, NUL-terminated) and written atomically with
 * the mode asked for, replacing what was there and never following a
 * link left at the temporary name.
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

#include "ppx/error.h"
#include "ppx/file.h"
#include "support.h"

static void test_file__written_then_read_back(void **state)
{
	char *dir = tmpdir_new(), path[512];
	uint8_t *buf = NULL;
	size_t len = 0;
	struct stat st;

	(void)state;
	snprintf(path, sizeof(path), "%s/doc", dir);
	assert_int_equal(ppx_file_write_atomic(path, (const uint8_t *)"old",
					       3, 0600), 0);
	assert_int_equal(ppx_file_write_atomic(path, (const uint8_t *)"newer",
					       5, 0644), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0644);
	assert_int_equal(ppx_file_read(&buf, &len, path, 5), 0);
	assert_int_equal(len, 5);
	assert_memory_equal(buf, "newer", 5);
	assert_int_equal(buf[5], '\0');
	free(buf);
	tmpdir_remove(dir);
}

static void test_file__read_refusals(void **state)
{
	char *dir = tmpdir_new(), path[512];
	uint8_t *buf = NULL;
	size_t len = 7;

	(void)state;
	snprintf(path, sizeof(path), "%s/missing", dir);
	assert_int_equal(ppx_file_read(&buf, &len, path, 10), PPX_ENOTFOUND);
	assert_null(buf);
	assert_int_equal(len, 0);
	assert_int_equal(ppx_file_read(&buf, &len, dir, 10), PPX_EIO);
	assert_non_null(strstr(ppx_error_last(), "not a regular file"));
	snprintf(path, sizeof(path), "%s/big", dir);
	assert_int_equal(ppx_file_write_atomic(path, (const uint8_t *)"12345",
					       5, 0600), 0);
	assert_int_equal(ppx_file_read(&buf, &len, path, 4), PPX_ETOOBIG);
	assert_null(buf);
	snprintf(path, sizeof(path), "%s/empty", dir);
	assert_int_equal(ppx_file_write_atomic(path, NULL, 0, 0600), 0);
	assert_int_equal(ppx_file_read(&buf, &len, path, 4), 0);
	assert_int_equal(len, 0);
	assert_int_equal(buf[0], '\0');
	free(buf);
	tmpdir_remove(dir);
}

/* A link planted at PATH.tmp is not written through. */
static void test_file__temporary_link_is_not_followed(void **state)
{
	char *dir = tmpdir_new(), path[512], tmp[600], victim[512];
	uint8_t *buf = NULL;
	size_t len = 0;

	(void)state;
	snprintf(path, sizeof(path), "%s/doc", dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	snprintf(victim, sizeof(victim), "%s/victim", dir);
	assert_int_equal(ppx_file_write_atomic(victim, (const uint8_t *)"v", 1,
					       0600), 0);
	assert_int_equal(symlink(victim, tmp), 0);
	assert_int_equal(ppx_file_write_atomic(path, (const uint8_t *)"x", 1,
					       0600), PPX_EIO);
	assert_int_equal(ppx_file_read(&buf, &len, victim, 4), 0);
	assert_memory_equal(buf, "v", 1);
	free(buf);
	tmpdir_remove(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_file__written_then_read_back),
		cmocka_unit_test(test_file__read_refusals),
		cmocka_unit_test(test_file__temporary_link_is_not_followed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
