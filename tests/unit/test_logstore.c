/*
 * test_logstore.c — the LMDB log: sequence and hash chain, durability
 * across reopen, group commit, abort, duplicate detection, indexes, the
 * outbox, Merkle proofs over the stored tree, map growth and its limit,
 * read-only use, refusal of damaged files, and iteration.
 *
 * Each test opens a log in its own mkdtemp directory under /tmp, removed
 * afterwards.  Roots are checked against a naive recomputation from the
 * stored entry bytes, so the stored tree is tested against the entries.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <lmdb.h>

#include "ppx/error.h"
#include "ppx/logstore.h"
#include "support.h"
#include "ppx/merkle.h"

#define KIND(k) PPX__V1__ENTRY_KIND__ENTRY_##k

struct fx {
	char *root;		/* from tmpdir_new() */
	char dir[128];		/* root/log, created by ppx_log_open */
	ppx_log *log;
};

/* ---- fixture ---------------------------------------------------------- */

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->root = tmpdir_new();
	snprintf(f->dir, sizeof(f->dir), "%s/log", f->root);
	assert_int_equal(ppx_log_open(&f->log, f->dir, NULL), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	ppx_log_close(f->log);
	tmpdir_remove(f->root);
	free(f);
	return 0;
}

static void reopen(struct fx *f, const ppx_log_options *opts)
{
	ppx_log_close(f->log);
	f->log = NULL;
	assert_int_equal(ppx_log_open(&f->log, f->dir, opts), 0);
}

/* Starts again with a new, empty log opened with opts. */
static void recreate(struct fx *f, const ppx_log_options *opts)
{
	ppx_log_close(f->log);
	f->log = NULL;
	tmpdir_clear(f->dir);
	assert_int_equal(ppx_log_open(&f->log, f->dir, opts), 0);
}

/* ---- entries ---------------------------------------------------------- */

static Ppx__V1__LogEntry entry_of(int kind, const char *peer, const char *id,
				  const char *data)
{
	Ppx__V1__LogEntry e = PPX__V1__LOG_ENTRY__INIT;

	e.kind = kind;
	e.person = (char *)"officer.7";
	if (peer)
		e.peer_agency = (char *)peer;
	if (id) {
		e.message_id.data = (uint8_t *)id;
		e.message_id.len = strlen(id);
	}
	if (data) {
		e.data.data = (uint8_t *)data;
		e.data.len = strlen(data);
	}
	return e;
}

static uint64_t append_note(ppx_log *log, const char *text)
{
	Ppx__V1__LogEntry e = entry_of(KIND(NOTE), NULL, NULL, text);
	uint64_t seq = UINT64_MAX;

	assert_int_equal(ppx_log_append_one(log, &e, &seq), 0);
	return seq;
}

static void append_notes(ppx_log *log, int n)
{
	char text[32];

	for (int i = 0; i < n; i++) {
		snprintf(text, sizeof(text), "note %d", i);
		append_note(log, text);
	}
}

static void raw_leaf(ppx_log *log, uint64_t seq, ppx_hash out)
{
	uint8_t *raw;
	size_t len;

	assert_int_equal(ppx_log_get_raw(log, seq, &raw, &len), 0);
	ppx_merkle_leaf(out, raw, len);
	free(raw);
}

/* ---- a naive root from the stored entry bytes ------------------------ */

static void naive_mth(ppx_hash out, const ppx_hash *d, uint64_t n)
{
	ppx_hash l, r;
	uint64_t k = 1;

	if (n == 1) {
		memcpy(out, d[0], sizeof(ppx_hash));
		return;
	}
	while (k * 2 < n)
		k *= 2;
	naive_mth(l, d, k);
	naive_mth(r, d + k, n - k);
	ppx_merkle_node(out, l, r);
}

static void naive_root(ppx_log *log, uint64_t n, ppx_hash out)
{
	ppx_hash *d;

	if (n == 0) {
		ppx_merkle_empty(out);
		return;
	}
	d = malloc(n * sizeof(*d));
	assert_non_null(d);
	for (uint64_t i = 0; i < n; i++)
		raw_leaf(log, i, d[i]);
	naive_mth(out, d, n);
	free(d);
}

static void assert_root_is_naive(ppx_log *log)
{
	ppx_hash stored, naive;
	uint64_t n = ppx_log_size(log);

	assert_int_equal(ppx_log_root(log, n, stored), 0);
	naive_root(log, n, naive);
	assert_memory_equal(stored, naive, sizeof(naive));
}

/* Entry n's prev_hash is the leaf hash of entry n - 1 (zeros for 0). */
static void assert_chain(ppx_log *log)
{
	ppx_hash prev = {0}, leaf;
	Ppx__V1__LogEntry *e;

	for (uint64_t i = 0; i < ppx_log_size(log); i++) {
		assert_int_equal(ppx_log_get(log, i, &e), 0);
		assert_int_equal(e->seq, i);
		assert_int_equal(e->prev_hash.len, sizeof(ppx_hash));
		assert_memory_equal(e->prev_hash.data, prev, sizeof(prev));
		ppx__v1__log_entry__free_unpacked(e, NULL);
		raw_leaf(log, i, prev);
		assert_int_equal(ppx_log_leaf(log, i, leaf), 0);
		assert_memory_equal(leaf, prev, sizeof(leaf));
	}
	ppx_log_head(log, leaf);
	assert_memory_equal(leaf, prev, sizeof(leaf));
}

/* ---- sequence, chain, durability ------------------------------------- */

static void test_logstore__append_assigns_sequence_and_chain(void **state)
{
	struct fx *f = *state;
	ppx_hash zero = {0}, head;

	assert_int_equal(ppx_log_size(f->log), 0);
	ppx_log_head(f->log, head);
	assert_memory_equal(head, zero, sizeof(zero));
	for (uint64_t i = 0; i < 10; i++)
		assert_int_equal(append_note(f->log, "hello"), i);
	assert_int_equal(ppx_log_size(f->log), 10);
	assert_chain(f->log);
	assert_root_is_naive(f->log);
}

