/*
 * test_change_state.c — a file in force read into lines, and the readable
 * difference between two readings (daemon/change_state.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../daemon/change_state.h"
#include "ppx/error.h"
#include "support.h"

struct fx {
	char *dir;
	char path[512];
	struct change_state a, b;
	char **out;
	size_t n;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	f->dir = tmpdir_new();
	snprintf(f->path, sizeof(f->path), "%s/file.conf", f->dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	change_state_clear(&f->a);
	change_state_clear(&f->b);
	change_lines_free(f->out, f->n);
	tmpdir_remove(f->dir);
	free(f);
	return 0;
}

/* Read `old` then `now` as `what`, and diff them into f->out. */
static void diff_of(struct fx *f, const char *what, const char *old,
		    const char *now)
{
	write_text(f->path, old);
	assert_int_equal(change_state_read(&f->a, what, f->path), 0);
	write_text(f->path, now);
	assert_int_equal(change_state_read(&f->b, what, f->path), 0);
	assert_int_equal(change_diff(&f->out, &f->n, &f->a, &f->b), 0);
}

static int has(const struct fx *f, const char *line)
{
	for (size_t i = 0; i < f->n; i++)
		if (strcmp(f->out[i], line) == 0)
			return 1;
	return 0;
}

static void test_change_state__ini_lines_join_continuations(void **state)
{
	struct fx *f = *state;

	write_text(f->path, "[rule a]\nfrom = police.*\nkinds = minutes,\n"
		   "    notification:ARREST\n[signatures] ; a comment\n");
	assert_int_equal(change_state_read(&f->a, "policy", f->path), 0);
	assert_true(f->a.present);
	assert_int_equal(f->a.n, 4);
	assert_string_equal(f->a.lines[0], "[rule a]");
	assert_string_equal(f->a.lines[1], "[rule a] from = police.*");
	assert_string_equal(f->a.lines[2],
			    "[rule a] kinds = minutes, notification:ARREST");
	assert_string_equal(f->a.lines[3], "[signatures]");
}

static void test_change_state__key_changed_added_removed(void **state)
{
	struct fx *f = *state;

	diff_of(f, "configuration",
		"[partner x.y]\nendpoint = tcp://a:1\nproofs = optional\n",
		"[partner x.y]\nendpoint = tcp://b:2\nwitness = no\n");
	assert_int_equal(f->n, 3);
	assert_true(has(f, "[partner x.y] endpoint: tcp://a:1 -> tcp://b:2"));
	assert_true(has(f, "[partner x.y] witness: added (no)"));
	assert_true(has(f, "[partner x.y] proofs: removed (was optional)"));
}

static void test_change_state__sections_added_and_removed_once(void **state)
{
	struct fx *f = *state;

	diff_of(f, "policy", "[rule a]\nfrom = x\nto = y\n",
		"[rule b]\nfrom = x\nto = y\n");
	assert_int_equal(f->n, 2);
	assert_string_equal(f->out[0], "[rule b] added");
	assert_string_equal(f->out[1], "[rule a] removed");
}

static void test_change_state__list_items_named(void **state)
{
	struct fx *f = *state;

	diff_of(f, "policy", "[duty-to-cooperate h.n]\nsubjects = crn:A, "
		"crn:B,\n  crn:C\n", "[duty-to-cooperate h.n]\nsubjects = "
		"crn:C, crn:D, crn:A\n");
	assert_int_equal(f->n, 1);
	assert_string_equal(f->out[0], "[duty-to-cooperate h.n] subjects: "
			    "added crn:D; removed crn:B");
}

static void test_change_state__secrets_only_said_changed(void **state)
{
	struct fx *f = *state;

	diff_of(f, "configuration", "[pki]\npkcs11_pin_file = /etc/a.pin\n"
		"[hook h]\ncommand = /bin/sink postgresql://u:SECRET@h/db\n",
		"[pki]\npkcs11_pin_file = /etc/b.pin\n"
		"[hook h]\ncommand = /bin/sink postgresql://u:OTHER@h/db\n");
	assert_int_equal(f->n, 2);
	assert_string_equal(f->out[0], "[pki] pkcs11_pin_file: changed");
	assert_string_equal(f->out[1], "[hook h] command: changed");
	for (size_t i = 0; i < f->b.n; i++) {
		assert_null(strstr(f->b.lines[i], "SECRET"));
		assert_null(strstr(f->b.lines[i], "OTHER"));
		assert_null(strstr(f->b.lines[i], ".pin"));
	}
}

static void test_change_state__layout_only(void **state)
{
	struct fx *f = *state;

	diff_of(f, "policy", "[rule a]\nfrom = x\n",
		"# a comment\n[rule a]\n  from   =   x\n");
	assert_int_equal(f->n, 1);
	assert_string_equal(f->out[0], "changed (comments or layout only)");
}

static void test_change_state__bad_ini_refused_with_line(void **state)
{
	struct fx *f = *state;

	write_text(f->path, "[rule a]\nfrom = x\nthis is no key\n");
	assert_int_not_equal(change_state_read(&f->a, "policy", f->path), 0);
	assert_non_null(strstr(ppx_error_last(), ":3:"));
	assert_false(f->a.present);
}

static void test_change_state__certificate_and_crl(void **state)
{
	struct fx *f = *state;

	assert_int_equal(change_state_read(&f->a, "certificate",
		pki_path("agencies/police.gwent/signing.crt")), 0);
	assert_int_equal(f->a.n, 5);
	assert_non_null(strstr(f->a.lines[0], "subject = "));
	assert_non_null(strstr(f->a.lines[0], "police.gwent"));
	assert_non_null(strstr(f->a.lines[2], "fingerprint = sha256 "));
	assert_non_null(strstr(f->a.lines[4], "notAfter = "));
	assert_int_equal(change_state_read(&f->b, "crl",
					   pki_path("ca/crl.pem")), 0);
	assert_non_null(strstr(f->b.lines[1], "number = "));
	assert_non_null(strstr(f->b.lines[4], "revoked = "));
	/* Not a certificate: refused, not read as one. */
	write_text(f->path, "[rule a]\n");
	assert_int_equal(change_state_read(&f->a, "certificate", f->path),
			 PPX_EINVAL);
}

static void test_change_state__removed_file(void **state)
{
	struct fx *f = *state;
	struct change_state gone = {0};

	write_text(f->path, "[a]\nb = c\n");
	assert_int_equal(change_state_read(&f->a, "policy", f->path), 0);
	assert_int_equal(change_diff(&f->out, &f->n, &f->a, &gone), 0);
	assert_int_equal(f->n, 1);
	assert_string_equal(f->out[0], "removed");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
		T(test_change_state__ini_lines_join_continuations),
		T(test_change_state__key_changed_added_removed),
		T(test_change_state__sections_added_and_removed_once),
		T(test_change_state__list_items_named),
		T(test_change_state__secrets_only_said_changed),
		T(test_change_state__layout_only),
		T(test_change_state__bad_ini_refused_with_line),
		T(test_change_state__certificate_and_crl),
		T(test_change_state__removed_file),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
