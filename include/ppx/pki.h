/*
 * pki.h — certificates, the federation trust anchor, CRLs and private keys.
 *
 * Naming in certificates (made by certs/ppx-pki):
 *   agency signing cert   O=<agency>, OU=signing,   CN=<agency>   (Ed25519 or P-256)
 *   agency transport cert O=<agency>, OU=transport, CN=<agency>   (X25519, the CURVE key)
 *   person cert           O=<agency>, OU=person,    CN=<person name>
 *   directory cert        O=<federation>, OU=directory, CN=<federation> directory
 *                         (Ed25519; signs federation directories only,
 *                         PROTOCOL.md 13)
 *   CA                    OU=ca
 * The agency a certificate speaks for is its O attribute; the role is OU and
 * is checked, so that no certificate can stand in for another role.
 *
 * This module is the only one that touches private keys (ppx_signer and
 * ppx_transport_key); key files must be mode 0600 or they are refused, and
 * key material is wiped when freed.
 */
#ifndef PPX_PKI_H
#define PPX_PKI_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define PPX_FINGERPRINT_LEN 32
#define PPX_NAME_MAX 128	/* agency and person names, bytes incl. NUL */

enum ppx_cert_role {
	PPX_ROLE_SIGNING = 1,
	PPX_ROLE_TRANSPORT = 2,
	PPX_ROLE_PERSON = 3,
	PPX_ROLE_DIRECTORY = 4,
};

/*
 * A certificate (X.509, read from PEM).  Opaque: programs using libppx
 * judge it with ppx_trust_check() and read it with the ppx_cert_*
 * functions, and need no OpenSSL headers to do so.
 */
typedef struct ppx_cert ppx_cert;

/* Who a certificate speaks for, filled in by ppx_trust_check(). */
typedef struct ppx_identity {
	char agency[PPX_NAME_MAX];
	char name[PPX_NAME_MAX];
	enum ppx_cert_role role;
	uint8_t fingerprint[PPX_FINGERPRINT_LEN];
} ppx_identity;

/*
 * The trust store: the federation CA, its CRL (required: a store without a
 * current CRL refuses every certificate with PPX_ECRL) and the partner
 * certificates known by fingerprint.
 */
typedef struct ppx_trust ppx_trust;

/*
 * Load the CA certificate and CRL (PEM).  `certs_dir` may be NULL; otherwise
 * every *.pem / *.crt file in it is added as a known certificate.
 */
int ppx_trust_load(ppx_trust **out, const char *ca_file, const char *crl_file,
		   const char *certs_dir);
void ppx_trust_free(ppx_trust *self);

/*
 * Replace the CRL (on SIGHUP).  On failure the old CRL stays in force.
 * Refused with PPX_ECRL, here and by ppx_trust_load(): a CRL not signed by
 * the CA, one without nextUpdate, one older than the CRL in force (by
 * crlNumber when both have one, else by thisUpdate), and one of the same
 * rank that differs from it and does not list every certificate it lists.
 */
int ppx_trust_reload_crl(ppx_trust *self, const char *crl_file);

/* The nextUpdate of the CRL in force (Unix time; 0 if no CRL is held). */
time_t ppx_trust_crl_next_update(const ppx_trust *self);

/*
 * Replace the CRL with one given as DER bytes (a CRL a partner passed on,
 * PROTOCOL.md 13.5), under the same rules as ppx_trust_reload_crl(); in
 * particular PPX_ECRL for one not newer than the CRL in force (the
 * detail says "not newer" so that callers can tell an old CRL from a bad
 * one: ppx_trust_crl_newer() answers that first).
 */
int ppx_trust_reload_crl_der(ppx_trust *self, const uint8_t *der, size_t len);

/* 1 if the DER CRL is signed by the CA and newer than the CRL in force
 * (by crlNumber, else thisUpdate), so that ppx_trust_reload_crl_der()
 * takes it; 0 if it is not newer, or a negative code (PPX_ECRL: does not
 * decode or verify, or is newer but refused, e.g. no nextUpdate). */
int ppx_trust_crl_newer(const ppx_trust *self, const uint8_t *der,
			size_t len);

/* The CRL in force as DER (*out, *len bytes; the caller frees it), and
 * its crlNumber (0 if it has none).  PPX_ENOTFOUND if none is held. */
int ppx_trust_crl_der(const ppx_trust *self, uint8_t **out, size_t *len);
uint64_t ppx_trust_crl_number(const ppx_trust *self);

