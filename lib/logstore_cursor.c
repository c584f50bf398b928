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
 *
 * Marks are the other half of a consumer's position: the entries behind
 * its cursor that it set aside (a hook's quarantine).  A mark set is
 * "mark/" || set || 0x00 || seq (8, BE) -> 8-byte BE value in meta, so
 * one cursor over a key range lists a set in seq order, and a mark, like
 * a cursor, changes only in a batch and commits with it.
 */
#include <stdio.h>
#include <stdlib.h>
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
	if ((rc = ppxi_logstore_read_begin(self, &txn)) < 0)
		return rc;
	k.mv_size = (size_t)len;
	k.mv_data = key;
	rc = mdb_get(txn, self->dbi[DB_META], &k, &v);
	if (rc == 0 && v.mv_size == 8)
		*next_seq = logstore_get_be64(v.mv_data);
	ppxi_logstore_read_end(self, txn);
	if (rc == MDB_NOTFOUND)
		return ppx_error_set(PPX_ENOTFOUND, "log %s has no cursor %s",
				     self->dir, name);
	if (rc != 0)
		return ppxi_logstore_fail(rc, "cannot read cursor %s of log %s",
					  name, self->dir);
	if (v.mv_size != 8)
		return ppxi_logstore_corrupt(self,
					     "cursor %s has %zu bytes, not 8",
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
	if (next_seq > ppxi_logstore_batch_next(batch))
		return ppx_error_set(
			PPX_ERANGE,
			"cannot set cursor %s to %llu: "
			"the log ends at %llu",
			name, (unsigned long long)next_seq,
			(unsigned long long)ppxi_logstore_batch_next(batch));
	return ppxi_logstore_batch_meta(batch, key, (size_t)len, next_seq);
}

/* ------------------------------------------------------------------ */
/* Marks                                                               */
/* ------------------------------------------------------------------ */

#define MARK_PREFIX "mark/"
#define MARK_KEY_MAX (sizeof(MARK_PREFIX) + PPX_LOG_CURSOR_NAME_MAX + 8)

/* "mark/" || set || 0x00 into key; its length, or PPX_EINVAL. */
static int mark_prefix(uint8_t key[MARK_KEY_MAX], const char *set)
{
	size_t plen = sizeof(MARK_PREFIX) - 1;
	int len = cursor_key(key, set);	/* checks the name the same way */

	if (len < 0)
		return len;
	len -= (int)(sizeof(CURSOR_PREFIX) - 1);
	memmove(key + plen, key + sizeof(CURSOR_PREFIX) - 1, (size_t)len);
	memcpy(key, MARK_PREFIX, plen);
	key[plen + (size_t)len] = 0;
	return (int)plen + len + 1;
}

static int mark_change(ppx_log_batch *batch, const char *set, uint64_t seq,
		       uint64_t value, int del)
{
	uint8_t key[MARK_KEY_MAX];
	int len;

	if (!batch)
		return ppx_error_set(PPX_EINVAL, "ppx_log_mark: no batch");
	if ((len = mark_prefix(key, set)) < 0)
		return len;
	if (seq >= ppxi_logstore_batch_next(batch))
		return ppx_error_set(
			PPX_ERANGE,
			"cannot mark entry %llu in %s:"
			" the log ends at %llu",
			(unsigned long long)seq, set,
			(unsigned long long)ppxi_logstore_batch_next(batch));
	logstore_put_be64(key + len, seq);
	return ppxi_logstore_batch_meta_change(batch, key, (size_t)len + 8,
					       value, del);
}

int ppx_log_mark_put(ppx_log_batch *batch, const char *set, uint64_t seq,
		     uint64_t value)
{
	return mark_change(batch, set, seq, value, 0);
}

int ppx_log_mark_del(ppx_log_batch *batch, const char *set, uint64_t seq)
{
	return mark_change(batch, set, seq, 0, 1);
}

/* The key prefix of `set` into `key` (its length into *len) and a cursor
 * on the meta table in a read transaction, for the caller to close with
 * mark_cursor_close().  0, or a negative error with nothing left open. */
static int mark_cursor_open(ppx_log *self, const char *set,
			    uint8_t key[MARK_KEY_MAX], int *len,
			    MDB_txn **txn, MDB_cursor **cur)
{
	int rc;

	if ((*len = mark_prefix(key, set)) < 0)
		return *len;
	if ((rc = ppxi_logstore_read_begin(self, txn)) < 0)
		return rc;
	if ((rc = mdb_cursor_open(*txn, self->dbi[DB_META], cur)) != 0) {
		ppxi_logstore_read_end(self, *txn);
		return ppxi_logstore_fail(rc, "cannot read marks %s of log %s",
					  set, self->dir);
	}
	return 0;
}

static void mark_cursor_close(ppx_log *self, MDB_txn *txn, MDB_cursor *cur)
{
	mdb_cursor_close(cur);
	ppxi_logstore_read_end(self, txn);
}

/* 1 if key `k` is a mark of the set whose prefix is `key` (len bytes). */
static int mark_of_set(const MDB_val *k, const uint8_t *key, int len)
{
	return k->mv_size == (size_t)len + 8 &&
	       memcmp(k->mv_data, key, (size_t)len) == 0;
}

/* The mark of `set` at key `k` (its prefix `len` bytes) and value `v`. */
static int mark_decode(ppx_log *self, const char *set, int len,
		       const MDB_val *k, const MDB_val *v,
		       struct ppx_log_mark *out)
{
	if (v->mv_size != 8)
		return ppxi_logstore_corrupt(self, "a mark of %s has %zu "
					     "bytes, not 8", set, v->mv_size);
	out->seq = logstore_get_be64((const uint8_t *)k->mv_data + len);
	out->value = logstore_get_be64(v->mv_data);
	return 0;
}

/* Appends `m` to the growing array of the list. */
static int mark_keep(struct ppx_log_mark **v, size_t *n, size_t *cap,
		     struct ppx_log_mark m)
{
	struct ppx_log_mark *g;

	if (*n == *cap) {
		*cap = *cap ? 2 * *cap : 16;
		if (!(g = realloc(*v, *cap * sizeof(**v))))
			return ppx_error_set(PPX_ENOMEM, "out of memory");
		*v = g;
	}
	(*v)[(*n)++] = m;
	return 0;
}

int ppx_log_mark_list(ppx_log *self, const char *set,
		      struct ppx_log_mark **out, size_t *n, size_t max)
{
	uint8_t key[MARK_KEY_MAX];
	struct ppx_log_mark m = {0, 0};
	size_t cap = 0;
	MDB_cursor *cur;
	MDB_txn *txn;
	MDB_val k, v;
	int len, rc;

	*out = NULL;
	*n = 0;
	if ((rc = mark_cursor_open(self, set, key, &len, &txn, &cur)) < 0)
		return rc;
	k.mv_size = (size_t)len;
	k.mv_data = key;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	     rc == 0 && *n < max && mark_of_set(&k, key, len);
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if ((rc = mark_decode(self, set, len, &k, &v, &m)) < 0 ||
		    (rc = mark_keep(out, n, &cap, m)) < 0)
			break;
	}
	mark_cursor_close(self, txn, cur);
	if (rc == MDB_NOTFOUND || rc == 0)
		return 0;
	free(*out);
	*out = NULL;
	*n = 0;
	return rc < 0 ? rc
		      : ppxi_logstore_fail(rc,
					   "cannot read marks %s of log "
					   "%s",
					   set, self->dir);
}

