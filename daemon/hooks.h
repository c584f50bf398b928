/*
 * hooks.h — durable hooks: each configured [hook NAME] is given every
 * committed log entry that passes its filters, in order, by running its
 * command with the entry JSON on stdin (docs/HOOKS.md).
 *
 * A hook's cursor (the next entry it has not stored) lives in the log
 * (ppx_log_cursor_*) and moves only after its command exited 0, in the
 * next commit.  Commands run as child processes, one entry at a time per
 * hook, without blocking the loop: ppxd.c polls their pipes, learns of
 * their exits from SIGCHLD on its signalfd, and calls
 *
 *   hooks_reap()   before the commit: collect finished runs, kill overdue
 *                  ones, move cursors in this iteration's batch;
 *   hooks_start()  after the commit: start the next run of each idle hook
 *                  whose retry delay has passed, on committed entries only.
 *
 * With `mode = stream` (hooks_stream.c) one process per hook lives on and
 * is given batches of entries, answering each with one line; the same
 * calls drive it.
 */
#ifndef PPXD_HOOKS_H
#define PPXD_HOOKS_H

#include <stddef.h>
#include <zmq.h>

#include "ppx.pb-c.h"

struct ppxd;
struct hooks;

/* Each hook's program is an executable file (ppxd -n checks it too): a
 * typo is better found at start-up than at the first entry. */
struct ppx_config;
int hooks_check(const struct ppx_config *cfg);

/* Load each hook's cursor. */
int hooks_new(struct hooks **out, struct ppxd *d);
/* Kills what still runs (SIGKILL to its process group) and reaps it. */
void hooks_free(struct hooks **self);

void hooks_reap(struct ppxd *d);
void hooks_start(struct ppxd *d);

/* Milliseconds until a hook needs the loop again (a retry or a timeout is
 * due, or entries wait), at most `max`. */
long hooks_timeout(struct ppxd *d, long max);

/* The pipes of running commands to poll, into items[max]; the count. */
size_t hooks_poll_items(struct ppxd *d, zmq_pollitem_t *items, size_t max);

/* Poll items hooks may need: two per hook. */
size_t hooks_poll_max(struct ppxd *d);

/* At shutdown: let running commands finish for a short grace, then kill
 * them, and commit the cursors as they stand. */
void hooks_stop(struct ppxd *d);

/* A named operator's decision on an entry a hook set aside (ppx hook
 * retry|drop): logged as ENTRY_HOOK_DECISION with `person` and the reason
 * in this iteration's batch, applied after its commit.  PPX_ENOTFOUND for
 * an unknown hook or an entry not set aside, PPX_EINVAL without a reason,
 * PPX_EBUSY while the hook is retrying the entry. */
int hooks_decide(struct ppxd *d, const char *person,
		 const Ppx__V1__HookDecisionRequest *r);

/* Each hook's state into the status reply; the HookStatus messages belong
 * to hooks and stay valid until the next call. */
void hooks_status(struct ppxd *d, Ppx__V1__StatusReply *sr);

#endif
