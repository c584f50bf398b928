/*
 * logcheck.c — checking a log in a child process.
 *
 * LMDB trusts its own pages: a B-tree page damaged on disk (a bad node
 * size, a wild offset) can make it read past its map and die of SIGSEGV or
 * SIGBUS, before any of ppx's own checks sees a byte.  ppx_log_check_dir()
 * runs the read of every record, the check of every entry and the check of
 * the indexes against the entries in a forked child and hands the verdict
 * back through a pipe, so that such a log gives the caller (ppxd at start,
 * ppx verify) a clear error instead of a crash.
 *
 * The child only reads: it opens the log itself, after the fork, read-only
 * (LMDB environments must not cross a fork), and leaves with _exit() so
 * that nothing of the parent's -- stdio buffers, atexit handlers -- runs
 * twice.
 *
 * ppxd's start-up check reads only from the check seal
 * (PPX_CHECK_SEALED); the full check then runs in a child left running at
 * the lowest priority (ppx_log_check_spawn()), whose verdict the daemon's
 * loop collects without blocking (ppx_log_check_poll()).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ppx/checkpoint.h"
#include "ppx/error.h"

/* What the child writes to the pipe. */
struct verdict {
	int rc;				/* ppx code of the read or check */
	ppx_verify_report report;	/* when rc == 0 */
	char error[512];		/* when rc != 0 */
};

/* The indexes' verdict, if they differ, replaces that of the entries
 * (which keeps its counts). */
static int check_indexes(ppx_verify_report *report, ppx_log *log)
{
	ppx_verify_report ix;
	int rc = ppx_log_check_indexes(&ix, log);

	if (rc == 0 && !ix.ok) {
		report->ok = 0;
		report->code = ix.code;
		report->first_bad = ix.first_bad;
		memcpy(report->reason, ix.reason, sizeof(report->reason));
	}
	return rc;
}

static int check_indexes_from(ppx_verify_report *report, ppx_log *log)
{
	ppx_verify_report ix;
	int rc = ppx_log_check_indexes_from(&ix, log, report->from);

	if (rc == 0 && !ix.ok) {
		report->ok = 0;
		report->code = ix.code;
		report->first_bad = ix.first_bad;
		memcpy(report->reason, ix.reason, sizeof(report->reason));
	}
	return rc;
}

static int check_here(struct verdict *v, const char *dir,
		      const ppx_trust *const *trusts, unsigned jobs,
		      enum ppx_log_check_mode mode)
{
	const ppx_trust *trust = trusts ? trusts[0] : NULL;
	ppx_log_options ro = {.flags = PPX_LOG_READONLY};
	ppx_log *log = NULL;
	uint64_t records;
	int rc;

	if ((rc = ppx_log_open(&log, dir, &ro)) != 0)
		return rc;
	if (mode == PPX_CHECK_SEALED) {
		if ((rc = ppx_log_check_sealed(&v->report, log)) == 0 &&
		    v->report.ok)
			rc = check_indexes_from(&v->report, log);
		ppx_log_close(log);
		return rc;
	}
	if ((rc = ppx_log_walk(log, &records)) == 0)
		rc = trust ? ppx_log_verify_jobs(&v->report, log, trusts, jobs)
			   : ppx_log_check(&v->report, log);
	if (rc == 0 && v->report.ok)
		rc = check_indexes(&v->report, log);
	ppx_log_close(log);
	return rc;
}

/* A fault reading the map ends the child by its signal, which the parent
 * reports: not by a handler of the caller's (or a sanitizer's) that would
 * take it for a crash of the caller's own code. */
static void default_faults(void)
{
	static const int sigs[] = {SIGSEGV, SIGBUS, SIGABRT, SIGFPE, SIGILL};
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
}

