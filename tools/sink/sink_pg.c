/*
 * sink_pg.c — ppx-sink-pg CONNINFO: the PostgreSQL sink.
 *
 * A durable hook command (docs/HOOKS.md, docs/SINKS.md): reads one log
 * entry as JSON on stdin and stores it in the PostgreSQL database CONNINFO
 * names (a libpq connection string, e.g. "service=ppx" or "host=db1
 * dbname=cases user=ppx_sink"; keep passwords in ~/.pgpass, not on the
 * command line, where ps shows them).  Exit 0 only after COMMIT.
 *
 * Each entry is one transaction that first takes a transaction-scoped
 * advisory lock, so two sinks writing to one database (two hooks, or a
 * re-run beside the daemon's) never race on subject matching or on
 * creating the schema; the schema (schema-pg.sql, built in) is created
 * inside the first transaction that finds it missing.  Values are sent as
 * parameters with PQexecParams, never spliced into statement text.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "sink.h"
#include "sink_schema_pg.h"	/* generated from schema-pg.sql */

/* pg_advisory_xact_lock key of the sinks: "ppxsink" as ASCII. */
#define SINK_LOCK_KEY "31648860026269291"
/* PostgreSQL type oids for typed parameters (pg_type.h). */
#define INT8OID 20
#define BOOLOID 16
/* Statements kept prepared on the server (named s0, s1, ...): a streaming
 * sink runs the same few dozen for every entry, and parsing and planning
 * each again costs as much as running it.  Keyed by text and parameter
 * types. */
#define STMT_CACHE 128

static struct {
	char *sql;
	int n;
	Oid types[SINK_MAX_COLS];
} cache[STMT_CACHE];
static int ncache;

static const char usage[] =
	"usage: ppx-sink-pg [--stream] CONNINFO < entry.json\n"
	"Stores one ppx log entry (JSON, as a durable hook gives it) in the\n"
	"PostgreSQL database CONNINFO names (a libpq connection string),\n"
	"creating its tables if missing.\n"
	"Exit 0: stored (or stored before); 1: database failure; 2: the entry\n"
	"is not JSON or not a log entry.\n"
	"--stream (or PPX_HOOK_MODE=stream): a streaming hook, batches on\n"
	"stdin, one answer line per batch (docs/HOOKS.md).  See docs/SINKS.md.\n";

static PGconn *conn_of(struct sink *s)
{
	return s->handle;
}

/* Record libpq's message (one line) for what failed. */
static int pg_fail(struct sink *s, const char *what, const PGresult *res)
{
	const char *m = res ? PQresultErrorMessage(res) : "";
	size_t len;

	if (!*m)
		m = PQerrorMessage(conn_of(s));
	len = strcspn(m, "\n");
	return sink_fail(s, SINK_EDB, "%s: %.*s", what, (int)len, m);
}

/* The index of the kept statement for sql and types, or -1. */
static int cache_find(const char *sql, int n, const Oid *types)
{
	for (int i = 0; i < ncache; i++)
		if (cache[i].n == n && strcmp(cache[i].sql, sql) == 0 &&
		    memcmp(cache[i].types, types, (size_t)n * sizeof(Oid)) == 0)
			return i;
	return -1;
}

/* Prepare sql on the server and keep it; its index, or -1 (then it runs
 * unprepared). */
static int cache_add(struct sink *s, const char *sql, int n,
		     const Oid *types)
{
	char name[16];
	PGresult *res;
	int ok;

	if (ncache == STMT_CACHE)
		return -1;
	snprintf(name, sizeof(name), "s%d", ncache);
	res = PQprepare(conn_of(s), name, sql, n, types);
	ok = PQresultStatus(res) == PGRES_COMMAND_OK;
	PQclear(res);
	if (!ok || !(cache[ncache].sql = strdup(sql)))
		return -1;
	cache[ncache].n = n;
	memcpy(cache[ncache].types, types, (size_t)n * sizeof(Oid));
	return ncache++;
}

static void cache_free(void)
{
	for (int i = 0; i < ncache; i++)
		free(cache[i].sql);
	ncache = 0;
}

/*
 * Run `sql` with the values as parameters.  Integers and booleans are sent
 * typed (int8, bool) so that `SELECT $1, ...` in INSERT ... SELECT has a
 * type; text is sent untyped and takes the type of its column (json,
 * timestamptz).  The caller PQclear()s *out.
 */
static int pg_run(struct sink *s, const char *sql, const struct sink_val *v,
		  int n, PGresult **out)
{
	const char *values[SINK_MAX_COLS];
	Oid types[SINK_MAX_COLS];
	char nums[SINK_MAX_COLS][24];
	ExecStatusType st;
	int k;

	if (n > SINK_MAX_COLS)
		return sink_fail(s, SINK_EDB, "internal: too many parameters");
	for (k = 0; k < n; k++) {
		types[k] = 0;
		values[k] = NULL;
		if (v[k].type == SINK_TEXT) {
			values[k] = v[k].text;
		} else if (v[k].type == SINK_INT) {
			snprintf(nums[k], sizeof(nums[k]), "%" PRId64,
				 v[k].num);
			values[k] = nums[k];
			types[k] = INT8OID;
		} else if (v[k].type == SINK_BOOL) {
			values[k] = v[k].num ? "true" : "false";
			types[k] = BOOLOID;
		}
	}
	if ((k = cache_find(sql, n, types)) < 0 &&
	    PQtransactionStatus(conn_of(s)) != PQTRANS_INERROR)
		k = cache_add(s, sql, n, types);
	if (k >= 0) {
		char name[16];

		snprintf(name, sizeof(name), "s%d", k);
		*out = PQexecPrepared(conn_of(s), name, n, values, NULL, NULL,
				      0);
	} else {
		*out = PQexecParams(conn_of(s), sql, n, types, values, NULL,
				    NULL, 0);
	}
	st = PQresultStatus(*out);
	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
		return 0;
	pg_fail(s, "cannot write", *out);
	PQclear(*out);
	*out = NULL;
	return SINK_EDB;
}

