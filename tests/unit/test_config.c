/*
 * test_config.c — the configuration file loads completely or not at all,
 * and every refusal names the file and the line.
 *
 * Each test writes its file into a fresh temporary directory; line
 * numbers in the expectations are those of the texts below.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "ppx/config.h"
#include "ppx/error.h"
#include "support.h"

/* [agency] and [pki]: the least a file may say (10 lines). */
#define MINIMAL                                    \
	"[agency]\n"                               \
	"name = police.gwent\n"                    \
	"listen = tcp://*:7101\n"                  \
	"log_dir = /var/lib/ppx/police.gwent\n"    \
	"control = /run/ppx/police.gwent\n"        \
	"policy = /etc/ppx/policy.conf\n"          \
	"[pki]\n"                                  \
	"ca = /etc/ppx/ca.crt\n"                   \
	"crl = /etc/ppx/crl.pem\n"                 \
	"certs = /etc/ppx/certs\n"                 \
	"signing_key = /etc/ppx/signing.key\n"     \
	"signing_cert = /etc/ppx/signing.crt\n"    \
	"transport_key = /etc/ppx/transport.key\n" \
	"transport_cert = /etc/ppx/transport.crt\n"
#define MINIMAL_LINES 14

static const char full[] =
	"; police.gwent\n"			/* 1 */
	"[agency]\n"
	"name = police.gwent\n"
	"area = gwent                 ; MAPPA area\n"
	"listen = tcp://127.0.0.1:7101\n"	/* 5 */
	"log_dir = log\n"
	"control = /run/ppx/police.gwent\n"
	"policy = policy.conf\n"
	"\n"
	"[pki]\n"				/* 10 */
	"ca = pki/ca.crt\n"
	"crl = pki/crl.pem\n"
	"certs = pki/certs\n"
	"signing_key = pki/signing.key\n"
	"signing_cert = pki/signing.crt\n"	/* 15 */
	"transport_key = /etc/ppx/transport.key\n"
	"transport_cert = pki/transport.crt\n"
	"\n"
	"[delivery]\n"
	"retry_initial_ms = 250\n"		/* 20 */
	"retry_max_ms = 60000\n"
	"window = 64\n"
	"heartbeat_ms = 2000\n"
	"heartbeat_timeout_ms = 10000\n"
	"batch_max = 512\n"			/* 25 */
	"checkpoint_every = 500\n"
	"clock_skew_ms = 60000\n"
	"max_frame = 2097152\n"
	"\n"
	"[partner probation.gwent]\n"		/* 30 */
	"endpoint = tcp://127.0.0.1:7102\n"
	"\n"
	"[partner housing.newport]\n"
	"endpoint = tcp://housing.example:7104\n"
	"type = duty-to-cooperate\n"		/* 35 */
	"\n"
	"[operator dana.evans]\n"
	"uid = 1000\n"
	"name = Dana Evans\n"
	"role = police offender manager\n"	/* 40 */
	"grade = DS\n"
	"\n"
	"[operator sys.admin]\n"
	"user = root\n"
	"name = Systems Administrator\n";	/* 45 */

