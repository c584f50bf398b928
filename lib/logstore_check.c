/*
 * logstore_check.c — the indexes checked against the entries.
 *
 * The dedupe, ids and subjects databases are derived from the log: every
 * record in them follows from one entry (entry_put() in logstore_batch.c),
 * and no hash covers them.  A page of them damaged on disk would give
 * wrong answers that nothing else notices: a new message taken for a
 * duplicate of an old one, a subject's history without one of its
 * entries.  ppx_log_check_indexes() recomputes, entry by entry, the records
 * each one implies, looks each up in the live run whose range holds the
 * entry (logstore_runs.c), and then reads each index once through,
 * counting its records by run: every implied record present and no more
 * records in the live runs than implied means they hold exactly those.
 * The output of a merge under way must hold exactly the records of its
 * two inputs up to the key the merge last copied, each one of theirs;
 * runs merged away and not yet removed are not read by anything and may
 * hold any part of what they held; a record of any other run is wrong.
 *
 * The outbox is derived too, though not from one entry: a SENT entry puts
 * (recipient, seq) in it for each recipient its frame names (log_sent() in
 * the daemon), and the RECEIPT_RECEIVED entry that settles it takes it out
 * in the same commit, listing the message id in related_ids.  The check
 * replays that in a search tree of what is still pending and requires the
 * outbox to hold exactly that: a record lost from it would be a message
 * never resent, a silent loss.  A partner's restore (ENTRY_PARTNER_RESTORED,
 * its related_ids the messages queued to it again) makes them pending
 * again.
 *
 * It runs in one read transaction, so that the entries and the indexes it
 * compares are one state of the log even while a daemon appends.
 *
 * The start-up check runs it over the entries from the check seal only
 * (ppx_log_check_indexes_from()): each one's dedupe, ids and subjects
 * records; the counts and the outbox, which follow from the whole log,
 * are the background full check's.
 */
#include <search.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "logstore_int.h"
#include "ppx/checkpoint.h"
#include "ppx/entry.h"
#include "ppx/envelope.h"
#include "ppx/error.h"

/* How many records the entries imply in each index. */
struct implied {
	size_t dedupe, ids, subjects;
};

/* One key of an entry's index records. */
struct key {
	const void *data;
	size_t len;
};

/* A message sent and not yet receipted by one recipient. */
struct pending {
	char *partner;
	uint8_t id[PPX_MESSAGE_ID_LEN];
	uint64_t seq;
};

struct index_check {
	ppx_log *log;
	MDB_txn *txn;
	struct logstore_runs runs;
	struct logstore_run live[LOGSTORE_RUNS_MAX + 1];
	unsigned nlive, at;	/* live runs; the one of the entry at hand */
	MDB_cursor *ids, *subjects;
	struct implied n;
	void *pending;		/* tsearch tree of struct pending */
	size_t n_pending;
	ppx_verify_report *out;
	struct key *keys;	/* scratch: one entry's keys */
	size_t cap;
	uint64_t from;		/* the first entry checked */
};

static void differs(struct index_check *c, uint64_t seq, const char *what)
{
	c->out->ok = 0;
	c->out->code = PPX_ECORRUPT;
	c->out->first_bad = seq;
	snprintf(c->out->reason, sizeof(c->out->reason), "%s", what);
}

static int check_fail(struct index_check *c, int rc)
{
	return ppxi_logstore_fail(rc, "cannot check the indexes of log %s",
				  c->log->dir);
}

/* The live run whose range holds entry seq: entries come in order. */
static uint32_t run_of(struct index_check *c, uint64_t seq)
{
	while (c->at + 1 < c->nlive && seq >= c->live[c->at].to)
		c->at++;
	return c->live[c->at].id;
}

/* 1 if the dedupe index maps the entry's key to its seq (or the entry has
 * none), 0 if not, or a negative code. */
