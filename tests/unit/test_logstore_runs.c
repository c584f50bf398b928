/*
 * test_logstore_runs.c — the indexes as runs (format 2, PROTOCOL.md 6.2):
 * lookups that span young, sealed and merging runs answer as one index
 * would; a merge spread over many commits; a crash in the middle of a
 * merge's commit, and in the middle of the move from format 1, leaves the
 * last commit; and a log written by the format-1 code
 * (tests/fixtures/log-format1, made by make_log.c there) opens, checks,
 * moves to runs, answers as before and takes appends.
 *
 * Logs are opened with tiny runs (a young run of 8 entries, merges of 64
 * records per index and commit) so that a few hundred entries go through
 * many seals and merges.  The list of runs is read from meta "runs"
 * directly, as PROTOCOL.md 6.2 lays it out.  A crash is a SIGKILL of a
 * child at its first fdatasync(2) in LMDB's commit, after the commit's
 * pages were written and before the meta page that makes them the log's:
 * this file's fdatasync() takes the place of libc's.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <lmdb.h>

#include "ppx/checkpoint.h"
#include "ppx/error.h"
#include "ppx/logstore.h"
#include "support.h"

#define KIND(k) PPX__V1__ENTRY_KIND__ENTRY_##k
#define SUBJECTS 5
#define FIXTURE "tests/fixtures/log-format1/data.mdb"

static const ppx_log_options tiny = {.run_entries = 8, .run_slice = 64};

/* ---- a crash at the commit's first sync ------------------------------- */

static volatile int crash_at_sync;

int fdatasync(int fd);
int fdatasync(int fd)
{
	if (crash_at_sync)
		raise(SIGKILL);
	return (int)syscall(SYS_fdatasync, fd);
}

/* ---- fixture ---------------------------------------------------------- */

struct fx {
	char *root;
	char dir[128];
	ppx_log *log;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->root = tmpdir_new();
	snprintf(f->dir, sizeof(f->dir), "%s/log", f->root);
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

/* ---- the list of runs, read as PROTOCOL.md 6.2 lays it out ----------- */

struct listing {
	unsigned format;
	unsigned nsealed, ndrop;
	int merging;
	uint64_t young_from;
};

static uint64_t be(const uint8_t *p, int n)
{
	uint64_t v = 0;

	for (int i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

/* Reads meta "format" and "runs" of the log in dir (not open here). */
static struct listing peek(const char *dir)
{
	struct listing l = {0};
	MDB_val k = {6, "format"}, v;
	const uint8_t *p;
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi meta;

	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 16), 0);
	assert_int_equal(mdb_env_open(env, dir, MDB_RDONLY, 0600), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, "meta", 0, &meta), 0);
	assert_int_equal(mdb_get(txn, meta, &k, &v), 0);
	l.format = (unsigned)be(v.mv_data, 4);
	k = (MDB_val){4, "runs"};
	if (mdb_get(txn, meta, &k, &v) == 0) {
		p = v.mv_data;
		l.young_from = be(p + 4, 8);
		l.nsealed = p[20];
		p += 21 + 20 * l.nsealed;
		l.ndrop = p[0];
		l.merging = p[1 + 4 * l.ndrop];
	}
	mdb_txn_abort(txn);
	mdb_env_close(env);
	return l;
}

/* The indexes agree with the entries (the check ppxd runs at start). */
static void assert_indexes_ok(const char *dir)
{
	ppx_verify_report r;

	assert_int_equal(ppx_log_check_dir(&r, dir, NULL), 0);
	if (!r.ok)
		fail_msg("entry %llu: %s", (unsigned long long)r.first_bad,
			 r.reason);
}

/* ---- entries and what the indexes should answer ----------------------- */

/* Entry i: a message received from prison.cardiff, id "msg-<i>" padded
 * to 16 bytes, about subject i % SUBJECTS, naming message i / 2 as
 * related (so that an id's entries spread over runs). */
static void msg_id(uint8_t id[16], uint64_t i)
{
	char text[32];

	snprintf(text, sizeof(text), "msg-%012llu",
		 (unsigned long long)(i % 1000000));
	memcpy(id, text, 16);
}

