/*
 * partners.c — the partners as the directory in force makes them
 * (PROTOCOL.md 13.4; the model is in partners.h).
 *
 * federation.c takes a directory and calls partners_apply(): every
 * listed agency that [federation] partners allows and that is not yet a
 * partner becomes one (config, transport link, outbox lane, budget and
 * witness slot, all at the same index), and every partner gets its
 * standing, endpoint and accepted certificates from the directory.  A
 * partner cut off (suspended, removed, not allowed) has its link closed
 * and its inbound sessions cut; its queue stays in the outbox and goes
 * out when it is active again, from the oldest message without a receipt
 * (the outbox's resend on a link reset).
 *
 * The checks then ask here: zap.c whether a transport key may open a
 * session, inbound.c and outbox.c whether a signer may send a message or
 * a receipt, submit.c whether a new message may be addressed to a
 * partner, and transport_zmq.c which server key its link pins.  Without a
 * directory every answer is "as before": the trust store alone judges.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "budget.h"
#include "log.h"
#include "outbox.h"
#include "partners.h"
#include "ppx/error.h"
#include "transport.h"
#include "witness.h"

#define CERTS_MAX (2 * PPX_DIRECTORY_MAX_CERTS)

/* What the directory in force said of one partner (same index as
 * d->cfg->partners), so that the next one's changes are seen. */
struct pstate {
	int applied;		/* a directory was applied to it */
	uint8_t signing[PPX_DIRECTORY_MAX_CERTS][PPX_FINGERPRINT_LEN];
	size_t n_signing;
	uint8_t transport[PPX_DIRECTORY_MAX_CERTS][PPX_FINGERPRINT_LEN];
	size_t n_transport;
	/* partners_status: what its PartnerStatus points into */
	Ppx__V1__CertStatus cs[CERTS_MAX];
	Ppx__V1__CertStatus *csp[CERTS_MAX];
	char serial[CERTS_MAX][80];
	uint8_t key[CERTS_MAX][32];	/* transport certificates' keys */
};

struct partners {
	struct pstate *p;
	size_t n;
};

void partners_free(struct ppxd *d)
{
	if (!d->partners)
		return;
	free(d->partners->p);
	free(d->partners);
	d->partners = NULL;
}

/* d->partners with a state for every configured partner. */
static int state_reserve(struct ppxd *d, size_t n);

static int state_grow(struct ppxd *d)
{
	return state_reserve(d, d->cfg->n_partners);
}

/* ------------------------------------------------------------------ */
/* Standing                                                            */
/* ------------------------------------------------------------------ */

static int standing_of(const struct ppxd *d, const struct ppx_directory *dir,
		       const char *agency)
{
	const struct ppx_dir_agency *a;

	if (!dir)
		return PPX_STANDING_CONFIGURED;
	if (!(a = ppx_directory_agency(dir, agency)))
		return PPX_STANDING_REMOVED;
	if (!ppx_config_fed_allows(d->cfg, agency))
		return PPX_STANDING_NOT_ALLOWED;
	switch (a->status) {
	case PPX_AGENCY_ACTIVE:
		return PPX_STANDING_ACTIVE;
	case PPX_AGENCY_LEAVING:
		return PPX_STANDING_LEAVING;
	default:
		return PPX_STANDING_SUSPENDED;
	}
}

/* A link may be open: configured, active or leaving. */
static int standing_connects(int standing)
{
	return standing == PPX_STANDING_CONFIGURED ||
	       standing == PPX_STANDING_ACTIVE ||
	       standing == PPX_STANDING_LEAVING;
}

/* Why `agency` of `standing` is refused, into ppx_error. */
static int refused(const struct ppxd *d, const char *agency, int standing,
		   const char *what)
{
	unsigned long long serial =
		d->directory ? (unsigned long long)d->directory->serial : 0;

	switch (standing) {
	case PPX_STANDING_SUSPENDED:
		return ppx_error_set(PPX_ENOTLISTED, "%s is suspended in "
				     "directory serial %llu%s", agency, serial,
				     what);
	case PPX_STANDING_LEAVING:
		return ppx_error_set(PPX_ENOTLISTED, "%s is leaving the "
				     "federation (directory serial %llu)%s",
				     agency, serial, what);
	case PPX_STANDING_NOT_ALLOWED:
		return ppx_error_set(PPX_ENOTLISTED, "%s is listed in "
				     "directory serial %llu but not among "
				     "[federation] partners of %s%s", agency,
				     serial, d->cfg->agency, what);
	default:
		return ppx_error_set(PPX_ENOTLISTED, "%s is not listed in "
				     "directory serial %llu%s", agency,
				     serial, what);
	}
}

