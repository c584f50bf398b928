/*
 * test_hooks_quarantine.c — a durable hook's quarantine (daemon/hooks.c,
 * daemon/hooks_quarantine.c) with a real log and real commands, but no
 * sockets: a minimal struct ppxd holds a configuration, a log, the writer
 * and the hooks, and the test turns the loop by hand (start, reap,
 * commit).  It proves that an entry failing quarantine_after times is set
 * aside with its ENTRY_HOOK_QUARANTINE entry and mark in one commit; that
 * a hook which has stored nothing since stops instead of setting a second
 * aside; that on_failure = stop sets nothing aside; that decisions are
 * checked and logged with the person; and that the quarantine is read back
 * after a restart.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "ppx/config.h"
#include "../../daemon/hooks.h"
#include "../../daemon/state.h"
#include "../../daemon/writer.h"
#include "ppx/error.h"
#include "ppx/logstore.h"
#include "support.h"

struct fx {
	char *root;
	char dir[256];
	struct ppx_config cfg;
	struct ppx_hook_config hook;
	struct ppxd d;
};

/* A hook running `prog` (an absolute path) with no arguments, on every
 * ENTRY_NOTE, retrying every 10 ms, setting aside after 2 failures. */
static void hook_config(struct fx *f, const char *prog, int stop)
{
	struct ppx_hook_config *h = &f->hook;

	memset(h, 0, sizeof(*h));
	snprintf(h->name, sizeof(h->name), "casework");
	snprintf(h->command, sizeof(h->command), "%s", prog);
	h->argc = 1;
	h->entry_kinds = UINT32_C(1) << PPX__V1__ENTRY_KIND__ENTRY_NOTE;
	h->timeout_ms = 5000;
	h->retry_initial_ms = 10;
	h->retry_max_ms = 10;
	h->stuck_failures = 1;
	h->quarantine_after = 2;
	h->on_failure_stop = stop;
	f->cfg.hooks = h;
	f->cfg.n_hooks = 1;
}

