/*
 * cmd_restore.c — `ppx restore --from FILE`: a backup (ppx backup) put in
 * place of the log, checked first, with the daemon stopped.
 *
 * Nothing of the log is touched until everything is known:
 *   - the daemon is stopped: we take the one-writer lock LOG_DIR/ppxd.lock
 *     (flock, exclusive, non-blocking) that ppxd holds for its life, and
 *     hold it to the end;
 *   - the copy is copied once into LOG_DIR/data.mdb.restoring (synced),
 *     and THAT file is what is checked: it verifies as ppx verify checks
 *     a log (cmd_backup.c), it is a log of this configuration's agency
 *     (its newest checkpoint is signed by a certificate of that agency and
 *     names it), and its SHA-256 is the one printed; --from is not opened
 *     again, so what was checked is what goes in place;
 *   - the log it replaces, if it can be read, is compared, in a child
 *     process (damaged LMDB pages can crash a reader): the copy is a
 *     prefix of it (the usual case) or it is not (--yes is then needed).
 *
 * Then, in an order that a crash at any step leaves recognisable:
 *   1. LOG_DIR/restored.json (synced, directory synced) says what the
 *      daemon tells its partners at its next start (PROTOCOL.md 14);
 *   2. data.mdb and lock.mdb move into LOG_DIR/replaced-STAMP/ (never
 *      deleted);
 *   3. data.mdb.restoring is renamed data.mdb, the directory synced.
 * ppxd refuses to start while data.mdb.restoring exists, or while the
 * marker is there and the log is not the one it describes (restore.c):
 * it never starts a new, empty log in the middle of a restore.  Running
 * `ppx restore` again completes or redoes it.
 *
 * Every file and directory made here gets the owner of LOG_DIR (of its
 * parent when LOG_DIR itself was lost), so that ppxd, running as its own
 * user, can use what root restored.  The other files of LOG_DIR
 * (change-key, directory.pb, crl.der, reads/) stay as they are.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "client.h"
#include "ppx/checkpoint.h"
#include "ppx/config.h"
#include "ppx/envelope.h"
#include "ppx/error.h"
#include "ppx/file.h"
#include "ppx/logstore.h"
#include "ppx/timefmt.h"

#define LOCK_FILE "ppxd.lock"
#define MARKER_FILE "restored.json"
#define RESTORING_FILE "data.mdb.restoring"
#define MARKER_MAX (16 * 1024)
/* A test hook: PPX_RESTORE_TEST_STOP=N ends ppx restore with _exit(99)
 * right after step N (1: the marker written, 2: the log moved aside),
 * as a crash there would; 0 or unset: never.  Only the scenario
 * tests/integration/restore_safety.sh sets it. */
#define STOP_ENV "PPX_RESTORE_TEST_STOP"

static const char usage[] =
	"usage: ppx restore --from FILE --reason TEXT [--config FILE] [--yes]\n"
	"Puts the backup FILE (ppx backup) in place of the log of the\n"
	"configuration's daemon, which must be stopped.  The copy is checked\n"
	"first (it verifies, it is this agency's log, and how it compares\n"
	"with the log it replaces); the replaced files are kept in\n"
	"LOG_DIR/replaced-STAMP/.  --yes: replace a log the copy is not a\n"
	"prefix of.  At its next start the daemon tells its partners.\n";

struct restore {
	const char *from, *config, *reason;
	int yes;
	struct ppx_config *cfg;
	ppx_trust *trust;
	struct backup_info copy;
	int lock_fd;
	uid_t uid;			/* owner of what we create */
	gid_t gid;
	char restoring[PATH_MAX];	/* LOG_DIR/data.mdb.restoring */
	int old_readable;
	uint64_t old_size;
	ppx_hash old_root;
	char aside[PATH_MAX];
	int64_t now_ms;
};

/* The daemon's rule for the marker's text (restore.c): no control
 * character, which would make the marker unreadable to it. */
static int printable(const char *what, const char *s)
{
	for (const char *c = s; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f) {
			fprintf(stderr, "ppx restore: %s holds a control "
				"character (byte %u at %zu): not allowed\n",
				what, (unsigned)(unsigned char)*c,
				(size_t)(c - s));
			return PPX_EINVAL;
		}
	return 0;
}

