/*
 * changes.h — the files in force, logged when they change.
 *
 * At start (after the log check) and on every reload, each file the daemon
 * has in force — the configuration, the policy, the agency's signing and
 * transport certificates, the partners' certificates ([pki] certs), the CA
 * and the CRL — is read (change_state.c) and compared with what its latest
 * change entry recorded.  A file that changed gets one entry:
 * ENTRY_CONFIG_CHANGE, ENTRY_POLICY_CHANGE or ENTRY_KEY_CHANGE, data a
 * packed ChangeRecord (docs/PROTOCOL.md), person the operator whose `ppx
 * reload` caused it ("" otherwise).  An unchanged file logs nothing.
 *
 * The latest entry of each file is found without scanning the log: a mark
 * in the set "changes" (ppx_log_mark_put) points at it, moved in the same
 * batch as the entry is appended.
 */
#ifndef PPXD_CHANGES_H
#define PPXD_CHANGES_H

#include <stddef.h>
#include <stdint.h>

struct ppxd;
struct changes;

/* What one start or reload logged, for the reply of `ppx reload`. */
struct changes_report {
	uint32_t entries;	/* change entries appended */
	char **changes;		/* "policy /etc/ppx/policy.conf: [rule r]
				 * added" */
	size_t n_changes;
	char **restart;		/* "configuration PATH: [delivery] window:
				 * 64 -> 128": in force at restart */
	size_t n_restart;
	int code;		/* 0, or the refusal */
	char error[1024];	/* "reload refused: file:line: ..." */
};

void changes_report_clear(struct changes_report *r);

/* The files' latest entries, from the marks of `d->log`. */
int changes_new(struct changes **out, struct ppxd *d);
void changes_free(struct changes **self);

/*
 * Read the file `path` as a `what` and log it if it changed since its
 * latest entry (cause "start" or "reload", `person` the operator or "").
 * The lines of the changes whose keys take a restart (the configuration
 * but for [operator] and [accountability]; certificates and the CA) say
 * so, and go into r->restart too.  0 (logged or unchanged), or the error
 * reading the file or appending.
 */
int changes_note(struct ppxd *d, const char *what, const char *path,
		 const char *cause, const char *person,
		 struct changes_report *r);

/*
 * Log that a new version of `path` was refused and the one before stays
 * in force: detail "reload refused: ERROR"; the file's mark does not
 * move.  Sets r->code and r->error.
 */
int changes_refused(struct ppxd *d, const char *what, const char *path,
		    const char *person, int code, const char *error,
		    struct changes_report *r);

/* changes_note() for the certificates and the CA; a certificate file
 * gone from [pki] certs since its latest entry is logged "removed". */
int changes_keys(struct ppxd *d, const char *cause, const char *person,
		 struct changes_report *r);

/* Every file, at start. */
int changes_start(struct ppxd *d);

#endif
