/*
 * budget.c — per-partner refusal budgets, log-growth quotas and the rate
 * limit on reports of refused connections (budget.h tells the story).
 *
 * Where it sits: inbound.c asks budget_quota_allows() before it logs a
 * message and budget_refusal() after it refuses one, and charges what it
 * logged; it asks budget_blocked() for every frame (a blocked partner's
 * are discarded, and its own connections cut, no other partner's); zap.c
 * asks budget_blocked() at every handshake and
 * budget_conn_refused() when it refuses one; control.c shows
 * budget_view().  All of it is in memory: a restart forgives, which is
 * what an operator restarting a daemon expects, and a partner cannot make
 * the daemon write anything to keep these counts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "budget.h"
#include "ppx/error.h"

#define MINUTE_MS 60000
#define HOUR_MINUTES 60
#define CONN_KEYS 256		/* refused-connection keys tracked at once */
#define CONN_KEY_MAX 96

struct partner {
	char agency[PPX_CONFIG_AGENCY_MAX];
	uint64_t refusals;		/* in the window starting at: */
	int64_t window_start_ms;
	int64_t blocked_until_ms;
	uint32_t episodes;
	uint64_t bucket[HOUR_MINUTES];	/* bytes charged in that minute */
	int64_t bucket_minute[HOUR_MINUTES];	/* which minute it holds */
	int64_t quota_noted_ms;		/* last over-quota entry; 0: none */
};

struct conn {
	char key[CONN_KEY_MAX];
	int64_t reported_ms;		/* last report */
	uint64_t pending;		/* refusals since it */
};

struct budget {
	long refusal_budget, refusal_window_ms;
	long block_initial_ms, block_max_ms;
	uint64_t quota;
	long report_ms;
	struct partner *p;
	size_t n;
	struct conn conn[CONN_KEYS];
};

static struct partner *find(struct budget *b, const char *agency);

int budget_new(struct budget **out, const struct ppx_config *cfg)
{
	struct budget *b = calloc(1, sizeof(*b));

	*out = NULL;
	if (!b || !(b->p = calloc(cfg->n_partners ? cfg->n_partners : 1,
				  sizeof(*b->p)))) {
		free(b);
		return ppx_error_set(PPX_ENOMEM, "out of memory");
	}
	b->refusal_budget = cfg->refusal_budget;
	b->refusal_window_ms = cfg->refusal_window_ms;
	b->block_initial_ms = cfg->block_initial_ms;
	b->block_max_ms = cfg->block_max_ms;
	b->quota = (uint64_t)cfg->log_quota_bytes_hour;
	b->report_ms = cfg->refusal_log_ms;
	for (size_t i = 0; i < cfg->n_partners; i++)
		memcpy(b->p[b->n++].agency, cfg->partners[i].name,
		       sizeof(b->p[0].agency));
	*out = b;
	return 0;
}

int budget_partner_added(struct budget *self, const char *agency)
{
	struct partner *np;

	if (find(self, agency))
		return 0;
	np = realloc(self->p, (self->n + 1) * sizeof(*np));
	if (!np)
		return ppx_error_set(PPX_ENOMEM, "out of memory");
	self->p = np;
	memset(&np[self->n], 0, sizeof(np[0]));
	snprintf(np[self->n].agency, sizeof(np[0].agency), "%s", agency);
	self->n++;
	return 0;
}

void budget_free(struct budget **self)
{
	if (!*self)
		return;
	free((*self)->p);
	free(*self);
	*self = NULL;
}

static struct partner *find(struct budget *b, const char *agency)
{
	for (size_t i = 0; agency && i < b->n; i++)
		if (strcmp(b->p[i].agency, agency) == 0)
			return &b->p[i];
	return NULL;
}

int budget_blocked(struct budget *self, const char *agency, int64_t now)
{
	struct partner *p = find(self, agency);

	return p && p->blocked_until_ms > now;
}

/* The block of episode `k` (0 for the first): doubled each time. */
static int64_t block_ms(const struct budget *b, uint32_t k)
{
	int64_t ms = b->block_initial_ms;

	while (k-- > 0 && ms < b->block_max_ms)
		ms *= 2;
	return ms < b->block_max_ms ? ms : b->block_max_ms;
}

