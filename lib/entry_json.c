/*
 * entry_json.c — a log entry as the entry JSON (include/ppx/entry_json.h
 * as text, include/ppx/json-c.h as a json-c object; the keys are
 * documented in docs/HOOKS.md, "The entry JSON").
 *
 * Where it sits: the daemon's event stream and durable hooks
 * (daemon/events.c) and ppx's reading commands (client/cmd_log.c) build
 * the object here, so that a consumer sees the same keys with the same
 * meaning wherever it takes entries from.  What an entry says comes from
 * the entry itself; what its message says (sender, recipients, dates)
 * from the decoded Body the caller passes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ppx/entry.h"
#include "ppx/envelope.h"
#include "ppx/error.h"
#include "ppx/json-c.h"
#include "ppx/names.h"
#include "ppx/text.h"
#include "ppx/timefmt.h"

static void add_str(json_object *o, const char *key, const char *value)
{
	json_object_object_add(o, key, json_object_new_string(value ? value
								    : ""));
}

static void add_time(json_object *o, const char *key, int64_t ms)
{
	char when[40];

	ppx_time_iso_ms(when, sizeof(when), ms);
	add_str(o, key, when);
}

/* Bytes as lower-case hex; "" for more than 64 of them. */
static json_object *hex_string(const ProtobufCBinaryData *v)
{
	char hex[2 * 64 + 1] = "";

	if (v->len <= 64)
		ppx_hex(hex, v->data, v->len);
	return json_object_new_string(hex);
}

static json_object *string_array(char *const *v, size_t n)
{
	json_object *a = json_object_new_array();

	for (size_t i = 0; a && i < n; i++)
		json_object_array_add(a, json_object_new_string(v[i]));
	return a;
}

static json_object *hex_array(const ProtobufCBinaryData *v, size_t n)
{
	json_object *a = json_object_new_array();

	for (size_t i = 0; a && i < n; i++)
		json_object_array_add(a, hex_string(&v[i]));
	return a;
}

static const char *direction(int kind)
{
	switch (kind) {
	case PPX__V1__ENTRY_KIND__ENTRY_SENT:
	case PPX__V1__ENTRY_KIND__ENTRY_RECEIPT_SENT:
		return "out";
	case PPX__V1__ENTRY_KIND__ENTRY_RECEIVED:
	case PPX__V1__ENTRY_KIND__ENTRY_RECEIPT_RECEIVED:
	case PPX__V1__ENTRY_KIND__ENTRY_REJECTED:
		return "in";
	default:
		return "";
	}
}

/*
 * The agency that sent the message an entry names by message_id: a
 * message id is unique per sender only, so (sender, message_id) is the
 * key a consumer must store a message under.  The message's own sender
 * when we have it; else: we sent a SENT entry's message; a RECEIVED or
 * REJECTED entry's came from its peer, as does the message any other
 * entry names about a partner; "" when the entry names no message.
 */
static const char *entry_sender(const Ppx__V1__LogEntry *e,
				const Ppx__V1__Body *body, const char *agency)
{
	if (body && body->sender_agency && body->sender_agency[0])
		return body->sender_agency;
	if (e->message_id.len == 0)
		return "";
	if (e->kind == PPX__V1__ENTRY_KIND__ENTRY_SENT ||
	    e->kind == PPX__V1__ENTRY_KIND__ENTRY_RECEIPT_RECEIVED ||
	    !e->peer_agency[0])
		return agency;
	return e->peer_agency;
}

/* A 16-byte id of the body as hex, when it has one. */
static void add_id(json_object *o, const char *key,
		   const ProtobufCBinaryData *id)
{
	if (id->len == PPX_MESSAGE_ID_LEN)
		json_object_object_add(o, key, hex_string(id));
}

/* What the message adds: its summary, for readers that do not want to
 * walk the body. */
