/*
 * envelope.c — sealing bodies into signed frames, and the receive check that
 * opens them.
 *
 * Sending: the caller builds a Body; ppx_body_seal() serialises it once,
 * signs "ppx/v1/body" 0x00 || bytes, and wraps the bytes, signature and
 * signer fingerprint in a version-1 Frame.  Those serialised bytes are what
 * is logged, sent and re-sent: a message is never re-serialised.
 *
 * Receiving: ppx_message_open() runs the checks of DESIGN.md in order and
 * stops at the first failure, returning that check's code.  Signatures are
 * verified over the signed_body bytes exactly as received, and only then are
 * those bytes decoded.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "ppx/envelope.h"
#include "ppx/error.h"
#include "ppx/text.h"

#define TBS_PREFIX "ppx/v1/"

int ppx_message_id_new(uint8_t out[PPX_MESSAGE_ID_LEN])
{
	if (RAND_bytes(out, PPX_MESSAGE_ID_LEN) != 1)
		return ppx_error_set(PPX_ECRYPTO, "no random bytes for an id");
	return 0;
}

void ppx_hex(char *out, const uint8_t *in, size_t len)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * len] = '\0';
}

int ppx_hex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int ppx_varint_read(const uint8_t *buf, size_t len, size_t *pos,
		    uint64_t *out)
{
	uint64_t v = 0;

	for (unsigned shift = 0; shift < 64 && *pos < len; shift += 7) {
		uint8_t b = buf[(*pos)++];

		v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80)) {
			*out = v;
			return 0;
		}
	}
	return -1;
}

int ppx_sha256(uint8_t out[PPX_HASH_LEN], const uint8_t *data, size_t len)
{
	if (EVP_Digest(data, len, out, NULL, EVP_sha256(), NULL) != 1)
		return ppx_error_set(PPX_ECRYPTO, "SHA-256 failed");
	return 0;
}

static const char *purpose_label(int purpose)
{
	switch (purpose) {
	case PPX__V1__SIGNED_PURPOSE__SIGNED_BODY:
		return "body";
	case PPX__V1__SIGNED_PURPOSE__SIGNED_RECEIPT:
		return "receipt";
	case PPX__V1__SIGNED_PURPOSE__SIGNED_CHECKPOINT:
		return "checkpoint";
	case PPX__V1__SIGNED_PURPOSE__SIGNED_RESTORE:
		return "restore";
	case PPX__V1__SIGNED_PURPOSE__SIGNED_BATCH:
		return "batch";
	default:
		return NULL;
	}
}

int ppx_tbs_purpose(const uint8_t *msg, size_t len)
{
	static const int purposes[] = {
		PPX__V1__SIGNED_PURPOSE__SIGNED_BODY,
		PPX__V1__SIGNED_PURPOSE__SIGNED_RECEIPT,
		PPX__V1__SIGNED_PURPOSE__SIGNED_CHECKPOINT,
		PPX__V1__SIGNED_PURPOSE__SIGNED_RESTORE,
		PPX__V1__SIGNED_PURPOSE__SIGNED_BATCH,
	};
	size_t pre = strlen(TBS_PREFIX);

	if (len < pre || memcmp(msg, TBS_PREFIX, pre) != 0)
		return 0;
	for (size_t i = 0; i < sizeof(purposes) / sizeof(purposes[0]); i++) {
		const char *label = purpose_label(purposes[i]);
		size_t n = strlen(label);

		if (len > pre + n && memcmp(msg + pre, label, n) == 0 &&
		    msg[pre + n] == 0)
			/* A batch signature covers a size and a root, no
			 * more (PROTOCOL.md 3.4). */
			return purposes[i] !=
					       PPX__V1__SIGNED_PURPOSE__SIGNED_BATCH ||
				       len == PPX_BATCH_TBS_LEN
				       ? purposes[i]
				       : 0;
	}
	return 0;
}

