/*
 * readvia.c — how a reading command reaches the log: through the daemon,
 * which logs the read, or directly, leaving a record (docs/ppx-reading.md,
 * "How reads are recorded").
 *
 * main.c hands every reading command (log, show, follow, subject, export,
 * prove, audit, due, report) to read_via() before it runs.  --reason TEXT
 * and --emergency are taken out of its arguments here.  Then:
 *
 *   - In a child the daemon started for a read (PPX_READ_GRANT=SEQ in the
 *     environment), the grant is checked — the entry SEQ of the log is an
 *     ENTRY_READ of this command, logged in the last minute, we run as
 *     the owner of the log (the daemon's user) and no --log is given —
 *     and the command runs: the daemon has recorded the read.
 *   - With --log DIR the files are read directly: a record of the read is
 *     left in DIR/reads/ first (ppxd logs it at its next start or reload),
 *     and without one nothing is read.
 *   - Otherwise the read goes to the daemon of the configuration
 *     (--config, $PPX_CONFIG, /etc/ppx/ppxd.conf) over read.sock, with
 *     our standard output (or the --output file, opened here as the
 *     caller) and standard error; the daemon's child writes to them, and
 *     its exit status is ours.
 */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "client.h"
#include "ppx/control.h"
#include "ppx/error.h"
#include "ppx/logstore.h"

#define GRANT_ENV "PPX_READ_GRANT"
#define GRANT_MAX_AGE_MS 60000
#define READ_SOCKET "read.sock"
#define FRAME_MAX (64 * 1024)
#define ARGS_MAX 64

/* The arguments, sorted out. */
struct via {
	char *argv[ARGS_MAX + 1];	/* what the command runs with */
	int argc;
	char *dargv[ARGS_MAX + 1];	/* to the daemon: less --config,
					 * --output FILE [--force] */
	int dargc;
	char *rargv[ARGS_MAX + 1];	/* into a record: less --log DIR */
	int rargc;
	const char *reason;
	int emergency;
	const char *log_dir;		/* --log */
	const char *config;		/* --config */
	const char *output;		/* --output */
	int force;
};

/* The options read_via() looks at, as getopt_long takes them: in full,
 * abbreviated to at least `min` letters, or with =VALUE. */
enum via_opt { V_NONE, V_REASON, V_EMERGENCY, V_LOG, V_CONFIG, V_OUTPUT,
	       V_FORCE };