static int parse(struct restore *r, int argc, char **argv)
{
	static const struct option longopts[] = {
		{"from", required_argument, NULL, 'f'},
		{"config", required_argument, NULL, 'c'},
		{"reason", required_argument, NULL, 'r'},
		{"yes", no_argument, NULL, 'y'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int ch;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'f': r->from = optarg; break;
		case 'c': r->config = optarg; break;
		case 'r': r->reason = optarg; break;
		case 'y': r->yes = 1; break;
		case 'h': fputs(usage, stdout); return 1;
		default: fputs(usage, stderr); return PPX_EINVAL;
		}
	}
	if (optind != argc || !r->from || !r->reason || !*r->reason) {
		fprintf(stderr, "ppx restore: --from FILE and --reason TEXT "
			"are needed, and no argument\n%s", usage);
		return PPX_EINVAL;
	}
	if (printable("--reason", r->reason) != 0 ||
	    printable("--from", r->from) != 0)
		return PPX_EINVAL;
	return 0;
}

/* LOG_DIR/name into buf. */
static int log_path(char *buf, size_t cap, const struct restore *r,
		    const char *name)
{
	if ((size_t)snprintf(buf, cap, "%s/%s", r->cfg->log_dir, name) >= cap)
		return ppx_error_set(PPX_EINVAL, "log directory name too "
				     "long: %s", r->cfg->log_dir);
	return 0;
}

/* Whether ppxd answers on its read socket: running, whatever the lock
 * says (a daemon of a version before the lock). */
static int daemon_answers(const struct restore *r)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd, up;

	if ((size_t)snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/read.sock",
			     r->cfg->control_dir) >= sizeof(sa.sun_path))
		return 0;
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return 0;
	up = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	close(fd);
	return up;
}

/* What we create is given to the log directory's owner (the daemon's
 * user) when root restores; as that user already, it is ours. */
static int give(const struct restore *r, int fd, const char *path)
{
	if (geteuid() != 0 || fchown(fd, r->uid, r->gid) == 0)
		return 0;
	return ppx_error_set(PPX_EIO, "cannot give %s to uid %u: %s", path,
			     (unsigned)r->uid, strerror(errno));
}

static int give_path(const struct restore *r, const char *path)
{
	if (geteuid() != 0 || lchown(path, r->uid, r->gid) == 0)
		return 0;
	return ppx_error_set(PPX_EIO, "cannot give %s to uid %u: %s", path,
			     (unsigned)r->uid, strerror(errno));
}

/* The log directory, and whose it is.  One lost with its disk is made
 * again, 0700, owned as its parent is (/var/lib/ppx/AGENCY: ppx's). */
static int log_dir_make(struct restore *r)
{
	char parent[PATH_MAX];
	const char *dir = r->cfg->log_dir, *slash = strrchr(dir, '/');
	struct stat st;

	if (stat(dir, &st) == 0) {
		r->uid = st.st_uid;
		r->gid = st.st_gid;
		return 0;
	}
	snprintf(parent, sizeof(parent), "%.*s",
		 slash ? (slash == dir ? 1 : (int)(slash - dir)) : 1,
		 slash ? dir : ".");
	if (stat(parent, &st) != 0)
		return ppx_error_set(PPX_EIO, "cannot stat %s, the parent of "
				     "the log directory: %s", parent,
				     strerror(errno));
	r->uid = st.st_uid;
	r->gid = st.st_gid;
	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return ppx_error_set(PPX_EIO, "cannot create %s: %s", dir,
				     strerror(errno));
	return give_path(r, dir);
}