static int dedupe_ok(struct index_check *c, const Ppx__V1__LogEntry *e,
		     const uint8_t seq[8])
{
	uint8_t key[LOGSTORE_KEY_BUF], run_key[LOGSTORE_KEY_BUF];
	size_t len = logstore_dedupe_key_len(e->kind, e->peer_agency,
					     e->message_id.len);
	MDB_val k = {0, run_key}, v;
	int rc;

	if (len == 0)
		return 1;
	c->n.dedupe++;
	if (!logstore_runs_fit(c->log, &c->runs, len))
		return 0;	/* entry_put() could not have stored it */
	logstore_dedupe_key(key, e->kind, e->peer_agency, e->message_id.data,
			    e->message_id.len);
	k.mv_size = ppxi_runs_key(&c->runs, run_of(c, logstore_get_be64(seq)),
				  run_key, key, len);
	rc = mdb_get(c->txn, c->log->dbi[DB_DEDUPE], &k, &v);
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return check_fail(c, rc);
	return v.mv_size == 8 && memcmp(v.mv_data, seq, 8) == 0;
}

static int key_cmp(const void *pa, const void *pb)
{
	const struct key *a = pa, *b = pb;
	int d = memcmp(a->data, b->data, a->len < b->len ? a->len : b->len);

	return d ? d : (a->len > b->len) - (a->len < b->len);
}

/* Room for n keys in the scratch array. */
static int reserve(struct index_check *c, size_t n)
{
	struct key *keys;

	if (n <= c->cap)
		return 0;
	if (!(keys = realloc(c->keys, n * sizeof(*keys))))
		return ppx_error_set(PPX_ENOMEM, "cannot check the indexes of "
				     "log %s: out of memory", c->log->dir);
	c->keys = keys;
	c->cap = n;
	return 0;
}

/* Each of the n keys in the scratch array is in the DUPSORT index under
 * cur as key -> seq.  An index keeps a pair once, so the keys are sorted
 * and a repeat is counted (in *distinct) and looked up once.  Returns 1 if
 * all are there, 0 if not, or a negative code. */
static int pairs_ok(struct index_check *c, MDB_cursor *cur, size_t n,
		    const uint8_t seq[8], size_t *distinct)
{
	uint32_t run = run_of(c, logstore_get_be64(seq));
	uint8_t buf[LOGSTORE_KEY_BUF];

	*distinct = 0;
	if (n > 1)
		qsort(c->keys, n, sizeof(*c->keys), key_cmp);
	for (size_t i = 0; i < n; i++) {
		MDB_val k = {0, buf}, v = {8, (void *)seq};
		int rc;

		if (i > 0 && key_cmp(&c->keys[i], &c->keys[i - 1]) == 0)
			continue;
		(*distinct)++;
		if (!logstore_runs_fit(c->log, &c->runs, c->keys[i].len))
			return 0;
		k.mv_size = ppxi_runs_key(&c->runs, run, buf, c->keys[i].data,
					  c->keys[i].len);
		rc = mdb_cursor_get(cur, &k, &v, MDB_GET_BOTH);
		if (rc == MDB_NOTFOUND)
			return 0;
		if (rc != 0)
			return check_fail(c, rc);
	}
	return 1;
}

static int ids_ok(struct index_check *c, const Ppx__V1__LogEntry *e,
		  const uint8_t seq[8])
{
	size_t n = 0, distinct;
	int rc;

	if ((rc = reserve(c, 1 + e->n_related_ids)) != 0)
		return rc;
	if (e->message_id.len > 0)
		c->keys[n++] = (struct key){e->message_id.data,
					    e->message_id.len};
	for (size_t i = 0; i < e->n_related_ids; i++)
		c->keys[n++] = (struct key){e->related_ids[i].data,
					    e->related_ids[i].len};
	rc = pairs_ok(c, c->ids, n, seq, &distinct);
	c->n.ids += distinct;
	return rc;
}

