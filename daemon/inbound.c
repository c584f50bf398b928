/*
 * inbound.c — what happens to a frame a partner sends us.
 *
 * The checks run in DESIGN.md's order and stop at the first failure:
 * size, frame, signature over the exact bytes (or, for a batch-signed
 * message, over its batch's root, PROTOCOL.md 3.4: each receipt says
 * whether we ask for them), chain, validity, CRL (all in
 * ppx_message_open), signer = the agency the transport authenticated,
 * body, its strings (text, checked on the signed bytes: lib/text.c), the
 * sending person's agency = the signer's, clock, recipient, policy, the domain rules of its family
 * (lib/domain.c) and what needs our log (records.c: a partner record
 * update not based on the latest version we hold is refused as
 * REJECT_CONFLICT, a change to a field its sender does not own as
 * REJECT_POLICY), duplicate (a byte-identical copy of a message stored
 * under its sender and id; another body under them is refused as
 * REJECT_ID_REUSED).  A message that passes is
 * appended to this iteration's batch as RECEIVED; a refusal is logged as
 * REJECTED and counted by reason.  Every frame drained from one connection
 * in one iteration is then answered by ONE signed receipt listing an item
 * per frame (STORED with its log position, or REFUSED and why), logged as
 * RECEIPT_SENT in the same commit and sent only after it: one signature
 * per burst instead of one per message.  A duplicate is never logged
 * again: after the commit it is answered with the receipt the original
 * got, found through the message-id index.
 *
 * What a partner can make us write is bounded (budget.c, PROTOCOL.md
 * section 7): a refused frame is logged as its SHA-256, its size, the
 * reason and at most its first REFUSAL_PREFIX_MAX bytes (a REJECT_CONFLICT
 * keeps the whole frame: it is a signed version the agencies must merge);
 * every log byte a partner's frames cause is charged to its hourly quota,
 * and past it a message is refused REJECT_OVER_QUOTA (transient) and
 * nothing of it is logged; refusals for permanent reasons spend its
 * refusal budget, past which its connections are cut (its own, one by
 * one, after the iteration's commit: transport_conn_cut(); every other
 * partner's session stays up) and ZAP refuses it for a while.  Frames of a
 * blocked partner still arriving on a session opened before the block are
 * discarded unanswered, and that session is cut too.  A connection beyond the
 * GROUPS_MAX of one iteration gets a receipt of REJECT_BUSY (transient).
 * Receipts holding only refusals that were not logged are sent at once
 * and not logged: they claim nothing is on disk.
 *
 * Proof of recording (PROTOCOL.md 5.3, `[evidence] proofs`): if an
 * iteration stored anything, one checkpoint of the log as it then stands
 * in the open batch (every entry so far, each RECEIVED entry of the
 * iteration included) is signed before its receipts are sealed, and not
 * appended: each receipt of logged items carries it, and so each
 * RECEIPT_SENT entry logs it.  Each STORED item carries its RECEIVED
 * entry as stored, split around the frame the sender sent (which the
 * sender holds already), and the inclusion proof of that entry in the
 * checkpoint.  A group's receipt is cut into receipts of at most
 * RECEIPT_CHUNK items and RECEIPT_ITEMS_MAX bytes of items, so that
 * proofs never push one past the frame cap.  An item whose proof fails is
 * answered REFUSED (REJECT_INTERNAL, transient), not STORED without
 * proof: its entry cannot be taken back out of the batch (unproved()).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "budget.h"
#include "events.h"
#include "federation.h"
#include "inbound.h"
#include "log.h"
#include "partners.h"
#include "policy.h"
#include "ppx/cases.h"
#include "ppx/checkpoint.h"
#include "ppx/domain.h"
#include "ppx/entry.h"
#include "ppx/envelope.h"
#include "ppx/error.h"
#include "ppx/names.h"
#include "ppx/person.h"
#include "ppx/receipt.h"
#include "ppx/text.h"
#include "ppx/timefmt.h"
#include "state.h"
#include "stats.h"
#include "ppx/records.h"
#include "restore.h"
#include "transport.h"
#include "witness.h"
#include "writer.h"

/* Bytes of a refused frame kept in its REJECTED entry (PROTOCOL.md 6). */
#define REFUSAL_PREFIX_MAX 1024

/* Entries about one id looked at after a stored message for its receipt:
 * the receipt is in the same commit, and a commit holds at most batch_max
 * (at most 100,000) entries. */
#define ORIGINAL_RECEIPT_LOOKAHEAD 100001

#define GROUPS_MAX 64	/* connections answered per iteration */
#define BUSY_MAX 4096	/* connections answered REJECT_BUSY per iteration */
#define CUTS_MAX 256	/* connections waiting to be cut (more: later) */
/* How long a blocked partner's connection is kept after its last receipt
 * is queued, so that libzmq's I/O thread writes it out before the cut. */
#define CUT_DELAY_MS 200

/* What a message's RECEIVED entry and its share of a receipt add beyond
 * the frame itself, as the quota check reckons it before logging. */
#define ENTRY_OVERHEAD 512
/* A receipt item's bytes in the RECEIPT_SENT entry, charged to the
 * partner with the entry it answers, so that the quota check sees them
 * before the receipt is sealed at the end of the iteration. */
#define ITEM_PRECHARGE 160
#define RECEIPT_PRECHARGE 1024	/* the receipt's own bytes, with its first */

/* Items in one receipt: at most RECEIPT_CHUNK, and no more than fit in
 * RECEIPT_ITEMS_MAX bytes, packed.  An item with its proof is about
 * 1.3 KiB in a log of a billion entries, but its entry's head repeats
 * strings of the message (the sending person's id, the subject keys):
 * large strings make large items.  Half of PPX_FRAME_MAX leaves the rest
 * of the receipt (checkpoint, signature) ample room. */
#define RECEIPT_CHUNK 256
#define RECEIPT_ITEMS_MAX (PPX_FRAME_MAX / 2)
/* An item's tag and length in the receipt, beyond its packed size. */
#define ITEM_FRAMING 8


/* One item of the receipt a connection will get. */
struct item {
	uint8_t hash[PPX_HASH_LEN];
	uint8_t id[PPX_MESSAGE_ID_LEN];
	int has_id;
	int status;		/* Ppx__V1__ReceiptStatus */
	uint64_t seq;
	int reason;		/* Ppx__V1__RejectReason */
	char detail[200];
	int logged;		/* its frame is in the log */
};

