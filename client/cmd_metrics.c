/*
 * cmd_metrics.c — `ppx metrics`: asks the daemon for its status over the
 * control socket (ctl_status, as `ppx status` does) and prints it as
 * Prometheus text exposition (metrics_render.c); with --out writes it to
 * a file for node_exporter's textfile collector, atomically, so that the
 * collector never reads half a file; with --listen serves it over
 * loopback HTTP (metrics_http.c).
 *
 * A daemon that does not answer is an error (exit status 3), and --out
 * then writes `ppx_up{agency="..."} 0`, so that the alert on ppx_up fires
 * rather than the last good figures staying in place.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "client.h"
#include "metrics.h"
#include "ppx/config.h"
#include "ppx/error.h"

static const char usage[] =
	"usage: ppx metrics [--config FILE] [--out FILE | --listen ADDR:PORT]\n"
	"Prints the daemon's figures as Prometheus text exposition: messages\n"
	"sent, received and refused per partner, outboxes, links, hooks,\n"
	"witnessing, log size and free space, certificate and CRL expiry.\n"
	"  --out FILE          write them to FILE atomically (mode 0644), for\n"
	"                      node_exporter's textfile collector; a daemon\n"
	"                      that does not answer gets ppx_up 0 there\n"
	"  --listen ADDR:PORT  serve GET /metrics on a loopback address\n"
	"                      (127.0.0.0/8 or [::1]) until SIGTERM\n";

/* Unix time in milliseconds. */
static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int metrics_collect(char **out, size_t *len, int *up, const char *config_path)
{
	Ppx__V1__ControlReply *reply = NULL;
	struct ppx_config *cfg = NULL;
	int rc;

	*up = ctl_status(config_path, &reply, "metrics") == 0;
	if (*up) {
		rc = metrics_render(out, len, reply->status, now_ms());
		ppx__v1__control_reply__free_unpacked(reply, NULL);
		return rc;
	}
	if (ppx_config_load(&cfg, config_path) != 0)
		cfg = NULL;
	rc = metrics_render_down(out, len, cfg ? cfg->agency : NULL);
	ppx_config_free(cfg);
	return rc;
}

/* `len` bytes of `buf` to descriptor `fd`: 0, or -1 with errno. */
static int write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* The directory `path` is in, made durable after a rename into it. */
static void sync_dir(const char *path)
{
	char copy[PATH_MAX];
	int fd;

	snprintf(copy, sizeof(copy), "%s", path);
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		(void)fsync(fd);
		close(fd);
	}
}

/* Write `buf` to `path` as a whole or not at all: a temporary file
 * beside it (a dot name, which the textfile collector ignores), mode
 * 0644, fsync, rename.  0, or PPX_EXIT_UNAVAILABLE after saying why. */
static int write_atomic(const char *path, const char *buf, size_t len)
{
	char tmp[PATH_MAX], copy[PATH_MAX];
	const char *dir, *base;
	int fd;

	base = strrchr(path, '/');
	base = base ? base + 1 : path;
	if (!base[0] ||
	    snprintf(copy, sizeof(copy), "%s", path) >= (int)sizeof(copy)) {
		fprintf(stderr, "ppx metrics: --out %s: not a file name\n",
			path);
		return PPX_EXIT_USAGE;
	}
	dir = dirname(copy);
	if (snprintf(tmp, sizeof(tmp), "%s/.%s.XXXXXX", dir, base) >=
	    (int)sizeof(tmp)) {
		fprintf(stderr, "ppx metrics: --out %s: name too long\n", path);
		return PPX_EXIT_USAGE;
	}
	if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0) {
		fprintf(stderr, "ppx metrics: cannot create a file in %s: %s\n",
			dir, strerror(errno));
		return PPX_EXIT_UNAVAILABLE;
	}
	if (fchmod(fd, 0644) != 0 || write_all(fd, buf, len) != 0 ||
	    fsync(fd) != 0) {
		fprintf(stderr, "ppx metrics: cannot write %s: %s\n", tmp,
			strerror(errno));
		close(fd);
		unlink(tmp);
		return PPX_EXIT_UNAVAILABLE;
	}
	if (close(fd) != 0 || rename(tmp, path) != 0) {
		fprintf(stderr, "ppx metrics: cannot put %s in place: %s\n",
			path, strerror(errno));
		unlink(tmp);
		return PPX_EXIT_UNAVAILABLE;
	}
	sync_dir(path);
	return PPX_EXIT_OK;
}

/* Once, to stdout or --out.  The exit status. */
static int metrics_once(const char *config_path, const char *out_path)
{
	char *text = NULL;
	size_t len = 0;
	int up, rc;

	if (metrics_collect(&text, &len, &up, config_path) != 0) {
		fprintf(stderr, "ppx metrics: %s\n", ppx_error_last());
		return PPX_EXIT_UNAVAILABLE;
	}
	if (out_path)
		rc = write_atomic(out_path, text, len);
	else if (up)
		rc = fwrite(text, 1, len, stdout) == len && fflush(stdout) == 0 ?
			PPX_EXIT_OK : PPX_EXIT_UNAVAILABLE;
	else
		rc = PPX_EXIT_OK;	/* nothing on stdout: the error said it */
	free(text);
	return up ? rc : PPX_EXIT_UNAVAILABLE;
}

int cmd_metrics(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"config", required_argument, NULL, 'c'},
		{"out", required_argument, NULL, 'o'},
		{"listen", required_argument, NULL, 'l'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *config = NULL, *out = NULL, *listen = NULL;
	int ch;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
		if (ch == 'c')
			config = optarg;
		else if (ch == 'o')
			out = optarg;
		else if (ch == 'l')
			listen = optarg;
		else {
			fputs(usage, ch == 'h' ? stdout : stderr);
			return ch == 'h' ? PPX_EXIT_OK : PPX_EXIT_USAGE;
		}
	}
	if (optind != argc || (out && listen)) {
		fputs(usage, stderr);
		return PPX_EXIT_USAGE;
	}
	if (listen)
		return metrics_http_serve(listen, config_path_default(config));
	return metrics_once(config_path_default(config), out);
}
