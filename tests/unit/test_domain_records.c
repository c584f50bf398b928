/*
 * test_domain_records.c — the domain checks that need the log
 * (lib/records.c): an update of a partner record not based on the
 * latest version held is a conflict, whether older or another version of
 * the same number; a receiver that was not sent every version accepts
 * what it cannot judge; changes are checked against the base version's
 * content (changed_fields must be exact, conditions are owned by their
 * kind); a merge lets the other version's fields through;
 * acknowledgements, action updates and amendments must refer to logged
 * messages that fit, and each reference resolves (sender, id): a message
 * another agency sent under the same id never binds it.
 *
 * Each test logs signed messages as the daemon would (SENT, RECEIVED, or
 * REJECTED as a conflict) in a fresh log, then asks ppx_records_check().
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../daemon/policy.h"
#include "ppx/records.h"
#include "domain_fixtures.h"
#include "ppx/error.h"
#include "ppx/logstore.h"
#include "support.h"

#define P "police.gwent"
#define B "probation.gwent"
#define J "prison.cardiff"

struct logfx {
	char *dir;
	ppx_log *log;
};

static int log_setup(void **state)
{
	struct logfx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->dir = tmpdir_new();
	assert_int_equal(ppx_log_open(&f->log, f->dir, NULL), 0);
	*state = f;
	return 0;
}

static int log_teardown(void **state)
{
	struct logfx *f = *state;

	ppx_log_close(f->log);
	tmpdir_remove(f->dir);
	free(f);
	return 0;
}

static void set_id(ProtobufCBinaryData *f, int k)
{
	free(f->data);
	f->data = NULL;
	f->len = 0;
	if (k == 0)
		return;
	f->data = malloc(16);
	assert_non_null(f->data);
	memset(f->data, k, 16);
	f->len = 16;
}

/* A body with message id `id`, based on `base` (0: none). */
static Ppx__V1__Body *msg(const char *json, const char *sender, int id,
			  int base, const struct mut *m, size_t n)
{
	Ppx__V1__Body *b = body_from(json, sender, m, n);

	set_id(&b->message_id, id);
	if (b->payload_case == PPX__V1__BODY__PAYLOAD_PARTNER_RECORD ||
	    b->payload_case == PPX__V1__BODY__PAYLOAD_MINUTES)
		set_id(&b->supersedes, base);
	else if (base)
		set_id(&b->replies_to, base);
	return b;
}

/* Log `b` as `kind` from/to `peer`, as the daemon would; the body is
 * freed. */
static void log_msg(ppx_log *log, int kind, const char *peer,
		    Ppx__V1__Body *b)
{
	Ppx__V1__LogEntry e = PPX__V1__LOG_ENTRY__INIT;
	ppx_signer *s = signer_at(b->sender_agency);
	uint8_t *frame = NULL;
	size_t len = 0, n = 0;
	char **keys = NULL;
	uint64_t seq;

	assert_int_equal(ppx_body_seal(&frame, &len, s, b), 0);
	if (kind != PPX__V1__ENTRY_KIND__ENTRY_REJECTED)
		assert_int_equal(ppx_records_subject_keys(&keys, &n, b), 0);
	else
		e.reason = PPX__V1__REJECT_REASON__REJECT_CONFLICT;
	e.kind = kind;
	e.peer_agency = (char *)peer;
	e.message_id = b->message_id;
	e.data.data = frame;
	e.data.len = len;
	e.subject_keys = keys;
	e.n_subject_keys = n;
	assert_int_equal(ppx_log_append_one(log, &e, &seq), 0);
	ppx_subject_keys_free(keys, n);
	free(frame);
	ppx_signer_free(s);
	body_drop(b);
}

#define SENT PPX__V1__ENTRY_KIND__ENTRY_SENT
#define RECEIVED PPX__V1__ENTRY_KIND__ENTRY_RECEIVED
#define REJECTED PPX__V1__ENTRY_KIND__ENTRY_REJECTED

