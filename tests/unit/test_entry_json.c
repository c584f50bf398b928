/*
 * test_entry_json.c — the entry JSON has the keys docs/HOOKS.md lists,
 * for every entry kind, with the kind's own keys only where they belong.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ppx/json-c.h"
#include "ppx/error.h"
#include "support.h"

/* The keys every entry has, and their JSON types. */
static const struct {
	const char *key;
	json_type type;
} always[] = {
	{"agency", json_type_string}, {"seq", json_type_int},
	{"time", json_type_string}, {"kind", json_type_string},
	{"family", json_type_string}, {"peer", json_type_string},
	{"message_id", json_type_string}, {"sender", json_type_string},
	{"person", json_type_string}, {"subjects", json_type_array},
	{"related_ids", json_type_array}, {"reason", json_type_string},
	{"detail", json_type_string}, {"time_ms", json_type_int},
	{"direction", json_type_string},
};

static uint8_t mid[16] = {0x9f, 0x1c, 0x0b, 0x7e};

static void entry_init(Ppx__V1__LogEntry *e, int kind)
{
	ppx__v1__log_entry__init(e);
	e->seq = 42;
	e->time_ms = 1700000000123LL;
	e->kind = kind;
}

static json_object *key(json_object *o, const char *k)
{
	json_object *v = NULL;

	if (!json_object_object_get_ex(o, k, &v))
		fail_msg("key \"%s\" missing", k);
	return v;
}

static const char *str(json_object *o, const char *k)
{
	json_object *v = key(o, k);

	assert_int_equal(json_object_get_type(v), json_type_string);
	return json_object_get_string(v);
}

static int has(json_object *o, const char *k)
{
	return json_object_object_get_ex(o, k, NULL);
}

static json_object *map(const Ppx__V1__LogEntry *e, const Ppx__V1__Body *b,
			unsigned flags)
{
	json_object *o = NULL;

	assert_int_equal(ppx_entry_json(&o, e, b, "police.gwent", flags), 0);
	assert_non_null(o);
	return o;
}

/* The common keys come first, in the order of `always`: the order hooks
 * have always had, then the keys added since. */
static void check_order(json_object *o)
{
	size_t i = 0;

	json_object_object_foreach(o, k, v) {
		if (i == sizeof(always) / sizeof(always[0]))
			break;
		assert_string_equal(k, always[i].key);
		assert_int_equal(json_object_get_type(v), always[i].type);
		i++;
	}
	assert_int_equal(i, sizeof(always) / sizeof(always[0]));
}

static void test_entry_json__every_kind_has_the_common_keys(void **state)
{
	Ppx__V1__LogEntry e;

	(void)state;
	for (int k = 0; k <= PPX__V1__ENTRY_KIND__ENTRY_PARTNER_BLOCKED; k++) {
		json_object *o;

		entry_init(&e, k);
		o = map(&e, NULL, 0);
		check_order(o);
		assert_string_equal(str(o, "agency"), "police.gwent");
		assert_int_equal(json_object_get_int64(key(o, "seq")), 42);
		assert_string_equal(str(o, "time"), "2023-11-14T22:13:20.123Z");
		assert_int_equal(json_object_get_int64(key(o, "time_ms")),
				 1700000000123LL);
		assert_false(has(o, "body"));	/* not asked for */
		assert_false(has(o, "recipients"));	/* no message */
		assert_int_equal(has(o, "related_seq"),
			k == PPX__V1__ENTRY_KIND__ENTRY_HOOK_QUARANTINE ||
			k == PPX__V1__ENTRY_KIND__ENTRY_HOOK_DECISION);
		assert_int_equal(has(o, "frame_size"),
				 k == PPX__V1__ENTRY_KIND__ENTRY_REJECTED);
		assert_int_equal(has(o, "frame_hash"),
				 k == PPX__V1__ENTRY_KIND__ENTRY_REJECTED);
		assert_int_equal(has(o, "change"),
			k == PPX__V1__ENTRY_KIND__ENTRY_CONFIG_CHANGE ||
			k == PPX__V1__ENTRY_KIND__ENTRY_POLICY_CHANGE ||
			k == PPX__V1__ENTRY_KIND__ENTRY_KEY_CHANGE);
		json_object_put(o);
	}
}

