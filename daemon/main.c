/*
 * main.c — ppxd: options, start-up checks, and the hand-over to the loop.
 *
 *   ppxd -c FILE [-f] [-v] [-n]
 *     -c FILE  configuration (docs/CONFIG.md)
 *     -f       stay in the foreground, log to stderr (default: syslog)
 *     -v       log debugging detail
 *     -n       check the configuration, policy, keys and certificates and
 *              exit: 0 if all is well, 1 with the problem otherwise
 *
 * The signing key is not read here: right after the configuration,
 * load_signer() forks the signer process (signer.c), the only process
 * that holds it (docs/ARCHITECTURE.md, "Processes and keys").
 *
 * Start-up refuses to run with anything wrong: a key file others can read,
 * a certificate that does not pass the trust check, a corrupt log.  Those
 * are operator errors, reported with what to do, before any partner is
 * contacted.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>

#include <openssl/crypto.h>
#include <zmq.h>

#include "budget.h"
#include "federation.h"
#include "partners.h"
#include "control.h"
#include "events.h"
#include "expiry.h"
#include "hooks.h"
#include "lock.h"
#include "log.h"
#include "logaudit.h"
#include "notify.h"
#include "outbox.h"
#include "ppx/checkpoint.h"
#include "ppx/error.h"
#include "ppx/signer_open.h"
#include "ppxd.h"
#include "reload.h"
#include "restore.h"
#include "reads.h"
#include "signer.h"
#include "spool.h"
#include "stats.h"
#include "transport.h"
#include "witness.h"
#include "writer.h"
#include "zap.h"

#define SECURE_HEAP (64 * 1024)	/* locked bytes for OpenSSL's keys */
#define SECURE_HEAP_MIN 32		/* smallest allocation in it */

static void usage(void)
{
	fprintf(stderr, "usage: ppxd -c FILE [-f] [-v] [-n]\n");
	exit(2);
}

/*
 * One of our own certificates must pass the checks partners will apply.
 * An out of date CRL is the exception: the daemon starts, queues what it
 * is given and refuses partners until a current CRL is installed (the loop
 * reloads the file when it changes), rather than refusing to start at all.
 * Without a CRL in force, ECRL means every earlier check passed.
 */
static int check_own(struct ppxd *d, const ppx_cert *cert,
		     enum ppx_cert_role role, const char *path,
		     ppx_identity *id)
{
	int rc = ppx_trust_check(d->trust, cert, time(NULL), role, id);

	if (rc == PPX_ECRL) {
		log_warnx("%s: %s: starting anyway; partners are refused until "
			  "a current CRL is installed", path, ppx_error_last());
		rc = ppx_trust_check(d->trust, cert, 0, role, id);
	}
	if (rc != 0)
		return ppx_error_set(rc, "certificate %s: %s", path,
				     ppx_error_last());
	if (strcmp(id->agency, d->cfg->agency) != 0)
		return ppx_error_set(PPX_EINVAL, "certificate %s is for %s, "
				     "not %s", path, id->agency,
				     d->cfg->agency);
	return 0;
}

static int check_own_certs(struct ppxd *d)
{
	ppx_identity id;
	ppx_cert *transport = NULL;
	int rc = check_own(d, ppx_signer_cert(d->signer), PPX_ROLE_SIGNING,
			   d->cfg->signing_cert, &id);

	if (rc == 0)
		rc = ppx_cert_load(&transport, d->cfg->transport_cert);
	if (rc == 0)
		rc = check_own(d, transport, PPX_ROLE_TRANSPORT,
			       d->cfg->transport_cert, &id);
	ppx_cert_free(transport);
	return rc;
}

/*
 * The signing key: by default in the signer process (signer.c), forked
 * now, when nothing but the configuration has been read; with
 * `signer = in-process`, here.
 */
