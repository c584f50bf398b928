/*
 * directory.h — the signed federation directory (PROTOCOL.md 13).
 *
 * One document lists every agency of the federation: its name, type,
 * endpoints, signing and transport certificates and status, and the
 * federation-wide policy baseline; with a serial number and a validity
 * period; signed by a directory key that the federation CA certifies for
 * that role only (OU=directory).  ppxd takes a directory only if it
 * verifies, is current, and is newer than the one it holds.
 *
 * ppx_directory_parse() is the one place a directory's bytes are judged,
 * for ppxd (from the file drop, from a partner, from its held copy) and
 * for ppx directory: every later use relies on what it checked.
 */
#ifndef PPX_DIRECTORY_H
#define PPX_DIRECTORY_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "ppx/pki.h"

#define PPX_DIRECTORY_MAX_BYTES (8u * 1024 * 1024)	/* SignedDirectory */
#define PPX_DIRECTORY_MAX_AGENCIES 4096
#define PPX_DIRECTORY_MAX_ENDPOINTS 4	/* per agency */
#define PPX_DIRECTORY_MAX_CERTS 4	/* per agency and role */
#define PPX_DIRECTORY_TYPE_MAX 32	/* bytes, with the NUL */
#define PPX_DIRECTORY_FEDERATION_MAX 64	/* bytes, with the NUL */
#define PPX_DIRECTORY_BASELINE_MAX (256u * 1024)	/* baseline_policy */

/* Values of AgencyStatus (ppx.proto). */
enum ppx_agency_status {
	PPX_AGENCY_ACTIVE = 1,
	PPX_AGENCY_SUSPENDED = 2,
	PPX_AGENCY_LEAVING = 3,
};

struct ppx_dir_agency {
	char name[PPX_NAME_MAX];
	char type[PPX_DIRECTORY_TYPE_MAX];	/* one of ppx_directory_types */
	char display_name[PPX_NAME_MAX];
	int duty_to_cooperate;	/* type is not police, probation or prison */
	int status;		/* enum ppx_agency_status */
	char endpoints[PPX_DIRECTORY_MAX_ENDPOINTS][256];
	size_t n_endpoints;	/* at least 1 */
	/* Owned.  Each has the role, names this agency as O, and chains to
	 * the CA (judged without time: dates and the CRL are judged when a
	 * certificate is used, by ppx_trust_check at that time). */
	ppx_cert *signing[PPX_DIRECTORY_MAX_CERTS];
	uint8_t signing_fp[PPX_DIRECTORY_MAX_CERTS][PPX_FINGERPRINT_LEN];
	size_t n_signing;	/* at least 1 */
	ppx_cert *transport[PPX_DIRECTORY_MAX_CERTS];
	uint8_t transport_fp[PPX_DIRECTORY_MAX_CERTS][PPX_FINGERPRINT_LEN];
	size_t n_transport;	/* at least 1 */
};

struct ppx_directory {
	char federation[PPX_DIRECTORY_FEDERATION_MAX];
	uint64_t serial;
	int64_t issued_ms, not_before_ms, not_after_ms;
	struct ppx_dir_agency *agencies;	/* in the document's order */
	size_t n_agencies;
	char *baseline_policy;	/* NUL-terminated; "" if none */
	char signer[256];	/* the directory certificate's subject */
	uint8_t signer_fp[PPX_FINGERPRINT_LEN];
	uint8_t *bytes;		/* the SignedDirectory exactly as given */
	size_t len;
	uint8_t sha256[32];	/* of bytes */
};

/* The agency types a directory may give, NULL-terminated: "police",
 * "probation", "prison", then the duty-to-co-operate types. */
extern const char *const ppx_directory_types[];