static void test_entry_json__sent_message(void **state)
{
	Ppx__V1__Body *b = body_new("police.gwent", "probation.gwent");
	Ppx__V1__LogEntry e;
	char *keys[] = {"pnc:2019/0123456X", "crn:X123456"};
	json_object *o, *body;

	(void)state;
	entry_init(&e, PPX__V1__ENTRY_KIND__ENTRY_SENT);
	e.message_id = b->message_id;
	e.family = "notification";
	e.person = "dana.evans";
	e.subject_keys = keys;
	e.n_subject_keys = 2;
	b->created_ms = 1700000000000LL;
	o = map(&e, b, PPX_ENTRY_JSON_BODY);
	assert_string_equal(str(o, "kind"), "ENTRY_SENT");
	assert_string_equal(str(o, "direction"), "out");
	assert_string_equal(str(o, "peer"), "");
	assert_int_equal(strlen(str(o, "message_id")), 32);
	assert_string_equal(str(o, "sender"), "police.gwent");
	assert_string_equal(str(o, "person"), "dana.evans");
	assert_string_equal(str(o, "family"), "notification");
	assert_int_equal(json_object_array_length(key(o, "subjects")), 2);
	assert_string_equal(json_object_get_string(json_object_array_get_idx(
				    key(o, "subjects"), 1)), "crn:X123456");
	assert_string_equal(str(o, "reason"), "");
	/* What the message says. */
	assert_string_equal(str(o, "notification"), "ARREST");
	assert_string_equal(str(o, "sender_person"), "Dana Evans");
	assert_string_equal(str(o, "priority"), "URGENT");
	assert_string_equal(str(o, "created"), "2023-11-14T22:13:20.000Z");
	assert_string_equal(json_object_get_string(json_object_array_get_idx(
				    key(o, "recipients"), 0)),
			    "probation.gwent");
	assert_false(has(o, "replies_to"));
	assert_false(has(o, "ack_deadline"));
	body = key(o, "body");
	assert_int_equal(json_object_get_type(body), json_type_object);
	assert_string_equal(str(body, "senderAgency"), "police.gwent");
	json_object_put(o);
	body_free(b);
}

static void test_entry_json__received_without_body(void **state)
{
	Ppx__V1__LogEntry e;
	json_object *o;

	(void)state;
	entry_init(&e, PPX__V1__ENTRY_KIND__ENTRY_RECEIVED);
	e.peer_agency = "probation.gwent";
	e.message_id.data = mid;
	e.message_id.len = sizeof(mid);
	o = map(&e, NULL, PPX_ENTRY_JSON_BODY);
	assert_string_equal(str(o, "direction"), "in");
	assert_string_equal(str(o, "sender"), "probation.gwent");
	assert_string_equal(str(o, "message_id"),
			    "9f1c0b7e000000000000000000000000");
	assert_int_equal(json_object_get_type(key(o, "body")),
			 json_type_null);
	assert_false(has(o, "recipients"));
	json_object_put(o);
}

static void test_entry_json__rejected_frame(void **state)
{
	Ppx__V1__LogEntry e;
	uint8_t hash[32] = {0xaa, 0xbb};
	json_object *o;

	(void)state;
	entry_init(&e, PPX__V1__ENTRY_KIND__ENTRY_REJECTED);
	e.peer_agency = "prison.cardiff";
	e.reason = PPX__V1__REJECT_REASON__REJECT_TOO_LARGE;
	e.detail = "frame of 1048577 bytes";
	e.frame_size = 1048577;
	e.frame_hash.data = hash;
	e.frame_hash.len = sizeof(hash);
	o = map(&e, NULL, 0);
	assert_string_equal(str(o, "reason"), "REJECT_TOO_LARGE");
	assert_string_equal(str(o, "detail"), "frame of 1048577 bytes");
	assert_int_equal(json_object_get_int64(key(o, "frame_size")), 1048577);
	assert_int_equal(strncmp(str(o, "frame_hash"), "aabb00", 6), 0);
	assert_int_equal(strlen(str(o, "frame_hash")), 64);
	assert_string_equal(str(o, "sender"), "");	/* names no message */
	assert_string_equal(str(o, "direction"), "in");
	json_object_put(o);
}

