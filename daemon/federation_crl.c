/*
 * federation_crl.c — the CRL over the links (PROTOCOL.md 13.5): a newer
 * CRL a partner passes on (Frame{crl}) is judged, logged as
 * ENTRY_KEY_CHANGE (cause "partner AGENCY", change_state.c's CRL summary
 * of the held file LOG_DIR/crl.der), and only after the commit put in
 * force, with every session cut so partners are judged again, as a
 * reload of the CRL file does; the CRL in force, however it came (the
 * file, a partner, the held copy at start), is passed on to every link
 * that is up when it changes.
 *
 * The held file is written before the commit, because the entry is the
 * summary of that file (changes.c reads what it logs); a commit that
 * fails puts the file back as it was, so nothing is in force or held
 * that the log does not say.  A crash between the two leaves a held CRL
 * the log does not have: at start it is taken and logged (cause
 * "start") before anything is judged under it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "changes.h"
#include "federation_int.h"
#include "log.h"
#include "outbox.h"
#include "ppx/envelope.h"
#include "ppx/error.h"
#include "state.h"
#include "transport.h"
#include "writer.h"

#define CRL_MAX (PPX_FRAME_MAX)	/* a CRL keeps the frame limit */

/* The CRL in force now: if it is not the one last seen, note where it
 * came from (`source`; NULL: the configured file) and pass it on.  It is
 * encoded and hashed only when the trust store has put another in force
 * (every second would cost a CRL of megabytes each time). */
void fed_crl_check(struct ppxd *d, const char *source)
{
	struct federation *f = d->federation;
	unsigned generation = ppx_trust_crl_generation(d->trust);
	uint8_t *der = NULL, sha[32];
	size_t n = 0;
	int first = !f->has_crl;

	if (f->crl_trust == d->trust && f->crl_generation == generation)
		return;
	if (ppx_trust_crl_der(d->trust, &der, &n) != 0)
		return;
	f->crl_trust = d->trust;
	f->crl_generation = generation;
	ppx_sha256(sha, der, n);
	free(der);
	if (f->has_crl && memcmp(sha, f->crl_sha, 32) == 0)
		return;
	if (source)
		snprintf(f->crl_source, sizeof(f->crl_source), "%s", source);
	else
		snprintf(f->crl_source, sizeof(f->crl_source), "file %s",
			 d->cfg->crl);
	memcpy(f->crl_sha, sha, 32);
	f->has_crl = 1;
	if (!first)
		fed_forward(d, OWE_CRL, NULL);
}

/* A CRL from a partner, logged in this iteration, put in force after the
 * commit. */
struct crl_taking {
	uint8_t *der;
	size_t len;
	uint8_t *was;		/* the held file before, NULL: none */
	size_t was_len;
	char source[FED_SOURCE_MAX];
};

static void crl_taking_free(struct crl_taking *t)
{
	free(t->der);
	free(t->was);
	free(t);
}

/* The held file as it was before `t` was logged; 0 or the error. */
static int crl_unhold(struct ppxd *d, const struct crl_taking *t)
{
	const char *path = d->federation->crl_path;

	if (t->was)
		return ppx_file_write_atomic(path, t->was, t->was_len, 0600);
	return unlink(path) == 0 ? 0 : ppx_error_set(PPX_EIO, "cannot "
						     "remove %s", path);
}

/* The commit failed: nothing in force or held that the log does not
 * say, and the CRL judged again when a partner sends it again. */
static void crl_not_taken(struct ppxd *d, const struct crl_taking *t)
{
	struct fed_peer *p = fed_peer(d->federation, t->source);

	log_warnx("CRL from %s not taken: the log commit failed", t->source);
	if (crl_unhold(d, t) != 0)
		log_warnx("the held CRL %s could not be put back (%s): it "
			  "will be taken and logged at the next start",
			  d->federation->crl_path, ppx_error_last());
	if (p)
		p->has_crl = 0;
}

/* Logged, but another CRL taken in the same iteration was newer: the
 * held file is made the CRL in force again. */
static void crl_superseded(struct ppxd *d, const struct crl_taking *t)
{
	uint8_t *der = NULL;
	size_t n = 0;

	log_info("CRL from %s logged but not put in force: %s", t->source,
		 ppx_error_last());
	if (ppx_trust_crl_der(d->trust, &der, &n) != 0 ||
	    ppx_file_write_atomic(d->federation->crl_path, der, n, 0600) != 0)
		log_warnx("the held CRL %s is not the one in force: %s",
			  d->federation->crl_path, ppx_error_last());
	free(der);
}

/* Every partner judged again under the CRL just put in force, as a
 * reload of the CRL file does, and the CRL passed on. */