static const struct mut crn_added[] = {{0}};
static const struct mut level3[] = {
	{"partner_record.level", "\"LEVEL_3\""},
	{"partner_record.changed_fields", "[\"level\"]"},
	{"partner_record.subject.crn", NULL},
};

/* Check `b` (then freed) against the log: code and words. */
static void checks(ppx_log *log, Ppx__V1__Body *b, const char *sender,
		   int outbound, int code, const char *says)
{
	int rc = ppx_records_check(log, b, sender, outbound);

	if (rc != code || (says && !strstr(ppx_error_last(), says)))
		fail_msg("got %d \"%s\", wanted %d \"%s\"", rc,
			 ppx_error_last(), code, says ? says : "");
	body_drop(b);
}

static void test_records__update_of_the_latest_version_passes(void **state)
{
	struct logfx *f = *state;
	struct ppx_record_latest l;

	log_msg(f->log, SENT, "", msg(DF_RECORD1, P, 1, 0, NULL, 0));
	assert_int_equal(ppx_records_latest(&l, f->log, "JS-1981"), 0);
	assert_int_equal(l.version, 1);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.tips[0].agency, P);
	checks(f->log, msg(DF_RECORD2, P, 2, 1, level3, 3), P, 1, 0, NULL);
	checks(f->log, msg(DF_RECORD2, B, 2, 1, crn_added, 0), B, 0, 0, NULL);
}

static void test_records__update_of_an_old_version_is_a_conflict(void **state)
{
	struct logfx *f = *state;

	log_msg(f->log, SENT, "", msg(DF_RECORD1, P, 1, 0, NULL, 0));
	log_msg(f->log, RECEIVED, B, msg(DF_RECORD2, B, 2, 1, NULL, 0));
	checks(f->log, msg(DF_RECORD2, P, 3, 1, level3, 3), P, 1, PPX_ECONFLICT,
	       "partner record JS-1981: based on version 1 but version 2 "
	       "(from probation.gwent, ");
	checks(f->log, msg(DF_RECORD2, P, 3, 1, level3, 3), P, 0, PPX_ECONFLICT,
	       "merge and resend");
	checks(f->log, msg(DF_RECORD1, P, 4, 0, NULL, 0), P, 1, PPX_ECONFLICT,
	       "partner record JS-1981 already exists: version 2");
	/* a retry of what was logged passes: it is the same message */
	checks(f->log, msg(DF_RECORD1, P, 1, 0, NULL, 0), P, 1, 0, NULL);
}

static void test_records__another_version_of_the_same_number_is_a_conflict(
	void **state)
{
	struct logfx *f = *state;
	static const struct mut v3[] = {
		{"partner_record.version", "\"3\""},
		{"partner_record.base_version", "\"2\""},
		{"partner_record.changed_fields", "[\"level\"]"},
	};
	Ppx__V1__Body *b;

	log_msg(f->log, SENT, "", msg(DF_RECORD1, P, 1, 0, NULL, 0));
	log_msg(f->log, RECEIVED, B, msg(DF_RECORD2, B, 2, 1, NULL, 0));
	/* police's own version 2 (message 9) is not the one held here */
	b = msg(DF_RECORD2, P, 3, 9, v3, 3);
	b->partner_record->level = PPX__V1__MAPPA_LEVEL__LEVEL_3;
	checks(f->log, b, P, 0, PPX_ECONFLICT, "version 2 held here is "
	       "message 02020202020202020202020202020202 from probation.gwent");
}

