/*
 * test_reads.c — the pure checks of the read broker (daemon/reads_check.c):
 * a read's argv judged as hostile input (allowed commands and options
 * only, nothing that names a file or another log, bounded and printable),
 * what it is about (subjects, message reference, --seq), and the reason
 * rule's working hours.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../daemon/reads.h"
#include "ppx/error.h"

/* reads_plan over a NULL-terminated list. */
static int plan(struct read_plan *p, const char *first, ...)
{
	char *argv[READS_ARGS_MAX + 8];
	size_t n = 0;
	va_list ap;

	argv[n++] = (char *)first;
	va_start(ap, first);
	while (n < sizeof(argv) / sizeof(argv[0]) &&
	       (argv[n] = va_arg(ap, char *)))
		n++;
	va_end(ap);
	return reads_plan(p, argv, n, 0);
}

static void test_reads__plan_takes_the_reading_commands(void **state)
{
	struct read_plan p;

	(void)state;
	assert_int_equal(plan(&p, "log", "--json", "--kind", "SENT", NULL), 0);
	assert_string_equal(p.command, "log");
	assert_int_equal(p.counting, 0);
	assert_int_equal(p.n_subjects, 0);
	assert_string_equal(p.scope, "--json --kind SENT");
	assert_int_equal(plan(&p, "due", NULL), 0);
	assert_int_equal(p.counting, 0);	/* it shows subjects */
	assert_int_equal(p.no_reason, 1);
	assert_int_equal(plan(&p, "report", "--quarter", "2026Q4", NULL), 0);
	assert_int_equal(plan(&p, "report", "--snapshot", "2026-03-31", NULL),
			 0);
	assert_int_equal(plan(&p, "report", "--at=2026-03-31", NULL), 0);
	assert_int_equal(plan(&p, "due", "--as-of", "2026-09-14", "--csv",
			      "--soon", "2", NULL), 0);
	assert_int_equal(p.counting, 0);
	assert_int_equal(plan(&p, "report", NULL), 0);
	assert_int_equal(p.counting, 1);
}

static void test_reads__plan_finds_subjects_refs_and_seqs(void **state)
{
	struct read_plan p;

	(void)state;
	assert_int_equal(plan(&p, "subject", "pnc:2019/1X", "--exact", NULL),
			 0);
	assert_int_equal(p.n_subjects, 1);
	assert_string_equal(p.subjects[0], "pnc:2019/1X");
	assert_int_equal(plan(&p, "export", "--format", "csv",
			      "--subject=crn:X1", "-s", "pnc:2", NULL), 0);
	assert_int_equal(p.n_subjects, 2);
	assert_string_equal(p.subjects[0], "crn:X1");
	assert_string_equal(p.subjects[1], "pnc:2");
	assert_int_equal(plan(&p, "show", "police.gwent/ab12", "--body",
			      NULL), 0);
	assert_string_equal(p.ref, "police.gwent/ab12");
	assert_int_equal(plan(&p, "prove", "--seq", "42", NULL), 0);
	assert_int_equal(p.has_seq, 1);
	assert_int_equal(p.seq, 42);
	assert_int_equal(plan(&p, "prove", "--seq", "4x", NULL), PPX_EINVAL);
}

static void test_reads__plan_refuses_files_and_other_logs(void **state)
{
	static const char *const bad[] = {
		"--log", "--lo", "--l", "--log=/tmp", "-l", "-l/tmp",
		"--config", "--conf=/etc/x", "-c", "--output", "--out", "-o",
		"--deadlines", "--pki", "--ca", "--crl", "--certs", "--reason",
		"--emergency", "-jl", "--", "-", "--unknown", "--json=1",
	};
	struct read_plan p;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = plan(&p, "log", bad[i], "/tmp/x", NULL);

		if (rc != PPX_EINVAL)
			fail_msg("%s was not refused", bad[i]);
	}
}

static void test_reads__plan_refuses_commands_and_shapes(void **state)
{
	char *many[READS_ARGS_MAX + 1], big[READS_ARG_LEN_MAX + 2];
	struct read_plan p;

	(void)state;
	assert_int_equal(plan(&p, "verify", NULL), PPX_EINVAL);
	assert_int_equal(plan(&p, "send", "--json", "-", NULL), PPX_EINVAL);
	assert_int_equal(plan(&p, "status", NULL), PPX_EINVAL);
	assert_int_equal(plan(&p, "log", "extra", NULL), PPX_EINVAL);
	assert_int_equal(plan(&p, "show", "a", "b", NULL), PPX_EINVAL);
	assert_int_equal(plan(&p, "subject", "pnc:1\x1b[2J", NULL),
			 PPX_EINVAL);
	assert_int_equal(plan(&p, "log", "", NULL), PPX_EINVAL);
	assert_int_equal(plan(&p, "log", "--kind", NULL), PPX_EINVAL);
	assert_int_equal(plan(&p, "log", "--subject", "--log", NULL),
			 PPX_EINVAL);
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(plan(&p, "subject", big, NULL), PPX_EINVAL);
	many[0] = "log";
	for (size_t i = 1; i <= READS_ARGS_MAX; i++)
		many[i] = "--json";
	assert_int_equal(reads_plan(&p, many, READS_ARGS_MAX + 1, 0),
			 PPX_EINVAL);
	assert_int_equal(reads_plan(&p, many, READS_ARGS_MAX, 0), 0);
	assert_int_equal(reads_plan(&p, many, 0, 0), PPX_EINVAL);
}

