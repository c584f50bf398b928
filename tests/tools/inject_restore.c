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
 *
 * Each checkpoint claims a log of one entry (root 0x11...), restored a
 * second after its copy, now.  A notice is never answered: inject waits
 * out --timeout-ms and exits 1; the test judges the receiver's log.
 *
 * The core (inject.c) asks restore_mode() whether a mode is one of these
 * and build_restore() for its frame.
 */
#include <stdlib.h>
#include <string.h>

#include "ppx/envelope.h"
#include "ppx/error.h"
#include "ppx.pb-c.h"
#include "../unit/support.h"
#include "inject.h"

int restore_mode(const char *mode)
{
	return strcmp(mode, "restore-signed-as") == 0 ||
	       strcmp(mode, "restore-checkpoint-of") == 0;
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

/* A Frame{checkpoint} of `agency`'s log of one entry, signed by it. */
static int checkpoint_of(Ppx__V1__Frame **out, const char *agency)
{
	Ppx__V1__Checkpoint cp = PPX__V1__CHECKPOINT__INIT;
	uint8_t root[PPX_HASH_LEN], *buf = NULL;
	size_t len = 0;
	int rc;

	memset(root, 0x11, sizeof(root));
	cp.agency = (char *)agency;
	cp.tree_size = 1;
	cp.root_hash.data = root;
	cp.root_hash.len = sizeof(root);
	cp.time_ms = inject_now_ms();
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
	int signed_as = strcmp(o->mode, "restore-signed-as") == 0;
	Ppx__V1__Frame *cp = NULL;
	uint8_t *buf = NULL;
	size_t len = 0;
	int rc = checkpoint_of(&cp, signed_as ? o->agency : o->arg);

	if (rc == 0) {
		n.agency = (char *)o->agency;
		n.checkpoint = cp->checkpoint;
		n.restored_ms = inject_now_ms();
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