static void test_logstore__get_returns_what_was_appended(void **state)
{
	struct fx *f = *state;
	char *keys[] = {(char *)"pnc:01/234567X", (char *)"crn:X123456"};
	Ppx__V1__LogEntry e = entry_of(KIND(RECEIVED), "police.gwent",
				       "0123456789abcdef", "envelope bytes");
	Ppx__V1__LogEntry *got;
	uint8_t *id = e.message_id.data;
	uint64_t seq;

	e.subject_keys = keys;
	e.n_subject_keys = 2;
	e.detail = (char *)"detail";
	assert_int_equal(ppx_log_append_one(f->log, &e, &seq), 0);
	assert_int_equal(seq, 0);
	/* Only seq, prev_hash and time_ms are filled in. */
	assert_int_equal(e.seq, 0);
	assert_true(e.time_ms > 1700000000000);
	assert_ptr_equal(e.message_id.data, id);
	assert_int_equal(ppx_log_get(f->log, 0, &got), 0);
	assert_int_equal(got->kind, KIND(RECEIVED));
	assert_string_equal(got->person, "officer.7");
	assert_string_equal(got->peer_agency, "police.gwent");
	assert_string_equal(got->detail, "detail");
	assert_int_equal(got->time_ms, e.time_ms);
	assert_int_equal(got->message_id.len, 16);
	assert_memory_equal(got->message_id.data, "0123456789abcdef", 16);
	assert_int_equal(got->data.len, 14);
	assert_memory_equal(got->data.data, "envelope bytes", 14);
	assert_int_equal(got->n_subject_keys, 2);
	assert_string_equal(got->subject_keys[1], "crn:X123456");
	ppx__v1__log_entry__free_unpacked(got, NULL);
	/* A time given by the caller is kept. */
	e = entry_of(KIND(NOTE), NULL, NULL, "x");
	e.time_ms = 42;
	assert_int_equal(ppx_log_append_one(f->log, &e, &seq), 0);
	assert_int_equal(ppx_log_get(f->log, seq, &got), 0);
	assert_int_equal(got->time_ms, 42);
	ppx__v1__log_entry__free_unpacked(got, NULL);
	assert_int_equal(ppx_log_get(f->log, 2, &got), PPX_ENOTFOUND);
	assert_null(got);
}

static void test_logstore__survives_close_and_reopen(void **state)
{
	struct fx *f = *state;
	ppx_hash head, root, head2, root2, leaf9;
	Ppx__V1__LogEntry *e;

	append_notes(f->log, 10);
	ppx_log_head(f->log, head);
	assert_int_equal(ppx_log_root(f->log, 10, root), 0);
	reopen(f, NULL);
	assert_int_equal(ppx_log_size(f->log), 10);
	ppx_log_head(f->log, head2);
	assert_memory_equal(head, head2, sizeof(head));
	assert_int_equal(ppx_log_root(f->log, 10, root2), 0);
	assert_memory_equal(root, root2, sizeof(root));
	assert_int_equal(append_note(f->log, "after reopen"), 10);
	assert_int_equal(ppx_log_get(f->log, 10, &e), 0);
	raw_leaf(f->log, 9, leaf9);
	assert_memory_equal(e->prev_hash.data, leaf9, sizeof(leaf9));
	ppx__v1__log_entry__free_unpacked(e, NULL);
	assert_chain(f->log);
	assert_root_is_naive(f->log);
}

