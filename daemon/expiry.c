/*
 * expiry.c — expiry never a surprise.
 *
 * Every certificate the daemon relies on is watched: its own signing and
 * transport certificates, the federation CA, the directory signer's (when
 * a directory is in force) and each partner's accepted certificates (the
 * directory's list, or without one the trust store's current ones).  A
 * certificate reaches a level 90, 30 and 7 days before its notAfter, and
 * another when it has expired.  The CRL has levels of its own: a CRL is
 * usually reissued weekly, so "within 7 days" would always hold; it warns
 * 3 days and 1 day before its nextUpdate (after it, crl_watch in ppxd.c
 * says that every partner is refused).
 *
 * A warning is logged (journal: PPX_REASON=expiry, PPX_PARTNER for a
 * partner's) when the daemon starts with something within a level and
 * whenever something crosses into a new one, once per certificate and
 * level in a run.  The check runs at start, on reload, when the trust
 * store, the CRL or the directory changes, and hourly on the loop's clock
 * (ppxd_now_ms(): a faked clock makes it fire).  The warnings in force
 * are kept for `ppx status` (StatusReply.warnings) and the metrics.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "expiry.h"
#include "log.h"
#include "ppx/directory.h"
#include "ppx/error.h"
#include "ppx/timefmt.h"
#include "state.h"

#define CHECK_EVERY_MS (3600LL * 1000)
#define WATCH_MAX 256		/* certificates looked at in one check */
#define WARNED_MAX 1024		/* (certificate, level) pairs warned of */
#define WARNINGS_MAX 64		/* warnings in force kept for the status */
#define TEXT_MAX 384
#define OWN_MAX 4		/* signing, transport, CA, directory signer */

struct watched {
	const ppx_cert *cert;
	const char *partner;	/* NULL: ours, the CA's, the directory's */
	char what[320];		/* "own signing certificate PATH", ... */
	const char *advice;
};

struct expiry {
	int64_t checked_ms;
	const void *trust_seen, *dir_seen, *signer_seen;
	unsigned crl_gen;
	ppx_cert *transport;		/* our own, as loaded */
	ppx_cert *dir_signer;		/* the directory's signer */
	const void *dir_signer_of;	/* ... of this directory */
	struct {
		uint8_t fp[PPX_FINGERPRINT_LEN];
		int level;
	} warned[WARNED_MAX];
	size_t n_warned;
	int64_t crl_warned_next;	/* the nextUpdate last warned of */
	int crl_warned_level;
	char warnings[WARNINGS_MAX][TEXT_MAX];
	char *wp[WARNINGS_MAX];
	size_t n_warnings;
	Ppx__V1__CertStatus cs[OWN_MAX], *csp[OWN_MAX];
	char serial[OWN_MAX][80];
	uint8_t fp[OWN_MAX][PPX_FINGERPRINT_LEN];
};

int expiry_level(int64_t not_after_ms, int64_t now_ms)
{
	int64_t left = not_after_ms - now_ms;

	if (not_after_ms == 0)
		return 0;
	if (left <= 0)
		return -1;
	if (left <= 7 * EXPIRY_DAY_MS)
		return 7;
	if (left <= 30 * EXPIRY_DAY_MS)
		return 30;
	return left <= 90 * EXPIRY_DAY_MS ? 90 : 0;
}

int expiry_crl_level(int64_t next_ms, int64_t now_ms)
{
	int64_t left = next_ms - now_ms;

	if (next_ms == 0)
		return 0;
	if (left <= 0)
		return -1;
	if (left <= EXPIRY_DAY_MS)
		return 1;
	return left <= 3 * EXPIRY_DAY_MS ? 3 : 0;
}

int expiry_new(struct expiry **out)
{
	*out = calloc(1, sizeof(**out));
	return *out ? 0 : ppx_error_set(PPX_ENOMEM, "out of memory");
}