static int subjects_ok(struct index_check *c, const Ppx__V1__LogEntry *e,
		       const uint8_t seq[8])
{
	size_t distinct;
	int rc;

	if ((rc = reserve(c, e->n_subject_keys)) != 0)
		return rc;
	for (size_t i = 0; i < e->n_subject_keys; i++)
		c->keys[i] = (struct key){e->subject_keys[i],
					  strlen(e->subject_keys[i])};
	rc = pairs_ok(c, c->subjects, e->n_subject_keys, seq, &distinct);
	c->n.subjects += distinct;
	return rc;
}

/* ---- the outbox --------------------------------------------------------- */

static int pending_cmp(const void *pa, const void *pb)
{
	const struct pending *a = pa, *b = pb;
	int d = strcmp(a->partner, b->partner);

	return d ? d : memcmp(a->id, b->id, sizeof(a->id));
}

static void pending_free(void *p)
{
	struct pending *q = p;

	free(q->partner);
	free(q);
}

static int out_of_memory(struct index_check *c)
{
	return ppx_error_set(PPX_ENOMEM, "cannot check the outbox of log %s: "
			     "out of memory", c->log->dir);
}

/* The recipients of a SENT entry's frame become pending.  Returns 1, 0 if
 * the frame does not decode, or a negative code. */
static int outbox_expect(struct index_check *c, const Ppx__V1__LogEntry *e,
			 uint64_t seq)
{
	Ppx__V1__Body *b = NULL;
	int rc = 1;

	if (e->message_id.len != PPX_MESSAGE_ID_LEN ||
	    ppx_entry_body(&b, NULL, e) != 0)
		rc = 0;
	for (size_t i = 0; rc == 1 && i < b->n_recipients; i++) {
		struct pending *p = calloc(1, sizeof(*p));

		if (!p || !(p->partner = strdup(b->recipients[i]))) {
			free(p);
			rc = out_of_memory(c);
			break;
		}
		memcpy(p->id, e->message_id.data, sizeof(p->id));
		p->seq = seq;
		if (!tsearch(p, &c->pending, pending_cmp)) {
			pending_free(p);
			rc = out_of_memory(c);
		} else {
			c->n_pending++;
		}
	}
	if (b)
		ppx__v1__body__free_unpacked(b, NULL);
	return rc;
}

/* The messages a receipt from a partner settled are no longer pending. */
static void outbox_settle(struct index_check *c, const Ppx__V1__LogEntry *e)
{
	struct pending key = {.partner = e->peer_agency};

	if (!e->peer_agency)
		return;
	for (size_t i = 0; i < e->n_related_ids; i++) {
		struct pending *const *found;
		struct pending *p;

		if (e->related_ids[i].len != PPX_MESSAGE_ID_LEN)
			continue;
		memcpy(key.id, e->related_ids[i].data, sizeof(key.id));
		if (!(found = tfind(&key, &c->pending, pending_cmp)))
			continue;
		p = *found;
		tdelete(&key, &c->pending, pending_cmp);
		pending_free(p);
		c->n_pending--;
	}
}

/* 1 if our SENT entry `seq` names `partner` among its recipients, 0 if
 * not (or it does not decode), or a negative code. */
static int sent_to(struct index_check *c, uint64_t seq, const char *partner)
{
	uint8_t key[8];
	MDB_val k = {sizeof(key), key}, v;
	Ppx__V1__LogEntry *e;
	Ppx__V1__Body *b = NULL;
	int rc, ok = 0;

	logstore_put_be64(key, seq);
	if ((rc = mdb_get(c->txn, c->log->dbi[DB_LOG], &k, &v)) != 0)
		return rc == MDB_NOTFOUND ? 0 : check_fail(c, rc);
	if (!(e = ppx__v1__log_entry__unpack(NULL, v.mv_size, v.mv_data)))
		return 0;
	if (e->kind == PPX__V1__ENTRY_KIND__ENTRY_SENT &&
	    ppx_entry_body(&b, NULL, e) == 0)
		for (size_t i = 0; !ok && i < b->n_recipients; i++)
			ok = b->recipients[i] &&
			     strcmp(b->recipients[i], partner) == 0;
	if (b)
		ppx__v1__body__free_unpacked(b, NULL);
	ppx__v1__log_entry__free_unpacked(e, NULL);
	return ok;
}

