/*
 * hooks.c — durable hooks: every committed log entry that passes a hook's
 * filters is given, in log order, to the hook's command on stdin, until
 * the command says (exit 0) that it stored it (docs/HOOKS.md).
 *
 * Where it sits: after the writer's commit (ppxd.c), hooks_start() looks
 * from each idle hook's cursor for the next committed entry its filters
 * pass, skipping the others, and starts the command with that entry's JSON
 * (events.c) on a pipe.  The loop goes on: ppxd.c polls the command's
 * pipes, and SIGCHLD on the loop's signalfd wakes it when the command
 * exits.  Before the next commit, hooks_reap() collects the exit status:
 * 0 moves the cursor past the entry, in that commit; anything else (or a
 * command that outlives timeout_ms and is killed) leaves the cursor where
 * it is and schedules the same entry again after a backoff that doubles
 * from retry_initial_ms up to retry_max_ms.
 *
 * Guarantees, and why they hold:
 *   - in order, none skipped: the cursor is the only position; it moves
 *     past an entry only when the filters refuse it or its run exited 0;
 *   - across crashes: the cursor is in LMDB and commits with the log; a
 *     crash after an exit 0 but before the commit runs that entry again
 *     after restart, so sinks store idempotently by seq (at-least-once);
 *   - one run per hook at a time, and only on committed entries (seq below
 *     ppx_log_size(), which moves at commit), never on the open batch.
 *
 * Commands are run with posix_spawn(): no shell, a process group of their
 * own (a timeout kills what they started too), default signal handling
 * and an empty signal mask (the daemon blocks the signals its signalfd
 * reads), only stdin, stdout and stderr open.  Their output is read into
 * a small tail, shown with a failure.
 */
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "events.h"
#include "hooks.h"
#include "hooks_int.h"
#include "log.h"
#include "ppx/error.h"
#include "state.h"
#include "writer.h"

#define HOOK_SCAN_MAX 1024	/* entries a hook looks at per iteration */
#define HOOK_KILL_GRACE_MS 2000	/* from SIGTERM to SIGKILL */
#define HOOK_STOP_GRACE_MS 2000	/* at shutdown, for running commands */
#define HOOK_STUCK_RETRY_MAX 3	/* stuck after 3 x retry_max_ms failing */
#define CURSOR_UNSAVED UINT64_MAX

extern char **environ;

/* ------------------------------------------------------------------ */
/* Filters                                                             */
/* ------------------------------------------------------------------ */

/* The families bit of a family name; 0 for "" or an unknown name. */
static uint32_t family_bit(const char *family)
{
	const ProtobufCFieldDescriptor *f =
		protobuf_c_message_descriptor_get_field_by_name(
			&ppx__v1__body__descriptor, family);

	if (!f || f->id < PPX_CONFIG_FAMILY_FIRST ||
	    f->id - PPX_CONFIG_FAMILY_FIRST >= 32)
		return 0;
	return UINT32_C(1) << (f->id - PPX_CONFIG_FAMILY_FIRST);
}

static int partner_match(const struct ppx_hook_config *c, const char *agency)
{
	for (size_t i = 0; agency[0] && i < c->n_partners; i++)
		if (fnmatch(c->partners[i], agency, 0) == 0)
			return 1;
	return 0;
}

/* The entry's partner (its peer) or, for a message we sent, any of its
 * recipients, matches one of the hook's partners. */
static int partners_pass(const struct ppx_hook_config *c,
			 const struct events_entry *v)
{
	const Ppx__V1__Body *b = v->body;

	if (partner_match(c, v->entry->peer_agency))
		return 1;
	if (v->entry->kind != PPX__V1__ENTRY_KIND__ENTRY_SENT || !b)
		return 0;
	for (size_t i = 0; i < b->n_recipients; i++)
		if (partner_match(c, b->recipients[i]))
			return 1;
	return 0;
}

/* A notification of one of the kinds; other families pass. */
static int kinds_pass(const struct ppx_hook_config *c,
		      const struct events_entry *v)
{
	const Ppx__V1__Body *b = v->body;
	int kind = 0;

	if (strcmp(v->entry->family, "notification") != 0)
		return 1;
	if (b && b->payload_case == PPX__V1__BODY__PAYLOAD_NOTIFICATION)
		kind = (int)b->notification->kind;
	return kind > 0 && kind < 64 && (c->kinds & (UINT64_C(1) << kind));
}

