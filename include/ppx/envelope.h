/*
 * envelope.h — building, signing, verifying and opening envelopes.
 *
 * A message travels as Frame{version=1, message=Envelope}.  The Envelope
 * carries `signed_body`, the exact bytes that were signed; receivers verify
 * those bytes as received and only then decode them (protobuf encoding is
 * not canonical, so nothing is ever re-serialised to be verified).
 *
 * What is signed is   "ppx/v1/" label 0x00 signed_body   where label is
 * "body", "receipt" or "checkpoint" (SignedPurpose), so that bytes signed as
 * one kind cannot be accepted as another.
 *
 * The receive order (DESIGN.md) is: size cap; frame decode and version;
 * signer certificate by fingerprint; signature over the exact bytes; chain to
 * the CA; validity period; CRL; signer = the agency the transport
 * authenticated; body decode and completeness.  The first failure stops the
 * check and its code names it.
 */
#ifndef PPX_ENVELOPE_H
#define PPX_ENVELOPE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "ppx/merkle.h"
#include "ppx/pki.h"
#include "ppx.pb-c.h"

#define PPX_FRAME_MAX (1024 * 1024)	/* bytes; larger frames are refused */
#define PPX_MESSAGE_ID_LEN 16
#define PPX_HASH_LEN 32

/* A fresh random 128-bit message id. */
int ppx_message_id_new(uint8_t out[PPX_MESSAGE_ID_LEN]);

/* Lower-case hex of `len` bytes into `out` (2*len+1 bytes). */
void ppx_hex(char *out, const uint8_t *in, size_t len);

/* The value of hex digit c (either case), or -1. */
int ppx_hex_digit(int c);

/* The protobuf varint at buf[*pos..len), *pos moved past it: 0, or -1 if
 * it is cut short or longer than 10 bytes.  For the few places that read
 * the wire format itself (which fields a frame holds, an entry's split). */
int ppx_varint_read(const uint8_t *buf, size_t len, size_t *pos,
		    uint64_t *out);

/* SHA-256. */
int ppx_sha256(uint8_t out[PPX_HASH_LEN], const uint8_t *data, size_t len);

/*
 * Sign `body` (already serialised) for `purpose` (a Ppx__V1__SignedPurpose)
 * and wrap it in a version-1 Frame whose content matches the purpose.  The
 * serialised frame is returned in *out (caller frees with free()).
 */
/*
 * The SignedPurpose whose to-be-signed prefix ("ppx/v1/" label 0x00) `msg`
 * begins with, or 0 if it begins with none.  The labels are listed once,
 * in envelope.c; the daemon's signer process (daemon/signer.c) signs
 * nothing else.
 */
int ppx_tbs_purpose(const uint8_t *msg, size_t len);

int ppx_frame_seal(uint8_t **out, size_t *outlen, ppx_signer *signer,
		   int purpose, const uint8_t *body, size_t bodylen);

/*
 * Put personal signature `ps` (include/ppx/person.h) into the message
 * frame *frame (*len bytes, from ppx_body_seal and the like): the frame is
 * re-packed around the same signed_body and agency signature, and *frame
 * replaced (the old buffer freed).  The caller keeps `ps`.
 */
int ppx_frame_set_person(uint8_t **frame, size_t *len,
			 const Ppx__V1__PersonSignature *ps);

/* Serialise and seal a Body (purpose SIGNED_BODY).  Every string of the
 * serialised body must be text (ppx_text_check): PPX_EBODY naming the
 * field otherwise, and nothing is signed. */
int ppx_body_seal(uint8_t **out, size_t *outlen, ppx_signer *signer,
		  const Ppx__V1__Body *body);

/* The bytes ppx_body_seal() signs for `body`: serialised, within the frame
 * cap (PPX_ETOOBIG) and text (PPX_EBODY naming the field).  The caller
 * frees *out. */
int ppx_body_pack(uint8_t **out, size_t *outlen, const Ppx__V1__Body *body);

/*
 * Seal n serialised bodies (from ppx_body_pack) as message frames with
 * one ppx_signer_sign_many(): frames[i] (frame_len[i] bytes), each freed
 * by the caller.  On failure no frame is left allocated.
 */
int ppx_bodies_seal(uint8_t **frames, size_t *frame_len, ppx_signer *signer,
		    uint8_t *const *bodies, const size_t *body_len, size_t n);