struct fixture {
	char *dir;
	char path[1024];		/* $dir/police.conf */
	struct ppx_config *cfg;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->dir = tmpdir_new();
	snprintf(f->path, sizeof(f->path), "%s/police.conf", f->dir);
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

/* Write `text` as the config file and load it. */
static int load(struct fixture *f, const char *text)
{
	ppx_config_free(f->cfg);
	f->cfg = NULL;
	write_text(f->path, text);
	return ppx_config_load(&f->cfg, f->path);
}

/* MINIMAL followed by `extra`, whose first line is MINIMAL_LINES + 1. */
static int load_extra(struct fixture *f, const char *extra)
{
	char text[8192];

	snprintf(text, sizeof(text), "%s%s", MINIMAL, extra);
	return load(f, text);
}

/* The load failed with PPX_EINVAL, "$path:line: ..." containing `what`. */
static void assert_refused(struct fixture *f, int rc, int line,
			   const char *what)
{
	char prefix[1100];
	const char *msg = ppx_error_last();

	snprintf(prefix, sizeof(prefix), "%s:%d: ", f->path, line);
	if (rc != PPX_EINVAL || strncmp(msg, prefix, strlen(prefix)) != 0 ||
	    !strstr(msg, what))
		fail_msg("rc %d, message \"%s\"; expected \"%s...%s\"", rc, msg,
			 prefix, what);
	assert_null(f->cfg);
}

static void test_config__full_file_loads_every_value(void **state)
{
	struct fixture *f = *state;
	const struct ppx_config *c;
	char want[1100];

	assert_int_equal(load(f, full), 0);
	c = f->cfg;
	assert_string_equal(c->path, f->path);
	assert_string_equal(c->agency, "police.gwent");
	assert_string_equal(c->area, "gwent");
	assert_string_equal(c->listen, "tcp://127.0.0.1:7101");
	assert_string_equal(c->control_dir, "/run/ppx/police.gwent");
	assert_string_equal(c->transport_key, "/etc/ppx/transport.key");
	snprintf(want, sizeof(want), "%s/pki/signing.key", f->dir);
	assert_string_equal(c->signing_key, want);
	assert_int_equal(c->retry_initial_ms, 250);
	assert_int_equal(c->retry_max_ms, 60000);
	assert_int_equal(c->window, 64);
	assert_int_equal(c->heartbeat_ms, 2000);
	assert_int_equal(c->heartbeat_timeout_ms, 10000);
	assert_int_equal(c->batch_max, 512);
	assert_int_equal(c->checkpoint_every, 500);
	assert_int_equal(c->clock_skew_ms, 60000);
	assert_int_equal(c->max_frame, 2097152);
	assert_int_equal(c->n_partners, 2);
	assert_string_equal(c->partners[0].endpoint, "tcp://127.0.0.1:7102");
	assert_int_equal(c->partners[0].duty_to_cooperate, 0);
	assert_int_equal(
		ppx_config_partner(c, "housing.newport")->duty_to_cooperate, 1);
	assert_int_equal(ppx_config_partner(c, "housing.newport")->line, 33);
	assert_null(ppx_config_partner(c, "prison.cardiff"));
	assert_int_equal(c->n_operators, 2);
	assert_string_equal(ppx_config_operator_by_uid(c, 1000)->name,
			    "Dana Evans");
	assert_string_equal(ppx_config_operator_by_uid(c, 1000)->role,
			    "police offender manager");
	assert_string_equal(ppx_config_operator_by_uid(c, 1000)->grade, "DS");
	assert_string_equal(ppx_config_operator_by_uid(c, 1000)->user, "");
	assert_null(ppx_config_operator_by_uid(c, 1001));
}

static void test_config__defaults_apply(void **state)
{
	struct fixture *f = *state;
	const struct ppx_config *c;

	assert_int_equal(load(f, MINIMAL), 0);
	c = f->cfg;
	assert_string_equal(c->area, "");
	assert_int_equal(c->retry_initial_ms, 200);
	assert_int_equal(c->retry_max_ms, 30000);
	assert_int_equal(c->window, 256);
	assert_int_equal(c->heartbeat_ms, 1000);
	assert_int_equal(c->heartbeat_timeout_ms, 5000);
	assert_int_equal(c->batch_max, 1024);
	assert_int_equal(c->checkpoint_every, 1000);
	assert_int_equal(c->clock_skew_ms, 300000);
	assert_int_equal(c->max_frame, 1048576);
	assert_int_equal(c->n_partners, 0);
	assert_int_equal(c->n_operators, 0);
}

/* Relative to the file, not to the working directory, and absolute even
 * when the file itself was named relatively. */
static void test_config__relative_paths_resolve_against_the_file(void **state)
{
	struct fixture *f = *state;
	char etc[1024], path[1100], want[1200], cwd[1024];

	snprintf(etc, sizeof(etc), "%s/etc", f->dir);
	assert_int_equal(mkdir(etc, 0700), 0);
	snprintf(path, sizeof(path), "%s/police.conf", etc);
	write_text(path, full);
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(f->dir), 0);
	int rc = ppx_config_load(&f->cfg, "etc/../etc/police.conf");
	assert_int_equal(chdir(cwd), 0);
	assert_int_equal(rc, 0);
	snprintf(want, sizeof(want), "%s/log", etc);
	assert_string_equal(f->cfg->log_dir, want);
	snprintf(want, sizeof(want), "%s/policy.conf", etc);
	assert_string_equal(f->cfg->policy_path, want);
	snprintf(want, sizeof(want), "%s/pki/certs", etc);
	assert_string_equal(f->cfg->certs, want);
	assert_string_equal(f->cfg->path, "etc/../etc/police.conf");
}

static void test_config__unknown_section_names_file_and_line(void **state)
{
	struct fixture *f = *state;

	assert_refused(f, load_extra(f, "\n[partners]\nendpoint = x\n"),
		       MINIMAL_LINES + 2, "[partners]: unknown section");
	/* An empty section is noticed too, though libinih reports nothing
	 * for it. */
	assert_refused(f, load_extra(f, "[logging]\n"), MINIMAL_LINES + 1,
		       "[logging]: unknown section");
}

static void test_config__unknown_key_names_file_and_line(void **state)
{
	struct fixture *f = *state;

	assert_refused(f, load_extra(f, "[delivery]\nwindow = 5\nwindw = 4\n"),
		       MINIMAL_LINES + 3, "[delivery] windw: unknown key");
	assert_refused(f, load(f, "[agency]\nname = police.gwent\nport = 1\n"),
		       3, "[agency] port: unknown key");
}

