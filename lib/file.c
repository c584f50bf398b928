/*
 * file.c — whole small files in and out (include/ppx/file.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ppx/error.h"
#include "ppx/file.h"

int ppx_file_read(uint8_t **out, size_t *len, const char *path, size_t max)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	uint8_t *buf = NULL;
	size_t got = 0;
	int rc = 0;

	*out = NULL;
	*len = 0;
	if (fd < 0)
		return ppx_error_set(errno == ENOENT ? PPX_ENOTFOUND : PPX_EIO,
				     "cannot open %s: %s", path,
				     strerror(errno));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
		rc = ppx_error_set(PPX_EIO, "%s: not a regular file", path);
	else if ((uint64_t)st.st_size > max)
		rc = ppx_error_set(PPX_ETOOBIG, "%s: %lld bytes, more than "
				   "the %zu a document may have", path,
				   (long long)st.st_size, max);
	else if (!(buf = malloc((size_t)st.st_size + 1)))
		rc = ppx_error_set(PPX_ENOMEM, "out of memory");
	while (rc == 0 && got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			rc = ppx_error_set(PPX_EIO, "cannot read %s: %s", path,
					   n < 0 ? strerror(errno)
						 : "file shrank");
		else
			got += (size_t)n;
	}
	close(fd);
	if (rc != 0) {
		free(buf);
		return rc;
	}
	buf[got] = '\0';
	*out = buf;
	*len = got;
	return 0;
}

/* Write `path` so that it is the old or the new bytes, never half: a
 * temporary file written and synced, renamed over, the directory
 * synced. */
int ppx_file_write_atomic(const char *path, const uint8_t *data, size_t len,
			  mode_t mode)
{
	return ppx_file_write_atomic_as(path, data, len, mode, (uid_t)-1,
					(gid_t)-1);
}

int ppx_file_write_atomic_as(const char *path, const uint8_t *data,
			     size_t len, mode_t mode, uid_t uid, gid_t gid)
{
	char tmp[PATH_MAX + 8], dir[PATH_MAX];
	int fd, rc = 0, dfd;
	size_t put = 0;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp))
		return ppx_error_set(PPX_ERANGE, "%s: path too long", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
		  mode);
	if (fd < 0)
		return ppx_error_set(PPX_EIO, "cannot create %s: %s", tmp,
				     strerror(errno));
	if (uid != (uid_t)-1 && fchown(fd, uid, gid) != 0)
		rc = ppx_error_set(PPX_EIO, "cannot give %s to uid %u: %s",
				   tmp, (unsigned)uid, strerror(errno));
	while (rc == 0 && put < len) {
		ssize_t n = write(fd, data + put, len - put);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			rc = ppx_error_set(PPX_EIO, "cannot write %s: %s", tmp,
					   strerror(errno));
		else
			put += (size_t)n;
	}
	if (rc == 0 && fsync(fd) != 0)
		rc = ppx_error_set(PPX_EIO, "cannot sync %s: %s", tmp,
				   strerror(errno));
	close(fd);
	if (rc == 0 && rename(tmp, path) != 0)
		rc = ppx_error_set(PPX_EIO, "cannot rename %s to %s: %s", tmp,
				   path, strerror(errno));
	if (rc != 0) {
		unlink(tmp);
		return rc;
	}
	snprintf(dir, sizeof(dir), "%s", path);
	/* The rename is durable only once the directory is synced. */
	if ((dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
	    fsync(dfd) != 0)
		rc = ppx_error_set(PPX_EIO, "%s written, but its directory "
				   "cannot be synced: %s", path,
				   strerror(errno));
	if (dfd >= 0)
		close(dfd);
	return rc;
}
