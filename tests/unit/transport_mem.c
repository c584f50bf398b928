/*
 * transport_mem.c — the in-memory transport of the unit tests: queues of
 * frames per link and inbound, links taken up and down by the test, and
 * full queues on demand (transport_mem.h).  Deterministic: nothing moves
 * unless the daemon's code or the test moves it.  Out of memory here is
 * a broken test run, not remote input: it aborts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ppx/error.h"
#include "transport_mem.h"

struct mframe {
	uint8_t *data;
	size_t len;
	struct transport_route route;
	char agency[PPX_NAME_MAX];
};

/* A FIFO of frames. */
struct mqueue {
	struct mframe *f;
	size_t head, n, cap;
};

#define EVENTS_MAX 64

struct mlink {
	char agency[PPX_NAME_MAX];
	char endpoint[256];
	int enabled;		/* transport_link_set */
	size_t cuts;		/* transport_cut_agency of its agency */
	int up;
	size_t capacity;	/* frames sent and not taken, at most */
	size_t resets;
	struct mqueue out;	/* sent by us, not yet taken by the partner */
	struct mqueue in;	/* from the partner: its receipts */
	enum link_event events[EVENTS_MAX];
	size_t n_events;
};

struct transport_mem {
	struct transport base;	/* first: the interface's */
	struct mlink *links;
	size_t n_links;
	int fail_link_add;	/* transport_mem_fail_link_add */
	struct mqueue inbound;
	struct mqueue replies;
};

static struct transport_mem *tm(struct transport *t)
{
	return (struct transport_mem *)t;
}

static void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		abort();
	return p;
}

static void mq_push(struct mqueue *q, const uint8_t *data, size_t len,
		    const struct transport_route *route, const char *agency)
{
	struct mframe *f;

	if (q->n == q->cap) {
		q->cap = q->cap ? 2 * q->cap : 16;
		q->f = realloc(q->f, q->cap * sizeof(*q->f));
		if (!q->f)
			abort();
	}
	f = &q->f[q->n++];
	memset(f, 0, sizeof(*f));
	f->data = xmalloc(len);
	memcpy(f->data, data, len);
	f->len = len;
	if (route)
		f->route = *route;
	snprintf(f->agency, sizeof(f->agency), "%s", agency ? agency : "");
}

/* The oldest frame, now the caller's (its data to free), or NULL. */
static struct mframe *mq_pop(struct mqueue *q)
{
	if (q->head == q->n)
		return NULL;
	return &q->f[q->head++];
}

static size_t mq_len(const struct mqueue *q)
{
	return q->n - q->head;
}

static void mq_clear(struct mqueue *q)
{
	for (size_t i = q->head; i < q->n; i++)
		free(q->f[i].data);
	q->head = q->n = 0;
}

static void mq_free(struct mqueue *q)
{
	mq_clear(q);
	free(q->f);
	q->f = NULL;
	q->cap = 0;
}

static void event_add(struct mlink *l, enum link_event ev)
{
	if (l->n_events < EVENTS_MAX)
		l->events[l->n_events++] = ev;
}

static void tm_free(struct transport *base)
{
	struct transport_mem *t = tm(base);

	for (size_t i = 0; i < t->n_links; i++) {
		mq_free(&t->links[i].out);
		mq_free(&t->links[i].in);
	}
	mq_free(&t->inbound);
	mq_free(&t->replies);
	free(t->links);
	free(t);
}

static size_t tm_links(struct transport *t)
{
	return tm(t)->n_links;
}

static const char *tm_link_agency(struct transport *t, size_t i)
{
	return tm(t)->links[i].agency;
}

static int tm_link_open(struct transport *t, size_t i)
{
	return tm(t)->links[i].enabled;
}

static int tm_link_up(struct transport *t, size_t i)
{
	return tm(t)->links[i].up;
}

static int tm_link_send(struct transport *t, size_t i, const uint8_t *data,
			size_t len)
{
	struct mlink *l = &tm(t)->links[i];

	if (!l->enabled || !l->up || mq_len(&l->out) >= l->capacity)
		return PPX_EFULL;
	mq_push(&l->out, data, len, NULL, NULL);
	return 0;
}

/* Hand out a popped frame: the frame owns its bytes. */
static void frame_of(struct transport_frame *out, struct mframe *f)
{
	out->impl = f->data;
	out->data = f->data;
	out->len = f->len;
}

static int tm_link_recv(struct transport *t, size_t i,
			struct transport_frame *out)
{
	struct mframe *f = mq_pop(&tm(t)->links[i].in);