/* A number that changes whenever a CRL is put in force (never 0 once
 * one is): what a caller caching anything about the CRL compares. */
unsigned ppx_trust_crl_generation(const ppx_trust *self);

/* Add `cert` (a copy) as a known certificate; a certificate already known
 * is not added twice.  It is judged when used, by ppx_trust_check(). */
int ppx_trust_add_cert(ppx_trust *self, const ppx_cert *cert);

/* The CA certificate, borrowed. */
const ppx_cert *ppx_trust_ca(const ppx_trust *self);

/* Add a known certificate from a PEM file, or every *.pem / *.crt in a
 * directory. */
int ppx_trust_add_cert_file(ppx_trust *self, const char *path);
int ppx_trust_add_dir(ppx_trust *self, const char *dir);

/* The known certificate with this fingerprint, borrowed; NULL if none. */
const ppx_cert *ppx_trust_find(const ppx_trust *self,
			       const uint8_t fingerprint[PPX_FINGERPRINT_LEN]);

/* The first known transport certificate holding X25519 key `key`,
 * borrowed; NULL if none. */
const ppx_cert *ppx_trust_find_transport(const ppx_trust *self,
					 const uint8_t key[32]);

/* Each of them in turn: the next one from *at (0 for the first), *at
 * moved past it; NULL when there is no other.  Several certificates can
 * hold one key (a transport key certified again with new dates). */
const ppx_cert *ppx_trust_find_transport_next(const ppx_trust *self,
					      const uint8_t key[32],
					      size_t *at);

/* A known certificate of `agency` in `role` that passes ppx_trust_check()
 * at `now`, borrowed; NULL (PPX_ENOTFOUND set) if none. */
const ppx_cert *ppx_trust_find_agency(const ppx_trust *self,
				      const char *agency,
				      enum ppx_cert_role role, time_t now);

/*
 * Check `cert` at time `now`: chains to the CA, is within its validity
 * period, is not revoked (CRL current), and has role `role`.  Fills `out`.
 * Codes: PPX_EUNTRUSTED (no chain to the CA; or, once every other check
 * passed, not a single O, OU and CN, an OU other than `role`, no keyUsage
 * extension or not the role's use, a CA certificate), PPX_EEXPIRED,
 * PPX_ENOTYETVALID, PPX_EREVOKED, PPX_ECRL.  When several apply, the first
 * in that order is returned.
 *
 * `now` == 0 judges history (an entry in an old log): chain to the CA and
 * role only, without validity period or CRL, so that a log stays verifiable
 * after the certificates that signed it have expired.
 */
int ppx_trust_check(const ppx_trust *self, const ppx_cert *cert, time_t now,
		    enum ppx_cert_role role, ppx_identity *out);

/* SHA-256 of the certificate's DER encoding. */
int ppx_cert_fingerprint(const ppx_cert *cert,
			 uint8_t out[PPX_FINGERPRINT_LEN]);

/* Read one PEM certificate; the caller frees it with ppx_cert_free(). */
int ppx_cert_load(ppx_cert **out, const char *path);

/*
 * A certificate from its DER encoding, as carried on the wire (a person
 * certificate in a PersonSignature).  Only DER is taken: bytes that decode
 * but would not re-encode to themselves (BER, trailing bytes) are refused
 * with PPX_EINVAL, so that the SHA-256 of the bytes received is the
 * certificate's fingerprint.
 */
int ppx_cert_from_der(ppx_cert **out, const uint8_t *der, size_t len);

/* The agency (O), name (CN) and fingerprint of `cert` as it states them,
 * without judging it (ppx_trust_check() does that); role is 0.
 * PPX_EINVAL if it lacks a single O or CN. */
int ppx_cert_identity(const ppx_cert *cert, ppx_identity *out);

/* The DER encoding of `cert` in *out (*len bytes; the caller frees it). */
int ppx_cert_der(uint8_t **out, size_t *len, const ppx_cert *cert);
void ppx_cert_free(ppx_cert *self);

/* The subject as one line ("/O=police.gwent/OU=transport/CN=..."), for
 * messages; cut to `cap` bytes, always NUL-terminated when cap > 0. */
void ppx_cert_subject(const ppx_cert *cert, char *out, size_t cap);

/* The validity period of `cert` (Unix time). */
void ppx_cert_dates(const ppx_cert *cert, time_t *not_before,
		    time_t *not_after);

