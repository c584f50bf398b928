/*
 * test_budget.c — the accounting of daemon/budget.c: a partner's refusal
 * budget and its block episodes, the hourly log quota, and the rate limit
 * on reports of refused connections.  Time is passed in, so every test
 * drives the clock itself.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../daemon/budget.h"

#define T0 1800000000000LL	/* some Unix time in ms */

static struct ppx_partner partners[2] = {{.name = "police.gwent"},
					 {.name = "prison.cardiff"}};

static int setup(void **state)
{
	struct ppx_config cfg = {0};
	struct budget *b = NULL;

	cfg.partners = partners;
	cfg.n_partners = 2;
	cfg.refusal_budget = 3;
	cfg.refusal_window_ms = 60000;
	cfg.block_initial_ms = 1000;
	cfg.block_max_ms = 5000;
	cfg.log_quota_bytes_hour = 10000;
	cfg.refusal_log_ms = 10000;
	assert_int_equal(budget_new(&b, &cfg), 0);
	*state = b;
	return 0;
}

static int teardown(void **state)
{
	struct budget *b = *state;

	budget_free(&b);
	assert_null(b);
	return 0;
}

/* Refuse `n` frames of `who` at `now`: how many started an episode. */
static int refuse(struct budget *b, const char *who, int n, int64_t now,
		  int64_t *until)
{
	uint32_t episode = 0;
	int started = 0;

	for (int i = 0; i < n; i++)
		started += budget_refusal(b, who, now, until, &episode);
	return started;
}

static void test_budget__past_the_budget_a_partner_is_blocked(void **state)
{
	struct budget *b = *state;
	int64_t until = 0;

	assert_int_equal(refuse(b, "prison.cardiff", 3, T0, &until), 0);
	assert_false(budget_blocked(b, "prison.cardiff", T0));
	assert_int_equal(refuse(b, "prison.cardiff", 1, T0 + 10, &until), 1);
	assert_int_equal(until, T0 + 10 + 1000);
	assert_true(budget_blocked(b, "prison.cardiff", T0 + 500));
	assert_false(budget_blocked(b, "police.gwent", T0 + 500));
	assert_false(budget_blocked(b, "prison.cardiff", T0 + 1010));
}

static void test_budget__refusals_in_another_window_do_not_add_up(
	void **state)
{
	struct budget *b = *state;
	int64_t until = 0;

	assert_int_equal(refuse(b, "prison.cardiff", 3, T0, &until), 0);
	assert_int_equal(refuse(b, "prison.cardiff", 3, T0 + 60000, &until), 0);
	assert_false(budget_blocked(b, "prison.cardiff", T0 + 60000));
}

static void test_budget__each_episode_blocks_twice_as_long_up_to_the_cap(
	void **state)
{
	struct budget *b = *state;
	int64_t now = T0, until = 0, want[] = {1000, 2000, 4000, 5000, 5000};
	struct budget_view v;

	for (size_t k = 0; k < 5; k++) {
		assert_int_equal(refuse(b, "prison.cardiff", 4, now, &until), 1);
		assert_int_equal(until - now, want[k]);
		/* Refusals while blocked start no new episode. */
		assert_int_equal(refuse(b, "prison.cardiff", 10, now + 1, &until),
				 0);
		now = until;
	}
	budget_view(b, "prison.cardiff", now, &v);
	assert_int_equal(v.blocked_episodes, 5);
	assert_int_equal(v.blocked_until_ms, 0);
}

static void test_budget__the_quota_counts_the_last_hour(void **state)
{
	struct budget *b = *state;
	struct budget_view v;

	assert_true(budget_quota_allows(b, "prison.cardiff", 10000, T0));
	budget_charge(b, "prison.cardiff", 6000, T0);
	assert_true(budget_quota_allows(b, "prison.cardiff", 4000, T0));
	assert_false(budget_quota_allows(b, "prison.cardiff", 4001, T0));
	assert_true(budget_quota_allows(b, "police.gwent", 10000, T0));
	budget_charge(b, "prison.cardiff", 4000, T0 + 30 * 60000);
	budget_view(b, "prison.cardiff", T0 + 30 * 60000, &v);
	assert_int_equal(v.log_bytes_hour, 10000);
	assert_int_equal(v.log_quota_bytes_hour, 10000);
	/* An hour later the first charge no longer counts. */
	assert_false(budget_quota_allows(b, "prison.cardiff", 1, T0 + 59 * 60000));
	assert_true(budget_quota_allows(b, "prison.cardiff", 6000,
					T0 + 61 * 60000));
	assert_false(budget_quota_allows(b, "prison.cardiff", 6001,
					 T0 + 61 * 60000));
}

static void test_budget__the_spent_quota_is_noted_once_an_hour(void **state)
{
	struct budget *b = *state;

	assert_true(budget_quota_spent(b, "prison.cardiff", T0));
	assert_false(budget_quota_spent(b, "prison.cardiff", T0 + 1000));
	assert_true(budget_quota_spent(b, "police.gwent", T0 + 1000));
	assert_true(budget_quota_spent(b, "prison.cardiff", T0 + 3600000));
}

static void test_budget__refused_connections_are_reported_once_an_interval(
	void **state)
{
	struct budget *b = *state;
	uint64_t count = 0;
	char key[64];

	assert_true(budget_conn_refused(b, "prison.cardiff", T0, &count));
	assert_int_equal(count, 1);
	for (int i = 0; i < 99; i++)
		assert_false(budget_conn_refused(b, "prison.cardiff", T0 + i,
						 &count));
	assert_true(budget_conn_refused(b, "police.gwent", T0 + 5, &count));
	assert_false(budget_conn_due(b, T0 + 9999, key, sizeof(key), &count));
	assert_true(budget_conn_due(b, T0 + 10000, key, sizeof(key), &count));
	assert_string_equal(key, "prison.cardiff");
	assert_int_equal(count, 99);
	assert_false(budget_conn_due(b, T0 + 10000, key, sizeof(key), &count));
	/* The next refusal after a report waits for its interval too. */
	assert_false(budget_conn_refused(b, "prison.cardiff", T0 + 10001,
					 &count));
	assert_true(budget_conn_refused(b, "prison.cardiff", T0 + 20000,
					&count));
	assert_int_equal(count, 2);
}

static void test_budget__many_keys_share_the_last_slot(void **state)
{
	struct budget *b = *state;
	uint64_t count = 0, reported = 0;
	char key[64];

	for (int i = 0; i < 1000; i++) {
		char k[32];

		snprintf(k, sizeof(k), "key-%d", i);
		if (budget_conn_refused(b, k, T0, &count))
			reported += count;
	}
	while (budget_conn_due(b, T0 + 10000, key, sizeof(key), &count))
		reported += count;
	assert_int_equal(reported, 1000);	/* every refusal counted once */
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_budget__past_the_budget_a_partner_is_blocked),
		T(test_budget__refusals_in_another_window_do_not_add_up),
		T(test_budget__each_episode_blocks_twice_as_long_up_to_the_cap),
		T(test_budget__the_quota_counts_the_last_hour),
		T(test_budget__the_spent_quota_is_noted_once_an_hour),
		T(test_budget__refused_connections_are_reported_once_an_interval),
		T(test_budget__many_keys_share_the_last_slot),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