/* Whether the hook takes entry v.  The body is decoded only for entries
 * of the kinds and families it takes. */
int hook_wants(const struct ppx_hook_config *c, struct events_entry *v)
{
	int kind = (int)v->entry->kind;

	if (kind < 0 || kind >= 32 ||
	    !(c->entry_kinds & (UINT32_C(1) << kind)))
		return 0;
	if (c->families && !(c->families & family_bit(v->entry->family)))
		return 0;
	events_entry_body(v);
	if (c->kinds && !kinds_pass(c, v))
		return 0;
	return c->n_partners == 0 || partners_pass(c, v);
}

/* ------------------------------------------------------------------ */
/* Cursors                                                             */
/* ------------------------------------------------------------------ */

/* After the commit: a cursor that did not make it is written again. */
static void cursor_committed(struct ppxd *d, void *arg, int rc)
{
	struct hook *h = arg;

	(void)d;
	if (rc != 0)
		h->saved = CURSOR_UNSAVED;
}

/* Move h's cursor to h->next in this iteration's batch. */
void hook_cursor_save(struct ppxd *d, struct hook *h)
{
	ppx_log_batch *b;

	if (writer_batch(d, &b) != 0 ||
	    ppx_log_cursor_set(b, h->cursor, h->next) != 0 ||
	    writer_after(d, cursor_committed, h) != 0) {
		log_warnx("hook %s: cannot move its cursor to %llu: %s",
			  h->cfg->name, (unsigned long long)h->next,
			  ppx_error_last());
		return;
	}
	h->saved = h->next;
}

/* ------------------------------------------------------------------ */
/* Failures                                                            */
/* ------------------------------------------------------------------ */

int hook_stuck(const struct hook *h, int64_t now)
{
	return h->failures >= (uint32_t)h->cfg->stuck_failures ||
	       (h->failing_since_ms &&
		now - h->failing_since_ms >
			HOOK_STUCK_RETRY_MAX * (int64_t)h->cfg->retry_max_ms);
}

/* The last line of the command's output, printable, for the error. */
static void tail_line(const struct hook *h, char *out, size_t cap)
{
	size_t end = h->tail_len, start;
	size_t n = 0;

	while (end > 0 && strchr("\r\n", h->tail[end - 1]))
		end--;
	start = end;
	while (start > 0 && h->tail[start - 1] != '\n')
		start--;
	for (size_t i = start; i < end && n + 1 < cap; i++) {
		unsigned char c = (unsigned char)h->tail[i];

		out[n++] = c < 0x20 || c == 0x7f ? '?' : (char)c;
	}
	out[n] = '\0';
}

/* The entry at h->next was not stored: try it again later. */
void hook_failed(struct hook *h, int64_t now, const char *what)
{
	long delay = h->cfg->retry_initial_ms;
	char line[256];

	h->failures++;
	if (!h->failing_since_ms)
		h->failing_since_ms = now;
	for (uint32_t i = 1; i < h->failures && delay < h->cfg->retry_max_ms;
	     i++)
		delay *= 2;
	if (delay > h->cfg->retry_max_ms)
		delay = h->cfg->retry_max_ms;
	h->retry_at_ms = now + delay;
	tail_line(h, line, sizeof(line));
	snprintf(h->last_error, sizeof(h->last_error), "%s%s%s", what,
		 line[0] ? ": " : "", line);
	log_event(LOG_WARNING, &(struct log_fields){
			  .seq = h->seq, .has_seq = 1,
			  .reason = hook_stuck(h, now) ? "hook-stuck"
						       : "hook-failed"},
		  "hook %s: entry %llu not stored (%s); failure %u, trying "
		  "again in %ld ms%s", h->cfg->name,
		  (unsigned long long)h->seq, h->last_error, h->failures,
		  delay, hook_stuck(h, now) ? "; the hook is STUCK" : "");
}

