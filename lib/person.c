/*
 * person.c — personal signatures: made by `ppx send --sign` with the
 * person's own key, checked by the sending daemon before it seals and by
 * every receiver (docs/PROTOCOL.md 3.2).
 *
 * The person signs "ppx/v1/person" 0x00 signed_body, the very bytes the
 * agency signs under its own label, so one body carries two signatures
 * that cannot stand in for each other.  The person's key is wherever the
 * person keeps it: a 0600 file, or a smartcard or HSM reached through a
 * pkcs11: URI; either way it is a ppx_signer, and nothing here sees the
 * key.
 *
 * Verifying names the check that failed in the detail of PPX_EBADPERSON,
 * for the receiver's refusal and the sender's log: the certificate, the
 * signature, the chain and role, the period and the CRL, the agency, and
 * whether the body names this certificate as its sender person.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ppx/envelope.h"
#include "ppx/error.h"
#include "ppx/pkcs11.h"
#include "ppx/person.h"

#define PERSON_LABEL "ppx/v1/person"
#define CERT_PATH_MAX 4096

int ppx_person_tbs(uint8_t **out, size_t *outlen, const uint8_t *body,
		   size_t len)
{
	size_t pre = sizeof(PERSON_LABEL);	/* the label and its 0x00 */
	uint8_t *buf = malloc(pre + len);

	*out = NULL;
	if (!buf)
		return ppx_error_set(PPX_ENOMEM, "out of memory");
	memcpy(buf, PERSON_LABEL, pre);
	if (len)
		memcpy(buf + pre, body, len);
	*out = buf;
	*outlen = pre + len;
	return 0;
}

/* KEY.key -> KEY.crt; any other name gets ".crt" appended. */
static int default_cert(char *out, size_t cap, const char *key)
{
	size_t n = strlen(key);
	int w;

	if (n > 4 && strcmp(key + n - 4, ".key") == 0)
		w = snprintf(out, cap, "%.*s.crt", (int)(n - 4), key);
	else
		w = snprintf(out, cap, "%s.crt", key);
	if (w < 0 || (size_t)w >= cap)
		return ppx_error_set(PPX_EINVAL, "key path %s is too long", key);
	return 0;
}

int ppx_person_signer_open(ppx_signer **out, const char *key,
			   const char *cert, const char *module,
			   const char *pin_file)
{
	char path[CERT_PATH_MAX];
	int rc;

	*out = NULL;
	if (ppx_pkcs11_uri_is(key)) {
		if (!cert || !module || !pin_file)
			return ppx_error_set(PPX_EINVAL, "a person key on a "
					     "token (%s) needs its certificate "
					     "(--sign-cert), the PKCS#11 module "
					     "($PPX_PKCS11_MODULE) and a 0600 PIN "
					     "file ($PPX_PERSON_PIN_FILE)", key);
		return ppx_signer_pkcs11_open(out, module, key, pin_file,
					      cert);
	}
	if (!cert) {
		if ((rc = default_cert(path, sizeof(path), key)) != 0)
			return rc;
		cert = path;
	}
	return ppx_signer_load(out, key, cert);
}

int ppx_person_sign(Ppx__V1__PersonSignature **out, ppx_signer *signer,
		    const uint8_t *body, size_t len)
{
	Ppx__V1__PersonSignature *ps = calloc(1, sizeof(*ps));
	uint8_t *tbs = NULL, *sig = malloc(PPX_SIG_MAX);
	size_t tbslen = 0, siglen = 0;
	int rc = ps && sig ? 0 : ppx_error_set(PPX_ENOMEM, "out of memory");

	*out = NULL;
	if (ps)
		ppx__v1__person_signature__init(ps);
	if (rc == 0)
		rc = ppx_person_tbs(&tbs, &tbslen, body, len);
	if (rc == 0)
		rc = ppx_signer_sign(signer, sig, PPX_SIG_MAX, &siglen, tbs,
				     tbslen);
	if (rc == 0)
		rc = ppx_cert_der(&ps->certificate.data, &ps->certificate.len,
				  ppx_signer_cert(signer));
	free(tbs);
	if (rc != 0) {
		free(sig);
		ppx_person_signature_free(ps);
		return rc;
	}
	ps->signature.data = sig;
	ps->signature.len = siglen;
	ps->algorithm = ppx_signer_algorithm(signer);
	*out = ps;
	return 0;
}

void ppx_person_signature_free(Ppx__V1__PersonSignature *ps)
{
	if (!ps)
		return;
	free(ps->certificate.data);
	free(ps->signature.data);
	free(ps);
}

