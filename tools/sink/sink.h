/*
 * sink.h — the database sinks: one log entry, as the daemon's durable hooks
 * hand it over (JSON on stdin, docs/HOOKS.md), becomes rows in tables a case
 * system can query (docs/SINKS.md, tools/sink/schema.sql).
 *
 * Two small programs share this module: ppx-sink-sqlite (sink_sqlite.c,
 * embedded, the default) and ppx-sink-pg (sink_pg.c, a PostgreSQL server).
 * sink_common.c reads and checks the entry and runs the one transaction,
 * sink_subject.c matches subjects, sink_family.c maps each family to rows
 * (sink_int.h); each program supplies a `struct sink_db` that runs
 * parameterised statements on its database.  No SQL is ever built from
 * input: statement text comes from constants in this module, and every value
 * travels as a bound parameter.
 *
 * The hook contract (mode = each): exit 0 only after COMMIT, so the daemon advances its
 * cursor only over entries that are durable here; non-zero otherwise, so the
 * daemon retries.  Writes are idempotent (messages are keyed by their sender
 * agency and message id and inserted with ON CONFLICT DO NOTHING), so a
 * retried entry never doubles a row.  With mode = stream one process
 * stores batches, one transaction each, and answers `ok SEQ` only after
 * its COMMIT (sink_stream.c).
 */
#ifndef PPX_SINK_H
#define PPX_SINK_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Exit codes of both programs. */
#define SINK_EXIT_OK 0
#define SINK_EXIT_DB 1		/* the database failed; retrying may help */
#define SINK_EXIT_ENTRY 2	/* the entry is not JSON or not an entry */
#define SINK_EXIT_USAGE 64	/* bad command line (EX_USAGE) */

/* Error codes of the functions below. */
#define SINK_EDB (-1)		/* the database refused or failed */
#define SINK_EENTRY (-2)	/* the entry is malformed */
#define SINK_ENOROW (-3)	/* a query found no row */

/* The most an entry may be: a 16 MiB frame as base64 inside JSON, and room. */
#define SINK_MAX_ENTRY (64L * 1024 * 1024)

/* The most columns one row has, and parameters one statement binds. */
#define SINK_MAX_COLS 48

enum sink_type { SINK_NULL, SINK_TEXT, SINK_INT, SINK_BOOL };

/* A value bound to one statement parameter. */
struct sink_val {
	enum sink_type type;
	const char *text;	/* SINK_TEXT: NUL-terminated UTF-8 */
	int64_t num;		/* SINK_INT; SINK_BOOL: 0 or 1 */
};

/*
 * A database, as the common code sees it.  Statement text uses $1, $2, ...
 * for parameters (PostgreSQL's form; the SQLite side maps them to ?1, ?2).
 * Every function returns 0 or SINK_EDB, with the database's own message in
 * the sink's error buffer (sink_fail()).
 */
struct sink;
struct sink_db {
	const char *name;		/* "sqlite", "postgresql" */
	/* Start the entry's transaction, taking the write lock at once, and
	 * create the tables if they are missing. */
	int (*begin)(struct sink *s);
	int (*commit)(struct sink *s);
	void (*rollback)(struct sink *s);
	/* Run a statement that returns no rows; *changes: rows it changed. */
	int (*exec)(struct sink *s, const char *sql, const struct sink_val *v,
		    int n, int64_t *changes);
	/* Run a statement returning at most one row; *out: its first column
	 * as an integer.  SINK_ENOROW if there is no row or it is NULL. */
	int (*query_int)(struct sink *s, const char *sql,
			 const struct sink_val *v, int n, int64_t *out);
	/* After a failure (may be NULL): if the connection to the server is
	 * gone, open a new one.  Returns 1 if a new one is open, 0 if the
	 * old one is still good, -1 if it is gone and cannot be reopened. */
	int (*reconnect)(struct sink *s);
};

struct sink {
	const struct sink_db *db;
	void *handle;			/* sqlite3 * or PGconn * */
	const char *prog;		/* for messages: "ppx-sink-sqlite" */
	char err[1024];			/* what failed, for stderr */
	/* Streaming (sink_stream.c): entries are stored inside the batch's
	 * transaction, which the caller begins and commits; seq is the last
	 * entry's "seq" (-1 if it had none). */
	int batch;
	int64_t seq;
};

/*
 * Record what failed in s->err (printf-style) and return `code`, so that
 * callers can write `return sink_fail(s, SINK_EDB, "...")`.
 */
int sink_fail(struct sink *s, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The schema version these programs write (sink_meta.schema_version). */
#define SINK_SCHEMA_VERSION 2

/*
 * A database whose tables an older version of the sinks made (`have` is
 * its sink_meta.schema_version): records why it is refused and what to do
 * (docs/SINKS.md, "Changing the schema") and returns SINK_EDB.
 */
int sink_schema_refuse(struct sink *s, int64_t have);

/*
 * Read one entry from `in` (at most SINK_MAX_ENTRY bytes), store it in one
 * transaction, and return the exit code for the hook: SINK_EXIT_OK only
 * after COMMIT.  Prints what failed to stderr.
 */
int sink_run(struct sink *s, FILE *in);

/*
 * Store the entry in `text` (`len` bytes) in one transaction.  0, or
 * SINK_EENTRY (nothing was written) or SINK_EDB (rolled back).
 */
int sink_apply(struct sink *s, const char *text, size_t len);

/* Exit code for an error code of sink_apply(). */
int sink_exit_code(int rc);

/*
 * The command line of both programs: `[--stream] DATABASE`.  Streaming is
 * on with --stream or when the daemon says so (PPX_HOOK_MODE=stream in the
 * environment, docs/HOOKS.md).  -1 for a bad command line.
 */
int sink_args(int argc, char **argv, const char **db, int *stream);

/*
 * Streaming hook mode (docs/HOOKS.md, "Streaming hooks"): read batches of
 * entry lines, each ended by "end SEQ", from `in` until end of file; store
 * each batch in one transaction and answer it on `out` with one line (ok,
 * fail or refuse).  Returns the exit code: SINK_EXIT_OK at end of input,
 * SINK_EXIT_ENTRY when the input breaks the protocol.
 */
int sink_stream(struct sink *s, FILE *in, FILE *out);

#endif