/* The serial number as lower-case hex into `out` (cut at `cap`). */
void ppx_cert_serial_hex(const ppx_cert *cert, char *out, size_t cap);

/* The raw 32-byte X25519 public key of a transport certificate. */
int ppx_cert_x25519_public(const ppx_cert *cert, uint8_t out[32]);

/*
 * A signer: an agency's (or person's) signing key and certificate.
 * The key file must be mode 0600 (PPX_EPERM otherwise) and must match the
 * certificate.
 */
typedef struct ppx_signer ppx_signer;

int ppx_signer_load(ppx_signer **out, const char *key_file,
		    const char *cert_file);
void ppx_signer_free(ppx_signer *self);
const uint8_t *ppx_signer_fingerprint(const ppx_signer *self);
const char *ppx_signer_agency(const ppx_signer *self);
/* The signer's certificate, borrowed: it lives as long as the signer. */
const ppx_cert *ppx_signer_cert(const ppx_signer *self);
/* SignatureAlgorithm value of the key (SIG_ED25519 or SIG_ECDSA_P256_SHA256) */
int ppx_signer_algorithm(const ppx_signer *self);

/*
 * Sign `msg` with the key.  Writes at most `cap` bytes to `sig` and the length
 * to `siglen`.  PPX_SIG_MAX bytes always suffice.
 */
#define PPX_SIG_MAX 80
int ppx_signer_sign(ppx_signer *self, uint8_t *sig, size_t cap,
		    size_t *siglen, const uint8_t *msg, size_t len);

/*
 * Where a signer's private key lives when it is not in this process: the
 * daemon's signer process (daemon/signer.c) or a PKCS#11 token.  sign()
 * signs `msg` as ppx_signer_sign() does (Ed25519: the 64-byte signature;
 * ECDSA P-256: DER over SHA-256 of msg) and returns 0 or a ppx_error code
 * with the detail set; free() releases ctx.
 */
struct ppx_signer_backend {
	const char *name;
	int (*sign)(void *ctx, uint8_t *sig, size_t cap, size_t *siglen,
		    const uint8_t *msg, size_t len);
	void (*free)(void *ctx);
	/* Optional: n messages at once, sig[i] of PPX_SIG_MAX bytes each
	 * (see ppx_signer_sign_many); NULL signs them one by one. */
	int (*sign_many)(void *ctx, size_t n, uint8_t (*sig)[PPX_SIG_MAX],
			 size_t *siglen, const uint8_t *const *msg,
			 const size_t *len);
};

/*
 * A signer for the certificate in `cert_file` whose key is reached through
 * `backend` with `ctx`.  The signer owns ctx from here on, also when this
 * fails (PPX_EIO, PPX_EINVAL: the certificate cannot sign or names no
 * agency; PPX_ENOMEM).  Whether the backend's key matches the certificate
 * is for the caller to check (sign and verify once).
 */
int ppx_signer_with_backend(ppx_signer **out,
			    const struct ppx_signer_backend *backend,
			    void *ctx, const char *cert_file);

/*
 * Sign n messages: sig[i] (siglen[i] bytes) over msg[i] (len[i] bytes), as
 * ppx_signer_sign() would one by one.  A backend in another process takes
 * them in one exchange, so a burst costs one round trip, not n.  0, or the
 * first failure (then no signature is to be used).
 */
int ppx_signer_sign_many(ppx_signer *self, size_t n,
			 uint8_t (*sig)[PPX_SIG_MAX], size_t *siglen,
			 const uint8_t *const *msg, const size_t *len);

/* The SignatureAlgorithm of the certificate's key, 0 if it cannot sign. */
int ppx_cert_algorithm(const ppx_cert *cert);

/* Verify `sig` over `msg` with the public key of `cert`: 0 or PPX_EBADSIG. */
int ppx_cert_verify_signature(const ppx_cert *cert, const uint8_t *sig,
			      size_t siglen, const uint8_t *msg, size_t len);

/*
 * An X25519 transport key (the CURVE secret) read from a 0600 PEM file, as
 * raw bytes for ZeroMQ.  `secret` must be wiped by the caller
 * (ppx_wipe) when no longer needed.
 */
int ppx_transport_key_load(uint8_t secret[32], uint8_t public_key[32],
			   const char *key_file);

/* Wipe key material so that the compiler cannot elide it. */
void ppx_wipe(void *p, size_t len);

#endif
