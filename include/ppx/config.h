/*
 * config.h — the agency's configuration file, and the INI reader that the
 * policy file shares.
 *
 * ppxd reads one INI file at start-up (docs/CONFIG.md is the reference):
 * who this agency is and where it listens ([agency]), its keys and trust
 * anchors ([pki]), delivery tuning ([delivery]), the partner agencies it
 * talks to ([partner NAME]) and the local Unix users allowed to act through
 * the control socket, each mapped to a named person ([operator ID]).
 *
 * ppx_config_load() checks everything it can without touching the network or
 * the keys: unknown sections and keys, missing required keys, bad values,
 * duplicates.  Every refusal names the file and the line, e.g.
 * "/etc/ppx/police.conf:14: [delivery] window = 0: must be between 1 and
 * 10000".  Relative paths are resolved against the config file's
 * directory, so that the result does not depend on the daemon's working
 * directory.  Key file modes and certificates are checked later, by the
 * modules that open them.
 */
#ifndef PPX_CONFIG_H
#define PPX_CONFIG_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define PPX_CONFIG_MAX_PARTNERS 256
#define PPX_CONFIG_MAX_OPERATORS 1024
#define PPX_CONFIG_AGENCY_MAX 128	/* bytes, with the terminating NUL */
/* The control socket DIR/control.sock must fit in sockaddr_un.sun_path
 * (108 bytes with its NUL), so the directory may have 94 characters. */
#define PPX_CONFIG_CONTROL_DIR_MAX 95
#define PPX_CONFIG_MAX_HOOKS 64
#define PPX_CONFIG_HOOK_NAME_MAX 64	/* bytes, with the NUL */
#define PPX_CONFIG_HOOK_ARGS 32	/* words of a hook's command */
#define PPX_CONFIG_HOOK_PARTNERS 32	/* globs in a hook's partners */
#define PPX_CONFIG_FAMILY_FIRST 20	/* Body.payload case of the first family */

struct ppx_partner {
	char name[PPX_CONFIG_AGENCY_MAX];	/* dotted agency name */
	char endpoint[256];		/* tcp://host:port */
	int duty_to_cooperate;		/* 0: responsible authority */
	int proofs_optional;		/* proofs = optional: a version-1
					 * peer's receipts without proof of
					 * recording deliver, marked so */
	int witness_off;		/* witness = no: neither asks it to
					 * cosign nor cosigns for it (a
					 * version-1 peer) */
	int line;			/* of its [partner NAME] header; 0 if
					 * added from the directory */
	/* With a directory in force (PROTOCOL.md 13, daemon/partners.c): */
	int from_directory;		/* 1: no [partner] section; added by
					 * the directory */
	int standing;			/* enum ppx_standing */
	char type[32];			/* the directory's agency type, or ""
					 * (a [partner] without directory) */
};

/* A partner's standing (PartnerStatus.standing). */
enum ppx_standing {
	PPX_STANDING_CONFIGURED = 0,	/* no directory in force: [partner] */
	PPX_STANDING_ACTIVE,
	PPX_STANDING_SUSPENDED,		/* cut off; its queue kept */
	PPX_STANDING_LEAVING,		/* queued delivered; nothing new */
	PPX_STANDING_REMOVED,		/* in no directory in force: cut off */
	PPX_STANDING_NOT_ALLOWED,	/* listed; [federation] partners
					 * excludes it: cut off */
};

/* Which subjects an operator may read and send about without
 * --emergency ([operator ID] need_to_know, docs/CONFIG.md). */
enum ppx_need_to_know {
	PPX_NTK_ALL = 0,	/* every subject in the log (the default) */
	PPX_NTK_AGENCY,		/* subjects whose latest partner record names
				 * this agency as lead, partner or prison */
	PPX_NTK_NAMED,		/* subjects whose latest partner record names
				 * this person as one of its officers */
};

/* When a reading command must be given a reason ([accountability]
 * reason). */
enum ppx_reason_rule {
	PPX_REASON_OPTIONAL = 0,
	PPX_REASON_REQUIRED,
	PPX_REASON_OUT_OF_HOURS,	/* outside 08:00-18:00 Monday to
					 * Friday, local time (reads_check.c) */
};

struct ppx_operator {
	char id[128];		/* stable person id, from [operator ID] */
	char user[64];		/* Unix user name, "" if given by uid */
	uid_t uid;		/* resolved at load time */
	char name[128];		/* the named person */
	char role[128];
	char grade[64];
	/* person_cert: the SHA-256 of the person certificate whose
	 * signatures this operator may submit (docs/CONFIG.md), if given. */
	uint8_t person_cert[32];
	int has_person_cert;
	/* purpose: a standing reason for this person's reads, used when
	 * ppx is given no --reason (docs/CONFIG.md [operator]) */
	char purpose[256];
	int need_to_know;	/* enum ppx_need_to_know */
	int line;		/* of its [operator ID] header */
};

