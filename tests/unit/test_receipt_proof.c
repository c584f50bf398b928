/*
 * test_receipt_proof.c — a receipt's proof of recording is accepted only
 * when every claim in it holds: the receiver's signed checkpoint, the
 * RECEIVED entry rebuilt around the frame we sent, and its inclusion in
 * the checkpoint's tree.
 *
 * The receipt is built as daemon/inbound.c builds one: entries appended
 * to an open batch of a real log, a checkpoint sealed in the batch without
 * being appended, the entry split around its frame and proved.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "ppx/checkpoint.h"
#include "ppx/envelope.h"
#include "ppx/error.h"
#include "ppx/logstore.h"
#include "ppx/receipt.h"
#include "support.h"

#define FILLERS 5	/* entries before the RECEIVED one */

static const uint8_t sent[] = "the frame police.gwent sent, byte for byte";
static uint8_t id[PPX_MESSAGE_ID_LEN] = {7, 7, 7};
static uint8_t hash[PPX_HASH_LEN] = {1, 2, 3};

struct fx {
	char *dir;
	ppx_trust *trust;
	uint8_t *receipt;	/* the sealed receipt frame */
	size_t len;
	Ppx__V1__ReceiptBody *r;	/* it, opened as police.gwent */
	uint64_t seq;		/* of the RECEIVED entry */
	uint8_t root[PPX_MERKLE_HASH_LEN];	/* the checkpoint's */
};

static void append_filler(ppx_log_batch *b, int i)
{
	Ppx__V1__LogEntry e = PPX__V1__LOG_ENTRY__INIT;
	uint8_t note[] = {'n', (uint8_t)('0' + i)};

	e.kind = PPX__V1__ENTRY_KIND__ENTRY_NOTE;
	e.data.data = note;
	e.data.len = sizeof(note);
	assert_int_equal(ppx_log_append(b, &e, NULL), 0);
}

static uint64_t append_received(ppx_log_batch *b)
{
	Ppx__V1__LogEntry e = PPX__V1__LOG_ENTRY__INIT;
	char *keys[] = {"pnc:12/345678A"};
	uint64_t seq = 0;

	e.kind = PPX__V1__ENTRY_KIND__ENTRY_RECEIVED;
	e.peer_agency = "police.gwent";
	e.person = "dana.evans";
	e.message_id.data = id;
	e.message_id.len = sizeof(id);
	e.data.data = (uint8_t *)sent;
	e.data.len = sizeof(sent);
	e.subject_keys = keys;
	e.n_subject_keys = 1;
	e.family = "notification";
	assert_int_equal(ppx_log_append(b, &e, &seq), 0);
	return seq;
}

/* The receipt probation.gwent answers the message with. */
static void build_receipt(struct fx *f, ppx_signer *s, ppx_log_batch *b,
			  ppx_log *log)
{
	Ppx__V1__ReceiptBody r = PPX__V1__RECEIPT_BODY__INIT;
	Ppx__V1__ReceiptItem it = PPX__V1__RECEIPT_ITEM__INIT;
	Ppx__V1__ReceiptItem *items[] = {&it};
	Ppx__V1__InclusionProof inc = PPX__V1__INCLUSION_PROOF__INIT;
	ProtobufCBinaryData path[PPX_MERKLE_MAX_PATH];
	ppx_hash h[PPX_MERKLE_MAX_PATH];
	Ppx__V1__Frame *cpf = NULL;
	const uint8_t *entry;
	uint8_t *cp = NULL;
	size_t cplen, elen, head, off, dlen, n;
	uint64_t size;

	assert_int_equal(ppx_checkpoint_seal_batch(&cp, &cplen, &size, b, log,
						   s), 0);
	assert_int_equal(size, f->seq + 2);
	assert_int_equal(ppx_frame_decode(&cpf, cp, cplen), 0);
	assert_int_equal(ppx_log_batch_entry(&entry, &elen, b, f->seq), 0);
	assert_int_equal(ppx_entry_split(&head, &off, &dlen, entry, elen), 0);
	assert_int_equal(dlen, sizeof(sent));
	assert_memory_equal(entry + off, sent, sizeof(sent));
	assert_int_equal(ppx_log_batch_inclusion_proof(b, f->seq, size, h, &n),
			 0);
	for (size_t i = 0; i < n; i++) {
		path[i].data = h[i];
		path[i].len = sizeof(h[i]);
	}
	inc.leaf_index = f->seq;
	inc.tree_size = size;
	inc.path = path;
	inc.n_path = n;
	it.body_hash.data = hash;
	it.body_hash.len = sizeof(hash);
	it.message_id.data = id;
	it.message_id.len = sizeof(id);
	it.status = PPX__V1__RECEIPT_STATUS__STORED;
	it.log_seq = f->seq;
	it.entry_head.data = (uint8_t *)entry;
	it.entry_head.len = head;
	it.entry_tail.data = (uint8_t *)entry + off + dlen;
	it.entry_tail.len = elen - off - dlen;
	it.inclusion = &inc;
	r.receiver_agency = "probation.gwent";
	r.sender_agency = "police.gwent";
	r.time_ms = (int64_t)time(NULL) * 1000;
	r.n_items = 1;
	r.items = items;
	r.checkpoint = cpf->checkpoint;
	assert_int_equal(ppx_receipt_seal(&f->receipt, &f->len, s, &r), 0);
	ppx__v1__frame__free_unpacked(cpf, NULL);
	free(cp);
}