/* The frames drained from one connection in this iteration. */
struct group {
	struct transport_route routing;
	struct transport_conn conn;	/* named at its first frame */
	char agency[PPX_NAME_MAX];
	struct item *items;
	size_t n, cap;
	uint64_t precharged;	/* of the receipt entry, charged ahead */
};

/* A connection of a blocked partner, to be cut once due. */
struct cut {
	struct transport_route routing;
	struct transport_conn conn;
	char agency[PPX_NAME_MAX];
	int64_t due_ms;		/* 0: set after this iteration's commit */
	int done;
};

struct drain {
	struct group g[GROUPS_MAX];
	size_t n;
	struct group *busy;	/* beyond GROUPS_MAX: answered REJECT_BUSY */
	size_t n_busy, cap_busy;
	struct cut cut[CUTS_MAX];	/* inbound_cut() takes those due */
	size_t n_cut;
};

/* Large; one drain at a time, and its cuts wait (CUT_DELAY_MS). */
static struct drain drained;

/* The checkpoint this iteration's receipts of logged items carry. */
struct seal {
	Ppx__V1__Frame *frame;	/* Frame{checkpoint}; NULL: none */
	uint64_t size;		/* its tree size */
};

/* A STORED item's proof of recording, pointing into the open batch. */
struct item_proof {
	Ppx__V1__InclusionProof inclusion;
	ProtobufCBinaryData path[PPX_MERKLE_MAX_PATH];
	ppx_hash hash[PPX_MERKLE_MAX_PATH];
};

/* A reply that waits for the commit. */
struct pending {
	struct transport_route routing;
	char agency[PPX_NAME_MAX];
	uint8_t id[PPX_MESSAGE_ID_LEN];
	uint8_t *frame;		/* receipt to send; NULL: look up original */
	size_t len;
	size_t n_stored;	/* messages the receipt says were stored */
};

/*
 * What proof of recording adds to a stored item's share of its receipt
 * (PROTOCOL.md 5.3), so that the quota sees it before the receipt is
 * sealed: the entry around the frame (`entry_extra` bytes) and an
 * inclusion path of at most one 34-byte hash per bit of the tree size,
 * reckoned with room for whatever this iteration may still log.
 */
static uint64_t proof_bytes(struct ppxd *d, uint64_t entry_extra)
{
	uint64_t size = ppx_log_size(d->log) + writer_pending(d) +
			2 * (uint64_t)d->cfg->batch_max + 2;
	unsigned bits = 64 - (unsigned)__builtin_clzll(size);

	return d->cfg->evidence_proofs ? entry_extra + 16 + 34 * bits : 0;
}

/* Charge `bytes` and a logged item's share of the receipt (`extra` more
 * for its proof) to the connection's partner. */
static void charge_item(struct ppxd *d, struct group *g, size_t bytes,
			uint64_t extra)
{
	uint64_t ahead = ITEM_PRECHARGE + extra +
			 (g->precharged ? 0 : RECEIPT_PRECHARGE);

	g->precharged += ahead;
	budget_charge(d->budget, g->agency, bytes + ahead, ppxd_now_ms());
}

static void pending_free(struct pending *p)
{
	free(p->frame);
	free(p);
}

/* The RECEIPT_SENT entry that answered message `id` from `agency`: the
 * first receipt to that agency about the id after the message's RECEIVED
 * entry (they commit together).  A later one may be a refusal of another
 * body under the same id, an earlier one a refusal before the message
 * was stored. */
static int original_receipt(struct ppxd *d, const char *agency,
			    const uint8_t *id, Ppx__V1__LogEntry **out)
{
	uint64_t *seqs = NULL, stored = 0;
	size_t n = 0;
	int rc = ppx_log_find(d->log, PPX__V1__ENTRY_KIND__ENTRY_RECEIVED,
			      agency, id, PPX_MESSAGE_ID_LEN, &stored);

	*out = NULL;
	/* The receipt was logged in the commit that stored the message:
	 * among the next few entries about the id, whatever came before. */
	if (rc == 0)
		rc = ppx_log_by_message_from(d->log, id, PPX_MESSAGE_ID_LEN,
					     stored + 1, &seqs, &n,
					     ORIGINAL_RECEIPT_LOOKAHEAD);
	for (size_t i = 0; rc == 0 && i < n && !*out; i++) {
		Ppx__V1__LogEntry *e = NULL;

		if (ppx_log_get(d->log, seqs[i], &e) != 0)
			continue;
		if (e->kind == PPX__V1__ENTRY_KIND__ENTRY_RECEIPT_SENT &&
		    strcmp(e->peer_agency, agency) == 0)
			*out = e;
		else
			ppx__v1__log_entry__free_unpacked(e, NULL);
	}
	free(seqs);
	return *out ? 0 : PPX_ENOTFOUND;
}

/* After the commit: send the receipt, or the original receipt of a
 * duplicate.  If the commit failed nothing is sent: the sender retries;
 * the messages the receipt would have said were stored were refused
 * after all (REJECT_STORAGE_FULL when the log is full), and ppx status
 * counts them so, as if refused before they were logged. */
static void send_after_commit(struct ppxd *d, void *arg, int rc)
{
	struct pending *p = arg;
	Ppx__V1__LogEntry *orig = NULL;

	if (rc != 0 && p->n_stored) {
		log_warnx("%zu messages from %s not stored: the commit failed; "
			  "the sender retries", p->n_stored, p->agency);
		for (size_t i = 0; i < p->n_stored; i++) {
			ppxd_count_refusal(d, rc);
			stats_refused(d, p->agency, rc);
		}
	}
	if (rc == 0)
		stats_received(d, p->agency, p->n_stored);

	if (rc == 0 && p->frame) {
		transport_reply(d->transport, &p->routing, p->frame, p->len);
	} else if (rc == 0 && original_receipt(d, p->agency, p->id, &orig) == 0) {
		transport_reply(d->transport, &p->routing, orig->data.data,
				orig->data.len);
	} else if (rc == 0) {
		log_warnx("no original receipt to answer a duplicate from %s",
			  p->agency);
	}
	if (orig)
		ppx__v1__log_entry__free_unpacked(orig, NULL);
	pending_free(p);
}

static int defer_reply(struct ppxd *d, const struct transport_route *routing,
		       const char *agency, const uint8_t *id, uint8_t *frame,
		       size_t len, size_t n_stored)
{
	struct pending *p = calloc(1, sizeof(*p));

	if (!p) {
		free(frame);
		return ppx_error_set(PPX_ENOMEM, "out of memory");
	}
	p->routing = *routing;
	snprintf(p->agency, sizeof(p->agency), "%s", agency);
	if (id)
		memcpy(p->id, id, sizeof(p->id));
	p->frame = frame;
	p->len = len;
	p->n_stored = n_stored;
	if (writer_after(d, send_after_commit, p) != 0) {
		pending_free(p);
		return PPX_ENOMEM;
	}
	return 0;
}

