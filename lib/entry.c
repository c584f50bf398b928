/*
 * entry.c — the message or receipt a log entry holds, unwrapped from its
 * logged frame (include/ppx/entry.h says which kinds hold what).
 *
 * Where it sits: every reader of the log — the daemon's event stream and
 * hooks, its duplicate and retry checks, the outbox check of ppx verify,
 * the partner-record lookups, and ppx's reading commands — calls these
 * two functions instead of decoding frames itself.  Frames read off the
 * wire are not log entries: they go through ppx_message_open() and
 * ppx_receipt_open() (envelope.c, receipt.c), which verify as they decode.
 */
#include <string.h>

#include "ppx/entry.h"
#include "ppx/envelope.h"
#include "ppx/error.h"

int ppx_entry_has_body(int kind)
{
	return kind == PPX__V1__ENTRY_KIND__ENTRY_SENT ||
	       kind == PPX__V1__ENTRY_KIND__ENTRY_RECEIVED ||
	       kind == PPX__V1__ENTRY_KIND__ENTRY_REJECTED;
}

static int is_receipt(int kind)
{
	return kind == PPX__V1__ENTRY_KIND__ENTRY_RECEIPT_SENT ||
	       kind == PPX__V1__ENTRY_KIND__ENTRY_RECEIPT_RECEIVED;
}

static const char *kind_name(int kind)
{
	const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(
		&ppx__v1__entry_kind__descriptor, kind);

	return v ? v->name : "unknown";
}

/* A logged frame that does not hold what its kind says: a damaged log,
 * except for REJECTED, whose refused bytes may be anything. */
static int undecodable(const Ppx__V1__LogEntry *e, const char *what)
{
	if (e->kind == PPX__V1__ENTRY_KIND__ENTRY_REJECTED)
		return ppx_error_set(PPX_EBODY, "entry %llu (%s): the refused "
				     "bytes hold no %s that decodes",
				     (unsigned long long)e->seq,
				     kind_name(e->kind), what);
	return ppx_error_set(PPX_ECORRUPT, "entry %llu (%s): the logged %s "
			     "does not decode: run ppx verify",
			     (unsigned long long)e->seq, kind_name(e->kind),
			     what);
}

/* The decoded frame of e's data carrying `content` (a Frame content
 * case), or NULL (and *rc) when it does not. */
static Ppx__V1__Frame *logged_frame(const Ppx__V1__LogEntry *e, int content,
				    const char *what, int *rc)
{
	Ppx__V1__Frame *f = NULL;

	*rc = 0;
	if (ppx_frame_decode(&f, e->data.data, e->data.len) == 0 &&
	    (int)f->content_case == content)
		return f;
	if (f)
		ppx__v1__frame__free_unpacked(f, NULL);
	*rc = undecodable(e, what);
	return NULL;
}

/* The frame a message entry logged, or NULL with *rc set: PPX_ENOTFOUND
 * for a kind that holds no message, or what logged_frame() says. */
static Ppx__V1__Frame *message_frame(const Ppx__V1__LogEntry *e, int *rc)
{
	if (!ppx_entry_has_body(e->kind)) {
		*rc = ppx_error_set(PPX_ENOTFOUND, "entry %llu (%s) holds no "
				    "message", (unsigned long long)e->seq,
				    kind_name(e->kind));
		return NULL;
	}
	return logged_frame(e, PPX__V1__FRAME__CONTENT_MESSAGE, "message", rc);
}

int ppx_entry_body(Ppx__V1__Body **out, uint8_t body_hash[PPX_HASH_LEN],
		   const Ppx__V1__LogEntry *e)
{
	Ppx__V1__Frame *f;
	const ProtobufCBinaryData *sb;
	int rc;

	*out = NULL;
	if (!(f = message_frame(e, &rc)))
		return rc;
	sb = &f->message->signed_body;
	*out = ppx__v1__body__unpack(NULL, sb->len, sb->data);
	if (!*out)
		rc = undecodable(e, "message body");
	else if (body_hash && ppx_sha256(body_hash, sb->data, sb->len) != 0)
		rc = ppx_error_set(PPX_ECRYPTO, "entry %llu: cannot hash its "
				   "body", (unsigned long long)e->seq);
	ppx__v1__frame__free_unpacked(f, NULL);
	if (rc != 0 && *out) {
		ppx__v1__body__free_unpacked(*out, NULL);
		*out = NULL;
	}
	return rc;
}

int ppx_entry_person(ppx_identity *who, const Ppx__V1__LogEntry *e)
{
	const Ppx__V1__PersonSignature *ps;
	ppx_cert *cert = NULL;
	Ppx__V1__Frame *f;
	int rc;

	memset(who, 0, sizeof(*who));
	if (!(f = message_frame(e, &rc)))
		return rc;
	ps = f->message->person;
	if (ps && (rc = ppx_cert_from_der(&cert, ps->certificate.data,
					  ps->certificate.len)) == 0)
		rc = ppx_cert_identity(cert, who);
	ppx_cert_free(cert);
	ppx__v1__frame__free_unpacked(f, NULL);
	return rc != 0 ? rc : ps != NULL;
}

int ppx_entry_body_hash(uint8_t out[PPX_HASH_LEN], const Ppx__V1__LogEntry *e)
{
	Ppx__V1__Frame *f;
	int rc;

	if (!(f = message_frame(e, &rc)))
		return rc;
	if (ppx_sha256(out, f->message->signed_body.data,
		       f->message->signed_body.len) != 0)
		rc = ppx_error_set(PPX_ECRYPTO, "entry %llu: cannot hash its "
				   "body", (unsigned long long)e->seq);
	ppx__v1__frame__free_unpacked(f, NULL);
	return rc;
}

int ppx_entry_receipt(Ppx__V1__ReceiptBody **out, const Ppx__V1__LogEntry *e)
{
	Ppx__V1__Frame *f;
	const ProtobufCBinaryData *sb;
	int rc;

	*out = NULL;
	if (!is_receipt(e->kind))
		return ppx_error_set(PPX_ENOTFOUND, "entry %llu (%s) holds no "
				     "receipt", (unsigned long long)e->seq,
				     kind_name(e->kind));
	if (!(f = logged_frame(e, PPX__V1__FRAME__CONTENT_RECEIPT, "receipt",
			       &rc)))
		return rc;
	sb = &f->receipt->signed_body;
	*out = ppx__v1__receipt_body__unpack(NULL, sb->len, sb->data);
	ppx__v1__frame__free_unpacked(f, NULL);
	return *out ? 0 : undecodable(e, "receipt body");
}
