/*
 * test_json.c — the proto3 JSON mapper: every payload family survives
 * message -> JSON -> message byte for byte, the output is protobuf's
 * canonical JSON, and bad input is refused with the path at fault and
 * without leaking what was half built.
 *
 * ppx.proto uses no signed 32-bit, fixed, float or double fields, so a
 * message type made by hand below (as protoc-c would make it) covers those
 * and the depth cap, which needs a type that contains itself.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ppx/error.h"
#include "ppx/json-c.h"
#include "ppx.pb-c.h"

/* --- Building messages the way the unpacker would ---------------------- */

static void *xcalloc(size_t n)
{
	void *p = calloc(1, n ? n : 1);

	assert_non_null(p);
	return p;
}

static char *S(const char *s)
{
	char *d = strdup(s);

	assert_non_null(d);
	return d;
}

static void *M(const ProtobufCMessageDescriptor *d)
{
	void *m = xcalloc(d->sizeof_message);

	protobuf_c_message_init(d, m);
	return m;
}

static ProtobufCBinaryData B(const void *data, size_t len)
{
	ProtobufCBinaryData b = {len, xcalloc(len)};

	memcpy(b.data, data, len);
	return b;
}

static void *dup_ptrs(void *const *items, size_t size)
{
	void *p = xcalloc(size);

	memcpy(p, items, size);
	return p;
}

/* obj->field = {items...}, obj->n_field = their number. */
#define SET_LIST(obj, field, ...)                                           \
	do {                                                                \
		void *items_[] = {__VA_ARGS__};                             \
		(obj)->n_##field = sizeof(items_) / sizeof(items_[0]);      \
		(obj)->field = dup_ptrs(items_, sizeof(items_));            \
	} while (0)

/* The size of one value of type `t` in a message struct. */
static size_t value_size(ProtobufCType t)
{
	switch (t) {
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
	case PROTOBUF_C_TYPE_DOUBLE:
		return 8;
	case PROTOBUF_C_TYPE_STRING:
	case PROTOBUF_C_TYPE_MESSAGE:
		return sizeof(void *);
	case PROTOBUF_C_TYPE_BYTES:
		return sizeof(ProtobufCBinaryData);
	default:
		return 4;
	}
}

static void fill(ProtobufCMessage *m, uint32_t pick, int depth);

/* Value number `n` of field `f`, at `v`. */
static void fill_value(const ProtobufCFieldDescriptor *f, void *v, unsigned n,
		       int depth)
{
	const ProtobufCEnumDescriptor *ed = f->descriptor;
	const uint8_t bytes[4] = {0xfb, 0xff, 0x00, (uint8_t)f->id};
	char text[200];

	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		*(uint32_t *)v = 4000000000u + f->id * 10 + n;
		break;
	case PROTOBUF_C_TYPE_FLOAT:
		*(float *)v = 0.1f * (float)(f->id + n);
		break;
	case PROTOBUF_C_TYPE_DOUBLE:
		*(double *)v = 0.1 * (f->id + n);
		break;
	case PROTOBUF_C_TYPE_BOOL:
		*(protobuf_c_boolean *)v = 1;
		break;
	case PROTOBUF_C_TYPE_ENUM:
		*(int *)v = ed->values[ed->n_values - 1 - n].value;
		break;
	case PROTOBUF_C_TYPE_STRING:
		snprintf(text, sizeof(text), "%s %u: Siân \"Bach\" Ap Siôn \\ "
			 "2/3\n\t\x01 café", f->name, n);
		*(char **)v = S(text);
		break;
	case PROTOBUF_C_TYPE_BYTES:
		*(ProtobufCBinaryData *)v = B(bytes, 1 + (f->id + n) % 4);
		break;
	case PROTOBUF_C_TYPE_MESSAGE:
		*(ProtobufCMessage **)v = M(f->descriptor);
		fill(*(ProtobufCMessage **)v, 0, depth - 1);
		break;
	default:	/* the 64-bit integers, far past 2^53 */
		*(uint64_t *)v = (uint64_t)1 << 63 | (f->id * 10 + n);
		break;
	}
}

/*
 * Set every field of `m` to a value that is not its default, as a sender
 * that fills in everything would: two elements in each repeated field,
 * submessages filled in turn down to `depth`, strings with non-ASCII and
 * with what JSON escapes, bytes of 1 to 4 bytes (every base64 padding).
 * Of a oneof only member `pick` is set (the first one when `pick` is 0).
 */
static void fill(ProtobufCMessage *m, uint32_t pick, int depth)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;
	char *base = (char *)m;

	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		uint32_t *q = (uint32_t *)(base + f->quantifier_offset);
		size_t size = value_size(f->type);

		if (f->type == PROTOBUF_C_TYPE_MESSAGE && depth <= 0)
			continue;
		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			*(size_t *)q = 2;
			*(void **)(base + f->offset) = xcalloc(2 * size);
			for (unsigned n = 0; n < 2; n++)
				fill_value(f, *(char **)(base + f->offset) +
						      n * size, n, depth);
			continue;
		}
		if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
			if (*q != 0 || (pick && f->id != pick))
				continue;
			*q = f->id;
		} else if (f->label == PROTOBUF_C_LABEL_OPTIONAL) {
			*q = 1;
		}
		fill_value(f, base + f->offset, 0, depth);
	}
}