static void append_received(ppx_log_batch *b, uint64_t i)
{
	Ppx__V1__LogEntry e = PPX__V1__LOG_ENTRY__INIT;
	uint8_t id[16], rel[16];
	ProtobufCBinaryData related = {16, rel};
	char subject[32], *keys[] = {subject};
	uint64_t seq;

	msg_id(id, i);
	msg_id(rel, i / 2);
	/* Entries from 1000 on (appended to the format-1 fixture) are about
	 * subjects of their own. */
	snprintf(subject, sizeof(subject), "crn:%c%06d", i < 1000 ? 'X' : 'Z',
		 (int)(i % SUBJECTS));
	e.kind = KIND(RECEIVED);
	e.peer_agency = (char *)"prison.cardiff";
	e.message_id = (ProtobufCBinaryData){16, id};
	e.related_ids = &related;
	e.n_related_ids = i > 0;
	e.subject_keys = keys;
	e.n_subject_keys = 1;
	assert_int_equal(ppx_log_append(b, &e, &seq), 0);
}

/* Appends entries [from, to) in one commit. */
static void commit_range(ppx_log *log, uint64_t from, uint64_t to)
{
	ppx_log_batch *b;

	assert_int_equal(ppx_log_begin(&b, log), 0);
	for (uint64_t i = from; i < to; i++)
		append_received(b, i);
	assert_int_equal(ppx_log_commit(b), 0);
}

/* Every lookup of the first n entries (appended by append_received, seq
 * = i) answers as one index would. */
static void assert_answers(ppx_log *log, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++) {
		uint8_t id[16];
		uint64_t *seqs, seq = UINT64_MAX;
		size_t got;

		msg_id(id, i);
		assert_int_equal(ppx_log_find(log, KIND(RECEIVED),
					      "prison.cardiff", id, 16, &seq),
				 0);
		assert_int_equal(seq, i);
		/* Entry i itself, then 2i and 2i + 1, which name it. */
		assert_int_equal(ppx_log_by_message(log, id, 16, &seqs, &got,
						    10), 0);
		assert_int_equal(got, 1 + (2 * i < n && i > 0) +
					      (2 * i + 1 < n));
		assert_int_equal(seqs[0], i);
		if (got > 1)
			assert_int_equal(seqs[1], i > 0 ? 2 * i : 2 * i + 1);
		free(seqs);
	}
	for (int s = 0; s < SUBJECTS && (uint64_t)s < n; s++) {
		char subject[32];
		uint64_t *seqs;
		size_t got;

		snprintf(subject, sizeof(subject), "crn:X%06d", s);
		assert_int_equal(ppx_log_by_subject(log, subject, &seqs, &got,
						    SIZE_MAX), 0);
		assert_int_equal(got, (n - (uint64_t)s + SUBJECTS - 1) /
					      SUBJECTS);
		for (size_t j = 0; j < got; j++)
			assert_int_equal(seqs[j], (uint64_t)s + j * SUBJECTS);
		free(seqs);
	}
}

/* ---- lookups across runs and merges ------------------------------------ */

/* Commits of 1 to 7 entries: after each, every answer is that of one
 * index, duplicates of entries in any run are refused with the original's
 * seq, and the check finds the runs as the entries imply.  Merges are
 * seen under way after a commit and going on after the next. */
static void test_logstore_runs__lookups_answer_across_runs_and_merges(
	void **state)
{
	struct fx *f = *state;
	uint64_t n = 0;
	int merging = 0, spanned = 0, sealed_max = 0;

	for (int c = 0; n < 300; c++) {
		uint64_t to = n + 1 + (uint64_t)(c * 5 % 7);
		struct listing l;

		assert_int_equal(ppx_log_open(&f->log, f->dir, &tiny), 0);
		commit_range(f->log, n, to);
		n = to;
		assert_answers(f->log, n);
		ppx_log_close(f->log);
		f->log = NULL;
		l = peek(f->dir);
		assert_int_equal(l.format, 2);
		spanned += merging && l.merging;
		merging = l.merging;
		if ((int)l.nsealed > sealed_max)
			sealed_max = (int)l.nsealed;
		if (c % 10 == 0)
			assert_indexes_ok(f->dir);
	}
	assert_true(spanned > 0);	/* a merge went on across commits */
	assert_true(sealed_max >= 2);
	assert_true(sealed_max <= 8);	/* merges keep the runs few */
	assert_indexes_ok(f->dir);
	/* Each entry again, in any run, is a duplicate of the first: the
	 * sealed runs' filters (logstore_filter.c) rule none of them out. */
	assert_int_equal(ppx_log_open(&f->log, f->dir, &tiny), 0);
	for (uint64_t i = 0; i < n; i++) {
		ppx_log_batch *b;
		Ppx__V1__LogEntry e = PPX__V1__LOG_ENTRY__INIT;
		uint8_t id[16];
		uint64_t seq = UINT64_MAX;

		msg_id(id, i);
		e.kind = KIND(RECEIVED);
		e.peer_agency = (char *)"prison.cardiff";
		e.message_id = (ProtobufCBinaryData){16, id};
		assert_int_equal(ppx_log_begin(&b, f->log), 0);
		assert_int_equal(ppx_log_append(b, &e, &seq), PPX_EDUP);
		assert_int_equal(seq, i);
		ppx_log_abort(b);
	}
}

