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
#include "ppx/envelope.h"
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

/* A secret is never in the lines, nor any digest of it: "(hidden)", and
 * a keyed tag (not logged) tells that it changed. */
static void test_change_state__secrets_only_said_changed(void **state)
{
	struct fx *f = *state;
	uint8_t h[32];
	char hex[65];

	diff_of(f, "configuration", "[pki]\npkcs11_pin_file = /etc/a.pin\n"
		"[hook h]\ncommand = /bin/sink postgresql://u:SECRET@h/db\n",
		"[pki]\npkcs11_pin_file = /etc/b.pin\n"
		"[hook h]\ncommand = /bin/sink postgresql://u:SECRET@h/db\n");
	assert_int_equal(f->n, 1);
	assert_string_equal(f->out[0], "hidden value changed (one or more of "
			    "[pki] pkcs11_pin_file, [hook h] command)");
	assert_int_equal(f->b.n, 4);
	assert_string_equal(f->b.lines[1], "[pki] pkcs11_pin_file = (hidden)");
	assert_string_equal(f->b.lines[3], "[hook h] command = (hidden)");
	assert_true(f->a.hidden_tag != f->b.hidden_tag);
	assert_int_equal(ppx_sha256(h, (const uint8_t *)"/etc/b.pin", 10), 0);
	ppx_hex(hex, h, sizeof(h));
	hex[16] = '\0';
	for (size_t i = 0; i < f->b.n; i++) {
		assert_null(strstr(f->b.lines[i], "SECRET"));
		assert_null(strstr(f->b.lines[i], ".pin"));
		assert_null(strstr(f->b.lines[i], "sha256"));
		assert_null(strstr(f->b.lines[i], hex));
	}
}

/* The tag is keyed: the same secrets under another key tag differently,
 * and unchanged secrets under one key tag the same (layout only). */
static void test_change_state__hidden_tag_is_keyed(void **state)
{
	struct fx *f = *state;
	static const uint8_t k1[32] = {1}, k2[32] = {2};
	uint64_t t1;

	change_state_set_key(k1);
	diff_of(f, "configuration", "[pki]\nsigning_key = /k/a.key\n",
		"# moved\n[pki]\nsigning_key = /k/a.key\n");
	assert_int_equal(f->n, 1);
	assert_string_equal(f->out[0], "changed (comments or layout only)");
	t1 = f->b.hidden_tag;
	change_state_set_key(k2);
	assert_int_equal(change_state_read(&f->b, "configuration", f->path),
			 0);
	change_state_set_key(NULL);
	assert_true(t1 != f->b.hidden_tag);
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
		T(test_change_state__hidden_tag_is_keyed),
		T(test_change_state__layout_only),
		T(test_change_state__bad_ini_refused_with_line),
		T(test_change_state__certificate_and_crl),
		T(test_change_state__removed_file),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
