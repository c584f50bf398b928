/*
 * entry.h — what a log entry holds, decoded once: the message of a SENT,
 * RECEIVED or REJECTED entry and the receipt of a RECEIPT_* entry.
 *
 * A log entry keeps the exact bytes concerned in its `data` (proto/
 * ppx.proto, EntryKind): the whole Frame as sent or received for SENT and
 * RECEIVED, the whole receipt Frame for RECEIPT_SENT and RECEIPT_RECEIVED,
 * and the refused bytes, capped, for REJECTED.  Every reader of the log
 * (the daemon, ppx, ppx verify's checks) gets the Body or ReceiptBody out
 * of those bytes here, so that the frame is unwrapped the same way
 * everywhere.  Nothing is verified: the log holds what was verified when
 * it was written, and `ppx verify` checks the signatures again.
 *
 * Which kinds hold what:
 *
 *   SENT, RECEIVED      a Body, always (a frame that does not decode is a
 *                       damaged log: PPX_ECORRUPT)
 *   REJECTED            a Body when the refused bytes are a whole frame
 *                       carrying a message whose body decodes (a refusal
 *                       after the decode, e.g. REJECT_CONFLICT or
 *                       REJECT_POLICY); PPX_EBODY when they are not (a
 *                       refused frame need be nothing at all)
 *   RECEIPT_SENT,
 *   RECEIPT_RECEIVED    a ReceiptBody (PPX_ECORRUPT when it does not
 *                       decode)
 *   every other kind    neither: PPX_ENOTFOUND
 */
#ifndef PPX_ENTRY_H
#define PPX_ENTRY_H

#include <stdint.h>

#include "ppx/envelope.h"
#include "ppx.pb-c.h"

/* Does an entry of this kind (Ppx__V1__EntryKind) hold a message?  SENT,
 * RECEIVED and REJECTED do (a REJECTED one may not decode). */
int ppx_entry_has_body(int kind);

/*
 * The Body of the message entry `e` logged, decoded from its frame.  The
 * caller frees *out with ppx__v1__body__free_unpacked(*out, NULL).
 * `body_hash`, unless NULL, receives the SHA-256 of the signed body bytes
 * (what a receipt names the message by).  On failure *out is NULL and the
 * code says why (see above): PPX_ENOTFOUND for a kind that holds no
 * message, PPX_ECORRUPT for a SENT or RECEIVED entry whose frame or body
 * does not decode, PPX_EBODY for a REJECTED one, PPX_ENOMEM.
 */
int ppx_entry_body(Ppx__V1__Body **out, uint8_t body_hash[PPX_HASH_LEN],
		   const Ppx__V1__LogEntry *e);

/* Only the SHA-256 of the signed body bytes of message entry `e`, without
 * decoding the body (the outbox matching a receipt to what it sent).
 * Codes as ppx_entry_body(). */
int ppx_entry_body_hash(uint8_t out[PPX_HASH_LEN], const Ppx__V1__LogEntry *e);

/*
 * Who signed message entry `e` personally (Envelope.person): 1 with `who`
 * filled from the person certificate (name, agency, fingerprint), 0 when
 * the message carries no personal signature.  The signature is not judged
 * again here: the daemon verified it before it logged the message
 * (docs/PROTOCOL.md 3.2).  Codes as ppx_entry_body(), and PPX_EINVAL for
 * a certificate that does not decode.
 */
int ppx_entry_person(ppx_identity *who, const Ppx__V1__LogEntry *e);

/*
 * The ReceiptBody a RECEIPT_SENT or RECEIPT_RECEIVED entry logged.  The
 * caller frees *out with ppx__v1__receipt_body__free_unpacked(*out,
 * NULL).  PPX_ENOTFOUND for any other kind, PPX_ECORRUPT when it does not
 * decode; *out is NULL on failure.
 */
int ppx_entry_receipt(Ppx__V1__ReceiptBody **out,
		      const Ppx__V1__LogEntry *e);

#endif
