/*
 * reads.c — the read broker: every consultation of the log goes through
 * here and is logged before anything is shown (docs/ppx-reading.md).
 *
 * read.sock is a Unix stream socket in the control directory.  A client
 * (ppx, client/readvia.c) connects, and the kernel tells us its uid
 * (SO_PEERCRED), which must be an operator's.  It sends one frame — a
 * 4-byte big-endian length and a ControlRequest{read} — with its standard
 * output and error passed as SCM_RIGHTS.  The request is judged
 * (reads_check.c: the argv as hostile input; the reason rule; need to
 * know, reads_about.c; break-glass), and an ENTRY_READ goes into this
 * iteration's batch — a refusal too, rate-limited.  After the commit
 * (writer_after) the client gets ControlReply{read{log_seq}} and ppx runs
 * as the daemon's user: `ppx CMD --config OURS ARGS`, stdin /dev/null,
 * the client's descriptors as stdout and stderr, PPX_READ_GRANT naming
 * the entry so that it does not record itself as a direct read.  When
 * the child ends, its status goes back in a second ControlReply{read{
 * exited, exit_status}}; when the client goes away first (EOF), the child
 * is killed — `ppx follow` ends with its reader.  The loop never blocks:
 * sockets are non-blocking, children are reaped on SIGCHLD with WNOHANG.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "ppx/control.h"
#include "ppx/error.h"
#include "ppx/text.h"
#include "ppx/workdays.h"
#include "reads.h"
#include "state.h"
#include "writer.h"

#define REQUEST_MS 5000		/* to send the request after connecting */
#define COUNTERS_MAX 64		/* people with counted status calls */
#define REFUSALS_LOGGED 10	/* refusal entries per window, at most */
#define REFUSALS_WINDOW_MS 60000
#define REFUSERS_MAX 64		/* uids whose refusals are counted */

extern char **environ;

enum conn_state { C_REQUEST, C_COMMIT, C_RUNNING };

struct conn {
	int fd;
	enum conn_state state;
	uid_t uid;
	int out_fd, err_fd;	/* the client's, passed with the request */
	uint8_t *buf;		/* the frame being read */
	size_t len;
	int64_t deadline_ms;
	pid_t child;
	uint64_t seq;		/* the ENTRY_READ */
	char **argv;		/* for the child, owned */
	int gone;		/* the client went away */
};

struct counter {
	char person[128];
	uint32_t count;		/* calls not yet logged */
	int64_t last_ms;	/* when last logged */
};

/* One uid's refusals in the current window. */
struct refusals {
	uid_t uid;
	int64_t since_ms;	/* 0: unused */
	unsigned logged, unlogged;
};

struct reads {
	int listen_fd;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char ppx[PATH_MAX];
	char config[PATH_MAX];
	struct conn *conns[READS_CONNS_MAX];
	size_t running;
	struct counter counters[COUNTERS_MAX];
	size_t n_counters;
	struct refusals refusals[REFUSERS_MAX];	/* per uid */
};

/* ---- the entries ------------------------------------------------------- */

int reads_log_entry(struct ppxd *d, const struct read_entry *r, uint64_t *seq)
{
	Ppx__V1__LogEntry e = PPX__V1__LOG_ENTRY__INIT;
	Ppx__V1__Access a = PPX__V1__ACCESS__INIT;
	ProtobufCBinaryData ids[READS_IDS_MAX];
	const struct read_about *ab = r->about;

	e.kind = PPX__V1__ENTRY_KIND__ENTRY_READ;
	e.person = (char *)r->person;
	e.detail = (char *)(r->detail ? r->detail : "");
	a.command = (char *)r->command;
	a.scope = (char *)(r->scope ? r->scope : "");
	a.reason = (char *)(r->reason ? r->reason : "");
	a.emergency = r->emergency;
	a.reviewer = (char *)(r->reviewer ? r->reviewer : "");
	a.review_due_ms = r->review_due_ms;
	a.direct = r->direct;
	a.read_ms = r->read_ms;
	a.count = r->count;
	e.access = &a;
	if (ab) {
		e.subject_keys = (char **)ab->keys;
		e.n_subject_keys = ab->n_keys;
		for (size_t i = 0; i < ab->n_ids; i++) {
			ids[i].data = (uint8_t *)ab->ids[i];
			ids[i].len = PPX_LOG_ID_LEN;
		}
		if (ab->n_ids > 0)
			e.message_id = ids[0];
		if (ab->n_ids > 1) {
			e.related_ids = ids + 1;
			e.n_related_ids = ab->n_ids - 1;
		}
	}
	return writer_append(d, &e, seq);
}