static void keep_root(struct fx *f)
{
	Ppx__V1__Checkpoint *cp = ppx__v1__checkpoint__unpack(
		NULL, f->r->checkpoint->signed_body.len,
		f->r->checkpoint->signed_body.data);

	assert_non_null(cp);
	assert_int_equal(cp->root_hash.len, sizeof(f->root));
	memcpy(f->root, cp->root_hash.data, sizeof(f->root));
	ppx__v1__checkpoint__free_unpacked(cp, NULL);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	ppx_signer *s = signer_at("probation.gwent");
	ppx_log_batch *b = NULL;
	ppx_log *log = NULL;

	f->dir = tmpdir_new();
	f->trust = trust_demo();
	assert_int_equal(ppx_log_open(&log, f->dir, NULL), 0);
	assert_int_equal(ppx_log_begin(&b, log), 0);
	for (int i = 0; i < FILLERS; i++)
		append_filler(b, i);
	f->seq = append_received(b);
	append_filler(b, 9);
	build_receipt(f, s, b, log);
	assert_int_equal(ppx_log_commit(b), 0);
	ppx_log_close(log);
	ppx_signer_free(s);
	assert_int_equal(ppx_receipt_open(&f->r, f->trust, f->receipt, f->len,
					  "probation.gwent", "police.gwent",
					  time(NULL)), 0);
	keep_root(f);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	ppx__v1__receipt_body__free_unpacked(f->r, NULL);
	free(f->receipt);
	ppx_trust_free(f->trust);
	tmpdir_remove(f->dir);
	free(f);
	return 0;
}

static int check(struct fx *f, const uint8_t *frame, size_t len)
{
	return ppx_receipt_check_recorded(NULL, f->trust, f->r, f->r->items[0],
					  frame, len, "police.gwent",
					  time(NULL));
}

/* A checkpoint frame's envelope sealed by `agency` over `cp`. */
static Ppx__V1__Frame *checkpoint_by(const char *agency,
				     const Ppx__V1__Checkpoint *cp)
{
	ppx_signer *s = signer_at(agency);
	uint8_t body[256], *frame = NULL;
	size_t n = ppx__v1__checkpoint__pack(cp, body), len;
	Ppx__V1__Frame *f = NULL;

	assert_int_equal(ppx_frame_seal(&frame, &len, s,
					PPX__V1__SIGNED_PURPOSE__SIGNED_CHECKPOINT,
					body, n), 0);
	assert_int_equal(ppx_frame_decode(&f, frame, len), 0);
	free(frame);
	ppx_signer_free(s);
	return f;
}

/* Check with the receipt's checkpoint swapped for one `agency` signed
 * over (tree_size, root); the proof's own tree size set to match. */
static int check_with_checkpoint(struct fx *f, const char *agency,
				 uint64_t tree_size, const uint8_t *root)
{
	Ppx__V1__Checkpoint cp = PPX__V1__CHECKPOINT__INIT;
	Ppx__V1__Envelope *saved = f->r->checkpoint;
	uint64_t saved_size = f->r->items[0]->inclusion->tree_size;
	Ppx__V1__Frame *fr;
	uint8_t r[PPX_MERKLE_HASH_LEN];
	int rc;

	memcpy(r, root, sizeof(r));
	cp.agency = (char *)agency;
	cp.tree_size = tree_size;
	cp.root_hash.data = r;
	cp.root_hash.len = sizeof(r);
	cp.time_ms = (int64_t)time(NULL) * 1000;
	fr = checkpoint_by(agency, &cp);
	f->r->checkpoint = fr->checkpoint;
	f->r->items[0]->inclusion->tree_size = tree_size;
	rc = check(f, sent, sizeof(sent));
	f->r->checkpoint = saved;
	f->r->items[0]->inclusion->tree_size = saved_size;
	ppx__v1__frame__free_unpacked(fr, NULL);
	return rc;
}

