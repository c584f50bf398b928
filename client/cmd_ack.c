/*
 * cmd_ack.c — `ppx ack ID [--note TEXT]`: a named person takes on a
 * message.
 *
 * Delivery is not acknowledgement (DOMAIN.md): the partner's daemon
 * already holds our signed receipt; this says that a person here has read
 * the message and taken it on.  The message is looked up in our log
 * (read-only): the acknowledgement goes back to the agency that sent it,
 * about the same subject, with Body.replies_to naming it.  The daemon
 * records who acknowledges from the caller's Unix identity and signs it
 * like any message (compose.c builds it, cmd_send.c submits it).
 */
#include "client.h"
#include "compose.h"

int cmd_ack(int argc, char **argv)
{
	struct send_common o;
	struct compose *c = NULL;
	int rc = compose_ack(&c, &o, argc, argv);

	rc = rc == 0 ? send_composed(&o, c)
	     : rc == 1 ? PPX_EXIT_OK : ppx_exit_code(rc);
	compose_free(&c);
	return rc;
}