/* The bytes a signature covers: "ppx/v1/" label 0x00 body. */
static int to_be_signed(uint8_t **out, size_t *outlen, int purpose,
			const uint8_t *body, size_t len)
{
	const char *label = purpose_label(purpose);
	size_t pre, total;
	uint8_t *buf;

	if (!label)
		return ppx_error_set(PPX_EPURPOSE, "unknown signature purpose %d",
				     purpose);
	pre = strlen(TBS_PREFIX) + strlen(label) + 1;
	total = pre + len;
	buf = malloc(total ? total : 1);
	if (!buf)
		return ppx_error_set(PPX_ENOMEM, "out of memory");
	memcpy(buf, TBS_PREFIX, strlen(TBS_PREFIX));
	memcpy(buf + strlen(TBS_PREFIX), label, strlen(label));
	buf[pre - 1] = 0;
	if (len)
		memcpy(buf + pre, body, len);
	*out = buf;
	*outlen = total;
	return 0;
}

/* Put the envelope into the frame field its purpose belongs in. */
static void frame_set_content(Ppx__V1__Frame *f, Ppx__V1__Envelope *env)
{
	switch (env->purpose) {
	case PPX__V1__SIGNED_PURPOSE__SIGNED_RECEIPT:
		f->content_case = PPX__V1__FRAME__CONTENT_RECEIPT;
		f->receipt = env;
		break;
	case PPX__V1__SIGNED_PURPOSE__SIGNED_CHECKPOINT:
		f->content_case = PPX__V1__FRAME__CONTENT_CHECKPOINT;
		f->checkpoint = env;
		break;
	case PPX__V1__SIGNED_PURPOSE__SIGNED_RESTORE:
		f->content_case = PPX__V1__FRAME__CONTENT_RESTORE;
		f->restore = env;
		break;
	default:
		f->content_case = PPX__V1__FRAME__CONTENT_MESSAGE;
		f->message = env;
		break;
	}
}

/* The frame of `body` signed by `signer` with sig (siglen bytes). */
static int frame_assemble(uint8_t **out, size_t *outlen, ppx_signer *signer,
			  int purpose, const uint8_t *body, size_t bodylen,
			  const uint8_t *sig, size_t siglen,
			  Ppx__V1__BatchInclusion *batch)
{
	Ppx__V1__Envelope env = PPX__V1__ENVELOPE__INIT;
	Ppx__V1__Frame frame = PPX__V1__FRAME__INIT;
	uint8_t *buf;
	size_t size;

	*out = NULL;
	env.signed_body.data = (uint8_t *)body;
	env.signed_body.len = bodylen;
	env.signature.data = (uint8_t *)sig;
	env.signature.len = siglen;
	env.signer_fingerprint.data = (uint8_t *)ppx_signer_fingerprint(signer);
	env.signer_fingerprint.len = PPX_FINGERPRINT_LEN;
	env.algorithm = ppx_signer_algorithm(signer);
	env.purpose = purpose;
	env.batch = batch;
	frame.version = PPX__V1__WIRE_VERSION__WIRE_VERSION_1;
	frame_set_content(&frame, &env);
	size = ppx__v1__frame__get_packed_size(&frame);
	if (size > PPX_FRAME_MAX)
		return ppx_error_set(PPX_ETOOBIG,
				     "frame of %zu bytes exceeds the %d-byte cap",
				     size, PPX_FRAME_MAX);
	buf = malloc(size ? size : 1);
	if (!buf)
		return ppx_error_set(PPX_ENOMEM, "out of memory");
	ppx__v1__frame__pack(&frame, buf);
	*out = buf;
	*outlen = size;
	return 0;
}

int ppx_frame_seal(uint8_t **out, size_t *outlen, ppx_signer *signer,
		   int purpose, const uint8_t *body, size_t bodylen)
{
	uint8_t sig[PPX_SIG_MAX], *tbs = NULL;
	size_t siglen = 0, tbslen = 0;
	int rc;

	*out = NULL;
	rc = to_be_signed(&tbs, &tbslen, purpose, body, bodylen);
	if (rc == 0)
		rc = ppx_signer_sign(signer, sig, sizeof(sig), &siglen, tbs,
				     tbslen);
	free(tbs);
	if (rc != 0)
		return rc;
	return frame_assemble(out, outlen, signer, purpose, body, bodylen, sig,
			      siglen, NULL);
}

