/*
 * test_changes.c — the files in force logged at start and on reload
 * (daemon/changes.c, daemon/reload.c), on a daemon fixture with a real
 * log: one entry per file at first, none when nothing changed (the table
 * read back from the marks), the changes named on reload with the person,
 * a policy that does not load refused and logged with the old one kept.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../daemon/changes.h"
#include "../../daemon/reload.h"
#include "../../daemon/writer.h"
#include "daemon_fixture.h"
#include "support.h"

static int setup(void **state)
{
	struct daemon_fixture *f = daemon_fixture_new("police.gwent", NULL);

	assert_int_equal(changes_new(&f->d.changes, &f->d), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct daemon_fixture *f = *state;

	changes_free(&f->d.changes);
	daemon_fixture_free(&f);
	return 0;
}

static size_t n_changes(struct daemon_fixture *f)
{
	return daemon_fixture_count(f, PPX__V1__ENTRY_KIND__ENTRY_CONFIG_CHANGE,
				    NULL) +
	       daemon_fixture_count(f, PPX__V1__ENTRY_KIND__ENTRY_POLICY_CHANGE,
				    NULL) +
	       daemon_fixture_count(f, PPX__V1__ENTRY_KIND__ENTRY_KEY_CHANGE,
				    NULL);
}

static Ppx__V1__LogEntry *last_entry(struct daemon_fixture *f)
{
	Ppx__V1__LogEntry *e = NULL;

	assert_int_equal(ppx_log_get(f->d.log, ppx_log_size(f->d.log) - 1,
				     &e), 0);
	return e;
}

static void append_policy(struct daemon_fixture *f, const char *text)
{
	FILE *fp = fopen(f->d.cfg->policy_path, "a");

	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
}

static void test_changes__start_logs_each_file_once(void **state)
{
	struct daemon_fixture *f = *state;
	size_t first;

	assert_int_equal(changes_start(&f->d), 0);
	assert_int_equal(writer_flush(&f->d), 0);
	first = n_changes(f);
	/* configuration, policy, CRL, CA, our two certificates, certs/ */
	assert_true(first > 6);
	assert_int_equal(daemon_fixture_count(
		f, PPX__V1__ENTRY_KIND__ENTRY_CONFIG_CHANGE, NULL), 1);
	/* A restart: the table from the marks, nothing logged again. */
	changes_free(&f->d.changes);
	assert_int_equal(changes_new(&f->d.changes, &f->d), 0);
	assert_int_equal(changes_start(&f->d), 0);
	assert_int_equal(writer_flush(&f->d), 0);
	assert_int_equal(n_changes(f), first);
}

static void test_changes__reload_names_the_change_and_person(void **state)
{
	struct daemon_fixture *f = *state;
	struct changes_report r = {0};
	Ppx__V1__LogEntry *e;
	Ppx__V1__ChangeRecord *cr;
	ppxd_policy *before = f->d.policy;

	assert_int_equal(changes_start(&f->d), 0);
	assert_int_equal(writer_flush(&f->d), 0);
	append_policy(f, "\n[rule extra]\nfrom = police.*\nto = prison.*\n"
		      "kinds = minutes\n");
	reload_all(&f->d, "dana.evans", &r);
	assert_int_equal(writer_flush(&f->d), 0);
	assert_int_equal(r.code, 0);
	assert_int_equal(r.entries, 1);
	assert_int_equal(r.n_restart, 0);
	assert_ptr_not_equal(f->d.policy, before);	/* in force at once */
	e = last_entry(f);
	assert_int_equal(e->kind, PPX__V1__ENTRY_KIND__ENTRY_POLICY_CHANGE);
	assert_string_equal(e->person, "dana.evans");
	cr = ppx__v1__change_record__unpack(NULL, e->data.len, e->data.data);
	assert_non_null(cr);
	assert_string_equal(cr->cause, "reload");
	assert_int_equal(cr->n_changes, 1);
	assert_string_equal(cr->changes[0], "[rule extra] added");
	assert_int_equal(cr->previous_sha256.len, 32);
	ppx__v1__change_record__free_unpacked(cr, NULL);
	ppx__v1__log_entry__free_unpacked(e, NULL);
	changes_report_clear(&r);
}

static void test_changes__bad_policy_refused_and_kept(void **state)
{
	struct daemon_fixture *f = *state;
	struct changes_report r = {0};
	Ppx__V1__LogEntry *e;
	ppxd_policy *before = f->d.policy;

	assert_int_equal(changes_start(&f->d), 0);
	assert_int_equal(writer_flush(&f->d), 0);
	append_policy(f, "\n[rule broken]\nfrom = police.*\n");
	reload_all(&f->d, "", &r);
	assert_int_equal(writer_flush(&f->d), 0);
	assert_int_not_equal(r.code, 0);
	assert_non_null(strstr(r.error, "reload refused: "));
	assert_non_null(strstr(r.error, "policy.conf:"));
	assert_ptr_equal(f->d.policy, before);
	e = last_entry(f);
	assert_int_equal(e->kind, PPX__V1__ENTRY_KIND__ENTRY_POLICY_CHANGE);
	assert_string_equal(e->person, "");
	assert_int_equal(strncmp(e->detail, "reload refused: ", 16), 0);
	ppx__v1__log_entry__free_unpacked(e, NULL);
	changes_report_clear(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
		T(test_changes__start_logs_each_file_once),
		T(test_changes__reload_names_the_change_and_person),
		T(test_changes__bad_policy_refused_and_kept),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