/* The entry at h->next was stored: on to the next, in this commit. */
void hook_stored(struct ppxd *d, struct hook *h)
{
	if (h->failures)
		log_info("hook %s: entry %llu stored after %u failures",
			 h->cfg->name, (unsigned long long)h->next,
			 h->failures);
	h->next = h->seq + 1;
	h->delivered++;
	h->may_quarantine = 1;
	h->failures = 0;
	h->failing_since_ms = 0;
	h->retry_at_ms = 0;
	h->last_error[0] = '\0';
	hook_cursor_save(d, h);
}

/* ------------------------------------------------------------------ */
/* Running a command                                                   */
/* ------------------------------------------------------------------ */

void hook_close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

void hook_run_clear(struct hook *h)
{
	hook_close_fd(&h->in_fd);
	hook_close_fd(&h->out_fd);
	hook_close_fd(&h->err_fd);
	free(h->input);
	h->input = NULL;
	h->input_len = h->input_off = 0;
	h->pid = 0;
}

/* Feed stdin as far as the pipe takes it; close it when all is given or
 * the command closed its end. */
static void run_write(struct hook *h)
{
	while (h->in_fd >= 0 && h->input_off < h->input_len) {
		ssize_t n = write(h->in_fd, h->input + h->input_off,
				  h->input_len - h->input_off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0)
			break;	/* EPIPE: it did not read it all */
		h->input_off += (size_t)n;
	}
	hook_close_fd(&h->in_fd);
}

/* Keep the last HOOK_TAIL bytes of what the command wrote. */
void hook_tail_add(struct hook *h, const char *buf, size_t n)
{
	size_t keep;

	if (n >= HOOK_TAIL) {
		memcpy(h->tail, buf + n - HOOK_TAIL, HOOK_TAIL);
		h->tail_len = HOOK_TAIL;
		return;
	}
	keep = HOOK_TAIL - n;
	if (h->tail_len > keep) {
		memmove(h->tail, h->tail + h->tail_len - keep, keep);
		h->tail_len = keep;
	}
	memcpy(h->tail + h->tail_len, buf, n);
	h->tail_len += n;
}

/* Read what the command wrote on *fd into the tail, at most `max` reads
 * (a command that floods its output never holds the loop); at end of
 * file, close *fd. */
void hook_tail_read(struct hook *h, int *fd, int max)
{
	char buf[4096];

	for (int i = 0; *fd >= 0 && i < max; i++) {
		ssize_t n = read(*fd, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			hook_close_fd(fd);
			return;
		}
		hook_tail_add(h, buf, (size_t)n);
	}
}

/* Read what the command wrote, keeping the last HOOK_TAIL bytes. */
static void run_read(struct hook *h)
{
	hook_tail_read(h, &h->out_fd, INT32_MAX);
}

/* The environment: the daemon's, with PPX_HOOK, PPX_AGENCY,
 * PPX_HOOK_MODE (each or stream) and, for one entry's run, PPX_SEQ set.
 * The strings of `vars` hold the new ones. */
static char **run_env(struct ppxd *d, const struct hook *h, char vars[4][192])
{
	size_t n = 0, k = 0;
	char **env;

	while (environ[n])
		n++;
	if (!(env = calloc(n + 5, sizeof(*env))))
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (strncmp(environ[i], "PPX_HOOK=", 9) &&
		    strncmp(environ[i], "PPX_AGENCY=", 11) &&
		    strncmp(environ[i], "PPX_HOOK_MODE=", 14) &&
		    strncmp(environ[i], "PPX_SEQ=", 8))
			env[k++] = environ[i];
	snprintf(vars[0], 192, "PPX_HOOK=%s", h->cfg->name);
	snprintf(vars[1], 192, "PPX_AGENCY=%s", d->cfg->agency);
	snprintf(vars[2], 192, "PPX_HOOK_MODE=%s",
		 h->cfg->stream ? "stream" : "each");
	snprintf(vars[3], 192, "PPX_SEQ=%llu", (unsigned long long)h->seq);
	for (int i = 0; i < (h->cfg->stream ? 3 : 4); i++)
		env[k++] = vars[i];
	return env;
}