static const struct {
	const char *name;
	size_t min;
	char short_name;
	int value;
} via_opts[] = {
	[V_REASON] = {"reason", 3, 0, 1},
	[V_EMERGENCY] = {"emergency", 2, 0, 0},
	[V_LOG] = {"log", 1, 'l', 1},
	[V_CONFIG] = {"config", 3, 'c', 1},
	[V_OUTPUT] = {"output", 1, 'o', 1},
	[V_FORCE] = {"force", 3, 0, 0},
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Which of via_opts `arg` is, and its inline value (NULL if none). */
static enum via_opt via_opt_of(const char *arg, const char **inl)
{
	const char *eq;
	size_t len;

	*inl = NULL;
	if (arg[0] == '-' && arg[1] && arg[1] != '-') {
		for (size_t i = 1; i < sizeof(via_opts) / sizeof(via_opts[0]);
		     i++)
			if (via_opts[i].short_name == arg[1]) {
				*inl = arg[2] ? arg + 2 : NULL;
				return (enum via_opt)i;
			}
		return V_NONE;
	}
	if (strncmp(arg, "--", 2) != 0)
		return V_NONE;
	arg += 2;
	eq = strchr(arg, '=');
	len = eq ? (size_t)(eq - arg) : strlen(arg);
	for (size_t i = 1; i < sizeof(via_opts) / sizeof(via_opts[0]); i++)
		if (len >= via_opts[i].min && len <= strlen(via_opts[i].name) &&
		    strncmp(arg, via_opts[i].name, len) == 0) {
			*inl = eq ? eq + 1 : NULL;
			return (enum via_opt)i;
		}
	return V_NONE;
}

static void push(char **v, int *n, char *a)
{
	v[(*n)++] = a;
	v[*n] = NULL;
}

/* One option of via_opts at argv[*i] (and its value): noted, and put in
 * the argument lists it belongs to. */
static int via_option(struct via *v, enum via_opt o, const char *inl,
		      int argc, char **argv, int *i)
{
	char *opt = argv[*i], *val = NULL;
	const char **slot[] = {[V_REASON] = &v->reason, [V_LOG] = &v->log_dir,
			       [V_CONFIG] = &v->config,
			       [V_OUTPUT] = &v->output};

	if (via_opts[o].value && !inl) {
		if (*i + 1 >= argc) {
			fprintf(stderr, "ppx %s: %s needs a value\n", argv[0],
				opt);
			return PPX_EXIT_USAGE;
		}
		val = argv[++*i];
	}
	if (via_opts[o].value)
		*slot[o] = inl ? inl : val;
	if (o == V_EMERGENCY)
		v->emergency = 1;
	if (o == V_FORCE)
		v->force = 1;
	if (o == V_REASON || o == V_EMERGENCY)
		return 0;
	push(v->argv, &v->argc, opt);
	if (val)
		push(v->argv, &v->argc, val);
	if (o != V_LOG) {
		push(v->rargv, &v->rargc, opt);
		if (val)
			push(v->rargv, &v->rargc, val);
	}
	if (o == V_LOG || o == V_FORCE) {
		push(v->dargv, &v->dargc, opt);
		if (val)
			push(v->dargv, &v->dargc, val);
	}
	return 0;
}

static void drop_force(struct via *v)
{
	int k = 0;

	for (int i = 0; i < v->dargc; i++) {
		const char *inl;

		if (i == 0 || via_opt_of(v->dargv[i], &inl) != V_FORCE)
			v->dargv[k++] = v->dargv[i];
	}
	v->dargc = k;
	v->dargv[k] = NULL;
}

/* Take --reason, --emergency out, and note --log, --config, --output and
 * --force.  0, or a usage error after saying so. */
static int via_parse(struct via *v, int argc, char **argv)
{
	memset(v, 0, sizeof(*v));
	if (argc > ARGS_MAX) {
		fprintf(stderr, "ppx %s: too many arguments\n", argv[0]);
		return PPX_EXIT_USAGE;
	}
	push(v->argv, &v->argc, argv[0]);
	push(v->dargv, &v->dargc, argv[0]);
	push(v->rargv, &v->rargc, argv[0]);
	for (int i = 1; i < argc; i++) {
		const char *inl;
		enum via_opt o = via_opt_of(argv[i], &inl);
		int rc;

		if (o != V_NONE) {
			if ((rc = via_option(v, o, inl, argc, argv, &i)) != 0)
				return rc;
			continue;
		}
		push(v->argv, &v->argc, argv[i]);
		push(v->dargv, &v->dargc, argv[i]);
		push(v->rargv, &v->rargc, argv[i]);
	}
	if (v->output)		/* --force is for the file, opened here */
		drop_force(v);
	if (v->emergency && (!v->reason || !v->reason[0])) {
		fprintf(stderr, "ppx %s: --emergency needs --reason TEXT: why "
			"you must read without need to know\n", argv[0]);
		return PPX_EXIT_USAGE;
	}
	return 0;
}

/* Whether argv asks for help only: nothing is read.  Only the first
 * argument counts: a later "-h" may be an option's value
 * (`--output -h`), and the command then reads. */
static int wants_help(int argc, char **argv)
{
	return argc >= 2 && (strcmp(argv[1], "--help") == 0 ||
			     strcmp(argv[1], "-h") == 0);
}

/* ---- in the daemon's child ----------------------------------------------- */

static int grant_check(const struct via *v, const char *grant)
{
	struct ppx_config *cfg = NULL;
	ppx_log *log = NULL;
	ppx_log_options ro = {.flags = PPX_LOG_READONLY};
	Ppx__V1__LogEntry *e = NULL;
	char *end;
	unsigned long long seq = strtoull(grant, &end, 10);
	struct stat st;
	int ok = 0;

	/* Only the daemon's own child: run as the user who owns the log
	 * (the daemon's), not setuid, and reading that log, no other. */
	if (*grant && !*end && v->config && !v->log_dir &&
	    getuid() == geteuid() &&
	    ppx_config_load(&cfg, v->config) == 0 &&
	    stat(cfg->log_dir, &st) == 0 && st.st_uid == getuid() &&
	    ppx_log_open(&log, cfg->log_dir, &ro) == 0 &&
	    ppx_log_get(log, seq, &e) == 0)
		ok = e->kind == PPX__V1__ENTRY_KIND__ENTRY_READ && e->access &&
		     !e->access->direct &&
		     strcmp(e->access->command, v->argv[0]) == 0 &&
		     strncmp(e->detail, "refused", 7) != 0 &&
		     strncmp(e->detail, "not run", 7) != 0 &&
		     e->time_ms > now_ms() - GRANT_MAX_AGE_MS;
	if (e)
		ppx__v1__log_entry__free_unpacked(e, NULL);
	ppx_log_close(log);
	ppx_config_free(cfg);
	if (!ok)
		fprintf(stderr, "ppx %s: %s=%s is not the daemon's grant for "
			"this read; nothing is shown\n", v->argv[0], GRANT_ENV,
			grant);
	return ok;
}

/* ---- directly, with a record ------------------------------------------------ */

static int write_all(int fd, const char *s, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, s, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		s += n;
		len -= (size_t)n;
	}
	return 0;
}