/* The one-writer lock, held until we exit: refused while ppxd runs. */
static int take_lock(struct restore *r)
{
	char path[PATH_MAX], pid[32] = "";
	ssize_t n;
	int rc;

	if ((rc = log_path(path, sizeof(path), r, LOCK_FILE)) != 0 ||
	    (rc = log_dir_make(r)) != 0)
		return rc;
	r->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
			  0600);
	if (r->lock_fd < 0)
		return ppx_error_set(PPX_EIO, "cannot open %s: %s", path,
				     strerror(errno));
	if ((rc = give(r, r->lock_fd, path)) != 0)
		return rc;
	if (flock(r->lock_fd, LOCK_EX | LOCK_NB) == 0) {
		if (!daemon_answers(r))
			return 0;
		return ppx_error_set(PPX_EBUSY, "ppxd of %s is running (it "
				     "answers on %s/read.sock): stop it "
				     "first (systemctl stop ppxd@%s)",
				     r->cfg->log_dir, r->cfg->control_dir,
				     r->cfg->agency);
	}
	if (errno != EWOULDBLOCK)
		return ppx_error_set(PPX_EIO, "cannot lock %s: %s", path,
				     strerror(errno));
	n = pread(r->lock_fd, pid, sizeof(pid) - 1, 0);
	pid[n > 0 ? n : 0] = '\0';
	pid[strcspn(pid, "\n")] = '\0';
	return ppx_error_set(PPX_EBUSY, "log %s is in use by another ppxd "
			     "(pid %s): stop it first (systemctl stop "
			     "ppxd@%s)", r->cfg->log_dir, pid[0] ? pid : "?",
			     r->cfg->agency);
}

/* The copy's newest checkpoint of its own (one it signed, or one a
 * partner cosigned) is signed by a certificate of our agency and names
 * it: the copy is a log of this configuration's agency. */
static int check_agency(struct restore *r)
{
	const struct backup_info *b = &r->copy;
	uint64_t seq;
	int rc;

	if (!b->newest && !b->cosigned)
		return ppx_error_set(PPX_EBADSIG, "%s holds no checkpoint: "
				     "nothing says it is a log of %s",
				     r->from, r->cfg->agency);
	seq = b->newest && (!b->cosigned || b->newest_seq > b->cosigned_seq)
		      ? b->newest_seq : b->cosigned_seq;
	rc = backup_check_agency(r->from, seq, r->trust, r->cfg->agency);
	if (rc != 0)
		return ppx_error_set(rc, "%s is not a log of %s: its "
				     "checkpoint at entry %llu: %s", r->from,
				     r->cfg->agency, (unsigned long long)seq,
				     ppx_error_last());
	return 0;
}

/* What the child that reads the replaced log finds. */
struct old_log {
	int readable, prefix;
	uint64_t size;
	int64_t newest_ms;		/* its newest entry's time */
	ppx_hash root;
	char why[200];
};

/* In the child: the replaced log's size and root, and whether the copy
 * is a prefix of it. */
static void old_read(struct old_log *o, const struct restore *r)
{
	ppx_log_options ro = {.flags = PPX_LOG_READONLY};
	Ppx__V1__LogEntry *e = NULL;
	ppx_log *log = NULL;
	ppx_hash at;

	if (ppx_log_open(&log, r->cfg->log_dir, &ro) != 0) {
		snprintf(o->why, sizeof(o->why), "%s", ppx_error_last());
		return;
	}
	o->size = ppx_log_size(log);
	if (o->size > 0 && ppx_log_get(log, o->size - 1, &e) == 0) {
		o->newest_ms = e->time_ms;
		ppx__v1__log_entry__free_unpacked(e, NULL);
	}
	if (o->size > 0 && ppx_log_root(log, o->size, o->root) == 0)
		o->readable = 1;
	if (o->readable && r->copy.entries <= o->size &&
	    (r->copy.entries == 0 ||
	     (ppx_log_root(log, r->copy.entries, at) == 0 &&
	      memcmp(at, r->copy.root, sizeof(at)) == 0)))
		o->prefix = 1;
	ppx_log_close(log);
}

/* The replaced log read in a child, as the daemon checks its log
 * (ppx_log_check_dir): a damaged page that crashes LMDB ends the child,
 * not the restore.  0 with *o, a crash saying so in o->why. */