static void test_reads__plan_deadlines_only_for_the_privileged(void **state)
{
	char *argv[] = {"due", "--deadlines", "/etc/ppx/deadlines.conf"};
	char *bad[] = {"due", "--deadlines", "/x", "--log", "/y"};
	struct read_plan p;

	(void)state;
	assert_int_equal(reads_plan(&p, argv, 3, 0), PPX_EINVAL);
	assert_int_equal(reads_plan(&p, argv, 3, READS_PLAN_FILES), 0);
	assert_int_equal(reads_plan(&p, bad, 5, READS_PLAN_FILES),
			 PPX_EINVAL);
}

static struct tm at(int wday, int hour)
{
	struct tm tm = {0};

	tm.tm_wday = wday;
	tm.tm_hour = hour;
	return tm;
}

static void test_reads__reason_rule_hours(void **state)
{
	struct tm mon9 = at(1, 9), fri1759 = at(5, 17), fri18 = at(5, 18),
		  sat10 = at(6, 10), sun10 = at(0, 10), tue7 = at(2, 7);

	(void)state;
	assert_true(reads_in_hours(&mon9));
	assert_true(reads_in_hours(&fri1759));
	assert_false(reads_in_hours(&fri18));
	assert_false(reads_in_hours(&sat10));
	assert_false(reads_in_hours(&sun10));
	assert_false(reads_in_hours(&tue7));
	assert_false(reads_reason_needed(PPX_REASON_OPTIONAL, 0, &sat10));
	assert_true(reads_reason_needed(PPX_REASON_REQUIRED, 0, &mon9));
	assert_false(reads_reason_needed(PPX_REASON_REQUIRED, 1, &mon9));
	assert_false(reads_reason_needed(PPX_REASON_OUT_OF_HOURS, 0, &mon9));
	assert_true(reads_reason_needed(PPX_REASON_OUT_OF_HOURS, 0, &sat10));
	assert_false(reads_reason_needed(PPX_REASON_OUT_OF_HOURS, 1, &sat10));
}

/* A reference or --seq naming nothing the daemon found, or possibly
 * more than it looked at, is refused below need_to_know = all. */
static void test_reads__need_to_know_refuses_what_names_nothing(void **state)
{
	struct ppx_config cfg;
	struct ppx_operator op;
	struct read_plan p;
	struct read_about a;
	char why[512];

	(void)state;
	memset(&cfg, 0, sizeof(cfg));
	memset(&op, 0, sizeof(op));
	snprintf(op.id, sizeof(op.id), "%s", "dana.evans");
	op.need_to_know = PPX_NTK_NAMED;
	assert_int_equal(plan(&p, "show", "police.gwent/ab", NULL), 0);
	memset(&a, 0, sizeof(a));
	assert_int_equal(reads_need_to_know(NULL, &cfg, &op, &p, &a, why,
					    sizeof(why)), 0);
	assert_int_equal(plan(&p, "prove", "--seq", "7", NULL), 0);
	assert_int_equal(reads_need_to_know(NULL, &cfg, &op, &p, &a, why,
					    sizeof(why)), 0);
	assert_int_equal(plan(&p, "subject", "X1", NULL), 0);
	assert_int_equal(reads_need_to_know(NULL, &cfg, &op, &p, &a, why,
					    sizeof(why)), 0);
	a.more = 1;
	assert_int_equal(plan(&p, "show", "ab", NULL), 0);
	assert_int_equal(reads_need_to_know(NULL, &cfg, &op, &p, &a, why,
					    sizeof(why)), 0);
	assert_non_null(strstr(why, "more than"));
	op.need_to_know = PPX_NTK_ALL;
	assert_int_equal(reads_need_to_know(NULL, &cfg, &op, &p, &a, why,
					    sizeof(why)), 1);
}

static void test_reads__reason_is_printable_text(void **state)
{
	char big[READS_REASON_MAX + 2];

	(void)state;
	assert_int_equal(reads_reason_check(""), 0);
	assert_int_equal(reads_reason_check("case review"), 0);
	assert_int_equal(reads_reason_check("r\xc3\xa9vision"), 0);
	assert_int_equal(reads_reason_check(" "), PPX_EINVAL);
	assert_int_equal(reads_reason_check("   "), PPX_EINVAL);
	assert_int_equal(reads_reason_check("why\x1b[2J"), PPX_EINVAL);
	assert_int_equal(reads_reason_check("tab\there"), PPX_EINVAL);
	assert_int_equal(reads_reason_check("bad \xff utf8"), PPX_EINVAL);
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(reads_reason_check(big), PPX_EINVAL);
	big[READS_REASON_MAX] = '\0';
	assert_int_equal(reads_reason_check(big), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reads__plan_takes_the_reading_commands),
		cmocka_unit_test(test_reads__plan_finds_subjects_refs_and_seqs),
		cmocka_unit_test(test_reads__plan_refuses_files_and_other_logs),
		cmocka_unit_test(test_reads__plan_refuses_commands_and_shapes),
		cmocka_unit_test(test_reads__plan_deadlines_only_for_the_privileged),
		cmocka_unit_test(test_reads__reason_rule_hours),
		cmocka_unit_test(test_reads__reason_is_printable_text),
		cmocka_unit_test(test_reads__need_to_know_refuses_what_names_nothing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
