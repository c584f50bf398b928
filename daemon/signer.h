/*
 * signer.h — the agency's signing key in a process of its own.
 *
 * signer_start() forks the signer process, which alone reads the signing
 * key, and returns a ppx_signer whose signatures it makes; the protocol
 * between the two is described in signer.c.  The request checks are
 * exported for the unit tests.
 */
#ifndef PPXD_SIGNER_H
#define PPXD_SIGNER_H

#include <stddef.h>
#include <stdint.h>

#include "ppx/config.h"
#include "ppx/pki.h"

#define SIGNER_VERSION 1
#define SIGNER_CHUNK (32 * 1024)	/* payload bytes in one packet */
#define SIGNER_BATCH 32		/* requests written before their answers are read */
#define SIGNER_TEXT_MAX 256		/* an error answer's text */
#define SIGNER_TIMEOUT_MS 10000		/* for any one packet */
#define SIGNER_LABEL_MAX 32		/* "ppx/v1/" label 0x00, at most */

enum signer_type {
	SIGNER_SIGN = 1,	/* request: sign the payload */
	SIGNER_SIGNATURE = 2,	/* answer: the signature */
	SIGNER_ERROR = 3,	/* answer: refused; status and text say why */
	SIGNER_READY = 4,	/* the child's first packet: key loaded or not */
};

/* Every packet but a request's continuations begins with this. */
struct signer_hdr {
	uint16_t version;	/* SIGNER_VERSION */
	uint16_t type;		/* enum signer_type */
	uint32_t id;		/* request id; an answer repeats it */
	uint32_t len;		/* payload bytes in all */
	int32_t status;		/* 0, or the ppx_error code of an error */
};

#define SIGNER_HDR_LEN sizeof(struct signer_hdr)

struct signer_proc;

/*
 * Fork the signer process for cfg's signing key and certificate and wait
 * until it has loaded the key; then *out signs through it, and one probe
 * signature has been verified against the certificate.  *proc is the
 * process, borrowed from *out (ppx_signer_free() ends it).  Call before
 * any socket is opened: the child keeps only its end of the socket pair.
 */
int signer_start(ppx_signer **out, struct signer_proc **proc,
		 const struct ppx_config *cfg);

/*
 * Nonzero once the signer process has died, closed its socket, failed to
 * answer in time or answered nonsense; ppx_error_last() then says which.
 * Reaps the child without waiting.
 */
int signer_lost(struct signer_proc *self);

/* How long any one packet may take to go or come (SIGNER_TIMEOUT_MS
 * unless set; for tests). */
int signer_set_timeout(struct signer_proc *self, int ms);

/* The parent's end of the socket pair and the child's pid (for tests). */
int signer_fd(const struct signer_proc *self);
int signer_pid(const struct signer_proc *self);

/*
 * Check the first packet of a request, `n` bytes at `pkt` (`trunc`: it
 * was longer than that), against a limit of `max` payload bytes; fill
 * `out` with its header.  0, or PPX_EFRAME (short, truncated, wrong type
 * or a payload that does not fit the length), PPX_EVERSION, PPX_ETOOBIG,
 * with the detail set.
 */
int signer_parse_request(struct signer_hdr *out, const uint8_t *pkt,
			 size_t n, int trunc, size_t max);

/* 0 if `msg` begins with one of ppx's to-be-signed prefixes, or is the
 * checkpoint note text of `agency` or a cosignature/v1 message over a
 * checkpoint note (lib/note.c); else PPX_EPURPOSE. */
int signer_check_message(const uint8_t *msg, size_t len,
			 const char *agency);

#endif
