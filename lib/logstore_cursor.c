/*
 * logstore_cursor.c — named cursors into the log, kept in LMDB.
 *
 * A consumer of the log that must see every entry exactly where it left off
 * (a durable hook, daemon/hooks.c) keeps the seq of the next entry it has
 * not yet taken as a named cursor.  Cursors live in the meta database as
 * "cursor/" || name -> 8-byte big-endian seq: meta is there in every log,
 * so a log written before cursors existed opens unchanged, read-only too.
 *
 * A cursor moves only inside a batch (logstore_batch_meta), which records
 * the write with the batch's others so that a replay after MDB_MAP_FULL
 * writes it again, and commits it with them: the cursor is on disk exactly
 * when the batch is.  Like the other indexes, cursors are not part of the
 * hash chain or the tree; they say how far a consumer got, not what
 * happened.
 */
#include <stdio.h>
#include <string.h>

#include "logstore_int.h"
#include "ppx/error.h"

#define CURSOR_PREFIX "cursor/"
#define CURSOR_KEY_MAX (sizeof(CURSOR_PREFIX) - 1 + PPX_LOG_CURSOR_NAME_MAX)

/* "cursor/" || name into key; its length, or PPX_EINVAL for a bad name. */
static int cursor_key(uint8_t key[CURSOR_KEY_MAX], const char *name)
{
	size_t plen = sizeof(CURSOR_PREFIX) - 1;
	size_t len = name ? strlen(name) : 0;

	if (len == 0 || len > PPX_LOG_CURSOR_NAME_MAX)
		return ppx_error_set(PPX_EINVAL, "cursor name must have 1 to "
				     "%d characters", PPX_LOG_CURSOR_NAME_MAX);
	for (size_t i = 0; i < len; i++)
		if (name[i] <= ' ' || name[i] > '~')
			return ppx_error_set(PPX_EINVAL, "cursor name \"%s\": "
					     "only printable ASCII without "
					     "spaces", name);
	memcpy(key, CURSOR_PREFIX, plen);
	memcpy(key + plen, name, len);
	return (int)(plen + len);
}

int ppx_log_cursor_get(ppx_log *self, const char *name, uint64_t *next_seq)
{
	uint8_t key[CURSOR_KEY_MAX];
	int len = cursor_key(key, name);
	MDB_val k, v;
	MDB_txn *txn;
	int rc;

	if (len < 0)
		return len;
	if ((rc = logstore_read_begin(self, &txn)) < 0)
		return rc;
	k.mv_size = (size_t)len;
	k.mv_data = key;
	rc = mdb_get(txn, self->dbi[DB_META], &k, &v);
	if (rc == 0 && v.mv_size == 8)
		*next_seq = logstore_get_be64(v.mv_data);
	logstore_read_end(self, txn);
	if (rc == MDB_NOTFOUND)
		return ppx_error_set(PPX_ENOTFOUND, "log %s has no cursor %s",
				     self->dir, name);
	if (rc != 0)
		return logstore_fail(rc, "cannot read cursor %s of log %s",
				     name, self->dir);
	if (v.mv_size != 8)
		return logstore_corrupt(self, "cursor %s has %zu bytes, not 8",
					name, v.mv_size);
	return 0;
}

int ppx_log_cursor_set(ppx_log_batch *batch, const char *name,
		       uint64_t next_seq)
{
	uint8_t key[CURSOR_KEY_MAX];
	int len;

	if (!batch)
		return ppx_error_set(PPX_EINVAL, "ppx_log_cursor_set: no "
				     "batch");
	if ((len = cursor_key(key, name)) < 0)
		return len;
	if (next_seq > logstore_batch_next(batch))
		return ppx_error_set(PPX_ERANGE, "cannot set cursor %s to %llu: "
				     "the log ends at %llu", name,
				     (unsigned long long)next_seq,
				     (unsigned long long)
				     logstore_batch_next(batch));
	return logstore_batch_meta(batch, key, (size_t)len, next_seq);
}