/* ids_by_prefix lists an id once however many runs hold it, in order, at
 * most max. */
static void test_logstore_runs__id_prefix_is_listed_once_across_runs(
	void **state)
{
	struct fx *f = *state;
	uint8_t ids[64][PPX_LOG_ID_LEN], want[16];
	size_t n;

	assert_int_equal(ppx_log_open(&f->log, f->dir, &tiny), 0);
	for (uint64_t i = 0; i < 60; i += 3)
		commit_range(f->log, i, i + 3);
	/* "msg-00000000001x": ids 10..19, named by themselves and by the
	 * related ids of entries 20..39, in many runs. */
	assert_int_equal(ppx_log_ids_by_prefix(f->log,
					       (const uint8_t *)"msg-00000000001",
					       30, ids, 64, &n), 0);
	assert_int_equal(n, 10);
	for (size_t i = 0; i < n; i++) {
		msg_id(want, 10 + i);
		assert_memory_equal(ids[i], want, 16);
	}
	assert_int_equal(ppx_log_ids_by_prefix(f->log,
					       (const uint8_t *)"msg-00000000001",
					       30, ids, 3, &n), 0);
	assert_int_equal(n, 3);
	msg_id(want, 12);
	assert_memory_equal(ids[2], want, 16);
}

/* ---- crashes ------------------------------------------------------------ */

/* Runs fn(dir) in a child, which must die of SIGKILL. */
static void crash_in_child(const char *dir, void (*fn)(const char *))
{
	pid_t pid = fork();
	int status;

	assert_true(pid >= 0);
	if (pid == 0) {
		fn(dir);
		_exit(0);	/* it should not get here */
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGKILL);
}

/* Appends 5 more entries to the log in dir, dying in the commit. */
static void append_and_crash(const char *dir)
{
	ppx_log *log;

	if (ppx_log_open(&log, dir, &tiny) != 0)
		_exit(3);
	crash_at_sync = 1;
	commit_range(log, ppx_log_size(log), ppx_log_size(log) + 5);
}

/* Appends 3 entries, reopening the log around a look at its runs: 1 if
 * a merge is under way after them. */
static int merging_after(struct fx *f, uint64_t *n)
{
	commit_range(f->log, *n, *n + 3);
	*n += 3;
	ppx_log_close(f->log);
	f->log = NULL;
	if (!peek(f->dir).merging)
		return 0;
	assert_int_equal(ppx_log_open(&f->log, f->dir, &tiny), 0);
	return 1;
}

/* A crash inside the commit that carries a slice of a merge leaves the
 * commit before: the same entries, the merge where it was, every answer
 * and the check as they were; appending goes on and the merge ends. */
static void test_logstore_runs__crash_mid_merge_leaves_the_last_commit(
	void **state)
{
	struct fx *f = *state;
	uint64_t n = 0;
	struct listing before, after;

	do {
		assert_int_equal(ppx_log_open(&f->log, f->dir, &tiny), 0);
		commit_range(f->log, n, n + 3);
		n += 3;
		ppx_log_close(f->log);
		f->log = NULL;
		before = peek(f->dir);
	} while (!before.merging || n < 40);
	crash_in_child(f->dir, append_and_crash);
	after = peek(f->dir);
	assert_memory_equal(&after, &before, sizeof(before));
	assert_indexes_ok(f->dir);
	assert_int_equal(ppx_log_open(&f->log, f->dir, &tiny), 0);
	assert_int_equal(ppx_log_size(f->log), n);
	assert_answers(f->log, n);
	while (merging_after(f, &n))
		;
	assert_false(peek(f->dir).merging);
	assert_indexes_ok(f->dir);
	assert_int_equal(ppx_log_open(&f->log, f->dir, &tiny), 0);
	assert_answers(f->log, n);
}

