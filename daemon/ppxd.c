/*
 * ppxd.c — the event loop of the daemon: start-up of every module in
 * order, one iteration per wake-up, and orderly shutdown.
 *
 * One iteration: answer ZAP; take partners' frames through the receive
 * pipeline; take receipts from each link; take control requests (at
 * most CONTROL_DRAIN_MAX, so that a full control socket does not hold
 * receipts back); commit the whole iteration's log batch once; then send
 * receipts, answer clients, queue messages (writer.c; it signs
 * checkpoints); cut the connections of blocked partners that are due
 * (inbound_cut); and send what the outbox windows allow.  SIGTERM ends
 * the loop after the current iteration's commit: whatever was
 * acknowledged is on disk, and whatever
 * waits for a receipt is still in the durable outbox.
 *
 * The integration hooks (docs/HOOKS.md) ride on the same iterations: the
 * spool's files and the hooks' finished runs (their cursors) go into the
 * iteration's batch; after the commit, the new entries are published on
 * the event stream and handed to idle hooks.  Hook commands are child
 * processes: their pipes are polled with the sockets, and SIGCHLD on the
 * signalfd wakes the loop when one exits.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "control.h"
#include "events.h"
#include "expiry.h"
#include "federation.h"
#include "hooks.h"
#include "inbound.h"
#include "log.h"
#include "logaudit.h"
#include "notify.h"
#include "outbox.h"
#include "reads.h"
#include "restore.h"
#include "ppx/checkpoint.h"
#include "ppx/error.h"
#include "ppxd.h"
#include "reload.h"
#include "signer.h"
#include "spool.h"
#include "submit.h"
#include "trace.h"
#include "transport.h"
#include "witness.h"
#include "writer.h"
#include "zap.h"

/* On the way out: a checkpoint of the log as we leave it, if anything
 * follows the last one.  (While running, writer.c signs one in the batch
 * every `checkpoint_every` entries.) */
static void final_checkpoint(struct ppxd *d)
{
	uint64_t size = ppx_log_size(d->log), seq;
	Ppx__V1__LogEntry *last = NULL;
	int done;

	if (size == 0 || ppx_log_get(d->log, size - 1, &last) != 0)
		return;
	done = last->kind == PPX__V1__ENTRY_KIND__ENTRY_CHECKPOINT;
	ppx__v1__log_entry__free_unpacked(last, NULL);
	if (done)
		return;
	if (ppx_checkpoint_append(d->log, d->signer, NULL, NULL, &seq) != 0)
		log_warnx("cannot sign a checkpoint: %s", ppx_error_last());
	else
		d->checkpoint_size = seq;
}

/* SIGHUP: everything reloaded (reload.c), each change logged. */
static void reload(struct ppxd *d)
{
	struct changes_report r = {0};

	reload_all(d, "", &r);
	changes_report_clear(&r);
}

/* SIGHUP: the direct reads recorded since, then everything reloaded,
 * told to systemd (RELOADING=1 ... READY=1), expiry checked again. */
static void hangup(struct ppxd *d)
{
	notify_reloading();
	reads_direct_ingest(d);
	reload(d);
	expiry_check(d);
	notify_ready(d);
}

/*
 * Once a second: reload the CRL when its file changes (reload.c), and
 * say once when the CRL in force passes its nextUpdate — from then on
 * every partner is refused (REJECT_CRL_UNAVAILABLE, which senders retry)
 * until a current one is installed.
 */
static void crl_watch(struct ppxd *d)
{
	int64_t now = ppxd_now_ms();
	time_t next;

	if (now >= d->crl.checked_ms && now - d->crl.checked_ms < 1000)
		return;		/* (a clock set back checks at once) */
	d->crl.checked_ms = now;
	if (reload_crl_replaced(d)) {
		struct changes_report r = {0};

		log_info("CRL file %s changed", d->cfg->crl);
		reload_crl(d, &r);
		changes_report_clear(&r);
	}
	next = ppx_trust_crl_next_update(d->trust);
	if (next != 0 && next * 1000LL < now && !d->crl.stale) {
		log_warnx("the CRL %s is out of date (nextUpdate passed): every "
			  "partner is refused until a current one is "
			  "installed", d->cfg->crl);
		d->crl.stale = 1;
	} else if (next * 1000LL >= now) {
		d->crl.stale = 0;
	}
}

static void handle_signals(struct ppxd *d, int sfd)
{
	struct signalfd_siginfo si;

	while (read(sfd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGHUP)
			hangup(d);
		else if ((si.ssi_signo == SIGTERM ||
			  si.ssi_signo == SIGINT) && !d->stopping) {
			d->stopping = 1;
			notify_stopping();
		}
		/* SIGCHLD only wakes the loop: hooks_reap() collects. */
	}
}

enum { P_SIGNAL, P_ZAP, P_CONTROL, P_FIXED };

/* The poll items: the fixed ones, the transport's waits (`w` has room
 * for transport_waits_max()), the hooks' pipes. */
static size_t build_poll(struct ppxd *d, int sfd, zmq_pollitem_t *items,
			 size_t max, struct transport_wait *w)
{
	size_t n = P_FIXED, nw;

	memset(items, 0, max * sizeof(*items));
	items[P_SIGNAL].fd = sfd;
	items[P_ZAP].socket = zap_socket(d->zap);
	items[P_CONTROL].socket = control_socket(d->control);
	for (size_t i = P_ZAP; i < P_FIXED; i++)
		if (!items[i].socket)
			items[i].fd = -1;
	nw = transport_waits(d->transport, w, max - n);
	for (size_t i = 0; i < nw; i++, n++) {
		items[n].socket = w[i].socket;
		items[n].fd = w[i].fd;
	}
	for (size_t i = 0; i < n; i++)
		items[i].events = ZMQ_POLLIN;
	n += hooks_poll_items(d, items + n, max - n);
	return n + reads_poll_items(d, items + n, max - n);
}

