/*
 * test_checkpoint.c — signed checkpoints and offline verification of a log:
 * any changed byte of any stored entry is found, with its sequence number.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <lmdb.h>

#include "ppx/checkpoint.h"
#include "ppx/envelope.h"
#include "ppx/error.h"
#include "support.h"

#define ENTRIES 6

struct fx {
	char *dir;
	ppx_trust *trust;
	ppx_signer *police;
};

/* Append a signed message as SENT (with its outbox record, as the daemon
 * logs it), a note, and a checkpoint, ENTRIES/3 times, then close the
 * log. */
static void write_log(struct fx *f)
{
	ppx_log *log = NULL;

	assert_int_equal(ppx_log_open(&log, f->dir, NULL), 0);
	for (int i = 0; i < ENTRIES / 3; i++) {
		Ppx__V1__Body *b = body_new("police.gwent", "probation.gwent");
		Ppx__V1__LogEntry sent = PPX__V1__LOG_ENTRY__INIT;
		Ppx__V1__LogEntry note = PPX__V1__LOG_ENTRY__INIT;
		char *keys[] = {"pnc:2019/0123456X"};
		ppx_log_batch *batch = NULL;
		uint8_t *frame = NULL;
		size_t len = 0;
		uint64_t seq;

		assert_int_equal(ppx_body_seal(&frame, &len, f->police, b), 0);
		sent.kind = PPX__V1__ENTRY_KIND__ENTRY_SENT;
		sent.message_id = b->message_id;
		sent.data.data = frame;
		sent.data.len = len;
		sent.n_subject_keys = 1;
		sent.subject_keys = keys;
		sent.person = "dana.evans";
		assert_int_equal(ppx_log_begin(&batch, log), 0);
		assert_int_equal(ppx_log_append(batch, &sent, &seq), 0);
		assert_int_equal(ppx_log_outbox_add(batch, "probation.gwent",
						    seq), 0);
		assert_int_equal(ppx_log_commit(batch), 0);
		note.kind = PPX__V1__ENTRY_KIND__ENTRY_NOTE;
		note.detail = "read by Dana Evans";
		assert_int_equal(ppx_log_append_one(log, &note, &seq), 0);
		assert_int_equal(ppx_checkpoint_append(log, f->police, NULL,
						       NULL, &seq),
				 0);
		free(frame);
		body_free(b);
	}
	ppx_log_close(log);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	f->dir = tmpdir_new();
	f->trust = trust_demo();
	f->police = signer_at("police.gwent");
	write_log(f);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	tmpdir_remove(f->dir);
	ppx_trust_free(f->trust);
	ppx_signer_free(f->police);
	free(f);
	return 0;
}

static ppx_verify_report verify_dir(struct fx *f)
{
	ppx_log_options ro = {.flags = PPX_LOG_READONLY};
	ppx_verify_report r;
	ppx_log *log = NULL;

	assert_int_equal(ppx_log_open(&log, f->dir, &ro), 0);
	assert_int_equal(ppx_log_verify(&r, log, f->trust), 0);
	ppx_log_close(log);
	return r;
}

static int count_entry(void *ctx, uint64_t seq, const uint8_t *data,
		       size_t len)
{
	(void)seq, (void)data, (void)len;
	(*(int *)ctx)++;
	return 0;
}

/* What the daemon's start-up check and every reader make of the log when
 * entry `seq` is damaged: an error naming it, never its bytes. */
static void damaged_entry_is_refused(struct fx *f, uint64_t seq, size_t byte)
{
	ppx_log_options ro = {.flags = PPX_LOG_READONLY};
	Ppx__V1__LogEntry *e = NULL;
	ppx_verify_report r;
	ppx_log *log = NULL;
	int seen = 0;

	assert_int_equal(ppx_log_open(&log, f->dir, &ro), 0);
	assert_int_equal(ppx_log_check(&r, log), 0);
	if (r.ok || r.first_bad != seq)
		fail_msg("entry %llu byte %zu changed: the start-up check "
			 "said %s at %llu", (unsigned long long)seq, byte,
			 r.ok ? "ok" : "bad", (unsigned long long)r.first_bad);
	assert_int_equal(ppx_log_get(log, seq, &e), PPX_ECORRUPT);
	assert_null(e);
	assert_int_equal(ppx_log_foreach(log, 0, ENTRIES, count_entry, &seen),
			 PPX_ECORRUPT);
	assert_int_equal(seen, (int)seq);
	ppx_log_close(log);
}