int ppx_frame_set_person(uint8_t **frame, size_t *len,
			 const Ppx__V1__PersonSignature *ps)
{
	Ppx__V1__Frame *f = NULL;
	uint8_t *buf;
	size_t size;
	int rc = ppx_frame_decode(&f, *frame, *len);

	if (rc != 0)
		return rc;
	if (f->content_case != PPX__V1__FRAME__CONTENT_MESSAGE) {
		ppx__v1__frame__free_unpacked(f, NULL);
		return ppx_error_set(PPX_EPURPOSE, "a personal signature goes "
				     "on a message frame only");
	}
	/* Borrowed into the decoded frame for the pack, taken back before
	 * it is freed: the caller keeps `ps`. */
	f->message->person = (Ppx__V1__PersonSignature *)ps;
	size = ppx__v1__frame__get_packed_size(f);
	buf = size <= PPX_FRAME_MAX ? malloc(size) : NULL;
	if (buf)
		ppx__v1__frame__pack(f, buf);
	f->message->person = NULL;
	ppx__v1__frame__free_unpacked(f, NULL);
	if (!buf)
		return size > PPX_FRAME_MAX
			       ? ppx_error_set(PPX_ETOOBIG, "frame of %zu bytes"
					       " with its personal signature "
					       "exceeds the %d-byte cap",
					       size, PPX_FRAME_MAX)
			       : ppx_error_set(PPX_ENOMEM, "out of memory");
	free(*frame);
	*frame = buf;
	*len = size;
	return 0;
}

int ppx_body_pack(uint8_t **out, size_t *outlen, const Ppx__V1__Body *body)
{
	size_t len = ppx__v1__body__get_packed_size(body);
	uint8_t *bytes;
	int rc;

	*out = NULL;
	if (len > PPX_FRAME_MAX)
		return ppx_error_set(PPX_ETOOBIG,
				     "message of %zu bytes exceeds the %d-byte cap",
				     len, PPX_FRAME_MAX);
	bytes = malloc(len ? len : 1);
	if (!bytes)
		return ppx_error_set(PPX_ENOMEM, "out of memory");
	ppx__v1__body__pack(body, bytes);
	/* What a partner would refuse is never signed: the check runs on the
	 * bytes, the only place a NUL inside a string would show. */
	rc = ppx_text_check(&ppx__v1__body__descriptor, bytes, len,
			    "message to send");
	if (rc != 0) {
		free(bytes);
		return rc;
	}
	*out = bytes;
	*outlen = len;
	return 0;
}

int ppx_body_seal(uint8_t **out, size_t *outlen, ppx_signer *signer,
		  const Ppx__V1__Body *body)
{
	uint8_t *bytes;
	size_t len;
	int rc = ppx_body_pack(&bytes, &len, body);

	*out = NULL;
	if (rc != 0)
		return rc;
	rc = ppx_frame_seal(out, outlen, signer,
			    PPX__V1__SIGNED_PURPOSE__SIGNED_BODY, bytes, len);
	free(bytes);
	return rc;
}

/* What ppx_bodies_seal() holds while the signatures are made. */
struct seal_batch {
	uint8_t **tbs;
	size_t *tbs_len;
	uint8_t (*sig)[PPX_SIG_MAX];
	size_t *sig_len;
};

static void seal_batch_free(struct seal_batch *b, size_t n)
{
	for (size_t i = 0; b->tbs && i < n; i++)
		free(b->tbs[i]);
	free(b->tbs);
	free(b->tbs_len);
	free(b->sig);
	free(b->sig_len);
}

