/*
 * witness_int.h — what witness.c (the witness side, state, status) and
 * witness_log.c (the log side: requests and their replies) share.
 */
#ifndef PPXD_WITNESS_INT_H
#define PPXD_WITNESS_INT_H

#include <stdint.h>

#include "ppx/envelope.h"
#include "ppx/pki.h"
#include "witness.h"

#define WITNESS_PROVE_MAX 8	/* sizes a witness may ask proofs from */
#define WITNESS_SEEN_MAX 8	/* checkpoints of a log to prove: one per
				 * reporter (gossip, the log's receipts) */
#define WITNESS_GOSSIP_MAX 16	/* third-party checkpoints per request */
#define WITNESS_ALARM_KEYS 16	/* (held, presented) pairs alarmed */
#define WITNESS_REQUEST_MAX (64 * 1024)	/* bytes of a request taken */

/* Mark sets (ppx_log_mark_put) that find the latest entries again. */
#define MARK_HELD "witness-held/"	/* our ENTRY_WITNESSED, COSIGNED */
#define MARK_COSIGNED "witness-cosigned/"	/* our ENTRY_COSIGNED */
#define MARK_ALARM "witness-alarm/"	/* our ENTRY_WITNESS_ALARM */

/* A checkpoint of a partner's log, as held or seen. */
struct wcheck {
	uint8_t *env;		/* the packed signed Envelope; NULL: none */
	size_t env_len;
	uint64_t size;
	uint8_t root[PPX_HASH_LEN];
	int64_t ms;		/* when we took it */
	char reported_by[PPX_NAME_MAX];	/* seen: whose gossip showed it */
	int asked;		/* seen: its size was in a PROOF_NEEDED we
				 * answered: kept until the log proves it */
};

/* Witnessing with one partner (one link), both ways. */
struct wpeer {
	char agency[PPX_NAME_MAX];

	/* We witness its log. */
	struct wcheck held;		/* the newest we cosigned */
	uint64_t held_mark;		/* its entry's seq (0 with no mark) */
	struct wcheck seen[WITNESS_SEEN_MAX];	/* to prove, one per reporter */
	size_t n_seen;
	int alarm;
	char alarm_detail[256];
	int64_t alarm_ms;
	uint64_t alarm_mark;
	uint8_t alarm_keys[WITNESS_ALARM_KEYS][PPX_HASH_LEN];
	size_t n_alarm_keys;

	/* It witnesses ours. */
	uint64_t cosigned_size;		/* 0: never */
	int64_t cosigned_ms;
	uint64_t cosigned_mark;
	uint64_t cosigned_growth;	/* our growth() at the request it
					 * last answered for good */
	uint64_t req_growth;		/* our growth() at the request in
					 * flight */
	uint64_t prove_from[WITNESS_PROVE_MAX];
	size_t n_prove_from;
	uint8_t *req;			/* the request in flight (Frame) */
	size_t req_len;
	uint64_t req_size;
	uint8_t req_root[PPX_HASH_LEN];
	int64_t sent_ms;		/* 0: not sent in this session */
	int retry_now;			/* answered PROOF_NEEDED: send again */
	int retried;			/* the request in flight is that */
	int up;				/* its link is up */
	int64_t restored_ms;		/* its last RestoreNotice taken */
	uint64_t restored_size;
};

struct witness {
	struct wpeer *p;
	size_t n;
	uint64_t appended;		/* witnessing entries we logged */
	Ppx__V1__WitnessStatus *st;
	Ppx__V1__WitnessStatus **stp;
};

/* The partner named `agency`, or NULL. */
struct wpeer *witness_peer(struct witness *w, const char *agency);

/* Our log's size less our own witnessing entries since start: what a
 * partner is asked to cosign again only when it grew. */
uint64_t witness_growth(struct ppxd *d);

/* Move the mark of set `prefix` || agency from *mark to `seq`. */
int witness_mark(struct ppxd *d, const char *prefix, const char *agency,
		 uint64_t *mark, uint64_t seq);

/* Append a witnessing entry to this iteration's batch. */
int witness_append(struct ppxd *d, int kind, const char *agency,
		   const uint8_t *data, size_t len, const char *detail,
		   uint64_t *seq);

/* Pack a WitnessRecord of the two frames into *out (caller frees). */
int witness_record(uint8_t **out, size_t *len, const uint8_t *req,
		   size_t req_len, const uint8_t *reply, size_t reply_len);

/* Rebuild a partner's "it cosigned ours" from its last ENTRY_COSIGNED. */
void witness_log_restore(struct ppxd *d, struct wpeer *p);

/* witness_log.c: the log side of witness_link_frame / witness_pump. */
int witness_log_reply(struct ppxd *d, struct wpeer *p,
		      const uint8_t *data, size_t len);
long witness_log_pump(struct ppxd *d, struct wpeer *p, size_t link,
		      int64_t now);

#endif