static void crl_in_force(struct ppxd *d, const char *source)
{
	log_info("took the CRL number %llu from %s; cutting sessions so "
		 "partners are judged again",
		 (unsigned long long)ppx_trust_crl_number(d->trust), source);
	if (transport_cut_sessions(d->transport) != 0)
		log_warnx("%s", ppx_error_last());
	for (size_t i = 0; i < transport_links(d->transport); i++)
		outbox_link_event(d, i, LINK_DOWN);
	fed_crl_check(d, source);
}

/* After the commit: in force, every partner judged again, passed on. */
static void crl_taken(struct ppxd *d, void *arg, int rc)
{
	struct crl_taking *t = arg;

	if (rc != 0)
		crl_not_taken(d, t);
	else if (ppx_trust_reload_crl_der(d->trust, t->der, t->len) != 0)
		crl_superseded(d, t);
	else
		crl_in_force(d, t->source);
	crl_taking_free(t);
}

/* Hold `t->der` in LOG_DIR/crl.der and log it (ENTRY_KEY_CHANGE, the CRL
 * summary of change_state.c), keeping what was held in `t`. */
static int crl_log(struct ppxd *d, struct crl_taking *t)
{
	struct federation *f = d->federation;
	struct changes_report r = {0};
	int rc = ppx_file_read(&t->was, &t->was_len, f->crl_path, CRL_MAX);

	if (rc == PPX_ENOTFOUND)
		rc = 0;
	if (rc == 0)
		rc = ppx_file_write_atomic(f->crl_path, t->der, t->len, 0600);
	if (rc != 0)
		return rc;
	rc = changes_note(d, "crl", f->crl_path, t->source, "", &r);
	changes_report_clear(&r);
	if (rc != 0)
		crl_unhold(d, t);
	return rc;
}

/* A CRL from `source`: if newer than the one in force, held and logged,
 * and after the commit put in force and passed on; not newer: dropped
 * quietly; one that does not verify: refused. */
void fed_take_crl(struct ppxd *d, const char *source, const char *agency,
		  const uint8_t *der, size_t len)
{
	struct crl_taking *t;
	int rc = len > CRL_MAX ? ppx_error_set(PPX_ETOOBIG, "%zu bytes",
					       len)
			       : ppx_trust_crl_newer(d->trust, der, len);

	if (rc == 0)
		return;
	if (rc != 1) {
		/* Logged with REJECT_BAD_DIRECTORY, as PROTOCOL.md 13.5
		 * says: the reason for a bad document of the federation. */
		ppx_error_set(PPX_EBADDIR, "%s", ppx_error_last());
		fed_refuse(d, source, agency, der, len, PPX_EBADDIR, "CRL");
		return;
	}
	t = calloc(1, sizeof(*t));
	if (!t || !(t->der = malloc(len))) {
		log_warnx("CRL from %s not taken: out of memory", source);
		free(t);
		return;
	}
	memcpy(t->der, der, len);
	t->len = len;
	snprintf(t->source, sizeof(t->source), "%s", source);
	if ((rc = crl_log(d, t)) == 0 &&
	    (rc = writer_after(d, crl_taken, t)) != 0)
		crl_unhold(d, t);
	if (rc == 0)
		return;
	log_warnx("CRL from %s not taken: %s", source, ppx_error_last());
	crl_taking_free(t);
}

void fed_crl_open(struct ppxd *d)
{
	struct federation *f = d->federation;
	struct changes_report r = {0};
	uint8_t *der = NULL;
	size_t len = 0;
	int rc = ppx_file_read(&der, &len, f->crl_path, CRL_MAX);

	if (rc == 0 && (rc = ppx_trust_crl_newer(d->trust, der, len)) == 1 &&
	    (rc = ppx_trust_reload_crl_der(d->trust, der, len)) == 0) {
		char source[FED_SOURCE_MAX];

		snprintf(source, sizeof(source), "held %s", f->crl_path);
		if (changes_note(d, "crl", f->crl_path, "start", "", &r) != 0)
			log_warnx("held CRL: change not logged: %s",
				  ppx_error_last());
		log_info("took the held CRL %s, newer than %s", f->crl_path,
			 d->cfg->crl);
		fed_crl_check(d, source);
	} else if (rc < 0 && rc != PPX_ENOTFOUND) {
		log_warnx("held CRL %s not taken: %s", f->crl_path,
			  ppx_error_last());
	}
	changes_report_clear(&r);
	free(der);
	fed_crl_check(d, NULL);
}

int federation_crl_newer_than_file(struct ppxd *d)
{
	const struct federation *f = d->federation;

	return f && f->has_crl && strncmp(f->crl_source, "file ", 5) != 0 &&
	       strstr(ppx_error_last(), " is older ") != NULL;
}
