/*
 * domain_fixtures.c — message bodies as JSON, and building changed copies
 * of them, for test_domain.c and test_domain_records.c (see domain_fixtures.h).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "domain_fixtures.h"
#include "ppx/error.h"
#include "ppx/json-c.h"

const char DF_NOTE[] =
	"{\"recipients\":[\"probation.gwent\"],\"marking\":\"OFFICIAL_SENSITIVE\","
	"\"priority\":\"URGENT\",\"created_ms\":\"1795300000000\","
	"\"subject\":{\"pnc_id\":\"2019/0123456X\",\"crn\":\"X123456\"},"
	"\"notification\":{\"kind\":\"ARREST\",\"effective_date\":\"2026-11-21\","
	"\"details\":\"Arrested 21:40 on suspicion of breach of SHPO\"}}";

const char DF_MINUTES[] =
	"{\"recipients\":[\"police.gwent\"],\"marking\":\"OFFICIAL_SENSITIVE\","
	"\"subject\":{\"crn\":\"X123456\"},\"minutes\":{"
	"\"meeting_id\":\"GW-114\",\"level\":\"LEVEL_2\","
	"\"meeting_date\":\"2026-11-20\",\"chair\":"
	PERSON("Alex Morgan", "probation.gwent", "MAPPA chair") ","
	"\"lead_agency\":\"probation.gwent\","
	"\"required\":[{\"person\":" SAM "},{\"person\":" DANA "}],"
	"\"actual\":[{\"person\":" SAM "}],\"absent\":[{\"person\":" DANA "}],"
	"\"disclosure_considered\":true,"
	"\"disclosure_considered_answer\":\"YES\","
	"\"disclosures\":[{\"decision\":\"DO_NOT_DISCLOSE\","
	"\"rationale\":\"No current risk\",\"decided_by\":"
	PERSON("Alex Morgan", "probation.gwent", "MAPPA chair") "}],"
	"\"actions\":[{\"id\":\"A1\",\"description\":\"Home visit\","
	"\"owner\":" DANA ",\"due_date\":\"2026-12-01\","
	"\"status\":\"ACTION_OPEN\"}],\"version\":1}}";

const char DF_DISCLOSURE[] =
	"{\"recipients\":[\"probation.gwent\"],\"marking\":\"OFFICIAL_SENSITIVE\","
	"\"subject\":{\"crn\":\"X123456\"},\"disclosure\":{\"considered\":true,"
	"\"considered_answer\":\"YES\",\"decision\":\"DISCLOSE\","
	"\"recipient_category\":\"EMPLOYER\",\"recipient\":\"Newport Haulage\","
	"\"information_disclosed\":\"Conviction and licence conditions\","
	"\"rationale\":\"Access to children on delivery rounds\","
	"\"legal_basis\":\"COMMON_LAW_POLICE_DISCLOSURE\",\"decided_by\":"
	PERSON("Alex Morgan", "probation.gwent", "MAPPA chair") "}}";

#define RECORD_CONTENT \
	"\"category\":\"CATEGORY_2\",\"level\":\"LEVEL_2\"," \
	"\"conditions\":[{\"id\":\"c8\",\"kind\":\"SHPO\",\"text\":\"No " \
	"unsupervised contact with children\",\"monitoring_agency\":" \
	"\"police.gwent\"}],\"partner_agencies\":[\"police.gwent\"," \
	"\"probation.gwent\"]"

const char DF_RECORD1[] =
	"{\"recipients\":[\"probation.gwent\"],\"marking\":\"OFFICIAL_SENSITIVE\","
	"\"created_ms\":\"1795300000000\",\"subject\":{\"pnc_id\":\"2019/0123456X\"},"
	"\"partner_record\":{\"record_id\":\"JS-1981\",\"version\":\"1\","
	"\"changed_fields\":[\"subject.pnc_id\",\"category\",\"level\","
	"\"conditions\",\"partner_agencies\"],"
	"\"subject\":{\"pnc_id\":\"2019/0123456X\"}," RECORD_CONTENT "}}";

const char DF_RECORD2[] =
	"{\"recipients\":[\"police.gwent\"],\"marking\":\"OFFICIAL_SENSITIVE\","
	"\"created_ms\":\"1795300000000\",\"supersedes\":\"" ID1 "\","
	"\"subject\":{\"crn\":\"X123456\"},"
	"\"partner_record\":{\"record_id\":\"JS-1981\",\"version\":\"2\","
	"\"base_version\":\"1\",\"changed_fields\":[\"subject.crn\"],"
	"\"subject\":{\"pnc_id\":\"2019/0123456X\",\"crn\":\"X123456\"},"
	RECORD_CONTENT "}}";

const char DF_ACK[] =
	"{\"recipients\":[\"police.gwent\"],\"marking\":\"OFFICIAL_SENSITIVE\","
	"\"replies_to\":\"" ID1 "\",\"acknowledgement\":{\"acknowledged_by\":"
	SAM "}}";

const char DF_ACTION[] =
	"{\"recipients\":[\"probation.gwent\"],\"marking\":\"OFFICIAL_SENSITIVE\","
	"\"replies_to\":\"" ID1 "\",\"action_update\":{\"meeting_id\":\"GW-114\","
	"\"action_id\":\"A1\",\"status\":\"ACTION_COMPLETED\","
	"\"outcome\":\"Visited: no concerns\",\"updated_by\":" DANA "}}";

/* ------------------------------------------------------------------ */
/* Building bodies                                                     */
/* ------------------------------------------------------------------ */

static json_object *child(json_object *cur, const char *name, size_t len)
{
	char key[64];
	json_object *next = NULL;

	snprintf(key, sizeof(key), "%.*s", (int)len, name);
	if (json_object_is_type(cur, json_type_array))
		return json_object_array_get_idx(cur, strtoul(key, NULL, 10));
	if (!json_object_object_get_ex(cur, key, &next)) {
		next = json_object_new_object();
		json_object_object_add(cur, key, next);
	}
	return next;
}

static void json_put(json_object *root, const char *path, const char *value)
{
	json_object *cur = root, *v = value ? json_tokener_parse(value) : NULL;
	const char *s = path, *dot;

	if (value && !v && strcmp(value, "null") != 0)
		fail_msg("bad JSON in a test case: %s", value);
	while ((dot = strchr(s, '.'))) {
		cur = child(cur, s, (size_t)(dot - s));
		assert_non_null(cur);
		s = dot + 1;
	}
	if (json_object_is_type(cur, json_type_array))
		json_object_array_put_idx(cur, strtoul(s, NULL, 10), v);
	else if (v)
		json_object_object_add(cur, s, v);
	else
		json_object_object_del(cur, s);
}

Ppx__V1__Body *body_from(const char *json, const char *sender,
				const struct mut *m, size_t n)
{
	json_object *o = json_tokener_parse(json);
	ProtobufCMessage *msg = NULL;
	char quoted[64];

	assert_non_null(o);
	if (sender) {
		snprintf(quoted, sizeof(quoted), "\"%s\"", sender);
		json_put(o, "sender_agency", quoted);
	}
	for (size_t i = 0; i < n && m[i].path; i++)
		json_put(o, m[i].path, m[i].value);
	if (ppx_json_to_message(&msg, &ppx__v1__body__descriptor, o) != 0)
		fail_msg("test body does not map: %s", ppx_error_last());
	json_object_put(o);
	return (Ppx__V1__Body *)msg;
}

void body_drop(Ppx__V1__Body *b)
{
	ppx__v1__body__free_unpacked(b, NULL);
}