/* A Body with every field set and `payload` its payload. */
static Ppx__V1__Body *body_full(uint32_t payload)
{
	Ppx__V1__Body *b = M(&ppx__v1__body__descriptor);

	fill(&b->base, payload, 8);
	return b;
}

static void body_free(Ppx__V1__Body *b)
{
	protobuf_c_message_free_unpacked(&b->base, NULL);
}

/* --- Helpers for the checks -------------------------------------------- */

static char *print(const ProtobufCMessage *m, unsigned flags)
{
	char *text = NULL;

	if (ppx_json_print(&text, m, flags) != 0)
		fail_msg("cannot print: %s", ppx_error_last());
	return text;
}

static ProtobufCMessage *parse_as(const ProtobufCMessageDescriptor *d,
				  const char *json)
{
	ProtobufCMessage *m = NULL;

	if (ppx_json_parse(&m, d, json, strlen(json)) != 0)
		fail_msg("cannot parse %s: %s", json, ppx_error_last());
	return m;
}

static Ppx__V1__Body *parse(const char *json)
{
	return (Ppx__V1__Body *)parse_as(&ppx__v1__body__descriptor, json);
}

/* `json` as a Body is refused with `code`, a detail containing `needle`,
 * and no message. */
static void refused(const char *json, int code, const char *needle)
{
	ProtobufCMessage *m = NULL;
	int rc = ppx_json_parse(&m, &ppx__v1__body__descriptor, json,
				strlen(json));

	if (rc != code || !strstr(ppx_error_last(), needle))
		fail_msg("%s: got %d \"%s\", want %d with \"%s\"", json, rc,
			 ppx_error_last(), code, needle);
	assert_null(m);
}

/* The compact JSON of `json` parsed as a Body and printed again. */
static char *reprint(const char *json)
{
	Ppx__V1__Body *b = parse(json);
	char *text = print(&b->base, 0);

	body_free(b);
	return text;
}

static void assert_reprints(const char *json, const char *want)
{
	char *text = reprint(json);

	assert_string_equal(text, want);
	free(text);
}

static uint8_t *pack(const ProtobufCMessage *m, size_t *len)
{
	uint8_t *out;

	*len = protobuf_c_message_get_packed_size(m);
	out = xcalloc(*len);
	assert_int_equal(protobuf_c_message_pack(m, out), *len);
	return out;
}

/* JSON (compact and pretty) -> message packs to `want`, and prints back
 * as `text`. */
static void check_parses_back(const char *json, const char *text,
			      const uint8_t *want, size_t want_len)
{
	ProtobufCMessage *m = parse_as(&ppx__v1__body__descriptor, json);
	char *again;
	uint8_t *bytes;
	size_t len;

	bytes = pack(m, &len);
	assert_int_equal(len, want_len);
	assert_memory_equal(bytes, want, len);
	again = print(m, 0);
	assert_string_equal(again, text);
	free(again);
	free(bytes);
	protobuf_c_message_free_unpacked(m, NULL);
}

/* message -> JSON -> message gives the same bytes, JSON -> message -> JSON
 * the same text, and the unpacker's copy prints the same JSON, which has
 * each of `parts` (NULL-terminated) in it. */
static void check_round_trip(Ppx__V1__Body *b, const char *const *parts)
{
	size_t len;
	uint8_t *bytes = pack(&b->base, &len);
	char *text = print(&b->base, 0), *u_text;
	char *pretty = print(&b->base, PPX_JSON_PRETTY);
	Ppx__V1__Body *u = ppx__v1__body__unpack(NULL, len, bytes);

	for (; *parts; parts++)
		if (!strstr(text, *parts))
			fail_msg("%s is not in %s", *parts, text);
	check_parses_back(text, text, bytes, len);
	check_parses_back(pretty, text, bytes, len);
	assert_non_null(u);
	u_text = print(&u->base, 0);
	assert_string_equal(u_text, text);
	ppx__v1__body__free_unpacked(u, NULL);
	free(u_text);
	free(pretty);
	free(text);
	free(bytes);
	body_free(b);
}

/* --- Round trips of every payload family -------------------------------- */

static void test_json__notification_round_trips(void **state)
{
	static const char *const parts[] = {
		"{\"messageId\":\"+/8=\",\"senderAgency\":\"sender_agency 0: "
		"Si\xc3\xa2n \\\"Bach\\\" Ap Si\xc3\xb4n \\\\ 2/3\\n\\t\\u0001 "
		"caf\xc3\xa9\",\"senderPerson\":{\"id\":",
		"\"recipients\":[\"recipients 0: ",
		"\"createdMs\":\"-9223372036854775758\"",
		"\"marking\":\"OFFICIAL_SENSITIVE\"", "\"counterTerrorism\":true",
		"\"notification\":{\"kind\":\"LICENCE_EXPIRY\"",
		"\"risk\":{\"category\":\"CATEGORY_3\",\"level\":\"LEVEL_3\","
		"\"rosh\":[{\"group\":\"PRISONERS\"",
		"\"conditions\":[{\"id\":", "\"homeVisit\":{\"announced\":true",
		NULL,
	};

	(void)state;
	check_round_trip(body_full(PPX__V1__BODY__PAYLOAD_NOTIFICATION), parts);
}

