/*
 * sink_subject.c — the subjects of the sinks' tables: every message is
 * filed under the people it is about, matched by any identifier.
 *
 * A message names its subject by whichever identifiers its sender's
 * systems hold (PNC ID, CRO number, CRN, prison number, ViSOR id).  The
 * identifiers are one table keyed by (scheme, value), so a message naming
 * any known identifier finds its subject, and adds the ones that were not
 * known.  When the identifiers of one message belong to two subjects
 * already known as different people, the sink does not merge them: one
 * partner's message (mistaken, or hostile) must not make two offenders'
 * records one.  The message is filed under both and a subject_conflicts
 * row names them for a person to resolve (docs/SINKS.md).  All within the
 * entry's transaction, which the PostgreSQL sink serialises with an
 * advisory lock.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "sink_int.h"

/* SubjectIds members and the schemes of subject keys (docs/CONFIG.md). */
static const struct {
	const char *member, *scheme;
} id_schemes[] = {
	{"pncId", "pnc"},
	{"croNumber", "cro"},
	{"crn", "crn"},
	{"prisonNumber", "prison"},
	{"visorId", "visor"},
};
#define NSCHEMES (sizeof(id_schemes) / sizeof(id_schemes[0]))

/*
 * The subjects already holding any of the identifiers in `val`, into
 * found[] (distinct, the lowest first).
 */
static size_t subject_find(struct entry *e, const char *const val[NSCHEMES],
			   int64_t found[NSCHEMES])
{
	size_t i, j, n = 0;

	for (i = 0; i < NSCHEMES && !e->rc; i++) {
		struct sink_val v[2] = {TEXT(id_schemes[i].scheme),
					TEXT(val[i])};
		int64_t id;
		int rc;

		if (!val[i])
			continue;
		rc = e->s->db->query_int(e->s,
			"SELECT subject_id FROM subject_identifiers"
			" WHERE scheme = $1 AND value = $2", v, 2, &id);
		if (rc == SINK_ENOROW)
			continue;
		if (rc) {
			e->rc = rc;
			break;
		}
		for (j = 0; j < n && found[j] != id; j++)
			;
		if (j == n)
			found[n++] = id;
	}
	for (i = 1; i < n; i++)	/* insertion sort: n <= 5 */
		for (j = i; j > 0 && found[j - 1] > found[j]; j--) {
			int64_t t = found[j];

			found[j] = found[j - 1];
			found[j - 1] = t;
		}
	return n;
}

/* Add the identifiers, name, date of birth and aliases to subject `id`. */
static void subject_update(struct entry *e, int64_t id, json_object *ids,
			   const char *const val[NSCHEMES])
{
	json_object *aliases = entry_arr(e, ids, "aliases");
	struct sink_val v[5] = {INT(id), TEXT(entry_text(e, ids, "name")),
				TEXT(entry_text(e, ids, "dateOfBirth")),
				TEXT(e->sender), TEXT(e->id)};
	size_t i;

	row_exec(e, "UPDATE subjects SET name = COALESCE($2, name),"
	       " date_of_birth = COALESCE($3, date_of_birth),"
	       " last_sender = $4, last_message = $5 WHERE subject_id = $1",
	       v, 5);
	for (i = 0; i < NSCHEMES; i++) {
		struct sink_val w[5] = {TEXT(id_schemes[i].scheme),
					TEXT(val[i]), INT(id), TEXT(e->sender),
					TEXT(e->id)};

		if (val[i])
			row_exec(e, "INSERT INTO subject_identifiers"
			       " (scheme, value, subject_id, first_sender,"
			       " first_message) VALUES ($1, $2, $3, $4, $5)"
			       " ON CONFLICT DO NOTHING", w, 5);
	}
	for (i = 0; i < entry_len(aliases); i++) {
		json_object *a = json_object_array_get_idx(aliases, i);
		struct sink_val w[2] = {INT(id), TEXT(NULL)};

		if (!a || !json_object_is_type(a, json_type_string)) {
			entry_bad(e, "aliases[%zu]: expected a string", i);
			return;
		}
		w[1] = TEXT(json_object_get_string(a));
		row_exec(e, "INSERT INTO subject_aliases (subject_id, alias)"
		       " VALUES ($1, $2) ON CONFLICT DO NOTHING", w, 2);
	}
}