static int old_read_child(struct old_log *o, const struct restore *r)
{
	int fds[2], status;
	ssize_t n = 0, got;
	pid_t pid;

	memset(o, 0, sizeof(*o));
	if (pipe2(fds, O_CLOEXEC) != 0 || (pid = fork()) < 0)
		return ppx_error_set(PPX_EIO, "cannot fork to read the log: "
				     "%s", strerror(errno));
	if (pid == 0) {
		close(fds[0]);
		old_read(o, r);
		_exit(write(fds[1], o, sizeof(*o)) == (ssize_t)sizeof(*o) ? 0
									 : 1);
	}
	close(fds[1]);
	while (n < (ssize_t)sizeof(*o) &&
	       ((got = read(fds[0], (char *)o + n, sizeof(*o) - (size_t)n)) > 0 ||
		(got < 0 && errno == EINTR)))
		n += got > 0 ? got : 0;
	close(fds[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (n != (ssize_t)sizeof(*o) || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0) {
		memset(o, 0, sizeof(*o));
		snprintf(o->why, sizeof(o->why), "damaged: reading it %s %d",
			 WIFSIGNALED(status) ? "crashed with signal"
					     : "failed with status",
			 WIFSIGNALED(status) ? WTERMSIG(status)
					     : WEXITSTATUS(status));
	}
	o->why[sizeof(o->why) - 1] = '\0';
	return 0;
}

/* A marker left by an interrupted restore, after the log was moved
 * aside: what it says was replaced is kept (the log is no longer there
 * to be read). */
static void old_from_marker(struct restore *r)
{
	char path[PATH_MAX];
	uint8_t *buf = NULL;
	size_t len = 0;
	json_object *o = NULL, *v;
	const char *hex;

	if (log_path(path, sizeof(path), r, MARKER_FILE) != 0 ||
	    ppx_file_read(&buf, &len, path, MARKER_MAX) != 0)
		return;
	if ((o = json_tokener_parse((const char *)buf)) &&
	    json_object_object_get_ex(o, "replaced_root", &v) &&
	    (hex = json_object_get_string(v)) &&
	    strlen(hex) == 2 * PPX_HASH_LEN &&
	    json_object_object_get_ex(o, "replaced_size", &v) &&
	    json_object_is_type(v, json_type_int) &&
	    json_object_get_int64(v) > 0) {
		r->old_size = (uint64_t)json_object_get_int64(v);
		r->old_readable = 1;
		for (size_t i = 0; i < PPX_HASH_LEN; i++) {
			int hi = ppx_hex_digit(hex[2 * i]);
			int lo = ppx_hex_digit(hex[2 * i + 1]);

			if (hi < 0 || lo < 0)
				r->old_readable = 0;
			r->old_root[i] = (uint8_t)(hi << 4 | (lo & 0xf));
		}
		if (!r->old_readable)
			r->old_size = 0;
	}
	json_object_put(o);
	free(buf);
	printf("an interrupted restore is completed; it replaced %llu "
	       "entries (said by %s)\n", (unsigned long long)r->old_size,
	       path);
}

/* The log the copy replaces, if it can be read: its size and root, and
 * whether the copy is a prefix of it. */
static int compare_old(struct restore *r)
{
	char path[PATH_MAX], t[PPX_TIME_ISO_LEN];
	struct old_log o;
	int rc;

	if ((rc = log_path(path, sizeof(path), r, "data.mdb")) != 0)
		return rc;
	if (access(path, F_OK) != 0) {
		old_from_marker(r);
		return 0;
	}
	if ((rc = old_read_child(&o, r)) != 0)
		return rc;
	if (o.why[0]) {
		printf("the log it replaces cannot be read (%s)\n", o.why);
		return 0;
	}
	r->old_readable = o.readable;
	r->old_size = o.size;
	memcpy(r->old_root, o.root, sizeof(o.root));
	ppx_time_iso(t, sizeof(t), o.newest_ms);
	printf("copy holds %llu entries; the log it replaces holds %llu%s\n"
	       "  its newest entry: %s\n", (unsigned long long)r->copy.entries,
	       (unsigned long long)r->old_size,
	       o.prefix ? " (the copy is a prefix of it)"
			: " (the copy is NOT a prefix of it)", t);
	if (!o.prefix && r->old_size > 0 && !r->yes)
		return ppx_error_set(PPX_ECONFLICT, "the copy does not match "
				     "the start of the log it would replace; "
				     "give --yes if that is what you mean");
	return 0;
}

/* Moves data.mdb and lock.mdb into LOG_DIR/replaced-STAMP/. */
static int move_aside(struct restore *r)
{
	static const char *const files[] = {"data.mdb", "lock.mdb"};
	char stamp[64], ms[16], from[PATH_MAX], to[PATH_MAX + 16];
	time_t t = (time_t)(r->now_ms / 1000);
	struct tm tm;
	int rc;

	gmtime_r(&t, &tm);
	strftime(stamp, sizeof(stamp), "replaced-%Y%m%dT%H%M%S", &tm);
	snprintf(ms, sizeof(ms), ".%03dZ", (int)(r->now_ms % 1000));
	if ((size_t)snprintf(r->aside, sizeof(r->aside), "%s/%s%s",
			     r->cfg->log_dir, stamp, ms) >= sizeof(r->aside))
		return ppx_error_set(PPX_EINVAL, "log directory name too "
				     "long: %s", r->cfg->log_dir);
	if (mkdir(r->aside, 0700) != 0)
		return ppx_error_set(PPX_EIO, "cannot create %s: %s", r->aside,
				     strerror(errno));
	if ((rc = give_path(r, r->aside)) != 0)
		return rc;
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(to, sizeof(to), "%s/%s", r->aside, files[i]);
		if ((rc = log_path(from, sizeof(from), r, files[i])) != 0)
			return rc;
		if (rename(from, to) != 0 && errno != ENOENT)
			return ppx_error_set(PPX_EIO, "cannot move %s to %s: "
					     "%s", from, to, strerror(errno));
	}
	return 0;
}

static int sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc = 0;

	if (fd < 0 || fsync(fd) != 0)
		rc = ppx_error_set(PPX_EIO, "cannot sync %s: %s", dir,
				   strerror(errno));
	if (fd >= 0)
		close(fd);
	return rc;
}

