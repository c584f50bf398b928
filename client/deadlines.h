/*
 * deadlines.h — what the log says is owed, and by when: the obligations
 * behind `ppx due` and `ppx report` (docs/ppx-deadlines.md).
 *
 * One read-only pass over a daemon's log decodes every message it sent or
 * received and every signed receipt it logged, and turns them into
 * obligations, each with a kind, a subject, an owner (agency and person),
 * a due date and the date it was met, if it was:
 *
 *   minutes   of a MAPPA meeting, owed by the agency that issued them,
 *             within 10 (level 2) or 5 (level 3) working days of the
 *             meeting; met when the first issue was logged;
 *   action    from the latest version of the minutes, owed by its named
 *             owner by its due date; met when the minutes or an action
 *             update last made it COMPLETED (CANCELLED actions owe
 *             nothing);
 *   ack       a notification with an acknowledgement deadline, owed by
 *             each recipient agency; met by that agency's acknowledgement
 *             (a Body whose replies_to is the notification);
 *   review    the next meeting about the same subject, owed by the chair
 *             within 16 (level 2) or 8 (level 3) weeks of the meeting; met
 *             by the minutes of a later meeting about any of the same
 *             subject identifiers;
 *   emergency-review
 *             an emergency (break-glass) read or send of this agency,
 *             owed by the configured reviewer the entry names by its
 *             access.review_due_ms; met by an ENTRY_REVIEW naming it
 *             (deadlines_emergency.c).
 *
 * Beside the obligations it keeps what the board report needs: each
 * meeting (was disclosure considered?) and every partner record version.
 *
 * Every time is that of the entry in this log, never what a body says of
 * itself (created_ms, which its sender chose): a minutes' issue is dated
 * by its SENT entry at the agency that issued them and by its RECEIVED
 * entry at every other; so are acknowledgements and action updates.
 *
 * The view is "as of" a date: messages and receipts logged after that day
 * are left out, so a report can be re-run for a past date.  Dates
 * are UTC days; the rules (days, weeks, bank holidays) come from a
 * deadlines file read with the daemon's INI reader.
 */
#ifndef PPX_CLIENT_DEADLINES_H
#define PPX_CLIENT_DEADLINES_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ppx/logstore.h"
#include "ppx/workdays.h"

#define DEADLINES_MAX_ITEMS (4u << 20)	/* of each kind, from one log */
#define DEADLINES_MAX_TEXT (1024u << 20)	/* bytes of copied text */
#define DEADLINES_NONE INT32_MIN	/* a ppx_day that is not set */
#define DEADLINES_GROUPS 6		/* RiskGroup values, 0 unused */

/* The rules (docs/ppx-deadlines.md): --deadlines FILE or $PPX_DEADLINES. */
struct deadlines_config {
	char path[PATH_MAX];		/* the file read; "" for the defaults */
	long minutes_level2_days;	/* working days */
	long minutes_level3_days;
	long review_level2_weeks;
	long review_level3_weeks;
	long due_soon_days;		/* working days */
	char bank_holidays[PATH_MAX];	/* calendar file; "" for none */
};

/*
 * Fill *out with the defaults, then the keys of the file at `path` (NULL:
 * $PPX_DEADLINES if set, else the defaults alone).  A relative
 * bank_holidays path is resolved against the file's directory.  0, or
 * PPX_EINVAL / PPX_EIO with "file:line: problem" in ppx_error_last().
 */
int deadlines_config_load(struct deadlines_config *out, const char *path);

enum obligation_kind {
	OBLIGATION_MINUTES = 1,
	OBLIGATION_ACTION,
	OBLIGATION_ACK,
	OBLIGATION_REVIEW,
	OBLIGATION_EMERGENCY,	/* the review of an emergency access */
};

struct obligation {
	enum obligation_kind kind;
	const char *ref;	/* meeting id, "meeting/action", message id */
	const char *subject;	/* "John Smith (pnc:2019/0123456X)" */
	const char *const *keys;	/* the subject's "pnc:..", "crn:.." */
	size_t n_keys;
	const char *what;	/* a sentence: what is owed */
	const char *agency;	/* owner agency */
	const char *person;	/* owner's name; "" when nobody is named */
	ppx_day start;		/* meeting date, or notification date */
	ppx_day due;
	int64_t due_ms;		/* ack, emergency: the exact deadline;
				 * else 0 */
	int done;		/* met, as of the view's date */
	ppx_day done_day;	/* when (DEADLINES_NONE if not done) */
	int64_t done_ms;	/* minutes, ack: the exact time; else 0 */
	int64_t to_receipt_ms;	/* ack: send to signed receipt; -1 unknown */
	int64_t to_ack_ms;	/* ack: creation to acknowledgement; -1 */
	int level;		/* minutes, review: MAPPA level 2 or 3 */
};

