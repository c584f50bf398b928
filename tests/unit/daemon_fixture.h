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

#include "../../daemon/state.h"

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

#endif
