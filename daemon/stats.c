/*
 * stats.c — counters since start for the status (stats.h): per partner,
 * messages stored from it and its frames refused by reason, counted by
 * inbound.c and outbox.c; and, when the status is built
 * (control_request.c), the figures read then: the oldest message waiting
 * for each partner (its SENT entry's time), the log's data file size and
 * the space free to the daemon on the log's filesystem.
 *
 * The counters live only in memory: they restart at zero with the daemon,
 * as Prometheus counters may (it sees the reset through
 * ppx_start_time_seconds).
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include "log.h"
#include "outbox.h"
#include "ppx/error.h"
#include "ppx/pki.h"
#include "state.h"
#include "stats.h"

struct partner_stats {
	char name[PPX_NAME_MAX];
	uint64_t received;
	uint64_t refused[PPXD_REASONS];	/* by RejectReason */
	/* What the status points at (stats_status): rebuilt each time. */
	Ppx__V1__ReasonCount rc[PPXD_REASONS];
	Ppx__V1__ReasonCount *rp[PPXD_REASONS];
};

struct stats {
	struct partner_stats *p;
	size_t n, cap;
};

void stats_free(struct stats **self)
{
	if (!self || !*self)
		return;
	free((*self)->p);
	free(*self);
	*self = NULL;
}

/* The counters of `partner`, added if new; NULL when the name does not
 * fit, the table is full or memory is short (the count is lost, and
 * said). */
static struct partner_stats *stats_partner(struct ppxd *d,
					   const char *partner)
{
	struct stats *s = d->stats;
	struct partner_stats *p;

	if (!partner || !partner[0] || strlen(partner) >= PPX_NAME_MAX)
		return NULL;
	if (!s && !(s = d->stats = calloc(1, sizeof(*s))))
		return NULL;
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->p[i].name, partner) == 0)
			return &s->p[i];
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 16;

		if (cap > STATS_PARTNERS_MAX ||
		    !(p = realloc(s->p, cap * sizeof(*p)))) {
			log_warnx("stats: no room to count %s", partner);
			return NULL;
		}
		s->p = p;
		s->cap = cap;
	}
	p = &s->p[s->n++];
	memset(p, 0, sizeof(*p));
	memcpy(p->name, partner, strlen(partner) + 1);
	return p;
}

void stats_received(struct ppxd *d, const char *partner, size_t n)
{
	struct partner_stats *p = stats_partner(d, partner);

	if (p)
		p->received += n;
}

void stats_refused(struct ppxd *d, const char *partner, int code)
{
	struct partner_stats *p = stats_partner(d, partner);
	int r = ppx_error_reject_reason(code);

	if (p && r >= 0 && r < PPXD_REASONS)
		p->refused[r]++;
}

/* When the oldest message waiting for link `link` was logged; 0 when
 * none waits or its entry cannot be read (said). */
static int64_t oldest_waiting_ms(struct ppxd *d, size_t link)
{
	Ppx__V1__LogEntry *e = NULL;
	uint64_t seq;
	int64_t ms;

	if (outbox_oldest(d, link, &seq) != 0)
		return 0;
	if (ppx_log_get(d->log, seq, &e) != 0) {
		log_warnx("status: entry %llu, oldest in an outbox: %s",
			  (unsigned long long)seq, ppx_error_last());
		return 0;
	}
	ms = e->time_ms;
	ppx__v1__log_entry__free_unpacked(e, NULL);
	return ms;
}

/* Its counters into the partner's status line. */
static void status_partner(struct ppxd *d, size_t link,
			   Ppx__V1__PartnerStatus *ps)
{
	struct partner_stats *p = stats_partner(d, ps->agency);

	ps->oldest_waiting_ms = oldest_waiting_ms(d, link);
	if (!p)
		return;
	ps->received = p->received;
	ps->refusals_by_reason = p->rp;
	ps->n_refusals_by_reason = 0;
	for (int r = 0; r < PPXD_REASONS; r++) {
		Ppx__V1__ReasonCount *rc;

		if (!p->refused[r])
			continue;
		rc = &p->rc[ps->n_refusals_by_reason];
		ppx__v1__reason_count__init(rc);
		rc->reason = r;
		rc->count = p->refused[r];
		p->rp[ps->n_refusals_by_reason++] = rc;
	}
}

/* The log's data file size and the space free to us beside it. */
static void status_disk(struct ppxd *d, Ppx__V1__StatusReply *sr)
{
	char path[PATH_MAX];
	struct statvfs vfs;
	struct stat st;

	sr->log_max_bytes = (uint64_t)d->cfg->log_max_mb << 20;
	if ((size_t)snprintf(path, sizeof(path), "%s/data.mdb",
			     d->cfg->log_dir) >= sizeof(path))
		return;
	if (stat(path, &st) == 0)
		sr->log_bytes = (uint64_t)st.st_size;
	else
		log_warn("status: cannot stat %s", path);
	if (statvfs(d->cfg->log_dir, &vfs) == 0)
		sr->disk_free_bytes = (uint64_t)vfs.f_bavail * vfs.f_frsize;
	else
		log_warn("status: cannot statvfs %s", d->cfg->log_dir);
}

void stats_status(struct ppxd *d, Ppx__V1__StatusReply *sr)
{
	/* Partners first: stats_partner() may move the table, so the
	 * pointers into it are taken only once every name is in. */
	for (size_t i = 0; i < sr->n_partners; i++)
		(void)stats_partner(d, sr->partners[i]->agency);
	for (size_t i = 0; i < sr->n_partners; i++)
		status_partner(d, i, sr->partners[i]);
	status_disk(d, sr);
}
