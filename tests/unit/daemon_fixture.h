/*
 * daemon_fixture.h — a struct ppxd for unit tests of the daemon's
 * modules: built from a real configuration written to a temporary
 * directory, with the demo PKI's keys and certificates, the real policy
 * file format, a real LMDB log there, the writer, the budgets and the
 * outbox; only the transport is the in-memory one (transport_mem.h).
 * No ZeroMQ context, control socket, event stream, hooks or spool.
 */
#ifndef PPX_TEST_DAEMON_FIXTURE_H
#define PPX_TEST_DAEMON_FIXTURE_H

#include <stdint.h>

#include "../../daemon/state.h"
#include "ppx/envelope.h"

struct daemon_fixture {
	struct ppxd d;
	char *dir;	/* the temporary directory: config, policy, log */
};

/*
 * The daemon of demo agency `agency`, its partners the other demo
 * agencies (in the order police.gwent, probation.gwent, prison.cardiff);
 * `delivery` is added to the [delivery] section (NULL: nothing).  Fails
 * the test if anything cannot be built.
 */
struct daemon_fixture *daemon_fixture_new(const char *agency,
					  const char *delivery);
void daemon_fixture_free(struct daemon_fixture **self);

/* The link of `agency` in the fixture's transport. */
size_t daemon_fixture_link(struct daemon_fixture *f, const char *agency);

/* The number of entries of `kind` in the log (from `peer`, NULL: any). */
size_t daemon_fixture_count(struct daemon_fixture *f, int kind,
			    const char *peer);

/* A message the fixture's agency sent: its id, the hash of the body it
 * signed, and its position in the log. */
struct fixture_sent {
	uint8_t id[PPX_MESSAGE_ID_LEN];
	uint8_t hash[PPX_HASH_LEN];
	uint64_t seq;
};

/* The most items daemon_fixture_receipt() puts in one receipt. */
#define FIXTURE_MAX_ITEMS 16

/* A message to `to` submitted as control.c does: a SENT entry and its
 * outbox key in one commit. */
struct fixture_sent daemon_fixture_submit(struct daemon_fixture *f,
					  const char *to);

/* One iteration of the loop as far as the outbox and the restore
 * notices go (ppxd.c). */
void daemon_fixture_iterate(struct daemon_fixture *f);

/* The partner on `link` takes the next frame sent to it: the message
 * `s`.  Fails the test if there is none or it is another. */
void daemon_fixture_assert_next_sent(struct daemon_fixture *f, size_t link,
				     const struct fixture_sent *s);

/* `partner`'s receipt for the `n` messages, signed with its demo key:
 * STORED at log_seq `base` on, or REFUSED for `reason` if it is not
 * REJECT_NONE.  The caller frees it. */
uint8_t *daemon_fixture_receipt(size_t *len, struct daemon_fixture *f,
				const char *partner,
				const struct fixture_sent *s, size_t n,
				int reason, uint64_t base);

/* That receipt pushed onto `partner`'s link, as if it had sent it. */
void daemon_fixture_push_receipt(struct daemon_fixture *f,
				 const char *partner,
				 const struct fixture_sent *s, size_t n,
				 int reason, uint64_t base);

/* `msg` packed and sealed for `purpose` with `who`'s demo key.  The
 * caller frees it. */
uint8_t *daemon_fixture_seal(size_t *len, const char *who, int purpose,
			     const ProtobufCMessage *msg);

/* A Frame{checkpoint} of `agency`'s log of `size` entries at `ms`, its
 * root bytes all `fill`, signed by it. */
Ppx__V1__Frame *daemon_fixture_checkpoint(const char *agency, uint64_t size,
					  uint8_t fill, int64_t ms);

/* `agency`'s restore notice of its log restored to `size` entries (root
 * 0x11...), copied at `copied_ms` (its checkpoint's time) and restored
 * at `restored_ms`, the notice signed by `signed_by`.  The caller frees
 * it. */
uint8_t *daemon_fixture_notice(size_t *len, const char *agency,
			       const char *signed_by, uint64_t size,
			       int64_t copied_ms, int64_t restored_ms);

#endif
