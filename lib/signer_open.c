/*
 * signer_open.c — where the agency's signing key is, as the configuration
 * says: a 0600 key file read into this process (lib/pki.c), or a key that
 * stays in an HSM or smartcard and is reached through PKCS#11
 * (lib/pkcs11.c).  ppxd calls this once at start-up, and so may any
 * process that signs for the agency; everything after it sees only a
 * ppx_signer.
 */
#include "ppx/pkcs11.h"
#include "ppx/signer_open.h"

int ppx_signer_open(ppx_signer **out, const struct ppx_config *cfg)
{
	if (ppx_pkcs11_uri_is(cfg->signing_key))
		return ppx_signer_pkcs11_open(out, cfg->pkcs11_module,
					      cfg->signing_key,
					      cfg->pkcs11_pin_file,
					      cfg->signing_cert);
	return ppx_signer_load(out, cfg->signing_key, cfg->signing_cert);
}
