/*
 * sink_sqlite.c — ppx-sink-sqlite DBFILE: the embedded sink, the default.
 *
 * A durable hook command (docs/HOOKS.md, docs/SINKS.md): reads one log
 * entry as JSON on stdin and stores it in the SQLite database DBFILE,
 * creating the file (mode 0600: it holds case data) and the schema
 * (schema.sql, built in) if they are missing.  Exit 0 only after COMMIT.
 *
 * Durability: the database is in WAL mode, so a case system can read while
 * the sink writes, with synchronous=FULL, because exit 0 lets the daemon
 * move its cursor past the entry: with NORMAL, a power cut could lose a
 * committed transaction the daemon will never offer again.  A busy timeout
 * rides out a case system's write lock; past it the sink fails and the
 * daemon retries later.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sqlite3.h>

#include "sink.h"
#include "sink_schema_sqlite.h"	/* generated from schema.sql */

#define BUSY_TIMEOUT_MS 10000
#define SQL_MAX 8192
/* Statements kept prepared: a streaming sink runs the same few dozen for
 * every entry, and preparing costs as much as running. */
#define STMT_CACHE 128

static struct {
	char *sql;
	sqlite3_stmt *st;
} cache[STMT_CACHE];
static int ncache;

static const char usage[] =
	"usage: ppx-sink-sqlite [--stream] DBFILE < entry.json\n"
	"Stores one ppx log entry (JSON, as a durable hook gives it) in the\n"
	"SQLite database DBFILE, creating it and its tables if missing.\n"
	"Exit 0: stored (or stored before); 1: database failure; 2: the entry\n"
	"is not JSON or not a log entry.\n"
	"--stream (or PPX_HOOK_MODE=stream): a streaming hook, batches on\n"
	"stdin, one answer line per batch (docs/HOOKS.md).  See docs/SINKS.md.\n";

static sqlite3 *db_of(struct sink *s)
{
	return s->handle;
}

static int sq_fail(struct sink *s, const char *what)
{
	return sink_fail(s, SINK_EDB, "%s: %s", what,
			 sqlite3_errmsg(db_of(s)));
}

/* The prepared statement of `text`, reset, or NULL if none is kept. */
static sqlite3_stmt *cache_get(const char *text)
{
	for (int i = 0; i < ncache; i++)
		if (strcmp(cache[i].sql, text) == 0)
			return cache[i].st;
	return NULL;
}

/* Keep st, prepared from text, if there is room.  1 if kept. */
static int cache_put(const char *text, sqlite3_stmt *st)
{
	char *copy;

	if (ncache == STMT_CACHE || !(copy = strdup(text)))
		return 0;
	cache[ncache].sql = copy;
	cache[ncache++].st = st;
	return 1;
}

static int cached(sqlite3_stmt *st)
{
	for (int i = 0; i < ncache; i++)
		if (cache[i].st == st)
			return 1;
	return 0;
}

/* Done with st: a kept one is reset for its next use, others finalized. */
static void sq_done(sqlite3_stmt *st)
{
	if (cached(st)) {
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
	} else {
		sqlite3_finalize(st);
	}
}

static void cache_free(void)
{
	for (int i = 0; i < ncache; i++) {
		sqlite3_finalize(cache[i].st);
		free(cache[i].sql);
	}
	ncache = 0;
}

/*
 * Prepare `sql` with the values bound.  The common code writes parameters
 * as $N (PostgreSQL's form); SQLite reads $N as a *named* parameter whose
 * index is its order of first appearance, so they become ?N, which binds
 * by number.  Only the constant statement text is rewritten.
 */
static int sq_prepare(struct sink *s, const char *sql,
		      const struct sink_val *v, int n, sqlite3_stmt **out)
{
	char text[SQL_MAX];
	size_t i, len = strlen(sql);
	int k, rc = SQLITE_OK;

	if (len >= sizeof(text))
		return sink_fail(s, SINK_EDB, "internal: statement too long");
	for (i = 0; i <= len; i++)
		text[i] = sql[i] == '$' && sql[i + 1] >= '0' &&
			  sql[i + 1] <= '9' ? '?' : sql[i];
	if (!(*out = cache_get(text))) {
		if (sqlite3_prepare_v2(db_of(s), text, -1, out, NULL) !=
		    SQLITE_OK)
			return sq_fail(s, "cannot prepare a statement");
		cache_put(text, *out);
	}
	for (k = 0; k < n && rc == SQLITE_OK; k++) {
		switch (v[k].type) {
		case SINK_NULL:
			rc = sqlite3_bind_null(*out, k + 1);
			break;
		case SINK_TEXT:
			rc = sqlite3_bind_text(*out, k + 1, v[k].text, -1,
					       SQLITE_STATIC);
			break;
		case SINK_INT:
		case SINK_BOOL:
			rc = sqlite3_bind_int64(*out, k + 1, v[k].num);
			break;
		}
	}
	if (rc != SQLITE_OK) {
		sq_fail(s, "cannot bind a value");
		sq_done(*out);
		*out = NULL;
		return SINK_EDB;
	}
	return 0;
}

static int sq_exec(struct sink *s, const char *sql, const struct sink_val *v,
		   int n, int64_t *changes)
{
	sqlite3_stmt *st;
	int rc;

	if (sq_prepare(s, sql, v, n, &st))
		return SINK_EDB;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		;
	if (rc != SQLITE_DONE) {
		sq_fail(s, "cannot write");
		sq_done(st);
		return SINK_EDB;
	}
	if (changes)
		*changes = sqlite3_changes64(db_of(s));
	sq_done(st);
	return 0;
}

