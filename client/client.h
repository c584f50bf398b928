/*
 * client.h — what the subcommands of ppx share.
 *
 * Two kinds of code, kept apart: the helpers declared here (ctl_*) return
 * 0 or a negative PPX_E* code (ppx/error.h), as libppx does; the cmd_*
 * functions return the process's exit status (enum ppx_exit), and turn a
 * PPX_E* code into one only through ppx_exit_code() (exit.c).
 */
#ifndef PPX_CLIENT_H
#define PPX_CLIENT_H

#include "ppx/checkpoint.h"
#include "ppx/config.h"
#include "ppx.pb-c.h"

enum ppx_exit {
	PPX_EXIT_OK = 0,
	PPX_EXIT_NO = 1,	/* the check ran and the answer is no */
	PPX_EXIT_USAGE = 2,
	PPX_EXIT_UNAVAILABLE = 3,
};

/*
 * The exit status for a PPX_E* code: PPX_EXIT_OK for 0, PPX_EXIT_USAGE
 * for PPX_EINVAL, PPX_EXIT_NO for a refusal (PPX_ETOOBIG to PPX_EBADPERSON),
 * PPX_EXIT_UNAVAILABLE for any other failure.
 */
int ppx_exit_code(int ppx_error);

int cmd_verify(int argc, char **argv);
int cmd_prove(int argc, char **argv);
int cmd_log(int argc, char **argv);
int cmd_show(int argc, char **argv);
int cmd_follow(int argc, char **argv);
int cmd_subject(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_send(int argc, char **argv);
int cmd_ack(int argc, char **argv);
int cmd_action(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_metrics(int argc, char **argv);
int cmd_hook(int argc, char **argv);
int cmd_review(int argc, char **argv);
int cmd_audit(int argc, char **argv);
int cmd_due(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_checkpoint(int argc, char **argv);
int cmd_reload(int argc, char **argv);
int cmd_directory(int argc, char **argv);
int cmd_backup(int argc, char **argv);
int cmd_restore(int argc, char **argv);

/*
 * Run reading command `run` (argv[0] its name) as docs/ppx-reading.md
 * says: --reason and --emergency taken out; in the daemon's child (a
 * grant in the environment) as it is; with --log DIR after leaving a
 * record of the read in DIR/reads/; otherwise through ppxd's read.sock.
 * The process's exit status (readvia.c).
 */
int read_via(int argc, char **argv, int (*run)(int argc, char **argv));

/* The control socket of a running ppxd (ctl.c). */
struct ctl {
	struct ppx_config *cfg;
	void *zctx;
	void *sock;
};

/* Connect to the daemon of configuration `config_path`: 0, or after
 * printing the problem PPX_EINVAL (the configuration does not load) or
 * PPX_EIO (cannot connect). */
int ctl_open(struct ctl *c, const char *config_path, int timeout_ms);
void ctl_close(struct ctl *c);
/* 0, or PPX_ENOMEM or PPX_EIO with the detail set. */
int ctl_send(struct ctl *c, Ppx__V1__ControlRequest *req);
/* 0, or PPX_EIO after the timeout; free with
 * ppx__v1__control_reply__free_unpacked(). */
int ctl_recv(struct ctl *c, Ppx__V1__ControlReply **out);

/* One request and its reply, for a command `cmd` ("hook", "review"):
 * 0 with *out (free with ppx__v1__control_reply__free_unpacked()), or
 * after printing the problem the exit status (the daemon is not there,
 * does not answer). */
int ctl_call(const char *config_path, Ppx__V1__ControlRequest *req,
	     Ppx__V1__ControlReply **out, const char *cmd);

/* A log position given on the command line: decimal digits only.  0, or
 * -1. */
/* The daemon's StatusReply, for `cmd` ("status", "directory"): 0 with
 * *out, the whole reply (free with
 * ppx__v1__control_reply__free_unpacked(); its status is set), or after
 * printing the problem the exit status: even a refusal is "no status",
 * PPX_EXIT_UNAVAILABLE. */
int ctl_status(const char *config_path, Ppx__V1__ControlReply **out,
	       const char *cmd);

int ctl_parse_seq(const char *s, uint64_t *out);

/* The configuration file: --config, else $PPX_CONFIG, else
 * /etc/ppx/ppxd.conf. */
const char *config_path_default(const char *given);

/* Options every log-reading command takes. */
struct log_opts {
	const char *log_dir;
	const char *ca;
	const char *crl;
	const char *certs;
	int json;
	unsigned jobs;		/* --jobs; 0: not given */
	char ca_buf[4096], crl_buf[4096], certs_buf[4096];	/* for --pki */
};

#define PPX_VERIFY_JOBS_MAX 256

/*
 * Parse --log DIR --ca FILE --crl FILE --certs DIR --json, or --pki DIR
 * --agency NAME which fills them from a ppx-pki layout.  Returns 0, or
 * PPX_EINVAL after printing what is wrong; 1 for --help.
 */
int log_opts_parse(struct log_opts *o, int argc, char **argv,
		   const char *usage);

/* What a backup copy holds, read after it verified (cmd_backup.c; ppx
 * restore reads the copy it is given the same way). */
struct backup_info {
	ppx_verify_report report;	/* the verdict; the rest only if ok */
	uint64_t entries, bytes;
	ppx_hash root;			/* of all the entries */
	int64_t last_ms;		/* the newest entry's time */
	Ppx__V1__Checkpoint *newest;	/* the newest ENTRY_CHECKPOINT's */
	uint64_t newest_seq;
	Ppx__V1__Checkpoint *cosigned;	/* the newest ENTRY_COSIGNED's */
	uint64_t cosigned_seq;
	char cosigner[256];
	uint8_t sha256[32];
};

/* The copy in `file` checked (ppx_log_check_dir()) and, if it verifies,
 * read.  0 with the verdict in out->report, or a negative code. */
int backup_info_read(struct backup_info *out, const char *file,
		     const ppx_trust *trust);
void backup_info_print(const struct backup_info *b, const char *file);
void backup_info_clear(struct backup_info *b);
/* Entry `seq` of the copy in `file` (an ENTRY_CHECKPOINT or ENTRY_COSIGNED)
 * holds a checkpoint signed by a certificate of `agency` that names it:
 * 0, or the code with the detail set. */
int backup_check_agency(const char *file, uint64_t seq,
			const ppx_trust *trust, const char *agency);

#endif