/*
 * Batch signatures (PROTOCOL.md 3.4, lib/envelope_batch.c).  The leaf of a
 * body is SHA-256(0x00 || "ppx/v1/body" 0x00 || body); the signature covers
 * the PPX_BATCH_TBS_LEN bytes "ppx/v1/batch" 0x00 || uint64_be(tree_size)
 * || root.  A batch holds 1 to PPX_BATCH_TREE_MAX bodies.
 */
#define PPX_BATCH_TBS_LEN (13 + 8 + PPX_HASH_LEN)
#define PPX_BATCH_TREE_MAX PPX_MERKLE_MEM_MAX

void ppx_batch_leaf(ppx_hash out, const uint8_t *body, size_t len);
void ppx_batch_tbs_of_root(uint8_t out[PPX_BATCH_TBS_LEN], uint64_t tree_size,
			   const ppx_hash root);

/* The bytes env's batch signature must cover, from its body and path:
 * PPX_EBATCH (not a message envelope), PPX_EFRAME (a malformed inclusion),
 * PPX_EBADSIG (a path that does not fit its tree). */
int ppx_batch_tbs(uint8_t out[PPX_BATCH_TBS_LEN], const Ppx__V1__Envelope *env);

/* Verify env's batch signature with `cert` (found by env's fingerprint):
 * ppx_batch_tbs(), then the signature, unless this thread verified the same
 * fingerprint, bytes and signature lately.  0 or a code as above. */
int ppx_batch_verify(const ppx_cert *cert, const Ppx__V1__Envelope *env);
void ppx_batch_cache_clear(void);

/*
 * Seal n serialised bodies (1 <= n <= PPX_BATCH_TREE_MAX) under one batch
 * signature: one ppx_signer_sign() over the root, frames[i] carrying body
 * i's path.  On failure no frame is left allocated.
 */
int ppx_bodies_seal_batch(uint8_t **frames, size_t *frame_len,
			  ppx_signer *signer, uint8_t *const *bodies,
			  const size_t *body_len, size_t n);

/*
 * Decode a received frame: size cap (PPX_ETOOBIG), a version field other
 * than 1, read from the raw bytes before anything else is decoded
 * (PPX_EVERSION, even when the rest would not decode as version 1),
 * protobuf decode and no version (PPX_EFRAME).  Free with
 * ppx__v1__frame__free_unpacked(f, NULL).
 */
int ppx_frame_decode(Ppx__V1__Frame **out, const uint8_t *buf, size_t len);

/*
 * Verify one envelope's signature and signer at time `now`, for the given
 * purpose.  `expected_agency` is the agency the transport authenticated, or
 * NULL when verifying offline.  Fills `signer` on success.
 */
int ppx_envelope_verify(const ppx_trust *trust, const Ppx__V1__Envelope *env,
			int purpose, const char *expected_agency, time_t now,
			ppx_identity *signer);

/* An opened (verified and decoded) message. */
typedef struct ppx_opened {
	Ppx__V1__Body *body;		/* decoded signed_body, owned */
	Ppx__V1__Frame *frame;		/* the decoded frame, owned: its
					 * message->signed_body holds the
					 * exact bytes verified, for checks
					 * a decoded body cannot serve
					 * (ppx_text_check) */
	ppx_identity signer;		/* the verified signing certificate */
	uint8_t body_hash[PPX_HASH_LEN];	/* SHA-256 of signed_body */
} ppx_opened;

/*
 * Run the whole receive check on a serialised frame that must carry a
 * message.  On failure *out is NULL and the code names the first check that
 * failed (ppx_error_last() says more).
 */
int ppx_message_open(ppx_opened **out, const ppx_trust *trust,
		     const uint8_t *frame, size_t len,
		     const char *expected_agency, time_t now);

/* ppx_message_open(), for a receiver that may refuse batch signatures:
 * with accept_batch 0, a batch-signed message is refused PPX_EBATCH before
 * anything is verified. */
int ppx_message_open_batch(ppx_opened **out, const ppx_trust *trust,
			   const uint8_t *frame, size_t len,
			   const char *expected_agency, time_t now,
			   int accept_batch);
void ppx_opened_free(ppx_opened *self);

/*
 * Check that a decoded Body is complete enough to act on: a 16-byte message
 * id, a sender agency equal to `signer_agency`, a named sending person, at
 * least one recipient, a creation time, a marking, and exactly one payload.
 * PPX_EBODY or PPX_ESENDER.
 */
int ppx_body_check(const Ppx__V1__Body *body, const char *signer_agency);

#endif