/* The record's JSON: who, when, what, why. */
static char *record_json(const struct via *v)
{
	json_object *o = json_object_new_object(), *a = json_object_new_array();
	struct passwd *pw = getpwuid(getuid());
	char *out;

	for (int i = 0; i < v->rargc; i++)
		json_object_array_add(a, json_object_new_string(v->rargv[i]));
	json_object_object_add(o, "uid", json_object_new_int64(getuid()));
	json_object_object_add(o, "user", json_object_new_string(
					  pw ? pw->pw_name : "?"));
	json_object_object_add(o, "time_ms", json_object_new_int64(now_ms()));
	json_object_object_add(o, "argv", a);
	json_object_object_add(o, "reason", json_object_new_string(
					    v->reason ? v->reason : ""));
	json_object_object_add(o, "emergency",
			       json_object_new_boolean(v->emergency));
	out = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	return out;
}

/* Leave DIR/reads/read-TIME-PID.json, written whole before it is named. */
static int record_write(const struct via *v, char *why, size_t cap)
{
	char dir[4096], tmp[4200], name[4200], *json = record_json(v);
	int64_t t = now_ms();
	int fd = -1, rc = -1;

	snprintf(why, cap, "%s", "out of memory");
	if (!json || (size_t)snprintf(dir, sizeof(dir), "%s/reads",
				      v->log_dir) >= sizeof(dir))
		goto out;
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		snprintf(why, cap, "%s", strerror(errno));
		goto out;
	}
	snprintf(tmp, sizeof(tmp), "%s/.read-%lld-%ld.tmp", dir, (long long)t,
		 (long)getpid());
	snprintf(name, sizeof(name), "%s/read-%lld-%ld.json", dir,
		 (long long)t, (long)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		  0600);
	if (fd < 0 || write_all(fd, json, strlen(json)) != 0 ||
	    fsync(fd) != 0 || close(fd) != 0 || (fd = -1, 0) ||
	    rename(tmp, name) != 0) {
		snprintf(why, cap, "%s", strerror(errno));
		if (fd >= 0)
			close(fd);
		unlink(tmp);
		goto out;
	}
	rc = 0;
out:
	free(json);
	return rc;
}

/* ---- through the daemon ------------------------------------------------------ */

