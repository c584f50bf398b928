/*
 * test_logstore_cursor.c — named cursors into the log (the hooks'
 * positions, lib/logstore_cursor.c): set only in a batch, durable exactly
 * when the batch commits, kept through map growth and its replay, and
 * readable by a read-only open.
 */
#include <ftw.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ppx/error.h"
#include "ppx/logstore.h"
#include "support.h"

struct fx {
	char *root;		/* from tmpdir_new() */
	char dir[128];		/* root/log, created by ppx_log_open */
	ppx_log *log;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->root = tmpdir_new();
	snprintf(f->dir, sizeof(f->dir), "%s/log", f->root);
	assert_int_equal(ppx_log_open(&f->log, f->dir, NULL), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	ppx_log_close(f->log);
	tmpdir_remove(f->root);
	free(f);
	return 0;
}

static void reopen(struct fx *f, const ppx_log_options *o)
{
	ppx_log_close(f->log);
	f->log = NULL;
	assert_int_equal(ppx_log_open(&f->log, f->dir, o), 0);
}

/* Appends n notes of `size` bytes to batch b. */
static void append_notes(ppx_log_batch *b, int n, size_t size)
{
	char *data = malloc(size + 1);

	assert_non_null(data);
	memset(data, 'x', size);
	data[size] = '\0';
	for (int i = 0; i < n; i++) {
		Ppx__V1__LogEntry e = PPX__V1__LOG_ENTRY__INIT;

		e.kind = PPX__V1__ENTRY_KIND__ENTRY_NOTE;
		e.data.data = (uint8_t *)data;
		e.data.len = size;
		assert_int_equal(ppx_log_append(b, &e, NULL), 0);
	}
	free(data);
}

static uint64_t cursor(ppx_log *log, const char *name)
{
	uint64_t v = UINT64_MAX;

	assert_int_equal(ppx_log_cursor_get(log, name, &v), 0);
	return v;
}

static void test_logstore_cursor__unset_is_not_found(void **state)
{
	struct fx *f = *state;
	uint64_t v = 7;

	assert_int_equal(ppx_log_cursor_get(f->log, "hook/sink", &v),
			 PPX_ENOTFOUND);
	assert_int_equal(v, 7);
}

static void test_logstore_cursor__set_commits_with_its_batch(void **state)
{
	struct fx *f = *state;
	ppx_log_batch *b;

	assert_int_equal(ppx_log_begin(&b, f->log), 0);
	append_notes(b, 3, 10);
	assert_int_equal(ppx_log_cursor_set(b, "hook/sink", 2), 0);
	assert_int_equal(ppx_log_cursor_set(b, "hook/other", 3), 0);
	/* The batch sees its own value; the last set wins. */
	assert_int_equal(cursor(f->log, "hook/sink"), 2);
	assert_int_equal(ppx_log_cursor_set(b, "hook/sink", 1), 0);
	assert_int_equal(cursor(f->log, "hook/sink"), 1);
	assert_int_equal(ppx_log_commit(b), 0);
	reopen(f, NULL);
	assert_int_equal(cursor(f->log, "hook/sink"), 1);
	assert_int_equal(cursor(f->log, "hook/other"), 3);
}

static void test_logstore_cursor__abort_keeps_the_old_value(void **state)
{
	struct fx *f = *state;
	ppx_log_batch *b;

	assert_int_equal(ppx_log_begin(&b, f->log), 0);
	append_notes(b, 2, 10);
	assert_int_equal(ppx_log_cursor_set(b, "hook/sink", 1), 0);
	assert_int_equal(ppx_log_commit(b), 0);
	assert_int_equal(ppx_log_begin(&b, f->log), 0);
	assert_int_equal(ppx_log_cursor_set(b, "hook/sink", 2), 0);
	ppx_log_abort(b);
	assert_int_equal(cursor(f->log, "hook/sink"), 1);
}

static void test_logstore_cursor__not_beyond_the_end(void **state)
{
	struct fx *f = *state;
	ppx_log_batch *b;

	assert_int_equal(ppx_log_begin(&b, f->log), 0);
	append_notes(b, 2, 10);
	/* The end of the log and the batch is as far as it goes. */
	assert_int_equal(ppx_log_cursor_set(b, "hook/sink", 2), 0);
	assert_int_equal(ppx_log_cursor_set(b, "hook/sink", 3), PPX_ERANGE);
	assert_int_equal(ppx_log_commit(b), 0);
	assert_int_equal(cursor(f->log, "hook/sink"), 2);
}

static void test_logstore_cursor__bad_names_are_refused(void **state)
{
	struct fx *f = *state;
	ppx_log_batch *b;
	char longname[PPX_LOG_CURSOR_NAME_MAX + 2];
	uint64_t v;

	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	assert_int_equal(ppx_log_begin(&b, f->log), 0);
	assert_int_equal(ppx_log_cursor_set(b, "", 0), PPX_EINVAL);
	assert_int_equal(ppx_log_cursor_set(b, "a b", 0), PPX_EINVAL);
	assert_int_equal(ppx_log_cursor_set(b, "a\n", 0), PPX_EINVAL);
	assert_int_equal(ppx_log_cursor_set(b, longname, 0), PPX_EINVAL);
	longname[PPX_LOG_CURSOR_NAME_MAX] = '\0';
	assert_int_equal(ppx_log_cursor_set(b, longname, 0), 0);
	assert_int_equal(ppx_log_cursor_set(NULL, "x", 0), PPX_EINVAL);
	assert_int_equal(ppx_log_commit(b), 0);
	assert_int_equal(ppx_log_cursor_get(f->log, NULL, &v), PPX_EINVAL);
}

/* A batch that must grow the map several times is replayed each time:
 * the cursor set before the growth is in the commit. */
static void test_logstore_cursor__kept_through_map_growth(void **state)
{
	struct fx *f = *state;
	ppx_log_options o = {.map_size = 64 << 10};
	ppx_log_batch *b;

	ppx_log_close(f->log);
	f->log = NULL;
	tmpdir_clear(f->dir);
	assert_int_equal(ppx_log_open(&f->log, f->dir, &o), 0);
	assert_int_equal(ppx_log_begin(&b, f->log), 0);
	append_notes(b, 1, 10);
	assert_int_equal(ppx_log_cursor_set(b, "hook/early", 1), 0);
	append_notes(b, 300, 2048);
	assert_int_equal(ppx_log_cursor_set(b, "hook/late", 301), 0);
	assert_int_equal(ppx_log_commit(b), 0);
	assert_true(ppx_log_map_size(f->log) > (64 << 10));
	reopen(f, NULL);
	assert_int_equal(ppx_log_size(f->log), 301);
	assert_int_equal(cursor(f->log, "hook/early"), 1);
	assert_int_equal(cursor(f->log, "hook/late"), 301);
}

static void test_logstore_cursor__read_only_open_reads_it(void **state)
{
	struct fx *f = *state;
	ppx_log_options ro = {.flags = PPX_LOG_READONLY};
	ppx_log_batch *b;
	ppx_log *r;
	uint64_t v = 0;

	assert_int_equal(ppx_log_begin(&b, f->log), 0);
	append_notes(b, 5, 10);
	assert_int_equal(ppx_log_cursor_set(b, "hook/sink", 4), 0);
	assert_int_equal(ppx_log_commit(b), 0);
	assert_int_equal(ppx_log_open(&r, f->dir, &ro), 0);
	assert_int_equal(ppx_log_cursor_get(r, "hook/sink", &v), 0);
	assert_int_equal(v, 4);
	ppx_log_close(r);
}

/* Marks: a set of seqs with values, listed in seq order, changed only
 * with a batch; one set's marks never show in another's (a name that is
 * a prefix of another's included). */
static void test_logstore_mark__sets_list_in_order_and_commit(void **state)
{
	struct fx *f = *state;
	struct ppx_log_mark *m = NULL;
	ppx_log_batch *b;
	size_t n = 9;

	assert_int_equal(ppx_log_mark_list(f->log, "hook/a", &m, &n, 100), 0);
	assert_int_equal(n, 0);
	assert_null(m);
	assert_int_equal(ppx_log_begin(&b, f->log), 0);
	append_notes(b, 300, 10);
	assert_int_equal(ppx_log_mark_put(b, "hook/a", 260, 7), 0);
	assert_int_equal(ppx_log_mark_put(b, "hook/a", 3, 5), 0);
	assert_int_equal(ppx_log_mark_put(b, "hook/ab", 4, 1), 0);
	assert_int_equal(ppx_log_mark_put(b, "hook/a", 299, 8), 0);
	assert_int_equal(ppx_log_mark_put(b, "hook/a", 300, 8), PPX_ERANGE);
	assert_int_equal(ppx_log_commit(b), 0);
	reopen(f, NULL);
	assert_int_equal(ppx_log_mark_list(f->log, "hook/a", &m, &n, 100), 0);
	assert_int_equal(n, 3);
	assert_int_equal(m[0].seq, 3);
	assert_int_equal(m[0].value, 5);
	assert_int_equal(m[1].seq, 260);
	assert_int_equal(m[2].seq, 299);
	free(m);
	assert_int_equal(ppx_log_mark_list(f->log, "hook/a", &m, &n, 2), 0);
	assert_int_equal(n, 2);
	free(m);
	/* Removed in a batch that aborts: still there; one that commits:
	 * gone, and removing what is not there is no change. */
	assert_int_equal(ppx_log_begin(&b, f->log), 0);
	assert_int_equal(ppx_log_mark_del(b, "hook/a", 3), 0);
	ppx_log_abort(b);
	assert_int_equal(ppx_log_begin(&b, f->log), 0);
	assert_int_equal(ppx_log_mark_del(b, "hook/a", 3), 0);
	assert_int_equal(ppx_log_mark_del(b, "hook/a", 4), 0);
	assert_int_equal(ppx_log_mark_put(b, "hook/a", 260, 9), 0);
	assert_int_equal(ppx_log_commit(b), 0);
	assert_int_equal(ppx_log_mark_list(f->log, "hook/a", &m, &n, 100), 0);
	assert_int_equal(n, 2);
	assert_int_equal(m[0].seq, 260);
	assert_int_equal(m[0].value, 9);
	free(m);
	assert_int_equal(ppx_log_mark_list(f->log, "hook/ab", &m, &n, 100), 0);
	assert_int_equal(n, 1);
	assert_int_equal(m[0].seq, 4);
	free(m);
	assert_int_equal(ppx_log_mark_list(f->log, "bad name", &m, &n, 9),
			 PPX_EINVAL);
}

/* The newest mark of a set is found past any number of older ones, and
 * never one of a set whose name it is a prefix of, before or after it. */
static void test_logstore_mark__newest_past_many(void **state)
{
	struct fx *f = *state;
	struct ppx_log_mark m = {0};
	ppx_log_batch *b;

	assert_int_equal(ppx_log_mark_newest(f->log, "partner/a", &m),
			 PPX_ENOTFOUND);
	assert_int_equal(ppx_log_begin(&b, f->log), 0);
	append_notes(b, 400, 10);
	for (uint64_t s = 0; s < 300; s++)
		assert_int_equal(ppx_log_mark_put(b, "partner/a", s, 1000 + s),
				 0);
	assert_int_equal(ppx_log_mark_put(b, "partner/ab", 399, 1), 0);
	assert_int_equal(ppx_log_mark_put(b, "partner/", 350, 2), 0);
	assert_int_equal(ppx_log_commit(b), 0);
	assert_int_equal(ppx_log_mark_newest(f->log, "partner/a", &m), 0);
	assert_int_equal(m.seq, 299);
	assert_int_equal(m.value, 1299);
	assert_int_equal(ppx_log_mark_newest(f->log, "partner/ab", &m), 0);
	assert_int_equal(m.seq, 399);
	assert_int_equal(ppx_log_mark_newest(f->log, "partner/b", &m),
			 PPX_ENOTFOUND);
	assert_int_equal(ppx_log_mark_newest(f->log, "bad name", &m),
			 PPX_EINVAL);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_logstore_cursor__unset_is_not_found),
		T(test_logstore_cursor__set_commits_with_its_batch),
		T(test_logstore_cursor__abort_keeps_the_old_value),
		T(test_logstore_cursor__not_beyond_the_end),
		T(test_logstore_cursor__bad_names_are_refused),
		T(test_logstore_cursor__kept_through_map_growth),
		T(test_logstore_cursor__read_only_open_reads_it),
		T(test_logstore_mark__sets_list_in_order_and_commit),
		T(test_logstore_mark__newest_past_many),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