/* ------------------------------------------------------------------ */
/* Growth                                                              */
/* ------------------------------------------------------------------ */

/* d->partners with a state for n partners (more is harmless). */
static int state_reserve(struct ppxd *d, size_t n)
{
	struct pstate *np;

	if (!d->partners && !(d->partners = calloc(1, sizeof(*d->partners))))
		return ppx_error_set(PPX_ENOMEM, "out of memory");
	if (d->partners->n >= n)
		return 0;
	np = realloc(d->partners->p, n * sizeof(*np));
	if (!np)
		return ppx_error_set(PPX_ENOMEM, "out of memory");
	memset(np + d->partners->n, 0, (n - d->partners->n) * sizeof(*np));
	d->partners->p = np;
	d->partners->n = n;
	return 0;
}

/*
 * Every per-partner structure for the partner just added at index i,
 * or none: link, outbox lane and witness slot share its index, so a
 * step that fails undoes the ones before it, and the caller the config
 * entry.  The witness comes last because a failed witness_partner_added
 * leaves its count as it was; the budget (by name) and the state (only
 * grows) are made before the partner is added.
 */
static int grow_structures(struct ppxd *d, size_t i)
{
	const struct ppx_partner *p = &d->cfg->partners[i];
	int link = transport_link_add(d->transport, p->name, p->endpoint);
	int rc;

	if (link < 0)
		return link;
	if ((size_t)link != i) {
		rc = ppx_error_set(PPX_EINVAL, "partner %s: link %d is not at "
				   "its index %zu", p->name, link, i);
		transport_link_drop(d->transport);
		return rc;
	}
	if ((rc = outbox_partner_added(d, i)) != 0) {
		outbox_partner_dropped(d, i);
		transport_link_drop(d->transport);
		return rc;
	}
	if ((rc = witness_partner_added(d, i)) != 0) {
		outbox_partner_dropped(d, i);
		transport_link_drop(d->transport);
		return rc;
	}
	return 0;
}

/* Listed agency `a`, allowed, not yet a partner: make it one, whole or
 * not at all (a later directory tries again). */