static void test_json__minutes_round_trip(void **state)
{
	static const char *const parts[] = {
		"\"minutes\":{\"meetingId\":", "\"required\":[{\"person\":{",
		"\"actual\":[{\"person\":{", "\"absent\":[{\"person\":{",
		"\"plan\":{\"supervision\":", "\"actions\":[{\"id\":",
		"\"owner\":{\"id\":", "\"standing\":{\"recall\":",
		"\"version\":4000000190,", NULL,
	};

	(void)state;
	check_round_trip(body_full(PPX__V1__BODY__PAYLOAD_MINUTES), parts);
}

static void test_json__disclosure_round_trips(void **state)
{
	static const char *const parts[] = {
		"\"disclosure\":{\"considered\":true,\"decision\":\"DEFER\"",
		"\"executedMs\":\"-9223372036854775698\"", NULL,
	};

	(void)state;
	check_round_trip(body_full(PPX__V1__BODY__PAYLOAD_DISCLOSURE), parts);
}

static void test_json__partner_record_round_trips(void **state)
{
	static const char *const parts[] = {
		"\"partnerRecord\":{\"recordId\":",
		"\"version\":\"9223372036854775828\"",
		"\"officers\":{\"offenderManager\":{", NULL,
	};

	(void)state;
	check_round_trip(body_full(PPX__V1__BODY__PAYLOAD_PARTNER_RECORD),
			 parts);
}

static void test_json__acknowledgement_round_trips(void **state)
{
	static const char *const parts[] = {
		"\"acknowledgement\":{\"acknowledgedBy\":{\"id\":", NULL,
	};

	(void)state;
	check_round_trip(body_full(PPX__V1__BODY__PAYLOAD_ACKNOWLEDGEMENT),
			 parts);
}

static void test_json__action_update_round_trips(void **state)
{
	static const char *const parts[] = {
		"\"actionUpdate\":{\"meetingId\":",
		"\"status\":\"ACTION_CANCELLED\"", NULL,
	};

	(void)state;
	check_round_trip(body_full(PPX__V1__BODY__PAYLOAD_ACTION_UPDATE), parts);
}

/* --- The canonical form ------------------------------------------------- */

static Ppx__V1__Body *body_small(void)
{
	static const uint8_t id[16] = {0, 1, 2, 3, 4, 5, 6, 7,
				       8, 9, 10, 11, 12, 13, 14, 15};
	Ppx__V1__Body *b = M(&ppx__v1__body__descriptor);

	b->message_id = B(id, sizeof(id));
	b->sender_agency = S("police.gwent");
	SET_LIST(b, recipients, S("probation.gwent"));
	b->created_ms = 1790000000000;
	b->marking = PPX__V1__PROTECTIVE_MARKING__OFFICIAL;
	b->payload_case = PPX__V1__BODY__PAYLOAD_ACKNOWLEDGEMENT;
	b->acknowledgement = M(&ppx__v1__acknowledgement__descriptor);
	return b;
}

static const char small_json[] =
	"{\"messageId\":\"AAECAwQFBgcICQoLDA0ODw==\","
	"\"senderAgency\":\"police.gwent\","
	"\"recipients\":[\"probation.gwent\"],"
	"\"createdMs\":\"1790000000000\","
	"\"marking\":\"OFFICIAL\","
	"\"acknowledgement\":{}}";

static void test_json__small_message_prints_known_answer(void **state)
{
	Ppx__V1__Body *b = body_small();
	char *text = print(&b->base, 0);

	(void)state;
	assert_string_equal(text, small_json);
	free(text);
	body_free(b);
}

static void test_json__pretty_output_is_indented(void **state)
{
	Ppx__V1__Body *b = body_small();
	char *text = print(&b->base, PPX_JSON_PRETTY);

	(void)state;
	assert_string_equal(text,
			    "{\n"
			    "  \"messageId\": \"AAECAwQFBgcICQoLDA0ODw==\",\n"
			    "  \"senderAgency\": \"police.gwent\",\n"
			    "  \"recipients\": [\n"
			    "    \"probation.gwent\"\n"
			    "  ],\n"
			    "  \"createdMs\": \"1790000000000\",\n"
			    "  \"marking\": \"OFFICIAL\",\n"
			    "  \"acknowledgement\": {\n"
			    "  }\n"
			    "}");
	free(text);
	body_free(b);
}

static void test_json__defaults_are_left_out(void **state)
{
	Ppx__V1__Body *b = M(&ppx__v1__body__descriptor);
	char *text = print(&b->base, 0);

	(void)state;
	assert_string_equal(text, "{}");
	free(text);
	/* A oneof member that is chosen is written even at its default. */
	assert_reprints("{\"senderAgency\":\"\",\"createdMs\":0,"
			"\"marking\":\"MARKING_UNSPECIFIED\",\"recipients\":[],"
			"\"messageId\":\"\",\"counterTerrorism\":false}",
			"{}");
	assert_reprints("{\"minutes\":{\"version\":0}}", "{\"minutes\":{}}");
	body_free(b);
}