void expiry_free(struct expiry **self)
{
	if (!*self)
		return;
	ppx_cert_free((*self)->transport);
	ppx_cert_free((*self)->dir_signer);
	free(*self);
	*self = NULL;
}

/* ------------------------------------------------------------------ */
/* What is watched                                                     */
/* ------------------------------------------------------------------ */

/* The directory's signer certificate, from the SignedDirectory itself
 * (the directory keeps only its subject and fingerprint). */
static const ppx_cert *dir_signer(struct ppxd *d, struct expiry *e)
{
	Ppx__V1__SignedDirectory *sd;

	if (!d->directory)
		return NULL;
	if (e->dir_signer_of == (const void *)d->directory)
		return e->dir_signer;
	ppx_cert_free(e->dir_signer);
	e->dir_signer = NULL;
	e->dir_signer_of = d->directory;
	sd = ppx__v1__signed_directory__unpack(NULL, d->directory->len,
					       d->directory->bytes);
	if (!sd)
		return NULL;
	if (ppx_cert_from_der(&e->dir_signer, sd->signer_certificate.data,
			      sd->signer_certificate.len) != 0)
		log_debug("directory signer certificate: %s",
			  ppx_error_last());
	ppx__v1__signed_directory__free_unpacked(sd, NULL);
	return e->dir_signer;
}

/* Our transport certificate as the file now holds it. */
static const ppx_cert *own_transport(struct ppxd *d, struct expiry *e)
{
	ppx_cert_free(e->transport);
	e->transport = NULL;
	if (ppx_cert_load(&e->transport, d->cfg->transport_cert) != 0)
		log_warnx("expiry watch: %s", ppx_error_last());
	return e->transport;
}