static void child(int fd, const char *dir, const ppx_trust *const *trusts,
		  unsigned jobs, enum ppx_log_check_mode mode)
{
	struct verdict v;
	const uint8_t *p = (const uint8_t *)&v;
	size_t off = 0;

	default_faults();
	memset(&v, 0, sizeof(v));
	v.rc = check_here(&v, dir, trusts, jobs, mode);
	if (v.rc != 0)
		snprintf(v.error, sizeof(v.error), "%s", ppx_error_last());
	while (off < sizeof(v)) {
		ssize_t n = write(fd, p + off, sizeof(v) - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			_exit(1);
		off += (size_t)n;
	}
	_exit(0);
}

/* Reads the verdict; returns the bytes read (short if the child died). */
static size_t read_verdict(int fd, struct verdict *v)
{
	uint8_t *p = (uint8_t *)v;
	size_t off = 0;

	while (off < sizeof(*v)) {
		ssize_t n = read(fd, p + off, sizeof(*v) - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	return off;
}

static int reap(pid_t pid, int *status)
{
	while (waitpid(pid, status, 0) < 0)
		if (errno != EINTR)
			return ppx_error_set(PPX_EIO, "cannot wait for the log "
					     "check: %s", strerror(errno));
	return 0;
}

/* The child's verdict, or why there is none, as ppx_log_check_dir()
 * returns it. */
static int judge(ppx_verify_report *out, const char *dir,
		 struct verdict *v, size_t got, int status)
{
	/* Killed from outside (the OOM killer, an operator): no verdict,
	 * and nothing said of the file. */
	if (WIFSIGNALED(status) && WTERMSIG(status) != SIGSEGV &&
	    WTERMSIG(status) != SIGBUS && WTERMSIG(status) != SIGABRT &&
	    WTERMSIG(status) != SIGILL && WTERMSIG(status) != SIGFPE)
		return ppx_error_set(PPX_EIO, "cannot check log %s: the "
				     "process reading it was stopped (%s) "
				     "before its verdict", dir,
				     strsignal(WTERMSIG(status)));
	if (WIFSIGNALED(status))
		return ppx_error_set(PPX_ECORRUPT, "log %s is damaged: reading "
				     "it crashed the storage library (%s); "
				     "run ppx verify on a copy and restore "
				     "from a backup", dir,
				     strsignal(WTERMSIG(status)));
	if (got != sizeof(*v) || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0)
		return ppx_error_set(PPX_ECORRUPT, "cannot check log %s: the "
				     "process reading it ended (status %d) "
				     "without a verdict, as a damaged file "
				     "can make it; run ppx verify on a copy",
				     dir, WIFEXITED(status) ?
				     WEXITSTATUS(status) : -1);
	if (v->rc != 0) {
		v->error[sizeof(v->error) - 1] = '\0';
		return ppx_error_set(v->rc, "%s", v->error);
	}
	*out = v->report;
	out->reason[sizeof(out->reason) - 1] = '\0';
	return 0;
}

static int check_dir(ppx_verify_report *out, const char *dir,
		     const ppx_trust *const *trusts, unsigned jobs,
		     enum ppx_log_check_mode mode);

int ppx_log_check_dir(ppx_verify_report *out, const char *dir,
		      const ppx_trust *trust)
{
	return ppx_log_check_dir_mode(out, dir, trust, PPX_CHECK_FULL);
}

int ppx_log_check_dir_mode(ppx_verify_report *out, const char *dir,
			   const ppx_trust *trust,
			   enum ppx_log_check_mode mode)
{
	return check_dir(out, dir, trust ? &trust : NULL, 1, mode);
}

int ppx_log_check_dir_jobs(ppx_verify_report *out, const char *dir,
			   const ppx_trust *const *trusts, unsigned jobs)
{
	return check_dir(out, dir, trusts, jobs, PPX_CHECK_FULL);
}

static int check_dir(ppx_verify_report *out, const char *dir,
		     const ppx_trust *const *trusts, unsigned jobs,
		     enum ppx_log_check_mode mode)
{
	struct verdict v;
	int fds[2], status, rc;
	size_t got;
	pid_t pid;

	memset(out, 0, sizeof(*out));
	if (pipe(fds) != 0)
		return ppx_error_set(PPX_EIO, "cannot check log %s: pipe: %s",
				     dir, strerror(errno));
	fflush(NULL);
	if ((pid = fork()) < 0) {
		rc = errno;
		close(fds[0]);
		close(fds[1]);
		return ppx_error_set(PPX_EIO, "cannot check log %s: fork: %s",
				     dir, strerror(rc));
	}
	if (pid == 0) {
		close(fds[0]);
		child(fds[1], dir, trusts, jobs, mode);
	}
	close(fds[1]);
	memset(&v, 0, sizeof(v));
	got = read_verdict(fds[0], &v);
	close(fds[0]);
	if ((rc = reap(pid, &status)) != 0)
		return rc;
	return judge(out, dir, &v, got, status);
}

/* ---- the full check in the background ---------------------------------- */

/*
 * The child of ppx_log_check_spawn(): nothing of the daemon's but the
 * pipe (its lock file's descriptor above all: a check outliving a killed
 * daemon must not keep the next one from starting), gone when the daemon
 * goes, and on the CPU only when nothing else wants it.
 */
static void background(int fd, const char *dir, pid_t parent)
{
	struct sched_param none = {0};

	if (fd != 3 && dup2(fd, 3) < 0)
		_exit(1);
	close_range(4, ~0U, 0);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)	/* the daemon died before the prctl */
		_exit(1);
	if (setpriority(PRIO_PROCESS, 0, 19) != 0 ||
	    sched_setscheduler(0, SCHED_IDLE, &none) != 0) {
		/* no lower priority: checked all the same */
	}
	child(3, dir, NULL, 1, PPX_CHECK_FULL);
}

int ppx_log_check_spawn(ppx_log_check_job *job, const char *dir)
{
	pid_t parent;
	int fds[2], rc;

	memset(job, 0, sizeof(*job));
	job->fd = -1;
	if (snprintf(job->dir, sizeof(job->dir), "%s", dir) >=
	    (int)sizeof(job->dir))
		return ppx_error_set(PPX_EINVAL, "log directory name too long");
	if (pipe2(fds, O_CLOEXEC) != 0)
		return ppx_error_set(PPX_EIO, "cannot check log %s: pipe: %s",
				     dir, strerror(errno));
	fflush(NULL);
	parent = getpid();
	if ((job->pid = fork()) < 0) {
		rc = errno;
		close(fds[0]);
		close(fds[1]);
		return ppx_error_set(PPX_EIO, "cannot check log %s: fork: %s",
				     dir, strerror(rc));
	}
	if (job->pid == 0) {
		close(fds[0]);
		background(fds[1], dir, parent);
	}
	close(fds[1]);
	job->fd = fds[0];
	return 0;
}

int ppx_log_check_poll(ppx_log_check_job *job, ppx_verify_report *out,
		       int *done)
{
	struct pollfd p = {.fd = job->fd, .events = POLLIN};
	struct verdict v;
	size_t got;
	int status, rc;

	*done = 0;
	if (job->pid <= 0 || job->fd < 0)
		return 0;
	if (poll(&p, 1, 0) <= 0)
		return 0;	/* nothing yet (or EINTR: next time) */
	memset(&v, 0, sizeof(v));
	got = read_verdict(job->fd, &v);
	close(job->fd);
	job->fd = -1;
	rc = reap(job->pid, &status);
	job->pid = 0;
	*done = 1;
	if (rc != 0)
		return rc;
	memset(out, 0, sizeof(*out));
	return judge(out, job->dir, &v, got, status);
}

void ppx_log_check_cancel(ppx_log_check_job *job)
{
	int status;

	if (job->pid > 0) {
		kill(job->pid, SIGKILL);
		reap(job->pid, &status);
		job->pid = 0;
	}
	if (job->fd >= 0) {
		close(job->fd);
		job->fd = -1;
	}
}
