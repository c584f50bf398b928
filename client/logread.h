/*
 * logread.h — reading a daemon's log, read-only, for the reading commands
 * (ppx log, show, follow, subject, export).
 *
 * A log holds what happened; this module adds what it means.  It opens the
 * LMDB log read-only (so it works while ppxd is down, and can never change
 * it), walks the entries, decodes the messages in SENT and RECEIVED entries
 * (the Body inside the logged frame; signatures are not re-checked here,
 * that is `ppx verify`'s job) and works out for each message:
 *
 *   - its parties: each recipient of a message we sent, or the sender of a
 *     message we received;
 *   - delivery per party: QUEUED until that partner's signed receipt is
 *     logged (RECEIPT_RECEIVED entries list the ids they answer in
 *     related_ids; the receipt's items say STORED, DUPLICATE or REFUSED).
 *     A message we received was stored here, so it counts as DELIVERED;
 *   - acknowledgement per party: an acknowledgement is a Body whose payload
 *     is `acknowledgement` and whose replies_to is the message id.  A
 *     recipient acknowledges what we sent by sending one back; we
 *     acknowledge what we received by sending one (or by an
 *     ENTRY_ACKNOWLEDGED entry naming the message).
 *
 * replies_to is not indexed by the log store, so opening a log makes one
 * pass over it to collect the acknowledgements; delivery is looked up
 * through the message-id index.
 *
 * Filters (struct lr_filter) select entries by subject identifier, kind,
 * partner, direction, time, delivery and acknowledgement state; the same
 * options are parsed for every reading command by lr_opts_parse().
 *
 * The rendering of an entry as a table line or a JSON object lives in
 * cmd_log.c (the `ppx log` listing, which the other commands reuse) and is
 * declared at the end of this file.
 */
#ifndef PPX_CLIENT_LOGREAD_H
#define PPX_CLIENT_LOGREAD_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <json-c/json.h>

#include "ppx/delivery.h"
#include "ppx/envelope.h"
#include "ppx/logstore.h"
#include "ppx.pb-c.h"

#define LR_ID_HEX (2 * PPX_MESSAGE_ID_LEN + 1)
#define LR_MAX_KINDS 16		/* --kind items */
#define LR_MAX_ARGS 4		/* positional arguments */

enum lr_dir { LR_DIR_ANY = 0, LR_DIR_IN, LR_DIR_OUT };

/* Acknowledgement state of a message, over the parties considered. */
enum lr_ack {
	LR_ACK_NONE = 0,	/* nothing to acknowledge: not a message, an
				 * acknowledgement itself, or refused */
	LR_ACK_NOT_REQUIRED,	/* not acknowledged, and none was asked for */
	LR_ACK_PENDING,		/* asked for, missing, deadline ahead */
	LR_ACK_OVERDUE,		/* asked for, missing, deadline passed */
	LR_ACK_ACKNOWLEDGED,	/* every party acknowledged */
};

/* What --ack selects. */
enum lr_ack_filter {
	LR_ACKF_ANY = 0,
	LR_ACKF_ACKNOWLEDGED,	/* LR_ACK_ACKNOWLEDGED */
	LR_ACKF_UNACKNOWLEDGED,	/* NOT_REQUIRED, PENDING or OVERDUE */
	LR_ACKF_PENDING,	/* PENDING or OVERDUE: required and missing */
	LR_ACKF_OVERDUE,	/* OVERDUE */
};

/* One --kind item. */
enum lr_kind_what { LR_KIND_ENTRY, LR_KIND_FAMILY, LR_KIND_NOTIFICATION };
struct lr_kind {
	enum lr_kind_what what;
	int value;	/* EntryKind, Body payload case or NotificationKind */
};

struct lr_filter {
	const char *subject;	/* "pnc:2019/0123456X" or a bare identifier */
	struct lr_kind kinds[LR_MAX_KINDS];	/* any of them */
	size_t n_kinds;
	const char *partner;	/* agency name or glob (fnmatch) */
	int direction;		/* enum lr_dir */
	int64_t since_ms;	/* entry time >= since_ms; 0: open */
	int64_t until_ms;	/* entry time < until_ms; 0: open */
	int state;		/* Ppx__V1__DeliveryState; 0: any */
	int ack;		/* enum lr_ack_filter */
};

