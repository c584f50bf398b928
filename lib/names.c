/*
 * names.c — enum values and Body families written out (ppx/names.h).
 *
 * The names come from the protobuf-c descriptors generated from
 * proto/ppx.proto, so a value added there is named here without a table
 * to keep in step.
 */
#include <string.h>

#include "ppx.pb-c.h"
#include "ppx/names.h"

static const char *enum_name(const ProtobufCEnumDescriptor *d, int v)
{
	const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value(d,
									    v);

	return ev ? ev->name : NULL;
}

const char *ppx_entry_kind_name(int kind)
{
	return enum_name(&ppx__v1__entry_kind__descriptor, kind);
}

const char *ppx_delivery_state_name(int state)
{
	static const char prefix[] = "DELIVERY_";
	const char *n = enum_name(&ppx__v1__delivery_state__descriptor, state);

	if (n && strncmp(n, prefix, sizeof(prefix) - 1) == 0)
		n += sizeof(prefix) - 1;
	return n;
}

const char *ppx_reject_reason_name(int reason)
{
	return enum_name(&ppx__v1__reject_reason__descriptor, reason);
}

const char *ppx_notification_kind_name(int kind)
{
	return enum_name(&ppx__v1__notification_kind__descriptor, kind);
}

const char *ppx_priority_name(int priority)
{
	return enum_name(&ppx__v1__priority__descriptor, priority);
}

const char *ppx_marking_name(int marking)
{
	return enum_name(&ppx__v1__protective_marking__descriptor, marking);
}

const char *ppx_family_name(int payload_case)
{
	const ProtobufCFieldDescriptor *f;

	if (payload_case <= 0)
		return NULL;
	f = protobuf_c_message_descriptor_get_field(&ppx__v1__body__descriptor,
						    (unsigned)payload_case);
	return f && (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) ? f->name : NULL;
}