static struct group *group_find(struct group *gs, size_t n,
				const struct transport_route *routing)
{
	for (size_t i = 0; i < n; i++)
		if (transport_route_eq(&gs[i].routing, routing))
			return &gs[i];
	return NULL;
}

/* A new group; its connection is named now, while the descriptor its
 * frame names is least likely to have been reused (transport_zmq.c). */
static struct group *group_init(struct ppxd *d, struct group *g,
				const struct transport_route *routing,
				const struct transport_frame *frame,
				const char *agency)
{
	memset(g, 0, sizeof(*g));
	g->routing = *routing;
	transport_conn_name(d->transport, frame, &g->conn);
	snprintf(g->agency, sizeof(g->agency), "%s", agency);
	return g;
}

/*
 * The group of the connection behind `routing`.  Past GROUPS_MAX
 * connections in one iteration, a busy group (*busy set): its frames are
 * answered REJECT_BUSY.  There are at most as many as frames drained
 * (batch_max); NULL only when memory runs out, and the frame then goes
 * unanswered (the sender resends it).
 */
static struct group *group_for(struct ppxd *d, struct drain *dr,
			       const struct transport_route *routing,
			       const struct transport_frame *frame,
			       const char *agency, int *busy)
{
	struct group *g = group_find(dr->g, dr->n, routing);

	*busy = 0;
	if (g)
		return g;
	if (dr->n < GROUPS_MAX)
		return group_init(d, &dr->g[dr->n++], routing, frame, agency);
	*busy = 1;
	if ((g = group_find(dr->busy, dr->n_busy, routing)))
		return g;
	if (dr->n_busy == dr->cap_busy) {
		size_t cap = dr->cap_busy ? 2 * dr->cap_busy : 64;
		struct group *grown = realloc(dr->busy, cap * sizeof(*grown));

		if (!grown)
			return NULL;
		dr->busy = grown;
		dr->cap_busy = cap;
	}
	return group_init(d, &dr->busy[dr->n_busy++], routing, frame, agency);
}

static struct item *item_add(struct group *g)
{
	if (g->n == g->cap) {
		size_t cap = g->cap ? 2 * g->cap : 64;
		struct item *it = realloc(g->items, cap * sizeof(*it));

		if (!it)
			return NULL;
		g->items = it;
		g->cap = cap;
	}
	memset(&g->items[g->n], 0, sizeof(g->items[0]));
	return &g->items[g->n++];
}

/* What a refused frame can be named by: its body hash (of the whole raw
 * frame if it has no body, PROTOCOL.md section 5) and, if the body
 * decodes, its (unverified) message id. */
static void refusal_names(const uint8_t *data, size_t len,
			  uint8_t hash[PPX_HASH_LEN], uint8_t *id, int *has_id)
{
	Ppx__V1__Frame *f = NULL;
	Ppx__V1__Body *b;

	*has_id = 0;
	if (ppx_frame_decode(&f, data, len) != 0 || !f->message) {
		ppx_sha256(hash, data, len);
		if (f)
			ppx__v1__frame__free_unpacked(f, NULL);
		return;
	}
	ppx_sha256(hash, f->message->signed_body.data,
		   f->message->signed_body.len);
	b = ppx__v1__body__unpack(NULL, f->message->signed_body.len,
				  f->message->signed_body.data);
	if (b && b->message_id.len == PPX_MESSAGE_ID_LEN) {
		memcpy(id, b->message_id.data, PPX_MESSAGE_ID_LEN);
		*has_id = 1;
	}
	if (b)
		ppx__v1__body__free_unpacked(b, NULL);
	ppx__v1__frame__free_unpacked(f, NULL);
}

/* Refusals that say something about our state or the clocks, not about
 * the frame: they do not spend the sender's refusal budget. */
static int is_transient(int reason)
{
	switch (reason) {
	case PPX__V1__REJECT_REASON__REJECT_STORAGE_FULL:
	case PPX__V1__REJECT_REASON__REJECT_INTERNAL:
	case PPX__V1__REJECT_REASON__REJECT_CRL_UNAVAILABLE:
	case PPX__V1__REJECT_REASON__REJECT_CLOCK_SKEW:
	case PPX__V1__REJECT_REASON__REJECT_OVER_QUOTA:
	case PPX__V1__REJECT_REASON__REJECT_BUSY:
		return 1;
	default:
		return 0;
	}
}

/* One line on stderr/syslog/the journal per partner per refusal_log_ms,
 * with the count: a flood of refused frames is not a flood of lines.  In
 * the journal the line carries the partner, the reason (the RejectReason
 * name) and the message id when the frame names one. */
static void say_refused(struct ppxd *d, const char *agency, int code,
			const uint8_t *id, const char *detail)
{
	char key[PPX_NAME_MAX + 16];
	uint64_t n = 0;
	struct log_fields f = {
		.partner = agency[0] ? agency : NULL,
		.message_id = id,
		.reason = ppx_reject_reason_name(ppx_error_reject_reason(code)),
	};

	snprintf(key, sizeof(key), "frames from %s", agency[0] ? agency : "?");
	if (!budget_conn_refused(d->budget, key, ppxd_now_ms(), &n))
		return;
	if (n == 1)
		log_event(LOG_WARNING, &f, "refused a frame from %s: %s",
			  agency, detail);
	else
		log_event(LOG_WARNING, &f, "refused %llu frames from %s since "
			  "the last report; the latest: %s",
			  (unsigned long long)n, agency, detail);
}

/* Note the connection behind `routing` for inbound_cut(), once; `conn`
 * NULL: name it from `frame` (just read) if it is new to the list. */
static void cut_add(struct ppxd *d, struct drain *dr,
		    const struct transport_route *routing,
		    const struct transport_conn *conn,
		    const struct transport_frame *frame, const char *agency)
{
	struct cut *c;

	if (transport_conn_judged(d->transport, routing))
		return;	/* cut or gone: its queued frames cut nothing */
	for (size_t i = 0; i < dr->n_cut; i++)
		if (transport_route_eq(&dr->cut[i].routing, routing))
			return;
	if (dr->n_cut == CUTS_MAX)
		return;	/* its next frame adds it in a later iteration */
	c = &dr->cut[dr->n_cut++];
	memset(c, 0, sizeof(*c));
	c->routing = *routing;
	if (conn)
		c->conn = *conn;
	else
		transport_conn_name(d->transport, frame, &c->conn);
	snprintf(c->agency, sizeof(c->agency), "%s", agency);
}