/* "uid:N" for a caller who is not an operator. */
static const char *person_of(const struct ppx_operator *op, uid_t uid,
			     char *buf, size_t cap)
{
	if (op)
		return op->id;
	snprintf(buf, cap, "uid:%lu", (unsigned long)uid);
	return buf;
}

/* ---- counting commands -------------------------------------------------- */

static struct counter *counter_of(struct reads *rs, const char *person)
{
	for (size_t i = 0; i < rs->n_counters; i++)
		if (strcmp(rs->counters[i].person, person) == 0)
			return &rs->counters[i];
	if (rs->n_counters == COUNTERS_MAX)
		return NULL;
	snprintf(rs->counters[rs->n_counters].person,
		 sizeof(rs->counters[0].person), "%s", person);
	return &rs->counters[rs->n_counters++];
}

static void counter_log(struct ppxd *d, struct counter *c, int64_t now)
{
	struct read_entry r = {0};
	uint64_t seq;

	r.person = c->person;
	r.command = "status";
	r.count = c->count;
	if (reads_log_entry(d, &r, &seq) != 0) {
		log_warnx("cannot log %s's status reads: %s", c->person,
			  ppx_error_last());
		return;
	}
	c->count = 0;
	c->last_ms = now;
}

void reads_count(struct ppxd *d, const struct ppx_operator *op, uid_t uid,
		 const char *command)
{
	char buf[32];
	struct counter *c, alone = {0};
	int64_t now = ppxd_now_ms();

	(void)command;	/* status is the one counted on the control socket */
	if (!d->reads)
		return;
	if (!(c = counter_of(d->reads, person_of(op, uid, buf, sizeof(buf))))) {
		/* no room to count this person's calls: log this one now */
		snprintf(alone.person, sizeof(alone.person), "%s",
			 person_of(op, uid, buf, sizeof(buf)));
		c = &alone;
	}
	c->count++;
	if (c->last_ms == 0 || now - c->last_ms >= d->cfg->counting_log_ms)
		counter_log(d, c, now);
}

/* ---- replies ------------------------------------------------------------ */

/* One frame to the client; a client that does not take it loses it. */
static void frame_send(int fd, Ppx__V1__ControlReply *reply)
{
	size_t len = ppx__v1__control_reply__get_packed_size(reply), off = 0;
	uint8_t *buf = malloc(len + 4);

	if (!buf)
		return;
	buf[0] = (uint8_t)(len >> 24);
	buf[1] = (uint8_t)(len >> 16);
	buf[2] = (uint8_t)(len >> 8);
	buf[3] = (uint8_t)len;
	ppx__v1__control_reply__pack(reply, buf + 4);
	while (off < len + 4) {
		ssize_t n = send(fd, buf + off, len + 4 - off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n <= 0)
			break;
		off += (size_t)n;
	}
	free(buf);
}

static void reply_error(int fd, int code, const char *why)
{
	Ppx__V1__ControlReply reply = PPX__V1__CONTROL_REPLY__INIT;

	reply.version = PPX_CONTROL_VERSION;
	reply.code = code ? code : PPX_EIO;
	reply.error = (char *)why;
	frame_send(fd, &reply);
}

static void reply_read(int fd, uint64_t seq, int exited, int status)
{
	Ppx__V1__ControlReply reply = PPX__V1__CONTROL_REPLY__INIT;
	Ppx__V1__ReadReply rr = PPX__V1__READ_REPLY__INIT;

	rr.log_seq = seq;
	rr.exited = exited;
	rr.exit_status = status;
	reply.version = PPX_CONTROL_VERSION;
	reply.reply_case = PPX__V1__CONTROL_REPLY__REPLY_READ;
	reply.read = &rr;
	frame_send(fd, &reply);
}

/* ---- connections --------------------------------------------------------- */

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static void conn_free(struct conn *c)
{
	if (!c)
		return;
	close_fd(&c->fd);
	close_fd(&c->out_fd);
	close_fd(&c->err_fd);
	free(c->buf);
	for (size_t i = 0; c->argv && c->argv[i]; i++)
		free(c->argv[i]);
	free(c->argv);
	free(c);
}