static void test_checkpoint__untouched_log_verifies(void **state)
{
	struct fx *f = *state;
	ppx_verify_report r = verify_dir(f);

	assert_true(r.ok);
	assert_int_equal(r.entries, ENTRIES);
	assert_int_equal(r.checkpoints, ENTRIES / 3);
	assert_int_equal(r.signatures, ENTRIES / 3);
}

/* A checkpoint signed inside a batch states the tree with the batch's own
 * entries before it, commits with them, and verifies; one beyond the batch
 * cannot be had. */
static void test_checkpoint__checkpoint_in_a_batch_covers_its_entries(
	void **state)
{
	struct fx *f = *state;
	ppx_log *log = NULL;
	ppx_log_batch *b = NULL;
	Ppx__V1__LogEntry note = PPX__V1__LOG_ENTRY__INIT;
	ppx_verify_report r;
	uint64_t seq = 0, cp = 0;

	assert_int_equal(ppx_log_open(&log, f->dir, NULL), 0);
	note.kind = PPX__V1__ENTRY_KIND__ENTRY_NOTE;
	note.detail = "in the batch";
	assert_int_equal(ppx_log_begin(&b, log), 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(ppx_log_append(b, &note, &seq), 0);
	assert_int_equal(ppx_log_batch_next(b), ENTRIES + 3);
	assert_int_equal(ppx_checkpoint_append_batch(b, log, f->police, &cp),
			 0);
	assert_int_equal(cp, ENTRIES + 3);
	assert_int_equal(ppx_log_append(b, &note, &seq), 0);
	assert_int_equal(ppx_log_commit(b), 0);
	ppx_log_close(log);
	r = verify_dir(f);
	assert_true(r.ok);
	assert_int_equal(r.entries, ENTRIES + 5);
	assert_int_equal(r.checkpoints, ENTRIES / 3 + 1);
}

static void test_checkpoint__signed_checkpoint_opens(void **state)
{
	struct fx *f = *state;
	ppx_log *log = NULL;
	Ppx__V1__Checkpoint *cp = NULL;
	uint8_t *frame = NULL;
	size_t len = 0;
	uint64_t seq = 0, size;
	ppx_hash root;

	assert_int_equal(ppx_log_open(&log, f->dir, NULL), 0);
	size = ppx_log_size(log);
	assert_int_equal(ppx_checkpoint_append(log, f->police, &frame, &len,
					       &seq),
			 0);
	assert_int_equal(seq, size);
	assert_int_equal(ppx_checkpoint_open(&cp, f->trust, frame, len,
					     "police.gwent", time(NULL)),
			 0);
	assert_int_equal(cp->tree_size, size);
	assert_int_equal(ppx_log_root(log, size, root), 0);
	assert_memory_equal(cp->root_hash.data, root, sizeof(root));
	ppx__v1__checkpoint__free_unpacked(cp, NULL);
	/* Another agency's link cannot pass it off as theirs. */
	assert_int_equal(ppx_checkpoint_open(&cp, f->trust, frame, len,
					     "prison.cardiff", time(NULL)),
			 PPX_ESENDER);
	free(frame);
	ppx_log_close(log);
}

struct blob {
	uint8_t *data;
	size_t len;
};

static int grab(void *ctx, uint64_t seq, const uint8_t *data, size_t len)
{
	struct blob *b = ctx;

	(void)seq;
	b->data = malloc(len);
	memcpy(b->data, data, len);
	b->len = len;
	return 1;
}

static struct blob stored_entry(struct fx *f, uint64_t seq)
{
	ppx_log_options ro = {.flags = PPX_LOG_READONLY};
	struct blob b = {0};
	ppx_log *log = NULL;

	assert_int_equal(ppx_log_open(&log, f->dir, &ro), 0);
	ppx_log_foreach(log, seq, seq + 1, grab, &b);
	ppx_log_close(log);
	assert_non_null(b.data);
	return b;
}

/* Every place in the file where the entry's bytes are stored (LMDB may
 * keep stale copies in free pages too; all of them are changed). */
static size_t find_all(const uint8_t *file, size_t flen, struct blob e,
		       size_t *at, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i + e.len <= flen && n < max; i++)
		if (memcmp(file + i, e.data, e.len) == 0)
			at[n++] = i;
	return n;
}