/*
 * A durable hook (daemon/hooks.c).  The filters are sets: bit k of
 * entry_kinds is EntryKind k; bit k of families is the family whose
 * Body.payload case is PPX_CONFIG_FAMILY_FIRST + k (0: every entry); bit k of
 * kinds is NotificationKind k (0: every notification).
 */
struct ppx_hook_config {
	char name[PPX_CONFIG_HOOK_NAME_MAX];	/* from [hook NAME] */
	char command[PATH_MAX + 512];	/* argc words, each NUL-terminated,
					 * one after another; the first an
					 * absolute path */
	size_t argc;
	uint32_t entry_kinds;
	uint32_t families;
	uint64_t kinds;
	/* Agency names and globs. */
	char partners[PPX_CONFIG_HOOK_PARTNERS][PPX_CONFIG_AGENCY_MAX];
	size_t n_partners;
	long timeout_ms;
	long retry_initial_ms;
	long retry_max_ms;
	long stuck_failures;
	long quarantine_after;		/* failures that set an entry aside */
	int on_failure_stop;		/* on_failure = stop: never set aside */
	int stream;			/* mode = stream: one process, batches */
	long batch_max;			/* stream: entries per batch */
	long batch_bytes;		/* stream: bytes of entry JSON per batch */
	int line;			/* of its [hook NAME] header */
	int command_line;		/* of its command key */
	int partners_line;		/* of its partners key, 0 if none */
};

struct ppx_config {
	char path[PATH_MAX];		/* the file as given to ppx_config_load */

	/* [agency] */
	char agency[PPX_CONFIG_AGENCY_MAX];
	char area[64];
	char listen[256];
	char log_dir[PATH_MAX];
	char control_dir[PPX_CONFIG_CONTROL_DIR_MAX];
	char policy_path[PATH_MAX];
	long log_max_mb;		/* the log never grows beyond; 0: no cap */
	int log_check_full;		/* check the whole log before starting,
					 * not only from its check seal */

	/* [pki] — absolute paths */
	char ca[PATH_MAX];
	char crl[PATH_MAX];
	char certs[PATH_MAX];
	char signing_key[PATH_MAX];	/* a path, or a pkcs11: URI */
	char pkcs11_module[PATH_MAX];	/* "" unless signing_key is a URI */
	char pkcs11_pin_file[PATH_MAX];
	int signer_in_process;		/* signer = in-process (else: process) */
	char signing_cert[PATH_MAX];
	char transport_key[PATH_MAX];
	char transport_cert[PATH_MAX];

	/* [delivery] */
	long retry_initial_ms;
	long retry_max_ms;
	long window;
	long heartbeat_ms;
	long heartbeat_timeout_ms;
	long handshake_timeout_ms;	/* ZMQ_HANDSHAKE_IVL */
	long batch_max;
	long checkpoint_every;
	long clock_skew_ms;
	long max_frame;
	/* [delivery]: what each partner may cost (budget.c) */
	long refusal_budget;		/* refusals per window before a block */
	long refusal_window_ms;
	long block_initial_ms;		/* the first block; doubled per episode */
	long block_max_ms;
	long log_quota_bytes_hour;	/* log growth per partner per hour */
	long refusal_log_ms;		/* one refused-connection report per key
					 * per this interval */
	/* [delivery]: batch signatures (PROTOCOL.md 3.4) */
	int batch_signatures;		/* accept them, and use them towards
					 * partners that accept them */
	long batch_sign_max;		/* bodies under one batch signature */
	long batch_sign_wait_ms;	/* how long one may wait for more */

	/* [evidence] */
	int evidence_proofs;		/* proofs = yes (default): receipts
					 * carry proof of recording, and
					 * partners' receipts must */
	int witness;			/* cosign partners, ask them to cosign
					 * (PROTOCOL.md 11) */
	long witness_interval_ms;	/* at most one request per partner per
					 * interval while the log grows */

	/* [accountability] (docs/CONFIG.md): reads, reasons, break-glass */
	int reason_rule;		/* enum ppx_reason_rule */
	char emergency_reviewer[128];	/* an [operator ID]; "": no
					 * emergency access is possible */
	long emergency_review_days;	/* working days to review one in */
	long counting_log_ms;		/* one ENTRY_READ per operator and
					 * counting command (status) per
					 * interval, with the count */
	char ppx_path[PATH_MAX];	/* the ppx the daemon runs for reads;
					 * "": ppx beside ppxd */

	/* [federation] (docs/CONFIG.md, PROTOCOL.md 13): "" if this daemon
	 * takes no directory (its partners are its [partner] sections) */
	char directory_drop[PATH_MAX];	/* the file drop, watched */
	char federation[64];		/* the federation's name: directories
					 * naming another are refused */
	/* Which listed agencies this daemon deals with: agency names and
	 * globs; default "*" */
	char fed_partners[PPX_CONFIG_HOOK_PARTNERS][PPX_CONFIG_AGENCY_MAX];
	size_t n_fed_partners;
	int fed_forward;		/* pass directories and CRLs on to
					 * partners (default yes) */