/* A frame of a blocked partner, on a session from before the block:
 * discarded unanswered, counted, and said once per refusal_log_ms; its
 * connection is cut after the commit. */
static void say_discarded(struct ppxd *d,
			  const struct transport_route *routing,
			  const struct transport_frame *frame,
			  const char *agency)
{
	char key[PPX_NAME_MAX + 32];
	uint64_t n = 0;

	d->discarded++;
	cut_add(d, &drained, routing, NULL, frame, agency);
	snprintf(key, sizeof(key), "discarded frames of %s", agency);
	if (budget_conn_refused(d->budget, key, ppxd_now_ms(), &n))
		log_warnx("discarded %llu frame%s of %s, blocked (its "
			  "connections from before the block are being cut)",
			  (unsigned long long)n, n == 1 ? "" : "s", agency);
}

/* The partner spent its refusal budget: one entry for the episode; its
 * connections this iteration read from are cut once their receipts are
 * out (groups_end, inbound_cut), the rest when they next send. */
void inbound_block_partner(struct ppxd *d, const char *agency, int64_t until,
			   uint32_t episode)
{
	Ppx__V1__LogEntry e = PPX__V1__LOG_ENTRY__INIT;
	char detail[300], when[40];
	uint64_t seq;

	ppx_time_iso_ms(when, sizeof(when), until);
	snprintf(detail, sizeof(detail), "more than %ld refused frames within "
		 "%ld ms: its connections cut, handshakes refused until %s "
		 "(episode %u)", d->cfg->refusal_budget,
		 d->cfg->refusal_window_ms, when, episode);
	log_event(LOG_WARNING, &(struct log_fields){.partner = agency,
						     .reason = "blocked"},
		  "partner %s blocked: %s", agency, detail);
	e.kind = PPX__V1__ENTRY_KIND__ENTRY_PARTNER_BLOCKED;
	e.peer_agency = (char *)agency;
	e.detail = detail;
	if (writer_append(d, &e, &seq) != 0)
		log_warnx("cannot log the block: %s", ppx_error_last());
	transport_conn_forget(d->transport, agency);
}

/* The REJECTED entry of a refused frame or document, if the partner's
 * quota allows it (a REJECT_OVER_QUOTA is logged once an hour): its
 * hash, size, reason and at most REFUSAL_PREFIX_MAX bytes of it.
 * `agency` "" (a local file): no quota, nothing charged. */
void inbound_log_refused(struct ppxd *d, const char *agency,
			 const uint8_t *data, size_t len, int code,
			 const char *detail)
{
	Ppx__V1__LogEntry e = PPX__V1__LOG_ENTRY__INIT;
	uint8_t frame_hash[PPX_HASH_LEN];
	int64_t now = ppxd_now_ms();
	uint64_t seq;

	e.kind = PPX__V1__ENTRY_KIND__ENTRY_REJECTED;
	e.peer_agency = (char *)agency;
	e.data.data = (uint8_t *)data;
	e.data.len = len < REFUSAL_PREFIX_MAX ? len : REFUSAL_PREFIX_MAX;
	e.frame_size = len;
	ppx_sha256(frame_hash, data, len);
	e.frame_hash.data = frame_hash;
	e.frame_hash.len = sizeof(frame_hash);
	e.reason = ppx_error_reject_reason(code);
	e.detail = (char *)detail;
	if (agency[0] && !budget_quota_allows(d->budget, agency,
					      e.data.len + ENTRY_OVERHEAD, now))
		return;
	if (writer_append(d, &e, &seq) != 0) {
		log_warnx("cannot log the refusal: %s", ppx_error_last());
		return;
	}
	if (agency[0])
		budget_charge(d->budget, agency,
			      ppx__v1__log_entry__get_packed_size(&e), now);
}

void inbound_log_refused_receipt(struct ppxd *d, const char *agency,
				 const uint8_t *data, size_t len, int code,
				 const char *detail)
{
	say_refused(d, agency, code, NULL, detail);
	inbound_log_refused(d, agency, data, len, code, detail);
}

static void log_refusal(struct ppxd *d, struct group *g, struct item *it,
			const uint8_t *data, size_t len, int code)
{
	Ppx__V1__LogEntry e = PPX__V1__LOG_ENTRY__INIT;
	uint8_t frame_hash[PPX_HASH_LEN];
	int64_t now = ppxd_now_ms();
	uint64_t seq;

	e.kind = PPX__V1__ENTRY_KIND__ENTRY_REJECTED;
	e.peer_agency = g->agency;
	e.message_id.data = it->has_id ? it->id : NULL;
	e.message_id.len = it->has_id ? sizeof(it->id) : 0;
	e.data.data = (uint8_t *)data;
	e.data.len = len;
	if (code != PPX_ECONFLICT && len > REFUSAL_PREFIX_MAX)
		e.data.len = REFUSAL_PREFIX_MAX;
	e.frame_size = len;
	ppx_sha256(frame_hash, data, len);
	e.frame_hash.data = frame_hash;
	e.frame_hash.len = sizeof(frame_hash);
	e.reason = it->reason;
	e.detail = it->detail;
	if (code == PPX_EQUOTA ? !budget_quota_spent(d->budget, g->agency, now)
			       : !budget_quota_allows(d->budget, g->agency,
						      e.data.len + ENTRY_OVERHEAD,
						      now))
		return;
	if (writer_append(d, &e, &seq) != 0) {
		log_warnx("cannot log the refusal: %s", ppx_error_last());
		return;
	}
	it->logged = 1;
	charge_item(d, g, ppx__v1__log_entry__get_packed_size(&e), 0);
}

/* Log a refusal (within the partner's budgets), count it, and list it in
 * the connection's receipt. */
static void refuse(struct ppxd *d, struct group *g, const uint8_t *data,
		   size_t len, int code)
{
	struct item *it = item_add(g);
	struct item scratch;
	int64_t until;
	uint32_t episode;

	if (!it) {
		it = &scratch;	/* logged, but not answered: the sender retries */
		memset(it, 0, sizeof(*it));
	}
	/* The detail goes into a signed receipt and the log: cut at a
	 * character, never inside one. */
	ppx_text_escape(it->detail, sizeof(it->detail), ppx_error_last(),
			strlen(ppx_error_last()));
	ppxd_count_refusal(d, code);
	stats_refused(d, g->agency, code);
	refusal_names(data, len, it->hash, it->id, &it->has_id);
	say_refused(d, g->agency, code, it->has_id ? it->id : NULL,
		    it->detail);
	it->status = PPX__V1__RECEIPT_STATUS__REFUSED;
	it->reason = ppx_error_reject_reason(code);
	if (code != PPX_EFULL && code != PPX_EBUSY)
		log_refusal(d, g, it, data, len, code);
	if (!is_transient(it->reason) &&
	    budget_refusal(d->budget, g->agency, ppxd_now_ms(), &until,
			   &episode))
		inbound_block_partner(d, g->agency, until, episode);
}

