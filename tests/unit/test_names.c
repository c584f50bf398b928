/*
 * test_names.c — enum values, families and times written out
 * (lib/names.c, lib/timefmt.c): the names the log reader, the event stream
 * and status print, the delivery state without its prefix, NULL for a
 * value without a name, and the three ISO 8601 forms with their edges
 * (the epoch, milliseconds, before 1970, a buffer too small).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ppx.pb-c.h"
#include "ppx/names.h"
#include "ppx/timefmt.h"

static void test_names__enums_by_proto_name(void **state)
{
	(void)state;
	assert_string_equal(ppx_entry_kind_name(
		PPX__V1__ENTRY_KIND__ENTRY_SENT), "ENTRY_SENT");
	assert_string_equal(ppx_entry_kind_name(
		PPX__V1__ENTRY_KIND__ENTRY_CHECKPOINT), "ENTRY_CHECKPOINT");
	assert_string_equal(ppx_reject_reason_name(
		PPX__V1__REJECT_REASON__REJECT_POLICY), "REJECT_POLICY");
	assert_string_equal(ppx_reject_reason_name(0), "REJECT_NONE");
	assert_string_equal(ppx_notification_kind_name(
		PPX__V1__NOTIFICATION_KIND__LEVEL_SET), "LEVEL_SET");
	assert_string_equal(ppx_priority_name(
		PPX__V1__PRIORITY__URGENT), "URGENT");
	assert_string_equal(ppx_marking_name(
		PPX__V1__PROTECTIVE_MARKING__OFFICIAL_SENSITIVE),
		"OFFICIAL_SENSITIVE");
}

static void test_names__delivery_state_without_prefix(void **state)
{
	(void)state;
	assert_string_equal(ppx_delivery_state_name(
		PPX__V1__DELIVERY_STATE__DELIVERY_QUEUED), "QUEUED");
	assert_string_equal(ppx_delivery_state_name(
		PPX__V1__DELIVERY_STATE__DELIVERY_DELIVERED), "DELIVERED");
	assert_string_equal(ppx_delivery_state_name(
		PPX__V1__DELIVERY_STATE__DELIVERY_REFUSED), "REFUSED");
	assert_string_equal(ppx_delivery_state_name(0), "UNSPECIFIED");
}

static void test_names__unknown_value_is_null(void **state)
{
	(void)state;
	assert_null(ppx_entry_kind_name(9999));
	assert_null(ppx_entry_kind_name(-1));
	assert_null(ppx_delivery_state_name(4));
	assert_null(ppx_reject_reason_name(9999));
	assert_null(ppx_notification_kind_name(9999));
	assert_null(ppx_priority_name(4));
	assert_null(ppx_marking_name(3));
}

/* A family is the payload field's name; a field of Body outside the
 * payload (message_id is field 1) is no family. */
static void test_names__family_is_payload_field(void **state)
{
	(void)state;
	assert_string_equal(ppx_family_name(
		PPX__V1__BODY__PAYLOAD_NOTIFICATION), "notification");
	assert_string_equal(ppx_family_name(
		PPX__V1__BODY__PAYLOAD_PARTNER_RECORD), "partner_record");
	assert_string_equal(ppx_family_name(
		PPX__V1__BODY__PAYLOAD_ACTION_UPDATE), "action_update");
	assert_null(ppx_family_name(PPX__V1__BODY__PAYLOAD__NOT_SET));
	assert_null(ppx_family_name(1));
	assert_null(ppx_family_name(-5));
	assert_null(ppx_family_name(9999));
}

/* 2026-12-05T21:11:28.045Z */
#define T_MS 1796505088045LL

static void test_timefmt__seconds(void **state)
{
	char out[PPX_TIME_ISO_LEN];

	(void)state;
	ppx_time_iso(out, sizeof(out), T_MS);
	assert_string_equal(out, "2026-12-05T21:11:28Z");
	ppx_time_iso(out, sizeof(out), 0);
	assert_string_equal(out, "1970-01-01T00:00:00Z");
	ppx_time_iso(out, sizeof(out), 253402300799999LL);
	assert_string_equal(out, "9999-12-31T23:59:59Z");
}

static void test_timefmt__milliseconds(void **state)
{
	char out[PPX_TIME_ISO_MS_LEN];

	(void)state;
	ppx_time_iso_ms(out, sizeof(out), T_MS);
	assert_string_equal(out, "2026-12-05T21:11:28.045Z");
	ppx_time_iso_ms(out, sizeof(out), 999);
	assert_string_equal(out, "1970-01-01T00:00:00.999Z");
	ppx_time_iso_ms(out, sizeof(out), -1);
	assert_string_equal(out, "1970-01-01T00:00:00.000Z");
}

static void test_timefmt__date(void **state)
{
	char out[PPX_DATE_ISO_LEN];

	(void)state;
	ppx_date_iso(out, sizeof(out), T_MS);
	assert_string_equal(out, "2026-12-05");
}

/* A buffer too small never overflows: "?" (or the epoch, cut) instead. */
static void test_timefmt__small_buffer(void **state)
{
	char out[8];

	(void)state;
	memset(out, 'x', sizeof(out));
	ppx_time_iso(out, 0, T_MS);
	assert_int_equal(out[0], 'x');
	ppx_time_iso(out, sizeof(out), T_MS);
	assert_string_equal(out, "?");
	ppx_date_iso(out, sizeof(out), T_MS);
	assert_string_equal(out, "?");
	ppx_time_iso_ms(out, sizeof(out), T_MS);
	assert_string_equal(out, "2026-12");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names__enums_by_proto_name),
		cmocka_unit_test(test_names__delivery_state_without_prefix),
		cmocka_unit_test(test_names__unknown_value_is_null),
		cmocka_unit_test(test_names__family_is_payload_field),
		cmocka_unit_test(test_timefmt__seconds),
		cmocka_unit_test(test_timefmt__milliseconds),
		cmocka_unit_test(test_timefmt__date),
		cmocka_unit_test(test_timefmt__small_buffer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