/* ---- a log of format 1 -------------------------------------------------- */

/* The fixture (54 entries written by the format-1 code) as data.mdb of
 * the log directory. */
static void copy_fixture(struct fx *f)
{
	char path[256];
	uint8_t buf[65536];
	int in = open(FIXTURE, O_RDONLY), out;
	ssize_t len;

	assert_true(in >= 0);
	assert_int_equal(mkdir(f->dir, 0700), 0);
	snprintf(path, sizeof(path), "%s/data.mdb", f->dir);
	out = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(out >= 0);
	while ((len = read(in, buf, sizeof(buf))) > 0)
		assert_int_equal(write(out, buf, (size_t)len), len);
	assert_int_equal(len, 0);
	close(in);
	close(out);
}

/* Every answer the log gives about its entries, as text: for each entry,
 * find() of its kind, peer and id, and the lists by each of its ids and
 * subject keys, and the ids under the first 4 bytes of each id. */
static char *answers(ppx_log *log)
{
	size_t cap = 1 << 16, len = 0;
	char *text = calloc(1, cap);
	uint64_t size = ppx_log_size(log);

#define SAY(...) \
	(len += (size_t)snprintf(text + len, cap - len, __VA_ARGS__), \
	 assert_true(len < cap))
	for (uint64_t seq = 0; seq < size; seq++) {
		Ppx__V1__LogEntry *e;
		uint8_t prefix_ids[32][PPX_LOG_ID_LEN];
		uint64_t found = UINT64_MAX, *seqs;
		size_t n;

		assert_int_equal(ppx_log_get(log, seq, &e), 0);
		SAY("%llu:", (unsigned long long)seq);
		if (e->message_id.len > 0) {
			SAY(" find=%d", ppx_log_find(log, (int)e->kind,
						     e->peer_agency,
						     e->message_id.data,
						     e->message_id.len,
						     &found));
			SAY("/%llu", (unsigned long long)found);
			assert_int_equal(ppx_log_ids_by_prefix(
						 log, e->message_id.data, 8,
						 prefix_ids, 32, &n), 0);
			SAY(" prefix=%zu", n);
		}
		for (size_t i = 0; i <= e->n_related_ids; i++) {
			ProtobufCBinaryData *id = i == 0 ? &e->message_id
							 : &e->related_ids[i - 1];

			if (id->len == 0)
				continue;
			assert_int_equal(ppx_log_by_message(log, id->data,
							    id->len, &seqs,
							    &n, 100), 0);
			SAY(" id");
			for (size_t j = 0; j < n; j++)
				SAY(",%llu", (unsigned long long)seqs[j]);
			free(seqs);
		}
		for (size_t i = 0; i < e->n_subject_keys; i++) {
			assert_int_equal(ppx_log_by_subject(
						 log, e->subject_keys[i], &seqs,
						 &n, 100), 0);
			SAY(" %s", e->subject_keys[i]);
			for (size_t j = 0; j < n; j++)
				SAY(",%llu", (unsigned long long)seqs[j]);
			free(seqs);
		}
		SAY("\n");
		ppx__v1__log_entry__free_unpacked(e, NULL);
	}
#undef SAY
	return text;
}

/* A log written by the format-1 code: read-only, it is read as it is and
 * checks; a writable open moves it to runs (and says so), after which it
 * answers every lookup as before, checks, refuses a duplicate of an old
 * entry and takes appends, through seals and merges with its old run. */