static int is_recipient(const Ppx__V1__Body *b, const char *us)
{
	for (size_t i = 0; i < b->n_recipients; i++)
		if (strcmp(b->recipients[i], us) == 0)
			return 1;
	return 0;
}

/*
 * What the signed bytes say of themselves: every string is text, checked
 * on the bytes (a NUL would cut a decoded string, hiding what follows),
 * and the person named as sender belongs to the agency that signed.
 * Other persons a body names (decided_by, owners, ...) are the signing
 * agency's statement about them, not their own (PROTOCOL.md section 4).
 */
static int check_text_and_person(const ppx_opened *o)
{
	const ProtobufCBinaryData *sb = &o->frame->message->signed_body;
	const char *who = o->body->sender_person->agency;
	char what[PPX_NAME_MAX + 32];
	int rc;

	snprintf(what, sizeof(what), "message from %s", o->signer.agency);
	rc = ppx_text_check(&ppx__v1__body__descriptor, sb->data, sb->len,
			    what);
	if (rc == 0 && strcmp(who, o->signer.agency) != 0)
		rc = ppx_error_set(PPX_ESENDER,
				   "message signed by %s names as its sender "
				   "%s of %s: a sending person belongs to the "
				   "signing agency",
				   o->signer.agency, o->body->sender_person->id,
				   who[0] ? who : "(no agency)");
	return rc;
}

/* A personal signature, wherever there is one, must hold (PROTOCOL.md
 * 3.2): PPX_EBADPERSON naming the check that failed. */
static int check_person_signature(struct ppxd *d, const ppx_opened *o)
{
	const Ppx__V1__Envelope *env = o->frame->message;
	ppx_identity who;

	if (!env->person)
		return 0;
	return ppx_person_verify(&who, d->trust, env->person,
				 env->signed_body.data, env->signed_body.len,
				 o->body, o->signer.agency, time(NULL));
}

/* Our policy wants a personal signature on this family or kind. */
static int check_person_required(struct ppxd *d, const ppx_opened *o)
{
	char what[96];

	if (o->frame->message->person ||
	    !policy_person_required(d->policy, o->body, what, sizeof(what)))
		return 0;
	return ppx_error_set(PPX_EPERSON_REQUIRED, "%s from %s carries no "
			     "personal signature; %s requires one for it",
			     what, o->signer.agency, d->cfg->agency);
}

/* Text, sender, clock, personal signature, recipient, policy and the
 * domain: checks after the signature holds. */
static int check_accept(struct ppxd *d, const ppx_opened *o)
{
	const Ppx__V1__Body *b = o->body;
	struct policy_query q = {0};
	struct ppx_case c = {0};
	char **keys = NULL;
	size_t n = 0;
	int rc;

	/* With a directory: its signing certificate listed, it active. */
	if ((rc = partners_cert_allowed(d, o->signer.agency, PPX_ROLE_SIGNING,
					o->signer.fingerprint,
					PARTNERS_USE_MESSAGE)) != 0)
		return rc;
	if ((rc = check_text_and_person(o)) != 0)
		return rc;
	if (b->created_ms > ppxd_now_ms() + d->cfg->clock_skew_ms)
		return ppx_error_set(PPX_ESKEW,
				     "message from %s is dated %lld ms in the "
				     "future: check the sender's clock",
				     o->signer.agency,
				     (long long)(b->created_ms - ppxd_now_ms()));
	if ((rc = check_person_signature(d, o)) != 0)
		return rc;
	if (!is_recipient(b, d->cfg->agency))
		return ppx_error_set(PPX_ENOTRECIPIENT,
				     "message from %s does not name %s among "
				     "its recipients",
				     o->signer.agency, d->cfg->agency);
	rc = ppx_subject_keys(&keys, &n, b->subject);
	if (rc != 0)
		return rc;
	/* Need to know (PROTOCOL.md 3.5): a duty-to-co-operate agency
	 * decides from the case as its own log holds it, before storing. */
	if (ppxd_duty_to_cooperate(d, d->cfg->agency))
		rc = ppx_case_load(&c, d->log, keys, n);
	policy_query_of(&q, b, o->signer.agency, keys, n);
	q.to = d->cfg->agency;
	q.to_dtc = ppxd_duty_to_cooperate(d, d->cfg->agency);
	q.cas = &c;
	if (rc == 0)
		rc = federation_policy_check(d, &q);
	ppx_case_free(&c);
	ppx_subject_keys_free(keys, n);
	if (rc == 0)
		rc = check_person_required(d, o);
	if (rc == 0)
		rc = ppx_domain_check(b, o->signer.agency);
	if (rc == 0)
		rc = ppx_records_check(d->log, b, o->signer.agency, 0);
	return rc;
}

/*
 * A copy of a message stored at `seq` (same sender, same id) is the same
 * message only if it is the same signed body, byte for byte: then it gets
 * the original receipt.  Another body under the id is refused as
 * REJECT_ID_REUSED and logged as such; answering it with the original
 * receipt would settle nothing (its body_hash differs) and leave its
 * sender resending for ever.
 */
static int same_body(struct ppxd *d, uint64_t seq, const ppx_opened *o)
{
	Ppx__V1__LogEntry *e = NULL;
	Ppx__V1__Body *b = NULL;
	uint8_t hash[PPX_HASH_LEN];
	char hex[2 * PPX_MESSAGE_ID_LEN + 1];
	int rc = ppx_log_get(d->log, seq, &e);

	if (rc == 0)
		rc = ppx_entry_body(&b, hash, e);
	if (rc == 0) {
		ppx_hex(hex, o->body->message_id.data, PPX_MESSAGE_ID_LEN);
		if (memcmp(hash, o->body_hash, PPX_HASH_LEN) != 0)
			rc = ppx_error_set(PPX_EREUSED, "message id %s from %s "
					   "is stored here (entry %llu) with "
					   "another body: an id names one "
					   "message; send this one under a new "
					   "id", hex, o->signer.agency,
					   (unsigned long long)seq);
	}
	if (b)
		ppx__v1__body__free_unpacked(b, NULL);
	if (e)
		ppx__v1__log_entry__free_unpacked(e, NULL);
	return rc;
}

