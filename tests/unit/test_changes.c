/*
 * test_changes.c — the files in force logged at start and on reload
 * (daemon/changes.c, daemon/reload.c), on a daemon fixture with a real
 * log: one entry per file at first, none when nothing changed (the table
 * read back from the marks), the changes named on reload with the person,
 * a policy that does not load refused and logged with the old one kept.
 */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "../../daemon/changes.h"
#include "../../daemon/reload.h"
#include "../../daemon/writer.h"
#include "daemon_fixture.h"
#include "ppx/envelope.h"
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

static void append_config(struct daemon_fixture *f, const char *text)
{
	FILE *fp = fopen(f->d.cfg->path, "a");

	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
}

/* Replace the first `from` in the configuration file by `to` (same
 * length). */
static void edit_config(struct daemon_fixture *f, const char *from,
			const char *to)
{
	FILE *fp = fopen(f->d.cfg->path, "r+");
	char buf[8192], *at;
	size_t len;

	assert_non_null(fp);
	len = fread(buf, 1, sizeof(buf) - 1, fp);
	buf[len] = '\0';
	assert_non_null(at = strstr(buf, from));
	assert_int_equal(strlen(from), strlen(to));
	memcpy(at, to, strlen(to));
	rewind(fp);
	assert_int_equal(fwrite(buf, 1, len, fp), len);
	fclose(fp);
}

/* Whether any string field of entry `e` (detail, changes, in_force)
 * holds `text`. */
static int entry_holds(const Ppx__V1__LogEntry *e, const char *text)
{
	Ppx__V1__ChangeRecord *cr = ppx__v1__change_record__unpack(
		NULL, e->data.len, e->data.data);
	int found = strstr(e->detail, text) != NULL;

	assert_non_null(cr);
	for (size_t i = 0; i < cr->n_changes; i++)
		found |= strstr(cr->changes[i], text) != NULL;
	for (size_t i = 0; i < cr->n_in_force; i++)
		found |= strstr(cr->in_force[i], text) != NULL;
	ppx__v1__change_record__free_unpacked(cr, NULL);
	return found;
}

/* A hook's command holding a password: no digest of it is logged, its
 * change is told across a restart by the keyed tag in the file's mark,
 * whose key is LOG_DIR/change-key (0600, kept). */
static void test_changes__secret_change_told_without_a_digest(void **state)
{
	struct daemon_fixture *f = *state;
	struct changes_report r = {0};
	Ppx__V1__LogEntry *e;
	char path[PATH_MAX + 16], hex[65];
	uint8_t h[32];
	struct stat st;
	const char *cmd = "/bin/sink postgresql://u:pw2@h/db";

	append_config(f, "\n[hook x]\ncommand = /bin/sink "
		      "postgresql://u:pw1@h/db\n");
	assert_int_equal(changes_start(&f->d), 0);
	assert_int_equal(writer_flush(&f->d), 0);
	snprintf(path, sizeof(path), "%s/change-key", f->d.cfg->log_dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(st.st_size, 32);
	/* A restart with the password changed, and nothing else. */
	changes_free(&f->d.changes);
	assert_int_equal(changes_new(&f->d.changes, &f->d), 0);
	edit_config(f, "u:pw1@", "u:pw2@");
	assert_int_equal(changes_note(&f->d, "configuration", f->d.cfg->path,
				      "start", "", &r), 0);
	assert_int_equal(writer_flush(&f->d), 0);
	assert_int_equal(r.entries, 1);
	assert_int_equal(r.n_changes, 1);
	assert_non_null(strstr(r.changes[0], ": hidden value changed (one or "
			       "more of [pki] signing_key, "));
	assert_non_null(strstr(r.changes[0], ", [hook x] command)"));
	e = last_entry(f);
	assert_int_equal(e->kind, PPX__V1__ENTRY_KIND__ENTRY_CONFIG_CHANGE);
	assert_true(entry_holds(e, "[hook x] command = (hidden)"));
	assert_false(entry_holds(e, "pw2"));
	assert_int_equal(ppx_sha256(h, (const uint8_t *)cmd, strlen(cmd)), 0);
	ppx_hex(hex, h, sizeof(h));
	hex[16] = '\0';
	assert_false(entry_holds(e, hex));
	ppx__v1__log_entry__free_unpacked(e, NULL);
	changes_report_clear(&r);
	/* The key is kept: a second restart with nothing changed logs none. */
	changes_free(&f->d.changes);
	assert_int_equal(changes_new(&f->d.changes, &f->d), 0);
	assert_int_equal(changes_note(&f->d, "configuration", f->d.cfg->path,
				      "start", "", &r), 0);
	assert_int_equal(r.entries, 0);
	changes_report_clear(&r);
}

/* [accountability] ppx is found once at start (reads.c): a reload says
 * it waits for a restart and leaves the one in force. */
static void test_changes__ppx_path_waits_for_restart(void **state)
{
	struct daemon_fixture *f = *state;
	struct changes_report r = {0};
	char before[sizeof(f->d.cfg->ppx_path)];
	int said = 0;

	append_config(f, "\n[accountability]\nppx = /bin/aaa\n");
	memcpy(before, f->d.cfg->ppx_path, sizeof(before));
	assert_int_equal(changes_start(&f->d), 0);
	assert_int_equal(writer_flush(&f->d), 0);
	edit_config(f, "/bin/aaa", "/bin/bbb");
	reload_all(&f->d, "dana.evans", &r);
	assert_int_equal(writer_flush(&f->d), 0);
	assert_int_equal(r.code, 0);
	for (size_t i = 0; i < r.n_restart; i++)
		said |= strstr(r.restart[i], "[accountability] ppx") != NULL;
	assert_true(said);
	assert_string_equal(f->d.cfg->ppx_path, before);
	changes_report_clear(&r);
}

/* A whole [accountability] section added with a ppx: that key still
 * waits for a restart. */
static void test_changes__ppx_in_a_new_section_waits(void **state)
{
	struct daemon_fixture *f = *state;
	struct changes_report r = {0};
	int said = 0;

	assert_int_equal(changes_start(&f->d), 0);
	assert_int_equal(writer_flush(&f->d), 0);
	append_config(f, "\n[accountability]\nppx = /bin/aaa\n");
	reload_all(&f->d, "dana.evans", &r);
	assert_int_equal(writer_flush(&f->d), 0);
	assert_int_equal(r.code, 0);
	for (size_t i = 0; i < r.n_restart; i++)
		said |= strstr(r.restart[i], "[accountability] ppx") != NULL;
	assert_true(said);
	assert_string_equal(f->d.cfg->ppx_path, "");
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
		T(test_changes__secret_change_told_without_a_digest),
		T(test_changes__ppx_path_waits_for_restart),
		T(test_changes__ppx_in_a_new_section_waits),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