int ppx_bodies_seal(uint8_t **frames, size_t *frame_len, ppx_signer *signer,
		    uint8_t *const *bodies, const size_t *body_len, size_t n)
{
	struct seal_batch b = {calloc(n ? n : 1, sizeof(*b.tbs)),
			       calloc(n ? n : 1, sizeof(*b.tbs_len)),
			       calloc(n ? n : 1, sizeof(*b.sig)),
			       calloc(n ? n : 1, sizeof(*b.sig_len))};
	int rc = b.tbs && b.tbs_len && b.sig && b.sig_len
			 ? 0
			 : ppx_error_set(PPX_ENOMEM, "out of memory");

	for (size_t i = 0; i < n; i++)
		frames[i] = NULL;
	for (size_t i = 0; rc == 0 && i < n; i++)
		rc = to_be_signed(&b.tbs[i], &b.tbs_len[i],
				  PPX__V1__SIGNED_PURPOSE__SIGNED_BODY,
				  bodies[i], body_len[i]);
	if (rc == 0)
		rc = ppx_signer_sign_many(signer, n, b.sig, b.sig_len,
					  (const uint8_t *const *)b.tbs,
					  b.tbs_len);
	for (size_t i = 0; rc == 0 && i < n; i++)
		rc = frame_assemble(&frames[i], &frame_len[i], signer,
				    PPX__V1__SIGNED_PURPOSE__SIGNED_BODY,
				    bodies[i], body_len[i], b.sig[i],
				    b.sig_len[i], NULL);
	for (size_t i = 0; rc != 0 && i < n; i++) {
		free(frames[i]);
		frames[i] = NULL;
	}
	seal_batch_free(&b, n);
	return rc;
}

/* Frame i of a batch: body i with its path in `tree`. */
static int batch_frame(uint8_t **out, size_t *outlen, ppx_signer *signer,
		       const ppx_merkle_mem *tree, size_t n, size_t i,
		       const uint8_t *body, size_t len, const uint8_t *sig,
		       size_t siglen)
{
	Ppx__V1__BatchInclusion inc = PPX__V1__BATCH_INCLUSION__INIT;
	ppx_hash path[PPX_MERKLE_MAX_PATH];
	ProtobufCBinaryData hashes[PPX_MERKLE_MAX_PATH];
	size_t path_len = 0;
	int rc = ppx_merkle_mem_path(tree, path, &path_len, i);

	if (rc != 0)
		return rc;
	for (size_t k = 0; k < path_len; k++) {
		hashes[k].data = path[k];
		hashes[k].len = PPX_HASH_LEN;
	}
	inc.leaf_index = i;
	inc.tree_size = n;
	inc.n_path = path_len;
	inc.path = hashes;
	return frame_assemble(out, outlen, signer,
			      PPX__V1__SIGNED_PURPOSE__SIGNED_BODY, body, len,
			      sig, siglen, &inc);
}

/* The batch's tree over the leaves of n bodies. */
static int batch_tree(ppx_merkle_mem **out, uint8_t *const *bodies,
		      const size_t *body_len, size_t n)
{
	ppx_hash *leaves = malloc(n * sizeof(*leaves));
	int rc;

	if (!leaves)
		return ppx_error_set(PPX_ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++)
		ppx_batch_leaf(leaves[i], bodies[i], body_len[i]);
	rc = ppx_merkle_mem_new(out, leaves, n);
	free(leaves);
	return rc;
}

int ppx_bodies_seal_batch(uint8_t **frames, size_t *frame_len,
			  ppx_signer *signer, uint8_t *const *bodies,
			  const size_t *body_len, size_t n)
{
	uint8_t tbs[PPX_BATCH_TBS_LEN], sig[PPX_SIG_MAX];
	ppx_merkle_mem *tree = NULL;
	ppx_hash root;
	size_t siglen = 0;
	int rc;

	for (size_t i = 0; i < n; i++)
		frames[i] = NULL;
	if (n == 0 || n > PPX_BATCH_TREE_MAX)
		return ppx_error_set(PPX_EINVAL, "a batch holds 1 to %d bodies,"
				     " not %zu", PPX_BATCH_TREE_MAX, n);
	if ((rc = batch_tree(&tree, bodies, body_len, n)) != 0)
		return rc;
	if ((rc = ppx_merkle_mem_root(tree, root)) == 0) {
		ppx_batch_tbs_of_root(tbs, n, root);
		rc = ppx_signer_sign(signer, sig, sizeof(sig), &siglen, tbs,
				     sizeof(tbs));
	}
	for (size_t i = 0; rc == 0 && i < n; i++)
		rc = batch_frame(&frames[i], &frame_len[i], signer, tree, n, i,
				 bodies[i], body_len[i], sig, siglen);
	for (size_t i = 0; rc != 0 && i < n; i++) {
		free(frames[i]);
		frames[i] = NULL;
	}
	ppx_merkle_mem_free(tree);
	return rc;
}