static void message_keys(json_object *o, const Ppx__V1__Body *b)
{
	if (b->payload_case == PPX__V1__BODY__PAYLOAD_NOTIFICATION &&
	    b->notification)
		add_str(o, "notification",
			ppx_notification_kind_name(b->notification->kind));
	if (b->sender_person)
		add_str(o, "sender_person", b->sender_person->name);
	json_object_object_add(o, "recipients",
			       string_array(b->recipients, b->n_recipients));
	add_time(o, "created", b->created_ms);
	if (b->priority)
		add_str(o, "priority",
			ppx_priority_name(b->priority));
	if (b->subject && b->subject->name && b->subject->name[0])
		add_str(o, "subject_name", b->subject->name);
	add_id(o, "replies_to", &b->replies_to);
	add_id(o, "supersedes", &b->supersedes);
	if (b->ack_deadline_ms > 0)
		add_time(o, "ack_deadline", b->ack_deadline_ms);
}

/* The size and root of a signed checkpoint, as "PREFIX_size" and
 * "PREFIX_root" (hex); nothing if it does not decode. */
static void checkpoint_keys(json_object *o, const char *prefix,
			    const Ppx__V1__Envelope *env)
{
	Ppx__V1__Checkpoint *cp = env ? ppx__v1__checkpoint__unpack(
						NULL, env->signed_body.len,
						env->signed_body.data)
				      : NULL;
	char key[32];

	if (!cp)
		return;
	snprintf(key, sizeof(key), "%s_size", prefix);
	json_object_object_add(o, key, json_object_new_uint64(cp->tree_size));
	snprintf(key, sizeof(key), "%s_root", prefix);
	json_object_object_add(o, key, hex_string(&cp->root_hash));
	ppx__v1__checkpoint__free_unpacked(cp, NULL);
}

/* An alarm's evidence (PROTOCOL.md 11.3): the log, the two checkpoints
 * that disagree and whose gossip showed the held one. */
static void alarm_keys(json_object *o, const Ppx__V1__LogEntry *e)
{
	Ppx__V1__WitnessAlarm *a = ppx__v1__witness_alarm__unpack(
		NULL, e->data.len, e->data.data);

	if (!a)
		return;
	add_str(o, "log_agency", a->log_agency);
	checkpoint_keys(o, "held", a->held);
	checkpoint_keys(o, "presented", a->presented);
	add_str(o, "reported_by", a->reported_by);
	ppx__v1__witness_alarm__free_unpacked(a, NULL);
}

static int is_change(int kind)
{
	return kind == PPX__V1__ENTRY_KIND__ENTRY_CONFIG_CHANGE ||
	       kind == PPX__V1__ENTRY_KIND__ENTRY_POLICY_CHANGE ||
	       kind == PPX__V1__ENTRY_KIND__ENTRY_KEY_CHANGE;
}

/* A change entry's ChangeRecord (PROTOCOL.md), as "change": {...}; null
 * if its data does not decode. */
static void change_keys(json_object *o, const Ppx__V1__LogEntry *e)
{
	Ppx__V1__ChangeRecord *cr = ppx__v1__change_record__unpack(
		NULL, e->data.len, e->data.data);
	json_object *c = cr ? json_object_new_object() : NULL;

	if (c) {
		add_str(c, "what", cr->what);
		add_str(c, "path", cr->path);
		json_object_object_add(c, "sha256", hex_string(&cr->sha256));
		json_object_object_add(c, "previous_sha256",
				       hex_string(&cr->previous_sha256));
		add_str(c, "cause", cr->cause);
		json_object_object_add(c, "changes", string_array(
			cr->changes, cr->n_changes));
		json_object_object_add(c, "in_force", string_array(
			cr->in_force, cr->n_in_force));
	}
	json_object_object_add(o, "change", c);
	if (cr)
		ppx__v1__change_record__free_unpacked(cr, NULL);
}

/* The keys of a refused frame, of a hook's entries, of an alarm and of a
 * change. */
static void kind_keys(json_object *o, const Ppx__V1__LogEntry *e)
{
	if (is_change(e->kind))
		change_keys(o, e);
	if (e->kind == PPX__V1__ENTRY_KIND__ENTRY_WITNESS_ALARM)
		alarm_keys(o, e);
	if (e->kind == PPX__V1__ENTRY_KIND__ENTRY_HOOK_QUARANTINE ||
	    e->kind == PPX__V1__ENTRY_KIND__ENTRY_HOOK_DECISION)
		json_object_object_add(o, "related_seq",
				       json_object_new_uint64(e->related_seq));
	if (e->kind == PPX__V1__ENTRY_KIND__ENTRY_REJECTED) {
		json_object_object_add(o, "frame_size",
				       json_object_new_uint64(e->frame_size));
		json_object_object_add(o, "frame_hash",
				       hex_string(&e->frame_hash));
	}
}