/* A partner's restore queued again what it had receipted after its copy
 * (daemon/restore_partner.c): the ENTRY_PARTNER_RESTORED lists their ids,
 * each the message of our SENT entry the dedupe index names, sent to that
 * partner (the daemon queues nothing else again).  Returns 1, 0 for an id
 * with no such SENT entry, or a negative code. */
static int outbox_requeue(struct index_check *c, const Ppx__V1__LogEntry *e)
{
	for (size_t i = 0; e->peer_agency && i < e->n_related_ids; i++) {
		uint8_t key[LOGSTORE_KEY_BUF];
		struct pending probe = {.partner = e->peer_agency}, *p;
		size_t len = logstore_dedupe_key_len(
			PPX__V1__ENTRY_KIND__ENTRY_SENT, NULL,
			e->related_ids[i].len);
		MDB_val v;
		int rc;

		if (e->related_ids[i].len != PPX_MESSAGE_ID_LEN ||
		    len >= sizeof(key))
			return 0;
		logstore_dedupe_key(key, PPX__V1__ENTRY_KIND__ENTRY_SENT, NULL,
				    e->related_ids[i].data,
				    e->related_ids[i].len);
		rc = ppxi_runs_dedupe_get(c->log, c->txn, &c->runs, key, len,
					  &v);
		if (rc == MDB_NOTFOUND || (rc == 0 && v.mv_size != 8))
			return 0;
		if (rc != 0)
			return check_fail(c, rc);
		if ((rc = sent_to(c, logstore_get_be64(v.mv_data),
				  e->peer_agency)) != 1)
			return rc;
		memcpy(probe.id, e->related_ids[i].data, sizeof(probe.id));
		if (tfind(&probe, &c->pending, pending_cmp))
			continue;	/* still pending: nothing to add */
		if (!(p = calloc(1, sizeof(*p))) ||
		    !(p->partner = strdup(e->peer_agency))) {
			free(p);
			return out_of_memory(c);
		}
		memcpy(p->id, probe.id, sizeof(p->id));
		p->seq = logstore_get_be64(v.mv_data);
		if (!tsearch(p, &c->pending, pending_cmp)) {
			pending_free(p);
			return out_of_memory(c);
		}
		c->n_pending++;
	}
	return 1;
}

struct outbox_walk {
	struct index_check *c;
	const struct pending *missing;	/* the first pending not in it */
	int rc;
};

static void outbox_visit(const void *node, VISIT which, void *ctx)
{
	const struct pending *p = *(const struct pending *const *)node;
	struct outbox_walk *w = ctx;
	uint8_t key[LOGSTORE_KEY_BUF];
	size_t len;
	MDB_val k, v;
	int rc;

	if ((which != postorder && which != leaf) || w->missing || w->rc)
		return;
	len = logstore_outbox_prefix(key, p->partner, sizeof(key));
	if (len == 0) {
		w->missing = p;
		return;
	}
	logstore_put_be64(key + len, p->seq);
	k = (MDB_val){len + 8, key};
	rc = mdb_get(w->c->txn, w->c->log->dbi[DB_OUTBOX], &k, &v);
	if (rc == MDB_NOTFOUND)
		w->missing = p;
	else if (rc != 0)
		w->rc = check_fail(w->c, rc);
}