/*
 * The frame and envelope are the unsigned outer layer: in version 1 nothing
 * may ride in them beyond the known fields, so that the bytes logged are
 * exactly what was verified.  (Unknown fields inside the signed body are
 * covered by the signature and are tolerated for forward compatibility.)
 */
static int has_unknown_fields(const Ppx__V1__Frame *f)
{
	/* content is a oneof: read the member its case names, never
	 * another (a WitnessRequest is no Envelope). */
	const Ppx__V1__Envelope *env =
		f->content_case == PPX__V1__FRAME__CONTENT_MESSAGE ? f->message
		: f->content_case == PPX__V1__FRAME__CONTENT_RECEIPT
			? f->receipt
		: f->content_case == PPX__V1__FRAME__CONTENT_CHECKPOINT
			? f->checkpoint
			: NULL;

	return f->base.n_unknown_fields != 0 ||
	       (env && (env->base.n_unknown_fields != 0 ||
			(env->batch && env->batch->base.n_unknown_fields) ||
			(env->person && env->person->base.n_unknown_fields)));
}

/* A protobuf varint at *p (below end): 0, or -1 if it runs off the end
 * or is longer than ten bytes. */
static int raw_varint(const uint8_t **p, const uint8_t *end, uint64_t *out)
{
	uint64_t v = 0;

	for (unsigned shift = 0; shift < 70 && *p < end; shift += 7) {
		uint8_t b = *(*p)++;

		v |= (uint64_t)(b & 0x7f) << (shift < 64 ? shift : 0);
		if (!(b & 0x80)) {
			*out = v;
			return 0;
		}
	}
	return -1;
}

/*
 * Frame.version (field 1, a varint) read from the raw bytes, before the
 * rest is decoded: a later wire version may lay out the other fields in
 * ways version 1 cannot decode, and must still be answered
 * REJECT_UNSUPPORTED_VERSION (PROTOCOL.md 3.1, step 2), not
 * REJECT_BAD_FRAME.  1 when a version field was found (the last one
 * counts, as in protobuf), 0 when none was found before the bytes ended
 * or stopped making sense.
 */
static int raw_version(const uint8_t *buf, size_t len, uint64_t *out)
{
	const uint8_t *p = buf, *end = buf + len;
	uint64_t tag, v;
	int found = 0;

	while (p < end && raw_varint(&p, end, &tag) == 0) {
		if ((tag & 7) == 0 && raw_varint(&p, end, &v) != 0)
			break;
		if ((tag & 7) == 0 && (tag >> 3) == 1) {
			*out = v;
			found = 1;
		} else if ((tag & 7) == 1 || (tag & 7) == 5) {
			size_t n = (tag & 7) == 1 ? 8 : 4;

			if ((size_t)(end - p) < n)
				break;
			p += n;
		} else if ((tag & 7) == 2) {
			if (raw_varint(&p, end, &v) != 0 ||
			    v > (uint64_t)(end - p))
				break;
			p += v;
		} else if ((tag & 7) != 0) {
			break;
		}
	}
	return found;
}