static void test_json__int64_is_a_string(void **state)
{
	(void)state;
	assert_reprints("{\"createdMs\":1790000000000}",
			"{\"createdMs\":\"1790000000000\"}");
	assert_reprints("{\"createdMs\":\"-9223372036854775808\"}",
			"{\"createdMs\":\"-9223372036854775808\"}");
	assert_reprints("{\"createdMs\":1.79e12}",
			"{\"createdMs\":\"1790000000000\"}");
	assert_reprints("{\"partnerRecord\":{\"version\":"
			"\"18446744073709551615\"}}",
			"{\"partnerRecord\":{\"version\":"
			"\"18446744073709551615\"}}");
	/* 32-bit integers stay numbers. */
	assert_reprints("{\"minutes\":{\"version\":\"4294967295\"}}",
			"{\"minutes\":{\"version\":4294967295}}");
}

static void test_json__out_of_range_integer_is_refused(void **state)
{
	(void)state;
	refused("{\"minutes\":{\"version\":\"4294967296\"}}", PPX_EINVAL,
		"minutes.version: 4294967296 is out of range for uint32");
	refused("{\"minutes\":{\"version\":4294967296}}", PPX_EINVAL,
		"minutes.version: 4294967296 is out of range for uint32");
	refused("{\"minutes\":{\"version\":-1}}", PPX_EINVAL,
		"minutes.version: -1 is out of range for uint32");
	refused("{\"createdMs\":\"9223372036854775808\"}", PPX_EINVAL,
		"createdMs: 9223372036854775808 is out of range for int64");
	refused("{\"createdMs\":\"-9223372036854775809\"}", PPX_EINVAL,
		"createdMs: -9223372036854775809 is out of range for int64");
	refused("{\"partnerRecord\":{\"version\":\"18446744073709551616\"}}",
		PPX_EINVAL, "partnerRecord.version: 18446744073709551616 is "
			    "out of range");
	/* json-c clamps larger numbers to the limits, so those are strings. */
	refused("{\"partnerRecord\":{\"version\":18446744073709551616}}",
		PPX_EINVAL, "partnerRecord.version: 18446744073709551615 is "
			    "at a 64-bit limit");
	refused("{\"partnerRecord\":{\"version\":1e20}}", PPX_EINVAL,
		"partnerRecord.version: 1e20 is out of range");
	refused("{\"createdMs\":1.5}", PPX_EINVAL,
		"createdMs: 1.5 is not an integer");
	refused("{\"createdMs\":\"12a\"}", PPX_EINVAL,
		"createdMs: \"12a\" is not a decimal integer");
	refused("{\"createdMs\":\" 12\"}", PPX_EINVAL, "not a decimal integer");
	refused("{\"createdMs\":\"\"}", PPX_EINVAL, "not a decimal integer");
	refused("{\"createdMs\":true}", PPX_EINVAL,
		"createdMs: expected an integer, got a boolean");
}

static void test_json__bytes_are_base64(void **state)
{
	(void)state;
	assert_reprints("{\"messageId\":\"AA==\"}", "{\"messageId\":\"AA==\"}");
	assert_reprints("{\"messageId\":\"AAE\"}", "{\"messageId\":\"AAE=\"}");
	assert_reprints("{\"messageId\":\"AAEC\"}", "{\"messageId\":\"AAEC\"}");
	/* URL-safe and unpadded input; standard, padded output. */
	assert_reprints("{\"messageId\":\"-_8\"}", "{\"messageId\":\"+/8=\"}");
	assert_reprints("{\"messageId\":\"+/8=\"}", "{\"messageId\":\"+/8=\"}");
	refused("{\"messageId\":\"A\"}", PPX_EINVAL,
		"messageId: string is not base64");
	refused("{\"messageId\":\"AA=\"}", PPX_EINVAL, "not base64");
	refused("{\"messageId\":\"AAA==\"}", PPX_EINVAL, "not base64");
	refused("{\"messageId\":\"AA AA\"}", PPX_EINVAL, "not base64");
	refused("{\"messageId\":\"A===\"}", PPX_EINVAL, "not base64");
	refused("{\"messageId\":[0]}", PPX_EINVAL,
		"messageId: expected a base64 string, got an array");
}

static void test_json__enums_are_names(void **state)
{
	(void)state;
	assert_reprints("{\"notification\":{\"kind\":\"ARREST\"}}",
			"{\"notification\":{\"kind\":\"ARREST\"}}");
	assert_reprints("{\"notification\":{\"kind\":13}}",
			"{\"notification\":{\"kind\":\"ARREST\"}}");
	/* Open enums: a number this build does not know is kept. */
	assert_reprints("{\"priority\":99}", "{\"priority\":99}");
	refused("{\"notification\":{\"kind\":\"ARRESTED\"}}", PPX_EINVAL,
		"notification.kind: ppx.v1.NotificationKind has no value "
		"\"ARRESTED\"");
	refused("{\"notification\":{\"kind\":\"arrest\"}}", PPX_EINVAL,
		"has no value \"arrest\"");
	refused("{\"marking\":\"OFFICIAL\\u0000X\"}", PPX_EINVAL,
		"ppx.v1.ProtectiveMarking has no value");
	refused("{\"marking\":2147483648}", PPX_EINVAL,
		"marking: 2147483648 is out of range for enum");
	refused("{\"marking\":{}}", PPX_EINVAL,
		"marking: expected a ppx.v1.ProtectiveMarking name, got an "
		"object");
}