/* Copies src into dst_fd. */
static int copy_bytes(int dst_fd, const char *src)
{
	char buf[65536];
	int fd = open(src, O_RDONLY | O_CLOEXEC), rc = 0;
	ssize_t n;

	if (fd < 0)
		return ppx_error_set(PPX_EIO, "cannot open %s: %s", src,
				     strerror(errno));
	while ((n = read(fd, buf, sizeof(buf))) > 0 || (n < 0 && errno == EINTR))
		for (ssize_t off = 0; n > 0 && off < n;) {
			ssize_t w = write(dst_fd, buf + off, (size_t)(n - off));

			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0) {
				rc = ppx_error_set(PPX_EIO, "cannot write the "
						   "log: %s", strerror(errno));
				n = -1;
				break;
			}
			off += w;
		}
	if (n < 0 && rc == 0)
		rc = ppx_error_set(PPX_EIO, "cannot read %s: %s", src,
				   strerror(errno));
	close(fd);
	return rc;
}

/* --from copied once into LOG_DIR/data.mdb.restoring, owned as LOG_DIR
 * is, synced: the file every check then reads, and that goes in place. */
static int copy_in(struct restore *r)
{
	int fd, rc;

	if ((rc = log_path(r->restoring, sizeof(r->restoring), r,
			   RESTORING_FILE)) != 0)
		return rc;
	fd = open(r->restoring, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC |
		  O_NOFOLLOW, 0600);
	if (fd < 0)
		return ppx_error_set(PPX_EIO, "cannot create %s: %s",
				     r->restoring, strerror(errno));
	rc = give(r, fd, r->restoring);
	if (rc == 0)
		rc = copy_bytes(fd, r->from);
	if (rc == 0 && fsync(fd) != 0)
		rc = ppx_error_set(PPX_EIO, "cannot sync %s: %s", r->restoring,
				   strerror(errno));
	close(fd);
	return rc == 0 ? sync_dir(r->cfg->log_dir) : rc;
}

/* Step 3: the checked copy becomes the log. */
static int put_in_place(struct restore *r)
{
	char path[PATH_MAX];
	int rc;

	if ((rc = log_path(path, sizeof(path), r, "data.mdb")) != 0)
		return rc;
	if (rename(r->restoring, path) != 0)
		return ppx_error_set(PPX_EIO, "cannot rename %s: %s",
				     r->restoring, strerror(errno));
	return sync_dir(r->cfg->log_dir);
}

/* The test hook (STOP_ENV): a crash right after step `step`. */
static void test_stop(int step)
{
	const char *s = getenv(STOP_ENV);

	if (s && s[0] == '0' + step && s[1] == '\0') {
		fprintf(stderr, "ppx restore: stopped after step %d (%s)\n",
			step, STOP_ENV);
		_exit(99);
	}
}

static void add_hex(json_object *o, const char *key, const uint8_t *b,
		    size_t len)
{
	char hex[2 * PPX_HASH_LEN + 1];

	ppx_hex(hex, b, len);
	json_object_object_add(o, key, json_object_new_string(hex));
}