static void test_config__key_outside_any_section_is_refused(void **state)
{
	struct fixture *f = *state;

	assert_refused(f, load(f, "; header\nname = police.gwent\n" MINIMAL),
		       2, "outside any [section]");
}

static void test_config__missing_required_key_names_its_section(void **state)
{
	struct fixture *f = *state;

	assert_refused(f, load(f, "[pki]\nca = a\ncrl = b\ncerts = c\n"
			       "signing_key = d\nsigning_cert = e\n"
			       "transport_key = f\ntransport_cert = g\n"
			       "\n[agency]\nname = police.gwent\n"
			       "listen = tcp://*:1\nlog_dir = l\n"
			       "control = c\n"),
		       10, "[agency] has no policy; it is required");
	assert_refused(f, load(f, "[agency]\nname = police.gwent\n"
			       "listen = tcp://*:1\nlog_dir = l\ncontrol = c\n"
			       "policy = p\n\n"),
		       7, "no [pki] section; it must give ca");
}

static void test_config__out_of_range_number_names_the_range(void **state)
{
	struct fixture *f = *state;

	assert_refused(f, load_extra(f, "[delivery]\nwindow = 0\n"),
		       MINIMAL_LINES + 2,
		       "[delivery] window = 0: must be between 1 and 10000");
	assert_refused(f, load_extra(f, "[delivery]\nmax_frame = 99999999999"
				     "999999999999\n"),
		       MINIMAL_LINES + 2, "must be between 1024 and 16777216");
	assert_refused(f, load_extra(f, "[delivery]\nretry_initial_ms = -5\n"),
		       MINIMAL_LINES + 2, "must be between 10 and 60000");
}

static void test_config__non_number_is_refused(void **state)
{
	struct fixture *f = *state;

	assert_refused(f, load_extra(f, "[delivery]\nbatch_max = 12k\n"),
		       MINIMAL_LINES + 2,
		       "[delivery] batch_max = 12k: not a whole number");
	assert_refused(f, load_extra(f, "[delivery]\nwindow = ten\n"),
		       MINIMAL_LINES + 2, "not a whole number");
}

static void test_config__bad_agency_name_is_refused(void **state)
{
	static const char *const bad[] = {
		"Police.Gwent", "police", "police.", ".gwent", "police..gwent",
		"9police.gwent", "police.gw_ent", "police.gwent/x",
	};
	struct fixture *f = *state;
	char text[2048];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), "[agency]\nname = %s\n", bad[i]);
		assert_refused(f, load(f, text), 2, "not a dotted agency name");
	}
	assert_int_equal(ppx_config_agency_name_valid("police.gwent"), 1);
	assert_int_equal(ppx_config_agency_name_valid("yot.south-wales.2"), 1);
	assert_refused(f, load_extra(f, "[partner Probation]\nendpoint = "
				     "tcp://a:1\n"),
		       MINIMAL_LINES + 1, "[partner Probation]: not a dotted");
}

static void test_config__bad_endpoint_is_refused(void **state)
{
	static const char *const bad[] = {
		"udp://127.0.0.1:7102", "tcp://127.0.0.1", "tcp://:7102",
		"tcp://host:0", "tcp://host:70000", "tcp://host:71a",
		"tcp://*:7102", "ipc:///run/x", "tcp://ho st:1",
		"tcp://[::1:7102",
	};
	struct fixture *f = *state;
	char text[2048];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), "[partner prison.cardiff]\n"
			 "endpoint = %s\n", bad[i]);
		assert_refused(f, load_extra(f, text), MINIMAL_LINES + 2,
			       "must be tcp://HOST:PORT");
	}
	assert_int_equal(load_extra(f, "[partner prison.cardiff]\n"
				    "endpoint = tcp://[::1]:7103\n"), 0);
	assert_refused(f, load(f, "[agency]\nlisten = udp://*:1\n"), 2,
		       "[agency] listen = udp://*:1: must be tcp://HOST:PORT");
}

static void test_config__duplicate_key_names_both_lines(void **state)
{
	struct fixture *f = *state;

	assert_refused(f, load_extra(f, "[delivery]\nwindow = 5\n\n"
				     "window = 6\n"),
		       MINIMAL_LINES + 4,
		       "[delivery] window given twice (first at line 16)");
	assert_refused(f, load_extra(f, "[operator a]\nuid = 5\nname = A\n"
				     "name = B\n"),
		       MINIMAL_LINES + 4, "[operator a] name given twice");
}

static void test_config__duplicate_section_is_refused(void **state)
{
	struct fixture *f = *state;

	assert_refused(f, load_extra(f, "[agency]\narea = gwent\n"),
		       MINIMAL_LINES + 1, "[agency] given twice (first at "
		       "line 1)");
}

