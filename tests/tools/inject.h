/*
 * inject.h — what the files of tests/tools/inject share, and nothing else.
 *
 * inject.c holds the core: options, frames, sealing, the link to the
 * daemon, the answers and the verdict.  Its hostile modes live in files of
 * their own, one per concern: inject_text.c (body-json, hostile text),
 * inject_ids.c (hostile message ids), inject_person.c (personal
 * signatures) and inject_budget.c (budgets: junk, latency, version
 * layouts).  They see the options and the frames through
 * the types below, and reach the core through the inject_ helpers, so that
 * a mode builds its frames and, if it must, runs its own link without a
 * second copy of the plumbing.  This header is private to the tool.
 */
#ifndef PPX_TESTS_INJECT_H
#define PPX_TESTS_INJECT_H

#include <stddef.h>
#include <stdint.h>

#include "ppx/envelope.h"
#include "ppx/pki.h"
#include "ppx.pb-c.h"

#define EXIT_ANSWERS 1
#define EXIT_USAGE 2
#define EXIT_SETUP 3
#define FLOOD_MAX 200000
#define CONNS_MAX 1000	/* junk --conns */
#define PATH_CAP 4096

struct opts {
	const char *endpoint, *as, *to, *pki, *mode, *arg, *kind;
	const char *person;	/* person modes: REL of the person key */
	const char *frame_to;	/* person modes: write the frame there */
	const char *patch[8];	/* body-json: MARK=HEX */
	size_t n_patch;
	const char *receipts_to;	/* a directory, or NULL */
	long timeout_ms;
	long conns;		/* junk: connections */
	long hold_ms;		/* junk: wait after connecting, then send */
	int watch;		/* junk: a monitor per connection */
	int expect_no_connect;
	char agency[PPX_NAME_MAX];	/* last component of --as */
};

/* One frame to send, and what came back for it. */
struct frame {
	uint8_t *data;
	size_t len;
	uint8_t hash[PPX_HASH_LEN];	/* what a receipt item names */
	int answered;
	uint8_t receipt[PPX_HASH_LEN];	/* hash of the answer's frame */
};

struct frames {
	struct frame *f;
	size_t n, n_answered, cap;
	size_t first_open;	/* no frame before it is unanswered */
	int repeats;		/* mode repeat: report answers repeated */
};

/* What the link's monitor reported. */
struct link_state {
	int handshakes;		/* succeeded */
	int refused;		/* failed: authentication or protocol */
	unsigned last_failure;	/* the event's value (ZAP status code) */
};

/* The core (inject.c), for the modes. */
_Noreturn void inject_usage(int status);
int inject_parse_long(const char *s, long min, long max, long *out);
int inject_kind_by_name(const char *name);
int inject_frames_add(struct frames *fs, uint8_t *data, size_t len);
int inject_set_int(void *sock, int opt, int value);
int inject_load_keys(const struct opts *o, uint8_t secret[32],
		     uint8_t public_key[32], uint8_t server[32]);
int inject_link_open(void *ctx, const struct opts *o, void **sock,
		     void **mon);
int inject_send_frames(void *sock, const struct frames *fs, size_t from,
		       size_t to);
int inject_collect(void *sock, void *mon, const ppx_trust *trust,
		   const struct opts *o, struct frames *fs,
		   struct link_state *st, size_t want, long deadline);
long inject_match_item(struct frames *fs, const Ppx__V1__ReceiptItem *it);
const char *inject_reason_name(int reason);
long inject_now_ms(void);

/* body-json: hostile text (inject_text.c). */
int build_body_json(struct frames *fs, const struct opts *o);
void save_receipt(const struct opts *o, const uint8_t *data, size_t len);

/* The modes of hostile ids (inject_ids.c). */
int ident_mode(const char *mode);
int ident_takes_arg(const char *mode);
int build_ident(struct frames *fs, const struct opts *o);

/* Personal signatures (inject_person.c). */
int person_mode(const char *mode);
int build_person(struct frames *fs, const struct opts *o);

/* Forged restore notices (inject_restore.c). */
int restore_mode(const char *mode);
int build_restore(struct frames *fs, const struct opts *o);

/* Batch signatures, honest and forged (inject_batch.c). */
int batch_mode(const char *mode);
int build_batch(struct frames *fs, const struct opts *o);

/* Budget modes (inject_budget.c). */
int build_version_layout(struct frames *fs, const struct opts *o);
int build_junk(struct frames *fs, const struct opts *o);
int run_junk(const struct opts *o, const ppx_trust *trust,
	     struct frames *fs);
int run_latency(const struct opts *o, const ppx_trust *trust,
		struct frames *fs);

#endif
