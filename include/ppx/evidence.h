/*
 * evidence.h — evidence bundles: one message (or one log entry) with
 * everything a third party needs to check, offline, that it was sent,
 * received and recorded, by whom and when (docs/EVIDENCE.md).
 *
 * A bundle is an EvidenceBundle (proto/ppx.proto): the message frame as
 * sent or received, every receipt about it, and per log end a LogProof:
 * the log entry, its inclusion proof in a signed checkpoint of that log
 * and the witnesses' cosignatures of it; then the certificates those
 * signatures need, the CRL and the CA certificate.  `ppx prove` makes one
 * from a log (lib/evidence_build.c); `ppx verify --bundle` checks one
 * against a CA the verifier trusts (lib/evidence.c), with no log and no
 * daemon.  The checks are those of docs/EVIDENCE.md, in its order, so
 * that the first one that fails is the one named.
 */
#ifndef PPX_EVIDENCE_H
#define PPX_EVIDENCE_H

#include <stddef.h>
#include <stdint.h>

#include "ppx/logstore.h"
#include "ppx/pki.h"

#define PPX_EVIDENCE_VERSION 1
#define PPX_EVIDENCE_MAX (64u * 1024 * 1024)	/* bytes of one bundle */

/* What ppx_evidence_verify() found. */
typedef struct ppx_evidence_report {
	int ok;			/* 1: every check held */
	int code;		/* when !ok: a ppx_error code */
	char reason[512];	/* when !ok: the first check that fails */
	char *text;		/* what the bundle proves (or what held before
				 * the failure), one statement a line */
	size_t text_len, text_cap;
} ppx_evidence_report;

/*
 * Check the bundle `bundle` of `len` bytes.  `ca_der` is the verifier's
 * own trust anchor (DER); NULL takes the bundle's CA certificate, which
 * proves nothing by itself and is said so in the text.  Returns 0 when
 * the checks ran (the verdict is in `out`), or PPX_ENOMEM.  Free the text
 * with ppx_evidence_report_clear().
 */
int ppx_evidence_verify(ppx_evidence_report *out, const uint8_t *bundle,
			size_t len, const uint8_t *ca_der, size_t ca_len);
void ppx_evidence_report_clear(ppx_evidence_report *r);

/* The certificate in `path` (PEM or DER) as DER, for ppx_evidence_verify();
 * *out is malloc'd.  PPX_EIO, PPX_EINVAL. */
int ppx_evidence_read_ca(uint8_t **out, size_t *len, const char *path);

/* Where `ppx prove` finds the certificates, the CRL and the CA. */
struct ppx_evidence_pki {
	const ppx_trust *trust;	/* the known certificates */
	const char *ca_file;	/* PEM */
	const char *crl_file;	/* PEM */
};

/*
 * The bundle of one message in `log`: sent by us (`sender` NULL) or
 * received from `sender`, by its 16-byte id.  *out is malloc'd.
 * PPX_ENOTFOUND when the log holds no such message, or no signed
 * checkpoint covers its entry yet (the detail says what to wait for).
 */
int ppx_evidence_prove_message(uint8_t **out, size_t *len, ppx_log *log,
			       const struct ppx_evidence_pki *pki,
			       const char *sender, const uint8_t *id);

/* The bundle of entry `seq` of `log` (a refusal, an acknowledgement...). */
int ppx_evidence_prove_entry(uint8_t **out, size_t *len, ppx_log *log,
			     const struct ppx_evidence_pki *pki, uint64_t seq);

/*
 * The C2SP cosignature/v1 message a witness signs for the checkpoint of
 * `agency` (origin "AGENCY/ppx-log"), `tree_size`, `root`, at `timestamp`
 * (POSIX seconds; PROTOCOL.md 11.1, made by ppx/note.h),
 * written into `out` (NUL-terminated); its length, or PPX_ERANGE if `cap`
 * is too small, PPX_EINVAL for a name that cannot be an origin.
 */
int ppx_evidence_cosigned_text(char *out, size_t cap, const char *agency,
			       uint64_t tree_size, const uint8_t *root,
			       uint64_t timestamp);

#endif
