/*
 * inject_text.c — body-json: hostile text, for
 * tests/integration/hostile_text.sh.
 *
 * Strings in a body are text, and the receiver must refuse what is not
 * (invalid UTF-8, a NUL inside a string) with REJECT_BAD_BODY naming the
 * field, and store none of it.  A sending daemon could never send such a
 * body: ppx_body_seal() checks the text first.  So this mode builds the
 * Body from a JSON file, patches the serialised bytes in place (same
 * length, so no length prefix moves) and signs the result as it is, with
 * ppx_frame_seal().  The receipts the daemon sends back can be saved
 * (--receipts-to) for a strict decoder, since a refusal's detail may
 * quote the hostile text and must itself be text.
 *
 * The core (inject.c) calls build_body_json() for the mode and
 * save_receipt() for every answer.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ppx/envelope.h"
#include "ppx/error.h"
#include "ppx/json.h"
#include "ppx/pki.h"
#include "ppx.pb-c.h"
#include "../unit/support.h"
#include "inject.h"

/* The whole of a small file, NUL-terminated. */
static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = f ? malloc(1 << 20) : NULL;

	*len = buf ? fread(buf, 1, (1 << 20) - 1, f) : 0;
	if (buf)
		buf[*len] = '\0';
	if (f)
		fclose(f);
	return buf;
}

static int hex_digit(char c)
{
	return c >= '0' && c <= '9' ? c - '0'
	       : c >= 'a' && c <= 'f' ? c - 'a' + 10
	       : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* One MARK=HEX patch, applied where MARK occurs, exactly once. */
static int apply_patch(uint8_t *buf, size_t len, const char *spec)
{
	const char *eq = strchr(spec, '=');
	size_t mlen = eq ? (size_t)(eq - spec) : 0;
	uint8_t *at = mlen ? memmem(buf, len, spec, mlen) : NULL;
	const char *hex = eq ? eq + 1 : "";

	if (!at || strlen(hex) != 2 * mlen ||
	    memmem(at + 1, len - (size_t)(at - buf) - 1, spec, mlen))
		return ppx_error_set(PPX_EINVAL, "--patch %s: the mark must "
				     "occur once and the hex be as long", spec);
	for (size_t i = 0; i < mlen; i++) {
		int hi = hex_digit(hex[2 * i]), lo = hex_digit(hex[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return ppx_error_set(PPX_EINVAL, "--patch %s: bad hex",
					     spec);
		at[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

/* The Body of the JSON file, completed as a sending daemon would. */
static int body_from_json(Ppx__V1__Body **out, const struct opts *o)
{
	static uint8_t id[PPX_MESSAGE_ID_LEN];
	size_t len = 0;
	char *text = read_file(o->arg, &len);
	Ppx__V1__Body *b = NULL;
	int rc;

	if (!text)
		return ppx_error_set(PPX_EIO, "cannot read %s", o->arg);
	rc = ppx_json_parse((ProtobufCMessage **)&b,
			    &ppx__v1__body__descriptor, text, len);
	free(text);
	if (rc != 0)
		return rc;
	if (b->message_id.len == 0 && (rc = ppx_message_id_new(id)) == 0) {
		b->message_id.data = malloc(sizeof(id));
		if (b->message_id.data) {
			memcpy(b->message_id.data, id, sizeof(id));
			b->message_id.len = sizeof(id);
		}
	}
	if (b->created_ms == 0)
		b->created_ms = (int64_t)time(NULL) * 1000;
	if (!b->sender_agency[0]) {
		if (b->sender_agency != protobuf_c_empty_string)
			free(b->sender_agency);
		b->sender_agency = strdup(o->agency);
	}
	*out = b;
	return rc;
}

/* The body of FILE, patched and signed by WHO byte for byte. */
int build_body_json(struct frames *fs, const struct opts *o)
{
	ppx_signer *signer = signer_at(o->as);
	Ppx__V1__Body *b = NULL;
	uint8_t *bytes = NULL, *frame = NULL;
	size_t len = 0, flen = 0;
	int rc = signer ? body_from_json(&b, o)
			: ppx_error_set(PPX_EIO, "no signer %s", o->as);

	if (rc == 0) {
		len = ppx__v1__body__get_packed_size(b);
		if (!(bytes = malloc(len ? len : 1)))
			rc = ppx_error_set(PPX_ENOMEM, "out of memory");
	}
	if (rc == 0)
		ppx__v1__body__pack(b, bytes);
	for (size_t i = 0; rc == 0 && i < o->n_patch; i++)
		rc = apply_patch(bytes, len, o->patch[i]);
	if (rc == 0)
		rc = ppx_frame_seal(&frame, &flen, signer,
				    PPX__V1__SIGNED_PURPOSE__SIGNED_BODY, bytes,
				    len);
	if (rc == 0)
		rc = inject_frames_add(fs, frame, flen);
	free(bytes);
	if (b)
		ppx__v1__body__free_unpacked(b, NULL);
	ppx_signer_free(signer);
	return rc;
}

/* --receipts-to: the answer's frame as received, for a strict decoder. */
void save_receipt(const struct opts *o, const uint8_t *data,
			 size_t len)
{
	static unsigned n;
	char path[PATH_CAP];
	FILE *f;

	if (!o->receipts_to)
		return;
	snprintf(path, sizeof(path), "%s/receipt-%ld-%u.bin", o->receipts_to,
		 (long)getpid(), ++n);
	if (!(f = fopen(path, "wb")) || fwrite(data, 1, len, f) != len)
		fprintf(stderr, "inject: cannot write %s\n", path);
	if (f)
		fclose(f);
}