/* posix_spawn with stdin from in[0], stdout to out[1] and stderr to
 * err[1] (to out[1] if err is NULL). */
int hook_spawn(struct ppxd *d, struct hook *h, const int in[2],
	       const int out[2], const int err[2])
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, all;
	char *argv[PPX_CONFIG_HOOK_ARGS + 1], vars[4][192], **env;
	int rc;

	if (!(env = run_env(d, h, vars)))
		return ENOMEM;
	ppx_config_hook_argv(h->cfg, argv);
	sigemptyset(&none);
	sigfillset(&all);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, in[0], 0);
	posix_spawn_file_actions_adddup2(&fa, out[1], 1);
	posix_spawn_file_actions_adddup2(&fa, err ? err[1] : out[1], 2);
	posix_spawn_file_actions_addclosefrom_np(&fa, 3);
	posix_spawnattr_init(&attr);
	posix_spawnattr_setpgroup(&attr, 0);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &all);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP |
				 POSIX_SPAWN_SETSIGMASK |
				 POSIX_SPAWN_SETSIGDEF);
	rc = posix_spawn(&h->pid, argv[0], &fa, &attr, argv, env);
	posix_spawnattr_destroy(&attr);
	posix_spawn_file_actions_destroy(&fa);
	free(env);
	return rc;
}

/* Start h's command on entry v (h->seq), its JSON and a newline on
 * stdin.  A command that cannot be started is a failure like any other. */
static void run_start(struct ppxd *d, struct hook *h,
		      const struct events_entry *v, int64_t now)
{
	int in[2] = {-1, -1}, out[2] = {-1, -1}, rc;
	char *json = NULL, what[sizeof(h->cfg->command) + 64];

	h->seq_kind = (int)v->entry->kind;
	h->tail_len = 0;
	if (events_entry_json(&json, v, d->cfg->agency) != 0 ||
	    !(h->input = malloc(strlen(json) + 2))) {
		free(json);
		hook_failed(h, now, "out of memory");
		return;
	}
	h->input_len = (size_t)snprintf(h->input, strlen(json) + 2, "%s\n",
					json);
	free(json);
	if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0)
		rc = errno;
	else
		rc = hook_spawn(d, h, in, out, NULL);
	hook_close_fd(&in[0]);
	hook_close_fd(&out[1]);
	h->in_fd = in[1];
	h->out_fd = out[0];
	if (rc != 0) {
		h->pid = 0;
		hook_run_clear(h);
		snprintf(what, sizeof(what), "cannot run %s: %s",
			 h->cfg->command, strerror(rc));
		hook_failed(h, now, what);
		return;
	}
	fcntl(h->in_fd, F_SETFL, O_NONBLOCK);
	fcntl(h->out_fd, F_SETFL, O_NONBLOCK);
	h->started_ms = now;
	h->term_ms = 0;
	log_debug("hook %s: entry %llu to pid %ld", h->cfg->name,
		  (unsigned long long)h->seq, (long)h->pid);
	run_write(h);
}

/* How the run ended, in words. */
void hook_outcome(const struct hook *h, int status, char *out,
			size_t cap)
{
	if (h->term_ms)
		snprintf(out, cap, "timed out after %ld ms and was killed",
			 h->cfg->timeout_ms);
	else if (WIFEXITED(status))
		snprintf(out, cap, "exit status %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(out, cap, "killed by signal %d (%s)", WTERMSIG(status),
			 strsignal(WTERMSIG(status)));
	else
		snprintf(out, cap, "ended with status %#x", (unsigned)status);
}

/* Collect h's command if it has ended.  Returns 1 if it has. */
static int run_reap(struct ppxd *d, struct hook *h, int64_t now)
{
	int status = 0;
	pid_t r = waitpid(h->pid, &status, WNOHANG);
	char what[128];

	if (r == 0 || (r < 0 && errno == EINTR))
		return 0;
	run_read(h);	/* what it wrote last */
	if (r < 0) {
		snprintf(what, sizeof(what), "lost track of pid %ld: %s",
			 (long)h->pid, strerror(errno));
		hook_run_clear(h);
		hook_failed(h, now, what);
		return 1;
	}
	hook_outcome(h, status, what, sizeof(what));
	hook_run_clear(h);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && !h->term_ms) {
		if (h->retrying)
			hook_quarantine_stored(d, h);
		else
			hook_stored(d, h);
	} else {
		hook_failed(h, now, what);
		hook_quarantine_maybe(d, h, now);
	}
	return 1;
}

