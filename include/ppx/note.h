/*
 * note.h — ppx checkpoints and cosignatures in the C2SP text forms
 * (signed-note, tlog-checkpoint, tlog-cosignature/v1), so that partners'
 * witnessing can be checked by existing transparency tooling.
 *
 * A checkpoint of agency A at tree size N with root R is the note text
 *
 *     A "/ppx-log" LF  decimal(N) LF  base64(R) LF
 *
 * (no extension lines).  The log signs that text exactly; a witness W signs
 *
 *     "cosignature/v1" LF "time " decimal(T) LF  note-text
 *
 * with T its POSIX time in seconds.  Neither text holds a NUL or begins
 * with "ppx/v1/", so neither can pass for bytes ppx signs as an envelope
 * (docs/PROTOCOL.md 11.1).  The signer process signs these two forms and
 * no other besides ppx's own (ppx_note_sign_form()).
 */
#ifndef PPX_NOTE_H
#define PPX_NOTE_H

#include <stddef.h>
#include <stdint.h>

#include "ppx/pki.h"

#define PPX_NOTE_LOG_SUFFIX "/ppx-log"
#define PPX_NOTE_WITNESS_SUFFIX "/ppx-witness"
#define PPX_NOTE_COSIG_HEADER "cosignature/v1\n"
/* A note text or cosigned message, bytes: origin, size, root, time. */
#define PPX_NOTE_MAX (PPX_NAME_MAX + 160)
/* A signature line: em dash, name, key id, time, a 64-byte signature. */
#define PPX_NOTE_LINE_MAX (PPX_NAME_MAX + 192)

/* Signature types of the key ids (C2SP signed-note). */
#define PPX_NOTE_TYPE_ED25519 0x01
#define PPX_NOTE_TYPE_COSIGNATURE_V1 0x04

/*
 * The note text of a checkpoint into `out` (`cap` bytes, NUL-terminated;
 * *len without the NUL).  PPX_EINVAL if the agency name cannot be an
 * origin (empty, or holding a byte <= 0x20, 0x7f or '+').
 */
int ppx_note_checkpoint_text(char *out, size_t cap, size_t *len,
			     const char *agency, uint64_t tree_size,
			     const uint8_t root[32]);

/*
 * Parse a note text that is exactly what ppx_note_checkpoint_text() makes:
 * the agency (before "/ppx-log"), size and root.  PPX_EINVAL otherwise
 * (leading zeros, extension lines, a root that is not 32 bytes ...).
 */
int ppx_note_checkpoint_parse(char agency[PPX_NAME_MAX], uint64_t *tree_size,
			      uint8_t root[32], const uint8_t *text,
			      size_t len);

/* The message a cosigner signs at time `t` over `note` (the note text). */
int ppx_note_cosigned_message(char *out, size_t cap, size_t *len,
			      uint64_t t, const char *note, size_t note_len);

/*
 * What the signer may sign besides ppx's prefixed forms: 1 for the note
 * text of a checkpoint of `own_agency`, 2 for a cosigned message over a
 * well-formed checkpoint note of any agency, 0 for anything else.
 */
int ppx_note_sign_form(const uint8_t *msg, size_t len, const char *own_agency);

/* The key id: SHA-256(name || LF || type || public key)[:4]. */
void ppx_note_key_id(uint8_t out[4], const char *name, uint8_t type,
		     const uint8_t *public_key, size_t public_len);

/*
 * A signature line "— name base64(key id || [time, 8 bytes BE] || sig)" LF
 * into `out`; `t` is written only for type PPX_NOTE_TYPE_COSIGNATURE_V1.
 * The key id is computed from the Ed25519 key of `cert`: PPX_EINVAL if it
 * holds another kind of key (P-256 agencies have no C2SP form).
 */
int ppx_note_signature_line(char *out, size_t cap, const char *name,
			    uint8_t type, const ppx_cert *cert, uint64_t t,
			    const uint8_t *sig, size_t sig_len);

/* The raw 32-byte Ed25519 public key of a signing certificate. */
int ppx_cert_ed25519_public(const ppx_cert *cert, uint8_t out[32]);

#endif
