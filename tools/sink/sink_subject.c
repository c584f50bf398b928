/*
 * sink_subject.c — the subjects of the sinks' tables: every message is
 * filed under the people it is about, matched by any identifier.
 *
 * A message names its subject by whichever identifiers its sender's
 * systems hold (PNC ID, CRO number, CRN, prison number, ViSOR id).  The
 * identifiers are one table keyed by (scheme, value), so a message naming
 * any known identifier finds its subject, and adds the ones that were not
 * known.  When the identifiers of one message belong to two subjects, the
 * agencies knew one person under two sets of identifiers: the subjects are
 * merged into the lower id, and subject_merges records where the other
 * went, for case systems that stored it.  All within the entry's
 * transaction, which the PostgreSQL sink serialises with an advisory lock.
 */
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

/* Move everything of subject `gone` onto `keep`, and record where it went. */
static int subject_merge(struct entry *e, int64_t keep, int64_t gone)
{
	static const char *const steps[] = {
		"UPDATE subjects SET"
		" name = COALESCE(name, (SELECT name FROM subjects"
		"  WHERE subject_id = $2)),"
		" date_of_birth = COALESCE(date_of_birth, (SELECT date_of_birth"
		"  FROM subjects WHERE subject_id = $2))"
		" WHERE subject_id = $1",
		"UPDATE subject_identifiers SET subject_id = $1"
		" WHERE subject_id = $2",
		"INSERT INTO subject_aliases (subject_id, alias)"
		" SELECT $1, alias FROM subject_aliases WHERE subject_id = $2"
		" ON CONFLICT DO NOTHING",
		"DELETE FROM subject_aliases WHERE subject_id = $2",
		"INSERT INTO message_subjects (message_id, subject_id)"
		" SELECT message_id, $1 FROM message_subjects"
		" WHERE subject_id = $2 ON CONFLICT DO NOTHING",
		"DELETE FROM message_subjects WHERE subject_id = $2",
		"UPDATE subject_merges SET into_id = $1 WHERE into_id = $2",
	};
	struct sink_val v[3] = {INT(keep), INT(gone), TEXT(e->id)};
	size_t i;

	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
		row_exec(e, steps[i], v, 2);
	row_exec(e, "INSERT INTO subject_merges (merged_id, into_id, message_id)"
	       " VALUES ($2, $1, $3) ON CONFLICT DO NOTHING", v, 3);
	return row_exec(e, "DELETE FROM subjects WHERE subject_id = $2", v, 2);
}

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
	struct sink_val v[4] = {INT(id), TEXT(entry_text(e, ids, "name")),
				TEXT(entry_text(e, ids, "dateOfBirth")),
				TEXT(e->id)};
	size_t i;

	row_exec(e, "UPDATE subjects SET name = COALESCE($2, name),"
	       " date_of_birth = COALESCE($3, date_of_birth),"
	       " last_message = $4 WHERE subject_id = $1", v, 4);
	for (i = 0; i < NSCHEMES; i++) {
		struct sink_val w[4] = {TEXT(id_schemes[i].scheme),
					TEXT(val[i]), INT(id), TEXT(e->id)};

		if (val[i])
			row_exec(e, "INSERT INTO subject_identifiers"
			       " (scheme, value, subject_id, first_message)"
			       " VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
			    w, 4);
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

/*
 * File the message under the subject a ppx.v1.SubjectIds names, matching
 * on any identifier: a new subject if none is known, and if the identifiers
 * belong to several subjects, those are one person and are merged into the
 * lowest.  A SubjectIds with no identifier (a name alone) matches nothing:
 * names are not unique, so the name stays on the message only.
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
	if (nfound == 0) {
		struct sink_val v[1] = {TEXT(e->id)};
		int rc = e->s->db->query_int(e->s,
			"INSERT INTO subjects (first_message, last_message)"
			" VALUES ($1, $1) RETURNING subject_id", v, 1, &id);

		if (rc)
			return e->rc = rc == SINK_ENOROW ? SINK_EDB : rc;
	} else {
		id = found[0];
		for (i = 1; i < nfound; i++)
			subject_merge(e, id, found[i]);
	}
	subject_update(e, id, ids, val);
	{
		struct sink_val v[2] = {TEXT(e->id), INT(id)};

		return row_exec(e, "INSERT INTO message_subjects"
			      " (message_id, subject_id) VALUES ($1, $2)"
			      " ON CONFLICT DO NOTHING", v, 2);
	}
}