/* Log an accepted message in this iteration's batch and list it in the
 * connection's receipt. */
static int accept_message(struct ppxd *d, struct group *g, const uint8_t *data,
			  size_t len, const ppx_opened *o)
{
	const Ppx__V1__Body *b = o->body;
	Ppx__V1__LogEntry e = PPX__V1__LOG_ENTRY__INIT;
	Ppx__V1__Access access = PPX__V1__ACCESS__INIT;
	const char *agency = g->agency;
	struct item *it;
	char **keys = NULL;
	size_t n = 0;
	uint64_t seq = 0;
	int rc;

	if (ppx_records_subject_keys(&keys, &n, b) != 0)
		return PPX_ENOMEM;
	e.kind = PPX__V1__ENTRY_KIND__ENTRY_RECEIVED;
	e.peer_agency = (char *)agency;
	e.message_id = b->message_id;
	e.person = b->sender_person->id;
	e.data.data = (uint8_t *)data;
	e.data.len = len;
	e.subject_keys = keys;
	e.n_subject_keys = n;
	e.family = (char *)ppx_family_name((int)b->payload_case);
	if (!e.family)
		e.family = "";
	/* Break-glass (PROTOCOL.md 3.6): the sending agency reviews it, so
	 * the receiver records only that it was one, and why. */
	if (b->emergency) {
		access.emergency = 1;
		access.reason = b->emergency->reason;
		e.access = &access;
	}
	rc = writer_append(d, &e, &seq);
	if (rc == 0) {
		size_t size = ppx__v1__log_entry__get_packed_size(&e);

		charge_item(d, g, size, proof_bytes(d, size - len));
	}
	ppx_subject_keys_free(keys, n);
	if (rc == PPX_EDUP && (rc = same_body(d, seq, o)) == 0)
		/* answered with the original receipt */
		return defer_reply(d, &g->routing, agency, b->message_id.data,
				   NULL, 0, 0);
	if (rc != 0)
		return rc;
	if (!(it = item_add(g)))
		return ppx_error_set(PPX_ENOMEM, "out of memory");
	memcpy(it->hash, o->body_hash, sizeof(it->hash));
	memcpy(it->id, b->message_id.data, sizeof(it->id));
	it->has_id = 1;
	it->status = PPX__V1__RECEIPT_STATUS__STORED;
	it->seq = seq;
	it->logged = 1;
	return 0;
}

/*
 * The proof of recording of STORED item `it` (its entry is in the open
 * batch) into iv and pr, which must outlive the sealing of the receipt.
 * Failing leaves the item without proof: said, and unproved() answers it.
 */
static int prove_item(struct ppxd *d, const struct seal *seal,
		       const struct item *it, Ppx__V1__ReceiptItem *iv,
		       struct item_proof *pr)
{
	ppx_log_batch *b = NULL;
	const uint8_t *entry = NULL;
	size_t len = 0, head = 0, off = 0, data = 0, n = 0;
	int rc = writer_batch(d, &b);

	if (rc == 0)
		rc = ppx_log_batch_entry(&entry, &len, b, it->seq);
	if (rc == 0)
		rc = ppx_entry_split(&head, &off, &data, entry, len);
	if (rc == 0)
		rc = ppx_log_batch_inclusion_proof(b, it->seq, seal->size,
						   pr->hash, &n);
	if (rc != 0) {
		log_warnx("cannot prove entry %llu in its receipt: %s",
			  (unsigned long long)it->seq, ppx_error_last());
		return rc;
	}
	iv->entry_head.data = (uint8_t *)entry;
	iv->entry_head.len = head;
	iv->entry_tail.data = (uint8_t *)entry + off + data;
	iv->entry_tail.len = len - off - data;
	ppx__v1__inclusion_proof__init(&pr->inclusion);
	pr->inclusion.leaf_index = it->seq;
	pr->inclusion.tree_size = seal->size;
	for (size_t i = 0; i < n; i++) {
		pr->path[i].data = pr->hash[i];
		pr->path[i].len = sizeof(pr->hash[i]);
	}
	pr->inclusion.path = pr->path;
	pr->inclusion.n_path = n;
	iv->inclusion = &pr->inclusion;
	return 0;
}

/*
 * A STORED item whose proof failed is not claimed as stored: a receipt
 * carrying the checkpoint with an item it does not prove would be
 * refused whole by its sender, the proved items with it.  Its entry
 * cannot be taken out of the open batch (the log is a hash chain and a
 * Merkle tree, appended to), so it stays logged, and the item says so:
 * REFUSED, REJECT_INTERNAL (transient), naming the entry.
 */
static void unproved(struct item *it, Ppx__V1__ReceiptItem *iv)
{
	it->status = PPX__V1__RECEIPT_STATUS__REFUSED;
	it->reason = PPX__V1__REJECT_REASON__REJECT_INTERNAL;
	snprintf(it->detail, sizeof(it->detail), "logged as entry %llu but "
		 "its proof of recording failed here: ask our operator",
		 (unsigned long long)it->seq);
	it->seq = 0;	/* as in every refused item (PROTOCOL.md 5.2) */
	iv->log_seq = 0;
	iv->status = it->status;
	iv->reason = it->reason;
	iv->detail = it->detail;
	iv->entry_head.data = iv->entry_tail.data = NULL;
	iv->entry_head.len = iv->entry_tail.len = 0;
	iv->inclusion = NULL;
}

/* The receipt items of a connection whose frames were (logged) or were
 * not logged, from g->items[*from] on, at most RECEIPT_CHUNK of them and
 * RECEIPT_ITEMS_MAX bytes (the first is always taken); *from moves past
 * those taken.  STORED items get their proof when there is a seal. */