	if (!f)
		return PPX_EAGAIN;
	frame_of(out, f);
	return 0;
}

static enum link_event tm_link_event(struct transport *t, size_t i)
{
	struct mlink *l = &tm(t)->links[i];
	enum link_event ev;

	if (l->n_events == 0)
		return LINK_NONE;
	ev = l->events[0];
	memmove(l->events, l->events + 1, --l->n_events * sizeof(ev));
	return ev;
}

/* As the DEALER is recreated: what it still held is dropped, and it is
 * down until the test takes it up again. */
static int tm_link_reset(struct transport *t, size_t i)
{
	struct mlink *l = &tm(t)->links[i];

	mq_clear(&l->out);
	l->up = 0;
	l->resets++;
	return 0;
}

static int tm_recv(struct transport *t, struct transport_route *route,
		   struct transport_frame *out, char agency[PPX_NAME_MAX])
{
	struct mframe *f = mq_pop(&tm(t)->inbound);

	if (!f)
		return PPX_EAGAIN;
	*route = f->route;
	snprintf(agency, PPX_NAME_MAX, "%s", f->agency);
	frame_of(out, f);
	return 0;
}

static void tm_reply(struct transport *t, const struct transport_route *route,
		     const uint8_t *data, size_t len)
{
	mq_push(&tm(t)->replies, data, len, route, NULL);
}

static void tm_frame_done(struct transport *t, struct transport_frame *f)
{
	(void)t;
	free(f->impl);
}

static int tm_cut_sessions(struct transport *t)
{
	(void)t;
	return 0;
}

/* No descriptors here: a connection is never named, so never cut. */
static int tm_conn_name(struct transport *t, const struct transport_frame *f,
			struct transport_conn *out)
{
	(void)t;
	(void)f;
	memset(out, 0, sizeof(*out));
	out->fd = -1;
	return PPX_ENOTFOUND;
}

static int tm_conn_cut(struct transport *t, const struct transport_route *r,
		       const struct transport_conn *c, const char *agency)
{
	(void)t;
	(void)r;
	(void)c;
	(void)agency;
	return PPX_ENOTFOUND;
}

static int tm_conn_judged(struct transport *t, const struct transport_route *r)
{
	(void)t;
	(void)r;
	return 0;
}

static void tm_conn_forget(struct transport *t, const char *agency)
{
	(void)t;
	(void)agency;
}

static void tm_tick(struct transport *t)
{
	(void)t;
}

static int tm_listening(struct transport *t, const char **error)
{
	(void)t;
	*error = "";
	return 1;
}

static size_t tm_waits(struct transport *t, struct transport_wait *out,
		       size_t max)
{
	(void)t;
	(void)out;
	(void)max;
	return 0;
}

static size_t tm_waits_max(struct transport *t)
{
	(void)t;
	return 0;
}

static void mlink_init(struct mlink *l, const char *agency,
		       const char *endpoint)
{
	memset(l, 0, sizeof(*l));
	snprintf(l->agency, sizeof(l->agency), "%s", agency);
	snprintf(l->endpoint, sizeof(l->endpoint), "%s", endpoint);
	l->capacity = SIZE_MAX;
	l->enabled = 1;
}

static int tm_link_add(struct transport *t, const char *agency,
		       const char *endpoint)
{
	struct transport_mem *m = tm(t);
	struct mlink *nl;

	if (m->fail_link_add)
		return ppx_error_set(PPX_ENOMEM, "out of memory (test)");
	nl = realloc(m->links, (m->n_links + 1) * sizeof(*nl));
	if (!nl)
		abort();
	m->links = nl;
	mlink_init(&nl[m->n_links], agency, endpoint);
	return (int)m->n_links++;
}

static void tm_link_drop(struct transport *t)
{
	struct transport_mem *m = tm(t);

	if (m->n_links) {
		m->n_links--;
		mq_free(&m->links[m->n_links].out);
		mq_free(&m->links[m->n_links].in);
	}
}

static int tm_link_set(struct transport *t, size_t i, const char *endpoint,
		       int enabled)
{
	struct mlink *l = &tm(t)->links[i];

	snprintf(l->endpoint, sizeof(l->endpoint), "%s", endpoint);
	l->enabled = enabled;
	return 0;
}

static const char *tm_link_endpoint(struct transport *t, size_t i)
{
	return tm(t)->links[i].endpoint;
}

