/*
 * test_dtc.c — which agencies the daemon holds to their cases
 * (ppxd_duty_to_cooperate, daemon/state.c): with a directory in force, an
 * agency listed with a duty-to-co-operate type is one whether or not a
 * policy section names it; a responsible authority's type is not made
 * one; and without a directory only the policy and [partner] decide.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "daemon_fixture.h"
#include "ppx/directory.h"

static void listed(struct ppx_dir_agency *a, const char *name,
		   const char *type, int dtc)
{
	memset(a, 0, sizeof(*a));
	snprintf(a->name, sizeof(a->name), "%s", name);
	snprintf(a->type, sizeof(a->type), "%s", type);
	a->duty_to_cooperate = dtc;
	a->status = PPX_AGENCY_ACTIVE;
}

static void test_dtc__the_directory_type_decides(void **state)
{
	struct daemon_fixture *f = daemon_fixture_new("police.gwent", NULL);
	struct ppx_dir_agency agencies[3];
	struct ppx_directory dir;

	(void)state;
	/* No directory: the fixture's policy has no [duty-to-cooperate]
	 * section and its partners are responsible authorities. */
	assert_int_equal(ppxd_duty_to_cooperate(&f->d, "housing.newport"), 0);
	assert_int_equal(ppxd_duty_to_cooperate(&f->d, "prison.cardiff"), 0);

	memset(&dir, 0, sizeof(dir));
	listed(&agencies[0], "housing.newport", "housing", 1);
	listed(&agencies[1], "prison.cardiff", "prison", 0);
	listed(&agencies[2], "health.gwent", "health", 1);
	dir.agencies = agencies;
	dir.n_agencies = 3;
	f->d.directory = &dir;
	assert_int_equal(ppxd_duty_to_cooperate(&f->d, "housing.newport"), 1);
	assert_int_equal(ppxd_duty_to_cooperate(&f->d, "health.gwent"), 1);
	assert_int_equal(ppxd_duty_to_cooperate(&f->d, "prison.cardiff"), 0);
	/* Not listed: nothing makes it one. */
	assert_int_equal(ppxd_duty_to_cooperate(&f->d, "police.gwent"), 0);
	f->d.directory = NULL;
	daemon_fixture_free(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dtc__the_directory_type_decides),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
