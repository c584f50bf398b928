/*
 * cmd_reload.c — `ppx reload`: the running daemon re-reads its
 * configuration, policy, certificates and CRL (ControlRequest.reload).
 *
 * The daemon learns who is asking from the socket's peer credentials and
 * logs each file that changed as a change entry with that person
 * (docs/CONFIG.md, "Reloading").  The reply, sent after those entries are
 * committed, lists what changed and what waits for a restart; a file the
 * daemon refused (a configuration that does not load, a policy that does
 * not agree with it) is named with its error, and the version before
 * stays in force.
 */
#include <getopt.h>
#include <stdio.h>

#include "client.h"
#include "ppx/error.h"

static const char usage[] =
	"usage: ppx reload [--config FILE]\n"
	"Has the daemon re-read its configuration, policy, certificates and\n"
	"CRL.  Each file that changed is logged with your name; the reply\n"
	"lists the changes, those that take effect only at the next restart,\n"
	"and anything refused (the version before stays in force).\n";

static void print_reply(const Ppx__V1__ReloadReply *r)
{
	for (size_t i = 0; i < r->n_changes; i++)
		printf("changed: %s\n", r->changes[i]);
	for (size_t i = 0; i < r->n_restart; i++)
		printf("at restart: %s\n", r->restart[i]);
	printf("%u change entr%s logged; %zu change%s take%s effect at the "
	       "next restart\n", r->entries, r->entries == 1 ? "y" : "ies",
	       r->n_restart, r->n_restart == 1 ? "" : "s",
	       r->n_restart == 1 ? "s" : "");
}

static int reload(const char *config)
{
	Ppx__V1__ControlRequest req = PPX__V1__CONTROL_REQUEST__INIT;
	Ppx__V1__ReloadRequest rr = PPX__V1__RELOAD_REQUEST__INIT;
	Ppx__V1__ControlReply *reply = NULL;
	struct ctl c;
	int rc;

	if ((rc = ctl_open(&c, config_path_default(config), 30000)) != 0)
		return ppx_exit_code(rc);
	req.request_case = PPX__V1__CONTROL_REQUEST__REQUEST_RELOAD;
	req.reload = &rr;
	if ((rc = ctl_send(&c, &req)) != 0 ||
	    (rc = ctl_recv(&c, &reply)) != 0) {
		fprintf(stderr, "ppx reload: %s\n", ppx_error_last());
		rc = ppx_exit_code(rc);
	} else {
		if (reply->reply_case == PPX__V1__CONTROL_REPLY__REPLY_RELOAD)
			print_reply(reply->reload);
		if (reply->code != 0)
			fprintf(stderr, "ppx reload: %s\n", reply->error);
		rc = reply->code ? PPX_EXIT_NO : PPX_EXIT_OK;
	}
	if (reply)
		ppx__v1__control_reply__free_unpacked(reply, NULL);
	ctl_close(&c);
	return rc;
}

int cmd_reload(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"config", required_argument, NULL, 'c'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *config = NULL;
	int ch;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
		if (ch == 'c') {
			config = optarg;
		} else {
			fputs(usage, ch == 'h' ? stdout : stderr);
			return ch == 'h' ? PPX_EXIT_OK : PPX_EXIT_USAGE;
		}
	}
	if (optind != argc) {
		fputs(usage, stderr);
		return PPX_EXIT_USAGE;
	}
	return reload(config);
}
