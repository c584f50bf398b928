/*
 * federation_crl.c — the CRL over the links (PROTOCOL.md 13.5): a newer
 * CRL a partner passes on (Frame{crl}) is put in force, held in
 * LOG_DIR/crl.der, logged as ENTRY_KEY_CHANGE (cause "partner AGENCY",
 * change_state.c's CRL summary) and every session cut so partners are
 * judged again, as a reload of the CRL file does; the CRL in force,
 * however it came (the file, a partner, the held copy at start), is
 * passed on to every link that is up when it changes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "changes.h"
#include "federation_int.h"
#include "log.h"
#include "outbox.h"
#include "ppx/envelope.h"
#include "ppx/error.h"
#include "state.h"
#include "transport.h"

#define CRL_MAX (PPX_FRAME_MAX)	/* a CRL keeps the frame limit */

/* The CRL in force now: if it is not the one last seen, note where it
 * came from (`source`; NULL: the configured file) and pass it on. */
void fed_crl_check(struct ppxd *d, const char *source)
{
	struct federation *f = d->federation;
	uint8_t *der = NULL, sha[32];
	size_t n = 0;
	int first = !f->has_crl;

	if (ppx_trust_crl_der(d->trust, &der, &n) != 0)
		return;
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

/* Log the CRL now in force from `source` (ENTRY_KEY_CHANGE, the CRL
 * summary of change_state.c) and judge every partner again, as a reload
 * of the CRL file does. */
static void crl_in_force(struct ppxd *d, const char *source)
{
	struct changes_report r = {0};

	if (changes_note(d, "crl", d->federation->crl_path, source, "",
			 &r) != 0)
		log_warnx("CRL from %s: change not logged: %s", source,
			  ppx_error_last());
	changes_report_clear(&r);
	log_info("took the CRL number %llu from %s; cutting sessions so "
		 "partners are judged again",
		 (unsigned long long)ppx_trust_crl_number(d->trust), source);
	if (transport_cut_sessions(d->transport) != 0)
		log_warnx("%s", ppx_error_last());
	for (size_t i = 0; i < transport_links(d->transport); i++)
		outbox_link_event(d, i, LINK_DOWN);
}

/* A CRL from `source`: taken if newer than the one in force, held in
 * LOG_DIR/crl.der, logged, passed on; not newer: dropped quietly. */
void fed_take_crl(struct ppxd *d, const char *source, const char *agency,
		  const uint8_t *der, size_t len)
{
	struct federation *f = d->federation;
	int rc = len > CRL_MAX ? ppx_error_set(PPX_ETOOBIG, "%zu bytes",
					       len)
			       : ppx_trust_crl_newer(d->trust, der, len);

	if (rc == 0)
		return;
	if (rc == 1)
		rc = ppx_trust_reload_crl_der(d->trust, der, len);
	if (rc != 0) {
		ppx_error_set(PPX_EBADDIR, "%s", ppx_error_last());
		fed_refuse(d, source, agency, der, len, PPX_EBADDIR, "CRL");
		return;
	}
	if (ppx_file_write_atomic(f->crl_path, der, len, 0600) != 0)
		log_warnx("the CRL from %s is in force but not held for the "
			  "next start: %s", source, ppx_error_last());
	crl_in_force(d, source);
	fed_crl_check(d, source);
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
