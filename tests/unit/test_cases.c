/*
 * test_cases.c — who is on a subject's case (lib/cases.c): the latest
 * version of each partner record about the subject counts, and only it;
 * both tips of a fork count; a removal takes an agency off and a later
 * version puts it back; lead agency, partner agency and current prison
 * each put an agency on; officers name persons by id and agency; what the
 * log does not hold (no record, a refused conflict) does not count.
 *
 * Each test logs signed partner records in a fresh log as the daemon
 * would (SENT or RECEIVED under the subject keys of Body.subject and
 * "record:<id>"), then loads the case of a subject key.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "domain_fixtures.h"
#include "ppx/cases.h"
#include "ppx/envelope.h"
#include "ppx/error.h"
#include "ppx/logstore.h"
#include "ppx/records.h"
#include "support.h"

#define P "police.gwent"
#define B "probation.gwent"
#define H "housing.newport"
#define PNC "pnc:2019/0123456X"

struct fx {
	char *dir;
	ppx_log *log;
	struct ppx_case c;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->dir = tmpdir_new();
	assert_int_equal(ppx_log_open(&f->log, f->dir, NULL), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	ppx_case_free(&f->c);
	ppx_log_close(f->log);
	tmpdir_remove(f->dir);
	free(f);
	return 0;
}

/*
 * Version `version` of record JS-1981 from `sender` (message id all
 * bytes `id`), listing `partners` (a JSON array), logged as `kind`: the
 * record body of DF_RECORD1 with Body.subject the PNC only.
 */
static void log_version(struct fx *f, int kind, const char *sender, int id,
			int version, const char *partners,
			const struct mut *more, size_t n_more)
{
	char v[16], base[16];
	struct mut m[8] = {
		{"partner_record.version", v},
		{"partner_record.base_version", base},
		{"partner_record.partner_agencies", partners},
	};
	Ppx__V1__LogEntry e = PPX__V1__LOG_ENTRY__INIT;
	Ppx__V1__Body *b;
	ppx_signer *s = signer_at(sender);
	uint8_t *frame = NULL, mid[16];
	size_t len = 0, n = 0, nm = 3;
	char **keys = NULL;
	uint64_t seq;

	snprintf(v, sizeof(v), "\"%d\"", version);
	snprintf(base, sizeof(base), "\"%d\"", version - 1);
	for (size_t i = 0; i < n_more && nm < 8; i++)
		m[nm++] = more[i];
	b = body_from(DF_RECORD1, sender, m, nm);
	memset(mid, id, sizeof(mid));
	b->message_id.data = mid;
	b->message_id.len = sizeof(mid);
	assert_int_equal(ppx_body_seal(&frame, &len, s, b), 0);
	assert_int_equal(ppx_records_subject_keys(&keys, &n, b), 0);
	e.kind = kind;
	e.peer_agency = (char *)(kind == PPX__V1__ENTRY_KIND__ENTRY_SENT ? ""
								       : sender);
	e.message_id = b->message_id;
	e.family = "partner_record";
	e.data.data = frame;
	e.data.len = len;
	/* A refused conflict is given the keys too: the worst case, in
	 * which the index would find it. */
	if (kind == PPX__V1__ENTRY_KIND__ENTRY_REJECTED)
		e.reason = PPX__V1__REJECT_REASON__REJECT_CONFLICT;
	e.subject_keys = keys;
	e.n_subject_keys = n;
	assert_int_equal(ppx_log_append_one(f->log, &e, &seq), 0);
	ppx_subject_keys_free(keys, n);
	free(frame);
	ppx_signer_free(s);
	b->message_id.data = NULL;
	b->message_id.len = 0;
	body_drop(b);
}

#define SENT PPX__V1__ENTRY_KIND__ENTRY_SENT
#define RECEIVED PPX__V1__ENTRY_KIND__ENTRY_RECEIVED
#define REJECTED PPX__V1__ENTRY_KIND__ENTRY_REJECTED
#define WITH_H "[\"" P "\",\"" B "\",\"" H "\"]"
#define WITHOUT_H "[\"" P "\",\"" B "\"]"

/* Load the case of `key` into f->c. */
static void load(struct fx *f, const char *key)
{
	char *keys[] = {(char *)key};

	ppx_case_free(&f->c);
	assert_int_equal(ppx_case_load(&f->c, f->log, keys, 1), 0);
}

/* Whether the case lists `agency`, and `why` contains `says`. */
static void lists(struct fx *f, const char *agency, int want,
		  const char *says)
{
	char why[512];
	int got = ppx_case_lists_agency(&f->c, agency, why, sizeof(why));

	if (got != want || !strstr(why, says))
		fail_msg("%s: got %d \"%s\", wanted %d \"%s\"", agency, got,
			 why, want, says);
}

static void test_cases__no_record_is_no_case(void **state)
{
	struct fx *f = *state;
	char *keys[] = {(char *)"record:JS-1981", (char *)PNC};

	load(f, PNC);
	assert_int_equal(f->c.n, 0);
	lists(f, P, 0, "this agency holds no partner record of the case");
	assert_int_equal(ppx_case_names_person(&f->c, "dana.evans", P), 0);
	/* "record:" keys are not subjects; they are skipped, not errors */
	log_version(f, SENT, P, 1, 1, WITH_H, NULL, 0);
	ppx_case_free(&f->c);
	assert_int_equal(ppx_case_load(&f->c, f->log, keys, 1), 0);
	assert_int_equal(f->c.n, 0);
	assert_int_equal(ppx_case_load(&f->c, f->log, keys, 2), 0);
	assert_int_equal(f->c.n, 1);
}

