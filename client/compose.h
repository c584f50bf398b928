/*
 * compose.h — building message bodies from command-line flags: `ppx send
 * notification|minutes|disclosure|record`, `ppx ack` and `ppx action`.
 *
 * A composed body is checked with the same domain rules the daemon applies
 * (ppx_domain_check) before it is submitted, so that a person hears at once
 * which field is wrong; the daemon checks it again, with the log.
 */
#ifndef PPX_COMPOSE_H
#define PPX_COMPOSE_H

#include <stdint.h>

#include "ppx.pb-c.h"

/* What every composing command takes besides the message's own flags. */
struct send_common {
	const char *config;	/* --config, else $PPX_CONFIG, else default */
	int wait;		/* --wait: until every receipt is logged */
	long timeout_s;		/* --timeout, for --wait */
	int print;		/* --print: show the body as JSON, send nothing */
	const char *sign;	/* --sign: the person key (file or pkcs11:) */
	const char *sign_cert;	/* --sign-cert: its certificate */
};

struct compose;

/*
 * Parse the flags of `ppx send FAMILY ...` (argv[0] is the family) and
 * build the body.  0; 1 after printing help (or the kinds); or after
 * printing the problem PPX_EINVAL (flags, configuration, a reference to
 * no message) or PPX_ENOMEM.  compose_ack and compose_action likewise.
 */
int compose_send(struct compose **out, struct send_common *common, int argc,
		 char **argv);

/* `ppx ack ID [--note TEXT]`: an acknowledgement of a received message,
 * to the agency that sent it. */
int compose_ack(struct compose **out, struct send_common *common, int argc,
		char **argv);

/* `ppx action ID --action-id A --status S [--outcome TEXT]`: progress on
 * an action of the minutes ID, to the agency that sent them. */
int compose_action(struct compose **out, struct send_common *common,
		   int argc, char **argv);

/* The composed body (valid until compose_free). */
const Ppx__V1__Body *compose_body(const struct compose *c);

void compose_free(struct compose **c);

/* Check the composed body against the domain rules; a refusal is
 * printed naming the field and its flag.  0, or PPX_EBODY. */
int compose_check(const struct compose *c);

/* Print the composed body as JSON (--print).  0, or PPX_EBODY after
 * saying why it cannot. */
int compose_print(const struct compose *c);

/*
 * In cmd_send.c, which owns submitting: check the composed body
 * (compose_check), then print it (--print) or submit it with send_body().
 * The exit status (cmd_send.c is a command's).
 */
int send_composed(const struct send_common *o, const struct compose *c);

/* Submit one body to the daemon and print "message-id log-seq
 * partner=state..."; with o->wait, wait for every receipt.  The exit
 * status. */
int send_body(const struct send_common *o, const Ppx__V1__Body *b);

/* The agency of the configuration the compose read (for the rules). */
const char *compose_agency(const struct compose *c);

#endif