/* The log file mapped for writing, with every place entry `seq`'s bytes
 * are stored. */
struct copies {
	struct blob e;
	uint8_t *file;
	size_t flen, at[16], n;
};

static void copies_map(struct copies *c, struct fx *f, uint64_t seq)
{
	char path[4096];
	struct stat st;
	int fd;

	c->e = stored_entry(f, seq);
	snprintf(path, sizeof(path), "%s/data.mdb", f->dir);
	fd = open(path, O_RDWR);
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	c->flen = (size_t)st.st_size;
	c->file = mmap(NULL, c->flen, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		       0);
	close(fd);
	assert_true(c->file != MAP_FAILED);
	c->n = find_all(c->file, c->flen, c->e, c->at, 16);
	assert_true(c->n >= 1);
}

/* Byte i of the entry changed (or changed back) in every copy. */
static void copies_flip(struct copies *c, size_t i)
{
	for (size_t k = 0; k < c->n; k++)
		c->file[c->at[k] + i] ^= 0x01;
	msync(c->file, c->flen, MS_SYNC);
}

static void copies_unmap(struct copies *c)
{
	munmap(c->file, c->flen);
	free(c->e.data);
}

static void flip_each_byte_and_verify(struct fx *f, uint64_t seq)
{
	struct copies c;

	copies_map(&c, f, seq);
	for (size_t i = 0; i < c.e.len; i++) {
		ppx_verify_report r;

		copies_flip(&c, i);
		r = verify_dir(f);
		if (r.ok || r.first_bad != seq)
			fail_msg("entry %llu byte %zu changed: verify said %s "
				 "at %llu (%s)",
				 (unsigned long long)seq, i,
				 r.ok ? "ok" : "bad",
				 (unsigned long long)r.first_bad, r.reason);
		damaged_entry_is_refused(f, seq, i);
		copies_flip(&c, i);
	}
	copies_unmap(&c);
	assert_true(verify_dir(f).ok);
}

static void test_checkpoint__any_changed_byte_names_its_entry(void **state)
{
	struct fx *f = *state;

	for (uint64_t seq = 0; seq < ENTRIES; seq++)
		flip_each_byte_and_verify(f, seq);
}

/* A data.mdb cut short is refused at open, before LMDB reads past its
 * end (which would kill the process). */
