/*
 * test_review.c — `ppx review` answered by the daemon (daemon/review.c
 * through control_request.c), against a real log: the fixture's police
 * daemon, whose configuration names dana.evans (the caller's uid) the
 * emergency reviewer and sam.other (another uid) an operator.  Emergency
 * entries are appended directly, as the break-glass read and send will
 * write them.  It proves that the reviewer's finding is logged as
 * ENTRY_REVIEW (person, related_seq, finding, verdict, the access's
 * subject keys) only after the commit, with its mark; that a second
 * review, a review by anyone but the reviewer, of the reviewer's own
 * access, of an entry that is no emergency access or of none at all, and
 * a finding that is empty, too long or holds a control character, are
 * each refused with their code and log nothing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../daemon/control.h"
#include "../../daemon/review.h"
#include "../../daemon/writer.h"
#include "daemon_fixture.h"
#include "ppx/control.h"
#include "ppx/error.h"
#include "ppx/logstore.h"

struct capture {
	int replies, released;
	Ppx__V1__ControlReply *reply;
};

struct fx {
	struct daemon_fixture *f;
	struct capture cap;
	struct control_caller reviewer, other, stranger;
};

static void capture_send(struct ppxd *d, void *arg, const uint8_t *bytes,
			 size_t len)
{
	struct capture *c = arg;

	(void)d;
	c->replies++;
	if (c->reply)
		ppx__v1__control_reply__free_unpacked(c->reply, NULL);
	c->reply = ppx__v1__control_reply__unpack(NULL, len, bytes);
	assert_non_null(c->reply);
}

static void capture_release(void *arg)
{
	((struct capture *)arg)->released++;
}

static int setup(void **state)
{
	struct fx *x = calloc(1, sizeof(*x));
	char extra[512];

	assert_non_null(x);
	/* The fixture puts this in [delivery]; the sections after it are
	 * the ones a break-glass configuration has. */
	snprintf(extra, sizeof(extra),
		 "[accountability]\nemergency_reviewer = dana.evans\n"
		 "emergency_review_days = 2\n"
		 "[operator sam.other]\nname = Sam Other\nrole = officer\n"
		 "grade = DC\nuid = %u\n", (unsigned)getuid() + 1);
	x->f = daemon_fixture_new("police.gwent", extra);
	x->reviewer = (struct control_caller){getuid(), getgid()};
	x->other = (struct control_caller){getuid() + 1, getgid()};
	x->stranger = (struct control_caller){getuid() + 2, getgid()};
	*state = x;
	return 0;
}

static int teardown(void **state)
{
	struct fx *x = *state;

	if (x->cap.reply)
		ppx__v1__control_reply__free_unpacked(x->cap.reply, NULL);
	daemon_fixture_free(&x->f);
	free(x);
	return 0;
}

/* Append and commit one entry of `kind` by `person`: an emergency access
 * when `emergency`, about pnc:EMERG/1. */
static uint64_t append(struct fx *x, int kind, const char *person,
		       int emergency)
{
	Ppx__V1__LogEntry e = PPX__V1__LOG_ENTRY__INIT;
	Ppx__V1__Access a = PPX__V1__ACCESS__INIT;
	char *keys[] = {"pnc:EMERG/1"};
	uint64_t seq;

	a.emergency = emergency;
	a.reason = "urgent safeguarding call";
	a.command = "show";
	a.reviewer = "dana.evans";
	a.review_due_ms = 1;
	e.kind = kind;
	e.person = (char *)person;
	e.subject_keys = keys;
	e.n_subject_keys = 1;
	e.access = &a;
	assert_int_equal(writer_append(&x->f->d, &e, &seq), 0);
	assert_int_equal(writer_flush(&x->f->d), 0);
	return seq;
}