static void test_logstore_runs__format1_log_opens_checks_moves_appends(
	void **state)
{
	struct fx *f = *state;
	ppx_log_options ro = {.flags = PPX_LOG_READONLY};
	char *before, *after;
	uint64_t seq = UINT64_MAX, size;
	uint64_t cursor;

	copy_fixture(f);
	assert_int_equal(peek(f->dir).format, 1);
	assert_indexes_ok(f->dir);
	assert_int_equal(ppx_log_open(&f->log, f->dir, &ro), 0);
	assert_null(ppx_log_notice(f->log));
	size = ppx_log_size(f->log);
	assert_int_equal(size, 54);
	before = answers(f->log);
	ppx_log_close(f->log);
	assert_int_equal(peek(f->dir).format, 1);	/* read-only: as is */

	assert_int_equal(ppx_log_open(&f->log, f->dir, &tiny), 0);
	assert_non_null(ppx_log_notice(f->log));
	assert_non_null(strstr(ppx_log_notice(f->log), "format 1 to format "
					       "2: 114 index records"));
	after = answers(f->log);
	assert_string_equal(after, before);
	free(after);
	assert_int_equal(ppx_log_cursor_get(f->log, "hook/sink", &cursor), 0);
	assert_int_equal(cursor, 20);
	ppx_log_close(f->log);
	f->log = NULL;
	assert_int_equal(peek(f->dir).format, 2);
	assert_int_equal(peek(f->dir).nsealed, 1);
	assert_indexes_ok(f->dir);

	/* The second entry was received from prison.cardiff: again, it is a
	 * duplicate, found in the old run. */
	assert_int_equal(ppx_log_open(&f->log, f->dir, &tiny), 0);
	assert_null(ppx_log_notice(f->log));
	{
		Ppx__V1__LogEntry *e, again = PPX__V1__LOG_ENTRY__INIT;

		assert_int_equal(ppx_log_get(f->log, 1, &e), 0);
		assert_int_equal(e->kind, KIND(RECEIVED));
		again.kind = e->kind;
		again.peer_agency = e->peer_agency;
		again.message_id = e->message_id;
		assert_int_equal(ppx_log_append_one(f->log, &again, &seq),
				 PPX_EDUP);
		assert_int_equal(seq, 1);
		ppx__v1__log_entry__free_unpacked(e, NULL);
	}
	for (uint64_t i = 0; i < 120; i += 4) {
		commit_range(f->log, 1000 + i, 1004 + i);
		ppx_log_close(f->log);
		f->log = NULL;
		assert_indexes_ok(f->dir);
		assert_int_equal(ppx_log_open(&f->log, f->dir, &tiny), 0);
	}
	after = answers(f->log);
	assert_memory_equal(after, before, strlen(before));
	free(after);
	free(before);
	ppx_log_close(f->log);
	f->log = NULL;
	assert_indexes_ok(f->dir);
}

/* Opens the log in dir writable, dying in the commit of the move. */
static void open_and_crash(const char *dir)
{
	ppx_log *log;

	crash_at_sync = 1;
	if (ppx_log_open(&log, dir, NULL) == 0)
		_exit(3);
}

/* A crash in the move to runs leaves the log of format 1, which checks,
 * and moves at the next open. */
static void test_logstore_runs__crash_in_the_move_leaves_format1(void **state)
{
	struct fx *f = *state;

	copy_fixture(f);
	crash_in_child(f->dir, open_and_crash);
	assert_int_equal(peek(f->dir).format, 1);
	assert_indexes_ok(f->dir);
	assert_int_equal(ppx_log_open(&f->log, f->dir, NULL), 0);
	assert_non_null(ppx_log_notice(f->log));
	ppx_log_close(f->log);
	f->log = NULL;
	assert_int_equal(peek(f->dir).format, 2);
	assert_indexes_ok(f->dir);
}

/* ---- a damaged list ------------------------------------------------------ */

/* Writes meta "runs" of the log in dir (not open here). */
static void put_runs(const char *dir, const void *val, size_t len)
{
	MDB_val k = {4, "runs"}, v = {len, (void *)val};
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi meta;

	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 16), 0);
	assert_int_equal(mdb_env_open(env, dir, 0, 0600), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, "meta", 0, &meta), 0);
	assert_int_equal(mdb_put(txn, meta, &k, &v, 0), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
}

/* With the list of runs put in place, a writer opens the log and its first
 * append is refused: the list is malformed. */
