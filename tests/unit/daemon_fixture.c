/*
 * daemon_fixture.c — builds a struct ppxd as main.c does (configuration,
 * policy, trust, signer, log, writer, budgets, outbox) from files
 * written to a temporary directory, with the in-memory transport in
 * place of CurveZMQ.  See daemon_fixture.h.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../daemon/budget.h"
#include "../../daemon/outbox.h"
#include "../../daemon/stats.h"
#include "../../daemon/writer.h"
#include "daemon_fixture.h"
#include "ppx/error.h"
#include "support.h"
#include "transport_mem.h"

static const char *const demo_agencies[] = {
	"police.gwent", "probation.gwent", "prison.cardiff",
};

/* The policy of the integration scenarios (tests/integration/lib.sh). */
static const char policy_text[] =
	"[rule responsible-authorities]\n"
	"from = police.*, probation.*\n"
	"to = police.*, probation.*, prison.*\n"
	"kinds = *\n"
	"max_marking = OFFICIAL-SENSITIVE\n"
	"\n"
	"[rule prison]\n"
	"from = prison.*\n"
	"to = police.*, probation.*\n"
	"kinds = notification:RELEASE_DATE, notification:PRISON_*,\n"
	"    notification:SECURITY_INTELLIGENCE, acknowledgement, "
	"action_update\n";

/* Append printf-style text to `buf` of `cap` bytes at *at. */
static void put(char *buf, size_t cap, size_t *at, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf + *at, cap - *at, fmt, ap);
	va_end(ap);
	assert_true(n >= 0 && (size_t)n < cap - *at);
	*at += (size_t)n;
}

static void write_config(const char *dir, const char *agency,
			 const char *delivery, const char *path)
{
	static char text[16384];
	char pki[PATH_MAX];
	size_t at = 0, len;

	/* Absolute: the configuration lives elsewhere. */
	if (!realpath(pki_path("."), pki))
		fail_msg("no demo PKI at %s (run make pki)", pki_path("."));
	len = strlen(pki);
	assert_true(len + 2 < sizeof(pki));
	pki[len] = '/';
	pki[len + 1] = '\0';
	put(text, sizeof(text), &at,
	    "[agency]\nname = %s\narea = gwent\n"
	    "listen = tcp://127.0.0.1:1\nlog_dir = %s/log\n"
	    "control = %s/run\npolicy = %s/policy.conf\n", agency, dir, dir,
	    dir);
	put(text, sizeof(text), &at,
	    "[pki]\nca = %sca/ca.crt\ncrl = %sca/crl.pem\ncerts = %scerts\n",
	    pki, pki, pki);
	put(text, sizeof(text), &at,
	    "signing_key = %sagencies/%s/signing.key\n"
	    "signing_cert = %sagencies/%s/signing.crt\n"
	    "transport_key = %sagencies/%s/transport.key\n"
	    "transport_cert = %sagencies/%s/transport.crt\n", pki, agency,
	    pki, agency, pki, agency, pki, agency);
	put(text, sizeof(text), &at, "[delivery]\n%s\n",
	    delivery ? delivery : "");
	for (size_t i = 0; i < 3; i++)
		if (strcmp(demo_agencies[i], agency) != 0)
			put(text, sizeof(text), &at,
			    "[partner %s]\nendpoint = tcp://127.0.0.1:%zu\n",
			    demo_agencies[i], 2 + i);
	put(text, sizeof(text), &at,
	    "[operator dana.evans]\nname = Dana Evans\nrole = officer\n"
	    "grade = DS\nuid = %u\n", (unsigned)getuid());
	write_text(path, text);
}

/* The modules as main.c starts them, the transport in memory. */
static void start(struct ppxd *d)
{
	const char *names[8];
	size_t n = d->cfg->n_partners;

	assert_true(n <= 8);
	for (size_t i = 0; i < n; i++)
		names[i] = d->cfg->partners[i].name;
	if (policy_load(&d->policy, d->cfg->policy_path) != 0 ||
	    policy_check_config(d->policy, d->cfg) != 0 ||
	    ppx_trust_load(&d->trust, d->cfg->ca, d->cfg->crl,
			   d->cfg->certs) != 0 ||
	    ppx_signer_load(&d->signer, d->cfg->signing_key,
			    d->cfg->signing_cert) != 0 ||
	    ppx_log_open(&d->log, d->cfg->log_dir, NULL) != 0 ||
	    writer_new(&d->writer) != 0 ||
	    budget_new(&d->budget, d->cfg) != 0 ||
	    transport_mem_new(&d->transport, names, n) != 0 ||
	    outbox_new(&d->outbox, d) != 0)
		fail_msg("cannot build the daemon: %s", ppx_error_last());
	d->checkpoint_size = ppx_log_size(d->log);
	d->started_ms = ppxd_now_ms();
}

struct daemon_fixture *daemon_fixture_new(const char *agency,
					  const char *delivery)
{
	struct daemon_fixture *f = calloc(1, sizeof(*f));
	char path[1024];

	assert_non_null(f);
	f->dir = tmpdir_new();
	snprintf(path, sizeof(path), "%s/policy.conf", f->dir);
	write_text(path, policy_text);
	snprintf(path, sizeof(path), "%s/ppxd.conf", f->dir);
	write_config(f->dir, agency, delivery, path);
	if (ppx_config_load(&f->d.cfg, path) != 0)
		fail_msg("cannot load %s: %s", path, ppx_error_last());
	start(&f->d);
	return f;
}

void daemon_fixture_free(struct daemon_fixture **self)
{
	struct daemon_fixture *f = *self;
	struct ppxd *d;

	if (!f)
		return;
	d = &f->d;
	outbox_free(&d->outbox);
	transport_free(&d->transport);
	budget_free(&d->budget);
	stats_free(&d->stats);	/* the counts receipts and refusals made */
	writer_free(&d->writer);
	ppx_log_close(d->log);
	ppx_signer_free(d->signer);
	ppx_trust_free(d->trust);
	policy_free(d->policy);
	ppx_config_free(d->cfg);
	tmpdir_remove(f->dir);
	free(f);
	*self = NULL;
}

size_t daemon_fixture_link(struct daemon_fixture *f, const char *agency)
{
	int i = transport_link_find(f->d.transport, agency);

	assert_true(i >= 0);
	return (size_t)i;
}

size_t daemon_fixture_count(struct daemon_fixture *f, int kind,
			    const char *peer)
{
	uint64_t size = ppx_log_size(f->d.log);
	size_t n = 0;

	for (uint64_t s = 0; s < size; s++) {
		Ppx__V1__LogEntry *e = NULL;

		assert_int_equal(ppx_log_get(f->d.log, s, &e), 0);
		n += (int)e->kind == kind &&
		     (!peer || strcmp(e->peer_agency, peer) == 0);
		ppx__v1__log_entry__free_unpacked(e, NULL);
	}
	return n;
}
