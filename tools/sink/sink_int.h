/*
 * sink_int.h — inside the sinks: the entry being stored, the rows it
 * becomes, and the helpers the three parts share:
 *
 *   sink_common.c   reading the entry's JSON, building and inserting rows,
 *                   the message row, the one transaction
 *   sink_subject.c  subjects, matched and merged by any identifier
 *   sink_family.c   the rows of each message family
 *
 * Errors are sticky: the first failure is kept in entry.rc (with its
 * message in the sink's error buffer) and every helper does nothing once
 * it is set, so a mapper reads and adds a whole row and checks once, when
 * row_insert() refuses to run.
 */
#ifndef PPX_SINK_INT_H
#define PPX_SINK_INT_H

#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "sink.h"

/* Longest message id accepted, in bytes (ids are 16; room to spare). */
#define ID_MAX 64
#define ID_HEX (2 * ID_MAX + 1)
/* Strings allocated for one entry (comma-joined lists). */
#define OWNED_MAX 8

/* One entry being stored. */
struct entry {
	struct sink *s;
	json_object *root, *body;
	const char *kind;		/* ENTRY_SENT, ENTRY_RECEIVED, ... */
	const char *family;		/* notification, minutes, ... */
	const char *where;		/* JSON path of the object being mapped */
	const char *sender;		/* the sender agency: with id, the key */
	char id[ID_HEX];		/* message id, lower-case hex */
	char supersedes[ID_HEX], replies_to[ID_HEX];
	int64_t created_ms;
	char *owned[OWNED_MAX];
	int nowned;
	int rc;				/* 0 or the first failure */
};

/* A row to insert: constant column names, bound values. */
struct row {
	const char *table;
	int n;
	const char *col[SINK_MAX_COLS];
	struct sink_val val[SINK_MAX_COLS];
};

#define TEXT(t) ((struct sink_val){.type = (t) ? SINK_TEXT : SINK_NULL, .text = (t)})
#define INT(i) ((struct sink_val){.type = SINK_INT, .num = (i)})

/* Record the first malformation of the entry (SINK_EENTRY), prefixed
 * with e->where; later ones are dropped. */
void entry_bad(struct entry *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * Reading the entry's JSON.  A member that is absent or null is the
 * proto3 default: NULL, 0, false, or no object/array.  A member of the
 * wrong JSON type is entry_bad(), and the default is returned.
 */
json_object *entry_member(json_object *o, const char *key);
/* A string, or an enum given by number; NULL if absent or "". */
const char *entry_text(struct entry *e, json_object *o, const char *key);
/* A 64-bit integer: a decimal string (canonical JSON) or a number. */
int64_t entry_int(struct entry *e, json_object *o, const char *key);
int entry_bool(struct entry *e, json_object *o, const char *key);
json_object *entry_obj(struct entry *e, json_object *o, const char *key);
json_object *entry_arr(struct entry *e, json_object *o, const char *key);
/* Elements of an optional array, and the i-th, which must be an object
 * (`key` names the array in messages). */
size_t entry_len(json_object *a);
json_object *entry_elem(struct entry *e, json_object *a, size_t i,
			const char *key);
/* An array of strings joined with commas (owned by e); NULL if empty. */
const char *entry_joined(struct entry *e, json_object *o, const char *key);

/* Building a row: column names must be constants of the schema. */
void row_init(struct row *r, const char *table);
void col_text(struct entry *e, struct row *r, const char *col,
	      const char *text);
void col_int(struct entry *e, struct row *r, const char *col, int64_t n);
/* The message's key: sender_agency and message_id. */
void col_message(struct entry *e, struct row *r);
void col_bool(struct entry *e, struct row *r, const char *col, int b);
/* Column `col` from the string member `key` of `o`. */
void col_str(struct entry *e, struct row *r, const char *col, json_object *o,
	     const char *key);
/* The id (if id_col), name and agency of the ppx.v1.Person `key` of `o`. */
void col_person(struct entry *e, struct row *r, json_object *o,
		const char *key, const char *id_col, const char *name_col,
		const char *agency_col);

/*
 * INSERT the row, ON CONFLICT DO NOTHING; *changes (may be NULL): 1 if it
 * was added, 0 if it was there.  Returns e->rc.
 */
int row_insert(struct entry *e, struct row *r, int64_t *changes);
/* Run a constant statement with the values given.  Returns e->rc. */
int row_exec(struct entry *e, const char *sql, const struct sink_val *v,
	     int n);

/* sink_subject.c: file the message under the subject a ppx.v1.SubjectIds
 * names (NULL: nothing to do).  Returns e->rc. */
int subject_link(struct entry *e, json_object *ids);

/* sink_family.c: the family of a body ("notification", ...; NULL if it
 * has no payload), and storing the rows of its family and its subjects. */
const char *family_of(json_object *body);
void family_store(struct entry *e);

#endif