/* path written whole (temp, fsync, rename, directory fsync), owned as
 * LOG_DIR is: the daemon's user must read it. */
static int write_owned(const struct restore *r, const char *path,
		       const char *text)
{
	uid_t uid = geteuid() == 0 ? r->uid : (uid_t)-1;

	return ppx_file_write_atomic_as(path, (const uint8_t *)text,
					strlen(text), 0600, uid, r->gid);
}

/* Step 1, LOG_DIR/restored.json: what the daemon says at its next
 * start. */
static int write_marker(struct restore *r)
{
	json_object *o = json_object_new_object();
	struct passwd *pw = getpwuid(getuid());
	char path[PATH_MAX], uid[32];
	const char *s;
	int rc;

	snprintf(uid, sizeof(uid), "uid %u", (unsigned)getuid());
	json_object_object_add(o, "restored_ms",
			       json_object_new_int64(r->now_ms));
	json_object_object_add(o, "copied_ms",
			       json_object_new_int64(r->copy.last_ms));
	json_object_object_add(o, "size",
			       json_object_new_uint64(r->copy.entries));
	add_hex(o, "root", r->copy.root, PPX_HASH_LEN);
	json_object_object_add(o, "replaced_size", json_object_new_uint64(
				       r->old_readable ? r->old_size : 0));
	if (r->old_readable)
		add_hex(o, "replaced_root", r->old_root, PPX_HASH_LEN);
	json_object_object_add(o, "reason", json_object_new_string(r->reason));
	json_object_object_add(o, "operator", json_object_new_string(
				       pw ? pw->pw_name : uid));
	json_object_object_add(o, "from", json_object_new_string(r->from));
	add_hex(o, "sha256", r->copy.sha256, PPX_HASH_LEN);
	s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	rc = log_path(path, sizeof(path), r, MARKER_FILE);
	if (rc == 0)
		rc = write_owned(r, path, s);
	json_object_put(o);
	return rc;
}

static int checks(struct restore *r)
{
	int rc;

	if ((rc = ppx_config_load(&r->cfg, config_path_default(r->config))) ||
	    (rc = ppx_trust_load(&r->trust, r->cfg->ca, r->cfg->crl,
				 r->cfg->certs)) ||
	    (rc = take_lock(r)) || (rc = copy_in(r)) ||
	    (rc = backup_info_read(&r->copy, r->restoring, r->trust)))
		return rc;
	if (!r->copy.report.ok)
		return ppx_error_set(PPX_ECORRUPT, "%s DOES NOT VERIFY at "
				     "entry %llu: %s; nothing changed",
				     r->from,
				     (unsigned long long)r->copy.report.first_bad,
				     r->copy.report.reason);
	backup_info_print(&r->copy, r->from);
	if ((rc = check_agency(r)) != 0)
		return rc;
	return compare_old(r);
}

/* Checked, then steps 1 to 3 (the file's opening comment). */
static int restore(struct restore *r)
{
	int rc = checks(r);

	if (rc != 0) {
		if (r->restoring[0])	/* nothing was put in place */
			unlink(r->restoring);
		return rc;
	}
	if ((rc = write_marker(r)) != 0)
		return rc;
	test_stop(1);
	if ((rc = move_aside(r)) != 0)
		return rc;
	test_stop(2);
	return put_in_place(r);
}

int cmd_restore(int argc, char **argv)
{
	struct restore r;
	struct timespec ts;
	int rc;

	memset(&r, 0, sizeof(r));
	r.lock_fd = -1;
	if ((rc = parse(&r, argc, argv)) != 0)
		return rc == 1 ? PPX_EXIT_OK : PPX_EXIT_USAGE;
	clock_gettime(CLOCK_REALTIME, &ts);
	r.now_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	if ((rc = restore(&r)) == 0)
		printf("restored %s into %s; the replaced files are in %s; "
		       "start the daemon: it tells its partners\n", r.from,
		       r.cfg->log_dir, r.aside);
	else
		fprintf(stderr, "ppx restore: %s\n", ppx_error_last());
	backup_info_clear(&r.copy);
	ppx_trust_free(r.trust);
	ppx_config_free(r.cfg);
	if (r.lock_fd >= 0)
		close(r.lock_fd);
	return ppx_exit_code(rc);
}