static void test_records__a_receiver_behind_accepts_what_it_cannot_judge(
	void **state)
{
	struct logfx *f = *state;
	static const struct mut v3[] = {
		{"partner_record.version", "\"3\""},
		{"partner_record.base_version", "\"2\""},
		{"partner_record.changed_fields", "[\"level\"]"},
	};

	log_msg(f->log, RECEIVED, P, msg(DF_RECORD1, P, 1, 0, NULL, 0));
	checks(f->log, msg(DF_RECORD2, P, 3, 7, v3, 3), P, 0, 0, NULL);
	/* the sender itself must hold what it builds on */
	checks(f->log, msg(DF_RECORD2, P, 3, 7, v3, 3), P, 1, PPX_ECONFLICT,
	       "based on version 2, but the latest version this agency holds "
	       "is 1");
}

static void test_records__receiver_checks_changes_against_the_base(
	void **state)
{
	struct logfx *f = *state;
	static const struct mut unlisted[] = {
		{"partner_record.level", "\"LEVEL_3\""},
	};
	static const struct mut overlisted[] = {
		{"partner_record.changed_fields", "[\"subject.crn\",\"rosh\"]"},
	};
	static const struct mut shpo_removed[] = {
		{"partner_record.conditions.0.kind", "\"CURFEW\""},
		{"partner_record.conditions.0.monitoring_agency",
		 "\"probation.gwent\""},
		{"partner_record.changed_fields",
		 "[\"subject.crn\",\"conditions\"]"},
	};

	log_msg(f->log, SENT, "", msg(DF_RECORD1, P, 1, 0, NULL, 0));
	checks(f->log, msg(DF_RECORD2, B, 2, 1, unlisted, 1), B, 0, PPX_EBODY,
	       "partner_record.changed_fields: level differs from version 1 "
	       "but is not listed");
	checks(f->log, msg(DF_RECORD2, B, 2, 1, overlisted, 1), B, 0, PPX_EBODY,
	       "lists a field that is the same as in version 1");
	checks(f->log, msg(DF_RECORD2, B, 2, 1, shpo_removed, 3), B, 0,
	       PPX_EPOLICY, "partner_record.conditions[id c8]: probation.gwent "
	       "may not change it: an order is owned by police");
}

static void test_records__a_merge_carries_the_other_versions_fields(
	void **state)
{
	struct logfx *f = *state;
	static const struct mut p2[] = {
		{"partner_record.category", "\"CATEGORY_1\""},
		{"partner_record.changed_fields", "[\"category\"]"},
		{"partner_record.subject.crn", NULL},
	};
	static const struct mut b2[] = {
		{"partner_record.rosh",
		 "[{\"group\":\"PUBLIC\",\"level\":\"RISK_HIGH\"}]"},
		{"partner_record.changed_fields", "[\"rosh\"]"},
		{"partner_record.subject.crn", NULL},
	};
	static const struct mut v3[] = {
		{"partner_record.rosh",
		 "[{\"group\":\"PUBLIC\",\"level\":\"RISK_HIGH\"}]"},
		{"partner_record.changed_fields", "[\"rosh\"]"},
		{"partner_record.subject.crn", NULL},
	};
	Ppx__V1__Body *b;

	log_msg(f->log, SENT, "", msg(DF_RECORD1, P, 1, 0, NULL, 0));
	log_msg(f->log, SENT, "", msg(DF_RECORD2, P, 2, 1, p2, 3));
	log_msg(f->log, REJECTED, B, msg(DF_RECORD2, B, 3, 1, b2, 3));
	b = msg(DF_RECORD2, P, 4, 2, v3, 3);
	b->partner_record->version = 3;
	b->partner_record->base_version = 2;
	b->partner_record->category = PPX__V1__MAPPA_CATEGORY__CATEGORY_1;
	checks(f->log, b, P, 1, PPX_EPOLICY, "partner_record.rosh: "
	       "police.gwent (police) may not change this field");
	b = msg(DF_RECORD2, P, 4, 2, v3, 3);
	b->partner_record->version = 3;
	b->partner_record->base_version = 2;
	b->partner_record->category = PPX__V1__MAPPA_CATEGORY__CATEGORY_1;
	b->partner_record->merges = calloc(1, sizeof(ProtobufCBinaryData));
	b->partner_record->n_merges = 1;
	set_id(&b->partner_record->merges[0], 3);
	checks(f->log, b, P, 1, 0, NULL);
}