/* The outbox holds exactly what is pending. */
static int check_outbox(struct index_check *c, uint64_t size)
{
	struct outbox_walk w = {.c = c};
	MDB_stat st;
	int rc;

	twalk_r(c->pending, outbox_visit, &w);
	if (w.rc)
		return w.rc;
	if (w.missing) {
		differs(c, w.missing->seq, "");
		snprintf(c->out->reason, sizeof(c->out->reason),
			 "the outbox lacks this entry for %s, which has not "
			 "receipted it: it would never be resent",
			 w.missing->partner);
		return 0;
	}
	if ((rc = mdb_stat(c->txn, c->log->dbi[DB_OUTBOX], &st)) != 0)
		return check_fail(c, rc);
	if (st.ms_entries != c->n_pending) {
		differs(c, size, "");
		snprintf(c->out->reason, sizeof(c->out->reason),
			 "the outbox holds %zu records; the entries imply %zu",
			 st.ms_entries, c->n_pending);
	}
	return 0;
}

/* ---- each entry ---------------------------------------------------------- */

/* One entry's records.  Returns 0 to go on, 1 to stop (the report says
 * why), or a negative code. */
static int check_entry(struct index_check *c, const MDB_val *k,
		       const MDB_val *v)
{
	const uint8_t *seq = k->mv_data;
	Ppx__V1__LogEntry *e;
	int rc;

	if (k->mv_size != 8)
		return ppxi_logstore_corrupt(
			c->log, "an entry key of %zu bytes", k->mv_size);
	e = ppx__v1__log_entry__unpack(NULL, v->mv_size, v->mv_data);
	if (!e) {
		differs(c, logstore_get_be64(seq), "entry does not decode");
		return 1;
	}
	if ((rc = dedupe_ok(c, e, seq)) == 0)
		differs(c, logstore_get_be64(seq),
			"the dedupe index does not record this entry");
	else if (rc == 1 && (rc = ids_ok(c, e, seq)) == 0)
		differs(c, logstore_get_be64(seq), "the ids index lacks one "
			"of this entry's message ids");
	else if (rc == 1 && (rc = subjects_ok(c, e, seq)) == 0)
		differs(c, logstore_get_be64(seq), "the subjects index lacks "
			"one of this entry's subject keys");
	else if (rc == 1 && c->from > 0)
		;	/* a tail: the outbox follows from the whole log */
	else if (rc == 1 && e->kind == PPX__V1__ENTRY_KIND__ENTRY_SENT &&
		 (rc = outbox_expect(c, e, logstore_get_be64(seq))) == 0)
		differs(c, logstore_get_be64(seq), "the frame of this sent "
			"entry does not decode");
	else if (rc == 1 &&
		 e->kind == PPX__V1__ENTRY_KIND__ENTRY_RECEIPT_RECEIVED)
		outbox_settle(c, e);
	else if (rc == 1 &&
		 e->kind == PPX__V1__ENTRY_KIND__ENTRY_PARTNER_RESTORED &&
		 (rc = outbox_requeue(c, e)) == 0)
		differs(c, logstore_get_be64(seq), "a message this partner "
			"restore queued again is not one we sent to it");
	ppx__v1__log_entry__free_unpacked(e, NULL);
	return rc < 0 ? rc : rc == 0;
}

/* Every entry from c->from, in order; *size is how many were checked. */
static int check_entries(struct index_check *c, uint64_t *size)
{
	uint8_t first[8];
	MDB_cursor *cur;
	MDB_val k = {sizeof(first), first}, v;
	int rc, stop = 0;

	*size = 0;
	logstore_put_be64(first, c->from);
	if ((rc = mdb_cursor_open(c->txn, c->log->dbi[DB_LOG], &cur)) != 0)
		return check_fail(c, rc);
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if ((stop = check_entry(c, &k, &v)) != 0)
			break;
		(*size)++;
	}
	mdb_cursor_close(cur);
	if (stop != 0)
		return stop < 0 ? stop : 0;
	return rc == MDB_NOTFOUND ? 0 : check_fail(c, rc);
}

/* ---- the runs ------------------------------------------------------------ */

/* What one pass over an index found, by run. */
struct run_count {
	size_t live;		/* records of live runs */
	size_t out;		/* of the merge's output */
	size_t upto;		/* of its inputs, up to where it got */
};

enum run_class { RUN_LIVE, RUN_INPUT, RUN_OUT, RUN_DROP, RUN_UNKNOWN };