static void test_json__unknown_field_is_refused_with_its_name(void **state)
{
	(void)state;
	refused("{\"notification\":{\"kindd\":\"ARREST\"}}", PPX_EINVAL,
		"notification: ppx.v1.Notification has no field \"kindd\"");
	refused("{\"sender\":\"police.gwent\"}", PPX_EINVAL,
		"ppx.v1.Body has no field \"sender\"");
	refused("{\"SenderAgency\":\"police.gwent\"}", PPX_EINVAL,
		"has no field \"SenderAgency\"");
	/* What is quoted from the input is made printable. */
	refused("{\"a\\nb\\\"c\":1}", PPX_EINVAL, "has no field \"a?b?c\"");
}

static void test_json__wrong_type_is_refused_with_its_path(void **state)
{
	(void)state;
	refused("{\"minutes\":{\"actions\":[{},{},{\"owner\":{\"agency\":5}}]}}",
		PPX_EINVAL,
		"minutes.actions[2].owner.agency: expected a string, got a "
		"number");
	refused("{\"minutes\":{\"actions\":{}}}", PPX_EINVAL,
		"minutes.actions: expected an array, got an object");
	refused("{\"minutes\":{\"actions\":[{},null]}}", PPX_EINVAL,
		"minutes.actions[1]: null in a list");
	refused("{\"minutes\":[]}", PPX_EINVAL,
		"minutes: expected an object, got an array");
	refused("{\"counterTerrorism\":\"true\"}", PPX_EINVAL,
		"counterTerrorism: expected true or false, got a string");
	refused("{\"recipients\":[\"a\",1]}", PPX_EINVAL,
		"recipients[1]: expected a string, got a number");
	refused("[]", PPX_EINVAL,
		"expected an object (ppx.v1.Body), got an array");
	refused("null", PPX_EINVAL, "got null");
}

static void test_json__two_oneof_members_are_refused(void **state)
{
	Ppx__V1__Body *b;

	(void)state;
	refused("{\"notification\":{},\"minutes\":{}}", PPX_EINVAL,
		"minutes: \"notification\" is given too, and only one member "
		"of a oneof may be");
	refused("{\"acknowledgement\":{\"note\":\"x\"},\"action_update\":{}}",
		PPX_EINVAL, "\"acknowledgement\" is given too");
	/* null is not a member given. */
	b = parse("{\"notification\":null,\"minutes\":{},\"disclosure\":null}");
	assert_int_equal(b->payload_case, PPX__V1__BODY__PAYLOAD_MINUTES);
	body_free(b);
}

static void test_json__original_field_names_are_accepted(void **state)
{
	Ppx__V1__Body *b;

	(void)state;
	b = parse("{\"sender_agency\":\"police.gwent\",\"created_ms\":\"7\","
		  "\"action_update\":{\"meeting_id\":\"m-1\"},"
		  "\"counter_terrorism\":true}");
	assert_string_equal(b->sender_agency, "police.gwent");
	assert_int_equal(b->created_ms, 7);
	assert_int_equal(b->counter_terrorism, 1);
	assert_string_equal(b->action_update->meeting_id, "m-1");
	body_free(b);
	refused("{\"senderAgency\":\"a\",\"sender_agency\":\"b\"}", PPX_EINVAL,
		"senderAgency: field is given twice");
}

static void test_json__null_means_absent(void **state)
{
	Ppx__V1__Body *b;

	(void)state;
	b = parse("{\"senderAgency\":null,\"senderPerson\":null,"
		  "\"recipients\":null,\"createdMs\":null,\"marking\":null,"
		  "\"messageId\":null,\"counterTerrorism\":null}");
	assert_string_equal(b->sender_agency, "");
	assert_null(b->sender_person);
	assert_int_equal(b->n_recipients, 0);
	assert_int_equal(b->payload_case, PPX__V1__BODY__PAYLOAD__NOT_SET);
	body_free(b);
	assert_reprints("{\"senderPerson\":{}}", "{\"senderPerson\":{}}");
}

static void test_json__bad_text_is_refused(void **state)
{
	static const char nul[] = "{\"area\":\"a\"}\0{}";
	ProtobufCMessage *m = NULL;

	(void)state;
	refused("", PPX_EINVAL, "ends early");
	refused("{\"area\":\"gwent\"", PPX_EINVAL, "ends early");
	refused("{\"area\":\"gwent\"} x", PPX_EINVAL, "does not parse");
	refused("{\"area\":'gwent'}", PPX_EINVAL, "does not parse");
	refused("{\"area\":\"\xc3\x28\"}", PPX_EINVAL, "does not parse");
	refused("{\"area\":\"a\\u0000b\"}", PPX_EINVAL,
		"area: string contains NUL");
	assert_int_equal(ppx_json_parse(&m, &ppx__v1__body__descriptor, nul,
					sizeof(nul) - 1),
			 PPX_EINVAL);
	assert_non_null(strstr(ppx_error_last(), "NUL byte at byte 12"));
	assert_null(m);
	/* Whitespace around the object is fine; the text needs no NUL. */
	assert_int_equal(ppx_json_parse(&m, &ppx__v1__body__descriptor,
					" {\"area\":\"gwent\"}\n!", 18), 0);
	assert_string_equal(((Ppx__V1__Body *)m)->area, "gwent");
	protobuf_c_message_free_unpacked(m, NULL);
}

