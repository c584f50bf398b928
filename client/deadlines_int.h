/*
 * deadlines_int.h — what the two halves of deadlines.c share: the facts
 * one pass over the log collects (deadlines.c) and that are then joined
 * into obligations (deadlines_join.c), and the memory they live in.
 * Private to those files.
 */
#ifndef PPX_CLIENT_DEADLINES_INT_H
#define PPX_CLIENT_DEADLINES_INT_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "deadlines.h"
#include "ppx/envelope.h"

#define ID_LEN PPX_MESSAGE_ID_LEN
#define CHUNK_MIN 65536

#define ARRAY(type, name) type *name; size_t n_##name, cap_##name

struct chunk {
	struct chunk *next;
	size_t used, cap;
	max_align_t data[];
};

/* The raw facts of one pass, before they are joined. */
struct notif {
	uint8_t id[ID_LEN];
	const char *sender, *kind, *subject;
	const char **keys;
	size_t n_keys;
	const char **to;
	size_t n_to;
	int64_t logged_ms, deadline_ms;	/* logged_ms, here and below: the
					 * time of its SENT or RECEIVED
					 * entry in this log */
	int64_t sent_ms;	/* our SENT entry's time; -1 if received */
};

struct action_v {
	const char *id, *what, *agency, *person;
	ppx_day due;
	int status;
};

struct minutes_v {
	uint8_t id[ID_LEN];
	const char *meeting_id, *sender, *sender_person, *chair, *chair_agency;
	const char *subject;
	const char **keys;
	size_t n_keys;
	int64_t logged_ms;
	uint32_t version;
	ppx_day date;
	int level, considered, cancelled;
	struct action_v *actions;
	size_t n_actions;
};

struct update {
	uint8_t replies_to[ID_LEN];
	const char *sender;	/* the updating agency */
	const char **to;	/* its recipients */
	size_t n_to;
	const char *meeting_id, *action_id;
	int64_t logged_ms;
	int status;
};

struct ack {
	uint8_t id[ID_LEN];	/* the message acknowledged */
	const char **to;	/* its recipients: the message's sender is one */
	size_t n_to;
	const char *agency, *person;	/* agency NULL: this log's own */
	int64_t logged_ms;
};

struct receipt {
	uint8_t id[ID_LEN];
	const char *peer;
	int64_t time_ms;
};

struct decision {
	const char *meeting_id;
	int considered;
};

/* An emergency read or send of this agency (ENTRY_READ or ENTRY_SENT with
 * access.emergency), and a review of one (ENTRY_REVIEW). */
struct emergency {
	uint64_t seq;
	const char *what;	/* "read" or "send" */
	const char *person, *reason, *reviewer;
	const char **keys;
	size_t n_keys;
	int64_t logged_ms, due_ms;
};

struct review_done {
	uint64_t related_seq;
	int64_t logged_ms;
};

struct deadlines_mem {
	struct chunk *chunks;
	size_t pool_bytes;
	int rc;			/* the first failure, sticky */
	int64_t cutoff_ms;	/* first millisecond after the as-of day */
	const char *agency;	/* the log's own agency, once known */
	ARRAY(struct notif, notifs);
	ARRAY(struct minutes_v, mins);
	ARRAY(struct update, updates);
	ARRAY(struct ack, acks);
	ARRAY(struct receipt, receipts);
	ARRAY(struct decision, decisions);
	ARRAY(struct emergency, emergencies);
	ARRAY(struct review_done, reviews);
	size_t cap_ob, cap_meetings, cap_records;
};

/* Record the first failure (later ones are consequences). */
void dl_fail(struct deadlines_mem *m, int rc);

/* n zeroed bytes from the pool, or NULL (the failure recorded). */
void *dl_pool_alloc(struct deadlines_mem *m, size_t n);

/* A pool copy of `s`, "" for NULL or on failure (recorded); bytes that
 * are not well-formed UTF-8 become '?'. */
const char *dl_str(struct deadlines_mem *m, const char *s);

/* Room for one more element of an array that grows up to
 * DEADLINES_MAX_ITEMS: a zeroed pointer to it, or NULL (recorded). */
void *dl_push(struct deadlines_mem *m, void **arr, size_t *n, size_t *cap,
	      size_t size);
#define PUSH(m, arr, n, cap) \
	dl_push(m, (void **)&(arr), &(n), &(cap), sizeof(*(arr)))

/* The identifier keys ("pnc:..", "crn:..") of all of `ids`, without
 * repeats, in the pool. */
void dl_subject_keys(struct deadlines_mem *m, const char ***out, size_t *n,
		     const Ppx__V1__SubjectIds *const *ids, size_t n_ids);

/* Free the pool and `m` itself (not its arrays); NULL ok. */
void dl_mem_free(struct deadlines_mem *m);

/* Join the facts into dl's obligations and meetings (deadlines_join.c). */
int dl_join(struct deadlines_mem *m, struct deadlines *dl,
	    const struct deadlines_config *cfg, const ppx_calendar *cal);

/* An emergency access, or a review of one, from entry e at seq
 * (deadlines_emergency.c); other entries are ignored. */
void dl_scan_emergency(struct deadlines_mem *m, uint64_t seq,
		       const Ppx__V1__LogEntry *e);
/* Their obligations, one per emergency access, into dl. */
void dl_join_emergency(struct deadlines_mem *m, struct deadlines *dl);

/* qsort(), which may not be given a NULL array even when n is 0. */
static inline void sort_n(void *base, size_t n, size_t size,
			  int (*cmp)(const void *, const void *))
{
	if (n > 1)
		qsort(base, n, size, cmp);
}

#endif