static int tm_link_key(struct transport *t, size_t i, uint8_t key[32])
{
	(void)t;
	(void)i;
	memset(key, 0, 32);
	return PPX_ENOTFOUND;
}

static int tm_cut_agency(struct transport *t, const char *agency)
{
	struct transport_mem *m = tm(t);

	for (size_t i = 0; i < m->n_links; i++)
		if (strcmp(m->links[i].agency, agency) == 0)
			m->links[i].cuts++;
	return 0;
}

static const struct transport_ops tm_ops = {
	.free = tm_free,
	.links = tm_links,
	.link_agency = tm_link_agency,
	.link_open = tm_link_open,
	.link_up = tm_link_up,
	.link_send = tm_link_send,
	.link_recv = tm_link_recv,
	.link_event = tm_link_event,
	.link_reset = tm_link_reset,
	.recv = tm_recv,
	.reply = tm_reply,
	.frame_done = tm_frame_done,
	.cut_sessions = tm_cut_sessions,
	.conn_name = tm_conn_name,
	.conn_cut = tm_conn_cut,
	.conn_judged = tm_conn_judged,
	.conn_forget = tm_conn_forget,
	.tick = tm_tick,
	.listening = tm_listening,
	.waits = tm_waits,
	.waits_max = tm_waits_max,
	.link_add = tm_link_add,
	.link_drop = tm_link_drop,
	.link_set = tm_link_set,
	.cut_agency = tm_cut_agency,
	.link_endpoint = tm_link_endpoint,
	.link_key = tm_link_key,
};

int transport_mem_new(struct transport **out, const char *const *agencies,
		      size_t n)
{
	struct transport_mem *t = calloc(1, sizeof(*t));

	*out = NULL;
	if (!t || !(t->links = calloc(n ? n : 1, sizeof(*t->links)))) {
		free(t);
		return ppx_error_set(PPX_ENOMEM, "out of memory");
	}
	t->base.ops = &tm_ops;
	t->n_links = n;
	for (size_t i = 0; i < n; i++)
		mlink_init(&t->links[i], agencies[i], "");
	*out = &t->base;
	return 0;
}

void transport_mem_link_up(struct transport *t, size_t i, int up)
{
	struct mlink *l = &tm(t)->links[i];

	l->up = up;
	event_add(l, up ? LINK_UP : LINK_DOWN);
}

void transport_mem_link_refuse(struct transport *t, size_t i)
{
	struct mlink *l = &tm(t)->links[i];

	l->up = 0;
	event_add(l, LINK_REFUSED);
}

void transport_mem_link_capacity(struct transport *t, size_t i, size_t cap)
{
	tm(t)->links[i].capacity = cap;
}

/* Pop a frame into a copy the caller frees. */
static int take(struct mqueue *q, struct transport_route *route,
		uint8_t **data, size_t *len)
{
	struct mframe *f = mq_pop(q);

	if (!f)
		return -1;
	if (route)
		*route = f->route;
	*data = f->data;
	*len = f->len;
	return 0;
}

int transport_mem_link_take(struct transport *t, size_t i, uint8_t **data,
			    size_t *len)
{
	return take(&tm(t)->links[i].out, NULL, data, len);
}

size_t transport_mem_link_queued(struct transport *t, size_t i)
{
	return mq_len(&tm(t)->links[i].out);
}

size_t transport_mem_link_resets(struct transport *t, size_t i)
{
	return tm(t)->links[i].resets;
}

void transport_mem_link_push(struct transport *t, size_t i,
			     const uint8_t *data, size_t len)
{
	mq_push(&tm(t)->links[i].in, data, len, NULL, NULL);
}

void transport_mem_inbound_push(struct transport *t, const char *agency,
				const char *route, const uint8_t *data,
				size_t len)
{
	struct transport_route r = {.len = strlen(route)};

	if (r.len > sizeof(r.id))
		r.len = sizeof(r.id);
	memcpy(r.id, route, r.len);
	mq_push(&tm(t)->inbound, data, len, &r, agency);
}

int transport_mem_reply_take(struct transport *t,
			     struct transport_route *route, uint8_t **data,
			     size_t *len)
{
	return take(&tm(t)->replies, route, data, len);
}

size_t transport_mem_replies(struct transport *t)
{
	return mq_len(&tm(t)->replies);
}

size_t transport_mem_link_cuts(struct transport *t, size_t i)
{
	return tm(t)->links[i].cuts;
}

void transport_mem_fail_link_add(struct transport *t, int fail)
{
	tm(t)->fail_link_add = fail;
}