static int load_signer(struct ppxd *d)
{
	if (d->cfg->signer_in_process)
		return ppx_signer_open(&d->signer, d->cfg);
	return signer_start(&d->signer, &d->signer_proc, d->cfg);
}

/* Load everything that can be checked without opening sockets. */
static int load(struct ppxd *d, const char *path, uint8_t secret[32],
		uint8_t pub[32])
{
	int rc;

	if ((rc = ppx_config_load(&d->cfg, path)) != 0 ||
	    (rc = load_signer(d)) != 0 ||
	    (rc = hooks_check(d->cfg)) != 0 ||
	    (rc = policy_load(&d->policy, d->cfg->policy_path)) != 0 ||
	    (rc = policy_check_config(d->policy, d->cfg)) != 0)
		return rc;
	reload_crl_seen(d);
	if ((rc = ppx_trust_load(&d->trust, d->cfg->ca, d->cfg->crl,
				 d->cfg->certs)) != 0 ||
	    (rc = ppx_transport_key_load(secret, pub,
					 d->cfg->transport_key)) != 0 ||
	    (rc = check_own_certs(d)) != 0)
		return rc;
	return 0;
}

/*
 * Check the log before anything is sent or received (logaudit.c: from its
 * check seal, in a child process, so that a page damaged in a way that
 * crashes LMDB stops the daemon with a clear error, not a signal; the full
 * check then runs in the background), then open it.  A damaged log stops
 * the daemon with the first entry that differs.  No log yet is a new one,
 * unless a restore was interrupted (restore.c).
 */
static int open_log(struct ppxd *d)
{
	ppx_log_options lo = {.map_max = (uint64_t)d->cfg->log_max_mb << 20};
	int rc = restore_check_interrupted(d->cfg->log_dir);

	if (rc != 0 || (rc = logaudit_start(d)) != 0)
		return rc;
	if ((rc = ppx_log_open(&d->log, d->cfg->log_dir, &lo)) != 0)
		return rc;
	if (ppx_log_notice(d->log))	/* a log moved to the current format */
		log_info("%s", ppx_log_notice(d->log));
	return 0;
}

/*
 * The files in force, each logged if it changed since the log last said
 * (changes.c), committed before any socket is opened: a partner or a
 * client that finds the daemon up finds them in the log.
 */
static int log_changes(struct ppxd *d)
{
	int rc;

	if ((rc = changes_new(&d->changes, d)) != 0 ||
	    (rc = changes_start(d)) != 0)
		return ppx_error_set(rc, "cannot log the files in force: %s",
				     ppx_error_last());
	return writer_flush(d);
}

static int start(struct ppxd *d, const uint8_t secret[32],
		 const uint8_t pub[32])
{
	int rc;

	/* The log first: its check forks, before any ZeroMQ context or
	 * thread exists. */
	if ((rc = open_log(d)) != 0)
		return rc;
	d->zctx = zmq_ctx_new();
	if (!d->zctx)
		return ppx_error_set(PPX_EIO, "cannot create ZeroMQ context");
	if ((rc = writer_new(&d->writer)) != 0)
		return rc;
	/* A restored log says so first (restore.c). */
	if ((rc = restore_start(d)) != 0)
		return rc;
	d->checkpoint_size = ppx_log_size(d->log);
	if ((rc = log_changes(d)) != 0 ||
	    (rc = budget_new(&d->budget, d->cfg)) != 0 ||
	    (rc = zap_new(&d->zap, d)) != 0 ||
	    (rc = transport_new(&d->transport, d, secret, pub)) != 0 ||
	    (rc = outbox_new(&d->outbox, d)) != 0 ||
	    (rc = control_new(&d->control, d)) != 0 ||
	    (rc = events_new(&d->events, d)) != 0 ||
	    (rc = hooks_new(&d->hooks, d)) != 0 ||
	    (rc = spool_new(&d->spool, d)) != 0 ||
	    (rc = witness_new(&d->witness, d)) != 0 ||
	    (rc = reads_direct_dir(d)) != 0 ||
	    (rc = reads_new(&d->reads, d)) != 0 ||
	    (rc = federation_open(d)) != 0 ||
	    (rc = expiry_new(&d->expiry)) != 0)
		return rc;
	reads_direct_ingest(d);	/* direct reads while we were down */
	d->started_ms = ppxd_now_ms();
	expiry_check(d);	/* what expires soon, said at once */
	return 0;
}