static void test_checkpoint__truncated_file_is_refused_at_open(void **state)
{
	struct fx *f = *state;
	ppx_log_options ro = {.flags = PPX_LOG_READONLY};
	ppx_log *log = NULL;
	char path[4096];
	struct stat st;

	snprintf(path, sizeof(path), "%s/data.mdb", f->dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(truncate(path, st.st_size / 2), 0);
	assert_int_equal(ppx_log_open(&log, f->dir, &ro), PPX_ECORRUPT);
	assert_null(log);
	assert_non_null(strstr(ppx_error_last(), "truncated"));
	assert_int_equal(ppx_log_open(&log, f->dir, NULL), PPX_ECORRUPT);
}

/* The check in a child process gives the same verdict as in this one. */
static void test_checkpoint__check_dir_verifies_an_untouched_log(void **state)
{
	struct fx *f = *state;
	ppx_verify_report r;

	assert_int_equal(ppx_log_check_dir(&r, f->dir, f->trust), 0);
	assert_true(r.ok);
	assert_int_equal(r.entries, ENTRIES);
	assert_int_equal(r.signatures, ENTRIES / 3);
	assert_int_equal(ppx_log_check_dir(&r, f->dir, NULL), 0);
	assert_true(r.ok);
	assert_int_equal(r.entries, ENTRIES);
}

/* A changed entry comes back as a verdict naming it, not as an error. */
static void test_checkpoint__check_dir_names_a_changed_entry(void **state)
{
	struct fx *f = *state;
	ppx_verify_report r;
	struct copies c;

	copies_map(&c, f, 1);	/* the first note */
	copies_flip(&c, c.e.len / 2);
	copies_unmap(&c);
	assert_int_equal(ppx_log_check_dir(&r, f->dir, NULL), 0);
	assert_false(r.ok);
	assert_int_equal(r.first_bad, 1);
	assert_int_equal(ppx_log_check_dir(&r, f->dir, f->trust), 0);
	assert_false(r.ok);
	assert_int_equal(r.first_bad, 1);
}

/* No log in the directory is PPX_ENOTFOUND, for ppxd to start a new one. */
static void test_checkpoint__check_dir_of_no_log_is_not_found(void **state)
{
	struct fx *f = *state;
	ppx_verify_report r;
	char *empty = tmpdir_new();

	(void)f;
	assert_int_equal(ppx_log_check_dir(&r, empty, NULL), PPX_ENOTFOUND);
	tmpdir_remove(empty);
}

/* ---- the indexes against the entries ---------------------------------- */

/* Writes (or with `del`, removes) key -> val in the log's database `db`
 * directly, as a broken disk or an attacker might. */
static void tamper(struct fx *f, const char *db, int del, const void *key,
		   size_t klen, const void *val, size_t vlen)
{
	MDB_val k = {klen, (void *)key}, v = {vlen, (void *)val};
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;

	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 8), 0);
	assert_int_equal(mdb_env_open(env, f->dir, 0, 0600), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, db, 0, &dbi), 0);
	if (del)
		assert_int_equal(mdb_del(txn, dbi, &k, &v), 0);
	else
		assert_int_equal(mdb_put(txn, dbi, &k, &v, 0), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
}

/* The verdict of the check in a child, which must be "differs". */
static ppx_verify_report differing(struct fx *f)
{
	ppx_verify_report r;

	assert_int_equal(ppx_log_check_dir(&r, f->dir, f->trust), 0);
	assert_false(r.ok);
	assert_int_equal(r.code, PPX_ECORRUPT);
	return r;
}

static const uint8_t seq0[8], seq1[8] = {0, 0, 0, 0, 0, 0, 0, 1};
static const char pnc[] = "pnc:2019/0123456X";

/* An index key in run 0, the young run of a new log (PROTOCOL.md 6.2):
 * the run number, 4 bytes, then the key.  Returns its length. */
static size_t run0(uint8_t *out, const void *key, size_t len)
{
	memset(out, 0, 4);
	memcpy(out + 4, key, len);
	return 4 + len;
}

/* Entry 0 (a message sent) loses its record in the subjects index: the
 * subject's history would silently lack it. */
static void test_checkpoint__missing_subject_record_is_found(void **state)
{
	struct fx *f = *state;
	ppx_verify_report r;

	uint8_t key[64];

	tamper(f, "subjects", 1, key, run0(key, pnc, strlen(pnc)), seq0, 8);
	r = differing(f);
	assert_int_equal(r.first_bad, 0);
	assert_non_null(strstr(r.reason, "subjects index"));
}

/* A record no entry implies: a message id that would list entry 1. */
static void test_checkpoint__extra_ids_record_is_found(void **state)
{
	struct fx *f = *state;
	ppx_verify_report r;
	uint8_t key[64];

	tamper(f, "ids", 0, key, run0(key, "0123456789abcdef", 16), seq1, 8);
	r = differing(f);
	assert_int_equal(r.first_bad, ENTRIES);
	assert_non_null(strstr(r.reason, "the ids index holds"));
	assert_non_null(strstr(r.reason, "records; the entries imply"));
}

/* A record of a run the list of runs does not name (here a key of format
 * 1, whose first 4 bytes read as run 0x30313233). */