/* Drop connection i (a running child is the reaper's to wait for). */
static void conn_drop(struct reads *rs, size_t i)
{
	conn_free(rs->conns[i]);
	rs->conns[i] = NULL;
}

static void conn_accept(struct ppxd *d)
{
	struct reads *rs = d->reads;
	struct ucred cred;
	socklen_t clen = sizeof(cred);
	struct conn *c;
	size_t i;
	int fd;

	while ((fd = accept4(rs->listen_fd, NULL, NULL,
			     SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
		for (i = 0; i < READS_CONNS_MAX && rs->conns[i]; i++)
			;
		if (i == READS_CONNS_MAX ||
		    getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) != 0 ||
		    !(c = calloc(1, sizeof(*c)))) {
			reply_error(fd, PPX_EAGAIN, "ppxd is busy with reads: "
				    "try again");
			close(fd);
			continue;
		}
		c->fd = fd;
		c->out_fd = c->err_fd = -1;
		c->uid = cred.uid;
		c->deadline_ms = ppxd_now_ms() + REQUEST_MS;
		rs->conns[i] = c;
	}
}

/* Descriptors that came with a message: the first two are kept as the
 * client's stdout and stderr, any other is closed. */
static void take_fds(struct conn *c, struct msghdr *m)
{
	for (struct cmsghdr *h = CMSG_FIRSTHDR(m); h; h = CMSG_NXTHDR(m, h)) {
		size_t n;
		int fds[8];

		if (h->cmsg_level != SOL_SOCKET || h->cmsg_type != SCM_RIGHTS)
			continue;
		n = (h->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		if (n > 8)
			n = 8;
		memcpy(fds, CMSG_DATA(h), n * sizeof(int));
		for (size_t i = 0; i < n; i++) {
			if (c->out_fd < 0)
				c->out_fd = fds[i];
			else if (c->err_fd < 0)
				c->err_fd = fds[i];
			else
				close(fds[i]);
		}
	}
}

/* Read what is there: 1 when the frame is complete, 0 for more, -1 when
 * the connection is over (EOF, error, oversized). */
static int conn_read(struct conn *c)
{
	union {
		char buf[CMSG_SPACE(8 * sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov;
	struct msghdr m;
	size_t want;
	ssize_t n;

	if (!c->buf && !(c->buf = malloc(4 + READS_FRAME_MAX)))
		return -1;
	for (;;) {
		want = c->len < 4 ? 4 - c->len
				  : 4 + ((size_t)c->buf[0] << 24 |
					 (size_t)c->buf[1] << 16 |
					 (size_t)c->buf[2] << 8 | c->buf[3]) -
					    c->len;
		if (c->len >= 4 && want == 0)
			return 1;
		if (c->len >= 4 && c->len + want > 4 + READS_FRAME_MAX)
			return -1;
		memset(&m, 0, sizeof(m));
		iov.iov_base = c->buf + c->len;
		iov.iov_len = want;
		m.msg_iov = &iov;
		m.msg_iovlen = 1;
		m.msg_control = ctl.buf;
		m.msg_controllen = sizeof(ctl.buf);
		n = recvmsg(c->fd, &m, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return 0;
		if (n <= 0)
			return -1;
		take_fds(c, &m);
		c->len += (size_t)n;
	}
}

/* ---- the child ----------------------------------------------------------- */

/* The child's environment: the grant, and the few of ours it needs —
 * among them whatever sets our clock (TZ, a preloaded libfaketime), so
 * that it dates "today" and judges the grant's entry as we do. */
static char **child_env(char *grant)
{
	static const char *const keep[] = {"PATH=", "TZ=", "LANG=", "LC_ALL=",
					   "PPX_DEADLINES=", "ASAN_OPTIONS=",
					   "UBSAN_OPTIONS=", "LSAN_OPTIONS=",
					   "LD_PRELOAD=", "FAKETIME"};
	size_t n = 0, k = 0;
	char **env;

	while (environ[n])
		n++;
	if (!(env = calloc(n + 2, sizeof(*env))))
		return NULL;
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < sizeof(keep) / sizeof(keep[0]); j++)
			if (strncmp(environ[i], keep[j], strlen(keep[j])) == 0)
				env[k++] = environ[i];
	env[k] = grant;
	return env;
}

static int child_start(struct reads *rs, struct conn *c)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, all;
	char grant[64], **env;
	int rc;

	snprintf(grant, sizeof(grant), "%s=%llu", READS_GRANT_ENV,
		 (unsigned long long)c->seq);
	if (!(env = child_env(grant)))
		return ENOMEM;
	sigemptyset(&none);
	sigfillset(&all);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, c->out_fd, 1);
	posix_spawn_file_actions_adddup2(&fa, c->err_fd, 2);
	posix_spawn_file_actions_addclosefrom_np(&fa, 3);
	posix_spawnattr_init(&attr);
	posix_spawnattr_setpgroup(&attr, 0);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &all);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP |
				 POSIX_SPAWN_SETSIGMASK |
				 POSIX_SPAWN_SETSIGDEF);
	rc = posix_spawn(&c->child, rs->ppx, &fa, &attr, c->argv, env);
	posix_spawnattr_destroy(&attr);
	posix_spawn_file_actions_destroy(&fa);
	free(env);
	if (rc == 0)
		rs->running++;
	else
		c->child = 0;
	return rc;
}

/* `ppx CMD --config OURS ARGS... [--exact]` for the child, owned by c.
 * --exact when the reader's need to know was judged on the identifiers
 * given alone: subject and audit would otherwise follow linked ones. */
static int child_argv(struct reads *rs, struct conn *c, char *const *argv,
		      size_t argc, int exact)
{
	size_t k = 0;

	if (!(c->argv = calloc(argc + 5, sizeof(char *))))
		return PPX_ENOMEM;
	c->argv[k++] = strdup("ppx");
	c->argv[k++] = strdup(argv[0]);
	c->argv[k++] = strdup("--config");
	c->argv[k++] = strdup(rs->config);
	for (size_t i = 1; i < argc; i++)
		c->argv[k++] = strdup(argv[i]);
	if (exact)
		c->argv[k++] = strdup("--exact");
	for (size_t i = 0; i < k; i++)
		if (!c->argv[i]) {	/* conn_free stops at the first NULL */
			for (size_t j = 0; j < k; j++)
				free(c->argv[j]);
			free(c->argv);
			c->argv = NULL;
			return PPX_ENOMEM;
		}
	return 0;
}

/* The ENTRY_READ at c->seq was logged but nothing was read: say so in a
 * follow-up entry, so that the log does not show a read that never ran. */
static void read_not_run(struct ppxd *d, const struct conn *c,
			 const char *why)
{
	const struct ppx_operator *op =
		ppx_config_operator_by_uid(d->cfg, c->uid);
	struct read_entry r = {0};
	char buf[32], detail[256];
	uint64_t seq;

	snprintf(detail, sizeof(detail), "not run: the read logged at seq "
		 "%llu was not run (%s)", (unsigned long long)c->seq, why);
	r.person = person_of(op, c->uid, buf, sizeof(buf));
	r.command = c->argv && c->argv[1] ? c->argv[1] : "";
	r.detail = detail;
	if (reads_log_entry(d, &r, &seq) != 0)
		log_warnx("cannot log that read %llu was not run: %s",
			  (unsigned long long)c->seq, ppx_error_last());
}

/* After the commit of the ENTRY_READ: run the read, or say why not. */
static void read_committed(struct ppxd *d, void *arg, int rc)
{
	struct reads *rs = d->reads;
	struct conn *c = arg;
	int err;

	if (rc != 0) {
		reply_error(c->fd, rc, "the read could not be logged, so "
			    "nothing is shown");
	} else if (d->stopping) {
		read_not_run(d, c, "ppxd is stopping");
		reply_error(c->fd, PPX_EAGAIN, "ppxd is stopping");
	} else if ((err = child_start(rs, c)) != 0) {
		log_warnx("read %llu: cannot run %s: %s",
			  (unsigned long long)c->seq, rs->ppx, strerror(err));
		read_not_run(d, c, "ppxd cannot run ppx");
		reply_error(c->fd, PPX_EIO, "ppxd cannot run ppx for the read "
			    "(see its log)");
	} else {
		reply_read(c->fd, c->seq, 0, 0);
		c->state = C_RUNNING;
		close_fd(&c->out_fd);	/* the child has them now */
		close_fd(&c->err_fd);
		return;
	}
	for (size_t i = 0; i < READS_CONNS_MAX; i++)
		if (rs->conns[i] == c)
			conn_drop(rs, i);
}

/* ---- judging a request ----------------------------------------------------- */

/* Log a refusal (at most REFUSALS_LOGGED a minute) and answer it. */
static void refuse(struct ppxd *d, struct conn *c,
		   const struct ppx_operator *op, const struct read_plan *p,
		   int code, const char *why)
{
	struct reads *rs = d->reads;
	struct refusals *f = NULL;
	struct read_entry r = {0};
	char buf[32], detail[1400];
	int64_t now = ppxd_now_ms();
	uint64_t seq;

	log_info("read by %s refused: %s", person_of(op, c->uid, buf,
						      sizeof(buf)), why);
	/* this uid's window: found, else the stalest (one flooding caller
	 * does not silence the refusals of another) */
	for (size_t i = 0; i < REFUSERS_MAX; i++) {
		if (rs->refusals[i].since_ms && rs->refusals[i].uid == c->uid) {
			f = &rs->refusals[i];
			break;
		}
		if (!f || rs->refusals[i].since_ms < f->since_ms)
			f = &rs->refusals[i];
	}
	if (f->uid != c->uid || now - f->since_ms >= REFUSALS_WINDOW_MS) {
		if (f->uid != c->uid)
			f->unlogged = 0;
		f->uid = c->uid;
		f->since_ms = now;
		f->logged = 0;
	}
	if (f->logged < REFUSALS_LOGGED) {
		f->logged++;
		snprintf(detail, sizeof(detail), "refused: %s%s", why,
			 f->unlogged ? " (and refusals before it "
				       "not logged: too many)" : "");
		f->unlogged = 0;
		r.person = person_of(op, c->uid, buf, sizeof(buf));
		r.command = p && p->command ? p->command : "";
		r.scope = p ? p->scope : "";
		r.detail = detail;
		if (reads_log_entry(d, &r, &seq) != 0)
			log_warnx("cannot log a refused read: %s",
				  ppx_error_last());
	} else {
		f->unlogged++;
	}
	reply_error(c->fd, code, why);
}

/* The reason a read is logged with, or a refusal in `why`. */
static int read_reason(struct ppxd *d, const struct ppx_operator *op,
		       const struct read_plan *p,
		       const Ppx__V1__ReadRequest *r, const char **reason,
		       char *why, size_t cap)
{
	time_t now = time(NULL);
	struct tm local;

	*reason = r->reason[0] ? r->reason : op->purpose;
	localtime_r(&now, &local);
	if (reads_reason_check(r->reason) != 0) {
		snprintf(why, cap, "%s", ppx_error_last());
		return PPX_EINVAL;
	}
	if (!(*reason)[0] &&
	    reads_reason_needed(d->cfg->reason_rule, p->no_reason, &local)) {
		snprintf(why, cap, "a reason is required for reading%s: give "
			 "--reason TEXT (or configure a purpose for %s)",
			 d->cfg->reason_rule == PPX_REASON_OUT_OF_HOURS
			 ? " out of hours" : "", op->id);
		return PPX_EPERM;
	}
	return 0;
}

/* Need to know, or break-glass: 0 and r->emergency etc. set, or a
 * refusal in `why`. */
static int read_allowed(struct ppxd *d, const struct ppx_operator *op,
			const struct read_plan *p, const struct read_about *a,
			const Ppx__V1__ReadRequest *req, struct read_entry *r,
			char *why, size_t cap)
{
	int ok = reads_need_to_know(d->log, d->cfg, op, p, a, why, cap);
	size_t len;

	if (ok < 0) {
		snprintf(why, cap, "cannot check need to know: %s",
			 ppx_error_last());
		return PPX_EIO;
	}
	if (ok)
		return 0;
	len = strlen(why);
	if (!req->emergency) {
		snprintf(why + len, cap - len, "; an emergency read needs "
			 "--emergency --reason TEXT");
		return PPX_EPERM;
	}
	if (!req->reason[0] || !d->cfg->emergency_reviewer[0]) {
		snprintf(why + len, cap - len, "; an emergency read %s",
			 !req->reason[0] ? "needs --reason TEXT"
					 : "is impossible here: no "
					   "[accountability] emergency_reviewer "
					   "is configured");
		return PPX_EPERM;
	}
	r->emergency = 1;
	r->reviewer = d->cfg->emergency_reviewer;
	r->review_due_ms = ppx_review_due_ms(NULL, ppxd_now_ms(),
					     d->cfg->emergency_review_days);
	r->detail = "emergency read without need to know";
	return 0;
}

/* The reads running, or logged and about to run, for `uid`. */
static size_t running_of(const struct reads *rs, uid_t uid)
{
	size_t n = 0;

	for (size_t i = 0; i < READS_CONNS_MAX; i++)
		n += rs->conns[i] && rs->conns[i]->uid == uid &&
		     (rs->conns[i]->child > 0 || rs->conns[i]->argv);
	return n;
}

/* A decoded read from an operator: judged, logged, and the run set up
 * for after the commit.  0, or the refusal code with `why`. */
static int read_request(struct ppxd *d, struct conn *c,
			const struct ppx_operator *op,
			const Ppx__V1__ReadRequest *req, struct read_plan *p,
			char *why, size_t cap)
{
	struct read_entry r = {0};
	struct read_about a;
	int rc;

	if ((rc = reads_plan(p, req->argv, req->n_argv,
			     c->uid == 0 || c->uid == geteuid()
			     ? READS_PLAN_FILES : 0)) != 0) {
		snprintf(why, cap, "%s", ppx_error_last());
		return rc;
	}
	if ((rc = read_reason(d, op, p, req, &r.reason, why, cap)) != 0)
		return rc;
	if (d->reads->running >= READS_RUNNING_MAX) {
		snprintf(why, cap, "busy: %d reads are running; try again",
			 READS_RUNNING_MAX);
		return PPX_EAGAIN;
	}
	if (running_of(d->reads, c->uid) >= READS_RUNNING_PER_UID) {
		snprintf(why, cap, "busy: you have %d reads running; try again "
			 "when one ends", READS_RUNNING_PER_UID);
		return PPX_EAGAIN;
	}
	if ((rc = reads_about(&a, d->log, d->cfg->agency, p)) != 0) {
		snprintf(why, cap, "cannot look the read up: %s",
			 ppx_error_last());
		return rc;
	}
	rc = read_allowed(d, op, p, &a, req, &r, why, cap);
	/* A backup copies a log that ends with a checkpoint the agency
	 * signed, whatever checkpoint_every says. */
	if (rc == 0 && strcmp(p->command, "backup") == 0 &&
	    (rc = writer_checkpoint_now(d)) != 0)
		snprintf(why, cap, "cannot sign a checkpoint before the "
			 "backup: %s", ppx_error_last());
	r.person = op->id;
	r.command = p->command;
	r.scope = p->scope;
	r.about = &a;
	if (rc == 0 && (rc = child_argv(d->reads, c, req->argv, req->n_argv,
					op->need_to_know != PPX_NTK_ALL &&
					!r.emergency &&
					(strcmp(p->command, "subject") == 0 ||
					 strcmp(p->command, "audit") == 0))) != 0)
		snprintf(why, cap, "out of memory");
	if (rc == 0 && (rc = reads_log_entry(d, &r, &c->seq)) != 0)
		snprintf(why, cap, "cannot log the read: %s", ppx_error_last());
	else if (rc == 0 && (rc = writer_after(d, read_committed, c)) != 0) {
		snprintf(why, cap, "cannot run the read: %s", ppx_error_last());
		read_not_run(d, c, "ppxd could not wait for its commit");
	}
	reads_about_free(&a);
	return rc;
}

/* A complete frame from connection i: answered now, or after the commit.
 * 1 when the connection is to be dropped now. */
static int conn_request(struct ppxd *d, struct conn *c)
{
	const struct ppx_operator *op =
		ppx_config_operator_by_uid(d->cfg, c->uid);
	Ppx__V1__ControlRequest *req =
		ppx__v1__control_request__unpack(NULL, c->len - 4, c->buf + 4);
	struct read_plan p = {0};
	char why[1024] = "";
	int rc = PPX_EINVAL;

	if (!req || req->version != PPX_CONTROL_VERSION ||
	    req->request_case != PPX__V1__CONTROL_REQUEST__REQUEST_READ)
		snprintf(why, sizeof(why), "read.sock takes one ControlRequest "
			 "{read} of version %d", PPX_CONTROL_VERSION);
	else if (ppx_text_check(&ppx__v1__control_request__descriptor,
				c->buf + 4, c->len - 4, "read request") != 0)
		snprintf(why, sizeof(why), "%s", ppx_error_last());
	else if (c->out_fd < 0 || c->err_fd < 0)
		snprintf(why, sizeof(why), "a read passes its standard output "
			 "and error with the request (SCM_RIGHTS)");
	else if (!op) {
		rc = PPX_EPERM;
		snprintf(why, sizeof(why), "uid %lu is not an operator of "
			 "this daemon", (unsigned long)c->uid);
	} else
		rc = read_request(d, c, op, req->read, &p, why, sizeof(why));
	if (rc != 0 && !why[0])
		snprintf(why, sizeof(why), "%s", ppx_error_last());
	if (rc != 0)
		refuse(d, c, op, req && req->read ? &p : NULL, rc, why);
	else
		c->state = C_COMMIT;
	free(c->buf);
	c->buf = NULL;
	if (req)
		ppx__v1__control_request__free_unpacked(req, NULL);
	return rc != 0;
}

/* ---- the loop's side ------------------------------------------------------- */

/* A running read whose client has gone: stop it. */
static void conn_check_gone(struct conn *c)
{
	char b[64];
	ssize_t n = recv(c->fd, b, sizeof(b), MSG_DONTWAIT);

	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR) || n > 0) {
		c->gone = 1;
		if (c->child > 0)
			kill(-c->child, SIGTERM);
	}
}

