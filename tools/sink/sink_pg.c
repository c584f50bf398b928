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
 *
 * A streaming sink (--stream) sends its statements in libpq's pipeline
 * mode: the INSERTs whose answer it does not need go out without waiting
 * for each answer, and the first statement whose answer it needs (a
 * subject look-up, a new message's check, COMMIT) collects every answer
 * sent before it.  The batch is still one transaction: if any statement
 * fails, the server skips the rest, COMMIT fails, and the batch is rolled
 * back and answered `fail` with the failed statement's error.
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
	char *sql;		/* NULL: a prepare that failed, never matched */
	int n;
	Oid types[SINK_MAX_COLS];
} cache[STMT_CACHE];
static int ncache;

/* Statements a pipeline may hold before the sink reads their answers:
 * bounds prep[] below, and how far an error may lie behind the statement
 * that reports it. */
#define PIPE_MAX 512

/* The pipeline of a streaming sink, between BEGIN and COMMIT/ROLLBACK. */
static struct {
	int on;			/* in pipeline mode */
	int n;			/* statements sent whose answer is not read */
	int prep[PIPE_MAX];	/* per statement: the cache entry it
				 * prepares, or -1 */
} pipeline;

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

static int pg_new_session(struct sink *s);

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
		if (cache[i].sql && cache[i].n == n &&
		    strcmp(cache[i].sql, sql) == 0 &&
		    memcmp(cache[i].types, types, (size_t)n * sizeof(Oid)) == 0)
			return i;
	return -1;
}

/* Prepare sql on the server and keep it; its index, or -1 (then it runs
 * unprepared).  In a pipeline the prepare is sent, and its answer read
 * with the others (pipe_collect: a failed one is forgotten). */
static int cache_add(struct sink *s, const char *sql, int n,
		     const Oid *types)
{
	char name[16];
	PGresult *res;
	int ok, k;

	/* a slot whose prepare failed names nothing on the server */
	for (k = 0; k < ncache && cache[k].sql; k++)
		;
	if (k == STMT_CACHE || !(cache[k].sql = strdup(sql)))
		return -1;
	snprintf(name, sizeof(name), "s%d", k);
	if (pipeline.on) {
		ok = PQsendPrepare(conn_of(s), name, sql, n, types);
		if (ok)
			pipeline.prep[pipeline.n++] = k;
	} else {
		res = PQprepare(conn_of(s), name, sql, n, types);
		ok = PQresultStatus(res) == PGRES_COMMAND_OK;
		PQclear(res);
	}
	if (!ok) {
		free(cache[k].sql);
		cache[k].sql = NULL;
		return -1;
	}
	cache[k].n = n;
	memcpy(cache[k].types, types, (size_t)n * sizeof(Oid));
	if (k == ncache)
		ncache++;
	return k;
}

static void cache_free(void)
{
	for (int i = 0; i < ncache; i++)
		free(cache[i].sql);
	ncache = 0;
}

/*
 * Read the answers the pipeline owes, in order: 0 if every statement
 * succeeded, else SINK_EDB with the first failure in s->err (the server
 * skipped the statements after it).  flush: ask the server to send what
 * it holds (not needed after a sync point).  *last (may be NULL): the
 * last statement's answer if all succeeded, which the caller PQclear()s.
 */
static int pipe_collect(struct sink *s, PGresult **last, int flush)
{
	PGconn *conn = conn_of(s);
	int i, n = pipeline.n, rc = 0;

	pipeline.n = 0;
	if (last)
		*last = NULL;
	if (n == 0)
		return 0;
	if (flush && (!PQsendFlushRequest(conn) || PQflush(conn) != 0))
		return pg_fail(s, "cannot write", NULL);
	for (i = 0; i < n; i++) {
		PGresult *res = PQgetResult(conn);
		ExecStatusType st = PQresultStatus(res);
		int ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;

		if (!res)	/* the connection is gone */
			return rc ? rc : pg_fail(s, "cannot write", NULL);
		if (!ok && pipeline.prep[i] >= 0) {	/* never use it */
			free(cache[pipeline.prep[i]].sql);
			cache[pipeline.prep[i]].sql = NULL;
		}
		if (!ok && rc == 0)
			rc = pg_fail(s, "cannot write", res);
		if (last && ok && rc == 0 && i == n - 1)
			*last = res;
		else
			PQclear(res);
		/* the NULL that ends this statement's answer */
		PQclear(PQgetResult(conn));
	}
	return rc;
}

/*
 * End the pipeline: COMMIT first if `commit`, then a sync point; every
 * answer is read and pipeline mode left, whatever failed.  0, or the first
 * failure.
 */
static int pipe_end(struct sink *s, int commit)
{
	PGconn *conn = conn_of(s);
	PGresult *res;
	int rc = 0;

	if (commit) {
		if (PQsendQueryParams(conn, "COMMIT", 0, NULL, NULL, NULL,
				      NULL, 0))
			pipeline.prep[pipeline.n++] = -1;
		else
			rc = pg_fail(s, "cannot commit", NULL);
	}
	if (!PQpipelineSync(conn)) {
		rc = rc ? rc : pg_fail(s, "cannot commit", NULL);
	} else {
		int k = pipe_collect(s, NULL, 0);

		rc = rc ? rc : k;
		res = PQgetResult(conn);
		if (PQresultStatus(res) != PGRES_PIPELINE_SYNC && rc == 0)
			rc = pg_fail(s, "cannot commit", res);
		PQclear(res);
	}
	pipeline.on = 0;
	pipeline.n = 0;
	/* Answers left unread (a connection broken mid-batch, libpq out of
	 * memory) keep libpq in pipeline mode, where every later BEGIN
	 * would fail: a new session instead.  If none can be had, the
	 * connection is bad, and the next failure reconnects. */
	if (!PQexitPipelineMode(conn))
		pg_new_session(s);
	return rc;
}