static void test_json__size_is_capped(void **state)
{
	size_t len = PPX_JSON_MAX_INPUT + 1;
	char *big = xcalloc(len);
	ProtobufCMessage *m = NULL;

	(void)state;
	memset(big, ' ', len);
	big[0] = '{';
	big[1] = '{';
	big[len - 1] = '}';
	assert_int_equal(ppx_json_parse(&m, &ppx__v1__body__descriptor, big,
					len),
			 PPX_ETOOBIG);
	assert_null(m);
	assert_int_equal(ppx_json_parse(&m, &ppx__v1__body__descriptor, big + 1,
					len - 1),
			 0);
	protobuf_c_message_free_unpacked(m, NULL);
	free(big);
}

static void test_json__strings_are_utf8_in_and_out(void **state)
{
	Ppx__V1__Body *b = M(&ppx__v1__body__descriptor);
	ProtobufCMessage *m = NULL;
	json_object *obj = NULL;
	char *text = NULL;

	(void)state;
	/* Output: a string that is not UTF-8 (one a log kept from before ppx
	 * refused them) is written with U+FFFD per bad byte, never dropped
	 * with the rest of the message. */
	SET_LIST(b, recipients, S("ok"), S("bad \xed\xa0\x80 surrogate"));
	assert_int_equal(ppx_json_print(&text, &b->base, 0), 0);
	assert_string_equal(text, "{\"recipients\":[\"ok\",\"bad "
			    "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd surrogate\"]}");
	free(text);
	body_free(b);
	/* Input built by hand (not by json-c's parser) is checked too. */
	obj = json_object_new_object();
	json_object_object_add(obj, "area",
			       json_object_new_string("\xc0\xaf overlong"));
	assert_int_equal(ppx_json_to_message(&m, &ppx__v1__body__descriptor,
					     obj),
			 PPX_EINVAL);
	assert_string_equal(ppx_error_last(), "area: string is not valid UTF-8");
	assert_null(m);
	json_object_put(obj);
	assert_reprints("{\"area\":\"\\u00e9 \xf0\x9f\x98\x80 \\ud83d\\ude00\"}",
			"{\"area\":\"\xc3\xa9 \xf0\x9f\x98\x80 \xf0\x9f\x98\x80\"}");
}

static void test_json__unknown_flags_are_refused(void **state)
{
	Ppx__V1__Body *b = body_small();
	char *text = NULL;

	(void)state;
	assert_int_equal(ppx_json_print(&text, &b->base, 0x80), PPX_EINVAL);
	assert_null(text);
	body_free(b);
}

/* --- Types ppx.proto does not use, from a message type made by hand ---- */

/*
 * message Scalars {                         // as protoc-c would lay it out
 *   int32 i32 = 1;  sint32 s32 = 2;  sfixed32 sf32 = 3;  uint32 u32 = 4;
 *   fixed32 f32 = 5;  int64 i64 = 6;  sint64 s64 = 7;  sfixed64 sf64 = 8;
 *   uint64 u64 = 9;  fixed64 f64 = 10;  float fl = 11;  double db = 12;
 *   bool flag = 13;  string text = 14;  bytes blob = 15;
 *   ppx.v1.Priority priority = 16;  Scalars child = 17;
 *   repeated sint32 numbers = 18;  repeated double reals = 19;
 *   repeated Scalars children = 20;
 *   oneof choice { int32 pick_int = 21; string pick_text = 22; }
 *   optional int32 maybe = 23;              // proto2-style, with has_maybe
 * }
 */
typedef struct scalars scalars;
struct scalars {
	ProtobufCMessage base;
	int32_t i32, s32, sf32;
	uint32_t u32, f32;
	int64_t i64, s64, sf64;
	uint64_t u64, f64;
	float fl;
	double db;
	protobuf_c_boolean flag;
	char *text;
	ProtobufCBinaryData blob;
	int priority;
	scalars *child;
	size_t n_numbers;
	int32_t *numbers;
	size_t n_reals;
	double *reals;
	size_t n_children;
	scalars **children;
	uint32_t choice_case;
	union {
		int32_t pick_int;
		char *pick_text;
	};
	protobuf_c_boolean has_maybe;
	int32_t maybe;
};

static const ProtobufCMessageDescriptor scalars_descriptor;

#define FIELD(name, id, label, type, q, desc, def, flags)                   \
	{#name, id, PROTOBUF_C_LABEL_##label, PROTOBUF_C_TYPE_##type, q,     \
	 offsetof(scalars, name), desc, def, flags, 0, NULL, NULL}