static void test_config__duplicate_partner_is_refused(void **state)
{
	struct fixture *f = *state;

	assert_refused(f, load_extra(f, "[partner prison.cardiff]\n"
				     "endpoint = tcp://a:1\n"
				     "[partner prison.cardiff]\n"
				     "endpoint = tcp://b:1\n"),
		       MINIMAL_LINES + 3,
		       "[partner prison.cardiff] given twice (first at line "
		       "15)");
}

static void test_config__partner_named_like_self_is_refused(void **state)
{
	struct fixture *f = *state;

	/* The partner comes first: the check waits for the whole file. */
	assert_refused(f, load(f, "[partner police.gwent]\n"
			       "endpoint = tcp://a:1\n" MINIMAL),
		       1, "[partner police.gwent]: that is this agency's own "
		       "name");
}

static void test_config__partner_needs_endpoint_and_known_type(void **state)
{
	struct fixture *f = *state;

	/* Checked at the end of the file: a [federation] after it would
	 * make the endpoint optional. */
	assert_refused(f, load_extra(f, "[partner prison.cardiff]\n"
				     "type = duty-to-cooperate\n\n"
				     "[operator a]\nuid = 1000\nname = A\n"),
		       MINIMAL_LINES + 1, "[partner prison.cardiff] has no "
		       "endpoint; it is required");
	assert_refused(f, load_extra(f, "[partner prison.cardiff]\n"
				     "endpoint = tcp://a:1\ntype = partner\n"),
		       MINIMAL_LINES + 3, "must be responsible-authority or "
		       "duty-to-cooperate");
}

static void test_config__proofs_are_required_unless_said(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(load(f, MINIMAL), 0);
	assert_int_equal(f->cfg->evidence_proofs, 1);
	assert_int_equal(load_extra(f, "[evidence]\nproofs = no\n"
				    "[partner prison.cardiff]\n"
				    "endpoint = tcp://a:1\n"
				    "[partner probation.gwent]\n"
				    "endpoint = tcp://b:1\nproofs = optional\n"),
			 0);
	assert_int_equal(f->cfg->evidence_proofs, 0);
	assert_int_equal(ppx_config_partner(f->cfg, "prison.cardiff")
				 ->proofs_optional, 0);
	assert_int_equal(ppx_config_partner(f->cfg, "probation.gwent")
				 ->proofs_optional, 1);
	assert_refused(f, load_extra(f, "[evidence]\nproofs = maybe\n"),
		       MINIMAL_LINES + 2, "must be yes or no");
	assert_refused(f, load_extra(f, "[partner prison.cardiff]\n"
				     "endpoint = tcp://a:1\nproofs = no\n"),
		       MINIMAL_LINES + 3, "must be optional or required");
}

static void test_config__witnessing_is_on_unless_said(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(load(f, MINIMAL), 0);
	assert_int_equal(f->cfg->witness, 1);
	assert_int_equal(f->cfg->witness_interval_ms, 10000);
	assert_int_equal(load_extra(f, "[evidence]\nwitness_interval_ms = 200\n"
				    "[partner prison.cardiff]\n"
				    "endpoint = tcp://a:1\n"
				    "[partner probation.gwent]\n"
				    "endpoint = tcp://b:1\nwitness = no\n"),
			 0);
	assert_int_equal(f->cfg->witness, 1);
	assert_int_equal(f->cfg->witness_interval_ms, 200);
	assert_int_equal(ppx_config_partner(f->cfg, "prison.cardiff")
				 ->witness_off, 0);
	assert_int_equal(ppx_config_partner(f->cfg, "probation.gwent")
				 ->witness_off, 1);
	assert_int_equal(load_extra(f, "[evidence]\nwitness = no\n"), 0);
	assert_int_equal(f->cfg->witness, 0);
	assert_refused(f, load_extra(f, "[partner prison.cardiff]\n"
				     "endpoint = tcp://a:1\nwitness = off\n"),
		       MINIMAL_LINES + 3, "must be no or yes");
}

/* `full` with `line` added after its signing_key line (line 14). */
static int load_with_signer(struct fixture *f, const char *line)
{
	const char *key = "signing_key = pki/signing.key\n";
	const char *at = strstr(full, key) + strlen(key);
	char text[sizeof(full) + 128];

	snprintf(text, sizeof(text), "%.*s%s%s", (int)(at - full), full, line,
		 at);
	return load(f, text);
}

static void test_config__signer_is_a_process_unless_said(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(load(f, full), 0);
	assert_int_equal(f->cfg->signer_in_process, 0);
	assert_int_equal(load_with_signer(f, "signer = process\n"), 0);
	assert_int_equal(f->cfg->signer_in_process, 0);
	assert_int_equal(load_with_signer(f, "signer = in-process\n"), 0);
	assert_int_equal(f->cfg->signer_in_process, 1);
	assert_refused(f, load_with_signer(f, "signer = pkcs11\n"), 15,
		       "must be process or in-process");
}