/* The body as canonical JSON, or null.  (A string that is not UTF-8,
 * kept from before ppx refused them, maps to U+FFFD: the body is never
 * dropped for it.) */
static json_object *body_json(const Ppx__V1__Body *body)
{
	json_object *b = NULL;

	if (body && ppx_json_from_message(&b, &body->base) != 0)
		b = NULL;
	return b;
}

/* Who signed the message personally, as stated by the person
 * certificate the daemon verified before logging it; null if nobody. */
static json_object *person_signature_json(const Ppx__V1__LogEntry *e)
{
	char fpr[2 * PPX_FINGERPRINT_LEN + 1];
	ppx_identity who;
	json_object *o;

	if (ppx_entry_person(&who, e) != 1 || !(o = json_object_new_object()))
		return NULL;
	ppx_hex(fpr, who.fingerprint, PPX_FINGERPRINT_LEN);
	add_str(o, "name", who.name);
	add_str(o, "agency", who.agency);
	add_str(o, "fingerprint", fpr);
	return o;
}

/* "access": who read and why, break-glass (proto Access, as mapped by
 * ppx_json_from_message). */
static void access_key(json_object *o, const Ppx__V1__Access *a)
{
	json_object *v = NULL;

	if (ppx_json_from_message(&v, &a->base) == 0)
		json_object_object_add(o, "access", v);
}

int ppx_entry_json(json_object **out, const Ppx__V1__LogEntry *e,
		   const Ppx__V1__Body *body, const char *agency,
		   unsigned flags)
{
	json_object *o = json_object_new_object();

	*out = NULL;
	if (!o)
		return ppx_error_set(PPX_ENOMEM, "out of memory");
	agency = agency ? agency : "";
	add_str(o, "agency", agency);
	json_object_object_add(o, "seq", json_object_new_uint64(e->seq));
	add_time(o, "time", e->time_ms);
	add_str(o, "kind", ppx_entry_kind_name(e->kind));
	add_str(o, "family", e->family);
	add_str(o, "peer", e->peer_agency);
	json_object_object_add(o, "message_id", hex_string(&e->message_id));
	add_str(o, "sender", entry_sender(e, body, agency));
	add_str(o, "person", e->person);
	json_object_object_add(o, "subjects", string_array(e->subject_keys,
							   e->n_subject_keys));
	json_object_object_add(o, "related_ids", hex_array(e->related_ids,
							   e->n_related_ids));
	add_str(o, "reason", e->reason ? ppx_reject_reason_name(e->reason)
					 : "");
	add_str(o, "detail", e->detail);
	/* Added after the keys the hooks always had, which keep their
	 * order (docs/HOOKS.md). */
	json_object_object_add(o, "time_ms", json_object_new_int64(e->time_ms));
	add_str(o, "direction", direction(e->kind));
	kind_keys(o, e);
	if (e->access)		/* READ, REVIEW, emergency SENT/RECEIVED */
		access_key(o, e->access);
	if (body) {
		message_keys(o, body);
		json_object_object_add(o, "person_signature",
				       person_signature_json(e));
	}
	if (flags & PPX_ENTRY_JSON_BODY)
		json_object_object_add(o, "body", body_json(body));
	*out = o;
	return 0;
}

int ppx_entry_json_print(char **out, const Ppx__V1__LogEntry *e,
			 const Ppx__V1__Body *body, const char *agency,
			 unsigned flags)
{
	json_object *o = NULL;
	const char *text;
	int rc = ppx_entry_json(&o, e, body, agency, flags);

	*out = NULL;
	if (rc != 0)
		return rc;
	text = json_object_to_json_string_ext(
		o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	/* json-c copies bytes >= 0x80 as they are: the entry's own strings
	 * (detail, person, subjects) from an older log could break the
	 * encoding every reader expects.  Outside strings the text is ASCII,
	 * so repairing the whole text only ever touches the inside of one. */
	*out = text ? ppx_text_repair(text, strlen(text), NULL) : NULL;
	json_object_put(o);
	return *out ? 0 : ppx_error_set(PPX_ENOMEM, "out of memory");
}
