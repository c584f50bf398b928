/*
 * error.h — the error codes of libppx and the last-error detail.
 *
 * Every libppx function returns 0 on success or one of the negative codes
 * below.  Expected failures have a named code; the human-readable detail of
 * the most recent failure on this thread (what failed, on what, and what to
 * do) is available from ppx_error_last().
 *
 * Codes from PPX_ETOOBIG to PPX_EBADDIR are refusals of input from outside;
 * ppx_error_reject_reason() maps each to the RejectReason put on the wire.
 */
#ifndef PPX_ERROR_H
#define PPX_ERROR_H

enum ppx_error {
	PPX_OK = 0,
	PPX_EINVAL = -1,	/* bad argument or malformed local input */
	PPX_ENOMEM = -2,
	PPX_EIO = -3,		/* file system or socket failure */
	PPX_ENOTFOUND = -4,
	PPX_EDUP = -5,		/* already present (duplicate message id) */
	PPX_EPERM = -6,		/* permissions, e.g. key file not 0600 */
	PPX_ECORRUPT = -7,	/* stored data fails its checks */
	PPX_EFULL = -8,		/* storage full: new work refused */
	PPX_ECRYPTO = -9,	/* a local cryptographic operation failed */
	PPX_EPROOF = -10,	/* a Merkle proof does not verify */
	PPX_ERANGE = -11,	/* index or size out of range */
	PPX_EAGAIN = -12,	/* nothing to read now: try again later */
	/* Refusals of input from outside, in pipeline order. */
	PPX_ETOOBIG = -20,
	PPX_EFRAME = -21,
	PPX_EVERSION = -22,
	PPX_EPURPOSE = -23,
	PPX_EBATCH = -24,
	PPX_EUNKNOWN_SIGNER = -25,
	PPX_EBADSIG = -26,
	PPX_EUNTRUSTED = -27,
	PPX_EEXPIRED = -28,
	PPX_ENOTYETVALID = -29,
	PPX_EREVOKED = -30,
	PPX_ECRL = -31,
	PPX_ESENDER = -32,
	PPX_EBODY = -33,
	PPX_EPOLICY = -34,
	PPX_ENOTRECIPIENT = -35,
	PPX_ECONFLICT = -36,	/* a partner record update not based on the
				 * latest version: merge and resend */
	PPX_ESKEW = -37,	/* dated too far in the future: the clocks
				 * disagree; accepted once they agree */
	PPX_EREUSED = -38,	/* a message id its sender already used for
				 * a different body */
	PPX_EQUOTA = -39,	/* the sender's log-growth quota is spent:
				 * retry later */
	PPX_EBUSY = -40,	/* cannot take it now: retry later */
	PPX_EPERSON_REQUIRED = -41,	/* the policy wants a personal
					 * signature on this and there is none */
	PPX_EBADPERSON = -42,	/* a personal signature that does not hold
				 * (PROTOCOL.md 3.2): the detail says why */
	PPX_ENOTLISTED = -43,	/* a directory is in force and does not list
				 * the agency as active, or the certificate
				 * (PROTOCOL.md 13.4) */
	PPX_ESTALE = -44,	/* a directory not newer than the one held */
	PPX_EBADDIR = -45,	/* a directory that does not verify, is
				 * malformed, or is outside its validity */
};

/* The fixed name of a code, e.g. "signature does not verify". */
const char *ppx_strerror(int code);

/*
 * Record the detail of a failure for this thread and return `code`, so that
 * callers can write `return ppx_error_set(PPX_EPERM, "...", ...)`.
 */
int ppx_error_set(int code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The detail of the last failure on this thread ("" if none). */
const char *ppx_error_last(void);

/* The code of the last failure on this thread (0 if none). */
int ppx_error_last_code(void);

void ppx_error_clear(void);

/* The wire RejectReason for a refusal code (REJECT_INTERNAL otherwise). */
int ppx_error_reject_reason(int code);

#endif