static void test_config__operator_with_both_user_and_uid_is_refused(
	void **state)
{
	struct fixture *f = *state;

	assert_refused(f, load_extra(f, "[operator dana.evans]\nuser = root\n"
				     "name = Dana Evans\nuid = 1000\n"),
		       MINIMAL_LINES + 4, "[operator dana.evans] gives both "
		       "user and uid; give exactly one of user and uid");
}

/* person_cert: 64 hex digits, or a certificate file fingerprinted when
 * the file is read; anything else is refused naming the key. */
static void test_config__operator_person_cert_as_hex_or_file(void **state)
{
	struct fixture *f = *state;
	const struct ppx_operator *op;
	uint8_t want[PPX_FINGERPRINT_LEN];
	ppx_cert *cert = NULL;
	char text[2048], *crt;

	assert_int_equal(load_extra(f, "[operator dana.evans]\nuid = 1000\n"
				    "name = Dana Evans\nperson_cert = "
				    "00112233445566778899AABBCCDDEEFF"
				    "00112233445566778899aabbccddeeff\n"), 0);
	op = ppx_config_operator_by_uid(f->cfg, 1000);
	assert_true(op->has_person_cert);
	assert_int_equal(op->person_cert[10], 0xaa);
	assert_int_equal(op->person_cert[31], 0xff);
	crt = realpath(pki_path("people/police.gwent/dana.evans.crt"), NULL);
	assert_non_null(crt);
	snprintf(text, sizeof(text), "[operator dana.evans]\nuid = 1000\n"
		 "name = Dana Evans\nperson_cert = %s\n", crt);
	assert_int_equal(load_extra(f, text), 0);
	assert_int_equal(ppx_cert_load(&cert, crt), 0);
	free(crt);
	assert_int_equal(ppx_cert_fingerprint(cert, want), 0);
	ppx_cert_free(cert);
	op = ppx_config_operator_by_uid(f->cfg, 1000);
	assert_memory_equal(op->person_cert, want, sizeof(want));
	assert_int_equal(load_extra(f, "[operator dana.evans]\nuid = 1000\n"
				    "name = Dana Evans\n"), 0);
	assert_false(ppx_config_operator_by_uid(f->cfg, 1000)->has_person_cert);
	assert_refused(f, load_extra(f, "[operator dana.evans]\nuid = 1000\n"
				     "name = Dana Evans\nperson_cert = "
				     "no-such.crt\n"),
		       MINIMAL_LINES + 4, "neither 64 hex digits");
}

static void test_config__operator_with_neither_user_nor_uid_is_refused(
	void **state)
{
	struct fixture *f = *state;

	assert_refused(f, load_extra(f, "[operator dana.evans]\n"
				     "name = Dana Evans\n"),
		       MINIMAL_LINES + 1, "gives neither user nor uid");
	assert_refused(f, load_extra(f, "[operator dana.evans]\nuid = 1000\n"),
		       MINIMAL_LINES + 1, "[operator dana.evans] has no name");
}

static void test_config__operator_unknown_user_is_refused(void **state)
{
	struct fixture *f = *state;

	assert_refused(f, load_extra(f, "[operator ghost]\n"
				     "user = ppx-no-such-user\n"),
		       MINIMAL_LINES + 2, "[operator ghost] user = "
		       "ppx-no-such-user: no such Unix user");
	assert_refused(f, load_extra(f, "[operator ghost]\nuser = Bad User\n"),
		       MINIMAL_LINES + 2, "not a valid Unix user name");
	assert_refused(f, load_extra(f, "[operator ghost]\nuid = -1\n"),
		       MINIMAL_LINES + 2, "must be between 0 and 4294967294");
}

static void test_config__operator_user_name_resolves_to_uid(void **state)
{
	struct fixture *f = *state;
	const struct ppx_operator *op;

	assert_int_equal(load(f, full), 0);
	op = ppx_config_operator_by_uid(f->cfg, 0);
	assert_non_null(op);
	assert_string_equal(op->id, "sys.admin");
	assert_string_equal(op->user, "root");
	assert_int_equal(op->line, 43);
}

/* A shared or borrowed identity is the failure of 000:L231. */
static void test_config__two_operators_on_one_uid_are_refused(void **state)
{
	struct fixture *f = *state;

	assert_refused(f, load_extra(f, "[operator a]\nuid = 0\nname = A\n"
				     "[operator b]\nname = B\nuser = root\n"),
		       MINIMAL_LINES + 6, "[operator b]: uid 0 is already "
		       "operator a (line 15)");
	assert_refused(f, load_extra(f, "[operator a]\nuid = 7\nname = A\n"
				     "[operator a]\n"),
		       MINIMAL_LINES + 4, "[operator a] given twice");
}

