/*
 * pkcs11.h — an agency's signing key in an HSM or smartcard, reached
 * through a PKCS#11 module (lib/pkcs11.c, lib/pkcs11_uri.c).
 *
 * The configuration names the key with an RFC 7512 URI, of which ppx
 * reads a subset: `pkcs11:token=LABEL;object=LABEL` and/or `id=%01%02`,
 * optionally `type=private`.  The module (a shared object such as
 * /usr/lib/softhsm/libsofthsm2.so) and a file holding the user PIN (mode
 * 0600) are given beside it; docs/CONFIG.md has the keys.
 *
 * The signer this opens is an ordinary ppx_signer (include/ppx/pki.h)
 * whose sign() goes to the token: Ed25519 keys through CKM_EDDSA, ECDSA
 * P-256 keys through CKM_ECDSA over our own SHA-256, the token's raw r||s
 * turned into the DER ppx carries on the wire.
 */
#ifndef PPX_PKCS11_H
#define PPX_PKCS11_H

#include <stddef.h>
#include <stdint.h>

#include "ppx/pki.h"

#define PPX_PKCS11_TOKEN_MAX 33		/* a token label is 32 bytes */
#define PPX_PKCS11_OBJECT_MAX 128
#define PPX_PKCS11_ID_MAX 64
#define PPX_PKCS11_PIN_MAX 256

/* What a pkcs11: URI names: a token, and a key on it by label and/or id. */
struct ppx_pkcs11_uri {
	char token[PPX_PKCS11_TOKEN_MAX];
	char object[PPX_PKCS11_OBJECT_MAX];	/* "" if not given */
	uint8_t id[PPX_PKCS11_ID_MAX];
	size_t id_len;				/* 0 if not given */
};

/* Nonzero if `s` is a pkcs11: URI rather than a file name. */
int ppx_pkcs11_uri_is(const char *s);

/*
 * Parse `uri` into `out`.  token= is required and so is object= or id=;
 * values are percent-decoded.  Any other attribute, a query (?...) or a
 * malformed escape is refused with PPX_EINVAL naming it.
 */
int ppx_pkcs11_uri_parse(struct ppx_pkcs11_uri *out, const char *uri);

/*
 * Read the PIN from `path`: a regular file of mode 0600 or stricter
 * (PPX_EPERM otherwise), one line, at most PPX_PKCS11_PIN_MAX - 1 bytes;
 * a final newline is dropped.  The caller wipes `pin` (ppx_wipe) after
 * use.
 */
int ppx_pkcs11_pin_read(char pin[PPX_PKCS11_PIN_MAX], size_t *len,
			const char *path);

/*
 * A signer for the certificate in `cert_file` whose key is the private
 * key `uri` names on a token of the PKCS#11 module `module`, logged in
 * with the PIN in `pin_file`.  Before it returns it signs a probe and
 * verifies it with the certificate, so that a key that does not match is
 * refused here (PPX_EINVAL) rather than at the partner.  Every PKCS#11
 * failure names the call and its CKR_ code (PPX_EIO; PPX_EPERM for a
 * wrong or locked PIN; PPX_ENOTFOUND for a token or key not found).
 */
int ppx_signer_pkcs11_open(ppx_signer **out, const char *module,
			   const char *uri, const char *pin_file,
			   const char *cert_file);

#endif
