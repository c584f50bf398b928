/*
 * logread.c — a daemon's log, read-only, interpreted for the reading
 * commands (see logread.h for what is worked out and why).
 *
 * Opening a log makes one pass over it to collect every acknowledgement
 * into a table sorted by the id of the message acknowledged, because the
 * log store indexes message ids but not replies_to.  Each entry is then
 * decoded on demand: a message's delivery comes from the receipts that
 * the message-id index lists for it, and its acknowledgements from that
 * table.  Receipts answer bursts of messages, so the last few receipts
 * read are kept decoded in a small cache.
 *
 * Nothing here writes: the log is opened with PPX_LOG_READONLY.
 */
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "client.h"
#include "logread.h"
#include "ppx/delivery.h"
#include "ppx/entry.h"
#include "ppx/error.h"

#define LR_CACHE 8			/* decoded receipts kept */
#define LR_ACKS_MAX (16u << 20)		/* acknowledgements collected */
#define LR_SEQS_MAX (SIZE_MAX / sizeof(uint64_t))

/* The identifier schemes of subject keys (ppx_subject_keys()). */
static const char *const schemes[] = {"pnc", "cro", "crn", "prison", "visor"};
#define N_SCHEMES (sizeof(schemes) / sizeof(schemes[0]))

/* One acknowledgement: of message `id`, logged at `seq`. */
struct ackrec {
	uint8_t id[PPX_MESSAGE_ID_LEN];
	uint64_t seq;
	int64_t time_ms;
	int dir;	/* LR_DIR_IN: a partner's; LR_DIR_OUT: ours */
	char *agency;	/* who acknowledged; NULL for ours */
	char *to;	/* ours: to whom, one agency a line; NULL: unknown */
};

/* A non-message entry read while working out deliveries. */
struct cached {
	int valid;
	uint64_t seq;
	int kind;
	char *peer;
	Ppx__V1__ReceiptBody *receipt;	/* RECEIPT_RECEIVED that decode */
};

