/*
 * cmd_hook.c — `ppx hook retry|drop NAME SEQ --reason TEXT`: a named
 * operator's decision on a log entry that a durable hook set aside after
 * failing on it (docs/HOOKS.md, "Quarantine").
 *
 * The request goes to the running daemon over the control socket
 * (HookDecisionRequest); the daemon learns who is asking from the socket's
 * peer credentials, logs the decision as ENTRY_HOOK_DECISION with that
 * person and the reason, and answers after the commit.  retry runs the
 * hook on the entry again, out of log order; drop takes it out of the
 * quarantine: the hook never gets it.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "ppx/error.h"

static const char usage[] =
	"usage: ppx hook retry|drop NAME SEQ --reason TEXT [--config FILE]\n"
	"Decides on log entry SEQ that hook NAME set aside (ppx status lists\n"
	"them): retry gives it to the hook again (out of order), drop takes\n"
	"it out of the quarantine for good.  The decision is logged with your\n"
	"name and the reason.\n";

/* Sends the request; the exit code. */
static int decide(const char *config, Ppx__V1__HookDecisionRequest *r)
{
	Ppx__V1__ControlRequest req = PPX__V1__CONTROL_REQUEST__INIT;
	Ppx__V1__ControlReply *reply = NULL;
	int rc;

	req.request_case = PPX__V1__CONTROL_REQUEST__REQUEST_HOOK_DECISION;
	req.hook_decision = r;
	if ((rc = ctl_call(config_path_default(config), &req, &reply,
			   "hook")) != 0)
		return rc;
	if (reply->code != 0) {
		fprintf(stderr, "ppx hook %s: %s\n", r->drop ? "drop" : "retry",
			reply->error);
		rc = PPX_EXIT_NO;
	} else {
		printf("hook %s: entry %llu %s\n", r->hook,
		       (unsigned long long)r->seq, r->drop ?
		       "dropped from the quarantine" :
		       "will be given to the hook again");
	}
	ppx__v1__control_reply__free_unpacked(reply, NULL);
	return rc;
}

int cmd_hook(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"config", required_argument, NULL, 'c'},
		{"reason", required_argument, NULL, 'r'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	Ppx__V1__HookDecisionRequest r = PPX__V1__HOOK_DECISION_REQUEST__INIT;
	const char *config = NULL, *reason = NULL;
	int ch;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "c:r:h", longopts, NULL)) != -1) {
		if (ch == 'c')
			config = optarg;
		else if (ch == 'r')
			reason = optarg;
		else {
			fputs(usage, ch == 'h' ? stdout : stderr);
			return ch == 'h' ? PPX_EXIT_OK : PPX_EXIT_USAGE;
		}
	}
	if (argc - optind != 3 || (strcmp(argv[optind], "retry") != 0 &&
				   strcmp(argv[optind], "drop") != 0) ||
	    ctl_parse_seq(argv[optind + 2], &r.seq) != 0) {
		fputs(usage, stderr);
		return PPX_EXIT_USAGE;
	}
	if (!reason || !reason[0]) {
		fprintf(stderr, "ppx hook: --reason TEXT is required: the "
			"decision is logged with your name and the reason\n");
		return PPX_EXIT_USAGE;
	}
	r.drop = strcmp(argv[optind], "drop") == 0;
	r.hook = argv[optind + 1];
	r.reason = (char *)reason;
	return decide(config, &r);
}
