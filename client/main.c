/*
 * main.c — the ppx command-line client: a table of subcommands.
 *
 * Each subcommand lives in its own cmd_*.c file and is called with the
 * arguments after its name.  Exit codes (docs/ppx.1):
 *   0  success            1  the answer is "no" (e.g. a log does not verify)
 *   2  usage error        3  cannot read or reach what was asked for
 * A command that fails on a PPX_E* code gets its status from
 * ppx_exit_code() (exit.c), where that mapping is written once.
 * The reading commands go through read_via() (readvia.c): the daemon
 * logs each read, or a direct read of the files leaves a record.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "client.h"

static const struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
} commands[] = {
	{"verify", cmd_verify, "check a log's hash chain, Merkle tree and "
			       "signatures, read-only"},
	{"prove", cmd_prove, "an evidence bundle of a message or an entry, "
	 "for ppx verify --bundle"},
	{"log", cmd_log, "list a log's entries, with filters, read-only"},
	{"show", cmd_show, "one message in full: body, delivery, acks"},
	{"follow", cmd_follow, "print a log's entries as they are committed"},
	{"subject", cmd_subject, "one subject's history across every partner"},
	{"audit", cmd_audit, "every entry about one person: who did what, "
	 "when and why"},
	{"export", cmd_export, "a log's entries as JSON Lines or CSV"},
	{"send", cmd_send, "submit messages (JSON, or composed from flags)"},
	{"ack", cmd_ack, "a named person takes on a received message"},
	{"action", cmd_action, "progress on a MAPPA action, to the minutes' "
			       "sender"},
	{"status", cmd_status, "partners, links, outboxes and refusals"},
	{"metrics", cmd_metrics, "the daemon's figures for Prometheus, "
				 "printed, written or served"},
	{"reload", cmd_reload, "re-read the configuration, policy, "
			       "certificates and CRL, logged"},
	{"review", cmd_review, "the reviewer's finding on an emergency "
			       "access"},
	{"hook", cmd_hook, "retry or drop an entry a hook set aside"},
	{"due", cmd_due, "what is overdue or due soon, by owner, read-only"},
	{"report", cmd_report, "the board's figures for a period, read-only"},
	{"directory", cmd_directory, "the federation directory in force, and "
				     "make or judge one"},
	{"backup", cmd_backup, "a verified, compacted copy of the running "
			       "daemon's log"},
	{"restore", cmd_restore, "put a backup in place of the log, checked, "
				 "the daemon stopped"},
	{"checkpoint", cmd_checkpoint, "our newest cosigned checkpoint, in "
				       "C2SP form with --c2sp"},
};

/* The commands that read the log's content or figures: they go through
 * the daemon, or leave a record of a direct read (readvia.c). */
static int is_read(const char *name)
{
	static const char *const reads[] = {"log", "show", "follow",
					    "subject", "export", "prove",
					    "audit", "due", "report"};

	for (size_t i = 0; i < sizeof(reads) / sizeof(reads[0]); i++)
		if (strcmp(name, reads[i]) == 0)
			return 1;
	return 0;
}

static void usage(FILE *out)
{
	fprintf(out, "usage: ppx COMMAND [OPTIONS]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-8s %s\n", commands[i].name,
			commands[i].summary);
	fprintf(out, "\nppx COMMAND --help says more about each.\n");
}

/*
 * The readers map the log file: LMDB trusts its pages, and a file damaged
 * on disk can make a read land outside the map (SIGSEGV) or past the end
 * of the file (SIGBUS).  Say so rather than die silently of the signal;
 * ppx verify checks in a child process and names the damage.
 */
static void on_fault(int sig)
{
	static const char msg[] =
		"ppx: crashed reading (a fault in a mapped file): if a log was "
		"being read, it may be damaged; ppx verify --log DIR checks "
		"it\n";

	ssize_t n = write(STDERR_FILENO, msg, sizeof(msg) - 1);

	(void)n;	/* nothing more can be done about a failed write here */
	_exit(128 + sig);
}

static void catch_faults(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_fault;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGBUS, &sa, NULL);
	sigaction(SIGSEGV, &sa, NULL);
}

int main(int argc, char **argv)
{
	catch_faults();
	if (argc < 2) {
		usage(stderr);
		return PPX_EXIT_USAGE;
	}
	if (strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0) {
		usage(stdout);
		return PPX_EXIT_OK;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return is_read(argv[1])
				       ? read_via(argc - 1, argv + 1,
						  commands[i].run)
				       : commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "ppx: unknown command '%s'; see ppx help\n", argv[1]);
	return PPX_EXIT_USAGE;
}
