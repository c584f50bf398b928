/*
 * cmd_review.c — `ppx review SEQ --justified|--not-justified --finding
 * TEXT`: the emergency reviewer's finding on a break-glass access.
 *
 * An emergency read or send (--emergency --reason) owes a review by the
 * configured [accountability] emergency_reviewer (ppx due lists it).  The
 * request goes to the running daemon over the control socket
 * (ReviewRequest); the daemon learns who is asking from the socket's peer
 * credentials, refuses anyone but the reviewer, a review of their own
 * access and a second review, logs ENTRY_REVIEW with the finding and
 * answers with its place after the commit (daemon/review.c).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "ppx/error.h"

static const char usage[] =
	"usage: ppx review SEQ --justified|--not-justified --finding TEXT\n"
	"                  [--config FILE]\n"
	"Records your finding, as the configured emergency reviewer, on the\n"
	"emergency access logged at entry SEQ (ppx due lists those owing a\n"
	"review).  The finding (one line, at most 1024 bytes) is logged with\n"
	"your name as ENTRY_REVIEW; an access is reviewed once, and never by\n"
	"the person who made it.\n";

/* Sends the request; the exit code. */
static int send_review(const char *config, Ppx__V1__ReviewRequest *r)
{
	Ppx__V1__ControlRequest req = PPX__V1__CONTROL_REQUEST__INIT;
	Ppx__V1__ControlReply *reply = NULL;
	int rc;

	req.request_case = PPX__V1__CONTROL_REQUEST__REQUEST_REVIEW;
	req.review = r;
	if ((rc = ctl_call(config_path_default(config), &req, &reply,
			   "review")) != 0)
		return rc;
	if (reply->code != 0) {
		fprintf(stderr, "ppx review: %s\n", reply->error);
		rc = reply->code == PPX_EINVAL ? PPX_EXIT_USAGE : PPX_EXIT_NO;
	} else if (reply->reply_case !=
		   PPX__V1__CONTROL_REPLY__REPLY_REVIEW) {
		fprintf(stderr, "ppx review: the daemon answered without the "
			"review's place: is it older than this ppx?\n");
		rc = PPX_EXIT_UNAVAILABLE;
	} else {
		printf("emergency access %llu reviewed (%s): logged at entry "
		       "%llu\n", (unsigned long long)r->seq,
		       r->justified ? "justified" : "not justified",
		       (unsigned long long)reply->review->log_seq);
	}
	ppx__v1__control_reply__free_unpacked(reply, NULL);
	return rc;
}

int cmd_review(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"config", required_argument, NULL, 'c'},
		{"finding", required_argument, NULL, 'f'},
		{"justified", no_argument, NULL, 'j'},
		{"not-justified", no_argument, NULL, 'n'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	Ppx__V1__ReviewRequest r = PPX__V1__REVIEW_REQUEST__INIT;
	const char *config = NULL, *finding = NULL;
	int ch, verdicts = 0;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "c:f:h", longopts, NULL)) != -1) {
		if (ch == 'c')
			config = optarg;
		else if (ch == 'f')
			finding = optarg;
		else if (ch == 'j' || ch == 'n') {
			r.justified = ch == 'j';
			verdicts++;
		} else {
			fputs(usage, ch == 'h' ? stdout : stderr);
			return ch == 'h' ? PPX_EXIT_OK : PPX_EXIT_USAGE;
		}
	}
	if (argc - optind != 1 || ctl_parse_seq(argv[optind], &r.seq) != 0) {
		fputs(usage, stderr);
		return PPX_EXIT_USAGE;
	}
	if (verdicts != 1) {
		fprintf(stderr, "ppx review: give exactly one of --justified "
			"and --not-justified\n");
		return PPX_EXIT_USAGE;
	}
	if (!finding || !finding[0]) {
		fprintf(stderr, "ppx review: --finding TEXT is required: why "
			"the access was, or was not, justified\n");
		return PPX_EXIT_USAGE;
	}
	r.finding = (char *)finding;
	return send_review(config, &r);
}
