/*
 * control.c — the control socket, through which ppx submits messages,
 * reads status, asks how a message's delivery stands and decides on an
 * entry a hook set aside.
 *
 * This file only moves bytes: it binds the ROUTER socket in a private
 * directory, receives each request with the caller's uid and gid (which
 * ZAP has already judged to be an operator's), hands it to
 * control_handle() (control_request.c), and sends the reply that comes
 * back, at once or after the commit, to the peer it came from.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include "control.h"
#include "log.h"
#include "ppx/control.h"
#include "ppx/error.h"
#include "state.h"
#include "submit.h"
#include "zap.h"

struct control {
	void *sock;
	char endpoint[300];
};

/*
 * The control directory must be a directory of ppxd's own user, closed to
 * other users.  Its owner matters as much as its mode: whoever owns it can
 * replace the socket in it with their own, or open it to anyone.
 */
static int make_private_dir(const char *dir)
{
	struct stat st;

	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return ppx_error_set(PPX_EIO, "cannot create control directory "
				     "%s: %s", dir, strerror(errno));
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
		return ppx_error_set(PPX_EIO, "control path %s is not a "
				     "directory", dir);
	if (st.st_uid != geteuid())
		return ppx_error_set(PPX_EPERM,
				     "control directory %s is owned by uid %u, "
				     "not by ppxd's user (uid %u): chown it to "
				     "that user or configure another directory",
				     dir, (unsigned)st.st_uid,
				     (unsigned)geteuid());
	if (st.st_mode & 007)
		return ppx_error_set(PPX_EPERM,
				     "control directory %s is open to all users "
				     "(mode %04o): make it 0700 or 0750",
				     dir, (unsigned)(st.st_mode & 07777));
	return 0;
}

int control_new(struct control **out, struct ppxd *d)
{
	struct control *c = calloc(1, sizeof(*c));
	int linger = 0, rc;
	int64_t max = PPX_CONTROL_REQUEST_MAX;

	*out = NULL;
	if (!c)
		return ppx_error_set(PPX_ENOMEM, "out of memory");
	rc = make_private_dir(d->cfg->control_dir);
	snprintf(c->endpoint, sizeof(c->endpoint), "ipc://%s/%s",
		 d->cfg->control_dir, PPX_CONTROL_SOCKET);
	if (rc == 0) {
		c->sock = zmq_socket(d->zctx, ZMQ_ROUTER);
		if (!c->sock ||
		    zmq_setsockopt(c->sock, ZMQ_LINGER, &linger, sizeof(linger)) ||
		    zmq_setsockopt(c->sock, ZMQ_MAXMSGSIZE, &max, sizeof(max)) ||
		    zmq_setsockopt(c->sock, ZMQ_ZAP_DOMAIN, ZAP_DOMAIN_CONTROL,
				   strlen(ZAP_DOMAIN_CONTROL)) ||
		    zmq_bind(c->sock, c->endpoint) != 0)
			rc = ppx_error_set(PPX_EIO, "cannot open control socket "
					   "%s: %s", c->endpoint,
					   zmq_strerror(zmq_errno()));
	}
	if (rc != 0) {
		control_free(&c);
		return rc;
	}
	*out = c;
	return 0;
}

void control_free(struct control **self)
{
	if (!*self)
		return;
	if ((*self)->sock)
		zmq_close((*self)->sock);
	free(*self);
	*self = NULL;
}

void *control_socket(struct control *self)
{
	return self->sock;
}

/* A reply to the peer of `routing` (a ROUTER identity frame), without
 * blocking: a client that does not read its replies loses them. */
static void reply_send(struct ppxd *d, void *arg, const uint8_t *reply,
		       size_t len)
{
	void *sock = d->control->sock;
	zmq_msg_t id;

	zmq_msg_init(&id);
	zmq_msg_copy(&id, arg);
	if (zmq_msg_send(&id, sock, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0 ||
	    zmq_send(sock, reply, len, ZMQ_DONTWAIT) < 0)
		log_debug("control reply dropped: %s",
			  zmq_strerror(zmq_errno()));
	zmq_msg_close(&id);
}

static void reply_release(void *arg)
{
	zmq_msg_close(arg);
	free(arg);
}

/* The caller's uid and gid: libzmq reports an IPC peer's credentials,
 * from SO_PEERCRED, as its "Peer-Address" (the one ZAP judged). */
static struct control_caller caller_of(zmq_msg_t *frame)
{
	const char *address = zmq_msg_gets(frame, "Peer-Address");
	struct control_caller who = {(uid_t)-1, (gid_t)-1};
	long uid, gid;

	if (address && zap_peer_cred(address, &uid, &gid) == 0) {
		who.uid = (uid_t)uid;
		who.gid = (gid_t)gid;
	}
	return who;
}

/* One request: its bytes to control_handle(), which replies through a
 * copy of the routing frame (kept until after the commit if need be). */
static void control_request(struct ppxd *d, zmq_msg_t *routing,
			    zmq_msg_t *frame)
{
	struct control_caller who = caller_of(frame);
	struct control_reply_to to = {reply_send, reply_release, NULL};

	if (!(to.arg = malloc(sizeof(zmq_msg_t)))) {
		log_warnx("control request dropped: out of memory");
		return;
	}
	zmq_msg_init(to.arg);
	zmq_msg_copy(to.arg, routing);
	control_handle(d, &who, zmq_msg_data(frame), zmq_msg_size(frame), &to);
}

size_t control_drain(struct ppxd *d, size_t max)
{
	size_t n = 0;

	while (n < max) {
		zmq_msg_t routing, frame;
		int more = 0;
		size_t ml = sizeof(more);

		zmq_msg_init(&routing);
		if (zmq_msg_recv(&routing, d->control->sock, ZMQ_DONTWAIT) < 0) {
			zmq_msg_close(&routing);
			break;
		}
		zmq_msg_init(&frame);
		zmq_getsockopt(d->control->sock, ZMQ_RCVMORE, &more, &ml);
		if (more && zmq_msg_recv(&frame, d->control->sock, 0) >= 0)
			control_request(d, &routing, &frame);
		zmq_getsockopt(d->control->sock, ZMQ_RCVMORE, &more, &ml);
		while (more) {	/* a well-behaved client sends one part */
			zmq_msg_t extra;

			zmq_msg_init(&extra);
			zmq_msg_recv(&extra, d->control->sock, 0);
			zmq_msg_close(&extra);
			zmq_getsockopt(d->control->sock, ZMQ_RCVMORE, &more, &ml);
		}
		zmq_msg_close(&frame);
		zmq_msg_close(&routing);
		n++;
	}
	/* this drain's submits, signed together (with those that wait for
	 * more, batch_sign_wait_ms) */
	submit_flush_due(d, ppxd_now_ms());
	return n;
}
