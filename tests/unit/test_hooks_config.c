/*
 * test_hooks_config.c — the integration sections of the configuration
 * file ([events], [spool], [hook NAME]; docs/CONFIG.md, docs/HOOKS.md):
 * what they load into, their defaults, and that every mistake is refused
 * with the file and the line.
 *
 * Each test writes its file into a fresh temporary directory; line numbers
 * in the expectations count from the first line of BASE.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ppx/config.h"
#include "ppx.pb-c.h"
#include "ppx/error.h"
#include "support.h"

/* A complete file with a partner and an operator (20 lines). */
#define BASE                                       \
	"[agency]\n"                               \
	"name = probation.gwent\n"                 \
	"listen = tcp://*:7102\n"                  \
	"log_dir = /var/lib/ppx/probation.gwent\n" \
	"control = /run/ppx/probation.gwent\n"     \
	"policy = /etc/ppx/policy.conf\n"          \
	"[pki]\n"                                  \
	"ca = /etc/ppx/ca.crt\n"                   \
	"crl = /etc/ppx/crl.pem\n"                 \
	"certs = /etc/ppx/certs\n"                 \
	"signing_key = /etc/ppx/signing.key\n"     \
	"signing_cert = /etc/ppx/signing.crt\n"    \
	"transport_key = /etc/ppx/transport.key\n" \
	"transport_cert = /etc/ppx/transport.crt\n" \
	"[partner police.gwent]\n"                 \
	"endpoint = tcp://127.0.0.1:7101\n"        \
	"[operator casework.system]\n"             \
	"uid = 4242\n"                             \
	"name = Casework System\n"                 \
	"role = case management system\n"
#define BASE_LINES 20
#define L(n) (BASE_LINES + (n))	/* line n of the extra text */

#define BIT(k) (UINT32_C(1) << (k))
#define FAMILY(payload) BIT((payload)-PPX_CONFIG_FAMILY_FIRST)

