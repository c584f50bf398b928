/*
 * records.h — the domain checks that need the log: partner record
 * versions (is an update based on the latest version? does it change only
 * what its sender owns, compared with the version it names?) and what a
 * message refers to (the minutes it amends, the message it acknowledges,
 * the minutes whose action it updates).
 *
 * Every SENT and RECEIVED entry of a partner record carries the subject
 * key "record:<record_id>", so that ppx_log_by_subject() finds every
 * version of a record; versions are logged in increasing order, so the
 * latest is the last.  The functions take a ppx_log rather than the
 * daemon, so that ppx (which opens the log read-only) builds updates on
 * the same view of the record as the daemon checks them on.
 */
#ifndef PPX_RECORDS_H
#define PPX_RECORDS_H

#include <stddef.h>
#include <stdint.h>

#include "ppx/logstore.h"
#include "ppx.pb-c.h"
#include "ppx/subject.h"

#define PPX_RECORDS_KEY_PREFIX "record:"
#define PPX_RECORDS_TIPS_MAX 8	/* versions of one number a log may hold */
#define PPX_RECORDS_AGENCY_MAX 128

/* One logged version of a partner record. */
struct ppx_record_version {
	uint8_t id[16];			/* its message id */
	uint64_t version;
	uint64_t seq;			/* our log position */
	char agency[PPX_RECORDS_AGENCY_MAX];/* who sent it */
	int64_t created_ms;
};

/* The latest version number a log holds of a record, and each version of
 * that number (normally one). */
struct ppx_record_latest {
	uint64_t version;		/* 0: the log holds no version */
	size_t n;
	struct ppx_record_version tips[PPX_RECORDS_TIPS_MAX];
};

/* The versions of record `record_id` this log holds, latest first. */
int ppx_records_latest(struct ppx_record_latest *out, ppx_log *log,
		   const char *record_id);

/* Which entries a lookup may return. */
enum {
	PPX_RECORDS_SENT = 1u << 0,
	PPX_RECORDS_RECEIVED = 1u << 1,
	PPX_RECORDS_CONFLICT = 1u << 2,	/* REJECTED as REJECT_CONFLICT: the
					 * signature held; kept for merges */
};

/* A message as the log holds it. */
struct ppx_logged_message {
	Ppx__V1__Body *body;		/* decoded from the logged frame */
	int kind;			/* Ppx__V1__EntryKind */
	uint64_t seq;
	char peer[PPX_RECORDS_AGENCY_MAX];	/* partner; "" for SENT */
	char sender[PPX_RECORDS_AGENCY_MAX];/* who sent it: us for SENT */
};

#define PPX_RECORDS_SENDERS_MAX 32	/* agencies' messages under one id */
#define PPX_RECORDS_IDS_MAX 4096	/* entries about one id looked at */

/*
 * A message is (sender agency, message id): ids are chosen by each sender
 * and unique only among its own messages, so another agency may send one
 * with the same id, by chance or to squat it.  Every lookup therefore says
 * whose message it wants.
 *
 * ppx_records_find_all() gives each sender's message with id `id` among the
 * entries of `kinds` (RECORDS_* bits): its first such entry, in log
 * order, at most `max` of them; *n says how many (none is not an error).
 * ppx_records_find() gives the message with id `id` that `from` sent, NULL
 * meaning us (a SENT entry).  PPX_ENOTFOUND when there is none.  Free
 * each with ppx_records_logged_free().
 */
int ppx_records_find_all(struct ppx_logged_message *out, size_t max, size_t *n,
		     ppx_log *log, const uint8_t *id, unsigned kinds);
int ppx_records_find(struct ppx_logged_message *out, ppx_log *log, const char *from,
		 const uint8_t *id, unsigned kinds);
void ppx_records_logged_free(struct ppx_logged_message *m);

/* The version of record `record_id` whose message id is `id`, whoever
 * sent it (a base or a merged version may be any agency's): messages
 * under that id that are not versions of the record do not count; a
 * stored version goes before one refused as a conflict.  PPX_ENOTFOUND;
 * PPX_EBODY, naming `field`, when two agencies' versions share the id. */
int ppx_records_find_version(struct ppx_logged_message *out, ppx_log *log,
			 const uint8_t *id, const char *record_id,
			 const char *field);

/* Version `version` of record `record_id` as this log holds it (SENT or
 * RECEIVED; the last such entry).  PPX_ENOTFOUND. */
int ppx_records_version(struct ppx_logged_message *out, ppx_log *log,
		    const char *record_id, uint64_t version);

/*
 * The subject keys to log a message under: ppx_subject_keys() of its
 * subject, and "record:<record_id>" for a partner record.  Free with
 * ppx_subject_keys_free().
 */
int ppx_records_subject_keys(char ***out, size_t *n, const Ppx__V1__Body *b);

/*
 * The checks of `b` from `sender` that need the log.  `outbound`: we are
 * about to sign it (strict: what it names must be in our log); else a
 * partner sent it (what we do not hold cannot be checked and is let by).
 * A message already logged (a retry) passes.
 *
 * 0, PPX_ECONFLICT (an update not based on the latest version: "partner
 * record R: based on version 3 but version 4 (from probation.gwent,
 * 2026-11-21T10:00:00Z) is the latest: merge and resend"), PPX_EPOLICY
 * (a change to a field the sender does not own) or PPX_EBODY (what it
 * refers to is not there or does not fit).
 */
int ppx_records_check(ppx_log *log, const Ppx__V1__Body *b, const char *sender,
		  int outbound);

#endif
