/*
 * reload.c — SIGHUP, `ppx reload` and a replaced CRL file: what is put in
 * force, what waits for a restart, and the change entries (reload.h).
 *
 * Where it sits: ppxd.c calls it from the loop (the signal, the CRL
 * watch), control_request.c for `ppx reload`.  Everything runs inside one
 * loop iteration, so the change entries commit with that iteration's
 * batch.  What is replaced — the policy, the configuration object whose
 * operator table was swapped out — may still be pointed at by submits
 * queued in the same drain, so it is freed only after the commit.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "federation.h"
#include "hooks.h"
#include "log.h"
#include "outbox.h"
#include "ppx/error.h"
#include "reload.h"
#include "state.h"
#include "submit.h"
#include "transport.h"
#include "writer.h"

/* The CRL file's identity: a new file copied or renamed into place changes
 * it.  All -1 if the file cannot be read. */
static struct crl_file_id crl_file_id(const struct ppxd *d)
{
	struct crl_file_id id = {-1, -1, -1};
	struct stat st;

	if (stat(d->cfg->crl, &st) == 0) {
		id.mtime_ns = (long long)st.st_mtim.tv_sec * 1000000000LL +
			      st.st_mtim.tv_nsec;
		id.size = (long long)st.st_size;
		id.ino = (long long)st.st_ino;
	}
	return id;
}

void reload_crl_seen(struct ppxd *d)
{
	d->crl.seen = crl_file_id(d);
}

int reload_crl_replaced(const struct ppxd *d)
{
	struct crl_file_id id = crl_file_id(d);

	return id.mtime_ns != -1 && (id.mtime_ns != d->crl.seen.mtime_ns ||
				     id.size != d->crl.seen.size ||
				     id.ino != d->crl.seen.ino);
}

/* Say (and log) what a file that cannot be read for its entry is. */
static void note(struct ppxd *d, const char *what, const char *path,
		 const char *person, struct changes_report *r)
{
	if (changes_note(d, what, path, "reload", person, r) != 0)
		log_warnx("%s %s: change not logged: %s", what, path,
			  ppx_error_last());
}

static void crl(struct ppxd *d, const char *person, struct changes_report *r)
{
	reload_crl_seen(d);
	if (ppx_trust_reload_crl(d->trust, d->cfg->crl) != 0) {
		if (federation_crl_newer_than_file(d)) {
			log_info("CRL file %s is older than the CRL in force "
				 "(%s): kept", d->cfg->crl, ppx_error_last());
			return;
		}
		log_warnx("CRL not reloaded, the old one stays: %s",
			  ppx_error_last());
		if (changes_refused(d, "crl", d->cfg->crl, person, PPX_ECRL,
				    ppx_error_last(), r) != 0)
			log_warnx("refusal not logged: %s", ppx_error_last());
		return;
	}
	log_info("reloaded CRL %s; cutting sessions so partners are judged "
		 "again",
		 d->cfg->crl);
	note(d, "crl", d->cfg->crl, person, r);
	if (transport_cut_sessions(d->transport) != 0)
		log_warnx("%s", ppx_error_last());
	for (size_t i = 0; i < transport_links(d->transport); i++)
		outbox_link_event(d, i, LINK_DOWN);
}

void reload_crl(struct ppxd *d, struct changes_report *r)
{
	submit_flush(d);	/* checked under the CRL before this one */
	crl(d, "", r);
}

static void free_config(struct ppxd *d, void *arg, int rc)
{
	(void)d;
	(void)rc;
	ppx_config_free(arg);
}

static void free_policy(struct ppxd *d, void *arg, int rc)
{
	(void)d;
	(void)rc;
	policy_free(arg);
}

/*
 * Put the live part of `next` in force: the operators (swapped, so that
 * `next` now holds the old table, freed after the commit) and
 * [accountability] but its `ppx` (reads.c finds the program once, at
 * start; changes.c says "takes effect at restart").  Every other key
 * stays as loaded at start.
 */
static void config_apply(struct ppxd *d, struct ppx_config *next)
{
	struct ppx_config *cur = d->cfg;
	struct ppx_operator *ops = cur->operators;
	size_t n = cur->n_operators;

	cur->operators = next->operators;
	cur->n_operators = next->n_operators;
	next->operators = ops;
	next->n_operators = n;
	cur->reason_rule = next->reason_rule;
	memcpy(cur->emergency_reviewer, next->emergency_reviewer,
	       sizeof(cur->emergency_reviewer));
	cur->emergency_review_days = next->emergency_review_days;
	cur->counting_log_ms = next->counting_log_ms;
	if (writer_after(d, free_config, next) != 0)
		ppx_config_free(next);	/* only the old table: unused now */
}

static void policy_apply(struct ppxd *d, ppxd_policy *next)
{
	ppxd_policy *old = d->policy;

	d->policy = next;
	if (writer_after(d, free_policy, old) != 0)
		log_warnx("the replaced policy is kept: %s", ppx_error_last());
}

/* The refusal of `what`, logged, with the error as it stands. */
static void refuse(struct ppxd *d, const char *what, const char *path,
		   const char *person, int code, struct changes_report *r)
{
	char error[900];

	snprintf(error, sizeof(error), "%s", ppx_error_last());
	log_warnx("%s %s not reloaded, the one before stays in force: %s",
		  what, path, error);
	if (changes_refused(d, what, path, person, code, error, r) != 0)
		log_warnx("refusal not logged: %s", ppx_error_last());
}

/* The new configuration and policy, each checked, the two together; what
 * passes is put in force and logged. */
static void config_and_policy(struct ppxd *d, const char *person,
			      struct changes_report *r)
{
	struct ppx_config *next = NULL;
	ppxd_policy *pol = NULL;
	int rc;

	if ((rc = policy_load(&pol, d->cfg->policy_path)) != 0 ||
	    (rc = policy_check_config(pol, d->cfg)) != 0) {
		refuse(d, "policy", d->cfg->policy_path, person, rc, r);
		policy_free(pol);
		pol = NULL;
	}
	if ((rc = ppx_config_load(&next, d->cfg->path)) != 0 ||
	    (rc = hooks_check(next)) != 0 ||
	    (rc = policy_check_config(pol ? pol : d->policy, next)) != 0) {
		refuse(d, "configuration", d->cfg->path, person, rc, r);
		ppx_config_free(next);
		next = NULL;
	}
	if (next) {
		note(d, "configuration", d->cfg->path, person, r);
		config_apply(d, next);
	}
	if (pol) {
		note(d, "policy", d->cfg->policy_path, person, r);
		policy_apply(d, pol);
	}
}

void reload_all(struct ppxd *d, const char *person, struct changes_report *r)
{
	/* What waits for a batch (batch_sign_wait_ms) was checked under the
	 * configuration and policy in force: sealed and logged before the
	 * change entries, not after them under rules it was never checked
	 * against. */
	submit_flush(d);
	crl(d, person, r);
	config_and_policy(d, person, r);
	if (changes_keys(d, "reload", person, r) != 0)
		log_warnx("certificates: changes not logged: %s",
			  ppx_error_last());
	log_info("reload%s%s: %u change entries, %zu changes wait for a "
		 "restart%s%s", person[0] ? " by " : "", person, r->entries,
		 r->n_restart, r->code ? "; " : "", r->error);
}
