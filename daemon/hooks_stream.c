/*
 * hooks_stream.c — durable hooks with `mode = stream`: one long-running
 * process of the hook's command is given entries in batches, and answers
 * once per batch (docs/HOOKS.md, "Streaming hooks").
 *
 * The line protocol.  On the process's stdin the daemon writes, for each
 * entry of a batch, the entry JSON and "\n", then "end SEQ\n" naming the
 * batch's last entry.  On stdout the process answers the batch with one
 * line:
 *
 *   ok SEQ              every entry of the batch is stored (SEQ: its last)
 *   fail SEQ REASON     none is stored (SEQ: its last); try again later
 *   refuse SEQ REASON   the entries before SEQ are stored, SEQ is not and
 *                       will not be (a poison entry), those after are not
 *
 * stderr goes to a pipe of its own, kept as the tail shown with a failure.
 *
 * Where it sits: hooks.c calls in here for stream hooks instead of running
 * one process per entry; cursors, failures, backoff and the quarantine are
 * the same.  ok moves the cursor past the batch (hook_stored(), in the next
 * commit); fail and refuse are failures of one entry: the batch's first, or
 * the refused one, after the cursor moved past those before it.  While the
 * hook is failing, batches hold one entry, so the failures counted, and an
 * entry set aside after quarantine_after of them, are one entry's, exactly
 * as in mode = each.
 *
 * The daemon and the process do not take turns: once a batch is written,
 * the next is built while the process stores it, and written the moment
 * the answer is ok (the protocol is unchanged: one batch in flight).  Any
 * other answer drops it; after a failure batches are built afresh, one
 * entry at a time.
 *
 * Every answer is checked: a line that is not one of the three, names a
 * seq that is not the batch's, is longer than HOOK_ANSWER_MAX, comes with
 * no batch in flight, or does not come within timeout_ms, gets the process
 * group SIGKILL; that is counted as a failure of the batch, which is given
 * again (to a new process) after the backoff.  A process that exits with a
 * batch in flight is a failure too.  The pipes are non-blocking and polled
 * by the loop, and reads are bounded per call, so a slow, silent or
 * flooding process never holds the daemon.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "events.h"
#include "hooks.h"
#include "hooks_int.h"
#include "log.h"
#include "ppx/error.h"
#include "state.h"

#define STREAM_SCAN_EXTRA 1024	/* filtered-out entries looked at per batch */
#define STREAM_READS_MAX 16	/* reads of 4 KiB per pipe per iteration */

/* ------------------------------------------------------------------ */
/* The batch                                                           */
/* ------------------------------------------------------------------ */

static void batch_clear(struct hook *h)
{
	h->bn = 0;
	free(h->input);
	h->input = NULL;
	h->input_len = h->input_off = 0;
	h->answer_len = 0;
	h->ahead_sent = 0;
}

/* Append `len` bytes to the batch's input, growing it. */
static int input_add(struct hook *h, size_t *cap, const char *text,
		     size_t len)
{
	char *g;

	if (h->input_len + len + 1 > *cap) {
		size_t ncap = *cap ? *cap : 65536;

		while (ncap < h->input_len + len + 1)
			ncap *= 2;
		if (!(g = realloc(h->input, ncap)))
			return PPX_ENOMEM;
		h->input = g;
		*cap = ncap;
	}
	memcpy(h->input + h->input_len, text, len);
	h->input_len += len;
	return 0;
}

/* Add entry v to the batch: its seq, kind and JSON line. */
static int batch_add(struct ppxd *d, struct hook *h, size_t *cap,
		     const struct events_entry *v, uint64_t seq)
{
	char *json = NULL;
	int rc;

	if (h->bn == h->bcap) {
		size_t ncap = h->bcap ? 2 * h->bcap : 64;
		uint64_t *s = realloc(h->bseq, ncap * sizeof(*s));
		int *k;

		if (s)
			h->bseq = s;
		if (!s || !(k = realloc(h->bkind, ncap * sizeof(*k))))
			return PPX_ENOMEM;
		h->bkind = k;
		h->bcap = ncap;
	}
	if (events_entry_json(&json, v, d->cfg->agency) != 0)
		return PPX_ENOMEM;
	rc = input_add(h, cap, json, strlen(json));
	free(json);
	if (rc != 0 || (rc = input_add(h, cap, "\n", 1)) != 0)
		return rc;
	h->bseq[h->bn] = seq;
	h->bkind[h->bn++] = (int)v->entry->kind;
	return 0;
}