static int send_request(int fd, const struct via *v, int out_fd)
{
	Ppx__V1__ControlRequest req = PPX__V1__CONTROL_REQUEST__INIT;
	Ppx__V1__ReadRequest rr = PPX__V1__READ_REQUEST__INIT;
	size_t len;
	uint8_t *buf;
	int fds[2] = {out_fd, STDERR_FILENO}, rc;
	union {
		char b[CMSG_SPACE(sizeof(fds))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov;
	struct msghdr m = {0};
	struct cmsghdr *h;

	rr.argv = (char **)v->dargv;
	rr.n_argv = (size_t)v->dargc;
	rr.reason = (char *)(v->reason ? v->reason : "");
	rr.emergency = v->emergency;
	req.version = PPX_CONTROL_VERSION;
	req.request_case = PPX__V1__CONTROL_REQUEST__REQUEST_READ;
	req.read = &rr;
	len = ppx__v1__control_request__get_packed_size(&req);
	if (len > FRAME_MAX || !(buf = malloc(len + 4)))
		return -1;
	buf[0] = (uint8_t)(len >> 24);
	buf[1] = (uint8_t)(len >> 16);
	buf[2] = (uint8_t)(len >> 8);
	buf[3] = (uint8_t)len;
	ppx__v1__control_request__pack(&req, buf + 4);
	iov.iov_base = buf;
	iov.iov_len = len + 4;
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	m.msg_control = ctl.b;
	m.msg_controllen = sizeof(ctl.b);
	h = CMSG_FIRSTHDR(&m);
	h->cmsg_level = SOL_SOCKET;
	h->cmsg_type = SCM_RIGHTS;
	h->cmsg_len = CMSG_LEN(sizeof(fds));
	memcpy(CMSG_DATA(h), fds, sizeof(fds));
	rc = sendmsg(fd, &m, MSG_NOSIGNAL) == (ssize_t)(len + 4) ? 0 : -1;
	free(buf);
	return rc;
}

static int read_full(int fd, uint8_t *p, size_t len)
{
	while (len > 0) {
		ssize_t n = read(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* One reply frame, or NULL when the daemon closed the connection. */
static Ppx__V1__ControlReply *recv_reply(int fd)
{
	uint8_t hdr[4], *buf;
	size_t len;
	Ppx__V1__ControlReply *r;

	if (read_full(fd, hdr, 4) != 0)
		return NULL;
	len = (size_t)hdr[0] << 24 | (size_t)hdr[1] << 16 |
	      (size_t)hdr[2] << 8 | hdr[3];
	if (len > FRAME_MAX || !(buf = malloc(len ? len : 1)))
		return NULL;
	r = read_full(fd, buf, len) == 0
		    ? ppx__v1__control_reply__unpack(NULL, len, buf) : NULL;
	free(buf);
	return r;
}

static int connect_daemon(const struct ppx_config *cfg, const char *cmd)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd;

	if ((size_t)snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%s",
			     cfg->control_dir, READ_SOCKET) >=
	    sizeof(sa.sun_path))
		return -1;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
		return fd;
	fprintf(stderr, "ppx %s: ppxd does not answer on %s (%s): reads go "
		"through the daemon, which logs them.  Start ppxd, or read the "
		"files directly with --log %s (the read is recorded, and "
		"logged at ppxd's next start)\n", cmd, sa.sun_path,
		strerror(errno), cfg->log_dir);
	if (fd >= 0)
		close(fd);
	return -1;
}

/* --output FILE, opened as the caller: export's rules (0600, not
 * replacing one without --force), prove's (replaced). */
static int open_output(const struct via *v)
{
	int replace = v->force || strcmp(v->argv[0], "prove") == 0;
	int fd = open(v->output, O_WRONLY | O_CREAT | O_CLOEXEC |
		      (replace ? O_TRUNC : O_EXCL), 0600);

	if (fd < 0)
		fprintf(stderr, "ppx %s: cannot create %s: %s%s\n", v->argv[0],
			v->output, strerror(errno),
			errno == EEXIST ? " (choose another name, or give "
					  "--force to replace it)" : "");
	return fd;
}

/* The exchange with the daemon: the child's exit status, or ours. */
static int via_daemon_talk(int fd, const struct via *v)
{
	Ppx__V1__ControlReply *r = recv_reply(fd);
	int status;

	if (!r) {
		fprintf(stderr, "ppx %s: ppxd closed the read without an "
			"answer\n", v->argv[0]);
		return PPX_EXIT_UNAVAILABLE;
	}
	if (r->code != 0 || r->reply_case != PPX__V1__CONTROL_REPLY__REPLY_READ) {
		fprintf(stderr, "ppx %s: refused by ppxd: %s\n", v->argv[0],
			r->error[0] ? r->error : "no reason given");
		status = ppx_exit_code(r->code ? r->code : PPX_EIO);
		ppx__v1__control_reply__free_unpacked(r, NULL);
		return status;
	}
	ppx__v1__control_reply__free_unpacked(r, NULL);
	if (!(r = recv_reply(fd))) {
		fprintf(stderr, "ppx %s: ppxd ended the read before it "
			"finished\n", v->argv[0]);
		return PPX_EXIT_UNAVAILABLE;
	}
	status = r->reply_case == PPX__V1__CONTROL_REPLY__REPLY_READ &&
		 r->read->exited ? r->read->exit_status : PPX_EXIT_UNAVAILABLE;
	ppx__v1__control_reply__free_unpacked(r, NULL);
	return status;
}

static int via_daemon(const struct via *v)
{
	struct ppx_config *cfg = NULL;
	int fd = -1, out_fd = STDOUT_FILENO, status = PPX_EXIT_UNAVAILABLE;

	if (ppx_config_load(&cfg, config_path_default(v->config)) != 0) {
		fprintf(stderr, "ppx %s: %s\n", v->argv[0], ppx_error_last());
		return PPX_EXIT_USAGE;
	}
	if ((fd = connect_daemon(cfg, v->argv[0])) < 0)
		goto out;
	if (v->output && (out_fd = open_output(v)) < 0)
		goto out;
	if (send_request(fd, v, out_fd) != 0)
		fprintf(stderr, "ppx %s: cannot send the read to ppxd: %s\n",
			v->argv[0], strerror(errno));
	else
		status = via_daemon_talk(fd, v);
	if (v->output && status != 0)
		unlink(v->output);
out:
	if (out_fd != STDOUT_FILENO)
		close(out_fd);
	if (fd >= 0)
		close(fd);
	ppx_config_free(cfg);
	return status;
}

/* Whether DIR holds a log (a read of it is to be recorded). */
static int holds_log(const char *dir)
{
	char path[4200];
	struct stat st;

	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	return stat(path, &st) == 0 || errno != ENOENT;
}

int read_via(int argc, char **argv, int (*run)(int, char **))
{
	struct via v;
	const char *grant = getenv(GRANT_ENV);
	char why[512];
	int rc;

	if (wants_help(argc, argv))
		return run(argc, argv);
	if ((rc = via_parse(&v, argc, argv)) != 0)
		return rc;
	if (grant) {
		char copy[32];

		snprintf(copy, sizeof(copy), "%s", grant);
		unsetenv(GRANT_ENV);
		return grant_check(&v, copy) ? run(v.argc, v.argv)
					     : PPX_EXIT_UNAVAILABLE;
	}
	if (!v.log_dir)
		return via_daemon(&v);
	if (!holds_log(v.log_dir))	/* nothing to read: the command says */
		return run(v.argc, v.argv);
	if (record_write(&v, why, sizeof(why)) != 0) {
		fprintf(stderr, "ppx %s: cannot leave a read record in %s/reads: "
			"%s; reading directly is recorded, so nothing is "
			"read\n", argv[0], v.log_dir, why);
		return PPX_EXIT_UNAVAILABLE;
	}
	return run(v.argc, v.argv);
}