static void test_records__replies_must_answer_a_logged_message(void **state)
{
	struct logfx *f = *state;
	static const struct mut a9[] = {{"action_update.action_id", "\"A9\""}};
	static const struct mut m9[] = {
		{"action_update.meeting_id", "\"GW-999\""},
	};

	checks(f->log, msg(DF_ACK, B, 5, 0x11, NULL, 0), B, 1, PPX_EBODY,
	       "is not in this agency's log");
	log_msg(f->log, SENT, "", msg(DF_NOTE, P, 0x11, 0, NULL, 0));
	checks(f->log, msg(DF_ACK, P, 5, 0x11, NULL, 0), P, 1, PPX_EBODY,
	       "replies_to: this agency sent that message");
	checks(f->log, msg(DF_ACK, B, 5, 0x11, NULL, 0), B, 0, 0, NULL);
	checks(f->log, msg(DF_ACK, J, 5, 0x11, NULL, 0), J, 0, PPX_EBODY,
	       "prison.cardiff acknowledges a message that was not sent to it");
	log_msg(f->log, SENT, "", msg(DF_MINUTES, B, 0x21, 0, NULL, 0));
	checks(f->log, msg(DF_ACTION, P, 6, 0x21, NULL, 0), P, 0, 0, NULL);
	checks(f->log, msg(DF_ACTION, P, 6, 0x21, a9, 1), P, 0, PPX_EBODY,
	       "action_update.action_id: the minutes of meeting GW-114 have "
	       "no action A9");
	checks(f->log, msg(DF_ACTION, P, 6, 0x21, m9, 1), P, 0, PPX_EBODY,
	       "action_update.meeting_id: GW-999, but the minutes are of "
	       "meeting GW-114");
	checks(f->log, msg(DF_ACTION, P, 6, 0x11, NULL, 0), P, 0, PPX_EBODY,
	       "that message is not minutes");
}

static void test_records__an_amendment_supersedes_earlier_minutes(void **state)
{
	struct logfx *f = *state;
	static const struct mut v2[] = {{"minutes.version", "2"}};
	static const struct mut other[] = {
		{"minutes.version", "2"},
		{"minutes.meeting_id", "\"GW-200\""},
	};

	log_msg(f->log, SENT, "", msg(DF_MINUTES, B, 0x21, 0, NULL, 0));
	checks(f->log, msg(DF_MINUTES, B, 0x22, 0x21, v2, 1), B, 1, 0, NULL);
	checks(f->log, msg(DF_MINUTES, B, 0x22, 0x23, v2, 1), B, 1, PPX_EBODY,
	       "supersedes: minutes 23232323232323232323232323232323 are not "
	       "in this agency's log");
	checks(f->log, msg(DF_MINUTES, B, 0x22, 0x23, v2, 1), B, 0, 0, NULL);
	checks(f->log, msg(DF_MINUTES, B, 0x22, 0x21, other, 2), B, 1, PPX_EBODY,
	       "is not an earlier version of the minutes of meeting GW-200");
}

/* A message is (sender, id): prison squats the id of probation's minutes
 * at police with a note of its own.  Police's lookups and the references
 * in what is sent or received resolve to the right sender's message. */
