/*
 * logstore.c — the append-only, tamper-evident log in LMDB: opening it,
 * and what its three files share.
 *
 * This module is the only one that touches LMDB (logstore.h lists the
 * databases).  It translates every MDB_* result into a ppx code with a
 * sentence naming the log directory and saying what to do, grows the map on
 * MDB_MAP_FULL, and keeps read transactions short.  It is split by concern:
 *
 *   logstore.c        open and close, errors, transactions (this file)
 *   logstore_batch.c  appending: batches, the hash chain, tree nodes,
 *                     indexes and the outbox, map growth and replay
 *   logstore_read.c   reading: entries, indexes, the outbox, roots and
 *                     proofs over the stored tree, iteration
 *   logstore_cursor.c named cursors (hooks' positions), kept in meta
 *
 * The tree.  Node (level, index) is the hash of leaves [index << level,
 * (index + 1) << level).  Its key is its number in the order nodes are
 * completed (post-order, as in Go's sumdb tlog): with m = (index + 1) <<
 * level, it is 2m - popcount(m) - 1 - (ctz(m) - level).  Appending leaf n
 * stores the leaf and then each parent it completes, and those get the next
 * numbers in turn; so the tree, like the log, is only ever appended to and
 * its pages stay full.  Every complete aligned subtree is one lookup, so a
 * root or a proof costs O(log n) lookups, and an append stores two nodes
 * on average.
 *
 * Transactions.  A read runs in a short read-only transaction of its own,
 * or in the one reads currently share: the open batch's (so the writer
 * sees its own uncommitted entries) or the current chunk's of
 * ppx_log_foreach() (so a visitor may read; LMDB allows a thread one
 * transaction at a time).  A ppx_log belongs to one thread of one process.
 * Another process may have the log open read-only; should another process
 * ever append, a new batch starts from the log's real end.
 *
 * Damage.  LMDB checks its meta pages and refuses a file that is not an
 * LMDB environment, which we report as PPX_ECORRUPT; it trusts the pages
 * they lead to.  At open, the format version is checked against ours and
 * the last entry's key against the entry count; a writable open (and each
 * batch) also checks the last entry against its stored leaf hash, so that
 * the daemon never extends a damaged chain.  A read-only open does not, so
 * that `ppx verify` can open a damaged log and name the entry that changed.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "logstore_int.h"
#include "ppx/error.h"

#define DEFAULT_MAP_SIZE (UINT64_C(64) << 20)
#define DEFAULT_MAP_MAX (UINT64_C(1) << 40)
#define MIN_MAP_SIZE (UINT64_C(64) << 10)	/* room for the empty log */

static const struct db_spec {
	const char *name;
	unsigned flags;
} db_specs[NUM_DBS] = {
	[DB_LOG] = {"log", 0},
	[DB_TREE] = {"tree", 0},
	[DB_DEDUPE] = {"dedupe", 0},
	[DB_IDS] = {"ids", MDB_DUPSORT | MDB_DUPFIXED},
	[DB_SUBJECTS] = {"subjects", MDB_DUPSORT | MDB_DUPFIXED},
	[DB_OUTBOX] = {"outbox", 0},
	[DB_META] = {"meta", 0},
};

const char *ppxi_logstore_db_name(int db)
{
	return db_specs[db].name;
}

unsigned ppxi_logstore_db_flags(int db)
{
	return db_specs[db].flags;
}

/* ---- errors ----------------------------------------------------------- */

/* The ppx code for an LMDB or errno result. */
static int mdb_code(int rc)
{
	switch (rc) {
	case MDB_NOTFOUND:
	case ENOENT:
		return PPX_ENOTFOUND;
	case MDB_KEYEXIST:
		return PPX_EDUP;
	case MDB_MAP_FULL:
	case ENOSPC:
	case EDQUOT:
		return PPX_EFULL;
	case MDB_CORRUPTED:
	case MDB_INVALID:
	case MDB_VERSION_MISMATCH:
	case MDB_PAGE_NOTFOUND:
	case MDB_INCOMPATIBLE:
		return PPX_ECORRUPT;
	case ENOMEM:
		return PPX_ENOMEM;
	case EACCES:
	case EPERM:
	case EROFS:
		return PPX_EPERM;
	case MDB_TXN_FULL:
		return PPX_ERANGE;
	case EINVAL:
	case MDB_BAD_VALSIZE:
		return PPX_EINVAL;
	default:
		return PPX_EIO;
	}
}