static void test_checkpoint__record_of_unknown_run_is_found(void **state)
{
	struct fx *f = *state;
	ppx_verify_report r;

	tamper(f, "ids", 0, "0123456789abcdef", 16, seq1, 8);
	r = differing(f);
	assert_int_equal(r.first_bad, ENTRIES);
	assert_non_null(strstr(r.reason, "run 808530483 that its list of "
				       "runs does not name"));
}

/* The dedupe record of entry 0 names entry 1: a new message could be
 * taken for a duplicate, or a duplicate for new. */
static void test_checkpoint__changed_dedupe_record_is_found(void **state)
{
	struct fx *f = *state;
	ppx_log_options ro = {.flags = PPX_LOG_READONLY};
	Ppx__V1__LogEntry *e = NULL;
	uint8_t key[64];
	ppx_verify_report r;
	ppx_log *log = NULL;

	assert_int_equal(ppx_log_open(&log, f->dir, &ro), 0);
	assert_int_equal(ppx_log_get(log, 0, &e), 0);
	ppx_log_close(log);
	assert_true(e->message_id.len + 6 <= sizeof(key));
	assert_true(!e->peer_agency || !*e->peer_agency);
	memset(key, 0, 4);		/* run 0 || */
	key[4] = (uint8_t)e->kind;	/* kind || peer "" || 0 || id */
	key[5] = 0;
	memcpy(key + 6, e->message_id.data, e->message_id.len);
	tamper(f, "dedupe", 0, key, 6 + e->message_id.len, seq1, 8);
	ppx__v1__log_entry__free_unpacked(e, NULL);
	r = differing(f);
	assert_int_equal(r.first_bad, 0);
	assert_non_null(strstr(r.reason, "dedupe index"));
}

/* The outbox key of (partner, seq): partner || 0x00 || seq, big-endian. */
static size_t outbox_key(uint8_t *key, const char *partner, uint8_t seq)
{
	size_t n = strlen(partner);

	memcpy(key, partner, n + 1);
	memset(key + n + 1, 0, 8);
	key[n + 8] = seq;
	return n + 9;
}

/* Entry 0, sent to probation.gwent and not receipted, loses its outbox
 * record: it would never be resent. */
static void test_checkpoint__missing_outbox_record_is_found(void **state)
{
	struct fx *f = *state;
	uint8_t key[64];
	ppx_verify_report r;

	tamper(f, "outbox", 1, key, outbox_key(key, "probation.gwent", 0), "",
	       0);
	r = differing(f);
	assert_int_equal(r.first_bad, 0);
	assert_non_null(strstr(r.reason, "outbox lacks"));
}

/* An outbox record no entry implies: a message resent for ever. */
static void test_checkpoint__extra_outbox_record_is_found(void **state)
{
	struct fx *f = *state;
	uint8_t key[64];
	ppx_verify_report r;

	tamper(f, "outbox", 0, key, outbox_key(key, "prison.cardiff", 1), "",
	       0);
	r = differing(f);
	assert_int_equal(r.first_bad, ENTRIES);
	assert_non_null(strstr(r.reason, "the outbox holds"));
}

/* A receipt from probation.gwent for entry 0, logged with the removal of
 * its outbox record as the daemon does, settles it: the log checks out. */
static void test_checkpoint__receipted_message_leaves_the_outbox(void **state)
{
	struct fx *f = *state;
	Ppx__V1__LogEntry *sent = NULL;
	Ppx__V1__LogEntry rr = PPX__V1__LOG_ENTRY__INIT;
	uint8_t receipt_id[PPX_MESSAGE_ID_LEN] = {7};
	ppx_log_batch *b = NULL;
	ppx_verify_report r;
	ppx_log *log = NULL;
	uint64_t seq;

	assert_int_equal(ppx_log_open(&log, f->dir, NULL), 0);
	assert_int_equal(ppx_log_get(log, 0, &sent), 0);
	rr.kind = PPX__V1__ENTRY_KIND__ENTRY_RECEIPT_RECEIVED;
	rr.peer_agency = "probation.gwent";
	rr.message_id.data = receipt_id;
	rr.message_id.len = sizeof(receipt_id);
	rr.related_ids = &sent->message_id;
	rr.n_related_ids = 1;
	assert_int_equal(ppx_log_begin(&b, log), 0);
	assert_int_equal(ppx_log_append(b, &rr, &seq), 0);
	assert_int_equal(ppx_log_outbox_del(b, "probation.gwent", 0), 0);
	assert_int_equal(ppx_log_commit(b), 0);
	ppx__v1__log_entry__free_unpacked(sent, NULL);
	ppx_log_close(log);
	assert_int_equal(ppx_log_check_dir(&r, f->dir, NULL), 0);
	assert_true(r.ok);
	assert_int_equal(r.entries, ENTRIES + 1);
}