struct fixture {
	char *dir;
	char path[1024];
	struct ppx_config *cfg;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->dir = tmpdir_new();
	snprintf(f->path, sizeof(f->path), "%s/probation.conf", f->dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	ppx_config_free(f->cfg);
	tmpdir_remove(f->dir);
	free(f);
	return 0;
}

/* BASE followed by `extra`, loaded. */
static int load(struct fixture *f, const char *extra)
{
	FILE *fp = fopen(f->path, "w");

	assert_non_null(fp);
	assert_true(fprintf(fp, "%s%s", BASE, extra) > 0);
	assert_int_equal(fclose(fp), 0);
	ppx_config_free(f->cfg);
	f->cfg = NULL;
	return ppx_config_load(&f->cfg, f->path);
}

/* Refused with PPX_EINVAL, "$path:line: ..." containing `what`. */
static void assert_refused(struct fixture *f, const char *extra, int line,
			   const char *what)
{
	char prefix[1100];
	int rc = load(f, extra);
	const char *msg = ppx_error_last();

	snprintf(prefix, sizeof(prefix), "%s:%d: ", f->path, line);
	if (rc != PPX_EINVAL || strncmp(msg, prefix, strlen(prefix)) != 0 ||
	    !strstr(msg, what))
		fail_msg("rc %d, message \"%s\"; expected \"%s...%s\"", rc, msg,
			 prefix, what);
	assert_null(f->cfg);
}

static const struct ppx_hook_config *hook(const struct fixture *f, size_t i)
{
	assert_true(i < f->cfg->n_hooks);
	return &f->cfg->hooks[i];
}

static void test_hooks_config__none_by_default(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(load(f, ""), 0);
	assert_string_equal(f->cfg->events_endpoint, "");
	assert_string_equal(f->cfg->spool_dir, "");
	assert_int_equal(f->cfg->n_hooks, 0);
}

static void test_hooks_config__hook_loads_every_value(void **state)
{
	struct fixture *f = *state;
	const struct ppx_hook_config *h;
	char *argv[PPX_CONFIG_HOOK_ARGS + 1];

	assert_int_equal(load(f,
		"[hook casework-db]\n"
		"command = /usr/lib/ppx/ppx-sink-sqlite \"/var/lib/a b.db\" -v\n"
		"entry_kinds = ENTRY_RECEIVED, SENT, ENTRY_REJECTED\n"
		"families = notification, minutes\n"
		"kinds = ARREST, RECALL_*\n"
		"partners = police.*, police.gwent\n"
		"timeout_ms = 5000\n"
		"retry_initial_ms = 50\n"
		"retry_max_ms = 800\n"
		"stuck_failures = 7\n"
		"quarantine_after = 2\n"
		"on_failure = stop\n"), 0);
	h = hook(f, 0);
	assert_string_equal(h->name, "casework-db");
	assert_int_equal(h->line, L(1));
	assert_int_equal(h->argc, 3);
	ppx_config_hook_argv(h, argv);
	assert_string_equal(argv[0], "/usr/lib/ppx/ppx-sink-sqlite");
	assert_string_equal(argv[1], "/var/lib/a b.db");
	assert_string_equal(argv[2], "-v");
	assert_null(argv[3]);
	assert_int_equal(h->entry_kinds,
			 BIT(PPX__V1__ENTRY_KIND__ENTRY_RECEIVED) |
			 BIT(PPX__V1__ENTRY_KIND__ENTRY_SENT) |
			 BIT(PPX__V1__ENTRY_KIND__ENTRY_REJECTED));
	assert_int_equal(h->families,
			 FAMILY(PPX__V1__BODY__PAYLOAD_NOTIFICATION) |
			 FAMILY(PPX__V1__BODY__PAYLOAD_MINUTES));
	assert_true(h->kinds & (UINT64_C(1) << PPX__V1__NOTIFICATION_KIND__ARREST));
	assert_true(h->kinds &
		    (UINT64_C(1) << PPX__V1__NOTIFICATION_KIND__RECALL_DECIDED));
	assert_false(h->kinds &
		     (UINT64_C(1) << PPX__V1__NOTIFICATION_KIND__CHARGE));
	assert_int_equal(h->n_partners, 2);
	assert_string_equal(h->partners[0], "police.*");
	assert_int_equal(h->timeout_ms, 5000);
	assert_int_equal(h->retry_initial_ms, 50);
	assert_int_equal(h->retry_max_ms, 800);
	assert_int_equal(h->stuck_failures, 7);
	assert_int_equal(h->quarantine_after, 2);
	assert_int_equal(h->on_failure_stop, 1);
}

static void test_hooks_config__hook_defaults(void **state)
{
	struct fixture *f = *state;
	const struct ppx_hook_config *h;
	char want[1200];

	assert_int_equal(load(f, "[hook a]\ncommand = bin/sink\n"
				 "[hook b]\ncommand = /bin/true\nkinds = ARREST\n"),
			 0);
	h = hook(f, 0);
	/* A relative program is resolved against the file's directory. */
	snprintf(want, sizeof(want), "%s/bin/sink", f->dir);
	assert_string_equal(h->command, want);
	assert_int_equal(h->argc, 1);
	assert_int_equal(h->entry_kinds,
			 BIT(PPX__V1__ENTRY_KIND__ENTRY_SENT) |
			 BIT(PPX__V1__ENTRY_KIND__ENTRY_RECEIVED));
	assert_int_equal(h->families, 0);
	assert_int_equal(h->kinds, 0);
	assert_int_equal(h->n_partners, 0);
	assert_int_equal(h->timeout_ms, 30000);
	assert_int_equal(h->retry_initial_ms, 1000);
	assert_int_equal(h->retry_max_ms, 60000);
	assert_int_equal(h->stuck_failures, 3);
	assert_int_equal(h->quarantine_after, 5);
	assert_int_equal(h->on_failure_stop, 0);	/* quarantine */
	/* kinds alone: notifications of those kinds, nothing else. */
	assert_int_equal(hook(f, 1)->families,
			 FAMILY(PPX__V1__BODY__PAYLOAD_NOTIFICATION));
}

static void test_hooks_config__star_means_every_kind(void **state)
{
	struct fixture *f = *state;
	const struct ppx_hook_config *h;

	assert_int_equal(load(f, "[hook a]\ncommand = /bin/true\n"
				 "entry_kinds = *\nfamilies = *\n"), 0);
	h = hook(f, 0);
	for (int k = PPX__V1__ENTRY_KIND__ENTRY_SENT;
	     k <= PPX__V1__ENTRY_KIND__ENTRY_READ; k++)
		assert_true(h->entry_kinds & BIT(k));
	assert_false(h->entry_kinds & BIT(0));
	assert_true(h->families & FAMILY(PPX__V1__BODY__PAYLOAD_ACTION_UPDATE));
}

static void test_hooks_config__events_and_spool_load(void **state)
{
	struct fixture *f = *state;
	char want[1200];

	assert_int_equal(load(f, "[events]\n"
				 "endpoint = tcp://127.0.0.1:7200\n"
				 "[spool]\n"
				 "dir = spool\n"
				 "operator = casework.system\n"), 0);
	assert_string_equal(f->cfg->events_endpoint, "tcp://127.0.0.1:7200");
	snprintf(want, sizeof(want), "%s/spool", f->dir);
	assert_string_equal(f->cfg->spool_dir, want);
	assert_string_equal(f->cfg->spool_operator, "casework.system");
	assert_int_equal(f->cfg->spool_scan_ms, 200);
	assert_string_equal(
		ppx_config_operator_by_id(f->cfg, "casework.system")->name,
		"Casework System");
}

static void test_hooks_config__events_only_on_loopback_or_ipc(void **state)
{
	struct fixture *f = *state;
	static const char *good[] = {
		"ipc:///run/ppx/events.sock", "tcp://127.0.0.1:1",
		"tcp://127.1.2.3:65535", "tcp://[::1]:7200",
		"tcp://localhost:7200",
	};
	static const char *bad[] = {
		"tcp://0.0.0.0:7200", "tcp://*:7200", "tcp://10.0.0.1:7200",
		"tcp://128.0.0.1:7200", "tcp://127.0.0.1:0",
		"tcp://127.0.0.1:*", "tcp://127.0.0.256:1", "ipc://events.sock",
		"pgm://eth0;239.1.1.1:5555", "inproc://x",
	};
	char text[256];

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		snprintf(text, sizeof(text), "[events]\nendpoint = %s\n",
			 good[i]);
		if (load(f, text) != 0)
			fail_msg("%s refused: %s", good[i], ppx_error_last());
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), "[events]\nendpoint = %s\n",
			 bad[i]);
		assert_refused(f, text, L(2), "[events] endpoint");
	}
}

