/*
 * evidence_int.h — what the parts of the evidence verifier share
 * (lib/evidence.c: the bundle, certificates, message and receipts;
 * lib/evidence_log.c: the log proofs).  Internal to libppx.
 */
#ifndef PPX_EVIDENCE_INT_H
#define PPX_EVIDENCE_INT_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/x509.h>

#include "ppx/envelope.h"
#include "ppx/evidence.h"
#include "ppx/pki.h"
#include "ppx.pb-c.h"

/* One certificate of the bundle, and whether a check used it. */
struct ev_cert {
	ppx_cert *cert;
	uint8_t fp[PPX_FINGERPRINT_LEN];
	int used;
};

struct ev {
	ppx_evidence_report *r;
	const uint8_t *raw;
	size_t raw_len;
	Ppx__V1__EvidenceBundle *b;
	X509 *ca;
	X509_CRL *crl;
	struct ev_cert *certs;
	size_t n_certs;
	/* the message, for a message bundle */
	Ppx__V1__Frame *frame;
	Ppx__V1__Body *body;
	uint8_t body_hash[PPX_HASH_LEN];
	/* the receipts, decoded */
	Ppx__V1__Frame **rframes;
	Ppx__V1__ReceiptBody **rbodies;
	size_t n_receipts;
};

/* A line of what the bundle proves. */
void ppxi_ev_say(struct ev *ev, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Record the first failure; returns `code` so callers can return it. */
int ppxi_ev_fail(struct ev *ev, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* "2026-12-06T00:19:52.381Z" */
void ppxi_ev_when(char *out, size_t cap, int64_t ms);
const char *ppxi_ev_enum_name(const ProtobufCEnumDescriptor *d, int v);

/* The bundle's certificate with fingerprint `fp`, marked used; NULL after
 * recording the failure. */
const ppx_cert *ppxi_ev_cert_find(struct ev *ev, const char *what,
				  const ProtobufCBinaryData *fp);
/* `sig` over `msg` by `cert` with `alg`, and the certificate checks for
 * `role`, `agency` (NULL: any) at time `ms` (EVIDENCE.md 3). */
int ppxi_ev_signature(struct ev *ev, const char *what, const ppx_cert *cert,
		      int alg, const uint8_t *msg, size_t len,
		      const ProtobufCBinaryData *sig, enum ppx_cert_role role,
		      const char *agency, int64_t ms, ppx_identity *id);
/* An Envelope of `purpose` signed by a signing certificate of `agency`. */
int ppxi_ev_envelope(struct ev *ev, const char *what,
		     const Ppx__V1__Envelope *env, int purpose,
		     const char *agency, int64_t ms, ppx_identity *id);
/* The item of receipt `rb` naming the message, or NULL. */
const Ppx__V1__ReceiptItem *ppxi_ev_item_of(const struct ev *ev,
					    const Ppx__V1__ReceiptBody *rb);
int ppxi_ev_is_recipient(const Ppx__V1__Body *body, const char *agency);

/* The short names the verifier's files use. */
#define say ppxi_ev_say
#define fail ppxi_ev_fail
#define when ppxi_ev_when
#define enum_name ppxi_ev_enum_name

/* Log proof `k` of the bundle (EVIDENCE.md 3, step 7). */
int ppxi_ev_log_check(struct ev *ev, size_t k);

#endif