/* ---- the check seal ------------------------------------------------------ */

static ppx_verify_report sealed_check(struct fx *f)
{
	ppx_verify_report r;

	assert_int_equal(ppx_log_check_dir_mode(&r, f->dir, NULL,
						PPX_CHECK_SEALED), 0);
	return r;
}

static void set_seal(struct fx *f, uint64_t seq)
{
	uint8_t v[8];

	for (int i = 7; i >= 0; i--, seq >>= 8)
		v[i] = (uint8_t)seq;
	tamper(f, "meta", 0, "check/seal", 10, v, sizeof(v));
}

/* Every checkpoint moves the seal; the start-up check reads from it. */
static void test_checkpoint__sealed_check_starts_at_the_newest_checkpoint(
	void **state)
{
	struct fx *f = *state;
	ppx_log_options ro = {.flags = PPX_LOG_READONLY};
	ppx_log *log = NULL;
	ppx_verify_report r;
	uint64_t seal = 0;

	assert_int_equal(ppx_log_open(&log, f->dir, &ro), 0);
	assert_int_equal(ppx_log_seal(log, &seal), 0);
	ppx_log_close(log);
	assert_int_equal(seal, ENTRIES - 1);
	r = sealed_check(f);
	assert_true(r.ok);
	assert_int_equal(r.from, ENTRIES - 1);
	assert_int_equal(r.entries, 1);
	assert_int_equal(r.checkpoints, 1);	/* its root, unsigned */
	/* An earlier checkpoint is a seal too: more to read, same verdict. */
	set_seal(f, 2);
	r = sealed_check(f);
	assert_true(r.ok);
	assert_int_equal(r.from, 2);
	assert_int_equal(r.entries, ENTRIES - 2);
}

/* A log written before the seal existed has none: checked whole. */
static void test_checkpoint__log_without_seal_is_checked_whole(void **state)
{
	struct fx *f = *state;
	ppx_verify_report r;

	tamper(f, "meta", 1, "check/seal", 10, NULL, 0);
	r = sealed_check(f);
	assert_true(r.ok);
	assert_int_equal(r.from, 0);
	assert_int_equal(r.entries, ENTRIES);
}

/* A seal moved onto an entry that is not a checkpoint, or past the end,
 * is refused: it cannot make the start skip what it should read. */
static void test_checkpoint__tampered_seal_is_refused(void **state)
{
	struct fx *f = *state;
	ppx_verify_report r;

	set_seal(f, 4);		/* a note */
	r = sealed_check(f);
	assert_false(r.ok);
	assert_int_equal(r.first_bad, 4);
	assert_non_null(strstr(r.reason, "not a checkpoint"));
	set_seal(f, ENTRIES + 10);
	r = sealed_check(f);
	assert_false(r.ok);
	assert_non_null(strstr(r.reason, "past the end"));
	tamper(f, "meta", 0, "check/seal", 10, "short", 5);
	assert_int_equal(ppx_log_check_dir_mode(&r, f->dir, NULL,
						PPX_CHECK_SEALED),
			 PPX_ECORRUPT);
}

/* The stored leaf before the seal is the chain's link to it: changed,
 * the sealed check names the seal's entry. */