#define PLAIN(name, id, type) FIELD(name, id, NONE, type, 0, NULL, NULL, 0)
#define LIST(name, id, type, desc)                                          \
	FIELD(name, id, REPEATED, type, offsetof(scalars, n_##name), desc,  \
	      NULL, 0)
#define ONEOF(name, id, type, def)                                          \
	FIELD(name, id, NONE, type, offsetof(scalars, choice_case), NULL,   \
	      def, PROTOBUF_C_FIELD_FLAG_ONEOF)

static const ProtobufCFieldDescriptor scalars_fields[] = {
	PLAIN(i32, 1, INT32), PLAIN(s32, 2, SINT32), PLAIN(sf32, 3, SFIXED32),
	PLAIN(u32, 4, UINT32), PLAIN(f32, 5, FIXED32), PLAIN(i64, 6, INT64),
	PLAIN(s64, 7, SINT64), PLAIN(sf64, 8, SFIXED64), PLAIN(u64, 9, UINT64),
	PLAIN(f64, 10, FIXED64), PLAIN(fl, 11, FLOAT), PLAIN(db, 12, DOUBLE),
	PLAIN(flag, 13, BOOL),
	FIELD(text, 14, NONE, STRING, 0, NULL, &protobuf_c_empty_string, 0),
	PLAIN(blob, 15, BYTES),
	FIELD(priority, 16, NONE, ENUM, 0, &ppx__v1__priority__descriptor,
	      NULL, 0),
	FIELD(child, 17, NONE, MESSAGE, 0, &scalars_descriptor, NULL, 0),
	LIST(numbers, 18, SINT32, NULL), LIST(reals, 19, DOUBLE, NULL),
	LIST(children, 20, MESSAGE, &scalars_descriptor),
	ONEOF(pick_int, 21, INT32, NULL),
	ONEOF(pick_text, 22, STRING, &protobuf_c_empty_string),
	FIELD(maybe, 23, OPTIONAL, INT32, offsetof(scalars, has_maybe), NULL,
	      NULL, 0),
};

static const unsigned scalars_by_name[] = {
	14, 16, 19, 11, 4, 9, 10, 12, 0, 5, 22, 17,
	20, 21, 15, 18, 1, 6, 2, 7, 13, 3, 8,
};

static const ProtobufCIntRange scalars_ranges[] = {{1, 0}, {0, 23}};

static void scalars_init(ProtobufCMessage *m)
{
	static const scalars init = {
		.base = PROTOBUF_C_MESSAGE_INIT(&scalars_descriptor),
		.text = (char *)protobuf_c_empty_string,
	};

	memcpy(m, &init, sizeof(init));
}

static const ProtobufCMessageDescriptor scalars_descriptor = {
	PROTOBUF_C__MESSAGE_DESCRIPTOR_MAGIC, "test.Scalars", "Scalars",
	"Scalars", "test", sizeof(scalars), 23, scalars_fields,
	scalars_by_name, 1, scalars_ranges, scalars_init, NULL, NULL, NULL,
};

static scalars *scalars_parse(const char *json)
{
	return (scalars *)parse_as(&scalars_descriptor, json);
}

static void scalars_refused(const char *json, const char *needle)
{
	ProtobufCMessage *m = NULL;
	int rc = ppx_json_parse(&m, &scalars_descriptor, json, strlen(json));

	if (rc != PPX_EINVAL || !strstr(ppx_error_last(), needle))
		fail_msg("%s: got %d \"%s\", want \"%s\"", json, rc,
			 ppx_error_last(), needle);
	assert_null(m);
}

static const char scalars_json[] =
	"{\"i32\":-2147483648,\"s32\":-7,\"sf32\":2147483647,"
	"\"u32\":4294967295,\"f32\":1,\"i64\":\"-9223372036854775808\","
	"\"s64\":\"-1\",\"sf64\":\"9223372036854775807\","
	"\"u64\":\"18446744073709551615\",\"f64\":\"1\",\"fl\":0.1,"
	"\"db\":0.1,\"flag\":true,\"text\":\"t\",\"blob\":\"/w==\","
	"\"priority\":\"IMMEDIATE\",\"child\":{\"fl\":3.4028235e+38,"
	"\"db\":1e+300,\"pickText\":\"\"},\"numbers\":[-1,0,2147483647],"
	"\"reals\":[\"NaN\",\"Infinity\",\"-Infinity\",-0.0,5e-324,"
	"2.5],\"children\":[{},{\"pickInt\":0}],\"pickInt\":-3,"
	"\"maybe\":0}";

static void test_json__every_scalar_type_round_trips(void **state)
{
	scalars *s = scalars_parse(scalars_json), *u;
	char *text = print(&s->base, 0), *again;
	size_t len;
	uint8_t *bytes = pack(&s->base, &len);

	(void)state;
	assert_string_equal(text, scalars_json);
	assert_int_equal(s->i32, INT32_MIN);
	assert_int_equal(s->u64, UINT64_MAX);
	assert_true(s->has_maybe);
	assert_int_equal(s->choice_case, 21);
	assert_int_equal(s->child->choice_case, 22);
	assert_int_equal(s->n_reals, 6);
	u = (scalars *)protobuf_c_message_unpack(&scalars_descriptor, NULL,
						 len, bytes);
	assert_non_null(u);
	again = print(&u->base, 0);
	assert_string_equal(again, scalars_json);
	free(again);
	protobuf_c_message_free_unpacked(&u->base, NULL);
	protobuf_c_message_free_unpacked(&s->base, NULL);
	free(bytes);
	free(text);
}

static void test_json__reals_accept_numbers_and_strings(void **state)
{
	scalars *s = scalars_parse("{\"fl\":\"1.5\",\"db\":\"-Infinity\","
				   "\"reals\":[1,\"2e3\",-4,1e308]}");

	(void)state;
	assert_true(s->fl == 1.5f);
	assert_true(s->db < -1e308);
	assert_int_equal(s->n_reals, 4);
	assert_true(s->reals[1] == 2000.0 && s->reals[2] == -4.0);
	protobuf_c_message_free_unpacked(&s->base, NULL);
	scalars_refused("{\"fl\":1e39}", "fl: 1e+39 is out of range for float");
	scalars_refused("{\"db\":1e400}", "db: 1e400 is out of range");
	scalars_refused("{\"db\":\"1e400\"}", "db: 1e400 is out of range");
	scalars_refused("{\"db\":NaN}", "db: NaN is out of range");
	scalars_refused("{\"db\":\"nan\"}", "db: \"nan\" is not a number");
	scalars_refused("{\"db\":\" 1\"}", "is not a number");
	scalars_refused("{\"db\":\"0x10\"}", "is not a number");
	scalars_refused("{\"reals\":[1,true]}",
			"reals[1]: expected a number, got a boolean");
}

static void test_json__int32_range_is_checked(void **state)
{
	(void)state;
	scalars_refused("{\"i32\":2147483648}",
			"i32: 2147483648 is out of range for int32");
	scalars_refused("{\"s32\":\"-2147483649\"}",
			"s32: -2147483649 is out of range for sint32");
	scalars_refused("{\"numbers\":[1,2,-2147483649]}",
			"numbers[2]: -2147483649 is out of range for sint32");
	scalars_refused("{\"f32\":-1}", "f32: -1 is out of range for fixed32");
	scalars_refused("{\"f64\":\"-1\"}",
			"f64: -1 is out of range for fixed64");
	scalars_refused("{\"pickInt\":1,\"pick_text\":\"x\"}",
			"pickText: \"pickInt\" is given too");
}

/* `depth` messages, each the child of the one before. */
static scalars *chain(int depth, int repeated)
{
	scalars *top = M(&scalars_descriptor), *s = top;

	for (int i = 1; i < depth; i++) {
		scalars *c = M(&scalars_descriptor);

		if (repeated)
			SET_LIST(s, children, c);
		else
			s->child = c;
		s = c;
	}
	s->i32 = depth;
	return top;
}

/* `depth` nested {"child":...} objects as JSON text. */
static char *chain_json(int depth)
{
	char *text = xcalloc((size_t)depth * 10 + 16), *p = text;

	for (int i = 1; i < depth; i++) {
		memcpy(p, "{\"child\":", 9);
		p += 9;
	}
	memcpy(p, "{}", 2);
	p += 2;
	memset(p, '}', (size_t)depth - 1);
	return text;
}

static void test_json__depth_is_capped(void **state)
{
	scalars *ok = chain(PPX_JSON_MAX_DEPTH, 0);
	scalars *deep = chain(PPX_JSON_MAX_DEPTH + 1, 1);
	char *text = NULL, *ok_text = chain_json(PPX_JSON_MAX_DEPTH);
	char *deep_text = chain_json(PPX_JSON_MAX_DEPTH + 1);
	ProtobufCMessage *m = NULL;

	(void)state;
	free(print(&ok->base, 0));
	assert_int_equal(ppx_json_print(&text, &deep->base, 0), PPX_ETOOBIG);
	assert_non_null(strstr(ppx_error_last(), "nested deeper than 32"));
	m = parse_as(&scalars_descriptor, ok_text);
	protobuf_c_message_free_unpacked(m, NULL);
	assert_int_equal(ppx_json_parse(&m, &scalars_descriptor, deep_text,
					strlen(deep_text)),
			 PPX_ETOOBIG);
	assert_null(m);
	/* JSON nesting itself is capped before any message is built. */
	refused("{\"recipients\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["
		"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["
		"]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]"
		"]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}",
		PPX_ETOOBIG, "nests deeper than 64");
	protobuf_c_message_free_unpacked(&ok->base, NULL);
	protobuf_c_message_free_unpacked(&deep->base, NULL);
	free(ok_text);
	free(deep_text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json__notification_round_trips),
		cmocka_unit_test(test_json__minutes_round_trip),
		cmocka_unit_test(test_json__disclosure_round_trips),
		cmocka_unit_test(test_json__partner_record_round_trips),
		cmocka_unit_test(test_json__acknowledgement_round_trips),
		cmocka_unit_test(test_json__action_update_round_trips),
		cmocka_unit_test(test_json__small_message_prints_known_answer),
		cmocka_unit_test(test_json__pretty_output_is_indented),
		cmocka_unit_test(test_json__defaults_are_left_out),
		cmocka_unit_test(test_json__int64_is_a_string),
		cmocka_unit_test(test_json__out_of_range_integer_is_refused),
		cmocka_unit_test(test_json__bytes_are_base64),
		cmocka_unit_test(test_json__enums_are_names),
		cmocka_unit_test(test_json__unknown_field_is_refused_with_its_name),
		cmocka_unit_test(test_json__wrong_type_is_refused_with_its_path),
		cmocka_unit_test(test_json__two_oneof_members_are_refused),
		cmocka_unit_test(test_json__original_field_names_are_accepted),
		cmocka_unit_test(test_json__null_means_absent),
		cmocka_unit_test(test_json__bad_text_is_refused),
		cmocka_unit_test(test_json__size_is_capped),
		cmocka_unit_test(test_json__strings_are_utf8_in_and_out),
		cmocka_unit_test(test_json__unknown_flags_are_refused),
		cmocka_unit_test(test_json__every_scalar_type_round_trips),
		cmocka_unit_test(test_json__reals_accept_numbers_and_strings),
		cmocka_unit_test(test_json__int32_range_is_checked),
		cmocka_unit_test(test_json__depth_is_capped),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