/* The entries from *from its filters pass, committed ones only, up to
 * batch_max (one while failing) and batch_bytes (at least one).  Entries
 * the filters refuse before the first are skipped: *from moves past them.
 * -1 if an entry cannot be read (*bad: which). */
static int batch_fill(struct ppxd *d, struct hook *h, uint64_t *from,
		      size_t *cap, uint64_t *bad)
{
	uint64_t size = ppx_log_size(d->log), seq = *from;
	size_t max = h->failures ? 1 : (size_t)h->cfg->batch_max;
	size_t scan = max + STREAM_SCAN_EXTRA;
	int rc = 0;

	for (; seq < size && scan > 0 && h->bn < max && rc == 0; scan--) {
		struct events_entry v;

		if (h->bn && h->input_len >= (size_t)h->cfg->batch_bytes)
			break;
		if (events_entry_load(&v, d->log, seq) != 0) {
			*bad = seq;
			return -1;
		}
		if (hook_wants(h->cfg, &v))
			rc = batch_add(d, h, cap, &v, seq);
		else if (h->bn == 0)
			*from = seq + 1;
		events_entry_clear(&v);
		seq++;
	}
	return rc;
}

/* Exchange the batch in h's fields (not yet written) with b. */
static void batch_swap(struct hook *h, struct hook_batch *b)
{
	struct hook_batch t = {h->input, h->input_len, h->bseq, h->bkind,
			       h->bn, h->bcap};

	h->input = b->input;
	h->input_len = b->input_len;
	h->bseq = b->bseq;
	h->bkind = b->bkind;
	h->bn = b->bn;
	h->bcap = b->bcap;
	*b = t;
	h->input_off = 0;
}

/* Drop the batch built ahead, keeping its arrays for the next, and
 * forget that it was built or due. */
static void ahead_clear(struct hook *h)
{
	free(h->ahead.input);
	h->ahead.input = NULL;
	h->ahead.input_len = 0;
	h->ahead.bn = 0;
	h->ahead_tried = 0;
	h->ahead_due = 0;
}

/*
 * Once the batch in flight is written, build the next one (what a fresh
 * batch_fill would give after it is ok) while the process stores it.  Not
 * while failing or retrying: those batches are one entry, built when due.
 */
static void ahead_build(struct ppxd *d, struct hook *h)
{
	uint64_t from, bad;
	size_t cap = 0;

	if (h->ahead_tried || !h->bn || h->input_off < h->input_len ||
	    h->failures || h->retrying || h->killed)
		return;
	ahead_clear(h);
	h->ahead_tried = 1;
	from = h->bseq[h->bn - 1] + 1;
	batch_swap(h, &h->ahead);	/* build in h's fields */
	if (batch_fill(d, h, &from, &cap, &bad) != 0) {
		/* Dropped (not batch_clear: the answer being read is the
		 * batch in flight's); built when due, its failure said then. */
		h->bn = 0;
		free(h->input);
		h->input = NULL;
		h->input_len = 0;
	}
	batch_swap(h, &h->ahead);
	h->input_off = h->input_len;	/* the batch in flight: written */
}

/* ------------------------------------------------------------------ */
/* The process                                                         */
/* ------------------------------------------------------------------ */

/* Start h's command with three pipes, non-blocking on our side. */
static int proc_start(struct ppxd *d, struct hook *h)
{
	int in[2] = {-1, -1}, out[2] = {-1, -1}, err[2] = {-1, -1}, rc;

	if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0 ||
	    pipe2(err, O_CLOEXEC) != 0)
		rc = errno;
	else
		rc = hook_spawn(d, h, in, out, err);
	hook_close_fd(&in[0]);
	hook_close_fd(&out[1]);
	hook_close_fd(&err[1]);
	h->in_fd = in[1];
	h->out_fd = out[0];
	h->err_fd = err[0];
	if (rc != 0) {
		h->pid = 0;
		hook_run_clear(h);
		return rc;
	}
	fcntl(h->in_fd, F_SETFL, O_NONBLOCK);
	fcntl(h->out_fd, F_SETFL, O_NONBLOCK);
	fcntl(h->err_fd, F_SETFL, O_NONBLOCK);
	h->killed = 0;
	log_info("hook %s: streaming to pid %ld", h->cfg->name, (long)h->pid);
	return 0;
}

/* Give the process what the pipe takes of the batch. */
static void proc_write(struct hook *h)
{
	while (h->in_fd >= 0 && h->input_off < h->input_len) {
		ssize_t n = write(h->in_fd, h->input + h->input_off,
				  h->input_len - h->input_off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			/* EPIPE: it closed stdin; its exit tells why. */
			hook_close_fd(&h->in_fd);
			return;
		}
		h->input_off += (size_t)n;
	}
}