int budget_refusal(struct budget *self, const char *agency, int64_t now,
		   int64_t *until, uint32_t *episode)
{
	struct partner *p = find(self, agency);

	if (!p || p->blocked_until_ms > now)
		return 0;
	if (p->refusals == 0 || now - p->window_start_ms >= self->refusal_window_ms) {
		p->refusals = 0;
		p->window_start_ms = now;
	}
	if (++p->refusals <= (uint64_t)self->refusal_budget)
		return 0;
	p->blocked_until_ms = now + block_ms(self, p->episodes);
	p->episodes++;
	p->refusals = 0;
	*until = p->blocked_until_ms;
	*episode = p->episodes;
	return 1;
}

/* Bytes charged within the hour before `now`. */
static uint64_t hour_bytes(const struct partner *p, int64_t now)
{
	int64_t minute = now / MINUTE_MS;
	uint64_t sum = 0;

	for (size_t i = 0; i < HOUR_MINUTES; i++)
		if (p->bucket_minute[i] > minute - HOUR_MINUTES &&
		    p->bucket_minute[i] <= minute)
			sum += p->bucket[i];
	return sum;
}

int budget_quota_allows(struct budget *self, const char *agency,
			uint64_t bytes, int64_t now)
{
	struct partner *p = find(self, agency);

	return !p || hour_bytes(p, now) + bytes <= self->quota;
}

void budget_charge(struct budget *self, const char *agency, uint64_t bytes,
		   int64_t now)
{
	struct partner *p = find(self, agency);
	int64_t minute = now / MINUTE_MS;
	size_t i = (size_t)(minute % HOUR_MINUTES);

	if (!p)
		return;
	if (p->bucket_minute[i] != minute) {
		p->bucket_minute[i] = minute;
		p->bucket[i] = 0;
	}
	p->bucket[i] += bytes;
}

int budget_quota_spent(struct budget *self, const char *agency, int64_t now)
{
	struct partner *p = find(self, agency);

	if (!p || (p->quota_noted_ms && now - p->quota_noted_ms < 60 * MINUTE_MS))
		return 0;
	p->quota_noted_ms = now;
	return 1;
}

/* The slot of `key`: its own, a free one, or (all taken) the last, which
 * then stands for every key that found no room. */
static struct conn *conn_slot(struct budget *b, const char *key)
{
	struct conn *free_slot = NULL;

	for (size_t i = 0; i < CONN_KEYS - 1; i++) {
		if (strcmp(b->conn[i].key, key) == 0)
			return &b->conn[i];
		if (!free_slot && !b->conn[i].key[0])
			free_slot = &b->conn[i];
	}
	if (free_slot) {
		size_t len = strlen(key);

		if (len >= CONN_KEY_MAX)
			len = CONN_KEY_MAX - 1;
		memcpy(free_slot->key, key, len);
		free_slot->key[len] = '\0';
		return free_slot;
	}
	memcpy(b->conn[CONN_KEYS - 1].key, "(other keys)", 13);
	return &b->conn[CONN_KEYS - 1];
}

int budget_conn_refused(struct budget *self, const char *key, int64_t now,
			uint64_t *count)
{
	struct conn *c = conn_slot(self, key);

	c->pending++;
	if (c->reported_ms && now - c->reported_ms < self->report_ms)
		return 0;
	*count = c->pending;
	c->pending = 0;
	c->reported_ms = now;
	return 1;
}

int budget_conn_due(struct budget *self, int64_t now, char *key, size_t cap,
		    uint64_t *count)
{
	for (size_t i = 0; i < CONN_KEYS; i++) {
		struct conn *c = &self->conn[i];

		if (!c->key[0] || now - c->reported_ms < self->report_ms)
			continue;
		if (c->pending == 0) {	/* quiet for an interval: forget it */
			memset(c, 0, sizeof(*c));
			continue;
		}
		snprintf(key, cap, "%s", c->key);
		*count = c->pending;
		c->pending = 0;
		c->reported_ms = now;
		return 1;
	}
	return 0;
}

void budget_view(struct budget *self, const char *agency, int64_t now,
		 struct budget_view *out)
{
	struct partner *p = find(self, agency);

	memset(out, 0, sizeof(*out));
	out->log_quota_bytes_hour = self->quota;
	if (!p)
		return;
	if (p->refusals && now - p->window_start_ms < self->refusal_window_ms)
		out->refusals_window = p->refusals;
	out->blocked_until_ms = p->blocked_until_ms > now ? p->blocked_until_ms
							  : 0;
	out->log_bytes_hour = hour_bytes(p, now);
	out->blocked_episodes = p->episodes;
}