static int sq_query_int(struct sink *s, const char *sql,
			const struct sink_val *v, int n, int64_t *out)
{
	sqlite3_stmt *st;
	int rc, found = 0;

	if (sq_prepare(s, sql, v, n, &st))
		return SINK_EDB;
	/* Step to the end: an INSERT ... RETURNING finishes only then. */
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if (!found && sqlite3_column_type(st, 0) != SQLITE_NULL) {
			*out = sqlite3_column_int64(st, 0);
			found = 1;
		}
	if (rc != SQLITE_DONE) {
		sq_fail(s, "cannot query");
		sq_done(st);
		return SINK_EDB;
	}
	sq_done(st);
	return found ? 0 : SINK_ENOROW;
}

/* A database that an older sink made is refused, not changed. */
static int sq_schema_check(struct sink *s)
{
	int64_t have = 0;
	int rc = sq_query_int(s, "SELECT count(*) FROM sqlite_master"
			      " WHERE type = 'table' AND name = 'sink_meta'",
			      NULL, 0, &have);

	if (rc == 0 && have > 0)
		rc = sq_query_int(s, "SELECT CAST(value AS INTEGER) FROM"
				  " sink_meta WHERE key = 'schema_version'",
				  NULL, 0, &have);
	if (rc == SINK_ENOROW)
		return 0;
	if (rc)
		return rc;
	return have > 0 && have < SINK_SCHEMA_VERSION ?
		sink_schema_refuse(s, have) : 0;
}

/* BEGIN IMMEDIATE takes the write lock now (waiting up to the busy
 * timeout), so no statement of the entry can fail on lock upgrade. */
static int sq_begin(struct sink *s)
{
	int rc;

	if (sqlite3_exec(db_of(s), "BEGIN IMMEDIATE", NULL, NULL, NULL))
		return sq_fail(s, "cannot begin a transaction");
	if ((rc = sq_schema_check(s)) != 0)
		return rc;
	if (sqlite3_exec(db_of(s), sink_schema, NULL, NULL, NULL))
		return sq_fail(s, "cannot create the tables");
	return 0;
}

static int sq_commit(struct sink *s)
{
	if (sqlite3_exec(db_of(s), "COMMIT", NULL, NULL, NULL))
		return sq_fail(s, "cannot commit");
	return 0;
}

static void sq_rollback(struct sink *s)
{
	if (!sqlite3_get_autocommit(db_of(s)))
		sqlite3_exec(db_of(s), "ROLLBACK", NULL, NULL, NULL);
}

static const struct sink_db sqlite_db = {
	.name = "sqlite",
	.begin = sq_begin,
	.commit = sq_commit,
	.rollback = sq_rollback,
	.exec = sq_exec,
	.query_int = sq_query_int,
};

/* Open (or create) the database with the settings the header explains. */
static int sq_open(struct sink *s, const char *path)
{
	static const char settings[] =
		"PRAGMA foreign_keys = ON;"
		"PRAGMA synchronous = FULL;";
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int ok;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE |
			    SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
		sink_fail(s, SINK_EDB, "cannot open %s: %s", path,
			  db ? sqlite3_errmsg(db) : "out of memory");
		sqlite3_close(db);
		return SINK_EDB;
	}
	s->handle = db;
	sqlite3_extended_result_codes(db, 1);
	sqlite3_busy_timeout(db, BUSY_TIMEOUT_MS);
	/* journal_mode answers with the mode now in force. */
	ok = sqlite3_prepare_v2(db, "PRAGMA journal_mode = WAL", -1, &st,
				NULL) == SQLITE_OK &&
	     sqlite3_step(st) == SQLITE_ROW &&
	     sqlite3_column_text(st, 0) &&
	     strcmp((const char *)sqlite3_column_text(st, 0), "wal") == 0;
	sqlite3_finalize(st);
	if (!ok)
		return sink_fail(s, SINK_EDB, "cannot put %s in WAL mode: %s",
				 path, sqlite3_errmsg(db));
	if (sqlite3_exec(db, settings, NULL, NULL, NULL) != SQLITE_OK)
		return sink_fail(s, SINK_EDB, "cannot configure %s: %s", path,
				 sqlite3_errmsg(db));
	return 0;
}

int main(int argc, char **argv)
{
	struct sink s = {.db = &sqlite_db, .prog = "ppx-sink-sqlite"};
	const char *path;
	int code, stream;

	if (sink_args(argc, argv, &path, &stream) != 0) {
		fputs(usage, stderr);
		return SINK_EXIT_USAGE;
	}
	/* The database and its -wal and -shm files hold case data. */
	umask(077);
	if (sq_open(&s, path)) {
		fprintf(stderr, "%s: %s\n", s.prog, s.err);
		cache_free();
		sqlite3_close(s.handle);
		return SINK_EXIT_DB;
	}
	code = stream ? sink_stream(&s, stdin, stdout) : sink_run(&s, stdin);
	cache_free();
	if (sqlite3_close(s.handle) != SQLITE_OK && code == SINK_EXIT_OK) {
		fprintf(stderr, "%s: cannot close %s\n", s.prog, path);
		code = SINK_EXIT_DB;
	}
	return code;
}