/*
 * The values as libpq's text parameters, and their types.  Integers and
 * booleans are sent typed (int8, bool) so that `SELECT $1, ...` in INSERT
 * ... SELECT has a type; text is sent untyped (0) and takes the type of its
 * column (json, timestamptz).
 */
static void pg_bind(const struct sink_val *v, int n, const char **values,
		    Oid *types, char nums[][24])
{
	for (int k = 0; k < n; k++) {
		types[k] = 0;
		values[k] = NULL;
		if (v[k].type == SINK_TEXT) {
			values[k] = v[k].text;
		} else if (v[k].type == SINK_INT) {
			snprintf(nums[k], 24, "%" PRId64, v[k].num);
			values[k] = nums[k];
			types[k] = INT8OID;
		} else if (v[k].type == SINK_BOOL) {
			values[k] = v[k].num ? "true" : "false";
			types[k] = BOOLOID;
		}
	}
}

/*
 * Run `sql` with the values as parameters, prepared once per session.
 * The caller PQclear()s *out.  out NULL: the answer is not needed, and in
 * a pipeline the statement is only sent.
 */
static int pg_run(struct sink *s, const char *sql, const struct sink_val *v,
		  int n, PGresult **out)
{
	const char *values[SINK_MAX_COLS];
	Oid types[SINK_MAX_COLS];
	char nums[SINK_MAX_COLS][24];
	char name[16] = "";
	PGresult *res;
	ExecStatusType st;
	int k, rc;

	if (out)
		*out = NULL;
	if (n > SINK_MAX_COLS)
		return sink_fail(s, SINK_EDB, "internal: too many parameters");
	pg_bind(v, n, values, types, nums);
	/* room for a prepare, the statement and COMMIT */
	if (pipeline.on && pipeline.n + 3 > PIPE_MAX &&
	    (rc = pipe_collect(s, NULL, 1)) != 0)
		return rc;
	if ((k = cache_find(sql, n, types)) < 0 &&
	    PQtransactionStatus(conn_of(s)) != PQTRANS_INERROR)
		k = cache_add(s, sql, n, types);
	if (k >= 0)
		snprintf(name, sizeof(name), "s%d", k);
	if (pipeline.on) {
		if (!(k >= 0 ? PQsendQueryPrepared(conn_of(s), name, n, values,
						   NULL, NULL, 0)
			     : PQsendQueryParams(conn_of(s), sql, n, types,
						 values, NULL, NULL, 0)))
			return pg_fail(s, "cannot write", NULL);
		pipeline.prep[pipeline.n++] = -1;
		return out ? pipe_collect(s, out, 1) : 0;
	}
	res = k >= 0 ? PQexecPrepared(conn_of(s), name, n, values, NULL,
				      NULL, 0)
		     : PQexecParams(conn_of(s), sql, n, types, values, NULL,
				    NULL, 0);
	st = PQresultStatus(res);
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		pg_fail(s, "cannot write", res);
		PQclear(res);
		return SINK_EDB;
	}
	if (out)
		*out = res;
	else
		PQclear(res);
	return 0;
}

static int pg_exec(struct sink *s, const char *sql, const struct sink_val *v,
		   int n, int64_t *changes)
{
	PGresult *res;

	if (!changes)
		return pg_run(s, sql, v, n, NULL);
	if (pg_run(s, sql, v, n, &res))
		return SINK_EDB;
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
		      "cannot take the sink lock") ||
	    pg_schema(s))
		return SINK_EDB;
	/* A batch's statements are pipelined (see the top of this file); if
	 * libpq cannot, they run one at a time. */
	if (s->batch && PQenterPipelineMode(conn_of(s)))
		pipeline.on = 1;
	return 0;
}

static int pg_commit(struct sink *s)
{
	if (pipeline.on)
		return pipe_end(s, 1);
	return pg_simple(s, "COMMIT", "cannot commit");
}

static void pg_rollback(struct sink *s)
{
	char err[sizeof(s->err)];

	/* the batch's error, not what reading the rest of the pipeline
	 * met, is what the sink answers */
	if (pipeline.on) {
		memcpy(err, s->err, sizeof(err));
		pipe_end(s, 0);
		memcpy(s->err, err, sizeof(err));
	}
	PQclear(PQexec(conn_of(s), "ROLLBACK"));
}

/* The session is lost when the server restarts, fails over or kills an
 * idle connection; a streaming sink keeps one session for its whole life,
 * so it opens a new one.  The prepared statements went with the old
 * session: the cache is emptied. */
static int pg_reconnect(struct sink *s)
{
	if (PQstatus(conn_of(s)) != CONNECTION_BAD)
		return 0;
	if (pg_new_session(s) != 0)
		return -1;
	fprintf(stderr, "%s: the connection to PostgreSQL was lost; "
		"connected again\n", s->prog);
	return 1;
}

/* Close the session and open a new one (PQreset, which also leaves
 * pipeline mode).  0, or SINK_EDB if it cannot be had. */
static int pg_new_session(struct sink *s)
{
	PGconn *conn = conn_of(s);

	cache_free();
	pipeline.on = 0;
	pipeline.n = 0;
	PQreset(conn);
	if (PQstatus(conn) != CONNECTION_OK)
		return pg_fail(s, "cannot connect to PostgreSQL again", NULL);
	if (PQsetClientEncoding(conn, "UTF8") != 0)
		return pg_fail(s, "cannot use UTF8 with this server", NULL);
	return 0;
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