/* Ask for a review as `who`, then commit; the reply's code. */
static int review(struct fx *x, const struct control_caller *who,
		  uint64_t seq, int justified, const char *finding)
{
	Ppx__V1__ControlRequest req = PPX__V1__CONTROL_REQUEST__INIT;
	Ppx__V1__ReviewRequest r = PPX__V1__REVIEW_REQUEST__INIT;
	struct control_reply_to to = {capture_send, capture_release, &x->cap};
	size_t len;
	uint8_t *buf;

	r.seq = seq;
	r.justified = justified;
	r.finding = (char *)finding;
	req.version = PPX_CONTROL_VERSION;
	req.request_case = PPX__V1__CONTROL_REQUEST__REQUEST_REVIEW;
	req.review = &r;
	len = ppx__v1__control_request__get_packed_size(&req);
	buf = malloc(len);
	assert_non_null(buf);
	ppx__v1__control_request__pack(&req, buf);
	x->cap.replies = x->cap.released = 0;
	control_handle(&x->f->d, who, buf, len, &to);
	free(buf);
	assert_int_equal(writer_flush(&x->f->d), 0);
	assert_int_equal(x->cap.replies, 1);
	assert_int_equal(x->cap.released, 1);
	return x->cap.reply->code;
}

static void test_review__logged_after_commit_with_its_mark(void **state)
{
	struct fx *x = *state;
	uint64_t access = append(x, PPX__V1__ENTRY_KIND__ENTRY_READ,
				 "sam.other", 1);
	Ppx__V1__ControlRequest req = PPX__V1__CONTROL_REQUEST__INIT;
	Ppx__V1__ReviewRequest r = PPX__V1__REVIEW_REQUEST__INIT;
	struct control_reply_to to = {capture_send, capture_release, &x->cap};
	struct ppx_log_mark *marks = NULL;
	Ppx__V1__LogEntry *e = NULL;
	uint8_t buf[256];
	size_t len, n = 0;

	r.seq = access;
	r.justified = 1;
	r.finding = "the call was a genuine emergency";
	req.version = PPX_CONTROL_VERSION;
	req.request_case = PPX__V1__CONTROL_REQUEST__REQUEST_REVIEW;
	req.review = &r;
	len = ppx__v1__control_request__pack(&req, buf);
	control_handle(&x->f->d, &x->reviewer, buf, len, &to);
	assert_int_equal(x->cap.replies, 0);	/* not before the commit */
	assert_int_equal(writer_flush(&x->f->d), 0);
	assert_int_equal(x->cap.replies, 1);
	assert_int_equal(x->cap.reply->code, 0);
	assert_int_equal(x->cap.reply->reply_case,
			 PPX__V1__CONTROL_REPLY__REPLY_REVIEW);
	assert_int_equal(x->cap.reply->review->log_seq, access + 1);

	assert_int_equal(ppx_log_get(x->f->d.log, access + 1, &e), 0);
	assert_int_equal(e->kind, PPX__V1__ENTRY_KIND__ENTRY_REVIEW);
	assert_string_equal(e->person, "dana.evans");
	assert_int_equal(e->related_seq, access);
	assert_non_null(e->access);
	assert_string_equal(e->access->reason,
			    "the call was a genuine emergency");
	assert_true(e->access->justified);
	assert_int_equal(e->n_subject_keys, 1);
	assert_string_equal(e->subject_keys[0], "pnc:EMERG/1");
	ppx__v1__log_entry__free_unpacked(e, NULL);

	assert_int_equal(ppx_log_mark_list(x->f->d.log, REVIEW_MARKS, &marks,
					   &n, 16), 0);
	assert_int_equal(n, 1);
	assert_int_equal(marks[0].seq, access);
	assert_int_equal(marks[0].value, access + 1);
	free(marks);
}

static void test_review__second_review_refused(void **state)
{
	struct fx *x = *state;
	uint64_t access = append(x, PPX__V1__ENTRY_KIND__ENTRY_SENT,
				 "sam.other", 1);

	assert_int_equal(review(x, &x->reviewer, access, 0, "no need"), 0);
	assert_int_equal(review(x, &x->reviewer, access, 1, "again"),
			 PPX_EDUP);
	assert_non_null(strstr(x->cap.reply->error, "reviewed already"));
	assert_int_equal(daemon_fixture_count(
				 x->f, PPX__V1__ENTRY_KIND__ENTRY_REVIEW, NULL),
			 1);
}

