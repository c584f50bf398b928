/*
 * person.h — personal signatures: a named person of the sending agency
 * signs a message body with their own key (docs/PROTOCOL.md 3.2).
 *
 * The person signs the same signed_body bytes as the agency, under their
 * own label:
 *
 *     "ppx/v1/person" || 0x00 || signed_body
 *
 * and the signature travels in Envelope.person with the person
 * certificate (DER).  Whoever checks it (the sending daemon before it
 * seals, every receiver) needs the certificate to chain to the federation
 * CA with the person role, to be of the agency that signed the envelope,
 * and to be the one the body names as its sender person
 * (sender_person.certificate_fingerprint).
 */
#ifndef PPX_PERSON_H
#define PPX_PERSON_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "ppx/pki.h"
#include "ppx.pb-c.h"

/* The bytes a person signs over `body`: "ppx/v1/person" 0x00 body, in
 * *out (caller frees). */
int ppx_person_tbs(uint8_t **out, size_t *outlen, const uint8_t *body,
		   size_t len);

/*
 * Open a person's signer: `key` is a 0600 key file or a pkcs11: URI (then
 * `module` and `pin_file` are those of ppx_signer_pkcs11_open(), and they
 * and `cert` are required: PPX_EINVAL); `cert` is the person certificate
 * (PEM), NULL for a key file's name with ".crt" in place of ".key" (or
 * appended).
 */
int ppx_person_signer_open(ppx_signer **out, const char *key,
			   const char *cert, const char *module,
			   const char *pin_file);

/*
 * Sign the serialised body `body` as the person of `signer`: *out is a new
 * PersonSignature holding the certificate's DER, the signature and the
 * algorithm; free it with ppx_person_signature_free().
 */
int ppx_person_sign(Ppx__V1__PersonSignature **out, ppx_signer *signer,
		    const uint8_t *body, size_t len);

/* Free a PersonSignature made by ppx_person_sign() (NULL is fine). */
void ppx_person_signature_free(Ppx__V1__PersonSignature *ps);

/*
 * Verify personal signature `ps` over the serialised body `body` (len
 * bytes), decoded as `decoded`, of a message whose envelope was signed by
 * `agency`, at time `now` (0: judge history, as ppx_trust_check()).  In
 * order: the certificate is one DER X.509 certificate, `algorithm` is its
 * key's, the signature verifies over the label; the certificate chains to
 * the CA, has the person role, is within its validity period and not
 * revoked; its agency (O) is `agency`; and the body's
 * sender_person.certificate_fingerprint is its SHA-256.
 *
 * Fills `who` (name, agency, fingerprint of the person certificate).
 * Codes: PPX_EBADPERSON with a detail naming the failed check ("other
 * agency", "not a person certificate", "revoked", ...); PPX_ECRL when the
 * verifier holds no current CRL (its own trouble, not the sender's).
 */
int ppx_person_verify(ppx_identity *who, const ppx_trust *trust,
		      const Ppx__V1__PersonSignature *ps, const uint8_t *body,
		      size_t len, const Ppx__V1__Body *decoded,
		      const char *agency, time_t now);

/* "signed by NAME (person certificate FPR12...) of AGENCY" into out. */
void ppx_person_describe(char *out, size_t cap, const ppx_identity *who);

#endif