/*
 * Judge the SignedDirectory in `bytes` at time `now` (0: judge the
 * signature, the certificates' chains and the content only, not the
 * dates or the CRL, as for a directory in an old log).  On success *out
 * is new (ppx_directory_free).  Codes:
 *   PPX_EBADDIR  does not decode, fields the schema does not name, a
 *                signer certificate that is not a current directory
 *                certificate of the CA (ppx_trust_check at now, role
 *                PPX_ROLE_DIRECTORY), a signature that does not verify,
 *                content that breaks a rule of PROTOCOL.md 13.2 (names,
 *                types, endpoints, certificates, status, duplicates,
 *                limits), or `now` outside not_before_ms..not_after_ms;
 *   PPX_ENOMEM.
 * ppx_error_last() names the first rule broken, e.g. "directory serial 7:
 * agency housing.newport: transport certificate 1 names police.gwent".
 */
int ppx_directory_parse(struct ppx_directory **out, const uint8_t *bytes,
			size_t len, const ppx_trust *trust, time_t now);

/*
 * ppx_directory_parse for a directory offered to replace `held` (NULL:
 * none; then the same): one of the same federation whose serial is not
 * higher is refused with PPX_ESTALE as soon as its signature and header
 * are judged, before its agencies, so that replaying old directories
 * costs one signature check and not one per certificate; and a
 * certificate `held` lists for the same agency in the same role is not
 * verified against the CA again (the same bytes, the same CA: the same
 * verdict without time).  Every other rule is judged as by
 * ppx_directory_parse.
 */
int ppx_directory_parse_next(struct ppx_directory **out, const uint8_t *bytes,
			     size_t len, const ppx_trust *trust, time_t now,
			     const struct ppx_directory *held);

void ppx_directory_free(struct ppx_directory *self);

/*
 * Whether `offered` may replace `held` (NULL: none held): 0 if it is
 * newer (a higher serial of the same federation); PPX_EDUP if it is the
 * same bytes; PPX_ESTALE if its serial is lower, or equal with other
 * bytes; PPX_EBADDIR if it names another federation.  The detail says
 * which, with both serials.
 */
int ppx_directory_supersedes(const struct ppx_directory *held,
			     const struct ppx_directory *offered);

/* The agency named `name`, or NULL. */
const struct ppx_dir_agency *ppx_directory_agency(
	const struct ppx_directory *self, const char *name);

/* 1 if `agency` is listed with a certificate of `role` (SIGNING or
 * TRANSPORT) with this fingerprint, else 0. */
int ppx_directory_lists_cert(const struct ppx_directory *self,
			     const char *agency, enum ppx_cert_role role,
			     const uint8_t fp[PPX_FINGERPRINT_LEN]);

/*
 * What changed from `old` (NULL: none) to `new`, readable, one change per
 * line into `out` (cut at `cap`, always NUL-terminated), e.g.
 *   "serial 3 -> 4"
 *   "added police.dyfed (police, active, tcp://10.0.0.4:7104)"
 *   "housing.newport: active -> suspended"
 *   "probation.gwent: endpoint tcp://a:1 -> tcp://b:2"
 *   "police.gwent: signing certificate added 3fa2...(first 8 bytes hex)"
 *   "police.gwent: transport certificate removed 91c0..."
 *   "removed prison.cardiff"
 *   "baseline policy changed"
 * Returns the number of changes.
 */
size_t ppx_directory_changes(const struct ppx_directory *old,
			     const struct ppx_directory *new, char *out,
			     size_t cap);

/* The status as the word PROTOCOL.md uses: "active", "suspended",
 * "leaving", or "?" */
const char *ppx_agency_status_name(int status);

/*
 * Sign a serialized Directory (`dir`, `dir_len` bytes) with `signer` (a
 * directory certificate's key): a SignedDirectory in *out (*len bytes,
 * the caller frees it).  The directory's bytes are not re-encoded.
 */
int ppx_directory_sign(uint8_t **out, size_t *len, const uint8_t *dir,
		       size_t dir_len, ppx_signer *signer);

#endif