/* The batch in flight failed (h->seq: the entry it counts against). */
static void batch_failed(struct ppxd *d, struct hook *h, int64_t now,
			 const char *what)
{
	size_t n = h->bn;

	batch_clear(h);
	ahead_clear(h);
	hook_failed(h, now, what);
	if (n == 1 || h->retrying)
		hook_quarantine_maybe(d, h, now);
}

/* A bad or late answer: kill the process group, count the failure. */
static void proc_abandon(struct ppxd *d, struct hook *h, int64_t now,
			 const char *what)
{
	log_warnx("hook %s: %s; killing pid %ld", h->cfg->name, what,
		  (long)h->pid);
	kill(-h->pid, SIGKILL);
	h->killed = 1;
	hook_close_fd(&h->in_fd);
	hook_close_fd(&h->out_fd);
	if (h->bn) {
		h->seq = h->bseq[0];
		h->seq_kind = h->bkind[0];
		batch_failed(d, h, now, what);
	}
}

/* Hand the batch over: start the process if none runs. */
static void batch_send(struct ppxd *d, struct hook *h, size_t *cap,
		       int64_t now)
{
	char end[40], what[sizeof(h->cfg->command) + 64];
	int rc;

	h->seq = h->bseq[0];
	h->seq_kind = h->bkind[0];
	snprintf(end, sizeof(end), "end %llu\n",
		 (unsigned long long)h->bseq[h->bn - 1]);
	if (input_add(h, cap, end, strlen(end)) != 0) {
		batch_failed(d, h, now, "out of memory");
		return;
	}
	if (!h->pid && (rc = proc_start(d, h)) != 0) {
		snprintf(what, sizeof(what), "cannot run %s: %s",
			 h->cfg->command, strerror(rc));
		batch_failed(d, h, now, what);
		return;
	}
	h->tail_len = 0;
	h->started_ms = now;
	h->answer_len = 0;
	h->ahead_tried = 0;
	log_debug("hook %s: entries %llu..%llu (%zu) to pid %ld",
		  h->cfg->name, (unsigned long long)h->bseq[0],
		  (unsigned long long)h->bseq[h->bn - 1], h->bn, (long)h->pid);
	proc_write(h);
	ahead_build(d, h);
}

/* ------------------------------------------------------------------ */
/* Answers                                                             */
/* ------------------------------------------------------------------ */