/* Two reviews of one access in one loop iteration (before the batch
 * commits and its mark is seen): the second is refused. */
static void test_review__second_review_in_the_same_batch_refused(
	void **state)
{
	struct fx *x = *state;
	uint64_t access = append(x, PPX__V1__ENTRY_KIND__ENTRY_SENT,
				 "sam.other", 1), at = 0, again = 0;
	Ppx__V1__ReviewRequest r = PPX__V1__REVIEW_REQUEST__INIT;

	r.seq = access;
	r.finding = "no need";
	assert_int_equal(review_log(&x->f->d, "dana.evans", &r, &at), 0);
	r.finding = "again";
	assert_int_equal(review_log(&x->f->d, "dana.evans", &r, &again),
			 PPX_EDUP);
	assert_int_equal(writer_flush(&x->f->d), 0);
	assert_int_equal(daemon_fixture_count(
				 x->f, PPX__V1__ENTRY_KIND__ENTRY_REVIEW, NULL),
			 1);
	/* committed: the mark refuses it from now on */
	assert_int_equal(review_log(&x->f->d, "dana.evans", &r, &again),
			 PPX_EDUP);
}

static void test_review__only_the_reviewer(void **state)
{
	struct fx *x = *state;
	uint64_t access = append(x, PPX__V1__ENTRY_KIND__ENTRY_READ,
				 "sam.other", 1);
	uint64_t own = append(x, PPX__V1__ENTRY_KIND__ENTRY_READ,
			      "dana.evans", 1);

	assert_int_equal(review(x, &x->other, access, 1, "fine"), PPX_EPERM);
	assert_non_null(strstr(x->cap.reply->error, "only the emergency "
						   "reviewer dana.evans"));
	assert_int_equal(review(x, &x->stranger, access, 1, "fine"),
			 PPX_EPERM);
	assert_string_equal(x->cap.reply->error, "caller is not an operator");
	assert_int_equal(review(x, &x->reviewer, own, 1, "fine"), PPX_EPERM);
	assert_non_null(strstr(x->cap.reply->error, "your own"));
	assert_int_equal(ppx_log_size(x->f->d.log), own + 1);
}

static void test_review__not_an_emergency_access(void **state)
{
	struct fx *x = *state;
	uint64_t plain = append(x, PPX__V1__ENTRY_KIND__ENTRY_READ,
				"sam.other", 0);
	uint64_t note = append(x, PPX__V1__ENTRY_KIND__ENTRY_NOTE,
			       "sam.other", 1);

	assert_int_equal(review(x, &x->reviewer, plain, 1, "x"), PPX_EINVAL);
	assert_non_null(strstr(x->cap.reply->error, "not an emergency"));
	assert_int_equal(review(x, &x->reviewer, note, 1, "x"), PPX_EINVAL);
	assert_int_equal(review(x, &x->reviewer, note + 100, 1, "x"),
			 PPX_ENOTFOUND);
	assert_int_equal(ppx_log_size(x->f->d.log), note + 1);
}

static void test_review__finding_checked(void **state)
{
	struct fx *x = *state;
	uint64_t access = append(x, PPX__V1__ENTRY_KIND__ENTRY_READ,
				 "sam.other", 1);
	char big[REVIEW_FINDING_MAX + 2];

	memset(big, 'f', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(review(x, &x->reviewer, access, 1, ""), PPX_EINVAL);
	assert_int_equal(review(x, &x->reviewer, access, 1, big), PPX_EINVAL);
	assert_int_equal(review(x, &x->reviewer, access, 1, "two\nlines"),
			 PPX_EINVAL);
	assert_int_equal(review(x, &x->reviewer, access, 1, "two\033[2J"),
			 PPX_EINVAL);
	big[REVIEW_FINDING_MAX] = '\0';	/* exactly the most */
	assert_int_equal(review(x, &x->reviewer, access, 1, big), 0);
	assert_int_equal(ppx_log_size(x->f->d.log), access + 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_review__logged_after_commit_with_its_mark, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_review__second_review_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_review__second_review_in_the_same_batch_refused,
			setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_review__only_the_reviewer, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_review__not_an_emergency_access, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_review__finding_checked, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