/* A running read's child, if it ended: its status to the client. */
static int conn_reap(struct reads *rs, struct conn *c)
{
	int status;

	if (c->child <= 0 || waitpid(c->child, &status, WNOHANG) != c->child)
		return 0;
	rs->running--;
	c->child = 0;
	if (!c->gone)
		reply_read(c->fd, c->seq, 1,
			   WIFEXITED(status) ? WEXITSTATUS(status)
					     : 128 + WTERMSIG(status));
	return 1;
}

void reads_handle(struct ppxd *d)
{
	struct reads *rs = d->reads;
	int64_t now = ppxd_now_ms();

	if (!rs)
		return;
	conn_accept(d);
	for (size_t i = 0; i < READS_CONNS_MAX; i++) {
		struct conn *c = rs->conns[i];
		int r;

		if (!c)
			continue;
		if (c->state == C_REQUEST) {
			r = conn_read(c);
			if (r == 0 && now > c->deadline_ms)
				r = -1;
			if (r < 0 || (r == 1 && conn_request(d, c)))
				conn_drop(rs, i);
		} else if (c->state == C_RUNNING) {
			if (!c->gone)
				conn_check_gone(c);
			if (conn_reap(rs, c))
				conn_drop(rs, i);
		}
	}
}

size_t reads_poll_max(void)
{
	return 1 + READS_CONNS_MAX;
}