/* File the message under subject `id`. */
static int subject_file(struct entry *e, int64_t id)
{
	struct sink_val v[3] = {TEXT(e->sender), TEXT(e->id), INT(id)};

	return row_exec(e, "INSERT INTO message_subjects"
		      " (sender_agency, message_id, subject_id)"
		      " VALUES ($1, $2, $3) ON CONFLICT DO NOTHING", v, 3);
}

/* "pnc:2019/0123456X,crn:X123456": the identifiers as the message gave
 * them, malloc'd into e->owned; NULL (and e->rc) if out of memory. */
static const char *ids_text(struct entry *e, const char *const val[NSCHEMES])
{
	size_t i, len = 1, at = 0;
	char *out;

	for (i = 0; i < NSCHEMES; i++)
		if (val[i])
			len += strlen(id_schemes[i].scheme) + strlen(val[i]) + 2;
	if (e->nowned == OWNED_MAX || !(out = malloc(len))) {
		entry_bad(e, "identifiers: out of memory");
		return NULL;
	}
	e->owned[e->nowned++] = out;
	out[0] = '\0';
	for (i = 0; i < NSCHEMES; i++)
		if (val[i])
			at += (size_t)snprintf(out + at, len - at, "%s%s:%s",
					       at ? "," : "",
					       id_schemes[i].scheme, val[i]);
	return out;
}

/*
 * The identifiers of one message belong to subjects already known as
 * different people: a partner's word is not enough to make them one
 * (issue 10, hole 7).  The message is filed under each, nothing is added
 * to either (which of them the new identifiers belong to is the open
 * question), and one subject_conflicts row per pair waits for a person.
 */
static int subject_conflict(struct entry *e, const int64_t *found, size_t n,
			    const char *const val[NSCHEMES])
{
	const char *ids = ids_text(e, val);
	size_t i, j;

	for (i = 0; i < n; i++)
		subject_file(e, found[i]);
	for (i = 0; i < n; i++)
		for (j = i + 1; j < n; j++) {
			struct sink_val v[6] = {TEXT(e->sender), TEXT(e->id),
						INT(found[i]), INT(found[j]),
						TEXT(ids), INT(e->created_ms)};

			row_exec(e, "INSERT INTO subject_conflicts"
			       " (sender_agency, message_id, subject_id,"
			       " other_subject_id, identifiers, logged_ms)"
			       " VALUES ($1, $2, $3, $4, $5, $6)"
			       " ON CONFLICT DO NOTHING", v, 6);
		}
	return e->rc;
}

/*
 * File the message under the subject a ppx.v1.SubjectIds names, matching
 * on any identifier: a new subject if none is known, the one known subject
 * (with the identifiers it did not have added), or, if the identifiers
 * belong to several subjects, a conflict (above), never a merge.  A
 * SubjectIds with no identifier (a name alone) matches nothing: names are
 * not unique, so the name stays on the message only.
 */
int subject_link(struct entry *e, json_object *ids)
{
	const char *val[NSCHEMES];
	int64_t found[NSCHEMES], id;
	size_t i, n = 0, nfound;

	if (!ids || e->rc)
		return e->rc;
	for (i = 0; i < NSCHEMES; i++)
		if ((val[i] = entry_text(e, ids, id_schemes[i].member)))
			n++;
	if (n == 0 || e->rc)
		return e->rc;
	nfound = subject_find(e, val, found);
	if (e->rc)
		return e->rc;
	if (nfound > 1)
		return subject_conflict(e, found, nfound, val);
	if (nfound == 0) {
		struct sink_val v[2] = {TEXT(e->sender), TEXT(e->id)};
		int rc = e->s->db->query_int(e->s,
			"INSERT INTO subjects (first_sender, first_message,"
			" last_sender, last_message) VALUES ($1, $2, $1, $2)"
			" RETURNING subject_id", v, 2, &id);

		if (rc)
			return e->rc = rc == SINK_ENOROW ? SINK_EDB : rc;
	} else {
		id = found[0];
	}
	subject_update(e, id, ids, val);
	return subject_file(e, id);
}