int ppx_frame_decode(Ppx__V1__Frame **out, const uint8_t *buf, size_t len)
{
	Ppx__V1__Frame *f;
	uint64_t version = 0;

	*out = NULL;
	if (len > PPX_FRAME_MAX)
		return ppx_error_set(PPX_ETOOBIG,
				     "frame of %zu bytes exceeds the %d-byte cap",
				     len, PPX_FRAME_MAX);
	if (raw_version(buf, len, &version) && version != 0 &&
	    version != PPX__V1__WIRE_VERSION__WIRE_VERSION_1)
		return ppx_error_set(PPX_EVERSION,
				     "frame has wire version %llu; this daemon "
				     "speaks version 1",
				     (unsigned long long)version);
	f = ppx__v1__frame__unpack(NULL, len, buf);
	if (!f)
		return ppx_error_set(PPX_EFRAME,
				     "frame of %zu bytes is not a ppx Frame", len);
	if (f->version == PPX__V1__WIRE_VERSION__WIRE_VERSION_UNSPECIFIED) {
		ppx__v1__frame__free_unpacked(f, NULL);
		return ppx_error_set(PPX_EFRAME, "frame has no version");
	}
	if (f->version != PPX__V1__WIRE_VERSION__WIRE_VERSION_1) {
		unsigned v = f->version;

		ppx__v1__frame__free_unpacked(f, NULL);
		return ppx_error_set(PPX_EVERSION,
				     "frame has wire version %u; this daemon "
				     "speaks version 1",
				     v);
	}
	if (f->content_case == PPX__V1__FRAME__CONTENT__NOT_SET) {
		ppx__v1__frame__free_unpacked(f, NULL);
		return ppx_error_set(PPX_EFRAME, "frame carries nothing");
	}
	if (has_unknown_fields(f)) {
		ppx__v1__frame__free_unpacked(f, NULL);
		return ppx_error_set(PPX_EFRAME,
				     "frame carries fields unknown to wire "
				     "version 1");
	}
	*out = f;
	return 0;
}

/* The envelope's signature, over the exact received bytes. */
static int check_signature(const ppx_cert *cert,
			   const Ppx__V1__Envelope *env)
{
	uint8_t *tbs = NULL;
	size_t tbslen = 0;
	int rc;

	if (env->batch)
		return ppx_batch_verify(cert, env);
	rc = to_be_signed(&tbs, &tbslen, env->purpose, env->signed_body.data,
			  env->signed_body.len);
	if (rc != 0)
		return rc;
	rc = ppx_cert_verify_signature(cert, env->signature.data,
				       env->signature.len, tbs, tbslen);
	free(tbs);
	return rc;
}

int ppx_envelope_verify(const ppx_trust *trust, const Ppx__V1__Envelope *env,
			int purpose, const char *expected_agency, time_t now,
			ppx_identity *signer)
{
	const ppx_cert *cert;
	int rc;

	memset(signer, 0, sizeof(*signer));
	if ((int)env->purpose != purpose)
		return ppx_error_set(PPX_EPURPOSE,
				     "envelope signed for purpose %d where %d "
				     "was expected",
				     env->purpose, purpose);
	if (env->person && purpose != PPX__V1__SIGNED_PURPOSE__SIGNED_BODY)
		return ppx_error_set(PPX_EFRAME,
				     "a personal signature rides only on a "
				     "message, not on purpose %d", purpose);
	if (env->batch && purpose != PPX__V1__SIGNED_PURPOSE__SIGNED_BODY)
		return ppx_error_set(PPX_EBATCH,
				     "a batch signature covers messages only, "
				     "not purpose %d", purpose);
	if (env->signer_fingerprint.len != PPX_FINGERPRINT_LEN ||
	    !(cert = ppx_trust_find(trust, env->signer_fingerprint.data)))
		return ppx_error_set(PPX_EUNKNOWN_SIGNER,
				     "no known certificate has the signer's "
				     "fingerprint");
	if ((int)env->algorithm != ppx_cert_algorithm(cert))
		return ppx_error_set(PPX_EBADSIG,
				     "envelope names signature algorithm %d but "
				     "the signer's key is of another kind",
				     env->algorithm);
	rc = check_signature(cert, env);
	if (rc != 0)
		return rc;
	rc = ppx_trust_check(trust, cert, now, PPX_ROLE_SIGNING, signer);
	if (rc != 0)
		return rc;
	if (expected_agency && strcmp(signer->agency, expected_agency) != 0)
		return ppx_error_set(PPX_ESENDER,
				     "envelope signed by %s arrived over the "
				     "link of %s",
				     signer->agency, expected_agency);
	return 0;
}

static int ppxi_nonempty(const char *s)
{
	return s && s[0];
}