static void test_config__heartbeat_timeout_below_interval_is_refused(
	void **state)
{
	struct fixture *f = *state;

	assert_refused(f, load_extra(f, "[delivery]\nheartbeat_timeout_ms = "
				     "500\n"),
		       MINIMAL_LINES + 2, "[delivery] heartbeat_timeout_ms = "
		       "500: must be at least heartbeat_ms (1000)");
	assert_refused(f, load_extra(f, "[delivery]\nretry_initial_ms = 5000\n"
				     "retry_max_ms = 1000\n"),
		       MINIMAL_LINES + 3, "retry_max_ms = 1000: must be at "
		       "least retry_initial_ms (5000)");
}

/* libinih would join an indented line to the value above it. */
static void test_config__indented_continuation_is_refused(void **state)
{
	struct fixture *f = *state;

	assert_refused(f, load_extra(f, "[delivery]\nwindow = 5\n"
				     "  batch_max = 7\n"),
		       MINIMAL_LINES + 3, "[delivery] window: this indented "
		       "line would continue its value");
	assert_int_equal(load_extra(f, "[delivery]\n  window = 5\n"), 0);
	assert_int_equal(f->cfg->window, 5);
}

/* libinih reads 200-byte lines; a longer one must not become two. */
static void test_config__overlong_line_is_refused_not_split(void **state)
{
	struct fixture *f = *state;
	char text[4096], name[300];

	memset(name, 'a', 250);
	name[250] = '\0';
	snprintf(text, sizeof(text), "%s[operator x]\nuid = 5\nname = %s\n",
		 MINIMAL, name);
	assert_refused(f, load(f, text), MINIMAL_LINES + 3, "line longer than");
}

static void test_config__syntax_error_names_line(void **state)
{
	struct fixture *f = *state;

	assert_refused(f, load_extra(f, "[delivery]\nwindow 5\n"),
		       MINIMAL_LINES + 2, "syntax error");
	assert_refused(f, load_extra(f, "[delivery\n"), MINIMAL_LINES + 1,
		       "syntax error");
}

/* libinih keeps 50 bytes of a section name; we keep all of it. */
static void test_config__long_section_names_are_kept_whole(void **state)
{
	struct fixture *f = *state;
	const char *name = "youth-offending.south-wales-and-the-marches-"
			   "combined-area";

	char text[4096];

	snprintf(text, sizeof(text), "%s[partner %s]\nendpoint = tcp://a:1\n"
		 "type = duty-to-cooperate\n", MINIMAL, name);
	assert_int_equal(load(f, text), 0);
	assert_non_null(ppx_config_partner(f->cfg, name));
	assert_int_equal(ppx_config_partner(f->cfg, name)->duty_to_cooperate,
			 1);
}

static void test_config__missing_file_is_an_io_error(void **state)
{
	struct fixture *f = *state;
	char path[1100];

	snprintf(path, sizeof(path), "%s/nope.conf", f->dir);
	assert_int_equal(ppx_config_load(&f->cfg, path), PPX_EIO);
	assert_non_null(strstr(ppx_error_last(), "nope.conf"));
	assert_null(f->cfg);
	snprintf(path, sizeof(path), "%s/no/such/dir/x.conf", f->dir);
	assert_int_equal(ppx_config_load(&f->cfg, path), PPX_EIO);
	ppx_config_free(NULL);
}

/* The control socket DIR/control.sock must fit in sun_path. */
static void test_config__control_dir_fits_a_unix_socket_path(void **state)
{
	struct fixture *f = *state;
	char text[4096], dir[200];

	memset(dir, 'c', 95);
	dir[0] = '/';
	dir[95] = '\0';
	snprintf(text, sizeof(text), "[agency]\ncontrol = %s\n", dir);
	assert_refused(f, load(f, text), 2, "longer than 94 characters");
}

/* docs/examples/police.gwent.conf is a working file (run from the top
 * of the tree, as make test does). */
static void test_config__example_file_loads(void **state)
{
	struct fixture *f = *state;
	const struct ppx_operator *op;

	if (ppx_config_load(&f->cfg, "docs/examples/police.gwent.conf") != 0)
		fail_msg("%s", ppx_error_last());
	assert_string_equal(f->cfg->agency, "police.gwent");
	assert_int_equal(f->cfg->n_partners, 3);
	assert_int_equal(ppx_config_partner(f->cfg, "housing.newport")
				 ->duty_to_cooperate,
			 1);
	op = ppx_config_operator_by_uid(f->cfg, 1001);
	assert_non_null(op);
	assert_string_equal(op->name, "Dana Evans");
	assert_non_null(strstr(f->cfg->policy_path, "/docs/examples/policy.conf"));
}

/* [federation]: a directory makes [partner] endpoints optional; the
 * section needs its directory; partners globs narrow. */
#define FEDERATION                                  \
	"[federation]\n"                            \
	"directory = directory.pb\n"                \
	"name = england-wales\n"                    \
	"partners = police.*, probation.gwent\n"    \
	"forward = no\n"

