/*
 * cmd_follow.c — `ppx follow`: print a log's entries as they are
 * committed, like `tail -f`, until SIGINT or SIGTERM.
 *
 * The log is opened read-only once; every 200 ms the entries after the
 * last one printed are read in fresh read transactions, so new commits
 * become visible without reopening, whether or not ppxd is running (it may
 * be started, stopped or restarted meanwhile).  Each entry is shown with
 * its delivery and acknowledgement state as they stand when it is printed:
 * a message just sent is QUEUED, and its receipt follows as its own entry.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "client.h"
#include "logread.h"
#include "ppx/error.h"

#define FOLLOW_POLL_NS (200L * 1000 * 1000)

static const char usage[] =
	"usage: ppx follow [--log DIR | --config FILE] [--from SEQ] [FILTERS]"
	" [--json]\n"
	"Prints each entry of the log as it is committed (JSON Lines with\n"
	"--json), until interrupted.  Starts at the end of the log, or at\n"
	"--from SEQ (--from 0 prints the whole log first).  Works read-only,\n"
	"whether or not ppxd is running.\n" LR_WHERE_HELP LR_FILTER_HELP;

static volatile sig_atomic_t stopping;

static void on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

/* SIGINT and SIGTERM end the loop; without SA_RESTART, so that the sleep
 * is cut short. */
static void catch_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

static int print_entry(void *ctx, struct lr_entry *ent)
{
	const int *json = ctx;
	json_object *o;

	if (stopping)
		return 1;	/* stop catching up: we were asked to end */
	if (!*json) {
		lr_entry_line(stdout, ent);
		return 0;
	}
	if (!(o = lr_entry_json(ent, 0)))
		return ppx_error_set(PPX_ENOMEM, "out of memory");
	lr_json_line(stdout, o);
	json_object_put(o);
	return 0;
}

static int follow(logread *lr, const struct lr_opts *o, uint64_t next)
{
	struct timespec pause = {0, FOLLOW_POLL_NS};
	int rc;

	while (!stopping) {
		rc = logread_poll(lr, &o->filter, &next, print_entry,
				  (void *)&o->json);
		if (rc < 0)
			return lr_fail(o->cmd, rc);
		if ((rc = lr_flush(o->cmd, stdout, "standard output")) != 0)
			return ppx_exit_code(rc);
		nanosleep(&pause, NULL);
	}
	return PPX_EXIT_OK;
}

int cmd_follow(int argc, char **argv)
{
	struct lr_opts o;
	logread *lr = NULL;
	int rc = lr_opts_parse(&o, argc, argv, LR_OPT_FILTERS | LR_OPT_FROM, 0,
			       usage);

	if (rc != 0)
		return rc == 1 ? PPX_EXIT_OK : ppx_exit_code(rc);
	catch_signals();
	if ((rc = logread_open(&lr, &o)) != 0)
		return lr_fail(o.cmd, rc);
	if (!o.json)
		lr_table_header(stdout);
	rc = follow(lr, &o, o.has_from ? o.from : logread_size(lr));
	logread_close(lr);
	return rc;
}