static void append_refused(struct fx *f)
{
	assert_int_equal(ppx_log_open(&f->log, f->dir, NULL), 0);
	assert_int_equal(ppx_log_append_one(f->log,
					    &(Ppx__V1__LogEntry)
						    PPX__V1__LOG_ENTRY__INIT,
					    NULL),
			 PPX_ECORRUPT);
	assert_non_null(strstr(ppx_error_last(), "malformed"));
	ppx_log_close(f->log);
	f->log = NULL;
}

/* A list of runs that is cut short, or names a range past the log's end,
 * is refused with what is wrong, by a writer and by a reader alike. */
static void test_logstore_runs__damaged_list_of_runs_is_refused(void **state)
{
	struct fx *f = *state;
	ppx_log_options ro = {.flags = PPX_LOG_READONLY};
	/* young 0 from entry 99, next 1 and 0x80000000, none sealed */
	const uint8_t past_end[] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 99,
				    0, 0, 0, 1, 0x80, 0, 0, 0, 0, 0, 0};
	uint8_t *seqs;
	size_t n;

	assert_int_equal(ppx_log_open(&f->log, f->dir, &tiny), 0);
	commit_range(f->log, 0, 20);
	ppx_log_close(f->log);
	f->log = NULL;
	put_runs(f->dir, past_end, sizeof(past_end));
	assert_int_equal(ppx_log_open(&f->log, f->dir, &ro), 0);
	assert_int_equal(ppx_log_by_subject(f->log, "crn:X000001",
					    (uint64_t **)&seqs, &n, 10),
			 PPX_ECORRUPT);
	assert_non_null(strstr(ppx_error_last(), "runs"));
	ppx_log_close(f->log);
	f->log = NULL;
	put_runs(f->dir, past_end, 7);
	append_refused(f);
}

static size_t put_be(uint8_t *p, uint64_t v, size_t bytes)
{
	for (size_t i = bytes; i-- > 0; v >>= 8)
		p[i] = (uint8_t)v;
	return bytes;
}

/* A list of runs with a merge under way and no room left for its two
 * inputs among the runs to remove (a state no writer makes) is refused:
 * taken, the merge's end would write past the list. */
static void test_logstore_runs__merge_without_room_to_end_is_refused(
	void **state)
{
	struct fx *f = *state;
	uint8_t rec[512];
	size_t n = 0;

	assert_int_equal(ppx_log_open(&f->log, f->dir, &tiny), 0);
	commit_range(f->log, 0, 20);
	ppx_log_close(f->log);
	f->log = NULL;
	n += put_be(rec + n, 0, 4);			/* young */
	n += put_be(rec + n, 20, 8);		/* young_from */
	n += put_be(rec + n, 48, 4);		/* next_run */
	n += put_be(rec + n, 0x80000003u, 4);	/* next_out */
	n += put_be(rec + n, 2, 1);			/* two sealed runs */
	n += put_be(rec + n, 0x80000000u, 4);
	n += put_be(rec + n, 0, 8);
	n += put_be(rec + n, 10, 8);
	n += put_be(rec + n, 0x80000001u, 4);
	n += put_be(rec + n, 10, 8);
	n += put_be(rec + n, 20, 8);
	n += put_be(rec + n, 47, 1);		/* 47 runs to remove */
	for (uint32_t id = 1; id <= 47; id++)
		n += put_be(rec + n, id, 4);
	n += put_be(rec + n, 1, 1);			/* merging */
	n += put_be(rec + n, 0, 1);			/* ia */
	n += put_be(rec + n, 0x80000002u, 4);	/* out */
	for (int ix = 0; ix < 3; ix++)
		n += put_be(rec + n, 0, 3);		/* not done, no last key */
	put_runs(f->dir, rec, n);
	append_refused(f);
	rec[n - 3 * 3 - 4 - 1 - 1] = 2;		/* merging = 2 */
	put_runs(f->dir, rec, n);
	append_refused(f);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_logstore_runs__lookups_answer_across_runs_and_merges),
		T(test_logstore_runs__id_prefix_is_listed_once_across_runs),
		T(test_logstore_runs__crash_mid_merge_leaves_the_last_commit),
		T(test_logstore_runs__format1_log_opens_checks_moves_appends),
		T(test_logstore_runs__crash_in_the_move_leaves_format1),
		T(test_logstore_runs__damaged_list_of_runs_is_refused),
		T(test_logstore_runs__merge_without_room_to_end_is_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
