/*
 * metrics.h — `ppx metrics`: the daemon's status as Prometheus text
 * exposition format 0.0.4 (metrics_render.c), written to stdout, to a
 * file for node_exporter's textfile collector, or served on a
 * loopback-only HTTP endpoint (metrics_http.c).
 */
#ifndef PPX_CLIENT_METRICS_H
#define PPX_CLIENT_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "ppx.pb-c.h"

#define METRICS_MAX (16u * 1024 * 1024)	/* bytes of one exposition */
#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* The exposition of status `s` at `now_ms` (Unix ms): 0 with *out
 * (malloc'd, NUL-terminated, free()) and *len, or PPX_ENOMEM when it
 * cannot be built or would pass METRICS_MAX. */
int metrics_render(char **out, size_t *len, const Ppx__V1__StatusReply *s,
		   int64_t now_ms);

/* The exposition when the daemon does not answer: ppx_up 0 for `agency`
 * (NULL: unknown, no label).  As metrics_render(). */
int metrics_render_down(char **out, size_t *len, const char *agency);

/* The exposition of the daemon behind `config_path` now: its status, or
 * ppx_up 0 when it does not answer (the problem printed on stderr).
 * 0 with *out and *len and *up (1: the daemon answered), or PPX_ENOMEM. */
int metrics_collect(char **out, size_t *len, int *up, const char *config_path);

/* Serve GET /metrics on `addr` ("127.0.0.1:9469", "[::1]:9469"; loopback
 * only) until SIGTERM or SIGINT, asking the daemon on each scrape.
 * Returns the exit status. */
int metrics_http_serve(const char *addr, const char *config_path);

#endif
