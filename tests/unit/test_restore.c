/*
 * test_restore.c — the copy ppx backup takes and ppx restore puts back
 * (lib/logstore_copy.c, the file mode of ppx_log_open): one committed
 * state of the log, compacted, read back as a log without a lock file,
 * checked like one, and refused when damaged.
 *
 * Each test copies a log of notes in its own mkdtemp directory.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "ppx/checkpoint.h"
#include "ppx/error.h"
#include "ppx/logstore.h"
#include "support.h"

struct fx {
	char *root;
	char dir[256], copy[256];
	ppx_log *log;
};

static void append_note(ppx_log *log, int i)
{
	Ppx__V1__LogEntry e = PPX__V1__LOG_ENTRY__INIT;
	char text[32];

	snprintf(text, sizeof(text), "note %d", i);
	e.kind = PPX__V1__ENTRY_KIND__ENTRY_NOTE;
	e.data.data = (uint8_t *)text;
	e.data.len = strlen(text);
	assert_int_equal(ppx_log_append_one(log, &e, NULL), 0);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->root = tmpdir_new();
	snprintf(f->dir, sizeof(f->dir), "%s/log", f->root);
	snprintf(f->copy, sizeof(f->copy), "%s/copy.ppxlog", f->root);
	assert_int_equal(ppx_log_open(&f->log, f->dir, NULL), 0);
	for (int i = 0; i < 300; i++)
		append_note(f->log, i);
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

static void copy_to(struct fx *f)
{
	int fd = open(f->copy, O_WRONLY | O_CREAT | O_EXCL, 0600);

	assert_true(fd >= 0);
	assert_int_equal(ppx_log_copy_fd(f->log, fd), 0);
	close(fd);
}

static void test_restore__copy_holds_the_log_and_reads_as_one(void **state)
{
	struct fx *f = *state;
	ppx_log_options ro = {.flags = PPX_LOG_READONLY};
	ppx_hash want, got;
	ppx_log *c = NULL;
	struct stat st;
	char lock[300];

	copy_to(f);
	assert_int_equal(ppx_log_open(&c, f->copy, &ro), 0);
	assert_int_equal(ppx_log_size(c), 300);
	assert_int_equal(ppx_log_root(f->log, 300, want), 0);
	assert_int_equal(ppx_log_root(c, 300, got), 0);
	assert_memory_equal(want, got, sizeof(want));
	ppx_log_close(c);
	snprintf(lock, sizeof(lock), "%s-lock", f->copy);
	assert_int_not_equal(stat(lock, &st), 0);	/* no lock file */
}

/* The copy, into a pipe, in a thread of its own: it blocks on the full
 * pipe, holding its read transaction, until the test drains it. */
struct copier {
	ppx_log *log;
	int fd, rc, done;
};

static void *copier_run(void *arg)
{
	struct copier *c = arg;

	c->rc = ppx_log_copy_fd(c->log, c->fd);
	close(c->fd);
	__atomic_store_n(&c->done, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

static void test_restore__copy_is_the_state_at_its_start(void **state)
{
	struct fx *f = *state;
	ppx_log_options ro = {.flags = PPX_LOG_READONLY};
	struct copier cp = {.log = f->log};
	ppx_log *c = NULL;
	char buf[4096];
	pthread_t t;
	int fds[2], out;
	ssize_t n;

	assert_int_equal(pipe(fds), 0);
	fcntl(fds[1], F_SETPIPE_SZ, 4096);	/* the copy soon waits */
	cp.fd = fds[1];
	assert_int_equal(pthread_create(&t, NULL, copier_run, &cp), 0);
	/* The first bytes: the copy has begun, its state taken. */
	out = open(f->copy, O_WRONLY | O_CREAT | O_EXCL, 0600);
	assert_true(out >= 0);
	assert_true((n = read(fds[0], buf, sizeof(buf))) > 0);
	assert_int_equal(write(out, buf, (size_t)n), n);
	/* Appended while the copy runs, blocked on the pipe. */
	for (int i = 300; i < 400; i++)
		append_note(f->log, i);
	assert_int_equal(ppx_log_size(f->log), 400);
	/* Still copying: the log's copy is larger than the pipe and the
	 * block read from it. */
	assert_int_equal(__atomic_load_n(&cp.done, __ATOMIC_SEQ_CST), 0);
	while ((n = read(fds[0], buf, sizeof(buf))) > 0)
		assert_int_equal(write(out, buf, (size_t)n), n);
	close(fds[0]);
	close(out);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(cp.rc, 0);
	assert_int_equal(ppx_log_open(&c, f->copy, &ro), 0);
	assert_int_equal(ppx_log_size(c), 300);	/* exactly its start */
	ppx_log_close(c);
}

static void test_restore__copy_verifies_like_a_log(void **state)
{
	struct fx *f = *state;
	ppx_verify_report r;

	copy_to(f);
	assert_int_equal(ppx_log_check_dir(&r, f->copy, NULL), 0);
	assert_true(r.ok);
	assert_int_equal(r.entries, 300);
}

static void test_restore__truncated_copy_is_refused(void **state)
{
	struct fx *f = *state;
	ppx_verify_report r;
	struct stat st;

	copy_to(f);
	assert_int_equal(stat(f->copy, &st), 0);
	assert_int_equal(truncate(f->copy, st.st_size / 2), 0);
	assert_int_equal(ppx_log_check_dir(&r, f->copy, NULL), PPX_ECORRUPT);
}

static void test_restore__copy_is_only_read(void **state)
{
	struct fx *f = *state;
	ppx_log *c = NULL;

	copy_to(f);
	assert_int_not_equal(ppx_log_open(&c, f->copy, NULL), 0);
	assert_null(c);
}

static void test_restore__copy_refused_while_a_batch_is_open(void **state)
{
	struct fx *f = *state;
	ppx_log_batch *b = NULL;
	int fd = open(f->copy, O_WRONLY | O_CREAT | O_EXCL, 0600);

	assert_true(fd >= 0);
	assert_int_equal(ppx_log_begin(&b, f->log), 0);
	assert_int_equal(ppx_log_copy_fd(f->log, fd), PPX_EINVAL);
	ppx_log_abort(b);
	close(fd);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_restore__copy_holds_the_log_and_reads_as_one),
		T(test_restore__copy_is_the_state_at_its_start),
		T(test_restore__copy_verifies_like_a_log),
		T(test_restore__truncated_copy_is_refused),
		T(test_restore__copy_is_only_read),
		T(test_restore__copy_refused_while_a_batch_is_open),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
