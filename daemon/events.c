/*
 * events.c — the entry JSON, and the event stream: a ZeroMQ PUB socket on
 * which every committed log entry is published.
 *
 * Where it sits: at the end of each loop iteration, after the commit
 * (ppxd.c), events_publish() reads back the entries committed since the
 * last call and sends each as two parts, the topic "KIND/FAMILY" and the
 * entry JSON.  Nothing is published before it is on disk.  PUB never
 * waits: a slow or absent subscriber loses messages, which is why the
 * stream is for live consumers and durable hooks (hooks.c) are for
 * everything that must not miss an entry.
 *
 * The stream has no authentication, and carries message bodies.  So
 * config.c lets it listen only on IPC or loopback TCP, and events_new()
 * refuses an IPC socket in a directory that other users may enter
 * (docs/HOOKS.md says how to give consumers access).
 *
 * The entry JSON (docs/HOOKS.md is its reference, for sink writers) is
 * libppx's (lib/entry_json.c), the same object `ppx log --json` prints;
 * here it always carries the decoded body, and is serialised on one line.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <zmq.h>

#include "events.h"
#include "log.h"
#include "ppx/entry.h"
#include "ppx/entry_json.h"
#include "ppx/envelope.h"
#include "ppx/error.h"
#include "ppx/names.h"
#include "ppx/timefmt.h"
#include "state.h"

struct events {
	void *sock;		/* NULL without [events] */
	uint64_t next;		/* the next entry to publish */
	uint64_t published;
};

/* ------------------------------------------------------------------ */
/* One entry                                                           */
/* ------------------------------------------------------------------ */

static int is_message(int kind)
{
	return kind == PPX__V1__ENTRY_KIND__ENTRY_SENT ||
	       kind == PPX__V1__ENTRY_KIND__ENTRY_RECEIVED;
}

int events_entry_load(struct events_entry *out, ppx_log *log, uint64_t seq)
{
	memset(out, 0, sizeof(*out));
	return ppx_log_get(log, seq, &out->entry);
}

/* A REJECTED entry's refused bytes are no message of ours to publish:
 * its body stays null even when they decode. */
void events_entry_body(struct events_entry *self)
{
	if (self->body_tried || !is_message(self->entry->kind))
		return;
	self->body_tried = 1;
	if (ppx_entry_body(&self->body, NULL, self->entry) != 0)
		log_debug("entry %llu: %s",
			  (unsigned long long)self->entry->seq,
			  ppx_error_last());
}

void events_entry_clear(struct events_entry *self)
{
	if (self->body)
		ppx__v1__body__free_unpacked(self->body, NULL);
	if (self->entry)
		ppx__v1__log_entry__free_unpacked(self->entry, NULL);
	memset(self, 0, sizeof(*self));
}

static const char *or_empty(const char *name)
{
	return name ? name : "";
}

int events_entry_json(char **out, const struct events_entry *v,
		      const char *agency)
{
	return ppx_entry_json_print(out, v->entry, v->body, agency,
				    PPX_ENTRY_JSON_BODY);
}

void events_topic(char *out, size_t cap, const struct events_entry *v)
{
	snprintf(out, cap, "%s/%s",
		 or_empty(ppx_entry_kind_name(v->entry->kind)),
		 v->entry->family);
}

/* ------------------------------------------------------------------ */
/* The PUB socket                                                      */
/* ------------------------------------------------------------------ */

/* An ipc:// socket's directory must exist and be closed to others: the
 * stream carries what the log holds. */
static int check_ipc_dir(const char *endpoint)
{
	char dir[300];
	const char *path = endpoint + strlen("ipc://");
	const char *slash = strrchr(path, '/');
	struct stat st;
	size_t n = slash ? (size_t)(slash - path) : 0;

	if (n == 0 || n >= sizeof(dir))
		return ppx_error_set(PPX_EINVAL, "[events] endpoint = %s: put "
				     "the socket in a directory of its own",
				     endpoint);
	memcpy(dir, path, n);
	dir[n] = '\0';
	if (stat(dir, &st) != 0)
		return ppx_error_set(PPX_EIO, "[events] endpoint = %s: "
				     "directory %s: %s", endpoint, dir,
				     strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return ppx_error_set(PPX_EIO, "[events] endpoint = %s: %s is "
				     "not a directory", endpoint, dir);
	if (st.st_mode & 007)
		return ppx_error_set(PPX_EPERM, "[events] endpoint = %s: "
				     "directory %s is open to all users (mode "
				     "%04o): the stream carries the log; make "
				     "it 0750 or 0700", endpoint, dir,
				     (unsigned)(st.st_mode & 07777));
	return 0;
}

static int bind_pub(struct events *ev, struct ppxd *d)
{
	const char *endpoint = d->cfg->events_endpoint;
	int linger = 0, rc;

	if (strncmp(endpoint, "ipc://", 6) == 0 &&
	    (rc = check_ipc_dir(endpoint)) != 0)
		return rc;
	ev->sock = zmq_socket(d->zctx, ZMQ_PUB);
	if (!ev->sock ||
	    zmq_setsockopt(ev->sock, ZMQ_LINGER, &linger, sizeof(linger)) ||
	    zmq_bind(ev->sock, endpoint) != 0)
		return ppx_error_set(PPX_EIO, "cannot open the event stream on "
				     "%s: %s", endpoint,
				     zmq_strerror(zmq_errno()));
	log_info("publishing committed log entries on %s", endpoint);
	return 0;
}

int events_new(struct events **out, struct ppxd *d)
{
	struct events *ev = calloc(1, sizeof(*ev));
	int rc;

	*out = NULL;
	if (!ev)
		return ppx_error_set(PPX_ENOMEM, "out of memory");
	ev->next = ppx_log_size(d->log);
	if (d->cfg->events_endpoint[0] && (rc = bind_pub(ev, d)) != 0) {
		events_free(&ev);
		return rc;
	}
	*out = ev;
	return 0;
}

void events_free(struct events **self)
{
	if (!*self)
		return;
	if ((*self)->sock)
		zmq_close((*self)->sock);
	free(*self);
	*self = NULL;
}

/* Topic, then the JSON.  PUB drops rather than block. */
static void publish_one(struct ppxd *d, uint64_t seq)
{
	struct events_entry v;
	char topic[128], *json = NULL;

	if (events_entry_load(&v, d->log, seq) != 0) {
		log_warnx("event stream: cannot read entry %llu: %s",
			  (unsigned long long)seq, ppx_error_last());
		return;
	}
	events_entry_body(&v);
	events_topic(topic, sizeof(topic), &v);
	if (events_entry_json(&json, &v, d->cfg->agency) == 0 &&
	    (zmq_send(d->events->sock, topic, strlen(topic),
		      ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0 ||
	     zmq_send(d->events->sock, json, strlen(json), ZMQ_DONTWAIT) < 0))
		log_debug("event %llu not published: %s",
			  (unsigned long long)seq, zmq_strerror(zmq_errno()));
	free(json);
	events_entry_clear(&v);
}

void events_publish(struct ppxd *d)
{
	struct events *ev = d->events;
	uint64_t size = ppx_log_size(d->log);

	if (!ev->sock) {
		ev->next = size;
		return;
	}
	for (; ev->next < size; ev->next++) {
		publish_one(d, ev->next);
		ev->published++;
	}
}