static void test_config__federation_section_loads(void **state)
{
	struct fixture *f = *state;
	char want[1100];

	assert_int_equal(load_extra(f, "[partner probation.gwent]\n"
				    "type = duty-to-cooperate\n"
				    FEDERATION), 0);
	snprintf(want, sizeof(want), "%s/directory.pb", f->dir);
	assert_non_null(strstr(f->cfg->directory_drop, "/directory.pb"));
	assert_string_equal(f->cfg->federation, "england-wales");
	assert_int_equal(f->cfg->n_fed_partners, 2);
	assert_string_equal(f->cfg->fed_partners[0], "police.*");
	assert_string_equal(f->cfg->fed_partners[1], "probation.gwent");
	assert_int_equal(f->cfg->fed_forward, 0);
	assert_int_equal(f->cfg->n_partners, 1);
	assert_string_equal(f->cfg->partners[0].endpoint, "");
	assert_int_equal(f->cfg->partners[0].duty_to_cooperate, 1);
	assert_int_equal(f->cfg->partners[0].from_directory, 0);
	assert_int_equal(f->cfg->partners[0].standing,
			 PPX_STANDING_CONFIGURED);
}

static void test_config__federation_defaults_allow_all_and_forward(
	void **state)
{
	struct fixture *f = *state;

	assert_int_equal(load_extra(f, "[federation]\n"
				    "directory = /etc/ppx/directory.pb\n"
				    "name = england-wales\n"), 0);
	assert_string_equal(f->cfg->directory_drop, "/etc/ppx/directory.pb");
	assert_int_equal(f->cfg->fed_forward, 1);
	assert_int_equal(f->cfg->n_fed_partners, 0);
	assert_true(ppx_config_fed_allows(f->cfg, "housing.newport"));
	assert_int_equal(load(f, MINIMAL), 0);
	assert_string_equal(f->cfg->directory_drop, "");
	assert_int_equal(f->cfg->fed_forward, 1);
}

static void test_config__federation_needs_its_directory(void **state)
{
	struct fixture *f = *state;

	assert_refused(f, load_extra(f, "[federation]\n"
				     "name = england-wales\n"),
		       MINIMAL_LINES + 1, "[federation] has no directory; it "
		       "is required");
	/* The name too: one CA may serve several federations. */
	assert_refused(f, load_extra(f, "[federation]\n"
				     "directory = d.pb\n"),
		       MINIMAL_LINES + 1, "[federation] has no name; it is "
		       "required");
	assert_refused(f, load_extra(f, "[federation]\n"
				     "directory = d.pb\nname = e\n"
				     "partners = police.*,\n"),
		       MINIMAL_LINES + 4, "empty item in the list");
	assert_refused(f, load_extra(f, "[federation]\n"
				     "directory = d.pb\nname = e\n"
				     "partners = Police\n"),
		       MINIMAL_LINES + 4, "not agency names or globs");
	assert_refused(f, load_extra(f, "[federation]\n"
				     "directory = d.pb\nname = Eng land\n"),
		       MINIMAL_LINES + 3, "not a federation name");
	assert_refused(f, load_extra(f, "[federation]\n"
				     "directory = d.pb\nname = e\n"
				     "forward = maybe\n"),
		       MINIMAL_LINES + 4, "must be yes or no");
}

static void test_config__partner_endpoint_optional_with_a_directory(
	void **state)
{
	struct fixture *f = *state;

	/* [federation] after the partner still counts. */
	assert_int_equal(load_extra(f, "[partner prison.cardiff]\n"
				    "witness = no\n"
				    "[federation]\ndirectory = d.pb\n"
				    "name = e\n"), 0);
	assert_int_equal(f->cfg->partners[0].witness_off, 1);
	assert_refused(f, load_extra(f, "[partner prison.cardiff]\n"
				     "witness = no\n"),
		       MINIMAL_LINES + 1, "has no endpoint; it is required "
		       "without a [federation] directory");
}

static void test_config__hook_may_name_a_partner_the_directory_brings(
	void **state)
{
	struct fixture *f = *state;

	assert_int_equal(load_extra(f, "[federation]\ndirectory = d.pb\n"
				    "name = e\n[hook h]\ncommand = /bin/true\n"
				    "partners = housing.newport\n"), 0);
	assert_refused(f, load_extra(f, "[hook h]\ncommand = /bin/true\n"
				     "partners = housing.newport\n"),
		       MINIMAL_LINES + 3, "not a configured [partner]");
}

static void test_config__fed_allows_matches_names_and_globs(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(load_extra(f, FEDERATION), 0);
	assert_true(ppx_config_fed_allows(f->cfg, "police.gwent"));
	assert_true(ppx_config_fed_allows(f->cfg, "police.dyfed-powys"));
	assert_true(ppx_config_fed_allows(f->cfg, "probation.gwent"));
	assert_false(ppx_config_fed_allows(f->cfg, "probation.dyfed"));
	assert_false(ppx_config_fed_allows(f->cfg, "housing.newport"));
}

