/*
 * zap.c — who may connect: partner daemons by CA-bound CURVE key, local
 * operators by Unix uid.
 *
 * libzmq asks this handler (a REP socket on inproc://zeromq.zap.01, polled
 * in the main loop) about every new connection before any message flows.
 * A refusal is counted under the reason code a message from that peer
 * would have been refused with, and reported — a line on stderr/syslog and
 * an ENTRY_CONNECTION_REFUSED in the log — at most once per refusal_log_ms
 * per key, with the count since the last report (budget.c): the key is the
 * agency of the certificate the CURVE key belongs to, or one shared key
 * for all CURVE keys of no known certificate, so that neither a partner
 * reconnecting in a loop nor an outsider with fresh keys can grow the log
 * or the daemon's output faster than that.  A partner that spent its
 * refusal budget is refused here until its block ends.  With a
 * federation directory in force, a partner's key must also be listed and
 * the partner active or leaving in it (partners_cert_allowed).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

#include "budget.h"
#include "events.h"
#include "log.h"
#include "partners.h"
#include "ppx/error.h"
#include "writer.h"
#include "state.h"
#include "zap.h"

#define ZAP_ENDPOINT "inproc://zeromq.zap.01"
#define ZAP_PARTS 8
#define ZAP_PART_MAX 512

struct zap {
	struct ppxd *d;
	void *sock;
};

struct zap_request {
	char part[ZAP_PARTS][ZAP_PART_MAX];
	size_t len[ZAP_PARTS];
	int n;
};

int zap_new(struct zap **out, struct ppxd *d)
{
	struct zap *z = calloc(1, sizeof(*z));
	int linger = 0;

	*out = NULL;
	if (!z)
		return ppx_error_set(PPX_ENOMEM, "out of memory");
	z->d = d;
	z->sock = zmq_socket(d->zctx, ZMQ_REP);
	if (!z->sock || zmq_setsockopt(z->sock, ZMQ_LINGER, &linger,
				       sizeof(linger)) != 0 ||
	    zmq_bind(z->sock, ZAP_ENDPOINT) != 0) {
		int e = zmq_errno();

		zap_free(&z);
		return ppx_error_set(PPX_EIO, "cannot start ZAP handler: %s",
				     zmq_strerror(e));
	}
	*out = z;
	return 0;
}

void zap_free(struct zap **self)
{
	if (!*self)
		return;
	if ((*self)->sock)
		zmq_close((*self)->sock);
	free(*self);
	*self = NULL;
}

void *zap_socket(struct zap *self)
{
	return self->sock;
}

/* Read one multipart request; parts longer than ZAP_PART_MAX are cut. */
static int read_request(void *sock, struct zap_request *r)
{
	int more = 1;
	size_t ml = sizeof(more);

	r->n = 0;
	while (more) {
		int n = zmq_recv(sock, r->n < ZAP_PARTS ? r->part[r->n] : NULL,
				 r->n < ZAP_PARTS ? ZAP_PART_MAX - 1 : 0,
				 ZMQ_DONTWAIT);

		if (n < 0)
			return r->n == 0 ? -1 : 0;
		if (r->n < ZAP_PARTS) {
			r->len[r->n] = (size_t)n < ZAP_PART_MAX - 1
					       ? (size_t)n
					       : ZAP_PART_MAX - 1;
			r->part[r->n][r->len[r->n]] = '\0';
		}
		r->n++;
		zmq_getsockopt(sock, ZMQ_RCVMORE, &more, &ml);
	}
	return 0;
}

static void reply(void *sock, const struct zap_request *r, const char *code,
		  const char *text, const char *user)
{
	zmq_send(sock, "1.0", 3, ZMQ_SNDMORE);
	zmq_send(sock, r->part[1], r->len[1], ZMQ_SNDMORE);
	zmq_send(sock, code, strlen(code), ZMQ_SNDMORE);
	zmq_send(sock, text, strlen(text), ZMQ_SNDMORE);
	zmq_send(sock, user, strlen(user), ZMQ_SNDMORE);
	zmq_send(sock, "", 0, 0);
}

#define UNKNOWN_KEYS "(CURVE keys of no known certificate)"

/* A partner daemon: its CURVE key must be a valid transport certificate's,
 * of a configured partner that is not blocked.  `key` names the peer for
 * the refusal reports: its certificate's agency, or UNKNOWN_KEYS. */
static int judge_partner(struct zap *z, const struct zap_request *r,
			 char *user, size_t cap, char *key, size_t keycap)
{
	ppx_identity id;
	int rc;

	snprintf(key, keycap, "%s", UNKNOWN_KEYS);
	if (r->n < 7 || strcmp(r->part[5], "CURVE") != 0 || r->len[6] != 32)
		return ppx_error_set(PPX_EUNTRUSTED,
				     "partner connection without a CURVE key");
	rc = partners_transport_cert(z->d, (const uint8_t *)r->part[6], &id,
				     key, keycap);
	if (rc != 0)
		return rc;	/* unknown, refused by the CA, or (a directory
				 * in force) cut off or not listed */
	if (!ppx_config_partner(z->d->cfg, id.agency))
		return ppx_error_set(PPX_EPOLICY,
				     "%s is not a configured partner",
				     id.agency);
	if (budget_blocked(z->d->budget, id.agency, ppxd_now_ms()))
		return ppx_error_set(PPX_EBUSY, "%s is blocked: it spent its "
				     "refusal budget", id.agency);
	snprintf(user, cap, "%s", id.agency);
	return 0;
}

