/*
 * restore_int.h — what restore.c (our own restore, at start) and
 * restore_partner.c (telling partners, taking theirs) share.
 */
#ifndef PPXD_RESTORE_INT_H
#define PPXD_RESTORE_INT_H

#include <stddef.h>
#include <stdint.h>

#include "ppx/envelope.h"
#include "ppx/pki.h"

#define RESTORE_PEERS_MAX 256	/* partners whose notices are judged */

/* Judging one partner's notices. */
struct restore_peer {
	char agency[PPX_NAME_MAX];
	uint8_t sha[PPX_HASH_LEN];	/* the last bytes judged */
	int judged;
	int64_t judged_ms;
	int64_t last_ms;		/* restored_ms of the last taken */
	int64_t taken_ms;		/* when we took it (its entry's time) */
	int64_t deferred_said_ms;	/* a deferral last said */
	uint8_t *pending;		/* a notice to judge after the commit */
	size_t pending_len;
};

struct restore {
	struct ppxd *d;
	uint8_t *frame;			/* our newest ENTRY_RESTORED's data */
	size_t frame_len;
	struct restore_peer peers[RESTORE_PEERS_MAX];
	size_t n_peers;
};

/* A notice being judged and taken. */
struct notice {
	Ppx__V1__Frame *frame;
	Ppx__V1__RestoreNotice *notice;
	Ppx__V1__Checkpoint *cp;
	uint8_t (*ids)[PPX_MESSAGE_ID_LEN];	/* queued again */
	uint64_t *seqs;				/* their SENT entries */
	size_t n_ids, cap;
	uint64_t walked;			/* entries walked back */
};

/* restored_ms of the last notice taken from `agency` (its mark), and in
 * *taken_ms the time of its ENTRY_PARTNER_RESTORED; 0 and 0: none. */
int64_t restore_partner_last(struct ppxd *d, const char *agency,
			     int64_t *taken_ms);

/* The mark "partner-restored/" || agency moved to entry `seq` of this
 * iteration's batch, valued restored_ms. */
int restore_partner_mark(struct ppxd *d, const char *agency, uint64_t seq,
			 int64_t restored_ms);

#endif