/* Which options a command takes beyond --log, --config, --json, --help. */
enum lr_opt_flags {
	LR_OPT_FILTERS = 1 << 0,	/* the struct lr_filter options */
	LR_OPT_FROM = 1 << 1,		/* --from SEQ (follow) */
	LR_OPT_EXPORT = 1 << 2,		/* --format, --output, --force */
	LR_OPT_EXACT = 1 << 3,		/* --exact (subject) */
	LR_OPT_BODY = 1 << 4,		/* --body (show) */
};

struct lr_opts {
	const char *cmd;	/* "log", "show", ... for messages */
	const char *log_dir;	/* --log */
	const char *config;	/* --config */
	int json;
	struct lr_filter filter;
	int has_from;
	uint64_t from;
	const char *format;	/* "jsonl" or "csv" */
	const char *output;	/* NULL: stdout */
	int force;
	int exact;
	int body;
	char *args[LR_MAX_ARGS];	/* positional arguments */
	size_t n_args;
};

/* Usage text shared by the reading commands. */
#define LR_WHERE_HELP \
	"The log is --log DIR, else log_dir of the daemon configuration\n" \
	"(--config FILE, else $PPX_CONFIG, else /etc/ppx/ppxd.conf).\n"
#define LR_FILTER_HELP \
	"Filters (an entry must pass every one given):\n" \
	"  --subject ID       pnc:ID, cro:ID, crn:ID, prison:ID or visor:ID, or\n" \
	"                     a bare ID matched under any of them\n" \
	"  --kind K[,K...]    a family (notification, minutes, disclosure,\n" \
	"                     partner_record, acknowledgement, action_update),\n" \
	"                     a notification kind (ARREST, RISK_CHANGE, ...)\n" \
	"                     or an entry kind (RECEIVED, REJECTED, NOTE, ...)\n" \
	"  --partner AGENCY   a recipient of what we sent, or the agency an\n" \
	"                     entry is from (a glob: 'police.*')\n" \
	"  --direction in|out received by this agency, or sent by it\n" \
	"  --since T          at or after T: an ISO 8601 UTC date or date-time\n" \
	"  --until T          up to and including T (a date: its whole day)\n" \
	"  --state S          queued, delivered or refused (a message we\n" \
	"                     received was stored here: delivered)\n" \
	"  --ack A            acknowledged, unacknowledged, pending (asked for\n" \
	"                     and missing) or overdue (pending past its deadline)\n"

/*
 * Parse the options of `ppx CMD` (argv[0] is CMD), in options.c.  `flags` says which
 * options beyond the common ones are accepted; exactly `n_args`
 * positional arguments are required.  Returns 0; 1 after printing `usage`
 * to stdout for --help; or PPX_EINVAL after saying what is wrong on
 * stderr.
 */
int lr_opts_parse(struct lr_opts *o, int argc, char **argv, unsigned flags,
		  size_t n_args, const char *usage);

/* Print "ppx CMD: <what failed and what to do>" for code rc and return
 * the exit status, through ppx_exit_code(): PPX_EXIT_USAGE for
 * PPX_EINVAL, else PPX_EXIT_UNAVAILABLE. */
int lr_fail(const char *cmd, int rc);

/* Flush `out` (called `name` in the message): 0, or PPX_EIO after
 * saying why it cannot be written. */
int lr_flush(const char *cmd, FILE *out, const char *name);

/* Check a subject identifier given on the command line: a bare
 * identifier, or scheme:identifier with a known scheme.  PPX_EINVAL. */
int lr_subject_check(const char *arg);

/* Parse an ISO 8601 UTC date or date-time ("2026-11-21",
 * "2026-11-21T09:30", "2026-11-21T09:30:00Z", "... 09:30:00.250Z").
 * *start is its first millisecond and *end the first one after it at the
 * precision given (a date covers its whole day).  PPX_EINVAL. */
int lr_time_parse(const char *s, int64_t *start, int64_t *end);

/* ---- the log ---------------------------------------------------------- */

typedef struct logread logread;

/* One side of a message: the recipient of one we sent, or the sender of
 * one we received. */