static void stop(struct ppxd *d)
{
	expiry_free(&d->expiry);
	logaudit_free(d);
	federation_free(d);
	restore_free(&d->restore);
	changes_free(&d->changes);
	reads_free(&d->reads);
	witness_free(&d->witness);
	spool_free(&d->spool);
	hooks_free(&d->hooks);
	events_free(&d->events);
	control_free(&d->control);
	outbox_free(&d->outbox);
	transport_free(&d->transport);
	zap_free(&d->zap);
	budget_free(&d->budget);
	stats_free(&d->stats);
	partners_free(d);
	writer_free(&d->writer);
	if (d->zctx)
		zmq_ctx_term(d->zctx);
	ppx_log_close(d->log);
	ppx_signer_free(d->signer);
	ppx_trust_free(d->trust);
	policy_free(d->policy);
	ppx_config_free(d->cfg);
}

/*
 * Before any key is read: no core dumps (they would hold the keys), no
 * ptrace by other processes of the same user, and OpenSSL's secure heap,
 * locked in memory and wiped on free, for the private keys it holds.
 */
static void protect_memory(void)
{
	struct rlimit none = {0, 0};
	int rc;

	if (setrlimit(RLIMIT_CORE, &none) != 0 ||
	    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
		log_warn("cannot turn core dumps off");
	rc = CRYPTO_secure_malloc_init(SECURE_HEAP, SECURE_HEAP_MIN);
	if (rc == 0)
		log_warnx("no secure heap: private keys may be swapped out");
	else if (rc == 2)
		log_warnx("secure heap not locked in memory (RLIMIT_MEMLOCK?): "
			  "private keys may be swapped out");
}

int main(int argc, char **argv)
{
	struct ppxd d = {0};
	const char *path = NULL;
	uint8_t secret[32], pub[32];
	int ch, foreground = 0, verbose = 0, check = 0, rc, lock_fd = -1;

	while ((ch = getopt(argc, argv, "c:fvn")) != -1) {
		switch (ch) {
		case 'c': path = optarg; break;
		case 'f': foreground = 1; break;
		case 'v': verbose = 1; break;
		case 'n': check = foreground = 1; break;
		default: usage();
		}
	}
	if (!path || optind != argc)
		usage();
	log_init("ppxd", foreground, verbose);
	notify_init();
	protect_memory();
	signal(SIGPIPE, SIG_IGN);
	umask(077);	/* the log and everything else: ours alone */
	rc = load(&d, path, secret, pub);
	if (rc == 0)
		log_set_agency(d.cfg->agency);
	if (rc == 0 && check) {
		printf("%s: configuration OK for %s\n", path, d.cfg->agency);
	} else if (rc == 0) {
		/* One writer: the lock before the log, after the signer's
		 * fork (lock.c says why). */
		if ((rc = lock_take(&lock_fd, d.cfg->log_dir)) == 0)
			rc = start(&d, secret, pub);
		ppx_wipe(secret, sizeof(secret));
		if (rc == 0) {
			notify_ready(&d);	/* log checked, sockets bound */
			rc = ppxd_run(&d);
		}
	}
	ppx_wipe(secret, sizeof(secret));
	if (rc != 0) {
		log_warnx("%s", ppx_error_last());
		notify_failed(ppx_error_last(), 0);
	}
	stop(&d);
	lock_release(&lock_fd);	/* after the log is closed */
	return rc == 0 ? 0 : 1;
}