/* Text cut to `cap` when it is longer: paths are long, lines are not. */
static void textf(char *out, size_t cap, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void textf(char *out, size_t cap, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(out, cap, fmt, ap);
	va_end(ap);
}

static void watch(struct watched *w, size_t *n, const ppx_cert *c,
		  const char *partner, const char *advice, const char *role,
		  const char *path)
{
	if (!c || *n >= WATCH_MAX)
		return;
	w[*n].cert = c;
	w[*n].partner = partner;
	w[*n].advice = advice;
	if (partner)
		textf(w[*n].what, sizeof(w[*n].what), "%s's %s certificate",
		      partner, role);
	else if (path)
		textf(w[*n].what, sizeof(w[*n].what), "%s certificate %s",
		      role, path);
	else
		textf(w[*n].what, sizeof(w[*n].what), "%s certificate", role);
	(*n)++;
}

/* A partner's accepted certificates: the directory's list, or without
 * one the trust store's current signing and transport certificates. */
static void watch_partner(struct ppxd *d, struct watched *w, size_t *n,
			  const char *name, time_t now)
{
	const struct ppx_dir_agency *a =
		d->directory ? ppx_directory_agency(d->directory, name) : NULL;
	const char *ask = "ask them to renew it";

	if (!a) {
		watch(w, n, ppx_trust_find_agency(d->trust, name,
						  PPX_ROLE_SIGNING, now),
		      name, ask, "signing", NULL);
		watch(w, n, ppx_trust_find_agency(d->trust, name,
						  PPX_ROLE_TRANSPORT, now),
		      name, ask, "transport", NULL);
		return;
	}
	for (size_t k = 0; k < a->n_signing; k++)
		watch(w, n, a->signing[k], name, ask, "signing", NULL);
	for (size_t k = 0; k < a->n_transport; k++)
		watch(w, n, a->transport[k], name, ask, "transport", NULL);
}

static size_t gather(struct ppxd *d, struct expiry *e, struct watched *w,
		     time_t now)
{
	const char *renew = "renew it (ppx-pki renew, docs/OPERATIONS.md)";
	size_t n = 0;

	watch(w, &n, ppx_signer_cert(d->signer), NULL, renew, "own signing",
	      d->cfg->signing_cert);
	watch(w, &n, own_transport(d, e), NULL, renew, "own transport",
	      d->cfg->transport_cert);
	watch(w, &n, ppx_trust_ca(d->trust), NULL,
	      "plan the federation CA's renewal", "CA", d->cfg->ca);
	watch(w, &n, dir_signer(d, e), NULL,
	      "ask the federation to renew it", "directory signer", NULL);
	for (size_t k = 0; k < d->cfg->n_partners; k++)
		watch_partner(d, w, &n, d->cfg->partners[k].name, now);
	return n;
}

/* ------------------------------------------------------------------ */
/* Warnings                                                            */
/* ------------------------------------------------------------------ */

/* 1 the first time (fp, level) is seen in this run. */
static int first_time(struct expiry *e, const uint8_t *fp, int level)
{
	for (size_t i = 0; i < e->n_warned; i++)
		if (e->warned[i].level == level &&
		    memcmp(e->warned[i].fp, fp, PPX_FINGERPRINT_LEN) == 0)
			return 0;
	if (e->n_warned < WARNED_MAX) {
		memcpy(e->warned[e->n_warned].fp, fp, PPX_FINGERPRINT_LEN);
		e->warned[e->n_warned++].level = level;
	}
	return 1;
}

static void keep(struct expiry *e, const char *text)
{
	if (e->n_warnings >= WARNINGS_MAX)
		return;
	snprintf(e->warnings[e->n_warnings], TEXT_MAX, "%s", text);
	e->wp[e->n_warnings] = e->warnings[e->n_warnings];
	e->n_warnings++;
}

static void judge_cert(struct expiry *e, const struct watched *w,
		       int64_t now)
{
	time_t nb = 0, na = 0;
	uint8_t fp[PPX_FINGERPRINT_LEN];
	char text[TEXT_MAX], day[PPX_DATE_ISO_LEN], serial[80];
	struct log_fields f = {.partner = w->partner, .reason = "expiry"};
	int level;

	ppx_cert_dates(w->cert, &nb, &na);
	level = expiry_level((int64_t)na * 1000, now);
	if (level == 0 || ppx_cert_fingerprint(w->cert, fp) != 0)
		return;
	ppx_date_iso(day, sizeof(day), (int64_t)na * 1000);
	ppx_cert_serial_hex(w->cert, serial, sizeof(serial));
	if (level < 0)
		textf(text, sizeof(text), "%s (serial %s) expired on %s: %s",
			 w->what, serial, day, w->advice);
	else
		textf(text, sizeof(text), "%s (serial %s) expires in %lld "
			 "days, on %s: %s", w->what, serial,
			 (long long)(((int64_t)na * 1000 - now) / EXPIRY_DAY_MS),
			 day, w->advice);
	keep(e, text);
	if (first_time(e, fp, level))
		log_event(level < 0 ? LOG_ERR : LOG_WARNING, &f, "%s", text);
}

static void judge_crl(struct ppxd *d, struct expiry *e, int64_t now)
{
	int64_t next = (int64_t)ppx_trust_crl_next_update(d->trust) * 1000;
	int level = expiry_crl_level(next, now);
	struct log_fields f = {.reason = "expiry"};
	char text[TEXT_MAX], when[PPX_TIME_ISO_LEN];
	int64_t left = next - now;

	if (level == 0)
		return;
	ppx_time_iso(when, sizeof(when), next);
	if (level < 0)
		textf(text, sizeof(text), "CRL %s nextUpdate passed on %s: "
			 "install a new one", d->cfg->crl, when);
	else if (left >= EXPIRY_DAY_MS)
		textf(text, sizeof(text), "CRL %s nextUpdate in %lld days "
			 "(%s): install a new one", d->cfg->crl,
			 (long long)(left / EXPIRY_DAY_MS), when);
	else
		textf(text, sizeof(text), "CRL %s nextUpdate in %lld hours "
			 "(%s): install a new one", d->cfg->crl,
			 (long long)(left / (3600 * 1000)), when);
	keep(e, text);
	if (e->crl_warned_next != next || e->crl_warned_level != level) {
		e->crl_warned_next = next;
		e->crl_warned_level = level;
		if (level > 0)	/* passed: crl_watch (ppxd.c) says it */
			log_event(LOG_WARNING, &f, "%s", text);
	}
}

void expiry_check(struct ppxd *d)
{
	struct expiry *e = d->expiry;
	struct watched *w;
	int64_t now = ppxd_now_ms();
	size_t n;

	if (!e || !(w = calloc(WATCH_MAX, sizeof(*w))))
		return;
	e->checked_ms = now;
	e->trust_seen = d->trust;
	e->dir_seen = d->directory;
	e->signer_seen = d->signer;
	e->crl_gen = ppx_trust_crl_generation(d->trust);
	e->n_warnings = 0;
	n = gather(d, e, w, (time_t)(now / 1000));
	for (size_t i = 0; i < n; i++)
		judge_cert(e, &w[i], now);
	judge_crl(d, e, now);
	free(w);
}

void expiry_tick(struct ppxd *d)
{
	struct expiry *e = d->expiry;
	int64_t now = ppxd_now_ms();

	if (!e)
		return;
	if (now - e->checked_ms >= CHECK_EVERY_MS ||
	    now < e->checked_ms ||	/* the clock was set back */
	    e->trust_seen != (const void *)d->trust ||
	    e->dir_seen != (const void *)d->directory ||
	    e->signer_seen != (const void *)d->signer ||
	    e->crl_gen != ppx_trust_crl_generation(d->trust))
		expiry_check(d);
}

/* ------------------------------------------------------------------ */
/* Status                                                              */
/* ------------------------------------------------------------------ */

static void own_status(struct expiry *e, size_t *n, const char *role,
		       const ppx_cert *c, int64_t now)
{
	Ppx__V1__CertStatus *cs = &e->cs[*n];
	time_t nb = 0, na = 0;

	if (!c || *n >= OWN_MAX)
		return;
	ppx__v1__cert_status__init(cs);
	ppx_cert_dates(c, &nb, &na);
	ppx_cert_serial_hex(c, e->serial[*n], sizeof(e->serial[*n]));
	if (ppx_cert_fingerprint(c, e->fp[*n]) == 0) {
		cs->fingerprint.data = e->fp[*n];
		cs->fingerprint.len = PPX_FINGERPRINT_LEN;
	}
	cs->role = (char *)role;
	cs->serial = e->serial[*n];
	cs->not_before_ms = (int64_t)nb * 1000;
	cs->not_after_ms = (int64_t)na * 1000;
	cs->warn_days = expiry_level(cs->not_after_ms, now);
	cs->in_use = 1;
	e->csp[*n] = cs;
	(*n)++;
}

void expiry_status(struct ppxd *d, Ppx__V1__StatusReply *sr)
{
	struct expiry *e = d->expiry;
	int64_t now = ppxd_now_ms();
	size_t n = 0;

	if (!e)
		return;
	expiry_tick(d);		/* the warnings at most an hour old */
	own_status(e, &n, "signing", ppx_signer_cert(d->signer), now);
	own_status(e, &n, "transport", e->transport, now);
	own_status(e, &n, "ca", ppx_trust_ca(d->trust), now);
	own_status(e, &n, "directory", dir_signer(d, e), now);
	sr->certificates = e->csp;
	sr->n_certificates = n;
	sr->crl_next_update_ms =
		(int64_t)ppx_trust_crl_next_update(d->trust) * 1000;
	sr->warnings = e->wp;
	sr->n_warnings = e->n_warnings;
	for (size_t i = 0; i < sr->n_partners; i++)
		for (size_t k = 0; k < sr->partners[i]->n_certificates; k++) {
			Ppx__V1__CertStatus *cs =
				sr->partners[i]->certificates[k];

			cs->warn_days = expiry_level(cs->not_after_ms, now);
		}
}
