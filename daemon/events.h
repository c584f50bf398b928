/*
 * events.h — committed log entries as JSON, and the event stream that
 * publishes them (docs/HOOKS.md).
 *
 * The entry JSON is the one format in which ppxd hands its log to the
 * agency's own systems: the event stream sends it, and durable hooks
 * (hooks.c) give it to their commands on stdin.  An events_entry is one
 * entry read back from the log and, for messages, its decoded Body, so
 * that the JSON, the topic and the hooks' filters look at the same thing.
 */
#ifndef PPXD_EVENTS_H
#define PPXD_EVENTS_H

#include <stddef.h>
#include <stdint.h>

#include "ppx.pb-c.h"
#include "ppx/logstore.h"

struct ppxd;
struct events;

/* One committed entry and what it carries. */
struct events_entry {
	Ppx__V1__LogEntry *entry;
	Ppx__V1__Body *body;	/* SENT and RECEIVED whose body decodes */
	int body_tried;		/* events_entry_body() was called */
};

/* Read entry `seq` (it must be committed); then, if its body is wanted,
 * events_entry_body() decodes it when the entry is a message.  A body that
 * does not decode is not an error: body stays NULL. */
int events_entry_load(struct events_entry *out, ppx_log *log, uint64_t seq);
void events_entry_body(struct events_entry *self);
void events_entry_clear(struct events_entry *self);

/* The entry JSON of docs/HOOKS.md, NUL-terminated, malloc'd (caller
 * frees), without a trailing newline; "body" is the decoded body if
 * events_entry_body() was called, else null. */
int events_entry_json(char **out, const struct events_entry *v,
		      const char *agency);

/* The topic "KIND/FAMILY", e.g. "ENTRY_RECEIVED/notification". */
void events_topic(char *out, size_t cap, const struct events_entry *v);

/*
 * The PUB socket of [events].  events_new() binds it (and refuses an ipc
 * socket whose directory other users may enter) or, without [events],
 * makes an events that publishes nothing.  events_publish() publishes
 * every entry committed since the last call (the first call: since the
 * daemon started); call it after each commit.
 */
int events_new(struct events **out, struct ppxd *d);
void events_free(struct events **self);
void events_publish(struct ppxd *d);

#endif