static enum run_class run_class(const struct index_check *c, uint32_t run)
{
	const struct logstore_merge *g = &c->runs.merge;

	if (g->active && (run == c->runs.sealed[g->ia].id ||
			  run == c->runs.sealed[g->ia + 1].id))
		return RUN_INPUT;
	if (g->active && run == g->out)
		return RUN_OUT;
	for (unsigned i = 0; i < c->nlive; i++)
		if (c->live[i].id == run)
			return RUN_LIVE;
	for (unsigned i = 0; i < c->runs.ndrop; i++)
		if (c->runs.drop[i] == run)
			return RUN_DROP;
	return RUN_UNKNOWN;
}

/* 1 if the key (run number off) is at or before where the merge got. */
static int merged_yet(const struct index_check *c, int ix, const MDB_val *k)
{
	const struct logstore_merge *g = &c->runs.merge;
	size_t len = k->mv_size - c->runs.plen, n;
	int d;

	if (g->done[ix])
		return 1;
	n = len < g->last_len[ix] ? len : g->last_len[ix];
	d = memcmp((const uint8_t *)k->mv_data + c->runs.plen, g->last[ix], n);
	return d < 0 || (d == 0 && len <= g->last_len[ix]);
}

/* 1 if an output record is one of an input's (the same key and value), 0
 * if not, or a negative code. */
static int in_an_input(struct index_check *c, MDB_cursor *probe, int ix,
		       const MDB_val *k, const MDB_val *v)
{
	const struct logstore_merge *g = &c->runs.merge;
	uint8_t buf[LOGSTORE_KEY_BUF];

	for (unsigned i = 0; i < 2; i++) {
		MDB_val pk = {ppxi_runs_key(&c->runs,
					    c->runs.sealed[g->ia + i].id, buf,
					    (const uint8_t *)k->mv_data +
						    c->runs.plen,
					    k->mv_size - c->runs.plen),
			      buf}, pv = *v;
		/* GET_BOTH is for DUPSORT databases only. */
		int rc = mdb_cursor_get(probe, &pk, &pv, ix == IX_DEDUPE
							      ? MDB_SET_KEY
							      : MDB_GET_BOTH);

		if (rc == 0 && (ix != IX_DEDUPE ||
				(pv.mv_size == v->mv_size &&
				 memcmp(pv.mv_data, v->mv_data,
					v->mv_size) == 0)))
			return 1;
		if (rc != 0 && rc != MDB_NOTFOUND)
			return check_fail(c, rc);
	}
	return 0;
}

/* Counts one record of index ix into n.  Returns 0, 1 if it is wrong (the
 * report says why), or a negative code. */
static int count_record(struct index_check *c, MDB_cursor *probe, int ix,
			const MDB_val *k, const MDB_val *v,
			struct run_count *n, uint64_t size)
{
	const char *name = ppxi_logstore_db_name(logstore_ix_db(ix));
	enum run_class class = RUN_LIVE;
	uint32_t run = 0;
	int rc;

	if (k->mv_size <= c->runs.plen) {
		differs(c, size, "");
		snprintf(c->out->reason, sizeof(c->out->reason), "the %s index "
			 "holds a key of %zu bytes, too short for a run",
			 name, k->mv_size);
		return 1;
	}
	for (size_t i = 0; i < c->runs.plen; i++)
		run = run << 8 | ((const uint8_t *)k->mv_data)[i];
	if (c->runs.format == LOGSTORE_FORMAT)
		class = run_class(c, run);
	switch (class) {
	case RUN_INPUT:
		n->upto += (size_t)merged_yet(c, ix, k);
		/* fall through */
	case RUN_LIVE:
		n->live++;
		return 0;
	case RUN_DROP:
		return 0;
	case RUN_OUT:
		n->out++;
		if (merged_yet(c, ix, k) &&
		    (rc = in_an_input(c, probe, ix, k, v)) != 0)
			return rc < 0 ? rc : 0;
		break;
	default:
		break;
	}
	differs(c, size, "");
	snprintf(c->out->reason, sizeof(c->out->reason), "the %s index holds "
		 "a record of run %u that %s", name, (unsigned)run,
		 class == RUN_OUT ? "its merge has not copied or its inputs "
		 "do not hold" : "its list of runs does not name");
	return 1;
}