static void test_checkpoint__leaf_before_the_seal_is_checked(void **state)
{
	struct fx *f = *state;
	uint8_t key[8], junk[32];
	ppx_verify_report r;
	uint64_t m = (uint64_t)(ENTRIES - 2) + 1;
	/* post-order number of leaf ENTRIES-2 (logstore_int.h) */
	uint64_t n = 2 * m - (uint64_t)__builtin_popcountll(m) - 1 -
		     (uint64_t)__builtin_ctzll(m);

	for (int i = 7; i >= 0; i--, n >>= 8)
		key[i] = (uint8_t)n;
	memset(junk, 0xa5, sizeof(junk));
	tamper(f, "tree", 0, key, sizeof(key), junk, sizeof(junk));
	r = sealed_check(f);
	assert_false(r.ok);
	assert_int_equal(r.first_bad, ENTRIES - 1);
}

/* An entry before the seal replaced: the start-up check does not read it
 * (that is what makes it fast); the full check does, naming it. */
static void test_checkpoint__damage_before_the_seal_is_the_full_checks(
	void **state)
{
	struct fx *f = *state;
	ppx_verify_report r;

	tamper(f, "log", 0, seq0, sizeof(seq0), "not an entry", 12);
	r = sealed_check(f);
	assert_true(r.ok);
	assert_int_equal(ppx_log_check_dir(&r, f->dir, NULL), 0);
	assert_false(r.ok);
	assert_int_equal(r.first_bad, 0);
}

/* The background check: spawned, polled until done, the same verdicts. */
static void test_checkpoint__spawned_check_reports_its_verdict(void **state)
{
	struct fx *f = *state;
	ppx_log_check_job job;
	ppx_verify_report r;
	int done = 0;

	assert_int_equal(ppx_log_check_spawn(&job, f->dir), 0);
	for (int i = 0; i < 3000 && !done; i++) {
		assert_int_equal(ppx_log_check_poll(&job, &r, &done), 0);
		if (!done)
			usleep(10000);
	}
	assert_true(done);
	assert_true(r.ok);
	assert_int_equal(r.entries, ENTRIES);
	tamper(f, "log", 0, seq0, sizeof(seq0), "not an entry", 12);
	assert_int_equal(ppx_log_check_spawn(&job, f->dir), 0);
	done = 0;
	for (int i = 0; i < 3000 && !done; i++) {
		assert_int_equal(ppx_log_check_poll(&job, &r, &done), 0);
		if (!done)
			usleep(10000);
	}
	assert_true(done);
	assert_false(r.ok);
	assert_int_equal(r.first_bad, 0);
	/* A check cancelled while it runs leaves nothing behind. */
	assert_int_equal(ppx_log_check_spawn(&job, f->dir), 0);
	ppx_log_check_cancel(&job);
	assert_int_equal(job.pid, 0);
	assert_int_equal(job.fd, -1);
}

/* A background check killed from outside (the OOM killer, an operator)
 * has no verdict: an error, but not "damaged". */
static void test_checkpoint__killed_check_is_no_verdict(void **state)
{
	struct fx *f = *state;
	ppx_log_check_job job;
	ppx_verify_report r;
	int done = 0, rc = 0;

	assert_int_equal(ppx_log_check_spawn(&job, f->dir), 0);
	assert_int_equal(kill(job.pid, SIGKILL), 0);
	for (int i = 0; i < 3000 && !done; i++) {
		rc = ppx_log_check_poll(&job, &r, &done);
		if (!done)
			usleep(10000);
	}
	assert_true(done);
	assert_int_equal(rc, PPX_EIO);
	assert_non_null(strstr(ppx_error_last(), "was stopped"));
}

/* ppx verify on several threads: the same report as on one. */
static void test_checkpoint__verify_jobs_gives_the_same_report(void **state)
{
	struct fx *f = *state;
	ppx_log_options ro = {.flags = PPX_LOG_READONLY};
	const ppx_trust *trusts[3] = {f->trust, trust_demo(), trust_demo()};
	ppx_verify_report one, three;
	ppx_log *log = NULL;

	assert_int_equal(ppx_log_open(&log, f->dir, &ro), 0);
	assert_int_equal(ppx_log_verify(&one, log, f->trust), 0);
	assert_int_equal(ppx_log_verify_jobs(&three, log, trusts, 3), 0);
	ppx_log_close(log);
	assert_true(one.ok);
	assert_memory_equal(&one, &three, sizeof(one));
	ppx_trust_free((ppx_trust *)trusts[1]);
	ppx_trust_free((ppx_trust *)trusts[2]);
}

