/*
 * partners.h — the partners as the directory in force makes them
 * (PROTOCOL.md 13.4).
 *
 * Without a directory the partners are the [partner] sections, as
 * before.  With one, a partner is an agency the directory lists (not us)
 * that [federation] partners allows; a [partner] section of the same name
 * only narrows how we deal with it (duty_to_cooperate, proofs, witness).
 * Partners are never taken out of d->cfg->partners: one that leaves the
 * directory, is suspended or not allowed keeps its index, its link
 * (disabled), its outbox lane (kept, not sent) and its budget and
 * witnessing state, so that nothing queued is lost and it resumes where
 * it stopped when it is active again.
 */
#ifndef PPXD_PARTNERS_H
#define PPXD_PARTNERS_H

#include <stdint.h>

#include "ppx/directory.h"
#include "ppx.pb-c.h"
#include "state.h"

/*
 * Put `dir` in force for the partners (d->directory is already `dir`):
 * add every newly listed allowed agency (config, transport link, outbox
 * lane, budget, witness), set each partner's standing, endpoint and the
 * certificates it is accepted with, add the listed certificates to the
 * trust store, and cut the live sessions of every partner now cut off or
 * of which a certificate is no longer listed.  0, or a code (then what
 * could be applied is; the rest is retried on the next directory):
 * PPX_ERANGE when agencies are left out because the daemon has
 * PPX_CONFIG_MAX_PARTNERS partners, or certificates because the trust
 * store is full, each said as a warning.
 */
int partners_apply(struct ppxd *d, const struct ppx_directory *dir);

/*
 * May `agency` use the certificate with fingerprint `fp` in `role` now?
 * 0 if no directory is in force (the trust store alone judges it), or
 * the directory lists it for that agency and the agency's standing lets
 * the use: PARTNERS_USE_SESSION (a transport handshake: active or
 * leaving), PARTNERS_USE_MESSAGE (a message from it: active),
 * PARTNERS_USE_RECEIPT (a receipt, cosignature or witness request from
 * it: active or leaving).  PPX_ENOTLISTED otherwise, with the detail
 * ("housing.newport is suspended in directory serial 5").
 */
enum partners_use {
	PARTNERS_USE_SESSION = 1,
	PARTNERS_USE_MESSAGE,
	PARTNERS_USE_RECEIPT,
};
int partners_cert_allowed(struct ppxd *d, const char *agency,
			  enum ppx_cert_role role,
			  const uint8_t fp[PPX_FINGERPRINT_LEN],
			  enum partners_use use);

/*
 * The certificate a connecting CURVE `key` authenticates with: of the
 * known transport certificates holding it, the first that passes
 * ppx_trust_check() now and partners_cert_allowed() for a session (with
 * a directory: listed for its agency), its identity into id.  0; else
 * the refusal of the first candidate, `who` naming it (its subject if
 * the CA refuses it, its agency if the directory does), or
 * PPX_EUNKNOWN_SIGNER (no certificate holds the key, `who` untouched).
 */
int partners_transport_cert(struct ppxd *d, const uint8_t key[32],
			    ppx_identity *id, char *who, size_t cap);

/* May `agency` hold a session, and be heard on it (a directory or CRL
 * it passes on)?  0 without a directory, or active or leaving; else
 * PPX_ENOTLISTED with the detail.  Checked per frame: a session of an
 * agency cut off may still deliver frames queued before the cut. */
int partners_session_allowed(struct ppxd *d, const char *agency);

/* May a new message be addressed to `agency`?  0 (active, or suspended:
 * it is held until reinstated), or PPX_ENOTLISTED (leaving, removed, not
 * allowed) with the detail. */
int partners_may_send(struct ppxd *d, const char *agency);

/* Fill PartnerStatus standing, endpoint, type and certificates for the
 * partner at index i.  What it points to is the daemon's, valid until
 * the next call for that partner or the next directory. */
int partners_status(struct ppxd *d, size_t i, Ppx__V1__PartnerStatus *ps);

/* partners_cert_allowed for the signer of the envelope a frame carries
 * (message, receipt or checkpoint), `agency`'s signing certificate: 0
 * without a directory; PPX_EFRAME if it names none. */
int partners_frame_allowed(struct ppxd *d, const char *agency,
			   const uint8_t *data, size_t len,
			   enum partners_use use);

/*
 * The CURVE server key link `agency` pins, into key: without a
 * directory (or for an agency it does not list) a valid transport
 * certificate of the agency from the trust store, as before; with one,
 * the listed transport certificates that pass ppx_trust_check now, in
 * the directory's order, number `attempt` modulo their count (the next
 * one after a failed handshake: rotation).  How many there are (> 0), or
 * PPX_ENOTFOUND with the detail.
 */
int partners_server_key(struct ppxd *d, const char *agency, unsigned attempt,
			uint8_t key[32]);

/*
 * The endpoint link `agency` connects to at try `attempt`: the
 * directory's endpoints for it in turn (the first preferred), number
 * `attempt` modulo their count, into out.  How many there are, or 0
 * (no directory, or it does not list the agency: the link's own).
 */
int partners_endpoint(struct ppxd *d, const char *agency, unsigned attempt,
		      char *out, size_t size);

/* Free what partners_apply() kept (d->partners); accepts none. */
void partners_free(struct ppxd *d);

#endif