static void test_config__add_partner_appends_and_refuses_duplicates(
	void **state)
{
	struct fixture *f = *state;
	struct ppx_partner p = {0};
	const struct ppx_partner *got;

	assert_int_equal(load_extra(f, "[partner probation.gwent]\n"
				    "endpoint = tcp://127.0.0.1:7102\n"), 0);
	memcpy(p.name, "housing.newport", sizeof("housing.newport"));
	memcpy(p.endpoint, "tcp://127.0.0.1:7104",
	       sizeof("tcp://127.0.0.1:7104"));
	memcpy(p.type, "housing", sizeof("housing"));
	p.from_directory = 1;
	p.duty_to_cooperate = 1;
	p.standing = PPX_STANDING_ACTIVE;
	assert_int_equal(ppx_config_add_partner(f->cfg, &p), 0);
	assert_int_equal(f->cfg->n_partners, 2);
	assert_string_equal(f->cfg->partners[0].name, "probation.gwent");
	got = ppx_config_partner(f->cfg, "housing.newport");
	assert_ptr_equal(got, &f->cfg->partners[1]);
	assert_int_equal(got->from_directory, 1);
	assert_string_equal(got->type, "housing");
	assert_int_equal(ppx_config_add_partner(f->cfg, &p), PPX_EDUP);
	for (int i = 2; i < PPX_CONFIG_MAX_PARTNERS; i++) {
		snprintf(p.name, sizeof(p.name), "agency.n%d", i);
		assert_int_equal(ppx_config_add_partner(f->cfg, &p), 0);
	}
	memcpy(p.name, "agency.over", sizeof("agency.over"));
	assert_int_equal(ppx_config_add_partner(f->cfg, &p), PPX_ERANGE);
	assert_int_equal(f->cfg->n_partners, PPX_CONFIG_MAX_PARTNERS);
}

static void test_config__standing_names(void **state)
{
	(void)state;
	assert_string_equal(ppx_standing_name(PPX_STANDING_CONFIGURED),
			    "configured");
	assert_string_equal(ppx_standing_name(PPX_STANDING_ACTIVE), "active");
	assert_string_equal(ppx_standing_name(PPX_STANDING_SUSPENDED),
			    "suspended");
	assert_string_equal(ppx_standing_name(PPX_STANDING_LEAVING), "leaving");
	assert_string_equal(ppx_standing_name(PPX_STANDING_REMOVED), "removed");
	assert_string_equal(ppx_standing_name(PPX_STANDING_NOT_ALLOWED),
			    "not-allowed");
	assert_string_equal(ppx_standing_name(99), "unknown");
	assert_string_equal(ppx_standing_name(-1), "unknown");
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_config__full_file_loads_every_value),
		T(test_config__defaults_apply),
		T(test_config__relative_paths_resolve_against_the_file),
		T(test_config__unknown_section_names_file_and_line),
		T(test_config__unknown_key_names_file_and_line),
		T(test_config__key_outside_any_section_is_refused),
		T(test_config__missing_required_key_names_its_section),
		T(test_config__out_of_range_number_names_the_range),
		T(test_config__non_number_is_refused),
		T(test_config__bad_agency_name_is_refused),
		T(test_config__bad_endpoint_is_refused),
		T(test_config__duplicate_key_names_both_lines),
		T(test_config__duplicate_section_is_refused),
		T(test_config__duplicate_partner_is_refused),
		T(test_config__partner_named_like_self_is_refused),
		T(test_config__partner_needs_endpoint_and_known_type),
		T(test_config__signer_is_a_process_unless_said),
		T(test_config__operator_with_both_user_and_uid_is_refused),
		T(test_config__operator_person_cert_as_hex_or_file),
		T(test_config__operator_with_neither_user_nor_uid_is_refused),
		T(test_config__operator_unknown_user_is_refused),
		T(test_config__operator_user_name_resolves_to_uid),
		T(test_config__two_operators_on_one_uid_are_refused),
		T(test_config__heartbeat_timeout_below_interval_is_refused),
		T(test_config__indented_continuation_is_refused),
		T(test_config__overlong_line_is_refused_not_split),
		T(test_config__syntax_error_names_line),
		T(test_config__long_section_names_are_kept_whole),
		T(test_config__missing_file_is_an_io_error),
		T(test_config__control_dir_fits_a_unix_socket_path),
		T(test_config__example_file_loads),
		T(test_config__proofs_are_required_unless_said),
		T(test_config__witnessing_is_on_unless_said),
		T(test_config__federation_section_loads),
		T(test_config__federation_defaults_allow_all_and_forward),
		T(test_config__federation_needs_its_directory),
		T(test_config__partner_endpoint_optional_with_a_directory),
		T(test_config__hook_may_name_a_partner_the_directory_brings),
		T(test_config__fed_allows_matches_names_and_globs),
		T(test_config__add_partner_appends_and_refuses_duplicates),
		T(test_config__standing_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
