/*
 * transport.c — the transport interface: each transport_* call goes to
 * the implementation's operation (transport.h).  The daemon runs on the
 * CurveZMQ one (transport_zmq.c); unit tests on an in-memory one.
 */
#include <string.h>

#include "ppx/error.h"
#include "transport.h"

void transport_free(struct transport **self)
{
	if (!*self)
		return;
	(*self)->ops->free(*self);
	*self = NULL;
}

size_t transport_links(struct transport *self)
{
	return self->ops->links(self);
}

const char *transport_link_agency(struct transport *self, size_t i)
{
	return self->ops->link_agency(self, i);
}

int transport_link_open(struct transport *self, size_t i)
{
	return self->ops->link_open(self, i);
}

int transport_link_up(struct transport *self, size_t i)
{
	return self->ops->link_up(self, i);
}

int transport_link_find(struct transport *self, const char *agency)
{
	size_t n = transport_links(self);

	for (size_t i = 0; i < n; i++)
		if (strcmp(transport_link_agency(self, i), agency) == 0)
			return (int)i;
	return PPX_ENOTFOUND;
}

int transport_recv(struct transport *self, struct transport_route *route,
		   struct transport_frame *frame, char agency[PPX_NAME_MAX])
{
	return self->ops->recv(self, route, frame, agency);
}

void transport_reply(struct transport *self,
		     const struct transport_route *route, const uint8_t *data,
		     size_t len)
{
	self->ops->reply(self, route, data, len);
}

int transport_link_recv(struct transport *self, size_t i,
			struct transport_frame *out)
{
	return self->ops->link_recv(self, i, out);
}

void transport_frame_done(struct transport *self, struct transport_frame *f)
{
	if (f->impl)
		self->ops->frame_done(self, f);
	f->impl = NULL;
	f->data = NULL;
	f->len = 0;
}

int transport_link_send(struct transport *self, size_t i, const uint8_t *data,
			size_t len)
{
	return self->ops->link_send(self, i, data, len);
}

enum link_event transport_link_event(struct transport *self, size_t i)
{
	return self->ops->link_event(self, i);
}

int transport_link_reset(struct transport *self, size_t i)
{
	return self->ops->link_reset(self, i);
}

int transport_cut_sessions(struct transport *self)
{
	return self->ops->cut_sessions(self);
}

int transport_conn_name(struct transport *self,
			const struct transport_frame *frame,
			struct transport_conn *out)
{
	return self->ops->conn_name(self, frame, out);
}

int transport_conn_cut(struct transport *self,
		       const struct transport_route *route,
		       const struct transport_conn *c, const char *agency)
{
	return self->ops->conn_cut(self, route, c, agency);
}

int transport_conn_judged(struct transport *self,
			  const struct transport_route *route)
{
	return self->ops->conn_judged(self, route);
}

void transport_conn_forget(struct transport *self, const char *agency)
{
	self->ops->conn_forget(self, agency);
}

void transport_tick(struct transport *self)
{
	self->ops->tick(self);
}

int transport_listening(struct transport *self, const char **error)
{
	return self->ops->listening(self, error);
}

size_t transport_waits(struct transport *self, struct transport_wait *out,
		       size_t max)
{
	return self->ops->waits(self, out, max);
}

size_t transport_waits_max(struct transport *self)
{
	return self->ops->waits_max(self);
}

int transport_route_eq(const struct transport_route *a,
		       const struct transport_route *b)
{
	return a->len == b->len && memcmp(a->id, b->id, a->len) == 0;
}

int transport_link_add(struct transport *self, const char *agency,
		       const char *endpoint)
{
	return self->ops->link_add(self, agency, endpoint);
}

void transport_link_drop(struct transport *self)
{
	self->ops->link_drop(self);
}

int transport_link_set(struct transport *self, size_t i, const char *endpoint,
		       int enabled)
{
	return self->ops->link_set(self, i, endpoint, enabled);
}

const char *transport_link_endpoint(struct transport *self, size_t i)
{
	return self->ops->link_endpoint(self, i);
}

int transport_link_key(struct transport *self, size_t i, uint8_t key[32])
{
	return self->ops->link_key(self, i, key);
}

int transport_cut_agency(struct transport *self, const char *agency)
{
	return self->ops->cut_agency(self, agency);
}