static void test_logstore__new_log_is_private_to_its_owner(void **state)
{
	struct fx *f = *state;
	char path[160];
	struct stat st;

	assert_int_equal(stat(f->dir, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	snprintf(path, sizeof(path), "%s/data.mdb", f->dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0077, 0);
}

static void test_logstore__group_commit_of_1000_entries(void **state)
{
	struct fx *f = *state;
	ppx_log_batch *b;
	char text[32];
	uint64_t seq;

	append_note(f->log, "before");
	assert_int_equal(ppx_log_begin(&b, f->log), 0);
	for (int i = 0; i < 1000; i++) {
		Ppx__V1__LogEntry e;

		snprintf(text, sizeof(text), "batched %d", i);
		e = entry_of(KIND(NOTE), NULL, NULL, text);
		assert_int_equal(ppx_log_append(b, &e, &seq), 0);
		assert_int_equal(seq, 1 + (uint64_t)i);
	}
	/* Nothing is visible to the log's size before the commit. */
	assert_int_equal(ppx_log_size(f->log), 1);
	assert_int_equal(ppx_log_commit(b), 0);
	assert_int_equal(ppx_log_size(f->log), 1001);
	assert_chain(f->log);
	assert_root_is_naive(f->log);
}

static void test_logstore__abort_leaves_nothing(void **state)
{
	struct fx *f = *state;
	ppx_hash head, head2, root, root2;
	ppx_log_batch *b;
	uint8_t *raw;
	size_t len;
	uint64_t seq;

	append_notes(f->log, 3);
	ppx_log_head(f->log, head);
	assert_int_equal(ppx_log_root(f->log, 3, root), 0);
	assert_int_equal(ppx_log_begin(&b, f->log), 0);
	for (int i = 0; i < 5; i++) {
		Ppx__V1__LogEntry e = entry_of(KIND(NOTE), NULL, NULL, "gone");

		assert_int_equal(ppx_log_append(b, &e, &seq), 0);
	}
	ppx_log_abort(b);
	assert_int_equal(ppx_log_size(f->log), 3);
	ppx_log_head(f->log, head2);
	assert_memory_equal(head, head2, sizeof(head));
	assert_int_equal(ppx_log_get_raw(f->log, 3, &raw, &len),
			 PPX_ENOTFOUND);
	assert_int_equal(append_note(f->log, "next"), 3);
	assert_int_equal(ppx_log_root(f->log, 3, root2), 0);
	assert_memory_equal(root, root2, sizeof(root));
	assert_chain(f->log);
	/* Closing with a batch open aborts it. */
	assert_int_equal(ppx_log_begin(&b, f->log), 0);
	reopen(f, NULL);
	assert_int_equal(ppx_log_size(f->log), 4);
}

static void test_logstore__one_batch_at_a_time(void **state)
{
	struct fx *f = *state;
	ppx_log_batch *b, *b2 = (ppx_log_batch *)1;

	assert_int_equal(ppx_log_begin(&b, f->log), 0);
	assert_int_equal(ppx_log_begin(&b2, f->log), PPX_EINVAL);
	assert_null(b2);
	assert_int_equal(ppx_log_commit(b), 0);
	assert_int_equal(ppx_log_size(f->log), 0);
	assert_int_equal(ppx_log_begin(&b2, f->log), 0);
	ppx_log_abort(b2);
}

static void test_logstore__reads_in_a_batch_see_its_entries(void **state)
{
	struct fx *f = *state;
	Ppx__V1__LogEntry e = entry_of(KIND(NOTE), NULL, NULL, "uncommitted");
	Ppx__V1__LogEntry *got;
	ppx_log_batch *b;
	ppx_hash root;
	uint64_t seq;

	append_notes(f->log, 2);
	assert_int_equal(ppx_log_begin(&b, f->log), 0);
	assert_int_equal(ppx_log_append(b, &e, &seq), 0);
	assert_int_equal(ppx_log_get(f->log, seq, &got), 0);
	assert_memory_equal(got->data.data, "uncommitted", 11);
	ppx__v1__log_entry__free_unpacked(got, NULL);
	/* Sizes and trees are those of committed entries. */
	assert_int_equal(ppx_log_size(f->log), 2);
	assert_int_equal(ppx_log_root(f->log, 2, root), 0);
	assert_int_equal(ppx_log_root(f->log, 3, root), PPX_ERANGE);
	assert_int_equal(ppx_log_commit(b), 0);
	assert_int_equal(ppx_log_root(f->log, 3, root), 0);
	assert_root_is_naive(f->log);
}

static void test_logstore__bad_index_key_is_refused_and_batch_goes_on(
	void **state)
{
	struct fx *f = *state;
	char *keys[] = {(char *)"pnc:1", (char *)""};
	Ppx__V1__LogEntry e = entry_of(KIND(NOTE), NULL, NULL, "x");
	ppx_log_batch *b;
	uint64_t seq;

	e.subject_keys = keys;
	e.n_subject_keys = 2;
	assert_int_equal(ppx_log_begin(&b, f->log), 0);
	assert_int_equal(ppx_log_append(b, &e, &seq), PPX_EINVAL);
	assert_true(strstr(ppx_error_last(), "subject key") != NULL);
	/* The caller's entry is left as it was. */
	assert_int_equal(e.seq, 0);
	assert_null(e.prev_hash.data);
	e.n_subject_keys = 1;
	assert_int_equal(ppx_log_append(b, &e, &seq), 0);
	assert_int_equal(ppx_log_commit(b), 0);
	assert_int_equal(ppx_log_size(f->log), 1);
}

/* ---- duplicates ------------------------------------------------------- */

static int append_msg(ppx_log *log, int kind, const char *peer,
		      const char *id, uint64_t *seq)
{
	Ppx__V1__LogEntry e = entry_of(kind, peer, id, "envelope");

	return ppx_log_append_one(log, &e, seq);
}

static void test_logstore__duplicate_is_refused_with_original_seq(
	void **state)
{
	struct fx *f = *state;
	Ppx__V1__LogEntry e = entry_of(KIND(RECEIVED), "police.gwent",
				       "msg-1", "again");
	uint64_t seq = 99;

	assert_int_equal(append_msg(f->log, KIND(RECEIVED), "police.gwent",
				    "msg-1", &seq), 0);
	assert_int_equal(seq, 0);
	append_notes(f->log, 2);
	seq = 99;
	assert_int_equal(ppx_log_append_one(f->log, &e, &seq), PPX_EDUP);
	assert_int_equal(seq, 0);
	assert_int_equal(ppx_log_size(f->log), 3);
	/* Nothing of the duplicate was written, not even into the entry. */
	assert_int_equal(e.seq, 0);
	assert_int_equal(e.time_ms, 0);
	assert_null(e.prev_hash.data);
	assert_int_equal(append_note(f->log, "next"), 3);
	assert_chain(f->log);
}

static void test_logstore__same_id_other_peer_or_kind_is_not_duplicate(
	void **state)
{
	struct fx *f = *state;
	uint64_t seq;

	assert_int_equal(append_msg(f->log, KIND(SENT), "police.gwent", "m",
				    &seq), 0);
	assert_int_equal(append_msg(f->log, KIND(SENT), "prison.cardiff",
				    "m", &seq), 0);
	assert_int_equal(seq, 1);
	assert_int_equal(append_msg(f->log, KIND(RECEIPT_RECEIVED),
				    "police.gwent", "m", &seq), 0);
	assert_int_equal(append_msg(f->log, KIND(RECEIVED), "police.gwent",
				    "m", &seq), 0);
	assert_int_equal(append_msg(f->log, KIND(RECEIPT_SENT),
				    "police.gwent", "m", &seq), 0);
	assert_int_equal(seq, 4);
	/* Kinds other than the four message kinds are never duplicates. */
	assert_int_equal(append_msg(f->log, KIND(ACKNOWLEDGED), "police.gwent",
				    "m", &seq), 0);
	assert_int_equal(append_msg(f->log, KIND(ACKNOWLEDGED), "police.gwent",
				    "m", &seq), 0);
	assert_int_equal(seq, 6);
	/* A peer name that is a prefix of another is another peer. */
	assert_int_equal(append_msg(f->log, KIND(SENT), "police", "m", &seq),
			 0);
	assert_int_equal(append_msg(f->log, KIND(SENT), "police.gwent", "m",
				    &seq), PPX_EDUP);
	assert_int_equal(seq, 0);
}

static void test_logstore__duplicate_within_one_batch_is_refused(
	void **state)
{
	struct fx *f = *state;
	Ppx__V1__LogEntry a = entry_of(KIND(RECEIVED), "police.gwent", "m1",
				       "first");
	Ppx__V1__LogEntry b = entry_of(KIND(RECEIVED), "police.gwent", "m1",
				       "second");
	Ppx__V1__LogEntry c = entry_of(KIND(RECEIVED), "police.gwent", "m2",
				       "third");
	ppx_log_batch *batch;
	uint64_t seq;

	append_note(f->log, "first of all");
	assert_int_equal(ppx_log_begin(&batch, f->log), 0);
	assert_int_equal(ppx_log_append(batch, &a, &seq), 0);
	assert_int_equal(seq, 1);
	assert_int_equal(ppx_log_append(batch, &b, &seq), PPX_EDUP);
	assert_int_equal(seq, 1);
	assert_int_equal(ppx_log_append(batch, &c, &seq), 0);
	assert_int_equal(seq, 2);
	assert_int_equal(ppx_log_commit(batch), 0);
	assert_int_equal(ppx_log_size(f->log), 3);
	assert_chain(f->log);
}

static void test_logstore__duplicate_detected_after_reopen(void **state)
{
	struct fx *f = *state;
	uint64_t seq;

	append_notes(f->log, 4);
	assert_int_equal(append_msg(f->log, KIND(SENT), "probation.gwent",
				    "abc", &seq), 0);
	assert_int_equal(seq, 4);
	reopen(f, NULL);
	seq = 0;
	assert_int_equal(append_msg(f->log, KIND(SENT), "probation.gwent",
				    "abc", &seq), PPX_EDUP);
	assert_int_equal(seq, 4);
	assert_int_equal(ppx_log_size(f->log), 5);
}

/* ---- indexes ---------------------------------------------------------- */

static void assert_seqs(uint64_t *seqs, size_t n, size_t want_n, ...)
{
	va_list ap;

	assert_int_equal(n, want_n);
	va_start(ap, want_n);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(seqs[i], va_arg(ap, int));
	va_end(ap);
	free(seqs);
}

/* Five entries: 0-2 about message id1 with police.gwent (SENT, its
 * receipt, an acknowledgement), 3 a note about subjects pnc:1 and crn:9,
 * 4 a message id2 received from prison.cardiff about pnc:1. */
static void append_indexed(ppx_log *log)
{
	char *k3[] = {(char *)"pnc:1", (char *)"crn:9"};
	char *k4[] = {(char *)"pnc:1"};
	Ppx__V1__LogEntry note = entry_of(KIND(NOTE), NULL, NULL, "about");
	Ppx__V1__LogEntry recv = entry_of(KIND(RECEIVED), "prison.cardiff",
					  "id2", "env");
	uint64_t seq;

	assert_int_equal(append_msg(log, KIND(SENT), "police.gwent", "id1",
				    &seq), 0);
	assert_int_equal(append_msg(log, KIND(RECEIPT_RECEIVED),
				    "police.gwent", "id1", &seq), 0);
	assert_int_equal(append_msg(log, KIND(ACKNOWLEDGED), "police.gwent",
				    "id1", &seq), 0);
	note.subject_keys = k3;
	note.n_subject_keys = 2;
	assert_int_equal(ppx_log_append_one(log, &note, &seq), 0);
	recv.subject_keys = k4;
	recv.n_subject_keys = 1;
	assert_int_equal(ppx_log_append_one(log, &recv, &seq), 0);
	assert_int_equal(seq, 4);
}

static void test_logstore__find_returns_entry_of_kind_and_peer(void **state)
{
	struct fx *f = *state;
	const uint8_t *id1 = (const uint8_t *)"id1";
	const char *gwent = "police.gwent";
	uint64_t seq;

	append_indexed(f->log);
	assert_int_equal(ppx_log_find(f->log, KIND(SENT), gwent, id1, 3, &seq),
			 0);
	assert_int_equal(seq, 0);
	assert_int_equal(ppx_log_find(f->log, KIND(RECEIPT_RECEIVED), gwent,
				      id1, 3, &seq), 0);
	assert_int_equal(seq, 1);
	/* Kinds outside the dedupe index are found through the ids index. */
	assert_int_equal(ppx_log_find(f->log, KIND(ACKNOWLEDGED), gwent, id1,
				      3, &seq), 0);
	assert_int_equal(seq, 2);
	assert_int_equal(ppx_log_find(f->log, KIND(SENT), "prison.cardiff",
				      id1, 3, &seq), PPX_ENOTFOUND);
	assert_int_equal(ppx_log_find(f->log, KIND(READ), gwent, id1, 3, &seq),
			 PPX_ENOTFOUND);
	assert_int_equal(ppx_log_find(f->log, KIND(SENT), gwent, id1, 0, &seq),
			 PPX_EINVAL);
}

/* A message id may be given by its first hex digits: each id under the
 * prefix once (even if several entries, of several senders, are about
 * it), an odd last digit matching the high nibble, other lengths skipped. */
static void test_logstore__ids_by_prefix_lists_each_matching_id_once(
	void **state)
{
	struct fx *f = *state;
	uint8_t ids[8][PPX_LOG_ID_LEN];
	const uint8_t pfx[] = {0x41, 0x42, 0x40};	/* "AB" and a 4 */
	uint64_t seq;
	size_t n;

	assert_int_equal(append_msg(f->log, KIND(RECEIVED), "probation.gwent",
				    "ABCDEFGHIJKLMNOP", &seq), 0);
	assert_int_equal(append_msg(f->log, KIND(RECEIVED), "prison.cardiff",
				    "ABCDEFGHIJKLMNOP", &seq), 0);
	assert_int_equal(append_msg(f->log, KIND(SENT), "",
				    "ABDDEFGHIJKLMNOP", &seq), 0);
	assert_int_equal(append_msg(f->log, KIND(SENT), "",
				    "ABZDEFGHIJKLMNOP", &seq), 0);
	assert_int_equal(append_msg(f->log, KIND(SENT), "", "AB1", &seq), 0);
	assert_int_equal(ppx_log_ids_by_prefix(f->log, pfx, 4, ids, 8, &n), 0);
	assert_int_equal(n, 3);
	assert_memory_equal(ids[0], "ABCDEFGHIJKLMNOP", 16);
	assert_memory_equal(ids[1], "ABDDEFGHIJKLMNOP", 16);
	assert_memory_equal(ids[2], "ABZDEFGHIJKLMNOP", 16);
	assert_int_equal(ppx_log_ids_by_prefix(f->log, pfx, 5, ids, 8, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(ppx_log_ids_by_prefix(f->log, pfx, 4, ids, 1, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(ppx_log_ids_by_prefix(f->log, (const uint8_t *)"Q",
					       2, ids, 8, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(ppx_log_ids_by_prefix(f->log, pfx, 0, ids, 8, &n),
			 PPX_EINVAL);
}

static void test_logstore__indexes_list_entries_by_message_and_subject(
	void **state)
{
	struct fx *f = *state;
	uint64_t *seqs;
	size_t n;

	append_indexed(f->log);
	assert_int_equal(ppx_log_by_message(f->log, (const uint8_t *)"id1", 3,
					    &seqs, &n, 100), 0);
	assert_seqs(seqs, n, 3, 0, 1, 2);
	assert_int_equal(ppx_log_by_message(f->log, (const uint8_t *)"id2", 3,
					    &seqs, &n, 100), 0);
	assert_seqs(seqs, n, 1, 4);
	assert_int_equal(ppx_log_by_message(f->log, (const uint8_t *)"nope", 4,
					    &seqs, &n, 100), 0);
	assert_null(seqs);
	assert_int_equal(n, 0);
	/* From an entry on: what followed it, however much came before. */
	assert_int_equal(ppx_log_by_message_from(f->log, (const uint8_t *)"id1",
						 3, 1, &seqs, &n, 100), 0);
	assert_seqs(seqs, n, 2, 1, 2);
	assert_int_equal(ppx_log_by_message_from(f->log, (const uint8_t *)"id1",
						 3, 2, &seqs, &n, 1), 0);
	assert_seqs(seqs, n, 1, 2);
	assert_int_equal(ppx_log_by_message_from(f->log, (const uint8_t *)"id1",
						 3, 3, &seqs, &n, 100), 0);
	assert_int_equal(n, 0);
	free(seqs);
	assert_int_equal(ppx_log_by_subject(f->log, "pnc:1", &seqs, &n, 100),
			 0);
	assert_seqs(seqs, n, 2, 3, 4);
	assert_int_equal(ppx_log_by_subject(f->log, "pnc:1", &seqs, &n, 1), 0);
	assert_seqs(seqs, n, 1, 3);
	assert_int_equal(ppx_log_by_subject(f->log, "crn:9", &seqs, &n, 100),
			 0);
	assert_seqs(seqs, n, 1, 3);
	assert_int_equal(ppx_log_by_subject(f->log, "", &seqs, &n, 100),
			 PPX_EINVAL);
}

/* ---- the outbox ------------------------------------------------------- */

static void assert_outbox(ppx_log *log, const char *partner, size_t want_n,
			  ...)
{
	uint64_t *seqs;
	size_t n;
	va_list ap;

	assert_int_equal(ppx_log_outbox_list(log, partner, &seqs, &n, 1000),
			 0);
	assert_int_equal(n, want_n);
	va_start(ap, want_n);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(seqs[i], va_arg(ap, int));
	va_end(ap);
	free(seqs);
}

/* A SENT entry waiting for each of `partners` (NULL-terminated). */
static uint64_t send_to(ppx_log *log, const char *id, const char **partners)
{
	Ppx__V1__LogEntry e = entry_of(KIND(SENT), "", id, "signed");
	ppx_log_batch *b;
	uint64_t seq;

	assert_int_equal(ppx_log_begin(&b, log), 0);
	assert_int_equal(ppx_log_append(b, &e, &seq), 0);
	for (; *partners; partners++)
		assert_int_equal(ppx_log_outbox_add(b, *partners, seq), 0);
	assert_int_equal(ppx_log_commit(b), 0);
	return seq;
}

static void test_logstore__outbox_keeps_pending_per_partner(void **state)
{
	struct fx *f = *state;
	const char *both[] = {"police.gwent", "prison.cardiff", NULL};
	const char *police[] = {"police.gwent", NULL};
	ppx_log_batch *b;
	uint64_t *seqs;
	size_t n;

	append_note(f->log, "not a message");
	assert_int_equal(send_to(f->log, "a", both), 1);
	assert_int_equal(send_to(f->log, "b", police), 2);
	assert_int_equal(send_to(f->log, "c", both), 3);
	assert_outbox(f->log, "police.gwent", 3, 1, 2, 3);
	assert_outbox(f->log, "prison.cardiff", 2, 1, 3);
	assert_outbox(f->log, "police", 0);
	assert_int_equal(ppx_log_outbox_list(f->log, "police.gwent", &seqs, &n,
					     2), 0);
	assert_seqs(seqs, n, 2, 1, 2);
	/* A receipt and the removal of its key commit together; removing a
	 * key twice, or one never added, changes nothing. */
	assert_int_equal(ppx_log_begin(&b, f->log), 0);
	assert_int_equal(ppx_log_outbox_del(b, "police.gwent", 2), 0);
	assert_int_equal(ppx_log_outbox_del(b, "police.gwent", 2), 0);
	assert_int_equal(ppx_log_outbox_del(b, "prison.cardiff", 2), 0);
	assert_int_equal(ppx_log_outbox_add(b, "police.gwent", 9), PPX_ERANGE);
	assert_int_equal(ppx_log_outbox_add(b, "", 1), PPX_EINVAL);
	assert_int_equal(ppx_log_commit(b), 0);
	reopen(f, NULL);
	assert_outbox(f->log, "police.gwent", 2, 1, 3);
	assert_outbox(f->log, "prison.cardiff", 2, 1, 3);
	/* An aborted batch changes no key. */
	assert_int_equal(ppx_log_begin(&b, f->log), 0);
	assert_int_equal(ppx_log_outbox_del(b, "prison.cardiff", 1), 0);
	ppx_log_abort(b);
	assert_outbox(f->log, "prison.cardiff", 2, 1, 3);
}

/* ---- Merkle proofs over the stored tree ------------------------------ */

static void test_logstore__inclusion_proofs_verify_for_every_index(
	void **state)
{
	struct fx *f = *state;
	ppx_hash path[PPX_MERKLE_MAX_PATH], root, leaf, naive;
	size_t len;

	append_notes(f->log, 37);
	for (uint64_t n = 1; n <= 37; n++) {
		assert_int_equal(ppx_log_root(f->log, n, root), 0);
		naive_root(f->log, n, naive);
		assert_memory_equal(root, naive, sizeof(root));
		for (uint64_t i = 0; i < n; i++) {
			raw_leaf(f->log, i, leaf);
			assert_int_equal(ppx_log_inclusion_proof(f->log, i, n,
					 path, &len), 0);
			assert_int_equal(ppx_merkle_verify_inclusion(leaf, i,
					 n, path, len, root), 0);
			if (len == 0)
				continue;
			path[i % len][i % 32] ^= 0x01;
			assert_int_equal(ppx_merkle_verify_inclusion(leaf, i,
					 n, path, len, root), PPX_EPROOF);
		}
	}
}

static void test_logstore__consistency_proofs_verify_for_every_pair(
	void **state)
{
	struct fx *f = *state;
	ppx_hash path[PPX_MERKLE_MAX_PATH], roots[38];
	size_t len;

	append_notes(f->log, 37);
	for (uint64_t n = 0; n <= 37; n++)
		assert_int_equal(ppx_log_root(f->log, n, roots[n]), 0);
	for (uint64_t n = 0; n <= 37; n++) {
		for (uint64_t m = 0; m <= n; m++) {
			assert_int_equal(ppx_log_consistency_proof(f->log, m,
					 n, path, &len), 0);
			assert_int_equal(ppx_merkle_verify_consistency(m, n,
					 roots[m], roots[n], path, len), 0);
			if (len == 0)
				continue;
			path[m % len][n % 32] ^= 0x80;
			assert_int_equal(ppx_merkle_verify_consistency(m, n,
					 roots[m], roots[n], path, len),
					 PPX_EPROOF);
		}
	}
}

static void test_logstore__proofs_beyond_the_log_are_out_of_range(
	void **state)
{
	struct fx *f = *state;
	ppx_hash path[PPX_MERKLE_MAX_PATH], h;
	size_t len;

	append_notes(f->log, 37);
	assert_int_equal(ppx_log_root(f->log, 38, h), PPX_ERANGE);
	assert_int_equal(ppx_log_leaf(f->log, 37, h), PPX_ERANGE);
	assert_int_equal(ppx_log_inclusion_proof(f->log, 37, 37, path, &len),
			 PPX_ERANGE);
	assert_int_equal(ppx_log_inclusion_proof(f->log, 3, 38, path, &len),
			 PPX_ERANGE);
	assert_int_equal(ppx_log_consistency_proof(f->log, 5, 38, path, &len),
			 PPX_ERANGE);
	assert_int_equal(ppx_log_consistency_proof(f->log, 6, 5, path, &len),
			 PPX_ERANGE);
	assert_true(strstr(ppx_error_last(), "5") != NULL);
}

/* ---- map growth and its limit ---------------------------------------- */

/* Appends n entries of 2 KiB in batches of `group`, each with an outbox
 * key for police.gwent; the first failure's code, or 0. */
static int append_big(ppx_log *log, int n, int group)
{
	static char data[2049];
	ppx_log_batch *b;
	uint64_t seq;
	int rc = 0;

	memset(data, 'x', sizeof(data) - 1);
	for (int i = 0; i < n && rc == 0; i += group) {
		if ((rc = ppx_log_begin(&b, log)) != 0)
			return rc;
		for (int j = i; j < i + group && j < n && rc == 0; j++) {
			Ppx__V1__LogEntry e = entry_of(KIND(NOTE), NULL, NULL,
						       data);

			rc = ppx_log_append(b, &e, &seq);
			if (rc == 0)
				rc = ppx_log_outbox_add(b, "police.gwent", seq);
		}
		if (rc == 0)
			rc = ppx_log_commit(b);
		else
			ppx_log_abort(b);
	}
	return rc;
}

/* The outbox of police.gwent holds entries 0 .. n - 1. */
static void assert_outbox_holds_first(ppx_log *log, size_t n)
{
	uint64_t *seqs;
	size_t got;

	assert_int_equal(ppx_log_outbox_list(log, "police.gwent", &seqs, &got,
					     100000), 0);
	assert_int_equal(got, n);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(seqs[i], i);
	free(seqs);
}

static void test_logstore__map_grows_when_full(void **state)
{
	struct fx *f = *state;
	ppx_log_options o = {.map_size = 64 << 10};
	ppx_log_batch *b;

	recreate(f, &o);
	assert_int_equal(ppx_log_map_size(f->log), 64 << 10);
	assert_int_equal(append_big(f->log, 500, 50), 0);
	/* One batch that grows the map several times on its own. */
	assert_int_equal(append_big(f->log, 300, 300), 0);
	assert_int_equal(ppx_log_size(f->log), 800);
	assert_true(ppx_log_map_size(f->log) >= 800 * 2048);
	assert_root_is_naive(f->log);
	assert_chain(f->log);
	assert_outbox_holds_first(f->log, 800);
	/* The map keeps its size across reopen. */
	o.map_size = 0;
	reopen(f, &o);
	assert_true(ppx_log_map_size(f->log) >= 800 * 2048);
	assert_int_equal(ppx_log_begin(&b, f->log), 0);
	ppx_log_abort(b);
}

static void test_logstore__map_limit_refuses_batch_and_keeps_committed(
	void **state)
{
	struct fx *f = *state;
	ppx_log_options o = {.map_size = 64 << 10, .map_max = 256 << 10};
	ppx_hash head, head2, root, root2;

	recreate(f, &o);
	assert_int_equal(append_big(f->log, 40, 20), 0);
	ppx_log_head(f->log, head);
	assert_int_equal(ppx_log_root(f->log, 40, root), 0);
	assert_int_equal(append_big(f->log, 200, 200), PPX_EFULL);
	assert_true(strstr(ppx_error_last(), "full") != NULL);
	assert_int_equal(ppx_log_size(f->log), 40);
	ppx_log_head(f->log, head2);
	assert_memory_equal(head, head2, sizeof(head));
	assert_int_equal(ppx_log_root(f->log, 40, root2), 0);
	assert_memory_equal(root, root2, sizeof(root));
	assert_chain(f->log);
	assert_root_is_naive(f->log);
	assert_outbox_holds_first(f->log, 40);
	/* The log goes on taking what fits, and after reopen. */
	assert_int_equal(append_note(f->log, "small"), 40);
	reopen(f, &o);
	assert_int_equal(ppx_log_size(f->log), 41);
	assert_chain(f->log);
}

/* A cap set on a log that has already grown past it (log_max_mb lowered)
 * holds from the next open: the map shrinks to it. */
static void test_logstore__cap_lowered_later_holds(void **state)
{
	struct fx *f = *state;
	ppx_log_options o = {.map_max = 256 << 10};

	recreate(f, NULL);	/* the usual 64 MiB map */
	append_notes(f->log, 10);
	assert_true(ppx_log_map_size(f->log) > o.map_max);
	reopen(f, &o);
	assert_true(ppx_log_map_size(f->log) <= o.map_max);
	assert_int_equal(ppx_log_size(f->log), 10);
	assert_int_equal(append_big(f->log, 200, 200), PPX_EFULL);
	assert_int_equal(ppx_log_size(f->log), 10);
	assert_true(ppx_log_map_size(f->log) <= o.map_max);
}

static void test_logstore__failed_batch_refuses_appends_and_commit(
	void **state)
{
	struct fx *f = *state;
	ppx_log_options o = {.map_size = 64 << 10, .map_max = 64 << 10};
	Ppx__V1__LogEntry e = entry_of(KIND(NOTE), NULL, NULL, "x");
	ppx_log_batch *b;
	uint64_t seq;
	int rc = 0;

	recreate(f, &o);
	assert_int_equal(ppx_log_begin(&b, f->log), 0);
	for (int i = 0; i < 1000 && rc == 0; i++)
		rc = ppx_log_append(b, &e, &seq);
	assert_int_equal(rc, PPX_EFULL);
	/* The caller's entry is left as it was before the failed append. */
	assert_int_equal(e.seq, seq);
	assert_int_equal(ppx_log_append(b, &e, &seq), PPX_EFULL);
	assert_int_equal(ppx_log_commit(b), PPX_EFULL);
	assert_true(strstr(ppx_error_last(), "full") != NULL);
	assert_int_equal(ppx_log_size(f->log), 0);
	assert_int_equal(append_note(f->log, "fits"), 0);
}

/* ---- read-only use ---------------------------------------------------- */

static void test_logstore__read_only_open_reads_but_cannot_write(
	void **state)
{
	struct fx *f = *state;
	ppx_log_options ro = {.flags = PPX_LOG_READONLY};
	Ppx__V1__LogEntry e = entry_of(KIND(NOTE), NULL, NULL, "no");
	char *keys[] = {(char *)"pnc:1"};
	ppx_hash root, root2;
	ppx_log_batch *b = (ppx_log_batch *)1;
	uint64_t seq, *seqs;
	size_t n;

	append_notes(f->log, 10);
	assert_int_equal(append_msg(f->log, KIND(SENT), "police.gwent", "m",
				    &seq), 0);
	e.subject_keys = keys;
	e.n_subject_keys = 1;
	assert_int_equal(ppx_log_append_one(f->log, &e, &seq), 0);
	e = entry_of(KIND(NOTE), NULL, NULL, "no");
	assert_int_equal(ppx_log_root(f->log, 12, root), 0);
	reopen(f, &ro);
	assert_int_equal(ppx_log_size(f->log), 12);
	assert_int_equal(ppx_log_root(f->log, 12, root2), 0);
	assert_memory_equal(root, root2, sizeof(root));
	assert_chain(f->log);
	assert_int_equal(ppx_log_by_subject(f->log, "pnc:1", &seqs, &n, 10),
			 0);
	assert_seqs(seqs, n, 1, 11);
	assert_int_equal(ppx_log_find(f->log, KIND(SENT), "police.gwent",
				      (const uint8_t *)"m", 1, &seq), 0);
	assert_int_equal(seq, 10);
	assert_int_equal(ppx_log_begin(&b, f->log), PPX_EPERM);
	assert_null(b);
	assert_true(strstr(ppx_error_last(), "read-only") != NULL);
	assert_int_equal(ppx_log_append_one(f->log, &e, &seq), PPX_EPERM);
}

static void test_logstore__read_only_open_of_no_log_is_not_found(
	void **state)
{
	struct fx *f = *state;
	ppx_log_options ro = {.flags = PPX_LOG_READONLY};
	char dir[128];
	struct stat st;
	ppx_log *log = (ppx_log *)1;

	snprintf(dir, sizeof(dir), "%s/none", f->root);
	assert_int_equal(ppx_log_open(&log, dir, &ro), PPX_ENOTFOUND);
	assert_null(log);
	assert_true(strstr(ppx_error_last(), dir) != NULL);
	/* A read-only open creates nothing. */
	assert_int_equal(stat(dir, &st), -1);
	assert_int_equal(mkdir(dir, 0700), 0);
	assert_int_equal(ppx_log_open(&log, dir, &ro), PPX_ENOTFOUND);
	assert_int_equal(rmdir(dir), 0);
}

/* ---- damaged files ---------------------------------------------------- */

static void write_file(const char *path, const uint8_t *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
}

static void test_logstore__garbage_data_file_is_corrupt(void **state)
{
	struct fx *f = *state;
	ppx_log_options ro = {.flags = PPX_LOG_READONLY};
	static uint8_t junk[16384];
	char dir[128], path[160];
	ppx_log *log = (ppx_log *)1;
	uint32_t x = 2463534242u;

	for (size_t i = 0; i < sizeof(junk); i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		junk[i] = (uint8_t)x;
	}
	snprintf(dir, sizeof(dir), "%s/junk", f->root);
	assert_int_equal(mkdir(dir, 0700), 0);
	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	write_file(path, junk, sizeof(junk));
	assert_int_equal(ppx_log_open(&log, dir, NULL), PPX_ECORRUPT);
	assert_null(log);
	assert_true(strstr(ppx_error_last(), dir) != NULL);
	assert_int_equal(ppx_log_open(&log, dir, &ro), PPX_ECORRUPT);
	/* A file that ends inside its header is refused too. */
	write_file(path, junk, 100);
	assert_int_equal(ppx_log_open(&log, dir, NULL), PPX_ECORRUPT);
}

/* Closes the log and writes key -> val into its database `db` directly,
 * as an attacker or a broken disk might. */
static void tamper(struct fx *f, const char *db, const void *key,
		   size_t klen, const void *val, size_t vlen)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_val k = {klen, (void *)key}, v = {vlen, (void *)val};

	ppx_log_close(f->log);
	f->log = NULL;
	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 8), 0);
	assert_int_equal(mdb_env_open(env, f->dir, 0, 0600), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, db, 0, &dbi), 0);
	assert_int_equal(mdb_put(txn, dbi, &k, &v, 0), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
}

static void test_logstore__changed_last_entry_stops_the_writer(void **state)
{
	struct fx *f = *state;
	ppx_log_options ro = {.flags = PPX_LOG_READONLY};
	uint8_t key[8] = {0, 0, 0, 0, 0, 0, 0, 4}, *raw;
	size_t len;

	append_notes(f->log, 5);
	assert_int_equal(ppx_log_get_raw(f->log, 4, &raw, &len), 0);
	raw[len - 1] ^= 1;
	tamper(f, "log", key, sizeof(key), raw, len);
	free(raw);
	assert_int_equal(ppx_log_open(&f->log, f->dir, NULL), PPX_ECORRUPT);
	assert_true(strstr(ppx_error_last(), "entry 4") != NULL);
	/* Read-only, it opens, so that ppx verify can say what changed. */
	assert_int_equal(ppx_log_open(&f->log, f->dir, &ro), 0);
	assert_int_equal(ppx_log_size(f->log), 5);
}

static void test_logstore__unknown_format_version_is_refused(void **state)
{
	struct fx *f = *state;
	uint8_t v3[4] = {0, 0, 0, 3};

	append_notes(f->log, 1);
	tamper(f, "meta", "format", 6, v3, sizeof(v3));
	assert_int_equal(ppx_log_open(&f->log, f->dir, NULL), PPX_ECORRUPT);
	assert_true(strstr(ppx_error_last(), "format") != NULL);
}

/* ---- iteration -------------------------------------------------------- */

struct visit {
	ppx_log *log;
	uint64_t next;
	uint64_t stop_at;	/* return 7 here */
	int nested_reads;
};

static int visit(void *ctx, uint64_t seq, const uint8_t *data, size_t len)
{
	struct visit *v = ctx;
	ppx_hash leaf, stored;
	ppx_log_batch *b;

	assert_int_equal(seq, v->next);
	v->next++;
	if (seq == v->stop_at)
		return 7;
	/* A visitor may read the log, but not write to it. */
	if (seq % 500 == 0) {
		ppx_merkle_leaf(leaf, data, len);
		assert_int_equal(ppx_log_leaf(v->log, seq, stored), 0);
		assert_memory_equal(leaf, stored, sizeof(leaf));
		assert_int_equal(ppx_log_begin(&b, v->log), PPX_EINVAL);
		v->nested_reads++;
	}
	return 0;
}

static void test_logstore__foreach_visits_entries_in_order(void **state)
{
	struct fx *f = *state;
	struct visit v = {f->log, 0, UINT64_MAX, 0};
	ppx_log_batch *b;

	assert_int_equal(append_big(f->log, 2500, 1000), 0);
	assert_int_equal(ppx_log_foreach(f->log, 0, UINT64_MAX, visit, &v), 0);
	assert_int_equal(v.next, 2500);
	assert_int_equal(v.nested_reads, 5);
	v.next = 1000;
	v.stop_at = 2100;
	assert_int_equal(ppx_log_foreach(f->log, 1000, 2400, visit, &v), 7);
	assert_int_equal(v.next, 2101);
	v.next = 10;
	v.stop_at = UINT64_MAX;
	assert_int_equal(ppx_log_foreach(f->log, 10, 20, visit, &v), 0);
	assert_int_equal(v.next, 20);
	assert_int_equal(ppx_log_foreach(f->log, 30, 20, visit, &v), 0);
	assert_int_equal(v.next, 20);
	assert_int_equal(ppx_log_begin(&b, f->log), 0);
	assert_int_equal(ppx_log_foreach(f->log, 0, 10, visit, &v),
			 PPX_EINVAL);
	ppx_log_abort(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
		T(test_logstore__append_assigns_sequence_and_chain),
		T(test_logstore__get_returns_what_was_appended),
		T(test_logstore__survives_close_and_reopen),
		T(test_logstore__new_log_is_private_to_its_owner),
		T(test_logstore__group_commit_of_1000_entries),
		T(test_logstore__abort_leaves_nothing),
		T(test_logstore__one_batch_at_a_time),
		T(test_logstore__reads_in_a_batch_see_its_entries),
		T(test_logstore__bad_index_key_is_refused_and_batch_goes_on),
		T(test_logstore__duplicate_is_refused_with_original_seq),
		T(test_logstore__same_id_other_peer_or_kind_is_not_duplicate),
		T(test_logstore__duplicate_within_one_batch_is_refused),
		T(test_logstore__duplicate_detected_after_reopen),
		T(test_logstore__find_returns_entry_of_kind_and_peer),
		T(test_logstore__indexes_list_entries_by_message_and_subject),
		T(test_logstore__ids_by_prefix_lists_each_matching_id_once),
		T(test_logstore__outbox_keeps_pending_per_partner),
		T(test_logstore__inclusion_proofs_verify_for_every_index),
		T(test_logstore__consistency_proofs_verify_for_every_pair),
		T(test_logstore__proofs_beyond_the_log_are_out_of_range),
		T(test_logstore__map_grows_when_full),
		T(test_logstore__map_limit_refuses_batch_and_keeps_committed),
		T(test_logstore__failed_batch_refuses_appends_and_commit),
		T(test_logstore__cap_lowered_later_holds),
		T(test_logstore__read_only_open_reads_but_cannot_write),
		T(test_logstore__read_only_open_of_no_log_is_not_found),
		T(test_logstore__garbage_data_file_is_corrupt),
		T(test_logstore__changed_last_entry_stops_the_writer),
		T(test_logstore__unknown_format_version_is_refused),
		T(test_logstore__foreach_visits_entries_in_order),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