/* A command past timeout_ms: SIGTERM to its group, then SIGKILL. */
static void run_deadline(struct hook *h, int64_t now)
{
	if (!h->term_ms && now - h->started_ms >= h->cfg->timeout_ms) {
		log_warnx("hook %s: entry %llu: no exit after %ld ms; "
			  "terminating it", h->cfg->name,
			  (unsigned long long)h->seq, h->cfg->timeout_ms);
		kill(-h->pid, SIGTERM);
		h->term_ms = now;
	} else if (h->term_ms && now - h->term_ms >= HOOK_KILL_GRACE_MS) {
		kill(-h->pid, SIGKILL);
	}
}

/* ------------------------------------------------------------------ */
/* The loop's calls                                                    */
/* ------------------------------------------------------------------ */

void hooks_reap(struct ppxd *d)
{
	int64_t now = ppxd_now_ms();

	for (size_t i = 0; i < d->hooks->n; i++) {
		struct hook *h = &d->hooks->v[i];

		if (h->pid && h->cfg->stream) {
			hook_stream_io(d, h, now);
		} else if (h->pid) {
			run_write(h);
			run_read(h);
			if (!run_reap(d, h, now))
				run_deadline(h, now);
		}
		/* Entries the filters skipped: their cursor rides along
		 * with a commit that happens anyway. */
		if (h->next != h->saved && writer_pending(d) > 0)
			hook_cursor_save(d, h);
	}
}

/* From h->next, skip what the filters refuse; start on the first entry
 * they pass. */
static void hook_next(struct ppxd *d, struct hook *h, int64_t now)
{
	uint64_t size = ppx_log_size(d->log);

	if (h->cfg->stream) {
		hook_stream_next(d, h, now);
		return;
	}
	for (int n = 0; h->next < size && n < HOOK_SCAN_MAX; n++) {
		struct events_entry v;
		char what[300];

		h->seq = h->next;
		if (events_entry_load(&v, d->log, h->next) != 0) {
			snprintf(what, sizeof(what), "cannot read the entry: "
				 "%s", ppx_error_last());
			hook_failed(h, now, what);
			return;
		}
		if (hook_wants(h->cfg, &v)) {
			run_start(d, h, &v, now);
			events_entry_clear(&v);
			return;
		}
		events_entry_clear(&v);
		h->next++;
	}
}

/* Run h on the quarantined entry h->seq again (an operator's retry). */
static void hook_retry(struct ppxd *d, struct hook *h, int64_t now)
{
	struct events_entry v;
	char what[300];

	if (h->cfg->stream) {
		hook_stream_retry(d, h, now);
		return;
	}
	h->retrying = 1;
	if (events_entry_load(&v, d->log, h->seq) != 0) {
		snprintf(what, sizeof(what), "cannot read the entry: %s",
			 ppx_error_last());
		hook_failed(h, now, what);
		return;
	}
	run_start(d, h, &v, now);
	events_entry_clear(&v);
}

/* An idle hook's next run: the retry it is working on, else one an
 * operator asked for (between entries only: never while the entry at the
 * cursor is failing), else the entries from its cursor. */
void hooks_start(struct ppxd *d)
{
	int64_t now = ppxd_now_ms();

	for (size_t i = 0; i < d->hooks->n; i++) {
		struct hook *h = &d->hooks->v[i];
		size_t k;

		if ((h->cfg->stream ? hook_stream_busy(h) : h->pid != 0) ||
		    now < h->retry_at_ms)
			continue;
		if (h->retrying) {
			hook_retry(d, h, now);
		} else if (h->failures == 0 &&
			   hook_quarantine_next_retry(h, &k)) {
			h->seq = h->q[k].seq;
			hook_retry(d, h, now);
		} else {
			hook_next(d, h, now);
		}
	}
}

