/*
 * inject_ids.c — the modes of hostile ids (issue 10: squatting, reuse).
 *
 * A message is (sender agency, message id): ids are unique per sender
 * only.  These modes try the receiver's hold on that, for
 * tests/integration/hostile_ids.sh.  reuse-id sends another body under an
 * id already STORED (it must be refused REJECT_ID_REUSED) and then the
 * first frame's bytes again (they must get their original receipt).
 * squat ID sends a message under an id another agency used, which the
 * receiver must keep apart from that agency's message.  update-of ID sends
 * an action update naming message ID, which must not bind to minutes the
 * sender did not send.  Each mode seals real bodies signed by WHO, so that
 * what answers is the receiver's id checks, not its signature checks.
 *
 * The core (inject.c) asks ident_mode() whether a mode is one of these,
 * ident_takes_arg() whether it needs an argument, and build_ident() for
 * its frames.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ppx/envelope.h"
#include "ppx/error.h"
#include "ppx/pki.h"
#include "ppx.pb-c.h"
#include "../unit/support.h"
#include "inject.h"

/* A 16-byte message id from its 32 hex digits. */
static int ident_id(uint8_t id[PPX_MESSAGE_ID_LEN], const char *hex)
{
	unsigned v;

	if (strlen(hex) != 2 * PPX_MESSAGE_ID_LEN)
		return ppx_error_set(PPX_EINVAL, "%s: a message id is 32 hex "
				     "digits", hex);
	for (size_t i = 0; i < PPX_MESSAGE_ID_LEN; i++) {
		if (!strchr("0123456789abcdefABCDEF", hex[2 * i]) ||
		    !strchr("0123456789abcdefABCDEF", hex[2 * i + 1]) ||
		    sscanf(hex + 2 * i, "%2x", &v) != 1)
			return ppx_error_set(PPX_EINVAL, "%s is not hex", hex);
		id[i] = (uint8_t)v;
	}
	return 0;
}

/* Seal b, signed by WHO, and add the frame. */
static int ident_add(struct frames *fs, const struct opts *o,
		     Ppx__V1__Body *b)
{
	ppx_signer *signer = signer_at(o->as);
	uint8_t *buf = NULL;
	size_t len = 0;
	int rc = ppx_body_seal(&buf, &len, signer, b);

	ppx_signer_free(signer);
	return rc ? rc : inject_frames_add(fs, buf, len);
}

/* reuse-id: a message; another body under its id; its bytes again. */
static int ident_reuse(struct frames *fs, const struct opts *o)
{
	Ppx__V1__Body *b = body_new(o->agency, o->to);
	char *details = b->notification->details;
	uint8_t *copy = NULL;
	int rc;

	if (o->kind)
		b->notification->kind = inject_kind_by_name(o->kind);
	rc = ident_add(fs, o, b);
	b->notification->details = "Another body under the same id.";
	if (rc == 0)
		rc = ident_add(fs, o, b);
	b->notification->details = details;
	if (rc == 0 && !(copy = malloc(fs->f[0].len)))
		rc = ppx_error_set(PPX_ENOMEM, "out of memory");
	if (rc == 0) {
		memcpy(copy, fs->f[0].data, fs->f[0].len);
		rc = inject_frames_add(fs, copy, fs->f[0].len);
	}
	fs->repeats = 1;
	body_free(b);
	return rc;
}

/* squat ID: a message (of --kind, default ARREST) under id ID. */
static int ident_squat(struct frames *fs, const struct opts *o)
{
	Ppx__V1__Body *b = body_new(o->agency, o->to);
	char *details = b->notification->details;
	int rc = ident_id(b->message_id.data, o->arg);

	if (o->kind)
		b->notification->kind = inject_kind_by_name(o->kind);
	b->notification->details = "Junk under a squatted message id.";
	if (rc == 0)
		rc = ident_add(fs, o, b);
	b->notification->details = details;
	body_free(b);
	return rc;
}

/* update-of ID: an update of action A1 answering message ID as minutes
 * (the notification's place in the oneof is given back before freeing). */
static int ident_update_of(struct frames *fs, const struct opts *o)
{
	Ppx__V1__Body *b = body_new(o->agency, o->to);
	Ppx__V1__Notification *n = b->notification;
	Ppx__V1__ActionUpdate u = PPX__V1__ACTION_UPDATE__INIT;
	uint8_t id[PPX_MESSAGE_ID_LEN];
	int rc = ident_id(id, o->arg);

	u.action_id = "A1";
	u.status = PPX__V1__ACTION_STATUS__ACTION_IN_PROGRESS;
	u.updated_by = b->sender_person;
	b->replies_to.data = id;
	b->replies_to.len = sizeof(id);
	b->payload_case = PPX__V1__BODY__PAYLOAD_ACTION_UPDATE;
	b->action_update = &u;
	if (rc == 0)
		rc = ident_add(fs, o, b);
	b->replies_to.data = NULL;
	b->replies_to.len = 0;
	b->payload_case = PPX__V1__BODY__PAYLOAD_NOTIFICATION;
	b->notification = n;
	body_free(b);
	return rc;
}

int ident_mode(const char *mode)
{
	return strcmp(mode, "reuse-id") == 0 || ident_takes_arg(mode);
}

int ident_takes_arg(const char *mode)
{
	return strcmp(mode, "squat") == 0 || strcmp(mode, "update-of") == 0;
}

int build_ident(struct frames *fs, const struct opts *o)
{
	if (strcmp(o->mode, "reuse-id") == 0)
		return ident_reuse(fs, o);
	if (strcmp(o->mode, "squat") == 0)
		return ident_squat(fs, o);
	return ident_update_of(fs, o);
}