size_t reads_poll_items(struct ppxd *d, zmq_pollitem_t *items, size_t max)
{
	struct reads *rs = d->reads;
	size_t n = 0;

	if (!rs || max == 0)
		return 0;
	memset(items, 0, max * sizeof(*items));
	items[n].fd = rs->listen_fd;
	items[n++].events = ZMQ_POLLIN;
	for (size_t i = 0; i < READS_CONNS_MAX && n < max; i++) {
		struct conn *c = rs->conns[i];

		if (!c || c->state == C_COMMIT || c->gone)
			continue;
		items[n].fd = c->fd;
		items[n++].events = ZMQ_POLLIN;
	}
	return n;
}

long reads_timeout(struct ppxd *d, long max)
{
	struct reads *rs = d->reads;
	int64_t now = ppxd_now_ms();

	for (size_t i = 0; rs && i < READS_CONNS_MAX; i++) {
		struct conn *c = rs->conns[i];
		long left;

		if (!c || c->state != C_REQUEST)
			continue;
		left = c->deadline_ms > now ? (long)(c->deadline_ms - now) + 1
					    : 0;
		if (max < 0 || left < max)
			max = left;
	}
	return max;
}

/* ---- start and stop ----------------------------------------------------------- */

/*
 * The ppx to run: [accountability] ppx, else the one beside ppxd (the build
 * tree), else DIR/../bin/ppx for a ppxd installed in DIR = PREFIX/sbin
 * (make install, the Debian package: /usr/sbin/ppxd runs /usr/bin/ppx).
 */