long hooks_timeout(struct ppxd *d, long max)
{
	int64_t now = ppxd_now_ms(), due;
	uint64_t size = ppx_log_size(d->log);
	long t = max;
	size_t k;

	for (size_t i = 0; i < d->hooks->n; i++) {
		const struct hook *h = &d->hooks->v[i];

		if (h->cfg->stream) {
			if (!hook_stream_due(h, now, h->next < size ||
					     h->retrying ||
					     hook_quarantine_next_retry(h, &k),
					     &due))
				continue;
		} else if (h->pid)
			due = h->term_ms ? h->term_ms + HOOK_KILL_GRACE_MS :
					   h->started_ms + h->cfg->timeout_ms;
		else if (h->retry_at_ms > now)
			due = h->retry_at_ms;
		else if (h->next < size || h->retrying ||
			 hook_quarantine_next_retry(h, &k))
			due = now;
		else
			continue;
		if (due - now < t)
			t = due - now < 0 ? 0 : (long)(due - now);
	}
	return t;
}

size_t hooks_poll_max(struct ppxd *d)
{
	return 3 * d->hooks->n;
}

size_t hooks_poll_items(struct ppxd *d, zmq_pollitem_t *items, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < d->hooks->n && n + 3 <= max; i++) {
		const struct hook *h = &d->hooks->v[i];

		if (h->pid && h->in_fd >= 0 && h->input_off < h->input_len) {
			memset(&items[n], 0, sizeof(items[n]));
			items[n].fd = h->in_fd;
			items[n++].events = ZMQ_POLLOUT;
		}
		if (h->pid && h->out_fd >= 0) {
			memset(&items[n], 0, sizeof(items[n]));
			items[n].fd = h->out_fd;
			items[n++].events = ZMQ_POLLIN;
		}
		if (h->pid && h->err_fd >= 0) {
			memset(&items[n], 0, sizeof(items[n]));
			items[n].fd = h->err_fd;
			items[n++].events = ZMQ_POLLIN;
		}
	}
	return n;
}

/* ------------------------------------------------------------------ */
/* Start and stop                                                      */
/* ------------------------------------------------------------------ */

int hooks_check(const struct ppx_config *cfg)
{
	for (size_t i = 0; i < cfg->n_hooks; i++) {
		const struct ppx_hook_config *c = &cfg->hooks[i];
		struct stat st;
		const char *why = NULL;

		if (stat(c->command, &st) != 0 || access(c->command, X_OK))
			why = strerror(errno);
		else if (!S_ISREG(st.st_mode))
			why = "not a regular file";
		if (why)
			return ppx_error_set(PPX_EINVAL, "%s:%d: [hook %s] "
					     "command: cannot run %s: %s",
					     cfg->path, c->command_line, c->name,
					     c->command, why);
	}
	return 0;
}

static int hook_init(struct hook *h, struct ppxd *d,
		     const struct ppx_hook_config *c)
{
	uint64_t size = ppx_log_size(d->log);
	int rc;

	h->cfg = c;
	h->in_fd = h->out_fd = h->err_fd = -1;
	h->saved = CURSOR_UNSAVED;
	h->may_quarantine = 1;
	snprintf(h->cursor, sizeof(h->cursor), "hook/%s", c->name);
	if ((rc = hook_quarantine_load(d, h)) != 0)
		return rc;
	rc = ppx_log_cursor_get(d->log, h->cursor, &h->next);
	if (rc == PPX_ENOTFOUND) {
		log_info("hook %s is new: it starts at the beginning of the "
			 "log (%llu entries)", c->name,
			 (unsigned long long)size);
		h->next = 0;
		return 0;
	}
	if (rc != 0)
		return rc;
	h->saved = h->next;
	if (h->next > size) {
		log_warnx("hook %s: its cursor (%llu) is beyond the end of the "
			  "log (%llu): was the log restored from a backup? It "
			  "goes on from the end", c->name,
			  (unsigned long long)h->next,
			  (unsigned long long)size);
		h->next = size;
		h->saved = CURSOR_UNSAVED;
	}
	return 0;
}