/* The signature over the label, with the certificate's own algorithm. */
static int check_signature(const ppx_cert *cert,
			   const Ppx__V1__PersonSignature *ps,
			   const uint8_t *body, size_t len)
{
	uint8_t *tbs = NULL;
	size_t tbslen = 0;
	int rc;

	if ((int)ps->algorithm != ppx_cert_algorithm(cert))
		return ppx_error_set(PPX_EBADPERSON, "personal signature: "
				     "algorithm %d is not that of the person "
				     "certificate's key", ps->algorithm);
	if ((rc = ppx_person_tbs(&tbs, &tbslen, body, len)) != 0)
		return rc;
	rc = ppx_cert_verify_signature(cert, ps->signature.data,
				       ps->signature.len, tbs, tbslen);
	free(tbs);
	if (rc == PPX_EBADSIG)
		return ppx_error_set(PPX_EBADPERSON, "personal signature: bad "
				     "signature (it is not over this body "
				     "under \"ppx/v1/person\" by the key of "
				     "the person certificate)");
	return rc;
}

/* The certificate's standing at `now`, as a PPX_EBADPERSON that says
 * which check failed (a missing CRL stays PPX_ECRL: ours to mend). */
static int check_standing(const ppx_trust *trust, const ppx_cert *cert,
			  time_t now, ppx_identity *who)
{
	char why[512];
	int rc = ppx_trust_check(trust, cert, now, PPX_ROLE_PERSON, who);
	const char *what;

	switch (rc) {
	case 0:
	case PPX_ECRL:
		return rc;
	case PPX_EREVOKED:
		what = "revoked person certificate";
		break;
	case PPX_EEXPIRED:
		what = "expired person certificate";
		break;
	case PPX_ENOTYETVALID:
		what = "person certificate not yet valid";
		break;
	default:
		what = strstr(ppx_error_last(), "not a person")
			       ? "other role (not a person certificate)"
			       : "untrusted person certificate";
		break;
	}
	snprintf(why, sizeof(why), "%s", ppx_error_last());
	return ppx_error_set(PPX_EBADPERSON, "personal signature: %s: %s",
			     what, why);
}

/* The body names this certificate as its sender person. */
static int check_sender_person(const Ppx__V1__Body *b,
			       const ppx_identity *who)
{
	const Ppx__V1__Person *p = b->sender_person;
	char fpr[2 * PPX_FINGERPRINT_LEN + 1];

	if (p && p->certificate_fingerprint.len == PPX_FINGERPRINT_LEN &&
	    memcmp(p->certificate_fingerprint.data, who->fingerprint,
		   PPX_FINGERPRINT_LEN) == 0)
		return 0;
	ppx_hex(fpr, who->fingerprint, PPX_FINGERPRINT_LEN);
	return ppx_error_set(PPX_EBADPERSON, "personal signature: not the "
			     "sender person: signed by %s (certificate %.16s)"
			     " but sender_person.certificate_fingerprint "
			     "names %s", who->name, fpr,
			     p && p->certificate_fingerprint.len
				     ? "another certificate" : "none");
}

int ppx_person_verify(ppx_identity *who, const ppx_trust *trust,
		      const Ppx__V1__PersonSignature *ps, const uint8_t *body,
		      size_t len, const Ppx__V1__Body *decoded,
		      const char *agency, time_t now)
{
	ppx_cert *cert = NULL;
	int rc;

	memset(who, 0, sizeof(*who));
	rc = ppx_cert_from_der(&cert, ps->certificate.data,
			       ps->certificate.len);
	if (rc != 0)
		return ppx_error_set(PPX_EBADPERSON, "personal signature: %s",
				     ppx_error_last());
	if ((rc = check_signature(cert, ps, body, len)) == 0)
		rc = check_standing(trust, cert, now, who);
	ppx_cert_free(cert);
	if (rc != 0)
		return rc;
	if (strcmp(who->agency, agency) != 0)
		return ppx_error_set(PPX_EBADPERSON, "personal signature: "
				     "other agency: the person certificate of "
				     "%s is of %s, the message is signed by %s",
				     who->name, who->agency, agency);
	return check_sender_person(decoded, who);
}

void ppx_person_describe(char *out, size_t cap, const ppx_identity *who)
{
	char fpr[2 * PPX_FINGERPRINT_LEN + 1];

	ppx_hex(fpr, who->fingerprint, PPX_FINGERPRINT_LEN);
	snprintf(out, cap, "signed by %s (person certificate %.16s...) of %s",
		 who->name, fpr, who->agency);
}