static int add_partner(struct ppxd *d, const struct ppx_directory *dir,
		       const struct ppx_dir_agency *a)
{
	struct ppx_partner p;
	int rc;

	memset(&p, 0, sizeof(p));
	snprintf(p.name, sizeof(p.name), "%s", a->name);
	snprintf(p.endpoint, sizeof(p.endpoint), "%s", a->endpoints[0]);
	snprintf(p.type, sizeof(p.type), "%s", a->type);
	p.duty_to_cooperate = a->duty_to_cooperate;
	p.from_directory = 1;
	p.standing = standing_of(d, dir, a->name);
	if ((rc = state_reserve(d, d->cfg->n_partners + 1)) != 0 ||
	    (rc = budget_partner_added(d->budget, p.name)) != 0 ||
	    (rc = ppx_config_add_partner(d->cfg, &p)) != 0)
		return rc;
	if ((rc = grow_structures(d, d->cfg->n_partners - 1)) != 0) {
		d->cfg->n_partners--;	/* the entry is a plain copy */
		return rc;
	}
	log_info("partner %s added from directory serial %llu (%s, %s, %s)",
		 a->name, (unsigned long long)dir->serial, a->type,
		 ppx_standing_name(p.standing), p.endpoint);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Applying a directory to one partner                                  */
/* ------------------------------------------------------------------ */

/* Is every fingerprint of `had` (n of them) among the `m` of `now`? */
static int all_kept(const uint8_t (*had)[PPX_FINGERPRINT_LEN], size_t n,
		    const uint8_t (*now)[PPX_FINGERPRINT_LEN], size_t m)
{
	for (size_t i = 0; i < n; i++) {
		size_t k = 0;

		while (k < m && memcmp(had[i], now[k], PPX_FINGERPRINT_LEN))
			k++;
		if (k == m)
			return 0;
	}
	return 1;
}

/*
 * Did the directory stop listing a certificate of partner i that the
 * last one listed?  Remembers the new list.  Only a removal counts: a
 * certificate added beside the old (rotation step 2) or a new order
 * leaves every live session valid, and cutting then would make a
 * routine rotation reconnect the federation.
 */
static int certs_removed(struct pstate *s, const struct ppx_dir_agency *a)
{
	size_t ns = a ? a->n_signing : 0, nt = a ? a->n_transport : 0;
	int removed = s->applied &&
		      (!all_kept((const uint8_t (*)[PPX_FINGERPRINT_LEN])
					 s->signing, s->n_signing,
				 a ? a->signing_fp : NULL, ns) ||
		       !all_kept((const uint8_t (*)[PPX_FINGERPRINT_LEN])
					 s->transport, s->n_transport,
				 a ? a->transport_fp : NULL, nt));

	if (a) {
		memcpy(s->signing, a->signing_fp, ns * PPX_FINGERPRINT_LEN);
		memcpy(s->transport, a->transport_fp, nt * PPX_FINGERPRINT_LEN);
	}
	s->n_signing = ns;
	s->n_transport = nt;
	s->applied = 1;
	return removed;
}

/* The link of partner i follows its standing and endpoint: closed and
 * its sessions cut when cut off or a certificate of it was de-listed,
 * reset (resending from the oldest unreceipted) when anything changed. */
static void apply_link(struct ppxd *d, size_t i, int was, int changed_certs)
{
	struct ppx_partner *p = &d->cfg->partners[i];
	int link = transport_link_find(d->transport, p->name);
	int on = standing_connects(p->standing);
	int moved;

	if (link < 0)
		return;
	moved = strcmp(transport_link_endpoint(d->transport, (size_t)link),
		       p->endpoint) != 0;
	transport_link_set(d->transport, (size_t)link, p->endpoint, on);
	if (((standing_connects(was) && !on) || changed_certs) &&
	    transport_cut_agency(d->transport, p->name) != 0)
		log_warnx("partner %s: cannot cut its sessions: %s", p->name,
			  ppx_error_last());
	if (moved || changed_certs || standing_connects(was) != on ||
	    (on && !transport_link_open(d->transport, (size_t)link)))
		outbox_link_event(d, (size_t)link, LINK_DOWN);
	if (moved)
		log_info("partner %s: endpoint now %s", p->name, p->endpoint);
}

static void apply_one(struct ppxd *d, const struct ppx_directory *dir,
		      size_t i)
{
	struct ppx_partner *p = &d->cfg->partners[i];
	const struct ppx_dir_agency *a = ppx_directory_agency(dir, p->name);
	int was = p->standing, changed;

	p->standing = standing_of(d, dir, p->name);
	if (a) {
		snprintf(p->type, sizeof(p->type), "%s", a->type);
		snprintf(p->endpoint, sizeof(p->endpoint), "%s",
			 a->endpoints[0]);
		if (p->from_directory)
			p->duty_to_cooperate = a->duty_to_cooperate;
	}
	changed = certs_removed(&d->partners->p[i], a);
	if (was != p->standing)
		log_info("partner %s: %s -> %s (directory serial %llu)",
			 p->name, ppx_standing_name(was),
			 ppx_standing_name(p->standing),
			 (unsigned long long)dir->serial);
	if (changed)
		log_info("partner %s: a certificate of it is no longer "
			 "listed; its sessions are cut", p->name);
	apply_link(d, i, was, changed);
}

/* Certificates into the trust store: how many could not be added (the
 * first failure's code into *rc). */
static size_t add_list(struct ppxd *d, const ppx_cert *const *certs, size_t n,
		       int *rc)
{
	size_t missed = 0;
	int r;

	for (size_t k = 0; k < n; k++)
		if ((r = ppx_trust_add_cert(d->trust, certs[k])) != 0) {
			missed++;
			*rc = *rc ? *rc : r;
		}
	return missed;
}

/*
 * Every listed certificate into the trust store (judged when used).
 * One not added is unknown: its agency's handshakes and signatures with
 * it are refused.  That happens when the store is full (its cap, in
 * lib/pki.c, counts every certificate of every directory since start),
 * so it is said as a warning on every directory until a restart.
 */
static int add_certs(struct ppxd *d, const struct ppx_directory *dir)
{
	size_t missed = 0;
	int rc = 0;

	for (size_t i = 0; i < dir->n_agencies; i++) {
		const struct ppx_dir_agency *a = &dir->agencies[i];

		missed += add_list(d, (const ppx_cert *const *)a->signing,
				   a->n_signing, &rc);
		missed += add_list(d, (const ppx_cert *const *)a->transport,
				   a->n_transport, &rc);
	}
	if (missed)
		log_warnx("directory serial %llu: %zu listed certificate%s "
			  "not known (%s): handshakes and signatures with "
			  "them are refused; restart the daemon to start its "
			  "trust store afresh", (unsigned long long)dir->serial,
			  missed, missed == 1 ? "" : "s", ppx_error_last());
	return rc;
}

int partners_apply(struct ppxd *d, const struct ppx_directory *dir)
{
	int rc = add_certs(d, dir), r;
	size_t over = 0;

	if ((r = state_grow(d)) != 0)
		return r;
	for (size_t i = 0; i < dir->n_agencies; i++) {
		const struct ppx_dir_agency *a = &dir->agencies[i];

		if (strcmp(a->name, d->cfg->agency) == 0 ||
		    ppx_config_partner(d->cfg, a->name) ||
		    !ppx_config_fed_allows(d->cfg, a->name))
			continue;
		if (d->cfg->n_partners >= PPX_CONFIG_MAX_PARTNERS) {
			over++;
			continue;
		}
		if ((r = add_partner(d, dir, a)) != 0) {
			log_warnx("directory serial %llu: cannot add partner "
				  "%s: %s", (unsigned long long)dir->serial,
				  a->name, ppx_error_last());
			rc = rc ? rc : r;
		}
	}
	if (over) {
		log_warnx("directory serial %llu: %zu listed agenc%s not "
			  "partners: this daemon has its maximum of %d "
			  "partners; narrow [federation] partners to the "
			  "agencies it deals with",
			  (unsigned long long)dir->serial, over,
			  over == 1 ? "y is" : "ies are",
			  PPX_CONFIG_MAX_PARTNERS);
		rc = rc ? rc : PPX_ERANGE;
	}
	if ((r = state_grow(d)) != 0)
		return r;
	for (size_t i = 0; i < d->cfg->n_partners; i++)
		apply_one(d, dir, i);
	return rc;
}

/* ------------------------------------------------------------------ */
/* The checks                                                          */
/* ------------------------------------------------------------------ */

static const char *role_name(enum ppx_cert_role role)
{
	return role == PPX_ROLE_SIGNING ? "signing" : role ==
		PPX_ROLE_TRANSPORT ? "transport" : "other";
}

int partners_cert_allowed(struct ppxd *d, const char *agency,
			  enum ppx_cert_role role,
			  const uint8_t fp[PPX_FINGERPRINT_LEN],
			  enum partners_use use)
{
	const struct ppx_directory *dir = d->directory;
	int standing;

	if (!dir)
		return 0;
	standing = standing_of(d, dir, agency);
	if (standing == PPX_STANDING_REMOVED ||
	    standing == PPX_STANDING_NOT_ALLOWED)
		return refused(d, agency, standing, "");
	if (!ppx_directory_lists_cert(dir, agency, role, fp))
		return ppx_error_set(PPX_ENOTLISTED, "%s: %s certificate "
				     "%02x%02x%02x%02x... is not listed in "
				     "directory serial %llu", agency,
				     role_name(role), fp[0], fp[1], fp[2],
				     fp[3], (unsigned long long)dir->serial);
	if (standing == PPX_STANDING_ACTIVE ||
	    (standing == PPX_STANDING_LEAVING && use != PARTNERS_USE_MESSAGE))
		return 0;
	return refused(d, agency, standing, "");
}

int partners_frame_allowed(struct ppxd *d, const char *agency,
			   const uint8_t *data, size_t len,
			   enum partners_use use)
{
	Ppx__V1__Frame *f;
	const Ppx__V1__Envelope *env = NULL;
	int rc;

	if (!d->directory)
		return 0;
	f = ppx__v1__frame__unpack(NULL, len, data);
	if (!f)
		return ppx_error_set(PPX_EFRAME, "frame from %s does not "
				     "decode", agency);
	if (f->content_case == PPX__V1__FRAME__CONTENT_MESSAGE)
		env = f->message;
	else if (f->content_case == PPX__V1__FRAME__CONTENT_RECEIPT)
		env = f->receipt;
	else if (f->content_case == PPX__V1__FRAME__CONTENT_CHECKPOINT)
		env = f->checkpoint;
	if (!env || env->signer_fingerprint.len != PPX_FINGERPRINT_LEN)
		rc = ppx_error_set(PPX_EFRAME, "frame from %s names no signer",
				   agency);
	else
		rc = partners_cert_allowed(d, agency, PPX_ROLE_SIGNING,
					   env->signer_fingerprint.data, use);
	ppx__v1__frame__free_unpacked(f, NULL);
	return rc;
}

/* One candidate of partners_transport_cert: 0, or its refusal with
 * `who` set. */
static int transport_candidate(struct ppxd *d, const ppx_cert *cert,
			       ppx_identity *id, char *who, size_t cap)
{
	int rc = ppx_trust_check(d->trust, cert, time(NULL),
				 PPX_ROLE_TRANSPORT, id);

	if (rc != 0) {
		char why[256];

		snprintf(why, sizeof(why), "%s", ppx_error_last());
		ppx_cert_subject(cert, who, cap);
		return ppx_error_set(rc, "transport certificate %s: %s", who,
				     why);
	}
	snprintf(who, cap, "%s", id->agency);
	return partners_cert_allowed(d, id->agency, PPX_ROLE_TRANSPORT,
				     id->fingerprint, PARTNERS_USE_SESSION);
}

int partners_transport_cert(struct ppxd *d, const uint8_t key[32],
			    ppx_identity *id, char *who, size_t cap)
{
	char first_who[256] = "", first_why[600] = "";
	int first = 0, rc;
	size_t at = 0;
	const ppx_cert *cert;

	while ((cert = ppx_trust_find_transport_next(d->trust, key, &at))) {
		char w[256];

		if ((rc = transport_candidate(d, cert, id, w, sizeof(w))) == 0) {
			snprintf(who, cap, "%s", w);
			return 0;
		}
		if (!first) {	/* the one reported, as before */
			first = rc;
			snprintf(first_who, sizeof(first_who), "%s", w);
			snprintf(first_why, sizeof(first_why), "%s",
				 ppx_error_last());
		}
	}
	if (!first)
		return ppx_error_set(PPX_EUNKNOWN_SIGNER, "CURVE key belongs "
				     "to no known transport certificate");
	snprintf(who, cap, "%s", first_who);
	return ppx_error_set(first, "%s", first_why);
}

int partners_session_allowed(struct ppxd *d, const char *agency)
{
	int standing;

	if (!d->directory)
		return 0;
	standing = standing_of(d, d->directory, agency);
	if (standing == PPX_STANDING_ACTIVE ||
	    standing == PPX_STANDING_LEAVING)
		return 0;
	return refused(d, agency, standing, "");
}

int partners_endpoint(struct ppxd *d, const char *agency, unsigned attempt,
		      char *out, size_t size)
{
	const struct ppx_dir_agency *a =
		d->directory ? ppx_directory_agency(d->directory, agency) : NULL;

	if (!a || a->n_endpoints == 0)
		return 0;
	snprintf(out, size, "%s", a->endpoints[attempt % a->n_endpoints]);
	return (int)a->n_endpoints;
}

int partners_may_send(struct ppxd *d, const char *agency)
{
	int standing;

	if (!d->directory)
		return 0;
	standing = standing_of(d, d->directory, agency);
	/* A suspension is a pause: what is sent meanwhile is logged and
	 * held in the outbox, delivered once the agency is reinstated, so
	 * that no notification waits on the sender remembering to send it
	 * again (PROTOCOL.md 13.4). */
	if (standing == PPX_STANDING_ACTIVE ||
	    standing == PPX_STANDING_SUSPENDED)
		return 0;
	return refused(d, agency, standing, ": no new messages");
}

int partners_server_key(struct ppxd *d, const char *agency, unsigned attempt,
			uint8_t key[32])
{
	const struct ppx_dir_agency *a;
	const ppx_cert *usable[PPX_DIRECTORY_MAX_CERTS];
	time_t now = time(NULL);
	size_t n = 0;

	if (!d->directory || !(a = ppx_directory_agency(d->directory, agency))) {
		const ppx_cert *c = ppx_trust_find_agency(
			d->trust, agency, PPX_ROLE_TRANSPORT, now);

		if (!c || ppx_cert_x25519_public(c, key) != 0)
			return PPX_ENOTFOUND;
		return 1;
	}
	for (size_t k = 0; k < a->n_transport; k++) {
		ppx_identity id;

		if (ppx_trust_check(d->trust, a->transport[k], now,
				    PPX_ROLE_TRANSPORT, &id) == 0 &&
		    strcmp(id.agency, agency) == 0)
			usable[n++] = a->transport[k];
	}
	if (n == 0)
		return ppx_error_set(PPX_ENOTFOUND, "no transport certificate "
				     "of %s listed in directory serial %llu "
				     "is valid now", agency,
				     (unsigned long long)d->directory->serial);
	if (ppx_cert_x25519_public(usable[attempt % n], key) != 0)
		return PPX_ENOTFOUND;
	return (int)n;
}

/* ------------------------------------------------------------------ */
/* Status                                                              */
/* ------------------------------------------------------------------ */

static void cert_status(Ppx__V1__CertStatus *cs, char *serial, size_t cap,
			const char *role, const ppx_cert *c,
			const uint8_t fp[PPX_FINGERPRINT_LEN])
{
	time_t nb = 0, na = 0;

	ppx__v1__cert_status__init(cs);
	ppx_cert_dates(c, &nb, &na);
	ppx_cert_serial_hex(c, serial, cap);
	cs->role = (char *)role;
	cs->fingerprint.data = (uint8_t *)fp;
	cs->fingerprint.len = PPX_FINGERPRINT_LEN;
	cs->not_before_ms = (int64_t)nb * 1000;
	cs->not_after_ms = (int64_t)na * 1000;
	cs->serial = serial;
}

int partners_status(struct ppxd *d, size_t i, Ppx__V1__PartnerStatus *ps)
{
	struct ppx_partner *p;
	const struct ppx_dir_agency *a;
	struct pstate *s;
	uint8_t in_use[32];
	int link, have_key;
	size_t n = 0;

	if (i >= d->cfg->n_partners)
		return ppx_error_set(PPX_ERANGE, "no partner %zu", i);
	p = &d->cfg->partners[i];
	link = transport_link_find(d->transport, p->name);
	ps->standing = (char *)ppx_standing_name(p->standing);
	ps->endpoint = link >= 0 ? (char *)transport_link_endpoint(
					   d->transport, (size_t)link)
				 : p->endpoint;
	ps->type = p->type[0] ? p->type
			      : (char *)(p->duty_to_cooperate
						 ? "duty-to-cooperate"
						 : "responsible-authority");
	if (!d->directory ||
	    !(a = ppx_directory_agency(d->directory, p->name)) ||
	    state_grow(d) != 0)
		return 0;
	s = &d->partners->p[i];
	have_key = link >= 0 && transport_link_key(d->transport, (size_t)link,
						   in_use) == 0;
	for (size_t k = 0; k < a->n_signing; k++, n++)
		cert_status(&s->cs[n], s->serial[n], sizeof(s->serial[n]),
			    "signing", a->signing[k], a->signing_fp[k]);
	for (size_t k = 0; k < a->n_transport; k++, n++) {
		cert_status(&s->cs[n], s->serial[n], sizeof(s->serial[n]),
			    "transport", a->transport[k], a->transport_fp[k]);
		s->cs[n].in_use = have_key &&
			ppx_cert_x25519_public(a->transport[k], s->key[n]) ==
				0 && memcmp(s->key[n], in_use, 32) == 0;
	}
	for (size_t k = 0; k < n; k++)
		s->csp[k] = &s->cs[k];
	ps->certificates = s->csp;
	ps->n_certificates = n;
	return 0;
}