struct logread {
	ppx_log *log;
	char dir[PATH_MAX];
	char agency[PPX_CONFIG_AGENCY_MAX];	/* whose log; "" unknown */
	uint64_t size;		/* entries when opened */
	int64_t now_ms;		/* for deadlines */
	struct ackrec *acks;
	size_t n_acks, cap_acks;
	uint64_t acks_to;	/* acks collected from entries before this */
	struct cached cache[LR_CACHE];
	size_t cache_next;
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- decoding --------------------------------------------------------- */

/* The Body of a logged SENT or RECEIVED entry, or NULL if it does not
 * decode (the reading commands show such an entry as it is). */
static Ppx__V1__Body *frame_body(const Ppx__V1__LogEntry *e)
{
	Ppx__V1__Body *b = NULL;

	if (ppx_entry_body(&b, NULL, e) != 0)
		ppx_error_clear();
	return b;
}

static Ppx__V1__ReceiptBody *frame_receipt(const Ppx__V1__LogEntry *e)
{
	Ppx__V1__ReceiptBody *r = NULL;

	if (ppx_entry_receipt(&r, e) != 0)
		ppx_error_clear();
	return r;
}

static int is_message(int kind)
{
	return kind == PPX__V1__ENTRY_KIND__ENTRY_SENT ||
	       kind == PPX__V1__ENTRY_KIND__ENTRY_RECEIVED;
}

static int entry_dir(int kind)
{
	switch (kind) {
	case PPX__V1__ENTRY_KIND__ENTRY_SENT:
	case PPX__V1__ENTRY_KIND__ENTRY_RECEIPT_SENT:
		return LR_DIR_OUT;
	case PPX__V1__ENTRY_KIND__ENTRY_RECEIVED:
	case PPX__V1__ENTRY_KIND__ENTRY_RECEIPT_RECEIVED:
	case PPX__V1__ENTRY_KIND__ENTRY_REJECTED:
		return LR_DIR_IN;
	default:
		return LR_DIR_ANY;
	}
}

/* ---- acknowledgements ------------------------------------------------- */

static int ackrec_cmp(const void *a, const void *b)
{
	const struct ackrec *x = a, *y = b;
	int c = memcmp(x->id, y->id, PPX_MESSAGE_ID_LEN);

	if (c)
		return c;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* The first acknowledgement of message `id` in the sorted table. */
static size_t ack_lower(const logread *lr, const uint8_t *id)
{
	size_t lo = 0, hi = lr->n_acks;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (memcmp(lr->acks[mid].id, id, PPX_MESSAGE_ID_LEN) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Add one; `sorted`: keep the table in order (after the first pass). */
static int ack_add(logread *lr, const struct ackrec *a, int sorted)
{
	size_t at = lr->n_acks;

	if (lr->n_acks == lr->cap_acks) {
		size_t cap = lr->cap_acks ? 2 * lr->cap_acks : 64;
		struct ackrec *g;

		if (cap > LR_ACKS_MAX)
			return ppx_error_set(PPX_ETOOBIG, "log %s holds more "
					     "than %u acknowledgements",
					     lr->dir, LR_ACKS_MAX);
		if (!(g = realloc(lr->acks, cap * sizeof(*g))))
			return ppx_error_set(PPX_ENOMEM, "out of memory");
		lr->acks = g;
		lr->cap_acks = cap;
	}
	if (sorted) {
		at = ack_lower(lr, a->id);
		while (at < lr->n_acks && ackrec_cmp(&lr->acks[at], a) < 0)
			at++;
		memmove(&lr->acks[at + 1], &lr->acks[at],
			(lr->n_acks - at) * sizeof(*a));
	}
	lr->acks[at] = *a;
	lr->n_acks++;
	return 0;
}

/* The agencies an acknowledgement of ours went to, one a line: a message
 * id is unique per sender only, so it acknowledges the message with that
 * id of the one of them that sent it.  NULL (unknown) when there are none;
 * -1 without memory. */
static int ack_to(char **out, char *const *to, size_t n)
{
	size_t len = 1;
	char *p;

	*out = NULL;
	for (size_t i = 0; i < n; i++)
		len += strlen(to[i]) + 1;
	if (n == 0)
		return 0;
	if (!(p = *out = malloc(len)))
		return -1;
	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(to[i]);

		memcpy(p, to[i], l);
		p[l] = '\n';
		p += l + 1;
	}
	*p = '\0';
	return 0;
}

/* Whether our acknowledgement a went to `agency` (or to we know not whom). */
static int ack_went_to(const struct ackrec *a, const char *agency)
{
	size_t len = strlen(agency);

	for (const char *p = a->to; p && *p; p = strchr(p, '\n') + 1)
		if (strncmp(p, agency, len) == 0 && p[len] == '\n')
			return 1;
	return a->to == NULL;
}

/* Whose log this is, when --log named only a directory: the sender of
 * the first message we sent. */
static void learn_agency(logread *lr, const Ppx__V1__LogEntry *e)
{
	Ppx__V1__Body *b = frame_body(e);

	if (b && b->sender_agency)
		snprintf(lr->agency, sizeof(lr->agency), "%s",
			 b->sender_agency);
	if (b)
		ppx__v1__body__free_unpacked(b, NULL);
}

/* If entry e (at seq) acknowledges a message, add that to the table; on
 * the way, learn whose log this is from the first message we sent. */
static int ack_collect_entry(logread *lr, const Ppx__V1__LogEntry *e,
			     int sorted)
{
	struct ackrec a = {.seq = e->seq, .time_ms = e->time_ms,
			   .dir = LR_DIR_OUT};
	Ppx__V1__Body *b;
	int rc;

	if (!lr->agency[0] && e->kind == PPX__V1__ENTRY_KIND__ENTRY_SENT)
		learn_agency(lr, e);
	if (e->kind == PPX__V1__ENTRY_KIND__ENTRY_ACKNOWLEDGED &&
	    e->message_id.len == PPX_MESSAGE_ID_LEN) {
		memcpy(a.id, e->message_id.data, PPX_MESSAGE_ID_LEN);
		if (ack_to(&a.to, &e->peer_agency,
			   e->peer_agency[0] ? 1 : 0) != 0)
			return ppx_error_set(PPX_ENOMEM, "out of memory");
		if ((rc = ack_add(lr, &a, sorted)) != 0)
			free(a.to);
		return rc;
	}
	if (!is_message(e->kind) || strcmp(e->family, "acknowledgement") != 0)
		return 0;
	b = frame_body(e);
	if (!b || b->payload_case != PPX__V1__BODY__PAYLOAD_ACKNOWLEDGEMENT ||
	    b->replies_to.len != PPX_MESSAGE_ID_LEN) {
		if (b)
			ppx__v1__body__free_unpacked(b, NULL);
		return 0;
	}
	memcpy(a.id, b->replies_to.data, PPX_MESSAGE_ID_LEN);
	if (e->kind == PPX__V1__ENTRY_KIND__ENTRY_RECEIVED) {
		a.dir = LR_DIR_IN;
		a.agency = strdup(b->sender_agency);
	}
	rc = a.dir == LR_DIR_OUT ? ack_to(&a.to, b->recipients,
					  b->n_recipients) : 0;
	ppx__v1__body__free_unpacked(b, NULL);
	if (rc != 0 || (a.dir == LR_DIR_IN && !a.agency))
		return ppx_error_set(PPX_ENOMEM, "out of memory");
	if ((rc = ack_add(lr, &a, sorted)) != 0) {
		free(a.agency);
		free(a.to);
	}
	return rc;
}

static int ack_collect(logread *lr, const uint8_t *data, size_t len,
		       int sorted)
{
	Ppx__V1__LogEntry *e = ppx__v1__log_entry__unpack(NULL, len, data);
	int rc;

	if (!e)
		return 0;	/* listed, with a warning, when reached */
	rc = ack_collect_entry(lr, e, sorted);
	ppx__v1__log_entry__free_unpacked(e, NULL);
	return rc;
}

static int ack_visit(void *ctx, uint64_t seq, const uint8_t *data,
		     size_t len)
{
	(void)seq;
	return ack_collect(ctx, data, len, 0);
}

static int acks_load(logread *lr)
{
	int rc = ppx_log_foreach(lr->log, 0, lr->size, ack_visit, lr);

	if (rc != 0)
		return rc;
	if (lr->n_acks > 1)
		qsort(lr->acks, lr->n_acks, sizeof(*lr->acks), ackrec_cmp);
	lr->acks_to = lr->size;
	return 0;
}

/* ---- opening ---------------------------------------------------------- */

/* The log directory of `o`: --log, else the configuration's log_dir. */
static int find_dir(logread *lr, const struct lr_opts *o)
{
	struct ppx_config *cfg = NULL;
	const char *path = config_path_default(o->config);
	int rc;

	if (o->log_dir) {
		if ((size_t)snprintf(lr->dir, sizeof(lr->dir), "%s",
				     o->log_dir) >= sizeof(lr->dir))
			return ppx_error_set(PPX_EINVAL, "--log %s: path too "
					     "long", o->log_dir);
		return 0;
	}
	if ((rc = ppx_config_load(&cfg, path)) != 0)
		return ppx_error_set(rc, "%s; give the log directory with "
				     "--log DIR, or the daemon's "
				     "configuration with --config FILE",
				     ppx_error_last());
	snprintf(lr->dir, sizeof(lr->dir), "%s", cfg->log_dir);
	snprintf(lr->agency, sizeof(lr->agency), "%s", cfg->agency);
	ppx_config_free(cfg);
	return 0;
}

int logread_open(logread **out, const struct lr_opts *o)
{
	ppx_log_options ro = {.flags = PPX_LOG_READONLY};
	logread *lr = calloc(1, sizeof(*lr));
	int rc;

	*out = NULL;
	if (!lr)
		return ppx_error_set(PPX_ENOMEM, "out of memory");
	lr->now_ms = now_ms();
	rc = find_dir(lr, o);
	if (rc == 0)
		rc = ppx_log_open(&lr->log, lr->dir, &ro);
	if (rc == PPX_ENOTFOUND)
		ppx_error_set(rc, "there is no log in %s: check the directory "
			      "(--log DIR, or log_dir in the daemon's "
			      "configuration); ppxd creates it when it first "
			      "starts", lr->dir);
	if (rc == 0) {
		lr->size = ppx_log_size(lr->log);
		rc = acks_load(lr);
	}
	if (rc != 0) {
		logread_close(lr);
		return rc;
	}
	*out = lr;
	return 0;
}

static void cached_clear(struct cached *c)
{
	free(c->peer);
	if (c->receipt)
		ppx__v1__receipt_body__free_unpacked(c->receipt, NULL);
	memset(c, 0, sizeof(*c));
}

void logread_close(logread *self)
{
	if (!self)
		return;
	for (size_t i = 0; i < self->n_acks; i++) {
		free(self->acks[i].agency);
		free(self->acks[i].to);
	}
	free(self->acks);
	for (size_t i = 0; i < LR_CACHE; i++)
		cached_clear(&self->cache[i]);
	ppx_log_close(self->log);
	free(self);
}

const char *logread_dir(const logread *self)
{
	return self->dir;
}

uint64_t logread_size(const logread *self)
{
	return self->size;
}

ppx_log *logread_log(logread *self)
{
	return self->log;
}

/* ---- deliveries ------------------------------------------------------- */

/* Entry seq as far as deliveries need it, from the cache if read lately. */
static const struct cached *cache_get(logread *lr, uint64_t seq)
{
	Ppx__V1__LogEntry *e = NULL;
	struct cached *c;

	for (size_t i = 0; i < LR_CACHE; i++)
		if (lr->cache[i].valid && lr->cache[i].seq == seq)
			return &lr->cache[i];
	if (ppx_log_get(lr->log, seq, &e) != 0)
		return NULL;
	c = &lr->cache[lr->cache_next++ % LR_CACHE];
	cached_clear(c);
	c->seq = seq;
	c->kind = e->kind;
	c->peer = strdup(e->peer_agency);
	if (e->kind == PPX__V1__ENTRY_KIND__ENTRY_RECEIPT_RECEIVED)
		c->receipt = frame_receipt(e);
	ppx__v1__log_entry__free_unpacked(e, NULL);
	c->valid = c->peer != NULL;
	return c->valid ? c : NULL;
}

/* What receipt c says about message `id` for the party it came from
 * (lib/delivery.c decides). */
static void apply_receipt(struct lr_entry *ent, const struct cached *c,
			  const ProtobufCBinaryData *id)
{
	for (size_t k = 0; k < ent->n_parties; k++) {
		struct lr_party *p = &ent->parties[k];

		if (strcmp(p->partner, c->peer) == 0 &&
		    ppx_delivery_apply(&p->delivery, id->data, id->len,
				       c->seq, c->receipt) == 1 && c->receipt)
			ppx_delivery_prove(&p->delivery, id->data, id->len,
					   c->receipt, ent->e->data.data,
					   ent->e->data.len);
	}
}

/* The receipts about the message in ent, and the one we sent for it. */
static int apply_receipts(logread *lr, struct lr_entry *ent)
{
	const ProtobufCBinaryData *id = &ent->e->message_id;
	struct ppx_delivery *ours = &ent->parties[0].delivery;
	uint64_t *seqs = NULL;
	size_t n = 0;
	int rc;

	if (id->len != PPX_MESSAGE_ID_LEN)
		return 0;
	if ((rc = logread_by_message(lr, id->data, &seqs, &n)) != 0)
		return rc;
	for (size_t i = 0; i < n; i++) {
		const struct cached *c;

		if (seqs[i] <= ent->seq || !(c = cache_get(lr, seqs[i])))
			continue;
		if (c->kind == PPX__V1__ENTRY_KIND__ENTRY_RECEIPT_RECEIVED &&
		    ent->dir == LR_DIR_OUT)
			apply_receipt(ent, c, id);
		if (c->kind == PPX__V1__ENTRY_KIND__ENTRY_RECEIPT_SENT &&
		    ent->dir == LR_DIR_IN && !ours->has_receipt &&
		    strcmp(c->peer, ent->parties[0].partner) == 0) {
			ours->has_receipt = 1;
			ours->receipt_seq = c->seq;
		}
	}
	free(seqs);
	return 0;
}

/* The acknowledgements of the message in ent, per party. */
static void apply_acks(const logread *lr, struct lr_entry *ent)
{
	const ProtobufCBinaryData *id = &ent->e->message_id;

	if (id->len != PPX_MESSAGE_ID_LEN)
		return;
	for (size_t i = ack_lower(lr, id->data);
	     i < lr->n_acks &&
	     memcmp(lr->acks[i].id, id->data, PPX_MESSAGE_ID_LEN) == 0; i++) {
		const struct ackrec *a = &lr->acks[i];

		for (size_t k = 0; k < ent->n_parties; k++) {
			struct lr_party *p = &ent->parties[k];

			/* Ours acknowledges a received message only if it
			 * went to its sender (ids are unique per sender). */
			if (p->acked || (ent->dir == LR_DIR_OUT &&
					 (a->dir != LR_DIR_IN ||
					  strcmp(a->agency, p->partner) != 0)) ||
			    (ent->dir == LR_DIR_IN &&
			     (a->dir != LR_DIR_OUT ||
			      !ack_went_to(a, p->partner))))
				continue;
			p->acked = 1;
			p->ack_seq = a->seq;
			p->ack_ms = a->time_ms;
		}
	}
}

/* The parties of a message entry, with delivery and acknowledgement. */
static int parties(logread *lr, struct lr_entry *ent)
{
	const Ppx__V1__Body *b = ent->body;
	size_t n = ent->dir == LR_DIR_OUT ? b->n_recipients : 1;
	int rc;

	if (n == 0)
		return 0;
	if (!(ent->parties = calloc(n, sizeof(*ent->parties))))
		return ppx_error_set(PPX_ENOMEM, "out of memory");
	ent->n_parties = n;
	for (size_t i = 0; i < n; i++) {
		struct lr_party *p = &ent->parties[i];

		ppx_delivery_init(&p->delivery);
		if (ent->dir == LR_DIR_OUT) {
			p->partner = b->recipients[i];
		} else {
			/* Stored here: delivered to us. */
			p->partner = ent->e->peer_agency;
			p->delivery.state =
				PPX__V1__DELIVERY_STATE__DELIVERY_DELIVERED;
		}
	}
	if ((rc = apply_receipts(lr, ent)) != 0)
		return rc;
	apply_acks(lr, ent);
	return 0;
}

/* ---- summaries -------------------------------------------------------- */

struct tally {
	size_t n, queued, refused, considered, acked;
};

static void tally(const struct lr_entry *ent, const char *partner,
		  struct tally *t)
{
	memset(t, 0, sizeof(*t));
	for (size_t i = 0; i < ent->n_parties; i++) {
		const struct lr_party *p = &ent->parties[i];
		int state = p->delivery.state;

		if (partner && fnmatch(partner, p->partner, 0) != 0)
			continue;
		t->n++;
		if (state == PPX__V1__DELIVERY_STATE__DELIVERY_QUEUED)
			t->queued++;
		if (state == PPX__V1__DELIVERY_STATE__DELIVERY_REFUSED) {
			t->refused++;
			continue;	/* nothing for them to acknowledge */
		}
		t->considered++;
		t->acked += p->acked != 0;
	}
}

static int ack_state(const logread *lr, const struct lr_entry *ent,
		     const struct tally *t)
{
	if (!ent->body || t->considered == 0 ||
	    ent->body->payload_case == PPX__V1__BODY__PAYLOAD_ACKNOWLEDGEMENT)
		return LR_ACK_NONE;
	if (t->acked == t->considered)
		return LR_ACK_ACKNOWLEDGED;
	if (ent->body->ack_deadline_ms <= 0)
		return LR_ACK_NOT_REQUIRED;
	return lr->now_ms > ent->body->ack_deadline_ms ? LR_ACK_OVERDUE
						       : LR_ACK_PENDING;
}

static int delivery_state(const struct tally *t)
{
	if (t->n == 0)
		return 0;
	if (t->queued)
		return PPX__V1__DELIVERY_STATE__DELIVERY_QUEUED;
	if (t->refused)
		return PPX__V1__DELIVERY_STATE__DELIVERY_REFUSED;
	return PPX__V1__DELIVERY_STATE__DELIVERY_DELIVERED;
}

void lr_summarise(const logread *self, const struct lr_entry *ent,
		  const char *partner, int *state, int *ack)
{
	struct tally t;

	tally(ent, partner, &t);
	*state = delivery_state(&t);
	*ack = ack_state(self, ent, &t);
}

/* ---- entries ---------------------------------------------------------- */

int logread_entry(logread *self, struct lr_entry *out, uint64_t seq,
		  const uint8_t *data, size_t len)
{
	int rc;

	memset(out, 0, sizeof(*out));
	out->seq = seq;
	if (!(out->e = ppx__v1__log_entry__unpack(NULL, len, data)))
		return ppx_error_set(PPX_ECORRUPT, "entry %llu of log %s does "
				     "not decode: run ppx verify",
				     (unsigned long long)seq, self->dir);
	out->agency = self->agency;
	lr_hex_id(out->id, &out->e->message_id);
	out->dir = entry_dir(out->e->kind);
	if (is_message(out->e->kind))
		out->body = frame_body(out->e);
	if (out->body && (rc = parties(self, out)) != 0) {
		lr_entry_clear(out);
		return rc;
	}
	lr_summarise(self, out, NULL, &out->state, &out->ack);
	return 0;
}

int logread_get(logread *self, struct lr_entry *out, uint64_t seq)
{
	uint8_t *data = NULL;
	size_t len = 0;
	int rc = ppx_log_get_raw(self->log, seq, &data, &len);

	memset(out, 0, sizeof(*out));
	if (rc == 0)
		rc = logread_entry(self, out, seq, data, len);
	free(data);
	return rc;
}

void lr_entry_clear(struct lr_entry *ent)
{
	if (ent->body)
		ppx__v1__body__free_unpacked(ent->body, NULL);
	if (ent->e)
		ppx__v1__log_entry__free_unpacked(ent->e, NULL);
	free(ent->parties);
	memset(ent, 0, sizeof(*ent));
}

/* ---- filters ---------------------------------------------------------- */

/* The scheme of "scheme:value" if it is a known one, else NULL. */
static const char *subject_scheme(const char *s, size_t *len)
{
	const char *colon = strchr(s, ':');

	for (size_t i = 0; colon && i < N_SCHEMES; i++)
		if (strlen(schemes[i]) == (size_t)(colon - s) &&
		    strncasecmp(schemes[i], s, (size_t)(colon - s)) == 0) {
			*len = (size_t)(colon - s);
			return schemes[i];
		}
	return NULL;
}

int lr_subject_matches(const char *subject, const char *key)
{
	size_t slen = 0, klen = 0;
	const char *scheme = subject_scheme(subject, &slen);
	const char *kscheme = subject_scheme(key, &klen);

	if (!kscheme)
		return 0;
	if (scheme)
		return scheme == kscheme &&
		       strcmp(subject + slen + 1, key + klen + 1) == 0;
	return strcmp(subject, key + klen + 1) == 0;
}

static int subject_match(const char *subject, const Ppx__V1__LogEntry *e)
{
	for (size_t i = 0; i < e->n_subject_keys; i++)
		if (lr_subject_matches(subject, e->subject_keys[i]))
			return 1;
	return 0;
}

static int kind_match(const struct lr_filter *f, const struct lr_entry *ent)
{
	const Ppx__V1__Body *b = ent->body;

	for (size_t i = 0; i < f->n_kinds; i++) {
		const struct lr_kind *k = &f->kinds[i];

		if (k->what == LR_KIND_ENTRY && (int)ent->e->kind == k->value)
			return 1;
		if (k->what == LR_KIND_FAMILY && b &&
		    (int)b->payload_case == k->value)
			return 1;
		if (k->what == LR_KIND_NOTIFICATION && b &&
		    b->payload_case == PPX__V1__BODY__PAYLOAD_NOTIFICATION &&
		    (int)b->notification->kind == k->value)
			return 1;
	}
	return 0;
}

static int partner_match(const char *partner, const struct lr_entry *ent)
{
	if (ent->body && ent->dir == LR_DIR_OUT) {
		for (size_t i = 0; i < ent->body->n_recipients; i++)
			if (fnmatch(partner, ent->body->recipients[i], 0) == 0)
				return 1;
		return 0;
	}
	return ent->e->peer_agency[0] &&
	       fnmatch(partner, ent->e->peer_agency, 0) == 0;
}

/* --state and --ack, over the parties of --partner. */
static int state_match(const logread *lr, const struct lr_filter *f,
		       const struct lr_entry *ent)
{
	struct tally t;
	int ack;

	if (!ent->body)
		return 0;
	tally(ent, f->partner, &t);
	if (f->state == PPX__V1__DELIVERY_STATE__DELIVERY_QUEUED && !t.queued)
		return 0;
	if (f->state == PPX__V1__DELIVERY_STATE__DELIVERY_REFUSED && !t.refused)
		return 0;
	if (f->state == PPX__V1__DELIVERY_STATE__DELIVERY_DELIVERED &&
	    (t.n == 0 || t.queued || t.refused))
		return 0;
	ack = ack_state(lr, ent, &t);
	switch (f->ack) {
	case LR_ACKF_ACKNOWLEDGED:
		return ack == LR_ACK_ACKNOWLEDGED;
	case LR_ACKF_UNACKNOWLEDGED:
		return ack == LR_ACK_NOT_REQUIRED || ack == LR_ACK_PENDING ||
		       ack == LR_ACK_OVERDUE;
	case LR_ACKF_PENDING:
		return ack == LR_ACK_PENDING || ack == LR_ACK_OVERDUE;
	case LR_ACKF_OVERDUE:
		return ack == LR_ACK_OVERDUE;
	default:
		return 1;
	}
}

int lr_match(const logread *self, const struct lr_filter *f,
	     const struct lr_entry *ent)
{
	const Ppx__V1__LogEntry *e = ent->e;

	if (!f)
		return 1;
	if ((f->since_ms && e->time_ms < f->since_ms) ||
	    (f->until_ms && e->time_ms >= f->until_ms))
		return 0;
	if (f->direction && ent->dir != f->direction)
		return 0;
	if (f->subject && !subject_match(f->subject, e))
		return 0;
	if (f->n_kinds && !kind_match(f, ent))
		return 0;
	if (f->partner && !partner_match(f->partner, ent))
		return 0;
	if ((f->state || f->ack) && !state_match(self, f, ent))
		return 0;
	return 1;
}

/* ---- iteration -------------------------------------------------------- */

struct each {
	logread *lr;
	const struct lr_filter *f;
	lr_entry_fn fn;
	void *ctx;
};

static int each_visit(void *ctx, uint64_t seq, const uint8_t *data,
		      size_t len)
{
	struct each *x = ctx;
	struct lr_entry ent;
	int rc = logread_entry(x->lr, &ent, seq, data, len);

	if (rc == PPX_ECORRUPT) {
		fprintf(stderr, "ppx: %s\n", ppx_error_last());
		return 0;
	}
	if (rc != 0)
		return rc;
	if (lr_match(x->lr, x->f, &ent))
		rc = x->fn(x->ctx, &ent);
	lr_entry_clear(&ent);
	return rc;
}

/* The entries of f->subject in [from, to), through the subject index. */
static int each_subject(struct each *x, uint64_t from, uint64_t to)
{
	uint64_t *seqs = NULL;
	size_t n = 0;
	int rc = logread_by_subject(x->lr, x->f->subject, &seqs, &n);

	for (size_t i = 0; rc == 0 && i < n; i++) {
		uint8_t *data = NULL;
		size_t len = 0;

		if (seqs[i] < from || seqs[i] >= to)
			continue;
		rc = ppx_log_get_raw(x->lr->log, seqs[i], &data, &len);
		if (rc == 0)
			rc = each_visit(x, seqs[i], data, len);
		free(data);
	}
	free(seqs);
	return rc;
}

int logread_each(logread *self, const struct lr_filter *f, uint64_t from,
		 uint64_t to, lr_entry_fn fn, void *ctx)
{
	struct each x = {self, f, fn, ctx};

	if (f && f->subject)
		return each_subject(&x, from, to);
	return ppx_log_foreach(self->log, from, to, each_visit, &x);
}

int logread_poll(logread *self, const struct lr_filter *f, uint64_t *next,
		 lr_entry_fn fn, void *ctx)
{
	struct each x = {self, f, fn, ctx};
	int rc = 0;

	while (rc == 0) {
		uint8_t *data = NULL;
		size_t len = 0;

		rc = ppx_log_get_raw(self->log, *next, &data, &len);
		if (rc == PPX_ENOTFOUND) {
			ppx_error_clear();
			return 0;
		}
		if (rc == 0 && *next >= self->acks_to) {
			rc = ack_collect(self, data, len, 1);
			self->acks_to = *next + 1;
		}
		self->now_ms = now_ms();
		if (rc == 0)
			rc = each_visit(&x, *next, data, len);
		free(data);
		(*next)++;
	}
	return rc;
}

/* ---- indexes ---------------------------------------------------------- */

int logread_by_message(logread *self, const uint8_t *id, uint64_t **seqs,
		       size_t *n)
{
	return ppx_log_by_message(self->log, id, PPX_MESSAGE_ID_LEN, seqs, n,
				  LR_SEQS_MAX);
}

static int seq_cmp(const void *a, const void *b)
{
	const uint64_t *x = a, *y = b;

	return *x < *y ? -1 : *x > *y;
}

void lr_seqs_unique(uint64_t *v, size_t *n)
{
	size_t k = 0;

	if (*n < 2)
		return;
	qsort(v, *n, sizeof(*v), seq_cmp);
	for (size_t i = 1; i < *n; i++)
		if (v[i] != v[k])
			v[++k] = v[i];
	*n = k + 1;
}

int lr_seqs_has(const uint64_t *v, size_t n, uint64_t seq)
{
	return n && bsearch(&seq, v, n, sizeof(seq), seq_cmp) != NULL;
}

/* Append src[0..n) to *all (of *count), then free src. */
static int seqs_append(uint64_t **all, size_t *count, uint64_t *src, size_t n)
{
	uint64_t *g;

	if (n == 0) {
		free(src);
		return 0;
	}
	if (!(g = realloc(*all, (*count + n) * sizeof(*g)))) {
		free(src);
		return ppx_error_set(PPX_ENOMEM, "out of memory");
	}
	memcpy(g + *count, src, n * sizeof(*g));
	*all = g;
	*count += n;
	free(src);
	return 0;
}

int logread_by_subject(logread *self, const char *key, uint64_t **seqs,
		       size_t *n)
{
	size_t slen = 0;
	const char *scheme = subject_scheme(key, &slen);
	char buf[1024];
	int rc = 0;

	*seqs = NULL;
	*n = 0;
	for (size_t i = 0; rc == 0 && i < N_SCHEMES; i++) {
		uint64_t *one = NULL;
		size_t m = 0;

		if (scheme && scheme != schemes[i])
			continue;
		if ((size_t)snprintf(buf, sizeof(buf), "%s:%s", schemes[i],
				     scheme ? key + slen + 1 : key) >=
		    sizeof(buf))
			return ppx_error_set(PPX_EINVAL, "subject identifier "
					     "too long");
		rc = ppx_log_by_subject(self->log, buf, &one, &m, LR_SEQS_MAX);
		if (rc == PPX_EINVAL) {		/* longer than a key can be */
			ppx_error_clear();
			rc = 0;
		}
		if (rc == 0)
			rc = seqs_append(seqs, n, one, m);
	}
	if (rc == 0)
		lr_seqs_unique(*seqs, n);
	if (rc != 0) {
		free(*seqs);
		*seqs = NULL;
		*n = 0;
	}
	return rc;
}

/* ---- message ids ------------------------------------------------------ */

void lr_hex_id(char out[LR_ID_HEX], const ProtobufCBinaryData *id)
{
	out[0] = '\0';
	if (id->len == PPX_MESSAGE_ID_LEN)
		ppx_hex(out, id->data, id->len);
}

int lr_parse_id(uint8_t out[PPX_MESSAGE_ID_LEN], const char *hex)
{
	if (strlen(hex) != 2 * PPX_MESSAGE_ID_LEN)
		return ppx_error_set(PPX_EINVAL, "a message id is %d hex "
				     "digits, not \"%s\"",
				     2 * PPX_MESSAGE_ID_LEN, hex);
	for (size_t i = 0; i < PPX_MESSAGE_ID_LEN; i++) {
		int hi = ppx_hex_digit((unsigned char)hex[2 * i]);
		int lo = ppx_hex_digit((unsigned char)hex[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return ppx_error_set(PPX_EINVAL, "a message id is hex "
					     "digits only, not \"%s\"", hex);
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}