static void test_cases__latest_version_wins(void **state)
{
	struct fx *f = *state;

	log_version(f, SENT, P, 1, 1, WITH_H, NULL, 0);
	load(f, PNC);
	assert_int_equal(f->c.n, 1);
	lists(f, H, 1, "partner record JS-1981 v1 (police.gwent) lists "
	      "housing.newport as a partner agency");
	log_version(f, RECEIVED, B, 2, 2, WITHOUT_H, NULL, 0);
	load(f, PNC);
	assert_int_equal(f->c.n, 1);
	assert_int_equal(f->c.records[0].body->partner_record->version, 2);
	lists(f, H, 0, "partner record JS-1981 v2 (probation.gwent) does not "
	      "list housing.newport");
	lists(f, B, 1, "v2 (probation.gwent) lists probation.gwent");
	/* a key the records do not carry finds nothing */
	load(f, "crn:X999");
	assert_int_equal(f->c.n, 0);
}

static void test_cases__removed_then_added_again(void **state)
{
	struct fx *f = *state;

	log_version(f, RECEIVED, P, 1, 1, WITH_H, NULL, 0);
	log_version(f, RECEIVED, P, 2, 2, WITHOUT_H, NULL, 0);
	load(f, PNC);
	lists(f, H, 0, "v2 (police.gwent) does not list");
	log_version(f, RECEIVED, P, 3, 3, WITH_H, NULL, 0);
	load(f, PNC);
	assert_int_equal(f->c.n, 1);
	lists(f, H, 1, "partner record JS-1981 v3");
}

/* Two versions 2 held (a fork not yet merged): each counts. */
static void test_cases__every_tip_of_a_fork_counts(void **state)
{
	struct fx *f = *state;

	log_version(f, SENT, P, 1, 1, WITHOUT_H, NULL, 0);
	log_version(f, SENT, P, 2, 2, WITHOUT_H, NULL, 0);
	log_version(f, RECEIVED, B, 3, 2, WITH_H, NULL, 0);
	load(f, PNC);
	assert_int_equal(f->c.n, 2);
	lists(f, H, 1, "v2 (probation.gwent) lists housing.newport");
	/* a version 3 based on one of them ends the fork */
	log_version(f, SENT, P, 4, 3, WITHOUT_H, NULL, 0);
	load(f, PNC);
	assert_int_equal(f->c.n, 1);
	lists(f, H, 0, "v3 (police.gwent) does not list");
}

/* A conflict refused (REJECTED, kept for a merge) is not held. */
static void test_cases__a_refused_version_does_not_count(void **state)
{
	struct fx *f = *state;

	log_version(f, SENT, P, 1, 1, WITHOUT_H, NULL, 0);
	log_version(f, REJECTED, B, 2, 2, WITH_H, NULL, 0);
	load(f, PNC);
	assert_int_equal(f->c.n, 1);
	lists(f, H, 0, "v1 (police.gwent) does not list housing.newport");
}

static void test_cases__lead_agency_and_current_prison_count(void **state)
{
	struct fx *f = *state;
	static const struct mut lead[] = {
		{"partner_record.lead_agency", "\"" H "\""},
	};
	static const struct mut prison[] = {
		{"partner_record.current_prison", "\"prison.cardiff\""},
	};

	log_version(f, SENT, P, 1, 1, WITHOUT_H, lead, 1);
	load(f, PNC);
	lists(f, H, 1, "as the lead agency");
	log_version(f, SENT, P, 2, 2, "[\"" P "\",\"prison.cardiff\"]",
		    prison, 1);
	load(f, PNC);
	lists(f, "prison.cardiff", 1, "as the current prison");
	lists(f, H, 0, "does not list");
	assert_int_equal(ppx_record_lists_agency(
				 f->c.records[0].body->partner_record, P), 1);
	assert_int_equal(ppx_record_lists_agency(
				 f->c.records[0].body->partner_record, H), 0);
}

static void test_cases__officers_name_persons_by_id_and_agency(void **state)
{
	struct fx *f = *state;
	static const struct mut officers[] = {
		{"partner_record.officers",
		 "{\"police_offender_manager\":{\"id\":\"dana.evans\","
		 "\"name\":\"Dana Evans\",\"agency\":\"police.gwent\"},"
		 "\"offender_manager\":{\"id\":\"sam.okafor\",\"name\":"
		 "\"Sam Okafor\",\"agency\":\"probation.gwent\"}}"},
	};
	const Ppx__V1__PartnerRecord *r;

	log_version(f, SENT, P, 1, 1, WITHOUT_H, officers, 1);
	load(f, PNC);
	assert_int_equal(ppx_case_names_person(&f->c, "dana.evans", P), 1);
	assert_int_equal(ppx_case_names_person(&f->c, "sam.okafor", B), 1);
	/* the same id at another agency is another person */
	assert_int_equal(ppx_case_names_person(&f->c, "dana.evans", B), 0);
	assert_int_equal(ppx_case_names_person(&f->c, "alex.morgan", P), 0);
	r = f->c.records[0].body->partner_record;
	assert_int_equal(ppx_record_names_person(r, "sam.okafor", B), 1);
	assert_int_equal(ppx_record_names_person(r, "sam.okafor", P), 0);
	/* a later version without officers names no one */
	log_version(f, SENT, P, 2, 2, WITHOUT_H, NULL, 0);
	load(f, PNC);
	assert_int_equal(ppx_case_names_person(&f->c, "dana.evans", P), 0);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_cases__no_record_is_no_case),
		T(test_cases__latest_version_wins),
		T(test_cases__removed_then_added_again),
		T(test_cases__every_tip_of_a_fork_counts),
		T(test_cases__a_refused_version_does_not_count),
		T(test_cases__lead_agency_and_current_prison_count),
		T(test_cases__officers_name_persons_by_id_and_agency),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
