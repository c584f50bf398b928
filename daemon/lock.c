/*
 * lock.c — one writer per log.
 *
 * Two ppxd on one log would each append to the hash chain as if alone:
 * LMDB keeps the file consistent, but the log would fork.  So before the
 * log is opened (main.c, start()), the daemon takes an exclusive flock on
 * LOG_DIR/ppxd.lock without waiting, writes its pid into the file and
 * holds the lock for its life; the kernel drops it when the process ends,
 * however it ends.  `ppx restore` takes the same lock to know that no
 * daemon is running on the log it replaces.
 *
 * The descriptor is O_CLOEXEC: hook commands and reader programs (exec'd
 * children) never hold it.  The signer process is forked before the lock
 * is taken (main.c, load()), so it never shares it either; the log
 * check's child shares it only while it runs, and exits.  flock() locks
 * the open file description, so a forked child that outlived ppxd would
 * keep the log locked: that is why the order matters.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lock.h"
#include "ppx/error.h"

#define LOCK_FILE "ppxd.lock"

static void lock_path(char *out, size_t cap, const char *dir)
{
	snprintf(out, cap, "%s/%s", dir, LOCK_FILE);
}

long lock_holder(const char *dir)
{
	char path[4096], buf[32];
	ssize_t n;
	long pid;
	char *end;
	int fd;

	lock_path(path, sizeof(path), dir);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	errno = 0;
	pid = strtol(buf, &end, 10);
	if (errno != 0 || end == buf || pid <= 0)
		return 0;
	return pid;
}

/* Our pid in the file, replacing whatever an earlier holder wrote. */
static int write_pid(int fd, const char *path)
{
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());

	if (ftruncate(fd, 0) != 0 || pwrite(fd, buf, (size_t)n, 0) != n)
		return ppx_error_set(PPX_EIO, "cannot write the pid into %s: "
				     "%s", path, strerror(errno));
	return 0;
}

int lock_take(int *fd, const char *dir)
{
	char path[4096];
	int rc;

	*fd = -1;
	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return ppx_error_set(PPX_EIO, "cannot create log directory "
				     "%s: %s", dir, strerror(errno));
	lock_path(path, sizeof(path), dir);
	*fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (*fd < 0)
		return ppx_error_set(PPX_EIO, "cannot open %s: %s", path,
				     strerror(errno));
	if (flock(*fd, LOCK_EX | LOCK_NB) != 0) {
		int e = errno;

		lock_release(fd);
		if (e == EWOULDBLOCK)
			return ppx_error_set(PPX_EIO, "log %s is in use by "
					     "another ppxd (pid %ld)", dir,
					     lock_holder(dir));
		return ppx_error_set(PPX_EIO, "cannot lock %s: %s", path,
				     strerror(e));
	}
	if ((rc = write_pid(*fd, path)) != 0)
		lock_release(fd);
	return rc;
}

void lock_release(int *fd)
{
	if (*fd < 0)
		return;
	close(*fd);
	*fd = -1;
}