static int find_ppx(struct ppxd *d, struct reads *rs)
{
	char self[PATH_MAX];
	ssize_t n;
	char *slash;
	size_t len;

	if (d->cfg->ppx_path[0]) {
		snprintf(rs->ppx, sizeof(rs->ppx), "%s", d->cfg->ppx_path);
		return 0;
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		return ppx_error_set(PPX_EIO, "cannot find ppxd's own path to "
				     "run ppx beside it: set [accountability] "
				     "ppx");
	self[n] = '\0';
	if ((slash = strrchr(self, '/')))
		*slash = '\0';
	if ((size_t)snprintf(rs->ppx, sizeof(rs->ppx), "%s/ppx", self) >=
	    sizeof(rs->ppx))
		return ppx_error_set(PPX_EINVAL, "path of ppx too long");
	len = strlen(self);
	if (access(rs->ppx, X_OK) == 0 || len < 5 ||
	    strcmp(self + len - 5, "/sbin") != 0)
		return 0;
	self[len - 5] = '\0';
	if ((size_t)snprintf(rs->ppx, sizeof(rs->ppx), "%s/bin/ppx", self) >=
	    sizeof(rs->ppx))
		return ppx_error_set(PPX_EINVAL, "path of ppx too long");
	return 0;
}

static int listen_on(struct ppxd *d, struct reads *rs)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};

	if ((size_t)snprintf(rs->path, sizeof(rs->path), "%s/%s",
			     d->cfg->control_dir, READS_SOCKET) >=
	    sizeof(rs->path))
		return ppx_error_set(PPX_EINVAL, "control directory %s too "
				     "long for %s", d->cfg->control_dir,
				     READS_SOCKET);
	memcpy(sa.sun_path, rs->path, strlen(rs->path) + 1);
	unlink(rs->path);
	rs->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK |
			       SOCK_CLOEXEC, 0);
	if (rs->listen_fd < 0 ||
	    bind(rs->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    chmod(rs->path, 0660) != 0 || listen(rs->listen_fd, 16) != 0)
		return ppx_error_set(PPX_EIO, "cannot listen on %s: %s",
				     rs->path, strerror(errno));
	return 0;
}