static const uint8_t *root_of(struct fx *f)
{
	return f->root;
}

static void test_receipt_proof__good_receipt_verifies(void **state)
{
	struct fx *f = *state;
	ppx_recorded rec;

	assert_int_equal(ppx_receipt_check_recorded(&rec, f->trust, f->r,
						    f->r->items[0], sent,
						    sizeof(sent),
						    "police.gwent",
						    time(NULL)), 0);
	assert_int_equal(rec.log_seq, FILLERS);
	assert_int_equal(rec.tree_size, FILLERS + 2);
	assert_memory_equal(rec.root, root_of(f), PPX_MERKLE_HASH_LEN);
	/* and offline, by chain and role only */
	assert_int_equal(ppx_receipt_check_recorded(NULL, f->trust, f->r,
						    f->r->items[0], sent,
						    sizeof(sent),
						    "police.gwent", 0), 0);
}

static void test_receipt_proof__wrong_root_is_refused(void **state)
{
	struct fx *f = *state;
	uint8_t other[PPX_MERKLE_HASH_LEN];

	memcpy(other, root_of(f), sizeof(other));
	other[0] ^= 1;
	assert_int_equal(check_with_checkpoint(f, "probation.gwent",
					       FILLERS + 2, other), PPX_EPROOF);
	/* the genuine root through the same path passes */
	assert_int_equal(check_with_checkpoint(f, "probation.gwent",
					       FILLERS + 2, root_of(f)), 0);
}

static void test_receipt_proof__wrong_index_is_refused(void **state)
{
	struct fx *f = *state;
	Ppx__V1__ReceiptItem *it = f->r->items[0];

	it->inclusion->leaf_index = it->log_seq + 1;
	assert_int_equal(check(f, sent, sizeof(sent)), PPX_EPROOF);
	it->inclusion->leaf_index = it->log_seq;
	it->log_seq--;	/* the entry says otherwise */
	it->inclusion->leaf_index = it->log_seq;
	assert_int_equal(check(f, sent, sizeof(sent)), PPX_EPROOF);
	it->log_seq++;
	it->inclusion->leaf_index = it->log_seq;
	assert_int_equal(check(f, sent, sizeof(sent)), 0);
}

static void test_receipt_proof__changed_path_is_refused(void **state)
{
	struct fx *f = *state;
	Ppx__V1__InclusionProof *p = f->r->items[0]->inclusion;

	assert_true(p->n_path > 0);
	p->path[0].data[5] ^= 0x10;
	assert_int_equal(check(f, sent, sizeof(sent)), PPX_EPROOF);
	p->path[0].data[5] ^= 0x10;
	p->n_path--;
	assert_int_equal(check(f, sent, sizeof(sent)), PPX_EPROOF);
	p->n_path++;
}

static void test_receipt_proof__changed_head_or_tail_is_refused(void **state)
{
	struct fx *f = *state;
	Ppx__V1__ReceiptItem *it = f->r->items[0];

	/* time_ms lies in the head: still a RECEIVED entry, another leaf */
	for (size_t i = 0; i < it->entry_head.len; i++) {
		it->entry_head.data[i] ^= 0x01;
		assert_int_not_equal(check(f, sent, sizeof(sent)), 0);
		it->entry_head.data[i] ^= 0x01;
	}
	for (size_t i = 0; i < it->entry_tail.len; i++) {
		it->entry_tail.data[i] ^= 0x01;
		assert_int_not_equal(check(f, sent, sizeof(sent)), 0);
		it->entry_tail.data[i] ^= 0x01;
	}
	assert_int_equal(check(f, sent, sizeof(sent)), 0);
}

static void test_receipt_proof__other_frame_is_refused(void **state)
{
	struct fx *f = *state;
	uint8_t other[sizeof(sent)];

	memcpy(other, sent, sizeof(sent));
	other[3] ^= 0x20;
	assert_int_equal(check(f, other, sizeof(other)), PPX_EPROOF);
	assert_int_equal(check(f, sent, sizeof(sent) - 1), PPX_EPROOF);
}