static void test_entry_json__receipt_and_hook_entries(void **state)
{
	Ppx__V1__LogEntry e;
	ProtobufCBinaryData ids[2] = {{16, mid}, {16, mid}};
	json_object *o;

	(void)state;
	entry_init(&e, PPX__V1__ENTRY_KIND__ENTRY_RECEIPT_RECEIVED);
	e.peer_agency = "probation.gwent";
	e.related_ids = ids;
	e.n_related_ids = 2;
	o = map(&e, NULL, 0);
	assert_int_equal(json_object_array_length(key(o, "related_ids")), 2);
	assert_string_equal(json_object_get_string(json_object_array_get_idx(
				    key(o, "related_ids"), 0)),
			    "9f1c0b7e000000000000000000000000");
	assert_string_equal(str(o, "direction"), "in");
	json_object_put(o);
	entry_init(&e, PPX__V1__ENTRY_KIND__ENTRY_HOOK_QUARANTINE);
	e.family = "casework-db";
	e.related_seq = 17;
	o = map(&e, NULL, 0);
	assert_string_equal(str(o, "family"), "casework-db");
	assert_int_equal(json_object_get_int64(key(o, "related_seq")), 17);
	assert_string_equal(str(o, "direction"), "");
	json_object_put(o);
}

/* A change entry's ChangeRecord, decoded under "change". */
static void test_entry_json__change_record(void **state)
{
	Ppx__V1__LogEntry e;
	Ppx__V1__ChangeRecord cr = PPX__V1__CHANGE_RECORD__INIT;
	uint8_t sha[32] = {0x12, 0x34}, buf[512];
	char *changes[] = {"[rule r] added"}, *in_force[] = {"[rule r]"};
	json_object *o, *c;

	(void)state;
	cr.what = "policy";
	cr.path = "/etc/ppx/policy.conf";
	cr.sha256.data = sha;
	cr.sha256.len = sizeof(sha);
	cr.cause = "reload";
	cr.changes = changes;
	cr.n_changes = 1;
	cr.in_force = in_force;
	cr.n_in_force = 1;
	entry_init(&e, PPX__V1__ENTRY_KIND__ENTRY_POLICY_CHANGE);
	e.person = "dana.evans";
	e.data.data = buf;
	e.data.len = ppx__v1__change_record__pack(&cr, buf);
	o = map(&e, NULL, 0);
	c = key(o, "change");
	assert_string_equal(str(c, "what"), "policy");
	assert_string_equal(str(c, "path"), "/etc/ppx/policy.conf");
	assert_int_equal(strncmp(str(c, "sha256"), "123400", 6), 0);
	assert_string_equal(str(c, "previous_sha256"), "");
	assert_string_equal(str(c, "cause"), "reload");
	assert_string_equal(json_object_get_string(json_object_array_get_idx(
				    key(c, "changes"), 0)), "[rule r] added");
	assert_int_equal(json_object_array_length(key(c, "in_force")), 1);
	assert_string_equal(str(o, "person"), "dana.evans");
	json_object_put(o);
	/* Data that does not decode: null, not a failure. */
	buf[0] = 0xff;
	e.data.len = 1;
	o = map(&e, NULL, 0);
	assert_true(json_object_get_type(key(o, "change")) == json_type_null);
	json_object_put(o);
}

/* The text form is the object printed compactly, except that a string
 * the log holds that is not UTF-8 comes out repaired (U+FFFD). */
static void test_entry_json__print_is_the_object_as_utf8_text(void **state)
{
	Ppx__V1__Body *b = body_new("police.gwent", "probation.gwent");
	Ppx__V1__LogEntry e;
	json_object *o;
	char *text = NULL;

	(void)state;
	entry_init(&e, PPX__V1__ENTRY_KIND__ENTRY_SENT);
	e.message_id = b->message_id;
	e.family = "notification";
	e.person = "dana.evans";
	assert_int_equal(ppx_entry_json_print(&text, &e, b, "police.gwent",
					      PPX_ENTRY_JSON_BODY),
			 0);
	o = map(&e, b, PPX_ENTRY_JSON_BODY);
	assert_string_equal(text, json_object_to_json_string_ext(
		o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	free(text);

	e.detail = "bad \xff byte";
	assert_int_equal(ppx_entry_json_print(&text, &e, NULL, "", 0), 0);
	assert_non_null(strstr(text, "\"detail\":\"bad \xef\xbf\xbd byte\""));
	assert_null(strstr(text, "\xff"));
	free(text);
	body_free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
			test_entry_json__every_kind_has_the_common_keys),
		cmocka_unit_test(test_entry_json__sent_message),
		cmocka_unit_test(test_entry_json__received_without_body),
		cmocka_unit_test(test_entry_json__rejected_frame),
		cmocka_unit_test(test_entry_json__receipt_and_hook_entries),
		cmocka_unit_test(test_entry_json__change_record),
		cmocka_unit_test(
			test_entry_json__print_is_the_object_as_utf8_text),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
