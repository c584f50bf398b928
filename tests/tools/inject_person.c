/*
 * inject_person.c — the personal signature modes (docs/PROTOCOL.md 3.2),
 * for tests/integration/person_sig.sh.
 *
 * A receiver checks a personal signature wherever there is one, and
 * requires one where its policy says so, whatever the sending daemon did.
 * These modes send what an honest sending daemon never would: a message
 * (of --kind KIND, default ARREST) from WHO, signed with WHO's agency key
 * as always, and personally signed (or not) as the mode says, with the
 * person key and certificate --person REL names (REL.key and REL.crt under
 * the PKI, e.g. people/police.gwent/dana.evans, or agencies/police.gwent/
 * signing for an agency certificate used as a person's):
 *
 *   person none         no personal signature at all
 *   person good         signed by REL over the body, which names REL's
 *                       certificate in sender_person.certificate_fingerprint
 *   person other-bytes  the same, but the signature is over another body
 *   person not-sender   signed by REL, but the body names no certificate
 *
 * --frame-to FILE writes the frame there as well, for pyppx.person, the
 * independent check written from the document.
 *
 * The core (inject.c) asks person_mode() whether a mode is this one and
 * build_person() for its frame.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ppx/envelope.h"
#include "ppx/error.h"
#include "ppx/person.h"
#include "ppx/pki.h"
#include "ppx.pb-c.h"
#include "../unit/support.h"
#include "inject.h"

int person_mode(const char *mode)
{
	return strcmp(mode, "person") == 0;
}

/* The person signer of --person REL: REL.key and REL.crt under the PKI. */
static int person_signer(ppx_signer **out, const struct opts *o)
{
	char key[PATH_CAP], crt[PATH_CAP];

	*out = NULL;
	if (!o->person) {
		fprintf(stderr, "inject: person %s needs --person REL\n",
			o->arg);
		inject_usage(EXIT_USAGE);
	}
	snprintf(key, sizeof(key), "%s/%s.key", o->pki, o->person);
	snprintf(crt, sizeof(crt), "%s/%s.crt", o->pki, o->person);
	return ppx_signer_load(out, key, crt);
}

/* Sign `sign_over` as the person and put it into the frame of b. */
static int seal_signed(uint8_t **out, size_t *len, const struct opts *o,
		       ppx_signer *person, const Ppx__V1__Body *b,
		       const Ppx__V1__Body *sign_over)
{
	Ppx__V1__PersonSignature *ps = NULL;
	ppx_signer *agency = signer_at(o->as);
	uint8_t *bytes = NULL;
	size_t n = 0;
	int rc = ppx_body_pack(&bytes, &n, sign_over);

	if (rc == 0)
		rc = ppx_person_sign(&ps, person, bytes, n);
	if (rc == 0)
		rc = ppx_body_seal(out, len, agency, b);
	if (rc == 0)
		rc = ppx_frame_set_person(out, len, ps);
	ppx_person_signature_free(ps);
	ppx_signer_free(agency);
	free(bytes);
	return rc;
}

static int write_frame(const char *path, const uint8_t *buf, size_t len)
{
	FILE *f = fopen(path, "wb");
	int ok = f && fwrite(buf, 1, len, f) == len;

	if (f && fclose(f) != 0)
		ok = 0;
	return ok ? 0 : ppx_error_set(PPX_EIO, "cannot write %s", path);
}

int build_person(struct frames *fs, const struct opts *o)
{
	Ppx__V1__Body *b = body_new(o->agency, o->to);
	Ppx__V1__Body other;	/* what the person signs */
	Ppx__V1__Notification n;
	ppx_signer *person = NULL;
	uint8_t *buf = NULL, fpr[PPX_FINGERPRINT_LEN];
	size_t len = 0;
	int rc = 0;

	if (o->kind)
		b->notification->kind = inject_kind_by_name(o->kind);
	if (strcmp(o->arg, "none") == 0) {
		ppx_signer *agency = signer_at(o->as);

		rc = ppx_body_seal(&buf, &len, agency, b);
		ppx_signer_free(agency);
	} else if (strcmp(o->arg, "good") == 0 ||
		   strcmp(o->arg, "other-bytes") == 0 ||
		   strcmp(o->arg, "not-sender") == 0) {
		rc = person_signer(&person, o);
		if (rc == 0 && strcmp(o->arg, "not-sender") != 0) {
			memcpy(fpr, ppx_signer_fingerprint(person), sizeof(fpr));
			b->sender_person->certificate_fingerprint.data = fpr;
			b->sender_person->certificate_fingerprint.len =
				sizeof(fpr);
		}
		other = *b;
		n = *b->notification;
		other.notification = &n;
		if (strcmp(o->arg, "other-bytes") == 0)
			n.details = "Not what was sent.";
		if (rc == 0)
			rc = seal_signed(&buf, &len, o, person, b, &other);
		b->sender_person->certificate_fingerprint.data = NULL;
		b->sender_person->certificate_fingerprint.len = 0;
	} else {
		inject_usage(EXIT_USAGE);
	}
	ppx_signer_free(person);
	body_free(b);
	if (rc == 0 && o->frame_to)
		rc = write_frame(o->frame_to, buf, len);
	if (rc != 0) {
		free(buf);
		return rc;
	}
	return inject_frames_add(fs, buf, len);
}