/* The agency a report key names, or "" (a certificate's subject or the
 * unknown keys). */
static const char *key_agency(const struct ppxd *d, const char *key)
{
	return ppx_config_partner(d->cfg, key) ? key : "";
}

/* One report of `count` refused handshakes of `key`: a line, and (for
 * handshakes, not frames) an entry charged to the partner's quota. */
static void report(struct ppxd *d, const char *key, uint64_t count, int rc,
		   const char *why)
{
	Ppx__V1__LogEntry e = PPX__V1__LOG_ENTRY__INIT;
	char detail[600];
	uint64_t seq;

	if (strncmp(key, "frames from ", 12) == 0 ||
	    strncmp(key, "discarded frames of ", 20) == 0) {	/* inbound.c */
		log_warnx("%s %llu more %s in the last %ld ms",
			  key[0] == 'f' ? "refused" : "discarded",
			  (unsigned long long)count,
			  key[0] == 'f' ? key : key + 10,
			  d->cfg->refusal_log_ms);
		return;
	}
	snprintf(detail, sizeof(detail), "%llu handshake%s refused (%s)%s%s",
		 (unsigned long long)count, count == 1 ? "" : "s", key,
		 why ? ": " : "", why ? why : "");
	log_warnx("refused connection from %s", detail);
	e.kind = PPX__V1__ENTRY_KIND__ENTRY_CONNECTION_REFUSED;
	e.peer_agency = (char *)key_agency(d, key);
	e.reason = rc ? ppx_error_reject_reason(rc) : 0;
	e.detail = detail;
	if (writer_append(d, &e, &seq) != 0) {
		log_warnx("cannot log refused connections: %s",
			  ppx_error_last());
		return;
	}
	budget_charge(d->budget, e.peer_agency,
		      ppx__v1__log_entry__get_packed_size(&e), ppxd_now_ms());
}

/* A refused handshake: counted, and reported if its key's interval
 * allows. */
static void refused(struct zap *z, const struct zap_request *r, int rc,
		    const char *key)
{
	char why[400];
	uint64_t count = 0;

	ppxd_count_refusal(z->d, rc);
	if (!budget_conn_refused(z->d->budget, key, ppxd_now_ms(), &count))
		return;
	snprintf(why, sizeof(why), "from %.300s: %s", r->part[3],
		 ppx_error_last());
	report(z->d, key, count, rc, why);
}

/* Counts held back whose interval has passed. */
static void report_due(struct ppxd *d)
{
	char key[128];
	uint64_t count;

	while (budget_conn_due(d->budget, ppxd_now_ms(), key, sizeof(key),
			       &count))
		report(d, key, count, 0, "in the last interval");
}

int zap_peer_cred(const char *address, long *uid, long *gid)
{
	const char *p = address + strlen(address);
	int colons = 0;
	char *end;

	while (p > address && colons < 3)
		if (*--p == ':')
			colons++;
	if (colons < 3)
		return PPX_ENOTFOUND;
	*uid = strtol(p + 1, &end, 10);
	if (end == p + 1 || *end != ':')
		return PPX_ENOTFOUND;
	p = end;
	*gid = strtol(p + 1, &end, 10);
	return end != p + 1 && *end == ':' ? 0 : PPX_ENOTFOUND;
}

static int judge_operator(struct zap *z, const struct zap_request *r,
			  char *user, size_t cap)
{
	const struct ppx_operator *op;
	long uid, gid;

	if (r->n < 6 || zap_peer_cred(r->part[3], &uid, &gid) != 0)
		return ppx_error_set(PPX_EPERM,
				     "control connection without peer "
				     "credentials");
	op = ppx_config_operator_by_uid(z->d->cfg, (uid_t)uid);
	if (!op)
		return ppx_error_set(PPX_EPERM,
				     "uid %ld is not a configured operator", uid);
	snprintf(user, cap, "%s", op->id);
	return 0;
}

void zap_handle(struct zap *self)
{
	struct zap_request r;
	char user[PPX_NAME_MAX], key[256];

	while (read_request(self->sock, &r) == 0) {
		int rc = PPX_EINVAL;

		user[0] = '\0';
		snprintf(key, sizeof(key), "operators");
		if (r.n >= 6 && strcmp(r.part[2], ZAP_DOMAIN_PARTNER) == 0)
			rc = judge_partner(self, &r, user, sizeof(user), key,
					   sizeof(key));
		else if (r.n >= 6 && strcmp(r.part[2], ZAP_DOMAIN_CONTROL) == 0)
			rc = judge_operator(self, &r, user, sizeof(user));
		else
			ppx_error_set(rc, "unknown ZAP domain");
		if (r.n < 2) {
			log_warnx("zap: malformed request ignored");
			continue;
		}
		if (rc == 0) {
			log_debug("zap: %s connected as %s", r.part[3], user);
			reply(self->sock, &r, "200", "OK", user);
			continue;
		}
		reply(self->sock, &r, "400", ppx_error_last(), "");
		refused(self, &r, rc, key);
	}
	report_due(self->d);
}