/* The police certificate under another CA: its signatures do not verify. */
static ppx_trust *trust_rogue(void)
{
	ppx_trust *t = NULL;
	char ca[2048], crl[2048];

	snprintf(ca, sizeof(ca), "%s", pki_path("test/rogue-ca/ca.crt"));
	snprintf(crl, sizeof(crl), "%s", pki_path("test/rogue-ca/crl.pem"));
	if (ppx_trust_load(&t, ca, crl, pki_path("certs")) != 0)
		fail_msg("cannot load the rogue trust: %s", ppx_error_last());
	return t;
}

/* A bad signature at entry 0 and entry 3's record gone: every number of
 * jobs names entry 0, as one job does, not the later read error. */
static void test_checkpoint__verify_jobs_bad_signature_before_a_read_error(
	void **state)
{
	struct fx *f = *state;
	ppx_log_options ro = {.flags = PPX_LOG_READONLY};
	const uint8_t seq3[9] = {0, 0, 0, 0, 0, 0, 0, 3, 0};
	const ppx_trust *trusts[3] = {trust_rogue(), trust_rogue(),
				      trust_rogue()};
	ppx_verify_report one, three;
	ppx_log *log = NULL;

	/* entry 3's record under a 9-byte key: the count still fits, but
	 * reading in order finds no entry 3 */
	tamper(f, "log", 1, seq3, 8, NULL, 0);
	tamper(f, "log", 0, seq3, sizeof(seq3), "not an entry", 12);
	assert_int_equal(ppx_log_open(&log, f->dir, &ro), 0);
	assert_int_equal(ppx_log_verify(&one, log, trusts[0]), 0);
	assert_false(one.ok);
	assert_int_equal(one.first_bad, 0);
	assert_int_equal(ppx_log_verify_jobs(&three, log, trusts, 3), 0);
	ppx_log_close(log);
	assert_false(three.ok);
	assert_int_equal(three.first_bad, 0);
	assert_string_equal(one.reason, three.reason);
	for (int i = 0; i < 3; i++)
		ppx_trust_free((ppx_trust *)trusts[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
		T(test_checkpoint__untouched_log_verifies),
		T(test_checkpoint__checkpoint_in_a_batch_covers_its_entries),
		T(test_checkpoint__signed_checkpoint_opens),
		T(test_checkpoint__any_changed_byte_names_its_entry),
		T(test_checkpoint__truncated_file_is_refused_at_open),
		T(test_checkpoint__check_dir_verifies_an_untouched_log),
		T(test_checkpoint__check_dir_names_a_changed_entry),
		T(test_checkpoint__check_dir_of_no_log_is_not_found),
		T(test_checkpoint__missing_subject_record_is_found),
		T(test_checkpoint__extra_ids_record_is_found),
		T(test_checkpoint__changed_dedupe_record_is_found),
		T(test_checkpoint__record_of_unknown_run_is_found),
		T(test_checkpoint__missing_outbox_record_is_found),
		T(test_checkpoint__extra_outbox_record_is_found),
		T(test_checkpoint__receipted_message_leaves_the_outbox),
		T(test_checkpoint__sealed_check_starts_at_the_newest_checkpoint),
		T(test_checkpoint__log_without_seal_is_checked_whole),
		T(test_checkpoint__tampered_seal_is_refused),
		T(test_checkpoint__leaf_before_the_seal_is_checked),
		T(test_checkpoint__damage_before_the_seal_is_the_full_checks),
		T(test_checkpoint__spawned_check_reports_its_verdict),
		T(test_checkpoint__verify_jobs_gives_the_same_report),
		T(test_checkpoint__killed_check_is_no_verdict),
		T(test_checkpoint__verify_jobs_bad_signature_before_a_read_error),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