/* A decimal seq of at most 20 digits at *p; moves *p past it. */
static int answer_seq(const char **p, uint64_t *out)
{
	const char *s = *p;
	uint64_t v = 0;
	int n = 0;

	for (; *s >= '0' && *s <= '9' && n < 21; s++, n++) {
		if (v > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	if (n == 0 || n > 20 || (n > 1 && **p == '0'))
		return -1;
	*p = s;
	*out = v;
	return 0;
}

/* Printable reason, control characters as '?'. */
static void answer_reason(const char *in, char *out, size_t cap)
{
	size_t n = 0;

	for (; *in && n + 1 < cap; in++) {
		unsigned char c = (unsigned char)*in;

		out[n++] = c < 0x20 || c == 0x7f ? '?' : (char)c;
	}
	out[n] = '\0';
}

/* ok: the whole batch is stored; the next, if built, may go (ahead_send:
 * not before every answer already read is judged, and the process is
 * known to run). */
static void answer_ok(struct ppxd *d, struct hook *h)
{
	size_t n = h->bn;

	h->seq = h->bseq[n - 1];
	batch_clear(h);
	if (h->retrying) {
		hook_quarantine_stored(d, h);
		return;
	}
	h->delivered += n - 1;
	hook_stored(d, h);
	h->ahead_due = 1;
}

/* refuse: those before entry i are stored, entry i failed. */
static void answer_refuse(struct ppxd *d, struct hook *h, size_t i,
			  const char *reason, int64_t now)
{
	char what[HOOK_ANSWER_MAX + 16];

	if (i > 0 && !h->retrying) {
		h->seq = h->bseq[i - 1];
		h->delivered += i - 1;
		hook_stored(d, h);
	}
	h->seq = h->bseq[i];
	h->seq_kind = h->bkind[i];
	snprintf(what, sizeof(what), "refused: %s", reason);
	h->tail_len = 0;
	h->bn = 1;	/* one entry's failure: it may be set aside */
	batch_failed(d, h, now, what);
}

/* One answer line (NUL-terminated, without its newline).  Returns 0, or
 * -1 if it was bad (and the process is being killed). */
static int answer(struct ppxd *d, struct hook *h, const char *line,
		  int64_t now)
{
	const char *p = line;
	char reason[HOOK_ANSWER_MAX], what[HOOK_ANSWER_MAX + 96];
	uint64_t seq = 0, last;
	int kind;	/* 0 ok, 1 fail, 2 refuse */
	size_t i;

	if (h->bn == 0) {
		answer_reason(line, reason, 200);
		snprintf(what, sizeof(what), "answered with no batch in "
			 "flight: \"%s\"", reason);
		proc_abandon(d, h, now, what);
		return -1;
	}
	last = h->bseq[h->bn - 1];
	kind = strncmp(p, "ok ", 3) == 0 ? 0 :
	       strncmp(p, "fail ", 5) == 0 ? 1 :
	       strncmp(p, "refuse ", 7) == 0 ? 2 : -1;
	if (kind < 0)
		goto bad;
	p += kind == 0 ? 3 : kind == 1 ? 5 : 7;
	if (answer_seq(&p, &seq) != 0 ||
	    (kind == 0 && *p) || (kind > 0 && *p && *p != ' '))
		goto bad;
	answer_reason(*p ? p + 1 : "no reason given", reason, sizeof(reason));
	if (kind == 0 && seq == last) {
		answer_ok(d, h);
		return 0;
	}
	if (kind == 1 && seq == last) {
		snprintf(what, sizeof(what), "failed: %s", reason);
		batch_failed(d, h, now, what);
		return 0;
	}
	for (i = 0; kind == 2 && i < h->bn; i++)
		if (h->bseq[i] == seq) {
			answer_refuse(d, h, i, reason, now);
			return 0;
		}
bad:
	answer_reason(line, reason, 200);
	snprintf(what, sizeof(what), "bad answer to entries %llu..%llu: "
		 "\"%s\"", (unsigned long long)h->bseq[0],
		 (unsigned long long)last, reason);
	proc_abandon(d, h, now, what);
	return -1;
}

/* Read stdout: whole lines are answers. */
static void proc_read(struct ppxd *d, struct hook *h, int64_t now)
{
	char buf[4096];
	int unread;

	for (int r = 0; h->out_fd >= 0 && r < STREAM_READS_MAX; r++) {
		ssize_t n = read(h->out_fd, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0 || errno != EAGAIN)
				hook_close_fd(&h->out_fd);
			return;
		}
		for (ssize_t k = 0; k < n && h->out_fd >= 0; k++) {
			if (buf[k] != '\n') {
				if (h->answer_len + 1 >= sizeof(h->answer)) {
					proc_abandon(d, h, now, "answer line "
						     "longer than 1024 bytes");
					return;
				}
				h->answer[h->answer_len++] = buf[k];
				continue;
			}
			h->answer[h->answer_len] = '\0';
			h->answer_len = 0;
			/* An answer before the whole batch was written: the
			 * rest would be dropped mid-line and the next batch
			 * spliced onto it.  The answer stands; the process,
			 * out of step with its input, goes. */
			unread = h->bn && h->input_off < h->input_len;
			if (answer(d, h, h->answer, now) != 0)
				return;
			if (unread) {
				proc_abandon(d, h, now, "answered before it "
					     "was given the whole batch");
				return;
			}
		}
	}
}

/* Collect the process if it ended.  With a batch in flight that is a
 * failure; between batches it is started again for the next. */
static void proc_reap(struct ppxd *d, struct hook *h, int64_t now)
{
	int status = 0;
	pid_t r = waitpid(h->pid, &status, WNOHANG);
	char how[128], what[200];

	if (r == 0 || (r < 0 && errno == EINTR))
		return;
	proc_read(d, h, now);	/* its last answer */
	hook_tail_read(h, &h->err_fd, STREAM_READS_MAX);
	if (r < 0)
		snprintf(how, sizeof(how), "lost track of it: %s",
			 strerror(errno));
	else
		hook_outcome(h, status, how, sizeof(how));
	if (h->bn && h->ahead_sent && h->answer_len == 0) {
		/* It ended after its last ok, maybe before this batch was
		 * written: for it, between batches, which is no failure
		 * (docs/HOOKS.md).  The batch goes to a new process, built
		 * afresh; should that one end too, it counts. */
		log_info("hook %s: pid %ld ended after its last answer (%s); "
			 "entries %llu..%llu go to a new process", h->cfg->name,
			 (long)h->pid, how, (unsigned long long)h->bseq[0],
			 (unsigned long long)h->bseq[h->bn - 1]);
		batch_clear(h);
	} else if (h->bn) {
		snprintf(what, sizeof(what), "ended before answering (%s)",
			 how);
		h->seq = h->bseq[0];
		h->seq_kind = h->bkind[0];
		batch_failed(d, h, now, what);
	} else if (!h->killed && !d->hooks->stopping) {
		log_warnx("hook %s: pid %ld ended between batches (%s); it is "
			  "started again for the next", h->cfg->name,
			  (long)h->pid, how);
	}
	h->killed = 0;
	hook_run_clear(h);
}

/*
 * The batch built ahead goes the moment the one before it was answered ok,
 * if the process still runs and no answer came with that ok (a second
 * line read in the same turn was judged with no batch in flight).  Not at
 * shutdown, nor while an operator's retry of a set-aside entry waits for
 * a gap between batches; then it is dropped, and built afresh when due.
 */
static void ahead_send(struct ppxd *d, struct hook *h, int64_t now)
{
	size_t k, cap = 0;

	if (!h->ahead_due)
		return;
	if (!h->pid || h->killed || h->bn || !h->ahead.bn ||
	    d->hooks->stopping || hook_quarantine_next_retry(h, &k)) {
		ahead_clear(h);
		return;
	}
	batch_swap(h, &h->ahead);
	ahead_clear(h);
	batch_send(d, h, &cap, now);
	h->ahead_sent = h->bn > 0;
}

/* ------------------------------------------------------------------ */
/* hooks.c's calls                                                     */
/* ------------------------------------------------------------------ */

int hook_stream_busy(const struct hook *h)
{
	return h->bn > 0 || (h->pid && h->killed);
}

void hook_stream_next(struct ppxd *d, struct hook *h, int64_t now)
{
	size_t cap = 0;
	char what[300];

	if (batch_fill(d, h, &h->next, &cap, &h->seq) != 0) {
		snprintf(what, sizeof(what), "cannot read entry %llu: %s",
			 (unsigned long long)h->seq, ppx_error_last());
		h->bn = 0;
		batch_clear(h);
		hook_failed(h, now, what);
		return;
	}
	if (h->bn == 0) {
		batch_clear(h);
		return;
	}
	batch_send(d, h, &cap, now);
}

void hook_stream_retry(struct ppxd *d, struct hook *h, int64_t now)
{
	struct events_entry v;
	size_t cap = 0;
	char what[300];

	h->retrying = 1;
	if (events_entry_load(&v, d->log, h->seq) != 0) {
		snprintf(what, sizeof(what), "cannot read the entry: %s",
			 ppx_error_last());
		hook_failed(h, now, what);
		return;
	}
	if (batch_add(d, h, &cap, &v, h->seq) != 0) {
		events_entry_clear(&v);
		batch_clear(h);
		hook_failed(h, now, "out of memory");
		return;
	}
	events_entry_clear(&v);
	batch_send(d, h, &cap, now);
}

void hook_stream_io(struct ppxd *d, struct hook *h, int64_t now)
{
	char what[96];

	proc_write(h);
	proc_read(d, h, now);
	hook_tail_read(h, &h->err_fd, STREAM_READS_MAX);
	if (h->pid)
		proc_reap(d, h, now);
	ahead_send(d, h, now);
	if (h->pid)
		ahead_build(d, h);
	if (h->pid && h->bn && !h->killed &&
	    now - h->started_ms >= h->cfg->timeout_ms) {
		snprintf(what, sizeof(what), "no answer after %ld ms",
			 h->cfg->timeout_ms);
		proc_abandon(d, h, now, what);
	}
}

int hook_stream_due(const struct hook *h, int64_t now, int work,
		    int64_t *due)
{
	if (h->pid && h->killed)
		return 0;	/* SIGCHLD wakes the loop */
	if (h->bn)
		*due = h->started_ms + h->cfg->timeout_ms;
	else if (h->retry_at_ms > now)
		*due = h->retry_at_ms;
	else if (work)
		*due = now;
	else
		return 0;
	return 1;
}

void hook_stream_stop(struct ppxd *d, struct hook *h, int64_t now)
{
	hook_stream_io(d, h, now);
	if (h->pid && h->bn == 0)
		hook_close_fd(&h->in_fd);	/* end of input: it ends */
}

void hook_stream_free(struct hook *h)
{
	batch_clear(h);
	ahead_clear(h);
	free(h->bseq);
	free(h->bkind);
	free(h->ahead.bseq);
	free(h->ahead.bkind);
	h->bseq = NULL;
	h->bkind = NULL;
	h->bcap = 0;
	h->ahead = (struct hook_batch){0};
}
