/*
 * control.h — the local control socket through which ppx submits messages
 * and reads status.
 *
 * ZeroMQ IPC in the configured directory (made 0700): only the daemon's
 * user and root can reach the socket file, and ZAP (domain "control") lets
 * in only Unix users configured as operators, each mapped to a named
 * person.  Requests and replies are ControlRequest / ControlReply (proto/,
 * ppx/control.h).  control.c moves their bytes; control_request.c answers.
 */
#ifndef PPXD_CONTROL_H
#define PPXD_CONTROL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "ppx.pb-c.h"

struct ppxd;
struct control;

int control_new(struct control **out, struct ppxd *d);
void control_free(struct control **self);
void *control_socket(struct control *self);

/* Who sent a request: the uid and gid the kernel reports for the peer
 * of the connection ((uid_t)-1 when it reported none). */
struct control_caller {
	uid_t uid;
	gid_t gid;
};

/* Where the reply to one request goes: send() is called once with the
 * packed ControlReply, at once or after the commit, and then release()
 * (when set) once with the same arg. */
struct control_reply_to {
	void (*send)(struct ppxd *d, void *arg, const uint8_t *reply,
		     size_t len);
	void (*release)(void *arg);
	void *arg;
};

/*
 * Answer one request, the `len` bytes of a ControlRequest from `who`
 * (control_request.c).  Every request gets exactly one reply through
 * `to`, which is copied: a refusal (code < 0, with its error) or an
 * answer at once, a submit's or a hook decision's after this iteration's
 * commit.  The caller must be an operator (by uid) to submit or decide.
 */
void control_handle(struct ppxd *d, const struct control_caller *who,
		    const uint8_t *bytes, size_t len,
		    const struct control_reply_to *to);

/* Answer up to `max` waiting requests (submits are answered after the
 * commit). */
size_t control_drain(struct ppxd *d, size_t max);

#endif