static size_t select_items(struct ppxd *d, struct group *g, int logged,
			   size_t *from, const struct seal *seal,
			   Ppx__V1__ReceiptItem *iv, Ppx__V1__ReceiptItem **ip,
			   struct item_proof *pv, ProtobufCBinaryData *ids,
			   size_t *n_ids)
{
	size_t n = 0, i = *from, bytes = 0;

	for (; i < g->n && n < RECEIPT_CHUNK; i++) {
		struct item *it = &g->items[i];
		size_t size;

		if (it->logged != logged)
			continue;
		ppx__v1__receipt_item__init(&iv[n]);
		iv[n].body_hash.data = it->hash;
		iv[n].body_hash.len = sizeof(it->hash);
		iv[n].message_id.data = it->has_id ? it->id : NULL;
		iv[n].message_id.len = it->has_id ? sizeof(it->id) : 0;
		iv[n].status = it->status;
		iv[n].log_seq = it->seq;
		iv[n].reason = it->reason;
		iv[n].detail = it->detail;
		if (seal->frame &&
		    it->status == PPX__V1__RECEIPT_STATUS__STORED &&
		    prove_item(d, seal, it, &iv[n], &pv[n]) != 0)
			unproved(it, &iv[n]);
		size = ppx__v1__receipt_item__get_packed_size(&iv[n]) +
		       ITEM_FRAMING;
		if (n > 0 && bytes + size > RECEIPT_ITEMS_MAX)
			break;	/* the next receipt's first */
		bytes += size;
		ip[n] = &iv[n];
		if (it->has_id)
			ids[(*n_ids)++] = iv[n].message_id;
		n++;
	}
	*from = i;
	return n;
}

/* Log a sealed receipt of logged items, charge it, and send it after the
 * commit. */
static int log_receipt(struct ppxd *d, struct group *g, uint8_t *receipt,
		       size_t len, ProtobufCBinaryData *ids, size_t n_ids,
		       size_t n_stored)
{
	Ppx__V1__LogEntry e = PPX__V1__LOG_ENTRY__INIT;
	uint64_t seq;
	size_t size;
	int rc;

	e.kind = PPX__V1__ENTRY_KIND__ENTRY_RECEIPT_SENT;
	e.peer_agency = g->agency;
	e.related_ids = ids;
	e.n_related_ids = n_ids;
	e.data.data = receipt;
	e.data.len = len;
	rc = writer_append(d, &e, &seq);
	size = rc == 0 ? ppx__v1__log_entry__get_packed_size(&e) : 0;
	if (size > g->precharged)
		budget_charge(d->budget, g->agency, size - g->precharged,
			      ppxd_now_ms());
	if (rc != 0) {
		free(receipt);
		return rc;
	}
	return defer_reply(d, &g->routing, g->agency, NULL, receipt, len,
			   n_stored);
}

/* The log filled as the receipt of items `from`... was logged: the batch
 * failed, so their messages were not stored after all.  They count as
 * refused REJECT_STORAGE_FULL (ppx status); the sender, unanswered,
 * retries.  Earlier receipts of the group are counted by
 * send_after_commit. */
static void unstored(struct ppxd *d, struct group *g, size_t from)
{
	for (size_t i = from; i < g->n; i++)
		if (g->items[i].logged &&
		    g->items[i].status == PPX__V1__RECEIPT_STATUS__STORED) {
			ppxd_count_refusal(d, PPX_EFULL);
			stats_refused(d, g->agency, PPX_EFULL);
		}
}

/*
 * Seal one receipt for the connection's items whose frames were logged:
 * logged with every message id it answers, sent after the commit.  And
 * one for those that were not (over quota, busy, a refusal past the
 * quota): not logged, as it claims nothing is on disk, and sent at once,
 * so that a partner's quota is not spent on answering it.  Either is cut
 * into receipts of RECEIPT_CHUNK items.  Receipts of logged items carry
 * the iteration's checkpoint, if there is one.
 */
static void answer_items(struct ppxd *d, struct group *g, int logged,
			 const struct seal *seal)
{
	size_t cap = g->n == 0 ? 1 : g->n < RECEIPT_CHUNK ? g->n : RECEIPT_CHUNK;
	int proofs = logged && seal->frame;
	Ppx__V1__ReceiptItem *iv = calloc(cap, sizeof(*iv));
	Ppx__V1__ReceiptItem **ip = calloc(cap, sizeof(*ip));
	struct item_proof *pv = proofs ? calloc(cap, sizeof(*pv)) : NULL;
	ProtobufCBinaryData *ids = calloc(cap, sizeof(*ids));
	int rc = iv && ip && ids && (pv || !proofs) ?
		 0 : ppx_error_set(PPX_ENOMEM, "out of memory");
	size_t from = 0, chunk = 0;

	while (rc == 0 && from < g->n) {
		Ppx__V1__ReceiptBody r = PPX__V1__RECEIPT_BODY__INIT;

		chunk = from;
		uint8_t *receipt = NULL;
		size_t len = 0, n_ids = 0;

		r.n_items = select_items(d, g, logged, &from, seal, iv, ip, pv,
					 ids, &n_ids);
		r.receiver_agency = d->cfg->agency;
		r.sender_agency = g->agency;
		r.time_ms = ppxd_now_ms();
		r.items = ip;
		/* So the sender may batch-sign what it sends us next
		 * (PROTOCOL.md 3.4); unset, it keeps signing one by one. */
		r.accepts_batch = d->cfg->batch_signatures != 0;
		if (logged && seal->frame)
			r.checkpoint = seal->frame->checkpoint;
		if (r.n_items > 0)
			rc = ppx_receipt_seal(&receipt, &len, d->signer, &r);
		if (rc == 0 && receipt && logged) {
			size_t n_stored = 0;

			for (size_t k = 0; k < r.n_items; k++)
				n_stored += ip[k]->status ==
					    PPX__V1__RECEIPT_STATUS__STORED;
			rc = log_receipt(d, g, receipt, len, ids, n_ids,
					 n_stored);
		} else if (rc == 0 && receipt) {
			transport_reply(d->transport, &g->routing, receipt,
					len);
			free(receipt);
		}
	}
	if (rc != 0)
		log_warnx("cannot answer %zu frames from %s: %s", g->n,
			  g->agency, ppx_error_last());
	if (rc == PPX_EFULL && logged)
		unstored(d, g, chunk);
	free(iv);
	free(ip);
	free(pv);
	free(ids);
}

/* The iteration's checkpoint, if proofs are on and anything was stored:
 * of every entry so far, not appended (PROTOCOL.md 5.3). */
static void seal_iteration(struct ppxd *d, const struct drain *dr,
			   struct seal *seal)
{
	ppx_log_batch *b = NULL;
	uint8_t *frame = NULL;
	size_t len = 0;
	int stored = 0;

	memset(seal, 0, sizeof(*seal));
	for (size_t i = 0; i < dr->n && !stored; i++)
		for (size_t k = 0; k < dr->g[i].n && !stored; k++)
			stored = dr->g[i].items[k].status ==
				 PPX__V1__RECEIPT_STATUS__STORED;
	if (!stored || !d->cfg->evidence_proofs)
		return;
	if (writer_batch(d, &b) != 0 ||
	    ppx_checkpoint_seal_batch(&frame, &len, &seal->size, b, d->log,
				      d->signer) != 0 ||
	    ppx_frame_decode(&seal->frame, frame, len) != 0)
		log_warnx("cannot sign the checkpoint this iteration's "
			  "receipts carry: %s", ppx_error_last());
	free(frame);
}