static void test_records__a_message_is_its_sender_and_id(void **state)
{
	struct logfx *f = *state;
	static const struct mut to_b[] = {{"recipients", "[\"" B "\"]"}};
	static const struct mut to_bj[] = {
		{"recipients", "[\"" B "\",\"" J "\"]"},
	};
	static const struct mut to_p[] = {{"recipients", "[\"" P "\"]"}};
	static const struct mut to_pb[] = {
		{"recipients", "[\"" P "\",\"" B "\"]"},
	};
	static const struct mut v2[] = {
		{"minutes.version", "2"},
		{"minutes.meeting_id", "\"GW-200\""},
	};
	struct ppx_logged_message m, all[4];
	uint8_t id[16];
	size_t n = 0;

	memset(id, 0x31, sizeof(id));
	log_msg(f->log, RECEIVED, B, msg(DF_MINUTES, B, 0x31, 0, NULL, 0));
	log_msg(f->log, RECEIVED, J, msg(DF_NOTE, J, 0x31, 0, NULL, 0));
	assert_int_equal(
		ppx_records_find_all(all, 4, &n, f->log, id,
				     PPX_RECORDS_SENT | PPX_RECORDS_RECEIVED),
		0);
	assert_int_equal(n, 2);
	assert_string_equal(all[0].sender, B);
	assert_string_equal(all[1].sender, J);
	ppx_records_logged_free(&all[0]);
	ppx_records_logged_free(&all[1]);
	assert_int_equal(
		ppx_records_find(&m, f->log, J, id, PPX_RECORDS_RECEIVED), 0);
	assert_int_equal(m.body->payload_case,
			 PPX__V1__BODY__PAYLOAD_NOTIFICATION);
	ppx_records_logged_free(&m);
	assert_int_equal(
		ppx_records_find(&m, f->log, NULL, id,
				 PPX_RECORDS_SENT | PPX_RECORDS_RECEIVED),
		PPX_ENOTFOUND);
	/* police acknowledges probation's message, to probation */
	checks(f->log, msg(DF_ACK, P, 5, 0x31, to_b, 1), P, 1, 0, NULL);
	checks(f->log, msg(DF_ACK, P, 5, 0x31, to_bj, 1), P, 1, PPX_EBODY,
	       "2 recipients of the acknowledgement sent a message with that "
	       "id");
	/* prison's update to police alone binds prison's note, not
	 * probation's minutes; with probation a party, the minutes */
	checks(f->log, msg(DF_ACTION, J, 6, 0x31, to_p, 1), J, 0, PPX_EBODY,
	       "that message is not minutes");
	checks(f->log, msg(DF_ACTION, J, 6, 0x31, to_pb, 1), J, 0, 0, NULL);
	checks(f->log, msg(DF_ACTION, "housing.newport", 6, 0x31, to_p, 1),
	       "housing.newport", 0, PPX_EBODY, "from a party to the update "
	       "is not in the receiver's log");
	/* an amendment names its own sender's minutes: housing holds none */
	checks(f->log, msg(DF_MINUTES, "housing.newport", 7, 0x31, v2, 2),
	       "housing.newport", 0, 0, NULL);
	checks(f->log, msg(DF_MINUTES, B, 7, 0x31, v2, 2), B, 0, PPX_EBODY,
	       "is not an earlier version of the minutes of meeting GW-200");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_records__update_of_the_latest_version_passes,
			log_setup, log_teardown),
		cmocka_unit_test_setup_teardown(
			test_records__update_of_an_old_version_is_a_conflict,
			log_setup, log_teardown),
		cmocka_unit_test_setup_teardown(
			test_records__another_version_of_the_same_number_is_a_conflict,
			log_setup, log_teardown),
		cmocka_unit_test_setup_teardown(
			test_records__a_receiver_behind_accepts_what_it_cannot_judge,
			log_setup, log_teardown),
		cmocka_unit_test_setup_teardown(
			test_records__receiver_checks_changes_against_the_base,
			log_setup, log_teardown),
		cmocka_unit_test_setup_teardown(
			test_records__a_merge_carries_the_other_versions_fields,
			log_setup, log_teardown),
		cmocka_unit_test_setup_teardown(
			test_records__replies_must_answer_a_logged_message,
			log_setup, log_teardown),
		cmocka_unit_test_setup_teardown(
			test_records__an_amendment_supersedes_earlier_minutes,
			log_setup, log_teardown),
		cmocka_unit_test_setup_teardown(
			test_records__a_message_is_its_sender_and_id,
			log_setup, log_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