static void test_hooks_config__section_without_its_required_key(void **state)
{
	struct fixture *f = *state;

	assert_refused(f, "[events]\n", L(1), "[events] has no endpoint");
	assert_refused(f, "[spool]\noperator = casework.system\n", L(1),
		       "[spool] has no dir");
	assert_refused(f, "[spool]\ndir = /var/spool/ppx\n", L(1),
		       "[spool] has no operator");
	assert_refused(f, "[hook a]\nkinds = ARREST\n[hook b]\n", L(1),
		       "[hook a] has no command");
	assert_refused(f, "[hook a]\ncommand = /bin/true\n[hook b]\n", L(3),
		       "[hook b] has no command");
}

static void test_hooks_config__spool_operator_must_be_configured(void **state)
{
	struct fixture *f = *state;

	assert_refused(f, "[spool]\ndir = /s\noperator = dana.evans\n", L(3),
		       "[spool] operator = dana.evans: not a configured "
		       "[operator]");
	assert_refused(f, "[spool]\ndir = /s\noperator = Dana\n", L(3),
		       "not an operator id");
}

static void test_hooks_config__bad_hook_names_are_refused(void **state)
{
	struct fixture *f = *state;

	assert_refused(f, "[hook Sink]\ncommand = /bin/true\n", L(1),
		       "[hook Sink]: the name must be lower case");
	assert_refused(f, "[hook a]\ncommand = /bin/true\n"
			  "[hook a]\ncommand = /bin/true\n", L(3),
		       "[hook a] given twice (first at line 21)");
}

static void test_hooks_config__bad_commands_are_refused(void **state)
{
	struct fixture *f = *state;

	assert_refused(f, "[hook a]\ncommand = /bin/sink \"open\n", L(2),
		       "a double quote is not closed");
	assert_refused(f, "[hook a]\ncommand = \"\"\n", L(2),
		       "no program to run");
	assert_refused(f, "[hook a]\ncommand = /bin/x 1 2 3 4 5 6 7 8 9 10 11 "
			  "12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 "
			  "29 30 31 32\n", L(2), "more than 32 words");
}