	/* [events]: "" if there is no event stream */
	char events_endpoint[256];

	/* [spool]: dir "" if there is no spool */
	char spool_dir[PATH_MAX];
	char spool_operator[128];	/* an [operator ID] */
	long spool_scan_ms;

	struct ppx_partner *partners;
	size_t n_partners;
	struct ppx_operator *operators;
	size_t n_operators;
	struct ppx_hook_config *hooks;
	size_t n_hooks;
};

/*
 * Read and check the configuration file at `path`.  On success *out is a
 * new configuration (free with ppx_config_free).  On failure returns
 * PPX_EINVAL (bad content), PPX_EIO (cannot read) or PPX_ENOMEM, and
 * ppx_error_last() says "file:line: problem".
 */
int ppx_config_load(struct ppx_config **out, const char *path);

void ppx_config_free(struct ppx_config *self);

/* The partner named `agency`, or NULL. */
const struct ppx_partner *ppx_config_partner(const struct ppx_config *self,
					  const char *agency);

/*
 * Add partner `p` (copied) at the end of self->partners, for the
 * directory (daemon/partners.c): 0, PPX_ERANGE past
 * PPX_CONFIG_MAX_PARTNERS, PPX_EDUP if one of that name is there, or
 * PPX_ENOMEM.  The array may move: pointers into it taken before are
 * invalid; indexes stay.
 */
int ppx_config_add_partner(struct ppx_config *self,
			   const struct ppx_partner *p);

/* Nonzero if [federation] partners lets this daemon deal with `agency`. */
int ppx_config_fed_allows(const struct ppx_config *self, const char *agency);

/* The standing as PartnerStatus.standing says it: "configured",
 * "active", "suspended", "leaving", "removed", "not-allowed". */
const char *ppx_standing_name(int standing);

/* The operator mapped to Unix user `uid`, or NULL: not an operator. */
const struct ppx_operator *ppx_config_operator_by_uid(
	const struct ppx_config *self, uid_t uid);

/* Nonzero if `name` is a dotted agency name, e.g. "police.gwent":
 * ^[a-z][a-z0-9-]*(\.[a-z0-9-]+)+$, shorter than PPX_CONFIG_AGENCY_MAX. */
int ppx_config_agency_name_valid(const char *name);

/* The operator with person id `id`, or NULL. */
const struct ppx_operator *ppx_config_operator_by_id(
	const struct ppx_config *self, const char *id);

/* The words of h's command as an argv (argv[argc] = NULL); `argv` has
 * room for PPX_CONFIG_HOOK_ARGS + 1 pointers into h. */
void ppx_config_hook_argv(const struct ppx_hook_config *h, char **argv);

/*
 * The INI reader, shared with policy.c.
 *
 * It drives libinih line by line and adds what libinih lacks: the line
 * number of everything (whether or not libinih was built with
 * INI_HANDLER_LINENO), section names of any length, events for section
 * headers even when the section is empty, and a refusal of over-long lines
 * instead of silently splitting them.
 *
 * A callback returns 0, or a negative ppx_error code after recording the
 * problem with ppx_error_set() *without* a location; ppx_ini_parse()
 * stops there and prefixes the detail with "path:line: ".  The first
 * problem in the file wins.
 */
struct ppx_ini_entry {
	const char *section;	/* full name inside [ ], "" before any */
	const char *name;
	const char *value;	/* comments and outer whitespace removed */
	int line;
	int continued;		/* an indented line continuing `name` */
};

struct ppx_ini_handler {
	/* A "[section]" header; *line is its line, and the callback may
	 * point it elsewhere for its error.  May be NULL. */
	int (*section)(void *user, const char *section, int *line);
	/* A name = value line, or a continuation of the previous one. */
	int (*key)(void *user, const struct ppx_ini_entry *e);
	/* End of file, called only if all went well.  *line is the last
	 * line; the callback may point it elsewhere for its error.  May be
	 * NULL. */
	int (*end)(void *user, int *line);
};

/*
 * Parse the INI file at `path`, calling `h` with `user`.  Returns 0, or
 * the first error: the callback's code, PPX_EINVAL for a syntax error or
 * a line longer than libinih accepts, PPX_EIO, PPX_ENOMEM.
 */
/*
 * Make room for element n of *arr (*cap allocated, at most `max` elements
 * of `size` bytes), doubling.  0, PPX_ERANGE past `max`, or PPX_ENOMEM.
 * Shared by the configuration and policy readers.
 */
int ppx_config_grow(void **arr, size_t *cap, size_t n, size_t max, size_t size);

int ppx_ini_parse(const char *path, const struct ppx_ini_handler *h,
		     void *user);

#endif