/* What to do about a failure with this code. */
static const char *mdb_hint(int code)
{
	switch (code) {
	case PPX_ECORRUPT:
		return " (the file is damaged or not a ppx log: restore it "
		       "from a backup; run ppx verify on a copy)";
	case PPX_EFULL:
		return " (free disk space or raise the log's map limit)";
	case PPX_ERANGE:
		return " (commit smaller batches)";
	default:
		return "";
	}
}

int ppxi_logstore_fail(int rc, const char *fmt, ...)
{
	char what[256];
	int code = mdb_code(rc);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return ppx_error_set(code, "%s: %s%s", what, mdb_strerror(rc),
			     mdb_hint(code));
}

int ppxi_logstore_corrupt(const ppx_log *log, const char *fmt, ...)
{
	char what[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return ppx_error_set(PPX_ECORRUPT, "log %s: %s; run ppx verify on a "
			     "copy and restore from a backup", log->dir, what);
}

/* ---- transactions ----------------------------------------------------- */

int ppxi_logstore_txn_begin(ppx_log *log, unsigned flags, MDB_txn **txn)
{
	int rc = mdb_txn_begin(log->env, NULL, flags, txn);

	/* Another process grew the map: adopt its size and try again. */
	if (rc == MDB_MAP_RESIZED) {
		rc = mdb_env_set_mapsize(log->env, 0);
		if (rc == 0)
			rc = mdb_txn_begin(log->env, NULL, flags, txn);
	}
	return rc;
}

/* The transaction a read runs in: the shared one if there is one, else a
 * new read-only transaction that ppxi_logstore_read_end() ends. */
int ppxi_logstore_read_begin(ppx_log *log, MDB_txn **txn)
{
	int rc;

	if (log->shared) {
		*txn = log->shared;
		return 0;
	}
	rc = ppxi_logstore_txn_begin(log, MDB_RDONLY, txn);
	if (rc != 0)
		return ppxi_logstore_fail(
			rc, "cannot read log %s: mdb_txn_begin", log->dir);
	return 0;
}

void ppxi_logstore_read_end(ppx_log *log, MDB_txn *txn)
{
	if (txn != log->shared)
		mdb_txn_abort(txn);
}

/* Node (level, index) of the tree, as stored in txn. */
int ppxi_logstore_node_get(ppx_log *log, MDB_txn *txn, unsigned level,
			   uint64_t index, ppx_hash out)
{
	uint8_t key[8];
	MDB_val k = {sizeof(key), key}, v;
	int rc;

	logstore_tree_key(key, level, index);
	rc = mdb_get(txn, log->dbi[DB_TREE], &k, &v);
	if (rc == MDB_NOTFOUND || (rc == 0 && v.mv_size != sizeof(ppx_hash)))
		return ppxi_logstore_corrupt(
			log,
			"Merkle tree node (level %u, "
			"index %llu) is missing or malformed",
			level, (unsigned long long)index);
	if (rc != 0)
		return ppxi_logstore_fail(rc,
					  "cannot read the Merkle tree of "
					  "log %s",
					  log->dir);
	memcpy(out, v.mv_data, sizeof(ppx_hash));
	return 0;
}

/*
 * The number of entries in txn's view of the log and the leaf hash of the
 * last one.  Checks that the last entry's key agrees with the entry count
 * and that its bytes hash to its stored leaf.
 */
int ppxi_logstore_read_tail(ppx_log *log, MDB_txn *txn, uint64_t *size,
			    ppx_hash head)
{
	MDB_cursor *cur;
	MDB_val k, v;
	MDB_stat st;
	ppx_hash stored;
	uint64_t last;
	int rc;

	if ((rc = mdb_stat(txn, log->dbi[DB_LOG], &st)) != 0)
		return ppxi_logstore_fail(rc, "cannot read log %s: mdb_stat",
					  log->dir);
	*size = 0;
	memset(head, 0, sizeof(ppx_hash));
	if (st.ms_entries == 0)
		return 0;
	if ((rc = mdb_cursor_open(txn, log->dbi[DB_LOG], &cur)) != 0)
		return ppxi_logstore_fail(
			rc, "cannot read log %s: mdb_cursor_open", log->dir);
	rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
	mdb_cursor_close(cur);
	if (rc != 0)
		return ppxi_logstore_fail(
			rc, "cannot read the last entry of log %s", log->dir);
	if (k.mv_size != 8)
		return ppxi_logstore_corrupt(
			log, "last key has %zu bytes, not 8", k.mv_size);
	last = logstore_get_be64(k.mv_data);
	if (last + 1 != st.ms_entries)
		return ppxi_logstore_corrupt(log,
					     "holds %zu entries but the last "
					     "is %llu",
					     st.ms_entries,
					     (unsigned long long)last);
	ppx_merkle_leaf(head, v.mv_data, v.mv_size);
	*size = last + 1;
	/* A writer must not extend a damaged log; a reader (ppx verify) must
	 * be able to open one, to say what is wrong with it. */
	if (log->flags & PPX_LOG_READONLY)
		return 0;
	if ((rc = ppxi_logstore_node_get(log, txn, 0, last, stored)) < 0)
		return rc;
	if (memcmp(head, stored, sizeof(stored)) != 0)
		return ppxi_logstore_corrupt(log,
					     "entry %llu does not match its "
					     "leaf hash",
					     (unsigned long long)last);
	return 0;
}

/* ---- opening ---------------------------------------------------------- */

/*
 * Makes sure dir exists (creating it 0700 unless read-only) and says
 * whether it holds no log yet.  A read-only open of such a directory is
 * PPX_ENOTFOUND.
 */
static int prepare_dir(ppx_log *log, int *fresh)
{
	char path[PATH_MAX];
	struct stat st;
	int ro = log->flags & PPX_LOG_READONLY;

	/* A backup (ppx backup) is the data file alone: read it as one. */
	if (ro && stat(log->dir, &st) == 0 && S_ISREG(st.st_mode)) {
		log->file = 1;
		*fresh = st.st_size == 0;
		return 0;
	}
	if ((size_t)snprintf(path, sizeof(path), "%s/data.mdb", log->dir) >=
	    sizeof(path))
		return ppx_error_set(PPX_EINVAL, "log directory name too long: "
				     "%s", log->dir);
	if (!ro && mkdir(log->dir, 0700) != 0 && errno != EEXIST)
		return ppxi_logstore_fail(
			errno, "cannot create log directory %s", log->dir);
	if (stat(path, &st) == 0) {
		*fresh = st.st_size == 0;
		return 0;
	}
	if (errno != ENOENT)
		return ppxi_logstore_fail(errno, "cannot open log %s: %s",
					  log->dir, path);
	if (ro)
		return ppx_error_set(PPX_ENOTFOUND, "no log in %s: %s does not "
				     "exist", log->dir, path);
	*fresh = 1;
	return 0;
}

/*
 * LMDB maps pages past the end of a truncated file and the first read of
 * one kills the process (SIGBUS): refuse a file shorter than the pages the
 * last transaction used.
 */
static int check_file_size(ppx_log *log)
{
	char path[PATH_MAX];
	MDB_envinfo info;
	MDB_stat st;
	struct stat fs;

	if (mdb_env_info(log->env, &info) != 0 ||
	    mdb_env_stat(log->env, &st) != 0)
		return ppxi_logstore_corrupt(log, "cannot read its header");
	if (log->file)
		snprintf(path, sizeof(path), "%s", log->dir);
	else
		snprintf(path, sizeof(path), "%s/data.mdb", log->dir);
	if (stat(path, &fs) != 0)
		return ppxi_logstore_fail(errno, "cannot open log %s: %s",
					  log->dir, path);
	if (((uint64_t)info.me_last_pgno + 1) * st.ms_psize >
	    (uint64_t)fs.st_size)
		return ppxi_logstore_corrupt(
			log,
			"data.mdb is %lld bytes but its "
			"header says it holds %llu pages of %u"
			" bytes: the file is truncated",
			(long long)fs.st_size,
			(unsigned long long)info.me_last_pgno + 1, st.ms_psize);
	return 0;
}

/*
 * A log whose map grew past a cap set later: shrink the map to the cap when
 * what is used fits, so that the cap holds from now on; otherwise the log
 * is already over it and every growth is refused.
 */
static int cap_map(ppx_log *log, const MDB_envinfo *info)
{
	MDB_stat st;
	int rc;

	if (mdb_env_stat(log->env, &st) != 0 ||
	    ((uint64_t)info->me_last_pgno + 1) * st.ms_psize > log->map_max)
		return 0;
	if ((rc = mdb_env_set_mapsize(log->env, log->map_max)) != 0)
		return ppxi_logstore_fail(rc,
					  "cannot open log %s: "
					  "mdb_env_set_mapsize",
					  log->dir);
	return 0;
}

/*
 * Creates and opens the environment.  A new log starts at map_size; an
 * existing one keeps the size it grew to, or map_size if that is larger.
 */
static int env_open(ppx_log *log, uint64_t map_size, int fresh)
{
	int ro = log->flags & PPX_LOG_READONLY;
	MDB_envinfo info;
	int rc;

	if ((rc = mdb_env_create(&log->env)) != 0)
		return ppxi_logstore_fail(
			rc, "cannot open log %s: mdb_env_create", log->dir);
	/* And a scratch database per index while a log of format 1 is
	 * moved to runs (logstore_merge.c). */
	if ((rc = mdb_env_set_maxdbs(log->env, NUM_DBS + NUM_IX)) != 0)
		return ppxi_logstore_fail(rc,
					  "cannot open log %s: "
					  "mdb_env_set_maxdbs",
					  log->dir);
	if (fresh && !ro && (rc = mdb_env_set_mapsize(log->env,
						      map_size)) != 0)
		return ppxi_logstore_fail(rc,
					  "cannot open log %s: "
					  "mdb_env_set_mapsize",
					  log->dir);
	/* A copy is read without a lock file: nothing writes it, and
	 * checking it leaves nothing behind. */
	rc = mdb_env_open(log->env, log->dir,
			  (ro ? MDB_RDONLY : 0) |
			  (log->file ? MDB_NOSUBDIR | MDB_NOLOCK : 0), 0600);
	if (rc != 0)
		return ppxi_logstore_fail(
			rc, "cannot open log %s: mdb_env_open", log->dir);
	if ((rc = check_file_size(log)) != 0)
		return rc;
	log->key_max = (size_t)mdb_env_get_maxkeysize(log->env);
	if (log->key_max >= LOGSTORE_KEY_BUF)
		log->key_max = LOGSTORE_KEY_BUF - 1;
	log->ix_key_max = log->key_max - LOGSTORE_RUN_LEN;
	mdb_env_info(log->env, &info);
	if (!fresh && !ro && info.me_mapsize < map_size &&
	    (rc = mdb_env_set_mapsize(log->env, map_size)) != 0)
		return ppxi_logstore_fail(rc,
					  "cannot open log %s: "
					  "mdb_env_set_mapsize",
					  log->dir);
	if (!ro && info.me_mapsize > log->map_max)
		return cap_map(log, &info);
	return 0;
}

/* A new log: the current format, and one empty young run. */
static int format_new(ppx_log *log, MDB_txn *txn)
{
	uint8_t want[4] = {0, 0, 0, LOGSTORE_FORMAT};
	MDB_val k = {6, "format"}, v = {sizeof(want), want};
	struct logstore_runs r = {.format = LOGSTORE_FORMAT, .next_run = 1,
				  .next_out = LOGSTORE_OUT_RUNS};
	int rc;

	if ((rc = mdb_put(txn, log->dbi[DB_META], &k, &v, 0)) != 0 ||
	    (rc = ppxi_runs_save(log, txn, &r)) != 0)
		return ppxi_logstore_fail(rc, "cannot initialise log %s",
					  log->dir);
	log->format = LOGSTORE_FORMAT;
	return 0;
}

/* Checks the format version in meta, writing it into a new log: 1 (the
 * indexes without runs, moved to runs by a writable open) or 2. */
static int check_format(ppx_log *log, MDB_txn *txn)
{
	MDB_val k = {6, "format"}, v;
	const uint8_t *f;
	int rc = mdb_get(txn, log->dbi[DB_META], &k, &v);

	if (rc == MDB_NOTFOUND && !(log->flags & PPX_LOG_READONLY))
		return format_new(log, txn);
	if (rc == MDB_NOTFOUND)
		return ppxi_logstore_corrupt(log, "no format version");
	if (rc != 0)
		return ppxi_logstore_fail(rc, "cannot read log %s: meta",
					  log->dir);
	f = v.mv_data;
	if (v.mv_size != 4)
		return ppx_error_set(PPX_ECORRUPT, "log %s is damaged: its "
				     "format record has %zu bytes, not 4; run "
				     "ppx verify on a copy and restore from a "
				     "backup", log->dir, v.mv_size);
	if (f[0] || f[1] || f[2] || f[3] < 1 ||
	    f[3] > LOGSTORE_FORMAT)
		return ppx_error_set(PPX_ECORRUPT, "log %s has a format this "
				     "build does not read (it reads versions "
				     "1 to %d): use a matching ppx", log->dir,
				     LOGSTORE_FORMAT);
	log->format = f[3];
	return 0;
}

/* Opens (creating unless read-only) the databases and checks the format,
 * in one transaction. */
static int dbs_open(ppx_log *log)
{
	int ro = log->flags & PPX_LOG_READONLY;
	MDB_txn *txn;
	int rc;

	if ((rc = ppxi_logstore_txn_begin(log, ro ? MDB_RDONLY : 0, &txn)) != 0)
		return ppxi_logstore_fail(
			rc, "cannot open log %s: mdb_txn_begin", log->dir);
	for (int i = 0; i < NUM_DBS; i++) {
		rc = mdb_dbi_open(txn, db_specs[i].name,
				  db_specs[i].flags | (ro ? 0 : MDB_CREATE),
				  &log->dbi[i]);
		if (rc == 0)
			continue;
		mdb_txn_abort(txn);
		if (rc == MDB_NOTFOUND)
			return ppx_error_set(PPX_ENOTFOUND, "no log in %s: it "
					     "has no %s database", log->dir,
					     db_specs[i].name);
		return ppxi_logstore_fail(rc, "cannot open log %s: database %s",
					  log->dir, db_specs[i].name);
	}
	if ((rc = check_format(log, txn)) < 0) {
		mdb_txn_abort(txn);
		return rc;
	}
	/* A read-only commit is what keeps the database handles open. */
	if ((rc = mdb_txn_commit(txn)) != 0)
		return ppxi_logstore_fail(
			rc, "cannot open log %s: mdb_txn_commit", log->dir);
	return 0;
}

static uint64_t round_to_page(uint64_t n, int up)
{
	long page = sysconf(_SC_PAGESIZE);
	uint64_t p = page > 0 ? (uint64_t)page : 4096;

	return (up ? n + p - 1 : n) / p * p;
}

int ppx_log_open(ppx_log **out, const char *dir, const ppx_log_options *opts)
{
	ppx_log_options o = opts ? *opts : (ppx_log_options){0};
	ppx_log *log;
	MDB_txn *txn;
	int fresh = 0, rc;

	*out = NULL;
	if (!dir || !*dir)
		return ppx_error_set(PPX_EINVAL, "no log directory given");
	o.map_size = round_to_page(o.map_size ? o.map_size : DEFAULT_MAP_SIZE,
				   1);
	if (o.map_size < MIN_MAP_SIZE)
		o.map_size = MIN_MAP_SIZE;
	o.map_max = round_to_page(o.map_max ? o.map_max : DEFAULT_MAP_MAX, 0);
	if (o.map_max < MIN_MAP_SIZE)
		o.map_max = MIN_MAP_SIZE;
	if (o.map_size > o.map_max)	/* a cap below the usual start */
		o.map_size = o.map_max;
	if (!(log = calloc(1, sizeof(*log))) || !(log->dir = strdup(dir))) {
		free(log);
		return ppx_error_set(PPX_ENOMEM, "cannot open log %s: out of "
				     "memory", dir);
	}
	log->flags = o.flags;
	log->map_max = o.map_max;
	log->young_max = o.run_entries ? o.run_entries : LOGSTORE_YOUNG_MAX;
	log->slice = o.run_slice;
	if ((rc = prepare_dir(log, &fresh)) < 0 ||
	    (rc = env_open(log, o.map_size, fresh)) < 0 ||
	    (rc = dbs_open(log)) < 0 ||
	    (log->format < LOGSTORE_FORMAT && !(o.flags & PPX_LOG_READONLY) &&
	     (rc = ppxi_runs_migrate(log)) < 0) ||
	    (rc = ppxi_logstore_read_begin(log, &txn)) < 0) {
		ppx_log_close(log);
		return rc;
	}
	rc = ppxi_logstore_read_tail(log, txn, &log->size, log->head);
	ppxi_logstore_read_end(log, txn);
	if (rc < 0) {
		ppx_log_close(log);
		return rc;
	}
	*out = log;
	return 0;
}

void ppx_log_close(ppx_log *self)
{
	if (!self)
		return;
	if (self->batch)
		ppxi_logstore_batch_free(self->batch);
	if (self->env)
		mdb_env_close(self->env);
	ppxi_filters_free(self);
	free(self->notice);
	free(self->dir);
	free(self);
}

const char *ppx_log_notice(ppx_log *self)
{
	return self->notice;
}

uint64_t ppx_log_size(ppx_log *self)
{
	return self->size;
}

void ppx_log_head(ppx_log *self, ppx_hash out)
{
	memcpy(out, self->head, sizeof(ppx_hash));
}

uint64_t ppx_log_map_size(ppx_log *self)
{
	MDB_envinfo info;

	if (mdb_env_info(self->env, &info) != 0)
		return 0;
	return info.me_mapsize;
}