static void test_hooks_config__unknown_filter_names_are_refused(void **state)
{
	struct fixture *f = *state;

	assert_refused(f, "[hook a]\ncommand = /bin/true\n"
			  "entry_kinds = ENTRY_RECIEVED\n", L(3),
		       "ENTRY_RECIEVED: not an EntryKind");
	assert_refused(f, "[hook a]\ncommand = /bin/true\n"
			  "families = notifications\n", L(3),
		       "notifications: unknown family");
	assert_refused(f, "[hook a]\ncommand = /bin/true\nkinds = ARRESTED\n",
		       L(3), "ARRESTED: not a NotificationKind");
	assert_refused(f, "[hook a]\ncommand = /bin/true\nkinds = ZZ_*\n",
		       L(3), "ZZ_*: matches no NotificationKind");
	assert_refused(f, "[hook a]\ncommand = /bin/true\nkinds = arrest\n",
		       L(3), "written in capitals");
	assert_refused(f, "[hook a]\ncommand = /bin/true\n"
			  "entry_kinds = ENTRY_SENT,, ENTRY_RECEIVED\n", L(3),
		       "empty item in the list");
	assert_refused(f, "[hook a]\ncommand = /bin/true\n"
			  "on_failure = skip\n", L(3),
		       "must be quarantine");
	assert_refused(f, "[hook a]\ncommand = /bin/true\n"
			  "quarantine_after = 0\n", L(3), "quarantine_after");
}

static void test_hooks_config__partners_must_be_partners(void **state)
{
	struct fixture *f = *state;

	/* Globs are not checked against the partners; names are, wherever
	 * the partner's section is. */
	assert_int_equal(load(f, "[hook a]\ncommand = /bin/true\n"
				 "partners = prison.*, police.gwent\n"), 0);
	assert_refused(f, "[hook a]\ncommand = /bin/true\n"
			  "partners = police.gwnet\n", L(3),
		       "[hook a] partners: police.gwnet is not a configured "
		       "[partner]");
	assert_refused(f, "[hook a]\ncommand = /bin/true\n"
			  "partners = Police.Gwent\n", L(3),
		       "not an agency name or glob");
}

static void test_hooks_config__kinds_need_notifications(void **state)
{
	struct fixture *f = *state;

	assert_refused(f, "[hook a]\ncommand = /bin/true\nfamilies = minutes\n"
			  "kinds = ARREST\n", L(4),
		       "kinds filters notifications, but families leaves them "
		       "out");
}

static void test_hooks_config__retry_max_below_initial(void **state)
{
	struct fixture *f = *state;

	assert_refused(f, "[hook a]\ncommand = /bin/true\n"
			  "retry_initial_ms = 5000\nretry_max_ms = 1000\n",
		       L(4), "retry_max_ms = 1000: must be at least "
			     "retry_initial_ms (5000)");
	assert_refused(f, "[hook a]\ncommand = /bin/true\ntimeout_ms = 10\n",
		       L(3), "timeout_ms = 10: must be between 100 and");
}

static void test_hooks_config__hook_key_in_wrong_section(void **state)
{
	struct fixture *f = *state;

	assert_refused(f, "[spool]\ncommand = /bin/true\n", L(2),
		       "[spool] command: unknown key");
	assert_refused(f, "[events]\nendpoint = tcp://127.0.0.1:1\n"
			  "[events]\nendpoint = tcp://127.0.0.1:2\n", L(3),
		       "[events] given twice");
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_hooks_config__none_by_default),
		T(test_hooks_config__hook_loads_every_value),
		T(test_hooks_config__hook_defaults),
		T(test_hooks_config__star_means_every_kind),
		T(test_hooks_config__events_and_spool_load),
		T(test_hooks_config__events_only_on_loopback_or_ipc),
		T(test_hooks_config__section_without_its_required_key),
		T(test_hooks_config__spool_operator_must_be_configured),
		T(test_hooks_config__bad_hook_names_are_refused),
		T(test_hooks_config__bad_commands_are_refused),
		T(test_hooks_config__unknown_filter_names_are_refused),
		T(test_hooks_config__partners_must_be_partners),
		T(test_hooks_config__kinds_need_notifications),
		T(test_hooks_config__retry_max_below_initial),
		T(test_hooks_config__hook_key_in_wrong_section),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