/* A meeting: the first issue of its minutes, as amended since. */
struct meeting {
	const char *meeting_id;
	const char *agency;	/* who issued the minutes */
	ppx_day date;
	int level;
	int considered;		/* disclosure considered (minutes or a
				 * decision about this meeting) */
	int cancelled;
};

/* One version of a partner record, as the agency that sent it holds it. */
struct record_copy {
	const char *agency;
	const char *record_id;
	const char *subject;	/* label, as for obligations */
	const char *const *keys;	/* "pnc:..", "crn:..": record and body */
	size_t n_keys;
	uint64_t version;
	int64_t logged_ms;	/* its SENT or RECEIVED entry in this log */
	int level;		/* MappaLevel, 0 unset */
	int rosh[DEADLINES_GROUPS];	/* RiskLevel by RiskGroup, 0 unset */
};

struct deadlines {
	const char *agency;	/* whose log this is, "" if unknown */
	ppx_day as_of;
	struct obligation *ob;
	size_t n_ob;
	struct meeting *meetings;
	size_t n_meetings;
	struct record_copy *records;
	size_t n_records;
	size_t undecodable;	/* entries or messages that did not decode */
	struct deadlines_mem *mem;	/* private */
};

/*
 * Read the log and work out the obligations as of `as_of`, under `cfg`
 * and calendar `cal` (NULL: no bank holidays).  `agency` names the log's
 * agency when known (NULL: taken from what it sent).  Free with
 * deadlines_free().  PPX_ETOOBIG beyond DEADLINES_MAX_*, PPX_ENOMEM, or
 * the log's error.
 */
int deadlines_collect(struct deadlines **out, ppx_log *log,
		      const struct deadlines_config *cfg,
		      const ppx_calendar *cal, ppx_day as_of,
		      const char *agency);
void deadlines_free(struct deadlines *self);	/* NULL ok */

/* "minutes", "action", "acknowledge", "review", "emergency-review". */
const char *obligation_kind_name(enum obligation_kind kind);

/* ---- what ppx due and ppx report share ------------------------------- */

enum deadlines_format { FORMAT_TEXT = 0, FORMAT_JSON, FORMAT_CSV, FORMAT_HTML };

/* The options both commands take. */
struct deadlines_opts {
	const char *log_dir;	/* --log */
	const char *config;	/* --config (its log_dir and agency) */
	const char *deadlines;	/* --deadlines */
	const char *as_of;	/* --as-of DATE; NULL: today (UTC) */
	int format;
};

/* Long options of deadlines_opts, with the values deadlines_opt() takes. */
#define DEADLINES_LONGOPTS                                   \
	{"log", required_argument, NULL, 'l'},               \
	{"config", required_argument, NULL, 'c'},            \
	{"deadlines", required_argument, NULL, 'd'},         \
	{"as-of", required_argument, NULL, 'a'},             \
	{"json", no_argument, NULL, 'j'},                    \
	{"csv", no_argument, NULL, 'v'}

/* Take option `ch` with `arg` into `o`: 1 if it was one of ours, 0 if not,
 * or PPX_EINVAL after saying what is wrong. */
int deadlines_opt(struct deadlines_opts *o, int ch, const char *arg,
		  const char *cmd);

/* Everything a command needs, opened from its options. */
struct deadlines_run {
	struct deadlines_config cfg;
	ppx_calendar *cal;
	ppx_log *log;
	struct deadlines *dl;
	ppx_day as_of;
	char agency[128];	/* from --config, else what the log sent */
};

/* Load the rules and calendar, open the log read-only and collect.  0, or
 * after printing the problem ("ppx CMD: ..."): PPX_EINVAL (options,
 * configuration, rules or calendar) or PPX_EIO (the log cannot be read). */
int deadlines_run_open(struct deadlines_run *r,
		       const struct deadlines_opts *o, const char *cmd);
void deadlines_run_close(struct deadlines_run *r);

/* Output helpers: a CSV field, quoted when it must be and made inert for
 * spreadsheets (a leading = + - @ is prefixed with '); text for a
 * terminal, with control characters shown as '?'.  Times are written
 * with ppx_time_iso() (ppx/timefmt.h). */
void deadlines_csv_field(FILE *out, const char *s);
void deadlines_print_clean(FILE *out, const char *s, int width);

#endif
