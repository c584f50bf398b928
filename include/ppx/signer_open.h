/*
 * signer_open.h — the agency's signer as the configuration describes it
 * (lib/signer_open.c): a key file, or a key on a PKCS#11 token.
 */
#ifndef PPX_SIGNER_OPEN_H
#define PPX_SIGNER_OPEN_H

#include "ppx/config.h"
#include "ppx/pki.h"

/*
 * Open the signer of `cfg`'s [pki] signing_key and signing_cert: with
 * ppx_signer_load() when signing_key is a file, with
 * ppx_signer_pkcs11_open() (include/ppx/pkcs11.h) through pkcs11_module
 * and pkcs11_pin_file when it is a pkcs11: URI.  Either way the key is
 * known to match the certificate when this returns 0.  Codes and detail
 * are those of the function it calls.
 */
int ppx_signer_open(ppx_signer **out, const struct ppx_config *cfg);

#endif