static void start_hooks(struct fx *f)
{
	assert_int_equal(hooks_new(&f->d.hooks, &f->d), 0);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	signal(SIGPIPE, SIG_IGN);	/* as ppxd: /bin/false reads nothing */
	f->root = tmpdir_new();
	snprintf(f->dir, sizeof(f->dir), "%s/log", f->root);
	snprintf(f->cfg.agency, sizeof(f->cfg.agency), "probation.gwent");
	/* No signer here: no checkpoint falls due in these short logs. */
	f->cfg.checkpoint_every = 1000000;
	f->d.cfg = &f->cfg;
	assert_int_equal(ppx_log_open(&f->d.log, f->dir, NULL), 0);
	assert_int_equal(writer_new(&f->d.writer), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	hooks_free(&f->d.hooks);
	writer_free(&f->d.writer);
	ppx_log_close(f->d.log);
	tmpdir_remove(f->root);
	free(f);
	return 0;
}

static void append_notes(struct fx *f, int n)
{
	for (int i = 0; i < n; i++) {
		Ppx__V1__LogEntry e = PPX__V1__LOG_ENTRY__INIT;

		e.kind = PPX__V1__ENTRY_KIND__ENTRY_NOTE;
		e.detail = "a note";
		assert_int_equal(ppx_log_append_one(f->d.log, &e, NULL), 0);
	}
}

static const Ppx__V1__HookStatus *status(struct fx *f)
{
	static Ppx__V1__StatusReply sr;

	ppx__v1__status_reply__init(&sr);
	hooks_status(&f->d, &sr);
	assert_int_equal(sr.n_hooks, 1);
	return sr.hooks[0];
}

/* Turn the loop until the hook's status has `quarantined` entries set
 * aside, `failures` on its current one and its cursor at `next` (or
 * beyond), or 20 s (valgrind) have passed. */
static void turn(struct fx *f)
{
	struct timespec tick = {0, 5 * 1000000};

	hooks_reap(&f->d);
	assert_int_equal(writer_flush(&f->d), 0);
	hooks_start(&f->d);
	nanosleep(&tick, NULL);
}

static void run_until(struct fx *f, size_t quarantined, uint32_t failures,
		      uint64_t next)
{
	const Ppx__V1__HookStatus *s;

	for (int i = 0; i < 4000; i++) {
		turn(f);
		s = status(f);
		if (s->n_quarantined == quarantined &&
		    s->failures >= failures && s->next_seq >= next &&
		    !s->running)
			return;
	}
	fail_msg("the hook did not get there in 20 s");
}

/* The entries of `kind` in the log: how many, and the last one's
 * related_seq, person and detail (copied into the buffers). */
static size_t find_kind(struct fx *f, int kind, uint64_t *related,
			char *person, char *detail)
{
	size_t n = 0;

	for (uint64_t s = 0; s < ppx_log_size(f->d.log); s++) {
		Ppx__V1__LogEntry *e = NULL;

		assert_int_equal(ppx_log_get(f->d.log, s, &e), 0);
		if ((int)e->kind == kind) {
			n++;
			*related = e->related_seq;
			snprintf(person, 64, "%s", e->person);
			snprintf(detail, 512, "%s", e->detail);
			assert_string_equal(e->family, "casework");
		}
		ppx__v1__log_entry__free_unpacked(e, NULL);
	}
	return n;
}

static size_t marks(struct fx *f, uint64_t *first)
{
	struct ppx_log_mark *m = NULL;
	size_t n = 0;

	assert_int_equal(ppx_log_mark_list(f->d.log, "hook/casework", &m, &n,
					   100), 0);
	if (n)
		*first = m[0].seq;
	free(m);
	return n;
}

/* The value of the one mark of the hook. */
static uint64_t mark_value(struct fx *f)
{
	struct ppx_log_mark *m = NULL;
	size_t n = 0;
	uint64_t v;

	assert_int_equal(ppx_log_mark_list(f->d.log, "hook/casework", &m, &n,
					   100), 0);
	assert_int_equal(n, 1);
	v = m[0].value;
	free(m);
	return v;
}

static void test_hooks_quarantine__set_aside_after_n_failures(void **state)
{
	struct fx *f = *state;
	char person[64], detail[512];
	uint64_t rel = 99, seq = 99, cursor = 0;
	const Ppx__V1__HookStatus *s;

	hook_config(f, "/bin/false", 0);
	append_notes(f, 2);
	start_hooks(f);
	run_until(f, 1, 3, 1);
	/* Entry 0 is set aside; entry 1 fails too, but the hook has stored
	 * nothing since: it stops on it rather than empty the stream. */
	assert_int_equal(find_kind(f, PPX__V1__ENTRY_KIND__ENTRY_HOOK_QUARANTINE,
				   &rel, person, detail), 1);
	assert_int_equal(rel, 0);
	assert_non_null(strstr(detail, "entry 0 set aside after 2 failures: "
				       "exit status 1"));
	assert_int_equal(marks(f, &seq), 1);
	assert_int_equal(seq, 0);
	assert_int_equal(ppx_log_cursor_get(f->d.log, "hook/casework", &cursor),
			 0);
	assert_int_equal(cursor, 1);
	s = status(f);
	assert_string_equal(s->on_failure, "quarantine");
	assert_int_equal(s->n_quarantined, 1);
	assert_int_equal(s->quarantined[0]->seq, 0);
	assert_int_equal(s->next_seq, 1);
	assert_true(s->stuck);
	/* After a restart: the same, read from the log. */
	hooks_free(&f->d.hooks);
	start_hooks(f);
	s = status(f);
	assert_int_equal(s->n_quarantined, 1);
	assert_int_equal(s->quarantined[0]->seq, 0);
	assert_non_null(strstr(s->quarantined[0]->last_error, "exit status 1"));
	assert_true(s->quarantined[0]->since_ms > 0);
}

static void test_hooks_quarantine__stop_sets_nothing_aside(void **state)
{
	struct fx *f = *state;
	char person[64], detail[512];
	uint64_t rel, seq;

	hook_config(f, "/bin/false", 1);
	append_notes(f, 2);
	start_hooks(f);
	run_until(f, 0, 4, 0);
	assert_int_equal(find_kind(f, PPX__V1__ENTRY_KIND__ENTRY_HOOK_QUARANTINE,
				   &rel, person, detail), 0);
	assert_int_equal(marks(f, &seq), 0);
	assert_int_equal(status(f)->next_seq, 0);
	assert_true(status(f)->failures > 2);
	assert_string_equal(status(f)->on_failure, "stop");
}

static void decide(struct fx *f, const char *hook, uint64_t seq, int drop,
		   const char *reason, int want)
{
	Ppx__V1__HookDecisionRequest r = PPX__V1__HOOK_DECISION_REQUEST__INIT;

	r.hook = (char *)hook;
	r.seq = seq;
	r.drop = drop;
	r.reason = (char *)reason;
	assert_int_equal(hooks_decide(&f->d, "sam.okafor", &r), want);
	assert_int_equal(writer_flush(&f->d), 0);
}

static void test_hooks_quarantine__decisions(void **state)
{
	struct fx *f = *state;
	char person[64], detail[512];
	uint64_t rel = 99, seq;

	hook_config(f, "/bin/false", 0);
	append_notes(f, 1);
	start_hooks(f);
	run_until(f, 1, 0, 1);
	assert_int_equal(status(f)->n_quarantined, 1);
	decide(f, "nosuch", 0, 1, "x", PPX_ENOTFOUND);
	decide(f, "casework", 0, 1, "", PPX_EINVAL);
	decide(f, "casework", 7, 1, "x", PPX_ENOTFOUND);
	assert_int_equal(find_kind(f, PPX__V1__ENTRY_KIND__ENTRY_HOOK_DECISION,
				   &rel, person, detail), 0);
	/* A retry survives a restart (the mark's top bit); failing again,
	 * the entry is set aside again, with a new record. */
	decide(f, "casework", 0, 0, "try once more", 0);
	assert_int_equal(mark_value(f) >> 63, 1);
	hooks_free(&f->d.hooks);
	start_hooks(f);
	for (int i = 0; i < 4000 && find_kind(f,
	     PPX__V1__ENTRY_KIND__ENTRY_HOOK_QUARANTINE, &rel, person,
	     detail) < 2; i++)
		turn(f);
	assert_int_equal(find_kind(f, PPX__V1__ENTRY_KIND__ENTRY_HOOK_QUARANTINE,
				   &rel, person, detail), 2);
	assert_int_equal(rel, 0);
	assert_int_equal(mark_value(f) >> 63, 0);
	decide(f, "casework", 0, 1, "partner's test message", 0);
	assert_int_equal(find_kind(f, PPX__V1__ENTRY_KIND__ENTRY_HOOK_DECISION,
				   &rel, person, detail), 2);
	assert_int_equal(rel, 0);
	assert_string_equal(person, "sam.okafor");
	assert_string_equal(detail, "drop entry 0: partner's test message");
	assert_int_equal(marks(f, &seq), 0);
	assert_int_equal(status(f)->n_quarantined, 0);
	decide(f, "casework", 0, 1, "again", PPX_ENOTFOUND);
}

static void test_hooks_quarantine__retry_stores_out_of_order(void **state)
{
	struct fx *f = *state;
	char prog[400], flag[300];
	uint64_t seq;
	FILE *fp;

	/* Fails while FLAG exists. */
	snprintf(flag, sizeof(flag), "%s/fail", f->root);
	snprintf(prog, sizeof(prog), "%s/hook.sh", f->root);
	assert_non_null(fp = fopen(prog, "w"));
	fprintf(fp, "#!/bin/sh\ncat >/dev/null\n[ -e %s ] && exit 1\n"
		"exit 0\n", flag);
	fclose(fp);
	assert_non_null(fp = fopen(flag, "w"));
	fclose(fp);
	assert_int_equal(chmod(prog, 0755), 0);
	hook_config(f, prog, 0);
	append_notes(f, 1);
	start_hooks(f);
	run_until(f, 1, 0, 1);
	remove(flag);
	append_notes(f, 1);
	run_until(f, 1, 0, 3);
	assert_int_equal(status(f)->next_seq, 3);	/* 1 skipped, 2 stored */
	assert_int_equal(status(f)->delivered, 1);
	decide(f, "casework", 0, 0, "fixed", 0);
	decide(f, "casework", 0, 0, "twice", PPX_EINVAL);
	run_until(f, 0, 0, 3);
	assert_int_equal(status(f)->n_quarantined, 0);
	assert_int_equal(marks(f, &seq), 0);
	assert_int_equal(status(f)->delivered, 2);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_hooks_quarantine__set_aside_after_n_failures),
		T(test_hooks_quarantine__stop_sets_nothing_aside),
		T(test_hooks_quarantine__decisions),
		T(test_hooks_quarantine__retry_stores_out_of_order),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