struct lr_party {
	const char *partner;	/* agency; points into the entry */
	struct ppx_delivery delivery;	/* what we sent: its state by the
					 * partner's receipts (lib/delivery.c);
					 * what we received: DELIVERED, with
					 * the receipt we sent for it */
	int acked;
	uint64_t ack_seq;	/* our log position of the acknowledgement */
	int64_t ack_ms;
};

/* One entry, decoded and interpreted. */
struct lr_entry {
	uint64_t seq;
	const char *agency;		/* whose log: logread's, or "" */
	Ppx__V1__LogEntry *e;		/* owned */
	Ppx__V1__Body *body;		/* SENT/RECEIVED that decode; owned */
	char id[LR_ID_HEX];		/* e->message_id in hex, or "" */
	int dir;			/* enum lr_dir, or LR_DIR_ANY: neither */
	struct lr_party *parties;	/* owned; none unless body */
	size_t n_parties;
	int state;	/* over all parties: QUEUED if any is, else REFUSED if
			 * any is, else DELIVERED; 0 if not a message */
	int ack;	/* enum lr_ack over all parties */
};

/*
 * Open the log of `o` read-only: o->log_dir, else the log_dir of the
 * daemon configuration (--config, $PPX_CONFIG, /etc/ppx/ppxd.conf).  Then
 * collect its acknowledgements.  PPX_ENOTFOUND when there is no log there,
 * PPX_EINVAL/PPX_EIO for an unreadable configuration, PPX_ECORRUPT; the
 * detail says what to do.
 */
int logread_open(logread **out, const struct lr_opts *o);
void logread_close(logread *self);	/* NULL ok */

/* The directory, the number of entries when it was opened, and the log
 * itself (read-only) for what this module does not wrap. */
const char *logread_dir(const logread *self);
uint64_t logread_size(const logread *self);
ppx_log *logread_log(logread *self);

/* Decode and interpret entry `seq` from its stored bytes.  PPX_ECORRUPT if
 * the entry does not decode, PPX_ENOMEM; *out is cleared on failure. */
int logread_entry(logread *self, struct lr_entry *out, uint64_t seq,
		  const uint8_t *data, size_t len);
/* Entry `seq` from the log.  PPX_ENOTFOUND if there is none (yet). */
int logread_get(logread *self, struct lr_entry *out, uint64_t seq);
void lr_entry_clear(struct lr_entry *ent);

/* Whether the entry passes the filter (1) or not (0). */
int lr_match(const logread *self, const struct lr_filter *f,
	     const struct lr_entry *ent);

/* Delivery and acknowledgement state over the parties whose partner
 * matches `partner` (NULL: all). */
void lr_summarise(const logread *self, const struct lr_entry *ent,
		  const char *partner, int *state, int *ack);

/*
 * Call fn for every entry in [from, to) that passes `f` (NULL: all), in
 * order; through the subject index when f->subject is set.  The entry is
 * valid during the call only.  Stops when fn returns non-zero and returns
 * that value; returns a negative code if the log cannot be read.
 */
typedef int (*lr_entry_fn)(void *ctx, struct lr_entry *ent);
int logread_each(logread *self, const struct lr_filter *f, uint64_t from,
		 uint64_t to, lr_entry_fn fn, void *ctx);

/*
 * The entries committed since the last call: from *next on, as far as the
 * log goes now; *next is advanced past them.  Acknowledgements among them
 * are taken into account first.  Same return as logread_each().
 */
int logread_poll(logread *self, const struct lr_filter *f, uint64_t *next,
		 lr_entry_fn fn, void *ctx);

/* The seqs of the entries about message `id` (16 bytes), ascending;
 * *seqs is malloc'd (NULL when *n is 0). */
int logread_by_message(logread *self, const uint8_t *id, uint64_t **seqs,
		       size_t *n);

/* The seqs of the entries about subject key `key` ("pnc:..."), or about a
 * bare identifier under every scheme, ascending and without repeats. */
int logread_by_subject(logread *self, const char *key, uint64_t **seqs,
		       size_t *n);

/* Sort v[0..*n) and drop repeats; whether sorted v[0..n) holds seq. */
void lr_seqs_unique(uint64_t *v, size_t *n);
int lr_seqs_has(const uint64_t *v, size_t n, uint64_t seq);

/* Whether `key` ("pnc:...") matches the subject `subject` of a filter. */
int lr_subject_matches(const char *subject, const char *key);