static void handle_frame(struct ppxd *d, struct group *g,
			 const struct transport_frame *frame)
{
	const uint8_t *data = frame->data;
	size_t len = frame->len;
	const char *agency = g->agency;
	ppx_opened *o = NULL;
	int rc;

	/* A batch-signed message is taken under batch_signatures = no too:
	 * a partner signed it before our receipts said no, and refusing it
	 * would lose it (PROTOCOL.md 3.4). */
	rc = ppx_message_open(&o, d->trust, data, len, agency, time(NULL));
	if (rc == 0)
		rc = check_accept(d, o);
	if (rc == 0 &&
	    !budget_quota_allows(d->budget, agency,
				 len + ENTRY_OVERHEAD +
					 proof_bytes(d, ENTRY_OVERHEAD),
				 ppxd_now_ms()))
		rc = ppx_error_set(PPX_EQUOTA, "%s has spent its log quota of "
				   "%ld bytes an hour here: not stored, retry "
				   "later", agency,
				   d->cfg->log_quota_bytes_hour);
	if (rc == 0) {
		rc = accept_message(d, g, data, len, o);
		if (rc != 0 && rc != PPX_EREUSED)
			log_warnx("cannot store a message from %s: %s", agency,
				  ppx_error_last());
		if (rc == PPX_EFULL || rc == PPX_EIO || rc == PPX_ENOMEM)
			rc = PPX_EFULL;
	}
	if (rc != 0)
		refuse(d, g, data, len, rc);
	ppx_opened_free(o);
}

/* Past GROUPS_MAX connections: REJECT_BUSY, transient, not logged. */
static void refuse_busy(struct ppxd *d, struct group *g,
			const struct transport_frame *frame)
{
	ppx_error_set(PPX_EBUSY, "more than %d connections sent frames at "
		      "once: not taken, retry later", GROUPS_MAX);
	refuse(d, g, frame->data, frame->len, PPX_EBUSY);
}

/* Answer every group; a blocked partner's connections are cut once
 * their receipts, queued after the commit, had time to go out. */
static void groups_end(struct ppxd *d, struct group *gs, size_t n,
		       const struct seal *seal)
{
	int64_t now = ppxd_now_ms();

	for (size_t i = 0; i < n; i++) {
		answer_items(d, &gs[i], 1, seal);
		answer_items(d, &gs[i], 0, seal);
		if (budget_blocked(d->budget, gs[i].agency, now))
			cut_add(d, &drained, &gs[i].routing, &gs[i].conn, NULL,
				gs[i].agency);
		free(gs[i].items);
	}
}

size_t inbound_drain(struct ppxd *d, size_t max)
{
	struct drain *dr = &drained;
	char agency[PPX_NAME_MAX];
	struct transport_route routing;
	struct transport_frame frame;
	struct seal seal;
	size_t n = 0;
	int busy;

	while (n < max &&
	       transport_recv(d->transport, &routing, &frame, agency) == 0) {
		struct group *g = NULL;

		if (budget_blocked(d->budget, agency, ppxd_now_ms()))
			say_discarded(d, &routing, &frame, agency);
		else if (witness_inbound(d, &routing, agency, frame.data,
					 frame.len))
			;	/* a WitnessRequest: answered by witness.c */
		else if (federation_frame(d, agency, frame.data, frame.len))
			;	/* a directory or CRL: never answered */
		else if (restore_frame(d, agency, frame.data, frame.len))
			;	/* a restore notice: never answered */
		else if (!(g = group_for(d, dr, &routing, &frame, agency,
					 &busy)))
			log_warnx("out of memory: a frame from %s is dropped "
				  "and will be resent", agency);
		else if (busy)
			refuse_busy(d, g, &frame);
		else
			handle_frame(d, g, &frame);
		transport_frame_done(d->transport, &frame);
		n++;
	}
	seal_iteration(d, dr, &seal);
	groups_end(d, dr->g, dr->n, &seal);
	groups_end(d, dr->busy, dr->n_busy, &seal);
	if (seal.frame)
		ppx__v1__frame__free_unpacked(seal.frame, NULL);
	dr->n = dr->n_busy = 0;
	return n;
}

/* One line per blocked partner whose connections were cut now (-1:
 * not due yet, 0: found gone, 1: cut). */
static void say_cut(struct drain *dr, size_t i)
{
	size_t n = 0;

	for (size_t j = 0; j < i; j++)
		if (strcmp(dr->cut[j].agency, dr->cut[i].agency) == 0)
			return;	/* said with the first */
	for (size_t j = i; j < dr->n_cut; j++)
		n += strcmp(dr->cut[j].agency, dr->cut[i].agency) == 0 &&
		     dr->cut[j].done == 1;
	if (n > 0)
		log_warnx("cut %zu connection%s of %s, blocked (other "
			  "partners' sessions are left alone)", n,
			  n == 1 ? "" : "s", dr->cut[i].agency);
}

void inbound_cut(struct ppxd *d)
{
	struct drain *dr = &drained;
	int64_t now = ppxd_now_ms();
	size_t kept = 0;

	for (size_t i = 0; i < dr->n_cut; i++) {
		struct cut *c = &dr->cut[i];

		if (c->due_ms == 0)	/* its receipts were queued just now */
			c->due_ms = now + CUT_DELAY_MS;
		c->done = c->due_ms > now ? -1
			  : transport_conn_cut(d->transport, &c->routing,
					       &c->conn, c->agency) == 0;
	}
	for (size_t i = 0; i < dr->n_cut; i++)
		say_cut(dr, i);
	for (size_t i = 0; i < dr->n_cut; i++) {
		struct cut *c = &dr->cut[i], *to = &dr->cut[kept];

		if (c->done == -1 && kept++ != i)	/* `to` is done */
			*to = *c;
	}
	dr->n_cut = kept;
}

long inbound_timeout(long max)
{
	int64_t now = ppxd_now_ms(), first = INT64_MAX;

	for (size_t i = 0; i < drained.n_cut; i++)
		if (drained.cut[i].due_ms < first)
			first = drained.cut[i].due_ms;
	if (first == INT64_MAX)
		return max;
	if (first <= now)
		return 0;
	return max < 0 || first - now < max ? (long)(first - now) : max;
}