int ppx_body_check(const Ppx__V1__Body *b, const char *signer_agency)
{
	if (b->message_id.len != PPX_MESSAGE_ID_LEN)
		return ppx_error_set(PPX_EBODY,
				     "message_id must be %d bytes, not %zu",
				     PPX_MESSAGE_ID_LEN, b->message_id.len);
	if (!ppxi_nonempty(b->sender_agency) ||
	    strcmp(b->sender_agency, signer_agency) != 0)
		return ppx_error_set(
			PPX_ESENDER,
			"body claims sender %s but is signed by %s",
			ppxi_nonempty(b->sender_agency) ? b->sender_agency
							: "(none)",
			signer_agency);
	if (!b->sender_person || !ppxi_nonempty(b->sender_person->id) ||
	    !ppxi_nonempty(b->sender_person->name))
		return ppx_error_set(PPX_EBODY,
				     "sender_person must name the person who sent "
				     "it (id and name)");
	if (b->n_recipients == 0)
		return ppx_error_set(PPX_EBODY, "recipients is empty");
	for (size_t i = 0; i < b->n_recipients; i++)
		if (!ppxi_nonempty(b->recipients[i]))
			return ppx_error_set(PPX_EBODY,
					     "recipients[%zu] is empty", i);
	if (b->created_ms <= 0)
		return ppx_error_set(PPX_EBODY, "created_ms is missing");
	if (b->marking == PPX__V1__PROTECTIVE_MARKING__MARKING_UNSPECIFIED)
		return ppx_error_set(PPX_EBODY, "marking is missing");
	if (b->payload_case == PPX__V1__BODY__PAYLOAD__NOT_SET)
		return ppx_error_set(PPX_EBODY, "the body carries no payload");
	return 0;
}

/* Verify, decode and check the message in an already-decoded frame. */
static int open_envelope(ppx_opened *o, const ppx_trust *trust,
			 const Ppx__V1__Envelope *env,
			 const char *expected_agency, time_t now)
{
	int rc = ppx_envelope_verify(trust, env,
				     PPX__V1__SIGNED_PURPOSE__SIGNED_BODY,
				     expected_agency, now, &o->signer);

	if (rc != 0)
		return rc;
	o->body = ppx__v1__body__unpack(NULL, env->signed_body.len,
					env->signed_body.data);
	if (!o->body)
		return ppx_error_set(PPX_EBODY,
				     "signed body from %s does not decode",
				     o->signer.agency);
	rc = ppx_body_check(o->body, o->signer.agency);
	if (rc != 0)
		return rc;
	return ppx_sha256(o->body_hash, env->signed_body.data,
			  env->signed_body.len);
}

int ppx_message_open(ppx_opened **out, const ppx_trust *trust,
		     const uint8_t *frame, size_t len,
		     const char *expected_agency, time_t now)
{
	return ppx_message_open_batch(out, trust, frame, len, expected_agency,
				      now, 1);
}

int ppx_message_open_batch(ppx_opened **out, const ppx_trust *trust,
			   const uint8_t *frame, size_t len,
			   const char *expected_agency, time_t now,
			   int accept_batch)
{
	Ppx__V1__Frame *f = NULL;
	ppx_opened *o;
	int rc;

	*out = NULL;
	rc = ppx_frame_decode(&f, frame, len);
	if (rc != 0)
		return rc;
	if (f->content_case != PPX__V1__FRAME__CONTENT_MESSAGE) {
		ppx__v1__frame__free_unpacked(f, NULL);
		return ppx_error_set(PPX_EPURPOSE, "frame carries no message");
	}
	if (f->message->batch && !accept_batch) {
		ppx__v1__frame__free_unpacked(f, NULL);
		return ppx_error_set(PPX_EBATCH, "batch-signed message refused: "
				     "this daemon does not accept batch "
				     "signatures ([delivery] "
				     "batch_signatures = no)");
	}
	o = calloc(1, sizeof(*o));
	if (!o) {
		ppx__v1__frame__free_unpacked(f, NULL);
		return ppx_error_set(PPX_ENOMEM, "out of memory");
	}
	o->frame = f;
	rc = open_envelope(o, trust, f->message, expected_agency, now);
	if (rc != 0) {
		ppx_opened_free(o);
		return rc;
	}
	*out = o;
	return 0;
}

void ppx_opened_free(ppx_opened *self)
{
	if (!self)
		return;
	if (self->body)
		ppx__v1__body__free_unpacked(self->body, NULL);
	if (self->frame)
		ppx__v1__frame__free_unpacked(self->frame, NULL);
	free(self);
}