static int pg_exec(struct sink *s, const char *sql, const struct sink_val *v,
		   int n, int64_t *changes)
{
	PGresult *res;

	if (pg_run(s, sql, v, n, &res))
		return SINK_EDB;
	if (changes)
		*changes = strtoll(PQcmdTuples(res), NULL, 10);
	PQclear(res);
	return 0;
}

static int pg_query_int(struct sink *s, const char *sql,
			const struct sink_val *v, int n, int64_t *out)
{
	PGresult *res;
	const char *t;
	char *end;
	int rc = SINK_ENOROW;

	if (pg_run(s, sql, v, n, &res))
		return SINK_EDB;
	if (PQntuples(res) > 0 && PQnfields(res) > 0 &&
	    !PQgetisnull(res, 0, 0)) {
		t = PQgetvalue(res, 0, 0);
		errno = 0;
		*out = strtoll(t, &end, 10);
		rc = errno || end == t || *end
			     ? sink_fail(s, SINK_EDB, "not an integer: %s", t)
			     : 0;
	}
	PQclear(res);
	return rc;
}

/* A statement without parameters or result, e.g. BEGIN. */
static int pg_simple(struct sink *s, const char *sql, const char *what)
{
	PGresult *res = PQexec(conn_of(s), sql);
	ExecStatusType st = PQresultStatus(res);
	int rc = 0;

	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
		rc = pg_fail(s, what, res);
	PQclear(res);
	return rc;
}

/* Create the tables if this database does not have this schema yet. */
static int pg_schema(struct sink *s)
{
	int64_t have = 0;
	int rc;

	rc = pg_query_int(s, "SELECT count(*) FROM pg_catalog.pg_tables"
			     " WHERE schemaname = current_schema()"
			     " AND tablename = 'sink_meta'", NULL, 0, &have);
	if (rc == 0 && have > 0)
		rc = pg_query_int(s, "SELECT value::bigint FROM sink_meta"
				     " WHERE key = 'schema_version'",
				  NULL, 0, &have);
	if (rc && rc != SINK_ENOROW)
		return rc;
	if (rc == 0 && have >= SINK_SCHEMA_VERSION)
		return 0;
	if (rc == 0 && have > 0)
		return sink_schema_refuse(s, have);
	return pg_simple(s, sink_schema, "cannot create the tables");
}

static int pg_begin(struct sink *s)
{
	if (pg_simple(s, "BEGIN", "cannot begin a transaction") ||
	    pg_simple(s, "SELECT pg_advisory_xact_lock(" SINK_LOCK_KEY ")",
		      "cannot take the sink lock"))
		return SINK_EDB;
	return pg_schema(s);
}

static int pg_commit(struct sink *s)
{
	return pg_simple(s, "COMMIT", "cannot commit");
}

static void pg_rollback(struct sink *s)
{
	PQclear(PQexec(conn_of(s), "ROLLBACK"));
}

/* The session is lost when the server restarts, fails over or kills an
 * idle connection; a streaming sink keeps one session for its whole life,
 * so it opens a new one.  The prepared statements went with the old
 * session: the cache is emptied. */
static int pg_reconnect(struct sink *s)
{
	PGconn *conn = conn_of(s);

	if (PQstatus(conn) != CONNECTION_BAD)
		return 0;
	cache_free();
	PQreset(conn);
	if (PQstatus(conn) != CONNECTION_OK) {
		pg_fail(s, "cannot connect to PostgreSQL again", NULL);
		return -1;
	}
	if (PQsetClientEncoding(conn, "UTF8") != 0) {
		pg_fail(s, "cannot use UTF8 with this server", NULL);
		return -1;
	}
	fprintf(stderr, "%s: the connection to PostgreSQL was lost; "
		"connected again\n", s->prog);
	return 1;
}

static const struct sink_db pg_db = {
	.name = "postgresql",
	.begin = pg_begin,
	.commit = pg_commit,
	.rollback = pg_rollback,
	.exec = pg_exec,
	.query_int = pg_query_int,
	.reconnect = pg_reconnect,
};

/* The schema's NOTICEs ("relation already exists, skipping") are noise. */
static void quiet(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

int main(int argc, char **argv)
{
	struct sink s = {.db = &pg_db, .prog = "ppx-sink-pg"};
	PGconn *conn;
	const char *conninfo;
	int code, stream;

	if (sink_args(argc, argv, &conninfo, &stream) != 0) {
		fputs(usage, stderr);
		return SINK_EXIT_USAGE;
	}
	conn = PQconnectdb(conninfo);
	s.handle = conn;
	/* The connection string may hold a password: never print it. */
	if (!conn || PQstatus(conn) != CONNECTION_OK) {
		fprintf(stderr, "%s: cannot connect to PostgreSQL: %s", s.prog,
			conn ? PQerrorMessage(conn) : "out of memory\n");
		PQfinish(conn);
		return SINK_EXIT_DB;
	}
	PQsetNoticeProcessor(conn, quiet, NULL);
	if (PQsetClientEncoding(conn, "UTF8") != 0) {
		fprintf(stderr, "%s: cannot use UTF8 with this server: %s",
			s.prog, PQerrorMessage(conn));
		PQfinish(conn);
		return SINK_EXIT_DB;
	}
	code = stream ? sink_stream(&s, stdin, stdout) : sink_run(&s, stdin);
	cache_free();
	PQfinish(conn);
	return code;
}