int reads_new(struct reads **out, struct ppxd *d)
{
	struct reads *rs = calloc(1, sizeof(*rs));
	int rc;

	*out = NULL;
	if (!rs)
		return ppx_error_set(PPX_ENOMEM, "out of memory");
	rs->listen_fd = -1;
	if (!realpath(d->cfg->path, rs->config))
		snprintf(rs->config, sizeof(rs->config), "%s", d->cfg->path);
	if ((rc = find_ppx(d, rs)) != 0 || (rc = listen_on(d, rs)) != 0) {
		if (rs->listen_fd >= 0)
			close(rs->listen_fd);
		free(rs);
		return rc;
	}
	*out = rs;
	return 0;
}

void reads_stop(struct ppxd *d)
{
	struct reads *rs = d->reads;
	int64_t now = ppxd_now_ms();

	if (!rs)
		return;
	for (size_t i = 0; i < READS_CONNS_MAX; i++)
		if (rs->conns[i] && rs->conns[i]->child > 0)
			kill(-rs->conns[i]->child, SIGTERM);
	for (size_t i = 0; i < rs->n_counters; i++)
		if (rs->counters[i].count)
			counter_log(d, &rs->counters[i], now);
}

void reads_free(struct reads **self)
{
	struct reads *rs = *self;

	if (!rs)
		return;
	for (size_t i = 0; i < READS_CONNS_MAX; i++) {
		struct conn *c = rs->conns[i];

		if (c && c->child > 0) {
			kill(-c->child, SIGKILL);
			while (waitpid(c->child, NULL, 0) < 0 && errno == EINTR)
				;
		}
		conn_drop(rs, i);
	}
	if (rs->listen_fd >= 0) {
		close(rs->listen_fd);
		unlink(rs->path);
	}
	free(rs);
	*self = NULL;
}