static void test_receipt_proof__another_sender_is_refused(void **state)
{
	struct fx *f = *state;

	assert_int_equal(ppx_receipt_check_recorded(NULL, f->trust, f->r,
						    f->r->items[0], sent,
						    sizeof(sent),
						    "prison.cardiff",
						    time(NULL)), PPX_EPROOF);
}

static void test_receipt_proof__checkpoint_of_another_agency_is_refused(
	void **state)
{
	struct fx *f = *state;

	assert_int_not_equal(check_with_checkpoint(f, "prison.cardiff",
						   FILLERS + 2, root_of(f)),
			     0);
}

static void test_receipt_proof__bad_signature_is_refused(void **state)
{
	struct fx *f = *state;
	ProtobufCBinaryData *sig = &f->r->checkpoint->signature;

	sig->data[sig->len / 2] ^= 0x04;
	assert_int_not_equal(check(f, sent, sizeof(sent)), 0);
	sig->data[sig->len / 2] ^= 0x04;
	f->r->checkpoint->signed_body.data[f->r->checkpoint->signed_body.len -
					   1] ^= 0x01;
	assert_int_not_equal(check(f, sent, sizeof(sent)), 0);
	f->r->checkpoint->signed_body.data[f->r->checkpoint->signed_body.len -
					   1] ^= 0x01;
	assert_int_equal(check(f, sent, sizeof(sent)), 0);
}

static void test_receipt_proof__size_not_beyond_seq_is_refused(void **state)
{
	struct fx *f = *state;

	assert_int_equal(check_with_checkpoint(f, "probation.gwent", FILLERS,
					       root_of(f)), PPX_EPROOF);
	assert_int_equal(check_with_checkpoint(f, "probation.gwent",
					       FILLERS - 1, root_of(f)),
			 PPX_EPROOF);
}

static void test_receipt_proof__no_proof_is_not_found(void **state)
{
	struct fx *f = *state;
	Ppx__V1__ReceiptItem *it = f->r->items[0];
	Ppx__V1__Envelope *cp = f->r->checkpoint;
	Ppx__V1__InclusionProof *inc = it->inclusion;
	ProtobufCBinaryData head = it->entry_head, tail = it->entry_tail;

	f->r->checkpoint = NULL;
	assert_int_equal(check(f, sent, sizeof(sent)), PPX_EPROOF);
	it->inclusion = NULL;
	it->entry_head.len = it->entry_tail.len = 0;
	assert_int_equal(check(f, sent, sizeof(sent)), PPX_ENOTFOUND);
	f->r->checkpoint = cp;
	it->inclusion = inc;
	it->entry_head = head;
	it->entry_tail = tail;
}

static void test_receipt_proof__split_refuses_malformed_entries(void **state)
{
	uint8_t twice[] = {0x08, 0x01, 0x42, 0x01, 'a', 0x42, 0x01, 'b'};
	uint8_t none[] = {0x08, 0x01, 0x50, 0x02};
	uint8_t cut[] = {0x08, 0x01, 0x42, 0x05, 'a'};
	uint8_t good[] = {0x08, 0x01, 0x42, 0x02, 'a', 'b', 0x50, 0x02};
	size_t head, off, len;

	(void)state;
	assert_int_equal(ppx_entry_split(&head, &off, &len, twice,
					 sizeof(twice)), PPX_ECORRUPT);
	assert_int_equal(ppx_entry_split(&head, &off, &len, none,
					 sizeof(none)), PPX_ECORRUPT);
	assert_int_equal(ppx_entry_split(&head, &off, &len, cut, sizeof(cut)),
			 PPX_ECORRUPT);
	assert_int_equal(ppx_entry_split(&head, &off, &len, good,
					 sizeof(good)), 0);
	assert_int_equal(head, 2);
	assert_int_equal(off, 4);
	assert_int_equal(len, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
		T(test_receipt_proof__good_receipt_verifies),
		T(test_receipt_proof__wrong_root_is_refused),
		T(test_receipt_proof__wrong_index_is_refused),
		T(test_receipt_proof__changed_path_is_refused),
		T(test_receipt_proof__changed_head_or_tail_is_refused),
		T(test_receipt_proof__other_frame_is_refused),
		T(test_receipt_proof__another_sender_is_refused),
		T(test_receipt_proof__checkpoint_of_another_agency_is_refused),
		T(test_receipt_proof__bad_signature_is_refused),
		T(test_receipt_proof__size_not_beyond_seq_is_refused),
		T(test_receipt_proof__no_proof_is_not_found),
		cmocka_unit_test(test_receipt_proof__split_refuses_malformed_entries),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