/* The cursor at the last key of `key` (len bytes) || seq: the first key
 * past every seq of the set, then the one before it. */
static int mark_last(MDB_cursor *cur, uint8_t *key, int len, MDB_val *k,
		     MDB_val *v)
{
	int rc;

	memset(key + len, 0xff, 8);
	k->mv_size = (size_t)len + 8;
	k->mv_data = key;
	rc = mdb_cursor_get(cur, k, v, MDB_SET_RANGE);
	if (rc == 0)
		return mdb_cursor_get(cur, k, v, MDB_PREV);
	return rc == MDB_NOTFOUND ? mdb_cursor_get(cur, k, v, MDB_LAST) : rc;
}

int ppx_log_mark_newest(ppx_log *self, const char *set,
			struct ppx_log_mark *out)
{
	uint8_t key[MARK_KEY_MAX];
	MDB_cursor *cur;
	MDB_txn *txn;
	MDB_val k, v;
	int len, rc;

	if ((rc = mark_cursor_open(self, set, key, &len, &txn, &cur)) < 0)
		return rc;
	rc = mark_last(cur, key, len, &k, &v);
	if (rc == 0 && !mark_of_set(&k, key, len))
		rc = MDB_NOTFOUND;
	if (rc == 0)
		rc = mark_decode(self, set, len, &k, &v, out);
	mark_cursor_close(self, txn, cur);
	if (rc == MDB_NOTFOUND)
		return ppx_error_set(PPX_ENOTFOUND, "no mark in %s", set);
	return rc <= 0 ? rc
		       : ppxi_logstore_fail(rc, "cannot read marks %s of log "
					    "%s", set, self->dir);
}