/* ---- which message a reference means (msgref.c) ----------------------- */

#define LR_REF_MAX 16		/* candidates listed */

/* One message a reference may mean: (sender, id). */
struct lr_ref_match {
	uint8_t id[PPX_MESSAGE_ID_LEN];
	int ours;			/* sent by this agency */
	char sender[PPX_NAME_MAX];	/* the partner that sent it, if not */
	uint64_t seq;			/* the first entry about it */
};

/* What a reference "[AGENCY/]ID-OR-PREFIX" fits in a log. */
struct lr_ref {
	char agency[PPX_NAME_MAX];	/* "" if not named */
	uint8_t id[PPX_MESSAGE_ID_LEN];	/* the digits given, as bytes */
	size_t nibbles;			/* how many hex digits */
	char us[PPX_NAME_MAX];		/* our name, from what we sent */
	struct lr_ref_match m[LR_REF_MAX];
	size_t n;
	int more;			/* more matched than listed */
};

/*
 * Every (sender, id) in the log that `text` fits: AGENCY/ID or ID, where
 * ID is 1 to 32 hex digits of the id (a prefix).  r->n is 0 when none
 * does, 1 when the reference names one message, more when it is
 * ambiguous (lr_ref_list() says which).  PPX_EINVAL for a malformed
 * reference.
 */
int lr_ref_resolve(struct lr_ref *r, logread *lr, const char *text);
/* The agency that sent candidate m (ours: our name if known). */
const char *lr_ref_sender(const struct lr_ref *r,
			  const struct lr_ref_match *m);
/* Whether log entry e is about message m (its id is m's). */
int lr_ref_owns(const struct lr_ref_match *m, const Ppx__V1__LogEntry *e);
/* One line per candidate: AGENCY/ID and what it is. */
void lr_ref_list(FILE *out, const struct lr_ref *r);

/* ---- names and small helpers ------------------------------------------ */

const char *lr_entry_kind_name(int kind);	/* "ENTRY_SENT" */
const char *lr_state_name(int state);		/* "DELIVERED", "" for 0 */
const char *lr_ack_name(int ack);		/* "PENDING", "" for NONE */
const char *lr_reason_name(int reason);		/* "REJECT_POLICY" */
const char *lr_dir_name(int dir);		/* "in", "out", "" */
/* "notification", and for notifications the kind ("ARREST"), or "". */
const char *lr_family_name(const struct lr_entry *ent);
const char *lr_notification_kind(const struct lr_entry *ent);

/* "2026-11-21T09:30:00Z" ("" for 0): ppx_time_iso(). */
void lr_format_time(char *out, size_t cap, int64_t ms);
/* In logread.c: lower-case hex of a 16-byte id, or "" if it is not 16
 * bytes. */
void lr_hex_id(char out[LR_ID_HEX], const ProtobufCBinaryData *id);
/* Parse a 32-digit hex message id. PPX_EINVAL. */
int lr_parse_id(uint8_t out[PPX_MESSAGE_ID_LEN], const char *hex);
/* A JSON string of `s`, with any byte that is not well-formed UTF-8
 * replaced by U+FFFD (text from partners is not trusted to be). */
json_object *lr_json_string(const char *s);
/* Print `s` with control characters made harmless for a terminal. */
void lr_print_clean(FILE *out, const char *s);
/* Serialise a JSON value on one line (JSON Lines) to `out`. */
void lr_json_line(FILE *out, json_object *o);
/* `o` and a newline, serialised with json-c's `jflags`, as UTF-8 text:
 * every output of JSON goes through here or lr_json_line(). */
void lr_json_write(FILE *out, json_object *o, int jflags);

/* ---- rendering (cmd_log.c) -------------------------------------------- */

enum lr_json_flags {
	LR_JSON_BODY = 1 << 0,	/* add "body": the Body in canonical JSON */
};

/* The entry as a JSON object (a new reference), or NULL without memory. */
json_object *lr_entry_json(const struct lr_entry *ent, unsigned flags);
/* The entry as one table line; and the header of that table. */
void lr_entry_line(FILE *out, const struct lr_entry *ent);
void lr_table_header(FILE *out);
/* A one-line description: "notification ARREST by Dana Evans". */
void lr_describe(char *out, size_t cap, const struct lr_entry *ent);

#endif