int hooks_new(struct hooks **out, struct ppxd *d)
{
	struct hooks *hs = calloc(1, sizeof(*hs));
	size_t n = d->cfg->n_hooks;
	int rc = 0;

	*out = NULL;
	if (!hs || !(hs->v = calloc(n ? n : 1, sizeof(*hs->v))) ||
	    !(hs->status = calloc(n ? n : 1, sizeof(*hs->status))) ||
	    !(hs->status_p = calloc(n ? n : 1, sizeof(*hs->status_p)))) {
		hooks_free(&hs);
		return ppx_error_set(PPX_ENOMEM, "out of memory");
	}
	for (; hs->n < n && rc == 0; hs->n++)
		rc = hook_init(&hs->v[hs->n], d, &d->cfg->hooks[hs->n]);
	if (rc != 0) {
		hooks_free(&hs);
		return rc;
	}
	*out = hs;
	return 0;
}

/* SIGKILL to the group and wait for it. */
static void run_kill(struct hook *h)
{
	if (!h->pid)
		return;
	kill(-h->pid, SIGKILL);
	while (waitpid(h->pid, NULL, 0) < 0 && errno == EINTR)
		;
	hook_run_clear(h);
	h->killed = 0;
}

void hooks_stop(struct ppxd *d)
{
	struct hooks *hs = d->hooks;
	int64_t until = ppxd_now_ms() + HOOK_STOP_GRACE_MS, now;
	size_t running;
	struct timespec tick = {0, 10 * 1000000};

	hs->stopping = 1;
	do {
		now = ppxd_now_ms();
		running = 0;
		for (size_t i = 0; i < hs->n; i++) {
			struct hook *h = &hs->v[i];

			if (h->pid && h->cfg->stream) {
				hook_stream_stop(d, h, now);
				running += h->pid != 0;
				continue;
			}
			if (!h->pid)
				continue;
			run_write(h);
			run_read(h);
			running += !run_reap(d, h, now);
		}
		if (running)
			nanosleep(&tick, NULL);
	} while (running && now < until);
	for (size_t i = 0; i < hs->n; i++) {
		struct hook *h = &hs->v[i];

		if (h->pid && !h->cfg->stream)
			log_warnx("hook %s: entry %llu still running at "
				  "shutdown; killed, it runs again at start",
				  h->cfg->name, (unsigned long long)h->seq);
		else if (h->pid)
			log_warnx("hook %s: pid %ld still running at shutdown; "
				  "killed, its batch is given again at start",
				  h->cfg->name, (long)h->pid);
		run_kill(h);
		if (h->next != h->saved)
			hook_cursor_save(d, h);
	}
	writer_flush(d);
}

void hooks_free(struct hooks **self)
{
	struct hooks *hs = *self;

	if (!hs)
		return;
	for (size_t i = 0; hs->v && i < hs->n; i++) {
		run_kill(&hs->v[i]);
		hook_stream_free(&hs->v[i]);
		hook_quarantine_free(&hs->v[i]);
	}
	free(hs->v);
	free(hs->status);
	free(hs->status_p);
	free(hs);
	*self = NULL;
}

void hooks_status(struct ppxd *d, Ppx__V1__StatusReply *sr)
{
	struct hooks *hs = d->hooks;
	uint64_t size = ppx_log_size(d->log);
	int64_t now = ppxd_now_ms();

	for (size_t i = 0; i < hs->n; i++) {
		struct hook *h = &hs->v[i];
		Ppx__V1__HookStatus *s = &hs->status[i];

		ppx__v1__hook_status__init(s);
		s->name = (char *)h->cfg->name;
		s->next_seq = h->next;
		s->behind = size > h->next ? size - h->next : 0;
		s->delivered = h->delivered;
		s->failures = h->failures;
		s->stuck = hook_stuck(h, now);
		/* A streaming hook's process lives on: running is a batch. */
		s->running = h->cfg->stream ? h->bn > 0 : h->pid != 0;
		s->next_retry_ms = h->failures ? h->retry_at_ms : 0;
		s->failing_since_ms = h->failing_since_ms;
		s->last_error = (char *)h->last_error;
		hook_quarantine_status(h, s);
		hs->status_p[i] = s;
	}
	sr->n_hooks = hs->n;
	sr->hooks = hs->status_p;
}