/* Reads index ix through, counting its records by run. */
static int count_index(struct index_check *c, int ix, struct run_count *n,
		       uint64_t size)
{
	MDB_dbi dbi = c->log->dbi[logstore_ix_db(ix)];
	MDB_cursor *cur, *probe;
	MDB_val k, v;
	int rc, stop = 0;

	if ((rc = mdb_cursor_open(c->txn, dbi, &cur)) != 0)
		return check_fail(c, rc);
	if ((rc = mdb_cursor_open(c->txn, dbi, &probe)) != 0) {
		mdb_cursor_close(cur);
		return check_fail(c, rc);
	}
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0 && !stop;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
		stop = count_record(c, probe, ix, &k, &v, n, size);
	mdb_cursor_close(probe);
	mdb_cursor_close(cur);
	if (stop != 0)
		return stop < 0 ? stop : 0;
	return rc == MDB_NOTFOUND ? 0 : check_fail(c, rc);
}

/* Each index's live runs hold as many records as the entries imply, and
 * a merge's output as many as it copied; the report says which does
 * not. */
static int check_counts(struct index_check *c, uint64_t size)
{
	const size_t implied[NUM_IX] = {c->n.dedupe, c->n.ids, c->n.subjects};

	for (int ix = 0; ix < NUM_IX && c->out->ok; ix++) {
		const char *name = ppxi_logstore_db_name(logstore_ix_db(ix));
		struct run_count n = {0};
		int rc = count_index(c, ix, &n, size);

		if (rc != 0 || !c->out->ok)
			return rc;
		if (n.live == implied[ix] && n.out == n.upto)
			continue;
		differs(c, size, "");
		if (n.live != implied[ix])
			snprintf(c->out->reason, sizeof(c->out->reason),
				 "the %s index holds %zu records; the entries "
				 "imply %zu", name, n.live, implied[ix]);
		else
			snprintf(c->out->reason, sizeof(c->out->reason),
				 "the %s index's merge under way has written "
				 "%zu records; its inputs hold %zu up to where "
				 "it got", name, n.out, n.upto);
	}
	return 0;
}

int ppx_log_check_indexes(ppx_verify_report *out, ppx_log *self)
{
	return ppx_log_check_indexes_from(out, self, 0);
}

int ppx_log_check_indexes_from(ppx_verify_report *out, ppx_log *self,
			       uint64_t from)
{
	struct index_check c = {.log = self, .out = out, .from = from};
	uint64_t size = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	out->ok = 1;
	if ((rc = ppxi_logstore_read_begin(self, &c.txn)) < 0)
		return rc;
	if ((rc = ppxi_runs_load(self, c.txn, &c.runs)) < 0)
		;
	else if ((c.nlive = ppxi_runs_live(&c.runs, c.live)) == 0 ||
		 (rc = mdb_cursor_open(c.txn, self->dbi[DB_IDS], &c.ids)) != 0 ||
	    (rc = mdb_cursor_open(c.txn, self->dbi[DB_SUBJECTS],
				  &c.subjects)) != 0)
		rc = check_fail(&c, rc);
	else if ((rc = check_entries(&c, &size)) == 0 && out->ok &&
		 from == 0 && (rc = check_counts(&c, size)) == 0 && out->ok)
		rc = check_outbox(&c, size);
	if (c.ids)
		mdb_cursor_close(c.ids);
	if (c.subjects)
		mdb_cursor_close(c.subjects);
	ppxi_logstore_read_end(self, c.txn);
	free(c.keys);
	tdestroy(c.pending, pending_free);
	out->entries = size;
	return rc;
}