/*
 * Control requests taken in one iteration.  The rest wait in the socket
 * for the next iteration, which starts at once (the socket stays
 * readable).  Without a cap, a client with hundreds of submits queued
 * made one iteration seal and commit them all (tens of ms) while
 * partners' receipts waited behind it, so the outbox window stayed full
 * of receipted-but-unread messages and the exchange ran at 0.6 x the
 * rate it reaches with two drains of submissions an iteration
 * (docs/PERFORMANCE.md "Latency").  Group commit is kept: an iteration
 * still commits these, the receipts and the partners' frames at once.
 */
#define CONTROL_DRAIN_MAX 64

/* One iteration: drain, commit once, act, send. */
static void iterate(struct ppxd *d, zmq_pollitem_t *items, int sfd)
{
	size_t max = (size_t)d->cfg->batch_max;

	if (items[P_SIGNAL].revents)
		handle_signals(d, sfd);
	crl_watch(d);
	expiry_tick(d);		/* hourly, and when the trust changed */
	federation_tick(d, ppxd_now_ms());	/* the file drop, owed sends */
	transport_tick(d->transport);
	zap_handle(d->zap);
	trace_count(TRACE_INBOUND, inbound_drain(d, max));
	trace_mark(TRACE_INBOUND);
	for (size_t i = 0; i < transport_links(d->transport); i++) {
		enum link_event ev;

		outbox_receipts(d, i, max);
		while ((ev = transport_link_event(d->transport, i)) !=
		       LINK_NONE) {
			if (ev == LINK_UP)	/* before anything it sends */
				restore_link_up(d, i);
			outbox_link_event(d, i, ev);
			if (ev == LINK_UP)
				federation_link_up(d, i);
		}
	}
	trace_mark(TRACE_RECEIPTS);
	trace_count(TRACE_CONTROL, control_drain(d, max < CONTROL_DRAIN_MAX
							 ? max
							 : CONTROL_DRAIN_MAX));
	trace_mark(TRACE_CONTROL);
	reads_handle(d);
	spool_scan(d, max);
	hooks_reap(d);
	logaudit_tick(d);	/* the background check's verdict */
	trace_count(TRACE_COMMIT, writer_pending(d));
	trace_mark(TRACE_OTHER);
	writer_flush(d);
	trace_mark(TRACE_COMMIT);
	restore_tick(d);	/* partners' restore notices, own commits */
	inbound_cut(d);		/* blocked partners' own, once due */
	events_publish(d);
	hooks_start(d);
	notify_tick(d);		/* the watchdog's ping: the loop turns */
	trace_mark(TRACE_AFTER);
}

/* Room for the transport's waits with every partner the configuration
 * may have: the directory adds links while the daemon runs. */
static size_t waits_room(struct ppxd *d)
{
	size_t now = transport_waits_max(d->transport),
	       most = 1 + 2 * (size_t)PPX_CONFIG_MAX_PARTNERS;

	return now > most ? now : most;
}

int ppxd_run(struct ppxd *d)
{
	size_t max = P_FIXED + waits_room(d) + hooks_poll_max(d) +
		     reads_poll_max();
	zmq_pollitem_t *items = calloc(max, sizeof(*items));
	struct transport_wait *waits =
		calloc(waits_room(d) + 1, sizeof(*waits));
	sigset_t mask;
	int sfd, rc = 0;

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGCHLD);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (!items || !waits || sfd < 0)
		fatal("cannot start the event loop");
	trace_open();
	log_info("%s listening on %s with %zu partners", d->cfg->agency,
		 d->cfg->listen, transport_links(d->transport));
	while (!d->stopping) {
		long timeout = submit_timeout(d, ppxd_now_ms(), reads_timeout(
			d, inbound_timeout(spool_timeout(d, hooks_timeout(
				d, witness_pump(d, outbox_pump(d)))))));
		size_t n = build_poll(d, sfd, items, max, waits);
		const char *why;

		trace_mark(TRACE_PUMP);
		trace_iteration();

		if (!transport_listening(d->transport, &why) &&
		    (timeout < 0 || timeout > 1000))
			timeout = 1000;	/* transport_tick() tries again */
		timeout = notify_timeout(timeout);	/* the watchdog */

		if (zmq_poll(items, (int)n, timeout) < 0 && zmq_errno() != EINTR)
			log_warnx("poll failed: %s", zmq_strerror(zmq_errno()));
		trace_mark(TRACE_POLL);
		iterate(d, items, sfd);
		if (d->signer_proc && signer_lost(d->signer_proc)) {
			rc = PPX_EIO;	/* its error is ppx_error_last() */
			break;
		}
	}
	reads_stop(d);		/* readers stopped, counts logged */
	submit_flush(d);	/* what waited for a batch, sealed or refused */
	writer_flush(d);
	hooks_stop(d);		/* their cursors, committed */
	if (rc == 0)
		final_checkpoint(d);	/* evidence of the log as we leave it */
	log_info("stopping: log committed at %llu entries",
		 (unsigned long long)ppx_log_size(d->log));
	trace_close();
	close(sfd);
	free(waits);
	free(items);
	if (rc != 0 && d->signer_proc)
		signer_lost(d->signer_proc);	/* its error, again */
	return rc;
}
