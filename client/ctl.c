/*
 * ctl.c — the client's side of the control socket: find the daemon from
 * its configuration, connect over IPC, exchange ControlRequest and
 * ControlReply messages.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "client.h"
#include "ppx/control.h"
#include "ppx/error.h"

int ctl_open(struct ctl *c, const char *config_path, int timeout_ms)
{
	char ep[4200];
	int linger = 0;
	int64_t max = PPX_CONTROL_REPLY_MAX;

	memset(c, 0, sizeof(*c));
	if (ppx_config_load(&c->cfg, config_path) != 0) {
		fprintf(stderr, "ppx: %s\n", ppx_error_last());
		return PPX_EINVAL;
	}
	snprintf(ep, sizeof(ep), "ipc://%s/%s", c->cfg->control_dir,
		 PPX_CONTROL_SOCKET);
	c->zctx = zmq_ctx_new();
	c->sock = c->zctx ? zmq_socket(c->zctx, ZMQ_DEALER) : NULL;
	if (!c->sock ||
	    zmq_setsockopt(c->sock, ZMQ_LINGER, &linger, sizeof(linger)) ||
	    zmq_setsockopt(c->sock, ZMQ_MAXMSGSIZE, &max, sizeof(max)) ||
	    zmq_setsockopt(c->sock, ZMQ_RCVTIMEO, &timeout_ms,
			   sizeof(timeout_ms)) ||
	    zmq_connect(c->sock, ep) != 0) {
		fprintf(stderr, "ppx: cannot connect to %s: %s\n", ep,
			zmq_strerror(zmq_errno()));
		ctl_close(c);
		return PPX_EIO;
	}
	return 0;
}

void ctl_close(struct ctl *c)
{
	if (c->sock)
		zmq_close(c->sock);
	if (c->zctx)
		zmq_ctx_term(c->zctx);
	ppx_config_free(c->cfg);
	memset(c, 0, sizeof(*c));
}

int ctl_send(struct ctl *c, Ppx__V1__ControlRequest *req)
{
	size_t len;
	uint8_t *buf;
	int rc;

	req->version = PPX_CONTROL_VERSION;
	len = ppx__v1__control_request__get_packed_size(req);
	buf = malloc(len ? len : 1);
	if (!buf)
		return ppx_error_set(PPX_ENOMEM, "out of memory for a request "
				     "of %zu bytes to ppxd", len);
	ppx__v1__control_request__pack(req, buf);
	rc = zmq_send(c->sock, buf, len, 0) < 0
		     ? ppx_error_set(PPX_EIO, "cannot send to ppxd at %s: %s",
				     c->cfg->control_dir,
				     zmq_strerror(zmq_errno()))
		     : 0;
	free(buf);
	return rc;
}

int ctl_recv(struct ctl *c, Ppx__V1__ControlReply **out)
{
	zmq_msg_t m;

	*out = NULL;
	zmq_msg_init(&m);
	if (zmq_msg_recv(&m, c->sock, 0) < 0) {
		zmq_msg_close(&m);
		return ppx_error_set(PPX_EIO,
				     "no answer from ppxd at %s (is it running, "
				     "and are you one of its operators?)",
				     c->cfg->control_dir);
	}
	*out = ppx__v1__control_reply__unpack(NULL, zmq_msg_size(&m),
					      zmq_msg_data(&m));
	zmq_msg_close(&m);
	if (!*out)
		return ppx_error_set(PPX_EIO, "ppxd's answer does not decode");
	return 0;
}

int ctl_call(const char *config_path, Ppx__V1__ControlRequest *req,
	     Ppx__V1__ControlReply **out, const char *cmd)
{
	struct ctl c;
	int rc;

	*out = NULL;
	if ((rc = ctl_open(&c, config_path, 5000)) != 0)
		return ppx_exit_code(rc);
	if ((rc = ctl_send(&c, req)) != 0 || (rc = ctl_recv(&c, out)) != 0) {
		fprintf(stderr, "ppx %s: %s\n", cmd, ppx_error_last());
		rc = ppx_exit_code(rc);
	}
	ctl_close(&c);
	return rc;
}

int ctl_status(const char *config_path, Ppx__V1__ControlReply **out,
	       const char *cmd)
{
	Ppx__V1__ControlRequest req = PPX__V1__CONTROL_REQUEST__INIT;
	int rc;

	req.request_case = PPX__V1__CONTROL_REQUEST__REQUEST_STATUS;
	req.status = 1;
	if ((rc = ctl_call(config_path, &req, out, cmd)) != 0)
		return rc;
	if ((*out)->code != 0 || !(*out)->status) {
		fprintf(stderr, "ppx %s: %s\n", cmd,
			(*out)->error[0] ? (*out)->error : "no status");
		ppx__v1__control_reply__free_unpacked(*out, NULL);
		*out = NULL;
		return PPX_EXIT_UNAVAILABLE;
	}
	return 0;
}

int ctl_parse_seq(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!s[0] || strspn(s, "0123456789") != strlen(s))
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end)
		return -1;
	*out = v;
	return 0;
}
