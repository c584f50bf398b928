/*
 * error.c — error codes, their names, and the per-thread detail of the last
 * failure.
 *
 * Functions across libppx return a negative code and, where there is more
 * to say, record a sentence with ppx_error_set(): what failed, on what, and
 * what to do.  The daemon logs that sentence and the client prints it.
 *
 * The sentence often quotes a partner's bytes, and it travels on: into
 * the detail of a signed receipt, a refusal entry of the log, the daemon's
 * log lines.  So it is kept text here, once for all of them: whatever is
 * not UTF-8, and any control character (a newline would forge a log
 * line), is stored escaped as \xNN (ppx_text_escape).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ppx/error.h"
#include "ppx/text.h"
#include "ppx.pb-c.h"

static _Thread_local char last_msg[512];
static _Thread_local int last_code;

struct code_info {
	int code;
	const char *name;
	int reject;		/* Ppx__V1__RejectReason */
};

static const struct code_info codes[] = {
	{PPX_OK, "success", PPX__V1__REJECT_REASON__REJECT_NONE},
	{PPX_EINVAL, "invalid argument", PPX__V1__REJECT_REASON__REJECT_INTERNAL},
	{PPX_ENOMEM, "out of memory", PPX__V1__REJECT_REASON__REJECT_INTERNAL},
	{PPX_EIO, "input/output error", PPX__V1__REJECT_REASON__REJECT_INTERNAL},
	{PPX_ENOTFOUND, "not found", PPX__V1__REJECT_REASON__REJECT_INTERNAL},
	{PPX_EDUP, "duplicate", PPX__V1__REJECT_REASON__REJECT_NONE},
	{PPX_EPERM, "permission refused", PPX__V1__REJECT_REASON__REJECT_INTERNAL},
	{PPX_ECORRUPT, "stored data is corrupt",
	 PPX__V1__REJECT_REASON__REJECT_INTERNAL},
	{PPX_EFULL, "storage full", PPX__V1__REJECT_REASON__REJECT_STORAGE_FULL},
	{PPX_ECRYPTO, "cryptographic operation failed",
	 PPX__V1__REJECT_REASON__REJECT_INTERNAL},
	{PPX_EPROOF, "proof does not verify",
	 PPX__V1__REJECT_REASON__REJECT_INTERNAL},
	{PPX_ERANGE, "out of range", PPX__V1__REJECT_REASON__REJECT_INTERNAL},
	{PPX_EAGAIN, "nothing to read now",
	 PPX__V1__REJECT_REASON__REJECT_INTERNAL},
	{PPX_ETOOBIG, "frame too large", PPX__V1__REJECT_REASON__REJECT_TOO_LARGE},
	{PPX_EFRAME, "frame does not decode",
	 PPX__V1__REJECT_REASON__REJECT_BAD_FRAME},
	{PPX_EVERSION, "unsupported wire version",
	 PPX__V1__REJECT_REASON__REJECT_UNSUPPORTED_VERSION},
	{PPX_EPURPOSE, "signature purpose does not fit the frame",
	 PPX__V1__REJECT_REASON__REJECT_WRONG_PURPOSE},
	{PPX_EBATCH, "batch signatures are not supported",
	 PPX__V1__REJECT_REASON__REJECT_BATCH_UNSUPPORTED},
	{PPX_EUNKNOWN_SIGNER, "unknown signer certificate",
	 PPX__V1__REJECT_REASON__REJECT_UNKNOWN_SIGNER},
	{PPX_EBADSIG, "signature does not verify",
	 PPX__V1__REJECT_REASON__REJECT_BAD_SIGNATURE},
	{PPX_EUNTRUSTED, "certificate does not chain to the federation CA",
	 PPX__V1__REJECT_REASON__REJECT_UNTRUSTED_SIGNER},
	{PPX_EEXPIRED, "certificate expired",
	 PPX__V1__REJECT_REASON__REJECT_CERT_EXPIRED},
	{PPX_ENOTYETVALID, "certificate not yet valid",
	 PPX__V1__REJECT_REASON__REJECT_CERT_NOT_YET_VALID},
	{PPX_EREVOKED, "certificate revoked",
	 PPX__V1__REJECT_REASON__REJECT_CERT_REVOKED},
	{PPX_ECRL, "no current CRL", PPX__V1__REJECT_REASON__REJECT_CRL_UNAVAILABLE},
	{PPX_ESENDER, "signer is not the sending agency",
	 PPX__V1__REJECT_REASON__REJECT_SENDER_MISMATCH},
	{PPX_EBODY, "message body invalid", PPX__V1__REJECT_REASON__REJECT_BAD_BODY},
	{PPX_EPOLICY, "refused by policy", PPX__V1__REJECT_REASON__REJECT_POLICY},
	{PPX_ENOTRECIPIENT, "not a recipient",
	 PPX__V1__REJECT_REASON__REJECT_NOT_RECIPIENT},
	{PPX_ECONFLICT, "concurrent partner record update",
	 PPX__V1__REJECT_REASON__REJECT_CONFLICT},
	{PPX_ESKEW, "dated in the future: clocks disagree",
	 PPX__V1__REJECT_REASON__REJECT_CLOCK_SKEW},
	{PPX_EREUSED, "message id reused for a different body",
	 PPX__V1__REJECT_REASON__REJECT_ID_REUSED},
	{PPX_EQUOTA, "log-growth quota spent: retry later",
	 PPX__V1__REJECT_REASON__REJECT_OVER_QUOTA},
	{PPX_EBUSY, "busy: retry later", PPX__V1__REJECT_REASON__REJECT_BUSY},
	{PPX_EPERSON_REQUIRED, "a personal signature is required",
	 PPX__V1__REJECT_REASON__REJECT_PERSON_SIGNATURE_REQUIRED},
	{PPX_EBADPERSON, "personal signature does not hold",
	 PPX__V1__REJECT_REASON__REJECT_BAD_PERSON_SIGNATURE},
	{PPX_ENOTLISTED, "not listed in the federation directory",
	 PPX__V1__REJECT_REASON__REJECT_NOT_IN_DIRECTORY},
	{PPX_ESTALE, "directory not newer than the one held",
	 PPX__V1__REJECT_REASON__REJECT_DIRECTORY_STALE},
	{PPX_EBADDIR, "directory does not verify",
	 PPX__V1__REJECT_REASON__REJECT_BAD_DIRECTORY},
};

static const struct code_info *lookup(int code)
{
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		if (codes[i].code == code)
			return &codes[i];
	return NULL;
}

const char *ppx_strerror(int code)
{
	const struct code_info *c = lookup(code);

	return c ? c->name : "unknown error";
}

int ppx_error_reject_reason(int code)
{
	const struct code_info *c = lookup(code);

	return c ? c->reject : PPX__V1__REJECT_REASON__REJECT_INTERNAL;
}

int ppx_error_set(int code, const char *fmt, ...)
{
	char msg[sizeof(last_msg)];
	va_list ap;

	/* Format apart first: callers may wrap the previous message,
	 * passing ppx_error_last() as an argument. */
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ppx_text_escape(last_msg, sizeof(last_msg), msg, strlen(msg));
	last_code = code;
	return code;
}

const char *ppx_error_last(void)
{
	return last_msg;
}

int ppx_error_last_code(void)
{
	return last_code;
}

void ppx_error_clear(void)
{
	last_msg[0] = '\0';
	last_code = 0;
}
