/*
 * cmd_action.c — `ppx action ID --action-id A --status S [--outcome
 * TEXT]`: progress on an action of MAPPA minutes.
 *
 * ID names the minutes (as ppx send or ppx log printed their message id);
 * the action must be one of theirs.  The update goes back to the agency
 * that sent the minutes (to their recipients, if we sent them), signed
 * and logged like any message, with Body.replies_to naming the minutes;
 * "completed" needs an outcome (001:L463).  compose.c builds it and
 * cmd_send.c submits it.
 */
#include "client.h"
#include "compose.h"

int cmd_action(int argc, char **argv)
{
	struct send_common o;
	struct compose *c = NULL;
	int rc = compose_action(&c, &o, argc, argv);

	rc = rc == 0 ? send_composed(&o, c)
	     : rc == 1 ? PPX_EXIT_OK : ppx_exit_code(rc);
	compose_free(&c);
	return rc;
}
