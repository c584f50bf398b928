/*
 * inject_restore.c — forged restore notices (docs/PROTOCOL.md 14.2), for
 * tests/integration/backup_restore.sh.
 *
 * A partner judges a Frame{restore} as hostile input.  These modes send,
 * over WHO's authenticated link, the notices an honest daemon never would:
 *
 *   restore-signed-as AGENCY2     a notice of WHO's log (its checkpoint
 *                                 signed by WHO) whose envelope AGENCY2's
 *                                 key signed
 *   restore-checkpoint-of AGENCY2 a notice of WHO, signed by WHO, whose
 *                                 checkpoint is AGENCY2's, signed by it
 *   restore-old-signed-as AGENCY2 as restore-signed-as, but restored at
 *                                 1970-01-01T00:00:01Z: older than any
 *                                 notice taken (restore_hostile.sh)
 *   restore-at SIZE               a notice of WHO, signed by WHO, of its
 *                                 log restored to SIZE entries: genuine
 *                                 to the receiver, unless it holds a
 *                                 checkpoint of that size (a fork) or is
 *                                 alarmed about WHO (restore_hostile.sh)
 *
 * Each checkpoint claims a log of one entry (of SIZE for restore-at; root
 * 0x11...), restored a second after its copy, now (but for
 * restore-old-signed-as).  A notice is never answered: inject waits
 * out --timeout-ms and exits 1; the test judges the receiver's log.
 *
 * The core (inject.c) asks restore_mode() whether a mode is one of these
 * and build_restore() for its frame.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ppx/envelope.h"
#include "ppx/error.h"
#include "ppx.pb-c.h"
#include "../unit/support.h"
#include "inject.h"

int restore_mode(const char *mode)
{
	return strcmp(mode, "restore-signed-as") == 0 ||
	       strcmp(mode, "restore-checkpoint-of") == 0 ||
	       strcmp(mode, "restore-old-signed-as") == 0 ||
	       strcmp(mode, "restore-at") == 0;
}

/* Now, by the wall clock, as a daemon dates a restore (inject_now_ms()
 * is monotonic: it times answers). */
static int64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Pack `msg` and seal it for `purpose` with the signer of `who`. */
static int seal(uint8_t **out, size_t *len, const char *who, int purpose,
		const ProtobufCMessage *msg)
{
	ppx_signer *signer = signer_at(who);
	size_t n = protobuf_c_message_get_packed_size(msg);
	uint8_t *body = malloc(n ? n : 1);
	int rc;

	if (!body) {
		ppx_signer_free(signer);
		return ppx_error_set(PPX_ENOMEM, "out of memory");
	}
	protobuf_c_message_pack(msg, body);
	rc = ppx_frame_seal(out, len, signer, purpose, body, n);
	free(body);
	ppx_signer_free(signer);
	return rc;
}

/* A Frame{checkpoint} of `agency`'s log of `size` entries, signed by
 * it. */
static int checkpoint_of(Ppx__V1__Frame **out, const char *agency,
			 uint64_t size)
{
	Ppx__V1__Checkpoint cp = PPX__V1__CHECKPOINT__INIT;
	uint8_t root[PPX_HASH_LEN], *buf = NULL;
	size_t len = 0;
	int rc;

	memset(root, 0x11, sizeof(root));
	cp.agency = (char *)agency;
	cp.tree_size = size;
	cp.root_hash.data = root;
	cp.root_hash.len = sizeof(root);
	cp.time_ms = wall_ms();
	rc = seal(&buf, &len, agency, PPX__V1__SIGNED_PURPOSE__SIGNED_CHECKPOINT,
		  &cp.base);
	if (rc == 0)
		rc = ppx_frame_decode(out, buf, len);
	free(buf);
	return rc;
}

int build_restore(struct frames *fs, const struct opts *o)
{
	Ppx__V1__RestoreNotice n = PPX__V1__RESTORE_NOTICE__INIT;
	int old = strcmp(o->mode, "restore-old-signed-as") == 0;
	int signed_as = old || strcmp(o->mode, "restore-signed-as") == 0;
	int at = strcmp(o->mode, "restore-at") == 0;
	const char *of = signed_as || at ? o->agency : o->arg;
	Ppx__V1__Frame *cp = NULL;
	uint8_t *buf = NULL;
	size_t len = 0;
	long size = 1;
	int rc;

	if (at && inject_parse_long(o->arg, 0, 0x7fffffffL, &size) != 0)
		inject_usage(EXIT_USAGE);
	rc = checkpoint_of(&cp, of, (uint64_t)size);
	if (rc == 0) {
		n.agency = (char *)o->agency;
		n.checkpoint = cp->checkpoint;
		n.restored_ms = old ? 1000 : wall_ms();
		n.copied_ms = n.restored_ms - 1000;
		n.reason = "forged";
		rc = seal(&buf, &len, signed_as ? o->arg : o->as,
			  PPX__V1__SIGNED_PURPOSE__SIGNED_RESTORE, &n.base);
	}
	if (rc == 0)
		rc = inject_frames_add(fs, buf, len);
	else
		free(buf);
	if (cp)
		ppx__v1__frame__free_unpacked(cp, NULL);
	return rc;
}
